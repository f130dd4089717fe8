//! Pockets and contours on the corpus drawings: no gouge, valid G-code.

mod common;

use common::{dist_to_region_boundary, rs274, sample_seg, segments};
use swarf_core::geometry::Tolerance;
use swarf_core::import::{DxfOptions, import_dxf_file};
use swarf_core::ops::contour::{ContourParams, contour};
use swarf_core::ops::pocket::{PocketParams, pocket};
use swarf_core::ops::{Heights, Stepover};
use swarf_core::post::{Dialect, PostOptions, Section, write_program};
use swarf_core::tool::Tool;

#[test]
fn corpus_pockets_do_not_gouge_and_read_back() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let tol = Tolerance::default();
    for name in [
        "openscad_polygon-many-holes.dxf",
        "d2g_pumpenteile.dxf",
        "trimesh_apu-mount.DXF",
        "trimesh_125_cycloidal.DXF",
        "d2g_spline_ellipse_test.dxf",
    ] {
        let d = import_dxf_file(&dir.join(name), &DxfOptions::default()).unwrap();
        let size = d.bbox.extent();
        let mut tool = Tool::micro_flat((size / 60.0).clamp(0.05, 6.0));
        tool.feeds.feed_per_tooth_mm = tool.feeds.feed_per_tooth_mm.min(tool.diameter_mm * 0.1);
        let heights = Heights {
            final_depth_mm: size * 0.002,
            clearance_mm: size * 0.05,
            safe_mm: size * 0.01,
            start_depth_mm: 0.0,
        };
        let p = PocketParams {
            stepover: Stepover::Fraction(0.5),
            cut: swarf_core::ops::CutParams {
                heights,
                ..PocketParams::default().cut
            },
            ..PocketParams::default()
        };
        let res = pocket(&d.regions, &tool, &p, &tol, &swarf_core::ops::Cancel::NEVER).unwrap();
        let r = tool.radius_mm();
        // Region by region (drawings may hold overlapping parts), every cutter position of the
        // region's pocket keeps the tool radius from its walls.
        for rg in &d.regions {
            let one = pocket(
                std::slice::from_ref(rg),
                &tool,
                &p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
            .unwrap();
            for s in segments(&one.toolpath)
                .iter()
                .filter(|s| !s.rapid && (s.z0 < 0.0 || s.z1 < 0.0))
            {
                for q in sample_seg(s, r * 0.5) {
                    let p = q.xy();
                    assert!(rg.contains(p), "{name}: centre {p:?} outside its region");
                    let dist = dist_to_region_boundary(rg, p);
                    assert!(
                        dist >= r - tol.path_mm,
                        "{name}: gouge at {p:?}: {dist} < {r}"
                    );
                }
            }
        }
        let c = ContourParams {
            cut: swarf_core::ops::CutParams {
                heights,
                ..ContourParams::default().cut
            },
            ..ContourParams::default()
        };
        let outlines: Vec<_> =
            swarf_core::job::target_regions(&d, swarf_core::job::Target::Outlines)
                .into_iter()
                .map(|rg| rg.outer)
                .collect();
        let cres = contour(
            &outlines,
            &[],
            &tool,
            &c,
            &tol,
            &swarf_core::ops::Cancel::NEVER,
        )
        .unwrap();
        let prog = write_program(
            &[
                Section {
                    name: "pocket",
                    tool: &tool,
                    toolpath: &res.toolpath,
                    coolant: None,
                    place: None,
                },
                Section {
                    name: "contour",
                    tool: &tool,
                    toolpath: &cres.toolpath,
                    coolant: None,
                    place: None,
                },
            ],
            &PostOptions {
                dialect: Dialect::LinuxCnc,
                ..PostOptions::default()
            },
            &tol,
        )
        .unwrap();
        // Our own programs verify clean against the drawing, read back from their G-code.
        let loops: Vec<_> = d.closed_loops.clone();
        let back =
            swarf_core::verify::read_gcode(&prog.text, swarf_core::toolpath::P3::default(), &tol)
                .unwrap();
        let g = swarf_core::verify::check_gouges(
            &back.toolpath,
            Some(&back.line_of_move),
            swarf_core::verify::PartRef::Drawing(&loops),
            &tool,
            &tol,
        );
        // The pump plates overlap one another on their sheet, so one plate's pocket crosses its
        // neighbour's lines (checked region by region above instead); the others verify clean.
        if name != "d2g_pumpenteile.dxf" {
            assert!(
                g.is_empty(),
                "{name}: {} gouges, first at line {}",
                g.len(),
                g[0].line
            );
        }
        let Some((report, _)) = rs274(&prog.text, "linuxcnc", name) else {
            continue;
        };
        assert_eq!(report["ok"], true, "{name}: {report}");
        assert_eq!(report["zero_len"], 0, "{name}");
        assert!(
            report["max_arc_r_mismatch"].as_f64().unwrap() <= 0.0005,
            "{name}"
        );
    }
}
