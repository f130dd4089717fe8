//! Text as geometry (issue 20): a string laid out in a font at a height, position and angle
//! (or along an arc), as open strokes (a single-stroke font, for engraving) or closed outlines
//! (a TrueType/OpenType font, for V-carving or outlined engraving).
//!
//! Two fonts are embedded (see `fonts/README.md` for their licences): Hershey Simplex, a
//! single-stroke font, and Hack, an outline font. Any TrueType or OpenType file the user gives
//! is read with `ttf-parser` (a maintained, allocation-free font parser); its quadratic and
//! cubic curves become arcs within the path tolerance through the same biarc fitting as a
//! drawing's splines. The Hershey format (`.jhf`: a glyph per line, coordinates as letters
//! offset from `R`) is read here: it is 30 lines, and the one crate for it is undocumented.
//!
//! The height is the capital height (as a DXF TEXT's height): an `H` is that tall.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use cavalier_contours::polyline::{PlineCreation, PlineSource, PlineSourceMut, PlineVertex};
use serde::{Deserialize, Serialize};

use crate::geometry::Nurbs;
use crate::geometry::biarc::fit_curve;
use crate::geometry::{Bbox2, Pline, Tolerance, V2};

static HERSHEY_SIMPLEX: &str = include_str!("../fonts/hershey-futural.jhf");
static HACK: &[u8] = include_bytes!("../fonts/Hack-Regular.ttf");

/// The largest font file read.
const MAX_FONT_BYTES: u64 = 64 << 20;

/// The name of the embedded single-stroke font.
pub const STROKE_FONT: &str = "stroke";
/// The name of the embedded outline font.
pub const OUTLINE_FONT: &str = "outline";

/// Why a font cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("cannot read the font {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a TrueType or OpenType font ({reason}); give a .ttf or .otf file, or use the built-in \"stroke\" or \"outline\" font"
    )]
    Parse { path: String, reason: String },
}

/// A single-stroke glyph: its left and right bounds and its strokes, in font units (y up,
/// the baseline at 0).
pub struct StrokeGlyph {
    left: f64,
    right: f64,
    strokes: Vec<Vec<V2>>,
}

/// A font: single-stroke (Hershey) or outline (TrueType/OpenType data).
pub enum Font {
    Stroke {
        glyphs: &'static HashMap<char, StrokeGlyph>,
    },
    Outline {
        data: std::borrow::Cow<'static, [u8]>,
        name: String,
    },
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Font({})", self.name())
    }
}

/// Hershey Simplex's capital height in its units (an `H` from 12 above to 9 below its
/// centre line).
const HERSHEY_CAP: f64 = 21.0;
/// Where Hershey Simplex's baseline lies, in its own (downward) units.
const HERSHEY_BASELINE: f64 = 9.0;

/// Reads a `.jhf` font: glyphs in order from the space (32) on.
fn parse_jhf(text: &str) -> HashMap<char, StrokeGlyph> {
    let mut glyphs = HashMap::new();
    let mut code = 32u32;
    let mut lines = text.lines().peekable();
    while let Some(first) = lines.next() {
        if first.len() < 8 {
            continue;
        }
        let count: usize = first[5..8].trim().parse().unwrap_or(0);
        let mut data: String = first[8..].to_string();
        // A long glyph continues on the next lines.
        while data.len() < 2 * count {
            match lines.next() {
                Some(l) => data.push_str(l),
                None => break,
            }
        }
        let b = data.as_bytes();
        if count == 0 || b.len() < 2 * count {
            continue;
        }
        let v = |k: usize| f64::from(b[k]) - f64::from(b'R');
        let (left, right) = (v(0), v(1));
        let mut strokes: Vec<Vec<V2>> = vec![Vec::new()];
        for k in 1..count {
            let (x, y) = (b[2 * k], b[2 * k + 1]);
            if x == b' ' && y == b'R' {
                strokes.push(Vec::new());
            } else if let Some(s) = strokes.last_mut() {
                s.push(V2::new(v(2 * k), HERSHEY_BASELINE - v(2 * k + 1)));
            }
        }
        strokes.retain(|s| !s.is_empty());
        if let Some(c) = char::from_u32(code) {
            glyphs.insert(
                c,
                StrokeGlyph {
                    left,
                    right,
                    strokes,
                },
            );
        }
        code += 1;
    }
    glyphs
}

impl Font {
    /// The embedded single-stroke font (Hershey Simplex).
    pub fn stroke() -> Self {
        static GLYPHS: OnceLock<HashMap<char, StrokeGlyph>> = OnceLock::new();
        Font::Stroke {
            glyphs: GLYPHS.get_or_init(|| parse_jhf(HERSHEY_SIMPLEX)),
        }
    }

