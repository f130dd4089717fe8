//! Importers: each turns a file into plain values in millimetres, with its own error type.
//! [`load`] is the one entry that tells the formats apart and gives a [`Model`].

pub mod dxf;
pub mod excellon;
pub mod gerber;
mod model;
pub mod stl;
pub mod units;

pub use dxf::{Drawing, DxfError, DxfOptions, import_dxf, import_dxf_file};
pub use excellon::{ExcellonError, import_excellon};
pub use gerber::{GerberError, GerberLayer, LayerKind, import_gerber, read_gerber};
pub use model::{Format, ImportError, ImportOptions, Model, Source, load, sniff};
pub use stl::{Origin, StlError, StlOptions, StlPart, import_stl, import_stl_file};
pub use units::Units;
