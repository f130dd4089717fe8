//! The Machine panel's logic and the panel itself, with the job's program run on a fake GRBL
//! through a real pseudo-terminal (the same transport a USB serial port uses).

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use swarf_app::SwarfApp;
use swarf_app::machine::done_moves;
use swarf_machine::MachineState;
use swarf_machine::fake_grbl::{Config, FakeGrbl};
use swarf_machine::program::clean_line;

fn grbl_example() -> SwarfApp {
    let mut app = SwarfApp::example();
    app.wait();
    let mut job = app.job.clone();
    job.post.dialect = swarf_core::post::Dialect::Grbl;
    app.set_job(job);
    app.wait();
    assert!(app.error.is_none(), "{:?}", app.error);
    app
}

/// The Machine panel alone (no 3D view, so no Vulkan needed), polling the link as the app does.
fn panel_harness(app: SwarfApp) -> Harness<'static, SwarfApp> {
    Harness::builder()
        .with_size(egui::vec2(1300.0, 900.0))
        .build_ui_state(
            |ui, app: &mut SwarfApp| {
                app.machine.poll();
                egui::Panel::right("m").default_size(360.0).show(ui, |ui| {
                    swarf_app::machine_panel(ui, app);
                });
            },
            app,
        )
}

/// Touches off from the panel's Probe section and waits for the console to say `says`.
fn touched_off(app: &mut SwarfApp, spec: &swarf_core::level::ProbeSpec, says: &str) {
    app.machine.start_touch_off(spec).unwrap();
    assert!(
        app.machine
            .pump_for(Duration::from_secs(30), |m| !m.probing())
    );
    assert!(
        app.machine.console.iter().any(|(_, l)| l.contains(says)),
        "{:?}",
        app.machine.console
    );
}

/// The example job (GRBL dialect) connected to `fake` and Idle.
fn connected_to(fake: &FakeGrbl, app: SwarfApp) -> SwarfApp {
    let mut app = app;
    app.machine.port.clone_from(&fake.path);
    app.machine.connect().unwrap();
    assert!(
        app.machine
            .pump_for(Duration::from_secs(10), swarf_app::machine::Machine::idle)
    );
    app
}

