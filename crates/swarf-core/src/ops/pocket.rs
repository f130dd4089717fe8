//! Pocket: clears the inside of regions down to the final depth, leaving the islands.
//!
//! Offset pattern: the tool-centre domain (the region shrunk by the tool radius plus the radial
//! allowance) is offset inward by the step-over, each level computed from the original region.
//! The loops form a tree (a loop at one level lies inside one loop of the level before); each
//! Z level is cut inside-out, leaves first: a helix (or a ramp along the loop where there is no
//! room) enters at each innermost loop, and the tool works outward to the wall, staying down
//! where the link runs through cleared material and retracting otherwise. With a radial
//! allowance the wall itself is the outermost loop, cut last (the finishing pass); with an
//! axial allowance a last level at the final depth finishes the floor.
//!
//! Zigzag pattern: parallel lines at an angle clipped to the domain, joined alternately where
//! the join stays inside, followed by the boundary loops (which remove the scallops the line
//! ends leave) and the finishing wall.

use cavalier_contours::polyline::PlineSource;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::clearing::{clearing_levels, narrow_warning, region_name, rest_or_all};
use super::{
    Cancel, Cursor, CutParams, Direction, Entry, EntryKind, FeedEstimate, OpError, OpResult,
    Stepover, param_err,
};
use crate::geometry::bulge::closest_point_tied;
use crate::geometry::distance::line_crossings;
use crate::geometry::offset::{Inset, OffsetComponent, dropped_warning, orient};
use crate::geometry::seggrid::seg_box;
use crate::geometry::{Bbox2, Pline, Region, Tolerance, V2};
use crate::tool::Tool;
use crate::toolpath::emit::loop_path;
use crate::toolpath::{MoveClass, P3};

/// How the inside is cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// Contour-parallel rings from the centre out to the wall.
    #[default]
    Offset,
    /// Parallel lines at `zigzag_angle_deg`, then the boundary.
    Zigzag,
}

impl std::str::FromStr for Pattern {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "offset" | "contour-parallel" => Ok(Pattern::Offset),
            "zigzag" | "raster" => Ok(Pattern::Zigzag),
            _ => Err(format!("unknown pattern '{s}'; use offset or zigzag")),
        }
    }
}

/// Pocket parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PocketParams {
    /// Heights, step-down, allowances, direction and entry.
    #[serde(flatten)]
    pub cut: CutParams,
    pub stepover: Stepover,
    pub pattern: Pattern,
    pub zigzag_angle_deg: f64,
    /// Rest machining: the diameter of a larger tool that pocketed the same regions before
    /// (finishing pass included); only what it could not reach is cut. `None` cuts it all.
    pub rest_from_diameter_mm: Option<f64>,
    /// How far inside the walls the pocket's own boundary lies, mm (FreeCAD's "extra offset",
    /// inward): the tool clears the region shrunk by this. A V-carve's floor clean-up keeps
    /// the V's width at the cap from the walls it carved.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inset_mm: f64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Default for PocketParams {
    fn default() -> Self {
        Self {
            cut: CutParams::default(),
            stepover: Stepover::Fraction(0.4),
            pattern: Pattern::Offset,
            zigzag_angle_deg: 0.0,
            rest_from_diameter_mm: None,
            inset_mm: 0.0,
        }
    }
}

/// The most offset levels a pocket may have (a sanity bound against absurd step-overs).
const MAX_LEVELS: usize = 100_000;
/// The most points the offset rings of one region may hold (about 1 GB): a drawing read in
/// the wrong unit (965 m across for a 6 mm tool) would otherwise fill the memory.
const MAX_RING_POINTS: usize = 20_000_000;
/// The longest feed path a pocket may plan, mm (100 km: a day and a half at 1 m/min). Area
/// over step-over says it before any offset is made: a drawing read in the wrong unit (965 m
/// across) would otherwise take the memory with it.
const MAX_FEED_MM: f64 = 1.0e8;

/// One loop-set of the offset tree.
struct Node {
    level: usize,
    comp: OffsetComponent,
    children: Vec<usize>,
}

