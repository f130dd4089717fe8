//! The Swarf desktop app: a job (the embedded example, a drawing or a project file) with its
//! tools and operations, their parameters, the 3D view of part and toolpaths, and G-code
//! export. [`Session`] holds the state and the logic without any GUI (generation on a worker
//! thread with progress and cancel, a result shown only if it belongs to the latest
//! parameters, undo, atomic saves, autosave and recovery, the checked export); [`SwarfApp`]
//! is the egui shell around it: panels in `ui/`, the 3D view, file dialogs, shortcuts.

mod history;
pub mod machine;
mod session;
pub mod store;
pub mod typed;
mod ui;
mod view;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub use history::History;
pub use session::{AUTOSAVE_DELAY, RefusedExport, Session, new_operation};
pub use store::{Recovery, Store};
pub use view::Viewport;

/// The Machine panel, for tests that draw it alone.
pub fn machine_panel(ui: &mut egui::Ui, app: &mut SwarfApp) {
    ui::machine::machine_panel_ui(ui, app);
}

/// What waits for the answer to "save the unsaved changes?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterPrompt {
    /// Close the window.
    Close,
    /// Open these files (a project, a part, or a board's layers) in place of the current job.
    Open(Vec<PathBuf>),
}

/// A file dialog's answer, from its own thread.
enum DialogPick {
    /// One file, or a board's files picked together.
    Open(Vec<PathBuf>),
    SaveProject(PathBuf),
    Export(PathBuf),
    /// A mesh to engrave onto, added beside the part.
    Surface(PathBuf),
}

/// The egui shell: the session, the 3D view and the file dialog in flight. It derefs to the
/// [`Session`], so `app.job` or `app.export(…)` reach the state and its logic.
#[allow(clippy::struct_excessive_bools)] // independent states of the shell
pub struct SwarfApp {
    pub session: Session,
    pub view: Viewport,
    dialog: Option<Receiver<DialogPick>>,
    /// The generation whose result the view was last given.
    view_gen: u64,
    /// Whether the session wakes this window's context.
    waker_set: bool,
    /// The machine link (the Machine panel).
    pub machine: machine::Machine,
    /// The window title last sent to the window.
    title: String,
    /// "Save the unsaved changes?" is asked before this.
    pub unsaved_prompt: Option<AfterPrompt>,
    /// Done once the project chosen in a Save dialog is saved.
    after_save: Option<AfterPrompt>,
    /// The user chose to close (saved or not): the next close request goes through.
    close_confirmed: bool,
    /// The close command was sent.
    closing: bool,
    /// Whether a native file dialog can be shown (a desktop portal or `zenity`); without one
    /// a path field in the window takes its place.
    pub native_dialogs: bool,
    /// The built-in path field in place of a native dialog.
    pub path_prompt: Option<PathPrompt>,
}

/// The built-in stand-in for a file dialog.
pub struct PathPrompt {
    pub save: bool,
    pub text: String,
    kind: fn(PathBuf) -> DialogPick,
}

/// Whether rfd can show a dialog here: on Linux it needs the desktop portal (over the session
/// bus) or `zenity`; elsewhere the system's own.
fn native_dialogs_available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let zenity = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()));
    zenity || std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

impl std::ops::Deref for SwarfApp {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl std::ops::DerefMut for SwarfApp {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}

impl SwarfApp {
    /// A height map just probed levels the job from now on (one undo step).
    pub fn apply_probed_map(&mut self) {
        if let Some(map) = self.machine.probed.take() {
            let mut job = self.session.job.clone();
            job.height_map = Some(map);
            self.session.set_job(job);
        }
    }

    /// The embedded example part with its example job, generation started; nothing kept
    /// between runs.
    pub fn example() -> Self {
        Self::new(Store::none())
    }

    /// The example job, with recent files, the tool library and any autosave from `store`.
    pub fn new(store: Store) -> Self {
        let mut machine = machine::Machine::default();
        machine.apply_settings(&store.machine_settings());
        Self {
            machine,
            session: Session::new(store),
            view: Viewport::default(),
            dialog: None,
            view_gen: 0,
            waker_set: false,
            title: String::new(),
            unsaved_prompt: None,
            after_save: None,
            close_confirmed: false,
            closing: false,
            native_dialogs: native_dialogs_available(),
            path_prompt: None,
        }
    }

