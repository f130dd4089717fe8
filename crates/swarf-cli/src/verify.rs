//! `swarf-cli verify` and `swarf-cli simulate`: read a program (or run a job), check it against
//! the part, simulate the stock.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;
use swarf_core::geometry::{Pline, Tolerance};
use swarf_core::sim::{Material, SimOptions};
use swarf_core::tool::Tool;
use swarf_core::toolpath::{P3, Toolpath};
use swarf_core::verify::{
    PartRef, VerifyOptions, VerifyReport, read_back_tolerance, read_gcode, verify,
};

use crate::generate::ShapeArg;
use crate::inspect::{InspectArgs, load_any};
use swarf_core::import::Model;

#[derive(Args)]
pub struct VerifyArgs {
    /// A G-code program, or a job file (.toml) whose operations are generated and checked.
    pub program: PathBuf,
    /// The part: a DXF drawing or an STL mesh.
    #[arg(long)]
    pub against: PathBuf,
    /// Tool diameter, mm (for a job file, the job's tools are used).
    #[arg(long, allow_negative_numbers = true)]
    pub tool_diameter: Option<f64>,
    #[arg(long, value_enum, default_value = "flat")]
    pub tool: ShapeArg,
    #[arg(long, allow_negative_numbers = true)]
    pub corner_radius: Option<f64>,
    /// Stock beyond the part's bounding box, mm.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub stock_margin: f64,
    /// Heightmap cell size, mm (default: from the tool and the part).
    #[arg(long, allow_negative_numbers = true)]
    pub resolution: Option<f64>,
    /// Stock material (for cutting forces).
    #[arg(long, default_value = "aluminium")]
    pub material: Material,
    /// Read the part in this unit.
    #[arg(long)]
    pub units: Option<swarf_core::import::Units>,
    /// A mesh part turned as the program's job turned it: `x-90`, `z90`, `flip`.
    #[arg(long, default_value = "none")]
    pub orient: swarf_core::geometry::mesh::Orientation,
    /// The controller, for its block rate (grbl, linuxcnc, fanuc).
    #[arg(long, default_value = "grbl")]
    pub dialect: swarf_core::post::Dialect,
    #[arg(long)]
    pub json: bool,
}

fn tool_from(a: &VerifyArgs) -> Result<Tool> {
    let d = a.tool_diameter.context("give --tool-diameter MM")?;
    let mut t = Tool::micro_flat(d);
    // A V tool of 30°, a drill of 118° (the usual ones; the cut's shape follows them).
    let drill = matches!(a.tool, crate::generate::ShapeArg::Drill);
    t.shape = a
        .tool
        .shape(a.corner_radius, if drill { 118.0 } else { 30.0 }, 0.0)?;
    if drill {
        t.name = format!("{d} mm drill");
        t.flute_length_mm = d * 6.0;
        t.stickout_mm = t.flute_length_mm + 2.0;
    }
    t.validate()?;
    Ok(t)
}

/// Operation names with their move ranges.
type OpRanges = Vec<(String, std::ops::Range<usize>)>;

/// Runs the checks; returns the report and the operations' names and move ranges (one range
/// named "program" for G-code).
fn check(a: &VerifyArgs) -> Result<(VerifyReport, OpRanges)> {
    let tol = Tolerance::default();
    let (_, loaded) = load_any(&InspectArgs {
        file: Some(a.against.clone()),
        units: a.units,
        layers: None,
        close_gap: swarf_core::import::DxfOptions::default().close_gap_mm,
        origin: swarf_core::import::Origin::Top,
        orient: a.orient,
        json: false,
    })?;
    let loops: Vec<Pline>;
    let part = match &loaded {
        Model::Drawing(d) => {
            loops = d.closed_loops.clone();
            PartRef::Drawing(&loops)
        }
        Model::Mesh(p) => PartRef::Mesh(&p.mesh),
    };
    let opts = VerifyOptions {
        stock_margin_mm: a.stock_margin,
        resolution_mm: a.resolution,
        sim: SimOptions {
            material: a.material,
            ..SimOptions::default()
        },
    };
    let is_job = a
        .program
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let mut ranges: OpRanges = Vec::new();
    let (tp, lines, tool): (Toolpath, Option<Vec<u32>>, Tool) = if is_job {
        let job = swarf_core::job::Job::load(&a.program)?;
        let drawing = match &loaded {
            Model::Drawing(d) => d.clone(),
            Model::Mesh(_) => {
                bail!("job files hold drawing operations; check a mesh program as G-code")
            }
        };
        let out = job.run_model(
            Model::Drawing(drawing),
            &mut |_, _| true,
            &swarf_core::ops::Cancel::NEVER,
        )?;
        let mut tp = Toolpath::default();
        let mut tool = None;
        for (i, (name, t, r)) in out.operations.iter().enumerate() {
            if i == 0 {
                tp.start = r.toolpath.start;
            }
            let first = tp.moves.len();
            tp.moves.extend_from_slice(&r.toolpath.moves);
            ranges.push((name.clone(), first..tp.moves.len()));
            tool.get_or_insert_with(|| t.clone());
        }
        let tool = match a.tool_diameter {
            Some(_) => tool_from(a)?,
            None => tool.context("the job has no enabled operation")?,
        };
        (tp, None, tool)
    } else {
        let text = std::fs::read_to_string(&a.program)
            .with_context(|| format!("cannot read {}", a.program.display()))?;
        let p = read_gcode(&text, P3::default(), &tol)?;
        ranges.push(("program".into(), 0..p.toolpath.moves.len()));
        (p.toolpath, Some(p.line_of_move), tool_from(a)?)
    };
    // A program is checked within the rounding of its written decimals, a job's toolpaths
    // exactly.
    let check_tol = if is_job {
        tol
    } else {
        read_back_tolerance(&tp, &tol)
    };
    let rep = verify(&tp, lines.as_deref(), part, &tool, &opts, &check_tol);
    Ok((rep, ranges))
}

