//! The one entry to importing: [`load`] tells a drawing from a mesh by its content and reads
//! it into a [`Model`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dxf::{Drawing, DxfError, DxfOptions, import_dxf};
use super::excellon::{ExcellonError, import_excellon};
use super::gerber::{GerberError, import_gerber, looks_like_gerber};
use super::stl::{Origin, StlError, StlOptions, StlPart, import_stl};
use super::units::Units;
use crate::geometry::Tolerance;
use crate::geometry::mesh::Mesh;

/// A part as read: a drawing (DXF) or a mesh (STL).
#[derive(Debug, Clone)]
pub enum Model {
    Drawing(Drawing),
    Mesh(StlPart),
}

impl Model {
    pub fn drawing(&self) -> Option<&Drawing> {
        match self {
            Model::Drawing(d) => Some(d),
            Model::Mesh(_) => None,
        }
    }
    pub fn mesh(&self) -> Option<&Mesh> {
        match self {
            Model::Drawing(_) => None,
            Model::Mesh(m) => Some(&m.mesh),
        }
    }
    /// The import's warnings.
    pub fn warnings(&self) -> &[String] {
        match self {
            Model::Drawing(d) => &d.warnings,
            Model::Mesh(m) => &m.warnings,
        }
    }
}

/// The file formats [`load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Dxf,
    Stl,
    /// An Excellon drill file (PCB holes).
    Excellon,
    /// A Gerber (RS-274X) layer of a PCB: copper, mask or outline.
    Gerber,
}

/// How a part is read; each importer takes the fields that apply to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// The unit of the numbers, overriding what the file declares (DXF) or mm (STL).
    pub units: Option<Units>,
    /// DXF: import only these layers.
    pub layers: Option<Vec<String>>,
    /// DXF: gaps between chain ends closed up to this distance, with a warning.
    pub close_gap_mm: f64,
    /// STL: where the work origin goes.
    pub origin: Origin,
    /// STL: quarter turns before the origin is placed.
    pub orientation: crate::geometry::mesh::Orientation,
    /// Size and pose, applied after import (and after a mesh's origin is placed).
    pub resize: crate::resize::Resize,
    pub tolerance: Tolerance,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            units: None,
            layers: None,
            close_gap_mm: DxfOptions::default().close_gap_mm,
            origin: Origin::Top,
            orientation: crate::geometry::mesh::Orientation::default(),
            resize: crate::resize::Resize::default(),
            tolerance: Tolerance::default(),
        }
    }
}

impl ImportOptions {
    fn dxf(&self) -> DxfOptions {
        DxfOptions {
            units: self.units,
            layers: self.layers.clone(),
            close_gap_mm: self.close_gap_mm,
            tolerance: self.tolerance,
        }
    }
    fn stl(&self) -> StlOptions {
        StlOptions {
            units: self.units,
            orientation: self.orientation,
            origin: self.origin,
            tolerance: self.tolerance,
        }
    }
}

/// Why a part cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{0}")]
    Dxf(DxfError),
    #[error("{0}")]
    Stl(StlError),
    #[error("{0}")]
    Excellon(ExcellonError),
    #[error("{0}")]
    Gerber(GerberError),
    #[error("{0}")]
    Size(crate::resize::ResizeError),
}

impl From<crate::resize::ResizeError> for ImportError {
    fn from(e: crate::resize::ResizeError) -> Self {
        ImportError::Size(e)
    }
}

impl From<GerberError> for ImportError {
    fn from(e: GerberError) -> Self {
        ImportError::Gerber(e)
    }
}

impl From<ExcellonError> for ImportError {
    fn from(e: ExcellonError) -> Self {
        ImportError::Excellon(e)
    }
}

impl From<DxfError> for ImportError {
    fn from(e: DxfError) -> Self {
        ImportError::Dxf(e)
    }
}

impl From<StlError> for ImportError {
    fn from(e: StlError) -> Self {
        ImportError::Stl(e)
    }
}

/// Where a part comes from: a file, or bytes with a name (the embedded example, a test).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Path(&'a Path),
    Bytes { name: &'a str, bytes: &'a [u8] },
}

impl<'a> From<&'a Path> for Source<'a> {
    fn from(p: &'a Path) -> Self {
        Source::Path(p)
    }
}

