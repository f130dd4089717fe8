//! `swarf-cli probe`: a height map of the work surface probed through the machine link
//! (issue 22), saved as JSON for `generate --height-map`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use swarf_core::geometry::Tolerance;
use swarf_core::level::{HeightMap, ProbeSpec};
use swarf_machine::grbl;
use swarf_machine::probe::{ProbeOutcome, ProbeSettings, probe_grid};

use crate::send::{Target, connect, wait_grbl_ready};

#[derive(Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub target: Target,
    /// Points along X and Y, e.g. 10x8. Unset settings come from the job's [probe] table
    /// (when --area is a job file), else the defaults (5x4, 3 touches at 60 then 10 mm/min,
    /// clearance 1, retract 0.2, 1 mm deep at most, outliers beyond 5 µm, warp 0.2 mm).
    #[arg(long)]
    pub grid: Option<String>,
    /// The area to probe: X0,Y0,X1,Y1 in work coordinates (mm), or a job file: the area its
    /// operations cut, grown by --margin.
    #[arg(long, allow_hyphen_values = true)]
    pub area: String,
    /// Margin around a job's cuts, mm.
    #[arg(long)]
    pub margin: Option<f64>,
    /// Slow touches per point (after a fast one that finds the surface).
    #[arg(long)]
    pub touches: Option<u32>,
    /// Feed of the first touch, mm/min.
    #[arg(long)]
    pub fast: Option<f64>,
    /// Feed of the touches that measure, mm/min.
    #[arg(long)]
    pub slow: Option<f64>,
    /// Height over Z0 for moves between points, mm.
    #[arg(long)]
    pub clearance: Option<f64>,
    /// Back-off above the surface between touches, mm.
    #[arg(long)]
    pub retract: Option<f64>,
    /// How far below Z0 a touch may go, mm.
    #[arg(long)]
    pub max_depth: Option<f64>,
    /// Touches farther than this from their point's median are rejected, µm.
    #[arg(long)]
    pub outlier_um: Option<f64>,
    /// Points farther than this from the median height are flagged, mm.
    #[arg(long)]
    pub expected_warp: Option<f64>,
    /// A drill file (or drawing) whose holes the probe steps around (a job given as --area
    /// adds the holes of its drill files).
    #[arg(long)]
    pub avoid_holes: Option<PathBuf>,
    /// LinuxCNC: release the software E-stop and switch the machine on before probing.
    #[arg(long)]
    pub machine_on: bool,
    /// Longest wait for one move or touch, seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// The height map (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Summary {
    output: String,
    points: usize,
    min_mm: f64,
    max_mm: f64,
    worst_scatter_um: f64,
    rejected_touches: usize,
    notes: Vec<String>,
    warnings: Vec<String>,
}

fn parse_grid(s: &str) -> Result<(usize, usize)> {
    let (a, b) = s
        .split_once(['x', 'X', '*'])
        .with_context(|| format!("--grid '{s}': write it NxM, e.g. 10x8"))?;
    Ok((
        a.trim().parse().with_context(|| format!("--grid '{s}'"))?,
        b.trim().parse().with_context(|| format!("--grid '{s}'"))?,
    ))
}

/// A hole the probe steps around: centre and radius, mm.
type Hole = ([f64; 2], f64);

/// The holes of a drill file (or a drawing's circles).
fn holes_of(d: &swarf_core::import::Drawing) -> Vec<Hole> {
    swarf_core::holes::find_holes(d, &Tolerance::default())
        .iter()
        .flat_map(|g| g.centres.iter().map(|c| ([c.x, c.y], g.diameter_mm * 0.5)))
        .collect()
}

