//! Helpers shared by the integration tests: a tiny DXF writer and the corpus location.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;

/// The third-party corpus (`../shared/corpus/files` from the repository root), or `None` with a
/// loud message when this checkout has none.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/files");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n*** SKIPPED: corpus not found at {} (CI provides ../shared/corpus) ***\n",
            dir.display()
        );
        None
    }
}

/// Builds an ASCII DXF from entities.
#[derive(Default)]
pub struct DxfBuilder {
    header: String,
    blocks: String,
    entities: String,
}

impl DxfBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insunits(mut self, code: i32) -> Self {
        write!(self.header, "9\n$INSUNITS\n70\n{code}\n").unwrap();
        self
    }
    /// Adds a raw entity: kind and (code, value) pairs.
    pub fn ent(mut self, kind: &str, groups: &[(i32, String)]) -> Self {
        write!(self.entities, "0\n{kind}\n").unwrap();
        for (c, v) in groups {
            write!(self.entities, "{c}\n{v}\n").unwrap();
        }
        self
    }
    pub fn block(mut self, name: &str, base: (f64, f64), body: &DxfBuilder) -> Self {
        write!(
            self.blocks,
            "0\nBLOCK\n2\n{name}\n10\n{}\n20\n{}\n{}0\nENDBLK\n",
            base.0, base.1, body.entities
        )
        .unwrap();
        self
    }
    pub fn line(self, a: (f64, f64), b: (f64, f64)) -> Self {
        self.ent(
            "LINE",
            &[
                (8, "0".into()),
                (10, a.0.to_string()),
                (20, a.1.to_string()),
                (11, b.0.to_string()),
                (21, b.1.to_string()),
            ],
        )
    }
    pub fn circle(self, c: (f64, f64), r: f64) -> Self {
        self.ent(
            "CIRCLE",
            &[
                (8, "0".into()),
                (10, c.0.to_string()),
                (20, c.1.to_string()),
                (40, r.to_string()),
            ],
        )
    }
    pub fn arc(self, c: (f64, f64), r: f64, a0: f64, a1: f64) -> Self {
        self.ent(
            "ARC",
            &[
                (8, "0".into()),
                (10, c.0.to_string()),
                (20, c.1.to_string()),
                (40, r.to_string()),
                (50, a0.to_string()),
                (51, a1.to_string()),
            ],
        )
    }
    /// LWPOLYLINE with (x, y, bulge) vertices.
    pub fn lwpolyline(self, verts: &[(f64, f64, f64)], closed: bool) -> Self {
        let mut g = vec![
            (8, "0".to_string()),
            (90, verts.len().to_string()),
            (70, i32::from(closed).to_string()),
        ];
        for (x, y, b) in verts {
            g.push((10, x.to_string()));
            g.push((20, y.to_string()));
            if *b != 0.0 {
                g.push((42, b.to_string()));
            }
        }
        self.ent("LWPOLYLINE", &g)
    }
    pub fn build(&self) -> String {
        let mut s = String::new();
        if !self.header.is_empty() {
            write!(s, "0\nSECTION\n2\nHEADER\n{}0\nENDSEC\n", self.header).unwrap();
        }
        if !self.blocks.is_empty() {
            write!(s, "0\nSECTION\n2\nBLOCKS\n{}0\nENDSEC\n", self.blocks).unwrap();
        }
        write!(
            s,
            "0\nSECTION\n2\nENTITIES\n{}0\nENDSEC\n0\nEOF\n",
            self.entities
        )
        .unwrap();
        s
    }
}

use cavalier_contours::polyline::{PlineSource, PlineVertex};
use swarf_core::geometry::{Pline, Region, V2, biarc};
use swarf_core::toolpath::{Motion, MoveClass, P3, Toolpath, arc_sweep};

/// A toolpath move as an XY bulge segment (start, end) with its Z range and class.
pub struct Seg {
    pub a: PlineVertex<f64>,
    pub b: PlineVertex<f64>,
    pub z0: f64,
    pub z1: f64,
    pub class: MoveClass,
    pub rapid: bool,
}

