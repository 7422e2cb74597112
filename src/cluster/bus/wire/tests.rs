//! Wire format tests: field offsets against the 7.0 layout, the length rules of
//! `clusterProcessPacket`, round trips of every message type, and fuzzing of the decoder.
//! Bytes from a real redis-server are checked in tests/cluster_bus_wire.rs.

use super::*;
use proptest::prelude::*;

fn name(c: u8) -> NodeId {
    NodeId([c; 40])
}

fn ping_with(gossip: Vec<Gossip>, exts: Vec<PingExt>) -> Message {
    let mut header = Header::new(msg_type::PING);
    if !exts.is_empty() {
        header.mflags[0] |= mflag0::EXT_DATA;
        header.extensions = exts.len() as u16;
    }
    Message { header, body: Body::Ping { gossip, exts } }
}

fn gossip(c: u8) -> Gossip {
    Gossip {
        name: name(c),
        ping_sent_s: 0x0102_0304,
        pong_received_s: 0x0506_0708,
        ip: IpField::new("10.1.2.3"),
        port: 7000,
        cport: 17000,
        flags: 1,
        pport: 0,
        reserved: 0,
    }
}

#[test]
fn header_fields_sit_at_redis_offsets() {
    let mut h = Header::new(msg_type::MEET);
    h.port = 0x1b58;
    h.current_epoch = 0x0102_0304_0506_0708;
    h.config_epoch = 9;
    h.offset = 10;
    h.sender = name(b'a');
    h.myslots[0] = 0b101;
    h.myslots[2047] = 0x80;
    h.slaveof = name(b'b');
    h.myip = IpField::new("127.0.0.1");
    h.extensions = 0;
    h.pport = 6380;
    h.cport = 17000;
    h.flags = 17;
    h.state = STATE_FAIL;
    let b = encode(&Message { header: h, body: Body::Ping { gossip: vec![], exts: vec![] } });
    assert_eq!(b.len(), 2256);
    assert_eq!(&b[0..4], b"RCmb");
    assert_eq!(&b[4..8], &2256u32.to_be_bytes());
    assert_eq!(&b[8..10], &[0, 1]);
    assert_eq!(&b[10..12], &[0x1b, 0x58]);
    assert_eq!(&b[12..14], &[0, 2]);
    assert_eq!(&b[14..16], &[0, 0]);
    assert_eq!(&b[16..24], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(b[31], 9);
    assert_eq!(b[39], 10);
    assert_eq!(&b[40..80], &[b'a'; 40]);
    assert_eq!(b[80], 0b101);
    assert_eq!(b[2127], 0x80);
    assert_eq!(&b[2128..2168], &[b'b'; 40]);
    assert_eq!(&b[2168..2177], b"127.0.0.1");
    assert!(b[2177..2214].iter().all(|&x| x == 0));
    assert_eq!(&b[2246..2248], &6380u16.to_be_bytes());
    assert_eq!(&b[2248..2250], &17000u16.to_be_bytes());
    assert_eq!(&b[2250..2252], &[0, 17]);
    assert_eq!(b[2252], 1);
    assert!(test_bit(&decode(&b).unwrap().header.myslots, 0));
    assert!(test_bit(&decode(&b).unwrap().header.myslots, 2));
    assert!(test_bit(&decode(&b).unwrap().header.myslots, 16383));
    assert!(!test_bit(&decode(&b).unwrap().header.myslots, 1));
}

#[test]
fn gossip_and_extension_layout() {
    let m = ping_with(vec![gossip(b'c')], vec![PingExt::Hostname(b"myhost.example".to_vec())]);
    let b = encode(&m);
    assert_eq!(b.len(), 2256 + 104 + 24);
    assert_eq!(&b[14..16], &[0, 1], "count");
    assert_eq!(&b[2214..2216], &[0, 1], "extensions");
    assert_eq!(b[2253], mflag0::EXT_DATA);
    let g = &b[2256..2360];
    assert_eq!(&g[..40], &[b'c'; 40]);
    assert_eq!(&g[40..48], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&g[48..56], b"10.1.2.3");
    assert_eq!(&g[94..96], &7000u16.to_be_bytes());
    assert_eq!(&g[96..98], &17000u16.to_be_bytes());
    assert_eq!(&g[98..100], &[0, 1]);
    // As redis-server 7.0.15 sends it with cluster-announce-hostname myhost.example.
    assert_eq!(&b[2360..], b"\0\0\0\x18\0\0\0\0myhost.example\0\0");
    assert_eq!(decode(&b).unwrap(), m);
}

#[test]
fn forgotten_node_and_shard_id_layout() {
    let m =
        ping_with(vec![], vec![PingExt::ForgottenNode { name: name(b'f'), ttl_s: 59 }, PingExt::ShardId(name(b's'))]);
    let b = encode(&m);
    assert_eq!(b.len(), 2256 + 56 + 48);
    assert_eq!(&b[2256..2264], &[0, 0, 0, 56, 0, 2, 0, 0]);
    assert_eq!(&b[2304..2312], &59u64.to_be_bytes());
    assert_eq!(&b[2312..2320], &[0, 0, 0, 48, 0, 3, 0, 0]);
    assert_eq!(decode(&b).unwrap(), m);
}

#[test]
fn fixed_bodies() {
    let fail = Message { header: Header::new(msg_type::FAIL), body: Body::Fail { node: name(b'x') } };
    assert_eq!(encode(&fail).len(), 2296);
    let mut slots = Box::new([0u8; 2048]);
    set_bit(&mut slots, 5);
    let update = Message {
        header: Header::new(msg_type::UPDATE),
        body: Body::Update { config_epoch: 42, node: name(b'y'), slots },
    };
    let b = encode(&update);
    assert_eq!(b.len(), 2256 + 2096);
    assert_eq!(&b[2256..2264], &42u64.to_be_bytes());
    assert_eq!(b[2256 + 48], 0b10_0000);
    let publish = Message {
        header: Header::new(msg_type::PUBLISH),
        body: Body::Publish { channel: b"ch".to_vec(), message: b"hello".to_vec() },
    };
    let b = encode(&publish);
    // Redis's length: header + the 8 fixed bytes + channel + message (no placeholder bytes).
    assert_eq!(b.len(), 2256 + 8 + 2 + 5);
    assert_eq!(&b[2256..2264], &[0, 0, 0, 2, 0, 0, 0, 5]);
    assert_eq!(&b[2264..], b"chhello");
    let module = Message {
        header: Header::new(msg_type::MODULE),
        body: Body::Module { module_id: 7, module_type: 3, payload: b"abc".to_vec() },
    };
    assert_eq!(encode(&module).len(), 2256 + 13 + 3);
    for m in [fail, update, publish, module] {
        assert_eq!(decode(&encode(&m)).unwrap(), m);
    }
    for t in [msg_type::FAILOVER_AUTH_REQUEST, msg_type::FAILOVER_AUTH_ACK, msg_type::MFSTART] {
        let m = Message { header: Header::new(t), body: Body::Empty };
        assert_eq!(encode(&m).len(), 2256);
        assert_eq!(decode(&encode(&m)).unwrap(), m);
    }
    let unknown = Message { header: Header::new(77), body: Body::Unknown(b"anything".to_vec()) };
    assert_eq!(decode(&encode(&unknown)).unwrap(), unknown);
}

#[test]
fn length_rules_as_redis() {
    let mut b = encode(&Message { header: Header::new(msg_type::FAIL), body: Body::Fail { node: name(b'x') } });
    b.push(0);
    let len = b.len() as u32;
    b[4..8].copy_from_slice(&len.to_be_bytes());
    assert_eq!(decode(&b), Err(WireError::LengthMismatch { msg_type: msg_type::FAIL, totlen: 2297, expected: 2296 }));
    // A gossip count larger than the message.
    let mut b = encode(&ping_with(vec![gossip(b'c')], vec![]));
    b[14..16].copy_from_slice(&2u16.to_be_bytes());
    assert!(matches!(decode(&b), Err(WireError::LengthMismatch { .. })));
    // Trailing bytes after the gossip without the extension flag.
    let mut b = encode(&ping_with(vec![], vec![PingExt::Hostname(b"h".to_vec())]));
    b[2253] = 0;
    assert!(matches!(decode(&b), Err(WireError::LengthMismatch { .. })));
    // An extension whose length is not a multiple of 8, or overruns.
    let mut b = encode(&ping_with(vec![], vec![PingExt::Hostname(b"h".to_vec())]));
    b[2259] = 12;
    assert!(matches!(decode(&b), Err(WireError::BadExtension { .. })));
    b[2259] = 24;
    assert!(matches!(decode(&b), Err(WireError::BadExtension { .. })));
    // A hostname without its NUL.
    let mut b = encode(&ping_with(vec![], vec![PingExt::Hostname(b"1234567".to_vec())]));
    b[2271] = b'8';
    assert!(matches!(decode(&b), Err(WireError::BadExtension { .. })));
    // Version, signature, short frames.
    let mut b = encode(&Message { header: Header::new(msg_type::MFSTART), body: Body::Empty });
    b[9] = 2;
    assert_eq!(decode(&b), Err(WireError::BadVersion(2)));
    b[0] = b'X';
    assert_eq!(decode(&b), Err(WireError::BadSignature));
    assert!(decode(b"RCmb").is_err());
    assert!(decode(b"").is_err());
    // A PUBLISH whose lengths overflow or disagree.
    let mut b = encode(&Message {
        header: Header::new(msg_type::PUBLISH),
        body: Body::Publish { channel: b"c".to_vec(), message: b"m".to_vec() },
    });
    b[2256..2260].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(decode(&b), Err(WireError::LengthMismatch { .. })));
}

