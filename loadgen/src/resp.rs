//! RESP wire helpers: a writer that appends commands to a reused buffer, a reply scanner for
//! the hot path, and a small tree parser for the control path.
//!
//! The scanner never allocates: it returns the extent of one complete reply and, for strings
//! and errors, the byte range of the payload inside the caller's buffer. The tree parser
//! (`parse_value`) allocates and is only for setup-time replies such as `CLUSTER SLOTS`.
//! Nothing here touches a socket.

use std::ops::Range;

/// Nesting the scanner accepts before calling a reply malformed; replies we send for are
/// at most a few levels deep, so anything deeper is a broken or hostile peer.
const MAX_NESTING_DEPTH: usize = 64;

/// Longest length or integer line we accept (`-9223372036854775808` plus sign slack).
const MAX_NUMBER_LINE_BYTES: usize = 24;

/// The outer shape of one complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK` and friends; the range covers the text.
    Simple(Range<usize>),
    /// `-ERR ...` or a RESP3 blob error; the range covers the text.
    Error(Range<usize>),
    Integer(i64),
    /// A bulk or verbatim string; the range covers the payload.
    Bulk(Range<usize>),
    /// RESP2 null bulk/array or RESP3 `_`.
    Null,
    /// An aggregate (array, set, map, push); `elements_at` is where its first element starts.
    Array {
        len: usize,
        elements_at: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// Appends `*n\r\n`.
pub fn write_array_header(out: &mut Vec<u8>, len: usize) {
    out.push(b'*');
    write_decimal(out, len as u64);
    out.extend_from_slice(b"\r\n");
}

/// Appends `$len\r\n` for a bulk string whose payload the caller writes next.
pub fn write_bulk_header(out: &mut Vec<u8>, len: usize) {
    out.push(b'$');
    write_decimal(out, len as u64);
    out.extend_from_slice(b"\r\n");
}

/// Appends one complete bulk string.
pub fn write_bulk(out: &mut Vec<u8>, payload: &[u8]) {
    write_bulk_header(out, payload.len());
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
}

/// Appends a whole command as an array of bulk strings.
pub fn write_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    write_array_header(out, args.len());
    for arg in args {
        write_bulk(out, arg);
    }
}

/// Appends the decimal form of `value` without going through `fmt` (which is slower and
/// would tempt an allocation).
pub fn write_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let len = format_decimal(&mut digits, value);
    out.extend_from_slice(&digits[digits.len() - len..]);
}

/// Writes `value` right-aligned into `digits` and returns how many bytes it used.
pub fn format_decimal(digits: &mut [u8; 20], mut value: u64) -> usize {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    digits.len() - at
}

/// Number of decimal digits in `value`.
pub fn decimal_len(value: u64) -> usize {
    let mut len = 1;
    let mut rest = value / 10;
    while rest > 0 {
        len += 1;
        rest /= 10;
    }
    len
}

/// Scans one complete reply at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, otherwise the reply and how many bytes it
/// spans (including every element of an aggregate).
pub fn scan_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    let Some((head, mut at)) = scan_one(buf, 0)? else {
        return Ok(None);
    };
    let len = match head {
        Head::Leaf(reply) => return Ok(Some((reply, at))),
        Head::Aggregate(len) => len,
    };
    let elements_at = at;
    // Elements still to skip at each open level; a stack instead of recursion so a deep
    // reply cannot blow the thread's stack.
    let mut open: [usize; MAX_NESTING_DEPTH] = [0; MAX_NESTING_DEPTH];
    let mut depth = 0usize;
    open[0] = len;
    loop {
        while open[depth] == 0 {
            if depth == 0 {
                return Ok(Some((Reply::Array { len, elements_at }, at)));
            }
            depth -= 1;
        }
        open[depth] -= 1;
        let Some((head, next)) = scan_one(buf, at)? else {
            return Ok(None);
        };
        at = next;
        if let Head::Aggregate(inner) = head {
            if inner > 0 {
                depth += 1;
                if depth >= MAX_NESTING_DEPTH {
                    return Err(ProtocolError("reply nested too deeply".into()));
                }
                open[depth] = inner;
            }
        }
    }
}

enum Head {
    Leaf(Reply),
    /// Number of child elements that follow (a map's pairs already doubled).
    Aggregate(usize),
}

