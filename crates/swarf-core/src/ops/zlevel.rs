//! Z-level operations on meshes: roughing (clears the stock around and inside the part layer by
//! layer with the pocket machinery) and waterline contours (the part's walls at each level).
//!
//! Each layer's keep-out is the part's section at that level; where a higher section reaches
//! beyond a lower one (an overhang), the keep-out becomes the union of the outlines above, so
//! the tool never cuts under the overhang. Layers are computed in parallel and joined in order,
//! so the result is deterministic.

use cavalier_contours::polyline::{BooleanOp, PlineSource, PlineSourceMut};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::contour::{ContourParams, Side, contour};
use super::pocket::{Pattern, PocketParams, pocket};
use super::{Direction, Entry, Heights, OpError, OpResult, Stepover, check_common, param_err};
use crate::geometry::mesh::Mesh;
use crate::geometry::offset::orient;
use crate::geometry::{Pline, Region, Tolerance, nest_loops};
use crate::slice::{Slicer, flat_levels, slice_loops};
use crate::tool::{Tool, ToolShape};
use crate::toolpath::{P3, Toolpath};

/// Parameters of the z-level operations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZLevelParams {
    pub heights: Heights,
    pub stepover: Stepover,
    /// Depth per layer (flat levels of the part are added).
    pub stepdown_mm: Option<f64>,
    pub allowance_radial_mm: f64,
    pub allowance_axial_mm: f64,
    pub direction: Direction,
    pub pattern: Pattern,
    pub entry: Entry,
    /// Stock beyond the part's bounding box on every side; default the tool diameter.
    pub stock_margin_mm: Option<f64>,
}

impl Default for ZLevelParams {
    fn default() -> Self {
        Self {
            heights: Heights::default(),
            stepover: Stepover::Fraction(0.4),
            stepdown_mm: Some(0.1),
            allowance_radial_mm: 0.0,
            allowance_axial_mm: 0.0,
            direction: Direction::Climb,
            pattern: Pattern::Offset,
            entry: Entry::default(),
            stock_margin_mm: None,
        }
    }
}

fn check_mesh(op: &'static str, mesh: &Mesh) -> Result<(), OpError> {
    if mesh.triangles.is_empty() {
        return Err(param_err(op, "mesh", "has no triangles".into()));
    }
    let (open, nonmanifold, _, _) = mesh.topology();
    if open > 0 || nonmanifold > 0 {
        return Err(param_err(
            op,
            "mesh",
            format!(
                "is not a closed solid ({open} open edges, {nonmanifold} non-manifold edges); \
                 z-level operations need a watertight mesh to know inside from outside: repair it \
                 in your CAD program"
            ),
        ));
    }
    Ok(())
}

/// The layer heights, highest first: step-down levels and flat levels, shifted up by the axial
/// allowance.
fn layers(mesh: &Mesh, p: &ZLevelParams, tol: &Tolerance) -> Vec<f64> {
    let z_top = -p.heights.start_depth_mm;
    let z_bottom = -p.heights.final_depth_mm;
    let a = p.allowance_axial_mm;
    let mut zs = super::z_levels(z_top, z_bottom + a, p.stepdown_mm, tol.path_mm);
    for f in flat_levels(mesh, tol) {
        let z = f + a;
        if z < z_top - tol.path_mm && z > z_bottom + a - tol.path_mm {
            zs.push(z);
        }
    }
    zs.sort_by(|a, b| b.total_cmp(a));
    zs.dedup_by(|a, b| (*a - *b).abs() <= tol.path_mm);
    zs
}

/// Union of outer loops (counter-clockwise), pairwise with `cavalier_contours`.
fn union_outers(loops: Vec<Pline>) -> Vec<Pline> {
    let mut acc: Vec<Pline> = Vec::new();
    for mut l in loops {
        orient(&mut l, true);
        let mut merged = l;
        let mut rest = Vec::new();
        for a in acc.drain(..) {
            let r = merged.boolean(&a, BooleanOp::Or);
            if r.pos_plines.len() == 1 {
                merged = r.pos_plines.into_iter().next().expect("one").pline;
            } else {
                rest.push(a);
            }
        }
        rest.push(merged);
        acc = rest;
    }
    acc
}

