//! The panels around the 3D view: menu bar, recovery offer, part, operations and their
//! parameters, tools and the tool library, export with its summary, status bar.
//!
//! Every panel edits a copy of the job; when a widget changed it, the copy replaces the job
//! through [`SwarfApp::set_job`] (one undo step per edit: a drag or typing into one field is
//! one step) and the job regenerates in the background.

use std::ops::RangeInclusive;

use egui::{DragValue, Response, Ui};
use swarf_core::import::Units;
use swarf_core::job::{Job, Model, Target};
use swarf_core::ops::OpSpec;
use swarf_core::ops::adaptive::AdaptiveParams;
use swarf_core::ops::contour::{ContourParams, Side};
use swarf_core::ops::pocket::{Pattern, PocketParams};
use swarf_core::ops::zlevel::ZLevelParams;
use swarf_core::ops::{Direction, EntryKind, Stepover};
use swarf_core::post::Dialect;
use swarf_core::tool::Tool;

use crate::{DialogPick, SwarfApp, common_params, new_operation};

const WARN: egui::Color32 = egui::Color32::from_rgb(240, 170, 60);
const ERR: egui::Color32 = egui::Color32::from_rgb(255, 120, 100);

/// What the widgets of one frame did to the job copy.
#[derive(Default)]
struct Edit {
    changed: bool,
    /// The change continues the last one (same field, still dragged or typed into).
    continuing: bool,
    id: Option<egui::Id>,
}

impl Edit {
    fn resp(&mut self, r: &Response, last: Option<egui::Id>) {
        if r.changed() {
            self.changed = true;
            self.id = Some(r.id);
            self.continuing = last == Some(r.id)
                && !r.drag_started()
                && !r.gained_focus()
                && (r.dragged() || r.has_focus());
        }
    }
    fn flag(&mut self, changed: bool) {
        if changed {
            self.changed = true;
            self.continuing = false;
            self.id = None;
        }
    }
}

/// A labelled number with its unit; the value is stored as `scale` × what is shown.
fn number(
    ui: &mut Ui,
    label: &str,
    value: &mut f64,
    scale: f64,
    range: RangeInclusive<f64>,
    unit: &str,
) -> Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let mut shown = *value / scale;
        let speed = ((range.end() - range.start()) / 1000.0).clamp(0.01, 10.0);
        let r = ui
            .add(
                DragValue::new(&mut shown)
                    .range(range)
                    .speed(speed)
                    .suffix(format!(" {unit}")),
            )
            .labelled_by(l.id);
        if r.changed() {
            *value = shown * scale;
        }
        r
    })
    .inner
}

/// A labelled whole number.
fn count(ui: &mut Ui, label: &str, value: &mut u32, range: RangeInclusive<u32>) -> Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(DragValue::new(value).range(range).speed(0.05))
            .labelled_by(l.id)
    })
    .inner
}

/// A length in µm (stored in mm).
fn um(ui: &mut Ui, label: &str, mm: &mut f64, range_um: RangeInclusive<f64>) -> Response {
    number(ui, label, mm, 1e-3, range_um, "µm")
}

