//! The job (project) file: TOML, versioned. It names the part, the tools, the operations with
//! their parameters and the post settings; [`Job::run`] turns it into toolpaths and G-code.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use cavalier_contours::polyline::PlineSource;

use crate::geometry::offset::orient;
use crate::geometry::{Region, Tolerance};
use crate::import::{Drawing, DxfOptions, Units, import_dxf};
use crate::ops::contour::{ContourParams, contour};
use crate::ops::pocket::{PocketParams, pocket};
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

/// The part: a drawing file (relative to the job file) or the embedded example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Path relative to the job file, or `embedded:example_plate.dxf`.
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
    #[error("job: operation '{op}': {source}")]
    Op { op: String, source: OpError },
    #[error("job: {0}")]
    Post(#[from] PostError),
    #[error("job: cancelled")]
    Cancelled,
}

/// What running a job gives.
#[derive(Debug, Clone)]
pub struct JobOutput {
    pub drawing: Drawing,
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
            match op.kind {
                OpType::Pocket if op.contour.is_some() => {
                    return Err(err(
                        "is a pocket but has [operation.contour] settings".into()
                    ));
                }
                OpType::Contour if op.pocket.is_some() => {
                    return Err(err(
                        "is a contour but has [operation.pocket] settings".into()
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads the part: the embedded example, or a file relative to `base_dir`.
    pub fn load_part(&self, base_dir: &Path) -> Result<(String, Drawing), JobError> {
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
                import_dxf(crate::EXAMPLE_DXF.as_bytes(), &opts)?,
            ));
        }
        let path: PathBuf = base_dir.join(&self.part.file);
        let bytes = std::fs::read(&path).map_err(|source| JobError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok((path.display().to_string(), import_dxf(&bytes, &opts)?))
    }

    /// Generates every enabled operation on `drawing` and writes one program.
    pub fn run_on(&self, drawing: Drawing) -> Result<JobOutput, JobError> {
        self.run_on_with(drawing, &mut |_, _| true)
    }

    /// [`Job::run_on`], telling `progress(done, total)` before each enabled operation and once
    /// when all are done; when it returns false the run stops with [`JobError::Cancelled`].
    pub fn run_on_with(
        &self,
        drawing: Drawing,
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
            let regions = target_regions(&drawing, op.target);
            let res = match op.kind {
                OpType::Pocket => {
                    let p = op.pocket.unwrap_or_default();
                    pocket(&regions, &tool, &p, &tol)
                }
                OpType::Contour => {
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
            }
            .map_err(|source| JobError::Op {
                op: op.name.clone(),
                source,
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
            drawing,
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

    #[test]
    fn progress_is_told_per_operation_and_can_cancel() {
        let job = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        let (_, drawing) = job.load_part(Path::new(".")).unwrap();
        let mut seen = Vec::new();
        job.run_on_with(drawing.clone(), &mut |d, t| {
            seen.push((d, t));
            true
        })
        .unwrap();
        assert_eq!(seen, vec![(0, 2), (1, 2), (2, 2)]);
        let r = job.run_on_with(drawing, &mut |d, _| d < 1);
        assert!(matches!(r, Err(JobError::Cancelled)));
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
