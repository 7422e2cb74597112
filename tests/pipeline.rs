//! Pipelines over raw RESP: 10,000 commands written with one `write_all`, touching keys on both
//! shards and mixing local, forwarded and multi-shard commands; every reply must come back in
//! request order and be what the sequence implies.
//!
//! The writer runs on its own thread so that a server that stops reading while its replies are
//! unread cannot deadlock the test; it must never assert on how long any of this takes.

mod common;

use std::io::Write;

use common::resp::escape;
use common::{keys_on_shard, RawConn, Server};

/// The commands and the exact reply bytes each must produce.
fn build(n: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let shard0 = keys_on_shard("pipe0:", 0, 2, 32);
    let shard1 = keys_on_shard("pipe1:", 1, 2, 32);
    let mut counters = std::collections::HashMap::<String, i64>::new();
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let bulk = |s: &str| format!("${}\r\n{s}\r\n", s.len()).into_bytes();
    for i in 0..n {
        let k0 = &shard0[i % shard0.len()];
        let k1 = &shard1[(i * 7) % shard1.len()];
        let key = if i % 2 == 0 { k0 } else { k1 };
        let args: Vec<String> = match i % 6 {
            0 | 1 => {
                let c = counters.entry(key.clone()).or_insert(0);
                *c += 1;
                expected.push(format!(":{c}\r\n").into_bytes());
                vec!["INCR".into(), key.clone()]
            }
            2 => {
                let mut reply = b"*2\r\n".to_vec();
                for k in [k0, k1] {
                    match counters.get(k) {
                        Some(c) => reply.extend(bulk(&c.to_string())),
                        None => reply.extend_from_slice(b"$-1\r\n"),
                    }
                }
                expected.push(reply);
                vec!["MGET".into(), k0.clone(), k1.clone()]
            }
            3 => {
                let n = [k0, k1].iter().filter(|k| counters.contains_key(**k)).count();
                expected.push(format!(":{n}\r\n").into_bytes());
                vec!["EXISTS".into(), k0.clone(), k1.clone()]
            }
            4 => {
                expected.push(b"+PONG\r\n".to_vec());
                vec!["PING".into()]
            }
            _ => {
                let v = format!("v{i}");
                expected.push(bulk(&v));
                vec!["ECHO".into(), v]
            }
        };
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        wire.extend(common::resp::encode(&refs));
    }
    (wire, expected)
}

fn run_pipeline(server: &Server, n: usize) {
    let (wire, expected) = build(n);
    let mut conn = RawConn::connect(server.port).expect("connect");
    let mut writer = conn.stream.try_clone().expect("clone stream");
    let send = std::thread::spawn(move || writer.write_all(&wire));
    for (i, want) in expected.iter().enumerate() {
        let (got, _) = conn.read_reply().unwrap_or_else(|e| panic!("reply {i} of {n}: {e}"));
        assert_eq!(escape(&got), escape(want), "reply {i} of {n}");
    }
    send.join().expect("writer thread").expect("write_all");
    let (pong, _) = conn.call(&[b"PING"]).expect("PING after the pipeline");
    assert_eq!(pong, b"+PONG\r\n");
}

#[test]
fn ten_thousand_commands_in_one_write() {
    let server = Server::tessera(2);
    run_pipeline(&server, 10_000);
}

#[test]
fn ten_thousand_commands_in_one_write_one_shard() {
    let server = Server::tessera(1);
    run_pipeline(&server, 10_000);
}

#[test]
fn several_clients_pipelining_at_once() {
    let server = Server::tessera(2);
    let port = server.port;
    let handles: Vec<_> = (0..4)
        .map(|c| {
            std::thread::spawn(move || {
                let mut conn = RawConn::connect(port).expect("connect");
                let mut wire = Vec::new();
                let key = format!("client:{c}");
                for _ in 0..5000 {
                    wire.extend(common::resp::encode(&[b"INCR", key.as_bytes()]));
                }
                let mut writer = conn.stream.try_clone().expect("clone");
                let send = std::thread::spawn(move || writer.write_all(&wire));
                for i in 1..=5000 {
                    let (got, _) = conn.read_reply().unwrap_or_else(|e| panic!("client {c} reply {i}: {e}"));
                    assert_eq!(got, format!(":{i}\r\n").into_bytes(), "client {c} reply {i}");
                }
                send.join().expect("writer").expect("write");
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
}

#[test]
fn inline_commands_pipelined_with_multibulk() {
    let server = Server::tessera(2);
    let mut conn = server.raw();
    conn.send_raw(b"PING\r\nSET inl \"a b\"\r\n*2\r\n$3\r\nGET\r\n$3\r\ninl\r\nECHO x\nGET inl\r\n\r\n")
        .expect("write");
    for want in [&b"+PONG\r\n"[..], b"+OK\r\n", b"$3\r\na b\r\n", b"$1\r\nx\r\n", b"$3\r\na b\r\n"] {
        let (got, _) = conn.read_reply().expect("reply");
        assert_eq!(escape(&got), escape(want));
    }
    let (pong, _) = conn.call(&[b"PING"]).expect("PING");
    assert_eq!(pong, b"+PONG\r\n");
}

#[test]
fn large_values_cross_buffer_boundaries() {
    let server = Server::tessera(2);
    let mut conn = server.raw();
    let sizes = [0usize, 1, 4095, 4096, 4097, 16_383, 16_384, 16_385, 65_536, 1 << 20, 5 << 20];
    let k0 = keys_on_shard("big0:", 0, 2, sizes.len());
    let k1 = keys_on_shard("big1:", 1, 2, sizes.len());
    let value = |i: usize, size: usize| -> Vec<u8> { (0..size).map(|j| b'a' + ((i + j) % 26) as u8).collect() };
    // Every SET in one write, then every reply.
    let mut wire = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        let v = value(i, size);
        wire.extend(common::resp::encode(&[b"SET", k0[i].as_bytes(), &v]));
        wire.extend(common::resp::encode(&[b"MSET", k1[i].as_bytes(), &v, b"small", b"x"]));
    }
    let mut writer = conn.stream.try_clone().expect("clone stream");
    let send = std::thread::spawn(move || writer.write_all(&wire));
    for i in 0..sizes.len() * 2 {
        let (got, _) = conn.read_reply().unwrap_or_else(|e| panic!("reply {i}: {e}"));
        assert_eq!(got, b"+OK\r\n", "reply {i}");
    }
    send.join().expect("writer thread").expect("write_all");
    for (i, &size) in sizes.iter().enumerate() {
        let want = value(i, size);
        let (_, got) = conn.call(&[b"MGET", k0[i].as_bytes(), k1[i].as_bytes()]).expect("MGET");
        assert_eq!(
            got,
            common::Reply::Array(vec![common::Reply::Bulk(want.clone()), common::Reply::Bulk(want)]),
            "value of {size} bytes"
        );
        let (_, len) = conn.call(&[b"STRLEN", k1[i].as_bytes()]).expect("STRLEN");
        assert_eq!(len, common::Reply::Int(size as i64));
    }
}
