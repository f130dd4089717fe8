//! Fitting smooth curves with arcs (biarcs) within a given tolerance.
//!
//! Splines and ellipses never reach the toolpath as thousands of lines: each piece of the curve
//! is replaced by two tangent-continuous arcs that match its end points and end tangents, and
//! pieces are halved until every sampled point of the curve lies within the path tolerance of the
//! arcs. The result is G1-continuous and needs few arcs (the error of a biarc falls with the cube
//! of the piece length).

use cavalier_contours::polyline::PlineVertex;

use super::{Curve, V2};

/// What a fit produced.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FitReport {
    /// Segments written.
    pub segments: usize,
    /// Largest distance measured between the curve and the fitted arcs, mm.
    pub max_error_mm: f64,
    /// False when some piece could not reach the tolerance within the subdivision limit.
    pub converged: bool,
}

/// The fit aims at this fraction of the tolerance at the samples, so that the deviation between
/// samples (which the samples cannot see) still stays within the tolerance.
const SAMPLING_MARGIN: f64 = 0.85;
/// Subdivision limit: 2^40 pieces is beyond any drawing.
const MAX_DEPTH: u32 = 40;
/// Most segments one curve may produce; beyond it the rest is written as chords and the fit
/// reported as not converged (a damaged file must not exhaust memory).
const MAX_SEGMENTS: usize = 1_000_000;

/// Centre, radius, start angle and signed sweep (rad, positive counter-clockwise) of the arc
/// from `a` to `b` with the given non-zero bulge.
pub fn arc_from_bulge(a: V2, b: V2, bulge: f64) -> (V2, f64, f64, f64) {
    let sweep = 4.0 * bulge.atan();
    let chord = b - a;
    let half = chord.length() * 0.5;
    let r = half / (sweep * 0.5).sin().abs();
    // The centre lies off the chord midpoint by r·cos(sweep/2), to the left for
    // counter-clockwise arcs of less than a half circle.
    let h = r * (sweep * 0.5).cos();
    let n = chord.normalized().perp();
    let c = (a + b) * 0.5 + n * (h * sweep.signum());
    (c, r, (a - c).angle(), sweep)
}

/// Centre and radius of the arc from `a` to `b` with the given non-zero bulge, without
/// trigonometry: the centre lies off the chord midpoint by `(1 − b²)/(4b)` chord lengths.
#[inline]
pub fn arc_centre_radius(a: V2, b: V2, bulge: f64) -> (V2, f64) {
    let d = b - a;
    let c = (a + b) * 0.5 + d.perp() * ((1.0 - bulge * bulge) / (4.0 * bulge));
    let r = d.length() * (1.0 + bulge * bulge) / (4.0 * bulge.abs());
    (c, r)
}

