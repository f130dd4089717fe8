use super::*;
use crate::ops::{Heights, OpError};
use cavalier_contours::polyline::PlineSourceMut;

fn square(x: f64, y: f64, s: f64) -> Pline {
    let mut p = Pline::new_closed();
    p.add(x, y, 0.0);
    p.add(x + s, y, 0.0);
    p.add(x + s, y + s, 0.0);
    p.add(x, y + s, 0.0);
    p
}

fn params(depth: f64) -> PocketParams {
    PocketParams {
        stepover: Stepover::Fraction(0.4),
        cut: crate::ops::CutParams {
            heights: Heights {
                final_depth_mm: depth,
                ..Heights::default()
            },
            ..PocketParams::default().cut
        },
        ..PocketParams::default()
    }
}

#[test]
fn bad_parameters_are_named_errors() {
    let region = Region {
        outer: square(0.0, 0.0, 2.0),
        islands: vec![],
    };
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    let err = |p: PocketParams, t: &Tool| {
        pocket(
            std::slice::from_ref(&region),
            t,
            &p,
            &tol,
            &crate::ops::Cancel::NEVER,
        )
        .unwrap_err()
        .to_string()
    };
    assert!(
        err(
            PocketParams {
                stepover: Stepover::Fraction(1.5),
                ..params(0.1)
            },
            &tool
        )
        .contains("stepover")
    );
    assert!(
        err(
            PocketParams {
                stepover: Stepover::Fraction(0.0),
                ..params(0.1)
            },
            &tool
        )
        .contains("stepover")
    );
    assert!(err(params(0.0), &tool).contains("final_depth_mm"));
    assert!(err(params(f64::NAN), &tool).contains("final_depth_mm"));
    assert!(
        err(
            PocketParams {
                cut: crate::ops::CutParams {
                    stepdown_mm: Some(-1.0),
                    ..params(0.1).cut
                },
                ..params(0.1)
            },
            &tool
        )
        .contains("stepdown_mm")
    );
    let mut bad = tool.clone();
    bad.diameter_mm = 0.0;
    assert!(matches!(
        pocket(
            std::slice::from_ref(&region),
            &bad,
            &params(0.1),
            &tol,
            &crate::ops::Cancel::NEVER
        ),
        Err(OpError::Tool(_))
    ));
}

#[test]
fn narrow_region_is_a_warning_naming_it() {
    let regions = vec![
        Region {
            outer: square(0.0, 0.0, 0.15),
            islands: vec![],
        },
        Region {
            outer: square(1.0, 0.0, 1.0),
            islands: vec![],
        },
    ];
    let r = pocket(
        &regions,
        &Tool::micro_flat(0.2),
        &params(0.05),
        &Tolerance::default(),
        &crate::ops::Cancel::NEVER,
    )
    .unwrap();
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("region 0") && r.warnings[0].contains("narrower"));
    assert!(!r.toolpath.moves.is_empty());
}

#[test]
fn never_a_straight_plunge_into_stock() {
    let region = Region {
        outer: square(0.0, 0.0, 2.0),
        islands: vec![],
    };
    for entry in [EntryKind::Helix, EntryKind::Ramp] {
        let mut p = params(0.2);
        p.cut.stepdown_mm = Some(0.05);
        p.cut.entry.kind = entry;
        let r = pocket(
            std::slice::from_ref(&region),
            &Tool::micro_flat(0.2),
            &p,
            &Tolerance::default(),
            &crate::ops::Cancel::NEVER,
        )
        .unwrap();
        // Track the deepest Z cut so far at each place is too much; check instead that every
        // vertical feed move ends no deeper than the previous level's floor (cleared space).
        let mut from = r.toolpath.start;
        let mut deepest = 0.0f64;
        for m in &r.toolpath.moves {
            let vertical = m.to.x == from.x && m.to.y == from.y && m.to.z < from.z;
            if vertical && !matches!(m.motion, crate::toolpath::Motion::Rapid) {
                assert!(
                    m.to.z >= deepest - 1e-12,
                    "plunge to {} below cleared {deepest}",
                    m.to.z
                );
            }
            if m.class == MoveClass::Cut {
                deepest = deepest.min(m.to.z);
            }
            from = m.to;
        }
    }
}

/// A stay-down link is checked exactly against the domain: a sliver of 2 µm between two
/// components (what the tool cannot reach, so uncut stock) stops a link that crosses it,
/// however long the link; a link along a boundary, or ending on one, is inside.
#[test]
fn links_across_a_sliver_narrower_than_any_sample_step_are_refused() {
    let tol = Tolerance::default();
    let comp = |p: Pline| OffsetComponent {
        bbox: crate::geometry::pline_bbox(&p),
        outer: p,
        holes: Vec::new(),
    };
    let a = comp(square(0.0, 0.0, 1.0));
    let b = comp(square(1.002, 0.0, 1.0));
    let both = [a.clone(), b];
    assert!(!inside(&both, V2::new(0.5, 0.5), V2::new(1.5, 0.5), &tol));
    assert!(inside(&both, V2::new(0.1, 0.5), V2::new(0.9, 0.5), &tol));
    // Along an edge, and from corner to corner.
    assert!(inside(&both, V2::new(0.0, 0.0), V2::new(1.0, 0.0), &tol));
    assert!(inside(&both, V2::new(0.0, 0.0), V2::new(1.0, 1.0), &tol));
    // Out of a notch and back: a circle's hole in the square, the link through it.
    let mut hole = Pline::new_closed();
    hole.add(0.5, 0.45, 1.0);
    hole.add(0.5, 0.55, 1.0);
    let holed = [OffsetComponent {
        holes: vec![hole],
        ..a
    }];
    assert!(!inside(&holed, V2::new(0.1, 0.5), V2::new(0.9, 0.5), &tol));
    assert!(inside(&holed, V2::new(0.1, 0.2), V2::new(0.9, 0.2), &tol));
    // Grazing the hole's side within the path tolerance is inside.
    assert!(inside(
        &holed,
        V2::new(0.1, 0.55 - 0.5 * tol.path_mm),
        V2::new(0.9, 0.55 - 0.5 * tol.path_mm),
        &tol
    ));
}

#[test]
fn a_part_in_the_wrong_unit_is_refused_before_the_memory_goes() {
    // A 965 m square (a drawing in µm read as mm) with a 6 mm tool: about 390 000 km of feed.
    // Found by `swarf-cli bench` on a corpus mask: the offset tree's recursion overflowed the
    // stack, and walked without recursion it filled 24 GB.
    let region = Region {
        outer: square(-482_600.0, -482_600.0, 965_200.0),
        islands: vec![],
    };
    let tool = Tool::micro_flat(6.0);
    let e = pocket(
        std::slice::from_ref(&region),
        &tool,
        &params(0.1),
        &Tolerance::default(),
        &crate::ops::Cancel::NEVER,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("km") && e.contains("unit"), "{e}");
}
