//! Parallel (raster) finishing of a mesh: passes at an angle, each following the exact
//! cutter-location surface of the drop-cutter ([`crate::cl`]).
//!
//! The step-over comes from a scallop height (the groove half-width of the tool's profile at
//! that depth, doubled) or is given as a distance. On slopes across the passes the distance
//! along the surface grows by 1/cos of the slope, and with it the scallop: where two
//! neighbouring passes lie farther apart in 3D than the step-over, passes are added between
//! them (halving the gap, over that stretch only) until none does.
//!
//! Along a pass the drop-cutter is sampled so densely that nothing between two samples can
//! rise above their chord by more than half the path tolerance: over a vertex of the mesh
//! the cutter-location surface is the tool's corner turned (radius ρ), so samples
//! √(8·ρ·tol/2) apart bound the sag on gentle slopes; each interval is then halved until its
//! chord deviates from the surface by no more than half the path tolerance at its middle
//! (steep stretches, steps at walls), and collinear points are merged within the other half.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Cancel, CutParams, OpError, OpResult, param_err};
use crate::cl::{CutterShape, DropCutter};
use crate::geometry::Tolerance;
use crate::geometry::mesh::Mesh;
use crate::tool::Tool;
use crate::toolpath::{MoveClass, P3, Toolpath};

/// Parameters of parallel finishing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParallelParams {
    /// Heights (the final depth is the lowest the tool goes where there is no part), the
    /// stock to leave (radial on walls, axial on floors) and the entry.
    #[serde(flatten)]
    pub cut: CutParams,
    /// The scallop height to leave between passes, mm (0.0005 is 0.5 µm). Used when no
    /// `stepover_mm` is given.
    pub scallop_mm: Option<f64>,
    /// The distance between passes, mm, instead of a scallop height.
    pub stepover_mm: Option<f64>,
    /// Direction of the passes, degrees from X.
    pub angle_deg: f64,
    /// Passes in alternate directions (else all one way, with a retract between).
    pub zigzag: bool,
    /// Add passes where a slope across them would leave a higher scallop.
    pub slope_compensation: bool,
    /// How far beyond the part's plan box the passes reach, mm; default the tool's radius
    /// (the tool rolls off every edge).
    pub stock_margin_mm: Option<f64>,
    /// Keep the tool's centre within the part's silhouette (its outline seen from above)
    /// grown by this much, mm, instead of the whole box: no passes over the floor around
    /// the part. The tool's radius finishes the part to its edges.
    pub silhouette_offset_mm: Option<f64>,
}

impl Default for ParallelParams {
    fn default() -> Self {
        Self {
            cut: CutParams::default(),
            scallop_mm: None,
            stepover_mm: None,
            angle_deg: 0.0,
            zigzag: true,
            slope_compensation: true,
            stock_margin_mm: None,
            silhouette_offset_mm: None,
        }
    }
}

/// The default scallop height when neither it nor a step-over is given, mm.
pub const DEFAULT_SCALLOP_MM: f64 = 0.001;

/// Halvings of a gap between passes, at most (64 passes where one was).
const MAX_SLOPE_SPLITS: u32 = 6;

/// Slopes across the passes steeper than this are not compensated: there the tool runs down
/// a wall, and more passes would only cut the same wall again (waterline finishes walls).
pub const MAX_COMPENSATED_SLOPE_DEG: f64 = 80.0;

impl ParallelParams {
    /// The step-over, mm, and the scallop height it leaves on a flat floor (`None` for a
    /// tool with a flat bottom wider than the step, which leaves none there).
    pub fn step_mm(&self, shape: &CutterShape) -> (f64, Option<f64>) {
        match (self.stepover_mm, self.scallop_mm) {
            (Some(s), _) => (s, None),
            (None, h) => {
                let h = h.unwrap_or(DEFAULT_SCALLOP_MM);
                (2.0 * shape.radius_at_height(h), Some(h))
            }
        }
    }
}

/// One pass: the line `v` = const across the direction `u`, from `u0` to `u1`.
#[derive(Debug, Clone)]
struct Pass {
    v: f64,
    u0: f64,
    u1: f64,
    /// The tip on the cutter-location surface at the coarse grid's positions in [u0, u1]:
    /// (u, z).
    coarse: Vec<(f64, f64)>,
    /// The emitted points (u, z), after refining and merging.
    points: Vec<(f64, f64)>,
}

/// What the passes need to find the tip's height anywhere.
struct Surface<'a> {
    dc: &'a DropCutter,
    dir: [f64; 2],
    normal: [f64; 2],
    floor: f64,
    axial: f64,
    /// The coarse sampling step (see the module's notes).
    h0: f64,
    /// The silhouette boundary: a flat disk of the offset's radius dropped on the mesh
    /// touches something exactly where the centre lies within the grown silhouette.
    boundary: Option<DropCutter>,
    /// Where else the passes may run (steep and shallow: the shallow part and its overlap).
    mask: Option<Mask<'a>>,
}

/// Where in plan a finishing strategy may cut.
pub(super) type Mask<'a> = &'a (dyn Fn(f64, f64) -> bool + Sync);

impl Surface<'_> {
    fn inside(&self, x: f64, y: f64) -> bool {
        self.mask.is_none_or(|m| m(x, y)) && self.within_boundary(x, y)
    }
    fn within_boundary(&self, x: f64, y: f64) -> bool {
        self.boundary
            .as_ref()
            .is_none_or(|b| b.drop(x, y, f64::NEG_INFINITY) > f64::NEG_INFINITY)
    }
}

impl Surface<'_> {
    fn xy(&self, u: f64, v: f64) -> [f64; 2] {
        [
            u * self.dir[0] + v * self.normal[0],
            u * self.dir[1] + v * self.normal[1],
        ]
    }
    /// The tip's height at (u, v): the drop-cutter plus the axial stock, never below the
    /// floor.
    fn z(&self, u: f64, v: f64) -> f64 {
        let [x, y] = self.xy(u, v);
        self.z_at(x, y)
    }
    /// The tip's height above (x, y).
    fn z_at(&self, x: f64, y: f64) -> f64 {
        (self.dc.drop(x, y, f64::NEG_INFINITY) + self.axial).max(self.floor)
    }
}

