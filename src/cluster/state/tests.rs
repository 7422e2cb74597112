//! Tests of the cluster state, nodes.conf and the CLUSTER reply shapes. Expected texts were
//! taken from a real redis-server 7.0.15 in cluster mode.

use super::nodes_conf::{node_line, nodes_text, parse, render};
use super::*;
use crate::resp::Out;

/// A unique scratch directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "tessera-cluster-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn settings(dir: &std::path::Path) -> ClusterSettings {
    ClusterSettings {
        config_path: dir.join("nodes.conf"),
        port: 7000,
        cluster_port: 0,
        announce_ip: String::new(),
        announce_port: 0,
        announce_bus_port: 0,
        announce_hostname: String::new(),
        require_full_coverage: true,
        preferred_endpoint: PreferredEndpointType::Ip,
        node_timeout_ms: 15_000,
        allow_replica_migration: true,
        replica_no_failover: false,
    }
}

const ID_A: &str = "07202f75c3c2fdc4b9f132df84a43f85f4150a7f";
const ID_B: &str = "47c07fef620be2a2569e4c93d99e74317bb986fa";
const ID_C: &str = "f569dec11b9684d3b621321564859118bd10ef9e";

fn id(s: &str) -> NodeId {
    NodeId::parse(s.as_bytes()).unwrap()
}

fn with_id(cs: &mut ClusterState, s: &str) {
    cs.myself_mut().id = id(s);
}

fn resp(f: impl FnOnce(&mut Out), resp3: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    f(&mut Out::new(&mut buf, resp3));
    buf
}

#[test]
fn new_node_line_matches_redis() {
    let d = TempDir::new("line");
    let mut cs = ClusterState::new(settings(&d.0));
    with_id(&mut cs, ID_A);
    assert_eq!(node_line(&cs, 0), format!("{ID_A} :7000@17000 myself,master - 0 0 0 connected"));
    for s in [5u16, 6, 7, 100] {
        assert!(cs.add_slot(s, 0));
    }
    for s in 200..=300 {
        assert!(cs.add_slot(s, 0));
    }
    assert!(cs.add_slot(1000, 0));
    assert_eq!(node_line(&cs, 0), format!("{ID_A} :7000@17000 myself,master - 0 0 0 connected 5-7 100 200-300 1000"));
    cs.migrating_to.insert(4, id(ID_B));
    cs.importing_from.insert(2, id(ID_C));
    assert!(node_line(&cs, 0).ends_with(&format!(" 1000 [2-<-{ID_C}] [4->-{ID_B}]")));
}

