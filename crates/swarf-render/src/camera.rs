//! An orbiting orthographic camera (parallel projection, as machinists read drawings), with
//! the standard views, fit-to-part and zoom about the cursor.

use glam::{DMat4, DVec3, Mat4};

/// Standard views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Top,
    Front,
    Side,
    Iso,
}

impl std::str::FromStr for View {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "top" => Ok(View::Top),
            "front" => Ok(View::Front),
            "side" | "right" => Ok(View::Side),
            "iso" | "isometric" => Ok(View::Iso),
            _ => Err(format!("unknown view '{s}'; use top, front, side or iso")),
        }
    }
}

/// Looks at `target` from the direction given by `yaw` (about Z, from +X... toward +Y) and
/// `pitch` (above the XY plane), seeing `half_height` mm above and below the centre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub target: DVec3,
    pub yaw: f64,
    pub pitch: f64,
    pub half_height: f64,
    /// Radius of what must stay between the clip planes.
    pub depth_radius: f64,
}

impl Default for Camera {
    fn default() -> Self {
        let mut c = Self {
            target: DVec3::ZERO,
            yaw: 0.0,
            pitch: 0.0,
            half_height: 10.0,
            depth_radius: 100.0,
        };
        c.set_view(View::Iso);
        c
    }
}

const MIN_HALF_HEIGHT: f64 = 1e-4;

impl Camera {
    pub fn set_view(&mut self, v: View) {
        let (yaw, pitch) = match v {
            View::Top => (-90f64.to_radians(), 90f64.to_radians()),
            View::Front => (-90f64.to_radians(), 0.0),
            View::Side => (0.0, 0.0),
            View::Iso => (-45f64.to_radians(), 35.264f64.to_radians()),
        };
        self.yaw = yaw;
        self.pitch = pitch;
    }

    /// Unit vector from the target toward the eye.
    pub fn eye_dir(&self) -> DVec3 {
        DVec3::new(
            self.pitch.cos() * self.yaw.cos(),
            self.pitch.cos() * self.yaw.sin(),
            self.pitch.sin(),
        )
    }

    fn up(&self) -> DVec3 {
        // Straight down: screen up is +Y (rotated with the yaw).
        if self.pitch.abs() > 89.9f64.to_radians() {
            DVec3::new(-self.yaw.cos(), -self.yaw.sin(), 0.0) * self.pitch.signum()
        } else {
            DVec3::Z
        }
    }

    /// Frames the box in the current view direction: centred, with a small margin, the
    /// whole box between the clip planes.
    pub fn fit(&mut self, lo: DVec3, hi: DVec3, aspect: f64) {
        self.target = (lo + hi) * 0.5;
        let r = ((hi - lo) * 0.5).length().max(MIN_HALF_HEIGHT);
        self.depth_radius = r * 4.0;
        let right = self.up().cross(self.eye_dir()).normalize_or_zero();
        let up = self.eye_dir().cross(right);
        let (mut w, mut h): (f64, f64) = (0.0, 0.0);
        for i in 0..8 {
            let c = DVec3::new(
                if i & 1 == 0 { lo.x } else { hi.x },
                if i & 2 == 0 { lo.y } else { hi.y },
                if i & 4 == 0 { lo.z } else { hi.z },
            ) - self.target;
            w = w.max(c.dot(right).abs());
            h = h.max(c.dot(up).abs());
        }
        self.half_height = (h.max(w / aspect.max(1e-6)) * 1.08).max(MIN_HALF_HEIGHT);
    }

    /// World-to-clip matrix for a viewport of `aspect` (width / height), relative to `origin`
    /// (the scene origin vertices are stored against).
    pub fn view_proj(&self, aspect: f64, origin: DVec3) -> Mat4 {
        self.view_proj_f64(aspect, origin).as_mat4()
    }

    fn view_proj_f64(&self, aspect: f64, origin: DVec3) -> DMat4 {
        let eye = self.target + self.eye_dir() * self.depth_radius;
        let view = DMat4::look_at_rh(eye - origin, self.target - origin, self.up());
        let h = self.half_height;
        let w = h * aspect;
        let proj = DMat4::orthographic_rh(-w, w, -h, h, 0.0, 2.0 * self.depth_radius);
        proj * view
    }

