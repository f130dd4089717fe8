//! Adaptive clearing: clears pockets so that the tool's radial engagement stays at or below a
//! set angle, with arcs, for micro end mills that break when engagement jumps.
//!
//! The method: in each connected tool-centre domain the tool enters on a helix at the point
//! deepest inside, and the cleared area then grows as a front: the level curves of the
//! geodesic distance from the entry (the distance inside the domain, around islands). Each
//! level curve is one pass; neighbouring passes are a step `s` apart, so the tool cuts a band
//! of width `s` whatever the shape of the pocket. Convex corners of the cleared area are
//! what raise engagement in an offset pocket; here a front's curvature radius is its distance
//! from the entry (or from an island it wraps), so near the entry the step is made smaller,
//! from the engagement of a tool of radius `r` stepping `s` outward around a circle of radius
//! `a`: cos φ = (2a(r − s) − s²) / (2r(a + s)), which tends to (r − s)/r on straight fronts.
//!
//! Passes are cut in the order the material allows (a pass only once the passes before it
//! nearby are cut), the nearest first, joined by links that stay down inside cleared area and
//! lift only when no such link exists. Each Z level ends with one pass along the domain's
//! walls, which removes what the fronts leave there. Passes are fitted with arcs.

mod emit;
mod fronts;
mod order;
mod plan;

use std::collections::BTreeMap;

use cavalier_contours::polyline::{PlineSource, PlineSourceMut, PlineVertex};
use serde::{Deserialize, Serialize};

use super::clearing::{clearing_levels, narrow_warning, region_name, rest_or_all};
use super::{
    Cancel, Cursor, CutParams, Direction, Entry, EntryKind, FeedEstimate, OpError, OpResult,
    param_err,
};
use crate::geometry::biarc::fit_polyline;
use crate::geometry::bulge::{seg_len, seg_point};
use crate::geometry::offset::{Inset, OffsetComponent, dropped_warning, orient};
use crate::geometry::{Pline, Region, Tolerance, V2};
use crate::tool::Tool;
use crate::toolpath::emit::loop_path;
use crate::toolpath::{MoveClass, P3};

use emit::{emit_domain, emit_walls, ramp_target};
use fronts::Field;
use order::{order_passes, segment_ok};
use plan::{Tiles, grad_at, inside, plan_domain, t_at};
use rayon::prelude::*;

/// Adaptive clearing parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdaptiveParams {
    /// Heights, step-down, allowances, direction and entry.
    #[serde(flatten)]
    pub cut: CutParams,
    /// Largest radial engagement angle, degrees.
    pub max_engagement_deg: f64,
    /// The limit as a radial width ("optimal load"), a fraction of the tool diameter; when
    /// set it replaces `max_engagement_deg` (10 % is 36.9°).
    pub optimal_load: Option<f64>,
    /// Rest machining: the diameter of a larger tool that cleared the same regions before;
    /// only what it could not reach is cut.
    pub rest_from_diameter_mm: Option<f64>,
}

impl Default for AdaptiveParams {
    fn default() -> Self {
        Self {
            cut: CutParams::default(),
            max_engagement_deg: 60.0,
            optimal_load: None,
            rest_from_diameter_mm: None,
        }
    }
}

impl AdaptiveParams {
    /// The engagement limit in degrees, from the angle or the optimal load.
    pub fn engagement_deg(&self) -> f64 {
        match self.optimal_load {
            Some(f) => (1.0 - 2.0 * f).clamp(-1.0, 1.0).acos().to_degrees(),
            None => self.max_engagement_deg,
        }
    }
}

/// Engagement angle (radians) of a tool of radius `r` whose centre steps `s` outward around a
/// cleared circle of centre-path radius `a` (material outside radius `a + r`).
pub fn engagement(r: f64, a: f64, s: f64) -> f64 {
    let c = if a.is_finite() {
        (2.0 * a * (r - s) - s * s) / (2.0 * r * (a + s))
    } else {
        (r - s) / r
    };
    c.clamp(-1.0, 1.0).acos()
}

/// The largest step with engagement at most `phi` around a front of curvature radius `a`
/// (bisection; engagement grows with the step).
pub fn step_for(r: f64, a: f64, phi: f64, s_max: f64) -> f64 {
    if engagement(r, a, s_max) <= phi {
        return s_max;
    }
    let (mut lo, mut hi) = (0.0, s_max);
    for _ in 0..50 {
        let m = 0.5 * (lo + hi);
        if engagement(r, a, m) <= phi {
            lo = m;
        } else {
            hi = m;
        }
    }
    lo
}

