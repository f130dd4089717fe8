//! Cycle time with acceleration limits: a look-ahead planner like a controller's (junction
//! speeds from the corner angle, forward and backward acceleration passes, trapezoidal moves).

use serde::{Deserialize, Serialize};

use crate::geometry::V2;
use crate::toolpath::{Motion, P3, Toolpath, arc_sweep};

/// The machine's motion limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MachineLimits {
    /// Highest feed per axis X, Y, Z, mm/min.
    pub max_feed_mm_per_min: [f64; 3],
    /// Acceleration per axis X, Y, Z, mm/s².
    pub accel_mm_per_s2: [f64; 3],
    /// Rapid rate, mm/min.
    pub rapid_mm_per_min: f64,
    /// How far a corner may be rounded by the controller (GRBL's junction deviation), mm.
    pub junction_deviation_mm: f64,
}

impl Default for MachineLimits {
    fn default() -> Self {
        Self {
            max_feed_mm_per_min: [5000.0, 5000.0, 2000.0],
            accel_mm_per_s2: [500.0, 500.0, 300.0],
            rapid_mm_per_min: 3000.0,
            junction_deviation_mm: 0.01,
        }
    }
}

impl MachineLimits {
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            (
                "max_feed_mm_per_min",
                self.max_feed_mm_per_min
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min),
            ),
            (
                "accel_mm_per_s2",
                self.accel_mm_per_s2
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min),
            ),
            ("rapid_mm_per_min", self.rapid_mm_per_min),
            ("junction_deviation_mm", self.junction_deviation_mm),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("machine {name} is {v}; it must be positive"));
            }
        }
        Ok(())
    }
}

struct Seg {
    len: f64,
    v_max: f64,
    accel: f64,
    dir_in: [f64; 3],
    dir_out: [f64; 3],
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if l > 0.0 {
        [v[0] / l, v[1] / l, v[2] / l]
    } else {
        [0.0; 3]
    }
}

fn limit(dir: [f64; 3], per_axis: [f64; 3]) -> f64 {
    (0..3)
        .filter(|&i| dir[i].abs() > 1e-12)
        .map(|i| per_axis[i] / dir[i].abs())
        .fold(f64::INFINITY, f64::min)
}

