//! Argument parsing shared by all families, with Redis's exact acceptance rules (integers as
//! `string2ll`, floats as `strtod` without spaces or NaN) and error texts.

use crate::error;

#[inline]
pub fn eq_ic(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

pub fn parse_i64(b: &[u8]) -> Result<i64, &'static str> {
    crate::resp::parse::parse_i64_strict(b).ok_or(error::NOT_INTEGER)
}

/// A float as Redis's `getDoubleFromObject` accepts it: all of `strtod`'s syntax (including
/// `inf`, exponents and hex), nothing left over, no leading space, not NaN.
pub fn parse_f64(b: &[u8]) -> Result<f64, &'static str> {
    parse_f64_opt(b).ok_or(error::NOT_FLOAT)
}

pub fn parse_f64_opt(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b.len() > 5000 || b[0].is_ascii_whitespace() || b.contains(&0) {
        return None;
    }
    let mut s = Vec::with_capacity(b.len() + 1);
    s.extend_from_slice(b);
    s.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: s is NUL-terminated and outlives the call; end points into s afterwards.
    #[allow(unsafe_code)]
    let (v, used) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(s.as_ptr() as *const libc::c_char, &mut end);
        (v, end.offset_from(s.as_ptr() as *const libc::c_char) as usize)
    };
    // SAFETY: reading errno of this thread.
    #[allow(unsafe_code)]
    let erange = unsafe { *libc::__errno_location() } == libc::ERANGE;
    if used != b.len() || v.is_nan() || (erange && v.is_infinite()) {
        return None;
    }
    Some(v)
}

/// A SCAN-family cursor as Redis's `parseScanCursorOrReply` reads it: `strtoul` base 10 over
/// a C string, so it stops at a NUL, a sign is allowed (`-1` wraps), the empty string is 0,
/// and leading spaces, trailing bytes or overflow are an error.
pub fn parse_scan_cursor(b: &[u8]) -> Option<u64> {
    let b = b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n]);
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        // strtoul parsed nothing: only the empty string is accepted ("" is 0, "-" is not).
        return b.is_empty().then_some(0);
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_cursors_like_strtoul() {
        assert_eq!(parse_scan_cursor(b"0"), Some(0));
        assert_eq!(parse_scan_cursor(b""), Some(0));
        assert_eq!(parse_scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"+7"), Some(7));
        assert_eq!(parse_scan_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_scan_cursor(b"-"), None);
        assert_eq!(parse_scan_cursor(b" 1"), None);
        assert_eq!(parse_scan_cursor(b"1x"), None);
        assert_eq!(parse_scan_cursor(b"5\0x"), Some(5));
    }

    #[test]
    fn floats_like_redis() {
        assert_eq!(parse_f64(b"1.5"), Ok(1.5));
        assert_eq!(parse_f64(b"inf"), Ok(f64::INFINITY));
        assert_eq!(parse_f64(b"-1e3"), Ok(-1000.0));
        assert!(parse_f64(b" 1").is_err());
        assert!(parse_f64(b"1 ").is_err());
        assert!(parse_f64(b"nan").is_err());
        assert!(parse_f64(b"").is_err());
        assert!(parse_f64(b"abc").is_err());
    }
}
