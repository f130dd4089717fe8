//! Holes in a drawing: closed loops made only of arcs around one centre (CIRCLEs, two half
//! arcs, bulge-1 polylines, the circles an Excellon file becomes), grouped by diameter; and the
//! order to visit them in (nearest neighbour, then 2-opt and Or-opt moves over each hole's
//! nearest neighbours).

use cavalier_contours::polyline::PlineSource;

use crate::geometry::{Pline, Tolerance, V2};
use crate::import::Drawing;

/// Holes of one diameter.
#[derive(Debug, Clone, PartialEq)]
pub struct HoleGroup {
    pub diameter_mm: f64,
    pub centres: Vec<V2>,
}

/// The centre and diameter of a loop that is a circle: every segment an arc around one centre
/// with one radius, a full turn in all.
pub fn circle_of(p: &Pline, tol: &Tolerance) -> Option<(V2, f64)> {
    if !p.is_closed() || p.vertex_count() < 2 {
        return None;
    }
    let mut centre: Option<(V2, f64)> = None;
    let mut sweep = 0.0;
    for i in 0..p.vertex_count() {
        let a = p.at(i);
        let b = p.at((i + 1) % p.vertex_count());
        if a.bulge.abs() < 1e-12 {
            return None;
        }
        let (s, e) = (V2::new(a.x, a.y), V2::new(b.x, b.y));
        if s.dist(e) <= tol.equal_point_mm {
            return None;
        }
        let (c, r, _, _) = crate::geometry::biarc::arc_from_bulge(s, e, a.bulge);
        match centre {
            None => centre = Some((c, r)),
            Some((c0, r0)) => {
                if c.dist(c0) > tol.equal_point_mm || (r - r0).abs() > tol.equal_point_mm {
                    return None;
                }
            }
        }
        sweep += 4.0 * a.bulge.atan();
    }
    let (c, r) = centre?;
    ((sweep.abs() - std::f64::consts::TAU).abs() < 1e-6).then_some((c, 2.0 * r))
}

/// The drawing's holes by diameter (smallest first), diameters within
/// `tol.hole_diameter_mm` of a group's first one grouped; a hole drawn twice counts once.
pub fn find_holes(d: &Drawing, tol: &Tolerance) -> Vec<HoleGroup> {
    // A Gerber layer's round pads are copper, not holes: a board's holes come from its drill
    // (Excellon) file.
    if d.board_layer().is_some() {
        return Vec::new();
    }
    let mut all: Vec<(V2, f64)> = d
        .closed_loops
        .iter()
        .filter_map(|l| circle_of(l, tol))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut groups: Vec<HoleGroup> = Vec::new();
    let mut first_d = f64::NEG_INFINITY;
    for (c, dia) in all {
        match groups.last_mut() {
            Some(g) if dia - first_d <= tol.hole_diameter_mm => {
                if !g.centres.iter().any(|q| q.dist(c) <= tol.equal_point_mm) {
                    g.centres.push(c);
                }
                // The group's diameter is its mean.
                let n = g.centres.len() as f64;
                g.diameter_mm += (dia - g.diameter_mm) / n;
            }
            _ => {
                first_d = dia;
                groups.push(HoleGroup {
                    diameter_mm: dia,
                    centres: vec![c],
                });
            }
        }
    }
    groups
}

/// The groups within a diameter range (inclusive, with the grouping tolerance).
pub fn in_range<'g>(
    groups: &'g [HoleGroup],
    min_mm: f64,
    max_mm: Option<f64>,
    tol: &Tolerance,
) -> Vec<&'g HoleGroup> {
    let t = tol.hole_diameter_mm;
    groups
        .iter()
        .filter(|g| g.diameter_mm >= min_mm - t && max_mm.is_none_or(|m| g.diameter_mm <= m + t))
        .collect()
}