    /// The embedded outline font (Hack).
    pub fn outline() -> Self {
        Font::Outline {
            data: std::borrow::Cow::Borrowed(HACK),
            name: "Hack".into(),
        }
    }

    /// A TrueType or OpenType font file.
    pub fn from_file(path: &Path) -> Result<Self, TextError> {
        let shown = path.display().to_string();
        // Only a plain file of a font's size is read (a drawing may name any path: a device
        // that never ends must not be read to the end).
        let meta = std::fs::metadata(path).map_err(|source| TextError::Read {
            path: shown.clone(),
            source,
        })?;
        if !meta.is_file() || meta.len() > MAX_FONT_BYTES {
            return Err(TextError::Parse {
                path: shown,
                reason: format!("not a plain file of at most {} MB", MAX_FONT_BYTES >> 20),
            });
        }
        let data = std::fs::read(path).map_err(|source| TextError::Read {
            path: shown.clone(),
            source,
        })?;
        if let Err(e) = ttf_parser::Face::parse(&data, 0) {
            return Err(TextError::Parse {
                path: shown,
                reason: e.to_string(),
            });
        }
        let name = path
            .file_stem()
            .map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
        Ok(Font::Outline {
            data: std::borrow::Cow::Owned(data),
            name,
        })
    }

    /// `"stroke"`, `"outline"` (the embedded fonts) or a font file's path (relative to
    /// `base`).
    pub fn by_name(name: &str, base: &Path) -> Result<Self, TextError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | STROKE_FONT => Ok(Font::stroke()),
            OUTLINE_FONT => Ok(Font::outline()),
            _ => Font::from_file(&base.join(name.trim())),
        }
    }

    /// Whether the font draws strokes (else closed outlines).
    pub fn is_stroke(&self) -> bool {
        matches!(self, Font::Stroke { .. })
    }

    pub fn name(&self) -> &str {
        match self {
            Font::Stroke { .. } => "Hershey Simplex",
            Font::Outline { name, .. } => name,
        }
    }
}

/// Where the text sits across its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HAlign {
    #[default]
    Left,
    Center,
    Right,
}

/// Where the text sits on its insertion point, up and down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VAlign {
    #[default]
    Baseline,
    Bottom,
    Middle,
    Top,
}

/// How a text is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextStyle {
    /// Capital height, mm.
    pub height_mm: f64,
    /// Widths are multiplied by this (DXF's width factor).
    pub width_factor: f64,
    /// Slant of the letters, degrees (positive leans right).
    pub oblique_deg: f64,
    /// Direction of the baseline, degrees counter-clockwise from +X (for text along an arc,
    /// where its middle lies on the arc, from the centre).
    pub angle_deg: f64,
    pub halign: HAlign,
    pub valign: VAlign,
    /// Distance between baselines, in heights.
    pub line_spacing: f64,
    /// Along an arc of this radius about the insertion point, mm, reading clockwise over its
    /// top (negative: counter-clockwise under it); none: a straight line.
    pub arc_radius_mm: Option<f64>,
}

impl Default for TextStyle {
    fn default() -> Self {
        Self {
            height_mm: 1.0,
            width_factor: 1.0,
            oblique_deg: 0.0,
            angle_deg: 0.0,
            halign: HAlign::Left,
            valign: VAlign::Baseline,
            line_spacing: 1.6,
            arc_radius_mm: None,
        }
    }
}

/// A text as geometry.
#[derive(Debug, Default, Clone)]
pub struct TextGeometry {
    /// Closed outlines (an outline font), as the font draws them: nest them into regions.
    pub loops: Vec<Pline>,
    /// Open strokes (a single-stroke font).
    pub chains: Vec<Pline>,
    /// Characters the font has no glyph for (drawn as nothing).
    pub missing: Vec<char>,
    pub bbox: Bbox2,
}

/// One glyph's outline in font units.
enum Seg {
    Line(V2),
    Quad(V2, V2),
    Cubic(V2, V2, V2),
}

struct Collect {
    contours: Vec<(V2, Vec<Seg>)>,
}