#[test]
fn the_job_runs_on_a_grbl_with_progress_the_tool_change_pause_and_the_cut_path_dimmed() {
    // The work's top at Z 0.3 (as the first tool's Z has it) where the new tool is touched off.
    let fake = FakeGrbl::start(Config {
        block_time: Duration::from_millis(1),
        probe_surface: Some(|_, _| 0.3),
        keep_lines: true,
        ..Config::default()
    });
    let mut app = grbl_example();
    let m = &mut app.machine;
    // Start makes no sense before connecting.
    assert!(!m.idle());
    m.port = fake.path.clone();
    m.connect().unwrap();
    assert!(m.pump_for(Duration::from_secs(10), |m| m.state()
        == Some(MachineState::Idle)));
    assert_eq!(m.info.as_ref().and_then(|i| i.rx_bytes), Some(128));
    let export_path = app.session.export_path.clone();
    app.machine.prepare_start(&mut app.session).unwrap();
    let pending = app.machine.pending.clone().unwrap();
    // The run's file is not taken for the user's export file.
    assert_eq!(app.session.export_path, export_path);
    assert!(pending.tool.starts_with("T2"), "{}", pending.tool);
    assert_eq!(pending.work_offset, "G54");
    assert_eq!(pending.info.sections.len(), 2);
    let generation = app.session.output_gen;
    app.machine.start_confirmed(generation);
    assert!(app.machine.running());
    // Progress names the operation; the view dims what has run.
    assert!(app.machine.pump_for(Duration::from_secs(30), |m| {
        m.run.as_ref().is_some_and(|r| r.line > 100)
    }));
    let text = app.machine.progress_text().unwrap();
    assert!(text.starts_with("op 1 recesses · line "), "{text}");
    let line = app.machine.run.as_ref().unwrap().line;
    let out = app.session.output.as_deref().unwrap();
    let done = done_moves(out, line);
    assert!(done > 0 && (done as usize) < out.operations[0].2.toolpath.moves.len());
    // The tool change stops the machine (M0) and names the tool; Resume goes on.
    assert!(
        app.machine
            .pump_for(Duration::from_mins(1), |m| m.pause.is_some())
    );
    assert!(app.machine.pause.as_ref().unwrap().contains("tool 3"));
    // Held with the machine idle (the sender stopped before the M0): the new tool is
    // touched off on the work's top from the panel's Probe section, then Resume goes on.
    assert!(app.machine.pump_for(
        Duration::from_secs(10),
        swarf_app::machine::Machine::held_at_stop
    ));
    touched_off(
        &mut app,
        &swarf_core::level::ProbeSpec::default(),
        "touched off at machine Z 0.300",
    );
    assert!(app.machine.running(), "the run waits through the touch-off");
    app.machine.resume();
    assert!(
        app.machine
            .pump_for(Duration::from_mins(1), |m| m.outcome.is_some())
    );
    let (ok, text) = app.machine.outcome.clone().unwrap();
    assert!(ok, "{text}");
    assert!(!app.machine.running());
    drop(app);
    let r = fake.finish();
    let program = std::fs::read_to_string(&pending.path).unwrap();
    // The program as written, the stop's dwell in place of the M0, and the touch-off
    // between the dwell and the rest.
    let sent: Vec<String> = program
        .lines()
        .filter_map(|l| clean_line(l).unwrap())
        .map(|l| if l == "M0" { "G4P0.01".to_string() } else { l })
        .collect();
    let stop = sent.iter().position(|l| l == "G4P0.01").unwrap();
    assert_eq!(&r.lines[1..=stop + 1], &sent[..=stop]);
    assert!(r.lines.ends_with(&sent[stop + 1..]));
    let touch = &r.lines[stop + 2..r.lines.len() - (sent.len() - stop - 1)];
    assert!(touch.iter().any(|l| l == "G10L2P0Z0.3"), "{touch:?}");
    assert_eq!(r.dropped, 0);
    let _ = std::fs::remove_file(pending.path);
}

#[test]
fn a_program_the_controller_cannot_take_is_not_started() {
    let fake = FakeGrbl::start(Config::default());
    let mut app = SwarfApp::example();
    app.wait();
    let mut job = app.job.clone();
    // LinuxCNC's dialect writes T… M6, which GRBL refuses.
    job.post.dialect = swarf_core::post::Dialect::LinuxCnc;
    app.set_job(job);
    app.wait();
    let mut app = connected_to(&fake, app);
    let e = app.machine.prepare_start(&mut app.session).unwrap_err();
    assert!(e.contains("M6"), "{e}");
    assert!(app.machine.pending.is_none());
}

/// The panel drawn while a program runs (no Vulkan needed: no 3D view in this harness). The
/// picture is saved for a person to look at; the assertions are on what the panel shows.
#[test]
fn the_machine_panel_shows_state_dro_and_run_controls() {
    let fake = FakeGrbl::start(Config {
        block_time: Duration::from_millis(5),
        ..Config::default()
    });
    let mut app = connected_to(&fake, grbl_example());
    app.machine.show = true;
    let mut h = panel_harness(app);
    h.run_steps(3);
    h.get_by_label("Start").click();
    h.run_steps(3);
    assert!(h.state().machine.pending.is_some());
    let _ = h.get_by_label("Start this program?");
    h.get_by_label("Confirm start").click();
    h.run_steps(3);
    assert!(h.state().machine.running());
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(20));
        h.run_steps(1);
    }
    h.get_by_label("Hold").click();
    h.run_steps(2);
    assert!(
        h.state_mut()
            .machine
            .pump_for(Duration::from_secs(5), |m| m.state()
                == Some(MachineState::Hold))
    );
    h.run_steps(3);
    if let Ok(img) = h.render() {
        let p = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("machine_panel.png");
        let _ = img.save(&p);
        eprintln!("machine panel picture: {}", p.display());
    }
    h.get_by_label("Stop").click();
    h.run_steps(2);
    assert!(
        h.state_mut()
            .machine
            .pump_for(Duration::from_secs(5), |m| !m.running())
    );
    let (ok, text) = h.state().machine.outcome.clone().unwrap();
    assert!(!ok && text.contains("stopped by the user"), "{text}");
}

