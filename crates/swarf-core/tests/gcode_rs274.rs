//! Exported programs read back by `LinuxCNC`'s standalone interpreter: zero errors, strict arc
//! checks, and the motion it reports matches the toolpath; golden files per dialect.

mod common;

use std::path::PathBuf;

use cavalier_contours::polyline::PlineSourceMut;

use common::rs274;
use swarf_core::geometry::{Tolerance, V2, biarc};
use swarf_core::import::{DxfOptions, import_dxf};
use swarf_core::ops::adaptive::{AdaptiveParams, adaptive};
use swarf_core::ops::contour::{ContourParams, Side, contour};
use swarf_core::ops::pocket::{Pattern, PocketParams, pocket};
use swarf_core::ops::{Heights, Stepover};
use swarf_core::post::{Dialect, PostOptions, Program, Section, write_program};
use swarf_core::tool::Tool;
use swarf_core::toolpath::{Motion, P3, Toolpath, arc_sweep};

fn example_jobs() -> Vec<(&'static str, Toolpath)> {
    let d = import_dxf(swarf_core::EXAMPLE_DXF.as_bytes(), &DxfOptions::default()).unwrap();
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    let heights = Heights {
        final_depth_mm: 0.1,
        ..Heights::default()
    };
    // Pocket the recesses (the regions inside the plate's holes are the plate's islands; pocket
    // those loops as regions of their own).
    let recesses: Vec<swarf_core::geometry::Region> = d.regions[0]
        .islands
        .iter()
        .map(|i| {
            let mut o = i.clone();
            swarf_core::geometry::offset::orient(&mut o, true);
            swarf_core::geometry::Region {
                outer: o,
                islands: vec![],
            }
        })
        .collect();
    let p = PocketParams {
        stepover: Stepover::Fraction(0.4),
        cut: swarf_core::ops::CutParams {
            heights,
            stepdown_mm: Some(0.05),
            allowance_radial_mm: 0.01,
            ..PocketParams::default().cut
        },
        ..PocketParams::default()
    };
    let pocket_tp = pocket(&recesses, &tool, &p, &tol, &swarf_core::ops::Cancel::NEVER)
        .unwrap()
        .toolpath;
    let z = PocketParams {
        pattern: Pattern::Zigzag,
        zigzag_angle_deg: 30.0,
        ..p
    };
    let zig_tp = pocket(
        &recesses[..3],
        &tool,
        &z,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    let c = ContourParams {
        side: Side::Outside,
        tabs: 3,
        tab_height_mm: 0.1,
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.3,
                ..Heights::default()
            },
            stepdown_mm: Some(0.1),
            ..ContourParams::default().cut
        },
        ..ContourParams::default()
    };
    let contour_tp = contour(
        std::slice::from_ref(&d.regions[0].outer),
        &[],
        &tool,
        &c,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    let a = AdaptiveParams {
        max_engagement_deg: 45.0,
        cut: swarf_core::ops::CutParams {
            heights,
            stepdown_mm: Some(0.05),
            allowance_radial_mm: 0.01,
            ..AdaptiveParams::default().cut
        },
        ..AdaptiveParams::default()
    };
    let adaptive_tp = adaptive(
        &recesses[..4],
        &tool,
        &a,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    vec![
        ("pocket", pocket_tp),
        ("zigzag", zig_tp),
        ("contour", contour_tp),
        ("adaptive", adaptive_tp),
    ]
}

fn post(tp: &Toolpath, dialect: Dialect, decimals: u32) -> Program {
    let tool = Tool::micro_flat(0.2);
    write_program(
        &[Section {
            name: "op",
            tool: &tool,
            toolpath: tp,
            coolant: None,
            place: None,
        }],
        &PostOptions {
            dialect,
            decimals,
            ..PostOptions::default()
        },
        &Tolerance::default(),
    )
    .unwrap()
}

/// Distance of a point from what move `mi` of `tp` describes.
fn distance_to_move(tp: &Toolpath, mi: usize, p: [f64; 3]) -> f64 {
    let from = if mi == 0 {
        tp.start
    } else {
        tp.moves[mi - 1].to
    };
    let m = tp.moves[mi];
    let q = P3::new(p[0], p[1], p[2]);
    match m.motion {
        Motion::Rapid | Motion::Line => {
            let (ax, ay, az) = (m.to.x - from.x, m.to.y - from.y, m.to.z - from.z);
            let l2 = ax * ax + ay * ay + az * az;
            let t = if l2 > 0.0 {
                (((q.x - from.x) * ax + (q.y - from.y) * ay + (q.z - from.z) * az) / l2)
                    .clamp(0.0, 1.0)
            } else {
                0.0
            };
            q.dist(P3::new(from.x + ax * t, from.y + ay * t, from.z + az * t))
        }
        Motion::Arc { centre, ccw } => {
            let sweep = arc_sweep(from.xy(), m.to.xy(), centre, ccw);
            let a =
                cavalier_contours::polyline::PlineVertex::new(from.x, from.y, (sweep / 4.0).tan());
            let b = cavalier_contours::polyline::PlineVertex::new(m.to.x, m.to.y, 0.0);
            let dxy = biarc::seg_distance(a, b, V2::new(q.x, q.y));
            let (zlo, zhi) = (from.z.min(m.to.z), from.z.max(m.to.z));
            let dz = if q.z < zlo {
                zlo - q.z
            } else if q.z > zhi {
                q.z - zhi
            } else {
                0.0
            };
            dxy.hypot(dz)
        }
    }
}

#[test]
fn programs_read_back_by_rs274_move_where_the_toolpath_says() {
    for (name, tp) in example_jobs() {
        for (dialect, dname) in [(Dialect::LinuxCnc, "linuxcnc"), (Dialect::Grbl, "grbl")] {
            for decimals in [4, 5] {
                let prog = post(&tp, dialect, decimals);
                let Some((report, pts)) =
                    rs274(&prog.text, dname, &format!("{name}{dname}{decimals}"))
                else {
                    return;
                };
                assert_eq!(report["ok"], true, "{name}/{dname}: {report}");
                assert_eq!(report["errors"].as_array().unwrap().len(), 0);
                assert_eq!(report["feed_without_F"], 0);
                assert_eq!(report["zero_len"], 0, "{name}/{dname}");
                assert_eq!(report["grbl_arc_violations"], 0);
                let mismatch = report["max_arc_r_mismatch"].as_f64().unwrap();
                assert!(mismatch <= 0.0005, "{name}: arc radius mismatch {mismatch}");
                // Every point the interpreter reports lies on the move that wrote its line.
                // With 5 decimals the rounding is 0.005 µm, so 0.1 µm is the whole budget;
                // with 4 decimals rounding alone can take 0.07 µm, and arcs whose radii
                // differ by up to 0.5 µm after rounding are followed as spirals.
                let budget = if decimals == 5 { 1e-4 } else { 3.5e-4 };
                let mut worst: f64 = 0.0;
                let mut n = 0;
                for p in &pts {
                    let line = p[4] as i64;
                    if line <= 0 {
                        continue;
                    }
                    let Some(Some((_, mi))) = prog.line_source.get(line as usize - 1) else {
                        continue;
                    };
                    let d = distance_to_move(&tp, *mi as usize, [p[0], p[1], p[2]]);
                    worst = worst.max(d);
                    n += 1;
                }
                assert!(n > 100, "{name}: only {n} points compared");
                assert!(
                    worst <= budget,
                    "{name}/{dname}/{decimals}: motion differs by {worst} mm"
                );
            }
        }
    }
}

/// Compares `text` with the golden file `name` in `tests/golden/`; writes it instead where it
/// does not exist yet or `SWARF_BLESS` is set (review the diff before committing).
fn check_golden(name: &str, text: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let path = dir.join(name);
    if std::env::var_os("SWARF_BLESS").is_some() || !path.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, text).unwrap();
        eprintln!("wrote golden file {}", path.display());
        return;
    }
    assert!(
        std::fs::read_to_string(&path).unwrap() == text,
        "{} differs from the generated program; if the change is intended, review it and run with SWARF_BLESS=1",
        path.display()
    );
}

