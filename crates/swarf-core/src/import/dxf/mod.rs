//! DXF import: from an ASCII DXF file to closed loops, open chains and nested regions in mm.
//!
//! Pipeline: groups ([`reader`]) → sections, blocks, entities with their OCS ([`entities`]) →
//! block inserts expanded into world primitives → units to mm → curves fitted with arcs
//! ([`crate::geometry::biarc`]) → loose pieces chained ([`chain`]) → loops nested into regions.

mod chain;

mod entities;
mod reader;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use cavalier_contours::polyline::{PlineCreation, PlineSource, PlineSourceMut, PlineVertex};
use serde::Serialize;

use self::chain::Piece;
use self::entities::{Ent, Prim, Src};
use super::units::{Units, plausibility_warning};
use crate::geometry::{
    Affine2, Bbox2, Curve, Pline, Region, Tolerance, V2, arc_count, biarc, nest_loops, pline_bbox,
};

/// What can make a DXF file unreadable as a whole. Problems with single entities are warnings.
#[derive(Debug, thiserror::Error)]
pub enum DxfError {
    #[error("dxf: cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error(
        "dxf: this is a binary DXF; Swarf reads ASCII DXF only: save the drawing as ASCII DXF in \
         your CAD program"
    )]
    Binary,
    #[error("dxf: the file is empty")]
    Empty,
    #[error(
        "dxf: line {line}: group code '{text}' is not a number; the file is not a DXF or is \
         damaged"
    )]
    BadCode { line: usize, text: String },
    #[error(
        "dxf: line {line}: group code {code} has no value because the file ends there; the file \
         is truncated: export it again"
    )]
    Truncated { line: usize, code: i32 },
    #[error("dxf: no SECTION found; the file is not a DXF drawing")]
    NotDxf,
    #[error("dxf: layer '{name}' is not in the drawing; its layers are: {available}")]
    UnknownLayer { name: String, available: String },
    #[error("dxf: {0}")]
    Options(String),
}

/// How to import.
#[derive(Debug, Clone, PartialEq)]
pub struct DxfOptions {
    /// Overrides the unit the file declares.
    pub units: Option<Units>,
    /// Import only entities on these layers; `None` imports all.
    pub layers: Option<Vec<String>>,
    pub tolerance: Tolerance,
    /// Chains whose ends miss each other by at most this are joined or closed, with a warning.
    /// Default 0.001 mm (1 µm): CAD rounding, not a real opening.
    pub close_gap_mm: f64,
}

impl Default for DxfOptions {
    fn default() -> Self {
        Self {
            units: None,
            layers: None,
            tolerance: Tolerance::default(),
            close_gap_mm: 1e-3,
        }
    }
}

/// A layer of the drawing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    pub name: String,
    /// Model-space entities on it.
    pub entities: usize,
    /// Whether it was imported.
    pub imported: bool,
}

/// An imported drawing, all lengths in mm.
#[derive(Debug, Clone)]
pub struct Drawing {
    /// `$ACADVER`, e.g. `AC1015`.
    pub version: Option<String>,
    /// The unit the header declares (`$INSUNITS`), if any.
    pub declared_units: Option<Units>,
    /// The unit the numbers were read in.
    pub units: Units,
    /// How `units` was decided, for the user.
    pub units_source: &'static str,
    pub layers: Vec<Layer>,
    /// Model-space entities by type, as in the file.
    pub entity_counts: BTreeMap<String, usize>,
    /// Every closed loop, as found (before nesting).
    pub closed_loops: Vec<Pline>,
    /// Chains that do not close: usable for contouring on the line or engraving.
    pub open_chains: Vec<Pline>,
    /// Closed loops nested into regions (outer + islands).
    pub regions: Vec<Region>,
    pub bbox: Bbox2,
    /// Largest distance between a spline or ellipse and the arcs that replace it, mm.
    pub max_fit_error_mm: f64,
    pub warnings: Vec<String>,
}

impl Drawing {
    /// Arc segments over all loops and chains.
    pub fn arc_segments(&self) -> usize {
        self.closed_loops.iter().map(arc_count).sum::<usize>()
            + self.open_chains.iter().map(arc_count).sum::<usize>()
    }
}

