//! Gerber (RS-274X, X2) reader: copper, mask and outline layers into Swarf regions, arcs kept
//! as arcs.
//!
//! Written by hand after checking `gerber_parser` 0.4 (with `gerber-types`) against the corpus
//! boards: it reads line by line (a Gerber statement ends with `*`, not with a line), refuses
//! the deprecated but still common forms that four of the six corpus boards use (`G54D10`,
//! `G70`, `%LN…%`, coordinates carrying their `G02` on the same line, modal coordinates
//! without `D01`), and panics on short or malformed lines (`&line[3..]`, unchecked macro
//! parameter counts). A reader that a fuzzed or damaged file cannot crash and that names the
//! line of every problem is small enough to own.
//!
//! The image is built as Gerber defines it: each flash, draw and region is a shape painted in
//! file order with the current polarity (dark adds, clear removes), then
//! [`paint`](crate::geometry::paint::paint) turns the shapes into regions.

use std::collections::{BTreeMap, HashMap};
use std::f64::consts::{PI, TAU};

use cavalier_contours::polyline::{PlineCreation, PlineSource, PlineSourceMut, PlineVertex};

use super::dxf::{Drawing, Layer};
use super::units::Units;
use crate::geometry::paint::{Shape, arc_sweep, arc_verts, circle, paint, pline_of, stadium};
use crate::geometry::{Affine2, Bbox2, Pline, Region, Tolerance, V2, nest_loops, pline_bbox};

/// Why a Gerber file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum GerberError {
    #[error("gerber: line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("gerber: {0}")]
    File(String),
}

/// Shapes per file at most (a board has tens of thousands; a corrupt file must not exhaust
/// memory).
const MAX_SHAPES: usize = 2_000_000;
/// Coordinates beyond this are refused, mm (as the other readers).
const MAX_COORD_MM: f64 = 1.0e6;

/// What a Gerber layer is for, from `%TF.FileFunction` or the file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    Copper,
    SolderMask,
    /// The board's outline (profile): its drawn lines are the board's edge.
    Outline,
    Other,
}

/// Whether bytes look like a Gerber file: a format (`%FS`) or unit (`%MO`) statement, or
/// `G04` comments and `D0n` operations, near the start.
pub fn looks_like_gerber(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_uppercase();
    head.contains("%FS") || head.contains("%MO") || (head.contains("G04") && head.contains("D0"))
}

/// One statement: its text (without `*`) and the line it starts on.
#[derive(Debug, Clone)]
struct Stmt {
    text: String,
    line: usize,
}

/// The file's statements: plain ones, and the `%…%` blocks (several statements each).
enum Item {
    Word(Stmt),
    Block(Vec<Stmt>),
}

fn lex(text: &str) -> Result<Vec<Item>, GerberError> {
    let mut items = Vec::new();
    let mut line = 1usize;
    let mut cur = String::new();
    let mut cur_line = 0usize;
    let mut block: Option<Vec<Stmt>> = None;
    for ch in text.chars() {
        match ch {
            '\n' => {
                line += 1;
                continue;
            }
            '\r' => continue,
            '%' => {
                if let Some(b) = block.take() {
                    if !cur.trim().is_empty() {
                        return Err(GerberError::Line {
                            line,
                            problem: format!(
                                "'{}' in a %…% block lacks its closing '*'",
                                cur.trim()
                            ),
                        });
                    }
                    cur.clear();
                    items.push(Item::Block(b));
                } else {
                    if !cur.trim().is_empty() {
                        return Err(GerberError::Line {
                            line,
                            problem: format!("'{}' lacks its closing '*'", cur.trim()),
                        });
                    }
                    cur.clear();
                    block = Some(Vec::new());
                }
                continue;
            }
            '*' => {
                let t = std::mem::take(&mut cur);
                let t = t.trim();
                let s = Stmt {
                    text: t.to_string(),
                    line: cur_line.max(1),
                };
                if let Some(b) = block.as_mut() {
                    if !t.is_empty() {
                        b.push(s);
                    }
                } else if !t.is_empty() {
                    items.push(Item::Word(s));
                }
                continue;
            }
            _ => {}
        }
        if cur.is_empty() {
            if ch.is_whitespace() {
                continue;
            }
            cur_line = line;
        }
        if cur.len() > 65_536 {
            return Err(GerberError::Line {
                line: cur_line,
                problem: "statement longer than 64 KiB without '*'; is this a Gerber file?".into(),
            });
        }
        cur.push(ch);
    }
    if block.is_some() {
        return Err(GerberError::Line {
            line,
            problem: "a %…% block is not closed by '%' before the end of the file".into(),
        });
    }
    if !cur.trim().is_empty() && !cur.trim().eq_ignore_ascii_case("M02") {
        return Err(GerberError::Line {
            line: cur_line,
            problem: format!("'{}' at the end lacks its closing '*'", cur.trim()),
        });
    }
    Ok(items)
}

// ---------------------------------------------------------------------------------------
// Aperture macros: expressions and primitives.

#[derive(Debug, Clone)]
enum Expr {
    Num(f64),
    Var(usize),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
}

impl Expr {
    fn eval(&self, vars: &HashMap<usize, f64>) -> f64 {
        match self {
            Expr::Num(v) => *v,
            Expr::Var(n) => vars.get(n).copied().unwrap_or(0.0),
            Expr::Neg(e) => -e.eval(vars),
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval(vars), b.eval(vars));
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    'x' => a * b,
                    _ => {
                        if b == 0.0 {
                            0.0
                        } else {
                            a / b
                        }
                    }
                }
            }
        }
    }
}

struct ExprParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl ExprParser<'_> {
    fn parse(text: &str) -> Result<Expr, String> {
        let mut p = ExprParser {
            s: text.as_bytes(),
            i: 0,
        };
        let e = p.sum(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("cannot read the expression '{text}'"));
        }
        Ok(e)
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn sum(&mut self, depth: usize) -> Result<Expr, String> {
        let mut a = self.product(depth)?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let b = self.product(depth)?;
            a = Expr::Bin(c as char, Box::new(a), Box::new(b));
        }
        Ok(a)
    }
    fn product(&mut self, depth: usize) -> Result<Expr, String> {
        let mut a = self.unary(depth)?;
        while let Some(c @ (b'x' | b'X' | b'/')) = self.peek() {
            self.i += 1;
            let b = self.unary(depth)?;
            let op = if c == b'/' { '/' } else { 'x' };
            a = Expr::Bin(op, Box::new(a), Box::new(b));
        }
        Ok(a)
    }
    fn unary(&mut self, depth: usize) -> Result<Expr, String> {
        if depth > 64 {
            return Err("expression nested too deeply".into());
        }
        match self.peek() {
            Some(b'-') => {
                self.i += 1;
                Ok(Expr::Neg(Box::new(self.unary(depth + 1)?)))
            }
            Some(b'+') => {
                self.i += 1;
                self.unary(depth + 1)
            }
            Some(b'(') => {
                self.i += 1;
                let e = self.sum(depth + 1)?;
                if self.peek() != Some(b')') {
                    return Err("a '(' without its ')'".into());
                }
                self.i += 1;
                Ok(e)
            }
            Some(b'$') => {
                self.i += 1;
                let st = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let n: usize = std::str::from_utf8(&self.s[st..self.i])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .filter(|n| (1..10_000).contains(n))
                    .ok_or("a '$' without a variable number")?;
                Ok(Expr::Var(n))
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let st = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[st..self.i]).unwrap_or("");
                t.parse()
                    .map(Expr::Num)
                    .map_err(|_| format!("'{t}' is not a number"))
            }
            _ => Err("an expression is missing a number".into()),
        }
    }
}

