//! The Swarf desktop app: the example job (or a drawing) with its operations, their parameters,
//! the 3D view of part and toolpaths, and G-code export. Generation runs on a worker thread;
//! a result is shown only if it belongs to the latest parameters.

mod view;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};

use swarf_core::import::{Drawing, DxfOptions, import_dxf};
use swarf_core::job::{EXAMPLE_JOB_TOML, Job, JobOutput, OpType};
use swarf_core::ops::Stepover;

pub use view::Viewport;

/// The step-over and heights an operation shares with every other kind, to read or change.
fn common_params<R>(
    op: &mut swarf_core::job::Operation,
    f: impl FnOnce(&mut Stepover, &mut swarf_core::ops::Heights) -> R,
) -> R {
    match op.kind {
        OpType::Pocket => {
            let mut p = op.pocket.unwrap_or_default();
            let r = f(&mut p.stepover, &mut p.heights);
            op.pocket = Some(p);
            r
        }
        OpType::Contour => {
            let mut c = op.contour.unwrap_or_default();
            let r = f(&mut c.stepover, &mut c.heights);
            op.contour = Some(c);
            r
        }
    }
}

/// What the worker sends back: the generation it was asked for and the outcome.
type Outcome = (u64, Result<Box<JobOutput>, String>);

/// The application state (everything the UI shows and edits).
pub struct SwarfApp {
    pub job: Job,
    pub part_name: String,
    pub drawing: Option<Drawing>,
    /// The result shown, and the generation it came from.
    pub output: Option<Box<JobOutput>>,
    pub output_gen: u64,
    /// The latest generation asked for.
    pub generation: u64,
    pub error: Option<String>,
    pub messages: Vec<String>,
    pub selected: usize,
    undo: Vec<Job>,
    redo: Vec<Job>,
    worker: Option<Receiver<Outcome>>,
    pub view: Viewport,
    pub export_path: String,
}

