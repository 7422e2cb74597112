//! Loading `dbfilename` at startup, before any shard serves: the main thread reads the file
//! and checks its structure and checksum once (so a bad file stops startup with one clear
//! message naming the file and the byte offset); then every shard thread walks the same bytes
//! in parallel, building only the keys whose slots it owns and skipping the rest.
//!
//! Must never: start serving with a partly loaded dataset, or build another shard's keys
//! (memory is accounted to the thread that allocates it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::rdb::file::{check, load_shard, LoadStats, Summary};
use super::rdb::read::LoadLimits;
use crate::observe::log;
use crate::store::Store;

/// A dump file that passed the startup check.
pub struct DumpFile {
    pub path: PathBuf,
    pub bytes: Arc<Vec<u8>>,
    pub summary: Summary,
    pub opened: Instant,
}

fn corrupt(path: &std::path::Path, e: &super::rdb::RdbError) -> String {
    format!(
        "Bad RDB file {}: {} at byte offset {}. Tessera will not start with it: check it with \
         `redis-check-rdb {}`, then fix, replace or remove it.",
        path.display(),
        e.message,
        e.offset,
        path.display()
    )
}

/// Reads and checks `dir/dbfilename`; None when there is no such file.
pub fn open_dump(cfg: &crate::config::Config) -> Result<Option<DumpFile>, String> {
    let path = super::snapshot::rdb_path(cfg);
    let opened = Instant::now();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Fatal error loading the DB {}: {e}. Exiting.", path.display())),
    };
    let summary = check(&bytes, cfg.databases.max(1)).map_err(|e| corrupt(&path, &e))?;
    if let Some(v) = summary.aux_str("redis-ver") {
        log::notice(&format!("Loading RDB produced by version {v}"));
    }
    if let Some(ctime) = summary.aux_str("ctime").and_then(|c| c.parse::<i64>().ok()) {
        let age = (crate::shard::unix_ms() / 1000) as i64 - ctime;
        log::notice(&format!("RDB age {} seconds", age.max(0)));
    }
    if let Some(mem) = summary.aux_str("used-mem").and_then(|c| c.parse::<u64>().ok()) {
        log::notice(&format!("RDB memory usage when created {:.2} Mb", mem as f64 / (1024.0 * 1024.0)));
    }
    if summary.function_libraries_skipped > 0 {
        log::warning(&format!(
            "The RDB file holds {} function libraries: Tessera has no functions, they were not loaded",
            summary.function_libraries_skipped
        ));
    }
    Ok(Some(DumpFile { path, bytes: Arc::new(bytes), summary, opened }))
}

/// Loads this shard's keys from a checked dump into `store`.
pub fn load_into(
    dump: &DumpFile,
    shard: usize,
    nshards: usize,
    cfg: &crate::config::Config,
    store: &mut Store,
) -> Result<LoadStats, String> {
    let lim = LoadLimits::from_config(cfg);
    load_shard(&dump.bytes, shard, nshards, &lim, crate::shard::unix_ms(), store).map_err(|e| corrupt(&dump.path, &e))
}

/// Logs the outcome of a load and records it for INFO.
pub fn finish(dump: &DumpFile, stats: &[LoadStats]) {
    let loaded: u64 = stats.iter().map(|s| s.keys_loaded).sum();
    let expired: u64 = stats.iter().map(|s| s.keys_expired).sum();
    let empty: u64 = stats.iter().map(|s| s.empty_keys_skipped).sum();
    if empty > 0 {
        log::warning(&format!("Skipped {empty} empty keys while loading the RDB file"));
    }
    log::notice(&format!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}."));
    log::notice(&format!("DB loaded from disk: {:.3} seconds", dump.opened.elapsed().as_secs_f64()));
    super::status::with(|s| {
        s.load_keys_loaded = loaded;
        s.load_keys_expired = expired;
    });
}
