use super::*;

fn dxf(entities: &str) -> String {
    format!("0\nSECTION\n2\nENTITIES\n{entities}0\nENDSEC\n0\nEOF\n")
}

fn import(text: &str) -> Drawing {
    import_dxf(text.as_bytes(), &DxfOptions::default()).unwrap()
}

fn start_end(p: &Pline) -> (V2, V2) {
    let a = p.at(0);
    let b = p.at(p.vertex_count() - 1);
    (V2::new(a.x, a.y), V2::new(b.x, b.y))
}

fn close(a: V2, b: V2) -> bool {
    a.dist(b) < 1e-9
}

#[test]
fn ocs_extrusion_minus_z_mirrors_arcs() {
    // OCS arc centre (10,0) r 1 from 0° to 90°; with N = (0,0,-1) the world arc runs from
    // (-11,0) to (-10,1) clockwise.
    let d = import(&dxf(
        "0\nARC\n5\n1A\n8\n0\n10\n10\n20\n0\n40\n1\n50\n0\n51\n90\n210\n0\n220\n0\n230\n-1\n",
    ));
    assert_eq!(d.open_chains.len(), 1);
    let p = &d.open_chains[0];
    let (s, e) = start_end(p);
    assert!(
        close(s, V2::new(-11.0, 0.0)) && close(e, V2::new(-10.0, 1.0)),
        "{s:?} {e:?}"
    );
    assert!(p.at(0).bulge < 0.0, "clockwise in the world");
    // A circle keeps its radius and moves to the mirrored centre.
    let d = import(&dxf("0\nCIRCLE\n10\n5\n20\n2\n40\n0.5\n230\n-1\n"));
    let b = d.bbox;
    assert!(close(b.min, V2::new(-5.5, 1.5)) && close(b.max, V2::new(-4.5, 2.5)));
}

#[test]
fn nested_inserts_with_mirror_rotation_and_base_point() {
    // Block B: a unit square at (1..2, 1..2) with base point (1,1). Block A inserts B at
    // (10,0) rotated 90°. The model inserts A at (0,0) with scale (-2, 2).
    let square =
        "0\nLWPOLYLINE\n90\n4\n70\n1\n10\n1\n20\n1\n10\n2\n20\n1\n10\n2\n20\n2\n10\n1\n20\n2\n";
    let text = format!(
        "0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nB\n10\n1\n20\n1\n{square}0\nENDBLK\n\
         0\nBLOCK\n2\nA\n10\n0\n20\n0\n0\nINSERT\n2\nB\n10\n10\n20\n0\n50\n90\n0\nENDBLK\n0\nENDSEC\n\
         0\nSECTION\n2\nENTITIES\n0\nINSERT\n2\nA\n10\n0\n20\n0\n41\n-2\n42\n2\n0\nENDSEC\n0\nEOF\n"
    );
    let d = import(&text);
    assert_eq!(d.regions.len(), 1);
    // B in A: square (0..1, 0..1) rotated 90° about the origin, at (10,0): x 9..10, y 0..1.
    // Scaled by (-2, 2): x -20..-18, y 0..2.
    let b = d.bbox;
    assert!(
        close(b.min, V2::new(-20.0, 0.0)) && close(b.max, V2::new(-18.0, 2.0)),
        "{b:?}"
    );
    assert!((d.regions[0].area() - 4.0).abs() < 1e-9);
}

#[test]
fn non_uniform_scale_turns_circles_into_fitted_ellipses() {
    let text = "0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nC\n10\n0\n20\n0\n0\nCIRCLE\n10\n0\n20\n0\n40\n1\n0\nENDBLK\n0\nENDSEC\n\
         0\nSECTION\n2\nENTITIES\n0\nINSERT\n2\nC\n10\n0\n20\n0\n41\n3\n42\n1\n0\nENDSEC\n0\nEOF\n";
    let d = import(text);
    assert_eq!(d.closed_loops.len(), 1);
    let area = d.regions[0].area();
    assert!((area - 3.0 * std::f64::consts::PI).abs() < 1e-3, "{area}");
    assert!(d.arc_segments() > 4);
    assert!(d.max_fit_error_mm <= 1e-4);
}

