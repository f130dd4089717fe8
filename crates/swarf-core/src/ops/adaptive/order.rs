//! The order of the passes: a pass is ready once no unfinished pass of a lower level is near;
//! the nearest ready pass next, joined by a spiral, a lead-in arc or a link that stays down
//! where the material is cleared.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Unfinished passes per tile and level.
pub(super) struct Pending {
    pub(super) by_tile: Vec<BTreeMap<usize, u32>>,
}

impl Pending {
    /// Lowest level with an unfinished pass in the tiles within `reach` of `p`.
    pub(super) fn min_near(&self, tiles: &Tiles, p: V2, reach: f64) -> usize {
        let (i0, j0) = tiles.ij(p - V2::new(reach, reach));
        let (i1, j1) = tiles.ij(p + V2::new(reach, reach));
        let mut m = usize::MAX;
        for j in j0..=j1 {
            for i in i0..=i1 {
                if let Some(&l) = self.by_tile[j * tiles.nx + i].keys().next() {
                    m = m.min(l);
                }
            }
        }
        m
    }
    pub(super) fn ready(&self, pass: &Pass) -> bool {
        pass.near.iter().all(|&t| {
            self.by_tile[t as usize]
                .keys()
                .next()
                .is_none_or(|&l| l >= pass.level)
        })
    }
}