/// The whole window while a program runs: the 3D view dims what has run and marks the tool
/// where the controller reports it. The picture is saved for a person to look at.
#[test]
fn the_view_follows_the_machine_during_a_run() {
    if let Err(e) = swarf_render::Headless::new() {
        eprintln!("\n*** SKIPPED: {e}\n*** CI installs mesa-vulkan-drivers so this runs there.\n");
        return;
    }
    let rs = egui_kittest::wgpu::create_render_state(
        egui_kittest::wgpu::default_wgpu_setup(),
        egui_wgpu::RendererOptions::PREDICTABLE,
    );
    let fake = FakeGrbl::start(Config {
        block_time: Duration::from_millis(3),
        ..Config::default()
    });
    let mut app = connected_to(&fake, grbl_example());
    app.machine.show = true;
    let view_rs = rs.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 850.0))
        .renderer(egui_kittest::wgpu::WgpuTestRenderer::from_render_state(rs))
        .build_ui_state(
            move |ui, app: &mut SwarfApp| app.ui(ui, Some(&view_rs)),
            app,
        );
    h.run_steps(3);
    h.get_by_label("Top").click();
    h.get_by_label("Start").click();
    h.run_steps(2);
    h.get_by_label("Confirm start").click();
    h.run_steps(2);
    assert!(h.state().machine.running());
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(20));
        h.run_steps(1);
        if h.state().machine.run.as_ref().is_some_and(|r| r.line > 700) {
            break;
        }
    }
    h.get_by_label("Hold").click();
    h.run_steps(3);
    let (done, at) = h.state().view.machine.expect("the view follows the run");
    assert!(done > 100, "{done}");
    assert!(at.is_some(), "no tool position from the controller");
    let status = h.state().machine.progress_text().unwrap();
    let _ = h.get_by_label(&format!("running: {status}"));
    if let Ok(img) = h.render() {
        let p =
            std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("machine_run_window.png");
        let _ = img.save(&p);
        eprintln!("window picture: {}", p.display());
    }
    h.get_by_label("Stop").click();
    h.run_steps(2);
}

#[test]
fn check_mode_first_runs_the_program_only_when_it_passes() {
    let app = grbl_example();
    let program = app.session.output.as_ref().unwrap().program.text.clone();
    // A line of the second operation the controller refuses.
    let bad = program
        .lines()
        .skip_while(|l| *l != "(op 2: outline)")
        .filter_map(|l| clean_line(l).unwrap())
        .find(|l| l.starts_with("G1X"))
        .unwrap();
    let fake = FakeGrbl::start(Config {
        error_on: Some(bad),
        block_time: Duration::ZERO,
        ..Config::default()
    });
    let mut app = connected_to(&fake, app);
    app.machine.check_first = true;
    app.machine.prepare_start(&mut app.session).unwrap();
    let generation = app.session.output_gen;
    app.machine.start_confirmed(generation);
    assert!(
        app.machine
            .pump_for(Duration::from_secs(30), |m| m.outcome.is_some())
    );
    let (ok, text) = app.machine.outcome.clone().unwrap();
    assert!(!ok && text.contains("nothing moved"), "{text}");
    drop(app);
    let r = fake.finish();
    assert_eq!(r.position, [0.0; 3], "the machine moved during the check");

    // The same program on a controller that takes it: checked, then run.
    let fake = FakeGrbl::start(Config {
        block_time: Duration::ZERO,
        ..Config::default()
    });
    let mut app = connected_to(&fake, grbl_example());
    app.machine.check_first = true;
    app.machine.prepare_start(&mut app.session).unwrap();
    let generation = app.session.output_gen;
    app.machine.start_confirmed(generation);
    assert!(app.machine.pump_for(Duration::from_mins(1), |m| {
        if m.pause.is_some() {
            return true;
        }
        m.outcome.is_some()
    }));
    // The tool change pause of the real run (check mode does not pause).
    if app.machine.pause.is_some() {
        app.machine.resume();
    }
    assert!(
        app.machine
            .pump_for(Duration::from_mins(1), |m| m.outcome.is_some())
    );
    let (ok, text) = app.machine.outcome.clone().unwrap();
    assert!(ok, "{text}");
    drop(app);
    let r = fake.finish();
    assert!(r.lines.iter().filter(|l| *l == "$C").count() == 2);
    assert_ne!(
        r.position, [0.0; 3],
        "the program did not run after the check"
    );
}

