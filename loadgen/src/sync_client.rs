//! A blocking RESP client for the control path: connecting and authenticating data
//! connections, `CLUSTER SLOTS`, subscriber setup, and the integration tests' admin commands.
//!
//! It allocates freely and uses timeouts on every call; it must never be used on the request
//! path, where `driver` owns non-blocking sockets.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::resp::{self, Value};

/// How long a control-path connect, read or write may take before we give up on the node.
pub const CONTROL_TIMEOUT_MS: u64 = 2_000;

/// A reply larger than this on the control path means something is wrong (CLUSTER SLOTS for
/// a thousand-node cluster is well under a megabyte).
const MAX_CONTROL_REPLY_BYTES: usize = 64 << 20;

/// Credentials sent with `AUTH` right after connecting.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub user: Option<String>,
    pub pass: Option<String>,
}

pub struct SyncClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl SyncClient {
    /// Connects to `addr` ("host:port"), sets TCP_NODELAY and authenticates if asked to.
    pub fn connect(addr: &str, auth: &Auth) -> io::Result<SyncClient> {
        let timeout = Duration::from_millis(CONTROL_TIMEOUT_MS);
        let mut last_err = io::Error::new(io::ErrorKind::NotFound, format!("no address for {addr}"));
        for sock in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&sock, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(timeout))?;
                    stream.set_write_timeout(Some(timeout))?;
                    let mut client = SyncClient { stream, buf: Vec::new() };
                    client.authenticate(auth)?;
                    return Ok(client);
                }
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    fn authenticate(&mut self, auth: &Auth) -> io::Result<()> {
        let Some(pass) = &auth.pass else {
            return Ok(());
        };
        let reply = match &auth.user {
            Some(user) => self.command(&[b"AUTH", user.as_bytes(), pass.as_bytes()])?,
            None => self.command(&[b"AUTH", pass.as_bytes()])?,
        };
        match reply {
            Value::Error(e) => Err(io::Error::new(io::ErrorKind::PermissionDenied, format!("AUTH failed: {e}"))),
            _ => Ok(()),
        }
    }

    /// Sends one command and waits for its reply. Error replies are returned as
    /// `Value::Error`, not as `Err`: only transport and protocol failures are `Err`.
    pub fn command(&mut self, args: &[&[u8]]) -> io::Result<Value> {
        let mut out = Vec::new();
        resp::write_command(&mut out, args);
        self.stream.write_all(&out)?;
        self.read_value()
    }

    /// Convenience for tests and tools: whitespace-separated words as one command.
    pub fn command_str(&mut self, line: &str) -> io::Result<Value> {
        let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
        self.command(&words)
    }

    /// Reads the next reply (for example a pub/sub confirmation).
    pub fn read_value(&mut self) -> io::Result<Value> {
        loop {
            match resp::parse_value(&self.buf) {
                Ok(Some((value, used))) => {
                    self.buf.drain(..used);
                    return Ok(value);
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            if self.buf.len() > MAX_CONTROL_REPLY_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "control reply too large"));
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Hands the socket over to the event loop. Fails if the server already sent bytes we
    /// have not consumed, since the event loop would not know what they answer.
    pub fn into_stream(self) -> io::Result<TcpStream> {
        if !self.buf.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "unexpected bytes before the load started"));
        }
        self.stream.set_read_timeout(None)?;
        self.stream.set_write_timeout(None)?;
        Ok(self.stream)
    }
}
