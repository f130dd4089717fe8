//! `swarf-cli inspect`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use cavalier_contours::polyline::PlineSource;
use clap::Args;
use serde_json::json;
use swarf_core::geometry::Pline;
use swarf_core::import::{Drawing, DxfOptions, Units, import_dxf};

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
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Reads the file (or the example) and imports it.
pub fn load(args: &InspectArgs) -> Result<(String, Drawing)> {
    let (name, bytes) = match &args.file {
        Some(p) => (
            p.display().to_string(),
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        ),
        None => (
            format!("{} (embedded example)", swarf_core::EXAMPLE_DXF_NAME),
            swarf_core::EXAMPLE_DXF.as_bytes().to_vec(),
        ),
    };
    let ext = args
        .file
        .as_ref()
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if ext.as_deref() == Some("stl") {
        bail!(
            "{name}: STL import is not available in this version of Swarf yet; use a DXF drawing"
        );
    }
    let opts = DxfOptions {
        units: args.units,
        layers: args.layers.clone(),
        close_gap_mm: args.close_gap,
        ..DxfOptions::default()
    };
    let d = import_dxf(&bytes, &opts).with_context(|| format!("cannot import {name}"))?;
    Ok((name, d))
}

fn segs(p: &Pline) -> (usize, usize) {
    let arcs = p.iter_segments().filter(|(v, _)| v.bulge != 0.0).count();
    (p.segment_count() - arcs, arcs)
}

pub fn run(args: &InspectArgs) -> Result<()> {
    let (name, d) = load(args)?;
    let (mut lines, mut arcs) = (0, 0);
    for p in d.closed_loops.iter().chain(&d.open_chains) {
        let (l, a) = segs(p);
        lines += l;
        arcs += a;
    }
    let bbox = (!d.bbox.is_empty())
        .then_some([[d.bbox.min.x, d.bbox.min.y], [d.bbox.max.x, d.bbox.max.y]]);
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
            "format": "dxf",
            "dxf_version": d.version,
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
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut s = String::new();
    writeln!(s, "file:          {name}")?;
    writeln!(
        s,
        "format:        DXF {}",
        d.version.as_deref().unwrap_or("(no version in header)")
    )?;
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
    print!("{s}");
    Ok(())
}
