//! Which closed geometry of a drawing an operation works on: the one rule the app, the CLI and
//! job files share.

use cavalier_contours::polyline::{PlineSource, PlineSourceMut};
use serde::{Deserialize, Serialize};

use super::contour::Side;
use crate::geometry::offset::orient;
use crate::geometry::{Pline, Region, Tolerance};
use crate::import::Drawing;

/// Which closed geometry an operation works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The drawing's regions (outer loop + islands), as nested.
    #[default]
    Regions,
    /// The holes of the outermost regions, each as a region of its own (pocket the recesses
    /// of a plate).
    Holes,
    /// The outer loops of the outermost regions (contour the parts' outlines).
    Outlines,
    /// Every closed loop, each on its own.
    Loops,
    /// The area between the regions, within their bounding box grown by
    /// [`BETWEEN_MARGIN_MM`]: a board's copper that is no track or pad (pocket or adaptive
    /// clear it, keeping the tool off the copper), the waste around parts.
    Between,
}

/// How far the area [`Target::Between`] reaches beyond the regions' bounding box, mm.
pub const BETWEEN_MARGIN_MM: f64 = 1.0;

/// The closed loops a contour on `side` follows on the target. On the line: every loop of the
/// target's regions. Outside or inside: one boundary per target element, so that the tool
/// never runs on the material side of an island: the regions' outer loops, the holes, the
/// outlines, or every loop.
pub fn contour_loops(d: &Drawing, target: Target, side: Side) -> Vec<Pline> {
    match (target, side) {
        (Target::Regions, Side::On) => d
            .regions
            .iter()
            .flat_map(|r| std::iter::once(r.outer.clone()).chain(r.islands.iter().cloned()))
            .collect(),
        (Target::Regions, _) => d.regions.iter().map(|r| r.outer.clone()).collect(),
        (Target::Holes, _) => d
            .regions
            .iter()
            .flat_map(|r| r.islands.iter().cloned())
            .collect(),
        (Target::Outlines, _) => target_regions(d, Target::Outlines)
            .into_iter()
            .map(|r| r.outer)
            .collect(),
        (Target::Loops, _) => d.closed_loops.clone(),
        (Target::Between, Side::On) => target_regions(d, Target::Between)
            .into_iter()
            .flat_map(|r| std::iter::once(r.outer).chain(r.islands))
            .collect(),
        (Target::Between, _) => target_regions(d, Target::Between)
            .into_iter()
            .map(|r| r.outer)
            .collect(),
    }
}

/// The box around the regions, grown by the margin, with every region cut out of it.
fn between(d: &Drawing) -> Vec<Region> {
    use crate::geometry::paint::{Shape, paint};
    let mut b = crate::geometry::Bbox2::EMPTY;
    for r in &d.regions {
        b.union(&r.bbox());
    }
    if b.is_empty() {
        return Vec::new();
    }
    let m = BETWEEN_MARGIN_MM;
    let mut frame = Pline::new_closed();
    frame.add(b.min.x - m, b.min.y - m, 0.0);
    frame.add(b.max.x + m, b.min.y - m, 0.0);
    frame.add(b.max.x + m, b.max.y + m, 0.0);
    frame.add(b.min.x - m, b.max.y + m, 0.0);
    let mut shapes = vec![Shape::dark(vec![frame])];
    for r in &d.regions {
        shapes.push(Shape {
            loops: std::iter::once(r.outer.clone())
                .chain(r.islands.iter().cloned())
                .collect(),
            dark: false,
        });
    }
    paint(&shapes, &Tolerance::default()).regions
}

/// The regions an operation's target selects.
pub fn target_regions(d: &Drawing, target: Target) -> Vec<Region> {
    let single = |l: &Pline| {
        let mut o = l.clone();
        orient(&mut o, true);
        Region {
            outer: o,
            islands: Vec::new(),
        }
    };
    match target {
        Target::Regions => d.regions.clone(),
        Target::Between => between(d),
        Target::Holes => {
            // Each hole with what lies inside it (a boss in a recess stays an island).
            let mut out = Vec::new();
            for r in &d.regions {
                for h in &r.islands {
                    let hole = single(h);
                    let hb = crate::geometry::pline_bbox(&hole.outer);
                    let inner: Vec<Pline> = d
                        .regions
                        .iter()
                        .filter(|o| {
                            let ob = o.bbox();
                            let v = o.outer.at(0);
                            hb.contains_box(&ob, 0.0)
                                && ob != hb
                                && hole.outer.winding_number(
                                    cavalier_contours::core::math::Vector2::new(v.x, v.y),
                                ) != 0
                        })
                        .flat_map(|o| {
                            std::iter::once(o.outer.clone()).chain(o.islands.iter().cloned())
                        })
                        .collect();
                    let loops = std::iter::once(hole.outer).chain(inner).collect();
                    out.extend(crate::geometry::nest_loops(loops, &Tolerance::default()));
                }
            }
            out
        }
        Target::Outlines => d
            .regions
            .iter()
            .filter(|r| {
                // Outermost parts only: a boss inside a recess is not an outline.
                let v = r.outer.at(0);
                let p = cavalier_contours::core::math::Vector2::new(v.x, v.y);
                !d.regions.iter().any(|o| {
                    !std::ptr::eq(o, *r)
                        && o.outer.area() > r.outer.area()
                        && o.outer.winding_number(p) != 0
                })
            })
            .map(|r| single(&r.outer))
            .collect(),
        Target::Loops => d.closed_loops.iter().map(single).collect(),
    }
}
