//! Waterline finishing of a mesh: closed contours at constant heights, each the exact line
//! where the tool at that height starts to touch the part (the push-cutter of [`crate::cl`]).
//!
//! At each level the plan is crossed by fibres along X and Y, a fraction of the tool's
//! radius apart; the push-cutter gives, along each fibre, the exact stretches where the tool
//! would cut. Their ends are points of the contour. The grid of fibres is a weave: in each
//! cell the contour joins the ends on its sides (four crossings are joined the way the side
//! stretches connect: a thin strip of free space is not cut across), and the joins chain
//! into closed loops, the part on their left. Each chord is then checked twice, and split
//! until both hold: the contour across its middle (found by a push along the normal) lies
//! within 0.4 of the path tolerance, and no point of it lies deeper in the part than that (a
//! push along the chord, then along the normal; a small island between two fibres bends the
//! chord around it). The points are fitted with lines and arcs within 0.4 of the tolerance,
//! each arc checked along its length by the drop-cutter (kept as lines where it strays).
//!
//! Levels step down by a distance, or by the scallop a ball or bull-nose corner leaves on a
//! vertical wall. Loops are cut top down, each region finished downward before the next:
//! the tool stays down where the straight link to the next level's loop is clear, and ramps
//! along that loop from the level above (a point of a contour is free at every height above
//! its level, so the ramp cuts nothing it should not).

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Cancel, CutParams, Direction, EntryKind, OpError, OpResult, param_err};
use crate::cl::{CutterShape, DropCutter, PushScratch};
use crate::geometry::Tolerance;
use crate::geometry::mesh::Mesh;
use crate::tool::Tool;
use crate::toolpath::{MoveClass, P3, Toolpath};

use super::parallel::Mask;

/// Parameters of waterline finishing.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WaterlineParams {
    /// Heights (levels run from the start depth, or the part's top, down to the final
    /// depth), the step-down (`stepdown_mm`, else from the scallop), the stock to leave,
    /// climb or conventional, and the entry (a ramp along the loop at the ramp angle; a
    /// plunge only when asked for).
    #[serde(flatten)]
    pub cut: CutParams,
    /// The scallop height to leave on a vertical wall between levels, mm (0.0005 is 0.5 µm),
    /// used when no step-down is given: a ball or bull-nose corner of radius ρ steps
    /// 2·√(2ρh − h²). Default 1 µm.
    pub scallop_mm: Option<f64>,
}

/// The default scallop height between levels, mm.
pub const DEFAULT_SCALLOP_MM: f64 = 0.001;

/// The step-down of a tool without a corner radius when none is given, of its radius.
const FLAT_STEP_OF_RADIUS: f64 = 0.2;

/// Fibres across the part in each direction, at most.
const MAX_FIBRES: f64 = 4000.0;

/// Halvings of a chord, at most.
const MAX_SPLITS: u32 = 30;

impl WaterlineParams {
    /// The step between levels, mm, and the scallop it leaves on a vertical wall (`None`
    /// when the step-down is given).
    /// `shape` is the tool's own profile (without the stock to leave).
    pub fn step_mm(&self, shape: &CutterShape) -> Result<(f64, Option<f64>), String> {
        if let Some(s) = self.cut.stepdown_mm {
            return Ok((s, None));
        }
        let rho = shape.corner_radius();
        if rho <= 0.0 {
            if self.scallop_mm.is_some() {
                return Err(
                    "a tool without a corner radius leaves no scallop on a wall to step by: give a step-down (stepdown_mm, --stepdown)".into(),
                );
            }
            // A flat end or V tool: a tenth of the diameter unless told (said in the notes).
            return Ok((shape.radius() * FLAT_STEP_OF_RADIUS, None));
        }
        let h = self.scallop_mm.unwrap_or(DEFAULT_SCALLOP_MM);
        if !(h > 0.0 && h < rho) {
            return Err(format!(
                "scallop height {h} mm: give a height above 0 and below the corner radius ({rho} mm)"
            ));
        }
        Ok((2.0 * (2.0 * rho * h - h * h).sqrt(), Some(h)))
    }
}

/// One closed contour at a level (or, kept by a mask, an open piece of one): its points,
/// the part on the left.
#[derive(Debug, Clone)]
struct Contour {
    z: f64,
    pts: Vec<[f64; 2]>,
    closed: bool,
    /// The loop fitted with lines and arcs: (index of a point of `pts`, bulge to the next);
    /// empty until fitted.
    fit: Vec<(usize, f64)>,
}

/// What the levels share.
struct Weave<'a> {
    dc: &'a DropCutter,
    /// The grid's first fibre, spacing and counts.
    x0: f64,
    y0: f64,
    s: f64,
    nx: usize,
    ny: usize,
    /// The stock to leave on floors: the tool at `z` is clear where the drop-cutter is at
    /// or below `z − axial`.
    axial: f64,
    tol: f64,
}

impl Weave<'_> {
    fn x(&self, i: i64) -> f64 {
        self.x0 + i as f64 * self.s
    }
    fn y(&self, j: i64) -> f64 {
        self.y0 + j as f64 * self.s
    }
    /// The height the push and drop compare with at level `z`: a hair above, so a face
    /// lying exactly at a level is touched, not cut.
    fn zq(&self, z: f64) -> f64 {
        z - self.axial + 1e-9 * (1.0 + z.abs())
    }
    /// Whether the tool at level `z` can move straight from `a` to `b` without cutting the
    /// part by more than the path tolerance: the move itself is clear, or one beside it
    /// within the tolerance is (the contours' points lie within the tolerance of the exact
    /// contact, on either side).
    fn clear(&self, a: [f64; 2], b: [f64; 2], z: f64, sc: &mut PushScratch) -> bool {
        let mut iv = Vec::new();
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = (dx * dx + dy * dy).sqrt();
        if len.is_nan() || len <= 0.0 {
            return true;
        }
        let n = [-dy / len * self.tol, dx / len * self.tol];
        [0.0, 1.0, -1.0].into_iter().any(|side| {
            let off = |p: [f64; 2]| [p[0] + side * n[0], p[1] + side * n[1]];
            self.dc.push(off(a), off(b), self.zq(z), sc, &mut iv);
            iv.is_empty()
        })
    }

    fn blocked_at(&self, p: [f64; 2], z: f64) -> bool {
        self.dc.drop(p[0], p[1], f64::NEG_INFINITY) > self.zq(z)
    }
}

/// Waterline finishing of `mesh`.
pub fn waterline(
    mesh: &Mesh,
    tool: &Tool,
    p: &WaterlineParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    waterline_within(mesh, tool, p, None, tol, cancel)
}

