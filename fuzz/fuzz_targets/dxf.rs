#![no_main]
//! DXF import: any bytes import or fail with an error.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = swarf_core::import::import_dxf(data, &swarf_core::import::DxfOptions::default());
});