/// Distance from `q` to the segment that starts at `v1` (with its bulge) and ends at `v2`.
pub fn seg_distance(v1: PlineVertex<f64>, v2: PlineVertex<f64>, q: V2) -> f64 {
    let a = V2::new(v1.x, v1.y);
    let b = V2::new(v2.x, v2.y);
    let ab = b - a;
    let l2 = ab.dot(ab);
    if v1.bulge == 0.0 || l2 == 0.0 {
        let t = if l2 > 0.0 {
            ((q - a).dot(ab) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        return q.dist(a + ab * t);
    }
    let (c, r) = arc_centre_radius(a, b, v1.bulge);
    // Wedge test with cross products (robust for nearly straight arcs of huge radius, where
    // angles lose their precision): for a counter-clockwise sweep up to 180° (|bulge| <= 1), q
    // is in the wedge when it is left of c→a and right of c→b; beyond 180° the wedge is the
    // complement of the opposite one.
    let s = v1.bulge.signum();
    let cq = q - c;
    let left_of_a = s * (a - c).cross(cq) >= 0.0;
    let right_of_b = s * cq.cross(b - c) >= 0.0;
    let inside = if v1.bulge.abs() <= 1.0 {
        left_of_a && right_of_b
    } else {
        left_of_a || right_of_b
    };
    if inside {
        (cq.length() - r).abs()
    } else {
        q.dist(a).min(q.dist(b))
    }
}

/// Bulge of the arc that leaves `a` with unit tangent `t` and ends at `b`.
fn bulge_from_tangent(a: V2, t: V2, b: V2) -> f64 {
    let c = b - a;
    let theta = t.cross(c).atan2(t.dot(c));
    (theta * 0.5).tan()
}

/// The two arcs between `p0` (tangent `t0`) and `p1` (tangent `t1`), as
/// `(join point, bulge of the first arc, bulge of the second arc)`. `None` when no sensible
/// biarc exists (the piece must be split).
fn biarc(p0: V2, t0: V2, p1: V2, t1: V2, eq: f64) -> Option<(V2, f64, f64)> {
    let v = p1 - p0;
    let vv = v.dot(v);
    if vv <= eq * eq {
        return None;
    }
    let t = t0 + t1;
    let vt = v.dot(t);
    let denom = 2.0 * (1.0 - t0.dot(t1));
    let d = if denom.abs() < 1e-12 {
        let vt1 = v.dot(t1);
        if vt1.abs() < 1e-12 * vv.sqrt() {
            return None;
        }
        vv / (4.0 * vt1)
    } else {
        let disc = vt * vt + denom * vv;
        (-vt + disc.max(0.0).sqrt()) / denom
    };
    if !(d.is_finite() && d > 0.0) {
        return None;
    }
    let j = ((p0 + t0 * d) + (p1 - t1 * d)) * 0.5;
    let b1 = bulge_from_tangent(p0, t0, j);
    let b2 = -bulge_from_tangent(p1, -t1, j);
    // Arcs of more than 180° mean the piece is too long for one biarc.
    if !(b1.abs() <= 1.0 && b2.abs() <= 1.0) {
        return None;
    }
    Some((j, b1, b2))
}

fn unit_tangent(curve: &dyn Curve, t: f64, span: f64, forward: bool) -> V2 {
    let d = if forward {
        curve.derivative(t)
    } else {
        curve.derivative_before(t)
    };
    let p = curve.point(t);
    let l = d.length();
    // A vanishing derivative (repeated control points, cusp): take the secant direction
    // instead.
    let scale = (curve.point(t + if forward { span } else { -span }) - p).length();
    if l * span > 1e-9 * scale && l.is_finite() {
        return d * (1.0 / l);
    }
    let h = span * 1e-6;
    if forward {
        (curve.point(t + h) - p).normalized()
    } else {
        (p - curve.point(t - h)).normalized()
    }
}

/// Appends arcs that follow `curve` within `tol_mm` to `out`.
///
/// `out` holds bulge vertices of an open polyline; when it is empty the curve's start point is
/// pushed first, otherwise its last vertex is taken to be the curve's start. The last vertex
/// pushed is the curve's end point, with bulge 0. Points closer than `eq_mm` are one point.
pub fn fit_curve(
    curve: &dyn Curve,
    tol_mm: f64,
    eq_mm: f64,
    out: &mut Vec<PlineVertex<f64>>,
) -> FitReport {
    let (a, b) = curve.domain();
    let mut params = vec![a];
    params.extend(curve.breaks());
    params.push(b);
    if out.is_empty() {
        let p = curve.point(a);
        out.push(PlineVertex::new(p.x, p.y, 0.0));
    }
    let mut rep = FitReport {
        converged: true,
        ..FitReport::default()
    };
    let tol_mm = tol_mm * SAMPLING_MARGIN;
    for w in params.windows(2) {
        if w[1] > w[0] {
            fit_piece(curve, w[0], w[1], tol_mm, eq_mm, 0, out, &mut rep);
        }
    }
    // Snap the end exactly onto the curve's end point.
    let end = curve.point(b);
    if let Some(last) = out.last_mut() {
        last.x = end.x;
        last.y = end.y;
        last.bulge = 0.0;
    }
    rep
}

#[allow(clippy::too_many_arguments)]
fn fit_piece(
    curve: &dyn Curve,
    t0: f64,
    t1: f64,
    tol: f64,
    eq: f64,
    depth: u32,
    out: &mut Vec<PlineVertex<f64>>,
    rep: &mut FitReport,
) {
    let span = t1 - t0;
    let p0 = curve.point(t0);
    let p1 = curve.point(t1);
    let tm = 0.5 * (t0 + t1);
    if depth >= MAX_DEPTH || tm <= t0 || tm >= t1 || rep.segments >= MAX_SEGMENTS {
        // Cannot split further: a straight segment, and say so if it misses.
        let err = sample_error(curve, t0, t1, p0, 0.0, p1, None);
        rep.max_error_mm = rep.max_error_mm.max(err);
        if err > tol {
            rep.converged = false;
        }
        push_seg(out, 0.0, p1, eq, rep);
        return;
    }
    // A straight piece is a line, whatever its parametrisation. On a smooth curve the middle
    // point alone rules most pieces out: a lower bound of the error for one evaluation instead
    // of a few hundred. (A polyline's error is measured at its vertices only, so there the
    // middle, on a chord, bounds nothing.)
    let pm = curve.point(tm);
    let quick = |b1: f64, second: Option<(V2, f64)>| {
        Some(fit_distance(p0, b1, p1, second, pm)).filter(|&d| curve.is_smooth() && d > tol)
    };
    let line_err =
        quick(0.0, None).unwrap_or_else(|| sample_error(curve, t0, t1, p0, 0.0, p1, None));
    if line_err <= tol && p0.dist(p1) > eq {
        rep.max_error_mm = rep.max_error_mm.max(line_err);
        push_seg(out, 0.0, p1, eq, rep);
        return;
    }
    // One arc through the ends and the middle (for polylines, whose vertices are all checked;
    // a smooth curve could bulge away between samples, and its biarcs fit better anyway).
    let tm_split = curve.split_param(t0, t1);
    if !curve.is_smooth() && p0.dist(p1) > eq && tm_split > t0 && tm_split < t1 {
        let b = bulge_through(p0, curve.point(tm_split), p1);
        if b.abs() <= 1.0 {
            let err = sample_error(curve, t0, t1, p0, b, p1, None);
            if err <= tol {
                rep.max_error_mm = rep.max_error_mm.max(err);
                push_seg(out, b, p1, eq, rep);
                return;
            }
        }
    }
    let biarc_fit = if curve.is_smooth() {
        let ta = unit_tangent(curve, t0, span, true);
        let tb = unit_tangent(curve, t1, span, false);
        biarc(p0, ta, p1, tb, eq)
    } else {
        None
    };
    if let Some((j, b1, b2)) = biarc_fit {
        let err = quick(b1, Some((j, b2)))
            .unwrap_or_else(|| sample_error(curve, t0, t1, p0, b1, p1, Some((j, b2))));
        if err <= tol {
            rep.max_error_mm = rep.max_error_mm.max(err);
            push_seg(out, b1, j, eq, rep);
            push_seg(out, b2, p1, eq, rep);
            return;
        }
    } else if p0.dist(p1) <= eq {
        // A piece whose ends coincide: either a tiny piece (skip) or a loop (split).
        if pm.dist(p0) <= eq {
            return;
        }
    }
    let tm = if tm_split > t0 && tm_split < t1 {
        tm_split
    } else {
        tm
    };
    fit_piece(curve, t0, tm, tol, eq, depth + 1, out, rep);
    fit_piece(curve, tm, t1, tol, eq, depth + 1, out, rep);
}

/// Bulge of the arc from `a` to `c` through `b` (0 when the three are collinear).
pub fn bulge_through(a: V2, b: V2, c: V2) -> f64 {
    let (ba, bc) = (a - b, c - b);
    let inscribed = ba.cross(bc).abs().atan2(ba.dot(bc));
    let side = (c - a).cross(b - a);
    if side == 0.0 {
        return 0.0;
    }
    // The arc through b sweeps 2π − 2·(angle at b); counter-clockwise when b is right of a→c.
    let mag = ((std::f64::consts::PI - inscribed) * 0.5).tan();
    if side < 0.0 { mag } else { -mag }
}

/// Fits a polyline (a mesh slice; closed when its last point equals its first) with lines and
/// arcs that pass within `tol_mm` of every vertex, never rounding a corner sharper than
/// `corner_angle_deg`. The same fitter as for splines, on a [`PolylineCurve`].
pub fn fit_polyline(
    pts: &[V2],
    corner_angle_deg: f64,
    tol_mm: f64,
    eq_mm: f64,
) -> Vec<PlineVertex<f64>> {
    let mut out = Vec::new();
    if let Some(c) = super::PolylineCurve::new(pts.to_vec(), corner_angle_deg) {
        fit_curve(&c, tol_mm, eq_mm, &mut out);
    }
    out
}

/// Extra samples in a piece's first and last sample gaps (see [`sample_error`]).
const END_SCAN: usize = 16;

/// Largest distance of the curve between `t0` and `t1` from the one or two arcs: measured at
/// the samples, then maximised around the worst one (a turn-around whose tip falls between
/// two samples would otherwise be missed; found by CI's property test).
fn sample_error(
    curve: &dyn Curve,
    t0: f64,
    t1: f64,
    p0: V2,
    b1: f64,
    p1: V2,
    second: Option<(V2, f64)>,
) -> f64 {
    let dist = |t: f64| fit_distance(p0, b1, p1, second, curve.point(t));
    // A polyline (mesh slice) is fitted through its vertices, which are its samples: between
    // them lie chords, not the surface, so only smooth curves are searched between samples.
    let smooth = curve.is_smooth();
    if !smooth {
        return curve
            .sample_params(t0, t1)
            .into_iter()
            .map(dist)
            .fold(0.0, f64::max);
    }
    // Samples (more where the speed varies), the ends, and a fine scan of the first and last
    // gaps: a curve that turns around just past a piece's end overshoots it there, and the
    // distance is not unimodal in that gap (it rises to the tip, falls, and rises again).
    let ts = refined_samples(curve, t0, t1);
    let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
        return 0.0;
    };
    let mut grid = Vec::with_capacity(ts.len() + 2 * END_SCAN + 2);
    grid.push(t0);
    grid.extend((1..END_SCAN).map(|k| t0 + (first - t0) * k as f64 / END_SCAN as f64));
    grid.extend(ts.iter().copied());
    grid.extend((1..END_SCAN).map(|k| last + (t1 - last) * k as f64 / END_SCAN as f64));
    grid.push(t1);
    grid.dedup();
    let d: Vec<f64> = grid.iter().map(|&t| dist(t)).collect();
    let mut err = d.iter().copied().fold(0.0, f64::max);
    if !err.is_finite() {
        return err;
    }
    // Golden-section search around each local maximum of the samples (the largest few): the
    // true maximum lies between a local maximum's neighbours.
    let golden = |mut lo: f64, mut hi: f64| {
        const G: f64 = 0.618_033_988_749_895;
        let mut x1 = hi - G * (hi - lo);
        let mut x2 = lo + G * (hi - lo);
        let (mut f1, mut f2) = (dist(x1), dist(x2));
        for _ in 0..24 {
            if f1 > f2 {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - G * (hi - lo);
                f1 = dist(x1);
            } else {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + G * (hi - lo);
                f2 = dist(x2);
            }
        }
        f1.max(f2)
    };
    let mut peaks: Vec<usize> = (1..grid.len().saturating_sub(1))
        .filter(|&k| d[k] >= d[k - 1] && d[k] >= d[k + 1] && d[k] > 0.0)
        .collect();
    peaks.sort_by(|&a, &b| d[b].total_cmp(&d[a]));
    for &k in peaks.iter().take(8) {
        err = err.max(golden(grid[k - 1], grid[k + 1]));
    }
    err
}

/// Distance of `q` from the arc (bulge `b1`) from `p0` to `p1`, or from the biarc through the
/// junction of `second`; infinite when not a number.
fn fit_distance(p0: V2, b1: f64, p1: V2, second: Option<(V2, f64)>, q: V2) -> f64 {
    let d = match second {
        None => seg_distance(
            PlineVertex::new(p0.x, p0.y, b1),
            PlineVertex::new(p1.x, p1.y, 0.0),
            q,
        ),
        Some((j, b2)) => seg_distance(
            PlineVertex::new(p0.x, p0.y, b1),
            PlineVertex::new(j.x, j.y, 0.0),
            q,
        )
        .min(seg_distance(
            PlineVertex::new(j.x, j.y, b2),
            PlineVertex::new(p1.x, p1.y, 0.0),
            q,
        )),
    };
    if d.is_finite() { d } else { f64::INFINITY }
}

/// The curve's sample parameters, with more where its speed varies: where repeated control
/// points stall the parametrisation, even steps in the parameter bunch the samples in the
/// slow part and leave the fast part (often the tightest turn) unmeasured. Gaps between
/// consecutive samples much longer than the average are split until they are not.
fn refined_samples(curve: &dyn Curve, t0: f64, t1: f64) -> Vec<f64> {
    let mut ts = curve.sample_params(t0, t1);
    for _ in 0..4 {
        let mut all = Vec::with_capacity(ts.len() + 2);
        all.push(t0);
        all.extend_from_slice(&ts);
        all.push(t1);
        let pts: Vec<V2> = all.iter().map(|&t| curve.point(t)).collect();
        let gaps: Vec<f64> = pts.windows(2).map(|w| w[0].dist(w[1])).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        if mean <= 0.0 || !mean.is_finite() {
            break;
        }
        let mut added = false;
        let mut next = Vec::with_capacity(ts.len() * 2);
        for (i, g) in gaps.iter().enumerate() {
            if i > 0 {
                next.push(all[i]);
            }
            if *g > 2.0 * mean {
                for k in 1..4 {
                    next.push(all[i] + (all[i + 1] - all[i]) * f64::from(k) / 4.0);
                }
                added = true;
            }
        }
        ts = next;
        if !added {
            break;
        }
    }
    ts
}

fn push_seg(out: &mut Vec<PlineVertex<f64>>, bulge: f64, end: V2, eq: f64, rep: &mut FitReport) {
    let last = out.last_mut().expect("fit output starts with a vertex");
    if V2::new(last.x, last.y).dist(end) <= eq {
        return;
    }
    last.bulge = bulge;
    out.push(PlineVertex::new(end.x, end.y, 0.0));
    rep.segments += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{EllipseArc, Nurbs};

    fn max_dist_to_fit(curve: &dyn Curve, verts: &[PlineVertex<f64>], n: usize) -> f64 {
        let (a, b) = curve.domain();
        let mut worst: f64 = 0.0;
        for i in 0..=n {
            let q = curve.point(a + (b - a) * i as f64 / n as f64);
            let d = verts
                .windows(2)
                .map(|w| seg_distance(w[0], w[1], q))
                .fold(f64::INFINITY, f64::min);
            worst = worst.max(d);
        }
        worst
    }

    #[test]
    fn ellipse_fits_within_tolerance_with_few_arcs() {
        let e = EllipseArc {
            centre: V2::new(1.0, 2.0),
            u: V2::new(3.0, 0.0),
            v: V2::new(0.0, 1.0),
            t0: 0.0,
            t1: std::f64::consts::TAU,
        };
        let mut out = Vec::new();
        let rep = fit_curve(&e, 1e-4, 1e-6, &mut out);
        assert!(rep.converged);
        assert!(rep.segments < 200, "{} segments", rep.segments);
        assert!(max_dist_to_fit(&e, &out, 5000) <= 1.05e-4);
        let first = out[0];
        let last = out[out.len() - 1];
        assert!((first.x - last.x).abs() < 1e-12 && (first.y - last.y).abs() < 1e-12);
    }

    #[test]
    fn circle_as_rational_spline_becomes_few_arcs() {
        let w = std::f64::consts::FRAC_1_SQRT_2;
        let c = Nurbs::new(
            2,
            vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            &[V2::new(1.0, 0.0), V2::new(1.0, 1.0), V2::new(0.0, 1.0)],
            &[1.0, w, 1.0],
        )
        .unwrap();
        let mut out = Vec::new();
        let rep = fit_curve(&c, 1e-4, 1e-6, &mut out);
        assert!(rep.segments <= 2, "{rep:?}");
        assert!(rep.max_error_mm < 1e-9);
    }
}

#[cfg(test)]
mod distance_tests {
    use super::*;

    #[test]
    fn distance_to_arcs_of_any_sweep_and_nearly_straight_ones() {
        // Half circle from (1,0) to (-1,0) counter-clockwise through (0,1).
        let a = PlineVertex::new(1.0, 0.0, 1.0);
        let b = PlineVertex::new(-1.0, 0.0, 0.0);
        assert!((seg_distance(a, b, V2::new(0.0, 2.0)) - 1.0).abs() < 1e-12);
        assert!((seg_distance(a, b, V2::new(0.0, -2.0)) - 5f64.sqrt()).abs() < 1e-12);
        // 270° arc from (1,0) to (0,-1): (0,-2) is beyond the end, (-2,0) on the arc side.
        let a = PlineVertex::new(1.0, 0.0, (3.0 * std::f64::consts::PI / 8.0).tan());
        let b = PlineVertex::new(0.0, -1.0, 0.0);
        assert!((seg_distance(a, b, V2::new(-2.0, 0.0)) - 1.0).abs() < 1e-12);
        assert!((seg_distance(a, b, V2::new(0.0, -2.0)) - 1.0).abs() < 1e-12);
        assert!((seg_distance(a, b, V2::new(2.0, -2.0)) - 5f64.sqrt()).abs() < 1e-12);
        // A nearly straight arc behaves like its chord.
        let a = PlineVertex::new(0.0, 0.0, 1e-13);
        let b = PlineVertex::new(10.0, 0.0, 0.0);
        assert!((seg_distance(a, b, V2::new(5.0, 1.0)) - 1.0).abs() < 1e-9);
    }
}
