//! Closed loops with line and arc segments, and regions: one outer loop with its islands.

use cavalier_contours::polyline::{PlineSource, PlineSourceMut, Polyline, seg_midpoint};
use serde::{Deserialize, Serialize};

use super::biarc::arc_from_bulge;
use super::{Bbox2, Tolerance, V2};

/// A polyline whose segments are lines or arcs, each vertex carrying the bulge
/// (`tan(sweep/4)`, positive counter-clockwise) of the segment that starts at it. This is
/// `cavalier_contours`' own type, so offsetting needs no conversion.
pub type Pline = Polyline<f64>;

/// The bounding box of a polyline, arcs included (arcs of any sweep).
pub fn pline_bbox(p: &Pline) -> Bbox2 {
    let mut b = Bbox2::EMPTY;
    for v in p.iter_vertexes() {
        b.add_point(V2::new(v.x, v.y));
    }
    for (v1, v2) in p.iter_segments() {
        if v1.bulge == 0.0 {
            continue;
        }
        let (a, e) = (V2::new(v1.x, v1.y), V2::new(v2.x, v2.y));
        if a == e {
            continue;
        }
        let (c, r, a0, sweep) = arc_from_bulge(a, e, v1.bulge);
        for k in 0..4 {
            let ang = f64::from(k) * std::f64::consts::FRAC_PI_2;
            let rel = ((ang - a0) * sweep.signum()).rem_euclid(std::f64::consts::TAU);
            if rel <= sweep.abs() {
                b.add_point(c + V2::from_angle(ang) * r);
            }
        }
    }
    b
}

/// The number of arc segments (non-zero bulge) of a polyline.
pub fn arc_count(p: &Pline) -> usize {
    p.iter_segments().filter(|(v, _)| v.bulge != 0.0).count()
}

/// The polyline traversed the other way.
pub fn reversed(p: &Pline) -> Pline {
    let mut r = p.clone();
    r.invert_direction_mut();
    r
}

/// A few points on the loop (segment midpoints spread along it), used to decide on which side
/// of another loop this one lies, by majority.
fn probe_points(p: &Pline) -> [V2; 3] {
    let n = p.segment_count().max(1);
    let mid = |i: usize| {
        let i = i % p.vertex_count();
        let j = p.next_wrapping_index(i);
        V2::from(seg_midpoint(p.at(i), p.at(j)))
    };
    [mid(0), mid(n / 3), mid(2 * n / 3)]
}

/// One machinable area: the material inside `outer` and outside every island.
/// `outer` is counter-clockwise, islands are clockwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Region {
    pub outer: Pline,
    pub islands: Vec<Pline>,
}

impl Region {
    /// Net area in mm² (outer minus islands).
    pub fn area(&self) -> f64 {
        self.outer.area() + self.islands.iter().map(PlineSource::area).sum::<f64>()
    }
    pub fn bbox(&self) -> Bbox2 {
        pline_bbox(&self.outer)
    }
    /// Whether `p` lies in the material of the region (inside outer, outside all islands).
    pub fn contains(&self, p: V2) -> bool {
        self.outer.winding_number(p.into()) != 0
            && self.islands.iter().all(|i| i.winding_number(p.into()) == 0)
    }
    pub fn arc_count(&self) -> usize {
        arc_count(&self.outer) + self.islands.iter().map(arc_count).sum::<usize>()
    }
}

