//! Writing a planned and ordered domain as moves: entries (helix, ramp), passes with their
//! links and leads, and the wall passes.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A point to ramp to from `src` when there is no room for a helix: the farthest pass point
/// within a tool diameter that a straight line reaches inside the domain.
pub(super) fn ramp_target(c: &OffsetComponent, src: V2, passes: &[Pass], d: f64) -> Option<V2> {
    passes
        .iter()
        .flat_map(|ps| ps.path.iter().map(|v| V2::new(v.x, v.y)))
        .filter(|q| q.dist(src) <= 2.0 * d && q.dist(src) > 0.05 * d)
        .filter(|&q| segment_ok(src, q, 0.05 * d, &mut |x| c.contains(x)))
        .max_by(|a, b| a.dist(src).total_cmp(&b.dist(src)))
}

/// Cuts one domain at `z`: entry, then the passes in order.
pub(super) fn emit_domain(
    cur: &mut Cursor,
    dp: &DomainPlan,
    z_prev: f64,
    z: f64,
    g: &Geom,
    entry: &Entry,
) {
    if dp.passes.is_empty() && dp.entries.iter().all(|e| e.rh == 0.0) {
        return;
    }
    for (k, e) in dp.entries.iter().enumerate() {
        if k > 0 {
            cur.retract();
        }
        if e.rh > 0.0 {
            cur.helix(e.src, e.rh, z_prev, z, g.ccw);
            // The flat turn after the helix finishes the entry; it cuts the whole circle.
            let n = cur.tp.moves.len();
            for m in &mut cur.tp.moves[n.saturating_sub(4)..] {
                m.class = MoveClass::Entry;
            }
        } else {
            match e.ramp_to {
                Some(q) if entry.kind != EntryKind::Plunge => ramp(cur, e.src, q, z_prev, z),
                _ if entry.kind != EntryKind::Plunge && dp.edge.len() > 2 => {
                    cur.ramp_loop(&dp.edge, z_prev, z, false);
                }
                _ => cur.descend_cleared(e.src, z_prev, z),
            }
        }
    }
    let feed = cur.feed;
    for (pi, link, lead) in &dp.order {
        let pi = *pi;
        let ps = &dp.passes[pi];
        let b = P3::new(ps.path[0].x, ps.path[0].y, z);
        match link {
            Link::Stay(way) => {
                for q in way {
                    cur.link_cleared(P3::new(q.x, q.y, z));
                }
            }
            // Rapid only down to the level above: the point was judged cleared from the
            // distance field, and a rapid into stock is the one mistake not to make.
            Link::Lift(q) => cur.descend_cleared(*q, z_prev, z),
            Link::Direct => {}
        }
        if cur.pos().dist(b) > cur.min_len {
            match lead {
                Some((cen, ccw)) => cur.tp.arc(b, *cen, *ccw, MoveClass::Cut, feed),
                None => cur.tp.line(b, MoveClass::Cut, feed),
            }
        }
        cur.cut_path(&ps.path, z);
    }
}

/// Ramps back and forth between `a` and `b` from `z_from` down to `z`, ending at `a`.
pub(super) fn ramp(cur: &mut Cursor, a: V2, b: V2, z_from: f64, z: f64) {
    if !cur.ramp_between(a, b, z_from, z) {
        let rate = cur.tool.feeds.ramp_mm_per_min;
        cur.tp.line(P3::new(a.x, a.y, z), MoveClass::Entry, rate);
    }
}

/// The wall pass: every loop of the wall component, climb oriented, nearest first.
pub(super) fn emit_walls(
    cur: &mut Cursor,
    w: &OffsetComponent,
    first: bool,
    z_prev: f64,
    z: f64,
    g: &Geom,
) {
    let eq = g.tol.equal_point_mm;
    let mut todo: Vec<(Pline, bool)> = w
        .loops()
        .cloned()
        .enumerate()
        .map(|(i, l)| (l, i == 0))
        .collect();
    let mut entered = !first;
    while !todo.is_empty() {
        let here = cur.pos().xy();
        let (k, _) = todo
            .iter()
            .enumerate()
            .map(|(k, (l, _))| {
                (
                    k,
                    l.closest_point(here.into(), eq)
                        .map_or(f64::INFINITY, |c| c.distance),
                )
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("not empty");
        let (mut l, is_outer) = todo.swap_remove(k);
        orient(&mut l, is_outer == g.ccw);
        if let Some(cp) = l.closest_point(here.into(), eq)
            && let Some(rot) = l.rotate_start(cp.seg_start_index, cp.seg_point, eq)
        {
            l = rot;
        }
        let path = loop_path(&l);
        let s = V2::new(path[0].x, path[0].y);
        if !entered {
            // Nothing else was cut here (the domain is too thin for fronts): ramp along the loop.
            cur.ramp_loop(&path, z_prev, z, false);
            entered = true;
            continue;
        }
        let inside_w = segment_ok(here, s, g.r * 0.25, &mut |x| w.contains(x));
        if inside_w && cur.pos().z <= z + eq {
            cur.link(P3::new(s.x, s.y, z));
        } else {
            cur.descend_cleared(s, z, z);
        }
        cur.cut_path(&path, z);
    }
}
