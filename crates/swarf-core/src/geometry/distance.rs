//! Exact distances between segments (lines and arcs, as bulge segments) in the plane, for
//! checking a toolpath against a drawing without sampling.

use cavalier_contours::polyline::PlineVertex;

use super::V2;
use super::biarc::{arc_centre_radius, seg_distance};

#[derive(Clone, Copy)]
enum Seg {
    Line(V2, V2),
    /// Ends, centre, radius, bulge sign.
    Arc(V2, V2, V2, f64, f64),
}

fn make(a: PlineVertex<f64>, b: PlineVertex<f64>) -> Seg {
    let (pa, pb) = (V2::new(a.x, a.y), V2::new(b.x, b.y));
    if a.bulge == 0.0 || pa == pb {
        Seg::Line(pa, pb)
    } else {
        let (c, r) = arc_centre_radius(pa, pb, a.bulge);
        Seg::Arc(pa, pb, c, r, a.bulge)
    }
}

/// Whether the direction `q − c` lies within the arc's wedge.
fn in_wedge(a: V2, b: V2, c: V2, bulge: f64, q: V2) -> bool {
    let s = bulge.signum();
    let cq = q - c;
    let left_of_a = s * (a - c).cross(cq) >= 0.0;
    let right_of_b = s * cq.cross(b - c) >= 0.0;
    if bulge.abs() <= 1.0 {
        left_of_a && right_of_b
    } else {
        left_of_a || right_of_b
    }
}

fn lines_cross(a: V2, b: V2, c: V2, d: V2) -> bool {
    let (r, s) = (b - a, d - c);
    let den = r.cross(s);
    if den == 0.0 {
        return false;
    }
    let t = (c - a).cross(s) / den;
    let u = (c - a).cross(r) / den;
    (0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)
}

/// Distance between two bulge segments (0 when they touch or cross).
pub fn seg_seg_distance(
    a1: PlineVertex<f64>,
    b1: PlineVertex<f64>,
    a2: PlineVertex<f64>,
    b2: PlineVertex<f64>,
) -> f64 {
    let (s1, s2) = (make(a1, b1), make(a2, b2));
    // Ends against the other segment cover every case without a crossing, except the closest
    // points in the interior of an arc, handled below.
    let p = |v: PlineVertex<f64>| V2::new(v.x, v.y);
    let mut best = seg_distance(a2, b2, p(a1))
        .min(seg_distance(a2, b2, p(b1)))
        .min(seg_distance(a1, b1, p(a2)))
        .min(seg_distance(a1, b1, p(b2)));
    match (s1, s2) {
        (Seg::Line(a, b), Seg::Line(c, d)) => {
            if lines_cross(a, b, c, d) {
                return 0.0;
            }
        }
        (Seg::Line(a, b), Seg::Arc(c0, c1, c, r, bu))
        | (Seg::Arc(c0, c1, c, r, bu), Seg::Line(a, b)) => {
            // Crossing: line–circle intersections within the wedge.
            let d = b - a;
            let dd = d.dot(d);
            if dd > 0.0 {
                let w = a - c;
                let bq = w.dot(d) / dd;
                let cq = (w.dot(w) - r * r) / dd;
                let disc = bq * bq - cq;
                if disc >= 0.0 {
                    for t in [-bq - disc.sqrt(), -bq + disc.sqrt()] {
                        if (0.0..=1.0).contains(&t) && in_wedge(c0, c1, c, bu, a + d * t) {
                            return 0.0;
                        }
                    }
                }
                // The circle point nearest the line, where the perpendicular from the centre
                // meets the segment.
                let t = ((c - a).dot(d) / dd).clamp(0.0, 1.0);
                let foot = a + d * t;
                let off = foot - c;
                // (A line through the centre meets the circle where the crossing test looked.)
                let q = c + off.normalized() * r;
                if off.length() > 0.0 && in_wedge(c0, c1, c, bu, q) {
                    best = best.min(seg_distance(
                        PlineVertex::new(a.x, a.y, 0.0),
                        PlineVertex::new(b.x, b.y, 0.0),
                        q,
                    ));
                }
            }
        }
        (Seg::Arc(a0, a1e, c1, r1, bu1), Seg::Arc(b0, b1e, c2, r2, bu2)) => {
            let d = c2 - c1;
            let dl = d.length();
            // Crossings of the two circles.
            if dl > 0.0 && dl <= r1 + r2 && dl >= (r1 - r2).abs() {
                let x = (dl * dl + r1 * r1 - r2 * r2) / (2.0 * dl);
                let h = (r1 * r1 - x * x).max(0.0).sqrt();
                let u = d * (1.0 / dl);
                for q in [c1 + u * x + u.perp() * h, c1 + u * x - u.perp() * h] {
                    if in_wedge(a0, a1e, c1, bu1, q) && in_wedge(b0, b1e, c2, bu2, q) {
                        return 0.0;
                    }
                }
            }
            // Closest points along the line of centres.
            if dl > 0.0 {
                let u = d * (1.0 / dl);
                for s1 in [1.0, -1.0] {
                    for s2 in [1.0, -1.0] {
                        let q1 = c1 + u * (r1 * s1);
                        let q2 = c2 + u * (r2 * s2);
                        if in_wedge(a0, a1e, c1, bu1, q1) && in_wedge(b0, b1e, c2, bu2, q2) {
                            best = best.min(q1.dist(q2));
                        }
                    }
                }
            }
        }
    }
    best
}

