//! The job (project) file: TOML, versioned. It names the part, the tools, the operations with
//! their parameters and the post settings; [`Job::run`] turns it into toolpaths and G-code.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use cavalier_contours::polyline::PlineSource;

use crate::geometry::mesh::Mesh;
use crate::geometry::offset::orient;
use crate::geometry::{Region, Tolerance};
use crate::import::{
    Drawing, DxfOptions, StlError, StlOptions, StlPart, Units, import_dxf, import_stl_file,
};
use crate::ops::adaptive::{AdaptiveParams, adaptive};
use crate::ops::contour::{ContourParams, contour};
use crate::ops::pocket::{PocketParams, pocket};
use crate::ops::zlevel::{ZLevelParams, zlevel_contour, zlevel_rough};
use crate::ops::{OpError, OpResult};
use crate::post::{PostError, PostOptions, Program, Section, write_program};
use crate::tool::{Tool, ToolError};

/// The job file format version this Swarf writes and reads.
pub const JOB_VERSION: u32 = 1;

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
}

/// The part: a drawing (DXF) or mesh (STL) file, relative to the job file, or the embedded
/// example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Path relative to the job file, or `embedded:example_plate.dxf`. A name ending in
    /// `.stl` is read as a mesh, anything else as a DXF drawing.
    pub file: String,
    #[serde(default)]
    pub units: Option<Units>,
    #[serde(default)]
    pub layers: Option<Vec<String>>,
}

/// Which closed geometry an operation works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The drawing's regions (outer loop + islands), as nested.
    #[default]
    Regions,
    /// The holes of the outermost regions, each as a region of its own (pocket the recesses
    /// of a plate).
    Holes,
    /// The outer loops of the outermost regions (contour the parts' outlines).
    Outlines,
    /// Every closed loop, each on its own.
    Loops,
}

/// Operation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    Pocket,
    Contour,
    /// Adaptive clearing of the regions, holding the radial engagement.
    Adaptive,
    /// Roughing of a mesh part layer by layer.
    #[serde(rename = "zlevel-rough")]
    ZLevelRough,
    /// Finishing of a mesh part's walls layer by layer.
    #[serde(rename = "zlevel-contour")]
    ZLevelContour,
}

impl OpType {
    /// Whether the operation works on a mesh (else on a drawing).
    pub fn needs_mesh(self) -> bool {
        matches!(self, OpType::ZLevelRough | OpType::ZLevelContour)
    }
    pub fn name(self) -> &'static str {
        match self {
            OpType::Pocket => "pocket",
            OpType::Contour => "contour",
            OpType::Adaptive => "adaptive",
            OpType::ZLevelRough => "zlevel-rough",
            OpType::ZLevelContour => "zlevel-contour",
        }
    }
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    #[serde(rename = "type")]
    pub kind: OpType,
    pub name: String,
    /// Tool number.
    pub tool: u32,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub target: Target,
    /// Also cut the open chains (contour on the line).
    #[serde(default)]
    pub open_chains: bool,
    #[serde(default)]
    pub pocket: Option<PocketParams>,
    #[serde(default)]
    pub contour: Option<ContourParams>,
    #[serde(default)]
    pub adaptive: Option<AdaptiveParams>,
    #[serde(default)]
    pub zlevel: Option<ZLevelParams>,
}

impl Operation {
    /// The engagement limit an adaptive operation (or a z-level roughing cleared adaptively)
    /// holds, degrees.
    pub fn engagement_limit_deg(&self) -> Option<f64> {
        match self.kind {
            OpType::Adaptive => Some(self.adaptive.unwrap_or_default().engagement_deg()),
            OpType::ZLevelRough => self.zlevel.and_then(|z| z.max_engagement_deg),
            _ => None,
        }
    }
}

fn yes() -> bool {
    true
}

