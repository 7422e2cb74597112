//! Tests of the CLUSTER slot and epoch commands against a cluster state, with the error texts
//! of redis-server 7.0.15.

use super::slots::update_slots;
use super::*;
use crate::cluster::state::membership::MeetError;
use crate::cluster::state::{flag, ClusterNode, NodeId};
use crate::config::PreferredEndpointType;

fn state() -> (ClusterState, std::path::PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("tessera-cluster-cmd-{}-{}", std::process::id(), rand::random::<u64>()));
    let settings = ClusterSettings {
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
    };
    (ClusterState::new(settings), dir)
}

fn run(cs: &mut ClusterState, line: &str) -> Result<(), String> {
    let args: Vec<Vec<u8>> = line.split(' ').map(|a| a.as_bytes().to_vec()).collect();
    update_slots(cs, &args)
}

fn err(cs: &mut ClusterState, line: &str) -> String {
    run(cs, line).err().unwrap_or_else(|| panic!("{line} succeeded"))
}

#[test]
fn addslots_and_delslots_errors() {
    let (mut cs, _) = state();
    run(&mut cs, "cluster addslots 5 6 7 100").unwrap();
    run(&mut cs, "cluster ADDSLOTSRANGE 200 300 1000 1000").unwrap();
    assert_eq!(cs.count_node_slots(0), 4 + 101 + 1);
    assert_eq!(err(&mut cs, "cluster addslots 5"), "ERR Slot 5 is already busy");
    assert_eq!(err(&mut cs, "cluster addslots 16384"), "ERR Invalid or out of range slot");
    assert_eq!(err(&mut cs, "cluster addslots -1"), "ERR Invalid or out of range slot");
    assert_eq!(err(&mut cs, "cluster addslots abc"), "ERR Invalid or out of range slot");
    assert_eq!(err(&mut cs, "cluster addslots 9 9"), "ERR Slot 9 specified multiple times");
    // Every argument is parsed before any slot is checked.
    assert_eq!(err(&mut cs, "cluster addslots 5 x"), "ERR Invalid or out of range slot");
    assert_eq!(
        err(&mut cs, "cluster addslotsrange 10 5"),
        "ERR start slot number 10 is greater than end slot number 5"
    );
    assert_eq!(err(&mut cs, "cluster addslotsrange 5 6"), "ERR Slot 5 is already busy");
    assert_eq!(err(&mut cs, "cluster addslotsrange 8 9 9 10"), "ERR Slot 9 specified multiple times");
    // Ranges are checked pair by pair: a busy first pair wins over a bad second one.
    assert_eq!(err(&mut cs, "cluster addslotsrange 5 6 x 7"), "ERR Slot 5 is already busy");
    assert_eq!(
        err(&mut cs, "cluster addslotsrange 10 20 30"),
        "ERR wrong number of arguments for 'cluster|addslotsrange' command"
    );
    assert_eq!(err(&mut cs, "cluster delslots 9"), "ERR Slot 9 is already unassigned");
    assert_eq!(err(&mut cs, "cluster delslots 5 5"), "ERR Slot 5 specified multiple times");
    assert_eq!(err(&mut cs, "cluster delslotsrange 8 9"), "ERR Slot 8 is already unassigned");
    assert_eq!(err(&mut cs, "cluster delslotsrange 5 9"), "ERR Slot 8 is already unassigned");
    assert_eq!(
        err(&mut cs, "cluster delslotsrange 5 9 1"),
        "ERR wrong number of arguments for 'cluster|delslotsrange' command"
    );
    // Nothing changed through all the errors.
    assert_eq!(cs.count_node_slots(0), 106);
    run(&mut cs, "cluster delslots 5 100").unwrap();
    run(&mut cs, "cluster delslotsrange 200 250").unwrap();
    assert_eq!(cs.node_slot_ranges(0), vec![(6, 7), (251, 300), (1000, 1000)]);
    run(&mut cs, "cluster addslotsrange 0 5 8 250 301 999 1001 16383").unwrap();
    assert_eq!(cs.node_slot_ranges(0), vec![(0, 16383)]);
    cs.update_state(0);
    assert!(cs.update_state(10_000));
    assert!(cs.state_ok());
}

