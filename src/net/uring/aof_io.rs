//! The shard's AOF on its ring: one write per iteration of everything the iteration logged
//! (while the previous one is in flight, logged bytes queue up and go in the next write); with
//! `appendfsync always` that write carries RWF_DSYNC, so its completion means durable; with
//! `everysec` a standalone fdatasync runs once a second. With `always`, replies are held until the fsync covering them completes:
//! client output by marks in each connection's output buffer, mesh replies in a queue
//! (`persist/aof/mod.rs` has the design).
#![allow(unsafe_code)]

use io_uring::{opcode, types};

use super::{ud, Loop};
use crate::config::AppendFsync;
use crate::shard::mesh::MeshMsg;

pub(super) const OP_AOF_WRITE: u64 = 11;
pub(super) const OP_AOF_FSYNC: u64 = 12;

/// Mesh messages held until an fsync covers `need`.
#[derive(Default)]
pub(super) struct AofHolds {
    pub mesh: std::collections::VecDeque<(usize, MeshMsg, u64)>,
    /// Connections with output waiting for an fsync.
    pub conns: Vec<usize>,
}

impl Loop {
    /// End of iteration: hands what was logged to the kernel (when the previous write, and
    /// with `always` its fsync, are done).
    pub(super) fn aof_pump(&mut self) {
        let Some(aof) = self.st.aof.as_deref_mut() else { return };
        let always = aof.policy == AppendFsync::Always;
        if aof.write_inflight {
            return;
        }
        if aof.write_error.is_some() {
            // Retried from the cron, once a second.
            return;
        }
        if aof.buf.is_empty() {
            // Bytes written under `everysec` and not yet synced when CONFIG SET made the policy
            // `always`: replies produced since wait for them, and no write of this shard may
            // come to carry them.
            if always && aof.synced < aof.written {
                self.push_fsync();
            }
            return;
        }
        let (fd, off, limit) = aof.write_window();
        aof.inflight.clear();
        if limit >= aof.buf.len() {
            std::mem::swap(&mut aof.inflight, &mut aof.buf);
        } else {
            aof.inflight.extend(aof.buf.drain(..limit));
        }
        aof.inflight_done = 0;
        aof.write_inflight = true;
        let (ptr, len) = (aof.inflight.as_ptr(), aof.inflight.len() as u32);
        // With `always` the write itself is synchronous to the disk (RWF_DSYNC: a write and
        // an fdatasync of its range in one operation): its completion releases the replies.
        let flags = if always { libc::RWF_DSYNC } else { 0 };
        let w = opcode::Write::new(types::Fd(fd), ptr, len).offset(off).rw_flags(flags).build().user_data(ud(
            OP_AOF_WRITE,
            0,
            0,
        ));
        self.push_sqe(w);
    }

    fn push_fsync(&mut self) {
        let Some(aof) = self.st.aof.as_deref_mut() else { return };
        if aof.fsync_inflight {
            return;
        }
        aof.fsync_inflight = true;
        aof.fsync_target = aof.written;
        let fd = aof.fd();
        let f = opcode::Fsync::new(types::Fd(fd)).flags(types::FsyncFlags::DATASYNC).build().user_data(ud(
            OP_AOF_FSYNC,
            0,
            0,
        ));
        self.push_sqe(f);
    }

