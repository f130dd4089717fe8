//! A uniform grid over the segments of loops: distance queries that look only at the
//! segments near a place (the export check's gouge test, the offset validation).

use cavalier_contours::polyline::{PlineSource, PlineVertex};

use super::{Bbox2, Pline, V2};

/// A uniform grid of the segments of closed loops, for distance queries.
pub struct SegGrid {
    segs: Vec<(PlineVertex<f64>, PlineVertex<f64>)>,
    boxes: Vec<Bbox2>,
    origin: V2,
    cell: f64,
    nx: usize,
    ny: usize,
    cells: Vec<Vec<u32>>,
}

impl SegGrid {
    pub fn new(loops: &[Pline], cell: f64) -> Self {
        let mut segs = Vec::new();
        let mut bb = Bbox2::EMPTY;
        for l in loops {
            for (a, b) in l.iter_segments() {
                segs.push((a, b));
            }
            bb.union(&crate::geometry::pline_bbox(l));
        }
        if bb.is_empty() {
            bb.add_point(V2::default());
        }
        let nx = ((bb.width() / cell).ceil() as usize + 1).min(4096);
        let ny = ((bb.height() / cell).ceil() as usize + 1).min(4096);
        let cell = (bb.width() / nx as f64)
            .max(bb.height() / ny as f64)
            .max(cell);
        let boxes = segs.iter().map(|&(a, b)| seg_box(a, b)).collect();
        let mut g = Self {
            segs,
            boxes,
            origin: bb.min,
            cell,
            nx,
            ny,
            cells: vec![Vec::new(); nx * ny],
        };
        for (k, sb) in g.boxes.iter().enumerate() {
            let (i0, j0) = g.index(sb.min);
            let (i1, j1) = g.index(sb.max);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    g.cells[j * g.nx + i].push(k as u32);
                }
            }
        }
        g
    }
    fn index(&self, p: V2) -> (usize, usize) {
        let i = ((p.x - self.origin.x) / self.cell)
            .floor()
            .clamp(0.0, (self.nx - 1) as f64) as usize;
        let j = ((p.y - self.origin.y) / self.cell)
            .floor()
            .clamp(0.0, (self.ny - 1) as f64) as usize;
        (i, j)
    }
    /// Distance from the segment a–b (bounding box `bb`) to the nearest drawing segment within
    /// `r` of it (or `r` when none is nearer).
    pub fn nearest_to_seg(
        &self,
        a: PlineVertex<f64>,
        b: PlineVertex<f64>,
        bb: Bbox2,
        r: f64,
        seen: &mut (Vec<u32>, u32),
    ) -> f64 {
        // Cheap lower bounds first: the boxes' gap, and the distance from the segment's middle
        // less the half of it (every point of it is within that of the middle). Most
        // candidates stop there; the exact distance is for the rest.
        let mid = crate::geometry::bulge::seg_point(a, b, 0.5);
        let half = 0.5 * crate::geometry::bulge::seg_len(a, b);
        let mut best = r;
        self.near(bb, r, seen, |k, c, d| {
            if box_gap(&bb, &self.boxes[k]) < best
                && crate::geometry::biarc::seg_distance(c, d, mid) - half < best
            {
                best = best.min(crate::geometry::distance::seg_seg_distance(a, b, c, d));
            }
        });
        best
    }
    /// Calls `f` with the index of every segment whose cells meet the box `bb` grown by `r`
    /// (each once).
    pub fn near(
        &self,
        bb: Bbox2,
        r: f64,
        seen: &mut (Vec<u32>, u32),
        mut f: impl FnMut(usize, PlineVertex<f64>, PlineVertex<f64>),
    ) {
        let (i0, j0) = self.index(V2::new(bb.min.x - r, bb.min.y - r));
        let (i1, j1) = self.index(V2::new(bb.max.x + r, bb.max.y + r));
        // A query box over more cells than there are segments (a long move over a drawing of
        // a few loops) costs less as a scan of the segments' boxes.
        if (i1 - i0 + 1) * (j1 - j0 + 1) > self.segs.len() {
            let q = Bbox2 {
                min: V2::new(bb.min.x - r, bb.min.y - r),
                max: V2::new(bb.max.x + r, bb.max.y + r),
            };
            for (k, sb) in self.boxes.iter().enumerate() {
                if box_gap(&q, sb) <= 0.0 {
                    let (c, d) = self.segs[k];
                    f(k, c, d);
                }
            }
            return;
        }
        seen.1 = seen.1.wrapping_add(1);
        if seen.0.len() != self.segs.len() {
            seen.0 = vec![0; self.segs.len()];
        }
        let stamp = seen.1;
        for j in j0..=j1 {
            for i in i0..=i1 {
                for &k in &self.cells[j * self.nx + i] {
                    if seen.0[k as usize] == stamp {
                        continue;
                    }
                    seen.0[k as usize] = stamp;
                    let (c, d) = self.segs[k as usize];
                    f(k as usize, c, d);
                }
            }
        }
    }
}

