//! The job (project) file: TOML, versioned. It names the part, the tools, the operations with
//! their parameters and the post settings; [`Job::run_model`] turns it into toolpaths and G-code.
//! Version-1 files (each operation's parameters in a sub-table named after its kind) are
//! migrated when read.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::geometry::mesh::Orientation;
use crate::geometry::{Tolerance, V2};
use crate::import::{ImportError, ImportOptions, Origin, Source, Units, load};
use crate::ops::{Cancel, OpError, OpResult, OpSpec};
use crate::post::{
    Place, PostError, PostOptions, Program, Section, SubBody, write_program_with_subs,
};
use crate::tool::{Tool, ToolError};
use crate::toolpath::Motion;

pub use crate::import::Model;
pub use crate::ops::{Target, target_regions};

/// The job file format version this Swarf writes and reads.
pub const JOB_VERSION: u32 = 2;

/// A job: part, tools, operations, post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Format version; files from a newer Swarf are refused with a message.
    pub version: u32,
    #[serde(default)]
    pub title: String,
    pub part: Part,
    #[serde(default)]
    pub tolerance: Tolerance,
    #[serde(default)]
    pub post: PostOptions,
    /// The machine's motion limits (cycle time) and the cutting checks' settings.
    #[serde(default)]
    pub simulation: crate::sim::SimOptions,
    #[serde(rename = "tool", default)]
    pub tools: Vec<Tool>,
    #[serde(rename = "operation", default)]
    pub operations: Vec<Operation>,
    /// The stock (none: a box around everything cut, with margins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<crate::setup::Stock>,
    /// Copies of the part on one stock (none: the part once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array: Option<crate::array::ArraySpec>,
    /// Write the program from this copy (number, from 1) and operation (index among the
    /// enabled ones) on, everything cut before it left out: a restart after a broken tool.
    /// Not saved with the job.
    #[serde(skip)]
    pub start_at: Option<(u32, usize)>,
    /// The work surface's heights (a probed PCB): every toolpath is levelled by it before it
    /// is checked and written. Not saved with the job (a map belongs to one clamping).
    #[serde(skip)]
    pub height_map: Option<crate::level::HeightMap>,
    /// How the work is probed for a height map (none: the defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<crate::level::ProbeSpec>,
}

/// The part: a drawing (DXF) or mesh (STL) file, relative to the job file, or the embedded
/// example. The format is told from the file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Path relative to the job file, or `embedded:example_plate.dxf`.
    pub file: String,
    #[serde(default)]
    pub units: Option<Units>,
    #[serde(default)]
    pub layers: Option<Vec<String>>,
    /// A mesh's work origin (default: top, XY as in the file).
    #[serde(default)]
    pub origin: Option<Origin>,
    /// A drawing's chain ends closer than this are joined, with a warning (default 1 µm).
    #[serde(default)]
    pub close_gap_mm: Option<f64>,
    /// A mesh's quarter turns before its origin is placed (default: as in the file).
    #[serde(default, skip_serializing_if = "Orientation::is_identity")]
    pub orientation: Orientation,
    /// Scale (a factor, per axis, or to a width), mirror and turn, about the work origin.
    #[serde(default, skip_serializing_if = "crate::resize::Resize::is_identity")]
    pub resize: crate::resize::Resize,
    /// Other files of the same work, in the part's coordinates and read with its size and
    /// unit settings (not its layers): a board's outline Gerber and drill file beside its
    /// copper layer. An operation names the file it works on with `part`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
}

impl Part {
    /// A part read from `file` with the importers' defaults.
    pub fn new(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            units: None,
            layers: None,
            origin: None,
            close_gap_mm: None,
            orientation: Orientation::default(),
            resize: crate::resize::Resize::default(),
            with: Vec::new(),
        }
    }
}

/// One operation: its name, tool, target and the operation itself with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub name: String,
    /// Tool number.
    pub tool: u32,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub target: Target,
    /// The file it works on, as `[part] file` or one of `[part] with` names it (none: the
    /// part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// Coolant for this operation (off, mist, flood); absent: the program's (`[post]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coolant: Option<crate::post::Coolant>,
    #[serde(flatten)]
    pub spec: OpSpec,
}

impl Operation {
    /// The engagement limit an adaptive operation (or a z-level roughing cleared adaptively)
    /// holds, degrees.
    pub fn engagement_limit_deg(&self) -> Option<f64> {
        self.spec.engagement_limit_deg()
    }
}

fn yes() -> bool {
    true
}

/// The files a job works on: the part and the other files `[part] with` names.
#[derive(Debug, Clone)]
pub struct Parts {
    pub main: Model,
    /// `[part] with`, in its order: the name as the job writes it, and what was read.
    pub with: Vec<(String, Model)>,
}

impl From<Model> for Parts {
    fn from(main: Model) -> Self {
        Self {
            main,
            with: Vec::new(),
        }
    }
}

/// Why a job cannot run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job: cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("job: {0}")]
    Parse(String),
    #[error(
        "job: the file has format version {0}, this Swarf reads up to {JOB_VERSION}: update Swarf"
    )]
    Version(u32),
    #[error("job: operation '{op}': {problem}")]
    Operation { op: String, problem: String },
    #[error("job: {0}")]
    Tool(ToolError),
    #[error("job: {0}")]
    Import(ImportError),
    #[error("job: operation '{op}': {error}")]
    Op { op: String, error: OpError },
    #[error("job: {0}")]
    Post(PostError),
    #[error("job: cancelled")]
    Cancelled,
    #[error("job: {0}")]
    Array(crate::array::ArrayError),
    #[error("job: {0}")]
    Stock(crate::setup::StockError),
}

impl From<crate::array::ArrayError> for JobError {
    fn from(e: crate::array::ArrayError) -> Self {
        JobError::Array(e)
    }
}

impl From<ToolError> for JobError {
    fn from(e: ToolError) -> Self {
        JobError::Tool(e)
    }
}

impl From<ImportError> for JobError {
    fn from(e: ImportError) -> Self {
        JobError::Import(e)
    }
}

impl From<PostError> for JobError {
    fn from(e: PostError) -> Self {
        JobError::Post(e)
    }
}

/// What running a job gives.
#[derive(Debug, Clone)]
pub struct JobOutput {
    /// The part.
    pub model: Model,
    /// The other files of the work (`[part] with`): the name as the job writes it, and what
    /// was read.
    pub with: Vec<(String, Model)>,
    /// Per entry of `operations`: the file it worked on (0: the part, k: `with[k - 1]`).
    pub op_part: Vec<usize>,
    /// Per enabled operation: name, tool, result.
    pub operations: Vec<(String, Tool, OpResult)>,
    /// Results that differ from copy to copy (a serial number per copy): index into
    /// `operations`, copy number, that copy's result (in the part's place, before the copy
    /// is moved). Copies not listed cut the operation's own result.
    pub per_copy: Vec<(usize, u32, OpResult)>,
    pub program: Program,
    /// Per entry of `operations`: whether the gouge check against the part applies to it.
    pub gouge_checked: Vec<bool>,
    /// The job's tolerance, which the checks of the output use.
    pub tolerance: Tolerance,
    /// Where each copy of the part goes (one, the part as drawn, without an array). The
    /// operations above are copy 1's; the program has every enabled copy.
    pub copies: Vec<crate::array::Placement>,
    /// Where the stock is (the job's, or the default box); `None` when nothing is cut.
    pub stock: Option<crate::setup::StockShape>,
    /// The height map the toolpaths were levelled by.
    pub height_map: Option<crate::level::HeightMap>,
}

