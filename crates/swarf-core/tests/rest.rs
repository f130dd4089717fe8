//! Rest machining: a small tool after a large one cuts what the large one left, nothing it
//! cleared (but a band of twice its radius next to the leftovers), and never the part.
//! Coverage and gouges are measured with the heightmap simulation, independently of the
//! generator.

use cavalier_contours::polyline::{PlineSource, PlineSourceMut};
use swarf_core::geometry::{Pline, Region, Tolerance, V2};
use swarf_core::ops::Heights;
use swarf_core::ops::adaptive::{AdaptiveParams, adaptive};
use swarf_core::ops::pocket::{PocketParams, pocket};
use swarf_core::ops::rest_regions;
use swarf_core::sim::{CutterProfile, Heightmap};
use swarf_core::tool::Tool;
use swarf_core::toolpath::Toolpath;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64, ccw: bool) -> Pline {
    let mut p = Pline::new_closed();
    let pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
    for i in 0..4 {
        let (x, y) = pts[if ccw { i } else { 3 - i }];
        p.add(x, y, 0.0);
    }
    p
}

/// A 10 × 6 mm pocket with sharp corners, a 2 × 2 mm square island and a 1.2 mm wide slot
/// running in from the right wall (narrower than the big tool, wider than the small one).
fn part() -> Region {
    let mut o = Pline::new_closed();
    for (x, y) in [
        (0.0, 0.0),
        (10.0, 0.0),
        (10.0, 2.4),
        (12.5, 2.4),
        (12.5, 3.6),
        (10.0, 3.6),
        (10.0, 6.0),
        (0.0, 6.0),
    ] {
        o.add(x, y, 0.0);
    }
    Region {
        outer: o,
        islands: vec![rect(4.0, 2.0, 6.0, 4.0, false)],
    }
}

fn params(rest: Option<f64>) -> PocketParams {
    PocketParams {
        rest_from_diameter_mm: rest,
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.1,
                ..Heights::default()
            },
            ..PocketParams::default().cut
        },
        ..PocketParams::default()
    }
}

fn simulate(hm: &mut Heightmap, tp: &Toolpath, tool: &Tool) {
    let prof = CutterProfile::of(tool);
    let mut from = tp.start;
    for m in &tp.moves {
        hm.cut(from, m, &prof);
        from = m.to;
    }
}

fn stock() -> Heightmap {
    Heightmap::new(V2::new(-0.5, -0.5), V2::new(13.0, 6.5), -1.0, 0.0, 0.01)
}

fn inside(r: &Region, p: V2) -> bool {
    r.outer.winding_number(p.into()) != 0
        && r.islands.iter().all(|i| i.winding_number(p.into()) == 0)
}

