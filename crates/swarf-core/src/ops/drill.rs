//! Drilling: spot, drill (G81), drill with dwell (G82), peck (G83) and chip-break (G73) at the
//! drawing's holes of a diameter range, in a short order. Each hole's motion is the canned
//! cycle as the controller runs it ([`Canned::expand`]) when the peck schedule is one a
//! controller's cycle can do (pecks of one size counted from R, backing off 0.254 mm); the post
//! may then write the cycle. A decreasing schedule or another back-off is the same motion
//! with other numbers, written as G0/G1.

use serde::{Deserialize, Serialize};

use super::{Cancel, CutParams, OpError, OpResult, param_err};
use crate::geometry::{Tolerance, V2};
use crate::holes::{self, HoleGroup};
use crate::tool::{Tool, ToolShape};
use crate::toolpath::{Canned, CycleKind, CycleSpan, P3, PECK_BACKOFF_MM, Toolpath};

/// Which drilling cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DrillCycle {
    /// A short drill to centre the holes (G81, or G82 with a dwell).
    Spot,
    /// Straight to depth (G81, or G82 with a dwell).
    #[default]
    Drill,
    /// Pecks with a full retract to R after each (G83).
    Peck,
    /// Pecks with a small retract to break the chip (G73).
    ChipBreak,
}

impl DrillCycle {
    pub const ALL: [DrillCycle; 4] = [
        DrillCycle::Spot,
        DrillCycle::Drill,
        DrillCycle::Peck,
        DrillCycle::ChipBreak,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DrillCycle::Spot => "spot",
            DrillCycle::Drill => "drill",
            DrillCycle::Peck => "peck",
            DrillCycle::ChipBreak => "chip-break",
        }
    }
}

/// To which depth the final depth is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DepthTo {
    /// The drill's tip reaches the final depth.
    #[default]
    Tip,
    /// The drill's full diameter reaches the final depth (the tip goes its point's length
    /// deeper: D / (2·tan(θ/2))).
    FullDiameter,
}

/// Drilling parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DrillParams {
    /// Heights (the safe height is the retract plane R) and the final depth.
    #[serde(flatten)]
    pub cut: CutParams,
    pub cycle: DrillCycle,
    /// The holes drilled: diameters from … to … (mm); none given: every hole.
    pub diameter_min_mm: f64,
    pub diameter_max_mm: Option<f64>,
    /// The first peck (G83, G73), mm; 0: the tool's diameter.
    pub peck_mm: f64,
    /// Each peck is this much shorter than the one before, mm (0: all pecks alike).
    pub peck_reduction_mm: f64,
    /// The shortest peck, mm (0: a quarter of the first).
    pub min_peck_mm: f64,
    /// How far above the last depth the drill comes back down (G83) or backs out (G73), mm.
    /// Controllers use 0.254 (0.010 in); another value is written as G0/G1.
    pub backoff_mm: f64,
    /// Dwell at the bottom, seconds (G82).
    pub dwell_s: f64,
    pub depth_to: DepthTo,
    /// Extra depth below the final depth for holes through the stock, mm.
    pub breakthrough_mm: f64,
    /// Back to the clearance height after each hole (G98) instead of the retract plane (G99),
    /// for clamps or steps between holes.
    pub retract_to_clearance: bool,
}

impl Default for DrillParams {
    fn default() -> Self {
        let mut cut = CutParams::default();
        cut.heights.safe_mm = 0.2;
        cut.heights.final_depth_mm = 0.5;
        Self {
            cut,
            cycle: DrillCycle::Drill,
            diameter_min_mm: 0.0,
            diameter_max_mm: None,
            peck_mm: 0.0,
            peck_reduction_mm: 0.0,
            min_peck_mm: 0.0,
            backoff_mm: PECK_BACKOFF_MM,
            dwell_s: 0.0,
            depth_to: DepthTo::Tip,
            breakthrough_mm: 0.0,
            retract_to_clearance: false,
        }
    }
}

impl DrillParams {
    /// The peck schedule: first, reduction, minimum.
    fn pecks(&self, tool: &Tool) -> (f64, f64, f64) {
        let first = if self.peck_mm > 0.0 {
            self.peck_mm
        } else {
            tool.diameter_mm
        };
        let min = if self.min_peck_mm > 0.0 {
            self.min_peck_mm.min(first)
        } else {
            first * 0.25
        };
        (first, self.peck_reduction_mm, min)
    }