impl ttf_parser::OutlineBuilder for Collect {
    fn move_to(&mut self, x: f32, y: f32) {
        self.contours
            .push((V2::new(f64::from(x), f64::from(y)), Vec::new()));
    }
    fn line_to(&mut self, x: f32, y: f32) {
        if let Some(c) = self.contours.last_mut() {
            c.1.push(Seg::Line(V2::new(f64::from(x), f64::from(y))));
        }
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        if let Some(c) = self.contours.last_mut() {
            c.1.push(Seg::Quad(
                V2::new(f64::from(x1), f64::from(y1)),
                V2::new(f64::from(x), f64::from(y)),
            ));
        }
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        if let Some(c) = self.contours.last_mut() {
            c.1.push(Seg::Cubic(
                V2::new(f64::from(x1), f64::from(y1)),
                V2::new(f64::from(x2), f64::from(y2)),
                V2::new(f64::from(x), f64::from(y)),
            ));
        }
    }
    fn close(&mut self) {}
}

/// A glyph's place: font units to mm (`scale`, the width factor and the slant), then turned
/// by `angle` and moved to `origin` (the glyph's baseline start).
#[derive(Clone, Copy)]
struct Place {
    scale: f64,
    width: f64,
    shear: f64,
    origin: V2,
    dir: V2,
}

impl Place {
    fn map(&self, p: V2) -> V2 {
        let x = (p.x + p.y * self.shear) * self.scale * self.width;
        let y = p.y * self.scale;
        self.origin + self.dir * x + self.dir.perp() * y
    }
}

/// One line's glyphs: per glyph its advance (font units) and how to draw it.
struct LineGlyph {
    c: char,
    /// The glyph's left bearing start (stroke fonts' left bound; 0 for outlines), font units.
    left: f64,
    advance: f64,
}

