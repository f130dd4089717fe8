//! The tool's state while an operation builds its toolpath: where it is, and the safe ways to
//! move it (retract, travel, descend through cleared space, helix and ramp entries).

use cavalier_contours::polyline::PlineVertex;

use crate::geometry::V2;
use crate::geometry::bulge::path_len;
use crate::tool::Tool;
use crate::toolpath::emit::{ZProfile, emit_path, repeat_loop};
use crate::toolpath::{MoveClass, P3, Toolpath};

use super::{Entry, Heights};

/// Builds a toolpath move by move.
pub struct Cursor<'a> {
    pub tp: Toolpath,
    pub tool: &'a Tool,
    pub heights: Heights,
    pub entry: Entry,
    pub feed: f64,
    /// Shortest move worth making (the equal-point distance).
    pub min_len: f64,
}

impl<'a> Cursor<'a> {
    /// Starts above the origin at clearance height.
    pub fn new(tool: &'a Tool, heights: Heights, entry: Entry, min_len: f64) -> Self {
        Self {
            tp: Toolpath::new(P3::new(0.0, 0.0, heights.clearance_mm)),
            tool,
            heights,
            entry,
            feed: tool.feed_mm_per_min(),
            min_len,
        }
    }
    pub fn pos(&self) -> P3 {
        self.tp.end()
    }
    /// Z of the top of the material that is left (start depth).
    pub fn z_top(&self) -> f64 {
        -self.heights.start_depth_mm
    }
    /// Up to safe height, if below it.
    pub fn retract(&mut self) {
        let p = self.pos();
        if p.z < self.heights.safe_mm {
            self.tp.rapid(P3::new(p.x, p.y, self.heights.safe_mm));
        }
    }
    /// Up to clearance height.
    pub fn retract_clearance(&mut self) {
        let p = self.pos();
        if p.z < self.heights.clearance_mm {
            self.tp.rapid(P3::new(p.x, p.y, self.heights.clearance_mm));
        }
    }
    /// Retract, then rapid over `xy` at safe height (at clearance height when already there).
    pub fn travel(&mut self, xy: V2) {
        self.retract();
        let p = self.pos();
        self.tp.rapid(P3::new(xy.x, xy.y, p.z));
    }
    /// From above `xy`, down to `z` through air or cleared material: rapid to a little above
    /// `z_clear` (the deepest Z already cleared here), then plunge feed.
    pub fn descend_cleared(&mut self, xy: V2, z_clear: f64, z: f64) {
        self.travel(xy);
        let approach = z_clear + self.heights.safe_mm * 0.2;
        let p = self.pos();
        if p.z > approach {
            self.tp.rapid(P3::new(xy.x, xy.y, approach));
        }
        self.tp.line(
            P3::new(xy.x, xy.y, z),
            MoveClass::Entry,
            self.tool.feeds.plunge_mm_per_min,
        );
    }
    /// A straight feed move that stays down.
    pub fn link(&mut self, to: P3) {
        self.tp.line(to, MoveClass::Link, self.feed);
    }
    /// A stay-down link through material already cleared: at the tool's link feed (a
    /// multiple of the cutting feed; the tool barely touches anything on the way).
    pub fn link_cleared(&mut self, to: P3) {
        let f = self.feed * self.tool.feeds.link_feed_factor.max(1.0);
        self.tp.line(to, MoveClass::Link, f);
    }

    /// Helix around `c` with radius `rh` from `z_from` (cleared) down to `z_to`, then one flat
    /// turn. Ends at `c + (rh, 0)` at `z_to`. `ccw` is the direction of travel.
    pub fn helix(&mut self, c: V2, rh: f64, z_from: f64, z_to: f64, ccw: bool) {
        let start = c + V2::new(rh, 0.0);
        self.descend_cleared(start, z_from, z_from);
        let tan = self.entry.ramp_angle_deg.to_radians().tan();
        let pitch = std::f64::consts::TAU * rh * tan;
        let dz = z_from - z_to;
        let total = dz / pitch * std::f64::consts::TAU; // radians of descent
        let sign = if ccw { 1.0 } else { -1.0 };
        // Quarter turns: a half circle's centre is ill-defined by its ends, and a controller
        // that re-derives it from rounded coordinates can wander off by a micrometre.
        let quarter = std::f64::consts::FRAC_PI_2;
        let steps = (total / quarter).ceil().max(1.0) as usize;
        let ramp = self.tool.feeds.ramp_mm_per_min;
        for k in 1..=steps {
            let ang = (total * k as f64 / steps as f64) * sign;
            let p = c + V2::from_angle(ang) * rh;
            let z = z_from - dz * k as f64 / steps as f64;
            self.tp
                .arc(P3::new(p.x, p.y, z), c, ccw, MoveClass::Entry, ramp);
        }
        // A flat turn at the bottom, four quarter circles, ending where it started.
        let a_end = total * sign;
        for k in 1..=4 {
            let p = c + V2::from_angle(a_end + sign * quarter * f64::from(k)) * rh;
            self.tp
                .arc(P3::new(p.x, p.y, z_to), c, ccw, MoveClass::Cut, self.feed);
        }
    }

