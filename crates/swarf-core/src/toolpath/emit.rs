//! Turning 2D paths (bulge polylines) into moves with a Z profile along them: ramps, helices,
//! tabs. XY stays exact (arcs remain arcs); Z is linear in path length between profile points.

use cavalier_contours::polyline::{PlineSource, PlineVertex};

use super::{MoveClass, P3, Toolpath};
use crate::geometry::biarc::arc_centre_radius;
use crate::geometry::bulge::{seg_len, seg_point};
use crate::geometry::{Pline, V2};

/// Z as a piecewise-linear function of path length.
#[derive(Debug, Clone, PartialEq)]
pub struct ZProfile {
    /// (path length, z), sorted by length.
    pub points: Vec<(f64, f64)>,
}

impl ZProfile {
    pub fn flat(z: f64) -> Self {
        Self {
            points: vec![(0.0, z)],
        }
    }
    /// From `z0` at 0 down (or up) to `z1` at length `len`, then flat.
    pub fn ramp(z0: f64, z1: f64, len: f64) -> Self {
        Self {
            points: vec![(0.0, z0), (len, z1)],
        }
    }
    /// The pointwise maximum of two profiles (e.g. a ramp and holding tabs).
    #[must_use]
    pub fn max_with(&self, other: &ZProfile) -> ZProfile {
        let mut xs: Vec<f64> = self
            .points
            .iter()
            .chain(&other.points)
            .map(|p| p.0)
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let mut pts: Vec<(f64, f64)> = Vec::with_capacity(xs.len() * 2);
        for (i, &x) in xs.iter().enumerate() {
            if i > 0 {
                // A crossing between the two previous breakpoints.
                let x0 = xs[i - 1];
                let d0 = self.z_at(x0) - other.z_at(x0);
                let d1 = self.z_at(x) - other.z_at(x);
                if d0 * d1 < 0.0 {
                    let xc = x0 + (x - x0) * d0 / (d0 - d1);
                    pts.push((xc, self.z_at(xc).max(other.z_at(xc))));
                }
            }
            pts.push((x, self.z_at(x).max(other.z_at(x))));
        }
        ZProfile { points: pts }
    }

    pub fn z_at(&self, s: f64) -> f64 {
        let p = &self.points;
        if s <= p[0].0 {
            return p[0].1;
        }
        for w in p.windows(2) {
            if s <= w[1].0 {
                let t = if w[1].0 > w[0].0 {
                    (s - w[0].0) / (w[1].0 - w[0].0)
                } else {
                    1.0
                };
                return w[0].1 + (w[1].1 - w[0].1) * t;
            }
        }
        p[p.len() - 1].1
    }
}

/// The vertices of a loop as an open path that returns to its start.
pub fn loop_path(p: &Pline) -> Vec<PlineVertex<f64>> {
    let mut v: Vec<PlineVertex<f64>> = p.iter_vertexes().collect();
    if p.is_closed()
        && let Some(f) = v.first().copied()
    {
        v.push(PlineVertex::new(f.x, f.y, 0.0));
    }
    v
}

/// The same path repeated `times` times (for laps of a closed loop path).
pub fn repeat_loop(path: &[PlineVertex<f64>], times: usize) -> Vec<PlineVertex<f64>> {
    let mut out = path.to_vec();
    for _ in 1..times {
        out.pop();
        out.extend_from_slice(path);
    }
    out
}

/// Emits moves along `path` (the tool stands at its first vertex at `prof.z_at(0)`), splitting
/// segments where the profile bends. `class_at(s)` gives the class and feed of the piece whose
/// middle is at length `s`; `cuts` are extra lengths where pieces must split (where the class
/// changes). Splits closer than `min_len` to a segment end are not made (no sliver moves).
pub fn emit_path(
    tp: &mut Toolpath,
    path: &[PlineVertex<f64>],
    prof: &ZProfile,
    cuts: &[f64],
    min_len: f64,
    class_at: &dyn Fn(f64) -> (MoveClass, f64),
) {
    let mut breaks: Vec<f64> = prof
        .points
        .iter()
        .map(|p| p.0)
        .chain(cuts.iter().copied())
        .collect();
    breaks.sort_by(f64::total_cmp);
    let mut s0 = 0.0;
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = seg_len(a, b);
        if len == 0.0 {
            continue;
        }
        let s1 = s0 + len;
        let mut fs: Vec<f64> = breaks
            .iter()
            .filter(|&&s| s > s0 + min_len && s < s1 - min_len)
            .map(|&s| (s - s0) / len)
            .collect();
        fs.dedup_by(|a, b| (*a - *b) * len <= min_len);
        fs.push(1.0);
        let mut prev_f = 0.0;
        for f in fs {
            let p = if f >= 1.0 {
                V2::new(b.x, b.y)
            } else {
                seg_point(a, b, f)
            };
            let s_mid = s0 + len * 0.5 * (prev_f + f);
            let z = prof.z_at(s0 + len * f);
            let (class, feed) = class_at(s_mid);
            let to = P3::new(p.x, p.y, z);
            if a.bulge == 0.0 {
                tp.line(to, class, feed);
            } else {
                let (c, _) = arc_centre_radius(V2::new(a.x, a.y), V2::new(b.x, b.y), a.bulge);
                tp.arc(to, c, a.bulge > 0.0, class, feed);
            }
            prev_f = f;
        }
        s0 = s1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::bulge::path_len;
    use crate::toolpath::Motion;
    use cavalier_contours::polyline::PlineSourceMut;

    #[test]
    fn ramp_down_along_a_circle_keeps_arcs() {
        let mut c = Pline::new_closed();
        c.add(1.0, 0.0, 1.0);
        c.add(-1.0, 0.0, 1.0);
        let path = repeat_loop(&loop_path(&c), 2);
        let len = path_len(&path);
        assert!((len - 4.0 * std::f64::consts::PI).abs() < 1e-12);
        let mut tp = Toolpath::new(P3::new(1.0, 0.0, 0.0));
        // Down by 0.1 over the first 1.25 turns, then flat.
        let l = 2.5 * std::f64::consts::PI;
        emit_path(
            &mut tp,
            &path,
            &ZProfile::ramp(0.0, -0.1, l),
            &[],
            1e-9,
            &|s| {
                (
                    if s < l {
                        MoveClass::Entry
                    } else {
                        MoveClass::Cut
                    },
                    10.0,
                )
            },
        );
        assert!(
            tp.moves
                .iter()
                .all(|m| matches!(m.motion, Motion::Arc { .. }))
        );
        assert_eq!(tp.moves.len(), 5); // 4 half circles, one split at the ramp end
        let end = tp.end();
        assert!((end.z + 0.1).abs() < 1e-12 && (end.x - 1.0).abs() < 1e-12);
        // Every arc end lies on the unit circle.
        for m in &tp.moves {
            assert!((m.to.xy().length() - 1.0).abs() < 1e-12);
        }
        assert_eq!(tp.moves[2].class, MoveClass::Entry);
        assert_eq!(tp.moves[3].class, MoveClass::Cut);
    }
}
