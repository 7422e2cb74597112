//! The cluster bus against a real redis-server 7.0 in cluster mode: our encoder's MEET is
//! understood, what Redis sends back (PONG, then its own PING on a connection it opens to us)
//! decodes and re-encodes byte for byte; then a whole `Bus`, driven by a small socket loop in
//! this file, joins two Redis nodes, agrees with them on slots and epochs, relays PUBLISH, and
//! sees a killed Redis node go PFAIL then FAIL.

mod common;

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{free_cluster_port, redis_cli, Server, Spec};
use tessera::cluster::bus::frame::FrameReader;
use tessera::cluster::bus::wire::{self, mflag0, msg_type, Body, Header, Message, PingExt};
use tessera::cluster::bus::{Action, Bus, LinkId};
use tessera::cluster::state::{flag, ClusterSettings, ClusterState, NodeId};
use tessera::config::PreferredEndpointType;

/// Reads one whole frame from a blocking socket.
fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut r = FrameReader::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(f) = r.next_frame().expect("a valid frame") {
            return f.to_vec();
        }
        assert!(Instant::now() < deadline, "no frame from redis");
        let n = s.read(&mut buf).expect("read from redis");
        assert!(n > 0, "redis closed the bus link");
        r.feed(&buf[..n]);
    }
}

fn our_header(t: u16, id: NodeId, port: u16) -> Header {
    let mut h = Header::new(t);
    h.sender = id;
    h.port = port;
    h.cport = port + 10000;
    h.flags = flag::MYSELF | flag::MASTER;
    h.state = wire::STATE_FAIL;
    h.mflags[0] = mflag0::EXT_DATA;
    h.extensions = 1;
    h
}

