//! A tool's cutting end as one convex profile of revolution, and the contact geometry the
//! drop-cutter needs from it.
//!
//! Every tool Swarf knows is a special case of one profile: a flat bottom out to radius
//! `flat`, a corner arc of radius `corner` (a torus; a sphere when `flat` is 0) and a cone
//! tangent to it up to the tool's radius. A flat end mill is all bottom, a ball all corner, a
//! bull-nose bottom and corner, a V tool (or a drill's point) bottom (its tip's flat) and cone.
//! A tool grown by a radial stock to leave is the same profile with a larger corner, so the
//! allowance costs nothing extra (see [`CutterShape::of`]).
//!
//! The profile's height `h(d)` above the tip at radius `d` is convex and non-decreasing; a
//! point of a triangle at height `z` and radius `d` from the tool's axis holds the tip at or
//! above `z − h(d)`. Along an edge or over a facet that bound is a concave function, so its
//! maximum is where its slope is zero: closed forms for the sphere and the cone, bracketed
//! root finding on a monotone function for the torus (it cannot miss the root).

use crate::tool::{Tool, ToolShape};

/// The profile of a tool's cutting end, mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutterShape {
    radius: f64,
    flat: f64,
    corner: f64,
    /// Slope dh/dd of the cone: cot of its half-angle from the axis; +∞ without a cone.
    cot: f64,
    /// Radius and height where the corner ends (and the cone starts).
    torus_end: f64,
    torus_end_h: f64,
}

impl CutterShape {
    /// A profile: flat bottom to `flat`, corner arc of radius `corner`, then a cone at
    /// `half_angle_deg` from the axis up to `radius` (without a cone, `flat + corner` is the
    /// radius). Refuses shapes that do not close.
    pub fn new(
        radius: f64,
        flat: f64,
        corner: f64,
        half_angle_deg: Option<f64>,
    ) -> Result<Self, String> {
        let finite = [radius, flat, corner].iter().all(|v| v.is_finite());
        if !finite || radius <= 0.0 || flat < 0.0 || corner < 0.0 {
            return Err(format!(
                "tool profile radius {radius}, flat {flat}, corner {corner}: each must be a number, the radius positive"
            ));
        }
        match half_angle_deg {
            Some(a) if a > 0.0 && a < 90.0 => {
                let (sin_a, cos_a) = a.to_radians().sin_cos();
                let torus_end = flat + corner * cos_a;
                if torus_end > radius * (1.0 + 1e-12) {
                    return Err(format!(
                        "tool profile: the tip (flat {flat}, corner {corner}) is wider than the radius {radius}"
                    ));
                }
                Ok(Self {
                    radius,
                    flat,
                    corner,
                    cot: cos_a / sin_a,
                    torus_end: torus_end.min(radius),
                    torus_end_h: corner * (1.0 - sin_a),
                })
            }
            Some(a) => Err(format!(
                "tool profile: a cone's half-angle must lie between 0° and 90°, not {a}°"
            )),
            None => {
                if (flat + corner - radius).abs() > radius * 1e-9 {
                    return Err(format!(
                        "tool profile: flat {flat} plus corner {corner} must make the radius {radius}"
                    ));
                }
                Ok(Self {
                    radius: flat + corner,
                    flat,
                    corner,
                    cot: f64::INFINITY,
                    torus_end: flat + corner,
                    torus_end_h: corner,
                })
            }
        }
    }

