//! Unit tests of the stream family, run through the real table on a plain `Store` with a
//! fixed clock. Replies are compared as raw RESP, so shapes and error texts are checked
//! exactly; expected replies were taken from redis-server 7.0.15.

pub(super) use crate::testing::harness::{Harness, NOW_MS};

const INVALID_ID: &str = "-ERR Invalid stream ID specified as stream command argument\r\n";

/// `*n` of `[id, [f, v]]` entries with one field each.
pub(super) fn entries(list: &[(&str, &str, &str)]) -> String {
    let mut s = format!("*{}\r\n", list.len());
    for (id, f, v) in list {
        s += &format!("*2\r\n${}\r\n{id}\r\n*2\r\n${}\r\n{f}\r\n${}\r\n{v}\r\n", id.len(), f.len(), v.len());
    }
    s
}

fn filled() -> Harness {
    let mut h = Harness::new();
    assert_eq!(h.run("xadd s 1-1 f v"), "$3\r\n1-1\r\n");
    assert_eq!(h.run("xadd s 1-2 f v a 1"), "$3\r\n1-2\r\n");
    assert_eq!(h.run("xadd s 2 f 123"), "$3\r\n2-0\r\n");
    assert_eq!(h.run("xadd s 3-5 f -5"), "$3\r\n3-5\r\n");
    h
}