/// Generates the pocket toolpath for `regions`.
pub fn pocket(
    regions: &[Region],
    tool: &Tool,
    p: &PocketParams,
    tol: &Tolerance,
    cancel: &Cancel,
) -> Result<OpResult, OpError> {
    const OP: &str = "pocket";
    p.cut.check(OP, tool)?;
    let d = tool.diameter_mm;
    let s = p.stepover.mm(d);
    if !(s.is_finite() && s > 0.0) {
        return Err(param_err(
            OP,
            "stepover",
            format!("is {s} mm; it must be positive"),
        ));
    }
    if s > d {
        return Err(param_err(
            OP,
            "stepover",
            format!(
                "is {s} mm, more than the tool diameter {d} mm; ribs would be left standing: use at most 1.0 (100 %)"
            ),
        ));
    }
    if s < tol.path_mm * 10.0 {
        return Err(param_err(
            OP,
            "stepover",
            format!("is {s} mm, below ten times the path tolerance; use a larger step-over"),
        ));
    }
    if !p.zigzag_angle_deg.is_finite() {
        return Err(param_err(OP, "zigzag_angle_deg", "is not a number".into()));
    }
    if !(p.inset_mm.is_finite() && p.inset_mm >= 0.0) {
        return Err(param_err(
            OP,
            "inset_mm",
            format!("is {}; give a distance of 0 or more, mm", p.inset_mm),
        ));
    }
    // The tool's centre keeps its radius and the inset from the walls.
    let r = tool.radius_mm() + p.inset_mm;
    let mut out = OpResult::default();
    let rest = rest_or_all(
        OP,
        regions,
        p.rest_from_diameter_mm,
        (d, p.cut.allowance_radial_mm),
        tol,
        &mut out.warnings,
    )?;
    let regions: &[Region] = &rest;
    let mut cur = Cursor::new(tool, p.cut.heights, p.cut.entry, tol.equal_point_mm);
    let z_top = -p.cut.heights.start_depth_mm;
    let levels = clearing_levels(&p.cut, tol);
    let planned: f64 =
        regions.iter().map(|r| r.area().abs()).sum::<f64>() * levels.len() as f64 / s;
    if planned > MAX_FEED_MM {
        return Err(param_err(
            OP,
            "stepover",
            format!(
                "would cut about {:.0} km ({:.0} mm² in {} level(s) at a {s:.4} mm step-over), more than {:.0} km; check the part's unit, or use a larger tool",
                planned / 1e6,
                planned * s / levels.len() as f64,
                levels.len(),
                MAX_FEED_MM / 1e6
            ),
        ));
    }

    // The area cleared, summed over the levels, for the feed estimate.
    let mut area = 0.0;
    for (ri, region) in regions.iter().enumerate() {
        cancel.check()?;
        let name = region_name(ri, region);
        let d0 = r + p.cut.allowance_radial_mm;
        let inset = Inset::of_region(region, tol);
        let domain = inset.at(d0, tol);
        if domain.is_empty() {
            if p.rest_from_diameter_mm.is_none() {
                out.warnings
                    .push(narrow_warning(OP, &name, d, p.cut.allowance_radial_mm));
            }
            continue;
        }
        area += region.area() * levels.len() as f64;
        // Levels of components, outermost first: the wall (finishing) when there is a radial
        // allowance, then the roughing domain and its offsets (offset pattern only).
        let mut lv: Vec<Vec<OffsetComponent>> = Vec::new();
        let mut gaps: Vec<f64> = Vec::new();
        if p.cut.allowance_radial_mm > 0.0 {
            lv.push(inset.at(r, tol));
            gaps.push(p.cut.allowance_radial_mm);
        }
        let rough0 = lv.len();
        lv.push(domain);
        if p.pattern == Pattern::Offset {
            // The rings are independent (each from the region itself): a few at a time on all
            // cores, until one is empty (every later one is too). The result does not depend
            // on the number of threads.
            let batch = 2 * rayon::current_num_threads().max(1);
            let mut k = 1;
            let mut points = 0usize;
            'rings: loop {
                cancel.check()?;
                let rings: Vec<Vec<OffsetComponent>> = (k..k + batch)
                    .into_par_iter()
                    .map(|j| inset.at(d0 + j as f64 * s, tol))
                    .collect();
                for c in rings {
                    let c = if c.is_empty() {
                        // The shape offset can come back empty at one distance though the
                        // region goes on inward (a lopsided region of arcs did at one ring in
                        // twenty, and its middle was left uncut): the last ring's own inset
                        // says whether anything is left, and then a ring a little less deep
                        // stands in (closer to the last one, so nothing is skipped). Left
                        // means out of the tool's reach from the last ring.
                        let level = d0 + k as f64 * s;
                        let left = lv
                            .last()
                            .is_some_and(|last| last.iter().any(|c| out_of_reach(c, r, tol)));
                        if left {
                            (1..=8)
                                .map(|t| inset.at(level - 0.05 * f64::from(t) * s, tol))
                                .find(|c| !c.is_empty())
                                .unwrap_or_default()
                        } else {
                            c
                        }
                    } else {
                        c
                    };
                    if c.is_empty() {
                        break 'rings;
                    }
                    if k > MAX_LEVELS {
                        return Err(param_err(
                            OP,
                            "stepover",
                            format!(
                                "gives more than {MAX_LEVELS} rings in {name}; use a larger step-over"
                            ),
                        ));
                    }
                    points += c
                        .iter()
                        .flat_map(OffsetComponent::loops)
                        .map(cavalier_contours::polyline::PlineSource::vertex_count)
                        .sum::<usize>();
                    if points > MAX_RING_POINTS {
                        let b = region.bbox();
                        return Err(param_err(
                            OP,
                            "stepover",
                            format!(
                                "gives rings of more than {MAX_RING_POINTS} points in {name} ({:.1} x {:.1} mm for the {d} mm tool, {k} rings so far); check the part's unit, or use a larger step-over",
                                b.width(),
                                b.height()
                            ),
                        ));
                    }
                    gaps.push(s);
                    lv.push(c);
                    k += 1;
                }
            }
        }
        gaps.push(s);
        out.warnings
            .extend(dropped_warning(OP, &format!("the rings of {name}"), &inset));
        let ccw = p.cut.direction == Direction::Climb;
        let mut ctx = Level {
            lv: &lv,
            gaps: &gaps,
            rough0,
            ccw,
            entry: p.cut.entry,
            tol: *tol,
            d,
        };
        let (nodes, roots) = build_tree(&lv);
        let mut z_prev = z_top;
        for &(z, _finish) in &levels {
            cancel.check()?;
            match p.pattern {
                Pattern::Offset => {
                    let mut at_depth = false;
                    for &root in &roots {
                        ctx.cut_node(&mut cur, &nodes, root, z_prev, z, &mut at_depth);
                    }
                }
                Pattern::Zigzag => {
                    ctx.zigzag(
                        &mut cur,
                        p.zigzag_angle_deg,
                        s,
                        z_prev,
                        z,
                        &mut out.warnings,
                    );
                    let mut at_depth = true;
                    // Boundary loops of the domain and the wall, outermost last.
                    for li in (0..lv.len()).rev() {
                        for comp in &lv[li] {
                            let loops: Vec<Pline> = comp.loops().cloned().collect();
                            ctx.cut_loops(&mut cur, li, loops, z_prev, z, &mut at_depth);
                        }
                    }
                }
            }
            cur.retract();
            z_prev = z;
        }
        cur.retract_clearance();
    }
    cur.retract_clearance();
    out.toolpath = cur.tp;
    out.estimate = Some(FeedEstimate {
        area_mm2: area,
        stepover_mm: s,
        warn_ratio: FeedEstimate::POCKET_RATIO,
    });
    Ok(out)
}

