//! A small 2D vector of `f64` millimetres with the operators the geometry code needs.

use std::ops::{Add, AddAssign, Mul, Neg, Sub};

use cavalier_contours::core::math::Vector2;
use serde::{Deserialize, Serialize};

/// A point or vector in the XY plane, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

impl V2 {
    #[inline]
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
    #[inline]
    pub fn dot(self, o: Self) -> f64 {
        self.x * o.x + self.y * o.y
    }
    /// The z component of the 3D cross product (positive when `o` is counter-clockwise of `self`).
    #[inline]
    pub fn cross(self, o: Self) -> f64 {
        self.x * o.y - self.y * o.x
    }
    #[inline]
    pub fn length(self) -> f64 {
        // Plain square root: lengths in mm never come near overflow, and hypot is several
        // times slower in the curve-fitting loops.
        (self.x * self.x + self.y * self.y).sqrt()
    }
    #[inline]
    pub fn dist(self, o: Self) -> f64 {
        (self - o).length()
    }
    /// The unit vector in the same direction, or zero for the zero vector.
    #[inline]
    #[must_use]
    pub fn normalized(self) -> Self {
        let l = self.length();
        if l > 0.0 {
            self * (1.0 / l)
        } else {
            Self::default()
        }
    }
    /// Rotated by +90°.
    #[inline]
    #[must_use]
    pub fn perp(self) -> Self {
        Self::new(-self.y, self.x)
    }
    #[inline]
    pub fn angle(self) -> f64 {
        self.y.atan2(self.x)
    }
    #[inline]
    pub fn from_angle(a: f64) -> Self {
        Self::new(a.cos(), a.sin())
    }
    #[inline]
    #[must_use]
    pub fn lerp(self, o: Self, t: f64) -> Self {
        self + (o - self) * t
    }
    #[inline]
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

impl Add for V2 {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        Self::new(self.x + o.x, self.y + o.y)
    }
}
impl AddAssign for V2 {
    #[inline]
    fn add_assign(&mut self, o: Self) {
        self.x += o.x;
        self.y += o.y;
    }
}
impl Sub for V2 {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        Self::new(self.x - o.x, self.y - o.y)
    }
}
impl Mul<f64> for V2 {
    type Output = Self;
    #[inline]
    fn mul(self, s: f64) -> Self {
        Self::new(self.x * s, self.y * s)
    }
}
impl Neg for V2 {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        Self::new(-self.x, -self.y)
    }
}
impl From<Vector2<f64>> for V2 {
    fn from(v: Vector2<f64>) -> Self {
        Self::new(v.x, v.y)
    }
}
impl From<V2> for Vector2<f64> {
    fn from(v: V2) -> Self {
        Vector2::new(v.x, v.y)
    }
}

/// An axis-aligned bounding box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bbox2 {
    pub min: V2,
    pub max: V2,
}

impl Bbox2 {
    /// The empty box (contains nothing, grows to the first point added).
    pub const EMPTY: Self = Self {
        min: V2::new(f64::INFINITY, f64::INFINITY),
        max: V2::new(f64::NEG_INFINITY, f64::NEG_INFINITY),
    };
    pub fn is_empty(&self) -> bool {
        self.min.x > self.max.x || self.min.y > self.max.y
    }
    pub fn add_point(&mut self, p: V2) {
        self.min.x = self.min.x.min(p.x);
        self.min.y = self.min.y.min(p.y);
        self.max.x = self.max.x.max(p.x);
        self.max.y = self.max.y.max(p.y);
    }
    pub fn union(&mut self, o: &Self) {
        if !o.is_empty() {
            self.add_point(o.min);
            self.add_point(o.max);
        }
    }
    pub fn width(&self) -> f64 {
        self.max.x - self.min.x
    }
    pub fn height(&self) -> f64 {
        self.max.y - self.min.y
    }
    /// The larger of width and height; zero when empty.
    pub fn extent(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.width().max(self.height())
        }
    }
    /// Whether `o` meets `self` grown by `margin`.
    pub fn overlaps(&self, o: &Self, margin: f64) -> bool {
        o.min.x <= self.max.x + margin
            && o.max.x >= self.min.x - margin
            && o.min.y <= self.max.y + margin
            && o.max.y >= self.min.y - margin
    }
    /// Whether `o` lies inside `self` grown by `margin`.
    pub fn contains_box(&self, o: &Self, margin: f64) -> bool {
        o.min.x >= self.min.x - margin
            && o.min.y >= self.min.y - margin
            && o.max.x <= self.max.x + margin
            && o.max.y <= self.max.y + margin
    }
}

impl Default for Bbox2 {
    fn default() -> Self {
        Self::EMPTY
    }
}
