//! Cutting tools, feeds and speeds, and the tool library file.

use serde::{Deserialize, Serialize};

/// The shape of a tool's cutting end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToolShape {
    /// Flat end mill.
    Flat,
    /// Ball end mill (corner radius = diameter / 2).
    Ball,
    /// Bull-nose end mill with a corner radius.
    Bull { corner_radius_mm: f64 },
    /// V (engraving) cutter: included angle and tip diameter.
    V {
        angle_deg: f64,
        tip_diameter_mm: f64,
    },
    /// Twist drill with its point angle (118° or 135° for most, 140° for carbide micro drills).
    Drill { point_angle_deg: f64 },
}

/// One cutting tool with its feeds and speeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    /// Tool number for the tool change (`T1 M6`).
    #[serde(default = "one")]
    pub number: u32,
    pub shape: ToolShape,
    pub diameter_mm: f64,
    pub flutes: u32,
    pub flute_length_mm: f64,
    pub stickout_mm: f64,
    /// Radius of the cutting edge (edge rounding), in µm; the minimum chip thickness is a
    /// fraction of it.
    #[serde(default = "default_edge_radius")]
    pub cutting_edge_radius_um: f64,
    /// Tool material, e.g. "carbide".
    #[serde(default = "carbide")]
    pub material: String,
    pub max_rpm: f64,
    #[serde(default)]
    pub min_rpm: f64,
    pub feeds: Feeds,
    /// Seconds the spindle needs to reach this tool's speed; when given, the program dwells this
    /// long after starting the spindle (instead of the post's `spindle_dwell_s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spin_up_s: Option<f64>,
}

/// Spindle speed and chip load; the feed rates follow from them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feeds {
    pub rpm: f64,
    /// Chip load per tooth, mm.
    pub feed_per_tooth_mm: f64,
    /// Vertical plunge feed (only into cleared space), mm/min.
    pub plunge_mm_per_min: f64,
    /// Feed along helix and ramp entries, mm/min.
    pub ramp_mm_per_min: f64,
    /// Stay-down links through cleared material (adaptive clearing's ways between passes,
    /// which engage the tool 5–16° at most) run at this multiple of the cutting feed; 1 keeps
    /// them at the cutting feed. Default 2.
    #[serde(default = "two")]
    pub link_feed_factor: f64,
}

fn two() -> f64 {
    2.0
}

fn one() -> u32 {
    1
}
fn default_edge_radius() -> f64 {
    2.0
}
fn carbide() -> String {
    "carbide".into()
}

/// A tool definition that makes no sense, with the field named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("tool '{tool}': {field} {problem}")]
pub struct ToolError {
    pub tool: String,
    pub field: &'static str,
    pub problem: String,
}

impl Tool {
    /// Cutting feed rate: rpm × flutes × chip load, mm/min.
    pub fn feed_mm_per_min(&self) -> f64 {
        self.feeds.rpm * f64::from(self.flutes) * self.feeds.feed_per_tooth_mm
    }
    pub fn radius_mm(&self) -> f64 {
        self.diameter_mm * 0.5
    }
    /// Corner radius of the tip (0 for flat and V tools).
    pub fn corner_radius_mm(&self) -> f64 {
        match self.shape {
            ToolShape::Flat | ToolShape::V { .. } | ToolShape::Drill { .. } => 0.0,
            ToolShape::Ball => self.radius_mm(),
            ToolShape::Bull { corner_radius_mm } => corner_radius_mm,
        }
    }
    /// Radius of the cut at the top of the stock (Z = 0) when the tip is `depth_mm` below it:
    /// the full radius for end mills deeper than their corner, less for a V tool, a drill's
    /// point or a ball that only dips in (an isolation cut 0.05 mm deep with a 30° V bit is
    /// about 0.13 mm wide, not the shank's 3.175 mm).
    pub fn radius_at_depth_mm(&self, depth_mm: f64) -> f64 {
        let r = self.radius_mm();
        let d = depth_mm.max(0.0);
        match self.shape {
            ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => (tip_diameter_mm * 0.5 + d * (angle_deg.to_radians() * 0.5).tan()).min(r),
            ToolShape::Drill { point_angle_deg } if point_angle_deg < 180.0 => {
                (d * (point_angle_deg.to_radians() * 0.5).tan()).min(r)
            }
            _ => {
                let cr = self.corner_radius_mm();
                if cr > 0.0 && d < cr {
                    // The corner's circle: flat part r - cr, plus the chord at this height.
                    (r - cr) + (cr * cr - (cr - d) * (cr - d)).max(0.0).sqrt()
                } else {
                    r
                }
            }
        }
    }