/// Reads a DXF file.
pub fn import_dxf_file(path: &Path, opts: &DxfOptions) -> Result<Drawing, DxfError> {
    let bytes = std::fs::read(path).map_err(|error| DxfError::Io {
        path: path.display().to_string(),
        error,
    })?;
    import_dxf(&bytes, opts)
}

/// Coordinates beyond this (1 km) are damage or wrong units, not a part for a milling machine.
/// (A part drawn in µm and read as mm is still well inside: 1 m of it is 10^6.) Curves are
/// fitted to the path tolerance, so each further factor of ten in size costs arcs and time:
/// with a limit of 1000 km, fuzzing found 1 KB drawings whose splines took 0.4 s each.
pub const MAX_COORD_MM: f64 = 1e6;

/// Most primitives block expansion may produce; beyond it a drawing is refused as hostile.
const MAX_PRIMITIVES: usize = 2_000_000;

/// Reads DXF bytes.
pub fn import_dxf(bytes: &[u8], opts: &DxfOptions) -> Result<Drawing, DxfError> {
    opts.tolerance.validate().map_err(DxfError::Options)?;
    if !(opts.close_gap_mm.is_finite() && opts.close_gap_mm >= 0.0) {
        return Err(DxfError::Options(format!(
            "close gap {} mm must be zero or a positive number",
            opts.close_gap_mm
        )));
    }
    let text = reader::decode(bytes)?;
    let pairs = reader::pairs(&text)?;
    let parsed = entities::parse(&pairs);
    if !parsed.had_section {
        return Err(DxfError::NotDxf);
    }
    let mut warnings = Vec::new();
    let mut problems = Similar::default();
    for (src, msg) in &parsed.problems {
        problems.add(
            format!("{}|{msg}", src.kind),
            format!("dxf: {src} {msg}; skipped"),
            &src.kind,
        );
    }
    problems.emit(&mut warnings);

    let declared = parsed.insunits.and_then(Units::from_insunits);
    let (units, units_source) = resolve_units(&parsed, opts, &mut warnings);
    let (layers, selected) = select_layers(&parsed, opts)?;
    let is_selected = |layer: &str| {
        selected
            .as_ref()
            .is_none_or(|s| s.iter().any(|l| l == layer))
    };
    let prims = expand_inserts(&parsed, units, &is_selected, &opts.tolerance, &mut warnings);
    // Primitives to pieces and loops.
    let tol = opts.tolerance;
    let eq = tol.equal_point_mm;
    let mut srcs: Vec<Src> = Vec::new();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut loops: Vec<(Pline, usize)> = Vec::new();
    let mut max_fit: f64 = 0.0;
    let mut out_of_range = Similar::default();
    let mut unconverged = 0usize;
    let mut degenerate: Vec<String> = Vec::new();
    for (prim, src) in prims {
        let si = srcs.len();
        // Coordinates a machine can never reach (or that overflowed in unit conversion) mean a
        // damaged entity: reported, not imported (and never fitted: a curve a million km long
        // would need billions of arcs).
        // (`le` is false for NaN, so NaN is out too.)
        if !prim.max_abs_coord().le(&MAX_COORD_MM) {
            report_out_of_range(&mut out_of_range, &src);
            continue;
        }
        let mut fit = |c: &dyn Curve| -> Vec<PlineVertex<f64>> {
            let mut v = Vec::new();
            let rep = biarc::fit_curve(c, tol.path_mm, eq, &mut v);
            max_fit = max_fit.max(rep.max_error_mm);
            if !rep.converged {
                unconverged += 1;
            }
            v
        };
        let Some((verts, closed)) = prim_vertices(&prim, eq, &mut fit) else {
            degenerate.push(src.to_string());
            continue;
        };
        // Remove zero-length segments; split arcs over 180° so every bulge is within ±1.
        let mut clean: Vec<PlineVertex<f64>> = Vec::with_capacity(verts.len());
        for v in split_big_arcs(verts) {
            match clean.last_mut() {
                Some(l) if V2::new(l.x, l.y).dist(V2::new(v.x, v.y)) <= eq => {
                    if l.bulge == 0.0 {
                        l.bulge = v.bulge;
                    }
                }
                _ => clean.push(v),
            }
        }
        if clean.len() < 2 {
            degenerate.push(src.to_string());
            continue;
        }
        // The fitted result too (a bulge can overflow).
        if clean.iter().any(|v| {
            !(v.x.abs() <= MAX_COORD_MM && v.y.abs() <= MAX_COORD_MM && v.bulge.is_finite())
        }) {
            report_out_of_range(&mut out_of_range, &src);
            continue;
        }
        let first = V2::new(clean[0].x, clean[0].y);
        let last = V2::new(clean[clean.len() - 1].x, clean[clean.len() - 1].y);
        srcs.push(src);
        if closed || (clean.len() > 2 && first.dist(last) <= eq) {
            let n = clean.len();
            clean[n - 1].x = first.x;
            clean[n - 1].y = first.y;
            clean.pop();
            let mut p = Pline::with_capacity(clean.len(), true);
            for v in clean {
                p.add_vertex(v);
            }
            loops.push((p, si));
        } else {
            pieces.push(Piece {
                verts: clean,
                src: si,
            });
        }
    }
    out_of_range.emit(&mut warnings);
    if !degenerate.is_empty() {
        warnings.push(format!(
            "dxf: {} entit{} of zero length skipped (first: {})",
            degenerate.len(),
            if degenerate.len() == 1 { "y" } else { "ies" },
            degenerate[0]
        ));
    }
    if unconverged > 0 {
        warnings.push(format!(
            "dxf: {unconverged} curve(s) could not be fitted with arcs within {} mm; the largest \
             deviation is {max_fit:.6} mm",
            tol.path_mm
        ));
    }

    let (closed, mut open_chains, mut open_src) =
        chain_pieces(pieces, eq, opts.close_gap_mm, &mut warnings);
    loops.extend(closed);
    let closed_loops = check_loops(
        loops,
        &srcs,
        eq,
        (&mut open_chains, &mut open_src),
        &mut warnings,
    );

    let mut bbox = Bbox2::EMPTY;
    for p in closed_loops.iter().chain(&open_chains) {
        bbox.union(&pline_bbox(p));
    }
    if bbox.is_empty() {
        warnings.push(
            "dxf: the drawing has no machinable geometry (lines, arcs, circles, \
                       polylines, splines or ellipses)"
                .to_string(),
        );
    } else if let Some(w) = plausibility_warning(
        bbox.extent() / units.mm_per_unit(),
        units,
        match units_source {
            "declared by $INSUNITS" => "the declared",
            "given by the user" => "the given",
            _ => "the assumed",
        },
    ) {
        warnings.push(w);
    }

    let regions = nest_loops(closed_loops.clone(), &tol);
    Ok(Drawing {
        version: parsed.version.clone(),
        declared_units: declared,
        units,
        units_source,
        layers,
        entity_counts: parsed.counts.clone(),
        closed_loops,
        open_chains,
        regions,
        bbox,
        max_fit_error_mm: max_fit,
        warnings,
    })
}

