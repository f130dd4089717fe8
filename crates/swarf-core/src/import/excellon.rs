//! Excellon drill files (the PCB drill format): the `M48` header with `METRIC`/`INCH`, the
//! zero format (`LZ`: leading zeros kept, `TZ`: trailing zeros kept), a number template
//! (`000.000`) or `KiCad`'s `;FILE_FORMAT=3:3`, tools `T1C0.8`; the body's tool selections,
//! holes `X…Y…` (modal, absolute `G90` or incremental `G91`/`ICI,ON`), `M71`/`M72` unit
//! switches and `G85` slots. Each hole becomes a circle of its tool's diameter in a
//! [`Drawing`], on a layer named after its tool (`T1`), so the drawing's hole finding, layer
//! choice and every operation work on a drill file as on a DXF.
//!
//! Written by hand: no maintained Rust crate reads Excellon (the Gerber crates do not), and
//! this reader must name the line of every problem and survive damaged files (it is fuzzed).

use std::collections::BTreeMap;

use cavalier_contours::polyline::{PlineSourceMut, PlineVertex};

use super::dxf::{Drawing, Layer};
use super::units::{Units, plausibility_warning};
use crate::geometry::{Bbox2, Pline, Tolerance, V2, nest_loops, pline_bbox};

/// A drill file that cannot be read, with the line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExcellonError {
    #[error("excellon: line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("excellon: {0}")]
    File(String),
}

/// Holes per file at most (a board has thousands; a corrupt file must not exhaust memory).
const MAX_HOLES: usize = 2_000_000;
/// Coordinates beyond this are refused, mm (as the DXF and STL readers).
const MAX_COORD_MM: f64 = 1.0e6;

/// Zero suppression of numbers without a decimal point.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Zeros {
    /// Leading zeros kept (trailing suppressed): the digits are read from the left.
    Leading,
    /// Trailing zeros kept (leading suppressed): the digits are read from the right.
    Trailing,
}

struct State {
    units: Option<Units>,
    zeros: Option<Zeros>,
    /// Integer and decimal digits of numbers without a point.
    format: Option<(usize, usize)>,
    tools: BTreeMap<u32, f64>,
    tool: Option<u32>,
    incremental: bool,
    pos: V2,
    /// Numbers whose digit count did not fill the format (the zero format matters for them).
    short_numbers: usize,
}

impl State {
    fn mm(&self) -> f64 {
        self.units.unwrap_or(Units::Inch).mm_per_unit()
    }
    fn digits(&self) -> (usize, usize) {
        self.format.unwrap_or(match self.units {
            Some(Units::Mm) => (3, 3),
            _ => (2, 4),
        })
    }
    /// A coordinate word's value in the file's units.
    fn number(&mut self, s: &str) -> Result<f64, String> {
        let bad = || format!("'{s}' is not a coordinate");
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if body.is_empty() || body.len() > 24 {
            return Err(bad());
        }
        let v = if body.contains('.') {
            body.parse::<f64>().map_err(|_| bad())?
        } else {
            if !body.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let (int, dec) = self.digits();
            let n: f64 = body.parse().map_err(|_| bad())?;
            if body.len() != int + dec {
                self.short_numbers += 1;
            }
            match self.zeros.unwrap_or(Zeros::Trailing) {
                Zeros::Trailing => n / 10f64.powi(dec as i32),
                Zeros::Leading => {
                    let shift = (int + dec) as i32 - body.len() as i32;
                    n * 10f64.powi(shift) / 10f64.powi(dec as i32)
                }
            }
        };
        if !v.is_finite() {
            return Err(bad());
        }
        Ok(if neg { -v } else { v })
    }
}

/// A circle as a closed polyline of two half arcs, counter-clockwise.
pub fn circle_loop(c: V2, r: f64) -> Pline {
    let mut p = Pline::new_closed();
    p.add_vertex(PlineVertex::new(c.x - r, c.y, 1.0));
    p.add_vertex(PlineVertex::new(c.x + r, c.y, 1.0));
    p
}

/// A slot (the outline of a tool of diameter `d` moved from `a` to `b`), counter-clockwise.
fn slot_loop(a: V2, b: V2, d: f64) -> Pline {
    let r = d * 0.5;
    let dir = (b - a).normalized();
    let n = V2::new(-dir.y, dir.x) * r;
    let mut p = Pline::new_closed();
    p.add_vertex(PlineVertex::new(a.x - n.x, a.y - n.y, 0.0));
    p.add_vertex(PlineVertex::new(b.x - n.x, b.y - n.y, 1.0));
    p.add_vertex(PlineVertex::new(b.x + n.x, b.y + n.y, 0.0));
    p.add_vertex(PlineVertex::new(a.x + n.x, a.y + n.y, 1.0));
    p
}

