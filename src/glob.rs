//! Redis glob matching (`KEYS`, `SCAN MATCH`, `CONFIG GET`, `PSUBSCRIBE`, ACL key patterns).
//!
//! Owns one function, [`glob_match`], that gives the same answer as Redis 7.0's
//! `stringmatchlen` for every pattern and subject, quirks included, because clients see the
//! difference. It must never allocate, never panic on any input bytes, and never recurse deeper
//! than [`MAX_STAR_NESTING`] frames: a pattern made of thousands of `*` is external input.

/// Deepest chain of `*` groups followed before giving up with "no match" (Redis: 1000).
pub const MAX_STAR_NESTING: usize = 1000;

/// Does `s` match the glob `pattern`?
///
/// `*` any run of bytes, `?` any one byte, `[abc]` / `[^abc]` / `[a-z]` a byte class, `\x` the
/// byte `x` itself. With `nocase`, ASCII letters compare without case (not inside `\` escapes
/// in a class, as in Redis).
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_from(pattern, s, nocase, &mut skip_longer_matches, 0)
}

/// Pattern byte at `i`, or 0 past the end: Redis reads the NUL terminator of its strings
/// there, and several branches depend on seeing "not a special byte" in that position.
fn at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

fn lower(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// Redis compares range bounds as C `char`, which is signed on the platforms it ships on, so a
/// range such as `[a-\xff]` spans the negative values; keep that ordering.
fn as_c_char(b: u8) -> i32 {
    i32::from(b as i8)
}

fn bytes_equal(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        lower(a) == lower(b)
    } else {
        a == b
    }
}

/// The body of `stringmatchlen_impl`: `p` indexes the pattern, `s` the subject.
///
/// `skip_longer_matches` is shared by the whole match: once the part after some `*` failed to
/// match at every later position, no earlier `*` can help by eating more, so every active
/// `*` loop stops. That keeps the work polynomial.
fn match_from(pattern: &[u8], subject: &[u8], nocase: bool, skip_longer_matches: &mut bool, nesting: usize) -> bool {
    if nesting > MAX_STAR_NESTING {
        return false;
    }
    let mut p = 0usize;
    let mut s = 0usize;
    while p < pattern.len() && s < subject.len() {
        match pattern[p] {
            b'*' => {
                while p < pattern.len() && at(pattern, p + 1) == b'*' {
                    p += 1;
                }
                if pattern.len() - p == 1 {
                    return true;
                }
                while s < subject.len() {
                    if match_from(&pattern[p + 1..], &subject[s..], nocase, skip_longer_matches, nesting + 1) {
                        return true;
                    }
                    if *skip_longer_matches {
                        return false;
                    }
                    s += 1;
                }
                *skip_longer_matches = true;
                return false;
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let negate = at(pattern, p) == b'^';
                if negate {
                    p += 1;
                }
                let c = subject[s];
                let mut matched = false;
                loop {
                    let remaining = pattern.len().saturating_sub(p);
                    if at(pattern, p) == b'\\' && remaining >= 2 {
                        // Escaped byte inside a class: compared exactly, even with nocase.
                        p += 1;
                        if pattern[p] == c {
                            matched = true;
                        }
                    } else if at(pattern, p) == b']' {
                        break;
                    } else if remaining == 0 {
                        // Unterminated class: step back so the shared `p += 1` below lands
                        // exactly on the end of the pattern.
                        p -= 1;
                        break;
                    } else if remaining >= 3 && pattern[p + 1] == b'-' {
                        let mut start = as_c_char(pattern[p]);
                        let mut end = as_c_char(pattern[p + 2]);
                        let mut byte = as_c_char(c);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower_c(start);
                            end = lower_c(end);
                            byte = lower_c(byte);
                        }
                        p += 2;
                        if byte >= start && byte <= end {
                            matched = true;
                        }
                    } else if bytes_equal(pattern[p], c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if negate {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            b'\\' => {
                if pattern.len() - p >= 2 {
                    p += 1;
                }
                if !bytes_equal(pattern[p], subject[s], nocase) {
                    return false;
                }
                s += 1;
            }
            literal => {
                if !bytes_equal(literal, subject[s], nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == subject.len() {
            while at(pattern, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pattern.len() && s == subject.len()
}

/// `tolower` on a C `char` value: only ASCII upper-case letters change.
fn lower_c(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        // Redis quirk kept: a lone `*` does not match the empty string (KEYS special-cases
        // `*` before matching, so nobody notices).
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(!m("?", ""));
        assert!(m("*a", "ba"));
        assert!(!m("*a", "ab"));
        assert!(m("user:*:name", "user:1000:name"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Reversed range bounds are swapped, as in Redis.
        assert!(m("[z-a]", "q"));
        // `[a-]]`: the dash pairs with the first `]`, making the range `]`..`a`.
        assert!(m("[a-]]", "^"));
        assert!(m("[a-]]", "a"));
        assert!(!m("[a-]]", "b"));
        // Unterminated class: the bytes seen so far form the class.
        assert!(m("[ab", "a"));
        assert!(!m("[ab", "c"));
        assert!(!m("[", "a"));
        assert!(m("[^", "a"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\[a]", "[a]"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HELLO", "hello"));
        assert!(mi("h[A-Z]llo", "hello"));
        assert!(mi("MaxMem*", "maxmemory"));
        assert!(!m("HELLO", "hello"));
        // An escaped byte inside a class compares exactly even with nocase.
        assert!(!mi("[\\A]", "a"));
        assert!(mi("[A]", "a"));
    }

    #[test]
    fn high_bytes_compare_as_signed_chars() {
        // 'a'..0xff as signed chars is -1..97, so 'b' (98) is outside and 0x80 (-128) too.
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(glob_match(b"[a-\xff]", b"A", false));
        assert!(glob_match(b"[\x80-\x90]", b"\x85", false));
        assert!(glob_match(b"\xff*", b"\xff\x00\x01", false));
    }

    #[test]
    fn pathological_patterns_terminate() {
        let subject = vec![b'a'; 60];
        let mut pattern = b"a*".repeat(30);
        pattern.push(b'b');
        assert!(!glob_match(&pattern, &subject, false));

        // More `*` groups than the nesting limit: answered "no match" without overflowing.
        let deep = b"a*".repeat(5000);
        assert!(!glob_match(&deep, &vec![b'a'; 6000], false));
        let shallow = b"a*".repeat(MAX_STAR_NESTING);
        assert!(glob_match(&shallow, &vec![b'a'; MAX_STAR_NESTING + 5], false));
    }
}
