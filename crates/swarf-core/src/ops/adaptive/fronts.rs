//! Cutting fronts for adaptive clearing: level curves of the geodesic distance from the entry
//! point, inside one connected tool-centre domain.
//!
//! Written by hand because no crate computes geodesic distance fields in a polygon with arcs:
//! the domain is rasterised (scanlines against the exact loops), the distance from the entry
//! is computed by fast marching (first-order upwind, axis and diagonal stencils, which keeps
//! the level curves round), and the level curves are traced by marching squares, clipped to
//! the exact domain and returned as point chains for the arc fitter.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::geometry::V2;
use crate::geometry::offset::OffsetComponent;

use super::super::pocket::clip_line;

/// A raster of the domain with the geodesic distance from the entry.
pub struct Field {
    pub origin: V2,
    pub h: f64,
    pub nx: usize,
    pub ny: usize,
    /// Geodesic distance of each node from the entry; infinite outside the marched area.
    pub t: Vec<f64>,
    /// Approximate distance of each node from the nearest node outside the domain (0 outside).
    pub depth: Vec<f64>,
}

/// Ordered f64 for the heap.
#[derive(PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl Field {
    pub fn node(&self, i: usize, j: usize) -> V2 {
        self.origin + V2::new(i as f64 * self.h, j as f64 * self.h)
    }
    fn idx(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }

    /// Rasterises `comp` with node spacing `h`: `depth` > 0 inside. Nodes near the boundary
    /// count as inside the marched area too (two nodes' margin), so that a channel thinner than
    /// a cell still carries fronts; the fronts are clipped to the exact domain later.
    pub fn new(comp: &OffsetComponent, h: f64, eq: f64) -> Field {
        const OFF: f64 = 3.5;
        let b = comp.bbox;
        // Nodes half a cell off the box's edges (cell-centred): a domain's straight edges (a
        // rectangle's, most often) would otherwise run exactly through a row of nodes, whose
        // inside-or-outside rounding decides, and decides differently at another scale.
        let origin = b.min - V2::new(OFF * h, OFF * h);
        let nx = ((b.max.x - origin.x) / h).ceil() as usize + 4;
        let ny = ((b.max.y - origin.y) / h).ceil() as usize + 4;
        let n = nx * ny;
        let mut f = Field {
            origin,
            h,
            nx,
            ny,
            t: vec![f64::INFINITY; n],
            depth: vec![0.0; n],
        };
        let comps = std::slice::from_ref(comp);
        let mut inside = vec![false; n];
        for j in 0..ny {
            let y = origin.y + j as f64 * h;
            for (a, bb) in clip_line(comps, V2::new(origin.x, y), V2::new(1.0, 0.0), eq) {
                let i0 = ((a.x - origin.x) / h).ceil().max(0.0) as usize;
                let i1 = (((bb.x - origin.x) / h).floor().max(-1.0) + 1.0) as usize;
                for i in i0..i1.min(nx) {
                    inside[j * nx + i] = true;
                }
            }
        }
        // Chamfer distance to the outside (two passes, 1 and √2).
        let d2 = std::f64::consts::SQRT_2 * h;
        for (d, &ins) in f.depth.iter_mut().zip(&inside) {
            *d = if ins { f64::INFINITY } else { 0.0 };
        }
        for j in 1..ny - 1 {
            for i in 1..nx - 1 {
                let k = j * nx + i;
                let v = f.depth[k]
                    .min(f.depth[k - 1] + h)
                    .min(f.depth[k - nx] + h)
                    .min(f.depth[k - nx - 1] + d2)
                    .min(f.depth[k - nx + 1] + d2);
                f.depth[k] = v;
            }
        }
        for j in (1..ny - 1).rev() {
            for i in (1..nx - 1).rev() {
                let k = j * nx + i;
                let v = f.depth[k]
                    .min(f.depth[k + 1] + h)
                    .min(f.depth[k + nx] + h)
                    .min(f.depth[k + nx + 1] + d2)
                    .min(f.depth[k + nx - 1] + d2);
                f.depth[k] = v;
            }
        }
        f
    }

    /// The node deepest inside the domain and its depth (0 when no node is inside).
    ///
    /// Depths are sums of cells and diagonals, so many nodes share the greatest one, and which
    /// of them rounding makes the greatest would change with the scale: a node counts as deeper
    /// only by more than [`Self::tie`]; among ties the first in scan order wins.
    pub fn deepest(&self) -> (V2, f64) {
        let mut best = (0, 0.0);
        for (k, &d) in self.depth.iter().enumerate() {
            if d.is_finite() && d > best.1 + self.tie() {
                best = (k, d);
            }
        }
        (self.node(best.0 % self.nx, best.0 / self.nx), best.1)
    }

    /// Differences of depth below this are rounding, not depth (a billionth of a cell).
    fn tie(&self) -> f64 {
        1e-9 * self.h
    }

    /// The opening of the domain by `delta` (the nodes within `delta` of a node at least
    /// `delta` deep): what a disc of radius `delta` sweeps inside it. Returns, per node, its
    /// component of the opening (0: outside it), and the deepest node of each component.
    /// Necks and arms narrower than `2·delta`, and the tips of sharp corners, fall outside.
    pub fn opening(&self, delta: f64) -> (Vec<u32>, Vec<(V2, f64)>) {
        let (nx, ny, h) = (self.nx, self.ny, self.h);
        let n = nx * ny;
        let d2 = std::f64::consts::SQRT_2 * h;
        // Depths and distances here are sums of cells and diagonals, and `delta` is often a
        // whole number of cells: within `tie` of it counts as equal to it, so rounding (which
        // differs with the scale) does not decide.
        let tie = self.tie();
        let mut dist: Vec<f64> = self
            .depth
            .iter()
            .map(|&d| if d >= delta - tie { 0.0 } else { f64::INFINITY })
            .collect();
        for j in 1..ny - 1 {
            for i in 1..nx - 1 {
                let k = j * nx + i;
                dist[k] = dist[k]
                    .min(dist[k - 1] + h)
                    .min(dist[k - nx] + h)
                    .min(dist[k - nx - 1] + d2)
                    .min(dist[k - nx + 1] + d2);
            }
        }
        for j in (1..ny - 1).rev() {
            for i in (1..nx - 1).rev() {
                let k = j * nx + i;
                dist[k] = dist[k]
                    .min(dist[k + 1] + h)
                    .min(dist[k + nx] + h)
                    .min(dist[k + nx + 1] + d2)
                    .min(dist[k + nx - 1] + d2);
            }
        }
        let mut comp = vec![0u32; n];
        let mut deepest = Vec::new();
        let mut stack = Vec::new();
        for start in 0..n {
            if comp[start] != 0 || self.depth[start] <= 0.0 || dist[start] > delta + tie {
                continue;
            }
            let id = deepest.len() as u32 + 1;
            comp[start] = id;
            stack.push(start);
            let mut best = (start, self.depth[start]);
            while let Some(k) = stack.pop() {
                if self.depth[k] > best.1 + self.tie() {
                    best = (k, self.depth[k]);
                }
                let (i, j) = (k % nx, k / nx);
                let mut visit = |q: usize| {
                    if comp[q] == 0 && self.depth[q] > 0.0 && dist[q] <= delta + tie {
                        comp[q] = id;
                        stack.push(q);
                    }
                };
                if i > 0 {
                    visit(k - 1);
                }
                if i + 1 < nx {
                    visit(k + 1);
                }
                if j > 0 {
                    visit(k - nx);
                }
                if j + 1 < ny {
                    visit(k + nx);
                }
            }
            deepest.push((self.node(best.0 % nx, best.0 / nx), best.1));
        }
        (comp, deepest)
    }

    /// Marks the nodes the fast marching may visit: inside, or within two nodes of the
    /// domain's boundary (sampled along its loops).
    fn marchable(&self, comp: &OffsetComponent) -> Vec<bool> {
        let (nx, ny, h) = (self.nx, self.ny, self.h);
        let mut m: Vec<bool> = self.depth.iter().map(|&d| d > 0.0).collect();
        for l in comp.loops() {
            for (v1, v2) in cavalier_contours::polyline::PlineSource::iter_segments(l) {
                let len = crate::geometry::bulge::seg_len(v1, v2);
                let steps = ((len / (0.5 * h)).ceil() as usize).clamp(1, 1 << 24);
                for s in 0..=steps {
                    let p = crate::geometry::bulge::seg_point(v1, v2, s as f64 / steps as f64);
                    let i = ((p.x - self.origin.x) / h).round();
                    let j = ((p.y - self.origin.y) / h).round();
                    if i >= 0.0 && j >= 0.0 && (i as usize) < nx && (j as usize) < ny {
                        m[j as usize * nx + i as usize] = true;
                    }
                }
            }
        }
        // Grow by two nodes.
        for _ in 0..2 {
            let prev = m.clone();
            for j in 1..ny - 1 {
                for i in 1..nx - 1 {
                    let k = j * nx + i;
                    if !prev[k]
                        && (prev[k - 1]
                            || prev[k + 1]
                            || prev[k - nx]
                            || prev[k + nx]
                            || prev[k - nx - 1]
                            || prev[k - nx + 1]
                            || prev[k + nx - 1]
                            || prev[k + nx + 1])
                    {
                        m[k] = true;
                    }
                }
            }
        }
        m
    }

    /// Fast marching from `src`: fills `t` with the geodesic distance.
    pub fn march(&mut self, comp: &OffsetComponent, srcs: &[V2], slow: &[f64]) {
        let (nx, ny, h) = (self.nx, self.ny, self.h);
        let ok = self.marchable(comp);
        let mut known = vec![false; nx * ny];
        let mut heap: BinaryHeap<Reverse<(Key, usize)>> = BinaryHeap::new();
        // Exact distances around the sources.
        for &src in srcs {
            let ci = ((src.x - self.origin.x) / h).round() as isize;
            let cj = ((src.y - self.origin.y) / h).round() as isize;
            for dj in -2..=2isize {
                for di in -2..=2isize {
                    let (i, j) = (ci + di, cj + dj);
                    if i < 1 || j < 1 || i >= nx as isize - 1 || j >= ny as isize - 1 {
                        continue;
                    }
                    let k = self.idx(i as usize, j as usize);
                    let d = self.node(i as usize, j as usize).dist(src);
                    if ok[k] && d < self.t[k] {
                        self.t[k] = d;
                        heap.push(Reverse((Key(d), k)));
                    }
                }
            }
        }
        let d2 = std::f64::consts::SQRT_2 * h;
        let solve = |a: f64, b: f64, g: f64| -> f64 {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            if hi == f64::INFINITY || hi - lo >= g {
                lo + g
            } else {
                0.5 * (lo + hi + (2.0 * g * g - (hi - lo) * (hi - lo)).sqrt())
            }
        };
        while let Some(Reverse((Key(d), k))) = heap.pop() {
            if known[k] || d > self.t[k] {
                continue;
            }
            known[k] = true;
            let (i, j) = (k % nx, k / nx);
            // Neighbours along the axes; their update reads the diagonal stencil too.
            for (di, dj) in [(-1isize, 0isize), (1, 0), (0, -1), (0, 1)] {
                let (ii, jj) = (i as isize + di, j as isize + dj);
                if ii < 1 || jj < 1 || ii >= nx as isize - 1 || jj >= ny as isize - 1 {
                    continue;
                }
                let q = jj as usize * nx + ii as usize;
                if known[q] || !ok[q] {
                    continue;
                }
                let kv = |qq: usize| if known[qq] { self.t[qq] } else { f64::INFINITY };
                let ax = kv(q - 1).min(kv(q + 1));
                let ay = kv(q - nx).min(kv(q + nx));
                let da = kv(q - nx - 1).min(kv(q + nx + 1));
                let db = kv(q - nx + 1).min(kv(q + nx - 1));
                let v = solve(ax, ay, h * slow[q]).min(solve(da, db, d2 * slow[q]));
                if v < self.t[q] {
                    self.t[q] = v;
                    heap.push(Reverse((Key(v), q)));
                }
            }
        }
    }

    /// Slowness of each node for [`Self::march`]: 1 away from the walls, growing toward them
    /// as `sqrt(1 + g'(d)²)`, where `d` is the distance to the walls and `g` the profile of a
    /// quarter circle of radius `rho`. A front perpendicular to a wall then turns back toward
    /// the cleared side in a fillet of radius `rho` and meets the wall tangentially, so the
    /// tool never runs into a wall head-on with uncut material beyond it; a front wrapping
    /// round an island is never tighter than about `rho`. As the slowness is never below 1,
    /// neighbouring level curves are never farther apart than their level difference.
    pub fn slowness(&self, comp: &OffsetComponent, rho: f64) -> Vec<f64> {
        const MAX: f64 = 30.0;
        let (nx, h) = (self.nx, self.h);
        let reach = rho + 3.0 * h;
        let loops: Vec<(&crate::geometry::Pline, crate::geometry::Bbox2)> = comp
            .loops()
            .map(|l| (l, crate::geometry::pline_bbox(l)))
            .collect();
        let mut f = vec![1.0; self.t.len()];
        for (k, fk) in f.iter_mut().enumerate() {
            if self.depth[k] > reach + 2.0 * h {
                continue;
            }
            if self.depth[k] <= 0.0 {
                *fk = MAX;
                continue;
            }
            let p = self.node(k % nx, k / nx);
            let mut d = f64::INFINITY;
            for (l, b) in &loops {
                let gap = (b.min.x - p.x)
                    .max(p.x - b.max.x)
                    .max(b.min.y - p.y)
                    .max(p.y - b.max.y);
                if gap > d.min(reach) {
                    continue;
                }
                if let Some(c) =
                    cavalier_contours::polyline::PlineSource::closest_point(*l, p.into(), 1e-12)
                {
                    d = d.min(c.distance);
                }
            }
            if d < rho {
                let q = rho - d;
                let slope2 = q * q / (rho * rho - q * q).max(1e-30);
                *fk = (1.0 + slope2).sqrt().min(MAX);
            }
        }
        f
    }

    /// Largest finite distance of an inside node.
    pub fn max_inside(&self) -> f64 {
        self.t
            .iter()
            .zip(&self.depth)
            .filter(|(t, d)| t.is_finite() && **d > 0.0)
            .map(|(t, _)| *t)
            .fold(0.0, f64::max)
    }

    /// The level curves of `t` at `levels` (ascending), as point chains oriented with the
    /// larger distance on the right, `(level index, points, closed)`.
    pub fn contours(&self, levels: &[f64]) -> Vec<(usize, Vec<V2>, bool)> {
        let (nx, ny) = (self.nx, self.ny);
        // Segments per level: (from edge, to edge).
        // Rows in bands on rayon's threads; each band's segments per level are then joined.
        let band = 16;
        let parts: Vec<Vec<Vec<(u64, u64)>>> = (0..(ny - 1).div_ceil(band))
            .into_par_iter()
            .map(|b| {
                let mut segs: Vec<Vec<(u64, u64)>> = vec![Vec::new(); levels.len()];
                for j in b * band..((b + 1) * band).min(ny - 1) {
                    for i in 0..nx - 1 {
                        let k = j * nx + i;
                        let v = [self.t[k], self.t[k + 1], self.t[k + 1 + nx], self.t[k + nx]];
                        if v.iter().any(|x| !x.is_finite()) {
                            continue;
                        }
                        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let first = levels.partition_point(|&l| l <= lo);
                        for (li, &l) in levels.iter().enumerate().skip(first) {
                            if l > hi {
                                break;
                            }
                            square_segments(k as u64, nx as u64, &v, l, &mut segs[li]);
                        }
                    }
                }
                segs
            })
            .collect();
        let mut segs: Vec<Vec<(u64, u64)>> = vec![Vec::new(); levels.len()];
        for part in parts {
            for (li, s) in part.into_iter().enumerate() {
                segs[li].extend(s);
            }
        }
        let traced: Vec<Vec<(usize, Vec<V2>, bool)>> = segs
            .par_iter()
            .enumerate()
            .map(|(li, s)| {
                chain(s)
                    .into_iter()
                    .map(|(pts, closed)| {
                        let p: Vec<V2> = pts
                            .iter()
                            .map(|&e| self.edge_point(e, levels[li]))
                            .collect();
                        (li, p, closed)
                    })
                    .collect()
            })
            .collect();
        traced.into_iter().flatten().collect()
    }
    /// Where level `l` crosses grid edge `e` (linear interpolation).
    fn edge_point(&self, e: u64, l: f64) -> V2 {
        let k = (e >> 1) as usize;
        let q = if e & 1 == 0 { k + 1 } else { k + self.nx };
        let (a, b) = (self.t[k], self.t[q]);
        let f = if (b - a).abs() > 0.0 {
            ((l - a) / (b - a)).clamp(0.0, 1.0)
        } else {
            0.5
        };
        let pa = self.node(k % self.nx, k / self.nx);
        let pb = self.node(q % self.nx, q / self.nx);
        pa.lerp(pb, f)
    }
}

