//! `swarf-cli send` and `swarf-cli machine`: run a program on a GRBL controller (serial port)
//! or a LinuxCNC machine (linuxcncrsh), through `swarf-machine`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;
use swarf_machine::grbl::{self, Event, MachineState, StopReason};
use swarf_machine::program::{self, Controller, ProgramError, ProgramInfo, ProgramReader};
use swarf_machine::watch::{Stall, StallWatch};
use swarf_machine::{Cmd, Link};

/// Exit codes of `send`.
pub const RAN: u8 = 0;
pub const FAILED: u8 = 1;
pub const REFUSED: u8 = 2;

#[derive(Args, Clone)]
pub struct Target {
    /// A GRBL (or grblHAL) controller on this serial port, e.g. /dev/ttyUSB0.
    #[arg(long, conflicts_with = "linuxcnc")]
    pub port: Option<String>,
    /// Serial speed.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// A LinuxCNC machine's linuxcncrsh: HOST or HOST:PORT (port 5007 by default).
    #[arg(long)]
    pub linuxcnc: Option<String>,
    /// linuxcncrsh's connect password (LinuxCNC's default is EMC).
    #[arg(long, default_value = "EMC")]
    pub password: String,
}

#[derive(Args)]
#[allow(clippy::struct_excessive_bools)] // command-line switches
pub struct SendArgs {
    /// The G-code program.
    pub file: PathBuf,
    #[command(flatten)]
    pub target: Target,
    /// GRBL: run the whole program in check mode ($C) first; nothing moves unless it passes.
    #[arg(long)]
    pub check_first: bool,
    /// GRBL: send every line alone and wait for its ok (slower; for controllers that need it).
    #[arg(long)]
    pub send_and_wait: bool,
    /// Start at this operation of the program (1 = the first `(op 1: …)`), with the modal
    /// state before it re-sent and the tool brought in at the program's safe height.
    #[arg(long, value_name = "N")]
    pub from_op: Option<usize>,
    /// LinuxCNC: release the software E-stop and switch the machine on before running.
    #[arg(long)]
    pub machine_on: bool,
    /// LinuxCNC: the program's path on the controller, when it is not this file's path.
    #[arg(long, value_name = "PATH")]
    pub remote_path: Option<String>,
    /// Stop the machine and fail when it has neither moved nor reached a new line for this
    /// many seconds while running (a controller that still answers but has stopped; a
    /// warning comes after 30 s). 0: only warn. Paused and held time does not count.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub stall_limit: u64,
    /// GRBL: at each tool change (the program's `M0`, where the sender holds with the machine
    /// idle), once Enter says the new tool is in, touch it off on a plate of this thickness
    /// (mm; 0: the work surface) below it before going on. Without it the tool's length is
    /// the operator's to set during the stop.
    #[arg(long, value_name = "MM")]
    pub touch_off_plate: Option<f64>,
    /// Longest way down for that touch-off, mm.
    #[arg(long, value_name = "MM", default_value_t = 10.0)]
    pub touch_off_travel: f64,
    /// Print a JSON summary at the end instead of progress.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MachineAction {
    /// Connect and print the state and position.
    Status,
    /// Run the homing cycle ($H; LinuxCNC: home all joints).
    Home,
    /// Clear an alarm lock ($X; LinuxCNC: release E-stop and switch the machine on).
    Unlock,
    /// Touch the tool off on a plate (--plate MM thick; 0: the work) with G38.2 and set the
    /// work Z so the contact reads the plate's thickness (GRBL or LinuxCNC; LinuxCNC must be
    /// on: `machine unlock` first). Start above the plate.
    TouchOff,
}

#[derive(Args)]
pub struct MachineArgs {
    pub action: MachineAction,
    #[command(flatten)]
    pub target: Target,
    /// touch-off: the plate's thickness, mm (0: touching the work itself).
    #[arg(long, default_value_t = 0.0)]
    pub plate: f64,
    /// touch-off: how far down the tool may go looking for the plate, mm.
    #[arg(long, default_value_t = 10.0)]
    pub max_travel: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize, Default)]
struct ErrorOut {
    line: usize,
    message: String,
}

