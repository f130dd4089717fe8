//! STL import: ASCII and binary (decided by content), several solids, vertex welding within the
//! equal-point distance, degenerate triangles removed, a repair report, units and placement.
//!
//! Written by hand rather than with `stl_io` because a hostile header must be rejected before
//! any allocation, errors must give byte offsets and line numbers, and welding must use Swarf's
//! tolerance rather than exact float equality.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::units::Units;
use crate::geometry::Tolerance;
use crate::geometry::mesh::{Mesh, MeshReport};

/// Why an STL file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StlError {
    #[error("stl: cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("stl: the file is empty")]
    Empty,
    #[error(
        "stl: binary header claims {claimed} triangles ({needed} bytes) but the file has {actual} \
         bytes; it is truncated at byte offset {actual}: export it again"
    )]
    Truncated {
        claimed: u64,
        needed: u64,
        actual: u64,
    },
    #[error(
        "stl: the file is {0} bytes, too short for a binary STL (84 bytes of header) and not ASCII STL"
    )]
    TooShort(usize),
    #[error("stl: line {line} (byte offset {offset}): {problem}")]
    Ascii {
        line: usize,
        offset: usize,
        problem: String,
    },
    #[error(
        "stl: triangle {index} at byte offset {offset} has a coordinate that is not a finite number"
    )]
    NotFinite { index: usize, offset: usize },
    #[error("stl: the file holds no triangles")]
    NoTriangles,
    #[error("stl: {0}")]
    Options(String),
}

/// Where the work origin goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// XY as in the file, Z = 0 at the top of the part.
    #[default]
    Top,
    /// Bounding-box corner (min X, min Y) at XY 0, Z = 0 at the top.
    Corner,
    /// Bounding-box centre at XY 0, Z = 0 at the top.
    Centre,
}

impl std::str::FromStr for Origin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "top" | "file" => Ok(Origin::Top),
            "corner" => Ok(Origin::Corner),
            "centre" | "center" => Ok(Origin::Centre),
            _ => Err(format!("unknown origin '{s}'; use top, corner or centre")),
        }
    }
}

/// How to import.
#[derive(Debug, Clone, PartialEq)]
pub struct StlOptions {
    /// The unit of the numbers (STL has none); default mm.
    pub units: Option<Units>,
    /// Quarter turns applied before the origin is placed.
    pub orientation: crate::geometry::mesh::Orientation,
    pub origin: Origin,
    pub tolerance: Tolerance,
}

impl Default for StlOptions {
    fn default() -> Self {
        Self {
            units: None,
            orientation: crate::geometry::mesh::Orientation::default(),
            origin: Origin::Top,
            tolerance: Tolerance::default(),
        }
    }
}

/// An imported mesh with its report.
#[derive(Debug, Clone)]
pub struct StlPart {
    pub mesh: Mesh,
    pub report: MeshReport,
    pub binary: bool,
    /// `solid` blocks in an ASCII file.
    pub solids: usize,
    pub units: Units,
    /// How the file's coordinates were moved: add this to file coordinates (in mm) to get
    /// work coordinates.
    pub offset_mm: [f64; 3],
    pub warnings: Vec<String>,
}

pub fn import_stl_file(path: &Path, opts: &StlOptions) -> Result<StlPart, StlError> {
    let bytes = std::fs::read(path).map_err(|error| StlError::Io {
        path: path.display().to_string(),
        error,
    })?;
    import_stl(&bytes, opts)
}

/// Whether the bytes look like an ASCII STL (starts with `solid` and holds only text).
fn looks_ascii(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let head = &bytes[start..];
    head.len() >= 5
        && head[..5].eq_ignore_ascii_case(b"solid")
        && bytes
            .iter()
            .take(4096)
            .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
}

