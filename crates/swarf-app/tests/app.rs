//! The app as a user sees it, in `egui_kittest` with the wgpu renderer (software Vulkan in CI):
//! first start, a parameter change regenerating, the 3D view in snapshots.

use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, wgpu::WgpuTestRenderer};
use swarf_app::SwarfApp;

/// A wgpu render state shared by the app's 3D view and the harness, or `None` (said loudly)
/// when the machine has no adapter at all.
fn render_state() -> Option<egui_wgpu::RenderState> {
    if let Err(e) = swarf_render::Headless::new() {
        eprintln!("\n*** SKIPPED: {e}\n*** CI installs mesa-vulkan-drivers so this runs there.\n");
        return None;
    }
    Some(egui_kittest::wgpu::create_render_state(
        egui_kittest::wgpu::default_wgpu_setup(),
        egui_wgpu::RendererOptions::PREDICTABLE,
    ))
}

fn harness(app: SwarfApp, rs: &egui_wgpu::RenderState) -> Harness<'static, SwarfApp> {
    harness_sized(app, rs, egui::vec2(1100.0, 700.0))
}

fn harness_sized(
    app: SwarfApp,
    rs: &egui_wgpu::RenderState,
    size: egui::Vec2,
) -> Harness<'static, SwarfApp> {
    let view_rs = rs.clone();
    Harness::builder()
        .with_size(size)
        .renderer(WgpuTestRenderer::from_render_state(rs.clone()))
        .build_ui_state(
            move |ui, app: &mut SwarfApp| app.ui(ui, Some(&view_rs)),
            app,
        )
}

/// Software rasterisers on other CPUs may differ in a few edge pixels of thin lines.
fn tolerant() -> egui_kittest::SnapshotOptions {
    egui_kittest::SnapshotOptions::new()
        .threshold(1.0)
        .max_failed_pixels(400)
}

/// Runs frames until the generation in flight has arrived and been drawn.
fn settle(h: &mut Harness<'static, SwarfApp>) {
    h.state_mut().wait();
    h.state_mut().view.scene_dirty = true;
    for _ in 0..3 {
        h.step();
    }
}

#[test]
fn first_start_shows_the_example_part_and_its_toolpaths() {
    let Some(rs) = render_state() else { return };
    let mut h = harness(SwarfApp::example(), &rs);
    settle(&mut h);
    let app = h.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().expect("generated at start");
    assert_eq!(out.operations.len(), 2);
    assert!(
        out.operations
            .iter()
            .all(|(_, _, r)| !r.toolpath.moves.is_empty())
    );
    assert!(app.view.scene.as_ref().is_some_and(|s| s.segments() > 1000));
    let _ = h.get_by_label("recesses (pocket, T2)");
    let _ = h.get_by_label("outline (contour, T3)");
    h.snapshot_options("first_start", &tolerant());
}

#[test]
fn changing_the_stepover_regenerates_and_drops_stale_results() {
    let Some(rs) = render_state() else { return };
    let mut h = harness(SwarfApp::example(), &rs);
    settle(&mut h);
    let moves = |app: &SwarfApp| {
        app.output.as_ref().unwrap().operations[0]
            .2
            .toolpath
            .moves
            .len()
    };
    let before = moves(h.state());
    let gen0 = h.state().generation;
    // Two quick changes: only the last one's result may be shown.
    h.state_mut().set_stepover(0, 0.3);
    h.state_mut().set_stepover(0, 0.1);
    assert_eq!(h.state().generation, gen0 + 2);
    assert!(h.state().busy());
    settle(&mut h);
    let app = h.state();
    assert_eq!(app.output_gen, app.generation, "a stale result is shown");
    let after = moves(app);
    assert!(
        after > before,
        "10 % step-over gives more moves than 40 %: {before} -> {after}"
    );
    match app.job.operations[0].spec.stepover().unwrap() {
        swarf_core::ops::Stepover::Fraction(f) => assert!((f - 0.1).abs() < 1e-12),
        s @ swarf_core::ops::Stepover::Mm(_) => panic!("{s:?}"),
    }
    // Undo goes back to 30 %, then to 40 %.
    h.state_mut().undo();
    h.state_mut().undo();
    settle(&mut h);
    assert_eq!(moves(h.state()), before);
}

#[test]
fn the_top_view_shows_the_toolpaths() {
    let Some(rs) = render_state() else { return };
    let mut h = harness(SwarfApp::example(), &rs);
    settle(&mut h);
    h.get_by_label("Top").click();
    for _ in 0..3 {
        h.step();
    }
    h.snapshot_options("top_view", &tolerant());
}

