//! The one place where Swarf's numeric tolerances live.
//!
//! Every comparison of lengths in the core takes its threshold from a [`Tolerance`] passed in
//! explicitly; there is no hidden epsilon anywhere else. All values are in millimetres.

use serde::{Deserialize, Serialize};

/// Numeric tolerances of a job, in millimetres.
///
/// The defaults are chosen for micro milling on machines that hold ±1–2 µm: the emitted path may
/// deviate from the ideal one by at most 0.1 µm, which is also the resolution of 4-decimal G-code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tolerance {
    /// Two points closer than this are the same point: segment ends that meet, duplicate
    /// vertices, zero-length segments. Default 1e-5 mm (10 nm), a hundred times finer than the
    /// best machine and a hundred times coarser than `f64` noise on a 1 m drawing.
    pub equal_point_mm: f64,
    /// The largest deviation of any emitted path from the ideal curve: spline and ellipse
    /// conversion to arcs, arc fitting of polylines. Default 1e-4 mm (0.1 µm).
    pub path_mm: f64,
    /// The largest chord error when an arc must be shown or simulated as straight lines
    /// (display, heightmap simulation); never used for the G-code itself. Default 1e-3 mm (1 µm).
    pub arc_chord_mm: f64,
    /// Mesh slices are fitted with arcs only across vertices where the outline turns by less
    /// than this angle (degrees): a finely tessellated cylinder becomes an arc, an octagon stays
    /// an octagon. Default 20°.
    pub mesh_corner_angle_deg: f64,
    /// The largest deviation allowed when fitting arcs to curves that are themselves sampled
    /// approximations, not exact geometry (adaptive clearing's level curves, whose own
    /// sampling error is a tenth of the step): the fit may use up to a tenth of the step, never
    /// more than this, never less than `path_mm`. Default 5e-3 mm (5 µm).
    pub sampled_fit_mm: f64,
    /// Reading G-code: an arc whose start and end radius differ by more than this (or by more
    /// than 0.1 % of the radius, whichever is larger) is an error, as the `LinuxCNC` interpreter
    /// has it. Default 2e-3 mm (2 µm).
    pub read_arc_radius_mm: f64,
    /// Holes whose diameters differ by no more than this are one group (drilled or bored
    /// together). Default 5e-4 mm (0.5 µm).
    pub hole_diameter_mm: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self {
            equal_point_mm: 1e-5,
            path_mm: 1e-4,
            arc_chord_mm: 1e-3,
            mesh_corner_angle_deg: 20.0,
            sampled_fit_mm: 5e-3,
            read_arc_radius_mm: 2e-3,
            hole_diameter_mm: 5e-4,
        }
    }
}

impl Tolerance {
    /// The same tolerances multiplied by `factor`, for a part that is scaled by `factor`.
    #[must_use]
    pub fn scaled(&self, factor: f64) -> Self {
        Self {
            equal_point_mm: self.equal_point_mm * factor,
            path_mm: self.path_mm * factor,
            arc_chord_mm: self.arc_chord_mm * factor,
            mesh_corner_angle_deg: self.mesh_corner_angle_deg,
            sampled_fit_mm: self.sampled_fit_mm * factor,
            read_arc_radius_mm: self.read_arc_radius_mm * factor,
            hole_diameter_mm: self.hole_diameter_mm * factor,
        }
    }

    /// Checks that every field is a positive finite number and that they are ordered sensibly.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("equal_point_mm", self.equal_point_mm),
            ("path_mm", self.path_mm),
            ("arc_chord_mm", self.arc_chord_mm),
            ("sampled_fit_mm", self.sampled_fit_mm),
            ("read_arc_radius_mm", self.read_arc_radius_mm),
            ("hole_diameter_mm", self.hole_diameter_mm),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!(
                    "tolerance {name} = {v} must be a positive number of millimetres"
                ));
            }
        }
        if !(self.mesh_corner_angle_deg > 0.0 && self.mesh_corner_angle_deg < 180.0) {
            return Err(format!(
                "tolerance mesh_corner_angle_deg = {} must be between 0 and 180 degrees",
                self.mesh_corner_angle_deg
            ));
        }
        if self.equal_point_mm > self.path_mm {
            return Err(format!(
                "tolerance equal_point_mm ({}) must not exceed path_mm ({})",
                self.equal_point_mm, self.path_mm
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_micro_scale_and_valid() {
        let t = Tolerance::default();
        assert_eq!(t.path_mm, 1e-4);
        assert!(t.validate().is_ok());
        assert!(t.scaled(0.001).validate().is_ok());
    }

    #[test]
    fn nonsense_is_rejected_with_the_field_name() {
        let t = Tolerance {
            path_mm: f64::NAN,
            ..Tolerance::default()
        };
        assert!(t.validate().unwrap_err().contains("path_mm"));
    }
}
