//! V-carving (issue 20): a V tool follows the medial axis of each closed region at the depth
//! where its cone just touches the region's walls, so the cut's width at the surface follows
//! the shape: sharp into corners, round in curves.
//!
//! The depth at a point is `(r − tip radius) / tan(half angle)`, with `r` the **exact**
//! distance from the point to the region's lines and arcs as drawn ([`BoundaryDistance`]);
//! the medial axis only says where to go. Between two written points the depth is linear, so
//! each stretch of the axis is split until the exact depth at its middle is within a quarter
//! of the path tolerance of the straight line (a peer interpolates the depth along the
//! Voronoi edges, which rounds corners and facets curves).
//!
//! The depth is capped at the operation's final depth (and at the cone's length): where the
//! region is wider than the cone at that depth, the tool runs the region's inset at the
//! cap's radius to make the walls, and the floor between is left flat at the cap for a flat
//! end mill (see [`floor_cleanup`], a pocket with the cap's radius as radial allowance).
//! Step-down passes (for hard materials) cap each pass at its level; a path's next level runs
//! back along it from where the last ended.

use serde::{Deserialize, Serialize};

use super::cursor::Cursor;
use super::pocket::PocketParams;
use super::{Cancel, CutParams, EntryKind, Heights, OpError, OpResult, param_err, z_levels};
use crate::geometry::medial::{BoundaryDistance, MedialAxis, medial_axis};
use crate::geometry::offset::inset_region;
use cavalier_contours::polyline::PlineSource;

use crate::geometry::{Region, Tolerance, V2};
use crate::tool::{Tool, ToolShape};
use crate::toolpath::emit::loop_path;
use crate::toolpath::{MoveClass, P3};

/// V-carving parameters. `cut.heights.final_depth_mm` is the deepest the V goes (the cap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VCarveParams {
    /// Heights (the final depth caps the carve), step-down passes; entries plunge (the V's
    /// point enters at the axis's ends).
    #[serde(flatten)]
    pub cut: CutParams,
}

impl Default for VCarveParams {
    fn default() -> Self {
        Self {
            cut: CutParams {
                heights: Heights {
                    final_depth_mm: 0.3,
                    ..Heights::default()
                },
                entry: super::Entry {
                    kind: EntryKind::Plunge,
                    ..super::Entry::default()
                },
                ..CutParams::default()
            },
        }
    }
}

const OP: &str = "vcarve";

/// The V tool's cone: tip radius and the tangent of its half angle.
#[derive(Clone, Copy)]
struct Cone {
    tip_r: f64,
    tan: f64,
    /// Deepest the V goes below the surface (the cap, within the cone's length).
    depth: f64,
}

impl Cone {
    fn of(tool: &Tool) -> Option<Self> {
        match tool.shape {
            ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => Some(Self {
                tip_r: tip_diameter_mm * 0.5,
                tan: (angle_deg.to_radians() * 0.5).tan(),
                depth: 0.0,
            }),
            _ => None,
        }
    }
    /// Depth below the surface at which the cone is `r` wide (radius), capped.
    fn depth_at(&self, r: f64) -> f64 {
        ((r - self.tip_r) / self.tan).clamp(0.0, self.depth)
    }
    /// Radius of the cut at the cap.
    fn cap_radius(&self) -> f64 {
        self.tip_r + self.depth * self.tan
    }
}

/// The radius of the cut a V tool makes at the surface at the V-carve's cap, mm: the floor
/// clean-up keeps this far from the walls. `None` for a tool that is not a V.
pub fn cap_radius(p: &VCarveParams, tool: &Tool) -> Option<f64> {
    let c = Cone::of(tool)?;
    let depth = (p.cut.heights.final_depth_mm - p.cut.heights.start_depth_mm).max(0.0);
    let cone_len = ((tool.radius_mm() - c.tip_r) / c.tan).max(0.0);
    Some(
        Cone {
            depth: depth.min(cone_len),
            ..c
        }
        .cap_radius(),
    )
}

