//! The server log, in Redis's line format (`pid:role dd Mon yyyy hh:mm:ss.mmm level msg`) so
//! log shippers' Redis parsers keep working. Level and file come from `loglevel`/`logfile`,
//! set once at startup; writes are whole lines with one `write` each.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

static LEVEL: AtomicU8 = AtomicU8::new(2);
static FILE: OnceLock<Option<std::fs::File>> = OnceLock::new();

pub const DEBUG: u8 = 0;
pub const VERBOSE: u8 = 1;
pub const NOTICE: u8 = 2;
pub const WARNING: u8 = 3;

pub fn level_from_name(name: &str) -> u8 {
    match name {
        "debug" => DEBUG,
        "verbose" => VERBOSE,
        "warning" => WARNING,
        _ => NOTICE,
    }
}

/// Sets the level and opens `logfile` (empty: standard output).
pub fn init(level: &str, logfile: &str) -> Result<(), String> {
    LEVEL.store(level_from_name(level), Ordering::Relaxed);
    let f = if logfile.is_empty() {
        None
    } else {
        Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logfile)
                .map_err(|e| format!("Can't open the log file '{logfile}': {e}"))?,
        )
    };
    let _ = FILE.set(f);
    Ok(())
}

pub fn set_level(level: &str) {
    LEVEL.store(level_from_name(level), Ordering::Relaxed);
}

fn timestamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let mut tm: libc::tm = unsafe_zeroed_tm();
    // SAFETY: localtime_r writes into our tm; secs is a valid time_t.
    #[allow(unsafe_code)]
    unsafe {
        libc::localtime_r(&secs, &mut tm);
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS.get(tm.tm_mon as usize).unwrap_or(&"Jan"),
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

fn unsafe_zeroed_tm() -> libc::tm {
    // SAFETY: libc::tm is plain old data; all-zero is a valid value.
    #[allow(unsafe_code)]
    unsafe {
        std::mem::zeroed()
    }
}

pub fn log(level: u8, msg: &str) {
    if level < LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let mark = match level {
        DEBUG => '.',
        VERBOSE => '-',
        NOTICE => '*',
        _ => '#',
    };
    let line = format!("{}:M {} {} {}\n", std::process::id(), timestamp(), mark, msg);
    match FILE.get().and_then(|f| f.as_ref()) {
        Some(mut f) => {
            let _ = f.write_all(line.as_bytes());
        }
        None => {
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        }
    }
}

pub fn notice(msg: &str) {
    log(NOTICE, msg)
}
pub fn warning(msg: &str) {
    log(WARNING, msg)
}
pub fn verbose(msg: &str) {
    log(VERBOSE, msg)
}