#[test]
fn announced_address_and_hostname() {
    let d = TempDir::new("announce");
    let mut s = settings(&d.0);
    s.announce_ip = "10.1.2.3".into();
    s.announce_bus_port = 5555;
    s.announce_hostname = "host-a.example".into();
    let mut cs = ClusterState::new(s);
    with_id(&mut cs, ID_B);
    for slot in 0..=10 {
        cs.add_slot(slot, 0);
    }
    assert_eq!(
        node_line(&cs, 0),
        format!("{ID_B} 10.1.2.3:7000@5555,host-a.example myself,master - 0 0 0 connected 0-10")
    );
    // CLUSTER SLOTS and SHARDS, byte for byte as redis-server 7.0.15 with the same settings.
    let slots = resp(|o| describe::write_slots(&cs, o), false);
    assert_eq!(
        slots,
        format!("*1\r\n*3\r\n:0\r\n:10\r\n*4\r\n$8\r\n10.1.2.3\r\n:7000\r\n$40\r\n{ID_B}\r\n*2\r\n$8\r\nhostname\r\n$14\r\nhost-a.example\r\n").as_bytes()
    );
    let shards = resp(|o| describe::write_shards(&cs, o), false);
    assert_eq!(
        shards,
        format!("*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:10\r\n$5\r\nnodes\r\n*1\r\n*16\r\n$2\r\nid\r\n$40\r\n{ID_B}\r\n$4\r\nport\r\n:7000\r\n$2\r\nip\r\n$8\r\n10.1.2.3\r\n$8\r\nendpoint\r\n$8\r\n10.1.2.3\r\n$8\r\nhostname\r\n$14\r\nhost-a.example\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n").as_bytes()
    );
    // Hostname preferred: the IP moves into the metadata map.
    let mut s = cs.settings.clone();
    s.preferred_endpoint = PreferredEndpointType::Hostname;
    assert!(cs.refresh(s));
    let slots = resp(|o| describe::write_slots(&cs, o), false);
    assert_eq!(
        slots,
        format!("*1\r\n*3\r\n:0\r\n:10\r\n*4\r\n$14\r\nhost-a.example\r\n:7000\r\n$40\r\n{ID_B}\r\n*2\r\n$2\r\nip\r\n$8\r\n10.1.2.3\r\n").as_bytes()
    );
    assert_eq!(cs.view().nodes[0].ip, "host-a.example");
    // Unannouncing the IP forgets it (Redis then learns it again from peers).
    let mut s = cs.settings.clone();
    s.announce_ip.clear();
    s.preferred_endpoint = PreferredEndpointType::Ip;
    assert!(cs.refresh(s.clone()));
    assert_eq!(cs.myself().ip, "");
    s.announce_ip = "10.1.2.3".into();
    assert!(cs.refresh(s.clone()));
    assert!(!cs.refresh(s));
    let mut s = cs.settings.clone();
    s.preferred_endpoint = PreferredEndpointType::UnknownEndpoint;
    cs.refresh(s);
    let slots = resp(|o| describe::write_slots(&cs, o), false);
    assert_eq!(
        slots,
        format!("*1\r\n*3\r\n:0\r\n:10\r\n*4\r\n$-1\r\n:7000\r\n$40\r\n{ID_B}\r\n*4\r\n$2\r\nip\r\n$8\r\n10.1.2.3\r\n$8\r\nhostname\r\n$14\r\nhost-a.example\r\n").as_bytes()
    );
}

#[test]
fn slots_ranges_coalesced_resp2_and_resp3() {
    let d = TempDir::new("slots");
    let mut cs = ClusterState::new(settings(&d.0));
    with_id(&mut cs, ID_A);
    for s in [5u16, 6, 7, 100, 1000] {
        cs.add_slot(s, 0);
    }
    for s in 200..=300 {
        cs.add_slot(s, 0);
    }
    let entry =
        |a: u16, b: u16, map: &str| format!("*3\r\n:{a}\r\n:{b}\r\n*4\r\n$0\r\n\r\n:7000\r\n$40\r\n{ID_A}\r\n{map}");
    let want2 = format!(
        "*4\r\n{}{}{}{}",
        entry(5, 7, "*0\r\n"),
        entry(100, 100, "*0\r\n"),
        entry(200, 300, "*0\r\n"),
        entry(1000, 1000, "*0\r\n")
    );
    assert_eq!(String::from_utf8(resp(|o| describe::write_slots(&cs, o), false)).unwrap(), want2);
    let want3 = format!(
        "*4\r\n{}{}{}{}",
        entry(5, 7, "%0\r\n"),
        entry(100, 100, "%0\r\n"),
        entry(200, 300, "%0\r\n"),
        entry(1000, 1000, "%0\r\n")
    );
    assert_eq!(String::from_utf8(resp(|o| describe::write_slots(&cs, o), true)).unwrap(), want3);
    // SHARDS in RESP3, as Redis 7.0.15 (no hostname: 7 fields).
    let shards = String::from_utf8(resp(|o| describe::write_shards(&cs, o), true)).unwrap();
    assert_eq!(
        shards,
        format!("*1\r\n%2\r\n$5\r\nslots\r\n*8\r\n:5\r\n:7\r\n:100\r\n:100\r\n:200\r\n:300\r\n:1000\r\n:1000\r\n$5\r\nnodes\r\n*1\r\n%7\r\n$2\r\nid\r\n$40\r\n{ID_A}\r\n$4\r\nport\r\n:7000\r\n$2\r\nip\r\n$0\r\n\r\n$8\r\nendpoint\r\n$0\r\n\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n")
    );
    // Slots of two owners next to each other stay separate ranges.
    let other = cs.add_node(ClusterNode::new(id(ID_B), flag::MASTER));
    cs.add_slot(8, other);
    assert_eq!(cs.slot_runs(), vec![(5, 7, 0), (8, 8, other), (100, 100, 0), (200, 300, 0), (1000, 1000, 0)]);
}

