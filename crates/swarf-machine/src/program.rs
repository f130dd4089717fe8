//! A G-code program on its way to a controller: each line cleaned for the wire, checked against
//! what the controller accepts before the first byte is sent, split into the operations Swarf's
//! post marks, and read from disk one line at a time so a program of millions of lines is never
//! held in memory.

use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The controller a program is checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// GRBL 1.1 (`Grbl 1.1…` banner): no canned cycles, no `M6`, 79 characters a line.
    Grbl,
    /// grblHAL (`GrblHAL …` banner): adds canned cycles, `M6`, `Q`/`H` words, longer lines.
    GrblHal,
}

impl Controller {
    /// The most characters a line may have on the wire, the newline not counted (GRBL's
    /// `LINE_BUFFER_SIZE` is 80 with its terminator; grblHAL's is 257).
    pub fn max_line_chars(self) -> usize {
        match self {
            Controller::Grbl => 79,
            Controller::GrblHal => 256,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Controller::Grbl => "GRBL 1.1",
            Controller::GrblHal => "grblHAL",
        }
    }
}

/// Why a line cannot be sent as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineProblem {
    /// 1-based line number in the file (0 for a line Swarf made, such as a restart's preamble).
    pub line: usize,
    pub text: String,
    pub problem: String,
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {} (`{}`)",
            self.line,
            self.problem,
            shorten(&self.text, 60)
        )
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// A program the controller will not take: every problem found (the first
/// [`Refusal::MAX_LISTED`] are listed), named by line.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}", refusal_text(.controller, .problems, *.total))]
    Refused {
        controller: &'static str,
        problems: Vec<LineProblem>,
        total: usize,
    },
    #[error("{0}")]
    Restart(String),
}

