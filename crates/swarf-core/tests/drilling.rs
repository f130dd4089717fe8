//! Drilling on generated plates: canned and expanded programs read back by `LinuxCNC`'s
//! rs274 move alike, every hole is visited once to its depth, pecks are no deeper than asked,
//! GRBL gets no canned cycle, the simulated plate has holes of the right depth and nothing
//! else cut, and Swarf's own reader expands the cycles as rs274 does.

mod common;

use swarf_core::geometry::{Tolerance, V2};
use swarf_core::holes::{HoleGroup, find_holes};
use swarf_core::import::excellon::circle_loop;
use swarf_core::ops::Cancel;
use swarf_core::ops::drill::{DepthTo, DrillCycle, DrillParams, drill};
use swarf_core::post::{Dialect, PostOptions, Section, write_program};
use swarf_core::sim::heightmap::{CutterProfile, Heightmap};
use swarf_core::tool::{Tool, ToolShape};
use swarf_core::toolpath::{Motion, P3, Toolpath};
use swarf_core::verify::read_gcode;

fn rng(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

/// A plate of `n` holes of two diameters at random places at least 1 mm apart.
fn plate(n: usize, seed: u64) -> Vec<HoleGroup> {
    let mut s = seed;
    let mut pts: Vec<V2> = Vec::new();
    while pts.len() < n {
        let p = V2::new(rng(&mut s) * 20.0, rng(&mut s) * 12.0);
        if pts.iter().all(|q| q.dist(p) > 1.0) {
            pts.push(p);
        }
    }
    vec![
        HoleGroup {
            diameter_mm: 0.3,
            centres: pts[..n / 2].to_vec(),
        },
        HoleGroup {
            diameter_mm: 0.5,
            centres: pts[n / 2..].to_vec(),
        },
    ]
}

fn micro_drill(d: f64) -> Tool {
    let mut t = Tool::micro_flat(d);
    t.name = format!("{d} mm drill");
    t.shape = ToolShape::Drill {
        point_angle_deg: 118.0,
    };
    t.flute_length_mm = 6.0 * d;
    t.stickout_mm = t.flute_length_mm + 2.0;
    t
}

fn post(tp: &Toolpath, tool: &Tool, dialect: Dialect, expand: bool) -> String {
    write_program(
        &[Section {
            name: "drill",
            tool,
            toolpath: tp,
            coolant: None,
            place: None,
        }],
        &PostOptions {
            dialect,
            expand_cycles: expand,
            spindle_dwell_s: 0.0,
            ..PostOptions::default()
        },
        &Tolerance::default(),
    )
    .unwrap()
    .text
}

/// Points without repeats (rs274 reports a cycle's zero-length positioning moves).
fn dedup(pts: &[[f64; 5]]) -> Vec<[f64; 4]> {
    let mut out: Vec<[f64; 4]> = Vec::new();
    for p in pts {
        let q = [p[0], p[1], p[2], p[3]];
        if out
            .last()
            .is_none_or(|l| (0..3).any(|i| (l[i] - q[i]).abs() > 1e-9))
        {
            out.push(q);
        }
    }
    out
}

fn cases() -> Vec<(&'static str, DrillParams)> {
    let base = DrillParams {
        diameter_min_mm: 0.29,
        diameter_max_mm: Some(0.31),
        ..DrillParams::default()
    };
    let mut deep = base;
    deep.cut.heights.final_depth_mm = 1.2;
    vec![
        ("drill", base),
        (
            "dwell",
            DrillParams {
                dwell_s: 0.25,
                // G98: back to the clearance height between holes.
                retract_to_clearance: true,
                ..base
            },
        ),
        (
            "peck",
            DrillParams {
                cycle: DrillCycle::Peck,
                peck_mm: 0.15,
                ..deep
            },
        ),
        (
            "chip-break",
            DrillParams {
                cycle: DrillCycle::ChipBreak,
                peck_mm: 0.1,
                depth_to: DepthTo::FullDiameter,
                breakthrough_mm: 0.05,
                ..deep
            },
        ),
        (
            "decreasing",
            DrillParams {
                cycle: DrillCycle::Peck,
                peck_mm: 0.3,
                peck_reduction_mm: 0.05,
                min_peck_mm: 0.1,
                backoff_mm: 0.02,
                ..deep
            },
        ),
    ]
}

#[test]
fn canned_and_expanded_programs_move_alike_and_visit_each_hole_once() {
    let groups = plate(40, 7);
    let tool = micro_drill(0.3);
    let tol = Tolerance::default();
    let holes = &groups[0].centres;
    for (name, p) in cases() {
        let r = drill(&groups, &tool, &p, &tol, &Cancel::NEVER).unwrap();
        let tp = &r.toolpath;
        let canned = post(tp, &tool, Dialect::LinuxCnc, false);
        let expanded = post(tp, &tool, Dialect::LinuxCnc, true);
        let grbl = post(tp, &tool, Dialect::Grbl, false);
        let has_cycle = |t: &str| {
            t.lines()
                .any(|l| ["G73", "G81", "G82", "G83"].iter().any(|g| l.contains(g)))
        };
        assert!(
            !has_cycle(&expanded) && !has_cycle(&grbl),
            "{name}: moves only"
        );
        if name == "decreasing" {
            assert!(
                !has_cycle(&canned),
                "{name}: no canned cycle does this schedule"
            );
            assert!(r.notes.iter().any(|n| n.contains("not one a canned cycle")));
        } else {
            assert!(has_cycle(&canned), "{name}: a canned cycle:\n{canned}");
            // One cycle line and one X Y line per further hole.
            assert!(
                canned.lines().count() < expanded.lines().count() / 2,
                "{name}"
            );
        }
        // Swarf's reader expands the cycles into the generated moves.
        for text in [&canned, &expanded] {
            let back = read_gcode(text, P3::new(0.0, 0.0, 5.0), &tol).unwrap();
            let want: Vec<P3> = tp.moves.iter().map(|m| m.to).collect();
            let got: Vec<P3> = back.toolpath.moves.iter().map(|m| m.to).collect();
            // From the first move below the clearance height (how the program gets there
            // differs: the post goes up first).
            let got: Vec<P3> = got.into_iter().skip_while(|q| q.z >= 5.0).collect();
            let want: Vec<P3> = want.into_iter().skip_while(|q| q.z >= 5.0).collect();
            assert_eq!(got.len(), want.len(), "{name}");
            for (a, b) in got.iter().zip(&want) {
                assert!(a.dist(*b) < 1e-4, "{name}: {a:?} vs {b:?}");
            }
            if p.dwell_s > 0.0 {
                let dwell = p.dwell_s * holes.len() as f64;
                assert!(
                    (back.toolpath.dwell_seconds() - dwell).abs() < 1e-6,
                    "{name}: dwell read back"
                );
                // The cycle time counts the dwells, and the stops they make.
                let limits = swarf_core::sim::MachineLimits::default();
                let (with, _) = swarf_core::sim::cycle_time(&back.toolpath, &limits);
                let mut none = back.toolpath.clone();
                none.dwells.clear();
                let (without, _) = swarf_core::sim::cycle_time(&none, &limits);
                assert!(
                    with >= without + dwell - 1e-9,
                    "{name}: {with} vs {without}"
                );
            }
        }
        let Some((rep_c, pts_c)) = common::rs274(&canned, "linuxcnc", &format!("drill-c-{name}"))
        else {
            return;
        };
        let (rep_e, pts_e) =
            common::rs274(&expanded, "linuxcnc", &format!("drill-e-{name}")).unwrap();
        for rep in [&rep_c, &rep_e] {
            assert_eq!(
                rep["errors"].as_array().map_or(0, Vec::len),
                0,
                "{name}: {rep}"
            );
        }
        let (c, e) = (dedup(&pts_c), dedup(&pts_e));
        assert_eq!(c.len(), e.len(), "{name}: the same motion");
        for (a, b) in c.iter().zip(&e) {
            for i in 0..3 {
                assert!((a[i] - b[i]).abs() < 1e-4, "{name}: {a:?} vs {b:?}");
            }
            assert_eq!(a[3], b[3], "{name}: rapid or feed alike at {a:?}");
        }
        // Every hole once, to its depth; pecks no deeper than asked.
        let bottom = -(p.cut.heights.final_depth_mm
            + p.breakthrough_mm
            + if p.depth_to == DepthTo::FullDiameter {
                tool.tip_length_mm()
            } else {
                0.0
            });
        let first_peck = if p.peck_mm > 0.0 { p.peck_mm } else { 0.3 };
        for h in holes {
            let at: Vec<&[f64; 4]> = c
                .iter()
                .filter(|q| (q[0] - h.x).abs() < 1e-4 && (q[1] - h.y).abs() < 1e-4)
                .collect();
            let bottoms = c
                .windows(2)
                .filter(|w| {
                    w[1][3] == 0.0
                        && (w[1][0] - h.x).abs() < 1e-4
                        && (w[1][1] - h.y).abs() < 1e-4
                        && (w[1][2] - bottom).abs() < 1e-4
                })
                .count();
            assert_eq!(bottoms, 1, "{name}: hole {h:?} drilled once to {bottom}");
            assert!(at.iter().all(|q| q[2] >= bottom - 1e-4), "{name}: too deep");
            let mut deepest = p.cut.heights.safe_mm;
            for w in c.windows(2) {
                let on = (w[1][0] - h.x).abs() < 1e-4 && (w[1][1] - h.y).abs() < 1e-4;
                if on && w[1][3] == 0.0 {
                    let peck = deepest - w[1][2];
                    if matches!(p.cycle, DrillCycle::Peck | DrillCycle::ChipBreak) {
                        assert!(peck <= first_peck + 1e-4, "{name}: a {peck} mm peck");
                    }
                    deepest = deepest.min(w[1][2]);
                }
            }
        }
        // The other holes (0.5 mm) are not touched.
        for h in &groups[1].centres {
            assert!(
                !c.iter()
                    .any(|q| q[3] == 0.0 && (q[0] - h.x).abs() < 1e-4 && (q[1] - h.y).abs() < 1e-4),
                "{name}: a 0.5 mm hole was drilled"
            );
        }
    }
}

#[test]
fn a_drilled_plate_has_holes_of_the_right_depth_and_nothing_else_cut() {
    let groups = plate(12, 11);
    let tool = micro_drill(0.5);
    let p = DrillParams {
        cycle: DrillCycle::Peck,
        peck_mm: 0.2,
        diameter_min_mm: 0.45,
        ..DrillParams::default()
    };
    let r = drill(&groups, &tool, &p, &Tolerance::default(), &Cancel::NEVER).unwrap();
    let cell = 0.02;
    let mut hm = Heightmap::new(V2::new(-1.0, -1.0), V2::new(21.0, 13.0), -3.0, 0.0, cell);
    let prof = CutterProfile::of(&tool);
    let mut from = r.toolpath.start;
    for m in &r.toolpath.moves {
        if !matches!(m.motion, Motion::Rapid) {
            hm.cut(from, m, &prof);
        }
        from = m.to;
    }
    for h in &groups[1].centres {
        let z = hm.at(*h).unwrap();
        // The tip's cone: the cell's centre is within half a cell diagonal of the hole's.
        let slack = cell * 0.75 / (59f64.to_radians()).tan();
        assert!(
            z <= -0.5 + slack + 1e-6 && z >= -0.5 - 1e-6,
            "hole at {h:?}: {z}"
        );
    }
    // Nothing cut farther than the drill's radius (and a cell) from a drilled hole; the
    // 0.3 mm holes are left alone.
    for i in 0..1100 {
        for j in 0..700 {
            let q = V2::new(-1.0 + f64::from(i) * cell, -1.0 + f64::from(j) * cell);
            let near = groups[1]
                .centres
                .iter()
                .any(|h| h.dist(q) <= 0.25 + 2.0 * cell);
            if !near {
                let z = hm.at(q).unwrap();
                assert!(z >= -1e-9, "cut at {q:?}: {z}");
            }
        }
    }
}

#[test]
fn holes_in_a_drawing_are_found_by_diameter() {
    let mut d = swarf_core::import::import_dxf(
        swarf_core::EXAMPLE_DXF.as_bytes(),
        &swarf_core::import::DxfOptions::default(),
    )
    .unwrap();
    let before = find_holes(&d, &Tolerance::default());
    d.closed_loops.push(circle_loop(V2::new(100.0, 100.0), 0.4));
    d.closed_loops
        .push(circle_loop(V2::new(102.0, 100.0), 0.400_000_2));
    d.closed_loops.push(circle_loop(V2::new(102.0, 100.0), 0.4));
    let after = find_holes(&d, &Tolerance::default());
    let g = after
        .iter()
        .find(|g| (g.diameter_mm - 0.8).abs() < 1e-3)
        .unwrap();
    // 0.4 µm apart in diameter is one group; a hole drawn twice counts once.
    assert_eq!(
        g.centres.len(),
        before
            .iter()
            .find(|g| (g.diameter_mm - 0.8).abs() < 1e-3)
            .map_or(0, |g| g.centres.len())
            + 2
    );
}

/// `verify` on a drilled plate: a drill plunges by design (no plunge warning, no rapid through
/// stock on a peck's return); the same moves with an end mill are plunges.
#[test]
fn verify_takes_a_drills_plunges_as_drilling() {
    let groups = plate(8, 5);
    let tool = micro_drill(0.3);
    let p = DrillParams {
        cycle: DrillCycle::Peck,
        peck_mm: 0.15,
        diameter_max_mm: Some(0.31),
        ..DrillParams::default()
    };
    let tol = Tolerance::default();
    let r = drill(&groups, &tool, &p, &tol, &Cancel::NEVER).unwrap();
    let loops: Vec<swarf_core::geometry::Pline> = groups
        .iter()
        .flat_map(|g| {
            g.centres
                .iter()
                .map(|c| circle_loop(*c, g.diameter_mm * 0.5))
        })
        .collect();
    let opts = swarf_core::verify::VerifyOptions {
        stock_margin_mm: 1.0,
        ..Default::default()
    };
    let part = swarf_core::verify::PartRef::Drawing(&loops);
    let rep = swarf_core::verify::verify(&r.toolpath, None, part, &tool, &opts, &tol);
    assert!(rep.plunges.is_empty(), "{:?}", rep.plunges);
    assert!(
        rep.rapids_through_stock.is_empty(),
        "{:?}",
        rep.rapids_through_stock
    );
    let mill = Tool::micro_flat(0.3);
    let rep = swarf_core::verify::verify(&r.toolpath, None, part, &mill, &opts, &tol);
    assert!(!rep.plunges.is_empty());
}

/// Drilling starts where the operation before ended: the nearest hole to it first.
#[test]
fn drilling_starts_near_where_the_operation_before_ended() {
    let mut job = swarf_core::job::Job::from_toml(swarf_core::job::EXAMPLE_JOB_TOML).unwrap();
    let mut op = job.operations[0].clone();
    op.name = "holes".into();
    op.tool = 3;
    op.spec = swarf_core::ops::OpSpec::default_of("drill").unwrap();
    job.operations.push(op);
    let out = job.run(std::path::Path::new(".")).unwrap();
    let before = out.operations[1].2.toolpath.end().xy();
    let drilled = &out.operations[2].2;
    assert_eq!(drilled.toolpath.start.xy(), before);
    let first = drilled.hole_order[0];
    for h in &drilled.hole_order {
        assert!(
            first.dist(before) <= h.dist(before) + 1e-12,
            "{first:?} before {h:?}"
        );
    }
    // From elsewhere, another hole comes first.
    let groups = plate(10, 3);
    let tool = micro_drill(0.3);
    let p = DrillParams {
        diameter_max_mm: Some(0.31),
        ..DrillParams::default()
    };
    let tol = Tolerance::default();
    for from in [V2::new(0.0, 0.0), V2::new(20.0, 12.0)] {
        let r = swarf_core::ops::drill::drill_from(&groups, &tool, &p, from, &tol, &Cancel::NEVER)
            .unwrap();
        let nearest = groups[0]
            .centres
            .iter()
            .min_by(|a, b| a.dist(from).total_cmp(&b.dist(from)))
            .unwrap();
        assert_eq!(r.hole_order[0], *nearest);
    }
}
