//! The exact drop-cutter: the lowest height at which a tool above a point touches a mesh.
//!
//! For each triangle near the point, the tool's tip must stay above three kinds of bound (see
//! `shape`): each vertex, the facet's plane where the contact point lies inside the
//! triangle, and each edge where the contact lies between its ends. The largest bound is the
//! answer. Written by hand: no maintained Rust crate computes drop-cutter contacts, and
//! OpenCAMLib (C++) is the peer this engine is measured against.
//!
//! The triangles sit in a uniform grid over their plan boxes, its cells about a tool radius
//! across; each cell lists its triangles highest first, so a query stops reading a cell at
//! the first triangle whose top is below the best bound found so far. A triangle spanning
//! several cells is tested once per query (in the first cell that both cover). Queries take
//! `&self` and allocate nothing: they run in parallel across passes with rayon.

use rayon::prelude::*;

use super::shape::CutterShape;
use crate::geometry::mesh::Mesh;

mod push;
pub use push::PushScratch;

/// One triangle with what the tests need, stored together for cache-friendly scans.
#[derive(Debug, Clone, Copy)]
struct Tri {
    v: [[f64; 3]; 3],
    lo: [f64; 2],
    hi: [f64; 2],
    zmax: f64,
    /// `z = a·x + b·y + c` through the triangle; `None` for a vertical facet.
    plane: Option<[f64; 3]>,
    /// Where the tool touches the facet's plane, from its axis (the profile is fixed, so
    /// this is the same for every query), and the profile's height there.
    facet_offset: [f64; 2],
    facet_h: f64,
    /// A bound on the rounding of the plane's height near the triangle.
    plane_err: f64,
    /// The grid cells its plan box covers: x0, y0, x1, y1.
    cells: [u32; 4],
    /// Which of its vertices (bits 0–2) and edges (bits 3–5, edge k from vertex k to k + 1)
    /// this triangle tests: each shared vertex and edge belongs to one of its triangles,
    /// which is never skipped while the vertex or edge could raise the answer.
    own: u8,
}

/// A cell's entry: what a scan needs to skip a triangle without reading it.
#[derive(Debug, Clone, Copy)]
struct Item {
    zmax: f64,
    lo: [f64; 2],
    hi: [f64; 2],
    tri: u32,
}

/// A mesh indexed for drop-cutter queries with one tool profile.
#[derive(Debug, Clone)]
pub struct DropCutter {
    shape: CutterShape,
    tris: Vec<Tri>,
    origin: [f64; 2],
    cell: f64,
    nx: usize,
    ny: usize,
    /// Cell `k`'s triangles are `items[start[k]..start[k + 1]]`, highest first.
    start: Vec<u32>,
    items: Vec<Item>,
    /// The highest point listed in each cell (−∞ when empty), and the plan box of its
    /// triangles (which reach beyond the cell): a cell is skipped only when none of its
    /// triangles can hold the tool higher, so skipping never loses a triangle whose one test
    /// falls to that cell.
    cell_top: Vec<f64>,
    cell_box: Vec<[f64; 4]>,
    lo: [f64; 3],
    hi: [f64; 3],
    /// `h_floor[i]` = the profile's height at radius² = i/1024 of the radius²: a lower bound
    /// for the height anywhere beyond, found without a square root.
    h_floor: [f64; H_STEPS + 1],
}

const H_STEPS: usize = 1024;

