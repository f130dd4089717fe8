//! Offsetting regions with `cavalier_contours`, arcs kept exact.
//!
//! The known traps of the library are handled here, once: every offset is computed from the
//! original loops (never from a previous offset, which can grow an inverted sliver forever),
//! results that are open, of zero area or of flipped orientation are dropped, and the library's
//! epsilons come from [`Tolerance`].

use cavalier_contours::polyline::{PlineSource, PlineSourceMut};
use cavalier_contours::shape_algorithms::{Shape, ShapeOffsetOptions};

use super::scaled::{scale_for, scaled};
use super::seggrid::{SegGrid, seg_box};
use super::{Bbox2, Pline, Region, Tolerance, V2, pline_bbox};

/// One connected piece of an offset: a counter-clockwise boundary and the clockwise loops
/// (around islands) inside it.
#[derive(Debug, Clone)]
pub struct OffsetComponent {
    pub outer: Pline,
    pub holes: Vec<Pline>,
    pub bbox: Bbox2,
}

impl OffsetComponent {
    /// Whether `p` lies inside the component (inside outer, outside every hole).
    pub fn contains(&self, p: V2) -> bool {
        let b = &self.bbox;
        if p.x < b.min.x || p.x > b.max.x || p.y < b.min.y || p.y > b.max.y {
            return false;
        }
        self.outer.winding_number(p.into()) != 0
            && self.holes.iter().all(|h| h.winding_number(p.into()) == 0)
    }
    /// All loops, outer first.
    pub fn loops(&self) -> impl Iterator<Item = &Pline> {
        std::iter::once(&self.outer).chain(self.holes.iter())
    }
}

fn options(tol: &Tolerance) -> ShapeOffsetOptions<f64> {
    ShapeOffsetOptions {
        pos_equal_eps: tol.equal_point_mm,
        offset_dist_eps: tol.path_mm,
        slice_join_eps: tol.path_mm,
    }
}

/// The region shrunk by `dist` (> 0; the area where a tool of radius `dist` may put its
/// centre), as components. Empty when the region is narrower than `2·dist` everywhere.
pub fn inset_region(region: &Region, dist: f64, tol: &Tolerance) -> Vec<OffsetComponent> {
    Inset::of_region(region, tol).at(dist, tol)
}

/// Like [`inset_region`] for loose loops (outer loops counter-clockwise, islands clockwise).
pub fn inset_loops(
    loops: impl IntoIterator<Item = Pline>,
    dist: f64,
    tol: &Tolerance,
) -> Vec<OffsetComponent> {
    Inset::new(loops, tol).at(dist, tol)
}

/// Loops made ready to be inset at many distances (a pocket's rings): the library's shape, at
/// its working scale, and the grid that validates the results are built once.
///
/// Every loop of a result is checked against the input: a parallel offset lies at exactly
/// `|dist|` from the loops it came from, so a segment closer than that (less the path
/// tolerance) is wrong. `cavalier_contours`' shape offset can stitch its slices into such a
/// loop (a straight "bridge" closing a loop across an island when a valid slice was dropped at
/// its distance epsilon; seen on z-level sections of a relief), and a pocket pass along it
/// cuts through the island. A wrong result is computed again with other epsilons; a component
/// that is still wrong is left out (its area is not cut; `swarf-cli verify` reports the
/// leftover) rather than cut through the part.
pub struct Inset {
    /// The input scaled for the library (see `scaled`), and the scale.
    shape: Shape<f64>,
    scale: f64,
    grid: SegGrid,
    /// Components left out so far (wrong at every epsilon), and the first one's place.
    dropped: std::sync::Mutex<(usize, Option<V2>)>,
}

impl Inset {
    pub fn of_region(region: &Region, tol: &Tolerance) -> Self {
        Self::new(
            std::iter::once(region.outer.clone()).chain(region.islands.iter().cloned()),
            tol,
        )
    }