/// Reads STL bytes.
pub fn import_stl(bytes: &[u8], opts: &StlOptions) -> Result<StlPart, StlError> {
    opts.tolerance.validate().map_err(StlError::Options)?;
    if bytes.is_empty() {
        return Err(StlError::Empty);
    }
    let mut warnings = Vec::new();
    // Binary when the header's count matches the size exactly, whatever the first bytes say
    // (binary files whose header starts with "solid" are common).
    let binary_exact = bytes.len() >= 84 && {
        let n = u64::from(u32::from_le_bytes([
            bytes[80], bytes[81], bytes[82], bytes[83],
        ]));
        84 + 50 * n == bytes.len() as u64
    };
    let (raw, binary, solids) = if binary_exact || (!looks_ascii(bytes) && bytes.len() >= 84) {
        let (raw, w) = read_binary(bytes)?;
        warnings.extend(w);
        (raw, true, 1)
    } else if looks_ascii(bytes) {
        let (raw, solids) = read_ascii(bytes)?;
        (raw, false, solids)
    } else {
        return Err(StlError::TooShort(bytes.len()));
    };
    if raw.is_empty() {
        return Err(StlError::NoTriangles);
    }
    let units = opts.units.unwrap_or(Units::Mm);
    let k = units.mm_per_unit();
    let tris_in_file = raw.len();
    // Weld within the equal-point distance (in mm).
    let eq = opts.tolerance.equal_point_mm;
    let mut welder = Welder::new(eq, raw.len());
    let mut triangles: Vec<[u32; 3]> = Vec::with_capacity(raw.len());
    let mut degenerate = 0usize;
    let mut slivers = 0usize;
    for (ti, t) in raw.iter().enumerate() {
        if t.iter()
            .flatten()
            .any(|v| !(v * k).abs().le(&super::dxf::MAX_COORD_MM))
        {
            return Err(StlError::Options(format!(
                "triangle {ti} has a coordinate beyond ±{:e} mm in {units}; the file is damaged or its unit is wrong",
                super::dxf::MAX_COORD_MM
            )));
        }
        let idx = [
            welder.add([t[0][0] * k, t[0][1] * k, t[0][2] * k]),
            welder.add([t[1][0] * k, t[1][1] * k, t[1][2] * k]),
            welder.add([t[2][0] * k, t[2][1] * k, t[2][2] * k]),
        ];
        if idx[0] == idx[1] || idx[1] == idx[2] || idx[0] == idx[2] {
            // Collapsed by welding: no surface, no edge that another triangle needs.
            degenerate += 1;
            continue;
        }
        let p = |i: u32| welder.vertices[i as usize];
        let (a, b, c) = (p(idx[0]), p(idx[1]), p(idx[2]));
        let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        let cr = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ];
        let twice_area = (cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2]).sqrt();
        let longest = [u, v, [c[0] - b[0], c[1] - b[1], c[2] - b[2]]]
            .iter()
            .map(|e| (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]).sqrt())
            .fold(0.0, f64::max);
        // Zero area with three distinct corners (a sliver whose height is below the
        // equal-point distance): it fills a T-junction, so removing it would open the surface.
        // Kept, counted.
        if twice_area <= eq * longest {
            slivers += 1;
        }
        triangles.push(idx);
    }
    drop(raw);
    let mut mesh = Mesh {
        vertices: welder.vertices,
        triangles,
    };
    if mesh.triangles.is_empty() {
        return Err(StlError::NoTriangles);
    }
    let (open, nonmanifold, inconsistent, bodies) = mesh.topology();
    let report = MeshReport {
        triangles_in_file: tris_in_file,
        triangles: mesh.triangles.len(),
        degenerate_removed: degenerate,
        zero_area_kept: slivers,
        vertices: mesh.vertices.len(),
        open_edges: open,
        nonmanifold_edges: nonmanifold,
        inconsistent_edges: inconsistent,
        bodies,
        watertight: open == 0 && nonmanifold == 0,
    };
    if degenerate > 0 {
        warnings.push(format!(
            "stl: {degenerate} degenerate triangle(s) removed (two corners closer than {eq} mm)"
        ));
    }
    if slivers > 0 {
        warnings.push(format!(
            "stl: {slivers} zero-area sliver triangle(s) kept: they close the surface at \
             T-junctions"
        ));
    }
    if !report.watertight {
        warnings.push(format!(
            "stl: the mesh is not watertight ({open} open edges, {nonmanifold} non-manifold edges); \
             slices may not close and operations that need a closed solid will say so: repair the \
             mesh in your CAD program"
        ));
    }
    if inconsistent > 0 {
        warnings.push(format!(
            "stl: {inconsistent} edge(s) join triangles with flipped normals; Swarf orients slices \
             by nesting, not by normals"
        ));
    }
    // Turned as the set-up asks (exact), then placed.
    mesh.orient(opts.orientation);
    // Units plausibility (STL has no units).
    let (lo, hi) = mesh.bounds().expect("triangles exist");
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(hi[2] - lo[2]);
    if opts.units.is_none() {
        let raw_extent = extent / k;
        if extent < 1.0 && raw_extent * 1000.0 <= 2000.0 {
            warnings.push(format!(
                "units: read as mm the part is only {extent:.4} mm across; if the file is in metres \
                 use --units m ({:.3} mm), in inches --units inch ({:.3} mm)",
                raw_extent * 1000.0,
                raw_extent * 25.4
            ));
        } else if extent > 500.0 {
            warnings.push(format!(
                "units: read as mm the part is {extent:.1} mm across; if the file is in µm use --units um"
            ));
        }
    }
    // Placement.
    let offset = match opts.origin {
        Origin::Top => [0.0, 0.0, -hi[2]],
        Origin::Corner => [-lo[0], -lo[1], -hi[2]],
        Origin::Centre => [-(lo[0] + hi[0]) * 0.5, -(lo[1] + hi[1]) * 0.5, -hi[2]],
    };
    mesh.translate(offset);
    Ok(StlPart {
        mesh,
        report,
        binary,
        solids,
        units,
        offset_mm: offset,
        warnings,
    })
}

