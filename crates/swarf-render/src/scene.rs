//! What the view shows, as vertex lists grouped in layers, built once from core types.

use std::f64::consts::PI;

use bytemuck::{Pod, Zeroable};
use cavalier_contours::polyline::PlineSource;
use glam::DVec3;
use swarf_core::geometry::mesh::Mesh;
use swarf_core::geometry::{Pline, V2};
use swarf_core::toolpath::{Motion, MoveClass, P3, Toolpath, arc_sweep};

/// A line vertex: position relative to the scene origin, and colour.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct LineVertex {
    pub pos: [f32; 3],
    pub colour: [u8; 4],
}

/// A triangle vertex: position, face normal and colour.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct MeshVertex {
    pub pos: [f32; 3],
    pub normal: [f32; 3],
    pub colour: [u8; 4],
}

/// Groups of lines drawn (and hidden) together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// The drawing's loops and chains.
    Outline,
    /// The stock box.
    Stock,
    /// Grid and axes.
    Grid,
    Rapid,
    /// Straight feed moves.
    Feed,
    /// Arc feed moves (G2/G3).
    Arc,
    /// Helix, ramp and plunge entries.
    Entry,
    /// Stay-down links and lead moves.
    Link,
}

impl Layer {
    pub const ALL: [Layer; 8] = [
        Layer::Grid,
        Layer::Stock,
        Layer::Outline,
        Layer::Rapid,
        Layer::Feed,
        Layer::Arc,
        Layer::Entry,
        Layer::Link,
    ];
    pub fn index(self) -> usize {
        self as usize
    }
    /// The layer's colour when colouring by move type.
    pub fn colour(self) -> [u8; 4] {
        match self {
            Layer::Outline => [235, 235, 240, 255],
            Layer::Stock => [120, 130, 150, 255],
            Layer::Grid => [70, 76, 88, 255],
            Layer::Rapid => [230, 60, 60, 255],
            Layer::Feed => [70, 150, 255, 255],
            Layer::Arc => [60, 220, 200, 255],
            Layer::Entry => [255, 170, 40, 255],
            Layer::Link => [120, 220, 90, 255],
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Layer::Outline => "outline",
            Layer::Stock => "stock",
            Layer::Grid => "grid",
            Layer::Rapid => "rapid",
            Layer::Feed => "feed",
            Layer::Arc => "arc",
            Layer::Entry => "plunge/ramp",
            Layer::Link => "link/lead",
        }
    }
    fn of(m: MoveClass, arc: bool) -> Layer {
        match m {
            MoveClass::Rapid => Layer::Rapid,
            MoveClass::Entry => Layer::Entry,
            MoveClass::Link | MoveClass::Lead => Layer::Link,
            MoveClass::Cut if arc => Layer::Arc,
            MoveClass::Cut => Layer::Feed,
        }
    }
}

/// How toolpaths are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColourBy {
    /// Each move type its own colour ([`Layer::colour`]).
    MoveType,
    /// Each operation its own colour (rapids stay red).
    Operation,
}

/// Distinct colours for operations.
const OP_COLOURS: [[u8; 4]; 6] = [
    [70, 150, 255, 255],
    [255, 170, 40, 255],
    [60, 220, 140, 255],
    [220, 90, 220, 255],
    [240, 230, 80, 255],
    [90, 220, 240, 255],
];

/// The colour of the `i`-th operation when colouring by operation.
pub fn operation_colour(i: usize) -> [u8; 4] {
    OP_COLOURS[i % OP_COLOURS.len()]
}

/// Grid lines every `step` mm covering `lo`..`hi` (XY, one step of margin) at height `z`,
/// as line-list vertices relative to `origin`. Used for the scene's grid and for a grid that
/// follows the zoom ([`crate::Renderer::set_grid`]).
pub fn grid_vertices(origin: DVec3, lo: DVec3, hi: DVec3, z: f64, step: f64) -> Vec<LineVertex> {
    let x0 = (lo.x / step).floor() * step - step;
    let x1 = (hi.x / step).ceil() * step + step;
    let y0 = (lo.y / step).floor() * step - step;
    let y1 = (hi.y / step).ceil() * step + step;
    let colour = Layer::Grid.colour();
    let nx = ((x1 - x0) / step).round() as usize;
    let ny = ((y1 - y0) / step).round() as usize;
    let v = |x: f64, y: f64| LineVertex {
        pos: (DVec3::new(x, y, z) - origin).as_vec3().to_array(),
        colour,
    };
    let mut out = Vec::with_capacity(2 * (nx + ny + 2));
    for i in 0..=nx {
        let x = x0 + i as f64 * step;
        out.extend([v(x, y0), v(x, y1)]);
    }
    for j in 0..=ny {
        let y = y0 + j as f64 * step;
        out.extend([v(x0, y), v(x1, y)]);
    }
    out
}

