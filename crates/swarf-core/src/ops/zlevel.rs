//! Z-level operations on meshes: roughing (clears the stock around and inside the part layer by
//! layer with the pocket machinery) and waterline contours (the part's walls at each level).
//!
//! Each layer's keep-out is the part's section at that level; where a higher section reaches
//! beyond a lower one (an overhang), the keep-out becomes the union of the outlines above, so
//! the tool never cuts under the overhang. Layers are computed in parallel and joined in order,
//! so the result is deterministic.

use cavalier_contours::polyline::{BooleanOp, PlineBooleanOptions, PlineSource, PlineSourceMut};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::adaptive::{AdaptiveParams, adaptive};
use super::contour::{ContourParams, Descent, Side, cut_free_space_passes};
use super::pocket::{Pattern, PocketParams, pocket};
use super::{
    Cancel, CutParams, Entry, FeedEstimate, Heights, OpError, OpResult, Stepover, param_err,
};
use crate::geometry::V2;
use crate::geometry::mesh::Mesh;
use crate::geometry::offset::{Inset, OffsetComponent, dropped_warning, orient};
use crate::geometry::scaled::{scale_for, scaled};
use crate::geometry::{Pline, Region, Tolerance, nest_loops};
use crate::slice::{Slicer, flat_levels, slice_loops};
use crate::tool::{Tool, ToolShape};
use crate::toolpath::{Motion, P3, Toolpath};

/// Parameters of the z-level operations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZLevelParams {
    /// Heights, step-down, allowances, direction and entry.
    #[serde(flatten)]
    pub cut: CutParams,
    pub stepover: Stepover,
    pub pattern: Pattern,
    /// Stock beyond the part's bounding box on every side; default the tool diameter.
    pub stock_margin_mm: Option<f64>,
    /// Roughing: clear each layer adaptively, holding the radial engagement at or below this
    /// angle (degrees), instead of the pocket pattern.
    pub max_engagement_deg: Option<f64>,
}

impl Default for ZLevelParams {
    fn default() -> Self {
        Self {
            cut: CutParams {
                stepdown_mm: Some(0.1),
                ..CutParams::default()
            },
            stepover: Stepover::Fraction(0.4),
            pattern: Pattern::Offset,
            stock_margin_mm: None,
            max_engagement_deg: None,
        }
    }
}

fn check_mesh(op: &'static str, mesh: &Mesh) -> Result<(), OpError> {
    if mesh.triangles.is_empty() {
        return Err(param_err(op, "mesh", "has no triangles".into()));
    }
    let (open, nonmanifold, _, _) = mesh.topology();
    if open > 0 || nonmanifold > 0 {
        return Err(param_err(
            op,
            "mesh",
            format!(
                "is not a closed solid ({open} open edges, {nonmanifold} non-manifold edges); \
                 z-level operations need a watertight mesh to know inside from outside: repair it \
                 in your CAD program"
            ),
        ));
    }
    Ok(())
}

/// The layer heights, highest first: step-down levels and flat levels, shifted up by the axial
/// allowance.
fn layers(mesh: &Mesh, p: &ZLevelParams, tol: &Tolerance) -> Vec<f64> {
    let z_top = -p.cut.heights.start_depth_mm;
    let z_bottom = -p.cut.heights.final_depth_mm;
    let a = p.cut.allowance_axial_mm;
    let mut zs = super::z_levels(z_top, z_bottom + a, p.cut.stepdown_mm, tol.path_mm);
    for f in flat_levels(mesh, tol) {
        let z = f + a;
        if z < z_top - tol.path_mm && z > z_bottom + a - tol.path_mm {
            zs.push(z);
        }
    }
    zs.sort_by(|a, b| b.total_cmp(a));
    zs.dedup_by(|a, b| (*a - *b).abs() <= tol.path_mm);
    zs
}

/// The positive and negative (hole) loops of `a op b` by `cavalier_contours`, in units where
/// its tests work (see `geometry::scaled`) and with Swarf's epsilons (its defaults are absolute
/// lengths, which would make results depend on the part's scale).
fn boolean_full(a: &Pline, b: &Pline, op: BooleanOp, tol: &Tolerance) -> (Vec<Pline>, Vec<Pline>) {
    let s = scale_for([a, b]);
    let opts = PlineBooleanOptions {
        pline1_aabb_index: None,
        pos_equal_eps: tol.equal_point_mm * s,
        collapsed_area_eps: None,
    };
    let r = scaled(a, s).boolean_opt(&scaled(b, s), op, &opts);
    let back = |v: Vec<cavalier_contours::polyline::BooleanResultPline<Pline>>| {
        v.into_iter()
            .map(|p| scaled(&p.pline, 1.0 / s))
            .collect::<Vec<_>>()
    };
    (back(r.pos_plines), back(r.neg_plines))
}