/// The keep-out loops (material) at each layer, with overhangs handled.
fn keep_outs(
    slicer: &Slicer<'_>,
    zs: &[f64],
    extra_heights: f64,
    tol: &Tolerance,
    warnings: &mut Vec<String>,
) -> Vec<Vec<Pline>> {
    let per: Vec<Vec<Region>> = zs
        .par_iter()
        .map(|&z| {
            let mut loops = slice_loops(slicer, z, tol).loops;
            if extra_heights > 0.0 {
                // A ball tool reaches up to its radius above its tip: the outlines up there
                // count too (conservative: their union).
                for k in 1..=2 {
                    let zz = z + extra_heights * f64::from(k) / 2.0;
                    loops.extend(slice_loops(slicer, zz, tol).loops);
                }
                let regions = nest_loops(loops, tol);
                let outers = union_outers(regions.iter().map(|r| r.outer.clone()).collect());
                return nest_loops(outers, tol);
            }
            nest_loops(loops, tol)
        })
        .collect();
    let mut out: Vec<Vec<Pline>> = Vec::with_capacity(zs.len());
    let mut above: Vec<Pline> = Vec::new();
    let mut overhang_at: Option<f64> = None;
    for (i, regions) in per.iter().enumerate() {
        // Overhang: a point of a higher section outside this section's material.
        let covered = |q: crate::geometry::V2| {
            regions.iter().any(|r| r.contains(q))
                || regions
                    .iter()
                    .flat_map(|r| std::iter::once(&r.outer).chain(&r.islands))
                    .any(|l| {
                        l.closest_point(q.into(), tol.equal_point_mm)
                            .is_some_and(|c| c.distance <= tol.path_mm)
                    })
        };
        let overhang = above.iter().any(|l| {
            l.iter_vertexes()
                .step_by((l.vertex_count() / 16).max(1))
                .any(|v| !covered(crate::geometry::V2::new(v.x, v.y)))
        });
        let mut loops: Vec<Pline> = regions
            .iter()
            .flat_map(|r| std::iter::once(r.outer.clone()).chain(r.islands.iter().cloned()))
            .collect();
        if overhang {
            overhang_at.get_or_insert(zs[i]);
            let outers: Vec<Pline> = regions
                .iter()
                .map(|r| r.outer.clone())
                .chain(above.iter().cloned())
                .collect();
            loops = union_outers(outers);
        }
        // The silhouette of everything seen so far.
        let mut seen: Vec<Pline> = regions.iter().map(|r| r.outer.clone()).collect();
        seen.append(&mut above);
        above = union_outers(seen);
        out.push(loops);
    }
    if let Some(z) = overhang_at {
        warnings.push(format!(
            "zlevel: the part overhangs below Z {z:.4}; from there each layer keeps out the union \
             of the outlines above, and material under the overhang is left for another setup"
        ));
    }
    out
}

fn stock_loop(mesh: &Mesh, margin: f64) -> Pline {
    let (lo, hi) = mesh.bounds().expect("mesh has triangles");
    let (x0, y0, x1, y1) = (
        lo[0] - margin,
        lo[1] - margin,
        hi[0] + margin,
        hi[1] + margin,
    );
    let mut p = Pline::new_closed();
    p.add(x0, y0, 0.0);
    p.add(x1, y0, 0.0);
    p.add(x1, y1, 0.0);
    p.add(x0, y1, 0.0);
    p
}

/// Joins per-layer toolpaths (each starting and ending at safe height) into one.
fn join(parts: Vec<OpResult>, clearance: f64, warnings: &mut Vec<String>) -> Toolpath {
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, clearance));
    for r in parts {
        warnings.extend(r.warnings);
        tp.extend(&r.toolpath);
    }
    let end = tp.end();
    tp.rapid(P3::new(end.x, end.y, clearance));
    tp
}

