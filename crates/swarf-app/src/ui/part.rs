//! The part: its size, units, layers and the import's warnings.

use egui::Ui;
use swarf_core::import::Units;
use swarf_core::job::{Job, Model};

use super::{Edit, WARN, choice};
use crate::Session;

pub(crate) fn part_ui(ui: &mut Ui, session: &Session, job: &mut Job, edit: &mut Edit) {
    ui.label(&session.part_name);
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
    let d = match &session.model {
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
            orientation_ui(ui, job, edit);
            import_warnings_ui(ui, &session.import_warnings);
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
    if !session.hole_groups.is_empty() {
        ui.collapsing(
            format!("Holes: {} sizes", session.hole_groups.len()),
            |ui| {
                for g in &session.hole_groups {
                    ui.label(g);
                }
            },
        );
    }
    import_warnings_ui(ui, &session.import_warnings);
}

/// Turn a mesh in quarter turns (a cavity that faces −Y is cut from the top after X −90°).
fn orientation_ui(ui: &mut Ui, job: &mut Job, edit: &mut Edit) {
    let o = job.part.orientation;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Orientation: {}", o.describe()));
        let mut next = o;
        for (axis, name) in [(0, "X +90°"), (1, "Y +90°"), (2, "Z +90°")] {
            if ui
                .small_button(name)
                .on_hover_text("a quarter turn about the machine axis")
                .clicked()
            {
                next = o.turned(axis);
            }
        }
        if ui
            .small_button("Flip")
            .on_hover_text("upside down")
            .clicked()
        {
            next = o.flipped();
        }
        if ui
            .add_enabled(!o.is_identity(), egui::Button::new("As in file").small())
            .clicked()
        {
            next = swarf_core::geometry::mesh::Orientation::default();
        }
        if next != o {
            job.part.orientation = next;
            edit.flag(true);
        }
    });
}

pub(crate) fn import_warnings_ui(ui: &mut Ui, warnings: &[String]) {
    for w in warnings {
        // The importer words its advice for the CLI; here the choice is above.
        let w = w
            .replace("(use --units to change)", "(change it with Units above)")
            .replace("use --units", "set Units above to")
            .replace("--units ", "Units ");
        ui.colored_label(WARN, format!("import: {w}"));
    }
}
