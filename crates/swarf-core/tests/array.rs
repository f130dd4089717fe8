//! Size and quantity (issue 21): arrays of copies written expanded and with work offsets,
//! read back by LinuxCNC's rs274 to the same motion; copies exactly moved; a restart at a copy
//! reproducing the rest of the program; overlaps refused; the part sized by the job.

mod common;

use std::path::Path;

use swarf_core::array::{ArrayError, CopiesAs, Order};
use swarf_core::job::{EXAMPLE_JOB_TOML, Job, JobError};

fn job_with(array: &str) -> Job {
    Job::from_toml(&format!("{EXAMPLE_JOB_TOML}\n[array]\n{array}\n")).unwrap()
}

/// rs274's feed (non-rapid) tool-tip points with their program line.
fn feed_points(pts: &[[f64; 5]]) -> Vec<[f64; 4]> {
    pts.iter()
        .filter(|p| p[3] == 0.0)
        .map(|p| [p[0], p[1], p[2], p[4]])
        .collect()
}

/// The first line (1-based) of each `(op N: … [copy K])` section: (line, copy).
fn sections(text: &str) -> Vec<(usize, u32)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("(op ") && !l.contains(" - "))
        .filter_map(|(i, l)| {
            let k = l
                .split("[copy ")
                .nth(1)?
                .trim_end_matches(')')
                .trim_end_matches(']');
            Some((i + 1, k.parse().ok()?))
        })
        .collect()
}

#[test]
fn every_copy_of_a_rectangular_array_is_copy_one_moved_by_the_pitch() {
    let job = job_with("columns = 3\nrows = 2\npitch_mm = [11.0, 10.2]\nrow_offset_mm = 0.5");
    let out = job.run(Path::new(".")).unwrap();
    assert_eq!(out.copies.len(), 6);
    let text = &out.program.text;
    assert!(
        text.contains("(array: 3 x 2 copies, pitch X11.0000 Y10.2000 mm, odd rows moved X0.5000")
    );
    let Some((report, pts)) = common::rs274(text, "linuxcnc", "array-expanded") else {
        return;
    };
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    let secs = sections(text);
    // 2 operations × 6 copies.
    assert_eq!(secs.len(), 12);
    let feed = feed_points(&pts);
    // The points of each section, by copy and operation (sections in program order).
    let mut by: std::collections::BTreeMap<(usize, u32), Vec<[f64; 3]>> =
        std::collections::BTreeMap::default();
    let mut op_of_copy: std::collections::HashMap<u32, usize> =
        std::collections::HashMap::default();
    for (si, &(start, copy)) in secs.iter().enumerate() {
        let end = secs.get(si + 1).map_or(usize::MAX, |s| s.0);
        let op = *op_of_copy.entry(copy).and_modify(|o| *o += 1).or_insert(0);
        let v: Vec<[f64; 3]> = feed
            .iter()
            .filter(|p| (p[3] as usize) >= start && (p[3] as usize) < end)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        assert!(
            !v.is_empty(),
            "section {si} of copy {copy} has no feed moves"
        );
        by.insert((op, copy), v);
    }
    for c in &out.copies {
        for op in 0..2 {
            let base = &by[&(op, 1)];
            let this = &by[&(op, c.number)];
            assert_eq!(base.len(), this.len(), "copy {} op {op}", c.number);
            for (a, b) in base.iter().zip(this) {
                let d = [
                    b[0] - a[0] - c.offset.x,
                    b[1] - a[1] - c.offset.y,
                    b[2] - a[2],
                ];
                assert!(
                    d.iter().all(|v| v.abs() < 1e-7),
                    "copy {} op {op}: {a:?} → {b:?} is not moved by {:?}",
                    c.number,
                    c.offset
                );
            }
        }
    }
    // By operation: one tool change per operation, not per copy.
    assert_eq!(text.matches(" M6").count(), 2);
}

