//! What the CLI's tests share: the binary, a scratch folder, the assets and the corpus.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_swarf-cli"))
}

/// A file in this test process's scratch folder (`tag` keeps test files apart).
pub fn tmp_in(tag: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("swarf-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

pub fn assets(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(name)
        .display()
        .to_string()
}

/// A corpus file, or `None` (said loudly) where the corpus is not beside the checkout.
pub fn corpus(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/files")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("\n*** SKIPPED: corpus file {} not found ***\n", p.display());
        None
    }
}
