//! Joining loose segments into loops and chains.
//!
//! DXF drawings often describe one outline as many separate LINEs and ARCs, sometimes twice.
//! This module removes duplicates, joins pieces whose ends meet within the equal-point distance,
//! closes loops whose ends miss by less than the gap limit (with a warning), and returns what
//! stays open as open chains.

use crate::geometry::bulge::{reverse_open, seg_tangents};
use std::collections::HashMap;

use cavalier_contours::polyline::{PlineCreation, PlineSourceMut, PlineVertex};

use crate::geometry::{Pline, V2};

/// An open polyline from one source entity.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    pub verts: Vec<PlineVertex<f64>>,
    pub src: usize,
}

impl Piece {
    fn start(&self) -> V2 {
        let v = self.verts[0];
        V2::new(v.x, v.y)
    }
    fn end(&self) -> V2 {
        let v = self.verts[self.verts.len() - 1];
        V2::new(v.x, v.y)
    }
}

fn start_tangent(v: &[PlineVertex<f64>]) -> V2 {
    seg_tangents(v[0], v[1]).0
}
fn end_tangent(v: &[PlineVertex<f64>]) -> V2 {
    let n = v.len();
    seg_tangents(v[n - 2], v[n - 1]).1
}

/// Clusters points within `eq` into nodes with a hash grid.
struct NodeGrid {
    eq: f64,
    cells: HashMap<(i64, i64), Vec<usize>>,
    pos: Vec<V2>,
}

impl NodeGrid {
    fn new(eq: f64) -> Self {
        Self {
            eq,
            cells: HashMap::new(),
            pos: Vec::new(),
        }
    }
    fn cell(&self, p: V2) -> (i64, i64) {
        // Float-to-int casts saturate, so absurd coordinates cannot overflow.
        (
            (p.x / self.eq).floor() as i64,
            (p.y / self.eq).floor() as i64,
        )
    }
    fn find(&self, p: V2) -> Option<usize> {
        let (cx, cy) = self.cell(p);
        let mut best: Option<(usize, f64)> = None;
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(ids) = self
                    .cells
                    .get(&(cx.saturating_add(dx), cy.saturating_add(dy)))
                {
                    for &id in ids {
                        let d = self.pos[id].dist(p);
                        if d <= self.eq && best.is_none_or(|(_, bd)| d < bd) {
                            best = Some((id, d));
                        }
                    }
                }
            }
        }
        best.map(|(id, _)| id)
    }
    fn node(&mut self, p: V2) -> usize {
        if let Some(id) = self.find(p) {
            return id;
        }
        let id = self.pos.len();
        self.pos.push(p);
        let c = self.cell(p);
        self.cells.entry(c).or_default().push(id);
        id
    }
}

/// Result of chaining.
#[derive(Debug, Default)]
pub(crate) struct Chained {
    /// Closed loops with the source of their first piece.
    pub closed: Vec<(Pline, usize)>,
    /// Open chains with the source of their first piece.
    pub open: Vec<(Pline, usize)>,
    /// Pieces dropped because they repeat another piece.
    pub duplicates: usize,
    /// Gaps closed: (position, gap length).
    pub gaps: Vec<(V2, f64)>,
}

fn same_piece(a: &[PlineVertex<f64>], b: &[PlineVertex<f64>], eq: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(p, q)| {
            V2::new(p.x, p.y).dist(V2::new(q.x, q.y)) <= eq && (p.bulge - q.bulge).abs() <= 1e-9
        })
}

/// Quantised end points and vertex count of a piece, for finding duplicates.
type DedupeKey = ((i64, i64), (i64, i64), usize);

/// Removes pieces that repeat an earlier one (in either direction).
fn dedupe(pieces: Vec<Piece>, eq: f64) -> (Vec<Piece>, usize) {
    let q = |p: V2| {
        (
            (p.x / (eq * 8.0)).round() as i64,
            (p.y / (eq * 8.0)).round() as i64,
        )
    };
    let mut seen: HashMap<DedupeKey, Vec<usize>> = HashMap::new();
    let mut keep: Vec<Piece> = Vec::with_capacity(pieces.len());
    let mut dups = 0;
    for p in pieces {
        let (a, b) = (q(p.start()), q(p.end()));
        let key = if a <= b {
            (a, b, p.verts.len())
        } else {
            (b, a, p.verts.len())
        };
        let list = seen.entry(key).or_default();
        let rev = reverse_open(&p.verts);
        if list.iter().any(|&k| {
            same_piece(&keep[k].verts, &p.verts, eq) || same_piece(&keep[k].verts, &rev, eq)
        }) {
            dups += 1;
            continue;
        }
        list.push(keep.len());
        keep.push(p);
    }
    (keep, dups)
}

