//! Probing and touch-off through the LinuxCNC link against a real LinuxCNC in simulation with
//! a probe input wired in HAL to a tilted plane (issue 22). Skipped, loudly, where LinuxCNC
//! is not installed. One test, so one LinuxCNC.

mod common;

use std::time::Duration;

use common::until;
use swarf_machine::grbl::Event;
use swarf_machine::linuxcnc_sim::{self, Sim, SimOptions};
use swarf_machine::probe::{ProbeSettings, TouchOff, probe_grid, touch_off};
use swarf_machine::{Cmd, Link};

/// The surface in machine coordinates: a tilt of 10 µm/mm in X and −5 µm/mm in Y, 3 mm down.
const PLANE: [f64; 3] = [0.01, -0.005, -3.0];

#[test]
fn a_grid_is_probed_and_a_tool_touched_off_on_a_real_linuxcnc() {
    if !linuxcnc_sim::available() {
        eprintln!(
            "SKIPPED: LinuxCNC is not installed (apt-get install linuxcnc-uspace); probing on LinuxCNC was NOT tested"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("swarf-lprobe-{}", std::process::id()));
    let sim = Sim::start_with(
        &dir,
        SimOptions {
            probe_plane: Some(PLANE),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let link = Link::linuxcnc(&sim.address(), "EMC");
    until(&link, 15, |e| matches!(e, Event::Welcome(_)));
    link.send(Cmd::MachineOn);
    until(&link, 15, |e| matches!(e, Event::Status(_)));
    let settings = ProbeSettings {
        nx: 3,
        ny: 2,
        area: [0.0, 0.0, 20.0, 10.0],
        touches: 2,
        clearance_mm: 1.0,
        retract_mm: 0.2,
        max_depth_mm: 5.0,
        fast_mm_per_min: 200.0,
        slow_mm_per_min: 10.0,
        timeout: Duration::from_mins(1),
        ..ProbeSettings::default()
    };
    let out = probe_grid(&link, &settings, &mut |_, _| true).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.points.len(), 6);
    // The work offset is zero in the sample: work Z is machine Z. The probe input is sampled
    // every servo period (1 ms): at 10 mm/min a trigger is late by at most 0.17 µm.
    for p in &out.points {
        let z = PLANE[0] * p.at[0] + PLANE[1] * p.at[1] + PLANE[2];
        assert!(
            p.z <= z + 1e-9 && p.z > z - 0.5e-3,
            "at ({}, {}): probed {} for {z}",
            p.at[0],
            p.at[1],
            p.z
        );
    }
    // Touch off: the tool over (5, 5) where the surface is at -2.975; a 0.5 mm "plate" (the
    // surface read as 0.5 from now on).
    link.send(Cmd::Line("G0 Z0".into()));
    link.send(Cmd::Line("G0 X5 Y5".into()));
    let contact = touch_off(
        &link,
        &TouchOff {
            plate_mm: 0.5,
            max_travel_mm: 5.0,
            ..TouchOff::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let surface = PLANE[0] * 5.0 + PLANE[1] * 5.0 + PLANE[2];
    assert!(
        contact <= surface + 1e-9 && contact > surface - 0.5e-3,
        "{contact} for {surface}"
    );
    // Now the surface reads 0.5 in work Z.
    let ev = until(
        &link,
        10,
        |e| matches!(e, Event::Status(s) if s.wpos.is_some() && s.mpos.is_some()),
    );
    let Some(Event::Status(s)) = ev.last() else {
        unreachable!()
    };
    let (m, w) = (s.mpos.unwrap(), s.wpos.unwrap());
    assert!(
        // G10 is written to 0.1 µm.
        ((m[2] - w[2]) - (contact - 0.5)).abs() < 0.5e-4,
        "work offset {} for contact {contact}",
        m[2] - w[2]
    );
    // No surface within reach: LinuxCNC's own message, not a hang.
    link.send(Cmd::Line("G10 L2 P0 Z0".into()));
    link.send(Cmd::Line("G0 Z0".into()));
    let e = touch_off(
        &link,
        &TouchOff {
            max_travel_mm: 1.0,
            ..TouchOff::default()
        },
    )
    .unwrap_err();
    assert!(e.contains("without making contact"), "{e}");
    drop(link);
    drop(sim);
    let _ = std::fs::remove_dir_all(dir);
}