    pub(super) fn on_aof_write(&mut self, res: i32) {
        let Some(aof) = self.st.aof.as_deref_mut() else { return };
        aof.write_inflight = false;
        if res < 0 {
            let e = std::io::Error::from_raw_os_error(-res);
            self.on_aof_error(format!("Error writing to the AOF file: {e}"));
            return;
        }
        aof.inflight_done += res as usize;
        aof.written += res as u64;
        if aof.inflight_done < aof.inflight.len() {
            // A short write (disk full, or a signal): write the rest.
            let rest = aof.inflight.split_off(aof.inflight_done);
            aof.inflight = rest;
            aof.inflight_done = 0;
            aof.write_inflight = true;
            let (fd, off) = (aof.fd(), aof.written - aof.file_start);
            let flags = if aof.policy == AppendFsync::Always { libc::RWF_DSYNC } else { 0 };
            let w = opcode::Write::new(types::Fd(fd), aof.inflight.as_ptr(), aof.inflight.len() as u32)
                .offset(off)
                .rw_flags(flags)
                .build()
                .user_data(ud(OP_AOF_WRITE, 0, 0));
            self.push_sqe(w);
            return;
        }
        match aof.policy {
            // RWF_DSYNC: written means on disk.
            AppendFsync::Always => aof.synced = aof.written,
            // Never fsynced by us: written is as durable as it gets.
            AppendFsync::No => aof.synced = aof.written,
            AppendFsync::Everysec => {}
        }
        self.aof_release();
    }

    pub(super) fn on_aof_fsync(&mut self, res: i32) {
        let Some(aof) = self.st.aof.as_deref_mut() else { return };
        aof.fsync_inflight = false;
        if res == -libc::ECANCELED {
            // Cancelled with the ring (shutdown): the next second's fsync covers the bytes.
            return;
        }
        if res < 0 {
            let e = std::io::Error::from_raw_os_error(-res);
            self.on_aof_error(format!("Error syncing the AOF file: {e}"));
            return;
        }
        aof.synced = aof.synced.max(aof.fsync_target.min(aof.written));
        aof.last_fsync_ms = crate::shard::unix_ms();
        self.aof_release();
    }

    fn on_aof_error(&mut self, msg: String) {
        let Some(aof) = self.st.aof.as_deref_mut() else { return };
        crate::persist::aof::info::WRITE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::observe::log::warning(&msg);
        if aof.policy == AppendFsync::Always {
            // Replies are held for this write; they cannot be answered truthfully.
            crate::observe::log::warning(
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
            );
            std::process::exit(1);
        }
        // Keep the unwritten bytes (in front of anything logged since) for the retry.
        let mut rest = aof.inflight.split_off(aof.inflight_done);
        rest.extend_from_slice(&aof.buf);
        aof.buf = rest;
        aof.inflight.clear();
        aof.inflight_done = 0;
        aof.write_error = Some(msg);
    }

    /// Releases held replies that an fsync now covers.
    fn aof_release(&mut self) {
        let synced = self.st.aof.as_deref().map_or(u64::MAX, |a| a.synced);
        for ci in std::mem::take(&mut self.aof_holds.conns) {
            if self.conns.contains(ci) {
                self.queue_flush(ci);
            }
        }
        while self.aof_holds.mesh.front().is_some_and(|(_, _, need)| *need <= synced) {
            let Some((dest, m, _)) = self.aof_holds.mesh.pop_front() else { break };
            self.send_one(dest, m);
        }
    }

