//! The cluster bus's sockets on shard 0's ring: the bus listener, one socket per bus link
//! (connect, recv into the link's own buffer, ordered sends), and carrying out the `Action`s
//! of `cluster::bus::Bus`. The bus decides everything; this file only moves bytes and reports
//! what the kernel said. Links are few and quiet, so each has its own small receive buffer
//! instead of the client buffer ring.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};

use io_uring::{cqueue, opcode, types};

use super::{ud, Loop};
use crate::cluster::bus::{Action, LinkId};
use crate::shard::ShardState;

pub(super) const OP_BUS_ACCEPT: u64 = 7;
pub(super) const OP_BUS_CONNECT: u64 = 8;
pub(super) const OP_BUS_RECV: u64 = 9;
pub(super) const OP_BUS_SEND: u64 = 10;

const BUS_RECV_BYTES: usize = 16 * 1024;
/// `clusterCron` runs every 100 ms whatever `hz` is.
const BUS_TICK_MS: u64 = 100;

struct BusSock {
    link: LinkId,
    fd: i32,
    gen: u32,
    connecting: bool,
    /// The peer address of an outbound connect, alive until its completion.
    addr: Option<Box<(libc::sockaddr_storage, libc::socklen_t)>>,
    inbuf: Box<[u8]>,
    recv_inflight: bool,
    out: Vec<u8>,
    sending: Vec<u8>,
    send_off: usize,
    send_inflight: bool,
    connect_inflight: bool,
    /// The bus forgot this link: close once the kernel holds no operation on it.
    dead: bool,
}

#[derive(Default)]
pub(super) struct BusIo {
    listeners: Vec<OwnedFd>,
    socks: slab::Slab<BusSock>,
    by_link: HashMap<LinkId, usize>,
    next_gen: u32,
    next_tick_ms: u64,
}

/// An IPv4 or IPv6 socket address for connect(2).
fn sockaddr(ip: &str, port: u16) -> Option<(libc::sockaddr_storage, libc::socklen_t)> {
    let addr: std::net::IpAddr = ip.parse().ok()?;
    // SAFETY: an all-zero sockaddr_storage is a valid (unspecified) address to fill in.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        std::net::IpAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: port.to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            Some((ss, std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t))
        }
        std::net::IpAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: port.to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr { s6_addr: v6.octets() },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in6 and suitably aligned.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            Some((ss, std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t))
        }
    }
}

/// The IP part of `sock_addr`'s "ip:port" (IPv6 addresses come bracket-free from it).
fn ip_of(fd: i32, peer: bool) -> String {
    let s = crate::net::listen::sock_addr(fd, peer);
    match s.rfind(':') {
        Some(i) => s[..i].trim_start_matches('[').trim_end_matches(']').to_string(),
        None => s,
    }
}

impl Loop {
    /// Shard 0 in cluster mode: the bus port's listening sockets.
    pub fn set_bus_listeners(&mut self, listeners: Vec<OwnedFd>) {
        self.bus.listeners = listeners;
    }

    pub(super) fn arm_bus(&mut self) {
        for i in 0..self.bus.listeners.len() {
            self.arm_bus_accept(i);
        }
    }

    fn arm_bus_accept(&mut self, i: usize) {
        let fd = self.bus.listeners[i].as_raw_fd();
        self.push_sqe(opcode::AcceptMulti::new(types::Fd(fd)).build().user_data(ud(OP_BUS_ACCEPT, i as u32, 0)));
    }

    fn arm_bus_recv(&mut self, si: usize) {
        let s = &mut self.bus.socks[si];
        if s.recv_inflight || s.dead {
            return;
        }
        s.recv_inflight = true;
        let e = opcode::Recv::new(types::Fd(s.fd), s.inbuf.as_mut_ptr(), s.inbuf.len() as u32).build().user_data(ud(
            OP_BUS_RECV,
            si as u32,
            s.gen,
        ));
        self.push_sqe(e);
    }

    fn bus_flush(&mut self, si: usize) {
        let s = &mut self.bus.socks[si];
        if s.send_inflight || s.connecting || s.dead {
            return;
        }
        if s.send_off >= s.sending.len() {
            if s.out.is_empty() {
                return;
            }
            s.sending.clear();
            std::mem::swap(&mut s.sending, &mut s.out);
            s.send_off = 0;
        }
        s.send_inflight = true;
        let ptr = s.sending[s.send_off..].as_ptr();
        let len = (s.sending.len() - s.send_off) as u32;
        let e = opcode::Send::new(types::Fd(s.fd), ptr, len).flags(libc::MSG_NOSIGNAL).build().user_data(ud(
            OP_BUS_SEND,
            si as u32,
            s.gen,
        ));
        self.push_sqe(e);
    }

