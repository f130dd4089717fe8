//! Importers: each turns a file into plain values in millimetres, with its own error type.

pub mod dxf;
pub mod units;

pub use dxf::{Drawing, DxfError, DxfOptions, import_dxf, import_dxf_file};
pub use units::Units;