    /// Once a cron tick: CONFIG SET appendonly/appendfsync, `everysec` fsync, retry after a
    /// write error, rewrite progress.
    pub(super) fn aof_cron(&mut self) {
        let now = crate::shard::unix_ms();
        self.aof_follow_config();
        let Some(aof) = self.st.aof.as_deref_mut() else { return };
        if aof.write_error.is_some() && now.saturating_sub(aof.last_fsync_ms) >= 1000 {
            aof.write_error = None;
            aof.last_fsync_ms = now;
        }
        if aof.policy == AppendFsync::Everysec
            && now.saturating_sub(aof.last_fsync_ms) >= 1000
            && aof.synced < aof.written
        {
            if aof.fsync_inflight {
                // The last second's fsync is still running (Redis's aof_delayed_fsync).
                if now.saturating_sub(aof.last_fsync_ms) >= 2000 {
                    crate::persist::aof::info::DELAYED_FSYNC.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            } else {
                self.push_fsync();
            }
        }
        crate::persist::aof::cron(&mut self.st);
    }

    /// Applies `appendonly` and `appendfsync` as CONFIG SET left them.
    fn aof_follow_config(&mut self) {
        let (on, policy) = (self.st.cfg.appendonly, self.st.cfg.appendfsync);
        match self.st.aof.as_deref_mut() {
            Some(a) if on => a.policy = policy,
            Some(a) => {
                // Off: closed once nothing is in flight (the kernel may still read `inflight`).
                a.closing = true;
                if !a.write_inflight && !a.fsync_inflight && a.rewrite.is_none() && a.buf.is_empty() {
                    self.st.aof = None;
                    self.aof_release();
                    crate::persist::aof::info::ENABLED.store(false, std::sync::atomic::Ordering::Relaxed);
                }
            }
            // Not while a cross-shard transaction holds the shard: the base would hold part of it.
            None if on && self.st.frozen_by.is_none() => {
                match crate::persist::aof::startup::enable_at_runtime(
                    self.st.id,
                    self.st.nshards,
                    &self.st.cfg,
                    &self.st.store,
                ) {
                    Ok(a) => {
                        crate::persist::aof::info::ENABLED.store(true, std::sync::atomic::Ordering::Relaxed);
                        crate::observe::log::notice(&format!("Append only file enabled (shard {})", self.st.id));
                        self.st.aof = Some(Box::new(a));
                    }
                    Err(e) => {
                        crate::observe::log::warning(&format!("Can't enable the append only file: {e}"));
                        self.st.cfg.appendonly = false;
                    }
                }
            }
            None => {}
        }
    }

    /// Whether a reply produced now must wait for an fsync, and the position it waits for.
    #[inline]
    pub(super) fn aof_hold_need(&self) -> Option<u64> {
        self.st.aof.as_deref().filter(|a| a.must_hold()).map(|a| a.appended)
    }

    /// How much of connection `ci`'s output may be sent now; records a hold for the rest.
    pub(super) fn aof_sendable(&mut self, ci: usize) -> usize {
        let need = self.aof_hold_need();
        let synced = self.st.aof.as_deref().map_or(u64::MAX, |a| a.synced);
        let c = &mut self.conns[ci];
        if let Some(need) = need {
            if c.aof_marks.back().is_none_or(|m| m.0 < c.out.len()) {
                c.aof_marks.push_back((c.out.len(), need));
            }
        }
        let mut sendable = if c.aof_marks.is_empty() { c.out.len() } else { 0 };
        while let Some(&(len, need)) = c.aof_marks.front() {
            if need > synced {
                break;
            }
            sendable = len;
            c.aof_marks.pop_front();
        }
        if c.aof_marks.is_empty() {
            sendable = c.out.len();
        } else {
            for m in c.aof_marks.iter_mut() {
                m.0 -= sendable;
            }
            if !self.aof_holds.conns.contains(&ci) {
                self.aof_holds.conns.push(ci);
            }
        }
        sendable
    }

    /// On a clean shutdown: everything logged is written and fsynced before the loop ends.
    pub(super) fn aof_drain(&mut self) {
        for _ in 0..10_000 {
            let busy =
                self.st.aof.as_deref().is_some_and(|a| a.write_inflight || a.fsync_inflight || !a.buf.is_empty());
            if !busy {
                break;
            }
            if self.st.aof.as_deref().is_some_and(|a| a.write_error.is_some()) {
                break;
            }
            self.aof_pump();
            let _ = self.ring.submit_and_wait(1);
            let cqes: Vec<(u64, i32)> = self.ring.completion().map(|c| (c.user_data(), c.result())).collect();
            for (u, res) in cqes {
                match u >> 56 {
                    OP_AOF_WRITE => self.on_aof_write(res),
                    OP_AOF_FSYNC => self.on_aof_fsync(res),
                    _ => {}
                }
            }
        }
        if let Some(a) = self.st.aof.as_deref() {
            let _ = a.file.sync_data();
        }
    }
}
