//! Drop-cutter benchmarks: cutter-location points per second on a relief (the same shape
//! `ocl_dropcutter.py` gives OpenCAMLib), with a 0.2 mm ball, and the 1 M triangle / 1 M point
//! target of issue 17 (`swarf-cli bench --drop-cutter` runs that one on any STL).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarf_core::cl::{CutterShape, DropCutter};
use swarf_core::samples::heightfield_mesh;
use swarf_core::tool::{Tool, ToolShape};

fn relief(n: usize) -> swarf_core::geometry::mesh::Mesh {
    heightfield_mesh([0.0, 0.0], [10.0, 10.0], n, n, -3.0, |x, y| {
        let dome = (9.0 - (x - 5.0).powi(2) - (y - 5.0).powi(2))
            .max(0.0)
            .sqrt()
            * 0.3;
        -1.5 + 0.4 * (x * 1.7).sin() * (y * 1.3).cos() + dome
    })
}

fn grid(n: usize) -> Vec<[f64; 2]> {
    (0..n * n)
        .map(|k| {
            let (i, j) = (k % n, k / n);
            [
                10.0 * i as f64 / (n - 1) as f64,
                10.0 * j as f64 / (n - 1) as f64,
            ]
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("drop-cutter");
    g.sample_size(10);
    let mut ball = Tool::micro_flat(0.2);
    ball.shape = ToolShape::Ball;
    let mut bull = ball.clone();
    bull.shape = ToolShape::Bull {
        corner_radius_mm: 0.05,
    };
    // 316² × 2 ≈ 200k top triangles.
    let mesh = relief(316);
    let pts = grid(300);
    for (name, tool) in [("ball 0.2", &ball), ("bull 0.2 r0.05", &bull)] {
        let dc = DropCutter::new(&mesh, CutterShape::of(tool, 0.0).unwrap());
        g.throughput(Throughput::Elements(pts.len() as u64));
        g.bench_function(format!("{name}, 200k triangles, 90k points"), |b| {
            b.iter(|| dc.drop_many(&pts, -10.0));
        });
    }
    // 707² × 2 ≈ 1 M top triangles, 1 M points.
    let big = relief(707);
    let dc = DropCutter::new(&big, CutterShape::of(&ball, 0.0).unwrap());
    let pts = grid(1000);
    g.throughput(Throughput::Elements(pts.len() as u64));
    g.bench_function("ball 0.2, 1M triangles, 1M points", |b| {
        b.iter(|| dc.drop_many(&pts, -10.0));
    });
    g.bench_function("index 1M triangles", |b| {
        b.iter(|| DropCutter::new(&big, CutterShape::of(&ball, 0.0).unwrap()));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
