//! Probing a grid of heights with `G38.2` through the machine link, GRBL or LinuxCNC (a PCB's
//! warp before isolation), each point touched several times, outliers rejected, the spread
//! reported.
//!
//! The sequence at each point: up to the clearance height, over the point, a fast touch to
//! find the surface, then `touches` slow touches from `retract` above it. GRBL reports the
//! trigger position latched by the probe input (`[PRB:…:1]`, machine coordinates); the work
//! offset from the status reports turns it into work coordinates. A touch that finds nothing
//! within `max_depth` raises GRBL's alarm 5: probing stops and says where. On LinuxCNC the
//! link's thread runs each probing move by MDI until done and reports the latched trigger
//! position the same way (see `runner::linuxcnc_probe`); no contact is LinuxCNC's error.
//!
//! The result is plain numbers (this crate does not know `swarf-core`'s height map); the CLI
//! and the app make the map of it.

use std::time::{Duration, Instant};

use crate::grbl::Event;
use crate::program::clean_line;
use crate::runner::{Cmd, Link};

/// How to probe.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSettings {
    /// Points along X and Y (at least 2 each).
    pub nx: usize,
    pub ny: usize,
    /// The area, work coordinates, mm: X0, Y0, X1, Y1.
    pub area: [f64; 4],
    /// Slow touches per point (after the fast one that finds the surface).
    pub touches: u32,
    pub fast_mm_per_min: f64,
    pub slow_mm_per_min: f64,
    /// Height over the work's Z0 for moves between points, mm.
    pub clearance_mm: f64,
    /// Back-off above the surface between touches, mm.
    pub retract_mm: f64,
    /// How far below Z0 a touch may go before it counts as no contact, mm.
    pub max_depth_mm: f64,
    /// A touch farther than this from its point's median is rejected, µm.
    pub outlier_um: f64,
    /// A point farther than this from the map's median height is flagged, mm.
    pub expected_warp_mm: f64,
    /// Holes (centre, radius) the probe must not drop into: points inside are moved out to
    /// the nearest place `radius + 0.2 mm` from the centre.
    pub avoid: Vec<([f64; 2], f64)>,
    /// Longest wait for one command's answer.
    pub timeout: Duration,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            nx: 5,
            ny: 5,
            area: [0.0, 0.0, 50.0, 50.0],
            touches: 3,
            fast_mm_per_min: 60.0,
            slow_mm_per_min: 10.0,
            clearance_mm: 1.0,
            retract_mm: 0.2,
            max_depth_mm: 1.0,
            outlier_um: 5.0,
            expected_warp_mm: 0.2,
            avoid: Vec::new(),
            timeout: Duration::from_mins(2),
        }
    }
}

/// One probed point.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbedPoint {
    /// The grid node, work coordinates.
    pub node: [f64; 2],
    /// Where it was touched (moved off a hole, else the node).
    pub at: [f64; 2],
    /// The height: the median of the touches kept, mm.
    pub z: f64,
    /// Every slow touch, mm.
    pub touches: Vec<f64>,
    pub rejected: usize,
    /// Spread (highest − lowest) of the touches kept, µm.
    pub scatter_um: f64,
}

/// A probed grid, row by row (Y from the area's X0, Y0), and what was noticed.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ProbeOutcome {
    pub nx: usize,
    pub ny: usize,
    pub points: Vec<ProbedPoint>,
    /// Points beyond the expected warp, outliers, moved points, the overall spread.
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

