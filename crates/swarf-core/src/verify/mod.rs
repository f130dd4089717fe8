//! Verification of programs: read back, compare with the part, report gouges, rapids through
//! stock, plunges into uncut material and leftovers, with the simulation's micro-cutting checks.
//!
//! Against a drawing, a gouge is a cutting position whose tool disk crosses a closed loop of the
//! drawing (the centre closer than the radius to it): pockets and contours keep the radius from
//! every wall, so any crossing is a cut into the part. Open chains are lines to engrave or cut
//! on, not walls, and are not checked against. Against a mesh, a gouge is a cell where
//! the tool's bottom goes below the part's top surface.

mod export;
pub mod gcode;

use cavalier_contours::polyline::PlineVertex;
use rayon::prelude::*;
use serde::Serialize;

pub use export::{ExportCheckError, ExportIssue, ExportProblem, ExportReport, export_check};
pub use gcode::{GcodeError, ParsedProgram, read_gcode};

use crate::geometry::mesh::Mesh;
use crate::geometry::seggrid::seg_box;
use crate::geometry::{Bbox2, Pline, Tolerance, V2};
use crate::sim::{Heightmap, SimOptions, SimResult, Simulation, choose_cell};
use crate::tool::Tool;
use crate::toolpath::{Motion, P3, Toolpath, arc_sweep};

/// What a program is checked against.
#[derive(Clone, Copy)]
pub enum PartRef<'a> {
    /// The closed loops of a drawing (its walls).
    Drawing(&'a [Pline]),
    Mesh(&'a Mesh),
}

/// One gouge: where the tool cuts into the part, and how deep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gouge {
    /// G-code line (1-based), or the move index + 1 when there is no program text.
    pub line: u32,
    pub move_index: usize,
    pub depth_mm: f64,
    pub at: [f64; 3],
}

/// Settings of a verification.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerifyOptions {
    /// Stock beyond the part's bounding box, mm.
    pub stock_margin_mm: f64,
    /// Heightmap cell, mm; `None` chooses from the tool and part.
    pub resolution_mm: Option<f64>,
    pub sim: SimOptions,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            stock_margin_mm: 0.0,
            resolution_mm: None,
            sim: SimOptions::default(),
        }
    }
}

/// The verdict.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub gouges: Vec<Gouge>,
    /// Lines of rapid moves through stock.
    pub rapids_through_stock: Vec<u32>,
    /// Lines of feed moves plunging straight into uncut material.
    pub plunges: Vec<u32>,
    /// Largest material left above a mesh part's surface, mm (None for drawings).
    pub max_leftover_mm: Option<f64>,
    pub leftover_area_mm2: Option<f64>,
    pub sim: SimResult,
    pub cell_mm: f64,
    pub warnings: Vec<String>,
}

impl VerifyReport {
    /// A program fails verification when it gouges or rapids through stock.
    pub fn failed(&self) -> bool {
        !self.gouges.is_empty() || !self.rapids_through_stock.is_empty()
    }
}

/// Points along one move, with the arc's angles computed once.
struct MovePoints {
    from: P3,
    to: P3,
    arc: Option<(V2, f64, f64, f64)>,
}

impl MovePoints {
    fn new(from: P3, m: &crate::toolpath::Move) -> Self {
        let arc = match m.motion {
            Motion::Arc { centre, ccw } => Some((
                centre,
                from.xy().dist(centre),
                (from.xy() - centre).angle(),
                arc_sweep(from.xy(), m.to.xy(), centre, ccw),
            )),
            _ => None,
        };
        Self {
            from,
            to: m.to,
            arc,
        }
    }
    fn point(&self, f: f64) -> P3 {
        let z = self.from.z + (self.to.z - self.from.z) * f;
        match self.arc {
            Some((c, r, a0, sweep)) => {
                let q = c + V2::from_angle(a0 + sweep * f) * r;
                P3::new(q.x, q.y, z)
            }
            None => P3::new(
                self.from.x + (self.to.x - self.from.x) * f,
                self.from.y + (self.to.y - self.from.y) * f,
                z,
            ),
        }
    }
}

