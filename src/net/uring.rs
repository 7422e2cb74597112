//! The shard's event loop on its own io_uring: multishot accept and multishot recv into a
//! provided-buffer ring, one send per connection per iteration with everything that
//! iteration produced, the mesh eventfd and the cron timer as ring operations too. One
//! `submit_and_wait` per iteration is the only syscall on the request path (ARCHITECTURE §2).
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering;

use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use smallvec::SmallVec;

use crate::limits;
use crate::net::bufring::BufRing;
use crate::net::client::Client;
use crate::net::conn::Conn;
use crate::resp::{parse_command, Out, ParseLimits, Parsed};
use crate::shard::exec::{dispatch, run_forwarded, Dispatch};
use crate::shard::handle::Completion;
use crate::shard::mesh::{ConnRef, ForwardReply, MeshMsg, MeshPort};
use crate::shard::ShardState;

const OP_ACCEPT: u64 = 1;
const OP_RECV: u64 = 2;
const OP_SEND: u64 = 3;
const OP_EVENTFD: u64 = 4;
const OP_TIMER: u64 = 5;
const OP_BLOCK_TIMER: u64 = 6;

mod aof_io;
mod bus_io;

fn ud(op: u64, index: u32, gen: u32) -> u64 {
    (op << 56) | (((gen & 0x00ff_ffff) as u64) << 32) | index as u64
}
fn ud_parts(u: u64) -> (u64, u32, u32) {
    (u >> 56, (u & 0xffff_ffff) as u32, ((u >> 32) & 0x00ff_ffff) as u32)
}

pub struct Loop {
    ring: IoUring,
    bufs: BufRing,
    listeners: Vec<OwnedFd>,
    conns: slab::Slab<Conn>,
    next_gen: u32,
    pub st: ShardState,
    mesh: MeshPort,
    pool: LocalPool,
    /// Messages this shard sent to itself, handled next iteration.
    local: VecDeque<MeshMsg>,
    /// Messages that wait while the shard is frozen by a cross-shard transaction.
    deferred: VecDeque<MeshMsg>,
    dirty: Vec<usize>,
    flush: Vec<usize>,
    scratch: Vec<u8>,
    eventfd_buf: Box<[u8; 8]>,
    timer_spec: Box<types::Timespec>,
    tick: u64,
    /// The deadline (unix ms) the blocked-client timer is armed for, and the timespecs of
    /// armed timers (kept alive until their completion).
    block_timer_ms: Option<u64>,
    block_specs: slab::Slab<Box<types::Timespec>>,
    /// The cluster bus's sockets (shard 0 in cluster mode only).
    bus: bus_io::BusIo,
    /// Replies waiting for an AOF fsync (`appendfsync always`).
    aof_holds: aof_io::AofHolds,
}

impl Loop {
    pub fn new(st: ShardState, mesh: MeshPort, listeners: Vec<OwnedFd>) -> std::io::Result<Loop> {
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_coop_taskrun()
            .setup_cqsize(limits::RING_ENTRIES * 4)
            .build(limits::RING_ENTRIES)?;
        let bufs = BufRing::register(&ring, 1, limits::RECV_BUFFER_COUNT, limits::RECV_BUFFER_SIZE_BYTES)?;
        let hz = st.cfg.hz.clamp(1, 500) as u64;
        let timer_spec = Box::new(types::Timespec::new().nsec((1_000_000_000 / hz) as u32));
        Ok(Loop {
            ring,
            bufs,
            listeners,
            conns: slab::Slab::with_capacity(1024),
            next_gen: 1,
            st,
            mesh,
            pool: LocalPool::new(),
            local: VecDeque::new(),
            deferred: VecDeque::new(),
            dirty: Vec::new(),
            flush: Vec::new(),
            scratch: Vec::new(),
            eventfd_buf: Box::new([0u8; 8]),
            timer_spec,
            tick: 0,
            block_timer_ms: None,
            block_specs: slab::Slab::new(),
            bus: bus_io::BusIo::default(),
            aof_holds: aof_io::AofHolds::default(),
        })
    }

