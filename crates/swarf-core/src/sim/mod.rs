//! Stock simulation and the micro-cutting checks that need it: removed volume, engagement,
//! chip thickness, tool deflection, rapids through stock, plunges into uncut material,
//! controller block rate, and cycle time with acceleration.

pub mod heightmap;
mod stock;
pub mod time;

use serde::{Deserialize, Serialize};

use crate::geometry::{Tolerance, V2};
use crate::tool::Tool;
use crate::toolpath::{Motion, Move, P3, Toolpath, arc_sweep};

pub use heightmap::{CutterProfile, Heightmap};
pub use stock::{simulate_output, stock_mesh};
pub use time::{MachineLimits, cycle_time};

/// Stock materials with their specific cutting force (N/mm²).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Material {
    #[default]
    Aluminium,
    Brass,
    Copper,
    Steel,
    Stainless,
    Titanium,
    Plastic,
}

impl Material {
    /// Specific cutting force kc, N/mm² (textbook values at small chip thickness).
    pub fn kc_n_per_mm2(self) -> f64 {
        match self {
            Material::Aluminium => 800.0,
            Material::Brass => 900.0,
            Material::Copper => 1100.0,
            Material::Steel => 2200.0,
            Material::Stainless => 2600.0,
            Material::Titanium => 2000.0,
            Material::Plastic => 150.0,
        }
    }
}

impl std::str::FromStr for Material {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "aluminium" | "aluminum" | "al" => Ok(Material::Aluminium),
            "brass" => Ok(Material::Brass),
            "copper" => Ok(Material::Copper),
            "steel" => Ok(Material::Steel),
            "stainless" => Ok(Material::Stainless),
            "titanium" => Ok(Material::Titanium),
            "plastic" | "pmma" | "pom" => Ok(Material::Plastic),
            _ => Err(format!(
                "unknown material '{s}'; use aluminium, brass, copper, steel, stainless, titanium or plastic"
            )),
        }
    }
}

/// The minimum chip thickness as a fraction of the cutting-edge radius, by tool material
/// (micro-cutting literature: about 0.3 for fine-grain carbide, more for HSS whose edge
/// ploughs longer, less for sharp diamond).
pub fn min_chip_fraction_for(tool_material: &str) -> f64 {
    match tool_material.to_ascii_lowercase().as_str() {
        "hss" | "steel" => 0.4,
        "diamond" | "pcd" | "mcd" => 0.2,
        // Carbide, CBN and anything unknown.
        _ => 0.3,
    }
}

/// Settings of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimOptions {
    pub material: Material,
    /// Minimum chip thickness as a fraction of the cutting-edge radius; `None` takes the tool
    /// material's value ([`min_chip_fraction_for`]: 0.3 for carbide).
    pub min_chip_fraction: Option<f64>,
    /// Deflection above this warns, mm (the job's tolerance).
    pub deflection_limit_mm: f64,
    /// Blocks per second the controller can take (GRBL about 1000).
    pub max_blocks_per_s: f64,
    pub machine: MachineLimits,
}

impl SimOptions {
    /// The minimum chip fraction for this tool: the setting, or the tool material's value.
    pub fn min_chip_fraction_of(&self, tool: &Tool) -> f64 {
        self.min_chip_fraction
            .unwrap_or_else(|| min_chip_fraction_for(&tool.material))
    }
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            material: Material::Aluminium,
            min_chip_fraction: None,
            deflection_limit_mm: 0.002,
            max_blocks_per_s: 1000.0,
            machine: MachineLimits::default(),
        }
    }
}

/// Per-move figures.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MoveCheck {
    /// Radial engagement angle, degrees (0 in air).
    pub engagement_deg: f32,
    /// Axial depth of cut, mm.
    pub depth_mm: f32,
    /// Mean chip thickness, µm.
    pub chip_um: f32,
    /// Tool deflection estimate, µm.
    pub deflection_um: f32,
}

/// What a simulation found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SimResult {
    pub removed_volume_mm3: f64,
    pub estimated_seconds: f64,
    pub naive_seconds: f64,
    pub max_engagement_deg: f64,
    /// Smallest mean chip thickness of an engaged move, µm.
    pub min_chip_thickness_um: Option<f64>,
    pub max_deflection_um: f64,
    /// Move indices of rapids that pass through stock.
    pub rapids_through_stock: Vec<usize>,
    /// Move indices of feed moves that plunge straight down into uncut material.
    pub plunges: Vec<usize>,
    /// Move indices with chips thinner than the minimum.
    pub thin_chips: Vec<usize>,
    /// Move indices whose deflection exceeds the limit.
    pub deflected: Vec<usize>,
    /// Move indices whose block rate exceeds the controller's.
    pub starving: Vec<usize>,
    /// Figures of each move simulated, in order.
    #[serde(skip)]
    pub per_move: Vec<MoveCheck>,
}

