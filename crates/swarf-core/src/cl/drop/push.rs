//! The exact push-cutter: where a tool whose tip moves along a plan segment at a fixed height
//! would cut into the mesh.
//!
//! For one triangle the drop-cutter bound `f(x, y)` (its facet, vertices and edges) is a
//! concave function over the triangle's plan grown by the tool's radius (the tool is a convex
//! solid of revolution, extended upward by its shank: the set of tip positions where it meets
//! the triangle is convex), and −∞ beyond. So along a line the positions where the tool at
//! height `z` meets the triangle (`f > z`) form one interval, inside the exact interval
//! where the line crosses the grown plan. The push finds a point inside (the vertices'
//! projections first, else a golden-section search for the maximum, which a concave function
//! cannot hide), then each end by bisection to a ten-millionth of a micrometre, reported on
//! the free side: a tool stopped at an end does not touch. The union over the triangles
//! near the segment is the answer; triangles are read highest first, and one whose grown
//! plan lies inside what is already blocked is not evaluated.
//!
//! This is the same contact geometry as the drop-cutter, so the waterline it gives agrees
//! with the parallel finish at every point (the tool at a waterline point has its drop-cutter
//! height equal to the level).

use super::{DropCutter, Tri};

/// Reusable buffers for [`DropCutter::push`] (no allocation per query once warm).
#[derive(Debug, Default, Clone)]
pub struct PushScratch {
    cand: Vec<(f64, u32)>,
}

/// Ends of a bisection: stop when the bracket is this fraction of the segment and tool.
const REL_EPS: f64 = 1e-10;

impl DropCutter {
    /// The stretches of the plan segment `a`→`b` along which the tool's tip at height `z`
    /// would cut into the mesh (where the drop-cutter is above `z`), as distances from `a`,
    /// sorted and disjoint, in `out`. Each end lies on the free side within 1e-10 of the
    /// segment's length (plus the tool's radius) of the exact contact.
    pub fn push(
        &self,
        a: [f64; 2],
        b: [f64; 2],
        z: f64,
        scratch: &mut PushScratch,
        out: &mut Vec<(f64, f64)>,
    ) {
        out.clear();
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = (dx * dx + dy * dy).sqrt();
        let r = self.shape.radius();
        if self.tris.is_empty() || len.is_nan() || len <= 0.0 || !z.is_finite() || self.hi[2] <= z {
            return;
        }
        let d = [dx / len, dy / len];
        let band = [
            a[0].min(b[0]) - r,
            a[1].min(b[1]) - r,
            a[0].max(b[0]) + r,
            a[1].max(b[1]) + r,
        ];
        if band[2] < self.lo[0]
            || band[0] > self.hi[0]
            || band[3] < self.lo[1]
            || band[1] > self.hi[1]
        {
            return;
        }
        let cx = |v: f64| {
            (((v - self.origin[0]) / self.cell).floor().max(0.0) as usize).min(self.nx - 1) as u32
        };
        let cy = |v: f64| {
            (((v - self.origin[1]) / self.cell).floor().max(0.0) as usize).min(self.ny - 1) as u32
        };
        let q = [cx(band[0]), cy(band[1]), cx(band[2]), cy(band[3])];
        let cand = &mut scratch.cand;
        cand.clear();
        for gy in q[1]..=q[3] {
            for gx in q[0]..=q[2] {
                let k = gy as usize * self.nx + gx as usize;
                if self.cell_top[k] <= z {
                    continue;
                }
                let cb = &self.cell_box[k];
                if clip_box(a, d, len, [cb[0] - r, cb[1] - r, cb[2] + r, cb[3] + r]).is_none() {
                    continue;
                }
                for it in &self.items[self.start[k] as usize..self.start[k + 1] as usize] {
                    if it.zmax <= z {
                        break;
                    }
                    let t = &self.tris[it.tri as usize];
                    if gx != t.cells[0].max(q[0]) || gy != t.cells[1].max(q[1]) {
                        continue;
                    }
                    let grown = [it.lo[0] - r, it.lo[1] - r, it.hi[0] + r, it.hi[1] + r];
                    if clip_box(a, d, len, grown).is_some() {
                        cand.push((it.zmax, it.tri));
                    }
                }
            }
        }
        cand.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        let eps = REL_EPS * (len + r);
        for &(_, i) in cand.iter() {
            let t = &self.tris[i as usize];
            let Some((s0, s1)) = self.support(t, a, d, len) else {
                continue;
            };
            if covered(out, s0, s1) {
                continue;
            }
            if let Some((e0, e1)) = self.blocked(t, a, d, s0, s1, z, eps) {
                insert(out, e0, e1.min(len));
            }
        }
    }

