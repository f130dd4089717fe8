//! Smooth parametric curves that are not arcs: NURBS splines, ellipses and curves through fit
//! points. They never reach the toolpath as they are; [`super::biarc`] turns them into arcs.

use super::{Affine2, V2};

/// A plane curve `C(t)`, `t` in `domain()`, with its first derivative.
pub trait Curve {
    fn domain(&self) -> (f64, f64);
    fn point(&self, t: f64) -> V2;
    fn derivative(&self, t: f64) -> V2;
    /// The derivative approached from below (differs from [`Curve::derivative`] only at
    /// corners, e.g. knots of full multiplicity).
    fn derivative_before(&self, t: f64) -> V2 {
        self.derivative(t)
    }
    /// Parameters inside the domain where the curve should be split before fitting: places
    /// where the tangent may jump (full-multiplicity knots) or natural pieces (knot spans,
    /// quadrants of an ellipse). Sorted, strictly inside the domain.
    fn breaks(&self) -> Vec<f64>;
    /// Whether the curve has a continuous tangent between breaks (biarcs need one).
    fn is_smooth(&self) -> bool {
        true
    }
    /// Parameters strictly inside (`t0`, `t1`) where the fit is measured.
    fn sample_params(&self, t0: f64, t1: f64) -> Vec<f64> {
        (1..=9)
            .map(|k| t0 + (t1 - t0) * f64::from(k) / 10.0)
            .collect()
    }
    /// Where to split a piece that does not fit.
    fn split_param(&self, t0: f64, t1: f64) -> f64 {
        0.5 * (t0 + t1)
    }
}

/// Why a spline definition cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurveError {
    #[error("degree {0} is not supported; needs 1 to 15")]
    Degree(usize),
    #[error("has {ctrl} control points but degree {degree}; needs at least {}", .degree + 1)]
    TooFewControlPoints { ctrl: usize, degree: usize },
    #[error("has {knots} knots but {ctrl} control points of degree {degree}; needs {}", .ctrl + .degree + 1)]
    KnotCount {
        knots: usize,
        ctrl: usize,
        degree: usize,
    },
    #[error("knot vector is decreasing or not finite at knot {0}")]
    Knots(usize),
    #[error("has {weights} weights for {ctrl} control points")]
    WeightCount { weights: usize, ctrl: usize },
    #[error("weight {0} is not a positive finite number")]
    Weight(usize),
    #[error("has a coordinate that is not a finite number")]
    NotFinite,
    #[error("has an empty parameter range (all knots equal)")]
    EmptyDomain,
}

/// A (rational) B-spline of any degree.
#[derive(Debug, Clone, PartialEq)]
pub struct Nurbs {
    degree: usize,
    knots: Vec<f64>,
    /// Control points multiplied by their weights, and the weights: homogeneous coordinates.
    ctrl_w: Vec<(V2, f64)>,
}

impl Nurbs {
    /// Checks the definition; `weights` empty means all weights are 1.
    pub fn new(
        degree: usize,
        knots: Vec<f64>,
        ctrl: &[V2],
        weights: &[f64],
    ) -> Result<Self, CurveError> {
        if !(1..=15).contains(&degree) {
            return Err(CurveError::Degree(degree));
        }
        if ctrl.len() < degree + 1 {
            return Err(CurveError::TooFewControlPoints {
                ctrl: ctrl.len(),
                degree,
            });
        }
        if knots.len() != ctrl.len() + degree + 1 {
            return Err(CurveError::KnotCount {
                knots: knots.len(),
                ctrl: ctrl.len(),
                degree,
            });
        }
        for (i, w) in knots.windows(2).enumerate() {
            if !(w[0].is_finite() && w[1].is_finite()) || w[1] < w[0] {
                return Err(CurveError::Knots(i + 1));
            }
        }
        if !weights.is_empty() && weights.len() != ctrl.len() {
            return Err(CurveError::WeightCount {
                weights: weights.len(),
                ctrl: ctrl.len(),
            });
        }
        if ctrl.iter().any(|p| !p.is_finite()) {
            return Err(CurveError::NotFinite);
        }
        let mut ctrl_w = Vec::with_capacity(ctrl.len());
        for (i, p) in ctrl.iter().enumerate() {
            let w = weights.get(i).copied().unwrap_or(1.0);
            if !(w.is_finite() && w > 0.0) {
                return Err(CurveError::Weight(i));
            }
            ctrl_w.push((*p * w, w));
        }
        let s = Self {
            degree,
            knots,
            ctrl_w,
        };
        let (a, b) = s.domain();
        if b <= a {
            return Err(CurveError::EmptyDomain);
        }
        Ok(s)
    }

