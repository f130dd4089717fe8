//! Toolpath and G-code benchmarks: the DESIGN budget part (20 × 15 mm, two 3 mm islands,
//! 0.2 mm tool, 10 % step-over) pocketed and contoured, and G-code writing throughput.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarf_core::geometry::Tolerance;
use swarf_core::ops::contour::{ContourParams, contour};
use swarf_core::ops::pocket::{Pattern, PocketParams, pocket};
use swarf_core::ops::{Heights, Stepover};
use swarf_core::post::{PostOptions, Section, write_program};
use swarf_core::samples::pocket_20x15_two_islands;
use swarf_core::tool::Tool;

fn bench(c: &mut Criterion) {
    let region = pocket_20x15_two_islands();
    let tool = Tool::micro_flat(0.2);
    let tol = Tolerance::default();
    let p = PocketParams {
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
    c.bench_function("pocket offset 20x15 two islands, 0.2 mm tool, 10 %", |b| {
        b.iter(|| {
            pocket(
                std::slice::from_ref(&region),
                &tool,
                &p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
            .unwrap()
        });
    });
    let z = PocketParams {
        pattern: Pattern::Zigzag,
        ..p
    };
    c.bench_function("pocket zigzag 20x15 two islands, 0.2 mm tool, 10 %", |b| {
        b.iter(|| {
            pocket(
                std::slice::from_ref(&region),
                &tool,
                &z,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
            .unwrap()
        });
    });
    let cp = ContourParams {
        tabs: 4,
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.5,
                ..Heights::default()
            },
            stepdown_mm: Some(0.05),
            ..ContourParams::default().cut
        },
        ..ContourParams::default()
    };
    c.bench_function("contour outside 20x15, 10 levels, 4 tabs", |b| {
        b.iter(|| {
            contour(
                std::slice::from_ref(&region.outer),
                &[],
                &tool,
                &cp,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
            .unwrap()
        });
    });
    let tp = pocket(
        std::slice::from_ref(&region),
        &tool,
        &p,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    let bytes = write_program(
        &[Section {
            name: "pocket",
            tool: &tool,
            toolpath: &tp,
            coolant: None,
            place: None,
        }],
        &PostOptions::default(),
        &tol,
    )
    .unwrap()
    .text
    .len();
    let mut g = c.benchmark_group("gcode");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("write pocket program", |b| {
        b.iter(|| {
            write_program(
                &[Section {
                    name: "pocket",
                    tool: &tool,
                    toolpath: &tp,
                    coolant: None,
                    place: None,
                }],
                &PostOptions::default(),
                &tol,
            )
            .unwrap()
        });
    });
    g.finish();
    generate(c);
}

/// What `swarf-cli generate` does on the budget part, in process: the job run (import, pocket,
/// post) and the export check (read back, gouges, rapids), together and the check alone. Issue
/// 23 asks the whole under 10 ms and the check cheaper than the generation.
fn generate(c: &mut Criterion) {
    use swarf_core::job::{Job, Operation, Part};
    use swarf_core::ops::{CutParams, OpSpec, Target};
    let dxf = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/bench_20x15.dxf");
    let tool = Tool::micro_flat(0.2);
    let job = Job {
        version: swarf_core::job::JOB_VERSION,
        title: "budget part".into(),
        part: Part::new(dxf),
        tolerance: Tolerance::default(),
        post: PostOptions::default(),
        simulation: swarf_core::sim::SimOptions::default(),
        tools: vec![tool.clone()],
        operations: vec![Operation {
            name: "pocket".into(),
            tool: tool.number,
            enabled: true,
            coolant: None,
            part: None,
            target: Target::Regions,
            spec: OpSpec::Pocket(PocketParams {
                stepover: Stepover::Fraction(0.1),
                cut: CutParams {
                    heights: Heights {
                        final_depth_mm: 0.1,
                        ..Heights::default()
                    },
                    ..PocketParams::default().cut
                },
                ..PocketParams::default()
            }),
        }],
        stock: None,
        array: None,
        start_at: None,
        height_map: None,
        probe: None,
    };
    let run = || {
        let (_, model) = job.load_model(std::path::Path::new("")).unwrap();
        job.run_model(model, &mut |_, _| true, &swarf_core::ops::Cancel::NEVER)
            .unwrap()
    };
    let out = run();
    let mut g = c.benchmark_group("generate");
    g.bench_function("budget part: import, pocket, post", |b| b.iter(run));
    g.bench_function("budget part: export check", |b| {
        b.iter(|| swarf_core::verify::export_check(&out, &out.program).unwrap());
    });
    g.bench_function("budget part: import, pocket, post, export check", |b| {
        b.iter(|| {
            let out = run();
            swarf_core::verify::export_check(&out, &out.program).unwrap()
        });
    });
    g.finish();

    // Ordering holes (#19: 5 000 well under a second): random holes on a 100 × 60 mm panel,
    // and the same number on a grid (many ties).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let random: Vec<swarf_core::geometry::V2> = (0..5000)
        .map(|_| swarf_core::geometry::V2::new(rnd() * 100.0, rnd() * 60.0))
        .collect();
    let grid: Vec<swarf_core::geometry::V2> = (0..5000)
        .map(|i| swarf_core::geometry::V2::new(f64::from(i % 100), f64::from(i / 100)))
        .collect();
    let start = swarf_core::geometry::V2::new(0.0, 0.0);
    let mut g = c.benchmark_group("holes");
    g.sample_size(10);
    g.bench_function("order 5000 random holes", |b| {
        b.iter(|| swarf_core::holes::order(&random, start));
    });
    g.bench_function("order 5000 holes on a grid", |b| {
        b.iter(|| swarf_core::holes::order(&grid, start));
    });
    g.finish();
    let o = swarf_core::holes::order(&random, start);
    let input: Vec<usize> = (0..random.len()).collect();
    eprintln!(
        "5000 random holes: travel {:.1} mm ordered, {:.1} mm in the input order",
        swarf_core::holes::travel(start, &random, &o),
        swarf_core::holes::travel(start, &random, &input)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
