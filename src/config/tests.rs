//! Unit tests of the configuration: table invariants, startup parsing (flags, redis.conf,
//! TOML, the shipped example files), CONFIG GET/SET behaviour and texts, CONFIG REWRITE.
//!
//! Expected texts were checked against `redis-server` 7.0.15. These tests must never depend
//! on the machine beyond a writable temp directory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::table::{all_settings, Kind, NumFmt, Store, Value};
use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn get(config: &Config, name: &str) -> String {
    let found = config.config_get(&[name.as_bytes()]);
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found[0].1.clone()
}

fn set(config: &mut Config, pairs: &[(&str, &str)]) -> Result<(), String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
    config.config_set(&pairs)
}

fn parse_err(list: &[&str]) -> String {
    match from_args(&args(list)) {
        Ok(_) => panic!("{list:?} should be rejected"),
        Err(e) => e,
    }
}

/// A file in the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(extension: &str, text: &str) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tessera-config-test-{}-{n}.{extension}", std::process::id()));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
        TempFile(path)
    }

    fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---- table invariants ----

#[test]
fn names_are_unique_and_lower_case() {
    let mut seen = std::collections::HashSet::new();
    for setting in all_settings() {
        for name in setting.names() {
            assert_eq!(name, name.to_ascii_lowercase(), "{name}");
            assert!(seen.insert(name), "duplicate setting name {name}");
        }
    }
    assert!(seen.len() > 180, "only {} names", seen.len());
}

#[test]
fn typed_fields_hold_every_value_in_bounds() {
    // Pair assertion for the `field!` casts: whatever the table accepts, the field keeps.
    for setting in all_settings() {
        let (Kind::Int { min, max, .. }, Store::Field { get, set }) = (&setting.kind, &setting.store) else {
            continue;
        };
        if setting.name == "hz" {
            continue; // clamped on purpose, checked below
        }
        for bound in [*min, *max] {
            let mut config = Config::default();
            set(&mut config, Value::Int(bound));
            assert_eq!(get(&config), Value::Int(bound), "{}", setting.name);
        }
    }
}

#[test]
fn every_default_reads_back_through_its_own_parser() {
    let config = Config::default();
    for setting in all_settings() {
        let text = setting.format(&config);
        if setting.name == "replicaof" {
            continue; // the default prints as "", which Redis reads as "no one" only via REPLICAOF
        }
        let words = if setting.is_multi_arg() { parse::split_spaces(&text) } else { vec![text.clone()] };
        let mut again = Config::default();
        setting.apply(&mut again, &words).unwrap_or_else(|e| panic!("{} default {text:?}: {e}", setting.name));
        assert_eq!(setting.format(&again), text, "{}", setting.name);
    }
}

