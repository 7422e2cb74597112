//! Test fixtures: real `redis-server` processes on free ports (killed on drop), a 3-master
//! Redis Cluster, and a runner for the built `tessera-loadgen` binary.
//!
//! Nothing here may leave a process or a directory behind: every server is killed by pid
//! in `Drop`, and data lives in a `TempDir` that is dropped after the servers.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rand::Rng;
use tessera_loadgen::resp::Value;
use tessera_loadgen::sync_client::{Auth, SyncClient};

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
pub const REDIS_CLI: &str = "/usr/bin/redis-cli";
const START_TIMEOUT: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 5;

/// A port that is free now, and whose cluster bus port (+10000) is free too.
pub fn free_port() -> u16 {
    let mut rng = rand::thread_rng();
    loop {
        // Below the kernel's ephemeral range so outgoing connections do not take it.
        let port: u16 = rng.gen_range(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

pub struct Redis {
    pub port: u16,
    child: Child,
}

impl Redis {
    /// Starts `redis-server` with data in `dir`; retries on another port if it fails.
    /// `{port}` in `extra` is replaced by the chosen port.
    pub fn start(dir: &Path, extra: &[&str]) -> Redis {
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let extra: Vec<String> = extra.iter().map(|a| a.replace("{port}", &port.to_string())).collect();
            let log = std::fs::File::create(dir.join(format!("redis-{port}.log"))).expect("create log file");
            let mut child = Command::new(REDIS_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir)
                .args(&extra)
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + START_TIMEOUT;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if serves_port(child.id(), port) {
                    return Redis { port, child };
                }
                sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> SyncClient {
        SyncClient::connect(&self.addr(), &Auth::default()).expect("connect to redis")
    }

    /// `calls` of one command from `INFO commandstats`.
    pub fn command_calls(&self, command: &str) -> u64 {
        let info = match self.client().command(&[b"INFO", b"commandstats"]) {
            Ok(v) => v.as_text().unwrap_or_default(),
            Err(e) => panic!("INFO failed: {e}"),
        };
        let prefix = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |n| n.parse().expect("calls is a number"))
    }
}

/// Whether the server answering on `port` is process `pid`, and not another test's server
/// that won a race for the same port.
fn serves_port(pid: u32, port: u16) -> bool {
    let Ok(mut c) = SyncClient::connect(&format!("127.0.0.1:{port}"), &Auth::default()) else {
        return false;
    };
    match c.command(&[b"INFO", b"server"]) {
        // Password-protected: only the AUTH test starts such a server, so it is ours.
        Ok(Value::Error(e)) => e.starts_with("NOAUTH"),
        Ok(info) => info.as_text().is_some_and(|t| t.contains(&format!("process_id:{pid}\r\n"))),
        Err(_) => false,
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the loadgen binary to completion.
pub fn loadgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera-loadgen"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tessera-loadgen")
}

/// Starts the loadgen binary in the background.
pub fn spawn_loadgen(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tessera-loadgen"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tessera-loadgen")
}

/// Kills a background child on drop unless it was waited for.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    pub fn wait(mut self) -> Output {
        self.0.take().expect("child present").wait_with_output().expect("wait for child")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read JSON report");
    serde_json::from_str(&text).expect("JSON report parses")
}

pub fn json_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

pub fn u64_at(json: &serde_json::Value, pointer: &str) -> u64 {
    json.pointer(pointer)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {json}"))
}

pub fn text(value: &Value) -> String {
    value.as_text().unwrap_or_else(|| format!("{value:?}"))
}

pub fn cmd(client: &mut SyncClient, args: &[&str]) -> Value {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    client.command(&bytes).expect("command")
}