#[test]
fn polyline_with_vertices_and_bulges() {
    // A closed POLYLINE: half-disc of radius 1 (bulge 1 on the first segment).
    let d = import(&dxf(
        "0\nPOLYLINE\n66\n1\n70\n1\n0\nVERTEX\n10\n-1\n20\n0\n42\n-1\n0\nVERTEX\n10\n1\n20\n0\n0\nSEQEND\n",
    ));
    assert_eq!(d.closed_loops.len(), 1);
    let a = d.regions[0].area();
    assert!((a - std::f64::consts::FRAC_PI_2).abs() < 1e-12, "{a}");
}

#[test]
fn full_arc_is_a_circle() {
    let d = import(&dxf("0\nARC\n10\n0\n20\n0\n40\n2\n50\n30\n51\n30\n"));
    assert_eq!(d.closed_loops.len(), 1);
    assert!((d.regions[0].area() - 4.0 * std::f64::consts::PI).abs() < 1e-12);
}

#[test]
fn broken_spline_is_a_warning_naming_line_and_handle() {
    let d = import(&dxf("0\nLINE\n10\n0\n20\n0\n11\n1\n21\n0\n\
         0\nSPLINE\n5\n2F\n8\n0\n71\n3\n72\n7\n73\n3\n40\n0\n40\n0\n40\n0\n40\n0\n40\n1\n40\n1\n40\n1\n\
         10\n0\n20\n0\n10\n1\n20\n1\n10\n2\n20\n0\n"));
    let w = d.warnings.join("\n");
    assert!(
        w.contains(
            "SPLINE (handle 2F, line 15) has 3 control points but degree 3; needs at least 4"
        ),
        "{w}"
    );
    assert_eq!(d.open_chains.len(), 1, "the LINE is still there");
}

#[test]
fn fit_point_spline_is_fitted_with_arcs() {
    let d = import(&dxf(
        "0\nSPLINE\n71\n3\n74\n4\n11\n0\n21\n0\n11\n1\n21\n1\n11\n2\n21\n0\n11\n3\n21\n1\n",
    ));
    assert_eq!(d.open_chains.len(), 1);
    assert!(d.arc_segments() >= 2);
    let (s, e) = start_end(&d.open_chains[0]);
    assert!(close(s, V2::new(0.0, 0.0)) && close(e, V2::new(3.0, 1.0)));
}

#[test]
fn unsupported_entities_are_counted_not_fatal() {
    let d = import(&dxf(
        "0\nTEXT\n1\nhello\n0\nTEXT\n1\nworld\n0\nHATCH\n0\nCIRCLE\n10\n0\n20\n0\n40\n1\n",
    ));
    let w = d.warnings.join("\n");
    assert!(w.contains("ignored 2 TEXT entities"), "{w}");
    assert!(w.contains("ignored 1 HATCH entity"), "{w}");
    assert_eq!(d.closed_loops.len(), 1);
    assert_eq!(d.entity_counts.get("TEXT"), Some(&2));
}

#[test]
fn not_a_number_is_named() {
    let d = import(&dxf("0\nLINE\n5\nAB\n10\nnan\n20\n0\n11\n1\n21\n0\n"));
    let w = d.warnings.join("\n");
    assert!(
        w.contains("LINE (handle AB, line 5)") && w.contains("'nan'"),
        "{w}"
    );
    assert!(d.bbox.is_empty());
    assert!(w.contains("no machinable geometry"));
}