/// Loose pieces joined into loops and open chains (duplicates removed and gaps up to
/// `close_gap_mm` closed, both reported): (closed loops, open chains, the source of each open
/// chain).
fn chain_pieces(
    pieces: Vec<Piece>,
    eq: f64,
    close_gap_mm: f64,
    warnings: &mut Vec<String>,
) -> (Vec<(Pline, usize)>, Vec<Pline>, Vec<usize>) {
    let chained = chain::chain(pieces, eq, close_gap_mm);
    if chained.duplicates > 0 {
        warnings.push(format!(
            "dxf: {} duplicated segment(s) removed (the drawing has overlapping copies)",
            chained.duplicates
        ));
    }
    for (k, (p, d)) in chained.gaps.iter().enumerate() {
        if k == 10 {
            warnings.push(format!(
                "dxf: … and {} more gaps closed",
                chained.gaps.len() - 10
            ));
            break;
        }
        warnings.push(format!(
            "dxf: closed a gap of {d:.6} mm at ({:.4}, {:.4}) mm; check the drawing there (gaps up \
             to {} mm are closed)",
            p.x, p.y, close_gap_mm
        ));
    }
    let (open_chains, open_src) = chained.open.into_iter().unzip();
    (chained.closed, open_chains, open_src)
}

/// The closed loops kept: duplicates dropped, loops without area moved to the open chains,
/// loops that cross themselves reported; and a warning for the open chains.
fn check_loops(
    loops: Vec<(Pline, usize)>,
    srcs: &[Src],
    eq: f64,
    (open_chains, open_src): (&mut Vec<Pline>, &mut Vec<usize>),
    warnings: &mut Vec<String>,
) -> Vec<Pline> {
    let (loops, dup_loops) = dedupe_loops(loops, eq);
    if dup_loops > 0 {
        warnings.push(format!(
            "dxf: {dup_loops} duplicated closed loop(s) removed (the drawing has overlapping copies)"
        ));
    }
    let mut closed_loops: Vec<Pline> = Vec::new();
    let mut closed_src: Vec<usize> = Vec::new();
    let mut self_x = Vec::new();
    let mut no_area = Similar::default();
    for (p, s) in loops {
        let len = p.path_length();
        if p.area().abs() <= eq * len {
            no_area.add(
                String::new(),
                format!(
                    "dxf: a closed loop from {} has no area (it runs back over itself); kept as \
                     an open chain",
                    srcs[s]
                ),
                "loop",
            );
            let mut o = p.clone();
            o.set_is_closed(false);
            if o.vertex_count() > 0 {
                let f = o.at(0);
                o.add(f.x, f.y, 0.0);
            }
            open_chains.push(o);
            open_src.push(s);
            continue;
        }
        // Our own test, with the equal-point distance: cavalier's scan reports loops that do
        // not cross (a gear whose nearest non-neighbouring segments are 33 nm apart).
        if let Some(at) = crate::geometry::seggrid::self_crossing(&p, eq) {
            self_x.push(format!("{} near ({:.4}, {:.4}) mm", srcs[s], at.x, at.y));
        }
        closed_loops.push(p);
        closed_src.push(s);
    }
    no_area.emit(warnings);
    if !self_x.is_empty() {
        warnings.push(format!(
            "dxf: {} closed loop(s) cross themselves (first from {}); pockets and offsets of such \
             loops are unreliable: fix the outline in the drawing",
            self_x.len(),
            self_x[0]
        ));
    }
    let crossing = crate::geometry::seggrid::loops_crossing(&closed_loops, eq);
    if let Some(&(i, j, at)) = crossing.first() {
        warnings.push(format!(
            "dxf: {} pair(s) of closed loops cross each other (the first: the loop from {} and \
             the loop from {}, near ({:.4}, {:.4}) mm); where loops overlap it is ambiguous \
             which side is material, and cuts there will fail the export check: choose the \
             layers to machine (--layers) or fix the drawing",
            crossing.len(),
            srcs[closed_src[i]],
            srcs[closed_src[j]],
            at.x,
            at.y
        ));
    }
    if !open_chains.is_empty() {
        let p = open_chains[0].at(0);
        warnings.push(format!(
            "dxf: {} open chain(s) do not close into loops (the first starts at ({:.4}, {:.4}) mm, \
             from {}); they can be contoured on the line or engraved but not pocketed",
            open_chains.len(),
            p.x,
            p.y,
            srcs[open_src[0]]
        ));
    }
    closed_loops
}

