//! The part's size and pose: a uniform scale (a factor or a target width or height), per-axis
//! factors for shrink compensation, a mirror and a turn by any angle, all about the work
//! origin and applied once, after import, so every operation, the checks and the view see the
//! part at its final size.
//!
//! Under a uniform scale, a turn and a mirror every line stays a line and every arc an arc of
//! the same sweep, exactly. Under different X and Y factors a circle becomes an ellipse: each
//! arc is taken as the elliptical arc it becomes and fitted with biarcs within the path
//! tolerance (the fitting the DXF importer uses for ellipses and splines). A mesh is scaled in
//! Z too; a drawing is flat, so its depths stay the operations' own and a Z factor other than
//! 1 is refused for it.

use serde::{Deserialize, Serialize};

use crate::geometry::biarc::{arc_from_bulge, fit_curve};
use crate::geometry::{Affine2, Bbox2, EllipseArc, Pline, Tolerance, V2, reversed};
use crate::import::{Drawing, Model};

/// Which coordinate a mirror negates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mirror {
    /// X negated: left and right swapped.
    X,
    /// Y negated: front and back swapped.
    Y,
}

impl std::str::FromStr for Mirror {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "x" => Ok(Mirror::X),
            "y" => Ok(Mirror::Y),
            o => Err(format!(
                "mirror '{o}': x (left and right swapped) or y (front and back)"
            )),
        }
    }
}

/// Size and pose of the part, applied in this order about the work origin: the uniform
/// factor (`scale`, or the one that makes the part `fit_width_mm` wide or `fit_height_mm`
/// deep), then the per-axis factors, the mirror, the turn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Resize {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// X, Y, Z factors (shrink compensation: nominal / measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_xyz: Option<[f64; 3]>,
    /// Scale (keeping proportions) so the part is this wide along X, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_width_mm: Option<f64>,
    /// Scale (keeping proportions) so the part is this deep along Y, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_height_mm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Mirror>,
    /// Counter-clockwise turn about Z, degrees.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rotate_deg: f64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if takes a reference
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Why a size cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("size: {0}")]
pub struct ResizeError(pub String);

/// The transform worked out for one part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Applied {
    pub xy: Affine2,
    pub z: f64,
    /// The uniform factor and the per-axis ones it was combined with.
    pub uniform: f64,
    pub per_axis: [f64; 3],
}

const FACTOR_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e3;

impl Resize {
    pub fn is_identity(&self) -> bool {
        *self == Resize::default()
    }