/// Parent links between consecutive levels: a component at level k+1 belongs to the component
/// of level k that contains it.
fn build_tree(lv: &[Vec<OffsetComponent>]) -> (Vec<Node>, Vec<usize>) {
    let mut nodes: Vec<Node> = Vec::new();
    let mut roots = Vec::new();
    let mut prev: Vec<usize> = Vec::new();
    for (k, comps) in lv.iter().enumerate() {
        let mut here = Vec::new();
        for c in comps {
            let v = c.outer.at(0);
            let probe = V2::new(v.x, v.y);
            let id = nodes.len();
            let parent = prev
                .iter()
                .copied()
                .find(|&pid| nodes[pid].comp.contains(probe));
            nodes.push(Node {
                level: k,
                comp: c.clone(),
                children: Vec::new(),
            });
            match parent {
                Some(pid) => nodes[pid].children.push(id),
                None => roots.push(id),
            }
            here.push(id);
        }
        prev = here;
    }
    (nodes, roots)
}

/// Everything a region's cutting needs.
struct Level<'a> {
    lv: &'a [Vec<OffsetComponent>],
    /// Distance from level k to level k+1.
    gaps: &'a [f64],
    rough0: usize,
    ccw: bool,
    entry: Entry,
    tol: Tolerance,
    d: f64,
}