    /// Where the line `a + u·d` (u in 0..=len) comes within the tool's radius of the
    /// triangle's plan: its vertices' disks, its edges' strips and its inside (their union
    /// is convex, so one interval).
    fn support(&self, t: &Tri, a: [f64; 2], d: [f64; 2], len: f64) -> Option<(f64, f64)> {
        let r = self.shape.radius();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut take = |iv: Option<(f64, f64)>| {
            if let Some((x, y)) = iv {
                lo = lo.min(x);
                hi = hi.max(y);
            }
        };
        for v in &t.v {
            let (wx, wy) = (v[0] - a[0], v[1] - a[1]);
            let tc = wx * d[0] + wy * d[1];
            let e2 = wx * wx + wy * wy - tc * tc;
            if e2 <= r * r {
                let h = (r * r - e2).max(0.0).sqrt();
                take(Some((tc - h, tc + h)));
            }
        }
        // A half-plane `α + β·u ≤ c` cuts the interval.
        let cut = |iv: (f64, f64), alpha: f64, beta: f64, c: f64| -> Option<(f64, f64)> {
            let (mut lo, mut hi) = iv;
            if beta == 0.0 {
                return (alpha <= c).then_some(iv);
            }
            let u = (c - alpha) / beta;
            if beta > 0.0 {
                hi = hi.min(u);
            } else {
                lo = lo.max(u);
            }
            (lo <= hi).then_some((lo, hi))
        };
        let all = (f64::NEG_INFINITY, f64::INFINITY);
        let mut area2 = 0.0;
        for k in 0..3 {
            let (p, q) = (&t.v[k], &t.v[(k + 1) % 3]);
            area2 += (q[0] - p[0]) * (t.v[(k + 2) % 3][1] - p[1])
                - (q[1] - p[1]) * (t.v[(k + 2) % 3][0] - p[0]);
            let (ex, ey) = (q[0] - p[0], q[1] - p[1]);
            let l = (ex * ex + ey * ey).sqrt();
            if l.is_nan() || l <= 0.0 {
                continue;
            }
            let (ex, ey) = (ex / l, ey / l);
            let (nx, ny) = (-ey, ex);
            // Along the edge: 0 ≤ e·(a + u·d − p) ≤ l; across it: |n·(a + u·d − p)| ≤ r.
            let (ae, be) = (
                ex * (a[0] - p[0]) + ey * (a[1] - p[1]),
                ex * d[0] + ey * d[1],
            );
            let (an, bn) = (
                nx * (a[0] - p[0]) + ny * (a[1] - p[1]),
                nx * d[0] + ny * d[1],
            );
            let iv = cut(all, ae, be, l)
                .and_then(|iv| cut(iv, -ae, -be, 0.0))
                .and_then(|iv| cut(iv, an, bn, r))
                .and_then(|iv| cut(iv, -an, -bn, r));
            take(iv);
        }
        // The inside: on the inner side of all three edges.
        if area2 != 0.0 {
            let s = area2.signum();
            let mut iv = Some(all);
            for k in 0..3 {
                let (p, q) = (&t.v[k], &t.v[(k + 1) % 3]);
                let (ex, ey) = (q[0] - p[0], q[1] - p[1]);
                // s·cross(e, a + u·d − p) ≥ 0.
                let alpha = -s * (ex * (a[1] - p[1]) - ey * (a[0] - p[0]));
                let beta = -s * (ex * d[1] - ey * d[0]);
                iv = iv.and_then(|iv| cut(iv, alpha, beta, 0.0));
            }
            take(iv);
        }
        let (lo, hi) = (lo.max(0.0), hi.min(len));
        (lo <= hi).then_some((lo, hi))
    }

