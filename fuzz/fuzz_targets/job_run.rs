#![no_main]
//! Job files run: any text parses or fails, and a parsed job on the embedded part generates
//! its toolpaths and program or fails. Slower than `job` (each accepted job cuts a part).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(job) = swarf_core::job::Job::from_toml(&text) {
        if job.part.file.starts_with("embedded:") {
            let _ = job.run(std::path::Path::new("."));
        }
    }
});