#[derive(Serialize, Default)]
struct Summary {
    file: String,
    controller: String,
    finished: bool,
    lines_total: usize,
    lines_sent: usize,
    last_acked_line: usize,
    errors: Vec<ErrorOut>,
    alarms: Vec<ErrorOut>,
    stop_reason: Option<String>,
    seconds: f64,
    rx_buffer_bytes: Option<usize>,
    final_work_position: Option<[f64; 3]>,
    final_machine_position: Option<[f64; 3]>,
}

pub(crate) fn connect(t: &Target, opts: grbl::Options) -> Result<Link> {
    match (&t.port, &t.linuxcnc) {
        (Some(p), None) => Link::grbl_serial(p, t.baud, opts).map_err(anyhow::Error::msg),
        (None, Some(h)) => {
            let link = Link::linuxcnc(h, &t.password);
            // The connection is made on the link's thread: wait for its greeting.
            match link.wait(Duration::from_secs(15)) {
                Ok(Event::Welcome(_)) => Ok(link),
                Ok(Event::Disconnected(e)) => bail!("{e}"),
                Ok(other) => bail!("unexpected first event from LinuxCNC: {other:?}"),
                Err(_) => bail!("no answer from linuxcncrsh at {h} within 15 s"),
            }
        }
        _ => bail!(
            "name the machine: --port PATH for GRBL ({}) or --linuxcnc HOST[:PORT]",
            port_hint()
        ),
    }
}

fn port_hint() -> String {
    let ports = swarf_machine::runner::list_ports();
    if ports.is_empty() {
        "no serial ports found".into()
    } else {
        format!("ports here: {}", ports.join(", "))
    }
}

/// Wait for GRBL's `$I` answer (its buffer size), or the banner and a status at least.
pub(crate) fn wait_grbl_ready(link: &Link) -> Result<grbl::ControllerInfo> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut info = None;
    let mut status_seen = false;
    while Instant::now() < deadline {
        match link.wait(Duration::from_millis(50)) {
            Ok(Event::Info(i)) => info = Some(i),
            Ok(Event::Reply { command, .. }) if command == "$I" && info.is_none() => {
                info = Some(grbl::ControllerInfo::default());
            }
            Ok(Event::Status(_)) => status_seen = true,
            Ok(Event::Disconnected(e)) => bail!("the controller went away: {e}"),
            Err(true) => bail!("the link closed"),
            _ => {}
        }
        if status_seen && let Some(i) = info.take() {
            return Ok(i);
        }
    }
    bail!(
        "no answer from a GRBL controller within 10 s (check the port, the baud rate and that nothing else has the port open)"
    )
}

fn refused(e: &ProgramError, json: bool, file: &Path) -> u8 {
    if json {
        let s = Summary {
            file: file.display().to_string(),
            stop_reason: Some(e.to_string()),
            ..Summary::default()
        };
        outln!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
    }
    eprintln!("swarf-cli: {e}");
    REFUSED
}

/// Stop the machine when the user presses Ctrl-C: a program must not run on unattended with
/// its sender gone.
fn ctrl_c_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
    flag
}

