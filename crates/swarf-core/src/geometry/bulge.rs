//! Segment math of bulge polylines (lines and arcs) in one place, on `cavalier_contours`'
//! own `seg_*` functions where it has them: length, point at a fraction, tangents, an arc's
//! extreme points, arcs as chords within a tolerance, reversal, the closest point.

use cavalier_contours::polyline::{PlineVertex, seg_length};

use super::V2;
use super::biarc::arc_centre_radius;

/// Length of a bulge segment from `a` to `b` (`a.bulge` makes it an arc).
pub fn seg_len(a: PlineVertex<f64>, b: PlineVertex<f64>) -> f64 {
    seg_length(a, b)
}

/// Total length of an open path.
pub fn path_len(path: &[PlineVertex<f64>]) -> f64 {
    path.windows(2).map(|w| seg_len(w[0], w[1])).sum()
}

/// The point at fraction `f` of the segment's length.
pub fn seg_point(a: PlineVertex<f64>, b: PlineVertex<f64>, f: f64) -> V2 {
    let (pa, pb) = (V2::new(a.x, a.y), V2::new(b.x, b.y));
    if a.bulge == 0.0 {
        pa.lerp(pb, f)
    } else {
        let (c, r) = arc_centre_radius(pa, pb, a.bulge);
        let sweep = 4.0 * a.bulge.atan();
        let a0 = (pa - c).angle();
        c + V2::from_angle(a0 + sweep * f) * r
    }
}

/// The unit tangent directions at the start and at the end of a bulge segment.
pub fn seg_tangents(a: PlineVertex<f64>, b: PlineVertex<f64>) -> (V2, V2) {
    let chord = V2::new(b.x - a.x, b.y - a.y).normalized();
    let half = 2.0 * a.bulge.atan(); // half the sweep
    let rot = |v: V2, ang: f64| {
        let (s, c) = ang.sin_cos();
        V2::new(v.x * c - v.y * s, v.x * s + v.y * c)
    };
    (rot(chord, -half), rot(chord, half))
}

/// The quadrant points (the arc's extremes in X and Y) that an arc from `a` to `b` about
/// `centre` passes, counter-clockwise when `ccw`; an arc that ends where it starts is a full
/// turn. Decided with cross products, no angles.
pub fn arc_extremes(a: V2, b: V2, centre: V2, ccw: bool) -> impl Iterator<Item = V2> {
    let (sa, sb) = (a - centre, b - centre);
    let r = sa.length();
    let sg = if ccw { 1.0 } else { -1.0 };
    let long_way = sg * sa.cross(sb) < 0.0 || (sa.cross(sb) == 0.0 && sa.dot(sb) > 0.0);
    [
        V2::new(1.0, 0.0),
        V2::new(0.0, 1.0),
        V2::new(-1.0, 0.0),
        V2::new(0.0, -1.0),
    ]
    .into_iter()
    .filter(move |&d| {
        let after_a = sg * sa.cross(d) >= 0.0;
        let before_b = sg * d.cross(sb) >= 0.0;
        if long_way {
            after_a || before_b
        } else {
            after_a && before_b
        }
    })
    .map(move |d| centre + d * r)
}

/// How many equal chords an arc of radius `r` and `sweep` radians needs so that none deviates
/// from the arc by more than `tol_mm` (at least one; a quarter turn each when the radius is
/// within the tolerance).
pub fn arc_chords(r: f64, sweep: f64, tol_mm: f64) -> usize {
    let dth = if r > tol_mm {
        2.0 * (1.0 - tol_mm / r).clamp(-1.0, 1.0).acos()
    } else {
        std::f64::consts::FRAC_PI_2
    };
    ((sweep.abs() / dth).ceil() as usize).clamp(1, 100_000)
}

/// An open polyline reversed: vertex order reversed, bulges negated and shifted.
pub fn reverse_open(verts: &[PlineVertex<f64>]) -> Vec<PlineVertex<f64>> {
    let n = verts.len();
    (0..n)
        .map(|i| {
            let v = verts[n - 1 - i];
            let bulge = if i + 1 < n {
                -verts[n - 2 - i].bulge
            } else {
                0.0
            };
            PlineVertex::new(v.x, v.y, bulge)
        })
        .collect()
}

/// The point of a polyline closest to `p`, like `cavalier_contours`' `closest_point`, but
/// with ties decided by order: a later segment wins only when it is closer by more than
/// `tie_mm`. Points equally far from two segments (a tool centre between two walls, the
/// middle of a symmetric part) are then not decided by rounding, which differs with the scale.
pub fn closest_point_tied(
    l: &crate::geometry::Pline,
    p: crate::geometry::V2,
    tie_mm: f64,
) -> Option<cavalier_contours::polyline::ClosestPointResult<f64>> {
    use cavalier_contours::polyline::{ClosestPointResult, PlineSource, seg_closest_point};
    if l.vertex_count() == 0 {
        return None;
    }
    let q: cavalier_contours::core::math::Vector2<f64> = p.into();
    let mut best = ClosestPointResult {
        seg_start_index: 0,
        seg_point: l.at(0).pos(),
        distance: if l.vertex_count() == 1 {
            (l.at(0).pos() - q).length()
        } else {
            f64::INFINITY
        },
    };
    for (i, j) in l.iter_segment_indexes() {
        let c = seg_closest_point(l.at(i), l.at(j), q, tie_mm);
        let d = (c - q).length();
        if d < best.distance - tie_mm {
            best = ClosestPointResult {
                seg_start_index: i,
                seg_point: c,
                distance: d,
            };
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_math_of_a_half_circle() {
        // A half circle of radius 1 from (1, 0) to (-1, 0), counter-clockwise (bulge 1).
        let (a, b) = (
            PlineVertex::new(1.0, 0.0, 1.0),
            PlineVertex::new(-1.0, 0.0, 0.0),
        );
        assert!((seg_len(a, b) - std::f64::consts::PI).abs() < 1e-12);
        assert!(seg_point(a, b, 0.5).dist(V2::new(0.0, 1.0)) < 1e-12);
        let (t0, t1) = seg_tangents(a, b);
        assert!(t0.dist(V2::new(0.0, 1.0)) < 1e-12 && t1.dist(V2::new(0.0, -1.0)) < 1e-12);
        let ext: Vec<V2> =
            arc_extremes(V2::new(1.0, 0.0), V2::new(-1.0, 0.0), V2::default(), true).collect();
        assert!(ext.iter().any(|p| p.dist(V2::new(0.0, 1.0)) < 1e-12));
        assert!(!ext.iter().any(|p| p.dist(V2::new(0.0, -1.0)) < 1e-12));
        // Reversed, the same length and the tangents swapped and turned round.
        let r = reverse_open(&[a, b]);
        assert!((seg_len(r[0], r[1]) - std::f64::consts::PI).abs() < 1e-12);
        assert!(seg_tangents(r[0], r[1]).0.dist(t1 * -1.0) < 1e-12);
        // Chords: a quarter circle of radius 1 within 1e-4 needs 56 (each 1.62°).
        let n = arc_chords(1.0, std::f64::consts::FRAC_PI_2, 1e-4);
        let sag = 1.0 - (std::f64::consts::FRAC_PI_4 / n as f64).cos();
        assert!(sag <= 1e-4 && n == 56, "{n} {sag}");
    }
}
