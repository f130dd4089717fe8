//! Indexed triangle meshes in mm and their topology report.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// An indexed triangle mesh, mm. Triangles are counter-clockwise seen from outside when the
/// file's winding is consistent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    pub vertices: Vec<[f64; 3]>,
    pub triangles: Vec<[u32; 3]>,
}

/// Union-find root with path halving.
fn find(p: &mut [u32], mut x: u32) -> u32 {
    while p[x as usize] != x {
        p[x as usize] = p[p[x as usize] as usize];
        x = p[x as usize];
    }
    x
}

/// What the importer found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MeshReport {
    /// Triangles in the file.
    pub triangles_in_file: usize,
    /// Triangles kept.
    pub triangles: usize,
    /// Triangles collapsed by welding (two corners the same point) and removed.
    pub degenerate_removed: usize,
    /// Zero-area triangles with three distinct corners, kept because they close the surface.
    pub zero_area_kept: usize,
    pub vertices: usize,
    /// Edges used by one triangle only (holes in the surface).
    pub open_edges: usize,
    /// Edges shared by more than two triangles.
    pub nonmanifold_edges: usize,
    /// Edges whose two triangles run along them in the same direction (flipped normals).
    pub inconsistent_edges: usize,
    /// Separate connected pieces.
    pub bodies: usize,
    /// Closed and manifold: no open and no non-manifold edge.
    pub watertight: bool,
}

/// How a part is turned before it is cut: quarter turns about the machine's X, then Y, then
/// Z (each counter-clockwise looking from the positive axis toward the origin). Exact:
/// coordinates only change places and signs, so nothing is rounded. A mold whose cavity faces
/// −Y is cut from the top after `x270` (−90° about X).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orientation {
    #[serde(default)]
    pub x_quarter_turns: u8,
    #[serde(default)]
    pub y_quarter_turns: u8,
    #[serde(default)]
    pub z_quarter_turns: u8,
}

impl Orientation {
    pub fn is_identity(&self) -> bool {
        self.x_quarter_turns.is_multiple_of(4)
            && self.y_quarter_turns.is_multiple_of(4)
            && self.z_quarter_turns.is_multiple_of(4)
    }

    /// One more quarter turn about axis 0 (X), 1 (Y) or 2 (Z).
    #[must_use]
    pub fn turned(mut self, axis: usize) -> Self {
        let t = match axis {
            0 => &mut self.x_quarter_turns,
            1 => &mut self.y_quarter_turns,
            _ => &mut self.z_quarter_turns,
        };
        // A job file may hold any u8: reduce first, so 255 cannot overflow.
        *t = (*t % 4 + 1) % 4;
        self
    }

    /// Upside down: half a turn about X.
    #[must_use]
    pub fn flipped(self) -> Self {
        self.turned(0).turned(0)
    }

    /// A point turned.
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let [mut x, mut y, mut z] = p;
        for _ in 0..self.x_quarter_turns % 4 {
            (y, z) = (-z, y);
        }
        for _ in 0..self.y_quarter_turns % 4 {
            (x, z) = (z, -x);
        }
        for _ in 0..self.z_quarter_turns % 4 {
            (x, y) = (-y, x);
        }
        [x, y, z]
    }

    /// `x90 z180`, or `as in the file`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ('x', self.x_quarter_turns),
            ('y', self.y_quarter_turns),
            ('z', self.z_quarter_turns),
        ]
        .iter()
        .filter(|(_, t)| !t.is_multiple_of(4))
        .map(|(a, t)| format!("{a}{}", u32::from(t % 4) * 90))
        .collect();
        if parts.is_empty() {
            "as in the file".into()
        } else {
            parts.join(" ")
        }
    }
}

/// `x90 z180`, `x-90`, `flip` (half a turn about X), or `none`; turns are multiples of 90°.
impl std::str::FromStr for Orientation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut o = Orientation::default();
        for tok in s.split([' ', ',']).filter(|t| !t.is_empty()) {
            let t = tok.to_ascii_lowercase();
            if t == "none" {
                continue;
            }
            if t == "flip" {
                o = o.flipped();
                continue;
            }
            let axis = match t.chars().next() {
                Some('x') => 0,
                Some('y') => 1,
                Some('z') => 2,
                _ => {
                    return Err(format!(
                        "'{tok}': use x, y or z with degrees (x90, z-90) or flip"
                    ));
                }
            };
            let deg: i64 = t[1..]
                .trim_end_matches("deg")
                .parse()
                .map_err(|_| format!("'{tok}': the angle must be a whole number of degrees"))?;
            if deg % 90 != 0 {
                return Err(format!(
                    "'{tok}': parts turn in steps of 90°; {deg}° is not one"
                ));
            }
            for _ in 0..(deg / 90).rem_euclid(4) {
                o = o.turned(axis);
            }
        }
        Ok(o)
    }
}

impl Mesh {
    /// Turn every vertex (a rotation keeps the triangles' winding).
    pub fn orient(&mut self, o: Orientation) {
        if o.is_identity() {
            return;
        }
        for v in &mut self.vertices {
            *v = o.apply(*v);
        }
    }

    /// Minimum and maximum corner; `None` when empty.
    pub fn bounds(&self) -> Option<([f64; 3], [f64; 3])> {
        let mut it = self.vertices.iter();
        let first = *it.next()?;
        let (mut lo, mut hi) = (first, first);
        for v in it {
            for k in 0..3 {
                lo[k] = lo[k].min(v[k]);
                hi[k] = hi[k].max(v[k]);
            }
        }
        Some((lo, hi))
    }

