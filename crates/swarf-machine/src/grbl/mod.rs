//! The GRBL 1.1 / grblHAL protocol core. It does no I/O: it is given the bytes received, the
//! time and a source of program lines, and it returns the bytes to send and what happened
//! (`Event`s). The transports and the thread around it are in [`crate::runner`].
//!
//! Streaming is by character counting (GRBL's `doc/markdown/interface.md`, "Streaming
//! Protocol: Character-Counting"): every line sent and not yet answered is counted in bytes, and
//! the next line goes only while the count stays within the RX buffer the controller reported
//! in `$I` (`[OPT:…,blocks,rx]`). Lines that make GRBL write EEPROM are sent alone
//! (send-and-wait), as is everything when the controller never said how big its buffer is.

pub mod codes;
pub mod report;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub use codes::{alarm_message, error_message};
pub use report::{MachineState, Realtime, Response, Status};

use crate::program::{
    Controller, LineSource, SendLine, check_words, clean_line, needs_send_and_wait,
};

/// What the controller told about itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ControllerInfo {
    /// The welcome banner, e.g. `Grbl 1.1h ['$' for help]`.
    pub banner: Option<String>,
    pub version: Option<String>,
    pub hal: bool,
    /// RX buffer size from `[OPT:…]`; `None` until `$I` answered (or when it does not say).
    pub rx_bytes: Option<usize>,
    pub planner_blocks: Option<u32>,
    pub options: Option<String>,
}

impl ControllerInfo {
    pub fn controller(&self) -> Controller {
        if self.hal {
            Controller::GrblHal
        } else {
            Controller::Grbl
        }
    }
}

/// Where a line that was sent came from, so its answer can be told to the right place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A program line: its number in the file (0 for a restart's preamble).
    Program { line: usize },
    /// A command the user or Swarf sent (`$I`, `$H`, a jog, an MDI line).
    Command(String),
    /// The dwell sent in place of a program stop (`M0`) at this file line: its `ok` comes
    /// when every move before it is made, and the sender then holds with the machine idle.
    Stop { line: usize },
}

impl Origin {
    /// A line of the program (or the dwell in place of its stop).
    fn is_program(&self) -> bool {
        matches!(self, Origin::Program { .. } | Origin::Stop { .. })
    }
}

/// The dwell that takes a program stop's place on the wire: GRBL answers a `G4` only when
/// every move before it has been made, so its `ok` says the machine stands still.
pub const STOP_SYNC: &str = "G4P0.01";

/// Whether a cleaned program line is a program stop (`M0`, `M00`; not the optional `M1`).
pub fn is_program_stop(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].eq_ignore_ascii_case(&b'M') {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            if j > start && text[start..j].parse::<f64>().is_ok_and(|v| v == 0.0) {
                return true;
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    false
}

#[derive(Clone, Debug)]
struct Pending {
    bytes: usize,
    origin: Origin,
    alone: bool,
}

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// `error:N` for a program line: nothing more was sent.
    Error {
        line: usize,
        code: u16,
        message: &'static str,
        /// Lines sent after it that were still in the controller's buffer (they still run).
        still_in_buffer: usize,
    },
    Alarm {
        code: u16,
        message: &'static str,
    },
    /// The controller (LinuxCNC) stopped the program with its own message.
    Controller {
        line: Option<usize>,
        message: String,
    },
    /// The controller reset (its banner came) while the program ran.
    Reset,
    /// The port closed or failed.
    Disconnected(String),
    /// The user stopped it (soft reset).
    User,
    /// The program could not be read further.
    Source(String),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Error {
                line,
                code,
                message,
                still_in_buffer,
            } => {
                write!(f, "error:{code} at program line {line}: {message}")?;
                if *still_in_buffer > 0 {
                    write!(
                        f,
                        " ({still_in_buffer} line(s) sent after it were already in the controller's buffer and still run: hold or reset to stop them)"
                    )?;
                }
                Ok(())
            }
            StopReason::Alarm { code, message } => write!(f, "ALARM:{code}: {message}"),
            StopReason::Controller { line, message } => match line {
                Some(l) => write!(f, "the controller stopped near program line {l}: {message}"),
                None => write!(f, "the controller stopped the program: {message}"),
            },
            StopReason::Reset => write!(f, "the controller reset while the program ran"),
            StopReason::Disconnected(e) => write!(f, "the connection was lost: {e}"),
            StopReason::User => write!(f, "stopped by the user (soft reset)"),
            StopReason::Source(e) => write!(f, "{e}"),
        }
    }
}

