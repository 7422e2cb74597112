//! A raw RESP client for byte-exact comparisons: it sends commands (multibulk or inline) over a
//! plain `TcpStream` and returns each reply both as the exact bytes the server wrote and as a
//! parsed [`Reply`] tree (RESP2 and RESP3 types).
//!
//! It must never normalise or re-encode a reply: the whole point is to see the server's bytes.
//! Every read has a timeout so a server that stops answering fails the test instead of hanging it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// How long one reply may take before the test calls the server stuck.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// One parsed reply. Strings stay bytes; numbers that RESP3 sends as text (doubles, big numbers)
/// stay text so nothing is lost in conversion.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reply {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    /// `$-1` in RESP2.
    NilBulk,
    Bulk(Vec<u8>),
    /// `*-1` in RESP2.
    NilArray,
    Array(Vec<Reply>),
    /// RESP3 `_`.
    Null,
    Double(Vec<u8>),
    Bool(bool),
    BigNum(Vec<u8>),
    BlobError(Vec<u8>),
    Verbatim(Vec<u8>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    /// An attribute map followed by the reply it decorates.
    Attr(Vec<(Reply, Reply)>, Box<Reply>),
}

impl Reply {
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_) | Reply::BlobError(_))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Reply::NilBulk | Reply::NilArray | Reply::Null)
    }

    /// The bytes of a string-like reply (simple, bulk, verbatim without its `txt:` prefix).
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Simple(b) | Reply::Bulk(b) | Reply::Error(b) | Reply::Double(b) => Some(b),
            Reply::Verbatim(b) => Some(b.get(4..).unwrap_or(b)),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Reply::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Elements of an array, set or push reply.
    pub fn items(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => Some(v),
            _ => None,
        }
    }
}

/// Outcome of parsing the start of a buffer.
pub enum Parsed {
    /// A full reply and how many bytes it took.
    Done(Reply, usize),
    /// More bytes are needed.
    Incomplete,
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?.windows(2).position(|w| w == b"\r\n").map(|p| p + from)
}

fn parse_int(text: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| format!("bad integer in reply: {:?}", escape(text)))
}

/// Parses one reply at `buf[pos..]`; returns the reply and the position after it.
fn parse_at(buf: &[u8], pos: usize) -> Result<Option<(Reply, usize)>, String> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(eol) = find_crlf(buf, pos + 1) else {
        return Ok(None);
    };
    let line = &buf[pos + 1..eol];
    let next = eol + 2;
    let blob = |len: i64| -> Option<(Vec<u8>, usize)> {
        let len = usize::try_from(len).ok()?;
        let end = next.checked_add(len)?;
        if buf.len() < end + 2 {
            return None;
        }
        Some((buf[next..end].to_vec(), end + 2))
    };
    let reply = match kind {
        b'+' => (Reply::Simple(line.to_vec()), next),
        b'-' => (Reply::Error(line.to_vec()), next),
        b':' => (Reply::Int(parse_int(line)?), next),
        b',' => (Reply::Double(line.to_vec()), next),
        b'(' => (Reply::BigNum(line.to_vec()), next),
        b'_' => (Reply::Null, next),
        b'#' => (Reply::Bool(line == b"t"), next),
        b'$' | b'!' | b'=' => {
            let len = parse_int(line)?;
            if len < 0 {
                (Reply::NilBulk, next)
            } else {
                let Some((data, end)) = blob(len) else {
                    return Ok(None);
                };
                let r = match kind {
                    b'$' => Reply::Bulk(data),
                    b'!' => Reply::BlobError(data),
                    _ => Reply::Verbatim(data),
                };
                (r, end)
            }
        }
        b'*' | b'~' | b'>' => {
            let n = parse_int(line)?;
            if n < 0 {
                (Reply::NilArray, next)
            } else {
                let mut items = Vec::new();
                let mut at = next;
                for _ in 0..n {
                    let Some((r, after)) = parse_at(buf, at)? else {
                        return Ok(None);
                    };
                    items.push(r);
                    at = after;
                }
                let r = match kind {
                    b'*' => Reply::Array(items),
                    b'~' => Reply::Set(items),
                    _ => Reply::Push(items),
                };
                (r, at)
            }
        }
        b'%' | b'|' => {
            let n = parse_int(line)?;
            let mut pairs = Vec::new();
            let mut at = next;
            for _ in 0..n.max(0) {
                let Some((k, after)) = parse_at(buf, at)? else {
                    return Ok(None);
                };
                let Some((v, after)) = parse_at(buf, after)? else {
                    return Ok(None);
                };
                pairs.push((k, v));
                at = after;
            }
            if kind == b'%' {
                (Reply::Map(pairs), at)
            } else {
                let Some((inner, after)) = parse_at(buf, at)? else {
                    return Ok(None);
                };
                (Reply::Attr(pairs, Box::new(inner)), after)
            }
        }
        other => {
            return Err(format!(
                "unknown RESP type byte {:?} in {:?}",
                other as char,
                escape(&buf[pos..buf.len().min(pos + 80)])
            ))
        }
    };
    Ok(Some(reply))
}

