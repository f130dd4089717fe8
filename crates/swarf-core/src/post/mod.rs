//! G-code writing: dialects as data, a fixed-decimal number writer, arcs checked after
//! rounding, sanitised comments, deterministic output.

mod number;

use serde::{Deserialize, Serialize};

use crate::geometry::{Tolerance, V2};
use crate::tool::Tool;
use crate::toolpath::{Canned, CycleKind, CycleSpan, Motion, P3, Stats, Toolpath, arc_sweep};

pub use number::write_fixed;

/// A controller family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Grbl,
    #[default]
    LinuxCnc,
    Fanuc,
}

impl std::str::FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "grbl" => Ok(Dialect::Grbl),
            "linuxcnc" | "emc" => Ok(Dialect::LinuxCnc),
            "fanuc" | "iso" | "generic" => Ok(Dialect::Fanuc),
            _ => Err(format!(
                "unknown dialect '{s}'; use grbl, linuxcnc or fanuc"
            )),
        }
    }
}

/// What differs between controllers, as data.
#[derive(Debug, Clone, Copy)]
#[allow(clippy::struct_excessive_bools)] // each is one thing a controller can or cannot do
pub struct DialectSpec {
    pub name: &'static str,
    /// Words after the units in the safety line.
    pub modal_reset: &'static str,
    /// Whether `Tn M6` is understood.
    pub tool_change: bool,
    pub program_end: &'static str,
    /// `%` lines around the program and an `O` number.
    pub percent_and_number: bool,
    /// Dwell word for seconds: `P` (seconds) or `X` (Fanuc seconds).
    pub dwell_word: char,
    /// Start/end radius difference the controller itself rejects, mm (for the header).
    pub controller_arc_limit_mm: f64,
    /// The smallest arc radius the controller accepts, mm; smaller arcs are written as lines
    /// (chords within the path tolerance). `LinuxCNC` refuses radii under 0.00005 in
    /// (`RADIUS_TOLERANCE`, "Zero-radius arc"); GRBL divides an arc into segments by its arc
    /// tolerance `$12` (default 0.002 mm), which fails for radii under half of it.
    pub min_arc_radius_mm: f64,
    /// Blocks per second the controller's planner can take before it slows down.
    pub max_blocks_per_s: f64,
    /// Drilling cycles the controller runs as `LinuxCNC` does (G81, G83, G73 with G98/G99);
    /// GRBL has none.
    pub canned_cycles: bool,
    /// G82 with its dwell `P` in seconds (`LinuxCNC`); Fanuc's P is in milliseconds, so Swarf
    /// writes dwell cycles there as moves with `G4`.
    pub canned_dwell: bool,
}

impl Dialect {
    pub fn spec(self) -> DialectSpec {
        match self {
            Dialect::Grbl => DialectSpec {
                name: "GRBL",
                modal_reset: "G94",
                tool_change: false,
                program_end: "M2",
                percent_and_number: false,
                dwell_word: 'P',
                controller_arc_limit_mm: 0.005,
                min_arc_radius_mm: 0.002,
                max_blocks_per_s: 1000.0,
                canned_cycles: false,
                canned_dwell: false,
            },
            Dialect::LinuxCnc => DialectSpec {
                name: "LinuxCNC",
                modal_reset: "G94 G40 G49 G80",
                tool_change: true,
                program_end: "M2",
                percent_and_number: false,
                dwell_word: 'P',
                controller_arc_limit_mm: 0.0283,
                min_arc_radius_mm: 0.00127,
                max_blocks_per_s: 10_000.0,
                canned_cycles: true,
                canned_dwell: true,
            },
            Dialect::Fanuc => DialectSpec {
                name: "ISO/Fanuc",
                modal_reset: "G94 G40 G49 G80",
                tool_change: true,
                program_end: "M30",
                percent_and_number: true,
                dwell_word: 'X',
                controller_arc_limit_mm: 0.005,
                min_arc_radius_mm: 0.001,
                max_blocks_per_s: 2000.0,
                canned_cycles: true,
                canned_dwell: false,
            },
        }
    }
}

/// The work coordinate system the program runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum WorkOffset {
    #[default]
    G54,
    G55,
    G56,
    G57,
    G58,
    G59,
}

impl WorkOffset {
    pub const ALL: [WorkOffset; 6] = [
        WorkOffset::G54,
        WorkOffset::G55,
        WorkOffset::G56,
        WorkOffset::G57,
        WorkOffset::G58,
        WorkOffset::G59,
    ];
    pub fn code(self) -> &'static str {
        match self {
            WorkOffset::G54 => "G54",
            WorkOffset::G55 => "G55",
            WorkOffset::G56 => "G56",
            WorkOffset::G57 => "G57",
            WorkOffset::G58 => "G58",
            WorkOffset::G59 => "G59",
        }
    }
}

/// Coolant words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Coolant {
    #[default]
    Off,
    Mist,
    Flood,
}