/// What happened, for the app's console and status and the CLI's output.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The banner after a connection or reset.
    Welcome(String),
    /// `$I` answered: the controller's version and buffer sizes.
    Info(ControllerInfo),
    Status(Status),
    /// A command line was sent (program lines are not echoed: there may be millions).
    Sent(String),
    /// The answer to a command (`ok`, `error:N …`).
    Reply {
        command: String,
        reply: String,
    },
    Message(String),
    Feedback(String),
    Probe {
        position: [f64; 3],
        success: bool,
    },
    /// `ALARM:N` (also outside a run).
    Alarm {
        code: u16,
        message: &'static str,
    },
    /// The program's lines acknowledged so far and the last one's file line.
    Progress {
        acked: usize,
        line: usize,
    },
    /// The program stopped itself (`M0`/`M1`) and waits for Resume: the comment before it.
    ProgramPause {
        line: usize,
        message: String,
    },
    /// The run ended: every line acknowledged and the machine idle.
    Finished {
        lines: usize,
    },
    /// The run stopped early; nothing more is sent.
    Stopped {
        reason: StopReason,
        last_acked_line: usize,
    },
    Warning(String),
    /// The link closed (the port failed, the controller went away, or it was closed).
    Disconnected(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    Streaming,
    /// A program stop was reached: its dwell is sent, waiting for the machine to stop.
    Stopping,
    /// Held at a program stop with the machine idle: commands (a jog, a probe, a touch-off)
    /// may be sent; [`Grbl::resume`] goes on with the line after the stop.
    HeldAtStop,
    /// Every line sent; waiting for the answers and the machine to go idle.
    Draining,
    Over,
}

impl Run {
    /// End the run early: nothing more is sent.
    fn stop(&mut self, reason: StopReason, events: &mut Vec<Event>) {
        self.state = RunState::Over;
        events.push(Event::Stopped {
            reason,
            last_acked_line: self.last_acked_line,
        });
    }
}

#[derive(Debug)]
struct Run {
    state: RunState,
    acked: usize,
    last_acked_line: usize,
    /// The next line, read but not yet sent (it did not fit).
    next: Option<SendLine>,
    /// The comment that named the last `M0`/`M1` acknowledged.
    pause_message: Option<(usize, String)>,
    pause_told: bool,
    last_progress: Option<Instant>,
    /// A status report asked after the last line was answered must show Idle.
    idle_query_after: Option<Instant>,
}

/// Settings of the core.
#[derive(Clone, Debug)]
pub struct Options {
    /// Status poll interval (GRBL suggests at most 5 Hz).
    pub poll: Duration,
    /// Send every line alone, waiting for its answer.
    pub send_and_wait: bool,
    /// A program stop (`M0`) holds the sender, not GRBL: the lines before it are finished
    /// (a dwell's `ok` says so), the stop itself is not sent, and the machine waits idle, so
    /// it can be jogged, probed and its tool touched off before Resume goes on. Off: the
    /// `M0` goes to GRBL, which holds in its own pause (nothing else can run there).
    pub hold_at_stops: bool,
    /// Bytes of the RX buffer kept free (GRBL's ring keeps one slot empty).
    pub rx_margin: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(200),
            send_and_wait: false,
            rx_margin: 1,
            hold_at_stops: true,
        }
    }
}

/// The GRBL protocol core.
#[derive(Debug)]
pub struct Grbl {
    opts: Options,
    incoming: Vec<u8>,
    pending: VecDeque<Pending>,
    in_flight: usize,
    /// Most bytes ever in flight (tests check it against the buffer).
    pub peak_in_flight: usize,
    pub info: ControllerInfo,
    wco: Option<[f64; 3]>,
    pub status: Option<Status>,
    commands: VecDeque<String>,
    run: Option<Run>,
    last_poll: Option<Instant>,
    out: Vec<u8>,
    events: Vec<Event>,
    /// A line from the program that is sent alone is in flight.
    alone_in_flight: bool,
    /// `$C` was answered `ok` an odd number of times since the last reset: GRBL checks
    /// lines without moving (and does not stop at `M0`).
    check_mode: bool,
}