/// Why a job cannot run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job: cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("job: {0}")]
    Parse(String),
    #[error(
        "job: the file has format version {0}, this Swarf reads up to {JOB_VERSION}: update Swarf"
    )]
    Version(u32),
    #[error("job: operation '{op}': {problem}")]
    Operation { op: String, problem: String },
    #[error("job: {0}")]
    Tool(#[from] ToolError),
    #[error("job: {0}")]
    Import(#[from] crate::import::DxfError),
    #[error("job: {0}")]
    Mesh(#[from] StlError),
    #[error("job: operation '{op}': {source}")]
    Op { op: String, source: OpError },
    #[error("job: {0}")]
    Post(#[from] PostError),
    #[error("job: cancelled")]
    Cancelled,
}

/// The part a job machines, as read.
#[derive(Debug, Clone)]
pub enum Model {
    Drawing(Drawing),
    Mesh(StlPart),
}

impl Model {
    pub fn drawing(&self) -> Option<&Drawing> {
        match self {
            Model::Drawing(d) => Some(d),
            Model::Mesh(_) => None,
        }
    }
    pub fn mesh(&self) -> Option<&Mesh> {
        match self {
            Model::Drawing(_) => None,
            Model::Mesh(m) => Some(&m.mesh),
        }
    }
    /// The import's warnings.
    pub fn warnings(&self) -> &[String] {
        match self {
            Model::Drawing(d) => &d.warnings,
            Model::Mesh(m) => &m.warnings,
        }
    }
}

/// What running a job gives.
#[derive(Debug, Clone)]
pub struct JobOutput {
    pub model: Model,
    /// Per enabled operation: name, tool, result.
    pub operations: Vec<(String, Tool, OpResult)>,
    pub program: Program,
}

impl Job {
    pub fn from_toml(text: &str) -> Result<Self, JobError> {
        // Check the version first so a newer file gets the right message, not a field error.
        #[derive(Deserialize)]
        struct V {
            version: Option<u32>,
        }
        let v: V = toml::from_str(text).map_err(|e| JobError::Parse(e.to_string()))?;
        match v.version {
            None => return Err(JobError::Parse("missing 'version = 1' at the top".into())),
            Some(n) if n > JOB_VERSION => return Err(JobError::Version(n)),
            Some(0) => {
                return Err(JobError::Parse(
                    "version 0 is not a Swarf job version".into(),
                ));
            }
            _ => {}
        }
        let job: Job = toml::from_str(text).map_err(|e| JobError::Parse(e.to_string()))?;
        job.validate()?;
        Ok(job)
    }
    pub fn load(path: &Path) -> Result<Self, JobError> {
        let text = std::fs::read_to_string(path).map_err(|source| JobError::Io {
            path: path.display().to_string(),
            source,
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
        for op in &self.operations {
            let err = |problem: String| JobError::Operation {
                op: op.name.clone(),
                problem,
            };
            if !self.tools.iter().any(|t| t.number == op.tool) {
                return Err(err(format!(
                    "uses tool {} but the job has no [[tool]] with number = {}",
                    op.tool, op.tool
                )));
            }
            let settings = [
                (op.pocket.is_some(), OpType::Pocket, "pocket"),
                (op.contour.is_some(), OpType::Contour, "contour"),
                (op.adaptive.is_some(), OpType::Adaptive, "adaptive"),
                (
                    op.zlevel.is_some(),
                    if op.kind == OpType::ZLevelContour {
                        OpType::ZLevelContour
                    } else {
                        OpType::ZLevelRough
                    },
                    "zlevel",
                ),
            ];
            for (present, kind, table) in settings {
                if present && kind != op.kind {
                    return Err(err(format!(
                        "is a {} but has [operation.{table}] settings",
                        op.kind.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Reads a drawing part: the embedded example, or a DXF file relative to `base_dir`.
    pub fn load_part(&self, base_dir: &Path) -> Result<(String, Drawing), JobError> {
        match self.load_model(base_dir)? {
            (name, Model::Drawing(d)) => Ok((name, d)),
            (name, Model::Mesh(_)) => Err(JobError::Parse(format!(
                "the part {name} is a mesh (STL), not a drawing"
            ))),
        }
    }

    /// Reads the part: the embedded example, or a file relative to `base_dir` (`.stl` as a
    /// mesh, else DXF), with the job's units (and layers, for a drawing).
    pub fn load_model(&self, base_dir: &Path) -> Result<(String, Model), JobError> {
        let opts = DxfOptions {
            units: self.part.units,
            layers: self.part.layers.clone(),
            tolerance: self.tolerance,
            ..DxfOptions::default()
        };
        if let Some(name) = self.part.file.strip_prefix("embedded:") {
            if name != crate::EXAMPLE_DXF_NAME {
                return Err(JobError::Parse(format!(
                    "no embedded part '{name}'; the embedded part is {}",
                    crate::EXAMPLE_DXF_NAME
                )));
            }
            return Ok((
                self.part.file.clone(),
                Model::Drawing(import_dxf(crate::EXAMPLE_DXF.as_bytes(), &opts)?),
            ));
        }
        let path: PathBuf = base_dir.join(&self.part.file);
        let name = path.display().to_string();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("stl"))
        {
            let o = StlOptions {
                units: self.part.units,
                tolerance: self.tolerance,
                ..StlOptions::default()
            };
            return Ok((name, Model::Mesh(import_stl_file(&path, &o)?)));
        }
        let bytes = std::fs::read(&path).map_err(|source| JobError::Io {
            path: name.clone(),
            source,
        })?;
        Ok((name, Model::Drawing(import_dxf(&bytes, &opts)?)))
    }

    /// Generates every enabled operation on `drawing` and writes one program.
    pub fn run_on(&self, drawing: Drawing) -> Result<JobOutput, JobError> {
        self.run_model(Model::Drawing(drawing), &mut |_, _| true)
    }

    /// Generates every enabled operation on the part and writes one program, telling
    /// `progress(done, total)` before each enabled operation and once when all are done; when
    /// it returns false the run stops with [`JobError::Cancelled`].
    pub fn run_model(
        &self,
        model: Model,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<JobOutput, JobError> {
        let tol = self.tolerance;
        let mut results = Vec::new();
        let total = self.operations.iter().filter(|o| o.enabled).count();
        for op in self.operations.iter().filter(|o| o.enabled) {
            if !progress(results.len(), total) {
                return Err(JobError::Cancelled);
            }
            let tool = self
                .tools
                .iter()
                .find(|t| t.number == op.tool)
                .expect("validated")
                .clone();
            let wrong_part = |needs: &str| JobError::Operation {
                op: op.name.clone(),
                problem: format!(
                    "is a {} operation: it needs a {needs} part; use {}",
                    op.kind.name(),
                    if op.kind.needs_mesh() {
                        "pocket, adaptive or contour on a drawing"
                    } else {
                        "zlevel-rough or zlevel-contour on a mesh"
                    }
                ),
            };
            let res = match (&model, op.kind) {
                (Model::Drawing(drawing), OpType::Pocket) => {
                    let regions = target_regions(drawing, op.target);
                    let p = op.pocket.unwrap_or_default();
                    pocket(&regions, &tool, &p, &tol)
                }
                (Model::Drawing(drawing), OpType::Adaptive) => {
                    let regions = target_regions(drawing, op.target);
                    adaptive(&regions, &tool, &op.adaptive.unwrap_or_default(), &tol)
                }
                (Model::Drawing(drawing), OpType::Contour) => {
                    let regions = target_regions(drawing, op.target);
                    let p = op.contour.unwrap_or_default();
                    let loops: Vec<_> = regions
                        .iter()
                        .flat_map(|r| {
                            std::iter::once(r.outer.clone()).chain(r.islands.iter().cloned())
                        })
                        .collect();
                    let chains = if op.open_chains {
                        drawing.open_chains.clone()
                    } else {
                        Vec::new()
                    };
                    contour(&loops, &chains, &tool, &p, &tol)
                }
                (Model::Mesh(m), OpType::ZLevelRough) => {
                    zlevel_rough(&m.mesh, &tool, &op.zlevel.unwrap_or_default(), &tol)
                }
                (Model::Mesh(m), OpType::ZLevelContour) => {
                    zlevel_contour(&m.mesh, &tool, &op.zlevel.unwrap_or_default(), &tol)
                }
                (Model::Mesh(_), _) => return Err(wrong_part("drawing (DXF)")),
                (Model::Drawing(_), _) => return Err(wrong_part("mesh (STL)")),
            }
            .map_err(|source| match source {
                OpError::Cancelled => JobError::Cancelled,
                source => JobError::Op {
                    op: op.name.clone(),
                    source,
                },
            })?;
            results.push((op.name.clone(), tool, res));
        }
        if !progress(total, total) {
            return Err(JobError::Cancelled);
        }
        let sections: Vec<Section<'_>> = results
            .iter()
            .map(|(name, tool, r)| Section {
                name,
                tool,
                toolpath: &r.toolpath,
            })
            .collect();
        let mut post = self.post.clone();
        if post.title.is_empty() || post.title == PostOptions::default().title {
            post.title.clone_from(&self.title);
        }
        let program = write_program(&sections, &post, &tol)?;
        Ok(JobOutput {
            model,
            operations: results,
            program,
        })
    }
}

/// The regions an operation's target selects.
pub fn target_regions(d: &Drawing, target: Target) -> Vec<Region> {
    let single = |l: &crate::geometry::Pline| {
        let mut o = l.clone();
        orient(&mut o, true);
        Region {
            outer: o,
            islands: Vec::new(),
        }
    };
    match target {
        Target::Regions => d.regions.clone(),
        Target::Holes => {
            // Each hole with what lies inside it (a boss in a recess stays an island).
            let mut out = Vec::new();
            for r in &d.regions {
                for h in &r.islands {
                    let hole = single(h);
                    let hb = crate::geometry::pline_bbox(&hole.outer);
                    let inner: Vec<crate::geometry::Pline> = d
                        .regions
                        .iter()
                        .filter(|o| {
                            let ob = o.bbox();
                            let v = o.outer.at(0);
                            hb.contains_box(&ob, 0.0)
                                && ob != hb
                                && hole.outer.winding_number(
                                    cavalier_contours::core::math::Vector2::new(v.x, v.y),
                                ) != 0
                        })
                        .flat_map(|o| {
                            std::iter::once(o.outer.clone()).chain(o.islands.iter().cloned())
                        })
                        .collect();
                    let loops = std::iter::once(hole.outer).chain(inner).collect();
                    out.extend(crate::geometry::nest_loops(loops, &Tolerance::default()));
                }
            }
            out
        }
        Target::Outlines => d
            .regions
            .iter()
            .filter(|r| {
                // Outermost parts only: a boss inside a recess is not an outline.
                let v = r.outer.at(0);
                let p = cavalier_contours::core::math::Vector2::new(v.x, v.y);
                !d.regions.iter().any(|o| {
                    !std::ptr::eq(o, *r)
                        && o.outer.area() > r.outer.area()
                        && o.outer.winding_number(p) != 0
                })
            })
            .map(|r| single(&r.outer))
            .collect(),
        Target::Loops => d.closed_loops.iter().map(single).collect(),
    }
}

/// The example job shipped in `assets/example_job.toml`.
pub const EXAMPLE_JOB_TOML: &str = include_str!("../../../assets/example_job.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_job_runs_and_round_trips() {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        assert!(job.operations.len() >= 2);
        let again = Job::from_toml(&job.to_toml()).unwrap();
        assert_eq!(again, job);
        let (_, drawing) = job.load_part(Path::new(".")).unwrap();
        let out = job.run_on(drawing).unwrap();
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
             [operation.zlevel]\nstepdown_mm = 0.1\nallowance_radial_mm = 0.01\n\
             heights = {{ final_depth_mm = 0.3 }}\n\
             [[operation]]\ntype = \"zlevel-contour\"\nname = \"finish\"\ntool = 2\n\
             [operation.zlevel]\nstepdown_mm = 0.1\nheights = {{ final_depth_mm = 0.3 }}\n",
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
        let out = job.run_model(model, &mut |_, _| true).unwrap();
        assert_eq!(out.operations.len(), 2);
        for (name, _, r) in &out.operations {
            assert!(r.toolpath.moves.len() > 10, "{name}");
            let deepest = r.toolpath.moves.iter().map(|m| m.to.z).fold(0.0, f64::min);
            assert!((deepest + 0.3).abs() < 1e-6, "{name}: {deepest}");
        }
        assert!(out.program.text.contains("T3 M6") && out.program.text.contains("T2 M6"));
        assert!(
            job.load_part(&dir)
                .unwrap_err()
                .to_string()
                .contains("mesh")
        );
        // Z-level layers run on other threads and still see a stop request.
        let (_, model) = job.load_model(&dir).unwrap();
        let rough = |stop: bool| {
            let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(stop));
            crate::ops::cancel::scope(Some(flag), || {
                crate::ops::zlevel::zlevel_rough(
                    model.mesh().unwrap(),
                    &job.tools[1],
                    &job.operations[0].zlevel.unwrap(),
                    &job.tolerance,
                )
            })
        };
        assert!(rough(false).is_ok());
        assert!(matches!(rough(true), Err(OpError::Cancelled)));

        // A pocket on the mesh, a z-level operation on the drawing: refused, named.
        let mut wrong = job.clone();
        wrong.operations[0].kind = OpType::Pocket;
        wrong.operations[0].zlevel = None;
        let (_, model) = wrong.load_model(&dir).unwrap();
        let e = wrong
            .run_model(model, &mut |_, _| true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'rough'") && e.contains("drawing (DXF)"), "{e}");
        let mut on_drawing = job.clone();
        on_drawing.part.file = "embedded:example_plate.dxf".into();
        let (_, d) = on_drawing.load_part(&dir).unwrap();
        let e = on_drawing.run_on(d).unwrap_err().to_string();
        assert!(e.contains("'rough'") && e.contains("mesh (STL)"), "{e}");
        // Settings of another kind are refused when the file is read.
        let mixed = text.replacen("[operation.zlevel]", "[operation.pocket]", 1);
        let e = Job::from_toml(&mixed).unwrap_err().to_string();
        assert!(
            e.contains("zlevel-rough") && e.contains("[operation.pocket]"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn progress_is_told_per_operation_and_can_cancel() {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        let (_, drawing) = job.load_part(Path::new(".")).unwrap();
        let mut seen = Vec::new();
        job.run_model(Model::Drawing(drawing.clone()), &mut |d, t| {
            seen.push((d, t));
            true
        })
        .unwrap();
        assert_eq!(seen, vec![(0, 2), (1, 2), (2, 2)]);
        let r = job.run_model(Model::Drawing(drawing.clone()), &mut |d, _| d < 1);
        assert!(matches!(r, Err(JobError::Cancelled)));
        // A stop request reaches inside the operations too.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let r = crate::ops::cancel::scope(Some(stop), || {
            job.run_model(Model::Drawing(drawing.clone()), &mut |_, _| true)
        });
        assert!(matches!(r, Err(JobError::Cancelled)), "{r:?}");
        assert!(
            !crate::ops::cancel::requested(),
            "the scope ends with the call"
        );
        job.run_on(drawing).unwrap();
    }

    #[test]
    fn version_and_reference_errors_say_what_to_do() {
        let newer = EXAMPLE_JOB_TOML.replacen("version = 1", "version = 9", 1);
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
        assert!(Job::from_toml("version = 1\n[part]\nfile='a.dxf'\nbogus=1\n").is_err());
    }
}