/// Colour of a PCB's copper layer.
pub const COPPER: [u8; 4] = [230, 150, 70, 255];
/// Colour of a solder mask layer.
pub const MASK_GREEN: [u8; 4] = [90, 190, 110, 255];
/// Colour of a board outline layer.
pub const BOARD_EDGE: [u8; 4] = [230, 220, 120, 255];

/// Colour of a mesh part.
pub const PART_GREY: [u8; 4] = [190, 195, 205, 255];

/// Largest angle of one display segment of an arc.
const ARC_STEP: f64 = 5.0 * PI / 180.0;

/// The scene: line layers, triangles, bounds, and for each toolpath segment the move it
/// belongs to (for playing the program back).
#[derive(Clone, Debug, Default)]
pub struct Scene {
    /// Vertices per layer (pairs: line list), in [`Layer::ALL`] index order.
    pub lines: Vec<Vec<LineVertex>>,
    /// Index of the move (counted over all toolpaths added) of each segment, per layer.
    pub line_move: Vec<Vec<u32>>,
    pub triangles: Vec<MeshVertex>,
    /// World coordinates of the scene origin: vertices are stored relative to it, so f32 keeps
    /// sub-micrometre precision far from the machine zero.
    pub origin: DVec3,
    pub bounds_min: DVec3,
    pub bounds_max: DVec3,
    /// Bounds of the part and stock alone (what a view is fitted to: rapids at clearance
    /// height above a micro part would otherwise shrink it to a speck).
    pub part_min: DVec3,
    pub part_max: DVec3,
    /// Moves added so far.
    pub moves: u32,
    colour_by: Option<ColourBy>,
    ops: usize,
}

impl Scene {
    /// An empty scene whose vertices are stored relative to `origin`.
    pub fn new(origin: DVec3) -> Self {
        Self {
            lines: vec![Vec::new(); Layer::ALL.len()],
            line_move: vec![Vec::new(); Layer::ALL.len()],
            origin,
            bounds_min: DVec3::splat(f64::INFINITY),
            bounds_max: DVec3::splat(f64::NEG_INFINITY),
            part_min: DVec3::splat(f64::INFINITY),
            part_max: DVec3::splat(f64::NEG_INFINITY),
            ..Self::default()
        }
    }

    fn rel(&self, p: DVec3) -> [f32; 3] {
        (p - self.origin).as_vec3().to_array()
    }
    fn grow(&mut self, p: DVec3) {
        self.bounds_min = self.bounds_min.min(p);
        self.bounds_max = self.bounds_max.max(p);
    }
    fn grow_part(&mut self, p: DVec3) {
        self.grow(p);
        self.part_min = self.part_min.min(p);
        self.part_max = self.part_max.max(p);
    }
    /// What a view should frame: the part and stock, or everything when there is no part.
    pub fn fit_bounds(&self) -> (DVec3, DVec3) {
        if self.part_min.x <= self.part_max.x {
            (self.part_min, self.part_max)
        } else {
            (self.bounds_min, self.bounds_max)
        }
    }
    /// Whether anything with extent was added.
    pub fn has_bounds(&self) -> bool {
        self.bounds_min.x <= self.bounds_max.x
    }
    /// Line segments in all layers.
    pub fn segments(&self) -> usize {
        self.lines.iter().map(|l| l.len() / 2).sum()
    }

    fn line(&mut self, layer: Layer, a: DVec3, b: DVec3, colour: [u8; 4], mv: u32) {
        let (ra, rb) = (self.rel(a), self.rel(b));
        let l = &mut self.lines[layer.index()];
        l.push(LineVertex { pos: ra, colour });
        l.push(LineVertex { pos: rb, colour });
        self.line_move[layer.index()].push(mv);
    }

