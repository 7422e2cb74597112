//! Tests of the server and connection families through `shard::exec::dispatch` on a one-shard
//! state, where fan-outs answer inline: expected replies are Redis 7.0.15's bytes.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize};
use std::sync::Arc;

use crate::cluster::view::ClusterView;
use crate::command::spec::CommandSpec;
use crate::config::{Config, EnableFlag};
use crate::net::client::Client;
use crate::resp::Out;
use crate::shard::exec::{dispatch, Dispatch};
use crate::shard::handle::Handle;
use crate::shard::mesh::ConnRef;
use crate::shard::{NodeInfo, ShardState, ShardStats};
use crate::store::Store;

pub(crate) struct Fixture {
    pub st: ShardState,
    pub ci: usize,
}

pub(crate) fn node() -> Arc<NodeInfo> {
    Arc::new(NodeInfo {
        run_id: "a".repeat(40),
        started: std::time::Instant::now(),
        started_unix_s: crate::shard::unix_ms() / 1000,
        nshards: 1,
        tcp_port: 6379,
        pid: std::process::id(),
        executable: "/bin/tessera-server".into(),
        config_file: String::new(),
        connected_clients: AtomicUsize::new(1),
        total_connections_received: AtomicU64::new(1),
        rejected_connections: AtomicU64::new(0),
        next_client_id: AtomicU64::new(2),
        shutdown: AtomicBool::new(false),
        shard_used_bytes: vec![AtomicI64::new(0)],
    })
}

impl Fixture {
    pub fn with(cfg: Config) -> Fixture {
        let authenticated = cfg.requirepass.is_empty();
        let mut st = ShardState {
            id: 0,
            nshards: 1,
            node: node(),
            store: Store::new(cfg.databases),
            stats: ShardStats::default(),
            handle: Handle::new(0, 1),
            rng: <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(1),
            cluster: Arc::new(ClusterView::standalone()),
            clients: slab::Slab::new(),
            frozen_by: None,
            freeze_depth: 0,
            tx_step_durable: false,
            watches: Default::default(),
            watch_dirty: Default::default(),
            pubsub: Default::default(),
            active_expire: true,
            kill_requests: Vec::new(),
            blocking: Default::default(),
            cluster_state: None,
            bus_actions: Vec::new(),
            aof: None,
            evict_pool: Default::default(),
            snapshot_job: None,
            wake: None,
            cfg,
        };
        let conn = ConnRef { index: 0, gen: 0 };
        let ci = st.clients.insert(Client::new(
            1,
            conn,
            9,
            "127.0.0.1:50000".into(),
            "127.0.0.1:6379".into(),
            authenticated,
        ));
        Fixture { st, ci }
    }

    pub fn new() -> Fixture {
        Fixture::with(Config::default())
    }

    /// Adds another client on this shard and returns its slab index.
    pub fn add_client(&mut self, id: u64, addr: &str) -> usize {
        let conn = ConnRef { index: self.st.clients.vacant_key() as u32, gen: 0 };
        self.st.clients.insert(Client::new(id, conn, 10, addr.into(), "127.0.0.1:6379".into(), true))
    }

    /// Runs one command as the fixture's client; returns the reply and whether the
    /// connection is to be closed.
    pub fn exec(&mut self, args: &[&str]) -> (String, bool) {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let resp3 = self.st.clients[self.ci].resp3;
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, resp3);
        let close = match dispatch(&mut self.st, self.ci, 0, &argv, &mut out) {
            Dispatch::Replied => false,
            Dispatch::Close => true,
            Dispatch::Forwarded => panic!("one shard never forwards"),
            Dispatch::Later(_) => panic!("one shard answers inline"),
        };
        (String::from_utf8_lossy(&buf).into_owned(), close)
    }

    pub fn run(&mut self, args: &[&str]) -> String {
        self.exec(args).0
    }
}

