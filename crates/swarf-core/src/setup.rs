//! The stock the part is cut from (FreeCAD's Job stock, Fusion's Setup stock): a box from the
//! part's extent plus margins (the default, covering every copy of an array), an explicit box,
//! or a round bar (cylinder). The simulation cuts it, the view draws it, and an array's copies
//! must lie on it.

use serde::{Deserialize, Serialize};

use crate::geometry::{Bbox2, V2};

/// The stock as the job gives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "lowercase", deny_unknown_fields)]
pub enum Stock {
    /// The part's box (every copy's, and everything cut) grown by `margin_mm` in X and Y,
    /// from `bottom_mm` below the work zero (default: a little below the deepest cut) up to
    /// `top_mm` above it.
    Margins {
        #[serde(default = "one")]
        margin_mm: f64,
        #[serde(default)]
        top_mm: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bottom_mm: Option<f64>,
    },
    /// A block from `min_mm` to `max_mm` (X, Y, Z) in work coordinates.
    Box { min_mm: [f64; 3], max_mm: [f64; 3] },
    /// A round bar standing on Z: its axis at `centre_mm`, `diameter_mm` across, from
    /// `bottom_mm` below the work zero up to `top_mm` above it.
    Cylinder {
        centre_mm: [f64; 2],
        diameter_mm: f64,
        #[serde(default)]
        top_mm: f64,
        bottom_mm: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// The stock worked out for a job: where it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StockShape {
    Box {
        min: [f64; 3],
        max: [f64; 3],
    },
    Cylinder {
        centre: V2,
        radius: f64,
        z_min: f64,
        z_max: f64,
    },
}

/// Why the stock cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("stock: {0}")]
pub struct StockError(pub String);

impl std::str::FromStr for Stock {
    type Err = String;
    /// `margins:1` (mm, optionally `,top,bottom`), `box:x0,y0,z0,x1,y1,z1`,
    /// `cylinder:cx,cy,diameter,bottom` (optionally `,top`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, nums) = s.split_once(':').unwrap_or((s, ""));
        let v: Vec<f64> = nums
            .split(',')
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("stock '{s}': the values must be numbers of mm"))?;
        match (kind.trim(), v.as_slice()) {
            ("margins", []) => Ok(Stock::Margins {
                margin_mm: 1.0,
                top_mm: 0.0,
                bottom_mm: None,
            }),
            ("margins", [m]) => Ok(Stock::Margins {
                margin_mm: *m,
                top_mm: 0.0,
                bottom_mm: None,
            }),
            ("margins", [m, t, b]) => Ok(Stock::Margins {
                margin_mm: *m,
                top_mm: *t,
                bottom_mm: Some(*b),
            }),
            ("box", [x0, y0, z0, x1, y1, z1]) => Ok(Stock::Box {
                min_mm: [*x0, *y0, *z0],
                max_mm: [*x1, *y1, *z1],
            }),
            ("cylinder", [cx, cy, d, b]) => Ok(Stock::Cylinder {
                centre_mm: [*cx, *cy],
                diameter_mm: *d,
                top_mm: 0.0,
                bottom_mm: *b,
            }),
            ("cylinder", [cx, cy, d, b, t]) => Ok(Stock::Cylinder {
                centre_mm: [*cx, *cy],
                diameter_mm: *d,
                top_mm: *t,
                bottom_mm: *b,
            }),
            _ => Err(format!(
                "stock '{s}': use margins:MM[,TOP,BOTTOM], box:X0,Y0,Z0,X1,Y1,Z1 or cylinder:CX,CY,DIAMETER,BOTTOM[,TOP]"
            )),
        }
    }
}

impl Stock {
    /// Where the stock is. `extent` is the box of every copy's part and of everything cut
    /// (tool edge included), `deepest` the lowest cut (mm, ≤ 0), `part_bottom` a mesh's
    /// lowest point.
    pub fn resolve(
        &self,
        extent: Bbox2,
        deepest: f64,
        part_bottom: Option<f64>,
    ) -> Result<StockShape, StockError> {
        let bad = |m: String| Err(StockError(m));
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        match *self {
            Stock::Margins {
                margin_mm,
                top_mm,
                bottom_mm,
            } => {
                if !(finite(&[margin_mm, top_mm]) && margin_mm >= 0.0) {
                    return bad(format!(
                        "margin {margin_mm} mm: give 0 or more (and a top in mm)"
                    ));
                }
                if extent.is_empty() {
                    return bad("nothing to put stock around: the part is empty".into());
                }
                let bottom = match bottom_mm {
                    Some(b) if b.is_finite() && b > 0.0 => -b,
                    Some(b) => {
                        return bad(format!(
                            "bottom {b} mm: the stock's thickness below the work zero, more than 0"
                        ));
                    }
                    None => default_bottom(extent, deepest, part_bottom),
                };
                Ok(StockShape::Box {
                    min: [extent.min.x - margin_mm, extent.min.y - margin_mm, bottom],
                    max: [extent.max.x + margin_mm, extent.max.y + margin_mm, top_mm],
                })
            }
            Stock::Box { min_mm, max_mm } => {
                if !(finite(&min_mm) && finite(&max_mm)) || (0..3).any(|i| max_mm[i] <= min_mm[i]) {
                    return bad(format!(
                        "box {min_mm:?} to {max_mm:?}: each maximum must be above its minimum"
                    ));
                }
                Ok(StockShape::Box {
                    min: min_mm,
                    max: max_mm,
                })
            }
            Stock::Cylinder {
                centre_mm,
                diameter_mm,
                top_mm,
                bottom_mm,
            } => {
                if !(finite(&[centre_mm[0], centre_mm[1], diameter_mm, top_mm, bottom_mm])
                    && diameter_mm > 0.0
                    && bottom_mm > 0.0)
                {
                    return bad(format!(
                        "cylinder of {diameter_mm} mm, {bottom_mm} mm below zero: both more than 0"
                    ));
                }
                Ok(StockShape::Cylinder {
                    centre: V2::new(centre_mm[0], centre_mm[1]),
                    radius: diameter_mm * 0.5,
                    z_min: -bottom_mm,
                    z_max: top_mm,
                })
            }
        }
    }
}