/// The positive loops of `a op b` (see [`boolean_full`]).
fn boolean(a: &Pline, b: &Pline, op: BooleanOp, tol: &Tolerance) -> Vec<Pline> {
    boolean_full(a, b, op, tol).0
}

/// Whether `inner` lies inside `outer` or within a few path tolerances of its boundary: each
/// vertex and segment midpoint of `inner` is tested.
fn absorbs(outer: &Pline, inner: &Pline, tol: &Tolerance) -> bool {
    let ob = crate::geometry::pline_bbox(outer);
    let ib = crate::geometry::pline_bbox(inner);
    let eps = 4.0 * tol.path_mm;
    if !ob.contains_box(&ib, eps)
        || outer.area().abs() + eps * inner.path_length() < inner.area().abs()
    {
        return false;
    }
    let n = inner.vertex_count();
    (0..n).all(|i| {
        let v = inner.at(i);
        let w = inner.at(inner.next_wrapping_index(i));
        [
            V2::new(v.x, v.y),
            V2::from(cavalier_contours::polyline::seg_midpoint(v, w)),
        ]
        .into_iter()
        .all(|p| {
            outer.winding_number(p.into()) != 0
                || outer
                    .closest_point(p.into(), tol.equal_point_mm)
                    .is_some_and(|c| c.distance <= eps)
        })
    })
}

/// The union of two outer loops as one loop, or `None` where they are apart. Nearly
/// coincident or tangent walls (the same wall sliced twice) are where the boolean fails: then
/// a loop lying within the other is absorbed, and else the boolean is tried again with the
/// first loop grown by a few path tolerances (conservative for material). Where even that
/// fails, the loops' common bounding box stands for both (more conservative still).
fn union_pair(p: &Pline, q: &Pline, tol: &Tolerance) -> Option<Pline> {
    if boxes_apart(p, q) {
        return None;
    }
    // The boolean can also return one wrong loop: a union holds both inputs.
    let least =
        p.area().abs().max(q.area().abs()) - tol.path_mm * (p.path_length() + q.path_length());
    let valid = |u: &Pline| u.area().abs() >= least && absorbs(u, p, tol) && absorbs(u, q, tol);
    let r = boolean(p, q, BooleanOp::Or, tol);
    if let [u] = &r[..]
        && valid(u)
    {
        return Some(u.clone());
    }
    if absorbs(p, q, tol) {
        return Some(p.clone());
    }
    if absorbs(q, p, tol) {
        return Some(q.clone());
    }
    let inside = |a: &Pline, b: &Pline| {
        a.vertex_data
            .iter()
            .any(|v| b.winding_number(cavalier_contours::core::math::Vector2::new(v.x, v.y)) != 0)
    };
    if r.len() == 2
        && boolean(p, q, BooleanOp::And, tol).is_empty()
        && !inside(p, q)
        && !inside(q, p)
    {
        return None;
    }
    for k in [1.0, 4.0, 16.0] {
        let grown = crate::geometry::offset::offset_loop(p, -k * tol.path_mm, tol);
        if let [g] = &grown[..] {
            let r = boolean(g, q, BooleanOp::Or, tol);
            if let [u] = &r[..]
                && valid(u)
            {
                return Some(u.clone());
            }
        }
    }
    let mut bb = crate::geometry::pline_bbox(p);
    bb.union(&crate::geometry::pline_bbox(q));
    Some(box_loop(bb.min, bb.max))
}

/// Union of outer loops (counter-clockwise), pairwise with `cavalier_contours`.
fn union_outers(loops: Vec<Pline>, tol: &Tolerance) -> Vec<Pline> {
    let mut acc: Vec<Pline> = Vec::new();
    for mut l in loops {
        orient(&mut l, true);
        let mut merged = l;
        let mut rest = Vec::new();
        for a in acc.drain(..) {
            match union_pair(&merged, &a, tol) {
                Some(u) => merged = u,
                None => rest.push(a),
            }
        }
        rest.push(merged);
        acc = rest;
    }
    acc.into_iter()
        .map(|l| drop_collinear(l, tol.equal_point_mm))
        .collect()
}

