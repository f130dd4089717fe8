//! Projected engraving (issue 20): a flat engraving's toolpath laid onto a mesh's surface, so
//! that a mark is cut at its depth below a curved mold face.
//!
//! The flat toolpath is made with Z = 0 standing for the surface. Its points below the safe
//! height are then read as heights above the surface and raised by the exact drop-cutter's
//! tip height under them ([`crate::cl`]): the tool's own shape decides where it touches, so a
//! ball or V tool on a slope cuts the asked depth below its point of contact, never into the
//! surface beside the line. Between the flat toolpath's points each move is sampled along its
//! plan (line or arc) on a grid fine enough that nothing rises above a chord by more than half
//! the path tolerance at a vertex of the mesh, each interval halved until its chord follows
//! the surface, and collinear points merged again within the other half; an arc's chords are
//! also kept short enough to stay within half the tolerance of the arc in plan.
//!
//! Moves at the safe height and above (travel between lines, the final retract) are raised by
//! the surface's highest point where that is above Z = 0, so travel always clears the whole
//! surface; a move between a surface point and a travel height goes straight up or down over
//! the surface point (nothing is above the drop-cutter's height there), and across only at
//! the travel height. A rapid descent stops at the approach height above the stock's top
//! (what lies between it and a lower surface may not be cleared yet, and the export check
//! counts stock up to there) and is fed down from there. A line that runs off the surface (nothing under the tool) is refused:
//! there is no depth to cut it at.

use super::parallel::{merge_collinear, refine_samples};
use super::{Cancel, Heights, OpError, param_err};
use crate::cl::{CutterShape, DropCutter};
use crate::geometry::mesh::Mesh;
use crate::geometry::{Tolerance, V2};
use crate::tool::Tool;
use crate::toolpath::{Motion, Move, MoveClass, P3, Toolpath, arc_sweep};

/// What projecting did, for the notes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProjectReport {
    pub moves_in: usize,
    pub moves_out: usize,
    /// The surface's highest point, mm.
    pub top_mm: f64,
    /// How much the travel heights were raised to clear the surface, mm.
    pub lift_mm: f64,
    /// The lowest and highest tip heights of the cuts, mm.
    pub cut_z_min: f64,
    pub cut_z_max: f64,
}

impl ProjectReport {
    /// What projecting did, for the summary.
    pub fn note(&self, onto: &str, h: &Heights) -> String {
        let lift = if self.lift_mm > 0.0 {
            format!(
                "; safe and clearance heights raised by {:.4} mm to clear the surface's top",
                self.lift_mm
            )
        } else {
            String::new()
        };
        format!(
            "onto {onto}: the depths measured from its surface under the tool ({} moves became {}), cuts from Z {:.4} to {:.4}, the surface's top at Z {:.4}; travel at Z {:.4}{lift}",
            self.moves_in,
            self.moves_out,
            self.cut_z_min,
            self.cut_z_max,
            self.top_mm,
            h.safe_mm + self.lift_mm,
        )
    }

    /// A warning where the cuts lie deeper below the surface's top than the tool's flutes
    /// reach: the shank or holder may meet the part beside a deep mark.
    pub fn reach_warning(&self, tool: &Tool) -> Option<String> {
        let deep = self.top_mm - self.cut_z_min;
        (self.cut_z_min.is_finite() && deep > tool.flute_length_mm).then(|| {
            format!(
                "the deepest cut lies {deep:.4} mm below the surface's top, more than the tool's flute length ({} mm): check that the shank and holder clear the part there, or use a tool that reaches",
                tool.flute_length_mm
            )
        })
    }
}

