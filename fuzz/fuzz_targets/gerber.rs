#![no_main]
//! Gerber import: any bytes import or fail with an error naming the problem; a layer that
//! imports has regions of finite, non-negative area.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tol = swarf_core::geometry::Tolerance::default();
    if let Ok(d) = swarf_core::import::import_gerber(data, None, None, &tol) {
        for r in &d.regions {
            let a = r.area();
            assert!(a.is_finite() && a >= -1e-9, "region area {a}");
        }
    }
});