#[derive(Debug, Clone)]
enum MacroStmt {
    Var(usize, Expr),
    Prim(u32, Vec<Expr>, usize),
}

#[derive(Debug, Clone)]
struct Macro {
    body: Vec<MacroStmt>,
}

fn parse_macro(stmts: &[Stmt]) -> Result<(String, Macro), GerberError> {
    let name = stmts[0].text[2..].trim().to_string();
    let mut body = Vec::new();
    for s in &stmts[1..] {
        let t = s.text.trim();
        let err = |problem: String| GerberError::Line {
            line: s.line,
            problem: format!("aperture macro {name}: {problem}"),
        };
        if t.starts_with('0') && (t.len() == 1 || !t.as_bytes()[1].is_ascii_digit()) {
            continue; // a comment primitive
        }
        if let Some(rest) = t.strip_prefix('$') {
            let (n, e) = rest
                .split_once('=')
                .ok_or_else(|| err(format!("'{t}' is neither a primitive nor $n=…")))?;
            let n: usize = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..10_000).contains(n))
                .ok_or_else(|| err(format!("bad variable in '{t}'")))?;
            body.push(MacroStmt::Var(n, ExprParser::parse(e).map_err(err)?));
            continue;
        }
        let mut parts = t.split(',');
        let code: u32 = parts
            .next()
            .and_then(|c| c.trim().parse().ok())
            .ok_or_else(|| err(format!("'{t}' does not start with a primitive code")))?;
        let args = parts
            .map(ExprParser::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        body.push(MacroStmt::Prim(code, args, s.line));
    }
    Ok((name, Macro { body }))
}

// ---------------------------------------------------------------------------------------
// Shapes of apertures and draws (at the origin, mm).

fn polygon_pts(pts: &[V2]) -> Pline {
    let mut p = Pline::with_capacity(pts.len(), true);
    for q in pts {
        p.add(q.x, q.y, 0.0);
    }
    p
}

fn rect(c: V2, w: f64, h: f64) -> Pline {
    polygon_pts(&[
        V2::new(c.x - w / 2.0, c.y - h / 2.0),
        V2::new(c.x + w / 2.0, c.y - h / 2.0),
        V2::new(c.x + w / 2.0, c.y + h / 2.0),
        V2::new(c.x - w / 2.0, c.y + h / 2.0),
    ])
}

/// The convex hull of points (monotone chain), counter-clockwise.
fn hull(mut pts: Vec<V2>) -> Vec<V2> {
    pts.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup_by(|a, b| a.dist(*b) < 1e-12);
    if pts.len() < 3 {
        return pts;
    }
    let mut h: Vec<V2> = Vec::new();
    for pass in 0..2 {
        let start = h.len();
        let it: Box<dyn Iterator<Item = &V2>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in it {
            while h.len() >= start + 2 {
                let (a, b) = (h[h.len() - 2], h[h.len() - 1]);
                if (b - a).cross(p - a) <= 0.0 {
                    h.pop();
                } else {
                    break;
                }
            }
            h.push(p);
        }
        h.pop();
    }
    h
}

/// A similarity transform of a loop (mirroring flips its arcs).
fn transformed(p: &Pline, t: &Affine2) -> Pline {
    let flip = t.is_mirroring();
    let mut q = Pline::with_capacity(p.vertex_count(), true);
    for v in p.iter_vertexes() {
        let a = t.apply(V2::new(v.x, v.y));
        q.add(a.x, a.y, if flip { -v.bulge } else { v.bulge });
    }
    q
}

#[derive(Debug, Clone)]
enum Aperture {
    Circle {
        d: f64,
        hole: Option<f64>,
    },
    Rect {
        w: f64,
        h: f64,
        hole: Option<f64>,
    },
    Obround {
        w: f64,
        h: f64,
        hole: Option<f64>,
    },
    Polygon {
        d: f64,
        n: usize,
        rot: f64,
        hole: Option<f64>,
    },
    /// A macro's outline at the origin (outer loops and holes).
    Loops(Vec<Pline>),
}

impl Aperture {
    /// The flash's loops at the origin.
    fn loops(&self) -> Vec<Pline> {
        let o = V2::new(0.0, 0.0);
        let (mut out, hole) = match self {
            Aperture::Circle { d, hole } => (vec![circle(o, d / 2.0)], *hole),
            Aperture::Rect { w, h, hole } => (vec![rect(o, *w, *h)], *hole),
            Aperture::Obround { w, h, hole } => {
                let p = if (w - h).abs() < 1e-12 {
                    circle(o, w / 2.0)
                } else if w > h {
                    let a = (w - h) / 2.0;
                    stadium(V2::new(-a, 0.0), V2::new(a, 0.0), h / 2.0)
                } else {
                    let a = (h - w) / 2.0;
                    stadium(V2::new(0.0, -a), V2::new(0.0, a), w / 2.0)
                };
                (vec![p], *hole)
            }
            Aperture::Polygon { d, n, rot, hole } => {
                let pts: Vec<V2> = (0..*n)
                    .map(|k| {
                        V2::from_angle(rot.to_radians() + TAU * k as f64 / *n as f64) * (d / 2.0)
                    })
                    .collect();
                (vec![polygon_pts(&pts)], *hole)
            }
            Aperture::Loops(l) => (l.clone(), None),
        };
        if let Some(h) = hole.filter(|&h| h > 0.0) {
            let mut c = circle(o, h / 2.0);
            if out[0].area() > 0.0 {
                c.invert_direction_mut();
            }
            out.push(c);
        }
        out
    }
}