/// Pairs of closed loops that cross each other: a part of one lies inside the other and a
/// part outside (more than `eps` from it). Loops that only touch (side by side, or one inside
/// the other meeting it at a point or along an edge) do not cross. Each pair once, as
/// `(i, j, a place where they meet)` with `i < j`.
///
/// Where two loops of a drawing cross, which side of each is material is ambiguous (the
/// nesting of regions assumes loops that do not cross), so the import says so.
pub fn loops_crossing(loops: &[Pline], eps: f64) -> Vec<(usize, usize, V2)> {
    let mut owner = Vec::new();
    for (i, l) in loops.iter().enumerate() {
        owner.extend(std::iter::repeat_n(i, l.segment_count()));
    }
    if owner.is_empty() {
        return Vec::new();
    }
    let mut bb = Bbox2::EMPTY;
    for l in loops {
        bb.union(&crate::geometry::pline_bbox(l));
    }
    let cell = (bb.width().max(bb.height()) / (owner.len() as f64).sqrt()).max(eps * 100.0);
    let grid = SegGrid::new(loops, cell);
    let mut seen = (Vec::new(), 0u32);
    // Pairs whose segments come within `eps` of each other, with one such place.
    let mut touching: Vec<(usize, usize, V2)> = Vec::new();
    let mut pairs = std::collections::HashSet::new();
    for (k, &(a, b)) in grid.segs.iter().enumerate() {
        let i = owner[k];
        grid.near(grid.boxes[k], eps, &mut seen, |m, c, d| {
            let j = owner[m];
            if j > i
                && !pairs.contains(&(i, j))
                && crate::geometry::distance::seg_seg_distance(a, b, c, d) <= eps
            {
                pairs.insert((i, j));
                touching.push((i, j, V2::new(c.x, c.y)));
            }
        });
    }
    // Of those, the pairs where one loop has points both inside and outside the other: its
    // vertices and five points along each segment (at most about 3000 points: a warning need
    // not see every sliver), leaving out those within a few `eps` of the other loop (where
    // inside and outside are rounding).
    let crosses = |p: &Pline, q: &Pline| {
        let (mut inside, mut outside) = (false, false);
        let near_q = SegGrid::new(
            std::slice::from_ref(q),
            (crate::geometry::pline_bbox(q).extent() / (q.segment_count() as f64).sqrt())
                .max(eps * 100.0),
        );
        let mut seen_q = (Vec::new(), 0u32);
        let stride = p.segment_count().div_ceil(500).max(1);
        for (a, b) in p.iter_segments().step_by(stride) {
            for t in [0.0, 1.0 / 6.0, 2.0 / 6.0, 0.5, 4.0 / 6.0, 5.0 / 6.0] {
                let s = crate::geometry::bulge::seg_point(a, b, t);
                let v = PlineVertex::new(s.x, s.y, 0.0);
                let mut sb = Bbox2::EMPTY;
                sb.add_point(s);
                if near_q.nearest_to_seg(v, v, sb, 4.0 * eps, &mut seen_q) < 4.0 * eps {
                    continue;
                }
                if q.winding_number(s.into()) != 0 {
                    inside = true;
                } else {
                    outside = true;
                }
                if inside && outside {
                    return true;
                }
            }
        }
        false
    };
    touching
        .into_iter()
        .filter(|&(i, j, _)| crosses(&loops[j], &loops[i]) || crosses(&loops[i], &loops[j]))
        .collect()
}

