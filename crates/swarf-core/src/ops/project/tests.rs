use cavalier_contours::polyline::PlineSourceMut;

use super::*;
use crate::geometry::Pline;
use crate::ops::EntryKind;
use crate::ops::engrave::{EngraveParams, engrave};
use crate::samples::heightfield_mesh;
use crate::tool::ToolShape;

/// A dome: Z = −0.05·(x² + y²) over ±3 mm (top at the origin, Z = 0), on a base at −3.
fn dome(lift: f64) -> Mesh {
    heightfield_mesh([-3.0, -3.0], [3.0, 3.0], 90, 90, -3.0, move |x, y| {
        lift - 0.05 * (x * x + y * y)
    })
}

fn circle(cx: f64, cy: f64, r: f64) -> Pline {
    let mut p = Pline::new_closed();
    p.add(cx + r, cy, 1.0);
    p.add(cx - r, cy, 1.0);
    p
}

fn chain(pts: &[(f64, f64)]) -> Pline {
    let mut p = Pline::new();
    for &(x, y) in pts {
        p.add(x, y, 0.0);
    }
    p
}

fn tools() -> Vec<Tool> {
    let mut ball = Tool::micro_flat(0.5);
    ball.shape = ToolShape::Ball;
    let mut v = Tool::micro_flat(1.0);
    v.shape = ToolShape::V {
        angle_deg: 60.0,
        tip_diameter_mm: 0.02,
    };
    let flat = Tool::micro_flat(0.2);
    let mut out = vec![ball, v, flat];
    for t in &mut out {
        t.flute_length_mm = 2.0;
    }
    out
}

fn params(depth: f64, entry: EntryKind, stepdown: Option<f64>) -> EngraveParams {
    let mut p = EngraveParams::default();
    p.cut.heights.final_depth_mm = depth;
    p.cut.entry.kind = entry;
    p.cut.stepdown_mm = stepdown;
    p
}

/// Every cutting move, sampled along its length, lies `depth` below the exact drop-cutter
/// surface within the path tolerance; every sample of a loop's cut lies on its circle in
/// plan within the tolerance; no move of any kind goes below the surface; no arc is left.
fn check(tp: &Toolpath, dc: &DropCutter, depth: f64, circle: Option<(V2, f64)>, tol: f64) {
    let mut from = tp.start;
    let mut cuts = 0;
    let mut deepest = f64::INFINITY;
    for m in &tp.moves {
        assert!(
            !matches!(m.motion, Motion::Arc { .. }),
            "an arc is left in a projected path"
        );
        for k in 0..=16 {
            let q = from.lerp(m.to, f64::from(k) / 16.0);
            let cl = dc.drop(q.x, q.y, f64::NEG_INFINITY);
            assert!(
                q.z >= cl - depth - tol - 1e-9,
                "{:?} at ({:.4}, {:.4}, {:.5}) is below the cut's depth on the surface ({:.5})",
                m.class,
                q.x,
                q.y,
                q.z,
                cl - depth
            );
            // A rapid across must clear the surface (one straight up from a cut need not).
            if m.class == MoveClass::Rapid && from.xy().dist(m.to.xy()) > 1e-9 {
                assert!(q.z >= cl - 1e-9, "a rapid runs into the surface at {q:?}");
            }
            if m.class == MoveClass::Cut {
                // A cut runs at one level below the surface (the move's own, found at its
                // end), the deepest at the depth.
                let level = m.to.z - dc.drop(m.to.x, m.to.y, f64::NEG_INFINITY);
                deepest = deepest.min(level);
                assert!(
                    (q.z - (cl + level)).abs() <= tol + 1e-9,
                    "the cut at ({:.4}, {:.4}) is {:.3} µm off its level {level:.4} below the surface",
                    q.x,
                    q.y,
                    (q.z - (cl + level)) * 1000.0
                );
                if let Some((c, r)) = circle {
                    let off = (q.xy().dist(c) - r).abs();
                    assert!(off <= tol + 1e-9, "{off} mm off the circle in plan");
                }
            }
        }
        if m.class == MoveClass::Cut {
            cuts += 1;
        }
        from = m.to;
    }
    assert!(cuts > 0, "nothing was cut");
    assert!(
        (deepest + depth).abs() <= 1e-9,
        "the deepest cut is {deepest} below the surface, not {depth}"
    );
}

