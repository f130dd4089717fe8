//! Hostile input: every corpus file truncated, with bytes flipped, numbers replaced by
//! NaN/inf/1e308, lines duplicated or deleted — several hundred variants — and G-code and job
//! files likewise. Each must import or fail with an error: no panic, no hang (a generous time
//! bound), no unbounded allocation (a counting allocator caps the peak).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use swarf_core::geometry::Tolerance;
use swarf_core::import::{DxfOptions, StlOptions, import_dxf, import_stl};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only adds bookkeeping.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as System::alloc.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as System::dealloc.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A small deterministic generator (no dependency, same variants on every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }
}

fn variants(bytes: &[u8], text: bool, rng: &mut Lcg, many: bool) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    let n = bytes.len();
    for f in [0.01, 0.1, 0.33, 0.5, 0.9, 0.999] {
        let cut = ((n as f64) * f) as usize;
        v.push((format!("truncated at {cut}"), bytes[..cut].to_vec()));
    }
    if !many {
        return v;
    }
    for k in 0..6 {
        let mut b = bytes.to_vec();
        for _ in 0..=k * 3 {
            let i = rng.below(n);
            b[i] ^= 1 << rng.below(8);
        }
        v.push((format!("{} flipped bits", k * 3 + 1), b));
    }
    if text {
        let s = String::from_utf8_lossy(bytes).into_owned();
        let lines: Vec<&str> = s.split('\n').collect();
        let numeric: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim().parse::<f64>().is_ok() && l.contains('.'))
            .map(|(i, _)| i)
            .collect();
        for bad in ["nan", "inf", "-inf", "1e308", "-1e308", "1e-320"] {
            let mut ls: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
            for _ in 0..3 {
                if !numeric.is_empty() {
                    ls[numeric[rng.below(numeric.len())]] = bad.to_string();
                }
            }
            v.push((
                format!("numbers replaced by {bad}"),
                ls.join("\n").into_bytes(),
            ));
        }
        for k in 0..3 {
            let mut ls: Vec<&str> = lines.clone();
            let i = rng.below(ls.len());
            if k % 2 == 0 {
                ls.insert(i, lines[i]);
            } else {
                ls.remove(i);
            }
            v.push((
                format!("line {i} duplicated or deleted"),
                ls.join("\n").into_bytes(),
            ));
        }
        // Every number huge: the hostile extreme.
        let huge: String = lines
            .iter()
            .map(|l| {
                if l.trim().parse::<f64>().is_ok() && l.contains('.') {
                    "1e300"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        v.push(("all coordinates 1e300".into(), huge.into_bytes()));
    }
    v
}

/// Runs `f` and checks: no panic, under the time bound, peak heap under the cap.
fn check<T, E: std::fmt::Display>(what: &str, f: impl FnOnce() -> Result<T, E>) {
    const TIME: Duration = Duration::from_secs(30);
    const CAP: usize = 1 << 30;
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let dt = t.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    match r {
        Err(p) => panic!("{what}: panicked: {p:?}"),
        Ok(Err(e)) => assert!(!e.to_string().is_empty(), "{what}: empty error"),
        Ok(Ok(_)) => {}
    }
    assert!(dt < TIME, "{what}: took {dt:?}");
    assert!(peak < CAP, "{what}: allocated {peak} bytes");
}

#[test]
fn corpus_variants_import_or_fail_cleanly() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut rng = Lcg(0x5eed);
    let mut count = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let many = bytes.len() < 600_000;
        match ext.as_str() {
            "dxf" => {
                for (what, b) in variants(&bytes, true, &mut rng, many) {
                    check(&format!("{name}: {what}"), || {
                        import_dxf(&b, &DxfOptions::default())
                    });
                    count += 1;
                }
            }
            "stl" => {
                let text = bytes.starts_with(b"solid") && bytes.iter().take(512).all(u8::is_ascii);
                for (what, b) in variants(&bytes, text, &mut rng, many) {
                    check(&format!("{name}: {what}"), || {
                        import_stl(&b, &StlOptions::default())
                    });
                    count += 1;
                }
            }
            _ => {}
        }
    }
    assert!(count > 300, "only {count} variants");
    eprintln!("{count} corpus variants checked");
}