/// Whether the segment from `a` to `b` lies inside the components. The ends usually lie on
/// loops, and a link may run along one: there inside and outside are a matter of rounding,
/// which would decide differently at another scale, so a point within the path tolerance of a
/// boundary counts as inside (the tool centre on the domain's edge is legal).
///
/// Exact, not sampled: the segment is cut where it meets a boundary, and between two such
/// places it is wholly on one side, so the point halfway decides for the piece. (Samples a
/// quarter step apart could step over a sliver of uncut stock narrower than that.)
fn inside(comps: &[OffsetComponent], a: V2, b: V2, tol: &Tolerance) -> bool {
    let mut sb = Bbox2::EMPTY;
    sb.add_point(a);
    sb.add_point(b);
    let mut ts = vec![0.0, 1.0];
    for c in comps {
        if !c.bbox.overlaps(&sb, tol.path_mm) {
            continue;
        }
        for l in c.loops() {
            for (p, q) in l.iter_segments() {
                let qb = seg_box(p, q);
                if qb.overlaps(&sb, tol.path_mm) {
                    line_crossings(a, b, p, q, &mut ts);
                }
            }
        }
    }
    ts.sort_by(f64::total_cmp);
    ts.windows(2).all(|w| {
        if (w[1] - w[0]) * a.dist(b) <= tol.equal_point_mm {
            return true;
        }
        let q = a.lerp(b, 0.5 * (w[0] + w[1]));
        comps.iter().any(|c| c.contains(q))
            || boundary_distance(comps, q, tol.equal_point_mm) <= tol.path_mm
    })
}

/// Whether the samples of the segment between its ends, `step` apart, lie inside the
/// components (or within the path tolerance of a boundary). For the engagement of a link
/// through cleared material, where a sample step is the resolution asked for; whether a link
/// stays in the domain at all is [`inside`]'s exact answer.
fn inside_sampled(comps: &[OffsetComponent], a: V2, b: V2, step: f64, tol: &Tolerance) -> bool {
    let len = a.dist(b);
    let n = ((len / step).ceil() as usize).clamp(2, 256);
    (1..n).all(|i| {
        let q = a.lerp(b, i as f64 / n as f64);
        comps.iter().any(|c| c.contains(q))
            || boundary_distance(comps, q, tol.equal_point_mm) <= tol.path_mm
    })
}

/// Distance from `p` to the nearest boundary of the components.
pub(super) fn boundary_distance(comps: &[OffsetComponent], p: V2, eps: f64) -> f64 {
    comps
        .iter()
        .flat_map(OffsetComponent::loops)
        .filter_map(|l| l.closest_point(p.into(), eps).map(|c| c.distance))
        .fold(f64::INFINITY, f64::min)
}

