//! The status bar: reading, progress with Cancel, the error or that all is up to date.

use egui::Ui;

use super::{ERR, WARN};
use crate::Session;

pub(crate) fn status_bar_ui(ui: &mut Ui, session: &mut Session, machine: &crate::machine::Machine) {
    ui.horizontal(|ui| {
        if let Some(p) = machine.progress_text() {
            ui.add(
                egui::ProgressBar::new(machine.fraction())
                    .desired_width(90.0)
                    .show_percentage(),
            );
            ui.label(format!("running: {p}"));
            ui.separator();
        }
        if let Some(f) = session.loading() {
            ui.spinner();
            ui.label(format!("reading {f}…"));
        } else if session.busy() {
            ui.spinner();
            let (d, t) = session.progress;
            ui.add(
                egui::ProgressBar::new(if t == 0 { 0.0 } else { d as f32 / t as f32 })
                    .desired_width(120.0)
                    .text(format!("operation {} of {t}", (d + 1).min(t))),
            );
            if ui.button("Cancel").clicked() {
                session.cancel();
            }
        } else if session.output.is_some() && !session.up_to_date() {
            ui.colored_label(WARN, "showing an earlier result");
        }
        if let Some(e) = &session.error {
            ui.colored_label(ERR, e);
        } else if let (Some(out), Some(st)) = (&session.output, session.summary) {
            ui.label(format!(
                "{} operations, {} moves, {} G-code lines",
                out.operations.len(),
                st.moves,
                out.program.line_source.len()
            ));
        }
    });
}