    /// A job's part: a drawing's loops and chains at Z = 0, or a mesh shaded.
    pub fn add_model(&mut self, model: &swarf_core::import::Model) {
        match model {
            swarf_core::import::Model::Drawing(d) => {
                // A PCB layer in its colour: copper, solder mask, the board's outline.
                use swarf_core::import::LayerKind;
                let c = match d.board_layer() {
                    Some(LayerKind::Copper) => COPPER,
                    Some(LayerKind::SolderMask) => MASK_GREEN,
                    Some(LayerKind::Outline) => BOARD_EDGE,
                    _ => Layer::Outline.colour(),
                };
                self.add_plines_coloured(&d.closed_loops, 0.0, c);
                self.add_plines_coloured(&d.open_chains, 0.0, c);
            }
            swarf_core::import::Model::Mesh(m) => self.add_mesh(&m.mesh, PART_GREY),
        }
    }

    /// A job's result: the part, copy 1's toolpaths (first, so move-indexed ranges such as
    /// playback stay valid; only when copy 1 is cut) and every other copy. Returns the deepest
    /// Z of the toolpaths (0 at most). The stock is the caller's to draw.
    pub fn add_output(&mut self, out: &swarf_core::job::JobOutput, colour_by: ColourBy) -> f64 {
        for m in out.models() {
            self.add_model(m);
        }
        let mut depth: f64 = 0.0;
        let first_cut = Self::first_copy_cut(&out.copies);
        for (_, _, r) in &out.operations {
            for m in &r.toolpath.moves {
                depth = depth.min(m.to.z);
            }
            if first_cut {
                self.add_toolpath(&r.toolpath, colour_by);
            }
        }
        let toolpaths: Vec<&swarf_core::toolpath::Toolpath> =
            out.operations.iter().map(|(_, _, r)| &r.toolpath).collect();
        self.add_copies(&out.model, &toolpaths, &out.copies, colour_by);
        if let Some(map) = &out.height_map {
            self.add_height_map(map);
        }
        depth
    }

    /// A probed height map as its grid at the heights, coloured from blue (lowest) to red
    /// (highest), in the stock's layer.
    pub fn add_height_map(&mut self, map: &swarf_core::level::HeightMap) {
        let (lo, hi) = map.range();
        let span = (hi - lo).max(1e-12);
        let colour = |z: f64| -> [u8; 4] {
            let t = ((z - lo) / span).clamp(0.0, 1.0);
            [
                (40.0 + 215.0 * t) as u8,
                (90.0 + 80.0 * (1.0 - (2.0 * t - 1.0).abs())) as u8,
                (255.0 - 215.0 * t) as u8,
                255,
            ]
        };
        let node = |i: usize, j: usize| {
            let p = map.node(i, j);
            let z = map.z[j * map.nx + i];
            (DVec3::new(p.x, p.y, z), colour(z))
        };
        for j in 0..map.ny {
            for i in 0..map.nx {
                let (a, ca) = node(i, j);
                self.grow(a);
                for (b, _) in [
                    (i + 1 < map.nx).then(|| node(i + 1, j)),
                    (j + 1 < map.ny).then(|| node(i, j + 1)),
                ]
                .into_iter()
                .flatten()
                {
                    // Each edge in the colour of the height where it starts.
                    self.line(Layer::Stock, a, b, ca, 0);
                }
            }
        }
    }

    /// The copies of an array other than copy 1 (the part as drawn, added with
    /// [`Scene::add_model`] and its own toolpaths): each copy's outline (or mesh) and, for the
    /// copies cut, `toolpaths` moved to its place. Copy 1's geometry and moves come first in the scene, so
    /// segment ranges that index its moves stay valid.
    pub fn add_copies(
        &mut self,
        model: &swarf_core::import::Model,
        toolpaths: &[&swarf_core::toolpath::Toolpath],
        copies: &[swarf_core::array::Placement],
        colour_by: ColourBy,
    ) {
        use swarf_core::array::Placement;
        // Copies left out show their outline only (so they can be seen, and clicked back).
        for c in copies.iter().filter(|c| **c != Placement::ORIGINAL) {
            match model {
                swarf_core::import::Model::Drawing(d) => {
                    let moved: Vec<_> = d
                        .closed_loops
                        .iter()
                        .chain(&d.open_chains)
                        .map(|p| c.pline(p))
                        .collect();
                    self.add_plines(&moved, 0.0);
                }
                swarf_core::import::Model::Mesh(m) => {
                    let mut mesh = m.mesh.clone();
                    for v in &mut mesh.vertices {
                        let p = c.apply(swarf_core::geometry::V2::new(v[0], v[1]));
                        *v = [p.x, p.y, v[2]];
                    }
                    self.add_mesh(&mesh, PART_GREY);
                }
            }
            if c.enabled {
                for tp in toolpaths {
                    self.add_toolpath(&c.toolpath(tp), colour_by);
                }
            }
        }
    }

