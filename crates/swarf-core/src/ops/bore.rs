//! Helical boring: an end mill smaller than the hole goes down a helix of quarter-turn arcs
//! (as pocket's helix), turns a full circle at depth, optionally opens the hole to size with a
//! finishing circle and a spring pass, and leaves through the middle of the hole.

use serde::{Deserialize, Serialize};

use super::cursor::Cursor;
use super::{Cancel, CutParams, Direction, OpError, OpResult, param_err};
use crate::geometry::{Tolerance, V2};
use crate::holes::{self, HoleGroup};
use crate::tool::Tool;
use crate::toolpath::{MoveClass, P3};

/// Helical boring parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BoreParams {
    /// Heights, direction, the helix angle (`entry.ramp_angle_deg`) and the radial allowance
    /// left by the helix for the finishing circle.
    #[serde(flatten)]
    pub cut: CutParams,
    /// The holes bored: diameters from … to … (mm); none given: every hole larger than the
    /// tool.
    pub diameter_min_mm: f64,
    pub diameter_max_mm: Option<f64>,
    /// Depth per turn of the helix, mm; `None`: from the ramp angle.
    pub pitch_mm: Option<f64>,
    /// A finishing circle at the hole's size after the helix (which stays the radial allowance
    /// inside it).
    pub finish_pass: bool,
    /// The finishing circle once more (the tool springs back under load).
    pub spring_pass: bool,
}

impl Default for BoreParams {
    fn default() -> Self {
        let mut cut = CutParams::default();
        cut.heights.final_depth_mm = 0.5;
        Self {
            cut,
            diameter_min_mm: 0.0,
            diameter_max_mm: None,
            pitch_mm: None,
            finish_pass: false,
            spring_pass: false,
        }
    }
}

const OP: &str = "helical-bore";

/// Bores the holes of `groups` within the diameter range.
pub fn helical_bore(
    groups: &[HoleGroup],
    tool: &Tool,
    p: &BoreParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    helical_bore_from(groups, tool, p, V2::new(0.0, 0.0), tol, cancel)
}

