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

mod fronts;

use std::collections::BTreeMap;

use cavalier_contours::polyline::{PlineSource, PlineSourceMut, PlineVertex};
use serde::{Deserialize, Serialize};

use super::pocket::{clearing_levels, narrow_warning, region_name, rest_or_all};
use super::{Cancel, Cursor, CutParams, Direction, Entry, EntryKind, OpError, OpResult, param_err};
use crate::geometry::biarc::fit_polyline;
use crate::geometry::offset::{OffsetComponent, inset_region, orient};
use crate::geometry::{Pline, Region, Tolerance, V2};
use crate::tool::Tool;
use crate::toolpath::emit::{loop_path, seg_len, seg_point};
use crate::toolpath::{MoveClass, P3};

use fronts::Field;
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
        let walls = inset_region(region, r + p.cut.allowance_radial_mm, tol);
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
        let inner = inset_region(region, r + p.cut.allowance_radial_mm + g.margin(), tol);
        for w in walls {
            let domains = inner
                .iter()
                .filter(|c| {
                    let v = c.outer.at(0);
                    w.contains(V2::new(v.x, v.y))
                })
                .map(|c| plan_domain(c, &g, &p.cut.entry, cancel))
                .collect::<Result<Vec<_>, _>>()?;
            plans.push(Plan { domains, walls: w });
        }
    }
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    let z_top = -p.cut.heights.start_depth_mm;
    let levels = clearing_levels(&p.cut, tol);
    for plan in &plans {
        let mut z_prev = z_top;
        for &(z, _) in &levels {
            cancel.check()?;
            for dp in &plan.domains {
                emit_domain(&mut cur, dp, z_prev, z, &g, &p.cut.entry);
            }
            emit_walls(
                &mut cur,
                &plan.walls,
                plan.domains.is_empty(),
                z_prev,
                z,
                &g,
            );
            cur.retract();
            z_prev = z;
        }
        cur.retract_clearance();
    }
    cur.retract_clearance();
    out.toolpath = cur.tp;
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