#[test]
fn defaults_match_redis() {
    let c = Config::default();
    assert_eq!(c.port, 6379);
    assert_eq!(c.bind, vec!["*", "-::*"]);
    assert_eq!(get(&c, "bind"), "* -::*");
    assert!(c.protected_mode);
    assert_eq!(c.databases, 16);
    assert_eq!(c.shards, 0);
    assert_eq!(get(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(c.maxmemory_bytes, 0);
    assert_eq!(c.maxclients, 10000);
    assert_eq!(c.hz, 10);
    assert_eq!(c.proto_max_bulk_len_bytes, 512 * 1024 * 1024);
    assert_eq!(c.client_query_buffer_limit_bytes, 1024 * 1024 * 1024);
    assert_eq!(c.list_max_listpack_size, -2);
    assert_eq!(c.hash_max_listpack_entries, 512);
    assert_eq!(c.zset_max_listpack_entries, 128);
    assert_eq!(c.cluster_node_timeout_ms, 15000);
    assert!(!c.cluster_enabled);
    assert_eq!(c.cluster_config_file, "nodes.conf");
    assert_eq!(c.appenddirname, "appendonlydir");
    assert_eq!(c.appendfsync, AppendFsync::Everysec);
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::Noeviction);
    assert_eq!(c.enable_debug_command, EnableFlag::No);
    assert!(c.dir.is_absolute());
    assert_eq!(get(&c, "dir"), c.dir.to_string_lossy());
    assert_eq!(
        get(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get(&c, "oom-score-adj-values"), "0 200 800");
    assert_eq!(c.cluster_bus_port(), Some(16379));
    let shards = c.shard_count();
    assert!((1..=crate::limits::MAX_SHARDS).contains(&shards));
}

// ---- command line ----

#[test]
fn no_arguments_is_the_default() {
    let c = from_args(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c, Config::default());
}

#[test]
fn flags_override_defaults() {
    let c = from_args(&args(&[
        "--port",
        "7000",
        "--cluster-enabled",
        "yes",
        "--appendonly",
        "YES",
        "--maxmemory",
        "100mb",
        "--shards",
        "4",
        "--loglevel",
        "warning",
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.port, 7000);
    assert!(c.cluster_enabled && c.appendonly);
    assert_eq!(c.maxmemory_bytes, 100 * 1024 * 1024);
    assert_eq!(get(&c, "maxmemory"), "104857600");
    assert_eq!(c.shards, 4);
    assert_eq!(c.shard_count(), 4);
    assert_eq!(c.loglevel, LogLevel::Warning);
    assert_eq!(c.cluster_bus_port(), Some(17000));
}

#[test]
fn save_takes_several_words_or_none() {
    let points = |list: &[&str]| match from_args(&args(list)) {
        Ok(c) => get(&c, "save"),
        Err(e) => panic!("{list:?}: {e}"),
    };
    assert_eq!(points(&["--save", "900", "1", "300", "10"]), "900 1 300 10");
    assert_eq!(points(&["--save", "900 1 300 10"]), "900 1 300 10");
    assert_eq!(points(&["--save", ""]), "");
    assert_eq!(points(&["--save"]), "");
    assert_eq!(points(&["--save", "--port", "7001"]), "");
    // Repeated save lines add points, as in redis.conf.
    assert_eq!(points(&["--save", "900", "1", "--save", "300 10"]), "900 1 300 10");
    assert_eq!(points(&["--save", "900", "1", "--save", ""]), "");
    let c = from_args(&args(&["--save", "--port", "7001"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.port, 7001);
}

#[test]
fn redis_option_grouping_rules() {
    // A whole "--name value" in one argument.
    let c = from_args(&args(&["--port 7002", "--bind", "127.0.0.1", "::1"]));
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.port, 7002);
    assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
    // A value that starts with "--" right after a bare option belongs to it.
    let c = from_args(&args(&["--requirepass", "--secret"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.requirepass, "--secret");
    // Negative numbers are values, not options.
    let c = from_args(&args(&["--list-max-listpack-size", "-1"]));
    assert_eq!(c.map(|c| c.list_max_listpack_size), Ok(-1));
    // Aliases work on the command line.
    let c = from_args(&args(&["--slaveof", "10.0.0.1", "6380", "--slave-read-only", "no"]));
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.replicaof, Some(ReplicaOf { host: "10.0.0.1".into(), port: 6380 }));
    assert!(!c.replica_read_only);
    assert_eq!(get(&c, "replicaof"), "10.0.0.1 6380");
}

#[test]
fn unknown_and_bad_values_are_rejected_like_redis() {
    let e = parse_err(&["--foo", "bar"]);
    assert!(e.starts_with("Reading the command line arguments\n"), "{e}");
    assert!(e.contains(">>> 'foo \"bar\"'"), "{e}");
    assert!(e.ends_with("Bad directive or wrong number of arguments"), "{e}");

    let cases: &[(&[&str], &str)] = &[
        (&["--port", "abc"], "argument couldn't be parsed into an integer"),
        (&["--port", "99999"], "argument must be between 0 and 65535 inclusive"),
        (&["--port"], "wrong number of arguments"),
        (&["--port", "1", "2"], "wrong number of arguments"),
        (&["--appendonly", "maybe"], "argument must be 'yes' or 'no'"),
        (&["--maxmemory", "1.5gb"], "argument must be a memory value"),
        (&["--databases", "0"], "argument must be between 1 and 2147483647 inclusive"),
        (&["--save", "1", "2", "3"], "Invalid save parameters"),
        (&["--save", "0", "1"], "Invalid save parameters"),
        (&["--shards", "257"], "argument must be between 0 and 256 inclusive"),
        (&["--loglevel", "loud"], "argument(s) must be one of the following: debug, verbose, notice, warning"),
        (&["--enable-debug-command", "maybe"], "argument(s) must be one of the following: no, yes, local"),
        (&["--replicaof", "a"], "wrong number of arguments"),
        (&["--replicaof", "localhost", "abc"], "Invalid master port"),
        (&["--dir", "/nonexistent-tessera-dir"], "No such file or directory"),
        (&["--unixsocketperm", "999"], "argument couldn't be parsed as an octal number"),
        (&["--maxmemory-clients", "200%"], "percentage argument must be less or equal to 100"),
        (&["--notify-keyspace-events", "Q"], "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        (&["--dbfilename", "a/b"], "dbfilename can't be a path, just a filename"),
        (&["--rename-command"], "Bad directive or wrong number of arguments"),
        (&["--version"], "Bad directive or wrong number of arguments"),
    ];
    for (list, message) in cases {
        let e = parse_err(list);
        assert!(e.ends_with(message), "{list:?}: {e}");
    }
    let e = parse_err(&["--port", "abc"]);
    assert!(e.contains(">>> 'port \"abc\"'"), "{e}");
}

#[test]
fn startup_refuses_what_tessera_cannot_do() {
    assert!(parse_err(&["--daemonize", "yes"]).contains("daemonize yes is not supported"));
    let e = parse_err(&["--cluster-enabled", "yes", "--port", "60000"]);
    assert!(e.contains("port number too high"), "{e}");
    let ok = from_args(&args(&["--cluster-enabled", "yes", "--port", "60000", "--cluster-port", "61000"]));
    assert_eq!(ok.map(|c| c.cluster_bus_port()), Ok(Some(61000)));
    let e = parse_err(&["--cluster-enabled", "yes", "--replicaof", "h", "1"]);
    assert!(e.contains("replicaof directive not allowed in cluster mode"), "{e}");
    assert!(parse_err(&["-"]).contains("standard input"));
}

#[test]
fn early_actions_are_left_to_the_caller() {
    assert_eq!(early_action(&args(&["-v"])), Some(EarlyAction::Version));
    assert_eq!(early_action(&args(&["--version"])), Some(EarlyAction::Version));
    assert_eq!(early_action(&args(&["--help"])), Some(EarlyAction::Help));
    assert_eq!(early_action(&args(&["-h"])), Some(EarlyAction::Help));
    assert_eq!(early_action(&args(&["--port", "1"])), None);
    assert_eq!(early_action(&[]), None);
}

// ---- files ----

#[test]
fn redis_conf_file_with_flags_on_top() {
    let included = TempFile::new("conf", "maxmemory-policy allkeys-lru\n");
    let file = TempFile::new(
        "conf",
        &format!(
            "# comment\n\
             \n\
             port 7005\r\n\
             \tbind 127.0.0.1 -::1\n\
             save 900 1\n\
             save 300 10\n\
             requirepass \"p a\\x41ss\"\n\
             slaveof 10.0.0.9 7006\n\
             rename-command FLUSHALL \"\"\n\
             list-max-ziplist-entries 512\n\
             include {}\n\
             maxmemory 2GB\n",
            included.arg()
        ),
    );
    let c = from_args(&[file.arg(), "--port".into(), "7007".into()]);
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.port, 7007, "flags apply after the file");
    assert_eq!(get(&c, "bind"), "127.0.0.1 -::1");
    assert_eq!(get(&c, "save"), "900 1 300 10");
    assert_eq!(c.requirepass, "p aAss");
    assert_eq!(c.replicaof.as_ref().map(|r| r.port), Some(7006));
    assert_eq!(c.rename_commands, vec![("FLUSHALL".to_owned(), String::new())]);
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert_eq!(c.maxmemory_bytes, 2 << 30);
    assert_eq!(c.config_file.as_deref(), Some(file.0.as_path()));
}

#[test]
fn redis_conf_errors_name_the_line() {
    let file = TempFile::new("conf", "port 7000\n\nappendonly perhaps\n");
    let e = parse_err(&[&file.arg()]);
    assert!(e.contains("at line 3"), "{e}");
    assert!(e.contains(">>> 'appendonly perhaps'"), "{e}");
    assert!(e.ends_with("argument must be 'yes' or 'no'"), "{e}");

    let file = TempFile::new("conf", "requirepass \"open\n");
    assert!(parse_err(&[&file.arg()]).ends_with("Unbalanced quotes in configuration line"));

    let e = parse_err(&["/nonexistent/tessera.conf"]);
    assert!(e.starts_with("Fatal error, can't open config file '/nonexistent/tessera.conf'"), "{e}");
}

#[test]
fn include_loops_stop() {
    let file = TempFile::new("conf", "");
    std::fs::write(&file.0, format!("include {}\n", file.arg())).unwrap_or_else(|e| panic!("{e}"));
    assert!(parse_err(&[&file.arg()]).contains("Too many nested includes"));
}

#[test]
fn toml_file_with_flags_on_top() {
    let file = TempFile::new(
        "toml",
        r#"
        port = 7010
        bind = ["127.0.0.1", "::1"]
        protected-mode = false
        save = ["900 1", "300 10"]
        maxmemory = "1gb"
        maxmemory-policy = "allkeys-lfu"
        latency-tracking-info-percentiles = [50, 99.5]
        shards = 2
        rename-command = [["KEYS", ""], ["DEBUG", "dbg"]]
        "#,
    );
    let c = from_args(&[file.arg(), "--maxmemory".into(), "2gb".into()]);
    let c = c.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.port, 7010);
    assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
    assert!(!c.protected_mode);
    assert_eq!(get(&c, "save"), "900 1 300 10");
    assert_eq!(c.maxmemory_bytes, 2 << 30);
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLfu);
    assert_eq!(get(&c, "latency-tracking-info-percentiles"), "50 99.5");
    assert_eq!(c.shards, 2);
    assert_eq!(c.rename_commands.len(), 2);

    let file = TempFile::new("toml", "save = \"\"\n");
    let c = from_args(&[file.arg()]).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.save.is_empty());
}

#[test]
fn toml_errors() {
    let file = TempFile::new("toml", "no-such-setting = 1\n");
    let e = parse_err(&[&file.arg()]);
    assert!(e.contains("at key 'no-such-setting'"), "{e}");
    assert!(e.ends_with("Bad directive or wrong number of arguments"), "{e}");

    let file = TempFile::new("toml", "port = \"seven\"\n");
    assert!(parse_err(&[&file.arg()]).ends_with("argument couldn't be parsed into an integer"));

    let file = TempFile::new("toml", "[cluster]\nenabled = true\n");
    assert!(parse_err(&[&file.arg()]).ends_with("value must be a string, number, boolean or array"));

    let file = TempFile::new("toml", "port = \n");
    assert!(parse_err(&[&file.arg()]).contains("Reading the configuration file"));
}

#[test]
fn shipped_example_configs_parse() {
    // `file!()` is relative to the crate root, or absolute when built from elsewhere.
    let root = std::path::Path::new(file!()).ancestors().nth(3).map(std::path::Path::to_path_buf).unwrap_or_default();
    let standalone = root.join("configs/standalone.toml");
    let c = from_args(&[standalone.to_string_lossy().into_owned()]);
    let c = c.unwrap_or_else(|e| panic!("{standalone:?}: {e}"));
    assert_eq!(c.port, 6379);
    assert!(!c.cluster_enabled);

    let node = root.join("configs/cluster-node.toml");
    let c = from_args(&[node.to_string_lossy().into_owned()]);
    let c = c.unwrap_or_else(|e| panic!("{node:?}: {e}"));
    assert_eq!(c.port, 7000);
    assert!(c.cluster_enabled && c.appendonly);
    assert_eq!(c.cluster_config_file, "nodes-7000.conf");
    assert_eq!(c.cluster_bus_port(), Some(17000));
}

// ---- CONFIG GET ----

#[test]
fn config_get_globs_names_and_aliases_once() {
    let c = Config::default();
    let names = |patterns: &[&[u8]]| -> Vec<String> { c.config_get(patterns).into_iter().map(|(n, _)| n).collect() };
    let all = names(&[b"*"]);
    assert!(all.contains(&"maxmemory".to_owned()));
    assert!(all.contains(&"slaveof".to_owned()) && all.contains(&"replicaof".to_owned()));
    assert_eq!(names(&[b"*", b"maxmemory", b"*"]).len(), all.len());
    assert_eq!(
        names(&[b"maxmemory*"]),
        vec!["maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity", "maxmemory-clients"]
    );
    assert_eq!(names(&[b"MAXMEM*"]).len(), 5);
    // An exact name answers in the client's spelling, once however it is spelled.
    assert_eq!(names(&[b"MAXMEMORY", b"maxmemory"]), vec!["MAXMEMORY"]);
    assert_eq!(names(&[b"save", b"sav*"]), vec!["save"]);
    assert_eq!(names(&[b"slaveof", b"replicaof"]), vec!["slaveof", "replicaof"]);
    assert_eq!(names(&[b"nonexistent"]), Vec::<String>::new());
    assert_eq!(names(&[b"h[a-z]"]), vec!["hz"]);
    assert_eq!(names(&[b"\xff*"]), Vec::<String>::new());
}

#[test]
fn config_get_formats_like_redis() {
    let mut c = Config::default();
    set(
        &mut c,
        &[
            ("maxmemory", "1gb"),
            ("notify-keyspace-events", "KEA"),
            ("appendfsync", "ALWAYS"),
            ("maxmemory-clients", "10%"),
            ("client-output-buffer-limit", "normal 1mb 2mb 3"),
            ("save", "100 10 200 20"),
            ("appendonly", "yes"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get(&c, "maxmemory"), "1073741824");
    assert_eq!(get(&c, "notify-keyspace-events"), "AKE");
    assert_eq!(get(&c, "appendfsync"), "always");
    assert_eq!(get(&c, "maxmemory-clients"), "10%");
    assert_eq!(
        get(&c, "client-output-buffer-limit"),
        "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get(&c, "save"), "100 10 200 20");
    assert_eq!(get(&c, "appendonly"), "yes");
    assert_eq!(get(&c, "unixsocketperm"), "0");
    assert_eq!(get(&c, "replicaof"), "");
}

// ---- CONFIG SET ----

#[test]
fn config_set_applies_typed_values() {
    let mut c = Config::default();
    let pairs = [
        ("maxmemory", "100mb"),
        ("maxmemory-policy", "allkeys-lru"),
        ("slave-read-only", "no"),
        ("hz", "1000000"),
        ("save", ""),
        ("timeout", "30"),
        ("notify-keyspace-events", "Ex"),
    ];
    set(&mut c, &pairs).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.maxmemory_bytes, 100 << 20);
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert!(!c.replica_read_only);
    assert_eq!(c.hz, 500, "hz is clamped like Redis");
    assert!(c.save.is_empty());
    assert_eq!(c.timeout_s, 30);
    assert_eq!(c.notify_keyspace_events, notify::EXPIRED | notify::KEYEVENT);
    set(&mut c, &[("hz", "0")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.hz, 1);
}

#[test]
fn config_set_is_all_or_nothing() {
    let mut c = Config::default();
    let before = c.clone();
    let e = set(&mut c, &[("maxmemory", "10mb"), ("maxmemory-policy", "foo")]);
    assert_eq!(
        e,
        Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - \
             argument(s) must be one of the following: volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
            .to_owned())
    );
    assert_eq!(c, before);
}

#[test]
fn config_set_errors_match_redis() {
    let mut c = Config::default();
    let failed =
        |name: &str, why: &str| Err(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"));
    assert_eq!(
        set(&mut c, &[("foo", "bar")]),
        Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_owned())
    );
    assert_eq!(set(&mut c, &[("maxmemory", "abc")]), failed("maxmemory", "argument must be a memory value"));
    assert_eq!(set(&mut c, &[("port", "7000")]), failed("port", "can't set immutable config"));
    assert_eq!(set(&mut c, &[("DATABASES", "2")]), failed("DATABASES", "can't set immutable config"));
    assert_eq!(set(&mut c, &[("dir", "/tmp")]), failed("dir", "can't set protected config"));
    assert_eq!(set(&mut c, &[("hz", "5"), ("HZ", "6")]), failed("HZ", "duplicate parameter"));
    // Value errors name the matched setting in lower case (alias kept).
    assert_eq!(
        set(&mut c, &[("HASH-MAX-ZIPLIST-ENTRIES", "abc")]),
        failed("hash-max-ziplist-entries", "argument couldn't be parsed into an integer")
    );
    // Redis checks names and mutability of every pair before any value.
    assert_eq!(set(&mut c, &[("hz", "abc"), ("databases", "2")]), failed("databases", "can't set immutable config"));
    assert_eq!(set(&mut c, &[("databases", "2"), ("foo", "1")]), failed("databases", "can't set immutable config"));
    assert_eq!(
        set(&mut c, &[("timeout", "-1")]),
        failed("timeout", "argument must be between 0 and 2147483647 inclusive")
    );
    assert_eq!(set(&mut c, &[("save", "100 10  200 20")]), failed("save", "Invalid save parameters"));
    assert_eq!(
        set(&mut c, &[("requirepass", "\u{0}\u{1}")]).map(|()| c.requirepass.clone()),
        Ok("\u{0}\u{1}".to_owned())
    );
    let bad_utf8: &[(&[u8], &[u8])] = &[(b"requirepass", b"\xff")];
    assert!(c.config_set(bad_utf8).is_err());
    assert_eq!(c.config_set(&[]), Ok(()));
}

#[test]
fn protected_configs_follow_enable_protected_configs() {
    let dir = std::env::temp_dir();
    let dir_text = dir.to_string_lossy().into_owned();
    let pairs: &[(&[u8], &[u8])] = &[(b"dir", dir_text.as_bytes())];

    let mut local_only = from_args(&args(&["--enable-protected-configs", "local"]));
    let local_only = local_only.as_mut().unwrap_or_else(|e| panic!("{e}"));
    assert!(local_only.config_set_for(pairs, false).is_err());
    assert_eq!(local_only.config_set_for(pairs, true), Ok(()));

    let mut open = from_args(&args(&["--enable-protected-configs", "yes"]));
    let open = open.as_mut().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(open.config_set(pairs), Ok(()));
    let canonical = std::fs::canonicalize(&dir).unwrap_or(dir);
    assert_eq!(open.dir, canonical);
    let e = open.config_set(&[(b"dir", b"/nonexistent-tessera-dir")]);
    assert_eq!(
        e,
        Err("ERR CONFIG SET failed (possibly related to argument 'dir') - \
             No such file or directory"
            .to_owned())
    );
}

// ---- CONFIG REWRITE ----

#[test]
fn rewrite_text_lists_changes_and_reads_back() {
    let mut c = from_args(&args(&["--port", "7020", "--rename-command", "KEYS", ""]));
    let c = c.as_mut().unwrap_or_else(|e| panic!("{e}"));
    set(
        c,
        &[
            ("maxmemory", "1gb"),
            ("save", ""),
            ("requirepass", "two words"),
            ("client-output-buffer-limit", "pubsub 64mb 16mb 90"),
            ("maxmemory-clients", "5%"),
            ("lua-time-limit", "100"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = c.rewrite_text();
    for line in [
        "port 7020\n",
        "maxmemory 1gb\n",
        "save \"\"\n",
        "requirepass \"two words\"\n",
        "client-output-buffer-limit pubsub 64mb 16mb 90\n",
        "maxmemory-clients 5%\n",
        "busy-reply-threshold 100\n",
        "rename-command KEYS \"\"\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains("databases"), "{text}");

    for (extension, body) in [("conf", text), ("toml", c.rewrite_toml())] {
        let file = TempFile::new(extension, &body);
        let again = from_args(&[file.arg()]).unwrap_or_else(|e| panic!("{body}\n{e}"));
        assert_eq!(again.config_get(&[b"*"]), c.config_get(&[b"*"]), "{body}");
        assert_eq!(again.rename_commands, c.rename_commands, "{body}");
    }
}

#[test]
fn number_formats_of_compat_rows() {
    let row = |name: &str| lookup(name).map(|(s, _)| s);
    let perm = row("unixsocketperm");
    assert!(matches!(perm.map(|s| &s.kind), Some(Kind::Int { fmt: NumFmt::Octal, .. })));
    let c = from_args(&args(&["--unixsocketperm", "700"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get(&c, "unixsocketperm"), "700");
    assert!(c.is_default("port"));
    assert!(!c.is_default("unixsocketperm"));
}