/// Evaluates a macro with its parameters into loops at the origin (mm).
fn eval_macro(
    name: &str,
    m: &Macro,
    params: &[f64],
    scale: f64,
    tol: &Tolerance,
    line: usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<Pline>, GerberError> {
    let mut vars: HashMap<usize, f64> = params
        .iter()
        .enumerate()
        .map(|(k, v)| (k + 1, *v))
        .collect();
    let mut shapes: Vec<Shape> = Vec::new();
    for st in &m.body {
        let (code, args, pline) = match st {
            MacroStmt::Var(n, e) => {
                let v = e.eval(&vars);
                vars.insert(*n, v);
                continue;
            }
            MacroStmt::Prim(c, a, l) => (*c, a, *l),
        };
        let a: Vec<f64> = args.iter().map(|e| e.eval(&vars)).collect();
        let err = |need: usize| GerberError::Line {
            line: pline,
            problem: format!(
                "aperture macro {name}: primitive {code} needs {need} parameters, has {}",
                a.len()
            ),
        };
        let len = |v: f64| v * scale;
        let rot_of = |k: usize| a.get(k).copied().unwrap_or(0.0).to_radians();
        let exposure = |v: f64| v > 0.5;
        let mut add = |loops: Vec<Pline>, dark: bool, rot: f64| {
            let t = Affine2::rotate(rot);
            shapes.push(Shape {
                loops: loops.iter().map(|p| transformed(p, &t)).collect(),
                dark,
            });
        };
        match code {
            1 => {
                if a.len() < 4 {
                    return Err(err(4));
                }
                let c = V2::new(len(a[2]), len(a[3]));
                add(
                    vec![circle(c, len(a[1]).abs() / 2.0)],
                    exposure(a[0]),
                    rot_of(4),
                );
            }
            20 | 2 => {
                if a.len() < 7 {
                    return Err(err(7));
                }
                let (s, e) = (V2::new(len(a[2]), len(a[3])), V2::new(len(a[4]), len(a[5])));
                let w = len(a[1]).abs();
                if s.dist(e) > 0.0 && w > 0.0 {
                    let n = (e - s).normalized().perp() * (w / 2.0);
                    add(
                        vec![polygon_pts(&[s - n, e - n, e + n, s + n])],
                        exposure(a[0]),
                        rot_of(6),
                    );
                }
            }
            21 => {
                if a.len() < 5 {
                    return Err(err(5));
                }
                let c = V2::new(len(a[3]), len(a[4]));
                add(
                    vec![rect(c, len(a[1]).abs(), len(a[2]).abs())],
                    exposure(a[0]),
                    rot_of(5),
                );
            }
            22 => {
                // Lower-left line (deprecated).
                if a.len() < 5 {
                    return Err(err(5));
                }
                let (w, h) = (len(a[1]).abs(), len(a[2]).abs());
                let c = V2::new(len(a[3]) + w / 2.0, len(a[4]) + h / 2.0);
                add(vec![rect(c, w, h)], exposure(a[0]), rot_of(5));
            }
            4 => {
                if a.len() < 2 {
                    return Err(err(2));
                }
                let n = a[1].max(0.0) as usize;
                if n < 3 || a.len() < 2 + 2 * (n + 1) || n > 100_000 {
                    return Err(err(2 + 2 * (n + 1) + 1));
                }
                let pts: Vec<V2> = (0..n)
                    .map(|k| V2::new(len(a[2 + 2 * k]), len(a[3 + 2 * k])))
                    .collect();
                add(vec![polygon_pts(&pts)], exposure(a[0]), rot_of(4 + 2 * n));
            }
            5 => {
                if a.len() < 5 {
                    return Err(err(5));
                }
                let n = a[1] as usize;
                if !(3..=12).contains(&n) {
                    return Err(GerberError::Line {
                        line: pline,
                        problem: format!(
                            "aperture macro {name}: a polygon has 3 to 12 vertices, not {}",
                            a[1]
                        ),
                    });
                }
                let c = V2::new(len(a[2]), len(a[3]));
                let r = len(a[4]).abs() / 2.0;
                let pts: Vec<V2> = (0..n)
                    .map(|k| c + V2::from_angle(TAU * k as f64 / n as f64) * r)
                    .collect();
                add(vec![polygon_pts(&pts)], exposure(a[0]), rot_of(5));
            }
            6 => {
                // Moiré (deprecated): rings and a cross hair, all dark.
                if a.len() < 8 {
                    return Err(err(8));
                }
                let c = V2::new(len(a[0]), len(a[1]));
                let (od, thick, gap) = (len(a[2]).abs(), len(a[3]).abs(), len(a[4]).abs());
                let rings = a[5].clamp(0.0, 1000.0) as usize;
                let (ct, cl) = (len(a[6]).abs(), len(a[7]).abs());
                let rot = rot_of(8);
                let mut r = od / 2.0;
                for _ in 0..rings {
                    if r <= 0.0 {
                        break;
                    }
                    let mut ring = vec![circle(c, r)];
                    if r - thick > 0.0 {
                        let mut inner = circle(c, r - thick);
                        inner.invert_direction_mut();
                        ring.push(inner);
                    }
                    add(ring, true, rot);
                    r -= thick + gap;
                }
                if ct > 0.0 && cl > 0.0 {
                    add(vec![rect(c, cl, ct)], true, rot);
                    add(vec![rect(c, ct, cl)], true, rot);
                }
            }
            7 => {
                // Thermal: a ring with a cross-shaped gap, about its centre.
                if a.len() < 5 {
                    return Err(err(5));
                }
                let c = V2::new(len(a[0]), len(a[1]));
                let (od, id, gap) = (len(a[2]).abs(), len(a[3]).abs(), len(a[4]).abs());
                let rot = rot_of(5);
                let mut ring = vec![circle(c, od / 2.0)];
                if id > 0.0 {
                    let mut inner = circle(c, id / 2.0);
                    inner.invert_direction_mut();
                    ring.push(inner);
                }
                // The ring's own rotation is about the macro origin, as every primitive's.
                add(ring, true, rot);
                if gap > 0.0 {
                    add(vec![rect(c, od * 1.01, gap)], false, rot);
                    add(vec![rect(c, gap, od * 1.01)], false, rot);
                }
            }
            other => {
                return Err(GerberError::Line {
                    line: pline,
                    problem: format!("aperture macro {name}: unknown primitive code {other}"),
                });
            }
        }
    }
    let painted = paint(&shapes, tol);
    if painted.open_pieces > 0 {
        warnings.push(format!(
            "line {line}: aperture macro {name}: {} outline pieces did not close and were left out",
            painted.open_pieces
        ));
    }
    Ok(painted
        .regions
        .into_iter()
        .flat_map(|r| std::iter::once(r.outer).chain(r.islands))
        .collect())
}

// ---------------------------------------------------------------------------------------
// The interpreter.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Interp {
    Linear,
    Cw,
    Ccw,
}

#[derive(Debug, Clone, Copy)]
struct Format {
    x_dec: u32,
    y_dec: u32,
    x_int: u32,
    y_int: u32,
    trailing: bool,
}

/// A Gerber layer as read: the painted image, its drawn centre lines (an outline layer's
/// edge) and counts.
#[derive(Debug, Clone)]
pub struct GerberLayer {
    pub kind: LayerKind,
    /// `%TF.FileFunction` or `%LN`, as written.
    pub function: Option<String>,
    pub units: Units,
    /// The dark image.
    pub regions: Vec<Region>,
    /// The flashes, draws and regions as painted, in file order (what `regions` is made of).
    pub shapes: Vec<Shape>,
    /// The centre lines of the draws, joined where one ends where the next starts.
    pub draw_paths: Vec<Pline>,
    pub flashes: usize,
    pub draws: usize,
    pub arcs: usize,
    pub region_count: usize,
    pub clear_shapes: usize,
    pub warnings: Vec<String>,
}