/// [`waterline`] with the contours kept where `mask` holds: a loop wholly inside stays a
/// loop, one that leaves it becomes the open pieces inside, each entered from above.
pub(super) fn waterline_within(
    mesh: &Mesh,
    tool: &Tool,
    p: &WaterlineParams,
    mask: Option<Mask<'_>>,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "waterline";
    let shape = p.cut.finishing_shape(OP, tool, mesh)?;
    // The scallop on the finished wall is the tool's own corner's, not the corner grown by
    // the stock to leave (a flat end mill leaving 20 µm is still a flat end mill).
    let own = CutterShape::of(tool, 0.0).map_err(|e| param_err(OP, "tool", e))?;
    let (dz, scallop) = p.step_mm(&own).map_err(|e| {
        param_err(
            OP,
            if p.cut.stepdown_mm.is_some() || p.scallop_mm.is_none() {
                "stepdown_mm"
            } else {
                "scallop_mm"
            },
            e,
        )
    })?;
    if !(dz.is_finite() && dz >= tol.path_mm) {
        return Err(param_err(
            OP,
            "stepdown_mm",
            format!(
                "is {dz} mm; give a step-down of at least {} mm",
                tol.path_mm
            ),
        ));
    }
    let dc = DropCutter::new(mesh, shape);
    let (lo, hi) = dc.bounds();
    let h = &p.cut.heights;
    let z_top = if h.start_depth_mm > 0.0 {
        (-h.start_depth_mm).min(hi[2])
    } else {
        hi[2]
    };
    let z_bottom = (-h.final_depth_mm).max(lo[2] + p.cut.allowance_axial_mm);
    let span = z_top - z_bottom;
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    if span <= tol.path_mm {
        warnings.push(format!(
            "nothing to cut between the top {z_top:.4} and the bottom {z_bottom:.4}: the Z range misses the part"
        ));
        return Ok(OpResult {
            warnings,
            ..OpResult::default()
        });
    }
    let n = (span / dz).ceil() as usize;
    if n > 100_000 {
        return Err(param_err(
            OP,
            "stepdown_mm",
            format!("gives {n} levels over {span:.3} mm; use a larger step-down or scallop height"),
        ));
    }
    let step = span / n as f64;
    let levels: Vec<f64> = (1..=n).map(|k| z_top - step * k as f64).collect();
    // The weave: fibres a half radius apart (fewer on a large part), off any round number
    // so fibres seldom pass exactly through vertices.
    let r = shape.radius();
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]) + 2.0 * r;
    let s = (r * 0.5).max(extent / MAX_FIBRES);
    let margin = r + 2.0 * s;
    let x0 = lo[0] - margin + s * std::f64::consts::FRAC_1_PI;
    let y0 = lo[1] - margin + s * std::f64::consts::E * 0.1;
    let weave = Weave {
        dc: &dc,
        x0,
        y0,
        s,
        nx: ((hi[0] + margin - x0) / s).ceil() as usize,
        ny: ((hi[1] + margin - y0) / s).ceil() as usize,
        axial: p.cut.allowance_axial_mm,
        tol: tol.path_mm,
    };
    let mut contours: Vec<Vec<Contour>> = Vec::with_capacity(levels.len());
    let mut unresolved = 0usize;
    let mut unclosed = 0usize;
    for &z in &levels {
        cancel.check()?;
        let (loops, bad, open) = level_contours(&weave, z, cancel);
        unresolved += bad;
        unclosed += open;
        contours.push(loops);
    }
    cancel.check()?;
    if unresolved > 0 {
        warnings.push(format!(
            "{unresolved} place(s) where a contour could not be brought within the path tolerance after {MAX_SPLITS} halvings (the tool may touch the part there by up to the halved chord): check the export's gouge report"
        ));
    }
    if unclosed > 0 {
        warnings.push(format!(
            "{unclosed} piece(s) of contour did not close and were left out (the part is left uncut there, not gouged): check the mesh for defects there, or try a slightly different step-down"
        ));
    }
    if p.cut.direction == Direction::Climb {
        for c in contours.iter_mut().flatten() {
            c.pts.reverse();
        }
    }
    if let Some(m) = mask {
        for level in &mut contours {
            *level = std::mem::take(level)
                .into_iter()
                .flat_map(|c| pieces_within(c, m))
                .collect();
        }
    }
    // Lines and arcs within 0.4 of the tolerance of the points (themselves within 0.4 of
    // it of the contour), each arc checked along its length by the drop-cutter.
    let part_left = p.cut.direction != Direction::Climb;
    let rejected = std::sync::atomic::AtomicUsize::new(0);
    contours.par_iter_mut().flatten().for_each(|c| {
        if !cancel.requested() {
            let (fit, bad) = fit_loop(&weave, c, part_left, tol);
            c.fit = fit;
            rejected.fetch_add(bad, std::sync::atomic::Ordering::Relaxed);
        }
    });
    cancel.check()?;
    let count: usize = contours.iter().map(Vec::len).sum();
    let lines: usize = contours
        .par_iter()
        .flatten()
        .map(|c| merge_run(&c.pts, weave.tol * 0.4, c.closed).len())
        .sum();
    let fitted: usize = contours.iter().flatten().map(|c| c.fit.len()).sum();
    let arcs = contours
        .iter()
        .flatten()
        .flat_map(|c| &c.fit)
        .filter(|f| f.1 != 0.0)
        .count();
    let toolpath = if mask.is_some() {
        link_pieces(&weave, &contours, step, tool, p, hi[2])
    } else {
        link(&weave, &contours, step, tool, p, hi[2])
    };
    notes.push(format!(
        "contours fitted with {arcs} arcs: {fitted} moves round the loops instead of {lines} lines (the points merged within the same tolerance){}",
        match rejected.into_inner() {
            0 => String::new(),
            k => format!(" ({k} arc(s) kept as lines: checked along their length, they came nearer the part than the tolerance)"),
        }
    ));
    notes.push(match scallop {
        Some(hs) => format!(
            "{n} levels {step:.4} mm apart for a {:.2} µm scallop on vertical walls; {count} contours",
            hs * 1000.0
        ),
        None if p.cut.stepdown_mm.is_none() => format!(
            "{n} levels {step:.4} mm apart (a tenth of the tool's diameter: a tool without a corner radius leaves no scallop on a wall to step by; set a step-down); {count} contours"
        ),
        None => format!("{n} levels {step:.4} mm apart; {count} contours"),
    });
    notes.push(
        "tolerance: the mesh's own chord error is not known (an STL keeps no exact surface); contour points within 0.4 of the path tolerance of the exact push-cutter contact, lines and arcs within 0.4 of it of the points (each arc checked along its length against the drop-cutter); then the post's rounding".into(),
    );
    Ok(OpResult {
        toolpath,
        warnings,
        notes,
        ..OpResult::default()
    })
}

/// A crossing of the weave: on edge `(horizontal, i, j)` (from node (i, j) along X or Y), at
/// `at` along its fibre.
type EdgeKey = (bool, i64, i64);

/// A crossing: its edge and its place along it.
type Id = (EdgeKey, usize);

