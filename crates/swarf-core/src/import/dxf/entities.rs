//! From DXF groups to geometric entities in the entity's own coordinates (OCS applied).

use std::collections::{BTreeMap, HashMap};

use cavalier_contours::polyline::PlineVertex;

use super::reader::Pair;
use crate::geometry::{Affine2, EllipseArc, FitPointCurve, Nurbs, V2};
use crate::text::{HAlign, TextStyle, VAlign};

/// Where an entity came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Src {
    pub kind: String,
    pub handle: Option<String>,
    pub line: usize,
    pub layer: String,
}

impl std::fmt::Display for Src {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.handle {
            Some(h) => write!(f, "{} (handle {}, line {})", self.kind, h, self.line),
            None => write!(f, "{} at line {}", self.kind, self.line),
        }
    }
}

/// A drawable primitive.
#[derive(Debug, Clone)]
pub(crate) enum Prim {
    Line(V2, V2),
    /// Centre, radius, start angle (rad), signed sweep (rad, positive counter-clockwise).
    Arc(V2, f64, f64, f64),
    Circle(V2, f64),
    Poly(Vec<PlineVertex<f64>>, bool),
    Ellipse(EllipseArc),
    Spline(Nurbs, bool),
    FitSpline(Vec<V2>, bool, Option<V2>, Option<V2>),
}

impl Prim {
    /// The primitive mapped by `t`. Similarity transforms keep arcs as arcs; others turn them
    /// into elliptical arcs (a non-uniformly scaled block).
    pub fn transformed(&self, t: &Affine2) -> Vec<Prim> {
        let sim = t.similarity_scale(1e-12);
        let mirror = t.is_mirroring();
        match self {
            Prim::Line(a, b) => vec![Prim::Line(t.apply(*a), t.apply(*b))],
            Prim::Circle(c, r) => match sim {
                Some(s) => vec![Prim::Circle(t.apply(*c), r * s)],
                None => vec![Prim::Ellipse(
                    EllipseArc {
                        centre: *c,
                        u: V2::new(*r, 0.0),
                        v: V2::new(0.0, *r),
                        t0: 0.0,
                        t1: std::f64::consts::TAU,
                    }
                    .transformed(t),
                )],
            },
            Prim::Arc(c, r, a0, sweep) => {
                if let Some(s) = sim {
                    let p0 = t.apply(*c + V2::from_angle(*a0) * *r);
                    let c2 = t.apply(*c);
                    let sw = if mirror { -sweep } else { *sweep };
                    vec![Prim::Arc(c2, r * s, (p0 - c2).angle(), sw)]
                } else {
                    let (t0, t1) = if *sweep >= 0.0 {
                        (*a0, a0 + sweep)
                    } else {
                        (a0 + sweep, *a0)
                    };
                    vec![Prim::Ellipse(
                        EllipseArc {
                            centre: *c,
                            u: V2::new(*r, 0.0),
                            v: V2::new(0.0, *r),
                            t0,
                            t1,
                        }
                        .transformed(t),
                    )]
                }
            }
            Prim::Poly(verts, closed) => {
                if sim.is_some() {
                    let sign = if mirror { -1.0 } else { 1.0 };
                    let v = verts
                        .iter()
                        .map(|v| {
                            let p = t.apply(V2::new(v.x, v.y));
                            PlineVertex::new(p.x, p.y, v.bulge * sign)
                        })
                        .collect();
                    vec![Prim::Poly(v, *closed)]
                } else {
                    // Arcs become elliptical arcs: split into single segments, transform each,
                    // chaining joins them again.
                    let n = verts.len();
                    let segs = if *closed { n } else { n.saturating_sub(1) };
                    let mut out = Vec::new();
                    for i in 0..segs {
                        let (a, b) = (verts[i], verts[(i + 1) % n]);
                        let (pa, pb) = (V2::new(a.x, a.y), V2::new(b.x, b.y));
                        if a.bulge == 0.0 {
                            out.push(Prim::Line(pa, pb));
                        } else {
                            let (c, r, a0, sw) =
                                crate::geometry::biarc::arc_from_bulge(pa, pb, a.bulge);
                            out.extend(Prim::Arc(c, r, a0, sw).transformed(t));
                        }
                    }
                    out
                }
            }
            Prim::Ellipse(e) => vec![Prim::Ellipse(e.transformed(t))],
            Prim::Spline(s, closed) => vec![Prim::Spline(s.transformed(t), *closed)],
            Prim::FitSpline(p, closed, s, e) => vec![Prim::FitSpline(
                p.iter().map(|q| t.apply(*q)).collect(),
                *closed,
                s.map(|v| t.apply_vector(v)),
                e.map(|v| t.apply_vector(v)),
            )],
        }
    }