/// The top surface of a mesh on the heightmap's grid (−∞ where there is no part).
fn part_heights(mesh: &Mesh, grid: &Heightmap) -> Vec<f32> {
    let mut h = vec![f32::NEG_INFINITY; grid.nx * grid.ny];
    for t in &mesh.triangles {
        let p: Vec<[f64; 3]> = t.iter().map(|&i| mesh.vertices[i as usize]).collect();
        let (a, b, c) = (
            V2::new(p[0][0], p[0][1]),
            V2::new(p[1][0], p[1][1]),
            V2::new(p[2][0], p[2][1]),
        );
        let area = (b - a).cross(c - a);
        if area == 0.0 {
            continue;
        }
        let lo = V2::new(a.x.min(b.x).min(c.x), a.y.min(b.y).min(c.y));
        let hi = V2::new(a.x.max(b.x).max(c.x), a.y.max(b.y).max(c.y));
        let i0 = (((lo.x - grid.origin.x) / grid.cell - 0.5).ceil().max(0.0)) as usize;
        let j0 = (((lo.y - grid.origin.y) / grid.cell - 0.5).ceil().max(0.0)) as usize;
        let i1 = ((hi.x - grid.origin.x) / grid.cell - 0.5).floor();
        let j1 = ((hi.y - grid.origin.y) / grid.cell - 0.5).floor();
        if i1 < 0.0 || j1 < 0.0 {
            continue;
        }
        let (i1, j1) = (
            (i1 as usize).min(grid.nx - 1),
            (j1 as usize).min(grid.ny - 1),
        );
        for j in j0..=j1 {
            for i in i0..=i1 {
                let q = grid.centre(i, j);
                let w0 = (b - q).cross(c - q) / area;
                let w1 = (c - q).cross(a - q) / area;
                let w2 = 1.0 - w0 - w1;
                if w0 >= 0.0 && w1 >= 0.0 && w2 >= 0.0 {
                    let z = w0 * p[0][2] + w1 * p[1][2] + w2 * p[2][2];
                    let k = j * grid.nx + i;
                    h[k] = h[k].max(z as f32);
                }
            }
        }
    }
    h
}

