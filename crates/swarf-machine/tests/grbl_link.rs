//! The GRBL link end to end: the real serial transport and runner thread, talking through a
//! pseudo-terminal to a fake GRBL that behaves as GRBL's documentation says.

// Test programs are built with format! in loops; readability wins over allocations here.
#![allow(clippy::format_push_string, clippy::format_collect)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::until;
use swarf_machine::fake_grbl::{Config, FakeGrbl};
use swarf_machine::grbl::{self, Event, StopReason};
use swarf_machine::program::{self, Controller, ProgramReader};
use swarf_machine::{Cmd, Link};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("swarf-grbl-{}-{name}", std::process::id()))
}

/// Lines that reached the controller after a stop: no more than its RX buffer held then.
fn assert_within_buffer(after: &[String]) {
    let bytes: usize = after.iter().map(|l| l.len() + 1).sum();
    assert!(
        bytes <= 128,
        "{} lines ({bytes} bytes) were sent after the stop",
        after.len()
    );
}

fn connect(fake: &FakeGrbl) -> Link {
    let link = Link::grbl_serial(&fake.path, 115_200, grbl::Options::default()).unwrap();
    until(&link, 10, |e| matches!(e, Event::Info(_)));
    link
}

fn run_file(link: &Link, path: &std::path::Path) -> Vec<Event> {
    let info = program::scan(path, Some(Controller::Grbl)).unwrap();
    assert!(info.send_lines > 0);
    link.send(Cmd::Start(Box::new(ProgramReader::open(path).unwrap())));
    until(link, 600, |e| {
        matches!(e, Event::Finished { .. } | Event::Stopped { .. })
    })
}