/// Splits a line into its words: an ASCII letter and what follows up to the next one. Text
/// before the first letter is a word of its own with the letter 0 (so no slice ever starts
/// inside a character: found by fuzzing).
fn words(line: &str) -> Vec<(u8, &str)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let (l, start) = if b[i].is_ascii_alphabetic() {
            (b[i].to_ascii_uppercase(), i + 1)
        } else {
            (0, i)
        };
        let mut j = start;
        while j < b.len() && !b[j].is_ascii_alphabetic() {
            j += 1;
        }
        out.push((l, line[start..j].trim()));
        i = j.max(i + 1);
    }
    out
}

/// Reads a drill file. `units` overrides what the file says; `layers` keeps only those tools
/// (`T1`, `T2`, …).
pub fn import_excellon(
    bytes: &[u8],
    units: Option<Units>,
    layers: Option<&[String]>,
    tol: &Tolerance,
) -> Result<Drawing, ExcellonError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ExcellonError::File(format!(
            "not a text file (byte {} is not UTF-8); is this a drill file?",
            e.valid_up_to()
        ))
    })?;
    let mut st = State {
        units: None,
        zeros: None,
        format: None,
        tools: BTreeMap::new(),
        tool: None,
        incremental: false,
        pos: V2::new(0.0, 0.0),
        short_numbers: 0,
    };
    let mut warnings = Vec::new();
    let mut units_source = "assumed (no METRIC or INCH in the header)";
    let mut in_header = false;
    let mut saw_header = false;
    // Holes and slots in file units, with their tool; scaled at the end (M71/M72 switch units
    // midway, so each is converted when read).
    let mut holes: Vec<(u32, V2)> = Vec::new();
    let mut slots: Vec<(u32, V2, V2)> = Vec::new();
    let mut routed = 0usize;
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for (li, raw) in text.lines().enumerate() {
        let line_no = li + 1;
        let err = |problem: String| ExcellonError::Line {
            line: line_no,
            problem,
        };
        let line = raw.trim();
        if let Some(c) = line.strip_prefix(';') {
            // KiCad: ;FILE_FORMAT=3:3
            if let Some(f) = c.trim().strip_prefix("FILE_FORMAT=")
                && let Some((a, b)) = f.split_once(':')
                && let (Ok(a), Ok(b)) = (a.trim().parse::<usize>(), b.trim().parse::<usize>())
                && a <= 8
                && b <= 8
            {
                st.format = Some((a, b));
            }
            continue;
        }
        let line = line.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let upper = line.to_ascii_uppercase();
        match upper.as_str() {
            "M48" => {
                in_header = true;
                saw_header = true;
                continue;
            }
            "%" | "M95" => {
                in_header = false;
                continue;
            }
            "M30" | "M00" | "M02" => break,
            "G90" | "ICI,OFF" => {
                st.incremental = false;
                continue;
            }
            "G91" | "ICI,ON" | "ICI" => {
                st.incremental = true;
                continue;
            }
            "M71" => {
                st.units = Some(Units::Mm);
                units_source = "switched by M71";
                continue;
            }
            "M72" => {
                st.units = Some(Units::Inch);
                units_source = "switched by M72";
                continue;
            }
            "G05" | "G5" | "G81" | "M15" | "M16" | "M17" | "G40" | "M47" | "G93" | "DETECT,ON"
            | "ATC,ON" | "FMAT,1" | "FMAT,2" | "VER,1" | "VER,2" | "OFFSET" => continue,
            _ => {}
        }
        if upper.starts_with("METRIC") || upper.starts_with("INCH") {
            let mut parts = upper.split(',');
            let unit = parts.next().unwrap_or("");
            st.units = Some(if unit == "METRIC" {
                Units::Mm
            } else {
                Units::Inch
            });
            units_source = "declared in the header";
            for p in parts {
                match p.trim() {
                    "LZ" => st.zeros = Some(Zeros::Leading),
                    "TZ" => st.zeros = Some(Zeros::Trailing),
                    t if t.contains('.') && t.bytes().all(|b| b == b'0' || b == b'.') => {
                        let (a, b) = t.split_once('.').unwrap_or((t, ""));
                        st.format = Some((a.len(), b.len()));
                    }
                    other => {
                        *unknown.entry(format!("{unit},{other}")).or_default() += 1;
                    }
                }
            }
            continue;
        }
        let ws = words(line);
        let Some(&(first, _)) = ws.first() else {
            continue;
        };
        match first {
            b'T' => {
                let num = ws[0].1;
                let n: u32 = num
                    .parse()
                    .map_err(|_| err(format!("'{line}' names no tool number")))?;
                if let Some(&(_, c)) = ws.iter().find(|(l, _)| *l == b'C') {
                    let d: f64 = c
                        .parse()
                        .map_err(|_| err(format!("tool T{n}: diameter '{c}' is not a number")))?;
                    if !(d.is_finite() && d > 0.0) {
                        return Err(err(format!(
                            "tool T{n} has diameter {d}; it must be positive"
                        )));
                    }
                    // Tool diameters are in the file's units when it is read.
                    st.tools.insert(n, d * st.mm());
                    if !in_header && n != 0 {
                        st.tool = Some(n);
                    }
                } else if n == 0 {
                    st.tool = None; // T0: unload
                } else {
                    if !st.tools.contains_key(&n) {
                        return Err(err(format!(
                            "tool T{n} is used but not defined in the header (T{n}C<diameter>)"
                        )));
                    }
                    st.tool = Some(n);
                }
            }
            b'X' | b'Y' => {
                let mut xy = [None, None];
                let mut slot_end: Option<[Option<f64>; 2]> = None;
                let mut k = 0;
                while k < ws.len() {
                    let (l, v) = ws[k];
                    match l {
                        b'X' | b'Y' => {
                            let val = st.number(v).map_err(&err)? * st.mm();
                            if val.abs() > MAX_COORD_MM {
                                return Err(err(format!("coordinate {val} mm is out of range")));
                            }
                            let i = usize::from(l == b'Y');
                            match &mut slot_end {
                                Some(e) => e[i] = Some(val),
                                None => xy[i] = Some(val),
                            }
                        }
                        b'G' if v == "85" => slot_end = Some([None, None]),
                        _ => {
                            let l = if l == 0 { '?' } else { l as char };
                            *unknown.entry(format!("{l}{v}")).or_default() += 1;
                        }
                    }
                    k += 1;
                }
                let step = |st: &State, from: V2, w: [Option<f64>; 2]| -> V2 {
                    if st.incremental {
                        V2::new(from.x + w[0].unwrap_or(0.0), from.y + w[1].unwrap_or(0.0))
                    } else {
                        V2::new(w[0].unwrap_or(from.x), w[1].unwrap_or(from.y))
                    }
                };
                let p = step(&st, st.pos, xy);
                st.pos = p;
                let Some(t) = st.tool else {
                    return Err(err("a hole before any tool is selected (T1 …)".into()));
                };
                if let Some(e) = slot_end {
                    let q = step(&st, p, e);
                    st.pos = q;
                    slots.push((t, p, q));
                } else {
                    holes.push((t, p));
                }
                if holes.len() + slots.len() > MAX_HOLES {
                    return Err(err(format!("more than {MAX_HOLES} holes")));
                }
            }
            b'G' if matches!(ws[0].1, "00" | "01" | "02" | "03" | "0" | "1" | "2" | "3") => {
                routed += 1;
            }
            b'M' | b'G' | b'R' => {
                *unknown.entry(line.chars().take(16).collect()).or_default() += 1;
            }
            _ => {
                if in_header {
                    *unknown.entry(line.chars().take(16).collect()).or_default() += 1;
                } else {
                    return Err(err(format!(
                        "'{}' is not an Excellon command; is this a drill file?",
                        line.chars().take(40).collect::<String>()
                    )));
                }
            }
        }
    }
    if !saw_header && st.tools.is_empty() {
        return Err(ExcellonError::File(
            "no M48 header and no tools: not an Excellon drill file".into(),
        ));
    }
    // A unit given by the user wins: rescale from what was read.
    let file_mm = st.units.unwrap_or(Units::Inch).mm_per_unit();
    let (k, units) = match units {
        Some(u) => (u.mm_per_unit() / file_mm, u),
        None => (1.0, st.units.unwrap_or(Units::Inch)),
    };
    if units.mm_per_unit() != file_mm || st.units.is_none() {
        units_source = if st.units.is_none() && k == 1.0 {
            units_source
        } else {
            "given by the user"
        };
    }
    if st.short_numbers > 0 && st.zeros.is_none() {
        warnings.push(format!(
            "{} coordinate(s) without a decimal point are shorter than the {}.{} format and the \
             header names no zero format (LZ or TZ): read with leading zeros suppressed (TZ); \
             if holes land in the wrong place, check the drill file's export settings",
            st.short_numbers,
            st.digits().0,
            st.digits().1
        ));
    }
    if st.units.is_none() {
        warnings.push(
            "units: the drill file says neither METRIC nor INCH; read as inch (the Excellon \
             default). Give the unit (--units mm) if that is wrong"
                .into(),
        );
    }
    if routed > 0 {
        warnings.push(format!(
            "{routed} routing command(s) (G00–G03 rout mode) are not read: mill routed outlines \
             from the board outline instead"
        ));
    }
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(|(k, n)| format!("{k} ({n})")).collect();
        warnings.push(format!("ignored drill file codes: {}", list.join(", ")));
    }
    let keep = |t: u32| {
        layers.is_none_or(|ls| ls.iter().any(|l| l.eq_ignore_ascii_case(&format!("T{t}"))))
    };
    let mut closed_loops = Vec::new();
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for &(t, p) in &holes {
        *counts.entry(t).or_default() += 1;
        if keep(t) {
            closed_loops.push(circle_loop(p * k, st.tools[&t] * k * 0.5));
        }
    }
    if !slots.is_empty() {
        warnings.push(format!(
            "{} G85 slot(s) are drawn as slot outlines: mill them with a contour or pocket (they \
             are not drilled)",
            slots.len()
        ));
    }
    for &(t, a, b) in &slots {
        *counts.entry(t).or_default() += 1;
        if keep(t) {
            let d = st.tools[&t] * k;
            closed_loops.push(if a.dist(b) > tol.equal_point_mm {
                slot_loop(a * k, b * k, d)
            } else {
                circle_loop(a * k, d * 0.5)
            });
        }
    }
    let layers_out: Vec<Layer> = st
        .tools
        .keys()
        .map(|&t| Layer {
            name: format!("T{t}"),
            entities: counts.get(&t).copied().unwrap_or(0),
            imported: keep(t),
        })
        .collect();
    let mut bbox = Bbox2::EMPTY;
    for l in &closed_loops {
        bbox.union(&pline_bbox(l));
    }
    if let Some(w) = plausibility_warning(
        bbox.width().max(bbox.height()) / units.mm_per_unit(),
        units,
        "the drill file's",
    ) {
        warnings.push(w);
    }
    let mut entity_counts = BTreeMap::new();
    for (&t, &n) in &counts {
        entity_counts.insert(format!("T{t} {:.4} mm", st.tools[&t] * k), n);
    }
    Ok(Drawing {
        version: Some("Excellon".into()),
        declared_units: st.units,
        units,
        units_source,
        layers: layers_out,
        entity_counts,
        regions: nest_loops(closed_loops.clone(), tol),
        closed_loops,
        open_chains: Vec::new(),
        bbox,
        max_fit_error_mm: 0.0,
        warnings,
    })
}

