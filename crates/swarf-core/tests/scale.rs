//! Scale invariance: every operation on a part and tool scaled by 0.01, with every length
//! parameter and the tolerance scaled alike, gives the same moves scaled by 0.01 within the
//! scaled path tolerance; and the program written for the small part reads back in the `LinuxCNC`
//! interpreter without an error (no arc too small for it).

mod common;

use cavalier_contours::polyline::{PlineSource, PlineSourceMut, PlineVertex};
use swarf_core::geometry::mesh::Mesh;
use swarf_core::geometry::{Pline, Region, Tolerance};
use swarf_core::ops::adaptive::AdaptiveParams;
use swarf_core::ops::bore::BoreParams;
use swarf_core::ops::contour::{ContourParams, Side};
use swarf_core::ops::drill::{DrillCycle, DrillParams};
use swarf_core::ops::pocket::{Pattern, PocketParams};
use swarf_core::ops::zlevel::ZLevelParams;
use swarf_core::ops::{Cancel, CutParams, Heights, OpResult, OpSpec, Stepover, Target};
use swarf_core::post::{Dialect, PostOptions, Section, write_program};
use swarf_core::tool::Tool;
use swarf_core::toolpath::{Motion, Toolpath};

const F: f64 = 0.01;

fn scale_pline(p: &Pline, f: f64) -> Pline {
    let mut out = Pline::new_closed();
    out.set_is_closed(p.is_closed());
    for v in p.iter_vertexes() {
        out.add_vertex(PlineVertex::new(v.x * f, v.y * f, v.bulge));
    }
    out
}

fn scale_region(r: &Region, f: f64) -> Region {
    Region {
        outer: scale_pline(&r.outer, f),
        islands: r.islands.iter().map(|i| scale_pline(i, f)).collect(),
    }
}

fn scale_mesh(m: &Mesh, f: f64) -> Mesh {
    let mut m = m.clone();
    for v in &mut m.vertices {
        for c in v.iter_mut() {
            *c *= f;
        }
    }
    m
}

/// The tool with every length scaled by `f` (a V tool's tip too; angles stay).
fn scale_tool(t: &Tool, f: f64) -> Tool {
    Tool {
        shape: match t.shape {
            swarf_core::tool::ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => swarf_core::tool::ToolShape::V {
                angle_deg,
                tip_diameter_mm: tip_diameter_mm * f,
            },
            other => other,
        },
        diameter_mm: t.diameter_mm * f,
        flute_length_mm: t.flute_length_mm * f,
        stickout_mm: t.stickout_mm * f,
        feeds: swarf_core::tool::Feeds {
            feed_per_tooth_mm: t.feeds.feed_per_tooth_mm * f,
            ..t.feeds
        },
        ..t.clone()
    }
}

fn scale_cut(c: CutParams, f: f64) -> CutParams {
    CutParams {
        heights: Heights {
            clearance_mm: c.heights.clearance_mm * f,
            safe_mm: c.heights.safe_mm * f,
            start_depth_mm: c.heights.start_depth_mm * f,
            final_depth_mm: c.heights.final_depth_mm * f,
        },
        stepdown_mm: c.stepdown_mm.map(|s| s * f),
        allowance_radial_mm: c.allowance_radial_mm * f,
        allowance_axial_mm: c.allowance_axial_mm * f,
        ..c
    }
}

