use super::*;
use crate::samples::{box_mesh, cylinder_mesh, merge_meshes};

#[test]
fn binary_with_solid_header_and_ascii_with_two_solids() {
    let m = box_mesh([0.0, 0.0, 0.0], [2.0, 1.0, 0.5]);
    let bin = m.to_binary_stl("solid trap: this is a binary file");
    let p = import_stl(&bin, &StlOptions::default()).unwrap();
    assert!(p.binary);
    assert_eq!(p.report.triangles, 12);
    assert_eq!(p.report.vertices, 8);
    assert!(p.report.watertight);
    assert_eq!(p.report.bodies, 1);
    assert_eq!(p.report.inconsistent_edges, 0);
    // Z = 0 at the top.
    let (lo, hi) = p.mesh.bounds().unwrap();
    assert!((hi[2]).abs() < 1e-12 && (lo[2] + 0.5).abs() < 1e-12);

    let two = merge_meshes(&[m.clone(), box_mesh([5.0, 0.0, 0.0], [6.0, 1.0, 1.0])]);
    let text = format!(
        "{}{}",
        box_mesh([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]).to_ascii_stl("A"),
        box_mesh([5.0, 0.0, 0.0], [6.0, 1.0, 1.0]).to_ascii_stl("b")
    );
    let p = import_stl(text.as_bytes(), &StlOptions::default()).unwrap();
    assert!(!p.binary);
    assert_eq!(p.solids, 2);
    assert_eq!(p.report.bodies, 2);
    assert_eq!(p.report.triangles, two.triangles.len());
}

#[test]
fn hostile_and_broken_files_are_errors_before_allocation() {
    let m = box_mesh([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]);
    let mut bin = m.to_binary_stl("x");
    // Claim four billion triangles.
    bin[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = import_stl(&bin, &StlOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("4294967295 triangles") && e.contains("truncated"),
        "{e}"
    );
    // Cut in the middle of a triangle.
    let bin = m.to_binary_stl("x");
    let e = import_stl(&bin[..bin.len() - 20], &StlOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("byte offset {}", bin.len() - 20)),
        "{e}"
    );
    // ASCII cut inside a facet, and a bad number.
    let text = m.to_ascii_stl("t");
    let cut = &text[..text.len() / 2];
    assert!(
        import_stl(cut.as_bytes(), &StlOptions::default())
            .unwrap_err()
            .to_string()
            .contains("truncated")
    );
    let bad = text.replacen("vertex 0 0 0", "vertex 0 nan 0", 1);
    let e = import_stl(bad.as_bytes(), &StlOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("line") && e.contains("'nan'"), "{e}");
    assert!(matches!(
        import_stl(b"", &StlOptions::default()),
        Err(StlError::Empty)
    ));
    assert!(import_stl(b"hello", &StlOptions::default()).is_err());
    // NaN in a binary file.
    let mut bin = m.to_binary_stl("x");
    bin[84 + 12..84 + 16].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(matches!(
        import_stl(&bin, &StlOptions::default()),
        Err(StlError::NotFinite { index: 0, .. })
    ));
}

#[test]
fn welding_degenerates_open_edges_and_units() {
    // A box whose corner is repeated with 1 nm noise welds closed; one zero-area triangle.
    let mut m = box_mesh([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]);
    let text = m
        .to_ascii_stl("t")
        .replacen("vertex 0 0 0", "vertex 0.000000001 0 0", 1);
    let p = import_stl(text.as_bytes(), &StlOptions::default()).unwrap();
    assert!(p.report.watertight, "{:?}", p.report);
    m.triangles.push([0, 1, 0]);
    m.triangles.remove(0);
    let p = import_stl(&m.to_binary_stl("x"), &StlOptions::default()).unwrap();
    assert_eq!(p.report.degenerate_removed, 1);
    assert_eq!(p.report.open_edges, 3);
    assert!(!p.report.watertight);
    assert!(p.warnings.iter().any(|w| w.contains("not watertight")));
    // A 0.229-unit part: probably metres.
    let small = box_mesh([0.0, 0.0, 0.0], [0.229, 0.16, 0.016]).to_binary_stl("x");
    let p = import_stl(&small, &StlOptions::default()).unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("--units m") && w.contains("229.000 mm")),
        "{:?}",
        p.warnings
    );
    let p = import_stl(
        &small,
        &StlOptions {
            units: Some(Units::M),
            ..StlOptions::default()
        },
    )
    .unwrap();
    let (lo, hi) = p.mesh.bounds().unwrap();
    assert!((hi[0] - lo[0] - 229.0).abs() < 1e-3);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn placement_options() {
    let m = cylinder_mesh(10.0, 20.0, 2.0, 3.0, 5.0, 32).to_binary_stl("c");
    let p = import_stl(
        &m,
        &StlOptions {
            origin: Origin::Centre,
            ..StlOptions::default()
        },
    )
    .unwrap();
    let (lo, hi) = p.mesh.bounds().unwrap();
    assert!((lo[0] + hi[0]).abs() < 1e-5 && (lo[1] + hi[1]).abs() < 1e-5 && hi[2].abs() < 1e-9);
    let p = import_stl(
        &m,
        &StlOptions {
            origin: Origin::Corner,
            ..StlOptions::default()
        },
    )
    .unwrap();
    let (lo, _) = p.mesh.bounds().unwrap();
    assert!(lo[0].abs() < 1e-9 && lo[1].abs() < 1e-9);
}