/// Parallel finishing of `mesh` (any surface: open meshes are fine, the tool stays on top).
pub fn parallel(
    mesh: &Mesh,
    tool: &Tool,
    p: &ParallelParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    parallel_within(mesh, tool, p, None, tol, cancel)
}

/// [`parallel`] with the passes kept where `mask` holds (cut where they cross its edge).
pub(super) fn parallel_within(
    mesh: &Mesh,
    tool: &Tool,
    p: &ParallelParams,
    mask: Option<Mask<'_>>,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "parallel";
    let shape = p.cut.finishing_shape(OP, tool, mesh)?;
    let (step, scallop) = p.step_mm(&shape);
    let r = tool.radius_mm();
    if let Some(h) = p.scallop_mm
        && !(h.is_finite() && h > 0.0 && h < r)
    {
        return Err(param_err(
            OP,
            "scallop_mm",
            format!("is {h} mm; give a height above 0 and below the tool's radius ({r} mm)"),
        ));
    }
    if !(step.is_finite() && step >= tol.path_mm * 10.0 && step <= tool.diameter_mm) {
        return Err(param_err(
            OP,
            "stepover_mm",
            format!(
                "is {step} mm; give a step-over between {} mm and the tool's diameter ({} mm)",
                tol.path_mm * 10.0,
                tool.diameter_mm
            ),
        ));
    }
    if !p.angle_deg.is_finite() {
        return Err(param_err(OP, "angle_deg", "must be a number".into()));
    }
    let mut margin = p.stock_margin_mm.unwrap_or(r);
    if !(margin.is_finite() && margin >= 0.0) {
        return Err(param_err(
            OP,
            "stock_margin_mm",
            format!("is {margin}; give 0 or more"),
        ));
    }
    let boundary = match p.silhouette_offset_mm {
        None => None,
        Some(d) if d.is_finite() && (0.0..=1e4).contains(&d) => {
            margin = margin.max(d);
            let disk = d.max(tol.equal_point_mm);
            Some(DropCutter::new(
                mesh,
                CutterShape::new(disk, disk, 0.0, None)
                    .map_err(|e| param_err(OP, "silhouette_offset_mm", e))?,
            ))
        }
        Some(d) => {
            return Err(param_err(
                OP,
                "silhouette_offset_mm",
                format!("is {d}; give 0 or more (mm)"),
            ));
        }
    };
    let dc = DropCutter::new(mesh, shape);
    let (lo, hi) = dc.bounds();
    // Coarse samples, on one grid for every pass so neighbours can be compared.
    let h0 = (8.0 * shape.bend_radius() * tol.path_mm * 0.5)
        .sqrt()
        .clamp(tol.path_mm * 10.0, shape.radius() * 0.5);
    let a = p.angle_deg.to_radians();
    let surf = Surface {
        dc: &dc,
        dir: [a.cos(), a.sin()],
        normal: [-a.sin(), a.cos()],
        floor: -p.cut.heights.final_depth_mm,
        axial: p.cut.allowance_axial_mm,
        h0,
        boundary,
        mask,
    };
    // The plan box with its margin, in (u, v).
    let corners = [
        [lo[0] - margin, lo[1] - margin],
        [hi[0] + margin, lo[1] - margin],
        [hi[0] + margin, hi[1] + margin],
        [lo[0] - margin, hi[1] + margin],
    ];
    let uv = |c: &[f64; 2]| {
        (
            c[0] * surf.dir[0] + c[1] * surf.dir[1],
            c[0] * surf.normal[0] + c[1] * surf.normal[1],
        )
    };
    let (v_min, v_max) = corners
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |m, c| {
            let (_, v) = uv(c);
            (m.0.min(v), m.1.max(v))
        });
    let span = v_max - v_min;
    let n = ((span / step).ceil() as usize).max(1);
    if n > 200_000 {
        return Err(param_err(
            OP,
            "stepover_mm",
            format!(
                "gives {n} passes across {span:.3} mm; use a larger step-over or scallop height"
            ),
        ));
    }
    let gap = span / n as f64;
    let extent = |v: f64| clip_to_box(&corners, surf.dir, surf.normal, v);
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut passes: Vec<Pass> = (0..=n)
        .into_par_iter()
        .filter_map(|k| {
            if cancel.requested() {
                return None;
            }
            let v = v_min + gap * k as f64;
            let (u0, u1) = extent(v)?;
            Some(coarse_pass(&surf, v, u0, u1, h0))
        })
        .collect();
    cancel.check()?;
    let base = passes.len();
    // Slope compensation: halve gaps whose passes lie farther apart than the step-over.
    if p.slope_compensation {
        let mut gaps: Vec<(usize, usize, u32)> = (1..passes.len()).map(|i| (i - 1, i, 0)).collect();
        let mut capped = 0usize;
        let steep = std::sync::atomic::AtomicUsize::new(0);
        while !gaps.is_empty() {
            cancel.check()?;
            let new: Vec<(usize, usize, u32, Pass)> = gaps
                .par_iter()
                .flat_map_iter(|&(i, j, depth)| {
                    if cancel.requested() {
                        return Vec::new();
                    }
                    let (add, walls) = split_gap(&surf, &passes[i], &passes[j], step, h0, r);
                    if depth == 0 {
                        steep.fetch_add(walls, std::sync::atomic::Ordering::Relaxed);
                    }
                    add.into_iter().map(|pass| (i, j, depth, pass)).collect()
                })
                .collect();
            gaps.clear();
            for (i, j, depth, pass) in new {
                if depth >= MAX_SLOPE_SPLITS {
                    capped += 1;
                    continue;
                }
                passes.push(pass);
                let m = passes.len() - 1;
                gaps.push((i, m, depth + 1));
                gaps.push((m, j, depth + 1));
            }
        }
        if passes.len() > base {
            notes.push(format!(
                "{} passes added on slopes across the passes (to {} in all), so the step along the surface stays within {step:.4} mm",
                passes.len() - base,
                passes.len()
            ));
        }
        if capped > 0 {
            warnings.push(format!(
                "{capped} stretch(es) of steep slope are stepped more coarsely than {step:.4} mm even after {MAX_SLOPE_SPLITS} halvings: finish steep walls with waterline",
            ));
        }
        let steep = steep.into_inner();
        if steep > 0 {
            warnings.push(format!(
                "{steep} place(s) where the passes cross walls steeper than {MAX_COMPENSATED_SLOPE_DEG}° are stepped as the passes fall (up to the wall's height): finish steep walls with waterline",
            ));
        }
    }
    // Refine each pass to the tolerance.
    passes.par_iter_mut().for_each(|pass| {
        if !cancel.requested() {
            refine_pass(&surf, pass, tol.path_mm * 0.5);
        }
    });
    cancel.check()?;
    let order = pass_order(&surf, &passes, base, p.zigzag);
    let toolpath = link_passes(&surf, &passes, &order, tool, p, hi[2], tol);
    if let Some(h) = scallop {
        notes.push(format!(
            "step-over {step:.4} mm for a {:.2} µm scallop on flat areas",
            h * 1000.0
        ));
    }
    notes.push(
        "tolerance: the mesh's own chord error is not known (an STL keeps no exact surface); cutter-location sampling within half the path tolerance, merging of points within the other half".into(),
    );
    Ok(OpResult {
        toolpath,
        warnings,
        notes,
        ..OpResult::default()
    })
}