/// A loop without its segments shorter than `min_len`: each such segment's start vertex is
/// dropped, so the segment before it runs on to the segment's end. An offset by a tiny
/// distance rounds every corner with an arc of that radius, and segments that short (near
/// the booleans' point epsilon) are where the booleans fail; the shift is smaller than the
/// offset, so a loop grown by `d` still encloses the original.
/// A loop without vertices that lie on the straight line between their neighbours (within
/// `eps`): the booleans leave some where loops met, and whether they do depends on rounding,
/// which would make the passes start at a different place on a scaled part.
fn drop_collinear(l: Pline, eps: f64) -> Pline {
    let n = l.vertex_count();
    if n < 4 {
        return l;
    }
    let keep: Vec<bool> = (0..n)
        .map(|i| {
            let (a, v, b) = (l.at((i + n - 1) % n), l.at(i), l.at((i + 1) % n));
            if a.bulge != 0.0 || v.bulge != 0.0 {
                return true;
            }
            let (ab, av) = (V2::new(b.x - a.x, b.y - a.y), V2::new(v.x - a.x, v.y - a.y));
            let len = ab.length();
            len <= eps
                || ab.cross(av).abs() / len > eps
                || av.dot(ab) <= 0.0
                || av.dot(ab) >= len * len
        })
        .collect();
    if keep.iter().filter(|&&k| k).count() < 3 {
        return l;
    }
    let mut out = Pline::new_closed();
    for (i, &k) in keep.iter().enumerate() {
        if k {
            let v = l.at(i);
            out.add(v.x, v.y, v.bulge);
        }
    }
    out
}

/// The loop starting at its lowest-left vertex (least X, ties within `eps` to the least Y):
/// the passes start where their loop does, and the booleans' choice of a first vertex depends
/// on rounding (a part scaled by 0.01 started its waterline at another corner).
fn canonical_start(l: &Pline, eps: f64) -> Pline {
    let n = l.vertex_count();
    let mut best = 0;
    for i in 1..n {
        let (v, b) = (l.at(i), l.at(best));
        if v.x < b.x - eps || (v.x <= b.x + eps && v.y < b.y) {
            best = i;
        }
    }
    let mut out = Pline::new_closed();
    for k in 0..n {
        out.add_vertex(l.at((best + k) % n));
    }
    out
}

fn drop_short(l: Pline, min_len: f64) -> Pline {
    let n = l.vertex_count();
    if n < 8 {
        return l;
    }
    let mut out = Pline::new_closed();
    for i in 0..n {
        let (v, w) = (l.at(i), l.at((i + 1) % n));
        let short = (w.x - v.x).hypot(w.y - v.y) < min_len;
        if !short {
            out.add(v.x, v.y, v.bulge);
        }
    }
    if out.vertex_count() < 3 { l } else { out }
}

/// The counter-clockwise rectangle from `lo` to `hi`.
fn box_loop(lo: V2, hi: V2) -> Pline {
    let mut p = Pline::new_closed();
    p.add(lo.x, lo.y, 0.0);
    p.add(hi.x, lo.y, 0.0);
    p.add(hi.x, hi.y, 0.0);
    p.add(lo.x, hi.y, 0.0);
    p
}

/// Whether two loops' boxes are apart.
fn boxes_apart(a: &Pline, b: &Pline) -> bool {
    let (ba, bb) = (
        crate::geometry::pline_bbox(a),
        crate::geometry::pline_bbox(b),
    );
    ba.max.x < bb.min.x || bb.max.x < ba.min.x || ba.max.y < bb.min.y || bb.max.y < ba.min.y
}

/// The free space of a material: the regions of `frame` (a loop around everything) outside
/// it, and which of them is the one bounded by the frame.
fn free_space(material: &[Region], frame: &Pline, tol: &Tolerance) -> (Vec<Region>, Option<usize>) {
    let loops = std::iter::once(frame.clone())
        .chain(
            material
                .iter()
                .flat_map(|r| std::iter::once(r.outer.clone()).chain(r.islands.iter().cloned())),
        )
        .collect();
    let free = nest_loops(loops, tol);
    let fb = crate::geometry::pline_bbox(frame);
    let outermost = free.iter().position(|r| {
        r.outer.vertex_data.len() == 4 && crate::geometry::pline_bbox(&r.outer) == fb
    });
    (free, outermost)
}