/// Reads a Gerber file (RS-274X or X2) into its image. `units` overrides a missing unit
/// statement only (a file that states its unit is read in it).
pub fn read_gerber(
    bytes: &[u8],
    name: Option<&str>,
    units: Option<Units>,
    tol: &Tolerance,
) -> Result<GerberLayer, GerberError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        GerberError::File(format!(
            "not a text file (byte {} is not UTF-8); is this a Gerber file?",
            e.valid_up_to()
        ))
    })?;
    let items = lex(text)?;
    let mut r = Reader {
        tol: *tol,
        units_given: units,
        units: None,
        format: None,
        apertures: HashMap::new(),
        macros: HashMap::new(),
        current: None,
        interp: Interp::Linear,
        single_quadrant: false,
        pos: V2::new(0.0, 0.0),
        last_op: None,
        dark: true,
        ap_transform: (false, false, 0.0, 1.0),
        region: None,
        shapes: Vec::new(),
        paths: Vec::new(),
        sr: None,
        image: Affine2::IDENTITY,
        function: None,
        flashes: 0,
        draws: 0,
        arcs: 0,
        region_count: 0,
        clear: 0,
        unknown: BTreeMap::new(),
        warnings: Vec::new(),
        ended: false,
    };
    for item in &items {
        if r.ended {
            break;
        }
        match item {
            Item::Block(stmts) => r.block(stmts)?,
            Item::Word(s) => r.word(s)?,
        }
    }
    if r.region.is_some() {
        return Err(GerberError::File(
            "a region (G36) is not ended by G37 before the end of the file".into(),
        ));
    }
    r.end_step_repeat();
    if !r.ended {
        r.warnings
            .push("the file does not end with M02; it may be cut short".into());
    }
    for (code, (n, line)) in &r.unknown {
        r.warnings.push(format!(
            "{code} ({n}×, first at line {line}) is not a Gerber command Swarf knows; ignored"
        ));
    }
    let units = r.units.or(units).unwrap_or(Units::Mm);
    let kind = layer_kind(r.function.as_deref(), name);
    // Image-level transforms (deprecated %OF/%SF/%MI/%IR/%AS) on everything.
    let image = r.image;
    let identity = image == Affine2::IDENTITY;
    if !identity {
        for s in &mut r.shapes {
            for l in &mut s.loops {
                *l = transformed(l, &image);
            }
        }
        for p in &mut r.paths {
            *p = transformed_open(p, &image);
        }
    }
    let painted = paint(&r.shapes, tol);
    if painted.open_pieces > 0 {
        r.warnings.push(format!(
            "{} outline pieces of the image did not close into loops and were left out (shapes that touch within {} mm)",
            painted.open_pieces, tol.equal_point_mm
        ));
    }
    Ok(GerberLayer {
        kind,
        function: r.function,
        units,
        regions: painted.regions,
        shapes: r.shapes,
        draw_paths: r.paths,
        flashes: r.flashes,
        draws: r.draws,
        arcs: r.arcs,
        region_count: r.region_count,
        clear_shapes: r.clear,
        warnings: r.warnings,
    })
}

fn transformed_open(p: &Pline, t: &Affine2) -> Pline {
    let mut q = transformed(p, t);
    q.set_is_closed(p.is_closed());
    q
}

fn layer_kind(function: Option<&str>, name: Option<&str>) -> LayerKind {
    let f = function.unwrap_or("").to_ascii_lowercase();
    let n = name.unwrap_or("").to_ascii_lowercase();
    let has = |s: &str, keys: &[&str]| keys.iter().any(|k| s.contains(k));
    if has(&f, &["profile", "outline", "contour", "keep-out"])
        || has(
            &n,
            &[
                "edge_cuts",
                "edge.cuts",
                "outline",
                "contour",
                "profile",
                ".gko",
                ".gm1",
                ".gml",
            ],
        )
    {
        LayerKind::Outline
    } else if has(&f, &["soldermask", "mask"]) || has(&n, &["mask", ".gts", ".gbs"]) {
        LayerKind::SolderMask
    } else if f.is_empty()
        || has(&f, &["copper"])
        || has(&n, &["cu", "copper", ".gtl", ".gbl", ".cmp", ".sol"])
    {
        // A layer that does not say what it is, is read as copper.
        LayerKind::Copper
    } else {
        LayerKind::Other
    }
}

struct StepRepeat {
    first: usize,
    first_path: usize,
    nx: usize,
    ny: usize,
    dx: f64,
    dy: f64,
}

struct Reader {
    tol: Tolerance,
    units_given: Option<Units>,
    units: Option<Units>,
    format: Option<Format>,
    apertures: HashMap<u32, Aperture>,
    macros: HashMap<String, Macro>,
    current: Option<u32>,
    interp: Interp,
    single_quadrant: bool,
    /// The current point, mm.
    pos: V2,
    last_op: Option<u32>,
    dark: bool,
    /// Aperture transform: mirror X, mirror Y, rotation (degrees), scale.
    ap_transform: (bool, bool, f64, f64),
    /// The contours of the region being read (G36…G37): closed ones and the open one.
    region: Option<(Vec<Pline>, Vec<PlineVertex<f64>>)>,
    shapes: Vec<Shape>,
    paths: Vec<Pline>,
    sr: Option<StepRepeat>,
    image: Affine2,
    function: Option<String>,
    flashes: usize,
    draws: usize,
    arcs: usize,
    region_count: usize,
    clear: usize,
    unknown: BTreeMap<String, (usize, usize)>,
    warnings: Vec<String>,
    ended: bool,
}

fn line_err(line: usize, problem: impl Into<String>) -> GerberError {
    GerberError::Line {
        line,
        problem: problem.into(),
    }
}

/// The number after `letter` in an `A…B…` parameter list (`%OFA0.1B-0.2*%`), if any.
fn letter_value(text: &str, letter: char) -> Option<f64> {
    let up = text.to_ascii_uppercase();
    let i = up.find(letter)?;
    up[i + 1..]
        .split(|ch: char| ch.is_ascii_alphabetic())
        .next()?
        .parse()
        .ok()
}

fn num(t: &str, line: usize, what: &str) -> Result<f64, GerberError> {
    t.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| line_err(line, format!("{what}: '{t}' is not a number")))
}