#[test]
fn addslots_clears_importing_and_delslots_frees_other_owners() {
    let (mut cs, _) = state();
    let other = NodeId::random();
    cs.importing_from.insert(42, other);
    run(&mut cs, "cluster addslots 42").unwrap();
    assert!(cs.importing_from.is_empty());
    let b = cs.add_node(ClusterNode::new(other, flag::MASTER));
    cs.add_slot(43, b);
    assert_eq!(err(&mut cs, "cluster addslots 43"), "ERR Slot 43 is already busy");
    run(&mut cs, "cluster delslots 43").unwrap();
    assert_eq!(cs.slot_owner(43), None);
}

#[test]
fn set_config_epoch_rules() {
    let (mut cs, _) = state();
    assert_eq!(apply_config_epoch(&mut cs, -1).err().unwrap(), "ERR Invalid config epoch specified: -1");
    apply_config_epoch(&mut cs, 5).unwrap();
    assert_eq!((cs.myself().config_epoch, cs.current_epoch), (5, 5));
    assert_eq!(apply_config_epoch(&mut cs, 7).err().unwrap(), "ERR Node config epoch is already non-zero");
    assert_eq!(apply_config_epoch(&mut cs, 0).err().unwrap(), "ERR Node config epoch is already non-zero");
    let (mut cs, _) = state();
    cs.add_node(ClusterNode::new(NodeId::random(), flag::MASTER));
    assert_eq!(
        apply_config_epoch(&mut cs, 3).err().unwrap(),
        "ERR The user can assign a config epoch only when the node does not know any other node."
    );
}

#[test]
fn table_matches_redis() {
    let cluster = crate::command::table::lookup(b"CLUSTER").unwrap();
    assert_eq!(cluster.arity, -2);
    let sub = |n: &str| crate::command::table::lookup_sub(cluster, n.as_bytes()).unwrap();
    assert_eq!(sub("addslotsrange").arity, -4);
    assert_eq!(sub("getkeysinslot").arity, 4);
    assert_eq!(sub("reset").arity, -2);
    assert!(sub("reset").has(flag_noscript()));
    assert_eq!(sub("keyslot").acl, &["@slow"]);
    assert_eq!(
        crate::command::table::resolve(&[b"cluster", b"keyslot"]).err().unwrap(),
        "ERR wrong number of arguments for 'cluster|keyslot' command"
    );
    assert_eq!(
        crate::command::table::resolve(&[b"cluster", b"foo"]).err().unwrap(),
        "ERR unknown subcommand 'foo'. Try CLUSTER HELP."
    );
    assert_eq!(crate::command::table::lookup(b"asking").unwrap().arity, 1);
    assert_eq!(HELP.len(), 56);
    assert_eq!(sub("slaves").arity, 3);
    assert_eq!(sub("myshardid").since, "7.2.0");
}

fn flag_noscript() -> u32 {
    crate::command::spec::flag::NOSCRIPT
}

#[test]
fn os_error_suffix_is_dropped() {
    assert_eq!(
        strip_os_error("error saving the cluster node config: Permission denied (os error 13)"),
        "error saving the cluster node config: Permission denied"
    );
    assert_eq!(strip_os_error("plain"), "plain");
}