/// The loops of the intersection of two free regions, without the frame: the intersection of
/// their outlines (the frame standing for everything) less the union of both regions'
/// islands. A cut-out that lies wholly inside a piece is returned as its own loop, which
/// `nest_loops` then makes a hole of the piece.
fn free_meet(
    ra: &Region,
    ra_frame: bool,
    rb: &Region,
    rb_frame: bool,
    tol: &Tolerance,
) -> Vec<Pline> {
    let mut pieces: Vec<Pline> = match (ra_frame, rb_frame) {
        (true, true) => Vec::new(),
        (true, false) => vec![rb.outer.clone()],
        (false, true) => vec![ra.outer.clone()],
        (false, false) if boxes_apart(&ra.outer, &rb.outer) => return Vec::new(),
        (false, false) => boolean(&ra.outer, &rb.outer, BooleanOp::And, tol),
    };
    let cutters = union_outers(ra.islands.iter().chain(&rb.islands).cloned().collect(), tol);
    let mut inner = Vec::new();
    for c in cutters {
        if ra_frame && rb_frame {
            // Inside the frame: every cut-out is a material outline.
            inner.push(c);
            continue;
        }
        let mut next = Vec::new();
        let mut inside = false;
        for piece in pieces {
            if boxes_apart(&piece, &c) {
                next.push(piece);
                continue;
            }
            let (pos, neg) = boolean_full(&piece, &c, BooleanOp::Not, tol);
            inside |= !neg.is_empty();
            next.extend(pos);
        }
        if inside {
            inner.push(c);
        }
        pieces = next;
    }
    pieces.extend(inner);
    pieces
}

/// The union of two materials (regions), by their free spaces: a point is free of the union
/// where it is free of both. Works for material nested in holes (a pin in a bore) as well as
/// for plain outlines with holes.
fn union_material(a: &[Region], b: &[Region], tol: &Tolerance) -> Vec<Region> {
    if a.is_empty() {
        return b.to_vec();
    }
    if b.is_empty() {
        return a.to_vec();
    }
    // The new section's outlines grow and its holes shrink by the path tolerance first:
    // sections at a flat face or along a vertical wall share edges exactly, and coincident
    // edges are where polygon booleans go wrong. (Conservative by 0.1 µm; only the new
    // section grows, so the running union never creeps outward.)
    let offset = |l: &Pline, d: f64| -> Option<Pline> {
        let mut l = l.clone();
        orient(&mut l, true);
        let g = crate::geometry::offset::offset_loop(&l, d, tol);
        match g.len() {
            0 if d > 0.0 => None,
            1 => g.into_iter().next().map(|g| drop_short(g, 2.0 * d.abs())),
            _ => Some(l),
        }
    };
    let b: Vec<Region> = b
        .iter()
        .map(|r| Region {
            outer: offset(&r.outer, -tol.path_mm).unwrap_or_else(|| r.outer.clone()),
            islands: r
                .islands
                .iter()
                .filter_map(|h| {
                    let mut h = offset(h, tol.path_mm)?;
                    orient(&mut h, false);
                    Some(h)
                })
                .collect(),
        })
        .collect();
    let b = &b[..];
    let mut bb = crate::geometry::Bbox2::EMPTY;
    for r in a.iter().chain(b) {
        bb.union(&crate::geometry::pline_bbox(&r.outer));
    }
    let m = 1000.0 * tol.path_mm + 0.1 * (bb.max.x - bb.min.x).max(bb.max.y - bb.min.y);
    let frame = box_loop(bb.min - V2::new(m, m), bb.max + V2::new(m, m));
    let (fa, oa) = free_space(a, &frame, tol);
    let (fb, ob) = free_space(b, &frame, tol);
    let mut loops = Vec::new();
    for (i, ra) in fa.iter().enumerate() {
        for (j, rb) in fb.iter().enumerate() {
            loops.extend(free_meet(ra, oa == Some(i), rb, ob == Some(j), tol));
        }
    }
    let out = nest_loops(loops, tol);
    // A union covers both inputs. The booleans can fail on nearly coincident loops; then the
    // merged outlines without holes (conservative: a hole is kept out), and if those fail
    // too, the input with more material, outlines only.
    let area = |rs: &[Region]| rs.iter().map(Region::area).sum::<f64>();
    // (Areas compared within the path tolerance times the outlines' length, which scales as
    // an area does.)
    let perimeter: f64 = a
        .iter()
        .chain(b)
        .map(|r| r.outer.path_length())
        .sum::<f64>();
    let covers = |rs: &[Region]| {
        area(rs) + tol.path_mm * perimeter >= area(a).max(area(b))
            && covers_points(rs, a, tol)
            && covers_points(rs, b, tol)
    };
    if covers(&out) {
        return out;
    }
    let solid = nest_loops(
        union_outers(a.iter().chain(b).map(|r| r.outer.clone()).collect(), tol),
        tol,
    );
    if covers(&solid) {
        return solid;
    }
    // The booleans failed outright: the box around both (the most conservative keep-out).
    vec![Region {
        outer: box_loop(bb.min, bb.max),
        islands: Vec::new(),
    }]
}

