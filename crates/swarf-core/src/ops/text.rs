//! A text operation (issue 20): a string (with a serial-number counter) laid out in a font at
//! a place, a height and an angle or along an arc ([`crate::text`]), then engraved (strokes or
//! outlines followed at the depth) or V-carved (an outline font's letters as regions).

use serde::{Deserialize, Serialize};

use super::engrave::{EngraveParams, EngraveSide, engrave};
use super::vcarve::{VCarveParams, vcarve};
use super::{Cancel, CutParams, EntryKind, OpError, OpResult, param_err};
use crate::geometry::{Tolerance, V2, nest_loops};
use crate::text::{Font, TextStyle, layout, with_counter};
use crate::tool::Tool;

/// How the letters are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextCut {
    /// Followed at the depth: a stroke font's strokes, an outline font's outlines.
    #[default]
    Engrave,
    /// Carved with a V tool, the depth following the letters' width (an outline font).
    Vcarve,
}

impl std::str::FromStr for TextCut {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "engrave" => Ok(TextCut::Engrave),
            "vcarve" | "v-carve" => Ok(TextCut::Vcarve),
            _ => Err(format!("unknown text cut '{s}'; use engrave or vcarve")),
        }
    }
}

/// A text to cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextParams {
    /// Heights (the engraving's depth, or the V-carve's cap), step-down, entry.
    #[serde(flatten)]
    pub cut: CutParams,
    /// The text; `{n}` or `{n:04}` is the counter (a serial number), `\n` starts a line.
    pub text: String,
    /// `"stroke"` (the built-in single-stroke font), `"outline"` (the built-in outline font)
    /// or a TrueType/OpenType file's path.
    pub font: String,
    /// The insertion point, mm.
    pub x_mm: f64,
    pub y_mm: f64,
    /// Height, angle, alignment, width factor, slant, arc.
    pub style: TextStyle,
    pub cut_as: TextCut,
    /// The counter's value for this program (for the array's first copy).
    pub counter: u64,
    /// With an array of copies, each copy cut carries the next number (in copy order; a
    /// copy left out takes none); false: every copy carries the same.
    pub per_copy: bool,
    /// Engrave on a mesh's surface: the file (the part or one of `[part] with`) whose
    /// surface the depth is measured from (see [`super::project`]); engraving only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onto: Option<String>,
}

impl TextParams {
    /// Whether the text has a counter (`{n}`, `{n:04}`): a serial number.
    pub fn has_counter(&self) -> bool {
        with_counter(&self.text, 0) != with_counter(&self.text, 1)
    }
}

impl Default for TextParams {
    fn default() -> Self {
        Self {
            // An engraving's depth; letters are made of short strokes, so the engraving tool
            // plunges into them.
            cut: CutParams {
                entry: super::Entry {
                    kind: EntryKind::Plunge,
                    ..super::Entry::default()
                },
                ..EngraveParams::default().cut
            },
            text: "SN {n:04}".into(),
            font: crate::text::STROKE_FONT.into(),
            x_mm: 0.0,
            y_mm: 0.0,
            style: TextStyle::default(),
            cut_as: TextCut::Engrave,
            counter: 1,
            per_copy: true,
            onto: None,
        }
    }
}

const OP: &str = "text";
/// The tallest text, mm (a height read in the wrong unit would need billions of arcs).
const MAX_HEIGHT_MM: f64 = 1e5;
/// The farthest place, mm.
const MAX_PLACE_MM: f64 = 1e6;
/// The longest text.
const MAX_CHARS: usize = 10_000;