#[test]
fn meet_checks_address_and_ports_as_redis() {
    let (mut cs, _) = state();
    let id = NodeId::random();
    assert_eq!(cs.start_handshake("1.2.3", 7000, 17000, id, 1), Err(MeetError::Invalid));
    assert_eq!(cs.start_handshake("localhost", 7000, 17000, id, 1), Err(MeetError::Invalid));
    assert_eq!(cs.start_handshake("127.0.0.1", 0, 10000, id, 1), Err(MeetError::Invalid));
    assert_eq!(cs.start_handshake("127.0.0.1", 60000, 70000, id, 1), Err(MeetError::Invalid));
    assert_eq!(cs.start_handshake("127.0.0.1", 7000, 0, id, 1), Err(MeetError::Invalid));
    // IPv6 is kept in its normal form.
    let i = cs.start_handshake("0:0::1", 7000, 17000, id, 1).unwrap();
    let n = &cs.nodes()[i];
    assert_eq!((n.ip.as_str(), n.port, n.cport, n.ctime_ms), ("::1", 7000, 17000, 1));
    assert_eq!(n.flags, flag::HANDSHAKE | flag::MEET);
    assert_eq!(cs.start_handshake("::1", 7000, 17000, NodeId::random(), 2), Err(MeetError::InProgress));
    assert!(cs.start_handshake("::1", 7001, 17001, NodeId::random(), 2).is_ok());
    assert_eq!(crate::cluster::state::nodes_conf::nodes_text(&cs, 0).matches("handshake").count(), 2);
}

#[test]
fn forget_rules_and_blacklist() {
    let (mut cs, _) = state();
    let b = NodeId::random();
    let bi = cs.add_node(ClusterNode::new(b, flag::MASTER));
    cs.add_slot(7, bi);
    cs.importing_from.insert(8, b);
    assert_eq!(cs.forget(b"nope", 0).unwrap_err(), "ERR Unknown node nope");
    let me = cs.myself().id;
    assert_eq!(cs.forget(me.as_str().as_bytes(), 0).unwrap_err(), "ERR I tried hard but I can't forget myself...");
    cs.forget(b.as_str().as_bytes(), 1000).unwrap();
    assert_eq!(cs.nodes().len(), 1);
    assert_eq!(cs.slot_owner(7), None);
    assert!(cs.importing_from.is_empty());
    assert!(cs.blacklisted(&b, 61_000));
    assert!(!cs.blacklisted(&b, 61_001));
    // A replica cannot forget its master.
    let m = NodeId::random();
    cs.add_node(ClusterNode::new(m, flag::MASTER));
    let me = cs.myself_mut();
    me.flags = flag::MYSELF | flag::SLAVE;
    me.master = Some(m);
    assert_eq!(cs.forget(m.as_str().as_bytes(), 0).unwrap_err(), "ERR Can't forget my master!");
    cs.check_invariants(true);
}

#[test]
fn links_reply_lists_links_by_node() {
    let (mut cs, _) = state();
    let b = NodeId::random();
    let bi = cs.add_node(ClusterNode::new(b, flag::MASTER));
    let out_link = cs.links.open(false, Some(b), 1234, "10.0.0.2", "");
    let in_link = cs.links.open(true, Some(b), 1300, "10.0.0.2", "10.0.0.1");
    cs.nodes_mut()[bi].link = Some(out_link);
    cs.nodes_mut()[bi].inbound_link = Some(in_link);
    let mut buf = Vec::new();
    describe::write_links(&cs, &mut Out::new(&mut buf, false));
    let text = String::from_utf8(buf).unwrap();
    let want = format!(
        "*2\r\n*12\r\n$9\r\ndirection\r\n$2\r\nto\r\n$4\r\nnode\r\n$40\r\n{b}\r\n$11\r\ncreate-time\r\n:1234\r\n$6\r\nevents\r\n$0\r\n\r\n$21\r\nsend-buffer-allocated\r\n:0\r\n$16\r\nsend-buffer-used\r\n:0\r\n*12\r\n$9\r\ndirection\r\n$4\r\nfrom\r\n$4\r\nnode\r\n$40\r\n{b}\r\n$11\r\ncreate-time\r\n:1300\r\n$6\r\nevents\r\n$1\r\nr\r\n$21\r\nsend-buffer-allocated\r\n:0\r\n$16\r\nsend-buffer-used\r\n:0\r\n"
    );
    assert_eq!(text, want);
}
