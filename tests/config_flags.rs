//! Start-up configuration and shutdown: unknown settings and bad values are refused at start with
//! a message naming the setting and a non-zero exit; the start-up log names port and pid;
//! SIGTERM and SIGINT shut the server down cleanly (exit status 0).
//!
//! A server that starts despite a bad flag is killed after a bounded wait and reported; nothing
//! here asserts on how fast anything happens.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{free_port, run_tool, tessera_bin, Reply, Server, TempDir};

/// Runs tessera with `args` (plus a free port and a temp dir) and expects it to refuse to start.
fn refused(args: &[&str], must_name: &str) {
    let dir = TempDir::new("badflag");
    let port = free_port().to_string();
    let mut cmd = Command::new(tessera_bin());
    cmd.args(["--port", &port, "--bind", "127.0.0.1", "--dir"]).arg(dir.path()).args(args).current_dir(dir.path());
    let (status, out, err) = run_tool(&mut cmd, Duration::from_secs(30));
    let status =
        status.unwrap_or_else(|| panic!("tessera started with {args:?} instead of refusing; output {out}{err}"));
    assert!(!status.success(), "tessera {args:?} exited with {status}, expected failure; output {out}{err}");
    let text = format!("{out}{err}");
    assert!(text.contains(must_name), "the error for {args:?} must name {must_name:?}; got:\n{text}");
}

#[test]
fn unknown_setting_is_refused_by_name() {
    refused(&["--no-such-setting", "5"], "no-such-setting");
}

#[test]
fn bad_values_are_refused_by_name() {
    refused(&["--maxclients", "lots"], "maxclients");
    refused(&["--cluster-enabled", "maybe"], "cluster-enabled");
    refused(&["--databases", "-3"], "databases");
    refused(&["--loglevel", "chatty"], "loglevel");
}

#[test]
fn startup_log_names_port_and_pid() {
    let server = Server::tessera(2);
    let log = server.log();
    assert!(log.contains(&server.port.to_string()), "start-up log must name the port:\n{log}");
    assert!(log.contains(&server.pid().to_string()), "start-up log must name the pid:\n{log}");
}

fn clean_exit_on(signal: i32) {
    let mut server = Server::tessera(2);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::Simple(b"OK".to_vec()));
    let status = server.signal_and_wait(signal, Duration::from_secs(30));
    let status = status.unwrap_or_else(|| panic!("tessera did not exit within 30 s of signal {signal}"));
    assert!(status.success(), "exit status after signal {signal}: {status}; log:\n{}", server.log());
}

#[test]
fn sigterm_shuts_down_cleanly() {
    clean_exit_on(libc::SIGTERM);
}

#[test]
fn sigint_shuts_down_cleanly() {
    clean_exit_on(libc::SIGINT);
}

#[test]
fn version_flag_prints_and_exits() {
    let mut cmd = Command::new(tessera_bin());
    cmd.arg("--version");
    let (status, out, _) = run_tool(&mut cmd, Duration::from_secs(30));
    assert!(status.map(|s| s.success()).unwrap_or(false), "--version must exit 0");
    assert!(out.contains("v="), "--version output {out:?}");
}
