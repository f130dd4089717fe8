//! Geometry handed to `cavalier_contours` at a scale where its tests mean what they say.
//!
//! The library decides that two lines are parallel (and, sharing a point, overlapping) when the
//! perpendicular product of their direction vectors, a squared length, is below its position
//! epsilon, a length. At micro scale that is wrong by orders of magnitude: two 5 µm segments
//! of a sampled gear flank 3° apart have a product of 1.3e-6 mm², below a 1e-5 mm epsilon, so
//! every joint of the flank reads as an overlap, the offset's slices cannot be stitched, and
//! whole teeth vanish from a pocket without a word. (The offset is not wrong in a way the
//! distance validation sees: what is left keeps its distance; what is missing is missing.)
//!
//! The fix is a change of unit, not of geometry: loops are multiplied by a power of two (exact
//! in binary floating point, so scaling back returns the same numbers) chosen to make the
//! shortest segment at least one unit long, and the epsilons are multiplied with them. Then
//! "parallel" means a deviation below the epsilon over the segment's own length, at any size.

use cavalier_contours::polyline::{PlineCreation, PlineSource, PlineSourceMut, PlineVertex};

use super::Pline;

/// A power of two, at least 1, that makes the shortest segment (chord) of `loops` at least
/// one unit long; 2^40 at most (a 0.9 pm segment). Segments shorter than 1e-12 mm are
/// ignored (a repeated vertex says nothing about scale).
#[must_use]
pub fn scale_for<'a>(loops: impl IntoIterator<Item = &'a Pline>) -> f64 {
    let shortest = loops
        .into_iter()
        .flat_map(|p| p.iter_segments())
        .map(|(a, b)| (b.x - a.x).hypot(b.y - a.y))
        .filter(|l| *l > 1e-12)
        .fold(f64::INFINITY, f64::min);
    if !shortest.is_finite() || shortest >= 1.0 {
        return 1.0;
    }
    let k = (1.0 / shortest).log2().ceil().clamp(0.0, 40.0);
    // k is a small whole number; 2^k is exact.
    2f64.powi(k as i32)
}

/// `p` with every coordinate multiplied by `s` (bulges are ratios and stay).
#[must_use]
pub fn scaled(p: &Pline, s: f64) -> Pline {
    if s == 1.0 {
        return p.clone();
    }
    let mut q = Pline::with_capacity(p.vertex_count(), p.is_closed());
    for v in p.iter_vertexes() {
        q.add_vertex(PlineVertex::new(v.x * s, v.y * s, v.bulge));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pts: &[(f64, f64)], closed: bool) -> Pline {
        let mut p = Pline::with_capacity(pts.len(), closed);
        for &(x, y) in pts {
            p.add(x, y, 0.0);
        }
        p
    }

    #[test]
    fn scale_makes_the_shortest_segment_a_unit_and_is_exact() {
        let p = line(&[(0.0, 0.0), (0.003, 0.0), (0.003, 0.25)], false);
        let s = scale_for([&p]);
        assert_eq!(s, 512.0, "0.003 mm · 512 = 1.536 ≥ 1, · 256 < 1");
        let back = scaled(&scaled(&p, s), 1.0 / s);
        for (a, b) in p.iter_vertexes().zip(back.iter_vertexes()) {
            assert_eq!((a.x, a.y), (b.x, b.y), "a power of two scales exactly");
        }
        let big = line(&[(0.0, 0.0), (20.0, 0.0), (20.0, 15.0)], true);
        assert_eq!(scale_for([&big]), 1.0, "millimetre segments are left alone");
        let repeated = line(&[(0.0, 0.0), (0.0, 0.0), (2.0, 0.0)], false);
        assert_eq!(scale_for([&repeated]), 1.0, "a repeated vertex is no scale");
    }
}
