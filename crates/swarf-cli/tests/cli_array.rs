//! `generate` with the size and array flags (issue 21): copies, their order and form, a
//! restart, and refusals that name the fix.

mod common;

use std::path::PathBuf;

use common::{assets, cli};

fn tmp(name: &str) -> PathBuf {
    common::tmp_in("array", name)
}

fn gen_json(args: &[&str], out: &PathBuf) -> Result<serde_json::Value, String> {
    let o = cli()
        .arg("generate")
        .args(args)
        .args(["--json", "-o"])
        .arg(out)
        .output()
        .unwrap();
    if o.status.success() {
        Ok(serde_json::from_slice(&o.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

#[test]
fn an_array_from_flags_writes_every_copy_and_counts_them() {
    let out = tmp("grid.nc");
    let one = gen_json(
        &["--op", "contour", "--tool-diameter", "1", "--depth", "0.2"],
        &out,
    )
    .unwrap();
    let j = gen_json(
        &[
            "--op",
            "contour",
            "--tool-diameter",
            "1",
            "--depth",
            "0.2",
            "--array",
            "3x2",
            "--gap",
            "2",
            "--skip-copy",
            "5",
        ],
        &out,
    )
    .unwrap();
    assert_eq!(j["copies"], 5);
    let ratio = j["feed_length_mm"].as_f64().unwrap() / one["feed_length_mm"].as_f64().unwrap();
    assert!((ratio - 5.0).abs() < 1e-9, "{ratio}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("(array: 3 x 2 copies, pitch X10.0000 Y9.2000 mm, 5 cut, skipped 5"));
    // Serpentine: the second row runs right to left.
    for (n, k) in [(1, 1), (2, 2), (3, 3), (4, 6), (5, 4)] {
        assert!(
            text.contains(&format!("(op {n}: contour [copy {k}])")),
            "copy {k}"
        );
    }
    assert!(!text.contains("[copy 5]"));
}

#[test]
fn a_job_file_takes_size_array_order_and_restart_from_the_command_line() {
    let out = tmp("job.nc");
    let j = gen_json(
        &[
            "--job",
            &assets("example_job.toml"),
            "--array",
            "2x2",
            "--pitch",
            "12,11",
            "--order",
            "by-copy",
            "--copies-as",
            "offsets",
            "--scale",
            "1.015",
            "--start-copy",
            "2",
        ],
        &out,
    )
    .unwrap();
    assert_eq!(j["copies"], 4);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("(RESTART: from copy 2, operation 1"),
        "{}",
        &text[..400]
    );
    assert!(text.contains("(part size: scaled x1.015 [about the work origin])"));
    assert!(text.contains("(copy 4: set G57 = G54 + X12.0000 Y11.0000 [Z as G54])"));
    // By copy: copy 2 both operations, then copy 4 (serpentine), then copy 3.
    let order: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("(op ") && !l.contains(" - "))
        .collect();
    assert_eq!(
        order,
        [
            "(op 1: recesses [copy 2])",
            "(op 2: outline [copy 2])",
            "(op 3: recesses [copy 4])",
            "(op 4: outline [copy 4])",
            "(op 5: recesses [copy 3])",
            "(op 6: outline [copy 3])"
        ]
    );
    assert!(j["warnings"][0].as_str().unwrap().contains("scaled x1.015"));
}

#[test]
fn bad_sizes_and_arrays_are_refused_with_the_fix() {
    let out = tmp("bad.nc");
    let base = ["--op", "contour", "--tool-diameter", "1", "--depth", "0.2"];
    let refuse = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        gen_json(&a, &out).unwrap_err()
    };
    let e = refuse(&["--array", "3x1", "--gap", "0.5"]);
    assert!(
        e.contains("cuts reach") && e.contains("gap at least X 1.0000"),
        "{e}"
    );
    let e = refuse(&["--array", "3"]);
    assert!(e.contains("4x6"), "{e}");
    let e = refuse(&["--array", "2x1"]);
    assert!(e.contains("--pitch") && e.contains("--gap"), "{e}");
    let e = refuse(&["--scale-xyz", "1.01,1.01,1.02"]);
    assert!(e.contains("drawing is flat") && e.contains("Z as 1"), "{e}");
    let e = refuse(&["--scale", "2", "--fit-width", "10"]);
    assert!(e.contains("one of"), "{e}");
    let e = refuse(&[
        "--array",
        "9x1",
        "--pitch",
        "12",
        "--copies-as",
        "offsets",
        "--dialect",
        "grbl",
    ]);
    assert!(e.contains("copy 7") && e.contains("expanded"), "{e}");
    let e = refuse(&["--polar", "6", "--polar-radius", "5"]);
    assert!(e.contains("radius larger"), "{e}");
    let e = refuse(&["--array", "2x1", "--pitch", "12", "--start-copy", "3"]);
    assert!(e.contains("copy 3") && e.contains("1 2"), "{e}");
}
