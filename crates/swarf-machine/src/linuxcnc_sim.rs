//! A real LinuxCNC, running headless in simulation, for the tests (and for trying the machine
//! link without a machine): the Debian package `linuxcnc-uspace`'s sample configuration
//! `sim/axis/axis_mm.ini`, with `linuxcncrsh` as its display on a port of our choosing, the
//! manual tool-change dialog and HALUI left out, and homing not forced.

use std::fmt::Write as _;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SAMPLE: &str = "/usr/share/doc/linuxcnc/examples/sample-configs/sim/axis/axis_mm.ini";

/// Whether LinuxCNC and its sample configuration are installed.
pub fn available() -> bool {
    Path::new(SAMPLE).exists()
        && std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("linuxcnc").is_file()))
}

/// A running simulated LinuxCNC; stopped when dropped.
pub struct Sim {
    child: Child,
    /// The port its linuxcncrsh listens on.
    pub port: u16,
    /// Its configuration folder (the log is `linuxcnc.log` there).
    pub dir: PathBuf,
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// How the simulated machine is set up beyond the sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SimOptions {
    /// A probe input on a plane: the probe trips where the tool's machine Z is below
    /// `a·X + b·Y + c` (machine coordinates, mm), wired in HAL (`sum2` and `comp` on the
    /// joints' positions into `motion.probe-input`). None: the probe never trips.
    pub probe_plane: Option<[f64; 3]>,
}

impl Sim {
    /// Start LinuxCNC with its configuration in `dir` (created) and wait until linuxcncrsh
    /// answers. Only one LinuxCNC runs on a computer at a time: a second start replaces the
    /// first.
    pub fn start(dir: &Path) -> Result<Sim, String> {
        Self::start_with(dir, SimOptions::default())
    }

