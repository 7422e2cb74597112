//! Tests of the stream structure: node splitting by Redis's rules, deletion and trimming,
//! ranges both ways, group bookkeeping, and a property test of random XADD/XDEL/XTRIM runs
//! against a plain ordered map.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap as Model;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn add(s: &mut StreamValue, ms: u64, fields: &[&[u8]], limits: NodeLimits) -> StreamId {
    s.append(fields, IdRequest::Exact(id(ms, 0)), 0, limits).expect("append")
}

fn ids(s: &StreamValue, rev: bool) -> Vec<StreamId> {
    s.range(StreamId::MIN, StreamId::MAX, rev).map(|e| e.id).collect()
}

fn fields_of(e: &EntryRef) -> Vec<(Vec<u8>, Vec<u8>)> {
    e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
}

#[test]
fn ids_step_like_redis() {
    assert_eq!(id(1, u64::MAX).incr(), Some(id(2, 0)));
    assert_eq!(StreamId::MAX.incr(), None);
    assert_eq!(id(2, 0).decr(), Some(id(1, u64::MAX)));
    assert_eq!(StreamId::MIN.decr(), None);
    assert_eq!(StreamId::from_be_bytes(id(7, 9).to_be_bytes()), id(7, 9));
    assert_eq!(id(5, 3).to_string(), "5-3");
}

#[test]
fn id_requests() {
    let mut s = StreamValue::new();
    let l = NodeLimits::default();
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::Auto, 1000, l), Ok(id(1000, 0)));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::Auto, 1000, l), Ok(id(1000, 1)));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::Auto, 999, l), Ok(id(1000, 2)));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::AutoSeq(1000), 0, l), Ok(id(1000, 3)));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::AutoSeq(999), 0, l), Err(AppendError::NotGreater));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::AutoSeq(2000), 0, l), Ok(id(2000, 0)));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::Exact(id(2000, 0)), 0, l), Err(AppendError::NotGreater));
    s.set_last_id(id(3000, u64::MAX));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::AutoSeq(3000), 0, l), Err(AppendError::NotGreater));
    assert_eq!(s.append(&[b"a", b"1"], IdRequest::Auto, 0, l), Ok(id(3001, 0)));
    assert_eq!(s.len(), 6);
    assert_eq!(s.entries_added(), 6);
    s.check();
}

#[test]
fn nodes_split_on_entry_count_and_bytes() {
    let mut s = StreamValue::new();
    let l = NodeLimits { max_bytes: 0, max_entries: 3 };
    for ms in 1..=7 {
        add(&mut s, ms, &[b"f", b"v"], l);
    }
    assert_eq!(s.node_count(), 3);
    let masters: Vec<StreamId> = s.nodes().map(|(k, _)| k).collect();
    assert_eq!(masters, vec![id(1, 0), id(4, 0), id(7, 0)]);
    // Bytes: a new node once the tail's bytes plus the new payload reach the limit.
    let mut s = StreamValue::new();
    let l = NodeLimits { max_bytes: 40, max_entries: 0 };
    add(&mut s, 1, &[b"f", b"v"], l);
    let first = s.nodes().next().map(|(_, b)| b.len()).unwrap();
    assert_eq!(first, 29);
    add(&mut s, 2, &[b"f", b"v"], l);
    assert_eq!(s.node_count(), 1);
    add(&mut s, 3, &[b"f", b"v"], l);
    assert_eq!(s.node_count(), 2, "node of {} bytes + 2 >= 40", s.nodes().next().unwrap().1.len());
    s.check();
}

#[test]
fn same_fields_compression_and_mixed_entries() {
    let mut s = StreamValue::new();
    let l = NodeLimits::default();
    add(&mut s, 1, &[b"name", b"x", b"n", b"12"], l);
    add(&mut s, 2, &[b"name", b"y", b"n", b"-7"], l);
    add(&mut s, 3, &[b"other", b"z"], l);
    add(&mut s, 4, &[b"name", b"w", b"n", b"abc"], l);
    let got: Vec<_> = s.entries().map(|e| (e.id, fields_of(&e))).collect();
    assert_eq!(got[0].1, vec![(b"name".to_vec(), b"x".to_vec()), (b"n".to_vec(), b"12".to_vec())]);
    assert_eq!(got[1].1[1], (b"n".to_vec(), b"-7".to_vec()));
    assert_eq!(got[2].1, vec![(b"other".to_vec(), b"z".to_vec())]);
    assert_eq!(got[3].1[1], (b"n".to_vec(), b"abc".to_vec()));
    assert_eq!(ids(&s, true), vec![id(4, 0), id(3, 0), id(2, 0), id(1, 0)]);
    s.check();
}

