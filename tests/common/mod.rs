//! Shared fixtures for the integration tests: spawning the real `tessera-server` binary and a
//! real `redis-server` on free loopback ports in their own temporary directories, waiting until
//! they answer PING, and stopping them by pid (SIGTERM, then SIGKILL) when the handle drops.
//!
//! It must never kill a process it did not start, never use a fixed port or a non-loopback
//! address, and never leave a temporary directory behind. Each test binary uses a different
//! subset of these helpers, hence `allow(dead_code)`.
#![allow(dead_code, unused_imports)]

pub mod crash;
pub mod dataset;
pub mod diff;
pub mod resp;

use std::collections::HashSet;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use resp::{RawConn, Reply};

/// How long a server may take to answer its first PING (debug builds on a busy 2-core machine).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A directory under the system temp dir, removed with everything in it on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "tessera-test-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Ports this test process has handed out: never hand one out twice, because tessera binds with
/// `SO_REUSEPORT` and two tessera processes on one port would silently share connections.
static USED_PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

fn claim_port(port: u16) -> bool {
    let mut used = USED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    used.get_or_insert_with(HashSet::new).insert(port)
}

/// A loopback port that was free a moment ago (bind port 0, read it back, close).
pub fn free_port() -> u16 {
    for _ in 0..1000 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        if claim_port(port) {
            return port;
        }
    }
    panic!("no free port found");
}

/// A free port `p` whose cluster bus port `p + 10000` is free too.
pub fn free_cluster_port() -> u16 {
    for _ in 0..1000 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        if port > 55_000 {
            continue;
        }
        let Ok(bus) = TcpListener::bind(("127.0.0.1", port + 10_000)) else {
            continue;
        };
        drop(bus);
        if claim_port(port) && claim_port(port + 10_000) {
            return port;
        }
    }
    panic!("no free cluster port pair found");
}

/// The tessera binary under test: `TESSERA_BIN` if set, else the one cargo built for this test.
pub fn tessera_bin() -> PathBuf {
    match std::env::var_os("TESSERA_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_tessera-server")),
    }
}

/// Finds a Redis tool (`redis-server`, `redis-cli`, `redis-benchmark`), panicking with the fix.
pub fn redis_tool(name: &str) -> PathBuf {
    let system = Path::new("/usr/bin").join(name);
    if system.exists() {
        return system;
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.exists() {
                return p;
            }
        }
    }
    panic!("{name} not found: install it with `apt-get install -y redis-server redis-tools` (scripts/test.sh does)");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tessera,
    Redis,
}

/// What to start.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: Kind,
    /// `--shards N` (tessera only).
    pub shards: usize,
    pub cluster: bool,
    pub extra: Vec<String>,
}

impl Spec {
    pub fn tessera(shards: usize) -> Spec {
        Spec { kind: Kind::Tessera, shards, cluster: false, extra: Vec::new() }
    }

    pub fn redis() -> Spec {
        Spec { kind: Kind::Redis, shards: 1, cluster: false, extra: Vec::new() }
    }

    pub fn cluster(mut self) -> Spec {
        self.cluster = true;
        self
    }

    pub fn arg(mut self, a: &str) -> Spec {
        self.extra.push(a.to_string());
        self
    }

    pub fn args(mut self, a: &[&str]) -> Spec {
        self.extra.extend(a.iter().map(|s| s.to_string()));
        self
    }

    /// The full argument list for port `port` in directory `dir`.
    pub fn argv(&self, port: u16, dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--dir".into(),
            dir.display().to_string(),
        ];
        match self.kind {
            Kind::Tessera => v.extend(["--shards".into(), self.shards.to_string()]),
            Kind::Redis => v.extend(["--appendonly".into(), "no".into()]),
        }
        if self.cluster {
            v.extend([
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                dir.join("nodes.conf").display().to_string(),
            ]);
        }
        v.extend(self.extra.iter().cloned());
        v
    }
}

/// A running server, stopped by pid when dropped.
pub struct Server {
    pub port: u16,
    pub kind: Kind,
    child: Option<Child>,
    log_path: PathBuf,
    // Declared last so the process is gone before its directory is removed.
    dir: Option<TempDir>,
    dir_path: PathBuf,
}

impl Server {
    /// Starts a server, retrying on a fresh port if the chosen one was taken meanwhile.
    pub fn start(spec: Spec) -> Server {
        let dir = TempDir::new(match spec.kind {
            Kind::Tessera => "tessera",
            Kind::Redis => "redis",
        });
        let path = dir.path().to_path_buf();
        let mut server = Server::start_in(&spec, &path).unwrap_or_else(|e| panic!("{e}"));
        server.dir = Some(dir);
        server
    }

    pub fn tessera(shards: usize) -> Server {
        Server::start(Spec::tessera(shards))
    }

    pub fn redis() -> Server {
        Server::start(Spec::redis())
    }

