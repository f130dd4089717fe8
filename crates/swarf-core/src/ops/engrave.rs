//! Engraving (issue 20): the drawing's open chains and closed loops followed at a depth, in
//! depth passes, with the tool's centre on the line or beside it (left or right of the line's
//! direction). Chains are taken nearest first, each run in the direction whose start is
//! nearer; loops start at their vertex nearest the tool. Entries plunge only where the job
//! asks for it (an engraving tool plunges); else they ramp along the line: a chain is run to
//! and fro while the tool goes down at the ramp angle, a loop lap by lap. The tool stays down
//! between the levels of one chain or loop (a chain's next level runs back the other way).

use cavalier_contours::polyline::{PlineCreation, PlineSource, PlineSourceMut, PlineVertex};
use serde::{Deserialize, Serialize};

use super::cursor::Cursor;
use super::{Cancel, CutParams, EntryKind, Heights, OpError, OpResult, param_err, z_levels};
use crate::geometry::bulge::{path_len, reverse_open as reverse};
use crate::geometry::{Pline, Tolerance, V2};
use crate::tool::Tool;
use crate::toolpath::emit::{ZProfile, emit_path, loop_path};
use crate::toolpath::{MoveClass, P3};

/// Where the tool's centre runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EngraveSide {
    /// On the line.
    #[default]
    On,
    /// Beside it, to the left of its direction (inside a loop: loops are taken
    /// counter-clockwise).
    Left,
    /// Beside it, to the right (outside a loop).
    Right,
}

impl std::str::FromStr for EngraveSide {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "on" => Ok(EngraveSide::On),
            "left" => Ok(EngraveSide::Left),
            "right" => Ok(EngraveSide::Right),
            _ => Err(format!("unknown side '{s}'; use on, left or right")),
        }
    }
}

/// Engraving parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngraveParams {
    /// Heights, step-down and entry (plunge or ramp; a helix has no room on a line).
    #[serde(flatten)]
    pub cut: CutParams,
    pub side: EngraveSide,
    /// How far beside the line the centre runs, mm (none: the cut's half width at the depth,
    /// so that the cut's edge runs on the line).
    pub offset_mm: Option<f64>,
    /// Engrave on a mesh's surface instead of the flat top: the file (the part or one of
    /// `[part] with`) whose surface the depths are measured from (see [`super::project`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onto: Option<String>,
}

impl Default for EngraveParams {
    fn default() -> Self {
        Self {
            cut: CutParams {
                heights: Heights {
                    final_depth_mm: 0.05,
                    ..Heights::default()
                },
                entry: super::Entry {
                    kind: EntryKind::Ramp,
                    ..super::Entry::default()
                },
                ..CutParams::default()
            },
            side: EngraveSide::On,
            offset_mm: None,
            onto: None,
        }
    }
}

/// Most runs to and fro along a chain to ramp into one level at the angle.
const MAX_RAMP_RUNS: f64 = 100.0;

/// A line to follow: its vertices (a closed loop's first vertex repeated at its end).
struct Path {
    verts: Vec<PlineVertex<f64>>,
    closed: bool,
}

/// A closed loop counter-clockwise (its left is its inside).
fn ccw(l: &Pline) -> Pline {
    if l.area() < 0.0 {
        crate::geometry::reversed(l)
    } else {
        l.clone()
    }
}

/// The loop starting at its vertex nearest `p`.
fn loop_from_nearest(l: &Pline, p: V2) -> Vec<PlineVertex<f64>> {
    let n = l.vertex_count();
    let i = (0..n)
        .min_by(|&a, &b| {
            let d = |k: usize| V2::new(l.at(k).x, l.at(k).y).dist(p);
            d(a).total_cmp(&d(b))
        })
        .unwrap_or(0);
    let mut q = Pline::with_capacity(n, true);
    for k in 0..n {
        q.add_vertex(l.at((i + k) % n));
    }
    loop_path(&q)
}

