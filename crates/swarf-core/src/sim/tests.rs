use super::*;
use crate::toolpath::MoveClass;

fn stock() -> Heightmap {
    Heightmap::new(V2::new(-1.0, -3.0), V2::new(12.0, 3.0), -1.0, 0.0, 0.01)
}

#[test]
fn slot_is_180_degrees_and_ten_percent_is_about_37() {
    let tool = Tool::micro_flat(1.0);
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
    tp.rapid(P3::new(0.0, 0.0, 0.1));
    // Enter at the left edge of the stock... outside it (x < -1 is air): start in air.
    tp.rapid(P3::new(-2.0, 0.0, 0.1));
    tp.rapid(P3::new(-2.0, 0.0, -0.2));
    tp.line(P3::new(10.0, 0.0, -0.2), MoveClass::Cut, 100.0);
    // A side pass 10 % of the diameter into the wall of the slot: y + 0.5 + 0.1 − 0.5.
    tp.rapid(P3::new(10.0, 0.0, 0.5));
    tp.rapid(P3::new(-2.0, 0.1, 0.5));
    tp.rapid(P3::new(-2.0, 0.1, -0.2));
    tp.line(P3::new(10.0, 0.1, -0.2), MoveClass::Cut, 100.0);
    let mut sim = Simulation::new(
        stock(),
        &tp,
        &tool,
        SimOptions::default(),
        Tolerance::default(),
    );
    sim.run_to(tp.moves.len());
    let pm = &sim.result.per_move;
    assert!(
        (pm[3].engagement_deg - 180.0).abs() < 3.0,
        "{}",
        pm[3].engagement_deg
    );
    let want = (1.0f64 - 2.0 * 0.1).acos().to_degrees();
    assert!(
        (f64::from(pm[7].engagement_deg) - want).abs() < 3.5,
        "{} vs {want}",
        pm[7].engagement_deg
    );
    assert!(
        sim.result.rapids_through_stock.is_empty(),
        "{:?}",
        sim.result.rapids_through_stock
    );
    assert!(sim.result.max_deflection_um > 0.0);
    assert!(sim.result.estimated_seconds >= sim.result.naive_seconds);
}

#[test]
fn rapids_through_stock_and_plunges_are_found() {
    let tool = Tool::micro_flat(0.5);
    let mut tp = Toolpath::new(P3::new(0.0, 0.0, 1.0));
    tp.rapid(P3::new(5.0, 0.0, 1.0));
    tp.line(P3::new(5.0, 0.0, -0.3), MoveClass::Cut, 10.0); // plunge into stock
    tp.rapid(P3::new(8.0, 0.0, -0.3)); // rapid through stock
    let mut sim = Simulation::new(
        stock(),
        &tp,
        &tool,
        SimOptions::default(),
        Tolerance::default(),
    );
    sim.run_to(tp.moves.len());
    assert_eq!(sim.result.plunges, vec![1]);
    assert_eq!(sim.result.rapids_through_stock, vec![2]);
}

#[test]
fn thin_chips_warn() {
    let mut tool = Tool::micro_flat(0.2);
    tool.cutting_edge_radius_um = 3.0;
    let mut tp = Toolpath::new(P3::new(-2.0, 0.0, -0.05));
    // 1 mm/min at 40000 rpm, 2 flutes: 0.0125 µm per tooth — far below 0.9 µm.
    tp.line(P3::new(5.0, 0.0, -0.05), MoveClass::Cut, 1.0);
    let mut sim = Simulation::new(
        stock(),
        &tp,
        &tool,
        SimOptions::default(),
        Tolerance::default(),
    );
    sim.run_to(1);
    assert_eq!(sim.result.thin_chips, vec![0]);
    assert!(sim.result.min_chip_thickness_um.unwrap() < 0.01);
}
