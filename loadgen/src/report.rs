//! What the user sees: the one-line-per-second progress, the final per-command table and
//! the same numbers as JSON (`--json FILE`).
//!
//! Only formats merged statistics; it never measures anything itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::config::RunConfig;
use crate::stats::{self, CommandStats, Interval, Redirects, ThreadStats};
use crate::verify::VerifyCounts;

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub p99_99: u64,
    pub max: u64,
    pub mean: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        let q = |quantile| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(quantile)
            }
        };
        Latency {
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p99_9: q(0.999),
            p99_99: q(0.9999),
            max: if h.is_empty() { 0 } else { h.max() },
            mean: if h.is_empty() { 0.0 } else { h.mean() },
        }
    }
}

/// One table row: a command, the pub/sub deliveries, or the total.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub ops: u64,
    pub ops_per_sec: f64,
    /// Microseconds.
    pub latency_us: Latency,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub redirects: Redirects,
}

impl Row {
    fn of(stats: &CommandStats, seconds: f64) -> Row {
        Row {
            name: stats.name.clone(),
            ops: stats.ops,
            ops_per_sec: per_second(stats.ops, seconds),
            latency_us: Latency::of(&stats.latency),
            bytes_in: stats.bytes_in,
            bytes_out: stats.bytes_out,
            errors: stats.error_count(),
            errors_by_kind: stats.errors.iter().cloned().collect(),
            redirects: stats.redirects,
        }
    }
}

fn per_second(ops: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        ops as f64 / seconds
    } else {
        0.0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub cluster: bool,
    pub workload: String,
    pub threads: usize,
    pub connections: usize,
    pub pipeline: usize,
    pub rate_per_sec: Option<f64>,
    pub interrupted: bool,
    /// From the end of warm-up to the last completion.
    pub duration_s: f64,
    pub totals: Row,
    pub commands: Vec<Row>,
    /// Pub/sub deliveries (publish-to-receive latency); only for the pubsub workload.
    pub messages: Option<Row>,
    pub redirects: Redirects,
    pub connection_errors: u64,
    pub verify: Option<VerifyCounts>,
}

impl Report {
    pub fn build(config: &RunConfig, merged: &ThreadStats, pubsub: bool, interrupted: bool) -> Report {
        let seconds = merged.measure_end_ns.saturating_sub(merged.measure_start_ns) as f64 / 1e9;
        let mut total = CommandStats::new("total");
        let mut redirects = Redirects::default();
        for c in &merged.commands {
            let mut renamed = c.clone();
            renamed.name = total.name.clone();
            total.merge(&renamed);
            redirects.add(&c.redirects);
        }
        Report {
            target: config.seed_addr(),
            cluster: config.cluster,
            workload: config.workload_name.clone(),
            threads: config.threads,
            connections: config.connections,
            pipeline: config.pipeline,
            rate_per_sec: config.rate_per_sec,
            interrupted,
            duration_s: seconds,
            totals: Row::of(&total, seconds),
            commands: merged.commands.iter().map(|c| Row::of(c, seconds)).collect(),
            messages: pubsub.then(|| Row::of(&merged.messages, seconds)),
            redirects,
            connection_errors: merged.connection_errors,
            verify: merged.verify,
        }
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{} {} | {} thread(s) x {} conn(s) x pipeline {} | {:.2} s{}",
            self.workload,
            self.target,
            self.threads,
            self.connections,
            self.pipeline,
            self.duration_s,
            if self.interrupted { " (interrupted)" } else { "" }
        );
        let _ = writeln!(
            out,
            "{:<16} {:>11} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10} {:>7}",
            "command", "ops", "ops/s", "p50", "p90", "p99", "p99.9", "p99.99", "max", "in", "out", "errors"
        );
        let mut rows: Vec<&Row> = self.commands.iter().filter(|r| r.ops > 0).collect();
        if let Some(m) = &self.messages {
            rows.push(m);
        }
        if self.commands.len() > 1 {
            rows.push(&self.totals);
        }
        for r in rows {
            let l = &r.latency_us;
            let _ = writeln!(
                out,
                "{:<16} {:>11} {:>11.0} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10} {:>7}",
                r.name,
                r.ops,
                r.ops_per_sec,
                l.p50,
                l.p90,
                l.p99,
                l.p99_9,
                l.p99_99,
                l.max,
                human_bytes(r.bytes_in),
                human_bytes(r.bytes_out),
                r.errors
            );
        }
        let _ = writeln!(out, "latencies in microseconds");
        for r in &self.commands {
            if !r.errors_by_kind.is_empty() {
                let kinds: Vec<String> = r.errors_by_kind.iter().map(|(k, n)| format!("{k}={n}")).collect();
                let _ = writeln!(out, "errors {}: {}", r.name, kinds.join(" "));
            }
        }
        let d = &self.redirects;
        if self.cluster || d.total() > 0 {
            let _ = writeln!(
                out,
                "redirects: MOVED={} ASK={} TRYAGAIN={} CLUSTERDOWN={}",
                d.moved, d.ask, d.tryagain, d.clusterdown
            );
        }
        if self.connection_errors > 0 {
            let _ = writeln!(out, "connection errors: {}", self.connection_errors);
        }
        if let Some(v) = &self.verify {
            let _ = writeln!(
                out,
                "verify: {} reads checked, {} mismatches; read-back {} keys checked, {} mismatches; {} keys unknown",
                v.checked, v.mismatches, v.readback_checked, v.readback_mismatches, v.unknown_keys
            );
        }
        out
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n}B")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

