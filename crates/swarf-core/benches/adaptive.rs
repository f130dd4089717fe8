//! Adaptive clearing speed: the budget part (a 20 × 15 mm pocket with 1 mm corner radii and two
//! 3 mm round islands), cut with a 0.2 mm end mill at 10 % optimal load (36.9° engagement),
//! 0.1 mm deep. Target: under 1 s (`FreeCAD`'s
//! Adaptive takes 57 s on this kind of job).

use criterion::{Criterion, criterion_group, criterion_main};
use swarf_core::geometry::Tolerance;
use swarf_core::ops::Heights;
use swarf_core::ops::adaptive::{AdaptiveParams, adaptive};
use swarf_core::samples::pocket_20x15_two_islands;
use swarf_core::tool::Tool;

fn bench(c: &mut Criterion) {
    let region = pocket_20x15_two_islands();
    let tool = Tool::micro_flat(0.2);
    let p = AdaptiveParams {
        optimal_load: Some(0.1),
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 0.1,
                ..Heights::default()
            },
            ..AdaptiveParams::default().cut
        },
        ..AdaptiveParams::default()
    };
    let tol = Tolerance::default();
    let res = adaptive(
        std::slice::from_ref(&region),
        &tool,
        &p,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    let st = res.toolpath.stats(5000.0);
    eprintln!(
        "adaptive bench part: {} moves, feed {:.0} mm, {} arcs",
        res.toolpath.moves.len(),
        st.feed_length_mm,
        st.arcs
    );
    let mut group = c.benchmark_group("adaptive");
    group.sample_size(10);
    group.bench_function("20x15 mm, two 3 mm islands, 0.2 mm tool, 10 % load", |b| {
        b.iter(|| {
            adaptive(
                std::slice::from_ref(&region),
                &tool,
                &p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
            .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
