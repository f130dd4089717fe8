//! Machine-neutral toolpaths: rapid, linear feed and arc moves in mm, each with its feed, and
//! their statistics.

pub mod cycle;
pub mod emit;

use serde::{Deserialize, Serialize};

use crate::geometry::V2;

pub use cycle::{Canned, CycleKind, CycleSpan, Dwell, PECK_BACKOFF_MM};

/// A point in machine space, mm. Z = 0 is the top of the stock.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct P3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl P3 {
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Self { x, y, z }
    }
    pub fn xy(self) -> V2 {
        V2::new(self.x, self.y)
    }
    pub fn dist(self, o: Self) -> f64 {
        let (dx, dy, dz) = (self.x - o.x, self.y - o.y, self.z - o.z);
        (dx * dx + dy * dy + dz * dz).sqrt()
    }
    /// The point a fraction `t` of the way to `o`.
    #[must_use]
    pub fn lerp(self, o: Self, t: f64) -> Self {
        Self::new(
            self.x + t * (o.x - self.x),
            self.y + t * (o.y - self.y),
            self.z + t * (o.z - self.z),
        )
    }
}

/// How the tool moves to `Move::to`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Motion {
    /// Rapid traverse (G0), never into stock.
    Rapid,
    /// Straight feed (G1).
    Line,
    /// Arc in the XY plane around `centre` (G2 clockwise / G3 counter-clockwise); Z may change
    /// linearly along it (a helix). Start and end lie at the same distance from the centre.
    Arc { centre: V2, ccw: bool },
}

/// What a move is for: drawn in its own colour, fed at its own rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MoveClass {
    /// Rapid traverse.
    Rapid,
    /// Cutting at the full feed.
    Cut,
    /// Helix, ramp or plunge entry.
    Entry,
    /// A move between cuts that stays down, in cleared area.
    Link,
    /// Lead-in / lead-out arcs.
    Lead,
}

/// One move. At most 64 bytes (DESIGN budget).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Move {
    pub motion: Motion,
    pub class: MoveClass,
    pub to: P3,
    /// Feed rate, mm/min; ignored for rapids.
    pub feed_mm_per_min: f64,
}

/// A toolpath: moves from a start position (above the work at clearance height).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Toolpath {
    /// Where the tool is before the first move.
    pub start: P3,
    pub moves: Vec<Move>,
    /// Pauses with the spindle running (drilling dwells), in move order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dwells: Vec<Dwell>,
    /// Runs of moves that are canned drilling cycles, in move order: the post may write the
    /// cycle instead of the moves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycles: Vec<CycleSpan>,
}

/// Summary figures of a toolpath.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Stats {
    pub moves: usize,
    pub arcs: usize,
    pub feed_length_mm: f64,
    pub rapid_length_mm: f64,
    /// Length / feed for feed moves plus length / rapid rate for rapids, seconds.
    pub estimated_seconds: f64,
    pub bounds_min: P3,
    pub bounds_max: P3,
}

impl Stats {
    /// The figures of two toolpaths run one after the other.
    #[must_use]
    pub fn merge(self, o: Stats) -> Stats {
        Stats {
            moves: self.moves + o.moves,
            arcs: self.arcs + o.arcs,
            feed_length_mm: self.feed_length_mm + o.feed_length_mm,
            rapid_length_mm: self.rapid_length_mm + o.rapid_length_mm,
            estimated_seconds: self.estimated_seconds + o.estimated_seconds,
            bounds_min: P3::new(
                self.bounds_min.x.min(o.bounds_min.x),
                self.bounds_min.y.min(o.bounds_min.y),
                self.bounds_min.z.min(o.bounds_min.z),
            ),
            bounds_max: P3::new(
                self.bounds_max.x.max(o.bounds_max.x),
                self.bounds_max.y.max(o.bounds_max.y),
                self.bounds_max.z.max(o.bounds_max.z),
            ),
        }
    }
}

