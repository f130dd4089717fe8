//! What the clearing operations (pocket, adaptive, and z-level roughing through them) share:
//! rest machining's regions, the Z levels with the floor-finishing level, and the messages
//! that name a region.

use super::{CutParams, OpError, param_err, z_levels};
use crate::geometry::offset::{inset_loops, inset_region};
use crate::geometry::{Pline, Region, Tolerance, nest_loops};

/// What a tool of radius `r` has left to cut in `regions` after a tool of diameter `big`
/// pocketed them (down to the walls): the regions with the area the big tool cleared, less a
/// band of `2r`, taken out as islands.
///
/// The big tool's centres cover `E` = the regions inset by `big/2`; it cleared `E` grown by
/// `big/2`. `K` = `E` grown by `big/2 − 2r` lies at least `2r` inside that: a small-tool disc
/// that touches `K` only touches cleared material, so pocketing the regions minus `K` reaches
/// everything the big tool left, and along walls the big tool reached (a band `2r` wide) the
/// small tool has no room and cuts nothing. Offsets only (no polygon booleans): `K` never
/// touches the regions' loops, so its loops nest as islands.
pub fn rest_regions(regions: &[Region], big: f64, r: f64, tol: &Tolerance) -> Vec<Region> {
    let rb = big * 0.5;
    // A hair less than 2r, so a straight wall's band is just too narrow for the small tool.
    let grow = rb - 2.0 * r + 2.0 * tol.path_mm;
    let mut out = Vec::new();
    for region in regions {
        let e = inset_region(region, rb, tol);
        let e_loops: Vec<Pline> = e.iter().flat_map(|c| c.loops().cloned()).collect();
        let k = if e_loops.is_empty() {
            Vec::new()
        } else if grow.abs() <= tol.equal_point_mm {
            e
        } else {
            // All of E at once, so pieces that grow into each other merge.
            inset_loops(e_loops, -grow, tol)
        };
        let mut loops = vec![region.outer.clone()];
        loops.extend(region.islands.iter().cloned());
        for c in &k {
            loops.extend(c.loops().cloned());
        }
        out.extend(nest_loops(loops, tol));
    }
    out
}

/// The regions a clearing operation cuts: all of them, or with rest machining after a tool of
/// diameter `rest_from` what that tool left ([`rest_regions`]). In rest machining a leftover
/// too thin for this tool is expected (the band along walls the big tool reached); only a
/// part region this tool cannot enter at all is worth a warning. `(d, allowance)`: this tool's
/// diameter and the radial allowance.
pub(crate) fn rest_or_all<'a>(
    op: &'static str,
    regions: &'a [Region],
    rest_from: Option<f64>,
    (d, allowance): (f64, f64),
    tol: &Tolerance,
    warnings: &mut Vec<String>,
) -> Result<std::borrow::Cow<'a, [Region]>, OpError> {
    let Some(big) = rest_from else {
        return Ok(std::borrow::Cow::Borrowed(regions));
    };
    if !(big.is_finite() && big > d) {
        return Err(param_err(
            op,
            "rest_from_diameter_mm",
            format!(
                "is {big} mm; rest machining needs the earlier tool to be larger than this one \
                 ({d} mm)"
            ),
        ));
    }
    for (ri, region) in regions.iter().enumerate() {
        if inset_region(region, 0.5 * d + allowance, tol).is_empty() {
            warnings.push(narrow_warning(op, &region_name(ri, region), d, allowance));
        }
    }
    Ok(std::borrow::Cow::Owned(rest_regions(
        regions,
        big,
        0.5 * d,
        tol,
    )))
}

/// The Z levels of a clearing operation, top down, each with whether it is the floor-finishing
/// level (at the final depth, after the others stopped the axial allowance above it).
pub(crate) fn clearing_levels(cut: &CutParams, tol: &Tolerance) -> Vec<(f64, bool)> {
    let (h, stepdown, allowance_axial) = (&cut.heights, cut.stepdown_mm, cut.allowance_axial_mm);
    let z_floor = -h.final_depth_mm;
    let mut levels: Vec<(f64, bool)> = z_levels(
        -h.start_depth_mm,
        z_floor + allowance_axial,
        stepdown,
        tol.path_mm,
    )
    .into_iter()
    .map(|z| (z, false))
    .collect();
    if allowance_axial > 0.0 {
        levels.push((z_floor, true));
    }
    levels
}

/// "region 3 (1.2000 x 0.8000 mm at (2.0000, 1.0000))", for messages.
pub(crate) fn region_name(ri: usize, region: &Region) -> String {
    let rb = region.bbox();
    format!(
        "region {ri} ({:.4} x {:.4} mm at ({:.4}, {:.4}))",
        rb.width(),
        rb.height(),
        rb.min.x,
        rb.min.y
    )
}

pub(crate) fn narrow_warning(op: &str, name: &str, d: f64, allowance: f64) -> String {
    format!(
        "{op}: {name} is narrower than the {d} mm tool{}; not cut: use a smaller tool",
        if allowance > 0.0 {
            " plus the radial allowance"
        } else {
            ""
        }
    )
}