/// The pocket that clears the flat floor a capped V-carve leaves: the same heights, its
/// boundary the cap's radius inside the walls (where the V's cut at the cap ends), no
/// allowances. Run it with a flat end mill after the V-carve. `None` for a tool that is not a
/// V.
pub fn floor_cleanup(p: &VCarveParams, v_tool: &Tool) -> Option<PocketParams> {
    let r = cap_radius(p, v_tool)?;
    Some(PocketParams {
        cut: CutParams {
            heights: p.cut.heights,
            stepdown_mm: p.cut.stepdown_mm,
            ..CutParams::default()
        },
        inset_mm: r,
        ..PocketParams::default()
    })
}

/// The axis without the branches whose cut lies within that of the node they hang from (to
/// within `tol`): a branch from node J to leaf L of length ℓ adds nothing when the cut's
/// radius at the surface (the exact distance, capped at the cap's radius) satisfies
/// `c(J) + tol ≥ c(L) + ℓ` — the cut radius is 1-Lipschitz, so every point of the branch is
/// then inside J's cut too, and cones of one angle nest as their circles at the surface do.
/// Repeated while leaves go. This removes the knots of tiny branches that the sampled arcs
/// leave around the centres of their circles; branches into corners stay (their cut
/// narrows to nothing there).
fn prune_dominated(
    mut axis: MedialAxis,
    dist: &BoundaryDistance,
    cone: &Cone,
    tol: f64,
) -> MedialAxis {
    let n = axis.nodes.len();
    let cut = |r: f64| r.min(cone.cap_radius());
    let c: Vec<f64> = axis
        .nodes
        .iter()
        .map(|&p| cut(dist.distance(p, 1e-3)))
        .collect();
    let len: Vec<f64> = axis
        .edges
        .iter()
        .map(|e| e.2.windows(2).map(|w| w[0].dist(w[1])).sum())
        .collect();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, e) in axis.edges.iter().enumerate() {
        adj[e.0].push(k);
        adj[e.1].push(k);
    }
    let mut alive = vec![true; axis.edges.len()];
    let mut degree: Vec<usize> = adj.iter().map(Vec::len).collect();
    // Leaves whose branch went: their cut is inside the node they hung from.
    let mut covered = vec![false; n];
    let mut leaves: Vec<usize> = (0..n).filter(|&i| degree[i] == 1).collect();
    while let Some(l) = leaves.pop() {
        if degree[l] != 1 {
            continue;
        }
        let Some(&k) = adj[l].iter().find(|&&k| alive[k]) else {
            continue;
        };
        let e = &axis.edges[k];
        let j = if e.0 == l { e.1 } else { e.0 };
        if j == l || c[j] + tol < c[l] + len[k] {
            continue;
        }
        alive[k] = false;
        covered[l] = true;
        degree[l] -= 1;
        degree[j] -= 1;
        if degree[j] == 1 {
            leaves.push(j);
        }
    }
    // A node that lost every branch without being covered (the last of a knot) is carved on
    // its own.
    axis.dots
        .extend((0..n).filter(|&i| !adj[i].is_empty() && degree[i] == 0 && !covered[i]));
    let edges = std::mem::take(&mut axis.edges);
    axis.edges = edges
        .into_iter()
        .zip(alive)
        .filter_map(|(e, a)| a.then_some(e))
        .collect();
    axis
}

/// A path along the axis: points and their exact distance to the walls.
type Trail = Vec<(V2, f64)>;

