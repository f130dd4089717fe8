//! `swarf-cli bench`: times import, pocket, contour and G-code writing on the budget part and
//! on the corpus drawings, and prints a table. Timings, not tests: a loaded machine is slower.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use swarf_core::geometry::Tolerance;
use swarf_core::import::{DxfOptions, import_dxf};
use swarf_core::job::{Target, target_regions};
use swarf_core::ops::contour::{ContourParams, contour};
use swarf_core::ops::pocket::{PocketParams, pocket};
use swarf_core::ops::{Heights, Stepover};
use swarf_core::post::{PostOptions, Section, write_program};
use swarf_core::samples::pocket_20x15_two_islands;
use swarf_core::tool::Tool;

#[derive(Args)]
pub struct BenchArgs {
    /// Folder of DXF drawings to run on (default: ../shared/corpus/files if present).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Repetitions per measurement (the best is reported).
    #[arg(long, default_value_t = 5)]
    pub repeat: u32,
    /// Time only the drop-cutter on this STL (file coordinates): an N × N grid of points over
    /// the mesh's plan box (`--drop-grid`), the tool from `--drop-tool`/`--drop-diameter`,
    /// `--threads` threads. What `crates/swarf-core/benches/ocl_dropcutter.py` compares with
    /// OpenCAMLib.
    #[arg(long, value_name = "FILE.stl")]
    pub drop_cutter: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    pub drop_grid: usize,
    /// ball, flat, bull (corner a quarter of the diameter) or v (90°).
    #[arg(long, default_value = "ball")]
    pub drop_tool: String,
    #[arg(long, default_value_t = 0.2)]
    pub drop_diameter: f64,
    /// Threads for the drop-cutter (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write the drop-cutter's heights (file coordinates, row by row, one per line, 9
    /// decimals) here, to compare with the peer's.
    #[arg(long, value_name = "FILE")]
    pub drop_out: Option<PathBuf>,
}

fn best<T>(repeat: u32, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.expect("ran at least once"))
}

