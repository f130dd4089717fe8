//! Parts made in code, for benchmarks and tests: the same geometry everywhere it is measured.

use cavalier_contours::polyline::PlineSourceMut;

use crate::geometry::{Pline, Region};

fn circle(cx: f64, cy: f64, r: f64, ccw: bool) -> Pline {
    let b = if ccw { 1.0 } else { -1.0 };
    let mut p = Pline::new_closed();
    p.add(cx + r, cy, b);
    p.add(cx - r, cy, b);
    p
}

/// The budget part of DESIGN.md: a 20 × 15 mm pocket with 1 mm corner radii and two islands of
/// 3 mm diameter.
pub fn pocket_20x15_two_islands() -> Region {
    let (w, h, r) = (20.0, 15.0, 1.0);
    let b = (std::f64::consts::FRAC_PI_2 / 4.0).tan();
    let mut o = Pline::new_closed();
    o.add(r, 0.0, 0.0);
    o.add(w - r, 0.0, b);
    o.add(w, r, 0.0);
    o.add(w, h - r, b);
    o.add(w - r, h, 0.0);
    o.add(r, h, b);
    o.add(0.0, h - r, 0.0);
    o.add(0.0, r, b);
    Region {
        outer: o,
        islands: vec![circle(6.0, 7.5, 1.5, false), circle(14.0, 7.5, 1.5, false)],
    }
}