/// How to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostOptions {
    pub dialect: Dialect,
    /// Decimals of coordinates in mm, 3 to 6 (default 4: 0.1 µm).
    pub decimals: u32,
    /// Largest start/end radius difference of an arc after rounding, mm (default 0.5 µm);
    /// arcs beyond it are written as lines.
    pub arc_radius_tolerance_mm: f64,
    /// Arcs of larger radius are written as lines, mm.
    pub max_arc_radius_mm: f64,
    pub coolant: Coolant,
    /// Seconds to wait after starting the spindle.
    pub spindle_dwell_s: f64,
    /// Rapid rate used for the time estimate, mm/min.
    pub rapid_mm_per_min: f64,
    /// Program title for the header.
    pub title: String,
    /// Height the tool goes up to for a tool change, mm (default: the clearance height).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_change_z_mm: Option<f64>,
    /// Where in XY the tool goes for a manual tool change (GRBL), mm in work coordinates
    /// (default: where it is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_change_xy_mm: Option<[f64; 2]>,
    /// Apply tool length offsets after a tool change (`G43 H<tool>`, for `LinuxCNC` and Fanuc).
    pub tool_length_offsets: bool,
    /// The work offset the preamble selects (default G54).
    pub work_offset: WorkOffset,
    /// Program number: Fanuc's `O` number (default 1); a comment for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_number: Option<u32>,
    /// Number the blocks (`N10`, `N20`, …) with this step; `None` writes no line numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_numbers: Option<u32>,
    /// Text for the start and the end of the program, as comments (one per line, sanitised).
    pub header_text: String,
    pub footer_text: String,
    /// Write arcs as G2/G3 (default); off, every arc is written as lines within the path
    /// tolerance, for controllers that want lines.
    pub arcs: bool,
    /// Write drilling cycles as G0/G1 moves even where the controller has canned cycles
    /// (GRBL always gets moves).
    pub expand_cycles: bool,
}

impl Default for PostOptions {
    fn default() -> Self {
        Self {
            dialect: Dialect::LinuxCnc,
            decimals: 4,
            arc_radius_tolerance_mm: 0.0005,
            max_arc_radius_mm: 2000.0,
            coolant: Coolant::Off,
            spindle_dwell_s: 2.0,
            rapid_mm_per_min: 3000.0,
            title: "Swarf job".into(),
            tool_change_z_mm: None,
            tool_change_xy_mm: None,
            tool_length_offsets: false,
            work_offset: WorkOffset::G54,
            program_number: None,
            line_numbers: None,
            header_text: String::new(),
            footer_text: String::new(),
            arcs: true,
            expand_cycles: false,
        }
    }
}

/// Why a program cannot be written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PostError {
    #[error("post: decimals is {0}; use 3 to 6")]
    Decimals(u32),
    #[error("post: {0}")]
    Option(String),
    #[error(
        "post: operation {op} has a feed move without a feed rate (move {index}); set the tool's feeds"
    )]
    NoFeed { op: usize, index: usize },
    #[error("post: operation {op} has a coordinate that is not a number (move {index})")]
    NotFinite { op: usize, index: usize },
}

/// One operation to write: its name, tool and toolpath.
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    pub name: &'a str,
    pub tool: &'a Tool,
    pub toolpath: &'a Toolpath,
    /// The operation's coolant; `None`: the program's (`PostOptions::coolant`).
    pub coolant: Option<Coolant>,
    /// Where a copy of an array puts this section; `None`: the program's work offset, the
    /// moves as they are.
    pub place: Option<Place<'a>>,
}

/// How a section of an array program is placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Place<'a> {
    /// Its moves in this work offset (e.g. `G55`).
    WorkOffset(&'a str),
    /// A call of subroutine `sub` (a [`SubBody`]) with the copy's X and Y offset as its
    /// parameters `#1` and `#2`, instead of the moves.
    Call { sub: u32, offset: [f64; 2] },
}

/// A LinuxCNC subroutine (`O<number> sub` … `endsub`) holding one operation's moves with X
/// and Y written relative to the parameters `#1` and `#2` (`X[#1+1.2345]`).
#[derive(Debug, Clone, Copy)]
pub struct SubBody<'a> {
    pub number: u32,
    /// The section index its lines are attributed to (`Program::line_source`).
    pub src_section: usize,
    pub section: Section<'a>,
}

/// A written program and what happened on the way.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub text: String,
    /// For each line (index = line number − 1): the (section, move) it comes from.
    pub line_source: Vec<Option<(u32, u32)>>,
    pub arcs_written: usize,
    /// Arcs written as lines: as chords within the path tolerance (radius mismatch after
    /// rounding, huge radius, too small for the controller, arcs off), or as one line where the
    /// arc is indistinguishable from its chord. With `arcs_written` they add up to the
    /// toolpaths' arcs.
    pub arcs_as_lines: usize,
    /// Largest start/end radius difference of the arcs written, mm.
    pub max_arc_radius_error_mm: f64,
    /// For each line of an array program: the copy (from 1) it cuts; empty without an array.
    pub line_copy: Vec<u32>,
    /// Whether the copies are written in their own work offsets (each with copy 1's
    /// coordinates) rather than moved.
    pub copies_in_offsets: bool,
    /// The lines (0-based, `O… sub` to `O… endsub`) of each subroutine body.
    pub sub_lines: Vec<std::ops::Range<usize>>,
}

