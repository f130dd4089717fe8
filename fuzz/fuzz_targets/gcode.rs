#![no_main]
//! G-code reader: any text reads or fails with a line-numbered error.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = swarf_core::verify::read_gcode(
        &text,
        swarf_core::toolpath::P3::default(),
        &swarf_core::geometry::Tolerance::default(),
    );
});
