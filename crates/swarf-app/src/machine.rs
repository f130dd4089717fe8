//! The app's side of the machine link, without any GUI: the connection settings, the
//! [`swarf_machine::Link`] (its own thread: nothing here waits on a port), the last status,
//! the console, and the run of the job's program with its progress. The Machine panel
//! (`ui/machine.rs`) only draws this and calls its methods.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use swarf_core::level::{HeightMap, ProbeSpec};
use swarf_machine::probe::{ProbeOutcome, ProbeSettings, TouchOff, probe_grid, touch_off};

use swarf_machine::grbl::{self, ControllerInfo, Event, MachineState, Status};
use swarf_machine::program::{self, Controller, ProgramInfo, ProgramReader};
use swarf_machine::runner::LinkKind;
use swarf_machine::watch::{Stall, StallWatch};
use swarf_machine::{Cmd, Link, Realtime};

use crate::Session;

/// Lines the console keeps.
const CONSOLE_LINES: usize = 400;
/// How long a running machine may neither move nor advance before the console says so.
const STALL_WARN: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleKind {
    Sent,
    Reply,
    Info,
    Error,
}

/// A program the user asked to start, waiting for the confirmation that names it.
#[derive(Clone, Debug)]
pub struct PendingStart {
    pub path: PathBuf,
    pub info: ProgramInfo,
    /// The first tool the program uses and the work offset, for the confirmation.
    pub tool: String,
    pub work_offset: String,
    /// Start at this operation (index into `info.sections`).
    pub from_section: Option<usize>,
}

/// The program running on the machine.
#[derive(Clone, Debug)]
pub struct Run {
    pub path: PathBuf,
    pub info: ProgramInfo,
    pub acked: usize,
    pub line: usize,
    pub started: Instant,
    /// The program's line → move map is the shown job's (the run is the job's own program).
    pub generation: u64,
    /// A controller that still answers but no longer moves or advances is said in the
    /// console (the user decides: a long dwell, or Stop).
    pub watch: StallWatch,
}

/// What a probe on its own thread says.
enum ProbeMsg {
    Progress(usize, usize),
    Grid(Link, Result<ProbeOutcome, String>, [f64; 4]),
    TouchOff(Link, Result<f64, String>, f64),
}

/// A probe running on its own thread, the link lent to it (it waits on the machine; the UI
/// never does).
struct Probing {
    rx: Receiver<ProbeMsg>,
    stop: Arc<AtomicBool>,
}

#[allow(clippy::struct_excessive_bools)] // independent switches of the panel
pub struct Machine {
    pub show: bool,
    pub kind: LinkKind,
    pub port: String,
    pub baud: u32,
    pub host: String,
    pub password: String,
    pub ports: Vec<String>,
    link: Option<Link>,
    pub info: Option<ControllerInfo>,
    pub status: Option<Status>,
    pub console: VecDeque<(ConsoleKind, String)>,
    pub pending: Option<PendingStart>,
    pub run: Option<Run>,
    /// How the last run ended.
    pub outcome: Option<(bool, String)>,
    /// The program paused itself (`M0`): what it asks for.
    pub pause: Option<String>,
    pub jog_step_mm: f64,
    pub jog_feed: f64,
    pub mdi: String,
    pub feed_override: u32,
    /// A continuous jog in progress (GRBL: cancelled with 0x85 on release).
    pub jogging: bool,
    /// Start from this operation (index), chosen in the panel.
    pub from_section: Option<usize>,
    /// GRBL: run the program in check mode (`$C`) first; it moves only if that passes.
    pub check_first: bool,
    /// GRBL: send every line alone and wait for its `ok` (for controllers that need it).
    pub send_and_wait: bool,
    checking: Option<(CheckPhase, PendingStart, u64)>,
    probing: Option<Probing>,
    /// Points probed of all, while a grid is probed.
    pub probe_progress: Option<(usize, usize)>,
    /// A height map just probed, for the app to put into the job.
    pub probed: Option<HeightMap>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CheckPhase {
    /// The program streams in check mode.
    Checking,
    /// Check mode is being left (GRBL resets); the real run starts on the banner.
    Leaving,
}

impl Default for Machine {
    fn default() -> Self {
        Self {
            show: false,
            kind: LinkKind::Grbl,
            port: String::new(),
            baud: 115_200,
            host: "127.0.0.1".into(),
            password: "EMC".into(),
            ports: Vec::new(),
            link: None,
            info: None,
            status: None,
            console: VecDeque::new(),
            pending: None,
            run: None,
            outcome: None,
            pause: None,
            jog_step_mm: 0.01,
            jog_feed: 200.0,
            mdi: String::new(),
            feed_override: 100,
            jogging: false,
            from_section: None,
            check_first: false,
            send_and_wait: false,
            checking: None,
            probing: None,
            probe_progress: None,
            probed: None,
        }
    }
}

impl Machine {
    pub fn connected(&self) -> bool {
        self.link.is_some() || self.probing.is_some()
    }

