//! Mesh → regions at Z levels.
//!
//! A plane cuts each triangle that has vertices on both sides in one segment whose ends lie on
//! two of its edges. Segments are chained through the edges they share (vertex indices, exact,
//! not by comparing coordinates), so a closed manifold mesh gives closed loops whatever the
//! float noise. A vertex exactly on the plane counts as below it, so slicing at the height of a
//! floor gives the section just above the floor. Loops are fitted with arcs and nested into
//! regions (material inside outer loops, holes as islands).

use std::collections::HashMap;

use cavalier_contours::polyline::{PlineCreation, PlineSource, PlineSourceMut};
use rayon::prelude::*;

use crate::geometry::biarc::fit_polyline;
use crate::geometry::mesh::Mesh;
use crate::geometry::{Pline, Region, Tolerance, V2, nest_loops};

/// Precomputed triangle ranges for fast slicing at many heights.
pub struct Slicer<'a> {
    mesh: &'a Mesh,
    /// Triangle indices sorted by their lowest Z.
    by_zmin: Vec<u32>,
    zmin: Vec<f64>,
    zmax: Vec<f64>,
}

/// The raw section of a mesh at one height.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub z: f64,
    /// Closed loops as points (last = first).
    pub loops: Vec<Vec<V2>>,
    /// Chains that do not close (open or non-manifold meshes).
    pub open: Vec<Vec<V2>>,
}

impl<'a> Slicer<'a> {
    pub fn new(mesh: &'a Mesh) -> Self {
        let z = |t: &[u32; 3], f: fn(f64, f64) -> f64| {
            f(
                f(
                    mesh.vertices[t[0] as usize][2],
                    mesh.vertices[t[1] as usize][2],
                ),
                mesh.vertices[t[2] as usize][2],
            )
        };
        let zmin: Vec<f64> = mesh.triangles.iter().map(|t| z(t, f64::min)).collect();
        let zmax: Vec<f64> = mesh.triangles.iter().map(|t| z(t, f64::max)).collect();
        let mut by_zmin: Vec<u32> = (0..mesh.triangles.len() as u32).collect();
        by_zmin.sort_by(|&a, &b| zmin[a as usize].total_cmp(&zmin[b as usize]));
        Self {
            mesh,
            by_zmin,
            zmin,
            zmax,
        }
    }

    /// The section at `z`.
    pub fn section(&self, z: f64) -> Section {
        let m = self.mesh;
        // Triangles with zmin <= z (sorted prefix) and zmax > z.
        let end = self
            .by_zmin
            .partition_point(|&t| self.zmin[t as usize] <= z);
        let mut points: Vec<V2> = Vec::new();
        let mut edge_point: HashMap<u64, u32> = HashMap::new();
        // Each segment joins two edge points.
        let mut segs: Vec<[u32; 2]> = Vec::new();
        for &ti in &self.by_zmin[..end] {
            if self.zmax[ti as usize] <= z {
                continue;
            }
            let t = m.triangles[ti as usize];
            let above = |i: u32| m.vertices[i as usize][2] > z;
            let mut ends = [0u32; 2];
            let mut k = 0;
            for e in 0..3 {
                let (a, b) = (t[e], t[(e + 1) % 3]);
                if above(a) == above(b) {
                    continue;
                }
                let key = if a < b {
                    u64::from(a) << 32 | u64::from(b)
                } else {
                    u64::from(b) << 32 | u64::from(a)
                };
                let id = *edge_point.entry(key).or_insert_with(|| {
                    let (lo, hi) = if above(a) { (b, a) } else { (a, b) };
                    let (p, q) = (m.vertices[lo as usize], m.vertices[hi as usize]);
                    let f = (z - p[2]) / (q[2] - p[2]);
                    points.push(V2::new(p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f));
                    (points.len() - 1) as u32
                });
                if k < 2 {
                    ends[k] = id;
                }
                k += 1;
            }
            if k == 2 {
                segs.push(ends);
            }
        }
        chain(z, &points, &segs)
    }
}

