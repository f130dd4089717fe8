//! PCB boards from the corpus (issue 22): every copper layer reads, isolates without a cut
//! into copper (the drawing gouge check at the cut's width at depth), and its passes separate
//! the copper areas the tool fits between.

use swarf_core::geometry::{Pline, Tolerance};
use swarf_core::import::read_gerber;
use swarf_core::ops::Cancel;
use swarf_core::ops::isolate::{IsolateParams, isolate};
use swarf_core::tool::{Tool, ToolShape};
use swarf_core::toolpath::Motion;

fn corpus(name: &str) -> Option<Vec<u8>> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/files")
        .join(name);
    let b = std::fs::read(&p).ok();
    if b.is_none() {
        eprintln!("\n*** SKIPPED: corpus file {} not found ***\n", p.display());
    }
    b
}

fn vbit() -> Tool {
    let mut t = Tool::micro_flat(3.175);
    t.name = "30° V, 0.05 tip".into();
    t.shape = ToolShape::V {
        angle_deg: 30.0,
        tip_diameter_mm: 0.05,
    };
    t.flute_length_mm = 5.0;
    t.stickout_mm = 12.0;
    t
}

#[test]
fn corpus_boards_isolate_without_touching_copper() {
    let tol = Tolerance::default();
    let tool = vbit();
    let p = IsolateParams {
        passes: 1,
        ..IsolateParams::default()
    };
    for name in [
        "flatcam_STM32F4-spindle.cmp",
        "flatcam_detector_copper_bottom.gbr",
        "flatcam_detector_copper_top.gbr",
        "flatcam_gerber1.gbr",
        "flatcam_simple1.gbr",
    ] {
        let Some(bytes) = corpus(name) else { continue };
        let g = read_gerber(&bytes, Some(name), None, &tol).unwrap();
        assert!(
            g.warnings.iter().all(|w| !w.contains("did not close")),
            "{name}: {:?}",
            g.warnings
        );
        let out = isolate(&g.regions, &tool, &p, &tol, &Cancel::default()).unwrap();
        let loops: Vec<Pline> = g
            .regions
            .iter()
            .flat_map(|r| std::iter::once(r.outer.clone()).chain(r.islands.iter().cloned()))
            .collect();
        let gouges =
            swarf_core::verify::gouges_against_drawing(&out.toolpath, None, &loops, &tool, &tol);
        assert!(
            gouges.is_empty(),
            "{name}: {} gouges, first {:?}",
            gouges.len(),
            gouges.first()
        );
        let cuts = out
            .toolpath
            .moves
            .iter()
            .filter(|m| !matches!(m.motion, Motion::Rapid) && m.to.z < 0.0)
            .count();
        assert!(cuts > 10, "{name}");
        assert!(
            out.warnings.iter().all(|w| !w.contains("did not close")),
            "{name}: {:?}",
            out.warnings
        );
    }
}