/// The port (or host) of the last connection is kept for the next run of the app.
#[test]
fn the_connection_settings_are_kept_between_runs() {
    let fake = FakeGrbl::start(Config::default());
    let dir = std::env::temp_dir().join(format!("swarf-app-machine-{}", std::process::id()));
    let mut app = SwarfApp::new(swarf_app::Store::at(&dir));
    app.machine.show = true;
    app.machine.port.clone_from(&fake.path);
    app.machine.baud = 250_000;
    let mut h = panel_harness(app);
    h.run_steps(2);
    h.get_by_label("Connect").click();
    h.run_steps(2);
    assert!(h.state().machine.connected());
    drop(h);
    let again = SwarfApp::new(swarf_app::Store::at(&dir));
    assert_eq!(again.machine.port, fake.path);
    assert_eq!(again.machine.baud, 250_000);
    let _ = std::fs::remove_dir_all(dir);
}

/// The Probe section: a grid over the area the job cuts, probed on the link's own thread
/// while the UI goes on; the map levels the job (one undo step) and is drawn; touch-off sets Z.
#[test]
fn a_probed_height_map_levels_the_job_and_touch_off_sets_z() {
    fn board(x: f64, y: f64) -> f64 {
        0.004 * x - 0.002 * y
    }
    let fake = FakeGrbl::start(Config {
        probe_surface: Some(board),
        probe_noise_um: 1.0,
        ..Config::default()
    });
    let mut app = connected_to(&fake, grbl_example());
    let area = app.session.output.as_deref().unwrap().cut_area();
    assert!(!area.is_empty());
    let spec = swarf_core::level::ProbeSpec {
        grid: [3, 3],
        touches: 2,
        plate_mm: 1.0,
        ..swarf_core::level::ProbeSpec::default()
    };
    let a = [
        area.min.x - 1.0,
        area.min.y - 1.0,
        area.max.x + 1.0,
        area.max.y + 1.0,
    ];
    app.machine.start_probe_grid(a, &spec).unwrap();
    assert!(app.machine.probing() && app.machine.connected() && !app.machine.idle());
    assert!(
        app.machine
            .pump_for(Duration::from_secs(30), |m| m.probed.is_some()
                || !m.probing())
    );
    let map = app.machine.probed.clone().expect("a map");
    assert_eq!((map.nx, map.ny), (3, 3));
    let corner = map.node(2, 2);
    assert!(
        (map.z[8] - board(corner.x, corner.y)).abs() <= 0.0016,
        "{map:?}"
    );
    app.apply_probed_map();
    app.wait();
    assert!(app.job.height_map.is_some());
    let out = app.session.output.as_deref().unwrap();
    assert!(out.height_map.is_some());
    assert!(
        out.operations[0]
            .2
            .notes
            .iter()
            .any(|n| n.starts_with("levelled:")),
        "{:?}",
        out.operations[0].2.notes
    );
    // One undo step takes the map away again.
    app.undo();
    app.wait();
    assert!(app.job.height_map.is_none());
    // Touch-off from above the surface.
    assert!(
        app.machine
            .pump_for(Duration::from_secs(10), swarf_app::machine::Machine::idle)
    );
    app.machine.command("G0 X1 Y1 Z5");
    assert!(
        app.machine
            .pump_for(Duration::from_secs(10), swarf_app::machine::Machine::idle)
    );
    touched_off(&mut app, &spec, "touched off at machine Z");
}