/// The area (four numbers, or the cuts of a job), the job's probe settings and the holes of
/// the job's drill files (a board's drill file in `[part] with`), which the probe steps
/// around.
fn area_of(a: &ProbeArgs) -> Result<([f64; 4], ProbeSpec, Vec<Hole>)> {
    let nums: Vec<Result<f64, _>> = a.area.split(',').map(|v| v.trim().parse::<f64>()).collect();
    if nums.len() == 4 && nums.iter().all(Result::is_ok) {
        let v: Vec<f64> = nums.into_iter().map(Result::unwrap).collect();
        return Ok(([v[0], v[1], v[2], v[3]], ProbeSpec::default(), Vec::new()));
    }
    let path = PathBuf::from(&a.area);
    if !path.exists() {
        bail!(
            "--area '{}' is neither X0,Y0,X1,Y1 nor a job file that exists",
            a.area
        );
    }
    let job = swarf_core::job::Job::load(&path)?;
    let base = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    let out = job.run(base)?;
    let all = out.cut_area();
    let holes = out
        .models()
        .filter_map(swarf_core::import::Model::drawing)
        .filter(|d| d.version.as_deref() == Some("Excellon"))
        .flat_map(holes_of)
        .collect();
    if all.is_empty() {
        bail!("the job {} cuts nothing: no area to probe", path.display());
    }
    let spec = job.probe.clone().unwrap_or_default();
    let m = a.margin.unwrap_or(spec.margin_mm).max(0.0);
    Ok((
        [all.min.x - m, all.min.y - m, all.max.x + m, all.max.y + m],
        spec,
        holes,
    ))
}

/// The map from the probed points: heights at the nodes, the touches' spread, the notes.
pub fn map_of(out: &ProbeOutcome, area: [f64; 4]) -> Result<HeightMap> {
    Ok(HeightMap::from_nodes(
        area,
        out.nx,
        out.ny,
        out.points.iter().map(|p| p.z).collect(),
        &out.points.iter().map(|p| p.scatter_um).collect::<Vec<_>>(),
        out.notes.clone(),
    )?)
}

pub fn run_probe(a: &ProbeArgs) -> Result<u8> {
    let (area, spec, mut avoid) = area_of(a)?;
    let (nx, ny) = match &a.grid {
        Some(g) => parse_grid(g)?,
        None => (spec.grid[0], spec.grid[1]),
    };
    if let Some(p) = &a.avoid_holes {
        let model = swarf_core::import::load(
            swarf_core::import::Source::Path(p),
            &swarf_core::import::ImportOptions::default(),
        )?;
        let d = model
            .drawing()
            .with_context(|| format!("{} is a mesh, not a drill file", p.display()))?;
        avoid.extend(holes_of(d));
    }
    let settings = ProbeSettings {
        nx,
        ny,
        area,
        touches: a.touches.unwrap_or(spec.touches),
        fast_mm_per_min: a.fast.unwrap_or(spec.fast_mm_per_min),
        slow_mm_per_min: a.slow.unwrap_or(spec.slow_mm_per_min),
        clearance_mm: a.clearance.unwrap_or(spec.clearance_mm),
        retract_mm: a.retract.unwrap_or(spec.retract_mm),
        max_depth_mm: a.max_depth.unwrap_or(spec.max_depth_mm),
        outlier_um: a.outlier_um.unwrap_or(spec.outlier_um),
        expected_warp_mm: a.expected_warp.unwrap_or(spec.expected_warp_mm),
        avoid,
        timeout: std::time::Duration::from_secs(a.timeout.max(1)),
    };
    settings.check().map_err(anyhow::Error::msg)?;
    let link = connect(&a.target, grbl::Options::default())?;
    if a.target.linuxcnc.is_some() {
        // Each probing move runs by MDI: LinuxCNC must be out of E-stop and on.
        if a.machine_on {
            link.send(swarf_machine::Cmd::MachineOn);
        }
    } else {
        wait_grbl_ready(&link)?;
    }
    let quiet = a.json;
    let out = probe_grid(&link, &settings, &mut |done, total| {
        if !quiet {
            eprint!("\rprobed {done} of {total}");
        }
        true
    })
    .map_err(anyhow::Error::msg)?;
    if !quiet {
        eprintln!();
    }
    let map = map_of(&out, area)?;
    swarf_core::fsio::write_atomic(&a.output, map.to_json().as_bytes())
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    let (lo, hi) = map.range();
    let s = Summary {
        output: a.output.display().to_string(),
        points: out.points.len(),
        min_mm: lo,
        max_mm: hi,
        worst_scatter_um: out.points.iter().map(|p| p.scatter_um).fold(0.0, f64::max),
        rejected_touches: out.points.iter().map(|p| p.rejected).sum(),
        notes: out.notes.clone(),
        warnings: out.warnings.clone(),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!("wrote {} ({} points)", s.output, s.points);
        for n in &s.notes {
            println!("{n}");
        }
        for w in &s.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(0)
}