/// Lays `text` out in `font` with `style`, its insertion point at `at`; curves within the
/// path tolerance of `tol`. Lines are separated by `\n`.
pub fn layout(text: &str, font: &Font, style: &TextStyle, at: V2, tol: &Tolerance) -> TextGeometry {
    let mut out = TextGeometry {
        bbox: Bbox2::EMPTY,
        ..TextGeometry::default()
    };
    let face = match font {
        Font::Outline { data, .. } => ttf_parser::Face::parse(data, 0).ok(),
        Font::Stroke { .. } => None,
    };
    // Font units per capital height, and the descender (for bottom alignment), font units.
    let (cap, descender) = match (&face, font) {
        (Some(f), _) => (
            f.capital_height()
                .filter(|&h| h > 0)
                .map_or(f64::from(f.units_per_em()) * 0.7, f64::from),
            f64::from(f.descender()),
        ),
        _ => (HERSHEY_CAP, -7.0),
    };
    let scale = style.height_mm / cap;
    let width = style.width_factor;
    let shear = style.oblique_deg.to_radians().tan();
    let lines: Vec<&str> = text.split('\n').collect();
    for (li, line) in lines.iter().enumerate() {
        // The glyphs and their advances.
        let mut glyphs: Vec<LineGlyph> = Vec::new();
        for c in line.chars().filter(|c| !c.is_control()) {
            let g = match (font, &face) {
                (Font::Stroke { glyphs }, _) => glyphs.get(&c).map(|g| LineGlyph {
                    c,
                    left: g.left,
                    advance: g.right - g.left,
                }),
                (Font::Outline { .. }, Some(f)) => f.glyph_index(c).map(|id| LineGlyph {
                    c,
                    left: 0.0,
                    advance: f64::from(f.glyph_hor_advance(id).unwrap_or(0)),
                }),
                _ => None,
            };
            match g {
                Some(g) => glyphs.push(g),
                None => {
                    if !out.missing.contains(&c) {
                        out.missing.push(c);
                    }
                }
            }
        }
        let total: f64 = glyphs.iter().map(|g| g.advance).sum::<f64>() * scale * width;
        let x0 = match style.halign {
            HAlign::Left => 0.0,
            HAlign::Center => -0.5 * total,
            HAlign::Right => -total,
        };
        let y0 = -(li as f64) * style.line_spacing * style.height_mm
            - match style.valign {
                VAlign::Baseline => 0.0,
                VAlign::Bottom => descender * scale,
                VAlign::Middle => 0.5 * style.height_mm,
                VAlign::Top => style.height_mm,
            };
        let base_dir = V2::from_angle(style.angle_deg.to_radians());
        let mut x = x0;
        for g in &glyphs {
            let adv = g.advance * scale * width;
            let place = match style.arc_radius_mm {
                // Along the arc: the glyph's middle at its arc length from the top, the glyph
                // upright on the arc (baseline tangent to it).
                Some(r) if r.abs() > 0.0 => {
                    let mid = x + 0.5 * adv;
                    let up = style.angle_deg.to_radians() + std::f64::consts::FRAC_PI_2;
                    let phi = up - mid / r;
                    let radial = V2::from_angle(phi);
                    let rr = r.abs() + y0 * r.signum();
                    let foot = at + radial * rr * r.signum();
                    let dir = V2::from_angle(phi - std::f64::consts::FRAC_PI_2);
                    Place {
                        scale,
                        width,
                        shear,
                        origin: foot - dir * (0.5 * adv),
                        dir,
                    }
                }
                _ => Place {
                    scale,
                    width,
                    shear,
                    origin: at + base_dir * x + base_dir.perp() * y0,
                    dir: base_dir,
                },
            };
            x += adv;
            match (font, &face) {
                (Font::Stroke { glyphs: table }, _) => {
                    let Some(sg) = table.get(&g.c) else { continue };
                    for s in &sg.strokes {
                        let mut p = Pline::new();
                        for &q in s {
                            let m = place.map(V2::new(q.x - g.left, q.y));
                            p.add(m.x, m.y, 0.0);
                        }
                        if p.vertex_count() >= 2 {
                            out.chains.push(p);
                        }
                    }
                }
                (Font::Outline { .. }, Some(f)) => {
                    let Some(id) = f.glyph_index(g.c) else {
                        continue;
                    };
                    let mut col = Collect {
                        contours: Vec::new(),
                    };
                    if f.outline_glyph(id, &mut col).is_none() {
                        continue;
                    }
                    for (start, segs) in &col.contours {
                        if let Some(l) = contour(*start, segs, &place, tol) {
                            out.loops.push(l);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for p in out.loops.iter().chain(&out.chains) {
        out.bbox.union(&crate::geometry::pline_bbox(p));
    }
    out
}

/// A glyph's contour in mm: lines kept, curves fitted with arcs.
fn contour(start: V2, segs: &[Seg], place: &Place, tol: &Tolerance) -> Option<Pline> {
    let mut verts: Vec<PlineVertex<f64>> = Vec::new();
    let s = place.map(start);
    verts.push(PlineVertex::new(s.x, s.y, 0.0));
    let mut last = start;
    let bezier = |ctrl: &[V2]| -> Option<Nurbs> {
        let deg = ctrl.len() - 1;
        let mut knots = vec![0.0; deg + 1];
        knots.extend(vec![1.0; deg + 1]);
        let pts: Vec<V2> = ctrl.iter().map(|&p| place.map(p)).collect();
        Nurbs::new(deg, knots, &pts, &[]).ok()
    };
    for seg in segs {
        match *seg {
            Seg::Line(p) => {
                let m = place.map(p);
                verts.push(PlineVertex::new(m.x, m.y, 0.0));
                last = p;
            }
            Seg::Quad(c, p) => {
                if let Some(n) = bezier(&[last, c, p]) {
                    fit_curve(&n, tol.path_mm, tol.equal_point_mm, &mut verts);
                }
                last = p;
            }
            Seg::Cubic(c1, c2, p) => {
                if let Some(n) = bezier(&[last, c1, c2, p]) {
                    fit_curve(&n, tol.path_mm, tol.equal_point_mm, &mut verts);
                }
                last = p;
            }
        }
    }
    // Closed: the last point is the first.
    let mut l = Pline::with_capacity(verts.len(), true);
    for v in verts {
        let n = l.vertex_count();
        let dup = n > 0 && {
            let q = l.at(n - 1);
            V2::new(q.x, q.y).dist(V2::new(v.x, v.y)) <= tol.equal_point_mm
        };
        if dup {
            // Keep the later bulge (the segment that starts here).
            l.set_vertex(n - 1, v);
        } else {
            l.add_vertex(v);
        }
    }
    while l.vertex_count() > 2 {
        let (f, e) = (l.at(0), l.at(l.vertex_count() - 1));
        if V2::new(f.x, f.y).dist(V2::new(e.x, e.y)) <= tol.equal_point_mm {
            let n = l.vertex_count();
            l.remove(n - 1);
        } else {
            break;
        }
    }
    (l.vertex_count() >= 2 && l.area().abs() > tol.equal_point_mm * tol.equal_point_mm).then_some(l)
}

/// The text with its counters filled: `{n}` is `n`, `{n:04}` is `n` with zeros to four
/// digits (a serial number per program or per copy).
pub fn with_counter(text: &str, n: u64) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{n") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let Some(end) = tail.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let spec = &tail[..end];
        if spec.is_empty() {
            out.push_str(&n.to_string());
        } else if let Some(w) = spec
            .strip_prefix(":0")
            .and_then(|w| w.parse::<usize>().ok())
        {
            let _ = write!(out, "{n:0w$}");
        } else {
            // Not a counter: kept as written.
            out.push_str(&rest[i..i + 3 + end]);
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
