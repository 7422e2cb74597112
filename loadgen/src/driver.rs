//! One load thread: a mio event loop driving many non-blocking connections (one group per
//! cluster master), the run's phases (warm-up, measure, drain, verify read-back), open-loop
//! pacing, timers for retries, reconnects and map refreshes, and progress reporting.
//!
//! What happens to a request between "generated" and "finished" (routing, redirects,
//! statistics) lives in `dispatch`. Nothing on the per-request path allocates or locks;
//! the only blocking calls are connection setup and `CLUSTER SLOTS`, which are rare.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::cluster_map::ClusterMap;
use crate::config::RunConfig;
use crate::conn::Conn;
use crate::keyspace::{Distribution, KeyPicker, Zipf};
use crate::resp::Value;
use crate::stats::{Interval, ThreadStats};
use crate::sync_client::SyncClient;
use crate::timer::WakeTimer;
use crate::workload::{Generator, Request, Workload};

const NS_PER_MS: u64 = 1_000_000;
const PROGRESS_INTERVAL_NS: u64 = 1_000_000_000;
/// Upper bound on one `poll` so the stop flag and timers are checked often enough.
const MAX_POLL_WAIT_MS: u64 = 100;
/// How long in-flight requests may take to finish after the measured phase ends.
const DRAIN_TIMEOUT_MS: u64 = 5_000;
/// After Ctrl-C we want the report quickly.
const STOP_DRAIN_TIMEOUT_MS: u64 = 1_000;
/// Upper bound on the whole `--verify` read-back pass.
const READBACK_TIMEOUT_MS: u64 = 60_000;
/// Retry interval for connections that failed.
pub(crate) const RECONNECT_INTERVAL_MS: u64 = 200;
/// Minimum spacing of `CLUSTER SLOTS` refreshes triggered by redirects.
pub(crate) const MAP_REFRESH_INTERVAL_MS: u64 = 100;
const EVENTS_CAPACITY: usize = 1024;
/// Waits shorter than this use the timerfd; longer ones the (millisecond) poll timeout.
const PRECISE_WAIT_NS: u64 = 2 * NS_PER_MS;
/// Token of the wake timer; connection tokens are indices into `conns`.
const TIMER_TOKEN: Token = Token(usize::MAX);

/// Messages from load threads to the main thread.
pub enum Msg {
    Progress { interval: Interval },
    Done { result: Result<ThreadStats, String> },
}

/// Everything a thread starts from; cloned per thread.
#[derive(Clone)]
pub struct Shared {
    pub config: Arc<RunConfig>,
    pub workload: Arc<Workload>,
    pub zipf: Option<Arc<Zipf>>,
    pub map: ClusterMap,
    pub base: Instant,
    pub stop: Arc<AtomicBool>,
    pub barrier: Arc<Barrier>,
}

/// Body of a load thread: set up, wait for every thread, run, report back.
pub fn run_thread(index: usize, shared: Shared, tx: Sender<Msg>) {
    let setup = Driver::new(index, &shared);
    // Every thread reaches the barrier, even after a failed setup, so none waits forever.
    shared.barrier.wait();
    let result = setup.map(|mut driver| driver.run(&tx));
    // The main thread may be gone after a second Ctrl-C; nothing to do then.
    let _ = tx.send(Msg::Done { result });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Warmup,
    Measure,
    Drain,
    Readback,
    Done,
}

/// A cluster master (or the standalone server) and the connections this thread has to it.
pub(crate) struct Node {
    pub(crate) addr: String,
    pub(crate) conns: Vec<usize>,
    /// One entry per free pipeline slot: the connection that has room.
    pub(crate) tokens: VecDeque<usize>,
    /// Requests routed here while every slot was busy.
    pub(crate) pending: VecDeque<Request>,
}

