//! A Z-dexel (heightmap) stock: one top height per square cell, cut by flat, ball, bull-nose and
//! V tools along lines and arcs.
//!
//! For a flat tool the removal is exact per cell centre: along a line (Z linear) the tool covers
//! a cell for a parameter interval (the segment inside the tool-radius disk around the cell),
//! and the lowest tool bottom over that interval is at one of its ends; along an arc or helix the
//! same holds in the angle. Profiled tools (ball, bull, V) take the lowest tip over samples of
//! the covering interval plus its ends, with the profile height at each sample's distance.

use crate::geometry::V2;
use crate::tool::{Tool, ToolShape};
use crate::toolpath::{Motion, Move, P3, arc_sweep};

/// The shape of the cutting end as height above the tip at a horizontal distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutterProfile {
    pub radius: f64,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Flat,
    /// Corner radius (ball: = radius).
    Bull(f64),
    /// Tip radius and 1/tan(half angle).
    V(f64, f64),
}

impl CutterProfile {
    pub fn of(tool: &Tool) -> Self {
        let radius = tool.radius_mm();
        let kind = match tool.shape {
            ToolShape::Flat => Kind::Flat,
            ToolShape::Ball => Kind::Bull(radius),
            ToolShape::Bull { corner_radius_mm } => Kind::Bull(corner_radius_mm),
            ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => Kind::V(
                tip_diameter_mm * 0.5,
                1.0 / (angle_deg.to_radians() * 0.5).tan(),
            ),
            // A flat-bottom drill (180°) is a flat end.
            ToolShape::Drill { point_angle_deg } if point_angle_deg >= 180.0 => Kind::Flat,
            ToolShape::Drill { point_angle_deg } => {
                Kind::V(0.0, 1.0 / (point_angle_deg.to_radians() * 0.5).tan())
            }
        };
        Self { radius, kind }
    }
    pub fn flat(radius: f64) -> Self {
        Self {
            radius,
            kind: Kind::Flat,
        }
    }
    /// Height of the cutting surface above the tip at horizontal distance `d` (≤ radius).
    #[inline]
    pub fn height(&self, d: f64) -> f64 {
        match self.kind {
            Kind::Flat => 0.0,
            Kind::Bull(rc) => {
                let core = self.radius - rc;
                if d <= core {
                    0.0
                } else {
                    let x = (d - core).min(rc);
                    rc - (rc * rc - x * x).max(0.0).sqrt()
                }
            }
            Kind::V(tip, cot) => {
                if d <= tip {
                    0.0
                } else {
                    (d - tip) * cot
                }
            }
        }
    }
    fn is_flat(&self) -> bool {
        matches!(self.kind, Kind::Flat)
    }
}