fn refusal_text(controller: &str, problems: &[LineProblem], total: usize) -> String {
    let mut s = format!(
        "the program cannot be sent to {controller} as it is ({total} line{} refused, nothing was sent):",
        if total == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    if total > problems.len() {
        let _ = write!(s, "\n  … and {} more", total - problems.len());
    }
    s
}

/// Clean one line for a GRBL-family controller: comments (`( … )` and `; …`) removed,
/// whitespace removed, letters upper-cased, `%` lines dropped. `Ok(None)` is a line with nothing
/// to send. A byte that GRBL would take as a real-time command (`?`, `!`, `~`, anything
/// outside printable ASCII) outside a comment is refused: inside a comment it is simply not sent.
pub fn clean_line(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim_end_matches(['\r', '\n']);
    let trimmed = raw.trim_start();
    if trimmed.starts_with('%') {
        return Ok(None);
    }
    let mut out = String::with_capacity(raw.len());
    let mut in_paren = false;
    for c in raw.chars() {
        if in_paren {
            if c == '(' {
                return Err("a comment inside a comment; GRBL refuses nested parentheses".into());
            }
            if c == ')' {
                in_paren = false;
            }
            continue;
        }
        match c {
            '(' => in_paren = true,
            ';' => break,
            ')' => return Err("a `)` with no `(`".into()),
            c if c.is_whitespace() => {}
            '?' | '!' | '~' => {
                return Err(format!(
                    "`{c}` outside a comment would be taken by GRBL as a real-time command"
                ));
            }
            c if !c.is_ascii() => {
                return Err(format!(
                    "`{c}` (U+{:04X}) is not ASCII; GRBL takes such bytes as real-time commands",
                    c as u32
                ));
            }
            c if c.is_ascii_control() => {
                return Err(format!("control character 0x{:02X}", c as u32));
            }
            c => out.push(c.to_ascii_uppercase()),
        }
    }
    if in_paren {
        return Err("a comment that is not closed with `)`".into());
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// One word of a cleaned line: its letter and the number as written.
fn words(line: &str) -> Result<Vec<(char, &str)>, String> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let letter = b[i] as char;
        if !letter.is_ascii_alphabetic() {
            return Err(format!("`{letter}` where a word's letter was expected"));
        }
        let start = i + 1;
        let mut j = start;
        while j < b.len() && (b[j].is_ascii_digit() || matches!(b[j], b'.' | b'-' | b'+')) {
            j += 1;
        }
        if j == start {
            return Err(format!("`{letter}` has no number"));
        }
        out.push((letter, &line[start..j]));
        i = j;
    }
    Ok(out)
}

fn code_value(num: &str) -> Option<f64> {
    num.parse::<f64>().ok()
}

const GRBL_G: &[f64] = &[
    0.0, 1.0, 2.0, 3.0, 4.0, 10.0, 17.0, 18.0, 19.0, 20.0, 21.0, 28.0, 28.1, 30.0, 30.1, 38.2,
    38.3, 38.4, 38.5, 40.0, 43.1, 49.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 61.0, 80.0, 90.0,
    91.0, 91.1, 92.0, 92.1, 93.0, 94.0,
];
const GRBL_M: &[f64] = &[0.0, 1.0, 2.0, 30.0, 3.0, 4.0, 5.0, 7.0, 8.0, 9.0, 56.0];
const GRBL_WORDS: &str = "FGIJKLMNPRSTXYZ";
/// What grblHAL adds (its `doc/` and `grbl/gcode.c`): canned cycles, return modes, tool length
/// offsets, tool change, path control.
const HAL_G_EXTRA: &[f64] = &[
    43.0, 61.1, 64.0, 73.0, 81.0, 82.0, 83.0, 85.0, 86.0, 89.0, 98.0, 99.0,
];
const HAL_M_EXTRA: &[f64] = &[6.0, 61.0, 62.0, 63.0, 64.0, 65.0, 66.0, 67.0, 68.0];
const HAL_WORDS_EXTRA: &str = "QHABCDE";

fn is_one_of(v: f64, list: &[f64]) -> bool {
    list.iter().any(|&c| (c - v).abs() < 1e-6)
}

/// Check a cleaned line's words against what the controller accepts. `$` system lines pass.
pub fn check_words(line: &str, controller: Controller) -> Result<(), String> {
    if line.starts_with('$') {
        return Ok(());
    }
    if line.starts_with('/') {
        return Err("block delete `/` is not supported by GRBL".into());
    }
    let hal = controller == Controller::GrblHal;
    for (letter, num) in words(line)? {
        let allowed = GRBL_WORDS.contains(letter) || (hal && HAL_WORDS_EXTRA.contains(letter));
        if !allowed {
            return Err(format!(
                "word `{letter}{num}`: {} has no `{letter}` word",
                controller.name()
            ));
        }
        let Some(v) = code_value(num) else {
            return Err(format!("`{letter}{num}` is not a number"));
        };
        match letter {
            'G' if !(is_one_of(v, GRBL_G) || hal && is_one_of(v, HAL_G_EXTRA)) => {
                let hint = if [73.0, 81.0, 82.0, 83.0, 85.0, 86.0, 89.0].contains(&v) {
                    " (canned cycles): export with drilling cycles as moves (`--expand-cycles`)"
                } else {
                    ""
                };
                return Err(format!(
                    "`G{num}` is not supported by {}{hint}",
                    controller.name()
                ));
            }
            'M' if !(is_one_of(v, GRBL_M) || hal && is_one_of(v, HAL_M_EXTRA)) => {
                let hint = if v == 6.0 {
                    " (tool change): export with the GRBL dialect, which stops with M0 for a tool change"
                } else {
                    ""
                };
                return Err(format!(
                    "`M{num}` is not supported by {}{hint}",
                    controller.name()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// GRBL stops reading its serial input while it writes EEPROM: these lines are sent alone and
/// answered before the next one goes (`doc/markdown/interface.md`, "EEPROM Issues").
pub fn needs_send_and_wait(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix('$') {
        // `$x=val`, `$Nx=line`, `$I=…`, `$RST=…` write EEPROM; `$J=` jogs do not.
        return !rest.starts_with("J=") && (rest.contains('=') || rest.starts_with('N'));
    }
    let Ok(ws) = words(line) else { return false };
    let has = |l: char, v: f64| {
        ws.iter()
            .any(|&(a, n)| a == l && code_value(n).is_some_and(|x| (x - v).abs() < 1e-6))
    };
    (has('G', 10.0) && (has('L', 2.0) || has('L', 20.0))) || has('G', 28.1) || has('G', 30.1)
}

/// One operation of a Swarf program: the post writes `(op N: name)` before each.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// The operation's number in the program (`op N`).
    pub number: usize,
    pub name: String,
    /// 1-based line of the marker.
    pub first_line: usize,
    /// Lines of this section that are sent.
    pub lines: usize,
    /// Swarf's cycle-time estimate for it, from the program's header, seconds.
    pub seconds: Option<f64>,
}

/// What a scan of the whole program found; small whatever the program's length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgramInfo {
    pub path: PathBuf,
    /// Lines in the file.
    pub file_lines: usize,
    /// Lines that are sent (not empty, not only a comment).
    pub send_lines: usize,
    /// The operations; a program without Swarf's markers has none.
    pub sections: Vec<Section>,
    /// Swarf's estimate for the whole program, from the header (`(total: … about N s …)`).
    pub total_seconds: Option<f64>,
    /// The program's title (its first comment).
    pub title: Option<String>,
}

impl ProgramInfo {
    /// The section a file line belongs to.
    pub fn section_of(&self, line: usize) -> Option<usize> {
        self.sections.iter().rposition(|s| s.first_line <= line)
    }

    /// Where a run is when `acked` lines are done and the last was file line `line`: the
    /// section and Swarf's estimate of the seconds left (from the header's per-operation
    /// estimates, the current operation counted by its lines done).
    pub fn progress(&self, acked: usize, line: usize) -> (Option<usize>, Option<f64>) {
        let Some(s) = self.section_of(line) else {
            return (None, self.total_seconds);
        };
        let after: usize = self.sections[s..].iter().map(|x| x.lines).sum();
        let before = self.send_lines.saturating_sub(after);
        (
            Some(s),
            self.seconds_left(Some(s), acked.saturating_sub(before)),
        )
    }

    /// Estimated seconds left when `done_in_section` of the section's lines are done.
    pub fn seconds_left(&self, section: Option<usize>, done_in_section: usize) -> Option<f64> {
        let s = section?;
        let sec = &self.sections[s];
        let frac = if sec.lines == 0 {
            1.0
        } else {
            (done_in_section as f64 / sec.lines as f64).min(1.0)
        };
        let mut left = sec.seconds? * (1.0 - frac);
        for later in &self.sections[s + 1..] {
            left += later.seconds?;
        }
        Some(left)
    }
}

/// The marker `(op N: name)` on a line of its own; `None` for any other line.
fn section_marker(raw: &str) -> Option<(usize, String)> {
    let t = raw.trim();
    let inner = t.strip_prefix("(op ")?.strip_suffix(')')?;
    let (n, name) = inner.split_once(':')?;
    let n = n.trim().parse().ok()?;
    Some((n, name.trim().to_string()))
}

/// `about 237 s` in a header comment.
fn about_seconds(raw: &str) -> Option<f64> {
    let i = raw.find("about ")?;
    let rest = &raw[i + 6..];
    let end = rest.find(" s")?;
    rest[..end].trim().parse().ok()
}

/// Read the whole program once, line by line: clean and check every line for `controller`
/// (`None`: no wire checks, for LinuxCNC, which reads the file itself), find the operations
/// and the estimates. Nothing is sent before this passes.
pub fn scan(path: &Path, controller: Option<Controller>) -> Result<ProgramInfo, ProgramError> {
    const MAX_LISTED: usize = 12;
    let io_err = |source| ProgramError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io_err)?);
    let mut info = ProgramInfo {
        path: path.to_path_buf(),
        ..ProgramInfo::default()
    };
    let mut problems = Vec::new();
    let mut total_problems = 0;
    let mut in_header = true;
    let mut header_op: Option<usize> = None;
    let mut header_seconds: Vec<(usize, f64)> = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(io_err)? == 0 {
            break;
        }
        n += 1;
        let raw = String::from_utf8_lossy(&buf);
        if let Some((num, name)) = section_marker(&raw) {
            if in_header {
                header_op = Some(num);
            } else {
                info.sections.push(Section {
                    number: num,
                    name,
                    first_line: n,
                    lines: 0,
                    seconds: None,
                });
            }
            continue;
        }
        if in_header {
            let t = raw.trim();
            if info.title.is_none() && t.starts_with('(') && t.ends_with(')') {
                info.title = Some(t[1..t.len() - 1].trim().to_string());
            }
            if t.starts_with("(total:") {
                info.total_seconds = about_seconds(t);
            } else if let (Some(op), Some(s)) = (header_op, about_seconds(t)) {
                header_seconds.push((op, s));
                header_op = None;
            }
        }
        let problem = match clean_line(&raw) {
            Ok(None) => None,
            Ok(Some(line)) => {
                in_header = false;
                info.send_lines += 1;
                if let Some(s) = info.sections.last_mut() {
                    s.lines += 1;
                }
                controller.and_then(|c| {
                    if line.len() > c.max_line_chars() {
                        Some(format!(
                            "{} characters after comments and spaces are removed; {} takes at most {}",
                            line.len(),
                            c.name(),
                            c.max_line_chars()
                        ))
                    } else {
                        check_words(&line, c).err()
                    }
                })
            }
            // LinuxCNC reads the file itself and has its own comment rules.
            Err(_) if controller.is_none() => None,
            Err(e) => Some(e),
        };
        if let Some(problem) = problem {
            total_problems += 1;
            if problems.len() < MAX_LISTED {
                problems.push(LineProblem {
                    line: n,
                    text: raw.trim_end().to_string(),
                    problem,
                });
            }
        }
    }
    info.file_lines = n;
    for s in &mut info.sections {
        s.seconds = header_seconds
            .iter()
            .find(|(op, _)| *op == s.number)
            .map(|&(_, sec)| sec);
    }
    if total_problems > 0 {
        return Err(ProgramError::Refused {
            controller: controller.map_or("the controller", Controller::name),
            problems,
            total: total_problems,
        });
    }
    Ok(info)
}

/// A line on its way to the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendLine {
    /// The cleaned text, without a newline.
    pub text: String,
    /// 1-based line in the file; 0 for a line Swarf added (a restart's preamble).
    pub line: usize,
    /// For a program stop (`M0`/`M1`): the comment before it, which says what to do (Swarf's
    /// post names the tool to load). Comments never go on the wire; this is for the user.
    pub note: Option<String>,
}

impl SendLine {
    pub fn new(text: impl Into<String>, line: usize) -> Self {
        Self {
            text: text.into(),
            line,
            note: None,
        }
    }
}

/// Whether a cleaned line stops the program (`M0`, `M1`).
pub fn is_program_stop(line: &str) -> bool {
    !line.starts_with('$')
        && words(line).is_ok_and(|ws| {
            ws.iter()
                .any(|&(l, n)| l == 'M' && matches!(code_value(n), Some(v) if v == 0.0 || v == 1.0))
        })
}

/// Where the lines of a run come from: the program file, read one line at a time.
pub trait LineSource {
    /// The next line to send, or `None` at the end.
    fn next_line(&mut self) -> Option<Result<SendLine, String>>;
}

/// Reads a program file line by line (constant memory), cleaning each line; the lines before
/// `start_line` are skipped and `preamble` lines go first.
pub struct ProgramReader<R> {
    reader: R,
    line: usize,
    start_line: usize,
    preamble: std::vec::IntoIter<String>,
    buf: Vec<u8>,
    last_comment: Option<String>,
}

impl ProgramReader<BufReader<File>> {
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(Self::new(BufReader::with_capacity(
            64 * 1024,
            File::open(path)?,
        )))
    }
}

