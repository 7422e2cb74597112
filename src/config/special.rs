//! Settings whose value is not one number, flag, enum or string: `save`, `bind`, `dir`,
//! `notify-keyspace-events`, `client-output-buffer-limit`, `replicaof`,
//! `latency-tracking-info-percentiles`, `oom-score-adj-values`, `shutdown-on-sig*`.
//!
//! Owns their parsing (with Redis 7.0's error texts), their CONFIG GET formatting, their
//! defaults and their CONFIG REWRITE lines. It must never touch the running server: `dir`
//! resolves the path against the previous `dir` (as Redis's chained `chdir` would) but does
//! not change the process's working directory.

use std::path::PathBuf;

use super::parse::{format_memory, memtoull, split_spaces, strtoll_whole};
use super::table::{SpecialOps, Value};
use super::types::{notify, ClientClass, OutputBufferLimit, ReplicaOf, SavePoint};
use super::Config;

/// Redis CONFIG_BINDADDR_MAX.
const BIND_ADDRESSES_MAX: usize = 16;

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

/// Redis treats a single empty argument as "no arguments" for list-like settings, so that
/// `--save ''` and `save ""` mean "none".
fn none_if_single_empty(args: &[String]) -> &[String] {
    match args {
        [only] if only.is_empty() => &[],
        _ => args,
    }
}

pub(crate) static SAVE: SpecialOps = SpecialOps {
    set: set_save,
    get: |c| {
        let parts: Vec<String> = c.save.iter().map(|p| format!("{} {}", p.seconds, p.changes)).collect();
        parts.join(" ")
    },
    init: |c| {
        c.save = [(3600, 1), (300, 100), (60, 10000)]
            .into_iter()
            .map(|(seconds, changes)| SavePoint { seconds, changes })
            .collect();
    },
    rewrite: |c| {
        if c.save.is_empty() {
            return vec![words(&[""])];
        }
        c.save.iter().map(|p| vec![p.seconds.to_string(), p.changes.to_string()]).collect()
    },
};

