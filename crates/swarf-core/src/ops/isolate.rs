//! Isolation routing of a PCB's copper (`FlatCAM`'s isolation, Fusion's PCB trace): passes
//! around the copper at the width the tool cuts at depth, so every net is cut free of the
//! others where the tool fits between them.
//!
//! Pass `k` is the boundary of every point within `w/2 + k·w·(1 − overlap)` of copper, where
//! `w` is the width of the cut at the top of the board (a V bit's tip plus its cone at the
//! depth, or an end mill's diameter). That set is computed exactly ([`grow`]: the copper and
//! a disk swept along each of its edges, arcs kept), so the tool's edge never enters copper,
//! and where the growths of two copper areas meet the gap between them is narrower than the
//! cut: reported with its place, never cut into.

use cavalier_contours::polyline::{
    PlineCreation, PlineSource, PlineSourceMut, PlineVertex, seg_closest_point, seg_midpoint,
};
use serde::{Deserialize, Serialize};

use super::{
    Cancel, Cursor, CutParams, Direction, Entry, EntryKind, OpError, OpResult, param_err, z_levels,
};
use crate::geometry::distance::seg_seg_distance;
use crate::geometry::paint::grow;
use crate::geometry::{Pline, Region, Tolerance, V2, reversed};
use crate::tool::Tool;
use crate::toolpath::emit::loop_path;

/// Isolation parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IsolateParams {
    /// Heights (the final depth is the cut's depth into the board), step-down, direction,
    /// entry.
    #[serde(flatten)]
    pub cut: CutParams,
    /// Passes around the copper, the first against it.
    pub passes: u32,
    /// Overlap of neighbouring passes, percent of the cut width.
    pub overlap_pct: f64,
}

impl Default for IsolateParams {
    fn default() -> Self {
        Self {
            cut: CutParams {
                heights: super::Heights {
                    clearance_mm: 5.0,
                    safe_mm: 0.5,
                    start_depth_mm: 0.0,
                    final_depth_mm: 0.05,
                },
                entry: Entry {
                    kind: EntryKind::Ramp,
                    ..Entry::default()
                },
                ..CutParams::default()
            },
            passes: 2,
            overlap_pct: 20.0,
        }
    }
}

/// Most places named one by one in the warning about gaps too narrow to isolate.
const MAX_NAMED_GAPS: usize = 12;

/// Isolation passes around the copper `regions`.
pub fn isolate(
    regions: &[Region],
    tool: &Tool,
    p: &IsolateParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "isolate";
    p.cut.check(OP, tool)?;
    if p.passes == 0 || p.passes > 100 {
        return Err(param_err(
            OP,
            "passes",
            format!("is {}; use 1 to 100", p.passes),
        ));
    }
    if !(p.overlap_pct.is_finite() && (0.0..100.0).contains(&p.overlap_pct)) {
        return Err(param_err(
            OP,
            "overlap_pct",
            format!(
                "is {}; use 0 to less than 100 (percent of the cut width)",
                p.overlap_pct
            ),
        ));
    }
    let depth = p.cut.heights.final_depth_mm;
    let w = 2.0 * tool.radius_at_depth_mm(depth);
    if w <= tol.path_mm {
        return Err(param_err(
            OP,
            "final_depth_mm",
            format!(
                "{depth} mm gives the {} a cut {w:.4} mm wide; cut deeper or use a tool with a tip",
                tool.describe()
            ),
        ));
    }
    let mut out = OpResult::default();
    if regions.is_empty() {
        out.warnings
            .push("isolate: the layer has no copper; nothing to isolate".into());
        return Ok(out);
    }
    let step = w * (1.0 - p.overlap_pct / 100.0);
    let mut passes: Vec<Vec<Pline>> = Vec::new();
    for k in 0..p.passes {
        cancel.check()?;
        let grown = grow(regions, w / 2.0 + step * f64::from(k), tol);
        if grown.open_pieces > 0 {
            out.warnings.push(format!(
                "isolate: pass {}: {} pieces of the outline did not close and are not cut (copper edges that touch within {} mm)",
                k + 1,
                grown.open_pieces,
                tol.equal_point_mm
            ));
        }
        if k == 0 {
            narrow_gaps(regions, &grown.regions, w, tol, &mut out.warnings);
        }
        let mut loops = Vec::new();
        for g in grown.regions {
            for l in std::iter::once(g.outer).chain(g.islands) {
                // Painted loops have the copper on their left; climb milling (M3) keeps the
                // wall being finished (the copper) on the right.
                loops.push(if p.cut.direction == Direction::Climb {
                    reversed(&l)
                } else {
                    l
                });
            }
        }
        passes.push(loops);
    }
    // Cut: the pass against the copper first, each pass's loops nearest first.
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    let z_top = cur.z_top();
    let levels = z_levels(z_top, -depth, p.cut.stepdown_mm, tol.path_mm);
    let plunge = p.cut.entry.kind == EntryKind::Plunge;
    let mut count = 0usize;
    for loops in &passes {
        let mut left: Vec<&Pline> = loops.iter().collect();
        while !left.is_empty() {
            cancel.check()?;
            let here = cur.pos().xy();
            let (k, start) = left
                .iter()
                .enumerate()
                .map(|(k, l)| {
                    let (i, d) = nearest_vertex(l, here);
                    (k, i, d)
                })
                .min_by(|a, b| a.2.total_cmp(&b.2))
                .map(|(k, i, _)| (k, i))
                .expect("loops left");
            let l = left.swap_remove(k);
            let path = loop_path(&rotated(l, start));
            let mut z_from = z_top;
            for (i, &z) in levels.iter().enumerate() {
                // The next level goes on from where the loop closed: no retract between.
                if i == 0 {
                    cur.ramp_loop(&path, z_from, z, plunge);
                } else {
                    cur.ramp_loop_here(&path, z_from, z, plunge);
                }
                z_from = z;
            }
            cur.retract();
            count += 1;
        }
    }
    cur.retract_clearance();
    out.notes.push(format!(
        "isolate: {} pass(es), cut {w:.4} mm wide at {depth} mm deep with the {}, {:.0} % overlap; {count} loop(s)",
        p.passes,
        tool.describe(),
        p.overlap_pct
    ));
    out.toolpath = cur.tp;
    Ok(out)
}

