use super::*;
use crate::geometry::mesh::Mesh;
use crate::tool::{Tool, ToolShape};

/// A small deterministic generator (`SplitMix64`), uniform in [0, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

fn tool(shape: ToolShape, d: f64) -> Tool {
    Tool {
        shape,
        diameter_mm: d,
        ..Tool::micro_flat(d)
    }
}

/// The tools the engine knows, as profiles (with and without a radial stock to leave).
fn shapes() -> Vec<(String, CutterShape)> {
    let mut out = Vec::new();
    let tools = [
        tool(ToolShape::Flat, 0.6),
        tool(ToolShape::Ball, 0.6),
        tool(
            ToolShape::Bull {
                corner_radius_mm: 0.1,
            },
            0.6,
        ),
        tool(
            ToolShape::V {
                angle_deg: 60.0,
                tip_diameter_mm: 0.0,
            },
            0.6,
        ),
        tool(
            ToolShape::V {
                angle_deg: 90.0,
                tip_diameter_mm: 0.1,
            },
            0.6,
        ),
        tool(
            ToolShape::Drill {
                point_angle_deg: 118.0,
            },
            0.5,
        ),
    ];
    for t in tools {
        for ar in [0.0, 0.05] {
            out.push((
                format!("{} +{ar}", t.describe()),
                CutterShape::of(&t, ar).unwrap(),
            ));
        }
    }
    out
}

fn one_triangle(v: [[f64; 3]; 3]) -> Mesh {
    Mesh {
        vertices: v.to_vec(),
        triangles: vec![[0, 1, 2]],
    }
}