/// The operation with every length scaled by `f` (fractions and angles stay).
fn scale_spec(spec: &OpSpec, f: f64) -> OpSpec {
    let so = |s: Stepover| match s {
        Stepover::Fraction(x) => Stepover::Fraction(x),
        Stepover::Mm(mm) => Stepover::Mm(mm * f),
    };
    match spec.clone() {
        OpSpec::Pocket(p) => OpSpec::Pocket(PocketParams {
            cut: scale_cut(p.cut, f),
            stepover: so(p.stepover),
            rest_from_diameter_mm: p.rest_from_diameter_mm.map(|d| d * f),
            ..p
        }),
        OpSpec::Adaptive(p) => OpSpec::Adaptive(AdaptiveParams {
            cut: scale_cut(p.cut, f),
            rest_from_diameter_mm: p.rest_from_diameter_mm.map(|d| d * f),
            ..p
        }),
        OpSpec::Contour(p) => OpSpec::Contour(ContourParams {
            cut: scale_cut(p.cut, f),
            stepover: so(p.stepover),
            lead_radius_mm: p.lead_radius_mm * f,
            tab_width_mm: p.tab_width_mm * f,
            tab_height_mm: p.tab_height_mm * f,
            ..p
        }),
        OpSpec::Parallel(p) => OpSpec::Parallel(swarf_core::ops::parallel::ParallelParams {
            cut: scale_cut(p.cut, f),
            scallop_mm: p.scallop_mm.map(|h| h * f),
            stepover_mm: p.stepover_mm.map(|s| s * f),
            stock_margin_mm: p.stock_margin_mm.map(|m| m * f),
            ..p
        }),
        OpSpec::Waterline(p) => OpSpec::Waterline(swarf_core::ops::waterline::WaterlineParams {
            cut: scale_cut(p.cut, f),
            scallop_mm: p.scallop_mm.map(|h| h * f),
        }),
        OpSpec::SteepShallow(p) => {
            OpSpec::SteepShallow(swarf_core::ops::steep_shallow::SteepShallowParams {
                cut: scale_cut(p.cut, f),
                overlap_mm: p.overlap_mm.map(|d| d * f),
                scallop_mm: p.scallop_mm.map(|h| h * f),
                stepover_mm: p.stepover_mm.map(|d| d * f),
                ..p
            })
        }
        OpSpec::ZLevelRough(p) => OpSpec::ZLevelRough(scale_z(p, f)),
        OpSpec::ZLevelContour(p) => OpSpec::ZLevelContour(scale_z(p, f)),
        OpSpec::Drill(p) => OpSpec::Drill(DrillParams {
            cut: scale_cut(p.cut, f),
            diameter_min_mm: p.diameter_min_mm * f,
            diameter_max_mm: p.diameter_max_mm.map(|d| d * f),
            peck_mm: p.peck_mm * f,
            peck_reduction_mm: p.peck_reduction_mm * f,
            min_peck_mm: p.min_peck_mm * f,
            backoff_mm: p.backoff_mm * f,
            breakthrough_mm: p.breakthrough_mm * f,
            ..p
        }),
        OpSpec::HelicalBore(p) => OpSpec::HelicalBore(BoreParams {
            cut: scale_cut(p.cut, f),
            diameter_min_mm: p.diameter_min_mm * f,
            diameter_max_mm: p.diameter_max_mm.map(|d| d * f),
            pitch_mm: p.pitch_mm.map(|d| d * f),
            ..p
        }),
        OpSpec::Isolate(p) => OpSpec::Isolate(swarf_core::ops::isolate::IsolateParams {
            cut: scale_cut(p.cut, f),
            ..p
        }),
        OpSpec::Engrave(p) => OpSpec::Engrave(swarf_core::ops::engrave::EngraveParams {
            cut: scale_cut(p.cut, f),
            offset_mm: p.offset_mm.map(|d| d * f),
            ..p
        }),
        OpSpec::VCarve(p) => OpSpec::VCarve(swarf_core::ops::vcarve::VCarveParams {
            cut: scale_cut(p.cut, f),
        }),
        OpSpec::Text(p) => OpSpec::Text(swarf_core::ops::text::TextParams {
            cut: scale_cut(p.cut, f),
            x_mm: p.x_mm * f,
            y_mm: p.y_mm * f,
            style: swarf_core::text::TextStyle {
                height_mm: p.style.height_mm * f,
                arc_radius_mm: p.style.arc_radius_mm.map(|r| r * f),
                ..p.style
            },
            ..p
        }),
    }
}

fn scale_z(p: ZLevelParams, f: f64) -> ZLevelParams {
    ZLevelParams {
        cut: scale_cut(p.cut, f),
        stock_margin_mm: p.stock_margin_mm.map(|m| m * f),
        ..p
    }
}

