//! More unit tests of the stream family: consumer groups (XGROUP, XREADGROUP, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM), XINFO, keyspace events, dirty counts, key positions and the table.
//! Expected replies were taken from redis-server 7.0.15.

use super::tests::{entries, Harness, NOW_MS};
use crate::store::events::KeyEvent;

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// A stream `s` with entries 1..=n (field `k`, value `vN`) and a group `g` at 0.
fn with_group(n: u64) -> Harness {
    let mut h = Harness::new();
    h.run("set str v");
    for i in 1..=n {
        h.run(&format!("xadd s {i} k v{i}"));
    }
    assert_eq!(h.run("xgroup create s g 0"), "+OK\r\n");
    h
}

fn events(h: &mut Harness) -> Vec<String> {
    std::mem::take(&mut h.store.events)
        .into_iter()
        .map(|e: KeyEvent| format!("{}:{}", e.event, String::from_utf8_lossy(&e.key)))
        .collect()
}

#[test]
fn xgroup_errors_in_redis_order() {
    let mut h = with_group(2);
    let required = "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n";
    assert_eq!(h.run("xgroup"), "-ERR wrong number of arguments for 'xgroup' command\r\n");
    assert_eq!(h.run("xgroup create s g"), "-ERR wrong number of arguments for 'xgroup|create' command\r\n");
    assert_eq!(h.run("xgroup create s g $"), "-BUSYGROUP Consumer Group name already exists\r\n");
    assert_eq!(
        h.run("xgroup create s g x mkstream"),
        "-ERR Invalid stream ID specified as stream command argument\r\n"
    );
    assert_eq!(h.run("xgroup create nokey g $"), required);
    assert_eq!(h.run("xgroup create nokey g x"), required);
    assert_eq!(h.run("xgroup create str g $ mkstream"), WRONGTYPE);
    assert_eq!(
        h.run("xgroup create str g $ foo"),
        "-ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.\r\n"
    );
    assert_eq!(
        h.run("xgroup CREATE s g2 0 entriesread"),
        "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"
    );
    assert_eq!(h.run("xgroup create nokey g x entriesread x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xgroup create s g2 0 entriesread -2"), "-ERR value for ENTRIESREAD must be positive or -1\r\n");
    assert_eq!(
        h.run("xgroup create s g4 0 mkstream mkstream mkstream mkstream"),
        "-ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.\r\n"
    );
    assert_eq!(
        h.run("xgroup setid nokey g x foo 1"),
        "-ERR unknown subcommand or wrong number of arguments for 'setid'. Try XGROUP HELP.\r\n"
    );
    assert_eq!(
        h.run("xgroup setid s nog 0 1"),
        "-ERR unknown subcommand or wrong number of arguments for 'setid'. Try XGROUP HELP.\r\n"
    );
    assert_eq!(h.run("xgroup setid s nog x entriesread x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        h.run("xgroup setid s g x entriesread 5"),
        "-ERR Invalid stream ID specified as stream command argument\r\n"
    );
    assert_eq!(h.run("xgroup setid nokey g x"), required);
    assert_eq!(h.run("xgroup setid s nog x"), "-NOGROUP No such consumer group 'nog' for key name 's'\r\n");
    assert_eq!(h.run("xgroup setid s g -"), "+OK\r\n");
    assert_eq!(h.run("xgroup destroy nokey g"), required);
    assert_eq!(h.run("xgroup destroy str g"), WRONGTYPE);
    assert_eq!(h.run("xgroup destroy s nog"), ":0\r\n");
    assert_eq!(h.run("xgroup createconsumer s nog c"), "-NOGROUP No such consumer group 'nog' for key name 's'\r\n");
    assert_eq!(h.run("xgroup delconsumer s nog c"), "-NOGROUP No such consumer group 'nog' for key name 's'\r\n");
    assert_eq!(h.run("xgroup foo s g"), "-ERR unknown subcommand 'foo'. Try XGROUP HELP.\r\n");
    assert_eq!(h.run("xgroup help x"), "-ERR wrong number of arguments for 'xgroup|help' command\r\n");
    assert!(h
        .run("xgroup HELP")
        .starts_with("*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"));
}

#[test]
fn xgroup_lifecycle_events_and_dirty() {
    let mut h = with_group(2);
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    let before = h.store.dirty;
    assert_eq!(h.run("xgroup create m g 5 mkstream entriesread 7"), "+OK\r\n");
    assert_eq!(h.run("xgroup createconsumer s g c"), ":1\r\n");
    assert_eq!(h.run("xgroup createconsumer s g c"), ":0\r\n");
    assert_eq!(h.run("xgroup setid s g $ entriesread 3"), "+OK\r\n");
    assert_eq!(h.run("xgroup delconsumer s g c"), ":0\r\n");
    assert_eq!(h.run("xgroup delconsumer s g c"), ":0\r\n");
    assert_eq!(h.run("xgroup destroy s g"), ":1\r\n");
    assert_eq!(h.run("xgroup destroy s g"), ":0\r\n");
    assert_eq!(
        events(&mut h),
        vec![
            "xgroup-create:m",
            "xgroup-createconsumer:s",
            "xgroup-setid:s",
            "xgroup-delconsumer:s",
            "xgroup-destroy:s",
        ]
    );
    assert_eq!(h.store.dirty - before, 5);
    assert_eq!(h.run("xlen m"), ":0\r\n");
}

#[test]
fn write_events() {
    let mut h = Harness::new();
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    h.run("xadd s 1 a 1");
    h.run("xadd s maxlen 1 2 a 1");
    h.run("xadd s maxlen 5 3 a 1");
    h.run("xadd nokey nomkstream 6 x 1");
    h.run("xdel s 99");
    h.run("xdel s 3");
    h.run("xtrim s maxlen 0");
    h.run("xtrim s maxlen 0");
    h.run("xsetid s 20");
    assert_eq!(events(&mut h), vec!["xadd:s", "xadd:s", "xtrim:s", "xadd:s", "xdel:s", "xtrim:s", "xsetid:s"]);
}

#[test]
fn xreadgroup_new_and_history() {
    let mut h = with_group(3);
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    let all = entries(&[("1-0", "k", "v1"), ("2-0", "k", "v2"), ("3-0", "k", "v3")]);
    assert_eq!(h.run("xreadgroup group g c streams s >"), format!("*1\r\n*2\r\n$1\r\ns\r\n{all}"));
    assert_eq!(h.run("xreadgroup group g c streams s >"), "*-1\r\n");
    assert_eq!(h.run("xreadgroup group g c streams s 0"), format!("*1\r\n*2\r\n$1\r\ns\r\n{all}"));
    assert_eq!(h.run("xreadgroup group g c2 streams s 0"), "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n");
    assert_eq!(events(&mut h), vec!["xgroup-createconsumer:s", "xgroup-createconsumer:s"]);
    assert_eq!(
        h.run("xreadgroup group g c count 1 streams s 1"),
        format!("*1\r\n*2\r\n$1\r\ns\r\n{}", entries(&[("2-0", "k", "v2")]))
    );
    h.run("xdel s 2");
    assert_eq!(
        h.run("xreadgroup group g c streams s 1"),
        format!("*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n2-0\r\n*-1\r\n{}", &entries(&[("3-0", "k", "v3")])[4..])
    );
    assert_eq!(h.run("xreadgroup group g c streams s $"), "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n");
    assert_eq!(
        h.run("xreadgroup group nog c streams s >"),
        "-NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option\r\n"
    );
    assert_eq!(
        h.run("xreadgroup group g c streams nokey x"),
        "-NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    assert_eq!(h.run("xreadgroup group g c streams str >"), WRONGTYPE);
    assert_eq!(h.run("xreadgroup group g streams s >"), "-ERR wrong number of arguments for 'xreadgroup' command\r\n");
    assert_eq!(h.run("xreadgroup count 1 count 1 streams s >"), "-ERR Missing GROUP option for XREADGROUP\r\n");
    assert_eq!(
        h.run("xreadgroup group g c streams s > >"),
        "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n"
    );
    assert_eq!(
        h.run("xreadgroup group g c streams s -"),
        "-ERR Invalid stream ID specified as stream command argument\r\n"
    );
    // Delivery counts: a replayed entry counts again, a deleted one no more.
    h.now_ms = NOW_MS + 7;
    let pending = h.run("xpending s g - + 10");
    assert_eq!(pending, "*3\r\n*4\r\n$3\r\n1-0\r\n$1\r\nc\r\n:7\r\n:2\r\n*4\r\n$3\r\n2-0\r\n$1\r\nc\r\n:7\r\n:3\r\n*4\r\n$3\r\n3-0\r\n$1\r\nc\r\n:7\r\n:3\r\n");
    h.run("xadd s 4 k v4");
    assert_eq!(
        h.run("xreadgroup group g c noack streams s >"),
        format!("*1\r\n*2\r\n$1\r\ns\r\n{}", entries(&[("4-0", "k", "v4")]))
    );
    assert_eq!(h.run("xpending s g"), "*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n");
    h.resp3 = true;
    assert_eq!(h.run("xreadgroup group g c2 streams s 0"), "%1\r\n$1\r\ns\r\n*0\r\n");
}

#[test]
fn xack_and_xpending_forms() {
    let mut h = with_group(3);
    h.run("xreadgroup group g c streams s >");
    h.now_ms = NOW_MS + 5;
    assert_eq!(h.run("xack s g x"), "-ERR Invalid stream ID specified as stream command argument\r\n");
    assert_eq!(h.run("xack s nog x"), ":0\r\n");
    assert_eq!(h.run("xack nokey g x"), ":0\r\n");
    assert_eq!(h.run("xack str g x"), WRONGTYPE);
    assert_eq!(h.run("xack s g 2 2 9"), ":1\r\n");
    assert_eq!(h.run("xpending s g - +"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xpending s g IDLE 0 - +"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xpending s g IDLE x - + 10"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xpending s g - + x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xpending s g x + 1"), "-ERR Invalid stream ID specified as stream command argument\r\n");
    assert_eq!(h.run("xpending s nog"), "-NOGROUP No such key 's' or consumer group 'nog'\r\n");
    assert_eq!(h.run("xpending str g x + 1"), "-ERR Invalid stream ID specified as stream command argument\r\n");
    assert_eq!(h.run("xpending str g"), WRONGTYPE);
    assert_eq!(h.run("xpending s g - + 10 nobody"), "*0\r\n");
    assert_eq!(h.run("xpending s g - + 0"), "*0\r\n");
    assert_eq!(h.run("xpending s g IDLE 6 - + 10"), "*0\r\n");
    let one = "*1\r\n*4\r\n$3\r\n3-0\r\n$1\r\nc\r\n:5\r\n:1\r\n";
    assert_eq!(h.run("xpending s g IDLE 5 (1 + 10 c"), one);
    assert_eq!(h.run("xpending s g (1 + 10 c extra"), one);
    assert_eq!(h.run("xpending s g idle 0 - + 10 c extra"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xpending s g - (3 1"), "*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\nc\r\n:5\r\n:1\r\n");
    h.run("xack s g 1 3");
    assert_eq!(h.run("xpending s g"), "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
}

#[test]
fn xclaim_options_and_effects() {
    let mut h = with_group(4);
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    h.run("xreadgroup group g c streams s >");
    events(&mut h);
    // Nothing claimed: no consumer is created.
    assert_eq!(h.run("xclaim s g c2 0 9"), "*0\r\n");
    assert_eq!(h.run("xclaim s g c3 999999999 1"), "*0\r\n");
    assert!(events(&mut h).is_empty());
    assert_eq!(h.run("xclaim s g c4 0 1 justid"), "*1\r\n$3\r\n1-0\r\n");
    assert_eq!(events(&mut h), vec!["xgroup-createconsumer:s"]);
    assert_eq!(h.run("xclaim s g c4 0 1"), format!("*1\r\n{}", &entries(&[("1-0", "k", "v1")])[4..]));
    assert_eq!(h.run("xclaim s g c4 0 1 2 x"), "-ERR Unrecognized XCLAIM option 'x'\r\n");
    assert_eq!(h.run("xclaim s g c4 0 justid"), "*0\r\n");
    assert_eq!(h.run("xclaim s g c4 x 1"), "-ERR Invalid min-idle-time argument for XCLAIM\r\n");
    assert_eq!(h.run("xclaim s g c4 0 1 idle x"), "-ERR Invalid IDLE option argument for XCLAIM\r\n");
    assert_eq!(h.run("xclaim s g c4 0 1 time x"), "-ERR Invalid TIME option argument for XCLAIM\r\n");
    assert_eq!(h.run("xclaim s g c4 0 1 retrycount x"), "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n");
    assert_eq!(h.run("xclaim s g c4 0 1 lastid x"), "-ERR Invalid stream ID specified as stream command argument\r\n");
    assert_eq!(h.run("xclaim s g c4 0 1 idle"), "-ERR Unrecognized XCLAIM option 'idle'\r\n");
    assert_eq!(h.run("xclaim s nog c4 0 1"), "-NOGROUP No such key 's' or consumer group 'nog'\r\n");
    assert_eq!(h.run("xclaim str g c4 x 1"), WRONGTYPE);
    assert_eq!(h.run("xclaim s g c5 0 1 retrycount 7 justid"), "*1\r\n$3\r\n1-0\r\n");
    assert_eq!(h.run("xclaim s g c5 0 1 retrycount -7 justid idle 5000"), "*1\r\n$3\r\n1-0\r\n");
    assert_eq!(h.run("xpending s g - 1 1"), "*1\r\n*4\r\n$3\r\n1-0\r\n$2\r\nc5\r\n:5000\r\n:7\r\n");
    h.run("xclaim s g c5 0 1 time 0");
    assert_eq!(h.run("xpending s g - 1 1"), format!("*1\r\n*4\r\n$3\r\n1-0\r\n$2\r\nc5\r\n:{NOW_MS}\r\n:8\r\n"));
    h.run("xclaim s g c5 0 1 idle -5");
    assert_eq!(h.run("xpending s g - 1 1"), "*1\r\n*4\r\n$3\r\n1-0\r\n$2\r\nc5\r\n:0\r\n:9\r\n");
    assert_eq!(h.run("xclaim s g c5 0 1 lastid 9 justid"), "*1\r\n$3\r\n1-0\r\n");
    assert!(h.run("xinfo groups s").contains("$17\r\nlast-delivered-id\r\n$3\r\n9-0\r\n"));
    // A deleted entry leaves the PEL instead of being claimed; FORCE creates missing ones.
    h.run("xdel s 2");
    assert_eq!(h.run("xclaim s g c6 0 2 3 justid"), "*1\r\n$3\r\n3-0\r\n");
    assert_eq!(h.run("xclaim s g c6 0 9 force justid"), "*0\r\n");
    h.run("xack s g 3");
    assert_eq!(h.run("xclaim s g c6 999999 3 force"), format!("*1\r\n{}", &entries(&[("3-0", "k", "v3")])[4..]));
    assert_eq!(
        h.run("xpending s g - + 10"),
        "*3\r\n*4\r\n$3\r\n1-0\r\n$2\r\nc5\r\n:0\r\n:9\r\n*4\r\n$3\r\n3-0\r\n$2\r\nc6\r\n:0\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$1\r\nc\r\n:0\r\n:1\r\n"
    );
}

#[test]
fn xautoclaim_cursor_and_deleted_ids() {
    let mut h = with_group(5);
    h.run("xreadgroup group g c streams s >");
    assert_eq!(
        h.run("xautoclaim s g c2 0 0 count 2 justid"),
        "*3\r\n$3\r\n3-0\r\n*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*0\r\n"
    );
    assert_eq!(h.run("xautoclaim s g c2 0 (3 count 1 justid"), "*3\r\n$3\r\n5-0\r\n*1\r\n$3\r\n4-0\r\n*0\r\n");
    assert_eq!(h.run("xautoclaim s g c2 0 (5 count 1 justid"), "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n");
    h.run("xdel s 2 4");
    assert_eq!(
        h.run("xautoclaim s g c3 0 0 count 2"),
        format!("*3\r\n$3\r\n3-0\r\n*1\r\n{}*1\r\n$3\r\n2-0\r\n", &entries(&[("1-0", "k", "v1")])[4..])
    );
    assert_eq!(h.run("xautoclaim s g c9 999999 0"), "*3\r\n$3\r\n0-0\r\n*0\r\n*1\r\n$3\r\n4-0\r\n");
    assert!(!h.run("xinfo consumers s g").contains("c9"));
    assert_eq!(h.run("xautoclaim s g c3 0 0 count 0"), "-ERR COUNT must be > 0\r\n");
    assert_eq!(h.run("xautoclaim s g c3 0 0 count 576460752303423488"), "-ERR COUNT must be > 0\r\n");
    assert_eq!(
        h.run("xautoclaim s g c3 0 0 count 576460752303423487"),
        "-ERR Insufficient memory, failed allocating transient memory, COUNT too high.\r\n"
    );
    assert_eq!(
        h.run("xautoclaim nokey g c3 0 0 count 576460752303423487"),
        "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"
    );
    assert_eq!(h.run("xautoclaim s g c3 0 0 count"), "-ERR syntax error\r\n");
    assert_eq!(h.run("xautoclaim str g c3 x 0"), "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n");
    assert_eq!(h.run("xautoclaim str g c3 0 0"), WRONGTYPE);
    assert_eq!(
        h.run("xautoclaim s g c3 0 (18446744073709551615-18446744073709551615"),
        "-ERR invalid start ID for the interval\r\n"
    );
    assert_eq!(
        h.run("xautoclaim s g c3 0 - count 1 justid count 5"),
        "*3\r\n$3\r\n0-0\r\n*3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n$3\r\n5-0\r\n*0\r\n"
    );
}

#[test]
fn xinfo_forms() {
    let mut h = with_group(3);
    h.run("xreadgroup group g c count 2 streams s >");
    h.run("xdel s 3");
    h.now_ms = NOW_MS + 3;
    assert_eq!(h.run("xinfo stream nokey"), "-ERR no such key\r\n");
    assert_eq!(h.run("xinfo stream str"), WRONGTYPE);
    assert_eq!(h.run("xinfo consumers s nog"), "-NOGROUP No such consumer group 'nog' for key name 's'\r\n");
    assert_eq!(
        h.run("xinfo stream s full count"),
        "-ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.\r\n"
    );
    assert_eq!(h.run("xinfo stream s full count x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("xinfo stream nokey foo"), "-ERR no such key\r\n");
    assert_eq!(h.run("xinfo foo"), "-ERR unknown subcommand 'foo'. Try XINFO HELP.\r\n");
    assert!(h.run("xinfo help").starts_with("*9\r\n+XINFO <subcommand>"));
    assert_eq!(
        h.run("xinfo consumers s g"),
        "*1\r\n*6\r\n$4\r\nname\r\n$1\r\nc\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:3\r\n"
    );
    assert_eq!(
        h.run("xinfo groups s"),
        "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:2\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n$-1\r\n"
    );
    let info = h.run("xinfo stream s");
    let want = format!(
        "*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n{}$10\r\nlast-entry\r\n{}",
        &entries(&[("1-0", "k", "v1")])[4..],
        &entries(&[("2-0", "k", "v2")])[4..]
    );
    assert_eq!(info, want);
    let full = h.run("xinfo stream s full count 1");
    let t = NOW_MS.to_string();
    assert!(full.starts_with("*18\r\n"));
    assert!(full.contains(&format!("$7\r\npending\r\n*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\nc\r\n:{t}\r\n:1\r\n$9\r\nconsumers\r\n*1\r\n*8\r\n$4\r\nname\r\n$1\r\nc\r\n$9\r\nseen-time\r\n:{t}\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-0\r\n:{t}\r\n:1\r\n")), "{full}");
    h.resp3 = true;
    assert!(h.run("xinfo stream s").starts_with("%10\r\n$6\r\nlength\r\n:2\r\n"));
    h.run("xadd e 1 a 1");
    h.run("xdel e 1");
    assert!(h.run("xinfo stream e").ends_with("$11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n"));
}

#[test]
fn key_positions_and_table() {
    use crate::command::table;
    let keys = |line: &str| {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        super::xread_keys(&args)
    };
    assert_eq!(keys("xread count 1 block 0 streams a b 0 0"), vec![6, 7]);
    assert_eq!(keys("xreadgroup group g c noack streams a 0"), vec![6]);
    assert_eq!(keys("xread streams a b 0"), Vec::<usize>::new());
    assert_eq!(keys("xread foo streams a 0"), Vec::<usize>::new());
    assert_eq!(keys("xreadgroup group streams streams streams s >"), vec![5]);
    assert_eq!(keys("xreadgroup group streams streams s >"), Vec::<usize>::new());
    for (name, arity, first) in [
        ("xadd", -5, 1),
        ("xrange", -4, 1),
        ("xrevrange", -4, 1),
        ("xlen", 2, 1),
        ("xdel", -3, 1),
        ("xtrim", -4, 1),
        ("xread", -4, 0),
        ("xreadgroup", -7, 0),
        ("xack", -4, 1),
        ("xpending", -3, 1),
        ("xclaim", -6, 1),
        ("xautoclaim", -6, 1),
        ("xsetid", -3, 1),
        ("xgroup", -2, 0),
        ("xinfo", -2, 0),
    ] {
        let c = table::lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!((c.arity, c.first_key), (arity, first), "{name}");
    }
    let c = table::resolve(&[b"xinfo", b"stream", b"k"]).unwrap();
    assert_eq!((c.name, c.first_key, c.last_key), ("xinfo|stream", 2, 2));
}
