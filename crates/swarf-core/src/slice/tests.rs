use super::*;
use crate::samples::{box_mesh, cylinder_mesh, merge_meshes, sphere_mesh};

fn area(s: &SliceLoops, tol: &Tolerance) -> f64 {
    s.regions(tol).iter().map(Region::area).sum()
}

#[test]
fn box_cylinder_sphere_sections_match_the_exact_areas() {
    let tol = Tolerance::default();
    let b = box_mesh([0.0, 0.0, -2.0], [3.0, 2.0, 0.0]);
    let s = Slicer::new(&b);
    for z in [-1.999, -1.0, -0.001] {
        let sl = slice_loops(&s, z, &tol);
        assert_eq!(sl.loops.len(), 1);
        assert!((area(&sl, &tol) - 6.0).abs() < 1e-9);
        assert_eq!(sl.loops[0].vertex_count(), 4, "the box stays a rectangle");
    }
    // Slicing at the bottom face's height gives the section just above it.
    assert_eq!(slice_loops(&s, -2.0, &tol).loops.len(), 1);
    assert!(slice_loops(&s, 0.0, &tol).loops.is_empty());

    // A 256-sided cylinder: the section is the inscribed polygon; fitted with arcs.
    let n = 256;
    let c = cylinder_mesh(1.0, 2.0, 1.5, -3.0, 0.0, n);
    let s = Slicer::new(&c);
    let sl = slice_loops(&s, -1.2, &tol);
    let polygon = 0.5 * n as f64 * 1.5f64.powi(2) * (std::f64::consts::TAU / n as f64).sin();
    assert!(
        (area(&sl, &tol) - polygon).abs() < 1e-3 * polygon,
        "{}",
        area(&sl, &tol)
    );
    assert!(
        sl.segments_out < 10,
        "{} segments for a circle",
        sl.segments_out
    );
    assert!(sl.loops[0].iter_vertexes().all(|v| v.bulge != 0.0));

    // A sphere of radius 2: section radius sqrt(r² − z²) (polygonal, within facet error).
    let sp = sphere_mesh([0.0, 0.0, -2.0], 2.0, 128);
    let s = Slicer::new(&sp);
    for z in [-3.5, -2.0, -0.7] {
        let rr = 4.0 - (z + 2.0f64).powi(2);
        let exact = std::f64::consts::PI * rr;
        let a = area(&slice_loops(&s, z, &tol), &tol);
        assert!((a - exact).abs() < 0.01 * exact, "z {z}: {a} vs {exact}");
    }
}

#[test]
fn holes_nest_and_flat_levels_are_found() {
    let tol = Tolerance::default();
    // A plate with a boss on top: flat levels at the top of the boss and the plate.
    let m = merge_meshes(&[
        box_mesh([0.0, 0.0, -2.0], [10.0, 10.0, -1.0]),
        cylinder_mesh(5.0, 5.0, 1.0, -1.0, 0.0, 64),
    ]);
    let f = flat_levels(&m, &tol);
    assert_eq!(f, vec![0.0, -1.0, -2.0]);
    let s = Slicer::new(&m);
    assert_eq!(slice_loops(&s, -0.5, &tol).regions(&tol).len(), 1);
    // Two separate bodies side by side.
    let two = merge_meshes(&[
        box_mesh([0.0, 0.0, -1.0], [1.0, 1.0, 0.0]),
        box_mesh([2.0, 0.0, -1.0], [3.0, 1.0, 0.0]),
    ]);
    assert_eq!(
        slice_loops(&Slicer::new(&two), -0.5, &tol)
            .regions(&tol)
            .len(),
        2
    );
    // Parallel slicing is deterministic and ordered.
    let zs: Vec<f64> = (0..20).map(|i| -0.05 - 0.09 * f64::from(i)).collect();
    let a = slice_many(&s, &zs, &tol);
    let b = slice_many(&s, &zs, &tol);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.z, y.z);
        assert_eq!(x.loops.len(), y.loops.len());
        assert_eq!(x.segments_out, y.segments_out);
    }
}

/// A crater and a ridge sampled every 0.5 mm: the sections have concave runs whose facets an
/// arc through the vertices would cut into. No point of the exact section (the polygon, edge
/// midpoints included) may lie outside the fitted material by more than the tolerance.
#[test]
fn fitted_sections_never_leave_out_material_of_the_facets() {
    let tol = Tolerance::default();
    let m = crate::samples::heightfield_mesh([0.0, 0.0], [12.0, 10.0], 24, 20, -4.0, |x, y| {
        let d = ((x - 5.0).powi(2) + (y - 5.0).powi(2)).sqrt();
        -3.0 + 2.5 * (1.0 - (-(d - 3.0).powi(2)).exp()) + 0.6 * (x * 0.9).sin()
    });
    let s = Slicer::new(&m);
    for z in [-2.9, -2.0, -1.3, -0.7] {
        let sec = s.section(z);
        let regions = slice_loops(&s, z, &tol).regions(&tol);
        for l in &sec.loops {
            for w in l.windows(2) {
                for f in [0.0, 0.25, 0.5, 0.75] {
                    let q = w[0] + (w[1] - w[0]) * f;
                    if regions.iter().any(|r| r.contains(q)) {
                        continue;
                    }
                    let d = regions
                        .iter()
                        .flat_map(|r| std::iter::once(&r.outer).chain(r.islands.iter()))
                        .flat_map(|l| l.iter_segments())
                        .map(|(a, b)| crate::geometry::biarc::seg_distance(a, b, q))
                        .fold(f64::INFINITY, f64::min);
                    assert!(
                        d <= tol.path_mm * 1.01,
                        "at Z {z}: the section's point {q:?} is {d} mm outside the fitted material"
                    );
                }
            }
        }
    }
}
