//! Bad input never crashes the server: malformed and adversarial RESP, random garbage, half
//! frames, clients that vanish mid-request or mid-reply, thousands of connections opened and
//! dropped. Afterwards PING still answers, a connection opened before still works, and every key
//! written before is intact. Protocol error replies are compared byte for byte with redis-server.
//!
//! It must never depend on timing beyond generous upper bounds, and never send anything that
//! could legitimately delete the data it later checks.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::resp::escape;
use common::{RawConn, Reply, Server};
use rand::{Rng, SeedableRng};

/// Inputs whose whole transcript (reply bytes, then whether the server closed) must equal
/// redis-server's. Each either ends in a protocol error (the server closes) or in QUIT.
const TRANSCRIPT_CASES: &[&[u8]] = &[
    b"*abc\r\n",
    b"*1\r\n$abc\r\n",
    b"*1\r\nfoo\r\n",
    b"*1\r\n$999999999999\r\n",
    b"*99999999999\r\n",
    b"*2147483648\r\n",
    b"SET \"abc\r\n",
    b"\"a\"b\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$2147483648\r\n",
    b"*1\r\n$536870913\r\n",
    b"*1\r\n$9999999999999999999999999999999999999999\r\n",
    b"*1\r\n$+3\r\nfoo\r\n",
    b"*+1\r\n$4\r\nQUIT\r\n",
    b"* 1\r\n",
    b"*1\r\n$ 4\r\nQUIT\r\n",
    b"*1\nQUIT\r\n",
    b"*3000000\r\n*1\r\n$4\r\nQUIT\r\n",
    b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$x\r\n",
    b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nQUIT\r\n",
    b"$3\r\nfoo\r\nQUIT\r\n",
    b"*-1\r\nPING\r\nQUIT\r\n",
    b"*0\r\n*1\r\n$4\r\nQUIT\r\n",
    b"   \r\n\n\r\nQUIT\r\n",
    b"*1\r\n$0\r\n\r\nQUIT\r\n",
    b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\nQUIT\r\n",
    b"ECHO \"\"\r\nECHO \"\\x41\\n\"\r\nECHO 'a b'\r\nECHO \"a\\\"b\"\r\nQUIT\r\n",
    b"*1\r\n$4\r\nPING\r\n:1\r\nQUIT\r\n",
    b"GET a b c\r\nset\r\nQUIT\r\n",
];

/// Sends `input` on a fresh connection and returns what came back and whether the server closed.
fn transcript(port: u16, input: &[u8]) -> (Vec<u8>, bool) {
    let mut conn = RawConn::connect(port).expect("connect");
    let _ = conn.send_raw(input);
    conn.read_until_close(Duration::from_secs(10))
}

#[test]
fn protocol_errors_match_redis_byte_for_byte() {
    let redis = Server::redis();
    let tessera = Server::tessera(2);
    let mut inputs: Vec<Vec<u8>> = TRANSCRIPT_CASES.iter().map(|c| c.to_vec()).collect();
    // An inline request without a newline past 64 KiB.
    inputs.push(vec![b'a'; 70_000]);
    let mut failures = Vec::new();
    for input in &inputs {
        let want = transcript(redis.port, input);
        let got = transcript(tessera.port, input);
        if want != got {
            failures.push(format!(
                "input:   {}\nredis:   {} (closed: {})\ntessera: {} (closed: {})",
                escape(input),
                escape(&want.0),
                want.1,
                escape(&got.0),
                got.1
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} inputs differ:\n\n{}", failures.len(), inputs.len(), failures.join("\n\n"));
}

/// Opens a connection, writes `bytes` (ignoring errors: the server may close first), drops it.
fn hit_and_run(port: u16, bytes: &[u8]) {
    if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        let _ = s.write_all(bytes);
    }
}

fn adversarial_inputs() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        b"*3\r\n$3\r\nSET".to_vec(),
        b"*3\r\n$3\r\nSET\r\n$5\r\njunk1\r\n$10\r\nabc".to_vec(),
        b"*-1\r\n".to_vec(),
        b"*1\r\n$999999999999\r\n".to_vec(),
        b"$999999999999\r\n".to_vec(),
        b"*999999999999\r\n".to_vec(),
        b"*1048576\r\n".to_vec(),
        b"*2\r\n$3\r\nGET\r\n$100000\r\nshort".to_vec(),
        b"SET \"unbalanced\r\n".to_vec(),
        b"SET 'junk2 v\r\n".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
        b"*\r\n".to_vec(),
        b"$\r\n".to_vec(),
        b"*1\r\n$\r\n".to_vec(),
        b"*1\r\n$-1\r\n".to_vec(),
        b"*2\r\n*1\r\n$4\r\nPING\r\n".to_vec(),
        b"*1\r\n$4\r\nPING".to_vec(),
        b"PING".to_vec(),
        b"HELLO 3\r\n*1\r\n$3\r\nGET".to_vec(),
        b"HELLO 9\r\nHELLO\r\nHELLO 3 AUTH\r\n".to_vec(),
        vec![b'x'; 200_000],
        vec![0u8; 5000],
    ];
    let mut long_inline = b"SET junk3 ".to_vec();
    long_inline.extend(vec![b'y'; 100_000]);
    long_inline.extend_from_slice(b"\r\n");
    v.push(long_inline);
    v
}