/// The flat toolpath `tp` (Z = 0 the surface) on `mesh`'s surface, for `tool`. `heights` are
/// the operation's; `op` names it in errors.
pub fn project_onto(
    op: &'static str,
    tp: &Toolpath,
    mesh: &Mesh,
    tool: &Tool,
    heights: &Heights,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<(Toolpath, ProjectReport), OpError> {
    if mesh.triangles.is_empty() {
        return Err(param_err(
            op,
            "onto",
            "names a mesh with no triangles: give the STL of the surface to engrave".into(),
        ));
    }
    let shape = CutterShape::of(tool, 0.0).map_err(|e| param_err(op, "onto", e))?;
    let dc = DropCutter::new(mesh, shape);
    let top = dc.bounds().1[2];
    let lift = top.max(0.0);
    // Points at or above this are travel heights; below, heights above the surface.
    let travel = heights.safe_mm - 1e-9;
    let half = tol.path_mm * 0.5;
    // The plan step of the coarse samples: over a vertex of the mesh the cutter-location
    // surface is the tool's corner turned (radius ρ), whose sag over a chord h is h²/8ρ.
    let h0 = (8.0 * shape.bend_radius() * half)
        .sqrt()
        .clamp(tol.path_mm * 10.0, shape.radius() * 0.5);
    let mut out = Toolpath::new(tp.start);
    out.start.z = raise_travel(tp.start.z, travel, lift);
    let mut rep = ProjectReport {
        moves_in: tp.moves.len(),
        top_mm: top,
        lift_mm: lift,
        cut_z_min: f64::INFINITY,
        cut_z_max: f64::NEG_INFINITY,
        ..ProjectReport::default()
    };
    let surface_at = |p: V2| -> Result<f64, OpError> {
        let z = dc.drop(p.x, p.y, f64::NEG_INFINITY);
        if z.is_finite() {
            Ok(z)
        } else {
            Err(param_err(
                op,
                "onto",
                format!(
                    "the path at ({:.4}, {:.4}) runs off the surface (no part of the mesh under the tool there): place the drawing over the mesh (both are in work coordinates) or leave that line out",
                    p.x, p.y
                ),
            ))
        }
    };
    let mut from = tp.start;
    // Dwells and canned cycles belong to drilling: an engraving has none.
    for (i, m) in tp.moves.iter().enumerate() {
        if i % 256 == 0 {
            cancel.check()?;
        }
        let (a_up, b_up) = (from.z >= travel, m.to.z >= travel);
        let here = out.end();
        match (a_up, b_up) {
            (true, true) => {
                let mut n = *m;
                n.to.z = raise_travel(m.to.z, travel, lift);
                out.push(n);
            }
            (true, false) => {
                // Across at the travel height, then straight down onto the surface point.
                if here.xy().dist(m.to.xy()) > 0.0 {
                    out.rapid(P3::new(m.to.x, m.to.y, here.z));
                }
                let z = surface_at(m.to.xy())? + m.to.z;
                if m.motion == Motion::Rapid {
                    // Rapid no lower than that far above the stock's top: what lies between
                    // it and the surface may not be cleared yet; fed down from there.
                    let floor = lift + m.to.z.max(0.0);
                    out.rapid(P3::new(m.to.x, m.to.y, z.max(floor)));
                    out.line(
                        P3::new(m.to.x, m.to.y, z),
                        MoveClass::Entry,
                        tool.feeds.plunge_mm_per_min,
                    );
                } else {
                    out.push(Move {
                        motion: Motion::Line,
                        to: P3::new(m.to.x, m.to.y, z),
                        ..*m
                    });
                }
            }
            (false, true) => {
                // Straight up over the surface point, then across.
                let z = raise_travel(m.to.z, travel, lift);
                out.push(Move {
                    motion: line_of(m.motion),
                    to: P3::new(here.x, here.y, z.max(here.z)),
                    ..*m
                });
                if here.xy().dist(m.to.xy()) > 0.0 {
                    out.push(Move {
                        motion: line_of(m.motion),
                        to: P3::new(m.to.x, m.to.y, z.max(here.z)),
                        ..*m
                    });
                }
            }
            (false, false) => {
                let pts = follow(from, m, h0, half, tol, &surface_at)?;
                for p in pts {
                    if m.class != MoveClass::Rapid {
                        rep.cut_z_min = rep.cut_z_min.min(p.z);
                        rep.cut_z_max = rep.cut_z_max.max(p.z);
                    }
                    out.push(Move {
                        motion: line_of(m.motion),
                        to: p,
                        ..*m
                    });
                }
            }
        }
        from = m.to;
    }
    rep.moves_out = out.moves.len();
    Ok((out, rep))
}

/// A travel height raised by the surface's top (where above Z = 0).
fn raise_travel(z: f64, travel: f64, lift: f64) -> f64 {
    if z >= travel { z + lift } else { z }
}

/// A straight move of the same kind: rapids stay rapids, feed moves become lines.
fn line_of(m: Motion) -> Motion {
    match m {
        Motion::Rapid => Motion::Rapid,
        _ => Motion::Line,
    }
}

/// The points (after `from`) of move `m` laid on the surface: its plan sampled, each point at
/// the surface's height plus the move's height there.
fn follow(
    from: P3,
    m: &Move,
    h0: f64,
    half: f64,
    tol: &Tolerance,
    surface_at: &dyn Fn(V2) -> Result<f64, OpError>,
) -> Result<Vec<P3>, OpError> {
    // The plan as a function of the length along it, and how long it is.
    let (len, at, max_span): (f64, Box<dyn Fn(f64) -> V2>, f64) = match m.motion {
        Motion::Rapid | Motion::Line => {
            let (a, b) = (from.xy(), m.to.xy());
            let len = a.dist(b);
            (
                len,
                Box::new(move |s: f64| {
                    let t = if len > 0.0 { s / len } else { 0.0 };
                    V2::new(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
                }),
                f64::INFINITY,
            )
        }
        Motion::Arc { centre, ccw } => {
            let r = from.xy().dist(centre);
            let sweep = arc_sweep(from.xy(), m.to.xy(), centre, ccw);
            let a0 = (from.y - centre.y).atan2(from.x - centre.x);
            let len = r * sweep.abs();
            (
                len,
                Box::new(move |s: f64| {
                    let t = if len > 0.0 { s / len } else { 0.0 };
                    let a = a0 + sweep * t;
                    V2::new(centre.x + r * a.cos(), centre.y + r * a.sin())
                }),
                // A chord of span h leaves the arc by h²/8r: half the tolerance at most.
                (4.0 * r * half).sqrt(),
            )
        }
    };
    let dz = m.to.z - from.z;
    let height = |s: f64| {
        if len > 0.0 {
            from.z + dz * s / len
        } else {
            m.to.z
        }
    };
    if len <= tol.equal_point_mm {
        let z = surface_at(m.to.xy())? + m.to.z;
        return Ok(vec![P3::new(m.to.x, m.to.y, z)]);
    }
    // The surface under the plan must be there everywhere: checked on the coarse grid, and
    // the refinement below only looks between points found.
    let n = (len / h0.min(max_span)).ceil().max(1.0) as usize;
    let mut coarse = Vec::with_capacity(n + 1);
    for k in 0..=n {
        let s = len * k as f64 / n as f64;
        coarse.push((s, surface_at(at(s))? + height(s)));
    }
    let z = |s: f64| surface_at(at(s)).map_or(f64::NEG_INFINITY, |z| z + height(s));
    let pts = refine_samples(&coarse, z, half, half * 0.5);
    if let Some(&(s, _)) = pts.iter().find(|p| p.1 == f64::NEG_INFINITY) {
        // Off the surface between two coarse samples: say where.
        surface_at(at(s))?;
    }
    let pts = merge_collinear(&pts, half, max_span);
    Ok(pts
        .into_iter()
        .skip(1)
        .map(|(s, z)| {
            // The end exactly where the flat path ends (no rounding drift along an arc).
            let p = if s >= len { m.to.xy() } else { at(s) };
            P3::new(p.x, p.y, z)
        })
        .collect())
}

#[cfg(test)]
mod tests;