/// Operation results kept by a hash of everything they depend on (see
/// [`Job::run_model_cached`]); the oldest go when more than `capacity` are kept.
#[derive(Debug)]
pub struct OpCache {
    entries: std::collections::HashMap<u64, OpResult>,
    order: std::collections::VecDeque<u64>,
    capacity: usize,
}

impl JobOutput {
    /// The part and the other files of the work.
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        std::iter::once(&self.model).chain(self.with.iter().map(|(_, m)| m))
    }

    /// Where the job cuts: the XY extent of every move below Z = 0, over every copy cut (the
    /// area to probe for a height map).
    pub fn cut_area(&self) -> crate::geometry::Bbox2 {
        let mut cut = crate::geometry::Bbox2::EMPTY;
        for (_, _, r) in &self.operations {
            let mut from = r.toolpath.start;
            for m in &r.toolpath.moves {
                if m.to.z < 0.0 || from.z < 0.0 {
                    cut.add_point(from.xy());
                    cut.add_point(m.to.xy());
                }
                from = m.to;
            }
        }
        if cut.is_empty() {
            return cut;
        }
        let mut all = crate::geometry::Bbox2::EMPTY;
        for c in self.copies.iter().filter(|c| c.enabled) {
            for p in c.corners(cut) {
                all.add_point(p);
            }
        }
        all
    }

    /// The whole program's figures: every enabled copy of every operation (one copy without
    /// an array). Copies have their operations' figures; only the bounds move.
    pub fn program_stats(&self, rapid_mm_per_min: f64) -> Option<crate::toolpath::Stats> {
        use crate::array::Placement;
        use crate::toolpath::P3;
        let per_op: Vec<crate::toolpath::Stats> = self
            .operations
            .iter()
            .map(|(_, _, r)| r.toolpath.stats(rapid_mm_per_min))
            .collect();
        let one = [Placement::ORIGINAL];
        let copies: &[Placement] = if self.copies.is_empty() {
            &one
        } else {
            &self.copies
        };
        let mut total: Option<crate::toolpath::Stats> = None;
        for c in copies.iter().filter(|c| c.enabled) {
            for st in &per_op {
                let mut st = *st;
                if *c != Placement::ORIGINAL && st.moves > 0 {
                    let (lo, hi) = (st.bounds_min, st.bounds_max);
                    let mut b = crate::geometry::Bbox2::EMPTY;
                    for corner in c.corners(crate::geometry::Bbox2 {
                        min: lo.xy(),
                        max: hi.xy(),
                    }) {
                        b.add_point(corner);
                    }
                    st.bounds_min = P3::new(b.min.x, b.min.y, lo.z);
                    st.bounds_max = P3::new(b.max.x, b.max.y, hi.z);
                }
                total = Some(match total {
                    Some(t) => t.merge(st),
                    None => st,
                });
            }
        }
        total
    }
}

impl Default for OpCache {
    fn default() -> Self {
        Self::with_capacity(64)
    }
}

impl OpCache {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: std::collections::HashMap::new(),
            order: std::collections::VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// The key of an operation's result: the part (`model_key`), the operation with its
    /// target, its tool and the tolerance, as written in a job file.
    pub fn key(model_key: u64, op: &Operation, tool: &Tool, tol: &Tolerance) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        model_key.hash(&mut h);
        // Everything but the name, the switch and the coolant, which do not change the result.
        let what = Operation {
            name: String::new(),
            enabled: true,
            coolant: None,
            ..op.clone()
        };
        toml::to_string(&what).unwrap_or_default().hash(&mut h);
        toml::to_string(tool).unwrap_or_default().hash(&mut h);
        toml::to_string(tol).unwrap_or_default().hash(&mut h);
        h.finish()
    }

    pub fn get(&self, key: u64) -> Option<OpResult> {
        self.entries.get(&key).cloned()
    }

    pub fn put(&mut self, key: u64, res: OpResult) {
        if self.entries.insert(key, res).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Version 1 kept each operation's parameters in a sub-table named after its kind
/// (`[operation.pocket]`); version 2 has them in the operation's own table. Moves them up.
fn migrate_v1(doc: &mut toml::Table) -> Result<(), JobError> {
    // Version 2 from here on, whatever else the file holds (found by fuzzing: a version-1 file
    // without operations kept its version and saved as version 1, then read back as 2).
    doc.insert(
        "version".into(),
        toml::Value::Integer(i64::from(JOB_VERSION)),
    );
    let Some(toml::Value::Array(ops)) = doc.get_mut("operation") else {
        return Ok(());
    };
    for op in ops {
        let Some(t) = op.as_table_mut() else { continue };
        let name = t
            .get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or("?")
            .to_string();
        let kind = t
            .get("type")
            .and_then(toml::Value::as_str)
            .unwrap_or("")
            .to_string();
        for table in ["pocket", "contour", "adaptive", "zlevel"] {
            let Some(v) = t.remove(table) else { continue };
            let fits = if table == "zlevel" {
                kind.starts_with("zlevel")
            } else {
                kind == table
            };
            if !fits {
                return Err(JobError::Operation {
                    op: name,
                    problem: format!("is a {kind} but has [operation.{table}] settings"),
                });
            }
            let toml::Value::Table(params) = v else {
                return Err(JobError::Operation {
                    op: name,
                    problem: format!("[operation.{table}] must be a table"),
                });
            };
            for (k, v) in params {
                if t.contains_key(&k) {
                    return Err(JobError::Operation {
                        op: name,
                        problem: format!("'{k}' is given twice"),
                    });
                }
                t.insert(k, v);
            }
        }
        // Version 1 had `open_chains` on every operation; only a contour uses it.
        if kind != "contour" {
            t.remove("open_chains");
        }
    }
    doc.insert(
        "version".into(),
        toml::Value::Integer(i64::from(JOB_VERSION)),
    );
    Ok(())
}

/// Fills each operation's missing parameters with its type's defaults (a contour's entry is a
/// ramp, a z-level's step-down 0.1 mm), since the shared parameters are one struct whose own
/// defaults cannot know the operation.
fn fill_defaults(doc: &mut toml::Table) {
    let Some(toml::Value::Array(ops)) = doc.get_mut("operation") else {
        return;
    };
    for op in ops {
        let Some(t) = op.as_table_mut() else { continue };
        let Some(spec) = t
            .get("type")
            .and_then(toml::Value::as_str)
            .and_then(OpSpec::default_of)
        else {
            continue;
        };
        if let Ok(toml::Value::Table(d)) = toml::Value::try_from(spec) {
            for (k, v) in d {
                t.entry(k).or_insert(v);
            }
        }
    }
}

/// The first key of `given` that `known` (the same document written back) lacks: a misspelt
/// or unknown setting, which must not be dropped silently.
fn unknown_key(given: &toml::Value, known: &toml::Value, path: &str) -> Option<String> {
    match (given, known) {
        (toml::Value::Table(g), toml::Value::Table(k)) => g.iter().find_map(|(key, v)| {
            let p = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match k.get(key) {
                None => Some(p),
                Some(kv) => unknown_key(v, kv, &p),
            }
        }),
        (toml::Value::Array(g), toml::Value::Array(k)) => g
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (gv, kv))| unknown_key(gv, kv, &format!("{path}[{}]", i + 1))),
        _ => None,
    }
}

