//! A vector kept in chunks of at most `CHUNK` elements, each behind an `Arc`.
//!
//! Why: a snapshot must see a large collection as it was when the snapshot started, and
//! serialising a million elements at once stalls the shard for tens of milliseconds. With the
//! elements in shared chunks, [`CowVec::share`] gives the snapshot a copy for one reference
//! count per chunk, the snapshot serialises it a slice at a time, and a write that lands
//! meanwhile copies only the one chunk it changes (`Arc::make_mut`). Outside snapshots every
//! chunk has one owner and a write costs one uniqueness check.
//!
//! The last chunk grows through the allocator's size classes, like the flat vectors it
//! replaces, so a collection just above the listpack limits carries no full chunk of spare
//! room; full chunks never move, so a growing collection never copies what it holds.
//!
//! `Clone` copies every element (values that move between shards must own their memory);
//! sharing is only ever asked for explicitly, by a snapshot on the owning shard.

use std::sync::Arc;

/// log2 of the elements per chunk, by default: a copy-on-write touch copies at most that
/// many. A vector whose readers chase links through it (a sorted set's arena) may pick larger
/// chunks, so fewer chunk headers compete for the cache.
pub const DEFAULT_SHIFT: u32 = 10;
/// Elements per chunk at the default size.
pub const CHUNK: usize = 1 << DEFAULT_SHIFT;

pub struct CowVec<T, const SHIFT: u32 = DEFAULT_SHIFT> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T, const SHIFT: u32> Default for CowVec<T, SHIFT> {
    fn default() -> Self {
        CowVec { chunks: Vec::new(), len: 0 }
    }
}

impl<T: Clone, const SHIFT: u32> Clone for CowVec<T, SHIFT> {
    fn clone(&self) -> Self {
        CowVec { chunks: self.chunks.iter().map(|c| Arc::new(Vec::clone(c))).collect(), len: self.len }
    }
}

impl<T: Clone, const SHIFT: u32> CowVec<T, SHIFT> {
    const CHUNK: usize = 1 << SHIFT;
    const MASK: usize = Self::CHUNK - 1;

    /// Room for `n` elements in the first chunk (at most a chunk's worth).
    pub fn with_capacity(n: usize) -> Self {
        let mut v = CowVec::default();
        if n > 0 {
            v.chunks.push(Arc::new(Vec::with_capacity(n.min(Self::CHUNK))));
        }
        v
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        self.chunks.get(i >> SHIFT).and_then(|c| c.get(i & Self::MASK))
    }

    /// The element at `i`, for writing: copies its chunk first if a snapshot shares it.
    #[inline]
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        self.chunks.get_mut(i >> SHIFT).and_then(|c| Arc::make_mut(c).get_mut(i & Self::MASK))
    }

    pub fn push(&mut self, v: T) {
        if self.len & Self::MASK == 0 && self.len >> SHIFT == self.chunks.len() {
            self.chunks.push(Arc::new(Vec::new()));
        }
        let Some(last) = self.chunks.last_mut() else { return };
        let last = Arc::make_mut(last);
        let n = last.len();
        if n == last.capacity() {
            // Through the allocator's size classes (an eighth to a quarter more each time)
            // instead of doubling, capped at the chunk size.
            let size = std::mem::size_of::<T>().max(1);
            let cap = (crate::store::memory::size_class_bytes((n + 1) * size) / size).clamp(n + 1, Self::CHUNK);
            last.reserve_exact(cap - n);
        }
        last.push(v);
        self.len += 1;
    }

    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let c = self.len >> SHIFT;
        let last = Arc::make_mut(self.chunks.get_mut(c)?);
        let v = last.pop();
        if last.is_empty() && c > 0 {
            // An emptied chunk is freed (the first one stays as the vector's first room).
            self.chunks.truncate(c);
        }
        v
    }

    /// Removes the element at `i`, moving the last one into its place (as `Vec::swap_remove`).
    pub fn swap_remove(&mut self, i: usize) -> Option<T> {
        if i >= self.len {
            return None;
        }
        let last = self.pop()?;
        if i == self.len {
            return Some(last);
        }
        let slot = self.get_mut(i)?;
        Some(std::mem::replace(slot, last))
    }

    /// Elements in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Elements at positions `from..to` (clamped to the length), in order.
    pub fn range(&self, from: usize, to: usize) -> impl DoubleEndedIterator<Item = &T> + '_ {
        let to = to.min(self.len);
        let from = from.min(to);
        let (first, last) = (from >> SHIFT, if to == 0 { 0 } else { (to - 1) >> SHIFT });
        let chunks = if from == to { &self.chunks[..0] } else { &self.chunks[first..=last] };
        chunks.iter().enumerate().flat_map(move |(k, c)| {
            let base = (first + k) << SHIFT;
            let lo = from.saturating_sub(base).min(c.len());
            let hi = (to - base).min(c.len());
            c[lo..hi].iter()
        })
    }

    /// A copy sharing every chunk: costs one reference count per chunk. The first write to a
    /// shared chunk, on either side, copies that chunk.
    pub fn share(&self) -> Self {
        CowVec { chunks: self.chunks.clone(), len: self.len }
    }

    /// Element slots allocated (the last chunk's room included).
    pub fn capacity(&self) -> usize {
        self.chunks.iter().map(|c| c.capacity()).sum()
    }

    /// Heap bytes of the chunks themselves (not of what the elements point to).
    pub fn heap_size_bytes(&self) -> usize {
        // The chunk pointers, and per chunk the Arc's counts with the Vec header (48 bytes).
        self.chunks.capacity() * std::mem::size_of::<usize>()
            + self.chunks.len() * 48
            + self.capacity() * std::mem::size_of::<T>()
    }

    /// Gives back the room of a last chunk that is mostly empty (after many removals).
    pub fn shrink_last(&mut self) {
        if let Some(last) = self.chunks.last_mut() {
            if last.capacity() > 64 && last.len() * 4 < last.capacity() {
                let target = last.len().max(16);
                Arc::make_mut(last).shrink_to(target);
            }
        }
    }
}