    /// The largest absolute coordinate the primitive reaches (roughly; infinite when a value
    /// is not finite).
    pub fn max_abs_coord(&self) -> f64 {
        let m = |p: V2| {
            if p.is_finite() {
                p.x.abs().max(p.y.abs())
            } else {
                f64::INFINITY
            }
        };
        let f = |v: f64| {
            if v.is_finite() {
                v.abs()
            } else {
                f64::INFINITY
            }
        };
        match self {
            Prim::Line(a, b) => m(*a).max(m(*b)),
            Prim::Arc(c, r, a0, sw) => m(*c) + f(*r) + f(*a0) * 0.0 + f(*sw) * 0.0,
            Prim::Circle(c, r) => m(*c) + f(*r),
            Prim::Poly(v, _) => v
                .iter()
                .map(|p| {
                    m(V2::new(p.x, p.y)).max(if p.bulge.is_finite() {
                        0.0
                    } else {
                        f64::INFINITY
                    })
                })
                .fold(0.0, f64::max),
            Prim::Ellipse(e) => m(e.centre) + m(e.u) + m(e.v) + f(e.t0) * 0.0 + f(e.t1) * 0.0,
            Prim::Spline(s, _) => s.max_abs_coord(),
            Prim::FitSpline(p, ..) => p.iter().map(|q| m(*q)).fold(0.0, f64::max),
        }
    }

    /// The fit-point curve of a `FitSpline`.
    pub fn fit_curve(
        p: &[V2],
        closed: bool,
        s: Option<V2>,
        e: Option<V2>,
    ) -> Option<FitPointCurve> {
        FitPointCurve::new(p.to_vec(), closed, s, e)
    }
}

/// A parsed entity.
#[derive(Debug, Clone)]
pub(crate) enum Ent {
    Prim(Prim, Src),
    Insert(Insert),
    Text(TextEnt),
}

impl Ent {
    pub fn src(&self) -> &Src {
        match self {
            Ent::Prim(_, s) => s,
            Ent::Insert(i) => &i.src,
            Ent::Text(t) => &t.src,
        }
    }
}

/// A TEXT or MTEXT: its string (control codes decoded), style name, insertion point and
/// layout, in the entity's coordinates.
#[derive(Debug, Clone)]
pub(crate) struct TextEnt {
    pub text: String,
    pub style: String,
    pub at: V2,
    pub layout: crate::text::TextStyle,
    /// The entity's OCS (a mirrored plane), applied after the layout.
    pub ocs: Option<Affine2>,
    pub src: Src,
}