    /// Starts a server in a directory the caller owns (so a restart can reuse its files).
    pub fn start_in(spec: &Spec, dir: &Path) -> Result<Server, String> {
        let mut last_err = String::new();
        for _attempt in 0..5 {
            let port = if spec.cluster { free_cluster_port() } else { free_port() };
            match Server::start_at(spec, dir, port) {
                Ok(s) => return Ok(s),
                Err(e) => {
                    let in_use = e.contains("in use") || e.contains("EADDRINUSE");
                    last_err = e;
                    if !in_use {
                        break;
                    }
                }
            }
        }
        Err(last_err)
    }

    /// Starts a server on a given port in a directory the caller owns: a cluster node
    /// restarting where its peers expect it.
    pub fn start_at(spec: &Spec, dir: &Path, port: u16) -> Result<Server, String> {
        let (mut child, log_path) = spawn(spec, port, dir)?;
        match wait_ready(&mut child, port, &log_path) {
            Ok(()) => Ok(Server {
                port,
                kind: spec.kind,
                child: Some(child),
                log_path,
                dir: None,
                dir_path: dir.to_path_buf(),
            }),
            Err(e) => {
                stop_child(&mut child, STOP_TIMEOUT);
                Err(e)
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port).unwrap_or_else(|e| panic!("connect to {}: {e}", self.port))
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Sends `signal` and waits for the exit, returning its status (None if it had to be killed).
    pub fn signal_and_wait(&mut self, signal: i32, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        send_signal(child.id(), signal);
        let status = wait_timeout(child, timeout);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.child = None;
        status
    }

    /// True while the process is running.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, STOP_TIMEOUT);
        }
    }
}

fn spawn(spec: &Spec, port: u16, dir: &Path) -> Result<(Child, PathBuf), String> {
    let bin = match spec.kind {
        Kind::Tessera => tessera_bin(),
        Kind::Redis => redis_tool("redis-server"),
    };
    let log_path = dir.join(format!("server-{port}.log"));
    let log = File::create(&log_path).map_err(|e| format!("create {}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| format!("clone log handle: {e}"))?;
    let argv = spec.argv(port, dir);
    let child = Command::new(&bin)
        .args(&argv)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("spawn {} {argv:?}: {e}", bin.display()))?;
    Ok((child, log_path))
}

/// Waits until the server on `port` answers PING with +PONG.
fn wait_ready(child: &mut Child, port: u16, log_path: &Path) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            return Err(format!("server on port {port} exited with {status} before answering PING; output:\n{log}"));
        }
        if let Ok(mut c) = RawConn::connect(port) {
            let _ = c.stream.set_read_timeout(Some(Duration::from_secs(2)));
            if let Ok((raw, _)) = c.call(&[b"PING"]) {
                if raw == b"+PONG\r\n" {
                    // The answer must come from our process, not from something that held the
                    // port: make sure it is still alive.
                    if let Ok(None) = child.try_wait() {
                        return Ok(());
                    }
                }
            }
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            return Err(format!("server on port {port} did not answer PING within {START_TIMEOUT:?}; output:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn send_signal(pid: u32, signal: i32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 0 {
        return;
    }
    // SAFETY: kill(2) only takes two integers; `pid` is a child this process spawned and has not
    // reaped yet (so the pid cannot have been reused), and it is > 0 so it names one process.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, signal);
    }
}

pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// SIGTERM, then SIGKILL if it has not exited within `timeout`; always reaps.
fn stop_child(child: &mut Child, timeout: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    send_signal(child.id(), libc::SIGTERM);
    if wait_timeout(child, timeout).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Runs a command-line tool to completion with a timeout, returning (status, stdout, stderr).
pub fn run_tool(cmd: &mut Command, timeout: Duration) -> (Option<ExitStatus>, String, String) {
    let dir = TempDir::new("tool");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let out = File::create(&out_path).expect("create stdout file");
    let err = File::create(&err_path).expect("create stderr file");
    let mut child =
        cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let status = wait_timeout(&mut child, timeout);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    (status, stdout, stderr)
}

/// Runs `redis-cli -p port args...` and returns its stdout (panics on failure to run).
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let mut cmd = Command::new(redis_tool("redis-cli"));
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(args);
    let (status, out, err) = run_tool(&mut cmd, Duration::from_secs(60));
    assert!(status.is_some(), "redis-cli {args:?} timed out; stdout {out:?} stderr {err:?}");
    out
}

/// CRC16 (XMODEM), as Redis Cluster uses for key slots.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// The hash slot of `key`, honouring `{hash tags}`.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    crc16(hashed) & 16383
}

/// The shard that owns `key` in standalone mode with `nshards` shards.
pub fn shard_of(key: &[u8], nshards: usize) -> usize {
    usize::from(key_slot(key)) % nshards.max(1)
}

/// `count` keys named `{prefix}{n}` that live on shard `shard` of `nshards`.
pub fn keys_on_shard(prefix: &str, shard: usize, nshards: usize, count: usize) -> Vec<String> {
    (0..).map(|n| format!("{prefix}{n}")).filter(|k| shard_of(k.as_bytes(), nshards) == shard).take(count).collect()
}

/// Seconds since the epoch.
pub fn unix_now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