pub fn run_send(args: &SendArgs) -> Result<u8> {
    // What any GRBL-family controller refuses is refused before a port is opened.
    let pre = if args.target.linuxcnc.is_some() {
        None
    } else {
        Some(Controller::GrblHal)
    };
    let mut info = match program::scan(&args.file, pre) {
        Ok(i) => i,
        Err(e) => return Ok(refused(&e, args.json, &args.file)),
    };
    let opts = grbl::Options {
        send_and_wait: args.send_and_wait,
        ..grbl::Options::default()
    };
    let link = connect(&args.target, opts)?;
    let stop = ctrl_c_flag();
    let mut summary = Summary {
        file: args.file.display().to_string(),
        lines_total: info.send_lines,
        ..Summary::default()
    };
    if let Some(p) = args.touch_off_plate
        && !(p.is_finite() && (0.0..100.0).contains(&p))
    {
        bail!(
            "--touch-off-plate is {p}; give the plate's thickness in mm (0 for the work surface)"
        );
    }
    if !(args.touch_off_travel.is_finite() && args.touch_off_travel > 0.0) {
        bail!(
            "--touch-off-travel is {}; it must be a positive number of mm",
            args.touch_off_travel
        );
    }
    let started = Instant::now();
    let code = if args.target.linuxcnc.is_some() {
        summary.controller = "LinuxCNC".into();
        if args.from_op.is_some() {
            bail!("--from-op is for GRBL; on LinuxCNC use its own run-from-line");
        }
        if args.touch_off_plate.is_some() {
            bail!(
                "--touch-off-plate is for GRBL, where Swarf holds at the tool change; LinuxCNC runs the program file itself and stops at M6 in its own way: touch the tool off there with `machine touch-off --linuxcnc`"
            );
        }
        if args.machine_on {
            link.send(Cmd::MachineOn);
        }
        let path = match &args.remote_path {
            Some(p) => p.clone(),
            None => std::fs::canonicalize(&args.file)
                .with_context(|| format!("{}", args.file.display()))?
                .display()
                .to_string(),
        };
        link.send(Cmd::RunFile(path));
        follow(
            &link,
            &info,
            &mut summary,
            &stop,
            args.json,
            args.stall_limit,
            args.touch_off_plate.map(|p| (p, args.touch_off_travel)),
        )?
    } else {
        let ci = wait_grbl_ready(&link)?;
        let controller = ci.controller();
        summary.controller = ci
            .banner
            .clone()
            .or(ci.version.clone())
            .unwrap_or_else(|| controller.name().into());
        summary.rx_buffer_bytes = ci.rx_bytes;
        if controller == Controller::Grbl {
            info = match program::scan(&args.file, Some(controller)) {
                Ok(i) => i,
                Err(e) => return Ok(refused(&e, args.json, &args.file)),
            };
        }
        let plan = match args.from_op {
            None => None,
            Some(0) => bail!("--from-op counts from 1"),
            Some(n) => match program::plan_restart(&info, n - 1) {
                Ok(p) => Some(p),
                Err(e) => return Ok(refused(&e, args.json, &args.file)),
            },
        };
        let reader = || -> Result<ProgramReader<_>> {
            let r = ProgramReader::open(&args.file)
                .with_context(|| format!("{}", args.file.display()))?;
            Ok(match &plan {
                Some(p) => r.with_restart(p),
                None => r,
            })
        };
        if args.check_first {
            if !args.json {
                eprintln!("checking the program in GRBL's check mode ($C) first …");
            }
            link.send(Cmd::Line("$C".into()));
            link.send(Cmd::Start(Box::new(reader()?)));
            let mut check = Summary::default();
            let c = follow(
                &link,
                &info,
                &mut check,
                &stop,
                true,
                args.stall_limit,
                None,
            )?;
            link.send(Cmd::Line("$C".into()));
            // Leaving check mode resets GRBL: wait for its banner.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Event::Welcome(_)) = link.wait(Duration::from_millis(50)) {
                    break;
                }
            }
            if c != RAN {
                summary.errors = check.errors;
                summary.alarms = check.alarms;
                summary.stop_reason = check
                    .stop_reason
                    .map(|r| format!("check mode found a problem; nothing moved: {r}"));
                return Ok(finish(summary, started, args.json, FAILED));
            }
            if !args.json {
                eprintln!("check passed; running");
            }
            wait_grbl_ready(&link)?;
        }
        link.send(Cmd::Start(Box::new(reader()?)));
        follow(
            &link,
            &info,
            &mut summary,
            &stop,
            args.json,
            args.stall_limit,
            args.touch_off_plate.map(|p| (p, args.touch_off_travel)),
        )?
    };
    Ok(finish(summary, started, args.json, code))
}

fn finish(mut s: Summary, started: Instant, json: bool, code: u8) -> u8 {
    s.seconds = started.elapsed().as_secs_f64();
    if json {
        outln!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
    } else if code == RAN {
        outln!(
            "ran {} ({} lines) in {:.1} s",
            s.file,
            s.lines_sent,
            s.seconds
        );
    } else if let Some(r) = &s.stop_reason {
        eprintln!("swarf-cli: {r}");
    }
    code
}