#[test]
fn delete_flags_and_drops_empty_nodes() {
    let mut s = StreamValue::new();
    let l = NodeLimits { max_bytes: 0, max_entries: 2 };
    for ms in 1..=5 {
        add(&mut s, ms, &[b"f", b"v"], l);
    }
    assert_eq!(s.delete_ids(&[id(1, 0), id(1, 0), id(9, 0)]), 1);
    assert_eq!(s.first_id(), id(2, 0));
    assert_eq!(s.max_deleted_entry_id(), id(1, 0));
    assert_eq!(s.node_count(), 3);
    assert_eq!(s.delete_ids(&[id(2, 0)]), 1);
    assert_eq!(s.node_count(), 2, "the node's last live entry went");
    assert_eq!(s.delete_ids(&[id(5, 0)]), 1);
    assert_eq!(s.node_count(), 1);
    // The tail node is gone: the next entry goes into the previous node if it has room.
    add(&mut s, 6, &[b"f", b"v"], l);
    assert_eq!(s.node_count(), 2);
    assert_eq!(ids(&s, false), vec![id(3, 0), id(4, 0), id(6, 0)]);
    assert_eq!(s.delete_ids(&[id(3, 0), id(4, 0), id(6, 0)]), 3);
    assert_eq!((s.len(), s.first_id(), s.node_count()), (0, StreamId::MIN, 0));
    assert_eq!(s.last_id(), id(6, 0));
    s.check();
}

#[test]
fn trims_exact_and_approximate() {
    let l = NodeLimits { max_bytes: 0, max_entries: 10 };
    let fill = || {
        let mut s = StreamValue::new();
        for ms in 1..=35 {
            add(&mut s, ms, &[b"f", b"v"], l);
        }
        s
    };
    let mut s = fill();
    assert_eq!(s.trim(Trim::MaxLen(12), true, 0), 20);
    assert_eq!(s.len(), 15);
    assert_eq!(s.trim(Trim::MaxLen(12), false, 0), 3);
    assert_eq!(s.first_id(), id(24, 0));
    assert_eq!(s.node_count(), 2, "partially trimmed node keeps its tombstones");
    s.check();
    let mut s = fill();
    assert_eq!(s.trim(Trim::MinId(id(15, 0)), true, 0), 10);
    assert_eq!(s.trim(Trim::MinId(id(15, 0)), false, 0), 4);
    assert_eq!(s.first_id(), id(15, 0));
    s.check();
    // LIMIT caps whole-node removal.
    let mut s = fill();
    assert_eq!(s.trim(Trim::MaxLen(0), true, 15), 10);
    assert_eq!(s.trim(Trim::MaxLen(0), true, 9), 0);
    // Trimming never touches max_deleted_entry_id.
    assert!(s.max_deleted_entry_id().is_zero());
    s.check();
}

#[test]
fn ranges_cross_nodes_and_skip_tombstones() {
    let mut s = StreamValue::new();
    let l = NodeLimits { max_bytes: 0, max_entries: 3 };
    for ms in 1..=10 {
        add(&mut s, ms, &[b"f", b"v"], l);
    }
    s.delete_ids(&[id(4, 0), id(5, 0)]);
    let fwd: Vec<u64> = s.range(id(3, 0), id(8, 0), false).map(|e| e.id.ms).collect();
    assert_eq!(fwd, vec![3, 6, 7, 8]);
    let rev: Vec<u64> = s.range(id(3, 0), id(8, 0), true).map(|e| e.id.ms).collect();
    assert_eq!(rev, vec![8, 7, 6, 3]);
    assert_eq!(s.range(id(4, 0), id(5, 9), false).count(), 0);
    assert_eq!(s.range(id(9, 0), id(2, 0), false).count(), 0);
    assert!(s.get(id(4, 0)).is_none());
    assert_eq!(s.get(id(6, 0)).map(|e| e.id), Some(id(6, 0)));
    assert_eq!(s.last_live_id(), Some(id(10, 0)));
}