/// The vertex of `l` nearest `p`, and its distance.
fn nearest_vertex(l: &Pline, p: V2) -> (usize, f64) {
    l.iter_vertexes()
        .enumerate()
        .map(|(i, v)| (i, V2::new(v.x, v.y).dist(p)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, f64::INFINITY))
}

/// The loop starting at vertex `i`.
fn rotated(l: &Pline, i: usize) -> Pline {
    let n = l.vertex_count();
    let mut q = Pline::with_capacity(n, true);
    for k in 0..n {
        q.add_vertex(l.at((i + k) % n));
    }
    q
}

/// Says where copper areas are closer than the cut is wide: their growths joined into one
/// region, so the tool cannot pass between them there.
fn narrow_gaps(
    copper: &[Region],
    grown: &[Region],
    w: f64,
    tol: &Tolerance,
    warnings: &mut Vec<String>,
) {
    let probe = |r: &Region| {
        let v = r.outer.at(0);
        V2::new(v.x, v.y)
    };
    let mut places: Vec<(f64, V2)> = Vec::new();
    for g in grown {
        let inside: Vec<usize> = (0..copper.len())
            .filter(|&i| g.contains(probe(&copper[i])))
            .collect();
        for (n, &i) in inside.iter().enumerate() {
            for &j in &inside[n + 1..] {
                if let Some((d, at)) = closest(&copper[i], &copper[j], w)
                    && d < w - tol.path_mm
                {
                    places.push((d, at));
                }
            }
        }
    }
    if places.is_empty() {
        return;
    }
    places.sort_by(|a, b| a.0.total_cmp(&b.0));
    let named: Vec<String> = places
        .iter()
        .take(MAX_NAMED_GAPS)
        .map(|(d, at)| format!("{d:.4} mm at ({:.4}, {:.4})", at.x, at.y))
        .collect();
    warnings.push(format!(
        "isolate: {} place(s) where copper areas are closer than the {w:.4} mm cut, so they are not isolated from each other: {}{}; use a narrower tool or a shallower cut, or check the design",
        places.len(),
        named.join(", "),
        if places.len() > MAX_NAMED_GAPS { ", …" } else { "" }
    ));
}

