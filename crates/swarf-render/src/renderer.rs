//! Pipelines, buffers and the render target. Created once; a frame writes one small uniform
//! and issues one draw per visible layer.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::camera::Camera;
use crate::scene::{Layer, LineVertex, MeshVertex, Scene};

/// Colour format of the view's texture: plain, not sRGB, so a colour given is the pixel written.
pub const COLOUR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// Background colour (dark, so toolpath colours read well).
const BACKGROUND: wgpu::Color = wgpu::Color {
    r: 0.018,
    g: 0.02,
    b: 0.026,
    a: 1.0,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Uniforms {
    view_proj: [[f32; 4]; 4],
    eye_dir: [f32; 4],
}

/// The view's own colour and depth textures.
struct Target {
    colour: wgpu::Texture,
    colour_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    size: (u32, u32),
}

/// The scene on the GPU.
struct Uploaded {
    lines: Option<wgpu::Buffer>,
    /// First vertex of each layer in `lines`, and its length.
    layers: Vec<(u32, u32)>,
    mesh: Option<wgpu::Buffer>,
    mesh_vertices: u32,
}

/// What one frame draws.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    /// Pixels.
    pub size: (u32, u32),
    pub camera: &'a Camera,
    /// The scene uploaded last (its origin, and its moves for playback).
    pub scene: &'a Scene,
    pub show_mesh: bool,
    /// Draw the program only up to this move (exclusive); `None` draws it all.
    pub playback: Option<u32>,
    /// Draw the moves before this one dimmed (the part a machine has already run).
    pub dim_upto: Option<u32>,
}

impl<'a> Frame<'a> {
    /// The whole scene, mesh included, at `size` pixels.
    pub fn new(scene: &'a Scene, camera: &'a Camera, size: (u32, u32)) -> Self {
        Self {
            size,
            camera,
            scene,
            show_mesh: true,
            playback: None,
            dim_upto: None,
        }
    }

    /// Vertices of `layer` this frame draws.
    fn vertices(&self, layer: Layer) -> u32 {
        self.playback
            .map_or(self.scene.lines[layer.index()].len() as u32, |k| {
                self.scene.vertices_upto(layer, k)
            })
    }
}

pub struct Renderer {
    line_pipeline: wgpu::RenderPipeline,
    mesh_pipeline: wgpu::RenderPipeline,
    uniforms: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    uploaded: Option<Uploaded>,
    /// A grid kept apart from the scene (it follows the zoom), and its vertex count.
    grid: Option<(wgpu::Buffer, u32)>,
    target: Option<Target>,
    /// Copying the picture into another pass ([`Renderer::composite`]).
    pub(crate) composite: Option<crate::composite::Composite>,
}