    /// Where a world point lands, in normalised device coordinates (x, y in −1..1, y up;
    /// z 0..1 near to far), for overlays drawn over the view.
    pub fn to_ndc(&self, p: DVec3, aspect: f64) -> DVec3 {
        self.view_proj_f64(aspect, self.target)
            .project_point3(p - self.target)
    }

    /// Orbits by screen-space drag in radians.
    pub fn orbit(&mut self, d_yaw: f64, d_pitch: f64) {
        self.yaw = (self.yaw - d_yaw) % std::f64::consts::TAU;
        self.pitch = (self.pitch + d_pitch).clamp(-89.99f64.to_radians(), 89.99f64.to_radians());
    }

    /// Pans by a drag of (`dx`, `dy`) pixels in a viewport `height_px` high.
    pub fn pan(&mut self, dx: f64, dy: f64, height_px: f64) {
        let mm_per_px = 2.0 * self.half_height / height_px.max(1.0);
        let right = self.up().cross(self.eye_dir()).normalize_or_zero();
        let up = self.eye_dir().cross(right);
        self.target += (-right * dx + up * dy) * mm_per_px;
    }

    /// Zooms by `factor` (> 1 closer) keeping the point under the cursor still; `ndc` is the
    /// cursor in normalised device coordinates (−1..1, y up).
    pub fn zoom_at(&mut self, factor: f64, ndc: (f64, f64), aspect: f64) {
        let factor = factor.clamp(0.01, 100.0);
        let right = self.up().cross(self.eye_dir()).normalize_or_zero();
        let up = self.eye_dir().cross(right);
        let before = right * ndc.0 * self.half_height * aspect + up * ndc.1 * self.half_height;
        self.half_height = (self.half_height / factor).max(MIN_HALF_HEIGHT);
        let after = before / factor;
        self.target += before - after;
    }

    /// Millimetres per pixel at the current zoom.
    pub fn mm_per_px(&self, height_px: f64) -> f64 {
        2.0 * self.half_height / height_px.max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_view_maps_x_right_and_y_up() {
        let mut c = Camera::default();
        c.set_view(View::Top);
        c.fit(DVec3::new(-1.0, -1.0, 0.0), DVec3::new(1.0, 1.0, 0.0), 1.0);
        let m = c.view_proj(1.0, DVec3::ZERO);
        let px = m.project_point3(glam::Vec3::new(1.0, 0.0, 0.0));
        let py = m.project_point3(glam::Vec3::new(0.0, 1.0, 0.0));
        assert!(px.x > 0.5 && px.y.abs() < 1e-5, "{px}");
        assert!(py.y > 0.5 && py.x.abs() < 1e-5, "{py}");
        // Nearer the eye (higher Z) is smaller depth.
        let hi = m.project_point3(glam::Vec3::new(0.0, 0.0, 0.5));
        let lo = m.project_point3(glam::Vec3::new(0.0, 0.0, -0.5));
        assert!(hi.z < lo.z && (0.0..=1.0).contains(&hi.z) && (0.0..=1.0).contains(&lo.z));
        // The f64 projection for overlays agrees, far from the origin too.
        let far = DVec3::new(1000.0, 1000.0, 0.0);
        c.fit(far - DVec3::ONE, far + DVec3::ONE, 1.0);
        let q = c.to_ndc(far + DVec3::new(0.5, 0.25, 0.0), 1.0);
        let e = c
            .view_proj(1.0, far)
            .project_point3(glam::Vec3::new(0.5, 0.25, 0.0));
        assert!((q.x - f64::from(e.x)).abs() < 1e-5 && (q.y - f64::from(e.y)).abs() < 1e-5);
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let mut c = Camera::default();
        c.set_view(View::Top);
        c.fit(DVec3::new(0.0, 0.0, 0.0), DVec3::new(10.0, 10.0, 0.0), 1.0);
        let probe = glam::Vec3::new(8.0, 7.0, 0.0);
        let before = c.view_proj(1.0, DVec3::ZERO).project_point3(probe);
        c.zoom_at(4.0, (f64::from(before.x), f64::from(before.y)), 1.0);
        let after = c.view_proj(1.0, DVec3::ZERO).project_point3(probe);
        assert!((after.x - before.x).abs() < 1e-4 && (after.y - before.y).abs() < 1e-4);
        assert!(c.mm_per_px(500.0) < 10.0 / 500.0);
    }
}