    /// The profile of `tool` grown by `radial_allowance` mm all round (the Minkowski sum with
    /// a sphere: a tool that keeps off this profile keeps the allowance off the part). Its tip
    /// lies `radial_allowance` below the real tool's, so a drop-cutter result for it plus the
    /// axial allowance is the real tool's tip (see `DropCutter::with_allowance`). The grown
    /// cone keeps its angle out to the grown radius (a little below the true rounded rim:
    /// more material left, never less).
    pub fn of(tool: &Tool, radial_allowance: f64) -> Result<Self, String> {
        let ar = radial_allowance;
        if !ar.is_finite() || ar < 0.0 {
            return Err(format!("radial stock to leave is {ar} mm; give 0 or more"));
        }
        let r = tool.radius_mm();
        match tool.shape {
            ToolShape::Ball => Self::new(r + ar, 0.0, r + ar, None),
            ToolShape::Bull { corner_radius_mm } => {
                let c = corner_radius_mm.clamp(0.0, r);
                Self::new(r + ar, r - c, c + ar, None)
            }
            ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => Self::new(
                r + ar,
                (tip_diameter_mm * 0.5).clamp(0.0, r),
                ar,
                Some(angle_deg * 0.5),
            ),
            ToolShape::Drill { point_angle_deg } if point_angle_deg < 180.0 => {
                Self::new(r + ar, 0.0, ar, Some(point_angle_deg * 0.5))
            }
            // A flat end mill, or a drill with a flat point.
            ToolShape::Flat | ToolShape::Drill { .. } => Self::new(r + ar, r, ar, None),
        }
    }

    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// The corner's radius (the ball's for a ball end mill, 0 for a flat end or a V tool).
    pub fn corner_radius(&self) -> f64 {
        self.corner
    }

    /// The radius of curvature that bounds how sharply the cutter-location surface can
    /// bend over a point of the mesh: the corner's for a ball or bull-nose (the surface over
    /// a vertex is that corner, turned), the tool's radius for a flat end or a V tool (their
    /// rim or tip makes steps the sampling finds by refining).
    pub fn bend_radius(&self) -> f64 {
        if self.corner > 0.0 {
            self.corner
        } else {
            self.radius
        }
    }

    /// Height of the profile above the tip at radius `d` (0 ≤ d ≤ radius).
    #[inline]
    pub fn height(&self, d: f64) -> f64 {
        if d <= self.flat {
            0.0
        } else if d <= self.torus_end {
            let u = d - self.flat;
            self.corner - (self.corner * self.corner - u * u).max(0.0).sqrt()
        } else {
            self.torus_end_h + self.cot * (d - self.torus_end)
        }
    }

    /// [`CutterShape::height`] at the radius whose square is `d2` (a ball needs one square
    /// root instead of two).
    #[inline]
    pub fn height_sq(&self, d2: f64) -> f64 {
        if self.flat == 0.0 && !self.cot.is_finite() {
            self.corner - (self.corner * self.corner - d2).max(0.0).sqrt()
        } else {
            self.height(d2.sqrt())
        }
    }

    /// The largest radius at which the profile is no higher than `h` (the half-width of the
    /// groove the tool leaves at depth `h`): the step-over that leaves a scallop of `h` on a
    /// flat floor is twice this.
    pub fn radius_at_height(&self, h: f64) -> f64 {
        if h <= 0.0 {
            return self.flat;
        }
        if h < self.torus_end_h {
            let c = self.corner;
            let u = (c * c - (c - h) * (c - h)).max(0.0).sqrt();
            return (self.flat + u).min(self.radius);
        }
        if self.cot.is_finite() {
            (self.torus_end + (h - self.torus_end_h) / self.cot).min(self.radius)
        } else {
            self.radius
        }
    }

    /// Where on a plane of gradient `s` (= tan of its slope) the tool touches it: the radius
    /// from the axis, in the direction the plane rises.
    #[inline]
    pub(crate) fn facet_radius(&self, s: f64) -> f64 {
        if s <= 0.0 {
            0.0
        } else if s < self.cot {
            if self.corner > 0.0 {
                self.flat + self.corner * s / (1.0 + s * s).sqrt()
            } else {
                self.flat
            }
        } else if s == self.cot {
            self.torus_end
        } else {
            self.radius
        }
    }

