//! Parts made in code, for benchmarks and tests: the same geometry everywhere it is measured.

use cavalier_contours::polyline::PlineSourceMut;

use crate::geometry::{Pline, Region};

fn circle(cx: f64, cy: f64, r: f64, ccw: bool) -> Pline {
    let b = if ccw { 1.0 } else { -1.0 };
    let mut p = Pline::new_closed();
    p.add(cx + r, cy, b);
    p.add(cx - r, cy, b);
    p
}

/// The budget part of DESIGN.md: a 20 × 15 mm pocket with 1 mm corner radii and two islands of
/// 3 mm diameter.
pub fn pocket_20x15_two_islands() -> Region {
    let (w, h, r) = (20.0, 15.0, 1.0);
    let b = (std::f64::consts::FRAC_PI_2 / 4.0).tan();
    let mut o = Pline::new_closed();
    o.add(r, 0.0, 0.0);
    o.add(w - r, 0.0, b);
    o.add(w, r, 0.0);
    o.add(w, h - r, b);
    o.add(w - r, h, 0.0);
    o.add(r, h, b);
    o.add(0.0, h - r, 0.0);
    o.add(0.0, r, b);
    Region {
        outer: o,
        islands: vec![circle(6.0, 7.5, 1.5, false), circle(14.0, 7.5, 1.5, false)],
    }
}

use crate::geometry::mesh::Mesh;

/// A closed box mesh from `lo` to `hi`, outward normals.
pub fn box_mesh(lo: [f64; 3], hi: [f64; 3]) -> Mesh {
    let v = |x: usize, y: usize, z: usize| {
        [
            if x == 0 { lo[0] } else { hi[0] },
            if y == 0 { lo[1] } else { hi[1] },
            if z == 0 { lo[2] } else { hi[2] },
        ]
    };
    let mut vertices = Vec::new();
    for z in 0..2 {
        for y in 0..2 {
            for x in 0..2 {
                vertices.push(v(x, y, z));
            }
        }
    }
    // Index = x + 2y + 4z.
    let quads = [
        [0, 2, 3, 1], // bottom (z = lo), normal −z
        [4, 5, 7, 6], // top, +z
        [0, 1, 5, 4], // y = lo, −y
        [2, 6, 7, 3], // y = hi, +y
        [0, 4, 6, 2], // x = lo, −x
        [1, 3, 7, 5], // x = hi, +x
    ];
    let mut triangles = Vec::new();
    for q in quads {
        triangles.push([q[0], q[1], q[2]]);
        triangles.push([q[0], q[2], q[3]]);
    }
    Mesh {
        vertices,
        triangles,
    }
}

/// A closed cylinder about the Z axis through (`cx`, `cy`), radius `r`, from `z0` to `z1`, with
/// `n` sides.
pub fn cylinder_mesh(cx: f64, cy: f64, r: f64, z0: f64, z1: f64, n: usize) -> Mesh {
    let mut vertices = Vec::with_capacity(2 * n + 2);
    for z in [z0, z1] {
        for i in 0..n {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            vertices.push([cx + r * a.cos(), cy + r * a.sin(), z]);
        }
    }
    vertices.push([cx, cy, z0]);
    vertices.push([cx, cy, z1]);
    let (cb, ct) = ((2 * n) as u32, (2 * n + 1) as u32);
    let n32 = n as u32;
    let mut triangles = Vec::with_capacity(4 * n);
    for i in 0..n32 {
        let j = (i + 1) % n32;
        triangles.push([i, j, n32 + j]);
        triangles.push([i, n32 + j, n32 + i]);
        triangles.push([cb, j, i]);
        triangles.push([ct, n32 + i, n32 + j]);
    }
    Mesh {
        vertices,
        triangles,
    }
}

/// A closed UV sphere of radius `r` at `c` with `n` segments around and `n/2` rings.
pub fn sphere_mesh(c: [f64; 3], r: f64, n: usize) -> Mesh {
    let rings = (n / 2).max(2);
    let mut vertices = vec![[c[0], c[1], c[2] - r], [c[0], c[1], c[2] + r]];
    for k in 1..rings {
        let phi = std::f64::consts::PI * k as f64 / rings as f64 - std::f64::consts::FRAC_PI_2;
        for i in 0..n {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            vertices.push([
                c[0] + r * phi.cos() * a.cos(),
                c[1] + r * phi.cos() * a.sin(),
                c[2] + r * phi.sin(),
            ]);
        }
    }
    let idx = |k: usize, i: usize| (2 + (k - 1) * n + i % n) as u32;
    let mut triangles = Vec::new();
    for i in 0..n {
        triangles.push([0, idx(1, i + 1), idx(1, i)]);
        triangles.push([1, idx(rings - 1, i), idx(rings - 1, i + 1)]);
        for k in 1..rings - 1 {
            triangles.push([idx(k, i), idx(k, i + 1), idx(k + 1, i + 1)]);
            triangles.push([idx(k, i), idx(k + 1, i + 1), idx(k + 1, i)]);
        }
    }
    Mesh {
        vertices,
        triangles,
    }
}