#[test]
fn group_pel_bookkeeping() {
    let mut g = ConsumerGroup::new(StreamId::MIN, 0);
    assert!(g.create_consumer(b"alice", 10));
    assert!(!g.create_consumer(b"alice", 11));
    g.deliver(id(1, 0), b"alice", 20);
    g.deliver(id(2, 0), b"alice", 20);
    assert!(g.create_consumer(b"bob", 30));
    g.deliver(id(2, 0), b"bob", 40);
    assert_eq!(g.consumer(b"alice").map(|c| c.pending().len()), Some(1));
    assert_eq!(g.pel().get(&id(2, 0)).map(|p| p.delivery_count), Some(1));
    g.redeliver(id(2, 0), 50);
    assert_eq!(g.pel().get(&id(2, 0)).map(|p| (p.delivery_time_ms, p.delivery_count)), Some((50, 2)));
    g.claim(id(1, 0), b"bob", 60, CountUpdate::Increment);
    g.claim(id(3, 0), b"bob", 60, CountUpdate::Keep);
    assert_eq!(g.pel().get(&id(3, 0)).map(|p| p.delivery_count), Some(1));
    g.check();
    assert!(g.ack(id(1, 0)));
    assert!(!g.ack(id(1, 0)));
    assert_eq!(g.delete_consumer(b"bob"), Some(2));
    assert!(g.pel().is_empty());
    g.check();
}

#[test]
fn read_counters_and_lag() {
    let mut s = StreamValue::new();
    let l = NodeLimits::default();
    for ms in 1..=4 {
        add(&mut s, ms, &[b"a", b"1"], l);
    }
    s.create_group(b"g", StreamId::MIN, INVALID_ENTRIES_READ);
    assert_eq!(s.group_lag(s.group(b"g").unwrap()), Some(4));
    s.delete_ids(&[id(2, 0)]);
    assert_eq!(s.group_lag(s.group(b"g").unwrap()), None);
    s.advance_group(b"g", id(1, 0));
    assert_eq!(s.group(b"g").unwrap().entries_read, INVALID_ENTRIES_READ);
    s.advance_group(b"g", id(4, 0));
    assert_eq!(s.group(b"g").unwrap().entries_read, 4);
    assert_eq!(s.group_lag(s.group(b"g").unwrap()), Some(0));
    s.trim(Trim::MaxLen(0), false, 0);
    assert_eq!(s.estimate_distance(StreamId::MIN), Some(4));
}

#[test]
fn persisted_parts_round_trip_and_bad_parts_fail() {
    let mut s = StreamValue::new();
    let l = NodeLimits { max_bytes: 0, max_entries: 4 };
    for ms in 1..=9 {
        add(&mut s, ms, &[b"k", b"v", b"n", b"100000"], l);
    }
    s.delete_ids(&[id(2, 0)]);
    let parts: Vec<(StreamId, Vec<u8>)> = s.nodes().map(|(k, b)| (k, b.to_vec())).collect();
    let back = StreamValue::from_parts(parts.clone(), 8, s.last_id(), s.first_id(), id(2, 0), 9).unwrap();
    back.check();
    assert_eq!(ids(&back, false), ids(&s, false));
    assert!(StreamValue::from_parts(parts.clone(), 9, s.last_id(), s.first_id(), id(2, 0), 9).is_err());
    let mut bad = parts.clone();
    bad.swap(0, 1);
    assert!(StreamValue::from_parts(bad, 8, s.last_id(), s.first_id(), id(2, 0), 9).is_err());
    let mut bad = parts;
    if let Some(b) = bad[0].1.get_mut(7) {
        *b ^= 0x40;
    }
    assert!(StreamValue::from_parts(bad, 8, s.last_id(), s.first_id(), id(2, 0), 9).is_err());
}

