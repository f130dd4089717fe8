//! Segment math of bulge polylines (lines and arcs) in one place.

use cavalier_contours::polyline::PlineVertex;

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
