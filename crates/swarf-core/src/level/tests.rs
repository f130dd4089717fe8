use super::*;
use crate::toolpath::MoveClass;

/// A warped board: tilt, a bow and a ripple, up to ~0.1 mm.
fn surface(p: V2) -> f64 {
    0.004 * p.x - 0.002 * p.y
        + 0.0006 * (p.x - 10.0) * (p.y - 5.0) / 10.0
        + 0.01 * (p.x * 0.4).sin() * (p.y * 0.3).cos()
}

fn board_map() -> HeightMap {
    let mut area = Bbox2::EMPTY;
    area.add_point(V2::new(0.0, 0.0));
    area.add_point(V2::new(20.0, 12.0));
    HeightMap::from_fn(area, 11, 7, surface).unwrap()
}

/// A path at depth: a diagonal line, a quarter arc, a full circle in halves, a helix.
fn path() -> Toolpath {
    let d = -0.05;
    let mut tp = Toolpath::new(P3::new(1.0, 1.0, 2.0));
    tp.rapid(P3::new(1.0, 1.0, 0.5));
    tp.line(P3::new(1.0, 1.0, d), MoveClass::Entry, 50.0);
    tp.line(P3::new(17.3, 9.1, d), MoveClass::Cut, 300.0);
    tp.arc(
        P3::new(13.3, 5.1, d),
        V2::new(13.3, 9.1),
        false,
        MoveClass::Cut,
        300.0,
    );
    tp.arc(
        P3::new(13.3, 1.1, d),
        V2::new(13.3, 3.1),
        true,
        MoveClass::Cut,
        300.0,
    );
    tp.arc(
        P3::new(13.3, 5.1, d),
        V2::new(13.3, 3.1),
        true,
        MoveClass::Cut,
        300.0,
    );
    tp.arc(
        P3::new(13.4, 5.1, d - 0.02),
        V2::new(13.35, 5.1),
        true,
        MoveClass::Cut,
        300.0,
    );
    tp.rapid(P3::new(13.4, 5.1, 2.0));
    tp
}

#[test]
fn the_levelled_path_keeps_the_depth_below_the_surface_and_its_arcs() {
    let map = board_map();
    let tol = Tolerance::default();
    let tp = path();
    let (lv, rep) = level(&tp, &map, &tol);
    assert!(rep.max_error_mm <= tol.path_mm, "{rep:?}");
    assert_eq!(rep.outside_mm, 0.0);
    // Arcs remain arcs.
    let arcs = lv
        .moves
        .iter()
        .filter(|m| matches!(m.motion, Motion::Arc { .. }))
        .count();
    assert!(arcs >= 4, "{arcs}");
    // Along every cutting move (sampled finely), Z − surface = the programmed depth ± 0.5 µm.
    let mut from = lv.start;
    let mut checked = 0;
    for m in &lv.moves {
        if m.class == MoveClass::Cut {
            for k in 0..=20 {
                let f = f64::from(k) / 20.0;
                let p = match m.motion {
                    Motion::Arc { centre, ccw } => {
                        let s = arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                        let a = (from.xy() - centre).angle() + s * f;
                        let r = from.xy().dist(centre);
                        let xy = centre + V2::from_angle(a) * r;
                        P3::new(xy.x, xy.y, from.z + (m.to.z - from.z) * f)
                    }
                    _ => P3::new(
                        from.x + (m.to.x - from.x) * f,
                        from.y + (m.to.y - from.y) * f,
                        from.z + (m.to.z - from.z) * f,
                    ),
                };
                // The issue asks 0.5 µm; the path tolerance (0.1 µm) is what is held.
                let held = tol.path_mm + 1e-9;
                let depth = p.z - map.height(p.xy());
                // The helix goes from -0.05 to -0.07; elsewhere the depth is -0.05.
                assert!(
                    depth <= -0.05 + held && depth >= -0.07 - held,
                    "{depth} at {p:?}"
                );
                if depth > -0.0501 {
                    assert!((depth + 0.05).abs() <= held, "{depth} at {p:?}");
                }
                checked += 1;
            }
        }
        from = m.to;
    }
    assert!(checked > 100);
    // Rapids move with the surface; the path's ends stay in XY.
    assert_eq!(
        lv.moves.last().unwrap().to.xy(),
        tp.moves.last().unwrap().to.xy()
    );
}

#[test]
fn a_flat_map_changes_nothing_but_the_offset_and_a_tilted_one_keeps_every_arc() {
    let tol = Tolerance::default();
    let mut area = Bbox2::EMPTY;
    area.add_point(V2::new(0.0, 0.0));
    area.add_point(V2::new(20.0, 12.0));
    let flat = HeightMap::from_fn(area, 3, 3, |_| 0.1).unwrap();
    let tp = path();
    let (lv, rep) = level(&tp, &flat, &tol);
    assert_eq!(rep.arcs_split, 0);
    // Every move's end is still there, 0.1 higher (lines are split where they cross the
    // grid's lines, nothing else).
    for a in &tp.moves {
        assert!(
            lv.moves
                .iter()
                .any(|b| b.to.xy() == a.to.xy() && (b.to.z - a.to.z - 0.1).abs() < 1e-12),
            "{a:?}"
        );
    }
    // A plane is linear along a line, but not along an arc in the angle: arcs are split only
    // as far as the tolerance needs.
    let tilted = HeightMap::from_fn(area, 3, 3, |p| 0.001 * p.x).unwrap();
    let (_, rep) = level(&tp, &tilted, &tol);
    assert!(rep.max_error_mm <= tol.path_mm);
    assert_eq!(rep.arcs_kept + rep.arcs_split, 4);
    assert!(rep.arcs_split > 0, "{rep:?}");
}

#[test]
fn maps_round_trip_and_bad_ones_are_refused() {
    let map = board_map();
    let back = HeightMap::from_json(&map.to_json()).unwrap();
    assert_eq!(back, map);
    // Full resolution: no rounding of the heights.
    assert_eq!(back.z[7].to_bits(), map.z[7].to_bits());
    let mut bad = map.clone();
    bad.z.pop();
    let e = HeightMap::from_json(&bad.to_json()).unwrap_err();
    assert!(e.to_string().contains("heights for"), "{e}");
    let e = HeightMap::from_json("{\"version\": 1}").unwrap_err();
    assert!(e.to_string().contains("not a Swarf height map"), "{e}");
    let mut area = Bbox2::EMPTY;
    area.add_point(V2::new(0.0, 0.0));
    assert!(HeightMap::grid(area, 5, 5).is_err());
}

#[test]
fn heights_between_nodes_are_bilinear_and_outside_the_edge_holds() {
    let mut area = Bbox2::EMPTY;
    area.add_point(V2::new(0.0, 0.0));
    area.add_point(V2::new(10.0, 10.0));
    let map = HeightMap::from_fn(
        area,
        2,
        2,
        |p| if p.x > 5.0 && p.y > 5.0 { 1.0 } else { 0.0 },
    )
    .unwrap();
    assert!((map.height(V2::new(5.0, 5.0)) - 0.25).abs() < 1e-12);
    assert!((map.height(V2::new(20.0, 20.0)) - 1.0).abs() < 1e-12);
    // A line leaving the map is said.
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
    tp.line(P3::new(0.0, 0.0, -0.1), MoveClass::Entry, 50.0);
    tp.line(P3::new(13.0, 0.0, -0.1), MoveClass::Cut, 50.0);
    let (_, rep) = level(&tp, &map, &Tolerance::default());
    assert!((rep.outside_mm - 3.0).abs() < 1e-9);
}