/// The x interval where the horizontal line at `y` meets the capsule of radius `r` around the
/// segment a–b (a superset is fine: cells are tested exactly afterwards).
fn capsule_row(a: V2, b: V2, r: f64, y: f64) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in [a, b] {
        let dy = y - p.y;
        if dy.abs() <= r {
            let w = (r * r - dy * dy).sqrt();
            lo = lo.min(p.x - w);
            hi = hi.max(p.x + w);
        }
    }
    // The band: points within r of the segment's interior, bounded by the two offset lines.
    let d = b - a;
    let len = d.length();
    if len > 0.0 && d.y != 0.0 {
        let n = d.perp() * (r / len);
        for off in [n, -n] {
            let (p, q) = (a + off, b + off);
            let t = (y - p.y) / (q.y - p.y);
            if (0.0..=1.0).contains(&t) {
                let x = p.x + (q.x - p.x) * t;
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
    } else if len > 0.0 && (y - a.y).abs() <= r {
        lo = lo.min(a.x.min(b.x));
        hi = hi.max(a.x.max(b.x));
    }
    (lo <= hi).then_some((lo, hi))
}

/// The stock: heights on a grid, cell centres at `origin + (i + ½, j + ½)·cell`.
#[derive(Debug, Clone)]
pub struct Heightmap {
    pub origin: V2,
    pub cell: f64,
    pub nx: usize,
    pub ny: usize,
    /// Row-major heights (f32: 0.1 µm resolution at 1 m, and half the memory of f64).
    pub z: Vec<f32>,
    pub top: f64,
    pub bottom: f64,
}

impl Heightmap {
    /// A block from `min` to `max` in XY, `bottom` to `top` in Z, with square cells.
    pub fn new(min: V2, max: V2, bottom: f64, top: f64, cell: f64) -> Self {
        let nx = (((max.x - min.x) / cell).ceil() as usize).max(1);
        let ny = (((max.y - min.y) / cell).ceil() as usize).max(1);
        Self {
            origin: min,
            cell,
            nx,
            ny,
            z: vec![top as f32; nx * ny],
            top,
            bottom,
        }
    }
    #[inline]
    pub fn centre(&self, i: usize, j: usize) -> V2 {
        V2::new(
            self.origin.x + (i as f64 + 0.5) * self.cell,
            self.origin.y + (j as f64 + 0.5) * self.cell,
        )
    }
    /// Height at a point (nearest cell); `None` outside the stock.
    pub fn at(&self, p: V2) -> Option<f64> {
        let i = ((p.x - self.origin.x) / self.cell).floor();
        let j = ((p.y - self.origin.y) / self.cell).floor();
        if i < 0.0 || j < 0.0 || i >= self.nx as f64 || j >= self.ny as f64 {
            return None;
        }
        Some(f64::from(self.z[(j as usize) * self.nx + i as usize]))
    }
    /// Height at a point's cell and that cell's centre; `None` outside the stock.
    pub fn at_cell(&self, p: V2) -> Option<(f64, V2)> {
        let i = ((p.x - self.origin.x) / self.cell).floor();
        let j = ((p.y - self.origin.y) / self.cell).floor();
        if i < 0.0 || j < 0.0 || i >= self.nx as f64 || j >= self.ny as f64 {
            return None;
        }
        let (i, j) = (i as usize, j as usize);
        Some((f64::from(self.z[j * self.nx + i]), self.centre(i, j)))
    }
    /// Cells whose centres lie in the box, as index ranges.
    fn range(&self, lo: V2, hi: V2) -> Option<(usize, usize, usize, usize)> {
        let f = |v: f64, o: f64, n: usize| ((v - o) / self.cell - 0.5).clamp(-1.0, n as f64);
        let (i0, i1) = (
            f(lo.x, self.origin.x, self.nx).ceil(),
            f(hi.x, self.origin.x, self.nx).floor(),
        );
        let (j0, j1) = (
            f(lo.y, self.origin.y, self.ny).ceil(),
            f(hi.y, self.origin.y, self.ny).floor(),
        );
        if i1 < 0.0
            || j1 < 0.0
            || i0 > i1
            || j0 > j1
            || i0 >= self.nx as f64
            || j0 >= self.ny as f64
        {
            return None;
        }
        Some((
            i0.max(0.0) as usize,
            (i1 as usize).min(self.nx - 1),
            j0.max(0.0) as usize,
            (j1 as usize).min(self.ny - 1),
        ))
    }

    /// The lowest tool bottom over the move at each covered cell, given to `visit(index,
    /// bottom)`. The move goes from `from`.
    pub fn sweep(&self, from: P3, m: &Move, tool: &CutterProfile, visit: impl FnMut(usize, f64)) {
        match m.motion {
            Motion::Rapid | Motion::Line => self.sweep_segment(from, m.to, tool, visit),
            Motion::Arc { centre, ccw } => self.sweep_arc(from, m.to, centre, ccw, tool, visit),
        }
    }

    /// [`Self::sweep`] of a straight move: per row, the cells in the capsule around it.
    fn sweep_segment(
        &self,
        from: P3,
        to: P3,
        tool: &CutterProfile,
        mut visit: impl FnMut(usize, f64),
    ) {
        let r = tool.radius;
        let (a, b) = (from.xy(), to.xy());
        let lo = V2::new(a.x.min(b.x) - r, a.y.min(b.y) - r);
        let hi = V2::new(a.x.max(b.x) + r, a.y.max(b.y) + r);
        let Some((i0, i1, j0, j1)) = self.range(lo, hi) else {
            return;
        };
        let d = b - a;
        let dd = d.dot(d);
        let (za, zb) = (from.z, to.z);
        for j in j0..=j1 {
            // Only the cells of this row inside the capsule around the segment: the
            // row's line meets the capsule in one interval, within the union of the
            // two end disks' and the band's x ranges.
            let y = self.origin.y + (j as f64 + 0.5) * self.cell;
            let Some((xl, xr)) = capsule_row(a, b, r, y) else {
                continue;
            };
            let (ci0, ci1) = self.cols(xl, xr, i0, i1);
            if tool.is_flat() && za == zb {
                // Level move of a flat tool: every cell of the span is covered at z.
                for i in ci0..=ci1 {
                    visit(j * self.nx + i, za);
                }
                continue;
            }
            for i in ci0..=ci1 {
                let c = self.centre(i, j);
                // Segment parameters where |a + t·d − c| ≤ r.
                let w = a - c;
                let (t0, t1) = if dd == 0.0 {
                    if w.dot(w) > r * r {
                        continue;
                    }
                    (0.0, 1.0)
                } else {
                    let bq = w.dot(d) / dd;
                    let cq = (w.dot(w) - r * r) / dd;
                    let disc = bq * bq - cq;
                    if disc < 0.0 {
                        continue;
                    }
                    let s = disc.sqrt();
                    let (t0, t1) = ((-bq - s).max(0.0), (-bq + s).min(1.0));
                    if t0 > t1 {
                        continue;
                    }
                    (t0, t1)
                };
                let z_at = |t: f64| za + (zb - za) * t;
                let bottom = if tool.is_flat() {
                    z_at(t0).min(z_at(t1))
                } else {
                    let mut best = f64::INFINITY;
                    let n = 8;
                    for k in 0..=n {
                        let t = t0 + (t1 - t0) * f64::from(k) / f64::from(n);
                        let dist = (w + d * t).length();
                        best = best.min(z_at(t) + tool.height(dist.min(r)));
                    }
                    // The closest approach too (smallest profile height).
                    let tc = (-w.dot(d) / dd.max(f64::MIN_POSITIVE)).clamp(t0, t1);
                    best.min(z_at(tc) + tool.height((w + d * tc).length().min(r)))
                };
                visit(j * self.nx + i, bottom);
            }
        }
    }

    /// [`Self::sweep`] of an arc (a helix when Z changes): per row, the cells of the annulus
    /// the tool sweeps, and of those the ones within reach of the arc's angles.
    fn sweep_arc(
        &self,
        from: P3,
        to: P3,
        centre: V2,
        ccw: bool,
        tool: &CutterProfile,
        mut visit: impl FnMut(usize, f64),
    ) {
        let r = tool.radius;
        let (a, b) = (from.xy(), to.xy());
        let rad = a.dist(centre);
        let sweep = arc_sweep(a, b, centre, ccw);
        let a0 = (a - centre).angle();
        // The arc's own box, grown by the tool radius: a short piece of a large circle must not
        // scan the circle.
        let (lo, hi) = arc_box(a, b, centre, sweep);
        let lo = V2::new(lo.x - r, lo.y - r);
        let hi = V2::new(hi.x + r, hi.y + r);
        let Some((i0, i1, j0, j1)) = self.range(lo, hi) else {
            return;
        };
        let (za, zb) = (from.z, to.z);
        let (ro, ri) = (rad + r, (rad - r).max(0.0));
        let level_flat = tool.is_flat() && za == zb;
        let (sa, sb) = (a - centre, b - centre);
        let s_dir = sweep.signum();
        let long_way = sweep.abs() > std::f64::consts::PI;
        for j in j0..=j1 {
            // The annulus meets this row in up to two x intervals.
            let y = self.origin.y + (j as f64 + 0.5) * self.cell;
            let dy = y - centre.y;
            if dy.abs() > ro {
                continue;
            }
            let xo = (ro * ro - dy * dy).sqrt();
            let spans: [(f64, f64); 2] = if dy.abs() < ri {
                let xi = (ri * ri - dy * dy).sqrt();
                [
                    (centre.x - xo, centre.x - xi),
                    (centre.x + xi, centre.x + xo),
                ]
            } else {
                [(centre.x - xo, centre.x + xo), (1.0, 0.0)]
            };
            for (xl, xr) in spans {
                if xl > xr {
                    continue;
                }
                let (ci0, ci1) = self.cols(xl, xr, i0, i1);
                if level_flat {
                    // Level arc of a flat tool: a cell of the annulus is covered when it
                    // lies in the arc's wedge or within r of an end (no angles needed).
                    for i in ci0..=ci1 {
                        let c = self.centre(i, j);
                        let v = c - centre;
                        let in_wedge = if long_way {
                            s_dir * sa.cross(v) >= 0.0 || s_dir * v.cross(sb) >= 0.0
                        } else {
                            s_dir * sa.cross(v) >= 0.0 && s_dir * v.cross(sb) >= 0.0
                        };
                        if in_wedge || (c - a).dot(c - a) <= r * r || (c - b).dot(c - b) <= r * r {
                            let dc = v.length();
                            if dc <= rad + r && dc >= rad - r {
                                visit(j * self.nx + i, za);
                            }
                        }
                    }
                    continue;
                }
                for i in ci0..=ci1 {
                    let c = self.centre(i, j);
                    let v = c - centre;
                    let dc = v.length();
                    // Cell outside the swept annulus.
                    if dc > rad + r || dc < rad - r {
                        continue;
                    }
                    // Angles θ on the circle within r of the cell: |θ − φ| ≤ α.
                    let phi = v.angle();
                    let cos_a = if dc == 0.0 || rad == 0.0 {
                        -1.0
                    } else {
                        ((dc * dc + rad * rad - r * r) / (2.0 * rad * dc)).clamp(-1.0, 1.0)
                    };
                    let alpha = cos_a.acos();
                    // Relative position of φ along the sweep, in [0, 2π).
                    let s = sweep.signum();
                    let rel = ((phi - a0) * s).rem_euclid(std::f64::consts::TAU);
                    let len = sweep.abs();
                    // Interval [rel − α, rel + α] intersected with [0, len], also shifted by
                    // ±2π.
                    let mut best = f64::INFINITY;
                    for shift in [-std::f64::consts::TAU, 0.0, std::f64::consts::TAU] {
                        let (u0, u1) = (
                            (rel + shift - alpha).max(0.0),
                            (rel + shift + alpha).min(len),
                        );
                        if u0 > u1 {
                            continue;
                        }
                        let z_at = |u: f64| za + (zb - za) * (u / len);
                        if tool.is_flat() {
                            best = best.min(z_at(u0).min(z_at(u1)));
                        } else {
                            let n = 8;
                            for k in 0..=n {
                                let u = u0 + (u1 - u0) * f64::from(k) / f64::from(n);
                                let p = centre + V2::from_angle(a0 + s * u) * rad;
                                best = best.min(z_at(u) + tool.height(p.dist(c).min(r)));
                            }
                            let uc = (rel + shift).clamp(u0, u1);
                            let p = centre + V2::from_angle(a0 + s * uc) * rad;
                            best = best.min(z_at(uc) + tool.height(p.dist(c).min(r)));
                        }
                    }
                    if best.is_finite() {
                        visit(j * self.nx + i, best);
                    }
                }
            }
        }
    }

    /// Column range of cell centres within [xl, xr], clipped to [i0, i1] (empty: i0 > i1
    /// returns an empty range through the loop bounds).
    fn cols(&self, xl: f64, xr: f64, i0: usize, i1: usize) -> (usize, usize) {
        let a = ((xl - self.origin.x) / self.cell - 0.5)
            .ceil()
            .max(i0 as f64);
        let b = ((xr - self.origin.x) / self.cell - 0.5)
            .floor()
            .min(i1 as f64);
        if b < a {
            (1, 0)
        } else {
            (a as usize, b as usize)
        }
    }

    /// Cuts the stock with one move; returns the removed volume (mm³).
    pub fn cut(&mut self, from: P3, m: &Move, tool: &CutterProfile) -> f64 {
        let area = self.cell * self.cell;
        let bottom = self.bottom;
        let mut removed = 0.0;
        // The sweep reads only the grid's geometry: lend it the heights for the update.
        let mut heights = std::mem::take(&mut self.z);
        self.sweep(from, m, tool, |k, z| {
            let cur = f64::from(heights[k]);
            let z = z.max(bottom);
            if z < cur {
                removed += (cur - z) * area;
                heights[k] = z as f32;
            }
        });
        self.z = heights;
        removed
    }

    /// The cut stock's top surface as a triangle mesh for the viewport, one vertex every `step`
    /// cells (1 for full resolution), with walls down to the bottom at the edges.
    pub fn to_mesh(&self, step: usize) -> crate::geometry::mesh::Mesh {
        let step = step.max(1);
        let xs: Vec<usize> = (0..self.nx)
            .step_by(step)
            .chain(std::iter::once(self.nx - 1))
            .collect();
        let ys: Vec<usize> = (0..self.ny)
            .step_by(step)
            .chain(std::iter::once(self.ny - 1))
            .collect();
        let mut xs = xs;
        xs.dedup();
        let mut ys = ys;
        ys.dedup();
        let (w, h) = (xs.len(), ys.len());
        let mut vertices = Vec::with_capacity(w * h + 2 * (w + h));
        for &j in &ys {
            for &i in &xs {
                let c = self.centre(i, j);
                vertices.push([c.x, c.y, f64::from(self.z[j * self.nx + i])]);
            }
        }
        let mut triangles = Vec::with_capacity(2 * w * h + 4 * (w + h));
        let id = |a: usize, b: usize| (b * w + a) as u32;
        // Where all three corners are at the bottom there is no material (cut through, or off
        // a round bar): nothing is drawn there.
        let floor = |v: u32| vertices[v as usize][2] <= self.bottom + 1e-9;
        for b in 0..h - 1 {
            for a in 0..w - 1 {
                let quad = [id(a, b), id(a + 1, b), id(a + 1, b + 1), id(a, b + 1)];
                for t in [[quad[0], quad[1], quad[2]], [quad[0], quad[2], quad[3]]] {
                    if !t.iter().all(|&v| floor(v)) {
                        triangles.push(t);
                    }
                }
            }
        }
        // Walls: the border vertices again at the bottom.
        let border: Vec<u32> = (0..w)
            .map(|a| id(a, 0))
            .chain((1..h).map(|b| id(w - 1, b)))
            .chain((0..w - 1).rev().map(|a| id(a, h - 1)))
            .chain((1..h - 1).rev().map(|b| id(0, b)))
            .collect();
        let base = vertices.len() as u32;
        for &v in &border {
            let p = vertices[v as usize];
            vertices.push([p[0], p[1], self.bottom]);
        }
        let n = border.len() as u32;
        for k in 0..n {
            let (t0, t1) = (border[k as usize], border[((k + 1) % n) as usize]);
            let (b0, b1) = (base + k, base + (k + 1) % n);
            triangles.push([t0, b0, b1]);
            triangles.push([t0, b1, t1]);
        }
        crate::geometry::mesh::Mesh {
            vertices,
            triangles,
        }
    }

    /// Volume of material left, mm³.
    pub fn volume(&self) -> f64 {
        let area = self.cell * self.cell;
        self.z
            .iter()
            .map(|&z| (f64::from(z) - self.bottom).max(0.0) * area)
            .sum()
    }
}

/// The box of an arc from `a` to `b` about `centre` of `sweep` radians: its ends and the
/// quadrant points it passes.
fn arc_box(a: V2, b: V2, centre: V2, sweep: f64) -> (V2, V2) {
    let (mut lo, mut hi) = (
        V2::new(a.x.min(b.x), a.y.min(b.y)),
        V2::new(a.x.max(b.x), a.y.max(b.y)),
    );
    for q in crate::geometry::bulge::arc_extremes(a, b, centre, sweep > 0.0) {
        lo = V2::new(lo.x.min(q.x), lo.y.min(q.y));
        hi = V2::new(hi.x.max(q.x), hi.y.max(q.y));
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolpath::MoveClass;

    fn line(to: P3) -> Move {
        Move {
            motion: Motion::Line,
            class: MoveClass::Cut,
            to,
            feed_mm_per_min: 100.0,
        }
    }

    #[test]
    fn a_flat_slot_removes_its_volume() {
        let mut h = Heightmap::new(V2::new(0.0, -1.0), V2::new(10.0, 1.0), -1.0, 0.0, 0.01);
        let t = CutterProfile::flat(0.5);
        let v = h.cut(P3::new(2.0, 0.0, -0.2), &line(P3::new(8.0, 0.0, -0.2)), &t);
        let exact = (6.0 * 1.0 + std::f64::consts::PI * 0.25) * 0.2;
        assert!((v - exact).abs() < 0.005 * exact, "{v} vs {exact}");
        assert!((h.at(V2::new(5.0, 0.0)).unwrap() + 0.2).abs() < 1e-6);
        let m = h.to_mesh(4);
        assert!(m.triangles.len() > 1000);
        let (lo, hi) = m.bounds().unwrap();
        assert!((lo[2] + 1.0).abs() < 1e-9 && hi[2].abs() < 1e-6);
        assert!((h.at(V2::new(5.0, 0.6)).unwrap()).abs() < 1e-6);
    }

    #[test]
    fn arcs_and_helices_sweep_an_annulus() {
        let mut h = Heightmap::new(V2::new(-3.0, -3.0), V2::new(3.0, 3.0), -1.0, 0.0, 0.01);
        let t = CutterProfile::flat(0.25);
        let half = |to: P3| Move {
            motion: Motion::Arc {
                centre: V2::default(),
                ccw: true,
            },
            class: MoveClass::Cut,
            to,
            feed_mm_per_min: 100.0,
        };
        let mut v = h.cut(P3::new(2.0, 0.0, -0.1), &half(P3::new(-2.0, 0.0, -0.1)), &t);
        v += h.cut(P3::new(-2.0, 0.0, -0.1), &half(P3::new(2.0, 0.0, -0.1)), &t);
        let exact = std::f64::consts::PI * (2.25f64.powi(2) - 1.75f64.powi(2)) * 0.1;
        assert!((v - exact).abs() < 0.005 * exact, "{v} vs {exact}");
        // A ball leaves a groove whose depth falls off with the distance.
        let mut h = Heightmap::new(V2::new(0.0, -1.0), V2::new(4.0, 1.0), -1.0, 0.0, 0.005);
        let ball = CutterProfile {
            radius: 0.5,
            kind: Kind::Bull(0.5),
        };
        h.cut(
            P3::new(1.0, 0.0, -0.3),
            &line(P3::new(3.0, 0.0, -0.3)),
            &ball,
        );
        let z = h.at(V2::new(2.0, 0.3)).unwrap();
        let want = -0.3 + 0.5 - (0.25f64 - 0.09).sqrt();
        assert!((z - want).abs() < 0.005, "{z} vs {want}");
    }
}
