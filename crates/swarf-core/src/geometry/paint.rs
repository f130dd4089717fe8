//! Painting shapes in order, dark or clear, into regions: the image model of Gerber (each
//! flash, draw and region covers what lies under it, with the polarity it was drawn in), and
//! the union of many overlapping shapes (an isolation pass is the union of every copper
//! feature grown by the tool's radius).
//!
//! Written here rather than taken from a crate because the polygon-boolean crates (`geo`,
//! `i_overlay`) work on straight lines only, and Swarf keeps arcs as arcs; `cavalier_contours`
//! has exact line/arc intersections but booleans of two polylines at a time, and a board has
//! thousands of overlapping pads and tracks with holes and clear polarity. So: every boundary
//! is split where it meets another (`cavalier_contours`' exact segment intersections), each
//! piece is kept where the image differs on its two sides (dark on its left), and the pieces
//! are joined into loops. One pass, whatever the number of shapes; arcs stay arcs.

use std::collections::HashMap;

use cavalier_contours::polyline::{
    PlineCreation, PlineSegIntr, PlineSource, PlineSourceMut, PlineVertex, pline_seg_intr,
    seg_midpoint, seg_split_at_point,
};

use super::biarc::arc_centre_radius;
use super::bulge::seg_tangents;
use super::seggrid::seg_box;
use super::{Bbox2, Pline, Region, Tolerance, V2, nest_loops, pline_bbox};
use std::f64::consts::{PI, TAU};

/// A closed shape: the points where the winding number of its loops is not zero (so an
/// outer loop with a loop inside it the other way round is a ring), painted dark or clear.
#[derive(Debug, Clone)]
pub struct Shape {
    pub loops: Vec<Pline>,
    pub dark: bool,
}

impl Shape {
    pub fn dark(loops: Vec<Pline>) -> Self {
        Self { loops, dark: true }
    }
    pub fn bbox(&self) -> Bbox2 {
        let mut b = Bbox2::EMPTY;
        for l in &self.loops {
            b.union(&pline_bbox(l));
        }
        b
    }
    /// Whether `p` is inside (non-zero winding over all loops).
    pub fn contains(&self, p: V2) -> bool {
        self.loops.iter().map(|l| winding(l, p)).sum::<i32>() != 0
    }
}

/// The winding number of a closed loop about `p`, exact to the last bit of the geometry: a
/// ray to +X, each line and each y-monotone piece of an arc counted when it crosses it
/// (half-open in Y, so a ray through a vertex counts once). `cavalier_contours`'
/// `winding_number` compares with a fixed fuzz of 1e-5, too coarse for telling the two sides
/// of a boundary apart a fraction of a micrometre away.
pub fn winding(l: &Pline, p: V2) -> i32 {
    let mut w = 0;
    let mut cross = |ys: f64, ye: f64, x_at: &dyn Fn() -> f64| {
        let up = ys <= p.y && p.y < ye;
        let down = ye <= p.y && p.y < ys;
        if (up || down) && x_at() > p.x {
            w += if up { 1 } else { -1 };
        }
    };
    for (a, b) in l.iter_segments() {
        let (pa, pb) = (v2(a), v2(b));
        if a.bulge == 0.0 {
            cross(pa.y, pb.y, &|| {
                let t = (p.y - pa.y) / (pb.y - pa.y);
                pa.x + t * (pb.x - pa.x)
            });
            continue;
        }
        // An arc of at most half a turn lies within its chord's box grown by its sagitta: most
        // arcs are out of the ray's way and cost no trigonometry.
        if a.bulge.abs() <= 1.0 {
            let sag = a.bulge.abs() * pa.dist(pb) * 0.5;
            if p.y < pa.y.min(pb.y) - sag
                || p.y > pa.y.max(pb.y) + sag
                || p.x > pa.x.max(pb.x) + sag
            {
                continue;
            }
        }
        let (c, r) = arc_centre_radius(pa, pb, a.bulge);
        let sweep = 4.0 * a.bulge.atan();
        let a0 = (pa - c).angle();
        // Break at the top and bottom of the circle (angles π/2 + kπ) inside the sweep.
        let mut cuts: Vec<f64> = Vec::with_capacity(4);
        let dir = sweep.signum();
        let first = if dir > 0.0 {
            ((a0 - PI / 2.0) / PI).floor() + 1.0
        } else {
            ((a0 - PI / 2.0) / PI).ceil() - 1.0
        };
        let mut k = first;
        loop {
            let t = PI / 2.0 + k * PI;
            let along = (t - a0) * dir;
            if along <= 0.0 {
                k += dir;
                continue;
            }
            if along >= sweep.abs() {
                break;
            }
            cuts.push(t);
            k += dir;
        }
        let mut t0 = a0;
        let mut y0 = pa.y;
        for (n, &t1) in cuts
            .iter()
            .chain(std::iter::once(&(a0 + sweep)))
            .enumerate()
        {
            let y1 = if n == cuts.len() {
                pb.y
            } else {
                c.y + r * t1.sin()
            };
            let side = ((t0 + t1) * 0.5).cos().signum();
            cross(y0, y1, &|| {
                let dy = p.y - c.y;
                c.x + side * (r * r - dy * dy).max(0.0).sqrt()
            });
            t0 = t1;
            y0 = y1;
        }
    }
    w
}

