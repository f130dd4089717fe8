//! A G-code reader for the dialects Swarf writes and plain RS274 from other programs: modal
//! state, G0/G1/G2/G3 with I J K or R, planes G17–G19, G20/G21, G90/G91, comments, line numbers,
//! dwells (G4 P seconds), and the drilling cycles G73/G81/G82/G83 with G98/G99, R, Q, P and L
//! as `LinuxCNC` runs them (expanded into moves by [`Canned::expand`]).
//! Arcs in G18/G19 are read as lines within the path tolerance (toolpaths are XY-arc based).
//! LinuxCNC subroutines as Swarf writes them for arrays (`O100 sub` … `O100 endsub`, `O100 call
//! [a] [b]`, words `X[#1+v]`) are run with their parameters; other O-words and expressions are
//! refused. Errors name the line.

use std::fmt::Write as _;

use crate::geometry::{Tolerance, V2};
use crate::toolpath::{Canned, CycleKind, MoveClass, P3, Toolpath};

/// A G-code line that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("gcode: line {line}: {problem}")]
pub struct GcodeError {
    pub line: usize,
    pub problem: String,
}

/// A program read back.
#[derive(Debug, Clone, Default)]
pub struct ParsedProgram {
    pub toolpath: Toolpath,
    /// The source line (1-based) of each move.
    pub line_of_move: Vec<u32>,
    /// For each move made inside a subroutine: the line (1-based) of the call; 0 elsewhere.
    pub call_of_move: Vec<u32>,
    pub warnings: Vec<String>,
}

/// One line to run: its number, its text (parameters substituted) and the call it runs in.
struct Step<'a> {
    line: usize,
    text: std::borrow::Cow<'a, str>,
    call: u32,
}

/// The lines in the order they run: subroutine definitions skipped where they stand, their
/// bodies run at each call with `#1`, `#2`, … replaced by the call's values. Only what Swarf
/// writes is read: one level of calls, `[#k+v]` / `[#k-v]` expressions.
fn run_order(text: &str) -> Result<Vec<Step<'_>>, GcodeError> {
    let lines: Vec<&str> = text.lines().collect();
    let word = |l: &str| -> Option<(u32, String)> {
        let t = l.trim();
        let rest = t.strip_prefix(['O', 'o'])?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n = digits.parse().ok()?;
        Some((n, rest[digits.len()..].trim().to_ascii_lowercase()))
    };
    // Where each subroutine's body is.
    let mut subs: std::collections::HashMap<u32, (usize, usize)> = std::collections::HashMap::new();
    let mut open: Option<(u32, usize)> = None;
    for (i, l) in lines.iter().enumerate() {
        let Some((n, what)) = word(l) else { continue };
        let err = |problem: String| GcodeError {
            line: i + 1,
            problem,
        };
        match what.split_whitespace().next().unwrap_or("") {
            "sub" => {
                if open.is_some() {
                    return Err(err("a subroutine inside a subroutine".into()));
                }
                open = Some((n, i + 1));
            }
            "endsub" => match open.take() {
                Some((m, start)) if m == n => {
                    subs.insert(n, (start, i));
                }
                _ => return Err(err(format!("O{n} endsub without its O{n} sub"))),
            },
            _ => {}
        }
    }
    if let Some((n, start)) = open {
        return Err(GcodeError {
            line: start,
            problem: format!("O{n} sub has no endsub"),
        });
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut skip_until: Option<usize> = None;
    for (i, l) in lines.iter().enumerate() {
        if let Some(end) = skip_until {
            if i <= end {
                continue;
            }
            skip_until = None;
        }
        let Some((n, what)) = word(l).filter(|(_, w)| !w.is_empty()) else {
            let code = strip_comments(l).unwrap_or(std::borrow::Cow::Borrowed(""));
            if code.contains('#') || code.contains('[') {
                return Err(GcodeError {
                    line: i + 1,
                    problem: "parameters and expressions are only read inside a subroutine".into(),
                });
            }
            out.push(Step {
                line: i + 1,
                text: std::borrow::Cow::Borrowed(l),
                call: 0,
            });
            continue;
        };
        let err = |problem: String| GcodeError {
            line: i + 1,
            problem,
        };
        let mut parts = what.splitn(2, char::is_whitespace);
        match parts.next().unwrap_or("") {
            "sub" => skip_until = subs.get(&n).map(|&(_, end)| end),
            "call" => {
                let (start, end) = *subs
                    .get(&n)
                    .ok_or_else(|| err(format!("O{n} call of a subroutine not defined")))?;
                let mut args = Vec::new();
                let mut rest = parts.next().unwrap_or("").trim();
                while let Some(r) = rest.strip_prefix('[') {
                    let close = r
                        .find(']')
                        .ok_or_else(|| err("a call's value without its ]".into()))?;
                    let v: f64 = r[..close]
                        .trim()
                        .parse()
                        .map_err(|_| err(format!("call value '{}'", &r[..close])))?;
                    args.push(v);
                    rest = r[close + 1..].trim();
                }
                if !rest.is_empty() {
                    return Err(err(format!("'{rest}' after the call's values")));
                }
                for (k, body) in lines.iter().enumerate().take(end).skip(start) {
                    let text = substitute(body, &args).map_err(|problem| GcodeError {
                        line: k + 1,
                        problem,
                    })?;
                    out.push(Step {
                        line: k + 1,
                        text: std::borrow::Cow::Owned(text),
                        call: (i + 1) as u32,
                    });
                }
            }
            other => {
                return Err(err(format!(
                    "O-word '{other}' (only sub, endsub and call are read)"
                )));
            }
        }
    }
    Ok(out)
}