pub(crate) struct Driver {
    pub(crate) config: Arc<RunConfig>,
    pub(crate) base: Instant,
    stop: Arc<AtomicBool>,
    pub(crate) poll: Poll,
    timer: WakeTimer,
    pub(crate) conns: Vec<Conn>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) map: ClusterMap,
    pub(crate) gen: Generator,
    pub(crate) stats: ThreadStats,
    pub(crate) interval: Interval,
    /// Connections with bytes to write, flushed once per loop iteration.
    pub(crate) dirty: Vec<usize>,
    /// Requests waiting out a backoff: (due time, request).
    pub(crate) retries: Vec<(u64, Request)>,
    /// Generated and not yet finished: in flight, pending or waiting to retry.
    pub(crate) outstanding: u64,
    /// Data connections currently alive; with `pipeline` this bounds `outstanding`.
    pub(crate) live_conns: usize,
    /// Some connection is dead or was never opened; the reconnect timer is running.
    pub(crate) reconnect_wanted: bool,
    pub(crate) phase: Phase,
    pub(crate) refresh_wanted: bool,
    pub(crate) last_refresh_ns: u64,
    next_reconnect_ns: u64,
    pub(crate) last_done_ns: u64,
    quota: Option<u64>,
    /// Measured requests generated so far.
    issued: u64,
    /// Open-loop schedule: requests generated since the start, warm-up included.
    op_index: u64,
    open_loop_start_ns: u64,
    ns_per_op: Option<f64>,
    warmup_end_ns: u64,
    measure_end_ns: Option<u64>,
    deadline_ns: u64,
    readback_exhausted: bool,
    stopped: bool,
}