    /// Runs a native file dialog on its own thread (the UI keeps drawing).
    pub(crate) fn ask_file(&mut self, save: bool, kind: fn(PathBuf) -> DialogPick) {
        if self.dialog.is_some() || self.path_prompt.is_some() {
            return;
        }
        if !self.native_dialogs {
            let dir = self.base_dir.display().to_string();
            self.path_prompt = Some(PathPrompt {
                save,
                text: if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                },
                kind,
            });
            return;
        }
        let (tx, rx) = channel();
        let dir = self.base_dir.clone();
        std::thread::spawn(move || {
            let d = rfd::FileDialog::new().set_directory(dir);
            let pick = if save {
                d.save_file().map(kind)
            } else {
                d.add_filter(
                    "Parts and projects",
                    &[
                        "dxf", "DXF", "stl", "STL", "drl", "DRL", "xln", "txt", "gbr", "GBR",
                        "ger", "gtl", "gbl", "gko", "gm1", "cmp", "sol", "toml",
                    ],
                )
                .pick_files()
                .filter(|v| !v.is_empty())
                .map(DialogPick::Open)
            };
            if let Some(p) = pick {
                let _ = tx.send(p);
            }
        });
        self.dialog = Some(rx);
    }

    /// The file dialog's answer (native or the built-in path field).
    fn picked(&mut self, pick: DialogPick) {
        match pick {
            DialogPick::Open(p) => self.open_checked_files(p),
            DialogPick::SaveProject(p) => match self.save_project(&p) {
                Ok(()) => {
                    if let Some(next) = self.after_save.take() {
                        self.proceed(next);
                    }
                }
                Err(e) => {
                    self.after_save = None;
                    self.error = Some(e);
                }
            },
            DialogPick::Export(p) => {
                if let Err(e) = self.export(&p) {
                    self.error = Some(e);
                }
            }
            DialogPick::Surface(p) => self.add_surface(&p),
        }
    }

    /// The built-in path field answered: `Some(path)` or cancelled.
    pub fn answer_path_prompt(&mut self, path: Option<PathBuf>) {
        let Some(prompt) = self.path_prompt.take() else {
            return;
        };
        match path {
            Some(p) => self.picked((prompt.kind)(p)),
            None => self.after_save = None,
        }
    }

    /// "Open…": the native dialog, or the path field where there is none.
    pub fn ask_open(&mut self) {
        self.ask_file(false, |p| DialogPick::Open(vec![p]));
    }

    fn poll_dialog(&mut self) {
        let Some(rx) = &self.dialog else { return };
        match rx.try_recv() {
            Ok(pick) => {
                self.dialog = None;
                self.picked(pick);
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                // Cancelled: what waited for a save does not happen.
                self.dialog = None;
                self.after_save = None;
            }
        }
    }

    /// Saves to the project file, or asks where when there is none.
    pub fn save(&mut self) {
        match self.project_path.clone() {
            Some(p) => {
                if let Err(e) = self.save_project(&p) {
                    self.error = Some(e);
                }
            }
            None => self.ask_file(true, DialogPick::SaveProject),
        }
    }

    /// Open `p` in place of the current job, asking first to save unsaved changes.
    pub fn open_checked(&mut self, p: &std::path::Path) {
        self.open_checked_files(vec![p.to_path_buf()]);
    }

    /// Open files in place of the current job (several: a board's layers), asking first to
    /// save unsaved changes.
    pub fn open_checked_files(&mut self, files: Vec<PathBuf>) {
        if self.session.dirty {
            self.unsaved_prompt = Some(AfterPrompt::Open(files));
        } else {
            self.session.open_files(&files);
        }
    }

    /// The window was asked to close: `false` (and the question asked) while there are
    /// unsaved changes the user has not decided about.
    pub fn request_close(&mut self) -> bool {
        if self.session.dirty && !self.close_confirmed {
            self.unsaved_prompt = Some(AfterPrompt::Close);
            false
        } else {
            true
        }
    }

    /// The answer to the unsaved-changes question: `Some(true)` save first, `Some(false)`
    /// discard, `None` cancel.
    pub fn answer_unsaved(&mut self, save: Option<bool>) {
        let Some(next) = self.unsaved_prompt.take() else {
            return;
        };
        match save {
            None => {}
            Some(false) => {
                if next == AfterPrompt::Close {
                    // The user chose to lose the changes: no recovery offer next time.
                    self.session.dirty = false;
                }
                self.proceed(next);
            }
            Some(true) => {
                if let Some(p) = self.session.project_path.clone() {
                    match self.session.save_project(&p) {
                        Ok(()) => self.proceed(next),
                        Err(e) => self.session.error = Some(e),
                    }
                } else {
                    self.after_save = Some(next);
                    self.ask_file(true, DialogPick::SaveProject);
                }
            }
        }
    }

    fn proceed(&mut self, next: AfterPrompt) {
        match next {
            AfterPrompt::Close => self.close_confirmed = true,
            AfterPrompt::Open(p) => self.session.open_files(&p),
        }
    }

