//! `swarf-cli render`: the app's 3D view, headless, to a PNG (and frame timing).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use glam::DVec3;
use swarf_core::job::Job;
use swarf_core::toolpath::{MoveClass, P3, Toolpath};
use swarf_render::{Camera, ColourBy, Headless, Scene, View, write_png};

use crate::inspect::{InspectArgs, load_any};

#[derive(Args)]
pub struct RenderArgs {
    /// DXF or STL file (default: the embedded example part with its example job).
    pub file: Option<PathBuf>,
    /// A job file whose operations are generated and drawn (on FILE when given, else on the
    /// job's own part).
    #[arg(long)]
    pub job: Option<PathBuf>,
    /// Output PNG.
    #[arg(short, long, default_value = "preview.png")]
    pub output: PathBuf,
    /// top, front, side or iso.
    #[arg(long, default_value = "iso")]
    pub view: View,
    /// Image size, e.g. 1280x800.
    #[arg(long, default_value = "1280x800")]
    pub size: String,
    /// Colour toolpaths by operation instead of by move type.
    #[arg(long)]
    pub by_operation: bool,
    /// Render this many frames after the first and print the time per frame.
    #[arg(long)]
    pub bench_frames: Option<u32>,
    /// Add a synthetic spiral of this many segments (to time big programs).
    #[arg(long)]
    pub synthetic_segments: Option<u32>,
    /// Read the part in this unit.
    #[arg(long)]
    pub units: Option<swarf_core::import::Units>,
    /// Simulate the program on a stock block and draw the cut stock (instead of its outline).
    #[arg(long)]
    pub simulate: bool,
    /// Level the job's toolpaths by this height map and draw the map (coloured by height).
    #[arg(long)]
    pub height_map: Option<std::path::PathBuf>,
}

fn parse_size(s: &str) -> Result<(u32, u32)> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .context("--size must look like 1280x800")?;
    let (w, h): (u32, u32) = (w.trim().parse()?, h.trim().parse()?);
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        bail!("--size {w}x{h}: each side must be 16 to 8192 pixels");
    }
    Ok((w, h))
}

/// A spiral of `n` line segments in a 10 mm square, for timing.
fn synthetic(n: u32) -> Toolpath {
    let mut tp = Toolpath::new(P3::new(5.0, 5.0, -0.1));
    let turns = (f64::from(n) / 360.0).max(1.0);
    for i in 1..=n {
        let t = f64::from(i) / f64::from(n);
        let a = t * turns * std::f64::consts::TAU;
        let r = 5.0 * t;
        tp.line(
            P3::new(5.0 + r * a.cos(), 5.0 + r * a.sin(), -0.1),
            MoveClass::Cut,
            100.0,
        );
    }
    tp
}

pub fn run(a: &RenderArgs) -> Result<()> {
    let size = parse_size(&a.size)?;
    let t0 = Instant::now();
    let mut scene = Scene::new(DVec3::ZERO);
    let colour_by = if a.by_operation {
        ColourBy::Operation
    } else {
        ColourBy::MoveType
    };
    let inspect = InspectArgs {
        file: a.file.clone(),
        units: a.units,
        layers: None,
        close_gap: swarf_core::import::DxfOptions::default().close_gap_mm,
        origin: swarf_core::import::Origin::Top,
        orient: swarf_core::geometry::mesh::Orientation::default(),
        json: false,
    };
    let mut depth: f64 = 0.0;
    let mut simulated = false;
    let mut stock_drawn = false;
    let job = match &a.job {
        Some(p) => Some(Job::load(p).with_context(|| format!("cannot load {}", p.display()))?),
        None if a.file.is_none() => Some(Job::from_toml(swarf_core::job::EXAMPLE_JOB_TOML)?),
        None => None,
    };
    let loaded = match (&job, &a.file) {
        (None, Some(_)) => Some(load_any(&inspect)?.1),
        _ => None,
    };
    if let Some(mut job) = job {
        let base = crate::generate::part_from_args(
            &mut job,
            a.job.as_deref(),
            a.file.as_deref(),
            a.units,
            None,
        );
        let (_, parts) = job.load_parts(&base)?;
        if let Some(p) = &a.height_map {
            job.height_map = Some(swarf_core::level::HeightMap::load(p)?);
        }
        let out = job.run_model(parts, &mut |_, _| true, &swarf_core::ops::Cancel::NEVER)?;
        depth = depth.min(scene.add_output(&out, colour_by));
        if let Some(stock) = &out.stock
            && !a.simulate
        {
            scene.add_stock(stock);
            stock_drawn = true;
        }
        if a.simulate
            && let Some(stock) = swarf_core::sim::simulate_output(&out, &job.simulation)
        {
            let mesh = swarf_core::sim::stock_mesh(&stock, 1.0e6);
            scene.add_mesh(&mesh, [205, 175, 120, 255]);
            simulated = true;
        }
    } else if let Some(m) = &loaded {
        scene.add_model(m);
    }
    if let Some(n) = a.synthetic_segments {
        scene.add_toolpath(&synthetic(n), colour_by);
        depth = depth.min(-0.1);
    }
    if !scene.has_bounds() {
        bail!("nothing to draw: the file has no loops, chains or triangles");
    }
    // Stock: the part's box down to the deepest cut (meshes: their own box).
    if a.simulate && !simulated {
        bail!("--simulate needs toolpaths: give a drawing with --job (or no file for the example)");
    }
    if scene.triangles.is_empty() && !stock_drawn {
        let (lo, hi) = scene.fit_bounds();
        scene.add_box(
            DVec3::new(lo.x, lo.y, depth.min(lo.z).min(-0.05)),
            DVec3::new(hi.x, hi.y, 0.0),
        );
    }
    let grid_z = scene.fit_bounds().0.z;
    let step = scene.add_grid(grid_z);
    let built = t0.elapsed();
    let mut h = Headless::new()?;
    let mut cam = Camera::default();
    cam.set_view(a.view);
    let (lo, hi) = scene.fit_bounds();
    cam.fit(lo, hi, f64::from(size.0) / f64::from(size.1));
    let t1 = Instant::now();
    h.upload(&scene);
    let px = h.render_rgba(&scene, &cam, size)?;
    let first = t1.elapsed();
    write_png(&a.output, size, &px)?;
    outln!(
        "{}: {} segments, {} triangles, grid {} mm; scene {:.0} ms, upload + first frame {:.0} ms on {}",
        a.output.display(),
        scene.segments(),
        scene.triangles.len() / 3,
        step,
        built.as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0,
        h.adapter
    );
    if let Some(n) = a.bench_frames {
        let n = n.max(1);
        let t = Instant::now();
        for i in 0..n {
            // Orbit a little each frame, as a user would.
            cam.orbit(0.01 * f64::from(i % 7), 0.0);
            h.frame(&scene, &cam, size)?;
        }
        let per = t.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
        outln!(
            "{n} frames of {}x{} with {} segments: {per:.1} ms per frame",
            size.0,
            size.1,
            scene.segments()
        );
    }
    Ok(())
}
