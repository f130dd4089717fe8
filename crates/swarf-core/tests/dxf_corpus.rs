//! Every corpus drawing imports or fails with a clear error; the ones whose content the
//! manifest describes give the expected loops, regions and islands, and arcs stay arcs.

mod common;

use std::path::Path;

use cavalier_contours::polyline::PlineSource;
use swarf_core::geometry::{Pline, Tolerance, arc_count};
use swarf_core::import::{Drawing, DxfOptions, Units, import_dxf_file};

fn load(dir: &Path, name: &str) -> Drawing {
    import_dxf_file(&dir.join(name), &DxfOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn lines(p: &Pline) -> usize {
    p.segment_count() - arc_count(p)
}

fn has_warning(d: &Drawing, needle: &str) -> bool {
    d.warnings.iter().any(|w| w.contains(needle))
}

#[test]
fn every_corpus_dxf_imports_or_fails_clearly() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if ext.as_deref() != Some("dxf") {
            continue;
        }
        n += 1;
        let result = std::panic::catch_unwind(|| import_dxf_file(&path, &DxfOptions::default()));
        match result {
            Err(panic) => panic!("{} panicked: {panic:?}", path.display()),
            Ok(Err(e)) => {
                let msg = e.to_string();
                assert!(msg.starts_with("dxf:") && msg.len() > 20, "{msg}");
            }
            Ok(Ok(d)) => {
                let tol = Tolerance::default();
                assert!(
                    d.max_fit_error_mm <= tol.path_mm * 1.0001,
                    "{}",
                    path.display()
                );
                for r in &d.regions {
                    assert!(r.outer.area() > 0.0, "outer loops are counter-clockwise");
                    assert!(
                        r.islands.iter().all(|i| i.area() < 0.0),
                        "islands clockwise"
                    );
                }
                for l in &d.closed_loops {
                    assert!(l.area().abs() > 0.0);
                }
                for w in &d.warnings {
                    assert!(!w.is_empty());
                }
            }
        }
    }
    assert!(n >= 15, "expected the corpus DXF files, found {n}");
}

#[test]
fn circles_and_arcs_stay_arcs() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    // 8 CIRCLEs: 8 loops of two arcs each, no lines.
    let d = load(&dir, "d2g_fc_mounting_R2013.dxf");
    assert_eq!(d.closed_loops.len(), 8);
    for l in &d.closed_loops {
        assert_eq!(arc_count(l), 2);
        assert_eq!(lines(l), 0);
    }
    // Line-and-circle plate: 21 holes are circles made of arcs only.
    let d = load(&dir, "openscad_polygon-many-holes.dxf");
    assert_eq!(d.closed_loops.len(), 23);
    let circles = d
        .closed_loops
        .iter()
        .filter(|l| lines(l) == 0 && arc_count(l) == 2)
        .count();
    assert_eq!(circles, 21);
}