    /// Whether copy 1 (the part as drawn) is cut: its toolpaths are drawn only then.
    fn first_copy_cut(copies: &[swarf_core::array::Placement]) -> bool {
        copies
            .iter()
            .find(|c| c.number == 1)
            .is_none_or(|c| c.enabled)
    }

    /// A shaded mesh (an STL part).
    pub fn add_mesh(&mut self, mesh: &Mesh, colour: [u8; 4]) {
        self.triangles.reserve(mesh.triangles.len() * 3);
        for t in &mesh.triangles {
            let p = t.map(|i| DVec3::from_array(mesh.vertices[i as usize]));
            let n = (p[1] - p[0]).cross(p[2] - p[0]).normalize_or_zero();
            for q in p {
                self.grow_part(q);
                self.triangles.push(MeshVertex {
                    pos: self.rel(q),
                    normal: n.as_vec3().to_array(),
                    colour,
                });
            }
        }
    }

    /// Loops and chains of a drawing at height `z` (arcs drawn in 5° pieces).
    pub fn add_plines(&mut self, plines: &[Pline], z: f64) {
        self.add_plines_coloured(plines, z, Layer::Outline.colour());
    }

    /// [`Scene::add_plines`] in colour `c`.
    pub fn add_plines_coloured(&mut self, plines: &[Pline], z: f64, c: [u8; 4]) {
        for p in plines {
            let n = p.vertex_count();
            let segs = if p.is_closed() {
                n
            } else {
                n.saturating_sub(1)
            };
            for i in 0..segs {
                let (v1, v2) = (p.at(i), p.at((i + 1) % n));
                let (a, b) = (V2::new(v1.x, v1.y), V2::new(v2.x, v2.y));
                if v1.bulge == 0.0 {
                    self.outline(a, b, z, c);
                } else {
                    let (centre, r) =
                        swarf_core::geometry::biarc::arc_centre_radius(a, b, v1.bulge);
                    let sweep = 4.0 * v1.bulge.atan();
                    let k = (sweep.abs() / ARC_STEP).ceil().max(1.0) as usize;
                    let a0 = (a - centre).angle();
                    let mut last = a;
                    for j in 1..=k {
                        let q = if j == k {
                            b
                        } else {
                            centre + V2::from_angle(a0 + sweep * j as f64 / k as f64) * r
                        };
                        self.outline(last, q, z, c);
                        last = q;
                    }
                }
            }
        }
    }

    fn outline(&mut self, a: V2, b: V2, z: f64, c: [u8; 4]) {
        let (a, b) = (DVec3::new(a.x, a.y, z), DVec3::new(b.x, b.y, z));
        self.grow_part(a);
        self.grow_part(b);
        self.line(Layer::Outline, a, b, c, 0);
    }

    /// A wireframe box (the stock).
    pub fn add_box(&mut self, lo: DVec3, hi: DVec3) {
        let c = Layer::Stock.colour();
        let corner = |i: usize| {
            DVec3::new(
                if i & 1 == 0 { lo.x } else { hi.x },
                if i & 2 == 0 { lo.y } else { hi.y },
                if i & 4 == 0 { lo.z } else { hi.z },
            )
        };
        for i in 0..8 {
            self.grow_part(corner(i));
            for bit in [1, 2, 4] {
                if i & bit == 0 {
                    self.line(Layer::Stock, corner(i), corner(i | bit), c, 0);
                }
            }
        }
    }