/// Follow a run to its end, printing progress (unless `quiet`).
/// Follows a run to its end. `touch_off`: at each program stop, after Enter, touch the new
/// tool off on a plate (thickness, longest travel), mm.
fn follow(
    link: &Link,
    info: &ProgramInfo,
    summary: &mut Summary,
    stop: &AtomicBool,
    quiet: bool,
    stall_limit: u64,
    touch_off: Option<(f64, f64)>,
) -> Result<u8> {
    let mut last_print = Instant::now();
    let mut stop_sent = false;
    let mut wait_for_status = false;
    let mut gave_up: Option<Instant> = None;
    let mut watch = StallWatch::new(
        Instant::now(),
        Duration::from_secs(30),
        (stall_limit > 0).then(|| Duration::from_secs(stall_limit)),
    );
    loop {
        if stop.load(Ordering::SeqCst) && !stop_sent {
            stop_sent = true;
            eprintln!("\nCtrl-C: stopping the machine");
            link.send(Cmd::Stop);
        }
        let at = summary.last_acked_line;
        match watch.check(Instant::now()) {
            Some(Stall::Warn { seconds }) if !quiet && !stop_sent => eprintln!(
                "warning: the machine has neither moved nor reached a new line for {seconds:.0} s (last line {at}): a dwell or a tool change may be waiting, or the controller has stopped; Ctrl-C stops it"
            ),
            Some(Stall::GiveUp { seconds }) if !stop_sent => {
                summary.stop_reason = Some(format!(
                    "the machine neither moved nor reached a new line for {seconds:.0} s while running (last line {at}), so it was stopped: look at the controller (raise --stall-limit for longer dwells)"
                ));
                link.send(Cmd::Stop);
                stop_sent = true;
                wait_for_status = true;
                gave_up = Some(Instant::now());
            }
            _ => {}
        }
        // A controller that has stopped may not confirm the stop either.
        if gave_up.is_some_and(|t| t.elapsed() > Duration::from_secs(15)) {
            if let Some(r) = &mut summary.stop_reason {
                r.push_str("; the controller did not confirm the stop within 15 s");
            }
            return Ok(FAILED);
        }
        let ev = match link.wait(Duration::from_millis(100)) {
            Ok(e) => e,
            Err(false) => continue,
            Err(true) => bail!("the link closed"),
        };
        match ev {
            Event::Progress { acked, line } => {
                watch.on_line(line.max(acked), Instant::now());
                summary.lines_sent = acked;
                summary.last_acked_line = line;
                if !quiet && last_print.elapsed() >= Duration::from_secs(1) {
                    last_print = Instant::now();
                    let (sec, left) = info.progress(acked, line);
                    let op = sec.map_or(String::new(), |s| {
                        format!(
                            " · op {} {}",
                            info.sections[s].number, info.sections[s].name
                        )
                    });
                    let left = left.map_or(String::new(), |l| format!(" · about {l:.0} s left"));
                    eprintln!(
                        "line {line} ({acked} of {} sent){op}{left}",
                        info.send_lines
                    );
                }
            }
            Event::ProgramPause { line, message } => {
                eprintln!(
                    "paused at line {line}: {message}\n  press Enter to resume (Ctrl-C stops the machine)"
                );
                let mut s = String::new();
                let answered = matches!(std::io::stdin().read_line(&mut s), Ok(n) if n > 0);
                if !answered {
                    // Nobody can confirm (stdin closed): a tool change must not resume by
                    // itself, and a held program must not wait for a stray cycle start.
                    summary.stop_reason = Some(format!(
                        "the program paused at line {line} ({message}) and standard input is closed, so no one could confirm; the machine was stopped"
                    ));
                    link.send(Cmd::Stop);
                    stop_sent = true;
                } else if !stop.load(Ordering::SeqCst) {
                    let touched = match touch_off {
                        Some((plate, travel)) => {
                            let t = swarf_machine::probe::TouchOff {
                                plate_mm: plate,
                                max_travel_mm: travel,
                                ..swarf_machine::probe::TouchOff::default()
                            };
                            swarf_machine::probe::touch_off(link, &t).map(|contact| {
                                eprintln!(
                                    "touched off at machine Z {contact:.3}: work Z there is now {plate:.3}"
                                );
                            })
                        }
                        None => Ok(()),
                    };
                    match touched {
                        Ok(()) => {
                            link.send(Cmd::Resume);
                        }
                        Err(e) => {
                            // The new tool's length is unknown: going on would cut at the
                            // wrong depth.
                            summary.stop_reason = Some(format!(
                                "the touch-off at line {line} failed ({e}); the program was stopped"
                            ));
                            link.send(Cmd::Stop);
                            stop_sent = true;
                        }
                    }
                }
            }
            Event::Alarm { code, message } => summary.alarms.push(ErrorOut {
                line: summary.last_acked_line,
                message: format!("ALARM:{code}: {message}"),
            }),
            Event::Warning(w) if !quiet => eprintln!("warning: {w}"),
            Event::Message(m) if !quiet => eprintln!("[MSG:{m}]"),
            Event::Status(s) => {
                watch.on_status(&s, Instant::now());
                summary.final_work_position = s.wpos;
                summary.final_machine_position = s.mpos;
                if wait_for_status {
                    return Ok(if summary.stop_reason.is_some() {
                        FAILED
                    } else {
                        RAN
                    });
                }
            }
            Event::Finished { lines } => {
                summary.finished = true;
                summary.lines_sent = summary.lines_sent.max(lines);
                // One more status for the final position.
                wait_for_status = true;
            }
            Event::Stopped {
                reason,
                last_acked_line,
            } => {
                summary.last_acked_line = summary.last_acked_line.max(last_acked_line);
                match &reason {
                    StopReason::Error { line, .. } => summary.errors.push(ErrorOut {
                        line: *line,
                        message: reason.to_string(),
                    }),
                    StopReason::Controller { line, .. } => summary.errors.push(ErrorOut {
                        line: line.unwrap_or(0),
                        message: reason.to_string(),
                    }),
                    _ => {}
                }
                let mut text = reason.to_string();
                let where_ =
                    info.section_of(summary.last_acked_line.max(1))
                        .map_or(String::new(), |s| {
                            let sec = &info.sections[s];
                            format!(
                                " (op {}: {}; restart with --from-op {})",
                                sec.number,
                                sec.name,
                                s + 1
                            )
                        });
                text = format!(
                    "{text}; last line answered: {}{where_}",
                    summary.last_acked_line
                );
                if summary.stop_reason.is_none() {
                    summary.stop_reason = Some(text);
                }
                wait_for_status = true;
            }
            Event::Disconnected(e) => {
                summary
                    .stop_reason
                    .get_or_insert_with(|| format!("the connection was lost: {e}"));
                return Ok(FAILED);
            }
            _ => {}
        }
    }
}

