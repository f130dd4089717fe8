use super::*;
use crate::geometry::Pline;
use crate::toolpath::{Motion, Toolpath};
use cavalier_contours::polyline::{PlineSource, PlineSourceMut};

/// A V tool of `angle`° with a tip of `tip` mm, `d` mm across.
fn v_tool(angle: f64, tip: f64, d: f64) -> Tool {
    let mut t = Tool::micro_flat(d);
    t.shape = ToolShape::V {
        angle_deg: angle,
        tip_diameter_mm: tip,
    };
    t.flute_length_mm = 5.0;
    t
}

fn params(depth: f64, stepdown: Option<f64>) -> VCarveParams {
    let mut p = VCarveParams::default();
    p.cut.heights.final_depth_mm = depth;
    p.cut.stepdown_mm = stepdown;
    p
}

fn rect(x0: f64, y0: f64, w: f64, h: f64) -> Pline {
    let mut p = Pline::new_closed();
    for (x, y) in [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)] {
        p.add(x, y, 0.0);
    }
    p
}

/// A circle as two half arcs, counter-clockwise (`ccw`) or clockwise.
fn circle(c: V2, r: f64, ccw: bool) -> Pline {
    let b = if ccw { 1.0 } else { -1.0 };
    let mut p = Pline::new_closed();
    p.add(c.x + r, c.y, b);
    p.add(c.x - r, c.y, b);
    p
}

fn region(outer: Pline, islands: Vec<Pline>) -> Region {
    Region { outer, islands }
}

fn carve(regions: &[Region], tool: &Tool, p: &VCarveParams) -> OpResult {
    vcarve(regions, tool, p, &Tolerance::default(), &Cancel::NEVER).expect("carves")
}

/// Points along every feed move below the top, `step` mm apart at most, with their Z.
fn cut_points(tp: &Toolpath, step: f64) -> Vec<P3> {
    let mut from = tp.start;
    let mut v = Vec::new();
    for m in &tp.moves {
        if matches!(m.motion, Motion::Line) && (m.to.z < -1e-9 || from.z < -1e-9) {
            let n = ((from.xy().dist(m.to.xy()) / step).ceil() as usize).max(1);
            for i in 0..=n {
                let f = i as f64 / n as f64;
                v.push(P3::new(
                    from.x + (m.to.x - from.x) * f,
                    from.y + (m.to.y - from.y) * f,
                    from.z + (m.to.z - from.z) * f,
                ));
            }
        }
        from = m.to;
    }
    v
}

/// The lowest Z any move reaches.
fn deepest(tp: &Toolpath) -> f64 {
    tp.moves
        .iter()
        .map(|m| m.to.z)
        .fold(f64::INFINITY, f64::min)
}

/// The cut's radius at the surface (Z 0) with the tip at `z`.
fn cut_radius(tool: &Tool, z: f64) -> f64 {
    let ToolShape::V {
        angle_deg,
        tip_diameter_mm,
    } = tool.shape
    else {
        unreachable!()
    };
    if z >= 0.0 {
        return 0.0;
    }
    tip_diameter_mm * 0.5 - z * (angle_deg.to_radians() * 0.5).tan()
}

/// Checks with an independent distance (`wall`, exact for the test's shape): no point of the
/// cut reaches past the walls by more than `over`, and every point of `inside` lies in the cut
/// (within `under` of it).
fn check_exact(
    tp: &Toolpath,
    tool: &Tool,
    wall: &dyn Fn(V2) -> f64,
    inside: &[V2],
    over: f64,
    under: f64,
) {
    let pts = cut_points(tp, 0.0005);
    assert!(!pts.is_empty(), "no cut");
    let mut worst = f64::NEG_INFINITY;
    for q in &pts {
        let excess = cut_radius(tool, q.z) - wall(q.xy());
        worst = worst.max(excess);
    }
    assert!(worst <= over, "the cut reaches {worst} mm past the walls");
    let mut missed = 0;
    let mut worst_miss = 0.0_f64;
    for &s in inside {
        let gap = pts
            .iter()
            .map(|q| s.dist(q.xy()) - cut_radius(tool, q.z))
            .fold(f64::INFINITY, f64::min);
        if gap > under {
            eprintln!(
                "not cut: {s:?}, {gap} mm from the cut, {} mm from the wall",
                wall(s)
            );
            missed += 1;
            worst_miss = worst_miss.max(gap);
        }
    }
    assert_eq!(
        missed,
        0,
        "{missed} of {} points inside the region are not cut (up to {worst_miss} mm away)",
        inside.len()
    );
}

/// A grid of points inside `r` (every `step` mm).
fn grid_inside(r: &Region, step: f64) -> Vec<V2> {
    let b = r.bbox();
    let mut v = Vec::new();
    let mut y = b.min.y + step * 0.5;
    while y < b.max.y {
        let mut x = b.min.x + step * 0.5;
        while x < b.max.x {
            let p = V2::new(x, y);
            if r.contains(p) {
                v.push(p);
            }
            x += step;
        }
        y += step;
    }
    v
}

