//! Runs a whole load test: discovers the topology, starts the load threads, prints the
//! progress line every second, merges the threads' statistics and writes the report.
//!
//! The main thread never sends requests; it only talks to the threads over a channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::cluster_map::{ClusterMap, SLOT_COUNT};
use crate::config::RunConfig;
use crate::driver::{self, Msg, Shared};
use crate::keyspace::{Distribution, Zipf};
use crate::report::{Progress, Report};
use crate::stats::ThreadStats;
use crate::sync_client::SyncClient;
use crate::workload::Workload;

/// Process exit codes, for scripts.
pub const EXIT_OK: i32 = 0;
pub const EXIT_VERIFY_MISMATCH: i32 = 1;
pub const EXIT_FAILED: i32 = 2;

const PROGRESS_LAG: Duration = Duration::from_millis(250);

/// Runs the test and returns the process exit code.
pub fn run(config: RunConfig, workload: Workload) -> i32 {
    match try_run(config, workload) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tessera-loadgen: {e}");
            EXIT_FAILED
        }
    }
}

fn try_run(config: RunConfig, workload: Workload) -> Result<i32, String> {
    config.validate()?;
    let map = discover(&config)?;
    let stop = Arc::new(AtomicBool::new(false));
    install_signal_handlers(&stop)?;
    let zipf = match config.distribution {
        Distribution::Zipf(theta) => {
            // Verify gives each thread its own share of keys; the table covers one share.
            let items =
                if workload.verify_ratio.is_some() { config.keys.div_ceil(config.threads as u64) } else { config.keys };
            Some(Arc::new(Zipf::new(items, theta)))
        }
        _ => None,
    };
    let pubsub = workload.pubsub;
    let config = Arc::new(config);
    let shared = Shared {
        config: config.clone(),
        workload: Arc::new(workload),
        zipf,
        map,
        base: Instant::now(),
        stop: stop.clone(),
        barrier: Arc::new(Barrier::new(config.threads)),
    };
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::with_capacity(config.threads);
    for index in 0..config.threads {
        let shared = shared.clone();
        let tx = tx.clone();
        let handle = std::thread::Builder::new()
            .name(format!("load-{index}"))
            .spawn(move || driver::run_thread(index, shared, tx))
            .map_err(|e| format!("spawning a load thread: {e}"))?;
        handles.push(handle);
    }
    drop(tx);

    let mut progress = Progress::new();
    let started = Instant::now();
    // Threads close their seconds on their own clocks; printing a little later makes sure
    // every thread's interval for that second has arrived.
    let mut next_line = Duration::from_secs(1) + PROGRESS_LAG;
    let mut results: Vec<ThreadStats> = Vec::with_capacity(config.threads);
    let mut failure = None;
    let mut done = 0;
    while done < config.threads {
        let wait = next_line.saturating_sub(started.elapsed());
        match rx.recv_timeout(wait) {
            Ok(Msg::Progress { interval }) => progress.add(&interval),
            Ok(Msg::Done { result }) => {
                done += 1;
                match result {
                    Ok(stats) => results.push(stats),
                    Err(e) => {
                        // One thread failing to set up stops the others.
                        stop.store(true, Ordering::Relaxed);
                        failure.get_or_insert(e);
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if started.elapsed() >= next_line {
            if !config.quiet && failure.is_none() {
                eprintln!("{}", progress.line((next_line - PROGRESS_LAG).as_secs()));
            }
            next_line += Duration::from_secs(1);
        }
    }
    for handle in handles {
        if handle.join().is_err() {
            failure.get_or_insert_with(|| "a load thread panicked".to_string());
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let mut merged = results.first().cloned().ok_or("no load thread reported results")?;
    for other in &results[1..] {
        merged.merge(other);
    }
    let report = Report::build(&config, &merged, pubsub, stop.load(Ordering::Relaxed));
    print!("{}", report.table());
    if let Some(path) = &config.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| format!("encoding the JSON report: {e}"))?;
        std::fs::write(path, text + "\n").map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let mismatches = report.verify.map_or(0, |v| v.total_mismatches());
    Ok(if mismatches > 0 {
        eprintln!("verify FAILED: {mismatches} mismatches");
        EXIT_VERIFY_MISMATCH
    } else {
        EXIT_OK
    })
}

/// The slot map: `CLUSTER SLOTS` from the seed node, or one node owning every slot.
fn discover(config: &RunConfig) -> Result<ClusterMap, String> {
    let seed = config.seed_addr();
    let mut client = SyncClient::connect(&seed, &config.auth).map_err(|e| format!("connecting to {seed}: {e}"))?;
    if !config.cluster {
        return Ok(ClusterMap::single(&seed));
    }
    let reply = client.command(&[b"CLUSTER", b"SLOTS"]).map_err(|e| format!("CLUSTER SLOTS on {seed}: {e}"))?;
    let map = ClusterMap::from_cluster_slots(&reply, &config.host)?;
    let covered = map.covered_slots();
    if covered == 0 {
        return Err(format!("{seed} reports no slots: is it a cluster node?"));
    }
    if covered < SLOT_COUNT {
        eprintln!("warning: only {covered} of {SLOT_COUNT} slots have a master");
    }
    if !config.quiet {
        eprintln!("cluster: {} masters: {}", map.nodes().len(), map.nodes().join(" "));
    }
    Ok(map)
}

/// First SIGINT/SIGTERM: stop and report. Second: exit at once.
fn install_signal_handlers(stop: &Arc<AtomicBool>) -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(signal, stop.clone()))
            .map_err(|e| format!("installing the signal handler: {e}"))?;
    }
    Ok(())
}