/// Golden-section search for the maximum of a concave function on [a, b].
fn golden_max(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let g = (5f64.sqrt() - 1.0) * 0.5;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > 1e-14 {
        if fc >= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    f(a).max(f(b)).max(fc).max(fd)
}

/// The oracle: the largest `z(q) − h(|q − p|)` over the triangle's points within the tool's
/// radius, by nested golden-section search (the bound is concave over the triangle, so
/// nothing is missed), independent of the vertex, facet and edge cases the engine solves.
fn oracle(v: &[[f64; 3]; 3], p: [f64; 2], shape: &CutterShape) -> f64 {
    let r = shape.radius();
    let at = |u: f64, w: f64| -> [f64; 3] {
        let mut q = [0.0; 3];
        for k in 0..3 {
            q[k] = v[0][k] + u * (v[1][k] - v[0][k]) + w * (v[2][k] - v[0][k]);
        }
        q
    };
    // For a given u: the w-interval of the slice within the disk.
    let slice = |u: f64| -> Option<(f64, f64)> {
        let q0 = at(u, 0.0);
        let dir = [v[2][0] - v[0][0], v[2][1] - v[0][1]];
        let (ox, oy) = (q0[0] - p[0], q0[1] - p[1]);
        let a = dir[0] * dir[0] + dir[1] * dir[1];
        let b = 2.0 * (ox * dir[0] + oy * dir[1]);
        let c = ox * ox + oy * oy - r * r;
        let disc = b * b - 4.0 * a * c;
        if disc < 0.0 {
            return None;
        }
        let sq = disc.sqrt();
        let (w0, w1) = ((-b - sq) / (2.0 * a), (-b + sq) / (2.0 * a));
        let (lo, hi) = (w0.max(0.0), w1.min(1.0 - u));
        (lo <= hi).then_some((lo, hi))
    };
    let f = |u: f64, w: f64| {
        let q = at(u, w);
        let d = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2))
            .sqrt()
            .min(r);
        q[2] - shape.height(d)
    };
    let g = |u: f64| match slice(u) {
        Some((lo, hi)) => golden_max(|w| f(u, w), lo, hi),
        None => f64::NEG_INFINITY,
    };
    // The u-domain: where the slice reaches the disk. Its distance to p is convex in u.
    let dist = |u: f64| {
        let (a, b) = (at(u, 0.0), at(u, 1.0 - u));
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 {
            (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        ((a[0] + t * dx - p[0]).powi(2) + (a[1] + t * dy - p[1]).powi(2)).sqrt()
    };
    // Minimise dist by golden section (maximise -dist).
    let (mut a, mut b) = (0.0f64, 1.0f64);
    let gr = (5f64.sqrt() - 1.0) * 0.5;
    while b - a > 1e-15 {
        let c = b - gr * (b - a);
        let d = a + gr * (b - a);
        if dist(c) <= dist(d) {
            b = d;
        } else {
            a = c;
        }
    }
    let umin = 0.5 * (a + b);
    if dist(umin) > r {
        return f64::NEG_INFINITY;
    }
    let edge = |mut inside: f64, mut outside: f64| {
        if dist(outside) <= r {
            return outside;
        }
        for _ in 0..200 {
            let m = 0.5 * (inside + outside);
            if dist(m) <= r {
                inside = m;
            } else {
                outside = m;
            }
        }
        inside
    };
    let (u0, u1) = (edge(umin, 0.0), edge(umin, 1.0));
    golden_max(g, u0, u1)
}

#[test]
fn profile_heights_match_each_tool() {
    let r = 0.3;
    let ball = CutterShape::of(&tool(ToolShape::Ball, 0.6), 0.0).unwrap();
    let flat = CutterShape::of(&tool(ToolShape::Flat, 0.6), 0.0).unwrap();
    let bull = CutterShape::of(
        &tool(
            ToolShape::Bull {
                corner_radius_mm: 0.1,
            },
            0.6,
        ),
        0.0,
    )
    .unwrap();
    let v = CutterShape::of(
        &tool(
            ToolShape::V {
                angle_deg: 60.0,
                tip_diameter_mm: 0.1,
            },
            0.6,
        ),
        0.0,
    )
    .unwrap();
    for i in 0..=100 {
        let d = r * f64::from(i) / 100.0;
        assert!((ball.height(d) - (r - (r * r - d * d).sqrt())).abs() < 1e-15);
        assert_eq!(flat.height(d), 0.0);
        let bull_h = if d <= 0.2 {
            0.0
        } else {
            0.1 - (0.01 - (d - 0.2) * (d - 0.2)).sqrt()
        };
        // At the rim the corner's height is ill-conditioned (its slope is infinite).
        let cond = if i == 100 { 1e-8 } else { 1e-14 };
        assert!((bull.height(d) - bull_h).abs() < cond, "{d}");
        let v_h = ((d - 0.05).max(0.0)) / 30f64.to_radians().tan();
        assert!((v.height(d) - v_h).abs() < 1e-14, "{d}");
    }
    // The groove half-width at a depth inverts the height.
    for s in [&ball, &bull, &v] {
        for h in [1e-4, 0.01, 0.05] {
            let d = s.radius_at_height(h);
            assert!((s.height(d) - h).abs() < 1e-12, "{s:?} {h}");
        }
    }
    // A grown tool: a ball 0.05 larger, a flat with a 0.05 corner.
    let grown = CutterShape::of(&tool(ToolShape::Flat, 0.6), 0.05).unwrap();
    assert!((grown.radius() - 0.35).abs() < 1e-15);
    assert!((grown.height(0.35) - 0.05).abs() < 1e-8);
    assert!(CutterShape::of(&tool(ToolShape::Ball, 0.6), -0.1).is_err());
    assert!(CutterShape::new(0.3, 0.2, 0.2, None).is_err());
    assert!(CutterShape::new(0.3, 0.0, 0.0, Some(95.0)).is_err());
}

/// Every tool against random triangles, from points all round them: the engine's answer
/// agrees with the oracle to 1e-9 mm.
#[test]
fn drop_cutter_agrees_with_the_oracle_on_random_triangles() {
    let mut rng = Rng(7);
    let mut worst: f64 = 0.0;
    let mut touched = 0;
    for (name, shape) in shapes() {
        for _ in 0..40 {
            let steep = rng.next() < 0.3;
            let v: [[f64; 3]; 3] = std::array::from_fn(|_| {
                [
                    rng.range(-0.5, 0.5),
                    rng.range(-0.5, 0.5),
                    if steep {
                        rng.range(-2.0, 2.0)
                    } else {
                        rng.range(-0.2, 0.2)
                    },
                ]
            });
            let dc = DropCutter::new(&one_triangle(v), shape);
            for _ in 0..6 {
                let p = [rng.range(-0.7, 0.7), rng.range(-0.7, 0.7)];
                let want = oracle(&v, p, &shape);
                let got = dc.drop(p[0], p[1], f64::NEG_INFINITY);
                if want == f64::NEG_INFINITY {
                    assert_eq!(got, f64::NEG_INFINITY, "{name} {v:?} {p:?}");
                    continue;
                }
                touched += 1;
                let err = (got - want).abs();
                worst = worst.max(err);
                assert!(
                    err <= 1e-9,
                    "{name}: {v:?} at {p:?}: engine {got}, oracle {want}"
                );
            }
        }
    }
    assert!(touched > 1000, "only {touched} touching cases");
    eprintln!("worst disagreement {worst:e} mm over {touched} cases");
}

/// The classic contacts, by formula: a ball on a slope, a flat tool at a step's edge, a V
/// tool over a ridge.
#[test]
fn drop_cutter_matches_closed_forms() {
    // A plane rising 30° in X.
    let t = 30f64.to_radians().tan();
    let slope = Mesh {
        vertices: vec![
            [-5.0, -5.0, -5.0 * t],
            [5.0, -5.0, 5.0 * t],
            [5.0, 5.0, 5.0 * t],
            [-5.0, 5.0, -5.0 * t],
        ],
        triangles: vec![[0, 1, 2], [0, 2, 3]],
    };
    let ball = CutterShape::of(&tool(ToolShape::Ball, 1.0), 0.0).unwrap();
    let dc = DropCutter::new(&slope, ball);
    // The ball's centre lies r / cos θ above the plane; the tip r below the centre.
    let want = 0.2 * t + 0.5 / 30f64.to_radians().cos() - 0.5;
    assert!((dc.drop(0.2, 0.1, -100.0) - want).abs() < 1e-12);
    // A flat tool next to a 1 mm step at x = 0 (top at 0, floor at -1): the rim holds it on
    // the top until its centre is a radius past the edge.
    let step = Mesh {
        vertices: vec![
            [-5.0, -5.0, 0.0],
            [0.0, -5.0, 0.0],
            [0.0, 5.0, 0.0],
            [-5.0, 5.0, 0.0],
            [0.0, -5.0, -1.0],
            [5.0, -5.0, -1.0],
            [5.0, 5.0, -1.0],
            [0.0, 5.0, -1.0],
        ],
        triangles: vec![
            [0, 1, 2],
            [0, 2, 3],
            [4, 5, 6],
            [4, 6, 7],
            [1, 4, 7],
            [1, 7, 2],
        ],
    };
    let flat = DropCutter::new(
        &step,
        CutterShape::of(&tool(ToolShape::Flat, 1.0), 0.0).unwrap(),
    );
    assert_eq!(flat.drop(0.49, 0.0, -10.0), 0.0);
    assert_eq!(flat.drop(0.51, 0.0, -10.0), -1.0);
    // A ball past the edge: it rests on the edge until the edge is at its equator.
    let b = DropCutter::new(&step, ball);
    let x: f64 = 0.3;
    assert!((b.drop(x, 0.0, -10.0) - (-(0.5 - (0.25 - x * x).sqrt()))).abs() < 1e-12);
    // A 90° V tool over a 90° ridge along Y: its tip lands on the ridge line.
    let ridge = Mesh {
        vertices: vec![
            [-2.0, -2.0, -2.0],
            [0.0, -2.0, 0.0],
            [0.0, 2.0, 0.0],
            [-2.0, 2.0, -2.0],
            [2.0, -2.0, -2.0],
            [2.0, 2.0, -2.0],
        ],
        triangles: vec![[0, 1, 2], [0, 2, 3], [1, 4, 5], [1, 5, 2]],
    };
    let v = DropCutter::new(
        &ridge,
        CutterShape::of(
            &tool(
                ToolShape::V {
                    angle_deg: 90.0,
                    tip_diameter_mm: 0.0,
                },
                1.0,
            ),
            0.0,
        )
        .unwrap(),
    );
    // Off the ridge by 0.2: the cone's side lies along the far face... the 45° cone and the
    // 45° faces: the cone's flank rests on the face it is over, at the face's height.
    assert!((v.drop(0.2, 0.0, -10.0) - (-0.2)).abs() < 1e-12);
    // A grown ball leaves the allowance on the slope (normal to it).
    let grown = DropCutter::new(
        &slope,
        CutterShape::of(&tool(ToolShape::Ball, 1.0), 0.05).unwrap(),
    );
    let want = 0.2 * t + 0.55 / 30f64.to_radians().cos() - 0.55;
    assert!((grown.drop(0.2, 0.1, -100.0) - want).abs() < 1e-12);
}

/// A random height field and a soup of random triangles: the index gives exactly what testing
/// every triangle gives, and nothing depends on the thread count.
/// A wavy height field with a soup of large and small triangles over it.
fn field_and_soup(rng: &mut Rng) -> Mesh {
    let n = 30;
    let mut mesh = Mesh::default();
    for j in 0..=n {
        for i in 0..=n {
            let (x, y) = (f64::from(i) * 0.1, f64::from(j) * 0.1);
            let z = 0.3 * (x * 3.0).sin() * (y * 2.0).cos() + rng.range(-0.02, 0.02);
            mesh.vertices.push([x, y, z]);
        }
    }
    for j in 0..n {
        for i in 0..n {
            let k = j * (n + 1) + i;
            mesh.triangles.push([k, k + 1, k + n + 2]);
            mesh.triangles.push([k, k + n + 2, k + n + 1]);
        }
    }
    // The soup of large and small triangles over it.
    for _ in 0..60 {
        let c = [
            rng.range(0.0, 3.0),
            rng.range(0.0, 3.0),
            rng.range(-0.5, 0.5),
        ];
        let s = if rng.next() < 0.2 { 2.0 } else { 0.2 };
        let base = mesh.vertices.len() as u32;
        for _ in 0..3 {
            mesh.vertices.push([
                c[0] + rng.range(-s, s),
                c[1] + rng.range(-s, s),
                c[2] + rng.range(-0.3, 0.3),
            ]);
        }
        mesh.triangles.push([base, base + 1, base + 2]);
    }
    mesh
}

#[test]
fn index_agrees_with_brute_force() {
    let mut rng = Rng(11);
    let mesh = field_and_soup(&mut rng);
    for (name, shape) in shapes() {
        let dc = DropCutter::new(&mesh, shape);
        let pts: Vec<[f64; 2]> = (0..400)
            .map(|_| [rng.range(-0.5, 3.5), rng.range(-0.5, 3.5)])
            .collect();
        let many = dc.drop_many(&pts, -5.0);
        for (p, z) in pts.iter().zip(&many) {
            assert_eq!(*z, dc.drop_brute(p[0], p[1], -5.0), "{name} at {p:?}");
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let single = pool.install(|| dc.drop_many(&pts, -5.0));
        assert_eq!(single, many);
    }
}

#[test]
fn push_cutter_agrees_with_the_drop_cutter_along_lines() {
    let mut rng = Rng(23);
    let mesh = field_and_soup(&mut rng);
    let mut scratch = PushScratch::default();
    let mut iv = Vec::new();
    let mut hits = 0usize;
    for (name, shape) in shapes() {
        let dc = DropCutter::new(&mesh, shape);
        for case in 0..40 {
            let a = [rng.range(-0.5, 3.5), rng.range(-0.5, 3.5)];
            // Fibres along X and Y, and oblique lines.
            let b = match case % 3 {
                0 => [a[0] + rng.range(0.5, 3.0), a[1]],
                1 => [a[0], a[1] - rng.range(0.5, 3.0)],
                _ => [rng.range(-0.5, 3.5), rng.range(-0.5, 3.5)],
            };
            let z = rng.range(-0.6, 0.6);
            dc.push(a, b, z, &mut scratch, &mut iv);
            let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
            let at = |u: f64| {
                let t = u / len;
                dc.drop_brute(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), -1e9)
            };
            for w in iv.windows(2) {
                assert!(w[0].1 < w[1].0, "{name}: intervals overlap {iv:?}");
            }
            // Each end is free and a hair inside is blocked.
            for &(lo, hi) in &iv {
                hits += 1;
                for (e, inward) in [(lo, 1.0), (hi, -1.0)] {
                    if e > 0.0 && e < len {
                        assert!(
                            at(e) <= z + 1e-12,
                            "{name}: end {e} of {iv:?} at z {z} cuts: {}",
                            at(e)
                        );
                        if hi - lo > 1e-6 {
                            let q = e + inward * 1e-7;
                            assert!(
                                at(q) > z,
                                "{name}: inside end {e} at z {z} is free: {}",
                                at(q)
                            );
                        }
                    }
                }
            }
            // Samples along the line: blocked exactly where the drop-cutter is above z.
            for k in 0..=400 {
                let u = len * f64::from(k) / 400.0;
                let h = at(u);
                let inside = iv.iter().any(|&(lo, hi)| u > lo && u < hi);
                let near_end = iv
                    .iter()
                    .any(|&(lo, hi)| (u - lo).abs() < 1e-7 || (u - hi).abs() < 1e-7);
                if h > z + 1e-9 {
                    assert!(
                        inside || near_end,
                        "{name}: {u} of {len} blocked ({h} > {z}) but not in {iv:?}"
                    );
                } else if h < z - 1e-9 {
                    assert!(
                        !inside || near_end,
                        "{name}: {u} free ({h} < {z}) but in {iv:?}"
                    );
                }
            }
        }
    }
    assert!(
        hits > 200,
        "only {hits} blocked stretches: the test lines miss the mesh"
    );
}