#[test]
fn bit_helpers() {
    let mut bits = [0u8; 2048];
    for s in [0, 7, 8, 63, 64, 1000, 16383] {
        set_bit(&mut bits, s);
    }
    let mut seen = Vec::new();
    for_each_bit(&bits, |s| seen.push(s));
    assert_eq!(seen, vec![0, 7, 8, 63, 64, 1000, 16383]);
    assert_eq!(count_bits(&bits), 7);
    assert!(test_bit(&bits, 1000) && !test_bit(&bits, 1001) && !test_bit(&bits, 99_999));
}

fn arb_name() -> impl Strategy<Value = NodeId> {
    prop::array::uniform32(any::<u8>()).prop_flat_map(|a| {
        prop::array::uniform8(any::<u8>()).prop_map(move |b| {
            let mut n = [0u8; 40];
            n[..32].copy_from_slice(&a);
            n[32..].copy_from_slice(&b);
            NodeId(n)
        })
    })
}

fn arb_ip() -> impl Strategy<Value = IpField> {
    "[0-9a-f.:]{0,45}".prop_map(|s| IpField::new(&s))
}

fn arb_gossip() -> impl Strategy<Value = Gossip> {
    (arb_name(), any::<u32>(), any::<u32>(), arb_ip(), any::<[u16; 5]>()).prop_map(|(name, ps, pr, ip, p)| Gossip {
        name,
        ping_sent_s: ps,
        pong_received_s: pr,
        ip,
        port: p[0],
        cport: p[1],
        flags: p[2],
        pport: p[3],
        reserved: p[4],
    })
}