#[test]
fn xadd_ids() {
    let mut h = Harness::new();
    let auto = format!("{NOW_MS}-0");
    assert_eq!(h.run("xadd s * a 1"), format!("${}\r\n{auto}\r\n", auto.len()));
    let auto1 = format!("{NOW_MS}-1");
    assert_eq!(h.run("xadd s * a 1"), format!("${}\r\n{auto1}\r\n", auto1.len()));
    assert_eq!(h.run("xadd t 0-0 a b"), "-ERR The ID specified in XADD must be greater than 0-0\r\n");
    assert_eq!(h.run("xadd t 0 a b"), "-ERR The ID specified in XADD must be greater than 0-0\r\n");
    assert_eq!(h.run("xadd t 0-* a b"), "$3\r\n0-1\r\n");
    assert_eq!(h.run("xadd t 7-* a b"), "$3\r\n7-0\r\n");
    assert_eq!(h.run("xadd t 7-* a b"), "$3\r\n7-1\r\n");
    assert_eq!(
        h.run("xadd t 6-* a b"),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    assert_eq!(
        h.run("xadd t 7-1 a b"),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    assert_eq!(h.run("xadd t + a b"), INVALID_ID);
    assert_eq!(h.run("xadd t x-* a b"), INVALID_ID);
    assert_eq!(h.run("xadd t *-1 a b"), INVALID_ID);
    assert_eq!(h.run_bytes(&[b"xadd", b"t", b" 8", b"a", b"b"]), "$3\r\n8-0\r\n");
    assert_eq!(h.run("xadd t +9 a b"), "$3\r\n9-0\r\n");
    assert_eq!(
        h.run("xadd t 18446744073709551615-18446744073709551615 a b"),
        "$41\r\n18446744073709551615-18446744073709551615\r\n"
    );
    assert_eq!(
        h.run("xadd t * a b"),
        "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"
    );
    assert_eq!(
        h.run("xadd t 18446744073709551615-* a b"),
        "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"
    );
    assert_eq!(h.run("xlen t"), ":6\r\n");
}

#[test]
fn xadd_options_in_redis_order() {
    let mut h = Harness::new();
    assert_eq!(
        h.run("xadd k LIMIT 0 * a b"),
        "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"
    );
    assert_eq!(
        h.run("xadd k LIMIT 5 * a b"),
        "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"
    );
    assert_eq!(
        h.run("xadd k maxlen 5 limit 5 * a b"),
        "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"
    );
    assert_eq!(h.run("xadd k maxlen ~ 5 limit 5 1 a b"), "$3\r\n1-0\r\n");
    assert_eq!(h.run("xadd k maxlen"), "-ERR wrong number of arguments for 'xadd' command\r\n");
    assert_eq!(h.run("xadd k maxlen 1 *"), "-ERR wrong number of arguments for 'xadd' command\r\n");
    assert_eq!(h.run("xadd k maxlen 1 * a"), "-ERR wrong number of arguments for 'xadd' command\r\n");
    assert_eq!(h.run("xadd k maxlen 1 * a b c"), "-ERR wrong number of arguments for 'xadd' command\r\n");
    assert_eq!(h.run("xadd k maxlen -1 * a b"), "-ERR The MAXLEN argument must be >= 0.\r\n");
    assert_eq!(h.run("xadd k maxlen x * a b"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        h.run("xadd k maxlen 1 minid 1 * a b"),
        "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"
    );
    assert_eq!(h.run("xadd k maxlen ~ * a b"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xadd k minid x * a b"), INVALID_ID);
    assert_eq!(h.run("xadd k limit -1 * a b"), "-ERR The LIMIT argument must be >= 0.\r\n");
    assert_eq!(h.run("xadd k foo a b"), INVALID_ID);
    assert_eq!(h.run("xadd k nomkstream"), "-ERR wrong number of arguments for 'xadd' command\r\n");
    assert_eq!(h.run("xadd nokey nomkstream * a b"), "$-1\r\n");
    assert_eq!(h.run("exists nokey"), ":0\r\n");
    h.run("set str v");
    assert_eq!(h.run("xadd str * a b"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("xadd str x a b"), INVALID_ID);
    assert_eq!(h.run("xadd k NOMKSTREAM MAXLEN = 1 2 a b"), "$3\r\n2-0\r\n");
    assert_eq!(h.run("xlen k"), ":1\r\n");
}

#[test]
fn ids_parse_like_strtoull() {
    let mut h = filled();
    let all = "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$3\r\n123\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\nf\r\n$2\r\n-5\r\n";
    assert_eq!(h.run("xrange s - +"), all);
    assert_eq!(h.run_bytes(&[b"xrange", b"s", b" 1", b"+"]), all);
    assert_eq!(h.run("xrange s 01-01 +"), all);
    assert_eq!(h.run("xrange s 0-+2 +"), all);
    assert_eq!(h.run_bytes(&[b"xrange", b"s", b"0- -1", b"+"]), all);
    assert_eq!(h.run("xrange s 1--01 +"), entries(&[("2-0", "f", "123"), ("3-5", "f", "-5")]));
    for bad in
        ["-1", "-01", "1-2-3", "", "1-", "1-0x1", "(", "(-", "x", "18446744073709551616", "1-18446744073709551616"]
    {
        assert_eq!(h.run_bytes(&[b"xrange", b"s", bad.as_bytes(), b"+"]), INVALID_ID, "{bad:?}");
    }
    assert_eq!(h.run_bytes(&[b"xrange", b"s", &[b'1'; 128], b"+"]), INVALID_ID);
    assert_eq!(h.run("xrange s - (+"), INVALID_ID);
    assert_eq!(
        h.run("xrange s (18446744073709551615-18446744073709551615 +"),
        "-ERR invalid start ID for the interval\r\n"
    );
    assert_eq!(h.run("xrange s - (0-0"), "-ERR invalid end ID for the interval\r\n");
    assert_eq!(h.run("xrange s - (0"), "*0\r\n");
    assert_eq!(h.run("xrange s - -"), "*0\r\n");
}

#[test]
fn xrange_and_xrevrange() {
    let mut h = filled();
    assert_eq!(h.run("xrange s - + count 0"), "*-1\r\n");
    assert_eq!(h.run("xrange s - + count -1"), "*-1\r\n");
    assert_eq!(h.run("xrange s - + count 1"), entries(&[("1-1", "f", "v")]));
    assert_eq!(h.run("xrange s - + count 1 count 9 count 1"), entries(&[("1-1", "f", "v")]));
    assert_eq!(h.run("xrange s - + count"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xrange s - + foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xrange s - + count x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xrange s 2 2"), entries(&[("2-0", "f", "123")]));
    assert_eq!(h.run("xrange s - (2"), h.run("xrange s - 2-18446744073709551614"));
    assert_eq!(h.run("xrange s (1-2 (1-2"), "*0\r\n");
    assert_eq!(h.run("xrevrange s + - count 2"), entries(&[("3-5", "f", "-5"), ("2-0", "f", "123")]));
    assert_eq!(h.run("xrevrange s (3-5 (1-2"), entries(&[("2-0", "f", "123")]));
    assert_eq!(h.run("xrevrange s - +"), "*0\r\n");
    assert_eq!(h.run("xrevrange s + - count 0"), "*-1\r\n");
    assert_eq!(h.run("xrange nokey - +"), "*0\r\n");
    assert_eq!(h.run("xrange nokey - + count 0"), "*0\r\n");
    assert_eq!(h.run("xrange nokey x +"), INVALID_ID);
    h.run("set str v");
    assert_eq!(h.run("xrange str - +"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("xrange str x +"), INVALID_ID);
    assert_eq!(h.run("xlen str"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("xlen nokey"), ":0\r\n");
    assert_eq!(h.run("xrange s"), "-ERR wrong number of arguments for 'xrange' command\r\n");
}

#[test]
fn xdel_and_xtrim() {
    let mut h = filled();
    assert_eq!(h.run("xdel s"), "-ERR wrong number of arguments for 'xdel' command\r\n");
    assert_eq!(h.run("xdel s x"), INVALID_ID);
    assert_eq!(h.run("xdel nokey x"), ":0\r\n");
    h.run("set str v");
    assert_eq!(h.run("xdel str x"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("xdel s 1-1 1-1 9"), ":1\r\n");
    assert_eq!(h.run("xdel s 1"), ":0\r\n");
    assert_eq!(h.run("xtrim s maxlen"), "-ERR wrong number of arguments for 'xtrim' command\r\n");
    assert_eq!(h.run("xtrim s maxlen 1 2"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xtrim s foo 1"), "-ERR syntax error\r\n");
    assert_eq!(
        h.run("xtrim s limit 1 maxlen 1"),
        "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"
    );
    assert_eq!(h.run("xtrim s maxlen ~ 1 limit 1"), ":0\r\n");
    assert_eq!(h.run("xtrim s minid -"), INVALID_ID);
    assert_eq!(h.run("xtrim s nomkstream maxlen 1"), "-ERR syntax error\r\n");
    assert_eq!(
        h.run("xtrim s limit 5"),
        "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"
    );
    assert_eq!(h.run("xtrim s limit 0"), "-ERR syntax error, XTRIM must be called with a trimming strategy\r\n");
    assert_eq!(h.run("xtrim str maxlen x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xtrim str maxlen 1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("xtrim nokey maxlen 1"), ":0\r\n");
    assert_eq!(h.run("xtrim s minid 3"), ":2\r\n");
    assert_eq!(h.run("xtrim s maxlen 0"), ":1\r\n");
    // An emptied stream stays, with its IDs.
    assert_eq!(h.run("exists s"), ":1\r\n");
    assert_eq!(h.run("xlen s"), ":0\r\n");
    assert_eq!(h.encoding("s"), "stream");
    assert_eq!(h.run("type s"), "+stream\r\n");
}

#[test]
fn approximate_trims_drop_whole_nodes() {
    let mut h = Harness::new();
    h.cfg.stream_node_max_entries = 10;
    for i in 1..=35 {
        h.run(&format!("xadd s {i} f v"));
    }
    assert_eq!(h.run("xtrim s maxlen ~ 12"), ":20\r\n");
    assert_eq!(h.run("xadd s maxlen ~ 5 limit 10 36 f v"), "$4\r\n36-0\r\n");
    assert_eq!(h.run("xlen s"), ":6\r\n");
    assert_eq!(h.run("xtrim s maxlen = 2"), ":4\r\n");
    assert_eq!(h.run("xrange s - +"), entries(&[("35-0", "f", "v"), ("36-0", "f", "v")]));
}

#[test]
fn xsetid() {
    let mut h = Harness::new();
    h.run("xadd s 1 a 1");
    h.run("xadd s 2 b 2");
    assert_eq!(h.run("xsetid s"), "-ERR wrong number of arguments for 'xsetid' command\r\n");
    assert_eq!(h.run("xsetid s 1"), "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n");
    assert_eq!(h.run("xsetid s 2"), "+OK\r\n");
    assert_eq!(h.run("xsetid s -"), INVALID_ID);
    assert_eq!(h.run("xsetid nokey 5"), "-ERR no such key\r\n");
    assert_eq!(h.run("xsetid nokey x"), INVALID_ID);
    h.run("set str v");
    assert_eq!(h.run("xsetid str 5"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("xsetid s 5 entriesadded"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xsetid s 5 entriesadded x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xsetid s 5 entriesadded -1"), "-ERR entries_added must be positive\r\n");
    assert_eq!(
        h.run("xsetid s 5 entriesadded 1"),
        "-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n"
    );
    assert_eq!(
        h.run("xsetid s 5 maxdeletedid 6"),
        "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n"
    );
    assert_eq!(h.run("xsetid s 5 foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xsetid s 5 maxdeletedid 3 entriesadded 10"), "+OK\r\n");
    assert_eq!(
        h.run("xadd s 5 a 1"),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    assert_eq!(h.run("xadd s 5-* a 1"), "$3\r\n5-1\r\n");
    // Emptied, a stream may go back to any ID.
    assert_eq!(h.run("xdel s 1 2 5-1"), ":3\r\n");
    assert_eq!(h.run("xsetid s 0"), "+OK\r\n");
}

#[test]
fn xread_basics() {
    let mut h = Harness::new();
    h.run("set str v");
    h.run("xadd s 1 a 1");
    h.run("xadd s 2 b 2");
    h.run("xadd t 5 c 3");
    let s_all = "*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n";
    let t_all = "*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n";
    assert_eq!(h.run("xread streams s 0"), format!("*1\r\n{s_all}"));
    assert_eq!(h.run("xread streams s t 0 0"), format!("*2\r\n{s_all}{t_all}"));
    assert_eq!(h.run("xread count 0 streams s t 0 0"), format!("*2\r\n{s_all}{t_all}"));
    assert_eq!(
        h.run("xread count 1 streams s 1-5"),
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(h.run("xread streams s $"), "*-1\r\n");
    // Nothing to serve under BLOCK: no reply; the blocking layer parks the client.
    assert_eq!(h.run("xread block 10 streams s $"), "");
    assert_eq!(h.run("xread streams s 2"), "*-1\r\n");
    assert_eq!(h.run("xread streams nokey 0"), "*-1\r\n");
    assert_eq!(h.run("xread streams s 18446744073709551615-18446744073709551615"), "*-1\r\n");
    assert_eq!(h.run("xread streams s"), "-ERR wrong number of arguments for 'xread' command\r\n");
    assert_eq!(
        h.run("xread streams s >"),
        "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n"
    );
    assert_eq!(h.run("xread streams str x"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("xread streams nokey x"), INVALID_ID);
    assert_eq!(h.run("xread streams s -"), INVALID_ID);
    assert_eq!(h.run("xread foo streams s 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xread count 1 streams"), "-ERR syntax error\r\n");
    assert_eq!(
        h.run("xread streams s 0 t"),
        "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n"
    );
    assert_eq!(
        h.run("xread group g c streams s 0"),
        "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n"
    );
    assert_eq!(
        h.run("xread noack streams s 0"),
        "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n"
    );
    assert_eq!(h.run("xread count x streams s 0"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xread block x streams s 0"), "-ERR timeout is not an integer or out of range\r\n");
    assert_eq!(h.run("xread block -1 streams s 0"), "-ERR timeout is negative\r\n");
    assert_eq!(h.run("xread block 10 streams s 0"), format!("*1\r\n{s_all}"));
    assert_eq!(h.run("xread streams streams s 0 0"), format!("*1\r\n{s_all}"));
    h.resp3 = true;
    assert_eq!(h.run("xread streams s t 0 0"), format!("%2\r\n{}{}", &s_all[4..], &t_all[4..]));
    assert_eq!(h.run("xread streams s $"), "_\r\n");
}

#[test]
fn blocking_hooks() {
    use crate::command::spec::DataCtx;
    let mut h = Harness::new();
    h.run("xadd s 4 a 1");
    let mut ctx = DataCtx { store: &mut h.store, dbi: 0, now_ms: NOW_MS, cfg: &h.cfg, rng: &mut h.rng };
    let args: [&[u8]; 6] = [b"xread", b"block", b"0", b"streams", b"s", b"$"];
    let mut buf = Vec::new();
    let mut out = crate::resp::Out::new(&mut buf, false);
    assert_eq!(super::xread_core(&mut ctx, &args, &mut out), super::ReadOutcome::WouldBlock);
    assert!(buf.is_empty());
    let rewritten = super::rewrite_dollar_ids(&mut ctx, &args);
    assert_eq!(rewritten[5], b"4-0");
    let got = super::entries_after(&mut ctx, b"s", crate::store::types::stream::StreamId::new(3, 0), 0);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, vec![(b"a".to_vec(), b"1".to_vec())]);
}
