//! Export: dialect, decimals, the program's summary, the file; and the export check's
//! findings with the choice to write anyway.

use egui::Ui;
use swarf_core::job::Job;
use swarf_core::post::Dialect;

use super::{ERR, Edit, choice, count, minutes};
use crate::Session;

pub(crate) fn export_ui(ui: &mut Ui, session: &mut Session, job: &mut Job, edit: &mut Edit) {
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
    edit.resp(&r);
    if let (Some(out), Some(st)) = (
        session.output.as_ref().filter(|_| session.up_to_date()),
        session.summary,
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
            row("warnings", session.messages.len().to_string());
        });
    } else {
        ui.label("summary follows when the toolpaths are generated");
    }
    ui.horizontal(|ui| {
        let label = ui.label("File:");
        ui.text_edit_singleline(&mut session.export_path)
            .labelled_by(label.id);
        if ui.button("Save G-code").clicked() {
            let p = std::path::PathBuf::from(&session.export_path);
            if let Err(e) = session.export(&p) {
                session.error = Some(e);
            }
        }
    });
}

/// The export check's findings, with the choice to write the program anyway.
pub(crate) fn refused_export_ui(ui: &mut Ui, session: &mut Session) {
    let Some(r) = &session.export_refused else {
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
                                        format!("cuts {:.1} µm into the part", depth_mm * 1000.0)
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
            if let Err(e) = session.export_anyway() {
                session.error = Some(e);
            }
        }
        Some(false) => session.export_refused = None,
        None => {}
    }
}