    fn push_sqe(&mut self, e: squeue::Entry) {
        // SAFETY: every buffer an SQE points at (eventfd_buf, timer_spec, a connection's
        // `sending` vector) stays alive and unmoved until its CQE arrives.
        unsafe {
            while self.ring.submission().push(&e).is_err() {
                let _ = self.ring.submit();
            }
        }
    }

    fn arm_accept(&mut self, i: usize) {
        let fd = self.listeners[i].as_raw_fd();
        self.push_sqe(opcode::AcceptMulti::new(types::Fd(fd)).build().user_data(ud(OP_ACCEPT, i as u32, 0)));
    }
    fn arm_recv(&mut self, ci: usize) {
        let (fd, gen) = (self.conns[ci].fd, self.conns[ci].gen);
        self.conns[ci].recv_active = true;
        let e = opcode::RecvMulti::new(types::Fd(fd), self.bufs.group).build().user_data(ud(OP_RECV, ci as u32, gen));
        self.push_sqe(e);
    }
    fn arm_eventfd(&mut self) {
        let fd = self.mesh.eventfd.as_raw_fd();
        let e =
            opcode::Read::new(types::Fd(fd), self.eventfd_buf.as_mut_ptr(), 8).build().user_data(ud(OP_EVENTFD, 0, 0));
        self.push_sqe(e);
    }
    fn arm_timer(&mut self) {
        let e = opcode::Timeout::new(&*self.timer_spec as *const types::Timespec).build().user_data(ud(OP_TIMER, 0, 0));
        self.push_sqe(e);
    }

    pub fn run(mut self) {
        crate::store::memory::enter_shard_thread();
        for i in 0..self.listeners.len() {
            self.arm_accept(i);
        }
        self.arm_eventfd();
        self.arm_timer();
        self.arm_bus();
        let mut cqes: Vec<(u64, i32, u32)> = Vec::with_capacity(1024);
        loop {
            if self.st.node.shutdown.load(Ordering::Relaxed) {
                break;
            }
            let busy = !self.local.is_empty()
                || self.st.handle.has_outgoing()
                || !self.dirty.is_empty() && self.st.frozen_by.is_none();
            let r = if busy { self.ring.submit() } else { self.ring.submit_and_wait(1) };
            if let Err(e) = r {
                if e.raw_os_error() != Some(libc::EINTR) && e.raw_os_error() != Some(libc::EBUSY) {
                    crate::observe::log::warning(&format!("shard {}: io_uring submit failed: {e}", self.st.id));
                }
            }
            cqes.clear();
            cqes.extend(self.ring.completion().map(|c| (c.user_data(), c.result(), c.flags())));
            let mut returned = false;
            for &(u, res, flags) in &cqes {
                returned |= self.on_cqe(u, res, flags);
            }
            if returned {
                self.bufs.publish();
            }
            self.drain_mesh();
            self.pool.run_until_stalled();
            self.deliver_completions();
            self.deliver_pubsub();
            if self.st.frozen_by.is_none() {
                self.process_dirty();
                if self.st.blocking.has_ready() {
                    crate::shard::blocking::serve_ready(&mut self.st);
                }
            }
            crate::persist::snapshot::step(&mut self.st);
            self.blocked_timeouts();
            if self.st.cluster_state.is_some() {
                self.bus_tick();
            }
            crate::shard::notify::publish_pending(&mut self.st);
            self.deliver_pubsub();
            self.handle_kills();
            // Keys expired this iteration outside a logged command (active cycle, SCAN...).
            self.st.log_expired_to_aof();
            self.aof_pump();
            self.send_mesh();
            self.submit_sends();
            if self.st.cfg.maxmemory_bytes > 0 {
                // Other shards weigh the node's total against maxmemory with this figure.
                let used = crate::store::memory::thread_used_bytes();
                self.st.node.shard_used_bytes[self.st.id].store(used, std::sync::atomic::Ordering::Relaxed);
            }
        }
        self.aof_drain();
        self.shutdown_conns();
    }