/// Fronts, passes and their order for one connected domain.
fn plan_domain(
    c: &OffsetComponent,
    g: &Geom,
    entry: &Entry,
    cancel: &Cancel,
) -> Result<DomainPlan, OpError> {
    let (r, d) = (g.r, g.d);
    let eq = g.tol.equal_point_mm;
    let bw = c.bbox.width().max(eq);
    let bh = c.bbox.height().max(eq);
    let h = (r / GRID_PER_RADIUS)
        .min(g.s_max)
        .max(((bw + 8.0 * r) * (bh + 8.0 * r) / MAX_NODES).sqrt());
    // A sanity bound, not a machining rule: the passes' total length is about the area over
    // the step; beyond the bound the program would not fit in memory or on a controller.
    let est_len = c.outer.area().abs() / (0.5 * g.s_max);
    if est_len > MAX_PASS_LENGTH_MM {
        return Err(param_err(
            "adaptive",
            "max_engagement_deg",
            format!(
                "would need about {:.0} m of passes in one area with the {d} mm tool; use a larger \
                 tool or allow more engagement",
                est_len / 1000.0
            ),
        ));
    }
    let mut field = Field::new(c, h, eq);
    // Fronts turn tangent to the walls in fillets of about `rho`, and wrap round islands no
    // tighter than that: every convex bend of a front is at least `rho` (or, near the entry,
    // its distance from the entry), and the step is the one that holds the engagement there.
    // At most BEND_RADII tool radii, and no more than half the domain's own largest inscribed
    // radius, so a small pocket is not all "narrow".
    let rho = (BEND_RADII * r).min(0.5 * field.deepest().1).max(0.5 * r);
    // Where the domain is narrower than `2·rho` (a neck between an island and a wall, a thin
    // arm) fronts cannot keep that radius: such places are slowed down so the fronts go round
    // them rather than squeezing through and fanning out on the far side, and every part of
    // the domain wider than that gets an entry of its own.
    let (open, parts) = field.opening(rho);
    // A helix at a point (the deepest of a part), as large as the entry asks and there is room
    // for; none where it would be tiny.
    let entry_at = |p0: V2, depth: f64| {
        let src = if depth > 0.0 && c.contains(p0) {
            p0
        } else {
            let v = c.outer.at(0);
            V2::new(v.x, v.y)
        };
        let avail =
            super::pocket::boundary_distance(std::slice::from_ref(c), src, eq) - g.tol.path_mm;
        let mut rh = (0.5 * entry.helix_diameter_frac * d).min(avail);
        if entry.kind != EntryKind::Helix || rh < 0.1 * d || !c.contains(src) {
            rh = 0.0;
        }
        Entry2 {
            src,
            rh,
            ramp_to: None,
        }
    };
    let mut entries: Vec<Entry2> = parts.iter().map(|&(p0, dp)| entry_at(p0, dp)).collect();
    if entries.is_empty() {
        // Narrower than `2·rho` everywhere: one entry at the deepest point.
        let (p0, dp) = field.deepest();
        entries.push(entry_at(p0, dp));
    }
    // Parts without room for a helix are reached by the fronts of the others; only when none
    // has room does one ramp in (never a plunge unless asked for).
    if entries.iter().any(|e| e.rh > 0.0) {
        entries.retain(|e| e.rh > 0.0);
    } else {
        entries.truncate(1);
    }
    let mut slow = field.slowness(c, rho);
    for ((f, &o), &dp) in slow.iter_mut().zip(&open).zip(&field.depth) {
        if o == 0 && dp > 0.0 {
            *f = f.max(NECK_SLOWNESS);
        }
    }
    let srcs: Vec<V2> = entries.iter().map(|e| e.src).collect();
    field.march(c, &srcs, &slow);
    let t_max = field.max_inside();
    // Level values: small steps while the front is tightly curved, near the entry.
    let mut levels = Vec::new();
    let l0 = entries.iter().map(|e| e.rh).fold(f64::INFINITY, f64::min);
    let mut l = l0;
    loop {
        let s = step_for(r, l.max(0.25 * r).min(rho), g.phi, g.s_max).max(g.s_max * 0.02);
        l += s;
        if l > t_max + s {
            break;
        }
        levels.push(l);
        if levels.len() > MAX_LEVELS {
            return Err(param_err(
                "adaptive",
                "max_engagement_deg",
                format!(
                    "gives more than {MAX_LEVELS} passes in one area; allow more engagement or use a larger tool"
                ),
            ));
        }
    }
    cancel.check()?;
    let tiles = Tiles::new(&field, r + g.s_max + 2.0 * h);
    let contours = field.contours(&levels);
    // Clipping, smoothing and arc fitting of each level curve are independent: in parallel.
    let mut passes: Vec<Pass> = contours
        .into_par_iter()
        .flat_map_iter(|(li, pts, closed)| {
            let mut out = Vec::new();
            if cancel.requested() {
                return out;
            }
            // Smoothed before clipping, so the clipped ends lie exactly on the domain's edge
            // and every point stays inside it; the fit then stays within `fit` of them.
            let mut pts = pts;
            smooth(&mut pts, closed);
            for (mut run, closed) in clip_chain(&field, c, pts, closed) {
                if !g.ccw {
                    run.reverse();
                }
                let len: f64 = run.windows(2).map(|w| w[0].dist(w[1])).sum();
                if len <= 2.0 * g.fit {
                    continue;
                }
                let path = fit_within(&field, c, &run, g.fit, eq);
                if path.len() < 2 {
                    continue;
                }
                let (own, near) = tiles.cover(&run);
                out.push(Pass {
                    level: li,
                    path,
                    closed,
                    own,
                    near,
                });
            }
            out
        })
        .collect();
    cancel.check()?;
    for e in &mut entries {
        if e.rh == 0.0 {
            e.ramp_to = ramp_target(c, e.src, &passes, d);
        }
    }
    let last = entries.last().expect("at least one entry");
    let start = last.src + V2::new(last.rh, 0.0);
    let order = order_passes(&mut passes, &field, &levels, l0, &tiles, c, start, g);
    let mut edge = c.outer.clone();
    orient(&mut edge, g.ccw);
    Ok(DomainPlan {
        entries,
        edge: loop_path(&edge),
        passes,
        order,
    })
}