/// Verifies a toolpath (`lines[i]` is the G-code line of move `i`, when known).
pub fn verify(
    tp: &Toolpath,
    lines: Option<&[u32]>,
    part: PartRef<'_>,
    tool: &Tool,
    opts: &VerifyOptions,
    tol: &Tolerance,
) -> VerifyReport {
    let line = |i: usize| {
        lines
            .and_then(|l| l.get(i).copied())
            .unwrap_or(i as u32 + 1)
    };
    let r = tool.radius_mm();
    // Stock: the part's box plus the margin, top at 0, bottom at the part's lowest point or the
    // deepest cut.
    let (mut bb, part_bottom) = match part {
        PartRef::Drawing(loops) => {
            let mut b = Bbox2::EMPTY;
            for l in loops {
                b.union(&crate::geometry::pline_bbox(l));
            }
            (b, f64::INFINITY)
        }
        PartRef::Mesh(m) => {
            let (lo, hi) = m.bounds().unwrap_or(([0.0; 3], [0.0; 3]));
            let mut b = Bbox2::EMPTY;
            b.add_point(V2::new(lo[0], lo[1]));
            b.add_point(V2::new(hi[0], hi[1]));
            (b, lo[2])
        }
    };
    if bb.is_empty() {
        bb.add_point(V2::default());
    }
    let margin = opts.stock_margin_mm.max(0.0);
    let (min, max) = (
        V2::new(bb.min.x - margin, bb.min.y - margin),
        V2::new(bb.max.x + margin, bb.max.y + margin),
    );
    let deepest = tp.moves.iter().map(|m| m.to.z).fold(0.0f64, f64::min);
    let bottom = part_bottom.min(deepest) - r;
    let cell = opts
        .resolution_mm
        .filter(|c| c.is_finite() && *c > 0.0)
        .unwrap_or_else(|| choose_cell(r, max.x - min.x, max.y - min.y));
    let stock = Heightmap::new(min, max, bottom, 0.0, cell);
    let mut warnings = Vec::new();
    let zt = tol.path_mm;
    let heights = match part {
        PartRef::Mesh(m) => Some(part_heights(m, &stock)),
        PartRef::Drawing(_) => None,
    };
    let gouges = match part {
        PartRef::Drawing(loops) => gouges_against_drawing(tp, lines, loops, tool, tol),
        PartRef::Mesh(_) => {
            let h = heights.as_ref().expect("mesh heights");
            gouges_against_heights(tp, lines, &stock, h, tool, tol)
        }
    };
    let mut sim = Simulation::new(stock, tp, tool, opts.sim, *tol);
    sim.run_to(tp.moves.len());
    let (max_leftover, leftover_area) = match &heights {
        Some(h) => {
            let mut worst: f64 = 0.0;
            let mut cells = 0usize;
            for (k, &ph) in h.iter().enumerate() {
                let target = if ph.is_finite() {
                    f64::from(ph)
                } else {
                    sim.stock.bottom
                };
                let left = f64::from(sim.stock.z[k]) - target.max(sim.stock.bottom);
                if left > zt {
                    worst = worst.max(left);
                    cells += 1;
                }
            }
            (Some(worst), Some(cells as f64 * cell * cell))
        }
        None => (None, None),
    };
    let mut result = std::mem::take(&mut sim.result);
    let cell_mm = sim.stock.cell;
    let to_lines = |v: &[usize]| v.iter().map(|&i| line(i)).collect::<Vec<u32>>();
    let rapids = to_lines(&result.rapids_through_stock);
    let plunges = to_lines(&result.plunges);
    if !plunges.is_empty() {
        warnings.push(format!(
            "{} plunge(s) straight into uncut material (first at line {}): micro tools break on plunges; use a helix or ramp entry",
            plunges.len(),
            plunges[0]
        ));
    }
    let fraction = opts.sim.min_chip_fraction_of(tool);
    if !result.thin_chips.is_empty() {
        warnings.push(format!(
            "{} move(s) cut chips thinner than the minimum chip thickness ({:.2} µm, {} × the {} µm edge radius), first at line {}: the tool rubs instead of cutting; raise the feed per tooth",
            result.thin_chips.len(),
            fraction * tool.cutting_edge_radius_um,
            fraction,
            tool.cutting_edge_radius_um,
            line(result.thin_chips[0])
        ));
    }
    if !result.deflected.is_empty() {
        warnings.push(format!(
            "{} move(s) deflect the tool more than {} µm (up to {:.2} µm, first at line {}): reduce the engagement, the depth or the stick-out",
            result.deflected.len(),
            opts.sim.deflection_limit_mm * 1000.0,
            result.max_deflection_um,
            line(result.deflected[0])
        ));
    }
    if !result.starving.is_empty() {
        warnings.push(format!(
            "{} move(s) are so short at their feed that the controller needs more than {} blocks/s (first at line {}): it will slow down",
            result.starving.len(),
            opts.sim.max_blocks_per_s,
            line(result.starving[0])
        ));
    }
    result.per_move.shrink_to_fit();
    VerifyReport {
        gouges,
        rapids_through_stock: rapids,
        plunges,
        max_leftover_mm: max_leftover,
        leftover_area_mm2: leftover_area,
        sim: result,
        cell_mm,
        warnings,
    }
}

/// The change of a sloped move's cut width over which the gouge test takes it as one piece,
/// mm.
const VARYING_WIDTH_STEP_MM: f64 = 1e-3;