/// The result of [`paint`]: the dark area as regions, and what could not be joined.
#[derive(Debug, Clone, Default)]
pub struct Painted {
    pub regions: Vec<Region>,
    /// Boundary pieces that did not close into a loop and lie farther than the path tolerance
    /// from every loop (numerical trouble where edges nearly touch); the caller warns when
    /// this is not zero.
    pub open_pieces: usize,
}

/// A uniform grid of boxes (segment or shape boxes), for "what is near here".
struct BoxGrid {
    origin: V2,
    cell: f64,
    nx: usize,
    ny: usize,
    cells: Vec<Vec<u32>>,
}

impl BoxGrid {
    fn new(boxes: &[Bbox2]) -> Self {
        let mut all = Bbox2::EMPTY;
        let mut size = 0.0;
        for b in boxes {
            all.union(b);
            size += b.width().max(b.height());
        }
        if all.is_empty() {
            all.add_point(V2::default());
        }
        let n = boxes.len().max(1) as f64;
        // Cells about twice the mean box, at most ~4 M cells.
        let mut cell = (2.0 * size / n).max(all.extent() / 2048.0).max(1e-9);
        let count = |c: f64| ((all.width() / c) as usize + 1) * ((all.height() / c) as usize + 1);
        while count(cell) > 4_000_000 {
            cell *= 2.0;
        }
        let nx = (all.width() / cell) as usize + 1;
        let ny = (all.height() / cell) as usize + 1;
        let mut g = Self {
            origin: all.min,
            cell,
            nx,
            ny,
            cells: vec![Vec::new(); nx * ny],
        };
        for (k, b) in boxes.iter().enumerate() {
            let (i0, j0) = g.index(b.min);
            let (i1, j1) = g.index(b.max);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    g.cells[j * g.nx + i].push(k as u32);
                }
            }
        }
        g
    }
    fn index(&self, p: V2) -> (usize, usize) {
        let f = |v: f64, o: f64, n: usize| {
            let i = ((v - o) / self.cell).floor();
            if i.is_nan() || i < 0.0 {
                0
            } else {
                (i as usize).min(n - 1)
            }
        };
        (
            f(p.x, self.origin.x, self.nx),
            f(p.y, self.origin.y, self.ny),
        )
    }
    fn at(&self, p: V2) -> &[u32] {
        let (i, j) = self.index(p);
        &self.cells[j * self.nx + i]
    }
}

type Seg = (PlineVertex<f64>, PlineVertex<f64>);

fn v2(v: PlineVertex<f64>) -> V2 {
    V2::new(v.x, v.y)
}

/// Position of `p` along the segment, for ordering the points a segment is split at.
fn along(s: Seg, p: V2) -> f64 {
    let (a, b) = (v2(s.0), v2(s.1));
    if s.0.bulge == 0.0 {
        (p - a).dot(b - a)
    } else {
        let (c, _) = arc_centre_radius(a, b, s.0.bulge);
        let d = (p - c).angle() - (a - c).angle();
        let d = if s.0.bulge > 0.0 { d } else { -d };
        d.rem_euclid(std::f64::consts::TAU)
    }
}

