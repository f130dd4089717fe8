//! Export: dialect, decimals, the program's summary, the file; and the export check's
//! findings with the choice to write anyway.

use egui::Ui;
use swarf_core::job::Job;
use swarf_core::post::{Dialect, PostOptions, WorkOffset};

use super::{ERR, Edit, choice, count, minutes, number};
use crate::Session;

/// The program's title, number, work offset, line numbers, arcs, tool changes and texts.
fn program_options_ui(ui: &mut Ui, title: &mut String, post: &mut PostOptions, edit: &mut Edit) {
    ui.horizontal(|ui| {
        let l = ui.label("Title:");
        edit.resp(&ui.text_edit_singleline(title).labelled_by(l.id));
    });
    let offsets: Vec<(WorkOffset, &str)> = WorkOffset::ALL.iter().map(|w| (*w, w.code())).collect();
    edit.flag(choice(ui, "Work offset:", &mut post.work_offset, &offsets));
    optional_count(
        ui,
        "program number",
        &mut post.program_number,
        1,
        1..=9999,
        edit,
    );
    optional_count(
        ui,
        "line numbers, step",
        &mut post.line_numbers,
        10,
        1..=1000,
        edit,
    );
    edit.flag(
        ui.checkbox(&mut post.arcs, "arcs as G2/G3")
            .on_hover_text("off: every arc as lines within the path tolerance")
            .changed(),
    );
    if post.dialect != Dialect::Grbl {
        edit.flag(
            ui.checkbox(&mut post.expand_cycles, "drilling cycles as moves")
                .on_hover_text("off: G81/G82/G83/G73 canned cycles where they make the same moves")
                .changed(),
        );
    }
    if post.dialect == Dialect::Grbl {
        let mut at = post.tool_change_xy_mm.is_some();
        edit.flag(
            ui.checkbox(&mut at, "tool change position")
                .on_hover_text("where the tool goes for a manual change (M0)")
                .changed(),
        );
        if at {
            let [mut x, mut y] = post.tool_change_xy_mm.unwrap_or([0.0, 0.0]);
            edit.resp(&number(ui, "  X:", &mut x, 1.0, -10_000.0..=10_000.0, "mm"));
            edit.resp(&number(ui, "  Y:", &mut y, 1.0, -10_000.0..=10_000.0, "mm"));
            post.tool_change_xy_mm = Some([x, y]);
        } else {
            post.tool_change_xy_mm = None;
        }
    } else {
        edit.flag(
            ui.checkbox(&mut post.tool_length_offsets, "tool length offsets (G43 H)")
                .changed(),
        );
    }
    let mut own_z = post.tool_change_z_mm.is_some();
    edit.flag(ui.checkbox(&mut own_z, "tool change height").changed());
    if own_z {
        let mut z = post.tool_change_z_mm.unwrap_or(20.0);
        edit.resp(&number(ui, "  Z:", &mut z, 1.0, -1000.0..=1000.0, "mm"));
        post.tool_change_z_mm = Some(z);
    } else {
        post.tool_change_z_mm = None;
    }
    for (label, text) in [
        ("Header text:", &mut post.header_text),
        ("Footer text:", &mut post.footer_text),
    ] {
        let l = ui.label(label);
        edit.resp(
            &ui.add(egui::TextEdit::multiline(text).desired_rows(2))
                .labelled_by(l.id),
        );
    }
}

/// A checkbox that turns an optional whole number on (with `default`) or off, and its value.
fn optional_count(
    ui: &mut Ui,
    label: &str,
    value: &mut Option<u32>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
    edit: &mut Edit,
) {
    let mut on = value.is_some();
    edit.flag(ui.checkbox(&mut on, label).changed());
    *value = if on {
        let mut v = value.unwrap_or(default);
        edit.resp(&count(ui, "  ", &mut v, range));
        Some(v)
    } else {
        None
    };
}

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
    egui::CollapsingHeader::new("Program options")
        .default_open(false)
        .show(ui, |ui| {
            program_options_ui(ui, &mut job.title, &mut job.post, edit);
        });
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
            row("warnings", session.warning_count().to_string());
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