/// Lays the text out and cuts it with `tool`.
pub fn text(
    p: &TextParams,
    tool: &Tool,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    let s = &p.style;
    let bad = |param: &'static str, v: f64, want: &str| {
        param_err(OP, param, format!("is {v}; it must be {want}"))
    };
    if !(s.height_mm.is_finite() && s.height_mm > 0.0 && s.height_mm <= MAX_HEIGHT_MM) {
        return Err(bad(
            "height_mm",
            s.height_mm,
            "a positive height in mm, at most 100 m",
        ));
    }
    if p.x_mm.abs() > MAX_PLACE_MM
        || p.y_mm.abs() > MAX_PLACE_MM
        || s.arc_radius_mm.is_some_and(|r| r.abs() > MAX_PLACE_MM)
    {
        return Err(param_err(
            OP,
            "x_mm",
            format!("the place or the arc is beyond ±{MAX_PLACE_MM:e} mm; check the unit"),
        ));
    }
    if p.text.chars().count() > MAX_CHARS {
        return Err(param_err(
            OP,
            "text",
            format!("has more than {MAX_CHARS} characters; cut a shorter text"),
        ));
    }
    if !(s.width_factor.is_finite() && s.width_factor > 0.0) {
        return Err(bad("width_factor", s.width_factor, "a positive factor"));
    }
    if !(s.oblique_deg.is_finite() && s.oblique_deg.abs() < 80.0) {
        return Err(bad(
            "oblique_deg",
            s.oblique_deg,
            "between -80 and 80 degrees",
        ));
    }
    if !(s.angle_deg.is_finite()
        && s.line_spacing.is_finite()
        && p.x_mm.is_finite()
        && p.y_mm.is_finite())
    {
        return Err(param_err(
            OP,
            "style",
            "has a value that is not a number (angle, line spacing or position)".into(),
        ));
    }
    if let Some(r) = s.arc_radius_mm
        && !(r.is_finite() && r != 0.0)
    {
        return Err(bad("arc_radius_mm", r, "a radius other than 0 (or none)"));
    }
    let font = Font::by_name(&p.font, std::path::Path::new(""))
        .map_err(|e| param_err(OP, "font", e.to_string()))?;
    let written = with_counter(&p.text, p.counter);
    if written.trim().is_empty() {
        return Err(param_err(
            OP,
            "text",
            "is empty; give the text to cut".into(),
        ));
    }
    if p.cut_as == TextCut::Vcarve && font.is_stroke() {
        return Err(param_err(
            OP,
            "font",
            "is the single-stroke font, whose letters have no width to V-carve: use \"outline\" or a TrueType file, or engrave".into(),
        ));
    }
    if p.cut_as == TextCut::Vcarve && p.onto.is_some() {
        return Err(param_err(
            OP,
            "onto",
            "is set for a V-carved text: a V-carve's width follows its depth below a flat top, which a curved surface does not keep; engrave the text onto the surface, or V-carve it flat".into(),
        ));
    }
    let g = layout(&written, &font, s, V2::new(p.x_mm, p.y_mm), tol);
    let mut out = match p.cut_as {
        TextCut::Engrave => engrave(
            &g.chains,
            &g.loops,
            tool,
            &EngraveParams {
                cut: p.cut,
                side: EngraveSide::On,
                offset_mm: None,
                onto: None,
            },
            tol,
            cancel,
        )?,
        TextCut::Vcarve => vcarve(
            &nest_loops(g.loops.clone(), tol),
            tool,
            &VCarveParams { cut: p.cut },
            tol,
            cancel,
        )?,
    };
    if !g.missing.is_empty() {
        out.warnings.push(format!(
            "text: the font {} has no glyph for {}: left out; choose a font that has them",
            font.name(),
            g.missing
                .iter()
                .map(|c| format!("'{c}' (U+{:04X})", u32::from(*c)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let b = g.bbox;
    out.notes.insert(
        0,
        format!(
            "text: \"{}\" in {}, {} mm high, {:.4} x {:.4} mm at ({:.4}, {:.4}) .. ({:.4}, {:.4})",
            written.replace('\n', "\\n"),
            font.name(),
            s.height_mm,
            b.width(),
            b.height(),
            b.min.x,
            b.min.y,
            b.max.x,
            b.max.y
        ),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::ToolShape;

    fn v_tool() -> Tool {
        let mut t = Tool::micro_flat(1.0);
        t.shape = ToolShape::V {
            angle_deg: 60.0,
            tip_diameter_mm: 0.01,
        };
        t.flute_length_mm = 2.0;
        t
    }

    #[test]
    fn a_serial_number_is_engraved_in_strokes_at_its_place() {
        let p = TextParams {
            counter: 42,
            x_mm: 5.0,
            y_mm: 2.0,
            ..TextParams::default()
        };
        let out = text(
            &p,
            &Tool::micro_flat(0.1),
            &Tolerance::default(),
            &Cancel::NEVER,
        )
        .expect("engraves");
        assert!(out.notes[0].contains("\"SN 0042\""), "{:?}", out.notes);
        // Every cut at the depth, within the text's box.
        let mut n = 0;
        for m in &out.toolpath.moves {
            if m.to.z < -1e-9 {
                assert!((m.to.z + 0.05).abs() < 1e-9, "{:?}", m.to);
                assert!(m.to.x >= 5.0 - 1e-9 && m.to.y >= 2.0 - 1e-9, "{:?}", m.to);
                n += 1;
            }
        }
        assert!(n > 20);
    }

    #[test]
    fn outline_letters_are_v_carved_and_a_stroke_font_is_refused_for_it() {
        let mut p = TextParams {
            text: "AB".into(),
            font: "outline".into(),
            cut_as: TextCut::Vcarve,
            ..TextParams::default()
        };
        p.cut.heights.final_depth_mm = 0.5;
        let out = text(&p, &v_tool(), &Tolerance::default(), &Cancel::NEVER).expect("carves");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert!(
            out.notes.iter().any(|n| n.contains("vcarve: 2 region(s)")),
            "{:?}",
            out.notes
        );
        p.font = "stroke".into();
        let e = text(&p, &v_tool(), &Tolerance::default(), &Cancel::NEVER).expect_err("strokes");
        assert!(e.to_string().contains("no width to V-carve"), "{e}");
        p.font = "/nonexistent/font.ttf".into();
        let e = text(&p, &v_tool(), &Tolerance::default(), &Cancel::NEVER).expect_err("no file");
        assert!(e.to_string().contains("cannot read the font"), "{e}");
        p.font = "outline".into();
        p.style.height_mm = 0.0;
        let e = text(&p, &v_tool(), &Tolerance::default(), &Cancel::NEVER).expect_err("height");
        assert!(e.to_string().contains("height_mm"), "{e}");
    }
}