impl<R: BufRead> ProgramReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            line: 0,
            start_line: 1,
            preamble: Vec::new().into_iter(),
            buf: Vec::new(),
            last_comment: None,
        }
    }

    /// Start at a restart plan: its preamble, then the file from its first line.
    #[must_use]
    pub fn with_restart(mut self, plan: &RestartPlan) -> Self {
        self.start_line = plan.from_line;
        self.preamble = plan.preamble.clone().into_iter();
        self
    }
}

impl<R: BufRead> LineSource for ProgramReader<R> {
    fn next_line(&mut self) -> Option<Result<SendLine, String>> {
        if let Some(text) = self.preamble.next() {
            return Some(Ok(SendLine::new(text, 0)));
        }
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(format!("reading the program: {e}"))),
            }
            self.line += 1;
            if self.line < self.start_line {
                continue;
            }
            let raw = String::from_utf8_lossy(&self.buf);
            match clean_line(&raw) {
                Ok(None) => {
                    let t = raw.trim();
                    if let Some(c) = t.strip_prefix('(').and_then(|c| c.strip_suffix(')')) {
                        self.last_comment = Some(c.trim().to_string());
                    }
                }
                Ok(Some(text)) => {
                    let note = if is_program_stop(&text) {
                        Some(
                            self.last_comment
                                .take()
                                .unwrap_or_else(|| "program stop (M0/M1)".into()),
                        )
                    } else {
                        None
                    };
                    self.last_comment = None;
                    return Some(Ok(SendLine {
                        text,
                        line: self.line,
                        note,
                    }));
                }
                Err(e) => return Some(Err(format!("line {}: {e}", self.line))),
            }
        }
    }
}