/// The unit tangent at a point of a segment (its midpoint, in practice).
fn tangent_at(s: Seg, p: V2) -> V2 {
    let (a, b) = (v2(s.0), v2(s.1));
    if s.0.bulge == 0.0 {
        (b - a).normalized()
    } else {
        let (c, _) = arc_centre_radius(a, b, s.0.bulge);
        let r = (p - c).normalized();
        if s.0.bulge > 0.0 { r.perp() } else { -r.perp() }
    }
}

/// Paints `shapes` in order (a later shape covers an earlier one where they overlap) and
/// returns the dark area as regions (outer loops counter-clockwise, islands clockwise).
pub fn paint(shapes: &[Shape], tol: &Tolerance) -> Painted {
    let snapped = snap_vertices(shapes, tol.path_mm);
    let shapes = &snapped[..];
    let eps = tol.equal_point_mm;
    // Every boundary segment, with the shape it belongs to.
    let mut segs: Vec<Seg> = Vec::new();
    for s in shapes {
        for l in &s.loops {
            if l.vertex_count() < 2 {
                continue;
            }
            for (a, b) in l.iter_segments() {
                if v2(a).dist(v2(b)) > eps {
                    segs.push((a, b));
                }
            }
        }
    }
    let seg_boxes: Vec<Bbox2> = segs.iter().map(|&(a, b)| seg_box(a, b)).collect();
    let grid = BoxGrid::new(&seg_boxes);
    // Where each segment is met by another.
    let mut cuts: Vec<Vec<V2>> = vec![Vec::new(); segs.len()];
    for (ci, cell) in grid.cells.iter().enumerate() {
        let (ci_x, ci_y) = (ci % grid.nx, ci / grid.nx);
        for (n, &i) in cell.iter().enumerate() {
            for &j in &cell[n + 1..] {
                let (i, j) = (i as usize, j as usize);
                let (bi, bj) = (&seg_boxes[i], &seg_boxes[j]);
                if !bi.overlaps(bj, eps) {
                    continue;
                }
                // Each pair once: in the cell of the lower-left corner of the boxes' overlap.
                let corner = V2::new(bi.min.x.max(bj.min.x), bi.min.y.max(bj.min.y));
                if grid.index(corner) != (ci_x, ci_y) {
                    continue;
                }
                let (a, b) = segs[i];
                let (c, d) = segs[j];
                let mut add = |p: cavalier_contours::core::math::Vector2<f64>| {
                    let p = V2::new(p.x, p.y);
                    cuts[i].push(p);
                    cuts[j].push(p);
                };
                match pline_seg_intr(a, b, c, d, eps) {
                    PlineSegIntr::NoIntersect => {}
                    PlineSegIntr::TangentIntersect { point }
                    | PlineSegIntr::OneIntersect { point } => {
                        add(point);
                    }
                    PlineSegIntr::TwoIntersects { point1, point2 }
                    | PlineSegIntr::OverlappingLines { point1, point2 }
                    | PlineSegIntr::OverlappingArcs { point1, point2 } => {
                        add(point1);
                        add(point2);
                    }
                }
            }
        }
    }
    // Split each segment at its cuts.
    let mut pieces: Vec<Seg> = Vec::with_capacity(segs.len());
    for (k, s) in segs.iter().enumerate() {
        let cs = &mut cuts[k];
        let (a, b) = (v2(s.0), v2(s.1));
        cs.retain(|p| p.dist(a) > eps && p.dist(b) > eps);
        if cs.is_empty() {
            pieces.push(*s);
            continue;
        }
        let mut keyed: Vec<(f64, V2)> = cs.iter().map(|&p| (along(*s, p), p)).collect();
        keyed.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut cur = s.0;
        let mut last = a;
        for (_, p) in keyed {
            if p.dist(last) <= eps {
                continue;
            }
            let r = seg_split_at_point(cur, s.1, p.into(), eps);
            pieces.push((r.updated_start, r.split_vertex));
            cur = r.split_vertex;
            last = p;
        }
        if last.dist(b) > eps {
            pieces.push((cur, s.1));
        }
    }
    // The image at a point: the polarity of the last shape that covers it.
    let shape_boxes: Vec<Bbox2> = shapes.iter().map(Shape::bbox).collect();
    let shape_grid = BoxGrid::new(&shape_boxes);
    let image = |p: V2| -> bool {
        for &k in shape_grid.at(p).iter().rev() {
            let k = k as usize;
            let b = &shape_boxes[k];
            if p.x < b.min.x || p.x > b.max.x || p.y < b.min.y || p.y > b.max.y {
                continue;
            }
            if shapes[k].contains(p) {
                return shapes[k].dark;
            }
        }
        false
    };
    // Keep the pieces with dark on one side only, turned so that the dark is on the left.
    let delta = 2.0 * eps;
    let mut kept: Vec<Seg> = Vec::new();
    let mut seen: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
    let cell_of = |p: V2| {
        (
            (p.x / (4.0 * eps)).floor() as i64,
            (p.y / (4.0 * eps)).floor() as i64,
        )
    };
    for &(s, e) in &pieces {
        if v2(s).dist(v2(e)) <= eps {
            continue;
        }
        let m = seg_midpoint(s, e);
        let m = V2::new(m.x, m.y);
        let left = tangent_at((s, e), m).perp();
        let (l, r) = (image(m + left * delta), image(m - left * delta));
        if l == r {
            continue;
        }
        let piece = if l {
            (s, e)
        } else {
            (
                PlineVertex::new(e.x, e.y, -s.bulge),
                PlineVertex::new(s.x, s.y, 0.0),
            )
        };
        // Identical boundaries (a pad flashed twice, a track's side along a pad's) give the
        // same piece twice: kept once (ends within the equal-point distance, same bulge).
        let (ks, ke) = (v2(piece.0), v2(piece.1));
        let (ci, cj) = cell_of(ks);
        let mut dup = false;
        'look: for di in -1..=1 {
            for dj in -1..=1 {
                if let Some(list) = seen.get(&(ci + di, cj + dj)) {
                    for &o in list {
                        let (os, oe) = kept[o as usize];
                        if v2(os).dist(ks) <= eps
                            && v2(oe).dist(ke) <= eps
                            && (os.bulge - piece.0.bulge).abs() <= 1e-9
                        {
                            dup = true;
                            break 'look;
                        }
                    }
                }
            }
        }
        if !dup {
            seen.entry((ci, cj)).or_default().push(kept.len() as u32);
            kept.push(piece);
        }
    }
    let kept = prune_dangling(kept, eps);
    let (loops, open) = join(&kept, eps);
    // Pieces left over that lie within the path tolerance of a loop are the far side of a
    // sliver thinner than the tolerance (a track's edge 40 nm from a pad's arc): the loop
    // already runs there. Only pieces farther away are a real loss.
    let mut open_pieces = 0;
    if !open.is_empty() {
        let mut all = Bbox2::EMPTY;
        for l in &loops {
            all.union(&pline_bbox(l));
        }
        let grid =
            super::seggrid::SegGrid::new(&loops, (all.extent() / 256.0).max(tol.path_mm * 100.0));
        let mut seen = (Vec::new(), 0u32);
        let reach = 2.0 * tol.path_mm;
        for chain in &open {
            let stray = chain.iter().any(|&(s, e)| {
                [0.0, 0.25, 0.5, 0.75, 1.0].iter().any(|&f| {
                    let q = super::bulge::seg_point(s, e, f);
                    let v = PlineVertex::new(q.x, q.y, 0.0);
                    grid.nearest_to_seg(v, v, seg_box(v, v), reach, &mut seen) > tol.path_mm
                })
            });
            if stray {
                open_pieces += chain.len();
            }
        }
    }
    let regions = nest_loops(loops, tol);
    Painted {
        regions,
        open_pieces,
    }
}

