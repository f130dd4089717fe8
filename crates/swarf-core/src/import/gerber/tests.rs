use super::*;
use std::f64::consts::PI;

fn read(text: &str) -> GerberLayer {
    read_gerber(text.as_bytes(), None, None, &Tolerance::default()).unwrap()
}
fn area(rs: &[Region]) -> f64 {
    rs.iter().map(Region::area).sum()
}

#[test]
fn a_flash_and_a_draw() {
    let g = read(
        "%FSLAX26Y26*%\n%MOMM*%\n%ADD10C,1.0*%\nD10*\nX0Y0D03*\nX5000000Y0D02*\nX8000000Y0D01*\nM02*\n",
    );
    assert_eq!(g.flashes, 1);
    assert_eq!(g.draws, 1);
    assert_eq!(g.regions.len(), 2);
    let pi = std::f64::consts::PI;
    assert!((area(&g.regions) - (pi * 0.25 + 3.0 + pi * 0.25)).abs() < 1e-9);
}

/// The painted regions agree with the image (the last shape covering a point decides) at
/// many points of a corpus board, away from boundaries by more than the sampling distance.
fn check_against_image(g: &GerberLayer, samples: usize) -> usize {
    let mut b = Bbox2::EMPTY;
    for s in &g.shapes {
        b.union(&s.bbox());
    }
    let mut seed = 99u64;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let mut wrong = 0;
    for _ in 0..samples {
        let p = V2::new(b.min.x + rnd() * b.width(), b.min.y + rnd() * b.height());
        let image = g
            .shapes
            .iter()
            .rev()
            .find(|s| s.contains(p))
            .is_some_and(|s| s.dark);
        let got = g.regions.iter().any(|r| r.contains(p));
        if image != got {
            wrong += 1;
        }
    }
    wrong
}

#[test]
fn corpus_boards_paint_as_their_image() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/files");
    let mut seen = 0;
    for name in [
        "flatcam_gerber1.gbr",
        "flatcam_STM32F4-spindle.cmp",
        "flatcam_detector_copper_bottom.gbr",
        "flatcam_detector_copper_top.gbr",
        "flatcam_simple1.gbr",
    ] {
        let Ok(bytes) = std::fs::read(dir.join(name)) else {
            continue;
        };
        seen += 1;
        let g = read_gerber(&bytes, Some(name), None, &Tolerance::default()).unwrap();
        let wrong = check_against_image(&g, 4000);
        assert_eq!(wrong, 0, "{name}: {wrong} of 4000 samples disagree");
    }
    if seen == 0 {
        eprintln!(
            "corpus not found at {}; corpus boards not checked",
            dir.display()
        );
    }
}

const HEAD: &str = "%FSLAX26Y26*%\n%MOMM*%\n";

fn layer(body: &str) -> GerberLayer {
    read(&format!("{HEAD}{body}M02*\n"))
}

#[test]
fn every_standard_aperture_flashes_its_shape() {
    // Circle with a hole, rectangle, obround, polygon: areas exact.
    let g = layer(
        "%ADD10C,2.0X1.0*%\n%ADD11R,2.0X1.0*%\n%ADD12O,3.0X1.0*%\n%ADD13P,2.0X4X45*%\nD10*\nX0Y0D03*\nD11*\nX10000000Y0D03*\nD12*\nX20000000Y0D03*\nD13*\nX30000000Y0D03*\n",
    );
    assert_eq!(g.flashes, 4);
    assert_eq!(g.regions.len(), 4);
    let mut areas: Vec<f64> = g.regions.iter().map(Region::area).collect();
    areas.sort_by(f64::total_cmp);
    let mut want = vec![PI - PI * 0.25, 2.0, 2.0 + PI * 0.25, 2.0];
    want.sort_by(f64::total_cmp);
    for (a, w) in areas.iter().zip(&want) {
        assert!((a - w).abs() < 1e-9, "{areas:?} vs {want:?}");
    }
    // The ring keeps its hole, and arcs stay arcs.
    assert!(
        g.regions
            .iter()
            .any(|r| r.islands.len() == 1 && r.arc_count() >= 4)
    );
}