    pub fn new(loops: impl IntoIterator<Item = Pline>, tol: &Tolerance) -> Self {
        let input: Vec<Pline> = loops.into_iter().filter(|p| p.vertex_count() > 1).collect();
        // About as many cells as segments: a pocket insets hundreds of times, and a grid finer
        // than its input costs more to build than it saves.
        let extent = input
            .iter()
            .map(pline_bbox)
            .fold(Bbox2::EMPTY, |mut b, l| {
                b.union(&l);
                b
            })
            .extent();
        let segments: usize = input.iter().map(PlineSource::segment_count).sum();
        let grid = SegGrid::new(
            &input,
            (extent / (segments as f64).sqrt().max(1.0)).max(tol.path_mm * 100.0),
        );
        let scale = scale_for(&input);
        Self {
            shape: Shape::from_plines(input.iter().map(|p| scaled(p, scale))),
            scale,
            grid,
            dropped: std::sync::Mutex::new((0, None)),
        }
    }

    /// How many components the insets so far left out because they came too close to the
    /// loops at every epsilon, and where the first one was: the caller tells the user (its
    /// area is not cut).
    pub fn dropped(&self) -> (usize, Option<V2>) {
        *self
            .dropped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The loops shrunk by `dist` (grown when negative), as components.
    pub fn at(&self, dist: f64, tol: &Tolerance) -> Vec<OffsetComponent> {
        let mut seen = (Vec::new(), 0u32);
        let mut first = None;
        for eps in [tol.path_mm, tol.path_mm * 0.01, tol.path_mm * 10.0] {
            let opts = ShapeOffsetOptions {
                offset_dist_eps: eps,
                ..options(tol)
            };
            let comps = self.offset(dist, &opts, tol);
            let bad: Vec<bool> = comps
                .iter()
                .map(|c| {
                    c.loops()
                        .any(|l| !keeps_distance(l, &self.grid, dist.abs(), tol, &mut seen))
                })
                .collect();
            if !bad.contains(&true) {
                return comps;
            }
            first.get_or_insert((comps, bad));
        }
        let (comps, bad) = first.expect("tried once");
        {
            let mut d = self
                .dropped
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (c, b) in comps.iter().zip(&bad) {
                if *b {
                    d.0 += 1;
                    let v = c.outer.at(0);
                    d.1.get_or_insert(V2::new(v.x, v.y));
                }
            }
        }
        comps
            .into_iter()
            .zip(bad)
            .filter_map(|(c, b)| (!b).then_some(c))
            .collect()
    }

    fn offset(
        &self,
        dist: f64,
        opts: &ShapeOffsetOptions<f64>,
        tol: &Tolerance,
    ) -> Vec<OffsetComponent> {
        // In units where the library's parallel test works (see `scaled`), then back.
        let s = self.scale;
        let opts_s = ShapeOffsetOptions {
            pos_equal_eps: opts.pos_equal_eps * s,
            offset_dist_eps: opts.offset_dist_eps * s,
            slice_join_eps: opts.slice_join_eps * s,
        };
        let mut off = self.shape.parallel_offset(dist * s, &opts_s);
        for ip in off.ccw_plines.iter_mut().chain(off.cw_plines.iter_mut()) {
            ip.polyline = scaled(&ip.polyline, 1.0 / s);
        }
        let keep = |p: &Pline, ccw: bool| {
            let a = p.area();
            p.is_closed()
                && p.vertex_count() > 1
                && (if ccw { a > 0.0 } else { a < 0.0 })
                && a.abs() > tol.equal_point_mm * p.path_length()
        };
        let mut comps: Vec<OffsetComponent> = off
            .ccw_plines
            .into_iter()
            .map(|ip| ip.polyline)
            .filter(|p| keep(p, true))
            .map(|outer| OffsetComponent {
                bbox: pline_bbox(&outer),
                outer,
                holes: Vec::new(),
            })
            .collect();
        // Each hole goes to the smallest outer loop containing it.
        for h in off.cw_plines.into_iter().map(|ip| ip.polyline) {
            if !keep(&h, false) {
                continue;
            }
            let hb = pline_bbox(&h);
            let v = h.at(0);
            let probe = V2::new(v.x, v.y);
            let owner = comps
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.bbox.contains_box(&hb, tol.path_mm)
                        && c.outer.winding_number(probe.into()) != 0
                })
                .min_by(|a, b| a.1.outer.area().total_cmp(&b.1.outer.area()))
                .map(|(i, _)| i);
            if let Some(i) = owner {
                comps[i].holes.push(h);
            }
        }
        comps
    }
}