    /// The job's stock: a block's edges, or a round bar's top and bottom circles (as short
    /// chords, 128 round) and four lines down its side.
    pub fn add_stock(&mut self, stock: &swarf_core::setup::StockShape) {
        match *stock {
            swarf_core::setup::StockShape::Box { min, max } => {
                self.add_box(DVec3::from_array(min), DVec3::from_array(max));
            }
            swarf_core::setup::StockShape::Cylinder {
                centre,
                radius,
                z_min,
                z_max,
            } => {
                let c = Layer::Stock.colour();
                let at = |k: usize, z: f64| {
                    let a = std::f64::consts::TAU * k as f64 / 128.0;
                    DVec3::new(centre.x + radius * a.cos(), centre.y + radius * a.sin(), z)
                };
                for z in [z_min, z_max] {
                    for k in 0..128 {
                        self.grow_part(at(k, z));
                        self.line(Layer::Stock, at(k, z), at(k + 1, z), c, 0);
                    }
                }
                for k in [0, 32, 64, 96] {
                    self.line(Layer::Stock, at(k, z_min), at(k, z_max), c, 0);
                }
            }
        }
    }

    /// A grid in the plane z = `z` under the part, with a power-of-ten spacing that gives four
    /// to forty lines across it (0.1 mm on a 2 mm part, 10 µm on a 0.2 mm one), and the X/Y/Z axes
    /// at the origin.
    pub fn add_grid(&mut self, z: f64) -> f64 {
        if !self.has_bounds() {
            return 0.0;
        }
        let (lo, hi) = self.fit_bounds();
        let ext = (hi.x - lo.x).max(hi.y - lo.y).max(1e-6);
        let step = 10f64.powf((ext / 4.0).log10().floor());
        let v = grid_vertices(self.origin, lo, hi, z, step);
        let g = Layer::Grid.index();
        self.line_move[g].extend(std::iter::repeat_n(0, v.len() / 2));
        self.lines[g].extend(v);
        self.add_axes(z, step * 2.0);
        step
    }

    /// The X (red), Y (green) and Z (blue) axes from the work origin, `len` long, starting at
    /// height `z` (or the stock top when that is lower).
    pub fn add_axes(&mut self, z: f64, len: f64) {
        let lo = self.fit_bounds().0;
        let o = DVec3::new(0.0, 0.0, z.max(lo.z.min(0.0)));
        self.line(Layer::Grid, o, o + DVec3::X * len, [230, 70, 70, 255], 0);
        self.line(Layer::Grid, o, o + DVec3::Y * len, [70, 220, 70, 255], 0);
        self.line(Layer::Grid, o, o + DVec3::Z * len, [80, 120, 255, 255], 0);
    }

    /// A toolpath (one operation), coloured as asked.
    pub fn add_toolpath(&mut self, tp: &Toolpath, colour_by: ColourBy) {
        self.colour_by = Some(colour_by);
        let op_colour = operation_colour(self.ops);
        self.ops += 1;
        let p3 = |p: P3| DVec3::new(p.x, p.y, p.z);
        let mut from = tp.start;
        for m in &tp.moves {
            let idx = self.moves;
            self.moves += 1;
            let arc = matches!(m.motion, Motion::Arc { .. });
            let layer = Layer::of(m.class, arc);
            let colour = match colour_by {
                ColourBy::MoveType => layer.colour(),
                ColourBy::Operation if layer == Layer::Rapid => layer.colour(),
                ColourBy::Operation => op_colour,
            };
            self.grow(p3(m.to));
            if let Motion::Arc { centre, ccw } = m.motion {
                let sweep = arc_sweep(from.xy(), m.to.xy(), centre, ccw);
                let r = from.xy().dist(centre);
                let k = (sweep.abs() / ARC_STEP).ceil().max(1.0) as usize;
                let a0 = (from.xy() - centre).angle();
                let mut last = p3(from);
                for j in 1..=k {
                    let t = j as f64 / k as f64;
                    let q = if j == k {
                        p3(m.to)
                    } else {
                        let xy = centre + V2::from_angle(a0 + sweep * t) * r;
                        DVec3::new(xy.x, xy.y, from.z + (m.to.z - from.z) * t)
                    };
                    self.grow(q);
                    self.line(layer, last, q, colour, idx);
                    last = q;
                }
            } else if from != m.to {
                self.line(layer, p3(from), p3(m.to), colour, idx);
            }
            from = m.to;
        }
    }

    /// Vertices of each layer drawn when the program is played back to move `upto`
    /// (exclusive); outline, stock and grid are always whole.
    pub fn vertices_upto(&self, layer: Layer, upto: u32) -> u32 {
        let i = layer.index();
        match layer {
            Layer::Outline | Layer::Stock | Layer::Grid => self.lines[i].len() as u32,
            _ => 2 * self.line_move[i].partition_point(|&m| m < upto) as u32,
        }
    }
}