/// Chains the axis's edges into trails, each as long as it goes, starting at a leaf nearest
/// to where the last ended.
fn trails(axis: &MedialAxis, from: V2) -> Vec<Vec<V2>> {
    let n = axis.nodes.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, e) in axis.edges.iter().enumerate() {
        adj[e.0].push(k);
        adj[e.1].push(k);
    }
    let mut used = vec![false; axis.edges.len()];
    let mut left = vec![0usize; n];
    for (i, a) in adj.iter().enumerate() {
        left[i] = a.len();
    }
    let mut out: Vec<Vec<V2>> = Vec::new();
    let mut here = from;
    let mut remaining = axis.edges.len();
    while remaining > 0 {
        // A start: the nearest node with an odd number of edges left (a leaf or a branch
        // point; the trails then cover the axis with fewest starts), else any with edges left.
        let pick = |odd: bool| {
            (0..n)
                .filter(|&i| left[i] > 0 && (!odd || left[i] % 2 == 1))
                .min_by(|&a, &b| {
                    axis.nodes[a]
                        .dist(here)
                        .total_cmp(&axis.nodes[b].dist(here))
                })
        };
        let Some(mut node) = pick(true).or_else(|| pick(false)) else {
            break;
        };
        let mut pts = vec![axis.nodes[node]];
        let mut heading: Option<V2> = None;
        loop {
            // The edge left that runs straightest on.
            let next = adj[node]
                .iter()
                .copied()
                .filter(|&k| !used[k])
                .max_by(|&a, &b| {
                    let dir = |k: usize| {
                        let e = &axis.edges[k];
                        let p = if e.0 == node {
                            e.2[1.min(e.2.len() - 1)]
                        } else {
                            e.2[e.2.len().saturating_sub(2)]
                        };
                        (p - axis.nodes[node]).normalized()
                    };
                    let s = |k: usize| heading.map_or(0.0, |h| h.dot(dir(k)));
                    s(a).total_cmp(&s(b))
                });
            let Some(k) = next else { break };
            used[k] = true;
            remaining -= 1;
            let e = &axis.edges[k];
            left[e.0] -= 1;
            left[e.1] -= 1;
            let (to, seq): (usize, Vec<V2>) = if e.0 == node {
                (e.1, e.2.clone())
            } else {
                (e.0, e.2.iter().rev().copied().collect())
            };
            let m = seq.len();
            if m >= 2 {
                heading = Some((seq[m - 1] - seq[m - 2]).normalized());
            }
            pts.extend_from_slice(&seq[1..]);
            node = to;
        }
        here = *pts.last().expect("a start");
        out.push(pts);
    }
    for &d in &axis.dots {
        out.push(vec![axis.nodes[d]]);
    }
    out
}

/// The trail's points with the exact distance at each, split until the capped depth is linear
/// between neighbours within `ztol`.
fn exact_trail(pts: &[V2], dist: &BoundaryDistance, cone: &Cone, ztol: f64, min_len: f64) -> Trail {
    let mut out: Trail = Vec::with_capacity(pts.len());
    let mut hint = 1e-3;
    let r_at = |p: V2, hint: &mut f64| {
        let r = dist.distance(p, *hint);
        *hint = r.max(1e-4);
        r
    };
    let r0 = r_at(pts[0], &mut hint);
    out.push((pts[0], r0));
    for w in pts.windows(2) {
        let (a, ra) = *out.last().expect("a point");
        let b = w[1];
        let rb = r_at(b, &mut hint);
        split(&mut out, (a, ra), (b, rb), dist, cone, ztol, min_len, 0);
        out.push((b, rb));
    }
    tip_crossings(&out, dist, cone)
}

/// The trail with a point added wherever it crosses the tip's radius: where the walls are
/// closer than the tip, the tool stays on the surface (a flat tip a few nanometres down
/// already cuts its whole width), and it goes down from exactly there.
fn tip_crossings(t: &Trail, dist: &BoundaryDistance, cone: &Cone) -> Trail {
    if cone.tip_r <= 0.0 {
        return t.clone();
    }
    let mut out: Trail = Vec::with_capacity(t.len());
    for (i, &(b, rb)) in t.iter().enumerate() {
        if let Some(&(a, ra)) = i.checked_sub(1).and_then(|k| t.get(k))
            && (ra - cone.tip_r) * (rb - cone.tip_r) < 0.0
        {
            // Bisection on the exact distance: the end nearer than the tip stays nearer.
            let (mut near, mut far) = if ra < rb { (a, b) } else { (b, a) };
            let mut r_near = ra.min(rb);
            for _ in 0..40 {
                let m = near.lerp(far, 0.5);
                let rm = dist.distance(m, cone.tip_r);
                if rm < cone.tip_r {
                    near = m;
                    r_near = rm;
                } else {
                    far = m;
                }
                if near.dist(far) < 1e-9 {
                    break;
                }
            }
            out.push((near, r_near));
        }
        out.push((b, rb));
    }
    out
}

