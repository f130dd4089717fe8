//! Adaptive clearing speed: a 20 × 15 mm pocket with two 3 mm round islands, cut with a 0.2 mm
//! end mill at 10 % optimal load (36.9° engagement), 0.1 mm deep. Target: under 1 s (`FreeCAD`'s
//! Adaptive takes 57 s on this kind of job).

use cavalier_contours::polyline::PlineSourceMut;
use criterion::{Criterion, criterion_group, criterion_main};
use swarf_core::geometry::{Pline, Region, Tolerance};
use swarf_core::ops::Heights;
use swarf_core::ops::adaptive::{AdaptiveParams, adaptive};
use swarf_core::tool::Tool;

fn part() -> Region {
    let mut outer = Pline::new_closed();
    for (x, y) in [(0.0, 0.0), (20.0, 0.0), (20.0, 15.0), (0.0, 15.0)] {
        outer.add(x, y, 0.0);
    }
    let island = |cx: f64, cy: f64| {
        let mut p = Pline::new_closed();
        p.add(cx - 1.5, cy, -1.0);
        p.add(cx + 1.5, cy, -1.0);
        p
    };
    Region {
        outer,
        islands: vec![island(6.0, 7.5), island(14.0, 7.5)],
    }
}

fn bench(c: &mut Criterion) {
    let region = part();
    let tool = Tool::micro_flat(0.2);
    let p = AdaptiveParams {
        heights: Heights {
            final_depth_mm: 0.1,
            ..Heights::default()
        },
        optimal_load: Some(0.1),
        ..AdaptiveParams::default()
    };
    let tol = Tolerance::default();
    let res = adaptive(std::slice::from_ref(&region), &tool, &p, &tol).unwrap();
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
        b.iter(|| adaptive(std::slice::from_ref(&region), &tool, &p, &tol).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