#[test]
fn info_text_and_state() {
    let d = TempDir::new("info");
    let mut cs = ClusterState::new(settings(&d.0));
    cs.update_state(0);
    assert!(!cs.state_ok());
    assert_eq!(
        describe::info_text(&cs),
        "cluster_state:fail\r\ncluster_slots_assigned:0\r\ncluster_slots_ok:0\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:0\r\ncluster_current_epoch:0\r\ncluster_my_epoch:0\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"
    );
    for s in 0..16384 {
        cs.add_slot(s, 0);
    }
    assert!(cs.update_state(100_000));
    assert!(cs.state_ok());
    cs.messages_sent[0] = 3;
    cs.messages_received[1] = 2;
    let info = describe::info_text(&cs);
    assert!(info.starts_with("cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"));
    assert!(info.contains("cluster_size:1\r\n"));
    assert!(info.contains(
        "cluster_stats_messages_ping_sent:3\r\ncluster_stats_messages_sent:3\r\ncluster_stats_messages_pong_received:2\r\ncluster_stats_messages_received:2\r\n"
    ));
    cs.del_slot(77);
    assert!(cs.update_state(100_001));
    assert!(!cs.state_ok());
    // Without full coverage, partial ownership is fine; no slots at all is not.
    let mut s = cs.settings.clone();
    s.require_full_coverage = false;
    assert!(cs.refresh(s));
    assert!(cs.update_state(200_000));
    assert!(cs.state_ok());
    cs.del_node_slots(0);
    cs.update_state(200_001);
    assert!(!cs.state_ok());
}

#[test]
fn state_delays_as_redis() {
    let d = TempDir::new("delays");
    let mut cs = ClusterState::new(settings(&d.0));
    for s in 0..16384 {
        cs.add_slot(s, 0);
    }
    // A master with every slot still waits 2 s after its first update (restart case).
    assert!(!cs.update_state(1_000));
    assert!(!cs.cron(2_999));
    assert!(cs.cron(3_000));
    assert!(cs.state_ok());
    // A node that had no slots was "in a minority" until given them: ok 5 s later at the
    // default node timeout (500 ms at the smallest timeouts).
    let mut cs = ClusterState::new(settings(&d.0));
    cs.update_state(0);
    for t in (2_000..10_000).step_by(100) {
        assert!(!cs.cron(t));
    }
    for s in 0..16384 {
        cs.add_slot(s, 0);
    }
    assert!(!cs.update_state(10_000));
    assert!(!cs.cron(14_899));
    assert!(cs.cron(14_900));
    let mut s = settings(&d.0);
    s.node_timeout_ms = 100;
    let mut cs = ClusterState::new(s);
    cs.update_state(0);
    cs.cron(3_000);
    (0..16384).for_each(|s| assert!(cs.add_slot(s, 0)));
    assert!(!cs.update_state(3_100));
    assert!(cs.cron(3_500));
    // Going to fail is immediate.
    cs.del_slot(5);
    assert!(cs.update_state(3_501));
    assert!(!cs.state_ok());
}

#[test]
fn epochs() {
    let d = TempDir::new("epochs");
    let mut cs = ClusterState::new(settings(&d.0));
    assert!(cs.bump_epoch());
    assert_eq!((cs.current_epoch, cs.myself().config_epoch), (1, 1));
    assert!(!cs.bump_epoch(), "already the highest epoch: STILL");
    cs.current_epoch = 5;
    assert!(cs.bump_epoch());
    assert_eq!(cs.myself().config_epoch, 6);
    for s in 0..10 {
        cs.add_slot(s, 0);
    }
    let old = cs.myself().id;
    cs.reset(false);
    assert_eq!((cs.myself().id, cs.myself().config_epoch, cs.count_node_slots(0)), (old, 6, 0));
    cs.reset(true);
    assert_ne!(cs.myself().id, old);
    assert_eq!((cs.current_epoch, cs.myself().config_epoch, cs.last_vote_epoch), (0, 0, 0));
}