#[test]
fn a_loop_and_a_chain_are_cut_at_their_depth_below_the_surface_for_each_tool() {
    let tol = Tolerance::default();
    let mesh = dome(0.0);
    for tool in tools() {
        let dc = DropCutter::new(&mesh, CutterShape::of(&tool, 0.0).unwrap());
        for (entry, stepdown) in [(EntryKind::Ramp, Some(0.02)), (EntryKind::Plunge, None)] {
            let p = params(0.05, entry, stepdown);
            let c = circle(0.4, -0.3, 1.7);
            let flat = engrave(&[], &[c], &tool, &p, &tol, &Cancel::NEVER).unwrap();
            let (tp, rep) = project_onto(
                "engrave",
                &flat.toolpath,
                &mesh,
                &tool,
                &p.cut.heights,
                &tol,
                &Cancel::NEVER,
            )
            .unwrap();
            check(&tp, &dc, 0.05, Some((V2::new(0.4, -0.3), 1.7)), tol.path_mm);
            // The loop's cut follows the dome: it goes up and down along the circle.
            assert!(
                rep.cut_z_max - rep.cut_z_min > 0.1,
                "{} {:?}",
                tool.name,
                rep
            );
            // The chain across the top.
            let l = chain(&[(-2.0, -1.0), (0.0, 0.5), (2.1, 1.0)]);
            let flat = engrave(&[l], &[], &tool, &p, &tol, &Cancel::NEVER).unwrap();
            let (tp, _) = project_onto(
                "engrave",
                &flat.toolpath,
                &mesh,
                &tool,
                &p.cut.heights,
                &tol,
                &Cancel::NEVER,
            )
            .unwrap();
            check(&tp, &dc, 0.05, None, tol.path_mm);
        }
    }
}

#[test]
fn travel_clears_a_surface_above_zero_and_a_line_off_the_surface_is_refused() {
    let tol = Tolerance::default();
    let tool = &tools()[0];
    let p = params(0.05, EntryKind::Plunge, None);
    let mesh = dome(1.0);
    let a = chain(&[(-1.0, 0.0), (1.0, 0.0)]);
    let b = chain(&[(0.0, 1.0), (0.0, 2.0)]);
    let flat = engrave(&[a, b], &[], tool, &p, &tol, &Cancel::NEVER).unwrap();
    let (tp, rep) = project_onto(
        "engrave",
        &flat.toolpath,
        &mesh,
        tool,
        &p.cut.heights,
        &tol,
        &Cancel::NEVER,
    )
    .unwrap();
    assert!((rep.lift_mm - 1.0).abs() < 1e-9, "{rep:?}");
    // The move across from one line to the other runs at the raised safe height.
    let mut from = tp.start;
    let mut across = 0;
    for m in &tp.moves {
        if m.class == MoveClass::Rapid && from.xy().dist(m.to.xy()) > 0.5 {
            assert!(m.to.z >= 1.0 + p.cut.heights.safe_mm - 1e-9, "{m:?}");
            across += 1;
        }
        from = m.to;
    }
    assert!(across >= 1);
    let dc = DropCutter::new(&mesh, CutterShape::of(tool, 0.0).unwrap());
    check(&tp, &dc, 0.05, None, tol.path_mm);
    assert!(
        rep.note("dome.stl", &p.cut.heights)
            .contains("raised by 1.0000 mm")
    );
    // A line running past the mesh's edge has no depth to be cut at.
    let off = chain(&[(2.0, 0.0), (4.0, 0.0)]);
    let flat = engrave(&[off], &[], tool, &p, &tol, &Cancel::NEVER).unwrap();
    let e = project_onto(
        "engrave",
        &flat.toolpath,
        &mesh,
        tool,
        &p.cut.heights,
        &tol,
        &Cancel::NEVER,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("runs off the surface"), "{e}");
    // A mark deeper below the surface's top than the flutes reach is warned about.
    let mut short = tool.clone();
    short.flute_length_mm = 0.3;
    let deep = ProjectReport {
        top_mm: 1.0,
        cut_z_min: 0.5,
        ..rep
    };
    assert!(deep.reach_warning(&short).is_some());
    assert!(rep.reach_warning(tool).is_none());
}

#[test]
fn an_engraving_onto_a_surface_needs_the_mesh() {
    let tol = Tolerance::default();
    let tool = &tools()[0];
    let mut p = params(0.05, EntryKind::Plunge, None);
    p.onto = Some("face.stl".into());
    let spec = crate::ops::OpSpec::Engrave(p);
    assert_eq!(spec.onto(), Some("face.stl"));
    let drawing = crate::import::load(
        crate::import::Source::Bytes {
            name: "mark.dxf",
            bytes: crate::EXAMPLE_DXF.as_bytes(),
        },
        &crate::import::ImportOptions::default(),
    )
    .unwrap();
    let e = spec
        .run(
            &drawing,
            crate::ops::target::Target::Regions,
            tool,
            &tol,
            &Cancel::NEVER,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("no mesh of that name"), "{e}");
    // With the mesh, the example plate's lines that lie over the dome are cut on it, and
    // the ones past its edge refuse the whole operation by name.
    let mesh = heightfield_mesh([-20.0, -20.0], [80.0, 80.0], 100, 100, -3.0, |x, y| {
        -0.002 * (x * x + y * y)
    });
    let r = spec
        .run_from(
            &drawing,
            crate::ops::target::Target::Regions,
            tool,
            None,
            Some(&mesh),
            &tol,
            &Cancel::NEVER,
        )
        .unwrap();
    assert!(
        r.notes.iter().any(|n| n.starts_with("onto face.stl:")),
        "{:?}",
        r.notes
    );
    let dc = DropCutter::new(&mesh, CutterShape::of(tool, 0.0).unwrap());
    check(&r.toolpath, &dc, 0.05, None, tol.path_mm);
}
