//! Model tests of the sorted-set structures: random operations against a sorted `Vec` model,
//! checking order, ranks, spans, the member index and the encoding conversions.

use super::*;
use rand::{Rng, SeedableRng};

fn lim(entries: usize) -> ListpackLimits {
    ListpackLimits { max_entries: entries, max_value_bytes: 64 }
}

fn model_insert(model: &mut Vec<(f64, Vec<u8>)>, score: f64, m: &[u8]) {
    model.retain(|(_, x)| x.as_slice() != m);
    let at = model.partition_point(|(s, x)| cmp_entry(*s, x, score, m) == Ordering::Less);
    model.insert(at, (score, m.to_vec()));
}

fn same(z: &ZSetValue, model: &[(f64, Vec<u8>)]) {
    let got: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s, m.to_vec())).collect();
    assert_eq!(got.len(), model.len());
    for (a, b) in got.iter().zip(model) {
        assert_eq!(a.1, b.1);
        assert!(a.0 == b.0, "score of {:?}: {} vs {}", a.1, a.0, b.0);
    }
    match z {
        ZSetValue::Skiplist(s) => s.check(),
        ZSetValue::Listpack(l) => l.check(),
    }
}

#[test]
fn random_ops_match_a_sorted_vec() {
    for seed in 0..6u64 {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let mut z = ZSetValue::new_listpack();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let limits = lim(if seed % 2 == 0 { 16 } else { 0 });
        if seed % 2 == 1 {
            z.convert_to_skiplist();
        }
        for step in 0..3000 {
            let m = format!("m{}", rng.gen_range(0..300)).into_bytes();
            let score = rng.gen_range(-20..20) as f64 / 2.0;
            match rng.gen_range(0..10) {
                0..=4 => {
                    let r = z.add(score, &m, AddFlags::default(), limits);
                    assert!(matches!(r, AddOutcome::Added(_) | AddOutcome::Updated(_) | AddOutcome::Same(_)));
                    model_insert(&mut model, score, &m);
                }
                5 => {
                    let had = model.iter().any(|(_, x)| *x == m);
                    assert_eq!(z.remove(&m), had);
                    model.retain(|(_, x)| *x != m);
                }
                6 => {
                    let r = ScoreRange { min: score, max: score + 3.0, minex: step % 2 == 0, maxex: step % 3 == 0 };
                    let want = model.iter().filter(|(s, x)| r.gte_min(*s, x) && r.lte_max(*s, x)).count();
                    assert_eq!(z.count_in_range(&r), want);
                    if step % 5 == 0 {
                        assert_eq!(z.remove_in_range(&r), want);
                        model.retain(|(s, x)| !(r.gte_min(*s, x) && r.lte_max(*s, x)));
                    }
                }
                7 => {
                    if !model.is_empty() {
                        let a = rng.gen_range(0..model.len());
                        let b = rng.gen_range(a..model.len() + 3);
                        let (n, _) = z.remove_ranks(a, b, false);
                        let end = b.min(model.len() - 1);
                        assert_eq!(n, end - a + 1);
                        model.drain(a..=end);
                    }
                }
                8 => {
                    for (i, (_, x)) in model.iter().enumerate().step_by(7) {
                        assert_eq!(z.rank(x), Some(i));
                        assert_eq!(z.at(i).map(|(mm, _)| mm.to_vec()), Some(x.clone()));
                    }
                }
                _ => {
                    let inc = AddFlags { incr: true, ..Default::default() };
                    let r = z.add(score, &m, inc, limits);
                    let cur = model.iter().find(|(_, x)| *x == m).map(|(s, _)| *s);
                    let new = cur.unwrap_or(0.0) + score;
                    match r {
                        AddOutcome::Added(s) | AddOutcome::Updated(s) | AddOutcome::Same(s) => assert_eq!(s, new),
                        other => panic!("{other:?}"),
                    }
                    model_insert(&mut model, new, &m);
                }
            }
            if step % 50 == 0 {
                same(&z, &model);
            }
        }
        same(&z, &model);
    }
}

#[test]
fn conversion_happens_when_redis_converts() {
    let l = lim(3);
    let mut z = ZSetValue::new_for_add(1, l);
    for (i, m) in ["a", "b", "c"].iter().enumerate() {
        z.add(i as f64, m.as_bytes(), AddFlags::default(), l);
    }
    assert_eq!(z.encoding(), "listpack");
    z.add(9.0, b"d", AddFlags::default(), l);
    assert_eq!(z.encoding(), "skiplist");
    // Never back on shrink.
    z.remove(b"d");
    z.remove(b"c");
    assert_eq!(z.encoding(), "skiplist");
    // A long member converts at once.
    let mut z = ZSetValue::new_for_add(1, l);
    z.add(1.0, &[b'x'; 65], AddFlags::default(), l);
    assert_eq!(z.encoding(), "skiplist");
    assert_eq!(ZSetValue::new_for_add(65, l).encoding(), "skiplist");
    assert_eq!(ZSetValue::new_for_add(1, lim(0)).encoding(), "skiplist");
}

