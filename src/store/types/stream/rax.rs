//! The node count of the radix tree Redis would hold for a stream's node keys, for XINFO
//! STREAM's `radix-tree-nodes`. We keep nodes in a B-tree; Redis keeps them in a `rax` keyed
//! by the 16-byte big-endian master ID, and reports how many tree nodes that takes.
//!
//! Redis's rax keeps itself compressed: inserting splits a compressed run exactly where keys
//! diverge, and removing a key merges the chain of single-child nodes it leaves. For a set of
//! keys of equal length the tree is therefore the canonical compressed trie: the root, one
//! node for each run of bytes shared by a group of keys (when the run is not empty), one
//! branching node where the group's keys diverge, and one leaf per key. An empty tree is the
//! root alone.

const KEY_BYTES: usize = 16;

/// Rax nodes for the (sorted, distinct) 16-byte keys.
pub fn node_count(keys: &[[u8; KEY_BYTES]]) -> usize {
    if keys.is_empty() {
        return 1;
    }
    subtree(keys, 0)
}

/// Nodes of the subtree starting at `depth` for keys sharing their first `depth` bytes.
fn subtree(keys: &[[u8; KEY_BYTES]], depth: usize) -> usize {
    let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
        return 0;
    };
    if keys.len() == 1 {
        // A leaf, after one compressed node holding whatever bytes are left.
        return if depth >= KEY_BYTES { 1 } else { 2 };
    }
    // Keys are sorted, so what the first and last share, all share.
    let mut split = depth;
    while split < KEY_BYTES && first[split] == last[split] {
        split += 1;
    }
    let run = usize::from(split > depth);
    run + branch(keys, split)
}

/// A branching node at `depth` and the subtrees of each group of keys by their byte there.
fn branch(keys: &[[u8; KEY_BYTES]], depth: usize) -> usize {
    let mut total = 1;
    let mut rest = keys;
    while let Some(head) = rest.first() {
        let byte = head.get(depth).copied();
        let n = rest.iter().take_while(|k| k.get(depth).copied() == byte).count().max(1);
        total += subtree(&rest[..n], depth + 1);
        rest = &rest[n..];
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ms: u64, seq: u64) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&ms.to_be_bytes());
        k[8..].copy_from_slice(&seq.to_be_bytes());
        k
    }

    #[test]
    fn small_trees() {
        assert_eq!(node_count(&[]), 1);
        assert_eq!(node_count(&[key(1, 0)]), 2);
        // Shared 7 bytes, diverging at byte 7, both with 8 bytes left: root run, branch, two
        // (run + leaf) pairs.
        assert_eq!(node_count(&[key(1, 0), key(2, 0)]), 1 + 1 + 2 + 2);
        // Diverging on the last byte: run, branch, two leaves.
        assert_eq!(node_count(&[key(1, 1), key(1, 2)]), 1 + 1 + 1 + 1);
        // Diverging on the first byte: the root itself branches.
        assert_eq!(node_count(&[key(1, 0), key(u64::MAX, 0)]), 1 + 2 + 2);
    }
}
