//! Property tests of the encoding conversions of the aggregate types whose small encodings are
//! packed bytes (listpack hashes and sorted sets, intsets): converting small to large and back
//! keeps every element, and its order where the encoding has one.

use super::hash::{HashLimits, HashValue};
use super::set::{Member, SetValue};
use super::zset::{AddFlags, ListpackLimits, ZSetValue};
use crate::store::bytes::CompactBytes;
use proptest::prelude::*;

/// Fields, members and values: short and long strings, and integers (packed differently).
fn element() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        (0u16..300).prop_map(|n| format!("e:{n}").into_bytes()),
    ]
}

proptest! {
    #[test]
    fn hash_listpack_to_table_and_back(pairs in proptest::collection::vec((element(), element()), 0..60)) {
        let lim = HashLimits { max_listpack_entries: 1000, max_listpack_value_bytes: 100 };
        let mut h = HashValue::default();
        let mut model: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for (f, v) in pairs {
            h.set(&f, &v, lim);
            match model.iter_mut().find(|(k, _)| *k == f) {
                Some(p) => p.1 = v,
                None => model.push((f, v)),
            }
        }
        prop_assert_eq!(h.encoding(), "listpack");
        let listed: Vec<(Vec<u8>, Vec<u8>)> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(&listed, &model);
        h.convert_to_table();
        prop_assert_eq!(h.encoding(), "hashtable");
        let table: Vec<(Vec<u8>, Vec<u8>)> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(&table, &model);
        for (f, v) in &model {
            prop_assert_eq!(h.get(f), Some(&v[..]));
        }
        // Back (what loading a small `hashtable` from RDB builds).
        let back = HashValue::listpack_from_pairs(h.iter());
        let again: Vec<(Vec<u8>, Vec<u8>)> = back.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(&again, &model);
        prop_assert_eq!(back.len(), model.len());
    }

    #[test]
    fn intset_to_table_and_back(ints in proptest::collection::vec(any::<i64>(), 0..40), narrow in any::<bool>()) {
        let ints: Vec<i64> = if narrow { ints.iter().map(|n| n % 300).collect() } else { ints };
        let texts: Vec<Vec<u8>> = ints.iter().map(|n| n.to_string().into_bytes()).collect();
        let mut s = SetValue::from_members(texts.iter().map(|t| t.as_slice()), 512);
        let mut want: Vec<i64> = ints.clone();
        want.sort_unstable();
        want.dedup();
        if !want.is_empty() {
            prop_assert_eq!(s.encoding(), "intset");
        }
        let got: Vec<i64> = s.iter().map(|m| match m { Member::Int(n) => n, Member::Bytes(_) => i64::MIN }).collect();
        prop_assert_eq!(&got, &want);
        s.convert_to_table();
        let mut table: Vec<i64> = s
            .iter()
            .filter_map(|m| match m { Member::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(), Member::Int(_) => None })
            .collect();
        table.sort_unstable();
        prop_assert_eq!(&table, &want);
        // Back: a set of integer members is built as an intset again (SINTERSTORE, RDB).
        let mut tmp = [0u8; 24];
        let members: Vec<Vec<u8>> = s.iter().map(|m| m.as_bytes(&mut tmp).to_vec()).collect();
        let back = SetValue::from_members(members.iter().map(|m| m.as_slice()), 512);
        let again: Vec<i64> = back.iter().map(|m| match m { Member::Int(n) => n, Member::Bytes(_) => i64::MIN }).collect();
        prop_assert_eq!(&again, &want);
    }

    #[test]
    fn zset_listpack_to_skiplist_and_back(items in proptest::collection::vec((-1000i32..1000, 0u8..4, element()), 0..60)) {
        let lim = ListpackLimits { max_entries: 1000, max_value_bytes: 100 };
        let mut z = ZSetValue::new_listpack();
        for (n, kind, m) in &items {
            // Integral, fractional and infinite scores are packed differently.
            let score = match kind {
                0 => f64::from(*n),
                1 => f64::from(*n) / 7.0,
                2 => f64::INFINITY,
                _ => f64::from(*n) * 1e300,
            };
            z.add(score, m, AddFlags::default(), lim);
        }
        prop_assert_eq!(z.encoding(), "listpack");
        let listed: Vec<(Vec<u8>, u64)> = z.iter().map(|(m, s)| (m.to_vec(), s.to_bits())).collect();
        z.convert_to_skiplist();
        prop_assert_eq!(z.encoding(), "skiplist");
        let skip: Vec<(Vec<u8>, u64)> = z.iter().map(|(m, s)| (m.to_vec(), s.to_bits())).collect();
        prop_assert_eq!(&skip, &listed);
        let back = ZSetValue::from_sorted(
            skip.iter().map(|(m, s)| (f64::from_bits(*s), CompactBytes::new(m))).collect(),
            lim,
        );
        prop_assert_eq!(back.encoding(), "listpack");
        let again: Vec<(Vec<u8>, u64)> = back.iter().map(|(m, s)| (m.to_vec(), s.to_bits())).collect();
        prop_assert_eq!(&again, &listed);
    }
}