    /// A grid probe or a touch-off is running.
    pub fn probing(&self) -> bool {
        self.probing.is_some()
    }

    /// Probes a grid over `area` (X0, Y0, X1, Y1) as the job's `spec` says, on the link's
    /// thread of its own; the map arrives in [`Machine::probed`].
    pub fn start_probe_grid(&mut self, area: [f64; 4], spec: &ProbeSpec) -> Result<(), String> {
        let settings = ProbeSettings {
            nx: spec.grid[0],
            ny: spec.grid[1],
            area,
            touches: spec.touches,
            fast_mm_per_min: spec.fast_mm_per_min,
            slow_mm_per_min: spec.slow_mm_per_min,
            clearance_mm: spec.clearance_mm,
            retract_mm: spec.retract_mm,
            max_depth_mm: spec.max_depth_mm,
            outlier_um: spec.outlier_um,
            expected_warp_mm: spec.expected_warp_mm,
            ..ProbeSettings::default()
        };
        settings.check()?;
        let link = self.lend_link(false)?;
        let (tx, rx) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        self.log(
            ConsoleKind::Info,
            format!(
                "probing {} × {} points over ({:.3}, {:.3}) .. ({:.3}, {:.3}) mm",
                settings.nx, settings.ny, area[0], area[1], area[2], area[3]
            ),
        );
        std::thread::spawn(move || {
            let r = probe_grid(&link, &settings, &mut |done, total| {
                let _ = tx.send(ProbeMsg::Progress(done, total));
                !stop2.load(Ordering::SeqCst)
            });
            let _ = tx.send(ProbeMsg::Grid(link, r, area));
        });
        self.probing = Some(Probing { rx, stop });
        self.probe_progress = Some((0, spec.grid[0] * spec.grid[1]));
        Ok(())
    }

    /// Touches the tool off on the job's plate (or the work) below it.
    pub fn start_touch_off(&mut self, spec: &ProbeSpec) -> Result<(), String> {
        let t = TouchOff {
            plate_mm: spec.plate_mm,
            fast_mm_per_min: spec.fast_mm_per_min,
            slow_mm_per_min: spec.slow_mm_per_min,
            ..TouchOff::default()
        };
        // Also at a program's tool change, where the sender holds with the machine idle.
        let link = self.lend_link(self.held_at_stop())?;
        let (tx, rx) = channel();
        self.log(
            ConsoleKind::Info,
            format!("touching off on a {} mm plate", t.plate_mm),
        );
        let plate = t.plate_mm;
        std::thread::spawn(move || {
            let r = touch_off(&link, &t);
            let _ = tx.send(ProbeMsg::TouchOff(link, r, plate));
        });
        self.probing = Some(Probing {
            rx,
            stop: Arc::new(AtomicBool::new(false)),
        });
        Ok(())
    }

    /// Stops a grid probe after the point it is at.
    pub fn stop_probe(&mut self) {
        if let Some(p) = &self.probing {
            p.stop.store(true, Ordering::SeqCst);
            self.log(ConsoleKind::Info, "probing stops after this point");
        }
    }

    /// The link, lent to a probe's thread; `at_stop`: also while a program is held at its
    /// tool change.
    fn lend_link(&mut self, at_stop: bool) -> Result<Link, String> {
        if !(self.idle() || (at_stop && self.held_at_stop())) {
            return Err("the machine must be connected and Idle to probe".into());
        }
        self.link.take().ok_or_else(|| "not connected".to_string())
    }

