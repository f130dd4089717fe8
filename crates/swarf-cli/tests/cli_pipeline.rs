//! One pipeline: `generate FILE --op X <flags>` and `generate --job` of the equivalent job file
//! write byte-identical G-code, for every kind of operation.

mod common;

use std::path::PathBuf;

use common::{assets, cli};

fn tmp(name: &str) -> PathBuf {
    common::tmp_in("pipe", name)
}

/// The tool `--tool-diameter 0.5` makes, written out as a job's `[[tool]]`.
const TOOL: &str = r#"
[[tool]]
name = "0.5 mm flat end mill"
number = 1
shape = { type = "flat" }
diameter_mm = 0.5
flutes = 2
flute_length_mm = 1.5
stickout_mm = 3.5
cutting_edge_radius_um = 2.0
max_rpm = 60000
feeds = { rpm = 40000, feed_per_tooth_mm = 0.005, plunge_mm_per_min = 50, ramp_mm_per_min = 100 }
"#;

/// The V tool `--tool-diameter 0.5 --op vcarve --v-angle 60 --tip-diameter 0.02` makes: the
/// flat end mill's table with its name and shape.
fn tool_v() -> String {
    TOOL.replace("0.5 mm flat end mill", "0.5 mm V cutter")
        .replace(
            "shape = { type = \"flat\" }",
            "shape = { type = \"v\", angle_deg = 60, tip_diameter_mm = 0.02 }",
        )
}