/// Where the line `v` = const crosses the box (its corners in order): its `u` range.
fn clip_to_box(
    corners: &[[f64; 2]; 4],
    dir: [f64; 2],
    normal: [f64; 2],
    v: f64,
) -> Option<(f64, f64)> {
    let (mut u0, mut u1) = (f64::INFINITY, f64::NEG_INFINITY);
    for k in 0..4 {
        let (a, b) = (corners[k], corners[(k + 1) % 4]);
        let (ua, va) = (
            a[0] * dir[0] + a[1] * dir[1],
            a[0] * normal[0] + a[1] * normal[1],
        );
        let (ub, vb) = (
            b[0] * dir[0] + b[1] * dir[1],
            b[0] * normal[0] + b[1] * normal[1],
        );
        if (va - v) * (vb - v) > 0.0 || va == vb {
            if va == v && vb == v {
                u0 = u0.min(ua.min(ub));
                u1 = u1.max(ua.max(ub));
            }
            continue;
        }
        let t = (v - va) / (vb - va);
        let u = ua + t * (ub - ua);
        u0 = u0.min(u);
        u1 = u1.max(u);
    }
    (u1 > u0).then_some((u0, u1))
}

/// The coarse grid positions within [u0, u1] (the ends included).
fn grid_in(u0: f64, u1: f64, h0: f64) -> Vec<f64> {
    let mut us = vec![u0];
    let mut k = (u0 / h0).floor() as i64 + 1;
    loop {
        let u = k as f64 * h0;
        if u >= u1 - h0 * 1e-6 {
            break;
        }
        if u > u0 + h0 * 1e-6 {
            us.push(u);
        }
        k += 1;
    }
    us.push(u1);
    us
}

fn coarse_pass(surf: &Surface<'_>, v: f64, u0: f64, u1: f64, h0: f64) -> Pass {
    let coarse = grid_in(u0, u1, h0)
        .into_iter()
        .map(|u| (u, surf.z(u, v)))
        .collect();
    Pass {
        v,
        u0,
        u1,
        coarse,
        points: Vec::new(),
    }
}

/// The passes to add halfway between `a` and `b` where their points at the same `u` lie
/// farther apart than `step` (over those stretches, a tool radius longer each way), and how
/// many stretches are too steep to compensate.
fn split_gap(
    surf: &Surface<'_>,
    a: &Pass,
    b: &Pass,
    step: f64,
    h0: f64,
    r: f64,
) -> (Vec<Pass>, usize) {
    let dv = b.v - a.v;
    let max_rise = dv * MAX_COMPENSATED_SLOPE_DEG.to_radians().tan();
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut walls = 0usize;
    let mut in_wall = false;
    let bz = |u: f64| {
        b.coarse
            .binary_search_by(|c| c.0.total_cmp(&u))
            .ok()
            .map(|i| b.coarse[i].1)
    };
    for &(u, za) in &a.coarse {
        let Some(zb) = bz(u) else { continue };
        // Outside the mask no pass is cut: nothing to add, no wall to warn of.
        if let Some(m) = surf.mask {
            let [x, y] = surf.xy(u, a.v + dv * 0.5);
            if !m(x, y) {
                in_wall = false;
                continue;
            }
        }
        let rise = (zb - za).abs();
        let d = (dv * dv + rise * rise).sqrt();
        let wall = rise > max_rise;
        if wall && !in_wall {
            walls += 1;
        }
        in_wall = wall;
        if d > step * 1.000_001 && !wall {
            match runs.last_mut() {
                Some(last) if u - last.1 <= h0 * 1.5 + 2.0 * r => last.1 = u,
                _ => runs.push((u, u)),
            }
        }
    }
    let (lo, hi) = (a.u0.max(b.u0), a.u1.min(b.u1));
    let add = runs
        .into_iter()
        .filter_map(|(s, e)| {
            let (u0, u1) = ((s - r).max(lo), (e + r).min(hi));
            (u1 > u0).then(|| coarse_pass(surf, a.v + dv * 0.5, u0, u1, h0))
        })
        .collect();
    (add, walls)
}

/// Adds points between the coarse samples until every chord follows the surface within
/// `tol`, then merges points whose removal keeps every sample within `tol` of the chord.
fn refine_pass(surf: &Surface<'_>, pass: &mut Pass, tol: f64) {
    pass.points = refine(&pass.coarse, |u| surf.z(u, pass.v), tol, tol * 0.5);
}