/// Lines given in memory (commands, tests).
impl LineSource for std::vec::IntoIter<SendLine> {
    fn next_line(&mut self) -> Option<Result<SendLine, String>> {
        self.next().map(Ok)
    }
}

/// How to start a program at one of its operations: the modal state the program had reached
/// there, re-sent, and the tool brought up to the highest Z the program used before.
#[derive(Clone, Debug, PartialEq)]
pub struct RestartPlan {
    pub section: usize,
    /// Lines sent before the file's lines: units, distance mode, plane, feed mode, work
    /// offset, spindle, coolant, feed, then a rapid up to the safe height.
    pub preamble: Vec<String>,
    /// First file line sent (the operation's marker).
    pub from_line: usize,
}

/// The modal state a program has reached, as far as a restart needs it.
#[derive(Clone, Debug)]
struct Modal {
    units: &'static str,
    distance: &'static str,
    plane: &'static str,
    feed_mode: &'static str,
    offset: String,
    spindle: Option<&'static str>,
    speed: Option<String>,
    coolant: Vec<&'static str>,
    feed: Option<String>,
    max_z: Option<f64>,
    unsafe_reason: Option<String>,
}

impl Modal {
    fn new() -> Self {
        Self {
            units: "G21",
            distance: "G90",
            plane: "G17",
            feed_mode: "G94",
            offset: "G54".into(),
            spindle: None,
            speed: None,
            coolant: Vec::new(),
            feed: None,
            max_z: None,
            unsafe_reason: None,
        }
    }