/// Appends `next` (already oriented) to `chain`, merging the shared vertex.
fn append(chain: &mut Vec<PlineVertex<f64>>, next: &[PlineVertex<f64>]) {
    chain.pop();
    chain.extend_from_slice(next);
}

fn to_pline(mut verts: Vec<PlineVertex<f64>>, closed: bool) -> Pline {
    if closed {
        verts.pop();
    }
    let mut p = Pline::with_capacity(verts.len(), closed);
    for v in verts {
        p.add_vertex(v);
    }
    p
}

/// Joins pieces into loops and chains. `eq`: equal-point distance; `gap`: the largest gap
/// that is closed (with a report), 0 for none.
pub(crate) fn chain(pieces: Vec<Piece>, eq: f64, gap: f64) -> Chained {
    let (pieces, duplicates) = dedupe(pieces, eq);
    let mut out = Chained {
        duplicates,
        ..Chained::default()
    };
    let mut grid = NodeGrid::new(eq);
    let ends: Vec<(usize, usize)> = pieces
        .iter()
        .map(|p| (grid.node(p.start()), grid.node(p.end())))
        .collect();
    let nn = grid.pos.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); nn];
    for (i, &(a, b)) in ends.iter().enumerate() {
        adj[a].push(i);
        if b != a {
            adj[b].push(i);
        }
    }
    // Prune dead-end trees: pieces that cannot be part of any loop.
    let mut degree: Vec<usize> = adj.iter().map(Vec::len).collect();
    let mut pruned = vec![false; pieces.len()];
    let mut stack: Vec<usize> = (0..nn).filter(|&n| degree[n] == 1).collect();
    while let Some(n) = stack.pop() {
        if degree[n] != 1 {
            continue;
        }
        let Some(&pi) = adj[n].iter().find(|&&p| !pruned[p]) else {
            continue;
        };
        pruned[pi] = true;
        degree[n] = 0;
        let (a, b) = ends[pi];
        let other = if a == n { b } else { a };
        degree[other] = degree[other].saturating_sub(1);
        if degree[other] == 1 {
            stack.push(other);
        }
    }
    let mut used = vec![false; pieces.len()];
    let mut open_walks: Vec<(Vec<PlineVertex<f64>>, usize, usize)> = Vec::new();
    let oriented = |pi: usize, fwd: bool| {
        if fwd {
            pieces[pi].verts.clone()
        } else {
            reverse_open(&pieces[pi].verts)
        }
    };
    // Two passes: loops through pieces that can close first, then what is left.
    for pass in 0..2 {
        for start in 0..pieces.len() {
            if used[start] || (pass == 0 && pruned[start]) {
                continue;
            }
            used[start] = true;
            // The walk as steps (start node, oriented vertices).
            let (s_node, mut node) = ends[start];
            let mut steps: Vec<(usize, Vec<PlineVertex<f64>>)> =
                vec![(s_node, pieces[start].verts.clone())];
            // Forward.
            while node != s_node {
                let last = &steps[steps.len() - 1].1;
                let Some((pi, fwd)) =
                    pick(&adj[node], node, &ends, &used, &pruned, pass, &pieces, last)
                else {
                    break;
                };
                used[pi] = true;
                steps.push((node, oriented(pi, fwd)));
                node = if fwd { ends[pi].1 } else { ends[pi].0 };
            }
            if node != s_node {
                // Backward from the start node: prepend pieces that end there.
                let mut back: Vec<(usize, Vec<PlineVertex<f64>>)> = Vec::new();
                let mut back_node = s_node;
                let mut rev_first = reverse_open(&steps[0].1);
                while back_node != node {
                    let Some((pi, fwd)) = pick(
                        &adj[back_node],
                        back_node,
                        &ends,
                        &used,
                        &pruned,
                        1,
                        &pieces,
                        &rev_first,
                    ) else {
                        break;
                    };
                    used[pi] = true;
                    let next = if fwd { ends[pi].1 } else { ends[pi].0 };
                    // Stored in forward direction: from `next` to `back_node`.
                    rev_first = oriented(pi, fwd);
                    back.push((next, reverse_open(&rev_first)));
                    back_node = next;
                }
                back.reverse();
                back.extend(steps);
                steps = back;
            }
            let closed = node == steps[0].0;
            for (verts, closed_loop) in split_cycles(steps, node, closed) {
                if closed_loop {
                    out.closed.push((to_pline(verts, true), pieces[start].src));
                } else {
                    open_walks.push((verts, 0, pieces[start].src));
                }
            }
        }
    }
    close_gaps(&open_walks, gap, eq, &mut out);
    out
}