/// A closed solid of revolution about the vertical axis through `c`: the closed `profile` of
/// (radius, z) points (counter-clockwise, radii above zero, so the solid has a hole along the
/// axis) swept around in `n` steps, facets facing out.
pub fn revolved_mesh(c: [f64; 2], profile: &[[f64; 2]], n: usize) -> Mesh {
    let k = profile.len();
    let mut vertices = Vec::with_capacity(k * n);
    for j in 0..n {
        let a = std::f64::consts::TAU * j as f64 / n as f64;
        for &[r, z] in profile {
            vertices.push([c[0] + r * a.cos(), c[1] + r * a.sin(), z]);
        }
    }
    let at = |i: usize, j: usize| ((j % n) * k + i % k) as u32;
    let mut triangles = Vec::with_capacity(2 * k * n);
    for j in 0..n {
        for i in 0..k {
            let (a, b, c, d) = (at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j));
            triangles.push([a, b, c]);
            triangles.push([a, c, d]);
        }
    }
    Mesh {
        vertices,
        triangles,
    }
}

/// Several meshes as one (bodies side by side).
pub fn merge_meshes(parts: &[Mesh]) -> Mesh {
    let mut m = Mesh::default();
    for p in parts {
        let base = m.vertices.len() as u32;
        m.vertices.extend_from_slice(&p.vertices);
        m.triangles.extend(
            p.triangles
                .iter()
                .map(|t| [t[0] + base, t[1] + base, t[2] + base]),
        );
    }
    m
}

/// A closed solid whose top is the height field `top(x, y)` over the rectangle `lo`..`hi`
/// (sampled on an `nx` × `ny` grid, two triangles a cell), with vertical sides down to a flat
/// bottom at `z0`: a relief, a mold core, a free-form face.
pub fn heightfield_mesh(
    lo: [f64; 2],
    hi: [f64; 2],
    nx: usize,
    ny: usize,
    z0: f64,
    top: impl Fn(f64, f64) -> f64,
) -> Mesh {
    let (nx, ny) = (nx.max(1), ny.max(1));
    let at = |i: usize, j: usize| {
        let x = lo[0] + (hi[0] - lo[0]) * i as f64 / nx as f64;
        let y = lo[1] + (hi[1] - lo[1]) * j as f64 / ny as f64;
        (x, y)
    };
    let mut vertices = Vec::with_capacity(2 * (nx + 1) * (ny + 1));
    // Top grid, then bottom grid (the bottom is flat, but the same grid keeps the side walls'
    // edges shared with the top's).
    for j in 0..=ny {
        for i in 0..=nx {
            let (x, y) = at(i, j);
            vertices.push([x, y, top(x, y).max(z0)]);
        }
    }
    for j in 0..=ny {
        for i in 0..=nx {
            let (x, y) = at(i, j);
            vertices.push([x, y, z0]);
        }
    }
    let t = |i: usize, j: usize| (j * (nx + 1) + i) as u32;
    let b = |i: usize, j: usize| ((ny + 1 + j) * (nx + 1) + i) as u32;
    let mut triangles = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            triangles.push([t(i, j), t(i + 1, j), t(i + 1, j + 1)]);
            triangles.push([t(i, j), t(i + 1, j + 1), t(i, j + 1)]);
            triangles.push([b(i, j), b(i + 1, j + 1), b(i + 1, j)]);
            triangles.push([b(i, j), b(i, j + 1), b(i + 1, j + 1)]);
        }
    }
    // Side walls, outward.
    for i in 0..nx {
        triangles.push([b(i, 0), b(i + 1, 0), t(i + 1, 0)]);
        triangles.push([b(i, 0), t(i + 1, 0), t(i, 0)]);
        triangles.push([b(i + 1, ny), b(i, ny), t(i, ny)]);
        triangles.push([b(i + 1, ny), t(i, ny), t(i + 1, ny)]);
    }
    for j in 0..ny {
        triangles.push([b(0, j + 1), b(0, j), t(0, j)]);
        triangles.push([b(0, j + 1), t(0, j), t(0, j + 1)]);
        triangles.push([b(nx, j), b(nx, j + 1), t(nx, j + 1)]);
        triangles.push([b(nx, j), t(nx, j + 1), t(nx, j)]);
    }
    Mesh {
        vertices,
        triangles,
    }
}