#[test]
fn gaps_below_the_limit_close_with_a_warning() {
    let text = dxf(
        "0\nLINE\n10\n0\n20\n0\n11\n1\n21\n0\n0\nLINE\n10\n1\n20\n0\n11\n1\n21\n1\n\
         0\nLINE\n10\n1\n20\n1\n11\n0\n21\n1\n0\nLINE\n10\n0\n20\n1\n11\n0\n21\n0.0005\n",
    );
    let d = import(&text);
    assert_eq!(d.closed_loops.len(), 1);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("closed a gap of 0.000500 mm"))
    );
    let strict = DxfOptions {
        close_gap_mm: 0.0,
        ..DxfOptions::default()
    };
    let d = import_dxf(text.as_bytes(), &strict).unwrap();
    assert_eq!(d.closed_loops.len(), 0);
    assert_eq!(d.open_chains.len(), 1);
}

#[test]
fn figure_eight_through_a_shared_vertex_gives_two_loops() {
    // Two triangles touching at the origin, drawn as one walk of loose lines.
    let d = import(&dxf(
        "0\nLINE\n10\n0\n20\n0\n11\n1\n21\n1\n0\nLINE\n10\n1\n20\n1\n11\n1\n21\n-1\n\
         0\nLINE\n10\n1\n20\n-1\n11\n0\n21\n0\n0\nLINE\n10\n0\n20\n0\n11\n-1\n21\n1\n\
         0\nLINE\n10\n-1\n20\n1\n11\n-1\n21\n-1\n0\nLINE\n10\n-1\n20\n-1\n11\n0\n21\n0\n",
    ));
    assert_eq!(d.closed_loops.len(), 2, "{:?}", d.warnings);
    assert_eq!(d.regions.len(), 2);
    for r in &d.regions {
        assert!((r.area() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn self_crossing_loop_is_reported() {
    let d = import(&dxf(
        "0\nLWPOLYLINE\n90\n4\n70\n1\n10\n0\n20\n0\n10\n2\n20\n2\n10\n2\n20\n0\n10\n0\n20\n1\n",
    ));
    assert!(d.warnings.iter().any(|w| w.contains("cross themselves")));
}

#[test]
fn whole_file_errors_are_clear() {
    let e = |b: &[u8]| {
        import_dxf(b, &DxfOptions::default())
            .unwrap_err()
            .to_string()
    };
    assert!(e(b"").contains("empty"));
    assert!(e(b"AutoCAD Binary DXF\r\n\x1a\x00rest").contains("binary DXF"));
    assert!(e(b"hello world\nthis is not a dxf\n").contains("line 1"));
    assert!(e(b"0\nSECTION\n2\nENTITIES\n0\nLINE\n10\n").contains("truncated"));
    assert!(e(b"999\ncomment\n").contains("no SECTION"));
    let bad_gap = DxfOptions {
        close_gap_mm: -1.0,
        ..DxfOptions::default()
    };
    assert!(
        import_dxf(dxf("").as_bytes(), &bad_gap)
            .unwrap_err()
            .to_string()
            .contains("close gap")
    );
}

#[test]
fn self_inserting_block_is_refused_not_looped() {
    let text = "0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nX\n0\nINSERT\n2\nX\n0\nCIRCLE\n10\n0\n20\n0\n40\n1\n0\nENDBLK\n0\nENDSEC\n\
         0\nSECTION\n2\nENTITIES\n0\nINSERT\n2\nX\n0\nINSERT\n2\nMISSING\n0\nENDSEC\n0\nEOF\n";
    let d = import(text);
    let w = d.warnings.join("\n");
    assert!(w.contains("inside itself"), "{w}");
    assert!(
        w.contains("'MISSING', which the file does not define"),
        "{w}"
    );
    assert_eq!(d.closed_loops.len(), 1);
}

#[test]
fn example_part_is_a_clean_micro_drawing() {
    let d = import(crate::EXAMPLE_DXF);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.units, Units::Mm);
    assert!(d.bbox.extent() > 5.0 && d.bbox.extent() < 10.0);
    assert_eq!(d.closed_loops.len(), 11);
    assert!(d.open_chains.is_empty());
    // The plate with its holes, and the boss inside the barrel recess as a region of its own.
    // 5 holes, barrel recess, slot, rectangle and cam recess.
    assert_eq!(d.regions[0].islands.len(), 9);
    assert_eq!(d.regions.len(), 2);
}