/// Maxima over a range of moves (one operation of a program).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RangeFigures {
    pub max_engagement_deg: f64,
    pub min_chip_thickness_um: Option<f64>,
    pub max_deflection_um: f64,
}

impl SimResult {
    /// Engagement, chip and deflection figures of the moves in `range`.
    pub fn figures(&self, range: std::ops::Range<usize>) -> RangeFigures {
        let mut f = RangeFigures::default();
        for c in self.per_move.get(range).unwrap_or(&[]) {
            f.max_engagement_deg = f.max_engagement_deg.max(f64::from(c.engagement_deg));
            f.max_deflection_um = f.max_deflection_um.max(f64::from(c.deflection_um));
            if c.engagement_deg > 0.0 {
                let h = f64::from(c.chip_um);
                f.min_chip_thickness_um = Some(f.min_chip_thickness_um.map_or(h, |v| v.min(h)));
            }
        }
        f
    }
}

/// A heightmap cell size for a tool and part: a fifth of the tool radius, but at least 1/3000
/// of the part and at most 16 million cells.
pub fn choose_cell(tool_radius: f64, extent_x: f64, extent_y: f64) -> f64 {
    let e = extent_x.max(extent_y);
    let mut cell = (tool_radius / 5.0).max(e / 3000.0);
    while (extent_x / cell).ceil() * (extent_y / cell).ceil() > 16.0e6 {
        cell *= 1.25;
    }
    cell
}

/// Young's modulus of the tool material, N/mm².
fn modulus(tool: &Tool) -> f64 {
    match tool.material.to_ascii_lowercase().as_str() {
        "hss" | "steel" => 210_000.0,
        "diamond" | "pcd" => 900_000.0,
        _ => 600_000.0,
    }
}

fn point_dir(from: P3, m: &Move) -> (P3, V2) {
    if let Motion::Arc { centre, ccw } = m.motion {
        let sweep = arc_sweep(from.xy(), m.to.xy(), centre, ccw);
        let r = from.xy().dist(centre);
        let a = (from.xy() - centre).angle() + sweep * 0.5;
        let p = centre + V2::from_angle(a) * r;
        let dir = V2::from_angle(a).perp() * sweep.signum();
        (P3::new(p.x, p.y, 0.5 * (from.z + m.to.z)), dir)
    } else {
        let d = (m.to.xy() - from.xy()).normalized();
        (
            P3::new(
                0.5 * (from.x + m.to.x),
                0.5 * (from.y + m.to.y),
                0.5 * (from.z + m.to.z),
            ),
            d,
        )
    }
}

/// Points on the leading half of the tool's circumference where engagement is sampled.
const ENGAGEMENT_SAMPLES: usize = 64;

/// Simulates moves `range` of the toolpath on the stock (incremental: call again with the next
/// range), measuring engagement and the rest before each cut.
pub struct Simulation<'a> {
    pub stock: Heightmap,
    tp: &'a Toolpath,
    tool: &'a Tool,
    profile: CutterProfile,
    opts: SimOptions,
    tol: Tolerance,
    next: usize,
    /// Sines and cosines of the engagement sample angles across the leading half.
    rot: Vec<(f64, f64)>,
    pub result: SimResult,
}

impl<'a> Simulation<'a> {
    pub fn new(
        stock: Heightmap,
        tp: &'a Toolpath,
        tool: &'a Tool,
        opts: SimOptions,
        tol: Tolerance,
    ) -> Self {
        let (est, naive) = cycle_time(tp, &opts.machine);
        Self {
            profile: CutterProfile::of(tool),
            stock,
            tp,
            tool,
            opts,
            tol,
            next: 0,
            rot: (0..ENGAGEMENT_SAMPLES)
                .map(|k| {
                    (-std::f64::consts::FRAC_PI_2
                        + std::f64::consts::PI * (k as f64 + 0.5) / ENGAGEMENT_SAMPLES as f64)
                        .sin_cos()
                })
                .collect(),
            result: SimResult {
                estimated_seconds: est,
                naive_seconds: naive,
                per_move: Vec::with_capacity(tp.moves.len()),
                ..SimResult::default()
            },
        }
    }