/// Panics when `i` is out of range, as `Vec`'s indexing does. Positions past the length in
/// the last chunk do not exist there either, so the chunk's own bounds check covers them.
impl<T: Clone, const SHIFT: u32> std::ops::Index<usize> for CowVec<T, SHIFT> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> SHIFT][i & Self::MASK]
    }
}

impl<T: Clone, const SHIFT: u32> std::ops::IndexMut<usize> for CowVec<T, SHIFT> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut Arc::make_mut(&mut self.chunks[i >> SHIFT])[i & Self::MASK]
    }
}

impl<T: std::fmt::Debug, const SHIFT: u32> std::fmt::Debug for CowVec<T, SHIFT> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.chunks.iter().flat_map(|c| c.iter())).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec() {
        let mut v: CowVec<u32> = CowVec::with_capacity(3);
        let mut model: Vec<u32> = Vec::new();
        let mut x = 12345u32;
        for step in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            match x % 7 {
                0 if !model.is_empty() => {
                    let i = (x as usize / 7) % model.len();
                    assert_eq!(v.swap_remove(i), Some(model.swap_remove(i)));
                }
                1 => assert_eq!(v.pop(), model.pop()),
                2 if !model.is_empty() => {
                    let i = (x as usize / 7) % model.len();
                    *v.get_mut(i).expect("in range") = step;
                    model[i] = step;
                }
                _ => {
                    v.push(step);
                    model.push(step);
                }
            }
            assert_eq!(v.len(), model.len());
        }
        assert!(v.len() > 3 * CHUNK, "the test crossed chunks: {}", v.len());
        assert!(v.iter().eq(model.iter()));
        assert!(v.iter().rev().eq(model.iter().rev()));
        for (a, b) in
            [(0, 0), (0, 1), (5, CHUNK + 7), (CHUNK, 2 * CHUNK), (CHUNK - 1, v.len() + 10), (v.len(), v.len())]
        {
            let want: Vec<u32> = model[a.min(model.len())..b.min(model.len())].to_vec();
            assert!(v.range(a, b).copied().eq(want.iter().copied()), "range {a}..{b}");
            assert!(v.range(a, b).rev().copied().eq(want.iter().rev().copied()), "range {a}..{b} reversed");
        }
        assert_eq!(v.get(v.len()), None);
        while v.pop().is_some() {}
        assert!(v.is_empty() && v.chunks.len() <= 1);
    }

    #[test]
    fn shared_copy_keeps_its_contents_while_the_original_changes() {
        let mut v: CowVec<String> = CowVec::default();
        for i in 0..3 * CHUNK + 10 {
            v.push(format!("e{i}"));
        }
        let snap = v.share();
        let before: Vec<String> = snap.iter().cloned().collect();
        *v.get_mut(5).expect("in range") = "changed".into();
        v.swap_remove(CHUNK + 1);
        v.push("new".into());
        for _ in 0..CHUNK {
            v.pop();
        }
        assert!(snap.iter().cloned().eq(before.iter().cloned()), "the shared copy is unchanged");
        assert_eq!(v.get(5).map(String::as_str), Some("changed"));
        // Only the touched chunks were copied: the two untouched full ones are still shared.
        let shared = v.chunks.iter().zip(&snap.chunks).filter(|(a, b)| Arc::ptr_eq(a, b)).count();
        assert_eq!(shared, 0, "chunk 0 (set) and 1 (swap_remove) copied; 2 became the last, popped into");
        let mut w: CowVec<String> = CowVec::default();
        for i in 0..4 * CHUNK {
            w.push(format!("w{i}"));
        }
        let s2 = w.share();
        *w.get_mut(0).expect("in range") = "x".into();
        let shared = w.chunks.iter().zip(&s2.chunks).filter(|(a, b)| Arc::ptr_eq(a, b)).count();
        assert_eq!(shared, 3, "one write copies one chunk");
        // A deep clone shares nothing.
        let c = w.clone();
        assert!(c.chunks.iter().zip(&w.chunks).all(|(a, b)| !Arc::ptr_eq(a, b)));
        assert!(c.iter().eq(w.iter()));
    }
}
