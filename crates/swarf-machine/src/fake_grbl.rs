//! A GRBL 1.1 of our own, on the far end of a pseudo-terminal, for the tests (and for trying
//! the machine link without a machine). It behaves as GRBL's documentation says (`doc/markdown/interface.md`, `serial.c`, `protocol.c`):
//!
//! - bytes go into an RX ring of `rx_size` bytes; when it is full further bytes are dropped
//!   (counted, so a test can prove nothing was lost);
//! - real-time bytes (`?`, `!`, `~`, 0x18, 0x80–0xFF) are taken out of the stream wherever they
//!   appear and never reach the ring;
//! - a line is parsed only when the planner has a free block, and only then answered `ok`
//!   (or `error:N`); blocks execute in `block_time` each, not during a feed hold;
//! - `$I` answers `[VER:…]` and `[OPT:V,blocks,rx]`; a soft reset empties everything and prints
//!   the banner; an alarm line answers `ALARM:1` and refuses G-code with `error:9`;
//! - `M0`/`M1` hold the machine when they are reached, until `~`; a dwell (`G4`) is read only
//!   when every move before it has been made; `$C` toggles check mode
//!   (leaving it resets, as GRBL does); `$H` homes to 0, `$X` unlocks.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

#[derive(Clone, Debug)]
pub struct Config {
    pub rx_size: usize,
    pub blocks: usize,
    pub block_time: Duration,
    /// A line containing this is answered `error:20`.
    pub error_on: Option<String>,
    /// A line containing this raises `ALARM:1`.
    pub alarm_on: Option<String>,
    /// Close the port after this many lines.
    pub hang_up_after: Option<usize>,
    /// Keep every line (a 1 M-line test keeps only a hash).
    pub keep_lines: bool,
    /// Report the RX size in `$I`.
    pub report_rx: bool,
    /// The work surface under the probe (machine X, Y to Z): `G38.2` stops where it
    /// touches, answering `[PRB:…:1]`; without one, a probe finds nothing (`ALARM:5`).
    pub probe_surface: Option<fn(f64, f64) -> f64>,
    /// Noise on each touch, ± µm (deterministic).
    pub probe_noise_um: f64,
    /// Every this many touches, one lands 50 µm high (a chip on the probe): outliers.
    pub probe_outlier_every: Option<usize>,
    /// The work offset (G54) reported as WCO at the start (`G10 L20` changes it); probe
    /// results are machine coordinates. `G90`/`G91` are followed.
    pub wco: [f64; 3],
}

impl Default for Config {
    fn default() -> Self {
        Self {
            rx_size: 128,
            blocks: 15,
            block_time: Duration::from_micros(300),
            error_on: None,
            alarm_on: None,
            hang_up_after: None,
            keep_lines: true,
            report_rx: true,
            probe_surface: None,
            probe_noise_um: 0.0,
            probe_outlier_every: None,
            wco: [0.0; 3],
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub line_count: usize,
    /// FNV-1a over every line received, newline-terminated, in order.
    pub hash: u64,
    /// Bytes dropped because the RX ring was full.
    pub dropped: usize,
    /// Most bytes ever in the RX ring.
    pub max_ring: usize,
    /// Real-time bytes received.
    pub realtime: Vec<u8>,
    /// Non-ASCII bytes that reached the ring (must stay 0).
    pub non_ascii_in_ring: usize,
    pub position: [f64; 3],
    pub status_queries: usize,
}

/// The index of an axis letter.
fn axis(letter: char) -> Option<usize> {
    match letter {
        'X' => Some(0),
        'Y' => Some(1),
        'Z' => Some(2),
        _ => None,
    }
}

pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    let mut h = hash;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

pub struct FakeGrbl {
    pub report: Arc<Mutex<Report>>,
    stop: Arc<Mutex<bool>>,
    thread: Option<JoinHandle<()>>,
    /// The path of the port the link opens.
    pub path: String,
}

impl FakeGrbl {
    pub fn start(cfg: Config) -> FakeGrbl {
        let (mut master, slave) = TTYPort::pair().expect("a pseudo-terminal pair");
        let path = slave.name().expect("the slave has a name");
        master
            .set_timeout(Duration::from_millis(1))
            .expect("timeout");
        let report = Arc::new(Mutex::new(Report {
            hash: FNV_START,
            ..Report::default()
        }));
        let stop = Arc::new(Mutex::new(false));
        let (r2, s2) = (report.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // Keep the slave open until the link opens its own, so no hang-up is seen.
            let _slave = slave;
            run(&mut master, &cfg, &r2, &s2);
        });
        FakeGrbl {
            report,
            stop,
            thread: Some(thread),
            path,
        }
    }

    pub fn finish(mut self) -> Report {
        *self.stop.lock().unwrap() = true;
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.report.lock().unwrap())
    }
}