/// Cuts a walk into simple loops wherever it comes back to a node it passed before (a figure
/// eight through a shared vertex becomes two loops; a loop with a lead-in becomes a loop and an
/// open chain). `steps` are (start node, oriented vertices); `end` is the node the walk ends at.
/// Returns the pieces with `true` for closed loops.
fn split_cycles(
    steps: Vec<(usize, Vec<PlineVertex<f64>>)>,
    end: usize,
    closed: bool,
) -> Vec<(Vec<PlineVertex<f64>>, bool)> {
    let concat = |part: &[(usize, Vec<PlineVertex<f64>>)]| {
        let mut v: Vec<PlineVertex<f64>> = Vec::new();
        for (_, s) in part {
            if v.is_empty() {
                v.clone_from(s);
            } else {
                append(&mut v, s);
            }
        }
        v
    };
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Vec<PlineVertex<f64>>)> = Vec::new();
    let mut pos: HashMap<usize, usize> = HashMap::new();
    let mut cut = |stack: &mut Vec<(usize, Vec<PlineVertex<f64>>)>,
                   pos: &mut HashMap<usize, usize>,
                   k: usize| {
        let cyc: Vec<_> = stack.drain(k..).collect();
        for (n, _) in &cyc {
            pos.remove(n);
        }
        out.push((concat(&cyc), true));
    };
    for (n, v) in steps {
        if let Some(&k) = pos.get(&n) {
            cut(&mut stack, &mut pos, k);
        }
        pos.insert(n, stack.len());
        stack.push((n, v));
    }
    if let Some(&k) = pos.get(&end) {
        cut(&mut stack, &mut pos, k);
    }
    debug_assert!(!closed || stack.is_empty());
    if !stack.is_empty() {
        out.push((concat(&stack), false));
    }
    out
}

/// The unused piece at `node` that continues `verts` most straight, with its direction
/// (`true` when it starts at `node`).
#[allow(clippy::too_many_arguments)]
fn pick(
    at: &[usize],
    node: usize,
    ends: &[(usize, usize)],
    used: &[bool],
    pruned: &[bool],
    pass: usize,
    pieces: &[Piece],
    verts: &[PlineVertex<f64>],
) -> Option<(usize, bool)> {
    let dir = end_tangent(verts);
    let mut best: Option<(usize, bool, f64)> = None;
    for &pi in at {
        if used[pi] || (pass == 0 && pruned[pi]) {
            continue;
        }
        let fwd = ends[pi].0 == node;
        let t = if fwd {
            start_tangent(&pieces[pi].verts)
        } else {
            -end_tangent(&pieces[pi].verts)
        };
        let turn = dir.cross(t).atan2(dir.dot(t)).abs();
        if best.is_none_or(|(_, _, b)| turn < b) {
            best = Some((pi, fwd, turn));
        }
    }
    best.map(|(p, f, _)| (p, f))
}

