//! The PCB flow from the command line (issue 22): a Gerber layer inspected, isolated with a V
//! bit, and levelled by a height map; LinuxCNC's rs274 reads every program back.

mod common;

use std::path::PathBuf;

use common::cli;

fn tmp(name: &str) -> PathBuf {
    common::tmp_in("pcb", name)
}

/// Two pads joined by a track, a pad of its own, and a ring (mm, 4.6 format).
const BOARD: &str = "G04 test board*\n%FSLAX46Y46*%\n%MOMM*%\n%TF.FileFunction,Copper,L1,Top*%\n\
%ADD10C,1.6*%\n%ADD11R,1.2X1.2*%\n%ADD12C,0.3*%\n%ADD13C,2.0X0.8*%\nD10*\nX2000000Y2000000D03*\n\
D11*\nX8000000Y2000000D03*\nD12*\nX2000000Y2000000D02*\nX8000000Y2000000D01*\nD10*\n\
X2000000Y6000000D03*\nD13*\nX8000000Y6000000D03*\nM02*\n";

fn write_board() -> PathBuf {
    let p = tmp("board-F_Cu.gbr");
    write_whole(&p, BOARD);
    p
}

/// Writes a file whole (by a rename): the tests run in parallel and read each other's files.
fn write_whole(p: &std::path::Path, text: &str) {
    let part =
        p.with_extension(format!("{:?}.part", std::thread::current().id()).replace(['(', ')'], ""));
    std::fs::write(&part, text).unwrap();
    std::fs::rename(&part, p).unwrap();
}

fn isolate(extra: &[&str], out: &PathBuf) -> (String, String) {
    let board = write_board();
    let o = cli()
        .arg("generate")
        .arg(&board)
        .args([
            "--op",
            "isolate",
            "--tool",
            "v",
            "--v-angle",
            "30",
            "--tip-diameter",
            "0.05",
            "--depth",
            "0.05",
            "--passes",
            "2",
            "--overlap",
            "20%",
            "--dialect",
            "grbl",
        ])
        .args(extra)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        std::fs::read_to_string(out).unwrap(),
    )
}

#[test]
fn a_gerber_layer_is_inspected_as_copper() {
    let board = write_board();
    let o = cli().arg("inspect").arg(&board).output().unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{s}");
    assert!(s.contains("Gerber (copper)"), "{s}");
    assert!(s.contains("FLASH 4") && s.contains("DRAW 1"), "{s}");
    // Three areas of copper: the two pads with their track, a pad, a ring; round pads are
    // not holes.
    assert!(s.contains("regions:       3"), "{s}");
    assert!(s.contains("holes:         0"), "{s}");
}

#[test]
fn isolation_passes_are_written_and_read_back() {
    let out = tmp("iso.nc");
    let (summary, gcode) = isolate(&[], &out);
    assert!(
        summary.contains("isolate: 2 pass(es), cut 0.0768 mm wide"),
        "{summary}"
    );
    // Every cut at the depth, none deeper.
    let zs: Vec<f64> = gcode
        .lines()
        .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix('Z')))
        .filter_map(|z| z.parse().ok())
        .collect();
    assert!(zs.iter().all(|&z| z >= -0.05 - 1e-9), "{zs:?}");
    assert!(zs.iter().any(|&z| (z + 0.05).abs() < 1e-9));
    if let Some((errors, points)) = common::rs274_points(&gcode, "pcb", "iso") {
        assert_eq!(errors, 0);
        assert!(points.len() > 50);
    }
}