fn generate(args: &[&str], out: &PathBuf) -> String {
    let o = cli()
        .arg("generate")
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn flags_and_the_equivalent_job_write_the_same_program_for_every_operation() {
    use swarf_core::samples::{box_mesh, merge_meshes};
    let plate = assets("example_plate.dxf");
    let boss = tmp("boss.stl");
    let mesh = merge_meshes(&[
        box_mesh([0.0, 0.0, -0.5], [4.0, 4.0, -0.3]),
        box_mesh([1.0, 1.0, -0.3], [3.0, 3.0, 0.0]),
    ]);
    std::fs::write(&boss, mesh.to_binary_stl("boss")).unwrap();
    let boss = boss.display().to_string();
    // (part, flags, the operation's table in the job)
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            &plate,
            vec!["--op", "pocket", "--depth", "0.1", "--stepdown", "0.05"],
            "type = \"pocket\"\ntarget = \"regions\"\nstepdown_mm = 0.05\nheights = { final_depth_mm = 0.1 }",
        ),
        (
            &plate,
            vec![
                "--op",
                "pocket",
                "--pattern",
                "zigzag",
                "--zigzag-angle",
                "30",
                "--depth",
                "0.1",
                "--stepover",
                "25%",
            ],
            "type = \"pocket\"\npattern = \"zigzag\"\nzigzag_angle_deg = 30.0\nstepover = 0.25\nheights = { final_depth_mm = 0.1 }",
        ),
        (
            &plate,
            vec![
                "--op",
                "adaptive",
                "--depth",
                "0.1",
                "--max-engagement-deg",
                "50",
            ],
            "type = \"adaptive\"\nmax_engagement_deg = 50.0\nheights = { final_depth_mm = 0.1 }",
        ),
        (
            &plate,
            vec![
                "--op", "contour", "--side", "outside", "--depth", "0.3", "--tabs", "2",
            ],
            "type = \"contour\"\ntarget = \"outlines\"\nside = \"outside\"\nlead_radius_mm = 0.25\ntabs = 2\nheights = { final_depth_mm = 0.3 }",
        ),
        (
            &plate,
            vec!["--op", "contour", "--side", "inside", "--depth", "0.1"],
            "type = \"contour\"\ntarget = \"holes\"\nside = \"inside\"\nlead_radius_mm = 0.25\nheights = { final_depth_mm = 0.1 }",
        ),
        (
            &plate,
            vec!["--op", "contour", "--side", "on", "--depth", "0.05"],
            "type = \"contour\"\ntarget = \"loops\"\nside = \"on\"\nopen_chains = true\nlead_radius_mm = 0.25\nheights = { final_depth_mm = 0.05 }",
        ),
        (
            &boss,
            vec![
                "--op",
                "zlevel-rough",
                "--stepdown",
                "0.1",
                "--allowance",
                "0.01",
            ],
            "type = \"zlevel-rough\"\nstepdown_mm = 0.1\nallowance_radial_mm = 0.01\nheights = { final_depth_mm = 0.5 }",
        ),
        (
            &boss,
            // A stepped block: its waterlines pass the export check (no rapid into the stock
            // beside the lower wall) without --force.
            vec!["--op", "zlevel-contour", "--stepdown", "0.1"],
            "type = \"zlevel-contour\"\nstepdown_mm = 0.1\nheights = { final_depth_mm = 0.5 }",
        ),
        (
            &plate,
            // The tool as the job's (a flat end mill), pecking every hole.
            vec![
                "--op", "drill", "--tool", "flat", "--depth", "0.3", "--peck", "0.1",
            ],
            "type = \"drill\"\npeck_mm = 0.1\nheights = { final_depth_mm = 0.3, safe_mm = 0.2 }",
        ),
        (
            &plate,
            vec![
                "--op",
                "helical-bore",
                "--depth",
                "0.2",
                "--diameter-min",
                "0.7",
                "--finish-pass",
                "--allowance",
                "0.01",
            ],
            "type = \"helical-bore\"\ndiameter_min_mm = 0.7\nfinish_pass = true\nallowance_radial_mm = 0.01\nheights = { final_depth_mm = 0.2 }",
        ),
        (
            &plate,
            // Isolation passes around the plate's areas, as around a board's copper.
            vec![
                "--op",
                "isolate",
                "--tool",
                "flat",
                "--depth",
                "0.05",
                "--passes",
                "3",
                "--overlap",
                "25%",
                "--entry",
                "ramp",
            ],
            "type = \"isolate\"\npasses = 3\noverlap_pct = 25.0\nheights = { final_depth_mm = 0.05 }",
        ),
        (
            &plate,
            // Engraved inside the plate's loops in two levels, ramping along the lines.
            vec![
                "--op",
                "engrave",
                "--engrave-side",
                "left",
                "--depth",
                "0.05",
                "--stepdown",
                "0.025",
            ],
            "type = \"engrave\"\nside = \"left\"\nstepdown_mm = 0.025\nheights = { final_depth_mm = 0.05 }",
        ),
        (
            &plate,
            // V-carved with a 60° V (the flags' tool below), capped at 0.1 mm in two levels.
            vec![
                "--op",
                "vcarve",
                "--v-angle",
                "60",
                "--tip-diameter",
                "0.02",
                "--depth",
                "0.1",
                "--stepdown",
                "0.05",
            ],
            "type = \"vcarve\"\nstepdown_mm = 0.05\nheights = { final_depth_mm = 0.1 }",
        ),
        (
            &plate,
            // A serial number engraved along an arc in the single-stroke font.
            vec![
                "--op",
                "text",
                "--text",
                "SN {n:04}",
                "--counter",
                "17",
                "--text-at",
                "4,3",
                "--text-height",
                "0.8",
                "--text-arc-radius",
                "3",
                "--text-align",
                "center",
                "--depth",
                "0.03",
            ],
            "type = \"text\"\ntext = \"SN {n:04}\"\ncounter = 17\nx_mm = 4\ny_mm = 3\nstyle = { height_mm = 0.8, arc_radius_mm = 3, halign = \"center\" }\nheights = { final_depth_mm = 0.03 }",
        ),
        (
            &boss,
            // 3D finishing across the stepped block at 45°, leaving 0.01 mm on the walls.
            vec![
                "--op",
                "parallel",
                "--stepover",
                "0.1mm",
                "--angle",
                "45",
                "--allowance",
                "0.01",
            ],
            "type = \"parallel\"\nstepover_mm = 0.1\nangle_deg = 45.0\nallowance_radial_mm = 0.01\nheights = { final_depth_mm = 0.5 }",
        ),
        (
            &boss,
            // Waterlines round the stepped block, 0.1 mm apart, leaving 0.005 mm on walls.
            vec![
                "--op",
                "waterline",
                "--stepdown",
                "0.1",
                "--allowance",
                "0.005",
            ],
            "type = \"waterline\"\nstepdown_mm = 0.1\nallowance_radial_mm = 0.005\nheights = { final_depth_mm = 0.5 }",
        ),
        (
            &boss,
            // Steep and shallow round the stepped block: waterlines on its walls, parallel
            // passes on its tops and floor, at 60° to the X axis.
            vec![
                "--op",
                "steep-shallow",
                "--stepdown",
                "0.1",
                "--stepover",
                "0.1mm",
                "--angle",
                "60",
                "--threshold-angle",
                "50",
            ],
            "type = \"steep-shallow\"\nstepdown_mm = 0.1\nstepover_mm = 0.1\nangle_deg = 60.0\nthreshold_deg = 50.0\nheights = { final_depth_mm = 0.5 }",
        ),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for (i, (part, flags, op)) in cases.iter().enumerate() {
        let kind = flags[1];
        kinds.insert(kind);
        let mut args = vec![*part, "--tool-diameter", "0.5"];
        args.extend(flags);
        let from_flags = generate(&args, &tmp(&format!("flags{i}.ngc")));
        let tool = if kind == "vcarve" {
            tool_v()
        } else {
            TOOL.to_string()
        };
        let job = format!(
            "version = 2\ntitle = \"{kind} of {part}\"\n[part]\nfile = \"{part}\"\n{tool}\n\
             [[operation]]\nname = \"{kind}\"\ntool = 1\n{op}\n"
        );
        let job_path = tmp(&format!("job{i}.toml"));
        std::fs::write(&job_path, job).unwrap();
        let job_args = vec!["--job", job_path.to_str().unwrap()];
        let from_job = generate(&job_args, &tmp(&format!("job{i}.ngc")));
        assert!(from_flags.lines().count() > 20, "{kind}: {from_flags}");
        if from_flags != from_job {
            let first = from_flags
                .lines()
                .zip(from_job.lines())
                .position(|(a, b)| a != b);
            panic!(
                "{kind} ({flags:?}): the programs differ at line {first:?}:\n{:?}\n{:?}",
                first.and_then(|k| from_flags.lines().nth(k)),
                first.and_then(|k| from_job.lines().nth(k)),
            );
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        swarf_core::ops::OP_TYPES
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>(),
        "every operation kind is compared"
    );
}
