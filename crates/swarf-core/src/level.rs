//! Height maps of a warped work surface (a PCB, a thin plate) and levelling: the toolpath's Z
//! raised by the surface's height under it, before posting (never by editing G-code text).
//!
//! A map holds heights at the nodes of a regular grid, in work coordinates and mm, at full
//! `f64` resolution (a peer rounds probe data to 10 µm, more than the 35 µm copper's third).
//! Between nodes the surface is bilinear. Levelling splits lines where they cross grid lines
//! and, inside a cell, where the bilinear surface bends away from the chord by more than the
//! path tolerance; arcs stay arcs (helical, G2/G3 with Z) wherever the height along them is
//! linear in the angle within the tolerance, and are split into shorter arcs where not.

use serde::{Deserialize, Serialize};

use crate::geometry::{Bbox2, Tolerance, V2};
use crate::toolpath::{Motion, Move, P3, Toolpath, arc_sweep};

/// Format version of a saved map.
pub const MAP_VERSION: u32 = 1;

/// Why a map cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LevelError {
    #[error("height map: {0}")]
    Invalid(String),
    #[error("height map: cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

/// Heights of the work surface at grid nodes, mm, work coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeightMap {
    pub version: u32,
    /// The first node (lowest X and Y).
    pub origin: [f64; 2],
    /// Node spacing in X and Y (positive).
    pub step: [f64; 2],
    pub nx: usize,
    pub ny: usize,
    /// Heights row by row (Y from `origin`), `nx` per row.
    pub z: Vec<f64>,
    /// Spread of the touches kept at each node, µm (empty when not probed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scatter_um: Vec<f64>,
    /// How it was made (probe settings, points rejected, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How the work surface is probed for a height map (and the tool touched off): the job's
/// `[probe]` table, used by the app's Probe panel and `swarf-cli probe --area job.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeSpec {
    /// Points along X and Y.
    pub grid: [usize; 2],
    /// Around the area the job cuts, mm.
    pub margin_mm: f64,
    /// Slow touches per point (after a fast one that finds the surface).
    pub touches: u32,
    pub fast_mm_per_min: f64,
    pub slow_mm_per_min: f64,
    /// Height over Z0 for moves between points, mm.
    pub clearance_mm: f64,
    /// Back-off above the surface between touches, mm.
    pub retract_mm: f64,
    /// How far below Z0 a touch may go, mm.
    pub max_depth_mm: f64,
    /// Touches farther than this from their point's median are rejected, µm.
    pub outlier_um: f64,
    /// Points farther than this from the median height are flagged, mm.
    pub expected_warp_mm: f64,
    /// Touch-off plate thickness, mm (0: the work).
    pub plate_mm: f64,
}

impl Default for ProbeSpec {
    fn default() -> Self {
        Self {
            grid: [5, 4],
            margin_mm: 1.0,
            touches: 3,
            fast_mm_per_min: 60.0,
            slow_mm_per_min: 10.0,
            clearance_mm: 1.0,
            retract_mm: 0.2,
            max_depth_mm: 1.0,
            outlier_um: 5.0,
            expected_warp_mm: 0.2,
            plate_mm: 0.0,
        }
    }
}

/// What levelling did, for the summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelReport {
    /// Largest difference between the levelled path and the exact "programmed Z + surface"
    /// along it, mm (within the path tolerance, unless an arc could not be split further).
    pub max_error_mm: f64,
    /// Moves before and after.
    pub moves_in: usize,
    pub moves_out: usize,
    /// Arcs written as arcs, and arcs that had to be split.
    pub arcs_kept: usize,
    pub arcs_split: usize,
    /// How far the toolpath's cutting moves reach outside the map (the edge height is used
    /// there), mm; 0 inside.
    pub outside_mm: f64,
}

impl HeightMap {
    /// A map over `area` with `nx` × `ny` nodes (at least 2 × 2), heights from `f`.
    pub fn from_fn(
        area: Bbox2,
        nx: usize,
        ny: usize,
        f: impl Fn(V2) -> f64,
    ) -> Result<Self, LevelError> {
        let m = Self::grid(area, nx, ny)?;
        let z = m.nodes().map(f).collect();
        Ok(Self { z, ..m })
    }

    /// A map of probed heights: `z` (and the touches' spread, µm) row by row over `area`
    /// (X0, Y0, X1, Y1), checked.
    pub fn from_nodes(
        area: [f64; 4],
        nx: usize,
        ny: usize,
        z: Vec<f64>,
        scatter_um: &[f64],
        notes: Vec<String>,
    ) -> Result<Self, LevelError> {
        let mut b = Bbox2::EMPTY;
        b.add_point(V2::new(area[0], area[1]));
        b.add_point(V2::new(area[2], area[3]));
        let m = Self {
            z,
            scatter_um: scatter_um
                .iter()
                .map(|s| (s * 100.0).round() / 100.0)
                .collect(),
            notes,
            ..Self::grid(b, nx, ny)?
        };
        m.validate()?;
        Ok(m)
    }

