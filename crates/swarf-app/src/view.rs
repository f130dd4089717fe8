//! The 3D viewport, drawn through an egui paint callback: in `prepare` swarf-render draws the
//! scene into its own colour + depth texture (egui's render pass has no depth attachment;
//! pipelines are made once, the scene is uploaded once per result, a frame writes one
//! uniform), in `paint` one triangle copies that texture into egui's pass. Mouse orbit,
//! pan and zoom about the cursor; standard views; colour by move type or operation; a scale
//! bar that follows the zoom (µm when zoomed in); playing the program back with the tool
//! drawn where it is.

use std::sync::Arc;

use glam::DVec3;
use swarf_core::job::JobOutput;
use swarf_render::{Camera, ColourBy, Frame, Renderer, Scene, View};

/// Viewport state.
pub struct Viewport {
    pub camera: Camera,
    pub scene: Option<Arc<Scene>>,
    pub scene_dirty: bool,
    /// Keep the part framed (window resizes, new results) until the user moves the camera.
    pub auto_fit: bool,
    /// Counts scene rebuilds; the GPU side uploads when it has an older one.
    scene_gen: u64,
    /// Height of the view in points, last frame (for the scale read-out).
    last_height: f32,
    pub colour_by: ColourBy,
    /// Play the program back to this many moves (`None`: the whole program).
    pub playback: Option<u32>,
    /// While a machine runs the program: the moves it has run (drawn dimmed) and where the
    /// controller reports the tool (work coordinates).
    pub machine: Option<(u32, Option<DVec3>)>,
}

impl Default for Viewport {
    fn default() -> Self {
        Self {
            camera: Camera::default(),
            scene: None,
            scene_dirty: true,
            auto_fit: true,
            scene_gen: 0,
            last_height: 600.0,
            colour_by: ColourBy::MoveType,
            playback: None,
            machine: None,
        }
    }
}

fn build_scene(out: &JobOutput, colour_by: ColourBy) -> Scene {
    let mut s = Scene::new(DVec3::ZERO);
    let depth = s.add_output(out, colour_by);
    if s.has_bounds() {
        if let Some(stock) = &out.stock {
            s.add_stock(stock);
        } else {
            let (lo, hi) = s.fit_bounds();
            s.add_box(
                DVec3::new(lo.x, lo.y, depth.min(-0.05)),
                DVec3::new(hi.x, hi.y, 0.0),
            );
        }
        // The grid follows the zoom (drawn apart, see `GridSpec`); the axes stay.
        let (lo, hi) = s.fit_bounds();
        s.add_axes(lo.z, (hi.x - lo.x).max(hi.y - lo.y) * 0.15);
    }
    s
}

/// The grid under the part: a round spacing (1, 2 or 5 × 10ⁿ mm, down to µm) that keeps
/// cells at least 25 px wide at the current zoom, and at most 400 lines each way.
#[derive(Clone, Copy, Debug, PartialEq)]
struct GridSpec {
    step: f64,
    lo: DVec3,
    hi: DVec3,
}

impl GridSpec {
    fn new(scene: &Scene, mm_per_px: f64) -> Option<Self> {
        if !scene.has_bounds() {
            return None;
        }
        let (lo, hi) = scene.fit_bounds();
        let ext = (hi.x - lo.x).max(hi.y - lo.y).max(1e-6);
        let step = nice_length(mm_per_px * 25.0)?.max(nice_length(ext / 400.0)?);
        Some(Self { step, lo, hi })
    }
}

/// The GPU side of the view, kept in egui-wgpu's callback resources: the scene renderer
/// (which also copies its picture into egui's pass) and what it last uploaded.
struct ViewGpu {
    renderer: Renderer,
    /// egui's target format, for the copy.
    format: wgpu::TextureFormat,
    scene_gen: u64,
    grid: Option<GridSpec>,
}