/// Marching-squares segments of one square (corners 0 = (i,j), 1 = (i+1,j), 2 = (i+1,j+1),
/// 3 = (i,j+1)) at level `l`, oriented with the higher values on the right.
fn square_segments(k: u64, nx: u64, v: &[f64; 4], l: f64, out: &mut Vec<(u64, u64)>) {
    // Edges: 0 bottom (0-1), 1 right (1-2), 2 top (3-2), 3 left (0-3).
    let edge = |e: usize| match e {
        0 => k << 1,
        1 => ((k + 1) << 1) | 1,
        2 => (k + nx) << 1,
        _ => (k << 1) | 1,
    };
    let hi: [bool; 4] = [v[0] > l, v[1] > l, v[2] > l, v[3] > l];
    let code = usize::from(hi[0])
        | usize::from(hi[1]) << 1
        | usize::from(hi[2]) << 2
        | usize::from(hi[3]) << 3;
    // High on the right: clockwise around a high corner, counter-clockwise around a low one.
    let mut push = |a: usize, b: usize| out.push((edge(a), edge(b)));
    match code {
        0 | 15 => {}
        // One corner high.
        1 => push(3, 0),
        2 => push(0, 1),
        4 => push(1, 2),
        8 => push(2, 3),
        // One corner low.
        14 => push(0, 3),
        13 => push(1, 0),
        11 => push(2, 1),
        7 => push(3, 2),
        // Two adjacent corners high.
        3 => push(3, 1),
        6 => push(0, 2),
        12 => push(1, 3),
        9 => push(2, 0),
        // Saddles, decided by the centre value.
        5 if 0.25 * (v[0] + v[1] + v[2] + v[3]) > l => {
            push(1, 0);
            push(3, 2);
        }
        5 => {
            push(3, 0);
            push(1, 2);
        }
        10 if 0.25 * (v[0] + v[1] + v[2] + v[3]) > l => {
            push(0, 3);
            push(2, 1);
        }
        10 => {
            push(0, 1);
            push(2, 3);
        }
        _ => unreachable!("four bits"),
    }
}

