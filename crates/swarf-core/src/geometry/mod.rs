//! 2D geometry: vectors, tolerances, transforms, curves and their conversion to arcs, polylines
//! with arc segments and regions.

pub mod biarc;
pub mod bulge;
mod curve;
pub mod distance;
pub mod medial;
pub mod mesh;
pub mod offset;
pub mod paint;
mod region;
pub mod scaled;
pub mod seggrid;
mod tolerance;
mod transform;
mod vec2;

pub use curve::{Curve, CurveError, EllipseArc, FitPointCurve, Nurbs, PolylineCurve};
pub use region::{Pline, Region, arc_count, nest_loops, pline_bbox, reversed};
pub use tolerance::Tolerance;
pub use transform::Affine2;
pub use vec2::{Bbox2, V2};