/// A choice among `options`; true when it changed.
fn choice<T: PartialEq + Copy>(
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

fn pattern_choice(ui: &mut Ui, pattern: &mut Pattern) -> bool {
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

fn minutes(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

impl SwarfApp {
    pub(crate) fn menu_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            if ui
                .button("Open…")
                .on_hover_text("DXF drawing or Swarf project (Ctrl+O)")
                .clicked()
            {
                self.ask_file(false, DialogPick::Open);
            }
            let mut open = None;
            ui.menu_button("Recent", |ui| {
                if self.recent.is_empty() {
                    ui.label("no recent files");
                }
                for p in &self.recent {
                    if ui.button(p.display().to_string()).clicked() {
                        open = Some(p.clone());
                        ui.close();
                    }
                }
            });
            if let Some(p) = open {
                self.open(&p);
            }
            if ui.button("Save project").on_hover_text("Ctrl+S").clicked() {
                self.save();
            }
            if ui
                .button("Save project as…")
                .on_hover_text("Ctrl+Shift+S")
                .clicked()
            {
                self.ask_file(true, DialogPick::SaveProject);
            }
            if ui
                .button("Export G-code…")
                .on_hover_text("Ctrl+E")
                .clicked()
            {
                self.ask_file(true, DialogPick::Export);
            }
            ui.separator();
            if ui
                .add_enabled(self.can_undo(), egui::Button::new("Undo"))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(self.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Y")
                .clicked()
            {
                self.redo();
            }
            ui.separator();
            let name = self
                .project_path
                .as_ref()
                .map_or("unsaved project".into(), |p| p.display().to_string());
            ui.label(format!("{name}{}", if self.dirty { " •" } else { "" }));
        });
    }

    /// The export check's findings, with the choice to write the program anyway.
    pub(crate) fn refused_export_window(&mut self, ui: &mut Ui) {
        let Some(r) = &self.export_refused else {
            return;
        };
        let mut choice = None;
        egui::Window::new("Export check")
            .collapsible(false)
            .resizable(true)
            .show(ui.ctx(), |ui| {
                ui.colored_label(
                    ERR,
                    format!(
                        "The program for {} has {} problem(s); it was not written.",
                        r.path.display(),
                        r.report.problems.len()
                    ),
                );
                egui::ScrollArea::vertical()
                    .max_height(240.0)
                    .show(ui, |ui| {
                        egui::Grid::new("export_problems")
                            .num_columns(3)
                            .striped(true)
                            .show(ui, |ui| {
                                ui.strong("operation");
                                ui.strong("G-code line");
                                ui.strong("problem");
                                ui.end_row();
                                for p in r.report.problems.iter().take(200) {
                                    ui.label(&p.op);
                                    ui.label(p.line.to_string());
                                    ui.label(match p.issue {
                                        swarf_core::verify::ExportIssue::Gouge { depth_mm } => {
                                            format!(
                                                "cuts {:.1} µm into the part",
                                                depth_mm * 1000.0
                                            )
                                        }
                                        swarf_core::verify::ExportIssue::RapidThroughStock => {
                                            "rapid move through stock".into()
                                        }
                                    });
                                    ui.end_row();
                                }
                            });
                    });
                ui.horizontal(|ui| {
                    if ui.button("Export anyway").clicked() {
                        choice = Some(true);
                    }
                    if ui.button("Cancel").clicked() {
                        choice = Some(false);
                    }
                });
            });
        match choice {
            Some(true) => {
                if let Err(e) = self.export_anyway() {
                    self.error = Some(e);
                }
            }
            Some(false) => self.export_refused = None,
            None => {}
        }
    }

    pub(crate) fn recovery_bar(&mut self, ui: &mut Ui) {
        let Some(r) = &self.recovery else { return };
        let when = r
            .saved
            .and_then(|t| t.elapsed().ok())
            .map_or(String::new(), |d| {
                format!(" ({} min ago)", d.as_secs() / 60)
            });
        let of = r
            .project
            .as_ref()
            .map_or("an unsaved project".into(), |p| p.display().to_string());
        ui.horizontal(|ui| {
            ui.colored_label(WARN, format!("Swarf found unsaved work of {of}{when}."));
            if ui.button("Recover").clicked() {
                self.recover();
            }
            if ui.button("Discard").clicked() {
                self.discard_recovery();
            }
        });
    }

    pub(crate) fn side_panel(&mut self, ui: &mut Ui) {
        let mut job = self.job.clone();
        let mut edit = Edit::default();
        egui::CollapsingHeader::new("Part")
            .default_open(true)
            .show(ui, |ui| self.part_section(ui, &mut job, &mut edit));
        egui::CollapsingHeader::new("Operations")
            .default_open(true)
            .show(ui, |ui| self.operations_section(ui, &mut job, &mut edit));
        egui::CollapsingHeader::new("Tools")
            .default_open(false)
            .show(ui, |ui| self.tools_section(ui, &mut job, &mut edit));
        egui::CollapsingHeader::new("Export")
            .default_open(true)
            .show(ui, |ui| self.export_section(ui, &mut job, &mut edit));
        if edit.changed {
            self.set_job(job, edit.continuing);
        }
        if edit.changed {
            self.last_edit = edit.id;
        }
        if !self.messages.is_empty() {
            ui.separator();
            ui.strong("Messages");
            for m in &self.messages {
                ui.label(m);
            }
        }
    }

    fn part_section(&mut self, ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
        ui.label(&self.part_name);
        let units_opts: Vec<(Option<Units>, &str)> = std::iter::once((None, "as the file says"))
            .chain(
                [
                    Units::Mm,
                    Units::Um,
                    Units::Inch,
                    Units::Cm,
                    Units::M,
                    Units::Ft,
                ]
                .map(|u| (Some(u), u.name())),
            )
            .collect();
        let d = match &self.model {
            None => return,
            Some(Model::Mesh(m)) => {
                let (lo, hi) = m.mesh.bounds().unwrap_or_default();
                ui.label(format!(
                    "mesh {:.3} × {:.3} × {:.3} mm, {} triangles; unit {}",
                    hi[0] - lo[0],
                    hi[1] - lo[1],
                    hi[2] - lo[2],
                    m.report.triangles,
                    m.units.name()
                ));
                let mut units = job.part.units;
                if choice(ui, "Units:", &mut units, &units_opts) {
                    job.part.units = units;
                    edit.flag(true);
                }
                self.import_warning_list(ui);
                return;
            }
            Some(Model::Drawing(d)) => d,
        };
        ui.label(format!(
            "{:.3} × {:.3} mm, {} regions, {} open chains; unit {} ({})",
            d.bbox.max.x - d.bbox.min.x,
            d.bbox.max.y - d.bbox.min.y,
            d.regions.len(),
            d.open_chains.len(),
            d.units.name(),
            d.units_source
        ));
        let mut units = job.part.units;
        if choice(ui, "Units:", &mut units, &units_opts) {
            job.part.units = units;
            edit.flag(true);
        }
        if d.layers.len() > 1 {
            ui.label("Layers:");
            let mut on: Vec<bool> = d
                .layers
                .iter()
                .map(|l| job.part.layers.as_ref().is_none_or(|s| s.contains(&l.name)))
                .collect();
            let mut toggled = false;
            for (l, on) in d.layers.iter().zip(&mut on) {
                toggled |= ui
                    .checkbox(on, format!("{} ({} entities)", l.name, l.entities))
                    .changed();
            }
            if toggled {
                job.part.layers = if on.iter().all(|&b| b) {
                    None
                } else {
                    Some(
                        d.layers
                            .iter()
                            .zip(&on)
                            .filter(|(_, o)| **o)
                            .map(|(l, _)| l.name.clone())
                            .collect(),
                    )
                };
                edit.flag(true);
            }
        }
        self.import_warning_list(ui);
    }

    fn import_warning_list(&self, ui: &mut Ui) {
        for w in &self.import_warnings {
            // The importer words its advice for the CLI; here the choice is above.
            let w = w
                .replace("(use --units to change)", "(change it with Units above)")
                .replace("use --units", "set Units above to")
                .replace("--units ", "Units ");
            ui.colored_label(WARN, format!("import: {w}"));
        }
    }

    fn operations_section(&mut self, ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
        let n = job.operations.len();
        for (i, op) in job.operations.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                edit.flag(
                    ui.checkbox(&mut op.enabled, "on")
                        .on_hover_text("include this operation in the program")
                        .changed(),
                );
                let kind = op.spec.name();
                if ui
                    .selectable_label(
                        self.selected == i,
                        format!("{} ({kind}, T{})", op.name, op.tool),
                    )
                    .clicked()
                {
                    self.selected = i;
                }
            });
        }
        ui.horizontal(|ui| {
            let tool = job
                .tools
                .get(self.selected_tool)
                .or(job.tools.first())
                .map_or(1, |t| t.number);
            let kinds: &[(&str, &str, &str)] =
                if self.model.as_ref().is_some_and(|m| m.mesh().is_some()) {
                    &[
                        ("+ Z-level rough", "zlevel-rough", "rough"),
                        ("+ Z-level finish", "zlevel-contour", "finish"),
                    ]
                } else {
                    &[
                        ("+ Pocket", "pocket", "pocket"),
                        ("+ Adaptive", "adaptive", "adaptive"),
                        ("+ Contour", "contour", "contour"),
                    ]
                };
            for &(label, kind, name) in kinds {
                if ui.button(label).clicked() {
                    let name = format!("{name} {}", n + 1);
                    job.operations
                        .push(new_operation(kind, name, tool, self.mesh_depth()));
                    self.selected = n;
                    edit.flag(true);
                }
            }
            let s = self.selected;
            if ui.add_enabled(s < n, egui::Button::new("Remove")).clicked() {
                job.operations.remove(s);
                edit.flag(true);
            }
            if ui
                .add_enabled(s > 0 && s < n, egui::Button::new("Up"))
                .on_hover_text("move up")
                .clicked()
            {
                job.operations.swap(s, s - 1);
                self.selected = s - 1;
                edit.flag(true);
            }
            if ui
                .add_enabled(s + 1 < n, egui::Button::new("Down"))
                .on_hover_text("move down")
                .clicked()
            {
                job.operations.swap(s, s + 1);
                self.selected = s + 1;
                edit.flag(true);
            }
        });
        ui.separator();
        self.op_panel(ui, job, edit);
    }

    /// Parameters of the selected operation.
    fn op_panel(&mut self, ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
        let last = self.last_edit;
        let tools: Vec<(u32, String)> = job
            .tools
            .iter()
            .map(|t| (t.number, format!("T{} {}", t.number, t.name)))
            .collect();
        let diameter = |n: u32| {
            job.tools
                .iter()
                .find(|t| t.number == n)
                .map(|t| t.diameter_mm)
        };
        // Rest machining: after one of the earlier clearing operations (its tool's diameter).
        let mut rest_opts: Vec<(Option<f64>, String)> =
            vec![(None, "nothing: whole pocket".into())];
        for o in job.operations.iter().take(self.selected) {
            if matches!(o.spec, OpSpec::Pocket(_) | OpSpec::Adaptive(_))
                && let Some(d) = diameter(o.tool)
                && !rest_opts.iter().any(|(v, _)| *v == Some(d))
            {
                rest_opts.push((Some(d), format!("{} (Ø {d} mm)", o.name)));
            }
        }
        let Some(op) = job.operations.get_mut(self.selected) else {
            ui.label("no operation: add one above");
            return;
        };
        let tool_d = job
            .tools
            .iter()
            .find(|t| t.number == op.tool)
            .map_or(0.0, |t| t.diameter_mm);
        ui.horizontal(|ui| {
            let l = ui.label("Name:");
            edit.resp(
                &ui.text_edit_singleline(&mut op.name).labelled_by(l.id),
                last,
            );
        });
        let opts: Vec<(u32, &str)> = tools.iter().map(|(n, s)| (*n, s.as_str())).collect();
        edit.flag(choice(ui, "Tool:", &mut op.tool, &opts));
        if !op.spec.needs_mesh() {
            edit.flag(choice(
                ui,
                "Target:",
                &mut op.target,
                &[
                    (Target::Regions, "regions (with islands)"),
                    (Target::Holes, "holes of the part"),
                    (Target::Outlines, "outlines of the part"),
                    (Target::Loops, "every closed loop"),
                ],
            ));
        }
        // The step-over in % of the diameter, with the distance it makes (for adaptive
        // clearing the optimal load, the radial width its engagement limit allows).
        let (mut stepover, _) = common_params(op, |s, h| (*s, h.final_depth_mm));
        let mut pct = stepover.mm(tool_d) / tool_d.max(1e-9) * 100.0;
        let label = if matches!(op.spec, OpSpec::Adaptive(_)) {
            "Optimal load:"
        } else {
            "Step-over:"
        };
        let r = number(ui, label, &mut pct, 1.0, 1.0..=100.0, "% of Ø");
        ui.label(format!("   = {:.1} µm", pct / 100.0 * tool_d * 1000.0));
        if r.changed() {
            stepover = Stepover::Fraction(pct / 100.0);
            common_params(op, |s, _| *s = stepover);
        }
        edit.resp(&r, last);
        let mut h = common_params(op, |_, h| *h);
        let rs = [
            um(ui, "Final depth:", &mut h.final_depth_mm, 1.0..=50_000.0),
            um(ui, "Start depth:", &mut h.start_depth_mm, 0.0..=50_000.0),
            number(ui, "Safe height:", &mut h.safe_mm, 1.0, 0.01..=100.0, "mm"),
            number(
                ui,
                "Clearance:",
                &mut h.clearance_mm,
                1.0,
                0.01..=500.0,
                "mm",
            ),
        ];
        for r in &rs {
            edit.resp(r, last);
        }
        if rs.iter().any(Response::changed) {
            common_params(op, |_, hh| *hh = h);
        }
        match &mut op.spec {
            OpSpec::Pocket(p) => {
                rest_after(ui, &mut p.rest_from_diameter_mm, rest_opts, tool_d, edit);
                self.pocket_params(ui, p, edit);
            }
            OpSpec::Contour(c) => self.contour_params(ui, c, edit),
            OpSpec::Adaptive(a) => {
                rest_after(ui, &mut a.rest_from_diameter_mm, rest_opts, tool_d, edit);
                self.adaptive_params(ui, a, edit);
            }
            OpSpec::ZLevelRough(z) => self.zlevel_params(ui, z, true, edit),
            OpSpec::ZLevelContour(z) => self.zlevel_params(ui, z, false, edit),
        }
        if let Some(e) = &self.error
            && e.contains(&format!("'{}'", op.name))
        {
            ui.colored_label(ERR, e);
        }
    }

    fn stepdown(&self, ui: &mut Ui, s: &mut Option<f64>, edit: &mut Edit) {
        let mut levels = s.is_some();
        ui.horizontal(|ui| {
            edit.flag(ui.checkbox(&mut levels, "in levels").changed());
            if levels {
                let mut v = s.unwrap_or(0.05);
                let r = um(ui, "step-down:", &mut v, 1.0..=10_000.0);
                edit.resp(&r, self.last_edit);
                *s = Some(v);
            } else {
                *s = None;
            }
        });
    }

    /// Step-down and the allowances every operation kind has (the floor one where it exists).
    fn depth_rows(
        &self,
        ui: &mut Ui,
        stepdown: &mut Option<f64>,
        wall: &mut f64,
        floor: Option<&mut f64>,
        edit: &mut Edit,
    ) {
        self.stepdown(ui, stepdown, edit);
        edit.resp(
            &um(ui, "Wall allowance:", wall, 0.0..=1000.0),
            self.last_edit,
        );
        if let Some(f) = floor {
            edit.resp(&um(ui, "Floor allowance:", f, 0.0..=1000.0), self.last_edit);
        }
    }

    fn direction_and_entry(
        &self,
        ui: &mut Ui,
        dir: &mut Direction,
        entry: &mut swarf_core::ops::Entry,
        edit: &mut Edit,
    ) {
        edit.flag(choice(
            ui,
            "Direction:",
            dir,
            &[
                (Direction::Climb, "climb"),
                (Direction::Conventional, "conventional"),
            ],
        ));
        edit.flag(choice(
            ui,
            "Entry:",
            &mut entry.kind,
            &[
                (EntryKind::Helix, "helix (ramp where no room)"),
                (EntryKind::Ramp, "ramp"),
                (EntryKind::Plunge, "plunge (pre-drilled only)"),
            ],
        ));
        if entry.kind != EntryKind::Plunge {
            let r = number(
                ui,
                "Ramp angle:",
                &mut entry.ramp_angle_deg,
                1.0,
                0.1..=30.0,
                "°",
            );
            edit.resp(&r, self.last_edit);
        }
        if entry.kind == EntryKind::Helix {
            let mut pct = entry.helix_diameter_frac * 100.0;
            let r = number(ui, "Helix Ø:", &mut pct, 1.0, 10.0..=500.0, "% of tool Ø");
            if r.changed() {
                entry.helix_diameter_frac = pct / 100.0;
            }
            edit.resp(&r, self.last_edit);
        }
    }

    fn pocket_params(&self, ui: &mut Ui, p: &mut PocketParams, edit: &mut Edit) {
        let last = self.last_edit;
        self.depth_rows(
            ui,
            &mut p.cut.stepdown_mm,
            &mut p.cut.allowance_radial_mm,
            Some(&mut p.cut.allowance_axial_mm),
            edit,
        );
        edit.flag(pattern_choice(ui, &mut p.pattern));
        if p.pattern == Pattern::Zigzag {
            edit.resp(
                &number(
                    ui,
                    "Zigzag angle:",
                    &mut p.zigzag_angle_deg,
                    1.0,
                    -180.0..=180.0,
                    "°",
                ),
                last,
            );
        }
        self.direction_and_entry(ui, &mut p.cut.direction, &mut p.cut.entry, edit);
    }

    fn adaptive_params(&self, ui: &mut Ui, a: &mut AdaptiveParams, edit: &mut Edit) {
        let last = self.last_edit;
        let mut deg = a.engagement_deg();
        let r = number(ui, "Max engagement:", &mut deg, 1.0, 5.0..=180.0, "°");
        if r.changed() {
            a.max_engagement_deg = deg;
            a.optimal_load = None;
        }
        edit.resp(&r, last);
        self.depth_rows(
            ui,
            &mut a.cut.stepdown_mm,
            &mut a.cut.allowance_radial_mm,
            Some(&mut a.cut.allowance_axial_mm),
            edit,
        );
        self.direction_and_entry(ui, &mut a.cut.direction, &mut a.cut.entry, edit);
    }

    fn zlevel_params(&self, ui: &mut Ui, z: &mut ZLevelParams, rough: bool, edit: &mut Edit) {
        let last = self.last_edit;
        self.depth_rows(
            ui,
            &mut z.cut.stepdown_mm,
            &mut z.cut.allowance_radial_mm,
            Some(&mut z.cut.allowance_axial_mm),
            edit,
        );
        if rough {
            let mut adaptive = z.max_engagement_deg.is_some();
            ui.horizontal(|ui| {
                edit.flag(
                    ui.checkbox(&mut adaptive, "adaptive layers")
                        .on_hover_text("clear each layer holding the radial engagement")
                        .changed(),
                );
                if adaptive {
                    let mut deg = z.max_engagement_deg.unwrap_or(60.0);
                    edit.resp(
                        &number(ui, "max engagement:", &mut deg, 1.0, 5.0..=180.0, "°"),
                        last,
                    );
                    z.max_engagement_deg = Some(deg);
                } else {
                    z.max_engagement_deg = None;
                }
            });
            if !adaptive {
                edit.flag(pattern_choice(ui, &mut z.pattern));
            }
            let mut own = z.stock_margin_mm.is_some();
            ui.horizontal(|ui| {
                edit.flag(
                    ui.checkbox(&mut own, "stock margin")
                        .on_hover_text("stock beyond the part's box; default the tool diameter")
                        .changed(),
                );
                if own {
                    let mut m = z.stock_margin_mm.unwrap_or(0.2);
                    edit.resp(&number(ui, "margin:", &mut m, 1.0, 0.0..=50.0, "mm"), last);
                    z.stock_margin_mm = Some(m);
                } else {
                    z.stock_margin_mm = None;
                }
            });
        }
        self.direction_and_entry(ui, &mut z.cut.direction, &mut z.cut.entry, edit);
    }

    fn contour_params(&self, ui: &mut Ui, c: &mut ContourParams, edit: &mut Edit) {
        let last = self.last_edit;
        edit.flag(choice(
            ui,
            "Side:",
            &mut c.side,
            &[
                (Side::Outside, "outside"),
                (Side::Inside, "inside"),
                (Side::On, "on the line"),
            ],
        ));
        edit.flag(
            ui.checkbox(&mut c.open_chains, "also cut open chains")
                .changed(),
        );
        self.depth_rows(
            ui,
            &mut c.cut.stepdown_mm,
            &mut c.cut.allowance_radial_mm,
            Some(&mut c.cut.allowance_axial_mm),
            edit,
        );
        let r = count(ui, "Roughing passes:", &mut c.roughing_passes, 1..=50);
        edit.resp(&r, last);
        edit.flag(ui.checkbox(&mut c.spring_pass, "spring pass").changed());
        edit.resp(
            &um(ui, "Lead arc radius:", &mut c.lead_radius_mm, 0.0..=5000.0),
            last,
        );
        let r = count(ui, "Tabs:", &mut c.tabs, 0..=32);
        edit.resp(&r, last);
        if c.tabs > 0 {
            edit.resp(
                &um(ui, "Tab width:", &mut c.tab_width_mm, 10.0..=10_000.0),
                last,
            );
            edit.resp(
                &um(ui, "Tab height:", &mut c.tab_height_mm, 1.0..=10_000.0),
                last,
            );
        }
        self.direction_and_entry(ui, &mut c.cut.direction, &mut c.cut.entry, edit);
    }

    fn tools_section(&mut self, ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
        let last = self.last_edit;
        for (i, t) in job.tools.iter().enumerate() {
            if ui
                .selectable_label(
                    self.selected_tool == i,
                    format!("T{} {} (Ø {} mm)", t.number, t.name, t.diameter_mm),
                )
                .clicked()
            {
                self.selected_tool = i;
            }
        }
        let mut add = None;
        let mut save_to_library = None;
        ui.horizontal(|ui| {
            ui.menu_button("+ From library", |ui| {
                for t in &self.library.tools {
                    if ui
                        .button(format!("{} (Ø {} mm)", t.name, t.diameter_mm))
                        .clicked()
                    {
                        add = Some(t.clone());
                        ui.close();
                    }
                }
            });
            let s = self.selected_tool;
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
            self.selected_tool = job.tools.len() - 1;
            edit.flag(true);
        }
        if let Some(t) = save_to_library {
            self.library.tools.retain(|x| x.name != t.name);
            self.library.tools.push(t);
            self.save_library();
        }
        if let Some(t) = job.tools.get_mut(self.selected_tool) {
            ui.separator();
            let before = t.clone();
            let mut candidate = t.clone();
            tool_editor(ui, &mut candidate, edit, last);
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
            for (i, t) in self.library.tools.iter().enumerate() {
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
                self.library.tools.remove(i);
                self.save_library();
            }
            if ui.button("Reset to the presets").clicked() {
                self.library = swarf_core::tool::ToolLibrary::presets();
                self.save_library();
            }
            if self.store.dir().is_none() {
                ui.colored_label(
                    WARN,
                    "no state folder: library changes last until Swarf closes",
                );
            }
        });
    }

    fn save_library(&mut self) {
        if let Err(e) = self.store.save_tools(&self.library) {
            self.error = Some(e);
        }
    }

    fn export_section(&mut self, ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
        edit.flag(choice(
            ui,
            "Dialect:",
            &mut job.post.dialect,
            &[
                (Dialect::Grbl, "GRBL"),
                (Dialect::LinuxCnc, "LinuxCNC"),
                (Dialect::Fanuc, "Fanuc-style"),
            ],
        ));
        let r = count(ui, "Decimals:", &mut job.post.decimals, 3..=6);
        edit.resp(&r, self.last_edit);
        if let (Some(out), Some(st)) = (
            self.output.as_ref().filter(|_| self.up_to_date()),
            self.summary,
        ) {
            let p = &out.program;
            egui::Grid::new("summary").num_columns(2).show(ui, |ui| {
                let mut row = |k: &str, v: String| {
                    ui.label(k);
                    ui.label(v);
                    ui.end_row();
                };
                row("moves", st.moves.to_string());
                row(
                    "arcs",
                    format!(
                        "{} ({} as G2/G3, {} as lines)",
                        st.arcs, p.arcs_written, p.arcs_as_lines
                    ),
                );
                row("feed length", format!("{:.3} mm", st.feed_length_mm));
                row("rapid length", format!("{:.3} mm", st.rapid_length_mm));
                row("estimated time", minutes(st.estimated_seconds));
                row(
                    "bounds X",
                    format!("{:.4} … {:.4} mm", st.bounds_min.x, st.bounds_max.x),
                );
                row(
                    "bounds Y",
                    format!("{:.4} … {:.4} mm", st.bounds_min.y, st.bounds_max.y),
                );
                row(
                    "bounds Z",
                    format!("{:.4} … {:.4} mm", st.bounds_min.z, st.bounds_max.z),
                );
                row(
                    "G-code",
                    format!("{} lines, {} bytes", p.line_source.len(), p.text.len()),
                );
                row("warnings", self.messages.len().to_string());
            });
        } else {
            ui.label("summary follows when the toolpaths are generated");
        }
        ui.horizontal(|ui| {
            let label = ui.label("File:");
            ui.text_edit_singleline(&mut self.export_path)
                .labelled_by(label.id);
            if ui.button("Save G-code").clicked() {
                let p = std::path::PathBuf::from(&self.export_path);
                if let Err(e) = self.export(&p) {
                    self.error = Some(e);
                }
            }
        });
    }

    pub(crate) fn status_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            if let Some(f) = self.loading() {
                ui.spinner();
                ui.label(format!("reading {f}…"));
            } else if self.busy() {
                ui.spinner();
                let (d, t) = self.progress;
                ui.add(
                    egui::ProgressBar::new(if t == 0 { 0.0 } else { d as f32 / t as f32 })
                        .desired_width(120.0)
                        .text(format!("operation {} of {t}", (d + 1).min(t))),
                );
                if ui.button("Cancel").clicked() {
                    self.cancel();
                }
            } else if self.output.is_some() && !self.up_to_date() {
                ui.colored_label(WARN, "showing an earlier result");
            }
            if let Some(e) = &self.error {
                ui.colored_label(ERR, e);
            } else if let (Some(out), Some(st)) = (&self.output, self.summary) {
                ui.label(format!(
                    "{} operations, {} moves, {} G-code lines",
                    out.operations.len(),
                    st.moves,
                    out.program.line_source.len()
                ));
            }
        });
    }
}

