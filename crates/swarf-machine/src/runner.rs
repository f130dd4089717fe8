//! The thread between a protocol core and its transport. A [`Link`] is what the app and the CLI
//! hold: commands go in through a channel, [`Event`]s come out through another, and nothing the
//! caller does waits on the port.

use std::io::{self, Read, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::grbl::{self, Event, Grbl, MachineState, Realtime, Status, StopReason};
use crate::linuxcnc::{ProgramStatus, Rsh};
use crate::program::LineSource;

/// What the caller asks of the machine.
pub enum Cmd {
    /// GRBL: stream these lines (a checked program, read from disk as it goes).
    Start(Box<dyn LineSource + Send>),
    /// LinuxCNC: open and run a program file at this path on the controller.
    RunFile(String),
    /// A command line: MDI, `$H`, `$X`, a jog.
    Line(String),
    /// GRBL: a real-time byte.
    Realtime(Realtime),
    Hold,
    Resume,
    /// Stop now: GRBL soft reset, LinuxCNC abort.
    Stop,
    /// Feed override, percent.
    FeedOverride(u32),
    /// LinuxCNC: release the (software) E-stop and switch the machine on.
    MachineOn,
    /// The homing cycle: GRBL `$H`; LinuxCNC homes every joint.
    Home,
    Close,
}

/// Which controller a link talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    Grbl,
    LinuxCnc,
}

/// A running link to a machine.
pub struct Link {
    pub kind: LinkKind,
    tx: Sender<Cmd>,
    rx: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
}

/// The serial ports this computer has.
pub fn list_ports() -> Vec<String> {
    serialport::available_ports()
        .map(|v| v.into_iter().map(|p| p.port_name).collect())
        .unwrap_or_default()
}

impl Link {
    /// Open a GRBL controller on a serial port.
    pub fn grbl_serial(path: &str, baud: u32, opts: grbl::Options) -> Result<Link, String> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(5))
            .open()
            .map_err(|e| format!("cannot open serial port {path}: {e}"))?;
        Ok(Link::grbl_over(port, opts))
    }

    /// A GRBL controller over any byte stream whose reads time out (a serial port, TCP).
    pub fn grbl_over<T: Read + Write + Send + 'static>(port: T, opts: grbl::Options) -> Link {
        let (tx, cmd_rx) = mpsc::channel();
        let (ev_tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("swarf-grbl".into())
            .spawn(move || grbl_thread(port, opts, &cmd_rx, &ev_tx))
            .expect("spawn the GRBL link thread");
        Link {
            kind: LinkKind::Grbl,
            tx,
            rx,
            thread: Some(thread),
        }
    }

    /// Connect to LinuxCNC's linuxcncrsh at `addr` (`host` or `host:port`). The connection is
    /// made on the link's thread, so this returns at once; a failure arrives as
    /// [`Event::Disconnected`] naming the problem.
    pub fn linuxcnc(addr: &str, password: &str) -> Link {
        let (tx, cmd_rx) = mpsc::channel();
        let (ev_tx, rx) = mpsc::channel();
        let (addr, password) = (addr.to_string(), password.to_string());
        let thread = std::thread::Builder::new()
            .name("swarf-linuxcnc".into())
            .spawn(
                move || match Rsh::connect(&addr, &password, RSH_ANSWER_WAIT) {
                    Ok(rsh) => {
                        let _ =
                            ev_tx.send(Event::Welcome(format!("LinuxCNC (linuxcncrsh at {addr})")));
                        linuxcnc_thread(rsh, &cmd_rx, &ev_tx);
                    }
                    Err(e) => {
                        let _ = ev_tx.send(Event::Disconnected(e));
                    }
                },
            )
            .expect("spawn the LinuxCNC link thread");
        Link {
            kind: LinkKind::LinuxCnc,
            tx,
            rx,
            thread: Some(thread),
        }
    }

    /// Send a command; `false` when the link has closed.
    pub fn send(&self, cmd: Cmd) -> bool {
        self.tx.send(cmd).is_ok()
    }

    /// Every event that has arrived, without waiting.
    pub fn poll(&self) -> Vec<Event> {
        self.rx.try_iter().collect()
    }

    /// The next event, waiting at most `timeout`; `Err(true)` when the link has closed.
    pub fn wait(&self, timeout: Duration) -> Result<Event, bool> {
        match self.rx.recv_timeout(timeout) {
            Ok(e) => Ok(e),
            Err(RecvTimeoutError::Timeout) => Err(false),
            Err(RecvTimeoutError::Disconnected) => Err(true),
        }
    }
}