/// Whether the material `out` holds every vertex and segment midpoint of the loops of `input`
/// (inside it, or within a few path tolerances of its boundary): a union must.
fn covers_points(out: &[Region], input: &[Region], tol: &Tolerance) -> bool {
    let eps = 4.0 * tol.path_mm;
    let near = |p: V2| {
        out.iter().any(|r| {
            std::iter::once(&r.outer).chain(&r.islands).any(|l| {
                let b = crate::geometry::pline_bbox(l);
                b.contains_box(&crate::geometry::Bbox2 { min: p, max: p }, eps)
                    && l.closest_point(p.into(), tol.equal_point_mm)
                        .is_some_and(|c| c.distance <= eps)
            })
        })
    };
    input
        .iter()
        .flat_map(|r| std::iter::once(&r.outer).chain(&r.islands))
        .all(|l| {
            let n = l.vertex_count();
            (0..n).all(|i| {
                let v = l.at(i);
                let w = l.at(l.next_wrapping_index(i));
                [
                    V2::new(v.x, v.y),
                    V2::from(cavalier_contours::polyline::seg_midpoint(v, w)),
                ]
                .into_iter()
                .all(|p| out.iter().any(|r| r.contains(p)) || near(p))
            })
        })
}

/// The keep-out (material) at each layer: the union of the part's sections at the layer, at
/// heights through the slab down to it from the layer above, and everything above (so neither
/// a wall that leans out between layers nor an overhang is cut into).
/// How far below a face a section is taken to see the material under it, as a fraction of the
/// point tolerance: far enough that the slicer sees the face's corners above the plane, close
/// enough that a wall's section there differs from the one at the face by far less than the
/// path tolerance (1 nm by default).
const JUST_BELOW: f64 = 0.1;
/// The most vertex heights in one slab that are each sliced just below.
const MAX_CORNER_HEIGHTS: usize = 48;

fn keep_outs(
    slicer: &Slicer<'_>,
    corner_heights: &[f64],
    zs: &[f64],
    z_top: f64,
    extra_heights: f64,
    tol: &Tolerance,
    warnings: &mut Vec<String>,
) -> Vec<Vec<Pline>> {
    // Sections of each slab (in parallel), then the running union from the top down.
    let slabs: Vec<Vec<Vec<Region>>> = zs
        .par_iter()
        .enumerate()
        .map(|(i, &z)| {
            let z_prev = if i == 0 { z_top } else { zs[i - 1] };
            let top = (z_prev + extra_heights).min(z_top.max(z_prev));
            let mut hs: Vec<f64> = (0..=4)
                .map(|k| z + (top - z) * f64::from(k) / 4.0)
                .collect();
            // A section at a height holds the material just above it, so the widest part of
            // a wall that leans out up to a face (a lip under a flat top) is only seen just
            // below that face: just below the slab's top and below each vertex height in the
            // slab (where walls change slope), unless there are too many (a free-form
            // surface, where the even heights stand for them).
            let lo = corner_heights.partition_point(|&h| h <= z);
            let hi = corner_heights.partition_point(|&h| h <= top);
            let corners = &corner_heights[lo..hi];
            let below = JUST_BELOW * tol.equal_point_mm;
            hs.push(top - below);
            if corners.len() <= MAX_CORNER_HEIGHTS {
                hs.extend(corners.iter().map(|&h| h - below));
            }
            hs.retain(|&h| h >= z);
            hs.sort_by(f64::total_cmp);
            hs.dedup_by(|a, b| (*a - *b).abs() <= below / 2.0);
            hs.iter()
                .map(|&h| slice_loops(slicer, h, tol).regions(tol))
                .collect()
        })
        .collect();
    let mut out: Vec<Vec<Pline>> = Vec::with_capacity(zs.len());
    let mut acc: Vec<Region> = Vec::new();
    let mut widened_at: Option<f64> = None;
    for (i, slab) in slabs.iter().enumerate() {
        let own_area: f64 = slab[0].iter().map(Region::area).sum();
        for sec in slab {
            acc = union_material(&acc, sec, tol);
        }
        let area: f64 = acc.iter().map(Region::area).sum();
        if area > own_area + tol.path_mm * acc.iter().map(|r| r.outer.path_length()).sum::<f64>() {
            widened_at.get_or_insert(zs[i]);
        }
        out.push(
            acc.iter()
                .flat_map(|r| std::iter::once(&r.outer).chain(&r.islands))
                .map(|l| canonical_start(l, tol.path_mm))
                .collect(),
        );
    }
    if let Some(z) = widened_at {
        warnings.push(format!(
            "zlevel: from Z {z:.4} down, the part is wider above a layer than at it (sloped or \
             overhanging walls); each layer keeps out the outline of everything above it, so \
             material under overhangs and steps on slopes are left for finishing"
        ));
    }
    out
}

