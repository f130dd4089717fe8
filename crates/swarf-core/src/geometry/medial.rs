//! The medial axis of a region (the centres of the largest circles that fit inside it), for
//! V-carving.
//!
//! The Voronoi diagram comes from `boostvoronoi`, a port of Boost.Polygon's sweep-line
//! Voronoi of points and segments with exact predicates: it is robust on the nearly
//! collinear, nearly touching segments that drawings are full of, and it returns each edge's
//! two sites, which is what a medial axis needs. It takes segments with integer ends only, so
//! lines and arcs are sampled here (arcs as chords within `sample_mm`) onto a fine grid. The
//! axis is therefore that of the sampled boundary; whoever uses it measures the distance to
//! the original lines and arcs at each point ([`BoundaryDistance`]), never along the axis.
//!
//! Of the diagram's edges, those inside the region and between two sites that are not one
//! segment and its own end are kept (the primary inner edges). An edge that ends at a
//! boundary vertex where the boundary turns (a corner) is kept: the axis runs into the
//! corner. An edge that ends at a vertex where the boundary is smooth (between two chords of
//! one arc, or between tangent segments) is dropped: it is an artefact of the sampling, and
//! the circle at its other end already reaches the boundary there.

use boostvoronoi::prelude::{Builder, Line, Point, SourceCategory};
use cavalier_contours::polyline::{PlineSource, PlineVertex};
use std::collections::HashMap;

use super::biarc::arc_from_bulge;
use super::bulge::{arc_chords, seg_tangents};
use super::seggrid::SegGrid;
use super::{Pline, Region, V2};

/// The grid the boundary is sampled onto, as a fraction of the region's size: 2^28 steps
/// across (about 1 nm on 300 mm), within `i32` with room to spare, and the same relative
/// precision at any scale (a part and the same part a hundred times smaller carve alike).
const GRID_STEPS: f64 = 268_435_456.0;
/// A boundary vertex where the direction turns by less than this (radians) is smooth: the
/// circle that touches both sides leaves at most `r·θ²/8` of it (12 nm at r = 1 mm).
const SMOOTH_TURN: f64 = 0.01;

/// The medial axis as a graph: nodes and the curves between them.
#[derive(Debug, Default, Clone)]
pub struct MedialAxis {
    pub nodes: Vec<V2>,
    /// `(from node, to node, the points from the one to the other, ends included)`.
    pub edges: Vec<(usize, usize, Vec<V2>)>,
    /// Nodes inside the region that every kept edge left: the centre of a circle (or of a
    /// round end), where the axis is a single point.
    pub dots: Vec<usize>,
    /// Pieces of the diagram dropped because they met a wall, and where the first did.
    pub crossing_count: usize,
    pub crossing: Option<V2>,
}

/// One sampled boundary segment: its ends on the grid, and the segments before and after it
/// on its loop (the region lies to the left of each: outer loops run counter-clockwise,
/// islands clockwise).
#[derive(Clone, Copy)]
struct Sample {
    a: [i32; 2],
    b: [i32; 2],
    prev: usize,
    next: usize,
}

/// Samples the loops of `region` onto the grid around `origin`; returns the segments and, per
/// grid vertex, whether the boundary is smooth there.
fn sample(
    region: &Region,
    origin: V2,
    unit: f64,
    sample_mm: f64,
) -> (Vec<Sample>, HashMap<[i32; 2], bool>) {
    let to_grid = |p: V2| -> [i32; 2] {
        let q = (p - origin) * (1.0 / unit);
        [q.x.round() as i32, q.y.round() as i32]
    };
    let mut segs = Vec::new();
    let mut smooth = HashMap::new();
    for l in std::iter::once(&region.outer).chain(region.islands.iter()) {
        let n = l.vertex_count();
        if n < 2 {
            continue;
        }
        let seg = |k: usize| (l.at(k % n), l.at((k + 1) % n));
        // The points of the loop, each with whether the boundary is smooth there.
        let mut pts: Vec<([i32; 2], bool)> = Vec::new();
        for k in 0..n {
            let (a, b) = seg(k);
            let (prev_a, prev_b) = seg(k + n - 1);
            let turn = {
                let (_, t_in) = seg_tangents(prev_a, prev_b);
                let (t_out, _) = seg_tangents(a, b);
                t_in.cross(t_out).atan2(t_in.dot(t_out)).abs()
            };
            pts.push((to_grid(V2::new(a.x, a.y)), turn < SMOOTH_TURN));
            if a.bulge != 0.0 {
                let (pa, pb) = (V2::new(a.x, a.y), V2::new(b.x, b.y));
                let (c, r, a0, sweep) = arc_from_bulge(pa, pb, a.bulge);
                let m = arc_chords(r, sweep, sample_mm);
                for i in 1..m {
                    let ang = a0 + sweep * i as f64 / m as f64;
                    pts.push((to_grid(c + V2::from_angle(ang) * r), true));
                }
            }
        }
        // Points that fall on one grid point are one (a corner wins over a smooth point).
        let mut clean: Vec<([i32; 2], bool)> = Vec::with_capacity(pts.len());
        for (p, s) in pts {
            match clean.last_mut() {
                Some(last) if last.0 == p => last.1 &= s,
                _ => clean.push((p, s)),
            }
        }
        while clean.len() > 1 && clean[0].0 == clean[clean.len() - 1].0 {
            let (_, s) = clean.pop().expect("two points");
            clean[0].1 &= s;
        }
        if clean.len() < 3 {
            continue;
        }
        let first = segs.len();
        let m = clean.len();
        for (k, &(p, s)) in clean.iter().enumerate() {
            let q = clean[(k + 1) % m].0;
            segs.push(Sample {
                a: p,
                b: q,
                prev: first + (k + m - 1) % m,
                next: first + (k + 1) % m,
            });
            let e = smooth.entry(p).or_insert(s);
            *e &= s;
        }
    }
    (segs, smooth)
}