/// [`helical_bore`] with the tool above `from` at the start (where the operation before
/// ended): the holes are ordered from there.
pub fn helical_bore_from(
    groups: &[HoleGroup],
    tool: &Tool,
    p: &BoreParams,
    from: V2,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    p.cut.check(OP, tool)?;
    if !(p.diameter_min_mm.is_finite() && p.diameter_min_mm >= 0.0) {
        return Err(param_err(
            OP,
            "diameter_min_mm",
            format!("is {}; it must be 0 or more", p.diameter_min_mm),
        ));
    }
    if let Some(pitch) = p.pitch_mm
        && !(pitch.is_finite() && pitch > 0.0)
    {
        return Err(param_err(
            OP,
            "pitch_mm",
            format!("is {pitch}; give a positive depth per turn (or leave it out)"),
        ));
    }
    let h = p.cut.heights;
    let mut cur = Cursor::new(tool, h, p.cut.entry, tol.equal_point_mm);
    cur.tp.start = P3::new(from.x, from.y, h.clearance_mm);
    let mut out = OpResult::default();
    let chosen = holes::in_range(groups, p.diameter_min_mm, p.diameter_max_mm, tol);
    if chosen.is_empty() {
        out.warnings.push(format!(
            "{OP}: no holes in the diameter range in the drawing (holes found: {})",
            holes::describe(groups)
        ));
        out.toolpath = cur.tp;
        return Ok(out);
    }
    let allowance = if p.finish_pass {
        p.cut.allowance_radial_mm
    } else {
        0.0
    };
    for g in &chosen {
        let room = (g.diameter_mm - tool.diameter_mm) * 0.5 - allowance;
        if room <= tol.equal_point_mm {
            return Err(param_err(
                OP,
                "tool",
                format!(
                    "the {:.4} mm holes (the first at ({:.4}, {:.4})) are not larger than the {} \
                     mm tool{}: bore them with a smaller end mill, or drill them",
                    g.diameter_mm,
                    g.centres[0].x,
                    g.centres[0].y,
                    tool.diameter_mm,
                    if allowance > 0.0 {
                        format!(" with {allowance} mm left for the finishing circle")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
    }
    for g in &chosen {
        let core = (g.diameter_mm - tool.diameter_mm) * 0.5 - allowance - tool.radius_mm();
        if core > tol.equal_point_mm {
            out.warnings.push(format!(
                "{OP}: the {:.4} mm holes ({}) are more than twice the {} mm tool: the helix \
                 leaves a core of {:.4} mm in the middle (it falls out of a through hole); pocket \
                 blind holes, or use a larger tool",
                g.diameter_mm,
                g.centres.len(),
                tool.diameter_mm,
                2.0 * core
            ));
        }
    }
    let pts: Vec<(V2, f64)> = chosen
        .iter()
        .flat_map(|g| g.centres.iter().map(|c| (*c, g.diameter_mm)))
        .collect();
    let xy: Vec<V2> = pts.iter().map(|p| p.0).collect();
    let order = holes::order(&xy, cur.pos().xy());
    out.notes.push(format!(
        "{OP}: {} hole(s), ordered: {:.1} mm of travel between them (in the drawing's order \
         {:.1} mm)",
        xy.len(),
        holes::travel(cur.pos().xy(), &xy, &order),
        holes::travel(cur.pos().xy(), &xy, &(0..xy.len()).collect::<Vec<_>>())
    ));
    out.hole_order = order.iter().map(|&i| xy[i]).collect();
    // Climb milling inside a hole with a clockwise spindle runs counter-clockwise.
    let ccw = p.cut.direction == Direction::Climb;
    let (z_top, z_bottom) = (-h.start_depth_mm, -h.final_depth_mm);
    for &i in &order {
        cancel.check()?;
        let (c, d) = pts[i];
        let r_final = (d - tool.diameter_mm) * 0.5;
        let r_helix = r_final - allowance;
        if let Some(pitch) = p.pitch_mm {
            cur.entry.ramp_angle_deg = (pitch / (std::f64::consts::TAU * r_helix))
                .atan()
                .to_degrees();
        }
        cur.helix(c, r_helix, z_top, z_bottom, ccw);
        // Everything after the helix runs along the radius the tool is at.
        let a0 = (cur.pos().xy() - c).angle();
        let sign = if ccw { 1.0 } else { -1.0 };
        let circle = |cur: &mut Cursor<'_>, r: f64| {
            for k in 1..=4 {
                let q =
                    c + V2::from_angle(a0 + sign * std::f64::consts::FRAC_PI_2 * f64::from(k)) * r;
                cur.tp.arc(
                    P3::new(q.x, q.y, z_bottom),
                    c,
                    ccw,
                    MoveClass::Cut,
                    cur.feed,
                );
            }
        };
        let mut r_at = r_helix;
        if p.finish_pass {
            let q = c + V2::from_angle(a0) * r_final;
            cur.tp
                .line(P3::new(q.x, q.y, z_bottom), MoveClass::Lead, cur.feed);
            circle(&mut cur, r_final);
            if p.spring_pass {
                circle(&mut cur, r_final);
            }
            r_at = r_final;
        } else if p.spring_pass {
            circle(&mut cur, r_helix);
        }
        // Off the wall towards the middle, as far as the helix cleared (a hole more than
        // twice the tool's diameter keeps a core there), then straight up: the tool does not
        // drag along the finished wall on the way out.
        let core = r_helix - tool.radius_mm();
        let r_out = if core > 0.0 { r_helix.min(r_at) } else { 0.0 };
        if r_out < r_at {
            let q = c + V2::from_angle(a0) * r_out;
            cur.tp
                .line(P3::new(q.x, q.y, z_bottom), MoveClass::Lead, cur.feed);
        }
        cur.retract();
    }
    cur.retract_clearance();
    out.toolpath = cur.tp;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolpath::Motion;

    fn group(d: f64, centres: &[(f64, f64)]) -> HoleGroup {
        HoleGroup {
            diameter_mm: d,
            centres: centres.iter().map(|&(x, y)| V2::new(x, y)).collect(),
        }
    }

    #[test]
    fn bores_to_size_and_refuses_holes_no_larger_than_the_tool() {
        let tool = Tool::micro_flat(0.5);
        let groups = [group(1.2, &[(2.0, 2.0), (5.0, 1.0)])];
        let p = BoreParams {
            finish_pass: true,
            spring_pass: true,
            cut: CutParams {
                allowance_radial_mm: 0.02,
                ..BoreParams::default().cut
            },
            ..BoreParams::default()
        };
        let tol = Tolerance::default();
        let r = helical_bore(&groups, &tool, &p, &tol, &Cancel::NEVER).unwrap();
        // Every arc at depth keeps the tool inside the hole: centre distance at most the
        // finished radius, and the finishing circles reach it.
        let mut reach = [0.0f64; 2];
        for m in &r.toolpath.moves {
            if let Motion::Arc { centre, .. } = m.motion {
                let k = usize::from(centre.x > 3.0);
                let d = m.to.xy().dist(centre);
                assert!(d <= 0.35 + 1e-9, "{d}");
                if (m.to.z + 0.5).abs() < 1e-12 {
                    reach[k] = reach[k].max(d);
                }
            }
        }
        assert!(reach.iter().all(|r| (r - 0.35).abs() < 1e-9), "{reach:?}");
        assert!(r.toolpath.moves.iter().all(|m| m.to.z >= -0.5 - 1e-12));
        // A hole the tool's size is refused, named.
        let e = helical_bore(
            &[group(0.5, &[(1.0, 1.0)])],
            &tool,
            &p,
            &tol,
            &Cancel::NEVER,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("0.5000 mm holes") && e.contains("(1.0000, 1.0000)"),
            "{e}"
        );
    }
}
