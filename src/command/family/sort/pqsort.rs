//! The partial quicksort SORT uses when it sorts BY a pattern with a LIMIT window: only the
//! parts of the array that overlap the window are sorted further.
//!
//! The algorithm is Bentley and McIlroy's three-way partitioning quicksort ("Engineering a
//! Sort Function", 1993) as the BSD libraries implement it: insertion sort below 7 elements,
//! a median of three (a ninther above 40) as pivot, equal keys gathered at both ends then
//! swapped into the middle. Redis adds the window pruning. Elements that compare equal can
//! come out in any order, so this follows Redis's sequence of comparisons and swaps exactly:
//! with ALPHA BY, ties are common and their order is visible to clients.

use std::cmp::Ordering;

/// Puts into positions `lo..=hi` (which may be empty or reach outside the slice) the elements
/// a full sort would place there, ordered; the rest of `v` is only partly ordered.
pub(crate) fn partial_sort<T>(v: &mut [T], lo: i64, hi: i64, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    sort_part(v, 0, v.len(), lo, hi, &mut cmp);
}

/// Whether the sub-array `[first, first + n)` lies wholly before or after the window.
fn outside(first: usize, n: usize, lo: i64, hi: i64) -> bool {
    let (l, r) = (first as i64, (first + n) as i64 - 1);
    (lo < l && hi < l) || (lo > r && hi > r)
}

/// The middle one of three positions by value (the comparisons in BSD's `med3` order).
fn median_of_three<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

/// Swaps the `n` elements from `a` with the `n` elements from `b`.
fn swap_runs<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Sorts the sub-array `[first, first + n)` of `v` as far as the window `lo..=hi` needs. All
/// positions are absolute, so the window test needs no translation.
fn sort_part<T>(
    v: &mut [T],
    mut first: usize,
    mut n: usize,
    lo: i64,
    hi: i64,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    loop {
        if n < 7 {
            for m in first + 1..first + n {
                let mut l = m;
                while l > first && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pivot = first + n / 2;
        if n > 7 {
            let mut left = first;
            let mut right = first + n - 1;
            if n > 40 {
                let d = n / 8;
                left = median_of_three(v, left, left + d, left + 2 * d, cmp);
                pivot = median_of_three(v, pivot - d, pivot, pivot + d, cmp);
                right = median_of_three(v, right - 2 * d, right - d, right, cmp);
            }
            pivot = median_of_three(v, left, pivot, right, cmp);
        }
        // The pivot sits at `first` while the rest is partitioned around it: equal keys are
        // parked at both ends (`[first+1, a)` and `(d, end]`), smaller ones grow from `b`,
        // larger ones from `c`.
        v.swap(first, pivot);
        let (mut a, mut b) = (first + 1, first + 1);
        let (mut c, mut d) = (first + n - 1, first + n - 1);
        loop {
            while b <= c {
                let r = cmp(&v[b], &v[first]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(a, b);
                    a += 1;
                }
                b += 1;
            }
            while b <= c {
                let r = cmp(&v[c], &v[first]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(c, d);
                    d -= 1;
                }
                c -= 1;
            }
            if b > c {
                break;
            }
            v.swap(b, c);
            b += 1;
            c -= 1;
        }
        // Move the parked equal keys into the middle.
        let end = first + n;
        let r = (a - first).min(b - a);
        swap_runs(v, first, b - r, r);
        let r = (d - c).min(end - d - 1);
        swap_runs(v, b, end - r, r);
        // The smaller keys now fill `[first, first + (b - a))`, the larger ones the last
        // `d - c` positions.
        let smaller = b - a;
        if smaller > 1 && !outside(first, smaller, lo, hi) {
            sort_part(v, first, smaller, lo, hi, cmp);
        }
        let larger = d - c;
        if larger > 1 {
            first = end - larger;
            n = larger;
            if !outside(first, n, lo, hi) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_window_is_sorted_and_holds_the_right_elements() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        for _ in 0..2000 {
            let n = rng.gen_range(0..120);
            let v: Vec<u32> = (0..n).map(|_| rng.gen_range(0..30)).collect();
            let mut full = v.clone();
            full.sort();
            let lo = rng.gen_range(-2..n as i64 + 2);
            let hi = rng.gen_range(lo - 2..n as i64 + 2);
            let mut part = v.clone();
            partial_sort(&mut part, lo, hi, |a, b| a.cmp(b));
            let (a, b) = (lo.max(0) as usize, (hi.min(n as i64 - 1)).max(-1));
            if b >= a as i64 {
                assert_eq!(part[a..=b as usize], full[a..=b as usize], "n={n} lo={lo} hi={hi} v={v:?}");
            }
            let mut again = part.clone();
            again.sort();
            assert_eq!(again, full, "partial_sort lost elements");
        }
    }

    #[test]
    fn whole_window_sorts_everything() {
        let mut v: Vec<i32> = (0..100).rev().collect();
        partial_sort(&mut v, 0, 99, |a, b| a.cmp(b));
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
