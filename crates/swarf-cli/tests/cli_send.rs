//! `swarf-cli send` and `machine`: a Swarf program streamed to a fake GRBL on a pseudo-terminal
//! (the real serial transport) and run on a real LinuxCNC in simulation.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::{assets, cli};
use std::time::{Duration, Instant};
use swarf_machine::fake_grbl::{Config, FakeGrbl};
use swarf_machine::linuxcnc::{ProgramStatus, Rsh};
use swarf_machine::linuxcnc_sim::{self, Sim};
use swarf_machine::program::clean_line;

fn tmp(name: &str) -> PathBuf {
    common::tmp_in("send", name)
}

fn generate(dialect: &str, out: &Path) {
    let o = cli()
        .args([
            "generate",
            "--job",
            &assets("example_job.toml"),
            "--dialect",
            dialect,
            "-o",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Run `swarf-cli` with `stdin` typed in (Enter resumes a program pause).
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = cli()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    // A controller that stops answering must fail the test, not hang it: the output is read
    // on threads and the child is killed after 5 minutes.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let so = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let se = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(5);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "swarf-cli {args:?} did not finish in 5 minutes: {}",
                String::from_utf8_lossy(&se.join().unwrap())
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Output {
        status,
        stdout: so.join().unwrap(),
        stderr: se.join().unwrap(),
    }
}

/// `swarf-cli send PROG --port FAKE EXTRA…` with `stdin` typed in.
fn send(prog: &Path, fake: &FakeGrbl, extra: &[&str], stdin: &str) -> Output {
    let mut args = vec!["send", prog.to_str().unwrap(), "--port", &fake.path];
    args.extend_from_slice(extra);
    run(&args, stdin)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// LinuxCNC's `rs274` reading `gcode` (GRBL dialect): see [`common::rs274_points`].
fn rs274_points(gcode: &str, tag: &str) -> Option<(u64, Vec<[String; 4]>)> {
    common::rs274_points(gcode, "send", tag)
}

/// The program's last programmed X, Y, Z.
fn last_position(program: &str) -> [f64; 3] {
    let mut p = [0.0; 3];
    for line in program.lines() {
        let Ok(Some(l)) = clean_line(line) else {
            continue;
        };
        let b = l.as_bytes();
        for (i, axis) in [b'X', b'Y', b'Z'].into_iter().enumerate() {
            if let Some(at) = b.iter().position(|&c| c == axis) {
                let end = b[at + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || *c == b'.' || *c == b'-'))
                    .map_or(b.len(), |e| at + 1 + e);
                p[i] = l[at + 1..end].parse().unwrap();
            }
        }
    }
    p
}

#[test]
fn a_swarf_program_streams_to_grbl_and_pauses_for_the_tool_change() {
    let prog = tmp("plate_grbl.nc");
    generate("grbl", &prog);
    let text = std::fs::read_to_string(&prog).unwrap();
    let fake = FakeGrbl::start(Config::default());
    let o = send(&prog, &fake, &["--json"], "\n\n\n");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let j = json(&o);
    assert_eq!(j["finished"], true);
    assert_eq!(j["rx_buffer_bytes"], 128);
    assert_eq!(j["lines_sent"], j["lines_total"]);
    // The tool change stopped the machine (M0) and named the tool; Enter resumed it.
    assert!(
        stderr.contains("paused at line") && stderr.contains("tool 3"),
        "{stderr}"
    );
    let r = fake.finish();
    // Every line as in the file, but the stop: the sender holds there itself (the machine
    // idle, so a tool can be jogged and touched off) after a dwell that waits for the moves
    // before it; GRBL never gets the M0.
    let sent: Vec<String> = text
        .lines()
        .filter_map(|l| clean_line(l).unwrap())
        .map(|l| if l == "M0" { "G4P0.01".to_string() } else { l })
        .collect();
    assert_eq!(r.lines[0], "$I");
    assert_eq!(&r.lines[1..], &sent[..]);
    assert_eq!(r.dropped, 0);
    assert_eq!(r.non_ascii_in_ring, 0);
    // What reached the controller is the same motion as the file: rs274 reads both alike.
    let streamed = r.lines[1..].join("\n") + "\n";
    if let (Some((e0, file_pts)), Some((e1, wire_pts))) = (
        rs274_points(&text, "plate_file"),
        rs274_points(&streamed, "plate_wire"),
    ) {
        assert_eq!((e0, e1), (0, 0));
        assert!(file_pts.len() > 1000);
        assert_eq!(
            file_pts, wire_pts,
            "the stream moves differently from the file"
        );
    }
    assert_eq!(r.position, last_position(&text));
    let fp = &j["final_machine_position"];
    for i in 0..3 {
        assert!((fp[i].as_f64().unwrap() - r.position[i]).abs() < 1e-3);
    }
}

#[test]
fn a_tool_change_pause_with_no_one_to_confirm_stops_the_machine() {
    let prog = tmp("plate_nostdin.nc");
    generate("grbl", &prog);
    let fake = FakeGrbl::start(Config::default());
    // Standard input closed: the pause at the tool change cannot be confirmed.
    let o = send(&prog, &fake, &["--json"], "");
    assert_eq!(o.status.code(), Some(1));
    let j = json(&o);
    assert_eq!(j["finished"], false);
    let reason = j["stop_reason"].as_str().unwrap();
    assert!(reason.contains("no one could confirm"), "{reason}");
    let r = fake.finish();
    assert_eq!(
        *r.realtime.last().unwrap(),
        0x18,
        "no soft reset: {:?}",
        r.realtime
    );
}

/// `--touch-off-plate`: at the tool change the new tool is touched off on the plate (here the
/// plate's top reads 1.0 with the old Z and is 0.5 thick: everything after the change runs
/// 0.5 mm higher in the machine), then the program goes on and finishes.
#[test]
fn the_new_tool_is_touched_off_at_the_change_and_the_rest_runs_in_its_z() {
    let prog = tmp("plate_touch.nc");
    generate("grbl", &prog);
    let text = std::fs::read_to_string(&prog).unwrap();
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(|_, _| 1.0),
        keep_lines: true,
        ..Config::default()
    });
    let o = send(
        &prog,
        &fake,
        &[
            "--json",
            "--touch-off-plate",
            "0.5",
            "--touch-off-travel",
            "20",
        ],
        "\n\n\n",
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(json(&o)["finished"], true);
    assert!(
        stderr.contains("touched off at machine Z 1.000"),
        "{stderr}"
    );
    let r = fake.finish();
    let g10 = r
        .lines
        .iter()
        .position(|l| l == "G10L2P0Z0.5")
        .unwrap_or_else(|| panic!("no touch-off: {:?}", r.lines));
    let dwell = r.lines.iter().position(|l| l == "G4P0.01").unwrap();
    assert!(dwell < g10);
    let end = last_position(&text);
    assert!((r.position[0] - end[0]).abs() < 1e-9 && (r.position[1] - end[1]).abs() < 1e-9);
    assert!(
        (r.position[2] - (end[2] + 0.5)).abs() < 1e-9,
        "{:?}",
        r.position
    );
    // A plate of no sensible thickness is refused before any program line is sent.
    let fake = FakeGrbl::start(Config {
        keep_lines: true,
        ..Config::default()
    });
    let o = send(&prog, &fake, &["--touch-off-plate=-1"], "");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--touch-off-plate is -1"));
    let r = fake.finish();
    assert!(r.lines.iter().all(|l| l.starts_with('$')), "{:?}", r.lines);
}

#[test]
fn a_program_grbl_cannot_take_is_refused_before_any_byte() {
    let prog = tmp("canned.nc");
    std::fs::write(&prog, "G21 G90\nG0 Z5\nG81 X1 Y1 Z-1 R1 F50\nG80\nM2\n").unwrap();
    let fake = FakeGrbl::start(Config::default());
    let o = run(&["send", prog.to_str().unwrap(), "--port", &fake.path], "");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 3") && stderr.contains("G81"),
        "{stderr}"
    );
    assert!(stderr.contains("--expand-cycles"), "{stderr}");
    // The link asked the controller what it is ($I: GRBL, not grblHAL, which has cycles);
    // no program line followed.
    let r = fake.finish();
    assert_eq!(r.lines, vec!["$I"]);
}