/// The unit the numbers are read in, and how it was decided: the user's, the file's
/// `$INSUNITS`, or mm with a warning saying why.
fn resolve_units(
    parsed: &entities::Parsed,
    opts: &DxfOptions,
    warnings: &mut Vec<String>,
) -> (Units, &'static str) {
    let declared = parsed.insunits.and_then(Units::from_insunits);
    let (units, units_source) = match (opts.units, declared) {
        (Some(u), _) => (u, "given by the user"),
        (None, Some(u)) => (u, "declared by $INSUNITS"),
        (None, None) => (Units::Mm, "assumed: the file declares no unit"),
    };
    if opts.units.is_none() && declared.is_none() {
        let what = match (parsed.insunits, parsed.measurement) {
            (Some(c), _) if c != 0 => format!("$INSUNITS {c} is not a length unit Swarf knows"),
            (_, Some(0)) => "$INSUNITS is absent and $MEASUREMENT says imperial".to_string(),
            _ => "$INSUNITS is absent or unitless".to_string(),
        };
        warnings.push(format!(
            "units: {what}; the numbers are read as mm (use --units to change)"
        ));
    }

    (units, units_source)
}

/// The drawing's layers with their entity counts, and the layers chosen (`None`: all); a
/// chosen layer the drawing lacks is an error naming the ones it has.
fn select_layers(
    parsed: &entities::Parsed,
    opts: &DxfOptions,
) -> Result<(Vec<Layer>, Option<Vec<String>>), DxfError> {
    let mut layer_counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &parsed.entities {
        *layer_counts.entry(e.src().layer.clone()).or_insert(0) += 1;
    }
    let mut layer_names: Vec<String> = parsed.table_layers.clone();
    for name in layer_counts.keys() {
        if !layer_names.iter().any(|l| l == name) {
            layer_names.push(name.clone());
        }
    }
    let selected: Option<Vec<String>> = match &opts.layers {
        None => None,
        Some(wanted) => {
            let mut sel = Vec::new();
            for w in wanted {
                match layer_names.iter().find(|l| l.eq_ignore_ascii_case(w)) {
                    Some(l) => sel.push(l.clone()),
                    None => {
                        return Err(DxfError::UnknownLayer {
                            name: w.clone(),
                            available: layer_names.join(", "),
                        });
                    }
                }
            }
            Some(sel)
        }
    };
    let is_selected = |layer: &str| {
        selected
            .as_ref()
            .is_none_or(|s| s.iter().any(|l| l == layer))
    };
    let layers = layer_names
        .iter()
        .map(|name| Layer {
            name: name.clone(),
            entities: layer_counts.get(name).copied().unwrap_or(0),
            imported: is_selected(name),
        })
        .collect();

    Ok((layers, selected))
}