#[test]
fn hostile_headers_and_counts_are_refused_before_allocating() {
    // A binary STL header claiming 4 billion triangles in 84 bytes.
    let mut b = vec![b' '; 80];
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    check("stl count", || import_stl(&b, &StlOptions::default()));
    assert!(import_stl(&b, &StlOptions::default()).is_err());
    // A DXF MINSERT array of a million copies is refused; nested self-inserts stop.
    let dxf = "0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n2\nB\n0\nCIRCLE\n10\n0\n20\n0\n40\n1\n0\nENDBLK\n0\nENDSEC\n\
               0\nSECTION\n2\nENTITIES\n0\nINSERT\n2\nB\n70\n1000\n71\n1000\n44\n1\n45\n1\n0\nENDSEC\n0\nEOF\n";
    check("minsert", || {
        import_dxf(dxf.as_bytes(), &DxfOptions::default())
    });
    let d = import_dxf(dxf.as_bytes(), &DxfOptions::default()).unwrap();
    assert!(d.warnings.iter().any(|w| w.contains("10000 copies")));
    // A spline claiming a degree of a billion.
    let s = "0\nSECTION\n2\nENTITIES\n0\nSPLINE\n71\n1000000000\n10\n0\n20\n0\n0\nENDSEC\n0\nEOF\n";
    check("spline degree", || {
        import_dxf(s.as_bytes(), &DxfOptions::default())
    });
}

#[test]
fn gcode_and_job_variants_read_or_fail_cleanly() {
    let tol = Tolerance::default();
    let job = swarf_core::job::Job::from_toml(swarf_core::job::EXAMPLE_JOB_TOML).unwrap();
    let program = job.run(std::path::Path::new(".")).unwrap().program.text;
    let mut rng = Lcg(42);
    let mut count = 0;
    for (what, b) in variants(program.as_bytes(), true, &mut rng, true) {
        let text = String::from_utf8_lossy(&b).into_owned();
        check(&format!("gcode: {what}"), || {
            swarf_core::verify::read_gcode(&text, swarf_core::toolpath::P3::default(), &tol)
        });
        count += 1;
    }
    for (what, b) in variants(
        swarf_core::job::EXAMPLE_JOB_TOML.as_bytes(),
        true,
        &mut rng,
        true,
    ) {
        let text = String::from_utf8_lossy(&b).into_owned();
        check(&format!("job: {what}"), || {
            let j = swarf_core::job::Job::from_toml(&text)?;
            j.run(std::path::Path::new(".")).map(|_| ())
        });
        count += 1;
    }
    assert!(count > 40);
}

