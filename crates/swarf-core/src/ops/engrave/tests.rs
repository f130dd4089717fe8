use super::*;
use crate::toolpath::{Motion, Toolpath};

fn line(pts: &[(f64, f64)]) -> Pline {
    let mut p = Pline::new();
    for &(x, y) in pts {
        p.add(x, y, 0.0);
    }
    p
}

fn square(x0: f64, y0: f64, s: f64) -> Pline {
    let mut p = Pline::new_closed();
    for (x, y) in [(x0, y0), (x0 + s, y0), (x0 + s, y0 + s), (x0, y0 + s)] {
        p.add(x, y, 0.0);
    }
    p
}

fn tool() -> Tool {
    let mut t = Tool::micro_flat(0.2);
    t.flute_length_mm = 1.0;
    t
}

fn params(side: EngraveSide, stepdown: Option<f64>, entry: EntryKind) -> EngraveParams {
    let mut p = EngraveParams {
        side,
        ..EngraveParams::default()
    };
    p.cut.heights.final_depth_mm = 0.1;
    p.cut.stepdown_mm = stepdown;
    p.cut.entry.kind = entry;
    p
}

/// Engraves with the test tool and the default tolerance.
fn eng(chains: &[Pline], loops: &[Pline], p: &EngraveParams) -> Result<OpResult, OpError> {
    engrave(
        chains,
        loops,
        &tool(),
        p,
        &Tolerance::default(),
        &Cancel::NEVER,
    )
}

/// Every cutting move's start and end (feed moves below the top), with its motion.
fn cuts(tp: &Toolpath) -> Vec<(P3, P3)> {
    let mut from = tp.start;
    let mut v = Vec::new();
    for m in &tp.moves {
        if !matches!(m.motion, Motion::Rapid) && m.to.z < -1e-9 && from.z < -1e-9 {
            v.push((from, m.to));
        }
        from = m.to;
    }
    v
}

#[test]
fn the_centre_runs_on_left_or_right_of_an_open_line() {
    let chain = line(&[(0.0, 0.0), (10.0, 0.0)]);
    for (side, y) in [
        (EngraveSide::On, 0.0),
        (EngraveSide::Left, 0.1),
        (EngraveSide::Right, -0.1),
    ] {
        let p = params(side, None, EntryKind::Plunge);
        let out = eng(std::slice::from_ref(&chain), &[], &p).unwrap();
        let c = cuts(&out.toolpath);
        assert!(!c.is_empty());
        for (a, b) in c {
            assert!(
                (a.y - y).abs() < 1e-9 && (b.y - y).abs() < 1e-9,
                "{side:?}: {a:?} {b:?}"
            );
            assert!((b.z + 0.1).abs() < 1e-12);
        }
    }
}

#[test]
fn chains_go_nearest_first_each_from_its_nearer_end_and_levels_stay_down() {
    // Drawn in a poor order and direction: the far chain first, the near one backwards.
    let chains = [
        line(&[(20.0, 0.0), (25.0, 0.0)]),
        line(&[(5.0, 0.0), (1.0, 0.0)]),
        line(&[(10.0, 0.0), (15.0, 0.0)]),
    ];
    let p = params(EngraveSide::On, Some(0.025), EntryKind::Ramp);
    let out = eng(&chains, &[], &p).unwrap();
    let tp = &out.toolpath;
    // Four levels per chain, each chain entered once: three descents from above the top.
    let mut from = tp.start;
    let mut entries = 0;
    for m in &tp.moves {
        if from.z >= 0.0 && m.to.z < 0.0 {
            entries += 1;
        }
        from = m.to;
    }
    assert_eq!(entries, 3, "{:?}", tp.moves);
    // The first chain entered is the one nearest the origin, from its end at x = 1.
    let first = tp.moves.iter().position(|m| m.to.z < 0.0).unwrap();
    let entry_at = tp.moves[first - 1].to;
    assert!((entry_at.x - 1.0).abs() < 1e-9, "{entry_at:?}");
    // Every chain is cut at the full depth over its whole length.
    for (x0, x1) in [(1.0, 5.0), (10.0, 15.0), (20.0, 25.0)] {
        let at_depth: f64 = cuts(tp)
            .iter()
            .filter(|(a, b)| (a.z + 0.1).abs() < 1e-12 && (b.z + 0.1).abs() < 1e-12)
            .filter(|(a, _)| a.x >= x0 - 1e-9 && a.x <= x1 + 1e-9)
            .map(|(a, b)| (b.x - a.x).abs())
            .sum();
        assert!(at_depth >= x1 - x0 - 1e-9, "{x0}..{x1}: {at_depth}");
    }
    // Ramps never steeper than the angle; no straight plunge below the top.
    let tan = p.cut.entry.ramp_angle_deg.to_radians().tan();
    for (a, b) in cuts(tp) {
        let run = a.xy().dist(b.xy());
        assert!((a.z - b.z).abs() <= run * tan + 1e-9, "{a:?} -> {b:?}");
    }
    assert!(out.notes[0].contains("3 chain(s)"), "{:?}", out.notes);
    assert!(out.notes[0].contains("in the drawing's order"));
}