impl Reader {
    fn mm(&self) -> f64 {
        self.units
            .or(self.units_given)
            .map_or(1.0, Units::mm_per_unit)
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<(), GerberError> {
        let Some(first) = stmts.first() else {
            return Ok(());
        };
        if first.text.starts_with("AM") {
            let (name, m) = parse_macro(stmts)?;
            self.macros.insert(name, m);
            return Ok(());
        }
        for s in stmts {
            self.extended(s)?;
        }
        Ok(())
    }

    fn extended(&mut self, s: &Stmt) -> Result<(), GerberError> {
        let t = s.text.as_str();
        let line = s.line;
        let code = t.get(..2).unwrap_or(t);
        let rest = t.get(2..).unwrap_or("");
        match code {
            "FS" => {
                let up = rest.to_ascii_uppercase();
                let trailing = up.starts_with('T');
                if up.contains('I') && !up.contains('A') {
                    return Err(line_err(
                        line,
                        "incremental coordinates (%FS…I…*%) are not supported; export with absolute coordinates",
                    ));
                }
                let digits = |axis: char| -> Option<(u32, u32)> {
                    let i = up.find(axis)?;
                    let d: Vec<u32> = up[i + 1..]
                        .chars()
                        .take(2)
                        .filter_map(|c| c.to_digit(10))
                        .collect();
                    (d.len() == 2).then(|| (d[0], d[1]))
                };
                let (Some((xi, xd)), Some((yi, yd))) = (digits('X'), digits('Y')) else {
                    return Err(line_err(
                        line,
                        format!(
                            "format statement '%{t}*%' lacks X and Y digit counts (e.g. %FSLAX46Y46*%)"
                        ),
                    ));
                };
                if xd > 9 || yd > 9 {
                    return Err(line_err(line, "more than 9 decimals in the format"));
                }
                self.format = Some(Format {
                    x_dec: xd,
                    y_dec: yd,
                    x_int: xi,
                    y_int: yi,
                    trailing,
                });
            }
            "MO" => {
                self.units = Some(match rest.trim() {
                    "MM" => Units::Mm,
                    "IN" => Units::Inch,
                    other => {
                        return Err(line_err(
                            line,
                            format!("unit '{other}' is neither MM nor IN"),
                        ));
                    }
                });
            }
            "AD" => self.aperture_def(rest, line)?,
            "LP" => {
                self.dark = match rest.trim() {
                    "D" => true,
                    "C" => false,
                    o => return Err(line_err(line, format!("polarity '{o}' is neither D nor C"))),
                };
            }
            "LM" => {
                let m = rest.trim();
                self.ap_transform.0 = m.contains('X');
                self.ap_transform.1 = m.contains('Y');
            }
            "LR" => self.ap_transform.2 = num(rest, line, "rotation")?,
            "LS" => {
                let v = num(rest, line, "scale")?;
                if v <= 0.0 {
                    return Err(line_err(line, "aperture scale must be positive"));
                }
                self.ap_transform.3 = v;
            }
            "SR" => {
                self.end_step_repeat();
                let up = rest.to_ascii_uppercase();
                if up.trim().is_empty() {
                    return Ok(());
                }
                let field = |c: char| -> Option<f64> {
                    let i = up.find(c)?;
                    let t: String = up[i + 1..]
                        .chars()
                        .take_while(|ch| ch.is_ascii_digit() || *ch == '.' || *ch == '-')
                        .collect();
                    t.parse().ok()
                };
                let nx = field('X').unwrap_or(1.0);
                let ny = field('Y').unwrap_or(1.0);
                if !(1.0..=10_000.0).contains(&nx) || !(1.0..=10_000.0).contains(&ny) {
                    return Err(line_err(
                        line,
                        format!("step and repeat counts {nx} × {ny} out of range (1 to 10000)"),
                    ));
                }
                let mm = self.mm();
                self.sr = Some(StepRepeat {
                    first: self.shapes.len(),
                    first_path: self.paths.len(),
                    nx: nx as usize,
                    ny: ny as usize,
                    dx: field('I').unwrap_or(0.0) * mm,
                    dy: field('J').unwrap_or(0.0) * mm,
                });
            }
            "AB" => {
                return Err(line_err(
                    line,
                    "aperture blocks (%AB) are not supported yet; export the layer without them (flatten blocks) and load it again",
                ));
            }
            "TF" => {
                let up = rest.to_ascii_lowercase();
                if up.starts_with(".filefunction") {
                    self.function = Some(
                        rest.trim_start_matches(|c| c != ',')
                            .trim_start_matches(',')
                            .to_string(),
                    );
                }
            }
            "LN" => {
                if self.function.is_none() {
                    self.function = Some(rest.trim().to_string());
                }
            }
            "OF" => {
                let (a, b) = (
                    letter_value(rest, 'A').unwrap_or(0.0) * self.mm(),
                    letter_value(rest, 'B').unwrap_or(0.0) * self.mm(),
                );
                if a != 0.0 || b != 0.0 {
                    self.image = Affine2::translate(V2::new(a, b)).then_after(&self.image);
                    self.warnings.push(format!(
                        "image offset %OF (deprecated) applied: {a} mm, {b} mm"
                    ));
                }
            }
            "SF" => {
                let (a, b) = (
                    letter_value(rest, 'A').unwrap_or(1.0),
                    letter_value(rest, 'B').unwrap_or(1.0),
                );
                if a <= 0.0 || b <= 0.0 {
                    return Err(line_err(line, "image scale %SF must be positive"));
                }
                if a != 1.0 || b != 1.0 {
                    self.image = Affine2::scale(a, b).then_after(&self.image);
                    self.warnings
                        .push(format!("image scale %SF (deprecated) applied: {a} × {b}"));
                }
            }
            "MI" => {
                let up = rest.to_ascii_uppercase();
                let mx = up.contains("A1");
                let my = up.contains("B1");
                if mx || my {
                    let s =
                        Affine2::scale(if mx { -1.0 } else { 1.0 }, if my { -1.0 } else { 1.0 });
                    self.image = s.then_after(&self.image);
                    self.warnings
                        .push("image mirror %MI (deprecated) applied".into());
                }
            }
            "IR" => {
                let a = num(rest, line, "image rotation")?;
                if a != 0.0 {
                    self.image = Affine2::rotate(a.to_radians()).then_after(&self.image);
                    self.warnings
                        .push(format!("image rotation %IR{a} (deprecated) applied"));
                }
            }
            "AS" => {
                if rest.trim().eq_ignore_ascii_case("AYBX") {
                    let swap = Affine2::rotate(PI / 2.0).then_after(&Affine2::scale(1.0, -1.0));
                    self.image = swap.then_after(&self.image);
                    self.warnings
                        .push("axis swap %ASAYBX (deprecated) applied".into());
                }
            }
            "IP" => {
                if rest.trim().eq_ignore_ascii_case("NEG") {
                    return Err(line_err(
                        line,
                        "a negative image (%IPNEG) is not supported; plot the layer positive",
                    ));
                }
            }
            // Attributes and names that do not change the image.
            "TA" | "TO" | "TD" | "IN" | "IJ" | "IO" | "PF" | "KO" | "SM" | "MN" => {}
            _ => {
                let e = self.unknown.entry(format!("%{code}")).or_insert((0, line));
                e.0 += 1;
            }
        }
        Ok(())
    }

    fn aperture_def(&mut self, rest: &str, line: usize) -> Result<(), GerberError> {
        let rest = rest.trim();
        let Some(after_d) = rest.strip_prefix('D') else {
            return Err(line_err(
                line,
                format!("aperture definition '%AD{rest}*%' lacks its D code"),
            ));
        };
        let nlen = after_d.chars().take_while(char::is_ascii_digit).count();
        let code: u32 = after_d[..nlen]
            .parse()
            .ok()
            .filter(|&c| c >= 10)
            .ok_or_else(|| {
                line_err(
                    line,
                    format!("aperture number in '%AD{rest}*%' must be 10 or more"),
                )
            })?;
        let body = &after_d[nlen..];
        let (template, params) = match body.split_once(',') {
            Some((t, p)) => (t.trim(), p),
            None => (body.trim(), ""),
        };
        let params: Vec<f64> = if params.trim().is_empty() {
            Vec::new()
        } else {
            params
                .split(['X', 'x'])
                .map(|p| num(p, line, &format!("aperture D{code}")))
                .collect::<Result<_, _>>()?
        };
        let mm = self.mm();
        if self.units.is_none() && self.units_given.is_none() {
            return Err(line_err(
                line,
                "an aperture is defined before the unit (%MOMM*% or %MOIN*%); give the unit with --units mm|inch",
            ));
        }
        let p = |k: usize| params.get(k).copied();
        let need = |k: usize| -> Result<f64, GerberError> {
            p(k).map(|v| v * mm).ok_or_else(|| {
                line_err(
                    line,
                    format!("aperture D{code} ({template}) needs {} parameters", k + 1),
                )
            })
        };
        let hole = |k: usize| p(k).map(|v| v * mm);
        let ap = match template {
            "C" => Aperture::Circle {
                d: need(0)?.abs(),
                hole: hole(1),
            },
            "R" => Aperture::Rect {
                w: need(0)?.abs(),
                h: need(1)?.abs(),
                hole: hole(2),
            },
            "O" => Aperture::Obround {
                w: need(0)?.abs(),
                h: need(1)?.abs(),
                hole: hole(2),
            },
            "P" => {
                let n = p(1).unwrap_or(0.0);
                if !(3.0..=12.0).contains(&n) {
                    return Err(line_err(
                        line,
                        format!("polygon aperture D{code} needs 3 to 12 vertices, not {n}"),
                    ));
                }
                Aperture::Polygon {
                    d: need(0)?.abs(),
                    n: n as usize,
                    rot: p(2).unwrap_or(0.0),
                    hole: hole(3),
                }
            }
            name => {
                let Some(m) = self.macros.get(name) else {
                    return Err(line_err(
                        line,
                        format!(
                            "aperture D{code} uses macro '{name}', which is not defined before it (%AM{name}*…%)"
                        ),
                    ));
                };
                let m = m.clone();
                Aperture::Loops(eval_macro(
                    name,
                    &m,
                    &params,
                    mm,
                    &self.tol,
                    line,
                    &mut self.warnings,
                )?)
            }
        };
        if self.apertures.insert(code, ap).is_some() {
            self.warnings.push(format!("line {line}: aperture D{code} is defined again; the new definition is used from here on"));
        }
        Ok(())
    }

    fn coord(&self, t: &str, axis: char, line: usize) -> Result<f64, GerberError> {
        let Some(f) = self.format else {
            return Err(line_err(
                line,
                "a coordinate comes before the format statement (%FS…*%)",
            ));
        };
        if self.units.is_none() && self.units_given.is_none() {
            return Err(line_err(
                line,
                "a coordinate comes before the unit (%MOMM*% or %MOIN*%); give the unit with --units mm|inch",
            ));
        }
        let (int, dec) = if matches!(axis, 'X' | 'I') {
            (f.x_int, f.x_dec)
        } else {
            (f.y_int, f.y_dec)
        };
        let v = if t.contains('.') {
            num(t, line, "coordinate")?
        } else {
            let (neg, digits) = match t.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, t.strip_prefix('+').unwrap_or(t)),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 18
            {
                return Err(line_err(line, format!("{axis}{t} is not a coordinate")));
            }
            let mut n: f64 = digits
                .parse::<u64>()
                .map_err(|_| line_err(line, format!("{axis}{t} is not a coordinate")))?
                as f64;
            if f.trailing {
                let total = (int + dec) as i32;
                n *= 10f64.powi(total - digits.len() as i32);
            }
            let v = n / 10f64.powi(dec as i32);
            if neg { -v } else { v }
        };
        let mm = v * self.mm();
        if mm.abs() > MAX_COORD_MM {
            return Err(line_err(
                line,
                format!("{axis}{t} is {mm} mm, beyond ±{MAX_COORD_MM} mm"),
            ));
        }
        Ok(mm)
    }

