use super::*;
use crate::samples::heightfield_mesh;
use crate::tool::ToolShape;
use crate::toolpath::{Motion, MoveClass, P3};

/// A mesa: a gently domed top (under 10°) inside radius 1, walls falling 1 mm over 0.15 mm
/// (about 80°), a floor round it at −1.
fn mesa() -> Mesh {
    heightfield_mesh([-2.0, -2.0], [2.0, 2.0], 80, 80, -2.0, |x, y| {
        let r = (x * x + y * y).sqrt();
        if r < 1.0 {
            0.06 * (1.0 - r * r)
        } else if r < 1.15 {
            -(r - 1.0) / 0.15
        } else {
            -1.0
        }
    })
}

fn ball(d: f64) -> Tool {
    let mut t = Tool::micro_flat(d);
    t.shape = ToolShape::Ball;
    t.flute_length_mm = 3.0;
    t
}

fn params() -> SteepShallowParams {
    let mut p = SteepShallowParams {
        scallop_mm: Some(0.003),
        ..SteepShallowParams::default()
    };
    p.cut.heights.final_depth_mm = 1.0;
    p
}

/// The points of every cutting move (cuts, entries, links: all at feed), a short step apart
/// along lines and arcs.
fn feed_points(tp: &crate::toolpath::Toolpath, step: f64) -> Vec<P3> {
    let mut out = Vec::new();
    let mut from = tp.start;
    for m in &tp.moves {
        if m.class != MoveClass::Rapid {
            let n = ((m.length_from(from) / step).ceil() as usize).max(1);
            for k in 0..=n {
                let t = k as f64 / n as f64;
                let q = match m.motion {
                    Motion::Arc { centre, ccw } => {
                        let a0 = (from.y - centre.y).atan2(from.x - centre.x);
                        let sweep = crate::toolpath::arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                        let r = from.xy().dist(centre);
                        let a = a0 + sweep * t;
                        P3::new(
                            centre.x + r * a.cos(),
                            centre.y + r * a.sin(),
                            from.z + (m.to.z - from.z) * t,
                        )
                    }
                    _ => from.lerp(m.to, t),
                };
                out.push(q);
            }
        }
        from = m.to;
    }
    out
}

/// Steep walls get waterlines and the shallow top and floor parallel passes; no feed move
/// cuts into the part (the exact drop-cutter under every point); and every point of the
/// cutter-location surface lies within one step of a cut (no band left between the two).
#[test]
fn walls_get_waterlines_the_rest_parallel_passes_and_nothing_is_left_between() {
    let mesh = mesa();
    let tool = ball(0.5);
    let p = params();
    let tol = Tolerance::default();
    let r = steep_shallow(&mesh, &tool, &p, &tol, &Cancel::NEVER).unwrap();
    assert!(
        r.notes[0].starts_with("steep and shallow at 45°"),
        "{:?}",
        r.notes
    );
    assert!(r.notes.iter().any(|n| n.starts_with("waterline: ")));
    assert!(r.notes.iter().any(|n| n.starts_with("parallel: ")));
    assert!(
        !r.warnings.iter().any(|w| w.contains("finish steep walls")),
        "the walls are the waterlines' here: {:?}",
        r.warnings
    );
    let dc = DropCutter::new(&mesh, CutterShape::of(&tool, 0.0).unwrap());
    let floor = -p.cut.heights.final_depth_mm;
    let cl = |x: f64, y: f64| dc.drop(x, y, floor).max(floor);
    let pts = feed_points(&r.toolpath, 0.01);
    // Into the part by more than the tolerance: below the surface, and no point within the
    // tolerance beside it clear either (on a steep wall a hair across is far in Z).
    let e = tol.path_mm;
    for q in &pts {
        let depth = cl(q.x, q.y) - q.z;
        let beside = (0..8).any(|k| {
            let a = f64::from(k) * std::f64::consts::FRAC_PI_4;
            cl(q.x + e * a.cos(), q.y + e * a.sin()) <= q.z + e
        });
        assert!(
            depth <= e || beside,
            "a feed move {depth} mm into the part at {q:?}"
        );
    }
    // Waterlines (constant Z) on the walls, passes (Z changing) on the top.
    let mut from = r.toolpath.start;
    let (mut on_walls, mut on_top) = (0, 0);
    for m in &r.toolpath.moves {
        let rr = m.to.xy().dist(crate::geometry::V2::new(0.0, 0.0));
        if m.class == MoveClass::Cut {
            if (from.z - m.to.z).abs() < 1e-12 && m.to.z < -0.2 && m.to.z > -0.8 {
                on_walls += 1;
            }
            if rr < 0.5 && (from.z - m.to.z).abs() > 1e-7 {
                on_top += 1;
            }
        }
        from = m.to;
    }
    assert!(on_walls > 50 && on_top > 50, "{on_walls} {on_top}");
    // Coverage: a grid of surface points, each within one step (3D) of a cut point.
    let step = 2.0 * (2.0 * 0.25 * 0.003f64).sqrt();
    let cell = step;
    let mut hash: std::collections::HashMap<(i64, i64), Vec<P3>> = std::collections::HashMap::new();
    for q in &pts {
        hash.entry(((q.x / cell).floor() as i64, (q.y / cell).floor() as i64))
            .or_default()
            .push(*q);
    }
    let mut far = 0.0f64;
    let mut at = (0.0, 0.0);
    let n = 60;
    for i in 0..=n {
        for j in 0..=n {
            let (x, y) = (
                -1.6 + 3.2 * f64::from(i) / f64::from(n),
                -1.6 + 3.2 * f64::from(j) / f64::from(n),
            );
            let s = P3::new(x, y, cl(x, y));
            let (ci, cj) = ((x / cell).floor() as i64, (y / cell).floor() as i64);
            let mut best = f64::INFINITY;
            for di in -2..=2 {
                for dj in -2..=2 {
                    for q in hash.get(&(ci + di, cj + dj)).into_iter().flatten() {
                        best = best.min(q.dist(s));
                    }
                }
            }
            if best > far {
                far = best;
                at = (x, y);
            }
        }
    }
    assert!(
        far <= step,
        "({:.3}, {:.3}) is {far} mm from any cut",
        at.0,
        at.1
    );
}

#[test]
fn a_threshold_out_of_range_is_refused_and_a_gentle_part_is_all_parallel() {
    let tool = ball(0.5);
    let tol = Tolerance::default();
    let mut p = params();
    p.threshold_deg = 90.0;
    let e = steep_shallow(&mesa(), &tool, &p, &tol, &Cancel::NEVER)
        .unwrap_err()
        .to_string();
    assert!(e.contains("threshold_deg") && e.contains("5 to 85"), "{e}");
    // Nothing steeper than 45°: parallel passes alone, the same as the parallel finish's.
    // (The block's sides lie below the final depth: nothing steep above it.)
    let gentle = heightfield_mesh([-2.0, -2.0], [2.0, 2.0], 40, 40, -2.0, |x, y| {
        0.2 * (-(x * x + y * y)).exp() - 1.0
    });
    let p = params();
    let r = steep_shallow(&gentle, &tool, &p, &tol, &Cancel::NEVER).unwrap();
    assert!(
        r.notes[0].contains(": 0.0 % of the plan steep"),
        "{:?}",
        r.notes
    );
    let alone = crate::ops::parallel::parallel(
        &gentle,
        &tool,
        &ParallelParams {
            cut: p.cut,
            scallop_mm: p.scallop_mm,
            ..ParallelParams::default()
        },
        &tol,
        &Cancel::NEVER,
    )
    .unwrap();
    assert_eq!(r.toolpath, alone.toolpath);
}