impl ViewGpu {
    fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        Self {
            renderer: Renderer::new(device),
            format,
            scene_gen: u64::MAX,
            grid: None,
        }
    }
}

/// One frame of the view: what changed since the last is the camera and the playback.
struct ViewCallback {
    scene: Arc<Scene>,
    scene_gen: u64,
    camera: Camera,
    size: (u32, u32),
    playback: Option<u32>,
    dim_upto: Option<u32>,
    grid: Option<GridSpec>,
}

impl egui_wgpu::CallbackTrait for ViewCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(gpu) = resources.get_mut::<ViewGpu>() else {
            return Vec::new();
        };
        if gpu.scene_gen != self.scene_gen {
            gpu.renderer.upload(device, &self.scene);
            gpu.scene_gen = self.scene_gen;
            gpu.grid = None;
            gpu.renderer.set_grid(device, &[]);
        }
        if gpu.grid != self.grid
            && let Some(g) = self.grid
        {
            let z = g.lo.z;
            let v = swarf_render::grid_vertices(self.scene.origin, g.lo, g.hi, z, g.step);
            gpu.renderer.set_grid(device, &v);
            gpu.grid = Some(g);
        }
        let cmd = gpu.renderer.render(
            device,
            queue,
            &Frame {
                playback: self.playback,
                dim_upto: self.dim_upto,
                ..Frame::new(&self.scene, &self.camera, self.size)
            },
        );
        gpu.renderer.prepare_composite(device, gpu.format);
        vec![cmd]
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(gpu) = resources.get::<ViewGpu>() {
            gpu.renderer.composite(pass);
        }
    }
}

/// What a click in the view picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Picked {
    /// A hole of this group (index into the session's hole groups).
    HoleGroup(usize),
    /// This copy of the array (its number): left out, or back in.
    Copy(u32),
}

