//! Rendering without a window: a device of its own, the frame read back to memory, PNG out.

use crate::camera::Camera;
use crate::renderer::{COLOUR_FORMAT, Frame, Renderer};
use crate::scene::Scene;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no GPU adapter found ({0}); on Linux without a GPU install the software Vulkan driver (Debian: apt-get install mesa-vulkan-drivers)"
    )]
    NoAdapter(String),
    #[error("the GPU device could not be opened: {0}")]
    Device(String),
    #[error("reading the frame back failed: {0}")]
    Readback(String),
    #[error("cannot write {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// A device for rendering offscreen.
pub struct Headless {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// Adapter name and backend, for reports.
    pub adapter: String,
    pub renderer: Renderer,
}

impl Headless {
    /// Opens the first adapter wgpu offers (`WGPU_BACKEND` and `WGPU_ADAPTER_NAME` are
    /// honoured; the software Vulkan driver will do).
    pub fn new() -> Result<Self, RenderError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env().unwrap_or_default(),
            force_fallback_adapter: false,
            compatible_surface: None,
            ..wgpu::RequestAdapterOptions::default()
        }))
        .map_err(|e| RenderError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("swarf headless"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..wgpu::DeviceDescriptor::default()
        }))
        .map_err(|e| RenderError::Device(e.to_string()))?;
        let renderer = Renderer::new(&device);
        Ok(Self {
            adapter: format!("{} ({:?})", info.name, info.backend),
            device,
            queue,
            renderer,
        })
    }

    /// Uploads `scene` (once per scene).
    pub fn upload(&mut self, scene: &Scene) {
        self.renderer.upload(&self.device, scene);
    }

    /// Renders one frame and waits for it (no read-back): for timing.
    pub fn frame(
        &mut self,
        scene: &Scene,
        camera: &Camera,
        size: (u32, u32),
    ) -> Result<(), RenderError> {
        let cmd = self
            .renderer
            .render(&self.device, &self.queue, &Frame::new(scene, camera, size));
        self.queue.submit([cmd]);
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        Ok(())
    }

    /// Renders a frame and returns its pixels, RGBA, row by row from the top.
    pub fn render_rgba(
        &mut self,
        scene: &Scene,
        camera: &Camera,
        size: (u32, u32),
    ) -> Result<Vec<u8>, RenderError> {
        let (w, h) = (size.0.max(1), size.1.max(1));
        let cmd = self.renderer.render(
            &self.device,
            &self.queue,
            &Frame::new(scene, camera, (w, h)),
        );
        let row = (w * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("swarf readback"),
            size: u64::from(row) * u64::from(h),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("swarf readback"),
            });
        let tex = self.renderer.colour_texture().expect("rendered");
        debug_assert_eq!(tex.format(), COLOUR_FORMAT);
        enc.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: tex,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &buf,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        self.queue.submit([cmd, enc.finish()]);
        let slice = buf.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| RenderError::Readback(e.to_string()))?
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let data = slice
            .get_mapped_range()
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let mut out = Vec::with_capacity((w * h * 4) as usize);
        for y in 0..h as usize {
            let start = y * row as usize;
            out.extend_from_slice(&data[start..start + (w * 4) as usize]);
        }
        drop(data);
        buf.unmap();
        Ok(out)
    }
}

/// Writes RGBA pixels as a PNG, atomically (temporary file, then rename).
pub fn write_png(path: &std::path::Path, size: (u32, u32), rgba: &[u8]) -> Result<(), RenderError> {
    let io = |error| RenderError::Io {
        path: path.display().to_string(),
        error,
    };
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, size.0, size.1);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .map_err(|e| RenderError::Png(e.to_string()))?;
        w.write_image_data(rgba)
            .map_err(|e| RenderError::Png(e.to_string()))?;
    }
    swarf_core::fsio::write_atomic(path, &bytes).map_err(io)
}