/// Block inserts expanded into world primitives in mm, on the chosen layers (with the
/// warnings for overflow and unsupported entity types).
fn expand_inserts(
    parsed: &entities::Parsed,
    units: Units,
    is_selected: &dyn Fn(&str) -> bool,
    tol: &Tolerance,
    warnings: &mut Vec<String>,
) -> Vec<(Prim, Src)> {
    let root = Affine2::scale(units.mm_per_unit(), units.mm_per_unit());
    let mut prims: Vec<(Prim, Src)> = Vec::new();
    let mut unsupported = parsed.unsupported.clone();
    let mut ctx = Expand {
        blocks: &parsed.blocks,
        out: &mut prims,
        warnings,
        stack: Vec::new(),
        overflow: false,
        is_selected: &is_selected,
        styles: &parsed.styles,
        // Text is laid out in the drawing's units, its curves fitted within the tolerance.
        text_tol: tol.scaled(1.0 / units.mm_per_unit()),
        fonts: HashMap::new(),
    };
    ctx.expand(&parsed.entities, &root, None);
    let overflow = ctx.overflow;
    if overflow {
        warnings.push(format!(
            "dxf: block inserts expand to more than {MAX_PRIMITIVES} entities; the rest was not \
             imported (the drawing is damaged or hostile)"
        ));
    }
    for (kind, count) in &mut unsupported {
        warnings.push(entities::unsupported_warning(kind, *count));
    }

    prims
}