/// Engraves `chains` (open) and `loops` (closed).
pub fn engrave(
    chains: &[Pline],
    loops: &[Pline],
    tool: &Tool,
    p: &EngraveParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "engrave";
    p.cut.check(OP, tool)?;
    if p.cut.entry.kind == EntryKind::Helix {
        return Err(param_err(
            OP,
            "entry",
            "is a helix; an engraving enters along its line: use ramp, or plunge for a tool that plunges"
                .into(),
        ));
    }
    let depth = p.cut.heights.final_depth_mm;
    let offset = match (p.side, p.offset_mm) {
        (EngraveSide::On, _) => 0.0,
        (_, Some(d)) if !(d.is_finite() && d > 0.0 && d < 1000.0) => {
            return Err(param_err(
                OP,
                "offset_mm",
                format!("is {d}; give a positive distance in mm"),
            ));
        }
        (_, Some(d)) => d,
        (_, None) => tool.radius_at_depth_mm(depth),
    };
    let mut out = OpResult::default();
    // The lines as they will be cut.
    let mut paths: Vec<Path> = Vec::new();
    let mut lost = Vec::new();
    let sign = if p.side == EngraveSide::Left {
        1.0
    } else {
        -1.0
    };
    for c in chains {
        if offset == 0.0 {
            paths.push(Path {
                verts: c.iter_vertexes().collect(),
                closed: false,
            });
            continue;
        }
        // cavalier_contours offsets to the left of an open line's direction for a positive
        // distance.
        let pieces = c.parallel_offset(sign * offset);
        if pieces.is_empty() {
            let v = c.at(0);
            lost.push(format!("the chain from ({:.4}, {:.4})", v.x, v.y));
        }
        for q in pieces {
            paths.push(Path {
                verts: if q.is_closed() {
                    loop_path(&q)
                } else {
                    q.iter_vertexes().collect()
                },
                closed: q.is_closed(),
            });
        }
    }
    for l in loops {
        let l = ccw(l);
        let pieces = if offset == 0.0 {
            vec![l.clone()]
        } else {
            l.parallel_offset(sign * offset)
        };
        if pieces.is_empty() {
            let b = crate::geometry::pline_bbox(&l);
            lost.push(format!(
                "the loop at ({:.4}, {:.4}) .. ({:.4}, {:.4}) (narrower than twice the offset)",
                b.min.x, b.min.y, b.max.x, b.max.y
            ));
        }
        for q in pieces {
            paths.push(Path {
                verts: loop_path(&q),
                closed: true,
            });
        }
    }
    paths.retain(|q| q.verts.len() >= 2 && path_len(&q.verts) > tol.equal_point_mm);
    if !lost.is_empty() {
        out.warnings.push(format!(
            "engrave: {} line(s) vanish {offset:.4} mm to the {} and are not cut: {}",
            lost.len(),
            if p.side == EngraveSide::Left {
                "left"
            } else {
                "right"
            },
            lost.join("; ")
        ));
    }
    if paths.is_empty() {
        out.warnings
            .push("engrave: the drawing has no lines to engrave on the chosen layers".into());
        return Ok(out);
    }
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    let z_top = cur.z_top();
    let levels = z_levels(z_top, -depth, p.cut.stepdown_mm, tol.path_mm);
    let plunge = p.cut.entry.kind == EntryKind::Plunge;
    let tan = p.cut.entry.ramp_angle_deg.to_radians().tan();
    // Travel between lines, taken nearest first, and in the drawing's order (for the note).
    let as_drawn: f64 = paths
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0].verts[w[0].verts.len() - 1], w[1].verts[0]);
            V2::new(a.x, a.y).dist(V2::new(b.x, b.y))
        })
        .sum();
    let mut travel = 0.0;
    let mut left: Vec<Path> = paths;
    let (mut n_chains, mut n_loops) = (0usize, 0usize);
    let mut too_short = Vec::new();
    while !left.is_empty() {
        cancel.check()?;
        let here = cur.pos().xy();
        let d = |v: &PlineVertex<f64>| V2::new(v.x, v.y).dist(here);
        // The nearest start: a chain from either end, a loop from any vertex.
        let (k, rev, dist) = left
            .iter()
            .enumerate()
            .map(|(k, q)| {
                if q.closed {
                    let m = q.verts.iter().map(d).fold(f64::INFINITY, f64::min);
                    (k, false, m)
                } else {
                    let (s, e) = (d(&q.verts[0]), d(&q.verts[q.verts.len() - 1]));
                    if e < s { (k, true, e) } else { (k, false, s) }
                }
            })
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .expect("lines left");
        if cur.tp.moves.iter().any(|m| m.to.z < z_top) {
            travel += dist;
        }
        let q = left.swap_remove(k);
        let mut path = if q.closed {
            let mut pl = Pline::with_capacity(q.verts.len() - 1, true);
            for v in &q.verts[..q.verts.len() - 1] {
                pl.add_vertex(*v);
            }
            loop_from_nearest(&pl, here)
        } else if rev {
            reverse(&q.verts)
        } else {
            q.verts
        };
        let start = V2::new(path[0].x, path[0].y);
        // A chain too short to ramp into at the angle (a dot) is not ramped into steeper:
        // it is named and left for a plunge.
        if !q.closed && !plunge {
            let step = z_top - levels.first().copied().unwrap_or(z_top);
            let runs = (step / tan) / path_len(&path);
            if runs > MAX_RAMP_RUNS {
                too_short.push(format!("({:.4}, {:.4})", start.x, start.y));
                continue;
            }
        }
        cur.descend_cleared(start, z_top, z_top);
        let mut z_from = z_top;
        for &z in &levels {
            if q.closed {
                cur.ramp_loop_here(&path, z_from, z, plunge);
            } else {
                // Open: plunge, or ramp to and fro along the chain (whole runs, never steeper
                // than the ramp angle), then cut it at the level the other way if the ramp
                // ended at its far end.
                let len = path_len(&path);
                if plunge || len <= 0.0 {
                    let a = path[0];
                    cur.tp.line(
                        P3::new(a.x, a.y, z),
                        MoveClass::Entry,
                        tool.feeds.plunge_mm_per_min,
                    );
                } else {
                    let runs = (((z_from - z) / tan) / len).ceil().max(1.0) as usize;
                    let mut ramp = path.clone();
                    let mut last = path.clone();
                    for _ in 1..runs {
                        last = reverse(&last);
                        ramp.extend_from_slice(&last[1..]);
                    }
                    let ramp_len = len * runs as f64;
                    let rate = tool.feeds.ramp_mm_per_min;
                    emit_path(
                        &mut cur.tp,
                        &ramp,
                        &ZProfile::ramp(z_from, z, ramp_len),
                        &[],
                        tol.equal_point_mm,
                        &|_| (MoveClass::Entry, rate),
                    );
                    // Where the ramp ended, the chain is cut back the other way.
                    path = reverse(&last);
                }
                cur.cut_path(&path, z);
                // The next level starts where this one ended.
                path = reverse(&path);
            }
            z_from = z;
        }
        cur.retract();
        if q.closed {
            n_loops += 1;
        } else {
            n_chains += 1;
        }
    }
    cur.retract_clearance();
    if !too_short.is_empty() {
        out.warnings.push(format!(
            "engrave: {} chain(s) too short to ramp into at {}° are not cut (at {}): allow plunge entries, or lengthen them",
            too_short.len(),
            p.cut.entry.ramp_angle_deg,
            too_short.join(", ")
        ));
    }
    let beside = match p.side {
        EngraveSide::On => "the centre on the line".to_string(),
        EngraveSide::Left => format!("the centre {offset:.4} mm left of the line"),
        EngraveSide::Right => format!("the centre {offset:.4} mm right of the line"),
    };
    out.notes.push(format!(
        "engrave: {n_chains} chain(s) and {n_loops} loop(s) at {depth} mm in {} level(s), {beside}, {} entries; {travel:.1} mm of travel between them (in the drawing's order {as_drawn:.1} mm)",
        levels.len(),
        if plunge { "plunge" } else { "ramp" }
    ));
    out.toolpath = cur.tp;
    Ok(out)
}

#[cfg(test)]
mod tests;