impl ProbeSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.nx < 2 || self.ny < 2 || self.nx > 200 || self.ny > 200 {
            return Err(format!(
                "a grid of {} × {}; use 2 to 200 points each way",
                self.nx, self.ny
            ));
        }
        let [x0, y0, x1, y1] = self.area;
        if !(self.area.iter().all(|v| v.is_finite()) && x1 > x0 && y1 > y0) {
            return Err(format!(
                "the area {x0},{y0},{x1},{y1} is empty; give X0,Y0,X1,Y1 with X1 > X0 and Y1 > Y0"
            ));
        }
        let positive = [
            ("fast feed", self.fast_mm_per_min),
            ("slow feed", self.slow_mm_per_min),
            ("clearance", self.clearance_mm),
            ("retract", self.retract_mm),
            ("maximum depth", self.max_depth_mm),
            ("outlier limit", self.outlier_um),
            ("expected warp", self.expected_warp_mm),
        ];
        for (what, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("the {what} is {v}; it must be a positive number"));
            }
        }
        if self.touches == 0 || self.touches > 20 {
            return Err(format!("{} touches per point; use 1 to 20", self.touches));
        }
        if self.retract_mm >= self.clearance_mm {
            return Err(format!(
                "the retract {} mm must be below the clearance {} mm",
                self.retract_mm, self.clearance_mm
            ));
        }
        Ok(())
    }

    /// The grid's nodes, row by row.
    pub fn nodes(&self) -> Vec<[f64; 2]> {
        let [x0, y0, x1, y1] = self.area;
        let mut out = Vec::with_capacity(self.nx * self.ny);
        for j in 0..self.ny {
            for i in 0..self.nx {
                out.push([
                    x0 + (x1 - x0) * i as f64 / (self.nx - 1) as f64,
                    y0 + (y1 - y0) * j as f64 / (self.ny - 1) as f64,
                ]);
            }
        }
        out
    }

    /// Where to touch for a node: off any hole it falls in.
    pub fn touch_point(&self, node: [f64; 2]) -> [f64; 2] {
        let mut p = node;
        for &(c, r) in &self.avoid {
            let (dx, dy) = (p[0] - c[0], p[1] - c[1]);
            let d = dx.hypot(dy);
            let keep = r + 0.2;
            if d < keep {
                let (ux, uy) = if d > 1e-9 {
                    (dx / d, dy / d)
                } else {
                    (1.0, 0.0)
                };
                p = [c[0] + ux * keep, c[1] + uy * keep];
            }
        }
        p
    }
}

/// The numbers of a reply, for the G-code a probe sends (4 decimals, as the posts write).
fn n(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

struct Session<'a> {
    link: &'a Link,
    timeout: Duration,
    /// Machine minus work position, from the status reports.
    wco: Option<[f64; 3]>,
}

impl Session<'_> {
    fn note_status(&mut self, e: &Event) {
        if let Event::Status(s) = e
            && let (Some(m), Some(w)) = (s.mpos, s.wpos)
        {
            self.wco = Some([m[0] - w[0], m[1] - w[1], m[2] - w[2]]);
        }
    }

    /// Sends one line and waits for its answer; the probe result when it was a probe.
    fn line(&mut self, line: &str) -> Result<Option<([f64; 3], bool)>, String> {
        let clean = clean_line(line)?.unwrap_or_default();
        if !self.link.send(Cmd::Line(line.to_string())) {
            return Err("the link closed".into());
        }
        let deadline = Instant::now() + self.timeout;
        let mut probe = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "no answer to '{line}' within {} s; is the machine still connected?",
                    self.timeout.as_secs()
                ));
            }
            match self.link.wait(left.min(Duration::from_millis(100))) {
                Ok(e) => {
                    self.note_status(&e);
                    match e {
                        Event::Probe { position, success } => probe = Some((position, success)),
                        Event::Reply { command, reply } if command == clean || command == line => {
                            if reply.starts_with("ok") {
                                return Ok(probe);
                            }
                            return Err(format!("'{line}' was answered {reply}"));
                        }
                        Event::Alarm { code, message } => {
                            let why = if code == 5 {
                                "the probe found no surface on its way down (alarm 5): check the probe's wiring and clip, that the tool starts above the surface, or allow a longer way down (--max-depth, --max-travel)".to_string()
                            } else {
                                format!("alarm {code}: {message}")
                            };
                            return Err(format!("'{line}': {why}; unlock with $X before going on"));
                        }
                        Event::Disconnected(why) => return Err(format!("the link closed: {why}")),
                        _ => {}
                    }
                }
                Err(true) => return Err("the link closed".into()),
                Err(false) => {}
            }
        }
    }

    /// The work offset, waiting for a status report that carries both positions.
    fn wco(&mut self) -> Result<[f64; 3], String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.wco.is_none() && Instant::now() < deadline {
            if let Ok(e) = self.link.wait(Duration::from_millis(50)) {
                self.note_status(&e);
            }
        }
        self.wco
            .ok_or_else(|| "no status report gave the work offset (WCO) within 5 s".into())
    }

    /// One touch down from where the tool is; the contact's work Z.
    fn touch(&mut self, feed: f64, depth: f64) -> Result<f64, String> {
        let line = format!("G38.2 Z{} F{}", n(-depth), n(feed));
        match self.line(&line)? {
            Some((pos, true)) => Ok(pos[2] - self.wco()?[2]),
            Some((_, false)) | None => Err(format!(
                "'{line}' made no contact (no [PRB:…:1] report); check the probe"
            )),
        }
    }
}