/// A little below the deepest cut (or a mesh's bottom): what the simulation has always used.
pub fn default_bottom(extent: Bbox2, deepest: f64, part_bottom: Option<f64>) -> f64 {
    let below = 0.1 * (extent.width().max(extent.height())).min(1.0);
    deepest.min(part_bottom.unwrap_or(0.0)) - below
}

impl StockShape {
    /// One line for the header.
    pub fn describe(&self) -> String {
        match *self {
            StockShape::Box { min, max } => format!(
                "stock: box X{:.4}..{:.4} Y{:.4}..{:.4} Z{:.4}..{:.4} mm",
                min[0], max[0], min[1], max[1], min[2], max[2]
            ),
            StockShape::Cylinder {
                centre,
                radius,
                z_min,
                z_max,
            } => format!(
                "stock: round bar D{:.4} at X{:.4} Y{:.4}, Z{:.4}..{:.4} mm",
                radius * 2.0,
                centre.x,
                centre.y,
                z_min,
                z_max
            ),
        }
    }

    /// The XY box it covers.
    pub fn bbox(&self) -> Bbox2 {
        match *self {
            StockShape::Box { min, max } => Bbox2 {
                min: V2::new(min[0], min[1]),
                max: V2::new(max[0], max[1]),
            },
            StockShape::Cylinder { centre, radius, .. } => Bbox2 {
                min: centre - V2::new(radius, radius),
                max: centre + V2::new(radius, radius),
            },
        }
    }

    /// Z from … to.
    pub fn z_range(&self) -> (f64, f64) {
        match *self {
            StockShape::Box { min, max } => (min[2], max[2]),
            StockShape::Cylinder { z_min, z_max, .. } => (z_min, z_max),
        }
    }

    /// Whether the XY point is on the stock.
    pub fn contains(&self, p: V2) -> bool {
        self.outside_by(p) <= 0.0
    }

    /// How far the XY point lies outside the stock (≤ 0 on it).
    pub fn outside_by(&self, p: V2) -> f64 {
        match *self {
            StockShape::Box { min, max } => {
                let dx = (min[0] - p.x).max(p.x - max[0]);
                let dy = (min[1] - p.y).max(p.y - max[1]);
                dx.max(dy)
            }
            StockShape::Cylinder { centre, radius, .. } => (p - centre).length() - radius,
        }
    }
}

/// A piece of a part's outline, for the exact "does it lie on the stock" test: a point (a
/// vertex, a mesh's vertex) or an arc (its ends are points of their own).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutlinePiece {
    Point(V2),
    Arc {
        centre: V2,
        radius: f64,
        start: f64,
        sweep: f64,
    },
}

/// The pieces of `model`'s outline: every loop and chain (vertices and arcs) of a drawing,
/// every vertex of a mesh.
pub fn outline_of(model: &crate::import::Model) -> Vec<OutlinePiece> {
    match model {
        crate::import::Model::Drawing(d) => drawing_outline(d),
        crate::import::Model::Mesh(m) => m
            .mesh
            .vertices
            .iter()
            .map(|v| OutlinePiece::Point(V2::new(v[0], v[1])))
            .collect(),
    }
}

/// A drawing's loops and chains as outline pieces: every vertex, every arc.
pub fn drawing_outline(d: &crate::import::Drawing) -> Vec<OutlinePiece> {
    use crate::geometry::biarc::arc_from_bulge;
    let mut out = Vec::new();
    for pl in d.closed_loops.iter().chain(&d.open_chains) {
        let n = pl.vertex_data.len();
        let segs = if pl.is_closed { n } else { n.saturating_sub(1) };
        for (i, v) in pl.vertex_data.iter().enumerate() {
            out.push(OutlinePiece::Point(V2::new(v.x, v.y)));
            if i < segs && v.bulge != 0.0 {
                let w = pl.vertex_data[(i + 1) % n];
                let (centre, radius, start, sweep) =
                    arc_from_bulge(V2::new(v.x, v.y), V2::new(w.x, w.y), v.bulge);
                out.push(OutlinePiece::Arc {
                    centre,
                    radius,
                    start,
                    sweep,
                });
            }
        }
    }
    out
}