#[test]
fn a_square_is_carved_into_its_corners_at_the_exact_depth() {
    let tool = v_tool(90.0, 0.0, 3.0);
    let r = region(rect(0.0, 0.0, 2.0, 2.0), vec![]);
    let out = carve(std::slice::from_ref(&r), &tool, &params(1.2, None));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let wall = |p: V2| p.x.min(p.y).min(2.0 - p.x).min(2.0 - p.y);
    // 90°: the depth is the distance to the nearest wall.
    let deepest = deepest(&out.toolpath);
    assert!((deepest + 1.0).abs() < 1e-6, "deepest {deepest}");
    // Every corner is reached at the surface.
    for c in [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)] {
        let c = V2::new(c.0, c.1);
        assert!(
            out.toolpath
                .moves
                .iter()
                .any(|m| m.to.xy().dist(c) < 1e-4 && m.to.z.abs() < 1e-4),
            "corner {c:?} not reached"
        );
    }
    // At every point written the depth is the distance to the nearest wall.
    for m in &out.toolpath.moves {
        if matches!(m.motion, Motion::Line) && m.to.z < 0.0 {
            let r = wall(m.to.xy());
            assert!(
                (-m.to.z - r).abs() < 1e-9,
                "{:?}: depth {}, wall {r}",
                m.to,
                -m.to.z
            );
        }
    }
    check_exact(
        &out.toolpath,
        &tool,
        &wall,
        &grid_inside(&r, 0.05),
        1e-4,
        2.5e-4,
    );
}

#[test]
fn a_circle_is_one_plunge_at_its_centre() {
    let tool = v_tool(60.0, 0.0, 2.0);
    let c = V2::new(1.0, -2.0);
    let r = region(circle(c, 0.5, true), vec![]);
    let out = carve(std::slice::from_ref(&r), &tool, &params(1.0, None));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let want = 0.5 / 30f64.to_radians().tan();
    // The knot of tiny branches the sampled circle leaves at its centre is one point.
    assert!(out.notes[0].contains(" 1 path(s)"), "{:?}", out.notes);
    let pts = cut_points(&out.toolpath, 0.01);
    let deepest = pts.iter().map(|q| q.z).fold(f64::INFINITY, f64::min);
    assert!(
        (deepest + want).abs() < 1e-4,
        "deepest {deepest}, want {want}"
    );
    for q in &pts {
        if q.z < -want * 0.5 {
            assert!(q.xy().dist(c) < 1e-2, "deep point {q:?} off the centre");
        }
    }
    let wall = |p: V2| 0.5 - p.dist(c);
    check_exact(
        &out.toolpath,
        &tool,
        &wall,
        &grid_inside(&r, 0.05),
        1e-4,
        2.5e-4,
    );
}

#[test]
fn a_ring_with_arcs_is_carved_exactly_between_its_walls() {
    // A washer: the axis is the middle circle, the depth constant along it.
    let tool = v_tool(60.0, 0.02, 2.0);
    let c = V2::new(0.0, 0.0);
    let r = region(circle(c, 1.0, true), vec![circle(c, 0.6, false)]);
    let out = carve(std::slice::from_ref(&r), &tool, &params(1.0, None));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let wall = |p: V2| (1.0 - p.dist(c)).min(p.dist(c) - 0.6);
    let want = (0.2 - 0.01) / 30f64.to_radians().tan();
    let pts = cut_points(&out.toolpath, 0.01);
    let deepest = pts.iter().map(|q| q.z).fold(f64::INFINITY, f64::min);
    assert!(
        (deepest + want).abs() < 1e-4,
        "deepest {deepest}, want {want}"
    );
    check_exact(
        &out.toolpath,
        &tool,
        &wall,
        &grid_inside(&r, 0.04),
        1e-4,
        2.5e-4,
    );
}

#[test]
fn a_capped_carve_cuts_its_walls_and_names_the_floor() {
    let tool = v_tool(90.0, 0.0, 3.0);
    let r = region(rect(0.0, 0.0, 4.0, 1.0), vec![]);
    let p = params(0.2, None);
    let out = carve(std::slice::from_ref(&r), &tool, &p);
    // Nothing deeper than the cap.
    let deepest = deepest(&out.toolpath);
    assert!((deepest + 0.2).abs() < 1e-9, "deepest {deepest}");
    // The floor: 3.6 × 0.6 mm inside the cap's radius (0.2 mm) from the walls.
    let w = out
        .warnings
        .iter()
        .find(|w| w.contains("floor"))
        .expect("the floor is named");
    assert!(w.contains("2.1600 mm²"), "{w}");
    // The walls: the cut reaches every point within 0.2 mm of them, none past them.
    let wall = |q: V2| q.x.min(q.y).min(4.0 - q.x).min(1.0 - q.y);
    let band: Vec<V2> = grid_inside(&r, 0.03)
        .into_iter()
        .filter(|&q| wall(q) <= 0.2)
        .collect();
    check_exact(&out.toolpath, &tool, &wall, &band, 1e-4, 2.5e-4);
    // The clean-up pocket keeps the cap's radius from the walls at the same depth: a 0.1 mm
    // end mill's centre stays 0.25 mm inside them, and it clears the floor to its corners'
    // radius.
    let clean = floor_cleanup(&p, &tool).expect("a V tool");
    assert!((clean.inset_mm - 0.2).abs() < 1e-12);
    assert_eq!(clean.cut.heights.final_depth_mm, 0.2);
    let flat = Tool::micro_flat(0.1);
    let pocket = crate::ops::pocket::pocket(
        std::slice::from_ref(&r),
        &flat,
        &clean,
        &Tolerance::default(),
        &Cancel::NEVER,
    )
    .expect("pockets");
    let (mut lo, mut hi) = (V2::new(f64::MAX, f64::MAX), V2::new(f64::MIN, f64::MIN));
    for m in &pocket.toolpath.moves {
        if m.to.z < -0.19 {
            lo = V2::new(lo.x.min(m.to.x), lo.y.min(m.to.y));
            hi = V2::new(hi.x.max(m.to.x), hi.y.max(m.to.y));
        }
    }
    for (got, want) in [(lo.x, 0.25), (lo.y, 0.25), (hi.x, 3.75), (hi.y, 0.75)] {
        assert!(
            (got - want).abs() < 1e-6,
            "the clean-up reaches {got}, want {want}"
        );
    }
}

