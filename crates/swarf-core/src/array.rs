//! Copies of the part on one stock: rectangular (N × M, pitch or gap, alternate-row offset)
//! and polar (count around a centre) arrays, copies skipped one by one, the order they are cut
//! in, and how the program writes them (expanded coordinates, one work offset per copy, or
//! LinuxCNC subroutines called per copy).
//!
//! The operations are generated once, for the part as drawn (copy 1's place); each copy's
//! toolpath is that one moved (and, for polar arrays, turned) exactly: arcs stay arcs. Copies
//! whose cuts would reach into another copy are refused with the distance.

use serde::{Deserialize, Serialize};

use crate::geometry::{Bbox2, V2};
use crate::post::fmt_mm;
use crate::toolpath::{Motion, P3, Toolpath};

/// The order copies and operations are cut in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// Each operation on every copy before the next operation: fewest tool changes; copies
    /// in serpentine order, each operation starting where the last one ended.
    #[default]
    ByOperation,
    /// Each copy finished before the next.
    ByCopy,
}

impl std::str::FromStr for Order {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "by-operation" | "by-op" => Ok(Order::ByOperation),
            "by-copy" => Ok(Order::ByCopy),
            o => Err(format!("order '{o}': use by-operation or by-copy")),
        }
    }
}

/// How the program writes the copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CopiesAs {
    /// Every copy's coordinates written out (any controller).
    #[default]
    Expanded,
    /// Copy 1 in the program's work offset, copy 2 in the next one (`G55`, …), each written
    /// with copy 1's coordinates; the offsets to set are listed in the header.
    Offsets,
    /// LinuxCNC: each operation written once as an O-word subroutine with X and Y relative to
    /// its parameters, called once per copy with the copy's offset (a 100-copy program is not
    /// 100 times longer; nothing is left set after it).
    Subroutines,
}

impl std::str::FromStr for CopiesAs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "expanded" => Ok(CopiesAs::Expanded),
            "offsets" => Ok(CopiesAs::Offsets),
            "subroutines" | "subs" => Ok(CopiesAs::Subroutines),
            o => Err(format!(
                "copies-as '{o}': use expanded, offsets or subroutines (LinuxCNC)"
            )),
        }
    }
}

/// An array of copies of the part. Rectangular by default (`columns` × `rows`); polar when
/// `polar_count` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArraySpec {
    /// Copies along X (rectangular).
    #[serde(default = "one")]
    pub columns: u32,
    /// Copies along Y (rectangular).
    #[serde(default = "one")]
    pub rows: u32,
    /// Distance from one copy to the next, X and Y, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_mm: Option<[f64; 2]>,
    /// Space between the parts' outlines instead of a pitch, X and Y, mm (pitch = the part's
    /// size + gap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_mm: Option<[f64; 2]>,
    /// Every other row moved along X by this much (staggered rows), mm.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub row_offset_mm: f64,
    /// Polar array: this many copies around a centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polar_count: Option<u32>,
    /// Polar array: the part's origin lies this far from the centre, mm.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub polar_radius_mm: f64,
    /// Polar array: the direction from the centre to the part's origin, degrees.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub polar_start_deg: f64,
    /// Polar array: the angle from one copy to the next, degrees (default 360 / count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polar_step_deg: Option<f64>,
    /// Copies not cut (numbered from 1), e.g. over a flaw in the stock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<u32>,
    #[serde(default)]
    pub order: Order,
    #[serde(default)]
    pub copies_as: CopiesAs,
}

fn one() -> u32 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if takes a reference
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Default for ArraySpec {
    fn default() -> Self {
        Self {
            columns: 1,
            rows: 1,
            pitch_mm: None,
            gap_mm: None,
            row_offset_mm: 0.0,
            polar_count: None,
            polar_radius_mm: 0.0,
            polar_start_deg: 0.0,
            polar_step_deg: None,
            skip: Vec::new(),
            order: Order::ByOperation,
            copies_as: CopiesAs::Expanded,
        }
    }
}

/// Why an array cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArrayError {
    #[error("array: {0}")]
    Invalid(String),
    #[error(
        "array: copy {a}'s cuts reach {depth_mm:.4} mm into copy {b}: {fix}, or skip one of them"
    )]
    Overlap {
        a: u32,
        b: u32,
        depth_mm: f64,
        /// How far the cuts reach beyond the part, along X and along Y: the least gap between
        /// parts in each direction.
        need_gap_mm: [f64; 2],
        fix: String,
    },
}