impl Level<'_> {
    /// Loop oriented for the cutting direction and started nearest to `near`.
    fn prepare(&self, l: &Pline, is_outer: bool, near: V2) -> Pline {
        let mut l = l.clone();
        // Climb milling: walls on the right, i.e. outer loops counter-clockwise and island
        // loops clockwise (as offsets come); conventional is the reverse.
        orient(&mut l, is_outer == self.ccw);
        if let Some(cp) = closest_point_tied(&l, near, self.tol.equal_point_mm)
            && let Some(rot) =
                l.rotate_start(cp.seg_start_index, cp.seg_point, self.tol.equal_point_mm)
        {
            return rot;
        }
        l
    }

    /// Whether a link from `a` to `b` at level `k` may stay down: it must stay in the tool-centre
    /// domain, and be short (one step) or run through what level k+1 has already cleared.
    fn link_ok(&self, k: usize, a: V2, b: V2) -> bool {
        let gap = self.gaps.get(k).copied().unwrap_or(self.d);
        let len = a.dist(b);
        if len <= self.tol.path_mm {
            return true;
        }
        let domain = &self.lv[k.max(self.rough0).min(self.lv.len() - 1)];
        let wall = &self.lv[k];
        if !inside(wall, a, b, &self.tol) && !inside(domain, a, b, &self.tol) {
            return false;
        }
        if len <= 1.5 * gap {
            return true;
        }
        if k + 1 < self.lv.len() && len > 2.0 * gap {
            let u = (b - a).normalized();
            let step = (gap * 0.25).max(self.tol.path_mm);
            return inside_sampled(&self.lv[k + 1], a + u * gap, b - u * gap, step, &self.tol);
        }
        false
    }

    /// Cuts the offset tree below `id` children first (innermost loops first, each new
    /// subtree entered at its leaf), its own loops last. Walked with a stack of its own, not
    /// by recursion: a wide region with a small step-over nests hundreds of thousands of
    /// offsets (a drawing in the wrong unit, 965 m across, overflowed the stack).
    fn cut_node(
        &mut self,
        cur: &mut Cursor,
        nodes: &[Node],
        id: usize,
        z_prev: f64,
        z: f64,
        at_depth: &mut bool,
    ) {
        // (node, its next child to visit)
        let mut stack: Vec<(usize, usize)> = vec![(id, 0)];
        while let Some(top) = stack.last_mut() {
            let (nid, next) = *top;
            let n = &nodes[nid];
            if next < n.children.len() {
                top.1 += 1;
                stack.push((n.children[next], 0));
                continue;
            }
            stack.pop();
            if n.children.is_empty() {
                // A leaf: enter here. Every new subtree starts with an entry.
                *at_depth = false;
                self.enter_leaf(cur, n, z_prev, z, at_depth);
            }
            let loops: Vec<Pline> = n.comp.loops().cloned().collect();
            self.cut_loops(cur, n.level, loops, z_prev, z, at_depth);
        }
    }

    /// Helix down at an innermost loop where there is room; otherwise the loop's own ramp
    /// entry follows in [`Self::cut_loops`].
    fn enter_leaf(&self, cur: &mut Cursor, n: &Node, z_prev: f64, z: f64, at_depth: &mut bool) {
        if self.entry.kind != EntryKind::Helix {
            return;
        }
        let verts: Vec<V2> = n
            .comp
            .outer
            .iter_vertexes()
            .map(|v| V2::new(v.x, v.y))
            .collect();
        let mut c = verts.iter().fold(V2::default(), |a, &b| a + b) * (1.0 / verts.len() as f64);
        if !n.comp.contains(c) {
            c = verts[0];
        }
        let domain = &self.lv[self.rough0];
        if !domain.iter().any(|k| k.contains(c)) {
            return;
        }
        let avail = boundary_distance(domain, c, self.tol.equal_point_mm) - self.tol.path_mm;
        let rh = (0.5 * self.entry.helix_diameter_frac * self.d).min(avail);
        if rh < 0.1 * self.d {
            return;
        }
        cur.helix(c, rh, z_prev, z, self.ccw);
        *at_depth = true;
    }

    /// Cuts loops of one level, nearest first, linking or re-entering between them.
    fn cut_loops(
        &self,
        cur: &mut Cursor,
        k: usize,
        loops: Vec<Pline>,
        z_prev: f64,
        z: f64,
        at_depth: &mut bool,
    ) {
        let mut todo: Vec<(Pline, bool)> = loops
            .into_iter()
            .enumerate()
            .map(|(i, l)| (l, i == 0))
            .collect();
        while !todo.is_empty() {
            let here = cur.pos().xy();
            // The nearest loop; one nearer by less than the equal-point distance is a tie,
            // which the order decides (not rounding, which differs with the scale).
            let mut idx = 0;
            let mut best = f64::INFINITY;
            for (i, (l, _)) in todo.iter().enumerate() {
                let dist = closest_point_tied(l, here, self.tol.equal_point_mm)
                    .map_or(f64::INFINITY, |c| c.distance);
                if dist < best - self.tol.equal_point_mm {
                    idx = i;
                    best = dist;
                }
            }
            let (l, is_outer) = todo.swap_remove(idx);
            let l = self.prepare(&l, is_outer, here);
            let path = loop_path(&l);
            let start = V2::new(path[0].x, path[0].y);
            if *at_depth && self.link_ok(k, here, start) {
                cur.link(P3::new(start.x, start.y, z));
                cur.cut_path(&path, z);
            } else {
                cur.ramp_loop(&path, z_prev, z, self.entry.kind == EntryKind::Plunge);
            }
            *at_depth = true;
        }
    }

    /// Parallel passes at `angle_deg`, `s` apart, clipped to the roughing domain.
    fn zigzag(
        &self,
        cur: &mut Cursor,
        angle_deg: f64,
        s: f64,
        z_prev: f64,
        z: f64,
        warnings: &mut Vec<String>,
    ) {
        let domain = &self.lv[self.rough0];
        let dir = V2::from_angle(angle_deg.to_radians());
        let nrm = dir.perp();
        // Range of the domain across the lines.
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for c in domain {
            for v in c.outer.iter_vertexes() {
                let q = V2::new(v.x, v.y).dot(nrm);
                lo = lo.min(q);
                hi = hi.max(q);
            }
            let b = c.bbox;
            for q in [
                b.min,
                b.max,
                V2::new(b.min.x, b.max.y),
                V2::new(b.max.x, b.min.y),
            ] {
                lo = lo.min(q.dot(nrm));
                hi = hi.max(q.dot(nrm));
            }
        }
        let n = ((hi - lo) / s).floor() as usize;
        let mut passes: Vec<Vec<(V2, V2)>> = Vec::new();
        for i in 0..=n {
            let off = lo + (hi - lo - n as f64 * s) * 0.5 + i as f64 * s;
            let segs = clip_line(domain, nrm * off, dir, self.tol.equal_point_mm);
            if !segs.is_empty() {
                passes.push(segs);
            }
        }
        if passes.is_empty() {
            warnings.push(
                "pocket: zigzag found no passes inside the domain; only the boundary is cut".into(),
            );
            return;
        }
        let mut at_depth = false;
        // Line by line; on each line the segment nearest the tool, entered from its nearer end,
        // which makes the back-and-forth of a zigzag.
        for mut segs in passes {
            while let Some(i) = nearest_seg(&segs, cur.pos().xy()) {
                let here = cur.pos().xy();
                let (a, b) = segs.swap_remove(i);
                let (a, b) = if here.dist(a) <= here.dist(b) {
                    (a, b)
                } else {
                    (b, a)
                };
                if at_depth && here.dist(a) <= 2.0 * s && inside(domain, here, a, &self.tol) {
                    cur.link(P3::new(a.x, a.y, z));
                } else {
                    // Ramp in along the pass itself, back and forth.
                    self.ramp_on_segment(cur, a, b, z_prev, z);
                }
                cur.tp.line(P3::new(b.x, b.y, z), MoveClass::Cut, cur.feed);
                at_depth = true;
            }
        }
    }

    /// Enters at `a` by ramping along a→b and back until `z` is reached (plunge if asked).
    fn ramp_on_segment(&self, cur: &mut Cursor, a: V2, b: V2, z_from: f64, z: f64) {
        if self.entry.kind == EntryKind::Plunge {
            cur.descend_cleared(a, z_from, z);
            return;
        }
        let len = a.dist(b).min(self.d * 2.0).max(self.tol.path_mm);
        let tip = a + (b - a).normalized() * len;
        let at_a = cur.ramp_between(a, tip, z_from, z);
        if !at_a {
            cur.tp.line(P3::new(a.x, a.y, z), MoveClass::Cut, cur.feed);
        }
    }
}

