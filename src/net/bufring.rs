//! A provided-buffer ring for multishot recv: the kernel picks a free buffer for each
//! completion, so a shard needs no buffer per idle connection. Buffers are handed back right
//! after their bytes are copied into the connection's query buffer.
#![allow(unsafe_code)]

use io_uring::types::BufRingEntry;
use io_uring::IoUring;

pub struct BufRing {
    entries: *mut BufRingEntry,
    entries_len_bytes: usize,
    bufs: *mut u8,
    bufs_len_bytes: usize,
    count: u16,
    buf_size: usize,
    tail: u16,
    pub group: u16,
}

fn mmap_anon(len: usize) -> std::io::Result<*mut u8> {
    // SAFETY: anonymous private mapping, no file, checked for failure below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_ANONYMOUS | libc::MAP_PRIVATE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(p as *mut u8)
}

impl BufRing {
    /// Registers `count` (a power of two) buffers of `buf_size` bytes with `ring` as `group`.
    /// Buffers are mmapped, not heap-allocated: they are I/O staging, not data, and stay out
    /// of `used_memory` as Redis's own socket buffers do.
    pub fn register(ring: &IoUring, group: u16, count: u16, buf_size: usize) -> std::io::Result<BufRing> {
        assert!(count.is_power_of_two(), "buffer ring size must be a power of two");
        let entries_len_bytes = count as usize * std::mem::size_of::<BufRingEntry>();
        let entries = mmap_anon(entries_len_bytes)? as *mut BufRingEntry;
        let bufs_len_bytes = count as usize * buf_size;
        let bufs = mmap_anon(bufs_len_bytes)?;
        // SAFETY: `entries` is a page-aligned mapping of `count` entries that lives as long as
        // the BufRing, which is dropped only after the ring stops using it.
        unsafe { ring.submitter().register_buf_ring_with_flags(entries as u64, count, group, 0)? };
        let mut r = BufRing { entries, entries_len_bytes, bufs, bufs_len_bytes, count, buf_size, tail: 0, group };
        for bid in 0..count {
            r.push(bid);
        }
        r.publish();
        Ok(r)
    }

    fn push(&mut self, bid: u16) {
        let idx = (self.tail & (self.count - 1)) as usize;
        // SAFETY: idx < count, so the entry is inside the mapping; bid < count so the buffer
        // address is inside `bufs`.
        unsafe {
            let e = &mut *self.entries.add(idx);
            e.set_addr(self.bufs.add(bid as usize * self.buf_size) as u64);
            e.set_len(self.buf_size as u32);
            e.set_bid(bid);
        }
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes returned buffers visible to the kernel.
    pub fn publish(&mut self) {
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        // SAFETY: the tail field lives in the first entry of the mapping (kernel ABI).
        unsafe { *BufRingEntry::tail(self.entries as *const BufRingEntry).cast_mut() = self.tail };
    }

    /// The bytes the kernel wrote into buffer `bid`.
    pub fn data(&self, bid: u16, len: usize) -> &[u8] {
        assert!(bid < self.count && len <= self.buf_size, "buffer id or length out of range");
        // SAFETY: bounds asserted above; the kernel finished writing before posting the CQE.
        unsafe { std::slice::from_raw_parts(self.bufs.add(bid as usize * self.buf_size), len) }
    }

    /// Gives buffer `bid` back to the kernel (visible after `publish`).
    pub fn recycle(&mut self, bid: u16) {
        self.push(bid);
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: both regions were mapped by `register` with these lengths.
        unsafe {
            libc::munmap(self.entries as *mut libc::c_void, self.entries_len_bytes);
            libc::munmap(self.bufs as *mut libc::c_void, self.bufs_len_bytes);
        }
    }
}