    fn word(&mut self, s: &Stmt) -> Result<(), GerberError> {
        let t = s.text.as_str();
        let line = s.line;
        let b = t.as_bytes();
        let mut i = 0;
        let mut x = None;
        let mut y = None;
        let mut ij = (None, None);
        let mut op: Option<u32> = None;
        while i < b.len() {
            if !b[i].is_ascii() {
                let bad = t[i..].chars().next().unwrap_or('?');
                return Err(line_err(
                    line,
                    format!(
                        "'{bad}' in '{t}' is not a Gerber word (only ASCII letters and numbers)"
                    ),
                ));
            }
            let c = b[i].to_ascii_uppercase() as char;
            i += 1;
            let st = i;
            while i < b.len()
                && (b[i].is_ascii_digit() || b[i] == b'-' || b[i] == b'+' || b[i] == b'.')
            {
                i += 1;
            }
            let v = &t[st..i];
            match c {
                'G' => {
                    let g: u32 = v
                        .parse()
                        .map_err(|_| line_err(line, format!("'G{v}' is not a G code")))?;
                    match g {
                        4 => return Ok(()), // a comment: the rest is text
                        1 => self.interp = Interp::Linear,
                        2 => self.interp = Interp::Cw,
                        3 => self.interp = Interp::Ccw,
                        74 => self.single_quadrant = true,
                        75 => self.single_quadrant = false,
                        36 => {
                            if self.region.is_some() {
                                return Err(line_err(line, "G36 inside a region (G36 … G37)"));
                            }
                            self.region = Some((Vec::new(), Vec::new()));
                        }
                        37 => self.end_region(line)?,
                        70 => self.set_units(Units::Inch),
                        71 => self.set_units(Units::Mm),
                        91 => {
                            return Err(line_err(
                                line,
                                "incremental coordinates (G91) are not supported; export with absolute coordinates",
                            ));
                        }
                        // Select aperture (deprecated prefix), prepare for flash, absolute
                        // coordinates: no effect.
                        54 | 55 | 90 => {}
                        other => {
                            let e = self.unknown.entry(format!("G{other}")).or_insert((0, line));
                            e.0 += 1;
                        }
                    }
                }
                'D' => {
                    let d: u32 = v
                        .parse()
                        .map_err(|_| line_err(line, format!("'D{v}' is not a D code")))?;
                    if d >= 10 {
                        if !self.apertures.contains_key(&d) {
                            return Err(line_err(
                                line,
                                format!("aperture D{d} is used but not defined (%ADD{d}…*%)"),
                            ));
                        }
                        self.current = Some(d);
                    } else if (1..=3).contains(&d) {
                        op = Some(d);
                    } else {
                        return Err(line_err(
                            line,
                            format!(
                                "D{d} is not an operation (D01, D02, D03) or an aperture (D10 and up)"
                            ),
                        ));
                    }
                }
                'M' => {
                    let m: u32 = v
                        .parse()
                        .map_err(|_| line_err(line, format!("'M{v}' is not an M code")))?;
                    if m == 2 || m == 0 {
                        self.ended = true;
                        return Ok(());
                    }
                }
                'X' => x = Some(self.coord(v, 'X', line)?),
                'Y' => y = Some(self.coord(v, 'Y', line)?),
                'I' => ij.0 = Some(self.coord(v, 'I', line)?),
                'J' => ij.1 = Some(self.coord(v, 'J', line)?),
                'N' => {} // a sequence number
                other => {
                    return Err(line_err(
                        line,
                        format!("'{other}' in '{t}' is not a Gerber word"),
                    ));
                }
            }
        }
        let has_coords = x.is_some() || y.is_some() || ij.0.is_some() || ij.1.is_some();
        let op = match op {
            Some(o) => Some(o),
            // Deprecated: coordinates without an operation repeat the last one.
            None if has_coords => Some(self.last_op.ok_or_else(|| {
                line_err(
                    line,
                    format!("coordinates in '{t}' without D01, D02 or D03"),
                )
            })?),
            None => None,
        };
        if let Some(op) = op {
            self.last_op = Some(op);
            let to = V2::new(x.unwrap_or(self.pos.x), y.unwrap_or(self.pos.y));
            let off = V2::new(ij.0.unwrap_or(0.0), ij.1.unwrap_or(0.0));
            self.operate(op, to, off, line)?;
        }
        Ok(())
    }

