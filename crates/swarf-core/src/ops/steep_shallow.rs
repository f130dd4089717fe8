//! Steep and shallow finishing of a mesh (issue 17): a threshold angle splits the surface;
//! waterlines finish the steep part (where parallel passes would climb the wall with wide
//! scallops) and parallel passes the shallow part (where waterlines would lie far apart), each
//! reaching an overlap past the boundary so no witness line is left where they meet.
//!
//! The slope is read from the tool's own cutter-location surface (the exact drop-cutter,
//! with the stock to leave): its gradient by central differences on a grid a quarter of the
//! tool's radius apart (for a ball the cutter-location surface's normal is the part's at the
//! contact, so its slope is the part's; for a flat end mill on a plane it is the plane's).
//! Grid nodes steeper than the threshold are steep, the others shallow (as is the floor
//! round the part); each side is grown by half the overlap (a two-pass chamfer distance on the
//! grid, within 8 % of the Euclidean), and a point belongs to the node nearest it. Waterline
//! contours keep the pieces inside the grown steep side (a loop wholly inside stays a loop);
//! parallel passes are cut where they leave the grown shallow side. Waterline levels on the
//! steep side are stepped for the scallop at the threshold slope: the scallop step on a
//! vertical wall times the sine of the threshold angle.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::parallel::{ParallelParams, parallel_within};
use super::waterline::{WaterlineParams, waterline_within};
use super::{Cancel, CutParams, OpError, OpResult, param_err};
use crate::cl::{CutterShape, DropCutter};
use crate::geometry::Tolerance;
use crate::geometry::mesh::Mesh;
use crate::tool::Tool;

/// Parameters of steep-and-shallow finishing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SteepShallowParams {
    /// Heights (the final depth is the lowest either strategy goes), the waterlines'
    /// step-down (else from the scallop), the stock to leave, climb or conventional, entry.
    #[serde(flatten)]
    pub cut: CutParams,
    /// Slopes steeper than this, degrees from horizontal, are finished by waterlines; the
    /// rest by parallel passes.
    pub threshold_deg: f64,
    /// The width of the band along the boundary that both cut, mm (none: the tool's
    /// radius); each reaches half of it past the boundary.
    pub overlap_mm: Option<f64>,
    /// The scallop height to leave, mm: between parallel passes and between waterlines at
    /// the threshold slope (default 1 µm).
    pub scallop_mm: Option<f64>,
    /// The parallel passes this far apart instead of from the scallop, mm.
    pub stepover_mm: Option<f64>,
    /// Direction of the parallel passes, degrees from X.
    pub angle_deg: f64,
    /// Parallel passes in alternate directions (else one way).
    pub zigzag: bool,
    /// Parallel passes added where a slope across them would leave a higher scallop (up
    /// the overlap band too).
    pub slope_compensation: bool,
}

impl Default for SteepShallowParams {
    fn default() -> Self {
        Self {
            cut: CutParams::default(),
            threshold_deg: 45.0,
            overlap_mm: None,
            scallop_mm: None,
            stepover_mm: None,
            angle_deg: 0.0,
            zigzag: true,
            slope_compensation: true,
        }
    }
}

/// Nodes of the slope grid across, at most.
const MAX_NODES: f64 = 2000.0;

/// Which parts of the plan are steep, on a grid.
struct SlopeMap {
    x0: f64,
    y0: f64,
    h: f64,
    nx: usize,
    ny: usize,
    steep: Vec<bool>,
    /// Within half the overlap of a steep node (steep nodes included).
    near_steep: Vec<bool>,
    /// Within half the overlap of a shallow node.
    near_shallow: Vec<bool>,
}

impl SlopeMap {
    fn node(&self, x: f64, y: f64) -> usize {
        let i = ((x - self.x0) / self.h)
            .round()
            .clamp(0.0, (self.nx - 1) as f64) as usize;
        let j = ((y - self.y0) / self.h)
            .round()
            .clamp(0.0, (self.ny - 1) as f64) as usize;
        j * self.nx + i
    }
    fn steep_side(&self, x: f64, y: f64) -> bool {
        self.near_steep[self.node(x, y)]
    }
    fn shallow_side(&self, x: f64, y: f64) -> bool {
        self.near_shallow[self.node(x, y)]
    }
}

