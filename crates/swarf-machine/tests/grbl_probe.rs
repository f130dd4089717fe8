//! Probing a grid through the GRBL link against the fake GRBL answering `G38.2` from a known
//! surface with noise (issue 22): the heights match the surface within the noise, outliers
//! are rejected, a missing contact stops with the reason.

use std::time::Duration;

use swarf_machine::fake_grbl::{Config, FakeGrbl};
use swarf_machine::probe::{ProbeSettings, probe_grid};
use swarf_machine::{Event, Link, grbl};

/// A warped board, work coordinates: tilt, bow and a ripple (tens of µm).
fn board(x: f64, y: f64) -> f64 {
    0.002 * x - 0.001 * y + 0.00005 * (x - 10.0) * (y - 8.0) + 0.01 * (x * 0.3).sin()
}

fn connect(fake: &FakeGrbl) -> Link {
    let link = Link::grbl_serial(&fake.path, 115_200, grbl::Options::default()).unwrap();
    link.events_until(Duration::from_secs(10), |e| matches!(e, Event::Info(_)))
        .expect("the fake GRBL answers $I");
    link
}

fn settings() -> ProbeSettings {
    ProbeSettings {
        nx: 4,
        ny: 3,
        area: [0.0, 0.0, 30.0, 20.0],
        touches: 3,
        timeout: Duration::from_secs(30),
        ..ProbeSettings::default()
    }
}

#[test]
fn the_grid_matches_the_surface_within_the_noise_and_outliers_are_rejected() {
    // A work offset far from machine zero, ±2 µm noise, every 7th touch a chip (+50 µm).
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(board),
        probe_noise_um: 2.0,
        probe_outlier_every: Some(7),
        wco: [-120.0, -80.0, -30.0],
        ..Config::default()
    });
    let link = connect(&fake);
    let mut calls = 0;
    let out = probe_grid(&link, &settings(), &mut |_, _| {
        calls += 1;
        true
    })
    .unwrap();
    assert_eq!(calls, 12);
    assert_eq!(out.points.len(), 12);
    let mut rejected = 0;
    for p in &out.points {
        let want = board(p.at[0], p.at[1]);
        // ±2 µm noise, GRBL's 1 µm report resolution.
        assert!(
            (p.z - want).abs() <= 0.0026,
            "at {:?}: {} vs {want} ({:?})",
            p.node,
            p.z,
            p.touches
        );
        assert_eq!(p.touches.len(), 3);
        assert!(p.scatter_um <= 5.0, "{p:?}");
        rejected += p.rejected;
    }
    // Every 7th of the 4 touches per point (1 fast + 3 slow) is an outlier; those among the
    // slow ones are rejected, and noted.
    assert!(rejected >= 3, "{rejected}");
    assert!(
        out.notes.iter().any(|n| n.contains("rejected")),
        "{:?}",
        out.notes
    );
    // Row by row from the area's corner.
    assert_eq!(out.points[0].node, [0.0, 0.0]);
    assert_eq!(out.points[5].node, [10.0, 10.0]);
    let r = fake.finish();
    assert!(
        r.lines.iter().any(|l| l.starts_with("G38.2Z-1F10")),
        "{:?}",
        &r.lines[..8]
    );
    assert_eq!(r.non_ascii_in_ring, 0);
}

#[test]
fn holes_are_stepped_around_and_a_missing_contact_stops_with_the_reason() {
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(board),
        ..Config::default()
    });
    let link = connect(&fake);
    let mut s = settings();
    s.touches = 1;
    // A 1 mm hole over the node (10, 10).
    s.avoid = vec![([10.2, 10.0], 0.5)];
    let out = probe_grid(&link, &s, &mut |_, _| true).unwrap();
    let p = &out.points[5];
    assert_eq!(p.node, [10.0, 10.0]);
    assert!(
        ((p.at[0] - 10.2).hypot(p.at[1] - 10.0) - 0.7).abs() < 1e-9,
        "{p:?}"
    );
    assert!(out.notes.iter().any(|n| n.contains("over a hole")));
    drop(link);
    drop(fake);
    // No surface within reach: ALARM:5, said with the fix.
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(|_, _| -3.0),
        ..Config::default()
    });
    let link = connect(&fake);
    let e = probe_grid(&link, &settings(), &mut |_, _| true).unwrap_err();
    assert!(e.contains("alarm 5") && e.contains("--max-depth"), "{e}");
}

#[test]
fn bad_settings_are_refused_before_anything_moves() {
    let mut s = settings();
    s.nx = 1;
    assert!(s.check().unwrap_err().contains("2 to 200"));
    let mut s = settings();
    s.retract_mm = 2.0;
    assert!(s.check().unwrap_err().contains("below the clearance"));
    let mut s = settings();
    s.area = [5.0, 0.0, 5.0, 10.0];
    assert!(s.check().unwrap_err().contains("empty"));
}