fn nearest_seg(segs: &[(V2, V2)], p: V2) -> Option<usize> {
    segs.iter()
        .enumerate()
        .map(|(i, (a, b))| (i, p.dist(*a).min(p.dist(*b))))
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(i, _)| i)
}

/// The parts of the line `origin + t·dir` inside the components, as segments in increasing
/// `t`.
pub(super) fn clip_line(comps: &[OffsetComponent], origin: V2, dir: V2, eps: f64) -> Vec<(V2, V2)> {
    let mut ts: Vec<f64> = Vec::new();
    for l in comps.iter().flat_map(OffsetComponent::loops) {
        for (v1, v2) in l.iter_segments() {
            let (a, b) = (V2::new(v1.x, v1.y), V2::new(v2.x, v2.y));
            if v1.bulge == 0.0 {
                let e = b - a;
                let den = dir.cross(e);
                if den.abs() <= f64::MIN_POSITIVE {
                    continue;
                }
                let w = a - origin;
                let t = w.cross(e) / den;
                let u = w.cross(dir) / den;
                if (0.0..=1.0).contains(&u) {
                    ts.push(t);
                }
            } else {
                let (c, r) = crate::geometry::biarc::arc_centre_radius(a, b, v1.bulge);
                let w = origin - c;
                let bq = w.dot(dir);
                let cq = w.dot(w) - r * r;
                let disc = bq * bq - cq;
                if disc < 0.0 {
                    continue;
                }
                for t in [-bq - disc.sqrt(), -bq + disc.sqrt()] {
                    let q = origin + dir * t;
                    if crate::geometry::biarc::seg_distance(v1, v2, q) <= eps {
                        ts.push(t);
                    }
                }
            }
        }
    }
    ts.sort_by(f64::total_cmp);
    ts.dedup_by(|a, b| (*a - *b).abs() <= eps);
    let mut out = Vec::new();
    for w in ts.windows(2) {
        let mid = origin + dir * (0.5 * (w[0] + w[1]));
        if w[1] - w[0] > eps && comps.iter().any(|c| c.contains(mid)) {
            out.push((origin + dir * w[0], origin + dir * w[1]));
        }
    }
    out
}

