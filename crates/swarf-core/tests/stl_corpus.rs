//! Every corpus STL imports or fails clearly; the manifest's facts hold; z-level programs on a
//! corpus mesh are valid G-code.

mod common;

use swarf_core::geometry::Tolerance;
use swarf_core::import::{StlOptions, StlPart, Units, import_stl_file};
use swarf_core::ops::zlevel::{ZLevelParams, zlevel_contour, zlevel_rough};
use swarf_core::ops::{Heights, Stepover};
use swarf_core::post::{PostOptions, Section, write_program};
use swarf_core::slice::{Slicer, slice_loops};
use swarf_core::tool::Tool;

fn load(name: &str) -> Option<StlPart> {
    let dir = common::corpus_dir()?;
    Some(
        import_stl_file(&dir.join(name), &StlOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}

#[test]
fn every_corpus_stl_imports_or_fails_clearly() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("stl"))
        {
            continue;
        }
        n += 1;
        match std::panic::catch_unwind(|| import_stl_file(&path, &StlOptions::default())) {
            Err(p) => panic!("{} panicked: {p:?}", path.display()),
            Ok(Err(e)) => assert!(e.to_string().starts_with("stl:"), "{e}"),
            Ok(Ok(p)) => {
                assert!(p.report.triangles > 0);
                // Slicing any of them never panics and gives loops or reported open chains.
                let (lo, hi) = p.mesh.bounds().unwrap();
                let s = Slicer::new(&p.mesh);
                let _ = slice_loops(&s, 0.5 * (lo[2] + hi[2]), &Tolerance::default());
            }
        }
    }
    assert!(n >= 7, "expected the corpus STL files, found {n}");
}

#[test]
fn manifest_facts() {
    let Some(p) = load("trimesh_octagonal_pocket.stl") else {
        return;
    };
    assert!(p.binary, "binary file whose header starts with 'solid'");
    assert!(p.report.watertight && p.report.bodies == 1);
    assert!(
        p.warnings.iter().any(|w| w.contains("--units m")),
        "{:?}",
        p.warnings
    );
    let dir = common::corpus_dir().unwrap();
    let m = import_stl_file(
        &dir.join("trimesh_octagonal_pocket.stl"),
        &StlOptions {
            units: Some(Units::M),
            ..StlOptions::default()
        },
    )
    .unwrap();
    let (lo, hi) = m.mesh.bounds().unwrap();
    assert!((hi[0] - lo[0] - 228.6).abs() < 0.01);

    let p = load("ocl_ktoolcav.stl").unwrap();
    assert!(p.binary && p.report.watertight && p.report.triangles == 4090);

    let p = load("ocl_mount_rush.stl").unwrap();
    assert!(!p.report.watertight);
    assert!(p.report.nonmanifold_edges > 1000 && p.report.open_edges > 500);
    assert!(p.report.inconsistent_edges > 0);
    let e = zlevel_rough(
        &p.mesh,
        &Tool::micro_flat(1.0),
        &ZLevelParams::default(),
        &Tolerance::default(),
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not a closed solid"), "{e}");

    let p = load("ofm_lens_spacer_picamera_2_pilens_LS65.stl").unwrap();
    assert!(!p.binary && p.report.watertight, "{:?}", p.report);
    assert!(p.report.degenerate_removed + p.report.zero_area_kept >= 12);

    let p = load("trimesh_two_objects_mixed_case_names.stl").unwrap();
    assert_eq!((p.solids, p.report.bodies, p.report.triangles), (2, 2, 24));

    let p = load("trimesh_soup.stl").unwrap();
    assert_eq!(p.report.bodies, 100);
    assert_eq!(p.report.open_edges, 300);

    let p = load("trimesh_counter.unitsmm.STL").unwrap();
    assert!(p.report.watertight && p.report.bodies == 6 && p.report.triangles == 83_750);
}

#[test]
fn zlevel_programs_on_a_corpus_mold_read_back() {
    let Some(p) = load("ocl_ktoolcav.stl") else {
        return;
    };
    // Flutes long enough for the 3.3 mm deep mold.
    let tool = Tool {
        flute_length_mm: 4.0,
        stickout_mm: 6.0,
        ..Tool::micro_flat(0.5)
    };
    let tol = Tolerance::default();
    let params = ZLevelParams {
        stepover: Stepover::Fraction(0.4),
        cut: swarf_core::ops::CutParams {
            heights: Heights {
                final_depth_mm: 3.3125,
                ..Heights::default()
            },
            stepdown_mm: Some(0.4),
            ..ZLevelParams::default().cut
        },
        ..ZLevelParams::default()
    };
    let rough = zlevel_rough(
        &p.mesh,
        &tool,
        &params,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    let contour = zlevel_contour(
        &p.mesh,
        &tool,
        &params,
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    let prog = write_program(
        &[
            Section {
                name: "rough",
                tool: &tool,
                toolpath: &rough.toolpath,
                coolant: None,
                place: None,
            },
            Section {
                name: "waterline",
                tool: &tool,
                toolpath: &contour.toolpath,
                coolant: None,
                place: None,
            },
        ],
        &PostOptions::default(),
        &tol,
    )
    .unwrap();
    let Some((report, _)) = common::rs274(&prog.text, "linuxcnc", "ktoolcav") else {
        return;
    };
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["zero_len"], 0);
    assert!(report["max_arc_r_mismatch"].as_f64().unwrap() <= 0.0005);
}
