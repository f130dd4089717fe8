//! The cut stock of a whole job: every operation run in order, each with its own tool, on one
//! heightmap block (every copy of an array on it). The CLI draws it (`render --simulate`); the app can show the same.

use super::{Heightmap, SimOptions, Simulation, choose_cell};
use crate::geometry::{Bbox2, V2, pline_bbox};
use crate::import::Model;
use crate::job::JobOutput;
use crate::toolpath::Motion;

/// Runs every operation of `out` on its stock ([`JobOutput::stock`]; without one, the part's
/// box and every cut grown by one and a half of the largest tool's diameter, from a little
/// below the deepest cut up to Z = 0). The cell is chosen from the smallest tool
/// ([`choose_cell`]). `None` when nothing was generated.
pub fn simulate_output(out: &JobOutput, opts: &SimOptions) -> Option<Heightmap> {
    let tools = out.operations.iter().map(|(_, t, _)| t);
    let r_min = tools
        .clone()
        .map(crate::tool::Tool::radius_mm)
        .fold(f64::INFINITY, f64::min);
    let d_max = tools.map(|t| t.diameter_mm).fold(0.0, f64::max);
    if !r_min.is_finite() {
        return None;
    }
    let mut b = Bbox2::EMPTY;
    for model in out.models() {
        match model {
            Model::Drawing(d) => d.closed_loops.iter().for_each(|l| b.union(&pline_bbox(l))),
            Model::Mesh(m) => {
                if let Some((lo, hi)) = m.mesh.bounds() {
                    b.add_point(V2::new(lo[0], lo[1]));
                    b.add_point(V2::new(hi[0], hi[1]));
                }
            }
        }
    }
    let mut deepest = 0.0f64;
    for (_, _, r) in &out.operations {
        for m in &r.toolpath.moves {
            if !matches!(m.motion, Motion::Rapid) {
                b.add_point(m.to.xy());
            }
            deepest = deepest.min(m.to.z);
        }
    }
    if b.is_empty() {
        return None;
    }
    // Every copy of an array on the one block.
    let copies: Vec<crate::array::Placement> = if out.copies.is_empty() {
        vec![crate::array::Placement::ORIGINAL]
    } else {
        out.copies.iter().copied().filter(|c| c.enabled).collect()
    };
    let one = b;
    for c in &copies {
        for corner in c.corners(one) {
            b.add_point(corner);
        }
    }
    // The job's stock: a block, or a round bar (cells off the bar are air).
    let mut stock = if let Some(shape) = out.stock {
        let bb = shape.bbox();
        let (z0, z1) = shape.z_range();
        let cell = choose_cell(r_min, bb.max.x - bb.min.x, bb.max.y - bb.min.y);
        let mut h = Heightmap::new(bb.min, bb.max, z0, z1, cell);
        if let crate::setup::StockShape::Cylinder { .. } = shape {
            for j in 0..h.ny {
                for i in 0..h.nx {
                    if !shape.contains(h.centre(i, j)) {
                        h.z[j * h.nx + i] = z0 as f32;
                    }
                }
            }
        }
        h
    } else {
        let pad = V2::new(1.5 * d_max, 1.5 * d_max);
        let (min, max) = (b.min - pad, b.max + pad);
        let cell = choose_cell(r_min, max.x - min.x, max.y - min.y);
        let below = 0.1 * (max.x - min.x).max(max.y - min.y).min(1.0);
        Heightmap::new(min, max, deepest - below, 0.0, cell)
    };
    for c in &copies {
        for (_, tool, res) in &out.operations {
            let placed = c.toolpath(&res.toolpath);
            // A levelled program is simulated in the warped surface's frame (its height taken
            // off again), where the stock's top is flat: the cut shows at its depth below
            // the surface, as it will be on the board.
            let placed = match &out.height_map {
                Some(m) => crate::level::unlevel(&placed, m),
                None => placed,
            };
            let mut sim = Simulation::new(stock, &placed, tool, *opts, out.tolerance);
            sim.run_to(placed.moves.len());
            stock = sim.stock;
        }
    }
    Some(stock)
}

/// The stock's surface as a mesh of at most about `max_vertices` (the heightmap sampled every
/// few cells where it has more).
pub fn stock_mesh(stock: &Heightmap, max_vertices: f64) -> crate::geometry::mesh::Mesh {
    let cells = stock.nx as f64 * stock.ny as f64;
    let step = (cells / max_vertices).sqrt().ceil().max(1.0) as usize;
    stock.to_mesh(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example job cut on a block: the recesses are cut to their depth, the plate's
    /// surface elsewhere stays at the top.
    #[test]
    fn the_example_job_leaves_its_recesses_in_the_stock() {
        let job = crate::job::Job::from_toml(crate::job::EXAMPLE_JOB_TOML).unwrap();
        let out = job.run(std::path::Path::new(".")).unwrap();
        let stock = simulate_output(&out, &SimOptions::default()).unwrap();
        let pocket = &out.operations[0].2.toolpath;
        let cut = pocket
            .moves
            .iter()
            .filter(|m| matches!(m.class, crate::toolpath::MoveClass::Cut))
            .map(|m| m.to)
            .find(|p| p.z < -0.09)
            .expect("a cut at the floor");
        let at = stock.at(cut.xy()).unwrap();
        assert!((at - cut.z).abs() < 1e-3, "{at} at the cut {cut:?}");
        // The block's corner is outside everything the job cuts.
        let corner = stock.at(stock.origin + V2::new(1e-3, 1e-3)).unwrap();
        assert_eq!(corner, 0.0);
        let mesh = stock_mesh(&stock, 1.0e4);
        assert!(mesh.vertices.len() <= 40_000 && !mesh.triangles.is_empty());
    }

    /// A levelled job is simulated below the surface it follows: the same cut as unlevelled.
    #[test]
    fn a_levelled_job_cuts_the_same_stock_in_the_surface_frame() {
        let mut job = crate::job::Job::from_toml(crate::job::EXAMPLE_JOB_TOML).unwrap();
        let flat = job.run(std::path::Path::new(".")).unwrap();
        let mut area = crate::geometry::Bbox2::EMPTY;
        area.add_point(V2::new(-10.0, -10.0));
        area.add_point(V2::new(10.0, 10.0));
        job.height_map = Some(
            crate::level::HeightMap::from_fn(area, 4, 4, |p| 0.004 * p.x - 0.003 * p.y).unwrap(),
        );
        let levelled = job.run(std::path::Path::new(".")).unwrap();
        let a = simulate_output(&flat, &SimOptions::default()).unwrap();
        let b = simulate_output(&levelled, &SimOptions::default()).unwrap();
        // The same cells cut to the same depth (the levelled path has extra points where it
        // crossed grid lines; the stocks agree to a micrometre). Only the block's bottom
        // differs (it is set below the deepest programmed Z).
        assert_eq!((a.nx, a.ny), (b.nx, b.ny));
        let differ =
            a.z.iter()
                .zip(&b.z)
                .filter(|(p, q)| (p.min(0.0) - q.min(0.0)).abs() > 1e-3)
                .count();
        assert!(
            differ <= a.z.len() / 1000,
            "{differ} of {} cells differ",
            a.z.len()
        );
        // And it cut: the recesses' floors are there.
        assert!(b.z.iter().any(|&z| z < -0.09));
        assert!(levelled.height_map.is_some());
    }
}
