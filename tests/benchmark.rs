//! `redis-benchmark` as a client: the issue's exact command line against `--shards 2` must run
//! to completion with no error replies. Throughput figures are printed, never asserted on (the
//! comparison with Redis lives in `benches/compare.sh`).
//!
//! redis-benchmark runs its tests in a fixed order (SET GET INCR LPUSH ... MSET) and exits at
//! the first error reply, so SET/GET/INCR/MSET are also run without LPUSH: that run must always
//! be clean, while the full command is allowed to stop only at LPUSH with Redis's unknown-command
//! error until lists exist (what it did is printed).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{redis_tool, run_tool, Reply, Server};

/// Result lines (`NAME: N requests per second, ...`) by test name.
fn result_lines(out: &str) -> Vec<(String, f64)> {
    out.split(['\r', '\n'])
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(": ")?;
            let (rps, _) = rest.split_once(" requests per second")?;
            Some((name.to_string(), rps.trim().parse().ok()?))
        })
        .collect()
}

fn benchmark(port: u16, tests: &str) -> (Option<std::process::ExitStatus>, String, String) {
    let mut cmd = Command::new(redis_tool("redis-benchmark"));
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", tests, "-n", "200000", "-P", "16", "-q"]);
    run_tool(&mut cmd, Duration::from_secs(600))
}

fn assert_line(lines: &[(String, f64)], name: &str, out: &str) {
    let rps = lines
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("no {name:?} result line in redis-benchmark output:\n{out}"));
    assert!(rps > 0.0, "{name} reported {rps} requests per second");
}

#[test]
fn set_get_incr_mset_without_errors() {
    let server = Server::tessera(2);
    let (status, out, err) = benchmark(server.port, "set,get,incr,mset");
    let status = status.expect("redis-benchmark did not finish within 600 s");
    let lines = result_lines(&out);
    println!("redis-benchmark -t set,get,incr,mset -P 16: {lines:?}");
    assert!(status.success(), "redis-benchmark exited with {status}\nstdout:\n{out}\nstderr:\n{err}");
    assert!(!err.contains("Error") && !out.contains("Error"), "error replies:\n{out}\n{err}");
    for name in ["SET", "GET", "INCR", "MSET (10 keys)"] {
        assert_line(&lines, name, &out);
    }
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(c.cmd(&["GET", "counter:__rand_int__"]), Reply::Bulk(b"200000".to_vec()));
}

#[test]
fn issue_command_line_with_lpush() {
    let server = Server::tessera(2);
    let (status, out, err) = benchmark(server.port, "set,get,incr,mset,lpush");
    let status = status.expect("redis-benchmark did not finish within 600 s");
    let lines = result_lines(&out);
    println!("redis-benchmark -t set,get,incr,mset,lpush -P 16: exit {status}, results {lines:?}");
    for name in ["SET", "GET", "INCR"] {
        assert_line(&lines, name, &out);
    }
    if status.success() && !err.contains("Error") {
        assert_line(&lines, "LPUSH", &out);
        assert_line(&lines, "MSET (10 keys)", &out);
    } else {
        println!("LPUSH is not served yet; redis-benchmark said: {}", err.trim());
        assert!(
            err.contains("Error from server: ERR unknown command 'LPUSH'"),
            "the only acceptable failure is LPUSH being unknown:\nstdout:\n{out}\nstderr:\n{err}"
        );
    }
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()), "the server must survive the benchmark");
}
