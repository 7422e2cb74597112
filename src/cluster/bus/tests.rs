//! Bus state machine tests, message by message: what a node answers and how its state
//! changes. Whole clusters run in `testing::sim`.

use super::wire::{self, msg_type, Body, Gossip, Header, IpField, Message, PingExt};
use super::*;
use crate::cluster::state::{flag, ClusterNode, ClusterState, NodeId};

const NOW: u64 = 1_700_000_000_000;

fn id(c: char) -> NodeId {
    NodeId([c as u8; 40])
}

fn bus(me: char) -> Bus {
    let mut st = ClusterState::with_ids(crate::testing::sim::sim_settings(1000), id(me), id(me));
    st.quiet_log = true;
    st.myself_mut().ip = "10.0.0.1".into();
    Bus::new(st, 1)
}

fn add_master(b: &mut Bus, c: char, epoch: u64) -> usize {
    let mut n = ClusterNode::new(id(c), flag::MASTER);
    n.ip = format!("10.0.1.{}", c as u8);
    n.port = 7000;
    n.cport = 17000;
    n.config_epoch = epoch;
    b.state_mut().add_node(n)
}

fn header_from(sender: char, t: u16, epoch: u64) -> Header {
    let mut h = Header::new(t);
    h.sender = id(sender);
    h.port = 7000;
    h.cport = 17000;
    h.flags = flag::MASTER | flag::MYSELF;
    h.config_epoch = epoch;
    h.current_epoch = epoch;
    h
}

fn ping(sender: char, t: u16, epoch: u64, slots: &[u16]) -> Message {
    let mut header = header_from(sender, t, epoch);
    for &s in slots {
        wire::set_bit(&mut header.myslots, s as usize);
    }
    Message { header, body: Body::Ping { gossip: vec![], exts: vec![] } }
}

fn sent(actions: &[Action]) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { bytes, .. } => Some(wire::decode(bytes).unwrap()),
            _ => None,
        })
        .collect()
}

#[test]
fn ping_from_anyone_gets_a_pong_with_our_header() {
    let mut b = bus('a');
    b.state_mut().add_slot(5, 0);
    let link = b.accept(NOW, "10.0.0.9", "10.0.0.1");
    let out = b.on_message(NOW, link, &ping('z', msg_type::PING, 0, &[]));
    let msgs = sent(&out);
    assert_eq!(msgs.len(), 1);
    let h = &msgs[0].header;
    assert_eq!(h.msg_type, msg_type::PONG);
    assert_eq!(h.sender, id('a'));
    assert_eq!((h.port, h.cport, h.flags), (7000, 17000, flag::MYSELF | flag::MASTER));
    assert!(wire::test_bit(&h.myslots, 5) && wire::count_bits(&h.myslots) == 1);
    assert_eq!(h.slaveof, NodeId::NULL);
    assert!(h.myip.is_empty());
    // An unknown node's PING adds nothing.
    assert_eq!(b.nodes().len(), 1);
    assert_eq!(b.messages_received[msg_type::PING as usize], 1);
    assert_eq!(b.messages_sent[msg_type::PONG as usize], 1);
}

