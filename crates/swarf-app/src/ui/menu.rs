//! The menu bar (files, undo, the project's name) and the offer to recover unsaved work.

use egui::Ui;

use super::WARN;
use crate::{DialogPick, Session, SwarfApp};

pub(crate) fn menu_bar_ui(ui: &mut Ui, app: &mut SwarfApp) {
    ui.horizontal(|ui| {
        if ui
            .button("Open…")
            .on_hover_text("DXF drawing or Swarf project (Ctrl+O)")
            .clicked()
        {
            app.ask_file(false, |p| DialogPick::Open(vec![p]));
        }
        let mut open = None;
        ui.menu_button("Recent", |ui| {
            if app.recent.is_empty() {
                ui.label("no recent files");
            }
            for p in &app.recent {
                if ui.button(p.display().to_string()).clicked() {
                    open = Some(p.clone());
                    ui.close();
                }
            }
        });
        if let Some(p) = open {
            app.open_checked(&p);
        }
        if ui.button("Save project").on_hover_text("Ctrl+S").clicked() {
            app.save();
        }
        if ui
            .button("Save project as…")
            .on_hover_text("Ctrl+Shift+S")
            .clicked()
        {
            app.ask_file(true, DialogPick::SaveProject);
        }
        if ui
            .button("Export G-code…")
            .on_hover_text("Ctrl+E")
            .clicked()
        {
            app.ask_file(true, DialogPick::Export);
        }
        ui.separator();
        if ui
            .add_enabled(app.can_undo(), egui::Button::new("Undo"))
            .on_hover_text("Ctrl+Z")
            .clicked()
        {
            app.undo();
        }
        if ui
            .add_enabled(app.can_redo(), egui::Button::new("Redo"))
            .on_hover_text("Ctrl+Y")
            .clicked()
        {
            app.redo();
        }
        ui.separator();
        let label = if app.machine.running() {
            "Machine (running)"
        } else {
            "Machine"
        };
        if ui
            .selectable_label(app.machine.show, label)
            .on_hover_text("run the program on a GRBL or LinuxCNC machine")
            .clicked()
        {
            app.machine.show = !app.machine.show;
            if app.machine.show && app.machine.ports.is_empty() {
                app.machine.refresh_ports();
            }
        }
        ui.separator();
        let name = app
            .project_path
            .as_ref()
            .map_or("unsaved project".into(), |p| p.display().to_string());
        ui.label(format!("{name}{}", if app.dirty { " •" } else { "" }));
    });
}

pub(crate) fn recovery_bar_ui(ui: &mut Ui, session: &mut Session) {
    let Some(r) = &session.recovery else { return };
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
            session.recover();
        }
        if ui.button("Discard").clicked() {
            session.discard_recovery();
        }
    });
}

/// "Save the changes?" before closing the window or opening another file over unsaved work.
pub(crate) fn unsaved_prompt_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let Some(next) = app.unsaved_prompt.clone() else {
        return;
    };
    let what = match &next {
        crate::AfterPrompt::Close => "before closing".to_string(),
        crate::AfterPrompt::Open(p) => format!(
            "before opening {}",
            p.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let name = app
        .project_path
        .as_ref()
        .map_or("the unsaved project".into(), |p| p.display().to_string());
    let mut answer = None;
    egui::Window::new("Unsaved changes")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ui.ctx(), |ui| {
            ui.label(format!("Save the changes to {name} {what}?"));
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    answer = Some(Some(true));
                }
                if ui.button("Don't save").clicked() {
                    answer = Some(Some(false));
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(None);
                }
            });
        });
    if let Some(a) = answer {
        app.answer_unsaved(a);
    }
}

/// The stand-in for a file dialog where the desktop has none (no portal, no `zenity`).
pub(crate) fn path_prompt_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let Some(prompt) = &mut app.path_prompt else {
        return;
    };
    let mut answer = None;
    egui::Window::new(if prompt.save { "Save to" } else { "Open" })
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ui.ctx(), |ui| {
            ui.colored_label(
                WARN,
                "No file dialog is available on this desktop (no desktop portal and no zenity; \
                 install zenity for one). Type the file's path:",
            );
            let l = ui.label("Path");
            let r = ui
                .add(egui::TextEdit::singleline(&mut prompt.text).desired_width(420.0))
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                if ui.button("OK").clicked() || enter {
                    let t = prompt.text.trim();
                    if !t.is_empty() {
                        answer = Some(Some(std::path::PathBuf::from(t)));
                    }
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(None);
                }
            });
        });
    if let Some(a) = answer {
        app.answer_path_prompt(a);
    }
}