/// A primitive as bulge vertices in world mm, and whether it is closed; curves are fitted with
/// `fit`. `None` for a fit-point spline that describes no curve.
fn prim_vertices(
    prim: &Prim,
    eq: f64,
    fit: &mut dyn FnMut(&dyn Curve) -> Vec<PlineVertex<f64>>,
) -> Option<(Vec<PlineVertex<f64>>, bool)> {
    Some(match prim {
        Prim::Line(a, b) => (
            vec![
                PlineVertex::new(a.x, a.y, 0.0),
                PlineVertex::new(b.x, b.y, 0.0),
            ],
            false,
        ),
        Prim::Arc(c, r, a0, sw) => {
            let p0 = *c + V2::from_angle(*a0) * *r;
            let p1 = *c + V2::from_angle(a0 + sw) * *r;
            // Arcs over 180° are split in two so every bulge stays within ±1.
            if sw.abs() > std::f64::consts::PI {
                let pm = *c + V2::from_angle(a0 + sw * 0.5) * *r;
                let b = (sw / 8.0).tan();
                (
                    vec![
                        PlineVertex::new(p0.x, p0.y, b),
                        PlineVertex::new(pm.x, pm.y, b),
                        PlineVertex::new(p1.x, p1.y, 0.0),
                    ],
                    false,
                )
            } else {
                (
                    vec![
                        PlineVertex::new(p0.x, p0.y, (sw / 4.0).tan()),
                        PlineVertex::new(p1.x, p1.y, 0.0),
                    ],
                    false,
                )
            }
        }
        Prim::Circle(c, r) => (
            vec![
                PlineVertex::new(c.x + r, c.y, 1.0),
                PlineVertex::new(c.x - r, c.y, 1.0),
                PlineVertex::new(c.x + r, c.y, 0.0),
            ],
            true,
        ),
        Prim::Poly(v, closed) => {
            let mut v = v.clone();
            if *closed {
                let f = v[0];
                let l = v[v.len() - 1];
                if V2::new(f.x, f.y).dist(V2::new(l.x, l.y)) > eq {
                    v.push(PlineVertex::new(f.x, f.y, 0.0));
                } else {
                    let n = v.len() - 1;
                    v[n] = PlineVertex::new(f.x, f.y, 0.0);
                }
            }
            (v, *closed)
        }
        Prim::Ellipse(e) => (fit(e), e.is_full()),
        Prim::Spline(s, closed) => (fit(s), *closed),
        Prim::FitSpline(p, closed, st, et) => {
            let c = Prim::fit_curve(p, *closed, *st, *et)?;
            (fit(&c), *closed)
        }
    })
}

/// Splits every arc segment of more than 180° into two halves (bulge within ±1), which keeps
/// later offsetting and G-code arcs well-conditioned.
fn split_big_arcs(verts: Vec<PlineVertex<f64>>) -> Vec<PlineVertex<f64>> {
    if verts.iter().all(|v| v.bulge.abs() <= 1.0) {
        return verts;
    }
    let mut out = Vec::with_capacity(verts.len() + 4);
    for (i, v) in verts.iter().enumerate() {
        if v.bulge.abs() > 1.0 && i + 1 < verts.len() {
            let (a, b) = (V2::new(v.x, v.y), V2::new(verts[i + 1].x, verts[i + 1].y));
            let (c, r, a0, sweep) = biarc::arc_from_bulge(a, b, v.bulge);
            let m = c + V2::from_angle(a0 + sweep * 0.5) * r;
            let half = (sweep / 8.0).tan();
            out.push(PlineVertex::new(v.x, v.y, half));
            out.push(PlineVertex::new(m.x, m.y, half));
        } else {
            out.push(*v);
        }
    }
    out
}

/// Warns (once per entity type, with a count) about an entity beyond the coordinate range.
fn report_out_of_range(similar: &mut Similar, src: &Src) {
    similar.add(
        src.kind.clone(),
        format!(
            "dxf: {src} has coordinates beyond ±{MAX_COORD_MM:e} mm (or not numbers); skipped: check the file and its units"
        ),
        &src.kind,
    );
}

/// Collects warnings of one kind so that a drawing with 500 broken entities gives one line
/// naming the first and the count, not 500 lines.
#[derive(Default)]
struct Similar {
    groups: Vec<(String, String, String, usize)>,
}

impl Similar {
    fn add(&mut self, key: String, message: String, what: &str) {
        if let Some(g) = self.groups.iter_mut().find(|g| g.0 == key) {
            g.3 += 1;
        } else {
            self.groups.push((key, message, what.to_string(), 1));
        }
    }
    fn emit(self, warnings: &mut Vec<String>) {
        for (_, msg, what, n) in self.groups {
            if n > 1 {
                warnings.push(format!(
                    "{msg} (and {} more {what}s with the same problem)",
                    n - 1
                ));
            } else {
                warnings.push(msg);
            }
        }
    }
}

