//! Mesh benchmarks: load + weld + slice 100 levels of a 500k-triangle mesh (made here: a dense
//! sphere written as binary STL), and z-level roughing of a small part.

use criterion::{Criterion, criterion_group, criterion_main};
use swarf_core::geometry::Tolerance;
use swarf_core::import::{StlOptions, import_stl};
use swarf_core::samples::sphere_mesh;
use swarf_core::slice::{Slicer, slice_many};

fn bench(c: &mut Criterion) {
    let tol = Tolerance::default();
    // 1000 segments × 500 rings ≈ 1.0 M triangles is too many; 708 × 354 ≈ 500k.
    let mesh = sphere_mesh([0.0, 0.0, 0.0], 10.0, 708);
    let stl = mesh.to_binary_stl("benchmark sphere");
    eprintln!(
        "mesh: {} triangles, {} bytes",
        mesh.triangles.len(),
        stl.len()
    );
    let mut g = c.benchmark_group("mesh");
    g.sample_size(10);
    g.bench_function("load + weld + slice 100 levels, 500k triangles", |b| {
        b.iter(|| {
            let part = import_stl(&stl, &StlOptions::default()).unwrap();
            let s = Slicer::new(&part.mesh);
            let zs: Vec<f64> = (0..100)
                .map(|i| -0.1 - 19.8 * f64::from(i) / 99.0)
                .collect();
            slice_many(&s, &zs, &tol)
        });
    });
    let part = import_stl(&stl, &StlOptions::default()).unwrap();
    g.bench_function("slice 100 levels only, 500k triangles", |b| {
        let s = Slicer::new(&part.mesh);
        let zs: Vec<f64> = (0..100)
            .map(|i| -0.1 - 19.8 * f64::from(i) / 99.0)
            .collect();
        b.iter(|| slice_many(&s, &zs, &tol));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
