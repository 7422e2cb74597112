//! Redis's text conventions for configuration values: strict integers, memory sizes with
//! units, yes/no, the quoting rules of config file lines, and the quoting of error echoes.
//!
//! Owns byte-for-byte compatibility of these small parsers with Redis 7.0 (`string2ll`,
//! `memtoull`, `strtoll`, `sdssplitargs`, `sdscatrepr`). It must never know about settings or
//! `Config`; every function here is pure and total (no panics on any input).

/// Redis `string2ll`: an optional `-` then digits, no leading zeros, no spaces, no `+`, and it
/// must fit in an `i64`.
pub(crate) fn string2ll(s: &str) -> Option<i64> {
    let bytes = s.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some(_) => (false, bytes),
        None => return None,
    };
    match digits {
        [b'0'] if !negative => return Some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Accumulate negatively so i64::MIN parses too.
    let mut value: i64 = 0;
    for d in digits {
        value = value.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// Redis `memtoull`: digits (possibly none, meaning 0) then an optional case-insensitive unit
/// `b`, `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`. Negative numbers are refused.
///
/// Redis lets `strtoull` saturate on overflow; here an overflowing size is an error instead,
/// which only changes the outcome for absurd inputs.
pub(crate) fn memtoull(s: &str) -> Option<u64> {
    let unit_at = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(unit_at);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let value: u64 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    value.checked_mul(multiplier)
}

/// C `strtoll(s, &end, 10)` followed by Redis's usual `*end == '\0'` check: leading white
/// space and a sign are allowed, the empty string reads as 0, overflow saturates.
pub(crate) fn strtoll_whole(s: &str) -> Option<i64> {
    let trimmed = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if unsigned.is_empty() {
        // No digits: strtoll consumed nothing, so only an empty input ends at its NUL.
        return s.is_empty().then_some(0);
    }
    if !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i64 = 0;
    for d in unsigned.bytes() {
        let digit = i64::from(d - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    Some(value)
}

/// Redis `yesnotoi`: `yes` or `no` in any case.
pub(crate) fn yes_no(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

pub(crate) fn yes_no_str(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// How CONFIG SET splits the value of a multi-word setting: on every single space, keeping
/// empty words, and nothing at all for an empty value (Redis `sdssplitlen(v, " ")`).
pub(crate) fn split_spaces(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(' ').map(str::to_owned).collect()
}

/// The quotes of a config line were not closed, or a closing quote was glued to more text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UnbalancedQuotes;

/// Redis `sdssplitargs`: split a config line into words, honouring `"..."` (with `\n`, `\r`,
/// `\t`, `\b`, `\a`, `\xHH` and `\<any>` escapes) and `'...'` (with `\'`).
///
/// Words are decoded as UTF-8 with replacement characters, since settings are text.
pub(crate) fn split_args(line: &str) -> Result<Vec<String>, UnbalancedQuotes> {
    let bytes = line.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while at(i) != 0 && is_c_space(at(i)) {
            i += 1;
        }
        if at(i) == 0 {
            return Ok(words);
        }
        let mut word = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        let mut done = false;
        while !done {
            let c = at(i);
            if in_double {
                if c == b'\\' && at(i + 1) == b'x' && is_hex(at(i + 2)) && is_hex(at(i + 3)) {
                    word.push(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3)));
                    i += 3;
                } else if c == b'\\' && at(i + 1) != 0 {
                    i += 1;
                    word.push(match at(i) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(i + 1) != 0 && !is_c_space(at(i + 1)) {
                        return Err(UnbalancedQuotes);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(UnbalancedQuotes);
                } else {
                    word.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    word.push(b'\'');
                } else if c == b'\'' {
                    if at(i + 1) != 0 && !is_c_space(at(i + 1)) {
                        return Err(UnbalancedQuotes);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(UnbalancedQuotes);
                } else {
                    word.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => word.push(other),
                }
            }
            if at(i) != 0 {
                i += 1;
            }
        }
        words.push(String::from_utf8_lossy(&word).into_owned());
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Redis `sdscatrepr`: the value in double quotes with C-style escapes, as Redis echoes a bad
/// config line back to the user.
pub(crate) fn repr(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    out.push('"');
    out
}

/// A config line as Redis shows it in errors: the name, then each argument quoted.
pub(crate) fn display_line(words: &[String]) -> String {
    let mut line = String::new();
    for (i, word) in words.iter().enumerate() {
        if i == 0 {
            line.push_str(word);
        } else {
            line.push(' ');
            line.push_str(&repr(word));
        }
    }
    line
}

/// A byte count the way CONFIG REWRITE writes it: the largest of gb/mb/kb that divides it.
pub(crate) fn format_memory(bytes: i128) -> String {
    const KB: i128 = 1024;
    const MB: i128 = 1024 * 1024;
    const GB: i128 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// A word for a redis.conf line: bare when that reads back the same, else quoted.
pub(crate) fn conf_word(word: &str) -> String {
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'));
    if plain {
        word.to_owned()
    } else {
        repr(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll("0"), Some(0));
        assert_eq!(string2ll("-5"), Some(-5));
        assert_eq!(string2ll("9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll("-9223372036854775808"), Some(i64::MIN));
        for bad in ["", "-", "-0", "010", "+5", " 5", "5 ", "5.0", "1k", "9223372036854775808"] {
            assert_eq!(string2ll(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memtoull_units() {
        assert_eq!(memtoull("1GB"), Some(1 << 30));
        assert_eq!(memtoull("1g"), Some(1_000_000_000));
        assert_eq!(memtoull("1k"), Some(1000));
        assert_eq!(memtoull("1kb"), Some(1024));
        assert_eq!(memtoull("100mb"), Some(100 << 20));
        assert_eq!(memtoull("1B"), Some(1));
        assert_eq!(memtoull("010"), Some(10));
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("mb"), Some(0));
        assert_eq!(memtoull("18446744073709551615"), Some(u64::MAX));
        for bad in ["-1", "1.5gb", " 5", "+5", "1tb", "5 mb", "99999999999999999999gb"] {
            assert_eq!(memtoull(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn strtoll_whole_is_lenient_like_c() {
        assert_eq!(strtoll_whole(" +5"), Some(5));
        assert_eq!(strtoll_whole("-5"), Some(-5));
        assert_eq!(strtoll_whole(""), Some(0));
        assert_eq!(strtoll_whole("99999999999999999999"), Some(i64::MAX));
        for bad in ["a", "5a", " ", "+", "5 "] {
            assert_eq!(strtoll_whole(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn split_args_quoting() {
        let words = |s: &str| split_args(s).map_err(|_| ());
        assert_eq!(words("  save 900 1  "), Ok(vec!["save".into(), "900".into(), "1".into()]));
        assert_eq!(words(r#"save """#), Ok(vec!["save".into(), String::new()]));
        assert_eq!(words(r#"a "b c" 'd e'"#), Ok(vec!["a".into(), "b c".into(), "d e".into()]));
        assert_eq!(words(r#""\x41\n\"""#), Ok(vec!["A\n\"".into()]));
        assert_eq!(words(r"'it\'s'"), Ok(vec!["it's".into()]));
        assert_eq!(words(r#"ab"cd""#), Ok(vec!["abcd".into()]));
        assert_eq!(words(""), Ok(vec![]));
        assert!(words(r#""open"#).is_err());
        assert!(words(r#""a"b"#).is_err());
        assert!(words("'a").is_err());
    }

    #[test]
    fn repr_and_display() {
        assert_eq!(repr("abc"), "\"abc\"");
        assert_eq!(repr("a\"b\\\n\x01"), "\"a\\\"b\\\\\\n\\x01\"");
        let line = display_line(&["port".into(), "abc".into()]);
        assert_eq!(line, "port \"abc\"");
    }

    #[test]
    fn memory_and_words_for_rewrite() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(3 << 20), "3mb");
        assert_eq!(format_memory(2048), "2kb");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(conf_word("abc"), "abc");
        assert_eq!(conf_word(""), "\"\"");
        assert_eq!(conf_word("a b"), "\"a b\"");
    }

    #[test]
    fn split_spaces_keeps_empty_words() {
        assert_eq!(split_spaces(""), Vec::<String>::new());
        assert_eq!(split_spaces("1 2"), vec!["1", "2"]);
        assert_eq!(split_spaces("1  2"), vec!["1", "", "2"]);
    }
}