impl Driver {
    fn new(index: usize, shared: &Shared) -> Result<Driver, String> {
        let config = shared.config.clone();
        let workload = shared.workload.clone();
        let threads = config.threads as u64;
        // Verify needs one writer per key; sequential walks should not repeat across threads.
        let partition = (workload.verify_ratio.is_some() || config.distribution == Distribution::Sequential)
            .then_some((index as u64, threads));
        let picker = KeyPicker::new(config.keys, config.distribution, shared.zipf.clone(), partition);
        let rng = SmallRng::seed_from_u64(config.seed ^ (index as u64).wrapping_mul(0x9e37_79b9));
        let names: Vec<String> = workload.commands.iter().map(|c| c.name.clone()).collect();
        let ns_per_op = config.rate_per_sec.map(|rate| 1e9 * config.threads as f64 / rate);
        let poll = Poll::new().map_err(|e| format!("creating the event loop: {e}"))?;
        let timer =
            WakeTimer::new(poll.registry(), TIMER_TOKEN).map_err(|e| format!("creating the wake timer: {e}"))?;
        let mut driver = Driver {
            quota: config.thread_quota(index),
            base: shared.base,
            stop: shared.stop.clone(),
            poll,
            timer,
            conns: Vec::new(),
            nodes: Vec::new(),
            map: shared.map.clone(),
            gen: Generator::new(workload.clone(), rng, picker, config.cluster),
            stats: ThreadStats::new(&names),
            interval: Interval::new(),
            dirty: Vec::new(),
            retries: Vec::new(),
            outstanding: 0,
            live_conns: 0,
            reconnect_wanted: false,
            phase: Phase::Warmup,
            refresh_wanted: false,
            last_refresh_ns: 0,
            next_reconnect_ns: 0,
            last_done_ns: 0,
            issued: 0,
            op_index: 0,
            open_loop_start_ns: 0,
            ns_per_op,
            warmup_end_ns: 0,
            measure_end_ns: None,
            deadline_ns: 0,
            readback_exhausted: false,
            stopped: false,
            config,
        };
        let node_count = driver.map.nodes().len();
        if node_count == 0 {
            return Err("the cluster map has no nodes".into());
        }
        driver.ensure_node(node_count - 1)?;
        if workload.pubsub {
            driver.open_subscribers()?;
        }
        Ok(driver)
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// Creates node entries up to `node` and opens their missing connections. A failure is
    /// returned (setup treats it as fatal) and also left to the reconnect timer.
    pub(crate) fn ensure_node(&mut self, node: usize) -> Result<(), String> {
        let mut result = Ok(());
        while self.nodes.len() <= node {
            let i = self.nodes.len();
            let addr = self.map.nodes().get(i).cloned().ok_or_else(|| format!("node {i} is not in the cluster map"))?;
            self.nodes.push(Node { addr, conns: Vec::new(), tokens: VecDeque::new(), pending: VecDeque::new() });
            if let Err(e) = self.open_missing(i) {
                result = Err(e);
            }
        }
        result
    }

    fn open_missing(&mut self, node: usize) -> Result<(), String> {
        while self.nodes[node].conns.len() < self.config.connections {
            let conn = match self.connect(node, false) {
                Ok(conn) => conn,
                Err(e) => {
                    self.reconnect_wanted = true;
                    return Err(format!("connecting to {}: {e}", self.nodes[node].addr));
                }
            };
            let c = self.conns.len();
            self.conns.push(conn);
            self.register(c)?;
            self.live_conns += 1;
            self.nodes[node].conns.push(c);
            self.add_tokens(c);
        }
        Ok(())
    }

    fn connect(&self, node: usize, subscriber: bool) -> io::Result<Conn> {
        let client = SyncClient::connect(&self.nodes[node].addr, &self.config.auth)?;
        let stream = client.into_stream()?;
        stream.set_nonblocking(true)?;
        Ok(Conn::new(mio::net::TcpStream::from_std(stream), node, subscriber, self.config.pipeline))
    }

    fn register(&mut self, c: usize) -> Result<(), String> {
        self.poll
            .registry()
            .register(&mut self.conns[c].stream, Token(c), Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| format!("registering a connection: {e}"))
    }

    /// Gives a fresh connection its pipeline slots, serving queued requests first.
    fn add_tokens(&mut self, c: usize) {
        for _ in 0..self.config.pipeline {
            self.give_slot(c);
        }
    }

    fn open_subscribers(&mut self) -> Result<(), String> {
        let pattern = self.gen.workload.channel_pattern();
        // Classic pub/sub messages reach every cluster node, so one node is enough.
        for _ in 0..self.config.subscribers {
            let addr = &self.nodes[0].addr;
            let mut client = SyncClient::connect(addr, &self.config.auth)
                .map_err(|e| format!("subscriber connecting to {addr}: {e}"))?;
            match client.command(&[b"PSUBSCRIBE", &pattern]) {
                Ok(Value::Array(_)) => {}
                other => return Err(format!("PSUBSCRIBE failed: {other:?}")),
            }
            let stream = client
                .into_stream()
                .and_then(|s| s.set_nonblocking(true).map(|_| s))
                .map_err(|e| format!("subscriber setup: {e}"))?;
            let c = self.conns.len();
            self.conns.push(Conn::new(mio::net::TcpStream::from_std(stream), 0, true, self.config.pipeline));
            self.register(c)?;
        }
        Ok(())
    }

    fn run(&mut self, tx: &Sender<Msg>) -> ThreadStats {
        let mut events = Events::with_capacity(EVENTS_CAPACITY);
        let start = self.now_ns();
        self.open_loop_start_ns = start;
        self.warmup_end_ns = start + self.config.warmup_ms * NS_PER_MS;
        if self.config.warmup_ms == 0 {
            self.begin_measure(start);
        }
        let mut next_tick_ns = start + PROGRESS_INTERVAL_NS;
        loop {
            let now = self.now_ns();
            self.advance_phase(now);
            if self.phase == Phase::Done {
                break;
            }
            self.run_timers(now);
            self.fill(now);
            self.flush_dirty();
            if now >= next_tick_ns {
                self.interval.warmup = self.phase == Phase::Warmup;
                let interval = self.interval.clone();
                self.interval.reset();
                let _ = tx.send(Msg::Progress { interval });
                next_tick_ns += PROGRESS_INTERVAL_NS;
            }
            let timeout = self.poll_timeout(now, next_tick_ns);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    eprintln!("event loop failed: {e}");
                    break;
                }
            }
            let now = self.now_ns();
            for event in events.iter() {
                if event.token() == TIMER_TOKEN {
                    self.timer.on_fired();
                    continue;
                }
                let c = event.token().0;
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.on_readable(c, now);
                }
                if event.is_writable() && self.conns[c].alive && !self.conns[c].wbuf.is_empty() {
                    if let Err(e) = self.conns[c].flush() {
                        self.fail_conn(c, b"CONNECTION", now, e.to_string());
                    }
                }
            }
        }
        self.finish_stats()
    }

    fn finish_stats(&mut self) -> ThreadStats {
        if let Some(state) = &mut self.gen.verify {
            state.finish();
            self.stats.verify = Some(state.counts);
        }
        self.stats.clone()
    }

    fn begin_measure(&mut self, now: u64) {
        self.stats.reset();
        self.interval.reset();
        self.stats.measure_start_ns = now;
        self.last_done_ns = now;
        self.phase = Phase::Measure;
        if let crate::config::StopAt::DurationMs(ms) = self.config.stop_at {
            self.measure_end_ns = Some(now + ms * NS_PER_MS);
        }
    }

    fn begin_drain(&mut self, now: u64) {
        self.phase = Phase::Drain;
        let timeout_ms = if self.stopped { STOP_DRAIN_TIMEOUT_MS } else { DRAIN_TIMEOUT_MS };
        self.deadline_ns = now + timeout_ms * NS_PER_MS;
    }

    fn advance_phase(&mut self, now: u64) {
        if !self.stopped && self.stop.load(Ordering::Relaxed) {
            self.stopped = true;
            if matches!(self.phase, Phase::Warmup | Phase::Measure | Phase::Readback) {
                if self.phase == Phase::Warmup {
                    self.begin_measure(now);
                }
                self.begin_drain(now);
            }
        }
        match self.phase {
            Phase::Warmup if now >= self.warmup_end_ns => self.begin_measure(now),
            Phase::Measure => {
                let quota_done = self.quota.is_some_and(|q| self.issued >= q);
                let time_up = self.measure_end_ns.is_some_and(|end| now >= end);
                if quota_done || time_up {
                    self.begin_drain(now);
                }
            }
            Phase::Drain => {
                if self.outstanding > 0 && now >= self.deadline_ns {
                    self.time_out_all(now);
                }
                if self.outstanding == 0 {
                    self.stats.measure_end_ns = self.last_done_ns.max(self.stats.measure_start_ns);
                    if self.gen.verify.is_some() && !self.stopped {
                        self.phase = Phase::Readback;
                        self.deadline_ns = now + READBACK_TIMEOUT_MS * NS_PER_MS;
                    } else {
                        self.phase = Phase::Done;
                    }
                }
            }
            Phase::Readback => {
                if self.outstanding > 0 && (now >= self.deadline_ns || self.stopped) {
                    self.time_out_all(now);
                }
                if self.outstanding == 0 && (self.readback_exhausted || self.stopped) {
                    self.phase = Phase::Done;
                }
            }
            _ => {}
        }
    }

    /// Generates requests while there is room (and, in open loop, while they are due).
    fn fill(&mut self, now: u64) {
        let capacity = (self.live_conns * self.config.pipeline) as u64;
        match self.phase {
            Phase::Warmup | Phase::Measure => loop {
                let measuring = self.phase == Phase::Measure;
                if measuring && self.quota.is_some_and(|q| self.issued >= q) {
                    break;
                }
                if self.outstanding >= capacity {
                    break;
                }
                let start_ns = match self.ns_per_op {
                    Some(ns) => {
                        let due = self.open_loop_start_ns + (self.op_index as f64 * ns) as u64;
                        if due > now {
                            break;
                        }
                        due
                    }
                    None => now,
                };
                let Some(mut request) = self.gen.next(start_ns) else {
                    break;
                };
                self.op_index += 1;
                if measuring {
                    self.issued += 1;
                } else {
                    request.flags |= crate::workload::FLAG_WARMUP;
                }
                self.outstanding += 1;
                self.route(request, now);
            },
            Phase::Readback => {
                while self.outstanding < capacity {
                    let Some(request) = self.gen.next_readback(now) else {
                        self.readback_exhausted = true;
                        break;
                    };
                    self.outstanding += 1;
                    self.route(request, now);
                }
            }
            Phase::Drain | Phase::Done => {}
        }
    }

    fn flush_dirty(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        for c in dirty.drain(..) {
            let conn = &mut self.conns[c];
            conn.dirty = false;
            if !conn.alive {
                continue;
            }
            if let Err(e) = conn.flush() {
                let now = self.now_ns();
                self.fail_conn(c, b"CONNECTION", now, e.to_string());
            }
        }
        debug_assert!(self.dirty.is_empty(), "flushing made more connections dirty");
        self.dirty = dirty;
    }

    fn poll_timeout(&mut self, now: u64, next_tick_ns: u64) -> Duration {
        let mut wake = next_tick_ns;
        let capacity = (self.live_conns * self.config.pipeline) as u64;
        if let (Some(ns), Phase::Warmup | Phase::Measure) = (self.ns_per_op, self.phase) {
            if self.outstanding < capacity {
                wake = wake.min(self.open_loop_start_ns + (self.op_index as f64 * ns) as u64);
            }
        }
        for (due, _) in &self.retries {
            wake = wake.min(*due);
        }
        if self.reconnect_wanted {
            wake = wake.min(self.next_reconnect_ns);
        }
        if self.refresh_wanted {
            wake = wake.min(self.last_refresh_ns + MAP_REFRESH_INTERVAL_MS * NS_PER_MS);
        }
        match self.phase {
            Phase::Warmup => wake = wake.min(self.warmup_end_ns),
            Phase::Measure => {
                if let Some(end) = self.measure_end_ns {
                    wake = wake.min(end);
                }
            }
            Phase::Drain | Phase::Readback => wake = wake.min(self.deadline_ns),
            Phase::Done => {}
        }
        let wait_ns = wake.saturating_sub(now);
        if wait_ns == 0 {
            return Duration::ZERO;
        }
        if wait_ns >= PRECISE_WAIT_NS {
            // Rounded down: we may wake up to a millisecond early and then use the timer.
            return Duration::from_millis((wait_ns / NS_PER_MS).min(MAX_POLL_WAIT_MS));
        }
        match self.timer.arm(wake, now) {
            // The poll timeout is only a backstop; the timer wakes us on time.
            Ok(()) => Duration::from_nanos(PRECISE_WAIT_NS),
            // Without the timer, spinning is the only way to be on time.
            Err(_) => Duration::ZERO,
        }
    }

    fn run_timers(&mut self, now: u64) {
        if !self.retries.is_empty() {
            let mut i = 0;
            while i < self.retries.len() {
                if self.retries[i].0 <= now {
                    let (_, request) = self.retries.swap_remove(i);
                    self.route(request, now);
                } else {
                    i += 1;
                }
            }
        }
        if self.reconnect_wanted && now >= self.next_reconnect_ns {
            self.next_reconnect_ns = now + RECONNECT_INTERVAL_MS * NS_PER_MS;
            self.reconnect_dead();
        }
        if self.config.cluster
            && self.refresh_wanted
            && now >= self.last_refresh_ns + MAP_REFRESH_INTERVAL_MS * NS_PER_MS
        {
            self.refresh_map(now);
        }
    }

    fn reconnect_dead(&mut self) {
        let mut all_up = true;
        for c in 0..self.conns.len() {
            if self.conns[c].alive || self.conns[c].subscriber {
                continue;
            }
            let node = self.conns[c].node;
            let Ok(conn) = self.connect(node, false) else {
                all_up = false;
                continue;
            };
            self.conns[c] = conn;
            if self.register(c).is_err() {
                self.conns[c].alive = false;
                all_up = false;
                continue;
            }
            self.live_conns += 1;
            self.add_tokens(c);
        }
        for node in 0..self.nodes.len() {
            if self.open_missing(node).is_err() {
                all_up = false;
            }
        }
        self.reconnect_wanted = !all_up;
    }

    /// Fetches `CLUSTER SLOTS` from the first node that answers and adopts it.
    fn refresh_map(&mut self, now: u64) {
        self.last_refresh_ns = now;
        let mut candidates = vec![self.config.seed_addr()];
        candidates.extend(self.map.nodes().iter().cloned());
        for addr in candidates {
            let Ok(mut client) = SyncClient::connect(&addr, &self.config.auth) else {
                continue;
            };
            let Ok(reply) = client.command(&[b"CLUSTER", b"SLOTS"]) else {
                continue;
            };
            if self.map.apply_cluster_slots(&reply, &self.config.host).is_err() {
                continue;
            }
            self.refresh_wanted = false;
            for node in 0..self.map.nodes().len() {
                // A node we cannot reach is retried by the reconnect timer.
                let _ = self.ensure_node(node);
            }
            self.reroute_stranded(now);
            return;
        }
    }

    /// Re-routes requests queued at nodes that have no live connection.
    fn reroute_stranded(&mut self, now: u64) {
        for node in 0..self.nodes.len() {
            let reachable = self.nodes[node].conns.iter().any(|&c| self.conns[c].alive);
            if reachable || self.nodes[node].pending.is_empty() {
                continue;
            }
            let stranded = std::mem::take(&mut self.nodes[node].pending);
            for request in stranded {
                self.route(request, now);
            }
        }
    }

    /// Gives up on everything still outstanding: connections with requests in flight are
    /// closed (their late replies would otherwise be matched to new requests) and reopened.
    fn time_out_all(&mut self, now: u64) {
        for c in 0..self.conns.len() {
            if self.conns[c].alive && !self.conns[c].inflight.is_empty() {
                self.fail_conn(c, b"TIMEOUT", now, String::new());
            }
        }
        for node in 0..self.nodes.len() {
            let pending = std::mem::take(&mut self.nodes[node].pending);
            for request in pending {
                self.finish_error(None, request, b"TIMEOUT", now);
            }
        }
        for (_, request) in std::mem::take(&mut self.retries) {
            self.finish_error(None, request, b"TIMEOUT", now);
        }
        debug_assert_eq!(self.outstanding, 0, "requests left after timing out all");
        self.outstanding = 0;
        self.next_reconnect_ns = now;
    }

    /// Closes connection `c` and finishes its in-flight requests with error `kind`.
    pub(crate) fn fail_conn(&mut self, c: usize, kind: &[u8], now: u64, why: String) {
        if !self.conns[c].alive {
            return;
        }
        if kind == b"CONNECTION" && self.phase != Phase::Done {
            eprintln!("connection to {} lost: {why}", self.nodes[self.conns[c].node].addr);
            self.stats.connection_errors += 1;
        }
        let conn = &mut self.conns[c];
        conn.alive = false;
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        conn.clear_buffers();
        let inflight = std::mem::take(&mut conn.inflight);
        if conn.subscriber {
            return;
        }
        self.live_conns -= 1;
        self.reconnect_wanted = true;
        let node = conn.node;
        self.nodes[node].tokens.retain(|&t| t != c);
        for request in inflight {
            if request.command != crate::workload::ASKING_COMMAND {
                self.finish_error(None, request, kind, now);
            }
        }
        if self.config.cluster {
            self.refresh_wanted = true;
        }
    }
}