fn drawing(regions: Vec<Region>) -> swarf_core::import::Model {
    let d = swarf_core::import::import_dxf(
        b"0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n",
        &swarf_core::import::DxfOptions::default(),
    )
    .unwrap();
    let closed_loops = regions
        .iter()
        .flat_map(|r| std::iter::once(r.outer.clone()).chain(r.islands.iter().cloned()))
        .collect();
    swarf_core::import::Model::Drawing(swarf_core::import::Drawing {
        regions,
        closed_loops,
        ..d
    })
}

/// A pocket with two islands and no symmetry.
fn part() -> Region {
    let mut r = swarf_core::samples::pocket_20x15_two_islands();
    let circle = |cx: f64, cy: f64, rad: f64| {
        let mut p = Pline::new_closed();
        p.add(cx + rad, cy, -1.0);
        p.add(cx - rad, cy, -1.0);
        p
    };
    r.islands = vec![circle(6.0, 7.2, 1.5), circle(13.7, 8.1, 1.2)];
    r
}

fn boss() -> Mesh {
    use swarf_core::samples::{box_mesh, cylinder_mesh, merge_meshes};
    merge_meshes(&[
        box_mesh([0.0, 0.0, -3.0], [20.0, 15.0, -2.0]),
        cylinder_mesh(7.0, 7.3, 3.0, -2.0, 0.0, 48),
        box_mesh([12.0, 4.5, -2.0], [17.3, 11.0, -0.8]),
    ])
}

