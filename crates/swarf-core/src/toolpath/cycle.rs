//! Canned drilling cycles (G81, G82, G83, G73) and what they do, move by move, as `LinuxCNC`'s
//! interpreter runs them (`interp_cycles.cc`): the one definition the drilling operation
//! generates with, the post checks its canned lines against, and the G-code reader expands
//! another program's cycles with. So a program written with cycles and the same program
//! written as G0/G1 describe the same motion by construction, and rs274 checks both.
//!
//! In the XY plane, absolute mode, one hole:
//! 1. if the tool is below R, rapid straight up to R;
//! 2. rapid in XY to the hole (at the current height), rapid in Z to R;
//! 3. the cycle: G81 feeds to Z; G82 feeds to Z and dwells P seconds; G83 feeds down Q at a
//!    time counted from R, rapids out to R and back down to the last depth plus 0.254 mm
//!    (0.010 in) after each peck; G73 feeds down Q at a time and rapids up 0.254 mm after each;
//! 4. rapid up to R (G99) or to the height the cycle started at (G98, if that is above R).

use serde::{Deserialize, Serialize};

use super::{MoveClass, P3, Toolpath};
use crate::geometry::V2;

/// `LinuxCNC`'s `G83_RAPID_DELTA`: how far above the last peck's depth G83 comes back down,
/// and how far G73 backs out, 0.010 in.
pub const PECK_BACKOFF_MM: f64 = 0.254;

/// Which canned cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CycleKind {
    /// G81: feed to depth, rapid out.
    Drill,
    /// G82: feed to depth, dwell, rapid out.
    DrillDwell,
    /// G83: pecks with a full retract to R after each.
    Peck,
    /// G73: pecks with a small retract (chip breaking).
    ChipBreak,
}

impl CycleKind {
    /// The G number.
    pub fn code(self) -> u32 {
        match self {
            CycleKind::Drill => 81,
            CycleKind::DrillDwell => 82,
            CycleKind::Peck => 83,
            CycleKind::ChipBreak => 73,
        }
    }
    pub fn from_code(g: u32) -> Option<Self> {
        Some(match g {
            81 => CycleKind::Drill,
            82 => CycleKind::DrillDwell,
            83 => CycleKind::Peck,
            73 => CycleKind::ChipBreak,
            _ => return None,
        })
    }
    fn pecks(self) -> bool {
        matches!(self, CycleKind::Peck | CycleKind::ChipBreak)
    }
}

/// One canned cycle at one hole, in mm (machine Z, absolute).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Canned {
    pub kind: CycleKind,
    pub at: V2,
    /// Z of the hole's bottom.
    pub bottom_z: f64,
    /// The retract plane R.
    pub r_z: f64,
    /// Peck increment Q (G83, G73), mm.
    pub q_mm: f64,
    /// Dwell at the bottom (G82), seconds.
    pub dwell_s: f64,
    /// G98: back to the height the cycles started at (if above R) instead of R (G99).
    pub return_to_initial: bool,
    pub feed_mm_per_min: f64,
}

/// A run of a toolpath's moves that one canned cycle describes exactly: the post may write
/// the cycle instead of the moves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CycleSpan {
    /// The moves `first..end` of the toolpath.
    pub first: usize,
    pub end: usize,
    pub canned: Canned,
}

/// A pause with the spindle running, after the first `after` moves of a toolpath.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dwell {
    pub after: usize,
    pub seconds: f64,
}

impl Canned {
    /// Appends the cycle's moves (and its dwell) to `tp`, from where `tp` ends. `initial_z` is
    /// the height the run of cycles started at (G98 returns there). Returns the clear height
    /// the cycle ends at.
    pub fn expand(&self, tp: &mut Toolpath, initial_z: f64) -> f64 {
        self.expand_schedule(tp, initial_z, self.q_mm, 0.0, PECK_BACKOFF_MM)
    }