#[test]
fn playing_back_draws_part_of_the_program_and_the_tool() {
    let Some(rs) = render_state() else { return };
    let mut h = harness(SwarfApp::example(), &rs);
    settle(&mut h);
    h.get_by_label("Top").click();
    h.get_by_label("colour by operation").click();
    h.get_by_label("play back").click();
    for _ in 0..3 {
        h.step();
    }
    let app = h.state();
    let total = app.view.scene.as_ref().unwrap().moves;
    assert_eq!(
        app.view.playback,
        Some(total),
        "play back starts at the end"
    );
    assert_eq!(app.view.colour_by, swarf_render::ColourBy::Operation);
    // Half-way through the first operation: its later passes are not drawn yet.
    let first = app.output.as_ref().unwrap().operations[0]
        .2
        .toolpath
        .moves
        .len() as u32;
    h.state_mut().view.playback = Some(first / 2);
    for _ in 0..3 {
        h.step();
    }
    let scene = h.state().view.scene.as_ref().unwrap();
    let feed = swarf_render::Layer::Feed;
    assert!(scene.vertices_upto(feed, first / 2) < scene.lines[feed.index()].len() as u32);
    h.snapshot_options("playback_half_first_op", &tolerant());
}

#[test]
fn the_legend_names_the_colours() {
    let Some(rs) = render_state() else { return };
    let mut h = harness(SwarfApp::example(), &rs);
    settle(&mut h);
    for name in ["feed", "arc", "plunge/ramp", "link/lead", "rapid"] {
        let _ = h.get_by_label(name);
    }
    h.get_by_label("colour by operation").click();
    for _ in 0..3 {
        h.step();
    }
    // The operations by name, and rapids (red in both colourings).
    let _ = h.get_by_label("recesses");
    let _ = h.get_by_label("outline");
    let _ = h.get_by_label("rapid");
    assert!(h.query_by_label("plunge/ramp").is_none());
}

#[test]
fn an_array_of_copies_is_drawn_with_its_panel_open() {
    let Some(rs) = render_state() else { return };
    let mut app = SwarfApp::example();
    let mut job = app.job.clone();
    job.array = Some(swarf_core::array::ArraySpec {
        columns: 2,
        rows: 2,
        gap_mm: Some([2.0, 2.0]),
        skip: vec![4],
        ..swarf_core::array::ArraySpec::default()
    });
    app.set_job(job);
    let mut h = harness(app, &rs);
    settle(&mut h);
    h.get_by_label("Copies: 4 (3 cut)").click();
    settle(&mut h);
    h.get_by_label("Top").click();
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().output.as_ref().unwrap().copies.len(), 4);
    h.snapshot_options("array_copies", &tolerant());
}

/// "+ V-carve" (issue 20) takes the job's V tool, and "Add floor clean-up" puts a pocket with
/// a flat end mill after it, its boundary the V's cut at the cap inside the walls; both
/// generate on the example plate.
#[test]
fn a_v_carve_is_added_with_its_floor_clean_up() {
    let Some(rs) = render_state() else { return };
    let mut app = SwarfApp::example();
    app.wait();
    let mut job = app.job.clone();
    let mut v = swarf_core::tool::Tool::micro_flat(1.0);
    v.name = "60deg V".into();
    v.number = 9;
    v.shape = swarf_core::tool::ToolShape::V {
        angle_deg: 60.0,
        tip_diameter_mm: 0.02,
    };
    job.tools.push(v.clone());
    app.set_job(job);
    // Tall enough that the V-carve's rows are on screen.
    let mut h = harness_sized(app, &rs, egui::vec2(1100.0, 1400.0));
    settle(&mut h);
    h.get_by_label("+ V-carve").click();
    settle(&mut h);
    let ops = h.state().job.operations.clone();
    let carve = ops.last().expect("added").clone();
    assert_eq!(carve.tool, 9);
    let swarf_core::ops::OpSpec::VCarve(p) = carve.spec else {
        panic!("{:?}", carve.spec)
    };
    let n = ops.len();
    h.get_by_label("Add floor clean-up").click();
    settle(&mut h);
    let app = h.state();
    let ops = &app.job.operations;
    assert_eq!(ops.len(), n + 1);
    let clean = &ops[n];
    let swarf_core::ops::OpSpec::Pocket(pocket) = clean.spec else {
        panic!("{:?}", clean.spec)
    };
    let cap = swarf_core::ops::vcarve::cap_radius(&p, &v).unwrap();
    assert!((pocket.inset_mm - cap).abs() < 1e-12);
    let flat = app
        .job
        .tools
        .iter()
        .find(|t| t.number == clean.tool)
        .unwrap();
    assert!(matches!(flat.shape, swarf_core::tool::ToolShape::Flat));
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().expect("generated");
    let carved = out
        .operations
        .iter()
        .find(|(name, _, _)| *name == carve.name)
        .expect("the V-carve ran");
    assert!(
        carved.2.toolpath.moves.len() > 20,
        "{:?}",
        carved.2.warnings
    );
}

