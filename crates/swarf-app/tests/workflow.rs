//! The workflow a user goes through, without a GPU (the 3D view says it has no renderer):
//! project save and open, autosave and recovery after a crash, opening drawings and bad files,
//! editing operations and tools through the panels, export with its summary.

use std::path::{Path, PathBuf};

/// The parameters of an operation of a given type (panics naming the type it found).
#[allow(dead_code)]
fn spec_of<T>(
    op: &swarf_core::job::Operation,
    f: impl Fn(&swarf_core::ops::OpSpec) -> Option<T>,
) -> T {
    f(&op.spec).unwrap_or_else(|| panic!("operation {} is a {}", op.name, op.spec.name()))
}

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use swarf_app::{Store, SwarfApp};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swarf-app-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/files")
        .join(name)
}

/// Each operation's type and whether it is on.
fn op_kinds(app: &SwarfApp) -> Vec<(&'static str, bool)> {
    app.job
        .operations
        .iter()
        .map(|o| (o.spec.name(), o.enabled))
        .collect()
}

fn ui_harness(app: SwarfApp) -> Harness<'static, SwarfApp> {
    Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .build_ui_state(|ui, app: &mut SwarfApp| app.ui(ui, None), app)
}

/// Types `text` over the contents of the field labelled `label`, presses Enter, and waits for
/// the regeneration it starts.
fn replace_field(h: &mut Harness<'static, SwarfApp>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run_steps(3);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(3);
    h.get_by_label(label).type_text(text);
    h.run_steps(3);
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    h.state_mut().wait();
    h.run_steps(3);
}

fn moves(app: &SwarfApp) -> usize {
    app.output
        .as_ref()
        .expect("generated")
        .operations
        .iter()
        .map(|(_, _, r)| r.toolpath.moves.len())
        .sum()
}

