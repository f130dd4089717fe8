use super::*;
use cavalier_contours::polyline::PlineSourceMut;

fn circle(r: f64) -> Pline {
    let mut p = Pline::new_closed();
    p.add(r, 0.0, 1.0);
    p.add(-r, 0.0, 1.0);
    p
}

#[test]
fn open_chain_needs_side_on() {
    let mut chain = Pline::new();
    chain.add(0.0, 0.0, 0.0);
    chain.add(1.0, 0.0, 0.3);
    chain.add(2.0, 0.0, 0.0);
    let tool = Tool::micro_flat(0.1);
    let tol = Tolerance::default();
    let p = ContourParams::default();
    let r = contour(
        &[],
        std::slice::from_ref(&chain),
        &tool,
        &p,
        &tol,
        &crate::ops::Cancel::NEVER,
    )
    .unwrap();
    assert!(
        r.warnings[0].contains("1 open chain(s)")
            && r.warnings[0].contains("no outside")
            && r.warnings[0].contains("side 'on'"),
        "{:?}",
        r.warnings
    );
    assert!(r.toolpath.moves.is_empty());
    let on = ContourParams {
        side: Side::On,
        ..p
    };
    let r = contour(&[], &[chain], &tool, &on, &tol, &crate::ops::Cancel::NEVER).unwrap();
    assert!(r.warnings.is_empty());
    assert!(r.toolpath.moves.iter().any(|m| m.class == MoveClass::Cut));
}

#[test]
fn inside_of_a_hole_smaller_than_the_tool_is_a_warning() {
    let tool = Tool::micro_flat(0.5);
    let p = ContourParams {
        side: Side::Inside,
        ..ContourParams::default()
    };
    let r = contour(
        &[circle(0.2)],
        &[],
        &tool,
        &p,
        &Tolerance::default(),
        &crate::ops::Cancel::NEVER,
    )
    .unwrap();
    assert!(r.warnings[0].contains("too small"), "{:?}", r.warnings);
}

#[test]
fn a_tool_wider_than_the_loop_it_goes_around_is_a_warning() {
    let tool = Tool::micro_flat(0.5);
    let p = ContourParams {
        side: Side::Outside,
        ..ContourParams::default()
    };
    let cut = |r: f64| {
        contour(
            &[circle(r)],
            &[],
            &tool,
            &p,
            &Tolerance::default(),
            &crate::ops::Cancel::NEVER,
        )
        .unwrap()
    };
    // A 0.4 mm pin with a 0.5 mm tool: cut, and said.
    let r = cut(0.2);
    assert!(!r.toolpath.moves.is_empty());
    assert!(
        r.warnings.iter().any(|w| w.contains("wider than loop 0")),
        "{:?}",
        r.warnings
    );
    // A 1 mm boss: nothing to say.
    assert!(cut(0.5).warnings.is_empty());
}

#[test]
fn tabs_raise_the_path_and_bad_tabs_are_errors() {
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    let p = ContourParams {
        tabs: 4,
        tab_width_mm: 0.3,
        tab_height_mm: 0.1,
        cut: crate::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.3,
                ..Heights::default()
            },
            ..ContourParams::default().cut
        },
        ..ContourParams::default()
    };
    let r = contour(
        &[circle(2.0)],
        &[],
        &tool,
        &p,
        &tol,
        &crate::ops::Cancel::NEVER,
    )
    .unwrap();
    let at_tab = r
        .toolpath
        .moves
        .iter()
        .filter(|m| (m.to.z + 0.2).abs() < 1e-9)
        .count();
    let at_floor = r
        .toolpath
        .moves
        .iter()
        .filter(|m| (m.to.z + 0.3).abs() < 1e-9)
        .count();
    assert!(at_tab >= 8 && at_floor >= 3, "{at_tab} {at_floor}");
    let bad = ContourParams {
        tab_height_mm: 0.5,
        ..p
    };
    assert!(
        contour(
            &[circle(2.0)],
            &[],
            &tool,
            &bad,
            &tol,
            &crate::ops::Cancel::NEVER
        )
        .unwrap_err()
        .to_string()
        .contains("tab_height_mm")
    );
}