fn arb_ext() -> impl Strategy<Value = PingExt> {
    prop_oneof![
        proptest::collection::vec(1u8..=255, 0..40).prop_map(PingExt::Hostname),
        (arb_name(), any::<u64>()).prop_map(|(name, ttl_s)| PingExt::ForgottenNode { name, ttl_s }),
        arb_name().prop_map(PingExt::ShardId),
        (4u16..100, proptest::collection::vec(any::<u8>(), 0..5))
            .prop_map(|(ext_type, w)| PingExt::Unknown { ext_type, data: w.repeat(8) }),
    ]
}

fn arb_body() -> impl Strategy<Value = (u16, Body)> {
    prop_oneof![
        (
            prop_oneof![Just(msg_type::PING), Just(msg_type::PONG), Just(msg_type::MEET)],
            proptest::collection::vec(arb_gossip(), 0..5),
            proptest::collection::vec(arb_ext(), 0..4)
        )
            .prop_map(|(t, gossip, exts)| (t, Body::Ping { gossip, exts })),
        arb_name().prop_map(|node| (msg_type::FAIL, Body::Fail { node })),
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..20), proptest::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(s, channel, message)| {
                (if s { msg_type::PUBLISHSHARD } else { msg_type::PUBLISH }, Body::Publish { channel, message })
            }),
        (any::<u64>(), arb_name(), any::<u16>()).prop_map(|(config_epoch, node, slot)| {
            let mut slots = Box::new([0u8; 2048]);
            set_bit(&mut slots, slot as usize % 16384);
            (msg_type::UPDATE, Body::Update { config_epoch, node, slots })
        }),
        (any::<u64>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20)).prop_map(|(id, t, payload)| {
            (msg_type::MODULE, Body::Module { module_id: id, module_type: t, payload })
        }),
        prop_oneof![Just(msg_type::FAILOVER_AUTH_REQUEST), Just(msg_type::FAILOVER_AUTH_ACK), Just(msg_type::MFSTART)]
            .prop_map(|t| (t, Body::Empty)),
        (11u16..500, proptest::collection::vec(any::<u8>(), 0..30)).prop_map(|(t, b)| (t, Body::Unknown(b))),
    ]
}

