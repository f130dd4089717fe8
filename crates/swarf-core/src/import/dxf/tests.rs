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
        "0\nHATCH\n0\nHATCH\n0\nTEXT\n1\nno height\n10\n0\n20\n0\n0\nCIRCLE\n10\n0\n20\n0\n40\n1\n",
    ));
    let w = d.warnings.join("\n");
    assert!(w.contains("ignored 2 HATCH entities"), "{w}");
    assert!(
        w.contains("TEXT at line") && w.contains("group code 40"),
        "{w}"
    );
    assert_eq!(d.closed_loops.len(), 1);
    assert_eq!(d.entity_counts.get("TEXT"), Some(&1));
}

/// DXF TEXT and MTEXT become geometry (issue 20): a TrueType style's text outlines in the
/// built-in outline font, a single-line style's text strokes in the built-in stroke font, each
/// substitution named; height, justification and MTEXT's lines and attachment followed.
#[test]
fn text_and_mtext_become_outlines_and_strokes_in_their_place() {
    let tables = "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nSTYLE\n\
                  0\nSTYLE\n2\nLabels\n3\narial.ttf\n0\nSTYLE\n2\nMarks\n3\nromans.shx\n\
                  0\nENDTAB\n0\nENDSEC\n";
    let ents = "0\nTEXT\n8\nT\n7\nLabels\n10\n1\n20\n1\n40\n2\n1\nHI\n\
                0\nMTEXT\n8\nM\n7\nMarks\n10\n20\n20\n10\n40\n1\n71\n1\n\
                1\n{\\fArial|b0;AB}\\PC%%dD\n";
    let text = format!("{tables}{}", dxf(ents));
    let d = import(&text);
    let w = d.warnings.join("\n");
    assert!(
        w.contains("'LABELS' uses font 'arial.ttf'") && w.contains("Hack (outline)"),
        "{w}"
    );
    assert!(
        w.contains("'MARKS' uses font 'romans.shx'") && w.contains("Hershey Simplex"),
        "{w}"
    );
    // The degree sign has no glyph in the stroke font: named.
    assert!(w.contains("lacks (\u{b0})"), "{w}");
    // "HI" in outlines: two closed letters, 2 mm tall from the baseline at y = 1.
    let mut bb = crate::geometry::Bbox2::EMPTY;
    for l in &d.closed_loops {
        let b = crate::geometry::pline_bbox(l);
        if b.max.x < 10.0 {
            bb.union(&b);
        }
    }
    assert!(
        (bb.min.y - 1.0).abs() < 0.05 && (bb.max.y - 3.0).abs() < 0.05,
        "{bb:?}"
    );
    assert!(bb.min.x > 1.0 && bb.max.x < 4.5, "{bb:?}");
    // MTEXT: two lines, its top at the insertion point (attachment 1, top left); strokes.
    let mut mb = crate::geometry::Bbox2::EMPTY;
    for c in d.open_chains.iter().chain(&d.closed_loops) {
        let b = crate::geometry::pline_bbox(c);
        if b.min.x >= 19.9 {
            mb.union(&b);
        }
    }
    assert!((mb.max.y - 10.0).abs() < 1e-6, "{mb:?}");
    assert!(mb.min.y < 10.0 - 1.6 - 0.9, "two lines: {mb:?}");
}