/// The shapes with every vertex moved onto the first vertex seen within `within` of it (snap
/// rounding): a pad flashed twice a few nanometres apart (panelising tools round differently)
/// becomes the same pad twice, instead of two arcs that run within the sampling distance of
/// each other for their whole length, which no side test can tell apart. The geometry moves
/// by less than `within` (the path tolerance).
fn snap_vertices(shapes: &[Shape], within: f64) -> Vec<Shape> {
    let key = |p: V2| ((p.x / within).floor() as i64, (p.y / within).floor() as i64);
    let mut seen: HashMap<(i64, i64), Vec<V2>> = HashMap::new();
    let mut snap = |p: V2| -> V2 {
        let (ki, kj) = key(p);
        for di in -1..=1 {
            for dj in -1..=1 {
                if let Some(list) = seen.get(&(ki + di, kj + dj))
                    && let Some(q) = list.iter().find(|q| q.dist(p) <= within)
                {
                    return *q;
                }
            }
        }
        seen.entry((ki, kj)).or_default().push(p);
        p
    };
    shapes
        .iter()
        .map(|s| Shape {
            dark: s.dark,
            loops: s
                .loops
                .iter()
                .map(|l| {
                    let mut q = Pline::with_capacity(l.vertex_count(), l.is_closed());
                    for v in l.iter_vertexes() {
                        let p = snap(V2::new(v.x, v.y));
                        q.add(p.x, p.y, v.bulge);
                    }
                    q
                })
                .collect(),
        })
        .collect()
}