/// Taubin smoothing (a shrinking and an inflating Laplacian step, repeated) of a traced level
/// curve: takes out the kinks that marching squares leaves at cell edges without moving the
/// curve as a whole. The ends of open chains stay where they are.
fn smooth(pts: &mut [V2], closed: bool) {
    let n = pts.len();
    if n < 4 {
        return;
    }
    let mut tmp = pts.to_vec();
    for _ in 0..4 {
        for lambda in [0.5, -0.53] {
            for k in 0..n {
                let (prev, next) = if closed {
                    // The last point repeats the first.
                    let m = n - 1;
                    let kk = k % m;
                    (pts[(kk + m - 1) % m], pts[(kk + 1) % m])
                } else if k == 0 || k == n - 1 {
                    tmp[k] = pts[k];
                    continue;
                } else {
                    (pts[k - 1], pts[k + 1])
                };
                let mid = (prev + next) * 0.5;
                tmp[k] = pts[k] + (mid - pts[k]) * lambda;
            }
            pts.copy_from_slice(&tmp);
        }
    }
}

/// Arcs through the traced points within `fit`, checked against the domain: the fitter meets
/// its tolerance at samples, and a hairpin turn between two of them can be missed; such a
/// piece is refitted tighter, and as a last resort written as the lines through its points
/// (which all lie inside).
fn fit_within(
    field: &Field,
    c: &OffsetComponent,
    pts: &[V2],
    fit: f64,
    eq: f64,
) -> Vec<PlineVertex<f64>> {
    let ok = |path: &[PlineVertex<f64>]| {
        path.windows(2).all(|w| {
            let n = ((seg_len(w[0], w[1]) / (0.25 * field.h)).ceil() as usize).clamp(4, 4096);
            (1..n).all(|k| {
                let q = seg_point(w[0], w[1], k as f64 / n as f64);
                inside(field, c, q)
                    || super::pocket::boundary_distance(std::slice::from_ref(c), q, eq) <= fit
            })
        })
    };
    let mut thinned = pts.to_vec();
    thin(&mut thinned, field.h);
    for t in [fit, 0.25 * fit] {
        let path = fit_polyline(&thinned, 60.0, t, eq);
        if ok(&path) {
            return path;
        }
    }
    let mut lines: Vec<PlineVertex<f64>> = Vec::with_capacity(pts.len());
    for p in pts {
        if lines.last().is_none_or(|l| V2::new(l.x, l.y).dist(*p) > eq) {
            lines.push(PlineVertex::new(p.x, p.y, 0.0));
        }
    }
    lines
}

/// Drops points closer than `gap` to the last kept one (the ends stay): marching squares puts
/// a point on every cell edge, more than a smooth curve needs for fitting.
fn thin(pts: &mut Vec<V2>, gap: f64) {
    let n = pts.len();
    if n < 3 {
        return;
    }
    let last = pts[n - 1];
    let mut k = 1;
    for i in 1..n - 1 {
        if pts[i].dist(pts[k - 1]) >= gap {
            pts[k] = pts[i];
            k += 1;
        }
    }
    pts[k] = last;
    pts.truncate(k + 1);
}

/// Whether `p` is inside `c`, using the raster where it is sure.
fn inside(field: &Field, c: &OffsetComponent, p: V2) -> bool {
    let i = ((p.x - field.origin.x) / field.h).round();
    let j = ((p.y - field.origin.y) / field.h).round();
    if i >= 0.0 && j >= 0.0 && (i as usize) < field.nx && (j as usize) < field.ny {
        let k = j as usize * field.nx + i as usize;
        if field.depth[k] >= 1.5 * field.h {
            return true;
        }
    }
    c.contains(p)
}

/// The parts of a chain inside the domain, cut exactly at its boundary (by bisection).
fn clip_chain(
    field: &Field,
    c: &OffsetComponent,
    mut pts: Vec<V2>,
    closed: bool,
) -> Vec<(Vec<V2>, bool)> {
    let ins: Vec<bool> = pts.iter().map(|&q| inside(field, c, q)).collect();
    if ins.iter().all(|&b| b) {
        return vec![(pts, closed)];
    }
    let mut ins = ins;
    if closed {
        // Start at a vertex outside, so the inside runs are contiguous.
        let k = ins.iter().position(|&b| !b).expect("one is outside");
        pts.pop();
        ins.pop();
        pts.rotate_left(k);
        ins.rotate_left(k);
        pts.push(pts[0]);
        ins.push(ins[0]);
    }
    let cross = |a: V2, b: V2| -> V2 {
        // a inside, b outside.
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..30 {
            let m = 0.5 * (lo + hi);
            if c.contains(a.lerp(b, m)) {
                lo = m;
            } else {
                hi = m;
            }
        }
        a.lerp(b, lo)
    };
    let mut out = Vec::new();
    let mut run: Vec<V2> = Vec::new();
    for k in 0..pts.len() {
        if ins[k] {
            if run.is_empty() && k > 0 {
                run.push(cross(pts[k], pts[k - 1]));
            }
            run.push(pts[k]);
        } else if !run.is_empty() {
            run.push(cross(pts[k - 1], pts[k]));
            out.push((std::mem::take(&mut run), false));
        }
    }
    if run.len() > 1 {
        out.push((run, false));
    }
    out
}

