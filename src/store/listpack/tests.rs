//! Tests of the listpack codec: Redis's exact bytes, every encoding width both ways, backlen
//! boundaries, in-place replacement, and refusal (never a panic) of bad bytes.

use super::*;
use proptest::prelude::*;

fn collect(lp: &[u8]) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    for_each(lp, |it| {
        got.push(it.to_vec());
        Ok(())
    })
    .unwrap();
    got
}

#[test]
fn same_bytes_as_redis() {
    // `RPUSH l a b 1` saved by redis-server 7.0.15: one quicklist node.
    let mut lp = Listpack::new();
    for s in [&b"a"[..], b"b", b"1"] {
        lp.append_str(s);
    }
    let want = [0x0f, 0, 0, 0, 3, 0, 0x81, b'a', 2, 0x81, b'b', 2, 0x01, 0x01, 0xff];
    assert_eq!(lp.len(), 3);
    assert_eq!(lp.into_bytes(), want);
}

#[test]
fn every_encoding_round_trips() {
    let ints = [0i64, 127, 128, -1, -4096, 4095, 4096, -32768, 32767, 40000, -8_388_608, 8_388_607, 1 << 30];
    let ints2 = [i32::MIN as i64, i32::MAX as i64, i64::MIN, i64::MAX, 1 << 40];
    let strs: Vec<Vec<u8>> = [0usize, 1, 63, 64, 127, 128, 4095, 4096, 20000]
        .iter()
        .map(|&n| (0..n).map(|i| b'a' + (i % 26) as u8).collect())
        .collect();
    let mut lp = Listpack::new();
    for v in ints.iter().chain(&ints2) {
        lp.append_int(*v);
    }
    for s in &strs {
        lp.append_str(s);
    }
    let want: Vec<Vec<u8>> =
        ints.iter().chain(&ints2).map(|v| v.to_string().into_bytes()).chain(strs.iter().cloned()).collect();
    assert_eq!(collect(lp.as_bytes()), want);
}

#[test]
fn estimate_matches_encoding() {
    for s in [&b"0"[..], b"-5000", b"123456789012", b"abc", &[b'x'; 200]] {
        let mut lp = Listpack::new();
        lp.append_str(s);
        assert_eq!(lp.bytes(), HEADER_BYTES + 1 + entry_size(s), "{s:?}");
    }
}

#[test]
fn integers_round_trip_at_every_width() {
    let vals = [
        0,
        1,
        127,
        128,
        -1,
        -4096,
        4095,
        4096,
        -4097,
        32767,
        -32768,
        32768,
        8_388_607,
        -8_388_608,
        8_388_608,
        i32::MAX as i64,
        i32::MIN as i64,
        i32::MAX as i64 + 1,
        i64::MAX,
        i64::MIN,
    ];
    let mut lp = Listpack::new();
    for v in vals {
        lp.append_int(v);
    }
    let mut p = lp.first();
    let mut got = Vec::new();
    while let Some(q) = p {
        got.push(lp.int_at(q));
        p = lp.next(q);
    }
    assert_eq!(got, vals);
    // Backwards too.
    let mut p = lp.last();
    let mut back = Vec::new();
    while let Some(q) = p {
        back.push(lp.int_at(q));
        p = lp.prev(q);
    }
    back.reverse();
    assert_eq!(back, vals);
    assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
}

#[test]
fn strings_and_integer_looking_strings() {
    let mut lp = Listpack::new();
    let long = vec![b'x'; 5000];
    let mid = vec![b'y'; 300];
    for s in [&b"abc"[..], b"123", b"-0", b"007", b"", &mid, &long, b"9223372036854775808"] {
        lp.append_str(s);
    }
    let mut p = lp.first();
    let mut got = Vec::new();
    while let Some(q) = p {
        got.push(lp.get(q));
        p = lp.next(q);
    }
    assert_eq!(got[0], LpValue::Str(b"abc"));
    assert_eq!(got[1], LpValue::Int(123));
    assert_eq!(got[2], LpValue::Str(b"-0"));
    assert_eq!(got[3], LpValue::Str(b"007"));
    assert_eq!(got[4], LpValue::Str(b""));
    assert_eq!(got[5], LpValue::Str(&mid));
    assert_eq!(got[6], LpValue::Str(&long));
    assert_eq!(got[7], LpValue::Str(b"9223372036854775808"));
    assert_eq!(lp.bytes(), lp.as_bytes().len());
    assert_eq!(lp.len(), 8);
    assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
}