/// The largest distance between corresponding end points and arc centres of `small` and
/// `big` scaled by `f`; `None` when the moves differ in number or kind.
/// The farthest a cutting move's end of either toolpath (the big one scaled by `f`) lies from
/// the other's cutting moves' ends.
fn cut_set_deviation(big: &Toolpath, small: &Toolpath, f: f64) -> Result<f64, String> {
    let ends = |tp: &Toolpath, k: f64| -> Vec<[f64; 3]> {
        tp.moves
            .iter()
            .filter(|m| matches!(m.class, swarf_core::toolpath::MoveClass::Cut))
            .map(|m| [m.to.x * k, m.to.y * k, m.to.z * k])
            .collect()
    };
    let (a, b) = (ends(big, f), ends(small, 1.0));
    if a.is_empty() || b.is_empty() {
        return Err("no cutting moves".into());
    }
    let far = |from: &[[f64; 3]], to: &[[f64; 3]]| {
        from.iter()
            .map(|p| {
                to.iter()
                    .map(|q| {
                        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2))
                            .sqrt()
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .fold(0.0, f64::max)
    };
    Ok(far(&a, &b).max(far(&b, &a)))
}

/// The farthest a cutting move's end of either toolpath (the big one scaled by `f`) lies from
/// the other's cutting moves (as segments): for paths whose points are chosen by comparisons
/// with the tolerance (3D finishing's sampling), where the two sizes may choose different
/// points along the same surface.
fn cut_path_deviation(big: &Toolpath, small: &Toolpath, f: f64) -> Result<f64, String> {
    let segs = |tp: &Toolpath, k: f64| -> Vec<([f64; 3], [f64; 3])> {
        let mut out = Vec::new();
        let mut from = tp.start;
        for m in &tp.moves {
            if matches!(m.class, swarf_core::toolpath::MoveClass::Cut) {
                if let swarf_core::toolpath::Motion::Arc { centre, ccw } = m.motion {
                    // An arc as 64 chords (both sizes alike: the sag cancels out in
                    // what is compared, the same arcs' chords).
                    let sweep = swarf_core::toolpath::arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                    let r = (from.xy() - centre).length();
                    let a0 = (from.xy() - centre).angle();
                    let at = |t: f64| {
                        let q = centre + swarf_core::geometry::V2::from_angle(a0 + sweep * t) * r;
                        [q.x * k, q.y * k, (from.z + (m.to.z - from.z) * t) * k]
                    };
                    for j in 0..64 {
                        out.push((at(f64::from(j) / 64.0), at(f64::from(j + 1) / 64.0)));
                    }
                } else {
                    out.push((
                        [from.x * k, from.y * k, from.z * k],
                        [m.to.x * k, m.to.y * k, m.to.z * k],
                    ));
                }
            }
            from = m.to;
        }
        out
    };
    let (a, b) = (segs(big, f), segs(small, 1.0));
    if a.is_empty() || b.is_empty() {
        return Err("no cutting moves".into());
    }
    let dist = |p: [f64; 3], s: &([f64; 3], [f64; 3])| {
        let d = [s.1[0] - s.0[0], s.1[1] - s.0[1], s.1[2] - s.0[2]];
        let w = [p[0] - s.0[0], p[1] - s.0[1], p[2] - s.0[2]];
        let l2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        let t = if l2 > 0.0 {
            ((w[0] * d[0] + w[1] * d[1] + w[2] * d[2]) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        ((w[0] - t * d[0]).powi(2) + (w[1] - t * d[1]).powi(2) + (w[2] - t * d[2]).powi(2)).sqrt()
    };
    let far = |from: &[([f64; 3], [f64; 3])], to: &[([f64; 3], [f64; 3])]| {
        from.iter()
            .map(|s| {
                to.iter()
                    .map(|t| dist(s.1, t))
                    .fold(f64::INFINITY, f64::min)
            })
            .fold(0.0, f64::max)
    };
    Ok(far(&a, &b).max(far(&b, &a)))
}

fn deviation(big: &Toolpath, small: &Toolpath, f: f64) -> Result<f64, String> {
    if big.moves.len() != small.moves.len() {
        return Err(format!(
            "{} moves at full size, {} scaled",
            big.moves.len(),
            small.moves.len()
        ));
    }
    let mut worst = 0.0f64;
    for (i, (a, b)) in big.moves.iter().zip(&small.moves).enumerate() {
        let d = |p: [f64; 3], q: [f64; 3]| {
            ((p[0] * f - q[0]).powi(2) + (p[1] * f - q[1]).powi(2) + (p[2] * f - q[2]).powi(2))
                .sqrt()
        };
        worst = worst.max(d([a.to.x, a.to.y, a.to.z], [b.to.x, b.to.y, b.to.z]));
        match (a.motion, b.motion) {
            (Motion::Rapid, Motion::Rapid) | (Motion::Line, Motion::Line) => {}
            (
                Motion::Arc {
                    centre: c1,
                    ccw: w1,
                },
                Motion::Arc {
                    centre: c2,
                    ccw: w2,
                },
            ) if w1 == w2 => worst = worst.max(d([c1.x, c1.y, 0.0], [c2.x, c2.y, 0.0])),
            (m1, m2) => return Err(format!("move {i}: {m1:?} at full size, {m2:?} scaled")),
        }
    }
    Ok(worst)
}

/// The budget part (symmetric: many of its choices are exact ties) and one without symmetry.
#[test]
fn every_operation_scaled_by_a_hundredth_gives_the_same_moves_scaled() {
    let mut failures = scale_case(&swarf_core::samples::pocket_20x15_two_islands());
    failures.extend(scale_case(&part()));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn scale_case(part: &Region) -> Vec<String> {
    let tol = Tolerance::default();
    let small_tol = tol.scaled(F);
    let tool = Tool::micro_flat(1.0);
    let small_tool = scale_tool(&tool, F);
    // V-carving takes a V tool, the same scaled.
    let v_tool = Tool {
        shape: swarf_core::tool::ToolShape::V {
            angle_deg: 60.0,
            tip_diameter_mm: 0.02,
        },
        diameter_mm: 3.0,
        flute_length_mm: 5.0,
        stickout_mm: 8.0,
        ..tool.clone()
    };
    let small_v_tool = scale_tool(&v_tool, F);
    let ball = Tool {
        shape: swarf_core::tool::ToolShape::Ball,
        ..tool.clone()
    };
    let small_ball = scale_tool(&ball, F);
    let plate = drawing(vec![part.clone()]);
    let small_plate = drawing(vec![scale_region(part, F)]);
    let mesh = swarf_core::import::Model::Mesh(swarf_core::import::StlPart {
        mesh: boss(),
        ..swarf_core::import::import_stl(
            &boss().to_binary_stl("boss"),
            &swarf_core::import::StlOptions::default(),
        )
        .unwrap()
    });
    let small_mesh = match &mesh {
        swarf_core::import::Model::Mesh(m) => {
            swarf_core::import::Model::Mesh(swarf_core::import::StlPart {
                mesh: scale_mesh(&m.mesh, F),
                ..m.clone()
            })
        }
        swarf_core::import::Model::Drawing(_) => unreachable!(),
    };
    let cut = CutParams {
        heights: Heights {
            final_depth_mm: 0.4,
            ..Heights::default()
        },
        stepdown_mm: Some(0.2),
        allowance_radial_mm: 0.02,
        ..CutParams::default()
    };
    let cases: Vec<(&str, OpSpec, bool)> = vec![
        (
            "pocket",
            OpSpec::Pocket(PocketParams {
                cut,
                ..PocketParams::default()
            }),
            false,
        ),
        (
            "zigzag",
            OpSpec::Pocket(PocketParams {
                cut,
                pattern: Pattern::Zigzag,
                zigzag_angle_deg: 23.0,
                ..PocketParams::default()
            }),
            false,
        ),
        (
            "rest",
            OpSpec::Pocket(PocketParams {
                cut,
                rest_from_diameter_mm: Some(3.0),
                ..PocketParams::default()
            }),
            false,
        ),
        (
            "contour",
            OpSpec::Contour(ContourParams {
                cut: CutParams {
                    allowance_radial_mm: 0.0,
                    ..cut
                },
                side: Side::Inside,
                lead_radius_mm: 0.5,
                roughing_passes: 2,
                ..ContourParams::default()
            }),
            false,
        ),
        (
            "adaptive",
            OpSpec::Adaptive(AdaptiveParams {
                cut,
                ..AdaptiveParams::default()
            }),
            false,
        ),
        (
            "peck",
            OpSpec::Drill(DrillParams {
                cut,
                cycle: DrillCycle::Peck,
                peck_mm: 0.1,
                peck_reduction_mm: 0.02,
                min_peck_mm: 0.04,
                breakthrough_mm: 0.05,
                ..DrillParams::default()
            }),
            false,
        ),
        (
            "helical-bore",
            OpSpec::HelicalBore(BoreParams {
                cut,
                finish_pass: true,
                spring_pass: true,
                ..BoreParams::default()
            }),
            false,
        ),
        (
            "vcarve",
            OpSpec::VCarve(swarf_core::ops::vcarve::VCarveParams {
                cut: CutParams {
                    allowance_radial_mm: 0.0,
                    entry: swarf_core::ops::Entry {
                        kind: swarf_core::ops::EntryKind::Plunge,
                        ..swarf_core::ops::Entry::default()
                    },
                    ..cut
                },
            }),
            false,
        ),
        (
            "text",
            OpSpec::Text(swarf_core::ops::text::TextParams {
                cut: CutParams {
                    allowance_radial_mm: 0.0,
                    entry: swarf_core::ops::Entry {
                        kind: swarf_core::ops::EntryKind::Plunge,
                        ..swarf_core::ops::Entry::default()
                    },
                    ..cut
                },
                text: "SN {n:03}".into(),
                x_mm: 2.0,
                y_mm: 3.0,
                style: swarf_core::text::TextStyle {
                    height_mm: 2.0,
                    arc_radius_mm: Some(8.0),
                    ..swarf_core::text::TextStyle::default()
                },
                ..swarf_core::ops::text::TextParams::default()
            }),
            false,
        ),
        (
            "zlevel-rough",
            OpSpec::ZLevelRough(ZLevelParams {
                cut: CutParams {
                    heights: Heights {
                        final_depth_mm: 2.0,
                        ..Heights::default()
                    },
                    stepdown_mm: Some(0.5),
                    ..cut
                },
                ..ZLevelParams::default()
            }),
            true,
        ),
        (
            "parallel",
            OpSpec::Parallel(swarf_core::ops::parallel::ParallelParams {
                cut: CutParams {
                    heights: Heights {
                        final_depth_mm: 3.0,
                        ..Heights::default()
                    },
                    ..cut
                },
                stepover_mm: Some(0.35),
                angle_deg: 30.0,
                // Where passes are added is decided by comparing distances with the
                // step-over, a tie rounding may tip; the passes themselves are checked.
                slope_compensation: false,
                ..swarf_core::ops::parallel::ParallelParams::default()
            }),
            true,
        ),
        (
            "waterline",
            OpSpec::Waterline(swarf_core::ops::waterline::WaterlineParams {
                cut: CutParams {
                    heights: Heights {
                        final_depth_mm: 3.0,
                        ..Heights::default()
                    },
                    stepdown_mm: Some(0.5),
                    ..cut
                },
                ..swarf_core::ops::waterline::WaterlineParams::default()
            }),
            true,
        ),
        (
            "steep-shallow",
            OpSpec::SteepShallow(swarf_core::ops::steep_shallow::SteepShallowParams {
                cut: CutParams {
                    heights: Heights {
                        final_depth_mm: 3.0,
                        ..Heights::default()
                    },
                    stepdown_mm: Some(0.5),
                    ..cut
                },
                stepover_mm: Some(0.35),
                angle_deg: 30.0,
                // As for parallel: where passes are added a tie rounding may tip.
                slope_compensation: false,
                ..swarf_core::ops::steep_shallow::SteepShallowParams::default()
            }),
            true,
        ),
        (
            "zlevel-contour",
            OpSpec::ZLevelContour(ZLevelParams {
                cut: CutParams {
                    heights: Heights {
                        final_depth_mm: 2.0,
                        ..Heights::default()
                    },
                    stepdown_mm: Some(0.5),
                    allowance_radial_mm: 0.0,
                    ..cut
                },
                ..ZLevelParams::default()
            }),
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (name, spec, on_mesh) in &cases {
        let (big_part, small_part) = if *on_mesh {
            (&mesh, &small_mesh)
        } else {
            (&plate, &small_plate)
        };
        let run = |model, spec: &OpSpec, tool: &Tool, tol: &Tolerance| -> OpResult {
            spec.run(model, Target::Regions, tool, tol, &Cancel::NEVER)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let (tool, small_tool) = if matches!(spec, OpSpec::VCarve(_)) {
            (&v_tool, &small_v_tool)
        } else if matches!(
            spec,
            OpSpec::Parallel(_) | OpSpec::Waterline(_) | OpSpec::SteepShallow(_)
        ) {
            // A ball: a flat end's cutter-location surface steps where its rim passes an
            // edge, and which side of the step a point falls on is a tie rounding decides.
            (&ball, &small_ball)
        } else {
            (&tool, &small_tool)
        };
        let big = run(big_part, spec, tool, &tol);
        let small = run(small_part, &scale_spec(spec, F), small_tool, &small_tol);
        assert!(big.toolpath.moves.len() > 20, "{name}: too few moves");
        // A V-carve's order of paths and its stay-down links are decided by comparisons that
        // rounding can tip either way: its cutting points are compared as sets.
        let dev = if matches!(spec, OpSpec::VCarve(_)) {
            cut_set_deviation(&big.toolpath, &small.toolpath, F)
        } else if matches!(
            spec,
            OpSpec::Parallel(_) | OpSpec::Waterline(_) | OpSpec::SteepShallow(_)
        ) {
            cut_path_deviation(&big.toolpath, &small.toolpath, F)
        } else {
            deviation(&big.toolpath, &small.toolpath, F)
        };
        match dev {
            Ok(dev) if dev <= small_tol.path_mm => {}
            Ok(dev) => failures.push(format!(
                "{name}: end points {dev:.3e} mm from the scaled ones (tolerance {:.1e})",
                small_tol.path_mm
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        // The small program at 6 decimals: LinuxCNC reads it without an error.
        let post = PostOptions {
            dialect: Dialect::LinuxCnc,
            decimals: 6,
            ..PostOptions::default()
        };
        let program = write_program(
            &[Section {
                name,
                tool: small_tool,
                toolpath: &small.toolpath,
                coolant: None,
                place: None,
            }],
            &post,
            &small_tol,
        )
        .unwrap();
        if let Some((report, _)) =
            common::rs274(&program.text, "linuxcnc", &format!("scale-{name}"))
        {
            let errors = report["errors"].as_array().map_or(0, Vec::len);
            if errors > 0 || report["ok"] != true {
                failures.push(format!("{name}: rs274 errors {}", report["errors"]));
            }
        }
    }
    failures
}
