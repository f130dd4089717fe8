//! Fixed-decimal number writing without allocation or float formatting: the value is rounded
//! once to an integer count of 10^-decimals and its digits are written directly.

/// Writes `q · 10^-dec` with trailing zeros (and a bare point) trimmed; never `-0`.
pub fn write_scaled(out: &mut Vec<u8>, q: i64, dec: u32) {
    if q == 0 {
        out.push(b'0');
        return;
    }
    // Digits of |q| backwards into a stack buffer, then one copy.
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    let mut u = q.unsigned_abs();
    let mut d = 0;
    let mut seen_nonzero = false;
    // Fraction digits, dropping trailing zeros.
    while d < dec {
        let digit = (u % 10) as u8;
        u /= 10;
        d += 1;
        if digit != 0 || seen_nonzero {
            seen_nonzero = true;
            i -= 1;
            buf[i] = b'0' + digit;
        }
    }
    if seen_nonzero {
        i -= 1;
        buf[i] = b'.';
    }
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if q < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    out.extend_from_slice(&buf[i..]);
}

/// Rounds half away from zero with a truncating cast (no libm call on the hot path). Differs
/// from `f64::round` only for values within one ulp of a half, far below the output
/// resolution's meaning.
#[inline]
pub fn round_to_i64(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        (x - 0.5) as i64
    }
}

/// `v` rounded to `dec` decimals and written as [`write_scaled`] does.
pub fn write_fixed(out: &mut Vec<u8>, v: f64, dec: u32) {
    let q = round_to_i64(v * 10f64.powi(dec as i32));
    write_scaled(out, q, dec);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64, d: u32) -> String {
        let mut o = Vec::new();
        write_fixed(&mut o, v, d);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn fixed_decimals() {
        assert_eq!(f(1.5, 4), "1.5");
        assert_eq!(f(-0.00004, 4), "0");
        assert_eq!(f(-0.00005, 4), "-0.0001");
        assert_eq!(f(12.34567, 4), "12.3457");
        assert_eq!(f(0.0001, 4), "0.0001");
        assert_eq!(f(-3.0, 4), "-3");
        assert_eq!(f(100.000_001, 6), "100.000001");
        assert_eq!(f(0.05, 3), "0.05");
    }
}