impl Link {
    /// Events until `done` accepts one (it is the last of them); `Err` with what came when
    /// `timeout` passed or the link closed first.
    pub fn events_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Event) -> bool,
    ) -> Result<Vec<Event>, Vec<Event>> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match self.wait(Duration::from_millis(50)) {
                Ok(e) => {
                    let stop = done(&e);
                    seen.push(e);
                    if stop {
                        return Ok(seen);
                    }
                }
                Err(true) => return Err(seen),
                Err(false) => {}
            }
        }
        Err(seen)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.tx.send(Cmd::Close);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// GRBL's feed override moves in steps: reset to 100 %, then ±10 % and ±1 % (10–200 %).
fn feed_override_bytes(pct: u32) -> Vec<Realtime> {
    let pct = i64::from(pct.clamp(10, 200));
    let mut out = vec![Realtime::FeedOverrideReset];
    let mut d = pct - 100;
    while d >= 10 {
        out.push(Realtime::FeedOverridePlus10);
        d -= 10;
    }
    while d <= -10 {
        out.push(Realtime::FeedOverrideMinus10);
        d += 10;
    }
    while d > 0 {
        out.push(Realtime::FeedOverridePlus1);
        d -= 1;
    }
    while d < 0 {
        out.push(Realtime::FeedOverrideMinus1);
        d += 1;
    }
    out
}

fn grbl_thread<T: Read + Write>(
    mut port: T,
    opts: grbl::Options,
    cmds: &Receiver<Cmd>,
    events: &Sender<Event>,
) {
    let mut core = Grbl::new(opts);
    core.connected();
    let mut source: Option<Box<dyn LineSource + Send>> = None;
    let mut buf = [0u8; 4096];
    let closed = |core: &mut Grbl, why: String| {
        core.disconnected(&why);
        let mut ev = core.take_events();
        ev.push(Event::Disconnected(why));
        ev
    };
    loop {
        loop {
            let cmd = match cmds.try_recv() {
                Ok(c) => c,
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return,
            };
            match cmd {
                Cmd::Start(src) => match core.start() {
                    Ok(()) => source = Some(src),
                    Err(e) => {
                        let _ = events.send(Event::Stopped {
                            reason: StopReason::Source(format!("not started: {e}")),
                            last_acked_line: 0,
                        });
                    }
                },
                Cmd::RunFile(_) | Cmd::MachineOn => {
                    let _ = events.send(Event::Warning(
                        "that command is for LinuxCNC, not GRBL".into(),
                    ));
                }
                Cmd::Line(l) => {
                    if let Err(e) = core.command(&l) {
                        let _ = events.send(Event::Reply {
                            command: l,
                            reply: format!("not sent: {e}"),
                        });
                    }
                }
                Cmd::Home => {
                    if let Err(e) = core.command("$H") {
                        let _ = events.send(Event::Reply {
                            command: "$H".into(),
                            reply: format!("not sent: {e}"),
                        });
                    }
                }
                Cmd::Realtime(rt) => core.realtime(rt),
                Cmd::Hold => core.realtime(Realtime::FeedHold),
                Cmd::Resume => {
                    core.resume();
                }
                Cmd::Stop => core.realtime(Realtime::SoftReset),
                Cmd::FeedOverride(p) => {
                    for rt in feed_override_bytes(p) {
                        core.realtime(rt);
                    }
                }
                Cmd::Close => {
                    let _ = port.flush();
                    let _ = events.send(Event::Disconnected("closed".into()));
                    return;
                }
            }
        }
        let now = Instant::now();
        core.pump(source.as_deref_mut().map(|s| s as &mut dyn LineSource), now);
        if !core.is_running() {
            source = None;
        }
        let out = core.take_output();
        if !out.is_empty()
            && let Err(e) = port.write_all(&out)
        {
            for ev in closed(&mut core, format!("write failed: {e}")) {
                let _ = events.send(ev);
            }
            return;
        }
        for ev in core.take_events() {
            if events.send(ev).is_err() {
                return;
            }
        }
        match port.read(&mut buf) {
            Ok(0) => {
                for ev in closed(&mut core, "the port closed".into()) {
                    let _ = events.send(ev);
                }
                return;
            }
            Ok(n) => core.receive(&buf[..n], Instant::now()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                for ev in closed(&mut core, format!("read failed: {e}")) {
                    let _ = events.send(ev);
                }
                return;
            }
        }
    }
}