fn check(op: &'static str, mesh: &Mesh, tool: &Tool, p: &ZLevelParams) -> Result<(), OpError> {
    // An unusable mesh first: no other setting can make it machinable.
    check_mesh(op, mesh)?;
    p.cut.check(op, tool)
}

/// The layer heights and each layer's keep-out; ball and bull tools reach their radius above
/// the tip.
fn prepare_layers(
    mesh: &Mesh,
    tool: &Tool,
    p: &ZLevelParams,
    tol: &Tolerance,
    warnings: &mut Vec<String>,
) -> (Vec<f64>, Vec<Vec<Pline>>) {
    let slicer = Slicer::new(mesh);
    let zs = layers(mesh, p, tol);
    let extra = if matches!(tool.shape, ToolShape::Ball | ToolShape::Bull { .. }) {
        tool.radius_mm()
    } else {
        0.0
    };
    let mut corner_heights: Vec<f64> = mesh.vertices.iter().map(|v| v[2]).collect();
    corner_heights.sort_by(f64::total_cmp);
    corner_heights.dedup_by(|a, b| (*a - *b).abs() <= tol.equal_point_mm);
    let keep = keep_outs(
        &slicer,
        &corner_heights,
        &zs,
        -p.cut.heights.start_depth_mm,
        extra,
        tol,
        warnings,
    );
    (zs, keep)
}

fn stock_loop(mesh: &Mesh, margin: f64) -> Pline {
    let (lo, hi) = mesh.bounds().expect("mesh has triangles");
    let (x0, y0, x1, y1) = (
        lo[0] - margin,
        lo[1] - margin,
        hi[0] + margin,
        hi[1] + margin,
    );
    box_loop(V2::new(x0, y0), V2::new(x1, y1))
}

/// The heights of layer `i`: its slab from the layer above (or the start depth) down to it,
/// with clearance at the safe height.
fn layer_heights(zs: &[f64], i: usize, p: &ZLevelParams) -> Heights {
    let z_prev = if i == 0 {
        -p.cut.heights.start_depth_mm
    } else {
        zs[i - 1]
    };
    Heights {
        clearance_mm: p.cut.heights.safe_mm,
        start_depth_mm: -z_prev,
        final_depth_mm: -zs[i],
        ..p.cut.heights
    }
}

/// XY distance from `q` to the nearest feed move of `tp` at or below `z_max` (lines and arcs
/// exactly).
fn feed_distance(tp: &Toolpath, q: V2, z_max: f64) -> f64 {
    use cavalier_contours::polyline::PlineVertex;
    let mut best = f64::INFINITY;
    let mut from = tp.start;
    for m in &tp.moves {
        if !matches!(m.motion, Motion::Rapid) && from.z.max(m.to.z) <= z_max {
            let bulge = match m.motion {
                Motion::Arc { centre, ccw } => {
                    (crate::toolpath::arc_sweep(from.xy(), m.to.xy(), centre, ccw) / 4.0).tan()
                }
                _ => 0.0,
            };
            let a = PlineVertex::new(from.x, from.y, bulge);
            let b = PlineVertex::new(m.to.x, m.to.y, 0.0);
            best = best.min(crate::geometry::biarc::seg_distance(a, b, q));
        }
        from = m.to;
    }
    best
}