impl DropCutter {
    /// Indexes `mesh` for `shape`.
    pub fn new(mesh: &Mesh, shape: CutterShape) -> Self {
        let mut tris = Vec::with_capacity(mesh.triangles.len());
        let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
        let mut vertex_owned = vec![false; mesh.vertices.len()];
        let mut edge_owned = std::collections::HashSet::with_capacity(mesh.triangles.len() * 2);
        for t in &mesh.triangles {
            if t.iter().any(|&i| i as usize >= mesh.vertices.len()) {
                continue;
            }
            let v = t.map(|i| mesh.vertices[i as usize]);
            if v.iter().flatten().any(|c| !c.is_finite()) {
                continue;
            }
            let mut own = 0u8;
            for k in 0..3 {
                if !std::mem::replace(&mut vertex_owned[t[k] as usize], true) {
                    own |= 1 << k;
                }
                let (a, b) = (t[k], t[(k + 1) % 3]);
                if edge_owned.insert((a.min(b), a.max(b))) {
                    own |= 8 << k;
                }
            }
            let plane = plane_of(&v);
            let (facet_offset, facet_h) = match plane {
                Some([a, b, _]) => {
                    let s = (a * a + b * b).sqrt();
                    let d = shape.facet_radius(s);
                    let off = if s > 0.0 {
                        [d * a / s, d * b / s]
                    } else {
                        [0.0; 2]
                    };
                    (off, shape.height(d))
                }
                None => ([0.0; 2], 0.0),
            };
            let plane_err = match plane {
                Some([a, b, c]) => {
                    let far = |k: usize| {
                        v.iter().map(|p| p[k].abs()).fold(0.0, f64::max) + shape.radius()
                    };
                    64.0 * f64::EPSILON
                        * (a.abs() * far(0) + b.abs() * far(1) + c.abs() + facet_h + 1.0)
                }
                None => 0.0,
            };
            for p in &v {
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
            tris.push(Tri {
                v,
                lo: [
                    v[0][0].min(v[1][0]).min(v[2][0]),
                    v[0][1].min(v[1][1]).min(v[2][1]),
                ],
                hi: [
                    v[0][0].max(v[1][0]).max(v[2][0]),
                    v[0][1].max(v[1][1]).max(v[2][1]),
                ],
                zmax: v[0][2].max(v[1][2]).max(v[2][2]),
                plane,
                facet_offset,
                facet_h,
                plane_err,
                cells: [0; 4],
                own,
            });
        }
        let r = shape.radius();
        if tris.is_empty() {
            return Self {
                shape,
                tris,
                origin: [0.0; 2],
                cell: 1.0,
                nx: 1,
                ny: 1,
                start: vec![0, 0],
                items: Vec::new(),
                cell_top: vec![f64::NEG_INFINITY],
                cell_box: vec![[0.0; 4]],
                lo: [0.0; 3],
                hi: [0.0; 3],
                h_floor: [0.0; H_STEPS + 1],
            };
        }
        let (w, h) = ((hi[0] - lo[0]).max(r), (hi[1] - lo[1]).max(r));
        // About a tool radius, but no more cells than a few per triangle (a box of twelve
        // triangles under a 0.1 mm tool needs no million cells).
        let max_cells = (4 * tris.len() + 1024) as f64;
        let cell = (r * 0.5)
            .max((w * h / max_cells).sqrt())
            .max(w.max(h) * 2e-6);
        let nx = ((w / cell).floor() as usize + 1).min(1 << 20);
        let ny = ((h / cell).floor() as usize + 1).min(1 << 20);
        let origin = [lo[0], lo[1]];
        let ix = |x: f64| (((x - origin[0]) / cell).floor().max(0.0) as usize).min(nx - 1) as u32;
        let iy = |y: f64| (((y - origin[1]) / cell).floor().max(0.0) as usize).min(ny - 1) as u32;
        let mut count = vec![0u32; nx * ny + 1];
        for t in &mut tris {
            t.cells = [ix(t.lo[0]), iy(t.lo[1]), ix(t.hi[0]), iy(t.hi[1])];
            for y in t.cells[1]..=t.cells[3] {
                for x in t.cells[0]..=t.cells[2] {
                    count[y as usize * nx + x as usize + 1] += 1;
                }
            }
        }
        for k in 1..count.len() {
            count[k] += count[k - 1];
        }
        let start = count.clone();
        let blank = Item {
            zmax: 0.0,
            lo: [0.0; 2],
            hi: [0.0; 2],
            tri: 0,
        };
        let mut items = vec![blank; start[nx * ny] as usize];
        let mut fill = count;
        for (i, t) in tris.iter().enumerate() {
            for y in t.cells[1]..=t.cells[3] {
                for x in t.cells[0]..=t.cells[2] {
                    let k = y as usize * nx + x as usize;
                    items[fill[k] as usize] = Item {
                        zmax: t.zmax,
                        lo: t.lo,
                        hi: t.hi,
                        tri: i as u32,
                    };
                    fill[k] += 1;
                }
            }
        }
        for k in 0..nx * ny {
            items[start[k] as usize..start[k + 1] as usize]
                .sort_by(|a, b| b.zmax.total_cmp(&a.zmax).then(a.tri.cmp(&b.tri)));
        }
        let cell_top = (0..nx * ny)
            .map(|k| {
                items[start[k] as usize..start[k + 1] as usize]
                    .first()
                    .map_or(f64::NEG_INFINITY, |it| it.zmax)
            })
            .collect();
        let cell_box = (0..nx * ny)
            .map(|k| {
                items[start[k] as usize..start[k + 1] as usize].iter().fold(
                    [
                        f64::INFINITY,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        f64::NEG_INFINITY,
                    ],
                    |b, it| {
                        [
                            b[0].min(it.lo[0]),
                            b[1].min(it.lo[1]),
                            b[2].max(it.hi[0]),
                            b[3].max(it.hi[1]),
                        ]
                    },
                )
            })
            .collect();
        let h_floor = std::array::from_fn(|i| {
            shape.height((r * r * i as f64 / H_STEPS as f64).sqrt().min(r)) * (1.0 - 1e-12)
        });
        Self {
            shape,
            tris,
            origin,
            cell,
            nx,
            ny,
            start,
            items,
            cell_top,
            cell_box,
            lo,
            hi,
            h_floor,
        }
    }

    /// The mesh's bounds, mm (zero for an empty mesh).
    pub fn bounds(&self) -> ([f64; 3], [f64; 3]) {
        (self.lo, self.hi)
    }

    /// The tool's profile.
    pub fn shape(&self) -> &CutterShape {
        &self.shape
    }

    /// Triangles indexed.
    pub fn triangles(&self) -> usize {
        self.tris.len()
    }

    /// The lowest tip height above (`x`, `y`) at which the tool touches no triangle, or
    /// `floor` where that is higher (nothing under the tool).
    pub fn drop(&self, x: f64, y: f64, floor: f64) -> f64 {
        let r = self.shape.radius();
        let mut best = floor;
        if self.tris.is_empty()
            || x + r < self.lo[0]
            || x - r > self.hi[0]
            || y + r < self.lo[1]
            || y - r > self.hi[1]
            || self.hi[2] <= best
        {
            return best;
        }
        let cx = |v: f64| {
            (((v - self.origin[0]) / self.cell).floor().max(0.0) as usize).min(self.nx - 1) as u32
        };
        let cy = |v: f64| {
            (((v - self.origin[1]) / self.cell).floor().max(0.0) as usize).min(self.ny - 1) as u32
        };
        let q = [cx(x - r), cy(y - r), cx(x + r), cy(y + r)];
        // The cell under the tool first: its triangles usually hold the contact, and a high
        // bound early lets the other cells stop sooner.
        let (hx, hy) = (cx(x), cy(y));
        self.scan_cell(hx, hy, q, x, y, &mut best);
        for gy in q[1]..=q[3] {
            for gx in q[0]..=q[2] {
                if (gx, gy) != (hx, hy) {
                    self.scan_cell(gx, gy, q, x, y, &mut best);
                }
            }
        }
        best
    }

    #[inline]
    fn scan_cell(&self, gx: u32, gy: u32, q: [u32; 4], x: f64, y: f64, best: &mut f64) {
        let r = self.shape.radius();
        let r2 = r * r;
        let steps = H_STEPS as f64 / r2;
        let k = gy as usize * self.nx + gx as usize;
        // The whole cell: its top less the profile's height at its triangles' nearest point.
        let top = self.cell_top[k];
        if top <= *best {
            return;
        }
        let b = &self.cell_box[k];
        let dx = (b[0] - x).max(x - b[2]).max(0.0);
        let dy = (b[1] - y).max(y - b[3]).max(0.0);
        let d2 = dx * dx + dy * dy;
        if d2 > r2 || top - self.h_floor[(d2 * steps) as usize] <= *best {
            return;
        }
        for it in &self.items[self.start[k] as usize..self.start[k + 1] as usize] {
            if it.zmax <= *best {
                break;
            }
            let dx = (it.lo[0] - x).max(x - it.hi[0]).max(0.0);
            let dy = (it.lo[1] - y).max(y - it.hi[1]).max(0.0);
            let d2 = dx * dx + dy * dy;
            if d2 > r2 || it.zmax - self.h_floor[(d2 * steps) as usize] <= *best {
                continue;
            }
            let t = &self.tris[it.tri as usize];
            // Once per query: in the first cell both the triangle and the query cover.
            if gx != t.cells[0].max(q[0]) || gy != t.cells[1].max(q[1]) {
                continue;
            }
            self.test(t, t.own, x, y, best);
        }
    }

    /// [`DropCutter::drop`] without the index: every triangle tested (for tests).
    pub fn drop_brute(&self, x: f64, y: f64, floor: f64) -> f64 {
        let mut best = floor;
        for t in &self.tris {
            self.test(t, t.own, x, y, &mut best);
        }
        best
    }

    /// Drops at many points in parallel (the result does not depend on the thread count).
    pub fn drop_many(&self, pts: &[[f64; 2]], floor: f64) -> Vec<f64> {
        pts.par_iter()
            .with_min_len(256)
            .map(|p| self.drop(p[0], p[1], floor))
            .collect()
    }

    /// Raises `best` to the bound of triangle `t`'s facet and of the vertices and edges that
    /// `own` names (bits as in [`Tri::own`]).
    #[inline]
    fn test(&self, t: &Tri, own: u8, x: f64, y: f64, best: &mut f64) {
        let r = self.shape.radius();
        let r2 = r * r;
        let dx = (t.lo[0] - x).max(x - t.hi[0]).max(0.0);
        let dy = (t.lo[1] - y).max(y - t.hi[1]).max(0.0);
        if dx * dx + dy * dy > r2 {
            return;
        }
        // The facet. Where the tool touches its plane is as high as any point of the
        // triangle can hold the tool: when that is no higher than the best, nothing of this
        // triangle is.
        if let Some([a, b, c]) = t.plane {
            let (qx, qy) = (x + t.facet_offset[0], y + t.facet_offset[1]);
            let z = a * qx + b * qy + c - t.facet_h;
            if z + t.plane_err <= *best {
                return;
            }
            if inside(&t.v, qx, qy) {
                *best = z;
                return;
            }
        }
        // Vertices.
        for (k, v) in t.v.iter().enumerate() {
            if own & (1 << k) == 0 || v[2] <= *best {
                continue;
            }
            let d2 = (v[0] - x) * (v[0] - x) + (v[1] - y) * (v[1] - y);
            if d2 <= r2 {
                let z = v[2] - self.shape.height_sq(d2);
                if z > *best {
                    *best = z;
                }
            }
        }
        // Edges.
        for (k, (p, q)) in [(0, 1), (1, 2), (2, 0)].into_iter().enumerate() {
            if own & (8 << k) != 0 {
                self.edge(&t.v[p], &t.v[q], x, y, best);
            }
        }
    }

    #[inline]
    fn edge(&self, a: &[f64; 3], b: &[f64; 3], x: f64, y: f64, best: &mut f64) {
        if a[2].max(b[2]) <= *best {
            return;
        }
        let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
        let l2 = ux * ux + uy * uy;
        let r = self.shape.radius();
        if l2 <= r * r * 1e-24 {
            // Vertical in plan: its ends are the vertices.
            return;
        }
        let (wx, wy) = (x - a[0], y - a[1]);
        let cross = wx * uy - wy * ux;
        let e2 = cross * cross / l2;
        if e2 >= r * r {
            return;
        }
        // No point of the edge comes nearer the axis than e.
        let steps = H_STEPS as f64 / (r * r);
        if a[2].max(b[2]) - self.h_floor[(e2 * steps) as usize] <= *best {
            return;
        }
        let l = l2.sqrt();
        let s0 = (wx * ux + wy * uy) / l;
        let e = e2.sqrt();
        let m = (b[2] - a[2]) / l;
        let (s, h) = self.shape.edge_contact(e, m.abs());
        let s = s.copysign(m);
        let sigma = s0 + s;
        if !(0.0..=l).contains(&sigma) {
            return;
        }
        // From the nearer end, for precision.
        let z_edge = if sigma <= 0.5 * l {
            a[2] + m * sigma
        } else {
            b[2] - m * (l - sigma)
        };
        let z = z_edge - h;
        if z > *best {
            *best = z;
        }
    }
}

/// The plane through a triangle as `z = a·x + b·y + c`, or `None` when it stands vertical (or
/// the triangle has no area).
fn plane_of(v: &[[f64; 3]; 3]) -> Option<[f64; 3]> {
    let u = [v[1][0] - v[0][0], v[1][1] - v[0][1], v[1][2] - v[0][2]];
    let w = [v[2][0] - v[0][0], v[2][1] - v[0][1], v[2][2] - v[0][2]];
    let n = [
        u[1] * w[2] - u[2] * w[1],
        u[2] * w[0] - u[0] * w[2],
        u[0] * w[1] - u[1] * w[0],
    ];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if len.is_nan() || len <= 0.0 || n[2].abs() <= len * 1e-12 {
        return None;
    }
    let (a, b) = (-n[0] / n[2], -n[1] / n[2]);
    Some([a, b, v[0][2] - a * v[0][0] - b * v[0][1]])
}

/// Whether (`x`, `y`) lies in the triangle's plan (edges included).
#[inline]
fn inside(v: &[[f64; 3]; 3], x: f64, y: f64) -> bool {
    let side = |a: &[f64; 3], b: &[f64; 3]| (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    let (s0, s1, s2) = (side(&v[0], &v[1]), side(&v[1], &v[2]), side(&v[2], &v[0]));
    (s0 >= 0.0 && s1 >= 0.0 && s2 >= 0.0) || (s0 <= 0.0 && s1 <= 0.0 && s2 <= 0.0)
}
