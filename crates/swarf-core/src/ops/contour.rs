//! Contour (profile): cuts along loops outside, inside or on the line, with the tool-radius
//! compensation computed here (never G41/G42). Several radial passes (roughing at the step-over,
//! a finishing pass at the line, an optional spring pass), a continuous ramp down through the
//! levels (never steeper than the ramp angle, never deeper per lap than the step-down), a full
//! lap at the final depth, tangent lead-in and lead-out arcs on the waste side, and holding tabs
//! on outside contours.

use cavalier_contours::polyline::{PlineSource, PlineVertex};
use serde::{Deserialize, Serialize};

use super::{
    Cancel, Cursor, CutParams, Direction, Entry, EntryKind, Heights, OpError, OpResult, Stepover,
    param_err,
};
use crate::geometry::bulge::{path_len, seg_tangents};
use crate::geometry::offset::{offset_loop, orient};
use crate::geometry::{Pline, Tolerance, V2, pline_bbox};
use crate::tool::Tool;
use crate::toolpath::MoveClass;
use crate::toolpath::emit::{ZProfile, emit_path, loop_path, repeat_loop};

/// Which side of the line the tool runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    #[default]
    Outside,
    Inside,
    On,
}

impl std::str::FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "outside" | "out" => Ok(Side::Outside),
            "inside" | "in" => Ok(Side::Inside),
            "on" | "online" => Ok(Side::On),
            _ => Err(format!("unknown side '{s}'; use outside, inside or on")),
        }
    }
}

/// Contour parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContourParams {
    /// Heights, step-down, allowances, direction and entry.
    #[serde(flatten)]
    pub cut: CutParams,
    pub side: Side,
    /// Distance between radial passes.
    pub stepover: Stepover,
    /// Radial roughing passes (at least 1; with no allowance the last one is the finish).
    pub roughing_passes: u32,
    /// Repeat the final pass once more (spring pass).
    pub spring_pass: bool,
    /// Radius of the lead-in and lead-out arcs (0: none).
    pub lead_radius_mm: f64,
    /// Holding tabs per outside contour (0: none).
    pub tabs: u32,
    /// Tab width along the part, mm.
    pub tab_width_mm: f64,
    /// Tab height above the final depth, mm.
    pub tab_height_mm: f64,
    /// Also cut the drawing's open chains (on the line only).
    pub open_chains: bool,
}

impl Default for ContourParams {
    fn default() -> Self {
        Self {
            cut: CutParams {
                heights: Heights::default(),
                stepdown_mm: None,
                allowance_radial_mm: 0.0,
                direction: Direction::Climb,
                entry: Entry {
                    kind: EntryKind::Ramp,
                    ..Entry::default()
                },
                ..CutParams::default()
            },
            side: Side::Outside,
            stepover: Stepover::Fraction(0.4),
            roughing_passes: 1,
            spring_pass: false,
            lead_radius_mm: 0.1,
            tabs: 0,
            tab_width_mm: 0.5,
            tab_height_mm: 0.1,
            open_chains: false,
        }
    }
}