/// Tells the format from the content: a binary STL by its exact size (its 80-byte header may
/// say anything, "solid" included), an ASCII STL by `solid … facet`, a DXF by its first group
/// code. Only when the content says nothing clear does the name's extension decide (an empty
/// or damaged file then gets the error of the format its name claims).
pub fn sniff(name: Option<&str>, bytes: &[u8]) -> Format {
    if bytes.len() >= 84 {
        let n = u64::from(u32::from_le_bytes([
            bytes[80], bytes[81], bytes[82], bytes[83],
        ]));
        if 84 + 50 * n == bytes.len() as u64 {
            return Format::Stl;
        }
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let t = head.trim_start();
    if t.starts_with("solid") && (t.contains("facet") || t.contains("endsolid")) {
        return Format::Stl;
    }
    if super::excellon::looks_like_excellon(bytes) {
        return Format::Excellon;
    }
    if looks_like_gerber(bytes) {
        return Format::Gerber;
    }
    // A DXF starts with a group code: 0 (SECTION) or 999 (a comment).
    let first = t.lines().next().unwrap_or("").trim();
    if !first.is_empty() && first.parse::<i32>().is_ok() {
        return Format::Dxf;
    }
    let ext = name
        .and_then(|n| Path::new(n).extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("stl") => Format::Stl,
        Some("dxf") => Format::Dxf,
        Some("drl" | "xln" | "exc" | "drd") => Format::Excellon,
        Some(
            "gbr" | "ger" | "gtl" | "gbl" | "gts" | "gbs" | "gto" | "gbo" | "gko" | "gm1" | "gml"
            | "cmp" | "sol" | "pho" | "art",
        ) => Format::Gerber,
        // Text that is no DXF and binary that is not text are taken as STL (its reader names
        // what is wrong with a damaged mesh); other text as DXF.
        _ if t.starts_with("solid") || bytes.iter().take(512).any(|&b| b == 0) => Format::Stl,
        _ => Format::Dxf,
    }
}

/// Reads a part, whatever its format: the one place that tells DXF from STL.
pub fn load(src: Source<'_>, opts: &ImportOptions) -> Result<Model, ImportError> {
    let owned;
    let (name, bytes): (String, &[u8]) = match src {
        Source::Path(p) => {
            owned = std::fs::read(p).map_err(|error| ImportError::Io {
                path: p.display().to_string(),
                error,
            })?;
            (p.display().to_string(), &owned)
        }
        Source::Bytes { name, bytes } => (name.to_string(), bytes),
    };
    load_bytes(&name, bytes, opts)
}

fn load_bytes(name: &str, bytes: &[u8], opts: &ImportOptions) -> Result<Model, ImportError> {
    let mut model = load_format(name, bytes, opts)?;
    if !opts.orientation.is_identity()
        && let Model::Drawing(d) = &mut model
    {
        d.warnings.push(format!(
            "orientation {}: only meshes are turned; this drawing was read as it is",
            opts.orientation.describe()
        ));
    }
    // The size is announced with the import's warnings: the part is not as the file has it.
    if let Some(line) = opts.resize.apply(&mut model, &opts.tolerance)? {
        match &mut model {
            Model::Drawing(d) => d.warnings.insert(0, line),
            Model::Mesh(m) => m.warnings.insert(0, line),
        }
    }
    Ok(model)
}

fn load_format(name: &str, bytes: &[u8], opts: &ImportOptions) -> Result<Model, ImportError> {
    Ok(match sniff(Some(name), bytes) {
        Format::Stl => Model::Mesh(import_stl(bytes, &opts.stl())?),
        Format::Dxf => Model::Drawing(import_dxf(bytes, &opts.dxf())?),
        Format::Excellon => Model::Drawing(import_excellon(
            bytes,
            opts.units,
            opts.layers.as_deref(),
            &opts.tolerance,
        )?),
        Format::Gerber => Model::Drawing(import_gerber(
            bytes,
            Some(name),
            opts.units,
            &opts.tolerance,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_content_not_the_name() {
        let mesh = crate::samples::box_mesh([0.0; 3], [1.0; 3]);
        let binary = mesh.to_binary_stl("solid but binary");
        let ascii = mesh.to_ascii_stl("cube");
        let dxf = crate::EXAMPLE_DXF.as_bytes();
        for name in ["part.dxf", "part.stl", "part", "part.txt"] {
            assert_eq!(sniff(Some(name), &binary), Format::Stl, "{name}");
            assert_eq!(sniff(Some(name), ascii.as_bytes()), Format::Stl, "{name}");
            assert_eq!(sniff(Some(name), dxf), Format::Dxf, "{name}");
        }
        let o = ImportOptions::default();
        let m = load(
            Source::Bytes {
                name: "mislabelled.dxf",
                bytes: &binary,
            },
            &o,
        )
        .unwrap();
        assert_eq!(m.mesh().unwrap().triangles.len(), 12);
        let d = load(
            Source::Bytes {
                name: "mislabelled.stl",
                bytes: dxf,
            },
            &o,
        )
        .unwrap();
        assert!(!d.drawing().unwrap().regions.is_empty());
        // An empty file gets the error of the format its name claims.
        let e = load(
            Source::Bytes {
                name: "empty.stl",
                bytes: b"",
            },
            &o,
        )
        .unwrap_err();
        assert!(matches!(e, ImportError::Stl(_)), "{e}");
        let e = load(Source::Path(Path::new("/nonexistent/part.dxf")), &o).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/part.dxf"), "{e}");
    }
}