/// Chains segments through their shared edge points.
fn chain(z: f64, points: &[V2], segs: &[[u32; 2]]) -> Section {
    let mut at: Vec<Vec<u32>> = vec![Vec::new(); points.len()];
    for (i, s) in segs.iter().enumerate() {
        at[s[0] as usize].push(i as u32);
        at[s[1] as usize].push(i as u32);
    }
    let mut used = vec![false; segs.len()];
    let mut out = Section {
        z,
        ..Section::default()
    };
    let walk = |start_seg: usize, from: u32, used: &mut Vec<bool>| -> (Vec<u32>, bool) {
        let mut ids = vec![from];
        let mut seg = start_seg;
        let mut cur = from;
        loop {
            used[seg] = true;
            let s = segs[seg];
            let next = if s[0] == cur { s[1] } else { s[0] };
            ids.push(next);
            if next == from {
                return (ids, true);
            }
            cur = next;
            match at[cur as usize].iter().find(|&&o| !used[o as usize]) {
                Some(&o) => seg = o as usize,
                None => return (ids, false),
            }
        }
    };
    // Open chains first from their ends (points with one segment), then loops.
    for p in 0..points.len() {
        if at[p].len() == 1 && !used[at[p][0] as usize] {
            let (ids, _) = walk(at[p][0] as usize, p as u32, &mut used);
            out.open
                .push(ids.iter().map(|&i| points[i as usize]).collect());
        }
    }
    for s in 0..segs.len() {
        if !used[s] {
            let (ids, closed) = walk(s, segs[s][0], &mut used);
            let pts: Vec<V2> = ids.iter().map(|&i| points[i as usize]).collect();
            if closed {
                out.loops.push(pts);
            } else {
                out.open.push(pts);
            }
        }
    }
    out
}

/// Removes consecutive points closer than `eq` (keeping a closed loop closed).
fn dedup(pts: &[V2], eq: f64) -> Vec<V2> {
    let mut out: Vec<V2> = Vec::with_capacity(pts.len());
    for &p in pts {
        if out.last().is_none_or(|q| q.dist(p) > eq) {
            out.push(p);
        }
    }
    if pts.len() > 1 && pts[0] == pts[pts.len() - 1] && out.len() > 1 {
        let n = out.len();
        if out[0].dist(out[n - 1]) <= eq {
            out[n - 1] = out[0];
        } else {
            out.push(out[0]);
        }
    }
    out
}

/// Drops points that lie on the segment between their neighbours (within `eq`): a plane cuts
/// the diagonal edges of a tessellated wall in the middle of its facets, and those points say
/// nothing about the outline (and are off the true surface by the facet's sagitta). Every
/// dropped point stays within `eq` of the chord that replaces it.
fn drop_collinear(pts: &[V2], eq: f64) -> Vec<V2> {
    if pts.len() < 4 {
        return pts.to_vec();
    }
    let near = |a: V2, b: V2, p: V2| {
        let ab = b - a;
        let l = ab.length();
        l > 0.0
            && (ab.cross(p - a) / l).abs() <= eq
            && (p - a).dot(ab) > 0.0
            && (p - b).dot(ab) < 0.0
    };
    // The first point of a closed loop is kept (it is its own last point).
    let mut keep: Vec<V2> = vec![pts[0]];
    let mut dropped: Vec<V2> = Vec::new();
    for i in 1..pts.len() - 1 {
        let a = keep[keep.len() - 1];
        let next = pts[i + 1];
        if near(a, next, pts[i]) && dropped.iter().all(|&d| near(a, next, d)) {
            dropped.push(pts[i]);
        } else {
            keep.push(pts[i]);
            dropped.clear();
        }
    }
    keep.push(pts[pts.len() - 1]);
    keep
}

/// A section as arc-fitted closed loops (plus a count of open chains).
#[derive(Debug, Clone, Default)]
pub struct SliceLoops {
    pub z: f64,
    pub loops: Vec<Pline>,
    /// Open chains (their points), reported, never machined as regions.
    pub open: Vec<Vec<V2>>,
    /// Polyline vertices before fitting and segments after, for statistics.
    pub points_in: usize,
    pub segments_out: usize,
}

impl SliceLoops {
    /// The loops nested into regions.
    pub fn regions(&self, tol: &Tolerance) -> Vec<Region> {
        nest_loops(self.loops.clone(), tol)
    }
}