    fn set_units(&mut self, u: Units) {
        if self.units.is_none() {
            self.units = Some(u);
        }
    }

    /// The arc from the current point to `to`: centre, radius, start angle and signed sweep.
    fn arc(&self, to: V2, off: V2, line: usize) -> Result<(V2, f64, f64, f64), GerberError> {
        let from = self.pos;
        let ccw = self.interp == Interp::Ccw;
        let sweep_of = |c: V2| {
            let a0 = (from - c).angle();
            let a1 = (to - c).angle();
            let mut s = if ccw {
                (a1 - a0).rem_euclid(TAU)
            } else {
                -(a0 - a1).rem_euclid(TAU)
            };
            if from.dist(to) <= self.tol.equal_point_mm && !self.single_quadrant {
                s = if ccw { TAU } else { -TAU };
            }
            (a0, s)
        };
        let centre = if self.single_quadrant {
            // I and J are unsigned: the centre is the one of four that makes an arc of at most
            // a quarter turn with equal radii.
            let mut best: Option<(f64, V2)> = None;
            for (sx, sy) in [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)] {
                let c = from + V2::new(off.x.abs() * sx, off.y.abs() * sy);
                let (_, s) = sweep_of(c);
                if s.abs() > PI / 2.0 + 1e-6 {
                    continue;
                }
                let err = (from.dist(c) - to.dist(c)).abs();
                if best.is_none_or(|(e, _)| err < e) {
                    best = Some((err, c));
                }
            }
            best.ok_or_else(|| {
                line_err(
                    line,
                    "no centre makes this single-quadrant (G74) arc a quarter turn or less",
                )
            })?
            .1
        } else {
            from + off
        };
        let r0 = from.dist(centre);
        let r1 = to.dist(centre);
        if r0 <= 0.0 {
            return Err(line_err(line, "an arc of zero radius (I and J are both 0)"));
        }
        let gap = (r0 - r1).abs();
        if gap > 1e-3_f64.max(r0 * 1e-3) {
            return Err(line_err(
                line,
                format!(
                    "arc radii at start and end differ by {gap:.4} mm ({r0:.4} and {r1:.4}); is the coordinate format right?"
                ),
            ));
        }
        let (a0, s) = sweep_of(centre);
        Ok((centre, r0, a0, s))
    }

    fn push(&mut self, loops: Vec<Pline>, line: usize) -> Result<(), GerberError> {
        if self.shapes.len() >= MAX_SHAPES {
            return Err(line_err(
                line,
                format!("more than {MAX_SHAPES} shapes; the file is too large or damaged"),
            ));
        }
        if !self.dark {
            self.clear += 1;
        }
        self.shapes.push(Shape {
            loops,
            dark: self.dark,
        });
        Ok(())
    }

    fn ap_affine(&self) -> Affine2 {
        let (mx, my, rot, sc) = self.ap_transform;
        let m = Affine2::scale(if mx { -sc } else { sc }, if my { -sc } else { sc });
        Affine2::rotate(rot.to_radians()).then_after(&m)
    }

    fn operate(&mut self, op: u32, to: V2, off: V2, line: usize) -> Result<(), GerberError> {
        let from = self.pos;
        if self.region.is_some() {
            let arc = if op == 1 && self.interp != Interp::Linear {
                self.arcs += 1;
                Some(self.arc(to, off, line)?)
            } else {
                None
            };
            let Some((done, open)) = self.region.as_mut() else {
                return Ok(());
            };
            match op {
                2 => {
                    if open.len() > 1 {
                        done.push(pline_of(std::mem::take(open)));
                    }
                    open.clear();
                    open.push(PlineVertex::new(to.x, to.y, 0.0));
                }
                1 => {
                    if open.is_empty() {
                        open.push(PlineVertex::new(from.x, from.y, 0.0));
                    }
                    if let Some((c, r, a0, s)) = arc {
                        open.pop();
                        arc_verts(c, r, a0, s, open);
                    }
                    open.push(PlineVertex::new(to.x, to.y, 0.0));
                }
                _ => return Err(line_err(line, "a flash (D03) inside a region (G36 … G37)")),
            }
            self.pos = to;
            return Ok(());
        }
        match op {
            2 => {}
            3 => {
                let ap = self.aperture(line)?;
                let t = Affine2::translate(to).then_after(&self.ap_affine());
                let loops = ap.loops().iter().map(|p| transformed(p, &t)).collect();
                self.push(loops, line)?;
                self.flashes += 1;
            }
            _ => {
                let ap = self.aperture(line)?;
                let sc = self.ap_transform.3;
                self.draws += 1;
                if self.interp == Interp::Linear {
                    match ap {
                        Aperture::Circle { d, .. } => {
                            self.push(vec![stadium(from, to, d * sc / 2.0)], line)?;
                        }
                        Aperture::Rect { w, h, .. } => {
                            let t = self.ap_affine();
                            let r = transformed(&rect(V2::new(0.0, 0.0), w, h), &t);
                            let mut pts = Vec::new();
                            for v in r.iter_vertexes() {
                                pts.push(V2::new(v.x, v.y) + from);
                                pts.push(V2::new(v.x, v.y) + to);
                            }
                            self.push(vec![polygon_pts(&hull(pts))], line)?;
                        }
                        _ => {
                            return Err(line_err(
                                line,
                                format!(
                                    "a draw (D01) with aperture D{}, which is not a circle or rectangle",
                                    self.current.unwrap_or(0)
                                ),
                            ));
                        }
                    }
                    self.add_path(from, PlineVertex::new(from.x, from.y, 0.0), to);
                } else {
                    let Aperture::Circle { d, .. } = ap else {
                        return Err(line_err(
                            line,
                            format!(
                                "an arc draw with aperture D{}, which is not a circle",
                                self.current.unwrap_or(0)
                            ),
                        ));
                    };
                    let (c, r, a0, s) = self.arc(to, off, line)?;
                    for sh in arc_sweep(c, r, a0, s, d * sc / 2.0) {
                        self.push(sh, line)?;
                    }
                    self.arcs += 1;
                    let mut v = Vec::new();
                    arc_verts(c, r, a0, s, &mut v);
                    for (k, vert) in v.iter().enumerate() {
                        let end = v.get(k + 1).map_or(to, |n| V2::new(n.x, n.y));
                        self.add_path(V2::new(vert.x, vert.y), *vert, end);
                    }
                }
            }
        }
        self.pos = to;
        Ok(())
    }

    fn aperture(&self, line: usize) -> Result<Aperture, GerberError> {
        let d = self.current.ok_or_else(|| {
            line_err(
                line,
                "a draw or flash before any aperture is selected (Dnn)",
            )
        })?;
        self.apertures
            .get(&d)
            .cloned()
            .ok_or_else(|| line_err(line, format!("aperture D{d} is not defined")))
    }

    /// Extends the centre-line path that ends at `from`, or starts a new one.
    fn add_path(&mut self, from: V2, seg: PlineVertex<f64>, to: V2) {
        let eps = self.tol.equal_point_mm;
        if let Some(last) = self.paths.last_mut()
            && !last.is_closed()
            && last.vertex_count() > 0
        {
            let end = last.at(last.vertex_count() - 1);
            if V2::new(end.x, end.y).dist(from) <= eps {
                let n = last.vertex_count();
                last.set_vertex(n - 1, PlineVertex::new(end.x, end.y, seg.bulge));
                if to.dist(V2::new(last.at(0).x, last.at(0).y)) <= eps && n >= 2 {
                    last.set_is_closed(true);
                } else {
                    last.add(to.x, to.y, 0.0);
                }
                return;
            }
        }
        let mut p = Pline::new();
        p.add(from.x, from.y, seg.bulge);
        p.add(to.x, to.y, 0.0);
        self.paths.push(p);
    }

    fn end_region(&mut self, line: usize) -> Result<(), GerberError> {
        let Some((mut done, open)) = self.region.take() else {
            return Err(line_err(line, "G37 without G36"));
        };
        if open.len() > 1 {
            done.push(pline_of(open));
        }
        let eps = self.tol.equal_point_mm;
        for mut p in done {
            // A contour's last vertex repeats its first.
            let n = p.vertex_count();
            let (a, z) = (p.at(0), p.at(n - 1));
            let gap = V2::new(a.x, a.y).dist(V2::new(z.x, z.y));
            if gap <= eps.max(1e-6) {
                p.remove_last();
            } else {
                self.warnings.push(format!("line {line}: a region contour does not end where it starts (gap {gap:.4} mm); closed with a straight line"));
            }
            if p.vertex_count() < 2 || p.area().abs() <= eps * eps {
                continue;
            }
            self.region_count += 1;
            self.push(vec![p], line)?;
        }
        Ok(())
    }

    fn end_step_repeat(&mut self) {
        let Some(sr) = self.sr.take() else {
            return;
        };
        let block: Vec<Shape> = self.shapes[sr.first..].to_vec();
        let paths: Vec<Pline> = self.paths[sr.first_path..].to_vec();
        for j in 0..sr.ny {
            for i in 0..sr.nx {
                if i == 0 && j == 0 {
                    continue;
                }
                let t = Affine2::translate(V2::new(sr.dx * i as f64, sr.dy * j as f64));
                if self.shapes.len() + block.len() > MAX_SHAPES {
                    self.warnings
                        .push(format!("step and repeat stopped at {MAX_SHAPES} shapes"));
                    return;
                }
                for s in &block {
                    self.shapes.push(Shape {
                        loops: s.loops.iter().map(|l| transformed(l, &t)).collect(),
                        dark: s.dark,
                    });
                }
                for p in &paths {
                    self.paths.push(transformed_open(p, &t));
                }
            }
        }
    }
}