/// The moves of a toolpath as segments.
pub fn segments(tp: &Toolpath) -> Vec<Seg> {
    let mut from = tp.start;
    let mut out = Vec::new();
    for m in &tp.moves {
        let bulge = match m.motion {
            Motion::Arc { centre, ccw } => {
                (arc_sweep(from.xy(), m.to.xy(), centre, ccw) / 4.0).tan()
            }
            _ => 0.0,
        };
        out.push(Seg {
            a: PlineVertex::new(from.x, from.y, bulge),
            b: PlineVertex::new(m.to.x, m.to.y, 0.0),
            z0: from.z,
            z1: m.to.z,
            class: m.class,
            rapid: matches!(m.motion, Motion::Rapid),
        });
        from = m.to;
    }
    out
}

/// Points along a segment, at most `step` apart.
pub fn sample_seg(s: &Seg, step: f64) -> Vec<P3> {
    let (a, b) = (V2::new(s.a.x, s.a.y), V2::new(s.b.x, s.b.y));
    let len = if s.a.bulge == 0.0 {
        a.dist(b)
    } else {
        let (_, r) = biarc::arc_centre_radius(a, b, s.a.bulge);
        r * (4.0 * s.a.bulge.atan()).abs()
    };
    let n = ((len / step).ceil() as usize).clamp(1, 10_000);
    (0..=n)
        .map(|i| {
            let f = i as f64 / n as f64;
            let p = if s.a.bulge == 0.0 {
                a.lerp(b, f)
            } else {
                let (c, r) = biarc::arc_centre_radius(a, b, s.a.bulge);
                let a0 = (a - c).angle();
                c + V2::from_angle(a0 + 4.0 * s.a.bulge.atan() * f) * r
            };
            P3::new(p.x, p.y, s.z0 + (s.z1 - s.z0) * f)
        })
        .collect()
}

/// Distance from a point to a loop.
pub fn dist_to_loop(l: &Pline, p: V2) -> f64 {
    l.iter_segments()
        .map(|(a, b)| biarc::seg_distance(a, b, p))
        .fold(f64::INFINITY, f64::min)
}

/// Distance from a point to the boundary of a region.
pub fn dist_to_region_boundary(r: &Region, p: V2) -> f64 {
    std::iter::once(&r.outer)
        .chain(&r.islands)
        .map(|l| dist_to_loop(l, p))
        .fold(f64::INFINITY, f64::min)
}

/// The Python that has numpy for `rs274_path.py` (Debian's, installed with linuxcnc-uspace).
pub fn rs274_tools() -> Option<(String, PathBuf)> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/rs274_path.py");
    if !script.exists() || !std::path::Path::new("/usr/bin/rs274").exists() {
        eprintln!(
            "\n*** SKIPPED: LinuxCNC rs274 or shared/tools/rs274_path.py not found (CI installs \
             linuxcnc-uspace) ***\n"
        );
        return None;
    }
    for py in ["/usr/bin/python3", "python3"] {
        let ok = std::process::Command::new(py)
            .args(["-c", "import numpy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some((py.to_string(), script));
        }
    }
    eprintln!("\n*** SKIPPED: no python3 with numpy for rs274_path.py ***\n");
    None
}

/// Runs `LinuxCNC`'s interpreter on a program: (report JSON, points: x, y, z, rapid, line).
pub fn rs274(gcode: &str, dialect: &str, tag: &str) -> Option<(serde_json::Value, Vec<[f64; 5]>)> {
    let (py, script) = rs274_tools()?;
    let dir = std::env::temp_dir().join(format!("swarf-rs274-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("prog.ngc");
    let csv = dir.join("points.csv");
    std::fs::write(&file, gcode).unwrap();
    let ini = script.with_file_name("rs274_strict.ini");
    // rs274 keeps its tool table in `$HOME/.tool.mmap`, truncated and deleted by each run:
    // every run gets its own HOME so that parallel runs (and a LinuxCNC) do not crash each
    // other with SIGBUS.
    let out = std::process::Command::new(py)
        .env("HOME", &dir)
        .arg(&script)
        .arg(&file)
        .args(["--json", "--tol", "0.00005", "--dialect", dialect, "--csv"])
        .arg(&csv)
        .arg("--ini")
        .arg(&ini)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "rs274_path.py failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let text = std::fs::read_to_string(&csv).unwrap();
    let pts = text
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3], v[4]]
        })
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    Some((report, pts))
}