#[test]
fn a_height_map_levels_the_cut_and_a_broken_one_is_refused() {
    // A tilted board: 0.1 mm over 10 mm in X.
    let map = tmp("map.json");
    let z: Vec<String> = (0..3)
        .flat_map(|_| (0..3).map(|i| format!("{}", 0.05 * f64::from(i))))
        .collect();
    std::fs::write(
        &map,
        format!(
            "{{\"version\": 1, \"origin\": [0.0, 0.0], \"step\": [5.0, 4.0], \"nx\": 3, \"ny\": 3, \"z\": [{}]}}",
            z.join(", ")
        ),
    )
    .unwrap();
    let out = tmp("levelled.nc");
    let (summary, gcode) = isolate(&["--height-map", map.to_str().unwrap()], &out);
    assert!(summary.contains("levelled:"), "{summary}");
    assert!(
        gcode.contains("levelled by a height map of 3 x 3 points"),
        "{gcode}"
    );
    // The cuts follow the tilt: Z at a feed move = -0.05 + 0.01 · X.
    let mut checked = 0;
    let (mut x, mut zc) = (0.0f64, 0.0f64);
    for l in gcode.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        let get = |c: char| {
            w.iter()
                .find_map(|t| t.strip_prefix(c)?.parse::<f64>().ok())
        };
        if let Some(v) = get('X') {
            x = v;
        }
        if let Some(v) = get('Z') {
            zc = v;
        }
        if w.first().is_some_and(|g| matches!(*g, "G1" | "G2" | "G3")) && get('X').is_some() {
            // Never deeper than the depth below the surface; the cuts (not the ramps down)
            // exactly there.
            let want = -0.05 + 0.01 * x.clamp(0.0, 10.0);
            assert!(zc >= want - 2e-4, "{l}: Z {zc}, deeper than {want}");
            if (zc - want).abs() < 2e-4 {
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked}");
    if let Some((errors, _)) = common::rs274_points(&gcode, "pcb", "levelled") {
        assert_eq!(errors, 0);
    }
    // A board 0.3 mm below Z0 at one side: the approach rapids go below Z0 there, but not
    // into the board (the export check measures from the surface).
    let low = tmp("low.json");
    let z: Vec<String> = (0..3)
        .flat_map(|_| (0..3).map(|i| format!("{}", -0.15 * f64::from(i))))
        .collect();
    std::fs::write(
        &low,
        format!(
            "{{\"version\": 1, \"origin\": [0.0, 0.0], \"step\": [5.0, 4.0], \"nx\": 3, \"ny\": 3, \"z\": [{}]}}",
            z.join(", ")
        ),
    )
    .unwrap();
    let (summary, _) = isolate(&["--height-map", low.to_str().unwrap()], &tmp("low.nc"));
    assert!(summary.contains("levelled:"), "{summary}");
    std::fs::write(&map, "{\"version\": 1, \"origin\": [0, 0]}").unwrap();
    let o = cli()
        .arg("generate")
        .arg(write_board())
        .args([
            "--op",
            "isolate",
            "--tool",
            "v",
            "--depth",
            "0.05",
            "--height-map",
        ])
        .arg(&map)
        .arg("-o")
        .arg(tmp("never.nc"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("not a Swarf height map"), "{e}");
}

/// The board under the fake GRBL's probe (work coordinates).
fn warped(x: f64, y: f64) -> f64 {
    0.003 * x - 0.002 * y + 0.01 * (x * 0.5).sin()
}

#[test]
fn probe_writes_a_map_that_generate_levels_by() {
    use swarf_machine::fake_grbl::{Config, FakeGrbl};
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(warped),
        probe_noise_um: 1.0,
        probe_outlier_every: Some(5),
        wco: [-50.0, -40.0, -20.0],
        ..Config::default()
    });
    let map = tmp("probed.json");
    let o = cli()
        .args([
            "probe", "--port", &fake.path, "--grid", "4x3", "--area", "0,0,10,8", "--json", "-o",
        ])
        .arg(&map)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["points"], 12);
    assert!(s["rejected_touches"].as_u64().unwrap() >= 1, "{s}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&map).unwrap()).unwrap();
    let z = m["z"].as_array().unwrap();
    for j in 0..3 {
        for i in 0..4 {
            let (x, y) = (10.0 * f64::from(i) / 3.0, 8.0 * f64::from(j) / 2.0);
            let got = z[(j * 4 + i) as usize].as_f64().unwrap();
            assert!(
                (got - warped(x, y)).abs() <= 0.0016,
                "({x}, {y}): {got} vs {}",
                warped(x, y)
            );
        }
    }
    // The map levels a program.
    let (summary, _) = isolate(&["--height-map", map.to_str().unwrap()], &tmp("probed.nc"));
    assert!(summary.contains("levelled:"), "{summary}");
    // A job file gives the area (its cuts and a margin) and its [probe] settings.
    let job = tmp("board.toml");
    std::fs::write(
        &job,
        format!(
            "version = 2\ntitle = \"board\"\n[part]\nfile = \"{}\"\n[probe]\ngrid = [3, 2]\ntouches = 1\nmargin_mm = 0.5\n\
             [[tool]]\nname = \"V\"\nnumber = 1\nshape = {{ type = \"v\", angle_deg = 30.0, tip_diameter_mm = 0.05 }}\n\
             diameter_mm = 1.0\nflutes = 1\nflute_length_mm = 2.0\nstickout_mm = 10.0\nmax_rpm = 30000\n\
             feeds = {{ rpm = 24000, feed_per_tooth_mm = 0.005, plunge_mm_per_min = 30, ramp_mm_per_min = 60 }}\n\
             [[operation]]\nname = \"isolate\"\ntool = 1\ntype = \"isolate\"\nheights = {{ final_depth_mm = 0.05 }}\n",
            write_board().display()
        ),
    )
    .unwrap();
    let map2 = tmp("from-job.json");
    let o = cli()
        .args(["probe", "--port", &fake.path, "--json", "--area"])
        .arg(&job)
        .arg("-o")
        .arg(&map2)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["points"], 6, "{s}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&map2).unwrap()).unwrap();
    // The board's copper spans 1.2 .. 8.8 x 1.2 .. 6.8 mm; the cuts reach about 0.1 beyond,
    // the margin 0.5 more.
    let x0 = m["origin"][0].as_f64().unwrap();
    assert!((0.4..0.8).contains(&x0), "{m}");
    // An area that is no area is refused before anything moves.
    let o = cli()
        .args(["probe", "--port", &fake.path, "--area", "0,0,0,8", "-o"])
        .arg(tmp("never.json"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("empty"));
}

#[test]
fn copper_between_the_tracks_is_cleared_and_read_back() {
    let out = tmp("clear.nc");
    let o = cli()
        .arg("generate")
        .arg(write_board())
        .args([
            "--op",
            "pocket",
            "--target",
            "between",
            "--tool-diameter",
            "0.4",
            "--depth",
            "0.05",
            "--dialect",
            "grbl",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let gcode = std::fs::read_to_string(&out).unwrap();
    assert!(
        gcode
            .lines()
            .filter(|l| l.starts_with("G1") || l.starts_with("G2") || l.starts_with("G3"))
            .count()
            > 20
    );
    if let Some((errors, points)) = common::rs274_points(&gcode, "pcb", "clear") {
        assert_eq!(errors, 0);
        assert!(points.len() > 20);
    }
}

/// The board's edge, 1 mm around the copper, drawn with a 0.1 mm line.
const OUTLINE: &str = "G04 outline*\n%FSLAX46Y46*%\n%MOMM*%\n%TF.FileFunction,Profile,NP*%\n\
%ADD10C,0.1*%\nD10*\nX-1000000Y-1000000D02*\nX11000000Y-1000000D01*\nX11000000Y9000000D01*\n\
X-1000000Y9000000D01*\nX-1000000Y-1000000D01*\nM02*\n";

/// Holes through the two round pads on the left.
const DRILL: &str = "M48\nMETRIC\nT1C0.8\n%\nT1\nX2.0Y2.0\nX2.0Y6.0\nM30\n";

/// A board job: isolation on the copper layer, drilling from the drill file and the cut-out
/// on the outline Gerber, each operation on its own file of the one work.
fn board_job(drill_part: &str) -> PathBuf {
    write_board();
    write_whole(&tmp("board-Edge_Cuts.gbr"), OUTLINE);
    write_whole(&tmp("board.drl"), DRILL);
    let job = format!(
        r#"version = 2
title = "test board"

[part]
file = "board-F_Cu.gbr"
with = ["board-Edge_Cuts.gbr", "board.drl"]

[post]
dialect = "grbl"

[[tool]]
name = "30 deg V"
number = 1
shape = {{ type = "v", angle_deg = 30.0, tip_diameter_mm = 0.05 }}
diameter_mm = 3.175
flutes = 2
stickout_mm = 8.0
max_rpm = 30000
flute_length_mm = 3.0
feeds = {{ rpm = 20000, feed_per_tooth_mm = 0.005, plunge_mm_per_min = 30, ramp_mm_per_min = 60 }}

[[tool]]
name = "0.8 mm drill"
number = 2
shape = {{ type = "drill", point_angle_deg = 118.0 }}
diameter_mm = 0.8
flutes = 2
stickout_mm = 8.0
max_rpm = 30000
flute_length_mm = 5.0
feeds = {{ rpm = 20000, feed_per_tooth_mm = 0.005, plunge_mm_per_min = 60, ramp_mm_per_min = 60 }}

[[tool]]
name = "1 mm end mill"
number = 3
shape = {{ type = "flat" }}
diameter_mm = 1.0
flutes = 2
stickout_mm = 8.0
max_rpm = 30000
flute_length_mm = 4.0
feeds = {{ rpm = 20000, feed_per_tooth_mm = 0.01, plunge_mm_per_min = 60, ramp_mm_per_min = 100 }}

[[operation]]
type = "isolate"
name = "isolate"
tool = 1
heights = {{ final_depth_mm = 0.05 }}

[[operation]]
type = "drill"
name = "holes"
tool = 2
part = "{drill_part}"
heights = {{ final_depth_mm = 1.7 }}

[[operation]]
type = "contour"
name = "cut out"
tool = 3
part = "board-Edge_Cuts.gbr"
target = "outlines"
side = "outside"
stepdown_mm = 0.4
tabs = 4
tab_width_mm = 2.0
tab_height_mm = 0.4
heights = {{ final_depth_mm = 1.6 }}
"#
    );
    let p = tmp(&format!("board-{}.toml", drill_part.replace('.', "_")));
    std::fs::write(&p, job).unwrap();
    p
}

#[test]
fn a_board_job_cuts_each_layer_from_its_own_file() {
    let job = board_job("board.drl");
    let out = tmp("board.nc");
    let o = cli()
        .arg("generate")
        .arg("--job")
        .arg(&job)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let gcode = std::fs::read_to_string(&out).unwrap();
    // Three operations, three tools, each stopping for its change.
    for name in ["(op 1: isolate", "(op 2: holes", "(op 3: cut out"] {
        assert!(gcode.contains(name), "{name} missing:\n{gcode}");
    }
    let Some((errors, points)) = common::rs274_xyz(&gcode, "pcb", "board") else {
        return;
    };
    assert_eq!(errors, 0);
    // The drill goes through the board at the drill file's two holes, and nowhere else.
    let deep: Vec<&[f64; 3]> = points.iter().filter(|p| p[2] < -1.0).collect();
    assert!(!deep.is_empty());
    let near = |p: &[f64; 3], x: f64, y: f64| (p[0] - x).hypot(p[1] - y) < 1e-6;
    let drilled = deep
        .iter()
        .filter(|p| near(p, 2.0, 2.0) || near(p, 2.0, 6.0))
        .count();
    // The cut-out runs outside the 12 x 10 mm edge (the outline layer's drawn centre line),
    // the 1 mm mill's centre 0.5 mm from it (corners rounded), farther only on its leads.
    let cut_out: Vec<&&[f64; 3]> = deep
        .iter()
        .filter(|p| !(near(p, 2.0, 2.0) || near(p, 2.0, 6.0)))
        .collect();
    assert!(drilled > 0);
    assert!(cut_out.len() > 4);
    let mut on_edge = 0;
    for p in &cut_out {
        let dx = (-1.0 - p[0]).max(p[0] - 11.0).max(0.0);
        let dy = (-1.0 - p[1]).max(p[1] - 9.0).max(0.0);
        let off = dx.hypot(dy);
        assert!(
            off > 0.5 - 1e-4,
            "a cut-out move {off} mm from the edge at {p:?}"
        );
        if off < 0.5 + 1e-4 {
            on_edge += 1;
        }
    }
    assert!(
        on_edge * 2 > cut_out.len(),
        "{on_edge} of {}",
        cut_out.len()
    );
}

#[test]
fn an_operation_on_a_file_the_job_does_not_name_is_refused() {
    let job = board_job("other.drl");
    let o = cli()
        .arg("generate")
        .arg("--job")
        .arg(&job)
        .arg("-o")
        .arg(tmp("never.nc"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("operation 'holes'")
            && stderr.contains("other.drl")
            && stderr.contains("[part] with"),
        "{stderr}"
    );
}