/// The medial axis of `region`, its boundary sampled within `sample_mm` (also the measure of
/// a wall too thin to count, twice that); `dist` measures the
/// distance to the region's walls. Fails (with the reason) when the Voronoi diagram cannot be
/// built.
///
/// Every piece of the axis is checked against the walls: a straight piece whose ends' largest
/// circles (radius: the exact distance to the walls) do not cover it is split until they do;
/// a piece that meets a wall is dropped and counted (`crossing`): loops that touch or cross
/// each other break the diagram's contract, and nothing of it may cut into the part.
pub fn medial_axis(
    region: &Region,
    sample_mm: f64,
    dist: &BoundaryDistance,
) -> Result<MedialAxis, String> {
    let bb = region.bbox();
    let origin = (bb.min + bb.max) * 0.5;
    let size = bb.width().max(bb.height());
    if !(size.is_finite() && size > 0.0) {
        return Ok(MedialAxis::default());
    }
    let unit = size / GRID_STEPS;
    // The diagram needs segments that meet only at their ends: loops that cross (themselves
    // or each other) have no medial axis.
    let loops: Vec<Pline> = std::iter::once(region.outer.clone())
        .chain(region.islands.iter().cloned())
        .collect();
    if let Some(p) = loops
        .iter()
        .find_map(|l| super::seggrid::self_crossing(l, unit * 100.0))
    {
        return Err(format!(
            "a loop crosses itself near ({:.4}, {:.4})",
            p.x, p.y
        ));
    }
    if let Some(&(_, _, p)) = super::seggrid::loops_crossing(&loops, unit * 100.0).first() {
        return Err(format!("two loops cross near ({:.4}, {:.4})", p.x, p.y));
    }
    let (segs, smooth) = sample(region, origin, unit, sample_mm.max(unit * 10.0));
    if segs.len() < 3 {
        return Ok(MedialAxis::default());
    }
    let lines: Vec<Line<i32>> = segs
        .iter()
        .map(|s| {
            Line::new(
                Point {
                    x: s.a[0],
                    y: s.a[1],
                },
                Point {
                    x: s.b[0],
                    y: s.b[1],
                },
            )
        })
        .collect();
    let diagram = Builder::<i32>::default()
        .with_segments(lines.iter().copied())
        .and_then(Builder::build)
        .map_err(|e| format!("the Voronoi diagram failed ({e}); the loops may touch"))?;
    let from_grid = |x: f64, y: f64| origin + V2::new(x, y) * unit;
    let p = |q: [i32; 2]| from_grid(f64::from(q[0]), f64::from(q[1]));
    let dir = |k: usize| p(segs[k].b) - p(segs[k].a);
    let site = |cell: &boostvoronoi::prelude::Cell| -> Site {
        let k = cell.source_index().usize();
        let s = segs[k];
        match cell.source_category() {
            SourceCategory::SegmentStart | SourceCategory::SinglePoint => {
                Site::Point(p(s.a), dir(s.prev), dir(k))
            }
            SourceCategory::SegmentEnd => Site::Point(p(s.b), dir(k), dir(s.next)),
            SourceCategory::Segment => Site::Segment(p(s.a), p(s.b)),
        }
    };
    let mut axis = MedialAxis::default();
    let mut node_of: HashMap<usize, usize> = HashMap::new();
    // Per Voronoi vertex: edges kept and dropped there.
    let mut kept = vec![0u32; diagram.vertices().len()];
    let mut dropped = vec![0u32; diagram.vertices().len()];
    let on_smooth_vertex = |v: &boostvoronoi::prelude::Vertex| -> bool {
        let key = [(v.x()).round() as i32, (v.y()).round() as i32];
        (v.x() - f64::from(key[0])).abs() < 1e-6
            && (v.y() - f64::from(key[1])).abs() < 1e-6
            && smooth.get(&key).copied().unwrap_or(false)
    };
    for e in diagram.edges() {
        if !e.is_primary() {
            continue;
        }
        let id = e.id();
        let Ok(twin) = e.twin() else { continue };
        if twin.usize() < id.usize() {
            continue;
        }
        let (Some(v0), Ok(Some(v1))) = (e.vertex0(), diagram.edge_get_vertex1(id)) else {
            continue;
        };
        let (Ok(c0), Ok(c1)) = (
            e.cell(),
            diagram
                .edge(twin)
                .and_then(boostvoronoi::prelude::Edge::cell),
        ) else {
            continue;
        };
        let (Ok(c0), Ok(c1)) = (diagram.cell(c0), diagram.cell(c1)) else {
            continue;
        };
        let (Ok(p0), Ok(p1)) = (diagram.vertex(v0), diagram.vertex(v1)) else {
            continue;
        };
        let (a, b) = (from_grid(p0.x(), p0.y()), from_grid(p1.x(), p1.y()));
        let (s0, s1) = (site(c0), site(c1));
        let pts = if e.is_curved() {
            curved_edge(s0, s1, a, b, sample_mm)
        } else {
            vec![a, b]
        };
        let mid = pts[pts.len() / 2].lerp(pts[(pts.len() - 1) / 2], 0.5);
        let on_left = match (s0, s1) {
            (Site::Segment(..), _) => s0.has_inside(mid),
            _ => s1.has_inside(mid),
        };
        if !on_left {
            continue;
        }
        if on_smooth_vertex(p0) || on_smooth_vertex(p1) {
            dropped[v0.usize()] += 1;
            dropped[v1.usize()] += 1;
            continue;
        }
        if let Some(bad) = uncovered(&pts, dist, 2.0 * sample_mm) {
            axis.crossing.get_or_insert(bad);
            axis.crossing_count += 1;
            continue;
        }
        kept[v0.usize()] += 1;
        kept[v1.usize()] += 1;
        let mut node = |v: usize, p: V2| {
            *node_of.entry(v).or_insert_with(|| {
                axis.nodes.push(p);
                axis.nodes.len() - 1
            })
        };
        let n0 = node(v0.usize(), a);
        let n1 = node(v1.usize(), b);
        axis.edges.push((n0, n1, pts));
    }
    for (v, vert) in diagram.vertices().iter().enumerate() {
        if dropped[v] > 0 && kept[v] == 0 && !on_smooth_vertex(vert) {
            let p = from_grid(vert.x(), vert.y());
            if region.contains(p) {
                axis.nodes.push(p);
                axis.dots.push(axis.nodes.len() - 1);
            }
        }
    }
    Ok(axis)
}