/// Removes closed loops that repeat another (same vertices from any start, either direction).
fn dedupe_loops(loops: Vec<(Pline, usize)>, eq: f64) -> (Vec<(Pline, usize)>, usize) {
    let key = |p: &Pline| {
        let b = pline_bbox(p);
        let q = |v: f64| (v / (eq * 8.0)).round() as i64;
        (
            q(b.min.x),
            q(b.min.y),
            q(b.max.x),
            q(b.max.y),
            p.vertex_count(),
        )
    };
    let mut seen: HashMap<(i64, i64, i64, i64, usize), Vec<usize>> = HashMap::new();
    let mut out: Vec<(Pline, usize)> = Vec::with_capacity(loops.len());
    let mut dups = 0;
    for (p, s) in loops {
        let list = seen.entry(key(&p)).or_default();
        if list.iter().any(|&k| same_loop(&out[k].0, &p, eq)) {
            dups += 1;
            continue;
        }
        list.push(out.len());
        out.push((p, s));
    }
    (out, dups)
}

fn same_loop(a: &Pline, b: &Pline, eq: f64) -> bool {
    let n = a.vertex_count();
    if n != b.vertex_count() || n == 0 {
        return false;
    }
    let b2 = if (a.area() > 0.0) == (b.area() > 0.0) {
        b.clone()
    } else {
        let mut r = b.clone();
        r.invert_direction_mut();
        r
    };
    let a0 = V2::new(a.at(0).x, a.at(0).y);
    (0..n).any(|off| {
        let v = b2.at(off);
        V2::new(v.x, v.y).dist(a0) <= eq
            && (0..n).all(|i| {
                let (p, q) = (a.at(i), b2.at((i + off) % n));
                V2::new(p.x, p.y).dist(V2::new(q.x, q.y)) <= eq && (p.bulge - q.bulge).abs() <= 1e-9
            })
    })
}

/// Recursive expansion of entities and block inserts.
struct Expand<'a, F: Fn(&str) -> bool + ?Sized> {
    blocks: &'a HashMap<String, entities::Block>,
    out: &'a mut Vec<(Prim, Src)>,
    warnings: &'a mut Vec<String>,
    stack: Vec<String>,
    overflow: bool,
    is_selected: &'a F,
    /// Text styles and the font file each names.
    styles: &'a HashMap<String, String>,
    text_tol: Tolerance,
    /// The font each style is drawn in (the substitution said once per style).
    fonts: HashMap<String, crate::text::Font>,
}

