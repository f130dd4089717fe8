//! Showing the view's picture inside another pass (egui's, in the app): one triangle samples
//! the renderer's colour texture. The pass of a GUI toolkit usually has no depth attachment,
//! which is why the 3D view renders into its own colour + depth textures first.

use crate::Renderer;

const COMPOSITE_WGSL: &str = r"
@group(0) @binding(0) var pic: texture_2d<f32>;
@group(0) @binding(1) var smp: sampler;
struct Out { @builtin(position) pos: vec4<f32>, @location(0) uv: vec2<f32> };
@vertex fn vs(@builtin(vertex_index) i: u32) -> Out {
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    var o: Out;
    o.pos = vec4<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0, 0.0, 1.0);
    o.uv = uv;
    return o;
}
// The picture holds display (sRGB-encoded) values, as egui's own colours are.
@fragment fn fs_gamma(v: Out) -> @location(0) vec4<f32> {
    return textureSample(pic, smp, v.uv);
}
@fragment fn fs_linear(v: Out) -> @location(0) vec4<f32> {
    let c = textureSample(pic, smp, v.uv);
    let lo = c.rgb / 12.92;
    let hi = pow((c.rgb + 0.055) / 1.055, vec3<f32>(2.4));
    return vec4<f32>(select(hi, lo, c.rgb <= vec3<f32>(0.04045)), c.a);
}
";

/// The copy pipeline for one target format, and the bind group of the picture it samples.
pub(crate) struct Composite {
    format: wgpu::TextureFormat,
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    /// Bind group of the colour texture, and the size it was made for.
    bind: Option<(wgpu::BindGroup, (u32, u32))>,
}

impl Composite {
    /// The pipeline for a target of `format` (single-sampled, no depth).
    fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("swarf view composite"),
            source: wgpu::ShaderSource::Wgsl(COMPOSITE_WGSL.into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("swarf view composite"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("swarf view composite"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("swarf view composite"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                buffers: &[],
            },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some(if format.is_srgb() {
                    "fs_linear"
                } else {
                    "fs_gamma"
                }),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            multiview_mask: None,
            cache: None,
        });
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("swarf view composite"),
            ..wgpu::SamplerDescriptor::default()
        });
        Self {
            format,
            pipeline,
            layout,
            sampler,
            bind: None,
        }
    }
}

impl Renderer {
    /// Makes ready to copy the last rendered picture into a pass whose target has `format`:
    /// the pipeline once per format, the bind group once per picture size. Call after
    /// [`Renderer::render`], before the pass that [`Renderer::composite`] draws into.
    pub fn prepare_composite(&mut self, device: &wgpu::Device, format: wgpu::TextureFormat) {
        if self.composite.as_ref().is_none_or(|c| c.format != format) {
            self.composite = Some(Composite::new(device, format));
        }
        let Some(view) = self.colour_view() else {
            return;
        };
        let size = self
            .colour_texture()
            .map(|t| (t.width(), t.height()))
            .unwrap_or_default();
        let view = view.clone();
        let c = self.composite.as_mut().expect("made above");
        if c.bind.as_ref().map(|b| b.1) != Some(size) {
            let bg = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("swarf view picture"),
                layout: &c.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&view),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::Sampler(&c.sampler),
                    },
                ],
            });
            c.bind = Some((bg, size));
        }
    }

    /// Copies the last rendered picture into `pass` (over its whole viewport). Nothing is drawn
    /// before [`Renderer::prepare_composite`].
    pub fn composite(&self, pass: &mut wgpu::RenderPass<'_>) {
        let Some(Composite {
            pipeline,
            bind: Some((bg, _)),
            ..
        }) = &self.composite
        else {
            return;
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bg, &[]);
        pass.draw(0..3, 0..1);
    }
}