/// Z-level roughing of a closed mesh.
pub fn zlevel_rough(
    mesh: &Mesh,
    tool: &Tool,
    p: &ZLevelParams,
    tol: &Tolerance,
) -> Result<OpResult, OpError> {
    const OP: &str = "zlevel-rough";
    check_common(
        OP,
        tool,
        &p.heights,
        p.stepdown_mm,
        (p.allowance_radial_mm, p.allowance_axial_mm),
        &p.entry,
    )?;
    check_mesh(OP, mesh)?;
    let margin = p.stock_margin_mm.unwrap_or(tool.diameter_mm);
    if !(margin.is_finite() && margin >= 0.0) {
        return Err(param_err(
            OP,
            "stock_margin_mm",
            format!("is {margin}; it must be zero or positive"),
        ));
    }
    let mut warnings = Vec::new();
    let slicer = Slicer::new(mesh);
    let zs = layers(mesh, p, tol);
    let extra = if matches!(tool.shape, ToolShape::Ball | ToolShape::Bull { .. }) {
        tool.radius_mm()
    } else {
        0.0
    };
    let keep = keep_outs(&slicer, &zs, extra, tol, &mut warnings);
    // The stock is a margin wider than the part, so a tool of the stock's margin width can
    // still clear all around; at least the tool diameter plus a step.
    let stock = stock_loop(mesh, margin + tool.diameter_mm);
    let inner = Heights {
        clearance_mm: p.heights.safe_mm,
        ..p.heights
    };
    let results: Vec<Result<OpResult, OpError>> = zs
        .par_iter()
        .enumerate()
        .map(|(i, &z)| {
            let z_prev = if i == 0 {
                -p.heights.start_depth_mm
            } else {
                zs[i - 1]
            };
            let loops: Vec<Pline> = std::iter::once(stock.clone())
                .chain(keep[i].iter().cloned())
                .collect();
            let regions = nest_loops(loops, tol);
            let pp = PocketParams {
                heights: Heights {
                    start_depth_mm: -z_prev,
                    final_depth_mm: -z,
                    ..inner
                },
                stepover: p.stepover,
                stepdown_mm: None,
                allowance_radial_mm: p.allowance_radial_mm,
                allowance_axial_mm: 0.0,
                direction: p.direction,
                pattern: p.pattern,
                zigzag_angle_deg: 0.0,
                entry: p.entry,
            };
            pocket(&regions, tool, &pp, tol)
        })
        .collect();
    let parts = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let toolpath = join(parts, p.heights.clearance_mm, &mut warnings);
    Ok(OpResult { toolpath, warnings })
}

/// Z-level (waterline) contours of a closed mesh's walls.
pub fn zlevel_contour(
    mesh: &Mesh,
    tool: &Tool,
    p: &ZLevelParams,
    tol: &Tolerance,
) -> Result<OpResult, OpError> {
    const OP: &str = "zlevel-contour";
    check_common(
        OP,
        tool,
        &p.heights,
        p.stepdown_mm,
        (p.allowance_radial_mm, p.allowance_axial_mm),
        &p.entry,
    )?;
    check_mesh(OP, mesh)?;
    let mut warnings = Vec::new();
    let slicer = Slicer::new(mesh);
    let zs = layers(mesh, p, tol);
    let extra = if matches!(tool.shape, ToolShape::Ball | ToolShape::Bull { .. }) {
        tool.radius_mm()
    } else {
        0.0
    };
    let keep = keep_outs(&slicer, &zs, extra, tol, &mut warnings);
    let inner = Heights {
        clearance_mm: p.heights.safe_mm,
        ..p.heights
    };
    let results: Vec<Result<OpResult, OpError>> = zs
        .par_iter()
        .enumerate()
        .map(|(i, &z)| {
            let z_prev = if i == 0 {
                -p.heights.start_depth_mm
            } else {
                zs[i - 1]
            };
            let regions = nest_loops(keep[i].clone(), tol);
            let cp = ContourParams {
                heights: Heights {
                    start_depth_mm: -z_prev,
                    final_depth_mm: -z,
                    ..inner
                },
                side: Side::Outside,
                allowance_radial_mm: p.allowance_radial_mm,
                direction: p.direction,
                entry: Entry {
                    kind: super::EntryKind::Ramp,
                    ..p.entry
                },
                lead_radius_mm: tool.radius_mm(),
                ..ContourParams::default()
            };
            let outers: Vec<Pline> = regions.iter().map(|r| r.outer.clone()).collect();
            let holes: Vec<Pline> = regions
                .iter()
                .flat_map(|r| r.islands.iter().cloned())
                .collect();
            let mut a = contour(&outers, &[], tool, &cp, tol)?;
            let b = contour(
                &holes,
                &[],
                tool,
                &ContourParams {
                    side: Side::Inside,
                    ..cp
                },
                tol,
            )?;
            a.toolpath.extend(&b.toolpath);
            a.warnings.extend(b.warnings);
            Ok(a)
        })
        .collect();
    let parts = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let toolpath = join(parts, p.heights.clearance_mm, &mut warnings);
    Ok(OpResult { toolpath, warnings })
}

#[cfg(test)]
mod tests;
