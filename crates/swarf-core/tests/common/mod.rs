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
