//! The two sorts a geo search result goes through, reproduced step for step because ties
//! (points at the same distance) come out in whatever order the algorithm leaves them, and
//! replies must match Redis's byte for byte:
//!
//! - the whole result (no COUNT, or COUNT not smaller than the result): the C library's
//!   `qsort`, which in glibc is a top-down merge sort taking the left element on ties;
//! - only the first COUNT wanted: Redis's partial quicksort (Bentley & McIlroy's quicksort
//!   with median-of-three/ninther pivots and a three-way partition, skipping the parts that
//!   hold none of the wanted ranks).
//!
//! Both take Redis's three-way comparator, which need not be a total order (NaN distances).
//! Never replace them with a library sort: any other algorithm orders ties differently.

use std::cmp::min;

/// A comparator in C's style: negative, zero or positive.
pub type Cmp<'a, T> = &'a dyn Fn(&T, &T) -> i32;

/// glibc's merge sort.
pub fn merge_sort<T>(v: &mut Vec<T>, cmp: Cmp<T>) {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    let mut tmp = Vec::with_capacity(idx.len());
    merge_range(&mut idx, &mut tmp, v, cmp);
    let mut taken: Vec<Option<T>> = std::mem::take(v).into_iter().map(Some).collect();
    v.extend(idx.into_iter().filter_map(|i| taken.get_mut(i).and_then(Option::take)));
}

fn merge_range<T>(idx: &mut [usize], tmp: &mut Vec<usize>, v: &[T], cmp: Cmp<T>) {
    let n = idx.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_range(&mut idx[..n1], tmp, v, cmp);
    merge_range(&mut idx[n1..], tmp, v, cmp);
    tmp.clear();
    let (mut a, mut b) = (0, n1);
    while a < n1 && b < n {
        if cmp(&v[idx[a]], &v[idx[b]]) <= 0 {
            tmp.push(idx[a]);
            a += 1;
        } else {
            tmp.push(idx[b]);
            b += 1;
        }
    }
    tmp.extend_from_slice(&idx[a..n1]);
    tmp.extend_from_slice(&idx[b..n]);
    idx.copy_from_slice(tmp);
}

/// Redis's `pqsort`: sorts enough of `v` that ranks `first..=last` hold what a full sort
/// would put there.
pub fn partial_sort<T>(v: &mut [T], cmp: Cmp<T>, first: usize, last: usize) {
    partial_range(v, 0, v.len(), cmp, (first, last));
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: Cmp<T>) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

/// Swaps the `n` elements from `a` with the `n` from `b`, pairwise.
fn swap_blocks<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the wanted ranks meet `start..start + len`.
fn wanted(start: usize, len: usize, (first, last): (usize, usize)) -> bool {
    let before = first < start && last < start;
    let after = first >= start + len && last >= start + len;
    !(before || after)
}

fn partial_range<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: Cmp<T>, ranks: (usize, usize)) {
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) > 0 {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        // Three-way partition around v[a]: equal keys gather at both ends, then move to the
        // middle.
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c > 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c < 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = min(pa - a, pb - pa);
        swap_blocks(v, a, pb - r, r);
        let r = min(pd - pc, pn - pd - 1);
        swap_blocks(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && wanted(a, r, ranks) {
            partial_range(v, a, r, cmp, ranks);
        }
        let r = pd - pc;
        if r <= 1 {
            return;
        }
        a = pn - r;
        n = r;
        if !wanted(a, n, ranks) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asc(a: &(u32, u32), b: &(u32, u32)) -> i32 {
        (a.0 as i32) - (b.0 as i32)
    }

    #[test]
    fn merge_sort_is_stable() {
        let mut v: Vec<(u32, u32)> = (0..100).map(|i| ((i * 7) % 5, i)).collect();
        merge_sort(&mut v, &asc);
        for w in v.windows(2) {
            assert!(w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1));
        }
    }

    #[test]
    fn partial_sort_orders_the_wanted_ranks() {
        for n in [0usize, 1, 5, 7, 8, 39, 41, 100, 257] {
            for count in [1usize, 3, 10] {
                if count > n {
                    continue;
                }
                let mut v: Vec<(u32, u32)> = (0..n as u32).map(|i| ((i * 7919) % 31, i)).collect();
                let mut sorted: Vec<u32> = v.iter().map(|x| x.0).collect();
                sorted.sort();
                partial_sort(&mut v, &asc, 0, count - 1);
                let got: Vec<u32> = v.iter().take(count).map(|x| x.0).collect();
                assert_eq!(got, sorted[..count], "n={n} count={count}");
            }
        }
    }
}
