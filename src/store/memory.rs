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

/// The counted size of `buf`'s heap block on a shard thread (0 elsewhere, or when it has
/// none).
pub fn vec_bytes<T>(buf: &Vec<T>) -> i64 {
    if buf.capacity() == 0 || std::mem::size_of::<T>() == 0 || !is_shard() {
        return 0;
    }
    // Shard threads exist only in the server binary, whose global allocator is `CountingAlloc`
    // (main.rs): a shard's heap blocks come from jemalloc, as `usable` requires.
    usable(buf.as_ptr() as *mut u8) as i64
}

fn is_shard() -> bool {
    IS_SHARD.try_with(|s| s.get()).unwrap_or(false)
}

/// The counted size of the heap block behind `b`, on a shard thread (0 elsewhere, and for a
/// zero-sized value, which has no block).
pub fn box_bytes<T: ?Sized>(b: &T) -> i64 {
    if !is_shard() || std::mem::size_of_val(b) == 0 {
        return 0;
    }
    // A shard thread's boxes come from jemalloc (see `vec_bytes`).
    usable(b as *const T as *const u8 as *mut u8) as i64
}

/// Takes `n` bytes off the calling thread's count: memory it allocated that another thread
/// will free (or count), which adds them back with `add_bytes`.
pub fn sub_bytes(n: i64) {
    if n != 0 {
        account(-n);
    }
}

/// Adds `n` bytes to the calling thread's count (see `sub_bytes`).
pub fn add_bytes(n: i64) {
    if n != 0 {
        account(n);
    }
}

/// Runs `f` and returns its result with the bytes it left allocated on the calling thread's
/// count (what `f` allocated minus what it freed).
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, i64) {
    let before = counted_bytes();
    let r = f();
    (r, counted_bytes() - before)
}

/// The count the calling thread's allocations go to.
fn counted_bytes() -> i64 {
    if is_shard() {
        thread_used_bytes()
    } else {
        other_used_bytes()
    }
}

/// A value built on one shard and consumed or dropped on another, carrying the count of the
/// heap memory it holds: `pack` takes the bytes its construction allocated off the building
/// thread's count, and whichever thread unpacks or drops it takes them on, so each shard's
/// count stays its own (`maxmemory / shards`). Without it, a value built on shard A and
/// freed on shard B leaves A's count too high and B's too low for good, and the difference
/// grows with every such message. `pack`'s closure must only build the value: memory it frees
/// that was allocated before would be carried too.
pub struct Carried<T> {
    value: std::mem::ManuallyDrop<T>,
    bytes_n: i64,
}

impl<T> Carried<T> {
    pub fn pack(build: impl FnOnce() -> T) -> Self {
        let (value, bytes_n) = measure(build);
        sub_bytes(bytes_n);
        Carried { value: std::mem::ManuallyDrop::new(value), bytes_n }
    }

    /// Carries `value`, already built, whose heap memory counts `bytes_n` on this thread.
    pub fn new(value: T, bytes_n: i64) -> Self {
        sub_bytes(bytes_n);
        Carried { value: std::mem::ManuallyDrop::new(value), bytes_n }
    }

    pub fn unpack(mut self) -> T {
        add_bytes(std::mem::take(&mut self.bytes_n));
        // SAFETY: `value` is taken exactly once; `self` is forgotten right after, so its
        // `Drop` (which would drop `value` again) never runs.
        let v = unsafe { std::mem::ManuallyDrop::take(&mut self.value) };
        std::mem::forget(self);
        v
    }
}

impl<E> Carried<Vec<E>> {
    /// Carries a vector whose elements hold no heap memory of their own (reply bytes).
    pub fn vec(v: Vec<E>) -> Self {
        let n = vec_bytes(&v);
        Carried::new(v, n)
    }
}

/// The heap bytes of a list of byte strings (keys, arguments): the list's block and each
/// string's.
pub fn strings_bytes(v: &Vec<Vec<u8>>) -> i64 {
    vec_bytes(v) + v.iter().map(vec_bytes).sum::<i64>()
}

impl<T> Drop for Carried<T> {
    fn drop(&mut self) {
        add_bytes(self.bytes_n);
        // SAFETY: the value was not taken (`unpack` forgets `self`), and is dropped once here.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.value) }
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

/// The block jemalloc hands out for a request of `size_bytes`: 8 and 16, then multiples of 16
/// up to 128, then four classes per doubling.
pub fn size_class_bytes(size_bytes: usize) -> usize {
    if size_bytes <= 16 {
        return if size_bytes <= 8 { 8 } else { 16 };
    }
    if size_bytes <= 128 {
        return size_bytes.next_multiple_of(16);
    }
    let lg = usize::BITS - 1 - (size_bytes - 1).leading_zeros();
    size_bytes.next_multiple_of(1 << (lg - 2))
}