/// "0.8000 mm × 12, 1.0000 mm × 4": the groups for a message.
pub fn describe(groups: &[HoleGroup]) -> String {
    if groups.is_empty() {
        return "none".into();
    }
    groups
        .iter()
        .map(|g| format!("{:.4} mm x {}", g.diameter_mm, g.centres.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tools of `tools` that fit a group: a drill of its diameter (within the grouping
/// tolerance), and the largest end mill smaller than it (for helical boring).
pub fn fitting_tools<'t>(
    g: &HoleGroup,
    tools: &'t [crate::tool::Tool],
    tol: &Tolerance,
) -> (Option<&'t crate::tool::Tool>, Option<&'t crate::tool::Tool>) {
    use crate::tool::ToolShape;
    let grouping = tol.hole_diameter_mm;
    let drill = tools.iter().find(|t| {
        matches!(t.shape, ToolShape::Drill { .. })
            && (t.diameter_mm - g.diameter_mm).abs() <= grouping
    });
    let mill = tools
        .iter()
        .filter(|t| {
            matches!(
                t.shape,
                ToolShape::Flat | ToolShape::Bull { .. } | ToolShape::Ball
            ) && t.diameter_mm < g.diameter_mm - grouping
        })
        // The largest; of equal ones a flat end (a flat floor) before a bull and a ball.
        .max_by(|a, b| {
            let rank = |t: &crate::tool::Tool| match t.shape {
                ToolShape::Flat => 2,
                ToolShape::Bull { .. } => 1,
                _ => 0,
            };
            a.diameter_mm
                .total_cmp(&b.diameter_mm)
                .then(rank(a).cmp(&rank(b)))
        });
    (drill, mill)
}

/// Length of the way from `start` through `pts` in `order`.
pub fn travel(start: V2, pts: &[V2], order: &[usize]) -> f64 {
    let mut at = start;
    let mut len = 0.0;
    for &i in order {
        len += at.dist(pts[i]);
        at = pts[i];
    }
    len
}

/// How many nearest neighbours the improvement moves look at.
const NEIGHBOURS: usize = 8;

/// Each point's nearest others (up to [`NEIGHBOURS`]), from a uniform grid.
fn neighbours(pts: &[V2]) -> Vec<Vec<usize>> {
    let n = pts.len();
    let grid = Grid::new(pts);
    (0..n)
        .map(|i| {
            let mut best: Vec<(f64, usize)> = Vec::with_capacity(NEIGHBOURS + 1);
            let mut ring = 0;
            loop {
                grid.ring(pts[i], ring, |j| {
                    if j == i {
                        return;
                    }
                    // The nearest few, kept sorted (a crowded cell is scanned, not sorted).
                    let d = pts[i].dist(pts[j]);
                    if best.len() == NEIGHBOURS && best[NEIGHBOURS - 1].0 <= d {
                        return;
                    }
                    let at = best.partition_point(|b| b.0 <= d);
                    best.insert(at, (d, j));
                    best.truncate(NEIGHBOURS);
                });
                // Every point beyond this ring is at least `ring` cells away.
                let reach = ring as f64 * grid.cell;
                if (best.len() == NEIGHBOURS.min(n - 1) && best.last().is_none_or(|b| b.0 <= reach))
                    || ring > grid.cols.max(grid.rows)
                {
                    break;
                }
                ring += 1;
            }
            best.into_iter().map(|b| b.1).collect()
        })
        .collect()
}

struct Grid {
    min: V2,
    cell: f64,
    cols: usize,
    rows: usize,
    cells: Vec<Vec<usize>>,
}

impl Grid {
    fn new(pts: &[V2]) -> Self {
        let mut min = V2::new(f64::INFINITY, f64::INFINITY);
        let mut max = V2::new(f64::NEG_INFINITY, f64::NEG_INFINITY);
        for p in pts {
            min = V2::new(min.x.min(p.x), min.y.min(p.y));
            max = V2::new(max.x.max(p.x), max.y.max(p.y));
        }
        let (w, h) = ((max.x - min.x).max(1e-9), (max.y - min.y).max(1e-9));
        // About two points per cell, also where the points lie on a line (then the area says
        // nothing).
        let n = pts.len().max(1) as f64;
        let cell = (w * h * 2.0 / n)
            .sqrt()
            .max(w.max(h) * 2.0 / n)
            .max(w.max(h) / 4096.0);
        let cols = ((w / cell) as usize + 1).min(4096);
        let rows = ((h / cell) as usize + 1).min(4096);
        let mut cells = vec![Vec::new(); cols * rows];
        let mut g = Self {
            min,
            cell,
            cols,
            rows,
            cells: Vec::new(),
        };
        for (i, p) in pts.iter().enumerate() {
            let (c, r) = g.index(*p);
            cells[r * cols + c].push(i);
        }
        g.cells = cells;
        g
    }
    fn index(&self, p: V2) -> (usize, usize) {
        let c = (((p.x - self.min.x) / self.cell) as usize).min(self.cols - 1);
        let r = (((p.y - self.min.y) / self.cell) as usize).min(self.rows - 1);
        (c, r)
    }
    /// Calls `f` for the points in the cells `ring` cells around `p`'s: only the ring's
    /// edge, clipped to the grid (a whole square per ring made a thin grid's search quadratic
    /// in its rings: found by fuzzing).
    fn ring(&self, p: V2, ring: usize, mut f: impl FnMut(usize)) {
        let (c, r) = self.index(p);
        let (c, r, k) = (c as isize, r as isize, ring as isize);
        let (cols, rows) = (self.cols as isize, self.rows as isize);
        let mut cell = |rr: isize, cc: isize| {
            if rr >= 0 && cc >= 0 && rr < rows && cc < cols {
                for &i in &self.cells[rr as usize * self.cols + cc as usize] {
                    f(i);
                }
            }
        };
        if k == 0 {
            cell(r, c);
            return;
        }
        for cc in (c - k).max(0)..=(c + k).min(cols - 1) {
            cell(r - k, cc);
            cell(r + k, cc);
        }
        for cc in [c - k, c + k] {
            if cc >= 0 && cc < cols {
                for rr in (r - k + 1).max(0)..=(r + k - 1).min(rows - 1) {
                    cell(rr, cc);
                }
            }
        }
    }
}

/// An order to visit `pts` from `start` with short travel: nearest neighbour, then 2-opt
/// (reverse a stretch) and Or-opt (move one to three points elsewhere) moves among each
/// point's nearest neighbours until none shortens the way. The way is open (it ends at the
/// last point). Deterministic.
pub fn order(pts: &[V2], start: V2) -> Vec<usize> {
    let n = pts.len();
    if n <= 1 {
        return (0..n).collect();
    }
    let nb = neighbours(pts);
    // Nearest neighbour, each step searching outwards through the grid.
    let mut tour = Vec::with_capacity(n);
    let mut used = vec![false; n];
    let grid = Grid::new(pts);
    let mut at = start;
    for _ in 0..n {
        let mut best: Option<(f64, usize)> = None;
        let mut ring = 0;
        loop {
            grid.ring(at, ring, |j| {
                if !used[j] {
                    let d = at.dist(pts[j]);
                    if best.is_none_or(|b| d < b.0 || (d == b.0 && j < b.1)) {
                        best = Some((d, j));
                    }
                }
            });
            // Every point not yet scanned is `ring` cells from `at`'s cell at least; for a start
            // outside the grid (its cell clamped to the edge) too, as the point nearest to it
            // in the grid's box is in that cell.
            let reach = ring as f64 * grid.cell;
            if best.is_some_and(|b| b.0 <= reach) || ring > grid.cols.max(grid.rows) {
                break;
            }
            ring += 1;
        }
        let (_, j) = best.expect("an unused point remains");
        used[j] = true;
        tour.push(j);
        at = pts[j];
    }
    improve(pts, start, &mut tour, &nb);
    tour
}

/// 2-opt and Or-opt moves until none helps (bounded passes).
fn improve(pts: &[V2], start: V2, tour: &mut Vec<usize>, nb: &[Vec<usize>]) {
    let n = tour.len();
    // Position 0 of `way` is the start; the points follow.
    let p = |tour: &[usize], k: usize| if k == 0 { start } else { pts[tour[k - 1]] };
    let d = |a: V2, b: V2| a.dist(b);
    let mut pos = vec![0usize; n]; // point → index in `tour` + 1
    // A move must shorten the way by more than rounding can: lengths of a part metres across
    // carry errors of 1e-11 mm, and a threshold below them let Or-opt move a segment back and
    // forth for ever (found by fuzzing). Each pass also makes at most a bounded number of moves.
    let extent = pts
        .iter()
        .chain(std::iter::once(&start))
        .fold(0.0f64, |m, q| m.max(q.x.abs()).max(q.y.abs()));
    let eps = 1e-9 * extent.max(1.0);
    let mut budget = 64 * n + 1024;
    for _pass in 0..64 {
        let mut better = false;
        for (k, &t) in tour.iter().enumerate() {
            pos[t] = k + 1;
        }
        // 2-opt: edge (i, i+1) and (j, j+1) become (i, j) and (i+1, j+1): reverse i+1..=j.
        for i in 0..n {
            let a = p(tour, i);
            let b = p(tour, i + 1);
            // The start is no point: the first edge is only changed from the other end.
            let cands: Vec<usize> = if i == 0 {
                Vec::new()
            } else {
                nb[tour[i - 1]].iter().map(|&c| pos[c]).collect()
            };
            for j in cands {
                if j <= i + 1 {
                    continue;
                }
                let c = p(tour, j);
                let old = d(a, b) + if j < n { d(c, p(tour, j + 1)) } else { 0.0 };
                let new = d(a, c) + if j < n { d(b, p(tour, j + 1)) } else { 0.0 };
                if new < old - eps && budget > 0 {
                    budget -= 1;
                    tour[i..j].reverse();
                    for k in i..j {
                        pos[tour[k]] = k + 1;
                    }
                    better = true;
                    break;
                }
            }
        }
        // Or-opt: a stretch of 1–3 points moved between two neighbours elsewhere, either way
        // round.
        for len in 1..=3usize {
            let mut s = 1;
            while s + len <= n + 1 && len < n {
                let e = s + len - 1; // the stretch is way[s..=e]
                let before = p(tour, s - 1);
                let after = (e < n).then(|| p(tour, e + 1));
                let (first, last) = (p(tour, s), p(tour, e));
                let gain = d(before, first) + after.map_or(0.0, |q| d(last, q))
                    - after.map_or(0.0, |q| d(before, q));
                let mut done = false;
                for &c in &nb[tour[s - 1]] {
                    let k = pos[c]; // insert between way[k] and way[k+1]
                    if k + 1 >= s && k <= e {
                        continue;
                    }
                    let ck = p(tour, k);
                    let next = (k < n).then(|| p(tour, k + 1));
                    let base = next.map_or(0.0, |q| d(ck, q));
                    let fwd = d(ck, first) + next.map_or(0.0, |q| d(last, q)) - base;
                    let rev = d(ck, last) + next.map_or(0.0, |q| d(first, q)) - base;
                    if fwd.min(rev) < gain - eps && budget > 0 {
                        budget -= 1;
                        let mut seg: Vec<usize> = tour.drain(s - 1..e).collect();
                        if rev < fwd {
                            seg.reverse();
                        }
                        let at = if k > e { k - len } else { k };
                        tour.splice(at..at, seg);
                        for (q, &t) in tour.iter().enumerate() {
                            pos[t] = q + 1;
                        }
                        better = true;
                        done = true;
                        break;
                    }
                }
                if !done {
                    s += 1;
                }
            }
        }
        if !better {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::excellon::circle_loop;
    use cavalier_contours::polyline::{PlineSourceMut, PlineVertex};

    fn rng(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn circles_are_holes_and_group_by_diameter() {
        let tol = Tolerance::default();
        let c = circle_loop(V2::new(1.0, 2.0), 0.25);
        assert_eq!(circle_of(&c, &tol), Some((V2::new(1.0, 2.0), 0.5)));
        // A rounded slot is no hole.
        let mut slot = Pline::new_closed();
        slot.add_vertex(PlineVertex::new(0.0, 0.0, 0.0));
        slot.add_vertex(PlineVertex::new(1.0, 0.0, 1.0));
        slot.add_vertex(PlineVertex::new(1.0, 1.0, 0.0));
        slot.add_vertex(PlineVertex::new(0.0, 1.0, 1.0));
        assert_eq!(circle_of(&slot, &tol), None);
        // Four quarter arcs around one centre are a hole too.
        let mut q = Pline::new_closed();
        let b = (std::f64::consts::FRAC_PI_8).tan();
        for (x, y) in [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)] {
            q.add_vertex(PlineVertex::new(x, y, b));
        }
        let (cq, dq) = circle_of(&q, &tol).unwrap();
        assert!(cq.length() < 1e-12 && (dq - 2.0).abs() < 1e-12);
    }

    #[test]
    #[allow(clippy::unreadable_literal)] // coordinates as the fuzzed file gave them
    fn ordering_beats_the_input_order_and_visits_each_hole_once() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for n in [2usize, 3, 10, 57, 400, 5000] {
            let pts: Vec<V2> = (0..n)
                .map(|_| V2::new(rng(&mut seed) * 50.0, rng(&mut seed) * 30.0))
                .collect();
            let start = V2::new(0.0, 0.0);
            let o = order(&pts, start);
            let mut seen = o.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n {n}: each hole once");
            let input: Vec<usize> = (0..n).collect();
            let (ours, theirs) = (travel(start, &pts, &o), travel(start, &pts, &input));
            assert!(ours <= theirs + 1e-9, "n {n}: {ours} vs input {theirs}");
            if n >= 57 {
                assert!(ours < 0.5 * theirs, "n {n}: {ours} vs input {theirs}");
            }
        }
        // Found by fuzzing: holes on one line far from the start took minutes (the search
        // grew square rings over a grid one cell wide), and holes 5e-13 mm apart on a part 65 m
        // across made Or-opt move them back and forth for ever. Lines, a crowd with an outlier
        // far away, and holes drawn twice are ordered too.
        let mut cases: Vec<Vec<V2>> = vec![
            vec![V2::new(3.78, 25.97), V2::new(3.78, 0.31)],
            [
                (8.85952, 2.09042),
                (8.85952, 17.07642),
                (15.20952, 24.69642),
                (8.85952, 8.186419999999998),
                (-65639.91952, 5.64642),
                (-92.47632, 39.499539999999996),
                (31.49854, 48.99914),
                (29.17952, 5.64642),
                (24.09952, 1.83642),
                (29.17952, 0.762),
                (3.7795199999999993, 25.96642),
                (0.37592000000000003, 25.96642),
                (19.01952000000165, 18.346420000003675),
                (2.91591999999946, 18.346420000003675),
                (31.498540000000503, 48.99914000000367),
                (29.179519999997865, 5.646420000003673),
                (24.099520000003395, 1.8364200000036728),
                (29.179519999997865, 0.7620000000036727),
                (29.179519999997865, 8.186420000003672),
                (36.799520000000484, 13.266420000003672),
                (-65639.91952, 5.646420000003673),
            ]
            .iter()
            .map(|&(x, y)| V2::new(x, y))
            .collect(),
            (0..2000)
                .map(|i| V2::new(5.0, f64::from(i) * 0.01))
                .collect(),
        ];
        let mut crowd: Vec<V2> = (0..3000)
            .map(|_| V2::new(rng(&mut seed) * 1e-3, rng(&mut seed) * 1e-3))
            .collect();
        crowd.push(V2::new(900.0, -700.0));
        crowd.extend_from_within(..10);
        cases.push(crowd);
        for pts in cases {
            let o = order(&pts, V2::new(0.0, 0.0));
            let mut seen = o.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..pts.len()).collect::<Vec<_>>());
        }
        // A grid of holes is visited row by row: the shortest way.
        let pts: Vec<V2> = (0..100)
            .map(|i| V2::new(f64::from(i % 10), f64::from(i / 10)))
            .collect();
        let o = order(&pts, V2::new(0.0, 0.0));
        assert!((travel(V2::new(0.0, 0.0), &pts, &o) - 99.0).abs() < 1e-9);
    }
}