/// A coarse grid of tiles over the field, for "which passes are near".
struct Tiles {
    origin: V2,
    size: f64,
    nx: usize,
    ny: usize,
}

impl Tiles {
    fn new(field: &Field, size: f64) -> Tiles {
        let ext = V2::new(field.nx as f64 * field.h, field.ny as f64 * field.h);
        Tiles {
            origin: field.origin,
            size,
            nx: (ext.x / size).ceil() as usize + 1,
            ny: (ext.y / size).ceil() as usize + 1,
        }
    }
    fn ij(&self, p: V2) -> (usize, usize) {
        let i = ((p.x - self.origin.x) / self.size).floor().max(0.0) as usize;
        let j = ((p.y - self.origin.y) / self.size).floor().max(0.0) as usize;
        (i.min(self.nx - 1), j.min(self.ny - 1))
    }
    fn of(&self, p: V2) -> u32 {
        let (i, j) = self.ij(p);
        (j * self.nx + i) as u32
    }
    fn around(&self, t: u32, out: &mut Vec<u32>) {
        let (i, j) = (t as usize % self.nx, t as usize / self.nx);
        for jj in j.saturating_sub(1)..=(j + 1).min(self.ny - 1) {
            for ii in i.saturating_sub(1)..=(i + 1).min(self.nx - 1) {
                out.push((jj * self.nx + ii) as u32);
            }
        }
    }
    /// The tiles a chain touches, and those around them.
    fn cover(&self, pts: &[V2]) -> (Vec<u32>, Vec<u32>) {
        let mut own: Vec<u32> = Vec::new();
        for w in pts.windows(2) {
            let n = ((w[0].dist(w[1]) / (0.5 * self.size)).ceil() as usize).clamp(1, 1 << 20);
            for k in 0..=n {
                own.push(self.of(w[0].lerp(w[1], k as f64 / n as f64)));
            }
        }
        if let Some(&p) = pts.first() {
            own.push(self.of(p));
        }
        own.sort_unstable();
        own.dedup();
        let mut near = Vec::new();
        for &t in &own {
            self.around(t, &mut near);
        }
        near.sort_unstable();
        near.dedup();
        (own, near)
    }
}

/// Bilinear interpolation of the distance field (infinite where a node is outside).
fn t_at(field: &Field, p: V2) -> f64 {
    let x = (p.x - field.origin.x) / field.h;
    let y = (p.y - field.origin.y) / field.h;
    if x < 0.0 || y < 0.0 {
        return f64::INFINITY;
    }
    let (i, j) = (x.floor() as usize, y.floor() as usize);
    if i + 1 >= field.nx || j + 1 >= field.ny {
        return f64::INFINITY;
    }
    let (fx, fy) = (x - i as f64, y - j as f64);
    let k = j * field.nx + i;
    let v = [
        field.t[k],
        field.t[k + 1],
        field.t[k + field.nx],
        field.t[k + field.nx + 1],
    ];
    if v.iter().any(|t| !t.is_finite()) {
        return v.iter().copied().fold(f64::INFINITY, f64::min) + field.h;
    }
    (v[0] * (1.0 - fx) + v[1] * fx) * (1.0 - fy) + (v[2] * (1.0 - fx) + v[3] * fx) * fy
}

/// Direction of growing distance at `p` (toward uncut material).
fn grad_at(field: &Field, p: V2) -> Option<V2> {
    let e = 0.5 * field.h;
    let gx = t_at(field, p + V2::new(e, 0.0)) - t_at(field, p - V2::new(e, 0.0));
    let gy = t_at(field, p + V2::new(0.0, e)) - t_at(field, p - V2::new(0.0, e));
    let g = V2::new(gx, gy);
    (g.x.is_finite() && g.y.is_finite() && g.length() > 1e-12).then(|| g.normalized())
}

/// Unfinished passes per tile and level.
struct Pending {
    by_tile: Vec<BTreeMap<usize, u32>>,
}