/// Probes the grid. `progress(done, total)` after each point; returning `false` stops (the
/// tool is raised to the clearance first).
pub fn probe_grid(
    link: &Link,
    s: &ProbeSettings,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<ProbeOutcome, String> {
    s.check()?;
    let mut ses = Session {
        link,
        timeout: s.timeout,
        wco: None,
    };
    let nodes = s.nodes();
    let mut points: Vec<Option<ProbedPoint>> = vec![None; nodes.len()];
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    ses.line("G21")?;
    ses.line("G90")?;
    ses.line(&format!("G0 Z{}", n(s.clearance_mm)))?;
    // Serpentine order: the shortest travel over a grid.
    let mut order = Vec::with_capacity(nodes.len());
    for j in 0..s.ny {
        let row: Vec<usize> = (0..s.nx).map(|i| j * s.nx + i).collect();
        if j % 2 == 0 {
            order.extend(row);
        } else {
            order.extend(row.into_iter().rev());
        }
    }
    let total = order.len();
    for (done, &k) in order.iter().enumerate() {
        let node = nodes[k];
        let at = s.touch_point(node);
        if at != node {
            notes.push(format!(
                "point ({:.3}, {:.3}) is over a hole: touched at ({:.3}, {:.3})",
                node[0], node[1], at[0], at[1]
            ));
        }
        ses.line(&format!("G0 Z{}", n(s.clearance_mm)))?;
        ses.line(&format!("G0 X{} Y{}", n(at[0]), n(at[1])))?;
        let found = ses.touch(s.fast_mm_per_min, s.max_depth_mm)?;
        let mut touches = Vec::with_capacity(s.touches as usize);
        for _ in 0..s.touches {
            ses.line(&format!("G0 Z{}", n(found + s.retract_mm)))?;
            touches.push(ses.touch(s.slow_mm_per_min, s.max_depth_mm)?);
        }
        ses.line(&format!("G0 Z{}", n(s.clearance_mm)))?;
        // The median, touches farther than the outlier limit from it rejected.
        let mut sorted = touches.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        let kept: Vec<f64> = sorted
            .iter()
            .copied()
            .filter(|z| (z - median).abs() * 1000.0 <= s.outlier_um)
            .collect();
        let rejected = touches.len() - kept.len();
        let z = kept[kept.len() / 2];
        let scatter_um = (kept[kept.len() - 1] - kept[0]) * 1000.0;
        if rejected > 0 {
            notes.push(format!(
                "point ({:.3}, {:.3}): {rejected} of {} touches rejected (more than {} µm from the median)",
                node[0],
                node[1],
                touches.len(),
                s.outlier_um
            ));
        }
        points[k] = Some(ProbedPoint {
            node,
            at,
            z,
            touches,
            rejected,
            scatter_um,
        });
        if !progress(done + 1, total) {
            return Err(format!(
                "probing stopped by the user after {} of {total} points",
                done + 1
            ));
        }
    }
    let points: Vec<ProbedPoint> = points
        .into_iter()
        .map(|p| p.expect("every node probed"))
        .collect();
    let mut zs: Vec<f64> = points.iter().map(|p| p.z).collect();
    zs.sort_by(f64::total_cmp);
    let median = zs[zs.len() / 2];
    for p in &points {
        if (p.z - median).abs() > s.expected_warp_mm {
            warnings.push(format!(
                "point ({:.3}, {:.3}) is {:.4} mm from the median height, more than the expected warp {} mm: a chip under the probe, or the board not flat on the table?",
                p.node[0],
                p.node[1],
                p.z - median,
                s.expected_warp_mm
            ));
        }
    }
    let worst = points.iter().map(|p| p.scatter_um).fold(0.0, f64::max);
    notes.insert(
        0,
        format!(
            "{} × {} points, {} touches each at {} mm/min; heights {:.4} .. {:.4} mm (range {:.1} µm), touches agree within {:.2} µm",
            s.nx,
            s.ny,
            s.touches,
            n(s.slow_mm_per_min),
            zs[0],
            zs[zs.len() - 1],
            (zs[zs.len() - 1] - zs[0]) * 1000.0,
            worst
        ),
    );
    Ok(ProbeOutcome {
        nx: s.nx,
        ny: s.ny,
        points,
        notes,
        warnings,
    })
}

/// Tool length touch-off: the tool lowered onto a plate of known thickness (or onto the work
/// itself, thickness 0) and the work Z set so that the tool tip at the contact reads the
/// plate's thickness (`G10 L2 P0`, the current coordinate system), as after a tool change.
#[derive(Clone, Debug, PartialEq)]
pub struct TouchOff {
    /// Thickness of the touch plate on the work, mm (0: the work surface).
    pub plate_mm: f64,
    /// How far down the first touch may go, mm.
    pub max_travel_mm: f64,
    pub fast_mm_per_min: f64,
    pub slow_mm_per_min: f64,
    /// Back-off between the touches and at the end, mm.
    pub retract_mm: f64,
    pub timeout: Duration,
}

impl Default for TouchOff {
    fn default() -> Self {
        Self {
            plate_mm: 0.0,
            max_travel_mm: 10.0,
            fast_mm_per_min: 60.0,
            slow_mm_per_min: 10.0,
            retract_mm: 1.0,
            timeout: Duration::from_mins(2),
        }
    }
}

/// Touches off the tool from where it is (above the plate): a fast touch, back off, a slow
/// touch, then Z set and the tool raised by the retract. Returns the machine Z of the
/// contact. Relative moves (`G91`) throughout, `G90` restored whatever happens.
pub fn touch_off(link: &Link, t: &TouchOff) -> Result<f64, String> {
    for (what, v) in [
        ("maximum travel", t.max_travel_mm),
        ("fast feed", t.fast_mm_per_min),
        ("slow feed", t.slow_mm_per_min),
        ("retract", t.retract_mm),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("the {what} is {v}; it must be a positive number"));
        }
    }
    if !(t.plate_mm.is_finite() && t.plate_mm >= 0.0 && t.plate_mm < 100.0) {
        return Err(format!(
            "the plate thickness is {}; give it in mm (0 for the work surface)",
            t.plate_mm
        ));
    }
    let mut ses = Session {
        link,
        timeout: t.timeout,
        wco: None,
    };
    let steps = |ses: &mut Session<'_>| -> Result<f64, String> {
        ses.line("G21")?;
        ses.line("G91")?;
        let probe = |ses: &mut Session<'_>, travel: f64, feed: f64| -> Result<[f64; 3], String> {
            let line = format!("G38.2 Z{} F{}", n(-travel), n(feed));
            match ses.line(&line)? {
                Some((pos, true)) => Ok(pos),
                _ => Err(format!("'{line}' made no contact; check the plate's clip")),
            }
        };
        probe(ses, t.max_travel_mm, t.fast_mm_per_min)?;
        ses.line(&format!("G0 Z{}", n(t.retract_mm)))?;
        let contact = probe(ses, t.retract_mm * 2.0, t.slow_mm_per_min)?;
        ses.line("G90")?;
        // The work offset from the latched contact, not from where the tool stopped (GRBL
        // decelerates past the trigger): `G10 L2` sets the offset itself, so the contact
        // reads the plate's thickness.
        ses.line(&format!("G10 L2 P0 Z{}", n(contact[2] - t.plate_mm)))?;
        ses.line("G91")?;
        ses.line(&format!("G0 Z{}", n(t.retract_mm)))?;
        Ok(contact[2])
    };
    let r = steps(&mut ses);
    // Back to absolute coordinates whatever happened (an alarm needs $X first; then G90 is
    // the first thing the next program sets anyway).
    let _ = ses.line("G90");
    r
}