/// Whether bytes look like an Excellon drill file: `M48` or a tool definition (`T1C0.8`)
/// among the first lines that are not comments.
pub fn looks_like_excellon(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]);
    head.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .take(8)
        .any(|l| {
            let u = l.to_ascii_uppercase();
            u == "M48"
                || (u.starts_with('T')
                    && u.contains('C')
                    && u[1..].starts_with(|c: char| c.is_ascii_digit()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavalier_contours::polyline::PlineSource;

    fn read(text: &str) -> Drawing {
        import_excellon(text.as_bytes(), None, None, &Tolerance::default()).unwrap()
    }

    fn centres(d: &Drawing) -> Vec<(f64, f64, f64)> {
        d.closed_loops
            .iter()
            .map(|l| {
                let a = l.at(0);
                let b = l.at(1);
                (
                    f64::midpoint(a.x, b.x),
                    f64::midpoint(a.y, b.y),
                    (b.x - a.x).abs(),
                )
            })
            .collect()
    }

    fn close(a: (f64, f64, f64), b: (f64, f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9 && (a.2 - b.2).abs() < 1e-9
    }

    /// The same holes written metric and inch, leading and trailing zeros, with points and
    /// without: read to the same places.
    #[test]
    fn metric_and_inch_with_both_zero_formats() {
        let want = [(12.7, 2.54, 0.8), (25.4, 0.254, 0.8), (1.27, 0.0, 1.0)];
        let files = [
            // Metric, leading zeros kept, 3.3: 012700 = 12.700.
            "M48\nMETRIC,LZ\nT1C0.8\nT2C1.0\n%\nT1\nX0127Y002540\nX0254Y00025400\nT2\nX00127Y0\nM30\n",
            // Metric, trailing zeros kept, 3.3: 12700 = 12.700.
            "M48\nMETRIC,TZ\nT1C0.8\nT2C1.0\n%\nT1\nX12700Y2540\nX25400Y254\nT2\nX1270Y0\nM30\n",
            // Inch, trailing zeros kept, 2.4.
            "M48\nINCH,TZ\nT1C0.031496\nT2C0.03937\n%\nT1\nX5000Y1000\nX10000Y100\nT2\nX500Y0\nM30\n",
            // Inch, leading zeros kept, 2.4: 05 = 0.5 in.
            "M48\nINCH,LZ\nT1C0.031496\nT2C0.03937\n%\nT1\nX005Y001\nX01Y0001\nT2\nX0005Y0\nM30\n",
            // Decimal points, units switched in the body.
            "M48\nINCH\nT1C0.031496\nT2C0.03937\n%\nM71\nT1\nX12.7Y2.54\nX25.4Y0.254\nT2\nX1.27Y0.\nM30\n",
        ];
        for f in files {
            let d = read(f);
            let got = centres(&d);
            assert_eq!(got.len(), 3, "{f}");
            for (g, w) in got.iter().zip(want) {
                // Inch diameters are 4–6 digit approximations of the metric ones.
                let w_d = if f.contains("INCH") {
                    if w.2 == 0.8 {
                        0.031_496 * 25.4
                    } else {
                        0.039_37 * 25.4
                    }
                } else {
                    w.2
                };
                assert!(close(*g, (w.0, w.1, w_d)), "{f}: {g:?} vs {w:?}");
            }
            assert_eq!(d.layers.len(), 2);
        }
    }

    #[test]
    fn modal_incremental_slots_and_layers() {
        let f = "M48\nMETRIC\nT1C0.5\nT2C1\n%\nT1\nX1.0Y1.0\nY2.0\nG91\nX1.0\nG90\nT2\nX5.Y5.G85X8.Y5.\nM30\n";
        let d = read(f);
        let c = centres(&d);
        assert!(close(c[0], (1.0, 1.0, 0.5)));
        assert!(close(c[1], (1.0, 2.0, 0.5)));
        assert!(close(c[2], (2.0, 2.0, 0.5)));
        assert_eq!(d.closed_loops.len(), 4);
        assert!(
            d.warnings.iter().any(|w| w.contains("G85")),
            "{:?}",
            d.warnings
        );
        // Only T1.
        let only = import_excellon(
            f.as_bytes(),
            None,
            Some(&["T1".to_string()]),
            &Tolerance::default(),
        )
        .unwrap();
        assert_eq!(only.closed_loops.len(), 3);
    }

    #[test]
    fn bad_files_name_the_problem_and_the_line() {
        let e = import_excellon(
            b"M48\nMETRIC\nT1C0.5\n%\nT3\nX1Y1\n",
            None,
            None,
            &Tolerance::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("line 5") && e.to_string().contains("T3"),
            "{e}"
        );
        let e = import_excellon(
            b"M48\nMETRIC\nT1C-1\n%\n",
            None,
            None,
            &Tolerance::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("positive"), "{e}");
        let e = import_excellon(
            b"M48\nMETRIC\nT1C1\n%\nX1Y1\n",
            None,
            None,
            &Tolerance::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("before any tool"), "{e}");
        let e = import_excellon(b"hello\n", None, None, &Tolerance::default()).unwrap_err();
        assert!(e.to_string().contains("not an Excellon"), "{e}");
        let d = read("M48\nT1C0.02\n%\nT1\nX5Y1\n");
        assert!(
            d.warnings.iter().any(|w| w.contains("neither METRIC")),
            "{:?}",
            d.warnings
        );
    }

    /// Found by fuzzing: a character of two bytes after a letter, or starting a line.
    #[test]
    fn lines_with_any_characters_are_read_or_refused_without_a_panic() {
        for text in [
            "M48\nT1C1\n%\nT1\nX\u{5f7}:1Y1\n",
            "M48\nT1C1\n%\n\u{5f7}X1\n",
            "M48\n\u{5f7}\nT1C1\n%\nT1\nX1Y1\n",
            "M48\nT1C1\u{e9}\n%\n",
            "\u{5f7}:\n",
        ] {
            let _ = import_excellon(text.as_bytes(), None, None, &Tolerance::default());
        }
    }

    #[test]
    fn sniffs_drill_files() {
        assert!(looks_like_excellon(b"; drill\nM48\nINCH\n"));
        assert!(looks_like_excellon(b"T1C0.8\n%\n"));
        assert!(!looks_like_excellon(b"0\nSECTION\n"));
    }
}