#[test]
fn nodes_conf_round_trip() {
    let d = TempDir::new("roundtrip");
    let mut s = settings(&d.0);
    s.announce_hostname = "h1".into();
    let mut cs = ClusterState::load_or_create_with(s.clone(), 0).unwrap();
    let text = std::fs::read_to_string(&s.config_path).unwrap();
    assert_eq!(text, render(&cs));
    assert!(text.starts_with(&format!("{} :7000@17000,h1 myself,master - 0 0 0 connected\n", cs.myself().id)));
    assert!(text.ends_with(&format!("vars currentEpoch 0 lastVoteEpoch 0 myShardId {}\n", cs.myself().shard_id)));
    for slot in (0..16384).filter(|s| s % 3 != 0) {
        cs.add_slot(slot, 0);
    }
    cs.myself_mut().ip = "127.0.0.1".into();
    cs.bump_epoch();
    cs.last_vote_epoch = 4;
    let mut b = ClusterNode::new(id(ID_B), flag::SLAVE);
    b.master = Some(cs.myself().id);
    b.ip = "::1".into();
    b.port = 7001;
    b.cport = 17001;
    b.pong_received_ms = 1234;
    cs.add_node(b);
    let c = cs.add_node(ClusterNode::new(id(ID_C), flag::MASTER | flag::FAIL));
    cs.add_slot(0, c);
    cs.migrating_to.insert(3, id(ID_C));
    cs.save().unwrap();
    let saved = std::fs::read_to_string(&s.config_path).unwrap();
    let back = ClusterState::load_or_create_with(s.clone(), 0).unwrap();
    assert_eq!(render(&back), saved);
    assert_eq!(back.myself().id, cs.myself().id);
    assert_eq!(back.myself().shard_id, cs.myself().shard_id);
    assert_eq!(back.myself().ip, "127.0.0.1");
    assert_eq!(back.slot_owners(), cs.slot_owners());
    assert_eq!((back.current_epoch, back.last_vote_epoch), (1, 4));
    assert_eq!(back.nodes()[1].master, Some(cs.myself().id));
    assert_eq!(back.nodes()[1].ip, "::1");
    assert_eq!(back.migrating_to.get(&3), Some(&id(ID_C)));
    assert_eq!(
        nodes_text(&back, 0).lines().nth(1).unwrap(),
        format!("{ID_B} ::1:7001@17001 slave {} 0 1234 1 disconnected", cs.myself().id)
    );
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(&d.0).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("nodes.conf")]);
}

#[test]
fn reads_redis_files() {
    // Written by redis-server 7.0.15 (first save, before the ports are known) ...
    let text = format!("{ID_A} :0@0 myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n");
    let p = parse(text.as_bytes()).unwrap();
    assert_eq!((p.nodes.len(), p.nodes[0].id), (1, id(ID_A)));
    // ... by Redis 7.2 with aux fields, myself not first, an old-style address, padding lines.
    let text = format!(
        "{ID_B} 127.0.0.1:7001@17001,,tls-port=0,shard-id={ID_C} master - 0 1700000000000 2 connected 100-200\n\
         {ID_A} 127.0.0.1:7000,hostA myself,master - 0 0 1 connected 0-99 201\n\
         {ID_C} 127.0.0.1:7002 slave,fail? {ID_B} 0 0 2 disconnected\n\
         vars currentEpoch 3 lastVoteEpoch 1 somethingNew 7\n\n\n"
    );
    let p = parse(text.as_bytes()).unwrap();
    assert_eq!(p.nodes[0].id, id(ID_A));
    assert_eq!(p.nodes[0].hostname, "hostA");
    assert_eq!(p.nodes[0].cport, 17000);
    assert_eq!(p.nodes[1].shard_id, id(ID_C));
    assert_eq!(p.slot_owner[150], 1);
    assert_eq!(p.slot_owner[201], 0);
    assert_eq!(p.slot_owner[202], crate::cluster::view::UNASSIGNED);
    assert_eq!(p.nodes[2].flags, flag::SLAVE | flag::PFAIL);
    assert_eq!(p.current_epoch, 3);
}

