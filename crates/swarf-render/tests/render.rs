//! Renders real scenes headless (software Vulkan in CI) and checks the pixels.

use glam::DVec3;
use swarf_core::job::Job;
use swarf_render::{Camera, ColourBy, Headless, Layer, Scene, View};

/// The headless device, or `None` (said loudly) when this machine has no adapter at all.
fn device() -> Option<Headless> {
    match Headless::new() {
        Ok(h) => {
            eprintln!("rendering on {}", h.adapter);
            Some(h)
        }
        Err(e) => {
            eprintln!(
                "\n*** SKIPPED: {e}\n*** CI installs mesa-vulkan-drivers so this test always runs there.\n"
            );
            None
        }
    }
}

fn example_scene(colour_by: ColourBy) -> Scene {
    let job = Job::from_toml(swarf_core::job::EXAMPLE_JOB_TOML).unwrap();
    let out = job.run(std::path::Path::new(".")).unwrap();
    let mut s = Scene::new(DVec3::ZERO);
    s.add_model(&out.model);
    for (_, _, r) in &out.operations {
        s.add_toolpath(&r.toolpath, colour_by);
    }
    s
}

fn count(rgba: &[u8], c: [u8; 4]) -> usize {
    rgba.chunks_exact(4).filter(|p| *p == c).count()
}

#[test]
fn example_job_renders_with_every_move_type_visible() {
    let Some(mut h) = device() else { return };
    let scene = example_scene(ColourBy::MoveType);
    assert!(scene.segments() > 100);
    let mut cam = Camera::default();
    cam.set_view(View::Top);
    let (lo, hi) = scene.fit_bounds();
    cam.fit(lo, hi, 4.0 / 3.0);
    h.upload(&scene);
    let px = h.render_rgba(&scene, &cam, (400, 300)).unwrap();
    assert_eq!(px.len(), 400 * 300 * 4);
    for layer in [Layer::Outline, Layer::Feed, Layer::Arc, Layer::Entry] {
        let n = count(&px, layer.colour());
        assert!(n > 20, "{} drawn in {n} pixels", layer.name());
    }
    // From the top, the drawing is centred: the middle column has drawn pixels.
    let bg = [px[0], px[1], px[2], px[3]];
    let drawn = px.chunks_exact(4).filter(|p| *p != bg).count();
    assert!(drawn > 2000, "{drawn} pixels drawn");
}

#[test]
fn mesh_is_shaded_and_hides_what_is_behind_it() {
    let Some(mut h) = device() else { return };
    let mesh = swarf_core::samples::box_mesh([0.0, 0.0, -1.0], [4.0, 3.0, 0.0]);
    let mut s = Scene::new(DVec3::new(2.0, 1.5, -0.5));
    s.add_mesh(&mesh, [200, 200, 210, 255]);
    // A line under the box, hidden from above.
    let mut tp = swarf_core::toolpath::Toolpath::new(swarf_core::toolpath::P3::new(1.0, 1.5, -2.0));
    tp.line(
        swarf_core::toolpath::P3::new(3.0, 1.5, -2.0),
        swarf_core::toolpath::MoveClass::Cut,
        100.0,
    );
    s.add_toolpath(&tp, ColourBy::MoveType);
    let mut cam = Camera::default();
    cam.set_view(View::Top);
    let (lo, hi) = s.fit_bounds();
    cam.fit(lo, hi, 1.0);
    h.upload(&s);
    let px = h.render_rgba(&s, &cam, (200, 200)).unwrap();
    assert_eq!(
        count(&px, Layer::Feed.colour()),
        0,
        "the line under the box shows"
    );
    let centre = &px[(100 * 200 + 100) * 4..(100 * 200 + 100) * 4 + 4];
    assert!(centre[0] > 150, "top face lit: {centre:?}");
    // From below the line is in front.
    cam.pitch = -cam.pitch;
    let px = h.render_rgba(&s, &cam, (200, 200)).unwrap();
    assert!(count(&px, Layer::Feed.colour()) > 20);
}

#[test]
fn playback_draws_only_the_moves_up_to_the_slider() {
    let scene = example_scene(ColourBy::MoveType);
    let paths = [
        Layer::Rapid,
        Layer::Feed,
        Layer::Arc,
        Layer::Entry,
        Layer::Link,
    ];
    let upto = |m: u32| -> u32 { paths.iter().map(|&l| scene.vertices_upto(l, m)).sum() };
    let total: usize = paths.iter().map(|l| scene.lines[l.index()].len()).sum();
    assert_eq!(upto(scene.moves) as usize, total);
    let half = upto(scene.moves / 2);
    assert!(half > 0 && (half as usize) < total, "{half} of {total}");
    assert_eq!(upto(0), 0);
    assert_eq!(
        scene.vertices_upto(Layer::Outline, 0) as usize,
        scene.lines[Layer::Outline.index()].len()
    );
}