    /// The whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui, render: Option<&egui_wgpu::RenderState>) {
        if !self.waker_set {
            let ctx = ui.ctx().clone();
            self.session
                .set_waker(std::sync::Arc::new(move || ctx.request_repaint()));
            self.waker_set = true;
        }
        if self.poll() {
            ui.ctx().request_repaint();
        }
        if std::mem::take(&mut self.session.fit_view) {
            self.view.auto_fit = true;
        }
        if self.session.output_gen != self.view_gen {
            self.view_gen = self.session.output_gen;
            self.view.scene_dirty = true;
        }
        self.poll_dialog();
        if self.busy() || self.dialog.is_some() {
            ui.ctx().request_repaint_after(Duration::from_millis(30));
        }
        if let Some(due) = self.autosave_due {
            let now = Instant::now();
            if now >= due {
                self.autosave_now();
            } else {
                ui.ctx().request_repaint_after(due - now);
            }
        }
        self.shortcuts(ui);
        let dropped: Vec<PathBuf> = ui.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        // Files dropped together are opened together (a board's layers).
        if !dropped.is_empty() {
            self.open_checked_files(dropped);
        }
        if ui.input(|i| i.viewport().close_requested()) && !self.request_close() {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        if self.close_confirmed && self.unsaved_prompt.is_none() && self.after_save.is_none() {
            // Decided (saved or discarded) in this or an earlier frame: close now.
            if !std::mem::replace(&mut self.closing, true) {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
        ui::menu::unsaved_prompt_ui(ui, self);
        ui::menu::path_prompt_ui(ui, self);
        egui::Panel::top("swarf_menu").show(ui, |ui| ui::menu::menu_bar_ui(ui, self));
        if self.recovery.is_some() {
            egui::Panel::top("swarf_recovery")
                .show(ui, |ui| ui::menu::recovery_bar_ui(ui, &mut self.session));
        }
        let title = self.session.window_title();
        if title != self.title {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        if self.machine.poll() {
            ui.ctx().request_repaint();
        }
        self.apply_probed_map();
        if self.machine.connected() {
            // Status reports arrive at 5 Hz; the panel follows them.
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
        self.view.machine = self.machine.run.as_ref().map(|r| {
            let done = match self.session.output.as_deref() {
                Some(out) if r.generation == self.session.output_gen => {
                    machine::done_moves(out, r.line)
                }
                _ => 0,
            };
            let at = self
                .machine
                .status
                .as_ref()
                .and_then(|s| s.wpos)
                .map(|p| glam::DVec3::new(p[0], p[1], p[2]));
            (done, at)
        });
        egui::Panel::bottom("swarf_status").show(ui, |ui| {
            ui::status::status_bar_ui(ui, &mut self.session, &self.machine);
        });
        if self.machine.show {
            egui::Panel::right("swarf_machine")
                .resizable(true)
                .default_size(330.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .show(ui, |ui| ui::machine::machine_panel_ui(ui, self));
                });
        }
        egui::Panel::left("swarf_side")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| ui::side_panel_ui(ui, self));
            });
        ui::export::refused_export_ui(ui, &mut self.session);
        egui::CentralPanel::default().show(ui, |ui| {
            let out = self.session.output.as_deref();
            match self.view.ui(ui, render, out, &self.session.holes) {
                Some(view::Picked::HoleGroup(g)) => self.session.pick_hole_group(g),
                Some(view::Picked::Copy(k)) => self.session.toggle_copy(k),
                None => {}
            }
        });
    }

    /// The keyboard shortcuts: undo/redo, open, save, save as, export, fit the view.
    fn shortcuts(&mut self, ui: &egui::Ui) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let cmd = |k| KeyboardShortcut::new(Modifiers::COMMAND, k);
        let cmd_shift = |k| KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, k);
        let (undo, redo, open, save, save_as, export, fit) = ui.input_mut(|i| {
            (
                i.consume_shortcut(&cmd(Key::Z)),
                i.consume_shortcut(&cmd(Key::Y)) || i.consume_shortcut(&cmd_shift(Key::Z)),
                i.consume_shortcut(&cmd(Key::O)),
                i.consume_shortcut(&cmd(Key::S)),
                i.consume_shortcut(&cmd_shift(Key::S)),
                i.consume_shortcut(&cmd(Key::E)),
                i.key_pressed(Key::F) && i.modifiers.is_none(),
            )
        });
        // F fits the view, unless a field is taking the keys.
        let fit = fit && ui.ctx().memory(|m| m.focused().is_none());
        if redo {
            self.redo();
        } else if undo {
            self.undo();
        }
        if open {
            self.ask_file(false, |p| DialogPick::Open(vec![p]));
        }
        if save_as {
            self.ask_file(true, DialogPick::SaveProject);
        } else if save {
            self.save();
        }
        if export {
            self.ask_file(true, DialogPick::Export);
        }
        if std::mem::take(&mut self.session.surface_request) {
            self.ask_file(false, DialogPick::Surface);
        }
        if fit {
            self.view.auto_fit = true;
        }
    }
}

impl eframe::App for SwarfApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let rs = frame.wgpu_render_state().cloned();
        SwarfApp::ui(self, ui, rs.as_ref());
    }
    fn on_exit(&mut self) {
        self.session.on_exit();
    }
}