/// Removes everything that could end a comment or start a new word: parentheses, semicolons,
/// line breaks, control and non-ASCII characters.
pub fn sanitize_comment(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| match c {
            '(' => '[',
            ')' => ']',
            ';' => ',',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => ' ',
        })
        .collect()
}

struct Writer<'o> {
    out: Vec<u8>,
    lines: Vec<Option<(u32, u32)>>,
    dec: u32,
    scale: f64,
    /// Current position in output units (integers of 10^-dec mm); None before known.
    pos: [Option<i64>; 3],
    feed: Option<i64>,
    src: Option<(u32, u32)>,
    opts: &'o PostOptions,
    tol: Tolerance,
    arcs_written: usize,
    arcs_as_lines: usize,
    max_err: f64,
    /// The coolant the program has switched on.
    coolant: Coolant,
    /// The work offset in effect.
    wcs: String,
    /// Writing a subroutine body: X and Y relative to `#1` and `#2`.
    params: bool,
    /// The lines of each subroutine body written.
    sub_lines: Vec<std::ops::Range<usize>>,
}

impl Writer<'_> {
    fn q(&self, v: f64) -> i64 {
        number::round_to_i64(v * self.scale)
    }
    fn val(&self, q: i64) -> f64 {
        q as f64 / self.scale
    }
    fn end_line(&mut self) {
        self.out.push(b'\n');
        self.lines.push(self.src);
    }
    fn raw(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
        self.end_line();
    }
    fn comment(&mut self, s: &str) {
        self.out.push(b'(');
        self.out.extend_from_slice(sanitize_comment(s).as_bytes());
        self.out.push(b')');
        self.end_line();
    }
    fn word(&mut self, letter: u8, q: i64) {
        self.out.push(b' ');
        self.out.push(letter);
        if self.params && (letter == b'X' || letter == b'Y') {
            // `X[#1+1.2345]`, `Y[#2-0.5]`: the copy's offset plus the value.
            self.out
                .extend_from_slice(if letter == b'X' { b"[#1" } else { b"[#2" });
            self.out.push(if q < 0 { b'-' } else { b'+' });
            number::write_scaled(&mut self.out, q.abs(), self.dec);
            self.out.push(b']');
        } else {
            number::write_scaled(&mut self.out, q, self.dec);
        }
    }

    /// One operation's moves as subroutine `b.number`, X and Y relative to its parameters.
    fn sub_body(&mut self, b: &SubBody<'_>) {
        self.src = None;
        let first = self.lines.len();
        self.raw(&format!("O{} sub", b.number));
        self.comment(&format!(
            "{}: X and Y from the copy's offset #1, #2",
            b.section.name
        ));
        self.pos = [None; 3];
        self.feed = None;
        // Up to the operation's start height before any XY move: where a call begins is not
        // known here.
        let z = self.q(b.section.toolpath.start.z);
        self.out.extend_from_slice(b"G0");
        self.word(b'Z', z);
        self.end_line();
        self.pos[2] = Some(z);
        self.params = true;
        self.section_moves(b.src_section, &b.section);
        self.params = false;
        self.src = None;
        self.raw(&format!("O{} endsub", b.number));
        self.sub_lines.push(first..self.lines.len());
        self.pos = [None; 3];
        self.feed = None;
    }

    /// Calls subroutine `sub` for a copy at `offset`; where the tool is after is not known
    /// here, so every coordinate is written afresh.
    fn call(&mut self, si: usize, sub: u32, offset: [f64; 2]) {
        self.src = Some((si as u32, 0));
        self.out
            .extend_from_slice(format!("O{sub} call [").as_bytes());
        let (qx, qy) = (self.q(offset[0]), self.q(offset[1]));
        number::write_scaled(&mut self.out, qx, self.dec);
        self.out.extend_from_slice(b"] [");
        number::write_scaled(&mut self.out, qy, self.dec);
        self.out.push(b']');
        self.end_line();
        self.src = None;
        self.pos = [None; 3];
        self.feed = None;
    }
    fn feed_word(&mut self, f: f64) {
        let qf = number::round_to_i64(f * 10.0); // F to 0.1 mm/min
        if self.feed != Some(qf) {
            self.out.extend_from_slice(b" F");
            number::write_scaled(&mut self.out, qf, 1);
            self.feed = Some(qf);
        }
    }
    /// G0/G1 to `to`, only the axes that change.
    fn straight(&mut self, g: &[u8], to: P3, feed: Option<f64>) {
        let t = [self.q(to.x), self.q(to.y), self.q(to.z)];
        if t.iter().zip(&self.pos).all(|(a, b)| Some(*a) == *b) {
            return; // no motion after rounding
        }
        if feed.is_some()
            && let [Some(x), Some(y), Some(z)] = self.pos
        {
            // A feed move shorter than the path tolerance is noise (fitted curves can leave
            // such slivers): skipping it moves the path by less than the tolerance, and the next
            // move starts from where the tool really is.
            let d = [(t[0] - x) as f64, (t[1] - y) as f64, (t[2] - z) as f64];
            if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() / self.scale < self.tol.path_mm {
                return;
            }
        }
        self.out.extend_from_slice(g);
        for (i, letter) in [b'X', b'Y', b'Z'].into_iter().enumerate() {
            if self.pos[i] != Some(t[i]) {
                self.word(letter, t[i]);
                self.pos[i] = Some(t[i]);
            }
        }
        if let Some(f) = feed {
            self.feed_word(f);
        }
        self.end_line();
    }
    fn arc(&mut self, from: P3, to: P3, centre: V2, ccw: bool, feed: f64) {
        let (Some(sx), Some(sy), Some(_)) = (self.pos[0], self.pos[1], self.pos[2]) else {
            self.arcs_as_lines += 1;
            self.straight(b"G1", to, Some(feed));
            return;
        };
        let (ex, ey) = (self.q(to.x), self.q(to.y));
        let (s_real, e_real) = (from.xy(), to.xy());
        let r = s_real.dist(centre);
        // Sagitta without trigonometry: r ∓ the centre's distance from the chord; the arc is the
        // long way round when the end lies on the wrong side of the start radius.
        let half_chord = s_real.dist(e_real) * 0.5;
        let h = (r * r - half_chord * half_chord).max(0.0).sqrt();
        let turn = (s_real - centre).cross(e_real - centre);
        let long_way = if ccw { turn < 0.0 } else { turn > 0.0 };
        let sagitta = if long_way { r + h } else { r - h };
        let i = self.q(centre.x - self.val(sx));
        let j = self.q(centre.y - self.val(sy));
        let (cx, cy) = (sx + i, sy + j);
        let r1 = ((sx - cx) as f64).hypot((sy - cy) as f64) / self.scale;
        let r2 = ((ex - cx) as f64).hypot((ey - cy) as f64) / self.scale;
        let err = (r1 - r2).abs();
        if ex == sx && ey == sy {
            // Toolpaths never hold full circles in one move: an arc that starts and ends on the
            // same grid point is a sliver (a controller would read a full circle). Only Z moves.
            self.arcs_as_lines += 1;
            self.straight(b"G1", to, Some(feed));
            return;
        }
        let resolution = 1.0 / self.scale;
        let as_lines = !self.opts.arcs
            || err > self.opts.arc_radius_tolerance_mm
            || r > self.opts.max_arc_radius_mm
            || r1 < 2.0 * resolution
            || r1.min(r2) < self.opts.dialect.spec().min_arc_radius_mm;
        if !as_lines && sagitta <= self.tol.path_mm.min(resolution * 0.5) {
            // Indistinguishable from its chord at this resolution: a line.
            self.arcs_as_lines += 1;
            self.straight(b"G1", to, Some(feed));
            return;
        }
        if as_lines {
            self.arcs_as_lines += 1;
            let sweep = arc_sweep(s_real, e_real, centre, ccw);
            // Chords within the path tolerance.
            let n = crate::geometry::bulge::arc_chords(r, sweep, self.tol.path_mm);
            let a0 = (s_real - centre).angle();
            for k in 1..=n {
                let f = k as f64 / n as f64;
                let p = if k == n {
                    to
                } else {
                    let q = centre + V2::from_angle(a0 + sweep * f) * r;
                    P3::new(q.x, q.y, from.z + (to.z - from.z) * f)
                };
                self.straight(b"G1", p, Some(feed));
            }
            return;
        }
        self.arcs_written += 1;
        self.max_err = self.max_err.max(err);
        self.out.extend_from_slice(if ccw { b"G3" } else { b"G2" });
        self.word(b'X', ex);
        self.word(b'Y', ey);
        self.pos[0] = Some(ex);
        self.pos[1] = Some(ey);
        let ez = self.q(to.z);
        if self.pos[2] != Some(ez) {
            self.word(b'Z', ez);
            self.pos[2] = Some(ez);
        }
        self.word(b'I', i);
        self.word(b'J', j);
        self.feed_word(feed);
        self.end_line();
    }
}

