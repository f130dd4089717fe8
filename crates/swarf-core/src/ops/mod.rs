//! Machining operations: pure functions from regions, a tool and parameters to a toolpath and
//! warnings. Parameters use the usual CAM vocabulary (clearance/safe height, start/final depth,
//! step-down, step-over, allowances, climb/conventional, helix/ramp entry, leads, tabs).

pub mod adaptive;
pub mod bore;
mod clearing;
pub mod contour;
mod cursor;
pub mod drill;
pub mod engrave;
pub mod isolate;
pub mod parallel;
pub mod pocket;
pub mod project;
mod spec;
pub mod steep_shallow;
pub mod target;
pub mod text;
pub mod vcarve;
pub mod waterline;
pub mod zlevel;

use serde::{Deserialize, Serialize};

use crate::tool::{Tool, ToolError};
use crate::toolpath::Toolpath;

pub use clearing::rest_regions;
pub use cursor::Cursor;
pub use spec::{OP_TYPES, OpSpec};
pub use target::{Target, contour_loops, target_regions};

/// Heights, mm. Z = 0 is the top of the stock; depths are positive numbers below it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Heights {
    /// Z for moves between operations and regions, and at start and end.
    pub clearance_mm: f64,
    /// Z for rapid moves between cuts inside an operation (above the stock).
    pub safe_mm: f64,
    /// Depth where cutting starts (material above is already gone).
    pub start_depth_mm: f64,
    /// Depth of the finished floor: the tool cuts down to Z = −`final_depth_mm`.
    pub final_depth_mm: f64,
}

impl Default for Heights {
    fn default() -> Self {
        Self {
            clearance_mm: 5.0,
            safe_mm: 0.5,
            start_depth_mm: 0.0,
            final_depth_mm: 0.1,
        }
    }
}

/// Step-over between passes: a fraction of the tool diameter, or millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StepoverRepr", into = "StepoverRepr")]
pub enum Stepover {
    Fraction(f64),
    Mm(f64),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StepoverRepr {
    Number(f64),
    Text(String),
}

impl TryFrom<StepoverRepr> for Stepover {
    type Error = String;
    fn try_from(r: StepoverRepr) -> Result<Self, String> {
        match r {
            StepoverRepr::Number(f) => Ok(Stepover::Fraction(f)),
            StepoverRepr::Text(s) => s.parse(),
        }
    }
}

impl From<Stepover> for StepoverRepr {
    fn from(s: Stepover) -> Self {
        match s {
            Stepover::Fraction(f) => StepoverRepr::Number(f),
            Stepover::Mm(mm) => StepoverRepr::Text(format!("{mm}mm")),
        }
    }
}

impl std::str::FromStr for Stepover {
    type Err = String;
    /// `"0.1"` (fraction of the diameter), `"10%"` or `"0.02mm"`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let bad = || {
            format!(
                "stepover '{s}' is not a number: use a fraction of the diameter (0.1), a percentage (10%) or millimetres (0.02mm)"
            )
        };
        if let Some(mm) = t.strip_suffix("mm") {
            mm.trim().parse().map(Stepover::Mm).map_err(|_| bad())
        } else if let Some(pc) = t.strip_suffix('%') {
            pc.trim()
                .parse::<f64>()
                .map(|v| Stepover::Fraction(v / 100.0))
                .map_err(|_| bad())
        } else {
            t.parse().map(Stepover::Fraction).map_err(|_| bad())
        }
    }
}

impl Stepover {
    pub fn mm(self, tool_diameter_mm: f64) -> f64 {
        match self {
            Stepover::Fraction(f) => f * tool_diameter_mm,
            Stepover::Mm(mm) => mm,
        }
    }
}

/// Climb or conventional milling (with a clockwise, M3 spindle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Climb,
    Conventional,
}

/// How the tool gets down into stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// Helix where there is room, else a ramp along the path.
    #[default]
    Helix,
    /// Ramp along the path at the ramp angle.
    Ramp,
    /// Straight plunge: only when the user asks for it (pre-drilled holes).
    Plunge,
}

impl std::str::FromStr for EntryKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "helix" => Ok(EntryKind::Helix),
            "ramp" => Ok(EntryKind::Ramp),
            "plunge" => Ok(EntryKind::Plunge),
            _ => Err(format!("unknown entry '{s}'; use helix, ramp or plunge")),
        }
    }
}