impl SwarfApp {
    /// The embedded example part with its example job, generation started.
    pub fn example() -> Self {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).expect("the example job is valid");
        let drawing = job.load_part(Path::new(".")).map(|(_, d)| d);
        let mut app = Self {
            part_name: job.part.file.clone(),
            job,
            drawing: None,
            output: None,
            output_gen: 0,
            generation: 0,
            error: None,
            messages: Vec::new(),
            selected: 0,
            undo: Vec::new(),
            redo: Vec::new(),
            worker: None,
            view: Viewport::default(),
            export_path: "swarf.ngc".into(),
        };
        match drawing {
            Ok(d) => app.drawing = Some(d),
            Err(e) => app.error = Some(e.to_string()),
        }
        app.regenerate();
        app
    }

    /// Opens a DXF drawing: the current job's operations run on it.
    pub fn open(&mut self, path: &Path) {
        let opts = DxfOptions {
            units: self.job.part.units,
            tolerance: self.job.tolerance,
            ..DxfOptions::default()
        };
        match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| import_dxf(&b, &opts).map_err(|e| e.to_string()))
        {
            Ok(d) => {
                self.messages.clone_from(&d.warnings);
                self.part_name = path.display().to_string();
                self.job.part.file = path.display().to_string();
                self.drawing = Some(d);
                self.view.auto_fit = true;
                self.regenerate();
            }
            Err(e) => self.error = Some(format!("cannot open {}: {e}", path.display())),
        }
    }

    /// Starts generating the current job on a worker thread; earlier results still running
    /// are dropped when they arrive.
    pub fn regenerate(&mut self) {
        let Some(d) = self.drawing.clone() else {
            return;
        };
        self.generation += 1;
        let gen_ = self.generation;
        let job = self.job.clone();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let r = job.run_on(d).map(Box::new).map_err(|e| e.to_string());
            let _ = tx.send((gen_, r));
        });
        self.worker = Some(rx);
    }

    /// Whether a generation is running.
    pub fn busy(&self) -> bool {
        self.worker.is_some()
    }

    /// Takes a finished generation if it is the latest. Returns true when something changed.
    pub fn poll(&mut self) -> bool {
        let Some(rx) = &self.worker else {
            return false;
        };
        match rx.try_recv() {
            Ok((g, r)) => {
                self.worker = None;
                if g != self.generation {
                    return false;
                }
                match r {
                    Ok(out) => {
                        self.messages = out
                            .operations
                            .iter()
                            .flat_map(|(n, _, r)| {
                                r.warnings.iter().map(move |w| format!("{n}: {w}"))
                            })
                            .collect();
                        self.error = None;
                        self.output = Some(out);
                        self.output_gen = g;
                        self.view.scene_dirty = true;
                    }
                    Err(e) => self.error = Some(e),
                }
                true
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => false,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.worker = None;
                self.error = Some("generation stopped unexpectedly".into());
                true
            }
        }
    }

    /// Waits for the running generation (tests, export).
    pub fn wait(&mut self) {
        while self.busy() {
            if !self.poll() {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
    }

    /// Records the job before a change (undo).
    fn before_change(&mut self, before: Job) {
        self.undo.push(before);
        self.redo.clear();
    }
    pub fn undo(&mut self) {
        if let Some(j) = self.undo.pop() {
            self.redo.push(std::mem::replace(&mut self.job, j));
            self.regenerate();
        }
    }
    pub fn redo(&mut self) {
        if let Some(j) = self.redo.pop() {
            self.undo.push(std::mem::replace(&mut self.job, j));
            self.regenerate();
        }
    }

    /// Sets the step-over of operation `i` (fraction of the diameter) and regenerates.
    pub fn set_stepover(&mut self, i: usize, fraction: f64) {
        self.edit_op(i, |s, _| *s = Stepover::Fraction(fraction));
    }

    /// Sets the final depth of operation `i` (mm) and regenerates.
    pub fn set_depth(&mut self, i: usize, depth_mm: f64) {
        self.edit_op(i, |_, h| h.final_depth_mm = depth_mm);
    }

    fn edit_op(&mut self, i: usize, f: impl FnOnce(&mut Stepover, &mut swarf_core::ops::Heights)) {
        let before = self.job.clone();
        let Some(op) = self.job.operations.get_mut(i) else {
            return;
        };
        common_params(op, f);
        self.before_change(before);
        self.regenerate();
    }

    /// Writes the program (atomically) to `path`.
    pub fn export(&mut self, path: &Path) -> Result<(), String> {
        self.wait();
        let out = self.output.as_ref().ok_or("nothing generated yet")?;
        let tmp = path.with_extension("swarf-tmp");
        std::fs::write(&tmp, out.program.text.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui, render: Option<&egui_wgpu::RenderState>) {
        if self.poll() {
            ui.ctx().request_repaint();
        }
        if self.busy() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(30));
        }
        let (undo, redo) = ui.input(|i| {
            (
                i.modifiers.command && !i.modifiers.shift && i.key_pressed(egui::Key::Z),
                i.modifiers.command
                    && (i.key_pressed(egui::Key::Y)
                        || i.modifiers.shift && i.key_pressed(egui::Key::Z)),
            )
        });
        if undo {
            self.undo();
        }
        if redo {
            self.redo();
        }
        let dropped: Vec<PathBuf> = ui.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        for p in dropped {
            self.open(&p);
        }
        egui::Panel::left("swarf_side")
            .resizable(true)
            .show(ui, |ui| self.side_panel(ui));
        egui::Panel::bottom("swarf_status").show(ui, |ui| self.status_bar(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            let out = self.output.as_deref();
            self.view.ui(ui, render, out);
        });
    }

    fn side_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Swarf");
        ui.label(format!("Part: {}", self.part_name));
        ui.separator();
        ui.strong("Operations");
        let mut toggled = None;
        for (i, op) in self.job.operations.iter().enumerate() {
            ui.horizontal(|ui| {
                let mut on = op.enabled;
                if ui
                    .checkbox(&mut on, "on")
                    .on_hover_text("include this operation in the program")
                    .changed()
                {
                    toggled = Some((i, on));
                }
                if ui
                    .selectable_label(self.selected == i, format!("{} ({:?})", op.name, op.kind))
                    .clicked()
                {
                    self.selected = i;
                }
            });
        }
        if let Some((i, on)) = toggled {
            let before = self.job.clone();
            self.job.operations[i].enabled = on;
            self.before_change(before);
            self.regenerate();
        }
        ui.separator();
        self.op_panel(ui);
        ui.separator();
        ui.strong("Export");
        ui.horizontal(|ui| {
            let label = ui.label("File:");
            ui.text_edit_singleline(&mut self.export_path)
                .labelled_by(label.id);
            if ui.button("Save G-code").clicked() {
                let p = PathBuf::from(&self.export_path);
                match self.export(&p) {
                    Ok(()) => self.messages.insert(0, format!("wrote {}", p.display())),
                    Err(e) => self.error = Some(e),
                }
            }
        });
        if !self.messages.is_empty() {
            ui.separator();
            ui.strong("Messages");
            egui::ScrollArea::vertical()
                .max_height(160.0)
                .show(ui, |ui| {
                    for m in &self.messages {
                        ui.label(m);
                    }
                });
        }
    }

    /// Parameters of the selected operation.
    fn op_panel(&mut self, ui: &mut egui::Ui) {
        let Some(op) = self.job.operations.get(self.selected) else {
            return;
        };
        let tool_d = self
            .job
            .tools
            .iter()
            .find(|t| t.number == op.tool)
            .map_or(0.0, |t| t.diameter_mm);
        ui.strong(format!("{} — tool {} (Ø {tool_d} mm)", op.name, op.tool));
        let mut op = op.clone();
        let (stepover, depth) = common_params(&mut op, |s, h| (*s, h.final_depth_mm));
        let mut pct = stepover.mm(tool_d) / tool_d.max(1e-9) * 100.0;
        let so = ui
            .add(
                egui::DragValue::new(&mut pct)
                    .range(1.0..=100.0)
                    .speed(0.5)
                    .suffix(" % step-over"),
            )
            .changed();
        let mut um = depth * 1000.0;
        let dc = ui
            .add(
                egui::DragValue::new(&mut um)
                    .range(1.0..=50_000.0)
                    .speed(1.0)
                    .suffix(" µm depth"),
            )
            .changed();
        if so {
            self.set_stepover(self.selected, pct / 100.0);
        }
        if dc {
            self.set_depth(self.selected, um / 1000.0);
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if self.busy() {
                ui.spinner();
                ui.label("generating…");
            }
            if let Some(e) = &self.error {
                ui.colored_label(egui::Color32::from_rgb(255, 120, 100), e);
            } else if let Some(out) = &self.output {
                let moves: usize = out
                    .operations
                    .iter()
                    .map(|(_, _, r)| r.toolpath.moves.len())
                    .sum();
                ui.label(format!(
                    "{} operations, {moves} moves, {} G-code lines",
                    out.operations.len(),
                    out.program.text.lines().count()
                ));
            }
        });
    }
}

impl eframe::App for SwarfApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let rs = frame.wgpu_render_state().cloned();
        SwarfApp::ui(self, ui, rs.as_ref());
    }
}