fn find(name: &str) -> &'static CommandSpec {
    crate::command::table::lookup(name.as_bytes()).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn ping_echo_quit() {
    let mut f = Fixture::new();
    assert_eq!(f.run(&["PING"]), "+PONG\r\n");
    assert_eq!(f.run(&["ping", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(f.run(&["ping", "a", "b"]), "-ERR wrong number of arguments for 'ping' command\r\n");
    assert_eq!(f.run(&["echo", "x"]), "$1\r\nx\r\n");
    assert_eq!(f.run(&["echo"]), "-ERR wrong number of arguments for 'echo' command\r\n");
    assert_eq!(f.exec(&["quit", "x"]), ("+OK\r\n".into(), true));
}

#[test]
fn select_and_reset() {
    let mut f = Fixture::new();
    assert_eq!(f.run(&["select", "16"]), "-ERR DB index is out of range\r\n");
    assert_eq!(f.run(&["select", "-1"]), "-ERR DB index is out of range\r\n");
    assert_eq!(f.run(&["select", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        f.run(&["select", "4294967296"]),
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
    );
    assert_eq!(f.run(&["select", "15"]), "+OK\r\n");
    assert_eq!(f.st.clients[f.ci].db, 15);
    f.run(&["client", "setname", "nm"]);
    f.run(&["hello", "3"]);
    assert_eq!(f.run(&["reset"]), "+RESET\r\n");
    let c = &f.st.clients[f.ci];
    assert_eq!((c.db, c.resp3, c.name.is_empty()), (0, false, true));
}

#[test]
fn select_in_cluster_mode() {
    let mut f = Fixture::new();
    let mut view = ClusterView::standalone();
    view.enabled = true;
    f.st.cluster = Arc::new(view);
    assert_eq!(f.run(&["select", "1"]), "-ERR SELECT is not allowed in cluster mode\r\n");
    assert_eq!(f.run(&["select", "0"]), "+OK\r\n");
}

const HELLO2: &str = "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
const HELLO3: &str = "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";

#[test]
fn hello_switches_protocol() {
    let mut f = Fixture::new();
    assert_eq!(f.run(&["hello"]), HELLO2);
    assert_eq!(f.run(&["hello", "3"]), HELLO3);
    assert!(f.st.clients[f.ci].resp3);
    assert_eq!(f.run(&["hello", "2"]), HELLO2);
    assert_eq!(f.run(&["hello", "4"]), "-NOPROTO unsupported protocol version\r\n");
    assert_eq!(f.run(&["hello", "1"]), "-NOPROTO unsupported protocol version\r\n");
    assert_eq!(f.run(&["hello", "abc"]), "-ERR Protocol version is not an integer or out of range\r\n");
    assert_eq!(f.run(&["hello", "3", "auth", "default"]), "-ERR Syntax error in HELLO option 'auth'\r\n");
    assert_eq!(f.run(&["hello", "3", "FOO"]), "-ERR Syntax error in HELLO option 'FOO'\r\n");
    assert_eq!(
        f.run(&["hello", "3", "setname", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert!(!f.st.clients[f.ci].resp3, "a failed HELLO changes nothing");
    assert_eq!(f.run(&["hello", "3", "auth", "default", "anything", "setname", "me"]), HELLO3);
    assert_eq!(f.run(&["client", "getname"]), "$2\r\nme\r\n");
    assert_eq!(
        f.run(&["hello", "3", "auth", "bob", "x"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
}

#[test]
fn auth_with_and_without_requirepass() {
    let mut f = Fixture::new();
    assert_eq!(
        f.run(&["auth", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
    assert_eq!(f.run(&["auth", "default", "x"]), "+OK\r\n");
    assert_eq!(f.run(&["auth", "a", "b", "c"]), "-ERR syntax error\r\n");

    let cfg = Config { requirepass: "sec".into(), ..Config::default() };
    let mut f = Fixture::with(cfg);
    assert_eq!(f.run(&["ping"]), "-NOAUTH Authentication required.\r\n");
    assert!(f.run(&["hello", "3"]).starts_with("-NOAUTH HELLO must be called with the client already authenticated"));
    assert_eq!(f.run(&["auth", "bad"]), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    assert_eq!(f.run(&["auth", "bob", "sec"]), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    assert_eq!(f.run(&["auth", "sec"]), "+OK\r\n");
    assert_eq!(f.run(&["ping"]), "+PONG\r\n");
    assert_eq!(f.run(&["reset"]), "+RESET\r\n");
    assert_eq!(f.run(&["ping"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(f.run(&["hello", "2", "auth", "default", "sec"]), HELLO2);
    assert_eq!(f.run(&["ping"]), "+PONG\r\n");
}

#[test]
fn client_own_state() {
    let mut f = Fixture::new();
    assert_eq!(f.run(&["client", "id"]), ":1\r\n");
    assert_eq!(f.run(&["client", "getname"]), "$-1\r\n");
    assert_eq!(
        f.run(&["client", "setname", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(f.run(&["client", "setname", "ab"]), "+OK\r\n");
    assert_eq!(f.run(&["client", "getname"]), "$2\r\nab\r\n");
    assert_eq!(f.run(&["client", "setname", ""]), "+OK\r\n");
    assert_eq!(f.run(&["client", "getname"]), "$-1\r\n");
    assert_eq!(f.run(&["client", "no-evict", "maybe"]), "-ERR syntax error\r\n");
    assert_eq!(f.run(&["client", "no-evict", "ON"]), "+OK\r\n");
    assert!(f.st.clients[f.ci].no_evict);
    assert_eq!(f.run(&["client", "setinfo", "lib-name", "redis-py"]), "+OK\r\n");
    assert_eq!(f.run(&["client", "setinfo", "LIB-VER", "5.0"]), "+OK\r\n");
    assert_eq!(f.run(&["client", "setinfo", "foo", "x"]), "-ERR Unrecognized option 'foo'\r\n");
    assert_eq!(
        f.run(&["client", "setinfo", "lib-name", "a b"]),
        "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(f.st.clients[f.ci].lib_name, b"redis-py");
    assert_eq!(f.run(&["client", "getredir"]), ":-1\r\n");
    assert_eq!(
        f.run(&["client", "trackinginfo"]),
        "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    );
    assert_eq!(f.run(&["client", "unpause"]), "+OK\r\n");
    assert_eq!(f.run(&["client", "unblock", "5"]), ":0\r\n");
    assert_eq!(f.run(&["client", "unblock", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(f.run(&["client", "unblock", "5", "foo"]), "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n");
    assert_eq!(
        f.run(&["client", "unblock", "5", "error", "x"]),
        "-ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(f.run(&["client", "foo"]), "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n");
    assert_eq!(f.run(&["client", "setname"]), "-ERR wrong number of arguments for 'client|setname' command\r\n");
    assert!(f
        .run(&["client", "help"])
        .starts_with("*43\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"));
}

#[test]
fn client_list_and_info() {
    let mut f = Fixture::new();
    f.add_client(5, "10.0.0.5:4000");
    let info = f.run(&["client", "info"]);
    assert!(info.starts_with("$") && info.contains("id=1 addr=127.0.0.1:50000 "), "{info}");
    assert!(info.contains(" cmd=client|info "), "{info}");
    assert!(info.ends_with("\n\r\n"));
    let list = f.run(&["client", "list"]);
    let body: Vec<&str> = list.split("\r\n").nth(1).unwrap_or("").split('\n').collect();
    assert!(body[0].starts_with("id=1 ") && body[1].starts_with("id=5 ") && body[2].is_empty(), "{list}");
    let by_id = f.run(&["client", "list", "id", "5", "99", "5"]);
    assert_eq!(by_id.matches("id=5 ").count(), 2, "{by_id}");
    assert!(!by_id.contains("id=1 "));
    assert_eq!(f.run(&["client", "list", "id", "-5"]), "$0\r\n\r\n");
    assert_eq!(f.run(&["client", "list", "id", "x"]), "-ERR Invalid client ID\r\n");
    assert_eq!(f.run(&["client", "list", "ID"]), "-ERR syntax error\r\n");
    assert_eq!(f.run(&["client", "list", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(f.run(&["client", "list", "type", "foo"]), "-ERR Unknown client type 'foo'\r\n");
    assert_eq!(f.run(&["client", "list", "type", "pubsub"]), "$0\r\n\r\n");
    assert!(f.run(&["client", "list", "TYPE", "Normal"]).contains("id=5 "));
    f.run(&["hello", "3"]);
    assert!(f.run(&["client", "info"]).starts_with("="));
    assert!(f.run(&["client", "list"]).contains("\r\ntxt:id=1 "));
}

#[test]
fn client_kill() {
    let mut f = Fixture::new();
    f.add_client(5, "10.0.0.5:4000");
    f.add_client(6, "10.0.0.6:4000");
    assert_eq!(f.run(&["client", "kill", "1.2.3.4:5"]), "-ERR No such client\r\n");
    assert_eq!(f.run(&["client", "kill", "id", "999"]), ":0\r\n");
    assert_eq!(f.run(&["client", "kill", "id"]), "-ERR No such client\r\n");
    assert_eq!(f.run(&["client", "kill", "10.0.0.5:4000"]), "+OK\r\n");
    assert_eq!(f.st.kill_requests, vec![5]);
    assert_eq!(f.run(&["client", "kill", "id", "6"]), ":1\r\n");
    assert_eq!(f.st.kill_requests, vec![5, 6]);
    // The caller is skipped unless SKIPME no.
    assert_eq!(f.run(&["client", "kill", "addr", "127.0.0.1:50000"]), ":0\r\n");
    assert_eq!(f.run(&["client", "kill", "addr", "127.0.0.1:50000", "skipme", "no"]), ":1\r\n");
    assert_eq!(f.st.kill_requests, vec![5, 6, 1]);
    assert!(f.st.clients[f.ci].kill);
    assert_eq!(f.run(&["client", "kill", "user", "bob"]), "-ERR No such user 'bob'\r\n");
}

#[test]
fn time_reply() {
    let mut f = Fixture::new();
    let t = f.run(&["time"]);
    let parts: Vec<&str> = t.split("\r\n").collect();
    assert_eq!(parts[0], "*2");
    let secs: u64 = parts[2].parse().unwrap();
    let us: u64 = parts[4].parse().unwrap();
    assert!(secs > 1_600_000_000 && us < 1_000_000, "{t}");
}

#[test]
fn info_over_the_state() {
    let mut f = Fixture::new();
    f.st.store.dbs[0]
        .insert(b"k", crate::store::Entry::new(crate::store::Value::Str(crate::store::StrValue::from_bytes(b"v"))));
    f.st.store.dirty = 4;
    let ks = f.run(&["info", "keyspace"]);
    assert_eq!(ks, "$44\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n");
    let all = f.run(&["INFO"]);
    assert!(all.contains("rdb_changes_since_last_save:4\r\n"));
    assert!(all.contains("connected_clients:1\r\n"));
    assert!(all.contains("total_commands_processed:"));
    assert!(all.contains("used_memory_human:"));
    assert!(all.contains("used_cpu_user:"));
    assert_eq!(f.run(&["info", "nosuch"]), "$0\r\n\r\n");
    f.run(&["hello", "3"]);
    assert!(f.run(&["info", "server"]).starts_with("=") && f.run(&["info", "server"]).contains("txt:# Server\r\n"));
}

#[test]
fn config_commands() {
    let mut f = Fixture::new();
    assert_eq!(f.run(&["config", "get", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    assert_eq!(f.run(&["config", "get", "nosuch"]), "*0\r\n");
    assert_eq!(f.run(&["config", "set", "maxmemory", "10mb"]), "+OK\r\n");
    assert_eq!(f.st.cfg.maxmemory_bytes, 10 * 1024 * 1024);
    assert_eq!(f.run(&["config", "set", "maxmemory"]), "-ERR wrong number of arguments for 'config|set' command\r\n");
    assert_eq!(f.run(&["config", "set", "a", "1", "b"]), "-ERR syntax error\r\n");
    assert_eq!(
        f.run(&["config", "set", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(
        f.run(&["config", "set", "maxmemory", "10", "maxmemory", "20"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n"
    );
    assert_eq!(f.st.cfg.maxmemory_bytes, 10 * 1024 * 1024, "a failed SET changes nothing");
    f.st.stats.total_commands_processed = 50;
    f.st.store.keyspace_hits = 3;
    assert_eq!(f.run(&["config", "resetstat"]), "+OK\r\n");
    assert_eq!((f.st.stats.total_commands_processed, f.st.store.keyspace_hits), (0, 0));
    assert_eq!(f.run(&["config", "rewrite"]), "-ERR The server is running without a config file\r\n");
    assert!(f.run(&["config", "help"]).starts_with("*11\r\n+CONFIG <subcommand>"));
    assert_eq!(f.run(&["config", "foo"]), "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n");
    f.run(&["hello", "3"]);
    assert_eq!(f.run(&["config", "get", "maxmemory"]), "%1\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n");
}

#[test]
fn config_rewrite_writes_the_file() {
    let dir = std::env::temp_dir().join(format!("tessera-rewrite-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("node.toml");
    let cfg = Config { config_file: Some(path.clone()), ..Config::default() };
    let mut f = Fixture::with(cfg);
    assert_eq!(f.run(&["config", "set", "maxmemory", "1mb"]), "+OK\r\n");
    assert_eq!(f.run(&["config", "rewrite"]), "+OK\r\n");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(text.contains("maxmemory"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn command_info_shapes() {
    let mut f = Fixture::new();
    assert_eq!(f.run(&["command", "count"]), format!(":{}\r\n", crate::command::table::count()));
    assert_eq!(f.run(&["command", "count", "x"]), "-ERR wrong number of arguments for 'command|count' command\r\n");
    assert_eq!(
        f.run(&["command", "info", "echo"]),
        "*1\r\n*10\r\n$4\r\necho\r\n:2\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"
    );
    assert_eq!(f.run(&["command", "info", "nosuch"]), "*1\r\n$-1\r\n");
    let client = f.run(&["command", "info", "client"]);
    assert!(
        client.starts_with(
            "*1\r\n*10\r\n$6\r\nclient\r\n:-2\r\n*0\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n*13\r\n"
        ),
        "{client}"
    );
    assert!(f
        .run(&["command", "info", "client|list"])
        .contains("+@admin\r\n+@slow\r\n+@dangerous\r\n+@connection\r\n"));
    assert_eq!(
        f.run(&["command", "docs", "echo", "nosuch"]),
        "*2\r\n$4\r\necho\r\n*8\r\n$7\r\nsummary\r\n$21\r\nEcho the given string\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
    );
    f.run(&["hello", "3"]);
    assert_eq!(
        f.run(&["command", "info", "echo"]),
        "*1\r\n*10\r\n$4\r\necho\r\n:2\r\n~3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n"
    );
}

#[test]
fn command_info_key_specs() {
    // A read-only one-key command, as Redis 7.0 describes GET.
    let get = CommandSpec {
        name: "get",
        arity: 2,
        flags: crate::command::spec::flag::READONLY | crate::command::spec::flag::FAST,
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@read", "@string", "@fast"],
        ..*find("time")
    };
    let mut buf = Vec::new();
    super::command::write_info(&mut Out::new(&mut buf, true), &get);
    assert_eq!(
        String::from_utf8_lossy(&buf),
        "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
    );
}

#[test]
fn command_list_and_getkeys() {
    let mut f = Fixture::new();
    let all = f.run(&["command", "list"]);
    assert!(all.contains("$11\r\nclient|list\r\n") && all.contains("$4\r\nping\r\n"));
    let cl = f.run(&["command", "list", "filterby", "pattern", "CLIENT*"]);
    assert!(cl.contains("$6\r\nclient\r\n") && cl.contains("$9\r\nclient|id\r\n") && !cl.contains("ping"), "{cl}");
    let conn = f.run(&["command", "list", "filterby", "aclcat", "connection"]);
    assert!(conn.contains("$5\r\nhello\r\n") && !conn.contains("$4\r\ninfo\r\n"), "{conn}");
    assert_eq!(f.run(&["command", "list", "filterby", "module", "x"]), "*0\r\n");
    assert_eq!(f.run(&["command", "list", "filterby", "foo", "x"]), "-ERR syntax error\r\n");
    assert_eq!(f.run(&["command", "list", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(
        f.run(&["command", "getkeys", "get"]),
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
    assert_eq!(f.run(&["command", "getkeys", "nosuch", "a"]), "-ERR Invalid command specified\r\n");
    assert_eq!(f.run(&["command", "getkeys", "ping", "a"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(f.run(&["command", "getkeys", "client", "x"]), "-ERR Invalid command specified\r\n");
    assert_eq!(f.run(&["command", "getkeys", "config", "get", "x"]), "-ERR The command has no key arguments\r\n");
    if crate::command::table::lookup(b"mset").is_some() {
        assert_eq!(f.run(&["command", "getkeys", "mset", "a", "1", "b", "2"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        // Redis too lists the keys of a malformed MSET.
        assert_eq!(f.run(&["command", "getkeys", "mset", "a", "1", "b"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        assert_eq!(
            f.run(&["command", "getkeys", "get", "a", "b"]),
            "-ERR Invalid number of arguments specified for command\r\n"
        );
        assert_eq!(
            f.run(&["command", "getkeysandflags", "get", "a"]),
            "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n"
        );
    }
    assert!(f.run(&["command", "help"]).starts_with("*21\r\n+COMMAND <subcommand>"));
    assert_eq!(f.run(&["command", "foo"]), "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n");
    let everything = f.run(&["command"]);
    assert!(everything.starts_with(&format!("*{}\r\n", crate::command::table::count())));
}

#[test]
fn debug_is_gated() {
    let mut f = Fixture::new();
    assert!(f.run(&["debug", "sleep", "0"]).starts_with("-ERR DEBUG command not allowed. If the enable-debug-command"));
    assert_eq!(f.run(&["debug"]), "-ERR wrong number of arguments for 'debug' command\r\n");
    f.st.cfg.enable_debug_command = EnableFlag::Local;
    assert_eq!(f.run(&["debug", "sleep", "0"]), "+OK\r\n");
    f.st.clients[f.ci].addr = "10.1.1.1:5000".into();
    assert!(f.run(&["debug", "sleep", "0"]).starts_with("-ERR DEBUG command not allowed."));
}

#[test]
fn debug_subcommands() {
    let cfg = Config { enable_debug_command: EnableFlag::Yes, ..Config::default() };
    let mut f = Fixture::with(cfg);
    let put = |f: &mut Fixture, k: &[u8], v: &[u8]| {
        f.st.store.dbs[0]
            .insert(k, crate::store::Entry::new(crate::store::Value::Str(crate::store::StrValue::from_bytes(v))));
    };
    put(&mut f, b"k", b"hello");
    put(&mut f, b"n", b"123");
    let obj = f.run(&["debug", "object", "k"]);
    assert!(
        obj.starts_with("+Value at:0x") && obj.contains(" refcount:1 encoding:embstr serializedlength:6 lru:"),
        "{obj}"
    );
    assert!(f.run(&["debug", "object", "n"]).contains(" refcount:2147483647 encoding:int serializedlength:2 "));
    assert_eq!(f.run(&["debug", "object", "nokey"]), "-ERR no such key\r\n");
    assert_eq!(
        f.run(&["debug", "object"]),
        "-ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP.\r\n"
    );
    assert_eq!(
        f.run(&["debug", "digest-value", "k", "n", "nokey"]),
        "*3\r\n+36b23a1456b2dce2c3ed252c456761301dba8060\r\n+89f7f51b707418f666d5b45e053bd5bbbf82ac2b\r\n+0000000000000000000000000000000000000000\r\n"
    );
    assert_eq!(f.run(&["debug", "digest-value"]), "*0\r\n");
    assert_eq!(f.run(&["debug", "digest"]), "+2f656327f737ec33c360149b58539884505647be\r\n");
    assert_eq!(f.run(&["debug", "set-active-expire", "0"]), "+OK\r\n");
    assert!(!f.st.active_expire);
    assert_eq!(f.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "+OK\r\n");
    assert!(f.st.active_expire);
    assert_eq!(f.run(&["debug", "error", "FOO bar"]), "-FOO bar\r\n");
    assert_eq!(f.run(&["debug", "log", "hi"]), "+OK\r\n");
    assert_eq!(
        f.run(&["debug", "jmap"]),
        "-ERR unknown subcommand or wrong number of arguments for 'jmap'. Try DEBUG HELP.\r\n"
    );
    assert!(f.run(&["debug", "help"]).starts_with("*33\r\n+DEBUG <subcommand>"));
}

#[test]
fn shutdown_argument_errors() {
    // Only refusals here: a successful SHUTDOWN signals this very process.
    let mut f = Fixture::new();
    assert_eq!(f.run(&["shutdown", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(f.run(&["shutdown", "nosave", "save"]), "-ERR syntax error\r\n");
    assert_eq!(f.run(&["shutdown", "abort", "now"]), "-ERR syntax error\r\n");
    assert_eq!(f.run(&["shutdown", "abort"]), "-ERR No shutdown in progress.\r\n");
    // A save that cannot write its file refuses to shut down (and writes nothing anywhere).
    f.st.cfg.dir = std::path::PathBuf::from("/nonexistent/tessera-test-dir");
    assert_eq!(f.run(&["shutdown", "save"]), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    assert_eq!(f.run(&["save"]), "-ERR\r\n");
}