/// Where one copy goes: turned by `angle_rad` about `centre`, then moved by `offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The copy's number, from 1 (row by row from the lower left; polar: counter-clockwise).
    pub number: u32,
    /// Column and row (rectangular; polar: index and 0).
    pub cell: (u32, u32),
    pub offset: V2,
    pub centre: V2,
    pub angle_rad: f64,
    pub enabled: bool,
}

impl Placement {
    /// The identity placement (the part as drawn).
    pub const ORIGINAL: Placement = Placement {
        number: 1,
        cell: (0, 0),
        offset: V2::new(0.0, 0.0),
        centre: V2::new(0.0, 0.0),
        angle_rad: 0.0,
        enabled: true,
    };

    pub fn apply(&self, p: V2) -> V2 {
        let v = if self.angle_rad == 0.0 {
            p
        } else {
            let (s, c) = self.angle_rad.sin_cos();
            let d = p - self.centre;
            self.centre + V2::new(c * d.x - s * d.y, s * d.x + c * d.y)
        };
        v + self.offset
    }

    /// The four corners of `b` put in this copy's place (counter-clockwise from the lower
    /// left).
    pub fn corners(&self, b: Bbox2) -> [V2; 4] {
        [
            b.min,
            V2::new(b.max.x, b.min.y),
            b.max,
            V2::new(b.min.x, b.max.y),
        ]
        .map(|c| self.apply(c))
    }

    /// Whether it only moves (no turn).
    pub fn is_translation(&self) -> bool {
        self.angle_rad == 0.0
    }

    /// The point of copy 1 that this copy puts at `p`.
    pub fn unapply(&self, p: V2) -> V2 {
        let v = p - self.offset;
        if self.angle_rad == 0.0 {
            return v;
        }
        let (s, c) = (-self.angle_rad).sin_cos();
        let d = v - self.centre;
        self.centre + V2::new(c * d.x - s * d.y, s * d.x + c * d.y)
    }

    /// A toolpath of this copy taken back to copy 1's place.
    pub fn toolpath_back(&self, tp: &Toolpath) -> Toolpath {
        map_toolpath(tp, |p| self.unapply(p))
    }

    /// An outline piece moved to this copy's place.
    pub fn outline_piece(&self, p: &crate::setup::OutlinePiece) -> crate::setup::OutlinePiece {
        use crate::setup::OutlinePiece;
        match *p {
            OutlinePiece::Point(q) => OutlinePiece::Point(self.apply(q)),
            OutlinePiece::Arc {
                centre,
                radius,
                start,
                sweep,
            } => OutlinePiece::Arc {
                centre: self.apply(centre),
                radius,
                start: start + self.angle_rad,
                sweep,
            },
        }
    }

    /// A loop or chain moved to this copy's place (a turn keeps bulges).
    pub fn pline(&self, pl: &crate::geometry::Pline) -> crate::geometry::Pline {
        let mut out = pl.clone();
        for v in &mut out.vertex_data {
            let p = self.apply(V2::new(v.x, v.y));
            v.x = p.x;
            v.y = p.y;
        }
        out
    }

    /// `tp` moved to this copy's place: every point and arc centre mapped, nothing else
    /// changed (a turn keeps arcs' directions).
    pub fn toolpath(&self, tp: &Toolpath) -> Toolpath {
        map_toolpath(tp, |p| self.apply(p))
    }
}

/// `tp` with every XY point and arc centre through `f` (a rigid motion: arcs stay arcs).
fn map_toolpath(tp: &Toolpath, f: impl Fn(V2) -> V2) -> Toolpath {
    let g = |p: P3| {
        let q = f(p.xy());
        P3::new(q.x, q.y, p.z)
    };
    let mut out = tp.clone();
    out.start = g(tp.start);
    for m in &mut out.moves {
        m.to = g(m.to);
        if let Motion::Arc { centre, .. } = &mut m.motion {
            *centre = f(*centre);
        }
    }
    out
}