/// Radius of the fronts' bends at walls, in tool radii: larger bends allow larger steps but
/// leave the walls later; 2 costs about a quarter more path than straight fronts would.
const BEND_RADII: f64 = 3.0;

/// Most passes' length in one area, mm (10 km: a few million moves).
const MAX_PASS_LENGTH_MM: f64 = 1.0e7;

/// Grid nodes per tool radius of the distance field.
const GRID_PER_RADIUS: f64 = 4.0;

/// Slowness in necks and arms narrower than the fronts' bends: enough that fronts go round
/// rather than through them.
const NECK_SLOWNESS: f64 = 6.0;

/// Most grid nodes of one domain's distance field.
const MAX_NODES: f64 = 6.0e6;
/// Most passes in one domain (a sanity bound against absurd steps).
const MAX_LEVELS: usize = 200_000;

/// One pass: a piece of a level curve, fitted.
struct Pass {
    level: usize,
    path: Vec<PlineVertex<f64>>,
    closed: bool,
    /// Tiles the pass touches.
    own: Vec<u32>,
    /// Tiles within one tile of those.
    near: Vec<u32>,
}

/// How the tool gets to a pass: along a lead-in from `q`, which lies in cleared area,
/// staying down from where it was, or lifting and coming down at `q`.
#[derive(Debug, Clone)]
enum Link {
    /// Through these points (the last is the lead-in's start).
    Stay(Vec<V2>),
    Lift(V2),
    /// Straight on from where the tool is (a spiral step onto the next closed front).
    Direct,
}

/// One pass in cutting order: the pass, how the tool gets there, and the lead-in arc onto it
/// (centre, counter-clockwise), if any.
type Step = (usize, Link, Option<(V2, bool)>);

/// Where the tool gets down into one part of a domain.
struct Entry2 {
    src: V2,
    /// Helix radius; 0 for a ramp entry.
    rh: f64,
    /// The other end of the ramp (no room for a helix); `None` plunges.
    ramp_to: Option<V2>,
}

/// One connected domain of fronts.
struct DomainPlan {
    entries: Vec<Entry2>,
    /// The domain's outer loop, to ramp along when there is no room for a helix or a ramp.
    edge: Vec<PlineVertex<f64>>,
    passes: Vec<Pass>,
    /// Pass, how to get there, and the lead-in arc (centre, counter-clockwise) onto it, if any.
    order: Vec<Step>,
}

/// A wall component: its domains, then the wall pass.
struct Plan {
    domains: Vec<DomainPlan>,
    walls: OffsetComponent,
    /// The area of the region this plan clears, mm².
    area: f64,
}

fn comp_area(c: &OffsetComponent) -> f64 {
    c.outer.area().abs() - c.holes.iter().map(|h| h.area().abs()).sum::<f64>()
}