impl Pending {
    /// Lowest level with an unfinished pass in the tiles within `reach` of `p`.
    fn min_near(&self, tiles: &Tiles, p: V2, reach: f64) -> usize {
        let (i0, j0) = tiles.ij(p - V2::new(reach, reach));
        let (i1, j1) = tiles.ij(p + V2::new(reach, reach));
        let mut m = usize::MAX;
        for j in j0..=j1 {
            for i in i0..=i1 {
                if let Some(&l) = self.by_tile[j * tiles.nx + i].keys().next() {
                    m = m.min(l);
                }
            }
        }
        m
    }
    fn ready(&self, pass: &Pass) -> bool {
        pass.near.iter().all(|&t| {
            self.by_tile[t as usize]
                .keys()
                .next()
                .is_none_or(|&l| l >= pass.level)
        })
    }
}

/// Orders the passes: each once the passes of lower levels around it are cut, the nearest
/// first; and chooses how to get to each (a lead-in from cleared area, staying down where the
/// straight way there is cleared).
#[allow(clippy::too_many_arguments)]
fn order_passes(
    passes: &mut [Pass],
    field: &Field,
    levels: &[f64],
    l0: f64,
    tiles: &Tiles,
    c: &OffsetComponent,
    start: V2,
    g: &Geom,
) -> Vec<Step> {
    let n = passes.len();
    let mut pend = Pending {
        by_tile: vec![BTreeMap::new(); tiles.nx * tiles.ny],
    };
    let mut watch: Vec<Vec<u32>> = vec![Vec::new(); tiles.nx * tiles.ny];
    for (pi, ps) in passes.iter().enumerate() {
        for &t in &ps.own {
            *pend.by_tile[t as usize].entry(ps.level).or_insert(0) += 1;
        }
        for &t in &ps.near {
            watch[t as usize].push(pi as u32);
        }
    }
    let mut done = vec![false; n];
    let mut queued = vec![false; n];
    let mut ready: Vec<usize> = Vec::new();
    for pi in 0..n {
        if pend.ready(&passes[pi]) {
            ready.push(pi);
            queued[pi] = true;
        }
    }
    let cleared_upto = |m: usize| -> f64 {
        if m == usize::MAX {
            f64::INFINITY
        } else if m == 0 {
            l0
        } else {
            levels[m - 1]
        }
    };
    let mut order = Vec::with_capacity(n);
    let mut here = start;
    let h = field.h;
    while order.len() < n {
        if ready.is_empty() {
            // Cannot happen with consistent levels; take the lowest level left rather than loop.
            let pi = (0..n)
                .filter(|&i| !done[i])
                .min_by_key(|&i| passes[i].level)
                .expect("some left");
            ready.push(pi);
            queued[pi] = true;
        }
        // Nearest ready pass (closed passes start where they are nearest).
        let (ri, _) = ready
            .iter()
            .enumerate()
            .map(|(k, &pi)| {
                let ps = &passes[pi];
                let dist = if ps.closed {
                    closed_nearest(ps, here, g.tol.equal_point_mm).1
                } else {
                    here.dist(V2::new(ps.path[0].x, ps.path[0].y))
                };
                (k, dist)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("not empty");
        let pi = ready.swap_remove(ri);
        let level = passes[pi].level;
        let step = levels[level] - if level == 0 { l0 } else { levels[level - 1] };
        let mut spiral = false;
        if passes[pi].closed {
            let (path, dist) = closed_nearest(&passes[pi], here, g.tol.equal_point_mm);
            // Right next to the loop (the tool has just gone round the one inside it): step
            // over to it along a shallow diagonal, a spiral, entering a few steps further on.
            let lap = crate::toolpath::emit::path_len(&path);
            if dist <= 1.5 * step + h && lap > 0.0 {
                let ahead = (8.0 * step).min(0.25 * lap);
                passes[pi].path = rotate_at(&path, ahead, g.tol.equal_point_mm);
                spiral = true;
            } else {
                passes[pi].path = path;
            }
        }
        let ps = &passes[pi];
        let b = V2::new(ps.path[0].x, ps.path[0].y);
        let step: Step = 'step: {
            if spiral && segment_ok(here, b, h, &mut |x| inside(field, c, x)) {
                break 'step (pi, Link::Direct, None);
            }
            // Lead-in: from behind the front, at a shallow angle where there is room.
            let back = step + h;
            let nrm = grad_at(field, b);
            let tan = {
                let q = seg_point(
                    ps.path[0],
                    ps.path[1],
                    (h / seg_len(ps.path[0], ps.path[1]).max(h)).min(1.0),
                );
                (q - b).normalized()
            };
            let ok_pt = |q: V2| -> bool {
                inside(field, c, q) && {
                    let m = pend.min_near(tiles, q, g.r + g.s_max);
                    t_at(field, q) <= cleared_upto(m) + 0.25 * h
                }
            };
            // Candidates behind the front, swinging from "behind and before the start" (a shallow
            // approach along the pass) round to straight behind and then to either side; the first
            // that an arc tangent to the pass joins inside the domain, else the first a line does.
            let arc_inside = |q: V2| {
                lead_arc(q, b, tan).filter(|&(cen, ccw)| {
                    let sweep = crate::toolpath::arc_sweep(q, b, cen, ccw);
                    let a0 = (q - cen).angle();
                    let rad = q.dist(cen);
                    let n = ((sweep.abs() * rad / (0.5 * h)).ceil() as usize).clamp(2, 512);
                    (1..n).all(|k| {
                        let x = cen + V2::from_angle(a0 + sweep * k as f64 / n as f64) * rad;
                        inside(field, c, x) && (x.dist(b) <= 1.5 * back || ok_pt(x))
                    })
                })
            };
            let mut q = None;
            let mut lead = None;
            if let Some(nv) = nrm {
                let along = if tan.dot(nv.perp()) >= 0.0 { 1.0 } else { -1.0 };
                let mut cands = Vec::with_capacity(24);
                for dist in [back, 2.0 * back, 4.0 * back] {
                    for (ahead, side) in [
                        (6.0, 0.0),
                        (3.0, 0.0),
                        (1.5, 0.0),
                        (0.0, 0.0),
                        (0.0, 1.5),
                        (0.0, -1.5),
                        (0.0, 4.0),
                        (0.0, -4.0),
                    ] {
                        cands.push(
                            b - nv * dist - tan * (ahead * back)
                                + nv.perp() * (along * side * back),
                        );
                    }
                }
                let fits = |cand: V2| ok_pt(cand) && inside(field, c, cand);
                // The gentlest arc: the largest radius.
                if let Some((cand, arc)) = cands
                    .iter()
                    .filter(|&&x| fits(x))
                    .filter_map(|&x| arc_inside(x).map(|a| (x, a)))
                    .max_by(|a, b| a.0.dist(a.1.0).total_cmp(&b.0.dist(b.1.0)))
                {
                    q = Some(cand);
                    lead = Some(arc);
                } else {
                    q = cands.into_iter().find(|&x| {
                        fits(x)
                            && segment_ok(b, x, h, &mut |y| {
                                inside(field, c, y) && (y.dist(b) <= 1.5 * back || ok_pt(y))
                            })
                    });
                }
            }
            let q = q.unwrap_or(b);
            // Stay down when every point of the way to q is cleared: straight, or stepping back
            // from both ends into cleared area first.
            let mut way = None;
            // Right at the pass just cut the interpolated distance is not to be trusted (next to
            // a wall it climbs steeply): the first stretch only has to stay inside.
            let from = here;
            let mut ok = |x: V2| {
                if x.dist(from) <= 2.0 * h {
                    inside(field, c, x)
                } else {
                    ok_pt(x)
                }
            };
            if segment_ok(here, q, h, &mut ok) {
                way = Some(vec![q]);
            } else if let (Some(na), Some(nq)) = (grad_at(field, here), grad_at(field, q)) {
                for k in [2.0, 4.0, 8.0, 16.0] {
                    let (a2, q2) = (here - na * (k * back), q - nq * (k * back));
                    if segment_ok(here, a2, h, &mut ok)
                        && segment_ok(a2, q2, h, &mut ok)
                        && segment_ok(q2, q, h, &mut ok)
                    {
                        way = Some(vec![a2, q2, q]);
                        break;
                    }
                }
            }
            (pi, way.map_or(Link::Lift(q), Link::Stay), lead)
        };
        order.push(step);
        finish(
            pi,
            &mut here,
            &mut done,
            &mut pend,
            &mut ready,
            &mut queued,
            passes,
            &watch,
        );
    }
    order
}

/// The arc from `q` to `b` that arrives at `b` along `t` (the pass's direction), so the tool
/// meets the front sideways rather than head-on: (centre, counter-clockwise). `None` when `q`
/// lies on the tangent line (a straight lead-in is already tangent) or the arc would turn
/// much more than a quarter circle.
fn lead_arc(q: V2, b: V2, t: V2) -> Option<(V2, bool)> {
    let u = t.perp();
    let w = b - q;
    let den = 2.0 * u.dot(w);
    if den.abs() <= 1e-12 * w.length().max(1e-12) {
        return None;
    }
    let k = -w.dot(w) / den;
    let cen = b + u * k;
    let ccw = k > 0.0;
    let sweep = crate::toolpath::arc_sweep(q, b, cen, ccw);
    // Not much beyond a quarter turn: a near-half circle's centre is ill-defined by its ends
    // once they are rounded to the program's decimals.
    (sweep.abs() <= 0.6 * std::f64::consts::PI && k.abs() > 1e-9).then_some((cen, ccw))
}

/// Marks pass `pi` cut: the tool is at its end, and passes waiting for it may become ready.
#[allow(clippy::too_many_arguments)]
fn finish(
    pi: usize,
    here: &mut V2,
    done: &mut [bool],
    pend: &mut Pending,
    ready: &mut Vec<usize>,
    queued: &mut [bool],
    passes: &[Pass],
    watch: &[Vec<u32>],
) {
    let ps = &passes[pi];
    let last = ps.path[ps.path.len() - 1];
    *here = V2::new(last.x, last.y);
    done[pi] = true;
    for &t in &ps.own {
        let m = &mut pend.by_tile[t as usize];
        if let Some(e) = m.get_mut(&ps.level) {
            *e -= 1;
            if *e == 0 {
                m.remove(&ps.level);
            }
        }
    }
    for &t in &ps.own {
        for &qi in &watch[t as usize] {
            let qi = qi as usize;
            if !done[qi] && !queued[qi] && pend.ready(&passes[qi]) {
                queued[qi] = true;
                ready.push(qi);
            }
        }
    }
}

/// A closed path (last vertex = first) started `dist` further along.
fn rotate_at(path: &[PlineVertex<f64>], dist: f64, eq: f64) -> Vec<PlineVertex<f64>> {
    let mut pl = Pline::new_closed();
    for v in &path[..path.len() - 1] {
        pl.add_vertex(*v);
    }
    let mut left = dist;
    for (i, w) in path.windows(2).enumerate() {
        let len = seg_len(w[0], w[1]);
        if len > 0.0 && left <= len {
            let p = seg_point(w[0], w[1], left / len);
            if let Some(l) = pl.rotate_start(i, p.into(), eq) {
                return loop_path(&l);
            }
            break;
        }
        left -= len;
    }
    path.to_vec()
}

/// Whether every sample of the segment (spacing `h / 2`) passes `ok`.
fn segment_ok(a: V2, b: V2, h: f64, ok: &mut impl FnMut(V2) -> bool) -> bool {
    let n = ((a.dist(b) / (0.5 * h)).ceil() as usize).clamp(1, 1 << 22);
    (0..=n).all(|k| ok(a.lerp(b, k as f64 / n as f64)))
}

/// A closed pass started at its point nearest `p`, and that distance.
fn closed_nearest(ps: &Pass, p: V2, eq: f64) -> (Vec<PlineVertex<f64>>, f64) {
    let mut pl = Pline::new_closed();
    for v in &ps.path[..ps.path.len() - 1] {
        pl.add_vertex(*v);
    }
    match pl.closest_point(p.into(), eq) {
        Some(cp) => {
            let dist = cp.distance;
            let path = pl
                .rotate_start(cp.seg_start_index, cp.seg_point, eq)
                .map_or_else(|| ps.path.clone(), |l| loop_path(&l));
            (path, dist)
        }
        None => (ps.path.clone(), f64::INFINITY),
    }
}

/// A point to ramp to from `src` when there is no room for a helix: the farthest pass point
/// within a tool diameter that a straight line reaches inside the domain.
fn ramp_target(c: &OffsetComponent, src: V2, passes: &[Pass], d: f64) -> Option<V2> {
    passes
        .iter()
        .flat_map(|ps| ps.path.iter().map(|v| V2::new(v.x, v.y)))
        .filter(|q| q.dist(src) <= 2.0 * d && q.dist(src) > 0.05 * d)
        .filter(|&q| segment_ok(src, q, 0.05 * d, &mut |x| c.contains(x)))
        .max_by(|a, b| a.dist(src).total_cmp(&b.dist(src)))
}

/// Cuts one domain at `z`: entry, then the passes in order.
fn emit_domain(cur: &mut Cursor, dp: &DomainPlan, z_prev: f64, z: f64, g: &Geom, entry: &Entry) {
    if dp.passes.is_empty() && dp.entries.iter().all(|e| e.rh == 0.0) {
        return;
    }
    for (k, e) in dp.entries.iter().enumerate() {
        if k > 0 {
            cur.retract();
        }
        if e.rh > 0.0 {
            cur.helix(e.src, e.rh, z_prev, z, g.ccw);
            // The flat turn after the helix finishes the entry; it cuts the whole circle.
            let n = cur.tp.moves.len();
            for m in &mut cur.tp.moves[n.saturating_sub(4)..] {
                m.class = MoveClass::Entry;
            }
        } else {
            match e.ramp_to {
                Some(q) if entry.kind != EntryKind::Plunge => ramp(cur, e.src, q, z_prev, z),
                _ if entry.kind != EntryKind::Plunge && dp.edge.len() > 2 => {
                    cur.ramp_loop(&dp.edge, z_prev, z, false);
                }
                _ => cur.descend_cleared(e.src, z_prev, z),
            }
        }
    }
    let feed = cur.feed;
    for (pi, link, lead) in &dp.order {
        let pi = *pi;
        let ps = &dp.passes[pi];
        let b = P3::new(ps.path[0].x, ps.path[0].y, z);
        match link {
            Link::Stay(way) => {
                for q in way {
                    cur.link(P3::new(q.x, q.y, z));
                }
            }
            // Rapid only down to the level above: the point was judged cleared from the
            // distance field, and a rapid into stock is the one mistake not to make.
            Link::Lift(q) => cur.descend_cleared(*q, z_prev, z),
            Link::Direct => {}
        }
        if cur.pos().dist(b) > cur.min_len {
            match lead {
                Some((cen, ccw)) => cur.tp.arc(b, *cen, *ccw, MoveClass::Cut, feed),
                None => cur.tp.line(b, MoveClass::Cut, feed),
            }
        }
        cur.cut_path(&ps.path, z);
    }
}

/// Ramps back and forth between `a` and `b` from `z_from` down to `z`, ending at `a`.
fn ramp(cur: &mut Cursor, a: V2, b: V2, z_from: f64, z: f64) {
    if !cur.ramp_between(a, b, z_from, z) {
        let rate = cur.tool.feeds.ramp_mm_per_min;
        cur.tp.line(P3::new(a.x, a.y, z), MoveClass::Entry, rate);
    }
}

/// The wall pass: every loop of the wall component, climb oriented, nearest first.
fn emit_walls(cur: &mut Cursor, w: &OffsetComponent, first: bool, z_prev: f64, z: f64, g: &Geom) {
    let eq = g.tol.equal_point_mm;
    let mut todo: Vec<(Pline, bool)> = w
        .loops()
        .cloned()
        .enumerate()
        .map(|(i, l)| (l, i == 0))
        .collect();
    let mut entered = !first;
    while !todo.is_empty() {
        let here = cur.pos().xy();
        let (k, _) = todo
            .iter()
            .enumerate()
            .map(|(k, (l, _))| {
                (
                    k,
                    l.closest_point(here.into(), eq)
                        .map_or(f64::INFINITY, |c| c.distance),
                )
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("not empty");
        let (mut l, is_outer) = todo.swap_remove(k);
        orient(&mut l, is_outer == g.ccw);
        if let Some(cp) = l.closest_point(here.into(), eq)
            && let Some(rot) = l.rotate_start(cp.seg_start_index, cp.seg_point, eq)
        {
            l = rot;
        }
        let path = loop_path(&l);
        let s = V2::new(path[0].x, path[0].y);
        if !entered {
            // Nothing else was cut here (the domain is too thin for fronts): ramp along the loop.
            cur.ramp_loop(&path, z_prev, z, false);
            entered = true;
            continue;
        }
        let inside_w = segment_ok(here, s, g.r * 0.25, &mut |x| w.contains(x));
        if inside_w && cur.pos().z <= z + eq {
            cur.link(P3::new(s.x, s.y, z));
        } else {
            cur.descend_cleared(s, z, z);
        }
        cur.cut_path(&path, z);
    }
}