/// Entry settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Entry {
    pub kind: EntryKind,
    /// Angle of ramps and helices from the horizontal, degrees. Micro tools want 1–3°.
    pub ramp_angle_deg: f64,
    /// Diameter of the helix the tool centre follows, as a fraction of the tool diameter.
    pub helix_diameter_frac: f64,
}

impl Default for Entry {
    fn default() -> Self {
        Self {
            kind: EntryKind::Helix,
            ramp_angle_deg: 2.0,
            helix_diameter_frac: 0.8,
        }
    }
}

/// What an operation produced.
#[derive(Debug, Clone, Default)]
pub struct OpResult {
    pub toolpath: Toolpath,
    /// Best-effort skips and risks, for the user.
    pub warnings: Vec<String>,
    /// What the user may want to know that is no risk (the holes drilled and their travel).
    pub notes: Vec<String>,
    /// The holes a drilling or boring operation visits, in its order (for the view).
    pub hole_order: Vec<crate::geometry::V2>,
    /// For a clearing operation, the area it was asked to clear and its step-over: the feed
    /// length it should need (see [`FeedEstimate`]).
    pub estimate: Option<FeedEstimate>,
}

/// What clearing an area should cost: a tool clearing `area_mm2` (summed over the levels) with
/// passes `stepover_mm` apart moves about area / step-over at feed. Entries, finishing passes
/// and links add to it; a toolpath several times longer wanders (the adaptive that made 1 km
/// of feed on a drawing an offset pocket cleared with 37 m).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FeedEstimate {
    pub area_mm2: f64,
    pub stepover_mm: f64,
    /// Above this many times the estimate, the operation warns: 2 for a pocket (its rings
    /// are the step-over apart; entries and the finishing pass add little). An adaptive's
    /// step-over is its largest (the engagement limit), its mean is about half that, and its
    /// links are a third of its feed today: it stays near 3× when all is well, and warns at
    /// twice that.
    pub warn_ratio: f64,
}

impl FeedEstimate {
    /// The warning ratio of offset and zigzag clearing.
    pub const POCKET_RATIO: f64 = 2.0;
    /// The warning ratio of adaptive clearing.
    pub const ADAPTIVE_RATIO: f64 = 6.0;

    #[must_use]
    pub fn feed_mm(&self) -> f64 {
        if self.stepover_mm > 0.0 {
            self.area_mm2 / self.stepover_mm
        } else {
            0.0
        }
    }

    /// Two estimates of one toolpath's parts (the layers of a z-level roughing): areas add, the
    /// step-over is the one that gives the summed feed.
    #[must_use]
    pub fn merge(self, o: Self) -> Self {
        let feed = self.feed_mm() + o.feed_mm();
        let area = self.area_mm2 + o.area_mm2;
        Self {
            area_mm2: area,
            stepover_mm: if feed > 0.0 {
                area / feed
            } else {
                self.stepover_mm
            },
            warn_ratio: self.warn_ratio.max(o.warn_ratio),
        }
    }

    /// The warning for a toolpath of `feed_mm` at feed, when it is more than `warn_ratio`
    /// times the estimate.
    #[must_use]
    pub fn warning(&self, op: &str, feed_mm: f64) -> Option<String> {
        let e = self.feed_mm();
        (e > 0.0 && feed_mm > self.warn_ratio * e).then(|| {
            format!(
                "{op}: the toolpath moves {:.0} mm at feed, {:.1}× the {:.0} mm that clearing \
                 {:.2} mm² at a {:.4} mm step-over needs; it wanders (slivers, many small \
                 regions, links): try the offset pocket, a larger step-over or a larger tool",
                feed_mm,
                feed_mm / e,
                e,
                self.area_mm2,
                self.stepover_mm
            )
        })
    }
}

/// A parameter that makes no sense, named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpError {
    #[error("{op}: {param} {problem}")]
    Param {
        op: &'static str,
        param: &'static str,
        problem: String,
    },
    #[error("{0}")]
    Tool(ToolError),
    /// The operation does not work on this kind of part.
    #[error("is a {op} operation: it needs a {needs} part; use {suggest}")]
    WrongPart {
        op: &'static str,
        needs: &'static str,
        suggest: &'static str,
    },
    /// The caller asked to stop ([`Cancel`]).
    #[error("cancelled")]
    Cancelled,
}