/// The warning for components an [`Inset`] left out, if any.
#[must_use]
pub fn dropped_warning(op: &str, what: &str, inset: &Inset) -> Option<String> {
    let (n, at) = inset.dropped();
    let at = at?;
    Some(format!(
        "{op}: {n} piece(s) of {what} could not be offset reliably (the result came closer to \
         the outline than the tool; the first near ({:.4}, {:.4}) mm) and are not cut; look for \
         tiny features or overlapping lines in the drawing there",
        at.x, at.y
    ))
}

/// Whether every segment of `p` keeps at least `d` (less twice the path tolerance) from the
/// segments in `grid`.
fn keeps_distance(
    p: &Pline,
    grid: &SegGrid,
    d: f64,
    tol: &Tolerance,
    seen: &mut (Vec<u32>, u32),
) -> bool {
    let limit = d - 2.0 * tol.path_mm;
    if limit <= 0.0 {
        return true;
    }
    p.iter_segments()
        .all(|(a, b)| grid.nearest_to_seg(a, b, seg_box(a, b), limit, seen) >= limit)
}

/// A closed loop offset by `dist` (positive: to the left of its direction, so a
/// counter-clockwise loop grows... see [`offset_loop`] tests), as closed loops.
pub fn offset_loop(p: &Pline, dist: f64, tol: &Tolerance) -> Vec<Pline> {
    // In units where the library's parallel test works (see `scaled`), then back.
    let s = scale_for([p]);
    let mut o = cavalier_contours::polyline::PlineOffsetOptions::new();
    o.pos_equal_eps = tol.equal_point_mm * s;
    o.offset_dist_eps = tol.path_mm * s;
    o.handle_self_intersects = false;
    scaled(p, s)
        .parallel_offset_opt(dist * s, &o)
        .into_iter()
        .map(|q| scaled(&q, 1.0 / s))
        .filter(|q| {
            !p.is_closed()
                || (q.is_closed() && q.area().abs() > tol.equal_point_mm * q.path_length())
        })
        .collect()
}

