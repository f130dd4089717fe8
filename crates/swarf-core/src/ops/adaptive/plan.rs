//! Planning one tool-centre domain: the raster, its opening and slowness, the fronts marched
//! from the entries, and the level curves clipped, smoothed and fitted with arcs as passes.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Fronts, passes and their order for one connected domain.
pub(super) fn plan_domain(
    c: &OffsetComponent,
    g: &Geom,
    entry: &Entry,
    cancel: &Cancel,
) -> Result<DomainPlan, OpError> {
    let (r, d) = (g.r, g.d);
    let eq = g.tol.equal_point_mm;
    let bw = c.bbox.width().max(eq);
    let bh = c.bbox.height().max(eq);
    let h = (r / GRID_PER_RADIUS)
        .min(g.s_max)
        .max(((bw + 8.0 * r) * (bh + 8.0 * r) / MAX_NODES).sqrt());
    // A sanity bound, not a machining rule: the passes' total length is about the area over
    // the step; beyond the bound the program would not fit in memory or on a controller.
    let est_len = c.outer.area().abs() / (0.5 * g.s_max);
    if est_len > MAX_PASS_LENGTH_MM {
        return Err(param_err(
            "adaptive",
            "max_engagement_deg",
            format!(
                "would need about {:.0} m of passes in one area with the {d} mm tool; use a larger \
                 tool or allow more engagement",
                est_len / 1000.0
            ),
        ));
    }
    let mut field = Field::new(c, h, eq);
    // Fronts turn tangent to the walls in fillets of about `rho`, and wrap round islands no
    // tighter than that: every convex bend of a front is at least `rho` (or, near the entry,
    // its distance from the entry), and the step is the one that holds the engagement there.
    // At most BEND_RADII tool radii, and no more than half the domain's own largest inscribed
    // radius, so a small pocket is not all "narrow".
    let rho = (BEND_RADII * r).min(0.5 * field.deepest().1).max(0.5 * r);
    // Where the domain is narrower than `2·rho` (a neck between an island and a wall, a thin
    // arm) fronts cannot keep that radius: such places are slowed down so the fronts go round
    // them rather than squeezing through and fanning out on the far side, and every part of
    // the domain wider than that gets an entry of its own.
    let (open, parts) = field.opening(rho);
    // A helix at a point (the deepest of a part), as large as the entry asks and there is room
    // for; none where it would be tiny.
    let entry_at = |p0: V2, depth: f64| {
        let src = if depth > 0.0 && c.contains(p0) {
            p0
        } else {
            let v = c.outer.at(0);
            V2::new(v.x, v.y)
        };
        let avail =
            crate::ops::pocket::boundary_distance(std::slice::from_ref(c), src, eq) - g.tol.path_mm;
        let mut rh = (0.5 * entry.helix_diameter_frac * d).min(avail);
        if entry.kind != EntryKind::Helix || rh < 0.1 * d || !c.contains(src) {
            rh = 0.0;
        }
        Entry2 {
            src,
            rh,
            ramp_to: None,
        }
    };
    let mut entries: Vec<Entry2> = parts.iter().map(|&(p0, dp)| entry_at(p0, dp)).collect();
    if entries.is_empty() {
        // Narrower than `2·rho` everywhere: one entry at the deepest point.
        let (p0, dp) = field.deepest();
        entries.push(entry_at(p0, dp));
    }
    // Parts without room for a helix are reached by the fronts of the others; only when none
    // has room does one ramp in (never a plunge unless asked for).
    if entries.iter().any(|e| e.rh > 0.0) {
        entries.retain(|e| e.rh > 0.0);
    } else {
        entries.truncate(1);
    }
    let mut slow = field.slowness(c, rho);
    for ((f, &o), &dp) in slow.iter_mut().zip(&open).zip(&field.depth) {
        if o == 0 && dp > 0.0 {
            *f = f.max(NECK_SLOWNESS);
        }
    }
    let srcs: Vec<V2> = entries.iter().map(|e| e.src).collect();
    field.march(c, &srcs, &slow);
    let t_max = field.max_inside();
    // Level values: small steps while the front is tightly curved, near the entry.
    let mut levels = Vec::new();
    let l0 = entries.iter().map(|e| e.rh).fold(f64::INFINITY, f64::min);
    let mut l = l0;
    loop {
        let s = step_for(r, l.max(0.25 * r).min(rho), g.phi, g.s_max).max(g.s_max * 0.02);
        l += s;
        if l > t_max + s {
            break;
        }
        levels.push(l);
        if levels.len() > MAX_LEVELS {
            return Err(param_err(
                "adaptive",
                "max_engagement_deg",
                format!(
                    "gives more than {MAX_LEVELS} passes in one area; allow more engagement or use a larger tool"
                ),
            ));
        }
    }
    cancel.check()?;
    let tiles = Tiles::new(&field, r + g.s_max + 2.0 * h);
    let contours = field.contours(&levels);
    // Clipping, smoothing and arc fitting of each level curve are independent: in parallel.
    let mut passes: Vec<Pass> = contours
        .into_par_iter()
        .flat_map_iter(|(li, pts, closed)| {
            let mut out = Vec::new();
            if cancel.requested() {
                return out;
            }
            // Smoothed before clipping, so the clipped ends lie exactly on the domain's edge
            // and every point stays inside it; the fit then stays within `fit` of them.
            let mut pts = pts;
            smooth(&mut pts, closed);
            for (mut run, closed) in clip_chain(&field, c, pts, closed) {
                if !g.ccw {
                    run.reverse();
                }
                let len: f64 = run.windows(2).map(|w| w[0].dist(w[1])).sum();
                if len <= 2.0 * g.fit {
                    continue;
                }
                let path = fit_within(&field, c, &run, g.fit, eq);
                if path.len() < 2 {
                    continue;
                }
                let (own, near) = tiles.cover(&run);
                out.push(Pass {
                    level: li,
                    path,
                    closed,
                    own,
                    near,
                });
            }
            out
        })
        .collect();
    cancel.check()?;
    for e in &mut entries {
        if e.rh == 0.0 {
            e.ramp_to = ramp_target(c, e.src, &passes, d);
        }
    }
    let last = entries.last().expect("at least one entry");
    let start = last.src + V2::new(last.rh, 0.0);
    let order = order_passes(&mut passes, &field, &levels, l0, &tiles, c, start, g);
    let mut edge = c.outer.clone();
    orient(&mut edge, g.ccw);
    Ok(DomainPlan {
        entries,
        edge: loop_path(&edge),
        passes,
        order,
    })
}