    fn on_cqe(&mut self, u: u64, res: i32, flags: u32) -> bool {
        let (op, index, gen) = ud_parts(u);
        match op {
            OP_ACCEPT => {
                if res >= 0 {
                    self.on_accept(res);
                } else if res != -libc::ECANCELED {
                    crate::observe::log::verbose(&format!(
                        "accept failed: {}",
                        std::io::Error::from_raw_os_error(-res)
                    ));
                }
                if !cqueue::more(flags) && !self.st.node.shutdown.load(Ordering::Relaxed) {
                    self.arm_accept(index as usize);
                }
                false
            }
            OP_RECV => self.on_recv(index as usize, gen, res, flags),
            OP_SEND => {
                self.on_send(index as usize, gen, res);
                false
            }
            OP_EVENTFD => {
                self.arm_eventfd();
                false
            }
            OP_TIMER => {
                self.cron();
                self.arm_timer();
                false
            }
            aof_io::OP_AOF_WRITE => {
                self.on_aof_write(res);
                false
            }
            aof_io::OP_AOF_FSYNC => {
                self.on_aof_fsync(res);
                false
            }
            OP_BLOCK_TIMER => {
                self.block_specs.try_remove(index as usize);
                if self.block_timer_ms.is_some_and(|d| d <= crate::shard::unix_ms()) {
                    self.block_timer_ms = None;
                }
                false
            }
            op => {
                self.on_bus_cqe(op, index, gen, res, flags);
                false
            }
        }
    }

    fn on_accept(&mut self, fd: i32) {
        let node = self.st.node.clone();
        node.total_connections_received.fetch_add(1, Ordering::Relaxed);
        let n = node.connected_clients.fetch_add(1, Ordering::Relaxed);
        if n >= self.st.cfg.maxclients as usize {
            node.connected_clients.fetch_sub(1, Ordering::Relaxed);
            node.rejected_connections.fetch_add(1, Ordering::Relaxed);
            let msg = b"-ERR max number of clients reached\r\n";
            // SAFETY: best-effort write of a static buffer to a socket we own, then close.
            unsafe {
                libc::send(fd, msg.as_ptr() as *const libc::c_void, msg.len(), libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT);
                libc::close(fd);
            }
            return;
        }
        crate::net::listen::set_nodelay(fd);
        let gen = self.next_gen;
        self.next_gen = (self.next_gen + 1) & 0x00ff_ffff;
        let ci = self.conns.insert(Conn::new(fd, gen));
        let id = node.next_client_id.fetch_add(1, Ordering::Relaxed);
        let conn = ConnRef { index: ci as u32, gen };
        let authenticated = self.st.cfg.requirepass.is_empty();
        let client = Client::new(
            id,
            conn,
            fd,
            crate::net::listen::sock_addr(fd, true),
            crate::net::listen::sock_addr(fd, false),
            authenticated,
        );
        let e = self.st.clients.vacant_entry();
        debug_assert_eq!(e.key(), ci, "clients and connections share slab indexes");
        e.insert(client);
        self.arm_recv(ci);
    }

    /// Returns true when a provided buffer was consumed (the ring tail must be published).
    fn on_recv(&mut self, ci: usize, gen: u32, res: i32, flags: u32) -> bool {
        let consumed = cqueue::buffer_select(flags);
        let live = self.conns.get(ci).is_some_and(|c| c.gen == gen);
        if let Some(bid) = consumed {
            if live && res > 0 {
                let data = self.bufs.data(bid, res as usize);
                let c = &mut self.conns[ci];
                c.inbuf.extend_from_slice(data);
                self.st.stats.net_input_bytes += res as u64;
                if !c.dirty {
                    c.dirty = true;
                    self.dirty.push(ci);
                }
            }
            self.bufs.recycle(bid);
        }
        if !live {
            return consumed.is_some();
        }
        let more = cqueue::more(flags);
        if res == -libc::ENOBUFS {
            // Every buffer was in use; they are back now, so listen again.
            self.arm_recv(ci);
        } else if res <= 0 {
            let c = &mut self.conns[ci];
            if !more {
                c.recv_active = false;
            }
            if !c.shut {
                self.shut(ci);
            }
            self.maybe_release(ci);
        } else if !more {
            self.arm_recv(ci);
        }
        consumed.is_some()
    }