    fn check(&self) -> Result<(), ResizeError> {
        let bad = |m: String| Err(ResizeError(m));
        let given = [
            self.scale.is_some(),
            self.fit_width_mm.is_some(),
            self.fit_height_mm.is_some(),
        ]
        .iter()
        .filter(|&&b| b)
        .count();
        if given > 1 {
            return bad("give one of scale, fit width and fit height".into());
        }
        if let Some(s) = self.scale
            && !(s.is_finite() && FACTOR_RANGE.contains(&s))
        {
            return bad(format!("scale {s}: use a factor from 0.001 to 1000"));
        }
        if let Some(f) = self.scale_xyz
            && let Some(b) = f
                .iter()
                .find(|v| !(v.is_finite() && FACTOR_RANGE.contains(*v)))
        {
            return bad(format!(
                "per-axis factor {b}: each of X, Y, Z from 0.001 to 1000 (mirror with mirror, not a negative factor)"
            ));
        }
        for (name, v) in [
            ("fit width", self.fit_width_mm),
            ("fit height", self.fit_height_mm),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return bad(format!("{name} {v} mm: it must be more than 0"));
            }
        }
        if !self.rotate_deg.is_finite() {
            return bad("rotate: a number of degrees".into());
        }
        Ok(())
    }

    /// The transform for a part whose exact outline box (before sizing) is `bbox`.
    pub fn applied(&self, bbox: Bbox2) -> Result<Applied, ResizeError> {
        self.check()?;
        let uniform = match (self.scale, self.fit_width_mm, self.fit_height_mm) {
            (Some(s), _, _) => s,
            (None, Some(w), _) => {
                if bbox.is_empty() || bbox.width() < 1e-9 {
                    return Err(ResizeError(
                        "fit width: the part has no width to scale".into(),
                    ));
                }
                w / bbox.width()
            }
            (None, None, Some(h)) => {
                if bbox.is_empty() || bbox.height() < 1e-9 {
                    return Err(ResizeError(
                        "fit height: the part has no depth to scale".into(),
                    ));
                }
                h / bbox.height()
            }
            (None, None, None) => 1.0,
        };
        let per_axis = self.scale_xyz.unwrap_or([1.0; 3]);
        let mut xy = Affine2::scale(uniform * per_axis[0], uniform * per_axis[1]);
        match self.mirror {
            Some(Mirror::X) => xy = Affine2::scale(-1.0, 1.0).then_after(&xy),
            Some(Mirror::Y) => xy = Affine2::scale(1.0, -1.0).then_after(&xy),
            None => {}
        }
        if self.rotate_deg != 0.0 {
            xy = Affine2::rotate(self.rotate_deg.to_radians()).then_after(&xy);
        }
        Ok(Applied {
            xy,
            z: uniform * per_axis[2],
            uniform,
            per_axis,
        })
    }

    /// One line for the summary (with the factor a fit worked out, when known) and the
    /// program header.
    pub fn describe(&self, a: Option<&Applied>) -> String {
        let mut parts = Vec::new();
        let factor = a.map_or(String::new(), |a| format!("x{}", fmt_factor(a.uniform)));
        match (self.scale, self.fit_width_mm, self.fit_height_mm) {
            (Some(s), _, _) if s != 1.0 => parts.push(format!("scaled x{}", fmt_factor(s))),
            (_, Some(w), _) => parts.push(format!("scaled {factor} to {w} mm wide")),
            (_, _, Some(h)) => parts.push(format!("scaled {factor} to {h} mm deep")),
            _ => {}
        }
        if let Some([x, y, z]) = self.scale_xyz {
            parts.push(format!(
                "per axis X x{} Y x{} Z x{}",
                fmt_factor(x),
                fmt_factor(y),
                fmt_factor(z)
            ));
        }
        match self.mirror {
            Some(Mirror::X) => parts.push("mirrored in X".into()),
            Some(Mirror::Y) => parts.push("mirrored in Y".into()),
            None => {}
        }
        if self.rotate_deg != 0.0 {
            parts.push(format!("turned {} deg", fmt_factor(self.rotate_deg)));
        }
        format!(
            "part size: {} (about the work origin)",
            parts.join(", ").replace("scaled  to", "scaled to")
        )
    }

    /// Sizes `model` in place; the line that says what was done, or `None` for no change.
    pub fn apply(&self, model: &mut Model, tol: &Tolerance) -> Result<Option<String>, ResizeError> {
        if self.is_identity() {
            return Ok(None);
        }
        let a = self.applied(part_box(model))?;
        if let Model::Drawing(_) = model
            && a.per_axis[2] != 1.0
        {
            return Err(ResizeError(format!(
                "a drawing is flat: its Z factor x{} cannot be applied; set the operations' depths instead and give Z as 1",
                fmt_factor(a.per_axis[2])
            )));
        }
        let line = self.describe(Some(&a));
        match model {
            Model::Drawing(d) => {
                let err = transform_drawing(d, &a.xy, tol);
                if err > 0.0 {
                    d.warnings.push(format!(
                        "size: X and Y scaled differently, so arcs became ellipses, fitted with arcs within {err:.6} mm"
                    ));
                }
                if a.uniform != 1.0 {
                    d.warnings.push(
                        "size: a drawing is flat, so only X and Y were scaled; the depths are the operations' own".into(),
                    );
                }
            }
            Model::Mesh(m) => {
                let t = a.xy;
                for v in &mut m.mesh.vertices {
                    let p = t.apply(V2::new(v[0], v[1]));
                    *v = [p.x, p.y, v[2] * a.z];
                }
                if t.is_mirroring() {
                    // Keep the facets facing out.
                    for tri in &mut m.mesh.triangles {
                        tri.swap(1, 2);
                    }
                }
            }
        }
        Ok(Some(line))
    }
}