/// The 1 mm circle both golden jobs pocket, 0.05 mm deep, with `tool`.
fn circle_pocket(tool: &Tool) -> swarf_core::ops::OpResult {
    let mut circle = swarf_core::geometry::Pline::new_closed();
    circle.add(0.5, 0.0, 1.0);
    circle.add(-0.5, 0.0, 1.0);
    let region = swarf_core::geometry::Region {
        outer: circle,
        islands: vec![],
    };
    let p = PocketParams {
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.05,
                clearance_mm: 2.0,
                safe_mm: 0.2,
                start_depth_mm: 0.0,
            },
            ..PocketParams::default().cut
        },
        ..PocketParams::default()
    };
    pocket(
        &[region],
        tool,
        &p,
        &Tolerance::default(),
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap()
}

/// The tool-change policy per dialect, as golden files: a change stops the spindle and goes
/// up first; `LinuxCNC` and Fanuc change with `T… M6` (`G43 H…` with length offsets); GRBL has
/// no changer, so it stops with `M0` and a comment naming the tool, and starts the spindle
/// again after. An operation without moves writes no tool change and no spindle start. The GRBL
/// and `LinuxCNC` programs read back in `rs274`.
#[test]
fn tool_changes_stop_the_machine_and_empty_operations_write_nothing() {
    let small = Tool::micro_flat(0.2);
    let big = Tool {
        number: 3,
        name: "0.5 mm flat carbide".into(),
        spin_up_s: Some(4.0),
        ..Tool::micro_flat(0.5)
    };
    let odd = Tool {
        number: 7,
        name: "3 mm (too big)".into(),
        ..Tool::micro_flat(3.0)
    };
    let tol = Tolerance::default();
    let (a, b, empty) = (
        circle_pocket(&small),
        circle_pocket(&big),
        circle_pocket(&odd),
    );
    assert!(
        empty.toolpath.moves.is_empty(),
        "the 3 mm tool does not fit"
    );
    for (dialect, dname) in [
        (Dialect::Grbl, "grbl"),
        (Dialect::LinuxCnc, "linuxcnc"),
        (Dialect::Fanuc, "fanuc"),
    ] {
        let prog = write_program(
            &[
                Section {
                    name: "rough",
                    tool: &small,
                    toolpath: &a.toolpath,
                    coolant: None,
                    place: None,
                },
                Section {
                    name: "too big",
                    tool: &odd,
                    toolpath: &empty.toolpath,
                    coolant: None,
                    place: None,
                },
                Section {
                    name: "finish",
                    tool: &big,
                    toolpath: &b.toolpath,
                    coolant: None,
                    place: None,
                },
            ],
            &PostOptions {
                dialect,
                title: "tool changes".into(),
                tool_change_xy_mm: Some([10.0, 0.0]),
                tool_change_z_mm: Some(3.0),
                tool_length_offsets: dialect != Dialect::Grbl,
                ..PostOptions::default()
            },
            &tol,
        )
        .unwrap();
        let text = &prog.text;
        // Nothing for the empty operation: no T7, no spindle for it.
        assert!(
            !text.contains("T7 M6") && !text.contains("load tool 7") && text.contains("no moves"),
            "{dname}"
        );
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{dname}: no {needle:?} in\n{text}"))
        };
        let finish = at("(op 3: finish)");
        let change = &text[finish..];
        let m5 = change
            .find("M5")
            .expect("spindle stopped before the change");
        let up = change.find("G0 Z3").expect("up to the change height");
        let on = change.find("S40000 M3").expect("spindle on again");
        assert!(m5 < up && up < on, "{dname}: {change}");
        if dialect == Dialect::Grbl {
            let stop = change.find("M0").expect("GRBL stops for the change");
            let named = change
                .find("load tool 3: 0.5 mm flat carbide")
                .expect("names the tool");
            let park = change
                .find("G0 X10 Y0")
                .expect("goes to the change position");
            assert!(
                up < park && park < named && named < stop && stop < on,
                "{change}"
            );
            assert!(!text.contains(" M6") && !text.contains("G43"));
            assert!(change.contains("G4 P4"), "the tool's spin-up dwell");
        } else {
            let m6 = change.find("T3 M6").expect("tool change");
            let h = change.find("G43 H3").expect("length offset");
            assert!(up < m6 && m6 < h && h < on, "{change}");
        }
        if dialect != Dialect::Fanuc
            && let Some((report, _)) = rs274(text, dname, &format!("toolchange-{dname}"))
        {
            assert_eq!(report["ok"], true, "{dname}: {report}");
            assert_eq!(report["errors"].as_array().unwrap().len(), 0, "{report}");
        }
        check_golden(&format!("tool_changes_{dname}.ngc"), text);
    }
}

