#![no_main]
//! Excellon import: any bytes import or fail with an error; the holes of a file that imports
//! are found, grouped and ordered.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tol = swarf_core::geometry::Tolerance::default();
    if let Ok(d) = swarf_core::import::import_excellon(data, None, None, &tol) {
        let groups = swarf_core::holes::find_holes(&d, &tol);
        let pts: Vec<_> = groups.iter().flat_map(|g| g.centres.iter().copied()).collect();
        let order = swarf_core::holes::order(&pts, swarf_core::geometry::V2::new(0.0, 0.0));
        assert_eq!(order.len(), pts.len());
    }
});
