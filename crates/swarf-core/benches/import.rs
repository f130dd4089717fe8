//! Import benchmarks: the embedded example, a generated drawing of many splines, and the
//! largest corpus drawing (7,464 splines) when the corpus is present.

use std::fmt::Write as _;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use swarf_core::import::{DxfOptions, import_dxf};

/// A drawing of `n` closed cubic splines (wavy rings) and `n` loose-line squares.
fn generated(n: usize) -> String {
    let mut s = String::from("0\nSECTION\n2\nENTITIES\n");
    for i in 0..n {
        let (cx, cy) = ((i % 40) as f64 * 3.0, (i / 40) as f64 * 3.0);
        let m: u32 = 12;
        let knots = m + 3 + 3 + 1;
        write!(s, "0\nSPLINE\n70\n11\n71\n3\n72\n{knots}\n73\n{}\n", m + 3).unwrap();
        for k in 0..knots {
            write!(s, "40\n{k}\n").unwrap();
        }
        for k in 0..m + 3 {
            let a = std::f64::consts::TAU * f64::from(k % m) / f64::from(m);
            let r = 1.0 + 0.15 * (f64::from(k % m) * 2.0).sin();
            write!(s, "10\n{}\n20\n{}\n", cx + r * a.cos(), cy + r * a.sin()).unwrap();
        }
        let (x, y) = (cx + 1.3, cy + 1.3);
        for (a, b) in [
            ((x, y), (x + 0.2, y)),
            ((x + 0.2, y), (x + 0.2, y + 0.2)),
            ((x + 0.2, y + 0.2), (x, y + 0.2)),
            ((x, y + 0.2), (x, y)),
        ] {
            write!(
                s,
                "0\nLINE\n10\n{}\n20\n{}\n11\n{}\n21\n{}\n",
                a.0, a.1, b.0, b.1
            )
            .unwrap();
        }
    }
    s.push_str("0\nENDSEC\n0\nEOF\n");
    s
}

fn bench(c: &mut Criterion) {
    let opts = DxfOptions::default();
    c.bench_function("import example_plate.dxf", |b| {
        b.iter(|| import_dxf(swarf_core::EXAMPLE_DXF.as_bytes(), &opts).unwrap());
    });
    let g = generated(1000);
    c.bench_function("import 1000 splines + 4000 lines", |b| {
        b.iter(|| import_dxf(g.as_bytes(), &opts).unwrap());
    });
    let temple = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/files/d2g_temple_noir_aplats_negatif.dxf");
    if let Ok(bytes) = std::fs::read(&temple) {
        let mut group = c.benchmark_group("corpus");
        group.sample_size(10);
        group.bench_function("import temple (7464 splines)", |b| {
            b.iter(|| import_dxf(&bytes, &opts).unwrap());
        });
        group.finish();
    } else {
        eprintln!("corpus not found; skipping the temple benchmark");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