#[test]
fn every_line_arrives_once_in_order_and_the_buffer_never_overflows() {
    let fake = FakeGrbl::start(Config::default());
    let link = connect(&fake);
    let path = tmp("order.nc");
    let mut text = String::from("(Test - Swarf)\nG21 G90 G17 G94 G54\n");
    let mut expect = vec!["G21G90G17G94G54".to_string()];
    for i in 0..2000 {
        // Comments with bytes GRBL would take as commands: they must never be sent.
        text.push_str(&format!(
            "G1 X{:.4} Y{:.4} F300 (pass {i} – hold! ~ ?)\n",
            f64::from(i) * 0.01,
            f64::from(i % 7) * 0.1
        ));
        expect.push(format!(
            "G1X{:.4}Y{:.4}F300",
            f64::from(i) * 0.01,
            f64::from(i % 7) * 0.1
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let ev = run_file(&link, &path);
    assert!(
        matches!(ev.last(), Some(Event::Finished { lines: 2001 })),
        "{:?}",
        ev.last()
    );
    drop(link);
    let r = fake.finish();
    // `$I` first, then the program.
    assert_eq!(r.lines[0], "$I");
    assert_eq!(&r.lines[1..], &expect[..]);
    assert_eq!(r.dropped, 0, "the RX buffer overflowed");
    assert!(r.max_ring <= 128);
    // Character counting keeps the buffer well filled: far more than one line (~20 bytes) at
    // a time, as send-and-wait would.
    assert!(
        r.max_ring >= 90,
        "the buffer was at most {} bytes full",
        r.max_ring
    );
    assert_eq!(r.non_ascii_in_ring, 0);
    assert!(
        r.realtime
            .iter()
            .all(|&b| b != b'!' && b != b'~' && b < 0x80),
        "a byte from a comment reached GRBL as a real-time command: {:?}",
        r.realtime
    );
    assert!(r.status_queries > 0);
    assert_eq!(r.position[0], 19.99);
    let _ = std::fs::remove_file(path);
}

#[test]
fn an_error_stops_the_stream_and_names_the_program_line() {
    let fake = FakeGrbl::start(Config {
        error_on: Some("X5.5".into()),
        block_time: Duration::from_millis(2),
        ..Config::default()
    });
    let link = connect(&fake);
    let path = tmp("error.nc");
    let mut text = String::from("G21 G90\n");
    for i in 0..300 {
        text.push_str(&format!("G1 X{i}.5 F100\n"));
    }
    std::fs::write(&path, &text).unwrap();
    let ev = run_file(&link, &path);
    let Some(Event::Stopped { reason, .. }) = ev.last() else {
        panic!("{:?}", ev.last())
    };
    let StopReason::Error { line, code, .. } = reason else {
        panic!("{reason:?}")
    };
    // `G1 X5.5` is file line 7.
    assert_eq!((*line, *code), (7, 20));
    assert!(reason.to_string().contains("line 7"));
    std::thread::sleep(Duration::from_millis(300));
    drop(link);
    let r = fake.finish();
    // After the error nothing more was sent: only what was already in the buffer.
    let at = r.lines.iter().position(|l| l == "G1X5.5F100").unwrap();
    assert_within_buffer(&r.lines[at + 1..]);
    let _ = std::fs::remove_file(path);
}

#[test]
fn an_alarm_stops_the_stream_and_nothing_resumes_by_itself() {
    let fake = FakeGrbl::start(Config {
        alarm_on: Some("X50.".into()),
        ..Config::default()
    });
    let link = connect(&fake);
    let path = tmp("alarm.nc");
    let text: String = (0..200).map(|i| format!("G0 X{i}.25\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let ev = run_file(&link, &path);
    assert!(ev.iter().any(|e| matches!(e, Event::Alarm { code: 1, .. })));
    let Some(Event::Stopped {
        reason,
        last_acked_line,
    }) = ev.last()
    else {
        panic!("{:?}", ev.last())
    };
    assert!(matches!(reason, StopReason::Alarm { code: 1, .. }));
    assert_eq!(*last_acked_line, 50);
    std::thread::sleep(Duration::from_millis(500));
    drop(link);
    let r = fake.finish();
    let at = r.lines.iter().position(|l| l == "G0X50.25").unwrap();
    assert_within_buffer(&r.lines[at + 1..]);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_disconnect_is_reported_with_the_last_acknowledged_line() {
    let fake = FakeGrbl::start(Config {
        hang_up_after: Some(40),
        ..Config::default()
    });
    let link = connect(&fake);
    let path = tmp("hangup.nc");
    let text: String = (0..500).map(|i| format!("G0 X{i}.5\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let ev = run_file(&link, &path);
    let Some(Event::Stopped {
        reason: StopReason::Disconnected(why),
        last_acked_line,
    }) = ev.last()
    else {
        panic!("{:?}", ev.last())
    };
    assert!(!why.is_empty());
    // `$I` was line 1 of the fake's 40, so the program's 39th line was the last it answered;
    // answers still in the port when it closed may be lost, as on a real unplug.
    assert!(
        (30..=39).contains(last_acked_line),
        "last acknowledged line {last_acked_line}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn hold_resume_and_reset_are_single_bytes_on_the_wire() {
    let fake = FakeGrbl::start(Config {
        block_time: Duration::from_millis(20),
        ..Config::default()
    });
    let link = connect(&fake);
    let path = tmp("hold.nc");
    let text: String = (0..100).map(|i| format!("G1 X{i} F100\n")).collect();
    std::fs::write(&path, &text).unwrap();
    link.send(Cmd::Start(Box::new(ProgramReader::open(&path).unwrap())));
    std::thread::sleep(Duration::from_millis(100));
    link.send(Cmd::Hold);
    until(
        &link,
        5,
        |e| matches!(e, Event::Status(s) if s.state == grbl::MachineState::Hold),
    );
    link.send(Cmd::Resume);
    link.send(Cmd::FeedOverride(120));
    link.send(Cmd::Stop);
    let ev = until(&link, 5, |e| matches!(e, Event::Stopped { .. }));
    assert!(matches!(
        ev.last(),
        Some(Event::Stopped {
            reason: StopReason::User,
            ..
        })
    ));
    // The reset's banner comes; no program line follows it.
    until(&link, 5, |e| matches!(e, Event::Welcome(_)));
    std::thread::sleep(Duration::from_millis(200));
    drop(link);
    let r = fake.finish();
    assert_eq!(r.realtime, vec![b'!', b'~', 0x90, 0x91, 0x91, 0x18]);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_controller_that_does_not_report_its_buffer_gets_one_line_at_a_time() {
    let fake = FakeGrbl::start(Config {
        report_rx: false,
        ..Config::default()
    });
    let link = Link::grbl_serial(&fake.path, 115_200, grbl::Options::default()).unwrap();
    until(
        &link,
        10,
        |e| matches!(e, Event::Reply { command, .. } if command == "$I"),
    );
    let path = tmp("norx.nc");
    let text: String = (0..50).map(|i| format!("G0 X{i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    link.send(Cmd::Start(Box::new(ProgramReader::open(&path).unwrap())));
    let ev = until(&link, 60, |e| {
        matches!(e, Event::Finished { .. } | Event::Stopped { .. })
    });
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Warning(w) if w.contains("RX buffer")))
    );
    assert!(matches!(ev.last(), Some(Event::Finished { lines: 50 })));
    drop(link);
    let r = fake.finish();
    assert!(r.max_ring <= 8, "{}", r.max_ring);
    let _ = std::fs::remove_file(path);
}