    fn new_bus_sock(&mut self, link: LinkId, fd: i32, connecting: bool) -> usize {
        let gen = self.bus.next_gen;
        self.bus.next_gen = (self.bus.next_gen + 1) & 0x00ff_ffff;
        let si = self.bus.socks.insert(BusSock {
            link,
            fd,
            gen,
            connecting,
            addr: None,
            inbuf: vec![0u8; BUS_RECV_BYTES].into_boxed_slice(),
            recv_inflight: false,
            out: Vec::new(),
            sending: Vec::new(),
            send_off: 0,
            send_inflight: false,
            connect_inflight: false,
            dead: false,
        });
        self.bus.by_link.insert(link, si);
        si
    }

    /// Forgets a socket (the bus already forgot its link, or is told now by the caller) and
    /// closes it once no operation references it.
    fn bus_kill(&mut self, si: usize) {
        let Some(s) = self.bus.socks.get_mut(si) else { return };
        if !s.dead {
            s.dead = true;
            if self.bus.by_link.get(&s.link) == Some(&si) {
                self.bus.by_link.remove(&s.link);
            }
            // SAFETY: shutdown on a socket we own ends its pending recv/send/connect.
            unsafe {
                libc::shutdown(s.fd, libc::SHUT_RDWR);
            }
        }
        if !s.recv_inflight && !s.send_inflight && !s.connect_inflight {
            let s = self.bus.socks.remove(si);
            // SAFETY: no SQE references this fd any more.
            unsafe {
                libc::close(s.fd);
            }
        }
    }

    /// A socket failed or the peer closed: tell the bus and close it.
    fn bus_lost(&mut self, si: usize) {
        let Some(s) = self.bus.socks.get(si) else { return };
        let (link, dead) = (s.link, s.dead);
        self.bus_kill(si);
        if !dead {
            let now = crate::shard::unix_ms();
            let actions = match self.st.cluster_state.as_deref_mut() {
                Some(bus) => bus.closed(now, link),
                None => Vec::new(),
            };
            self.bus_run(actions);
        }
    }

    /// Handles a bus completion; true when it was one.
    pub(super) fn on_bus_cqe(&mut self, op: u64, index: u32, gen: u32, res: i32, flags: u32) -> bool {
        let si = index as usize;
        let live = |l: &Loop| l.bus.socks.get(si).is_some_and(|s| s.gen == gen);
        match op {
            OP_BUS_ACCEPT => {
                if res >= 0 {
                    let now = crate::shard::unix_ms();
                    let (peer, local) = (ip_of(res, true), ip_of(res, false));
                    match self.st.cluster_state.as_deref_mut() {
                        Some(bus) => {
                            let link = bus.accept(now, &peer, &local);
                            let si = self.new_bus_sock(link, res, false);
                            self.arm_bus_recv(si);
                        }
                        // SAFETY: a socket we accepted and will not use.
                        None => unsafe {
                            libc::close(res);
                        },
                    }
                }
                if !cqueue::more(flags) && !self.st.node.shutdown.load(std::sync::atomic::Ordering::Relaxed) {
                    self.arm_bus_accept(si);
                }
            }
            OP_BUS_CONNECT => {
                if !live(self) {
                    return true;
                }
                let s = &mut self.bus.socks[si];
                s.connect_inflight = false;
                s.addr = None;
                if s.dead {
                    self.bus_kill(si);
                } else if res < 0 {
                    self.bus_lost(si);
                } else {
                    s.connecting = false;
                    let (link, fd) = (s.link, s.fd);
                    let local = ip_of(fd, false);
                    let now = crate::shard::unix_ms();
                    let actions = match self.st.cluster_state.as_deref_mut() {
                        Some(bus) => bus.connected(now, link, &local),
                        None => Vec::new(),
                    };
                    self.arm_bus_recv(si);
                    self.bus_run(actions);
                    self.bus_flush(si);
                }
            }
            OP_BUS_RECV => {
                if !live(self) {
                    return true;
                }
                let s = &mut self.bus.socks[si];
                s.recv_inflight = false;
                if s.dead {
                    self.bus_kill(si);
                } else if res <= 0 {
                    self.bus_lost(si);
                } else {
                    let link = s.link;
                    let data = s.inbuf[..res as usize].to_vec();
                    let now = crate::shard::unix_ms();
                    let actions = match self.st.cluster_state.as_deref_mut() {
                        Some(bus) => bus.bytes_in(now, link, &data),
                        None => Vec::new(),
                    };
                    self.arm_bus_recv(si);
                    self.bus_run(actions);
                }
            }
            OP_BUS_SEND => {
                if !live(self) {
                    return true;
                }
                let s = &mut self.bus.socks[si];
                s.send_inflight = false;
                if s.dead {
                    self.bus_kill(si);
                } else if res < 0 {
                    self.bus_lost(si);
                } else {
                    s.send_off += res as usize;
                    let link = s.link;
                    if let Some(bus) = self.st.cluster_state.as_deref_mut() {
                        bus.written(link, res as usize);
                    }
                    self.bus_flush(si);
                }
            }
            _ => return false,
        }
        true
    }