impl Grbl {
    pub fn new(opts: Options) -> Self {
        Self {
            opts,
            incoming: Vec::new(),
            pending: VecDeque::new(),
            in_flight: 0,
            peak_in_flight: 0,
            info: ControllerInfo::default(),
            wco: None,
            status: None,
            commands: VecDeque::new(),
            run: None,
            last_poll: None,
            out: Vec::new(),
            events: Vec::new(),
            alone_in_flight: false,
            check_mode: false,
        }
    }

    /// A connection was opened: ask the controller what it is.
    pub fn connected(&mut self) {
        self.commands.push_back("$I".into());
    }

    /// Bytes to write to the port.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn is_running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.state != RunState::Over)
    }

    /// Whether the run is held at a program stop with the machine idle.
    pub fn held_at_stop(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| r.state == RunState::HeldAtStop)
    }

    /// Goes on after a program stop the sender holds at (true), else sends cycle start
    /// (`~`: resume after a feed hold or GRBL's own `M0` pause; false).
    pub fn resume(&mut self) -> bool {
        if let Some(run) = &mut self.run
            && run.state == RunState::HeldAtStop
        {
            run.state = RunState::Streaming;
            return true;
        }
        self.realtime(Realtime::CycleStart);
        false
    }

    /// Bytes sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The RX buffer's usable size, once `$I` told it.
    fn capacity(&self) -> Option<usize> {
        self.info
            .rx_bytes
            .map(|n| n.saturating_sub(self.opts.rx_margin))
    }

    /// A real-time command: its byte goes out now.
    pub fn realtime(&mut self, rt: Realtime) {
        self.out.push(rt.byte());
        if rt == Realtime::SoftReset {
            if let Some(run) = &mut self.run
                && run.state != RunState::Over
            {
                run.stop(StopReason::User, &mut self.events);
            }
            // GRBL empties its buffers on reset; the banner confirms it.
            self.commands.clear();
        }
    }

    /// Queue a command line (MDI, `$H`, `$X`, a jog). Refused while a program runs.
    pub fn command(&mut self, line: &str) -> Result<(), String> {
        if self.is_running() && !self.held_at_stop() {
            return Err("a program is running; stop it first (commands may also be sent while it waits at a tool change)".into());
        }
        let clean = clean_line(line)?.ok_or_else(|| "nothing to send".to_string())?;
        let controller = self.info.controller();
        if clean.len() > controller.max_line_chars() {
            return Err(format!(
                "{} characters; {} takes at most {}",
                clean.len(),
                controller.name(),
                controller.max_line_chars()
            ));
        }
        check_words(&clean, controller)?;
        self.commands.push_back(clean);
        Ok(())
    }

    /// Begin streaming a program (already checked by [`crate::program::scan`]).
    pub fn start(&mut self) -> Result<(), String> {
        if self.is_running() {
            return Err("a program is already running".into());
        }
        if let Some(s) = &self.status {
            match s.state {
                MachineState::Alarm => {
                    return Err("the controller is in alarm: home ($H) or unlock ($X) first".into());
                }
                MachineState::Hold
                | MachineState::Door
                | MachineState::Home
                | MachineState::Jog => {
                    return Err(format!(
                        "the controller is in {} state; wait until it is Idle",
                        s.state.name()
                    ));
                }
                _ => {}
            }
        }
        if self.info.rx_bytes.is_none() && !self.opts.send_and_wait {
            self.events.push(Event::Warning(
                "the controller did not report its RX buffer size in $I: every line is sent alone, waiting for its ok (slower, but safe)".into(),
            ));
        }
        self.run = Some(Run {
            state: RunState::Streaming,
            acked: 0,
            last_acked_line: 0,
            next: None,
            pause_message: None,
            pause_told: false,
            last_progress: None,
            idle_query_after: None,
        });
        Ok(())
    }

    /// Whether a line of `bytes` (newline included) may go now.
    fn fits(&self, bytes: usize, alone: bool) -> bool {
        if self.alone_in_flight {
            return false;
        }
        let send_and_wait = self.opts.send_and_wait || self.capacity().is_none();
        if alone || send_and_wait {
            return self.pending.is_empty();
        }
        self.in_flight + bytes <= self.capacity().unwrap_or(0)
    }

    fn send(&mut self, text: &str, origin: Origin, alone: bool) {
        let bytes = text.len() + 1;
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'\n');
        self.in_flight += bytes;
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
        self.alone_in_flight = alone;
        self.pending.push_back(Pending {
            bytes,
            origin,
            alone,
        });
    }

    /// Send what fits: queued commands first, then program lines from `source`; and poll the
    /// status when it is due.
    pub fn pump(&mut self, source: Option<&mut dyn LineSource>, now: Instant) {
        if self
            .last_poll
            .is_none_or(|t| now.duration_since(t) >= self.opts.poll)
        {
            self.out.push(Realtime::StatusQuery.byte());
            self.last_poll = Some(now);
            if let Some(run) = &mut self.run
                && run.state == RunState::Draining
                && self.pending.is_empty()
                && run.idle_query_after.is_none()
            {
                run.idle_query_after = Some(now);
            }
        }
        while let Some(cmd) = self.commands.front() {
            let alone = needs_send_and_wait(cmd);
            if !self.fits(cmd.len() + 1, alone) {
                return;
            }
            let cmd = self.commands.pop_front().expect("front exists");
            self.events.push(Event::Sent(cmd.clone()));
            self.send(&cmd, Origin::Command(cmd.clone()), alone);
        }
        let Some(source) = source else { return };
        let cap = self.capacity();
        let rx_bytes = self.info.rx_bytes.unwrap_or(0);
        loop {
            let Some(run) = &mut self.run else { return };
            if run.state != RunState::Streaming {
                return;
            }
            if run.next.is_none() {
                match source.next_line() {
                    None => {
                        run.state = RunState::Draining;
                        return;
                    }
                    Some(Err(e)) => {
                        run.stop(StopReason::Source(e), &mut self.events);
                        return;
                    }
                    Some(Ok(l)) => run.next = Some(l),
                }
            }
            let next = run.next.as_ref().expect("just filled");
            // (In check mode GRBL does not stop at an `M0` either: the check runs through.)
            let checking = self.check_mode
                || self
                    .status
                    .as_ref()
                    .is_some_and(|st| st.state == MachineState::Check);
            if self.opts.hold_at_stops && !checking && is_program_stop(&next.text) {
                // The stop's dwell goes in its place; the sender holds when it is answered.
                let bytes = STOP_SYNC.len() + 1;
                if !self.fits(bytes, false) {
                    return;
                }
                let Some(run) = self.run.as_mut() else { return };
                let next = run.next.take().expect("checked above");
                run.state = RunState::Stopping;
                run.pause_message = Some((
                    next.line,
                    next.note
                        .unwrap_or_else(|| "program stop (M0): go on with Resume".into()),
                ));
                run.pause_told = false;
                self.send(STOP_SYNC, Origin::Stop { line: next.line }, false);
                return;
            }
            let alone = needs_send_and_wait(&next.text);
            let bytes = next.text.len() + 1;
            if cap.is_some_and(|cap| bytes > cap) {
                let e = format!(
                    "line {} is {bytes} bytes, more than the controller's {rx_bytes}-byte RX buffer holds",
                    next.line,
                );
                run.stop(StopReason::Source(e), &mut self.events);
                return;
            }
            if !self.fits(bytes, alone) {
                return;
            }
            let next = self
                .run
                .as_mut()
                .and_then(|r| r.next.take())
                .expect("checked above");
            if let (Some(note), Some(run)) = (next.note, &mut self.run) {
                run.pause_message = Some((next.line, note));
                run.pause_told = false;
            }
            self.send(&next.text, Origin::Program { line: next.line }, alone);
        }
    }

    /// The port closed or failed.
    pub fn disconnected(&mut self, why: &str) {
        if let Some(run) = &mut self.run
            && run.state != RunState::Over
        {
            run.stop(StopReason::Disconnected(why.to_string()), &mut self.events);
        }
        self.pending.clear();
        self.in_flight = 0;
        self.alone_in_flight = false;
    }

    /// Bytes from the port.
    pub fn receive(&mut self, bytes: &[u8], now: Instant) {
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                if !self.incoming.is_empty() {
                    let line = String::from_utf8_lossy(&self.incoming).into_owned();
                    self.incoming.clear();
                    self.line(&line, now);
                }
            } else if self.incoming.len() < 1024 {
                self.incoming.push(b);
            }
        }
    }

    fn answered(&mut self) -> Option<Pending> {
        let p = self.pending.pop_front()?;
        self.in_flight -= p.bytes;
        if p.alone {
            self.alone_in_flight = false;
        }
        Some(p)
    }

    fn line(&mut self, line: &str, now: Instant) {
        match Response::parse(line) {
            Response::Ok => match self.answered() {
                Some(Pending {
                    origin: Origin::Program { line },
                    ..
                }) => self.program_ok(line, now),
                Some(Pending {
                    origin: Origin::Stop { line },
                    ..
                }) => {
                    self.program_ok(line, now);
                    if let Some(run) = &mut self.run
                        && run.state == RunState::Stopping
                    {
                        run.state = RunState::HeldAtStop;
                        if let Some((line, message)) = run.pause_message.take() {
                            run.pause_told = true;
                            self.events.push(Event::ProgramPause { line, message });
                        }
                    }
                }
                Some(Pending {
                    origin: Origin::Command(command),
                    ..
                }) => {
                    if command == "$C" {
                        self.check_mode = !self.check_mode;
                    }
                    self.events.push(Event::Reply {
                        command,
                        reply: "ok".into(),
                    });
                }
                None => self
                    .events
                    .push(Event::Warning("an `ok` that answers no line sent".into())),
            },
            Response::Error(code) => {
                let message = error_message(code);
                match self.answered() {
                    Some(Pending {
                        origin: Origin::Program { line } | Origin::Stop { line },
                        ..
                    }) => {
                        let still = self
                            .pending
                            .iter()
                            .filter(|p| p.origin.is_program())
                            .count();
                        if let Some(run) = &mut self.run
                            && run.state != RunState::Over
                        {
                            run.next = None;
                            run.stop(
                                StopReason::Error {
                                    line,
                                    code,
                                    message,
                                    still_in_buffer: still,
                                },
                                &mut self.events,
                            );
                        } else {
                            self.events.push(Event::Warning(format!(
                                "error:{code} for program line {line}: {message}"
                            )));
                        }
                    }
                    Some(Pending {
                        origin: Origin::Command(command),
                        ..
                    }) => self.events.push(Event::Reply {
                        command,
                        reply: format!("error:{code}: {message}"),
                    }),
                    None => self.events.push(Event::Warning(format!(
                        "error:{code} that answers no line sent: {message}"
                    ))),
                }
            }
            Response::Alarm(code) => {
                let message = alarm_message(code);
                self.events.push(Event::Alarm { code, message });
                if let Some(run) = &mut self.run
                    && run.state != RunState::Over
                {
                    run.stop(StopReason::Alarm { code, message }, &mut self.events);
                }
            }
            Response::Status(mut s) => {
                if let Some(w) = s.wco {
                    self.wco = Some(w);
                }
                s.complete(self.wco);
                self.status_arrived(&s, now);
                self.status = Some(s.clone());
                self.events.push(Event::Status(s));
            }
            Response::Welcome { text, hal } => {
                // A reset: GRBL's buffers are empty and nothing sent before will be answered;
                // check mode is left.
                self.check_mode = false;
                self.pending.clear();
                self.in_flight = 0;
                self.alone_in_flight = false;
                self.info.banner = Some(text.clone());
                self.info.hal = hal;
                if let Some(run) = &mut self.run
                    && run.state != RunState::Over
                {
                    run.stop(StopReason::Reset, &mut self.events);
                }
                self.events.push(Event::Welcome(text));
                if self.info.rx_bytes.is_none() && !self.commands.iter().any(|c| c == "$I") {
                    self.commands.push_back("$I".into());
                }
            }
            Response::Message(m) => self.events.push(Event::Message(m)),
            Response::Probe { position, success } => {
                self.events.push(Event::Probe { position, success });
            }
            Response::Version(v) => {
                if v.to_ascii_lowercase().contains("hal") {
                    self.info.hal = true;
                }
                self.info.version = Some(v);
            }
            Response::Options {
                flags,
                blocks,
                rx_bytes,
            } => {
                self.info.options = Some(flags);
                self.info.planner_blocks = blocks;
                self.info.rx_bytes = rx_bytes;
                self.events.push(Event::Info(self.info.clone()));
            }
            Response::Feedback(f) => self.events.push(Event::Feedback(f)),
            Response::Other(o) => self.events.push(Event::Feedback(o)),
        }
    }

    fn program_ok(&mut self, line: usize, now: Instant) {
        let Some(run) = &mut self.run else { return };
        run.acked += 1;
        if line > 0 {
            run.last_acked_line = line;
        }
        let due = run
            .last_progress
            .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(100));
        let drained =
            run.state == RunState::Draining && self.pending.iter().all(|p| !p.origin.is_program());
        if due || drained {
            run.last_progress = Some(now);
            self.events.push(Event::Progress {
                acked: run.acked,
                line: run.last_acked_line,
            });
        }
        if drained {
            // Ask for a fresh status: the run ends when the machine reports Idle.
            self.last_poll = None;
        }
    }

    fn status_arrived(&mut self, s: &Status, now: Instant) {
        let Some(run) = &mut self.run else { return };
        if run.state == RunState::Over {
            return;
        }
        if s.state == MachineState::Hold
            && s.sub_state == Some(0)
            && let Some((line, msg)) = &run.pause_message
            && !run.pause_told
        {
            run.pause_told = true;
            self.events.push(Event::ProgramPause {
                line: *line,
                message: msg.clone(),
            });
        }
        // Running again after the pause was told: the message is spent. (A Run report that
        // arrives after the M0 line was sent but before the machine reached it must not clear
        // it: the pause would then stop the machine without saying which tool to load.)
        if s.state == MachineState::Run && run.pause_told {
            run.pause_message = None;
        }
        let no_program_pending = !self.pending.iter().any(|p| p.origin.is_program());
        if run.state == RunState::Draining
            && no_program_pending
            && run.next.is_none()
            && run.idle_query_after.is_some_and(|t| t <= now)
            && matches!(s.state, MachineState::Idle | MachineState::Check)
        {
            run.state = RunState::Over;
            let lines = run.acked;
            self.events.push(Event::Finished { lines });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> std::vec::IntoIter<SendLine> {
        (1..=n)
            .map(|i| SendLine::new(format!("G1X{i}.1234Y{i}.5678F100"), i))
            .collect::<Vec<_>>()
            .into_iter()
    }

    fn connected(rx: usize) -> (Grbl, Instant) {
        let mut g = Grbl::new(Options::default());
        let t = Instant::now();
        g.connected();
        g.pump(None, t);
        assert_eq!(g.take_output(), b"?$I\n");
        g.receive(b"[VER:1.1h.20190830:]\r\n", t);
        g.receive(format!("[OPT:V,15,{rx}]\r\nok\r\n").as_bytes(), t);
        g.receive(b"<Idle|MPos:0.000,0.000,0.000|FS:0,0>\r\n", t);
        assert_eq!(g.info.rx_bytes, Some(rx));
        g.take_events();
        (g, t)
    }

    #[test]
    fn character_counting_fills_the_buffer_and_no_more() {
        let (mut g, t) = connected(128);
        g.start().unwrap();
        let mut src = lines(100);
        g.pump(Some(&mut src), t);
        let out = g.take_output();
        // Each line is 22-26 bytes: as many as fit in 127 bytes go.
        assert!(out.len() <= 127 && out.len() > 127 - 27, "{}", out.len());
        assert_eq!(g.in_flight(), out.len());
        // One ok frees one line; the next goes.
        g.receive(b"ok\r\n", t);
        g.pump(Some(&mut src), t);
        assert!(g.in_flight() <= 127);
        assert!(g.peak_in_flight <= 127);
    }

    #[test]
    fn an_error_stops_the_stream_and_names_the_line() {
        let (mut g, t) = connected(128);
        g.start().unwrap();
        let mut src = lines(100);
        g.pump(Some(&mut src), t);
        g.take_output();
        g.receive(b"ok\r\nerror:20\r\n", t);
        g.pump(Some(&mut src), t);
        assert!(
            g.take_output().is_empty(),
            "nothing more is sent after an error"
        );
        let ev = g.take_events();
        let stop = ev
            .iter()
            .find_map(|e| match e {
                Event::Stopped { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .unwrap();
        let StopReason::Error {
            line,
            code,
            still_in_buffer,
            ..
        } = &stop
        else {
            panic!("{stop:?}")
        };
        assert_eq!((*line, *code), (2, 20));
        assert!(*still_in_buffer >= 1);
        assert!(stop.to_string().contains("Unsupported or invalid g-code"));
        assert!(!g.is_running());
    }

    #[test]
    fn an_alarm_or_a_reset_stops_the_stream() {
        for (bytes, want) in [
            (&b"ALARM:1\r\n"[..], "ALARM:1"),
            (&b"\r\nGrbl 1.1h ['$' for help]\r\n"[..], "reset"),
        ] {
            let (mut g, t) = connected(128);
            g.start().unwrap();
            let mut src = lines(100);
            g.pump(Some(&mut src), t);
            g.receive(b"ok\r\n", t);
            g.receive(bytes, t);
            let ev = g.take_events();
            let reason = ev
                .iter()
                .find_map(|e| match e {
                    Event::Stopped {
                        reason,
                        last_acked_line,
                    } => Some((reason.to_string(), *last_acked_line)),
                    _ => None,
                })
                .unwrap();
            assert!(reason.0.contains(want), "{reason:?}");
            assert_eq!(reason.1, 1);
            g.take_output();
            g.pump(Some(&mut src), t + Duration::from_secs(1));
            // Only a status query (and $I again after a reset that lost the info) go out.
            let out = g.take_output();
            assert!(!out.windows(2).any(|w| w == b"G1"), "{out:?}");
        }
    }

    #[test]
    fn eeprom_writes_wait_for_an_empty_buffer_and_their_ok() {
        let (mut g, t) = connected(128);
        g.start().unwrap();
        let mut src = vec![
            SendLine::new("G0X1", 1),
            SendLine::new("G10L20P1X0", 2),
            SendLine::new("G0X2", 3),
        ]
        .into_iter();
        g.pump(Some(&mut src), t);
        assert_eq!(g.take_output(), b"G0X1\n");
        g.receive(b"ok\n", t);
        g.pump(Some(&mut src), t);
        assert_eq!(g.take_output(), b"G10L20P1X0\n");
        g.pump(Some(&mut src), t);
        assert!(g.take_output().is_empty());
        g.receive(b"ok\n", t);
        g.pump(Some(&mut src), t);
        assert_eq!(g.take_output(), b"G0X2\n");
    }

    #[test]
    fn a_run_finishes_when_every_line_is_answered_and_the_machine_is_idle() {
        let (mut g, t) = connected(128);
        g.start().unwrap();
        let mut src = lines(3);
        g.pump(Some(&mut src), t);
        g.take_output();
        g.pump(Some(&mut src), t);
        g.receive(b"ok\nok\nok\n", t);
        let t2 = t + Duration::from_millis(300);
        g.pump(Some(&mut src), t2);
        assert_eq!(g.take_output(), b"?");
        g.receive(b"<Run|MPos:3.000,0.000,0.000|FS:100,0>\n", t2);
        assert!(g.is_running());
        g.receive(b"<Idle|MPos:3.000,0.000,0.000|FS:0,0>\n", t2);
        assert!(!g.is_running());
        assert!(g.take_events().contains(&Event::Finished { lines: 3 }));
    }

    #[test]
    fn without_a_reported_buffer_every_line_waits() {
        let mut g = Grbl::new(Options::default());
        let t = Instant::now();
        g.start().unwrap();
        assert!(matches!(g.take_events()[0], Event::Warning(_)));
        let mut src = lines(5);
        g.pump(Some(&mut src), t);
        let out = g.take_output();
        assert_eq!(out.split(|&b| b == b'\n').count(), 2);
    }

    #[test]
    fn commands_are_checked_and_refused_while_running() {
        let (mut g, t) = connected(128);
        assert!(g.command("G81 X1 Y1 Z-1 R1").is_err());
        assert!(g.command("(just a comment)").is_err());
        g.command("$J=G91 G21 X0.001 F100").unwrap();
        g.pump(None, t);
        assert_eq!(g.take_output(), b"$J=G91G21X0.001F100\n");
        g.receive(b"ok\n", t);
        assert!(
            g.take_events()
                .iter()
                .any(|e| matches!(e, Event::Reply { reply, .. } if reply == "ok"))
        );
        g.start().unwrap();
        assert!(g.command("$H").unwrap_err().contains("running"));
    }

    #[test]
    fn a_pause_at_m0_names_the_tool() {
        // GRBL's own pause (the sender does not hold at stops).
        let (mut g, t) = connected(128);
        g.opts.hold_at_stops = false;
        g.start().unwrap();
        let mut src = vec![SendLine {
            text: "M0".into(),
            line: 7,
            note: Some("TOOL CHANGE: load tool 3".into()),
        }]
        .into_iter();
        g.pump(Some(&mut src), t);
        // The machine still runs the lines before the M0 when a status report comes.
        g.receive(b"<Run|MPos:0.000,0.000,20.000|FS:100,0>\n", t);
        g.receive(b"<Hold:0|MPos:0.000,0.000,20.000|FS:0,0>\n", t);
        let ev = g.take_events();
        assert!(ev.iter().any(
            |e| matches!(e, Event::ProgramPause { line: 7, message } if message.contains("tool 3"))
        ));
        g.receive(b"<Hold:0|MPos:0.000,0.000,20.000|FS:0,0>\n", t);
        assert!(
            !g.take_events()
                .iter()
                .any(|e| matches!(e, Event::ProgramPause { .. }))
        );
    }

    #[test]
    fn the_sender_holds_at_a_stop_with_the_machine_idle_and_goes_on_after() {
        let (mut g, t) = connected(128);
        g.start().unwrap();
        let mut src = vec![
            SendLine::new("G1X1F100", 5),
            SendLine {
                text: "M0".into(),
                line: 7,
                note: Some("TOOL CHANGE: load tool 3".into()),
            },
            SendLine::new("G0Z3", 8),
            SendLine::new("S20000M3", 9),
        ]
        .into_iter();
        g.pump(Some(&mut src), t);
        // The line before, then the dwell in the stop's place; nothing after it.
        assert_eq!(
            g.take_output(),
            format!("G1X1F100\n{STOP_SYNC}\n").as_bytes()
        );
        assert!(
            g.command("G0X5").is_err(),
            "commands wait until the machine stands"
        );
        g.receive(b"ok\n", t);
        assert!(!g.held_at_stop());
        g.pump(Some(&mut src), t);
        assert!(g.take_output().is_empty());
        // The dwell's ok: every move before it is made; the sender holds and says why.
        g.receive(b"ok\n", t);
        assert!(g.held_at_stop() && g.is_running());
        let ev = g.take_events();
        assert!(ev.iter().any(
            |e| matches!(e, Event::ProgramPause { line: 7, message } if message.contains("tool 3"))
        ), "{ev:?}");
        // Held: a touch-off's lines may go, the program's may not.
        g.command("G91").unwrap();
        g.command("G38.2Z-5F50").unwrap();
        g.pump(Some(&mut src), t);
        assert_eq!(g.take_output(), b"G91\nG38.2Z-5F50\n");
        g.receive(b"ok\nok\n", t);
        g.pump(Some(&mut src), t);
        assert!(g.take_output().is_empty());
        // Resume: the lines after the stop; the M0 itself never went out.
        assert!(g.resume());
        g.pump(Some(&mut src), t);
        assert_eq!(g.take_output(), b"G0Z3\nS20000M3\n");
        assert!(!g.held_at_stop());
        // Not held: resume is cycle start.
        assert!(!g.resume());
        assert_eq!(g.take_output(), [Realtime::CycleStart.byte()]);
    }

    #[test]
    fn program_stops_are_told_from_other_m_words() {
        for (t, stop) in [
            ("M0", true),
            ("M00", true),
            ("G0X1M0", true),
            ("M1", false),
            ("M3", false),
            ("M30", false),
            ("M05", false),
            ("G0X10", false),
        ] {
            assert_eq!(is_program_stop(t), stop, "{t}");
        }
    }
}
