//! The app's logic without egui: a `Session` generates, edits with undo and redo, and exports
//! through the check, driven as plain values.

use swarf_app::{Session, Store};

fn moves(s: &Session) -> usize {
    s.summary.expect("generated").moves
}

#[test]
fn a_session_generates_edits_undoes_and_exports_without_a_gui() {
    let mut s = Session::new(Store::none());
    s.wait();
    assert!(s.up_to_date() && s.error.is_none(), "{:?}", s.error);
    assert!(!s.dirty && !s.can_undo());
    let first = moves(&s);
    s.set_stepover(0, 0.2);
    s.wait();
    let finer = moves(&s);
    assert!(finer > first, "{finer} moves at 20 %, {first} at 40 %");
    assert!(s.dirty && s.can_undo());
    s.undo();
    s.wait();
    assert_eq!(moves(&s), first);
    assert!(s.can_redo());
    s.redo();
    s.wait();
    assert_eq!(moves(&s), finer);
    // Coalesced edits (one field typed into) are one step; a sealed run starts another.
    let depth = |s: &Session| s.job.operations[0].spec.cut().heights.final_depth_mm;
    for d in [0.11, 0.12, 0.13] {
        let mut job = s.job.clone();
        job.operations[0].spec.cut_mut().heights.final_depth_mm = d;
        s.set_job_coalescing(job, Some(42));
    }
    s.seal_history();
    let mut job = s.job.clone();
    job.operations[0].spec.cut_mut().heights.final_depth_mm = 0.14;
    s.set_job_coalescing(job, Some(42));
    s.undo();
    assert_eq!(depth(&s), 0.13);
    s.undo();
    assert_eq!(depth(&s), 0.1, "the three typed values were one step");
    s.wait();
    // The export runs the check and writes the program it shows.
    let dir = std::env::temp_dir().join(format!("swarf-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("plate.ngc");
    let warnings = s.warning_count();
    s.export(&out).unwrap();
    assert_eq!(s.warning_count(), warnings, "'wrote …' is not a warning");
    assert!(s.messages.iter().any(|m| m.starts_with("wrote")));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        s.output.as_ref().unwrap().program.text
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Fast enough to tune: a change of the post settings re-posts without re-running an
/// operation; an edit re-runs only the operation it touches; undo finds its results again. The
/// worker wakes the window when a result arrives.
#[test]
fn regenerating_reuses_what_did_not_change_and_wakes_the_window() {
    let mut s = Session::new(Store::none());
    let woken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = woken.clone();
    s.set_waker(std::sync::Arc::new(move || {
        w.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }));
    s.wait();
    let ops = s.job.operations.iter().filter(|o| o.enabled).count();
    assert_eq!(s.cached_results(), ops);
    assert!(woken.load(std::sync::atomic::Ordering::Relaxed) > 0);
    let mut job = s.job.clone();
    job.post.dialect = swarf_core::post::Dialect::Grbl;
    s.set_job(job);
    s.wait();
    assert_eq!(
        s.cached_results(),
        ops,
        "a post change re-runs no operation"
    );
    assert!(s.output.as_ref().unwrap().program.text.contains("GRBL"));
    s.set_stepover(0, 0.25);
    s.wait();
    assert_eq!(
        s.cached_results(),
        ops + 1,
        "only the edited operation re-ran"
    );
    s.undo();
    s.undo();
    s.wait();
    assert_eq!(s.cached_results(), ops + 1, "undo found the old results");
}

/// Timing (run by hand, `--ignored --nocapture`): the corpus gear with adaptive clearing and a
/// contour; the first generation, then a changed contour depth (only the contour re-runs) and
/// a changed dialect (only the post).
#[test]
#[ignore = "a measurement, not a check"]
fn regenerate_timing_on_a_gear() {
    let gear = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/files/gfsmith_gear7_pinion.dxf");
    let mut s = Session::new(Store::none());
    s.wait();
    s.open_part(&gear);
    s.wait();
    // The gear is drawn in inches (12 mm across).
    let mut job = s.job.clone();
    job.part.units = Some(swarf_core::import::Units::Inch);
    s.set_job(job);
    s.wait();
    let mut job = s.job.clone();
    job.operations[0] = swarf_app::new_operation("adaptive", "clear".into(), 2, 0.0);
    job.operations[0].target = swarf_core::job::Target::Regions;
    s.set_job(job);
    let t = std::time::Instant::now();
    s.wait();
    println!(
        "first generation: {:.3} s ({:?}, {} moves)",
        t.elapsed().as_secs_f64(),
        s.error,
        s.summary.map_or(0, |st| st.moves)
    );
    let mut job = s.job.clone();
    job.operations[1].spec.cut_mut().heights.final_depth_mm = 0.3;
    s.set_job(job);
    let t = std::time::Instant::now();
    s.wait();
    println!("contour depth changed: {:.3} s", t.elapsed().as_secs_f64());
    let mut job = s.job.clone();
    job.post.dialect = swarf_core::post::Dialect::Grbl;
    s.set_job(job);
    let t = std::time::Instant::now();
    s.wait();
    println!("dialect changed: {:.3} s", t.elapsed().as_secs_f64());
    s.undo();
    let t = std::time::Instant::now();
    s.wait();
    println!("undo: {:.3} s", t.elapsed().as_secs_f64());
}

/// Serial numbers (issue 20): each exported program carries the next number; the counter is
/// advanced in the job after the export (an undoable edit), and a text without a counter is
/// left alone.
#[test]
fn each_exported_program_carries_the_next_serial_number() {
    let mut s = Session::new(Store::none());
    s.wait();
    let mut job = s.job.clone();
    let mut op = swarf_app::new_operation("text", "serial".into(), 2, 0.0);
    if let swarf_core::ops::OpSpec::Text(t) = &mut op.spec {
        t.counter = 41;
        t.style.height_mm = 0.5;
    }
    job.operations.push(op);
    let mut plain = swarf_app::new_operation("text", "mark".into(), 2, 0.0);
    if let swarf_core::ops::OpSpec::Text(t) = &mut plain.spec {
        t.text = "LOT A".into();
        t.x_mm = 3.0;
    }
    job.operations.push(plain);
    s.set_job(job);
    s.wait();
    let dir = std::env::temp_dir().join(format!("swarf-serial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let serial_note = |s: &Session| {
        let out = s.output.as_ref().expect("generated");
        out.operations
            .iter()
            .find(|(n, _, _)| n == "serial")
            .map(|(_, _, r)| r.notes[0].clone())
            .unwrap()
    };
    assert!(
        serial_note(&s).contains("\"SN 0041\""),
        "{}",
        serial_note(&s)
    );
    s.export(&dir.join("a.ngc")).unwrap();
    s.wait();
    assert!(
        s.messages
            .iter()
            .any(|m| m.contains("advanced for the next program: serial to 42")),
        "{:?}",
        s.messages
    );
    assert!(
        serial_note(&s).contains("\"SN 0042\""),
        "{}",
        serial_note(&s)
    );
    s.export(&dir.join("b.ngc")).unwrap();
    s.wait();
    let a = std::fs::read_to_string(dir.join("a.ngc")).unwrap();
    let b = std::fs::read_to_string(dir.join("b.ngc")).unwrap();
    assert_ne!(a, b, "the second program cuts the next number");
    let counter = |s: &Session, name: &str| match &s
        .job
        .operations
        .iter()
        .find(|o| o.name == name)
        .unwrap()
        .spec
    {
        swarf_core::ops::OpSpec::Text(t) => t.counter,
        _ => unreachable!(),
    };
    assert_eq!(counter(&s, "serial"), 43);
    assert_eq!(counter(&s, "mark"), 1, "no counter in its text");
    s.undo();
    assert_eq!(counter(&s, "serial"), 42);
    // Three copies on the plate, each with its own number: the next program starts past
    // all three.
    s.redo();
    let mut job = s.job.clone();
    job.array = Some(swarf_core::array::ArraySpec {
        columns: 3,
        rows: 1,
        pitch_mm: Some([12.0, 12.0]),
        ..swarf_core::array::ArraySpec::default()
    });
    s.set_job(job);
    s.wait();
    assert!(s.error.is_none(), "{:?}", s.error);
    s.export(&dir.join("c.ngc")).unwrap();
    s.wait();
    let c = std::fs::read_to_string(dir.join("c.ngc")).unwrap();
    assert!(c.contains("[copy 3]"), "three copies written");
    assert_eq!(counter(&s, "serial"), 46, "43, 44 and 45 were cut");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Projected engraving (issue 20) from the app's logic: a mesh added beside the drawing
/// becomes one of the job's files and the selected engraving's surface; the marks are cut
/// at their depth below it; one undo takes both back.
#[test]
fn a_mesh_added_beside_the_drawing_is_engraved_onto_and_undone() {
    let mut s = Session::new(Store::none());
    s.wait();
    let dir = std::env::temp_dir().join(format!("swarf-onto-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stl = dir.join("face.stl");
    let mesh =
        swarf_core::samples::heightfield_mesh([-6.0, -6.0], [6.0, 6.0], 60, 60, -3.0, |x, y| {
            -0.02 * (x * x + y * y)
        });
    std::fs::write(&stl, mesh.to_binary_stl("face")).unwrap();
    let mut job = s.job.clone();
    for op in &mut job.operations {
        op.enabled = false;
    }
    let tool = job.tools[0].number;
    job.operations.push(swarf_app::new_operation(
        "engrave",
        "mark".into(),
        tool,
        0.0,
    ));
    s.selected = job.operations.len() - 1;
    s.set_job(job);
    s.wait();
    let flat_min_z = s.summary.expect("generated").bounds_min.z;
    s.add_surface(&stl);
    s.wait();
    assert!(s.error.is_none(), "{:?}", s.error);
    assert_eq!(s.job.part.with.len(), 1);
    assert_eq!(
        s.job.operations[s.selected].spec.onto(),
        Some(s.job.part.with[0].as_str())
    );
    let out = s.output.as_ref().expect("generated");
    let (_, _, r) = out.operations.last().unwrap();
    assert!(
        r.notes.iter().any(|n| n.starts_with("onto ")),
        "{:?}",
        r.notes
    );
    // The surface falls away from the middle: the marks go deeper than on the flat top.
    let min_z = s.summary.expect("generated").bounds_min.z;
    assert!(min_z < flat_min_z - 0.1, "{min_z} vs {flat_min_z}");
    s.undo();
    s.wait();
    assert!(s.job.part.with.is_empty());
    assert_eq!(s.job.operations[s.selected].spec.onto(), None);
    std::fs::remove_dir_all(&dir).unwrap();
}