impl ArraySpec {
    fn check(&self) -> Result<(), ArrayError> {
        let bad = |m: String| Err(ArrayError::Invalid(m));
        let finite2 = |v: Option<[f64; 2]>| v.is_none_or(|[x, y]| x.is_finite() && y.is_finite());
        if !finite2(self.pitch_mm) || !finite2(self.gap_mm) || !self.row_offset_mm.is_finite() {
            return bad("pitch, gap and row offset must be numbers of mm".into());
        }
        if self.pitch_mm.is_some() && self.gap_mm.is_some() {
            return bad("give a pitch or a gap, not both".into());
        }
        if let Some(n) = self.polar_count {
            if self.columns > 1 || self.rows > 1 {
                return bad(
                    "a polar array (polar_count) has no columns or rows: give one or the other"
                        .into(),
                );
            }
            if !(1..=10_000).contains(&n) {
                return bad(format!("polar_count is {n}; use 1 to 10000"));
            }
            if !(self.polar_radius_mm.is_finite() && self.polar_radius_mm >= 0.0) {
                return bad(format!(
                    "polar_radius_mm is {}; it must be 0 or more",
                    self.polar_radius_mm
                ));
            }
            if !self.polar_start_deg.is_finite()
                || self
                    .polar_step_deg
                    .is_some_and(|s| !s.is_finite() || s == 0.0 || s.abs() > 360.0)
            {
                return bad("polar angles must be numbers of degrees; the step not 0".into());
            }
        } else {
            if self.columns == 0 || self.rows == 0 {
                return bad(format!(
                    "{} x {} copies: columns and rows start at 1",
                    self.columns, self.rows
                ));
            }
            if u64::from(self.columns) * u64::from(self.rows) > 10_000 {
                return bad(format!(
                    "{} x {} copies is more than 10000",
                    self.columns, self.rows
                ));
            }
        }
        let count = self.count();
        if let Some(&k) = self.skip.iter().find(|&&k| k == 0 || k > count) {
            return bad(format!(
                "skip lists copy {k}, but the copies are numbered 1 to {count}"
            ));
        }
        if self.skip.len() as u32 >= count
            && count > 0
            && (1..=count).all(|k| self.skip.contains(&k))
        {
            return bad("every copy is skipped: nothing would be cut".into());
        }
        Ok(())
    }

    /// How many copies (skipped ones included).
    pub fn count(&self) -> u32 {
        self.polar_count.unwrap_or(self.columns * self.rows)
    }

    /// Whether the array is just the part once.
    pub fn is_single(&self) -> bool {
        self.count() == 1
    }

    /// Every copy's place, in number order. `part` is the part's outline box (for a gap).
    pub fn placements(&self, part: Bbox2) -> Result<Vec<Placement>, ArrayError> {
        self.check()?;
        let mut out = Vec::new();
        if let Some(n) = self.polar_count {
            let step = self
                .polar_step_deg
                .unwrap_or(360.0 / f64::from(n))
                .to_radians();
            let a0 = self.polar_start_deg.to_radians();
            let centre = V2::new(-a0.cos(), -a0.sin()) * self.polar_radius_mm;
            for k in 0..n {
                let number = k + 1;
                out.push(Placement {
                    number,
                    cell: (k, 0),
                    offset: V2::new(0.0, 0.0),
                    centre,
                    angle_rad: f64::from(k) * step,
                    enabled: !self.skip.contains(&number),
                });
            }
            return Ok(out);
        }
        let size = part.max - part.min;
        let [px, py] = match (self.pitch_mm, self.gap_mm) {
            (Some(p), _) => p,
            (None, Some([gx, gy])) => [size.x + gx, size.y + gy],
            (None, None) if self.columns * self.rows == 1 => [0.0, 0.0],
            (None, None) => {
                return Err(ArrayError::Invalid(
                    "give the pitch (pitch_mm, --pitch) or the gap between parts (gap_mm, --gap)"
                        .into(),
                ));
            }
        };
        if (self.columns > 1 && px == 0.0) || (self.rows > 1 && py == 0.0) {
            return Err(ArrayError::Invalid(format!(
                "a pitch of {px} x {py} mm puts copies on top of each other"
            )));
        }
        for j in 0..self.rows {
            for i in 0..self.columns {
                let number = j * self.columns + i + 1;
                let stagger = if j % 2 == 1 { self.row_offset_mm } else { 0.0 };
                out.push(Placement {
                    number,
                    cell: (i, j),
                    offset: V2::new(f64::from(i) * px + stagger, f64::from(j) * py),
                    centre: V2::new(0.0, 0.0),
                    angle_rad: 0.0,
                    enabled: !self.skip.contains(&number),
                });
            }
        }
        Ok(out)
    }