#[test]
fn an_error_stops_the_run_and_names_the_line_and_operation() {
    let prog = tmp("plate_err.nc");
    generate("grbl", &prog);
    let text = std::fs::read_to_string(&prog).unwrap();
    // Make the controller refuse one line of the second operation (one found nowhere else).
    let lines: Vec<&str> = text.lines().collect();
    let cleaned: Vec<String> = lines
        .iter()
        .filter_map(|l| clean_line(l).unwrap())
        .collect();
    let op2 = lines.iter().rposition(|l| l.starts_with("(op 2:")).unwrap();
    let (n, bad) = (op2..lines.len())
        .filter(|&i| lines[i].starts_with("G1 "))
        .map(|i| (i + 1, clean_line(lines[i]).unwrap().unwrap()))
        .find(|(_, c)| cleaned.iter().filter(|l| l.contains(c.as_str())).count() == 1)
        .unwrap();
    let fake = FakeGrbl::start(Config {
        error_on: Some(bad.clone()),
        ..Config::default()
    });
    let o = send(&prog, &fake, &["--json"], "\n\n\n");
    assert_eq!(o.status.code(), Some(1));
    let j = json(&o);
    assert_eq!(j["finished"], false);
    assert_eq!(j["errors"][0]["line"], n);
    let reason = j["stop_reason"].as_str().unwrap();
    assert!(
        reason.contains("error:20") && reason.contains("--from-op 2"),
        "{reason}"
    );
    drop(fake);

    // Restart at operation 2: the preamble first, then the operation's lines.
    let fake = FakeGrbl::start(Config::default());
    let o = send(&prog, &fake, &["--from-op", "2", "--json"], "\n\n\n");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = fake.finish();
    assert_eq!(r.lines[1], "G21G90G17G94G54");
    assert!(r.lines[2].starts_with("G0Z"), "{:?}", &r.lines[..6]);
    // The restart as sent reads back without error and ends where the program ends.
    if let (Some((_, full)), Some((errors, restart))) = (
        rs274_points(&text, "restart_full"),
        rs274_points(&(r.lines[1..].join("\n") + "\n"), "restart_wire"),
    ) {
        assert_eq!(errors, 0);
        assert_eq!(full.last(), restart.last());
        assert!(restart.len() < full.len());
    }
    let op2 = text.lines().position(|l| l == "(op 2: outline)").unwrap();
    let rest: Vec<String> = text
        .lines()
        .skip(op2)
        .filter_map(|l| clean_line(l).unwrap())
        // The sender holds at the tool change itself: a dwell in the stop's place.
        .map(|l| if l == "M0" { "G4P0.01".to_string() } else { l })
        .collect();
    assert!(r.lines.ends_with(&rest));
}

