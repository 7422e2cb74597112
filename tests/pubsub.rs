//! Pub/Sub against the real binary with two shards: subscribers on every shard receive every
//! message of a publisher in publish order; PUBLISH counts receivers on all shards; RESP3
//! clients get push messages and may keep sending commands.

mod common;

use common::resp::{RawConn, Reply};
use common::Server;

fn cmd(c: &mut RawConn, args: &[&str]) -> Reply {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&a).expect("send");
    c.read_reply().expect("reply").1
}

#[test]
fn messages_reach_every_shard_in_order() {
    let tess = Server::tessera(2);
    // Enough connections that, with SO_REUSEPORT spreading them, both shards hold some.
    let mut subs: Vec<RawConn> = (0..8).map(|_| tess.raw()).collect();
    for (i, s) in subs.iter_mut().enumerate() {
        let r = if i % 2 == 0 { cmd(s, &["SUBSCRIBE", "news"]) } else { cmd(s, &["PSUBSCRIBE", "ne*"]) };
        assert!(matches!(r, Reply::Array(_)), "{r:?}");
    }
    let mut p = tess.raw();
    assert_eq!(
        cmd(&mut p, &["PUBSUB", "NUMSUB", "news"]),
        Reply::Array(vec![Reply::Bulk(b"news".to_vec()), Reply::Int(4)])
    );
    assert_eq!(cmd(&mut p, &["PUBSUB", "NUMPAT"]), Reply::Int(1));
    for i in 0..500 {
        assert_eq!(cmd(&mut p, &["PUBLISH", "news", &format!("m{i}")]), Reply::Int(8));
    }
    for (n, s) in subs.iter_mut().enumerate() {
        for i in 0..500 {
            let (_, r) = s.read_reply().expect("message");
            let Reply::Array(parts) = r else { panic!("not a message: {r:?}") };
            let last = parts.last().cloned();
            assert_eq!(last, Some(Reply::Bulk(format!("m{i}").into_bytes())), "subscriber {n} message {i}");
        }
    }
}

#[test]
fn resp3_subscriber_gets_pushes_and_keeps_working() {
    let tess = Server::tessera(2);
    let mut s = tess.raw();
    cmd(&mut s, &["HELLO", "3"]);
    assert!(matches!(cmd(&mut s, &["SUBSCRIBE", "c"]), Reply::Push(_)));
    let mut p = tess.raw();
    assert_eq!(cmd(&mut p, &["PUBLISH", "c", "hi"]), Reply::Int(1));
    let (_, msg) = s.read_reply().expect("push");
    assert_eq!(
        msg,
        Reply::Push(vec![Reply::Bulk(b"message".to_vec()), Reply::Bulk(b"c".to_vec()), Reply::Bulk(b"hi".to_vec())])
    );
    cmd(&mut s, &["SET", "k", "v"]);
    assert_eq!(cmd(&mut s, &["GET", "k"]), Reply::Bulk(b"v".to_vec()));
    // NUMSUB stays a flat array in RESP3, as in Redis 7.0 (clients parse it as pairs).
    cmd(&mut p, &["HELLO", "3"]);
    assert_eq!(
        cmd(&mut p, &["PUBSUB", "NUMSUB", "c", "none"]),
        Reply::Array(vec![Reply::Bulk(b"c".to_vec()), Reply::Int(1), Reply::Bulk(b"none".to_vec()), Reply::Int(0)])
    );
    // A RESP2 subscriber may not.
    let mut s2 = tess.raw();
    cmd(&mut s2, &["SUBSCRIBE", "c"]);
    assert!(cmd(&mut s2, &["GET", "k"]).is_error());
    // Disconnecting a subscriber removes it everywhere.
    drop(s2);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(cmd(&mut p, &["PUBLISH", "c", "again"]), Reply::Int(1));
}
