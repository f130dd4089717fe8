use super::*;
use crate::toolpath::MoveClass;

fn tool(name: &str) -> Tool {
    let mut t = Tool::micro_flat(0.2);
    t.name = name.into();
    t
}

fn small_path() -> Toolpath {
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 5.0));
    tp.rapid(P3::new(1.0, 0.0, 5.0));
    tp.rapid(P3::new(1.0, 0.0, 0.1));
    tp.line(P3::new(1.0, 0.0, -0.05), MoveClass::Entry, 10.0);
    tp.arc(
        P3::new(-1.0, 0.0, -0.05),
        V2::new(0.0, 0.0),
        true,
        MoveClass::Cut,
        160.0,
    );
    tp.arc(
        P3::new(1.0, 0.0, -0.05),
        V2::new(0.0, 0.0),
        true,
        MoveClass::Cut,
        160.0,
    );
    tp.rapid(P3::new(1.0, 0.0, 5.0));
    tp
}

fn write(t: &Tool, tp: &Toolpath, opts: &PostOptions) -> Program {
    write_program(
        &[Section {
            name: "test",
            tool: t,
            toolpath: tp,
            coolant: None,
            place: None,
        }],
        opts,
        &Tolerance::default(),
    )
    .unwrap()
}

#[test]
fn comments_cannot_end_early_or_inject() {
    assert_eq!(sanitize_comment("0.2mm (new)"), "0.2mm [new]");
    assert_eq!(sanitize_comment("a;b\nM3 S99999\r(x)"), "a,b M3 S99999 [x]");
    let t = tool("0.2mm (new)\nM3 S60000");
    let p = write(&t, &small_path(), &PostOptions::default());
    for line in p.text.lines() {
        if line.starts_with('(') {
            assert!(
                line.ends_with(')') && line[1..line.len() - 1].find(['(', ')']).is_none(),
                "{line}"
            );
        }
    }
    assert!(
        !p.text
            .lines()
            .any(|l| l.trim_start().starts_with("M3 S60000"))
    );
}

#[test]
fn deterministic_and_safe_preamble_and_end() {
    let t = tool("t");
    let a = write(&t, &small_path(), &PostOptions::default());
    let b = write(&t, &small_path(), &PostOptions::default());
    assert_eq!(a.text, b.text);
    let lines: Vec<&str> = a.text.lines().filter(|l| !l.starts_with('(')).collect();
    assert_eq!(lines[0], "G21 G90 G17 G94 G40 G49 G80 G54");
    assert_eq!(lines[1], "G0 Z5");
    assert!(lines.iter().position(|l| l.contains('X')).unwrap() > 1);
    assert_eq!(*lines.last().unwrap(), "M2");
    assert!(lines.contains(&"M5"));
    assert!(a.text.contains("G3 X-1 Y0 I-1 J0 F160"), "{}", a.text);
    assert_eq!(a.arcs_written, 2);
}

#[test]
fn dialects_and_decimals() {
    let t = tool("t");
    let grbl = write(
        &t,
        &small_path(),
        &PostOptions {
            dialect: Dialect::Grbl,
            ..PostOptions::default()
        },
    );
    assert!(!grbl.text.contains("M6") && grbl.text.contains("G21 G90 G17 G94 G54\n"));
    let fanuc = write(
        &t,
        &small_path(),
        &PostOptions {
            dialect: Dialect::Fanuc,
            ..PostOptions::default()
        },
    );
    assert!(fanuc.text.starts_with("%\nO0001\n") && fanuc.text.ends_with("M30\n%\n"));
    assert!(fanuc.text.contains("G4 X2"));
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
    tp.line(P3::new(0.123_456_78, 0.0, 1.0), MoveClass::Cut, 100.0);
    for (d, s) in [
        (3, "X0.123"),
        (4, "X0.1235"),
        (5, "X0.12346"),
        (6, "X0.123457"),
    ] {
        let p = write(
            &t,
            &tp,
            &PostOptions {
                decimals: d,
                ..PostOptions::default()
            },
        );
        assert!(p.text.contains(s), "{d}: {}", p.text);
    }
    let e = write_program(
        &[Section {
            name: "x",
            tool: &t,
            toolpath: &tp,
            coolant: None,
            place: None,
        }],
        &PostOptions {
            decimals: 7,
            ..PostOptions::default()
        },
        &Tolerance::default(),
    );
    assert!(matches!(e, Err(PostError::Decimals(7))));
}

#[test]
fn arcs_that_fail_after_rounding_become_lines() {
    let t = tool("t");
    // A 2 mm-radius arc whose centre is given 0.3 µm off: after rounding to 3 decimals the
    // radii differ by more than 0.5 µm in one case; large radius arcs become lines.
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 0.0));
    tp.arc(
        P3::new(5000.0, 0.0, 0.0),
        V2::new(2500.0, -0.5),
        false,
        MoveClass::Cut,
        100.0,
    );
    let p = write(&t, &tp, &PostOptions::default());
    assert_eq!(p.arcs_as_lines, 1);
    assert!(!p.text.lines().any(|l| l.starts_with("G2 ")));
    // Every line of the replacement lies within the path tolerance of the arc: count them.
    assert!(p.text.lines().filter(|l| l.starts_with("G1")).count() > 10);
    // A feed move without feed is refused.
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 0.0));
    tp.line(P3::new(1.0, 0.0, 0.0), MoveClass::Cut, 0.0);
    assert!(matches!(
        write_program(
            &[Section {
                name: "x",
                tool: &t,
                toolpath: &tp,
                coolant: None,
                place: None,
            }],
            &PostOptions::default(),
            &Tolerance::default()
        ),
        Err(PostError::NoFeed { .. })
    ));
}

