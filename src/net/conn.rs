//! One connection's buffers and reply ordering. Replies must leave in request order even when
//! some are produced on other shards: every reply that cannot be written yet takes a numbered
//! place in `pending`, and replies are moved to `out` only from the front.

use std::collections::VecDeque;

pub enum Pending {
    /// Produced elsewhere; arrives later for this sequence number.
    Wait,
    Ready(Vec<u8>),
}

pub struct Conn {
    pub fd: i32,
    pub gen: u32,
    /// Bytes received and not yet parsed.
    pub inbuf: Vec<u8>,
    /// Bytes of `inbuf` already parsed (compacted lazily).
    pub inpos: usize,
    /// Do not parse again until `inbuf` holds this many bytes (a large bulk in flight).
    pub need_bytes: usize,
    /// Replies ready to send, in order.
    pub out: Vec<u8>,
    /// The buffer the kernel is sending from; untouched until the send completes.
    pub sending: Vec<u8>,
    pub send_offset: usize,
    pub send_inflight: bool,
    pending: VecDeque<Pending>,
    /// Sequence number of `pending[0]`.
    base_seq: u64,
    /// A reply the connection must see before reading on (fan-out, cross-shard command).
    pub barrier_seq: Option<u64>,
    pub recv_active: bool,
    /// `shutdown()` was called; the connection is going away.
    pub shut: bool,
    /// Close once everything queued so far is sent (QUIT, protocol error, CLIENT KILL).
    pub close_after_flush: bool,
    /// Has unparsed input to look at.
    pub dirty: bool,
    /// Queued for a send submission this iteration.
    pub flush_queued: bool,
    /// With `appendfsync always`: (length of `out`, AOF position) pairs; the first `len`
    /// bytes may leave once the AOF is fsynced up to the position.
    pub aof_marks: VecDeque<(usize, u64)>,
}

impl Conn {
    pub fn new(fd: i32, gen: u32) -> Self {
        Conn {
            fd,
            gen,
            inbuf: Vec::new(),
            inpos: 0,
            need_bytes: 0,
            out: Vec::new(),
            sending: Vec::new(),
            send_offset: 0,
            send_inflight: false,
            pending: VecDeque::new(),
            base_seq: 0,
            barrier_seq: None,
            recv_active: false,
            shut: false,
            close_after_flush: false,
            dirty: false,
            flush_queued: false,
            aof_marks: VecDeque::new(),
        }
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The sequence number the next reply slot would get.
    pub fn next_seq(&self) -> u64 {
        self.base_seq + self.pending.len() as u64
    }

    /// Reserves the next reply slot for a reply produced elsewhere.
    pub fn push_wait(&mut self) -> u64 {
        let seq = self.next_seq();
        self.pending.push_back(Pending::Wait);
        seq
    }

    /// Queues a reply produced here behind the outstanding ones (coalescing with the last
    /// ready reply so a long pipeline costs one buffer, not one per command).
    pub fn push_ready(&mut self, bytes: &[u8]) {
        if let Some(Pending::Ready(last)) = self.pending.back_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.pending.push_back(Pending::Ready(bytes.to_vec()));
        }
    }

    /// Fills slot `seq` and moves every leading ready reply to `out`. Returns false for a
    /// sequence number this connection does not wait for (a stale reply).
    pub fn fill(&mut self, seq: u64, bytes: &[u8]) -> bool {
        let Some(idx) = seq.checked_sub(self.base_seq) else { return false };
        match self.pending.get_mut(idx as usize) {
            Some(p @ Pending::Wait) => *p = Pending::Ready(bytes.to_vec()),
            _ => return false,
        }
        if self.barrier_seq == Some(seq) {
            self.barrier_seq = None;
        }
        while let Some(Pending::Ready(_)) = self.pending.front() {
            if let Some(Pending::Ready(b)) = self.pending.pop_front() {
                self.out.extend_from_slice(&b);
            }
            self.base_seq += 1;
        }
        true
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending.iter().map(|p| if let Pending::Ready(b) = p { b.len() } else { 0 }).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_leave_in_request_order() {
        let mut c = Conn::new(0, 0);
        c.out.extend_from_slice(b"a");
        let s1 = c.push_wait();
        c.push_ready(b"c");
        c.push_ready(b"d");
        let s2 = c.push_wait();
        c.push_ready(b"f");
        assert!(c.fill(s2, b"e"));
        assert_eq!(c.out, b"a");
        assert!(c.fill(s1, b"b"));
        assert_eq!(c.out, b"abcdef");
        assert!(!c.has_pending());
        assert!(!c.fill(s1, b"x"), "a slot is filled once");
        let s3 = c.push_wait();
        assert_eq!(s3, s2 + 2);
    }
}