    fn apply(&mut self, line: &str, n: usize) {
        let Ok(ws) = words(line) else { return };
        let mut machine_coords = false;
        let mut z = None;
        for &(l, num) in &ws {
            let v = code_value(num).unwrap_or(f64::NAN);
            match (l, v) {
                ('G', 20.0) => self.units = "G20",
                ('G', 21.0) => self.units = "G21",
                ('G', 90.0) => self.distance = "G90",
                ('G', 91.0) => self.distance = "G91",
                ('G', 17.0) => self.plane = "G17",
                ('G', 18.0) => self.plane = "G18",
                ('G', 19.0) => self.plane = "G19",
                ('G', 93.0) => self.feed_mode = "G93",
                ('G', 94.0) => self.feed_mode = "G94",
                ('G', 53.0) => machine_coords = true,
                ('G', 92.0) => {
                    self.unsafe_reason = Some(format!("line {n} sets a G92 offset"));
                }
                ('G', g) if (54.0..=59.3).contains(&g) => self.offset = format!("G{num}"),
                ('M', 3.0) => self.spindle = Some("M3"),
                ('M', 4.0) => self.spindle = Some("M4"),
                ('M', 5.0) => self.spindle = None,
                ('M', 7.0) => self.coolant.push("M7"),
                ('M', 8.0) => self.coolant.push("M8"),
                ('M', 9.0) => self.coolant.clear(),
                ('S', _) => self.speed = Some(num.to_string()),
                ('F', _) => self.feed = Some(num.to_string()),
                ('Z', zv) => z = Some(zv),
                _ => {}
            }
        }
        if let Some(z) = z
            && !machine_coords
            && self.distance == "G90"
        {
            self.max_z = Some(self.max_z.map_or(z, |m: f64| m.max(z)));
        }
        self.coolant.dedup();
    }
}

