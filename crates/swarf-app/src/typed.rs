//! What a typed value means: a number in the field's unit, or a length with its own unit
//! (`0.15 mm`, `150 µm`, `150um`, `0.006 in`) converted to the field's. Values out of the
//! field's range are refused with the range, never clamped. Without egui, unit-tested.

use std::ops::RangeInclusive;

/// Millimetres per unit, for the length units a user may type.
fn length_unit_mm(unit: &str) -> Option<f64> {
    Some(match unit {
        "mm" => 1.0,
        "µm" | "μm" | "um" | "micron" | "microns" => 1e-3,
        "in" | "inch" | "inches" | "\"" => 25.4,
        "thou" | "mil" => 0.0254,
        "cm" => 10.0,
        "m" => 1000.0,
        _ => return None,
    })
}

/// Parses `text` typed into a field that shows `field_unit` ("mm", "µm", "%", "°", …): a bare
/// number is in the field's unit; a length field also takes any length unit. A decimal comma
/// is read as a point. Returns the value in the field's unit.
pub fn parse_value(text: &str, field_unit: &str) -> Result<f64, String> {
    let t = text.trim();
    // The number ends at the first character that cannot continue it (a sign only at the
    // start or after an exponent's `e`).
    let mut prev = None;
    let mut split = t.len();
    for (i, c) in t.char_indices() {
        let ok = c.is_ascii_digit()
            || c == '.'
            || c == ','
            || ((c == '-' || c == '+') && (i == 0 || matches!(prev, Some('e' | 'E'))))
            || ((c == 'e' || c == 'E')
                && prev.is_some_and(|p: char| p.is_ascii_digit() || p == '.')
                && t[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|n| n.is_ascii_digit() || n == '-' || n == '+'));
        if !ok {
            split = i;
            break;
        }
        prev = Some(c);
    }
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let num = if num.contains(',') && !num.contains('.') {
        num.replace(',', ".")
    } else {
        num.to_string()
    };
    let bad =
        || format!("'{text}' is not a number: type a number in {field_unit}, or one with its unit");
    let v: f64 = num.parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    if unit.is_empty() || unit == field_unit.trim() {
        return Ok(v);
    }
    match (length_unit_mm(unit), length_unit_mm(field_unit.trim())) {
        (Some(from), Some(to)) => Ok(v * from / to),
        (None, Some(_)) => Err(format!(
            "'{unit}' is not a length unit: use mm, µm (um), in, cm or m"
        )),
        _ => Err(format!(
            "'{text}': this field takes a number in {field_unit}, not {unit}"
        )),
    }
}

/// `Ok` when `v` lies in `range`; else the message that shows the range.
pub fn check_range(v: f64, range: &RangeInclusive<f64>, unit: &str) -> Result<(), String> {
    if range.contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "{} {unit} is out of range: give {} to {} {unit}",
            short(v),
            short(*range.start()),
            short(*range.end())
        ))
    }
}

/// A number without binary noise, for messages.
fn short(v: f64) -> String {
    let r = (v * 1e6).round() / 1e6;
    format!("{r}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_lengths_mean_what_they_say() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        for (text, field, want) in [
            ("0.15 mm", "µm", 150.0),
            ("0.15mm", "µm", 150.0),
            ("150 µm", "µm", 150.0),
            ("150um", "µm", 150.0),
            ("150 μm", "µm", 150.0),
            ("150", "µm", 150.0),
            ("0.006 in", "µm", 152.4),
            ("0.006\"", "mm", 0.1524),
            ("150 um", "mm", 0.15),
            ("1.5 cm", "mm", 15.0),
            ("0,25", "mm", 0.25),
            ("  2.5  ", "mm", 2.5),
            ("1e-3 mm", "µm", 1.0),
            ("-1.5", "mm", -1.5),
            ("40", "%", 40.0),
            ("40 %", "%", 40.0),
            ("2 °", "°", 2.0),
        ] {
            let got = parse_value(text, field).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(
                close(got, want),
                "{text} in a {field} field: {got}, want {want}"
            );
        }
        for (text, field, says) in [
            ("abc", "mm", "not a number"),
            ("", "mm", "not a number"),
            ("1.5 furlongs", "mm", "not a length unit"),
            ("5 mm", "%", "takes a number in %"),
            ("nan", "mm", "not a number"),
            ("inf", "µm", "not a number"),
        ] {
            let e = parse_value(text, field).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn out_of_range_is_refused_with_the_range_not_clamped() {
        assert!(check_range(150.0, &(1.0..=50_000.0), "µm").is_ok());
        let e = check_range(0.0, &(1.0..=50_000.0), "µm").unwrap_err();
        assert!(e.contains("0 µm") && e.contains("1 to 50000 µm"), "{e}");
        let e = check_range(0.1 + 0.2, &(0.5..=3.0), "mm").unwrap_err();
        assert!(e.starts_with("0.3 mm"), "{e}");
    }
}