    /// [`Canned::expand`] with a peck schedule no controller's cycle has: the first peck `q`,
    /// each next one `reduction` shorter down to the cycle's `q_mm` at least, backing off
    /// `backoff` (with `q = q_mm`, no reduction and 0.254 mm, the controller's own steps).
    pub fn expand_schedule(
        &self,
        tp: &mut Toolpath,
        initial_z: f64,
        first: f64,
        reduction: f64,
        backoff: f64,
    ) -> f64 {
        let r = self.r_z;
        let mut old_z = initial_z;
        let now = tp.end();
        if old_z < r {
            tp.rapid(P3::new(now.x, now.y, r));
            old_z = r;
        }
        let clear_z = if self.return_to_initial { old_z } else { r };
        let z = tp.end().z;
        tp.rapid(P3::new(self.at.x, self.at.y, z));
        tp.rapid(P3::new(self.at.x, self.at.y, r));
        let p = |z: f64| P3::new(self.at.x, self.at.y, z);
        let f = self.feed_mm_per_min;
        if self.kind.pecks() && self.q_mm > 0.0 {
            // The same floating-point steps as the controller: depths counted down from R.
            let mut q = first;
            let mut depth = r - q;
            while depth > self.bottom_z {
                tp.line(p(depth), MoveClass::Cut, f);
                if self.kind == CycleKind::Peck {
                    tp.rapid(p(r));
                }
                tp.rapid(p(depth + backoff));
                q = (q - reduction).max(self.q_mm);
                depth -= q;
            }
        }
        tp.line(p(self.bottom_z), MoveClass::Cut, f);
        if self.kind == CycleKind::DrillDwell && self.dwell_s > 0.0 {
            tp.dwell(self.dwell_s);
        }
        tp.rapid(p(clear_z));
        clear_z
    }
}

impl Toolpath {
    /// A dwell after the moves so far (seconds; merged with one already there).
    pub fn dwell(&mut self, seconds: f64) {
        let after = self.moves.len();
        match self.dwells.last_mut() {
            Some(d) if d.after == after => d.seconds += seconds,
            _ => self.dwells.push(Dwell { after, seconds }),
        }
    }

    /// Total dwell time, seconds.
    pub fn dwell_seconds(&self) -> f64 {
        self.dwells.iter().map(|d| d.seconds).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolpath::Motion;

    fn canned(kind: CycleKind, q: f64) -> Canned {
        Canned {
            kind,
            at: V2::new(3.0, 4.0),
            bottom_z: -1.0,
            r_z: 0.5,
            q_mm: q,
            dwell_s: 0.5,
            return_to_initial: false,
            feed_mm_per_min: 60.0,
        }
    }

    #[test]
    fn a_peck_cycle_counts_its_pecks_from_r_and_backs_off() {
        let mut tp = Toolpath::new(P3::new(0.0, 0.0, 5.0));
        let clear = canned(CycleKind::Peck, 0.5).expand(&mut tp, 5.0);
        assert_eq!(clear, 0.5);
        let zs: Vec<(bool, f64)> = tp
            .moves
            .iter()
            .map(|m| (matches!(m.motion, Motion::Rapid), m.to.z))
            .collect();
        // XY at 5, down to R, pecks to 0, -0.5, then the bottom.
        assert_eq!(
            zs,
            vec![
                (true, 5.0),
                (true, 0.5),
                (false, 0.0),
                (true, 0.5),
                (true, PECK_BACKOFF_MM),
                (false, -0.5),
                (true, 0.5),
                (true, -0.5 + PECK_BACKOFF_MM),
                (false, -1.0),
                (true, 0.5),
            ]
        );
        assert!(tp.dwells.is_empty());
        // Chip breaking backs out only a little; G98 goes back to where it started.
        let mut tp = Toolpath::new(P3::new(0.0, 0.0, 5.0));
        let mut c = canned(CycleKind::ChipBreak, 0.5);
        c.return_to_initial = true;
        assert_eq!(c.expand(&mut tp, 5.0), 5.0);
        assert_eq!(tp.moves.iter().filter(|m| m.to.z > 0.5).count(), 2);
        // A dwell sits after the move to the bottom.
        let mut tp = Toolpath::new(P3::new(0.0, 0.0, 5.0));
        canned(CycleKind::DrillDwell, 0.0).expand(&mut tp, 5.0);
        assert_eq!(
            tp.dwells,
            vec![Dwell {
                after: 3,
                seconds: 0.5
            }]
        );
        assert_eq!(tp.moves[2].to.z, -1.0);
        // Below R at the start: straight up first.
        let mut tp = Toolpath::new(P3::new(0.0, 0.0, 0.1));
        canned(CycleKind::Drill, 0.0).expand(&mut tp, 0.1);
        assert_eq!(tp.moves[0].to, P3::new(0.0, 0.0, 0.5));
    }
}