/// Distance (mm) from each node to the nearest node where `from` holds: two chamfer passes.
fn distance(from: &[bool], nx: usize, ny: usize, h: f64) -> Vec<f64> {
    let diag = h * std::f64::consts::SQRT_2;
    let mut d: Vec<f64> = from
        .iter()
        .map(|&b| if b { 0.0 } else { f64::INFINITY })
        .collect();
    let at = |i: usize, j: usize| j * nx + i;
    for j in 0..ny {
        for i in 0..nx {
            let mut v = d[at(i, j)];
            if i > 0 {
                v = v.min(d[at(i - 1, j)] + h);
            }
            if j > 0 {
                v = v.min(d[at(i, j - 1)] + h);
                if i > 0 {
                    v = v.min(d[at(i - 1, j - 1)] + diag);
                }
                if i + 1 < nx {
                    v = v.min(d[at(i + 1, j - 1)] + diag);
                }
            }
            d[at(i, j)] = v;
        }
    }
    for j in (0..ny).rev() {
        for i in (0..nx).rev() {
            let mut v = d[at(i, j)];
            if i + 1 < nx {
                v = v.min(d[at(i + 1, j)] + h);
            }
            if j + 1 < ny {
                v = v.min(d[at(i, j + 1)] + h);
                if i + 1 < nx {
                    v = v.min(d[at(i + 1, j + 1)] + diag);
                }
                if i > 0 {
                    v = v.min(d[at(i - 1, j + 1)] + diag);
                }
            }
            d[at(i, j)] = v;
        }
    }
    d
}

/// The slope map of `dc`'s cutter-location surface (never below `floor`) over its plan with
/// `margin`.
fn slope_map(
    dc: &DropCutter,
    floor: f64,
    margin: f64,
    threshold_deg: f64,
    overlap: f64,
    cancel: &Cancel,
) -> Result<SlopeMap, OpError> {
    let (lo, hi) = dc.bounds();
    let r = dc_radius(dc);
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]) + 2.0 * margin;
    let h = (r * 0.25).max(extent / MAX_NODES);
    let (x0, y0) = (lo[0] - margin, lo[1] - margin);
    let nx = ((hi[0] + margin - x0) / h).ceil() as usize + 1;
    let ny = ((hi[1] + margin - y0) / h).ceil() as usize + 1;
    let rows: Vec<Vec<f64>> = (0..ny)
        .into_par_iter()
        .map(|j| {
            if cancel.requested() {
                return vec![floor; nx];
            }
            let y = y0 + j as f64 * h;
            (0..nx)
                .map(|i| dc.drop(x0 + i as f64 * h, y, floor).max(floor))
                .collect()
        })
        .collect();
    cancel.check()?;
    let z = |i: usize, j: usize| rows[j][i];
    let tan = threshold_deg.to_radians().tan();
    let mut steep = vec![false; nx * ny];
    for j in 0..ny {
        for i in 0..nx {
            let gx = (z((i + 1).min(nx - 1), j) - z(i.saturating_sub(1), j))
                / (h * ((i + 1).min(nx - 1) - i.saturating_sub(1)) as f64);
            let gy = (z(i, (j + 1).min(ny - 1)) - z(i, j.saturating_sub(1)))
                / (h * ((j + 1).min(ny - 1) - j.saturating_sub(1)) as f64);
            steep[j * nx + i] = gx.hypot(gy) > tan;
        }
    }
    let shallow: Vec<bool> = steep.iter().map(|&b| !b).collect();
    // A band a whole number of cells wide is not left to rounding (the same part at another
    // scale gives the same mask).
    let half = overlap * 0.5 + h * 1e-9;
    let near_steep = distance(&steep, nx, ny, h)
        .into_iter()
        .map(|d| d <= half)
        .collect();
    let near_shallow = distance(&shallow, nx, ny, h)
        .into_iter()
        .map(|d| d <= half)
        .collect();
    Ok(SlopeMap {
        x0,
        y0,
        h,
        nx,
        ny,
        steep,
        near_steep,
        near_shallow,
    })
}

/// The radius a drop-cutter's tool reaches (its plan box grows by it).
fn dc_radius(dc: &DropCutter) -> f64 {
    dc.shape().radius()
}

