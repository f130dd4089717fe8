use super::*;
use crate::import::{DxfOptions, import_dxf};
use crate::ops::pocket::{PocketParams, pocket};
use crate::ops::{Heights, Stepover};
use crate::post::{PostOptions, Section, write_program};

fn plate() -> (crate::import::Drawing, Vec<Pline>) {
    let d = import_dxf(crate::EXAMPLE_DXF.as_bytes(), &DxfOptions::default()).unwrap();
    let loops: Vec<Pline> = d.closed_loops.clone();
    (d, loops)
}

/// The example plate's holes pocketed 0.05 mm deep with a 0.2 mm tool: the plate's loops, the
/// tool and the toolpath.
fn plate_pocket() -> (Vec<Pline>, Tool, Toolpath) {
    let (d, loops) = plate();
    let tool = Tool::micro_flat(0.2);
    let regions = crate::job::target_regions(&d, crate::job::Target::Holes);
    let p = PocketParams {
        stepover: Stepover::Fraction(0.4),
        cut: crate::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.05,
                ..Heights::default()
            },
            ..PocketParams::default().cut
        },
        ..PocketParams::default()
    };
    let tp = pocket(
        &regions,
        &tool,
        &p,
        &Tolerance::default(),
        &crate::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    (loops, tool, tp)
}

#[test]
fn our_pocket_verifies_clean_and_a_hand_made_cut_into_an_island_is_a_gouge() {
    let (loops, tool, tp) = plate_pocket();
    let tol = Tolerance::default();
    let prog = write_program(
        &[Section {
            name: "p",
            tool: &tool,
            toolpath: &tp,
            coolant: None,
            place: None,
        }],
        &PostOptions::default(),
        &tol,
    )
    .unwrap();
    let back = read_gcode(&prog.text, P3::default(), &tol).unwrap();
    let rep = verify(
        &back.toolpath,
        Some(&back.line_of_move),
        PartRef::Drawing(&loops),
        &tool,
        &VerifyOptions::default(),
        &tol,
    );
    assert!(
        rep.gouges.is_empty(),
        "{:?}",
        &rep.gouges[..rep.gouges.len().min(3)]
    );
    assert!(
        rep.rapids_through_stock.is_empty(),
        "{:?}",
        rep.rapids_through_stock
    );
    assert!(rep.plunges.is_empty(), "{:?}", rep.plunges);
    assert!(rep.sim.removed_volume_mm3 > 0.0);
    assert!(!rep.failed());

    // The boss in the barrel recess is at (0, 2.4), radius 0.35: a line through it at line 7.
    let bad = "G21 G90 G17\nG0 Z1\nG0 X-0.9 Y2.4\nG1 Z-0.03 F10\n(cut straight through the boss)\nG1 X-0.5 F100\nG1 X0.9\nG0 Z1\nM2\n";
    let back = read_gcode(bad, P3::default(), &tol).unwrap();
    let rep = verify(
        &back.toolpath,
        Some(&back.line_of_move),
        PartRef::Drawing(&loops),
        &tool,
        &VerifyOptions::default(),
        &tol,
    );
    assert!(rep.failed());
    let lines: Vec<u32> = rep.gouges.iter().map(|g| g.line).collect();
    assert!(lines.contains(&7), "{lines:?}");
    let g = rep.gouges.iter().find(|g| g.line == 7).unwrap();
    assert!(
        (g.depth_mm - 0.1).abs() < 1e-3,
        "tool radius fully in: {}",
        g.depth_mm
    );
    assert_eq!(rep.plunges, vec![4], "the straight plunge at line 4");
}

#[test]
fn removed_volume_of_a_square_pocket_matches_the_analytic_volume() {
    use cavalier_contours::polyline::PlineSourceMut;
    let mut sq = Pline::new_closed();
    for (x, y) in [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)] {
        sq.add(x, y, 0.0);
    }
    let region = crate::geometry::Region {
        outer: sq.clone(),
        islands: vec![],
    };
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    let depth = 0.1;
    let p = PocketParams {
        stepover: Stepover::Fraction(0.4),
        cut: crate::ops::CutParams {
            heights: Heights {
                final_depth_mm: depth,
                ..Heights::default()
            },
            stepdown_mm: Some(0.05),
            ..PocketParams::default().cut
        },
        ..PocketParams::default()
    };
    let tp = pocket(
        std::slice::from_ref(&region),
        &tool,
        &p,
        &tol,
        &crate::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    let opts = VerifyOptions {
        resolution_mm: Some(0.004),
        ..VerifyOptions::default()
    };
    let rep = verify(
        &tp,
        None,
        PartRef::Drawing(std::slice::from_ref(&sq)),
        &tool,
        &opts,
        &tol,
    );
    // The square minus what a round tool cannot reach in its four corners.
    let r: f64 = 0.1;
    let exact = (4.0 - (4.0 - std::f64::consts::PI) * r * r) * depth;
    let v = rep.sim.removed_volume_mm3;
    assert!((v - exact).abs() < 0.005 * exact, "{v} vs {exact}");
    assert!(rep.gouges.is_empty());
    assert!(rep.sim.estimated_seconds >= rep.sim.naive_seconds);
}

#[test]
fn the_export_rapid_check_finds_a_rapid_through_stock() {
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
    tp.rapid(P3::new(1.0, 1.0, 1.0));
    tp.line(
        P3::new(1.0, 1.0, -0.1),
        crate::toolpath::MoveClass::Entry,
        10.0,
    );
    tp.line(
        P3::new(2.0, 1.0, -0.1),
        crate::toolpath::MoveClass::Cut,
        100.0,
    );
    // Back over the cut slot at depth: fine. Then sideways through uncut stock: not.
    tp.rapid(P3::new(1.0, 1.0, -0.05));
    tp.rapid(P3::new(1.0, 3.0, -0.05));
    let r = check_rapids(&tp, V2::new(0.0, 0.0), V2::new(4.0, 4.0), -1.0, &tool, &tol);
    assert_eq!(r, vec![4]);
}

