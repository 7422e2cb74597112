//! The validated run configuration every thread reads, and the hard limits on it.
//!
//! `main.rs` turns command-line flags into a `RunConfig`; nothing after that point parses
//! user input.

use std::path::PathBuf;

use crate::keyspace::Distribution;
use crate::sync_client::Auth;

pub const MAX_THREADS: usize = 1024;
pub const MAX_CONNECTIONS_PER_THREAD: usize = 10_000;
pub const MAX_PIPELINE: usize = 10_000;
/// Verify mode keeps a few bytes of state per key, so the key space is bounded.
pub const MAX_KEYS: u64 = 1 << 32;

/// When the measured phase ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAt {
    /// After this many requests in total (split evenly across threads).
    Requests(u64),
    /// After this long, then in-flight requests drain.
    DurationMs(u64),
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub host: String,
    pub port: u16,
    pub cluster: bool,
    pub auth: Auth,
    pub threads: usize,
    /// Per thread, and per master in cluster mode.
    pub connections: usize,
    pub pipeline: usize,
    pub stop_at: StopAt,
    pub warmup_ms: u64,
    /// Open-loop target rate over all threads; `None` is closed loop.
    pub rate_per_sec: Option<f64>,
    pub keys: u64,
    pub distribution: Distribution,
    pub seed: u64,
    /// Pub/sub subscriber connections per thread.
    pub subscribers: usize,
    pub quiet: bool,
    pub json: Option<PathBuf>,
    /// For the report header.
    pub workload_name: String,
}

impl RunConfig {
    pub fn seed_addr(&self) -> String {
        crate::cluster_map::join_host_port(&self.host, i64::from(self.port))
    }

    /// Checks the limits; called once before any thread starts.
    pub fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
        check((1..=MAX_THREADS).contains(&self.threads), "--threads must be between 1 and 1024")?;
        check(
            (1..=MAX_CONNECTIONS_PER_THREAD).contains(&self.connections),
            "--connections must be between 1 and 10000",
        )?;
        check((1..=MAX_PIPELINE).contains(&self.pipeline), "--pipeline must be between 1 and 10000")?;
        check((1..=MAX_KEYS).contains(&self.keys), "--keys must be between 1 and 2^32")?;
        check(
            self.keys >= self.threads as u64,
            "--keys must be at least --threads (each thread owns a share of the keys)",
        )?;
        if let Some(rate) = self.rate_per_sec {
            check(rate.is_finite() && rate > 0.0, "--rate must be positive")?;
        }
        match self.stop_at {
            StopAt::Requests(n) => check(n > 0, "--requests must be positive"),
            StopAt::DurationMs(ms) => check(ms > 0, "--duration must be positive"),
        }
    }

    /// This thread's share of `--requests`.
    pub fn thread_quota(&self, thread: usize) -> Option<u64> {
        match self.stop_at {
            StopAt::Requests(total) => {
                let threads = self.threads as u64;
                let extra = u64::from((thread as u64) < total % threads);
                Some(total / threads + extra)
            }
            StopAt::DurationMs(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RunConfig {
        RunConfig {
            host: "127.0.0.1".into(),
            port: 6379,
            cluster: false,
            auth: Auth::default(),
            threads: 3,
            connections: 1,
            pipeline: 1,
            stop_at: StopAt::Requests(10),
            warmup_ms: 0,
            rate_per_sec: None,
            keys: 100,
            distribution: Distribution::Uniform,
            seed: 0,
            subscribers: 1,
            quiet: true,
            json: None,
            workload_name: "set".into(),
        }
    }

    #[test]
    fn quotas_add_up() {
        let c = config();
        let sum: u64 = (0..3).map(|t| c.thread_quota(t).unwrap()).sum();
        assert_eq!(sum, 10);
        assert!(c.validate().is_ok());
        let mut bad = config();
        bad.pipeline = 0;
        assert!(bad.validate().is_err());
    }
}