    pub fn translate(&mut self, d: [f64; 3]) {
        for v in &mut self.vertices {
            for k in 0..3 {
                v[k] += d[k];
            }
        }
    }

    /// Edge, body and orientation statistics.
    pub fn topology(&self) -> (usize, usize, usize, usize) {
        // Per undirected edge: uses and the sum of directions (+1 a→b with a<b, −1 otherwise).
        let mut edges: HashMap<u64, (u32, i32)> = HashMap::with_capacity(self.triangles.len() * 2);
        for t in &self.triangles {
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                let (lo, hi, dir) = if a < b { (a, b, 1) } else { (b, a, -1) };
                let e = edges
                    .entry(u64::from(lo) << 32 | u64::from(hi))
                    .or_insert((0, 0));
                e.0 += 1;
                e.1 += dir;
            }
        }
        let (mut open, mut nonmanifold, mut inconsistent) = (0, 0, 0);
        for &(n, s) in edges.values() {
            match n {
                1 => open += 1,
                2 => {
                    if s != 0 {
                        inconsistent += 1;
                    }
                }
                _ => nonmanifold += 1,
            }
        }
        // Bodies: union-find over vertices of each triangle.
        let mut parent: Vec<u32> = (0..self.vertices.len() as u32).collect();
        for t in &self.triangles {
            let a = find(&mut parent, t[0]);
            for &v in &t[1..] {
                let b = find(&mut parent, v);
                if a != b {
                    parent[b as usize] = a;
                }
            }
        }
        let mut used = vec![false; self.vertices.len()];
        for t in &self.triangles {
            for &v in t {
                used[v as usize] = true;
            }
        }
        let mut roots = std::collections::HashSet::new();
        for (v, &u) in used.iter().enumerate() {
            if u {
                roots.insert(find(&mut parent, v as u32));
            }
        }
        (open, nonmanifold, inconsistent, roots.len())
    }
}

impl Mesh {
    /// The mesh as a binary STL (header text, no attribute bytes), for tests, benchmarks and
    /// export.
    pub fn to_binary_stl(&self, header: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(84 + 50 * self.triangles.len());
        let mut h = [b' '; 80];
        for (i, b) in header.bytes().take(80).enumerate() {
            h[i] = b;
        }
        out.extend_from_slice(&h);
        out.extend_from_slice(&(self.triangles.len() as u32).to_le_bytes());
        for t in &self.triangles {
            let p = |i: usize| self.vertices[t[i] as usize];
            let (a, b, c) = (p(0), p(1), p(2));
            let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
            let n = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2])
                .sqrt()
                .max(f64::MIN_POSITIVE);
            for x in [n[0] / l, n[1] / l, n[2] / l] {
                out.extend_from_slice(&(x as f32).to_le_bytes());
            }
            for q in [a, b, c] {
                for x in q {
                    out.extend_from_slice(&(x as f32).to_le_bytes());
                }
            }
            out.extend_from_slice(&[0, 0]);
        }
        out
    }

    /// The mesh as an ASCII STL with one solid.
    pub fn to_ascii_stl(&self, name: &str) -> String {
        use std::fmt::Write as _;
        let mut s = format!("solid {name}\n");
        for t in &self.triangles {
            s.push_str("facet normal 0 0 0\nouter loop\n");
            for &i in t {
                let v = self.vertices[i as usize];
                let _ = writeln!(s, "vertex {} {} {}", v[0], v[1], v[2]);
            }
            s.push_str("endloop\nendfacet\n");
        }
        let _ = writeln!(s, "endsolid {name}");
        s
    }
}

#[cfg(test)]
mod orientation_tests {
    use super::Orientation;

    #[test]
    fn quarter_turns_are_exact_and_right_handed() {
        let p = [1.25, 2.5, 3.75];
        let x90: Orientation = "x90".parse().unwrap();
        assert_eq!(x90.apply(p), [1.25, -3.75, 2.5]);
        let y90: Orientation = "y90".parse().unwrap();
        assert_eq!(y90.apply(p), [3.75, 2.5, -1.25]);
        let z90: Orientation = "z90".parse().unwrap();
        assert_eq!(z90.apply(p), [-2.5, 1.25, 3.75]);
        // A face toward −Y faces up after −90° about X.
        let up: Orientation = "x-90".parse().unwrap();
        assert_eq!(up.apply([0.0, -1.0, 0.0]), [0.0, 0.0, 1.0]);
        assert_eq!(up.describe(), "x270");
        // Four turns are none; flip is half a turn about X.
        let four: Orientation = "x90 x90 x180".parse().unwrap();
        assert!(four.is_identity());
        let flip: Orientation = "flip".parse().unwrap();
        assert_eq!(flip.apply(p), [1.25, -2.5, -3.75]);
        assert!("x45".parse::<Orientation>().unwrap_err().contains("90"));
        // Any count a job file holds is turns modulo 4.
        let odd = Orientation {
            x_quarter_turns: 255,
            ..Orientation::default()
        };
        assert_eq!(odd.apply(p), up.apply(p));
        assert_eq!(odd.turned(0).x_quarter_turns, 0);
        assert!("w90".parse::<Orientation>().is_err());
    }
}