impl Renderer {
    /// Compiles the shaders and builds the pipelines (once per device).
    pub fn new(device: &wgpu::Device) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("swarf view shader"),
            source: wgpu::ShaderSource::Wgsl(include_str!("shader.wgsl").into()),
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("swarf view uniforms"),
            size: std::mem::size_of::<Uniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("swarf view bind group layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("swarf view bind group"),
            layout: &bgl,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: uniforms.as_entire_binding(),
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("swarf view pipeline layout"),
            bind_group_layouts: &[Some(&bgl)],
            immediate_size: 0,
        });
        let line_attrs = wgpu::vertex_attr_array![0 => Float32x3, 1 => Unorm8x4];
        let mesh_attrs = wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3, 2 => Unorm8x4];
        let pipeline = |name: &str,
                        vs: &str,
                        fs: &str,
                        stride: usize,
                        attrs: &[wgpu::VertexAttribute],
                        topology: wgpu::PrimitiveTopology,
                        bias: i32| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(name),
                layout: Some(&layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some(vs),
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                    buffers: &[Some(wgpu::VertexBufferLayout {
                        array_stride: stride as u64,
                        step_mode: wgpu::VertexStepMode::Vertex,
                        attributes: attrs,
                    })],
                },
                primitive: wgpu::PrimitiveState {
                    topology,
                    ..wgpu::PrimitiveState::default()
                },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: DEPTH_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::LessEqual),
                    stencil: wgpu::StencilState::default(),
                    // Push the part's faces back a little so lines on them stay visible.
                    bias: wgpu::DepthBiasState {
                        constant: bias,
                        slope_scale: if bias > 0 { 1.0 } else { 0.0 },
                        clamp: 0.0,
                    },
                }),
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(fs),
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: COLOUR_FORMAT,
                        blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let line_pipeline = pipeline(
            "swarf lines",
            "vs_line",
            "fs_line",
            std::mem::size_of::<LineVertex>(),
            &line_attrs,
            wgpu::PrimitiveTopology::LineList,
            0,
        );
        let mesh_pipeline = pipeline(
            "swarf mesh",
            "vs_mesh",
            "fs_mesh",
            std::mem::size_of::<MeshVertex>(),
            &mesh_attrs,
            wgpu::PrimitiveTopology::TriangleList,
            2,
        );
        Self {
            line_pipeline,
            mesh_pipeline,
            uniforms,
            bind_group,
            uploaded: None,
            grid: None,
            target: None,
            composite: None,
        }
    }

    /// Uploads the scene (once; call again only when the scene changes).
    /// Replaces the separate grid (line-list vertices relative to the scene origin, e.g.
    /// from [`crate::grid_vertices`]); a few hundred lines, so cheap to redo when the
    /// zoom changes its spacing. Empty removes it.
    pub fn set_grid(&mut self, device: &wgpu::Device, vertices: &[LineVertex]) {
        self.grid = (!vertices.is_empty()).then(|| {
            let b = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("swarf grid"),
                contents: bytemuck::cast_slice(vertices),
                usage: wgpu::BufferUsages::VERTEX,
            });
            (b, vertices.len() as u32)
        });
    }

    pub fn upload(&mut self, device: &wgpu::Device, scene: &Scene) {
        let mut all: Vec<LineVertex> = Vec::with_capacity(scene.lines.iter().map(Vec::len).sum());
        let mut layers = Vec::with_capacity(scene.lines.len());
        for l in &scene.lines {
            layers.push((all.len() as u32, l.len() as u32));
            all.extend_from_slice(l);
        }
        let lines = (!all.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("swarf lines"),
                contents: bytemuck::cast_slice(&all),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });
        let mesh = (!scene.triangles.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("swarf mesh"),
                contents: bytemuck::cast_slice(&scene.triangles),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });
        self.uploaded = Some(Uploaded {
            lines,
            layers,
            mesh,
            mesh_vertices: scene.triangles.len() as u32,
        });
    }

    fn ensure_target(&mut self, device: &wgpu::Device, size: (u32, u32)) {
        let size = (size.0.max(1), size.1.max(1));
        if self.target.as_ref().is_some_and(|t| t.size == size) {
            return;
        }
        let extent = wgpu::Extent3d {
            width: size.0,
            height: size.1,
            depth_or_array_layers: 1,
        };
        let colour = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("swarf view colour"),
            size: extent,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: COLOUR_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let depth = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("swarf view depth"),
            size: extent,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: DEPTH_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        self.target = Some(Target {
            colour_view: colour.create_view(&wgpu::TextureViewDescriptor::default()),
            depth_view: depth.create_view(&wgpu::TextureViewDescriptor::default()),
            colour,
            size,
        });
    }

    /// The colour texture of the last frame (its size is the last `render`'s).
    pub fn colour_texture(&self) -> Option<&wgpu::Texture> {
        self.target.as_ref().map(|t| &t.colour)
    }
    pub fn colour_view(&self) -> Option<&wgpu::TextureView> {
        self.target.as_ref().map(|t| &t.colour_view)
    }

    /// Renders `frame` into the view's texture; returns the commands to submit.
    pub fn render(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        frame: &Frame<'_>,
    ) -> wgpu::CommandBuffer {
        let Frame {
            size,
            camera,
            scene,
            show_mesh,
            ..
        } = *frame;
        let scene_origin = scene.origin;
        self.ensure_target(device, size);
        let aspect = f64::from(size.0.max(1)) / f64::from(size.1.max(1));
        let eye = camera.eye_dir().as_vec3();
        let u = Uniforms {
            view_proj: camera.view_proj(aspect, scene_origin).to_cols_array_2d(),
            eye_dir: [eye.x, eye.y, eye.z, 0.0],
        };
        queue.write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&u));
        let target = self.target.as_ref().expect("ensured");
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("swarf view frame"),
        });
        {
            let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("swarf view pass"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target.colour_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(BACKGROUND),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &target.depth_view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_bind_group(0, &self.bind_group, &[]);
            if let Some(up) = &self.uploaded {
                if show_mesh && let Some(mesh) = &up.mesh {
                    pass.set_pipeline(&self.mesh_pipeline);
                    pass.set_vertex_buffer(0, mesh.slice(..));
                    pass.draw(0..up.mesh_vertices, 0..1);
                }
                if let Some(lines) = &up.lines {
                    pass.set_pipeline(&self.line_pipeline);
                    pass.set_vertex_buffer(0, lines.slice(..));
                    for layer in Layer::ALL {
                        let (first, len) = up.layers[layer.index()];
                        let n = frame.vertices(layer).min(len);
                        let dim = frame
                            .dim_upto
                            .map_or(0, |k| frame.scene.vertices_upto(layer, k).min(n));
                        let dim = if matches!(layer, Layer::Outline | Layer::Stock) {
                            0
                        } else {
                            dim
                        };
                        if dim > 0 {
                            pass.draw(first..first + dim, 1..2);
                        }
                        if n > dim {
                            pass.draw(first + dim..first + n, 0..1);
                        }
                    }
                }
                if let Some((grid, n)) = &self.grid {
                    pass.set_pipeline(&self.line_pipeline);
                    pass.set_vertex_buffer(0, grid.slice(..));
                    pass.draw(0..*n, 0..1);
                }
            }
        }
        enc.finish()
    }
}