impl Writer<'_> {
    /// `G4` for `seconds` in the dialect's dwell word (seconds, to the millisecond).
    fn dwell(&mut self, seconds: f64) {
        let ms = (seconds * 1000.0).round() as i64;
        let mut line = format!("G4 {}", self.opts.dialect.spec().dwell_word);
        let mut b = Vec::new();
        number::write_scaled(&mut b, ms, 3);
        line.push_str(std::str::from_utf8(&b).unwrap_or("0"));
        self.raw(&line);
    }

    /// Whether the controller can run `c` as a canned cycle here.
    fn can_write_canned(&self, c: &Canned) -> bool {
        let spec = self.opts.dialect.spec();
        spec.canned_cycles
            && !self.opts.expand_cycles
            && (c.kind != CycleKind::DrillDwell || spec.canned_dwell)
            && self.pos.iter().all(Option::is_some)
    }

    /// Writes the span as one canned-cycle line when the cycle, with its words rounded as
    /// written, makes the span's moves (rounded) exactly; `run` is the cycle in effect and the
    /// height its run of holes started at. Returns false (nothing written) otherwise.
    fn canned(
        &mut self,
        span: &CycleSpan,
        moves: &[crate::toolpath::Move],
        run: &mut Option<(Canned, f64)>,
    ) -> bool {
        let c = span.canned;
        if !self.can_write_canned(&c) {
            return false;
        }
        let round = |w: &Self, v: f64| w.val(w.q(v));
        let rc = Canned {
            at: V2::new(round(self, c.at.x), round(self, c.at.y)),
            bottom_z: round(self, c.bottom_z),
            r_z: round(self, c.r_z),
            q_mm: round(self, c.q_mm),
            dwell_s: (c.dwell_s * 1000.0).round() / 1000.0,
            feed_mm_per_min: (c.feed_mm_per_min * 10.0).round() / 10.0,
            ..c
        };
        let here = P3::new(
            self.val(self.pos[0].unwrap_or(0)),
            self.val(self.pos[1].unwrap_or(0)),
            self.val(self.pos[2].unwrap_or(0)),
        );
        let initial = run.map_or(here.z, |(_, z)| z);
        let mut check = Toolpath::new(here);
        rc.expand(&mut check, initial);
        let same = check.moves.len() == span.end - span.first
            && check
                .moves
                .iter()
                .zip(&moves[span.first..span.end])
                .all(|(a, b)| {
                    (self.q(a.to.x) - self.q(b.to.x)).abs() <= 1
                        && (self.q(a.to.y) - self.q(b.to.y)).abs() <= 1
                        && (self.q(a.to.z) - self.q(b.to.z)).abs() <= 1
                        && std::mem::discriminant(&a.motion) == std::mem::discriminant(&b.motion)
                });
        if !same {
            return false;
        }
        let modal = run.is_some_and(|(r, _)| {
            r.kind == rc.kind
                && r.bottom_z == rc.bottom_z
                && r.r_z == rc.r_z
                && r.q_mm == rc.q_mm
                && r.dwell_s == rc.dwell_s
                && r.return_to_initial == rc.return_to_initial
                && r.feed_mm_per_min == rc.feed_mm_per_min
        });
        let (x, y) = (self.q(rc.at.x), self.q(rc.at.y));
        if modal {
            // The cycle stays in effect: only the place (both words: never an empty line).
            self.out.push(b'X');
            number::write_scaled(&mut self.out, x, self.dec);
            self.word(b'Y', y);
            self.end_line();
        } else {
            let retract = if rc.return_to_initial { "G98" } else { "G99" };
            self.out
                .extend_from_slice(format!("{retract} G{}", rc.kind.code()).as_bytes());
            self.word(b'X', x);
            self.word(b'Y', y);
            self.word(b'Z', self.q(rc.bottom_z));
            self.word(b'R', self.q(rc.r_z));
            match rc.kind {
                CycleKind::Peck | CycleKind::ChipBreak => self.word(b'Q', self.q(rc.q_mm)),
                CycleKind::DrillDwell => {
                    self.out.extend_from_slice(b" P");
                    number::write_scaled(&mut self.out, (rc.dwell_s * 1000.0).round() as i64, 3);
                }
                CycleKind::Drill => {}
            }
            self.feed = None;
            self.feed_word(rc.feed_mm_per_min);
            self.end_line();
        }
        let end = moves[span.end - 1].to;
        self.pos = [
            Some(self.q(end.x)),
            Some(self.q(end.y)),
            Some(self.q(end.z)),
        ];
        *run = Some((rc, initial));
        true
    }
}

