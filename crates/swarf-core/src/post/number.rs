//! Fixed-decimal number writing without allocation or float formatting: the value is rounded
//! once to an integer count of 10^-decimals and its digits are written directly.

/// Writes `q · 10^-dec` with trailing zeros (and a bare point) trimmed; never `-0`.
pub fn write_scaled(out: &mut Vec<u8>, q: i64, dec: u32) {
    if q == 0 {
        out.push(b'0');
        return;
    }
    if q < 0 {
        out.push(b'-');
    }
    let u = q.unsigned_abs();
    let p = 10u64.pow(dec);
    let int = u / p;
    let mut frac = u % p;
    write_u64(out, int);
    if frac != 0 {
        let mut digits = dec;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        out.push(b'.');
        let mut buf = [b'0'; 20];
        for i in (0..digits as usize).rev() {
            buf[i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        out.extend_from_slice(&buf[..digits as usize]);
    }
}

fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// `v` rounded to `dec` decimals and written as [`write_scaled`] does.
pub fn write_fixed(out: &mut Vec<u8>, v: f64, dec: u32) {
    let q = (v * 10f64.powi(dec as i32)).round() as i64;
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
