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
