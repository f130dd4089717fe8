//! The panels, one file each, as free `*_ui` functions that take what they show and edit.
//! Each frame the side panel edits a copy of the job; a changed copy goes to
//! [`crate::Session::set_job_coalescing`] as one undo step (typing into one field or dragging
//! one value is one step).

pub(crate) mod export;
pub(crate) mod machine;
pub(crate) mod menu;
mod operations;
mod params;
mod part;
pub(crate) mod status;
mod tools;

use std::ops::RangeInclusive;

use egui::{DragValue, Response, Ui};
use swarf_core::ops::pocket::Pattern;

use crate::SwarfApp;

pub(crate) const WARN: egui::Color32 = egui::Color32::from_rgb(240, 170, 60);
pub(crate) const ERR: egui::Color32 = egui::Color32::from_rgb(255, 120, 100);

/// What the widgets of one frame did to the job copy.
#[derive(Default)]
pub(crate) struct Edit {
    changed: bool,
    /// The field being typed into or dragged: its changes coalesce into one undo step.
    key: Option<u64>,
    /// The typing or dragging began with this change: a new step even in the same field.
    starts_run: bool,
}

impl Edit {
    pub(crate) fn resp(&mut self, r: &Response) {
        if r.changed() {
            self.changed = true;
            self.key = (r.dragged() || r.has_focus()).then(|| r.id.value());
            self.starts_run = r.drag_started() || r.gained_focus();
        }
    }
    /// A change by a control that is one step each time (a checkbox, a choice, a button).
    pub(crate) fn flag(&mut self, changed: bool) {
        if changed {
            self.changed = true;
            self.key = None;
            self.starts_run = false;
        }
    }
}

/// A labelled number with its unit; the value is stored as `scale` × what is shown.
pub(crate) fn number(
    ui: &mut Ui,
    label: &str,
    value: &mut f64,
    scale: f64,
    range: RangeInclusive<f64>,
    unit: &str,
) -> Response {
    let inner = ui.horizontal(|ui| {
        let l = ui.label(label);
        let mut shown = *value / scale;
        let before = shown;
        let speed = ((range.end() - range.start()) / 1000.0).clamp(0.01, 10.0);
        // Typed text means what it says (`0.15 mm` in a µm field is 150 µm); what cannot be
        // read, and values out of range, are refused with a message, never clamped.
        let refused = std::cell::RefCell::new(None::<String>);
        let r = ui
            .add(
                DragValue::new(&mut shown)
                    .speed(speed)
                    .suffix(format!(" {unit}"))
                    .custom_parser(|text| match crate::typed::parse_value(text, unit) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            *refused.borrow_mut() = Some(e);
                            None
                        }
                    }),
            )
            .labelled_by(l.id);
        let mut refused = refused.into_inner();
        if r.changed() && shown != before {
            match crate::typed::check_range(shown, &range, unit) {
                Ok(()) => *value = shown * scale,
                Err(e) => refused = Some(e),
            }
        }
        (r, refused)
    });
    let (r, refused) = inner.inner;
    let key = r.id.with("refused");
    if let Some(e) = refused {
        ui.data_mut(|d| d.insert_temp(key, e));
    } else if r.changed() {
        ui.data_mut(|d| d.remove::<String>(key));
    }
    if let Some(e) = ui.data(|d| d.get_temp::<String>(key)) {
        ui.colored_label(ERR, e);
    }
    r
}

/// A labelled whole number.
pub(crate) fn count(
    ui: &mut Ui,
    label: &str,
    value: &mut u32,
    range: RangeInclusive<u32>,
) -> Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(DragValue::new(value).range(range).speed(0.05))
            .labelled_by(l.id)
    })
    .inner
}

/// A length in µm (stored in mm).
pub(crate) fn um(
    ui: &mut Ui,
    label: &str,
    mm: &mut f64,
    range_um: RangeInclusive<f64>,
) -> Response {
    number(ui, label, mm, 1e-3, range_um, "µm")
}

/// A choice among `options`; true when it changed.
pub(crate) fn choice<T: PartialEq + Copy>(
    ui: &mut Ui,
    label: &str,
    value: &mut T,
    options: &[(T, &str)],
) -> bool {
    let before = *value;
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let current = options
            .iter()
            .find(|(v, _)| *v == *value)
            .map_or("?", |(_, n)| *n);
        egui::ComboBox::from_id_salt(label)
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (v, name) in options {
                    ui.selectable_value(value, *v, *name);
                }
            })
            .response
            .labelled_by(l.id);
    });
    *value != before
}

pub(crate) fn pattern_choice(ui: &mut Ui, pattern: &mut Pattern) -> bool {
    choice(
        ui,
        "Pattern:",
        pattern,
        &[
            (Pattern::Offset, "offset rings"),
            (Pattern::Zigzag, "zigzag"),
        ],
    )
}

pub(crate) fn minutes(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The side panel: part, operations, tools, export, messages.
pub(crate) fn side_panel_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let mut job = app.job.clone();
    let mut edit = Edit::default();
    egui::CollapsingHeader::new("Part")
        .default_open(true)
        .show(ui, |ui| {
            part::part_ui(ui, &app.session, &mut job, &mut edit);
        });
    egui::CollapsingHeader::new("Operations")
        .default_open(true)
        .show(ui, |ui| {
            operations::operations_ui(ui, &mut app.session, &mut job, &mut edit);
        });
    egui::CollapsingHeader::new("Tools")
        .default_open(false)
        .show(ui, |ui| {
            tools::tools_ui(ui, &mut app.session, &mut job, &mut edit);
        });
    egui::CollapsingHeader::new("Export")
        .default_open(true)
        .show(ui, |ui| {
            export::export_ui(ui, &mut app.session, &mut job, &mut edit);
        });
    if edit.changed {
        if edit.starts_run {
            app.session.seal_history();
        }
        app.session.set_job_coalescing(job, edit.key);
    }
    if !app.messages.is_empty() {
        ui.separator();
        ui.strong("Messages");
        for m in &app.messages {
            ui.label(m);
        }
    }
}