/// A ball end mill going back down onto its own earlier cut: the coarse grid reads the stock
/// at a cell's centre, off the tool's axis, where the earlier cut left the ball's surface above
/// its tip. Read under the descending ball's own surface there, a descent onto the cut is clear
/// (it was reported on waterlines of a ball), and one into uncut stock beside it is not.
#[test]
fn a_ball_descending_onto_its_own_cut_is_not_a_rapid_through_stock() {
    let tool = Tool {
        shape: crate::tool::ToolShape::Ball,
        ..Tool::micro_flat(1.0)
    };
    let tol = Tolerance::default();
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
    // Cells are 0.7 mm: (2.73, 1.33) is 0.4 mm from its cell's centre (2.45, 1.05).
    tp.rapid(P3::new(1.33, 1.33, 1.0));
    tp.line(
        P3::new(1.33, 1.33, -0.5),
        crate::toolpath::MoveClass::Entry,
        10.0,
    );
    tp.line(
        P3::new(3.33, 1.33, -0.5),
        crate::toolpath::MoveClass::Cut,
        100.0,
    );
    tp.rapid(P3::new(3.33, 1.33, 0.5));
    tp.rapid(P3::new(2.73, 1.33, 0.5));
    tp.rapid(P3::new(2.73, 1.33, -0.45));
    tp.rapid(P3::new(2.73, 1.33, 0.5));
    tp.rapid(P3::new(1.33, 3.33, 0.5));
    tp.rapid(P3::new(1.33, 3.33, -0.4));
    let r = check_rapids(&tp, V2::new(0.0, 0.0), V2::new(4.0, 4.0), -1.0, &tool, &tol);
    assert_eq!(r, vec![8]);
}

/// A helix down and a retract straight up: the simulation cuts descending feed moves at their
/// higher end (so it never hides a rapid through stock), which left stock above the tool in its
/// own column, and the retract out of the helix was reported as a rapid through stock (12 of
/// them on a corpus drawing's pocket). A tool rising along its axis leaves through its own hole.
#[test]
fn a_retract_straight_up_out_of_a_helix_is_not_a_rapid_through_stock() {
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    let mut tp = Toolpath::new(P3::new(1.0, 1.0, 1.0));
    tp.rapid(P3::new(1.1, 1.0, 0.1));
    let mut z = 0.0;
    for k in 0..8 {
        z -= 0.0125;
        let x = if k % 2 == 0 { 0.9 } else { 1.1 };
        tp.arc(
            P3::new(x, 1.0, z),
            V2::new(1.0, 1.0),
            true,
            crate::toolpath::MoveClass::Entry,
            10.0,
        );
    }
    tp.rapid(P3::new(1.1, 1.0, 0.5));
    assert_eq!(
        check_rapids(&tp, V2::new(0.0, 0.0), V2::new(2.0, 2.0), -1.0, &tool, &tol),
        Vec::<usize>::new()
    );
}

/// A program read back carries its rounding: written at 3 decimals, a wall pass exactly one
/// radius from the wall moves up to 0.7 µm towards it. The check allows what the written
/// decimals cannot express, and no more.
#[test]
fn read_back_programs_are_checked_within_their_written_rounding() {
    let (loops, tool, tp) = plate_pocket();
    let tol = Tolerance::default();
    assert_eq!(coordinate_rounding_mm(&tp), 0.0, "generated: not rounded");
    let check = |text: &str| {
        let back = read_gcode(text, P3::default(), &tol).unwrap();
        let t = read_back_tolerance(&back.toolpath, &tol);
        let g = check_gouges(
            &back.toolpath,
            Some(&back.line_of_move),
            PartRef::Drawing(&loops),
            &tool,
            &t,
        );
        (coordinate_rounding_mm(&back.toolpath), g)
    };
    for decimals in 3..=6 {
        let opts = PostOptions {
            decimals,
            ..PostOptions::default()
        };
        let section = Section {
            name: "p",
            tool: &tool,
            toolpath: &tp,
            coolant: None,
            place: None,
        };
        let prog = write_program(&[section], &opts, &tol).unwrap();
        let (rounding, g) = check(&prog.text);
        let expected = 10f64.powi(-i32::try_from(decimals).unwrap()) / 2f64.sqrt();
        assert!(
            (rounding - expected).abs() < 1e-12,
            "{decimals} decimals: {rounding}"
        );
        assert!(
            g.is_empty(),
            "{decimals} decimals: {:?}",
            &g[..g.len().min(3)]
        );
    }
    // The boss in the barrel recess is at (0, 2.4), radius 0.35; the tool's radius is 0.1. A
    // pass along y = 2.848 reaches 2 µm into it: a gouge at 3 decimals. Along y = 2.8495 it
    // reaches 0.5 µm, which 3 decimals could not say, but the line has 4: a gouge too.
    for (y, depth) in [("2.848", 0.002), ("2.8495", 0.0005)] {
        let text =
            format!("G21 G90 G17\nG0 Z1\nG0 X-0.1 Y{y}\nG1 Z-0.03 F10\nG1 X0.1 F100\nG0 Z1\nM2\n");
        let (_, g) = check(&text);
        let g = g.iter().find(|g| g.line == 5).expect("the pass is a gouge");
        assert!((g.depth_mm - depth).abs() < 1e-5, "y {y}: {}", g.depth_mm);
    }
}