/// `line` with each `[#k+v]` / `[#k-v]` (outside comments) replaced by its value.
fn substitute(line: &str, args: &[f64]) -> Result<String, String> {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    let mut depth = 0usize;
    while let Some(c) = rest.chars().next() {
        if c == '(' {
            depth += 1;
        } else if c == ')' {
            depth = depth.saturating_sub(1);
        }
        if c == '[' && depth == 0 {
            let close = rest
                .find(']')
                .ok_or_else(|| "an expression without its ]".to_string())?;
            let e = rest[1..close].replace(' ', "");
            let body = e
                .strip_prefix('#')
                .ok_or_else(|| format!("expression [{e}]: only [#k+v] is read"))?;
            let split = body
                .find(['+', '-'])
                .ok_or_else(|| format!("expression [{e}]: only [#k+v] is read"))?;
            let k: usize = body[..split]
                .parse()
                .map_err(|_| format!("expression [{e}]: parameter number"))?;
            let v: f64 = body[split..]
                .parse()
                .map_err(|_| format!("expression [{e}]: value"))?;
            let p = *args
                .get(k.wrapping_sub(1))
                .ok_or_else(|| format!("#{k} is not given by the call"))?;
            let _ = write!(out, "{:.9}", p + v);
            rest = &rest[close + 1..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Plane {
    Xy,
    Xz,
    Yz,
}

/// The reader's modal state: what stays in effect from line to line.
struct Modal {
    /// 0–3, or a canned cycle's G number (73, 81, 82, 83).
    motion: Option<u32>,
    plane: Plane,
    inch: bool,
    incremental: bool,
    /// mm/min.
    feed: f64,
    /// G98 (back to the initial height) rather than G99 (to R).
    retract_initial: bool,
    /// The cycle words that stay in effect, in the program's units: Z, R, Q, P.
    cycle_z: Option<f64>,
    cycle_r: Option<f64>,
    cycle_q: Option<f64>,
    cycle_p: Option<f64>,
    /// The height a run of cycles started at (mm), until another motion mode.
    initial_z: Option<f64>,
}

/// What one line says: its axis words, arc words, and whether it dwells or sets a motion.
#[derive(Default)]
struct Block {
    axes: [Option<f64>; 3],
    ijk: [Option<f64>; 3],
    r: Option<f64>,
    p: Option<f64>,
    q: Option<f64>,
    l: Option<f64>,
    dwell: bool,
    motion: Option<u32>,
}

/// Most moves the drilling cycles of one program may expand to (5 000 holes of 100 pecks are
/// 1.5 million): a few lines of cycles must not fill the memory.
const MAX_CYCLE_MOVES: usize = 10_000_000;

/// Reads a program. The machine starts at `start` (mm).
pub fn read_gcode(text: &str, start: P3, tol: &Tolerance) -> Result<ParsedProgram, GcodeError> {
    let mut out = ParsedProgram {
        toolpath: Toolpath::new(start),
        ..ParsedProgram::default()
    };
    let mut pos = start;
    let mut modal = Modal {
        motion: None,
        plane: Plane::Xy,
        inch: false,
        incremental: false,
        feed: 0.0,
        retract_initial: true,
        cycle_z: None,
        cycle_r: None,
        cycle_q: None,
        cycle_p: None,
        initial_z: None,
    };
    let mut unknown: Vec<String> = Vec::new();
    let mut words = Vec::with_capacity(8);
    let mut cycle_moves = 0usize;
    // Programs without O-word control (nearly all) are read line by line as they stand; the
    // others through `run_order`, which runs subroutines and names what it does not read.
    let has_subs = text.lines().any(|l| {
        let t = l.trim_start();
        (t.starts_with('O') || t.starts_with('o'))
            && t.split_whitespace()
                .nth(1)
                .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
    });
    let steps: Box<dyn Iterator<Item = Step<'_>>> = if has_subs {
        Box::new(run_order(text)?.into_iter())
    } else {
        Box::new(text.lines().enumerate().map(|(i, l)| Step {
            line: i + 1,
            text: std::borrow::Cow::Borrowed(l),
            call: 0,
        }))
    };
    for step in steps {
        let line = step.line;
        let raw: &str = &step.text;
        // Moves are attributed to the call they run in (see the pushes below).
        let call_now = step.call;
        let err = |problem: String| GcodeError { line, problem };
        let code = strip_comments(raw).map_err(|p| err(p.to_string()))?;
        let code = code.trim();
        if code.is_empty() || code.starts_with('%') || code.starts_with('/') {
            continue;
        }
        parse_words(code, &mut words).map_err(err)?;
        let block = read_block(&words, &mut modal, &mut unknown).map_err(err)?;
        if let Some(m) = block.motion {
            if m <= 3 || m == 80 {
                modal.initial_z = None;
            }
            modal.motion = (m != 80).then_some(m);
        }
        if block.dwell {
            // G4 P seconds (X seconds in Fanuc's form).
            let s = block.p.or(block.axes[0]).unwrap_or(0.0);
            if !(s.is_finite() && s >= 0.0) {
                return Err(err(format!("dwell of {s} s")));
            }
            out.toolpath.dwell(s);
            continue;
        }
        if let Some(g) = modal.motion.filter(|&m| m > 3) {
            if block.axes.iter().all(Option::is_none) && block.motion.is_none() {
                continue;
            }
            let before = out.toolpath.moves.len();
            pos = canned_cycle(g, &block, &mut modal, pos, &mut out.toolpath).map_err(err)?;
            for _ in before..out.toolpath.moves.len() {
                out.line_of_move.push(line as u32);
                out.call_of_move.push(call_now);
            }
            cycle_moves += out.toolpath.moves.len() - before;
            if cycle_moves > MAX_CYCLE_MOVES {
                return Err(err(format!(
                    "the drilling cycles so far make more than {MAX_CYCLE_MOVES} moves; check \
                     their Q, Z and L words"
                )));
            }
            continue;
        }
        if block.axes.iter().all(Option::is_none) {
            if block.motion.is_some_and(|m| m == 2 || m == 3) {
                return Err(err("arc without an end point".into()));
            }
            continue;
        }
        let Some(m) = modal.motion else {
            return Err(err(
                "coordinates without a motion mode (G0, G1, G2 or G3) in effect".into(),
            ));
        };
        let k = if modal.inch { 25.4 } else { 1.0 };
        let mut target = pos;
        for (i, a) in block.axes.iter().enumerate() {
            if let Some(v) = a {
                let v = v * k;
                let nv = if modal.incremental {
                    get(pos, i) + v
                } else {
                    v
                };
                set(&mut target, i, nv);
            }
        }
        if m >= 1 && modal.feed <= 0.0 {
            return Err(err("feed move before any feed rate (F)".into()));
        }
        let before = out.toolpath.moves.len();
        match m {
            0 => out.toolpath.rapid(target),
            1 => out.toolpath.line(target, MoveClass::Cut, modal.feed),
            _ => {
                let arc = Arc {
                    from: pos,
                    to: target,
                    cw: m == 2,
                    plane: modal.plane,
                };
                let centre = arc.centre(&block, k).map_err(err)?;
                arc.push(&mut out.toolpath, centre, modal.feed, tol)
                    .map_err(err)?;
            }
        }
        for _ in before..out.toolpath.moves.len() {
            out.line_of_move.push(line as u32);
            out.call_of_move.push(call_now);
        }
        pos = target;
    }
    if !unknown.is_empty() {
        out.warnings.push(format!(
            "gcode: ignored modal codes without motion: {}",
            unknown.join(", ")
        ));
    }
    Ok(out)
}

/// One line in a canned-cycle mode: the cycle at the line's X Y (L times), as `LinuxCNC` runs
/// it in the XY plane. Returns where the tool ends.
fn canned_cycle(
    g: u32,
    b: &Block,
    modal: &mut Modal,
    pos: P3,
    tp: &mut Toolpath,
) -> Result<P3, String> {
    let kind = CycleKind::from_code(g).ok_or_else(|| format!("G{g} is not a drilling cycle"))?;
    if modal.plane != Plane::Xy {
        return Err(format!(
            "G{g}: drilling cycles are read in the XY plane (G17) only"
        ));
    }
    let k = if modal.inch { 25.4 } else { 1.0 };
    let new_cycle = b.motion.is_some();
    if let Some(z) = b.axes[2] {
        modal.cycle_z = Some(z);
    }
    if let Some(r) = b.r {
        modal.cycle_r = Some(r);
    }
    if let Some(q) = b.q {
        modal.cycle_q = Some(q);
    }
    if let Some(p) = b.p {
        modal.cycle_p = Some(p);
    }
    let (Some(z), Some(r)) = (modal.cycle_z, modal.cycle_r) else {
        return Err(format!(
            "G{g} needs a Z word (the bottom) and an R word (the retract plane)"
        ));
    };
    if new_cycle && b.axes[2].is_none() {
        return Err(format!("G{g} needs a Z word when the cycle starts"));
    }
    let q = modal.cycle_q.unwrap_or(0.0);
    if kind.code() == 83 || kind.code() == 73 {
        if modal.cycle_q.is_none() {
            return Err(format!("G{g} without a peck increment Q"));
        }
        if !(q.is_finite() && q > 0.0) {
            return Err(format!("G{g}: Q{q} must be positive"));
        }
    }
    let dwell = modal.cycle_p.unwrap_or(0.0);
    if kind == CycleKind::DrillDwell && modal.cycle_p.is_none() {
        return Err("G82 without a dwell time P".into());
    }
    if modal.feed <= 0.0 {
        return Err("drilling cycle before any feed rate (F)".into());
    }
    let repeats = match b.l {
        None => 1,
        Some(l) if l >= 1.0 && l.fract() == 0.0 && l <= 10_000.0 => l as usize,
        Some(l) => {
            return Err(format!(
                "L{l}: the repeat count must be a whole number 1 to 10000"
            ));
        }
    };
    let initial = *modal.initial_z.get_or_insert(pos.z);
    let (r_z, bottom_z) = if modal.incremental {
        (r * k + initial, r * k + initial + z * k)
    } else {
        (r * k, z * k)
    };
    if r_z < bottom_z {
        return Err(format!(
            "G{g}: the retract plane R ({r_z:.4} mm) is below the bottom Z ({bottom_z:.4} mm)"
        ));
    }
    // A program is checked, not run: a cycle that would make millions of moves is refused.
    let pecks = if q > 0.0 && (kind == CycleKind::Peck || kind == CycleKind::ChipBreak) {
        ((r_z - bottom_z) / (q * k)).ceil()
    } else {
        1.0
    };
    if pecks * repeats as f64 > 1.0e6 {
        return Err(format!(
            "G{g}: {pecks} pecks of Q{q} over {:.4} mm, {repeats} time(s): more than a million \
             moves; check Q and Z",
            r_z - bottom_z
        ));
    }
    let mut at = pos.xy();
    for _ in 0..repeats {
        for (i, v) in [b.axes[0], b.axes[1]].into_iter().enumerate() {
            if let Some(v) = v {
                let v = v * k;
                let c = if modal.incremental {
                    get(P3::new(at.x, at.y, 0.0), i) + v
                } else {
                    v
                };
                if i == 0 {
                    at.x = c;
                } else {
                    at.y = c;
                }
            }
        }
        let c = Canned {
            kind,
            at,
            bottom_z,
            r_z,
            q_mm: q * k,
            dwell_s: dwell,
            return_to_initial: modal.retract_initial,
            feed_mm_per_min: modal.feed,
        };
        c.expand(tp, initial);
    }
    Ok(tp.end())
}

fn get(p: P3, i: usize) -> f64 {
    [p.x, p.y, p.z][i]
}

fn set(p: &mut P3, i: usize, v: f64) {
    match i {
        0 => p.x = v,
        1 => p.y = v,
        _ => p.z = v,
    }
}

/// The words of one line: modal codes change `modal`, the rest is the line's block. Codes
/// without motion that the reader does not know are collected in `unknown`.
fn read_block(
    words: &[(char, f64)],
    modal: &mut Modal,
    unknown: &mut Vec<String>,
) -> Result<Block, String> {
    let mut b = Block::default();
    for &(letter, value) in words {
        match letter {
            'G' => {
                let g = (value * 10.0).round() as i64;
                match g {
                    0 | 10 | 20 | 30 | 730 | 810 | 820 | 830 | 800 => {
                        b.motion = Some((g / 10) as u32);
                    }
                    980 => modal.retract_initial = true,
                    990 => modal.retract_initial = false,
                    40 => b.dwell = true,
                    170 => modal.plane = Plane::Xy,
                    180 => modal.plane = Plane::Xz,
                    190 => modal.plane = Plane::Yz,
                    200 => modal.inch = true,
                    210 => modal.inch = false,
                    900 => modal.incremental = false,
                    910 => modal.incremental = true,
                    // Cutter compensation, length offsets, feed mode, path control, work
                    // offsets: no motion of their own.
                    400 | 490 | 940 | 610 | 640 | 540..=590 | 911 | 901 => {}
                    _ => {
                        let s = format!("G{value}");
                        if !unknown.contains(&s) {
                            unknown.push(s);
                        }
                    }
                }
            }
            'X' => b.axes[0] = Some(value),
            'Y' => b.axes[1] = Some(value),
            'Z' => b.axes[2] = Some(value),
            'I' => b.ijk[0] = Some(value),
            'J' => b.ijk[1] = Some(value),
            'K' => b.ijk[2] = Some(value),
            'R' => b.r = Some(value),
            'F' => {
                if !(value.is_finite() && value > 0.0) {
                    return Err(format!("feed F{value} must be positive"));
                }
                modal.feed = value * if modal.inch { 25.4 } else { 1.0 };
            }
            'P' => b.p = Some(value),
            'Q' => b.q = Some(value),
            'L' => b.l = Some(value),
            // Spindle, tools, M codes, line numbers, program numbers.
            'S' | 'T' | 'M' | 'N' | 'O' | 'H' | 'D' | 'E' | 'A' | 'B' | 'C' | 'U' | 'V' | 'W' => {}
            other => return Err(format!("unknown word '{other}{value}'")),
        }
    }
    Ok(b)
}

/// An arc move of one line, in its plane.
struct Arc {
    from: P3,
    to: P3,
    cw: bool,
    plane: Plane,
}

impl Arc {
    /// The plane's (first, second) axes.
    fn axes(&self) -> (usize, usize) {
        match self.plane {
            Plane::Xy => (0, 1),
            Plane::Xz => (2, 0),
            Plane::Yz => (1, 2),
        }
    }

    /// Start and end in the plane's coordinates.
    fn ends(&self) -> (V2, V2) {
        let (a0, a1) = self.axes();
        (
            V2::new(get(self.from, a0), get(self.from, a1)),
            V2::new(get(self.to, a0), get(self.to, a1)),
        )
    }

    /// The centre from the R word or the I/J/K words (`k`: mm per unit).
    fn centre(&self, b: &Block, k: f64) -> Result<V2, String> {
        let (a0, a1) = self.axes();
        let (s, e) = self.ends();
        if let Some(r) = b.r {
            return centre_from_r(s, e, r * k, !self.cw).ok_or_else(|| {
                format!("arc radius R{r} is too small for the distance between its ends")
            });
        }
        if b.ijk[a0].is_none() && b.ijk[a1].is_none() {
            return Err("arc without I/J/K or R".into());
        }
        Ok(s + V2::new(b.ijk[a0].unwrap_or(0.0) * k, b.ijk[a1].unwrap_or(0.0) * k))
    }

    /// Appends the arc: XY arcs as arcs (a full circle as two halves, toolpath arcs being less
    /// than a turn), arcs in the other planes as chords within the path tolerance. Start and
    /// end radius must agree within the reader's limit.
    fn push(
        &self,
        tp: &mut Toolpath,
        centre: V2,
        feed: f64,
        tol: &Tolerance,
    ) -> Result<(), String> {
        let (s, e) = self.ends();
        let (pos, target, cw) = (self.from, self.to, self.cw);
        let r0 = s.dist(centre);
        let r1 = e.dist(centre);
        if (r0 - r1).abs() > tol.read_arc_radius_mm.max(0.001 * r0) {
            return Err(format!(
                "arc start and end radius differ by {:.6} mm",
                (r0 - r1).abs()
            ));
        }
        if self.plane == Plane::Xy {
            if s == e {
                let mid = centre + (s - centre) * -1.0;
                let zm = 0.5 * (pos.z + target.z);
                tp.arc(P3::new(mid.x, mid.y, zm), centre, !cw, MoveClass::Cut, feed);
            }
            tp.arc(target, centre, !cw, MoveClass::Cut, feed);
            return Ok(());
        }
        let mut sweep = crate::toolpath::arc_sweep(s, e, centre, !cw);
        if s == e {
            sweep = if cw {
                -std::f64::consts::TAU
            } else {
                std::f64::consts::TAU
            };
        }
        let n = crate::geometry::bulge::arc_chords(r0, sweep, tol.path_mm);
        let a_start = (s - centre).angle();
        let (a0, a1) = self.axes();
        for j in 1..=n {
            let f = j as f64 / n as f64;
            let q = centre + V2::from_angle(a_start + sweep * f) * r0;
            let mut p = P3::new(
                pos.x + (target.x - pos.x) * f,
                pos.y + (target.y - pos.y) * f,
                pos.z + (target.z - pos.z) * f,
            );
            set(&mut p, a0, q.x);
            set(&mut p, a1, q.y);
            tp.line(if j == n { target } else { p }, MoveClass::Cut, feed);
        }
        Ok(())
    }
}

/// Centre of the arc of radius `r` from `s` to `e` (R format: negative R means more than 180°).
fn centre_from_r(s: V2, e: V2, r: f64, ccw: bool) -> Option<V2> {
    let d = e - s;
    let half = d.length() * 0.5;
    let ra = r.abs();
    if half > ra * (1.0 + 1e-9) || half == 0.0 {
        return None;
    }
    let h = (ra * ra - half * half).max(0.0).sqrt();
    let n = d.normalized().perp();
    // Short arc (R > 0): the centre is left of s→e for counter-clockwise arcs.
    let side = if (r > 0.0) == ccw { 1.0 } else { -1.0 };
    Some((s + e) * 0.5 + n * (h * side))
}

/// Removes `( … )` and `; …` comments; unbalanced parentheses are errors.
fn strip_comments(line: &str) -> Result<std::borrow::Cow<'_, str>, &'static str> {
    // Most lines have no comment: read in place.
    if !line.bytes().any(|b| matches!(b, b'(' | b')' | b';')) {
        return Ok(std::borrow::Cow::Borrowed(line));
    }
    let mut out = String::with_capacity(line.len());
    let mut depth = 0;
    for c in line.chars() {
        match c {
            '(' => {
                if depth > 0 {
                    return Err("nested '(' in a comment");
                }
                depth += 1;
            }
            ')' => {
                if depth == 0 {
                    return Err("')' without '('");
                }
                depth -= 1;
            }
            ';' if depth == 0 => break,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    if depth != 0 {
        return Err("comment '(' not closed on its line");
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Letter–number words, into `words` (cleared first).
fn parse_words(code: &str, words: &mut Vec<(char, f64)>) -> Result<(), String> {
    read_words(code, words, false)
}

/// [`parse_words`]; `compacted` when `code` has had its spaces taken out already.
fn read_words(code: &str, words: &mut Vec<(char, f64)>, compacted: bool) -> Result<(), String> {
    words.clear();
    // Spaces may stand anywhere in RS274, even inside a number ("X 1 . 5"). Spaces between
    // words (all of ours) are skipped in place; a line with one inside a word is read again
    // without its spaces.
    let b = code.as_bytes();
    let number_byte = |c: u8| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+');
    let mut i = 0;
    let skip = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip(&mut i);
        if i >= b.len() {
            return Ok(());
        }
        let letter = char::from(b[i]).to_ascii_uppercase();
        if !letter.is_ascii_alphabetic() {
            let c = code[i..].chars().next().unwrap_or('?');
            return Err(format!("expected a word letter, found '{c}'"));
        }
        i += 1;
        let start = i;
        while i < b.len() && number_byte(b[i]) {
            i += 1;
        }
        let end = i;
        skip(&mut i);
        if !compacted && (start == end || (i < b.len() && number_byte(b[i]))) {
            // A space inside the word (or between letter and number): read again without
            // spaces (where a letter without a number is an error).
            let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            return read_words(&compact, words, true);
        }
        words.push((letter, word_value(letter, &code[start..end])?));
    }
}

fn word_value(letter: char, num: &str) -> Result<f64, String> {
    let v: f64 = num
        .parse()
        .map_err(|_| format!("word '{letter}' has no valid number ('{num}')"))?;
    if !v.is_finite() {
        return Err(format!("word '{letter}{num}' is not a finite number"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolpath::Motion;

    #[test]
    fn reads_modal_state_arcs_and_units() {
        let p = read_gcode(
            "%\n(header)\nG21 G90 G17\nG0 Z5\nX1 Y0\nG1 Z-0.1 F100 ; comment\nG3 X-1 Y0 I-1 J0\nG2 X1 R1\nG91 G1 X1\nG90 G20 G1 X1\nG21 G18 G2 X26.4 Z-1.1 I0 K-1\n",
            P3::default(),
            &Tolerance::default(),
        )
        .unwrap();
        let m = &p.toolpath.moves;
        assert!(matches!(m[0].motion, Motion::Rapid));
        assert_eq!(m[1].to, P3::new(1.0, 0.0, 5.0));
        assert!(matches!(m[3].motion, Motion::Arc { ccw: true, .. }));
        let Motion::Arc { centre, ccw } = m[4].motion else {
            panic!()
        };
        assert!(!ccw && centre.dist(V2::new(0.0, 0.0)) < 1e-12, "{centre:?}");
        assert_eq!(m[5].to.x, 2.0);
        assert!((m[6].to.x - 25.4).abs() < 1e-12);
        assert_eq!(p.line_of_move[0], 4);
        assert!(p.line_of_move.contains(&11));
    }

    #[test]
    fn subroutines_run_at_each_call_with_their_parameters() {
        let t = Tolerance::default();
        let prog = "(two copies)\nO100 sub\nG0 Z5\nG0 X[#1+1] Y[#2-0.5]\nG1 Z-0.1 F100\nG1 X[#1+2]\nO100 endsub\nG21 G90\nO100 call [0] [0]\nO100 call [10] [3]\nM2\n";
        let p = read_gcode(prog, P3::new(0.0, 0.0, 0.0), &t).unwrap();
        let ends: Vec<[f64; 3]> = p
            .toolpath
            .moves
            .iter()
            .map(|m| [m.to.x, m.to.y, m.to.z])
            .collect();
        assert_eq!(ends.len(), 8);
        assert_eq!(ends[3], [2.0, -0.5, -0.1]);
        assert_eq!(ends[7], [12.0, 2.5, -0.1]);
        // Each move names its body line and the call it ran in.
        assert_eq!(p.line_of_move[5], 4);
        assert_eq!(p.call_of_move[5], 10);
        assert_eq!(p.call_of_move[1], 9);
        let bad = |text: &str| read_gcode(text, P3::default(), &t).unwrap_err();
        assert_eq!(bad("O1 sub\nG0 X1\n").line, 1);
        assert!(bad("O7 call [1]\n").problem.contains("not defined"));
        assert_eq!(bad("G0 X[#1+1]\n").line, 1);
        let e = bad("O1 sub\nO1 endsub\nG0 X[#1+1]\n");
        assert!(e.problem.contains("only read inside a subroutine"), "{e}");
        let e = bad("O1 sub\nG0 X[#1*2]\nO1 endsub\nO1 call [1]\n");
        assert_eq!(e.line, 2);
        let e = bad("O1 sub\nG0 X[#2+1]\nO1 endsub\nO1 call [1]\n");
        assert!(e.problem.contains("#2"), "{e}");
        assert!(bad("O1 while [1]\n").problem.contains("while"));
        // A program number is a program number.
        assert!(read_gcode("O0001\nG0 X1\n", P3::default(), &t).is_ok());
    }

    #[test]
    fn errors_name_the_line() {
        let e = |t: &str| read_gcode(t, P3::default(), &Tolerance::default()).unwrap_err();
        assert_eq!(e("G0 X1\nG1 X2\n").line, 2);
        assert!(
            e("G0 X1\nG1 X2 F100\nG2 X3 Y0 I5 J0\n")
                .problem
                .contains("radius differ")
        );
        assert!(e("G1 X(1\n").problem.contains("not closed"));
        assert!(
            e("G1 X1 F100\nG1 Xabc\n")
                .problem
                .contains("no valid number")
        );
        assert_eq!(e("G1 X1 F100\nG1 X1 F-2\n").line, 2);
        assert!(e("X1\n").problem.contains("motion mode"));
    }

    /// RS274 allows spaces anywhere, even inside a number; lines with spaces only between
    /// words are read in place, the others without their spaces: both the same.
    #[test]
    fn spaces_inside_words_read_like_none() {
        let read = |t: &str| read_gcode(t, P3::default(), &Tolerance::default()).unwrap();
        let a = read("G1 X1.5 Y-2 Z0.25 F100\ng2x3y-2i.75j0\n");
        let b = read("G 1 X 1 . 5 Y- 2 Z0.2 5F10 0\nG2 X3 Y -2 I 0.75 J0\n");
        assert_eq!(a.toolpath.moves, b.toolpath.moves);
        assert_eq!(a.toolpath.moves[0].to, P3::new(1.5, -2.0, 0.25));
    }

    /// Cycles from another CAM: incremental mode, repeats, G98, modal X Y lines, G80, and the
    /// errors a controller gives.
    #[test]
    fn drilling_cycles_read_as_linuxcnc_runs_them() {
        let read = |t: &str| read_gcode(t, P3::new(0.0, 0.0, 5.0), &Tolerance::default());
        // G98 returns to the initial 5 mm; the second hole is one modal X line.
        let p = read("G90 G98 G81 X1 Y1 Z-1 R0.5 F100\nX2\nG80\nG0 X0 Y0\n").unwrap();
        let zs: Vec<(f64, f64, f64)> = p
            .toolpath
            .moves
            .iter()
            .map(|m| (m.to.x, m.to.y, m.to.z))
            .collect();
        assert_eq!(
            zs,
            vec![
                (1.0, 1.0, 5.0),
                (1.0, 1.0, 0.5),
                (1.0, 1.0, -1.0),
                (1.0, 1.0, 5.0),
                (2.0, 1.0, 5.0),
                (2.0, 1.0, 0.5),
                (2.0, 1.0, -1.0),
                (2.0, 1.0, 5.0),
                (0.0, 0.0, 5.0),
            ]
        );
        // G91 with L3: three holes 1 mm apart, R and Z incremental from the initial height.
        let p = read("G91 G99 G81 X1 Y0 Z-2 R-4 L3 F100\n").unwrap();
        let bottoms: Vec<(f64, f64)> = p
            .toolpath
            .moves
            .iter()
            .filter(|m| !matches!(m.motion, crate::toolpath::Motion::Rapid))
            .map(|m| (m.to.x, m.to.z))
            .collect();
        assert_eq!(bottoms, vec![(1.0, -1.0), (2.0, -1.0), (3.0, -1.0)]);
        // G82's dwell is kept; G4 too.
        let p = read("G82 X1 Y1 Z-1 R0.5 P0.5 F100\nG80\nG4 P1.5\n").unwrap();
        assert!((p.toolpath.dwell_seconds() - 2.0).abs() < 1e-12);
        // Errors a controller gives, named.
        let e = |t: &str| read(t).unwrap_err();
        assert!(
            e("G83 X1 Y1 Z-1 R0.5 F100\n")
                .problem
                .contains("peck increment Q")
        );
        assert!(
            e("G81 X1 Y1 Z1 R0.5 F100\n")
                .problem
                .contains("below the bottom")
        );
        assert!(e("G81 X1 Y1 R0.5 F100\n").problem.contains("Z word"));
        assert!(e("G82 X1 Y1 Z-1 R0.5 F100\n").problem.contains("dwell"));
        assert!(
            e("G83 X1 Y1 Z-100 R0 Q0.00001 F100\n")
                .problem
                .contains("million")
        );
        assert!(e("G18 G81 X1 Y1 Z-1 R0.5 F100\n").problem.contains("G17"));
        assert_eq!(e("G0 X1\nG81 X1 Y1 Z-1 R0.5\n").line, 2);
    }
}
