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

/// LinuxCNC's `rs274` reading `gcode` (GRBL dialect): its error count and tool-tip points
/// (x, y, z, rapid), or `None` (said loudly) where rs274 or its script is missing.
pub fn rs274_points(gcode: &str, scratch: &str, tag: &str) -> Option<(u64, Vec<[String; 4]>)> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/rs274_path.py");
    if !script.exists() || !std::path::Path::new("/usr/bin/rs274").exists() {
        eprintln!(
            "\n*** SKIPPED: rs274 or shared/tools/rs274_path.py not found (CI installs linuxcnc-uspace) ***\n"
        );
        return None;
    }
    let file = tmp_in(scratch, &format!("{tag}.nc"));
    let csv = tmp_in(scratch, &format!("{tag}.csv"));
    std::fs::write(&file, gcode).unwrap();
    // Debian's python3 has numpy (python3-numpy, installed by .ci/run).
    // rs274 keeps its tool table in `$HOME/.tool.mmap`, truncated and deleted by each run:
    // every run gets its own HOME so that parallel runs (and a LinuxCNC) do not crash each
    // other with SIGBUS.
    let home = tmp_in(scratch, &format!("{tag}-home"));
    std::fs::create_dir_all(&home).unwrap();
    let out = std::process::Command::new("/usr/bin/python3")
        .env("HOME", &home)
        .arg(&script)
        .arg(&file)
        .args(["--json", "--dialect", "grbl", "--csv"])
        .arg(&csv)
        .arg("--ini")
        .arg(script.with_file_name("rs274_strict.ini"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let points = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [f[0], f[1], f[2], f[3]].map(str::to_string)
        })
        .collect();
    let errors = report["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no error list from rs274_path.py: {report}"))
        .len() as u64;
    Some((errors, points))
}

/// [`rs274_points`] as numbers: the error count and the tool tip's X, Y, Z.
pub fn rs274_xyz(gcode: &str, scratch: &str, tag: &str) -> Option<(u64, Vec<[f64; 3]>)> {
    let (errors, points) = rs274_points(gcode, scratch, tag)?;
    let xyz = points
        .iter()
        .map(|p| [0, 1, 2].map(|i| p[i].parse::<f64>().unwrap()))
        .collect();
    Some((errors, xyz))
}
