//! `swarf-cli generate` and `bench` as a user runs them.

mod common;

use common::{assets, cli};

fn tmp(name: &str) -> std::path::PathBuf {
    common::tmp_in("gen", name)
}

fn corpus(name: &str) -> Option<String> {
    common::corpus(name).map(|p| p.display().to_string())
}

#[test]
fn pocket_json_summary_and_file() {
    let out = tmp("pocket.ngc");
    let o = cli()
        .args([
            "generate",
            &assets("bench_20x15.dxf"),
            "--op",
            "pocket",
            "--tool-diameter",
            "0.2",
            "--stepover",
            "10%",
            "--depth",
            "0.1",
            "--dialect",
            "grbl",
            "--json",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "moves",
        "arcs",
        "feed_length_mm",
        "rapid_length_mm",
        "estimated_seconds",
        "warnings",
        "generate_seconds",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert!(v["moves"].as_u64().unwrap() > 1000);
    assert!(v["arcs"].as_u64().unwrap() > 100);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("G21 G90 G17 G94 G54\n"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("G3 ") || l.starts_with("G2 "))
    );
    assert!(text.trim_end().ends_with("M2"));
}

#[test]
fn contour_with_tabs_and_job_file() {
    let out = tmp("contour.ngc");
    let o = cli()
        .args([
            "generate",
            "--op",
            "contour",
            "--side",
            "outside",
            "--tool-diameter",
            "0.3",
            "--depth",
            "0.3",
            "--stepdown",
            "0.1",
            "--tabs",
            "3",
            "--decimals",
            "5",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_to_string(&out).unwrap().contains("Z-0.3"));

    let out = tmp("job.ngc");
    let o = cli()
        .args([
            "generate",
            "--job",
            &assets("example_job.toml"),
            "--json",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("T2 M6") && text.contains("T3 M6"));
}

#[test]
fn bad_parameters_exit_1_with_the_parameter_named() {
    let out = tmp("bad.ngc");
    for (args, needle) in [
        (
            vec!["--tool-diameter", "0.2", "--depth", "0"],
            "final_depth_mm",
        ),
        (
            vec!["--tool-diameter", "-1", "--depth", "0.1"],
            "diameter_mm",
        ),
        (
            vec![
                "--tool-diameter",
                "0.2",
                "--depth",
                "0.1",
                "--stepover",
                "2",
            ],
            "stepover",
        ),
        (
            vec![
                "--tool-diameter",
                "0.2",
                "--depth",
                "0.1",
                "--stepover",
                "abc",
            ],
            "stepover",
        ),
        (
            vec!["--tool-diameter", "NaN", "--depth", "0.1"],
            "diameter_mm",
        ),
        (vec!["--depth", "0.1"], "--tool-diameter"),
    ] {
        let o = cli()
            .arg("generate")
            .args(&args)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

/// A tool wider than every region cuts nothing: the command fails (exit 1), says why, and
/// writes no file (an empty program is not a success).
#[test]
fn tool_wider_than_every_region_is_refused_with_the_reason() {
    let out = tmp("wide.ngc");
    let _ = std::fs::remove_file(&out);
    let o = cli()
        .args(["generate", "--tool-diameter", "3", "--depth", "0.1", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("nothing to cut") && e.contains("narrower than the 3 mm tool"),
        "{e}"
    );
    assert!(!out.exists(), "no file is written");
}

/// A contour outside an open chain: open chains have no outside. The command says so, suggests
/// cutting on the line, and fails instead of writing an empty program; on the line it cuts.
#[test]
fn contour_outside_of_an_open_chain_says_to_cut_on_the_line() {
    let dxf = tmp("open_chain.dxf");
    let line = |x1: f64, y1: f64, x2: f64, y2: f64| {
        format!("0\nLINE\n8\n0\n10\n{x1}\n20\n{y1}\n30\n0\n11\n{x2}\n21\n{y2}\n31\n0\n")
    };
    std::fs::write(
        &dxf,
        format!(
            "0\nSECTION\n2\nENTITIES\n{}{}0\nENDSEC\n0\nEOF\n",
            line(0.0, 0.0, 10.0, 0.0),
            line(10.0, 0.0, 10.0, 5.0)
        ),
    )
    .unwrap();
    let out = tmp("open_chain.ngc");
    let _ = std::fs::remove_file(&out);
    let run = |side: &str| {
        cli()
            .arg("generate")
            .arg(&dxf)
            .args(["--op", "contour", "--side", side, "--tool-diameter", "0.5"])
            .args(["--depth", "0.1", "-o"])
            .arg(&out)
            .output()
            .unwrap()
    };
    for side in ["outside", "inside"] {
        let o = run(side);
        assert_eq!(o.status.code(), Some(1), "{side}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.contains("nothing to cut")
                && e.contains(&format!(
                    "open chain(s) (the first starting at (0.0000, 0.0000)) have no {side}"
                ))
                && e.contains("side 'on'"),
            "{e}"
        );
        assert!(!out.exists());
    }
    let o = run("on");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_to_string(&out).unwrap().contains("G1"));
}

#[test]
fn stl_inspect_and_zlevel_generate() {
    let Some(f) = corpus("ocl_ktoolcav.stl") else {
        return;
    };
    let o = cli().args(["inspect", &f, "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "format",
        "units",
        "bbox_mm",
        "closed_loops",
        "open_chains",
        "regions",
        "warnings",
        "triangles",
        "watertight",
        "open_edges",
        "nonmanifold_edges",
        "bodies",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["format"], "stl");
    assert_eq!(v["triangles"], 4090);
    assert_eq!(v["watertight"], true);
    for op in ["zlevel-rough", "zlevel-contour"] {
        let out = tmp(&format!("{op}.ngc"));
        let o = cli()
            .args([
                "generate",
                &f,
                "--op",
                op,
                "--tool-diameter",
                "0.5",
                "--flute-length",
                "4",
                "--stepdown",
                "0.5",
                "--json",
                "-o",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{op}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["moves"].as_u64().unwrap() > 100, "{op}");
        assert!(v.get("generate_seconds").is_some());
    }
    // A mesh that is not closed: the operation says why.
    let Some(f) = corpus("trimesh_soup.stl") else {
        return;
    };
    let out = tmp("soup.ngc");
    let o = cli()
        .args([
            "generate",
            &f,
            "--op",
            "zlevel-rough",
            "--tool-diameter",
            "0.1",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a closed solid"));
}

#[test]
fn verify_and_simulate_exit_codes_and_json() {
    let out = tmp("v.ngc");
    let part = assets("bench_20x15.dxf");
    let o = cli()
        .args([
            "generate",
            &part,
            "--tool-diameter",
            "0.5",
            "--stepover",
            "0.4",
            "--depth",
            "0.05",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = cli()
        .args([
            "verify",
            out.to_str().unwrap(),
            "--against",
            &part,
            "--tool-diameter",
            "0.5",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["gouges"].as_array().unwrap().len(), 0);
    assert!(v.get("rapids_through_stock").is_some() && v.get("warnings").is_some());
    let o = cli()
        .args([
            "simulate",
            out.to_str().unwrap(),
            "--against",
            &part,
            "--tool-diameter",
            "0.5",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "removed_volume_mm3",
        "estimated_seconds",
        "naive_seconds",
        "max_engagement_deg",
        "min_chip_thickness_um",
        "gouges",
        "warnings",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    // The pocket clears 285 mm² minus corners, 0.05 deep: about 14 mm³.
    let vol = v["removed_volume_mm3"].as_f64().unwrap();
    assert!((vol - 285.0 * 0.05).abs() < 0.5, "{vol}");
    assert!(v["estimated_seconds"].as_f64().unwrap() >= v["naive_seconds"].as_f64().unwrap());

    // A hand-made program through the island at line 5: exit 1, the line named.
    let bad = tmp("bad_prog.ngc");
    std::fs::write(
        &bad,
        "G21 G90\nG0 Z1\nG0 X2 Y7.5\nG1 Z-0.05 F50\nG1 X10 F200\nG0 Z1\nM2\n",
    )
    .unwrap();
    let o = cli()
        .args([
            "verify",
            bad.to_str().unwrap(),
            "--against",
            &part,
            "--tool-diameter",
            "0.5",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["gouges"][0]["line"], 5);
    assert!(v["gouges"][0]["depth_mm"].as_f64().unwrap() > 0.2);
    // Broken G-code: exit 1 with the line.
    std::fs::write(&bad, "G21\nG1 X1\n").unwrap();
    let o = cli()
        .args([
            "verify",
            bad.to_str().unwrap(),
            "--against",
            &part,
            "--tool-diameter",
            "0.5",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2"));
}

#[test]
fn rest_machining_after_a_larger_tool_cuts_a_fraction() {
    let feed = |extra: &[&str], name: &str| {
        let out = tmp(name);
        let o = cli()
            .args([
                "generate",
                &assets("bench_20x15.dxf"),
                "--op",
                "pocket",
                "--tool-diameter",
                "0.5",
                "--depth",
                "0.1",
                "--json",
            ])
            .args(extra)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
        v["feed_length_mm"].as_f64().unwrap()
    };
    let full = feed(&[], "full.ngc");
    // A 3 mm tool cannot reach into the 1 mm corner radii: only those are left.
    let rest = feed(&["--rest-from-diameter", "3"], "rest.ngc");
    assert!(
        rest > 0.0 && rest < 0.1 * full,
        "rest {rest} mm, full {full} mm"
    );
    // Only for pockets, and only after a larger tool.
    for (args, says) in [
        (
            vec!["--op", "contour", "--rest-from-diameter", "3"],
            "--op pocket",
        ),
        (
            vec!["--op", "pocket", "--rest-from-diameter", "0.3"],
            "rest_from_diameter_mm",
        ),
    ] {
        refused(&args, says);
    }
}

#[test]
fn a_job_with_z_level_operations_runs_on_an_stl_given_on_the_command_line() {
    use swarf_core::samples::{box_mesh, merge_meshes};
    let stl = tmp("boss.stl");
    let mesh = merge_meshes(&[
        box_mesh([0.0, 0.0, 0.0], [4.0, 4.0, 0.2]),
        box_mesh([1.0, 1.0, 0.2], [3.0, 3.0, 0.5]),
    ]);
    std::fs::write(&stl, mesh.to_binary_stl("boss")).unwrap();
    let example = std::fs::read_to_string(assets("example_job.toml")).unwrap();
    let job = format!(
        "{}[[operation]]\ntype = \"zlevel-rough\"\nname = \"rough\"\ntool = 3\n\
         stepdown_mm = 0.1\nheights = {{ final_depth_mm = 0.5 }}\n",
        example.split("[[operation]]").next().unwrap()
    );
    let job_path = tmp("mesh_job.toml");
    std::fs::write(&job_path, job).unwrap();
    let out = tmp("mesh_job.ngc");
    let o = cli()
        .arg("generate")
        .arg(&stl)
        .arg("--job")
        .arg(&job_path)
        .args(["--json", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["moves"].as_u64().unwrap() > 20, "{v}");
    assert!(
        (v["bounds_mm"][0][2].as_f64().unwrap() + 0.5).abs() < 1e-6,
        "{v}"
    );
    // The same job on the embedded drawing: the z-level operation is refused by name.
    let o = cli()
        .args(["generate", "--job"])
        .arg(&job_path)
        .arg("-o")
        .arg(tmp("x.ngc"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("'rough'") && e.contains("mesh (STL)"), "{e}");
}

/// `generate` on the budget part (0.5 mm tool, 0.1 mm deep) with `args` fails with exit code 1
/// and an error that contains `says`.
fn refused(args: &[&str], says: &str) {
    let o = cli()
        .args([
            "generate",
            &assets("bench_20x15.dxf"),
            "--tool-diameter",
            "0.5",
        ])
        .args(["--depth", "0.1"])
        .args(args)
        .arg("-o")
        .arg(tmp("refused.ngc"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{args:?}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains(says), "{args:?}: {e}");
}

/// Adaptive on the budget part: 0.5 mm tool, 0.1 mm deep.
const ADAPTIVE_BUDGET: [&str; 6] = [
    "--op",
    "adaptive",
    "--tool-diameter",
    "0.5",
    "--depth",
    "0.1",
];

/// Runs `generate` on the budget part with `args`, returns the JSON summary.
fn generate_json(args: &[&str], out: &str) -> serde_json::Value {
    let o = cli()
        .args(["generate", &assets("bench_20x15.dxf"), "--json", "-o"])
        .arg(tmp(out))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn adaptive_json_summary_names_the_engagement_limit() {
    let base = ADAPTIVE_BUDGET;
    // Default 60°.
    let v = generate_json(&base, "adaptive.ngc");
    assert_eq!(v["max_engagement_deg"].as_f64(), Some(60.0), "{v}");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["arcs_written"].as_u64().unwrap() > 500, "{v}");
    let full = v["feed_length_mm"].as_f64().unwrap();
    // The limit as an optimal load: 10 % of the diameter is 36.87°, and costs more passes.
    let mut args = base.to_vec();
    args.extend(["--optimal-load", "10%"]);
    let v = generate_json(&args, "adaptive10.ngc");
    let deg = v["max_engagement_deg"].as_f64().unwrap();
    assert!((deg - 36.87).abs() < 0.01, "{deg}");
    assert!(v["feed_length_mm"].as_f64().unwrap() > 1.3 * full, "{v}");
    // Rest machining after a 3 mm tool: the corners only.
    let mut args = base.to_vec();
    args.extend(["--rest-from-diameter", "3"]);
    let rest = generate_json(&args, "adaptive_rest.ngc")["feed_length_mm"]
        .as_f64()
        .unwrap();
    assert!(
        rest > 0.0 && rest < 0.1 * full,
        "rest {rest} mm, full {full} mm"
    );
    // Pocket summaries carry no limit.
    let v = generate_json(
        &["--op", "pocket", "--tool-diameter", "0.5", "--depth", "0.1"],
        "pocket_nolimit.ngc",
    );
    assert!(v.get("max_engagement_deg").is_none(), "{v}");
    // The limit only for adaptive clearing, and a sensible one.
    for (args, says) in [
        (
            vec!["--op", "pocket", "--optimal-load", "10%"],
            "--op adaptive",
        ),
        (
            vec!["--op", "adaptive", "--max-engagement-deg", "0"],
            "max_engagement_deg",
        ),
        (
            vec!["--op", "adaptive", "--max-engagement-deg", "200"],
            "max_engagement_deg",
        ),
        (
            vec!["--op", "adaptive", "--optimal-load", "1.5"],
            "optimal_load",
        ),
    ] {
        refused(&args, says);
    }
}

#[test]
fn a_job_with_an_adaptive_operation() {
    let example = std::fs::read_to_string(assets("example_job.toml")).unwrap();
    let job = format!(
        "{example}\n[[operation]]\ntype = \"adaptive\"\nname = \"clear\"\ntool = 3\ntarget = \"holes\"\n\n\
         max_engagement_deg = 45\nheights = {{ final_depth_mm = 0.1 }}\n"
    );
    let job_path = tmp("adaptive_job.toml");
    std::fs::write(&job_path, job).unwrap();
    let o = cli()
        .args(["generate", "--job"])
        .arg(&job_path)
        .args(["--json", "-o"])
        .arg(tmp("adaptive_job.ngc"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["max_engagement_deg"].as_f64(), Some(45.0), "{v}");
    let text = std::fs::read_to_string(tmp("adaptive_job.ngc")).unwrap();
    assert!(
        text.contains("(op 3: clear)"),
        "the adaptive operation is in the program"
    );
}

/// The export check reads the written program back; its coordinates are rounded to the
/// chosen decimals. At 3 decimals a wall pass moves up to 0.7 µm towards the wall, and the
/// check used to refuse every such program; and arcs over 2 m in radius, written as chords
/// within the path tolerance, plus rounding at 4 decimals, refused a corpus drawing over
/// 0.1 µm. Both are the written resolution, not gouges; `verify` reads programs the same way.
#[test]
fn programs_pass_the_export_check_within_their_written_rounding() {
    let part = assets("example_plate.dxf");
    let out = tmp("three_decimals.ngc");
    let o = cli()
        .args([
            "generate",
            &part,
            "--tool-diameter",
            "0.5",
            "--depth",
            "0.2",
        ])
        .args(["--decimals", "3", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("3 decimals"));
    let verify = |diameter: &str| {
        cli()
            .arg("verify")
            .arg(&out)
            .args(["--against", &part, "--tool-diameter", diameter, "--json"])
            .output()
            .unwrap()
    };
    let o = verify("0.5");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // The same program with the tool 0.01 mm larger than it was made for: 5 µm into the walls,
    // more than 3 decimals can excuse.
    let o = verify("0.51");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let deepest = v["gouges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["depth_mm"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!((deepest - 0.005).abs() < 0.001, "{deepest}");

    let Some(drawing) = corpus("d2g_fraesen_test_02_2004.dxf") else {
        return;
    };
    let o = cli()
        .args([
            "generate",
            &drawing,
            "--tool-diameter",
            "1",
            "--depth",
            "0.5",
            "-o",
        ])
        .arg(tmp("fraesen.ngc"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A cut deeper than the tool's flutes is refused, naming the operation, the depth and the
/// flute length (3 × D by default for the tool `--tool-diameter` makes, or `--flute-length`);
/// the reason is said once.
#[test]
fn a_cut_deeper_than_the_flutes_is_refused() {
    let part = assets("bench_20x15.dxf");
    let run = |extra: &[&str]| {
        cli()
            .args([
                "generate",
                &part,
                "--tool-diameter",
                "0.2",
                "--depth",
                "0.8",
            ])
            .args(extra)
            .arg("-o")
            .arg(tmp("deep.ngc"))
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("'pocket'")
            && err.contains("0.8 mm")
            && err.contains("0.6")
            && err.contains("flutes"),
        "{err}"
    );
    assert_eq!(err.matches("flutes of tool").count(), 1, "said once: {err}");
    let o = run(&["--flute-length", "1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The summary reports each clearing operation's feed against what its area needs (area over
/// step-over); a pocket stays near it, and the number is in the JSON for scripts to watch.
#[test]
fn json_summary_reports_feed_against_the_area_estimate() {
    let v = generate_json(
        &[
            "--op",
            "pocket",
            "--tool-diameter",
            "0.5",
            "--stepover",
            "0.2",
            "--depth",
            "0.1",
        ],
        "pocket_estimate.ngc",
    );
    let op = &v["operations"][0];
    let area = op["cleared_area_mm2"].as_f64().unwrap();
    // The budget part: 20 × 15 with 1 mm corner radii, less two Ø3 islands.
    let expect = 300.0 - (4.0 - std::f64::consts::PI) - 2.0 * std::f64::consts::PI * 2.25;
    assert!((area - expect).abs() < 1e-6, "{area} vs {expect}: {v}");
    assert!(
        (op["stepover_mm"].as_f64().unwrap() - 0.1).abs() < 1e-12,
        "{v}"
    );
    let est = op["feed_estimate_mm"].as_f64().unwrap();
    assert!((est - area / 0.1).abs() < 1e-6, "{v}");
    let k = op["feed_vs_estimate"].as_f64().unwrap();
    assert!(
        (0.9..2.0).contains(&k),
        "a pocket is near its estimate: {k}"
    );
    assert!(
        !v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("wanders")),
        "{v}"
    );
    // A contour clears no area: no estimate.
    let v = generate_json(
        &[
            "--op",
            "contour",
            "--tool-diameter",
            "0.5",
            "--depth",
            "0.1",
        ],
        "contour_estimate.ngc",
    );
    assert!(v["operations"][0]["feed_estimate_mm"].is_null(), "{v}");
}

/// Adaptive's stay-down links run at a multiple of the cutting feed (default 2): the same
/// moves take less time than at 1; a factor out of range is refused, naming the field.
#[test]
fn link_feed_factor_speeds_up_adaptive_links_and_is_checked() {
    let base = ADAPTIVE_BUDGET;
    let fast = generate_json(&base, "links_fast.ngc");
    let mut args = base.to_vec();
    args.extend(["--link-feed-factor", "1"]);
    let slow = generate_json(&args, "links_slow.ngc");
    assert_eq!(fast["moves"], slow["moves"]);
    let (f, s) = (
        fast["estimated_seconds"].as_f64().unwrap(),
        slow["estimated_seconds"].as_f64().unwrap(),
    );
    assert!(f < 0.97 * s, "links at 2× feed: {f} s, at 1×: {s} s");
    refused(
        &["--op", "adaptive", "--link-feed-factor", "0.5"],
        "link_feed_factor",
    );
}

/// Engraving open lines (issue 20): two chains drawn far end first, cut nearest first from
/// their nearer ends, the centre 0.1 mm left of each line, in two levels; LinuxCNC's rs274
/// reads the program back and every cut lies on the offset lines at or above the depth.
#[test]
fn open_lines_are_engraved_beside_the_line_in_levels_and_read_back() {
    let dxf = tmp("marks.dxf");
    std::fs::write(
        &dxf,
        "0\nSECTION\n2\nHEADER\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n\
         0\nLINE\n8\n0\n10\n15\n20\n0\n11\n10\n21\n0\n\
         0\nLINE\n8\n0\n10\n0\n20\n2\n11\n5\n21\n2\n0\nENDSEC\n0\nEOF\n",
    )
    .unwrap();
    let out = tmp("marks.nc");
    let o = cli()
        .arg("generate")
        .arg(&dxf)
        .args([
            "--op",
            "engrave",
            "--engrave-side",
            "left",
            "--engrave-offset",
            "0.1",
            "--tool-diameter",
            "0.2",
            "--depth",
            "0.05",
            "--stepdown",
            "0.025",
            "--dialect",
            "grbl",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("engrave: 2 chain(s) and 0 loop(s) at 0.05 mm in 2 level(s)"),
        "{stdout}"
    );
    let gcode = std::fs::read_to_string(&out).unwrap();
    let Some((errors, pts)) = common::rs274_xyz(&gcode, "gen", "marks") else {
        return;
    };
    assert_eq!(errors, 0);
    let mut at_depth = [0usize; 2];
    for p in pts.iter().filter(|p| p[2] < -1e-6) {
        assert!(p[2] >= -0.05 - 1e-6, "{p:?}");
        // Left of (15,0) -> (10,0) is y = -0.1; left of (0,2) -> (5,2) is y = 2.1.
        let on = if p[0] > 7.5 {
            (p[1] + 0.1).abs() < 1e-6
        } else {
            (p[1] - 2.1).abs() < 1e-6
        };
        assert!(on, "off the offset lines: {p:?}");
        if (p[2] + 0.05).abs() < 1e-6 {
            at_depth[usize::from(p[0] > 7.5)] += 1;
        }
    }
    assert!(at_depth[0] > 0 && at_depth[1] > 0, "{at_depth:?}");
}

/// V-carving (issue 20): a slot and a round pocket carved with a 90° V (the depth is the
/// distance to the nearest wall) capped at 0.3 mm, the floor left at the cap cleared by a
/// second tool; rs274 reads the program back and no point of it goes deeper than the walls
/// allow, nor outside the shapes.
#[test]
fn closed_shapes_are_v_carved_with_a_floor_clean_up_and_read_back() {
    let dxf = tmp("vcarve.dxf");
    std::fs::write(
        &dxf,
        "0\nSECTION\n2\nHEADER\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n\
         0\nLWPOLYLINE\n8\n0\n90\n4\n70\n1\n10\n0\n20\n0\n10\n4\n20\n0\n10\n4\n20\n1\n10\n0\n20\n1\n\
         0\nCIRCLE\n8\n0\n10\n7\n20\n0.5\n40\n0.6\n0\nENDSEC\n0\nEOF\n",
    )
    .unwrap();
    let out = tmp("vcarve.nc");
    let o = cli()
        .arg("generate")
        .arg(&dxf)
        .args([
            "--op",
            "vcarve",
            "--v-angle",
            "90",
            "--depth",
            "0.3",
            "--cleanup-tool-diameter",
            "0.3",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("vcarve: 2 region(s)"), "{stdout}");
    assert!(stdout.contains("of floor is wider than the V"), "{stdout}");
    let gcode = std::fs::read_to_string(&out).unwrap();
    assert!(
        gcode.contains("T1 M6") && gcode.contains("T2 M6"),
        "{gcode}"
    );
    let Some((errors, pts)) = common::rs274_xyz(&gcode, "gen", "vcarve") else {
        return;
    };
    assert_eq!(errors, 0);
    let wall = |x: f64, y: f64| -> Option<f64> {
        let slot = x.min(y).min(4.0 - x).min(1.0 - y);
        let round = 0.6 - ((x - 7.0).powi(2) + (y - 0.5).powi(2)).sqrt();
        [slot, round].into_iter().find(|&d| d >= -1e-6)
    };
    let mut deepest = 0.0_f64;
    for p in pts.iter().filter(|p| p[2] < -1e-6) {
        let w = wall(p[0], p[1]).unwrap_or_else(|| panic!("a cut outside the shapes: {p:?}"));
        assert!(
            -p[2] <= w.min(0.3) + 2e-4,
            "{p:?} is deeper than its walls allow ({w})"
        );
        deepest = deepest.max(-p[2]);
    }
    assert!((deepest - 0.3).abs() < 1e-6, "deepest {deepest}");
}

/// Text (issue 20): a serial number V-carved in the built-in outline font; rs274 reads the
/// program back, the cut stays within the letters' box, and the counter is in the summary.
/// A stroke font is refused for V-carving, naming the fix.
#[test]
fn a_serial_number_is_v_carved_in_the_outline_font_and_read_back() {
    let out = tmp("sn.nc");
    let o = cli()
        .arg("generate")
        .args([
            "--op",
            "text",
            "--text",
            "SN {n:03}",
            "--counter",
            "5",
            "--font",
            "outline",
            "--text-cut",
            "vcarve",
            "--v-angle",
            "60",
            "--text-height",
            "1.5",
            "--text-at",
            "1,1",
            "--depth",
            "0.3",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("text: \"SN 005\" in Hack"), "{stdout}");
    // S, N, 5, and each zero of Hack: its ring and the dot inside it.
    assert!(stdout.contains("vcarve: 7 region(s)"), "{stdout}");
    let gcode = std::fs::read_to_string(&out).unwrap();
    let Some((errors, pts)) = common::rs274_xyz(&gcode, "gen", "sn") else {
        return;
    };
    assert_eq!(errors, 0);
    for p in pts.iter().filter(|p| p[2] < -1e-6) {
        assert!(p[2] >= -0.3 - 1e-6, "{p:?}");
        assert!(
            (1.1..8.3).contains(&p[0]) && (0.97..2.53).contains(&p[1]),
            "outside the letters: {p:?}"
        );
    }
    let o = cli()
        .arg("generate")
        .args([
            "--op",
            "text",
            "--text-cut",
            "vcarve",
            "--depth",
            "0.3",
            "-o",
        ])
        .arg(tmp("sn_bad.nc"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no width to V-carve"), "{err}");
}

/// `mesh` as the CLI places it (its top at Z 0) and the exact drop-cutter of a ball of
/// diameter `d` on it: the read-back tests' oracle.
fn placed_ball_drop_cutter(
    mesh: &swarf_core::geometry::mesh::Mesh,
    d: f64,
) -> (swarf_core::import::StlPart, swarf_core::cl::DropCutter) {
    use swarf_core::cl::{CutterShape, DropCutter};
    let part = swarf_core::import::import_stl(
        &mesh.to_binary_stl("dome"),
        &swarf_core::import::StlOptions::default(),
    )
    .unwrap();
    let mut ball = swarf_core::tool::Tool::micro_flat(d);
    ball.shape = swarf_core::tool::ToolShape::Ball;
    let dc = DropCutter::new(&part.mesh, CutterShape::of(&ball, 0.0).unwrap());
    (part, dc)
}

/// A dome and a dish on a 6 × 4 mm block, written to `name` as an STL: the 3D finishes'
/// read-back part.
fn dome_and_dish(name: &str) -> (swarf_core::geometry::mesh::Mesh, std::path::PathBuf) {
    let mesh =
        swarf_core::samples::heightfield_mesh([0.0, 0.0], [6.0, 4.0], 60, 40, -2.0, |x, y| {
            let d = ((x - 2.0).powi(2) + (y - 2.0).powi(2)).sqrt();
            let e = ((x - 4.6).powi(2) + (y - 2.0).powi(2)).sqrt();
            -1.0 + 0.6 * (-d * d).exp() - 0.3 * (-2.0 * e * e).exp()
        });
    let stl = tmp(name);
    std::fs::write(&stl, mesh.to_binary_stl("dome")).unwrap();
    (mesh, stl)
}

/// Projected engraving (issue 20): a circle and a line of a drawing engraved 30 µm below a
/// dome and a dish (`--onto`), and a serial number written on the mesh itself; rs274 reads
/// both programs back with no error, no point is deeper than the depth below the exact
/// drop-cutter surface, and the cuts at depth follow it (within the 4 decimals written).
#[test]
fn marks_are_engraved_onto_a_mesh_surface_and_read_back() {
    let (mesh, stl) = dome_and_dish("dome_onto.stl");
    let dxf = tmp("onto.dxf");
    std::fs::write(
        &dxf,
        "0\nSECTION\n2\nHEADER\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n\
         0\nCIRCLE\n8\n0\n10\n2\n20\n2\n40\n1\n\
         0\nLINE\n8\n0\n10\n3.5\n20\n1\n11\n5.5\n21\n3\n0\nENDSEC\n0\nEOF\n",
    )
    .unwrap();
    let (_, dc) = placed_ball_drop_cutter(&mesh, 0.3);
    let runs: [(&std::path::Path, &[&str], &str); 2] = [
        (&dxf, &["--op", "engrave"], "onto_engrave"),
        (
            &stl,
            &[
                "--op",
                "text",
                "--text",
                "SN {n:04}",
                "--text-at",
                "0.6,1.6",
                "--text-height",
                "0.8",
            ],
            "onto_text",
        ),
    ];
    for (file, op, name) in runs {
        let out = tmp(&format!("{name}.nc"));
        let o = cli()
            .arg("generate")
            .arg(file)
            .args(op)
            .arg("--onto")
            .arg(&stl)
            .args([
                "--tool",
                "ball",
                "--tool-diameter",
                "0.3",
                "--depth",
                "0.03",
                "--flute-length",
                "3",
                "-o",
            ])
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(stdout.contains("onto "), "{stdout}");
        let gcode = std::fs::read_to_string(&out).unwrap();
        let Some((errors, pts)) = common::rs274_points(&gcode, "gen", name) else {
            return;
        };
        assert_eq!(errors, 0);
        let mut at_depth = 0;
        for p in &pts {
            let [x, y, z] = [0, 1, 2].map(|i| p[i].parse::<f64>().unwrap());
            let cl = dc.drop(x, y, f64::NEG_INFINITY);
            if cl == f64::NEG_INFINITY {
                assert!(z > 0.0, "({x}, {y}, {z}) off the mesh below its top");
                continue;
            }
            assert!(
                z >= cl - 0.03 - 2e-4,
                "{name}: ({x}, {y}, {z}) is {} below the surface",
                cl - z
            );
            if p[3] == "1" {
                continue;
            }
            if (z - (cl - 0.03)).abs() <= 2e-4 {
                at_depth += 1;
            }
        }
        assert!(at_depth > 100, "{name}: {at_depth} points at depth");
    }
    // A job file names the mesh in [part] with; the flag is for a job made from flags.
    let o = cli()
        .arg("generate")
        .arg(&dxf)
        .args(["--op", "contour", "--tool-diameter", "0.3", "--onto"])
        .arg(&stl)
        .arg("-o")
        .arg(tmp("onto_contour.nc"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--onto is for --op engrave or --op text"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// 3D finishing (issue 17): parallel passes over a dome and a dish read back through rs274
/// with no error, every cutting point on the exact cutter-location surface (within the
/// path tolerance and the written rounding), and the summary names the step-over.
#[test]
fn parallel_finishing_of_a_mesh_reads_back_on_the_surface() {
    let (mesh, stl) = dome_and_dish("dome.stl");
    let out = tmp("parallel.nc");
    let o = cli()
        .arg("generate")
        .arg(&stl)
        .args([
            "--op",
            "parallel",
            "--tool",
            "ball",
            "--tool-diameter",
            "0.5",
            "--scallop-height",
            "0.003",
            "--angle",
            "30",
            "--flute-length",
            "3",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("step-over 0.0772 mm for a 3.00 µm scallop"),
        "{stdout}"
    );
    let gcode = std::fs::read_to_string(&out).unwrap();
    // The part as the CLI placed it: its top at Z 0.
    let (part, dc) = placed_ball_drop_cutter(&mesh, 0.5);
    let Some((errors, pts)) = common::rs274_points(&gcode, "gen", "parallel") else {
        return;
    };
    assert_eq!(errors, 0);
    let floor = -(part.mesh.bounds().unwrap().1[2] - part.mesh.bounds().unwrap().0[2]);
    let mut cutting = 0;
    for p in &pts {
        let [x, y, z] = [0, 1, 2].map(|i| p[i].parse::<f64>().unwrap());
        if p[3] == "1" || z > 0.0 {
            continue;
        }
        let cl = dc.drop(x, y, floor);
        // Written at 4 decimals: up to 0.05 µm per coordinate, on slopes up to about 1;
        // where the surface steps (the ball's side at a vertical edge) the point may lie
        // that far across the step.
        let across = (0..8).any(|k| {
            let a = f64::from(k) * std::f64::consts::FRAC_PI_4;
            dc.drop(x + 2e-4 * a.cos(), y + 2e-4 * a.sin(), floor) <= z + 2e-4
        });
        assert!(
            z >= cl - 2e-4 || across,
            "({x}, {y}, {z}) is {} below the surface",
            cl - z
        );
        cutting += 1;
    }
    assert!(cutting > 1000, "{cutting}");
}

/// 3D finishing (issue 17): waterlines round a dome and in a dish read back through rs274:
/// every point read back at depth, ramps and links included, has the ball clear of the part
/// (within the 4 decimals written), on every level.
#[test]
fn waterline_finishing_of_a_mesh_reads_back_on_the_contours() {
    let (mesh, stl) = dome_and_dish("dome_wl.stl");
    let out = tmp("waterline.nc");
    let o = cli()
        .arg("generate")
        .arg(&stl)
        .args([
            "--op",
            "waterline",
            "--tool",
            "ball",
            "--tool-diameter",
            "0.5",
            "--scallop-height",
            "0.01",
            "--depth",
            "1.2",
            "--flute-length",
            "3",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // 2·√(2·0.25·0.01 − 0.01²) = 0.1411 mm, evened out over the 1.2 mm.
    assert!(
        stdout.contains("levels 0.1333 mm apart for a 10.00 µm scallop"),
        "{stdout}"
    );
    let gcode = std::fs::read_to_string(&out).unwrap();
    let (_, dc) = placed_ball_drop_cutter(&mesh, 0.5);
    let Some((errors, pts)) = common::rs274_points(&gcode, "gen", "waterline") else {
        return;
    };
    assert_eq!(errors, 0);
    let mut levels = std::collections::BTreeSet::new();
    let mut cutting = 0;
    for p in &pts {
        let [x, y, z] = [0, 1, 2].map(|i| p[i].parse::<f64>().unwrap());
        if p[3] == "1" || z >= -1e-9 {
            continue;
        }
        let cl = dc.drop(x, y, f64::NEG_INFINITY);
        // Clear of the part: the drop-cutter no higher than the point (or within the 4
        // decimals' rounding of a point that is).
        let near = |ok: &dyn Fn(f64) -> bool| {
            (0..16).any(|k| {
                let a = f64::from(k) * std::f64::consts::TAU / 16.0;
                ok(dc.drop(x + 2e-4 * a.cos(), y + 2e-4 * a.sin(), f64::NEG_INFINITY))
            })
        };
        // (Z written to 4 decimals may sit up to 0.05 µm low.)
        assert!(
            cl <= z + 6e-5 || near(&|c| c <= z + 6e-5),
            "({x}, {y}, {z}) cuts {} into the part",
            cl - z
        );
        // The levels cut (touching the part there is the unit tests' business: a link's
        // end at a level lies over the next level's contour).
        let step = 1.2 / 9.0;
        let k = (-z / step).round();
        if (z + k * step).abs() <= 6e-5 {
            levels.insert(k as i64);
        }
        cutting += 1;
    }
    assert!(cutting > 500, "{cutting}");
    assert!(levels.len() >= 9, "{levels:?}");
}

/// 3D finishing (issue 17): steep and shallow on a dome and a dish read back through rs274
/// with no error; no point read back lies in the part (within the 4 decimals written); both
/// waterlines (on the dome's steep flanks) and parallel passes (on the gentle rest) are cut.
#[test]
fn steep_and_shallow_finishing_reads_back_clear_of_the_part() {
    let (mesh, stl) = dome_and_dish("dome_ss.stl");
    let out = tmp("steep_shallow.nc");
    let o = cli()
        .arg("generate")
        .arg(&stl)
        .args([
            "--op",
            "steep-shallow",
            "--tool",
            "ball",
            "--tool-diameter",
            "0.5",
            "--scallop-height",
            "0.01",
            "--threshold-angle",
            "30",
            "--depth",
            "1.2",
            "--flute-length",
            "3",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("steep and shallow at 30°"), "{stdout}");
    assert!(
        stdout.contains("waterline: ") && stdout.contains("parallel: "),
        "{stdout}"
    );
    let gcode = std::fs::read_to_string(&out).unwrap();
    let (_, dc) = placed_ball_drop_cutter(&mesh, 0.5);
    let Some((errors, pts)) = common::rs274_points(&gcode, "gen", "steep_shallow") else {
        return;
    };
    assert_eq!(errors, 0);
    let floor = -1.2;
    let mut cutting = 0;
    for p in &pts {
        let [x, y, z] = [0, 1, 2].map(|i| p[i].parse::<f64>().unwrap());
        if p[3] == "1" || z >= -1e-9 {
            continue;
        }
        let cl = dc.drop(x, y, floor);
        let near = (0..16).any(|k| {
            let a = f64::from(k) * std::f64::consts::TAU / 16.0;
            dc.drop(x + 2e-4 * a.cos(), y + 2e-4 * a.sin(), floor) <= z + 6e-5
        });
        assert!(
            cl <= z + 6e-5 || near,
            "({x}, {y}, {z}) cuts {} into the part",
            cl - z
        );
        cutting += 1;
    }
    assert!(cutting > 500, "{cutting}");
}
