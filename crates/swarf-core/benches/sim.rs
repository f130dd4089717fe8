//! Simulation benchmark: 1 M moves on a 2000 × 2000 heightmap (DESIGN budget: a few seconds on
//! 2 cores), and verification of the budget pocket against its drawing.

use criterion::{Criterion, criterion_group, criterion_main};
use swarf_core::geometry::{Tolerance, V2};
use swarf_core::ops::pocket::{PocketParams, pocket};
use swarf_core::ops::{Heights, Stepover};
use swarf_core::samples::pocket_20x15_two_islands;
use swarf_core::sim::{Heightmap, SimOptions, Simulation};
use swarf_core::tool::Tool;
use swarf_core::toolpath::{MoveClass, P3, Toolpath};
use swarf_core::verify::{PartRef, check_gouges};

fn million_moves() -> Toolpath {
    // Zigzag rows 0.1 mm apart over 20 x 20 mm, in 0.04 mm steps: 1 M short feed moves.
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
    tp.rapid(P3::new(0.0, 0.0, -0.05));
    let mut n = 0;
    let mut row = 0;
    while n < 1_000_000 {
        let y = f64::from(row % 200) * 0.1;
        for k in 0..500 {
            let x = if row % 2 == 0 {
                f64::from(k + 1) * 0.04
            } else {
                20.0 - f64::from(k + 1) * 0.04
            };
            tp.line(P3::new(x, y, -0.05), MoveClass::Cut, 600.0);
            n += 1;
        }
        row += 1;
        tp.line(
            P3::new(tp.end().x, f64::from(row % 200) * 0.1, -0.05),
            MoveClass::Cut,
            600.0,
        );
    }
    tp
}

fn bench(c: &mut Criterion) {
    let tol = Tolerance::default();
    let tool = Tool::micro_flat(0.2);
    let tp = million_moves();
    eprintln!("{} moves", tp.moves.len());
    let mut g = c.benchmark_group("sim");
    g.sample_size(10);
    g.bench_function("simulate 1 M moves on 2000 x 2000", |b| {
        b.iter(|| {
            let stock = Heightmap::new(V2::new(0.0, 0.0), V2::new(20.0, 20.0), -1.0, 0.0, 0.01);
            let mut sim = Simulation::new(stock, &tp, &tool, SimOptions::default(), tol);
            sim.run_to(tp.moves.len());
            sim.result.removed_volume_mm3
        });
    });
    let region = pocket_20x15_two_islands();
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
    let pocket_tp = pocket(
        std::slice::from_ref(&region),
        &tool,
        &p,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap()
    .toolpath;
    let loops = vec![
        region.outer.clone(),
        region.islands[0].clone(),
        region.islands[1].clone(),
    ];
    g.bench_function("gouge check of the budget pocket (export check)", |b| {
        b.iter(|| check_gouges(&pocket_tp, None, PartRef::Drawing(&loops), &tool, &tol));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