/// Joins oriented segments into chains of edges: open chains from their free start, then
/// closed ones (first edge repeated at the end).
fn chain(segs: &[(u64, u64)]) -> Vec<(Vec<u64>, bool)> {
    let mut by_from: Vec<(u64, usize)> = segs.iter().enumerate().map(|(i, s)| (s.0, i)).collect();
    by_from.sort_unstable();
    let next = |e: u64| -> Option<usize> {
        let p = by_from.partition_point(|x| x.0 < e);
        by_from.get(p).filter(|x| x.0 == e).map(|x| x.1)
    };
    let mut has_pred = vec![false; segs.len()];
    for s in segs {
        if let Some(n) = next(s.1) {
            has_pred[n] = true;
        }
    }
    let mut used = vec![false; segs.len()];
    let mut out = Vec::new();
    let follow = |start: usize, used: &mut Vec<bool>| -> (Vec<u64>, bool) {
        let mut edges = vec![segs[start].0];
        let mut cur = start;
        loop {
            used[cur] = true;
            edges.push(segs[cur].1);
            match next(segs[cur].1) {
                Some(n) if n == start => return (edges, true),
                Some(n) if !used[n] => cur = n,
                _ => return (edges, false),
            }
        }
    };
    for s in 0..segs.len() {
        if !used[s] && !has_pred[s] {
            out.push(follow(s, &mut used));
        }
    }
    for s in 0..segs.len() {
        if !used[s] {
            out.push(follow(s, &mut used));
        }
    }
    out
}