/// Taubin smoothing (a shrinking and an inflating Laplacian step, repeated) of a traced level
/// curve: takes out the kinks that marching squares leaves at cell edges without moving the
/// curve as a whole. The ends of open chains stay where they are.
pub(super) fn smooth(pts: &mut [V2], closed: bool) {
    let n = pts.len();
    if n < 4 {
        return;
    }
    let mut tmp = pts.to_vec();
    for _ in 0..4 {
        for lambda in [0.5, -0.53] {
            for k in 0..n {
                let (prev, next) = if closed {
                    // The last point repeats the first.
                    let m = n - 1;
                    let kk = k % m;
                    (pts[(kk + m - 1) % m], pts[(kk + 1) % m])
                } else if k == 0 || k == n - 1 {
                    tmp[k] = pts[k];
                    continue;
                } else {
                    (pts[k - 1], pts[k + 1])
                };
                let mid = (prev + next) * 0.5;
                tmp[k] = pts[k] + (mid - pts[k]) * lambda;
            }
            pts.copy_from_slice(&tmp);
        }
    }
}

/// Arcs through the traced points within `fit`, checked against the domain: the fitter meets
/// its tolerance at samples, and a hairpin turn between two of them can be missed; such a
/// piece is refitted tighter, and as a last resort written as the lines through its points
/// (which all lie inside).
pub(super) fn fit_within(
    field: &Field,
    c: &OffsetComponent,
    pts: &[V2],
    fit: f64,
    eq: f64,
) -> Vec<PlineVertex<f64>> {
    let ok = |path: &[PlineVertex<f64>]| {
        path.windows(2).all(|w| {
            let n = ((seg_len(w[0], w[1]) / (0.25 * field.h)).ceil() as usize).clamp(4, 4096);
            (1..n).all(|k| {
                let q = seg_point(w[0], w[1], k as f64 / n as f64);
                inside(field, c, q)
                    || crate::ops::pocket::boundary_distance(std::slice::from_ref(c), q, eq) <= fit
            })
        })
    };
    let mut thinned = pts.to_vec();
    thin(&mut thinned, field.h);
    for t in [fit, 0.25 * fit] {
        let path = fit_polyline(&thinned, 60.0, t, eq);
        if ok(&path) {
            return path;
        }
    }
    let mut lines: Vec<PlineVertex<f64>> = Vec::with_capacity(pts.len());
    for p in pts {
        if lines.last().is_none_or(|l| V2::new(l.x, l.y).dist(*p) > eq) {
            lines.push(PlineVertex::new(p.x, p.y, 0.0));
        }
    }
    lines
}