/// Closes and joins open walks whose ends lie within `gap` of each other.
fn close_gaps(
    walks: &[(Vec<PlineVertex<f64>>, usize, usize)],
    gap: f64,
    eq: f64,
    out: &mut Chained,
) {
    let n = walks.len();
    if n == 0 {
        return;
    }
    let pt = |v: &PlineVertex<f64>| V2::new(v.x, v.y);
    // End e of walk w is 2w (start) or 2w+1 (end).
    let end_pos = |e: usize| {
        let w = &walks[e / 2].0;
        if e.is_multiple_of(2) {
            pt(&w[0])
        } else {
            pt(&w[w.len() - 1])
        }
    };
    let mut link: Vec<Option<usize>> = vec![None; 2 * n];
    let gap = gap.max(eq);
    {
        let mut cand: Vec<(f64, usize, usize)> = Vec::new();
        let cell = gap.max(eq);
        let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for e in 0..2 * n {
            let p = end_pos(e);
            let c = ((p.x / cell).floor() as i64, (p.y / cell).floor() as i64);
            for dx in -1..=1i64 {
                for dy in -1..=1i64 {
                    if let Some(list) = grid.get(&(c.0.saturating_add(dx), c.1.saturating_add(dy)))
                    {
                        for &f in list {
                            let d = end_pos(f).dist(p);
                            // A walk's own two ends only close it when it has some extent.
                            if d <= gap && (f / 2 != e / 2 || walks[e / 2].0.len() > 2) {
                                cand.push((d, f, e));
                            }
                        }
                    }
                }
            }
            grid.entry(c).or_default().push(e);
        }
        cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, a, b) in cand {
            if link[a].is_none() && link[b].is_none() {
                link[a] = Some(b);
                link[b] = Some(a);
            }
        }
    }
    let mut done = vec![false; n];
    // Walk sequences: start from walks with a free end first (open results), then cycles.
    let mut order: Vec<usize> = (0..n)
        .filter(|&w| link[2 * w].is_none() || link[2 * w + 1].is_none())
        .collect();
    order.extend((0..n).filter(|&w| link[2 * w].is_some() && link[2 * w + 1].is_some()));
    for w in order {
        if done[w] {
            continue;
        }
        // Enter at a free end if there is one, so the whole sequence is followed.
        let mut enter = if link[2 * w].is_none() {
            2 * w
        } else {
            2 * w + 1
        };
        if link[2 * w].is_some() && link[2 * w + 1].is_some() {
            enter = 2 * w;
        }
        let src = walks[w].2;
        let mut verts: Vec<PlineVertex<f64>> = Vec::new();
        let mut cur = enter;
        let closed;
        loop {
            let wi = cur / 2;
            done[wi] = true;
            let piece = if cur % 2 == 0 {
                walks[wi].0.clone()
            } else {
                reverse_open(&walks[wi].0)
            };
            if verts.is_empty() {
                verts = piece;
            } else {
                let last = pt(&verts[verts.len() - 1]);
                let d = last.dist(pt(&piece[0]));
                if d <= eq {
                    append(&mut verts, &piece);
                } else {
                    out.gaps.push((last, d));
                    verts.extend_from_slice(&piece);
                }
            }
            let exit = cur ^ 1;
            match link[exit] {
                Some(next) if next == enter => {
                    let last = pt(&verts[verts.len() - 1]);
                    let d = last.dist(pt(&verts[0]));
                    if d > eq {
                        out.gaps.push((last, d));
                        let first = verts[0];
                        verts.push(PlineVertex::new(first.x, first.y, 0.0));
                    } else {
                        let l = verts.len() - 1;
                        verts[l].x = verts[0].x;
                        verts[l].y = verts[0].y;
                    }
                    closed = true;
                    break;
                }
                Some(next) if !done[next / 2] => cur = next,
                _ => {
                    closed = false;
                    break;
                }
            }
        }
        if closed {
            out.closed.push((to_pline(verts, true), src));
        } else {
            out.open.push((to_pline(verts, false), src));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavalier_contours::polyline::PlineSource;

    fn line(a: (f64, f64), b: (f64, f64), src: usize) -> Piece {
        Piece {
            verts: vec![
                PlineVertex::new(a.0, a.1, 0.0),
                PlineVertex::new(b.0, b.1, 0.0),
            ],
            src,
        }
    }

    #[test]
    fn square_from_shuffled_reversed_duplicated_lines() {
        let pieces = vec![
            line((1.0, 0.0), (1.0, 1.0), 0),
            line((0.0, 1.0), (1.0, 1.0), 1), // reversed
            line((0.0, 0.0), (1.0, 0.0), 2),
            line((1.0, 0.0), (0.0, 0.0), 3), // duplicate, reversed
            line((0.0, 1.0), (0.0, 0.0), 4),
        ];
        let c = chain(pieces, 1e-6, 0.0);
        assert_eq!(c.duplicates, 1);
        assert_eq!(c.closed.len(), 1);
        assert!(c.open.is_empty());
        assert!((c.closed[0].0.area().abs() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn dangling_line_stays_open_and_loop_closes() {
        let pieces = vec![
            line((0.0, 0.0), (1.0, 0.0), 0),
            line((1.0, 0.0), (2.0, -1.0), 1), // dangling
            line((1.0, 0.0), (1.0, 1.0), 2),
            line((1.0, 1.0), (0.0, 1.0), 3),
            line((0.0, 1.0), (0.0, 0.0), 4),
        ];
        let c = chain(pieces, 1e-6, 0.0);
        assert_eq!(c.closed.len(), 1);
        assert_eq!(c.open.len(), 1);
    }

    #[test]
    fn small_gap_is_closed_and_reported_large_gap_is_not() {
        let pieces = vec![
            line((0.0, 0.0), (1.0, 0.0), 0),
            line((1.0, 0.0), (1.0, 1.0), 1),
            line((1.0, 1.0), (0.0, 1.0), 2),
            line((0.0, 1.0), (0.0, 0.0005), 3),
        ];
        let c = chain(pieces.clone(), 1e-6, 0.001);
        assert_eq!(c.closed.len(), 1);
        assert_eq!(c.gaps.len(), 1);
        assert!((c.gaps[0].1 - 0.0005).abs() < 1e-12);
        let c = chain(pieces, 1e-6, 0.0001);
        assert_eq!(c.closed.len(), 0);
        assert_eq!(c.open.len(), 1);
    }

    #[test]
    fn reverse_keeps_arcs() {
        let v = vec![
            PlineVertex::new(0.0, 0.0, 0.5),
            PlineVertex::new(1.0, 0.0, 0.0),
            PlineVertex::new(1.0, 1.0, 0.0),
        ];
        let r = reverse_open(&v);
        assert_eq!(r[1].bulge, -0.5);
        assert_eq!(r[0].bulge, 0.0);
        assert_eq!(reverse_open(&r), v);
    }
}