#[test]
fn meet_from_unknown_starts_a_handshake_and_learns_our_ip() {
    let mut b = bus('a');
    b.state_mut().myself_mut().ip.clear();
    let link = b.accept(NOW, "10.0.0.9", "10.0.0.1");
    let out = b.on_message(NOW, link, &ping('z', msg_type::MEET, 0, &[]));
    assert_eq!(b.myself().ip, "10.0.0.1");
    assert!(out.contains(&Action::SaveConfig));
    let n = &b.nodes()[1];
    assert!(n.in_handshake() && n.id != id('z'));
    assert_eq!((n.ip.as_str(), n.port, n.cport), ("10.0.0.9", 7000, 17000));
    // The next tick connects to it; once connected we PING (it is not ours to MEET).
    let out = b.tick(NOW + 100);
    let Some(Action::Connect { link: to, ip, port, .. }) = out.first().cloned() else { panic!("{out:?}") };
    assert_eq!((ip.as_str(), port), ("10.0.0.9", 17000));
    let out = b.connected(NOW + 110, to, "10.0.0.1");
    assert_eq!(sent(&out)[0].header.msg_type, msg_type::PING);
    // Its PONG gives the node its real name and role.
    let out = b.on_message(NOW + 120, to, &ping('z', msg_type::PONG, 0, &[]));
    assert!(out.contains(&Action::SaveConfig));
    let n = b.node_by_id(&id('z')).unwrap();
    assert!(!n.in_handshake() && n.is_master());
    assert_eq!(n.pong_received_ms, NOW + 120);
    assert_eq!(n.link, Some(to));
    b.check_invariants(true);
}

#[test]
fn cluster_meet_sends_meet_then_a_wrong_name_is_noaddr() {
    let mut b = bus('a');
    assert!(b.meet(NOW, "10.0.0.7", 7000, 17000));
    assert!(!b.meet(NOW, "10.0.0.7", 7000, 17000), "second handshake to the same address");
    let out = b.tick(NOW);
    let Some(Action::Connect { link, .. }) = out.first().cloned() else { panic!("{out:?}") };
    let out = b.connected(NOW + 1, link, "10.0.0.1");
    assert_eq!(sent(&out)[0].header.msg_type, msg_type::MEET);
    assert_eq!(b.nodes()[1].flags & flag::MEET, 0);
    b.on_message(NOW + 2, link, &ping('q', msg_type::PONG, 0, &[]));
    assert!(b.node_by_id(&id('q')).is_some());
    // Later someone else answers on that node's address: the node loses its address.
    b.tick(NOW + 100);
    let out = b.on_message(NOW + 200, link, &ping('r', msg_type::PONG, 0, &[]));
    assert!(out.contains(&Action::Close { link }));
    let n = b.node_by_id(&id('q')).unwrap();
    assert!(n.flags & flag::NOADDR != 0 && n.ip.is_empty() && n.link.is_none());
}

#[test]
fn handshake_with_a_known_node_is_dropped() {
    let mut b = bus('a');
    add_master(&mut b, 'k', 1);
    b.meet(NOW, "10.0.0.8", 7000, 17000);
    let out = b.tick(NOW);
    let link = out
        .iter()
        .find_map(|a| match a {
            Action::Connect { link, ip, .. } if ip == "10.0.0.8" => Some(*link),
            _ => None,
        })
        .unwrap();
    b.connected(NOW + 1, link, "10.0.0.1");
    let out = b.on_message(NOW + 2, link, &ping('k', msg_type::PONG, 1, &[]));
    assert!(out.contains(&Action::Close { link }));
    assert_eq!(b.nodes().len(), 2);
    // The known node takes the address it answered from.
    assert_eq!(b.node_by_id(&id('k')).unwrap().ip, "10.0.0.8");
}