/// Replaces the save points (the loader appends repeated `save` lines itself).
pub(crate) fn set_save(c: &mut Config, args: &[String]) -> Result<(), String> {
    const INVALID: &str = "Invalid save parameters";
    let args = none_if_single_empty(args);
    if !args.len().is_multiple_of(2) {
        return Err(INVALID.to_owned());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks_exact(2) {
        let [seconds, changes] = pair else {
            return Err(INVALID.to_owned());
        };
        let seconds = strtoll_whole(seconds).and_then(|s| u64::try_from(s).ok());
        let changes = strtoll_whole(changes).and_then(|n| u64::try_from(n).ok());
        match (seconds, changes) {
            (Some(seconds), Some(changes)) if seconds >= 1 => points.push(SavePoint { seconds, changes }),
            _ => return Err(INVALID.to_owned()),
        }
    }
    c.save = points;
    Ok(())
}

pub(crate) static BIND: SpecialOps = SpecialOps {
    set: |c, args| {
        if args.len() > BIND_ADDRESSES_MAX {
            return Err("Too many bind addresses specified.".to_owned());
        }
        c.bind = none_if_single_empty(args).to_vec();
        Ok(())
    },
    get: |c| c.bind.join(" "),
    init: |c| c.bind = words(&["*", "-::*"]),
    rewrite: |c| vec![c.bind.clone()],
};

pub(crate) static DIR: SpecialOps = SpecialOps {
    set: |c, args| {
        let [path] = args else {
            return Err("wrong number of arguments".to_owned());
        };
        if path.is_empty() {
            // chdir("") fails with ENOENT; joining "" would silently keep the old dir.
            return Err("No such file or directory".to_owned());
        }
        let base = if c.dir.is_absolute() { c.dir.clone() } else { current_dir() };
        let resolved = std::fs::canonicalize(base.join(path)).map_err(|e| io_error_text(&e))?;
        if !resolved.is_dir() {
            return Err("Not a directory".to_owned());
        }
        c.dir = resolved;
        Ok(())
    },
    get: |c| c.dir.to_string_lossy().into_owned(),
    init: |c| c.dir = current_dir(),
    rewrite: |c| vec![vec![c.dir.to_string_lossy().into_owned()]],
};

fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// The `strerror` text of an I/O error, as Redis reports a failed `chdir` or `fopen`.
pub(crate) fn io_error_text(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

pub(crate) static NOTIFY_KEYSPACE_EVENTS: SpecialOps = SpecialOps {
    set: |c, args| {
        let [classes] = args else {
            return Err("wrong number of arguments".to_owned());
        };
        c.notify_keyspace_events =
            notify::parse(classes).ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_owned())?;
        Ok(())
    },
    get: |c| notify::format(c.notify_keyspace_events),
    init: |c| c.notify_keyspace_events = 0,
    rewrite: |c| vec![vec![notify::format(c.notify_keyspace_events)]],
};

pub(crate) static CLIENT_OUTPUT_BUFFER_LIMIT: SpecialOps = SpecialOps {
    set: set_client_output_buffer_limit,
    get: |c| {
        let parts: Vec<String> = ClientClass::ALL
            .iter()
            .map(|class| {
                let l = c.client_output_buffer_limit.get(*class);
                format!("{} {} {} {}", class.as_str(), l.hard_bytes, l.soft_bytes, l.soft_s)
            })
            .collect();
        parts.join(" ")
    },
    init: |c| {
        let limits = &mut c.client_output_buffer_limit;
        limits.normal = OutputBufferLimit { hard_bytes: 0, soft_bytes: 0, soft_s: 0 };
        limits.replica = OutputBufferLimit { hard_bytes: 256 << 20, soft_bytes: 64 << 20, soft_s: 60 };
        limits.pubsub = OutputBufferLimit { hard_bytes: 32 << 20, soft_bytes: 8 << 20, soft_s: 60 };
    },
    rewrite: |c| {
        ClientClass::ALL
            .iter()
            .map(|class| {
                let l = c.client_output_buffer_limit.get(*class);
                vec![
                    class.as_str().to_owned(),
                    format_memory(i128::from(l.hard_bytes)),
                    format_memory(i128::from(l.soft_bytes)),
                    l.soft_s.to_string(),
                ]
            })
            .collect()
    },
};

fn set_client_output_buffer_limit(c: &mut Config, args: &[String]) -> Result<(), String> {
    if args.is_empty() || !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".to_owned());
    }
    // Check every group before changing anything, so a bad group rejects the whole value.
    let mut updated = c.client_output_buffer_limit;
    for group in args.chunks_exact(4) {
        let [class, hard, soft, soft_s] = group else {
            return Err("Wrong number of arguments in buffer limit configuration.".to_owned());
        };
        let class = match class.to_ascii_lowercase().as_str() {
            "normal" => ClientClass::Normal,
            "slave" | "replica" => ClientClass::Replica,
            "pubsub" => ClientClass::Pubsub,
            _ => return Err("Invalid client class specified in buffer limit configuration.".to_owned()),
        };
        let soft_s = strtoll_whole(soft_s).and_then(|s| u64::try_from(s).ok());
        match (memtoull(hard), memtoull(soft), soft_s) {
            (Some(hard_bytes), Some(soft_bytes), Some(soft_s)) => {
                updated.set(class, OutputBufferLimit { hard_bytes, soft_bytes, soft_s })
            }
            _ => {
                return Err("Error in hard, soft or soft_seconds setting in buffer limit \
                            configuration."
                    .to_owned())
            }
        }
    }
    c.client_output_buffer_limit = updated;
    Ok(())
}

pub(crate) static REPLICAOF: SpecialOps = SpecialOps {
    set: |c, args| {
        let [host, port] = args else {
            return Err("wrong number of arguments".to_owned());
        };
        if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
            c.replicaof = None;
            return Ok(());
        }
        let port =
            strtoll_whole(port).and_then(|p| u16::try_from(p).ok()).ok_or_else(|| "Invalid master port".to_owned())?;
        c.replicaof = Some(ReplicaOf { host: host.clone(), port });
        Ok(())
    },
    get: |c| match &c.replicaof {
        Some(master) => format!("{} {}", master.host, master.port),
        None => String::new(),
    },
    init: |c| c.replicaof = None,
    rewrite: |c| match &c.replicaof {
        Some(master) => vec![vec![master.host.clone(), master.port.to_string()]],
        None => Vec::new(),
    },
};

