//! 2D affine transforms (block inserts, OCS mirroring, unit scaling).

use super::V2;

/// `x' = a·x + b·y + c`, `y' = d·x + e·y + f`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine2 {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub e: f64,
    pub f: f64,
}

impl Default for Affine2 {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Affine2 {
    pub const IDENTITY: Self = Self {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 0.0,
        e: 1.0,
        f: 0.0,
    };

    pub fn translate(t: V2) -> Self {
        Self {
            c: t.x,
            f: t.y,
            ..Self::IDENTITY
        }
    }
    pub fn scale(sx: f64, sy: f64) -> Self {
        Self {
            a: sx,
            e: sy,
            ..Self::IDENTITY
        }
    }
    pub fn rotate(angle_rad: f64) -> Self {
        let (s, c) = angle_rad.sin_cos();
        Self {
            a: c,
            b: -s,
            d: s,
            e: c,
            ..Self::IDENTITY
        }
    }
    /// `self ∘ o`: first `o`, then `self`.
    #[must_use]
    pub fn then_after(&self, o: &Self) -> Self {
        Self {
            a: self.a * o.a + self.b * o.d,
            b: self.a * o.b + self.b * o.e,
            c: self.a * o.c + self.b * o.f + self.c,
            d: self.d * o.a + self.e * o.d,
            e: self.d * o.b + self.e * o.e,
            f: self.d * o.c + self.e * o.f + self.f,
        }
    }
    #[inline]
    pub fn apply(&self, p: V2) -> V2 {
        V2::new(
            self.a * p.x + self.b * p.y + self.c,
            self.d * p.x + self.e * p.y + self.f,
        )
    }
    /// Applies only the linear part (for direction vectors).
    #[inline]
    pub fn apply_vector(&self, v: V2) -> V2 {
        V2::new(self.a * v.x + self.b * v.y, self.d * v.x + self.e * v.y)
    }
    pub fn determinant(&self) -> f64 {
        self.a * self.e - self.b * self.d
    }
    /// Whether the transform mirrors (reverses the direction of arcs).
    pub fn is_mirroring(&self) -> bool {
        self.determinant() < 0.0
    }
    /// The uniform scale factor if the linear part is a similarity (rotation, uniform scale,
    /// optional mirror) within `rel_tol`; `None` when it distorts circles into ellipses.
    pub fn similarity_scale(&self, rel_tol: f64) -> Option<f64> {
        let c0 = V2::new(self.a, self.d);
        let c1 = V2::new(self.b, self.e);
        let (l0, l1) = (c0.length(), c1.length());
        let s = l0.max(l1);
        if s == 0.0 {
            return None;
        }
        if (l0 - l1).abs() <= rel_tol * s && c0.dot(c1).abs() <= rel_tol * s * s {
            Some(0.5 * (l0 + l1))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composition_order() {
        let t = Affine2::translate(V2::new(10.0, 0.0))
            .then_after(&Affine2::rotate(std::f64::consts::FRAC_PI_2));
        let p = t.apply(V2::new(1.0, 0.0));
        assert!((p.x - 10.0).abs() < 1e-12 && (p.y - 1.0).abs() < 1e-12);
        assert!(Affine2::scale(-1.0, 1.0).is_mirroring());
        assert_eq!(Affine2::scale(2.0, 2.0).similarity_scale(1e-9), Some(2.0));
        assert_eq!(Affine2::scale(2.0, 1.0).similarity_scale(1e-9), None);
    }
}