/// Accumulates the threads' one-second intervals for the progress line.
pub struct Progress {
    so_far: Histogram<u64>,
    second: Interval,
    errors_so_far: u64,
    warmup: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress { so_far: stats::new_histogram(), second: Interval::new(), errors_so_far: 0, warmup: false }
    }

    pub fn add(&mut self, interval: &Interval) {
        self.second.ops += interval.ops;
        self.second.errors += interval.errors;
        let _ = self.second.latency.add(&interval.latency);
        self.warmup |= interval.warmup;
        if !interval.warmup {
            let _ = self.so_far.add(&interval.latency);
            self.errors_so_far += interval.errors;
        }
    }

    /// The line for the second that just ended, then starts the next second.
    pub fn line(&mut self, elapsed_s: u64) -> String {
        let line = if self.warmup {
            format!(
                "[{elapsed_s:>4}s] warm-up {:>10} ops/s  p50 {} us  p99 {} us",
                self.second.ops,
                q(&self.second.latency, 0.5),
                q(&self.second.latency, 0.99)
            )
        } else {
            format!(
                "[{elapsed_s:>4}s] {:>10} ops/s  p50 {} us  p99 {} us (so far)  errors {}",
                self.second.ops,
                q(&self.so_far, 0.5),
                q(&self.so_far, 0.99),
                self.errors_so_far
            )
        };
        self.second.reset();
        self.warmup = false;
        line
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

fn q(h: &Histogram<u64>, quantile: f64) -> u64 {
    if h.is_empty() {
        0
    } else {
        h.value_at_quantile(quantile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_scales() {
        assert_eq!(human_bytes(12), "12B");
        assert_eq!(human_bytes(2048), "2.0KiB");
        assert_eq!(human_bytes(3 << 20), "3.0MiB");
    }

    #[test]
    fn progress_keeps_warmup_out_of_so_far() {
        let mut p = Progress::new();
        let mut warm = Interval::new();
        warm.warmup = true;
        warm.ops = 5;
        warm.latency.saturating_record(1_000_000);
        p.add(&warm);
        assert!(p.line(1).contains("warm-up"));
        let mut real = Interval::new();
        real.ops = 7;
        real.latency.saturating_record(10);
        p.add(&real);
        let line = p.line(2);
        assert!(line.contains("7 ops/s") && line.contains("p99 10 us"), "{line}");
    }
}