#[test]
fn bad_parameters_never_panic() {
    use swarf_core::geometry::{Pline, Region};
    use swarf_core::ops::adaptive::{AdaptiveParams, adaptive};
    use swarf_core::ops::pocket::{PocketParams, pocket};
    use swarf_core::ops::{Heights, Stepover};
    use swarf_core::tool::Tool;
    let tol = Tolerance::default();
    let mut zero = Pline::new_closed();
    {
        use cavalier_contours::polyline::PlineSourceMut;
        zero.add(0.0, 0.0, 0.0);
        zero.add(1.0, 0.0, 0.0);
        zero.add(2.0, 0.0, 0.0);
    }
    let regions = vec![Region {
        outer: zero,
        islands: vec![],
    }];
    for d in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 1e9] {
        let mut t = Tool::micro_flat(0.2);
        t.diameter_mm = d;
        check(&format!("tool {d}"), || {
            pocket(
                &regions,
                &t,
                &PocketParams::default(),
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
    }
    for s in [0.0, -0.1, f64::NAN, 2.0, 1e-12] {
        let p = PocketParams {
            stepover: Stepover::Fraction(s),
            ..PocketParams::default()
        };
        check(&format!("stepover {s}"), || {
            pocket(
                &regions,
                &Tool::micro_flat(0.2),
                &p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
    }
    for depth in [0.0, -1.0, f64::NAN] {
        let p = PocketParams {
            cut: swarf_core::ops::CutParams {
                heights: Heights {
                    final_depth_mm: depth,
                    ..Heights::default()
                },
                ..PocketParams::default().cut
            },
            ..PocketParams::default()
        };
        check(&format!("depth {depth}"), || {
            pocket(
                &regions,
                &Tool::micro_flat(0.2),
                &p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
    }
    // A region of zero area is a warning, not a failure.
    let r = pocket(
        &regions,
        &Tool::micro_flat(0.2),
        &PocketParams::default(),
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    assert!(!r.warnings.is_empty());
    // Adaptive clearing: bad limits are errors naming the parameter; a tool wider than every
    // region and a region of zero area are warnings.
    let square = Region {
        outer: {
            use cavalier_contours::polyline::PlineSourceMut;
            let mut o = Pline::new_closed();
            for (x, y) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)] {
                o.add(x, y, 0.0);
            }
            o
        },
        islands: vec![],
    };
    for (deg, load, param) in [
        (0.0, None, "max_engagement_deg"),
        (-5.0, None, "max_engagement_deg"),
        (f64::NAN, None, "max_engagement_deg"),
        (200.0, None, "max_engagement_deg"),
        (1e-6, None, "max_engagement_deg"),
        (60.0, Some(0.0), "optimal_load"),
        (60.0, Some(f64::NAN), "optimal_load"),
        (60.0, Some(2.0), "optimal_load"),
    ] {
        let p = AdaptiveParams {
            max_engagement_deg: deg,
            optimal_load: load,
            ..AdaptiveParams::default()
        };
        let what = format!("adaptive {deg}° load {load:?}");
        check(&what, || {
            adaptive(
                std::slice::from_ref(&square),
                &Tool::micro_flat(0.2),
                &p,
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
        let e = adaptive(
            std::slice::from_ref(&square),
            &Tool::micro_flat(0.2),
            &p,
            &tol,
            &swarf_core::ops::Cancel::NEVER,
        )
        .unwrap_err();
        assert!(e.to_string().contains(param), "{what}: {e}");
    }
    for d in [0.0, f64::NAN, 1e9] {
        let mut t = Tool::micro_flat(0.2);
        t.diameter_mm = d;
        check(&format!("adaptive tool {d}"), || {
            adaptive(
                std::slice::from_ref(&square),
                &t,
                &AdaptiveParams::default(),
                &tol,
                &swarf_core::ops::Cancel::NEVER,
            )
        });
    }
    let wide = adaptive(
        std::slice::from_ref(&square),
        &Tool::micro_flat(2.0),
        &AdaptiveParams::default(),
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    assert!(
        wide.warnings[0].contains("narrower than the 2 mm tool"),
        "{:?}",
        wide.warnings
    );
    // A coarse path tolerance is honoured (the fit tolerance is never below it).
    let coarse = Tolerance {
        path_mm: 0.01,
        ..Tolerance::default()
    };
    check("adaptive with a 10 µm path tolerance", || {
        adaptive(
            std::slice::from_ref(&square),
            &Tool::micro_flat(0.2),
            &AdaptiveParams::default(),
            &coarse,
            &swarf_core::ops::Cancel::NEVER,
        )
    });
    // Kilometres of passes are refused before any work.
    let huge = Region {
        outer: {
            use cavalier_contours::polyline::PlineSourceMut;
            let mut o = Pline::new_closed();
            for (x, y) in [(0.0, 0.0), (500.0, 0.0), (500.0, 500.0), (0.0, 500.0)] {
                o.add(x, y, 0.0);
            }
            o
        },
        islands: vec![],
    };
    let e = adaptive(
        std::slice::from_ref(&huge),
        &Tool::micro_flat(0.05),
        &AdaptiveParams::default(),
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap_err();
    assert!(e.to_string().contains("max_engagement_deg"), "{e}");
    let flat = adaptive(
        &regions,
        &Tool::micro_flat(0.2),
        &AdaptiveParams::default(),
        &tol,
        &swarf_core::ops::Cancel::NEVER,
    )
    .unwrap();
    assert!(!flat.warnings.is_empty());
}