    /// From above `a`, down to `z_from` (cleared), then ramping at the ramp angle between `a`
    /// and `b` and back until `z` is reached. Returns whether the tool ended at `a` (else it
    /// is at `b`, at `z`).
    pub fn ramp_between(&mut self, a: V2, b: V2, z_from: f64, z: f64) -> bool {
        self.descend_cleared(a, z_from, z_from);
        let len = a.dist(b);
        let tan = self.entry.ramp_angle_deg.to_radians().tan();
        let rate = self.tool.feeds.ramp_mm_per_min;
        let mut zc = z_from;
        let mut at_a = true;
        while zc > z {
            zc = (zc - len * tan).max(z);
            let to = if at_a { b } else { a };
            self.tp
                .line(P3::new(to.x, to.y, zc), MoveClass::Entry, rate);
            at_a = !at_a;
        }
        at_a
    }

    /// Enters along a closed loop path (first vertex = last): from above its start, down to
    /// `z_from` (cleared), then ramping along the loop to `z_to`, then one full lap at `z_to`.
    /// With a plunge entry it plunges at the start instead of ramping.
    pub fn ramp_loop(&mut self, path: &[PlineVertex<f64>], z_from: f64, z_to: f64, plunge: bool) {
        let start = V2::new(path[0].x, path[0].y);
        if plunge || path_len(path) <= 0.0 {
            self.descend_cleared(start, z_from, z_to);
            self.cut_path(path, z_to);
            return;
        }
        self.descend_cleared(start, z_from, z_from);
        self.ramp_loop_here(path, z_from, z_to, false);
    }

    /// [`Cursor::ramp_loop`] from where the tool stands: at the loop's start, at `z_from`
    /// (the next level of a loop just cut: no retract and descent between levels).
    pub fn ramp_loop_here(
        &mut self,
        path: &[PlineVertex<f64>],
        z_from: f64,
        z_to: f64,
        plunge: bool,
    ) {
        let start = V2::new(path[0].x, path[0].y);
        let lap = path_len(path);
        if plunge || lap <= 0.0 {
            self.tp.line(
                P3::new(start.x, start.y, z_to),
                MoveClass::Entry,
                self.tool.feeds.plunge_mm_per_min,
            );
            self.cut_path(path, z_to);
            return;
        }
        let tan = self.entry.ramp_angle_deg.to_radians().tan();
        let ramp_len = (z_from - z_to) / tan;
        let laps = (ramp_len / lap).ceil().max(0.0) as usize + 1;
        let full = repeat_loop(path, laps);
        // Ramp over whole laps (never steeper than the angle), then finish the lap at depth.
        let ramp_len = lap * (laps - 1) as f64;
        let ramp_len = if ramp_len > 0.0 { ramp_len } else { lap };
        let prof = ZProfile::ramp(z_from, z_to, ramp_len);
        let (feed, ramp) = (self.feed, self.tool.feeds.ramp_mm_per_min);
        let full = if laps == 1 {
            repeat_loop(path, 2)
        } else {
            full
        };
        emit_path(
            &mut self.tp,
            &full,
            &prof,
            &[ramp_len],
            self.min_len,
            &|s| {
                if s < ramp_len {
                    (MoveClass::Entry, ramp)
                } else {
                    (MoveClass::Cut, feed)
                }
            },
        );
    }

    /// Cuts along a path at constant `z` (the tool is at its start).
    pub fn cut_path(&mut self, path: &[PlineVertex<f64>], z: f64) {
        let feed = self.feed;
        emit_path(
            &mut self.tp,
            path,
            &ZProfile::flat(z),
            &[],
            self.min_len,
            &|_| (MoveClass::Cut, feed),
        );
    }
}