pub fn run_machine(args: &MachineArgs) -> Result<u8> {
    let link = connect(&args.target, grbl::Options::default())?;
    let lcnc = args.target.linuxcnc.is_some();
    if !lcnc {
        wait_grbl_ready(&link)?;
    }
    let reply_of = |cmd: &str, secs: u64, send: bool| -> Result<String> {
        if send {
            link.send(Cmd::Line(cmd.into()));
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            match link.wait(Duration::from_millis(100)) {
                Ok(Event::Reply { command, reply })
                    if command.replace(' ', "") == cmd.replace(' ', "") =>
                {
                    return Ok(reply);
                }
                Ok(Event::Stopped { reason, .. }) => return Ok(reason.to_string()),
                Ok(Event::Disconnected(e)) => bail!("the controller went away: {e}"),
                _ => {}
            }
        }
        bail!("no answer to {cmd} within {secs} s")
    };
    let mut outcome = None;
    match args.action {
        MachineAction::Status => {}
        MachineAction::Home => {
            link.send(Cmd::Home);
            outcome = Some(reply_of(if lcnc { "home" } else { "$H" }, 120, false)?);
        }
        MachineAction::Unlock if lcnc => {
            link.send(Cmd::MachineOn);
            outcome = Some("ok".into());
        }
        MachineAction::Unlock => outcome = Some(reply_of("$X", 10, true)?),
        MachineAction::TouchOff => {
            let t = swarf_machine::probe::TouchOff {
                plate_mm: args.plate,
                max_travel_mm: args.max_travel,
                ..swarf_machine::probe::TouchOff::default()
            };
            let contact = swarf_machine::probe::touch_off(&link, &t).map_err(anyhow::Error::msg)?;
            outcome = Some("ok".into());
            if !args.json {
                outln!(
                    "touched off at machine Z {contact:.3}: work Z there is now {:.3} (the plate's top)",
                    args.plate
                );
            }
        }
    }
    // A fresh status.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut status = None;
    while Instant::now() < deadline && status.is_none() {
        if let Ok(Event::Status(s)) = link.wait(Duration::from_millis(100)) {
            status = Some(s);
        }
    }
    let Some(s) = status else {
        bail!("no status from the controller within 5 s")
    };
    let ok = outcome.as_deref().is_none_or(|o| o == "ok");
    if args.json {
        let v = serde_json::json!({
            "state": s.state.name(),
            "work_position": s.wpos,
            "machine_position": s.mpos,
            "feed_override": s.overrides.map(|o| o[0]),
            "reply": outcome,
        });
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let fmt = |p: Option<[f64; 3]>| {
            p.map_or("?".into(), |p| {
                format!("X{:.4} Y{:.4} Z{:.4}", p[0], p[1], p[2])
            })
        };
        outln!("state   {}", s.state.name());
        outln!("work    {}", fmt(s.wpos));
        outln!("machine {}", fmt(s.mpos));
        if let Some(o) = &outcome {
            outln!("reply   {o}");
        }
        if s.state == MachineState::Alarm {
            outln!("the controller is in alarm: `swarf-cli machine home` or `unlock`");
        }
    }
    Ok(if ok { RAN } else { FAILED })
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SimKind {
    /// A GRBL 1.1 on a pseudo-terminal: connect to the port path it prints.
    Grbl,
    /// LinuxCNC in simulation (needs linuxcnc-uspace): connect to the address it prints.
    Linuxcnc,
}

#[derive(Args)]
pub struct SimArgs {
    pub kind: SimKind,
    /// GRBL: milliseconds each motion block takes.
    #[arg(long, default_value_t = 5)]
    pub block_ms: u64,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// A warped board under the probe, so `probe` and levelling can be tried. GRBL: tilted
    /// 0.1 mm over 50 mm, bowed, ±2 µm noise; LinuxCNC (wired in HAL): the same tilt, its top
    /// at machine Z -3.
    #[arg(long)]
    pub warped_board: bool,
}

/// The simulated machine's warped board (work coordinates, mm).
fn demo_board(x: f64, y: f64) -> f64 {
    0.002 * x - 0.001 * y + 0.00002 * (x - 25.0) * (y - 20.0)
}

/// A simulated machine to try `send` and the app's Machine panel without one.
pub fn run_sim(args: &SimArgs) -> Result<u8> {
    let stop = ctrl_c_flag();
    let deadline = args
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let wait = || {
        while !stop.load(Ordering::SeqCst) && deadline.is_none_or(|d| Instant::now() < d) {
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    match args.kind {
        SimKind::Grbl => {
            let fake =
                swarf_machine::fake_grbl::FakeGrbl::start(swarf_machine::fake_grbl::Config {
                    block_time: Duration::from_millis(args.block_ms),
                    keep_lines: false,
                    probe_surface: args
                        .warped_board
                        .then_some(demo_board as fn(f64, f64) -> f64),
                    probe_noise_um: if args.warped_board { 2.0 } else { 0.0 },
                    ..swarf_machine::fake_grbl::Config::default()
                });
            outln!("simulated GRBL on {}", fake.path);
            wait();
            let r = fake.finish();
            outln!(
                "{} lines received, {} bytes dropped",
                r.line_count,
                r.dropped
            );
        }
        SimKind::Linuxcnc => {
            if !swarf_machine::linuxcnc_sim::available() {
                bail!("LinuxCNC is not installed (apt-get install linuxcnc-uspace)");
            }
            let dir = std::env::temp_dir().join(format!("swarf-linuxcnc-{}", std::process::id()));
            let opts = swarf_machine::linuxcnc_sim::SimOptions {
                probe_plane: args.warped_board.then_some([0.002, -0.001, -3.0]),
            };
            let sim = swarf_machine::linuxcnc_sim::Sim::start_with(&dir, opts)
                .map_err(anyhow::Error::msg)?;
            outln!("simulated LinuxCNC: linuxcncrsh on {}", sim.address());
            wait();
        }
    }
    Ok(RAN)
}