fn ours(t: u16, id: NodeId, port: u16) -> Vec<u8> {
    let body = Body::Ping { gossip: vec![], exts: vec![PingExt::Hostname(b"tessera-test".to_vec())] };
    wire::encode(&Message { header: our_header(t, id, port), body })
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn redis_messages_decode_and_reencode_byte_for_byte() {
    let redis = Server::start(Spec::redis().cluster().args(&["--cluster-announce-hostname", "redis-host.example"]));
    let redis_id = redis_cli(redis.port, &["cluster", "myid"]).trim().to_string();
    let me_port = free_cluster_port();
    let listener = TcpListener::bind(("127.0.0.1", me_port + 10000)).expect("bind our bus port");
    let me = NodeId::random();

    let mut out = TcpStream::connect(("127.0.0.1", redis.port + 10000)).expect("connect to the bus port");
    out.write_all(&ours(msg_type::MEET, me, me_port)).unwrap();
    let pong = read_frame(&mut out);
    let m = wire::decode(&pong).expect("redis's PONG decodes");
    assert_eq!(wire::encode(&m), pong, "PONG re-encodes byte for byte");
    assert_eq!(m.header.msg_type, msg_type::PONG);
    assert_eq!(m.header.sender.as_str(), redis_id);
    assert_eq!((m.header.port, m.header.cport), (redis.port, redis.port + 10000));
    assert_eq!(m.header.flags, flag::MYSELF | flag::MASTER);
    assert_eq!(m.header.slaveof, NodeId::NULL);
    assert_eq!(m.header.state, wire::STATE_FAIL);
    match &m.body {
        Body::Ping { gossip, exts } => {
            // It knows only us (in handshake), which it does not gossip about.
            assert!(gossip.is_empty(), "{gossip:?}");
            assert_eq!(exts, &vec![PingExt::Hostname(b"redis-host.example".to_vec())]);
        }
        other => panic!("{other:?}"),
    }

    // Redis now connects to the address we gave and PINGs the node it knows by a random name.
    listener.set_nonblocking(false).unwrap();
    let (mut inbound, _) = listener.accept().expect("redis connects to our bus port");
    inbound.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let ping = read_frame(&mut inbound);
    let p = wire::decode(&ping).expect("redis's PING decodes");
    assert_eq!(wire::encode(&p), ping, "PING re-encodes byte for byte");
    assert_eq!(p.header.msg_type, msg_type::PING);
    assert_eq!(p.header.sender.as_str(), redis_id);
    inbound.write_all(&ours(msg_type::PONG, me, me_port)).unwrap();

    // The PONG with our real name completes the handshake on Redis's side. Redis reads the
    // extensions of a known sender only, so our hostname arrives with the next PING.
    for _ in 0..2 {
        inbound.write_all(&ours(msg_type::PING, me, me_port)).unwrap();
        let f = read_frame(&mut inbound);
        let d = wire::decode(&f).unwrap();
        assert_eq!(wire::encode(&d), f);
        assert_eq!(d.header.msg_type, msg_type::PONG);
    }
    wait_for("redis to know our node", Duration::from_secs(10), || {
        let nodes = redis_cli(redis.port, &["cluster", "nodes"]);
        nodes.lines().any(|l| {
            l.starts_with(me.as_str())
                && l.contains(&format!("127.0.0.1:{me_port}@{},tessera-test master", me_port + 10000))
                && !l.contains("handshake")
        })
    });
}

/// A minimal event loop for one `Bus` on blocking-free std sockets.
struct Driver {
    bus: Bus,
    listener: TcpListener,
    socks: HashMap<LinkId, TcpStream>,
    last_tick: Instant,
    delivered: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Driver {
    fn new(port: u16, node_timeout_ms: u64, dir: &std::path::Path) -> Driver {
        let settings = ClusterSettings {
            config_path: dir.join("nodes.conf"),
            port,
            cluster_port: port + 10000,
            announce_ip: String::new(),
            announce_port: 0,
            announce_bus_port: 0,
            announce_hostname: String::new(),
            require_full_coverage: true,
            preferred_endpoint: PreferredEndpointType::Ip,
            node_timeout_ms,
            allow_replica_migration: true,
            replica_no_failover: false,
        };
        let mut st = ClusterState::new(settings);
        st.quiet_log = true;
        let listener = TcpListener::bind(("127.0.0.1", port + 10000)).expect("bind our bus port");
        listener.set_nonblocking(true).unwrap();
        Driver { bus: Bus::new(st, 42), listener, socks: HashMap::new(), last_tick: Instant::now(), delivered: vec![] }
    }

    fn now_ms() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
    }

    fn apply(&mut self, actions: Vec<Action>) {
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Connect { link, ip, port, .. } => match TcpStream::connect((ip.as_str(), port)) {
                    Ok(s) => {
                        s.set_nonblocking(true).unwrap();
                        let local = s.local_addr().map(|a| a.ip().to_string()).unwrap_or_default();
                        self.socks.insert(link, s);
                        queue.extend(self.bus.connected(Self::now_ms(), link, &local));
                    }
                    Err(_) => queue.extend(self.bus.closed(Self::now_ms(), link)),
                },
                Action::Send { link, bytes } => {
                    let ok = self.socks.get_mut(&link).is_some_and(|s| write_all_nb(s, &bytes));
                    if ok {
                        self.bus.written(link, bytes.len());
                    } else {
                        self.socks.remove(&link);
                        queue.extend(self.bus.closed(Self::now_ms(), link));
                    }
                }
                Action::Close { link } => {
                    self.socks.remove(&link);
                }
                Action::SaveConfig => self.bus.save().expect("nodes.conf written"),
                Action::Deliver { channel, message, .. } => self.delivered.push((channel, message)),
                Action::PublishView | Action::DeleteKeysInSlots { .. } | Action::ReplicateFrom { .. } => {}
            }
        }
    }

    /// Runs the loop for `d`.
    fn pump(&mut self, d: Duration) {
        let end = Instant::now() + d;
        let mut buf = vec![0u8; 64 * 1024];
        while Instant::now() < end {
            while let Ok((s, peer)) = self.listener.accept() {
                s.set_nonblocking(true).unwrap();
                let local = s.local_addr().map(|a| a.ip().to_string()).unwrap_or_default();
                let link = self.bus.accept(Self::now_ms(), &peer.ip().to_string(), &local);
                self.socks.insert(link, s);
            }
            let links: Vec<LinkId> = self.socks.keys().copied().collect();
            for link in links {
                let mut closed = false;
                let mut got = Vec::new();
                if let Some(s) = self.socks.get_mut(&link) {
                    loop {
                        match s.read(&mut buf) {
                            Ok(0) => {
                                closed = true;
                                break;
                            }
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(_) => {
                                closed = true;
                                break;
                            }
                        }
                    }
                }
                if !got.is_empty() {
                    let a = self.bus.bytes_in(Self::now_ms(), link, &got);
                    self.apply(a);
                }
                if closed && self.socks.remove(&link).is_some() {
                    let a = self.bus.closed(Self::now_ms(), link);
                    self.apply(a);
                }
            }
            if self.last_tick.elapsed() >= Duration::from_millis(100) {
                self.last_tick = Instant::now();
                let a = self.bus.tick(Self::now_ms());
                self.apply(a);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn pump_until(&mut self, what: &str, limit: Duration, mut f: impl FnMut(&mut Driver) -> bool) {
        let deadline = Instant::now() + limit;
        while !f(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            self.pump(Duration::from_millis(100));
        }
    }
}

fn write_all_nb(s: &mut TcpStream, mut data: &[u8]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !data.is_empty() {
        match s.write(data) {
            Ok(0) => return false,
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(_) => return false,
        }
    }
    true
}

fn node_line(port: u16, id: &str) -> Option<String> {
    redis_cli(port, &["cluster", "nodes"]).lines().find(|l| l.starts_with(id)).map(|l| l.to_string())
}

#[test]
fn a_bus_joins_redis_nodes_agrees_on_slots_and_detects_a_failure() {
    let args = ["--cluster-node-timeout", "2000"];
    let r1 = Server::start(Spec::redis().cluster().args(&args));
    let mut r2 = Server::start(Spec::redis().cluster().args(&args));
    let id1 = redis_cli(r1.port, &["cluster", "myid"]).trim().to_string();
    let id2 = redis_cli(r2.port, &["cluster", "myid"]).trim().to_string();
    let dir = common::TempDir::new("bus-driver");
    let me_port = free_cluster_port();
    let mut d = Driver::new(me_port, 2000, dir.path());
    let me = d.bus.myself().id.as_str().to_string();

    assert_eq!(redis_cli(r1.port, &["cluster", "addslotsrange", "0", "5000"]).trim(), "OK");
    assert_eq!(redis_cli(r2.port, &["cluster", "addslotsrange", "5001", "10000"]).trim(), "OK");
    for s in 10001..16384 {
        d.bus.state_mut().add_slot(s, 0);
    }
    // We meet r1; r1 meets r2; we learn r2 from r1's gossip and connect to it ourselves.
    assert!(d.bus.meet(Driver::now_ms(), "127.0.0.1", r1.port, r1.port + 10000));
    assert_eq!(redis_cli(r1.port, &["cluster", "meet", "127.0.0.1", &r2.port.to_string()]).trim(), "OK");
    d.pump_until("all three nodes to agree", Duration::from_secs(30), |d| {
        let st = d.bus.state();
        let knows = |id: &str| st.nodes().iter().any(|n| n.id.as_str() == id && !n.in_handshake() && n.link.is_some());
        let owner = |slot: u16| st.slot_owner(slot).map(|o| st.nodes()[o].id.as_str().to_string());
        let ours_seen = [r1.port, r2.port].iter().all(|&p| {
            node_line(p, &me).is_some_and(|l| l.contains(" master - ") && l.ends_with("connected 10001-16383"))
        });
        knows(&id1)
            && knows(&id2)
            && owner(0).as_deref() == Some(id1.as_str())
            && owner(5001).as_deref() == Some(id2.as_str())
            && ours_seen
    });
    // Config epochs collide at 0 and are resolved until all three differ, as Redis does.
    d.pump_until("distinct config epochs", Duration::from_secs(30), |d| {
        let nodes = redis_cli(r1.port, &["cluster", "nodes"]);
        let mut epochs: Vec<u64> = nodes.lines().filter_map(|l| l.split(' ').nth(6)?.parse().ok()).collect();
        let ours: Vec<u64> = d.bus.nodes().iter().map(|n| n.config_epoch).collect();
        epochs.sort_unstable();
        epochs.dedup();
        let mut ours_sorted = ours.clone();
        ours_sorted.sort_unstable();
        epochs.len() == 3 && ours_sorted == epochs
    });
    d.pump_until("cluster_state:ok everywhere", Duration::from_secs(30), |d| {
        d.bus.state_ok()
            && [r1.port, r2.port].iter().all(|&p| redis_cli(p, &["cluster", "info"]).contains("cluster_state:ok"))
    });
    // Our nodes.conf names all three.
    let conf = std::fs::read_to_string(dir.path().join("nodes.conf")).unwrap();
    assert!(conf.contains(&id1) && conf.contains(&id2), "{conf}");

    // PUBLISH on a Redis node reaches us; ours reaches Redis.
    assert_eq!(redis_cli(r1.port, &["publish", "news", "hello"]).trim(), "0");
    d.pump_until("the PUBLISH relay", Duration::from_secs(10), |d| {
        d.delivered.contains(&(b"news".to_vec(), b"hello".to_vec()))
    });
    let publish_count = |port: u16| -> u64 {
        redis_cli(port, &["cluster", "info"])
            .lines()
            .find_map(|l| l.trim().strip_prefix("cluster_stats_messages_publish_received:")?.parse().ok())
            .unwrap_or(0)
    };
    let before = publish_count(r2.port);
    let a = d.bus.publish(Driver::now_ms(), b"news", b"from-tessera", false);
    d.apply(a);
    d.pump_until("redis to count our PUBLISH", Duration::from_secs(10), |_| publish_count(r2.port) == before + 1);

    // A forgotten node makes our PINGs carry the 7.2 forgotten-node extension: Redis 7.0 logs
    // it as unknown and goes on reading the message.
    let now = Driver::now_ms();
    d.bus.state_mut().blacklist_add(NodeId::random(), now + 60_000);
    let pong_of_us =
        |port: u16| -> u64 { node_line(port, &me).and_then(|l| l.split(' ').nth(5)?.parse().ok()).unwrap_or(0) };
    let before = pong_of_us(r1.port);
    d.pump_until("redis to keep hearing from us", Duration::from_secs(20), |_| {
        r1.log().contains("Received unknown extension type 2") && pong_of_us(r1.port) > before
    });
    assert!(node_line(r1.port, &me).is_some_and(|l| l.contains(" connected 10001-16383")));

    // kill -9 r2: we flag it PFAIL after the node timeout, then FAIL with r1's report, and r1
    // agrees.
    r2.signal_and_wait(9, Duration::from_secs(10));
    d.pump_until("r2 FAIL on our side", Duration::from_secs(30), |d| {
        d.bus.nodes().iter().any(|n| n.id.as_str() == id2 && n.failed())
    });
    d.pump_until("r2 FAIL on r1", Duration::from_secs(10), |_| {
        node_line(r1.port, &id2).is_some_and(|l| l.contains("master,fail "))
    });
    d.pump_until("cluster_state:fail on our side", Duration::from_secs(10), |d| !d.bus.state_ok());
}

/// The membership and epoch subcommands give redis-server's exact replies (the ones that do
/// not depend on node ids), over RESP2 and RESP3.
#[test]
fn cluster_membership_commands_match_redis() {
    let redis = Server::start(Spec::redis().cluster());
    let tessera = Server::start(Spec::tessera(2).cluster());
    let zeros = "0".repeat(40);
    let script: Vec<Vec<&str>> = vec![
        vec!["cluster", "meet", "127.0.0.1"],
        vec!["cluster", "meet", "127.0.0.1", "abc"],
        vec!["cluster", "meet", "127.0.0.1", "7000", "x"],
        vec!["cluster", "meet", "127.0.0.1", "70000"],
        vec!["cluster", "meet", "127.0.0.1", "0"],
        vec!["cluster", "meet", "127.0.0.1", "-5"],
        vec!["cluster", "meet", "127.0.0.1", "23812.0"],
        vec!["cluster", "meet", "127.0.0.1", "7000", "0"],
        vec!["cluster", "meet", "127.0.0.1", "60000"],
        vec!["cluster", "meet", "1.2.3", "7000"],
        vec!["cluster", "meet", "localhost", "7000"],
        vec!["cluster", "meet", "::1", "99999"],
        vec!["cluster", "MEET", "127.0.0.1", "7000", "17000", "5"],
        vec!["cluster", "forget"],
        vec!["cluster", "forget", "abc"],
        vec!["cluster", "forget", &zeros],
        vec!["cluster", "forget", "a", "b"],
        vec!["cluster", "count-failure-reports", "abc"],
        vec!["cluster", "count-failure-reports"],
        vec!["cluster", "links"],
        vec!["cluster", "links", "x"],
        vec!["cluster", "set-config-epoch", "x"],
        vec!["cluster", "set-config-epoch", "-1"],
        vec!["cluster", "bumpepoch"],
        vec!["cluster", "bumpepoch"],
        vec!["cluster", "set-config-epoch", "5"],
        vec!["cluster", "bumpepoch", "x"],
    ];
    for resp3 in [false, true] {
        let mut r = redis.raw();
        let mut t = tessera.raw();
        if resp3 {
            r.cmd(&["hello", "3"]);
            t.cmd(&["hello", "3"]);
        }
        for args in &script {
            let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            let (rr, _) = r.call(&bytes).unwrap();
            let (tr, _) = t.call(&bytes).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&tr),
                String::from_utf8_lossy(&rr),
                "{} (resp3 {resp3})",
                args.join(" ")
            );
        }
    }
    // Forgetting ourselves, and failure reports about ourselves, by our own id.
    for s in [&redis, &tessera] {
        let mut c = s.raw();
        let id = String::from_utf8(c.cmd(&["cluster", "myid"]).bytes().unwrap().to_vec()).unwrap();
        let (raw, _) = c.call(&[b"cluster", b"forget", id.as_bytes()]).unwrap();
        assert_eq!(raw, b"-ERR I tried hard but I can't forget myself...\r\n");
        let (raw, _) = c.call(&[b"cluster", b"count-failure-reports", id.as_bytes()]).unwrap();
        assert_eq!(raw, b":0\r\n");
    }
    // A MEET to a free address answers OK and leaves a node in handshake, gone again after the
    // handshake timeout on Redis; on tessera at least the node table shows it.
    for s in [&redis, &tessera] {
        let mut c = s.raw();
        let (raw, _) = c.call(&[b"cluster", b"meet", b"127.0.0.1", b"1", b"2"]).unwrap();
        assert_eq!(raw, b"+OK\r\n");
        let nodes = String::from_utf8(c.cmd(&["cluster", "nodes"]).bytes().unwrap().to_vec()).unwrap();
        assert!(nodes.lines().any(|l| l.contains(" 127.0.0.1:1@2 handshake - ")), "{nodes}");
    }
}