    /// Length of the tip's cone below the full diameter (a drill's point, a V tool's cone), mm;
    /// 0 for end mills.
    pub fn tip_length_mm(&self) -> f64 {
        match self.shape {
            ToolShape::Drill { point_angle_deg } if point_angle_deg < 180.0 => {
                self.radius_mm() / (point_angle_deg.to_radians() * 0.5).tan()
            }
            ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => (self.diameter_mm - tip_diameter_mm) * 0.5 / (angle_deg.to_radians() * 0.5).tan(),
            _ => 0.0,
        }
    }

    /// A one-line description for G-code headers and summaries.
    pub fn describe(&self) -> String {
        let shape = match self.shape {
            ToolShape::Flat => "flat".to_string(),
            ToolShape::Ball => "ball".to_string(),
            ToolShape::Bull { corner_radius_mm } => format!("bull r{corner_radius_mm}"),
            ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => format!("V {angle_deg}deg tip {tip_diameter_mm}"),
            ToolShape::Drill { point_angle_deg } => format!("drill {point_angle_deg}deg point"),
        };
        format!(
            "T{} {} - {} mm {} {}-flute {}, {} rpm, {} mm/tooth",
            self.number,
            self.name,
            self.diameter_mm,
            shape,
            self.flutes,
            self.material,
            self.feeds.rpm,
            self.feeds.feed_per_tooth_mm
        )
    }