pub(crate) static LATENCY_PERCENTILES: SpecialOps = SpecialOps {
    set: |c, args| {
        let mut values = Vec::new();
        for word in none_if_single_empty(args) {
            let value = parse_long_double(word)
                .ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_owned())?;
            if !(0.0..=100.0).contains(&value) {
                return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".to_owned());
            }
            values.push(value);
        }
        c.latency_tracking_info_percentiles = values;
        Ok(())
    },
    get: |c| percentile_words(c).join(" "),
    init: |c| c.latency_tracking_info_percentiles = vec![50.0, 99.0, 99.9],
    rewrite: |c| {
        let list = percentile_words(c);
        if list.is_empty() {
            vec![words(&[""])]
        } else {
            vec![list]
        }
    },
};

/// Redis `string2ld`: a finite number with nothing around it.
fn parse_long_double(word: &str) -> Option<f64> {
    let plain = word.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !plain || word.is_empty() {
        return None;
    }
    word.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Redis prints each percentile with `%f` and then trims trailing zeros and the dot.
fn percentile_words(c: &Config) -> Vec<String> {
    c.latency_tracking_info_percentiles
        .iter()
        .map(|p| {
            let text = format!("{p:.6}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        })
        .collect()
}

pub(crate) static OOM_SCORE_ADJ_VALUES: SpecialOps = SpecialOps {
    set: |c, args| {
        if args.len() != 3 {
            return Err("wrong number of arguments".to_owned());
        }
        let mut values = Vec::with_capacity(3);
        for word in args {
            match strtoll_whole(word) {
                Some(v) if (-2000..=2000).contains(&v) => values.push(v.to_string()),
                _ => {
                    return Err("Invalid oom-score-adj-values, elements must be between -2000 \
                                and 2000."
                        .to_owned())
                }
            }
        }
        c.compat.insert("oom-score-adj-values", Value::Str(values.join(" ")));
        Ok(())
    },
    get: |c| compat_text(c, "oom-score-adj-values", "0 200 800"),
    init: |_| {},
    rewrite: |c| vec![split_spaces(&compat_text(c, "oom-score-adj-values", "0 200 800"))],
};

fn compat_text(c: &Config, name: &str, default: &str) -> String {
    match c.compat.get(name) {
        Some(Value::Str(text)) => text.clone(),
        _ => default.to_owned(),
    }
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flags, in Redis's order.
const SHUTDOWN_FLAGS: [&str; 5] = ["default", "save", "nosave", "now", "force"];

fn set_shutdown_flags(c: &mut Config, name: &'static str, args: &[String]) -> Result<(), String> {
    let mut mask = 0u32;
    for word in args {
        let position = SHUTDOWN_FLAGS
            .iter()
            .position(|f| f.eq_ignore_ascii_case(word))
            .ok_or_else(|| format!("argument(s) must be one of the following: {}", SHUTDOWN_FLAGS.join(", ")))?;
        // "default" is the empty set; the others are bits 0..3.
        if position > 0 {
            mask |= 1 << (position - 1);
        }
    }
    if mask & 0b01 != 0 && mask & 0b10 != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".to_owned());
    }
    let text = if mask == 0 {
        "default".to_owned()
    } else {
        let names: Vec<&str> = SHUTDOWN_FLAGS
            .iter()
            .skip(1)
            .enumerate()
            .filter(|(bit, _)| mask & (1 << bit) != 0)
            .map(|(_, name)| *name)
            .collect();
        names.join(" ")
    };
    c.compat.insert(name, Value::Str(text));
    Ok(())
}

pub(crate) static SHUTDOWN_ON_SIGINT: SpecialOps = SpecialOps {
    set: |c, args| set_shutdown_flags(c, "shutdown-on-sigint", args),
    get: |c| compat_text(c, "shutdown-on-sigint", "default"),
    init: |_| {},
    rewrite: |c| vec![split_spaces(&compat_text(c, "shutdown-on-sigint", "default"))],
};

pub(crate) static SHUTDOWN_ON_SIGTERM: SpecialOps = SpecialOps {
    set: |c, args| set_shutdown_flags(c, "shutdown-on-sigterm", args),
    get: |c| compat_text(c, "shutdown-on-sigterm", "default"),
    init: |_| {},
    rewrite: |c| vec![split_spaces(&compat_text(c, "shutdown-on-sigterm", "default"))],
};
