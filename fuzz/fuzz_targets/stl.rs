#![no_main]
//! STL import and slicing: any bytes import or fail with an error; a mesh slices.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = swarf_core::import::import_stl(data, &swarf_core::import::StlOptions::default()) {
        if let Some((lo, hi)) = p.mesh.bounds() {
            let s = swarf_core::slice::Slicer::new(&p.mesh);
            let _ = swarf_core::slice::slice_loops(
                &s,
                0.5 * (lo[2] + hi[2]),
                &swarf_core::geometry::Tolerance::default(),
            );
        }
    }
});