#[test]
fn clear_polarity_regions_with_arcs_and_step_repeat() {
    // A dark 4 x 4 region, a clear disk in it (LPC), and a dark region bounded by an arc.
    let g = layer(
        "%ADD10C,1.0*%\n%LPD*%\nG36*\nX0Y0D02*\nG01*\nX4000000Y0D01*\nX4000000Y4000000D01*\nX0Y4000000D01*\nX0Y0D01*\nG37*\n%LPC*%\nD10*\nX2000000Y2000000D03*\n%LPD*%\nG75*\nG36*\nX10000000Y0D02*\nG01*\nX12000000Y0D01*\nG03*\nX10000000Y2000000I-2000000J0D01*\nG01*\nX10000000Y0D01*\nG37*\n",
    );
    assert_eq!(g.clear_shapes, 1);
    assert_eq!(g.region_count, 2);
    assert!(
        (area(&g.regions) - (16.0 - PI * 0.25 + PI)).abs() < 1e-9,
        "{}",
        area(&g.regions)
    );
    assert!(g.regions.iter().any(|r| r.islands.len() == 1));
    // Step and repeat: a 3 x 2 block of a 1 mm pad, 5 mm apart.
    let g = layer("%ADD10R,1.0X1.0*%\n%SRX3Y2I5.0J5.0*%\nD10*\nX0Y0D03*\n%SR*%\n");
    assert_eq!(g.regions.len(), 6);
    assert!((area(&g.regions) - 6.0).abs() < 1e-9);
}

#[test]
fn macros_thermals_and_expressions() {
    // A macro with a variable, a circle, a centre line and a thermal; `$1` scales it.
    let g = layer(
        "%AMTEST*\n0 a comment*\n$2=$1x2*\n1,1,$2,0,0*\n21,0,$1,0.2,0,0,0*\n%\n%AMTH*\n7,0,0,2.0,1.0,0.2,0*%\n%ADD10TEST,1.0*%\n%ADD11TH*%\nD10*\nX0Y0D03*\nD11*\nX10000000Y0D03*\n",
    );
    // Disk of diameter 2 with a 1 x 0.2 bar cut out of it (exposure off).
    let disk = g.regions.iter().find(|r| r.bbox().min.x < 5.0).unwrap();
    assert!((disk.area() - (PI - 0.2)).abs() < 1e-9, "{}", disk.area());
    // Thermal: an annulus 2/1 with a cross of 0.2 gaps: four pieces.
    let pieces: Vec<&Region> = g.regions.iter().filter(|r| r.bbox().min.x > 5.0).collect();
    assert_eq!(pieces.len(), 4);
}

#[test]
fn the_old_forms_still_read() {
    // G54D10, G70 inches, %LN, coordinates without D (modal), G02 with its coordinates.
    let g = read(
        "G04 old*\n%FSLAX23Y23*%\n%LNCOPPER*%\nG70*\n%ADD10C,0.010*%\nG54D10*\nX0Y0D02*\nX1000Y0D01*\nX1000Y1000*\nG75*\nG03X0Y1000I-500J0D01*\nM02*\n",
    );
    assert_eq!(g.units, Units::Inch);
    assert_eq!(g.draws, 3);
    assert_eq!(g.function.as_deref(), Some("COPPER"));
    assert_eq!(g.draw_paths.len(), 1);
    let b = pline_bbox(&g.draw_paths[0]);
    assert!(
        (b.max.x - 25.4).abs() < 1e-9 && (b.max.y - 25.4 - 12.7).abs() < 1e-9,
        "{b:?}"
    );
}