/// Cutting positions whose tool disk crosses a line of the drawing. The disk is the cut's
/// width at the top of the stock (Z = 0, where a drawing's lines are): a V tool or a drill's
/// point that dips in shallowly cuts narrower than its shank ([`Tool::radius_at_depth_mm`]).
pub fn gouges_against_drawing(
    tp: &Toolpath,
    lines: Option<&[u32]>,
    loops: &[Pline],
    tool: &Tool,
    tol: &Tolerance,
) -> Vec<Gouge> {
    let r = tool.radius_mm();
    let line = |i: usize| {
        lines
            .and_then(|l| l.get(i).copied())
            .unwrap_or(i as u32 + 1)
    };
    let zt = tol.path_mm;
    let mut gouges = Vec::new();
    let grid = crate::geometry::seggrid::SegGrid::new(loops, (r * 4.0).max(tol.path_mm * 100.0));
    let mut seen = (Vec::new(), 0u32);
    let mut from = tp.start;
    for (i, m) in tp.moves.iter().enumerate() {
        if !matches!(m.motion, Motion::Rapid) && (m.to.z < -zt || from.z < -zt) {
            // The move as a bulge segment, measured exactly against the drawing's segments
            // near it.
            let bulge = match m.motion {
                Motion::Arc { centre, ccw } => {
                    (arc_sweep(from.xy(), m.to.xy(), centre, ccw) / 4.0).tan()
                }
                _ => 0.0,
            };
            // A straight move whose depth changes cuts a width that changes with it (a V
            // tool or a drill's point; a V-carve touches the walls all along): it is measured
            // in pieces over which the width changes by at most a micrometre, each with its
            // narrower end's width, so that the test misses no gouge deeper than that.
            let (r0, r1) = (
                tool.radius_at_depth_mm(-from.z),
                tool.radius_at_depth_mm(-m.to.z),
            );
            let sloped = bulge == 0.0 && from.z != m.to.z;
            let pieces = if sloped {
                (((r1 - r0).abs() / VARYING_WIDTH_STEP_MM).ceil() as usize).clamp(1, 4096)
            } else {
                1
            };
            let mut depth = f64::NEG_INFINITY;
            for k in 0..pieces {
                let (f0, f1) = (k as f64 / pieces as f64, (k + 1) as f64 / pieces as f64);
                let p0 = from.xy().lerp(m.to.xy(), f0);
                let p1 = from.xy().lerp(m.to.xy(), f1);
                let (a, b) = (
                    PlineVertex::new(p0.x, p0.y, bulge),
                    PlineVertex::new(p1.x, p1.y, 0.0),
                );
                let r_cut = if sloped {
                    (r0 + (r1 - r0) * f0).min(r0 + (r1 - r0) * f1)
                } else {
                    r0.max(r1)
                };
                let d = grid.nearest_to_seg(a, b, seg_box(a, b), r_cut, &mut seen);
                depth = depth.max(r_cut - d);
            }
            if depth > zt {
                let p = MovePoints::new(from, m).point(0.5);
                gouges.push(Gouge {
                    line: line(i),
                    move_index: i,
                    depth_mm: depth,
                    at: [p.x, p.y, p.z],
                });
            }
        }
        from = m.to;
    }
    gouges
}