/// Any message of any type, with random names and fields (also used to fuzz the bus).
pub(crate) fn arb_message() -> impl Strategy<Value = Message> {
    (arb_body(), arb_name(), arb_name(), arb_ip(), any::<[u64; 3]>(), any::<[u16; 4]>(), any::<[u8; 4]>(), any::<u16>())
        .prop_map(|((t, body), sender, slaveof, myip, e, p, f, slot)| {
            let mut h = Header::new(t);
            h.current_epoch = e[0];
            h.config_epoch = e[1];
            h.offset = e[2];
            h.sender = sender;
            h.slaveof = slaveof;
            h.myip = myip;
            h.port = p[0];
            h.pport = p[1];
            h.cport = p[2];
            h.flags = p[3];
            h.state = f[0];
            h.mflags = [f[1] & !mflag0::EXT_DATA, f[2], f[3]];
            h.reserved[3] = f[3];
            set_bit(&mut h.myslots, slot as usize % 16384);
            if let Body::Ping { exts, .. } = &body {
                if !exts.is_empty() {
                    h.mflags[0] |= mflag0::EXT_DATA;
                }
                h.extensions = exts.len() as u16;
            }
            Message { header: h, body }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn round_trip(m in arb_message()) {
        let b = encode(&m);
        prop_assert_eq!(b.len(), encoded_len(&m));
        let d = decode(&b).unwrap();
        prop_assert_eq!(&d, &m);
        prop_assert_eq!(encode(&d), b);
    }

    /// Flipped bytes, truncation and garbage: no panic, and whatever decodes re-encodes to a
    /// message that decodes to the same thing.
    #[test]
    fn fuzz_mutations(m in arb_message(), flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..8),
                      cut in any::<u16>(), fix_len in any::<bool>()) {
        let mut b = encode(&m);
        for (at, v) in flips {
            let i = at as usize % b.len();
            b[i] = v;
        }
        if cut % 4 == 0 {
            b.truncate(cut as usize % (b.len() + 1));
        }
        if fix_len && b.len() >= 8 {
            let len = b.len() as u32;
            b[4..8].copy_from_slice(&len.to_be_bytes());
        }
        if let Ok(d) = decode(&b) {
            let again = decode(&encode(&d)).unwrap();
            prop_assert_eq!(again, d);
        }
    }

    #[test]
    fn fuzz_random_bytes(mut b in proptest::collection::vec(any::<u8>(), 0..4000), t in 0u16..12) {
        if b.len() >= 16 {
            b[..4].copy_from_slice(b"RCmb");
            let len = b.len() as u32;
            b[4..8].copy_from_slice(&len.to_be_bytes());
            b[8..10].copy_from_slice(&1u16.to_be_bytes());
            b[12..14].copy_from_slice(&t.to_be_bytes());
        }
        let _ = decode(&b);
    }
}