/// Scans the header (and payload, for leaves) of one element starting at `at`.
fn scan_one(buf: &[u8], at: usize) -> Result<Option<(Head, usize)>, ProtocolError> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let line_start = at + 1;
    let Some(line_end) = find_crlf(buf, line_start) else {
        return Ok(None);
    };
    let line = &buf[line_start..line_end];
    let after_line = line_end + 2;
    let head = match kind {
        b'+' => Head::Leaf(Reply::Simple(line_start..line_end)),
        b'-' => Head::Leaf(Reply::Error(line_start..line_end)),
        b':' => Head::Leaf(Reply::Integer(parse_i64(line)?)),
        // RESP3 scalars we never compare: keep their text as a simple string.
        b',' | b'(' | b'#' => Head::Leaf(Reply::Simple(line_start..line_end)),
        b'_' => Head::Leaf(Reply::Null),
        b'$' | b'=' | b'!' => {
            let len = parse_i64(line)?;
            if len < 0 {
                return Ok(Some((Head::Leaf(Reply::Null), after_line)));
            }
            let len = usize::try_from(len).map_err(|_| ProtocolError("bulk length out of range".into()))?;
            let end = after_line.checked_add(len).ok_or_else(|| ProtocolError("bulk length out of range".into()))?;
            let total = end.checked_add(2).ok_or_else(|| ProtocolError("bulk length out of range".into()))?;
            if buf.len() < total {
                return Ok(None);
            }
            if &buf[end..total] != b"\r\n" {
                return Err(ProtocolError("bulk string not terminated by CRLF".into()));
            }
            let range = after_line..end;
            let reply = if kind == b'!' { Reply::Error(range) } else { Reply::Bulk(range) };
            return Ok(Some((Head::Leaf(reply), total)));
        }
        // RESP3 attributes (`|`) are not accepted: they would add a reply the request queue
        // does not expect, and we never ask for them.
        b'*' | b'~' | b'>' | b'%' => {
            let len = parse_i64(line)?;
            if len < 0 {
                return Ok(Some((Head::Leaf(Reply::Null), after_line)));
            }
            let len = usize::try_from(len).map_err(|_| ProtocolError("aggregate length out of range".into()))?;
            let len = if kind == b'%' {
                len.checked_mul(2).ok_or_else(|| ProtocolError("map length out of range".into()))?
            } else {
                len
            };
            Head::Aggregate(len)
        }
        other => return Err(ProtocolError(format!("unexpected reply type byte 0x{other:02x}"))),
    };
    Ok(Some((head, after_line)))
}

/// Scans the element at `at` inside an aggregate the caller already knows is complete.
pub fn scan_element(buf: &[u8], at: usize) -> Result<Option<(Reply, usize)>, ProtocolError> {
    match buf.get(at..) {
        Some(rest) => Ok(scan_reply(rest)?.map(|(reply, len)| (shift(reply, at), at + len))),
        None => Ok(None),
    }
}

fn shift(reply: Reply, by: usize) -> Reply {
    match reply {
        Reply::Simple(r) => Reply::Simple(r.start + by..r.end + by),
        Reply::Error(r) => Reply::Error(r.start + by..r.end + by),
        Reply::Bulk(r) => Reply::Bulk(r.start + by..r.end + by),
        Reply::Array { len, elements_at } => Reply::Array { len, elements_at: elements_at + by },
        other => other,
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let mut offset = 0;
    while let Some(pos) = memchr::memchr(b'\r', &rest[offset..]) {
        let cr = offset + pos;
        match rest.get(cr + 1) {
            Some(b'\n') => return Some(from + cr),
            Some(_) => offset = cr + 1,
            None => return None,
        }
    }
    None
}

fn parse_i64(line: &[u8]) -> Result<i64, ProtocolError> {
    if line.is_empty() || line.len() > MAX_NUMBER_LINE_BYTES {
        return Err(ProtocolError("bad number line".into()));
    }
    let (negative, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() {
        return Err(ProtocolError("bad number line".into()));
    }
    let mut value: i64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return Err(ProtocolError("bad number line".into()));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(byte - b'0')))
            .ok_or_else(|| ProtocolError("number out of range".into()))?;
    }
    Ok(if negative { -value } else { value })
}

/// An owned reply tree for control-path commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Null,
    Array(Vec<Value>),
}