/// Cells where the tool's bottom goes below a mesh part's top surface (`heights` on `grid`).
pub fn gouges_against_heights(
    tp: &Toolpath,
    lines: Option<&[u32]>,
    grid: &Heightmap,
    heights: &[f32],
    tool: &Tool,
    tol: &Tolerance,
) -> Vec<Gouge> {
    let line = |i: usize| {
        lines
            .and_then(|l| l.get(i).copied())
            .unwrap_or(i as u32 + 1)
    };
    let zt = tol.path_mm;
    // The part is known at cell centres: a cell centre on the part's outline may lie up to
    // three quarters of a cell inside the tool's reach without a real cut; that is the check's
    // resolution in XY (Z is exact).
    let mut t = tool.clone();
    t.diameter_mm = (tool.diameter_mm - 1.5 * grid.cell).max(tool.diameter_mm * 0.5);
    if let crate::tool::ToolShape::Bull { corner_radius_mm } = t.shape {
        t.shape = crate::tool::ToolShape::Bull {
            corner_radius_mm: corner_radius_mm.min(t.diameter_mm * 0.5),
        };
    }
    let profile = crate::sim::CutterProfile::of(&t);
    // Moves are independent: checked in parallel, reported in order.
    (0..tp.moves.len())
        .into_par_iter()
        .with_min_len(256)
        .filter_map(|i| {
            let m = &tp.moves[i];
            let from = if i == 0 { tp.start } else { tp.moves[i - 1].to };
            let mut worst: Option<(f64, usize)> = None;
            grid.sweep(from, m, &profile, |k, z| {
                let depth = f64::from(heights[k]) - z;
                if depth > zt && worst.is_none_or(|(w, _)| depth > w) {
                    worst = Some((depth, k));
                }
            });
            worst.map(|(depth, k)| {
                let c = grid.centre(k % grid.nx, k / grid.nx);
                Gouge {
                    line: line(i),
                    move_index: i,
                    depth_mm: depth,
                    at: [c.x, c.y, m.to.z],
                }
            })
        })
        .collect()
}

/// Rapid moves that pass through stock, found with a light simulation (cuts only, no cutting
/// checks) on a coarse grid over the stock `min`..`max` from `bottom` to 0: straight descents
/// read the stock under them, other rapids are swept with half the radius, so cells the tool
/// only grazes do not count (the `verify` command checks at full resolution). Returns move
/// indices.
pub fn check_rapids(
    tp: &Toolpath,
    min: V2,
    max: V2,
    bottom: f64,
    tool: &Tool,
    tol: &Tolerance,
) -> Vec<usize> {
    let r = tool.radius_mm();
    // Cells of 1.4 r: a cell whose centre a tool centre passed over is wholly inside that
    // tool's disk, so a descent onto an earlier path reads the height the path left.
    let cell = (r * 1.4).max((max.x - min.x).max(max.y - min.y) / 4000.0);
    let mut stock = Heightmap::new(min, max, bottom, 0.0, cell);
    let profile = crate::sim::CutterProfile::of(tool);
    let narrow = crate::sim::CutterProfile::flat(r * 0.5);
    let mut out = Vec::new();
    let mut from = tp.start;
    // Nothing after the last rapid that could meet stock matters: one below the stock top
    // that is not straight up (a tool rising along its own axis leaves through the hole it is
    // in). A program whose only rapids below the top are retracts (a one-level pocket) needs
    // no simulation at all.
    let mut last = 0;
    let mut f = tp.start;
    for (i, m) in tp.moves.iter().enumerate() {
        let straight_up = m.to.xy() == f.xy() && m.to.z >= f.z;
        if matches!(m.motion, Motion::Rapid) && (m.to.z < 0.0 || f.z < 0.0) && !straight_up {
            last = i + 1;
        }
        f = m.to;
    }
    // Where a feed went straight down (a drill, a plunge), the lowest it went: a rapid back
    // down that column (a peck cycle's return) stays in the hole the tool made itself.
    let mut drilled: std::collections::HashMap<(u64, u64), f64> = std::collections::HashMap::new();
    let key = |p: P3| (p.x.to_bits(), p.y.to_bits());
    for (i, m) in tp.moves[..last].iter().enumerate() {
        if matches!(m.motion, Motion::Rapid) {
            let straight_up = m.to.xy() == from.xy() && m.to.z >= from.z;
            if (m.to.z < 0.0 || from.z < 0.0) && !straight_up {
                let hit = if m.to.xy() == from.xy() {
                    // A straight descent: the stock under its end, unless the tool drilled
                    // this column deeper already.
                    // The stock is read at the cell's centre, under the tool's own surface
                    // there (a ball's or bull's is above its tip off the axis, as was the
                    // earlier cut that left the cell's height).
                    drilled
                        .get(&key(m.to))
                        .is_none_or(|&z| z > m.to.z + tol.path_mm)
                        && stock.at_cell(m.to.xy()).is_some_and(|(h, c)| {
                            let d = c.dist(m.to.xy()).min(r);
                            h > m.to.z.min(from.z) + profile.height(d) + tol.path_mm
                        })
                } else {
                    let mut hit = false;
                    stock.sweep(from, m, &narrow, |k, z| {
                        if f64::from(stock.z[k]) > z + tol.path_mm {
                            hit = true;
                        }
                    });
                    hit
                };
                if hit {
                    out.push(i);
                }
            }
        } else {
            if matches!(m.motion, Motion::Line) && m.to.xy() == from.xy() && m.to.z < from.z {
                let z = drilled.entry(key(m.to)).or_insert(m.to.z);
                *z = z.min(m.to.z);
            }
            // Feed moves cut as if level at their higher end: never more material removed than
            // in reality, so a rapid through stock is never hidden (and level moves take the
            // simulation's fast path).
            let z = from.z.max(m.to.z);
            let mut lm = *m;
            lm.to.z = z;
            stock.cut(P3::new(from.x, from.y, z), &lm, &profile);
        }
        from = m.to;
    }
    out
}

