//! The `redis` crate as a client of tessera, over RESP2 and RESP3 (`?protocol=resp3`): typed
//! helpers, raw `Value` shapes (compared with what real Redis returns for the same script), and
//! a 10,000-command pipeline whose replies must come back in order.
//!
//! It must never assert on speed, and must never compare anything that legitimately differs
//! between servers (server name, ids, time).

mod common;

use common::{keys_on_shard, Server};
use redis::{Commands, Connection, RedisResult, Value};

fn connect(server: &Server, resp3: bool) -> Connection {
    let url = if resp3 { format!("{}?protocol=resp3", server.url()) } else { server.url() };
    let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| panic!("client for {url}: {e}"));
    client.get_connection().unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// A result that can be compared across servers: values as-is, errors by their text.
fn comparable(r: RedisResult<Value>) -> Result<Value, String> {
    r.map_err(|e| format!("{:?} {:?}", e.code(), e.detail()))
}

/// A fixed script of issue-3 commands; deadlines are absolute so replies are exact.
fn script(con: &mut Connection) -> Vec<(String, Result<Value, String>)> {
    let far = "4102444800"; // 2100-01-01
    let cmds: Vec<Vec<&str>> = vec![
        vec!["FLUSHDB"],
        vec!["SET", "s", "hello"],
        vec!["GET", "s"],
        vec!["GET", "missing"],
        vec!["SET", "s", "world", "GET"],
        vec!["SET", "n", "10"],
        vec!["INCR", "n"],
        vec!["INCRBY", "n", "-20"],
        vec!["INCRBYFLOAT", "n", "0.25"],
        vec!["INCR", "s"],
        vec!["APPEND", "s", "!!"],
        vec!["STRLEN", "s"],
        vec!["GETRANGE", "s", "1", "-2"],
        vec!["SETRANGE", "s", "2", "XY"],
        vec!["MSET", "a", "1", "b", "2", "c", "3"],
        vec!["MGET", "a", "b", "missing", "c"],
        vec!["MSETNX", "a", "9", "z", "9"],
        vec!["EXISTS", "a", "b", "missing", "a"],
        vec!["TYPE", "a"],
        vec!["TYPE", "missing"],
        vec!["EXPIREAT", "a", far],
        vec!["EXPIRETIME", "a"],
        vec!["PEXPIRETIME", "a"],
        vec!["EXPIREAT", "a", far, "GT"],
        vec!["PERSIST", "a"],
        vec!["TTL", "a"],
        vec!["PTTL", "missing"],
        vec!["SET", "lcs1", "ohmytext"],
        vec!["SET", "lcs2", "mynewtext"],
        vec!["LCS", "lcs1", "lcs2"],
        vec!["LCS", "lcs1", "lcs2", "LEN"],
        vec!["LCS", "lcs1", "lcs2", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"],
        vec!["RENAME", "b", "b2"],
        vec!["RENAMENX", "c", "b2"],
        vec!["COPY", "b2", "c2"],
        vec!["COPY", "b2", "c2"],
        vec!["GETDEL", "c2"],
        vec!["GETEX", "b2", "EXAT", far],
        vec!["EXPIRETIME", "b2"],
        vec!["GETSET", "b2", "new"],
        vec!["TTL", "b2"],
        vec!["SETNX", "b2", "x"],
        vec!["OBJECT", "ENCODING", "n"],
        vec!["OBJECT", "ENCODING", "b2"],
        vec!["TOUCH", "a", "b2", "missing"],
        vec!["DEL", "a", "missing"],
        vec!["UNLINK", "b2"],
        vec!["DBSIZE"],
        vec!["ECHO", "echo"],
        vec!["PING"],
        vec!["PING", "pong?"],
        vec!["GET"],
        vec!["NOSUCHCOMMAND", "x"],
        vec!["SELECT", "1"],
        vec!["DBSIZE"],
        vec!["SELECT", "0"],
    ];
    cmds.into_iter()
        .map(|args| {
            let mut c = redis::cmd(args[0]);
            for a in &args[1..] {
                c.arg(*a);
            }
            let r = comparable(c.query::<Value>(con));
            (args.join(" "), r)
        })
        .collect()
}

fn same_script_as_redis(resp3: bool) {
    let redis = Server::redis();
    let tessera = Server::tessera(2);
    let expected = script(&mut connect(&redis, resp3));
    let got = script(&mut connect(&tessera, resp3));
    for ((cmd, want), (_, have)) in expected.iter().zip(got.iter()) {
        assert_eq!(have, want, "resp3={resp3}: `{cmd}` differs from redis-server (left: tessera, right: redis)");
    }
}

#[test]
fn resp2_script_matches_redis() {
    same_script_as_redis(false);
}

#[test]
fn resp3_script_matches_redis() {
    same_script_as_redis(true);
}

#[test]
fn typed_helpers_resp2_and_resp3() {
    let server = Server::tessera(2);
    for resp3 in [false, true] {
        let mut con = connect(&server, resp3);
        let _: () = redis::cmd("FLUSHALL").query(&mut con).expect("FLUSHALL");
        let _: () = con.set("greeting", "hi").expect("SET");
        let v: String = con.get("greeting").expect("GET");
        assert_eq!(v, "hi");
        let missing: Option<String> = con.get("nope").expect("GET missing");
        assert_eq!(missing, None);
        let n: i64 = con.incr("counter", 5).expect("INCRBY");
        assert_eq!(n, 5);
        let f: f64 = con.incr("float", 1.5).expect("INCRBYFLOAT");
        assert!((f - 1.5).abs() < 1e-9);
        let _: () = con.set_ex("temp", "x", 1000).expect("SETEX");
        let ttl: i64 = con.ttl("temp").expect("TTL");
        assert!((990..=1000).contains(&ttl), "TTL {ttl}");
        let _: () = con.mset(&[("m1", "1"), ("m2", "2"), ("m3", "3")]).expect("MSET");
        let vals: Vec<Option<String>> = con.mget(&["m1", "nope", "m3"]).expect("MGET");
        assert_eq!(vals, vec![Some("1".into()), None, Some("3".into())]);
        let n: i64 = con.exists(&["m1", "m2", "nope"]).expect("EXISTS");
        assert_eq!(n, 2);
        let _: () = con.rename("m1", "m1-renamed").expect("RENAME");
        let n: i64 = con.del(&["m1-renamed", "m2", "m3", "nope"]).expect("DEL");
        assert_eq!(n, 3);
        let size: i64 = redis::cmd("DBSIZE").query(&mut con).expect("DBSIZE");
        assert_eq!(size, 4, "greeting, counter, float, temp");
        let err = con.incr::<_, _, i64>("greeting", 1).expect_err("INCR on a non-number must fail");
        assert!(err.to_string().contains("value is not an integer or out of range"), "{err}");
    }
}

#[test]
fn resp3_reply_shapes() {
    let server = Server::tessera(2);
    let mut con = connect(&server, true);
    let hello: Value = redis::cmd("HELLO").arg("3").query(&mut con).expect("HELLO 3");
    let Value::Map(fields) = hello else { panic!("HELLO 3 must reply with a map, got {hello:?}") };
    let proto = fields.iter().find(|(k, _)| *k == Value::BulkString(b"proto".to_vec())).map(|(_, v)| v.clone());
    assert_eq!(proto, Some(Value::Int(3)), "HELLO 3 fields: {fields:?}");
    let nil: Value = redis::cmd("GET").arg("missing").query(&mut con).expect("GET");
    assert_eq!(nil, Value::Nil);
    let _: () = redis::cmd("SET").arg("x").arg("ohmytext").query(&mut con).expect("SET");
    let _: () = redis::cmd("SET").arg("y").arg("mynewtext").query(&mut con).expect("SET");
    let idx: Value = redis::cmd("LCS").arg("x").arg("y").arg("IDX").query(&mut con).expect("LCS IDX");
    assert!(matches!(idx, Value::Map(_)), "LCS IDX over RESP3 is a map, got {idx:?}");
}

#[test]
fn pipeline_of_10000_commands_replies_in_order() {
    let server = Server::tessera(2);
    let mut con = connect(&server, false);
    let shard0 = keys_on_shard("p0:", 0, 2, 50);
    let shard1 = keys_on_shard("p1:", 1, 2, 50);
    let mut pipe = redis::pipe();
    let mut expected = Vec::new();
    let mut counters = std::collections::HashMap::new();
    for i in 0..10_000usize {
        let key = if i % 2 == 0 { &shard0[i % 50] } else { &shard1[i % 50] };
        match i % 4 {
            0 | 1 => {
                let c = counters.entry(key.clone()).or_insert(0i64);
                *c += 1;
                pipe.cmd("INCR").arg(key);
                expected.push(Value::Int(*c));
            }
            2 => {
                pipe.cmd("ECHO").arg(i);
                expected.push(Value::BulkString(i.to_string().into_bytes()));
            }
            _ => {
                pipe.cmd("GET").arg(key);
                let c = counters.get(key).copied();
                expected.push(match c {
                    Some(c) => Value::BulkString(c.to_string().into_bytes()),
                    None => Value::Nil,
                });
            }
        }
    }
    let replies: Vec<Value> = pipe.query(&mut con).expect("pipeline");
    assert_eq!(replies.len(), expected.len());
    for (i, (got, want)) in replies.iter().zip(expected.iter()).enumerate() {
        assert_eq!(got, want, "reply {i} of the pipeline is out of order or wrong");
    }
}