impl Viewport {
    /// The 3D view with its buttons. Returns what was clicked: a hole (within 10 px of its
    /// centre on screen) or else a copy of an array (inside its part's box on screen).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        render: Option<&egui_wgpu::RenderState>,
        out: Option<&JobOutput>,
        holes: &[swarf_core::holes::HoleGroup],
    ) -> Option<Picked> {
        ui.horizontal(|ui| {
            for (name, v) in [
                ("Top", View::Top),
                ("Front", View::Front),
                ("Side", View::Side),
                ("Iso", View::Iso),
            ] {
                if ui.button(name).clicked() {
                    self.camera.set_view(v);
                    self.auto_fit = true;
                }
            }
            if ui.button("Fit").clicked() {
                self.auto_fit = true;
            }
            let um_px = self.camera.mm_per_px(f64::from(self.last_height)) * 1000.0;
            // Three significant digits down to nanometres per pixel.
            let decimals = (2.0 - um_px.log10().floor()).clamp(0.0, 3.0) as usize;
            ui.label(format!("{um_px:.decimals$} µm/px"));
        });
        let total = self.scene.as_ref().map_or(0, |s| s.moves);
        ui.horizontal(|ui| {
            let mut by_op = self.colour_by == ColourBy::Operation;
            if ui.checkbox(&mut by_op, "colour by operation").changed() {
                self.colour_by = if by_op {
                    ColourBy::Operation
                } else {
                    ColourBy::MoveType
                };
                self.scene_dirty = true;
            }
            let mut playing = self.playback.is_some();
            if ui
                .checkbox(&mut playing, "play back")
                .on_hover_text("show the program up to a move, with the tool")
                .changed()
            {
                self.playback = playing.then_some(total);
            }
            if let Some(k) = &mut self.playback {
                *k = (*k).min(total);
                ui.spacing_mut().slider_width = (ui.available_width() - 120.0).max(100.0);
                ui.add(egui::Slider::new(k, 0..=total).text("moves"));
            }
        });
        if self.scene_dirty
            && let Some(out) = out
        {
            self.scene = Some(Arc::new(build_scene(out, self.colour_by)));
            self.scene_dirty = false;
            self.scene_gen += 1;
        }
        let (rect, resp) =
            ui.allocate_exact_size(ui.available_size(), egui::Sense::click_and_drag());
        self.last_height = rect.height();
        let aspect = f64::from(rect.width().max(1.0)) / f64::from(rect.height().max(1.0));
        if let Some(scene) = &self.scene
            && self.auto_fit
        {
            let (lo, hi) = scene.fit_bounds();
            self.camera.fit(lo, hi, aspect);
        }
        // Mouse: left drag orbits, right or middle drag pans, the wheel zooms about the cursor.
        if resp.dragged() {
            self.auto_fit = false;
        }
        let mut picked = None;
        if resp.clicked()
            && let Some(at) = resp.interact_pointer_pos()
        {
            let mut best = 10.0f32;
            for (gi, g) in holes.iter().enumerate() {
                for c in &g.centres {
                    let d = self.to_screen(rect, DVec3::new(c.x, c.y, 0.0)).distance(at);
                    if d < best {
                        best = d;
                        picked = Some(Picked::HoleGroup(gi));
                    }
                }
            }
            if picked.is_none()
                && let Some(out) = out
                && out.copies.len() > 1
            {
                picked = self.copy_at(rect, at, out).map(Picked::Copy);
            }
        }
        if resp.dragged_by(egui::PointerButton::Primary) {
            let d = resp.drag_delta();
            self.camera
                .orbit(f64::from(d.x) * 0.01, f64::from(d.y) * 0.01);
        }
        if resp.dragged_by(egui::PointerButton::Secondary)
            || resp.dragged_by(egui::PointerButton::Middle)
        {
            let d = resp.drag_delta();
            self.camera
                .pan(f64::from(d.x), f64::from(d.y), f64::from(rect.height()));
        }
        if resp.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0
                && let Some(p) = resp.hover_pos()
            {
                self.auto_fit = false;
                let ndc = (
                    f64::from((p.x - rect.center().x) / (rect.width() * 0.5)),
                    f64::from(-(p.y - rect.center().y) / (rect.height() * 0.5)),
                );
                self.camera
                    .zoom_at((f64::from(scroll) * 0.002).exp(), ndc, aspect);
            }
        }
        let (Some(rs), Some(scene)) = (render, &self.scene) else {
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                if render.is_none() {
                    "no GPU renderer: the 3D view needs wgpu"
                } else {
                    "generating…"
                },
                egui::FontId::proportional(16.0),
                egui::Color32::GRAY,
            );
            return picked;
        };
        let ppp = ui.ctx().pixels_per_point();
        let size = (
            (rect.width() * ppp).round().max(1.0) as u32,
            (rect.height() * ppp).round().max(1.0) as u32,
        );
        {
            let mut r = rs.renderer.write();
            if !r.callback_resources.contains::<ViewGpu>() {
                let gpu = ViewGpu::new(&rs.device, rs.target_format);
                r.callback_resources.insert(gpu);
            }
        }
        ui.painter().add(egui_wgpu::Callback::new_paint_callback(
            rect,
            ViewCallback {
                scene: scene.clone(),
                scene_gen: self.scene_gen,
                camera: self.camera,
                size,
                playback: self.playback,
                dim_upto: self.machine.map(|m| m.0),
                grid: GridSpec::new(scene, self.camera.mm_per_px(f64::from(rect.height()))),
            },
        ));
        self.scale_bar(ui, rect);
        if let Some(out) = out {
            self.legend(ui, rect, out);
            self.hole_numbers(ui, rect, out);
        }
        if let (Some(k), Some(out)) = (self.playback, out) {
            self.draw_tool(ui, rect, out, k);
        }
        if let Some((_, Some(at))) = self.machine {
            self.draw_machine_tool(ui, rect, at);
        }
        picked
    }

    /// Projects a world point to the screen.
    fn to_screen(&self, rect: egui::Rect, p: DVec3) -> egui::Pos2 {
        let aspect = f64::from(rect.width().max(1.0)) / f64::from(rect.height().max(1.0));
        let n = self.camera.to_ndc(p, aspect);
        egui::pos2(
            rect.center().x + n.x as f32 * rect.width() * 0.5,
            rect.center().y - n.y as f32 * rect.height() * 0.5,
        )
    }

    /// A scale bar of a round length (1, 2 or 5 × a power of ten) 60–150 px long.
    fn scale_bar(&self, ui: &egui::Ui, rect: egui::Rect) {
        let mm_px = self.camera.mm_per_px(f64::from(rect.height()));
        let Some(len_mm) = nice_length(mm_px * 80.0) else {
            return;
        };
        let px = (len_mm / mm_px) as f32;
        let a = egui::pos2(rect.left() + 16.0, rect.bottom() - 16.0);
        let b = a + egui::vec2(px, 0.0);
        let stroke = egui::Stroke::new(2.0, egui::Color32::from_gray(220));
        let p = ui.painter_at(rect);
        p.line_segment([a, b], stroke);
        for x in [a, b] {
            p.line_segment([x - egui::vec2(0.0, 5.0), x + egui::vec2(0.0, 1.0)], stroke);
        }
        p.text(
            a + egui::vec2(px * 0.5, -6.0),
            egui::Align2::CENTER_BOTTOM,
            length_label(len_mm),
            egui::FontId::proportional(13.0),
            egui::Color32::from_gray(230),
        );
    }

    /// The copy of the array (skipped ones too) whose part's box, put in its place at Z 0,
    /// holds `at` on screen.
    fn copy_at(&self, rect: egui::Rect, at: egui::Pos2, out: &JobOutput) -> Option<u32> {
        let part = swarf_core::resize::part_box(&out.model);
        if part.is_empty() {
            return None;
        }
        out.copies.iter().find_map(|c| {
            let corners = c
                .corners(part)
                .map(|q| self.to_screen(rect, DVec3::new(q.x, q.y, 0.0)));
            // Inside the convex quad when on the same side of all four edges.
            let side =
                |a: egui::Pos2, b: egui::Pos2| (b - a).x * (at - a).y - (b - a).y * (at - a).x;
            let s: Vec<f32> = (0..4)
                .map(|k| side(corners[k], corners[(k + 1) % 4]))
                .collect();
            (s.iter().all(|&v| v >= 0.0) || s.iter().all(|&v| v <= 0.0)).then_some(c.number)
        })
    }

    /// Each drilled or bored hole's place in its operation's order, beside the hole (where
    /// the holes are few and far enough apart on screen to read).
    fn hole_numbers(&self, ui: &egui::Ui, rect: egui::Rect, out: &JobOutput) {
        let p = ui.painter_at(rect);
        let mm_px = self.camera.mm_per_px(f64::from(rect.height()));
        for (_, tool, r) in &out.operations {
            let holes = &r.hole_order;
            if holes.is_empty() || holes.len() > 400 {
                continue;
            }
            // Too crowded to read: the nearest two holes under 14 px apart.
            let close = holes
                .windows(2)
                .map(|w| w[0].dist(w[1]))
                .fold(f64::INFINITY, f64::min);
            if close / mm_px < 14.0 {
                continue;
            }
            let off = (tool.radius_mm() / mm_px) as f32 + 3.0;
            for (i, h) in holes.iter().enumerate() {
                let at = self.to_screen(rect, DVec3::new(h.x, h.y, 0.0));
                p.text(
                    at + egui::vec2(off, -off),
                    egui::Align2::LEFT_BOTTOM,
                    format!("{}", i + 1),
                    egui::FontId::proportional(11.0),
                    egui::Color32::from_rgb(255, 230, 120),
                );
            }
        }
    }

    /// The tool where the program has brought it after `k` moves: its cutting end and body,
    /// to scale.
    /// What the colours mean: the move types, or the operations when coloured by operation
    /// (rapids stay red), at the view's top right.
    fn legend(&self, ui: &mut egui::Ui, rect: egui::Rect, out: &JobOutput) {
        let c = |c: [u8; 4]| egui::Color32::from_rgb(c[0], c[1], c[2]);
        let mut entries: Vec<(egui::Color32, String)> = Vec::new();
        match self.colour_by {
            ColourBy::MoveType => {
                for l in [
                    swarf_render::Layer::Feed,
                    swarf_render::Layer::Arc,
                    swarf_render::Layer::Entry,
                    swarf_render::Layer::Link,
                    swarf_render::Layer::Rapid,
                ] {
                    entries.push((c(l.colour()), l.name().to_string()));
                }
            }
            ColourBy::Operation => {
                for (i, (name, _, _)) in out.operations.iter().enumerate() {
                    entries.push((c(swarf_render::operation_colour(i)), name.clone()));
                }
                let r = swarf_render::Layer::Rapid;
                entries.push((c(r.colour()), r.name().to_string()));
            }
        }
        let w = 150.0;
        let h = 18.0 * entries.len() as f32 + 8.0;
        let area = egui::Rect::from_min_size(
            egui::pos2(rect.right() - w - 8.0, rect.top() + 8.0),
            egui::vec2(w, h),
        );
        ui.painter_at(rect)
            .rect_filled(area, 4.0, egui::Color32::from_black_alpha(150));
        ui.scope_builder(egui::UiBuilder::new().max_rect(area.shrink(4.0)), |ui| {
            ui.spacing_mut().item_spacing.y = 2.0;
            for (colour, name) in entries {
                ui.horizontal(|ui| {
                    let (r, _) =
                        ui.allocate_exact_size(egui::vec2(14.0, 4.0), egui::Sense::hover());
                    ui.painter().rect_filled(r, 0.0, colour);
                    ui.label(
                        egui::RichText::new(name)
                            .small()
                            .color(egui::Color32::from_gray(220)),
                    );
                });
            }
        });
    }

    /// The tool where the controller reports it: an orange cross-hair and spindle line.
    fn draw_machine_tool(&self, ui: &egui::Ui, rect: egui::Rect, tip: DVec3) {
        let a = self.to_screen(rect, tip);
        let mm_px = self.camera.mm_per_px(f64::from(rect.height()));
        let b = self.to_screen(rect, tip + DVec3::new(0.0, 0.0, 40.0 * mm_px));
        let c = egui::Color32::from_rgb(255, 150, 30);
        let p = ui.painter_at(rect);
        p.line_segment([a, b], egui::Stroke::new(3.0, c));
        p.circle_stroke(a, 7.0, egui::Stroke::new(2.0, c));
        for d in [egui::vec2(12.0, 0.0), egui::vec2(0.0, 12.0)] {
            p.line_segment([a - d, a + d], egui::Stroke::new(1.0, c));
        }
    }

    fn draw_tool(&self, ui: &egui::Ui, rect: egui::Rect, out: &JobOutput, k: u32) {
        let mut left = k as usize;
        let mut at = None;
        for (_, tool, r) in &out.operations {
            let tp = &r.toolpath;
            if left <= tp.moves.len() {
                let p = if left == 0 {
                    tp.start
                } else {
                    tp.moves[left - 1].to
                };
                at = Some((DVec3::new(p.x, p.y, p.z), tool));
                break;
            }
            left -= tp.moves.len();
        }
        let Some((tip, tool)) = at else { return };
        let mm_px = self.camera.mm_per_px(f64::from(rect.height())) as f32;
        let r_px = (tool.radius_mm() as f32 / mm_px).max(2.0);
        let a = self.to_screen(rect, tip);
        let b = self.to_screen(rect, tip + DVec3::new(0.0, 0.0, tool.flute_length_mm));
        let body = egui::Color32::from_rgba_unmultiplied(200, 200, 210, 150);
        let p = ui.painter_at(rect);
        p.line_segment([a, b], egui::Stroke::new(2.0 * r_px, body));
        p.circle_filled(a, r_px, body);
        p.circle_stroke(a, r_px, egui::Stroke::new(1.5, egui::Color32::WHITE));
        p.circle_filled(b, r_px, body);
    }
}

