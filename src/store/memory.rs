//! Memory accounting: the process allocator (jemalloc, as Redis uses) wrapped to count the
//! usable bytes of every allocation on the thread that makes it.
//!
//! Each shard thread keeps its own count without atomics on the allocation path; the shard
//! publishes it into `SHARD_USED` once per tick and on demand (INFO fans out to every shard,
//! each reads its own count). Memory freed on another thread than the one that allocated it
//! (a value moved between shards) shows up as a transfer between the two counts: the sum,
//! `used_memory`, stays exact.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};
use tikv_jemallocator::Jemalloc;

pub struct CountingAlloc;

thread_local! {
    static THREAD_USED: Cell<i64> = const { Cell::new(0) };
}

/// Bytes allocated by threads that are not shards (main, helpers), kept as one atomic total.
/// Shard threads only use their thread-local count.
static OTHER_USED: AtomicI64 = AtomicI64::new(0);

thread_local! {
    static IS_SHARD: Cell<bool> = const { Cell::new(false) };
}

#[inline]
fn account(delta: i64) {
    // try_with: allocations during thread teardown must not panic.
    let shard = IS_SHARD.try_with(|s| s.get()).unwrap_or(false);
    if shard {
        let _ = THREAD_USED.try_with(|c| c.set(c.get() + delta));
    } else {
        OTHER_USED.fetch_add(delta, Ordering::Relaxed);
    }
}

#[inline]
fn usable(ptr: *mut u8) -> usize {
    // SAFETY: ptr was returned by jemalloc and is still live.
    unsafe { tikv_jemallocator::usable_size(ptr) }
}

// SAFETY: every call is forwarded to jemalloc unchanged; we only read sizes of live blocks.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(layout);
        if !p.is_null() {
            account(usable(p) as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc_zeroed(layout);
        if !p.is_null() {
            account(usable(p) as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        account(-(usable(ptr) as i64));
        Jemalloc.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = usable(ptr) as i64;
        let p = Jemalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            account(usable(p) as i64 - old);
        }
        p
    }
}

/// Marks the calling thread as a shard thread: its allocations are counted locally.
pub fn enter_shard_thread() {
    IS_SHARD.with(|s| s.set(true));
}

/// Net bytes allocated by the calling shard thread.
pub fn thread_used_bytes() -> i64 {
    THREAD_USED.with(|c| c.get())
}

/// Net bytes allocated by non-shard threads.
pub fn other_used_bytes() -> i64 {
    OTHER_USED.load(Ordering::Relaxed)
}

/// Resident set size of the process, from /proc/self/statm.
pub fn rss_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else { return 0 };
    let pages: u64 = s.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as u64
}

/// The counted size of `buf`'s heap block (0 when it has none).
fn block_bytes(buf: &Vec<u8>) -> i64 {
    if buf.capacity() == 0 {
        return 0;
    }
    // Shard threads exist only in the server binary, whose global allocator is `CountingAlloc`
    // (main.rs): a shard's heap blocks come from jemalloc, as `usable` requires.
    usable(buf.as_ptr() as *mut u8) as i64
}

fn is_shard() -> bool {
    IS_SHARD.try_with(|s| s.get()).unwrap_or(false)
}

/// A buffer leaves this shard for another shard, which will free it (a forwarded batch, a
/// forwarded reply): its bytes stop counting here. Pairs with `receive_from_shard` on the
/// receiving shard, so each shard's count stays its own and `maxmemory / shards` holds.
pub fn send_to_shard(buf: &Vec<u8>) {
    if is_shard() {
        let n = block_bytes(buf);
        let _ = THREAD_USED.try_with(|c| c.set(c.get() - n));
    }
}

/// A buffer another shard sent arrives here: its bytes count here from now on.
pub fn receive_from_shard(buf: &Vec<u8>) {
    if is_shard() {
        let n = block_bytes(buf);
        let _ = THREAD_USED.try_with(|c| c.set(c.get() + n));
    }
}

/// Moves the count of `buf`'s heap block from the calling shard thread to the non-shard total,
/// for a block handed to another thread that frees it (a snapshot chunk going to the file
/// writer): both counts stay right, not only their sum, so the shard's share of `maxmemory`
/// does not grow with every save.
pub fn hand_off(buf: &Vec<u8>) {
    if buf.capacity() == 0 || !IS_SHARD.try_with(|s| s.get()).unwrap_or(false) {
        return;
    }
    // Shard threads exist only in the server binary, whose global allocator is `CountingAlloc`
    // (main.rs): a shard's heap blocks come from jemalloc, as `usable` requires.
    let n = usable(buf.as_ptr() as *mut u8) as i64;
    let _ = THREAD_USED.try_with(|c| c.set(c.get() - n));
    OTHER_USED.fetch_add(n, Ordering::Relaxed);
}