/// The LinuxCNC link: requests and a status poll every 200 ms.
fn linuxcnc_thread(mut rsh: Rsh, cmds: &Receiver<Cmd>, events: &Sender<Event>) {
    let send = |e: Event| events.send(e).is_ok();
    let mut running = false;
    let mut user_stop = false;
    let mut last_line = 0usize;
    let mut paused_told = false;
    // Status replies in a row that could not be read (linuxcncrsh answers a position with too
    // few numbers while its task is still starting).
    let mut unreadable = 0u32;
    let poll = Duration::from_millis(200);
    let mut next_poll = Instant::now();
    let fail = |e: String| {
        let _ = events.send(Event::Disconnected(e));
    };
    loop {
        let timeout = next_poll.saturating_duration_since(Instant::now());
        let cmd = match cmds.recv_timeout(timeout) {
            Ok(c) => Some(c),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if let Some(cmd) = cmd {
            let result: Result<(), String> = match cmd {
                Cmd::Close => {
                    let _ = send(Event::Disconnected("closed".into()));
                    return;
                }
                Cmd::MachineOn => rsh
                    .expect_ack("set estop off")
                    .and_then(|()| rsh.expect_ack("set machine on")),
                Cmd::RunFile(path) => {
                    if running {
                        Err("a program is already running".into())
                    } else {
                        start_file(&mut rsh, &path).map(|()| {
                            running = true;
                            user_stop = false;
                            last_line = 0;
                            paused_told = false;
                        })
                    }
                }
                Cmd::Start(_) => Err("LinuxCNC runs a program file: use RunFile".into()),
                Cmd::Home => {
                    if running {
                        Err("a program is running".into())
                    } else {
                        let r = rsh
                            .expect_ack("set mode manual")
                            .and_then(|()| rsh.expect_ack("set home -1"));
                        let reply = match &r {
                            Ok(()) => "ok".to_string(),
                            Err(e) => e.clone(),
                        };
                        let _ = send(Event::Reply {
                            command: "home".into(),
                            reply,
                        });
                        Ok(())
                    }
                }
                Cmd::Line(l) if !running && is_probe_move(&l) => {
                    let _ = send(Event::Sent(l.clone()));
                    let reply = match linuxcnc_probe(&mut rsh, &l) {
                        Ok((abs, rel)) => {
                            // The work offset goes with it (as GRBL's reports give it).
                            let _ = send(Event::Status(Status {
                                state: MachineState::Idle,
                                mpos: Some(abs),
                                wpos: Some(rel),
                                ..Status::default()
                            }));
                            let _ = send(Event::Probe {
                                position: abs,
                                success: true,
                            });
                            "ok".to_string()
                        }
                        Err(e) if e.contains("did not answer") || e.contains("closed") => {
                            fail(e);
                            return;
                        }
                        Err(e) => {
                            let _ = send(Event::Probe {
                                position: [0.0; 3],
                                success: false,
                            });
                            e
                        }
                    };
                    let _ = send(Event::Reply { command: l, reply });
                    Ok(())
                }
                Cmd::Line(l) => {
                    if running {
                        Err("a program is running; MDI waits until it ends".into())
                    } else {
                        let _ = send(Event::Sent(l.clone()));
                        // A new MDI line while the last one still moves cuts that move
                        // short: the last one is finished first.
                        let r = rsh
                            .wait_done(PROBE_WAIT)
                            .and_then(|()| rsh.expect_ack("set mode mdi"))
                            .and_then(|()| rsh.expect_ack(&format!("set mdi {l}")));
                        let reply = match &r {
                            Ok(()) => "ok".to_string(),
                            Err(e) => e.clone(),
                        };
                        let _ = send(Event::Reply { command: l, reply });
                        Ok(())
                    }
                }
                Cmd::Hold | Cmd::Realtime(Realtime::FeedHold) => rsh.expect_ack("set pause"),
                Cmd::Resume | Cmd::Realtime(Realtime::CycleStart) => rsh.expect_ack("set resume"),
                Cmd::Stop | Cmd::Realtime(Realtime::SoftReset) => {
                    user_stop = running;
                    rsh.expect_ack("set abort")
                }
                Cmd::FeedOverride(p) => rsh.expect_ack(&format!("set feed_override {p}")),
                Cmd::Realtime(other) => Err(format!("{other:?} is a GRBL real-time command")),
            };
            if let Err(e) = result {
                if e.contains("did not answer") || e.contains("closed") {
                    fail(e);
                    return;
                }
                if running && !user_stop {
                    let _ = send(Event::Warning(e));
                } else if !running {
                    let _ = send(Event::Stopped {
                        reason: StopReason::Controller {
                            line: None,
                            message: e,
                        },
                        last_acked_line: 0,
                    });
                }
            }
            continue;
        }
        next_poll = Instant::now() + poll;
        let status = (|| -> Result<(ProgramStatus, Status, usize), String> {
            let ps = rsh.program_status()?;
            let (abs, rel) = rsh.positions()?;
            let line = rsh.get("program_line")?.trim().parse().unwrap_or(0);
            let ov = rsh
                .get("feed_override")?
                .trim()
                .parse::<u32>()
                .unwrap_or(100);
            let state = match ps {
                ProgramStatus::Idle => MachineState::Idle,
                ProgramStatus::Running => MachineState::Run,
                ProgramStatus::Paused => MachineState::Hold,
            };
            Ok((
                ps,
                Status {
                    state,
                    mpos: Some(abs),
                    wpos: Some(rel),
                    line_number: Some(line as u64),
                    overrides: Some([ov, 100, 100]),
                    ..Status::default()
                },
                line,
            ))
        })();
        let (ps, st, line) = match status {
            Ok(s) => {
                unreadable = 0;
                s
            }
            // The reply was read (the requests and answers stay paired): a value that makes no
            // sense is skipped, for a while; silence or a closed connection is the end.
            Err(e)
                if !(e.contains("did not answer") || e.contains("closed"))
                    && unreadable < UNREADABLE_STATUS_LIMIT =>
            {
                unreadable += 1;
                continue;
            }
            Err(e) => {
                fail(e);
                return;
            }
        };
        if !send(Event::Status(st)) {
            return;
        }
        if !running {
            continue;
        }
        if line > last_line {
            last_line = line;
            let _ = send(Event::Progress { acked: line, line });
        }
        match ps {
            ProgramStatus::Paused if !paused_told => {
                paused_told = true;
                let text = rsh.get("operator_display").unwrap_or_default();
                if text != "OK" && !text.is_empty() {
                    let _ = send(Event::ProgramPause {
                        line,
                        message: text,
                    });
                }
            }
            ProgramStatus::Running => paused_told = false,
            ProgramStatus::Idle => {
                running = false;
                let errors = rsh.errors().unwrap_or_else(|e| vec![e]);
                let ev = if user_stop {
                    Event::Stopped {
                        reason: StopReason::User,
                        last_acked_line: last_line,
                    }
                } else if let Some(first) = errors.into_iter().next() {
                    Event::Stopped {
                        reason: StopReason::Controller {
                            line: (line > 0).then_some(line),
                            message: first,
                        },
                        last_acked_line: last_line,
                    }
                } else {
                    Event::Finished { lines: last_line }
                };
                let _ = send(ev);
            }
            ProgramStatus::Paused => {}
        }
    }
}

/// Status polls in a row whose replies cannot be read before the link gives up (5 s at
/// 200 ms).
const UNREADABLE_STATUS_LIMIT: u32 = 25;

/// The longest linuxcncrsh may take to answer a request (its task can be seconds late on a
/// loaded computer; CI saw more than 5 s).
const RSH_ANSWER_WAIT: Duration = Duration::from_secs(15);

/// The longest a probing move, or an MDI move before the next line, may take on LinuxCNC.
const PROBE_WAIT: Duration = Duration::from_mins(10);

/// Whether an MDI line is a probing move (`G38.2`–`G38.5`).
fn is_probe_move(line: &str) -> bool {
    let up = line.to_ascii_uppercase().replace(' ', "");
    ["G38.2", "G38.3", "G38.4", "G38.5"]
        .iter()
        .any(|g| up.contains(g))
}

/// A probing move by MDI on LinuxCNC, waited for until done; where the probe tripped, the
/// tool is brought back to the latched trigger position (`#5061`–`#5063`, which linuxcncrsh
/// cannot read: the move goes there, modal state saved and restored with `M70`/`M72`, and
/// the position is read), as GRBL reports its latched `PRB`. Returns the machine and work
/// positions there; no contact is an error with LinuxCNC's message.
fn linuxcnc_probe(rsh: &mut Rsh, line: &str) -> Result<([f64; 3], [f64; 3]), String> {
    // The moves sent before (MDI lines are answered when received) are finished first.
    rsh.wait_done(PROBE_WAIT)?;
    let _stale = rsh.errors()?;
    rsh.expect_ack("set mode mdi")?;
    rsh.expect_ack(&format!("set mdi {line}"))?;
    rsh.wait_done(PROBE_WAIT)?;
    if rsh.get("probe_tripped")?.trim() != "1" {
        let why = rsh
            .errors()?
            .into_iter()
            .next()
            .unwrap_or_else(|| "the probe move ended without contact".to_string());
        return Err(format!(
            "error: {why} (check the probe's wiring and clip, that the tool starts above the surface, or allow a longer way down)"
        ));
    }
    // Back to the trigger point at the probe's own feed (a few µm at most).
    let up = line.to_ascii_uppercase().replace(' ', "");
    let feed = up
        .find('F')
        .map(|i| {
            up[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<String>()
        })
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|f| *f > 0.0)
        .unwrap_or(10.0);
    for l in [
        "M70".to_string(),
        format!("G90 G1 X[#5061] Y[#5062] Z[#5063] F{feed}"),
        "M72".to_string(),
    ] {
        rsh.expect_ack(&format!("set mdi {l}"))?;
        rsh.wait_done(PROBE_WAIT)?;
    }
    if let Some(e) = rsh.errors()?.into_iter().next() {
        return Err(format!("error: {e}"));
    }
    rsh.positions()
}

/// Open and run `path` on LinuxCNC: the errors already queued are read first so that those
/// left after are this program's.
fn start_file(rsh: &mut Rsh, path: &str) -> Result<(), String> {
    if rsh.get("estop")?.contains("ON") {
        return Err("LinuxCNC is in E-stop: release it (and switch the machine on) first".into());
    }
    if rsh.get("machine")?.contains("OFF") {
        return Err("the LinuxCNC machine is off: switch it on first".into());
    }
    if rsh.program_status()? != ProgramStatus::Idle {
        return Err("LinuxCNC is already running a program".into());
    }
    let stale = rsh.errors()?;
    let _ = stale;
    rsh.expect_ack("set mode auto")?;
    rsh.expect_ack(&format!("set open {path}"))?;
    if let Some(e) = rsh.errors()?.into_iter().next() {
        return Err(format!("LinuxCNC cannot open {path}: {e}"));
    }
    rsh.expect_ack("set run")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_override_steps_reach_the_asked_percentage() {
        for pct in [10u32, 37, 100, 150, 173, 200, 250, 0] {
            let mut v: i64 = 100;
            for rt in feed_override_bytes(pct) {
                v = match rt {
                    Realtime::FeedOverrideReset => 100,
                    Realtime::FeedOverridePlus10 => v + 10,
                    Realtime::FeedOverrideMinus10 => v - 10,
                    Realtime::FeedOverridePlus1 => v + 1,
                    Realtime::FeedOverrideMinus1 => v - 1,
                    _ => unreachable!(),
                };
            }
            assert_eq!(v, i64::from(pct.clamp(10, 200)));
        }
    }
}