// Shapes swept by a disk (Gerber draws, isolation growth): exact, arcs kept.

/// A full circle as two half arcs, counter-clockwise.
pub fn circle(c: V2, r: f64) -> Pline {
    let mut p = Pline::with_capacity(2, true);
    p.add(c.x - r, c.y, 1.0);
    p.add(c.x + r, c.y, 1.0);
    p
}

/// The stadium swept by a disk of radius `r` from `a` to `b`.
pub fn stadium(a: V2, b: V2, r: f64) -> Pline {
    if a.dist(b) <= 1e-12 {
        return circle(a, r);
    }
    let d = (b - a).normalized();
    let n = d.perp() * r;
    let mut p = Pline::with_capacity(4, true);
    p.add(a.x - n.x, a.y - n.y, 0.0);
    p.add(b.x - n.x, b.y - n.y, 1.0);
    p.add(b.x + n.x, b.y + n.y, 0.0);
    p.add(a.x + n.x, a.y + n.y, 1.0);
    p
}

/// An arc of radius `r` about `c` from angle `a0` sweeping `sweep` (signed), as vertices
/// (the last one not included), each piece at most half a turn.
pub fn arc_verts(c: V2, r: f64, a0: f64, sweep: f64, out: &mut Vec<PlineVertex<f64>>) {
    let n = (sweep.abs() / (PI * 0.999)).ceil().max(1.0) as usize;
    let step = sweep / n as f64;
    let bulge = (step / 4.0).tan();
    for k in 0..n {
        let p = c + V2::from_angle(a0 + step * k as f64) * r;
        out.push(PlineVertex::new(p.x, p.y, bulge));
    }
}

pub fn pline_of(verts: Vec<PlineVertex<f64>>) -> Pline {
    let mut p = Pline::with_capacity(verts.len(), true);
    for v in verts {
        p.add_vertex(v);
    }
    p
}

/// The shapes swept by a disk of radius `r` along the arc about `c` from `s` through `sweep`.
pub fn arc_sweep(c: V2, big_r: f64, a0: f64, sweep: f64, r: f64) -> Vec<Vec<Pline>> {
    let s = c + V2::from_angle(a0) * big_r;
    let e = c + V2::from_angle(a0 + sweep) * big_r;
    let mut shapes = vec![vec![circle(s, r)], vec![circle(e, r)]];
    let full = sweep.abs() >= TAU - 1e-12;
    let mut v = Vec::new();
    if big_r > r {
        if full {
            let mut inner = circle(c, big_r - r);
            inner.invert_direction_mut();
            shapes.push(vec![circle(c, big_r + r), inner]);
        } else {
            arc_verts(c, big_r + r, a0, sweep, &mut v);
            let eo = c + V2::from_angle(a0 + sweep) * (big_r + r);
            v.push(PlineVertex::new(eo.x, eo.y, 0.0));
            arc_verts(c, big_r - r, a0 + sweep, -sweep, &mut v);
            let si = c + V2::from_angle(a0) * (big_r - r);
            v.push(PlineVertex::new(si.x, si.y, 0.0));
            shapes.push(vec![pline_of(v)]);
        }
    } else if full {
        shapes.push(vec![circle(c, big_r + r)]);
    } else {
        // The disk reaches the centre: a pie (every point of it within r of the arc).
        v.push(PlineVertex::new(c.x, c.y, 0.0));
        arc_verts(c, big_r + r, a0, sweep, &mut v);
        let eo = c + V2::from_angle(a0 + sweep) * (big_r + r);
        v.push(PlineVertex::new(eo.x, eo.y, 0.0));
        shapes.push(vec![pline_of(v)]);
    }
    shapes
}