#[test]
fn manifest_described_drawings() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    // Every LINE is present twice: the copies are removed and the outline closes.
    let d = load(&dir, "d2g_1997_simplified_doppelte_linien.dxf");
    assert!(
        has_warning(&d, "454 duplicated segment"),
        "{:?}",
        d.warnings
    );
    assert!(d.open_chains.is_empty());
    assert!(!d.closed_loops.is_empty());

    // Five lines with an overlap instead of a closing corner: one open chain, reported.
    let d = load(&dir, "trimesh_broken_loop.dxf");
    assert_eq!(d.closed_loops.len(), 0);
    assert_eq!(d.open_chains.len(), 1);
    assert!(has_warning(&d, "open chain"));

    // LINE + ARC + LWPOLYLINE chained end to end into one region, inch header.
    let d = load(&dir, "trimesh_buffer_regions_R2010.dxf");
    assert_eq!(d.units, Units::Inch);
    assert_eq!(d.closed_loops.len(), 1);
    assert_eq!(d.regions.len(), 1);
    assert!(arc_count(&d.closed_loops[0]) >= 1);
    assert!((d.bbox.width() - 76.2).abs() < 1e-9 && (d.bbox.height() - 127.0).abs() < 1e-9);

    // Inch header on mm data: warned, with the fix.
    let d = load(&dir, "d2g_fc_mounting_R2013.dxf");
    assert!(has_warning(&d, "--units mm"), "{:?}", d.warnings);

    // Inch header on µm data (a 38 mm wafer field): warned; with the override it is 38 mm.
    let d = load(&dir, "vivarose_Horowitz_microfluidic_mask_2015-07-14.dxf");
    assert!(has_warning(&d, "--units um"), "{:?}", d.warnings);
    // Its 25 TEXT labels are drawn in the built-in outline font, the substitution named.
    assert_eq!(d.entity_counts.get("TEXT"), Some(&25));
    assert!(
        has_warning(&d, "uses font 'arial.ttf', which Swarf does not have"),
        "{:?}",
        d.warnings
    );
    let opts = DxfOptions {
        units: Some(Units::Um),
        ..DxfOptions::default()
    };
    let d = import_dxf_file(
        &dir.join("vivarose_Horowitz_microfluidic_mask_2015-07-14.dxf"),
        &opts,
    )
    .unwrap();
    assert!((d.bbox.width() - 38.0).abs() < 0.01, "{}", d.bbox.width());
    assert!(!has_warning(&d, "implausible"));

    // 33 closed LWPOLYLINEs, 5 CIRCLEs and 2 full ELLIPSEs: 40 loops.
    let d = load(&dir, "ezdxf_forms_R2018.dxf");
    assert_eq!(d.closed_loops.len(), 40);
    assert!(d.open_chains.is_empty());

    // Splines and ellipses become arcs within the path tolerance: 3 closed splines and two
    // full ellipses close; nothing is lines except the polyline's own.
    let d = load(&dir, "d2g_spline_ellipse_test.dxf");
    assert_eq!(d.closed_loops.len(), 5);
    assert!(d.max_fit_error_mm <= 1e-4);
    assert!(d.arc_segments() > 100);

    // Headerless Inkscape export with SPLINEs only: loads.
    let d = load(&dir, "d2g_Inkscape_export_kreis_splines.dxf");
    assert!(d.version.is_none());
    assert!(!d.closed_loops.is_empty());

    // Blocks nested three deep with rotations: every loop has area (no figure eights).
    let d = load(&dir, "d2g_Bogen_Ellipsen_Polylinien_Block.dxf");
    assert!(d.closed_loops.len() >= 30);
    assert!(!has_warning(&d, "has no area"));
    assert!(has_warning(&d, "implausible"));

    // Lettering placed by scaled INSERTs stays inside the 450 x 125 panel.
    let d = load(&dir, "d2g_Frontplatte_Texte_aufgebrochen.dxf");
    assert!((d.bbox.width() - 450.0).abs() < 1e-6 && (d.bbox.height() - 125.0).abs() < 1e-6);
    assert!(d.closed_loops.len() > 10);

    // Holes are islands of the pump plates; layer names with colons are fine.
    let d = load(&dir, "d2g_pumpenteile.dxf");
    assert!(d.regions.iter().any(|r| r.islands.len() >= 2));
    assert!(d.layers.iter().any(|l| l.name.starts_with("MILL: 1")));

    // 7464 splines: all fitted with arcs, far more arcs than lines.
    let d = load(&dir, "d2g_temple_noir_aplats_negatif.dxf");
    assert!(d.closed_loops.len() > 500);
    assert!(d.arc_segments() > 10 * 211);
    assert!(has_warning(&d, "more LWPOLYLINEs with the same problem"));

    // The pinion outline of 1539 tiny lines is one loop.
    let d = load(&dir, "gfsmith_gear7_pinion.dxf");
    assert_eq!(d.closed_loops.len(), 1);
    assert_eq!(d.regions.len(), 1);
}

#[test]
fn layer_choice() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let path = dir.join("d2g_pumpenteile.dxf");
    let all = import_dxf_file(&path, &DxfOptions::default()).unwrap();
    let layer = all
        .layers
        .iter()
        .find(|l| l.name.starts_with("MILL: 1"))
        .unwrap()
        .name
        .clone();
    let opts = DxfOptions {
        layers: Some(vec![layer.clone()]),
        ..DxfOptions::default()
    };
    let one = import_dxf_file(&path, &opts).unwrap();
    assert!(one.closed_loops.len() < all.closed_loops.len());
    assert!(!one.closed_loops.is_empty());
    assert!(one.layers.iter().all(|l| l.imported == (l.name == layer)));
    let opts = DxfOptions {
        layers: Some(vec!["NOPE".into()]),
        ..DxfOptions::default()
    };
    let err = import_dxf_file(&path, &opts).unwrap_err().to_string();
    assert!(err.contains("'NOPE'") && err.contains("MILL: 1"), "{err}");
}