/// Samples (s, z(s)) refined by halving each interval longer than `min_len` whose chord does
/// not follow `z` (see [`straight`], at half of `tol`), then merged within `tol`.
fn refine(
    coarse: &[(f64, f64)],
    z: impl Fn(f64) -> f64 + Copy,
    tol: f64,
    min_len: f64,
) -> Vec<(f64, f64)> {
    merge_collinear(&refine_samples(coarse, z, tol, min_len), tol, f64::INFINITY)
}

/// [`refine`] without the merging: every sample taken, in order.
pub(super) fn refine_samples(
    coarse: &[(f64, f64)],
    z: impl Fn(f64) -> f64 + Copy,
    tol: f64,
    min_len: f64,
) -> Vec<(f64, f64)> {
    // A chord across one crease of the surface (where the contact jumps) deviates at its
    // middle at least half as much as anywhere: half the tolerance there bounds it.
    let mid_tol = tol * 0.5;
    let mut pts = Vec::with_capacity(coarse.len() * 2);
    pts.extend(coarse.first().copied());
    let mut stack: Vec<((f64, f64), (f64, f64))> = Vec::new();
    for w in coarse.windows(2) {
        // Depth first, the left half taken first: the points come in order.
        stack.push((w[0], w[1]));
        while let Some((a, b)) = stack.pop() {
            let sm = 0.5 * (a.0 + b.0);
            let m = (sm, z(sm));
            if b.0 - a.0 > min_len && !straight(z, a, b, m, mid_tol) {
                stack.push((m, b));
                stack.push((a, m));
            } else if b.0 > pts.last().map_or(f64::NEG_INFINITY, |l: &(f64, f64)| l.0) {
                // Within the tolerance, or so short that it is a step in the surface (a flat
                // tool at a wall's edge), made within a quarter of the tolerance of where it
                // is.
                pts.push(b);
            }
        }
    }
    pts
}

/// Whether the chord from `a` to `b` (u, z) follows the surface: its middle `m` within
/// `tol`, and where the middle is not plainly on it (a bend), its quarters too (a crease
/// near one end shows less at the middle).
fn straight(z: impl Fn(f64) -> f64, a: (f64, f64), b: (f64, f64), m: (f64, f64), tol: f64) -> bool {
    let dev = (m.1 - 0.5 * (a.1 + b.1)).abs();
    if dev > tol {
        return false;
    }
    if dev <= tol * 0.125 {
        return true;
    }
    [0.25, 0.75]
        .iter()
        .all(|&t| (z(a.0 + t * (b.0 - a.0)) - (a.1 + t * (b.1 - a.1))).abs() <= tol)
}

/// Greedy merging: from each kept point, the farthest point such that every point between
/// lies within `tol` (in Z) of the chord, and the chord spans at most `max_span` in `s` (a
/// chord of an arc in plan leaves the arc by its sagitta, which Z does not show).
pub(super) fn merge_collinear(pts: &[(f64, f64)], tol: f64, max_span: f64) -> Vec<(f64, f64)> {
    if pts.len() <= 2 {
        return pts.to_vec();
    }
    let mut out = vec![pts[0]];
    let mut i = 0;
    while i < pts.len() - 1 {
        let mut j = i + 1;
        while j + 1 < pts.len() {
            let (a, b) = (pts[i], pts[j + 1]);
            let ok = b.0 - a.0 <= max_span
                && pts[i + 1..=j].iter().all(|q| {
                    let t = (q.0 - a.0) / (b.0 - a.0);
                    (a.1 + t * (b.1 - a.1) - q.1).abs() <= tol
                });
            if !ok {
                break;
            }
            j += 1;
        }
        out.push(pts[j]);
        i = j;
    }
    out
}

/// The order to cut the passes in, each with its direction (true: increasing `u`): the
/// full passes across in turn (alternating for a zigzag), then the passes added on slopes,
/// each next the nearest to where the last ended (so those on one slope follow each other,
/// joined along the surface).
fn pass_order(
    surf: &Surface<'_>,
    passes: &[Pass],
    base: usize,
    zigzag: bool,
) -> Vec<(usize, bool)> {
    let mut order: Vec<(usize, bool)> = (0..base).map(|i| (i, !zigzag || i % 2 == 0)).collect();
    let ends = |i: usize| {
        let q = &passes[i];
        let first = q.points.first().map_or(q.u0, |p| p.0);
        let last = q.points.last().map_or(q.u1, |p| p.0);
        (surf.xy(first, q.v), surf.xy(last, q.v))
    };
    let mut here = order.last().map_or(
        [0.0; 2],
        |&(i, fwd)| if fwd { ends(i).1 } else { ends(i).0 },
    );
    let mut rest: Vec<usize> = (base..passes.len()).collect();
    // Nearest next: quadratic, so only while that stays cheap; beyond, in order across.
    if rest.len() > 20_000 {
        order.extend(rest.iter().map(|&i| (i, true)));
        return order;
    }
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    while !rest.is_empty() {
        let (k, fwd, _) = rest
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let (a, b) = ends(i);
                let (da, db) = (d2(here, a), d2(here, b));
                if da <= db || !zigzag {
                    (k, true, if zigzag { da } else { da.min(db) })
                } else {
                    (k, false, db)
                }
            })
            .fold((0, true, f64::INFINITY), |best, c| {
                if c.2 < best.2 { c } else { best }
            });
        let i = rest.swap_remove(k);
        here = if fwd { ends(i).1 } else { ends(i).0 };
        order.push((i, fwd));
    }
    order
}