impl Drop for FakeGrbl {
    fn drop(&mut self) {
        *self.stop.lock().unwrap() = true;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(PartialEq)]
enum State {
    Idle,
    Hold,
    Alarm,
}

fn words(line: &str) -> Vec<(char, f64)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let l = b[i] as char;
        let mut j = i + 1;
        while j < b.len() && (b[j].is_ascii_digit() || matches!(b[j], b'.' | b'-' | b'+')) {
            j += 1;
        }
        if let Ok(v) = line[i + 1..j].parse() {
            out.push((l, v));
        }
        i = j.max(i + 1);
    }
    out
}

fn run(port: &mut TTYPort, cfg: &Config, report: &Mutex<Report>, stop: &Mutex<bool>) {
    let mut ring: VecDeque<u8> = VecDeque::new();
    let mut planner: VecDeque<Option<[f64; 3]>> = VecDeque::new();
    let mut check_mode = false;
    let mut status_count = 0usize;
    let mut target = [0.0f64; 3];
    let mut pos = [0.0f64; 3];
    let mut state = State::Idle;
    let mut block_started = Instant::now();
    let mut buf = [0u8; 256];
    let mut lines_seen = 0usize;
    let mut touches = 0usize;
    let mut wco = cfg.wco;
    let mut relative = false;
    // Replies are gathered and written once a round, as a microcontroller's TX buffer would.
    let mut out = String::new();
    loop {
        if *stop.lock().unwrap() {
            return;
        }
        let n = match port.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => 0,
            Err(_) => 0,
        };
        for &b in &buf[..n] {
            match b {
                b'?' => {
                    let st = match state {
                        State::Alarm => "Alarm",
                        State::Hold => "Hold:0",
                        _ if check_mode => "Check",
                        State::Idle if planner.is_empty() => "Idle",
                        State::Idle => "Run",
                    };
                    let free_rx = cfg.rx_size - ring.len();
                    let free_blocks = cfg.blocks - planner.len();
                    let _ = write!(
                        out,
                        "<{st}|MPos:{:.3},{:.3},{:.3}|Bf:{free_blocks},{free_rx}|FS:0,0{}>\r\n",
                        pos[0],
                        pos[1],
                        pos[2],
                        // GRBL sends the work offset now and then, not in every report.
                        if status_count.is_multiple_of(10) {
                            format!("|WCO:{:.3},{:.3},{:.3}", wco[0], wco[1], wco[2])
                        } else {
                            String::new()
                        }
                    );
                    status_count += 1;
                    report.lock().unwrap().status_queries += 1;
                }
                b'!' => {
                    report.lock().unwrap().realtime.push(b);
                    if state == State::Idle {
                        state = State::Hold;
                    }
                }
                b'~' => {
                    report.lock().unwrap().realtime.push(b);
                    if state == State::Hold {
                        state = State::Idle;
                    }
                }
                0x18 => {
                    report.lock().unwrap().realtime.push(b);
                    ring.clear();
                    if !planner.is_empty() {
                        state = State::Alarm;
                        out.push_str("ALARM:3\r\n");
                    }
                    planner.clear();
                    if state == State::Hold {
                        state = State::Idle;
                    }
                    out.push_str("\r\nGrbl 1.1h ['$' for help]\r\n");
                }
                0x80..=0xFF => report.lock().unwrap().realtime.push(b),
                _ => {
                    if ring.len() < cfg.rx_size {
                        ring.push_back(b);
                        let mut r = report.lock().unwrap();
                        r.max_ring = r.max_ring.max(ring.len());
                    } else {
                        report.lock().unwrap().dropped += 1;
                    }
                }
            }
        }
        // Execute blocks.
        while state != State::Hold
            && let Some(&next) = planner.front()
            && block_started.elapsed() >= cfg.block_time
        {
            planner.pop_front();
            block_started += cfg.block_time;
            let Some(p) = next else {
                // A program pause: held until cycle start.
                state = State::Hold;
                break;
            };
            pos = p;
            report.lock().unwrap().position = pos;
        }
        // Parse lines while the planner has room.
        while planner.len() < cfg.blocks {
            let Some(end) = ring.iter().position(|&c| c == b'\n' || c == b'\r') else {
                break;
            };
            // A dwell (G4) waits for every move before it to finish, as GRBL's does: it is
            // read, and answered, only when the planner is empty.
            let head: Vec<u8> = ring.iter().take(end).copied().collect();
            if !planner.is_empty()
                && words(&String::from_utf8_lossy(&head))
                    .iter()
                    .any(|&(l, v)| l == 'G' && v == 4.0)
            {
                break;
            }
            let raw: Vec<u8> = ring.drain(..=end).collect();
            let line = &raw[..raw.len() - 1];
            if line.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(line).into_owned();
            {
                let mut r = report.lock().unwrap();
                r.non_ascii_in_ring += line.iter().filter(|b| !b.is_ascii()).count();
                r.line_count += 1;
                r.hash = fnv(r.hash, &raw[..raw.len() - 1]);
                r.hash = fnv(r.hash, b"\n");
                if cfg.keep_lines {
                    r.lines.push(text.clone());
                }
            }
            lines_seen += 1;
            if text == "$I" {
                let rx = if cfg.report_rx {
                    format!(",{}", cfg.rx_size)
                } else {
                    String::new()
                };
                let _ = write!(
                    out,
                    "[VER:1.1h.20190830:]\r\n[OPT:V,{}{rx}]\r\nok\r\n",
                    cfg.blocks
                );
            } else if text == "$X" {
                state = State::Idle;
                out.push_str("[MSG:Caution: Unlocked]\r\nok\r\n");
            } else if text == "$H" {
                state = State::Idle;
                pos = [0.0; 3];
                target = [0.0; 3];
                report.lock().unwrap().position = pos;
                out.push_str("ok\r\n");
            } else if text == "$C" {
                check_mode = !check_mode;
                if check_mode {
                    out.push_str("[MSG:Enabled]\r\nok\r\n");
                } else {
                    // Leaving check mode resets GRBL.
                    out.push_str("[MSG:Disabled]\r\nok\r\n\r\nGrbl 1.1h ['$' for help]\r\n");
                    planner.clear();
                }
            } else if text.starts_with('$') {
                out.push_str("ok\r\n");
            } else if state == State::Alarm {
                out.push_str("error:9\r\n");
            } else if cfg
                .alarm_on
                .as_ref()
                .is_some_and(|a| text.contains(a.as_str()))
            {
                planner.clear();
                state = State::Alarm;
                out.push_str("ALARM:1\r\n");
            } else if text.len() > 79 {
                out.push_str("error:11\r\n");
            } else if cfg
                .error_on
                .as_ref()
                .is_some_and(|e| text.contains(e.as_str()))
            {
                out.push_str("error:20\r\n");
            } else {
                let ws = words(&text);
                if check_mode {
                    out.push_str("ok\r\n");
                    continue;
                }
                let probe = ws.iter().any(|&(l, v)| {
                    l == 'G' && ((v - 38.2).abs() < 1e-9 || (v - 38.3).abs() < 1e-9)
                });
                if probe {
                    // A straight probe move down from where the last move ended; it stops
                    // where it touches the surface (as GRBL's latched trigger position).
                    let to_z = ws
                        .iter()
                        .find(|&&(l, _)| l == 'Z')
                        .map_or(
                            target[2],
                            |&(_, v)| if relative { target[2] + v } else { v + wco[2] },
                        );
                    let contact = cfg.probe_surface.map(|f| {
                        touches += 1;
                        let mut z = wco[2] + f(target[0] - wco[0], target[1] - wco[1]);
                        // Deterministic noise in ±noise, and now and then a chip.
                        let h = fnv(FNV_START, &touches.to_le_bytes());
                        z += cfg.probe_noise_um * 1e-3 * ((h % 2001) as f64 / 1000.0 - 1.0);
                        if cfg
                            .probe_outlier_every
                            .is_some_and(|n| touches.is_multiple_of(n))
                        {
                            z += 0.05;
                        }
                        z
                    });
                    match contact {
                        Some(c) if c <= target[2] && c >= to_z => {
                            target[2] = c;
                            if planner.is_empty() {
                                block_started = Instant::now();
                            }
                            planner.push_back(Some(target));
                            let _ = write!(
                                out,
                                "[PRB:{:.3},{:.3},{:.3}:1]\r\nok\r\n",
                                target[0], target[1], c
                            );
                        }
                        _ => {
                            planner.clear();
                            state = State::Alarm;
                            out.push_str("ALARM:5\r\n");
                        }
                    }
                    continue;
                }
                let pause = ws.iter().any(|&(l, v)| l == 'M' && (v == 0.0 || v == 1.0));
                let motion = ws.iter().any(|&(l, _)| matches!(l, 'X' | 'Y' | 'Z'));
                let gs: Vec<f64> = ws.iter().filter(|w| w.0 == 'G').map(|w| w.1).collect();
                if gs.contains(&91.0) {
                    relative = true;
                }
                if gs.contains(&90.0) {
                    relative = false;
                }
                // G10 L20: the work offset set so that the current position reads as given;
                // G10 L2: the offset itself (of the one coordinate system the fake has).
                let l_word = ws.iter().find(|w| w.0 == 'L').map(|w| w.1);
                if gs.contains(&10.0) && matches!(l_word, Some(2.0 | 20.0)) {
                    for (l, v) in ws {
                        let Some(k) = axis(l) else { continue };
                        wco[k] = if l_word == Some(20.0) {
                            target[k] - v
                        } else {
                            v
                        };
                    }
                    out.push_str("ok\r\n");
                    continue;
                }
                for (l, v) in ws {
                    let Some(k) = axis(l) else { continue };
                    target[k] = if relative { target[k] + v } else { v + wco[k] };
                }
                if motion || pause {
                    if planner.is_empty() {
                        block_started = Instant::now();
                    }
                    planner.push_back(if pause { None } else { Some(target) });
                }
                out.push_str("ok\r\n");
            }
            if cfg.hang_up_after.is_some_and(|h| lines_seen >= h) {
                let _ = port.write_all(out.as_bytes());
                return;
            }
        }
        if !out.is_empty() {
            let _ = port.write_all(out.as_bytes());
            out.clear();
        }
    }
}