#[test]
fn golden_gcode_per_dialect() {
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    // A 1 mm circle pocketed and a 1.2 x 0.8 mm rectangle with a corner arc contoured.
    let pocket_tp = circle_pocket(&tool).toolpath;
    let mut rect = swarf_core::geometry::Pline::new_closed();
    for (x, y, b) in [
        (0.0, 0.0, 0.0),
        (1.2, 0.0, 0.0),
        (1.2, 0.6, 0.414_213_562_373_095_03),
        (1.0, 0.8, 0.0),
        (0.0, 0.8, 0.0),
    ] {
        rect.add(x, y, b);
    }
    let c = ContourParams {
        tabs: 2,
        tab_width_mm: 0.2,
        tab_height_mm: 0.04,
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.1,
                clearance_mm: 2.0,
                safe_mm: 0.2,
                start_depth_mm: 0.0,
            },
            ..ContourParams::default().cut
        },
        ..ContourParams::default()
    };
    let contour_tp = contour(
        &[rect],
        &[],
        &tool,
        &c,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    for (dialect, dname) in [
        (Dialect::Grbl, "grbl"),
        (Dialect::LinuxCnc, "linuxcnc"),
        (Dialect::Fanuc, "fanuc"),
    ] {
        let prog = write_program(
            &[
                Section {
                    name: "pocket 1 mm circle",
                    tool: &tool,
                    toolpath: &pocket_tp,
                    coolant: None,
                    place: None,
                },
                Section {
                    name: "contour rectangle (outside)",
                    tool: &tool,
                    toolpath: &contour_tp,
                    coolant: None,
                    place: None,
                },
            ],
            &PostOptions {
                dialect,
                title: "golden test".into(),
                ..PostOptions::default()
            },
            &tol,
        )
        .unwrap();
        check_golden(&format!("small_job_{dname}.ngc"), &prog.text);
    }
}
