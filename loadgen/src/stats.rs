//! Measurement records: per-command counters and latency histograms kept by each driver
//! thread, the one-second progress interval it sends to the main thread, and merging.
//!
//! Recording never allocates except the first time a new error kind is seen.

use hdrhistogram::Histogram;

use crate::verify::VerifyCounts;

/// Latencies are recorded in microseconds from 1 µs to one hour with 3 significant digits.
pub const LATENCY_MAX_US: u64 = 3_600_000_000;
const LATENCY_SIGFIGS: u8 = 3;

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, LATENCY_SIGFIGS).expect("static histogram bounds are valid")
}

/// Nanoseconds to the microseconds the histograms hold (at least 1).
pub fn latency_us(elapsed_ns: u64) -> u64 {
    (elapsed_ns / 1_000).max(1)
}

/// Redirects and retryable errors: the request was re-sent, so these are not failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Redirects {
    pub moved: u64,
    pub ask: u64,
    pub tryagain: u64,
    pub clusterdown: u64,
}

impl Redirects {
    pub fn add(&mut self, other: &Redirects) {
        self.moved += other.moved;
        self.ask += other.ask;
        self.tryagain += other.tryagain;
        self.clusterdown += other.clusterdown;
    }

    pub fn total(&self) -> u64 {
        self.moved + self.ask + self.tryagain + self.clusterdown
    }
}

#[derive(Debug, Clone)]
pub struct CommandStats {
    pub name: String,
    /// Requests finished, successfully or with a final error.
    pub ops: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Latency of every finished request, errors included.
    pub latency: Histogram<u64>,
    /// Final errors by kind (`ERR`, `WRONGTYPE`, `CONNECTION`, `TIMEOUT` ...).
    pub errors: Vec<(String, u64)>,
    pub redirects: Redirects,
}

impl CommandStats {
    pub fn new(name: &str) -> CommandStats {
        CommandStats {
            name: name.to_string(),
            ops: 0,
            bytes_in: 0,
            bytes_out: 0,
            latency: new_histogram(),
            errors: Vec::new(),
            redirects: Redirects::default(),
        }
    }

    pub fn count_error(&mut self, kind: &[u8]) {
        if let Some(entry) = self.errors.iter_mut().find(|(k, _)| k.as_bytes() == kind) {
            entry.1 += 1;
        } else {
            self.errors.push((String::from_utf8_lossy(kind).into_owned(), 1));
        }
    }

    pub fn error_count(&self) -> u64 {
        self.errors.iter().map(|(_, n)| n).sum()
    }

    pub fn reset(&mut self) {
        self.ops = 0;
        self.bytes_in = 0;
        self.bytes_out = 0;
        self.latency.reset();
        self.errors.clear();
        self.redirects = Redirects::default();
    }

    pub fn merge(&mut self, other: &CommandStats) {
        debug_assert_eq!(self.name, other.name, "merging different commands");
        self.ops += other.ops;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        // Both histograms share bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        for (kind, n) in &other.errors {
            match self.errors.iter_mut().find(|(k, _)| k == kind) {
                Some(entry) => entry.1 += n,
                None => self.errors.push((kind.clone(), *n)),
            }
        }
        self.redirects.add(&other.redirects);
    }
}

/// What one thread measured over the whole run.
#[derive(Debug, Clone)]
pub struct ThreadStats {
    pub commands: Vec<CommandStats>,
    /// Pub/sub deliveries seen by subscribers, with publish-to-delivery latency.
    pub messages: CommandStats,
    /// Connections lost or refused after the run started.
    pub connection_errors: u64,
    pub verify: Option<VerifyCounts>,
    /// Measured phase: from the end of warm-up to the last completion, in ns since base.
    pub measure_start_ns: u64,
    pub measure_end_ns: u64,
}

impl ThreadStats {
    pub fn new(command_names: &[String]) -> ThreadStats {
        ThreadStats {
            commands: command_names.iter().map(|n| CommandStats::new(n)).collect(),
            messages: CommandStats::new("message"),
            connection_errors: 0,
            verify: None,
            measure_start_ns: 0,
            measure_end_ns: 0,
        }
    }

    pub fn reset(&mut self) {
        for c in &mut self.commands {
            c.reset();
        }
        self.messages.reset();
        self.connection_errors = 0;
    }

    pub fn merge(&mut self, other: &ThreadStats) {
        for (mine, theirs) in self.commands.iter_mut().zip(&other.commands) {
            mine.merge(theirs);
        }
        self.messages.merge(&other.messages);
        self.connection_errors += other.connection_errors;
        if let Some(v) = &other.verify {
            self.verify.get_or_insert_with(VerifyCounts::default).add(v);
        }
        self.measure_start_ns = if self.measure_start_ns == 0 {
            other.measure_start_ns
        } else {
            self.measure_start_ns.min(other.measure_start_ns)
        };
        self.measure_end_ns = self.measure_end_ns.max(other.measure_end_ns);
    }
}

/// One thread's last second, sent to the main thread for the progress line.
#[derive(Debug, Clone)]
pub struct Interval {
    pub ops: u64,
    pub errors: u64,
    pub warmup: bool,
    pub latency: Histogram<u64>,
}

impl Interval {
    pub fn new() -> Interval {
        Interval { ops: 0, errors: 0, warmup: false, latency: new_histogram() }
    }

    pub fn reset(&mut self) {
        self.ops = 0;
        self.errors = 0;
        self.latency.reset();
    }
}

impl Default for Interval {
    fn default() -> Self {
        Interval::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_counts_errors_and_latency() {
        let mut a = CommandStats::new("GET");
        let mut b = CommandStats::new("GET");
        a.ops = 2;
        a.latency.saturating_record(10);
        a.count_error(b"ERR");
        b.ops = 3;
        b.latency.saturating_record(1000);
        b.count_error(b"ERR");
        b.count_error(b"WRONGTYPE");
        b.redirects.moved = 4;
        a.merge(&b);
        assert_eq!(a.ops, 5);
        assert_eq!(a.latency.len(), 2);
        assert_eq!(a.errors, vec![("ERR".into(), 2), ("WRONGTYPE".into(), 1)]);
        assert_eq!(a.error_count(), 3);
        assert_eq!(a.redirects.moved, 4);
        a.reset();
        assert_eq!((a.ops, a.latency.len(), a.error_count()), (0, 0, 0));
    }

    #[test]
    fn latency_is_at_least_one_microsecond() {
        assert_eq!(latency_us(0), 1);
        assert_eq!(latency_us(2_500), 2);
    }
}
