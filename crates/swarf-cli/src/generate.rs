//! `swarf-cli generate`: import, generate an operation (or a job file's operations), write
//! G-code, print a summary.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde_json::json;
use swarf_core::geometry::Tolerance;
use swarf_core::job::{Target, target_regions};
use swarf_core::ops::adaptive::{AdaptiveParams, adaptive};
use swarf_core::ops::contour::{ContourParams, Side, contour};
use swarf_core::ops::pocket::{Pattern, PocketParams, pocket};
use swarf_core::ops::{Direction, EntryKind, Heights, Stepover};
use swarf_core::post::{Dialect, PostOptions, Section, write_program};
use swarf_core::tool::{Tool, ToolShape};
use swarf_core::toolpath::Toolpath;

use crate::inspect::{InspectArgs, Loaded, load_any};

#[derive(Clone, Copy, ValueEnum)]
pub enum OpKind {
    Pocket,
    Contour,
    /// Adaptive clearing: the radial engagement stays at or below --max-engagement-deg.
    Adaptive,
    /// Z-level roughing of a mesh.
    ZlevelRough,
    /// Z-level (waterline) contours of a mesh's walls.
    ZlevelContour,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ShapeArg {
    Flat,
    Ball,
    Bull,
    V,
}

impl ShapeArg {
    /// The tool shape, with the corner radius a bull-nose needs and a V tool's angle.
    pub fn shape(self, corner_radius: Option<f64>, v_angle_deg: f64) -> Result<ToolShape> {
        Ok(match self {
            ShapeArg::Flat => ToolShape::Flat,
            ShapeArg::Ball => ToolShape::Ball,
            ShapeArg::Bull => ToolShape::Bull {
                corner_radius_mm: corner_radius.context("--tool bull needs --corner-radius MM")?,
            },
            ShapeArg::V => ToolShape::V {
                angle_deg: v_angle_deg,
                tip_diameter_mm: 0.0,
            },
        })
    }
}

// Command-line flags are naturally booleans.
#[allow(clippy::struct_excessive_bools)]
#[derive(Args)]
pub struct GenerateArgs {
    /// A DXF file; without one, the embedded example part.
    pub file: Option<PathBuf>,
    /// The operation.
    #[arg(long, value_enum, default_value = "pocket")]
    pub op: OpKind,
    /// Contour side: outside, inside or on the line.
    #[arg(long, default_value = "outside")]
    pub side: Side,
    /// Pocket pattern.
    #[arg(long, default_value = "offset")]
    pub pattern: Pattern,
    /// Zigzag angle, degrees.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub zigzag_angle: f64,
    /// Tool diameter, mm (required without --job).
    #[arg(long, allow_negative_numbers = true)]
    pub tool_diameter: Option<f64>,
    /// Tool shape.
    #[arg(long, value_enum, default_value = "flat")]
    pub tool: ShapeArg,
    /// Corner radius of a bull-nose tool, mm.
    #[arg(long, allow_negative_numbers = true)]
    pub corner_radius: Option<f64>,
    /// Included angle of a V tool, degrees.
    #[arg(long, allow_negative_numbers = true, default_value_t = 30.0)]
    pub v_angle: f64,
    /// Flutes.
    #[arg(long, default_value_t = 2)]
    pub flutes: u32,
    /// Step-over: fraction of the diameter (0.1), percentage (10%) or mm (0.02mm).
    #[arg(long, default_value = "0.4")]
    pub stepover: Stepover,
    /// Final depth, mm (positive; the cut goes to Z = -depth; required without --job).
    #[arg(long, allow_negative_numbers = true)]
    pub depth: Option<f64>,
    /// Start depth, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub start_depth: f64,
    /// Depth per level, mm (default: the whole depth in one level).
    #[arg(long, allow_negative_numbers = true)]
    pub stepdown: Option<f64>,
    /// Radial (wall) finishing allowance, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub allowance: f64,
    /// Axial (floor) finishing allowance, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub floor_allowance: f64,
    /// Cutting feed, mm/min (default: rpm × flutes × chip load of the tool preset).
    #[arg(long, allow_negative_numbers = true)]
    pub feed: Option<f64>,
    /// Spindle speed, rpm.
    #[arg(long, allow_negative_numbers = true)]
    pub rpm: Option<f64>,
    /// Safe height, mm above the stock.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub safe_height: f64,
    /// Clearance height, mm above the stock.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5.0)]
    pub clearance_height: f64,
    /// Entry into stock.
    #[arg(long, default_value = "helix")]
    pub entry: EntryKind,
    /// Ramp and helix angle, degrees.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2.0)]
    pub ramp_angle: f64,
    /// Number of radial roughing passes of a contour (before the finishing pass).
    #[arg(long, default_value_t = 1)]
    pub passes: u32,
    /// Repeat the last contour pass (spring pass).
    #[arg(long)]
    pub spring_pass: bool,
    /// Lead-in/out arc radius of a contour, mm (0: none).
    #[arg(long, allow_negative_numbers = true)]
    pub lead_radius: Option<f64>,
    /// Holding tabs per outside contour.
    #[arg(long, default_value_t = 0)]
    pub tabs: u32,
    /// Tab width, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub tab_width: f64,
    /// Tab height above the final depth, mm.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.1)]
    pub tab_height: f64,
    /// G-code dialect: grbl, linuxcnc or fanuc (default linuxcnc, or the job's).
    #[arg(long)]
    pub dialect: Option<Dialect>,
    /// Decimals of coordinates, 3 to 6 (default 4, or the job's).
    #[arg(long)]
    pub decimals: Option<u32>,
    /// Climb milling (the default).
    #[arg(long, conflicts_with = "conventional")]
    pub climb: bool,
    /// Conventional milling.
    #[arg(long)]
    pub conventional: bool,
    /// Read the drawing in this unit.
    #[arg(long)]
    pub units: Option<swarf_core::import::Units>,
    /// Only these layers.
    #[arg(long, value_delimiter = ',')]
    pub layers: Option<Vec<String>>,
    /// Work origin of a mesh: top, corner or centre.
    #[arg(long, default_value = "top")]
    pub origin: swarf_core::import::Origin,
    /// Stock beyond a mesh's bounding box, mm (default: the tool diameter).
    #[arg(long, allow_negative_numbers = true)]
    pub stock_margin: Option<f64>,
    /// Adaptive clearing: the largest radial engagement angle, degrees [default: 60]; with
    /// --op zlevel-rough it clears each layer adaptively.
    #[arg(long, allow_negative_numbers = true)]
    pub max_engagement_deg: Option<f64>,
    /// Adaptive clearing: the limit as a radial width instead, a fraction of the diameter
    /// (0.1), a percentage (10%) or millimetres (0.02mm); replaces --max-engagement-deg.
    #[arg(long)]
    pub optimal_load: Option<Stepover>,
    /// Rest machining (pocket, adaptive): the diameter of the larger tool that cleared the part
    /// before; only the material it could not reach is cut.
    #[arg(long, allow_negative_numbers = true)]
    pub rest_from_diameter: Option<f64>,
    /// A job file (TOML) with tools and operations; FILE, if given, replaces its part.
    #[arg(long)]
    pub job: Option<PathBuf>,
    /// Output G-code file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write the program even when the check before export finds gouges.
    #[arg(long)]
    pub force: bool,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// What the check before export finds in one toolpath against the part: gouges and rapids
/// through stock, as one message (`lines`: the G-code line of each move, when read back).
fn export_problems(
    tp: &Toolpath,
    lines: Option<&[u32]>,
    part: swarf_core::verify::PartRef<'_>,
    tool: &Tool,
) -> Option<String> {
    use swarf_core::geometry::{Bbox2, V2, pline_bbox};
    use swarf_core::verify::{PartRef, check_gouges, check_rapids, read_back_tolerance};
    // A program read back (it has line numbers) is checked within the rounding of its written
    // decimals; a generated toolpath exactly.
    let tol = match lines {
        Some(_) => read_back_tolerance(tp, &Tolerance::default()),
        None => Tolerance::default(),
    };
    let line = |i: usize| {
        lines
            .and_then(|l| l.get(i).copied())
            .unwrap_or(i as u32 + 1)
    };
    let g = check_gouges(tp, lines, part, tool, &tol);
    // Rapids through stock: the stock is the part's box grown by the tool, from below the
    // deepest cut to Z = 0.
    let mut b = Bbox2::EMPTY;
    match part {
        PartRef::Drawing(loops) => loops.iter().for_each(|l| b.union(&pline_bbox(l))),
        PartRef::Mesh(m) => {
            if let Some((l, h)) = m.bounds() {
                b.add_point(V2::new(l[0], l[1]));
                b.add_point(V2::new(h[0], h[1]));
            }
        }
    }
    let grow = V2::new(tool.diameter_mm, tool.diameter_mm);
    let deepest = tp.moves.iter().map(|m| m.to.z).fold(0.0f64, f64::min);
    let rapids = if b.is_empty() {
        Vec::new()
    } else {
        check_rapids(tp, b.min - grow, b.max + grow, deepest - 1.0, tool, &tol)
    };
    let mut parts = Vec::new();
    if !g.is_empty() {
        let first: Vec<String> = g
            .iter()
            .take(5)
            .map(|g| format!("line {} ({:.4} mm)", g.line, g.depth_mm))
            .collect();
        parts.push(format!(
            "cuts into the part at {} place(s): {}",
            g.len(),
            first.join(", ")
        ));
    }
    if !rapids.is_empty() {
        let first: Vec<String> = rapids
            .iter()
            .take(5)
            .map(|&i| line(i).to_string())
            .collect();
        parts.push(format!(
            "{} rapid move(s) pass through stock (lines {})",
            rapids.len(),
            first.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A problem found before export blocks it, unless forced (then it is a warning).
fn block_or_warn(a: &GenerateArgs, msg: &str) -> Result<String> {
    if a.force {
        Ok(format!("export check: {msg}; written anyway (--force)"))
    } else {
        bail!("{msg}; not written (use --force to write it anyway)")
    }
}

/// Re-reads the written program and checks it against the part before it is saved; a gouge or
/// a rapid through stock blocks the export unless forced. Returns the check's warnings.
fn check_export(
    a: &GenerateArgs,
    text: &str,
    part: Option<swarf_core::verify::PartRef<'_>>,
    tool: &Tool,
) -> Result<Vec<String>> {
    let back = swarf_core::verify::read_gcode(
        text,
        swarf_core::toolpath::P3::default(),
        &Tolerance::default(),
    )
    .context("the written program does not read back")?;
    let Some(part) = part else {
        return Ok(vec![
            "export check: cutting on the line, the gouge check against the drawing does not apply"
                .into(),
        ]);
    };
    match export_problems(&back.toolpath, Some(&back.line_of_move), part, tool) {
        None => Ok(Vec::new()),
        Some(msg) => Ok(vec![block_or_warn(a, &format!("the program {msg}"))?]),
    }
}

fn make_tool(a: &GenerateArgs, diameter: f64) -> Result<Tool> {
    let mut t = Tool::micro_flat(diameter);
    t.name = format!(
        "{} mm {} end mill",
        diameter,
        match a.tool {
            ShapeArg::Flat => "flat",
            ShapeArg::Ball => "ball",
            ShapeArg::Bull => "bull-nose",
            ShapeArg::V => "V",
        }
    );
    t.flutes = a.flutes;
    t.shape = a.tool.shape(a.corner_radius, a.v_angle)?;
    if let Some(rpm) = a.rpm {
        t.feeds.rpm = rpm;
        t.max_rpm = t.max_rpm.max(rpm);
    }
    if let Some(f) = a.feed {
        if !(f.is_finite() && f > 0.0) {
            bail!("--feed is {f}; it must be a positive number of mm/min");
        }
        t.feeds.feed_per_tooth_mm = f / (t.feeds.rpm * f64::from(t.flutes.max(1)));
    }
    t.validate()?;
    Ok(t)
}

pub fn run(a: &GenerateArgs) -> Result<()> {
    let t0 = Instant::now();
    if a.rest_from_diameter.is_some()
        && (a.job.is_some() || !matches!(a.op, OpKind::Pocket | OpKind::Adaptive))
    {
        bail!(
            "--rest-from-diameter applies to --op pocket and --op adaptive; in a job file set \
             rest_from_diameter_mm in [operation.pocket] or [operation.adaptive]"
        );
    }
    if a.optimal_load.is_some() && (a.job.is_some() || !matches!(a.op, OpKind::Adaptive)) {
        bail!(
            "--optimal-load applies to --op adaptive; in a job file set optimal_load in \
             [operation.adaptive]"
        );
    }
    if let Some(job_path) = &a.job {
        return run_job(a, job_path, t0);
    }
    let Some(diameter) = a.tool_diameter else {
        bail!("give --tool-diameter MM (and --depth MM), or a job file with --job");
    };
    let (name, loaded) = load_any(&InspectArgs {
        file: a.file.clone(),
        units: a.units,
        layers: a.layers.clone(),
        close_gap: swarf_core::import::DxfOptions::default().close_gap_mm,
        origin: a.origin,
        json: false,
    })?;
    let drawing = match loaded {
        Loaded::Dxf(d) => d,
        Loaded::Stl(part) => return run_mesh(a, &name, &part, diameter, t0),
    };
    let Some(depth) = a.depth else {
        bail!("give --depth MM (positive; the cut goes to Z = -depth)");
    };
    let tool = make_tool(a, diameter)?;
    let tol = Tolerance::default();
    let heights = Heights {
        clearance_mm: a.clearance_height,
        safe_mm: a.safe_height,
        start_depth_mm: a.start_depth,
        final_depth_mm: depth,
    };
    let entry = swarf_core::ops::Entry {
        kind: a.entry,
        ramp_angle_deg: a.ramp_angle,
        ..swarf_core::ops::Entry::default()
    };
    let direction = if a.conventional {
        Direction::Conventional
    } else {
        Direction::Climb
    };
    let mut warnings = drawing.warnings.clone();
    let mut engagement_limit = None;
    let (op_name, result) = match a.op {
        OpKind::Pocket => {
            let p = PocketParams {
                heights,
                stepover: a.stepover,
                stepdown_mm: a.stepdown,
                allowance_radial_mm: a.allowance,
                allowance_axial_mm: a.floor_allowance,
                direction,
                pattern: a.pattern,
                zigzag_angle_deg: a.zigzag_angle,
                entry,
                rest_from_diameter_mm: a.rest_from_diameter,
            };
            if drawing.regions.is_empty() {
                bail!(
                    "{name}: no closed regions to pocket (open chains can only be contoured on the line)"
                );
            }
            ("pocket", pocket(&drawing.regions, &tool, &p, &tol)?)
        }
        OpKind::Adaptive => {
            let p = AdaptiveParams {
                heights,
                max_engagement_deg: a.max_engagement_deg.unwrap_or(60.0),
                optimal_load: a.optimal_load.map(|l| l.mm(diameter) / diameter),
                stepdown_mm: a.stepdown,
                allowance_radial_mm: a.allowance,
                allowance_axial_mm: a.floor_allowance,
                direction,
                entry,
                rest_from_diameter_mm: a.rest_from_diameter,
            };
            if drawing.regions.is_empty() {
                bail!(
                    "{name}: no closed regions to clear (open chains can only be contoured on the line)"
                );
            }
            engagement_limit = Some(p.engagement_deg());
            ("adaptive", adaptive(&drawing.regions, &tool, &p, &tol)?)
        }
        OpKind::Contour => {
            let p = ContourParams {
                heights,
                side: a.side,
                stepover: a.stepover,
                stepdown_mm: a.stepdown,
                allowance_radial_mm: a.allowance,
                roughing_passes: a.passes,
                spring_pass: a.spring_pass,
                direction,
                entry,
                lead_radius_mm: a.lead_radius.unwrap_or(tool.diameter_mm * 0.5),
                tabs: a.tabs,
                tab_width_mm: a.tab_width,
                tab_height_mm: a.tab_height,
            };
            // Outside: the parts' outlines; inside: their holes; on: every loop and chain.
            let (loops, open) = match a.side {
                Side::Outside => (
                    target_regions(&drawing, Target::Outlines)
                        .into_iter()
                        .map(|r| r.outer)
                        .collect(),
                    Vec::new(),
                ),
                Side::Inside => (
                    drawing
                        .regions
                        .iter()
                        .flat_map(|r| r.islands.iter().cloned())
                        .collect(),
                    Vec::new(),
                ),
                Side::On => (drawing.closed_loops.clone(), drawing.open_chains.clone()),
            };
            ("contour", contour(&loops, &open, &tool, &p, &tol)?)
        }
        OpKind::ZlevelRough | OpKind::ZlevelContour => {
            bail!(
                "{name}: z-level operations need a mesh (STL); for a drawing use pocket or contour"
            )
        }
    };
    warnings.extend(result.warnings.iter().cloned());
    let (post, program) = post_one(a, op_name, &name, &tool, &result.toolpath)?;
    let loops: Vec<swarf_core::geometry::Pline> = drawing.closed_loops.clone();
    let on_line = matches!(a.op, OpKind::Contour) && a.side == Side::On;
    let part = (!on_line).then_some(swarf_core::verify::PartRef::Drawing(&loops));
    warnings.extend(check_export(a, &program.text, part, &tool)?);
    write_atomic(&a.output, program.text.as_bytes())?;
    let elapsed = t0.elapsed().as_secs_f64();
    summary(
        a,
        &result.toolpath,
        &program,
        &warnings,
        elapsed,
        &post,
        engagement_limit,
    )
}

fn run_mesh(
    a: &GenerateArgs,
    name: &str,
    part: &swarf_core::import::StlPart,
    diameter: f64,
    t0: Instant,
) -> Result<()> {
    use swarf_core::ops::zlevel::{ZLevelParams, zlevel_contour, zlevel_rough};
    let tool = make_tool(a, diameter)?;
    let tol = Tolerance::default();
    let (lo, _) = part.mesh.bounds().context("the mesh is empty")?;
    let depth = a.depth.unwrap_or(-lo[2]);
    let p = ZLevelParams {
        heights: Heights {
            clearance_mm: a.clearance_height,
            safe_mm: a.safe_height,
            start_depth_mm: a.start_depth,
            final_depth_mm: depth,
        },
        stepover: a.stepover,
        stepdown_mm: a.stepdown,
        allowance_radial_mm: a.allowance,
        allowance_axial_mm: a.floor_allowance,
        direction: if a.conventional {
            Direction::Conventional
        } else {
            Direction::Climb
        },
        pattern: a.pattern,
        entry: swarf_core::ops::Entry {
            kind: a.entry,
            ramp_angle_deg: a.ramp_angle,
            ..swarf_core::ops::Entry::default()
        },
        stock_margin_mm: a.stock_margin,
        max_engagement_deg: if matches!(a.op, OpKind::ZlevelRough) {
            a.max_engagement_deg
        } else {
            None
        },
    };
    let (op_name, result) = match a.op {
        OpKind::ZlevelRough => ("zlevel-rough", zlevel_rough(&part.mesh, &tool, &p, &tol)?),
        OpKind::ZlevelContour => (
            "zlevel-contour",
            zlevel_contour(&part.mesh, &tool, &p, &tol)?,
        ),
        OpKind::Pocket | OpKind::Contour | OpKind::Adaptive => {
            bail!(
                "{name}: pocket, contour and adaptive need a drawing (DXF); for a mesh use zlevel-rough (with --max-engagement-deg for adaptive layers) or zlevel-contour"
            )
        }
    };
    let mut warnings = part.warnings.clone();
    warnings.extend(result.warnings.iter().cloned());
    let (post, program) = post_one(a, op_name, name, &tool, &result.toolpath)?;
    warnings.extend(check_export(
        a,
        &program.text,
        Some(swarf_core::verify::PartRef::Mesh(&part.mesh)),
        &tool,
    )?);
    write_atomic(&a.output, program.text.as_bytes())?;
    summary(
        a,
        &result.toolpath,
        &program,
        &warnings,
        t0.elapsed().as_secs_f64(),
        &post,
        p.max_engagement_deg,
    )
}

/// Replaces the job's part by FILE when one is given on the command line (a drawing or a
/// mesh, with the given units and layers); returns the folder the part's path is relative to.
pub fn part_from_args(
    job: &mut swarf_core::job::Job,
    job_path: Option<&std::path::Path>,
    file: Option<&std::path::Path>,
    units: Option<swarf_core::import::Units>,
    layers: Option<&Vec<String>>,
) -> std::path::PathBuf {
    let Some(f) = file else {
        return job_path
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
    };
    job.part.file = f.display().to_string();
    if units.is_some() {
        job.part.units = units;
    }
    if let Some(l) = layers {
        job.part.layers = Some(l.clone());
    }
    std::path::PathBuf::from(".")
}

fn run_job(a: &GenerateArgs, job_path: &std::path::Path, t0: Instant) -> Result<()> {
    let mut job = swarf_core::job::Job::load(job_path)?;
    if let Some(d) = a.dialect {
        job.post.dialect = d;
    }
    if let Some(d) = a.decimals {
        job.post.decimals = d;
    }
    let base = part_from_args(
        &mut job,
        Some(job_path),
        a.file.as_deref(),
        a.units,
        a.layers.as_ref(),
    );
    let (_, model) = job.load_model(&base)?;
    let out = job.run_model(model, &mut |_, _| true)?;
    // The program must read back; each operation is checked with its own tool.
    swarf_core::verify::read_gcode(
        &out.program.text,
        swarf_core::toolpath::P3::default(),
        &Tolerance::default(),
    )
    .context("the written program does not read back")?;
    let on_line = job
        .operations
        .iter()
        .any(|o| o.contour.is_some_and(|c| c.side == Side::On));
    let loops = out
        .model
        .drawing()
        .map(|d| d.closed_loops.clone())
        .unwrap_or_default();
    let part = match out.model.mesh() {
        Some(m) => swarf_core::verify::PartRef::Mesh(m),
        None => swarf_core::verify::PartRef::Drawing(&loops),
    };
    let mut export_warnings = Vec::new();
    if !on_line {
        for (name, t, r) in &out.operations {
            if let Some(msg) = export_problems(&r.toolpath, None, part, t) {
                export_warnings.push(block_or_warn(a, &format!("operation '{name}' {msg}"))?);
            }
        }
    }
    write_atomic(&a.output, out.program.text.as_bytes())?;
    let mut all = Toolpath::default();
    let mut warnings = out.model.warnings().to_vec();
    warnings.append(&mut export_warnings);
    for (i, (name, _, r)) in out.operations.iter().enumerate() {
        if i == 0 {
            all.start = r.toolpath.start;
        }
        all.moves.extend_from_slice(&r.toolpath.moves);
        warnings.extend(r.warnings.iter().map(|w| format!("{name}: {w}")));
    }
    // The tightest engagement limit among the adaptive operations, if any.
    let limit = job
        .operations
        .iter()
        .filter(|o| o.enabled)
        .filter_map(swarf_core::job::Operation::engagement_limit_deg)
        .reduce(f64::min);
    summary(
        a,
        &all,
        &out.program,
        &warnings,
        t0.elapsed().as_secs_f64(),
        &job.post,
        limit,
    )
}

/// Writes one operation's program with the command line's post settings.
fn post_one(
    a: &GenerateArgs,
    op_name: &str,
    name: &str,
    tool: &Tool,
    toolpath: &Toolpath,
) -> Result<(PostOptions, swarf_core::post::Program)> {
    let post = PostOptions {
        dialect: a.dialect.unwrap_or_default(),
        decimals: a.decimals.unwrap_or(PostOptions::default().decimals),
        title: format!("{op_name} of {name}"),
        ..PostOptions::default()
    };
    let program = write_program(
        &[Section {
            name: op_name,
            tool,
            toolpath,
        }],
        &post,
        &Tolerance::default(),
    )?;
    Ok((post, program))
}

/// Writes the output atomically (see [`swarf_core::fsio::write_atomic`]).
fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    swarf_core::fsio::write_atomic(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn summary(
    a: &GenerateArgs,
    tp: &Toolpath,
    program: &swarf_core::post::Program,
    warnings: &[String],
    elapsed: f64,
    post: &PostOptions,
    engagement_limit: Option<f64>,
) -> Result<()> {
    let st = tp.stats(post.rapid_mm_per_min);
    if a.json {
        let v = json!({
            "output": a.output.display().to_string(),
            "moves": st.moves,
            "arcs": st.arcs,
            "arcs_written": program.arcs_written,
            "arcs_as_lines": program.arcs_as_lines,
            "max_arc_radius_error_mm": program.max_arc_radius_error_mm,
            "feed_length_mm": st.feed_length_mm,
            "rapid_length_mm": st.rapid_length_mm,
            "estimated_seconds": st.estimated_seconds,
            "bounds_mm": [[st.bounds_min.x, st.bounds_min.y, st.bounds_min.z], [st.bounds_max.x, st.bounds_max.y, st.bounds_max.z]],
            "gcode_lines": program.line_source.len(),
            "gcode_bytes": program.text.len(),
            "warnings": warnings,
            "generate_seconds": elapsed,
        });
        let mut v = v;
        if let Some(deg) = engagement_limit {
            v["max_engagement_deg"] = json!(deg);
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            "wrote {} ({} lines)",
            a.output.display(),
            program.line_source.len()
        );
        outln!(
            "moves {}, arcs {} ({} written as G2/G3, {} as lines), feed {:.4} mm, rapid {:.4} mm, about {:.1} s",
            st.moves,
            st.arcs,
            program.arcs_written,
            program.arcs_as_lines,
            st.feed_length_mm,
            st.rapid_length_mm,
            st.estimated_seconds
        );
        if let Some(deg) = engagement_limit {
            outln!("engagement held at or below {deg:.1}°");
        }
        outln!("generated in {:.1} ms", elapsed * 1000.0);
        for w in warnings {
            outln!("warning: {w}");
        }
    }
    Ok(())
}