#[test]
fn a_saved_project_opens_with_everything_it_had() {
    let dir = temp("project");
    let dxf = dir.join("plate.dxf");
    std::fs::write(&dxf, swarf_core::EXAMPLE_DXF).unwrap();
    let mut app = SwarfApp::new(Store::at(dir.join("state")));
    app.open(&dxf);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    app.set_stepover(0, 0.25);
    app.set_depth(1, 0.3);
    app.job.post.decimals = 5;
    app.wait();
    // The window title names the project and shows unsaved changes.
    assert!(
        app.window_title()
            .starts_with("*unsaved project (plate.dxf"),
        "{}",
        app.window_title()
    );
    let project = dir.join("plate.toml");
    app.save_project(&project).unwrap();
    assert!(!app.dirty);
    assert!(
        app.window_title().starts_with("plate.toml (plate.dxf"),
        "{}",
        app.window_title()
    );
    let text = std::fs::read_to_string(&project).unwrap();
    assert!(
        text.contains("file = \"plate.dxf\""),
        "the part is stored relative to the project:\n{text}"
    );

    let mut again = SwarfApp::new(Store::at(dir.join("state")));
    again.open(&project);
    again.wait();
    assert!(again.error.is_none(), "{:?}", again.error);
    assert_eq!(again.job, app.job);
    assert_eq!(moves(&again), moves(&app));
    assert_eq!(again.project_path.as_deref(), Some(project.as_path()));
    assert_eq!(
        again.recent.first(),
        Some(&std::path::absolute(&project).unwrap())
    );
    // No half-written file or temporary is left beside the project.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsaved_work_survives_a_crash_and_is_offered_back() {
    let dir = temp("autosave");
    let store = || Store::at(dir.join("state"));
    let mut app = SwarfApp::new(store());
    assert!(app.recovery.is_none());
    app.set_stepover(0, 0.2);
    app.set_depth(0, 0.15);
    app.autosave_now();
    let changed = app.job.clone();
    // The process dies here: no on_exit. The next start finds the work.
    drop(app);
    let mut next = SwarfApp::new(store());
    let offered = next.recovery.as_ref().expect("recovery offered");
    assert_eq!(offered.job.operations, changed.operations);
    next.recover();
    next.wait();
    assert!(next.error.is_none(), "{:?}", next.error);
    assert_eq!(next.job.operations, changed.operations);
    assert!(next.dirty, "recovered work is unsaved until saved");
    // Saved, then closed cleanly: nothing is offered at the next start.
    next.save_project(&dir.join("kept.toml")).unwrap();
    next.on_exit();
    assert!(SwarfApp::new(store()).recovery.is_none());
    // Discarding drops it for good.
    let mut a = SwarfApp::new(store());
    a.set_depth(0, 0.2);
    a.on_exit();
    // A second app running beside it does not take its work...
    assert!(SwarfApp::new(store()).recovery.is_none());
    // ...the next one after it has gone does.
    drop(a);
    let mut b = SwarfApp::new(store());
    assert!(b.recovery.is_some(), "closing with unsaved work keeps it");
    b.discard_recovery();
    assert!(SwarfApp::new(store()).recovery.is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_files_are_refused_with_a_reason_and_nothing_is_lost() {
    let dir = temp("bad");
    let mut app = SwarfApp::example();
    app.wait();
    let job = app.job.clone();
    let n = moves(&app);
    let broken = dir.join("broken.dxf");
    std::fs::write(&broken, "0\nSECTION\n2\nENTITIES\n0\nLINE\n10\nnan\n").unwrap();
    for (path, says) in [
        (broken, "nothing to machine"),
        (dir.join("missing.dxf"), "missing.dxf"),
        (dir.join("part.stl"), "part.stl"),
        (dir.join("notes.doc"), "DXF"),
        (dir.join("missing.drl"), "missing.drl"),
        (dir.join("missing.toml"), "missing.toml"),
    ] {
        app.open(&path);
        app.wait();
        let e = app.error.clone().unwrap_or_default();
        assert!(e.contains(says), "{}: {e}", path.display());
        assert_eq!(app.job, job, "{}", path.display());
        assert_eq!(moves(&app), n);
        app.error = None;
    }
    // A corpus drawing opens, and undo brings the example part back.
    let gear = corpus("gfsmith_gear7_pinion.dxf");
    if gear.exists() {
        app.open(&gear);
        app.wait();
        assert!(app.error.is_none(), "{:?}", app.error);
        assert!(app.part_name.contains("gear7"));
        app.undo();
        app.wait();
        assert_eq!(app.job, job);
        assert_eq!(moves(&app), n);
    } else {
        eprintln!(
            "\n*** corpus file {} missing: the drawing part of this test did not run\n",
            gear.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_writes_the_program_shown_and_refuses_a_failed_one() {
    let dir = temp("export");
    let mut app = SwarfApp::example();
    let p = dir.join("plate.ngc");
    app.export(&p).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(text, app.output.as_ref().unwrap().program.text);
    // The export summary is the whole program's: every operation's moves and arcs.
    let st = app.summary.expect("a summary with the result");
    assert_eq!(st.moves, moves(&app));
    let out = app.output.as_ref().unwrap();
    let arcs: usize = out
        .operations
        .iter()
        .map(|(_, _, r)| r.toolpath.stats(3000.0).arcs)
        .sum();
    assert_eq!(st.arcs, arcs);
    assert!(st.estimated_seconds > 0.0 && st.bounds_min.z < 0.0);
    // A tool wider than every hole: nothing is cut there, and the user is told per region.
    let mut job = app.job.clone();
    job.tools[0].diameter_mm = 5.0;
    job.tools[0].flute_length_mm = 15.0;
    job.tools[0].stickout_mm = 20.0;
    app.set_job(job);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let narrow = app
        .messages
        .iter()
        .filter(|m| m.contains("narrower than the 5 mm tool"))
        .count();
    let out = app.output.as_ref().unwrap();
    let drawing = out.model.drawing().unwrap();
    let holes = swarf_core::job::target_regions(drawing, app.job.operations[0].target);
    assert_eq!(narrow, holes.len());
    // A depth of zero is refused by name; export says why and keeps the last file.
    app.undo();
    app.set_depth(0, 0.0);
    let e = app.export(&p).unwrap_err();
    assert!(
        e.contains("nothing to export") && e.contains("final_depth_mm"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn operations_are_added_reordered_and_removed_from_the_panel() {
    let mut h = ui_harness(SwarfApp::example());
    h.state_mut().wait();
    h.run_steps(3);
    assert_eq!(h.state().job.operations.len(), 2);
    h.get_by_label("+ Contour").click();
    h.run_steps(3);
    h.state_mut().wait();
    let app = h.state();
    assert_eq!(app.job.operations.len(), 3);
    assert_eq!(app.selected, 2);
    assert_eq!(app.output.as_ref().unwrap().operations.len(), 3);
    assert!(app.up_to_date());
    h.get_by_label("Up").click();
    h.run_steps(3);
    assert_eq!(h.state().job.operations[1].name, "contour 3");
    assert_eq!(h.state().selected, 1);
    h.get_by_label("Remove").click();
    h.run_steps(3);
    h.state_mut().wait();
    let names: Vec<_> = h
        .state()
        .job
        .operations
        .iter()
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(names, ["recesses", "outline"]);
    // Three steps back: the added contour returns, moved, then it was never there.
    h.state_mut().undo();
    assert_eq!(h.state().job.operations.len(), 3);
    h.state_mut().undo();
    h.state_mut().undo();
    assert_eq!(h.state().job.operations.len(), 2);
}

#[test]
fn typing_a_step_over_in_the_panel_regenerates_with_it() {
    let mut h = ui_harness(SwarfApp::example());
    h.state_mut().wait();
    h.run_steps(3);
    let before = moves(h.state());
    let gen0 = h.state().generation;
    replace_field(&mut h, "Step-over:", "15");
    let app = h.state();
    assert!(app.generation > gen0);
    match app.job.operations[0].spec.stepover().unwrap() {
        swarf_core::ops::Stepover::Fraction(f) => assert!((f - 0.15).abs() < 1e-9, "{f}"),
        s @ swarf_core::ops::Stepover::Mm(_) => panic!("{s:?}"),
    }
    assert!(app.up_to_date());
    assert!(moves(app) > before, "15 % gives more passes than 40 %");
    // Typing into one field is one undo step.
    h.state_mut().undo();
    h.state_mut().wait();
    assert_eq!(moves(h.state()), before);
}

#[test]
fn the_tool_library_keeps_the_users_tools() {
    let dir = temp("library");
    let store = || Store::at(dir.join("state"));
    let mut h = ui_harness(SwarfApp::new(store()));
    h.state_mut().wait();
    h.run_steps(3);
    // The operations folded away, so the tools fit in the window.
    h.get_by_label("Operations").click();
    h.run_steps(3);
    h.get_by_label("Tools").click();
    h.run_steps(3);
    // Add a preset to the job; it gets the lowest free tool number.
    h.get_by_label("+ From library").click();
    h.run_steps(3);
    let first = h.state().library.tools[0].clone();
    h.get_by_label(&format!("{} (Ø {} mm)", first.name, first.diameter_mm))
        .click();
    h.run_steps(3);
    let app = h.state();
    assert_eq!(app.job.tools.len(), 3);
    let added = app.job.tools.last().unwrap();
    assert_eq!(added.name, first.name);
    assert!(
        app.job
            .tools
            .iter()
            .filter(|t| t.number == added.number)
            .count()
            == 1
    );
    // A tool an operation uses cannot be removed; the added one can.
    h.state_mut().selected_tool = 0;
    h.run_steps(3);
    assert!(h.get_by_label("Remove tool").accesskit_node().is_disabled());
    // Save the job's first tool to the library: it persists.
    h.get_by_label("Save to library").click();
    h.run_steps(3);
    let t0 = h.state().job.tools[0].clone();
    let (lib, err) = store().tools();
    assert!(err.is_none());
    assert!(lib.tools.iter().any(|t| t == &t0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_stl_part_gets_z_level_operations_and_a_drawing_gets_its_own_back() {
    let dir = temp("stl");
    let mesh = swarf_core::samples::merge_meshes(&[
        swarf_core::samples::box_mesh([0.0, 0.0, 0.0], [4.0, 4.0, 0.2]),
        swarf_core::samples::box_mesh([1.0, 1.0, 0.2], [3.0, 3.0, 0.5]),
    ]);
    let stl = dir.join("boss.stl");
    std::fs::write(&stl, mesh.to_binary_stl("boss")).unwrap();
    let mut app = SwarfApp::example();
    app.open(&stl);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(app.model.as_ref().unwrap().mesh().is_some());
    let kinds = op_kinds(&app);
    assert_eq!(
        kinds,
        [
            ("pocket", false),
            ("contour", false),
            ("zlevel-rough", true),
            ("zlevel-contour", true)
        ]
    );
    assert_eq!(app.selected, 2);
    let out = app.output.as_ref().unwrap();
    assert_eq!(out.operations.len(), 2);
    // Roughing leaves its 5 µm floor allowance; finishing reaches the mesh's floor.
    for ((name, _, r), floor) in out.operations.iter().zip([-0.495, -0.5]) {
        let deepest = r.toolpath.moves.iter().map(|m| m.to.z).fold(0.0, f64::min);
        assert!((deepest - floor).abs() < 1e-6, "{name}: {deepest}");
    }
    // Back to a drawing: the drawing operations are switched on again only by the user, so
    // with none enabled the usual pair is added.
    let dxf = dir.join("plate.dxf");
    std::fs::write(&dxf, swarf_core::EXAMPLE_DXF).unwrap();
    app.open(&dxf);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let enabled: Vec<_> = app
        .job
        .operations
        .iter()
        .filter(|o| o.enabled)
        .map(|o| o.spec.name())
        .collect();
    assert_eq!(enabled, ["pocket", "contour"]);
    // Undo twice: the mesh, then the example as it was.
    app.undo();
    app.wait();
    assert!(app.model.as_ref().unwrap().mesh().is_some());
    app.undo();
    app.wait();
    assert_eq!(app.job.operations.len(), 2);
    assert!(app.model.as_ref().unwrap().drawing().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cancelling_keeps_the_last_result_and_a_layer_choice_reimports() {
    let mut app = SwarfApp::example();
    app.wait();
    let shown = app.output_gen;
    let n = moves(&app);
    app.set_stepover(0, 0.05);
    assert!(app.busy());
    app.cancel();
    assert!(!app.busy());
    assert_eq!(app.output_gen, shown, "the last finished result stays");
    assert_eq!(moves(&app), n);
    assert!(!app.up_to_date(), "and is marked as not current");
    assert!(app.messages[0].contains("cancelled"));
    // The same parameters again finish normally.
    app.regenerate();
    app.wait();
    assert!(app.up_to_date());

    // Only the HOLES layer: fewer loops, and the outline contour has nothing of OUTLINE.
    let loops = |a: &SwarfApp| {
        a.model
            .as_ref()
            .unwrap()
            .drawing()
            .unwrap()
            .closed_loops
            .len()
    };
    let all = loops(&app);
    let mut job = app.job.clone();
    job.part.layers = Some(vec!["HOLES".into()]);
    app.set_job(job);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(loops(&app) < all);
    // No layer at all: refused by name, the previous part stays.
    let mut job = app.job.clone();
    job.part.layers = Some(Vec::new());
    let before = app.job.clone();
    app.set_job(job);
    assert!(
        app.loading().is_some(),
        "the part is read on its own thread"
    );
    app.wait();
    assert!(
        app.error.as_deref().unwrap_or("").contains("chosen layers"),
        "{:?}",
        app.error
    );
    assert_eq!(app.job, before);
}

#[test]
fn a_pocket_can_rest_machine_after_an_earlier_larger_one() {
    let mut h = ui_harness(SwarfApp::example());
    h.state_mut().wait();
    // The example's recesses with the 0.5 mm tool, then a rest pocket with the 0.2 mm one.
    let mut job = h.state().job.clone();
    let mut big = job.operations[0].clone();
    big.name = "rough".into();
    big.tool = 3;
    job.operations.insert(0, big);
    h.state_mut().set_job(job);
    h.state_mut().selected = 1;
    h.state_mut().wait();
    h.run_steps(3);
    let full: usize = h.state().output.as_ref().unwrap().operations[1]
        .2
        .toolpath
        .moves
        .len();
    h.get_by_label("Rest after:").click();
    h.run_steps(2);
    h.get_by_label("rough (Ø 0.5 mm)").click();
    h.run_steps(2);
    h.state_mut().wait();
    let app = h.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(
        spec_of(&app.job.operations[1], |s| match s {
            swarf_core::ops::OpSpec::Pocket(p) => Some(p.rest_from_diameter_mm),
            _ => None,
        }),
        Some(0.5)
    );
    let rest = app.output.as_ref().unwrap().operations[1]
        .2
        .toolpath
        .moves
        .len();
    assert!(rest < full / 2, "rest {rest} moves, whole pocket {full}");
}

#[test]
fn a_nan_or_zero_from_a_field_is_an_error_naming_the_parameter() {
    let mut app = SwarfApp::example();
    app.wait();
    let n = moves(&app);
    for (depth, says) in [(f64::NAN, "final_depth_mm"), (0.0, "final_depth_mm")] {
        app.set_depth(0, depth);
        app.wait();
        let e = app.error.clone().unwrap_or_default();
        assert!(e.contains(says) && e.contains("recesses"), "{e}");
        assert!(!app.up_to_date(), "the error is not shown as a result");
        assert_eq!(moves(&app), n, "the last good result stays in view");
        app.undo();
        app.wait();
        assert!(app.error.is_none() && app.up_to_date());
    }
    app.set_stepover(0, f64::NAN);
    app.wait();
    assert!(
        app.error.as_deref().unwrap_or("").contains("stepover"),
        "{:?}",
        app.error
    );
}

#[test]
fn an_adaptive_clearing_is_added_and_its_limit_typed_in() {
    let mut h = ui_harness(SwarfApp::example());
    h.state_mut().wait();
    h.run_steps(3);
    h.get_by_label("+ Adaptive").click();
    h.run_steps(3);
    h.state_mut().wait();
    h.run_steps(3);
    let app = h.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    let op = &app.job.operations[2];
    assert_eq!(op.spec.name(), "adaptive");
    assert_eq!(op.spec.engagement_limit_deg(), Some(60.0));
    let moves_60 = app.output.as_ref().unwrap().operations[2]
        .2
        .toolpath
        .moves
        .len();
    assert!(moves_60 > 100);
    // Its step-over row is the optimal load; a max engagement field sets the angle.
    h.get_by_label("Optimal load:");
    replace_field(&mut h, "Max engagement:", "30");
    let app = h.state();
    let a = spec_of(&app.job.operations[2], |s| match s {
        swarf_core::ops::OpSpec::Adaptive(a) => Some(*a),
        _ => None,
    });
    assert_eq!(a.max_engagement_deg, 30.0);
    assert_eq!(a.optimal_load, None);
    assert!(app.up_to_date());
    let moves_30 = app.output.as_ref().unwrap().operations[2]
        .2
        .toolpath
        .moves
        .len();
    assert!(
        moves_30 > moves_60,
        "30° needs more passes: {moves_30} vs {moves_60}"
    );
    // One undo step back to 60°.
    h.state_mut().undo();
    h.state_mut().wait();
    assert_eq!(
        h.state().job.operations[2]
            .spec
            .engagement_limit_deg()
            .unwrap(),
        60.0
    );
}

/// Two overlapping circles: each is a region of its own, and pocketing one cuts through the
/// other's outline — a real gouge, which the export check must catch.
const OVERLAPPING_CIRCLES: &str = "0\nSECTION\n2\nENTITIES\n\
0\nCIRCLE\n8\n0\n10\n0.0\n20\n0.0\n30\n0.0\n40\n2.0\n\
0\nCIRCLE\n8\n0\n10\n3.0\n20\n0.0\n30\n0.0\n40\n2.0\n\
0\nENDSEC\n0\nEOF\n";

/// The app's export runs the same check as the CLI: a gouging program is not written until
/// the user, shown the operation, line and depth, chooses "Export anyway"; "Cancel" writes
/// nothing.
#[test]
fn a_gouging_program_is_not_exported_silently() {
    let dir = temp("gouge");
    let dxf = dir.join("overlap.dxf");
    std::fs::write(&dxf, OVERLAPPING_CIRCLES).unwrap();
    let mut app = SwarfApp::example();
    app.open_part(&dxf);
    app.wait();
    let mut job = app.job.clone();
    job.operations.truncate(1);
    job.operations[0].target = swarf_core::job::Target::Regions;
    app.set_job(job);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let out_path = dir.join("overlap.ngc");
    let mut h = ui_harness(app);
    h.run_steps(3);
    // Export, as Save G-code and the Export menu do.
    let e = h.state_mut().export(&out_path).unwrap_err();
    assert!(
        e.contains("cuts into the part") && e.contains("not written"),
        "{e}"
    );
    h.run_steps(3);
    assert!(!out_path.exists(), "a gouging program was written");
    let refused = h
        .state()
        .export_refused
        .as_ref()
        .unwrap_or_else(|| panic!("the check refused it: {:?}", h.state().error));
    let first = &refused.report.problems[0];
    assert!(
        matches!(first.issue, swarf_core::verify::ExportIssue::Gouge { depth_mm } if depth_mm > 0.01),
        "{first:?}"
    );
    assert!(first.line > 0 && !first.op.is_empty());
    // The window names the problem; Cancel writes nothing.
    let _ = h.get_by_label("Export anyway");
    let _ = h.get_by_label(&format!("{}", first.line));
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert!(h.state().export_refused.is_none());
    assert!(!out_path.exists());
    // Asked again and written anyway: the program as generated.
    h.state_mut().export(&out_path).unwrap_err();
    h.run_steps(3);
    h.get_by_label("Export anyway").click();
    h.run_steps(3);
    let written = std::fs::read_to_string(&out_path).unwrap();
    // The program is titled after the part, not the example job it replaced.
    assert_eq!(h.state().job.title, "overlap");
    assert!(
        written.starts_with("(overlap - Swarf"),
        "{}",
        &written[..80]
    );
    assert_eq!(
        written,
        h.state().output.as_ref().unwrap().program.text,
        "the program as generated"
    );
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| m.contains("despite") && m.contains("export check")),
        "{:?}",
        h.state().messages
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Typed values mean what they say: `0.15 mm` in a µm field is 150 µm (it used to become
/// 1 µm), `150um` too; a value out of range is refused with the range shown and the job keeps
/// its value (it used to be clamped silently).
#[test]
fn typed_lengths_mean_what_they_say_and_out_of_range_is_refused() {
    let mut h = ui_harness(SwarfApp::example());
    h.state_mut().wait();
    h.run_steps(3);
    let depth = |h: &Harness<'static, SwarfApp>| {
        h.state().job.operations[0]
            .spec
            .cut()
            .heights
            .final_depth_mm
    };
    replace_field(&mut h, "Final depth:", "0.15 mm");
    assert!((depth(&h) - 0.15).abs() < 1e-12, "{}", depth(&h));
    replace_field(&mut h, "Final depth:", "120um");
    assert!((depth(&h) - 0.12).abs() < 1e-12, "{}", depth(&h));
    // Out of range (1 µm to 50 mm): refused, said with the range, nothing changed.
    replace_field(&mut h, "Final depth:", "0");
    assert!((depth(&h) - 0.12).abs() < 1e-12, "{}", depth(&h));
    let _ = h.get_by_label("0 µm is out of range: give 1 to 50000 µm");
    replace_field(&mut h, "Final depth:", "2 furlongs");
    assert!((depth(&h) - 0.12).abs() < 1e-12);
    let _ = h.get_by_label("'furlongs' is not a length unit: use mm, µm (um), in, cm or m");
}

/// A drill file opens as holes: milling is switched off, a drilling operation with a drill
/// from the library is added, the holes are listed with the tools that fit, and the program
/// drills them with a canned cycle (or moves, when asked).
#[test]
fn a_drill_file_gets_a_drilling_operation_and_canned_cycles() {
    let dir = temp("drl");
    let drl = dir.join("board.drl");
    std::fs::write(
        &drl,
        "M48\nMETRIC,TZ\nT1C0.5\nT2C1.2\n%\nT1\nX1000Y1000\nX3000Y1000\nX2000Y2500\nT2\nX6000Y2000\nM30\n",
    )
    .unwrap();
    let mut app = SwarfApp::example();
    app.open(&drl);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let kinds = op_kinds(&app);
    // One operation per size: the 0.5 mm holes drilled, the 1.2 mm ones (no such drill)
    // bored helically.
    assert_eq!(
        kinds,
        [
            ("pocket", false),
            ("contour", false),
            ("drill", true),
            ("helical-bore", true)
        ]
    );
    let drill_tool = app
        .job
        .tools
        .iter()
        .find(|t| t.number == app.job.operations[2].tool)
        .unwrap();
    assert!(matches!(
        drill_tool.shape,
        swarf_core::tool::ToolShape::Drill { .. }
    ));
    assert_eq!(app.hole_groups.len(), 2, "{:?}", app.hole_groups);
    assert!(app.hole_groups[0].contains("drill with 0.5 mm carbide drill"));
    // A hole clicked in the view chooses its group for the selected drilling operation.
    app.selected = 2;
    app.pick_hole_group(1);
    match &app.job.operations[2].spec {
        swarf_core::ops::OpSpec::Drill(d) => {
            assert!((d.diameter_min_mm - 1.1995).abs() < 1e-9, "{d:?}");
            assert!((d.diameter_max_mm.unwrap() - 1.2005).abs() < 1e-9);
        }
        s => panic!("{s:?}"),
    }
    assert!(
        app.messages
            .iter()
            .any(|m| m.contains("1.2000 mm holes (1)"))
    );
    app.undo();
    app.selected = 0;
    app.pick_hole_group(0);
    assert!(
        app.messages
            .last()
            .unwrap()
            .contains("select a Drill or Bore")
    );
    app.selected = 2;
    app.wait();
    // Only the 0.5 mm holes, pecked.
    let mut job = app.job.clone();
    if let swarf_core::ops::OpSpec::Drill(d) = &mut job.operations[2].spec {
        d.diameter_max_mm = Some(0.6);
        d.cycle = swarf_core::ops::drill::DrillCycle::Peck;
        d.peck_mm = 0.2;
    }
    app.set_job(job);
    app.wait();
    let text = &app.output.as_ref().unwrap().program.text;
    assert!(text.contains("G83"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with('X')).count(), 2);
    let mut job = app.job.clone();
    job.post.expand_cycles = true;
    app.set_job(job);
    app.wait();
    let text = &app.output.as_ref().unwrap().program.text;
    // Through the board (1.6 mm) with the full diameter out of the bottom.
    assert!(!text.contains("G83") && text.contains("G1 Z-1.7"), "{text}");
    let out = dir.join("board.ngc");
    app.export(&out).unwrap();
    assert!(out.exists(), "{:?}", app.messages);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsaved_work_is_not_replaced_or_closed_without_asking() {
    let dir = temp("unsaved");
    let dxf = dir.join("other.dxf");
    std::fs::write(&dxf, swarf_core::EXAMPLE_DXF).unwrap();
    let mut app = SwarfApp::new(Store::at(dir.join("state")));
    app.wait();
    // Nothing changed: opening and closing go straight through.
    assert!(app.request_close());
    app.set_stepover(0, 0.25);
    app.wait();
    assert!(app.dirty);
    let mut h = ui_harness(app);
    h.run_steps(2);
    // Opening another file over unsaved work asks first; Cancel keeps everything.
    h.state_mut().open_checked(&dxf);
    h.run_steps(2);
    let _ = h.get_by_label_contains("Save the changes to the unsaved project before opening");
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(h.state().unsaved_prompt.is_none());
    assert!(h.state().dirty, "the changes were kept");
    assert!(!h.state().part_name.contains("other.dxf"));
    // Closing asks too; "Don't save" lets the window close with no recovery offered later.
    assert!(!h.state_mut().request_close());
    h.run_steps(2);
    let _ = h.get_by_label_contains("before closing");
    h.get_by_label("Don't save").click();
    h.run_steps(2);
    assert!(h.state_mut().request_close());
    assert!(!h.state().dirty);
    // Save, with a project file: saved, then the file opens.
    let mut app = SwarfApp::new(Store::at(dir.join("state2")));
    app.wait();
    let project = dir.join("kept.toml");
    app.save_project(&project).unwrap();
    app.set_stepover(0, 0.3);
    app.wait();
    app.open_checked(&dxf);
    app.answer_unsaved(Some(true));
    app.wait();
    assert!(std::fs::read_to_string(&project).unwrap().contains("0.3"));
    assert!(app.part_name.contains("other.dxf"), "{}", app.part_name);
}

/// A part whose boss faces −Y (as the corpus mold's cavity does) is turned with the Part
/// panel's buttons until the boss faces up, and the z-level operations then cut it from the
/// top.
#[test]
fn a_mesh_is_turned_in_the_part_panel_and_cut_from_the_top() {
    let dir = temp("orient");
    let mesh = swarf_core::samples::merge_meshes(&[
        swarf_core::samples::box_mesh([0.0, 0.0, 0.0], [4.0, 0.2, 4.0]),
        swarf_core::samples::box_mesh([1.0, -0.3, 1.0], [3.0, 0.0, 3.0]),
    ]);
    let stl = dir.join("sideways.stl");
    std::fs::write(&stl, mesh.to_binary_stl("sideways")).unwrap();
    let mut app = SwarfApp::example();
    app.open(&stl);
    app.wait();
    let height = |app: &SwarfApp| {
        let (lo, hi) = app
            .model
            .as_ref()
            .unwrap()
            .mesh()
            .unwrap()
            .bounds()
            .unwrap();
        hi[2] - lo[2]
    };
    assert!((height(&app) - 4.0).abs() < 1e-6);
    let mut h = ui_harness(app);
    h.run_steps(2);
    let _ = h.get_by_label("Orientation: as in the file");
    for _ in 0..3 {
        h.get_by_label("X +90°").click();
        h.run_steps(2);
        h.state_mut().wait();
        h.run_steps(2);
    }
    let _ = h.get_by_label("Orientation: x270");
    let app = h.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    // STL stores f32: 0.2 and 0.3 are not exact.
    assert!((height(app) - 0.5).abs() < 1e-6, "{}", height(app));
    assert_eq!(
        app.job.part.orientation,
        "x-90"
            .parse::<swarf_core::geometry::mesh::Orientation>()
            .unwrap()
    );
    let out = app.output.as_ref().unwrap();
    let deepest = out.operations[1]
        .2
        .toolpath
        .moves
        .iter()
        .map(|m| m.to.z)
        .fold(0.0, f64::min);
    assert!((deepest + 0.5).abs() < 1e-6, "{deepest}");
    // Undo goes back one turn.
    h.state_mut().undo();
    h.state_mut().wait();
    assert_eq!(h.state().job.part.orientation.x_quarter_turns, 2);
}

/// Where the desktop has no file dialog (no portal, no zenity), "Open…" shows a path field
/// saying so instead of doing nothing.
#[test]
fn without_a_native_file_dialog_a_path_field_takes_its_place() {
    let dir = temp("nodialog");
    let dxf = dir.join("typed.dxf");
    std::fs::write(&dxf, swarf_core::EXAMPLE_DXF).unwrap();
    let mut app = SwarfApp::example();
    app.wait();
    app.native_dialogs = false;
    let mut h = ui_harness(app);
    h.run_steps(2);
    h.get_by_label("Open…").click();
    h.run_steps(4);
    assert!(h.state().path_prompt.is_some());
    let _ = h.get_by_label_contains("No file dialog is available");
    // Cancel: nothing happens.
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(h.state().path_prompt.is_none());
    h.get_by_label("Open…").click();
    h.run_steps(2);
    h.state_mut().path_prompt.as_mut().unwrap().text = dxf.display().to_string();
    h.run_steps(1);
    h.get_by_label("OK").click();
    h.run_steps(2);
    h.state_mut().wait();
    assert!(h.state().path_prompt.is_none());
    assert!(
        h.state().part_name.ends_with("typed.dxf"),
        "{}",
        h.state().part_name
    );
}

#[test]
fn copies_and_size_are_set_up_in_the_part_panel_and_the_program_has_them() {
    let mut h = ui_harness(SwarfApp::example());
    h.state_mut().wait();
    h.run_steps(3);
    let single = h.state().summary.expect("a summary");
    // The panel offers copies; switching them on makes a 2 × 1 grid with a 2 mm gap.
    h.get_by_label("Copies: one").click();
    h.run_steps(4);
    h.get_by_label("Cut several copies on one stock").click();
    h.run_steps(4);
    h.state_mut().wait();
    h.run_steps(4);
    let app = h.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().unwrap();
    assert_eq!(out.copies.len(), 2);
    assert!(out.program.text.contains("[copy 2])"));
    // The summary is the whole program's: twice the moves of one copy.
    let both = app.summary.unwrap();
    assert_eq!(both.moves, 2 * single.moves);
    assert!(both.bounds_max.x > single.bounds_max.x + 5.0);
    // A click on a copy in the view leaves it out, another puts it back (one undo step each).
    h.state_mut().toggle_copy(2);
    h.state_mut().wait();
    assert_eq!(h.state().job.array.as_ref().unwrap().skip, [2]);
    assert!(
        !h.state()
            .output
            .as_ref()
            .unwrap()
            .program
            .text
            .contains("[copy 2])")
    );
    h.state_mut().toggle_copy(2);
    h.state_mut().wait();
    assert!(h.state().job.array.as_ref().unwrap().skip.is_empty());
    // Typed columns regenerate; a copy left out is not cut.
    replace_field(&mut h, "Columns (X):", "3");
    assert_eq!(h.state().output.as_ref().unwrap().copies.len(), 3);
    let mut job = h.state().job.clone();
    job.array.as_mut().unwrap().skip = vec![2];
    h.state_mut().set_job(job);
    h.state_mut().wait();
    h.run_steps(4);
    let text = &h.state().output.as_ref().unwrap().program.text;
    assert!(text.contains("[copy 3])") && !text.contains("[copy 2])"));
    // Copies too close: refused by name, with the gap they need.
    let mut job = h.state().job.clone();
    job.array.as_mut().unwrap().gap_mm = Some([0.1, 0.1]);
    job.array.as_mut().unwrap().skip.clear();
    h.state_mut().set_job(job);
    h.state_mut().wait();
    let e = h.state().error.clone().unwrap_or_default();
    assert!(
        e.contains("cuts reach") && e.contains("gap at least"),
        "{e}"
    );
    // Size: scaled by a factor typed in the panel; the part is re-read at its new size.
    h.state_mut().undo();
    h.state_mut().wait();
    h.run_steps(3);
    h.get_by_label_contains("Size: as in the file").click();
    h.run_steps(4);
    replace_field(&mut h, "Factor:", "2");
    let app = h.state();
    assert_eq!(app.job.part.resize.scale, Some(2.0));
    let d = app.model.as_ref().unwrap().drawing().unwrap();
    assert!(
        (d.bbox.max.x - d.bbox.min.x - 16.0).abs() < 1e-6,
        "{:?}",
        d.bbox
    );
}

#[test]
fn the_stock_is_set_in_the_part_panel_and_a_part_off_it_is_refused() {
    let mut app = SwarfApp::example();
    app.wait();
    let mut job = app.job.clone();
    job.stock = Some(swarf_core::setup::Stock::Cylinder {
        centre_mm: [0.0, 0.0],
        diameter_mm: 7.9,
        top_mm: 0.0,
        bottom_mm: 1.0,
    });
    app.set_job(job);
    let mut h = ui_harness(app);
    h.state_mut().wait();
    h.run_steps(4);
    let e = h.state().error.clone().unwrap_or_default();
    assert!(e.contains("0.0500 mm outside the stock"), "{e}");
    // A wider bar typed in the panel: the part fits, and the view's stock is the bar.
    h.get_by_label("Stock: a round bar").click();
    h.run_steps(4);
    replace_field(&mut h, "Diameter:", "8.5");
    let app = h.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    match app.output.as_ref().unwrap().stock {
        Some(swarf_core::setup::StockShape::Cylinder { radius, .. }) => {
            assert!((radius - 4.25).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
}

/// A Gerber copper layer opens as copper: milling is switched off, an isolation operation
/// with the library's V bit is added and cut; an outline layer gets a cut-out with tabs.
#[test]
fn a_gerber_layer_gets_isolation_and_an_outline_a_cut_out() {
    let dir = temp("gerber");
    let top = dir.join("board-F_Cu.gbr");
    std::fs::write(
        &top,
        "%FSLAX46Y46*%\n%MOMM*%\n%ADD10C,1.6*%\n%ADD11C,0.3*%\nD10*\nX2000000Y2000000D03*\n\
         X8000000Y2000000D03*\nD11*\nX2000000Y2000000D02*\nX8000000Y2000000D01*\nD10*\n\
         X2000000Y6000000D03*\nM02*\n",
    )
    .unwrap();
    let mut app = SwarfApp::example();
    app.open(&top);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(
        op_kinds(&app),
        [("pocket", false), ("contour", false), ("isolate", true)]
    );
    let tool = app
        .job
        .tools
        .iter()
        .find(|t| t.number == app.job.operations[2].tool)
        .unwrap();
    assert!(
        matches!(tool.shape, swarf_core::tool::ToolShape::V { .. }),
        "{tool:?}"
    );
    let out = app.output.as_ref().expect("the isolation is generated");
    let (_, _, r) = &out.operations[0];
    assert!(r.toolpath.moves.len() > 10);
    assert!(
        r.notes.iter().any(|n| n.contains("isolate: 2 pass(es)")),
        "{:?}",
        r.notes
    );
    // The board's outline: a cut-out through the board with tabs.
    let edge = dir.join("board-Edge_Cuts.gbr");
    std::fs::write(
        &edge,
        "%FSLAX46Y46*%\n%MOMM*%\n%TF.FileFunction,Profile,NP*%\n%ADD10C,0.1*%\nD10*\nX0Y0D02*\n\
         X12000000Y0D01*\nX12000000Y9000000D01*\nX0Y9000000D01*\nX0Y0D01*\nM02*\n",
    )
    .unwrap();
    app.open(&edge);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let kinds = op_kinds(&app);
    assert!(
        kinds.contains(&("contour", true)) || kinds.last() == Some(&("contour", true)),
        "{kinds:?}"
    );
    let cut = app.job.operations.iter().find(|o| o.enabled).unwrap();
    match &cut.spec {
        swarf_core::ops::OpSpec::Contour(c) => {
            assert_eq!(c.tabs, 4);
            assert!((c.cut.heights.final_depth_mm - 1.6).abs() < 1e-12);
        }
        s => panic!("{s:?}"),
    }
}

/// A board's files opened together (in any order) are one work: the copper layer is the part,
/// the outline and the drill file go with it, and each gets its operation on its own file:
/// isolation, drilling, the cut-out last. A saved project keeps them, relative to it.
#[test]
fn a_boards_files_open_together_and_each_is_cut() {
    let dir = temp("board");
    let top = dir.join("board-F_Cu.gbr");
    std::fs::write(
        &top,
        "%FSLAX46Y46*%\n%MOMM*%\n%TF.FileFunction,Copper,L1,Top*%\n%ADD10C,1.6*%\n%ADD11C,0.3*%\n\
         D10*\nX2000000Y2000000D03*\nX8000000Y2000000D03*\nD11*\nX2000000Y2000000D02*\n\
         X8000000Y2000000D01*\nD10*\nX2000000Y6000000D03*\nM02*\n",
    )
    .unwrap();
    let edge = dir.join("board-Edge_Cuts.gbr");
    std::fs::write(
        &edge,
        "%FSLAX46Y46*%\n%MOMM*%\n%TF.FileFunction,Profile,NP*%\n%ADD10C,0.1*%\nD10*\n\
         X-1000000Y-1000000D02*\nX11000000Y-1000000D01*\nX11000000Y9000000D01*\n\
         X-1000000Y9000000D01*\nX-1000000Y-1000000D01*\nM02*\n",
    )
    .unwrap();
    let mask = dir.join("board-F_Mask.gbr");
    std::fs::write(
        &mask,
        "%FSLAX46Y46*%\n%MOMM*%\n%TF.FileFunction,Soldermask,Top*%\n%ADD10C,1.8*%\nD10*\n\
         X2000000Y2000000D03*\nM02*\n",
    )
    .unwrap();
    let drill = dir.join("board.drl");
    std::fs::write(
        &drill,
        "M48\nMETRIC\nT1C0.8\n%\nT1\nX2.0Y2.0\nX2.0Y6.0\nM30\n",
    )
    .unwrap();
    let mut app = SwarfApp::example();
    // The outline first: the copper still becomes the part.
    app.open_files(&[edge.clone(), drill.clone(), top.clone(), mask.clone()]);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(
        app.job.part.file.ends_with("board-F_Cu.gbr"),
        "{}",
        app.job.part.file
    );
    assert_eq!(app.job.part.with.len(), 3);
    assert_eq!(app.job.title, "board");
    let on: Vec<(&str, Option<String>)> = app
        .job
        .operations
        .iter()
        .filter(|o| o.enabled)
        .map(|o| {
            (
                o.spec.name(),
                o.part.as_ref().map(|p| {
                    Path::new(p)
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                }),
            )
        })
        .collect();
    assert_eq!(
        on,
        [
            ("isolate", None),
            ("drill", Some("board.drl".to_string())),
            ("contour", Some("board-Edge_Cuts.gbr".to_string())),
        ]
    );
    // The mask is shown, not cut, and the user is told.
    assert!(
        app.import_warnings
            .iter()
            .any(|m| m.contains("board-F_Mask.gbr") && m.contains("not cut")),
        "{:?}",
        app.import_warnings
    );
    let out = app.output.as_ref().expect("generated");
    assert_eq!(out.operations.len(), 3);
    for (name, _, r) in &out.operations {
        assert!(
            !r.toolpath.moves.is_empty(),
            "{name} cut nothing: {:?}",
            r.warnings
        );
    }
    // The drill goes down at the drill file's holes only.
    let (_, _, drilled) = &out.operations[1];
    let mut at: Vec<(i64, i64)> = drilled
        .toolpath
        .moves
        .iter()
        .filter(|m| m.to.z < -1.0)
        .map(|m| ((m.to.x * 1e3).round() as i64, (m.to.y * 1e3).round() as i64))
        .collect();
    at.dedup();
    at.sort_unstable();
    at.dedup();
    assert_eq!(at, [(2000, 2000), (2000, 6000)]);
    // Saved beside the files: the paths are relative, the operations still find theirs.
    let project = dir.join("board.toml");
    app.save_project(&project).unwrap();
    let text = std::fs::read_to_string(&project).unwrap();
    assert!(text.contains("    \"board-Edge_Cuts.gbr\",\n"), "{text}");
    assert!(text.contains("part = \"board.drl\""), "{text}");
    let mut again = SwarfApp::example();
    again.open(&project);
    again.wait();
    assert!(again.error.is_none(), "{:?}", again.error);
    assert_eq!(
        again.output.as_ref().expect("generated").program.text,
        app.output.as_ref().unwrap().program.text
    );
    // Opening one part alone leaves the board's other files and their operations behind.
    again.open(&top);
    again.wait();
    assert!(again.job.part.with.is_empty());
    assert!(again.job.operations.iter().all(|o| o.part.is_none()),);
    assert!(again.error.is_none(), "{:?}", again.error);
}

/// "+ Engrave" (issue 20): an engraving of the drawing's lines is added from the panel, its
/// side chosen, and generated on the example plate.
#[test]
fn an_engraving_is_added_and_cut_beside_the_lines() {
    let mut app = SwarfApp::example();
    app.wait();
    let mut job = app.job.clone();
    let mut op = swarf_app::new_operation("engrave", "marks".into(), 2, 0.0);
    if let swarf_core::ops::OpSpec::Engrave(e) = &mut op.spec {
        e.side = swarf_core::ops::engrave::EngraveSide::Left;
    }
    job.operations.push(op);
    app.set_job(job);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().expect("generated");
    let (name, _, r) = out.operations.last().unwrap();
    assert_eq!(name, "marks");
    assert!(r.toolpath.moves.len() > 20, "{:?}", r.warnings);
    assert!(
        r.notes.iter().any(|n| n.contains("left of the line")),
        "{:?}",
        r.notes
    );
}

/// "+ Text" (issue 20): a serial number is added to the example plate's job and engraved in
/// the single-stroke font; the counter is filled in.
#[test]
fn a_text_is_added_and_engraved_with_its_counter() {
    let mut app = SwarfApp::example();
    app.wait();
    let mut job = app.job.clone();
    let mut op = swarf_app::new_operation("text", "serial".into(), 2, 0.0);
    if let swarf_core::ops::OpSpec::Text(t) = &mut op.spec {
        t.counter = 12;
        t.x_mm = 1.0;
        t.y_mm = 1.0;
        t.style.height_mm = 0.5;
    }
    job.operations.push(op);
    app.set_job(job);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    let out = app.output.as_ref().expect("generated");
    let (name, _, r) = out.operations.last().unwrap();
    assert_eq!(name, "serial");
    assert!(r.notes[0].contains("\"SN 0012\""), "{:?}", r.notes);
    assert!(r.toolpath.moves.len() > 20, "{:?}", r.warnings);
}