#[test]
fn work_offsets_and_expanded_copies_read_back_to_the_same_motion() {
    let spec = "columns = 2\nrows = 2\ngap_mm = [2.0, 2.0]\nskip = [3]";
    let expanded = job_with(spec);
    let mut offsets = job_with(spec);
    offsets.array.as_mut().unwrap().copies_as = CopiesAs::Offsets;
    let e = expanded.run(Path::new(".")).unwrap();
    let o = offsets.run(Path::new(".")).unwrap();
    let text = &o.program.text;
    assert!(text.contains("(copy 2: set G55 = G54 + X"), "{text}");
    assert!(
        !text.contains("G56\n"),
        "copy 3 is skipped: its offset is not used"
    );
    assert!(text.contains("\nG57\n"));
    // The program ends back in G54 whichever copy it cut last.
    let codes = ["G54", "G55", "G56", "G57", "G58", "G59"];
    let last_wcs = text.lines().rfind(|l| codes.contains(l)).unwrap();
    assert_eq!(last_wcs, "G54");
    let mut by_copy = offsets.clone();
    by_copy.array.as_mut().unwrap().order = Order::ByCopy;
    let t = by_copy.run(Path::new(".")).unwrap().program.text;
    let wcs: Vec<&str> = t.lines().filter(|l| codes.contains(l)).collect();
    assert_eq!(
        wcs,
        ["G55", "G57", "G54"],
        "by copy: 1 (G54 from the start), 2, 4, then back"
    );
    // rs274 reports feed moves in program coordinates (the work offset is a separate call):
    // each point of a copy's section plus that copy's offset is where the expanded program
    // goes.
    let Some((re, pe)) = common::rs274(&e.program.text, "linuxcnc", "array-e") else {
        return;
    };
    let (ro, po) = common::rs274(text, "linuxcnc", "array-o").unwrap();
    assert_eq!(re["errors"].as_array().map(Vec::len), Some(0), "{re}");
    assert_eq!(ro["errors"].as_array().map(Vec::len), Some(0), "{ro}");
    let secs = sections(text);
    let copy_at = |line: usize| {
        secs.iter()
            .rev()
            .find(|(start, _)| *start <= line)
            .map(|s| s.1)
            .unwrap()
    };
    let fe: Vec<[f64; 3]> = feed_points(&pe)
        .iter()
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let fo: Vec<[f64; 3]> = feed_points(&po)
        .iter()
        .map(|p| {
            let c = o.copies[copy_at(p[3] as usize) as usize - 1];
            [p[0] + c.offset.x, p[1] + c.offset.y, p[2]]
        })
        .collect();
    assert_eq!(fe.len(), fo.len());
    for (a, b) in fe.iter().zip(&fo) {
        assert!(
            a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-7),
            "{a:?} vs {b:?}"
        );
    }
    // And rs274 read the offsets program's work offset changes as offsets 2 and 4.
    let g55 = text.lines().position(|l| l == "G55").unwrap();
    assert!(secs.iter().any(|(l, c)| *c == 2 && *l < g55 + 1));
}

#[test]
fn a_restart_at_a_copy_reproduces_the_rest_of_the_program() {
    for order in [Order::ByOperation, Order::ByCopy] {
        let mut full = job_with("columns = 3\nrows = 1\npitch_mm = [11.0, 0.0]");
        full.array.as_mut().unwrap().order = order;
        let mut restart = full.clone();
        restart.start_at = Some((2, 1));
        let f = full.run(Path::new(".")).unwrap();
        let r = restart.run(Path::new(".")).unwrap();
        assert!(
            r.program
                .text
                .contains("(RESTART: from copy 2, operation 2")
        );
        let Some((_, pf)) = common::rs274(&f.program.text, "linuxcnc", "restart-full") else {
            return;
        };
        let (rr, pr) = common::rs274(&r.program.text, "linuxcnc", "restart-part").unwrap();
        assert_eq!(rr["errors"].as_array().map(Vec::len), Some(0), "{rr}");
        // Where (operation 2, copy 2) starts in the full program.
        let from = sections(&f.program.text)
            .iter()
            .filter(|(_, c)| *c == 2)
            .nth(1)
            .map(|s| s.0)
            .unwrap();
        let rest: Vec<[f64; 3]> = feed_points(&pf)
            .iter()
            .filter(|p| p[3] as usize >= from)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        let got: Vec<[f64; 3]> = feed_points(&pr)
            .iter()
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        assert_eq!(rest, got, "{order:?}");
        // The restart loads its tool first.
        assert!(r.program.text.contains("T3 M6"));
    }
    // A copy that is not cut cannot be restarted at.
    let mut bad = job_with("columns = 3\nrows = 1\npitch_mm = [11.0, 0.0]\nskip = [2]");
    bad.start_at = Some((2, 0));
    let e = bad.run(Path::new(".")).unwrap_err().to_string();
    assert!(e.contains("copy 2") && e.contains("1 3"), "{e}");
}