/// Drops points closer than `gap` to the last kept one (the ends stay): marching squares puts
/// a point on every cell edge, more than a smooth curve needs for fitting.
pub(super) fn thin(pts: &mut Vec<V2>, gap: f64) {
    let n = pts.len();
    if n < 3 {
        return;
    }
    let last = pts[n - 1];
    let mut k = 1;
    for i in 1..n - 1 {
        if pts[i].dist(pts[k - 1]) >= gap {
            pts[k] = pts[i];
            k += 1;
        }
    }
    pts[k] = last;
    pts.truncate(k + 1);
}

/// Whether `p` is inside `c`, using the raster where it is sure.
pub(super) fn inside(field: &Field, c: &OffsetComponent, p: V2) -> bool {
    let i = ((p.x - field.origin.x) / field.h).round();
    let j = ((p.y - field.origin.y) / field.h).round();
    if i >= 0.0 && j >= 0.0 && (i as usize) < field.nx && (j as usize) < field.ny {
        let k = j as usize * field.nx + i as usize;
        if field.depth[k] >= 1.5 * field.h {
            return true;
        }
    }
    c.contains(p)
}

/// The parts of a chain inside the domain, cut exactly at its boundary (by bisection).
pub(super) fn clip_chain(
    field: &Field,
    c: &OffsetComponent,
    mut pts: Vec<V2>,
    closed: bool,
) -> Vec<(Vec<V2>, bool)> {
    let ins: Vec<bool> = pts.iter().map(|&q| inside(field, c, q)).collect();
    if ins.iter().all(|&b| b) {
        return vec![(pts, closed)];
    }
    let mut ins = ins;
    if closed {
        // Start at a vertex outside, so the inside runs are contiguous.
        let k = ins.iter().position(|&b| !b).expect("one is outside");
        pts.pop();
        ins.pop();
        pts.rotate_left(k);
        ins.rotate_left(k);
        pts.push(pts[0]);
        ins.push(ins[0]);
    }
    let cross = |a: V2, b: V2| -> V2 {
        // a inside, b outside.
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..30 {
            let m = 0.5 * (lo + hi);
            if c.contains(a.lerp(b, m)) {
                lo = m;
            } else {
                hi = m;
            }
        }
        a.lerp(b, lo)
    };
    let mut out = Vec::new();
    let mut run: Vec<V2> = Vec::new();
    for k in 0..pts.len() {
        if ins[k] {
            if run.is_empty() && k > 0 {
                run.push(cross(pts[k], pts[k - 1]));
            }
            run.push(pts[k]);
        } else if !run.is_empty() {
            run.push(cross(pts[k - 1], pts[k]));
            out.push((std::mem::take(&mut run), false));
        }
    }
    if run.len() > 1 {
        out.push((run, false));
    }
    out
}