    /// [`Sim::start`] with a probe surface or other options.
    pub fn start_with(dir: &Path, opts: SimOptions) -> Result<Sim, String> {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let sample = fs::read_to_string(SAMPLE).map_err(|e| format!("{SAMPLE}: {e}"))?;
        let sample_dir = Path::new(SAMPLE).parent().expect("has a folder");
        // The tool table is a symlink in the sample folder: copy what it points to.
        let table = fs::read(sample_dir.join("sim_mm.tbl"))
            .or_else(|_| fs::read(sample_dir.join("../sim_mm.tbl")))
            .map_err(|e| format!("the sample tool table: {e}"))?;
        fs::write(dir.join("tool.tbl"), table).map_err(|e| e.to_string())?;
        let port = free_port()?;
        let mut ini = String::new();
        for line in sample.lines() {
            let t = line.trim();
            if t.starts_with("DISPLAY =") {
                let _ = writeln!(ini, "DISPLAY = linuxcncrsh --port {port}");
            } else if t.starts_with("HALFILE = axis_manualtoolchange.hal") || t.starts_with("HALUI")
            {
                // The manual tool change needs a GUI; core_sim.hal loops tool changes back.
            } else if t.starts_with("TOOL_TABLE") {
                ini.push_str("TOOL_TABLE = tool.tbl\n");
            } else if t.starts_with("PROGRAM_PREFIX") {
                let _ = writeln!(ini, "PROGRAM_PREFIX = {}", dir.display());
            } else if t.starts_with("HALFILE = simulated_home.hal") {
                ini.push_str(line);
                ini.push('\n');
                if let Some([a, b, c]) = opts.probe_plane {
                    // The probe trips where the tool is below the plane: a window comparator
                    // (`comp` is loaded by simulated_home.hal already, and a component loads
                    // once) from far below up to the plane's height.
                    let hal = format!(
                        "loadrt sum2 names=probe_plane\nloadrt wcomp names=probe_touch\n\
                         addf probe_plane servo-thread\naddf probe_touch servo-thread\n\
                         setp probe_plane.gain0 {a}\nsetp probe_plane.gain1 {b}\n\
                         setp probe_plane.offset {c}\nsetp probe_touch.min -1000000\n\
                         net Xpos => probe_plane.in0\nnet Ypos => probe_plane.in1\n\
                         net probe-plane-z probe_plane.out => probe_touch.max\n\
                         net Zpos => probe_touch.in\n\
                         net probe-in probe_touch.out => motion.probe-input\n"
                    );
                    fs::write(dir.join("probe_sim.hal"), hal).map_err(|e| e.to_string())?;
                    ini.push_str("HALFILE = probe_sim.hal\n");
                }
            } else if t == "[TRAJ]" {
                ini.push_str("[TRAJ]\nNO_FORCE_HOMING = 1\n");
            } else {
                ini.push_str(line);
                ini.push('\n');
            }
        }
        let ini_path = dir.join("sim.ini");
        fs::write(&ini_path, ini).map_err(|e| e.to_string())?;
        let log = fs::File::create(dir.join("linuxcnc.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("linuxcnc");
        // -r: keep its output on our log (without it the script writes to temporary files
        // that it deletes when it exits, and a failure leaves nothing to read).
        cmd.arg("-r")
            .arg(&ini_path)
            .current_dir(dir)
            // LinuxCNC shares its tool table between processes through `$HOME/.tool.mmap`,
            // which every rs274 and LinuxCNC started with the same HOME truncates and deletes:
            // an rs274 run elsewhere would kill this task with SIGBUS at its next tool change.
            // Its own HOME keeps it apart.
            .env("HOME", dir)
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        if is_root() {
            // LinuxCNC's realtime part refuses to run as root: give it an ordinary user.
            let _ = Command::new("chown")
                .args(["-R", "65534"])
                .arg(dir)
                .status();
            cmd.env("RTAPI_UID", "65534")
                .env("RTAPI_FIFO_PATH", dir.join("rtapi_fifo"));
        }
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start linuxcnc: {e}"))?;
        let mut sim = Sim {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            // Listening is not enough: linuxcncrsh opens its port before it reaches LinuxCNC's
            // task, so wait for a hello to be answered.
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && crate::linuxcnc::Rsh::connect(&sim.address(), "EMC", Duration::from_secs(5))
                    .is_ok()
            {
                return Ok(sim);
            }
            if let Ok(Some(status)) = sim.child.try_wait() {
                return Err(format!(
                    "linuxcnc exited ({status}) before linuxcncrsh listened: {}",
                    sim.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "linuxcncrsh did not answer on {port} within 90 s: {}",
                    sim.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `127.0.0.1:port`
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kill LinuxCNC's task (`milltask`) as a crash would, leaving linuxcncrsh answering with
    /// the last status it had: what a sender must notice by itself (tests).
    pub fn kill_task(&self) -> bool {
        let pids = pids_with(&["milltask"]);
        for pid in &pids {
            signal("KILL", pid);
        }
        !pids.is_empty()
    }

    pub fn log_tail(&self) -> String {
        let s = fs::read_to_string(self.dir.join("linuxcnc.log")).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

/// Processes whose command line holds every one of `words`.
fn pids_with(words: &[&str]) -> Vec<String> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let cmdline = fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|&b| b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            words
                .iter()
                .all(|w| args.iter().any(|a| a.ends_with(w)))
                .then_some(name)
        })
        .collect()
}

fn signal(sig: &str, target: &str) {
    let _ = Command::new("sh")
        .args(["-c", &format!("kill -{sig} {target}")])
        .stderr(Stdio::null())
        .status();
}

impl Drop for Sim {
    fn drop(&mut self) {
        // The linuxcnc script waits for its display (our linuxcncrsh) and then cleans up HAL,
        // shared memory and its lock; a signal to the script itself waits for the display.
        let port = self.port.to_string();
        for pid in pids_with(&["linuxcncrsh", "--port", &port]) {
            signal("TERM", &pid);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        signal("KILL", &format!("-{}", self.child.id()));
        let _ = self.child.wait();
    }
}