#[test]
fn step_down_passes_end_at_the_single_pass_depth() {
    let tool = v_tool(60.0, 0.0, 2.0);
    let r = region(rect(0.0, 0.0, 1.0, 0.6), vec![]);
    let one = carve(std::slice::from_ref(&r), &tool, &params(1.0, None));
    let three = carve(std::slice::from_ref(&r), &tool, &params(1.0, Some(0.2)));
    let want = -0.3 / 30f64.to_radians().tan();
    assert!((deepest(&one.toolpath) - want).abs() < 1e-6);
    assert!((deepest(&three.toolpath) - want).abs() < 1e-6);
    assert!(three.toolpath.moves.len() > one.toolpath.moves.len());
    assert!(three.notes[0].contains("3 level(s)"), "{:?}", three.notes);
}

#[test]
fn wrong_tools_entries_and_narrow_regions_are_named() {
    let r = region(rect(0.0, 0.0, 1.0, 1.0), vec![]);
    let tol = Tolerance::default();
    let flat = Tool::micro_flat(0.5);
    let e = vcarve(
        std::slice::from_ref(&r),
        &flat,
        &params(0.2, None),
        &tol,
        &Cancel::NEVER,
    )
    .expect_err("a flat end mill");
    assert!(e.to_string().contains("not a V tool"), "{e}");
    let tool = v_tool(60.0, 0.1, 2.0);
    let mut p = params(0.2, None);
    p.cut.entry.kind = EntryKind::Ramp;
    let e = vcarve(std::slice::from_ref(&r), &tool, &p, &tol, &Cancel::NEVER).expect_err("a ramp");
    assert!(e.to_string().contains("use plunge"), "{e}");
    // A slot 0.06 mm wide under a 0.1 mm tip.
    let slot = region(rect(0.0, 0.0, 2.0, 0.06), vec![]);
    let out = carve(&[slot], &tool, &params(0.2, None));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("narrower than the V's tip")),
        "{:?}",
        out.warnings
    );
    assert!(out.toolpath.moves.iter().all(|m| m.to.z >= 0.0));
}

/// The distance from `p` to the nearest segment of the loops, by looking at every one.
fn brute_wall(loops: &[Pline], p: V2) -> f64 {
    loops
        .iter()
        .flat_map(|l| l.iter_segments())
        .map(|(a, b)| crate::geometry::biarc::seg_distance(a, b, p))
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn random_star_shapes_with_arcs_and_an_island_are_carved_exactly() {
    // Star-shaped loops of lines and gentle arcs, a round island in the middle: the cut
    // reaches no wall (measured against every segment) and leaves no point inside uncut.
    let mut seed = 0x2545_f491_u64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 10_000) as f64 / 10_000.0
    };
    let tool = v_tool(60.0, 0.01, 4.0);
    for _ in 0..4 {
        let n = 7 + (rnd() * 5.0) as usize;
        let mut outer = Pline::new_closed();
        for k in 0..n {
            let ang = std::f64::consts::TAU * (k as f64 + 0.3 * rnd()) / n as f64;
            let rad = 1.0 + 0.6 * rnd();
            let bulge = if rnd() < 0.5 {
                0.0
            } else {
                0.25 * (rnd() - 0.3)
            };
            outer.add(rad * ang.cos(), rad * ang.sin(), bulge);
        }
        let island = circle(V2::new(0.05, -0.05), 0.3, false);
        let loops = vec![outer.clone(), island.clone()];
        let r = region(outer, vec![island]);
        let out = carve(std::slice::from_ref(&r), &tool, &params(3.0, None));
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let wall = |p: V2| brute_wall(&loops, p);
        check_exact(
            &out.toolpath,
            &tool,
            &wall,
            &grid_inside(&r, 0.05),
            1e-4,
            2.5e-4,
        );
    }
}