/// Reverses a loop in place if its orientation is not the wanted one.
pub fn orient(p: &mut Pline, ccw: bool) {
    if (p.area() > 0.0) != ccw {
        p.invert_direction_mut();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(s: f64) -> Pline {
        let mut p = Pline::new_closed();
        p.add(0.0, 0.0, 0.0);
        p.add(s, 0.0, 0.0);
        p.add(s, s, 0.0);
        p.add(0.0, s, 0.0);
        p
    }

    #[test]
    fn inset_shrinks_and_keeps_arcs_exact() {
        let mut hole = Pline::new_closed();
        hole.add(4.0, 5.0, -1.0);
        hole.add(6.0, 5.0, -1.0);
        let region = Region {
            outer: square(10.0),
            islands: vec![hole],
        };
        let tol = Tolerance::default();
        let c = inset_region(&region, 1.0, &tol);
        assert_eq!(c.len(), 1);
        let b = c[0].bbox;
        assert!((b.min.x - 1.0).abs() < 1e-12 && (b.max.x - 9.0).abs() < 1e-12);
        assert_eq!(c[0].holes.len(), 1);
        // The island circle of radius 1 grows to radius 2, still two arcs.
        let h = &c[0].holes[0];
        assert!((pline_bbox(h).width() - 4.0).abs() < 1e-12);
        assert!(h.iter_vertexes().all(|v| v.bulge != 0.0));
        assert!(c[0].contains(V2::new(1.5, 1.5)));
        assert!(!c[0].contains(V2::new(5.0, 5.0)));
        // Too narrow: nothing.
        assert!(inset_region(&region, 5.1, &tol).is_empty());
    }

    #[test]
    fn offset_loop_sign() {
        let tol = Tolerance::default();
        let out = offset_loop(&square(10.0), 1.0, &tol);
        assert_eq!(out.len(), 1);
        // Positive offsets move a counter-clockwise loop inward.
        assert!((pline_bbox(&out[0]).width() - 8.0).abs() < 1e-12);
        let out = offset_loop(&square(10.0), -1.0, &tol);
        assert!((pline_bbox(&out[0]).width() - 12.0).abs() < 1e-12);
    }

    /// A gear 1.2 mm across whose flanks are sampled every few micrometres (as gear programs
    /// write them): `cavalier_contours` took each joint of a flank for an overlap at this scale
    /// and its insets lost whole teeth (the pocket cut four fragments of a seven-tooth gear
    /// and said nothing). Every inset must be one piece with the area a coarse, independent
    /// estimate gives, and shrink as the distance grows.
    #[test]
    fn finely_sampled_micro_gear_insets_keep_every_tooth() {
        let teeth = 9;
        let (ra, rf) = (0.6, 0.45);
        let m = 60;
        let pitch = std::f64::consts::TAU / f64::from(teeth);
        let mut polar = Vec::new();
        for i in 0..teeth {
            let a0 = f64::from(i) * pitch;
            let s = |k: i32| f64::from(k) / f64::from(m);
            let bow = |s: f64| (s * std::f64::consts::FRAC_PI_2).sin();
            // Root arc, a curved flank up (a sharp corner where it starts), the tip arc, the
            // flank down; every piece sampled with `m` points, 2–7 µm apart.
            polar.extend((0..m).map(|k| (rf, a0 + 0.3 * pitch * s(k))));
            polar.extend(
                (0..m).map(|k| (rf + (ra - rf) * s(k), a0 + (0.3 + 0.08 * bow(s(k))) * pitch)),
            );
            polar.extend((0..m).map(|k| (ra, a0 + (0.38 + 0.24 * s(k)) * pitch)));
            polar.extend((0..m).map(|k| {
                let u = 1.0 - s(k);
                (
                    rf + (ra - rf) * u,
                    a0 + (0.62 + 0.08 * (1.0 - bow(u))) * pitch,
                )
            }));
        }
        let mut g = Pline::new_closed();
        for (r, a) in polar {
            g.add(r * a.cos(), r * a.sin(), 0.0);
        }
        let tol = Tolerance::default();
        // The inset's area by counting grid points at least `d` from the outline (a point is
        // inside the gear when its radius is below the profile's at its angle).
        let pts: Vec<V2> = g.iter_vertexes().map(|v| V2::new(v.x, v.y)).collect();
        let grid_area = |d: f64| {
            let h = 0.01;
            let mut count = 0;
            let k = (ra / h).ceil() as i32;
            for ix in -k..=k {
                for iy in -k..=k {
                    let q = V2::new(f64::from(ix) * h, f64::from(iy) * h);
                    if g.winding_number(q.into()) == 0 {
                        continue;
                    }
                    if pts.iter().all(|p| p.dist(q) >= d) {
                        count += 1;
                    }
                }
            }
            f64::from(count) * h * h
        };
        let mut last = f64::INFINITY;
        for d in [0.01, 0.025, 0.05, 0.1] {
            let comps = inset_loops([g.clone()], d, &tol);
            let area: f64 = comps.iter().map(|c| c.outer.area()).sum();
            let expect = grid_area(d);
            assert_eq!(comps.len(), 1, "inset at {d}: {} pieces", comps.len());
            assert!(
                (area - expect).abs() < 0.03 * expect + 0.005,
                "inset at {d}: area {area:.4} mm², the grid says {expect:.4}"
            );
            assert!(
                area < last,
                "inset at {d} is not smaller than the one before"
            );
            last = area;
        }
    }

    /// A component that fails the distance validation at every epsilon is left out, counted,
    /// and its place named for the warning (never dropped silently). The failure is made by
    /// validating against loops the offset did not see: a small square inside the plate.
    #[test]
    fn left_out_components_are_counted_and_named() {
        let tol = Tolerance::default();
        let plate = square(10.0);
        let mut inner = Pline::new_closed();
        for (x, y) in [(4.0, 4.0), (4.0, 6.0), (6.0, 6.0), (6.0, 4.0)] {
            inner.add(x, y, 0.0);
        }
        let mut inset = Inset::new([plate.clone()], &tol);
        inset.grid = SegGrid::new(&[plate, inner], 1.0);
        assert!(dropped_warning("pocket", "the rings", &inset).is_none());
        // The ring 1 mm in lies 3 mm from the square: kept. At 4.5 mm it is 0.5 mm away.
        assert_eq!(inset.at(1.0, &tol).len(), 1);
        assert_eq!(inset.dropped().0, 0);
        assert!(inset.at(4.5, &tol).is_empty());
        let w = dropped_warning("pocket", "the rings", &inset).expect("named");
        assert!(
            w.starts_with("pocket: 1 piece(s) of the rings") && w.contains("near ("),
            "{w}"
        );
    }
}