type RawTri = [[f64; 3]; 3];

fn read_binary(bytes: &[u8]) -> Result<(Vec<RawTri>, Vec<String>), StlError> {
    if bytes.len() < 84 {
        return Err(StlError::TooShort(bytes.len()));
    }
    let claimed = u64::from(u32::from_le_bytes([
        bytes[80], bytes[81], bytes[82], bytes[83],
    ]));
    let needed = 84 + 50 * claimed;
    let actual = bytes.len() as u64;
    // Checked against the size before anything is allocated.
    if needed > actual {
        return Err(StlError::Truncated {
            claimed,
            needed,
            actual,
        });
    }
    let mut warnings = Vec::new();
    if needed < actual {
        warnings.push(format!(
            "stl: {} bytes after the {claimed} triangles the header announces were ignored",
            actual - needed
        ));
    }
    let n = usize::try_from(claimed).map_err(|_| StlError::Truncated {
        claimed,
        needed,
        actual,
    })?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let base = 84 + 50 * i;
        let f = |k: usize| {
            let o = base + 12 + 4 * k;
            f64::from(f32::from_le_bytes([
                bytes[o],
                bytes[o + 1],
                bytes[o + 2],
                bytes[o + 3],
            ]))
        };
        let t = [[f(0), f(1), f(2)], [f(3), f(4), f(5)], [f(6), f(7), f(8)]];
        if t.iter().flatten().any(|v| !v.is_finite()) {
            return Err(StlError::NotFinite {
                index: i,
                offset: base,
            });
        }
        out.push(t);
    }
    Ok((out, warnings))
}