/// Signed sweep (rad) of an arc from `a` to `b` around `c`, counter-clockwise positive. Arcs of
/// a toolpath are less than a full turn; equal start and end give a full turn here.
pub fn arc_sweep(a: V2, b: V2, c: V2, ccw: bool) -> f64 {
    let (sa, sb) = (a - c, b - c);
    let mut ang = sa.cross(sb).atan2(sa.dot(sb));
    if ccw {
        if ang <= 0.0 {
            ang += std::f64::consts::TAU;
        }
    } else if ang >= 0.0 {
        ang -= std::f64::consts::TAU;
    }
    ang
}

impl Move {
    /// Length of the move from `from`, helices included.
    pub fn length_from(&self, from: P3) -> f64 {
        match self.motion {
            Motion::Rapid | Motion::Line => from.dist(self.to),
            Motion::Arc { centre, ccw } => {
                let r = from.xy().dist(centre);
                let sweep = arc_sweep(from.xy(), self.to.xy(), centre, ccw);
                let (a, dz) = (r * sweep, self.to.z - from.z);
                (a * a + dz * dz).sqrt()
            }
        }
    }
}

impl Toolpath {
    pub fn new(start: P3) -> Self {
        Self {
            start,
            moves: Vec::new(),
            dwells: Vec::new(),
            cycles: Vec::new(),
        }
    }
    /// Where the tool is after the last move.
    pub fn end(&self) -> P3 {
        self.moves.last().map_or(self.start, |m| m.to)
    }
    pub fn rapid(&mut self, to: P3) {
        self.push(Move {
            motion: Motion::Rapid,
            class: MoveClass::Rapid,
            to,
            feed_mm_per_min: 0.0,
        });
    }
    pub fn line(&mut self, to: P3, class: MoveClass, feed: f64) {
        self.push(Move {
            motion: Motion::Line,
            class,
            to,
            feed_mm_per_min: feed,
        });
    }
    pub fn arc(&mut self, to: P3, centre: V2, ccw: bool, class: MoveClass, feed: f64) {
        self.push(Move {
            motion: Motion::Arc { centre, ccw },
            class,
            to,
            feed_mm_per_min: feed,
        });
    }
    /// Appends a move unless it goes nowhere. Arcs are always less than a full turn, so an arc
    /// that ends where it starts goes nowhere too.
    pub fn push(&mut self, m: Move) {
        let from = self.end();
        if from == m.to {
            return;
        }
        self.moves.push(m);
    }
    /// Appends another toolpath's moves (its dwells with them; its cycles only when every
    /// move was taken as it is).
    pub fn extend(&mut self, other: &Toolpath) {
        let base = self.moves.len();
        let mut dw = other.dwells.iter().peekable();
        for (i, m) in other.moves.iter().enumerate() {
            while let Some(d) = dw.next_if(|d| d.after <= i) {
                self.dwell(d.seconds);
            }
            self.push(*m);
        }
        for d in dw {
            self.dwell(d.seconds);
        }
        if self.moves.len() == base + other.moves.len() {
            self.cycles.extend(other.cycles.iter().map(|c| CycleSpan {
                first: c.first + base,
                end: c.end + base,
                canned: c.canned,
            }));
        }
    }

    /// Joins straight feed moves shorter than `min_mm` to the straight feed move before or
    /// after them (same class and feed), so no such move is left between two lines. Offsets of
    /// drawings sampled every few tens of nanometres gave 0.1 µm G1 steps by the thousand:
    /// nothing a controller can cut, and each one a block it must plan. The path moves by less
    /// than `min_mm`: every corner dropped into a joined move lies within `min_mm` of it (a
    /// join that would take one farther is not made). Returns how many moves were joined.
    pub fn join_short_lines(&mut self, min_mm: f64) -> usize {
        // Drilling cycles and dwells index the moves: their moves are vertical and stay.
        if min_mm <= 0.0
            || self.moves.len() < 2
            || !self.cycles.is_empty()
            || !self.dwells.is_empty()
        {
            return 0;
        }
        let mut out: Vec<Move> = Vec::with_capacity(self.moves.len());
        // Start of the last move kept in `out`.
        let mut last_from = self.start;
        let mut from = self.start;
        let mut joined = 0;
        // The corners dropped into the last kept move.
        let mut dropped: Vec<P3> = Vec::new();
        for m in self.moves.drain(..) {
            let joinable = |a: &Move| {
                matches!(a.motion, Motion::Line)
                    && matches!(m.motion, Motion::Line)
                    && a.class == m.class
                    && a.feed_mm_per_min == m.feed_mm_per_min
            };
            if let Some(prev) = out.last_mut()
                && joinable(prev)
                && (last_from.dist(prev.to) < min_mm || from.dist(m.to) < min_mm)
                && point_segment_distance(prev.to, last_from, m.to) < min_mm
                && dropped.len() < 64
                && dropped
                    .iter()
                    .all(|&q| point_segment_distance(q, last_from, m.to) < min_mm)
            {
                dropped.push(prev.to);
                prev.to = m.to;
                joined += 1;
            } else {
                last_from = from;
                dropped.clear();
                out.push(m);
            }
            from = m.to;
        }
        self.moves = out;
        joined
    }