/// The closed contours at level `z`, the number of chords left unresolved, and of pieces of
/// contour that did not close (left out).
fn level_contours(w: &Weave<'_>, z: f64, cancel: &Cancel) -> (Vec<Contour>, usize, usize) {
    let zq = w.zq(z);
    let (xa, xb) = (w.x(0), w.x(w.nx as i64));
    let (ya, yb) = (w.y(0), w.y(w.ny as i64));
    // Fibres along X (one per row j) and along Y (one per column i): blocked stretches in
    // absolute coordinates.
    let fibre = |horizontal: bool, k: usize, sc: &mut PushScratch| -> Vec<(f64, f64)> {
        if cancel.requested() {
            return Vec::new();
        }
        let mut iv = Vec::new();
        if horizontal {
            let y = w.y(k as i64);
            w.dc.push([xa, y], [xb, y], zq, sc, &mut iv);
            iv.iter().map(|&(a, b)| (xa + a, xa + b)).collect()
        } else {
            let x = w.x(k as i64);
            w.dc.push([x, ya], [x, yb], zq, sc, &mut iv);
            iv.iter().map(|&(a, b)| (ya + a, ya + b)).collect()
        }
    };
    let rows: Vec<Vec<(f64, f64)>> = (0..=w.ny)
        .into_par_iter()
        .map_init(PushScratch::default, |sc, j| fibre(true, j, sc))
        .collect();
    let cols: Vec<Vec<(f64, f64)>> = (0..=w.nx)
        .into_par_iter()
        .map_init(PushScratch::default, |sc, i| fibre(false, i, sc))
        .collect();
    if cancel.requested() {
        return (Vec::new(), 0, 0);
    }
    // Node states from the rows (half-open: blocked on [lo, hi)).
    let in_iv = |iv: &[(f64, f64)], v: f64| {
        let k = iv.partition_point(|x| x.1 <= v);
        k < iv.len() && iv[k].0 <= v
    };
    let node = |i: i64, j: i64| -> bool {
        (0..=w.ny as i64).contains(&j) && in_iv(&rows[j as usize], w.x(i))
    };
    let node_y = |i: i64, j: i64| -> bool {
        (0..=w.nx as i64).contains(&i) && in_iv(&cols[i as usize], w.y(j))
    };
    // Which edge a fibre's end falls on: (v(k), v(k + 1)].
    let slot = |v: f64, origin: f64| -> i64 {
        let mut k = ((v - origin) / w.s).ceil() as i64 - 1;
        while origin + (k + 1) as f64 * w.s < v {
            k += 1;
        }
        while origin + k as f64 * w.s >= v {
            k -= 1;
        }
        k
    };
    let mut edges: HashMap<EdgeKey, Vec<f64>> = HashMap::default();
    for (j, iv) in rows.iter().enumerate() {
        for &(a, b) in iv {
            for v in [a, b] {
                edges
                    .entry((true, slot(v, w.x0), j as i64))
                    .or_default()
                    .push(v);
            }
        }
    }
    for (i, iv) in cols.iter().enumerate() {
        for &(a, b) in iv {
            for v in [a, b] {
                edges
                    .entry((false, i as i64, slot(v, w.y0)))
                    .or_default()
                    .push(v);
            }
        }
    }
    // Cells next to a crossing, and a ring around them; where a node's state along Y
    // disagrees with its state along X (an end within a hair of the node), a crossing at the
    // node keeps each vertical edge's count of crossings true to its ends' states.
    let mut cells: BTreeSet<(i64, i64)> = BTreeSet::default();
    for &(_, i, j) in edges.keys() {
        for di in -1..=1 {
            for dj in -1..=1 {
                cells.insert((i + di, j + dj));
            }
        }
    }
    let mut fix: Vec<(EdgeKey, f64)> = Vec::new();
    let mut seen = HashSet::new();
    for &(ci, cj) in &cells {
        for (i, j) in [(ci, cj), (ci + 1, cj), (ci, cj + 1), (ci + 1, cj + 1)] {
            if seen.insert((i, j)) && node(i, j) != node_y(i, j) {
                // The vertical edges below and above the node.
                fix.push(((false, i, j - 1), w.y(j)));
                fix.push(((false, i, j), w.y(j)));
            }
        }
    }
    for (k, v) in fix {
        edges.entry(k).or_default().push(v);
    }
    for v in edges.values_mut() {
        v.sort_by(f64::total_cmp);
    }
    let cells: BTreeSet<(i64, i64)> = edges
        .keys()
        .flat_map(|&(hz, i, j)| {
            if hz {
                [(i, j - 1), (i, j)]
            } else {
                [(i - 1, j), (i, j)]
            }
        })
        .collect();
    // Joins in each cell, from the crossing where the walk (counter-clockwise round the
    // cell) leaves the part to the one where it enters: the part lies on the join's left.
    let mut next: HashMap<Id, Id> = HashMap::default();
    let point = |id: &Id| -> [f64; 2] {
        let ((hz, i, j), k) = *id;
        let v = edges[&(hz, i, j)][k];
        if hz { [v, w.y(j)] } else { [w.x(i), v] }
    };
    let sc = &mut PushScratch::default();
    for &(i, j) in &cells {
        let mut walk: Vec<Id> = Vec::new();
        // Each crossing's position round the cell, counter-clockwise from its first corner.
        let mut round: Vec<f64> = Vec::new();
        let mut side = |key: EdgeKey, rev: bool, base: f64, from: f64| {
            if let Some(v) = edges.get(&key) {
                let ks: Vec<usize> = if rev {
                    (0..v.len()).rev().collect()
                } else {
                    (0..v.len()).collect()
                };
                for k in ks {
                    walk.push((key, k));
                    let off = if rev { from - v[k] } else { v[k] - from };
                    round.push(base + off.clamp(0.0, w.s));
                }
            }
        };
        side((true, i, j), false, 0.0, w.x(i));
        side((false, i + 1, j), false, w.s, w.y(j));
        side((true, i, j + 1), true, 2.0 * w.s, w.x(i + 1));
        side((false, i, j), true, 3.0 * w.s, w.y(j + 1));
        if walk.len() < 2 {
            continue;
        }
        // Crossing k leaves the part (an exit) when the walk was inside before it.
        let mut inside = node(i, j);
        let mut exits = Vec::with_capacity(walk.len());
        for _ in &walk {
            exits.push(inside);
            inside = !inside;
        }
        if walk.len() % 2 == 1 {
            // Cannot happen with consistent states; skip the cell rather than join wrongly
            // (the loops through it do not close, and are counted).
            continue;
        }
        let m = walk.len();
        let center_blocked = m > 2 && free_arcs_apart(w, z, (i, j), &round, &exits, sc);
        // Pair each exit with the entry after it (the free stretches of the walk cut off)
        // when the part joins across the cell, else each entry with the exit after it.
        for k in 0..m {
            if m == 2 || center_blocked {
                if exits[k] {
                    next.insert(walk[k], walk[(k + 1) % m]);
                }
            } else if !exits[k] {
                let e = (k + 1) % m;
                next.insert(walk[e], walk[k]);
            }
        }
    }
    // Chain the joins into loops.
    let mut keys: Vec<Id> = next.keys().copied().collect();
    keys.sort_by(|a, b| {
        (a.0.0, a.0.1, a.0.2, a.1)
            .partial_cmp(&(b.0.0, b.0.1, b.0.2, b.1))
            .unwrap()
    });
    let mut used = HashSet::new();
    let mut loops = Vec::new();
    let mut open = 0usize;
    for start in keys {
        if used.contains(&start) {
            continue;
        }
        let mut pts = Vec::new();
        let mut cur = start;
        let mut closed = false;
        while used.insert(cur) {
            pts.push(point(&cur));
            match next.get(&cur) {
                Some(&n) => {
                    if n == start {
                        closed = true;
                        break;
                    }
                    cur = n;
                }
                None => break,
            }
        }
        // (Two points: a pocket of free space narrower than the fibres' spacing; refined
        // like the others.)
        if closed && pts.len() >= 2 {
            loops.push(pts);
        } else {
            open += 1;
        }
    }
    // Refine each loop to the tolerance and merge.
    let results: Vec<(Contour, usize)> = loops
        .into_par_iter()
        .map(|pts| {
            let (pts, bad) = refine_loop(w, z, &pts);
            (
                Contour {
                    z,
                    pts,
                    closed: true,
                    fit: Vec::new(),
                },
                bad,
            )
        })
        .collect();
    let bad = results.iter().map(|r| r.1).sum();
    let loops = results
        .into_iter()
        .map(|r| r.0)
        .filter(|c| c.pts.len() >= 2)
        .collect();
    (loops, bad, open)
}