/// The fields of one tool, with units.
fn tool_editor(ui: &mut Ui, t: &mut Tool, edit: &mut Edit, last: Option<egui::Id>) {
    ui.horizontal(|ui| {
        let l = ui.label("Name:");
        edit.resp(
            &ui.text_edit_singleline(&mut t.name).labelled_by(l.id),
            last,
        );
    });
    let r = count(ui, "Number:", &mut t.number, 1..=999);
    edit.resp(&r, last);
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
    ];
    for r in &rs {
        edit.resp(r, last);
    }
    let r = count(ui, "Flutes:", &mut t.flutes, 1..=8);
    edit.resp(&r, last);
    ui.label(format!("cutting feed {:.1} mm/min", t.feed_mm_per_min()));
}

/// The "Rest after" choice of a clearing operation: nothing, or one of the earlier clearing
/// operations whose tool is larger than this one's (`tool_d`); a diameter set in the job file
/// that matches none of them is offered as it is.
fn rest_after(
    ui: &mut Ui,
    rest: &mut Option<f64>,
    mut opts: Vec<(Option<f64>, String)>,
    tool_d: f64,
    edit: &mut Edit,
) {
    // Only larger tools leave something for this one.
    opts.retain(|(v, _)| v.is_none_or(|d| d > tool_d));
    if let Some(d) = *rest
        && !opts.iter().any(|(v, _)| *v == Some(d))
    {
        opts.push((Some(d), format!("a Ø {d} mm tool")));
    }
    let opts: Vec<(Option<f64>, &str)> = opts.iter().map(|(v, n)| (*v, n.as_str())).collect();
    edit.flag(choice(ui, "Rest after:", rest, &opts));
}
