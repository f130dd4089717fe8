//! Swarf's core: geometry and CAM for micro milling, as pure functions from values to values.
//!
//! Millimetres and `f64` everywhere; every tolerance comes from one [`geometry::Tolerance`].
//! No GUI, no GPU, no I/O beyond reading and writing files.

pub mod array;
pub mod cl;
pub mod fsio;
pub mod geometry;
pub mod holes;
pub mod import;
pub mod job;
pub mod level;
pub mod ops;
pub mod post;
pub mod resize;
pub mod samples;
pub mod setup;
pub mod sim;
pub mod slice;
pub mod text;
pub mod tool;
pub mod toolpath;
pub mod verify;

/// The example part embedded in the app and the CLI: a small watch-plate-like drawing.
pub const EXAMPLE_DXF: &str = include_str!("../../../assets/example_plate.dxf");
/// The file name shown for [`EXAMPLE_DXF`].
pub const EXAMPLE_DXF_NAME: &str = "example_plate.dxf";