/// Reads a Gerber file as a drawing: a copper or mask layer's regions are its dark image; an
/// outline layer's regions are the areas its drawn lines enclose (the board), its unclosed
/// lines open chains.
pub fn import_gerber(
    bytes: &[u8],
    name: Option<&str>,
    units: Option<Units>,
    tol: &Tolerance,
) -> Result<Drawing, GerberError> {
    let g = read_gerber(bytes, name, units, tol)?;
    let mut warnings = g.warnings.clone();
    let (regions, open_chains) = if g.kind == LayerKind::Outline {
        let (closed, open): (Vec<Pline>, Vec<Pline>) =
            g.draw_paths.iter().cloned().partition(Pline::is_closed);
        warnings.insert(
            0,
            format!(
                "read as a board outline ({}): the drawn lines are the board's edge",
                g.function.as_deref().unwrap_or("by the file name")
            ),
        );
        if !open.is_empty() {
            warnings.push(format!(
                "{} outline lines do not close into a loop; they can be contoured on the line only",
                open.len()
            ));
        }
        (nest_loops(closed, tol), open)
    } else {
        (g.regions.clone(), Vec::new())
    };
    if regions.is_empty() && open_chains.is_empty() {
        return Err(GerberError::File(
            "the file draws nothing (no flashes, draws or regions)".into(),
        ));
    }
    let closed_loops: Vec<Pline> = regions
        .iter()
        .flat_map(|r| std::iter::once(r.outer.clone()).chain(r.islands.iter().cloned()))
        .collect();
    let mut bbox = Bbox2::EMPTY;
    for l in closed_loops.iter().chain(&open_chains) {
        bbox.union(&pline_bbox(l));
    }
    let mut entity_counts = BTreeMap::new();
    for (k, n) in [
        ("FLASH", g.flashes),
        ("DRAW", g.draws),
        ("ARC", g.arcs),
        ("REGION", g.region_count),
        ("CLEAR", g.clear_shapes),
    ] {
        if n > 0 {
            entity_counts.insert(k.to_string(), n);
        }
    }
    let total = g.flashes + g.draws + g.region_count;
    Ok(Drawing {
        version: Some(format!("Gerber ({})", kind_name(g.kind))),
        declared_units: Some(g.units),
        units: g.units,
        units_source: "the file's unit statement",
        layers: vec![Layer {
            name: g
                .function
                .clone()
                .unwrap_or_else(|| kind_name(g.kind).to_string()),
            entities: total,
            imported: true,
        }],
        entity_counts,
        closed_loops,
        open_chains,
        regions,
        bbox,
        max_fit_error_mm: 0.0,
        warnings,
    })
}

impl Drawing {
    /// What PCB layer the drawing is, when it was read from a Gerber file (its version says
    /// so: "Gerber (copper)", …).
    pub fn board_layer(&self) -> Option<LayerKind> {
        let v = self
            .version
            .as_deref()?
            .strip_prefix("Gerber (")?
            .strip_suffix(')')?;
        [
            LayerKind::Copper,
            LayerKind::SolderMask,
            LayerKind::Outline,
            LayerKind::Other,
        ]
        .into_iter()
        .find(|&k| kind_name(k) == v)
    }
}

pub fn kind_name(k: LayerKind) -> &'static str {
    match k {
        LayerKind::Copper => "copper",
        LayerKind::SolderMask => "solder mask",
        LayerKind::Outline => "outline",
        LayerKind::Other => "other",
    }
}

#[cfg(test)]
mod tests;
