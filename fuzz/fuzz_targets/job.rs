#![no_main]
//! The job file parser: any text parses or fails with an error, and a job that parses saves
//! and reads back as the same job (what the app opens, it can save and open again).
use libfuzzer_sys::fuzz_target;
use swarf_core::job::Job;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(job) = Job::from_toml(&text) {
        let saved = job.to_toml();
        let again = Job::from_toml(&saved)
            .unwrap_or_else(|e| panic!("a parsed job saved as\n{saved}\ndoes not read back: {e}"));
        // Compared as text: a NaN (were one ever accepted) is not equal to itself.
        assert_eq!(again.to_toml(), saved, "a saved job reads back differently");
    }
});
