use super::*;

fn tol() -> Tolerance {
    Tolerance::default()
}

#[test]
fn a_stroke_h_is_the_height_tall_and_three_strokes() {
    let style = TextStyle {
        height_mm: 2.0,
        ..TextStyle::default()
    };
    let g = layout("H", &Font::stroke(), &style, V2::new(10.0, 5.0), &tol());
    assert!(g.missing.is_empty());
    assert!(g.loops.is_empty());
    assert_eq!(g.chains.len(), 3);
    // Baseline at the insertion point, the cap at the height.
    assert!((g.bbox.min.y - 5.0).abs() < 1e-9, "{:?}", g.bbox);
    assert!((g.bbox.max.y - 7.0).abs() < 1e-9, "{:?}", g.bbox);
    assert!(g.bbox.min.x >= 10.0);
}

#[test]
fn an_outline_o_is_a_ring_of_arcs_that_nests_into_one_region_with_an_island() {
    let style = TextStyle {
        height_mm: 1.0,
        ..TextStyle::default()
    };
    let g = layout("O", &Font::outline(), &style, V2::default(), &tol());
    assert!(g.chains.is_empty());
    assert_eq!(g.loops.len(), 2);
    // Curves came out as arcs.
    assert!(g.loops.iter().all(|l| crate::geometry::arc_count(l) > 0));
    let regions = crate::geometry::nest_loops(g.loops.clone(), &tol());
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0].islands.len(), 1);
    // About the capital height tall (an O overshoots its flat neighbours a little).
    let h = g.bbox.height();
    assert!((0.95..1.1).contains(&h), "{h}");
}

#[test]
fn alignment_rotation_width_and_slant_move_the_text_as_asked() {
    let at = V2::new(3.0, -2.0);
    let base = TextStyle {
        height_mm: 1.0,
        ..TextStyle::default()
    };
    let f = Font::stroke();
    let left = layout("SN 42", &f, &base, at, &tol()).bbox;
    let centred = layout(
        "SN 42",
        &f,
        &TextStyle {
            halign: HAlign::Center,
            valign: VAlign::Middle,
            ..base
        },
        at,
        &tol(),
    )
    .bbox;
    let w = left.width();
    assert!(((centred.min.x + centred.max.x) * 0.5 - at.x).abs() < 0.1 * w);
    assert!(((centred.min.y + centred.max.y) * 0.5 - at.y).abs() < 0.1);
    let wide = layout(
        "SN 42",
        &f,
        &TextStyle {
            width_factor: 2.0,
            ..base
        },
        at,
        &tol(),
    )
    .bbox;
    assert!((wide.width() - 2.0 * w).abs() < 1e-9 * w.max(1.0) + 1e-9);
    let turned = layout(
        "SN 42",
        &f,
        &TextStyle {
            angle_deg: 90.0,
            ..base
        },
        at,
        &tol(),
    )
    .bbox;
    assert!((turned.height() - w).abs() < 1e-9, "{turned:?}");
    let slanted = layout(
        "I",
        &f,
        &TextStyle {
            oblique_deg: 15.0,
            ..base
        },
        at,
        &tol(),
    )
    .bbox;
    assert!(
        (slanted.width() - 15f64.to_radians().tan()).abs() < 1e-9,
        "{slanted:?}"
    );
}

#[test]
fn text_along_an_arc_sits_on_the_circle() {
    let style = TextStyle {
        height_mm: 0.5,
        arc_radius_mm: Some(5.0),
        halign: HAlign::Center,
        ..TextStyle::default()
    };
    let c = V2::new(1.0, 1.0);
    let g = layout("ABCDEFG", &Font::stroke(), &style, c, &tol());
    // Every point between the circle and 0.5 mm outside it.
    for l in &g.chains {
        for v in l.iter_vertexes() {
            let r = V2::new(v.x, v.y).dist(c);
            assert!((4.99..5.6).contains(&r), "{r}");
        }
    }
    // Centred on the top.
    assert!(((g.bbox.min.x + g.bbox.max.x) * 0.5 - c.x).abs() < 0.2);
    assert!(g.bbox.max.y > c.y + 5.0);
}