/// A coarse grid of tiles over the field, for "which passes are near".
pub(super) struct Tiles {
    pub(super) origin: V2,
    pub(super) size: f64,
    pub(super) nx: usize,
    pub(super) ny: usize,
}

impl Tiles {
    pub(super) fn new(field: &Field, size: f64) -> Tiles {
        let ext = V2::new(field.nx as f64 * field.h, field.ny as f64 * field.h);
        Tiles {
            origin: field.origin,
            size,
            nx: (ext.x / size).ceil() as usize + 1,
            ny: (ext.y / size).ceil() as usize + 1,
        }
    }
    pub(super) fn ij(&self, p: V2) -> (usize, usize) {
        let i = ((p.x - self.origin.x) / self.size).floor().max(0.0) as usize;
        let j = ((p.y - self.origin.y) / self.size).floor().max(0.0) as usize;
        (i.min(self.nx - 1), j.min(self.ny - 1))
    }
    pub(super) fn of(&self, p: V2) -> u32 {
        let (i, j) = self.ij(p);
        (j * self.nx + i) as u32
    }
    pub(super) fn around(&self, t: u32, out: &mut Vec<u32>) {
        let (i, j) = (t as usize % self.nx, t as usize / self.nx);
        for jj in j.saturating_sub(1)..=(j + 1).min(self.ny - 1) {
            for ii in i.saturating_sub(1)..=(i + 1).min(self.nx - 1) {
                out.push((jj * self.nx + ii) as u32);
            }
        }
    }
    /// The tiles a chain touches, and those around them.
    pub(super) fn cover(&self, pts: &[V2]) -> (Vec<u32>, Vec<u32>) {
        let mut own: Vec<u32> = Vec::new();
        for w in pts.windows(2) {
            let n = ((w[0].dist(w[1]) / (0.5 * self.size)).ceil() as usize).clamp(1, 1 << 20);
            for k in 0..=n {
                own.push(self.of(w[0].lerp(w[1], k as f64 / n as f64)));
            }
        }
        if let Some(&p) = pts.first() {
            own.push(self.of(p));
        }
        own.sort_unstable();
        own.dedup();
        let mut near = Vec::new();
        for &t in &own {
            self.around(t, &mut near);
        }
        near.sort_unstable();
        near.dedup();
        (own, near)
    }
}

/// Bilinear interpolation of the distance field (infinite where a node is outside).
pub(super) fn t_at(field: &Field, p: V2) -> f64 {
    let x = (p.x - field.origin.x) / field.h;
    let y = (p.y - field.origin.y) / field.h;
    if x < 0.0 || y < 0.0 {
        return f64::INFINITY;
    }
    let (i, j) = (x.floor() as usize, y.floor() as usize);
    if i + 1 >= field.nx || j + 1 >= field.ny {
        return f64::INFINITY;
    }
    let (fx, fy) = (x - i as f64, y - j as f64);
    let k = j * field.nx + i;
    let v = [
        field.t[k],
        field.t[k + 1],
        field.t[k + field.nx],
        field.t[k + field.nx + 1],
    ];
    if v.iter().any(|t| !t.is_finite()) {
        return v.iter().copied().fold(f64::INFINITY, f64::min) + field.h;
    }
    (v[0] * (1.0 - fx) + v[1] * fx) * (1.0 - fy) + (v[2] * (1.0 - fx) + v[3] * fx) * fy
}

/// Direction of growing distance at `p` (toward uncut material).
pub(super) fn grad_at(field: &Field, p: V2) -> Option<V2> {
    let e = 0.5 * field.h;
    let gx = t_at(field, p + V2::new(e, 0.0)) - t_at(field, p - V2::new(e, 0.0));
    let gy = t_at(field, p + V2::new(0.0, e)) - t_at(field, p - V2::new(0.0, e));
    let g = V2::new(gx, gy);
    (g.x.is_finite() && g.y.is_finite() && g.length() > 1e-12).then(|| g.normalized())
}