    fn on_send(&mut self, ci: usize, gen: u32, res: i32) {
        let Some(c) = self.conns.get_mut(ci).filter(|c| c.gen == gen) else { return };
        c.send_inflight = false;
        if res < 0 {
            c.sending.clear();
            c.send_offset = 0;
            if !c.shut {
                self.shut(ci);
            }
            self.maybe_release(ci);
            return;
        }
        self.st.stats.net_output_bytes += res as u64;
        c.send_offset += res as usize;
        if c.send_offset < c.sending.len() {
            self.submit_send(ci);
            return;
        }
        c.sending.clear();
        c.send_offset = 0;
        if c.shut {
            self.maybe_release(ci);
        } else if !c.out.is_empty() {
            self.queue_flush(ci);
        } else if c.close_after_flush && !c.has_pending() {
            self.shut(ci);
            self.maybe_release(ci);
        } else if c.dirty {
            // Reads were paused while the reply buffer was over its limit.
            self.dirty.push(ci);
        }
    }

    fn shut(&mut self, ci: usize) {
        let c = &mut self.conns[ci];
        c.shut = true;
        // SAFETY: shutdown on a socket we own; it ends the multishot recv with 0.
        unsafe {
            libc::shutdown(c.fd, libc::SHUT_RDWR);
        }
    }

    /// Frees a connection once the kernel holds no operation on it.
    fn maybe_release(&mut self, ci: usize) {
        let c = &self.conns[ci];
        if c.recv_active || c.send_inflight {
            return;
        }
        let c = self.conns.remove(ci);
        if let Some(id) = self.st.clients.get(ci).map(|c| c.id) {
            if self.st.handle.blocked.borrow().contains(id) {
                crate::shard::blocking::forget_client(&mut self.st, id);
            }
        }
        crate::shard::txn::discard_state(&mut self.st, ci);
        crate::command::family::pubsub::forget_client(&mut self.st, ci);
        self.st.clients.try_remove(ci);
        // SAFETY: no SQE references this fd any more.
        unsafe {
            libc::close(c.fd);
        }
        self.st.node.connected_clients.fetch_sub(1, Ordering::Relaxed);
    }

    fn queue_flush(&mut self, ci: usize) {
        let c = &mut self.conns[ci];
        if !c.flush_queued {
            c.flush_queued = true;
            self.flush.push(ci);
        }
    }