/// "+ Parallel" (issue 17) on a mesh: the operation is added with a scallop height, shown
/// in µm, and generates passes on the surface.
#[test]
fn parallel_finishing_is_added_for_a_mesh() {
    let Some(rs) = render_state() else { return };
    let dir = std::env::temp_dir().join(format!("swarf-app-parallel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mesh =
        swarf_core::samples::heightfield_mesh([0.0, 0.0], [4.0, 3.0], 40, 30, -0.6, |x, y| {
            -0.5 + 0.3 * (-(x - 2.0).powi(2) - (y - 1.5).powi(2)).exp()
        });
    let stl = dir.join("dome.stl");
    std::fs::write(&stl, mesh.to_binary_stl("dome")).unwrap();
    let mut app = SwarfApp::example();
    app.open(&stl);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let mut h = harness_sized(app, &rs, egui::vec2(1100.0, 1400.0));
    settle(&mut h);
    h.get_by_label("+ Parallel").click();
    settle(&mut h);
    // The new operation's generation starts on the frame after the edit.
    settle(&mut h);
    let app = h.state();
    let op = app.job.operations.last().expect("added").clone();
    let swarf_core::ops::OpSpec::Parallel(p) = op.spec else {
        panic!("{:?}", op.spec)
    };
    assert_eq!(p.stepover_mm, None);
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().expect("generated");
    let (_, _, r) = out
        .operations
        .iter()
        .find(|(name, _, _)| *name == op.name)
        .expect("the parallel operation ran");
    assert!(r.toolpath.moves.len() > 100, "{:?}", r.warnings);
    assert!(h.query_by_label("Scallop:").is_some());
    // Its step comes from the scallop: no step-over in % of the diameter beside it.
    assert!(h.query_by_label("Step-over:").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn waterline_finishing_is_added_for_a_mesh() {
    let Some(rs) = render_state() else { return };
    let dir = std::env::temp_dir().join(format!("swarf-app-waterline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mesh =
        swarf_core::samples::heightfield_mesh([0.0, 0.0], [4.0, 3.0], 40, 30, -0.6, |x, y| {
            -0.5 + 0.3 * (-(x - 2.0).powi(2) - (y - 1.5).powi(2)).exp()
        });
    let stl = dir.join("dome.stl");
    std::fs::write(&stl, mesh.to_binary_stl("dome")).unwrap();
    let mut app = SwarfApp::example();
    app.open(&stl);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let mut h = harness_sized(app, &rs, egui::vec2(1100.0, 1400.0));
    settle(&mut h);
    h.get_by_label("+ Waterline").click();
    settle(&mut h);
    // The new operation's generation starts on the frame after the edit.
    settle(&mut h);
    let app = h.state();
    let op = app.job.operations.last().expect("added").clone();
    let swarf_core::ops::OpSpec::Waterline(p) = op.spec else {
        panic!("{:?}", op.spec)
    };
    assert_eq!(p.cut.stepdown_mm, None);
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().expect("generated");
    let (_, _, r) = out
        .operations
        .iter()
        .find(|(name, _, _)| *name == op.name)
        .expect("the waterline operation ran");
    assert!(r.toolpath.moves.len() > 100, "{:?}", r.warnings);
    // Closed contours round the dome, one level after another, and the notes say why the
    // levels are as far apart as they are (the example's tool is a flat end mill).
    assert!(
        r.notes.iter().any(|n| n.contains("levels")),
        "{:?}",
        r.notes
    );
    assert!(h.query_by_label("Step down by:").is_some());
    assert!(h.query_by_label("Step-over:").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn steep_and_shallow_finishing_is_added_for_a_mesh() {
    let Some(rs) = render_state() else { return };
    let dir = std::env::temp_dir().join(format!("swarf-app-steep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A mesa: a gentle top, steep walls.
    let mesh =
        swarf_core::samples::heightfield_mesh([0.0, 0.0], [4.0, 3.0], 40, 30, -0.55, |x, y| {
            let r = ((x - 2.0).powi(2) + (y - 1.5).powi(2)).sqrt();
            if r < 0.8 {
                -0.1 - 0.05 * r * r
            } else if r < 0.95 {
                -0.132 - 2.0 * (r - 0.8)
            } else {
                -0.432
            }
        });
    let stl = dir.join("mesa.stl");
    std::fs::write(&stl, mesh.to_binary_stl("mesa")).unwrap();
    let mut app = SwarfApp::example();
    app.open(&stl);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let mut h = harness_sized(app, &rs, egui::vec2(1100.0, 1400.0));
    settle(&mut h);
    h.get_by_label("+ Steep/shallow").click();
    settle(&mut h);
    settle(&mut h);
    let app = h.state();
    let op = app.job.operations.last().expect("added").clone();
    let swarf_core::ops::OpSpec::SteepShallow(p) = op.spec else {
        panic!("{:?}", op.spec)
    };
    assert_eq!(p.threshold_deg, 45.0);
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().expect("generated");
    let (_, _, r) = out
        .operations
        .iter()
        .find(|(name, _, _)| *name == op.name)
        .expect("the steep/shallow operation ran");
    assert!(r.toolpath.moves.len() > 100, "{:?}", r.warnings);
    assert!(
        r.notes[0].starts_with("steep and shallow at 45°"),
        "{:?}",
        r.notes
    );
    assert!(h.query_by_label("Steep above:").is_some());
    assert!(h.query_by_label("Overlap:").is_some());
    // Waterlines enter along their path or plunge: no helix offered.
    assert!(h.query_by_label("Helix Ø:").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}