/// Orders the passes: each once the passes of lower levels around it are cut, the nearest
/// first; and chooses how to get to each (a lead-in from cleared area, staying down where the
/// straight way there is cleared).
#[allow(clippy::too_many_arguments)]
pub(super) fn order_passes(
    passes: &mut [Pass],
    field: &Field,
    levels: &[f64],
    l0: f64,
    tiles: &Tiles,
    c: &OffsetComponent,
    start: V2,
    g: &Geom,
) -> Vec<Step> {
    let n = passes.len();
    let mut pend = Pending {
        by_tile: vec![BTreeMap::new(); tiles.nx * tiles.ny],
    };
    let mut watch: Vec<Vec<u32>> = vec![Vec::new(); tiles.nx * tiles.ny];
    for (pi, ps) in passes.iter().enumerate() {
        for &t in &ps.own {
            *pend.by_tile[t as usize].entry(ps.level).or_insert(0) += 1;
        }
        for &t in &ps.near {
            watch[t as usize].push(pi as u32);
        }
    }
    let mut done = vec![false; n];
    let mut queued = vec![false; n];
    let mut ready: Vec<usize> = Vec::new();
    for pi in 0..n {
        if pend.ready(&passes[pi]) {
            ready.push(pi);
            queued[pi] = true;
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut here = start;
    let h = field.h;
    while order.len() < n {
        if ready.is_empty() {
            // Cannot happen with consistent levels; take the lowest level left rather than loop.
            let pi = (0..n)
                .filter(|&i| !done[i])
                .min_by_key(|&i| passes[i].level)
                .expect("some left");
            ready.push(pi);
            queued[pi] = true;
        }
        // Nearest ready pass (closed passes start where they are nearest).
        let (ri, _) = ready
            .iter()
            .enumerate()
            .map(|(k, &pi)| {
                let ps = &passes[pi];
                let dist = if ps.closed {
                    closed_nearest(ps, here, g.tol.equal_point_mm).1
                } else {
                    here.dist(V2::new(ps.path[0].x, ps.path[0].y))
                };
                (k, dist)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("not empty");
        let pi = ready.swap_remove(ri);
        let level = passes[pi].level;
        let step = levels[level] - if level == 0 { l0 } else { levels[level - 1] };
        let mut spiral = false;
        if passes[pi].closed {
            let (path, dist) = closed_nearest(&passes[pi], here, g.tol.equal_point_mm);
            // Right next to the loop (the tool has just gone round the one inside it): step
            // over to it along a shallow diagonal, a spiral, entering a few steps further on.
            let lap = crate::geometry::bulge::path_len(&path);
            if dist <= 1.5 * step + h && lap > 0.0 {
                let ahead = (8.0 * step).min(0.25 * lap);
                passes[pi].path = rotate_at(&path, ahead, g.tol.equal_point_mm);
                spiral = true;
            } else {
                passes[pi].path = path;
            }
        }
        let step = Approach {
            field,
            c,
            tiles,
            g,
            levels,
            l0,
        }
        .step(&pend, pi, &passes[pi], here, spiral, step);
        order.push(step);
        finish(
            pi,
            &mut here,
            &mut done,
            &mut pend,
            &mut ready,
            &mut queued,
            passes,
            &watch,
        );
    }
    order
}

/// What choosing the way to a pass needs.
struct Approach<'a> {
    field: &'a Field,
    c: &'a OffsetComponent,
    tiles: &'a Tiles,
    g: &'a Geom,
    levels: &'a [f64],
    l0: f64,
}

impl Approach<'_> {
    /// The field value up to which the material is cut once every pass of a level below `m`
    /// is cut (`usize::MAX`: all of it).
    fn cleared_upto(&self, m: usize) -> f64 {
        if m == usize::MAX {
            f64::INFINITY
        } else if m == 0 {
            self.l0
        } else {
            self.levels[m - 1]
        }
    }

    /// How to get from `here` to pass `pi` (`ps`, whose level is `step` above the one before):
    /// straight on when it continues a spiral, else a lead-in from behind the front (an arc
    /// tangent to the pass where one fits) reached by staying down where the way is cleared,
    /// or after a lift.
    fn step(
        &self,
        pend: &Pending,
        pi: usize,
        ps: &Pass,
        here: V2,
        spiral: bool,
        step: f64,
    ) -> Step {
        let (field, c, tiles, g) = (self.field, self.c, self.tiles, self.g);
        let h = field.h;
        let b = V2::new(ps.path[0].x, ps.path[0].y);
        if spiral && segment_ok(here, b, h, &mut |x| inside(field, c, x)) {
            return (pi, Link::Direct, None);
        }
        // Lead-in: from behind the front, at a shallow angle where there is room.
        let back = step + h;
        let nrm = grad_at(field, b);
        let tan = {
            let q = seg_point(
                ps.path[0],
                ps.path[1],
                (h / seg_len(ps.path[0], ps.path[1]).max(h)).min(1.0),
            );
            (q - b).normalized()
        };
        let ok_pt = |q: V2| -> bool {
            inside(field, c, q) && {
                let m = pend.min_near(tiles, q, g.r + g.s_max);
                t_at(field, q) <= self.cleared_upto(m) + 0.25 * h
            }
        };
        // Candidates behind the front, swinging from "behind and before the start" (a shallow
        // approach along the pass) round to straight behind and then to either side; the first
        // that an arc tangent to the pass joins inside the domain, else the first a line does.
        let arc_inside = |q: V2| {
            lead_arc(q, b, tan).filter(|&(cen, ccw)| {
                let sweep = crate::toolpath::arc_sweep(q, b, cen, ccw);
                let a0 = (q - cen).angle();
                let rad = q.dist(cen);
                let n = ((sweep.abs() * rad / (0.5 * h)).ceil() as usize).clamp(2, 512);
                (1..n).all(|k| {
                    let x = cen + V2::from_angle(a0 + sweep * k as f64 / n as f64) * rad;
                    inside(field, c, x) && (x.dist(b) <= 1.5 * back || ok_pt(x))
                })
            })
        };
        let mut q = None;
        let mut lead = None;
        if let Some(nv) = nrm {
            let along = if tan.dot(nv.perp()) >= 0.0 { 1.0 } else { -1.0 };
            let mut cands = Vec::with_capacity(24);
            for dist in [back, 2.0 * back, 4.0 * back] {
                for (ahead, side) in [
                    (6.0, 0.0),
                    (3.0, 0.0),
                    (1.5, 0.0),
                    (0.0, 0.0),
                    (0.0, 1.5),
                    (0.0, -1.5),
                    (0.0, 4.0),
                    (0.0, -4.0),
                ] {
                    cands.push(
                        b - nv * dist - tan * (ahead * back) + nv.perp() * (along * side * back),
                    );
                }
            }
            let fits = |cand: V2| ok_pt(cand) && inside(field, c, cand);
            // The gentlest arc: the largest radius.
            if let Some((cand, arc)) = cands
                .iter()
                .filter(|&&x| fits(x))
                .filter_map(|&x| arc_inside(x).map(|a| (x, a)))
                .max_by(|a, b| a.0.dist(a.1.0).total_cmp(&b.0.dist(b.1.0)))
            {
                q = Some(cand);
                lead = Some(arc);
            } else {
                q = cands.into_iter().find(|&x| {
                    fits(x)
                        && segment_ok(b, x, h, &mut |y| {
                            inside(field, c, y) && (y.dist(b) <= 1.5 * back || ok_pt(y))
                        })
                });
            }
        }
        let q = q.unwrap_or(b);
        // Stay down when every point of the way to q is cleared: straight, or stepping back
        // from both ends into cleared area first.
        let mut way = None;
        // Right at the pass just cut the interpolated distance is not to be trusted (next to
        // a wall it climbs steeply): the first stretch only has to stay inside.
        let from = here;
        let mut ok = |x: V2| {
            if x.dist(from) <= 2.0 * h {
                inside(field, c, x)
            } else {
                ok_pt(x)
            }
        };
        if segment_ok(here, q, h, &mut ok) {
            way = Some(vec![q]);
        } else if let (Some(na), Some(nq)) = (grad_at(field, here), grad_at(field, q)) {
            for k in [2.0, 4.0, 8.0, 16.0] {
                let (a2, q2) = (here - na * (k * back), q - nq * (k * back));
                if segment_ok(here, a2, h, &mut ok)
                    && segment_ok(a2, q2, h, &mut ok)
                    && segment_ok(q2, q, h, &mut ok)
                {
                    way = Some(vec![a2, q2, q]);
                    break;
                }
            }
        }
        (pi, way.map_or(Link::Lift(q), Link::Stay), lead)
    }
}

/// The arc from `q` to `b` that arrives at `b` along `t` (the pass's direction), so the tool
/// meets the front sideways rather than head-on: (centre, counter-clockwise). `None` when `q`
/// lies on the tangent line (a straight lead-in is already tangent) or the arc would turn
/// much more than a quarter circle.
pub(super) fn lead_arc(q: V2, b: V2, t: V2) -> Option<(V2, bool)> {
    let u = t.perp();
    let w = b - q;
    let den = 2.0 * u.dot(w);
    if den.abs() <= 1e-12 * w.length().max(1e-12) {
        return None;
    }
    let k = -w.dot(w) / den;
    let cen = b + u * k;
    let ccw = k > 0.0;
    let sweep = crate::toolpath::arc_sweep(q, b, cen, ccw);
    // Not much beyond a quarter turn: a near-half circle's centre is ill-defined by its ends
    // once they are rounded to the program's decimals.
    (sweep.abs() <= 0.6 * std::f64::consts::PI && k.abs() > 1e-9).then_some((cen, ccw))
}

/// Marks pass `pi` cut: the tool is at its end, and passes waiting for it may become ready.
#[allow(clippy::too_many_arguments)]
pub(super) fn finish(
    pi: usize,
    here: &mut V2,
    done: &mut [bool],
    pend: &mut Pending,
    ready: &mut Vec<usize>,
    queued: &mut [bool],
    passes: &[Pass],
    watch: &[Vec<u32>],
) {
    let ps = &passes[pi];
    let last = ps.path[ps.path.len() - 1];
    *here = V2::new(last.x, last.y);
    done[pi] = true;
    for &t in &ps.own {
        let m = &mut pend.by_tile[t as usize];
        if let Some(e) = m.get_mut(&ps.level) {
            *e -= 1;
            if *e == 0 {
                m.remove(&ps.level);
            }
        }
    }
    for &t in &ps.own {
        for &qi in &watch[t as usize] {
            let qi = qi as usize;
            if !done[qi] && !queued[qi] && pend.ready(&passes[qi]) {
                queued[qi] = true;
                ready.push(qi);
            }
        }
    }
}

/// A closed path (last vertex = first) started `dist` further along.
pub(super) fn rotate_at(path: &[PlineVertex<f64>], dist: f64, eq: f64) -> Vec<PlineVertex<f64>> {
    let mut pl = Pline::new_closed();
    for v in &path[..path.len() - 1] {
        pl.add_vertex(*v);
    }
    let mut left = dist;
    for (i, w) in path.windows(2).enumerate() {
        let len = seg_len(w[0], w[1]);
        if len > 0.0 && left <= len {
            let p = seg_point(w[0], w[1], left / len);
            if let Some(l) = pl.rotate_start(i, p.into(), eq) {
                return loop_path(&l);
            }
            break;
        }
        left -= len;
    }
    path.to_vec()
}

/// Whether every sample of the segment (spacing `h / 2`) passes `ok`.
pub(super) fn segment_ok(a: V2, b: V2, h: f64, ok: &mut impl FnMut(V2) -> bool) -> bool {
    let n = ((a.dist(b) / (0.5 * h)).ceil() as usize).clamp(1, 1 << 22);
    (0..=n).all(|k| ok(a.lerp(b, k as f64 / n as f64)))
}

/// A closed pass started at its point nearest `p`, and that distance.
pub(super) fn closed_nearest(ps: &Pass, p: V2, eq: f64) -> (Vec<PlineVertex<f64>>, f64) {
    let mut pl = Pline::new_closed();
    for v in &ps.path[..ps.path.len() - 1] {
        pl.add_vertex(*v);
    }
    match pl.closest_point(p.into(), eq) {
        Some(cp) => {
            let dist = cp.distance;
            let path = pl
                .rotate_start(cp.seg_start_index, cp.seg_point, eq)
                .map_or_else(|| ps.path.clone(), |l| loop_path(&l));
            (path, dist)
        }
        None => (ps.path.clone(), f64::INFINITY),
    }
}