    /// Checks every field; the first problem is returned with its name and the fix.
    pub fn validate(&self) -> Result<(), ToolError> {
        let err = |field: &'static str, problem: String| ToolError {
            tool: self.name.clone(),
            field,
            problem,
        };
        let positive = |field: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(err(field, format!("is {v}; it must be a positive number")))
            }
        };
        positive("diameter_mm", self.diameter_mm)?;
        if self.diameter_mm < 0.005 || self.diameter_mm > 100.0 {
            return Err(err(
                "diameter_mm",
                format!(
                    "is {} mm; Swarf handles tools from 0.005 to 100 mm",
                    self.diameter_mm
                ),
            ));
        }
        if self.flutes == 0 || self.flutes > 16 {
            return Err(err(
                "flutes",
                format!("is {}; it must be 1 to 16", self.flutes),
            ));
        }
        positive("flute_length_mm", self.flute_length_mm)?;
        positive("stickout_mm", self.stickout_mm)?;
        if self.stickout_mm < self.flute_length_mm {
            return Err(err(
                "stickout_mm",
                format!(
                    "({}) is shorter than the flute length ({}); the stick-out includes the flutes",
                    self.stickout_mm, self.flute_length_mm
                ),
            ));
        }
        if let Some(s) = self.spin_up_s
            && !(s.is_finite() && (0.0..=600.0).contains(&s))
        {
            return Err(err(
                "spin_up_s",
                format!("is {s}; give 0 to 600 seconds, or leave it out for the post's dwell"),
            ));
        }
        if !(self.cutting_edge_radius_um.is_finite() && self.cutting_edge_radius_um >= 0.0) {
            return Err(err(
                "cutting_edge_radius_um",
                format!(
                    "is {}; it must be zero or positive",
                    self.cutting_edge_radius_um
                ),
            ));
        }
        positive("max_rpm", self.max_rpm)?;
        positive("feeds.rpm", self.feeds.rpm)?;
        if self.feeds.rpm > self.max_rpm || self.feeds.rpm < self.min_rpm {
            return Err(err(
                "feeds.rpm",
                format!(
                    "({}) is outside the tool's range {}..{} rpm",
                    self.feeds.rpm, self.min_rpm, self.max_rpm
                ),
            ));
        }
        positive("feeds.feed_per_tooth_mm", self.feeds.feed_per_tooth_mm)?;
        if self.feeds.feed_per_tooth_mm > self.diameter_mm * 0.5 {
            return Err(err(
                "feeds.feed_per_tooth_mm",
                format!(
                    "({} mm) is more than half the diameter; chip loads are micrometres for \
                     micro tools",
                    self.feeds.feed_per_tooth_mm
                ),
            ));
        }
        positive("feeds.plunge_mm_per_min", self.feeds.plunge_mm_per_min)?;
        positive("feeds.ramp_mm_per_min", self.feeds.ramp_mm_per_min)?;
        let k = self.feeds.link_feed_factor;
        if !(k.is_finite() && (1.0..=10.0).contains(&k)) {
            return Err(err(
                "feeds.link_feed_factor",
                format!(
                    "is {k}; give a multiple of the cutting feed from 1 (links at the cutting \
                     feed) to 10"
                ),
            ));
        }
        match self.shape {
            ToolShape::Flat | ToolShape::Ball => {}
            ToolShape::Bull { corner_radius_mm } => {
                if !(corner_radius_mm > 0.0 && corner_radius_mm <= self.radius_mm()) {
                    return Err(err(
                        "corner_radius_mm",
                        format!(
                            "is {corner_radius_mm}; it must be positive and at most the tool \
                             radius {}",
                            self.radius_mm()
                        ),
                    ));
                }
            }
            ToolShape::V {
                angle_deg,
                tip_diameter_mm,
            } => {
                if !(angle_deg > 0.0 && angle_deg < 180.0) {
                    return Err(err(
                        "angle_deg",
                        format!("is {angle_deg}; it must be between 0 and 180 degrees"),
                    ));
                }
                if !(tip_diameter_mm >= 0.0 && tip_diameter_mm < self.diameter_mm) {
                    return Err(err(
                        "tip_diameter_mm",
                        format!(
                            "is {tip_diameter_mm}; it must be at least 0 and less than the \
                             diameter"
                        ),
                    ));
                }
            }
            ToolShape::Drill { point_angle_deg } => {
                if !(60.0..=180.0).contains(&point_angle_deg) {
                    return Err(err(
                        "point_angle_deg",
                        format!(
                            "is {point_angle_deg}; a drill's point angle is 60 to 180 degrees \
                             (118 or 135 for most, 180 for a flat-bottom drill)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A typical 2-flute carbide micro end mill of the given diameter (flat), with feeds
    /// scaled to its size.
    pub fn micro_flat(diameter_mm: f64) -> Self {
        let d = diameter_mm;
        Self {
            name: format!("{d} mm flat carbide"),
            number: 1,
            shape: ToolShape::Flat,
            diameter_mm: d,
            flutes: 2,
            flute_length_mm: (d * 3.0).max(0.05),
            stickout_mm: (d * 3.0).max(0.05) + 2.0,
            cutting_edge_radius_um: 2.0,
            material: "carbide".into(),
            max_rpm: 60_000.0,
            min_rpm: 0.0,
            feeds: Feeds {
                rpm: if d <= 0.5 { 40_000.0 } else { 24_000.0 },
                feed_per_tooth_mm: (d * 0.01).max(0.0005),
                plunge_mm_per_min: (d * 100.0).clamp(5.0, 100.0),
                ramp_mm_per_min: (d * 200.0).clamp(10.0, 200.0),
                link_feed_factor: 2.0,
            },
            spin_up_s: None,
        }
    }
}

/// A tool library: the file `tools.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolLibrary {
    #[serde(rename = "tool")]
    pub tools: Vec<Tool>,
}

/// Why a tool library cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("tool library: {0}")]
    Parse(String),
    #[error("tool library: {0}")]
    Invalid(ToolError),
}

impl From<ToolError> for LibraryError {
    fn from(e: ToolError) -> Self {
        LibraryError::Invalid(e)
    }
}

impl ToolLibrary {
    /// The presets shipped with Swarf (`assets/tools.toml`).
    pub fn presets() -> Self {
        Self::from_toml(PRESETS_TOML).expect("the shipped tool presets are valid")
    }
    pub fn from_toml(text: &str) -> Result<Self, LibraryError> {
        let lib: Self = toml::from_str(text).map_err(|e| LibraryError::Parse(e.to_string()))?;
        for t in &lib.tools {
            t.validate()?;
        }
        Ok(lib)
    }
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a tool library serialises")
    }
    /// The tool with this name or number (`"T3"` or `"3"`).
    pub fn find(&self, key: &str) -> Option<&Tool> {
        let num = key.trim_start_matches(['T', 't']).parse::<u32>().ok();
        self.tools
            .iter()
            .find(|t| t.name == key || Some(t.number) == num)
    }
}

/// The shipped presets, realistic 2-flute carbide micro end mills.
pub const PRESETS_TOML: &str = include_str!("../../../assets/tools.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_micro_tools() {
        let lib = ToolLibrary::presets();
        assert!(lib.tools.len() >= 4);
        for d in [0.1, 0.2, 0.5, 1.0] {
            let t = lib.tools.iter().find(|t| t.diameter_mm == d).unwrap();
            assert_eq!(t.flutes, 2);
            assert!(t.feed_mm_per_min() > 0.0);
        }
        let again = ToolLibrary::from_toml(&lib.to_toml()).unwrap();
        assert_eq!(again, lib);
        assert!(lib.find("T2").is_some());
    }

    #[test]
    fn nonsense_is_rejected_naming_the_field() {
        let mut t = Tool::micro_flat(0.2);
        t.diameter_mm = -0.2;
        assert!(
            t.validate()
                .unwrap_err()
                .to_string()
                .contains("diameter_mm")
        );
        let mut t = Tool::micro_flat(0.2);
        t.flutes = 0;
        assert!(t.validate().unwrap_err().to_string().contains("flutes"));
        let mut t = Tool::micro_flat(0.2);
        t.feeds.rpm = f64::NAN;
        assert!(t.validate().unwrap_err().to_string().contains("feeds.rpm"));
        let mut t = Tool::micro_flat(0.2);
        t.shape = ToolShape::Bull {
            corner_radius_mm: 0.5,
        };
        assert!(
            t.validate()
                .unwrap_err()
                .to_string()
                .contains("corner_radius")
        );
        for k in [0.5, 11.0, f64::NAN] {
            let mut t = Tool::micro_flat(0.2);
            t.feeds.link_feed_factor = k;
            let e = t.validate().unwrap_err().to_string();
            assert!(
                e.contains("link_feed_factor") && e.contains("1 (links"),
                "{e}"
            );
        }
        assert!(Tool::micro_flat(0.01).validate().is_ok());
        // Libraries written before the field read with the default, 2.
        let lib = ToolLibrary::presets();
        assert!(lib.tools.iter().all(|t| t.feeds.link_feed_factor == 2.0));
        let bad = "[[tool]]\nname='x'\n";
        assert!(ToolLibrary::from_toml(bad).is_err());
    }

    #[test]
    fn feed_from_chip_load() {
        let t = Tool::micro_flat(0.2);
        assert!((t.feed_mm_per_min() - 40_000.0 * 2.0 * 0.002).abs() < 1e-9);
    }
}