    /// Takes what the probe's thread said; `true` when something changed.
    fn poll_probe(&mut self) -> bool {
        let Some(p) = &self.probing else { return false };
        let msgs: Vec<ProbeMsg> = p.rx.try_iter().collect();
        let mut changed = !msgs.is_empty();
        for m in msgs {
            match m {
                ProbeMsg::Progress(done, total) => self.probe_progress = Some((done, total)),
                ProbeMsg::Grid(link, r, area) => {
                    self.link = Some(link);
                    self.probing = None;
                    self.probe_progress = None;
                    match r.and_then(|out| {
                        for w in &out.warnings {
                            self.log(ConsoleKind::Error, w.clone());
                        }
                        for n in &out.notes {
                            self.log(ConsoleKind::Info, n.clone());
                        }
                        HeightMap::from_nodes(
                            area,
                            out.nx,
                            out.ny,
                            out.points.iter().map(|p| p.z).collect(),
                            &out.points.iter().map(|p| p.scatter_um).collect::<Vec<_>>(),
                            out.notes,
                        )
                        .map_err(|e| e.to_string())
                    }) {
                        Ok(map) => {
                            self.log(ConsoleKind::Info, map.describe());
                            self.probed = Some(map);
                        }
                        Err(e) => self.log(ConsoleKind::Error, format!("probing: {e}")),
                    }
                }
                ProbeMsg::TouchOff(link, r, plate) => {
                    self.link = Some(link);
                    self.probing = None;
                    match r {
                        Ok(z) => self.log(
                            ConsoleKind::Info,
                            format!("touched off at machine Z {z:.3}: work Z there is {plate:.3}"),
                        ),
                        Err(e) => self.log(ConsoleKind::Error, format!("touch-off: {e}")),
                    }
                }
            }
            changed = true;
        }
        changed
    }

    pub fn running(&self) -> bool {
        self.run.is_some()
    }

    pub fn state(&self) -> Option<MachineState> {
        self.status.as_ref().map(|s| s.state)
    }

    /// Idle and not running a program: commands, jogs and Start make sense.
    pub fn idle(&self) -> bool {
        self.link.is_some() && !self.running() && self.state() == Some(MachineState::Idle)
    }

    /// A GRBL program waits at its tool change (the sender holds there with the machine
    /// idle): jogs, MDI and a touch-off may go before Resume.
    pub fn held_at_stop(&self) -> bool {
        self.kind == LinkKind::Grbl
            && self.link.is_some()
            && self.running()
            && self.pause.is_some()
            && self.state() == Some(MachineState::Idle)
    }

    /// Commands (a jog, MDI, a touch-off) may be sent: idle, or held at a tool change.
    pub fn can_command(&self) -> bool {
        self.idle() || self.held_at_stop()
    }

    pub fn log(&mut self, kind: ConsoleKind, text: impl Into<String>) {
        if self.console.len() >= CONSOLE_LINES {
            self.console.pop_front();
        }
        self.console.push_back((kind, text.into()));
    }