#[derive(Clone, Copy)]
enum Site {
    /// A vertex of the boundary, with the directions of the segments into and out of it.
    Point(V2, V2, V2),
    Segment(V2, V2),
}

impl Site {
    /// Whether `m`, a point of this site's Voronoi cell, lies in the region: left of a segment;
    /// at a vertex, inside the corner (left of both sides of a convex corner, of either side of
    /// a reflex one).
    fn has_inside(self, m: V2) -> bool {
        match self {
            Site::Segment(a, b) => (b - a).cross(m - a) > 0.0,
            Site::Point(p, d_in, d_out) => {
                let v = m - p;
                let (l_in, l_out) = (d_in.cross(v) > 0.0, d_out.cross(v) > 0.0);
                if d_in.cross(d_out) >= 0.0 {
                    l_in && l_out
                } else {
                    l_in || l_out
                }
            }
        }
    }
}

/// Where a piece of `pts` meets a wall (its ends' largest circles do not cover it, to within
/// `gap` mm, however finely it is split), if anywhere. A piece that needs more than
/// `MAX_SPLITS` measurements (a sliver far longer than it is wide) counts as meeting one.
/// Less material than `gap` between two circles is no wall worth the name.
fn uncovered(pts: &[V2], dist: &BoundaryDistance, gap: f64) -> Option<V2> {
    const MAX_SPLITS: u32 = 4096;
    fn check(
        a: (V2, f64),
        b: (V2, f64),
        dist: &BoundaryDistance,
        gap: f64,
        budget: &mut u32,
    ) -> Option<V2> {
        let len = a.0.dist(b.0);
        if a.1 + b.1 + gap >= len {
            return None;
        }
        let m = a.0.lerp(b.0, 0.5);
        if *budget == 0 {
            return Some(m);
        }
        *budget -= 1;
        let rm = dist.distance(m, 0.5 * (a.1 + b.1) + 0.5 * len);
        if rm < gap * 1e-3 {
            return Some(m);
        }
        check(a, (m, rm), dist, gap, budget).or_else(|| check((m, rm), b, dist, gap, budget))
    }
    let mut hint = 1e-3;
    let mut r: Vec<f64> = Vec::with_capacity(pts.len());
    for &q in pts {
        let d = dist.distance(q, hint);
        hint = d.max(1e-4);
        r.push(d);
    }
    let mut budget = MAX_SPLITS;
    (1..pts.len()).find_map(|k| {
        check(
            (pts[k - 1], r[k - 1]),
            (pts[k], r[k]),
            dist,
            gap,
            &mut budget,
        )
    })
}