#[test]
fn loops_are_followed_inside_or_outside_and_a_loop_too_small_is_named() {
    let big = square(0.0, 0.0, 2.0);
    let tiny = square(5.0, 0.0, 0.15);
    // Left of a counter-clockwise loop is inside: the centre 0.1 mm in from the sides.
    let p = params(EngraveSide::Left, None, EntryKind::Ramp);
    let out = eng(&[], &[big.clone(), tiny.clone()], &p).unwrap();
    for (_, b) in cuts(&out.toolpath) {
        if (b.z + 0.1).abs() < 1e-12 {
            let inside = b.x.min(b.y).min(2.0 - b.x).min(2.0 - b.y);
            assert!((inside - 0.1).abs() < 1e-9, "{b:?}");
        }
    }
    let w = out.warnings.join("\n");
    assert!(
        w.contains("vanish") && w.contains("(5.0000, 0.0000)"),
        "{w}"
    );
    // Right is outside; a clockwise loop is taken counter-clockwise first.
    let p = params(EngraveSide::Right, None, EntryKind::Plunge);
    let cw = crate::geometry::reversed(&big);
    let out = eng(&[], &[cw], &p).unwrap();
    let mut n = 0;
    for (_, b) in cuts(&out.toolpath) {
        let out_by = (-b.x).max(-b.y).max(b.x - 2.0).max(b.y - 2.0);
        assert!(out_by > 0.1 - 1e-9, "{b:?}");
        n += 1;
    }
    assert!(n > 4);
}

#[test]
fn a_helix_entry_and_a_bad_offset_are_refused() {
    let chain = line(&[(0.0, 0.0), (1.0, 0.0)]);
    let p = params(EngraveSide::On, None, EntryKind::Helix);
    let e = eng(std::slice::from_ref(&chain), &[], &p).unwrap_err();
    assert!(e.to_string().contains("helix"), "{e}");
    let mut p = params(EngraveSide::Left, None, EntryKind::Ramp);
    p.offset_mm = Some(-1.0);
    let e = eng(&[chain], &[], &p).unwrap_err();
    assert!(e.to_string().contains("offset_mm"), "{e}");
}

#[test]
fn a_chain_too_short_to_ramp_into_is_named_not_cut_steeper() {
    // 1 µm long: a 0.05 mm ramp at 2° would need some 1,400 runs along it.
    let dot = line(&[(1.0, 1.0), (1.001, 1.0)]);
    let long = line(&[(3.0, 0.0), (8.0, 0.0)]);
    let mut p = params(EngraveSide::On, None, EntryKind::Ramp);
    p.cut.heights.final_depth_mm = 0.05;
    let out = eng(&[dot.clone(), long], &[], &p).unwrap();
    let w = out.warnings.join("\n");
    assert!(
        w.contains("too short to ramp") && w.contains("(1.0000, 1.0000)"),
        "{w}"
    );
    assert!(cuts(&out.toolpath).iter().all(|(a, _)| a.x >= 3.0 - 1e-9));
    // Plunging, it is cut.
    let p = params(EngraveSide::On, None, EntryKind::Plunge);
    let out = eng(&[dot], &[], &p).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert!(!cuts(&out.toolpath).is_empty());
}