    /// The enabled copies in the order they are visited: rows in serpentine order (every
    /// other row right to left); polar copies around the circle.
    pub fn visit_order(&self, placements: &[Placement]) -> Vec<Placement> {
        let mut v: Vec<Placement> = placements.iter().copied().filter(|p| p.enabled).collect();
        if self.polar_count.is_none() {
            v.sort_by_key(|p| {
                let (i, j) = p.cell;
                let i = if j % 2 == 1 { self.columns - 1 - i } else { i };
                (j, i)
            });
        }
        v
    }

    /// Refuses copies whose cutting (`cuts`: the box the tool's edge sweeps while cutting,
    /// in the part's place) reaches into another copy's part (`part`).
    pub fn check_overlap(
        &self,
        placements: &[Placement],
        part: Bbox2,
        cuts: Bbox2,
    ) -> Result<(), ArrayError> {
        if !(part.min.x.is_finite() && cuts.min.x.is_finite()) {
            return Ok(());
        }
        let on: Vec<&Placement> = placements.iter().filter(|p| p.enabled).collect();
        let parts: Vec<[V2; 4]> = on.iter().map(|p| p.corners(part)).collect();
        let reach: Vec<[V2; 4]> = on.iter().map(|p| p.corners(cuts)).collect();
        // How far the cuts reach beyond the part on each side: the gap that copies need.
        let margin = [
            (part.min.x - cuts.min.x)
                .max(cuts.max.x - part.max.x)
                .max(0.0),
            (part.min.y - cuts.min.y)
                .max(cuts.max.y - part.max.y)
                .max(0.0),
        ];
        // The deepest reach of all is the one named.
        let mut worst: Option<(usize, usize, f64)> = None;
        for (ia, r) in reach.iter().enumerate() {
            for (ib, p) in parts.iter().enumerate() {
                if ia == ib {
                    continue;
                }
                let depth = penetration(r, p);
                if depth > 1e-9 && worst.is_none_or(|w| depth > w.2) {
                    worst = Some((ia, ib, depth));
                }
            }
        }
        if let Some((ia, ib, depth)) = worst {
            let fix = if self.polar_count.is_some() {
                "make the radius larger or the copies fewer".to_string()
            } else {
                format!(
                    "make the pitch larger (the gap at least X {:.4} Y {:.4} mm)",
                    margin[0], margin[1]
                )
            };
            return Err(ArrayError::Overlap {
                a: on[ia].number,
                b: on[ib].number,
                depth_mm: depth,
                need_gap_mm: margin,
                fix,
            });
        }
        Ok(())
    }

    /// Header lines that say what the array is and, for work offsets, what to set.
    pub fn notes(&self, copies: &[Placement], offsets: bool, codes: &[&str]) -> Vec<String> {
        let on = copies.iter().filter(|c| c.enabled).count();
        let skipped: Vec<String> = copies
            .iter()
            .filter(|c| !c.enabled)
            .map(|c| c.number.to_string())
            .collect();
        let layout = if let Some(n) = self.polar_count {
            format!(
                "{n} copies around X{} Y{}, every {} deg",
                fmt_mm(copies[0].centre.x),
                fmt_mm(copies[0].centre.y),
                fmt_mm(copies.get(1).map_or(0.0, |c| c.angle_rad.to_degrees()))
            )
        } else {
            {
                let px = copies.get(1).map_or(0.0, |c| c.offset.x);
                let py = copies
                    .get(self.columns as usize)
                    .map_or(0.0, |c| c.offset.y);
                format!(
                    "{} x {} copies, pitch X{} Y{} mm{}",
                    self.columns,
                    self.rows,
                    fmt_mm(px),
                    fmt_mm(py),
                    if self.row_offset_mm == 0.0 {
                        String::new()
                    } else {
                        format!(", odd rows moved X{}", fmt_mm(self.row_offset_mm))
                    }
                )
            }
        };
        let mut lines = vec![format!(
            "array: {layout}; {on} cut{}; {}; {}",
            if skipped.is_empty() {
                String::new()
            } else {
                format!(", skipped {}", skipped.join(" "))
            },
            match self.order {
                Order::ByOperation => "by operation",
                Order::ByCopy => "by copy",
            },
            match self.copies_as {
                CopiesAs::Offsets => "one work offset per copy",
                CopiesAs::Subroutines => "one subroutine per operation, called per copy",
                CopiesAs::Expanded => "coordinates expanded",
            }
        )];
        if offsets {
            let base = codes[0];
            for c in copies.iter().filter(|c| c.enabled) {
                let code = codes[c.number as usize - 1];
                lines.push(if code == base {
                    format!("copy {}: {code} (as set up)", c.number)
                } else {
                    format!(
                        "copy {}: set {code} = {base} + X{} Y{} (Z as {base})",
                        c.number,
                        fmt_mm(c.offset.x),
                        fmt_mm(c.offset.y)
                    )
                });
            }
        }
        lines
    }
}