/// Millimetres as the header writes them (four decimals).
pub fn fmt_mm(v: f64) -> String {
    let s = format!("{v:.4}");
    if s == "-0.0000" { "0.0000".into() } else { s }
}

/// Writes a program for the sections, in order.
pub fn write_program(
    sections: &[Section<'_>],
    opts: &PostOptions,
    tol: &Tolerance,
) -> Result<Program, PostError> {
    write_program_with_subs(sections, &[], opts, tol)
}

/// [`write_program`] with subroutines defined after the header and before the preamble (so
/// LinuxCNC knows them before they are called); sections placed with [`Place::Call`] call
/// them.
pub fn write_program_with_subs(
    sections: &[Section<'_>],
    subs: &[SubBody<'_>],
    opts: &PostOptions,
    tol: &Tolerance,
) -> Result<Program, PostError> {
    check_inputs(sections, opts)?;
    let bodies: Vec<Section<'_>> = subs.iter().map(|b| b.section).collect();
    check_inputs(&bodies, opts)?;
    let capacity = sections
        .iter()
        .map(|s| s.toolpath.moves.len() * 40)
        .sum::<usize>()
        + 2048;
    let mut w = Writer {
        out: Vec::with_capacity(capacity),
        lines: Vec::new(),
        dec: opts.decimals,
        scale: 10f64.powi(opts.decimals as i32),
        pos: [None; 3],
        feed: None,
        src: None,
        opts,
        tol: *tol,
        arcs_written: 0,
        arcs_as_lines: 0,
        max_err: 0.0,
        coolant: Coolant::Off,
        wcs: opts.work_offset.code().to_string(),
        params: false,
        sub_lines: Vec::new(),
    };
    let clearance = w.header(sections);
    for b in subs {
        w.sub_body(b);
    }
    w.preamble(clearance);
    let mut machine = Machine::default();
    for (si, s) in sections.iter().enumerate() {
        w.src = None;
        if s.toolpath.moves.is_empty() {
            // Nothing to cut: no tool change, no spindle start for it.
            w.comment(&format!(
                "op {}: {} - no moves, nothing to cut",
                si + 1,
                s.name
            ));
            continue;
        }
        w.comment(&format!("op {}: {}", si + 1, s.name));
        w.tool_and_spindle(s, &mut machine, clearance);
        match s.place {
            Some(Place::WorkOffset(code)) => {
                w.work_offset_to(code, clearance);
                w.section_moves(si, s);
            }
            Some(Place::Call { sub, offset }) => {
                w.work_offset_to(opts.work_offset.code(), clearance);
                w.call(si, sub, offset);
            }
            None => {
                w.work_offset_to(opts.work_offset.code(), clearance);
                w.section_moves(si, s);
            }
        }
    }
    // The machine is left in the program's own work offset.
    w.work_offset_to(opts.work_offset.code(), clearance);
    w.ending(clearance);
    let text = String::from_utf8(w.out).expect("G-code is ASCII");
    let text = match opts.line_numbers {
        Some(step) => number_lines(&text, step),
        None => text,
    };
    Ok(Program {
        text,
        line_source: w.lines,
        arcs_written: w.arcs_written,
        arcs_as_lines: w.arcs_as_lines,
        max_arc_radius_error_mm: w.max_err,
        line_copy: Vec::new(),
        copies_in_offsets: false,
        sub_lines: w.sub_lines,
    })
}

/// Block numbers (`N10 `, `N20 `, …) in front of every block; comments and `%`/`O` lines stay as
/// they are, so each line keeps its place (and its source).
fn number_lines(text: &str, step: u32) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut n: u64 = 0;
    for line in text.lines() {
        if !(line.starts_with('(') || line.starts_with('%') || line.starts_with('O')) {
            n += u64::from(step);
            out.push('N');
            out.push_str(&n.to_string());
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The tool in the spindle and the spindle's speed, as the program has left them.
#[derive(Default)]
struct Machine {
    tool: Option<u32>,
    rpm: Option<f64>,
}

/// Refuses options out of range and moves that are not numbers or have no feed.
fn check_inputs(sections: &[Section<'_>], opts: &PostOptions) -> Result<(), PostError> {
    if !(3..=6).contains(&opts.decimals) {
        return Err(PostError::Decimals(opts.decimals));
    }
    for (name, v) in [
        ("arc_radius_tolerance_mm", opts.arc_radius_tolerance_mm),
        ("max_arc_radius_mm", opts.max_arc_radius_mm),
        ("rapid_mm_per_min", opts.rapid_mm_per_min),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(PostError::Option(format!(
                "{name} is {v}; it must be positive"
            )));
        }
    }
    if let Some(z) = opts.tool_change_z_mm
        && !z.is_finite()
    {
        return Err(PostError::Option(format!(
            "tool_change_z_mm is {z}; it must be a number of mm"
        )));
    }
    if let Some([x, y]) = opts.tool_change_xy_mm
        && !(x.is_finite() && y.is_finite())
    {
        return Err(PostError::Option(format!(
            "tool_change_xy_mm is [{x}, {y}]; it must be two numbers of mm"
        )));
    }
    if opts.program_number.is_some_and(|n| n == 0 || n > 9999) {
        return Err(PostError::Option(format!(
            "program_number is {}; use 1 to 9999",
            opts.program_number.unwrap_or_default()
        )));
    }
    if opts.line_numbers.is_some_and(|n| n == 0 || n > 1000) {
        return Err(PostError::Option(format!(
            "line_numbers step is {}; use 1 to 1000, or leave it out for none",
            opts.line_numbers.unwrap_or_default()
        )));
    }
    if !(opts.spindle_dwell_s.is_finite() && opts.spindle_dwell_s >= 0.0) {
        return Err(PostError::Option(format!(
            "spindle_dwell_s is {}; it must be zero or positive",
            opts.spindle_dwell_s
        )));
    }
    for (si, s) in sections.iter().enumerate() {
        for (mi, m) in s.toolpath.moves.iter().enumerate() {
            if !(m.to.x.is_finite() && m.to.y.is_finite() && m.to.z.is_finite()) {
                return Err(PostError::NotFinite { op: si, index: mi });
            }
            if !matches!(m.motion, Motion::Rapid)
                && m.feed_mm_per_min.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
            {
                return Err(PostError::NoFeed { op: si, index: mi });
            }
        }
    }
    Ok(())
}

impl Writer<'_> {
    /// The header: the job summary per operation and in total (no timestamps). Returns the
    /// clearance height the program starts and ends at.
    fn header(&mut self, sections: &[Section<'_>]) -> f64 {
        let opts = self.opts;
        let spec = opts.dialect.spec();
        // Header: job summary, no timestamps.
        let number = opts.program_number.unwrap_or(1);
        if spec.percent_and_number {
            self.raw("%");
            self.raw(&format!("O{number:04}"));
        }
        self.comment(&format!(
            "{} - Swarf {} - micro milling CAM",
            opts.title,
            env!("CARGO_PKG_VERSION")
        ));
        if !spec.percent_and_number && opts.program_number.is_some() {
            self.comment(&format!("program {number}"));
        }
        for line in opts.header_text.lines().filter(|l| !l.trim().is_empty()) {
            self.comment(line);
        }
        self.comment(&format!(
            "dialect {}, units mm, {} decimals, absolute",
            spec.name, opts.decimals
        ));
        if opts.dialect == Dialect::Fanuc
            && !opts.expand_cycles
            && sections.iter().any(|s| {
                s.toolpath
                    .cycles
                    .iter()
                    .any(|c| matches!(c.canned.kind, CycleKind::Peck | CycleKind::ChipBreak))
            })
        {
            self.comment(
                "G83/G73: the peck back-off is the control's own setting (parameters 5114/5115); \
                 Swarf simulated 0.254 mm as LinuxCNC does: check it before running",
            );
        }
        let clearance = sections
            .iter()
            .map(|s| s.toolpath.start.z)
            .fold(f64::NEG_INFINITY, f64::max);
        let clearance = if clearance.is_finite() {
            clearance
        } else {
            5.0
        };
        let mut total = Stats::default();
        let mut first = true;
        for (i, s) in sections.iter().enumerate() {
            let st = s.toolpath.stats(opts.rapid_mm_per_min);
            self.comment(&format!("op {}: {} - {}", i + 1, s.name, s.tool.describe()));
            if st.moves > 0 {
                self.comment(&format!(
                    "  bounds X {}..{} Y {}..{} Z {}..{} mm",
                    fmt_mm(st.bounds_min.x),
                    fmt_mm(st.bounds_max.x),
                    fmt_mm(st.bounds_min.y),
                    fmt_mm(st.bounds_max.y),
                    fmt_mm(st.bounds_min.z),
                    fmt_mm(st.bounds_max.z)
                ));
            }
            self.comment(&format!(
                "  {} moves, {} arcs, feed {} mm, rapid {} mm, about {:.0} s",
                st.moves,
                st.arcs,
                fmt_mm(st.feed_length_mm),
                fmt_mm(st.rapid_length_mm),
                st.estimated_seconds
            ));
            total.moves += st.moves;
            total.arcs += st.arcs;
            total.feed_length_mm += st.feed_length_mm;
            total.rapid_length_mm += st.rapid_length_mm;
            total.estimated_seconds += st.estimated_seconds;
            if first {
                total.bounds_min = st.bounds_min;
                total.bounds_max = st.bounds_max;
                first = false;
            }
        }
        self.comment(&format!(
            "total: {} moves, {} arcs, feed {} mm, rapid {} mm, about {:.0} s at programmed feeds",
            total.moves,
            total.arcs,
            fmt_mm(total.feed_length_mm),
            fmt_mm(total.rapid_length_mm),
            total.estimated_seconds
        ));
        clearance
    }

    /// Safe preamble: units, absolute, plane, then up to clearance before any XY move.
    fn preamble(&mut self, clearance: f64) {
        let spec = self.opts.dialect.spec();
        self.raw(&format!(
            "G21 G90 G17 {} {}",
            spec.modal_reset,
            self.opts.work_offset.code()
        ));
        let cz = self.q(clearance);
        self.out.extend_from_slice(b"G0");
        self.word(b'Z', cz);
        self.end_line();
        self.pos[2] = Some(cz);
    }

    /// A tool change when the section's tool is not the one in the spindle, and the spindle
    /// (with coolant and the spin-up dwell) when its speed changes. A change stops the spindle
    /// and goes up to the change height first. With a tool changer (`T… M6`, and `G43 H…` with
    /// length offsets) the controller does the rest; without one (GRBL) the program goes to the
    /// change position and stops with `M0` and a comment naming the tool to load, and the
    /// spindle starts again only after the operator resumes. The first tool is named in a
    /// comment for GRBL (it is loaded before the start).
    fn tool_and_spindle(&mut self, s: &Section<'_>, machine: &mut Machine, clearance: f64) {
        let opts = self.opts;
        let spec = opts.dialect.spec();
        if machine.tool != Some(s.tool.number) {
            let first = machine.tool.is_none();
            if machine.rpm.is_some() {
                self.raw("M5");
                self.coolant_to(Coolant::Off);
                machine.rpm = None;
            }
            if !first {
                let z = self.q(opts.tool_change_z_mm.unwrap_or(clearance));
                if self.pos[2] != Some(z) {
                    self.out.extend_from_slice(b"G0");
                    self.word(b'Z', z);
                    self.end_line();
                    self.pos[2] = Some(z);
                }
            }
            if spec.tool_change {
                self.raw(&format!("T{} M6", s.tool.number));
                if opts.tool_length_offsets {
                    self.raw(&format!("G43 H{}", s.tool.number));
                }
            } else if first {
                self.comment(&format!(
                    "tool {}: {} - load it before starting",
                    s.tool.number, s.tool.name
                ));
            } else {
                if let Some([x, y]) = opts.tool_change_xy_mm {
                    let z = self.pos[2].map_or(clearance, |q| self.val(q));
                    self.straight(b"G0", P3::new(x, y, z), None);
                }
                self.comment(&format!(
                    "TOOL CHANGE: load tool {}: {}, set its length, then resume",
                    s.tool.number, s.tool.name
                ));
                self.raw("M0");
                // The operator may have moved the machine during the stop (a jog, a tool
                // touched off): nothing is assumed after it. The tool goes up to the change
                // height before any other move, and the feed is written again.
                let z = self.q(opts.tool_change_z_mm.unwrap_or(clearance));
                self.out.extend_from_slice(b"G0");
                self.word(b'Z', z);
                self.end_line();
                self.pos = [None, None, Some(z)];
                self.feed = None;
            }
            machine.tool = Some(s.tool.number);
        }
        if machine.rpm != Some(s.tool.feeds.rpm) {
            self.raw(&format!("S{} M3", s.tool.feeds.rpm.round() as i64));
            self.coolant_to(s.coolant.unwrap_or(opts.coolant));
            let dwell = s.tool.spin_up_s.unwrap_or(opts.spindle_dwell_s);
            if dwell > 0.0 {
                self.dwell(dwell);
            }
            machine.rpm = Some(s.tool.feeds.rpm);
        }
        // Each operation's own coolant (mist for one, flood or none for another).
        self.coolant_to(s.coolant.unwrap_or(opts.coolant));
    }

    /// Switches the coolant to `c` if it is not that already (`M9` first when changing
    /// between mist and flood).
    fn coolant_to(&mut self, c: Coolant) {
        if self.coolant == c {
            return;
        }
        if self.coolant != Coolant::Off {
            self.raw("M9");
        }
        match c {
            Coolant::Off => {}
            Coolant::Mist => self.raw("M7"),
            Coolant::Flood => self.raw("M8"),
        }
        self.coolant = c;
    }

    /// The section's moves, each line remembering the move it comes from.
    fn section_moves(&mut self, si: usize, s: &Section<'_>) {
        let mut from = s.toolpath.start;
        if s.toolpath
            .moves
            .first()
            .is_some_and(|m| !matches!(m.motion, Motion::Rapid))
        {
            // Arcs need a known start: go to the toolpath's start first (above it at the
            // current height, then down to it).
            let z_now = self.pos[2].map_or(from.z, |q| self.val(q));
            self.straight(b"G0", P3::new(from.x, from.y, z_now.max(from.z)), None);
            self.straight(b"G0", from, None);
        }
        let moves = &s.toolpath.moves;
        let mut spans = s.toolpath.cycles.iter().peekable();
        let mut dwells = s.toolpath.dwells.iter().peekable();
        // The canned cycle in effect and the height its run of holes started at.
        let mut run: Option<(Canned, f64)> = None;
        let mut mi = 0;
        while mi < moves.len() {
            self.src = Some((si as u32, mi as u32));
            while spans.next_if(|sp| sp.first < mi).is_some() {}
            if let Some(sp) = spans.next_if(|sp| sp.first == mi && sp.end > mi)
                && self.canned(sp, moves, &mut run)
            {
                // The cycle's own dwell is in it.
                while dwells.next_if(|d| d.after < sp.end).is_some() {}
                from = moves[sp.end - 1].to;
                mi = sp.end;
                continue;
            }
            if run.take().is_some() {
                self.raw("G80");
            }
            let m = &moves[mi];
            match m.motion {
                Motion::Rapid => {
                    // Never move in XY below where we are before going up: rapids are
                    // generated retract-first already; write them as they are.
                    self.straight(b"G0", m.to, None);
                }
                Motion::Line => self.straight(b"G1", m.to, Some(m.feed_mm_per_min)),
                Motion::Arc { centre, ccw } => self.arc(from, m.to, centre, ccw, m.feed_mm_per_min),
            }
            from = m.to;
            mi += 1;
            while let Some(d) = dwells.next_if(|d| d.after <= mi) {
                self.dwell(d.seconds);
            }
        }
        if run.is_some() {
            self.raw("G80");
        }
    }

    /// Switches to work offset `code` when it is not the one in effect: up to clearance
    /// first, then the new offset, then clearance again in it (the copies' offsets share Z),
    /// with every coordinate written afresh after it.
    fn work_offset_to(&mut self, code: &str, clearance: f64) {
        if self.wcs == code {
            return;
        }
        let src = self.src.take();
        let cz = self.q(clearance);
        if self.pos[2] != Some(cz) {
            self.out.extend_from_slice(b"G0");
            self.word(b'Z', cz);
            self.end_line();
        }
        self.raw(code);
        self.pos = [None; 3];
        self.out.extend_from_slice(b"G0");
        self.word(b'Z', cz);
        self.end_line();
        self.pos[2] = Some(cz);
        self.wcs = code.to_string();
        self.src = src;
    }

    /// Back to clearance, spindle and coolant off, program end.
    fn ending(&mut self, clearance: f64) {
        let opts = self.opts;
        let spec = opts.dialect.spec();
        self.src = None;
        let cz = self.q(clearance);
        if self.pos[2] != Some(cz) {
            self.out.extend_from_slice(b"G0");
            self.word(b'Z', cz);
            self.end_line();
        }
        self.raw("M5");
        self.coolant_to(Coolant::Off);
        for line in opts.footer_text.lines().filter(|l| !l.trim().is_empty()) {
            self.comment(line);
        }
        self.raw(spec.program_end);
        if spec.percent_and_number {
            self.raw("%");
        }
    }
}

#[cfg(test)]
mod tests;