impl From<ToolError> for OpError {
    fn from(e: ToolError) -> Self {
        OpError::Tool(e)
    }
}

/// A request to stop, passed explicitly to every operation: the caller keeps a clone and
/// calls [`Cancel::cancel`]; the operations look at it between regions, levels and passes
/// (also inside their parallel closures, which take it along) and stop with
/// [`OpError::Cancelled`]. [`Cancel::NEVER`] is for work nobody stops.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Option<std::sync::Arc<std::sync::atomic::AtomicBool>>);

impl Cancel {
    /// A token that is never cancelled.
    pub const NEVER: Cancel = Cancel(None);

    /// A token that can be cancelled (through any clone of it).
    pub fn new() -> Self {
        Self(Some(std::sync::Arc::new(
            std::sync::atomic::AtomicBool::new(false),
        )))
    }

    /// Asks every holder of this token (or a clone) to stop.
    pub fn cancel(&self) {
        if let Some(f) = &self.0 {
            f.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Whether the work should stop.
    pub fn requested(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<(), OpError> {
        if self.requested() {
            Err(OpError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A length for a message: to the nanometre, without binary noise (0.6, not 0.6000000000000001).
fn round_um(mm: f64) -> f64 {
    (mm * 1e6).round() / 1e6
}

pub(crate) fn param_err(op: &'static str, param: &'static str, problem: String) -> OpError {
    OpError::Param { op, param, problem }
}

/// Deepest cut accepted, in tool diameters.
pub const MAX_DEPTH_IN_DIAMETERS: f64 = 100.0;
/// Most Z levels one operation may have.
pub const MAX_Z_LEVELS: usize = 10_000;

/// The parameters every cutting operation shares: heights, step-down, allowances, direction,
/// entry. Each operation's parameters hold one, flattened into the job file's operation table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CutParams {
    pub heights: Heights,
    /// Depth per level; `None` cuts the full depth in one level.
    pub stepdown_mm: Option<f64>,
    /// Material left on the walls for a finishing pass.
    pub allowance_radial_mm: f64,
    /// Material left on the floor for a finishing level.
    pub allowance_axial_mm: f64,
    pub direction: Direction,
    pub entry: Entry,
}

impl Default for CutParams {
    fn default() -> Self {
        Self {
            heights: Heights::default(),
            stepdown_mm: None,
            allowance_radial_mm: 0.0,
            allowance_axial_mm: 0.0,
            direction: Direction::Climb,
            entry: Entry::default(),
        }
    }
}

impl CutParams {
    /// What a 3D finish of `mesh` starts with: the checks of [`CutParams::check`], a mesh
    /// with triangles, and the tool's profile grown by the radial stock to leave.
    pub(crate) fn finishing_shape(
        &self,
        op: &'static str,
        tool: &Tool,
        mesh: &crate::geometry::mesh::Mesh,
    ) -> Result<crate::cl::CutterShape, OpError> {
        self.check(op, tool)?;
        if mesh.triangles.is_empty() {
            return Err(param_err(op, "mesh", "has no triangles".into()));
        }
        crate::cl::CutterShape::of(tool, self.allowance_radial_mm)
            .map_err(|e| param_err(op, "allowance_radial_mm", e))
    }

    /// Checks the tool, heights, step-down, allowances and entry; `op` names the operation in
    /// the error.
    pub fn check(&self, op: &'static str, tool: &Tool) -> Result<(), OpError> {
        let h = &self.heights;
        let entry = &self.entry;
        tool.validate()?;
        let finite = |param: &'static str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(param_err(op, param, format!("is {v}; it must be a number")))
            }
        };
        finite("clearance_mm", h.clearance_mm)?;
        finite("safe_mm", h.safe_mm)?;
        finite("start_depth_mm", h.start_depth_mm)?;
        finite("final_depth_mm", h.final_depth_mm)?;
        if h.final_depth_mm <= 0.0 {
            return Err(param_err(
                op,
                "final_depth_mm",
                format!(
                    "is {}; give the depth as a positive number (the cut goes to Z = -depth)",
                    h.final_depth_mm
                ),
            ));
        }
        // A sanity bound, not a machining rule: deeper cuts are not micro milling, and an absurd
        // depth (found by fuzzing: 11 110 mm with a 0.5 mm tool) would write billions of moves.
        let max_depth = MAX_DEPTH_IN_DIAMETERS * tool.diameter_mm;
        if h.final_depth_mm > max_depth {
            return Err(param_err(
                op,
                "final_depth_mm",
                format!(
                    "is {} mm, more than {MAX_DEPTH_IN_DIAMETERS} diameters of the {} mm tool ({max_depth} mm); check the unit or the value",
                    h.final_depth_mm, tool.diameter_mm
                ),
            ));
        }
        if h.start_depth_mm < 0.0 || h.start_depth_mm >= h.final_depth_mm {
            return Err(param_err(
                op,
                "start_depth_mm",
                format!(
                    "is {}; it must be at least 0 and less than the final depth {}",
                    h.start_depth_mm, h.final_depth_mm
                ),
            ));
        }
        // The tool must reach: flutes deeper than the cut (the stick-out holds the flutes).
        if h.final_depth_mm > tool.flute_length_mm {
            return Err(param_err(
                op,
                "final_depth_mm",
                format!(
                    "is {} mm, deeper than the {} mm flutes of tool {} ({}): the shank would rub \
                     or the holder hit the part; use a tool with longer flutes or cut less deep",
                    round_um(h.final_depth_mm),
                    round_um(tool.flute_length_mm),
                    tool.number,
                    tool.name
                ),
            ));
        }
        if h.safe_mm <= 0.0 {
            return Err(param_err(
                op,
                "safe_mm",
                format!(
                    "is {}; the safe height must be above the stock (> 0)",
                    h.safe_mm
                ),
            ));
        }
        if h.clearance_mm < h.safe_mm {
            return Err(param_err(
                op,
                "clearance_mm",
                format!(
                    "({}) is below the safe height ({}); clearance must be at or above it",
                    h.clearance_mm, h.safe_mm
                ),
            ));
        }
        if let Some(sd) = self.stepdown_mm {
            if !(sd.is_finite() && sd > 0.0) {
                return Err(param_err(
                    op,
                    "stepdown_mm",
                    format!("is {sd}; it must be a positive number of mm (or absent for one pass)"),
                ));
            }
            let levels = ((h.final_depth_mm - h.start_depth_mm) / sd).ceil();
            if levels > MAX_Z_LEVELS as f64 {
                return Err(param_err(
                    op,
                    "stepdown_mm",
                    format!(
                        "is {sd} mm: {levels} levels for {} mm of depth, more than {MAX_Z_LEVELS}; use a larger step-down",
                        h.final_depth_mm - h.start_depth_mm
                    ),
                ));
            }
        }
        let (ar, az) = (self.allowance_radial_mm, self.allowance_axial_mm);
        if !(ar.is_finite() && ar >= 0.0) {
            return Err(param_err(
                op,
                "allowance_radial_mm",
                format!("is {ar}; it must be zero or positive"),
            ));
        }
        if !(az.is_finite() && az >= 0.0 && az < h.final_depth_mm - h.start_depth_mm) {
            return Err(param_err(
                op,
                "allowance_axial_mm",
                format!("is {az}; it must be zero or positive and less than the cut depth"),
            ));
        }
        if !(entry.ramp_angle_deg > 0.0 && entry.ramp_angle_deg <= 45.0) {
            return Err(param_err(
                op,
                "ramp_angle_deg",
                format!(
                    "is {}; it must be more than 0 and at most 45 degrees",
                    entry.ramp_angle_deg
                ),
            ));
        }
        if !(entry.helix_diameter_frac > 0.0 && entry.helix_diameter_frac <= 2.0) {
            return Err(param_err(
                op,
                "helix_diameter_frac",
                format!("is {}; it must be in (0, 2]", entry.helix_diameter_frac),
            ));
        }
        Ok(())
    }
}

/// Z levels from `z_top` (exclusive) down to `z_bottom` (inclusive) in equal steps no larger
/// than `stepdown` (one step when `None`). Steps that differ from a whole number by less than
/// `tol_mm` of depth do not add a level.
pub fn z_levels(z_top: f64, z_bottom: f64, stepdown: Option<f64>, tol_mm: f64) -> Vec<f64> {
    let h = z_top - z_bottom;
    if h <= 0.0 {
        return Vec::new();
    }
    let n = match stepdown {
        Some(sd) => (((h - tol_mm) / sd).ceil().max(1.0)) as usize,
        None => 1,
    };
    (1..=n).map(|k| z_top - h * k as f64 / n as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_estimates_warn_past_their_ratio_and_merge_by_feed() {
        let e = FeedEstimate {
            area_mm2: 10.0,
            stepover_mm: 0.1,
            warn_ratio: FeedEstimate::POCKET_RATIO,
        };
        assert!((e.feed_mm() - 100.0).abs() < 1e-12);
        assert_eq!(e.warning("pocket", 190.0), None);
        let w = e.warning("pocket", 2780.0).expect("27.8× warns");
        assert!(w.contains("27.8×") && w.contains("100 mm"), "{w}");
        // Two layers: 100 mm at 0.1 and 50 mm at 0.2 are 150 mm for 20 mm².
        let m = e.merge(FeedEstimate {
            area_mm2: 10.0,
            stepover_mm: 0.2,
            warn_ratio: FeedEstimate::ADAPTIVE_RATIO,
        });
        assert!((m.feed_mm() - 150.0).abs() < 1e-9 && (m.area_mm2 - 20.0).abs() < 1e-12);
        assert_eq!(m.warn_ratio, FeedEstimate::ADAPTIVE_RATIO);
    }

    #[test]
    fn stepover_parsing() {
        assert_eq!("0.1".parse::<Stepover>().unwrap(), Stepover::Fraction(0.1));
        assert_eq!("10%".parse::<Stepover>().unwrap(), Stepover::Fraction(0.1));
        assert_eq!("0.02mm".parse::<Stepover>().unwrap(), Stepover::Mm(0.02));
        assert!("abc".parse::<Stepover>().unwrap_err().contains("0.02mm"));
        assert!((Stepover::Fraction(0.1).mm(0.2) - 0.02).abs() < 1e-15);
    }

    /// Found by the job fuzz target: a job with `final_depth_mm = 11110.1111111` and a 0.05 mm
    /// step-down ran out of memory writing ramps; now it is refused, naming the field.
    #[test]
    fn absurd_depth_from_fuzzing_is_refused_not_run_out_of_memory() {
        let text = crate::job::EXAMPLE_JOB_TOML.replacen(
            "final_depth_mm = 0.1 }",
            "final_depth_mm = 11110.1111111 }",
            1,
        );
        assert_ne!(
            text,
            crate::job::EXAMPLE_JOB_TOML,
            "the example changed: update the test"
        );
        let job = crate::job::Job::from_toml(&text).unwrap();
        let err = job.run(std::path::Path::new(".")).unwrap_err().to_string();
        assert!(
            err.contains("final_depth_mm") && err.contains("diameters"),
            "{err}"
        );
        // Many levels within the depth bound are refused too.
        let tool = crate::tool::Tool {
            flute_length_mm: 95.0,
            stickout_mm: 100.0,
            ..crate::tool::Tool::micro_flat(1.0)
        };
        let h = Heights {
            final_depth_mm: 90.0,
            ..Heights::default()
        };
        let cut = CutParams {
            heights: h,
            stepdown_mm: Some(0.001),
            ..CutParams::default()
        };
        let e = cut.check("pocket", &tool).unwrap_err().to_string();
        assert!(e.contains("stepdown_mm") && e.contains("levels"), "{e}");
    }

    #[test]
    fn levels_are_even_and_end_at_the_bottom() {
        let l = z_levels(0.0, -0.3, Some(0.1), 1e-4);
        assert_eq!(l.len(), 3);
        assert!((l[2] + 0.3).abs() < 1e-15);
        assert_eq!(z_levels(0.0, -0.25, Some(0.1), 1e-4).len(), 3);
        assert_eq!(z_levels(0.0, -0.25, None, 1e-4), vec![-0.25]);
    }
}