/// The post options a user expects: program number, line numbers, header and footer text
/// (sanitised), arcs off, the work offset.
#[test]
fn program_number_line_numbers_texts_arcs_off_and_work_offset() {
    let t = tool("t");
    let tp = small_path();
    let opts = PostOptions {
        dialect: Dialect::Fanuc,
        program_number: Some(42),
        line_numbers: Some(5),
        header_text: "Customer: Acme (bridge) 2!\n\nsecond line".into(),
        footer_text: "done; thanks".into(),
        work_offset: WorkOffset::G56,
        arcs: false,
        ..PostOptions::default()
    };
    let p = write(&t, &tp, &opts);
    let lines: Vec<&str> = p.text.lines().collect();
    assert_eq!(&lines[..2], ["%", "O0042"]);
    assert!(
        p.text.contains("(Customer: Acme [bridge] 2!)"),
        "{}",
        p.text
    );
    assert!(p.text.contains("(second line)") && p.text.contains("(done, thanks)"));
    // Every block numbered in steps of 5; comments and % / O lines are not blocks.
    let blocks: Vec<&&str> = lines
        .iter()
        .filter(|l| !(l.starts_with('(') || l.starts_with('%') || l.starts_with('O')))
        .collect();
    for (k, b) in blocks.iter().enumerate() {
        assert!(b.starts_with(&format!("N{} ", 5 * (k + 1))), "{b}");
    }
    assert!(blocks[0].contains("G56"), "{}", blocks[0]);
    assert!(!p.text.contains("G2 ") && !p.text.contains("G3 ") && p.arcs_written == 0);
    assert!(p.arcs_as_lines == 2);
    // Read back: the circle as lines within the path tolerance of the arcs.
    let back = crate::verify::read_gcode(&p.text, P3::default(), &Tolerance::default()).unwrap();
    for m in &back.toolpath.moves {
        if m.to.z < 0.0 {
            assert!((m.to.xy().length() - 1.0).abs() < 1e-3, "{:?}", m.to);
        }
    }
    // A program number other dialects note as a comment; nonsense is refused.
    let grbl = write(
        &t,
        &tp,
        &PostOptions {
            program_number: Some(7),
            ..PostOptions::default()
        },
    );
    assert!(grbl.text.contains("(program 7)") && !grbl.text.contains("O0007"));
    for bad in [
        PostOptions {
            program_number: Some(0),
            ..PostOptions::default()
        },
        PostOptions {
            line_numbers: Some(0),
            ..PostOptions::default()
        },
    ] {
        let e = write_program(
            &[Section {
                name: "x",
                tool: &t,
                toolpath: &tp,
                coolant: None,
                place: None,
            }],
            &bad,
            &Tolerance::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("program_number") || e.contains("line_numbers"),
            "{e}"
        );
    }
}

/// The summary's counts add up: every toolpath arc is written either as G2/G3 or as lines.
#[test]
fn arcs_written_and_arcs_as_lines_add_up_to_the_arcs() {
    let job = crate::job::Job::from_toml(crate::job::EXAMPLE_JOB_TOML).unwrap();
    let out = job.run(std::path::Path::new(".")).unwrap();
    let arcs: usize = out
        .operations
        .iter()
        .map(|(_, _, r)| r.toolpath.stats(3000.0).arcs)
        .sum();
    for decimals in [3, 4, 6] {
        let mut j = job.clone();
        j.post.decimals = decimals;
        let p = j.post_sections(&out.operations).unwrap();
        assert_eq!(
            p.arcs_written + p.arcs_as_lines,
            arcs,
            "{decimals} decimals"
        );
    }
}

/// Coolant per operation (#16): flood for the roughing, none for the finishing, mist from the
/// program's setting for a third: each switched where its operation starts, off at the end and
/// before a tool change; a coolant change alone re-posts from the cache.
#[test]
fn each_operation_gets_its_own_coolant() {
    use crate::post::Coolant;
    let mut job = crate::job::Job::from_toml(crate::job::EXAMPLE_JOB_TOML).unwrap();
    let mut third = job.operations[1].clone();
    third.name = "outline again".into();
    job.operations.push(third);
    job.post.coolant = Coolant::Mist;
    job.operations[0].coolant = Some(Coolant::Flood);
    job.operations[1].coolant = Some(Coolant::Off);
    let out = job.run(std::path::Path::new(".")).unwrap();
    let text = &out.program.text;
    let codes: Vec<&str> = text
        .lines()
        .filter(|l| {
            ["M7", "M8", "M9", "M5", "M6", "M2"]
                .iter()
                .any(|m| l.contains(m))
        })
        .collect();
    // Flood with the first tool; off (M5 M9) for the tool change; none for op 2; mist for op 3
    // (same tool: no change); off at the end.
    assert_eq!(
        codes,
        ["T2 M6", "M8", "M5", "M9", "T3 M6", "M7", "M5", "M9", "M2"],
        "{text}"
    );
    // Without per-operation settings, the program's coolant everywhere (as before).
    let mut plain = job.clone();
    for o in &mut plain.operations {
        o.coolant = None;
    }
    let p = plain.run(std::path::Path::new(".")).unwrap().program.text;
    assert_eq!(p.matches("M7").count(), 2, "{p}");
    // The job file keeps the setting.
    let again = crate::job::Job::from_toml(&job.to_toml()).unwrap();
    assert_eq!(again.operations[0].coolant, Some(Coolant::Flood));
    assert_eq!(again.operations[2].coolant, None);
}