/// Nests closed loops into regions by containment: a loop at even depth (0, 2, …) is the outer
/// boundary of a region, a loop at odd depth is an island of the region it lies in (so an island
/// inside a hole inside a part is a region of its own). Orientation is normalised: outer loops
/// counter-clockwise, islands clockwise. Loops must be closed, with non-zero area, and must not
/// cross each other; the result is ordered by decreasing outer area (ties by input order).
pub fn nest_loops(loops: Vec<Pline>, _tol: &Tolerance) -> Vec<Region> {
    let n = loops.len();
    let areas: Vec<f64> = loops.iter().map(|l| l.area().abs()).collect();
    let boxes: Vec<Bbox2> = loops.iter().map(pline_bbox).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| areas[b].total_cmp(&areas[a]).then(a.cmp(&b)));
    let mut parent: Vec<Option<usize>> = vec![None; n];
    let mut depth = vec![0usize; n];
    for (k, &i) in order.iter().enumerate() {
        let probes = probe_points(&loops[i]);
        // Candidates are larger loops; the smallest one containing this loop is its parent.
        for &j in order[..k].iter().rev() {
            if !boxes[j].contains_box(&boxes[i], 0.0) {
                continue;
            }
            let votes = probes
                .iter()
                .filter(|p| loops[j].winding_number((**p).into()) != 0)
                .count();
            if votes >= 2 {
                parent[i] = Some(j);
                depth[i] = depth[j] + 1;
                break;
            }
        }
    }
    let mut region_of = vec![usize::MAX; n];
    let mut regions: Vec<Region> = Vec::new();
    let mut loops: Vec<Option<Pline>> = loops.into_iter().map(Some).collect();
    for &i in &order {
        let mut l = loops[i].take().expect("each loop is used once");
        if depth[i].is_multiple_of(2) {
            if l.area() < 0.0 {
                l.invert_direction_mut();
            }
            region_of[i] = regions.len();
            regions.push(Region {
                outer: l,
                islands: Vec::new(),
            });
        } else {
            if l.area() > 0.0 {
                l.invert_direction_mut();
            }
            let p = parent[i].expect("odd depth has a parent");
            regions[region_of[p]].islands.push(l);
        }
    }
    regions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64, ccw: bool) -> Pline {
        let mut p = Pline::new_closed();
        let pts = [(x, y), (x + s, y), (x + s, y + s), (x, y + s)];
        if ccw {
            for (a, b) in pts {
                p.add(a, b, 0.0);
            }
        } else {
            for (a, b) in pts.iter().rev() {
                p.add(*a, *b, 0.0);
            }
        }
        p
    }

    fn circle(cx: f64, cy: f64, r: f64) -> Pline {
        let mut p = Pline::new_closed();
        p.add(cx - r, cy, 1.0);
        p.add(cx + r, cy, 1.0);
        p
    }

    #[test]
    fn bbox_of_big_arcs() {
        // A 270° arc from (1,0) counter-clockwise to (0,-1), centre at the origin.
        let mut p = Pline::new();
        p.add(1.0, 0.0, (3.0 * std::f64::consts::PI / 8.0).tan());
        p.add(0.0, -1.0, 0.0);
        let b = pline_bbox(&p);
        assert!((b.min.x + 1.0).abs() < 1e-12 && (b.max.y - 1.0).abs() < 1e-12);
        assert!((b.min.y + 1.0).abs() < 1e-12 && (b.max.x - 1.0).abs() < 1e-12);
        let c = pline_bbox(&circle(2.0, 3.0, 0.5));
        assert!((c.width() - 1.0).abs() < 1e-12 && (c.min.y - 2.5).abs() < 1e-12);
    }

    #[test]
    fn nesting_any_depth_and_orientation() {
        let loops = vec![
            circle(5.0, 5.0, 1.0),         // island inside the hole: depth 2
            square(0.0, 0.0, 10.0, false), // outer, given clockwise
            square(2.0, 2.0, 6.0, true),   // hole, given counter-clockwise
            square(20.0, 0.0, 1.0, true),  // separate part
        ];
        let regions = nest_loops(loops, &Tolerance::default());
        assert_eq!(regions.len(), 3);
        assert_eq!(regions[0].islands.len(), 1);
        assert!(regions[0].outer.area() > 0.0);
        assert!(regions[0].islands[0].area() < 0.0);
        assert!((regions[0].area() - 64.0).abs() < 1e-9);
        let small = regions.iter().find(|r| r.arc_count() == 2).unwrap();
        assert!((small.area() - std::f64::consts::PI).abs() < 1e-9);
        assert!(regions[0].contains(V2::new(1.0, 1.0)));
        assert!(!regions[0].contains(V2::new(3.0, 3.0)));
    }
}
