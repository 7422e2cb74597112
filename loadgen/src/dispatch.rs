//! The life of a request inside a driver thread: routing to a master and a connection slot,
//! encoding into the connection's write buffer, matching replies, following `-MOVED` and
//! `-ASK`, backing off on `-TRYAGAIN` / `-CLUSTERDOWN`, verify bookkeeping and statistics.
//!
//! Every request generated is finished exactly once (reply, final error, lost connection or
//! timeout) and `outstanding` counts it until then; redirects keep it alive.

use crate::cluster_map::{self, Redirect, NO_NODE};
use crate::conn::ReadOutcome;
use crate::driver::{Driver, Phase};
use crate::resp::{self, Reply};
use crate::stats::latency_us;
use crate::workload::{self, CommandKind, Request, ASKING_COMMAND, FLAG_READBACK, FLAG_WARMUP};

/// Redirects and retries one request may take before it fails with its last error.
const MAX_ATTEMPTS: u8 = 64;
/// Backoff for `-TRYAGAIN` / `-CLUSTERDOWN`: doubles from the base up to the cap.
const RETRY_BASE_NS: u64 = 1_000_000;
const RETRY_CAP_NS: u64 = 100_000_000;
/// Set on a request that must be preceded by `ASKING` on the connection it is sent on.
const FLAG_ASK: u8 = 4;