/// A valid frame with a few random bytes flipped.
fn mutated_frame(rng: &mut rand::rngs::SmallRng) -> Vec<u8> {
    let key = format!("junk:{}", rng.gen_range(0..100));
    let val = "v".repeat(rng.gen_range(0..100));
    let args: Vec<&[u8]> = match rng.gen_range(0..4) {
        0 => vec![b"SET", key.as_bytes(), val.as_bytes()],
        1 => vec![b"GET", key.as_bytes()],
        2 => vec![b"MGET", key.as_bytes(), b"junk:x", b"junk:y"],
        _ => vec![b"APPEND", key.as_bytes(), val.as_bytes()],
    };
    let mut frame = common::resp::encode(&args);
    for _ in 0..rng.gen_range(1..4) {
        let i = rng.gen_range(0..frame.len());
        frame[i] = rng.gen();
    }
    if rng.gen_bool(0.3) {
        let cut = rng.gen_range(0..frame.len());
        frame.truncate(cut);
    }
    frame
}

#[test]
fn garbage_and_vanishing_clients_lose_nothing() {
    let server = Server::tessera(2);
    let port = server.port;
    let mut keeper = server.raw();
    // Data written before the abuse.
    for chunk in 0..10 {
        let mut args: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
        for i in chunk * 100..(chunk + 1) * 100 {
            args.push(format!("data:{i}").into_bytes());
            args.push(format!("value-{i}").into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        assert_eq!(keeper.call(&refs).expect("MSET").1, Reply::Simple(b"OK".to_vec()));
    }
    let big = "B".repeat(1 << 20);
    assert_eq!(keeper.cmd(&["SET", "data:big", &big]), Reply::Simple(b"OK".to_vec()));

    // A well-behaved client keeps working while the others misbehave.
    let good = std::thread::spawn(move || {
        let mut c = RawConn::connect(port).expect("connect");
        for i in 1..=2000 {
            assert_eq!(c.cmd(&["INCR", "good:counter"]), Reply::Int(i), "the good client's INCR {i}");
        }
    });

    let abusers: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut rng = rand::rngs::SmallRng::seed_from_u64(0xbad0 + t);
                for input in adversarial_inputs() {
                    hit_and_run(port, &input);
                }
                for _ in 0..150 {
                    let len = rng.gen_range(1..4096);
                    let garbage: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                    hit_and_run(port, &garbage);
                }
                for _ in 0..150 {
                    let mut bytes = Vec::new();
                    for _ in 0..rng.gen_range(1..20) {
                        bytes.extend(mutated_frame(&mut rng));
                    }
                    hit_and_run(port, &bytes);
                }
                // Clients that ask for a big reply and vanish before reading it.
                for _ in 0..20 {
                    let mut req = Vec::new();
                    for _ in 0..20 {
                        req.extend(common::resp::encode(&[b"GET", b"data:big"]));
                    }
                    hit_and_run(port, &req);
                }
                // Waves of connections opened together and dropped together.
                for _ in 0..4 {
                    let wave: Vec<TcpStream> =
                        (0..200).filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok()).collect();
                    for (i, mut s) in wave.into_iter().enumerate() {
                        if i % 3 == 0 {
                            let _ = s.write_all(b"*2\r\n$3\r\nGET\r\n$6\r\ndata:1");
                        }
                    }
                }
            })
        })
        .collect();
    for a in abusers {
        a.join().expect("abuser thread");
    }
    good.join().expect("the good client saw a wrong reply");

    let mut fresh = server.raw();
    assert_eq!(fresh.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(keeper.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()), "a connection opened before still works");
    for chunk in 0..10 {
        let mut args: Vec<Vec<u8>> = vec![b"MGET".to_vec()];
        args.extend((chunk * 100..(chunk + 1) * 100).map(|i| format!("data:{i}").into_bytes()));
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let (_, reply) = fresh.call(&refs).expect("MGET");
        let want: Vec<Reply> =
            (chunk * 100..(chunk + 1) * 100).map(|i| Reply::Bulk(format!("value-{i}").into_bytes())).collect();
        assert_eq!(reply, Reply::Array(want), "data written before the abuse, chunk {chunk}");
    }
    assert_eq!(fresh.cmd(&["STRLEN", "data:big"]), Reply::Int(1 << 20));
    assert_eq!(fresh.cmd(&["GET", "good:counter"]), Reply::Bulk(b"2000".to_vec()));
    assert!(server.log().len() < 50_000_000, "the server log exploded");
}

#[test]
fn limits_close_only_the_offending_connection() {
    let server = Server::tessera(2);
    let mut bystander = server.raw();
    assert_eq!(bystander.cmd(&["SET", "kept", "yes"]), Reply::Simple(b"OK".to_vec()));
    for input in [&b"*1\r\n$999999999999\r\n"[..], b"*99999999999\r\n", b"SET \"x\r\n"] {
        let (reply, closed) = transcript(server.port, input);
        assert!(reply.starts_with(b"-ERR Protocol error: "), "got {}", escape(&reply));
        assert!(closed, "the connection must be closed after a protocol error");
    }
    assert_eq!(bystander.cmd(&["GET", "kept"]), Reply::Bulk(b"yes".to_vec()));
}