#[test]
fn check_mode_first_finds_the_error_before_anything_moves() {
    let prog = tmp("check.nc");
    std::fs::write(&prog, "G21 G90\nG0 Z5\nG0 X5 Y5\nG1 X7 F100\nG0 Z10\nM2\n").unwrap();
    let fake = FakeGrbl::start(Config {
        error_on: Some("X7".into()),
        ..Config::default()
    });
    let o = send(&prog, &fake, &["--check-first", "--json"], "");
    assert_eq!(o.status.code(), Some(1));
    let j = json(&o);
    assert!(j["stop_reason"].as_str().unwrap().contains("nothing moved"));
    let r = fake.finish();
    assert_eq!(r.position, [0.0; 3], "the machine moved");
}

#[test]
fn machine_status_home_and_unlock() {
    let fake = FakeGrbl::start(Config::default());
    let o = run(&["machine", "status", "--port", &fake.path, "--json"], "");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json(&o)["state"], "Idle");
    let o = run(&["machine", "home", "--port", &fake.path, "--json"], "");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json(&o)["reply"], "ok");
    let o = run(&["machine", "unlock", "--port", &fake.path], "");
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("state   Idle"));
    let o = run(&["machine", "status"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--port"));
}

/// One LinuxCNC runs on a computer at a time: its tests take turns.
static LINUXCNC: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A contour program for the simulated LinuxCNC at `feed` (it runs in real time).
fn linuxcnc_program(prog: &Path, feed: &str) {
    let o = cli()
        .args([
            "generate",
            "--op",
            "contour",
            "--tool-diameter",
            "1",
            "--depth",
            "0.2",
            "--feed",
            feed,
            "--safe-height",
            "2",
            "--clearance-height",
            "3",
            "--dialect",
            "linuxcnc",
            "-o",
        ])
        .arg(prog)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_linuxcnc_whose_task_dies_mid_run_is_stopped_and_said_not_waited_on() {
    if !linuxcnc_sim::available() {
        eprintln!(
            "SKIPPED: LinuxCNC is not installed (apt-get install linuxcnc-uspace); the stall watch was NOT tested on it"
        );
        return;
    }
    let _one = LINUXCNC
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = std::env::temp_dir().join(format!("swarf-cli-lcnc-stall-{}", std::process::id()));
    let sim = Sim::start(&dir).unwrap_or_else(|e| panic!("{e}"));
    let prog = dir.join("slow.ngc");
    linuxcnc_program(&prog, "100");
    let address = sim.address();
    let p = prog.to_str().unwrap().to_string();
    let sender = std::thread::spawn(move || {
        run(
            &[
                "send",
                &p,
                "--linuxcnc",
                &address,
                "--machine-on",
                "--stall-limit",
                "3",
                "--json",
            ],
            "",
        )
    });
    // Kill the task once the program runs.
    let mut watcher = Rsh::connect(&sim.address(), "EMC", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_mins(1);
    while watcher.program_status().unwrap() != ProgramStatus::Running {
        assert!(Instant::now() < deadline, "the program did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(sim.kill_task(), "no milltask to kill");
    let o = sender.join().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    let j = json(&o);
    assert_eq!(j["finished"], false);
    let why = j["stop_reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("neither moved nor reached a new line") && why.contains("--stall-limit"),
        "{why}"
    );
    drop(watcher);
    drop(sim);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_swarf_program_runs_to_the_end_on_a_real_linuxcnc() {
    if !linuxcnc_sim::available() {
        eprintln!(
            "SKIPPED: LinuxCNC is not installed (apt-get install linuxcnc-uspace); `send --linuxcnc` was NOT tested"
        );
        return;
    }
    let _one = LINUXCNC
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = std::env::temp_dir().join(format!("swarf-cli-lcnc-{}", std::process::id()));
    let sim = Sim::start(&dir).unwrap_or_else(|e| panic!("{e}"));
    // A short contour at a brisk feed: the simulated machine runs in real time.
    let prog = dir.join("plate.ngc");
    linuxcnc_program(&prog, "1500");
    let text = std::fs::read_to_string(&prog).unwrap();
    let o = run(
        &[
            "send",
            prog.to_str().unwrap(),
            "--linuxcnc",
            &sim.address(),
            "--machine-on",
            "--json",
        ],
        "",
    );
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stderr}\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        sim.log_tail()
    );
    let j = json(&o);
    assert_eq!(j["finished"], true);
    let want = last_position(&text);
    let got = &j["final_work_position"];
    for i in 0..3 {
        assert!(
            (got[i].as_f64().unwrap() - want[i]).abs() < 1e-4,
            "final position {got} vs the program's {want:?}"
        );
    }
    drop(sim);
    let _ = std::fs::remove_dir_all(dir);
}