#[test]
fn slots_go_to_the_higher_epoch_and_stale_senders_get_an_update() {
    let mut b = bus('a');
    let x = add_master(&mut b, 'x', 10);
    let y = add_master(&mut b, 'y', 3);
    b.state_mut().add_slot(5, x);
    // y claims slot 5 with an older epoch and slot 6 nobody has: it gets 6 only, and an
    // UPDATE about x goes to y on our link to it.
    let out = b.tick(NOW);
    let y_link = b.nodes()[y].link.unwrap();
    assert!(out.iter().any(|a| matches!(a, Action::Connect { link, .. } if *link == y_link)));
    b.connected(NOW, y_link, "10.0.0.1");
    let inbound = b.accept(NOW, "10.0.1.121", "10.0.0.1");
    let out = b.on_message(NOW + 1, inbound, &ping('y', msg_type::PING, 3, &[5, 6]));
    assert_eq!(b.slot_owner(5), Some(x));
    assert_eq!(b.slot_owner(6), Some(y));
    let update = sent(&out).into_iter().find(|m| m.header.msg_type == msg_type::UPDATE).expect("an UPDATE");
    assert!(out.iter().any(|a| matches!(a, Action::Send { link, .. } if *link == y_link)));
    match update.body {
        Body::Update { config_epoch, node, slots } => {
            assert_eq!((config_epoch, node), (10, id('x')));
            assert!(wire::test_bit(&slots, 5));
        }
        other => panic!("{other:?}"),
    }
    // y takes over slot 5 with a newer epoch (a failover elsewhere): it wins.
    b.on_message(NOW + 2, inbound, &ping('y', msg_type::PING, 11, &[5, 6]));
    assert_eq!(b.slot_owner(5), Some(y));
    assert_eq!(b.nodes()[y].config_epoch, 11);
    assert_eq!(b.current_epoch, 11);
    // An UPDATE message about x with a newer epoch moves them back.
    let mut upd = Message {
        header: header_from('y', msg_type::UPDATE, 11),
        body: Body::Update { config_epoch: 12, node: id('x'), slots: Box::new([0; 2048]) },
    };
    if let Body::Update { slots, .. } = &mut upd.body {
        wire::set_bit(slots, 5);
    }
    b.on_message(NOW + 3, inbound, &upd);
    assert_eq!(b.slot_owner(5), Some(x));
    assert_eq!(b.nodes()[x].config_epoch, 12);
    b.check_invariants(true);
}

#[test]
fn losing_own_slots_asks_to_delete_keys() {
    let mut b = bus('a');
    let y = add_master(&mut b, 'y', 9);
    b.state_mut().add_slot(1, 0);
    b.state_mut().add_slot(2, 0);
    let link = b.accept(NOW, "10.0.1.121", "10.0.0.1");
    let out = b.on_message(NOW, link, &ping('y', msg_type::PING, 9, &[1]));
    assert!(out.contains(&Action::DeleteKeysInSlots { slots: vec![1] }));
    assert_eq!(b.slot_owner(1), Some(y));
    // Losing the last one makes us its replica.
    let out = b.on_message(NOW, link, &ping('y', msg_type::PING, 9, &[1, 2]));
    assert!(out.contains(&Action::ReplicateFrom { master: id('y') }));
    assert!(b.myself().is_replica() && b.myself().master == Some(id('y')));
}

#[test]
fn equal_epochs_the_smaller_name_bumps() {
    for (me, other, bumped) in [('b', 'c', true), ('c', 'b', false)] {
        let mut b = bus(me);
        b.state_mut().myself_mut().config_epoch = 4;
        b.state_mut().current_epoch = 6;
        add_master(&mut b, other, 4);
        let link = b.accept(NOW, &format!("10.0.1.{}", other as u8), "10.0.0.1");
        let out = b.on_message(NOW, link, &ping(other, msg_type::PING, 4, &[]));
        assert_eq!(b.myself().config_epoch == 7, bumped, "{me} vs {other}");
        assert_eq!(out.contains(&Action::SaveConfig), bumped);
    }
}