impl OutlinePiece {
    /// The piece's furthest point along direction `u` (a unit vector), where the piece
    /// reaches further that way than its ends (an arc's inner point); `None` for a point or
    /// an arc whose sweep does not hold `u`.
    pub fn extreme_along(&self, u: V2) -> Option<V2> {
        match *self {
            OutlinePiece::Point(_) => None,
            OutlinePiece::Arc {
                centre,
                radius,
                start,
                sweep,
            } => on_arc(u.angle(), start, sweep).then(|| centre + u * radius),
        }
    }
}

/// Whether direction `a` (radians) lies on the arc that starts at `start` and sweeps `sweep`.
fn on_arc(a: f64, start: f64, sweep: f64) -> bool {
    let rel = if sweep > 0.0 {
        (a - start).rem_euclid(std::f64::consts::TAU)
    } else {
        (start - a).rem_euclid(std::f64::consts::TAU)
    };
    rel <= sweep.abs()
}

impl StockShape {
    /// How far the outline (already placed) reaches outside the stock, exactly: a box is
    /// tested with each piece's furthest point along ±X and ±Y, a round bar with each piece's
    /// furthest point from its axis. ≤ 0 when it lies on the stock.
    pub fn outside_by_outline(&self, pieces: &[OutlinePiece]) -> f64 {
        let mut worst = f64::NEG_INFINITY;
        for p in pieces {
            let d = match *p {
                OutlinePiece::Point(q) => self.outside_by(q),
                OutlinePiece::Arc { centre, start, .. } => {
                    let dirs: Vec<V2> = match *self {
                        StockShape::Box { .. } => vec![
                            V2::new(1.0, 0.0),
                            V2::new(-1.0, 0.0),
                            V2::new(0.0, 1.0),
                            V2::new(0.0, -1.0),
                        ],
                        StockShape::Cylinder { centre: axis, .. } => {
                            let away = centre - axis;
                            if away.length() < 1e-12 {
                                vec![V2::from_angle(start)]
                            } else {
                                vec![away * (1.0 / away.length())]
                            }
                        }
                    };
                    dirs.into_iter()
                        .filter_map(|u| p.extreme_along(u))
                        .map(|q| self.outside_by(q))
                        .fold(f64::NEG_INFINITY, f64::max)
                }
            };
            worst = worst.max(d);
        }
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part() -> Bbox2 {
        Bbox2 {
            min: V2::new(-4.0, -3.0),
            max: V2::new(4.0, 3.0),
        }
    }

    #[test]
    fn stocks_are_read_from_text_and_resolved() {
        let m: Stock = "margins:2".parse().unwrap();
        let StockShape::Box { min, max } = m.resolve(part(), -0.5, None).unwrap() else {
            panic!()
        };
        assert_eq!(
            [min[0], min[1], max[0], max[1], max[2]],
            [-6.0, -5.0, 6.0, 5.0, 0.0]
        );
        assert!(min[2] < -0.5);
        let b: Stock = "box:-10,-10,-3,10,10,0.2".parse().unwrap();
        assert_eq!(
            b.resolve(part(), -0.5, None).unwrap().z_range(),
            (-3.0, 0.2)
        );
        let c: Stock = "cylinder:0,0,20,5".parse().unwrap();
        let s = c.resolve(part(), -0.5, None).unwrap();
        assert!(s.contains(V2::new(9.9, 0.0)) && !s.contains(V2::new(7.1, 7.1)));
        assert!((s.outside_by(V2::new(13.0, 0.0)) - 3.0).abs() < 1e-12);
        for bad in ["sphere:3", "box:1,2,3", "margins:x", "cylinder:0,0,20"] {
            assert!(bad.parse::<Stock>().is_err(), "{bad}");
        }
        let e = Stock::Box {
            min_mm: [0.0; 3],
            max_mm: [1.0, -1.0, 1.0],
        }
        .resolve(part(), 0.0, None)
        .unwrap_err();
        assert!(e.to_string().contains("above its minimum"), "{e}");
        let e = Stock::Cylinder {
            centre_mm: [0.0; 2],
            diameter_mm: 0.0,
            top_mm: 0.0,
            bottom_mm: 2.0,
        }
        .resolve(part(), 0.0, None)
        .unwrap_err();
        assert!(e.to_string().contains("more than 0"), "{e}");
    }

    #[test]
    fn stocks_round_trip_through_toml() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct W {
            stock: Stock,
        }
        for s in [
            "margins:1.5,0.1,3",
            "box:-1,-2,-3,4,5,0",
            "cylinder:1,2,30,4,0.5",
        ] {
            let w = W {
                stock: s.parse().unwrap(),
            };
            let t = toml::to_string(&w).unwrap();
            assert_eq!(toml::from_str::<W>(&t).unwrap(), w, "{t}");
        }
        assert!(
            toml::from_str::<W>(
                "[stock]\nshape = \"box\"\nmin_mm = [0,0,0]\nmax_mm = [1,1,1]\nextra = 1\n"
            )
            .is_err()
        );
    }
}