/// Contours `loops` (closed) and `chains` (open; only on the line).
pub fn contour(
    loops: &[Pline],
    chains: &[Pline],
    tool: &Tool,
    p: &ContourParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "contour";
    p.cut.check(OP, tool)?;
    let d = tool.diameter_mm;
    let s = p.stepover.mm(d);
    if p.roughing_passes == 0 || p.roughing_passes > 1000 {
        return Err(param_err(
            OP,
            "roughing_passes",
            format!("is {}; use 1 to 1000", p.roughing_passes),
        ));
    }
    if p.roughing_passes > 1 && !(s.is_finite() && s > 0.0 && s <= d) {
        return Err(param_err(
            OP,
            "stepover",
            format!("is {s} mm; it must be positive and at most the tool diameter {d} mm"),
        ));
    }
    if !(p.lead_radius_mm.is_finite() && p.lead_radius_mm >= 0.0) {
        return Err(param_err(
            OP,
            "lead_radius_mm",
            format!("is {}; it must be zero or positive", p.lead_radius_mm),
        ));
    }
    if p.tabs > 0 {
        if !(p.tab_width_mm.is_finite() && p.tab_width_mm > 0.0) {
            return Err(param_err(
                OP,
                "tab_width_mm",
                format!("is {}; it must be positive", p.tab_width_mm),
            ));
        }
        let depth = p.cut.heights.final_depth_mm - p.cut.heights.start_depth_mm;
        if !(p.tab_height_mm.is_finite() && p.tab_height_mm > 0.0 && p.tab_height_mm < depth) {
            return Err(param_err(
                OP,
                "tab_height_mm",
                format!(
                    "is {}; it must be positive and less than the cut depth {depth}",
                    p.tab_height_mm
                ),
            ));
        }
    }
    let r = tool.radius_mm();
    let mut out = OpResult::default();
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    // Offsets of the passes, farthest first.
    let mut dists: Vec<f64> = Vec::new();
    let base = if p.side == Side::On { 0.0 } else { r };
    let rough = base + p.cut.allowance_radial_mm;
    for k in (0..p.roughing_passes).rev() {
        dists.push(rough + f64::from(k) * s);
    }
    if p.cut.allowance_radial_mm > 0.0 {
        dists.push(base);
    }
    if p.spring_pass {
        dists.push(base);
    }
    for (li, l) in loops.iter().enumerate() {
        if !l.is_closed() || l.vertex_count() < 2 {
            continue;
        }
        let mut ccw_loop = l.clone();
        orient(&mut ccw_loop, true);
        let b = pline_bbox(&ccw_loop);
        // A tool wider than the loop it goes around is cut as asked, but seldom what was meant
        // (a wrong tool or a wrong unit): said, not silent.
        if p.side == Side::Outside && d > b.width().min(b.height()) {
            out.warnings.push(format!(
                "contour: the {d} mm tool is wider than loop {li} ({:.4} x {:.4} mm at ({:.4}, {:.4})) it goes around; check the tool and the part's units",
                b.width(), b.height(), b.min.x, b.min.y
            ));
        }
        for &dist in &dists {
            cancel.check()?;
            // Positive offsets move a counter-clockwise loop inward.
            let signed = match p.side {
                Side::Outside => -dist,
                Side::Inside => dist,
                Side::On => 0.0,
            };
            let passes = if signed == 0.0 {
                vec![ccw_loop.clone()]
            } else {
                offset_loop(&ccw_loop, signed, tol)
            };
            if passes.is_empty() {
                // An outside offset of a clean loop always exists: when it fails the loop is
                // the problem, not its size.
                out.warnings.push(if signed < 0.0 {
                    format!(
                        "contour: the outside offset of loop {li} ({:.4} x {:.4} mm at ({:.4}, {:.4}); {} segments, the shortest {:.3} µm) failed, so it is not cut: the outline is not clean (it touches itself, or is many segments far shorter than the {d} mm tool); redraw it with arcs or fewer segments",
                        b.width(), b.height(), b.min.x, b.min.y,
                        ccw_loop.segment_count(),
                        shortest_segment(&ccw_loop) * 1000.0
                    )
                } else {
                    format!(
                        "contour: loop {li} ({:.4} x {:.4} mm at ({:.4}, {:.4})) is too small for the {d} mm tool on the inside; not cut",
                        b.width(), b.height(), b.min.x, b.min.y
                    )
                });
                break;
            }
            for mut pass in passes {
                // Climb (M3): outside contours clockwise (part on the right), inside
                // counter-clockwise.
                let want_ccw = match p.side {
                    Side::Outside => p.cut.direction == Direction::Conventional,
                    Side::Inside | Side::On => p.cut.direction == Direction::Climb,
                };
                orient(&mut pass, want_ccw);
                let tabs = p.side == Side::Outside && p.tabs > 0;
                cut_closed(&mut cur, &pass, p, tol, tabs, &ccw_loop);
            }
        }
    }
    if p.side != Side::On
        && let Some(c) = chains.iter().find(|c| c.vertex_count() >= 2)
    {
        let v = c.at(0);
        let n = chains.iter().filter(|c| c.vertex_count() >= 2).count();
        out.warnings.push(format!(
            "contour: {n} open chain(s) (the first starting at ({:.4}, {:.4})) have no {} and are not cut: use side 'on' to cut along them, or close them in the drawing",
            v.x,
            v.y,
            if p.side == Side::Outside { "outside" } else { "inside" }
        ));
    }
    for c in chains {
        cancel.check()?;
        if c.vertex_count() < 2 || p.side != Side::On {
            continue;
        }
        let fwd: Vec<PlineVertex<f64>> = c.iter_vertexes().collect();
        let back = crate::geometry::bulge::reverse_open(&fwd);
        let mut lap = fwd.clone();
        lap.pop();
        lap.extend(back);
        cut_lap_path(&mut cur, &lap, p, tol, None, None);
    }
    cur.retract_clearance();
    out.toolpath = cur.tp;
    Ok(out)
}

