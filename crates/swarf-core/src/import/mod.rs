//! Importers: each turns a file into plain values in millimetres, with its own error type.

pub mod dxf;
pub mod stl;
pub mod units;

pub use dxf::{Drawing, DxfError, DxfOptions, import_dxf, import_dxf_file};
pub use stl::{Origin, StlError, StlOptions, StlPart, import_stl, import_stl_file};
pub use units::Units;

/// An open bulge polyline reversed (vertex order reversed, bulges negated and shifted).
pub fn dxf_reverse_open(
    verts: &[cavalier_contours::polyline::PlineVertex<f64>],
) -> Vec<cavalier_contours::polyline::PlineVertex<f64>> {
    dxf::reverse_open(verts)
}
