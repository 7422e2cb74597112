//! Command-line flags of `tessera-loadgen` and their translation into a `RunConfig` and a
//! `Workload`; everything else lives in the library.

#![deny(unsafe_code)]

use std::path::PathBuf;

use clap::Parser;

use tessera_loadgen::config::{RunConfig, StopAt};
use tessera_loadgen::keyspace::{Distribution, KeyFormat};
use tessera_loadgen::run;
use tessera_loadgen::sync_client::Auth;
use tessera_loadgen::workload::{Ratio, ValueSize, Workload};

/// Load generator for Redis-compatible servers and clusters.
///
/// Latencies are in microseconds. In open loop (--rate) they are measured from each
/// request's intended send time, so a stalled server cannot hide its stall.
#[derive(Debug, Parser)]
#[command(name = "tessera-loadgen", version)]
struct Args {
    /// Server (or cluster seed node) host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Server (or cluster seed node) port.
    #[arg(short, long, default_value_t = 6379)]
    port: u16,
    /// Cluster mode: discover masters with CLUSTER SLOTS, route by slot, follow redirects.
    #[arg(long)]
    cluster: bool,
    /// ACL user for AUTH (needs --pass).
    #[arg(long, requires = "pass")]
    user: Option<String>,
    /// Password for AUTH.
    #[arg(long, short = 'a')]
    pass: Option<String>,

    /// Load threads, each with its own event loop.
    #[arg(short, long, default_value_t = 1)]
    threads: usize,
    /// Connections per thread (per master in cluster mode).
    #[arg(short, long, default_value_t = 50)]
    connections: usize,
    /// Requests in flight per connection.
    #[arg(short = 'P', long, default_value_t = 1)]
    pipeline: usize,
    /// Total requests to send (default 100000 unless --duration is given).
    #[arg(short = 'n', long, conflicts_with = "duration")]
    requests: Option<u64>,
    /// Run time, e.g. 30, 30s, 500ms, 2m.
    #[arg(short, long, value_parser = parse_duration_ms)]
    duration: Option<u64>,
    /// Warm-up before measuring, same format as --duration.
    #[arg(long, value_parser = parse_duration_ms, default_value = "0")]
    warmup: u64,
    /// Open loop: send this many requests per second in total, latency from intended time.
    #[arg(long)]
    rate: Option<f64>,

    /// Workload: set, get, incr, mixed, hset, hget, lpush, lpop, zadd, zrangebyscore, pubsub.
    #[arg(short, long, default_value = "set", conflicts_with = "workload_file")]
    workload: String,
    /// SET:GET ratio for `mixed` (and for --verify).
    #[arg(long, default_value = "1:1")]
    ratio: Ratio,
    /// TOML file of command templates with __key__, __value__, __int__ and weights.
    #[arg(long)]
    workload_file: Option<PathBuf>,
    /// Size of the key space.
    #[arg(short, long, default_value_t = 100_000)]
    keys: u64,
    /// Key distribution: uniform, zipf:THETA (0 < THETA < 1) or sequential.
    #[arg(long, default_value = "uniform")]
    distribution: Distribution,
    /// Value size in bytes: N or MIN-MAX.
    #[arg(long, default_value = "3")]
    value_size: ValueSize,
    /// Prefix of every key.
    #[arg(long, default_value = "key:")]
    key_prefix: String,
    /// Put every key in one slot with this {hash tag}.
    #[arg(long)]
    hash_tag: Option<String>,
    /// Write values derived from key and sequence number, read them back, count mismatches.
    #[arg(long)]
    verify: bool,
    /// Pub/sub subscribers per thread (pubsub workload).
    #[arg(long, default_value_t = 1)]
    subscribers: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// No progress lines.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, scale_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (text, 1_000.0)
    };
    let value: f64 = number.parse().map_err(|e| format!("bad duration {text:?}: {e}"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("bad duration {text:?}"));
    }
    Ok((value * scale_ms).round() as u64)
}

fn build(args: Args) -> Result<(RunConfig, Workload), String> {
    let key_format = KeyFormat::new(&args.key_prefix, args.hash_tag.as_deref());
    let (workload, workload_name) = match &args.workload_file {
        Some(path) => {
            if args.verify {
                return Err("--verify cannot be combined with --workload-file".into());
            }
            let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            (Workload::from_toml(&text, key_format, args.value_size)?, path.display().to_string())
        }
        None => (
            Workload::builtin(&args.workload, args.ratio, key_format, args.value_size, args.verify)?,
            args.workload.clone(),
        ),
    };
    let stop_at = match (args.requests, args.duration) {
        (_, Some(ms)) => StopAt::DurationMs(ms),
        (Some(n), None) => StopAt::Requests(n),
        (None, None) => StopAt::Requests(100_000),
    };
    let config = RunConfig {
        host: args.host,
        port: args.port,
        cluster: args.cluster,
        auth: Auth { user: args.user, pass: args.pass },
        threads: args.threads,
        connections: args.connections,
        pipeline: args.pipeline,
        stop_at,
        warmup_ms: args.warmup,
        rate_per_sec: args.rate,
        keys: args.keys,
        distribution: args.distribution,
        seed: args.seed,
        subscribers: args.subscribers,
        quiet: args.quiet,
        json: args.json,
        workload_name: if args.verify { format!("{workload_name} (verify)") } else { workload_name },
    };
    Ok((config, workload))
}

fn main() {
    let args = Args::parse();
    let code = match build(args) {
        Ok((config, workload)) => run::run(config, workload),
        Err(e) => {
            eprintln!("tessera-loadgen: {e}");
            run::EXIT_FAILED
        }
    };
    std::process::exit(code);
}
