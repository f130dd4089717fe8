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
    let mut from = tp.start;
    for m in &tp.moves {
        if !matches!(m.motion, Motion::Rapid) && m.to.z < 0.0 {
            let steps = ((m.length_from(from) / (r * 0.25)).ceil() as usize).clamp(1, 400);
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
                for t in &mesh.triangles {
                    let d = dist_above(mesh, *t, c, p.z + 1e-9);
                    assert!(
                        d >= r - tol,
                        "gouge: tool at {p:?} is {d} from the part (radius {r})"
                    );
                }
            }
        }
        from = m.to;
    }
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
