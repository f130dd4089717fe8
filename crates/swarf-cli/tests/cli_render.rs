//! `swarf-cli render` as a user runs it (software Vulkan in CI).

mod common;

use common::cli;

fn tmp(name: &str) -> std::path::PathBuf {
    common::tmp_in("render", name)
}

use std::path::PathBuf;

/// Runs the command; `None` (said loudly) when the machine has no GPU adapter at all.
fn render(args: &[&str]) -> Option<String> {
    let out = cli().arg("render").args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("no GPU adapter") {
        eprintln!(
            "\n*** SKIPPED: {err}\n*** CI installs mesa-vulkan-drivers so this runs there.\n"
        );
        return None;
    }
    assert!(out.status.success(), "{err}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Width and height from a PNG header.
fn png_size(p: &std::path::Path) -> (u32, u32) {
    let b = std::fs::read(p).unwrap();
    assert_eq!(&b[1..4], b"PNG");
    let be = |o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    (be(16), be(20))
}

#[test]
fn example_job_renders_to_a_png_of_the_asked_size() {
    let out = tmp("example.png");
    let o = out.to_str().unwrap();
    let Some(text) = render(&["-o", o, "--size", "320x200", "--view", "top"]) else {
        return;
    };
    assert!(text.contains("segments"), "{text}");
    assert_eq!(png_size(&out), (320, 200));
}

#[test]
fn the_simulated_stock_is_drawn_as_a_mesh() {
    let out = tmp("sim.png");
    let Some(text) = render(&[
        "--simulate",
        "-o",
        out.to_str().unwrap(),
        "--size",
        "240x160",
    ]) else {
        return;
    };
    // The example job's cut stock: a heightmap surface of many triangles.
    let tris: usize = text
        .split(", ")
        .find_map(|p| p.strip_suffix(" triangles"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(tris > 10_000, "{text}");
    assert_eq!(png_size(&out), (240, 160));
}

#[test]
fn a_mesh_renders_and_frames_are_timed() {
    let stl = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/files/ocl_ktoolcav.stl");
    if !stl.exists() {
        eprintln!(
            "\n*** SKIPPED: corpus file {} not found ***\n",
            stl.display()
        );
        return;
    }
    let out = tmp("mesh.png");
    let Some(text) = render(&[
        stl.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--size",
        "200x150",
        "--bench-frames",
        "2",
    ]) else {
        return;
    };
    assert!(
        text.contains("triangles") && text.contains("ms per frame"),
        "{text}"
    );
    assert_eq!(png_size(&out), (200, 150));
}

#[test]
fn a_bad_size_is_refused_with_the_reason() {
    let out = cli()
        .args(["render", "--size", "10x10", "-o"])
        .arg(tmp("x.png"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("16 to 8192"));
}