/// Whether some point of the component lies farther than `r` from all its loops: points on the
/// loops' offsets by `r` into the component, every `r / 4` along them, are tried (where such a
/// point exists, the boundary of the set of them lies on those offsets).
fn out_of_reach(c: &OffsetComponent, r: f64, tol: &Tolerance) -> bool {
    use cavalier_contours::polyline::PlineSource;
    let reach = r - tol.path_mm;
    let loops: Vec<&Pline> = c.loops().collect();
    let far = |p: V2| {
        c.contains(p)
            && loops.iter().all(|l| {
                l.closest_point(p.into(), tol.equal_point_mm)
                    .is_none_or(|q| q.distance >= reach - tol.path_mm)
            })
    };
    for (k, l) in loops.iter().enumerate() {
        let mut l = (*l).clone();
        orient(&mut l, true);
        // Into the component: inward from the outline, outward from a hole.
        let d = if k == 0 { reach } else { -reach };
        for o in crate::geometry::offset::offset_loop(&l, d, tol) {
            for i in 0..o.vertex_count() {
                let (v, w) = (o.at(i), o.at(o.next_wrapping_index(i)));
                let n = ((crate::geometry::bulge::seg_len(v, w) / (0.25 * r)).ceil() as usize)
                    .clamp(1, 64);
                if (0..n).any(|t| far(crate::geometry::bulge::seg_point(v, w, t as f64 / n as f64)))
                {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests;
