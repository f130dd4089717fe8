struct Uniforms {
    view_proj: mat4x4<f32>,
    // xyz: unit vector toward the eye.
    eye_dir: vec4<f32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;

struct LineOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) colour: vec4<f32>,
};

// Instance 1 draws the part of the program already run on the machine: dimmed.
@vertex
fn vs_line(
    @location(0) p: vec3<f32>,
    @location(1) c: vec4<f32>,
    @builtin(instance_index) inst: u32,
) -> LineOut {
    var o: LineOut;
    o.pos = u.view_proj * vec4<f32>(p, 1.0);
    if (inst == 1u) {
        o.colour = vec4<f32>(c.rgb * 0.3, c.a);
    } else {
        o.colour = c;
    }
    return o;
}

@fragment
fn fs_line(i: LineOut) -> @location(0) vec4<f32> {
    return i.colour;
}

struct MeshOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) normal: vec3<f32>,
    @location(1) colour: vec4<f32>,
};

@vertex
fn vs_mesh(@location(0) p: vec3<f32>, @location(1) n: vec3<f32>, @location(2) c: vec4<f32>) -> MeshOut {
    var o: MeshOut;
    o.pos = u.view_proj * vec4<f32>(p, 1.0);
    o.normal = n;
    o.colour = c;
    return o;
}

@fragment
fn fs_mesh(i: MeshOut) -> @location(0) vec4<f32> {
    // Headlight: faces toward the eye bright, edge-on faces dark, both sides lit.
    let shade = 0.3 + 0.7 * abs(dot(normalize(i.normal), u.eye_dir.xyz));
    return vec4<f32>(i.colour.rgb * shade, i.colour.a);
}