/// Pushes the points strictly between `a` and `b` that make the depth linear within `ztol`.
#[allow(clippy::too_many_arguments)]
fn split(
    out: &mut Trail,
    a: (V2, f64),
    b: (V2, f64),
    dist: &BoundaryDistance,
    cone: &Cone,
    ztol: f64,
    min_len: f64,
    level: u32,
) {
    if level > 24 || a.0.dist(b.0) < 2.0 * min_len {
        return;
    }
    let m = a.0.lerp(b.0, 0.5);
    let rm = dist.distance(m, 0.5 * (a.1 + b.1) + 0.5 * a.0.dist(b.0));
    let lin = 0.5 * (cone.depth_at(a.1) + cone.depth_at(b.1));
    if (cone.depth_at(rm) - lin).abs() <= ztol {
        return;
    }
    split(out, a, (m, rm), dist, cone, ztol, min_len, level + 1);
    out.push((m, rm));
    split(out, (m, rm), b, dist, cone, ztol, min_len, level + 1);
}

/// V-carves the `regions` with the V `tool`.
pub fn vcarve(
    regions: &[Region],
    tool: &Tool,
    p: &VCarveParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    p.cut.check(OP, tool)?;
    let Some(mut cone) = Cone::of(tool) else {
        return Err(param_err(
            OP,
            "tool",
            format!(
                "'{}' is not a V tool; V-carving needs one (its included angle and tip)",
                tool.name
            ),
        ));
    };
    if p.cut.entry.kind != EntryKind::Plunge {
        return Err(param_err(
            OP,
            "entry",
            "is a ramp or helix; a V-carve enters with the V's point at the axis's ends: use plunge"
                .into(),
        ));
    }
    let h = &p.cut.heights;
    let mut out = OpResult::default();
    let asked = h.final_depth_mm - h.start_depth_mm;
    let cone_len = ((tool.radius_mm() - cone.tip_r) / cone.tan).max(0.0);
    cone.depth = asked.min(cone_len);
    if asked > cone_len + tol.path_mm {
        out.warnings.push(format!(
            "vcarve: the depth asked ({asked:.4} mm below the top) is deeper than the V's cone ({cone_len:.4} mm, where it is {:.4} mm wide): carved to {cone_len:.4} mm",
            tool.diameter_mm
        ));
    }
    let r_cap = cone.cap_radius();
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    let z_top = cur.z_top();
    // The depth's own tolerance: a quarter of the path's, in depth and in the cut's radius.
    let ztol = 0.25 * tol.path_mm * (1.0 / cone.tan.max(1e-9)).min(1.0);
    // The boundary sampled as finely as the path: the axis of the sampled boundary is off the
    // true one by about the sampling error, and so is the cut's reach where two walls meet it.
    let sample = tol.path_mm;
    let feed = cur.feed;
    let plunge_feed = tool.feeds.plunge_mm_per_min;
    let (mut n_trails, mut n_walls) = (0usize, 0usize);
    let mut floor_area = 0.0;
    let mut narrow = Vec::new();
    let mut failed = Vec::new();
    let mut crossing = Vec::new();
    // First the axes and their exact distances, region by region: the levels go no deeper
    // than the deepest carve needs.
    let mut carves: Vec<(&Region, Vec<Trail>, f64, BoundaryDistance)> = Vec::new();
    let mut from = cur.pos().xy();
    for region in regions {
        cancel.check()?;
        let bb = region.bbox();
        let dist = BoundaryDistance::new(
            region,
            (bb.width().max(bb.height()) / 64.0).max(tol.path_mm * 100.0),
        );
        let axis = match medial_axis(region, sample, &dist) {
            Ok(a) => a,
            Err(e) => {
                failed.push(format!("({:.4}, {:.4}): {e}", bb.min.x, bb.min.y));
                continue;
            }
        };
        if let Some(at) = axis.crossing {
            crossing.push(format!(
                "{} near ({:.4}, {:.4})",
                axis.crossing_count, at.x, at.y
            ));
        }
        let axis = prune_dominated(axis, &dist, &cone, tol.path_mm);
        let exact: Vec<Trail> = trails(&axis, from)
            .iter()
            .map(|t| exact_trail(t, &dist, &cone, ztol, tol.equal_point_mm))
            .collect();
        let r_max = exact.iter().flatten().map(|q| q.1).fold(0.0_f64, f64::max);
        if r_max <= cone.tip_r {
            narrow.push(format!(
                "({:.4}, {:.4}) .. ({:.4}, {:.4}) (at most {:.4} mm wide)",
                bb.min.x,
                bb.min.y,
                bb.max.x,
                bb.max.y,
                2.0 * r_max
            ));
            continue;
        }
        if let Some(q) = exact.last().and_then(|t| t.last()) {
            from = q.0;
        }
        carves.push((region, exact, r_max, dist));
    }
    let deepest = carves
        .iter()
        .map(|c| cone.depth_at(c.2))
        .fold(0.0_f64, f64::max);
    let levels = z_levels(z_top, z_top - deepest, p.cut.stepdown_mm, tol.path_mm);
    for (region, exact, r_max, dist) in &carves {
        for t in exact {
            cancel.check()?;
            let stay = stays_down(&cur, t, dist, &cone, z_top, &levels, ztol);
            carve_trail(&mut cur, t, stay, &cone, z_top, &levels, feed, plunge_feed);
            n_trails += 1;
        }
        // Wider than the cone at the cap: the walls at the cap's radius, the floor left flat.
        if *r_max > r_cap + tol.path_mm {
            for comp in inset_region(region, r_cap, tol) {
                floor_area += comp.outer.area().abs()
                    - comp.holes.iter().map(|h| h.area().abs()).sum::<f64>();
                for l in comp.loops() {
                    let path = loop_path(l);
                    let start = V2::new(path[0].x, path[0].y);
                    cur.retract();
                    cur.descend_cleared(start, z_top, levels[0]);
                    for (i, &z) in levels.iter().enumerate() {
                        if i > 0 {
                            cur.tp.line(
                                P3::new(start.x, start.y, z),
                                MoveClass::Entry,
                                plunge_feed,
                            );
                        }
                        cur.cut_path(&path, z);
                    }
                    cur.retract();
                    n_walls += 1;
                }
            }
        }
    }
    cur.retract_clearance();
    if !failed.is_empty() {
        out.warnings.push(format!(
            "vcarve: {} region(s) not carved, their medial axis could not be built: {}",
            failed.len(),
            failed.join("; ")
        ));
    }
    if !crossing.is_empty() {
        out.warnings.push(format!(
            "vcarve: pieces of the medial axis that met a wall were left out ({}): the drawing's loops touch or cross there, so the carve may be incomplete; check the drawing",
            crossing.join("; ")
        ));
    }
    if !narrow.is_empty() {
        out.warnings.push(format!(
            "vcarve: {} region(s) narrower than the V's tip ({:.4} mm) are not carved: {}; use a V with a finer tip",
            narrow.len(),
            2.0 * cone.tip_r,
            narrow.join("; ")
        ));
    }
    if floor_area > 0.0 {
        out.warnings.push(format!(
            "vcarve: {floor_area:.4} mm² of floor is wider than the V at {:.4} mm (the cap): its walls are carved, the floor is left flat for a flat end mill; add the floor clean-up (a pocket at the same depth, its boundary {r_cap:.4} mm inside the walls)",
            cone.depth
        ));
    }
    if regions.is_empty() {
        out.warnings
            .push("vcarve: the drawing has no closed regions to carve".into());
    }
    out.notes.push(format!(
        "vcarve: {} region(s), {n_trails} path(s) along the medial axis and {n_walls} wall loop(s) at the cap, up to {deepest:.4} mm deep in {} level(s) (cap {:.4} mm, where the cut is {:.4} mm wide)",
        carves.len(),
        levels.len(),
        cone.depth,
        2.0 * r_cap
    ));
    out.toolpath = cur.tp;
    Ok(out)
}