    /// Moves simulated so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Simulates up to move `n` (exclusive).
    pub fn run_to(&mut self, n: usize) {
        let n = n.min(self.tp.moves.len());
        while self.next < n {
            let i = self.next;
            let from = if i == 0 {
                self.tp.start
            } else {
                self.tp.moves[i - 1].to
            };
            let m = self.tp.moves[i];
            let check = self.check(i, from, &m);
            self.result.per_move.push(check);
            self.result.removed_volume_mm3 += self.stock.cut(from, &m, &self.profile);
            self.next += 1;
        }
    }

    fn check(&mut self, i: usize, from: P3, m: &Move) -> MoveCheck {
        let r = self.profile.radius;
        let zt = self.tol.path_mm;
        let res = &mut self.result;
        if matches!(m.motion, Motion::Rapid) {
            let mut hit = false;
            self.stock.sweep(from, m, &self.profile, |k, z| {
                if f64::from(self.stock.z[k]) > z + zt {
                    hit = true;
                }
            });
            if hit {
                res.rapids_through_stock.push(i);
            }
            return MoveCheck::default();
        }
        // Vertical plunge into uncut material (what a drill is made for: not counted).
        if from.xy() == m.to.xy() && m.to.z < from.z {
            // Part of the descent below the material's top is a plunge into stock.
            if !matches!(self.tool.shape, crate::tool::ToolShape::Drill { .. })
                && self
                    .stock
                    .at(m.to.xy())
                    .is_some_and(|h| h.min(from.z) - m.to.z > zt)
            {
                res.plunges.push(i);
            }
            return MoveCheck::default();
        }
        let (p, dir) = point_dir(from, m);
        if dir == V2::default() {
            return MoveCheck::default();
        }
        // Engagement: the part of the leading half of the tool's circumference in material.
        let n = ENGAGEMENT_SAMPLES as u32;
        let mut engaged = 0;
        let mut top: f64 = f64::NEG_INFINITY;
        for &(s, c) in &self.rot {
            let d = V2::new(dir.x * c - dir.y * s, dir.x * s + dir.y * c);
            let q = p.xy() + d * (r * 0.999);
            if let Some(h) = self.stock.at(q)
                && h > p.z + zt
            {
                engaged += 1;
                top = top.max(h);
            }
        }
        let phi = std::f64::consts::PI * f64::from(engaged) / f64::from(n);
        let mut mc = MoveCheck {
            engagement_deg: phi.to_degrees() as f32,
            ..MoveCheck::default()
        };
        if engaged == 0 {
            return mc;
        }
        let ap = (top - p.z).min(self.tool.flute_length_mm).max(0.0);
        let fz = m.feed_mm_per_min / (self.tool.feeds.rpm * f64::from(self.tool.flutes));
        let hm = fz * (1.0 - phi.cos()) / phi;
        let force = self.opts.material.kc_n_per_mm2() * hm * ap;
        let d_eff = 0.8 * self.tool.diameter_mm;
        let inertia = std::f64::consts::PI * d_eff.powi(4) / 64.0;
        let l = self.tool.stickout_mm;
        let defl = force * l.powi(3) / (3.0 * modulus(self.tool) * inertia);
        mc.depth_mm = ap as f32;
        mc.chip_um = (hm * 1000.0) as f32;
        mc.deflection_um = (defl * 1000.0) as f32;
        res.max_engagement_deg = res.max_engagement_deg.max(phi.to_degrees());
        res.min_chip_thickness_um = Some(
            res.min_chip_thickness_um
                .map_or(hm * 1000.0, |v| v.min(hm * 1000.0)),
        );
        res.max_deflection_um = res.max_deflection_um.max(defl * 1000.0);
        let fraction = self.opts.min_chip_fraction_of(self.tool);
        let min_chip = fraction * self.tool.cutting_edge_radius_um / 1000.0;
        if hm < min_chip {
            res.thin_chips.push(i);
        }
        if defl > self.opts.deflection_limit_mm {
            res.deflected.push(i);
        }
        let len = m.length_from(from);
        if len > 0.0 && m.feed_mm_per_min / 60.0 / len > self.opts.max_blocks_per_s {
            res.starving.push(i);
        }
        mc
    }
}

#[cfg(test)]
mod tests;