#[test]
fn errors_name_the_line_and_the_fix() {
    let e = read_gerber(
        b"%FSLAX26Y26*%\n%MOMM*%\nD11*\nM02*\n",
        None,
        None,
        &Tolerance::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("line 3") && e.to_string().contains("D11"),
        "{e}"
    );
    let e = read_gerber(b"%ADD10C,1*%\nM02*\n", None, None, &Tolerance::default()).unwrap_err();
    assert!(e.to_string().contains("unit"), "{e}");
    let e = read_gerber(
        b"%FSLAX26Y26*%\n%MOMM*\nM02*\n",
        None,
        None,
        &Tolerance::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not closed"), "{e}");
    let e = read_gerber(
        b"%FSLAX26Y26*%\n%MOMM*%\n%ADD10C,1*%\nD10*\nG36*\nX0Y0D03*\nG37*\nM02*\n",
        None,
        None,
        &Tolerance::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("flash") && e.to_string().contains("line 6"),
        "{e}"
    );
    // A character of two bytes where a letter should be (found by fuzzing: a panic slicing
    // inside it) is named.
    let e = read_gerber(
        "%FSLAX25Y25*%\n%MOIN*%\n%ADD11R,0.4X0.1*%\nD11*\nX0212657Y007625ǻ03*\nM02*\n".as_bytes(),
        None,
        None,
        &Tolerance::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("'ǻ'") && e.to_string().contains("line 5"),
        "{e}"
    );
    // Garbage never panics.
    for bytes in [
        &b"%%%***"[..],
        b"G0",
        b"X\xff",
        b"%AMX*1,1*%",
        b"%FSLAX99Y99*%",
    ] {
        let _ = read_gerber(bytes, None, Some(Units::Mm), &Tolerance::default());
    }
}

#[test]
fn an_outline_layer_is_the_board() {
    let text = format!(
        "{HEAD}%TF.FileFunction,Profile,NP*%\n%ADD10C,0.1*%\nD10*\nX0Y0D02*\nX30000000Y0D01*\nX30000000Y20000000D01*\nX0Y20000000D01*\nX0Y0D01*\nM02*\n"
    );
    let d = import_gerber(
        text.as_bytes(),
        Some("board-Edge_Cuts.gbr"),
        None,
        &Tolerance::default(),
    )
    .unwrap();
    assert_eq!(d.regions.len(), 1);
    assert!((d.regions[0].area() - 600.0).abs() < 1e-9);
}

#[test]
fn damaged_files_fail_with_an_error_never_a_panic() {
    // Deterministic mutations (bytes replaced, dropped, repeated) of a board using every
    // construct: each reads or fails with an error.
    let base = format!(
        "{HEAD}%AMT*$2=$1x2*1,1,$2,0,0*7,0,0,2,1,0.2,0*4,1,3,0,0,1,0,0,1,0,0,0*%\n%ADD10C,0.2*%\n%ADD11T,1.0*%\n%ADD12P,1X5X10X0.2*%\n%ADD13O,1X2*%\nD10*\nX0Y0D02*\nG01X1000000Y0D01*\nG75*\nG03X0Y1000000I-1000000J0D01*\nD11*\nX5000000Y5000000D03*\n%LPC*%\nD12*\nX5000000Y5000000D03*\n%LPD*%\n%SRX2Y2I3J3*%\nD13*\nX9000000Y0D03*\n%SR*%\nG36*\nX0Y0D02*\nG01X1000000Y0D01*\nG03X0Y1000000I-1000000J0D01*\nG01X0Y0D01*\nG37*\nM02*\n"
    );
    let tol = Tolerance::default();
    read_gerber(base.as_bytes(), None, None, &tol).unwrap();
    let mut seed = 7u64;
    let mut rnd = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n.max(1)
    };
    let alphabet = b"%*XYIJDGM0123456789-.,$x/()ACROPLSTF\n";
    for _ in 0..400 {
        let mut b = base.as_bytes().to_vec();
        for _ in 0..=rnd(4) {
            let at = rnd(b.len());
            match rnd(3) {
                0 => b[at] = alphabet[rnd(alphabet.len())],
                1 => {
                    b.remove(at);
                }
                _ => {
                    let len = rnd(20).min(b.len() - at);
                    let piece = b[at..at + len].to_vec();
                    b.splice(at..at, piece);
                }
            }
        }
        let _ = read_gerber(&b, None, Some(Units::Mm), &tol);
    }
}

