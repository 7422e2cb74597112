//! Incremental request parser over a client's query buffer.
//!
//! It never copies a multibulk request: arguments come back as byte ranges into the buffer.
//! Inline requests (`PING` typed into telnet) are split like Redis's `sdssplitargs` and come
//! back owned, since quotes and escapes change the bytes. Every length read from the wire is
//! checked against `ParseLimits` before it is trusted; errors carry Redis's exact texts.

use smallvec::SmallVec;

/// Limits a parse is held to (from config, see `limits.rs` for defaults).
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    pub max_bulk_len_bytes: usize,
    pub max_multibulk_len: usize,
    pub max_inline_size_bytes: usize,
    /// Unauthenticated clients may only send small requests, as in Redis.
    pub authenticated: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len_bytes: crate::limits::PROTO_MAX_BULK_LEN_BYTES,
            max_multibulk_len: crate::limits::PROTO_MAX_MULTIBULK_LEN,
            max_inline_size_bytes: crate::limits::PROTO_INLINE_MAX_SIZE_BYTES,
            authenticated: true,
        }
    }
}

/// Argument ranges of one multibulk request: `(start, end)` offsets into the buffer.
pub type ArgRanges = SmallVec<[(u32, u32); 8]>;

#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// A multibulk request; `consumed` bytes of the buffer belong to it.
    Multibulk { args: ArgRanges, consumed: usize },
    /// An inline request, split and unescaped.
    Inline { args: Vec<Vec<u8>>, consumed: usize },
    /// Bytes that carry no command (an empty line, `*0`, `*-1`): skip them.
    Empty { consumed: usize },
    /// More bytes are needed; at least `need_total` bytes in all when known.
    Incomplete { need_total: usize },
    /// A protocol error: reply with this text and close the connection.
    Error(String),
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    // Redis looks for '\r' and then requires a byte after it; we look for "\r\n" directly
    // since a lone '\r' inside a length line is a protocol error anyway.
    let mut i = from;
    while let Some(off) = memchr(b'\r', &buf[i..]) {
        let p = i + off;
        if p + 1 >= buf.len() {
            return None;
        }
        if buf[p + 1] == b'\n' {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

#[inline]
fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Parses a signed decimal the way Redis's `string2ll` does (no spaces, no '+', no leading
/// zeros other than "0" itself).
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses one request at the start of `buf`.
pub fn parse_command(buf: &[u8], limits: &ParseLimits) -> Parsed {
    if buf.is_empty() {
        return Parsed::Incomplete { need_total: 1 };
    }
    if buf[0] == b'*' {
        parse_multibulk(buf, limits)
    } else {
        parse_inline(buf, limits)
    }
}

fn parse_multibulk(buf: &[u8], limits: &ParseLimits) -> Parsed {
    let Some(nl) = find_crlf(buf, 0) else {
        if buf.len() > limits.max_inline_size_bytes {
            return Parsed::Error("Protocol error: too big mbulk count string".into());
        }
        return Parsed::Incomplete { need_total: buf.len() + 1 };
    };
    let count = match parse_i64_strict(&buf[1..nl]) {
        Some(n) if n <= i32::MAX as i64 && (n <= 0 || n as usize <= limits.max_multibulk_len) => n,
        _ => return Parsed::Error("Protocol error: invalid multibulk length".into()),
    };
    if count > 10 && !limits.authenticated {
        return Parsed::Error("Protocol error: unauthenticated multibulk length".into());
    }
    let mut pos = nl + 2;
    if count <= 0 {
        return Parsed::Empty { consumed: pos };
    }
    let count = count as usize;
    let mut args = ArgRanges::new();
    for _ in 0..count {
        if pos >= buf.len() {
            return Parsed::Incomplete { need_total: pos + 1 };
        }
        let Some(nl) = find_crlf(buf, pos) else {
            if buf.len() - pos > limits.max_inline_size_bytes {
                return Parsed::Error("Protocol error: too big bulk count string".into());
            }
            return Parsed::Incomplete { need_total: buf.len() + 1 };
        };
        if buf[pos] != b'$' {
            return Parsed::Error(format!("Protocol error: expected '$', got '{}'", printable(buf[pos])));
        }
        let len = match parse_i64_strict(&buf[pos + 1..nl]) {
            Some(n) if n >= 0 && n as usize <= limits.max_bulk_len_bytes => n as usize,
            _ => return Parsed::Error("Protocol error: invalid bulk length".into()),
        };
        if len > 16384 && !limits.authenticated {
            return Parsed::Error("Protocol error: unauthenticated bulk length".into());
        }
        let start = nl + 2;
        let end = start + len;
        if end + 2 > buf.len() {
            return Parsed::Incomplete { need_total: end + 2 };
        }
        if start > u32::MAX as usize || end > u32::MAX as usize {
            // Ranges are 32-bit; requests this large are beyond the query buffer limit.
            return Parsed::Error("Protocol error: invalid bulk length".into());
        }
        args.push((start as u32, end as u32));
        // Like Redis, the two bytes after the payload are skipped, not checked.
        pos = end + 2;
    }
    Parsed::Multibulk { args, consumed: pos }
}

fn printable(c: u8) -> char {
    c as char
}

fn parse_inline(buf: &[u8], limits: &ParseLimits) -> Parsed {
    let Some(nl) = memchr(b'\n', buf) else {
        if buf.len() > limits.max_inline_size_bytes {
            return Parsed::Error("Protocol error: too big inline request".into());
        }
        return Parsed::Incomplete { need_total: buf.len() + 1 };
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    match split_args(line) {
        None => Parsed::Error("Protocol error: unbalanced quotes in request".into()),
        Some(args) if args.is_empty() => Parsed::Empty { consumed: nl + 1 },
        Some(args) => Parsed::Inline { args, consumed: nl + 1 },
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments as Redis's `sdssplitargs` does: spaces separate, "double
/// quotes" take C escapes (\n \r \t \b \a \xHH), 'single quotes' take only \'. A closing quote
/// must be followed by a space or the end. Returns None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    cur.push(hex_val(line[i + 2])? * 16 + hex_val(line[i + 3])?);
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(buf: &[u8]) -> Vec<Vec<u8>> {
        match parse_command(buf, &ParseLimits::default()) {
            Parsed::Multibulk { args, .. } => args.iter().map(|&(s, e)| buf[s as usize..e as usize].to_vec()).collect(),
            Parsed::Inline { args, .. } => args,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn multibulk_roundtrip() {
        assert_eq!(args_of(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), vec![b"GET".to_vec(), b"k".to_vec()]);
    }

    #[test]
    fn incomplete_at_every_cut() {
        let full = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        for cut in 0..full.len() {
            assert!(
                matches!(parse_command(&full[..cut], &ParseLimits::default()), Parsed::Incomplete { .. }),
                "cut {cut}"
            );
        }
        assert!(
            matches!(parse_command(full, &ParseLimits::default()), Parsed::Multibulk { consumed, .. } if consumed == full.len())
        );
    }

    #[test]
    fn errors_have_redis_texts() {
        let l = ParseLimits::default();
        assert_eq!(parse_command(b"*x\r\n", &l), Parsed::Error("Protocol error: invalid multibulk length".into()));
        assert_eq!(parse_command(b"*1\r\n+a\r\n", &l), Parsed::Error("Protocol error: expected '$', got '+'".into()));
        assert_eq!(parse_command(b"*1\r\n$-5\r\n", &l), Parsed::Error("Protocol error: invalid bulk length".into()));
        assert_eq!(
            parse_command(b"*1\r\n$536870913\r\n", &l),
            Parsed::Error("Protocol error: invalid bulk length".into())
        );
        assert_eq!(
            parse_command(b"SET \"a\r\n", &l),
            Parsed::Error("Protocol error: unbalanced quotes in request".into())
        );
    }

    #[test]
    fn inline_quotes() {
        assert_eq!(args_of(b"set \"a b\\x41\" 'c\\'d'\r\n"), vec![b"set".to_vec(), b"a bA".to_vec(), b"c'd".to_vec()]);
        assert_eq!(parse_command(b"\r\n", &ParseLimits::default()), Parsed::Empty { consumed: 2 });
        assert_eq!(parse_command(b"*0\r\n", &ParseLimits::default()), Parsed::Empty { consumed: 4 });
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_strict(b"9223372036854775808"), None);
        assert_eq!(parse_i64_strict(b"01"), None);
        assert_eq!(parse_i64_strict(b"+1"), None);
        assert_eq!(parse_i64_strict(b"-0"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_command(&data, &ParseLimits::default());
        }
    }
}