/// The length of the shortest segment of `l`.
fn shortest_segment(l: &Pline) -> f64 {
    l.iter_segments()
        .map(|(a, b)| crate::geometry::bulge::seg_len(a, b))
        .fold(f64::INFINITY, f64::min)
}

/// A closed pass with lead-in/out and tabs.
fn cut_closed(
    cur: &mut Cursor,
    pass: &Pline,
    p: &ContourParams,
    tol: &Tolerance,
    tabs: bool,
    part: &Pline,
) {
    let lap = loop_path(pass);
    let lead = lead_arcs(&lap, pass.area() > 0.0, p, part, tol, cur.tool.radius_mm());
    cut_lap_path(cur, &lap, p, tol, Some((lead, tabs)), None);
}

type Lead = Option<(Vec<PlineVertex<f64>>, Vec<PlineVertex<f64>>)>;

/// Lead-in (ending at the start, tangent to it) and lead-out (from the start, tangent) arcs on
/// the waste side. `None` when they would touch the part.
fn lead_arcs(
    lap: &[PlineVertex<f64>],
    ccw: bool,
    p: &ContourParams,
    part: &Pline,
    tol: &Tolerance,
    tool_radius: f64,
) -> Lead {
    // Waste side: away from the part. The part lies on the right of a clockwise outside pass
    // and on the left of a counter-clockwise inside pass; test which side is farther.
    let probe = |q: V2| part.winding_number(q.into()) != 0;
    let waste = |p0: V2, left: V2, rl: f64| match p.side {
        Side::Outside => {
            if probe(p0 + left * (rl * 0.5)) {
                -left
            } else {
                left
            }
        }
        Side::Inside => {
            if probe(p0 + left * (rl * 0.5)) {
                left
            } else {
                -left
            }
        }
        Side::On => {
            if ccw {
                left
            } else {
                -left
            }
        }
    };
    // The arcs must stay off the part (outside) / inside the pocket (inside) beyond the tool
    // radius: check samples against the part.
    // On the waste side, and (off the line) at least the tool's radius plus allowance from
    // the part, like the pass itself.
    let keep = if p.side == Side::On {
        0.0
    } else {
        tool_radius + p.cut.allowance_radial_mm
    };
    let ok = |q: V2| {
        let inside_part = part.winding_number(q.into()) != 0;
        let side_ok = match p.side {
            Side::Outside => !inside_part,
            Side::Inside => inside_part,
            Side::On => true,
        };
        side_ok
            && (keep == 0.0
                || part.iter_segments().all(|(a, b)| {
                    crate::geometry::biarc::seg_distance(a, b, q) >= keep - tol.path_mm
                }))
    };
    leads_where(lap, p.lead_radius_mm, tol, &waste, &ok)
}

