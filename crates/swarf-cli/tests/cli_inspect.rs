//! `swarf-cli inspect` as a user runs it.

mod common;

use common::{cli, corpus};

fn json(args: &[&str]) -> serde_json::Value {
    let out = cli().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn embedded_example_as_json_has_the_documented_keys() {
    let v = json(&["inspect", "--json"]);
    for key in [
        "format",
        "units",
        "bbox_mm",
        "closed_loops",
        "open_chains",
        "regions",
        "warnings",
        "layers",
        "entities",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["format"], "dxf");
    assert_eq!(v["units"], "mm");
    assert_eq!(v["closed_loops"], 11);
    assert_eq!(v["open_chains"], 0);
    assert_eq!(v["regions"][0]["islands"], 9);
    let bbox = &v["bbox_mm"];
    assert!((bbox[0][0].as_f64().unwrap() + 4.0).abs() < 1e-9, "{bbox}");
    assert!((bbox[1][1].as_f64().unwrap() - 4.0).abs() < 1e-9, "{bbox}");
    assert!(v["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn units_override_and_layers() {
    let Some(p) = corpus("vivarose_Horowitz_microfluidic_mask_2015-07-14.dxf") else {
        return;
    };
    let p = p.to_str().unwrap();
    let v = json(&["inspect", p, "--json"]);
    assert_eq!(v["units"], "inch");
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("--units um"))
    );
    let v = json(&["inspect", p, "--units", "um", "--json"]);
    assert_eq!(v["units"], "um");
    assert_eq!(v["declared_units"], "inch");
    let w = v["bbox_mm"][1][0].as_f64().unwrap() - v["bbox_mm"][0][0].as_f64().unwrap();
    assert!((w - 38.0).abs() < 0.01);

    let Some(p) = corpus("d2g_pumpenteile.dxf") else {
        return;
    };
    let out = cli()
        .args(["inspect", p.to_str().unwrap(), "--layers", "NO_SUCH_LAYER"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("NO_SUCH_LAYER") && err.contains("layers are"),
        "{err}"
    );
}

#[test]
fn text_summary_and_errors() {
    let out = cli().args(["inspect"]).output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("regions:") && s.contains("closed loops"), "{s}");

    let out = cli()
        .args(["inspect", "/no/such/file.dxf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));

    let dir = std::env::temp_dir().join(format!("swarf-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("garbage.dxf");
    std::fs::write(&bad, "this is\nnot a dxf\n").unwrap();
    let out = cli()
        .args(["inspect", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && !err.contains("panicked"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn no_command_summarises_the_example() {
    let out = cli().output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("example_plate.dxf"));
}

/// `--orient` turns a mesh in quarter turns before its origin is placed; the corpus mold
/// cavity (facing −Y in its file) then faces up, its cavity's floors becoming flat levels.
#[test]
fn orient_turns_a_mesh_before_it_is_placed() {
    let dir = std::env::temp_dir().join(format!("swarf-cli-orient-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stl = dir.join("block.stl");
    let mesh = swarf_core::samples::box_mesh([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]);
    std::fs::write(&stl, mesh.to_binary_stl("block")).unwrap();
    let bbox = |orient: &str| -> serde_json::Value {
        let o = cli()
            .args([
                "inspect",
                stl.to_str().unwrap(),
                "--json",
                "--origin",
                "corner",
            ])
            .arg(format!("--orient={orient}"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        j["bbox3_mm"].clone()
    };
    let size = |b: &serde_json::Value| -> Vec<f64> {
        (0..3)
            .map(|k| b[1][k].as_f64().unwrap() - b[0][k].as_f64().unwrap())
            .collect()
    };
    assert_eq!(size(&bbox("none")), vec![1.0, 2.0, 3.0]);
    assert_eq!(size(&bbox("x-90")), vec![1.0, 3.0, 2.0]);
    assert_eq!(size(&bbox("z90")), vec![2.0, 1.0, 3.0]);
    assert_eq!(size(&bbox("flip")), vec![1.0, 2.0, 3.0]);
    // The origin is placed after the turn: corner at XY 0, top at Z 0.
    let b = bbox("x-90");
    assert_eq!(b[0][0], 0.0);
    assert_eq!(b[0][1], 0.0);
    assert_eq!(b[1][2], 0.0);
    let o = cli()
        .args(["inspect", stl.to_str().unwrap(), "--orient=x45"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("steps of 90"));

    let Some(mold) = corpus("ocl_ktoolcav.stl") else {
        return;
    };
    let levels = |orient: &str| -> usize {
        let o = cli()
            .args([
                "inspect",
                mold.to_str().unwrap(),
                "--units",
                "inch",
                "--json",
            ])
            .arg(format!("--orient={orient}"))
            .output()
            .unwrap();
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        j["flat_levels_mm"].as_array().unwrap().len()
    };
    // Facing up, the cavity's floors are flat levels below the top.
    assert!(levels("x-90") > 3, "{}", levels("x-90"));
}
