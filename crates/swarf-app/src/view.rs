//! The 3D viewport: swarf-render draws into its own texture, egui shows it; mouse orbit,
//! pan and zoom about the cursor; standard views.

use glam::DVec3;
use swarf_core::job::JobOutput;
use swarf_render::{Camera, ColourBy, Frame, Layer, Renderer, Scene, View};

/// Viewport state.
pub struct Viewport {
    pub camera: Camera,
    pub scene: Option<Scene>,
    pub scene_dirty: bool,
    /// Keep the part framed (window resizes, new results) until the user moves the camera.
    pub auto_fit: bool,
    renderer: Option<Renderer>,
    texture: Option<(egui::TextureId, (u32, u32))>,
    uploaded: bool,
    /// Height of the view in points, last frame (for the scale read-out).
    last_height: f32,
}

impl Default for Viewport {
    fn default() -> Self {
        Self {
            camera: Camera::default(),
            scene: None,
            scene_dirty: true,
            auto_fit: true,
            renderer: None,
            texture: None,
            uploaded: false,
            last_height: 600.0,
        }
    }
}

fn build_scene(out: &JobOutput) -> Scene {
    let mut s = Scene::new(DVec3::ZERO);
    s.add_plines(&out.drawing.closed_loops, 0.0);
    s.add_plines(&out.drawing.open_chains, 0.0);
    let mut depth: f64 = 0.0;
    for (_, _, r) in &out.operations {
        for m in &r.toolpath.moves {
            depth = depth.min(m.to.z);
        }
        s.add_toolpath(&r.toolpath, ColourBy::MoveType);
    }
    if s.has_bounds() {
        let (lo, hi) = s.fit_bounds();
        s.add_box(
            DVec3::new(lo.x, lo.y, depth.min(-0.05)),
            DVec3::new(hi.x, hi.y, 0.0),
        );
        let z = s.fit_bounds().0.z;
        s.add_grid(z);
    }
    s
}

impl Viewport {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        render: Option<&egui_wgpu::RenderState>,
        out: Option<&JobOutput>,
    ) {
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
            ui.label(format!(
                "{:.1} µm/px",
                self.camera.mm_per_px(f64::from(self.last_height)) * 1000.0
            ));
        });
        if self.scene_dirty
            && let Some(out) = out
        {
            self.scene = Some(build_scene(out));
            self.scene_dirty = false;
            self.uploaded = false;
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
            return;
        };
        let ppp = ui.ctx().pixels_per_point();
        let size = (
            (rect.width() * ppp).round().max(1.0) as u32,
            (rect.height() * ppp).round().max(1.0) as u32,
        );
        let renderer = self
            .renderer
            .get_or_insert_with(|| Renderer::new(&rs.device));
        if !self.uploaded {
            renderer.upload(&rs.device, scene);
            self.uploaded = true;
        }
        let all = |l: Layer| Some(scene.lines[l.index()].len() as u32);
        let cmd = renderer.render(
            &rs.device,
            &rs.queue,
            &Frame {
                size,
                camera: &self.camera,
                scene_origin: scene.origin,
                show_mesh: true,
                visible: &all,
            },
        );
        rs.queue.submit([cmd]);
        let view = renderer.colour_view().expect("rendered");
        let id = match self.texture {
            Some((id, s)) if s == size => id,
            Some((id, _)) => {
                rs.renderer.write().update_egui_texture_from_wgpu_texture(
                    &rs.device,
                    view,
                    wgpu::FilterMode::Linear,
                    id,
                );
                id
            }
            None => rs.renderer.write().register_native_texture(
                &rs.device,
                view,
                wgpu::FilterMode::Linear,
            ),
        };
        self.texture = Some((id, size));
        ui.painter().image(
            id,
            rect,
            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            egui::Color32::WHITE,
        );
    }
}