/// A 2 mm pocket of the part, then `generate` with a 0.4 mm tool resting after it
/// (`Some(2.0)`) and clearing all of it (`None`): the rest cuts only what the big tool left,
/// and all of it.
fn check_rest(generate: impl Fn(&Region, &Tool, Option<f64>) -> swarf_core::ops::OpResult) {
    let tol = Tolerance::default();
    let region = part();
    let (big, small) = (Tool::micro_flat(2.0), Tool::micro_flat(0.4));
    let big_tp = pocket(
        std::slice::from_ref(&region),
        &big,
        &params(None),
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    let rest = generate(&region, &small, Some(2.0));
    let full = generate(&region, &small, None);
    assert!(rest.warnings.is_empty(), "{:?}", rest.warnings);
    verify_rest(
        &region,
        (&big, &big_tp.toolpath),
        &small,
        &rest.toolpath,
        &full.toolpath,
    );
}

#[test]
fn rest_cuts_only_what_the_big_tool_left_and_all_of_it() {
    check_rest(|region, tool, rest| {
        pocket(
            std::slice::from_ref(region),
            tool,
            &params(rest),
            &Tolerance::default(),
            &swarf_core::ops::Cancel::NEVER,
        )
        .unwrap()
    });
}

#[test]
fn adaptive_rest_cuts_only_what_the_big_tool_left_and_all_of_it() {
    check_rest(|region, tool, rest| {
        let p = AdaptiveParams {
            max_engagement_deg: 50.0,
            rest_from_diameter_mm: rest,
            cut: swarf_core::ops::CutParams {
                heights: params(None).cut.heights,
                ..AdaptiveParams::default().cut
            },
            ..AdaptiveParams::default()
        };
        adaptive(
            std::slice::from_ref(region),
            tool,
            &p,
            &Tolerance::default(),
            &swarf_core::ops::Cancel::NEVER,
        )
        .unwrap()
    });
}

/// The rest toolpath is a small fraction of a full one, cuts nothing outside the pocket, and
/// cuts every cell the small tool reaches that the big tool left.
fn verify_rest(
    region: &Region,
    (big, big_tp): (&Tool, &Toolpath),
    small: &Tool,
    rest: &Toolpath,
    full: &Toolpath,
) {
    // A small fraction of a full pocket with the small tool.
    let len = |tp: &Toolpath| tp.stats(3000.0).feed_length_mm;
    let (l_rest, l_full) = (len(rest), len(full));
    assert!(
        l_rest > 0.0 && l_rest < 0.2 * l_full,
        "rest {l_rest} mm, full {l_full} mm"
    );

    let mut two = stock();
    simulate(&mut two, big_tp, big);
    let after_big = two.clone();
    simulate(&mut two, rest, small);
    let mut one = stock();
    simulate(&mut one, full, small);

    let cut = |hm: &Heightmap, i: usize, j: usize| hm.at(hm.centre(i, j)).unwrap() < -0.05;
    let (nx, ny) = (one.nx, one.ny);
    let (mut missed, mut left_by_big, mut gouged) = (0, 0, 0);
    for j in 0..ny {
        for i in 0..nx {
            let p = one.centre(i, j);
            if !inside(region, p) && cut(&two, i, j) {
                // A cell cut outside the part's pocket (centre more than a cell from a wall).
                let near_wall = (-1..=1).any(|dj: i64| {
                    (-1..=1).any(|di: i64| {
                        let q = V2::new(p.x + di as f64 * 0.01, p.y + dj as f64 * 0.01);
                        inside(region, q)
                    })
                });
                if !near_wall {
                    gouged += 1;
                }
            }
            if cut(&one, i, j) && !cut(&after_big, i, j) {
                left_by_big += 1;
                if !cut(&two, i, j) {
                    // Within a cell of something cut: sampling, not material left.
                    let near = (-2..=2).any(|dj: i64| {
                        (-2..=2).any(|di: i64| {
                            let (a, b) = (i as i64 + di, j as i64 + dj);
                            a >= 0
                                && b >= 0
                                && (a as usize) < nx
                                && (b as usize) < ny
                                && cut(&two, a as usize, b as usize)
                        })
                    });
                    if !near {
                        missed += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "rest {l_rest:.2} mm of feed against {l_full:.2} mm for a full pocket; \
         {left_by_big} cells (10 µm) left by the big tool, {missed} missed"
    );
    assert_eq!(gouged, 0, "cells cut outside the pocket");
    assert!(
        left_by_big > 1000,
        "the big tool leaves corners and the slot: {left_by_big} cells"
    );
    assert_eq!(
        missed, 0,
        "cells the small tool reaches but rest machining left"
    );
}

#[test]
fn rest_regions_are_empty_where_the_big_tool_reached_everything() {
    // A round pocket larger than the big tool: nothing left, so nothing to cut.
    let tol = Tolerance::default();
    let mut o = Pline::new_closed();
    o.add(5.0, 0.0, 1.0);
    o.add(-5.0, 0.0, 1.0);
    let round = Region {
        outer: o,
        islands: Vec::new(),
    };
    let rest = pocket(
        std::slice::from_ref(&round),
        &Tool::micro_flat(0.4),
        &params(Some(2.0)),
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    assert!(
        rest.toolpath
            .moves
            .iter()
            .all(|m| m.motion == swarf_core::toolpath::Motion::Rapid || m.to.z >= -1e-9),
        "a cut in a pocket the big tool cleared entirely"
    );
    // The rest region is a thin ring: every point is within 2r (+ tolerance) of the wall.
    let rr = rest_regions(&[round], 2.0, 0.2, &tol);
    assert_eq!(rr.len(), 1);
    assert_eq!(rr[0].islands.len(), 1);
    let island_r = (rr[0].islands[0].area().abs() / std::f64::consts::PI).sqrt();
    assert!((island_r - (5.0 - 0.4)).abs() < 1e-3, "{island_r}");
    // A rest tool not smaller than the first is refused by name.
    let e = pocket(
        &rr,
        &Tool::micro_flat(0.4),
        &params(Some(0.3)),
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap_err();
    assert!(e.to_string().contains("rest_from_diameter_mm"), "{e}");
}