/// A style whose TrueType file exists is drawn in it, with no substitution said.
#[test]
fn a_style_s_own_font_file_is_used_when_it_exists() {
    let dir = std::env::temp_dir().join(format!("swarf-dxf-font-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ttf = dir.join("Mine.ttf");
    std::fs::write(&ttf, include_bytes!("../../../fonts/Hack-Regular.ttf")).unwrap();
    let tables = format!(
        "0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nSTYLE\n0\nSTYLE\n2\nOwn\n3\n{}\n0\nENDTAB\n0\nENDSEC\n",
        ttf.display()
    );
    let d = import(&format!(
        "{tables}{}",
        dxf("0\nTEXT\n7\nOwn\n10\n0\n20\n0\n40\n1\n1\nO\n")
    ));
    assert!(
        !d.warnings.iter().any(|w| w.contains("does not have")),
        "{:?}",
        d.warnings
    );
    assert_eq!(d.closed_loops.len(), 2);
}

#[test]
fn text_control_codes_are_decoded() {
    use super::entities::{decode_mtext, decode_text};
    assert_eq!(
        decode_text("45%%d %%p0.1 %%c3 100%%% %%uX%%u"),
        "45\u{b0} \u{b1}0.1 \u{d8}3 100% X"
    );
    assert_eq!(decode_text("\\U+00B5m"), "\u{b5}m");
    assert_eq!(
        decode_mtext("{\\fArial|b1;Bold} \\H2.5;big\\Pnext\\~line \\S1^2; a\\\\b"),
        "Bold big\nnext line 1/2 a\\b"
    );
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
    let w = d
        .warnings
        .iter()
        .find(|w| w.contains("cross themselves"))
        .expect("reported");
    // The place is named (the bow tie crosses at (1, 1); the segment found starts at a corner
    // of the crossing pair).
    assert!(w.contains("near ("), "{w}");
}

/// A slot 2 µm wide cut into a plate: its two long sides are 2 µm apart but never meet, so the
/// loop does not cross itself (it used to be reported as crossing).
#[test]
fn a_narrow_slot_is_not_a_self_crossing() {
    let d = import(&dxf(
        "0\nLWPOLYLINE\n90\n8\n70\n1\n10\n0\n20\n0\n10\n10\n20\n0\n10\n10\n20\n4\n10\n2\n20\n4\n\
         10\n2\n20\n4.002\n10\n10\n20\n4.002\n10\n10\n20\n10\n10\n0\n20\n10\n",
    ));
    assert_eq!(d.closed_loops.len(), 1, "{:?}", d.warnings);
    assert!(
        !d.warnings.iter().any(|w| w.contains("cross themselves")),
        "{:?}",
        d.warnings
    );
}

/// Loops of a drawing that cross each other (a plate outline drawn over a circle on another
/// layer, a track over a pad) make the nesting of regions ambiguous: the import says which
/// and where. Loops that only touch, side by side or one inside the other, are fine.
#[test]
fn loops_crossing_each_other_are_reported_touching_ones_are_not() {
    let square = |x: f64, y: f64, s: f64| {
        format!(
            "0\nLWPOLYLINE\n90\n4\n70\n1\n10\n{x}\n20\n{y}\n10\n{}\n20\n{y}\n10\n{}\n20\n{}\n\
             10\n{x}\n20\n{}\n",
            x + s,
            x + s,
            y + s,
            y + s
        )
    };
    let circle = |x: f64, y: f64, r: f64| format!("0\nCIRCLE\n10\n{x}\n20\n{y}\n40\n{r}\n");
    let crossing = |d: &Drawing| {
        d.warnings
            .iter()
            .find(|w| w.contains("cross each other"))
            .cloned()
    };
    // Overlapping squares, and a circle whose arcs cross a square between their vertices.
    for text in [
        square(0.0, 0.0, 1.0) + &square(0.5, 0.5, 1.0),
        square(0.0, 0.0, 1.0) + &circle(1.0, 0.5, 0.2),
    ] {
        let d = import(&dxf(&text));
        let w = crossing(&d).unwrap_or_else(|| panic!("not reported: {:?}", d.warnings));
        assert!(w.contains("1 pair(s)") && w.contains("near ("), "{w}");
    }
    // Side by side sharing an edge; a square inside another touching its edge; a hole.
    for text in [
        square(0.0, 0.0, 1.0) + &square(1.0, 0.0, 1.0),
        square(0.0, 0.0, 1.0) + &square(0.0, 0.0, 0.5),
        square(0.0, 0.0, 1.0) + &circle(0.5, 0.5, 0.2),
    ] {
        let d = import(&dxf(&text));
        assert_eq!(crossing(&d), None, "{:?}", d.warnings);
    }
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

/// Found by fuzzing: an ellipse whose start parameter was 999 999 860 took a third of a second
/// (a loop added turns to the end parameter until it passed the start), and one of 1e300
/// would never have finished. Angles count modulo a turn.
#[test]
fn ellipse_and_arc_with_huge_start_angles_from_fuzzing_import_as_their_angle_modulo_a_turn() {
    let half = |start: &str, end: &str| {
        dxf(&format!(
            "0\nELLIPSE\n10\n0\n20\n0\n11\n2\n21\n0\n40\n0.5\n41\n{start}\n42\n{end}\n"
        ))
    };
    let tau = std::f64::consts::TAU;
    // The reference: the upper half, from (2,0) to (-2,0).
    let reference = import(&half("0", &std::f64::consts::PI.to_string()));
    let (rs, re) = start_end(&reference.open_chains[0]);
    assert!(close(rs, V2::new(2.0, 0.0)) && close(re, V2::new(-2.0, 0.0)));
    // The same half turn, with the start 10^6 turns on: the same curve to 1e-6 (the parameter
    // carries 1e-16 relative precision, so 1e-9 of its 6e6).
    let k = 1e6 * tau;
    let far = import(&half(
        &k.to_string(),
        &(k + std::f64::consts::PI).to_string(),
    ));
    let (fs, fe) = start_end(&far.open_chains[0]);
    assert!(fs.dist(rs) < 1e-6 && fe.dist(re) < 1e-6, "{fs:?} {fe:?}");
    // Starts so large that no turn can be added to them, with the end equal to the start: a
    // full ellipse, imported, not looped on. With the end elsewhere: some arc of it.
    for start in ["999999860", "1e300", "-1e300"] {
        let d = import(&half(start, start));
        assert_eq!(d.regions.len(), 1, "start {start}: a closed ellipse");
        assert!((d.bbox.extent() - 4.0).abs() < 1e-6, "{:?}", d.bbox);
        let d = import(&half(start, "0"));
        assert_eq!(d.regions.len() + d.open_chains.len(), 1, "start {start}");
        assert!(d.bbox.extent() <= 4.0 + 1e-6, "{:?}", d.bbox);
    }
    // An end more than a turn after the start is a full ellipse too.
    let d = import(&half("0", "1e300"));
    assert_eq!(d.regions.len(), 1);
    // Arcs: a start angle of 1e300 degrees is some angle; the arc imports as a 90° arc.
    let d = import(&dxf("0\nARC\n10\n0\n20\n0\n40\n1\n50\n1e300\n51\n1e300\n"));
    assert_eq!(d.regions.len(), 1, "equal start and end: a full circle");
    let d = import(&dxf("0\nARC\n10\n0\n20\n0\n40\n1\n50\n7.2e2\n51\n90\n"));
    let (s, e) = start_end(&d.open_chains[0]);
    assert!(
        close(s, V2::new(1.0, 0.0)) && close(e, V2::new(0.0, 1.0)),
        "{s:?} {e:?}"
    );
}

/// Curves kilometres long would be fitted with tens of thousands of arcs (fuzzing found 1 KB
/// drawings that took 0.4 s each): entities beyond ±1 km are reported and skipped, the rest of
/// the drawing imports.
#[test]
fn entities_kilometres_away_are_skipped_with_a_warning_naming_the_units() {
    let far = "0\nSPLINE\n70\n8\n71\n3\n72\n8\n73\n4\n40\n0\n40\n0\n40\n0\n40\n0\n40\n1\n40\n1\n40\n1\n40\n1\n\
               10\n0\n20\n0\n10\n3e6\n20\n5e6\n10\n6e6\n20\n-5e6\n10\n9e6\n20\n0\n";
    let near = "0\nCIRCLE\n10\n5\n20\n5\n40\n1\n";
    let d = import(&dxf(&format!("{far}{near}")));
    assert_eq!(d.regions.len(), 1, "the circle imports");
    assert!(d.bbox.extent() < 3.0, "{:?}", d.bbox);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("SPLINE") && w.contains("beyond") && w.contains("units")),
        "{:?}",
        d.warnings
    );
    // A part drawn in µm and read as mm (10^5 for 100 mm) still imports.
    let um = import(&dxf("0\nCIRCLE\n10\n50000\n20\n50000\n40\n40000\n"));
    assert_eq!(um.regions.len(), 1);
}