/// How a request ended.
enum Outcome<'a> {
    /// A non-error reply; `buf` holds the bytes `reply`'s ranges point into.
    Reply { buf: &'a [u8], reply: Reply },
    /// A final error of this kind (`ERR`, `CONNECTION`, `TIMEOUT` ...).
    Error(&'a [u8]),
}

impl Driver {
    /// Sends `request` to the master owning its slot (the only node when standalone).
    pub(crate) fn route(&mut self, request: Request, now: u64) {
        let node = if self.config.cluster {
            let owner = self.map.owner(request.slot);
            if owner == NO_NODE {
                self.refresh_wanted = true;
                self.retry_later(request, now, b"CLUSTERDOWN");
                return;
            }
            usize::from(owner)
        } else {
            0
        };
        self.dispatch(node, request, now);
    }

    fn dispatch(&mut self, node: usize, request: Request, now: u64) {
        if node >= self.nodes.len() {
            // A node learnt from a redirect; failing to reach it leaves the request queued
            // until the reconnect timer or a map refresh helps.
            let _ = self.ensure_node(node);
        }
        while let Some(c) = self.nodes[node].tokens.pop_front() {
            if self.conns[c].alive {
                self.send(c, request, now);
                return;
            }
        }
        self.nodes[node].pending.push_back(request);
    }

    fn send(&mut self, c: usize, mut request: Request, now: u64) {
        let conn = &mut self.conns[c];
        debug_assert!(conn.alive && !conn.subscriber, "sending on an unusable connection");
        let mut bytes = 0;
        if request.flags & FLAG_ASK != 0 {
            request.flags &= !FLAG_ASK;
            bytes += self.gen.workload.encode(&Request::asking(), now, &mut conn.wbuf);
            conn.inflight.push_back(Request::asking());
        }
        bytes += self.gen.workload.encode(&request, now, &mut conn.wbuf);
        conn.inflight.push_back(request);
        if !conn.dirty {
            conn.dirty = true;
            self.dirty.push(c);
        }
        if is_measured(&request) {
            self.stats.commands[usize::from(request.command)].bytes_out += bytes as u64;
        }
    }

    /// Returns one pipeline slot of connection `c` once its whole batch has been answered.
    ///
    /// Refilling slot by slot would split the pipeline into many small writes, and the
    /// server would then spend more syscalls per request than with whole batches (which is
    /// what `redis-benchmark -P` sends), lowering the throughput we can drive.
    pub(crate) fn release(&mut self, c: usize) {
        let conn = &mut self.conns[c];
        if !conn.alive {
            return;
        }
        conn.held_slots += 1;
        if !conn.inflight.is_empty() {
            return;
        }
        for _ in 0..std::mem::take(&mut conn.held_slots) {
            self.give_slot(c);
        }
    }

    /// Makes one pipeline slot of `c` available, handing it to a queued request if any.
    pub(crate) fn give_slot(&mut self, c: usize) {
        let node = self.conns[c].node;
        match self.nodes[node].pending.pop_front() {
            Some(request) => {
                let now = self.now_ns();
                self.send(c, request, now);
            }
            None => self.nodes[node].tokens.push_back(c),
        }
    }

    /// Reads everything available on connection `c` and handles each complete reply.
    pub(crate) fn on_readable(&mut self, c: usize, now: u64) {
        loop {
            if !self.conns[c].alive {
                return;
            }
            match self.conns[c].read_some() {
                Ok(ReadOutcome::Data { n, more }) => {
                    if n > 0 {
                        self.process_replies(c, now);
                    }
                    if !more {
                        return;
                    }
                }
                Ok(ReadOutcome::WouldBlock) => return,
                Ok(ReadOutcome::Closed) => {
                    self.fail_conn(c, b"CONNECTION", now, "closed by server".into());
                    return;
                }
                Err(e) => {
                    self.fail_conn(c, b"CONNECTION", now, e.to_string());
                    return;
                }
            }
        }
    }

    fn process_replies(&mut self, c: usize, now: u64) {
        // Take the buffer so reply handling can borrow the driver mutably.
        let rbuf = std::mem::take(&mut self.conns[c].rbuf);
        let (mut start, end) = (self.conns[c].rstart, self.conns[c].rend);
        let mut failure = None;
        while start < end {
            let buf = &rbuf[start..end];
            match resp::scan_reply(buf) {
                Ok(Some((reply, len))) => {
                    start += len;
                    if self.conns[c].subscriber {
                        self.on_push(&buf[..len], reply, now);
                        continue;
                    }
                    let Some(request) = self.conns[c].inflight.pop_front() else {
                        failure = Some("reply without a request".to_string());
                        break;
                    };
                    self.on_reply(c, request, &buf[..len], reply, now);
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        let conn = &mut self.conns[c];
        conn.rbuf = rbuf;
        if conn.alive {
            conn.rstart = start;
        }
        if let Some(why) = failure {
            self.fail_conn(c, b"PROTOCOL", now, why);
        }
    }

    fn on_reply(&mut self, c: usize, mut request: Request, buf: &[u8], reply: Reply, now: u64) {
        if request.command == ASKING_COMMAND {
            // The reply to the ASKING we sent before a redirected request; that request's
            // own reply follows.
            return;
        }
        if is_measured(&request) {
            self.stats.commands[usize::from(request.command)].bytes_in += buf.len() as u64;
        }
        let Reply::Error(range) = reply else {
            self.finish(Some(c), request, Outcome::Reply { buf, reply }, now);
            return;
        };
        let text = &buf[range];
        let redirect = if self.config.cluster { cluster_map::parse_redirect(text) } else { None };
        let Some(redirect) = redirect else {
            self.finish(Some(c), request, Outcome::Error(cluster_map::error_kind(text)), now);
            return;
        };
        if request.attempts >= MAX_ATTEMPTS {
            self.finish(Some(c), request, Outcome::Error(cluster_map::error_kind(text)), now);
            return;
        }
        self.release(c);
        if is_measured(&request) {
            let counts = &mut self.stats.commands[usize::from(request.command)].redirects;
            match redirect {
                Redirect::Moved { .. } => counts.moved += 1,
                Redirect::Ask { .. } => counts.ask += 1,
                Redirect::TryAgain => counts.tryagain += 1,
                Redirect::ClusterDown => counts.clusterdown += 1,
            }
        }
        match redirect {
            Redirect::Moved { slot, addr } => {
                request.attempts += 1;
                let node = usize::from(self.map.set_owner(slot, addr));
                self.refresh_wanted = true;
                request.flags &= !FLAG_ASK;
                self.dispatch(node, request, now);
            }
            Redirect::Ask { addr, .. } => {
                request.attempts += 1;
                let node = usize::from(self.map.node_index(addr));
                request.flags |= FLAG_ASK;
                self.dispatch(node, request, now);
            }
            Redirect::TryAgain => self.retry_later(request, now, b"TRYAGAIN"),
            Redirect::ClusterDown => {
                self.refresh_wanted = true;
                self.retry_later(request, now, b"CLUSTERDOWN");
            }
        }
    }

    /// Queues `request` for another try after a backoff, or fails it with `kind` when it has
    /// used up its attempts.
    fn retry_later(&mut self, mut request: Request, now: u64, kind: &[u8]) {
        if request.attempts >= MAX_ATTEMPTS {
            self.finish_error(None, request, kind, now);
            return;
        }
        request.attempts = request.attempts.saturating_add(1);
        let shift = u32::from(request.attempts.min(16));
        let backoff = (RETRY_BASE_NS << shift).min(RETRY_CAP_NS);
        self.retries.push((now + backoff, request));
    }

    /// Finishes `request` with a final error; `c` is the connection whose slot it held.
    pub(crate) fn finish_error(&mut self, c: Option<usize>, request: Request, kind: &[u8], now: u64) {
        self.finish(c, request, Outcome::Error(kind), now);
    }

    fn finish(&mut self, c: Option<usize>, request: Request, outcome: Outcome<'_>, now: u64) {
        if let Some(c) = c {
            self.release(c);
        }
        debug_assert!(self.outstanding > 0, "finishing more requests than were generated");
        self.outstanding = self.outstanding.saturating_sub(1);
        let command = usize::from(request.command);
        let kind = self.gen.workload.commands[command].kind;
        if matches!(kind, CommandKind::VerifySet | CommandKind::VerifyGet) {
            self.verify_outcome(&request, kind, &outcome);
        }
        if !is_measured(&request) {
            return;
        }
        let us = latency_us(now.saturating_sub(request.start_ns));
        let stats = &mut self.stats.commands[command];
        stats.ops += 1;
        stats.latency.saturating_record(us);
        self.interval.ops += 1;
        self.interval.latency.saturating_record(us);
        if let Outcome::Error(kind) = outcome {
            stats.count_error(kind);
            self.interval.errors += 1;
        }
        self.last_done_ns = now;
    }

    fn verify_outcome(&mut self, request: &Request, kind: CommandKind, outcome: &Outcome<'_>) {
        let local = self.gen.local_of_key(request.key);
        let size = self.gen.workload.value_size;
        let Some(state) = self.gen.verify.as_mut() else {
            return;
        };
        let readback = request.flags & FLAG_READBACK != 0;
        match (kind, outcome) {
            (CommandKind::VerifySet, Outcome::Reply { .. }) => state.on_write_done(local, request.aux, true),
            (CommandKind::VerifySet, Outcome::Error(_)) => state.on_write_done(local, request.aux, false),
            (CommandKind::VerifyGet, Outcome::Reply { buf, reply }) => {
                let payload = match reply {
                    Reply::Bulk(range) => Some(&buf[range.clone()]),
                    _ => None,
                };
                state.on_read_done(local, request.key, request.aux, payload, readback, size);
            }
            (CommandKind::VerifyGet, Outcome::Error(_)) => state.on_read_failed(local),
            _ => {}
        }
    }

    /// A pub/sub push on a subscriber connection: `pmessage pattern channel payload`.
    fn on_push(&mut self, buf: &[u8], reply: Reply, now: u64) {
        if self.phase == Phase::Warmup {
            return;
        }
        let Reply::Array { len: 4, elements_at } = reply else {
            return;
        };
        let mut at = elements_at;
        let mut payload = None;
        for _ in 0..4 {
            match resp::scan_element(buf, at) {
                Ok(Some((element, next))) => {
                    payload = Some(element);
                    at = next;
                }
                _ => return,
            }
        }
        let Some(Reply::Bulk(range)) = payload else {
            return;
        };
        let Some(sent_ns) = workload::read_stamp(&buf[range]) else {
            return;
        };
        let us = latency_us(now.saturating_sub(sent_ns));
        let messages = &mut self.stats.messages;
        messages.ops += 1;
        messages.bytes_in += buf.len() as u64;
        messages.latency.saturating_record(us);
    }
}

/// Whether a request's completion goes into the statistics (not warm-up, not read-back).
fn is_measured(request: &Request) -> bool {
    request.flags & (FLAG_WARMUP | FLAG_READBACK) == 0
}