/// A box holding the segment a–b: its chord's box grown by the arc's sagitta (|bulge| · half
/// the chord), which bounds how far an arc strays from its chord in any direction. Cheaper
/// than the exact extremes, and only ever larger.
pub fn seg_box(a: PlineVertex<f64>, b: PlineVertex<f64>) -> Bbox2 {
    let mut bb = Bbox2::EMPTY;
    bb.add_point(V2::new(a.x, a.y));
    bb.add_point(V2::new(b.x, b.y));
    if a.bulge != 0.0 {
        let s = a.bulge.abs() * 0.5 * (b.x - a.x).hypot(b.y - a.y);
        bb.min = bb.min - V2::new(s, s);
        bb.max += V2::new(s, s);
    }
    bb
}

/// The distance between two boxes (0 when they overlap): a lower bound of the distance
/// between anything inside them.
fn box_gap(p: &Bbox2, q: &Bbox2) -> f64 {
    let dx = (q.min.x - p.max.x).max(p.min.x - q.max.x).max(0.0);
    let dy = (q.min.y - p.max.y).max(p.min.y - q.max.y).max(0.0);
    dx.hypot(dy)
}

/// Where a closed loop crosses or touches itself: two segments that are not neighbours closer
/// than `eps`, or two neighbouring lines that fold back over each other. `None` when it does
/// not. (Segments a few nanometres long between two others are neighbours' neighbours, not a
/// crossing: only a distance below `eps` counts.)
pub fn self_crossing(p: &Pline, eps: f64) -> Option<V2> {
    let n = p.segment_count();
    if n < 3 || !p.is_closed() {
        return None;
    }
    let segs: Vec<(PlineVertex<f64>, PlineVertex<f64>)> = p.iter_segments().collect();
    // Fold-backs: a line followed by a line going back along it.
    for i in 0..n {
        let (a, b) = segs[i];
        let (_, c) = segs[(i + 1) % n];
        if a.bulge == 0.0 && b.bulge == 0.0 {
            let u = V2::new(b.x - a.x, b.y - a.y);
            let v = V2::new(c.x - b.x, c.y - b.y);
            let (lu, lv) = (u.length(), v.length());
            if lu > eps && lv > eps && u.dot(v) < 0.0 && (u.cross(v) / lu).abs() <= eps {
                return Some(V2::new(b.x, b.y));
            }
        }
    }
    let bb = crate::geometry::pline_bbox(p);
    let cell = (bb.width().max(bb.height()) / (n as f64).sqrt()).max(eps * 100.0);
    let grid = SegGrid::new(std::slice::from_ref(p), cell);
    let mut seen = (Vec::new(), 0u32);
    for (i, &(a, b)) in segs.iter().enumerate() {
        let sb = seg_box(a, b);
        let mut hit = None;
        grid.near(sb, eps, &mut seen, |j, c, d| {
            let neighbour = j == i || j == (i + 1) % n || i == (j + 1) % n;
            if hit.is_none()
                && j > i
                && !neighbour
                && crate::geometry::distance::seg_seg_distance(a, b, c, d) <= eps
            {
                hit = Some(V2::new(c.x, c.y));
            }
        });
        if hit.is_some() {
            return hit;
        }
    }
    None
}