/// Whether the tool may go from where it is to the trail's start without leaving the cut:
/// up to the shallower of the two depths, across at that depth, down at the start. Only
/// after a trail at a single level (the tool is at the first level's depth), over a short
/// way, and where the walls are far enough all along it (the distance is measured at points
/// close enough that between them it cannot dip below the depth's need, by the distance's
/// 1-Lipschitz bound).
fn stays_down(
    cur: &Cursor,
    t: &Trail,
    dist: &BoundaryDistance,
    cone: &Cone,
    z_top: f64,
    levels: &[f64],
    ztol: f64,
) -> Option<f64> {
    let here = cur.pos();
    let (start, r_start) = t[0];
    if levels.len() != 1 || here.z >= z_top || cur.tp.moves.is_empty() {
        return None;
    }
    let len = here.xy().dist(start);
    let h_here = z_top - here.z;
    let h = h_here.min(cone.depth_at(r_start));
    if len > 4.0 * cone.cap_radius() || h <= 0.0 {
        return None;
    }
    let n = ((len / (ztol * cone.tan)).ceil() as usize).clamp(1, 256);
    let s = len / n as f64;
    let mut hint = cone.tip_r + h * cone.tan;
    for k in 0..=n {
        let p = here.xy().lerp(start, k as f64 / n as f64);
        let r = dist.distance(p, hint);
        hint = r.max(1e-4);
        if cone.depth_at(r - 0.5 * s) < h - ztol {
            return None;
        }
    }
    Some(z_top - h)
}