    /// Statistics; `rapid_mm_per_min` is the machine's rapid rate.
    pub fn stats(&self, rapid_mm_per_min: f64) -> Stats {
        // The bounds are where the moves go: the start is only where the path is assumed to
        // begin (above the origin), and the program never moves there (a header saying
        // Y 0.0000 for a part at Y 116 is wrong).
        let first = self.moves.first().map_or(self.start, |m| m.to);
        let mut s = Stats {
            moves: self.moves.len(),
            bounds_min: first,
            bounds_max: first,
            ..Stats::default()
        };
        let mut from = self.start;
        let grow = |s: &mut Stats, p: P3| {
            s.bounds_min.x = s.bounds_min.x.min(p.x);
            s.bounds_min.y = s.bounds_min.y.min(p.y);
            s.bounds_min.z = s.bounds_min.z.min(p.z);
            s.bounds_max.x = s.bounds_max.x.max(p.x);
            s.bounds_max.y = s.bounds_max.y.max(p.y);
            s.bounds_max.z = s.bounds_max.z.max(p.z);
        };
        for m in &self.moves {
            let len = m.length_from(from);
            match m.motion {
                Motion::Rapid => {
                    s.rapid_length_mm += len;
                    s.estimated_seconds += len / rapid_mm_per_min * 60.0;
                }
                Motion::Line | Motion::Arc { .. } => {
                    s.feed_length_mm += len;
                    if m.feed_mm_per_min > 0.0 {
                        s.estimated_seconds += len / m.feed_mm_per_min * 60.0;
                    }
                }
            }
            if let Motion::Arc { centre, ccw } = m.motion {
                s.arcs += 1;
                // Arc extremes in X and Y.
                for p in crate::geometry::bulge::arc_extremes(from.xy(), m.to.xy(), centre, ccw) {
                    grow(&mut s, P3::new(p.x, p.y, from.z));
                }
            }
            grow(&mut s, m.to);
            from = m.to;
        }
        s.estimated_seconds += self.dwell_seconds();
        s
    }
}