/// Runs `layer(i, heights)` for every layer in parallel — `heights` spans the slab from the
/// layer above (or the start depth) down to layer `i`, with clearance at the safe height —
/// and joins the results in order into one toolpath that starts and ends at clearance, with
/// the layers' feed estimates merged.
fn run_layers(
    zs: &[f64],
    p: &ZLevelParams,
    warnings: &mut Vec<String>,
    cancel: &Cancel,
    layer: impl Fn(usize, Heights) -> Result<OpResult, OpError> + Sync,
) -> Result<(Toolpath, Option<FeedEstimate>), OpError> {
    // The layers run on rayon's threads: each looks at the caller's token.
    let results: Vec<Result<OpResult, OpError>> = (0..zs.len())
        .into_par_iter()
        .map(|i| {
            cancel.check()?;
            layer(i, layer_heights(zs, i, p))
        })
        .collect();
    let clearance = p.cut.heights.clearance_mm;
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, clearance));
    let mut estimate: Option<FeedEstimate> = None;
    for r in results {
        let r = r?;
        warnings.extend(r.warnings);
        tp.extend(&r.toolpath);
        if let Some(e) = r.estimate {
            estimate = Some(estimate.map_or(e, |a| a.merge(e)));
        }
    }
    let end = tp.end();
    tp.rapid(P3::new(end.x, end.y, clearance));
    Ok((tp, estimate))
}

/// Z-level roughing of a closed mesh.
pub fn zlevel_rough(
    mesh: &Mesh,
    tool: &Tool,
    p: &ZLevelParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "zlevel-rough";
    check(OP, mesh, tool, p)?;
    let margin = p.stock_margin_mm.unwrap_or(tool.diameter_mm);
    if !(margin.is_finite() && margin >= 0.0) {
        return Err(param_err(
            OP,
            "stock_margin_mm",
            format!("is {margin}; it must be zero or positive"),
        ));
    }
    let mut warnings = Vec::new();
    let (zs, keep) = prepare_layers(mesh, tool, p, tol, &mut warnings);
    // The stock is a margin wider than the part, so a tool of the stock's margin width can
    // still clear all around; at least the tool diameter plus a step.
    let stock = stock_loop(mesh, margin + tool.diameter_mm);
    let (toolpath, estimate) = run_layers(&zs, p, &mut warnings, cancel, |i, heights| {
        let loops: Vec<Pline> = std::iter::once(stock.clone())
            .chain(keep[i].iter().cloned())
            .collect();
        let regions = nest_loops(loops, tol);
        // One level: the layer's slab; the floor allowance is in the layer heights already.
        let cut = CutParams {
            heights,
            stepdown_mm: None,
            allowance_axial_mm: 0.0,
            ..p.cut
        };
        if let Some(deg) = p.max_engagement_deg {
            let ap = AdaptiveParams {
                max_engagement_deg: deg,
                optimal_load: None,
                rest_from_diameter_mm: None,
                cut,
            };
            return adaptive(&regions, tool, &ap, tol, cancel);
        }
        let pp = PocketParams {
            stepover: p.stepover,
            pattern: p.pattern,
            zigzag_angle_deg: 0.0,
            rest_from_diameter_mm: None,
            inset_mm: 0.0,
            cut,
        };
        pocket(&regions, tool, &pp, tol, cancel)
    })?;
    Ok(OpResult {
        toolpath,
        warnings,
        estimate,
        ..OpResult::default()
    })
}

/// The waterlines of one layer: the boundary of the free space (everywhere outside the
/// material `keep`) inset by `dist`, as one shape, so a pass around one wall never crosses
/// another wall closer than the tool (each wall offset on its own would). Returns the passes
/// (free space on their left) and the free space the tool's centre may use.
fn waterline_passes(
    keep: &[Pline],
    dist: f64,
    tol: &Tolerance,
) -> (Vec<Pline>, Vec<OffsetComponent>, Option<String>) {
    let material = nest_loops(keep.to_vec(), tol);
    let mut bb = crate::geometry::Bbox2::EMPTY;
    for r in &material {
        bb.union(&crate::geometry::pline_bbox(&r.outer));
    }
    if bb.is_empty() {
        return (Vec::new(), Vec::new(), None);
    }
    // A frame far enough out that its own inset never meets the material's (in proportion
    // to the part: results scale with it).
    let m = 4.0 * dist + 0.1 * bb.width().max(bb.height());
    let mut loops = vec![box_loop(bb.min - V2::new(m, m), bb.max + V2::new(m, m))];
    for r in &material {
        loops.push(crate::geometry::reversed(&r.outer));
        loops.extend(r.islands.iter().map(crate::geometry::reversed));
    }
    let inset = Inset::new(loops, tol);
    let free = inset.at(dist, tol);
    let dropped = dropped_warning("zlevel-contour", "a waterline", &inset);
    let frame_corner =
        crate::geometry::V2::new(bb.min.x - m + 2.0 * dist, bb.min.y - m + 2.0 * dist);
    let mut passes = Vec::new();
    for c in &free {
        if !c.contains(frame_corner) {
            passes.push(c.outer.clone());
        }
        passes.extend(c.holes.iter().cloned());
    }
    (passes, free, dropped)
}

