//! The job's stock (issue 16's set-up, issue 21's arrays): said in the header, cut by the
//! simulation, drawn as given, and every copy's part checked to lie on it exactly.

use std::path::Path;

use swarf_core::job::{EXAMPLE_JOB_TOML, Job, JobError};
use swarf_core::setup::StockShape;

fn job(extra: &str) -> Job {
    Job::from_toml(&format!("{EXAMPLE_JOB_TOML}\n{extra}\n")).unwrap()
}

#[test]
fn a_box_stock_is_said_simulated_and_round_trips() {
    let j = job("[stock]\nshape = \"box\"\nmin_mm = [-6.0, -6.0, -2.0]\nmax_mm = [6.0, 6.0, 0.1]");
    assert_eq!(Job::from_toml(&j.to_toml()).unwrap(), j);
    let out = j.run(Path::new(".")).unwrap();
    assert_eq!(
        out.stock,
        Some(StockShape::Box {
            min: [-6.0, -6.0, -2.0],
            max: [6.0, 6.0, 0.1]
        })
    );
    assert!(
        out.program
            .text
            .contains("(stock: box X-6.0000..6.0000 Y-6.0000..6.0000 Z-2.0000..0.1000 mm)")
    );
    let sim =
        swarf_core::sim::simulate_output(&out, &swarf_core::sim::SimOptions::default()).unwrap();
    assert!((sim.origin.x + 6.0).abs() < 1e-12 && (sim.bottom + 2.0).abs() < 1e-12);
    // The stock's corner is untouched at its own top (0.1 above the work zero).
    let corner = sim
        .at(sim.origin + swarf_core::geometry::V2::new(0.01, 0.01))
        .unwrap();
    assert!((corner - 0.1).abs() < 1e-6, "{corner}");
}

#[test]
fn a_round_bar_holds_a_round_part_exactly_and_refuses_one_too_big() {
    // The example plate is a 4 mm radius disc with a flat: an 8 mm bar holds it exactly.
    let fits = job(
        "[stock]\nshape = \"cylinder\"\ncentre_mm = [0.0, 0.0]\ndiameter_mm = 8.0\nbottom_mm = 1.0",
    );
    let out = fits.run(Path::new(".")).unwrap();
    let sim =
        swarf_core::sim::simulate_output(&out, &swarf_core::sim::SimOptions::default()).unwrap();
    // Off the bar is air; on it, the top.
    let v = swarf_core::geometry::V2::new;
    assert_eq!(sim.at(v(3.9, 3.9)), Some(-1.0));
    assert!(sim.at(v(0.0, 3.0)).unwrap() > -0.2);
    // Off the bar nothing is drawn: no surface with area lies at the stock's bottom.
    let mesh = swarf_core::sim::stock_mesh(&sim, 1.0e6);
    for t in &mesh.triangles {
        let p = t.map(|i| mesh.vertices[i as usize]);
        if p.iter().all(|q| q[2] <= sim.bottom + 1e-9) {
            let (a, b) = (
                [p[1][0] - p[0][0], p[1][1] - p[0][1]],
                [p[2][0] - p[0][0], p[2][1] - p[0][1]],
            );
            assert!((a[0] * b[1] - a[1] * b[0]).abs() < 1e-12, "{p:?}");
        }
    }
    let tight = job(
        "[stock]\nshape = \"cylinder\"\ncentre_mm = [0.0, 0.0]\ndiameter_mm = 7.9\nbottom_mm = 1.0",
    );
    match tight.run(Path::new(".")) {
        Err(JobError::Stock(e)) => {
            assert!(e.0.contains("0.0500 mm outside"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_copy_must_lie_on_the_stock_and_the_default_covers_them_all() {
    let arr = "[array]\ncolumns = 3\nrows = 1\npitch_mm = [10.0, 0.0]";
    // No stock given: a box around all three copies.
    let out = job(arr).run(Path::new(".")).unwrap();
    let b = out.stock.unwrap().bbox();
    assert!(b.min.x < -4.0 && b.max.x > 24.0, "{b:?}");
    // A box too short for copy 3: refused with the distance, naming the copy.
    let short = job(&format!(
        "{arr}\n[stock]\nshape = \"box\"\nmin_mm = [-5.0, -5.0, -1.0]\nmax_mm = [22.0, 5.0, 0.0]"
    ));
    let e = short.run(Path::new(".")).unwrap_err().to_string();
    assert!(
        e.contains("copy 3") && e.contains("2.0000 mm outside"),
        "{e}"
    );
    // Leaving copy 3 out lifts it.
    let skip = job(&format!(
        "{arr}\nskip = [3]\n[stock]\nshape = \"box\"\nmin_mm = [-5.0, -5.0, -1.0]\nmax_mm = [22.0, 5.0, 0.0]"
    ));
    assert!(skip.run(Path::new(".")).is_ok());
    // A polar array on a round bar: the turned copies are tested exactly too.
    let ring = job(
        "[array]\npolar_count = 6\npolar_radius_mm = 12.0\n[stock]\nshape = \"cylinder\"\ncentre_mm = [-12.0, 0.0]\ndiameter_mm = 32.0\nbottom_mm = 1.0",
    );
    assert!(ring.run(Path::new(".")).is_ok());
    let small = job(
        "[array]\npolar_count = 6\npolar_radius_mm = 12.0\n[stock]\nshape = \"cylinder\"\ncentre_mm = [-12.0, 0.0]\ndiameter_mm = 31.9\nbottom_mm = 1.0",
    );
    let e = small.run(Path::new(".")).unwrap_err().to_string();
    assert!(e.contains("0.0500 mm outside"), "{e}");
}