#[test]
fn copies_too_close_are_refused_with_the_distance() {
    // The example's outline contour cuts 0.25 mm + the tool radius outside the part.
    let job = job_with("columns = 2\nrows = 1\ngap_mm = [0.2, 0.2]");
    match job.run(Path::new(".")) {
        Err(JobError::Array(ArrayError::Overlap {
            a,
            b,
            depth_mm,
            need_gap_mm,
            ..
        })) => {
            assert_eq!((a.min(b), a.max(b)), (1, 2));
            assert!(
                (need_gap_mm[0] - 0.2 - depth_mm).abs() < 1e-9,
                "{need_gap_mm:?} {depth_mm}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Work offsets are moves only: a polar array written with them is refused by name.
    let mut polar = job_with("polar_count = 4\npolar_radius_mm = 30.0");
    polar.array.as_mut().unwrap().copies_as = CopiesAs::Offsets;
    let e = polar.run(Path::new(".")).unwrap_err().to_string();
    assert!(e.contains("turned") && e.contains("expanded"), "{e}");
    // More copies than work offsets: refused, naming the way out.
    let mut many = job_with("columns = 10\nrows = 1\npitch_mm = [12.0, 0.0]");
    many.array.as_mut().unwrap().copies_as = CopiesAs::Offsets;
    let e = many.run(Path::new(".")).unwrap_err().to_string();
    assert!(
        e.contains("copy 10") && e.contains("G59.3") && e.contains("expanded"),
        "{e}"
    );
}

#[test]
fn the_job_sizes_the_part_and_the_header_says_so() {
    let text = EXAMPLE_JOB_TOML.replacen(
        "[part]\n",
        "[part]\nresize = { fit_width_mm = 12.0, rotate_deg = 90.0 }\n",
        1,
    );
    let job = Job::from_toml(&text).unwrap();
    assert_eq!(
        Job::from_toml(&job.to_toml()).unwrap(),
        job,
        "saved and read back"
    );
    let out = job.run(Path::new(".")).unwrap();
    assert!(
        out.program
            .text
            .contains("(part size: scaled to 12 mm wide, turned 90 deg [about the work origin])"),
        "{}",
        &out.program.text[..600]
    );
    // Turned a quarter: the 12 mm width now lies along Y.
    let b = swarf_core::resize::exact_bbox(out.model.drawing().unwrap());
    assert!((b.height() - 12.0).abs() < 1e-9, "{}", b.height());
    assert!(
        out.model.warnings()[0].contains("scaled x1.5"),
        "{:?}",
        out.model.warnings()
    );
}

/// Moves every X word of the section `(op …: name [copy k])` by `dx`.
fn shift_section(text: &str, name: &str, copy: u32, dx: f64) -> String {
    let head = format!(": {name} [copy {copy}])");
    let mut inside = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("(op ") && !line.contains(" - ") {
            inside = line.ends_with(&head);
        }
        if inside && !line.starts_with('(') {
            let moved: Vec<String> = line
                .split(' ')
                .map(
                    |w| match w.strip_prefix('X').and_then(|v| v.parse::<f64>().ok()) {
                        Some(x) => format!("X{:.4}", x + dx),
                        None => w.to_string(),
                    },
                )
                .collect();
            out.push_str(&moved.join(" "));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_export_check_checks_every_copy_at_its_own_place_and_names_it() {
    for spec in [
        "columns = 3\nrows = 1\npitch_mm = [11.0, 0.0]",
        "columns = 3\nrows = 1\npitch_mm = [11.0, 0.0]\ncopies_as = \"offsets\"",
        "polar_count = 4\npolar_radius_mm = 14.0",
    ] {
        let job = job_with(spec);
        let out = job.run(Path::new(".")).unwrap();
        let clean = swarf_core::verify::export_check(&out, &out.program).unwrap();
        assert!(clean.problems.is_empty(), "{spec}: {:?}", clean.problems);
        // The outline of copy 3 moved 0.3 mm along X: it cuts into copy 3's part (and only
        // there), and the problem names the copy.
        let mut bad = out.program.clone();
        bad.text = shift_section(&out.program.text, "outline", 3, 0.3);
        assert_ne!(bad.text, out.program.text);
        let r = swarf_core::verify::export_check(&out, &bad).unwrap();
        assert!(!r.problems.is_empty(), "{spec}: the gouge was not found");
        assert!(
            r.problems.iter().all(|p| p.op == "outline [copy 3]"),
            "{spec}: {:?}",
            r.problems.iter().map(|p| &p.op).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_simulation_cuts_every_enabled_copy_on_one_block() {
    let job = job_with("columns = 3\nrows = 1\npitch_mm = [11.0, 0.0]\nskip = [2]");
    let out = job.run(Path::new(".")).unwrap();
    let stock =
        swarf_core::sim::simulate_output(&out, &swarf_core::sim::SimOptions::default()).unwrap();
    let cut = out.operations[0]
        .2
        .toolpath
        .moves
        .iter()
        .filter(|m| matches!(m.class, swarf_core::toolpath::MoveClass::Cut))
        .map(|m| m.to)
        .find(|p| p.z < -0.09)
        .expect("a cut at the floor");
    for c in &out.copies {
        let p = c.apply(cut.xy());
        let at = stock.at(p).unwrap();
        if c.enabled {
            assert!(
                (at - cut.z).abs() < 1e-3,
                "copy {}: {at} vs {}",
                c.number,
                cut.z
            );
        } else {
            assert_eq!(at, 0.0, "the skipped copy {} is not cut", c.number);
        }
    }
}

#[test]
fn subroutines_read_back_to_the_expanded_motion_and_keep_the_program_short() {
    let spec = "columns = 5\nrows = 4\ngap_mm = [2.0, 2.0]\nskip = [7]";
    let expanded = job_with(spec);
    let mut subs = job_with(spec);
    subs.array.as_mut().unwrap().copies_as = CopiesAs::Subroutines;
    let e = expanded.run(Path::new(".")).unwrap();
    let s = subs.run(Path::new(".")).unwrap();
    let text = &s.program.text;
    assert!(text.contains("\nO100 sub\n") && text.contains("\nO101 endsub\n"));
    assert!(text.contains("O101 call [10] [0]"), "{}", &text[..800]);
    assert_eq!(text.matches(" call ").count(), 2 * 19);
    assert!(
        text.len() * 5 < e.program.text.len(),
        "{} vs {} bytes",
        text.len(),
        e.program.text.len()
    );
    // Swarf's own reader runs the calls: the export check passes, copy by copy.
    let r = swarf_core::verify::export_check(&s, &s.program).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let Some((re, pe)) = common::rs274(&e.program.text, "linuxcnc", "subs-e") else {
        return;
    };
    let (rs, ps) = common::rs274(text, "linuxcnc", "subs-s").unwrap();
    assert_eq!(re["errors"].as_array().map(Vec::len), Some(0), "{re}");
    assert_eq!(rs["errors"].as_array().map(Vec::len), Some(0), "{rs}");
    let fe: Vec<[f64; 3]> = feed_points(&pe)
        .iter()
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let fs: Vec<[f64; 3]> = feed_points(&ps)
        .iter()
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    assert_eq!(fe.len(), fs.len());
    for (a, b) in fe.iter().zip(&fs) {
        assert!(
            a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-7),
            "{a:?} vs {b:?}"
        );
    }
    // Only LinuxCNC gets subroutines; a turned copy cannot be one.
    let mut grbl = subs.clone();
    grbl.post.dialect = swarf_core::post::Dialect::Grbl;
    let err = grbl.run(Path::new(".")).unwrap_err().to_string();
    assert!(
        err.contains("LinuxCNC") && err.contains("expanded"),
        "{err}"
    );
    let mut polar = job_with("polar_count = 4\npolar_radius_mm = 30.0");
    polar.array.as_mut().unwrap().copies_as = CopiesAs::Subroutines;
    let err = polar.run(Path::new(".")).unwrap_err().to_string();
    assert!(err.contains("turned"), "{err}");
}

/// Serial numbers (issue 20 with issue 21): a text with a counter on an array carries the
/// next number on each copy cut (in copy order, a left-out copy taking none), expanded and
/// in work offsets; every copy the same when asked; refused in subroutines, which repeat one
/// motion. Each copy's text is the first copy's generated with its number, moved.
#[test]
fn each_copy_of_an_array_carries_its_own_serial_number() {
    use swarf_core::ops::OpSpec;
    use swarf_core::ops::text::TextParams;
    let mut job = job_with("columns = 4\nrows = 1\npitch_mm = [11.0, 10.0]\nskip = [2]");
    for op in &mut job.operations {
        op.enabled = false;
    }
    let mut text = job.operations[0].clone();
    text.name = "serial".into();
    text.enabled = true;
    text.spec = OpSpec::Text(TextParams {
        text: "SN {n:04}".into(),
        counter: 7,
        x_mm: -3.0,
        y_mm: -2.5,
        ..TextParams::default()
    });
    job.operations.push(text);
    let out = job.run(Path::new(".")).unwrap();
    // Copies 1, 3 and 4 are cut: numbers 7, 8 and 9.
    assert_eq!(out.per_copy.len(), 2);
    assert_eq!(
        out.per_copy.iter().map(|(_, c, _)| *c).collect::<Vec<_>>(),
        vec![3, 4]
    );
    let (_, _, first) = &out.operations[0];
    let note = first
        .notes
        .iter()
        .find(|n| n.starts_with("a serial number per copy"))
        .expect("the notes list the numbers");
    assert!(
        note.contains("copy 1 \"SN 0007\", copy 3 \"SN 0008\", copy 4 \"SN 0009\"")
            && note.contains("the next program starts at 10"),
        "{note}"
    );
    // Each copy's own text, generated alone with its number, is what its section cuts.
    let alone = |n: u64| {
        let mut j = job.clone();
        let OpSpec::Text(t) = &mut j.operations.last_mut().unwrap().spec else {
            unreachable!()
        };
        t.counter = n;
        j.array = None;
        j.run(Path::new(".")).unwrap().operations[0]
            .2
            .toolpath
            .clone()
    };
    for (copy, n) in [(3u32, 8u64), (4, 9)] {
        let (_, c, r) = out.per_copy.iter().find(|(_, c, _)| *c == copy).unwrap();
        assert_eq!(*c, copy);
        assert_eq!(r.toolpath, alone(n), "copy {copy}");
    }
    assert_ne!(alone(8), alone(9), "different numbers cut differently");
    let text = &out.program.text;
    let secs = sections(text);
    assert_eq!(
        secs.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![1, 3, 4],
        "{secs:?}"
    );
    // Expanded: copy 3's section is copy 3's own text moved by two pitches.
    let copy3 = out.copies.iter().find(|c| c.number == 3).unwrap();
    let moved = copy3.toolpath(&alone(8));
    let first_cut = moved.moves.iter().find(|m| m.to.z < 0.0).expect("cuts").to;
    let start = secs[1].0;
    let body: String = text
        .lines()
        .skip(start)
        .take(200)
        .collect::<Vec<_>>()
        .join("\n");
    let want = format!("X{:.4}", first_cut.x)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string();
    assert!(body.contains(&want), "{want} not in copy 3's section");
    // In work offsets each section cuts its copy's own text in the part's place.
    let mut offs = job.clone();
    offs.array.as_mut().unwrap().copies_as = CopiesAs::Offsets;
    let o = offs.run(Path::new(".")).unwrap();
    assert_eq!(o.per_copy.len(), 2);
    // One number on every copy: nothing per copy.
    let mut same = job.clone();
    if let OpSpec::Text(t) = &mut same.operations.last_mut().unwrap().spec {
        t.per_copy = false;
    }
    let s = same.run(Path::new(".")).unwrap();
    assert!(s.per_copy.is_empty());
    // Subroutines repeat one motion: refused with the fix.
    let mut subs = job.clone();
    subs.array.as_mut().unwrap().copies_as = CopiesAs::Subroutines;
    let e = subs.run(Path::new(".")).unwrap_err().to_string();
    assert!(
        e.contains("serial number per copy") && e.contains("expanded or in work offsets"),
        "{e}"
    );
}
