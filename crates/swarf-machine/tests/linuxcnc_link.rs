//! The LinuxCNC link against a real LinuxCNC running headless in simulation (Debian package
//! `linuxcnc-uspace`; `.ci/run` installs it). Skipped, loudly, where it is not installed.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::until;
use swarf_machine::grbl::{Event, MachineState, StopReason};
use swarf_machine::linuxcnc_sim::{self, Sim};
use swarf_machine::{Cmd, Link};

fn last_work_position(events: &[Event]) -> [f64; 3] {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Status(s) => s.wpos,
            _ => None,
        })
        .expect("a status with a position")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// One test, so one LinuxCNC: only one can run on a computer at a time.
#[test]
fn programs_run_pause_fail_and_abort_on_a_real_linuxcnc() {
    if !linuxcnc_sim::available() {
        eprintln!(
            "SKIPPED: LinuxCNC is not installed (apt-get install linuxcnc-uspace); the LinuxCNC link was NOT tested"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("swarf-lcnc-{}", std::process::id()));
    let sim = Sim::start(&dir).unwrap_or_else(|e| panic!("{e}"));
    let link = Link::linuxcnc(&sim.address(), "EMC");
    until(&link, 15, |e| matches!(e, Event::Welcome(_)));

    // A wrong password is named (on a link of its own).
    let wrong = Link::linuxcnc(&sim.address(), "NOTEMC");
    let ev = until(&wrong, 15, |e| matches!(e, Event::Disconnected(_)));
    assert!(
        format!("{:?}", ev.last()).contains("password"),
        "{:?}",
        ev.last()
    );
    drop(wrong);

    // E-stop is on after start: a run is refused until the machine is switched on.
    let prog = write(
        &dir,
        "square.ngc",
        "(a small square with an arc)\nG21 G90 G17\nG0 Z3\nG0 X1 Y2\nG1 Z-0.1 F300\nG1 X5 Y-1.5 F600\nG2 X6 Y-0.5 I0 J1\nG0 Z5\nM2\n",
    );
    link.send(Cmd::RunFile(prog.clone()));
    let ev = until(&link, 20, |e| matches!(e, Event::Stopped { .. }));
    assert!(
        format!("{:?}", ev.last()).contains("E-stop"),
        "{:?}",
        ev.last()
    );
    link.send(Cmd::MachineOn);
    link.send(Cmd::RunFile(prog));
    let ev = until(&link, 60, |e| {
        matches!(e, Event::Finished { .. } | Event::Stopped { .. })
    });
    assert!(
        matches!(ev.last(), Some(Event::Finished { .. })),
        "{:?}",
        ev.last()
    );
    let ev = until(&link, 5, |e| matches!(e, Event::Status(_)));
    let p = last_work_position(&ev);
    for (got, want) in p.iter().zip([6.0, -0.5, 5.0]) {
        assert!((got - want).abs() < 1e-4, "final position {p:?}");
    }

    // Pause, resume and the feed override.
    let long = write(
        &dir,
        "long.ngc",
        "G21 G90\nG0 X0 Y0 Z1\nG1 X20 F300\nG1 X0\nM2\n",
    );
    link.send(Cmd::RunFile(long.clone()));
    until(
        &link,
        20,
        |e| matches!(e, Event::Status(s) if s.state == MachineState::Run),
    );
    link.send(Cmd::Hold);
    until(
        &link,
        20,
        |e| matches!(e, Event::Status(s) if s.state == MachineState::Hold),
    );
    link.send(Cmd::FeedOverride(120));
    link.send(Cmd::Resume);
    until(
        &link,
        20,
        |e| matches!(e, Event::Status(s) if s.state == MachineState::Run && s.overrides == Some([120, 100, 100])),
    );
    // Stop (abort) ends the run, named as the user's.
    link.send(Cmd::Stop);
    let ev = until(&link, 20, |e| {
        matches!(e, Event::Stopped { .. } | Event::Finished { .. })
    });
    assert!(
        matches!(
            ev.last(),
            Some(Event::Stopped {
                reason: StopReason::User,
                ..
            })
        ),
        "{:?}",
        ev.last()
    );

    // A program LinuxCNC refuses stops with LinuxCNC's own message.
    let bad = write(&dir, "bad.ngc", "G21 G90\nG0 X1\nG1 Q5 X3 F100\nM2\n");
    link.send(Cmd::RunFile(bad));
    let ev = until(&link, 30, |e| {
        matches!(e, Event::Finished { .. } | Event::Stopped { .. })
    });
    let Some(Event::Stopped { reason, .. }) = ev.last() else {
        panic!("{:?}", ev.last())
    };
    assert!(reason.to_string().contains("Q word"), "{reason}");

    // A file the controller cannot open is named.
    link.send(Cmd::RunFile(dir.join("missing.ngc").display().to_string()));
    let ev = until(&link, 20, |e| matches!(e, Event::Stopped { .. }));
    assert!(
        format!("{:?}", ev.last()).contains("missing.ngc"),
        "{:?}",
        ev.last()
    );

    // MDI moves the machine.
    link.send(Cmd::Line("G0 X2 Y3 Z4".into()));
    until(
        &link,
        10,
        |e| matches!(e, Event::Reply { reply, .. } if reply == "ok"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ev = until(&link, 5, |e| matches!(e, Event::Status(_)));
        let p = last_work_position(&ev);
        if (p[0] - 2.0).abs() < 1e-4 && (p[1] - 3.0).abs() < 1e-4 && (p[2] - 4.0).abs() < 1e-4 {
            break;
        }
        assert!(Instant::now() < deadline, "MDI did not arrive: {p:?}");
    }
    drop(link);
    drop(sim);
    let _ = std::fs::remove_dir_all(dir);
}