#[test]
fn the_area_between_the_copper_is_the_box_less_the_copper() {
    use crate::ops::{Target, target::BETWEEN_MARGIN_MM, target_regions};
    let text = format!(
        "{HEAD}%ADD10C,1.0*%\n%ADD11R,2.0X1.0*%\nD10*\nX0Y0D03*\nD11*\nX5000000Y0D03*\nM02*\n"
    );
    let d = import_gerber(text.as_bytes(), None, None, &Tolerance::default()).unwrap();
    let copper: f64 = d.regions.iter().map(Region::area).sum();
    let between = target_regions(&d, Target::Between);
    assert_eq!(between.len(), 1);
    assert_eq!(between[0].islands.len(), 2);
    let m = BETWEEN_MARGIN_MM;
    // Box: x -0.5..6, y -0.5..0.5, grown by the margin.
    let frame = (6.5 + 2.0 * m) * (1.0 + 2.0 * m);
    assert!(
        (between[0].area() - (frame - copper)).abs() < 1e-9,
        "{}",
        between[0].area()
    );
}

#[test]
fn every_macro_primitive_paints_its_shape() {
    // Vector line 20 (2 x 0.5), outline 4 (a unit square), polygon 5 (hexagon of diameter 2),
    // moiré 6 (one ring and a cross hair), each in its own aperture, flashed far apart;
    // a rotated centre line 21 (45°) keeps its area.
    let body = "%AMVL*20,1,0.5,-1,0,1,0,0*%\n%AMOL*4,1,4,0,0,1,0,1,1,0,1,0,0,0*%\n\
%AMPG*5,1,6,0,0,2,0*%\n%AMMO*6,0,0,2,0.2,0.3,1,0.1,2.4,0*%\n%AMCL*21,1,2,1,0,0,45*%\n\
%ADD10VL*%\n%ADD11OL*%\n%ADD12PG*%\n%ADD13MO*%\n%ADD14CL*%\n\
D10*\nX0Y0D03*\nD11*\nX10000000Y0D03*\nD12*\nX20000000Y0D03*\nD13*\nX30000000Y0D03*\n\
D14*\nX40000000Y0D03*\n";
    let g = layer(body);
    let area_near = |x: f64| -> f64 {
        g.regions
            .iter()
            .filter(|r| (f64::midpoint(r.bbox().min.x, r.bbox().max.x) - x).abs() < 2.0)
            .map(Region::area)
            .sum()
    };
    assert!((area_near(0.0) - 1.0).abs() < 1e-9, "{}", area_near(0.0));
    assert!((area_near(10.5) - 1.0).abs() < 1e-9, "{}", area_near(10.5));
    let hex = 3.0 * 3f64.sqrt() / 2.0;
    assert!((area_near(20.0) - hex).abs() < 1e-9, "{}", area_near(20.0));
    // Ring: outer d 2, 0.2 thick; cross hair 2.4 long, 0.1 thick, its parts outside the
    // ring and in its hole counted once.
    let ring = PI * (1.0 - 0.64);
    let cross = 2.0 * 2.4 * 0.1 - 0.01;
    // Where the cross hair crosses the ring: four times ∫ (√(1 − y²) − √(0.64 − y²)) dy over
    // |y| ≤ 0.05.
    let n = 20_000;
    let over = 4.0
        * (0..n)
            .map(|k| {
                let y = -0.05 + 0.1 * (f64::from(k) + 0.5) / f64::from(n);
                ((1.0 - y * y).sqrt() - (0.64 - y * y).sqrt()) * 0.1 / f64::from(n)
            })
            .sum::<f64>();
    assert!(
        (area_near(30.0) - (ring + cross - over)).abs() < 1e-6,
        "{}",
        area_near(30.0)
    );
    assert!((area_near(40.0) - 2.0).abs() < 1e-9, "{}", area_near(40.0));
}

#[test]
fn pads_flashed_nanometres_apart_are_one_pad() {
    // Found by fuzzing: three 1.778 mm pads 14 to 36 nm apart made arcs that run within the
    // sampling distance of each other all along, and a region of negative area. Vertices
    // within the path tolerance are one vertex now: one pad.
    let g =
        read("%FSLAX09Y23*%\n%MOIN*%\n%ADD10C,.07*%\nD10*\nX1142D03*\nX1422D03*\nX603D03*\nM02*\n");
    assert_eq!(g.regions.len(), 1);
    let r = 0.07 * 25.4 / 2.0;
    let a = g.regions[0].area();
    assert!((a - PI * r * r).abs() < 1e-3, "{a}");
    assert!(g.regions[0].islands.is_empty());
}
