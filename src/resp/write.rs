//! Reply encoder. One `Out` wraps the reply buffer of a client (or of a forwarded batch) and
//! knows the protocol version, so a command writes its reply once and RESP2 clients get the
//! RESP2 shape (maps as flat arrays, null as `$-1`) while RESP3 clients get the typed one.

pub struct Out<'a> {
    pub buf: &'a mut Vec<u8>,
    pub resp3: bool,
}

fn push_num(buf: &mut Vec<u8>, prefix: u8, n: i64) {
    buf.push(prefix);
    let mut tmp = itoa_buf();
    buf.extend_from_slice(fmt_i64(&mut tmp, n));
    buf.extend_from_slice(b"\r\n");
}

fn itoa_buf() -> [u8; 24] {
    [0u8; 24]
}

/// Formats an integer into `tmp` without allocating.
pub fn fmt_i64(tmp: &mut [u8; 24], n: i64) -> &[u8] {
    let mut i = tmp.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        tmp[i] = b'-';
    }
    &tmp[i..]
}

/// Formats a double exactly as C's `printf("%.17g")`, the format Redis 7.0 uses for replies.
pub fn fmt_double_17g(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    let mut buf = [0u8; 64];
    // SAFETY: buf is 64 bytes, the format has one double conversion and %.17g never needs
    // more than 25 bytes; snprintf writes at most buf.len() bytes including the NUL.
    #[allow(unsafe_code)]
    let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut libc::c_char, buf.len(), c"%.17g".as_ptr(), d) };
    let n = (n.max(0) as usize).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Formats a double as Redis's `%.17g` for values and `inf`/`-inf`, used by INCRBYFLOAT-free
/// paths (scores) that need the human form: Redis's `d2string`.
pub fn fmt_score(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if d.fract() == 0.0 && d.abs() < (1u64 << 52) as f64 {
        return format!("{}", d as i64);
    }
    fmt_double_17g(d)
}

impl<'a> Out<'a> {
    pub fn new(buf: &'a mut Vec<u8>, resp3: bool) -> Self {
        Out { buf, resp3 }
    }
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
    /// An error reply; `msg` includes the code (`ERR ...`, `WRONGTYPE ...`). Newlines in the
    /// message would break the protocol, so they become spaces as Redis does.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        for &b in msg.as_bytes() {
            self.buf.push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }
    /// An error reply from raw bytes (client bytes quoted in it pass through as Redis does).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend(msg.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
    }
    #[inline]
    pub fn int(&mut self, n: i64) {
        push_num(self.buf, b':', n);
    }
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        push_num(self.buf, b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn bulk_str(&mut self, s: &str) {
        self.bulk(s.as_bytes())
    }
    pub fn bulk_int(&mut self, n: i64) {
        let mut tmp = itoa_buf();
        let s = fmt_i64(&mut tmp, n);
        push_num(self.buf, b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }
    /// Null bulk: `$-1` in RESP2, `_` in RESP3.
    #[inline]
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }
    /// Null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }
    #[inline]
    pub fn array(&mut self, n: usize) {
        push_num(self.buf, b'*', n as i64);
    }
    /// A map of `n` pairs: `%n` in RESP3, a flat array of 2n in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            push_num(self.buf, b'%', n as i64);
        } else {
            push_num(self.buf, b'*', 2 * n as i64);
        }
    }
    /// A set: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        push_num(self.buf, if self.resp3 { b'~' } else { b'*' }, n as i64);
    }
    /// A push message (pub/sub): `>n` in RESP3, an array in RESP2.
    pub fn push(&mut self, n: usize) {
        push_num(self.buf, if self.resp3 { b'>' } else { b'*' }, n as i64);
    }
    /// A double: `,d` in RESP3, a bulk string in RESP2, `%.17g` as Redis 7.0.
    pub fn double(&mut self, d: f64) {
        let s = fmt_double_17g(d);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }
    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }
    /// Verbatim text (INFO, CLIENT LIST...): `=n\r\ntxt:...` in RESP3, a bulk string in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3 {
            push_num(self.buf, b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }
    pub fn bulk_or_null(&mut self, v: Option<&[u8]>) {
        match v {
            Some(b) => self.bulk(b),
            None => self.null(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_by_protocol() {
        let mut b = Vec::new();
        let mut o = Out::new(&mut b, false);
        o.map(2);
        o.null();
        o.double(1.5);
        o.boolean(true);
        assert_eq!(b, b"*4\r\n$-1\r\n$3\r\n1.5\r\n:1\r\n");
        let mut b = Vec::new();
        let mut o = Out::new(&mut b, true);
        o.map(2);
        o.null();
        o.double(1.5);
        o.boolean(true);
        assert_eq!(b, b"%2\r\n_\r\n,1.5\r\n#t\r\n");
    }

    #[test]
    fn doubles_like_printf() {
        assert_eq!(fmt_double_17g(0.1), "0.10000000000000001");
        assert_eq!(fmt_double_17g(3.0), "3");
        assert_eq!(fmt_double_17g(1e300), "1.0000000000000001e+300");
        assert_eq!(fmt_i64(&mut [0; 24], i64::MIN), b"-9223372036854775808");
    }
}