/// The parameters `t` in (0, 1) where the line from `a` to `b` meets the bulge segment `c`–`d`
/// (a line or an arc), pushed onto `out`. Parallel lines meet nowhere here (an overlap is
/// touching, not crossing; the caller decides between crossings by the points between them).
pub fn line_crossings(a: V2, b: V2, c: PlineVertex<f64>, d: PlineVertex<f64>, out: &mut Vec<f64>) {
    let u = b - a;
    match make(c, d) {
        Seg::Line(p, q) => {
            let s = q - p;
            let den = u.cross(s);
            if den == 0.0 {
                return;
            }
            let t = (p - a).cross(s) / den;
            let w = (p - a).cross(u) / den;
            if (0.0..=1.0).contains(&w) && t > 0.0 && t < 1.0 {
                out.push(t);
            }
        }
        Seg::Arc(p, q, o, r, bulge) => {
            // |a + t·u − o|² = r²: t² u·u + 2t u·(a−o) + |a−o|² − r² = 0.
            let f = a - o;
            let (qa, qb, qc) = (u.dot(u), 2.0 * u.dot(f), f.dot(f) - r * r);
            if qa == 0.0 {
                return;
            }
            let disc = qb * qb - 4.0 * qa * qc;
            if disc < 0.0 {
                return;
            }
            let sq = disc.sqrt();
            // The numerically stable pair of roots.
            let k = -0.5 * (qb + qb.signum() * sq);
            let roots = if k == 0.0 {
                [0.0, 0.0]
            } else {
                [k / qa, qc / k]
            };
            for t in roots {
                if t > 0.0 && t < 1.0 && in_wedge(p, q, o, bulge, a + u * t) {
                    out.push(t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f64, y: f64, b: f64) -> PlineVertex<f64> {
        PlineVertex::new(x, y, b)
    }

    #[test]
    fn distances_between_lines_and_arcs() {
        // Parallel lines 1 apart; crossing lines.
        assert!(
            (seg_seg_distance(
                v(0.0, 0.0, 0.0),
                v(2.0, 0.0, 0.0),
                v(0.0, 1.0, 0.0),
                v(2.0, 1.0, 0.0)
            ) - 1.0)
                .abs()
                < 1e-12
        );
        assert_eq!(
            seg_seg_distance(
                v(0.0, 0.0, 0.0),
                v(2.0, 2.0, 0.0),
                v(0.0, 2.0, 0.0),
                v(2.0, 0.0, 0.0)
            ),
            0.0
        );
        // Upper half circle of radius 1 (from (1,0) to (-1,0) CCW) and the line y = 1.5.
        let (a, b) = (v(1.0, 0.0, 1.0), v(-1.0, 0.0, 0.0));
        assert!((seg_seg_distance(a, b, v(-3.0, 1.5, 0.0), v(3.0, 1.5, 0.0)) - 0.5).abs() < 1e-12);
        // The lower line y = −1.5 is nearest the arc's ends.
        assert!(
            (seg_seg_distance(a, b, v(-3.0, -1.5, 0.0), v(3.0, -1.5, 0.0)) - 1.5).abs() < 1e-12
        );
        // A line through the arc.
        assert_eq!(
            seg_seg_distance(a, b, v(0.0, -2.0, 0.0), v(0.0, 2.0, 0.0)),
            0.0
        );
        // Two concentric arcs of radius 1 and 2 facing the same way.
        let (c, d) = (v(2.0, 0.0, 1.0), v(-2.0, 0.0, 0.0));
        assert!((seg_seg_distance(a, b, c, d) - 1.0).abs() < 1e-12);
        // A line ending at an arc's centre is a radius away from it, not touching.
        let (g, h) = (v(20.0, 1.0, -0.414_213_562_373_095), v(19.0, 0.0, 0.0));
        let d = seg_seg_distance(v(8.0, 1.0, 0.0), v(19.0, 1.0, 0.0), g, h);
        assert!((d - 1.0).abs() < 1e-9, "{d}");
    }

    #[test]
    fn line_crossings_of_lines_and_arcs() {
        let v = |x: f64, y: f64, b: f64| PlineVertex::new(x, y, b);
        let mut ts = Vec::new();
        // A vertical line at x = 1 crosses the line from (0, 0) to (4, 0) at t = 0.25.
        line_crossings(
            V2::new(0.0, 0.0),
            V2::new(4.0, 0.0),
            v(1.0, -1.0, 0.0),
            v(1.0, 1.0, 0.0),
            &mut ts,
        );
        assert_eq!(ts, vec![0.25]);
        // A half circle of radius 1 about (2, 0), through (2, 1) (counter-clockwise from
        // (3, 0) to (1, 0)): the line y = 0.5 meets it twice, the line y = -0.5 not at all.
        ts.clear();
        line_crossings(
            V2::new(0.0, 0.5),
            V2::new(4.0, 0.5),
            v(3.0, 0.0, 1.0),
            v(1.0, 0.0, 0.0),
            &mut ts,
        );
        ts.sort_by(f64::total_cmp);
        let h = 0.75f64.sqrt();
        assert_eq!(ts.len(), 2, "{ts:?}");
        assert!((ts[0] - (2.0 - h) / 4.0).abs() < 1e-12 && (ts[1] - (2.0 + h) / 4.0).abs() < 1e-12);
        ts.clear();
        line_crossings(
            V2::new(0.0, -0.5),
            V2::new(4.0, -0.5),
            v(3.0, 0.0, 1.0),
            v(1.0, 0.0, 0.0),
            &mut ts,
        );
        assert!(ts.is_empty(), "{ts:?}");
        // Parallel lines and meetings at the ends do not count.
        line_crossings(
            V2::new(0.0, 0.0),
            V2::new(4.0, 0.0),
            v(0.0, 1.0, 0.0),
            v(4.0, 1.0, 0.0),
            &mut ts,
        );
        line_crossings(
            V2::new(0.0, 0.0),
            V2::new(4.0, 0.0),
            v(4.0, -1.0, 0.0),
            v(4.0, 1.0, 0.0),
            &mut ts,
        );
        assert!(ts.is_empty(), "{ts:?}");
    }
}