/// Plan a restart at `section` (an index into `info.sections`): read the program up to the
/// operation's marker and write the modal state back as a preamble. Refused where a restart
/// cannot be made safe: an incremental (G91) program, a G92 offset, or no Z height known to
/// retract to.
pub fn plan_restart(info: &ProgramInfo, section: usize) -> Result<RestartPlan, ProgramError> {
    let Some(sec) = info.sections.get(section) else {
        return Err(ProgramError::Restart(format!(
            "the program has {} operations; there is no operation {}",
            info.sections.len(),
            section + 1
        )));
    };
    let file = File::open(&info.path).map_err(|source| ProgramError::Io {
        path: info.path.clone(),
        source,
    })?;
    let mut reader = BufReader::new(file);
    let mut modal = Modal::new();
    let mut buf = Vec::new();
    for n in 1..sec.first_line {
        buf.clear();
        if reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| ProgramError::Io {
                path: info.path.clone(),
                source,
            })?
            == 0
        {
            break;
        }
        if let Ok(Some(line)) = clean_line(&String::from_utf8_lossy(&buf)) {
            modal.apply(&line, n);
        }
    }
    if let Some(why) = modal.unsafe_reason {
        return Err(ProgramError::Restart(format!(
            "cannot restart at operation {} ({}): {why}, which a restart cannot rebuild; run the program from the start",
            sec.number, sec.name
        )));
    }
    if modal.distance == "G91" {
        return Err(ProgramError::Restart(format!(
            "cannot restart at operation {} ({}): the program is incremental (G91) there, so its positions depend on every move before",
            sec.number, sec.name
        )));
    }
    let Some(safe_z) = modal.max_z else {
        return Err(ProgramError::Restart(format!(
            "cannot restart at operation {} ({}): no Z height before it to bring the tool in at",
            sec.number, sec.name
        )));
    };
    let mut preamble = vec![format!(
        "{}{}{}{}{}",
        modal.units, modal.distance, modal.plane, modal.feed_mode, modal.offset
    )];
    preamble.push(format!("G0Z{}", fmt_num(safe_z)));
    if let (Some(m), Some(s)) = (modal.spindle, &modal.speed) {
        preamble.push(format!("S{s}{m}"));
    }
    for c in &modal.coolant {
        preamble.push((*c).to_string());
    }
    if let Some(f) = &modal.feed {
        preamble.push(format!("F{f}"));
    }
    Ok(RestartPlan {
        section,
        preamble,
        from_line: sec.first_line,
    })
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_spaces_never_reach_the_wire() {
        assert_eq!(
            clean_line("G1 X1.5 (feed – 3 mm! ok?) Y2 ; done ~\r\n").unwrap(),
            Some("G1X1.5Y2".into())
        );
        assert_eq!(
            clean_line("(only a comment – with an en dash)").unwrap(),
            None
        );
        assert_eq!(clean_line("%").unwrap(), None);
        assert_eq!(clean_line("   \t").unwrap(), None);
        assert_eq!(clean_line("g0 x1").unwrap(), Some("G0X1".into()));
    }

    #[test]
    fn real_time_and_non_ascii_bytes_outside_comments_are_refused() {
        assert!(clean_line("G1 X1 !").unwrap_err().contains("real-time"));
        assert!(clean_line("G1 X1 ?").unwrap_err().contains("real-time"));
        assert!(clean_line("G1 X1–").unwrap_err().contains("not ASCII"));
        assert!(
            clean_line("G1 X1 (open")
                .unwrap_err()
                .contains("not closed")
        );
        assert!(clean_line("G1 (a (b)) X1").unwrap_err().contains("nested"));
    }

    #[test]
    fn words_are_checked_against_grbl() {
        assert!(check_words("G0X1Y2Z3", Controller::Grbl).is_ok());
        assert!(check_words("G10L20P1X0Y0", Controller::Grbl).is_ok());
        assert!(check_words("$J=G91G21X0.001F100", Controller::Grbl).is_ok());
        let e = check_words("G81X1Y1Z-1R1", Controller::Grbl).unwrap_err();
        assert!(e.contains("G81") && e.contains("--expand-cycles"), "{e}");
        assert!(check_words("G81X1Y1Z-1R1", Controller::GrblHal).is_ok());
        assert!(
            check_words("T2M6", Controller::Grbl)
                .unwrap_err()
                .contains("M6")
        );
        assert!(
            check_words("G1A5", Controller::Grbl)
                .unwrap_err()
                .contains("`A`")
        );
        assert!(
            check_words("G1X", Controller::Grbl)
                .unwrap_err()
                .contains("no number")
        );
    }

    #[test]
    fn eeprom_writes_are_sent_alone() {
        for l in [
            "G10L20P1X0",
            "G10L2P1X0",
            "G28.1",
            "G30.1",
            "$10=1",
            "$N0=G54",
            "$I=abc",
        ] {
            assert!(needs_send_and_wait(l), "{l}");
        }
        for l in ["G0X1", "$J=G91X1F100", "$H", "$X", "G28", "G10L1P1"] {
            assert!(!needs_send_and_wait(l), "{l}");
        }
    }

    fn write_tmp(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("swarf-machine-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    const PROGRAM: &str = "(Plate - Swarf)\n(op 1: recesses - T2 0.2 mm)\n(  1 moves, about 20 s)\n\
        (op 2: outline - T3)\n(  2 moves, about 10 s)\n(total: about 30 s)\n\
        G21 G90 G17 G94 G55\nG0 Z5\n(op 1: recesses)\nS40000 M3\nG0 X1 Y1\nG1 Z-0.1 F40\nG1 X2 F120\nG0 Z5\n\
        (op 2: outline)\nM5\nG0 Z20\nM0\nS30000 M3\nM8\nG0 X0 Y0\nG1 Z-0.2 F30\nG0 Z5\nM2\n";

    #[test]
    fn a_scan_finds_operations_and_their_estimates() {
        let p = write_tmp("scan.nc", PROGRAM);
        let info = scan(&p, Some(Controller::Grbl)).unwrap();
        assert_eq!(info.title.as_deref(), Some("Plate - Swarf"));
        assert_eq!(info.sections.len(), 2);
        assert_eq!(info.sections[0].name, "recesses");
        assert_eq!(info.sections[0].first_line, 9);
        assert_eq!(info.sections[0].lines, 5);
        assert_eq!(info.sections[0].seconds, Some(20.0));
        assert_eq!(info.sections[1].seconds, Some(10.0));
        assert_eq!(info.total_seconds, Some(30.0));
        assert_eq!(info.send_lines, 16);
        assert_eq!(info.section_of(12), Some(0));
        assert_eq!(info.section_of(3), None);
        assert_eq!(info.seconds_left(Some(0), 5), Some(10.0));
        // 2 header lines + 5 of op 1 + 2 of op 2 done: 7 of op 2's 9 lines are left.
        let (s, left) = info.progress(9, 17);
        assert_eq!(s, Some(1));
        assert!((left.unwrap() - 10.0 * 7.0 / 9.0).abs() < 1e-9);
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn a_refusal_names_every_line() {
        let p = write_tmp(
            "refuse.nc",
            "G0 X1\nG81 X1 Y1 Z-1 R1\nG1 X2 ! (bang)\nG1 X1234567890.1234567890 Y1234567890.1234567890 Z1234567890.1234567890 F12345.12345\n",
        );
        let e = scan(&p, Some(Controller::Grbl)).unwrap_err();
        let ProgramError::Refused {
            problems, total, ..
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!(*total, 3);
        assert_eq!(
            problems.iter().map(|p| p.line).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert!(e.to_string().contains("line 4: 80 characters"), "{e}");
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn a_restart_rebuilds_the_modal_state() {
        let p = write_tmp("restart.nc", PROGRAM);
        let info = scan(&p, Some(Controller::Grbl)).unwrap();
        let plan = plan_restart(&info, 1).unwrap();
        assert_eq!(plan.from_line, 15);
        assert_eq!(
            plan.preamble,
            vec!["G21G90G17G94G55", "G0Z5", "S40000M3", "F120"]
        );
        let mut r = ProgramReader::open(&p).unwrap().with_restart(&plan);
        let mut lines = Vec::new();
        while let Some(l) = r.next_line() {
            lines.push(l.unwrap());
        }
        assert_eq!(lines[0].line, 0);
        assert_eq!(lines[4].text, "M5");
        assert_eq!(lines[4].line, 16);
        let m0 = lines.iter().find(|l| l.text == "M0").unwrap();
        assert_eq!(m0.note.as_deref(), Some("program stop (M0/M1)"));
        assert!(plan_restart(&info, 2).is_err());
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn an_incremental_program_is_not_restarted() {
        let p = write_tmp(
            "g91.nc",
            "G0 Z5\n(op 1: a)\nG91\nG1 X1 F100\n(op 2: b)\nG1 X1\n",
        );
        let info = scan(&p, Some(Controller::Grbl)).unwrap();
        let e = plan_restart(&info, 1).unwrap_err().to_string();
        assert!(e.contains("G91"), "{e}");
        let _ = std::fs::remove_file(p);
    }
}