/// Slices at `z` and fits the loops with arcs.
///
/// The section of a triangle mesh is exactly a polygon, and the fitter puts arcs through its
/// vertices: on a tessellated round the arc is the surface the facets approximate, but between
/// two vertices it leaves the facet by up to the chord's sagitta. Outward (away from the
/// material) that leaves at most the sagitta of stock; inward it cuts into the mesh, which a
/// drop-cutter check of the program against the mesh sees as a gouge (37 µm on a relief sampled
/// every 0.5 mm). So a fitted loop that leaves the polygon on the material side by more than
/// the path tolerance is replaced by the polygon itself (lines, exact to the mesh).
pub fn slice_loops(slicer: &Slicer<'_>, z: f64, tol: &Tolerance) -> SliceLoops {
    let sec = slicer.section(z);
    let mut out = SliceLoops {
        z,
        open: sec.open,
        ..SliceLoops::default()
    };
    // (fitted loop, the polygon, how far the fit leaves it outward and inward)
    let mut fitted: Vec<(Pline, Vec<V2>, f64, f64)> = Vec::new();
    for l in &sec.loops {
        let pts = drop_collinear(&dedup(l, tol.equal_point_mm), tol.equal_point_mm);
        if pts.len() < 4 {
            continue;
        }
        out.points_in += pts.len();
        let verts = fit_polyline(
            &pts,
            tol.mesh_corner_angle_deg,
            tol.path_mm,
            tol.equal_point_mm,
        );
        if verts.len() < 3 {
            continue;
        }
        let mut p = Pline::with_capacity(verts.len(), true);
        for v in &verts[..verts.len() - 1] {
            p.add_vertex(*v);
        }
        if p.area().abs() <= tol.equal_point_mm * p.path_length() {
            continue;
        }
        let (bite_out, bite_in) = fit_excursions(&p, &pts, tol.path_mm);
        fitted.push((p, pts, bite_out, bite_in));
    }
    // Material lies inside a loop at even nesting depth and outside one at odd depth.
    let boxes: Vec<_> = fitted
        .iter()
        .map(|f| crate::geometry::pline_bbox(&f.0))
        .collect();
    let depths: Vec<usize> = (0..fitted.len())
        .map(|i| {
            let probe = fitted[i].1[0];
            (0..fitted.len())
                .filter(|&j| {
                    j != i
                        && boxes[j].contains_box(&boxes[i], 0.0)
                        && fitted[j].0.winding_number(probe.into()) != 0
                })
                .count()
        })
        .collect();
    for ((p, pts, bite_out, bite_in), depth) in fitted.into_iter().zip(depths) {
        let bite = if depth % 2 == 0 { bite_out } else { bite_in };
        let p = if bite > tol.path_mm {
            let mut lines = Pline::with_capacity(pts.len() - 1, true);
            for q in &pts[..pts.len() - 1] {
                lines.add(q.x, q.y, 0.0);
            }
            lines
        } else {
            p
        };
        out.segments_out += p.segment_count();
        out.loops.push(p);
    }
    out
}

/// How far the closed polygon `pts` (first point repeated at the end) lies outside and inside
/// the loop `fit` fitted through its vertices: measured at a quarter, half and three quarters
/// of each edge (the fit passes within the tolerance of the vertices, so the gap is largest
/// between them). Distances within `tol` are not measured further.
fn fit_excursions(fit: &Pline, pts: &[V2], tol: f64) -> (f64, f64) {
    use cavalier_contours::polyline::seg_closest_point;
    let n = fit.vertex_count();
    let (mut outside, mut inside) = (0.0f64, 0.0f64);
    // The fit follows the polygon in order: search near the last match first.
    let mut cur = 0usize;
    let nearest = |m: V2, from: usize| -> (usize, f64) {
        let q = m.into();
        let d = |k: usize| {
            let c = seg_closest_point(fit.at(k), fit.at((k + 1) % n), q, 0.0);
            (c - q).length()
        };
        let mut best = (from, f64::INFINITY);
        for off in 0..12.min(n) {
            let k = (from + n - 2 + off) % n;
            let dk = d(k);
            if dk < best.1 {
                best = (k, dk);
            }
        }
        best
    };
    for w in pts.windows(2) {
        for f in [0.25, 0.5, 0.75] {
            let m = w[0] + (w[1] - w[0]) * f;
            let (mut k, mut d) = nearest(m, cur);
            if d > tol {
                // Not near where the walk expected: the whole loop.
                for j in 0..n {
                    let c = seg_closest_point(fit.at(j), fit.at((j + 1) % n), m.into(), 0.0);
                    let dj = (c - cavalier_contours::core::math::Vector2::from(m)).length();
                    if dj < d {
                        (k, d) = (j, dj);
                    }
                }
            }
            cur = k;
            if d > tol {
                if fit.winding_number(m.into()) != 0 {
                    inside = inside.max(d);
                } else {
                    outside = outside.max(d);
                }
            }
        }
    }
    (outside, inside)
}

/// Slices at many heights in parallel; the result is in the order of `zs` (deterministic).
pub fn slice_many(slicer: &Slicer<'_>, zs: &[f64], tol: &Tolerance) -> Vec<SliceLoops> {
    zs.par_iter()
        .map(|&z| slice_loops(slicer, z, tol))
        .collect()
}

/// Heights of the horizontal faces of a mesh (floors and tops of a 2.5D part), highest first,
/// equal within the equal-point distance merged.
pub fn flat_levels(mesh: &Mesh, tol: &Tolerance) -> Vec<f64> {
    let eq = tol.equal_point_mm;
    let mut zs: Vec<f64> = mesh
        .triangles
        .iter()
        .filter_map(|t| {
            let z: Vec<f64> = t.iter().map(|&i| mesh.vertices[i as usize][2]).collect();
            let (lo, hi) = (z[0].min(z[1]).min(z[2]), z[0].max(z[1]).max(z[2]));
            (hi - lo <= eq).then_some(0.5 * (lo + hi))
        })
        .collect();
    zs.sort_by(|a, b| b.total_cmp(a));
    zs.dedup_by(|a, b| (*a - *b).abs() <= eq);
    zs
}

#[cfg(test)]
mod tests;
