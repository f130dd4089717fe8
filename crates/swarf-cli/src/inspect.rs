//! `swarf-cli inspect`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use cavalier_contours::polyline::PlineSource;
use clap::Args;
use serde_json::json;
use swarf_core::geometry::Pline;
use swarf_core::import::{DxfOptions, ImportOptions, Model, Origin, Source, StlPart, Units, load};

#[derive(Args)]
pub struct InspectArgs {
    /// A DXF file; without one, the embedded example part.
    pub file: Option<PathBuf>,
    /// Read the numbers in this unit instead of the one the file declares (mm, inch, um, cm, m).
    #[arg(long)]
    pub units: Option<Units>,
    /// Import only these layers (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub layers: Option<Vec<String>>,
    /// Close gaps between chain ends up to this many mm (with a warning).
    #[arg(long, default_value_t = DxfOptions::default().close_gap_mm)]
    pub close_gap: f64,
    /// Where the work origin of a mesh goes: top (XY as in the file, Z = 0 at the top),
    /// corner or centre of the bounding box.
    #[arg(long, default_value = "top")]
    pub origin: Origin,
    /// Turn a mesh before its origin is placed: quarter turns such as `x-90` (a cavity facing
    /// −Y then faces up), `z90`, `x90 z180`, or `flip` (upside down).
    #[arg(long, default_value = "none")]
    pub orient: swarf_core::geometry::mesh::Orientation,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Reads a DXF or STL file (or the embedded example) through the core's one import entry.
pub fn load_any(args: &InspectArgs) -> Result<(String, Model)> {
    let opts = ImportOptions {
        units: args.units,
        layers: args.layers.clone(),
        close_gap_mm: args.close_gap,
        origin: args.origin,
        orientation: args.orient,
        ..ImportOptions::default()
    };
    let (name, src) = match &args.file {
        Some(p) => (p.display().to_string(), Source::Path(p)),
        None => (
            format!("{} (embedded example)", swarf_core::EXAMPLE_DXF_NAME),
            Source::Bytes {
                name: swarf_core::EXAMPLE_DXF_NAME,
                bytes: swarf_core::EXAMPLE_DXF.as_bytes(),
            },
        ),
    };
    let model = load(src, &opts).with_context(|| format!("cannot import {name}"))?;
    Ok((name, model))
}

fn segs(p: &Pline) -> (usize, usize) {
    let arcs = p.iter_segments().filter(|(v, _)| v.bulge != 0.0).count();
    (p.segment_count() - arcs, arcs)
}

pub fn run(args: &InspectArgs) -> Result<()> {
    let (name, loaded) = load_any(args)?;
    let d = match loaded {
        Model::Drawing(d) => d,
        Model::Mesh(part) => return run_stl(args, &name, &part),
    };
    let (mut lines, mut arcs) = (0, 0);
    for p in d.closed_loops.iter().chain(&d.open_chains) {
        let (l, a) = segs(p);
        lines += l;
        arcs += a;
    }
    let bbox = (!d.bbox.is_empty())
        .then_some([[d.bbox.min.x, d.bbox.min.y], [d.bbox.max.x, d.bbox.max.y]]);
    let tol = swarf_core::geometry::Tolerance::default();
    let holes = swarf_core::holes::find_holes(&d, &tol);
    let library = swarf_core::tool::ToolLibrary::presets();
    let fits: Vec<_> = holes
        .iter()
        .map(|g| swarf_core::holes::fitting_tools(g, &library.tools, &tol))
        .collect();
    let excellon = d.version.as_deref() == Some("Excellon");
    if args.json {
        let regions: Vec<_> = d
            .regions
            .iter()
            .map(|r| {
                let b = r.bbox();
                json!({
                    "area_mm2": r.area(),
                    "islands": r.islands.len(),
                    "bbox_mm": [[b.min.x, b.min.y], [b.max.x, b.max.y]],
                })
            })
            .collect();
        let v = json!({
            "file": name,
            "format": if excellon { "excellon" } else { "dxf" },
            "dxf_version": if excellon { None } else { d.version.clone() },
            "holes": holes.iter().zip(&fits).map(|(g, (drill, mill))| json!({
                "diameter_mm": g.diameter_mm,
                "count": g.centres.len(),
                "drill": drill.map(|t| &t.name),
                "bore_with": mill.map(|t| &t.name),
            })).collect::<Vec<_>>(),
            "units": d.units.name(),
            "declared_units": d.declared_units.map(Units::name),
            "units_source": d.units_source,
            "bbox_mm": bbox,
            "size_mm": bbox.map(|_| [d.bbox.width(), d.bbox.height()]),
            "entities": d.entity_counts,
            "layers": d.layers,
            "closed_loops": d.closed_loops.len(),
            "open_chains": d.open_chains.len(),
            "line_segments": lines,
            "arc_segments": arcs,
            "region_count": d.regions.len(),
            "regions": regions,
            "max_fit_error_mm": d.max_fit_error_mm,
            "warnings": d.warnings,
        });
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut s = String::new();
    writeln!(s, "file:          {name}")?;
    if excellon {
        writeln!(s, "format:        Excellon drill file")?;
    } else {
        match d.version.as_deref() {
            Some(v) if d.board_layer().is_some() => writeln!(s, "format:        {v}")?,
            v => writeln!(
                s,
                "format:        DXF {}",
                v.unwrap_or("(no version in header)")
            )?,
        }
    }
    writeln!(
        s,
        "units:         {} ({}; declared: {})",
        d.units,
        d.units_source,
        d.declared_units.map_or("none", Units::name)
    )?;
    match bbox {
        Some(b) => writeln!(
            s,
            "bbox:          ({:.4}, {:.4}) .. ({:.4}, {:.4}) mm, {:.4} x {:.4} mm",
            b[0][0],
            b[0][1],
            b[1][0],
            b[1][1],
            d.bbox.width(),
            d.bbox.height()
        )?,
        None => writeln!(s, "bbox:          (empty)")?,
    }
    let ents: Vec<String> = d
        .entity_counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    writeln!(s, "entities:      {}", ents.join(", "))?;
    let layers: Vec<String> = d
        .layers
        .iter()
        .map(|l| {
            format!(
                "{} ({}{})",
                l.name,
                l.entities,
                if l.imported { "" } else { ", not imported" }
            )
        })
        .collect();
    writeln!(s, "layers:        {}", layers.join(", "))?;
    writeln!(
        s,
        "geometry:      {} closed loops, {} open chains, {lines} lines, {arcs} arcs",
        d.closed_loops.len(),
        d.open_chains.len()
    )?;
    if d.max_fit_error_mm > 0.0 {
        writeln!(
            s,
            "curve fit:     splines/ellipses as arcs, max deviation {:.6} mm",
            d.max_fit_error_mm
        )?;
    }
    writeln!(s, "holes:         {}", holes.len())?;
    for (g, (drill, mill)) in holes.iter().zip(&fits) {
        let tool = match (drill, mill) {
            (Some(t), _) => format!("drill: {}", t.name),
            (None, Some(t)) => format!("no preset drill; helical-bore with {}", t.name),
            (None, None) => "no preset tool fits".to_string(),
        };
        writeln!(
            s,
            "  {:.4} mm x {} ({tool})",
            g.diameter_mm,
            g.centres.len()
        )?;
    }
    writeln!(s, "regions:       {}", d.regions.len())?;
    for (i, r) in d.regions.iter().enumerate().take(20) {
        let b = r.bbox();
        writeln!(
            s,
            "  region {i}: {:.4} mm², {} island(s), {:.4} x {:.4} mm at ({:.4}, {:.4})",
            r.area(),
            r.islands.len(),
            b.width(),
            b.height(),
            b.min.x,
            b.min.y
        )?;
    }
    if d.regions.len() > 20 {
        writeln!(s, "  … {} more", d.regions.len() - 20)?;
    }
    writeln!(s, "warnings:      {}", d.warnings.len())?;
    for w in &d.warnings {
        writeln!(s, "  - {w}")?;
    }
    out!("{s}");
    Ok(())
}

fn run_stl(args: &InspectArgs, name: &str, part: &StlPart) -> Result<()> {
    use swarf_core::geometry::Tolerance;
    use swarf_core::slice::{Slicer, flat_levels, slice_loops};
    let tol = Tolerance::default();
    let (lo, hi) = part.mesh.bounds().context("the mesh is empty")?;
    let slicer = Slicer::new(&part.mesh);
    let z_mid = 0.5 * (lo[2] + hi[2]);
    let sec = slice_loops(&slicer, z_mid, &tol);
    let regions = sec.regions(&tol);
    let flats = flat_levels(&part.mesh, &tol);
    let r = &part.report;
    if args.json {
        let v = json!({
            "file": name,
            "format": "stl",
            "stl_kind": if part.binary { "binary" } else { "ascii" },
            "solids": part.solids,
            "units": part.units.name(),
            "bbox_mm": [[lo[0], lo[1]], [hi[0], hi[1]]],
            "bbox3_mm": [lo, hi],
            "offset_mm": part.offset_mm,
            "triangles": r.triangles,
            "triangles_in_file": r.triangles_in_file,
            "degenerate_removed": r.degenerate_removed,
            "vertices": r.vertices,
            "watertight": r.watertight,
            "open_edges": r.open_edges,
            "nonmanifold_edges": r.nonmanifold_edges,
            "inconsistent_edges": r.inconsistent_edges,
            "bodies": r.bodies,
            "flat_levels_mm": flats,
            "section_z_mm": z_mid,
            "closed_loops": sec.loops.len(),
            "open_chains": sec.open.len(),
            "region_count": regions.len(),
            "regions": regions.iter().map(|g| json!({"area_mm2": g.area(), "islands": g.islands.len()})).collect::<Vec<_>>(),
            "warnings": part.warnings,
        });
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut s = String::new();
    writeln!(s, "file:          {name}")?;
    writeln!(
        s,
        "format:        STL {}{}",
        if part.binary { "binary" } else { "ASCII" },
        if part.solids > 1 {
            format!(", {} solids", part.solids)
        } else {
            String::new()
        }
    )?;
    writeln!(
        s,
        "units:         {} (STL has none; use --units to change)",
        part.units
    )?;
    writeln!(
        s,
        "bbox:          ({:.4}, {:.4}, {:.4}) .. ({:.4}, {:.4}, {:.4}) mm",
        lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]
    )?;
    writeln!(
        s,
        "mesh:          {} triangles ({} in file, {} degenerate removed), {} vertices, {} bodies",
        r.triangles, r.triangles_in_file, r.degenerate_removed, r.vertices, r.bodies
    )?;
    writeln!(
        s,
        "topology:      {}; {} open edges, {} non-manifold edges, {} flipped edges",
        if r.watertight {
            "watertight"
        } else {
            "NOT watertight"
        },
        r.open_edges,
        r.nonmanifold_edges,
        r.inconsistent_edges
    )?;
    writeln!(
        s,
        "flat levels:   {}",
        flats
            .iter()
            .take(20)
            .map(|z| format!("{z:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        s,
        "section at Z {z_mid:.4}: {} closed loops ({} segments from {} points), {} open chains, {} regions",
        sec.loops.len(),
        sec.segments_out,
        sec.points_in,
        sec.open.len(),
        regions.len()
    )?;
    writeln!(s, "warnings:      {}", part.warnings.len())?;
    for w in &part.warnings {
        writeln!(s, "  - {w}")?;
    }
    out!("{s}");
    Ok(())
}