/// Z-level (waterline) contours of a closed mesh's walls.
pub fn zlevel_contour(
    mesh: &Mesh,
    tool: &Tool,
    p: &ZLevelParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "zlevel-contour";
    check(OP, mesh, tool, p)?;
    let mut warnings = Vec::new();
    let (zs, keep) = prepare_layers(mesh, tool, p, tol, &mut warnings);
    let dist = tool.radius_mm() + p.cut.allowance_radial_mm;
    // The layers' waterlines in parallel; then each layer is cut in order, entering each pass
    // through what the layer above cleared.
    let layers: Vec<(Vec<Pline>, Vec<OffsetComponent>, Option<String>)> = keep
        .par_iter()
        .map(|k| waterline_passes(k, dist, tol))
        .collect();
    // Pieces of waterlines that could not be offset reliably: said once, with the first layer.
    if let Some((i, w)) = layers
        .iter()
        .enumerate()
        .find_map(|(i, l)| l.2.as_ref().map(|w| (i, w)))
    {
        warnings.push(format!(
            "{w} (layer at Z {:.4}, the first of such layers)",
            zs[i]
        ));
    }
    let z_op_top = -p.cut.heights.start_depth_mm;
    let r = tool.radius_mm();
    let clearance = p.cut.heights.clearance_mm;
    let mut toolpath = Toolpath::new(P3::new(0.0, 0.0, clearance));
    let mut above: Option<Toolpath> = None;
    for (i, (passes, free, _)) in layers.iter().enumerate() {
        cancel.check()?;
        let heights = layer_heights(&zs, i, p);
        let z_prev = -heights.start_depth_mm;
        let cp = ContourParams {
            side: Side::On,
            lead_radius_mm: r,
            cut: CutParams {
                heights,
                // A ramp from the top (a wall that starts at this layer) goes no deeper per
                // lap than the step-down.
                stepdown_mm: p.cut.stepdown_mm,
                direction: p.cut.direction,
                entry: Entry {
                    kind: super::EntryKind::Ramp,
                    ..p.cut.entry
                },
                ..ContourParams::default().cut
            },
            ..ContourParams::default()
        };
        // Where the layer above ran its tool centre at its depth, the whole tool was there:
        // cleared down to that layer, so the pass starts there, straight down and ramping
        // along the wall. A little off it (a wall sloping out) only a sliver at the tool's
        // edge is left: rapid to the top, down at feed, ramp from the layer above. Elsewhere
        // (a wall that starts at this layer) a lead-in arc ramps from the top.
        let descent = |q: V2| {
            let d = above.as_ref().map_or(f64::INFINITY, |tp| {
                feed_distance(tp, q, z_prev + tol.path_mm)
            });
            if d <= tol.path_mm {
                (
                    Descent {
                        clear_z: z_prev,
                        ramp_top_z: z_prev,
                    },
                    false,
                )
            } else if d <= 0.5 * r {
                (
                    Descent {
                        clear_z: z_op_top,
                        ramp_top_z: z_prev,
                    },
                    false,
                )
            } else {
                (
                    Descent {
                        clear_z: z_op_top,
                        ramp_top_z: z_op_top,
                    },
                    true,
                )
            }
        };
        let res = cut_free_space_passes(passes, free, tool, &cp, tol, cancel, &descent)?;
        warnings.extend(res.warnings);
        toolpath.extend(&res.toolpath);
        above = Some(res.toolpath);
    }
    let end = toolpath.end();
    toolpath.rapid(P3::new(end.x, end.y, clearance));
    Ok(OpResult {
        toolpath,
        warnings,
        estimate: None,
        ..OpResult::default()
    })
}

#[cfg(test)]
mod tests;