/// Lead arcs of the full radius `lead_radius`, or of half, a quarter, an eighth of it where the
/// full ones would not fit: `waste(start, left normal, radius)` says which normal points to the
/// waste side, `ok(point)` whether a point of an arc is a place the tool may be.
fn leads_where(
    lap: &[PlineVertex<f64>],
    lead_radius: f64,
    tol: &Tolerance,
    waste: &dyn Fn(V2, V2, f64) -> V2,
    ok: &dyn Fn(V2) -> bool,
) -> Lead {
    let mut rl = lead_radius;
    for _ in 0..4 {
        if rl <= tol.path_mm * 10.0 || lap.len() < 2 {
            return None;
        }
        let p0 = V2::new(lap[0].x, lap[0].y);
        let t_in = seg_tangents(lap[0], lap[1]).0;
        let n = waste(p0, t_in.perp(), rl);
        let c = p0 + n * rl;
        let fits = (1..=8).all(|k| {
            let a = f64::from(k) / 8.0 * std::f64::consts::FRAC_PI_2;
            ok(c + (-n * a.cos() - t_in * a.sin()) * rl)
                && ok(c + (-n * a.cos() + t_in * a.sin()) * rl)
        });
        if fits {
            let l0 = c - t_in * rl;
            let l1 = c + t_in * rl;
            let ccw_arc = t_in.cross(n) > 0.0;
            let b = (std::f64::consts::FRAC_PI_2 / 4.0).tan() * if ccw_arc { 1.0 } else { -1.0 };
            return Some((
                vec![
                    PlineVertex::new(l0.x, l0.y, b),
                    PlineVertex::new(p0.x, p0.y, 0.0),
                ],
                vec![
                    PlineVertex::new(p0.x, p0.y, b),
                    PlineVertex::new(l1.x, l1.y, 0.0),
                ],
            ));
        }
        rl *= 0.5;
    }
    None
}

/// How a pass is entered: rapid down to a little above `clear_z` (the deepest Z known to be
/// cleared under the whole tool at the entry point), plunge at feed to `ramp_top_z`, ramp from
/// there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Descent {
    pub clear_z: f64,
    pub ramp_top_z: f64,
}

/// Cuts closed tool-centre paths that bound the free space `free` (the area where the tool's
/// centre keeps its distance from all the material, e.g. a z-level section inset as one shape,
/// so that walls closer than the tool are never cut through by a pass of another wall): each
/// pass as it comes, free space on its left, which is climb milling; reversed for
/// conventional. Lead arcs stay in `free`. `descent(start of the pass)` says how to enter
/// each pass, and whether along a lead-in arc (else straight down at the start).
pub(crate) fn cut_free_space_passes(
    passes: &[Pline],
    free: &[crate::geometry::offset::OffsetComponent],
    tool: &Tool,
    p: &ContourParams,
    tol: &Tolerance,
    cancel: &Cancel,
    descent: &dyn Fn(V2) -> (Descent, bool),
) -> Result<OpResult, OpError> {
    p.cut.check("contour", tool)?;
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    for pass in passes {
        cancel.check()?;
        if !pass.is_closed() || pass.vertex_count() < 2 {
            continue;
        }
        let pass = if p.cut.direction == Direction::Conventional {
            crate::geometry::reversed(pass)
        } else {
            pass.clone()
        };
        let lap = loop_path(&pass);
        let in_free = |q: V2| free.iter().any(|c| c.contains(q));
        let waste = |p0: V2, left: V2, rl: f64| {
            if in_free(p0 + left * (rl * 0.5)) {
                left
            } else {
                -left
            }
        };
        let (d, lead_in) = descent(V2::new(lap[0].x, lap[0].y));
        let mut lead = leads_where(&lap, p.lead_radius_mm, tol, &waste, &in_free);
        if !lead_in {
            lead = lead.map(|(_, out)| (Vec::new(), out));
        }
        cut_lap_path(&mut cur, &lap, p, tol, Some((lead, false)), Some(d));
    }
    cur.retract_clearance();
    Ok(OpResult {
        toolpath: cur.tp,
        warnings: Vec::new(),
        estimate: None,
        ..OpResult::default()
    })
}

