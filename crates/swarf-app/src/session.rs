//! [`Session`]: the app's state and logic as a plain value, without egui. The egui shell
//! ([`crate::SwarfApp`]) draws it and hands it the user's edits.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use swarf_core::job::{EXAMPLE_JOB_TOML, Job, JobError, JobOutput, Model, Operation, Parts};
use swarf_core::ops::{OpSpec, Stepover};
use swarf_core::tool::ToolLibrary;

use crate::history::History;
use crate::store::{Recovery, Store};

mod export;
mod worker;

pub use export::RefusedExport;
use worker::Worker;

/// Seconds after a change before unsaved work is autosaved.
pub const AUTOSAVE_DELAY: Duration = Duration::from_secs(3);

/// The step-over and heights an operation shares with every other kind, to read or change.
pub(crate) fn common_params<R>(
    op: &mut swarf_core::job::Operation,
    f: impl FnOnce(&mut Stepover, &mut swarf_core::ops::Heights) -> R,
) -> R {
    match &mut op.spec {
        OpSpec::Pocket(p) => f(&mut p.stepover, &mut p.cut.heights),
        OpSpec::Contour(c) => f(&mut c.stepover, &mut c.cut.heights),
        OpSpec::ZLevelRough(z) | OpSpec::ZLevelContour(z) => f(&mut z.stepover, &mut z.cut.heights),
        // Drilling has no step-over: one is lent and dropped.
        OpSpec::Drill(d) => f(&mut Stepover::Fraction(1.0), &mut d.cut.heights),
        OpSpec::HelicalBore(b) => f(&mut Stepover::Fraction(1.0), &mut b.cut.heights),
        // Isolation passes step by the cut's width less the overlap, set in its own panel.
        OpSpec::Isolate(i) => f(&mut Stepover::Fraction(1.0), &mut i.cut.heights),
        // Engraving follows lines: no step-over.
        OpSpec::Engrave(e) => f(&mut Stepover::Fraction(1.0), &mut e.cut.heights),
        // V-carving follows the medial axis, a text its letters: no step-over.
        OpSpec::VCarve(v) => f(&mut Stepover::Fraction(1.0), &mut v.cut.heights),
        OpSpec::Text(t) => f(&mut Stepover::Fraction(1.0), &mut t.cut.heights),
        // Parallel finishing steps by a scallop height or a distance, in its own panel.
        OpSpec::Parallel(p) => f(&mut Stepover::Fraction(1.0), &mut p.cut.heights),
        // Waterline steps down between levels, in its own panel.
        OpSpec::Waterline(w) => f(&mut Stepover::Fraction(1.0), &mut w.cut.heights),
        OpSpec::SteepShallow(w) => f(&mut Stepover::Fraction(1.0), &mut w.cut.heights),
        // The step-over of adaptive clearing is its optimal load (the radial width that
        // makes its engagement limit); setting it sets the limit.
        OpSpec::Adaptive(a) => {
            let load = a
                .optimal_load
                .unwrap_or_else(|| 0.5 * (1.0 - a.engagement_deg().to_radians().cos()));
            let mut s = Stepover::Fraction(load);
            let r = f(&mut s, &mut a.cut.heights);
            if s != Stepover::Fraction(load) {
                a.optimal_load = Some(match s {
                    Stepover::Fraction(f) => f,
                    Stepover::Mm(_) => load,
                });
            }
            r
        }
    }
}

/// A new operation of type `kind` (see [`swarf_core::ops::OP_TYPES`]) with its default
/// parameters; z-level operations go down to `mesh_depth_mm` (the mesh's height below its
/// top).
pub fn new_operation(kind: &str, name: String, tool: u32, mesh_depth_mm: f64) -> Operation {
    use swarf_core::job::Target;
    let mut spec = OpSpec::default_of(kind).expect("one of OP_TYPES");
    if spec.needs_mesh() {
        spec.cut_mut().heights.final_depth_mm = mesh_depth_mm.max(0.001);
    }
    if let OpSpec::ZLevelRough(z) = &mut spec {
        z.cut.allowance_radial_mm = 0.01;
        z.cut.allowance_axial_mm = 0.005;
    }
    Operation {
        name,
        tool,
        enabled: true,
        coolant: None,
        part: None,
        target: match spec {
            OpSpec::Pocket(_) | OpSpec::Adaptive(_) => Target::Holes,
            // Isolation goes around all the copper, rings included; a V-carve carves letters
            // and logos, regions with their islands.
            OpSpec::Isolate(_) | OpSpec::VCarve(_) => Target::Regions,
            _ => Target::Outlines,
        },
        spec,
    }
}

/// The thickness a board's drilling and cut-out go through by default (FR4's usual), mm.
const BOARD_THICKNESS_MM: f64 = 1.6;

/// How far a drilled or bored hole goes below the board (into the spoil board), mm.
const BREAKTHROUGH_MM: f64 = 0.1;

/// What a file of the job is for: the operations it gets when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileUse {
    Mesh,
    Drill,
    Copper,
    Outline,
    Drawing,
}