/// In a cell crossed four times or more, whether the part joins across it (the free
/// stretches of its sides are pockets apart) rather than the free space. With four
/// crossings: the free side stretches join when the straight line between their middles is
/// clear, and the part's join when the line between theirs lies wholly in the part (a thin
/// strip of free space through the cell or a thin wall of the part across it, which a
/// sample at the centre could miss); else, and with more crossings, the centre decides.
fn free_arcs_apart(
    w: &Weave<'_>,
    z: f64,
    (i, j): (i64, i64),
    round: &[f64],
    exits: &[bool],
    sc: &mut PushScratch,
) -> bool {
    let (x0, y0, s) = (w.x(i), w.y(j), w.s);
    let centre = [x0 + 0.5 * s, y0 + 0.5 * s];
    if round.len() != 4 {
        return w.blocked_at(centre, z);
    }
    let at = |t: f64| -> [f64; 2] {
        let t = t.rem_euclid(4.0 * s);
        if t < s {
            [x0 + t, y0]
        } else if t < 2.0 * s {
            [x0 + s, y0 + t - s]
        } else if t < 3.0 * s {
            [x0 + 3.0 * s - t, y0 + s]
        } else {
            [x0, y0 + 4.0 * s - t]
        }
    };
    // The middle of the side stretch after crossing k.
    let mid = |k: usize| -> [f64; 2] {
        let a = round[k];
        let mut b = round[(k + 1) % 4];
        if b < a {
            b += 4.0 * s;
        }
        at(0.5 * (a + b))
    };
    // After an exit the walk is free.
    let (free, part): (Vec<usize>, Vec<usize>) = (0..4).partition(|&k| exits[k]);
    let mut iv = Vec::new();
    let (f0, f1) = (mid(free[0]), mid(free[1]));
    w.dc.push(f0, f1, w.zq(z), sc, &mut iv);
    let free_join = iv.is_empty();
    let (p0, p1) = (mid(part[0]), mid(part[1]));
    let len = ((p1[0] - p0[0]).powi(2) + (p1[1] - p0[1]).powi(2)).sqrt();
    w.dc.push(p0, p1, w.zq(z), sc, &mut iv);
    let part_join =
        len > 0.0 && iv.len() == 1 && iv[0].0 <= len * 1e-9 && iv[0].1 >= len * (1.0 - 1e-9);
    match (free_join, part_join) {
        (true, false) => false,
        (false, true) => true,
        _ => w.blocked_at(centre, z),
    }
}

/// Splits each chord of a closed loop until the contour across its middle lies within half
/// the tolerance and nothing blocks it; then merges points within the other half.
fn refine_loop(w: &Weave<'_>, z: f64, pts: &[[f64; 2]]) -> (Vec<[f64; 2]>, usize) {
    // Chord by chord in parallel (a level is often one long loop), in order.
    let n = pts.len();
    let pieces: Vec<(Vec<[f64; 2]>, usize)> = (0..n)
        .into_par_iter()
        .with_min_len(16)
        .map_init(PushScratch::default, |sc, k| {
            let (a, b) = (pts[k], pts[(k + 1) % n]);
            let mut out = vec![a];
            let mut bad = 0;
            refine_chord(w, z, a, b, 0, sc, &mut out, &mut bad);
            (out, bad)
        })
        .collect();
    let bad = pieces.iter().map(|p| p.1).sum();
    let mut out: Vec<[f64; 2]> = pieces.into_iter().flat_map(|p| p.0).collect();
    out.dedup();
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    (out, bad)
}

#[allow(clippy::too_many_arguments)]
fn refine_chord(
    w: &Weave<'_>,
    z: f64,
    a: [f64; 2],
    b: [f64; 2],
    depth: u32,
    sc: &mut PushScratch,
    out: &mut Vec<[f64; 2]>,
    bad: &mut usize,
) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = (dx * dx + dy * dy).sqrt();
    // A chord no longer than the tolerance between two points of the contour lies within
    // half of it of the contour (across a spike of free space, within half its width).
    if len <= w.tol {
        return;
    }
    let zq = w.zq(z);
    let nrm = [-dy / len, dx / len]; // towards the part
    let mut iv = Vec::new();
    // Anything in the chord's way?
    w.dc.push(a, b, zq, sc, &mut iv);
    // Out of the part along the normal from points of each blocked stretch: split at the
    // deepest when the chord runs deeper into the part than half the tolerance.
    let stretches = std::mem::take(&mut iv);
    let reach = w.s * 2.0;
    let mut split = None;
    let mut gouge = false;
    let mut deepest = w.tol * 0.4;
    for &(lo, hi) in &stretches {
        // Every point of a stretch lies within half its length of a free point (its ends):
        // a short one cannot reach deeper than the tolerance allows.
        if hi - lo <= 2.0 * deepest {
            continue;
        }
        // Samples an eighth of the fibres' spacing apart (at least three): a bump of the
        // contour between them is narrower than that.
        let m = (((hi - lo) / (w.s * 0.125)).ceil() as usize).clamp(3, 64);
        for k in 0..m {
            let f = (k as f64 + 0.5) / m as f64;
            let t = (lo + f * (hi - lo)) / len;
            let c = [a[0] + t * dx, a[1] + t * dy];
            // Free as near as the deepest yet: nothing deeper here (one drop, no push).
            let near = [c[0] - nrm[0] * deepest, c[1] - nrm[1] * deepest];
            if w.dc.drop(near[0], near[1], f64::NEG_INFINITY) <= zq {
                continue;
            }
            let far = [c[0] - nrm[0] * reach, c[1] - nrm[1] * reach];
            w.dc.push(c, far, zq, sc, &mut iv);
            if let Some(&(s0, e)) = iv.first()
                && s0 == 0.0
                && e > deepest
            {
                if e >= reach {
                    *bad += 1;
                    return;
                }
                deepest = e;
                gouge = true;
                split = Some([c[0] - nrm[0] * e, c[1] - nrm[1] * e]);
            }
        }
    }
    if split.is_none() {
        // The contour across the middle: from a free middle the first blocked stretch
        // towards the part, from a blocked middle the way out away from it.
        let m = [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])];
        let reach = w.s * 1.5;
        let from = [m[0] - nrm[0] * reach, m[1] - nrm[1] * reach];
        let to = [m[0] + nrm[0] * reach, m[1] + nrm[1] * reach];
        w.dc.push(from, to, zq, sc, &mut iv);
        let e = match iv.iter().find(|x| x.1 > reach) {
            Some(&(lo, _)) if lo < reach => Some(lo),
            Some(&(lo, _)) => Some(lo),
            None => None,
        };
        if let Some(e) = e
            && e > 0.0
            && (e - reach).abs() > w.tol * 0.4
        {
            let off = e - reach;
            split = Some([m[0] + nrm[0] * off, m[1] + nrm[1] * off]);
        }
    }
    let Some(c) = split else {
        return;
    };
    if depth >= MAX_SPLITS {
        // Off the contour on the free side (a sharp point of free space the chord cuts
        // across) leaves a little uncut and is no risk; into the part is.
        if gouge {
            *bad += 1;
        }
        return;
    }
    refine_chord(w, z, a, c, depth + 1, sc, out, bad);
    out.push(c);
    refine_chord(w, z, c, b, depth + 1, sc, out, bad);
}

