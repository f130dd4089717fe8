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
    s.export(&out).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        s.output.as_ref().unwrap().program.text
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