#[test]
fn missing_glyphs_are_named_and_font_files_are_read_or_refused() {
    let g = layout(
        "A€B",
        &Font::stroke(),
        &TextStyle::default(),
        V2::default(),
        &tol(),
    );
    assert_eq!(g.missing, vec!['€']);
    let dir = std::env::temp_dir().join(format!("swarf-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ttf = dir.join("hack.ttf");
    std::fs::write(&ttf, HACK).unwrap();
    let f = Font::by_name("hack.ttf", &dir).expect("a font");
    assert!(!f.is_stroke());
    assert_eq!(
        layout("8", &f, &TextStyle::default(), V2::default(), &tol())
            .loops
            .len(),
        3
    );
    let bad = dir.join("notes.ttf");
    std::fs::write(&bad, "not a font").unwrap();
    let e = Font::by_name("notes.ttf", &dir).expect_err("not a font");
    assert!(
        e.to_string().contains("not a TrueType or OpenType font"),
        "{e}"
    );
    let e = Font::by_name("none.ttf", &dir).expect_err("no file");
    assert!(e.to_string().contains("cannot read the font"), "{e}");
    // A folder (or a device) is not read.
    let e = Font::by_name(".", &dir).expect_err("a folder");
    assert!(e.to_string().contains("not a plain file"), "{e}");
}

#[test]
fn counters_fill_serial_numbers() {
    assert_eq!(with_counter("SN {n:04}", 7), "SN 0007");
    assert_eq!(with_counter("{n}/{n:02}", 3), "3/03");
    assert_eq!(with_counter("no {x} {n:zz} {n", 1), "no {x} {n:zz} {n");
}

/// The outline of a string matches the font's own glyph outlines: points sampled on every
/// quadratic curve and line of the font's 'S', '8' and 'g' (as `ttf-parser` gives them, scaled
/// and placed as the layout does) lie within the path tolerance of the laid-out loops.
#[test]
fn outlines_match_the_fonts_glyphs_within_the_path_tolerance() {
    struct Sampler {
        pts: Vec<V2>,
        last: V2,
    }
    impl ttf_parser::OutlineBuilder for Sampler {
        fn move_to(&mut self, x: f32, y: f32) {
            self.last = V2::new(f64::from(x), f64::from(y));
            self.pts.push(self.last);
        }
        fn line_to(&mut self, x: f32, y: f32) {
            let p = V2::new(f64::from(x), f64::from(y));
            for k in 1..=8 {
                self.pts.push(self.last.lerp(p, f64::from(k) / 8.0));
            }
            self.last = p;
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            let (c, p) = (
                V2::new(f64::from(x1), f64::from(y1)),
                V2::new(f64::from(x), f64::from(y)),
            );
            for k in 1..=16 {
                let t = f64::from(k) / 16.0;
                let a = self.last.lerp(c, t);
                let b = c.lerp(p, t);
                self.pts.push(a.lerp(b, t));
            }
            self.last = p;
        }
        fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, x: f32, y: f32) {
            // Hack's glyphs are TrueType (quadratic); a cubic is not expected here.
            self.last = V2::new(f64::from(x), f64::from(y));
        }
        fn close(&mut self) {}
    }
    let face = ttf_parser::Face::parse(HACK, 0).unwrap();
    let cap = f64::from(face.capital_height().unwrap());
    let style = TextStyle {
        height_mm: 2.0,
        ..TextStyle::default()
    };
    let scale = 2.0 / cap;
    let t = tol();
    let mut x0 = 0.0;
    for c in ['S', '8', 'g'] {
        let g = layout(
            &c.to_string(),
            &Font::outline(),
            &style,
            V2::new(x0, 0.0),
            &t,
        );
        let id = face.glyph_index(c).unwrap();
        let mut s = Sampler {
            pts: Vec::new(),
            last: V2::default(),
        };
        face.outline_glyph(id, &mut s).unwrap();
        let mut worst = 0.0_f64;
        for p in &s.pts {
            let q = V2::new(x0 + p.x * scale, p.y * scale);
            let d = g
                .loops
                .iter()
                .flat_map(|l| l.iter_segments())
                .map(|(a, b)| crate::geometry::biarc::seg_distance(a, b, q))
                .fold(f64::INFINITY, f64::min);
            worst = worst.max(d);
        }
        assert!(
            worst <= t.path_mm * 1.01,
            "'{c}': {worst} mm from the font's outline"
        );
        x0 += 3.0;
    }
}