/// One trail at every level: down at its start (across from where the last ended at
/// `stay_at`, when [`stays_down`] allows it), along it with the depth following the walls
/// (capped at the level), the next level back from where it ended.
#[allow(clippy::too_many_arguments)]
fn carve_trail(
    cur: &mut Cursor,
    t: &Trail,
    stay_at: Option<f64>,
    cone: &Cone,
    z_top: f64,
    levels: &[f64],
    feed: f64,
    plunge_feed: f64,
) {
    let z_of = |r: f64, level: f64| (z_top - cone.depth_at(r)).max(level);
    let start = t[0].0;
    let here = cur.pos();
    let z0 = z_of(t[0].1, levels[0]);
    if let Some(z) = stay_at {
        // Up to the shallower depth, across, down: all inside what is carved.
        if here.z < z {
            cur.tp
                .line(P3::new(here.x, here.y, z), MoveClass::Link, feed);
        }
        cur.tp
            .line(P3::new(start.x, start.y, z), MoveClass::Link, feed);
        if z0 < z {
            cur.tp
                .line(P3::new(start.x, start.y, z0), MoveClass::Entry, plunge_feed);
        }
    } else if here.xy().dist(start) <= cur.min_len && here.z <= z_top {
        cur.tp
            .line(P3::new(start.x, start.y, z0), MoveClass::Entry, plunge_feed);
    } else {
        cur.retract();
        cur.descend_cleared(start, z_top, z0);
    }
    let mut forward = true;
    for (i, &level) in levels.iter().enumerate() {
        let seq: Box<dyn Iterator<Item = &(V2, f64)>> = if forward {
            Box::new(t.iter())
        } else {
            Box::new(t.iter().rev())
        };
        let mut prev: Option<(V2, f64)> = None;
        for (k, &(q, r)) in seq.enumerate() {
            let z = z_of(r, level);
            if k == 0 {
                if i > 0 {
                    cur.tp
                        .line(P3::new(q.x, q.y, z), MoveClass::Entry, plunge_feed);
                }
                prev = Some((q, z_top - cone.depth_at(r)));
                continue;
            }
            // Where the depth crosses the level between two points, the crossing is a point
            // of the path (the depth is linear between them).
            let zf = z_top - cone.depth_at(r);
            if let Some((pq, pz)) = prev
                && (pz - level) * (zf - level) < 0.0
            {
                let f = (pz - level) / (pz - zf);
                let c = pq.lerp(q, f);
                cur.tp.line(P3::new(c.x, c.y, level), MoveClass::Cut, feed);
            }
            cur.tp.line(P3::new(q.x, q.y, z), MoveClass::Cut, feed);
            prev = Some((q, zf));
        }
        forward = !forward;
    }
}

#[cfg(test)]
mod tests;