    /// `clusterCron` every 100 ms, and the actions other code queued (PUBLISH relay).
    pub(super) fn bus_tick(&mut self) {
        let pending = std::mem::take(&mut self.st.bus_actions);
        if !pending.is_empty() {
            self.bus_run(pending);
        }
        let now = crate::shard::unix_ms();
        if now < self.bus.next_tick_ms {
            return;
        }
        self.bus.next_tick_ms = now + BUS_TICK_MS;
        let actions = match self.st.cluster_state.as_deref_mut() {
            Some(bus) => bus.tick(now),
            None => return,
        };
        self.bus_run(actions);
    }

    /// Carries out the bus's actions in order.
    fn bus_run(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Connect { link, ip, port, .. } => self.bus_connect(link, &ip, port),
                Action::Send { link, bytes } => {
                    if let Some(&si) = self.bus.by_link.get(&link) {
                        self.bus.socks[si].out.extend_from_slice(&bytes);
                        self.bus_flush(si);
                    }
                }
                Action::Close { link } => {
                    if let Some(&si) = self.bus.by_link.get(&link) {
                        self.bus_kill(si);
                    }
                }
                Action::SaveConfig => {
                    if let Some(bus) = self.st.cluster_state.as_deref() {
                        if let Err(e) = bus.save() {
                            crate::observe::log::warning(&e);
                        }
                    }
                }
                Action::PublishView => crate::command::family::cluster::publish_view(&mut self.st),
                Action::Deliver { shard, channel, message } => {
                    deliver_everywhere(&mut self.st, shard, channel, message)
                }
                Action::DeleteKeysInSlots { slots } => delete_slots_everywhere(&mut self.st, slots),
                Action::ReplicateFrom { master } => crate::observe::log::notice(&format!(
                    "Cluster: this node is now a replica of {}; replication is not available yet",
                    master.as_str()
                )),
            }
        }
    }

    fn bus_connect(&mut self, link: LinkId, ip: &str, port: u16) {
        let Some(addr) = sockaddr(ip, port) else {
            let now = crate::shard::unix_ms();
            let actions = match self.st.cluster_state.as_deref_mut() {
                Some(bus) => bus.closed(now, link),
                None => Vec::new(),
            };
            return self.bus_run(actions);
        };
        let family = addr.0.ss_family as i32;
        // SAFETY: plain socket(2); the fd is owned by the BusSock from here on.
        let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            let now = crate::shard::unix_ms();
            let actions = match self.st.cluster_state.as_deref_mut() {
                Some(bus) => bus.closed(now, link),
                None => Vec::new(),
            };
            return self.bus_run(actions);
        }
        crate::net::listen::set_nodelay(fd);
        let si = self.new_bus_sock(link, fd, true);
        let s = &mut self.bus.socks[si];
        s.addr = Some(Box::new(addr));
        s.connect_inflight = true;
        let (ptr, len) = match &s.addr {
            Some(b) => (&b.0 as *const libc::sockaddr_storage as *const libc::sockaddr, b.1),
            None => return,
        };
        let e = opcode::Connect::new(types::Fd(fd), ptr, len).build().user_data(ud(OP_BUS_CONNECT, si as u32, s.gen));
        self.push_sqe(e);
    }
}

/// A PUBLISH from another node, for this node's subscribers on every shard.
fn deliver_everywhere(st: &mut ShardState, shard: bool, channel: Vec<u8>, message: Vec<u8>) {
    crate::command::family::pubsub::deliver_here(st, shard, &channel, &message);
    let msg = std::sync::Arc::new((channel, message));
    for dest in (0..st.nshards).filter(|&d| d != st.id) {
        let m = msg.clone();
        st.handle.post(dest, false, move |s: &mut ShardState| {
            crate::command::family::pubsub::deliver_here(s, shard, &m.0, &m.1);
        });
    }
}

/// Another master took these slots with a newer configuration: drop what is left in them.
fn delete_slots_everywhere(st: &mut ShardState, slots: Vec<u16>) {
    let slots = std::sync::Arc::new(slots);
    for dest in 0..st.nshards {
        let s2 = slots.clone();
        st.handle.post(dest, true, move |s: &mut ShardState| {
            let (id, n) = (s.id, s.nshards);
            for &slot in s2.iter().filter(|&&sl| crate::cluster::slot::owner_shard(sl, n) == id) {
                if s.aof.is_some() {
                    for dbi in 0..s.store.dbs.len() {
                        let keys: Vec<Vec<u8>> = s.store.dbs[dbi]
                            .slot_table(slot)
                            .map(|t| t.keys().map(|k| k.as_slice().to_vec()).collect())
                            .unwrap_or_default();
                        for k in keys {
                            s.aof_log(dbi, &[b"DEL", &k]);
                        }
                    }
                }
                for db in s.store.dbs.iter_mut() {
                    db.clear_slot(slot);
                }
            }
        });
    }
}