#[test]
fn gossip_size_follows_the_cluster_size() {
    for (known, want) in [(3usize, 1usize), (20, 3), (100, 10), (300, 30)] {
        let mut b = bus('a');
        for i in 1..known {
            let c = NodeId::random_with(&mut <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(i as u64));
            let mut n = ClusterNode::new(c, flag::MASTER);
            n.ip = "10.1.1.1".into();
            n.cport = 17000;
            let idx = b.state_mut().add_node(n);
            b.state_mut().add_slot(i as u16, idx);
        }
        let link = b.accept(NOW, "10.0.0.9", "10.0.0.1");
        let out = b.on_message(NOW, link, &ping('z', msg_type::PING, 0, &[]));
        match &sent(&out)[0].body {
            Body::Ping { gossip, .. } => {
                // Redis tries 3 random picks per wanted section, so a few may be missing.
                assert!(gossip.len() <= want && gossip.len() * 3 >= want * 2, "{known} nodes: {}", gossip.len());
                let mut names: Vec<NodeId> = gossip.iter().map(|g| g.name).collect();
                names.dedup();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), gossip.len());
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn pfail_nodes_always_gossiped_and_reports_make_fail() {
    let mut b = bus('a');
    let x = add_master(&mut b, 'x', 1);
    let y = add_master(&mut b, 'y', 2);
    let f = add_master(&mut b, 'f', 3);
    for (i, s) in [(0usize, 0u16), (x, 1), (y, 2), (f, 3)] {
        b.state_mut().add_slot(s, i);
    }
    // The cluster size counts once the first update is older than the writable delay.
    b.state_mut().update_state(NOW - 3000);
    b.state_mut().update_state(NOW);
    assert_eq!(b.size(), 4);
    b.state_mut().nodes_mut()[f].flags |= flag::PFAIL;
    b.tick(NOW);
    b.tick(NOW + 100);
    let link = b.accept(NOW, "10.0.0.9", "10.0.0.1");
    let out = b.on_message(NOW + 200, link, &ping('z', msg_type::PING, 0, &[]));
    let Body::Ping { gossip, .. } = &sent(&out)[0].body else { panic!() };
    assert!(gossip.iter().any(|g| g.name == id('f') && g.flags & flag::PFAIL != 0));
    // x reports f failing: with us that is 2 of 4 masters, not a majority of 4 (3).
    let report = |from: char| {
        let mut m = ping(from, msg_type::PING, 0, &[]);
        m.header.config_epoch = if from == 'x' { 1 } else { 2 };
        m.header.myslots = Box::new([0; 2048]);
        wire::set_bit(&mut m.header.myslots, if from == 'x' { 1 } else { 2 });
        m.body = Body::Ping {
            gossip: vec![Gossip {
                name: id('f'),
                ping_sent_s: 0,
                pong_received_s: 0,
                ip: IpField::new("10.0.1.102"),
                port: 7000,
                cport: 17000,
                flags: flag::MASTER | flag::PFAIL,
                pport: 0,
                reserved: 0,
            }],
            exts: vec![],
        };
        m
    };
    let lx = b.accept(NOW, "10.0.1.120", "10.0.0.1");
    b.on_message(NOW + 300, lx, &report('x'));
    assert_eq!(b.nodes()[f].fail_reports.len(), 1);
    assert!(!b.nodes()[f].failed());
    let ly = b.accept(NOW, "10.0.1.121", "10.0.0.1");
    let out = b.on_message(NOW + 400, ly, &report('y'));
    assert!(b.nodes()[f].failed() && !b.nodes()[f].timed_out());
    assert!(out.contains(&Action::PublishView));
    // The reports expire after twice the node timeout.
    assert_eq!(b.state_mut().failure_report_count(f, NOW + 300 + 2000), 2);
    assert_eq!(b.state_mut().failure_report_count(f, NOW + 300 + 2001), 1);
}

#[test]
fn fail_message_and_its_clearing() {
    let mut b = bus('a');
    add_master(&mut b, 'x', 1);
    let g = add_master(&mut b, 'g', 2);
    b.state_mut().add_slot(9, g);
    let lx = b.accept(NOW, "10.0.1.120", "10.0.0.1");
    b.on_message(NOW, lx, &Message { header: header_from('x', msg_type::FAIL, 1), body: Body::Fail { node: id('g') } });
    assert!(b.nodes()[g].failed());
    // A master with slots answering again stays FAIL until twice the timeout passed.
    b.tick(NOW);
    let lg = b.nodes()[g].link.unwrap();
    b.connected(NOW, lg, "10.0.0.1");
    b.on_message(NOW + 500, lg, &ping('g', msg_type::PONG, 2, &[9]));
    assert!(b.nodes()[g].failed());
    b.on_message(NOW + 2001, lg, &ping('g', msg_type::PONG, 2, &[9]));
    assert!(!b.nodes()[g].failed());
}

#[test]
fn hostname_extension_and_forgotten_nodes() {
    let mut b = bus('a');
    add_master(&mut b, 'x', 1);
    add_master(&mut b, 'v', 2);
    let lx = b.accept(NOW, "10.0.1.120", "10.0.0.1");
    let mut m = ping('x', msg_type::PING, 1, &[]);
    m.header.mflags[0] |= wire::mflag0::EXT_DATA;
    m.header.extensions = 2;
    m.body = Body::Ping {
        gossip: vec![],
        exts: vec![PingExt::Hostname(b"host-x".to_vec()), PingExt::ForgottenNode { name: id('v'), ttl_s: 30 }],
    };
    b.on_message(NOW, lx, &m);
    assert_eq!(b.node_by_id(&id('x')).unwrap().hostname, "host-x");
    assert!(b.node_by_id(&id('v')).is_none());
    assert_eq!(b.blacklist.get(&id('v')), Some(&(NOW + 30_000)));
    // Gossip about the forgotten node does not bring it back.
    let mut g = ping('x', msg_type::PING, 1, &[]);
    g.body = Body::Ping {
        gossip: vec![Gossip {
            name: id('v'),
            ping_sent_s: 0,
            pong_received_s: 0,
            ip: IpField::new("10.0.1.118"),
            port: 7000,
            cport: 17000,
            flags: flag::MASTER,
            pport: 0,
            reserved: 0,
        }],
        exts: vec![],
    };
    b.on_message(NOW + 1, lx, &g);
    assert!(b.node_by_id(&id('v')).is_none());
    assert_eq!(b.node_by_id(&id('x')).unwrap().hostname, "", "no extension: no hostname");
    // Our own PINGs carry the blacklist while it lasts.
    let l = b.accept(NOW, "10.0.0.9", "10.0.0.1");
    let out = b.on_message(NOW + 5000, l, &ping('z', msg_type::PING, 0, &[]));
    match &sent(&out)[0].body {
        Body::Ping { exts, .. } => assert_eq!(exts, &vec![PingExt::ForgottenNode { name: id('v'), ttl_s: 25 }]),
        other => panic!("{other:?}"),
    }
    b.on_message(NOW + 31_000, lx, &g);
    assert!(b.node_by_id(&id('v')).is_some(), "known again once the blacklist expired");
}

#[test]
fn malformed_bytes_close_the_link_and_count() {
    let mut b = bus('a');
    let l = b.accept(NOW, "10.0.0.9", "10.0.0.1");
    let out = b.bytes_in(NOW, l, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(out, vec![Action::Close { link: l }]);
    assert_eq!(b.stats.malformed_messages, 1);
    assert!(b.links.is_empty());
    // A well framed message with a bad body too.
    let l = b.accept(NOW, "10.0.0.9", "10.0.0.1");
    let mut bytes = wire::encode(&ping('z', msg_type::PING, 0, &[]));
    bytes[14] = 9;
    let out = b.bytes_in(NOW, l, &bytes);
    assert_eq!(out, vec![Action::Close { link: l }]);
    assert_eq!(b.stats.malformed_messages, 2);
    // Whole messages split anywhere are fine.
    let l = b.accept(NOW, "10.0.0.9", "10.0.0.1");
    let bytes = wire::encode(&ping('z', msg_type::PING, 0, &[]));
    assert!(b.bytes_in(NOW, l, &bytes[..100]).is_empty());
    let out = b.bytes_in(NOW, l, &bytes[100..]);
    assert_eq!(sent(&out).len(), 1);
    assert_eq!(b.closed(NOW, l), vec![]);
    assert!(b.links.is_empty());
}

#[test]
fn silent_node_becomes_pfail_and_link_is_recycled() {
    let mut b = bus('a');
    let x = add_master(&mut b, 'x', 1);
    b.tick(NOW);
    let link = b.nodes()[x].link.unwrap();
    b.connected(NOW, link, "10.0.0.1");
    assert_eq!(b.nodes()[x].ping_sent_ms, NOW);
    let mut t = NOW;
    let mut closed_at = None;
    while !b.nodes()[x].timed_out() {
        t += 100;
        let out = b.tick(t);
        if out.contains(&Action::Close { link }) {
            closed_at = Some(t);
        }
        assert!(t < NOW + 1200, "no PFAIL after the node timeout");
    }
    assert!(t > NOW + 1000);
    // The old link went once it was older than the timeout with no traffic at all; the next
    // tick opens a new one.
    assert!(closed_at.is_some_and(|c| c > NOW + 1000), "{closed_at:?}");
    let out = b.tick(t + 100);
    assert!(out.iter().any(|a| matches!(a, Action::Connect { .. })), "{out:?}");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    /// Points some names of a random message at nodes the bus knows (or at itself), so the
    /// fuzzing reaches past the "unknown sender" checks.
    fn aim(m: &mut Message, seed: u64) {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let names = [id('a'), id('x'), id('y'), id('w')];
        let pick = |rng: &mut rand::rngs::SmallRng, n: &mut NodeId| {
            if rng.gen_bool(0.7) {
                *n = names[rng.gen_range(0..names.len())];
            }
        };
        pick(&mut rng, &mut m.header.sender);
        if rng.gen_bool(0.5) {
            m.header.slaveof = NodeId::NULL;
        } else {
            pick(&mut rng, &mut m.header.slaveof);
        }
        m.header.config_epoch %= 8;
        m.header.current_epoch %= 10;
        match &mut m.body {
            Body::Ping { gossip, exts } => {
                for g in gossip.iter_mut() {
                    pick(&mut rng, &mut g.name);
                    g.flags &= 0x3ff;
                }
                for e in exts.iter_mut() {
                    if let PingExt::ForgottenNode { name, ttl_s } = e {
                        pick(&mut rng, name);
                        *ttl_s %= 100;
                    }
                }
            }
            Body::Fail { node } | Body::Update { node, .. } => pick(&mut rng, node),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Any sequence of messages, on our links and on inbound ones, whole or as bytes:
        /// no panic, and the state keeps its invariants after each.
        #[test]
        fn any_messages_keep_the_state_sound(
            msgs in proptest::collection::vec((crate::cluster::bus::wire::tests::arb_message(), any::<u64>(), 0u8..4), 1..25)
        ) {
            let mut b = bus('a');
            let x = add_master(&mut b, 'x', 1);
            let y = add_master(&mut b, 'y', 2);
            b.state_mut().add_slot(1, x);
            b.state_mut().add_slot(2, y);
            b.state_mut().add_slot(3, 0);
            let mut now = NOW;
            b.tick(now);
            let xl = b.nodes()[x].link.unwrap();
            b.connected(now, xl, "10.0.0.1");
            let inbound = b.accept(now, "10.0.1.120", "10.0.0.1");
            for (mut m, seed, how) in msgs {
                aim(&mut m, seed);
                now += 37;
                let link = if how % 2 == 0 { inbound } else { b.nodes().get(1).and_then(|n| n.link).unwrap_or(inbound) };
                if b.links.get(link).is_none() {
                    continue;
                }
                if how >= 2 {
                    let bytes = wire::encode(&m);
                    b.bytes_in(now, link, &bytes);
                } else {
                    b.on_message(now, link, &m);
                }
                b.check_invariants(true);
                if seed % 3 == 0 {
                    b.tick(now);
                    b.check_invariants(true);
                }
            }
        }
    }
}