#[test]
fn listpack_turns_negative_zero_into_zero() {
    let l = lim(8);
    let mut z = ZSetValue::new_for_add(1, l);
    assert_eq!(z.add(-0.0, b"a", AddFlags::default(), l), AddOutcome::Added(-0.0));
    assert!(z.score(b"a").unwrap().is_sign_positive());
    let mut s = ZSetValue::new_for_add(1, lim(0));
    s.add(-0.0, b"a", AddFlags::default(), l);
    assert!(s.score(b"a").unwrap().is_sign_negative());
}

#[test]
fn lex_ranges_scan_listpacks_like_redis() {
    // Mixed scores: a listpack is scanned linearly, exactly as zzlFirstInLexRange does.
    let l = lim(16);
    let mut z = ZSetValue::new_for_add(1, l);
    for (s, m) in [(1.0, "b"), (2.0, "a"), (3.0, "c")] {
        z.add(s, m.as_bytes(), AddFlags::default(), l);
    }
    let r = LexRange { min: LexBound::Incl(b"a".to_vec()), max: LexBound::Incl(b"b".to_vec()) };
    assert_eq!(z.first_in_range(&r), Some(0));
    assert_eq!(z.last_in_range(&r), Some(1));
    assert_eq!(z.count_in_range(&r), 2);
    let empty = LexRange { min: LexBound::PosInf, max: LexBound::PosInf };
    assert!(empty.is_empty());
    let all = LexRange { min: LexBound::NegInf, max: LexBound::PosInf };
    assert_eq!(z.count_in_range(&all), 3);
}

#[test]
fn scan_visits_every_member_across_resizes() {
    let mut s = SortedSet::new();
    for i in 0..1000 {
        s.insert(i as f64, CompactBytes::new(format!("m{i}").as_bytes()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    let mut steps = 0;
    loop {
        cursor = s.scan(cursor, |m, _| {
            seen.insert(m.to_vec());
        });
        steps += 1;
        // Shrink the table in the middle: members present throughout must still be seen.
        if steps == 200 {
            for i in 500..1000 {
                s.remove(format!("m{i}").as_bytes());
            }
            s.check();
        }
        if cursor == 0 {
            break;
        }
    }
    for i in 0..500 {
        assert!(seen.contains(format!("m{i}").as_bytes()), "m{i} missed");
    }
}

#[test]
fn compaction_keeps_content() {
    let mut s = SortedSet::new();
    for i in 0..500 {
        s.insert((i % 17) as f64, CompactBytes::new(format!("m{i}").as_bytes()));
    }
    for i in 0..450 {
        s.remove(format!("m{i}").as_bytes());
    }
    s.check();
    assert_eq!(s.len(), 50);
    assert!(s.heap_size_bytes() > 0);
}

#[test]
fn packed_listpack_round_trips_scores_and_stays_small() {
    let scores = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        1.5,
        -2.25,
        1e300,
        -1e-300,
        5e-324,
        f64::INFINITY,
        f64::NEG_INFINITY,
        9_007_199_254_740_992.0,
        -9_007_199_254_740_992.0,
        9_007_199_254_740_994.0,
        4_503_599_627_370_497.0,
        i64::MAX as f64,
        123456789.0,
    ];
    let l = lim(1000);
    let mut z = ZSetValue::new_listpack();
    for (i, &sc) in scores.iter().enumerate() {
        z.add(sc, format!("m{i}").as_bytes(), AddFlags::default(), l);
    }
    assert_eq!(z.encoding(), "listpack");
    for (i, &sc) in scores.iter().enumerate() {
        let got = z.score(format!("m{i}").as_bytes()).unwrap();
        // -0 is stored as the integer 0, as Redis's listpack does.
        assert!(got == sc && (sc != 0.0 || got.is_sign_positive()), "m{i}: {got} vs {sc}");
    }
    if let ZSetValue::Listpack(p) = &z {
        p.check();
    }
    // 100 short members with small integer scores: a few bytes each (Redis: ~8).
    let mut small = ZSetValue::new_listpack();
    for i in 0..100 {
        small.add(i as f64, format!("m{i}").as_bytes(), AddFlags::default(), lim(128));
    }
    assert!(small.heap_size_bytes() <= 100 * 7, "{}", small.heap_size_bytes());
    // The value itself is no bigger than a listpack header (the skiplist is boxed).
    assert!(std::mem::size_of::<ZSetValue>() <= 32, "{}", std::mem::size_of::<ZSetValue>());
    // Reverse iteration and rank ranges over packed entries.
    let back: Vec<Vec<u8>> = small.iter_from(99, true).take(3).map(|(m, _)| m.to_vec()).collect();
    assert_eq!(back, vec![b"m99".to_vec(), b"m98".to_vec(), b"m97".to_vec()]);
    let (n, kept) = small.remove_ranks(10, 12, true);
    assert_eq!((n, kept.len()), (3, 3));
    assert_eq!(small.at(10).map(|(m, s)| (m.to_vec(), s)), Some((b"m13".to_vec(), 13.0)));
    assert_eq!(small.iter_from(500, true).count(), 0);
    assert_eq!(small.iter_from(500, false).count(), 0);
}