/// Generates the adaptive clearing toolpath for `regions`.
pub fn adaptive(
    regions: &[Region],
    tool: &Tool,
    p: &AdaptiveParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "adaptive";
    p.cut.check(OP, tool)?;
    let d = tool.diameter_mm;
    let r = tool.radius_mm();
    if let Some(f) = p.optimal_load
        && !(f.is_finite() && f > 0.0 && f <= 1.0)
    {
        return Err(param_err(
            OP,
            "optimal_load",
            format!(
                "is {f}; give a fraction of the tool diameter above 0 and at most 1 (0.1 = 10 %)"
            ),
        ));
    }
    let deg = p.engagement_deg();
    if !(deg.is_finite() && deg > 0.0 && deg <= 180.0) {
        return Err(param_err(
            OP,
            "max_engagement_deg",
            format!("is {deg}; give an angle above 0 and at most 180 degrees"),
        ));
    }
    let phi = deg.to_radians();
    let s_max = (r * (1.0 - phi.cos())).min(0.9 * d);
    if s_max < 20.0 * tol.path_mm {
        return Err(param_err(
            OP,
            "max_engagement_deg",
            format!(
                "is {deg}: with the {d} mm tool that is a step of {s_max:.6} mm, below twenty times the path tolerance; allow more engagement"
            ),
        ));
    }
    let mut out = OpResult::default();
    let rest = rest_or_all(
        OP,
        regions,
        p.rest_from_diameter_mm,
        (d, p.cut.allowance_radial_mm),
        tol,
        &mut out.warnings,
    )?;
    let regions: &[Region] = &rest;
    let rest_mode = p.rest_from_diameter_mm.is_some();
    let g = Geom {
        r,
        d,
        phi,
        s_max,
        // Fronts are fitted within `fit` and clipped to the domain shrunk by twice as much, so
        // the fitted passes never leave the domain; the wall pass takes the sliver.
        // (Not `clamp`: a user's path tolerance may exceed the sampled-fit limit.)
        fit: (s_max * 0.1).min(tol.sampled_fit_mm).max(tol.path_mm),
        ccw: p.cut.direction == Direction::Climb,
        tol: *tol,
    };
    let mut plans = Vec::new();
    for (ri, region) in regions.iter().enumerate() {
        cancel.check()?;
        let inset = Inset::of_region(region, tol);
        let walls = inset.at(r + p.cut.allowance_radial_mm, tol);
        if walls.is_empty() {
            if !rest_mode {
                out.warnings.push(narrow_warning(
                    OP,
                    &region_name(ri, region),
                    d,
                    p.cut.allowance_radial_mm,
                ));
            }
            continue;
        }
        let inner = inset.at(r + p.cut.allowance_radial_mm + g.margin(), tol);
        out.warnings.extend(dropped_warning(
            OP,
            &format!("the domain of {}", region_name(ri, region)),
            &inset,
        ));
        let walls_area: f64 = walls.iter().map(comp_area).sum();
        for w in walls {
            let domains = inner
                .iter()
                .filter(|c| {
                    let v = c.outer.at(0);
                    w.contains(V2::new(v.x, v.y))
                })
                .map(|c| plan_domain(c, &g, &p.cut.entry, cancel))
                .collect::<Result<Vec<_>, _>>()?;
            // The piece's share of the region's area, by the areas of the pieces.
            let share = region.area() * comp_area(&w) / walls_area.max(f64::MIN_POSITIVE);
            plans.push(Plan {
                domains,
                walls: w,
                area: share,
            });
        }
    }
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    let z_top = -p.cut.heights.start_depth_mm;
    let levels = clearing_levels(&p.cut, tol);
    // The area cleared (the regions that have room for the tool), over the levels, for the
    // feed estimate at the largest step the engagement limit allows.
    let area: f64 = plans.iter().map(|pl| pl.area).sum::<f64>() * levels.len() as f64;
    for plan in &plans {
        let mut z_prev = z_top;
        for &(z, _) in &levels {
            cancel.check()?;
            let before = cur.tp.moves.len();
            for dp in &plan.domains {
                emit_domain(&mut cur, dp, z_prev, z, &g, &p.cut.entry);
            }
            // The walls enter on their own (ramping along the loop) unless the fronts cut
            // something here: a domain too small for an entry cuts nothing, and a descent
            // "into cleared space" there was a rapid into stock.
            let nothing_cut = cur.tp.moves[before..]
                .iter()
                .all(|m| matches!(m.motion, crate::toolpath::Motion::Rapid));
            emit_walls(&mut cur, &plan.walls, nothing_cut, z_prev, z, &g);
            cur.retract();
            z_prev = z;
        }
        cur.retract_clearance();
    }
    cur.retract_clearance();
    out.toolpath = cur.tp;
    out.estimate = Some(FeedEstimate {
        area_mm2: area,
        stepover_mm: s_max,
        warn_ratio: FeedEstimate::ADAPTIVE_RATIO,
    });
    Ok(out)
}

impl Geom {
    /// How far inside the tool-centre domain the fronts are clipped: twice the fit tolerance
    /// (the fitter meets it at its samples, and a corner of the traced curve between two
    /// samples may sit a little farther from the arc), plus the sagitta of a grid-cell chord
    /// on the tightest wall (a tool radius), as the traced points are a cell apart.
    fn margin(&self) -> f64 {
        let h = self.r / GRID_PER_RADIUS;
        2.0 * self.fit + 2.0 * h * h / (8.0 * self.r)
    }
}

/// Sizes shared by the planning steps.
struct Geom {
    r: f64,
    d: f64,
    phi: f64,
    s_max: f64,
    fit: f64,
    ccw: bool,
    tol: Tolerance,
}