    /// Where along `a + u·d`, within the support `s0..=s1`, the tool at height `z` meets
    /// triangle `t` (see the module's notes), its ends on the free side.
    #[allow(clippy::too_many_arguments)]
    fn blocked(
        &self,
        t: &Tri,
        a: [f64; 2],
        d: [f64; 2],
        s0: f64,
        s1: f64,
        z: f64,
        eps: f64,
    ) -> Option<(f64, f64)> {
        let f = |u: f64| {
            let mut best = f64::NEG_INFINITY;
            self.test(t, 0x3f, a[0] + u * d[0], a[1] + u * d[1], &mut best);
            best
        };
        // Wholly above the level by more than the profile's height: the whole support.
        let zmin = t.v[0][2].min(t.v[1][2]).min(t.v[2][2]);
        // (The support's ends are where the rim touches: reported a hair outside.)
        let (out0, out1) = ((s0 - eps).max(0.0), s1 + eps);
        if zmin - self.shape.height(self.shape.radius()) > z {
            return Some((out0, out1));
        }
        // The facet's plane bounds the whole triangle from above (the tool touching the
        // unbounded plane is no lower than touching any part of it), and along the line
        // that bound is linear: the blocked stretch lies where it is above the level.
        let (mut s0, mut s1) = (s0, s1);
        if let Some([pa, pb, pc]) = t.plane {
            let g0 = pa * (a[0] + t.facet_offset[0]) + pb * (a[1] + t.facet_offset[1]) + pc
                - t.facet_h
                + t.plane_err;
            let slope = pa * d[0] + pb * d[1];
            let (g_lo, g_hi) = (g0 + slope * s0, g0 + slope * s1);
            if g_lo <= z && g_hi <= z {
                return None;
            }
            if slope != 0.0 {
                let u = (z - g0) / slope;
                if slope > 0.0 && g_lo <= z {
                    s0 = s0.max(u.min(s1));
                } else if slope < 0.0 && g_hi <= z {
                    s1 = s1.min(u.max(s0));
                }
            }
        }
        let mut inside = None;
        let seeds =
            t.v.map(|v| ((v[0] - a[0]) * d[0] + (v[1] - a[1]) * d[1]).clamp(s0, s1));
        for u in seeds.into_iter().chain([0.5 * (s0 + s1)]) {
            if f(u) > z {
                inside = Some(u);
                break;
            }
        }
        let (f_s0, f_s1) = (f(s0), f(s1));
        if inside.is_none() {
            if f_s0 > z {
                inside = Some(s0);
            } else if f_s1 > z {
                inside = Some(s1);
            }
        }
        if inside.is_none() {
            // Golden-section search for the maximum of the concave bound, stopping at the
            // first point above the level, or as soon as concavity bounds the maximum
            // below it (a concave function lies under its secants' extensions).
            const G: f64 = 0.618_033_988_749_894_9;
            let (mut lo, mut hi) = (s0, s1);
            let (mut flo, mut fhi) = (f_s0, f_s1);
            let (mut x1, mut x2) = (hi - G * (hi - lo), lo + G * (hi - lo));
            let (mut f1, mut f2) = (f(x1), f(x2));
            while hi - lo > eps {
                if f1 > z {
                    inside = Some(x1);
                    break;
                }
                if f2 > z {
                    inside = Some(x2);
                    break;
                }
                if concave_max_bound([(lo, flo), (x1, f1), (x2, f2), (hi, fhi)]) <= z {
                    break;
                }
                if f1 < f2 {
                    lo = x1;
                    flo = f1;
                    x1 = x2;
                    f1 = f2;
                    x2 = lo + G * (hi - lo);
                    f2 = f(x2);
                } else {
                    hi = x2;
                    fhi = f2;
                    x2 = x1;
                    f2 = f1;
                    x1 = hi - G * (hi - lo);
                    f1 = f(x1);
                }
            }
        }
        let m = inside?;
        // The crossing between a free point and a blocked one, the free end returned: on
        // the segment between them the bound crosses the level once (the blocked set is an
        // interval), so the Illinois variant of regula falsi keeps a bracket; it falls back
        // to halving where the bound is not finite (the rim's edge).
        let edge = |mut free: f64, mut hit: f64| {
            let (mut f_free, mut f_hit) = (f(free) - z, f(m) - z);
            let mut side = 0i8;
            for _ in 0..200 {
                if (hit - free).abs() <= eps {
                    break;
                }
                let mut c = if f_free.is_finite() && f_hit.is_finite() && f_hit > f_free {
                    free + (hit - free) * (-f_free) / (f_hit - f_free)
                } else {
                    0.5 * (free + hit)
                };
                // Keep well inside the bracket so that it shrinks from both sides.
                let (lo, hi) = (free.min(hit), free.max(hit));
                let guard = (hi - lo) * 1e-3;
                if !(c > lo + guard && c < hi - guard) {
                    c = 0.5 * (free + hit);
                }
                let fc = f(c) - z;
                if fc > 0.0 {
                    hit = c;
                    f_hit = fc;
                    if side == 1 {
                        f_free *= 0.5;
                    }
                    side = 1;
                } else {
                    free = c;
                    f_free = fc;
                    if side == -1 {
                        f_hit *= 0.5;
                    }
                    side = -1;
                }
            }
            free
        };
        let e0 = if f_s0 > z { out0 } else { edge(s0, m) };
        let e1 = if f_s1 > z { out1 } else { edge(s1, m) };
        Some((e0, e1))
    }
}