impl Value {
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Simple(s) => Some(s.clone()),
            Value::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// Parses one complete reply into a tree. `Ok(None)` means more bytes are needed.
pub fn parse_value(buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
    let Some((_, total)) = scan_reply(buf)? else {
        return Ok(None);
    };
    let (value, used) = build_value(buf, 0, 0)?;
    debug_assert_eq!(used, total, "tree parse and scan disagree on reply length");
    Ok(Some((value, total)))
}

fn build_value(buf: &[u8], at: usize, depth: usize) -> Result<(Value, usize), ProtocolError> {
    if depth > MAX_NESTING_DEPTH {
        return Err(ProtocolError("reply nested too deeply".into()));
    }
    let (head, next) = scan_one(buf, at)?.ok_or_else(|| ProtocolError("truncated aggregate".into()))?;
    let text = |r: Range<usize>| String::from_utf8_lossy(&buf[r]).into_owned();
    match head {
        Head::Leaf(Reply::Simple(r)) => Ok((Value::Simple(text(r)), next)),
        Head::Leaf(Reply::Error(r)) => Ok((Value::Error(text(r)), next)),
        Head::Leaf(Reply::Integer(i)) => Ok((Value::Integer(i), next)),
        Head::Leaf(Reply::Bulk(r)) => Ok((Value::Bulk(buf[r].to_vec()), next)),
        Head::Leaf(Reply::Null) => Ok((Value::Null, next)),
        Head::Leaf(Reply::Array { .. }) => Err(ProtocolError("unexpected aggregate".into())),
        Head::Aggregate(len) => {
            let mut items = Vec::with_capacity(len.min(1024));
            let mut at = next;
            for _ in 0..len {
                let (item, after) = build_value(buf, at, depth + 1)?;
                items.push(item);
                at = after;
            }
            Ok((Value::Array(items), at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_matches_the_wire_format() {
        let mut out = Vec::new();
        write_command(&mut out, &[b"SET", b"k", b"hello"]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n");
    }

    #[test]
    fn decimal_helpers_agree_with_fmt() {
        for v in [0u64, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
            assert_eq!(decimal_len(v), v.to_string().len());
        }
    }

    #[test]
    fn scans_leaves() {
        let buf = b"+OK\r\n-MOVED 1 a:2\r\n:42\r\n$5\r\nhello\r\n$-1\r\n";
        let (r, n) = scan_reply(buf).unwrap().unwrap();
        assert_eq!(r, Reply::Simple(1..3));
        let rest = &buf[n..];
        let (r, n2) = scan_reply(rest).unwrap().unwrap();
        assert_eq!(
            &rest[match r {
                Reply::Error(r) => r,
                _ => panic!(),
            }],
            b"MOVED 1 a:2"
        );
        let rest = &rest[n2..];
        let (r, n3) = scan_reply(rest).unwrap().unwrap();
        assert_eq!(r, Reply::Integer(42));
        let rest = &rest[n3..];
        let (r, n4) = scan_reply(rest).unwrap().unwrap();
        assert_eq!(r, Reply::Bulk(4..9));
        let rest = &rest[n4..];
        assert_eq!(scan_reply(rest).unwrap().unwrap(), (Reply::Null, 5));
    }

    #[test]
    fn partial_input_needs_more_at_every_cut() {
        let full = b"*2\r\n*3\r\n:1\r\n$2\r\nab\r\n+x\r\n%1\r\n+k\r\n:5\r\n";
        for cut in 0..full.len() {
            assert_eq!(scan_reply(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        let (reply, len) = scan_reply(full).unwrap().unwrap();
        assert_eq!(len, full.len());
        assert_eq!(reply, Reply::Array { len: 2, elements_at: 4 });
        let (first, next) = scan_element(full, 4).unwrap().unwrap();
        assert!(matches!(first, Reply::Array { len: 3, .. }));
        let (second, end) = scan_element(full, next).unwrap().unwrap();
        assert!(matches!(second, Reply::Array { len: 2, .. }));
        assert_eq!(end, full.len());
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(scan_reply(b"?what\r\n").is_err());
        assert!(scan_reply(b":12a\r\n").is_err());
        assert!(scan_reply(b"$3\r\nabcd\r\n").is_err());
        assert!(scan_reply(b":99999999999999999999999\r\n").is_err());
        let deep = "*1\r\n".repeat(MAX_NESTING_DEPTH + 2);
        assert!(scan_reply(deep.as_bytes()).is_err());
    }

    #[test]
    fn tree_parser_builds_nested_values() {
        let buf = b"*2\r\n*2\r\n:0\r\n$3\r\nabc\r\n$-1\r\n";
        let (value, used) = parse_value(buf).unwrap().unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(
            value,
            Value::Array(vec![Value::Array(vec![Value::Integer(0), Value::Bulk(b"abc".to_vec())]), Value::Null])
        );
    }
}