/// The font a text style is drawn in, and what to say of it. A TrueType or OpenType file the
/// style names that exists (its path as written: absolute, or from the working folder) is
/// used; otherwise a single-line (SHX) font is drawn in the built-in single-stroke font, a
/// TrueType one in the built-in outline font, and the warning names the substitution.
fn style_font(style: &str, file: Option<&String>) -> (crate::text::Font, Option<String>) {
    let file = file.map_or("", String::as_str);
    if !file.is_empty()
        && let Ok(f) = crate::text::Font::from_file(std::path::Path::new(file))
    {
        return (f, None);
    }
    let outline = std::path::Path::new(file).extension().is_some_and(|e| {
        ["ttf", "otf", "ttc"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    });
    let (font, what) = if outline {
        (crate::text::Font::outline(), "Hack (outline)")
    } else {
        (
            crate::text::Font::stroke(),
            "Hershey Simplex (single stroke)",
        )
    };
    let named = if file.is_empty() {
        "no font".to_string()
    } else {
        format!("font '{file}'")
    };
    (
        font,
        Some(format!(
            "dxf: text style '{style}' uses {named}, which Swarf does not have: its text is drawn in {what}"
        )),
    )
}

impl<F: Fn(&str) -> bool + ?Sized> Expand<'_, F> {
    fn expand(&mut self, ents: &[Ent], xf: &Affine2, inherited_layer: Option<&str>) {
        for e in ents {
            if self.overflow {
                return;
            }
            match e {
                Ent::Prim(p, src) => {
                    let layer = match inherited_layer {
                        Some(l) if src.layer == "0" => l,
                        _ => src.layer.as_str(),
                    };
                    if !(self.is_selected)(layer) {
                        continue;
                    }
                    for q in p.transformed(xf) {
                        if self.out.len() >= MAX_PRIMITIVES {
                            self.overflow = true;
                            return;
                        }
                        let mut s = src.clone();
                        s.layer = layer.to_string();
                        self.out.push((q, s));
                    }
                }
                Ent::Text(t) => {
                    let layer = match inherited_layer {
                        Some(l) if t.src.layer == "0" => l,
                        _ => t.src.layer.as_str(),
                    };
                    if !(self.is_selected)(layer) {
                        continue;
                    }
                    // The text's reach before it is laid out: curves are fitted in the
                    // layout, and a text a million km tall (a damaged height) would need
                    // billions of arcs; one smaller than the equal-point distance is nothing.
                    let m = match &t.ocs {
                        Some(o) => xf.then_after(o),
                        None => *xf,
                    };
                    let stretch = m
                        .apply_vector(V2::new(1.0, 0.0))
                        .length()
                        .max(m.apply_vector(V2::new(0.0, 1.0)).length());
                    let chars = t.text.chars().count() as f64;
                    let lines = t.text.split('\n').count() as f64;
                    let l = &t.layout;
                    let reach = (m.apply(t.at).length()
                        + stretch
                            * l.height_mm
                            * (2.0
                                + chars * 1.5 * l.width_factor.max(1.0)
                                + lines * l.line_spacing.abs()
                                + l.oblique_deg.to_radians().tan().abs())
                            * (1.0 + l.arc_radius_mm.map_or(0.0, |r| r.abs() / l.height_mm)))
                    .abs();
                    let size = stretch * l.height_mm;
                    if !(reach.is_finite() && reach <= MAX_COORD_MM) {
                        self.warnings.push(format!(
                            "dxf: {} would reach beyond ±{MAX_COORD_MM:e} mm (height {}); skipped: check the file and its units",
                            t.src, l.height_mm
                        ));
                        continue;
                    }
                    if size.is_nan() || size <= self.text_tol.equal_point_mm * stretch {
                        self.warnings.push(format!(
                            "dxf: {} is {size:e} mm high, too small to cut; skipped",
                            t.src
                        ));
                        continue;
                    }
                    if !self.fonts.contains_key(&t.style) {
                        let (font, said) = style_font(&t.style, self.styles.get(&t.style));
                        self.warnings.extend(said);
                        self.fonts.insert(t.style.clone(), font);
                    }
                    let font = &self.fonts[&t.style];
                    let g = crate::text::layout(&t.text, font, &t.layout, t.at, &self.text_tol);
                    if !g.missing.is_empty() {
                        self.warnings.push(format!(
                            "dxf: {} has characters the font {} lacks ({}): left out",
                            t.src,
                            font.name(),
                            g.missing.iter().collect::<String>()
                        ));
                    }
                    let shapes = g
                        .loops
                        .iter()
                        .map(|l| (l, true))
                        .chain(g.chains.iter().map(|c| (c, false)));
                    for (pl, closed) in shapes {
                        let verts: Vec<PlineVertex<f64>> = pl.iter_vertexes().collect();
                        for q in Prim::Poly(verts, closed).transformed(&m) {
                            if self.out.len() >= MAX_PRIMITIVES {
                                self.overflow = true;
                                return;
                            }
                            let mut s = t.src.clone();
                            s.layer = layer.to_string();
                            self.out.push((q, s));
                        }
                    }
                }
                Ent::Insert(ins) => {
                    let block = self.blocks.get(&ins.block).or_else(|| {
                        self.blocks
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(&ins.block))
                            .map(|(_, b)| b)
                    });
                    let Some(block) = block else {
                        self.warnings.push(format!(
                            "dxf: {} inserts block '{}', which the file does not define; skipped",
                            ins.src, ins.block
                        ));
                        continue;
                    };
                    if self.stack.iter().any(|b| b == &ins.block) || self.stack.len() >= 64 {
                        self.warnings.push(format!(
                            "dxf: {} inserts block '{}' inside itself (or nests deeper than 64); \
                             skipped",
                            ins.src, ins.block
                        ));
                        continue;
                    }
                    let layer = match inherited_layer {
                        Some(l) if ins.src.layer == "0" => l.to_string(),
                        _ => ins.src.layer.clone(),
                    };
                    self.stack.push(ins.block.clone());
                    for t in &ins.transforms {
                        let m = xf
                            .then_after(t)
                            .then_after(&Affine2::translate(-block.base));
                        self.expand(&block.ents, &m, Some(&layer));
                    }
                    self.stack.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