/// The least distance between the boundaries of two regions when under `limit`, and the
/// midpoint of the closest pair of segments.
fn closest(a: &Region, b: &Region, limit: f64) -> Option<(f64, V2)> {
    let (ba, bb) = (a.bbox(), b.bbox());
    if !ba.overlaps(&bb, limit) {
        return None;
    }
    let segs = |r: &Region| -> Vec<(PlineVertex<f64>, PlineVertex<f64>)> {
        std::iter::once(&r.outer)
            .chain(&r.islands)
            .flat_map(|l| l.iter_segments().collect::<Vec<_>>())
            .collect()
    };
    let (sa, sb) = (segs(a), segs(b));
    let mut best: Option<(f64, V2)> = None;
    for &(a1, a2) in &sa {
        let box_a = crate::geometry::seggrid::seg_box(a1, a2);
        if !box_a.overlaps(&bb, limit) {
            continue;
        }
        for &(b1, b2) in &sb {
            if !box_a.overlaps(&crate::geometry::seggrid::seg_box(b1, b2), limit) {
                continue;
            }
            let d = seg_seg_distance(a1, a2, b1, b2);
            if d < limit && best.is_none_or(|(e, _)| d < e) {
                // The place: between the closest points of the two segments.
                let eps = 1e-9;
                let mb = seg_midpoint(b1, b2);
                let pa = seg_closest_point(a1, a2, mb, eps);
                let pb = seg_closest_point(b1, b2, pa, eps);
                let pa = seg_closest_point(a1, a2, pb, eps);
                best = Some((d, (V2::new(pa.x, pa.y) + V2::new(pb.x, pb.y)) * 0.5));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::nest_loops;
    use crate::tool::ToolShape;
    use crate::toolpath::Motion;

    fn pad(x0: f64, y0: f64, x1: f64, y1: f64) -> Pline {
        let mut p = Pline::new_closed();
        for (x, y) in [(x0, y0), (x1, y0), (x1, y1), (x0, y1)] {
            p.add(x, y, 0.0);
        }
        p
    }

    fn vbit() -> Tool {
        let mut t = Tool::micro_flat(3.175);
        t.shape = ToolShape::V {
            angle_deg: 30.0,
            tip_diameter_mm: 0.05,
        };
        t.flute_length_mm = 5.0;
        t.stickout_mm = 10.0;
        t
    }

    #[test]
    fn passes_keep_the_cut_off_copper_and_gaps_too_narrow_are_named() {
        let tol = Tolerance::default();
        // Three pads: A and B 1 mm apart (isolated), B and C 0.05 mm apart (too close for
        // the ~0.077 mm cut at 0.05 mm deep).
        let copper = nest_loops(
            vec![
                pad(0.0, 0.0, 1.0, 1.0),
                pad(2.0, 0.0, 3.0, 1.0),
                pad(3.05, 0.0, 4.0, 1.0),
            ],
            &tol,
        );
        let tool = vbit();
        let p = IsolateParams::default();
        let out = isolate(&copper, &tool, &p, &tol, &Cancel::default()).unwrap();
        let w = 2.0 * tool.radius_at_depth_mm(0.05);
        assert!((w - (0.05 + 0.1 * (15f64).to_radians().tan())).abs() < 1e-12);
        // No cut enters copper: the drawing gouge check with the cut's width at depth.
        let loops: Vec<Pline> = copper.iter().map(|r| r.outer.clone()).collect();
        let gouges =
            crate::verify::gouges_against_drawing(&out.toolpath, None, &loops, &tool, &tol);
        assert!(gouges.is_empty(), "{gouges:?}");
        // A and B are each cut around (first pass: two loops plus the one around B and C).
        let warn = out.warnings.join("\n");
        assert!(
            warn.contains("closer than") && warn.contains("0.0500 mm at (3.0250"),
            "{warn}"
        );
        // Every cutting move is at the depth, and some run between A and B (x in 1..2).
        let mut between = 0;
        for m in &out.toolpath.moves {
            if !matches!(m.motion, Motion::Rapid) && m.to.z < -1e-9 {
                assert!((m.to.z + 0.05).abs() < 1e-9 || m.to.z > -0.05, "{m:?}");
                if m.to.x > 1.0 + w / 2.0 - 1e-6 && m.to.x < 2.0 - w / 2.0 + 1e-6 {
                    between += 1;
                }
            }
        }
        assert!(between > 0);
        assert!(out.notes[0].contains("2 pass(es)"));
    }

    /// An independent check on a generated board of square and round pads with gaps of every
    /// size: the board is rasterised, every cell surely inside the cut (its centre within
    /// the cut's half width less a cell) is removed, and the copper left is split into
    /// connected pieces. Every pair of pads at least the cut's width apart must lie in
    /// different pieces (the isolation separates them); every pair closer is named.
    #[test]
    fn every_gap_the_tool_fits_is_cut_through_on_a_generated_board() {
        let tol = Tolerance::default();
        let tool = vbit();
        let w = 2.0 * tool.radius_at_depth_mm(0.05);
        // Pads on a loose grid with random sizes and offsets: gaps from 0.02 to 1 mm.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut loops = Vec::new();
        let mut shapes: Vec<(V2, f64, bool)> = Vec::new(); // centre, half size, round
        for j in 0..4 {
            for i in 0..5 {
                let c = V2::new(
                    f64::from(i) * 1.0 + 0.2 * rnd(),
                    f64::from(j) * 1.0 + 0.2 * rnd(),
                );
                // Half sizes up to 0.49: neighbours 0.02 .. ~0.8 mm apart.
                let h = 0.2 + 0.29 * rnd();
                let round = rnd() < 0.4;
                if shapes.iter().any(|&(o, oh, _)| {
                    (o.x - c.x).abs() < oh + h + 0.02 && (o.y - c.y).abs() < oh + h + 0.02
                }) {
                    continue;
                }
                shapes.push((c, h, round));
                loops.push(if round {
                    crate::geometry::paint::circle(c, h)
                } else {
                    pad(c.x - h, c.y - h, c.x + h, c.y + h)
                });
            }
        }
        // Small pads close beside some of them: gaps from 0.02 to 0.15 mm, around the cut's
        // width.
        for k in 0..shapes.len().min(8) {
            let (c, oh, _) = shapes[k];
            let (g, sh) = (0.02 + 0.13 * rnd(), 0.08);
            let c2 = V2::new(c.x + oh + g + sh, c.y);
            if shapes.iter().any(|&(o, ohh, _)| {
                o != c
                    && (o.x - c2.x).abs() < ohh + sh + 0.02
                    && (o.y - c2.y).abs() < ohh + sh + 0.02
            }) {
                continue;
            }
            // A square beside a circle's widest point or a square's side: the gap is g.
            shapes.push((c2, sh, false));
            loops.push(pad(c2.x - sh, c2.y - sh, c2.x + sh, c2.y + sh));
        }
        let copper = nest_loops(loops, &tol);
        assert!(copper.len() >= 16, "{}", copper.len());
        let out = isolate(
            &copper,
            &tool,
            &IsolateParams::default(),
            &tol,
            &Cancel::default(),
        )
        .unwrap();
        // The raster.
        let h = w / 8.0;
        let mut bb = crate::geometry::Bbox2::EMPTY;
        for r in &copper {
            bb.union(&r.bbox());
        }
        let (x0, y0) = (bb.min.x - 3.0 * w, bb.min.y - 3.0 * w);
        let nx = ((bb.max.x - bb.min.x + 6.0 * w) / h) as usize + 1;
        let ny = ((bb.max.y - bb.min.y + 6.0 * w) / h) as usize + 1;
        let at = |i: usize, j: usize| V2::new(x0 + i as f64 * h, y0 + j as f64 * h);
        let mut cut = vec![false; nx * ny];
        let reach = w / 2.0 - h;
        let mut mark = |a: V2, b: V2| {
            let lo = |v: f64, o: f64| (((v - reach - o) / h).floor().max(0.0)) as usize;
            let (i0, i1) = (lo(a.x.min(b.x), x0), lo(a.x.max(b.x) + 2.0 * reach, x0) + 1);
            let (j0, j1) = (lo(a.y.min(b.y), y0), lo(a.y.max(b.y) + 2.0 * reach, y0) + 1);
            for j in j0..j1.min(ny) {
                for i in i0..i1.min(nx) {
                    let p = at(i, j);
                    let d = b - a;
                    let t = ((p - a).dot(d) / d.dot(d).max(1e-30)).clamp(0.0, 1.0);
                    if p.dist(a + d * t) <= reach {
                        cut[j * nx + i] = true;
                    }
                }
            }
        };
        let mut from = out.toolpath.start;
        for m in &out.toolpath.moves {
            let cutting = !matches!(m.motion, Motion::Rapid) && m.to.z < -0.04 && from.z < -0.04;
            if cutting {
                match m.motion {
                    Motion::Arc { centre, ccw } => {
                        let r = from.xy().dist(centre);
                        let a0 = (from.xy() - centre).y.atan2((from.xy() - centre).x);
                        let sweep = crate::toolpath::arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                        let n = ((sweep.abs() * r / (h / 4.0)).ceil() as usize).max(1);
                        let pt = |k: usize| {
                            let t = a0 + sweep * k as f64 / n as f64;
                            centre + V2::new(t.cos(), t.sin()) * r
                        };
                        for k in 0..n {
                            mark(pt(k), pt(k + 1));
                        }
                    }
                    _ => mark(from.xy(), m.to.xy()),
                }
            }
            from = m.to;
        }
        // Connected pieces of what is left (4-neighbours).
        let mut piece = vec![usize::MAX; nx * ny];
        let mut n_pieces = 0;
        for start in 0..nx * ny {
            if cut[start] || piece[start] != usize::MAX {
                continue;
            }
            let mut stack = vec![start];
            piece[start] = n_pieces;
            while let Some(k) = stack.pop() {
                let (i, j) = (k % nx, k / nx);
                let mut push = |q: usize| {
                    if !cut[q] && piece[q] == usize::MAX {
                        piece[q] = n_pieces;
                        stack.push(q);
                    }
                };
                if i > 0 {
                    push(k - 1);
                }
                if i + 1 < nx {
                    push(k + 1);
                }
                if j > 0 {
                    push(k - nx);
                }
                if j + 1 < ny {
                    push(k + nx);
                }
            }
            n_pieces += 1;
        }
        // Each pad's piece: the cell at its centre (never cut: no cut enters copper).
        let piece_of = |c: V2| {
            let (i, j) = (
                ((c.x - x0) / h).round() as usize,
                ((c.y - y0) / h).round() as usize,
            );
            assert!(!cut[j * nx + i], "the cut reaches a pad's centre at {c:?}");
            piece[j * nx + i]
        };
        let warn = out.warnings.join("\n");
        let (mut separated, mut named) = (0, 0);
        for a in 0..copper.len() {
            for b in a + 1..copper.len() {
                let centre = |r: &Region| {
                    let bb = r.bbox();
                    (bb.min + bb.max) * 0.5
                };
                let gap = closest(&copper[a], &copper[b], 10.0).map_or(10.0, |(d, _)| d);
                let (pa, pb) = (piece_of(centre(&copper[a])), piece_of(centre(&copper[b])));
                if gap >= w + 2.0 * h {
                    assert_ne!(
                        pa, pb,
                        "pads {a} and {b}, {gap:.4} mm apart, are not isolated"
                    );
                    separated += 1;
                } else if gap < w - 1e-9 {
                    assert!(
                        warn.contains(&format!("{gap:.4} mm")),
                        "pads {a} and {b}, {gap:.4} mm apart, not named:\n{warn}"
                    );
                    named += 1;
                }
            }
        }
        assert!(
            separated > 20 && named > 0,
            "{separated} separated, {named} named"
        );
    }

    /// In levels, each loop is entered once: its next level goes on from where it closed.
    #[test]
    fn levels_of_a_loop_follow_without_a_retract() {
        let tol = Tolerance::default();
        let copper = nest_loops(vec![pad(0.0, 0.0, 1.0, 1.0)], &tol);
        let mut p = IsolateParams::default();
        p.cut.stepdown_mm = Some(0.0125);
        let out = isolate(&copper, &vbit(), &p, &tol, &Cancel::default()).unwrap();
        let (mut entries, mut deepest) = (0, 0.0f64);
        let mut from = out.toolpath.start;
        for m in &out.toolpath.moves {
            if from.z >= 0.0 && m.to.z < 0.0 {
                entries += 1;
            }
            deepest = deepest.min(m.to.z);
            from = m.to;
        }
        assert_eq!(entries, 2, "two passes, one entry each");
        assert!((deepest + 0.05).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let tol = Tolerance::default();
        let copper = nest_loops(vec![pad(0.0, 0.0, 1.0, 1.0)], &tol);
        let p = IsolateParams {
            overlap_pct: 100.0,
            ..IsolateParams::default()
        };
        let e = isolate(&copper, &vbit(), &p, &tol, &Cancel::default()).unwrap_err();
        assert!(e.to_string().contains("overlap_pct"), "{e}");
        let mut t = vbit();
        t.shape = ToolShape::V {
            angle_deg: 30.0,
            tip_diameter_mm: 0.0,
        };
        let p = IsolateParams {
            passes: 0,
            ..IsolateParams::default()
        };
        assert!(isolate(&copper, &t, &p, &tol, &Cancel::default()).is_err());
    }
}