fn read_ascii(bytes: &[u8]) -> Result<(Vec<RawTri>, usize), StlError> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: Vec<RawTri> = Vec::new();
    let mut solids = 0usize;
    let mut verts: Vec<[f64; 3]> = Vec::with_capacity(3);
    let mut in_facet = false;
    let mut offset = 0usize;
    let mut open_solid = false;
    let total = text.len();
    for (li, line) in text.split('\n').enumerate() {
        let line_offset = offset;
        offset += line.len() + 1;
        let last = offset >= total;
        let mut words = line.split_ascii_whitespace();
        let Some(w) = words.next() else { continue };
        let err = |problem: String| StlError::Ascii {
            line: li + 1,
            offset: line_offset,
            problem: if last {
                format!("{problem}; the file ends here, it is truncated")
            } else {
                problem
            },
        };
        match w.to_ascii_lowercase().as_str() {
            "solid" => {
                solids += 1;
                open_solid = true;
            }
            "facet" => {
                if in_facet {
                    return Err(err("'facet' inside a facet; 'endfacet' is missing".into()));
                }
                in_facet = true;
                verts.clear();
            }
            "vertex" => {
                if !in_facet {
                    return Err(err("'vertex' outside a facet".into()));
                }
                let mut p = [0.0; 3];
                for c in &mut p {
                    let s = words
                        .next()
                        .ok_or_else(|| err("vertex has fewer than 3 coordinates".into()))?;
                    *c = s
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| err(format!("'{s}' is not a finite number")))?;
                }
                verts.push(p);
            }
            "endfacet" => {
                if verts.len() != 3 {
                    return Err(err(format!("facet has {} vertices; needs 3", verts.len())));
                }
                out.push([verts[0], verts[1], verts[2]]);
                in_facet = false;
            }
            "endsolid" => open_solid = false,
            "outer" | "endloop" => {}
            other => {
                return Err(err(format!(
                    "unexpected '{}'; expected solid, facet, outer loop, vertex, endloop, endfacet or endsolid",
                    other.chars().take(30).collect::<String>()
                )));
            }
        }
    }
    if in_facet || open_solid {
        return Err(StlError::Ascii {
            line: text.split('\n').count(),
            offset: bytes.len(),
            problem: format!(
                "the file ends inside a {} without its end; it is truncated",
                if in_facet { "facet" } else { "solid" }
            ),
        });
    }
    Ok((out, solids))
}

/// Merges points closer than `eq` with a hash grid (own cell, and neighbours only when the
/// point lies near a cell border).
struct Welder {
    eq: f64,
    cells: HashMap<(i64, i64, i64), Vec<u32>, FastHash>,
    vertices: Vec<[f64; 3]>,
}

impl Welder {
    fn new(eq: f64, tris: usize) -> Self {
        Self {
            eq,
            cells: HashMap::with_capacity_and_hasher(tris, FastHash),
            vertices: Vec::with_capacity(tris / 2 + 3),
        }
    }
    fn cell(&self, p: [f64; 3]) -> (i64, i64, i64) {
        let c = self.eq * 2.0;
        (
            (p[0] / c).floor() as i64,
            (p[1] / c).floor() as i64,
            (p[2] / c).floor() as i64,
        )
    }
    fn close(&self, i: u32, p: [f64; 3]) -> bool {
        let q = self.vertices[i as usize];
        let d = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
        d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= self.eq * self.eq
    }
    fn add(&mut self, p: [f64; 3]) -> u32 {
        let c = self.cell(p);
        if let Some(list) = self.cells.get(&c)
            && let Some(&i) = list.iter().find(|&&i| self.close(i, p))
        {
            return i;
        }
        // Near a border: look in the neighbouring cells too.
        let size = self.eq * 2.0;
        let near = |v: f64| {
            let f = v / size - (v / size).floor();
            f * size < self.eq || (1.0 - f) * size < self.eq
        };
        if near(p[0]) || near(p[1]) || near(p[2]) {
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        if (dx, dy, dz) == (0, 0, 0) {
                            continue;
                        }
                        let k = (c.0 + dx, c.1 + dy, c.2 + dz);
                        if let Some(list) = self.cells.get(&k)
                            && let Some(&i) = list.iter().find(|&&i| self.close(i, p))
                        {
                            return i;
                        }
                    }
                }
            }
        }
        let i = self.vertices.len() as u32;
        self.vertices.push(p);
        self.cells.entry(c).or_default().push(i);
        i
    }
}

/// A small multiplicative hasher for integer cell keys (the std `SipHash` is several times slower
/// and its flooding resistance is not needed for geometry).
#[derive(Default, Clone, Copy)]
struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_i64(&mut self, v: i64) {
        self.0 = (self.0.rotate_left(5) ^ v as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

#[cfg(test)]
mod tests;