/// A board's name from its files' names: what they share before the layer's part
/// (`board-F_Cu.gbr`, `board-Edge_Cuts.gbr` and `board.drl` are "board").
fn board_title(paths: &[PathBuf]) -> String {
    let stems: Vec<String> = paths
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let Some(first) = stems.first() else {
        return String::new();
    };
    let mut len = first.len();
    for s in &stems[1..] {
        len = len.min(
            first
                .char_indices()
                .zip(s.chars())
                .take_while(|((_, a), b)| a == b)
                .map(|((i, a), _)| i + a.len_utf8())
                .last()
                .unwrap_or(0),
        );
    }
    let common = first[..len].trim_end_matches(['-', '_', '.', ' ']);
    if common.is_empty() {
        first.clone()
    } else {
        common.to_string()
    }
}

/// The folder a file lies in (`.` for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// What to do when a part read on its own thread arrives (true: it was read and is usable).
type AfterLoad = Box<dyn FnOnce(&mut Session, bool)>;

/// A part being read on its own thread (a 2 MB drawing takes seconds).
struct PartLoad {
    rx: Receiver<Result<(String, Parts), JobError>>,
    file: String,
    then: AfterLoad,
}

/// The state of a working session, without any GUI: the job and its part, the generated
/// result and the generation in flight, undo history, the project file and whether it is
/// saved. Every change the app makes goes through it; tests drive it without egui.
pub struct Session {
    pub job: Job,
    pub part_name: String,
    /// The part as read (drawing or mesh).
    pub model: Option<Model>,
    /// The other files of the work (`[part] with`: a board's outline and drill file), as
    /// read with the part.
    pub with_models: Vec<(String, Model)>,
    /// The user asked to add a mesh to engrave onto (the shell opens the file dialog).
    pub surface_request: bool,
    /// Folder the job's part path is relative to (the project's folder).
    pub base_dir: PathBuf,
    /// The project file the job was opened from or saved to.
    pub project_path: Option<PathBuf>,
    /// Changed since the last save (or since start).
    pub dirty: bool,
    /// The result shown, and the generation it came from.
    pub output: Option<Box<JobOutput>>,
    pub output_gen: u64,
    /// Figures of the shown result (moves, arcs, lengths, time, bounds).
    pub summary: Option<swarf_core::toolpath::Stats>,
    /// The latest generation asked for.
    pub generation: u64,
    /// Operations done / total of the generation in flight.
    pub progress: (usize, usize),
    pub error: Option<String>,
    /// The import's warnings (for the user, always shown).
    pub import_warnings: Vec<String>,
    /// The part's holes by diameter ("0.8000 mm x 12, …"), for the drilling panel.
    pub holes_summary: String,
    /// One line per hole group with the tool that fits it (the job's tools, then the
    /// library's), for the part panel.
    pub hole_groups: Vec<String>,
    /// The part's holes by diameter (clicking one in the view selects its group).
    pub holes: Vec<swarf_core::holes::HoleGroup>,
    pub messages: Vec<String>,
    pub selected: usize,
    pub selected_tool: usize,
    pub store: Store,
    pub library: ToolLibrary,
    pub recent: Vec<PathBuf>,
    /// Unsaved work found at start, offered until recovered or discarded.
    pub recovery: Option<Recovery>,
    pub(crate) autosave_due: Option<Instant>,
    /// Undo and redo of the job.
    history: History<Job>,
    worker: Option<Worker>,
    loading: Option<PartLoad>,
    /// A new part or project asks the view to fit it (the shell takes the request).
    pub fit_view: bool,
    /// Operation results by what they depend on: an edit regenerates only what it touches.
    cache: std::sync::Arc<std::sync::Mutex<swarf_core::job::OpCache>>,
    /// Which part the cached results belong to (a new one for every part read).
    model_key: u64,
    /// Called from the worker threads when something arrives (the shell asks for a repaint).
    waker: Option<std::sync::Arc<dyn Fn() + Send + Sync>>,
    pub export_path: String,
    /// An export the check refused, waiting for "Export anyway" or "Cancel".
    pub export_refused: Option<RefusedExport>,
}

impl Session {
    /// The window's title: the project (or "unsaved project"), the part, and `*` while there
    /// are unsaved changes.
    pub fn window_title(&self) -> String {
        let project = self.project_path.as_ref().map_or_else(
            || "unsaved project".to_string(),
            |p| {
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            },
        );
        let part = std::path::Path::new(&self.part_name)
            .file_name()
            .map_or_else(
                || self.part_name.clone(),
                |n| n.to_string_lossy().into_owned(),
            );
        format!(
            "{}{project} ({part}) - Swarf",
            if self.dirty { "*" } else { "" },
        )
    }

    /// The embedded example part with its example job, generation started; nothing kept
    /// between runs.
    pub fn example() -> Self {
        Self::new(Store::none())
    }