/// Ramps down along laps of `lap` (a path that returns to its start) from the top to the final
/// depth, no steeper than the ramp angle and no deeper per lap than the step-down, then one
/// flat lap; with lead arcs and tabs when given, entered as `descent` says (default: from
/// the start depth, cleared).
fn cut_lap_path(
    cur: &mut Cursor,
    lap: &[PlineVertex<f64>],
    p: &ContourParams,
    tol: &Tolerance,
    extras: Option<(Lead, bool)>,
    descent: Option<Descent>,
) {
    let lap_len = path_len(lap);
    if lap_len <= tol.equal_point_mm {
        return;
    }
    let d = descent.unwrap_or(Descent {
        clear_z: -p.cut.heights.start_depth_mm,
        ramp_top_z: -p.cut.heights.start_depth_mm,
    });
    let z_top = d.ramp_top_z;
    // The floor allowance stays for a finishing pass.
    let z_final = -p.cut.heights.final_depth_mm + p.cut.allowance_axial_mm;
    let depth = z_top - z_final;
    let tan = p.cut.entry.ramp_angle_deg.to_radians().tan();
    let mut slope = tan;
    if let Some(sd) = p.cut.stepdown_mm {
        slope = slope.min(sd / lap_len);
    }
    let (lead, tabs) = extras.unwrap_or((None, false));
    let (lead_in, lead_out) = match &lead {
        Some((a, b)) => (a.clone(), b.clone()),
        None => (Vec::new(), Vec::new()),
    };
    let lead_len = if lead_in.is_empty() {
        0.0
    } else {
        path_len(&lead_in)
    };
    let plunge = p.cut.entry.kind == EntryKind::Plunge;
    let ramp_len = if plunge { 0.0 } else { depth / slope };
    // (A ramp of exactly whole laps, as when the step-down limits it, is not one lap more
    // by rounding: results must not depend on the part's scale.)
    let ramp_laps = ((ramp_len - lead_len).max(0.0) / lap_len - 1e-9).ceil() as usize;
    let laps = ramp_laps + 1;
    let mut path: Vec<PlineVertex<f64>> = lead_in.clone();
    let loops = repeat_loop(lap, laps);
    if path.is_empty() {
        path = loops;
    } else {
        path.pop();
        path.extend(loops);
    }
    if !lead_out.is_empty() {
        path.pop();
        path.extend(lead_out.iter().copied());
    }
    let start = V2::new(path[0].x, path[0].y);
    let mut prof = if plunge {
        ZProfile::flat(z_final)
    } else {
        ZProfile::ramp(z_top, z_final, ramp_len)
    };
    if tabs && p.tabs > 0 {
        let z_tab = z_final + p.tab_height_mm;
        let hw = p.tab_width_mm * 0.5 + cur.tool.radius_mm();
        // Tab edges rise and fall at 45° (or the ramp angle if steeper): the tool never drops
        // vertically into the material beyond a tab.
        let tab_slope = tan.max(1.0);
        let below = z_final - p.tab_height_mm;
        let mut tab_pts: Vec<(f64, f64)> = vec![(0.0, below)];
        let run = (z_tab - below) / tab_slope;
        for lap_i in 0..laps {
            for t in 0..p.tabs {
                let c =
                    lead_len + lap_len * (lap_i as f64 + (f64::from(t) + 0.5) / f64::from(p.tabs));
                tab_pts.push((c - hw - run, below));
                tab_pts.push((c - hw, z_tab));
                tab_pts.push((c + hw, z_tab));
                tab_pts.push((c + hw + run, below));
            }
        }
        tab_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        prof = prof.max_with(&ZProfile { points: tab_pts });
    }
    if plunge {
        cur.descend_cleared(start, d.clear_z, z_final);
    } else {
        cur.descend_cleared(start, d.clear_z, z_top);
    }
    let feed = cur.feed;
    let ramp_feed = cur.tool.feeds.ramp_mm_per_min;
    let total = path_len(&path);
    let lead_out_start = total
        - if lead_out.is_empty() {
            0.0
        } else {
            path_len(&lead_out)
        };
    let cuts = [lead_len, ramp_len, lead_out_start];
    emit_path(&mut cur.tp, &path, &prof, &cuts, tol.equal_point_mm, &|s| {
        if s < ramp_len {
            (MoveClass::Entry, ramp_feed)
        } else if s < lead_len || s > lead_out_start {
            (MoveClass::Lead, feed)
        } else {
            (MoveClass::Cut, feed)
        }
    });
    cur.retract();
}

#[cfg(test)]
mod tests;