fn fmt_factor(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// The part's outline box: a drawing's exactly (arcs' extremes included), a mesh's in X and Y.
pub fn part_box(model: &Model) -> Bbox2 {
    match model {
        Model::Drawing(d) => exact_bbox(d),
        Model::Mesh(m) => {
            let mut b = Bbox2::EMPTY;
            for v in &m.mesh.vertices {
                b.add_point(V2::new(v[0], v[1]));
            }
            b
        }
    }
}

/// The box of every loop and chain with arcs' extreme points, not only their ends.
pub fn exact_bbox(d: &Drawing) -> Bbox2 {
    use crate::setup::OutlinePiece;
    let axes = [
        V2::new(1.0, 0.0),
        V2::new(-1.0, 0.0),
        V2::new(0.0, 1.0),
        V2::new(0.0, -1.0),
    ];
    let mut b = Bbox2::EMPTY;
    for piece in crate::setup::drawing_outline(d) {
        if let OutlinePiece::Point(p) = piece {
            b.add_point(p);
        }
        for u in axes {
            if let Some(p) = piece.extreme_along(u) {
                b.add_point(p);
            }
        }
    }
    b
}

/// `pl` under `t`: exact where `t` keeps circles circles, else its arcs fitted as ellipses.
/// The largest fitting error is returned with it.
fn transform_pline(pl: &Pline, t: &Affine2, tol: &Tolerance) -> (Pline, f64) {
    let mirror = t.is_mirroring();
    let mut out = pl.clone();
    let mut err: f64 = 0.0;
    if t.similarity_scale(1e-12).is_some() {
        for v in &mut out.vertex_data {
            let p = t.apply(V2::new(v.x, v.y));
            v.x = p.x;
            v.y = p.y;
            if mirror {
                v.bulge = -v.bulge;
            }
        }
    } else {
        let src = &pl.vertex_data;
        let n = src.len();
        let segs = if pl.is_closed { n } else { n.saturating_sub(1) };
        let mut verts = Vec::with_capacity(n * 2);
        if let Some(v0) = src.first() {
            let p = t.apply(V2::new(v0.x, v0.y));
            verts.push(cavalier_contours::polyline::PlineVertex::new(p.x, p.y, 0.0));
        }
        for i in 0..segs {
            let v = src[i];
            let w = src[(i + 1) % n];
            let (a, b) = (V2::new(v.x, v.y), V2::new(w.x, w.y));
            if v.bulge == 0.0 {
                let p = t.apply(b);
                verts.push(cavalier_contours::polyline::PlineVertex::new(p.x, p.y, 0.0));
                continue;
            }
            let (c, r, a0, sweep) = arc_from_bulge(a, b, v.bulge);
            let u = V2::from_angle(a0) * r;
            let side = V2::from_angle(a0).perp() * (r * sweep.signum());
            let e = EllipseArc {
                centre: c,
                u,
                v: side,
                t0: 0.0,
                t1: sweep.abs(),
            }
            .transformed(t);
            let rep = fit_curve(&e, tol.path_mm, tol.equal_point_mm, &mut verts);
            err = err.max(rep.max_error_mm);
        }
        if pl.is_closed && verts.len() > 1 {
            verts.pop();
        }
        out.vertex_data = verts;
    }
    if mirror {
        out = reversed(&out);
    }
    (out, err)
}

/// Applies `t` to every loop, chain and region of `d`; the largest arc-fitting error.
fn transform_drawing(d: &mut Drawing, t: &Affine2, tol: &Tolerance) -> f64 {
    let mut err: f64 = 0.0;
    let mut map = |pl: &mut Pline| {
        let (p, e) = transform_pline(pl, t, tol);
        *pl = p;
        err = err.max(e);
    };
    d.closed_loops.iter_mut().for_each(&mut map);
    d.open_chains.iter_mut().for_each(&mut map);
    for r in &mut d.regions {
        map(&mut r.outer);
        r.islands.iter_mut().for_each(&mut map);
    }
    let mut b = Bbox2::EMPTY;
    for p in d.closed_loops.iter().chain(&d.open_chains) {
        b.union(&crate::geometry::pline_bbox(p));
    }
    d.bbox = b;
    d.max_fit_error_mm = d.max_fit_error_mm.max(err);
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{ImportOptions, Source, load};

    fn example() -> Model {
        load(
            Source::Bytes {
                name: "example_plate.dxf",
                bytes: crate::EXAMPLE_DXF.as_bytes(),
            },
            &ImportOptions::default(),
        )
        .unwrap()
    }

    fn area(m: &Model) -> f64 {
        m.drawing()
            .unwrap()
            .regions
            .iter()
            .map(crate::geometry::Region::area)
            .sum()
    }

    #[test]
    fn a_uniform_scale_turn_and_mirror_keep_arcs_and_scale_areas_exactly() {
        let tol = Tolerance::default();
        let before = example();
        let a0 = area(&before);
        let arcs0: usize = before
            .drawing()
            .unwrap()
            .closed_loops
            .iter()
            .map(crate::geometry::arc_count)
            .sum();
        let mut m = before.clone();
        let r = Resize {
            scale: Some(1.015),
            mirror: Some(Mirror::X),
            rotate_deg: 37.0,
            ..Resize::default()
        };
        let line = r.apply(&mut m, &tol).unwrap().unwrap();
        assert!(line.contains("x1.015") && line.contains("mirrored in X") && line.contains("37"));
        let d = m.drawing().unwrap();
        let arcs: usize = d.closed_loops.iter().map(crate::geometry::arc_count).sum();
        assert_eq!(arcs, arcs0, "arcs stay arcs");
        assert!(
            (area(&m) - a0 * 1.015 * 1.015).abs() < 1e-9 * a0,
            "{} vs {}",
            area(&m),
            a0 * 1.015 * 1.015
        );
        // Regions keep their orientation (outer counter-clockwise) after the mirror.
        for reg in &d.regions {
            assert!(cavalier_contours::polyline::PlineSource::area(&reg.outer) > 0.0);
        }
    }

    #[test]
    fn fit_width_gives_the_exact_width() {
        let tol = Tolerance::default();
        let mut m = example();
        let r = Resize {
            fit_width_mm: Some(12.0),
            ..Resize::default()
        };
        r.apply(&mut m, &tol).unwrap();
        let b = exact_bbox(m.drawing().unwrap());
        assert!((b.width() - 12.0).abs() < 1e-9, "{}", b.width());
    }

    #[test]
    fn a_per_axis_scale_turns_a_circle_into_an_ellipse_within_the_tolerance() {
        let tol = Tolerance::default();
        let dxf = "0\nSECTION\n2\nENTITIES\n0\nCIRCLE\n8\n0\n10\n0\n20\n0\n30\n0\n40\n5\n0\nENDSEC\n0\nEOF\n";
        let mut m = load(
            Source::Bytes {
                name: "c.dxf",
                bytes: dxf.as_bytes(),
            },
            &ImportOptions::default(),
        )
        .unwrap();
        let (sx, sy) = (1.012, 0.988);
        let r = Resize {
            scale_xyz: Some([sx, sy, 1.0]),
            ..Resize::default()
        };
        r.apply(&mut m, &tol).unwrap();
        let d = m.drawing().unwrap();
        assert_eq!(d.closed_loops.len(), 1);
        let pl = &d.closed_loops[0];
        // Sample the fitted arcs densely: every point lies on the exact ellipse within the
        // path tolerance.
        let n = pl.vertex_data.len();
        let mut worst: f64 = 0.0;
        for i in 0..n {
            let v = pl.vertex_data[i];
            let w = pl.vertex_data[(i + 1) % n];
            let (a, b) = (V2::new(v.x, v.y), V2::new(w.x, w.y));
            let pts: Vec<V2> = if v.bulge == 0.0 {
                (0..=20).map(|k| a.lerp(b, f64::from(k) / 20.0)).collect()
            } else {
                let (c, rr, a0, sweep) = arc_from_bulge(a, b, v.bulge);
                (0..=20)
                    .map(|k| c + V2::from_angle(a0 + sweep * f64::from(k) / 20.0) * rr)
                    .collect()
            };
            for p in pts {
                // Distance to the ellipse x²/A² + y²/B² = 1, A = 5 sx, B = 5 sy: the
                // algebraic distance scaled by the gradient is accurate this close.
                let (ea, eb) = (5.0 * sx, 5.0 * sy);
                let f = (p.x / ea).powi(2) + (p.y / eb).powi(2) - 1.0;
                let g = V2::new(2.0 * p.x / (ea * ea), 2.0 * p.y / (eb * eb)).length();
                worst = worst.max((f / g).abs());
            }
        }
        assert!(worst <= tol.path_mm * 1.01, "{worst}");
        assert!(worst > 0.0);
        let b = exact_bbox(d);
        assert!((b.width() - 10.0 * sx).abs() < tol.path_mm * 2.0);
        assert!((b.height() - 10.0 * sy).abs() < tol.path_mm * 2.0);
    }

    #[test]
    fn meshes_scale_per_axis_and_mirrors_keep_facets_facing_out() {
        let tol = Tolerance::default();
        let mesh = crate::samples::box_mesh([0.0, 0.0, -1.0], [2.0, 3.0, 0.0]);
        let bytes = mesh.to_binary_stl("box");
        let mut m = load(
            Source::Bytes {
                name: "box.stl",
                bytes: &bytes,
            },
            &ImportOptions::default(),
        )
        .unwrap();
        let volume = |m: &Model| -> f64 {
            let mesh = m.mesh().unwrap();
            mesh.triangles
                .iter()
                .map(|t| {
                    let [a, b, c] = t.map(|i| mesh.vertices[i as usize]);
                    (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                        + a[2] * (b[0] * c[1] - b[1] * c[0]))
                        / 6.0
                })
                .sum()
        };
        let vol0 = volume(&m);
        assert!(vol0 > 0.0);
        let r = Resize {
            scale_xyz: Some([1.5, 1.0, 2.0]),
            mirror: Some(Mirror::Y),
            ..Resize::default()
        };
        r.apply(&mut m, &tol).unwrap();
        let vol = volume(&m);
        assert!(
            (vol - vol0 * 3.0).abs() < 1e-9 * vol0.abs(),
            "{vol} vs {vol0}"
        );
    }

    #[test]
    fn bad_sizes_are_refused_by_name() {
        let b = Bbox2 {
            min: V2::new(0.0, 0.0),
            max: V2::new(1.0, 1.0),
        };
        let e = |r: Resize| r.applied(b).unwrap_err().to_string();
        assert!(
            e(Resize {
                scale: Some(0.0),
                ..Resize::default()
            })
            .contains("0.001 to 1000")
        );
        assert!(
            e(Resize {
                scale: Some(2.0),
                fit_width_mm: Some(3.0),
                ..Resize::default()
            })
            .contains("one of")
        );
        assert!(
            e(Resize {
                scale_xyz: Some([1.0, -1.0, 1.0]),
                ..Resize::default()
            })
            .contains("mirror")
        );
        assert!(
            e(Resize {
                fit_width_mm: Some(-2.0),
                ..Resize::default()
            })
            .contains("more than 0")
        );
    }
}