/// Seconds for the toolpath with acceleration (`estimated`) and length over feed (`naive`).
pub fn cycle_time(tp: &Toolpath, m: &MachineLimits) -> (f64, f64) {
    let mut segs: Vec<Seg> = Vec::with_capacity(tp.moves.len());
    // The move each segment comes from (a dwell stops the machine between two moves).
    let mut seg_move: Vec<usize> = Vec::with_capacity(tp.moves.len());
    let dwell = tp.dwell_seconds();
    let mut naive = dwell;
    let mut from: P3 = tp.start;
    let max_feed = m.max_feed_mm_per_min.map(|f| f / 60.0);
    for (mi, mv) in tp.moves.iter().enumerate() {
        let len = mv.length_from(from);
        if len <= 0.0 {
            from = mv.to;
            continue;
        }
        let feed = match mv.motion {
            Motion::Rapid => m.rapid_mm_per_min,
            _ => mv.feed_mm_per_min,
        } / 60.0;
        naive += len / feed;
        let (dir_in, dir_out, radius) = if let Motion::Arc { centre, ccw } = mv.motion {
            {
                let r = from.xy().dist(centre);
                let sweep = arc_sweep(from.xy(), mv.to.xy(), centre, ccw);
                let dz = (mv.to.z - from.z) / len;
                let tan = |p: V2| {
                    let v = (p - centre).perp() * sweep.signum();
                    let v = v.normalized() * (1.0 - dz * dz).max(0.0).sqrt();
                    [v.x, v.y, dz]
                };
                (tan(from.xy()), tan(mv.to.xy()), r)
            }
        } else {
            let d = unit([mv.to.x - from.x, mv.to.y - from.y, mv.to.z - from.z]);
            (d, d, f64::INFINITY)
        };
        let mid = unit([
            dir_in[0] + dir_out[0],
            dir_in[1] + dir_out[1],
            dir_in[2] + dir_out[2],
        ]);
        let mid = if mid == [0.0; 3] { dir_in } else { mid };
        let accel = limit(mid, m.accel_mm_per_s2);
        let mut v_max = feed.min(limit(mid, max_feed));
        if !matches!(mv.motion, Motion::Rapid) || radius.is_finite() {
            v_max = v_max.min((accel * radius).sqrt());
        }
        segs.push(Seg {
            len,
            v_max,
            accel,
            dir_in,
            dir_out,
        });
        seg_move.push(mi);
        from = mv.to;
    }
    let n = segs.len();
    if n == 0 {
        return (dwell, naive);
    }
    // Junction speed limits (entry speed of segment k), at rest at both ends.
    let mut v_entry = vec![0.0f64; n + 1];
    for k in 1..n {
        let (a, b) = (&segs[k - 1], &segs[k]);
        let cos_theta =
            -(a.dir_out[0] * b.dir_in[0] + a.dir_out[1] * b.dir_in[1] + a.dir_out[2] * b.dir_in[2]);
        let vj = if cos_theta > 0.999_999 {
            0.0
        } else if cos_theta < -0.999_999 {
            f64::INFINITY
        } else {
            let s = (0.5 * (1.0 - cos_theta)).sqrt();
            let acc = a.accel.min(b.accel);
            (acc * m.junction_deviation_mm * s / (1.0 - s)).sqrt()
        };
        v_entry[k] = vj.min(a.v_max).min(b.v_max);
    }
    // At rest where the program dwells.
    for d in &tp.dwells {
        let k = seg_move.partition_point(|&m| m < d.after);
        if k < n {
            v_entry[k] = 0.0;
        }
    }
    // Backward pass: each entry reachable by decelerating to the next entry.
    for k in (0..n).rev() {
        let lim = (v_entry[k + 1] * v_entry[k + 1] + 2.0 * segs[k].accel * segs[k].len).sqrt();
        v_entry[k] = v_entry[k].min(lim);
    }
    // Forward pass.
    for k in 0..n {
        let lim = (v_entry[k] * v_entry[k] + 2.0 * segs[k].accel * segs[k].len).sqrt();
        v_entry[k + 1] = v_entry[k + 1].min(lim);
    }
    let mut t = dwell;
    for (k, s) in segs.iter().enumerate() {
        let (v0, v1, vm, a, l) = (v_entry[k], v_entry[k + 1], s.v_max, s.accel, s.len);
        let l_acc = (vm * vm - v0 * v0) / (2.0 * a);
        let l_dec = (vm * vm - v1 * v1) / (2.0 * a);
        t += if l_acc + l_dec <= l {
            (vm - v0) / a + (vm - v1) / a + (l - l_acc - l_dec) / vm
        } else {
            let vp = ((2.0 * a * l + v0 * v0 + v1 * v1) * 0.5).sqrt();
            (vp - v0) / a + (vp - v1) / a
        };
    }
    (t, naive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolpath::MoveClass;

    #[test]
    fn never_below_naive_and_converges_with_acceleration() {
        let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
        for i in 0..50 {
            let x = f64::from(i % 2) * 2.0;
            tp.line(P3::new(x, f64::from(i) * 0.1, 0.0), MoveClass::Cut, 600.0);
        }
        tp.rapid(P3::new(0.0, 0.0, 5.0));
        let mut last = f64::INFINITY;
        let mut naive = 0.0;
        for a in [10.0, 100.0, 1000.0, 1e5, 1e8] {
            let m = MachineLimits {
                accel_mm_per_s2: [a; 3],
                ..MachineLimits::default()
            };
            let (t, n) = cycle_time(&tp, &m);
            naive = n;
            assert!(t >= n * (1.0 - 1e-12), "{t} < {n}");
            assert!(t <= last + 1e-12);
            last = t;
        }
        assert!((last - naive) / naive < 1e-3, "{last} vs {naive}");
    }
}