/// The points of a closed loop (`closed`) or an open run (its last point kept) kept when
/// those within `tol` of the chord that replaces them are dropped (their indices).
fn merge_run(pts: &[[f64; 2]], tol: f64, closed: bool) -> Vec<usize> {
    if pts.len() < 4 {
        return (0..pts.len()).collect();
    }
    let dist = |p: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 {
            (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        ((p[0] - a[0] - t * dx).powi(2) + (p[1] - a[1] - t * dy).powi(2)).sqrt()
    };
    let mut out = vec![0];
    let mut k = 0;
    // An open run ends at its last point; a loop at its first again.
    let n = if closed { pts.len() } else { pts.len() - 1 };
    while k < n {
        // Extend the chord from pts[k] as far as every point between stays within tol.
        let mut e = k + 1;
        while e < n {
            let cand = e + 1;
            let end = if cand == pts.len() { pts[0] } else { pts[cand] };
            if (k + 1..cand).all(|m| dist(pts[m], pts[k], end) <= tol) {
                e = cand;
            } else {
                break;
            }
        }
        if e >= n {
            if !closed {
                out.push(n);
            }
            break;
        }
        out.push(e);
        k = e;
    }
    out
}

/// What linking the contours starts from: the heights, feeds, the safe height over the part's
/// top, the ramp, the toolpath at the clearance height, the contours left.
struct Linking<'a> {
    h: &'a super::Heights,
    feed: f64,
    plunge: f64,
    safe: f64,
    ramp_slope: f64,
    ramps: bool,
    tp: Toolpath,
    left: Vec<Vec<bool>>,
    sc: PushScratch,
}

impl<'a> Linking<'a> {
    fn new(contours: &[Vec<Contour>], tool: &Tool, p: &'a WaterlineParams, top: f64) -> Self {
        let h = &p.cut.heights;
        let ramp_slope = p.cut.entry.ramp_angle_deg.to_radians().tan();
        Self {
            h,
            feed: tool.feed_mm_per_min(),
            plunge: tool.feeds.plunge_mm_per_min,
            safe: h.safe_mm.max(top + p.cut.allowance_axial_mm + h.safe_mm),
            ramp_slope,
            ramps: p.cut.entry.kind != EntryKind::Plunge && ramp_slope > 0.0,
            tp: Toolpath::new(P3::new(0.0, 0.0, h.clearance_mm)),
            left: contours.iter().map(|l| vec![true; l.len()]).collect(),
            sc: PushScratch::default(),
        }
    }
}