/// Parses one complete reply from the start of `buf`.
pub fn parse(buf: &[u8]) -> Result<Parsed, String> {
    Ok(match parse_at(buf, 0)? {
        Some((r, n)) => Parsed::Done(r, n),
        None => Parsed::Incomplete,
    })
}

/// Encodes a command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Encodes a command as an inline command line, quoting every argument the way `sdssplitargs`
/// reads it back (`"..."` with `\xHH` escapes), so any bytes survive.
pub fn encode_inline(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'"');
        for &b in a.iter() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x21..=0x7e => out.push(b),
                b' ' => out.push(b' '),
                _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        out.push(b'"');
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Printable form of arbitrary bytes for failure messages.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes.iter().take(600) {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > 600 {
        s.push_str(&format!("...({} bytes)", bytes.len()));
    }
    s
}

/// Printable form of a command.
pub fn show_cmd(args: &[Vec<u8>]) -> String {
    args.iter().map(|a| format!("\"{}\"", escape(a))).collect::<Vec<_>>().join(" ")
}

/// A connection that reads whole replies.
pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub fn connect(port: u16) -> std::io::Result<RawConn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_write_timeout(Some(REPLY_TIMEOUT))?;
        Ok(RawConn { stream, buf: Vec::new() })
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    pub fn send(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        self.send_raw(&encode(args))
    }

    /// Reads one complete reply: its exact bytes and its parsed form.
    pub fn read_reply(&mut self) -> Result<(Vec<u8>, Reply), String> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if !self.buf.is_empty() {
                if let Parsed::Done(reply, n) = parse(&self.buf)? {
                    let raw: Vec<u8> = self.buf.drain(..n).collect();
                    return Ok((raw, reply));
                }
            }
            if Instant::now() > deadline {
                return Err(format!("no complete reply within {REPLY_TIMEOUT:?}; have {:?}", escape(&self.buf)));
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(format!("connection closed by the server; partial reply {:?}", escape(&self.buf))),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read failed: {e}; partial {:?}", escape(&self.buf))),
            }
        }
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> Result<(Vec<u8>, Reply), String> {
        self.send(args).map_err(|e| format!("write failed: {e}"))?;
        self.read_reply()
    }

    /// `call` with string arguments, panicking on transport failure (test convenience).
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        match self.call(&bytes) {
            Ok((_, r)) => r,
            Err(e) => panic!("{}: {e}", args.join(" ")),
        }
    }

    /// Reads everything until the server closes the connection or `limit` passes; returns the
    /// bytes and whether the connection was closed.
    pub fn read_until_close(&mut self, limit: Duration) -> (Vec<u8>, bool) {
        let deadline = Instant::now() + limit;
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = vec![0u8; 64 * 1024];
        let _ = self.stream.set_read_timeout(Some(Duration::from_millis(50)));
        let closed = loop {
            if Instant::now() > deadline {
                break false;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => break true,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A reset after the server closed with unread input still means "closed".
                Err(_) => break true,
            }
        };
        let _ = self.stream.set_read_timeout(Some(REPLY_TIMEOUT));
        (out, closed)
    }

    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}
