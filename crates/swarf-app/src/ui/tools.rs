//! The job's tools and the tool library.

use egui::Ui;
use swarf_core::job::Job;
use swarf_core::tool::Tool;

use super::{ERR, Edit, WARN, count, number, um};
use crate::Session;

pub(crate) fn tools_ui(ui: &mut Ui, session: &mut Session, job: &mut Job, edit: &mut Edit) {
    for (i, t) in job.tools.iter().enumerate() {
        if ui
            .selectable_label(
                session.selected_tool == i,
                format!("T{} {} (Ø {} mm)", t.number, t.name, t.diameter_mm),
            )
            .clicked()
        {
            session.selected_tool = i;
        }
    }
    let mut add = None;
    let mut save_to_library = None;
    ui.horizontal(|ui| {
        ui.menu_button("+ From library", |ui| {
            for t in &session.library.tools {
                if ui
                    .button(format!("{} (Ø {} mm)", t.name, t.diameter_mm))
                    .clicked()
                {
                    add = Some(t.clone());
                    ui.close();
                }
            }
        });
        let s = session.selected_tool;
        if let Some(t) = job.tools.get(s) {
            let users: Vec<&str> = job
                .operations
                .iter()
                .filter(|o| o.tool == t.number)
                .map(|o| o.name.as_str())
                .collect();
            let remove = ui
                .add_enabled(users.is_empty(), egui::Button::new("Remove tool"))
                .on_disabled_hover_text(format!("used by {}", users.join(", ")));
            if remove.clicked() {
                job.tools.remove(s);
                edit.flag(true);
            } else if ui.button("Save to library").clicked() {
                save_to_library = Some(t.clone());
            }
        }
    });
    if let Some(mut t) = add {
        // The lowest number not taken (there are fewer tools than numbers).
        t.number = (1..=u32::MAX)
            .find(|n| !job.tools.iter().any(|x| x.number == *n))
            .unwrap_or(1);
        job.tools.push(t);
        session.selected_tool = job.tools.len() - 1;
        edit.flag(true);
    }
    if let Some(t) = save_to_library {
        session.library.tools.retain(|x| x.name != t.name);
        session.library.tools.push(t);
        save_library(session);
    }
    if let Some(t) = job.tools.get_mut(session.selected_tool) {
        ui.separator();
        let before = t.clone();
        let mut candidate = t.clone();
        tool_editor_ui(ui, &mut candidate, edit);
        match candidate.validate() {
            Ok(()) => *t = candidate,
            Err(e) => {
                *t = before;
                ui.colored_label(ERR, e.to_string());
            }
        }
    }
    egui::CollapsingHeader::new("Tool library").show(ui, |ui| {
        let mut remove = None;
        for (i, t) in session.library.tools.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui
                    .small_button("×")
                    .on_hover_text("remove from the library")
                    .clicked()
                {
                    remove = Some(i);
                }
                ui.label(t.describe());
            });
        }
        if let Some(i) = remove {
            session.library.tools.remove(i);
            save_library(session);
        }
        if ui.button("Reset to the presets").clicked() {
            session.library = swarf_core::tool::ToolLibrary::presets();
            save_library(session);
        }
        if session.store.dir().is_none() {
            ui.colored_label(
                WARN,
                "no state folder: library changes last until Swarf closes",
            );
        }
    });
}

fn save_library(session: &mut Session) {
    if let Err(e) = session.store.save_tools(&session.library) {
        session.error = Some(e);
    }
}

/// The fields of one tool, with units.
fn tool_editor_ui(ui: &mut Ui, t: &mut Tool, edit: &mut Edit) {
    ui.horizontal(|ui| {
        let l = ui.label("Name:");
        edit.resp(&ui.text_edit_singleline(&mut t.name).labelled_by(l.id));
    });
    let r = count(ui, "Number:", &mut t.number, 1..=999);
    edit.resp(&r);
    let rs = [
        um(ui, "Diameter:", &mut t.diameter_mm, 5.0..=25_000.0),
        number(
            ui,
            "Flute length:",
            &mut t.flute_length_mm,
            1.0,
            0.01..=100.0,
            "mm",
        ),
        number(
            ui,
            "Stick-out:",
            &mut t.stickout_mm,
            1.0,
            0.01..=200.0,
            "mm",
        ),
        number(
            ui,
            "Edge radius:",
            &mut t.cutting_edge_radius_um,
            1.0,
            0.0..=50.0,
            "µm",
        ),
        number(
            ui,
            "Spindle:",
            &mut t.feeds.rpm,
            1.0,
            100.0..=200_000.0,
            "rpm",
        ),
        number(
            ui,
            "Max spindle:",
            &mut t.max_rpm,
            1.0,
            100.0..=200_000.0,
            "rpm",
        ),
        um(
            ui,
            "Chip load:",
            &mut t.feeds.feed_per_tooth_mm,
            0.01..=500.0,
        ),
        number(
            ui,
            "Plunge feed:",
            &mut t.feeds.plunge_mm_per_min,
            1.0,
            0.1..=10_000.0,
            "mm/min",
        ),
        number(
            ui,
            "Ramp feed:",
            &mut t.feeds.ramp_mm_per_min,
            1.0,
            0.1..=10_000.0,
            "mm/min",
        ),
        // Stay-down links through cleared material (adaptive).
        number(
            ui,
            "Link feed:",
            &mut t.feeds.link_feed_factor,
            1.0,
            1.0..=10.0,
            "× feed",
        ),
    ];
    for r in &rs {
        edit.resp(r);
    }
    let r = count(ui, "Flutes:", &mut t.flutes, 1..=8);
    edit.resp(&r);
    ui.label(format!("cutting feed {:.1} mm/min", t.feed_mm_per_min()));
}