#[derive(Clone, Debug)]
enum Op {
    Add(u64, u8),
    Del(Vec<u64>),
    MaxLen(u64, bool),
    MinId(u64, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u64..4, 0u8..4).prop_map(|(gap, shape)| Op::Add(gap, shape)),
        2 => proptest::collection::vec(0u64..400, 1..4).prop_map(Op::Del),
        1 => (0u64..60, any::<bool>()).prop_map(|(n, a)| Op::MaxLen(n, a)),
        1 => (0u64..400, any::<bool>()).prop_map(|(n, a)| Op::MinId(n, a)),
    ]
}

proptest! {
    /// Random XADD/XDEL/XTRIM runs agree with an ordered map of the live entries; approximate
    /// trims may remove less than exact ones, never more and never from the middle.
    #[test]
    fn matches_an_ordered_map(ops in proptest::collection::vec(op(), 1..150), max_entries in 1u64..8, max_bytes in prop_oneof![Just(0usize), 40usize..300]) {
        let limits = NodeLimits { max_bytes, max_entries };
        let mut s = StreamValue::new();
        let mut model: Model<u64, Vec<Vec<u8>>> = Model::new();
        let mut next_ms = 0u64;
        for op in ops {
            match op {
                Op::Add(gap, shape) => {
                    next_ms += gap;
                    let v = format!("{next_ms}");
                    let big = "x".repeat(70);
                    let fields: Vec<&[u8]> = match shape {
                        0 => vec![b"f", v.as_bytes()],
                        1 => vec![b"f", v.as_bytes(), b"g", b"-12"],
                        2 => vec![b"h", big.as_bytes()],
                        _ => vec![b"f", b"", b"f", v.as_bytes()],
                    };
                    prop_assert_eq!(s.append(&fields, IdRequest::Exact(id(next_ms, 0)), 0, limits), Ok(id(next_ms, 0)));
                    model.insert(next_ms, fields.iter().map(|f| f.to_vec()).collect());
                }
                Op::Del(ms) => {
                    let want = ms.iter().collect::<std::collections::BTreeSet<_>>().iter().filter(|m| model.contains_key(m)).count();
                    let list: Vec<StreamId> = ms.iter().map(|&m| id(m, 0)).collect();
                    prop_assert_eq!(s.delete_ids(&list), want as u64);
                    for m in ms {
                        model.remove(&m);
                    }
                }
                Op::MaxLen(n, approx) => {
                    let before = model.len() as u64;
                    let removed = s.trim(Trim::MaxLen(n), approx, 0);
                    for _ in 0..removed {
                        let k = *model.keys().next().unwrap();
                        model.remove(&k);
                    }
                    if approx {
                        prop_assert!(removed <= before.saturating_sub(n));
                    } else {
                        prop_assert_eq!(model.len() as u64, before.min(n));
                    }
                }
                Op::MinId(m, approx) => {
                    let below = model.range(..m).count() as u64;
                    let removed = s.trim(Trim::MinId(id(m, 0)), approx, 0);
                    if approx {
                        prop_assert!(removed <= below);
                    } else {
                        prop_assert_eq!(removed, below);
                    }
                    for _ in 0..removed {
                        let k = *model.keys().next().unwrap();
                        model.remove(&k);
                    }
                }
            }
            s.check();
            prop_assert_eq!(s.len(), model.len());
            let got: Vec<(u64, Vec<Vec<u8>>)> = s.entries().map(|e| (e.id.ms, e.fields().flat_map(|(f, v)| [f.to_vec(), v.to_vec()]).collect())).collect();
            let want: Vec<(u64, Vec<Vec<u8>>)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
            prop_assert_eq!(got, want);
            let rev: Vec<u64> = s.range(StreamId::MIN, StreamId::MAX, true).map(|e| e.id.ms).collect();
            let want_rev: Vec<u64> = model.keys().rev().copied().collect();
            prop_assert_eq!(rev, want_rev);
        }
    }
}

#[test]
fn stream_values_move_between_shards() {
    fn assert_send<T: Send + Clone + std::fmt::Debug>() {}
    assert_send::<StreamValue>();
}