    pub fn degree(&self) -> usize {
        self.degree
    }

    /// The largest absolute control-point coordinate (infinite if any is not finite).
    pub fn max_abs_coord(&self) -> f64 {
        self.ctrl_w
            .iter()
            .map(|&(pw, w)| {
                let p = pw * (1.0 / w);
                if p.is_finite() {
                    p.x.abs().max(p.y.abs())
                } else {
                    f64::INFINITY
                }
            })
            .fold(0.0, f64::max)
    }

    /// The same curve with its control points moved by an affine map (NURBS are affine
    /// invariant, so this is exact).
    #[must_use]
    pub fn transformed(&self, t: &Affine2) -> Self {
        let ctrl_w = self
            .ctrl_w
            .iter()
            .map(|&(pw, w)| (t.apply(pw * (1.0 / w)) * w, w))
            .collect();
        Self {
            degree: self.degree,
            knots: self.knots.clone(),
            ctrl_w,
        }
    }

    fn span(&self, t: f64) -> usize {
        let p = self.degree;
        let n = self.ctrl_w.len() - 1;
        if t >= self.knots[n + 1] {
            // Last non-empty span.
            let mut s = n;
            while s > p && self.knots[s] >= self.knots[s + 1] {
                s -= 1;
            }
            return s;
        }
        if t <= self.knots[p] {
            let mut s = p;
            while s < n && self.knots[s + 1] <= self.knots[p] {
                s += 1;
            }
            return s;
        }
        // Binary search for knots[s] <= t < knots[s+1], s in [p, n].
        let (mut lo, mut hi) = (p, n + 1);
        while hi - lo > 1 {
            let mid = usize::midpoint(lo, hi);
            if t < self.knots[mid] {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        lo
    }

    /// Basis functions and their first derivatives on span `s` (The NURBS Book, A2.2/A2.3),
    /// with scratch arrays of `N × N` (`N > degree`), so cubic splines do not pay for
    /// degree-15 buffers.
    fn basis<const N: usize>(
        &self,
        s: usize,
        t: f64,
        n_out: &mut [f64; 16],
        d_out: &mut [f64; 16],
    ) {
        let p = self.degree;
        let u = &self.knots;
        let mut ndu = [[0.0f64; N]; N];
        let mut left = [0.0f64; N];
        let mut right = [0.0f64; N];
        ndu[0][0] = 1.0;
        for j in 1..=p {
            left[j] = t - u[s + 1 - j];
            right[j] = u[s + j] - t;
            let mut saved = 0.0;
            for r in 0..j {
                ndu[j][r] = right[r + 1] + left[j - r];
                let temp = ndu[r][j - 1] / ndu[j][r];
                ndu[r][j] = saved + right[r + 1] * temp;
                saved = left[j - r] * temp;
            }
            ndu[j][j] = saved;
        }
        for r in 0..=p {
            n_out[r] = ndu[r][p];
            let mut d = 0.0;
            if r >= 1 {
                d += ndu[r - 1][p - 1] / ndu[p][r - 1];
            }
            if r < p {
                d -= ndu[r][p - 1] / ndu[p][r];
            }
            d_out[r] = d * p as f64;
        }
    }

    /// The span that `t` ends rather than starts: `knots[s] < t <= knots[s+1]`.
    fn span_before(&self, t: f64) -> usize {
        let mut s = self.span(t);
        while s > self.degree && self.knots[s] >= t {
            s -= 1;
        }
        s
    }

    fn eval(&self, t: f64) -> (V2, V2) {
        self.eval_on(self.span(t), t)
    }

    fn eval_on(&self, s: usize, t: f64) -> (V2, V2) {
        let p = self.degree;
        let mut n = [0.0; 16];
        let mut dn = [0.0; 16];
        match p {
            0..=3 => self.basis::<4>(s, t, &mut n, &mut dn),
            4..=7 => self.basis::<8>(s, t, &mut n, &mut dn),
            _ => self.basis::<16>(s, t, &mut n, &mut dn),
        }
        let (mut a, mut w, mut da, mut dw) = (V2::default(), 0.0, V2::default(), 0.0);
        for r in 0..=p {
            let (pw, wi) = self.ctrl_w[s - p + r];
            a += pw * n[r];
            w += wi * n[r];
            da += pw * dn[r];
            dw += wi * dn[r];
        }
        let c = a * (1.0 / w);
        let d = (da - c * dw) * (1.0 / w);
        (c, d)
    }
}

impl Curve for Nurbs {
    fn domain(&self) -> (f64, f64) {
        (self.knots[self.degree], self.knots[self.ctrl_w.len()])
    }
    fn point(&self, t: f64) -> V2 {
        self.eval(t).0
    }
    fn derivative(&self, t: f64) -> V2 {
        self.eval(t).1
    }
    fn derivative_before(&self, t: f64) -> V2 {
        self.eval_on(self.span_before(t), t).1
    }
    fn breaks(&self) -> Vec<f64> {
        let (a, b) = self.domain();
        let mut out: Vec<f64> = Vec::new();
        for &k in &self.knots {
            if k > a && k < b && out.last() != Some(&k) {
                out.push(k);
            }
        }
        out
    }
}

/// An ellipse or elliptical arc: `C(t) = centre + u·cos t + v·sin t`, `t` from `t0` to `t1`
/// (`t1 > t0`). `u` and `v` are conjugate semi-diameters, so any affine image of an ellipse is
/// again of this form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EllipseArc {
    pub centre: V2,
    pub u: V2,
    pub v: V2,
    pub t0: f64,
    pub t1: f64,
}

impl EllipseArc {
    #[must_use]
    pub fn transformed(&self, t: &Affine2) -> Self {
        Self {
            centre: t.apply(self.centre),
            u: t.apply_vector(self.u),
            v: t.apply_vector(self.v),
            t0: self.t0,
            t1: self.t1,
        }
    }
    /// Whether it is a full ellipse (closed).
    pub fn is_full(&self) -> bool {
        self.t1 - self.t0 >= std::f64::consts::TAU * (1.0 - 1e-12)
    }
}

impl Curve for EllipseArc {
    fn domain(&self) -> (f64, f64) {
        (self.t0, self.t1)
    }
    fn point(&self, t: f64) -> V2 {
        let (s, c) = t.sin_cos();
        self.centre + self.u * c + self.v * s
    }
    fn derivative(&self, t: f64) -> V2 {
        let (s, c) = t.sin_cos();
        self.v * c - self.u * s
    }
    fn breaks(&self) -> Vec<f64> {
        // Quarter points: the biarc fit converges fastest between the vertices of the ellipse.
        // The domain is at most one turn, so at most eight quarter points fall inside it; a
        // bounded count, because far from zero adding one to `k` no longer changes it.
        let q = std::f64::consts::FRAC_PI_4;
        let first = (self.t0 / q).floor() + 1.0;
        (0..9)
            .map(|i| (first + f64::from(i)) * q)
            .filter(|&t| t > self.t0 && t < self.t1)
            .collect()
    }
}

/// A C1 cubic (Catmull-Rom) curve through points, for DXF splines that carry only fit points.
/// Parameter `i` is the `i`-th point.
#[derive(Debug, Clone, PartialEq)]
pub struct FitPointCurve {
    pts: Vec<V2>,
    tangents: Vec<V2>,
}

impl FitPointCurve {
    /// `start`/`end` are optional end tangents (direction only). At least two points.
    pub fn new(pts: Vec<V2>, closed: bool, start: Option<V2>, end: Option<V2>) -> Option<Self> {
        let n = pts.len();
        if n < 2 || pts.iter().any(|p| !p.is_finite()) {
            return None;
        }
        let mut tangents = Vec::with_capacity(n);
        for i in 0..n {
            let prev = if i > 0 {
                pts[i - 1]
            } else if closed {
                pts[n - 2]
            } else {
                pts[0]
            };
            let next = if i + 1 < n {
                pts[i + 1]
            } else if closed {
                pts[1]
            } else {
                pts[n - 1]
            };
            let mut t = (next - prev) * if i == 0 || i + 1 == n { 1.0 } else { 0.5 };
            if i == 0
                && let Some(s) = start
            {
                t = s.normalized() * pts[1].dist(pts[0]);
            }
            if i + 1 == n
                && let Some(e) = end
            {
                t = e.normalized() * pts[n - 1].dist(pts[n - 2]);
            }
            tangents.push(t);
        }
        Some(Self { pts, tangents })
    }
    fn piece(&self, t: f64) -> (usize, f64) {
        let n = self.pts.len();
        let i = (t.floor().max(0.0) as usize).min(n - 2);
        (i, t - i as f64)
    }
}

impl Curve for FitPointCurve {
    fn domain(&self) -> (f64, f64) {
        (0.0, (self.pts.len() - 1) as f64)
    }
    fn point(&self, t: f64) -> V2 {
        let (i, s) = self.piece(t);
        let (p0, p1, m0, m1) = (
            self.pts[i],
            self.pts[i + 1],
            self.tangents[i],
            self.tangents[i + 1],
        );
        let (s2, s3) = (s * s, s * s * s);
        p0 * (2.0 * s3 - 3.0 * s2 + 1.0)
            + m0 * (s3 - 2.0 * s2 + s)
            + p1 * (-2.0 * s3 + 3.0 * s2)
            + m1 * (s3 - s2)
    }
    fn derivative_before(&self, t: f64) -> V2 {
        if t > 0.0 && t.fract() == 0.0 {
            // End of the previous piece.
            self.hermite_derivative(t as usize - 1, 1.0)
        } else {
            self.derivative(t)
        }
    }
    fn derivative(&self, t: f64) -> V2 {
        let (i, s) = self.piece(t);
        self.hermite_derivative(i, s)
    }
    fn breaks(&self) -> Vec<f64> {
        (1..self.pts.len() - 1).map(|i| i as f64).collect()
    }
}

impl FitPointCurve {
    fn hermite_derivative(&self, i: usize, s: f64) -> V2 {
        let i = i.min(self.pts.len() - 2);
        let (p0, p1, m0, m1) = (
            self.pts[i],
            self.pts[i + 1],
            self.tangents[i],
            self.tangents[i + 1],
        );
        let s2 = s * s;
        p0 * (6.0 * s2 - 6.0 * s)
            + m0 * (3.0 * s2 - 4.0 * s + 1.0)
            + p1 * (-6.0 * s2 + 6.0 * s)
            + m1 * (3.0 * s2 - 2.0 * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rational_quadratic_is_an_exact_quarter_circle() {
        let w = std::f64::consts::FRAC_1_SQRT_2;
        let c = Nurbs::new(
            2,
            vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            &[V2::new(1.0, 0.0), V2::new(1.0, 1.0), V2::new(0.0, 1.0)],
            &[1.0, w, 1.0],
        )
        .unwrap();
        for i in 0..=20 {
            let t = f64::from(i) / 20.0;
            assert!((c.point(t).length() - 1.0).abs() < 1e-14);
            // Derivative is tangent to the circle.
            assert!(c.point(t).dot(c.derivative(t)).abs() < 1e-12);
        }
    }

    #[test]
    fn derivative_matches_finite_difference() {
        let c = Nurbs::new(
            3,
            vec![0.0, 0.0, 0.0, 0.0, 0.3, 0.7, 1.0, 1.0, 1.0, 1.0],
            &[
                V2::new(0.0, 0.0),
                V2::new(1.0, 2.0),
                V2::new(2.0, -1.0),
                V2::new(3.0, 1.0),
                V2::new(4.0, 0.5),
                V2::new(5.0, 0.0),
            ],
            &[1.0, 2.0, 0.5, 1.0, 1.5, 1.0],
        )
        .unwrap();
        for i in 1..20 {
            let t = f64::from(i) / 20.0;
            let h = 1e-6;
            let fd = (c.point(t + h) - c.point(t - h)) * (0.5 / h);
            assert!((fd - c.derivative(t)).length() < 1e-5, "t={t}");
        }
    }

    #[test]
    fn bad_definitions_are_errors() {
        let p = [V2::new(0.0, 0.0), V2::new(1.0, 0.0), V2::new(2.0, 0.0)];
        assert!(matches!(
            Nurbs::new(3, vec![0.0; 7], &p, &[]),
            Err(CurveError::TooFewControlPoints { .. })
        ));
        assert!(matches!(
            Nurbs::new(2, vec![0.0; 5], &p, &[]),
            Err(CurveError::KnotCount { .. })
        ));
        assert!(matches!(
            Nurbs::new(2, vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0], &p, &[1.0, -1.0, 1.0]),
            Err(CurveError::Weight(1))
        ));
    }
}

/// A polyline through points (a mesh slice), parameter `i` at the `i`-th point. It is not
/// smooth: the fitter puts arcs through its vertices (within the tolerance of every vertex) and
/// never across a corner.
#[derive(Debug, Clone, PartialEq)]
pub struct PolylineCurve {
    pts: Vec<V2>,
    corners: Vec<f64>,
}

impl PolylineCurve {
    /// `pts` in order; for a closed loop repeat the first point at the end. Vertices where the
    /// direction turns by more than `corner_angle_deg` are corners.
    pub fn new(pts: Vec<V2>, corner_angle_deg: f64) -> Option<Self> {
        if pts.len() < 2 || pts.iter().any(|p| !p.is_finite()) {
            return None;
        }
        let lim = corner_angle_deg.to_radians();
        let closed = pts.len() > 3 && pts[0] == pts[pts.len() - 1];
        let n = pts.len();
        let turn = |a: V2, b: V2, c: V2| {
            let (u, v) = (b - a, c - b);
            u.cross(v).atan2(u.dot(v)).abs()
        };
        let mut corners: Vec<f64> = (1..n - 1)
            .filter(|&i| turn(pts[i - 1], pts[i], pts[i + 1]) > lim)
            .map(|i| i as f64)
            .collect();
        if closed && corners.is_empty() {
            // A smooth closed loop still needs a split to be fitted (start = end).
            corners.push(((n - 1) / 2) as f64);
        }
        Some(Self { pts, corners })
    }
    /// Whether the loop's start is a corner too (closed loops only).
    pub fn points(&self) -> &[V2] {
        &self.pts
    }
}

impl Curve for PolylineCurve {
    fn domain(&self) -> (f64, f64) {
        (0.0, (self.pts.len() - 1) as f64)
    }
    fn point(&self, t: f64) -> V2 {
        let n = self.pts.len();
        let i = (t.floor().max(0.0) as usize).min(n - 2);
        let f = t - i as f64;
        if f <= 0.0 {
            self.pts[i]
        } else if f >= 1.0 {
            self.pts[i + 1]
        } else {
            self.pts[i].lerp(self.pts[i + 1], f)
        }
    }
    fn derivative(&self, t: f64) -> V2 {
        let n = self.pts.len();
        let i = (t.floor().max(0.0) as usize).min(n - 2);
        self.pts[i + 1] - self.pts[i]
    }
    fn breaks(&self) -> Vec<f64> {
        self.corners.clone()
    }
    fn is_smooth(&self) -> bool {
        false
    }
    fn sample_params(&self, t0: f64, t1: f64) -> Vec<f64> {
        let a = t0.floor() as i64 + 1;
        let b = t1.ceil() as i64 - 1;
        let mut v: Vec<f64> = (a..=b)
            .map(|i| i as f64)
            .filter(|&t| t > t0 && t < t1)
            .collect();
        if v.is_empty() {
            v.push(0.5 * (t0 + t1));
        }
        v
    }
    fn split_param(&self, t0: f64, t1: f64) -> f64 {
        if t1 - t0 >= 2.0 {
            (0.5 * (t0 + t1)).round()
        } else {
            0.5 * (t0 + t1)
        }
    }
}