#[test]
fn corrupt_files_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("garbage\n", 1, "at least 8 fields"),
        (
            &format!("{ID_A} :7000@17000 myself,master - 0 0 0 connected\nvars currentEpoch x lastVoteEpoch 0\n"),
            2,
            "currentEpoch",
        ),
        (&format!("{ID_A} :7000@17000 myself,master - 0 0 0 connected 16384\n"), 1, "invalid slot"),
        (&format!("{ID_A} :7000@17000 myself,master - 0 0 0 connected 9-3\n"), 1, "invalid slot"),
        (&format!("{ID_A} :7000@17000 myself,bogus - 0 0 0 connected\n"), 1, "unknown flag 'bogus'"),
        (&format!("{ID_A} 7000 myself,master - 0 0 0 connected\n"), 1, "no port"),
        (&format!("{ID_A} :70000@1 myself,master - 0 0 0 connected\n"), 1, "bad port"),
        (&format!("{ID_A} :7000@17000 master - 0 0 0 connected\n"), 1, "no node is flagged myself"),
        (
            &format!("{ID_A} :1@2 myself,master - 0 0 0 connected\n{ID_B} :1@2 myself,master - 0 0 0 connected\n"),
            2,
            "second node",
        ),
        (
            &format!("{ID_A} :1@2 myself,master - 0 0 0 connected\n{ID_A} :1@2 master - 0 0 0 connected\n"),
            2,
            "listed twice",
        ),
        ("XYZ :1@2 myself,master - 0 0 0 connected\n", 1, "invalid node id"),
        (&format!("{ID_A} :1@2 myself,master - 0 0 0 up\n"), 1, "link state"),
        (&format!("{ID_A} :1@2 myself,master - 0 0 0 connected [5->-xyz]\n"), 1, "open slot"),
        (&format!("{ID_A} :1@2 myself,master - 0 0 0 connected\nvars currentEpoch\n"), 2, "pairs"),
    ];
    for (text, line, what) in cases {
        let (l, why) = parse(text.as_bytes()).err().unwrap_or_else(|| panic!("accepted {text:?}"));
        assert_eq!(l, *line, "{text:?}: {why}");
        assert!(why.contains(what), "{text:?}: {why}");
    }
    // Through startup: the error names the file and the line; the file is left alone.
    let d = TempDir::new("corrupt");
    let s = settings(&d.0);
    std::fs::write(&s.config_path, format!("{ID_A} :1@2 myself,master - 0 0 0 connected\n{ID_B} :1@2 nonsense\n"))
        .unwrap();
    let err = ClusterState::load_or_create_with(s.clone(), 0).err().unwrap();
    assert!(err.contains("corrupted cluster config file"), "{err}");
    assert!(err.contains(&s.config_path.display().to_string()), "{err}");
    assert!(err.contains("line 2"), "{err}");
    // An empty file is a new node, as Redis.
    std::fs::write(&s.config_path, "").unwrap();
    let cs = ClusterState::load_or_create_with(s.clone(), 0).unwrap();
    assert_eq!(std::fs::read_to_string(&s.config_path).unwrap(), render(&cs));
}

#[test]
fn unwritable_dir_is_a_startup_error() {
    let d = TempDir::new("nodir");
    let mut s = settings(&d.0);
    s.config_path = d.0.join("missing-dir").join("nodes.conf");
    let err = ClusterState::load_or_create_with(s, 0).err().unwrap();
    assert!(err.contains("error saving the cluster node config"), "{err}");
}

#[test]
fn view_routes_with_myself_first() {
    let d = TempDir::new("view");
    let mut cs = ClusterState::new(settings(&d.0));
    let b = cs.add_node(ClusterNode::new(id(ID_B), flag::MASTER));
    cs.myself_mut().ip = "1.2.3.4".into();
    cs.add_slot(1, 0);
    cs.add_slot(2, b);
    let v = cs.view();
    assert!(v.enabled);
    assert_eq!(v.myself.id, cs.myself().id.to_string());
    assert_eq!((v.myself.ip.as_str(), v.myself.port), ("1.2.3.4", 7000));
    assert_eq!(v.nodes[0].id, v.myself.id);
    assert_eq!(v.slot_owner[1], 0);
    assert_eq!(v.slot_owner[2], b as u16);
    assert_eq!(v.slot_owner[3], crate::cluster::view::UNASSIGNED);
    let bits = cs.node_slot_bitmap(0);
    assert_eq!(bits[0], 0b10);
    assert_eq!(cs.node_slot_bitmap(b)[0], 0b100);
    assert!(bits[1..].iter().all(|&b| b == 0));
}