/// A TEXT's string with its `%%` codes decoded (degree, plus-minus, diameter, percent;
/// underline and overline toggles dropped) and `\U+XXXX` characters.
pub(crate) fn decode_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix("%%") {
            let c = tail.chars().next().unwrap_or(' ');
            match c.to_ascii_lowercase() {
                'd' => out.push('\u{b0}'),
                'p' => out.push('\u{b1}'),
                'c' => out.push('\u{d8}'),
                '%' => out.push('%'),
                'u' | 'o' | 'k' => {}
                _ if c.is_ascii_digit() => {
                    // %%nnn: a character by its code.
                    let digits: String = tail
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .take(3)
                        .collect();
                    if let Some(ch) = digits.parse::<u32>().ok().and_then(char::from_u32) {
                        out.push(ch);
                    }
                    rest = &tail[digits.len()..];
                    continue;
                }
                _ => out.push_str("%%"),
            }
            rest = tail.get(c.len_utf8()..).unwrap_or("");
            continue;
        }
        if let Some(tail) = rest
            .strip_prefix("\\U+")
            .or_else(|| rest.strip_prefix("\\u+"))
            && let Some(ch) = tail
                .get(..4)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        {
            out.push(ch);
            rest = &tail[4..];
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// An MTEXT's string without its formatting: `\P` breaks the line, `\~` is a space, `\S`
/// stacks become `a/b`, font, height, colour and other codes go, braces go.
pub(crate) fn decode_mtext(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' | '}' => i += 1,
            '\\' if i + 1 < chars.len() => {
                let code = chars[i + 1];
                i += 2;
                match code {
                    'P' | 'n' => out.push('\n'),
                    '~' => out.push(' '),
                    '\\' | '{' | '}' => out.push(code),
                    'L' | 'l' | 'O' | 'o' | 'K' | 'k' | 'N' => {}
                    'S' => {
                        // \Sa^b; or \Sa/b; or \Sa#b;
                        while i < chars.len() && chars[i] != ';' {
                            out.push(if matches!(chars[i], '^' | '#') {
                                '/'
                            } else {
                                chars[i]
                            });
                            i += 1;
                        }
                        i += 1;
                    }
                    'U' | 'u' if chars.get(i) == Some(&'+') => {
                        let hex: String = chars[i + 1..].iter().take(4).collect();
                        if let Some(ch) =
                            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            out.push(ch);
                            i += 5;
                        }
                    }
                    // Codes with an argument up to ';' (alignment, colour, font, height,
                    // slant, tracking, width, paragraph).
                    _ => {
                        while i < chars.len() && chars[i] != ';' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    decode_text(&out)
}

#[derive(Debug, Clone)]
pub(crate) struct Insert {
    pub block: String,
    /// Maps block coordinates (after subtracting the base point) to the parent's coordinates,
    /// one per array cell.
    pub transforms: Vec<Affine2>,
    pub src: Src,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    pub base: V2,
    pub ents: Vec<Ent>,
}

/// Everything read from the file's sections.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub version: Option<String>,
    pub insunits: Option<i64>,
    pub measurement: Option<i64>,
    pub table_layers: Vec<String>,
    /// Text styles by their upper-case name: the font file each names (group 3).
    pub styles: HashMap<String, String>,
    pub blocks: HashMap<String, Block>,
    pub entities: Vec<Ent>,
    /// Model-space entity counts by type, as written in the file.
    pub counts: BTreeMap<String, usize>,
    /// Unsupported entity types (model space and blocks) and how many of each.
    pub unsupported: BTreeMap<String, usize>,
    /// Entities that could not be read: where, and what is wrong.
    pub problems: Vec<(Src, String)>,
    pub had_section: bool,
}

/// Entity types that carry no machinable geometry; counted and reported, never fatal.
const UNSUPPORTED_HINT: &[(&str, &str)] = &[
    (
        "HATCH",
        "fills are not boundaries; draw the boundary as a polyline",
    ),
    ("DIMENSION", "annotation"),
    ("POINT", "points are not boundaries"),
];

fn hint(kind: &str) -> &'static str {
    UNSUPPORTED_HINT
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("not supported for machining", |(_, h)| h)
}