/// Steep-and-shallow finishing of `mesh`.
pub fn steep_shallow(
    mesh: &Mesh,
    tool: &Tool,
    p: &SteepShallowParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "steep-shallow";
    let shape = p.cut.finishing_shape(OP, tool, mesh)?;
    if !(p.threshold_deg.is_finite() && (5.0..=85.0).contains(&p.threshold_deg)) {
        return Err(param_err(
            OP,
            "threshold_deg",
            format!(
                "is {}; give the slope between the two strategies in degrees, from 5 to 85",
                p.threshold_deg
            ),
        ));
    }
    let overlap = p.overlap_mm.unwrap_or(tool.radius_mm());
    if !(overlap.is_finite() && overlap >= 0.0 && overlap <= 100.0 * tool.diameter_mm) {
        return Err(param_err(
            OP,
            "overlap_mm",
            format!("is {overlap}; give 0 or more, in mm (default: the tool's radius)"),
        ));
    }
    // Waterline levels: the step-down, or the scallop's step on a vertical wall times the
    // threshold's sine (the scallop at the threshold slope is the one asked for).
    let own = CutterShape::of(tool, 0.0).map_err(|e| param_err(OP, "tool", e))?;
    // A tool without a corner radius leaves no scallop on a wall: its waterlines step by
    // the step-down, or a tenth of its diameter (the notes say so); the scallop is the
    // parallel passes'.
    let wl0 = WaterlineParams {
        cut: p.cut,
        scallop_mm: p.scallop_mm.filter(|_| own.corner_radius() > 0.0),
    };
    let (wall_step, scallop) = wl0.step_mm(&own).map_err(|e| {
        param_err(
            OP,
            if p.scallop_mm.is_some() {
                "scallop_mm"
            } else {
                "stepdown_mm"
            },
            e,
        )
    })?;
    let wl_step = if scallop.is_some() {
        wall_step * p.threshold_deg.to_radians().sin()
    } else {
        wall_step
    };
    let flat_default = scallop.is_none() && p.cut.stepdown_mm.is_none();
    let wl = WaterlineParams {
        cut: CutParams {
            stepdown_mm: Some(wl_step),
            ..p.cut
        },
        scallop_mm: None,
    };
    let pl = ParallelParams {
        cut: p.cut,
        scallop_mm: p.scallop_mm,
        stepover_mm: p.stepover_mm,
        angle_deg: p.angle_deg,
        zigzag: p.zigzag,
        slope_compensation: p.slope_compensation,
        stock_margin_mm: None,
        silhouette_offset_mm: None,
    };
    let dc = DropCutter::new(mesh, shape);
    let floor = -p.cut.heights.final_depth_mm;
    let margin = tool.radius_mm() + overlap;
    let map = slope_map(&dc, floor, margin, p.threshold_deg, overlap, cancel)?;
    let steep_nodes = map.steep.iter().filter(|&&b| b).count();
    let mut out = OpResult::default();
    let steep_side = |x: f64, y: f64| map.steep_side(x, y);
    let shallow_side = |x: f64, y: f64| map.shallow_side(x, y);
    if steep_nodes > 0 {
        let w = waterline_within(mesh, tool, &wl, Some(&steep_side), tol, cancel)?;
        out.toolpath = w.toolpath;
        out.warnings
            .extend(w.warnings.into_iter().map(|s| format!("waterline: {s}")));
        out.notes
            .extend(w.notes.into_iter().map(|s| format!("waterline: {s}")));
    }
    // Nothing steep: the parallel finish itself.
    let mask: Option<super::parallel::Mask<'_>> = (steep_nodes > 0).then_some(&shallow_side);
    let par = parallel_within(mesh, tool, &pl, mask, tol, cancel)?;
    if out.toolpath.moves.is_empty() {
        out.toolpath = par.toolpath;
    } else {
        out.toolpath.extend(&par.toolpath);
    }
    // Where the passes reach up the walls in the overlap band the waterlines finish: what
    // the parallel finish alone would warn of there is no risk here.
    for w in par.warnings {
        if w.contains("finish steep walls with waterline") && steep_nodes > 0 {
            out.notes.push(format!(
                "parallel (in the overlap, the waterlines finish these walls): {w}"
            ));
        } else {
            out.warnings.push(format!("parallel: {w}"));
        }
    }
    out.notes
        .extend(par.notes.into_iter().map(|s| format!("parallel: {s}")));
    let total = map.steep.len().max(1);
    out.notes.insert(
        0,
        format!(
            "steep and shallow at {}°: {:.1} % of the plan steep (waterlines {wl_step:.4} mm apart{}), the rest parallel passes; each reaches {:.4} mm past the boundary (overlap {overlap:.4} mm, slope grid {:.4} mm)",
            p.threshold_deg,
            100.0 * steep_nodes as f64 / total as f64,
            if scallop.is_some() {
                format!(", the scallop at {}°", p.threshold_deg)
            } else if flat_default {
                ": a tenth of the tool's diameter, as the tool has no corner radius to leave a scallop by; set a step-down".to_string()
            } else {
                String::new()
            },
            overlap * 0.5,
            map.h
        ),
    );
    Ok(out)
}

#[cfg(test)]
mod tests;