/// The round length (1, 2 or 5 × 10ⁿ mm) nearest above `target_mm`.
fn nice_length(target_mm: f64) -> Option<f64> {
    if !(target_mm.is_finite() && target_mm > 0.0) {
        return None;
    }
    let p = 10f64.powf(target_mm.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&l| l >= target_mm)
}

/// `0.05` mm → "50 µm"; `2` → "2 mm".
fn length_label(mm: f64) -> String {
    if mm < 1.0 {
        format!("{} µm", (mm * 1000.0 * 1000.0).round() / 1000.0)
    } else {
        format!("{} mm", (mm * 1000.0).round() / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_on_a_copy_picks_that_copy_and_between_copies_none() {
        let mut job = swarf_core::job::Job::from_toml(swarf_core::job::EXAMPLE_JOB_TOML).unwrap();
        job.array = Some(swarf_core::array::ArraySpec {
            columns: 3,
            gap_mm: Some([2.0, 2.0]),
            skip: vec![2],
            ..swarf_core::array::ArraySpec::default()
        });
        let out = job.run(std::path::Path::new(".")).unwrap();
        let mut v = Viewport::default();
        v.camera.set_view(View::Top);
        v.camera.fit(
            DVec3::new(-6.0, -6.0, -1.0),
            DVec3::new(26.0, 6.0, 0.0),
            2.0,
        );
        let rect = egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(800.0, 400.0));
        let at = |x: f64, y: f64| v.to_screen(rect, DVec3::new(x, y, 0.0));
        // Copy 2 (left out) is still picked, to put it back; the gap between copies is not.
        assert_eq!(v.copy_at(rect, at(10.0, 0.0), &out), Some(2));
        assert_eq!(v.copy_at(rect, at(20.5, 1.0), &out), Some(3));
        assert_eq!(v.copy_at(rect, at(0.0, 0.0), &out), Some(1));
        assert_eq!(v.copy_at(rect, at(5.0, 0.0), &out), None);
    }

    #[test]
    fn scale_bar_lengths_are_round_and_in_micrometres_when_small() {
        assert_eq!(nice_length(0.037), Some(0.05));
        assert_eq!(nice_length(0.15), Some(0.2));
        assert_eq!(nice_length(3.0), Some(5.0));
        assert_eq!(nice_length(0.0), None);
        assert_eq!(length_label(0.05), "50 µm");
        assert_eq!(length_label(0.001), "1 µm");
        assert_eq!(length_label(2.0), "2 mm");
    }

    #[test]
    fn the_grid_refines_to_micrometres_when_zoomed_in_and_stays_bounded() {
        let mut s = Scene::new(DVec3::ZERO);
        s.add_box(DVec3::new(0.0, 0.0, -0.1), DVec3::new(2.0, 1.0, 0.0));
        // 10 µm per pixel: 250 µm cells; 0.1 µm per pixel: 5 µm cells (400 lines over 2 mm).
        assert_eq!(GridSpec::new(&s, 0.01).unwrap().step, 0.5);
        let fine = GridSpec::new(&s, 0.0001).unwrap();
        assert!((fine.step - 0.005).abs() < 1e-12, "{}", fine.step);
        let v = swarf_render::grid_vertices(DVec3::ZERO, fine.lo, fine.hi, 0.0, fine.step);
        assert!(v.len() / 2 <= 2 * 403, "{} lines", v.len() / 2);
    }
}
