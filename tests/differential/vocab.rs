//! The vocabulary of the differential generator: key names, values, numbers (valid and not),
//! glob patterns and the Redis 7.0 arity of every command. Data only, no logic; it must never
//! hold anything whose use could make a reply depend on timing (see `generator.rs`).

/// Keys that commands draw from. Plain names hash all over; `{tag}` names share a slot.
pub const KEY_POOL: &[&str] =
    &["a", "b", "c", "foo", "bar", "key:1", "key:2", "{tag}1", "{tag}2", "{tag}3", "user:{7}:x", "n"];

pub const PATTERNS: &[&str] = &[
    "*",
    "a*",
    "*a*",
    "?",
    "{tag}*",
    "key:?",
    "[a-c]",
    "[^a]*",
    "user:\\{7\\}*",
    "nomatch*",
    "\\*",
    "*:*",
    "h[ae]llo",
    "[",
    "\\",
    "*1",
    "rnd:*",
    "[a-",
    "*\\",
];

pub fn long_value(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| b'a' + ((i + usize::from(seed)) % 26) as u8).collect()
}

pub fn value_pool() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "v",
        "hello",
        "",
        "0",
        "1",
        "-1",
        "42",
        "9999",
        "10000",
        "007",
        "-0",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "1.5",
        "3e2",
        " 7",
        "ohmytext",
        "mynewtext",
        "abcbdab",
        "bdcaba",
        "12345678901234567890",
        "0.1",
        "-2.5e3",
        "inf",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    v.push(b"bin\x00\r\n\xff".to_vec());
    v.push(long_value(44, 0));
    v.push(long_value(45, 1));
    v.push(long_value(100, 2));
    v.push(long_value(2000, 3));
    v
}

pub const INTS: &[&str] = &[
    "1",
    "-1",
    "0",
    "2",
    "100",
    "-100",
    "12345",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "4611686018427387904",
];
pub const BAD_INTS: &[&str] =
    &["abc", "1.5", "", " 1", "1 ", "+1", "0x10", "9223372036854775808", "-9223372036854775809", "1e3", "--1"];
pub const FLOATS: &[&str] = &[
    "1",
    "0.1",
    "-2.5",
    "1e3",
    "1E-3",
    "3.0e2",
    "5.0e3",
    "-0",
    "10.5",
    "1.7976931348623157e308",
    "0x10",
    "-1.5e-10",
    "3",
    "1e-310",
];
pub const BAD_FLOATS: &[&str] = &["inf", "-inf", "nan", "abc", "", " 1", "1 ", "1e400", "1.2.3", "+inf", "0x"];

/// Commands and their Redis 7.0 arity, for wrong-arity variants.
pub const ARITY: &[(&str, i32)] = &[
    ("get", 2),
    ("set", -3),
    ("setnx", 3),
    ("setex", 4),
    ("psetex", 4),
    ("mget", -2),
    ("mset", -3),
    ("msetnx", -3),
    ("getset", 3),
    ("getdel", 2),
    ("getex", -2),
    ("append", 3),
    ("strlen", 2),
    ("incr", 2),
    ("decr", 2),
    ("incrby", 3),
    ("decrby", 3),
    ("incrbyfloat", 3),
    ("getrange", 4),
    ("setrange", 4),
    ("lcs", -3),
    ("del", -2),
    ("unlink", -2),
    ("exists", -2),
    ("type", 2),
    ("expire", -3),
    ("pexpire", -3),
    ("expireat", -3),
    ("pexpireat", -3),
    ("ttl", 2),
    ("pttl", 2),
    ("expiretime", 2),
    ("pexpiretime", 2),
    ("persist", 2),
    ("rename", 3),
    ("renamenx", 3),
    ("copy", -3),
    ("touch", -2),
    ("keys", 2),
    ("scan", -2),
    ("randomkey", 1),
    ("dbsize", 1),
    ("object", -2),
    ("select", 2),
    ("echo", 2),
];