/// An upper bound on a concave function over [x0, x3] from its values at four increasing
/// points: outside the middle pair it lies under the middle secant's extension, between
/// them under both outer secants' extensions. +∞ where a value is not finite or two points
/// coincide.
fn concave_max_bound(p: [(f64, f64); 4]) -> f64 {
    if p.iter().any(|q| !q.1.is_finite())
        || p.windows(2)
            .any(|w| w[1].0.partial_cmp(&w[0].0) != Some(std::cmp::Ordering::Greater))
    {
        return f64::INFINITY;
    }
    let slope = |a: (f64, f64), b: (f64, f64)| (b.1 - a.1) / (b.0 - a.0);
    let (s01, s12, s23) = (slope(p[0], p[1]), slope(p[1], p[2]), slope(p[2], p[3]));
    let left = p[1].1.max(p[1].1 + s12 * (p[0].0 - p[1].0));
    let right = p[2].1.max(p[2].1 + s12 * (p[3].0 - p[2].0));
    let under = |x: f64| (p[1].1 + s01 * (x - p[1].0)).min(p[2].1 + s23 * (x - p[2].0));
    let mut mid = under(p[1].0).max(under(p[2].0));
    if s01 != s23 {
        let x =
            ((p[2].1 - p[1].1 + s01 * p[1].0 - s23 * p[2].0) / (s01 - s23)).clamp(p[1].0, p[2].0);
        mid = mid.max(under(x));
    }
    left.max(mid).max(right)
}

/// Where the line `a + u·d` (u in 0..=len) crosses the box [x0, y0, x1, y1].
fn clip_box(a: [f64; 2], d: [f64; 2], len: f64, b: [f64; 4]) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (0.0f64, len);
    for k in 0..2 {
        if d[k] == 0.0 {
            if a[k] < b[k] || a[k] > b[k + 2] {
                return None;
            }
        } else {
            let (u0, u1) = ((b[k] - a[k]) / d[k], (b[k + 2] - a[k]) / d[k]);
            lo = lo.max(u0.min(u1));
            hi = hi.min(u0.max(u1));
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// Whether `lo..=hi` lies inside one of the sorted, disjoint intervals.
fn covered(iv: &[(f64, f64)], lo: f64, hi: f64) -> bool {
    let k = iv.partition_point(|x| x.1 < hi);
    k < iv.len() && iv[k].0 <= lo
}

/// Adds `lo..=hi` to the sorted, disjoint intervals, merging what it overlaps.
fn insert(iv: &mut Vec<(f64, f64)>, lo: f64, hi: f64) {
    let first = iv.partition_point(|x| x.1 < lo);
    let last = iv.partition_point(|x| x.0 <= hi);
    if first >= last {
        iv.insert(first, (lo, hi));
    } else {
        let merged = (lo.min(iv[first].0), hi.max(iv[last - 1].1));
        iv.splice(first..last, [merged]);
    }
}