/// Points along a curved Voronoi edge (a parabola: the points as far from a point site as
/// from a segment site) from `a` to `b`, within `tol_mm` of the curve.
fn curved_edge(s0: Site, s1: Site, a: V2, b: V2, tol_mm: f64) -> Vec<V2> {
    let ((Site::Point(focus, ..), Site::Segment(la, lb))
    | (Site::Segment(la, lb), Site::Point(focus, ..))) = (s0, s1)
    else {
        return vec![a, b];
    };
    let u = (lb - la).normalized();
    let mut n = u.perp();
    if n.dot(focus - la) < 0.0 {
        n = n * -1.0;
    }
    let h = n.dot(focus - la);
    // A focus (nearly) on the segment's line: the curve is (nearly) the straight line between
    // the ends, and the formula below would divide by (nearly) nothing.
    if h <= 1e-6 * a.dist(b).max(1e-6) {
        return vec![a, b];
    }
    let t_of = |p: V2| u.dot(p - la);
    let (t0, t1) = (t_of(a), t_of(b));
    let point = |t: f64| {
        let f = la + u * t;
        let d = (f - focus).dot(f - focus) / (2.0 * n.dot(focus - f));
        f + n * d
    };
    // The parabola's curvature is at most 1/h (at its vertex): chords of length
    // sqrt(8·h·tol) stay within tol of it.
    let step = (8.0 * h * tol_mm).sqrt().max(1e-6);
    let m = (((t1 - t0).abs() / step).ceil() as usize).clamp(1, 10_000);
    let mut pts = Vec::with_capacity(m + 1);
    pts.push(a);
    for i in 1..m {
        pts.push(point(t0 + (t1 - t0) * i as f64 / m as f64));
    }
    pts.push(b);
    pts
}

/// The exact distance from a point to a region's boundary (its lines and arcs as drawn), with
/// a grid over the segments so that a query looks only at those near it.
pub struct BoundaryDistance {
    grid: SegGrid,
    seen: std::cell::RefCell<(Vec<u32>, u32)>,
}

impl BoundaryDistance {
    pub fn new(region: &Region, cell_mm: f64) -> Self {
        let loops: Vec<Pline> = std::iter::once(region.outer.clone())
            .chain(region.islands.iter().cloned())
            .collect();
        Self {
            grid: SegGrid::new(&loops, cell_mm),
            seen: std::cell::RefCell::new((Vec::new(), 0)),
        }
    }

    /// The exact distance from `p` to the boundary; `hint` is a guess of it (the search
    /// starts there and widens until it finds a segment).
    pub fn distance(&self, p: V2, hint: f64) -> f64 {
        let mut reach = hint.max(1e-4) * 1.01;
        loop {
            let d = self.at(p, reach);
            if d < reach || reach > 1e7 {
                return d;
            }
            reach *= 2.0;
        }
    }

    /// The distance from `p` to the nearest boundary segment within `reach` mm (`reach` when
    /// none is nearer).
    fn at(&self, p: V2, reach: f64) -> f64 {
        let mut best = reach;
        let bb = super::Bbox2 { min: p, max: p };
        let mut seen = self.seen.borrow_mut();
        self.grid
            .near(bb, reach, &mut seen, |_, a: PlineVertex<f64>, b| {
                best = best.min(super::biarc::seg_distance(a, b, p));
            });
        best
    }
}