impl Job {
    pub fn from_toml(text: &str) -> Result<Self, JobError> {
        let mut doc: toml::Table =
            toml::from_str(text).map_err(|e| JobError::Parse(e.to_string()))?;
        // Check the version first so a newer file gets the right message, not a field error.
        match doc.get("version").map(toml::Value::as_integer) {
            None => {
                return Err(JobError::Parse(format!(
                    "missing 'version = {JOB_VERSION}' at the top"
                )));
            }
            Some(None) => return Err(JobError::Parse("'version' must be a whole number".into())),
            Some(Some(n)) if n > i64::from(JOB_VERSION) => {
                return Err(JobError::Version(u32::try_from(n).unwrap_or(u32::MAX)));
            }
            Some(Some(n)) if n < 1 => {
                return Err(JobError::Parse(format!(
                    "version {n} is not a Swarf job version"
                )));
            }
            Some(Some(1)) => migrate_v1(&mut doc)?,
            Some(Some(_)) => {}
        }
        fill_defaults(&mut doc);
        let given = toml::Value::Table(doc.clone());
        let job: Job = toml::Value::Table(doc)
            .try_into()
            .map_err(|e: toml::de::Error| JobError::Parse(e.to_string()))?;
        if let Ok(known) = toml::Value::try_from(&job)
            && let Some(key) = unknown_key(&given, &known, "")
        {
            return Err(JobError::Parse(format!(
                "unknown setting '{key}': check its spelling against the example job"
            )));
        }
        job.validate()?;
        Ok(job)
    }
    pub fn load(path: &Path) -> Result<Self, JobError> {
        let text = std::fs::read_to_string(path).map_err(|error| JobError::Io {
            path: path.display().to_string(),
            error,
        })?;
        Self::from_toml(&text)
    }
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a job serialises")
    }

    fn validate(&self) -> Result<(), JobError> {
        self.tolerance.validate().map_err(JobError::Parse)?;
        for t in &self.tools {
            t.validate()?;
        }
        for (i, f) in self.part.with.iter().enumerate() {
            if f.trim().is_empty() || f.starts_with("embedded:") {
                return Err(JobError::Parse(format!(
                    "[part] with: entry {} must be a file path",
                    i + 1
                )));
            }
        }
        for op in &self.operations {
            self.part_index(op)?;
            if !self.tools.iter().any(|t| t.number == op.tool) {
                return Err(JobError::Operation {
                    op: op.name.clone(),
                    problem: format!(
                        "uses tool {} but the job has no [[tool]] with number = {}",
                        op.tool, op.tool
                    ),
                });
            }
        }
        Ok(())
    }

    /// How the part is read: the job's units, layers, origin and gap, and its tolerance.
    pub fn import_options(&self) -> ImportOptions {
        let d = ImportOptions::default();
        ImportOptions {
            units: self.part.units,
            layers: self.part.layers.clone(),
            close_gap_mm: self.part.close_gap_mm.unwrap_or(d.close_gap_mm),
            origin: self.part.origin.unwrap_or(d.origin),
            orientation: self.part.orientation,
            resize: self.part.resize,
            tolerance: self.tolerance,
        }
    }

    /// Reads the part: the embedded example, or a file relative to `base_dir` (DXF or STL,
    /// told by its content), with the job's import options.
    pub fn load_model(&self, base_dir: &Path) -> Result<(String, Model), JobError> {
        let opts = self.import_options();
        if let Some(name) = self.part.file.strip_prefix("embedded:") {
            if name != crate::EXAMPLE_DXF_NAME {
                return Err(JobError::Parse(format!(
                    "no embedded part '{name}'; the embedded part is {}",
                    crate::EXAMPLE_DXF_NAME
                )));
            }
            let src = Source::Bytes {
                name,
                bytes: crate::EXAMPLE_DXF.as_bytes(),
            };
            return Ok((self.part.file.clone(), load(src, &opts)?));
        }
        let path: PathBuf = base_dir.join(&self.part.file);
        let name = path.display().to_string();
        Ok((name, load(Source::Path(&path), &opts)?))
    }

    /// Reads the part ([`Job::load_model`]) and the other files of the work (`[part]
    /// with`, relative to `base_dir`, read with the part's options but all their layers).
    pub fn load_parts(&self, base_dir: &Path) -> Result<(String, Parts), JobError> {
        let (name, main) = self.load_model(base_dir)?;
        let opts = ImportOptions {
            layers: None,
            ..self.import_options()
        };
        let mut with = Vec::with_capacity(self.part.with.len());
        for f in &self.part.with {
            let model = load(Source::Path(&base_dir.join(f)), &opts)?;
            with.push((f.clone(), model));
        }
        Ok((name, Parts { main, with }))
    }

    /// Which file an operation works on: 0 for the part, k for `[part] with`'s k-th.
    pub fn part_index(&self, op: &Operation) -> Result<usize, JobError> {
        match op.part.as_deref() {
            None => Ok(0),
            Some(f) => self.file_index(op, f, "works on"),
        }
    }

    /// The file whose surface an operation engraves onto (`onto`): 0 for the part, k for
    /// `[part] with`'s k-th; `None` for a flat operation.
    pub fn onto_index(&self, op: &Operation) -> Result<Option<usize>, JobError> {
        op.spec
            .onto()
            .map(|f| self.file_index(op, f, "engraves onto"))
            .transpose()
    }

    /// The index of the file the job names `f`, for `op`'s error (`what` it does with it).
    fn file_index(&self, op: &Operation, f: &str, what: &str) -> Result<usize, JobError> {
        if f == self.part.file {
            return Ok(0);
        }
        match self.part.with.iter().position(|w| w == f) {
            Some(k) => Ok(k + 1),
            None => Err(JobError::Operation {
                op: op.name.clone(),
                problem: format!(
                    "{what} '{f}', which is neither the part ('{}') nor in [part] with: add it there or name the part",
                    self.part.file
                ),
            }),
        }
    }

    /// Reads the part and the other files and generates every enabled operation:
    /// [`Job::load_parts`] then [`Job::run_model`], without progress.
    pub fn run(&self, base_dir: &Path) -> Result<JobOutput, JobError> {
        let (_, parts) = self.load_parts(base_dir)?;
        self.run_model(parts, &mut |_, _| true, &Cancel::NEVER)
    }

    /// The tool an operation uses (validated when the job was read).
    pub fn tool_of(&self, op: &Operation) -> Result<&Tool, JobError> {
        self.tools
            .iter()
            .find(|t| t.number == op.tool)
            .ok_or_else(|| JobError::Operation {
                op: op.name.clone(),
                problem: format!("uses tool {} but the job has no such tool", op.tool),
            })
    }

    /// Generates every enabled operation on the part and writes one program, telling
    /// `progress(done, total)` before each enabled operation and once when all are done; when
    /// it returns false, or when `cancel` is cancelled (the operations look at it inside too),
    /// the run stops with [`JobError::Cancelled`].
    pub fn run_model(
        &self,
        parts: impl Into<Parts>,
        progress: &mut dyn FnMut(usize, usize) -> bool,
        cancel: &Cancel,
    ) -> Result<JobOutput, JobError> {
        self.run_model_cached(parts, None, progress, cancel)
    }

    /// [`Job::run_model`] that takes each operation's result from `cache` when nothing it
    /// depends on changed (the part, given as `model_key`, the operation, its target, its
    /// tool, the tolerance), and keeps new results there: an edit regenerates only the
    /// operations it touches, a change of the post settings only re-posts, and an undo finds
    /// its results again.
    pub fn run_model_cached(
        &self,
        parts: impl Into<Parts>,
        cache: Option<(&std::sync::Mutex<OpCache>, u64)>,
        progress: &mut dyn FnMut(usize, usize) -> bool,
        cancel: &Cancel,
    ) -> Result<JobOutput, JobError> {
        let Parts { main: model, with } = parts.into();
        let tol = self.tolerance;
        let mut results = Vec::new();
        let mut gouge_checked = Vec::new();
        let mut op_part = Vec::new();
        let total = self.operations.iter().filter(|o| o.enabled).count();
        for op in self.operations.iter().filter(|o| o.enabled) {
            if !progress(results.len(), total) || cancel.requested() {
                return Err(JobError::Cancelled);
            }
            let tool = self.tool_of(op)?.clone();
            let which = self.part_index(op)?;
            let on = match which {
                0 => &model,
                k => match with.get(k - 1) {
                    Some((_, m)) => m,
                    None => {
                        return Err(JobError::Operation {
                            op: op.name.clone(),
                            problem: format!(
                                "works on '{}', which was not read with the part",
                                op.part.as_deref().unwrap_or_default()
                            ),
                        });
                    }
                },
            };
            let surface = match self.onto_index(op)? {
                None => None,
                Some(k) => {
                    let m = if k == 0 {
                        Some(&model)
                    } else {
                        with.get(k - 1).map(|(_, m)| m)
                    };
                    match m {
                        Some(Model::Mesh(m)) => Some(&m.mesh),
                        Some(Model::Drawing(_)) => {
                            return Err(JobError::Operation {
                                op: op.name.clone(),
                                problem: format!(
                                    "engraves onto '{}', which is a drawing: give the mesh (STL) of the surface",
                                    op.spec.onto().unwrap_or_default()
                                ),
                            });
                        }
                        None => {
                            return Err(JobError::Operation {
                                op: op.name.clone(),
                                problem: format!(
                                    "engraves onto '{}', which was not read with the part",
                                    op.spec.onto().unwrap_or_default()
                                ),
                            });
                        }
                    }
                }
            };
            // Drilling and boring start where the operation before ended.
            let from = op
                .spec
                .starts_where_the_last_ended()
                .then(|| {
                    results
                        .last()
                        .map(|(_, _, r): &(String, Tool, OpResult)| r.toolpath.end().xy())
                })
                .flatten();
            let key = cache.map(|(_, model_key)| {
                let mut k = OpCache::key(model_key, op, &tool, &tol);
                if let Some(f) = from {
                    k ^= (f.x.to_bits().rotate_left(17) ^ f.y.to_bits())
                        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
                }
                k
            });
            let cached = cache
                .zip(key)
                .and_then(|((c, _), k)| c.lock().ok().and_then(|c| c.get(k)));
            let res = if let Some(res) = cached {
                res
            } else {
                let mut res = op
                    .spec
                    .run_from(on, op.target, &tool, from, surface, &tol, cancel)
                    .map_err(|e| op_error(op, e))?;
                if res.toolpath.moves.is_empty() {
                    res.warnings.push(
                        "produced no moves: nothing is written for it (no tool change, no \
                             spindle start); the warnings above say why"
                            .into(),
                    );
                }
                if let (Some((c, _)), Some(k)) = (cache, key)
                    && let Ok(mut c) = c.lock()
                {
                    c.put(k, res.clone());
                }
                res
            };
            results.push((op.name.clone(), tool, res));
            gouge_checked.push(op.spec.checks_gouges());
            op_part.push(which);
        }
        if !progress(total, total) {
            return Err(JobError::Cancelled);
        }
        if let Some(map) = &self.height_map {
            self.level_results(map, &mut results)?;
        }
        // The part's box and the box its cuts sweep: both the array and the stock need them.
        let models: Vec<&Model> = std::iter::once(&model)
            .chain(with.iter().map(|(_, m)| m))
            .collect();
        let (part, cuts) = part_and_cuts(&models, &results);
        let copies = self.copies(part, cuts)?;
        let stock = self.stock_of(&models, &results, (part, cuts), &copies)?;
        let per_copy = self.serials(&models, &mut results, &copies, cancel)?;
        let program = self.post_full(&results, &copies, stock.as_ref(), &per_copy)?;
        Ok(JobOutput {
            model,
            with,
            op_part,
            operations: results,
            per_copy,
            program,
            gouge_checked,
            tolerance: tol,
            copies,
            stock,
            height_map: self.height_map.clone(),
        })
    }

    /// The texts whose serial number goes up from copy to copy: each enabled copy after the
    /// first (in copy order) gets the text with the next number, and the operation's notes
    /// list them. A text whose copies all carry one number, or a single copy, needs none.
    fn serials(
        &self,
        models: &[&Model],
        results: &mut [(String, Tool, OpResult)],
        copies: &[crate::array::Placement],
        cancel: &Cancel,
    ) -> Result<Vec<(usize, u32, OpResult)>, JobError> {
        let mut numbered: Vec<u32> = copies
            .iter()
            .filter(|c| c.enabled)
            .map(|c| c.number)
            .collect();
        numbered.sort_unstable();
        let mut out = Vec::new();
        if numbered.len() < 2 {
            return Ok(out);
        }
        for (i, op) in self.operations.iter().filter(|o| o.enabled).enumerate() {
            let OpSpec::Text(t) = &op.spec else { continue };
            if !t.per_copy || !t.has_counter() {
                continue;
            }
            let Some((_, tool, _)) = results.get(i) else {
                continue;
            };
            let tool = tool.clone();
            let on = models.get(self.part_index(op)?).copied();
            let surface = match self.onto_index(op)?.and_then(|k| models.get(k)) {
                Some(Model::Mesh(m)) => Some(&m.mesh),
                _ => None,
            };
            let Some(on) = on else { continue };
            let mut said = vec![format!(
                "copy {} \"{}\"",
                numbered[0],
                crate::text::with_counter(&t.text, t.counter)
            )];
            for (k, &copy) in numbered.iter().enumerate().skip(1) {
                let n = t.counter.saturating_add(k as u64);
                let mut spec = t.clone();
                spec.counter = n;
                let r = OpSpec::Text(spec)
                    .run_from(on, op.target, &tool, None, surface, &self.tolerance, cancel)
                    .map_err(|e| op_error(op, e))?;
                if said.len() < 4 || k + 1 == numbered.len() {
                    said.push(format!(
                        "copy {copy} \"{}\"",
                        crate::text::with_counter(&t.text, n)
                    ));
                } else if said.len() == 4 {
                    said.push("…".into());
                }
                out.push((i, copy, r));
            }
            results[i].2.notes.push(format!(
                "a serial number per copy ({} copies, {} to {}): {}; the next program starts at {}",
                numbered.len(),
                t.counter,
                t.counter.saturating_add(numbered.len() as u64 - 1),
                said.join(", "),
                t.counter.saturating_add(numbered.len() as u64)
            ));
        }
        Ok(out)
    }

    /// Every operation's toolpath levelled by the height map, with what it did in the notes.
    fn level_results(
        &self,
        map: &crate::level::HeightMap,
        results: &mut [(String, Tool, OpResult)],
    ) -> Result<(), JobError> {
        map.validate().map_err(|e| JobError::Parse(e.to_string()))?;
        if self.array.as_ref().is_some_and(|a| a.count() > 1) {
            return Err(JobError::Parse(
                "a height map levels one board; an array of copies is not levelled (probe and cut each board on its own)".into(),
            ));
        }
        let tol = self.tolerance;
        for (name, _, r) in results.iter_mut() {
            if r.toolpath.moves.is_empty() {
                continue;
            }
            let (tp, rep) = crate::level::level(&r.toolpath, map, &tol);
            r.toolpath = tp;
            r.notes.push(format!(
                "levelled: {} moves became {} ({} arcs kept as arcs, {} split), within {:.3} µm of the surface",
                rep.moves_in,
                rep.moves_out,
                rep.arcs_kept,
                rep.arcs_split,
                rep.max_error_mm * 1000.0
            ));
            if rep.outside_mm > tol.path_mm {
                r.warnings.push(format!(
                    "{name}: cuts reach {:.3} mm outside the probed area, where the edge's height is used; probe an area that covers the whole cut",
                    rep.outside_mm
                ));
            }
            if rep.max_error_mm > tol.path_mm {
                r.warnings.push(format!(
                    "{name}: the levelled path is up to {:.3} µm off the surface (arcs too short to split further)",
                    rep.max_error_mm * 1000.0
                ));
            }
        }
        Ok(())
    }

    /// Where the stock is: the job's, or a box around every copy (left-out ones too) and
    /// everything cut, grown by one and a half of the largest tool's diameter (room for a
    /// contour around the part).
    /// A copy whose part does not lie on the job's stock is refused with the distance. `None`
    /// when nothing is cut and no stock is given.
    fn stock_of(
        &self,
        models: &[&Model],
        results: &[(String, Tool, OpResult)],
        (part, cuts): (crate::geometry::Bbox2, crate::geometry::Bbox2),
        copies: &[crate::array::Placement],
    ) -> Result<Option<crate::setup::StockShape>, JobError> {
        use crate::setup::Stock;
        // Every copy's place, left-out ones too: leaving a copy out (over a flaw) does not
        // make the plate smaller.
        let mut extent = crate::geometry::Bbox2::EMPTY;
        for c in copies {
            for b in [part, cuts] {
                if !b.is_empty() {
                    for p in c.corners(b) {
                        extent.add_point(p);
                    }
                }
            }
        }
        let deepest = results
            .iter()
            .flat_map(|(_, _, r)| r.toolpath.moves.iter().map(|m| m.to.z))
            .fold(0.0f64, f64::min);
        let part_bottom = models
            .iter()
            .filter_map(|m| m.mesh().and_then(crate::geometry::mesh::Mesh::bounds))
            .map(|(lo, _)| lo[2])
            .reduce(f64::min);
        let given = self.stock.is_some();
        let stock = self.stock.unwrap_or(Stock::Margins {
            margin_mm: 1.5
                * results
                    .iter()
                    .map(|(_, t, _)| t.diameter_mm)
                    .fold(0.0, f64::max),
            top_mm: 0.0,
            bottom_mm: None,
        });
        if !given && (extent.is_empty() || cuts.is_empty()) {
            return Ok(None);
        }
        let shape = stock
            .resolve(extent, deepest, part_bottom)
            .map_err(JobError::Stock)?;
        if given && !part.is_empty() {
            let outline: Vec<_> = models
                .iter()
                .flat_map(|m| crate::setup::outline_of(m))
                .collect();
            for c in copies.iter().filter(|c| c.enabled) {
                let placed: Vec<_> = outline.iter().map(|p| c.outline_piece(p)).collect();
                let out = shape.outside_by_outline(&placed);
                if out > 1e-9 {
                    let who = if copies.len() > 1 {
                        format!("copy {}'s part", c.number)
                    } else {
                        "the part".to_string()
                    };
                    return Err(JobError::Stock(crate::setup::StockError(format!(
                        "{who} lies {out:.4} mm outside the stock: make the stock larger, move the work origin{}",
                        if copies.len() > 1 {
                            ", make the pitch smaller or leave the copy out"
                        } else {
                            ""
                        }
                    ))));
                }
            }
        }
        Ok(Some(shape))
    }

    /// Where the array's copies go, refused where one copy's cuts reach into another; the
    /// part once without an array.
    fn copies(
        &self,
        part: crate::geometry::Bbox2,
        cuts: crate::geometry::Bbox2,
    ) -> Result<Vec<crate::array::Placement>, JobError> {
        use crate::array::Placement;
        let Some(spec) = self.array.as_ref().filter(|a| !a.is_single()) else {
            return Ok(vec![Placement::ORIGINAL]);
        };
        let placements = spec.placements(part)?;
        spec.check_overlap(&placements, part, cuts)?;
        Ok(placements)
    }

    /// Writes the program of generated operations with the job's post settings (the title
    /// from the job when the post has none of its own), for the part once.
    pub fn post_sections(&self, results: &[(String, Tool, OpResult)]) -> Result<Program, JobError> {
        self.post_copies(results, &[crate::array::Placement::ORIGINAL])
    }

    /// The program's sections in the order they are cut: (index into `results`, copy), from
    /// the restart point when there is one (with the header line that says so).
    #[allow(clippy::type_complexity)]
    pub fn sequence(
        &self,
        results: &[(String, Tool, OpResult)],
        copies: &[crate::array::Placement],
    ) -> Result<(Vec<(usize, crate::array::Placement)>, Option<String>), JobError> {
        use crate::array::{Placement, sequence};
        let spec = self.array.clone().unwrap_or_default();
        let single = copies.len() <= 1 && copies.first().is_none_or(|c| *c == Placement::ORIGINAL);
        let visit = spec.visit_order(copies);
        let mut seq: Vec<(usize, Placement)> = if single {
            (0..results.len())
                .map(|i| (i, Placement::ORIGINAL))
                .collect()
        } else {
            sequence(&spec, results.len(), &visit)
        };
        let mut restart_note = None;
        if let Some((copy, op)) = self.start_at {
            let Some(at) = seq.iter().position(|(o, c)| *o == op && c.number == copy) else {
                let cut: Vec<String> = visit.iter().map(|c| c.number.to_string()).collect();
                return Err(JobError::Array(crate::array::ArrayError::Invalid(format!(
                    "no operation {} on copy {copy} to start at: there are {} operations and the copies cut are {}",
                    op + 1,
                    results.len(),
                    cut.join(" ")
                ))));
            };
            restart_note = Some(format!(
                "RESTART: from copy {copy}, operation {} ({}); the {at} section(s) before it are left out",
                op + 1,
                results[op].0
            ));
            seq.drain(..at);
        }
        Ok((seq, restart_note))
    }

    /// Writes the program for every enabled copy in `copies`, in the array's order and form.
    /// Each section is named with its copy (`(op 7: pocket [copy 3])`), so a run can restart
    /// at any copy and operation. The program's line sources name the operation (of
    /// `results`), whatever the copy.
    pub fn post_copies(
        &self,
        results: &[(String, Tool, OpResult)],
        copies: &[crate::array::Placement],
    ) -> Result<Program, JobError> {
        self.post_full(results, copies, None, &[])
    }

    /// [`Job::post_copies`], with the job's stock (when it gives one) said in the header,
    /// and the results that differ per copy (`per_copy`, see [`JobOutput::per_copy`]) in
    /// their copies' place.
    pub fn post_full(
        &self,
        results: &[(String, Tool, OpResult)],
        copies: &[crate::array::Placement],
        stock: Option<&crate::setup::StockShape>,
        per_copy: &[(usize, u32, OpResult)],
    ) -> Result<Program, JobError> {
        use crate::array::{CopiesAs, Placement};
        let spec = self.array.clone().unwrap_or_default();
        let single = copies.len() <= 1 && copies.first().is_none_or(|c| *c == Placement::ORIGINAL);
        let (seq, restart_note) = self.sequence(results, copies)?;
        let offsets = !single && spec.copies_as == CopiesAs::Offsets;
        let subs = !single && spec.copies_as == CopiesAs::Subroutines;
        let codes = self.work_offset_codes();
        if subs {
            if self.post.dialect != crate::post::Dialect::LinuxCnc {
                return Err(JobError::Array(crate::array::ArrayError::Invalid(format!(
                    "subroutines are written for LinuxCNC (O-word subroutines with the copy's offset as parameters); {} gets the copies expanded or in work offsets (Fanuc's M98 would need a G52 offset that an abort leaves set)",
                    self.post.dialect.spec().name
                ))));
            }
            if let Some(c) = copies.iter().find(|c| !c.is_translation()) {
                return Err(JobError::Array(crate::array::ArrayError::Invalid(format!(
                    "copy {} is turned: the subroutines only move (write a polar array expanded)",
                    c.number
                ))));
            }
        }
        if subs && let Some((op, _, _)) = per_copy.first() {
            return Err(JobError::Array(crate::array::ArrayError::Invalid(format!(
                "'{}' carries a serial number per copy, and a subroutine is the same motion for every copy: write the copies expanded or in work offsets, or give every copy the same number",
                results[*op].0
            ))));
        }
        let own = |op: usize, copy: u32| {
            per_copy
                .iter()
                .find(|(o, c, _)| *o == op && *c == copy)
                .map(|(_, _, r)| &r.toolpath)
        };
        if offsets {
            if let Some(c) = copies.iter().find(|c| !c.is_translation()) {
                return Err(JobError::Array(crate::array::ArrayError::Invalid(format!(
                    "copy {} is turned: work offsets only move (write a polar array expanded)",
                    c.number
                ))));
            }
            if let Some(c) = copies
                .iter()
                .find(|c| c.enabled && c.number as usize > codes.len())
            {
                return Err(JobError::Array(crate::array::ArrayError::Invalid(format!(
                    "copy {} needs work offset number {}, but {} has {} from {} ({}): write the copies expanded, or fewer copies",
                    c.number,
                    c.number,
                    self.post.dialect.spec().name,
                    codes.len(),
                    codes[0],
                    codes.join(" ")
                ))));
            }
        }
        let moved: Vec<Option<crate::toolpath::Toolpath>> = seq
            .iter()
            .map(|(op, c)| {
                let tp = own(*op, c.number).unwrap_or(&results[*op].2.toolpath);
                (!single && !offsets && !subs).then(|| c.toolpath(tp))
            })
            .collect();
        let names: Vec<String> = seq
            .iter()
            .map(|(op, c)| {
                if single {
                    results[*op].0.clone()
                } else {
                    format!("{} [copy {}]", results[*op].0, c.number)
                }
            })
            .collect();
        // The results are those of the enabled operations, in order.
        let coolants: Vec<Option<crate::post::Coolant>> = self
            .operations
            .iter()
            .filter(|o| o.enabled)
            .map(|o| o.coolant)
            .chain(std::iter::repeat(None))
            .take(results.len())
            .collect();
        let sections: Vec<Section<'_>> = seq
            .iter()
            .enumerate()
            .map(|(i, (op, c))| {
                let (_, tool, r) = &results[*op];
                Section {
                    name: &names[i],
                    tool,
                    toolpath: moved[i]
                        .as_ref()
                        .or_else(|| own(*op, c.number))
                        .unwrap_or(&r.toolpath),
                    coolant: coolants[*op],
                    place: if offsets {
                        Some(Place::WorkOffset(codes[c.number as usize - 1]))
                    } else if subs {
                        Some(Place::Call {
                            sub: 100 + *op as u32,
                            offset: [c.offset.x, c.offset.y],
                        })
                    } else {
                        None
                    },
                }
            })
            .collect();
        // One subroutine per operation cut, attributed to its first section.
        let bodies: Vec<SubBody<'_>> = if subs {
            (0..results.len())
                .filter_map(|op| {
                    let first = seq.iter().position(|(o, _)| *o == op)?;
                    let (name, tool, r) = &results[op];
                    (!r.toolpath.moves.is_empty()).then_some(SubBody {
                        number: 100 + op as u32,
                        src_section: first,
                        section: Section {
                            name,
                            tool,
                            toolpath: &r.toolpath,
                            coolant: coolants[op],
                            place: None,
                        },
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut post = self.post.clone();
        if post.title.is_empty() || post.title == PostOptions::default().title {
            post.title.clone_from(&self.title);
        }
        let mut notes: Vec<String> = restart_note.into_iter().collect();
        if let Some(shape) = stock.filter(|_| self.stock.is_some()) {
            notes.push(shape.describe());
        }
        if !self.part.resize.is_identity() {
            notes.push(self.part.resize.describe(None));
        }
        if let Some(map) = &self.height_map {
            notes.push(map.describe());
        }
        if !single {
            notes.extend(spec.notes(copies, offsets, &codes));
        }
        if !notes.is_empty() {
            notes.push(post.header_text.clone());
            post.header_text = notes.join("\n");
        }
        let mut program = write_program_with_subs(&sections, &bodies, &post, &self.tolerance)?;
        // Line sources name the operation, whatever the copy; the copy is kept beside them
        // (none inside a subroutine: each call says its copy).
        if !single {
            let in_sub = |i: usize| program.sub_lines.iter().any(|r| r.contains(&i));
            program.line_copy = program
                .line_source
                .iter()
                .enumerate()
                .map(|(i, src)| match src {
                    Some((s, _)) if !in_sub(i) => seq[*s as usize].1.number,
                    _ => 0,
                })
                .collect();
            program.copies_in_offsets = offsets;
        }
        for src in program.line_source.iter_mut().flatten() {
            src.0 = seq[src.0 as usize].0 as u32;
        }
        Ok(program)
    }

    /// The work offsets copies can use, from the program's own: `G54`–`G59`, and on LinuxCNC
    /// `G59.1`–`G59.3`.
    fn work_offset_codes(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = crate::post::WorkOffset::ALL
            .iter()
            .map(|w| w.code())
            .collect();
        if self.post.dialect == crate::post::Dialect::LinuxCnc {
            all.extend(["G59.1", "G59.2", "G59.3"]);
        }
        let first = all
            .iter()
            .position(|c| *c == self.post.work_offset.code())
            .unwrap_or(0);
        all.split_off(first)
    }
}

/// An operation's error as the job's: cancelled, or named with the operation.
fn op_error(op: &Operation, error: OpError) -> JobError {
    match error {
        OpError::Cancelled => JobError::Cancelled,
        error => JobError::Op {
            op: op.name.clone(),
            error,
        },
    }
}

/// The part's outline box (exact, arcs' extremes included; a mesh's XY box) and the box the
/// tool's edge sweeps while cutting (rapids are above the stock).
fn part_and_cuts(
    models: &[&Model],
    results: &[(String, Tool, OpResult)],
) -> (crate::geometry::Bbox2, crate::geometry::Bbox2) {
    let mut part = crate::geometry::Bbox2::EMPTY;
    for m in models {
        part.union(&crate::resize::part_box(m));
    }
    let mut cuts = crate::geometry::Bbox2::EMPTY;
    for (_, tool, r) in results {
        let rad = tool.diameter_mm * 0.5;
        let mut from = r.toolpath.start;
        for m in &r.toolpath.moves {
            if !matches!(m.motion, Motion::Rapid) {
                let mut pts = vec![from.xy(), m.to.xy()];
                if let Motion::Arc { centre, ccw } = m.motion {
                    // The quadrant points the arc passes (not its whole circle: a waterline's
                    // near-straight arc turns about a centre metres away).
                    pts.extend(crate::geometry::bulge::arc_extremes(
                        from.xy(),
                        m.to.xy(),
                        centre,
                        ccw,
                    ));
                }
                for p in pts {
                    cuts.add_point(p - V2::new(rad, rad));
                    cuts.add_point(p + V2::new(rad, rad));
                }
            }
            from = m.to;
        }
    }
    (part, cuts)
}

/// The example job shipped in `assets/example_job.toml`.
pub const EXAMPLE_JOB_TOML: &str = include_str!("../../../assets/example_job.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::OpSpec;

    /// The box the cuts sweep holds a near-straight arc by its ends (and the quadrant points
    /// it passes), not by its whole circle: a waterline's arc about a centre 10 m away made
    /// the default stock, and the app's view, 20 m wide.
    #[test]
    fn the_cut_box_of_a_near_straight_arc_is_the_arcs() {
        let mut tp = crate::toolpath::Toolpath::new(crate::toolpath::P3::new(0.0, 0.0, -0.1));
        tp.arc(
            crate::toolpath::P3::new(1.0, 0.0, -0.1),
            V2::new(0.5, -1e4),
            false,
            crate::toolpath::MoveClass::Cut,
            100.0,
        );
        let tool = Tool::micro_flat(0.2);
        let results = vec![(
            "wl".to_string(),
            tool,
            OpResult {
                toolpath: tp,
                ..OpResult::default()
            },
        )];
        let (_, cuts) = part_and_cuts(&[], &results);
        assert!(
            cuts.min.x >= -0.1 - 1e-9 && cuts.max.x <= 1.1 + 1e-9,
            "{cuts:?}"
        );
        assert!(
            cuts.min.y >= -0.1 - 1e-9 && cuts.max.y <= 0.1 + 1e-4,
            "{cuts:?}"
        );
        // A half circle reaches its quadrant point.
        let mut tp = crate::toolpath::Toolpath::new(crate::toolpath::P3::new(1.0, 0.0, -0.1));
        tp.arc(
            crate::toolpath::P3::new(-1.0, 0.0, -0.1),
            V2::new(0.0, 0.0),
            true,
            crate::toolpath::MoveClass::Cut,
            100.0,
        );
        let results = vec![(
            "c".to_string(),
            Tool::micro_flat(0.2),
            OpResult {
                toolpath: tp,
                ..OpResult::default()
            },
        )];
        let (_, cuts) = part_and_cuts(&[], &results);
        assert!(
            (cuts.max.y - 1.1).abs() < 1e-9 && (cuts.min.y + 0.1).abs() < 1e-9,
            "{cuts:?}"
        );
    }

    #[test]
    fn example_job_runs_and_round_trips() {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        assert!(job.operations.len() >= 2);
        let again = Job::from_toml(&job.to_toml()).unwrap();
        assert_eq!(again, job);
        let out = job.run(Path::new(".")).unwrap();
        assert_eq!(
            out.operations.len(),
            job.operations.iter().filter(|o| o.enabled).count()
        );
        assert!(out.program.text.contains("T2 M6"));
        assert!(out.program.arcs_written > 10);
    }

    /// A job on a mesh part: a 2 × 2 × 0.3 mm boss on a 4 × 4 mm plate, roughed and finished
    /// with z-level operations; drawing operations on it, and z-level ones on a drawing, are
    /// refused by name.
    #[test]
    fn mesh_parts_run_zlevel_operations_and_refuse_drawing_ones() {
        use crate::samples::{box_mesh, merge_meshes};
        let dir = std::env::temp_dir().join(format!("swarf-job-mesh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mesh = merge_meshes(&[
            box_mesh([0.0, 0.0, 0.0], [4.0, 4.0, 0.2]),
            box_mesh([1.0, 1.0, 0.2], [3.0, 3.0, 0.5]),
        ]);
        std::fs::write(dir.join("boss.stl"), mesh.to_binary_stl("boss")).unwrap();
        let text = format!(
            "{}\n[[operation]]\ntype = \"zlevel-rough\"\nname = \"rough\"\ntool = 3\n\
             stepdown_mm = 0.1\nallowance_radial_mm = 0.01\n\
             heights = {{ final_depth_mm = 0.3 }}\n\
             [[operation]]\ntype = \"zlevel-contour\"\nname = \"finish\"\ntool = 2\n\
             stepdown_mm = 0.1\nheights = {{ final_depth_mm = 0.3 }}\n",
            EXAMPLE_JOB_TOML
                .split("[[operation]]")
                .next()
                .unwrap()
                .replace("embedded:example_plate.dxf", "boss.stl")
        );
        let job = Job::from_toml(&text).unwrap();
        assert_eq!(Job::from_toml(&job.to_toml()).unwrap(), job);
        let (_, model) = job.load_model(&dir).unwrap();
        assert!(model.mesh().is_some());
        let out = job
            .run_model(model, &mut |_, _| true, &Cancel::NEVER)
            .unwrap();
        assert_eq!(out.operations.len(), 2);
        for (name, _, r) in &out.operations {
            assert!(r.toolpath.moves.len() > 10, "{name}");
            let deepest = r.toolpath.moves.iter().map(|m| m.to.z).fold(0.0, f64::min);
            assert!((deepest + 0.3).abs() < 1e-6, "{name}: {deepest}");
        }
        assert!(out.program.text.contains("T3 M6") && out.program.text.contains("T2 M6"));
        // Z-level layers run on other threads and still see a stop request.
        let (_, model) = job.load_model(&dir).unwrap();
        let rough = |stop: bool| {
            let cancel = Cancel::new();
            if stop {
                cancel.cancel();
            }
            {
                crate::ops::zlevel::zlevel_rough(
                    model.mesh().unwrap(),
                    &job.tools[1],
                    match &job.operations[0].spec {
                        OpSpec::ZLevelRough(z) => z,
                        other => panic!("{other:?}"),
                    },
                    &job.tolerance,
                    &cancel,
                )
            }
        };
        assert!(rough(false).is_ok());
        assert!(matches!(rough(true), Err(OpError::Cancelled)));

        // A pocket on the mesh, a z-level operation on the drawing: refused, named.
        let mut wrong = job.clone();
        wrong.operations[0].spec = OpSpec::default_of("pocket").unwrap();
        let (_, model) = wrong.load_model(&dir).unwrap();
        let e = wrong
            .run_model(model, &mut |_, _| true, &Cancel::NEVER)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'rough'") && e.contains("drawing (DXF)"), "{e}");
        let mut on_drawing = job.clone();
        on_drawing.part.file = "embedded:example_plate.dxf".into();
        let e = on_drawing.run(&dir).unwrap_err().to_string();
        assert!(e.contains("'rough'") && e.contains("mesh (STL)"), "{e}");
        // Settings another kind does not have are refused when the file is read.
        let mixed = text.replacen(
            "stepdown_mm = 0.1",
            "stepdown_mm = 0.1\npattern = \"zigzag\"\nzigzag_angle_deg = 5",
            1,
        );
        let e = Job::from_toml(&mixed).unwrap_err().to_string();
        assert!(e.contains("zigzag_angle_deg"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn progress_is_told_per_operation_and_can_cancel() {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        let (_, model) = job.load_model(Path::new(".")).unwrap();
        let drawing = model.drawing().unwrap().clone();
        let mut seen = Vec::new();
        job.run_model(
            Model::Drawing(drawing.clone()),
            &mut |d, t| {
                seen.push((d, t));
                true
            },
            &Cancel::NEVER,
        )
        .unwrap();
        assert_eq!(seen, vec![(0, 2), (1, 2), (2, 2)]);
        let r = job.run_model(
            Model::Drawing(drawing.clone()),
            &mut |d, _| d < 1,
            &Cancel::NEVER,
        );
        assert!(matches!(r, Err(JobError::Cancelled)));
        // A stop request reaches inside the operations too.
        // A token cancelled from another thread while the job runs stops it inside an
        // operation; a token cancelled before is seen at once.
        let stop = Cancel::new();
        stop.cancel();
        let r = job.run_model(Model::Drawing(drawing.clone()), &mut |_, _| true, &stop);
        assert!(matches!(r, Err(JobError::Cancelled)), "{r:?}");
        let stop = Cancel::new();
        let late = stop.clone();
        let r = job.run_model(
            Model::Drawing(drawing.clone()),
            &mut |d, _| {
                if d == 1 {
                    late.cancel();
                }
                true
            },
            &stop,
        );
        assert!(matches!(r, Err(JobError::Cancelled)), "{r:?}");
        job.run_model(Model::Drawing(drawing), &mut |_, _| true, &Cancel::NEVER)
            .unwrap();
    }

    /// A version-1 project (parameters in `[operation.pocket]` sub-tables) opens as the same
    /// job as its version-2 form and writes the same program.
    #[test]
    fn version_1_projects_still_open() {
        let v1 = include_str!("../tests/data/example_job_v1.toml");
        assert!(v1.contains("version = 1") && v1.contains("[operation.pocket]"));
        let old = Job::from_toml(v1).unwrap();
        let new = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        assert_eq!(old.version, JOB_VERSION);
        assert_eq!(old.operations, new.operations);
        assert_eq!(old.tools, new.tools);
        let base = Path::new(".");
        assert_eq!(
            old.run(base).unwrap().program.text,
            new.run(base).unwrap().program.text
        );
        // A version-1 file without operations is version 2 once read, and saves and reads
        // back as the same job (found by fuzzing the parser).
        let bare = v1.split("[[operation]]").next().unwrap();
        let job = Job::from_toml(bare).unwrap();
        assert_eq!(job.version, JOB_VERSION);
        assert_eq!(Job::from_toml(&job.to_toml()).unwrap(), job);
        // Settings of another kind are refused by name.
        let mixed = v1.replacen("[operation.contour]", "[operation.pocket]", 1);
        let e = Job::from_toml(&mixed).unwrap_err().to_string();
        assert!(
            e.contains("'outline'") && e.contains("[operation.pocket]"),
            "{e}"
        );
    }

    /// Cached results are the same results; a post change re-runs no operation, an edit
    /// re-runs only the operation it touches, and going back finds the old result.
    #[test]
    fn the_cache_regenerates_only_what_changed() {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        let (_, model) = job.load_model(Path::new(".")).unwrap();
        let cache = std::sync::Mutex::new(OpCache::default());
        let run = |j: &Job| {
            j.run_model_cached(
                model.clone(),
                Some((&cache, 7)),
                &mut |_, _| true,
                &Cancel::NEVER,
            )
            .unwrap()
        };
        let first = run(&job);
        assert_eq!(cache.lock().unwrap().len(), 2);
        let plain = job
            .run_model(model.clone(), &mut |_, _| true, &Cancel::NEVER)
            .unwrap();
        assert_eq!(first.program.text, plain.program.text);
        let mut grbl = job.clone();
        grbl.post.dialect = crate::post::Dialect::Grbl;
        grbl.title = "renamed".into();
        grbl.operations[0].name = "renamed op".into();
        let again = run(&grbl);
        assert_eq!(
            cache.lock().unwrap().len(),
            2,
            "nothing re-run for a post change"
        );
        assert!(again.program.text.contains("GRBL"));
        let mut finer = job.clone();
        if let OpSpec::Pocket(p) = &mut finer.operations[0].spec {
            p.stepover = crate::ops::Stepover::Fraction(0.3);
        }
        run(&finer);
        assert_eq!(cache.lock().unwrap().len(), 3, "only the pocket re-run");
        assert_eq!(run(&job).program.text, first.program.text);
        assert_eq!(cache.lock().unwrap().len(), 3, "undo finds the old result");
        // Another part (another key) is not served from the cache.
        job.run_model_cached(
            model.clone(),
            Some((&cache, 8)),
            &mut |_, _| true,
            &Cancel::NEVER,
        )
        .unwrap();
        assert_eq!(cache.lock().unwrap().len(), 5);
    }

    #[test]
    fn version_and_reference_errors_say_what_to_do() {
        let newer = EXAMPLE_JOB_TOML.replacen("version = 2", "version = 9", 1);
        assert!(
            Job::from_toml(&newer)
                .unwrap_err()
                .to_string()
                .contains("update Swarf")
        );
        let bad_tool = EXAMPLE_JOB_TOML.replacen("tool = 2", "tool = 77", 1);
        let e = Job::from_toml(&bad_tool).unwrap_err().to_string();
        assert!(e.contains("tool 77"), "{e}");
        assert!(
            Job::from_toml("title = 'x'")
                .unwrap_err()
                .to_string()
                .contains("version")
        );
        assert!(Job::from_toml("version = 2\n[part]\nfile='a.dxf'\nbogus=1\n").is_err());
        // A misspelt operation setting is named, not dropped.
        let typo = EXAMPLE_JOB_TOML.replacen("stepdown_mm = 0.05", "stepdwn_mm = 0.05", 1);
        assert_ne!(typo, EXAMPLE_JOB_TOML);
        let e = Job::from_toml(&typo).unwrap_err().to_string();
        assert!(e.contains("operation[1].stepdwn_mm"), "{e}");
    }
}