    fn check(&self, tool: &Tool) -> Result<(), OpError> {
        const OP: &str = "drill";
        self.cut.check(OP, tool)?;
        let nonneg = |param: &'static str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(param_err(
                    OP,
                    param,
                    format!("is {v}; it must be 0 or more"),
                ))
            }
        };
        nonneg("diameter_min_mm", self.diameter_min_mm)?;
        nonneg("peck_mm", self.peck_mm)?;
        nonneg("peck_reduction_mm", self.peck_reduction_mm)?;
        nonneg("min_peck_mm", self.min_peck_mm)?;
        nonneg("dwell_s", self.dwell_s)?;
        nonneg("breakthrough_mm", self.breakthrough_mm)?;
        if let Some(m) = self.diameter_max_mm
            && !(m.is_finite() && m >= self.diameter_min_mm)
        {
            return Err(param_err(
                OP,
                "diameter_max_mm",
                format!(
                    "is {m}; it must be at least diameter_min_mm ({})",
                    self.diameter_min_mm
                ),
            ));
        }
        if !(self.backoff_mm.is_finite() && self.backoff_mm > 0.0 && self.backoff_mm <= 5.0) {
            return Err(param_err(
                OP,
                "backoff_mm",
                format!(
                    "is {}; use 0.001 to 5 mm (controllers: 0.254)",
                    self.backoff_mm
                ),
            ));
        }
        if self.dwell_s > 3600.0 {
            return Err(param_err(
                OP,
                "dwell_s",
                format!("is {} s; at most an hour", self.dwell_s),
            ));
        }
        if matches!(self.cycle, DrillCycle::Peck | DrillCycle::ChipBreak) {
            let (first, _, min) = self.pecks(tool);
            let depth = self.cut.heights.final_depth_mm + self.cut.heights.safe_mm;
            if depth / min > 100_000.0 {
                return Err(param_err(
                    OP,
                    "min_peck_mm",
                    format!(
                        "{min} mm pecks (first {first} mm) make more than 100000 pecks; use longer pecks"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Drills the holes of `groups` within the diameter range.
pub fn drill(
    groups: &[HoleGroup],
    tool: &Tool,
    p: &DrillParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    drill_from(groups, tool, p, V2::new(0.0, 0.0), tol, cancel)
}

/// [`drill`] with the tool above `from` at the start (where the operation before ended): the
/// holes are ordered from there.
pub fn drill_from(
    groups: &[HoleGroup],
    tool: &Tool,
    p: &DrillParams,
    from: V2,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    p.check(tool)?;
    let h = &p.cut.heights;
    let mut out = OpResult {
        toolpath: Toolpath::new(P3::new(from.x, from.y, h.clearance_mm)),
        ..OpResult::default()
    };
    let chosen = holes::in_range(groups, p.diameter_min_mm, p.diameter_max_mm, tol);
    if chosen.is_empty() {
        out.warnings.push(format!(
            "drill: no holes of {} in the drawing (holes found: {}); change the diameter range \
             or check that the holes are drawn as circles",
            range_text(p),
            holes::describe(groups)
        ));
        return Ok(out);
    }
    // The tool against the holes.
    let grow = tol.hole_diameter_mm;
    if p.cycle != DrillCycle::Spot {
        for g in &chosen {
            if tool.diameter_mm > g.diameter_mm + grow {
                return Err(param_err(
                    "drill",
                    "tool",
                    format!(
                        "the {} mm tool {} is larger than the {:.4} mm holes (the first at ({:.4}, \
                         {:.4})): choose a smaller drill or narrow the diameter range",
                        tool.diameter_mm,
                        tool.number,
                        g.diameter_mm,
                        g.centres[0].x,
                        g.centres[0].y
                    ),
                ));
            }
            if tool.diameter_mm < g.diameter_mm - grow {
                out.warnings.push(format!(
                    "drill: the {:.4} mm holes ({}) are drilled with the {} mm tool and come out \
                     {} mm; open them with helical-bore, or use a {:.4} mm drill",
                    g.diameter_mm,
                    g.centres.len(),
                    tool.diameter_mm,
                    tool.diameter_mm,
                    g.diameter_mm
                ));
            }
        }
    }
    if !matches!(tool.shape, ToolShape::Drill { .. } | ToolShape::V { .. }) {
        out.warnings.push(format!(
            "drill: tool {} ({}) is an end mill; drilling with it plunges at its plunge feed",
            tool.number, tool.name
        ));
    }
    let pts: Vec<V2> = chosen
        .iter()
        .flat_map(|g| g.centres.iter().copied())
        .collect();
    let start = out.toolpath.start.xy();
    let order = holes::order(&pts, start);
    cancel.check()?;
    let (ours, input) = (
        holes::travel(start, &pts, &order),
        holes::travel(start, &pts, &(0..pts.len()).collect::<Vec<_>>()),
    );
    out.notes.push(format!(
        "drill: {} hole(s) of {}, ordered: {:.1} mm of travel between them (in the drawing's \
         order {:.1} mm)",
        pts.len(),
        chosen
            .iter()
            .map(|g| format!("{:.4} mm", g.diameter_mm))
            .collect::<Vec<_>>()
            .join(", "),
        ours,
        input
    ));

    let tip = match p.depth_to {
        DepthTo::Tip => 0.0,
        DepthTo::FullDiameter => tool.tip_length_mm(),
    };
    let depth = h.final_depth_mm + p.breakthrough_mm + tip;
    if depth > tool.flute_length_mm {
        return Err(param_err(
            "drill",
            "final_depth_mm",
            format!(
                "with the point ({tip:.4} mm) and breakthrough ({} mm) the drill goes {depth:.4} \
                 mm deep, beyond its {} mm flutes; use a longer drill or drill less deep",
                p.breakthrough_mm, tool.flute_length_mm
            ),
        ));
    }
    let feed = if matches!(tool.shape, ToolShape::Drill { .. }) {
        tool.feed_mm_per_min()
    } else {
        tool.feeds.plunge_mm_per_min
    };
    let kind = match p.cycle {
        DrillCycle::Spot | DrillCycle::Drill if p.dwell_s > 0.0 => CycleKind::DrillDwell,
        DrillCycle::Spot | DrillCycle::Drill => CycleKind::Drill,
        DrillCycle::Peck => CycleKind::Peck,
        DrillCycle::ChipBreak => CycleKind::ChipBreak,
    };
    let (first, reduction, min) = p.pecks(tool);
    let uniform = reduction == 0.0 || min >= first;
    // The controllers' cycles can do this schedule: one peck size and their back-off.
    let canned_ok = !matches!(kind, CycleKind::Peck | CycleKind::ChipBreak)
        || (uniform && (p.backoff_mm - PECK_BACKOFF_MM).abs() < 1e-9);
    if !canned_ok {
        out.notes.push(format!(
            "drill: the peck schedule (first {first} mm, {reduction} mm shorter each, at least \
             {min} mm, back-off {} mm) is not one a canned cycle does (pecks of one size, \
             0.254 mm back-off): written as G0/G1 moves",
            p.backoff_mm
        ));
    }
    out.hole_order = order.iter().map(|&i| pts[i]).collect();
    let initial = h.clearance_mm;
    // Over the first hole at the clearance height: a known place to start the cycles from.
    let first_at = pts[order[0]];
    out.toolpath
        .rapid(P3::new(first_at.x, first_at.y, h.clearance_mm));
    for (k, &i) in order.iter().enumerate() {
        if k % 64 == 0 {
            cancel.check()?;
        }
        let c = Canned {
            kind,
            at: pts[i],
            bottom_z: -depth,
            r_z: h.safe_mm,
            q_mm: if kind == CycleKind::Peck || kind == CycleKind::ChipBreak {
                first
            } else {
                0.0
            },
            dwell_s: p.dwell_s,
            return_to_initial: p.retract_to_clearance,
            feed_mm_per_min: feed,
        };
        let tp = &mut out.toolpath;
        let before = tp.moves.len();
        if canned_ok {
            c.expand(tp, initial);
            let end = tp.moves.len();
            tp.cycles.push(CycleSpan {
                first: before,
                end,
                canned: c,
            });
        } else {
            // The schedule's shortest peck is the cycle's Q.
            let c = Canned { q_mm: min, ..c };
            c.expand_schedule(tp, initial, first, reduction, p.backoff_mm);
        }
    }
    let end = out.toolpath.end();
    out.toolpath.rapid(P3::new(end.x, end.y, h.clearance_mm));
    Ok(out)
}

fn range_text(p: &DrillParams) -> String {
    match p.diameter_max_mm {
        Some(m) => format!("{} to {m} mm", p.diameter_min_mm),
        None if p.diameter_min_mm > 0.0 => format!("{} mm or more", p.diameter_min_mm),
        None => "any diameter".into(),
    }
}
