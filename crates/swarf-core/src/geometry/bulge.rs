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
