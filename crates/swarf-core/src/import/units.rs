//! Length units of imported files.

use serde::{Deserialize, Serialize};

/// A length unit an imported file may use. Swarf works in millimetres inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    Mm,
    Inch,
    Um,
    Cm,
    M,
    Ft,
}

impl Units {
    /// Millimetres per unit.
    pub fn mm_per_unit(self) -> f64 {
        match self {
            Units::Mm => 1.0,
            Units::Inch => 25.4,
            Units::Um => 0.001,
            Units::Cm => 10.0,
            Units::M => 1000.0,
            Units::Ft => 304.8,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Units::Mm => "mm",
            Units::Inch => "inch",
            Units::Um => "um",
            Units::Cm => "cm",
            Units::M => "m",
            Units::Ft => "ft",
        }
    }
    /// The unit of a DXF `$INSUNITS` code; `None` for unitless (0) and units Swarf does not
    /// know.
    pub fn from_insunits(code: i64) -> Option<Self> {
        match code {
            1 => Some(Units::Inch),
            2 => Some(Units::Ft),
            4 => Some(Units::Mm),
            5 => Some(Units::Cm),
            6 => Some(Units::M),
            13 => Some(Units::Um),
            _ => None,
        }
    }
}

impl std::fmt::Display for Units {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Units {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mm" | "millimeter" | "millimetre" | "millimeters" | "millimetres" => Ok(Units::Mm),
            "in" | "inch" | "inches" => Ok(Units::Inch),
            "um" | "µm" | "micron" | "microns" | "micrometer" | "micrometre" => Ok(Units::Um),
            "cm" => Ok(Units::Cm),
            "m" | "meter" | "metre" => Ok(Units::M),
            "ft" | "foot" | "feet" => Ok(Units::Ft),
            other => Err(format!(
                "unknown unit '{other}'; use one of mm, inch, um, cm, m, ft"
            )),
        }
    }
}

/// Parts whose extent in mm lies outside this range are suspicious on a micro mill.
pub const PLAUSIBLE_EXTENT_MM: (f64, f64) = (0.005, 500.0);

/// A warning when `extent_units` (the size of the geometry in the file's own numbers) read in
/// `unit` gives an implausible part size, with the unit that would make sense.
pub fn plausibility_warning(extent_units: f64, unit: Units, how: &str) -> Option<String> {
    if !(extent_units.is_finite() && extent_units > 0.0) {
        return None;
    }
    let mm = extent_units * unit.mm_per_unit();
    let (lo, hi) = PLAUSIBLE_EXTENT_MM;
    if (lo..=hi).contains(&mm) {
        return None;
    }
    let suggestion = [Units::Mm, Units::Inch, Units::Um, Units::M]
        .into_iter()
        .filter(|u| *u != unit)
        .find(|u| {
            let s = extent_units * u.mm_per_unit();
            (0.1..=hi).contains(&s)
        });
    let fix = suggestion.map_or_else(
        || "check the drawing's scale".to_string(),
        |u| {
            format!(
                "if the numbers are {u}, the part is {:.4} mm across: use --units {u}",
                extent_units * u.mm_per_unit()
            )
        },
    );
    Some(format!(
        "units: {how} unit {unit} makes the part {mm:.4} mm across, which is implausible for micro \
         milling; {fix}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_convert() {
        assert_eq!("µm".parse::<Units>().unwrap(), Units::Um);
        assert_eq!("Inch".parse::<Units>().unwrap(), Units::Inch);
        assert!("furlong".parse::<Units>().unwrap_err().contains("mm, inch"));
        assert_eq!(Units::Inch.mm_per_unit(), 25.4);
    }

    #[test]
    fn micrometre_data_under_an_inch_header_is_flagged() {
        let w = plausibility_warning(38_000.0, Units::Inch, "declared").unwrap();
        assert!(w.contains("--units um"), "{w}");
        assert!(plausibility_warning(4.6, Units::Inch, "declared").is_none());
        assert!(plausibility_warning(0.48, Units::Mm, "assumed").is_none());
    }
}
