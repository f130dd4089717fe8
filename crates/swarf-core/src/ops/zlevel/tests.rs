use super::*;
use crate::geometry::V2;
use crate::samples::{box_mesh, cylinder_mesh, merge_meshes};
use crate::toolpath::Motion;

/// XY distance from `c` to the part of triangle `t` at or above `z` (0 when over it).
fn dist_above(mesh: &Mesh, t: [u32; 3], c: V2, z: f64) -> f64 {
    let v: Vec<[f64; 3]> = t.iter().map(|&i| mesh.vertices[i as usize]).collect();
    // Clip the triangle to z' >= z (Sutherland–Hodgman against one plane).
    let mut poly: Vec<V2> = Vec::new();
    for k in 0..3 {
        let (a, b) = (v[k], v[(k + 1) % 3]);
        let (ia, ib) = (a[2] >= z, b[2] >= z);
        if ia {
            poly.push(V2::new(a[0], a[1]));
        }
        if ia != ib {
            let f = (z - a[2]) / (b[2] - a[2]);
            poly.push(V2::new(a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f));
        }
    }
    if poly.is_empty() {
        return f64::INFINITY;
    }
    let n = poly.len();
    let mut inside = true;
    let mut sign = 0.0;
    let mut best = f64::INFINITY;
    for k in 0..n {
        let (a, b) = (poly[k], poly[(k + 1) % n]);
        let ab = b - a;
        let l2 = ab.dot(ab);
        let t = if l2 > 0.0 {
            ((c - a).dot(ab) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        best = best.min(c.dist(a + ab * t));
        let cr = ab.cross(c - a);
        if cr != 0.0 {
            if sign == 0.0 {
                sign = cr.signum();
            } else if cr.signum() != sign {
                inside = false;
            }
        }
    }
    if inside && n >= 3 && sign != 0.0 {
        0.0
    } else {
        best
    }
}

/// Every cutting position keeps the flat tool's radius from the mesh above its tip.
fn assert_no_gouge(mesh: &Mesh, tp: &Toolpath, r: f64, tol: f64) {
    let g = gouges(mesh, tp, r, tol);
    assert!(
        g.is_empty(),
        "{} move(s) gouge; the deepest {:?}",
        g.len(),
        g.iter().max_by(|a, b| a.2.total_cmp(&b.2))
    );
}

/// The moves below Z 0 whose flat tool disk comes closer than `r - tol` to the mesh above its
/// tip (rapids too: a rapid into the part is worse than a cut): (move index, the worst place,
/// how far inside the radius). An independent check: the exact distance to each triangle
/// clipped at the tool's height, sampled along each move, triangles found through a grid.
fn gouges(mesh: &Mesh, tp: &Toolpath, r: f64, tol: f64) -> Vec<(usize, P3, f64)> {
    let (lo, hi) = mesh.bounds().expect("a mesh");
    let cell = r.max((hi[0] - lo[0]).max(hi[1] - lo[1]) / 200.0);
    let nx = ((hi[0] - lo[0]) / cell).ceil() as usize + 1;
    let ny = ((hi[1] - lo[1]) / cell).ceil() as usize + 1;
    let ix = |x: f64| (((x - lo[0]) / cell).floor().max(0.0) as usize).min(nx - 1);
    let iy = |y: f64| (((y - lo[1]) / cell).floor().max(0.0) as usize).min(ny - 1);
    let mut grid: Vec<Vec<usize>> = vec![Vec::new(); nx * ny];
    for (k, t) in mesh.triangles.iter().enumerate() {
        let v = t.map(|i| mesh.vertices[i as usize]);
        let (x0, x1) = (
            v[0][0].min(v[1][0]).min(v[2][0]),
            v[0][0].max(v[1][0]).max(v[2][0]),
        );
        let (y0, y1) = (
            v[0][1].min(v[1][1]).min(v[2][1]),
            v[0][1].max(v[1][1]).max(v[2][1]),
        );
        for j in iy(y0)..=iy(y1) {
            for i in ix(x0)..=ix(x1) {
                grid[j * nx + i].push(k);
            }
        }
    }
    let mut out = Vec::new();
    let mut from = tp.start;
    for (i, m) in tp.moves.iter().enumerate() {
        if m.to.z < 0.0 || from.z < 0.0 {
            let steps = ((m.length_from(from) / (r * 0.1)).ceil() as usize).clamp(1, 4000);
            let mut worst: Option<(P3, f64)> = None;
            for k in 0..=steps {
                let f = k as f64 / steps as f64;
                let p = match m.motion {
                    Motion::Arc { centre, ccw } => {
                        let sweep = crate::toolpath::arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                        let a0 = (from.xy() - centre).angle();
                        let q = centre + V2::from_angle(a0 + sweep * f) * from.xy().dist(centre);
                        P3::new(q.x, q.y, from.z + (m.to.z - from.z) * f)
                    }
                    _ => P3::new(
                        from.x + (m.to.x - from.x) * f,
                        from.y + (m.to.y - from.y) * f,
                        from.z + (m.to.z - from.z) * f,
                    ),
                };
                let c = p.xy();
                if c.x < lo[0] - r || c.x > hi[0] + r || c.y < lo[1] - r || c.y > hi[1] + r {
                    continue;
                }
                for j in iy(c.y - r)..=iy(c.y + r) {
                    for ii in ix(c.x - r)..=ix(c.x + r) {
                        for &t in &grid[j * nx + ii] {
                            let d = dist_above(mesh, mesh.triangles[t], c, p.z + 1e-9);
                            if d < r - tol && worst.is_none_or(|w| r - d > w.1) {
                                worst = Some((p, r - d));
                            }
                        }
                    }
                }
            }
            if let Some((p, d)) = worst {
                out.push((i, p, d));
            }
        }
        from = m.to;
    }
    out
}

fn part() -> Mesh {
    // A 6 x 4 mm plate 1 mm thick with a 1 mm boss 0.5 mm high on top.
    let mut m = merge_meshes(&[
        box_mesh([0.0, 0.0, -1.5], [6.0, 4.0, -0.5]),
        cylinder_mesh(3.0, 2.0, 0.5, -0.5, 0.0, 64),
    ]);
    // Weld the boss onto the plate the way an STL import would (shared vertices are not
    // needed for the topology check here, each body is closed on its own).
    m.vertices.iter_mut().for_each(|v| v[2] += 0.0);
    m
}

#[test]
fn rough_never_cuts_the_part_and_is_deterministic() {
    let m = part();
    // Flutes long enough for the 1.5 mm part.
    let tool = Tool {
        flute_length_mm: 2.0,
        stickout_mm: 4.0,
        ..Tool::micro_flat(0.4)
    };
    let tol = Tolerance::default();
    let p = ZLevelParams {
        cut: crate::ops::CutParams {
            heights: Heights {
                final_depth_mm: 1.5,
                ..Heights::default()
            },
            stepdown_mm: Some(0.25),
            ..ZLevelParams::default().cut
        },
        ..ZLevelParams::default()
    };
    let a = zlevel_rough(&m, &tool, &p, &tol, &crate::ops::Cancel::NEVER).unwrap();
    let b = zlevel_rough(&m, &tool, &p, &tol, &crate::ops::Cancel::NEVER).unwrap();
    assert_eq!(a.toolpath, b.toolpath);
    assert!(a.toolpath.moves.len() > 50);
    // Cuts at the flat level of the plate top exactly.
    assert!(
        a.toolpath
            .moves
            .iter()
            .any(|mv| (mv.to.z + 0.5).abs() < 1e-12)
    );
    assert_no_gouge(&m, &a.toolpath, tool.radius_mm(), tol.path_mm);
    // Each layer clears its own free area once: the feed stays near the layers' areas over
    // the step-over (#23.4: a core's roughing made ~70 clearings per level).
    let e = a.estimate.expect("roughing estimates its feed");
    let feed = a.toolpath.stats(f64::INFINITY).feed_length_mm;
    let k = feed / e.feed_mm();
    assert!(
        (0.5..2.0).contains(&k),
        "feed {feed} mm, {k}× the estimate {e:?}"
    );
    assert!(
        !a.warnings.iter().any(|w| w.contains("wanders")),
        "{:?}",
        a.warnings
    );
}

#[test]
fn waterline_follows_the_walls_at_the_tool_radius() {
    let m = part();
    let tool = Tool {
        flute_length_mm: 2.0,
        stickout_mm: 4.0,
        ..Tool::micro_flat(0.2)
    };
    let tol = Tolerance::default();
    let p = ZLevelParams {
        cut: crate::ops::CutParams {
            heights: Heights {
                final_depth_mm: 1.5,
                ..Heights::default()
            },
            stepdown_mm: Some(0.3),
            ..ZLevelParams::default().cut
        },
        ..ZLevelParams::default()
    };
    let r = zlevel_contour(&m, &tool, &p, &tol, &crate::ops::Cancel::NEVER).unwrap();
    assert_no_gouge(&m, &r.toolpath, tool.radius_mm(), tol.path_mm);
    // Cut moves at the bottom level run at the radius from the plate's outline.
    let mut n = 0;
    for mv in &r.toolpath.moves {
        if mv.class == crate::toolpath::MoveClass::Cut && (mv.to.z + 1.5).abs() < 1e-9 {
            let q = mv.to;
            let dx = if q.x < 0.0 {
                -q.x
            } else if q.x > 6.0 {
                q.x - 6.0
            } else {
                0.0
            };
            let dy = if q.y < 0.0 {
                -q.y
            } else if q.y > 4.0 {
                q.y - 4.0
            } else {
                0.0
            };
            assert!((dx.hypot(dy) - 0.1).abs() <= tol.path_mm * 1.01, "{q:?}");
            n += 1;
        }
    }
    assert!(n >= 4);
}

#[test]
fn open_meshes_are_refused_with_the_reason() {
    let mut m = box_mesh([0.0, 0.0, -1.0], [1.0, 1.0, 0.0]);
    m.triangles.pop();
    let e = zlevel_rough(
        &m,
        &Tool::micro_flat(0.2),
        &ZLevelParams::default(),
        &Tolerance::default(),
        &crate::ops::Cancel::NEVER,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("not a closed solid") && e.contains("open edges"),
        "{e}"
    );
}

fn deep_tool(d: f64) -> Tool {
    Tool {
        flute_length_mm: 20.0,
        stickout_mm: 30.0,
        ..Tool::micro_flat(d)
    }
}

fn params(depth: f64, stepdown: f64) -> ZLevelParams {
    ZLevelParams {
        cut: crate::ops::CutParams {
            heights: Heights {
                final_depth_mm: depth,
                ..Heights::default()
            },
            stepdown_mm: Some(stepdown),
            ..ZLevelParams::default().cut
        },
        ..ZLevelParams::default()
    }
}

/// Both z-level operations on `m`: no move below the top gouges the mesh (an independent
/// check: exact distances to the triangles, not the sections the operation used).
fn assert_zlevel_clear_of(m: &Mesh, tool: &Tool, p: &ZLevelParams) {
    let (open, nonmanifold, _, _) = m.topology();
    assert_eq!((open, nonmanifold), (0, 0), "a closed test mesh");
    let tol = Tolerance::default();
    for (name, f) in [
        ("zlevel-rough", zlevel_rough as fn(_, _, _, _, _) -> _),
        ("zlevel-contour", zlevel_contour),
    ] {
        let r = f(m, tool, p, &tol, &crate::ops::Cancel::NEVER).unwrap();
        assert!(
            r.toolpath.moves.len() > 20,
            "{name}: {} moves",
            r.toolpath.moves.len()
        );
        let g = gouges(m, &r.toolpath, tool.radius_mm(), tol.path_mm);
        assert!(
            g.is_empty(),
            "{name}: {} move(s) gouge the mesh; the deepest: {:?}",
            g.len(),
            g.iter()
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .map(|(i, at, d)| (r.toolpath.moves[*i], at, d))
        );
    }
}

/// A bas-relief: a free-form top sampled coarsely (0.5 mm), so the facets' sagitta is far
/// above the tolerance and neighbouring peaks are closer than the tool.
#[test]
fn zlevel_on_a_relief_stays_off_the_mesh() {
    let m = crate::samples::heightfield_mesh([0.0, 0.0], [22.0, 28.0], 44, 56, -8.0, |x, y| {
        -2.0 + 1.5 * (x * 0.5).sin() * (y * 0.4).cos()
            + 0.8 * ((x - 11.0).powi(2) + (y - 14.0).powi(2)).sqrt().cos()
    });
    assert_zlevel_clear_of(&m, &deep_tool(1.0), &params(4.0, 0.5));
    // A ball end mill lies inside the cylinder the check measures (from its tip up), so the
    // same check holds for it, and its keep-out reaches its radius above the tip.
    let ball = Tool {
        shape: ToolShape::Ball,
        ..deep_tool(1.0)
    };
    assert_zlevel_clear_of(&m, &ball, &params(4.0, 0.5));
}

/// An optics holder: a floor plate with bosses and a ring on it, walls closer than the tool
/// in places.
#[test]
fn zlevel_on_a_holder_with_a_floor_plate_stays_off_the_mesh() {
    let m = merge_meshes(&[
        box_mesh([0.0, 0.0, -6.0], [16.0, 18.0, -5.0]),
        cylinder_mesh(4.0, 4.0, 1.5, -5.0, -1.0, 40),
        cylinder_mesh(12.0, 4.0, 1.0, -5.0, -2.5, 24),
        cylinder_mesh(6.6, 4.0, 1.0, -5.0, -3.0, 24),
        box_mesh([2.0, 9.0, -5.0], [14.0, 10.0, 0.0]),
        box_mesh([7.0, 12.0, -5.0], [9.0, 16.0, -0.5]),
    ]);
    assert_zlevel_clear_of(&m, &deep_tool(1.0), &params(5.5, 0.5));
}

/// A mold core with undercuts: a sphere and a mushroom (a wide cap on a thin stem) on a
/// plate; each layer must keep out of what overhangs it.
#[test]
fn zlevel_on_a_core_with_undercuts_stays_off_the_mesh() {
    let m = merge_meshes(&[
        box_mesh([-3.0, -3.0, -4.0], [5.0, 3.0, -3.0]),
        crate::samples::sphere_mesh([-0.8, 0.0, -2.0], 1.2, 32),
        cylinder_mesh(2.8, 0.0, 0.4, -3.0, -1.0, 16),
        cylinder_mesh(2.8, 0.0, 1.3, -1.0, -0.4, 32),
    ]);
    assert_zlevel_clear_of(&m, &deep_tool(0.5), &params(3.5, 0.25));
    let bull = Tool {
        shape: ToolShape::Bull {
            corner_radius_mm: 0.1,
        },
        ..deep_tool(0.5)
    };
    assert_zlevel_clear_of(&m, &bull, &params(3.5, 0.25));
}

/// A stepped block (a small box on a large one): the lower wall starts at Z -1, where the
/// layers above never cut. Re-entering a layer must not rapid into stock there (it used to
/// rapid to 0.1 mm above the layer above, inside the uncut stock).
#[test]
fn waterlines_never_rapid_into_uncut_stock() {
    let m = merge_meshes(&[
        box_mesh([0.0, 0.0, -2.0], [10.0, 8.0, -1.0]),
        box_mesh([2.0, 2.0, -1.0], [7.0, 6.0, 0.0]),
    ]);
    let tool = deep_tool(0.5);
    let tol = Tolerance::default();
    for stepdown in [0.25, 0.3] {
        let r = zlevel_contour(
            &m,
            &tool,
            &params(2.0, stepdown),
            &tol,
            &crate::ops::Cancel::NEVER,
        )
        .unwrap();
        let grow = V2::new(tool.diameter_mm * 2.0, tool.diameter_mm * 2.0);
        let rapids = crate::verify::check_rapids(
            &r.toolpath,
            V2::new(0.0, 0.0) - grow,
            V2::new(10.0, 8.0) + grow,
            -3.0,
            &tool,
            &tol,
        );
        assert!(
            rapids.is_empty(),
            "step-down {stepdown}: rapids through stock at {:?}",
            rapids
                .iter()
                .map(|&i| r.toolpath.moves[i].to)
                .collect::<Vec<_>>()
        );
        // Every rapid that ends below the top of the stock ends over a place an earlier feed
        // move ran through with the whole tool, at most the retract gap above: the column
        // under it is cleared.
        for (i, mv) in r.toolpath.moves.iter().enumerate() {
            if matches!(mv.motion, Motion::Rapid) && mv.to.z < 0.0 {
                let earlier = Toolpath {
                    start: r.toolpath.start,
                    moves: r.toolpath.moves[..i].to_vec(),
                    ..Toolpath::default()
                };
                let gap = Heights::default().safe_mm * 0.2 + 1e-9;
                let d = feed_distance(&earlier, mv.to.xy(), mv.to.z - gap + 2e-9);
                assert!(
                    d <= tol.path_mm,
                    "step-down {stepdown}: a rapid down to {:?} ({d} mm from any cut at that depth)",
                    mv.to
                );
            }
        }
        assert!(gouges(&m, &r.toolpath, tool.radius_mm(), tol.path_mm).is_empty());
    }
}

/// A lens spacer (a solid of revolution): a tube with a flared lip over a tapered wall and a
/// bore, a second tube (a pin) standing in the bore, a bore floor between them, a through hole
/// and a wide flange at the foot. Layers below the lip keep out the lip; the pin's material
/// inside the bore's hole must stay material when the sections are merged (it was taken for
/// free space, and the lip lost, so the program cut 3.5 mm into the part).
#[test]
fn zlevel_on_a_spacer_with_a_pin_in_its_bore_stays_off_the_mesh() {
    let m = crate::samples::revolved_mesh(
        [0.0, 0.0],
        &[
            [1.5, -12.0],
            [9.0, -12.0],
            [9.0, -10.5],
            [4.4, -10.5],
            [4.0, -5.0],
            [3.85, -1.5],
            [4.25, 0.0],
            [3.3, 0.0],
            [3.1, -1.0],
            [3.1, -6.5],
            [2.5, -6.5],
            [2.5, -3.0],
            [1.5, -3.0],
        ],
        48,
    );
    assert_zlevel_clear_of(&m, &deep_tool(1.0), &params(11.0, 0.5));
    let ball = Tool {
        shape: ToolShape::Ball,
        ..deep_tool(1.0)
    };
    assert_zlevel_clear_of(&m, &ball, &params(11.0, 0.5));
}