/// How deep two convex quadrilaterals overlap (the smallest push along their edge normals that
/// separates them); 0 when they do not.
fn penetration(a: &[V2; 4], b: &[V2; 4]) -> f64 {
    let mut least = f64::INFINITY;
    for poly in [a, b] {
        for k in 0..4 {
            let e = poly[(k + 1) % 4] - poly[k];
            let len = e.length();
            if len < 1e-15 {
                continue;
            }
            let n = V2::new(-e.y / len, e.x / len);
            let span = |q: &[V2; 4]| {
                q.iter()
                    .map(|p| p.dot(n))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), d| {
                        (lo.min(d), hi.max(d))
                    })
            };
            let (a0, a1) = span(a);
            let (b0, b1) = span(b);
            let overlap = a1.min(b1) - a0.max(b0);
            if overlap <= 0.0 {
                return 0.0;
            }
            least = least.min(overlap);
        }
    }
    if least.is_finite() { least } else { 0.0 }
}

/// The sections of an array program, in the order they are cut: (operation index, copy).
pub fn sequence(spec: &ArraySpec, ops: usize, copies: &[Placement]) -> Vec<(usize, Placement)> {
    let mut out = Vec::new();
    match spec.order {
        Order::ByOperation => {
            for op in 0..ops {
                // Every other operation runs the copies backwards: it starts where the last
                // one ended.
                if op % 2 == 0 {
                    out.extend(copies.iter().map(|&c| (op, c)));
                } else {
                    out.extend(copies.iter().rev().map(|&c| (op, c)));
                }
            }
        }
        Order::ByCopy => {
            for &c in copies {
                out.extend((0..ops).map(|op| (op, c)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolpath::MoveClass;

    fn part() -> Bbox2 {
        Bbox2 {
            min: V2::new(-4.5, -4.3),
            max: V2::new(4.5, 4.5),
        }
    }

    #[test]
    fn rectangular_copies_are_numbered_by_row_and_visited_in_serpentine() {
        let spec = ArraySpec {
            columns: 3,
            rows: 2,
            pitch_mm: Some([10.0, 12.0]),
            row_offset_mm: 1.0,
            skip: vec![5],
            ..ArraySpec::default()
        };
        let p = spec.placements(part()).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p[4].offset, V2::new(11.0, 12.0));
        assert!(!p[4].enabled);
        let order: Vec<u32> = spec.visit_order(&p).iter().map(|c| c.number).collect();
        assert_eq!(order, [1, 2, 3, 6, 4]);
        let seq = sequence(&spec, 2, &spec.visit_order(&p));
        let s: Vec<(usize, u32)> = seq.iter().map(|(o, c)| (*o, c.number)).collect();
        assert_eq!(
            s,
            [
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 6),
                (0, 4),
                (1, 4),
                (1, 6),
                (1, 3),
                (1, 2),
                (1, 1)
            ]
        );
        let by_copy = ArraySpec {
            order: Order::ByCopy,
            ..spec.clone()
        };
        let s: Vec<(usize, u32)> = sequence(&by_copy, 2, &by_copy.visit_order(&p))
            .iter()
            .map(|(o, c)| (*o, c.number))
            .collect();
        assert_eq!(&s[..4], &[(0, 1), (1, 1), (0, 2), (1, 2)]);
    }

    #[test]
    fn a_gap_is_added_to_the_part_size_and_overlaps_are_refused_with_the_distance() {
        let spec = ArraySpec {
            columns: 2,
            rows: 1,
            gap_mm: Some([0.5, 0.5]),
            ..ArraySpec::default()
        };
        let p = spec.placements(part()).unwrap();
        assert!((p[1].offset.x - 9.5).abs() < 1e-12);
        // Cuts 0.6 mm outside the part on every side need a 0.6 mm gap.
        let cuts = Bbox2 {
            min: part().min - V2::new(0.6, 0.6),
            max: part().max + V2::new(0.6, 0.6),
        };
        match spec.check_overlap(&p, part(), cuts) {
            Err(ArrayError::Overlap {
                depth_mm,
                need_gap_mm,
                ..
            }) => {
                assert!((depth_mm - 0.1).abs() < 1e-9, "{depth_mm}");
                assert!((need_gap_mm[0] - 0.6).abs() < 1e-9);
            }
            other => panic!("{other:?}"),
        }
        let wide = ArraySpec {
            gap_mm: Some([0.6, 0.6]),
            ..spec.clone()
        };
        let p = wide.placements(part()).unwrap();
        assert!(wide.check_overlap(&p, part(), cuts).is_ok());
        // Skipping the neighbour lifts the refusal.
        let skipped = ArraySpec {
            skip: vec![2],
            ..spec
        };
        let p = skipped.placements(part()).unwrap();
        assert!(skipped.check_overlap(&p, part(), cuts).is_ok());
    }

    #[test]
    fn polar_copies_turn_about_the_centre_and_keep_arcs() {
        let spec = ArraySpec {
            polar_count: Some(4),
            polar_radius_mm: 20.0,
            ..ArraySpec::default()
        };
        let p = spec.placements(part()).unwrap();
        // The centre is 20 mm from the part's origin (at angle 0: to its left).
        assert!((p[1].centre - V2::new(-20.0, 0.0)).length() < 1e-12);
        let q = p[1].apply(V2::new(0.0, 0.0));
        assert!((q - V2::new(-20.0, 20.0)).length() < 1e-12, "{q:?}");
        let mut tp = Toolpath::new(P3::new(0.0, 0.0, 3.0));
        tp.rapid(P3::new(1.0, 0.0, 3.0));
        tp.arc(
            P3::new(-1.0, 0.0, 3.0),
            V2::new(0.0, 0.0),
            true,
            MoveClass::Cut,
            100.0,
        );
        let t = p[2].toolpath(&tp);
        let Motion::Arc { centre, ccw } = t.moves[1].motion else {
            panic!()
        };
        assert!(ccw);
        assert!((centre - V2::new(-40.0, 0.0)).length() < 1e-12);
        // Radius kept.
        let r0 = (t.moves[0].to.xy() - centre).length();
        let r1 = (t.moves[1].to.xy() - centre).length();
        assert!((r0 - 1.0).abs() < 1e-12 && (r1 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_arrays_are_refused_by_name() {
        let e = |s: ArraySpec| s.placements(part()).unwrap_err().to_string();
        assert!(
            e(ArraySpec {
                columns: 2,
                ..ArraySpec::default()
            })
            .contains("pitch")
        );
        assert!(
            e(ArraySpec {
                columns: 2,
                pitch_mm: Some([1.0, 1.0]),
                gap_mm: Some([1.0, 1.0]),
                ..ArraySpec::default()
            })
            .contains("not both")
        );
        assert!(
            e(ArraySpec {
                columns: 2,
                pitch_mm: Some([10.0, 1.0]),
                skip: vec![3],
                ..ArraySpec::default()
            })
            .contains("numbered 1 to 2")
        );
        assert!(
            e(ArraySpec {
                columns: 0,
                ..ArraySpec::default()
            })
            .contains("start at 1")
        );
        assert!(
            e(ArraySpec {
                columns: 2,
                pitch_mm: Some([10.0, 0.0]),
                skip: vec![1, 2],
                ..ArraySpec::default()
            })
            .contains("every copy")
        );
    }
}
