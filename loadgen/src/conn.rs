//! One non-blocking connection of a driver thread: its read and write buffers and the queue
//! of requests awaiting replies, in send order.
//!
//! Buffers are allocated once and reused; a read never allocates unless a single reply is
//! larger than the buffer. This module does IO on its own socket only and knows nothing of
//! routing or statistics.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use crate::workload::Request;

/// Initial read buffer per connection; it grows (doubling) only for a larger single reply.
const READ_BUFFER_BYTES: usize = 16 * 1024;
/// A single reply larger than this is treated as a broken peer.
const MAX_READ_BUFFER_BYTES: usize = 512 << 20;

pub struct Conn {
    pub stream: mio::net::TcpStream,
    /// Index of the node (cluster master) this connection talks to.
    pub node: usize,
    /// Subscriber connections receive pushes and never carry requests.
    pub subscriber: bool,
    pub alive: bool,
    /// Has bytes in `wbuf` and is already on the driver's flush list.
    pub dirty: bool,
    pub inflight: VecDeque<Request>,
    /// Pipeline slots freed by replies but kept until the whole batch is answered.
    pub held_slots: usize,
    /// Taken out (`std::mem::take`) while replies are processed so the driver can borrow
    /// itself mutably; always put back.
    pub rbuf: Vec<u8>,
    pub rstart: usize,
    pub rend: usize,
    pub wbuf: Vec<u8>,
    wpos: usize,
}

/// Result of one `read_some` call.
pub enum ReadOutcome {
    /// `n` new bytes; `more` says the buffer filled up, so the socket may hold more.
    Data {
        n: usize,
        more: bool,
    },
    WouldBlock,
    Closed,
}

impl Conn {
    pub fn new(stream: mio::net::TcpStream, node: usize, subscriber: bool, pipeline: usize) -> Conn {
        Conn {
            stream,
            node,
            subscriber,
            alive: true,
            dirty: false,
            inflight: VecDeque::with_capacity(pipeline * 2 + 2),
            held_slots: 0,
            rbuf: vec![0; READ_BUFFER_BYTES],
            rstart: 0,
            rend: 0,
            wbuf: Vec::with_capacity(READ_BUFFER_BYTES),
            wpos: 0,
        }
    }

    /// Reads once into the free tail of the read buffer, making room first.
    pub fn read_some(&mut self) -> io::Result<ReadOutcome> {
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        }
        if self.rend == self.rbuf.len() {
            if self.rstart > 0 {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            } else {
                let grown = self.rbuf.len() * 2;
                if grown > MAX_READ_BUFFER_BYTES {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "reply too large"));
                }
                self.rbuf.resize(grown, 0);
            }
        }
        let space = self.rbuf.len() - self.rend;
        match self.stream.read(&mut self.rbuf[self.rend..]) {
            Ok(0) => Ok(ReadOutcome::Closed),
            Ok(n) => {
                self.rend += n;
                Ok(ReadOutcome::Data { n, more: n == space })
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::WouldBlock),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(ReadOutcome::Data { n: 0, more: true }),
            Err(e) => Err(e),
        }
    }

    /// Writes as much of the write buffer as the socket takes. Returns whether it is empty.
    pub fn flush(&mut self) -> io::Result<bool> {
        while self.wpos < self.wbuf.len() {
            match self.stream.write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "socket closed")),
                Ok(n) => self.wpos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        Ok(true)
    }

    /// Drops unsent bytes and unread replies; used when a connection is replaced.
    pub fn clear_buffers(&mut self) {
        self.held_slots = 0;
        self.wbuf.clear();
        self.wpos = 0;
        self.rstart = 0;
        self.rend = 0;
    }
}