/// The passes in order, joined: along the surface where the next pass starts near where the
/// last ended (a zigzag's turn), else up to the safe height and down again.
fn link_passes(
    surf: &Surface<'_>,
    passes: &[Pass],
    order: &[(usize, bool)],
    tool: &Tool,
    p: &ParallelParams,
    top: f64,
    tol: &Tolerance,
) -> Toolpath {
    let h = &p.cut.heights;
    let feed = tool.feed_mm_per_min();
    let plunge = tool.feeds.plunge_mm_per_min;
    let safe = h.safe_mm.max(top + p.cut.allowance_axial_mm + h.safe_mm);
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, h.clearance_mm));
    let to3 = |v: f64, q: (f64, f64)| {
        let [x, y] = surf.xy(q.0, v);
        P3::new(x, y, q.1)
    };
    let mut last: Option<P3> = None;
    let mut sc = crate::cl::PushScratch::default();
    let near = 2.0 * tool.diameter_mm;
    // The top of the Z range: nothing above it is cut (a start depth below the part's top
    // leaves what lies above to another operation).
    let z_top = if h.start_depth_mm > 0.0 {
        -h.start_depth_mm
    } else {
        f64::INFINITY
    };
    for &(i, forward) in order {
        let pass = &passes[i];
        if pass.points.is_empty() {
            continue;
        }
        let pts: Vec<P3> = if forward {
            pass.points.iter().map(|&q| to3(pass.v, q)).collect()
        } else {
            pass.points.iter().rev().map(|&q| to3(pass.v, q)).collect()
        };
        let runs: Vec<Vec<P3>> = below(&pts, z_top, tol.path_mm)
            .into_iter()
            .flat_map(|r| within(surf, &r, tol.path_mm))
            .collect();
        for run in runs {
            let start = run[0];
            let mut joined = false;
            if let Some(e) = last
                && p.zigzag
                && e.xy().dist(start.xy()) <= near
            {
                // Along the surface: the drop-cutter under the straight plan line, unless
                // that rises above the Z range.
                let n = ((e.xy().dist(start.xy()) / surf.h0).ceil() as usize).max(1);
                let coarse: Vec<(f64, f64)> = (0..=n)
                    .map(|k| {
                        let t = k as f64 / n as f64;
                        let q = e.lerp(start, t);
                        (t, surf.z_at(q.x, q.y))
                    })
                    .collect();
                let link = refine_link(surf, e, start, &coarse, tol.path_mm * 0.25);
                // A link may cross what the mask leaves to another strategy (it follows the
                // surface there too), never the silhouette's edge.
                let on = |t: f64| {
                    let q = e.lerp(start, t);
                    surf.within_boundary(q.x, q.y)
                };
                if link.iter().all(|q| q.1 <= z_top + tol.path_mm && on(q.0)) {
                    for &(t, z) in &link[1..] {
                        let q = e.lerp(start, t);
                        tp.line(P3::new(q.x, q.y, z), MoveClass::Cut, feed);
                    }
                    joined = true;
                }
            }
            // Within a mask (steep and shallow) runs end at its edge, often: the tool goes
            // only as high as the straight way across needs (and the approach distance
            // above), across at feed, and down at the plunge feed; else by the safe height.
            let approach = h.safe_mm * 0.2;
            let low = match last {
                Some(e) if !joined && surf.mask.is_some() => clear_height(
                    surf.dc,
                    [e.x, e.y],
                    [start.x, start.y],
                    e.z.max(start.z),
                    surf.axial,
                    surf.h0,
                    safe - 2.0 * approach,
                    &mut sc,
                )
                .map(|z| z + approach),
                _ => None,
            };
            if let Some(zl) = low {
                let e = tp.end();
                tp.rapid(P3::new(e.x, e.y, zl));
                tp.line(P3::new(start.x, start.y, zl), MoveClass::Link, feed);
                tp.line(start, MoveClass::Entry, plunge);
            } else if !joined {
                if last.is_some() {
                    let e = tp.end();
                    tp.rapid(P3::new(e.x, e.y, safe));
                } else {
                    tp.rapid(P3::new(start.x, start.y, h.clearance_mm));
                }
                tp.rapid(P3::new(start.x, start.y, safe));
                tp.line(start, MoveClass::Entry, plunge);
            }
            for q in &run[1..] {
                tp.line(*q, MoveClass::Cut, feed);
            }
            last = run.last().copied();
        }
    }
    let e = tp.end();
    tp.rapid(P3::new(e.x, e.y, h.clearance_mm));
    tp
}

/// The lowest tip height, at least `at_least`, at which the tool moves straight from above
/// `a` to above `b` without touching the part (left `axial` above it): the drop-cutter
/// sampled `h` apart along the way gives the guess, the push-cutter proves it (raised where
/// it finds the tool blocked, a few times); `None` above `limit`.
#[allow(clippy::too_many_arguments)]
pub(super) fn clear_height(
    dc: &DropCutter,
    a: [f64; 2],
    b: [f64; 2],
    at_least: f64,
    axial: f64,
    h: f64,
    limit: f64,
    sc: &mut crate::cl::PushScratch,
) -> Option<f64> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = (dx * dx + dy * dy).sqrt();
    let at = |s: f64| {
        let t = if len > 0.0 { s / len } else { 0.0 };
        dc.drop(a[0] + t * dx, a[1] + t * dy, f64::NEG_INFINITY) + axial
    };
    let n = ((len / h.max(1e-9)).ceil() as usize).clamp(1, 100_000);
    let mut z = at_least;
    for k in 0..=n {
        z = z.max(at(len * k as f64 / n as f64));
    }
    let mut iv = Vec::new();
    let mut bump = 1e-6;
    for _ in 0..8 {
        if z.is_nan() || z > limit {
            return None;
        }
        dc.push(a, b, z - axial, sc, &mut iv);
        if iv.is_empty() {
            return Some(z);
        }
        for &(s0, s1) in &iv {
            for k in 0..=16 {
                z = z.max(at(s0 + (s1 - s0) * f64::from(k) / 16.0));
            }
        }
        z += bump;
        bump *= 8.0;
    }
    None
}