    fn submit_send(&mut self, ci: usize) {
        let c = &mut self.conns[ci];
        let ptr = c.sending[c.send_offset..].as_ptr();
        let len = (c.sending.len() - c.send_offset) as u32;
        c.send_inflight = true;
        let e = opcode::Send::new(types::Fd(c.fd), ptr, len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(ud(OP_SEND, ci as u32, c.gen));
        self.push_sqe(e);
    }

    fn submit_sends(&mut self) {
        let list = std::mem::take(&mut self.flush);
        for &ci in &list {
            let Some(c) = self.conns.get_mut(ci) else { continue };
            c.flush_queued = false;
            if c.shut {
                continue;
            }
            if c.send_inflight || c.out.is_empty() {
                if c.out.is_empty() && !c.send_inflight && c.close_after_flush && !c.has_pending() {
                    self.shut(ci);
                    self.maybe_release(ci);
                }
                continue;
            }
            let sendable = if self.st.aof.is_some() { self.aof_sendable(ci) } else { c.out.len() };
            let c = &mut self.conns[ci];
            if sendable == 0 {
                continue;
            }
            if sendable < c.out.len() {
                c.sending.clear();
                c.sending.extend(c.out.drain(..sendable));
            } else {
                std::mem::swap(&mut c.sending, &mut c.out);
            }
            c.send_offset = 0;
            self.submit_send(ci);
        }
        self.flush = list;
        self.flush.clear();
    }

    fn process_dirty(&mut self) {
        let list = std::mem::take(&mut self.dirty);
        let mut again = Vec::new();
        for ci in list {
            let Some(c) = self.conns.get_mut(ci) else { continue };
            if !c.dirty {
                continue;
            }
            if c.shut || c.close_after_flush {
                c.dirty = false;
                c.inbuf.clear();
                c.inpos = 0;
                continue;
            }
            if c.barrier_seq.is_some() || c.out.len() + c.sending.len() > limits::REPLY_SOFT_LIMIT_BYTES {
                // Resumed when the barrier reply arrives or the send completes.
                continue;
            }
            c.dirty = false;
            if self.process_conn(ci) {
                again.push(ci);
            }
            self.queue_flush(ci);
        }
        for ci in again {
            if let Some(c) = self.conns.get_mut(ci) {
                if !c.dirty {
                    c.dirty = true;
                    self.dirty.push(ci);
                }
            }
        }
    }

    /// Parses and runs the commands in a connection's query buffer. Returns true when it
    /// stopped early with complete commands left (fairness cap), to be continued next round.
    fn process_conn(&mut self, ci: usize) -> bool {
        let limits = {
            let cfg = &self.st.cfg;
            let authed = self.st.clients.get(ci).is_some_and(|c| c.authenticated);
            ParseLimits {
                max_bulk_len_bytes: cfg.proto_max_bulk_len_bytes as usize,
                max_multibulk_len: limits::PROTO_MAX_MULTIBULK_LEN,
                max_inline_size_bytes: limits::PROTO_INLINE_MAX_SIZE_BYTES,
                authenticated: authed,
            }
        };
        let conn = &mut self.conns[ci];
        if conn.inbuf.len() < conn.need_bytes {
            return false;
        }
        if conn.inbuf.len() - conn.inpos > self.st.cfg.client_query_buffer_limit_bytes as usize {
            crate::observe::log::warning("Closing client that reached max query buffer length");
            conn.inbuf.clear();
            conn.inpos = 0;
            conn.close_after_flush = true;
            return false;
        }
        // The buffer is taken out while its commands run (they borrow it); nothing appends
        // to a connection's input until the next completion round.
        let inbuf = std::mem::take(&mut conn.inbuf);
        let mut pos = conn.inpos;
        conn.need_bytes = 0;
        let mut count = 0;
        let mut more = false;
        while pos < inbuf.len() {
            if count >= limits::MAX_COMMANDS_PER_READ_BATCH {
                more = true;
                break;
            }
            let base = &inbuf[pos..];
            match parse_command(base, &limits) {
                Parsed::Multibulk { args, consumed } => {
                    let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|&(s, e)| &base[s as usize..e as usize]).collect();
                    pos += consumed;
                    count += 1;
                    if self.run_one(ci, &argv) {
                        break;
                    }
                }
                Parsed::Inline { args, consumed } => {
                    let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_slice()).collect();
                    pos += consumed;
                    count += 1;
                    if self.run_one(ci, &argv) {
                        break;
                    }
                }
                Parsed::Empty { consumed } => pos += consumed,
                Parsed::Incomplete { need_total } => {
                    self.conns[ci].need_bytes = pos + need_total;
                    break;
                }
                Parsed::Error(msg) => {
                    crate::observe::log::verbose(&format!("Protocol error ({msg}) from client"));
                    self.write_sync(ci, |o| o.error(&format!("ERR {msg}")));
                    self.conns[ci].close_after_flush = true;
                    pos = inbuf.len();
                    break;
                }
            }
        }
        let c = &mut self.conns[ci];
        debug_assert!(c.inbuf.is_empty(), "input arrived while commands ran");
        let mut inbuf = inbuf;
        if c.close_after_flush || pos >= inbuf.len() {
            inbuf.clear();
            c.inpos = 0;
            c.need_bytes = 0;
        } else if pos >= inbuf.len() / 2 {
            // Compact once the consumed part dominates: each byte moves O(1) times overall,
            // however long the pipeline.
            inbuf.drain(..pos);
            c.need_bytes = c.need_bytes.saturating_sub(pos);
            c.inpos = 0;
        } else {
            c.inpos = pos;
        }
        if c.barrier_seq.is_some() && c.inpos < inbuf.len() {
            c.dirty = true;
        }
        if c.need_bytes > inbuf.capacity() {
            // A large bulk is on its way: grow once instead of doubling many times.
            inbuf.reserve(c.need_bytes - inbuf.len());
        }
        c.inbuf = inbuf;
        if let Some(cl) = self.st.clients.get_mut(ci) {
            cl.last_interaction = std::time::Instant::now();
            cl.qbuf_bytes = c.inbuf.len();
            cl.obuf_bytes = c.out.len();
        }
        more
    }

    /// Writes a reply produced here, right away or behind outstanding ones.
    fn write_sync(&mut self, ci: usize, f: impl FnOnce(&mut Out)) {
        let resp3 = self.st.clients.get(ci).is_some_and(|c| c.resp3);
        let c = &mut self.conns[ci];
        if c.has_pending() {
            self.scratch.clear();
            f(&mut Out::new(&mut self.scratch, resp3));
            c.push_ready(&self.scratch);
        } else {
            f(&mut Out::new(&mut c.out, resp3));
        }
    }

    /// Runs one command. Returns true when the connection must read no further for now.
    fn run_one(&mut self, ci: usize, argv: &[&[u8]]) -> bool {
        let resp3 = self.st.clients.get(ci).is_some_and(|c| c.resp3);
        let c = &mut self.conns[ci];
        let seq = c.next_seq();
        let direct = !c.has_pending();
        self.scratch.clear();
        let d = {
            let buf = if direct { &mut c.out } else { &mut self.scratch };
            let mut out = Out::new(buf, resp3);
            dispatch(&mut self.st, ci, seq, argv, &mut out)
        };
        let Some(c) = self.conns.get_mut(ci) else { return true };
        match d {
            Dispatch::Replied | Dispatch::Close => {
                if !direct {
                    c.push_ready(&self.scratch);
                }
                if matches!(d, Dispatch::Close) {
                    c.close_after_flush = true;
                    return true;
                }
                false
            }
            Dispatch::Forwarded => {
                debug_assert!(direct || self.scratch.is_empty());
                let s = c.push_wait();
                debug_assert_eq!(s, seq);
                false
            }
            Dispatch::Later(fut) => {
                let s = c.push_wait();
                debug_assert_eq!(s, seq);
                c.barrier_seq = Some(s);
                let h = self.st.handle.clone();
                let conn = ConnRef { index: ci as u32, gen: c.gen };
                let spawned = self.pool.spawner().spawn_local(async move {
                    let data = fut.await;
                    h.complete(Completion { conn, seq: s, data, close_after: false });
                });
                if spawned.is_err() {
                    c.fill(s, b"-ERR server is shutting down\r\n");
                    return false;
                }
                // Poll it now so its first messages queue behind what this connection sent
                // before, keeping per-shard order.
                self.pool.run_until_stalled();
                true
            }
        }
    }

    /// Times out blocked clients of this shard's connections, and keeps a ring timer armed for
    /// the earliest deadline so a timeout fires to the millisecond even when the loop is idle.
    fn blocked_timeouts(&mut self) {
        let next = self.st.handle.blocked.borrow().next_deadline_ms();
        let Some(next) = next else { return };
        let now = crate::shard::unix_ms();
        if next <= now {
            crate::shard::blocking::expire_home(&mut self.st, now);
        }
        let Some(next) = self.st.handle.blocked.borrow().next_deadline_ms() else { return };
        if self.block_timer_ms.is_some_and(|armed| armed <= next) {
            return;
        }
        let wait_ms = next.saturating_sub(now).max(1);
        let spec = Box::new(types::Timespec::new().sec(wait_ms / 1000).nsec(((wait_ms % 1000) * 1_000_000) as u32));
        let ptr = &*spec as *const types::Timespec;
        let i = self.block_specs.insert(spec);
        self.block_timer_ms = Some(next);
        let e = opcode::Timeout::new(ptr).build().user_data(ud(OP_BLOCK_TIMER, i as u32, 0));
        self.push_sqe(e);
    }

    /// Writes published messages to this shard's subscribers.
    fn deliver_pubsub(&mut self) {
        if self.st.pubsub.outbox.is_empty() {
            return;
        }
        let msgs = std::mem::take(&mut self.st.pubsub.outbox);
        for (ci, bytes) in msgs {
            let Some(c) = self.conns.get_mut(ci) else { continue };
            if c.shut {
                continue;
            }
            if c.has_pending() {
                c.push_ready(&bytes);
            } else {
                c.out.extend_from_slice(&bytes);
            }
            self.queue_flush(ci);
        }
    }

    fn deliver_completions(&mut self) {
        let done: Vec<Completion> = std::mem::take(&mut *self.st.handle.completions.borrow_mut());
        for c in done {
            self.deliver(c.conn, c.seq, &c.data, c.close_after);
        }
    }

    fn deliver(&mut self, conn: ConnRef, seq: u64, data: &[u8], close_after: bool) {
        let ci = conn.index as usize;
        let Some(c) = self.conns.get_mut(ci).filter(|c| c.gen == conn.gen) else { return };
        let was_barrier = c.barrier_seq == Some(seq);
        c.fill(seq, data);
        if close_after {
            c.close_after_flush = true;
        }
        if was_barrier && c.inbuf.len() > c.inpos && !c.dirty {
            c.dirty = true;
            self.dirty.push(ci);
        } else if was_barrier && c.dirty {
            self.dirty.push(ci);
        }
        self.queue_flush(ci);
    }

    fn deliver_forward_reply(&mut self, r: ForwardReply) {
        let mut start = 0usize;
        for (&seq, &end) in r.seqs.iter().zip(&r.ends) {
            let end = end as usize;
            self.deliver(r.conn, seq, &r.data[start..end], false);
            start = end;
        }
    }

    fn drain_mesh(&mut self) {
        // Deferred work first once the shard is free, then what arrived.
        self.pump_deferred();
        while let Some(m) = self.local.pop_front() {
            self.on_msg(m);
        }
        while let Some(m) = self.mesh.try_recv() {
            self.on_msg(m);
        }
    }

    fn pump_deferred(&mut self) {
        while self.st.frozen_by.is_none() {
            let Some(m) = self.deferred.pop_front() else { break };
            self.handle_msg(m);
        }
    }

    fn on_msg(&mut self, m: MeshMsg) {
        if m.touches_keyspace() {
            let frozen = self.st.frozen_by;
            let mine = frozen.is_some() && m.tx_of() == frozen;
            if !mine && (frozen.is_some() || !self.deferred.is_empty()) {
                self.deferred.push_back(m);
                return;
            }
        }
        self.handle_msg(m);
        self.pump_deferred();
    }

    fn handle_msg(&mut self, m: MeshMsg) {
        match m {
            MeshMsg::Forward(batch) => {
                let origin = batch.origin;
                let reply = run_forwarded(&mut self.st, batch);
                self.st.handle.send(origin, MeshMsg::ForwardReply(reply));
            }
            MeshMsg::ForwardReply(r) => self.deliver_forward_reply(r),
            MeshMsg::Call { f, origin, token, tx } => {
                self.st.tx_step_durable = false;
                let value = f(&mut self.st);
                // A transaction's steps answer at once, but the one sealing or releasing it.
                let wait_fsync = tx.is_none() || std::mem::take(&mut self.st.tx_step_durable);
                self.st.handle.send(origin, MeshMsg::Reply { token, value, wait_fsync });
            }
            MeshMsg::Reply { token, value, .. } => self.st.handle.complete_call(token, value),
            MeshMsg::CallDeferred { f, origin, token } => {
                f(&mut self.st, crate::shard::mesh::Responder { origin, token });
            }
            MeshMsg::Post { f, .. } => f(&mut self.st),
            MeshMsg::Shutdown => {}
        }
    }

    fn send_mesh(&mut self) {
        if !self.st.handle.has_outgoing() {
            return;
        }
        let out = self.st.handle.drain_outbox();
        // With `appendfsync always`, replies wait for the fsync covering this iteration's
        // writes, and keep their order behind replies already waiting.
        let hold = self
            .aof_hold_need()
            .or_else(|| (!self.aof_holds.mesh.is_empty()).then(|| self.st.aof.as_deref().map_or(0, |a| a.appended)));
        for (dest, msgs) in out.into_iter().enumerate() {
            if msgs.is_empty() {
                continue;
            }
            let mut sent = false;
            for m in msgs {
                match (hold, &m) {
                    (Some(need), MeshMsg::Reply { wait_fsync: true, .. } | MeshMsg::ForwardReply(_)) => {
                        self.aof_holds.mesh.push_back((dest, m, need))
                    }
                    _ if dest == self.st.id => self.local.push_back(m),
                    _ => {
                        // A send fails only when the peer's loop has exited (shutdown).
                        let _ = self.mesh.peers[dest].send(m);
                        sent = true;
                    }
                }
            }
            if sent {
                self.mesh.peers[dest].wake();
            }
        }
    }

    /// Sends one message now (a reply released by an fsync).
    fn send_one(&mut self, dest: usize, m: MeshMsg) {
        if dest == self.st.id {
            self.local.push_back(m);
        } else {
            let _ = self.mesh.peers[dest].send(m);
            self.mesh.peers[dest].wake();
        }
    }

    fn handle_kills(&mut self) {
        if self.st.kill_requests.is_empty() {
            return;
        }
        let ids = std::mem::take(&mut self.st.kill_requests);
        let targets: Vec<usize> = self.st.clients.iter().filter(|(_, c)| ids.contains(&c.id)).map(|(i, _)| i).collect();
        for ci in targets {
            if let Some(c) = self.conns.get_mut(ci) {
                c.close_after_flush = true;
                self.queue_flush(ci);
            }
        }
    }

    /// Periodic work, `hz` times a second: active expiry, idle timeouts, memory publication.
    fn cron(&mut self) {
        self.tick += 1;
        crate::shard::runtime::cron(&mut self.st);
        self.aof_cron();
        let timeout_s = self.st.cfg.timeout_s;
        if timeout_s > 0 && self.tick.is_multiple_of(self.st.cfg.hz.max(1) as u64) {
            let now = std::time::Instant::now();
            let idle: Vec<usize> = self
                .st
                .clients
                .iter()
                .filter(|(_, c)| now.duration_since(c.last_interaction).as_secs() > timeout_s as u64)
                .map(|(i, _)| i)
                .collect();
            for ci in idle {
                if let Some(c) = self.conns.get_mut(ci) {
                    if c.barrier_seq.is_none() && !c.has_pending() && !c.shut {
                        self.shut(ci);
                        self.maybe_release(ci);
                    }
                }
            }
        }
    }

    fn shutdown_conns(&mut self) {
        let all: Vec<usize> = self.conns.iter().map(|(i, _)| i).collect();
        for ci in all {
            let c = &self.conns[ci];
            // SAFETY: the loop is ending; closing our own sockets.
            unsafe {
                libc::close(c.fd);
            }
        }
        self.conns.clear();
    }
}