pub fn run(a: &BenchArgs) -> Result<()> {
    if let Some(stl) = &a.drop_cutter {
        return bench_drop_cutter(a, stl);
    }
    let tol = Tolerance::default();
    let tool = Tool::micro_flat(0.2);
    let pocket_p = PocketParams {
        stepover: Stepover::Fraction(0.1),
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.1,
                ..Heights::default()
            },
            ..PocketParams::default().cut
        },
        ..PocketParams::default()
    };
    let contour_p = ContourParams {
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.2,
                ..Heights::default()
            },
            stepdown_mm: Some(0.05),
            ..ContourParams::default().cut
        },
        ..ContourParams::default()
    };
    outln!("{:<58} {:>10} {:>8} {:>8}", "case", "ms", "moves", "arcs");
    let region = pocket_20x15_two_islands();
    let (t, r) = best(a.repeat, || {
        pocket(
            std::slice::from_ref(&region),
            &tool,
            &pocket_p,
            &tol,
            &swarf_core::ops::Cancel::NEVER,
        )
    });
    let tp = r?.toolpath;
    outln!(
        "{:<58} {:>10.3} {:>8} {:>8}",
        "pocket 20x15 mm, two 3 mm islands, 0.2 mm tool, 10 %",
        t * 1e3,
        tp.moves.len(),
        tp.stats(3000.0).arcs
    );
    let sec = [Section {
        name: "pocket",
        tool: &tool,
        toolpath: &tp,
        coolant: None,
        place: None,
    }];
    let (t, prog) = best(a.repeat, || {
        write_program(&sec, &PostOptions::default(), &tol)
    });
    let prog = prog?;
    outln!(
        "{:<58} {:>10.3} {:>8} {:>8}   {:.0} MB/s",
        "G-code writing of that pocket",
        t * 1e3,
        prog.line_source.len(),
        prog.arcs_written,
        prog.text.len() as f64 / t / 1e6
    );
    let dir = a
        .corpus
        .clone()
        .unwrap_or_else(|| PathBuf::from("../shared/corpus/files"));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        outln!("(no corpus at {}; pass --corpus DIR)", dir.display());
        return Ok(());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("dxf")))
        .collect();
    files.sort();
    for f in files {
        let bytes = std::fs::read(&f)?;
        let name = f
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let (ti, d) = best(a.repeat, || import_dxf(&bytes, &DxfOptions::default()));
        let Ok(d) = d else {
            outln!("{name:<58} import failed");
            continue;
        };
        // Tool and depth scaled to the drawing, like a user would choose.
        let size = d.bbox.extent().max(1e-3);
        let mut t = Tool::micro_flat((size / 100.0).clamp(0.01, 6.0));
        t.feeds.feed_per_tooth_mm = t.feeds.feed_per_tooth_mm.min(t.diameter_mm * 0.1);
        // The depths scaled with it (a 0.01 mm tool's flutes are 0.03 mm long).
        let depth = |d: f64| Heights {
            final_depth_mm: d.min(t.diameter_mm),
            ..Heights::default()
        };
        let pocket_p = PocketParams {
            cut: swarf_core::ops::CutParams {
                heights: depth(pocket_p.cut.heights.final_depth_mm),
                ..pocket_p.cut
            },
            ..pocket_p
        };
        let contour_p = ContourParams {
            cut: swarf_core::ops::CutParams {
                heights: depth(contour_p.cut.heights.final_depth_mm),
                stepdown_mm: contour_p
                    .cut
                    .stepdown_mm
                    .map(|s| s.min(t.diameter_mm / 4.0)),
                ..contour_p.cut
            },
            ..contour_p
        };
        let regions = target_regions(&d, Target::Regions);
        let (tp_s, pr) = best(a.repeat, || {
            pocket(
                &regions,
                &t,
                &PocketParams {
                    stepover: Stepover::Fraction(0.4),
                    ..pocket_p
                },
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
        let outlines: Vec<_> = regions.iter().map(|r| r.outer.clone()).collect();
        let (tc_s, cr) = best(a.repeat, || {
            contour(
                &outlines,
                &[],
                &t,
                &contour_p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
        // A refused operation is shown with its reason, never as zero moves.
        let counts = |r: &Result<swarf_core::ops::OpResult, swarf_core::ops::OpError>| match r {
            Ok(r) => (r.toolpath.moves.len(), r.toolpath.stats(3000.0).arcs, None),
            Err(e) => (0, 0, Some(e.to_string())),
        };
        let (pm, pa, pe) = counts(&pr);
        let (cm, ca, ce) = counts(&cr);
        outln!("{:<58} {:>10.3}", format!("{name}: import"), ti * 1e3);
        outln!(
            "{:<58} {:>10.3} {:>8} {:>8}",
            format!("  pocket, {} mm tool, 40 %", t.diameter_mm),
            tp_s * 1e3,
            pm,
            pa
        );
        outln!(
            "{:<58} {:>10.3} {:>8} {:>8}",
            "  contour outside, 4 levels",
            tc_s * 1e3,
            cm,
            ca
        );
        for e in [pe, ce].into_iter().flatten() {
            outln!("    refused: {e}");
        }
    }
    bench_boards(a, &dir)
}

/// The corpus's Gerber copper layers: reading (the image painted) and a two-pass isolation
/// with a 30° V bit at 0.05 mm.
fn bench_boards(a: &BenchArgs, dir: &std::path::Path) -> Result<()> {
    let tol = swarf_core::geometry::Tolerance::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| {
                ["gbr", "cmp", "gtl", "gbl"]
                    .iter()
                    .any(|x| e.eq_ignore_ascii_case(x))
            })
        })
        .collect();
    files.sort();
    let mut v = Tool::micro_flat(3.175);
    v.shape = swarf_core::tool::ToolShape::V {
        angle_deg: 30.0,
        tip_diameter_mm: 0.05,
    };
    v.flute_length_mm = 5.0;
    v.stickout_mm = 12.0;
    for f in files {
        let bytes = std::fs::read(&f)?;
        let name = f
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let (ti, g) = best(a.repeat, || {
            swarf_core::import::read_gerber(&bytes, Some(&name), None, &tol)
        });
        let Ok(g) = g else {
            outln!("{name:<58} import failed");
            continue;
        };
        outln!(
            "{:<58} {:>10.3}",
            format!("{name}: read ({} shapes)", g.shapes.len()),
            ti * 1e3
        );
        if g.kind != swarf_core::import::LayerKind::Copper {
            continue;
        }
        let p = swarf_core::ops::isolate::IsolateParams::default();
        let (tt, r) = best(a.repeat, || {
            swarf_core::ops::isolate::isolate(
                &g.regions,
                &v,
                &p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
        match r {
            Ok(r) => outln!(
                "{:<58} {:>10.3} {:>8} {:>8}",
                "  isolate, 2 passes, 30° V at 0.05 mm",
                tt * 1e3,
                r.toolpath.moves.len(),
                r.toolpath.stats(3000.0).arcs
            ),
            Err(e) => outln!("    refused: {e}"),
        }
    }
    Ok(())
}

/// The drop-cutter alone: points per second on a grid over an STL.
fn bench_drop_cutter(a: &BenchArgs, stl: &std::path::Path) -> Result<()> {
    use anyhow::{Context, bail};
    use swarf_core::cl::{CutterShape, DropCutter};
    use swarf_core::import::{Origin, StlOptions, import_stl_file};
    use swarf_core::tool::ToolShape;
    let part = import_stl_file(
        stl,
        &StlOptions {
            origin: Origin::Top,
            ..StlOptions::default()
        },
    )
    .with_context(|| format!("reading {}", stl.display()))?;
    let d = a.drop_diameter;
    let mut tool = Tool::micro_flat(d);
    tool.shape = match a.drop_tool.as_str() {
        "ball" => ToolShape::Ball,
        "flat" => ToolShape::Flat,
        "bull" => ToolShape::Bull {
            corner_radius_mm: d * 0.25,
        },
        "v" => ToolShape::V {
            angle_deg: 90.0,
            tip_diameter_mm: 0.0,
        },
        other => bail!("--drop-tool {other}: use ball, flat, bull or v"),
    };
    let shape = CutterShape::of(&tool, 0.0).map_err(anyhow::Error::msg)?;
    let (t_index, dc) = best(1, || DropCutter::new(&part.mesh, shape));
    let (lo, hi) = dc.bounds();
    let n = a.drop_grid.max(2);
    let mut pts = Vec::with_capacity(n * n);
    for j in 0..n {
        for i in 0..n {
            let fx = i as f64 / (n - 1) as f64;
            let fy = j as f64 / (n - 1) as f64;
            pts.push([lo[0] + fx * (hi[0] - lo[0]), lo[1] + fy * (hi[1] - lo[1])]);
        }
    }
    let floor = lo[2] - 10.0;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()?;
    let (t, zs) = best(a.repeat, || pool.install(|| dc.drop_many(&pts, floor)));
    outln!(
        "drop-cutter {}: {} triangles, {} {} mm, {} points, {} threads: index {:.3} s, drops {:.3} s, {:.0} points/s",
        stl.display(),
        dc.triangles(),
        a.drop_tool,
        d,
        pts.len(),
        pool.current_num_threads(),
        t_index,
        t,
        pts.len() as f64 / t
    );
    if let Some(out) = &a.drop_out {
        use std::fmt::Write as _;
        let mut text = String::with_capacity(zs.len() * 14);
        for z in &zs {
            let _ = writeln!(text, "{:.9}", z - part.offset_mm[2]);
        }
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