/// How far rounding may have moved a written program's tool positions: h/√2 for the step
/// h = 10^-k, k the most decimals any end point coordinate has. A program is taken to carry at
/// least 3 decimals (the coarsest Swarf writes; one written in whole millimetres is read as 3).
/// 0 when some coordinate has more than 6 decimals: the moves were not rounded (a generated
/// toolpath, not one read back).
#[must_use]
pub fn coordinate_rounding_mm(tp: &Toolpath) -> f64 {
    // The decimals of one value: the fewest k with v·10^k an integer, up to the parse's own
    // error (a thousandth of the last digit); 7 when it has more than 6.
    let whole = |v: f64, k: i32| {
        let x = v * 10f64.powi(k);
        (x - x.round()).abs() <= 1e-3
    };
    // Only the most decimals matter: a value is tested at the most found so far (one test for
    // almost every value), and at more only when it has more.
    let mut k = 3;
    for p in std::iter::once(tp.start).chain(tp.moves.iter().map(|m| m.to)) {
        for v in [p.x, p.y, p.z] {
            while !whole(v, k) {
                k += 1;
                if k > 6 {
                    return 0.0;
                }
            }
        }
    }
    10f64.powi(-k) * std::f64::consts::FRAC_1_SQRT_2
}

/// The tolerance to check a program read back from text with: the path tolerance plus its
/// [`coordinate_rounding_mm`]. A wall pass exactly one radius from the wall moves up to
/// 0.7 µm towards it when written at 3 decimals; that is the chosen resolution, not a gouge.
#[must_use]
pub fn read_back_tolerance(tp: &Toolpath, tol: &Tolerance) -> Tolerance {
    Tolerance {
        path_mm: tol.path_mm + coordinate_rounding_mm(tp),
        ..*tol
    }
}

/// Gouges of a toolpath against a part, without the stock simulation (the fast check that
/// runs before every export).
pub fn check_gouges(
    tp: &Toolpath,
    lines: Option<&[u32]>,
    part: PartRef<'_>,
    tool: &Tool,
    tol: &Tolerance,
) -> Vec<Gouge> {
    match part {
        PartRef::Drawing(loops) => gouges_against_drawing(tp, lines, loops, tool, tol),
        PartRef::Mesh(m) => {
            let Some((lo, hi)) = m.bounds() else {
                return Vec::new();
            };
            let r = tool.radius_mm();
            let (min, max) = (V2::new(lo[0] - r, lo[1] - r), V2::new(hi[0] + r, hi[1] + r));
            let cell = choose_cell(r * 0.5, max.x - min.x, max.y - min.y);
            let grid = Heightmap::new(min, max, lo[2], 0.0, cell);
            let h = part_heights(m, &grid);
            gouges_against_heights(tp, lines, &grid, &h, tool, tol)
        }
    }
}

#[cfg(test)]
mod tests;