/// Distance from `p` to the segment from `a` to `b`, in 3D.
fn point_segment_distance(p: P3, a: P3, b: P3) -> f64 {
    let (ab, ap) = (
        [b.x - a.x, b.y - a.y, b.z - a.z],
        [p.x - a.x, p.y - a.y, p.z - a.z],
    );
    let l2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    let t = if l2 > 0.0 {
        ((ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    p.dist(P3::new(a.x + ab[0] * t, a.y + ab[1] * t, a.z + ab[2] * t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_fits_the_memory_budget() {
        assert!(
            std::mem::size_of::<Move>() <= 64,
            "{}",
            std::mem::size_of::<Move>()
        );
    }

    #[test]
    fn stats_of_a_square_and_a_helix() {
        let mut t = Toolpath::new(P3::new(0.0, 0.0, 5.0));
        t.rapid(P3::new(1.0, 0.0, 5.0));
        t.rapid(P3::new(1.0, 0.0, 0.0));
        // One full helical turn of radius 1 down by 0.1 at 60 mm/min.
        t.arc(
            P3::new(1.0, 0.0, -0.1),
            V2::new(0.0, 0.0),
            true,
            MoveClass::Entry,
            60.0,
        );
        t.line(P3::new(2.0, 0.0, -0.1), MoveClass::Cut, 60.0);
        let s = t.stats(600.0);
        assert_eq!(s.moves, 4);
        assert_eq!(s.arcs, 1);
        let helix = (std::f64::consts::TAU).hypot(0.1);
        assert!((s.feed_length_mm - (helix + 1.0)).abs() < 1e-12);
        assert!((s.rapid_length_mm - 6.0).abs() < 1e-12);
        assert!((s.bounds_min.x + 1.0).abs() < 1e-12 && (s.bounds_max.y - 1.0).abs() < 1e-12);
        assert!((s.estimated_seconds - ((helix + 1.0) + 6.0 / 10.0)).abs() < 1e-9);
    }

    /// A part far from the origin: the bounds are where the moves go, not the start the path
    /// is assumed to begin at (above the origin).
    #[test]
    fn bounds_leave_out_the_assumed_start() {
        let mut t = Toolpath::new(P3::new(0.0, 0.0, 5.0));
        t.rapid(P3::new(20.0, 116.0, 5.0));
        t.rapid(P3::new(20.0, 116.0, 0.5));
        t.line(P3::new(30.0, 118.0, -0.1), MoveClass::Cut, 60.0);
        let s = t.stats(600.0);
        assert_eq!(
            (s.bounds_min.x, s.bounds_min.y, s.bounds_min.z),
            (20.0, 116.0, -0.1)
        );
        assert_eq!(
            (s.bounds_max.x, s.bounds_max.y, s.bounds_max.z),
            (30.0, 118.0, 5.0)
        );
    }

    /// Straight moves shorter than the tolerance are joined to their neighbours without
    /// moving the path by the tolerance; arcs, rapids and long moves stay.
    #[test]
    fn short_lines_are_joined_within_the_tolerance() {
        let tol = 1e-4;
        let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
        tp.rapid(P3::new(0.0, 0.0, 0.0));
        tp.line(P3::new(1.0, 0.0, 0.0), MoveClass::Cut, 100.0);
        // 200 steps of 0.05 µm along X, with 20 nm of wobble in Y.
        for i in 1..=200 {
            let y = if i % 2 == 0 { 2e-5 } else { 0.0 };
            tp.line(
                P3::new(1.0 + f64::from(i) * 5e-5, y, 0.0),
                MoveClass::Cut,
                100.0,
            );
        }
        tp.line(P3::new(1.01, 1.0, 0.0), MoveClass::Cut, 100.0);
        tp.arc(
            P3::new(1.01, 1.00002, 0.0),
            V2::new(1.01, 1.00001),
            true,
            MoveClass::Cut,
            100.0,
        );
        tp.line(P3::new(2.0, 1.0, 0.0), MoveClass::Cut, 100.0);
        let before = tp.clone();
        let joined = tp.join_short_lines(tol);
        assert!(joined >= 150, "{joined} joined");
        // No line shorter than the tolerance between two lines is left.
        let mut from = tp.start;
        let mut prev: Option<Move> = None;
        for m in &tp.moves {
            if let Some(p) = prev
                && matches!(m.motion, Motion::Line)
                && matches!(p.motion, Motion::Line)
            {
                assert!(from.dist(m.to) >= tol || p.class != m.class, "{m:?}");
            }
            from = m.to;
            prev = Some(*m);
        }
        // The arc and the end stay; every original corner lies within the tolerance of the
        // joined path.
        assert!(
            tp.moves
                .iter()
                .any(|m| matches!(m.motion, Motion::Arc { .. }))
        );
        assert_eq!(tp.end(), before.end());
        let pts: Vec<P3> = std::iter::once(tp.start)
            .chain(tp.moves.iter().map(|m| m.to))
            .collect();
        for q in before.moves.iter().map(|m| m.to) {
            let d = pts
                .windows(2)
                .map(|w| point_segment_distance(q, w[0], w[1]))
                .fold(f64::INFINITY, f64::min);
            assert!(d < tol, "{q:?} is {d} from the joined path");
        }
    }
}