/// Every point within `r` of the regions (their Minkowski sum with a disk): the regions
/// painted with the sweep of a disk along each of their boundary segments. Exact, arcs kept;
/// where two regions' growths meet they join (the gap between them is under `2 r`).
pub fn grow(regions: &[Region], r: f64, tol: &Tolerance) -> Painted {
    let mut shapes: Vec<Shape> = Vec::new();
    for g in regions {
        let loops: Vec<Pline> = std::iter::once(g.outer.clone())
            .chain(g.islands.iter().cloned())
            .collect();
        for l in &loops {
            for (a, b) in l.iter_segments() {
                let (pa, pb) = (v2(a), v2(b));
                if a.bulge == 0.0 {
                    shapes.push(Shape::dark(vec![stadium(pa, pb, r)]));
                } else {
                    let (c, big_r) = arc_centre_radius(pa, pb, a.bulge);
                    let sweep = 4.0 * a.bulge.atan();
                    for s in arc_sweep(c, big_r, (pa - c).angle(), sweep, r) {
                        shapes.push(Shape::dark(s));
                    }
                }
            }
        }
        shapes.push(Shape::dark(loops));
    }
    paint(&shapes, tol)
}

/// Drops pieces that nothing continues or nothing leads into, until none is left: a
/// boundary is closed, so such a piece is an artefact of two edges that run within the
/// sampling distance of each other (sub-micrometre slivers between a pad and a track drawn to
/// slightly different coordinates); left in, it would end a loop in a dead end.
fn prune_dangling(pieces: Vec<Seg>, eps: f64) -> Vec<Seg> {
    let cell = 4.0 * eps;
    let key = |p: V2| ((p.x / cell).floor() as i64, (p.y / cell).floor() as i64);
    let mut starts: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
    let mut ends: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
    for (k, &(s, e)) in pieces.iter().enumerate() {
        starts.entry(key(v2(s))).or_default().push(k as u32);
        ends.entry(key(v2(e))).or_default().push(k as u32);
    }
    // The live pieces (other than `me`) that start (`at_start`) or end within eps of `p`.
    let near =
        |map: &HashMap<(i64, i64), Vec<u32>>, p: V2, at_start: bool, alive: &[bool], me: usize| {
            let (ki, kj) = key(p);
            let mut out = Vec::new();
            for di in -1..=1 {
                for dj in -1..=1 {
                    for &c in map.get(&(ki + di, kj + dj)).into_iter().flatten() {
                        let c = c as usize;
                        let q = if at_start {
                            v2(pieces[c].0)
                        } else {
                            v2(pieces[c].1)
                        };
                        if c != me && alive[c] && q.dist(p) <= eps {
                            out.push(c);
                        }
                    }
                }
            }
            out
        };
    let mut alive = vec![true; pieces.len()];
    let mut work: Vec<usize> = (0..pieces.len()).collect();
    while let Some(k) = work.pop() {
        if !alive[k] {
            continue;
        }
        let (s, e) = pieces[k];
        let next = near(&starts, v2(e), true, &alive, k);
        let prev = near(&ends, v2(s), false, &alive, k);
        if v2(s).dist(v2(e)) <= eps || (!next.is_empty() && !prev.is_empty()) {
            continue;
        }
        alive[k] = false;
        // Its neighbours may now dangle.
        work.extend(next);
        work.extend(prev);
    }
    pieces
        .into_iter()
        .zip(alive)
        .filter_map(|(p, a)| a.then_some(p))
        .collect()
}