    /// The grid over `area` with `nx` × `ny` nodes and no heights yet (zeros).
    pub fn grid(area: Bbox2, nx: usize, ny: usize) -> Result<Self, LevelError> {
        if nx < 2 || ny < 2 || nx > 1000 || ny > 1000 {
            return Err(LevelError::Invalid(format!(
                "a grid of {nx} × {ny} points; use 2 to 1000 each way"
            )));
        }
        if area.is_empty() || !(area.width() > 0.0 && area.height() > 0.0) {
            return Err(LevelError::Invalid(
                "the area to probe has no width or no height".into(),
            ));
        }
        Ok(Self {
            version: MAP_VERSION,
            origin: [area.min.x, area.min.y],
            step: [
                area.width() / (nx - 1) as f64,
                area.height() / (ny - 1) as f64,
            ],
            nx,
            ny,
            z: vec![0.0; nx * ny],
            scatter_um: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// The nodes, row by row.
    pub fn nodes(&self) -> impl Iterator<Item = V2> + '_ {
        (0..self.ny).flat_map(move |j| (0..self.nx).map(move |i| self.node(i, j)))
    }

    pub fn node(&self, i: usize, j: usize) -> V2 {
        V2::new(
            self.origin[0] + self.step[0] * i as f64,
            self.origin[1] + self.step[1] * j as f64,
        )
    }

    pub fn area(&self) -> Bbox2 {
        let mut b = Bbox2::EMPTY;
        b.add_point(self.node(0, 0));
        b.add_point(self.node(self.nx - 1, self.ny - 1));
        b
    }

    /// Checks the sizes and numbers (a map read from a file).
    pub fn validate(&self) -> Result<(), LevelError> {
        let bad = |s: String| Err(LevelError::Invalid(s));
        if self.version > MAP_VERSION {
            return bad(format!(
                "format version {} is newer than this Swarf reads ({MAP_VERSION})",
                self.version
            ));
        }
        if self.nx < 2 || self.ny < 2 || self.nx > 1000 || self.ny > 1000 {
            return bad(format!(
                "{} × {} nodes; use 2 to 1000 each way",
                self.nx, self.ny
            ));
        }
        if self.z.len() != self.nx * self.ny {
            return bad(format!(
                "{} heights for {} × {} nodes",
                self.z.len(),
                self.nx,
                self.ny
            ));
        }
        if !(self.step.iter().all(|s| s.is_finite() && *s > 0.0)
            && self.origin.iter().all(|o| o.is_finite()))
        {
            return bad("origin and step must be numbers, the step positive".into());
        }
        if let Some(k) = self
            .z
            .iter()
            .position(|z| !z.is_finite() || z.abs() > 100.0)
        {
            return bad(format!(
                "height {} at node {k} is not a number within ±100 mm",
                self.z[k]
            ));
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a map serialises")
    }

    pub fn from_json(text: &str) -> Result<Self, LevelError> {
        let m: Self = serde_json::from_str(text)
            .map_err(|e| LevelError::Invalid(format!("not a Swarf height map: {e}")))?;
        m.validate()?;
        Ok(m)
    }

    pub fn load(path: &std::path::Path) -> Result<Self, LevelError> {
        let text = std::fs::read_to_string(path).map_err(|error| LevelError::Io {
            path: path.display().to_string(),
            error,
        })?;
        Self::from_json(&text)
    }

    fn z_at(&self, i: usize, j: usize) -> f64 {
        self.z[j * self.nx + i]
    }

    /// The cell (i, j) holding `p` (clamped to the map) and `p`'s fractions in it.
    fn cell(&self, p: V2) -> (usize, usize, f64, f64) {
        let fx = ((p.x - self.origin[0]) / self.step[0]).clamp(0.0, (self.nx - 1) as f64);
        let fy = ((p.y - self.origin[1]) / self.step[1]).clamp(0.0, (self.ny - 1) as f64);
        let i = (fx.floor() as usize).min(self.nx - 2);
        let j = (fy.floor() as usize).min(self.ny - 2);
        (i, j, fx - i as f64, fy - j as f64)
    }

    /// The surface's height at `p` (bilinear; outside the map, the edge's height).
    pub fn height(&self, p: V2) -> f64 {
        let (i, j, u, v) = self.cell(p);
        let (a, b, c, d) = (
            self.z_at(i, j),
            self.z_at(i + 1, j),
            self.z_at(i, j + 1),
            self.z_at(i + 1, j + 1),
        );
        a * (1.0 - u) * (1.0 - v) + b * u * (1.0 - v) + c * (1.0 - u) * v + d * u * v
    }

    /// The twist of the cell holding `p` (`z00 − z10 − z01 + z11`): how far the bilinear
    /// surface bends away from a straight line through it.
    fn twist(&self, p: V2) -> f64 {
        let (i, j, _, _) = self.cell(p);
        self.z_at(i, j) - self.z_at(i + 1, j) - self.z_at(i, j + 1) + self.z_at(i + 1, j + 1)
    }

    /// Lowest and highest height, mm.
    pub fn range(&self) -> (f64, f64) {
        self.z
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &z| {
                (lo.min(z), hi.max(z))
            })
    }

    /// A one-line description for summaries and G-code headers.
    pub fn describe(&self) -> String {
        let (lo, hi) = self.range();
        let a = self.area();
        format!(
            "levelled by a height map of {} x {} points over ({:.3}, {:.3}) .. ({:.3}, {:.3}) mm, heights {:.4} .. {:.4} mm",
            self.nx, self.ny, a.min.x, a.min.y, a.max.x, a.max.y, lo, hi
        )
    }

    /// Distance of `p` outside the map (0 inside).
    fn outside(&self, p: V2) -> f64 {
        let a = self.area();
        let dx = (a.min.x - p.x).max(p.x - a.max.x).max(0.0);
        let dy = (a.min.y - p.y).max(p.y - a.max.y).max(0.0);
        dx.hypot(dy)
    }
}

/// The toolpath with every point raised by the surface's height under it.
pub fn level(tp: &Toolpath, map: &HeightMap, tol: &Tolerance) -> (Toolpath, LevelReport) {
    let h = |p: P3| P3::new(p.x, p.y, p.z + map.height(p.xy()));
    let mut out = Toolpath::new(h(tp.start));
    out.dwells.clone_from(&tp.dwells);
    out.cycles.clone_from(&tp.cycles);
    let mut rep = LevelReport {
        moves_in: tp.moves.len(),
        ..LevelReport::default()
    };
    // New index after each old move (drilling cycles and dwells index the moves).
    let mut after: Vec<usize> = Vec::with_capacity(tp.moves.len());
    let mut from = tp.start;
    for m in &tp.moves {
        match m.motion {
            Motion::Rapid => out.push(Move { to: h(m.to), ..*m }),
            Motion::Line => {
                if m.to.z < 0.0 || from.z < 0.0 {
                    rep.outside_mm = rep
                        .outside_mm
                        .max(map.outside(m.to.xy()))
                        .max(map.outside(from.xy()));
                }
                level_line(&mut out, map, from, m, tol, &mut rep);
                if let Some(last) = out.moves.last_mut() {
                    last.to.x = m.to.x;
                    last.to.y = m.to.y;
                }
            }
            Motion::Arc { centre, ccw } => {
                if m.to.z < 0.0 || from.z < 0.0 {
                    rep.outside_mm = rep
                        .outside_mm
                        .max(map.outside(m.to.xy()))
                        .max(map.outside(from.xy()));
                }
                let sweep = arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                let whole = ArcPiece {
                    centre,
                    radius: from.xy().dist(centre),
                    a0: (from.xy() - centre).angle(),
                    sweep,
                    z0: from.z,
                    z1: m.to.z,
                };
                let before = out.moves.len();
                level_arc(&mut out, map, whole, m, tol, &mut rep, 0);
                // The arc ends where it ended, to the last bit.
                if let Some(last) = out.moves.last_mut() {
                    last.to.x = m.to.x;
                    last.to.y = m.to.y;
                }
                if out.moves.len() - before == 1 {
                    rep.arcs_kept += 1;
                } else {
                    rep.arcs_split += 1;
                }
            }
        }
        after.push(out.moves.len());
        from = m.to;
    }
    // Dwells and cycles follow their moves; a cycle's heights follow the surface at its hole.
    let new_after = |n: usize| if n == 0 { 0 } else { after[n - 1] };
    for d in &mut out.dwells {
        d.after = new_after(d.after);
    }
    for c in &mut out.cycles {
        c.first = new_after(c.first);
        c.end = new_after(c.end);
        let dz = map.height(c.canned.at);
        c.canned.bottom_z += dz;
        c.canned.r_z += dz;
    }
    rep.moves_out = out.moves.len();
    (out, rep)
}

/// The toolpath with the surface's height under each move's end taken off again (for checks
/// that measure depth from a flat top). Arcs stay arcs; levelled paths have their points where
/// the surface was followed, so their ends carry the height.
pub fn unlevel(tp: &Toolpath, map: &HeightMap) -> Toolpath {
    let down = |p: P3| P3::new(p.x, p.y, p.z - map.height(p.xy()));
    let mut out = tp.clone();
    out.start = down(tp.start);
    for m in &mut out.moves {
        m.to = down(m.to);
    }
    out
}

fn level_line(
    out: &mut Toolpath,
    map: &HeightMap,
    from: P3,
    m: &Move,
    tol: &Tolerance,
    rep: &mut LevelReport,
) {
    let (a, b) = (from.xy(), m.to.xy());
    let at = |t: f64| {
        P3::new(
            from.x + (m.to.x - from.x) * t,
            from.y + (m.to.y - from.y) * t,
            from.z + (m.to.z - from.z) * t,
        )
    };
    // Where the line crosses grid lines.
    let mut ts = vec![0.0, 1.0];
    let d = b - a;
    for (axis, (o, s, n)) in [
        (0, (map.origin[0], map.step[0], map.nx)),
        (1, (map.origin[1], map.step[1], map.ny)),
    ] {
        let (pa, dd) = if axis == 0 { (a.x, d.x) } else { (a.y, d.y) };
        if dd.abs() < 1e-15 {
            continue;
        }
        for k in 1..n - 1 {
            let t = (o + s * k as f64 - pa) / dd;
            if t > 1e-12 && t < 1.0 - 1e-12 {
                ts.push(t);
            }
        }
    }
    ts.sort_by(f64::total_cmp);
    ts.dedup_by(|x, y| (*x - *y).abs() < 1e-12);
    for w in ts.windows(2) {
        let (t0, t1) = (w[0], w[1]);
        let (p0, p1) = (at(t0), at(t1));
        // Inside a cell the surface along the line is a parabola; its gap to the chord is
        // |twist · Δx · Δy| / (4 · dx · dy). Enough pieces keep it within the tolerance.
        let mid = at(0.5 * (t0 + t1)).xy();
        let gap = (map.twist(mid) * (p1.x - p0.x) * (p1.y - p0.y)).abs()
            / (4.0 * map.step[0] * map.step[1]);
        let n = (gap / tol.path_mm).sqrt().ceil().max(1.0) as usize;
        let n = n.min(10_000);
        rep.max_error_mm = rep.max_error_mm.max(gap / (n * n) as f64);
        for k in 1..=n {
            let p = at(t0 + (t1 - t0) * k as f64 / n as f64);
            out.push(Move {
                to: P3::new(p.x, p.y, p.z + map.height(p.xy())),
                ..*m
            });
        }
    }
}

#[derive(Clone, Copy)]
struct ArcPiece {
    centre: V2,
    radius: f64,
    a0: f64,
    /// Signed: positive counter-clockwise.
    sweep: f64,
    z0: f64,
    z1: f64,
}

impl ArcPiece {
    fn point(&self, f: f64) -> P3 {
        let p = self.centre + V2::from_angle(self.a0 + self.sweep * f) * self.radius;
        P3::new(p.x, p.y, self.z0 + (self.z1 - self.z0) * f)
    }
    fn split(&self) -> (ArcPiece, ArcPiece) {
        let zm = 0.5 * (self.z0 + self.z1);
        (
            ArcPiece {
                sweep: self.sweep * 0.5,
                z1: zm,
                ..*self
            },
            ArcPiece {
                a0: self.a0 + self.sweep * 0.5,
                sweep: self.sweep * 0.5,
                z0: zm,
                ..*self
            },
        )
    }
}

fn level_arc(
    out: &mut Toolpath,
    map: &HeightMap,
    arc: ArcPiece,
    m: &Move,
    tol: &Tolerance,
    rep: &mut LevelReport,
    depth: u32,
) {
    // The surface along the arc against a height linear in the angle (a helix): sampled
    // finer than the grid (at least every cell's width along the arc, and 32 times).
    let len = arc.radius * arc.sweep.abs();
    let cells = len / map.step[0].min(map.step[1]);
    let n = ((cells * 8.0).ceil() as usize).clamp(32, 4096);
    let (h0, h1) = (
        map.height(arc.point(0.0).xy()),
        map.height(arc.point(1.0).xy()),
    );
    let mut worst = 0.0f64;
    for k in 1..n {
        let f = k as f64 / n as f64;
        let h = map.height(arc.point(f).xy());
        worst = worst.max((h - (h0 + (h1 - h0) * f)).abs());
    }
    // Arcs shorter than the tolerance cannot be split usefully; the error is recorded.
    if worst <= tol.path_mm || depth >= 16 || len <= tol.path_mm * 10.0 {
        rep.max_error_mm = rep.max_error_mm.max(worst);
        let end = arc.point(1.0);
        out.push(Move {
            motion: Motion::Arc {
                centre: arc.centre,
                ccw: arc.sweep > 0.0,
            },
            to: P3::new(end.x, end.y, end.z + h1),
            ..*m
        });
        return;
    }
    let (a, b) = arc.split();
    level_arc(out, map, a, m, tol, rep, depth + 1);
    level_arc(out, map, b, m, tol, rep, depth + 1);
}

#[cfg(test)]
mod tests;