    /// The connection settings to keep between runs.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "kind",
                match self.kind {
                    LinkKind::Grbl => "grbl",
                    LinkKind::LinuxCnc => "linuxcnc",
                }
                .to_string(),
            ),
            ("port", self.port.clone()),
            ("baud", self.baud.to_string()),
            ("host", self.host.clone()),
            ("send_and_wait", self.send_and_wait.to_string()),
        ]
    }

    /// Settings kept from an earlier run; unknown keys and bad values are ignored.
    pub fn apply_settings(&mut self, settings: &[(String, String)]) {
        for (k, v) in settings {
            match k.as_str() {
                "kind" if v == "grbl" => self.kind = LinkKind::Grbl,
                "kind" if v == "linuxcnc" => self.kind = LinkKind::LinuxCnc,
                "port" => self.port.clone_from(v),
                "baud" => {
                    if let Ok(b) = v.parse() {
                        self.baud = b;
                    }
                }
                "host" => self.host.clone_from(v),
                "send_and_wait" => self.send_and_wait = v == "true",
                _ => {}
            }
        }
    }

    pub fn refresh_ports(&mut self) {
        self.ports = swarf_machine::runner::list_ports();
        if self.port.is_empty()
            && let Some(p) = self.ports.first()
        {
            self.port = p.clone();
        }
    }

    pub fn connect(&mut self) -> Result<(), String> {
        self.disconnect();
        let link = match self.kind {
            LinkKind::Grbl => {
                if self.port.trim().is_empty() {
                    return Err("choose a serial port (or type its path)".into());
                }
                let opts = grbl::Options {
                    send_and_wait: self.send_and_wait,
                    ..grbl::Options::default()
                };
                Link::grbl_serial(self.port.trim(), self.baud, opts)?
            }
            LinkKind::LinuxCnc => Link::linuxcnc(self.host.trim(), &self.password),
        };
        self.log(
            ConsoleKind::Info,
            match self.kind {
                LinkKind::Grbl => format!("connected to {} at {} baud", self.port, self.baud),
                LinkKind::LinuxCnc => format!("connecting to linuxcncrsh at {} …", self.host),
            },
        );
        self.link = Some(link);
        Ok(())
    }

    pub fn disconnect(&mut self) {
        if self.link.take().is_some() {
            self.log(ConsoleKind::Info, "disconnected");
        }
        self.status = None;
        self.info = None;
        if self.run.take().is_some() {
            self.outcome = Some((false, "disconnected during the run".into()));
        }
    }

    fn send(&mut self, cmd: Cmd) {
        if let Some(l) = &self.link
            && !l.send(cmd)
        {
            self.log(ConsoleKind::Error, "the link has closed");
            self.link = None;
        }
    }

    /// Take what the link reported; `true` when something changed (repaint).
    pub fn poll(&mut self) -> bool {
        if self.poll_probe() {
            return true;
        }
        let Some(link) = &self.link else { return false };
        let events = link.poll();
        let mut changed = !events.is_empty();
        for e in events {
            self.event(e);
        }
        changed |= self.watch_stall(Instant::now());
        changed
    }

    /// Say (once per stall) that a running machine has neither moved nor reached a new line
    /// for [`STALL_WARN`]; `true` when something was said.
    fn watch_stall(&mut self, now: Instant) -> bool {
        let Some(r) = &mut self.run else { return false };
        let Some(Stall::Warn { seconds }) = r.watch.check(now) else {
            return false;
        };
        let line = r.line.max(r.acked);
        self.log(
            ConsoleKind::Error,
            format!(
                "the machine has neither moved nor reached a new line for {seconds:.0} s (line {line}): a dwell or a tool change may be waiting, or the controller has stopped; press Stop if it should be moving"
            ),
        );
        true
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Welcome(b) => {
                self.log(ConsoleKind::Reply, b);
                if let Some((CheckPhase::Leaving, p, generation)) = self.checking.take() {
                    self.log(ConsoleKind::Info, "check passed; running the program");
                    self.start_pending(p, generation, false);
                }
            }
            Event::Info(i) => {
                self.log(
                    ConsoleKind::Info,
                    format!(
                        "{}{}: RX buffer {} bytes, {} planner blocks",
                        if i.hal { "grblHAL " } else { "GRBL " },
                        i.version.clone().unwrap_or_default(),
                        i.rx_bytes.map_or("?".into(), |n| n.to_string()),
                        i.planner_blocks.map_or("?".into(), |n| n.to_string())
                    ),
                );
                self.info = Some(i);
            }
            Event::Status(s) => {
                if let Some(r) = &mut self.run {
                    r.watch.on_status(&s, Instant::now());
                }
                if let Some(o) = s.overrides {
                    self.feed_override = o[0];
                }
                // Out of GRBL's own pause (resumed from the controller too): the pause is over.
                // At a tool change the sender holds with the machine Idle, and jogs and a
                // touch-off move it: that pause lasts until Resume.
                if s.state != MachineState::Hold && self.state() == Some(MachineState::Hold) {
                    self.pause = None;
                }
                self.status = Some(s);
            }
            Event::Sent(l) => self.log(ConsoleKind::Sent, l),
            Event::Reply { command, reply } => {
                let kind = if reply == "ok" {
                    ConsoleKind::Reply
                } else {
                    ConsoleKind::Error
                };
                self.log(kind, format!("{command}: {reply}"));
            }
            Event::Message(m) => self.log(ConsoleKind::Reply, format!("[MSG:{m}]")),
            Event::Feedback(f) => self.log(ConsoleKind::Reply, f),
            Event::Probe { position, success } => self.log(
                ConsoleKind::Reply,
                format!(
                    "probe {} at X{:.4} Y{:.4} Z{:.4}",
                    if success { "touched" } else { "FAILED" },
                    position[0],
                    position[1],
                    position[2]
                ),
            ),
            Event::Alarm { code, message } => {
                self.log(ConsoleKind::Error, format!("ALARM:{code}: {message}"));
            }
            Event::Progress { acked, line } => {
                if let Some(r) = &mut self.run {
                    r.acked = acked;
                    r.line = line;
                    r.watch.on_line(line.max(acked), Instant::now());
                }
            }
            Event::ProgramPause { line, message } => {
                self.log(
                    ConsoleKind::Info,
                    format!("paused at line {line}: {message}"),
                );
                self.pause = Some(message);
            }
            Event::Finished { lines } => {
                if let Some((CheckPhase::Checking, p, generation)) = self.checking.take() {
                    self.run = None;
                    self.checking = Some((CheckPhase::Leaving, p, generation));
                    self.send(Cmd::Line("$C".into()));
                    return;
                }
                if let Some(r) = self.run.take() {
                    let text = format!(
                        "{} ran to the end: {lines} lines in {:.0} s",
                        r.path.display(),
                        r.started.elapsed().as_secs_f64()
                    );
                    self.log(ConsoleKind::Info, text.clone());
                    self.outcome = Some((true, text));
                }
            }
            Event::Stopped {
                reason,
                last_acked_line,
            } => {
                let mut text = format!("{reason}; last line answered: {last_acked_line}");
                if let Some((CheckPhase::Checking, ..)) = self.checking.take() {
                    self.run = None;
                    self.send(Cmd::Line("$C".into()));
                    text = format!("check mode found a problem; nothing moved: {text}");
                    self.log(ConsoleKind::Error, text.clone());
                    self.outcome = Some((false, text));
                    return;
                }
                if let Some(r) = self.run.take()
                    && let Some(s) = r.info.section_of(last_acked_line.max(1))
                {
                    let sec = &r.info.sections[s];
                    let _ = write!(
                        text,
                        " (op {}: {}; restart from it with \"Start at\")",
                        sec.number, sec.name
                    );
                    self.from_section = Some(s);
                }
                self.log(ConsoleKind::Error, text.clone());
                self.outcome = Some((false, text));
            }
            Event::Warning(w) => self.log(ConsoleKind::Error, w),
            Event::Disconnected(why) => {
                self.log(ConsoleKind::Error, format!("disconnected: {why}"));
                self.link = None;
                self.status = None;
                if self.run.take().is_some() {
                    self.outcome = Some((false, format!("the connection was lost: {why}")));
                }
            }
        }
    }

    /// Write the job's program (checked by the export check, as an export is) to a file of
    /// its own, check it for the controller, and ask for confirmation.
    pub fn prepare_start(&mut self, session: &mut Session) -> Result<(), String> {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        if !self.idle() {
            return Err("the machine must be connected and Idle to start".into());
        }
        let dir = session
            .store
            .dir()
            .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
        let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("machine-run-{}-{n}.nc", std::process::id()));
        session.write_checked_program(&path)?;
        let controller = match self.kind {
            LinkKind::Grbl => Some(
                self.info
                    .as_ref()
                    .map_or(Controller::Grbl, ControllerInfo::controller),
            ),
            LinkKind::LinuxCnc => None,
        };
        let info = program::scan(&path, controller).map_err(|e| e.to_string())?;
        if let Some(s) = self.from_section
            && s >= info.sections.len()
        {
            self.from_section = None;
        }
        let job = &session.job;
        let first_tool = job
            .operations
            .iter()
            .find(|o| o.enabled)
            .and_then(|o| job.tools.iter().find(|t| t.number == o.tool))
            .map_or("?".into(), |t| format!("T{} {}", t.number, t.name));
        self.pending = Some(PendingStart {
            path,
            info,
            tool: first_tool,
            work_offset: format!("{:?}", job.post.work_offset),
            from_section: self.from_section,
        });
        Ok(())
    }

    /// The user confirmed: start streaming (GRBL) or running (LinuxCNC).
    pub fn start_confirmed(&mut self, generation: u64) {
        let Some(p) = self.pending.take() else { return };
        let check = self.check_first && self.kind == LinkKind::Grbl;
        self.start_pending(p, generation, check);
    }

    fn start_pending(&mut self, p: PendingStart, generation: u64, check: bool) {
        let cmd = match self.kind {
            LinkKind::Grbl => {
                let reader = match ProgramReader::open(&p.path) {
                    Ok(r) => r,
                    Err(e) => {
                        self.log(ConsoleKind::Error, format!("{}: {e}", p.path.display()));
                        return;
                    }
                };
                let reader = match p.from_section {
                    Some(s) => match program::plan_restart(&p.info, s) {
                        Ok(plan) => reader.with_restart(&plan),
                        Err(e) => {
                            self.log(ConsoleKind::Error, e.to_string());
                            self.outcome = Some((false, e.to_string()));
                            return;
                        }
                    },
                    None => reader,
                };
                Cmd::Start(Box::new(reader))
            }
            LinkKind::LinuxCnc => {
                if p.from_section.is_some() {
                    self.outcome = Some((
                        false,
                        "starting at an operation is for GRBL; on LinuxCNC use its run-from-line"
                            .into(),
                    ));
                    return;
                }
                Cmd::RunFile(p.path.display().to_string())
            }
        };
        if check {
            self.log(
                ConsoleKind::Info,
                "checking the program in check mode ($C) first",
            );
            self.send(Cmd::Line("$C".into()));
            self.checking = Some((CheckPhase::Checking, p.clone(), generation));
        } else {
            self.log(ConsoleKind::Info, format!("start {}", p.path.display()));
        }
        self.outcome = None;
        self.run = Some(Run {
            path: p.path,
            info: p.info,
            acked: 0,
            line: 0,
            started: Instant::now(),
            generation,
            watch: StallWatch::new(Instant::now(), STALL_WARN, None),
        });
        self.send(cmd);
    }

    /// Whether the run in progress is the check-mode pass.
    pub fn checking(&self) -> bool {
        matches!(self.checking, Some((CheckPhase::Checking, ..)))
    }

    /// A GRBL real-time command (rapid and spindle overrides).
    pub fn realtime(&mut self, rt: Realtime) {
        self.send(Cmd::Realtime(rt));
    }

    pub fn hold(&mut self) {
        self.send(Cmd::Hold);
    }
    pub fn resume(&mut self) {
        self.pause = None;
        self.send(Cmd::Resume);
    }
    /// Stop now: GRBL soft reset (position may be lost while moving), LinuxCNC abort.
    pub fn stop(&mut self) {
        self.log(ConsoleKind::Info, "stop");
        self.send(Cmd::Stop);
    }
    pub fn unlock(&mut self) {
        match self.kind {
            LinkKind::Grbl => self.command("$X"),
            LinkKind::LinuxCnc => self.send(Cmd::MachineOn),
        }
    }
    pub fn home(&mut self) {
        self.send(Cmd::Home);
    }
    pub fn set_feed_override(&mut self, pct: u32) {
        self.send(Cmd::FeedOverride(pct));
    }

    /// A command line (MDI); refused while a program runs, but for its tool change.
    pub fn command(&mut self, line: &str) {
        if self.running() && !self.held_at_stop() {
            self.log(
                ConsoleKind::Error,
                "a program is running: the command was not sent",
            );
            return;
        }
        self.send(Cmd::Line(line.to_string()));
    }

    /// Jog one step along `axis` (0 X, 1 Y, 2 Z) in direction `sign`.
    pub fn jog_step(&mut self, axis: usize, sign: f64) {
        let d = self.jog_step_mm * sign;
        let a = ["X", "Y", "Z"][axis];
        let line = match self.kind {
            LinkKind::Grbl => format!("$J=G91 G21 {a}{d:.4} F{:.0}", self.jog_feed),
            LinkKind::LinuxCnc => format!("G91 G1 {a}{d:.4} F{:.0}", self.jog_feed),
        };
        self.command(&line);
        if self.kind == LinkKind::LinuxCnc {
            self.command("G90");
        }
    }

    /// Continuous jog (GRBL): a jog of at most 10 mm, cancelled when the button is released.
    pub fn jog_start(&mut self, axis: usize, sign: f64) {
        if self.kind != LinkKind::Grbl || self.jogging {
            return;
        }
        self.jogging = true;
        let a = ["X", "Y", "Z"][axis];
        self.command(&format!(
            "$J=G91 G21 {a}{:.4} F{:.0}",
            10.0 * sign,
            self.jog_feed
        ));
    }

    pub fn jog_stop(&mut self) {
        if std::mem::take(&mut self.jogging) {
            self.send(Cmd::Realtime(Realtime::JogCancel));
        }
    }

    /// Zero the work coordinates of the active offset at the tool's position.
    pub fn zero(&mut self, axes: &str) {
        let words = axes.chars().fold(String::new(), |mut w, a| {
            let _ = write!(w, " {a}0");
            w
        });
        self.command(&format!("G10 L20 P0{words}"));
    }

    pub fn spindle(&mut self, on: bool, rpm: f64) {
        if on {
            self.command(&format!("S{rpm:.0} M3"));
        } else {
            self.command("M5");
        }
    }

    pub fn coolant(&mut self, on: bool) {
        self.command(if on { "M8" } else { "M9" });
    }

    /// "op 2 outline · line 120 of 1865 · about 40 s left"
    pub fn progress_text(&self) -> Option<String> {
        let r = self.run.as_ref()?;
        let (sec, left) = r.info.progress(r.acked, r.line);
        let mut s = String::new();
        if let Some(i) = sec {
            let sec = &r.info.sections[i];
            let _ = write!(s, "op {} {} · ", sec.number, sec.name);
        }
        let _ = write!(s, "line {} of {}", r.line, r.info.file_lines);
        if let Some(l) = left {
            let _ = write!(s, " · about {} left", fmt_duration(l));
        }
        Some(s)
    }

    /// The fraction of the program's lines answered.
    pub fn fraction(&self) -> f32 {
        self.run.as_ref().map_or(0.0, |r| {
            if r.info.file_lines == 0 {
                0.0
            } else {
                (r.line as f32 / r.info.file_lines as f32).min(1.0)
            }
        })
    }

    /// Wait up to `timeout` for the link's events (tests).
    pub fn pump_for(&mut self, timeout: Duration, mut until: impl FnMut(&Machine) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            self.poll();
            if until(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

fn fmt_duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Moves of the shown program done when the machine has answered file line `line` (the
/// view's count, operations one after another).
pub fn done_moves(out: &swarf_core::job::JobOutput, line: usize) -> u32 {
    let src = &out.program.line_source;
    let upto = line.min(src.len());
    let Some((sec, mv)) = src[..upto].iter().rev().find_map(|s| *s) else {
        return 0;
    };
    let before: usize = out
        .operations
        .iter()
        .take(sec as usize)
        .map(|(_, _, r)| r.toolpath.moves.len())
        .sum();
    (before + mv as usize + 1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_stops_moving_is_said_once_in_the_console() {
        let t0 = Instant::now();
        let mut m = Machine {
            run: Some(Run {
                path: PathBuf::from("part.nc"),
                info: ProgramInfo::default(),
                acked: 4,
                line: 4,
                started: t0,
                generation: 0,
                watch: StallWatch::new(t0, STALL_WARN, None),
            }),
            ..Machine::default()
        };
        let running = Status {
            state: MachineState::Run,
            mpos: Some([1.0, 2.0, 3.0]),
            ..Status::default()
        };
        m.run.as_mut().unwrap().watch.on_status(&running, t0);
        assert!(!m.watch_stall(t0 + Duration::from_secs(10)));
        assert!(m.watch_stall(t0 + Duration::from_secs(31)));
        let said: Vec<&String> = m
            .console
            .iter()
            .filter(|(k, t)| *k == ConsoleKind::Error && t.contains("neither moved"))
            .map(|(_, t)| t)
            .collect();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("line 4") && said[0].contains("Stop"));
        assert!(!m.watch_stall(t0 + Duration::from_mins(1)), "said once");
    }
}
