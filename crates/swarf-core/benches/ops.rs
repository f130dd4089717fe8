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
                }],
                &PostOptions::default(),
                &tol,
            )
            .unwrap()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