#[test]
fn touch_off_sets_z_so_the_contact_reads_the_plate() {
    use swarf_machine::probe::{TouchOff, touch_off};
    // The work surface at work Z = 0.05 where the tool is; a 1.5 mm plate on it.
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(|_, _| 1.55),
        wco: [-100.0, -50.0, -40.0],
        ..Config::default()
    });
    let link = connect(&fake);
    // The tool starts 5 mm above the plate.
    link.send(swarf_machine::Cmd::Line("G0 X10 Y10 Z6.55".into()));
    link.events_until(
        Duration::from_secs(10),
        |e| matches!(e, Event::Reply { reply, .. } if reply == "ok"),
    )
    .unwrap();
    let t = TouchOff {
        plate_mm: 1.5,
        max_travel_mm: 10.0,
        ..TouchOff::default()
    };
    let contact = touch_off(&link, &t).unwrap();
    // The plate's top was at machine Z = -40 + 1.55.
    assert!((contact - (-38.45)).abs() < 1e-9, "{contact}");
    // Now the plate's top reads 1.5: the old work Z 1.55 is 1.5.
    let r = fake.finish();
    let lines = r.lines.join(" ");
    assert!(lines.contains("G10L2P0Z-39.95"), "{lines}");
    assert!(lines.ends_with("G90"), "{lines}");
    // Out-of-range settings are refused before anything moves.
    let e = touch_off(
        &link,
        &TouchOff {
            plate_mm: -1.0,
            ..TouchOff::default()
        },
    )
    .unwrap_err();
    assert!(e.contains("plate"), "{e}");
}

/// A tool change in a running program: the sender holds at the `M0` with the machine idle,
/// the new tool is touched off on the plate through the same link, and Resume goes on with
/// the next operation in the new Z.
#[test]
fn a_tool_is_touched_off_at_the_programs_tool_change_and_the_program_goes_on() {
    use swarf_machine::Cmd;
    use swarf_machine::probe::{TouchOff, touch_off};
    use swarf_machine::program::ProgramReader;
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(|_, _| 1.55),
        wco: [-100.0, -50.0, -40.0],
        keep_lines: true,
        ..Config::default()
    });
    let link = connect(&fake);
    let dir = std::env::temp_dir().join(format!("swarf-touch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("change.nc");
    std::fs::write(
        &path,
        "G21 G90\nG0 Z5\nG0 X10 Y10\nG1 Z4 F200\nG0 Z5\nM5\n\
         (TOOL CHANGE: load tool 3: 0.5 mm flat, set its length, then resume)\nM0\nG0 Z5\n\
         S20000 M3\nG1 Z4.5 F100\nG0 Z5\nM5\n",
    )
    .unwrap();
    link.send(Cmd::Start(Box::new(ProgramReader::open(&path).unwrap())));
    let ev = link
        .events_until(Duration::from_secs(20), |e| {
            matches!(e, Event::ProgramPause { .. } | Event::Stopped { .. })
        })
        .expect("the program reaches its tool change");
    match ev.last() {
        Some(Event::ProgramPause { line, message }) => {
            assert_eq!(*line, 8);
            assert!(message.contains("load tool 3"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Held with the machine idle: the touch-off runs through the same link.
    let contact = touch_off(
        &link,
        &TouchOff {
            plate_mm: 1.5,
            max_travel_mm: 10.0,
            ..TouchOff::default()
        },
    )
    .unwrap();
    assert!((contact - (-38.45)).abs() < 1e-9, "{contact}");
    link.send(Cmd::Resume);
    let ev = link
        .events_until(Duration::from_secs(20), |e| {
            matches!(e, Event::Finished { .. } | Event::Stopped { .. })
        })
        .expect("the program finishes");
    assert!(
        matches!(ev.last(), Some(Event::Finished { .. })),
        "{:?}",
        ev.last()
    );
    drop(link);
    let r = fake.finish();
    let at = |l: &str| {
        r.lines
            .iter()
            .position(|x| x == l)
            .unwrap_or_else(|| panic!("{l} not sent: {:?}", r.lines))
    };
    // The stop's dwell, then the touch-off, then the rest of the program; never the M0
    // (GRBL would hold in its own pause, where nothing else can run).
    assert!(at("G4P0.01") < at("G10L2P0Z-39.95"));
    assert!(at("G10L2P0Z-39.95") < at("S20000M3"));
    assert!(!r.lines.iter().any(|l| l == "M0"), "{:?}", r.lines);
    // The rest ran in the new Z: the plate's top (machine -38.45) reads 1.5, so the last
    // Z5 is machine -39.95 + 5.
    assert!(r.lines.iter().any(|l| l == "G1Z4.5F100"));
    assert!((r.position[2] - (-34.95)).abs() < 1e-9, "{:?}", r.position);
    let _ = std::fs::remove_dir_all(dir);
}