    /// The example job, with recent files, the tool library and any autosave from `store`.
    pub fn new(store: Store) -> Self {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).expect("the example job is valid");
        let (library, lib_err) = store.tools();
        let mut app = Self {
            part_name: job.part.file.clone(),
            job,
            model: None,
            with_models: Vec::new(),
            surface_request: false,
            holes_summary: String::new(),
            hole_groups: Vec::new(),
            holes: Vec::new(),
            base_dir: PathBuf::from("."),
            project_path: None,
            dirty: false,
            output: None,
            output_gen: 0,
            summary: None,
            generation: 0,
            progress: (0, 0),
            error: None,
            import_warnings: Vec::new(),
            messages: lib_err.into_iter().collect(),
            selected: 0,
            selected_tool: 0,
            recent: store.recent(),
            recovery: None,
            library,
            store,
            autosave_due: None,
            history: History::default(),
            worker: None,
            loading: None,
            fit_view: false,
            cache: std::sync::Arc::default(),
            model_key: 0,
            waker: None,
            export_path: "swarf.ngc".into(),
            export_refused: None,
        };
        match app.store.autosave() {
            Some(Ok(r)) => app.recovery = Some(r),
            Some(Err(e)) => app.messages.push(e),
            None => {}
        }
        app.reload_part();
        app
    }

    /// Warnings of the part and of the shown result's operations; info messages ("saved …",
    /// "wrote …") are not warnings.
    pub fn warning_count(&self) -> usize {
        self.output.as_ref().map_or(0, |out| {
            out.model.warnings().len()
                + out
                    .operations
                    .iter()
                    .map(|(_, _, r)| r.warnings.len())
                    .sum::<usize>()
        })
    }

    /// How many operation results the cache holds.
    pub fn cached_results(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.len())
    }

    /// `wake` is called from the worker threads whenever a part, progress or a result arrives
    /// (the egui shell passes `request_repaint`, so a finished result shows without waiting
    /// for a mouse move).
    pub fn set_waker(&mut self, wake: std::sync::Arc<dyn Fn() + Send + Sync>) {
        self.waker = Some(wake);
    }

    /// Opens a file by its kind: a project (`.toml`), a drawing (`.dxf`).
    pub fn open(&mut self, path: &Path) {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "toml" => self.open_project(path),
            "dxf" | "stl" | "drl" | "xln" | "exc" | "drd" | "txt" | "gbr" | "ger" | "gtl"
            | "gbl" | "gts" | "gbs" | "gto" | "gbo" | "gko" | "gm1" | "gml" | "cmp" | "sol"
            | "pho" | "art" => self.open_part(path),
            _ => {
                self.error = Some(format!(
                    "cannot open {}: Swarf opens DXF drawings (.dxf), STL meshes (.stl), \
                     Excellon drill files (.drl, .xln, .txt), Gerber layers (.gbr, .gtl, …) \
                     and Swarf projects (.toml)",
                    path.display()
                ));
            }
        }
    }

    /// Opens a part, a DXF drawing or an STL mesh: the current job's operations run on it
    /// (units and layers from the file until the user chooses). Operations that do not fit the
    /// new kind of part are switched off; when none is left, the usual ones for it are added
    /// (pocket and contour for a drawing, z-level roughing and finishing for a mesh).
    pub fn open_part(&mut self, path: &Path) {
        self.abandon_load();
        let before = self.job.clone();
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.job.part.file = abs.to_string_lossy().into_owned();
        self.job.part.units = None;
        self.job.part.layers = None;
        // A board's other files go with it; the operations made for them are switched off.
        self.job.part.with.clear();
        for op in &mut self.job.operations {
            if op.part.take().is_some() {
                op.enabled = false;
            }
        }
        // The program's title is the part's name (the example's title would be wrong).
        self.job.title = path
            .file_stem()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let path = path.to_path_buf();
        self.load_part(Box::new(move |app, ok| {
            if ok {
                app.fit_operations_to_part();
                app.before_change(before, None);
                app.remember(&path);
                app.fit_view = true;
            } else {
                app.job = before;
            }
        }));
    }

    /// Gives up a part still being read (a newer one replaces it): what was to follow runs as
    /// for a part that could not be read, so the job goes back to what it was before.
    fn abandon_load(&mut self) {
        if let Some(l) = self.loading.take() {
            (l.then)(self, false);
        }
    }

    /// Opens a project (job file): everything it holds is restored.
    pub fn open_project(&mut self, path: &Path) {
        self.abandon_load();
        match Job::load(path) {
            Ok(job) => {
                let before = std::mem::replace(&mut self.job, job);
                let base = folder_of(path);
                let old_base = std::mem::replace(&mut self.base_dir, base);
                let path = path.to_path_buf();
                self.load_part(Box::new(move |app, ok| {
                    if ok {
                        app.project_path = Some(path.clone());
                        app.history.clear();
                        app.dirty = false;
                        app.autosave_due = None;
                        app.store.clear_autosave();
                        app.selected = 0;
                        app.selected_tool = 0;
                        app.remember(&path);
                        app.fit_view = true;
                    } else {
                        app.job = before;
                        app.base_dir = old_base;
                    }
                }));
            }
            Err(e) => self.error = Some(format!("cannot open {}: {e}", path.display())),
        }
    }

    /// Saves the job as a project file (atomic write); the part's path is stored relative to
    /// the project when it lies beside or below it.
    pub fn save_project(&mut self, path: &Path) -> Result<(), String> {
        let mut job = self.job.clone();
        self.files_for(&mut job, Some(&folder_of(path)));
        swarf_core::fsio::write_atomic(path, job.to_toml().as_bytes())
            .map_err(|e| format!("cannot save {}: {e}", path.display()))?;
        self.job.part = job.part.clone();
        self.job.operations = job.operations.clone();
        self.base_dir = folder_of(path);
        self.project_path = Some(path.to_path_buf());
        self.dirty = false;
        self.autosave_due = None;
        self.store.clear_autosave();
        self.remember(path);
        self.messages.insert(0, format!("saved {}", path.display()));
        Ok(())
    }

    /// A file of the job (the part or one of `[part] with`), absolute (or the embedded
    /// part's name).
    fn absolute_file(&self, f: &str) -> PathBuf {
        if f.starts_with("embedded:") {
            return PathBuf::from(f);
        }
        let p = self.base_dir.join(f);
        std::path::absolute(&p).unwrap_or(p)
    }

    /// The job's files as a project in `dir` should store them (relative when a file lies
    /// in that folder or below, else absolute), or absolute (`None`, an autosave): the
    /// part, `[part] with` and the operations' `part` names that refer to them.
    fn files_for(&self, job: &mut Job, dir: Option<&Path>) {
        let dir = dir.map(|d| std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf()));
        let place = |f: &str| -> String {
            let abs = self.absolute_file(f);
            match &dir {
                Some(dir) if !f.starts_with("embedded:") => abs.strip_prefix(dir).unwrap_or(&abs),
                _ => &abs,
            }
            .to_string_lossy()
            .into_owned()
        };
        let renamed: Vec<(String, String)> = std::iter::once(&self.job.part.file)
            .chain(&self.job.part.with)
            .map(|f| (f.clone(), place(f)))
            .collect();
        job.part.file.clone_from(&renamed[0].1);
        job.part.with = renamed[1..].iter().map(|(_, n)| n.clone()).collect();
        for op in &mut job.operations {
            if let Some(p) = &mut op.part
                && let Some((_, n)) = renamed.iter().find(|(o, _)| o == p)
            {
                p.clone_from(n);
            }
        }
    }

    fn remember(&mut self, path: &Path) {
        match self.store.add_recent(path) {
            Ok(list) => self.recent = list,
            Err(e) => self.messages.push(e),
        }
    }

    /// Adds the mesh at `path` to the job's files (`[part] with`) and has the selected
    /// engraving or text cut at its depth below that mesh's surface; undoable. A mesh already
    /// among the files is not added twice.
    pub fn add_surface(&mut self, path: &Path) {
        let before = self.job.clone();
        let file = std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .to_string_lossy()
            .into_owned();
        if file != self.job.part.file && !self.job.part.with.contains(&file) {
            self.job.part.with.push(file.clone());
        }
        if let Some(op) = self.job.operations.get_mut(self.selected) {
            match &mut op.spec {
                swarf_core::ops::OpSpec::Engrave(e) => e.onto = Some(file),
                swarf_core::ops::OpSpec::Text(t) => t.onto = Some(file),
                _ => {}
            }
        }
        self.load_part(Box::new(move |app, ok| {
            if ok {
                app.before_change(before, None);
            } else {
                app.job = before;
            }
        }));
    }

    /// Re-imports the part with the job's units and layers, then regenerates (an error is
    /// shown when the part cannot be read).
    pub fn reload_part(&mut self) {
        self.load_part(Box::new(|_, _| {}));
    }

    /// Reads the job's part on its own thread; `then` runs on the UI thread when it arrives
    /// (before the generation starts, so it may still change the job).
    fn load_part(&mut self, then: AfterLoad) {
        let (tx, rx) = channel();
        let job = self.job.clone();
        let base = self.base_dir.clone();
        let waker = self.waker.clone();
        std::thread::spawn(move || {
            let _ = tx.send(job.load_parts(&base));
            if let Some(w) = &waker {
                w();
            }
        });
        self.loading = Some(PartLoad {
            rx,
            file: self.job.part.file.clone(),
            then,
        });
    }

    /// Takes a part that has been read: checks it has something to machine, shows it, runs
    /// what was to follow, regenerates.
    fn part_arrived(&mut self, r: Result<(String, Parts), JobError>, then: AfterLoad) {
        let r = r.map(|(name, parts)| (name, parts.main, parts.with));
        let problem = match &r {
            Err(e) => Some(e.to_string()),
            Ok((name, Model::Drawing(d), _))
                if d.closed_loops.is_empty() && d.open_chains.is_empty() =>
            {
                let why = d
                    .warnings
                    .first()
                    .map_or(String::new(), |w| format!(" ({w})"));
                Some(format!(
                    "{name}: nothing to machine, no closed loops or open chains{}{why}",
                    if self.job.part.layers.is_some() {
                        " on the chosen layers"
                    } else {
                        ""
                    }
                ))
            }
            Ok((name, Model::Mesh(m), _)) if m.mesh.triangles.is_empty() => {
                Some(format!("{name}: the mesh has no triangles"))
            }
            Ok(_) => None,
        };
        match (problem, r) {
            (None, Ok((name, model, with))) => {
                self.part_name = name;
                self.import_warnings = model.warnings().to_vec();
                for (file, m) in &with {
                    self.import_warnings
                        .extend(m.warnings().iter().map(|w| format!("{file}: {w}")));
                }
                // The holes: the part's, or a board's drill file's.
                let holes_in = std::iter::once(&model)
                    .chain(with.iter().map(|(_, m)| m))
                    .filter_map(Model::drawing)
                    .map(|d| swarf_core::holes::find_holes(d, &self.job.tolerance))
                    .find(|g| !g.is_empty());
                let groups = holes_in.unwrap_or_default();
                self.holes_summary = if model.drawing().is_some() {
                    swarf_core::holes::describe(&groups)
                } else {
                    "none (a mesh)".to_string()
                };
                let tools: Vec<swarf_core::tool::Tool> = self
                    .job
                    .tools
                    .iter()
                    .chain(&self.library.tools)
                    .cloned()
                    .collect();
                self.hole_groups = groups
                    .iter()
                    .map(|g| {
                        let fit = match swarf_core::holes::fitting_tools(
                            g,
                            &tools,
                            &self.job.tolerance,
                        ) {
                            (Some(t), _) => format!("drill with {}", t.name),
                            (None, Some(t)) => format!("no drill; helical-bore with {}", t.name),
                            (None, None) => "no tool fits".to_string(),
                        };
                        format!("Ø {:.4} mm × {}: {fit}", g.diameter_mm, g.centres.len())
                    })
                    .collect();
                self.holes = groups;
                self.model = Some(model);
                self.with_models = with;
                self.model_key += 1;
                self.error = None;
                then(self, true);
                self.regenerate();
            }
            (problem, _) => {
                self.error = problem;
                then(self, false);
            }
        }
    }

    /// Height of the mesh part below its top (0 for a drawing).
    pub fn mesh_depth(&self) -> f64 {
        self.model
            .as_ref()
            .and_then(Model::mesh)
            .and_then(swarf_core::geometry::mesh::Mesh::bounds)
            .map_or(0.0, |(lo, hi)| hi[2] - lo[2])
    }

    /// A turned mesh has another height: the mesh operations that cut to the whole old height
    /// cut to the whole new one (depths the user chose otherwise stay).
    fn follow_mesh_depth(&mut self, old_depth: f64) {
        let new_depth = self.mesh_depth();
        for op in &mut self.job.operations {
            if op.spec.needs_mesh() {
                common_params(op, |_, h| {
                    if (h.final_depth_mm - old_depth).abs() < 1e-9 {
                        h.final_depth_mm = new_depth;
                    }
                });
            }
        }
    }

    /// Switches off the operations that do not fit the part; adds the usual ones when none
    /// is left.
    fn fit_operations_to_part(&mut self) {
        let Some(model) = &self.model else { return };
        let mesh = model.mesh().is_some();
        let version = model
            .drawing()
            .and_then(|d| d.version.clone())
            .unwrap_or_default();
        // A drill file is holes only: drilling fits it, milling its circles does not. A
        // Gerber copper layer is isolated; an outline layer is cut out.
        let drill_file = version == "Excellon";
        let layer = model
            .drawing()
            .and_then(swarf_core::import::Drawing::board_layer);
        let copper = layer == Some(swarf_core::import::LayerKind::Copper);
        let outline = layer == Some(swarf_core::import::LayerKind::Outline);
        for op in &mut self.job.operations {
            let drilling = matches!(op.spec, OpSpec::Drill(_) | OpSpec::HelicalBore(_));
            let isolating = matches!(op.spec, OpSpec::Isolate(_));
            let contour = matches!(op.spec, OpSpec::Contour(_));
            if op.spec.needs_mesh() != mesh
                || (drill_file && !drilling)
                || (copper && !isolating)
                || (outline && !contour)
                || (isolating && !copper)
            {
                op.enabled = false;
            }
        }
        if self.job.operations.iter().any(|o| o.enabled) {
            return;
        }
        let n = self.job.operations.len();
        let what = if mesh {
            FileUse::Mesh
        } else if drill_file {
            FileUse::Drill
        } else if copper {
            FileUse::Copper
        } else if outline {
            FileUse::Outline
        } else {
            FileUse::Drawing
        };
        self.add_operations_for(what, None);
        self.selected = n;
    }

    /// Adds the usual operations for a file of the job (`part`: the file's name in `[part]
    /// with`; none for the part): z-level roughing and finishing for a mesh, drilling for a
    /// drill file (with a drill of the job or the library, added to the job), isolation for
    /// a copper layer (a V bit), a cut-out for a board outline (through 1.6 mm with four
    /// tabs, an end mill whose flutes reach), pocket and outline for a drawing.
    fn add_operations_for(&mut self, what: FileUse, part: Option<&str>) {
        use swarf_core::tool::ToolShape;
        if what == FileUse::Drill && self.add_hole_operations(part) {
            return;
        }
        let tool = self.job.tools.first().map_or(1, |t| t.number);
        let depth = if what == FileUse::Mesh {
            self.mesh_depth()
        } else {
            0.0
        };
        let kinds: &[(&str, &str)] = match what {
            FileUse::Mesh => &[("zlevel-rough", "rough"), ("zlevel-contour", "finish")],
            FileUse::Drill => &[("drill", "drill")],
            FileUse::Copper => &[("isolate", "isolate")],
            FileUse::Outline => &[("contour", "cut out")],
            FileUse::Drawing => &[("pocket", "pocket"), ("contour", "outline")],
        };
        let special = match what {
            FileUse::Drill => self.tool_like(|t| matches!(t.shape, ToolShape::Drill { .. })),
            FileUse::Copper => self.tool_like(|t| matches!(t.shape, ToolShape::V { .. })),
            // An end mill whose flutes reach through the board.
            FileUse::Outline => self.tool_like(|t| {
                t.shape == ToolShape::Flat && t.flute_length_mm >= 1.6 && t.diameter_mm >= 0.8
            }),
            FileUse::Mesh | FileUse::Drawing => None,
        };
        for &(kind, name) in kinds {
            let mut op = new_operation(kind, name.into(), special.unwrap_or(tool), depth);
            // A board is cut out through its thickness (1.6 mm) with tabs to hold it.
            if what == FileUse::Outline
                && let OpSpec::Contour(c) = &mut op.spec
            {
                c.cut.heights.final_depth_mm = BOARD_THICKNESS_MM;
                c.cut.stepdown_mm = Some(0.4);
                c.tabs = 4;
                c.tab_width_mm = 2.0;
                c.tab_height_mm = 0.4;
            }
            op.part = part.map(str::to_string);
            self.job.operations.push(op);
        }
    }

    /// A drill file's holes, one operation per size (as the file's tools): drilled with a
    /// drill of that size (the job's or the library's, added to the job), else bored
    /// helically with the largest end mill that fits. False when the file has no holes.
    fn add_hole_operations(&mut self, part: Option<&str>) -> bool {
        let model = match part {
            None => self.model.as_ref(),
            Some(f) => self
                .with_models
                .iter()
                .find(|(n, _)| n == f)
                .map(|(_, m)| m),
        };
        let Some(d) = model.and_then(Model::drawing) else {
            return false;
        };
        let tol = self.job.tolerance;
        let groups = swarf_core::holes::find_holes(d, &tol);
        if groups.is_empty() {
            return false;
        }
        let grouping = tol.hole_diameter_mm;
        // Only tools whose flutes reach through the board (a drill's point below it too).
        let through = BOARD_THICKNESS_MM + BREAKTHROUGH_MM;
        let reaches = |t: &swarf_core::tool::Tool| t.flute_length_mm >= through + t.tip_length_mm();
        for g in &groups {
            let tools: Vec<swarf_core::tool::Tool> = self
                .job
                .tools
                .iter()
                .chain(&self.library.tools)
                .filter(|t| reaches(t))
                .cloned()
                .collect();
            let (drill, mill) = swarf_core::holes::fitting_tools(g, &tools, &tol);
            let (kind, tool, enabled) = match (drill, mill) {
                (Some(t), _) => ("drill", t.clone(), true),
                (None, Some(t)) => ("helical-bore", t.clone(), true),
                // Nothing fits: a drilling, off, that says so (the user adds a tool).
                (None, None) => {
                    let Some(t) = self.job.tools.first().cloned() else {
                        return false;
                    };
                    self.import_warnings.push(format!(
                        "{:.3} mm holes ({}): no drill of that size and no end mill smaller than them whose flutes reach through {BOARD_THICKNESS_MM} mm; their drilling is off until you add one",
                        g.diameter_mm,
                        g.centres.len()
                    ));
                    ("drill", t, false)
                }
            };
            let number = self.tool_like(|t| *t == tool).unwrap_or(tool.number);
            let name = format!("{:.3} mm holes", g.diameter_mm);
            let mut op = new_operation(kind, name, number, 0.0);
            op.enabled = enabled;
            let (lo, hi) = (g.diameter_mm - grouping, g.diameter_mm + grouping);
            // A drill file is a board's: through its 1.6 mm, the drill's full diameter out
            // of the bottom, pecking where the hole is deeper than three diameters.
            match &mut op.spec {
                OpSpec::Drill(p) => {
                    p.diameter_min_mm = lo;
                    p.diameter_max_mm = Some(hi);
                    p.cut.heights.final_depth_mm = BOARD_THICKNESS_MM;
                    p.depth_to = swarf_core::ops::drill::DepthTo::FullDiameter;
                    p.breakthrough_mm = BREAKTHROUGH_MM;
                    if BOARD_THICKNESS_MM > 3.0 * tool.diameter_mm {
                        p.cycle = swarf_core::ops::drill::DrillCycle::Peck;
                    }
                }
                OpSpec::HelicalBore(p) => {
                    p.diameter_min_mm = lo;
                    p.diameter_max_mm = Some(hi);
                    p.cut.heights.final_depth_mm = through;
                }
                _ => {}
            }
            op.part = part.map(str::to_string);
            self.job.operations.push(op);
        }
        true
    }

    /// Opens several files at once: a board's Gerber layers and drill files (or a DXF
    /// outline) as one work (`[part] with`), or one file as [`Session::open`] does. A project
    /// opens on its own.
    pub fn open_files(&mut self, paths: &[PathBuf]) {
        match paths {
            [] => {}
            [one] => self.open(one),
            _ => {
                if let Some(p) = paths.iter().find(|p| {
                    p.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
                }) {
                    self.error = Some(format!(
                        "{} is a project: open it on its own (several files open together as the layers of one board)",
                        p.display()
                    ));
                    return;
                }
                self.open_board(paths);
            }
        }
    }

    /// Opens a board's files together: the copper layer becomes the part and the others
    /// `[part] with`; the job's operations are switched off and the board's added, each on
    /// its file: isolation of the copper, drilling of each drill file, the cut-out of the
    /// outline. Layers that are not cut (a solder mask, a second copper side) are shown and
    /// said.
    pub fn open_board(&mut self, paths: &[PathBuf]) {
        self.abandon_load();
        let before = self.job.clone();
        let abs: Vec<String> = paths
            .iter()
            .map(|p| {
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        self.job.part.file.clone_from(&abs[0]);
        self.job.part.with = abs[1..].to_vec();
        self.job.part.units = None;
        self.job.part.layers = None;
        self.job.title = board_title(paths);
        let paths = paths.to_vec();
        self.load_part(Box::new(move |app, ok| {
            if ok {
                app.arrange_board();
                for op in &mut app.job.operations {
                    op.enabled = false;
                }
                app.fit_board_operations();
                app.before_change(before, None);
                for p in &paths {
                    app.remember(p);
                }
                app.fit_view = true;
            } else {
                app.job = before;
            }
        }));
    }

    /// The copper layer first: it becomes the part (the one a board's files were opened
    /// with may be the outline or the drill file).
    fn arrange_board(&mut self) {
        use swarf_core::import::LayerKind;
        let is_copper = |m: &Model| {
            m.drawing()
                .and_then(swarf_core::import::Drawing::board_layer)
                == Some(LayerKind::Copper)
        };
        if self.model.as_ref().is_some_and(is_copper) {
            return;
        }
        let Some(k) = self.with_models.iter().position(|(_, m)| is_copper(m)) else {
            return;
        };
        let Some(main) = self.model.take() else {
            return;
        };
        let (file, copper) =
            std::mem::replace(&mut self.with_models[k], (self.job.part.file.clone(), main));
        self.job.part.with[k] = std::mem::replace(&mut self.job.part.file, file);
        self.part_name = self
            .absolute_file(&self.job.part.file)
            .display()
            .to_string();
        self.model = Some(copper);
        self.model_key += 1;
    }

    /// A board's operations, one set per file, on that file; the first added is selected.
    fn fit_board_operations(&mut self) {
        use swarf_core::import::LayerKind;
        let n = self.job.operations.len();
        let mut files: Vec<(Option<String>, FileUse)> = Vec::new();
        let mut notes = Vec::new();
        let mut copper_seen = false;
        let all = std::iter::once((None, self.model.as_ref()))
            .chain(
                self.with_models
                    .iter()
                    .map(|(f, m)| (Some(f.clone()), Some(m))),
            )
            .collect::<Vec<_>>();
        for (file, model) in all {
            let Some(model) = model else { continue };
            let name = file.clone().unwrap_or_else(|| self.job.part.file.clone());
            let shown = Path::new(&name)
                .file_name()
                .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
            let Some(d) = model.drawing() else {
                notes.push(format!("{shown}: a mesh is not a board layer; not cut"));
                continue;
            };
            let what = if d.version.as_deref() == Some("Excellon") {
                Some(FileUse::Drill)
            } else {
                match d.board_layer() {
                    Some(LayerKind::Copper) if !copper_seen => {
                        copper_seen = true;
                        Some(FileUse::Copper)
                    }
                    Some(LayerKind::Copper) => {
                        notes.push(format!(
                            "{shown}: a second copper layer is cut after the board is turned over; open it on its own (mirrored) for that side"
                        ));
                        None
                    }
                    Some(LayerKind::Outline) => Some(FileUse::Outline),
                    Some(LayerKind::SolderMask) => {
                        notes.push(format!("{shown}: a solder mask is shown, not cut"));
                        None
                    }
                    // A DXF drawing among Gerbers is the board's outline.
                    None if d.version.as_deref().is_some_and(|v| v.starts_with("AC")) => {
                        Some(FileUse::Outline)
                    }
                    _ => {
                        notes.push(format!(
                            "{shown}: a layer that is not cut (not copper, outline or drill)"
                        ));
                        None
                    }
                }
            };
            if let Some(what) = what {
                files.push((file, what));
            }
        }
        // Isolate, then drill, then cut the board out (it comes loose last).
        files.sort_by_key(|(_, w)| match w {
            FileUse::Copper => 0,
            FileUse::Drill => 1,
            _ => 2,
        });
        for (file, what) in files {
            self.add_operations_for(what, file.as_deref());
        }
        // Said with the import's warnings (the messages are the operations' once they run).
        self.import_warnings.extend(notes);
        self.selected = n.min(self.job.operations.len().saturating_sub(1));
    }

    /// The number of a tool of the job that `like` accepts, or one from the library added to
    /// the job.
    fn tool_like(&mut self, like: impl Fn(&swarf_core::tool::Tool) -> bool) -> Option<u32> {
        if let Some(t) = self.job.tools.iter().find(|t| like(t)) {
            return Some(t.number);
        }
        let mut t = self.library.tools.iter().find(|t| like(t))?.clone();
        t.number = self.job.tools.iter().map(|t| t.number).max().unwrap_or(0) + 1;
        let number = t.number;
        self.job.tools.push(t);
        Some(number)
    }

    /// Takes back the autosaved work offered at start.
    pub fn recover(&mut self) {
        let Some(r) = self.recovery.take() else {
            return;
        };
        self.abandon_load();
        let before = std::mem::replace(&mut self.job, r.job.clone());
        let (old_base, old_project) = (self.base_dir.clone(), self.project_path.clone());
        if let Some(p) = &r.project {
            self.base_dir = folder_of(p);
        }
        self.project_path.clone_from(&r.project);
        self.load_part(Box::new(move |app, ok| {
            if ok {
                app.before_change(before, None);
                // The work is this app's now: its own autosave first, then the old file goes.
                app.autosave_now();
                app.store.remove_recovered(&r);
                app.messages
                    .insert(0, "recovered the unsaved work; save it to keep it".into());
            } else {
                // Its part cannot be read: the autosave stays on disk, offered again.
                app.job = before;
                app.base_dir = old_base;
                app.project_path = old_project;
                app.recovery = Some(r);
            }
        }));
    }

    /// Drops the autosaved work offered at start (and offers the next, if several apps were
    /// lost).
    pub fn discard_recovery(&mut self) {
        if let Some(r) = self.recovery.take() {
            self.store.remove_recovered(&r);
        }
        match self.store.autosave() {
            Some(Ok(r)) => self.recovery = Some(r),
            Some(Err(e)) => self.messages.push(e),
            None => {}
        }
    }

    /// Writes the autosave now if there are unsaved changes.
    pub fn autosave_now(&mut self) {
        self.autosave_due = None;
        if !self.dirty {
            return;
        }
        if let Err(e) = self
            .store
            .write_autosave(&self.job_for_autosave(), self.project_path.as_deref())
        {
            self.messages.insert(0, format!("autosave failed: {e}"));
        }
    }

    fn job_for_autosave(&self) -> Job {
        let mut j = self.job.clone();
        self.files_for(&mut j, None);
        j
    }

    /// Called when the app closes: a clean state leaves no autosave; unsaved work keeps it
    /// (offered at the next start).
    pub fn on_exit(&mut self) {
        if let Some(w) = self.worker.take() {
            w.cancel.cancel();
        }
        if self.dirty {
            self.autosave_now();
        } else {
            self.store.release();
        }
    }

    /// Records the job before a change (undo; `key` coalesces changes of one field into one
    /// step) and schedules the autosave.
    fn before_change(&mut self, before: Job, key: Option<u64>) {
        self.history.record(before, key);
        self.touched();
    }
    fn touched(&mut self) {
        self.dirty = true;
        self.autosave_due = Some(Instant::now() + AUTOSAVE_DELAY);
    }
    pub fn can_undo(&self) -> bool {
        self.history.can_undo()
    }
    pub fn can_redo(&self) -> bool {
        self.history.can_redo()
    }
    pub fn undo(&mut self) {
        self.history_step(true);
    }
    pub fn redo(&mut self) {
        self.history_step(false);
    }
    /// Ends a run of coalesced changes (the user left the field): the next change is a step.
    pub fn seal_history(&mut self) {
        self.history.seal();
    }
    /// One step back (undo) or forward (redo).
    fn history_step(&mut self, back: bool) {
        self.abandon_load();
        let current = self.job.clone();
        let step = if back {
            self.history.undo(current)
        } else {
            self.history.redo(current)
        };
        let Ok(j) = step else { return };
        let part_changed = j.part != self.job.part;
        self.job = j;
        self.touched();
        self.clamp_selection();
        if part_changed {
            self.reload_part();
        } else {
            self.regenerate();
        }
    }
    fn clamp_selection(&mut self) {
        self.selected = self
            .selected
            .min(self.job.operations.len().saturating_sub(1));
        self.selected_tool = self
            .selected_tool
            .min(self.job.tools.len().saturating_sub(1));
    }

    /// Replaces the job with `new` (one undo step) and regenerates.
    /// A hole clicked in the view: the selected drilling or boring operation takes its
    /// diameter (within the grouping tolerance) as its range; otherwise the group is named.
    pub fn pick_hole_group(&mut self, group: usize) {
        let Some(g) = self.holes.get(group) else {
            return;
        };
        let (d, n) = (g.diameter_mm, g.centres.len());
        let tol = self.job.tolerance.hole_diameter_mm;
        let mut job = self.job.clone();
        let range = match job.operations.get_mut(self.selected).map(|o| &mut o.spec) {
            Some(OpSpec::Drill(p)) => Some((&mut p.diameter_min_mm, &mut p.diameter_max_mm)),
            Some(OpSpec::HelicalBore(p)) => Some((&mut p.diameter_min_mm, &mut p.diameter_max_mm)),
            _ => None,
        };
        match range {
            Some((min, max)) => {
                *min = (d - tol).max(0.0);
                *max = Some(d + tol);
                let name = job.operations[self.selected].name.clone();
                self.set_job(job);
                self.messages
                    .push(format!("{name}: the Ø {d:.4} mm holes ({n})"));
            }
            None => self.messages.push(format!(
                "Ø {d:.4} mm holes ({n}): select a Drill or Bore operation (or add one) and \
                 click a hole to choose them"
            )),
        }
    }

    /// Leaves copy `k` of the array out, or puts it back (a click on it in the view).
    pub fn toggle_copy(&mut self, k: u32) {
        let mut job = self.job.clone();
        let Some(a) = job.array.as_mut() else { return };
        if let Some(i) = a.skip.iter().position(|&s| s == k) {
            a.skip.remove(i);
        } else {
            a.skip.push(k);
            a.skip.sort_unstable();
        }
        self.set_job(job);
    }

    pub fn set_job(&mut self, new: Job) {
        self.set_job_coalescing(new, None);
    }

    /// Replaces the job with `new` and regenerates; changes with the same `key` (typing into
    /// one field, one drag) are one undo step.
    pub fn set_job_coalescing(&mut self, new: Job, key: Option<u64>) {
        if new == self.job {
            return;
        }
        let part_changed = new.part != self.job.part;
        if part_changed {
            self.abandon_load();
        }
        let turned = new.part.orientation != self.job.part.orientation;
        let old_depth = self.mesh_depth();
        let before = std::mem::replace(&mut self.job, new);
        self.before_change(before, if part_changed { None } else { key });
        self.clamp_selection();
        if part_changed {
            self.load_part(Box::new(move |app, ok| {
                // The part cannot be read so: keep the error, go back to what worked.
                if !ok && let Some(j) = app.history.drop_last() {
                    app.job = j;
                } else if ok && turned {
                    app.follow_mesh_depth(old_depth);
                }
            }));
        } else {
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
        let mut job = self.job.clone();
        let Some(op) = job.operations.get_mut(i) else {
            return;
        };
        common_params(op, f);
        self.set_job(job);
    }
}