pub fn run_verify(a: &VerifyArgs) -> Result<bool> {
    let (rep, _) = check(a)?;
    if a.json {
        let v = json!({
            "gouges": rep.gouges.iter().map(|g| json!({"line": g.line, "depth_mm": g.depth_mm, "at": g.at})).collect::<Vec<_>>(),
            "rapids_through_stock": rep.rapids_through_stock,
            "plunges": rep.plunges,
            "max_leftover_mm": rep.max_leftover_mm,
            "warnings": rep.warnings,
            "ok": !rep.failed(),
        });
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!("{}", if rep.failed() { "FAILED" } else { "ok" });
        outln!("gouges: {}", rep.gouges.len());
        for g in rep.gouges.iter().take(20) {
            outln!(
                "  line {}: {:.4} mm into the part at ({:.4}, {:.4}, {:.4})",
                g.line,
                g.depth_mm,
                g.at[0],
                g.at[1],
                g.at[2]
            );
        }
        outln!("rapids through stock: {:?}", rep.rapids_through_stock);
        outln!("plunges into uncut material: {:?}", rep.plunges);
        for w in &rep.warnings {
            outln!("warning: {w}");
        }
    }
    Ok(!rep.failed())
}

pub fn run_simulate(a: &VerifyArgs) -> Result<bool> {
    let (rep, ranges) = check(a)?;
    let s = &rep.sim;
    let per_op: Vec<serde_json::Value> = ranges
        .iter()
        .map(|(name, r)| {
            let f = s.figures(r.clone());
            json!({
                "name": name,
                "max_engagement_deg": f.max_engagement_deg,
                "min_chip_thickness_um": f.min_chip_thickness_um,
                "max_deflection_um": f.max_deflection_um,
            })
        })
        .collect();
    if a.json {
        let v = json!({
            "operations": per_op,
            "removed_volume_mm3": s.removed_volume_mm3,
            "estimated_seconds": s.estimated_seconds,
            "naive_seconds": s.naive_seconds,
            "max_engagement_deg": s.max_engagement_deg,
            "min_chip_thickness_um": s.min_chip_thickness_um,
            "max_deflection_um": s.max_deflection_um,
            "gouges": rep.gouges.iter().map(|g| json!({"line": g.line, "depth_mm": g.depth_mm})).collect::<Vec<_>>(),
            "rapids_through_stock": rep.rapids_through_stock,
            "plunges": rep.plunges,
            "max_leftover_mm": rep.max_leftover_mm,
            "leftover_area_mm2": rep.leftover_area_mm2,
            "cell_mm": rep.cell_mm,
            "warnings": rep.warnings,
        });
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!("removed volume:    {:.6} mm³", s.removed_volume_mm3);
        outln!(
            "cycle time:        {:.1} s with acceleration ({:.1} s at programmed feeds)",
            s.estimated_seconds,
            s.naive_seconds
        );
        outln!("max engagement:    {:.1}°", s.max_engagement_deg);
        if let Some(c) = s.min_chip_thickness_um {
            outln!("min chip:          {c:.3} µm");
        }
        outln!("max deflection:    {:.3} µm", s.max_deflection_um);
        outln!("gouges:            {}", rep.gouges.len());
        outln!("rapids into stock: {}", rep.rapids_through_stock.len());
        if let Some(l) = rep.max_leftover_mm {
            outln!(
                "max leftover:      {l:.4} mm over {:.4} mm²",
                rep.leftover_area_mm2.unwrap_or(0.0)
            );
        }
        outln!("heightmap cell:    {:.4} mm", rep.cell_mm);
        for (name, r) in &ranges {
            let f = s.figures(r.clone());
            outln!(
                "  {name}: max engagement {:.1}°, min chip {}, max deflection {:.3} µm",
                f.max_engagement_deg,
                f.min_chip_thickness_um
                    .map_or("-".into(), |c| format!("{c:.3} µm")),
                f.max_deflection_um
            );
        }
        for w in &rep.warnings {
            outln!("warning: {w}");
        }
    }
    Ok(!rep.failed())
}