/// Cuts the contours top down, region by region, linked by stays-down moves and ramps where
/// clear, else up to the safe height and down again.
fn link(
    w: &Weave<'_>,
    contours: &[Vec<Contour>],
    step: f64,
    tool: &Tool,
    p: &WaterlineParams,
    top: f64,
) -> Toolpath {
    let Linking {
        h,
        feed,
        plunge,
        safe,
        ramp_slope,
        ramps,
        mut tp,
        mut left,
        mut sc,
    } = Linking::new(contours, tool, p, top);
    let nearest = |c: &Contour, q: [f64; 2]| -> (usize, f64) {
        c.pts
            .iter()
            .enumerate()
            .map(|(k, p)| (k, (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or((0, f64::INFINITY), |(k, d2)| (k, d2.sqrt()))
    };
    let mut first = true;
    // The highest level with contours left; the one nearest the tool.
    while let Some(level) = left.iter().position(|l| l.iter().any(|&b| b)) {
        let here = tp.end();
        let k = (0..contours[level].len())
            .filter(|&k| left[level][k])
            .min_by(|&a, &b| {
                nearest(&contours[level][a], [here.x, here.y])
                    .1
                    .total_cmp(&nearest(&contours[level][b], [here.x, here.y]).1)
            })
            .unwrap_or(0);
        left[level][k] = false;
        let c = &contours[level][k];
        let (start, _) = nearest(c, [here.x, here.y]);
        // Down from the safe height over the loop, to the level above, then the ramp.
        if first {
            tp.rapid(P3::new(c.pts[start][0], c.pts[start][1], h.clearance_mm));
            first = false;
        } else {
            tp.rapid(P3::new(here.x, here.y, safe));
        }
        tp.rapid(P3::new(c.pts[start][0], c.pts[start][1], safe));
        let from_z = if ramps { (c.z + step).min(safe) } else { c.z };
        tp.line(
            P3::new(c.pts[start][0], c.pts[start][1], from_z),
            MoveClass::Entry,
            plunge,
        );
        cut_loop(&mut tp, c, start, from_z, ramp_slope, ramps, feed);
        // Down the region: the next level's nearest loop, while the link is clear.
        let mut lv = level;
        while lv + 1 < contours.len() {
            let end = tp.end();
            let below = lv + 1;
            let Some((k2, (s2, d))) = (0..contours[below].len())
                .filter(|&k| left[below][k])
                .map(|k| (k, nearest(&contours[below][k], [end.x, end.y])))
                .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
            else {
                break;
            };
            if d > 4.0 * tool.diameter_mm.max(step) {
                break;
            }
            let c2 = &contours[below][k2];
            let q = c2.pts[s2];
            if d > 0.0 {
                if !w.clear([end.x, end.y], q, end.z, &mut sc) {
                    break;
                }
                tp.line(P3::new(q[0], q[1], end.z), MoveClass::Link, feed);
            }
            left[below][k2] = false;
            if !ramps {
                tp.line(P3::new(q[0], q[1], c2.z), MoveClass::Entry, plunge);
            }
            cut_loop(&mut tp, c2, s2, end.z, ramp_slope, ramps, feed);
            lv = below;
        }
    }
    let e = tp.end();
    tp.rapid(P3::new(e.x, e.y, h.clearance_mm));
    tp
}

/// The pieces of loop `c` where `mask` holds: the loop itself when it holds all round,
/// else each run of points inside, open (in the loop's direction).
fn pieces_within(c: Contour, mask: Mask<'_>) -> Vec<Contour> {
    let inside: Vec<bool> = c.pts.iter().map(|q| mask(q[0], q[1])).collect();
    if inside.iter().all(|&b| b) {
        return vec![c];
    }
    let n = c.pts.len();
    let Some(first_out) = inside.iter().position(|&b| !b) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut run: Vec<[f64; 2]> = Vec::new();
    // From the first point outside round the loop once, so no run is split at the seam.
    for k in 1..=n {
        let i = (first_out + k) % n;
        if inside[i] {
            run.push(c.pts[i]);
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out.into_iter()
        .filter(|r| r.len() >= 2)
        .map(|pts| Contour {
            z: c.z,
            pts,
            closed: false,
            fit: Vec::new(),
        })
        .collect()
}

/// Cuts the pieces top down: each entered from the safe height (a loop by a ramp along it
/// from the level above, an open piece straight down: a point of a contour is free at every
/// height above its level), then on to the nearest piece left on the same level or the one
/// below while the straight link at the height reached is clear and within four tool
/// diameters, else up to the safe height.
fn link_pieces(
    w: &Weave<'_>,
    pieces: &[Vec<Contour>],
    step: f64,
    tool: &Tool,
    p: &WaterlineParams,
    top: f64,
) -> Toolpath {
    let Linking {
        h,
        feed,
        plunge,
        safe,
        ramp_slope,
        ramps,
        mut tp,
        mut left,
        mut sc,
    } = Linking::new(pieces, tool, p, top);
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    // Where a piece is entered (a loop at its point nearest `q`) and how far that is.
    let entry = |c: &Contour, q: [f64; 2]| -> (usize, f64) {
        if c.closed {
            c.pts
                .iter()
                .enumerate()
                .map(|(k, p)| (k, d2(*p, q)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or((0, f64::INFINITY), |(k, d)| (k, d.sqrt()))
        } else {
            (0, d2(c.pts[0], q).sqrt())
        }
    };
    let cut = |tp: &mut Toolpath, c: &Contour, start: usize, from_z: f64| {
        if c.closed {
            cut_loop(tp, c, start, from_z, ramp_slope, ramps, feed);
        } else {
            if tp.end().z > c.z {
                tp.line(
                    P3::new(c.pts[0][0], c.pts[0][1], c.z),
                    MoveClass::Entry,
                    plunge,
                );
            }
            cut_run(tp, c, feed);
        }
    };
    let mut first = true;
    while let Some(level) = left.iter().position(|l| l.iter().any(|&b| b)) {
        let here = tp.end();
        let q = [here.x, here.y];
        let Some((k, (start, _))) = (0..pieces[level].len())
            .filter(|&k| left[level][k])
            .map(|k| (k, entry(&pieces[level][k], q)))
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
        else {
            break;
        };
        left[level][k] = false;
        let c = &pieces[level][k];
        let s0 = c.pts[start];
        // Only as high as the straight way across needs (and the approach distance above),
        // across at feed; else by the safe height.
        let approach = h.safe_mm * 0.2;
        let low = (!first)
            .then(|| {
                super::parallel::clear_height(
                    w.dc,
                    [here.x, here.y],
                    s0,
                    here.z.max(c.z),
                    w.axial,
                    w.s * 0.5,
                    safe - 2.0 * approach,
                    &mut sc,
                )
            })
            .flatten()
            .map(|z| z + approach);
        let top_z = if let Some(zl) = low {
            tp.rapid(P3::new(here.x, here.y, zl));
            tp.line(P3::new(s0[0], s0[1], zl), MoveClass::Link, feed);
            zl
        } else {
            if first {
                tp.rapid(P3::new(s0[0], s0[1], h.clearance_mm));
                first = false;
            } else {
                tp.rapid(P3::new(here.x, here.y, safe));
            }
            tp.rapid(P3::new(s0[0], s0[1], safe));
            safe
        };
        let from_z = if c.closed && ramps {
            (c.z + step).min(top_z)
        } else {
            c.z
        };
        tp.line(P3::new(s0[0], s0[1], from_z), MoveClass::Entry, plunge);
        cut(&mut tp, c, start, from_z);
        // On to the nearest piece left here or on the level below, staying down.
        let mut lv = level;
        loop {
            let end = tp.end();
            let q = [end.x, end.y];
            let left_ref = &left;
            let near = [lv, lv + 1]
                .into_iter()
                .filter(|&l| l < pieces.len())
                .flat_map(|l| {
                    (0..pieces[l].len())
                        .filter(move |&k| left_ref[l][k])
                        .map(move |k| (l, k))
                })
                .map(|(l, k)| (l, k, entry(&pieces[l][k], q)))
                .min_by(|a, b| a.2.1.total_cmp(&b.2.1));
            let Some((l2, k2, (s2, d))) = near else { break };
            if d > 4.0 * tool.diameter_mm.max(step) {
                break;
            }
            let c2 = &pieces[l2][k2];
            let t = c2.pts[s2];
            if d > 0.0 {
                if !w.clear(q, t, end.z, &mut sc) {
                    break;
                }
                tp.line(P3::new(t[0], t[1], end.z), MoveClass::Link, feed);
            }
            left[l2][k2] = false;
            cut(&mut tp, c2, s2, end.z);
            lv = l2;
        }
    }
    let e = tp.end();
    tp.rapid(P3::new(e.x, e.y, h.clearance_mm));
    tp
}

/// Cuts open piece `c` from its first point (where the tool is) to its last, fitted.
fn cut_run(tp: &mut Toolpath, c: &Contour, feed: f64) {
    let n = c.pts.len();
    let to = |tp: &mut Toolpath, k: usize, bulge: f64, from: usize| {
        let q = c.pts[k];
        if bulge == 0.0 {
            tp.line(P3::new(q[0], q[1], c.z), MoveClass::Cut, feed);
        } else {
            let pa = c.pts[from];
            let (centre, _) = crate::geometry::biarc::arc_centre_radius(
                crate::geometry::V2::new(pa[0], pa[1]),
                crate::geometry::V2::new(q[0], q[1]),
                bulge,
            );
            tp.arc(
                P3::new(q[0], q[1], c.z),
                centre,
                bulge > 0.0,
                MoveClass::Cut,
                feed,
            );
        }
    };
    if c.fit.is_empty() {
        for k in 1..n {
            to(tp, k, 0.0, k - 1);
        }
        return;
    }
    for (i, &(ka, bulge)) in c.fit.iter().enumerate() {
        let kb = c.fit.get(i + 1).map_or(n - 1, |f| f.0);
        to(tp, kb, bulge, ka);
    }
}

/// Fits a closed loop (the part on its left when `part_left`) with lines and arcs within 0.4
/// of the tolerance of its points, and checks each arc along its length: where the tool at
/// a point of the arc would cut the part and the point 0.9 of the tolerance towards the free
/// side is not clear, or it is clear and the point as far towards the part is too (the arc
/// has left the contour), the arc is replaced by the points it spans. Returns the fitted
/// loop (indices into `pts` with the bulge to the next) and the arcs replaced.
fn fit_loop(
    w: &Weave<'_>,
    c: &Contour,
    part_left: bool,
    tol: &Tolerance,
) -> (Vec<(usize, f64)>, usize) {
    use crate::geometry::V2;
    use crate::geometry::biarc::fit_polyline;
    use crate::geometry::bulge::seg_point;
    use cavalier_contours::polyline::PlineVertex;
    let n = c.pts.len();
    // A fitted open run ends at its last point: the last entry leads there.
    let lines = || {
        let mut m = merge_run(&c.pts, w.tol * 0.4, c.closed);
        if !c.closed {
            m.pop();
        }
        m.into_iter().map(|k| (k, 0.0)).collect::<Vec<_>>()
    };
    if n < 4 {
        return (lines(), 0);
    }
    let mut closed: Vec<V2> = c.pts.iter().map(|p| V2::new(p[0], p[1])).collect();
    if c.closed {
        closed.push(closed[0]);
    }
    let verts = fit_polyline(
        &closed,
        tol.mesh_corner_angle_deg,
        w.tol * 0.4,
        tol.equal_point_mm,
    );
    // Each fitted vertex is one of the points, in order.
    let mut fit: Vec<(usize, f64)> = Vec::with_capacity(verts.len());
    let mut j = 0usize;
    for v in verts.iter().take(verts.len().saturating_sub(1)) {
        let Some(k) = (j..n).find(|&k| c.pts[k] == [v.x, v.y]) else {
            return (lines(), 0);
        };
        fit.push((k, v.bulge));
        j = k + 1;
    }
    if fit.first().is_none_or(|f| f.0 != 0) {
        return (lines(), 0);
    }
    let zq = w.zq(c.z);
    let reach = w.tol * 0.9;
    let mut out = Vec::with_capacity(fit.len());
    let mut bad = 0;
    let end = if c.closed { n } else { n - 1 };
    for (i, &(k, bulge)) in fit.iter().enumerate() {
        let k2 = fit.get(i + 1).map_or(end, |f| f.0);
        if bulge == 0.0 {
            out.push((k, 0.0));
            continue;
        }
        let p = c.pts[k];
        let q = c.pts[k2 % n];
        let a = PlineVertex::new(p[0], p[1], bulge);
        let b = PlineVertex::new(q[0], q[1], 0.0);
        let len = crate::geometry::bulge::seg_len(a, b);
        // A sixteenth of the fibres' spacing apart, and 32 at least.
        let m = ((len / (w.s * 0.0625)).ceil() as usize).clamp(32, 8192);
        let ok = (1..m).all(|t| {
            let f = t as f64 / m as f64;
            let x = seg_point(a, b, f);
            let (x0, x1) = (
                seg_point(a, b, f - 0.5 / m as f64),
                seg_point(a, b, f + 0.5 / m as f64),
            );
            let t = (x1 - x0).normalized();
            // Towards the free side.
            let nrm = if part_left {
                V2::new(t.y, -t.x)
            } else {
                V2::new(-t.y, t.x)
            };
            let blocked = |o: V2| w.dc.drop(o.x, o.y, f64::NEG_INFINITY) > zq;
            // Clear of the part, or within the tolerance of clear; and the part within it.
            if blocked(x) {
                !blocked(x + nrm * reach)
            } else {
                blocked(x - nrm * reach)
            }
        });
        if ok {
            out.push((k, bulge));
        } else {
            bad += 1;
            out.extend((k..k2).map(|kk| (kk, 0.0)));
        }
    }
    (out, bad)
}

/// Cuts loop `c` from point `start`: a ramp along it from `from_z` down to its level (round
/// more than once on a short loop), then the whole loop at its level from where the ramp
/// ended.
fn cut_loop(
    tp: &mut Toolpath,
    c: &Contour,
    start: usize,
    from_z: f64,
    slope: f64,
    ramps: bool,
    feed: f64,
) {
    let n = c.pts.len();
    let at = |k: usize| c.pts[(start + k) % n];
    let mut k = 0usize;
    let mut pos = at(0);
    let mut z = from_z;
    if ramps && from_z > c.z {
        let mut travel = (from_z - c.z) / slope;
        // A long way round a tiny loop is still bounded: the drop is what limits it.
        let mut guard = 0usize;
        while travel > 0.0 && guard < 1_000_000 {
            guard += 1;
            let q = at(k + 1);
            let l = ((q[0] - pos[0]).powi(2) + (q[1] - pos[1]).powi(2)).sqrt();
            if l >= travel {
                let t = travel / l;
                pos = [pos[0] + t * (q[0] - pos[0]), pos[1] + t * (q[1] - pos[1])];
                travel = 0.0;
                z = c.z;
                tp.line(P3::new(pos[0], pos[1], z), MoveClass::Entry, feed);
            } else {
                travel -= l;
                z -= l * slope;
                pos = q;
                k += 1;
                tp.line(P3::new(pos[0], pos[1], z), MoveClass::Entry, feed);
            }
        }
    }
    // The whole loop at its level, from `pos` (on the segment from at(k) to at(k + 1)) back
    // to `pos`; fitted, along the points to the first fitted vertex and round the fitted
    // loop back to it.
    let last = (start + k) % n;
    let line = |tp: &mut Toolpath, q: [f64; 2]| {
        tp.line(P3::new(q[0], q[1], c.z), MoveClass::Cut, feed);
    };
    if c.fit.is_empty() {
        for m in 1..=n {
            line(tp, at(k + m));
        }
    } else {
        // The first fitted vertex at or after last + 1.
        let from = (last + 1) % n;
        let f0 = c.fit.partition_point(|f| f.0 < from) % c.fit.len();
        let v0 = c.fit[f0].0;
        let mut kk = from;
        loop {
            line(tp, c.pts[kk]);
            if kk == v0 {
                break;
            }
            kk = (kk + 1) % n;
        }
        let m = c.fit.len();
        for i in 0..m {
            let (ka, bulge) = c.fit[(f0 + i) % m];
            let q = c.pts[c.fit[(f0 + i + 1) % m].0];
            if bulge == 0.0 {
                line(tp, q);
            } else {
                let pa = c.pts[ka];
                let (centre, _) = crate::geometry::biarc::arc_centre_radius(
                    crate::geometry::V2::new(pa[0], pa[1]),
                    crate::geometry::V2::new(q[0], q[1]),
                    bulge,
                );
                tp.arc(
                    P3::new(q[0], q[1], c.z),
                    centre,
                    bulge > 0.0,
                    MoveClass::Cut,
                    feed,
                );
            }
        }
        // (The fitted loop covers the stretch before `pos` too: it ends where it began.)
        return;
    }
    if tp.end().xy().dist(P3::new(pos[0], pos[1], c.z).xy()) > 0.0 {
        line(tp, pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{box_mesh, heightfield_mesh};
    use crate::tool::ToolShape;
    use crate::toolpath::Motion;

    /// Merging keeps every dropped point within the tolerance of the chord that replaces it,
    /// for a loop and for an open run (whose last chord was checked against its first point
    /// instead of its last: a run turning back towards its start lost the turn).
    #[test]
    fn merging_keeps_every_point_near_its_chord_open_or_closed() {
        let dist = |p: [f64; 2], a: [f64; 2], b: [f64; 2]| {
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let l2 = dx * dx + dy * dy;
            let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0);
            ((p[0] - a[0] - t * dx).powi(2) + (p[1] - a[1] - t * dy).powi(2)).sqrt()
        };
        // An L: along X, then up; a zigzag; a run that turns back towards its start.
        let mut l: Vec<[f64; 2]> = (0..=10).map(|k| [f64::from(k) * 0.1, 0.0]).collect();
        l.extend((1..=10).map(|k| [1.0, f64::from(k) * 0.1]));
        let zig: Vec<[f64; 2]> = (0..=12)
            .map(|k| [f64::from(k) * 0.1, if k % 2 == 0 { 0.0 } else { 0.05 }])
            .collect();
        let back = vec![[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0]];
        for pts in [l, zig, back] {
            for closed in [false, true] {
                let kept = merge_run(&pts, 1e-6, closed);
                let n = pts.len();
                if !closed {
                    assert_eq!(
                        kept.last(),
                        Some(&(n - 1)),
                        "an open run ends at its last point"
                    );
                }
                let mut ends: Vec<usize> = kept.clone();
                if closed {
                    ends.push(n);
                }
                for w in ends.windows(2) {
                    let (a, b) = (pts[w[0]], pts[w[1] % n]);
                    for (m, &q) in pts.iter().enumerate().take(w[1]).skip(w[0] + 1) {
                        let d = dist(q, a, b);
                        assert!(
                            d <= 1e-6,
                            "closed {closed}: point {m} is {d} from its chord"
                        );
                    }
                }
            }
        }
    }

    fn tool(shape: ToolShape, d: f64) -> Tool {
        Tool {
            shape,
            diameter_mm: d,
            flute_length_mm: 3.0,
            stickout_mm: 10.0,
            ..Tool::micro_flat(d)
        }
    }

    fn params(depth: f64, stepdown: f64) -> WaterlineParams {
        let mut p = WaterlineParams::default();
        p.cut.heights.final_depth_mm = depth;
        p.cut.stepdown_mm = Some(stepdown);
        p
    }

    /// The cutting moves as (from, to) at their level.
    fn cuts(tp: &Toolpath) -> Vec<(P3, P3, MoveClass)> {
        let mut out = Vec::new();
        let mut from = tp.start;
        for m in &tp.moves {
            if let Motion::Arc { centre, ccw } = m.motion {
                // Arcs (at their level) as 32 chords' ends, each a zero-length piece.
                assert!((from.z - m.to.z).abs() < 1e-12, "arcs at a level only");
                let sweep = crate::toolpath::arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                let r = (from.xy() - centre).length();
                let a0 = (from.xy() - centre).angle();
                for k in 0..=32 {
                    let q = centre
                        + crate::geometry::V2::from_angle(a0 + sweep * f64::from(k) / 32.0) * r;
                    let q = P3::new(q.x, q.y, m.to.z);
                    out.push((q, q, m.class));
                }
            } else if m.class != MoveClass::Rapid {
                out.push((from, m.to, m.class));
            }
            from = m.to;
        }
        out
    }

    /// A ball on a box's walls: every point at the exact distance from the box's plan (the
    /// ball's radius below the top; over the top edge, the sphere's section).
    #[test]
    fn contours_of_a_box_lie_at_the_exact_offset() {
        let mesh = box_mesh([0.0, 0.0, -1.0], [2.0, 1.5, 0.0]);
        let t = tool(ToolShape::Ball, 0.4);
        let r = 0.2;
        let tol = Tolerance::default();
        let res = waterline(&mesh, &t, &params(1.0, 0.05), &tol, &Cancel::default()).unwrap();
        let dist = |x: f64, y: f64| {
            let dx = (-x).max(x - 2.0).max(0.0);
            let dy = (-y).max(y - 1.5).max(0.0);
            (dx * dx + dy * dy).sqrt()
        };
        let mut n = 0;
        let mut worst = 0.0f64;
        for (a, b, class) in cuts(&res.toolpath) {
            if class != MoveClass::Cut {
                continue;
            }
            let z = b.z;
            let want = if z + r <= 0.0 {
                r
            } else {
                (r * r - (z + r).powi(2)).max(0.0).sqrt()
            };
            for t in [0.0, 0.5, 1.0] {
                let q = a.lerp(b, t);
                let d = dist(q.x, q.y);
                worst = worst.max((d - want).abs());
                n += 1;
            }
        }
        assert!(n > 500, "only {n} samples");
        assert!(worst <= tol.path_mm, "off the exact offset by {worst} mm");
        // 20 levels, one loop each, cut top down with ramps between.
        assert_eq!(
            res.toolpath
                .moves
                .iter()
                .filter(|m| m.class == MoveClass::Rapid)
                .count(),
            3,
            "{:?}",
            res.notes
        );
    }

    /// Free-form surfaces, every tool, with stock to leave: nothing emitted cuts into the part
    /// (the drop-cutter under every sampled point of every move at depth is at or below it),
    /// and every cutting point touches the part within the path tolerance.
    #[test]
    fn contours_touch_and_never_cut_a_free_form_part() {
        let mesh = heightfield_mesh([0.0, 0.0], [3.0, 2.2], 45, 33, -1.5, |x, y| {
            let d = ((x - 1.0).powi(2) + (y - 1.1).powi(2)).sqrt();
            let e = ((x - 2.2).powi(2) + (y - 1.0).powi(2)).sqrt();
            -1.0 + 0.8 * (-d * d * 2.0).exp() - 0.4 * (-e * e * 3.0).exp() + 0.05 * (x * 7.0).sin()
        });
        let tol = Tolerance::default();
        let tools = [
            tool(ToolShape::Ball, 0.3),
            tool(ToolShape::Flat, 0.3),
            tool(
                ToolShape::Bull {
                    corner_radius_mm: 0.05,
                },
                0.3,
            ),
            tool(
                ToolShape::V {
                    angle_deg: 60.0,
                    tip_diameter_mm: 0.02,
                },
                0.3,
            ),
        ];
        for t in tools {
            for (radial, axial) in [(0.0, 0.0), (0.02, 0.01)] {
                let mut p = params(1.5, 0.15);
                p.cut.allowance_radial_mm = radial;
                p.cut.allowance_axial_mm = axial;
                let res = waterline(&mesh, &t, &p, &tol, &Cancel::default()).unwrap();
                let dc = DropCutter::new(&mesh, CutterShape::of(&t, radial).unwrap());
                let cl = |q: P3| dc.drop(q.x, q.y, f64::NEG_INFINITY) + axial;
                let moves = cuts(&res.toolpath);
                assert!(moves.len() > 100, "{}: {} moves", t.describe(), moves.len());
                let mut gouge = 0.0f64;
                let mut off = 0.0f64;
                let mut worst = None;
                for (a, b, class) in &moves {
                    for k in 0..=8 {
                        let q = a.lerp(*b, f64::from(k) / 8.0);
                        let g = cl(q) - q.z;
                        if g <= 1e-6 {
                            continue;
                        }
                        // Within the tolerance of a clear point (across a wall, the
                        // drop-cutter steps; the step is where it should be within that).
                        let near = (0..32).any(|j| {
                            let a = f64::from(j) * std::f64::consts::TAU / 32.0;
                            let d = tol.path_mm * 1.05;
                            let o = P3::new(q.x + d * a.cos(), q.y + d * a.sin(), q.z);
                            cl(o) - q.z <= 1e-6
                        });
                        if !near && g > gouge {
                            gouge = g;
                            let mut need = 0.0;
                            for m in 1..200 {
                                let d = tol.path_mm * f64::from(m) * 0.1;
                                if (0..64).any(|j| {
                                    let an = f64::from(j) * std::f64::consts::TAU / 64.0;
                                    cl(P3::new(q.x + d * an.cos(), q.y + d * an.sin(), q.z)) - q.z
                                        <= 1e-6
                                }) {
                                    need = d;
                                    break;
                                }
                            }
                            worst = Some((q, *class, need, *a, *b));
                        }
                    }
                    if *class == MoveClass::Cut && a.z == b.z {
                        // Every cutting point has the part within the tolerance.
                        for tt in [0.0, 0.5] {
                            let q = a.lerp(*b, tt);
                            let d = tol.path_mm * 1.05;
                            let touches = cl(q) > q.z
                                || (0..32).any(|j| {
                                    let an = f64::from(j) * std::f64::consts::TAU / 32.0;
                                    cl(P3::new(q.x + d * an.cos(), q.y + d * an.sin(), q.z)) > q.z
                                });
                            if !touches {
                                off = off.max(1.0);
                            }
                        }
                    }
                }
                assert!(
                    gouge <= 1e-6,
                    "{} +{radial}/{axial}: cuts {gouge} mm into the part at {worst:?}",
                    t.describe()
                );
                assert!(
                    off == 0.0,
                    "{} +{radial}/{axial}: a cutting point lies farther than the tolerance from the part",
                    t.describe()
                );
                assert!(
                    res.warnings.is_empty(),
                    "{} +{radial}/{axial}: {:?}",
                    t.describe(),
                    res.warnings
                );
            }
        }
    }

    /// The step between levels comes from the tool's own corner: a flat end mill leaving
    /// stock on the walls still steps a tenth of its diameter, a ball its scallop's step.
    #[test]
    fn levels_step_by_the_tools_own_corner() {
        let mesh = box_mesh([0.0, 0.0, -1.0], [2.0, 1.5, 0.0]);
        let tol = Tolerance::default();
        let mut p = WaterlineParams::default();
        p.cut.heights.final_depth_mm = 1.0;
        p.cut.allowance_radial_mm = 0.02;
        let flat = waterline(
            &mesh,
            &tool(ToolShape::Flat, 0.5),
            &p,
            &tol,
            &Cancel::default(),
        )
        .unwrap();
        let has = |r: &OpResult, start: &str| r.notes.iter().any(|n| n.starts_with(start));
        assert!(
            has(&flat, "20 levels 0.0500 mm apart (a tenth"),
            "{:?}",
            flat.notes
        );
        p.scallop_mm = Some(0.01);
        let ball = waterline(
            &mesh,
            &tool(ToolShape::Ball, 0.5),
            &p,
            &tol,
            &Cancel::default(),
        )
        .unwrap();
        // 2·√(2·0.25·0.01 − 0.01²) = 0.1400 mm: 8 levels over 1 mm.
        assert!(
            has(&ball, "8 levels 0.1250 mm apart for a 10.00 µm scallop"),
            "{:?}",
            ball.notes
        );
        let err = waterline(
            &mesh,
            &tool(ToolShape::Flat, 0.5),
            &p,
            &tol,
            &Cancel::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("give a step-down"), "{err}");
    }
}