/// The stretches of a pass within the boundary, cut where it crosses it (found by halving to
/// `tol`).
fn within(surf: &Surface<'_>, pts: &[P3], tol: f64) -> Vec<Vec<P3>> {
    if surf.boundary.is_none() && surf.mask.is_none() {
        return vec![pts.to_vec()];
    }
    let cross = |a: P3, b: P3, a_in: bool| {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        let len = a.xy().dist(b.xy()).max(tol);
        while (hi - lo) * len > tol * 0.5 {
            let m = 0.5 * (lo + hi);
            let q = a.lerp(b, m);
            if surf.inside(q.x, q.y) == a_in {
                lo = m;
            } else {
                hi = m;
            }
        }
        a.lerp(b, if a_in { lo } else { hi })
    };
    let mut runs: Vec<Vec<P3>> = Vec::new();
    let mut cur: Vec<P3> = Vec::new();
    let mut prev_in = false;
    for (k, &q) in pts.iter().enumerate() {
        let is_in = surf.inside(q.x, q.y);
        if k > 0 && is_in != prev_in {
            let c = cross(pts[k - 1], q, prev_in);
            cur.push(c);
            if prev_in {
                runs.push(std::mem::take(&mut cur));
            }
        }
        if is_in {
            cur.push(q);
        }
        prev_in = is_in;
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs.retain(|r| r.len() >= 2);
    runs
}

/// The stretches of a pass at or below `z_top`, cut where the pass crosses it.
fn below(pts: &[P3], z_top: f64, tol: f64) -> Vec<Vec<P3>> {
    if pts.iter().all(|q| q.z <= z_top + tol) {
        return vec![pts.to_vec()];
    }
    let cross = |a: P3, b: P3| {
        let q = a.lerp(b, (z_top - a.z) / (b.z - a.z));
        P3::new(q.x, q.y, z_top)
    };
    let mut runs: Vec<Vec<P3>> = Vec::new();
    let mut cur: Vec<P3> = Vec::new();
    for (k, &q) in pts.iter().enumerate() {
        let inside = q.z <= z_top + tol;
        if k > 0 {
            let prev = pts[k - 1];
            let was = prev.z <= z_top + tol;
            if was && !inside {
                cur.push(cross(prev, q));
                runs.push(std::mem::take(&mut cur));
            } else if !was && inside {
                cur.push(cross(prev, q));
            }
        }
        if inside {
            cur.push(q);
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs.retain(|r| r.len() >= 2);
    runs
}

/// A link's samples (t along it, z) refined like a pass.
fn refine_link(
    surf: &Surface<'_>,
    a: P3,
    b: P3,
    coarse: &[(f64, f64)],
    tol: f64,
) -> Vec<(f64, f64)> {
    let len = a.xy().dist(b.xy()).max(f64::MIN_POSITIVE);
    let z = |t: f64| {
        let q = a.lerp(b, t);
        surf.z_at(q.x, q.y)
    };
    refine(coarse, z, tol, tol * 0.5 / len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::V2;
    use crate::samples::{box_mesh, heightfield_mesh, merge_meshes};
    use crate::tool::ToolShape;
    use crate::toolpath::Motion;

    fn tool(shape: ToolShape, d: f64) -> Tool {
        Tool {
            shape,
            diameter_mm: d,
            flute_length_mm: 10.0,
            stickout_mm: 15.0,
            ..Tool::micro_flat(d)
        }
    }

    fn params(depth: f64) -> ParallelParams {
        ParallelParams {
            cut: CutParams {
                heights: super::super::Heights {
                    final_depth_mm: depth,
                    ..super::super::Heights::default()
                },
                ..CutParams::default()
            },
            ..ParallelParams::default()
        }
    }

    /// A dome (radius 2, on a plate 3 × 3 mm at Z −1.5) and a bowl beside it.
    fn dome_and_bowl() -> Mesh {
        heightfield_mesh([0.0, 0.0], [7.0, 3.0], 140, 60, -2.0, |x, y| {
            let d = ((x - 1.5).powi(2) + (y - 1.5).powi(2)).sqrt();
            let e = ((x - 5.2).powi(2) + (y - 1.5).powi(2)).sqrt();
            if d < 1.4 {
                -1.5 + (1.96 - d * d).sqrt() * 0.9
            } else if e < 1.4 {
                -1.0 - (1.96 - e * e).sqrt() * 0.5
            } else {
                -1.0
            }
        })
    }

    /// The worst amounts by which the cutting moves' tip lies below and above the exact
    /// cutter-location surface, sampled along every move. Where the surface steps (a flat
    /// tool's rim leaving a wall's edge) a point off it vertically but within `tol` of it
    /// along the move counts as on it: the step is made within `tol` of where it is.
    fn deviation(tp: &Toolpath, dc: &DropCutter, p: &ParallelParams, tol: f64) -> (f64, f64) {
        let (mut below, mut above) = (0.0f64, 0.0f64);
        let cl = |x: f64, y: f64| {
            (dc.drop(x, y, f64::NEG_INFINITY) + p.cut.allowance_axial_mm)
                .max(-p.cut.heights.final_depth_mm)
        };
        let mut from = tp.start;
        for m in &tp.moves {
            if m.motion == Motion::Line && m.class == MoveClass::Cut {
                let len = from.xy().dist(m.to.xy());
                let (ux, uy) = if len > 0.0 {
                    ((m.to.x - from.x) / len, (m.to.y - from.y) / len)
                } else {
                    (0.0, 0.0)
                };
                for k in 0..=16 {
                    let t = f64::from(k) / 16.0;
                    let q = from.lerp(m.to, t);
                    let z = cl(q.x, q.y);
                    let near = |ok: &dyn Fn(f64) -> bool| {
                        [-1.0, -0.5, 0.5, 1.0]
                            .iter()
                            .any(|s| ok(cl(q.x + s * tol * ux, q.y + s * tol * uy)))
                    };
                    if z - q.z > tol && near(&|c| c <= q.z + tol) {
                        continue;
                    }
                    if q.z - z > tol && near(&|c| c >= q.z - tol) {
                        continue;
                    }
                    below = below.max(z - q.z);
                    above = above.max(q.z - z);
                }
            }
            from = m.to;
        }
        (below, above)
    }

    /// Every tool on a dome and a bowl: the path never runs below the exact cutter-location
    /// surface by more than the tolerance, and follows it (never above it by more).
    #[test]
    fn passes_follow_the_exact_surface_for_every_tool() {
        let mesh = dome_and_bowl();
        let tol = Tolerance::default();
        let tools = [
            tool(ToolShape::Ball, 0.5),
            tool(
                ToolShape::Bull {
                    corner_radius_mm: 0.1,
                },
                0.5,
            ),
            tool(ToolShape::Flat, 0.5),
            tool(
                ToolShape::V {
                    angle_deg: 90.0,
                    tip_diameter_mm: 0.05,
                },
                0.5,
            ),
        ];
        for t in &tools {
            let mut p = params(2.0);
            p.scallop_mm = Some(0.005);
            if matches!(t.shape, ToolShape::Flat) {
                p.scallop_mm = None;
                p.stepover_mm = Some(0.2);
            }
            p.angle_deg = 20.0;
            let out = parallel(&mesh, t, &p, &tol, &Cancel::NEVER).unwrap();
            let dc = DropCutter::new(&mesh, CutterShape::of(t, 0.0).unwrap());
            let (below, above) = deviation(&out.toolpath, &dc, &p, tol.path_mm);
            eprintln!(
                "{}: {} moves, below {below:.2e}, above {above:.2e}",
                t.describe(),
                out.toolpath.moves.len()
            );
            assert!(below <= tol.path_mm, "{}: {below} mm below", t.describe());
            if matches!(t.shape, ToolShape::Ball | ToolShape::Bull { .. }) {
                assert!(above <= tol.path_mm, "{}: {above} mm above", t.describe());
            }
        }
    }

    /// Stock to leave: a grown tool keeps the radial allowance off the walls and the axial
    /// one above the floors.
    #[test]
    fn allowances_are_kept() {
        let mesh = merge_meshes(&[
            box_mesh([0.0, 0.0, -2.0], [4.0, 4.0, -1.0]),
            box_mesh([1.5, 1.5, -1.0], [2.5, 2.5, 0.0]),
        ]);
        let t = tool(ToolShape::Ball, 0.4);
        let mut p = params(2.0);
        p.cut.allowance_radial_mm = 0.03;
        p.cut.allowance_axial_mm = 0.05;
        p.stepover_mm = Some(0.05);
        let out = parallel(&mesh, &t, &p, &Tolerance::default(), &Cancel::NEVER).unwrap();
        // On the block's top (away from its edges) the tip sits 0.05 above it; beside the
        // block at the plate's level (0.05 above the plate), the ball's side keeps 0.03 off
        // the wall.
        let mut on_top = 0;
        let mut near_wall: f64 = f64::INFINITY;
        let mut from = out.toolpath.start;
        for m in &out.toolpath.moves {
            if m.class == MoveClass::Cut {
                for k in 0..=8 {
                    let t = f64::from(k) / 8.0;
                    let q = from.lerp(m.to, t);
                    if (1.8..=2.2).contains(&q.x) && (1.8..=2.2).contains(&q.y) {
                        assert!((q.z - 0.05).abs() <= 1e-4, "{q:?}");
                        on_top += 1;
                    }
                    if (q.z - (-1.0 + 0.05)).abs() <= 1e-4
                        && (1.6..=2.4).contains(&q.y)
                        && q.x < 1.5
                    {
                        near_wall = near_wall.min(1.5 - q.x);
                    }
                }
            }
            from = m.to;
        }
        assert!(on_top > 10);
        assert!(near_wall >= 0.2 + 0.03 - 1e-6, "{near_wall}");
    }

    /// Across a 60° slope the passes are added until neighbours lie no farther apart along
    /// the surface than the step-over.
    #[test]
    fn slopes_across_the_passes_get_more_passes() {
        // A roof rising 60° in Y from y = 1 to y = 2.
        let t60 = 60f64.to_radians().tan();
        let mesh = heightfield_mesh([0.0, 0.0], [3.0, 3.0], 30, 300, -3.0, |_, y| {
            -2.0 + (y.clamp(1.0, 2.0) - 1.0) * t60.min(1.5)
        });
        let t = tool(ToolShape::Ball, 0.5);
        let mut p = params(3.0);
        p.scallop_mm = Some(0.002);
        let (step, _) = p.step_mm(&CutterShape::of(&t, 0.0).unwrap());
        let out = parallel(&mesh, &t, &p, &Tolerance::default(), &Cancel::NEVER).unwrap();
        assert!(out.notes.iter().any(|n| n.contains("passes added")));
        // The passes' heights over the middle of the slope (x = 1.5), in Y order.
        let mut pts: Vec<(f64, f64)> = Vec::new();
        let mut from = out.toolpath.start;
        for m in &out.toolpath.moves {
            if m.class == MoveClass::Cut
                && m.to.y == from.y
                && (m.to.x - 1.5) * (from.x - 1.5) <= 0.0
                && m.to.x != from.x
            {
                let s = (1.5 - from.x) / (m.to.x - from.x);
                pts.push((m.to.y, from.z + s * (m.to.z - from.z)));
            }
            from = m.to;
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-9);
        let worst = pts
            .windows(2)
            .filter(|w| w[0].0 > 1.2 && w[1].0 < 1.8)
            .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
            .fold(0.0, f64::max);
        assert!(worst > 0.0 && worst <= step * 1.0001, "{worst} > {step}");
    }

    /// A Z range: with a start depth below the dome's top, nothing above it is cut, and the
    /// dome's flanks below it are.
    #[test]
    fn a_start_depth_leaves_what_lies_above() {
        let mesh = dome_and_bowl();
        let t = tool(ToolShape::Ball, 0.5);
        let mut p = params(2.0);
        p.stepover_mm = Some(0.1);
        // The dome's top is at Z −1.5 + 1.26 = −0.24; cut only below −0.6.
        p.cut.heights.start_depth_mm = 0.6;
        let out = parallel(&mesh, &t, &p, &Tolerance::default(), &Cancel::NEVER).unwrap();
        let mut from = out.toolpath.start;
        let mut near_top = 0;
        for m in &out.toolpath.moves {
            if m.class != MoveClass::Rapid && m.class != MoveClass::Entry {
                assert!(m.to.z <= -0.6 + 1e-4, "{m:?}");
                assert!(from.z <= -0.6 + 1e-4, "{from:?}");
                if m.to.z > -0.61 {
                    near_top += 1;
                }
            }
            from = m.to;
        }
        assert!(near_top > 10, "{near_top}");
    }

    /// The cut simulated on a heightmap: over a gently waved surface and a 30° slope across
    /// the passes, the ridges left between passes stay within the asked scallop height (and,
    /// on the waves, come near it: the step is not needlessly small; on the slope the added
    /// passes halve the gap, which leaves less than asked).
    #[test]
    fn the_simulated_scallop_stays_within_the_asked_height() {
        use crate::sim::{CutterProfile, Heightmap};
        let t30 = 30f64.to_radians().tan();
        let mesh = heightfield_mesh([0.0, 0.0], [4.0, 6.0], 80, 120, -3.0, |x, y| {
            let wave = -1.0 + 0.1 * (x * 0.8).sin() * (y * 0.6).cos();
            if y < 3.0 {
                wave
            } else {
                wave - (y - 3.0) * t30
            }
        });
        let t = tool(ToolShape::Ball, 0.5);
        let mut p = params(3.0);
        let asked = 0.005;
        p.scallop_mm = Some(asked);
        let out = parallel(&mesh, &t, &p, &Tolerance::default(), &Cancel::NEVER).unwrap();
        // The part's own height: a drop with a needle.
        let needle = DropCutter::new(&mesh, CutterShape::new(1e-7, 1e-7, 0.0, None).unwrap());
        let profile = CutterProfile::of(&t);
        for (lo, hi, least) in [
            ([1.5, 1.0], [2.5, 2.0], 0.5 * asked),
            ([1.5, 3.8], [2.5, 4.8], 0.1 * asked),
        ] {
            let mut hm = Heightmap::new(
                V2::new(lo[0], lo[1]),
                V2::new(hi[0], hi[1]),
                -4.0,
                0.0,
                0.004,
            );
            let mut from = out.toolpath.start;
            for m in &out.toolpath.moves {
                hm.cut(from, m, &profile);
                from = m.to;
            }
            let mut worst: f64 = 0.0;
            for j in 0..hm.ny {
                for i in 0..hm.nx {
                    let c = hm.centre(i, j);
                    let part = needle.drop(c.x, c.y, f64::NEG_INFINITY);
                    worst = worst.max(f64::from(hm.z[j * hm.nx + i]) - part);
                }
            }
            eprintln!(
                "scallop over {lo:?}..{hi:?}: {:.2} µm (asked {} µm)",
                worst * 1e3,
                asked * 1e3
            );
            assert!(worst <= asked * 1.1, "{worst} mm over {lo:?}..{hi:?}");
            assert!(worst >= least, "{worst} mm over {lo:?}..{hi:?}");
        }
    }

    /// A silhouette boundary: the tool's centre stays within the block's outline grown by
    /// the offset; no passes run over the floor beyond it.
    #[test]
    fn a_silhouette_boundary_keeps_the_passes_over_the_part() {
        let mesh = box_mesh([1.0, 1.0, -1.0], [2.0, 2.5, 0.0]);
        let t = tool(ToolShape::Ball, 0.4);
        let mut p = params(1.0);
        p.stepover_mm = Some(0.05);
        p.angle_deg = 15.0;
        p.silhouette_offset_mm = Some(0.2);
        let out = parallel(&mesh, &t, &p, &Tolerance::default(), &Cancel::NEVER).unwrap();
        let outside = |q: P3| {
            let dx = (1.0 - q.x).max(q.x - 2.0).max(0.0);
            let dy = (1.0 - q.y).max(q.y - 2.5).max(0.0);
            (dx * dx + dy * dy).sqrt() - 0.2
        };
        let mut cuts = 0;
        let mut far: f64 = 0.0;
        for m in &out.toolpath.moves {
            if m.class == MoveClass::Cut {
                cuts += 1;
                far = far.max(outside(m.to));
            }
        }
        assert!(cuts > 100);
        assert!(far <= 1e-4, "{far} mm beyond the grown silhouette");
        // The whole box without it reaches the margin.
        p.silhouette_offset_mm = None;
        let all = parallel(&mesh, &t, &p, &Tolerance::default(), &Cancel::NEVER).unwrap();
        let widest = all
            .toolpath
            .moves
            .iter()
            .filter(|m| m.class == MoveClass::Cut)
            .map(|m| outside(m.to))
            .fold(0.0, f64::max);
        assert!(widest > 0.03, "{widest}");
        let bad = parallel(
            &mesh,
            &t,
            &ParallelParams {
                silhouette_offset_mm: Some(-1.0),
                ..p
            },
            &Tolerance::default(),
            &Cancel::NEVER,
        )
        .unwrap_err();
        assert!(bad.to_string().contains("silhouette_offset_mm"), "{bad}");
    }

    #[test]
    fn a_cancelled_finish_stops_with_cancelled() {
        let cancel = Cancel::new();
        cancel.cancel();
        let mut p = params(2.0);
        p.scallop_mm = Some(0.001);
        let r = parallel(
            &dome_and_bowl(),
            &tool(ToolShape::Ball, 0.5),
            &p,
            &Tolerance::default(),
            &cancel,
        );
        assert!(matches!(r, Err(OpError::Cancelled)), "{r:?}");
    }

    #[test]
    fn bad_parameters_are_refused_with_the_fix() {
        let mesh = dome_and_bowl();
        let t = tool(ToolShape::Ball, 0.5);
        let run = |p: &ParallelParams| {
            parallel(&mesh, &t, p, &Tolerance::default(), &Cancel::NEVER)
                .unwrap_err()
                .to_string()
        };
        let mut p = params(2.0);
        p.scallop_mm = Some(0.3);
        assert!(run(&p).contains("below the tool's radius"), "{}", run(&p));
        p.scallop_mm = None;
        p.stepover_mm = Some(0.6);
        assert!(run(&p).contains("between"), "{}", run(&p));
        p.stepover_mm = Some(0.1);
        p.cut.allowance_radial_mm = -0.1;
        assert!(!run(&p).is_empty());
        let empty = parallel(
            &Mesh::default(),
            &t,
            &params(1.0),
            &Tolerance::default(),
            &Cancel::NEVER,
        )
        .unwrap_err();
        assert!(empty.to_string().contains("no triangles"));
    }
}