    /// Where along a straight edge the tool touches it. The edge passes `e` (< radius) from the
    /// axis in plan and rises `m` ≥ 0 per mm of plan length; the answer is the plan distance
    /// from the foot of the perpendicular, towards the rising end, where the bound
    /// `z(s) − h(√(e² + s²))` is highest.
    #[inline]
    pub(crate) fn edge_offset(&self, e: f64, m: f64) -> f64 {
        let s_rim = (self.radius * self.radius - e * e).max(0.0).sqrt();
        if m <= 0.0 {
            return 0.0;
        }
        if self.corner > 0.0 && e < self.torus_end {
            let s_lo = (self.flat * self.flat - e * e).max(0.0).sqrt();
            let s_hi = (self.torus_end * self.torus_end - e * e).max(0.0).sqrt();
            let g_hi = if self.cot.is_finite() {
                self.cot * s_hi / self.torus_end
            } else {
                f64::INFINITY
            };
            if m <= g_hi {
                if self.flat == 0.0 {
                    // A sphere: its section in the edge's vertical plane is a circle.
                    let rho = (self.corner * self.corner - e * e).max(0.0).sqrt();
                    return (rho * m / (1.0 + m * m).sqrt()).min(s_hi);
                }
                return self.torus_root(e, m, s_lo, s_hi);
            }
        }
        if self.cot.is_finite() {
            let d_c = self.torus_end.max(e);
            let s_c = (d_c * d_c - e * e).max(0.0).sqrt();
            let g_c = if d_c > 0.0 { self.cot * s_c / d_c } else { 0.0 };
            if m <= g_c {
                // The kink between a V tool's flat tip and its cone.
                return s_c;
            }
            let g_rim = self.cot * s_rim / self.radius;
            if m < g_rim {
                return (m * e / (self.cot * self.cot - m * m).sqrt()).clamp(s_c, s_rim);
            }
        }
        s_rim
    }

    /// [`CutterShape::edge_offset`] and the profile's height at the contact.
    #[inline]
    pub(crate) fn edge_contact(&self, e: f64, m: f64) -> (f64, f64) {
        if self.flat == 0.0 && !self.cot.is_finite() {
            // A ball: in the edge's vertical plane a circle of radius ρ; the contact's
            // height above the tip is c − ρ/√(1 + m²).
            let rho = (self.corner * self.corner - e * e).max(0.0).sqrt();
            let k = 1.0 / (1.0 + m * m).sqrt();
            return (rho * m * k, self.corner - rho * k);
        }
        let s = self.edge_offset(e, m);
        (s, self.height((e * e + s * s).sqrt().min(self.radius)))
    }

    /// Where along the edge the torus touches it, between plan offsets `lo` and `hi`.
    ///
    /// At the contact the torus's slope along the edge, h'(d)·s/d, equals the edge's rise
    /// `m`. On the corner circle at angle φ from the bottom (d = flat + c·sin φ, h'(d) =
    /// tan φ) that is H = sin φ·√(1 − e²/d²) − m·cos φ = 0, solved in sin φ: H is increasing and finite
    /// on the whole corner (the slope itself is infinite at its top), so the Illinois
    /// variant of regula falsi keeps a bracket, cannot miss the root and converges in a
    /// dozen steps.
    fn torus_root(&self, e: f64, m: f64, lo: f64, hi: f64) -> f64 {
        let c = self.corner;
        // In σ = sin φ (no trigonometry): H(σ) = σ·√(1 − e²/d²) − m·√(1 − σ²).
        let phi_of = |s: f64| {
            let u = (e * e + s * s).sqrt() - self.flat;
            (u / c).clamp(0.0, 1.0)
        };
        let h = |sin: f64| {
            let cos = (1.0 - sin * sin).max(0.0).sqrt();
            let d = self.flat + c * sin;
            let k = if d > e {
                (1.0 - (e / d) * (e / d)).sqrt()
            } else {
                0.0
            };
            sin * k - m * cos
        };
        let s_of = |sin: f64| {
            let d = self.flat + c * sin;
            (d * d - e * e).max(0.0).sqrt().clamp(lo, hi)
        };
        let (mut a, mut b) = (phi_of(lo), phi_of(hi));
        let (mut fa, mut fb) = (h(a), h(b));
        if fa >= 0.0 {
            return lo;
        }
        if fb <= 0.0 {
            return hi;
        }
        let mut side = 0i8;
        for _ in 0..200 {
            if b - a <= 4.0 * f64::EPSILON {
                break;
            }
            let mut x = (a * fb - b * fa) / (fb - fa);
            if !(x > a && x < b) {
                x = 0.5 * (a + b);
            }
            let fx = h(x);
            if fx == 0.0 {
                return s_of(x);
            }
            if fx < 0.0 {
                a = x;
                fa = fx;
                if side == -1 {
                    fb *= 0.5;
                }
                side = -1;
            } else {
                b = x;
                fb = fx;
                if side == 1 {
                    fa *= 0.5;
                }
                side = 1;
            }
        }
        s_of(0.5 * (a + b))
    }
}