#[test]
fn backlen_sizes_follow_redis_boundaries() {
    assert_eq!(backlen_size(127), 1);
    assert_eq!(backlen_size(128), 2);
    assert_eq!(backlen_size(16_382), 2);
    assert_eq!(backlen_size(16_383), 3);
    assert_eq!(backlen_size(2_097_150), 3);
    assert_eq!(backlen_size(2_097_151), 4);
    assert_eq!(backlen_size(268_435_454), 4);
    assert_eq!(backlen_size(268_435_455), 5);
    // An element whose body is exactly 16383 bytes walks both ways.
    let mut lp = Listpack::new();
    lp.append_str(&vec![b'z'; 16_383 - 5]);
    lp.append_int(1);
    let first = lp.first().unwrap();
    let second = lp.next(first).unwrap();
    assert_eq!(lp.prev(second), Some(first));
    assert_eq!(second - first, 16_383 + 3);
    assert_eq!(collect(lp.as_bytes()).len(), 2);
}

#[test]
fn replace_changes_width_and_keeps_neighbours() {
    let mut lp = Listpack::new();
    lp.append_int(1);
    lp.append_str(b"field");
    let p = lp.first().unwrap();
    lp.replace_int(p, 200);
    lp.replace_int(p, 70_000);
    assert_eq!(lp.int_at(p), 70_000);
    assert_eq!(lp.get(lp.next(p).unwrap()), LpValue::Str(b"field"));
    lp.replace_int(p, 3);
    assert_eq!(lp.bytes(), 6 + 2 + 7 + 1);
    assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
}

#[test]
fn bad_bytes_are_refused_not_panicked_on() {
    assert!(Listpack::from_bytes(vec![]).is_err());
    assert!(Listpack::from_bytes(vec![7, 0, 0, 0, 0, 0, 0xFF]).is_ok());
    assert!(Listpack::from_bytes(vec![8, 0, 0, 0, 1, 0, 0xF4, 0xFF]).is_err());
    assert!(Listpack::from_bytes(vec![9, 0, 0, 0, 1, 0, 5, 2, 0xFF]).is_err());
    assert!(Listpack::from_bytes(vec![9, 0, 0, 0, 2, 0, 5, 1, 0xFF]).is_err());
    // The count may be "too many to count".
    assert!(Listpack::from_bytes(vec![9, 0, 0, 0, 0xFF, 0xFF, 5, 1, 0xFF]).is_ok());
    assert_eq!(for_each(&[6, 0, 0, 0, 0, 0], |_| Ok(())), Err("corrupt listpack: missing terminator".to_owned()));
    // A refusal from the caller comes back as it is.
    assert_eq!(for_each(&[9, 0, 0, 0, 1, 0, 5, 1, 0xFF], |_| Err("no".to_owned())), Err("no".to_owned()));
}

proptest! {
    #[test]
    fn decoding_never_panics(data in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = for_each(&data, |_| Ok(()));
        if let Ok(lp) = Listpack::from_bytes(data) {
            let mut p = lp.first();
            while let Some(q) = p {
                let _ = lp.get(q);
                p = lp.next(q);
            }
            let _ = (lp.last(), lp.len());
        }
    }

    #[test]
    fn flipped_bytes_never_panic(pos in 0usize..40, byte in any::<u8>()) {
        let mut lp = Listpack::new();
        for s in [&b"hello"[..], b"12", b"-7000", b"world!"] {
            lp.append_str(s);
        }
        let mut bytes = lp.into_bytes();
        if let Some(x) = bytes.get_mut(pos) {
            *x = byte;
        }
        let _ = for_each(&bytes, |_| Ok(()));
        let _ = Listpack::from_bytes(bytes);
    }
}