/// Reads groups into sections, blocks and entities.
pub(crate) fn parse(pairs: &[Pair<'_>]) -> Parsed {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < pairs.len() {
        let p = pairs[i];
        if p.code == 0 && p.value == "SECTION" {
            out.had_section = true;
            let name = pairs.get(i + 1).filter(|q| q.code == 2).map(|q| q.value);
            let start = i + if name.is_some() { 2 } else { 1 };
            let end = pairs[start..]
                .iter()
                .position(|q| q.code == 0 && (q.value == "ENDSEC" || q.value == "EOF"))
                .map_or(pairs.len(), |k| start + k);
            let body = &pairs[start..end];
            match name {
                Some("HEADER") => parse_header(body, &mut out),
                Some("TABLES") => parse_tables(body, &mut out),
                Some("BLOCKS") => parse_blocks(body, &mut out),
                Some("ENTITIES") => {
                    let ents = parse_entities(body, &mut out, true);
                    out.entities.extend(ents);
                }
                _ => {}
            }
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn parse_header(body: &[Pair<'_>], out: &mut Parsed) {
    let mut var = "";
    for p in body {
        if p.code == 9 {
            var = p.value;
            continue;
        }
        match (var, p.code) {
            ("$ACADVER", 1) => out.version = Some(p.value.to_string()),
            ("$INSUNITS", 70) => out.insunits = p.value.parse().ok(),
            ("$MEASUREMENT", 70) => out.measurement = p.value.parse().ok(),
            _ => {}
        }
    }
}

fn parse_tables(body: &[Pair<'_>], out: &mut Parsed) {
    let mut record = "";
    let mut style: Option<String> = None;
    for p in body {
        if p.code == 0 {
            record = p.value;
            style = None;
        } else if record == "LAYER" && p.code == 2 && !out.table_layers.iter().any(|l| l == p.value)
        {
            out.table_layers.push(p.value.to_string());
        } else if record == "STYLE" && p.code == 2 {
            style = Some(p.value.to_ascii_uppercase());
            out.styles.entry(p.value.to_ascii_uppercase()).or_default();
        } else if record == "STYLE"
            && p.code == 3
            && let Some(s) = &style
        {
            out.styles.insert(s.clone(), p.value.trim().to_string());
        }
    }
}

fn parse_blocks(body: &[Pair<'_>], out: &mut Parsed) {
    let mut i = 0;
    while i < body.len() {
        if body[i].code == 0 && body[i].value == "BLOCK" {
            let head_end = body[i + 1..]
                .iter()
                .position(|q| q.code == 0)
                .map_or(body.len(), |k| i + 1 + k);
            let head = &body[i + 1..head_end];
            let name = head
                .iter()
                .find(|q| q.code == 2)
                .map_or_else(String::new, |q| q.value.to_string());
            let base = V2::new(num(head, 10).unwrap_or(0.0), num(head, 20).unwrap_or(0.0));
            let end = body[head_end..]
                .iter()
                .position(|q| q.code == 0 && q.value == "ENDBLK")
                .map_or(body.len(), |k| head_end + k);
            let ents = parse_entities(&body[head_end..end], out, false);
            out.blocks.insert(name, Block { base, ents });
            i = end + 1;
        } else {
            i += 1;
        }
    }
}

/// First value of `code` as a number; `None` when absent or not a finite number.
fn num(pairs: &[Pair<'_>], code: i32) -> Option<f64> {
    pairs
        .iter()
        .find(|p| p.code == code)
        .and_then(|p| p.value.parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn int(pairs: &[Pair<'_>], code: i32) -> Option<i64> {
    pairs
        .iter()
        .find(|p| p.code == code)
        .and_then(|p| p.value.parse::<i64>().ok())
}

/// Checks that every coordinate-like group of an entity is a finite number; the first one that
/// is not is returned as a message.
fn check_numbers(pairs: &[Pair<'_>]) -> Result<(), String> {
    for p in pairs {
        let numeric = (10..=59).contains(&p.code) || (210..=239).contains(&p.code);
        if numeric && !p.value.parse::<f64>().is_ok_and(f64::is_finite) {
            return Err(format!(
                "value '{}' of group code {} at line {} is not a finite number",
                p.value.chars().take(30).collect::<String>(),
                p.code,
                p.line + 1
            ));
        }
    }
    Ok(())
}

/// Splits a run of groups into entity records (each starting at a code-0 group) and parses
/// them. `model` says whether counts go to the model-space statistics.
fn parse_entities(body: &[Pair<'_>], out: &mut Parsed, model: bool) -> Vec<Ent> {
    let mut recs: Vec<(&Pair<'_>, &[Pair<'_>])> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if body[i].code != 0 {
            i += 1;
            continue;
        }
        let end = body[i + 1..]
            .iter()
            .position(|q| q.code == 0)
            .map_or(body.len(), |k| i + 1 + k);
        recs.push((&body[i], &body[i + 1..end]));
        i = end;
    }
    let mut ents = Vec::new();
    let mut k = 0;
    while k < recs.len() {
        let (head, data) = recs[k];
        k += 1;
        let kind = head.value;
        if matches!(kind, "VERTEX" | "SEQEND" | "ATTRIB") {
            // Stray sequence members (those after a POLYLINE or INSERT are consumed there).
            continue;
        }
        if model {
            *out.counts.entry(kind.to_string()).or_insert(0) += 1;
        }
        let src = Src {
            kind: kind.to_string(),
            handle: data
                .iter()
                .find(|p| p.code == 5)
                .map(|p| p.value.to_string()),
            line: head.line,
            layer: data
                .iter()
                .find(|p| p.code == 8)
                .map_or_else(|| "0".to_string(), |p| p.value.to_string()),
        };
        // Sequences: POLYLINE owns the following VERTEX records up to SEQEND; an INSERT with
        // attributes owns ATTRIBs up to SEQEND.
        let mut vertices: Vec<&[Pair<'_>]> = Vec::new();
        if kind == "POLYLINE" || (kind == "INSERT" && int(data, 66) == Some(1)) {
            while k < recs.len() && recs[k].0.value != "SEQEND" {
                if matches!(recs[k].0.value, "VERTEX") {
                    vertices.push(recs[k].1);
                } else if recs[k].0.value != "ATTRIB" {
                    break;
                }
                k += 1;
            }
            if k < recs.len() && recs[k].0.value == "SEQEND" {
                k += 1;
            }
        }
        match parse_entity(kind, data, &vertices, &src) {
            Ok(Some(e)) => ents.push(e),
            Ok(None) => {
                *out.unsupported.entry(kind.to_string()).or_insert(0) += 1;
            }
            Err(msg) => out.problems.push((src, msg)),
        }
    }
    ents
}

/// The OCS of an entity: `Ok(None)` for the world XY plane, `Ok(Some(mirror))` for the
/// extrusion (0,0,-1), an error for planes not parallel to XY.
fn ocs(data: &[Pair<'_>]) -> Result<Option<Affine2>, String> {
    let n = (
        num(data, 210).unwrap_or(0.0),
        num(data, 220).unwrap_or(0.0),
        num(data, 230).unwrap_or(1.0),
    );
    let len = (n.0 * n.0 + n.1 * n.1 + n.2 * n.2).sqrt();
    if len == 0.0 {
        return Ok(None);
    }
    let (x, y, z) = (n.0 / len, n.1 / len, n.2 / len);
    if x.abs() > 1e-9 || y.abs() > 1e-9 {
        return Err(format!(
            "lies in a plane that is not parallel to XY (extrusion direction {x:.4}, {y:.4}, \
             {z:.4}); rotate it into the XY plane in your CAD program"
        ));
    }
    // Arbitrary-axis algorithm for N = (0,0,-1): OCS X = (-1,0,0), OCS Y = (0,1,0).
    Ok(if z < 0.0 {
        Some(Affine2::scale(-1.0, 1.0))
    } else {
        None
    })
}

fn with_ocs(p: Prim, data: &[Pair<'_>]) -> Result<Prim, String> {
    Ok(match ocs(data)? {
        None => p,
        Some(m) => p
            .transformed(&m)
            .pop()
            .expect("a similarity maps a primitive to one primitive"),
    })
}

fn parse_entity(
    kind: &str,
    data: &[Pair<'_>],
    vertices: &[&[Pair<'_>]],
    src: &Src,
) -> Result<Option<Ent>, String> {
    let need = |code: i32| num(data, code).ok_or_else(|| format!("has no valid group code {code}"));
    let prim = match kind {
        "LINE" => {
            check_numbers(data)?;
            Prim::Line(V2::new(need(10)?, need(20)?), V2::new(need(11)?, need(21)?))
        }
        "CIRCLE" => {
            check_numbers(data)?;
            let r = need(40)?;
            if r <= 0.0 {
                return Err(format!("has radius {r}; needs a positive radius"));
            }
            with_ocs(Prim::Circle(V2::new(need(10)?, need(20)?), r), data)?
        }
        "ARC" => {
            check_numbers(data)?;
            let r = need(40)?;
            if r <= 0.0 {
                return Err(format!("has radius {r}; needs a positive radius"));
            }
            // Angles count modulo a turn (a huge start angle would otherwise reach the curve
            // code as a parameter where adding a quarter turn changes nothing).
            let a0 = num(data, 50).unwrap_or(0.0).rem_euclid(360.0);
            let a1 = num(data, 51).unwrap_or(360.0);
            let mut sweep = (a1 - a0).rem_euclid(360.0);
            if sweep == 0.0 {
                sweep = 360.0;
            }
            let c = V2::new(need(10)?, need(20)?);
            if sweep >= 360.0 {
                with_ocs(Prim::Circle(c, r), data)?
            } else {
                with_ocs(Prim::Arc(c, r, a0.to_radians(), sweep.to_radians()), data)?
            }
        }
        "LWPOLYLINE" => {
            check_numbers(data)?;
            let closed = int(data, 70).unwrap_or(0) & 1 == 1;
            let mut verts: Vec<PlineVertex<f64>> = Vec::new();
            for p in data {
                let v: f64 = p.value.parse().unwrap_or(0.0);
                match p.code {
                    10 => verts.push(PlineVertex::new(v, 0.0, 0.0)),
                    20 => {
                        if let Some(l) = verts.last_mut() {
                            l.y = v;
                        }
                    }
                    42 => {
                        if let Some(l) = verts.last_mut() {
                            l.bulge = v;
                        }
                    }
                    _ => {}
                }
            }
            poly_prim(verts, closed, data)?
        }
        "POLYLINE" => {
            check_numbers(data)?;
            let flags = int(data, 70).unwrap_or(0);
            if flags & (16 | 64) != 0 {
                return Ok(None); // polygon / polyface mesh: 3D surface, not a curve
            }
            let closed = flags & 1 == 1;
            let mut verts = Vec::new();
            for v in vertices {
                check_numbers(v)?;
                let vf = int(v, 70).unwrap_or(0);
                if vf & 16 != 0 || vf & 128 != 0 && vf & 64 == 0 {
                    continue; // spline frame control point / face record
                }
                verts.push(PlineVertex::new(
                    num(v, 10).unwrap_or(0.0),
                    num(v, 20).unwrap_or(0.0),
                    num(v, 42).unwrap_or(0.0),
                ));
            }
            if flags & 8 != 0 {
                // 3D polyline: world coordinates, no bulges.
                for v in &mut verts {
                    v.bulge = 0.0;
                }
                if verts.len() < 2 {
                    return Err(format!("has {} vertices; needs at least 2", verts.len()));
                }
                Prim::Poly(verts, closed)
            } else {
                poly_prim(verts, closed, data)?
            }
        }
        "SPLINE" => {
            check_numbers(data)?;
            spline_prim(data)?
        }
        "ELLIPSE" => {
            check_numbers(data)?;
            let c = V2::new(need(10)?, need(20)?);
            let m = V2::new(need(11)?, need(21)?);
            let ratio = num(data, 40).unwrap_or(1.0);
            if m.length() == 0.0 || !(ratio > 0.0 && ratio <= 1.0 + 1e-9) {
                return Err(format!(
                    "has major axis length {} and axis ratio {ratio}; needs a non-zero axis and \
                     a ratio in (0, 1]",
                    m.length()
                ));
            }
            let nz = num(data, 230).unwrap_or(1.0);
            if num(data, 210).unwrap_or(0.0).abs() > 1e-9
                || num(data, 220).unwrap_or(0.0).abs() > 1e-9
            {
                return Err("lies in a plane that is not parallel to XY; rotate it into the XY plane in your CAD program".into());
            }
            let v = m.perp() * (ratio * nz.signum());
            // The parameters are angles: the start counts modulo a turn, an end at or before
            // the start means the next turn, and more than a turn is a full ellipse. (Done with
            // `rem_euclid`, not by adding turns: a start parameter of 1e9, found by fuzzing,
            // took a loop of 10^8 turns, and one of 1e300 would never have ended.)
            let tau = std::f64::consts::TAU;
            let start = num(data, 41).unwrap_or(0.0);
            let d = num(data, 42).unwrap_or(tau) - start;
            let sweep = if d > tau {
                tau
            } else {
                match d.rem_euclid(tau) {
                    s if s > 0.0 => s,
                    _ => tau,
                }
            };
            let t0 = start.rem_euclid(tau);
            let t1 = t0 + sweep;
            Prim::Ellipse(EllipseArc {
                centre: c,
                u: m,
                v,
                t0,
                t1,
            })
        }
        "TEXT" | "MTEXT" => {
            check_numbers(data)?;
            let h = need(40)?;
            if h.is_nan() || h <= 0.0 {
                return Err(format!("has height {h}; needs a positive height"));
            }
            let style = data
                .iter()
                .find(|p| p.code == 7)
                .map_or_else(|| "STANDARD".to_string(), |p| p.value.to_ascii_uppercase());
            let first = V2::new(need(10)?, need(20)?);
            let second = num(data, 11).zip(num(data, 21)).map(|(x, y)| V2::new(x, y));
            let (text, at, layout) = if kind == "TEXT" {
                let raw = data.iter().find(|p| p.code == 1).map_or("", |p| p.value);
                let (h72, v73) = (int(data, 72).unwrap_or(0), int(data, 73).unwrap_or(0));
                // Justified text sits on its second alignment point; "aligned" and "fit"
                // (3, 5) are laid out from the first at their own width.
                let at = if (h72 != 0 && h72 != 3 && h72 != 5) || v73 != 0 {
                    second.unwrap_or(first)
                } else {
                    first
                };
                let halign = match h72 {
                    1 | 4 => HAlign::Center,
                    2 => HAlign::Right,
                    _ => HAlign::Left,
                };
                let valign = match (v73, h72) {
                    (1, _) => VAlign::Bottom,
                    (2, _) | (0, 4) => VAlign::Middle,
                    (3, _) => VAlign::Top,
                    _ => VAlign::Baseline,
                };
                let layout = TextStyle {
                    height_mm: h,
                    width_factor: num(data, 41).filter(|w| *w > 0.0).unwrap_or(1.0),
                    oblique_deg: num(data, 51).unwrap_or(0.0),
                    angle_deg: num(data, 50).unwrap_or(0.0),
                    halign,
                    valign,
                    ..TextStyle::default()
                };
                (decode_text(raw), at, layout)
            } else {
                // The text in pieces: groups 3 first, then 1.
                let mut raw = String::new();
                for p in data.iter().filter(|p| p.code == 3) {
                    raw.push_str(p.value);
                }
                if let Some(p) = data.iter().find(|p| p.code == 1) {
                    raw.push_str(p.value);
                }
                let attach = int(data, 71).unwrap_or(1).clamp(1, 9);
                let halign = match (attach - 1) % 3 {
                    0 => HAlign::Left,
                    1 => HAlign::Center,
                    _ => HAlign::Right,
                };
                let valign = match (attach - 1) / 3 {
                    0 => VAlign::Top,
                    1 => VAlign::Middle,
                    _ => VAlign::Bottom,
                };
                // The direction: group 50, else the X-axis vector (11, 21).
                let angle = num(data, 50)
                    .unwrap_or_else(|| second.map_or(0.0, |d| d.y.atan2(d.x).to_degrees()));
                let layout = TextStyle {
                    height_mm: h,
                    angle_deg: angle,
                    halign,
                    valign,
                    line_spacing: 5.0 / 3.0 * num(data, 44).filter(|f| *f > 0.0).unwrap_or(1.0),
                    ..TextStyle::default()
                };
                let text = decode_mtext(&raw);
                // Middle and bottom attach to the whole block: its first line moves up.
                let lines = text.split('\n').count().max(1) as f64 - 1.0;
                let up = match layout.valign {
                    VAlign::Middle => 0.5 * lines,
                    VAlign::Bottom => lines,
                    _ => 0.0,
                } * layout.line_spacing
                    * h;
                let at = first + V2::from_angle(angle.to_radians()).perp() * up;
                (text, at, layout)
            };
            return Ok(Some(Ent::Text(TextEnt {
                text,
                style,
                at,
                layout,
                ocs: ocs(data)?,
                src: src.clone(),
            })));
        }
        "INSERT" => {
            check_numbers(data)?;
            let block = data
                .iter()
                .find(|p| p.code == 2)
                .map(|p| p.value.to_string())
                .ok_or("has no block name (group code 2)")?;
            let ins = V2::new(num(data, 10).unwrap_or(0.0), num(data, 20).unwrap_or(0.0));
            let sx = num(data, 41).unwrap_or(1.0);
            let sy = num(data, 42).unwrap_or(1.0);
            if sx == 0.0 || sy == 0.0 {
                return Err(format!(
                    "has scale {sx} x {sy}; a zero scale flattens the block"
                ));
            }
            let rot = num(data, 50).unwrap_or(0.0).to_radians();
            let cols = int(data, 70).unwrap_or(1).max(1);
            let rows = int(data, 71).unwrap_or(1).max(1);
            if cols.saturating_mul(rows) > 10_000 {
                return Err(format!(
                    "is an array of {cols} x {rows} copies; more than 10000 copies is refused"
                ));
            }
            let (csp, rsp) = (num(data, 44).unwrap_or(0.0), num(data, 45).unwrap_or(0.0));
            let ocs = ocs(data)?.unwrap_or(Affine2::IDENTITY);
            let local = Affine2::rotate(rot).then_after(&Affine2::scale(sx, sy));
            let mut transforms = Vec::new();
            for r in 0..rows {
                for c in 0..cols {
                    let off =
                        Affine2::rotate(rot).apply_vector(V2::new(c as f64 * csp, r as f64 * rsp));
                    transforms.push(
                        ocs.then_after(&Affine2::translate(ins + off))
                            .then_after(&local),
                    );
                }
            }
            return Ok(Some(Ent::Insert(Insert {
                block,
                transforms,
                src: src.clone(),
            })));
        }
        _ => return Ok(None),
    };
    Ok(Some(Ent::Prim(prim, src.clone())))
}

fn poly_prim(
    verts: Vec<PlineVertex<f64>>,
    closed: bool,
    data: &[Pair<'_>],
) -> Result<Prim, String> {
    if verts.len() < 2 {
        return Err(format!("has {} vertices; needs at least 2", verts.len()));
    }
    if verts
        .iter()
        .any(|v| !(v.x.is_finite() && v.y.is_finite() && v.bulge.is_finite()))
    {
        return Err("has a vertex that is not a finite number".into());
    }
    with_ocs(Prim::Poly(verts, closed), data)
}

fn spline_prim(data: &[Pair<'_>]) -> Result<Prim, String> {
    let flags = int(data, 70).unwrap_or(0);
    let degree = int(data, 71).unwrap_or(3);
    let mut knots = Vec::new();
    let mut weights = Vec::new();
    let mut ctrl: Vec<V2> = Vec::new();
    let mut fit: Vec<V2> = Vec::new();
    let (mut st, mut et) = (None::<V2>, None::<V2>);
    for p in data {
        let v: f64 = p.value.parse().unwrap_or(0.0);
        match p.code {
            40 => knots.push(v),
            41 => weights.push(v),
            10 => ctrl.push(V2::new(v, 0.0)),
            20 => {
                if let Some(c) = ctrl.last_mut() {
                    c.y = v;
                }
            }
            11 => fit.push(V2::new(v, 0.0)),
            21 => {
                if let Some(c) = fit.last_mut() {
                    c.y = v;
                }
            }
            12 => st = Some(V2::new(v, 0.0)),
            22 => {
                if let Some(s) = st.as_mut() {
                    s.y = v;
                }
            }
            13 => et = Some(V2::new(v, 0.0)),
            23 => {
                if let Some(e) = et.as_mut() {
                    e.y = v;
                }
            }
            _ => {}
        }
    }
    let closed = flags & 1 == 1;
    if ctrl.is_empty() {
        if fit.len() < 2 {
            return Err(format!(
                "has {} control points and {} fit points; needs control points, or at least 2 \
                 fit points",
                ctrl.len(),
                fit.len()
            ));
        }
        let st = st.filter(|v| v.length() > 0.0);
        let et = et.filter(|v| v.length() > 0.0);
        return Ok(Prim::FitSpline(fit, closed, st, et));
    }
    if !(1..=15).contains(&degree) {
        return Err(format!("has degree {degree}; needs 1 to 15"));
    }
    let degree = degree as usize;
    // Some writers give a weight of 1 per control point only for rational splines; others
    // give none. A count mismatch is an error of the file.
    let nurbs = Nurbs::new(degree, knots, &ctrl, &weights).map_err(|e| e.to_string())?;
    Ok(Prim::Spline(nurbs, closed))
}

/// What to say about unsupported entity types.
pub(crate) fn unsupported_warning(kind: &str, count: usize) -> String {
    format!(
        "dxf: ignored {count} {kind} entit{} ({})",
        if count == 1 { "y" } else { "ies" },
        hint(kind)
    )
}
