//! Model test of the packed list: random operations applied to a `ListValue` and to a plain
//! `VecDeque` must leave the same elements, with every node within its limit.

use super::{End, ListValue};
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

fn random_elem(rng: &mut rand::rngs::SmallRng) -> Vec<u8> {
    let len = match rng.gen_range(0..60) {
        0 => rng.gen_range(3000..9000),
        1..=6 => rng.gen_range(100..400),
        7..=12 => 0,
        _ => rng.gen_range(1..12),
    };
    (0..len).map(|_| rng.gen_range(b'a'..=b'd')).collect()
}

fn check(l: &ListValue, m: &VecDeque<Vec<u8>>) {
    l.assert_consistent();
    assert_eq!(l.len(), m.len());
    let fwd: Vec<&[u8]> = l.iter().collect();
    let want: Vec<&[u8]> = m.iter().map(|v| &v[..]).collect();
    assert_eq!(fwd, want);
    if !m.is_empty() {
        let rev: Vec<&[u8]> = l.iter_rev_from(m.len() - 1).collect();
        let want_rev: Vec<&[u8]> = m.iter().rev().map(|v| &v[..]).collect();
        assert_eq!(rev, want_rev);
    }
}

#[test]
fn matches_a_plain_deque() {
    for (seed, fill) in [(1u64, -2), (2, 3), (3, 1), (4, 0), (5, -1), (6, -5), (7, 128)] {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let mut l = ListValue::new(fill);
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..1500 {
            let len = m.len();
            match rng.gen_range(0..12) {
                0 | 1 => {
                    let v = random_elem(&mut rng);
                    l.push(End::Left, &v);
                    m.push_front(v);
                }
                2 | 3 => {
                    let v = random_elem(&mut rng);
                    l.push(End::Right, &v);
                    m.push_back(v);
                }
                4 => assert_eq!(l.pop(End::Left), m.pop_front()),
                5 => assert_eq!(l.pop(End::Right), m.pop_back()),
                6 => {
                    let i = rng.gen_range(0..len + 2);
                    let v = random_elem(&mut rng);
                    assert_eq!(l.set(i, &v), i < len);
                    if i < len {
                        m[i] = v;
                    }
                }
                7 => {
                    let i = rng.gen_range(0..len + 2);
                    let v = random_elem(&mut rng);
                    assert_eq!(l.insert(i, &v), i <= len);
                    if i <= len {
                        m.insert(i, v);
                    }
                }
                8 => {
                    let i = rng.gen_range(0..len + 2);
                    assert_eq!(l.get(i), m.get(i).map(|v| &v[..]));
                    let fwd: Vec<&[u8]> = l.iter_from(i).collect();
                    let want: Vec<&[u8]> = m.iter().skip(i).map(|v| &v[..]).collect();
                    assert_eq!(fwd, want);
                    let rev: Vec<&[u8]> = l.iter_rev_from(i).collect();
                    let want: Vec<&[u8]> =
                        if i < len { m.iter().take(i + 1).rev().map(|v| &v[..]).collect() } else { vec![] };
                    assert_eq!(rev, want);
                }
                9 => {
                    let idx: Vec<usize> = (0..len).filter(|_| rng.gen_bool(0.2)).collect();
                    l.remove_sorted(&idx);
                    for &i in idx.iter().rev() {
                        m.remove(i);
                    }
                }
                10 if rng.gen_bool(0.2) => {
                    let (a, b) = (rng.gen_range(0..len / 3 + 2), rng.gen_range(0..len / 3 + 2));
                    l.trim(a, b);
                    let a = a.min(m.len());
                    m.drain(..a);
                    let b = b.min(m.len());
                    m.truncate(m.len() - b);
                }
                _ => {
                    // Bursts grow the list past several nodes.
                    for _ in 0..rng.gen_range(0..100) {
                        let v = random_elem(&mut rng);
                        l.push(End::Right, &v);
                        m.push_back(v);
                    }
                }
            }
            if step % 97 == 0 || len < 8 {
                check(&l, &m);
            }
        }
        check(&l, &m);
    }
}

#[test]
fn small_lists_stay_small() {
    assert_eq!(std::mem::size_of::<super::Node>(), 32);
    assert_eq!(std::mem::size_of::<ListValue>(), 48);
    let mut l = ListValue::new(-2);
    for v in [b"xxx", b"yyy", b"zzz"] {
        l.push_front(v);
    }
    // One node slot and one 16-byte buffer: less than Redis's quicklist + node + listpack.
    assert_eq!(l.heap_size_bytes(), 32 + 16);
}

#[test]
fn nodes_respect_fill() {
    let mut l = ListValue::new(4);
    for i in 0..10u8 {
        l.push_back(&[i]);
    }
    assert_eq!(l.node_count(), 3);
    let mut l = ListValue::new(-1);
    for _ in 0..1000 {
        l.push_front(b"0123456789");
    }
    // 12 bytes a frame, 4096 bytes a node.
    assert_eq!(l.node_count(), 3);
    l.assert_consistent();
    // Memory stays within a few bytes of the data.
    assert!(l.heap_size_bytes() < 1000 * 12 + 4096, "{}", l.heap_size_bytes());
}