/// Joins directed pieces into closed loops, end to start; where several pieces leave one
/// point (shapes that touch at a corner), the one turning most to the left, which keeps the
/// loops simple.
fn join(pieces: &[Seg], eps: f64) -> (Vec<Pline>, Vec<Vec<Seg>>) {
    let cell = 4.0 * eps;
    let key = |p: V2| ((p.x / cell).floor() as i64, (p.y / cell).floor() as i64);
    let mut starts: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
    for (k, &(s, _)) in pieces.iter().enumerate() {
        starts.entry(key(v2(s))).or_default().push(k as u32);
    }
    let mut used = vec![false; pieces.len()];
    let mut loops = Vec::new();
    let mut open: Vec<Vec<Seg>> = Vec::new();
    for first in 0..pieces.len() {
        if used[first] {
            continue;
        }
        used[first] = true;
        let start = v2(pieces[first].0);
        let mut chain = vec![first];
        let mut closed = false;
        loop {
            let (s, e) = pieces[*chain.last().expect("chain has a piece")];
            let end = v2(e);
            if end.dist(start) <= eps && chain.len() > 1
                || (chain.len() == 1 && end.dist(start) <= eps)
            {
                closed = true;
                break;
            }
            let dir_in = seg_tangents(s, e).1;
            let (ki, kj) = key(end);
            let mut best: Option<(f64, usize)> = None;
            for di in -1..=1 {
                for dj in -1..=1 {
                    let Some(list) = starts.get(&(ki + di, kj + dj)) else {
                        continue;
                    };
                    for &c in list {
                        let c = c as usize;
                        if used[c] && c != first {
                            continue;
                        }
                        let (cs, ce) = pieces[c];
                        if v2(cs).dist(end) > eps {
                            continue;
                        }
                        let out = seg_tangents(cs, ce).0;
                        let turn = dir_in.cross(out).atan2(dir_in.dot(out));
                        // The loop's own start closes it when nothing turns further left.
                        if best.is_none_or(|(t, _)| turn > t) {
                            best = Some((turn, c));
                        }
                    }
                }
            }
            match best {
                Some((_, c)) if c == first => {
                    closed = true;
                    break;
                }
                Some((_, c)) => {
                    used[c] = true;
                    chain.push(c);
                }
                None => break,
            }
        }
        if !closed {
            open.push(chain.iter().map(|&k| pieces[k]).collect());
            continue;
        }
        let mut p = Pline::with_capacity(chain.len(), true);
        for &k in &chain {
            let (s, _) = pieces[k];
            p.add_vertex(s);
        }
        let p = p.remove_redundant(eps).unwrap_or(p);
        if p.vertex_count() >= 2 && p.area().abs() > eps * eps {
            loops.push(p);
        }
    }
    (loops, open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Pline {
        let mut p = Pline::new_closed();
        p.add(x0, y0, 0.0);
        p.add(x1, y0, 0.0);
        p.add(x1, y1, 0.0);
        p.add(x0, y1, 0.0);
        p
    }
    fn circle(c: V2, r: f64) -> Pline {
        let mut p = Pline::new_closed();
        p.add(c.x - r, c.y, 1.0);
        p.add(c.x + r, c.y, 1.0);
        p
    }
    fn area(rs: &[Region]) -> f64 {
        rs.iter().map(Region::area).sum()
    }
    fn tol() -> Tolerance {
        Tolerance::default()
    }
    /// The union of shapes (all dark).
    fn union(shapes: Vec<Vec<Pline>>, tol: &Tolerance) -> Painted {
        let shapes: Vec<Shape> = shapes.into_iter().map(Shape::dark).collect();
        paint(&shapes, tol)
    }

    #[test]
    fn overlapping_squares_join_and_abutting_ones_lose_their_shared_edge() {
        let r = union(
            vec![
                vec![rect(0.0, 0.0, 2.0, 2.0)],
                vec![rect(1.0, 1.0, 3.0, 3.0)],
            ],
            &tol(),
        );
        assert_eq!(r.regions.len(), 1);
        assert!((area(&r.regions) - 7.0).abs() < 1e-9);
        let r = union(
            vec![
                vec![rect(0.0, 0.0, 1.0, 1.0)],
                vec![rect(1.0, 0.0, 2.0, 1.0)],
            ],
            &tol(),
        );
        assert_eq!(r.regions.len(), 1);
        assert_eq!(
            r.regions[0].outer.vertex_count(),
            4,
            "{:?}",
            r.regions[0].outer
        );
        assert!((area(&r.regions) - 2.0).abs() < 1e-9);
        assert_eq!(r.open_pieces, 0);
    }

    #[test]
    fn a_ring_of_tracks_makes_a_hole_and_clear_polarity_cuts_one() {
        // Four bars around a square: one region with an island.
        let r = union(
            vec![
                vec![rect(0.0, 0.0, 4.0, 1.0)],
                vec![rect(3.0, 0.0, 4.0, 4.0)],
                vec![rect(0.0, 3.0, 4.0, 4.0)],
                vec![rect(0.0, 0.0, 1.0, 4.0)],
            ],
            &tol(),
        );
        assert_eq!(r.regions.len(), 1);
        assert_eq!(r.regions[0].islands.len(), 1);
        assert!((area(&r.regions) - 12.0).abs() < 1e-9);
        // A disk with a clear disk painted over it, then a dark dot inside the clear one.
        let c = V2::new(0.0, 0.0);
        let shapes = vec![
            Shape::dark(vec![circle(c, 2.0)]),
            Shape {
                loops: vec![circle(c, 1.0)],
                dark: false,
            },
            Shape::dark(vec![circle(c, 0.5)]),
        ];
        let r = paint(&shapes, &tol());
        assert_eq!(r.regions.len(), 2);
        let pi = std::f64::consts::PI;
        assert!((area(&r.regions) - pi * (4.0 - 1.0 + 0.25)).abs() < 1e-9);
        // Arcs stay arcs.
        assert!(r.regions.iter().all(|g| g.arc_count() >= 2));
    }

    #[test]
    fn twice_the_same_pad_is_one_pad_and_a_cut_in_region_is_a_ring() {
        let c = V2::new(1.0, 1.0);
        let r = union(vec![vec![circle(c, 0.3)], vec![circle(c, 0.3)]], &tol());
        assert_eq!(r.regions.len(), 1);
        assert!((area(&r.regions) - std::f64::consts::PI * 0.09).abs() < 1e-9);
        // A square with a cut-in to a square hole drawn the other way (Gerber's way of
        // making a hole in one contour).
        let mut p = Pline::new_closed();
        for (x, y) in [
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
            (0.0, 2.0),
            (1.0, 2.0),
            (1.0, 3.0),
            (3.0, 3.0),
            (3.0, 1.0),
            (1.0, 1.0),
            (1.0, 2.0),
            (0.0, 2.0),
        ] {
            p.add(x, y, 0.0);
        }
        let r = union(vec![vec![p]], &tol());
        assert_eq!(r.regions.len(), 1);
        assert_eq!(r.regions[0].islands.len(), 1);
        assert!((area(&r.regions) - 12.0).abs() < 1e-9);
    }

    #[test]
    fn squares_touching_at_a_corner_stay_two_simple_loops() {
        let r = union(
            vec![
                vec![rect(-1.0, -1.0, 0.0, 0.0)],
                vec![rect(0.0, 0.0, 1.0, 1.0)],
            ],
            &tol(),
        );
        assert_eq!(r.regions.len(), 2);
        assert!(r.regions.iter().all(|g| (g.area() - 1.0).abs() < 1e-9));
    }

    #[test]
    fn random_disks_and_bars_match_a_sampled_image() {
        // Pseudo-random shapes, dark and clear; the painted area equals the area sampled from
        // the image itself (a fine raster), and every sample agrees with `Region::contains`.
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 11) as f64) / ((1u64 << 53) as f64)
        };
        let mut shapes = Vec::new();
        for k in 0..40 {
            let c = V2::new(rnd() * 10.0, rnd() * 10.0);
            let loops = if k % 2 == 0 {
                vec![circle(c, 0.3 + rnd() * 1.5)]
            } else {
                let (w, h) = (0.2 + rnd() * 3.0, 0.2 + rnd() * 3.0);
                vec![rect(c.x, c.y, c.x + w, c.y + h)]
            };
            shapes.push(Shape {
                loops,
                dark: k % 7 != 3,
            });
        }
        let r = paint(&shapes, &tol());
        assert_eq!(r.open_pieces, 0);
        let image = |p: V2| {
            shapes
                .iter()
                .rev()
                .find(|s| s.contains(p))
                .is_some_and(|s| s.dark)
        };
        let n = 300;
        let mut wrong = 0;
        for i in 0..n {
            for j in 0..n {
                let p = V2::new(
                    -2.0 + 16.0 * (f64::from(i) + 0.5) / f64::from(n),
                    -2.0 + 16.0 * (f64::from(j) + 0.5) / f64::from(n),
                );
                let inside = r.regions.iter().any(|g| g.contains(p));
                if inside != image(p) {
                    wrong += 1;
                }
            }
        }
        assert_eq!(wrong, 0);
    }
}
