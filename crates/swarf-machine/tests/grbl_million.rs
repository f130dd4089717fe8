//! A 1 M-line program streamed through the real serial transport to the fake GRBL, in a test
//! binary of its own so that no other test's memory is counted.

// Test programs are built with format! in loops; readability wins over allocations here.
#![allow(clippy::format_push_string, clippy::format_collect)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::until;
use swarf_machine::fake_grbl::{Config, FNV_START, FakeGrbl, fnv};
use swarf_machine::grbl::{self, Event};
use swarf_machine::program::{self, Controller, ProgramReader};
use swarf_machine::{Cmd, Link};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("swarf-grbl-{}-{name}", std::process::id()))
}

fn connect(fake: &FakeGrbl) -> Link {
    let link = Link::grbl_serial(&fake.path, 115_200, grbl::Options::default()).unwrap();
    until(&link, 10, |e| matches!(e, Event::Info(_)));
    link
}

fn rss_kib() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_million_line_program_streams_in_flat_memory() {
    const N: usize = 1_000_000;
    let path = tmp("million.nc");
    let mut expect_hash = fnv(FNV_START, b"$I\n");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(f, "(1M lines - Swarf)").unwrap();
        for i in 0..N {
            let line = format!("G1X{}.{:03}Y{}F900", i % 1000, i % 997, i % 13);
            writeln!(f, "{line} (n{i})").unwrap();
            expect_hash = fnv(expect_hash, line.as_bytes());
            expect_hash = fnv(expect_hash, b"\n");
        }
    }
    let file_kib = std::fs::metadata(&path).unwrap().len() / 1024;
    let fake = FakeGrbl::start(Config {
        rx_size: 128,
        keep_lines: false,
        block_time: Duration::ZERO,
        ..Config::default()
    });
    let link = connect(&fake);
    let before = rss_kib();
    let info = program::scan(&path, Some(Controller::Grbl)).unwrap();
    assert_eq!(info.send_lines, N);
    link.send(Cmd::Start(Box::new(ProgramReader::open(&path).unwrap())));
    let mut peak = before;
    let deadline = Instant::now() + Duration::from_mins(15);
    let finished = loop {
        assert!(
            Instant::now() < deadline,
            "1 M lines did not finish in 15 minutes"
        );
        match link.wait(Duration::from_millis(100)) {
            Ok(Event::Finished { lines }) => break lines,
            Ok(Event::Stopped { reason, .. }) => panic!("{reason}"),
            _ => peak = peak.max(rss_kib()),
        }
    };
    assert_eq!(finished, N);
    drop(link);
    let r = fake.finish();
    assert_eq!(r.line_count, N + 1);
    assert_eq!(
        r.hash, expect_hash,
        "a line was lost, repeated or reordered"
    );
    assert_eq!(r.dropped, 0);
    let grown = peak.saturating_sub(before);
    assert!(
        grown < 16 * 1024,
        "memory grew by {grown} KiB while streaming a {file_kib} KiB program"
    );
    eprintln!(
        "1M lines: memory grew {grown} KiB for a {file_kib} KiB file; ring peak {} bytes",
        r.max_ring
    );
    let _ = std::fs::remove_file(path);
}
