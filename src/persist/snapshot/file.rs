//! Where a snapshot file goes and how it is put in place: a temp file in `dir` (named as
//! Redis names its own), its CRC64 counted as it is written, renamed over `dbfilename` only
//! once complete and fsynced, with the directory fsynced after the rename. The layout itself
//! is written by `stream`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::persist::rdb::crc64::crc64;

/// Where and how a snapshot is written, copied from the config when the save starts.
#[derive(Clone, Debug)]
pub struct Target {
    pub dir: PathBuf,
    pub path: PathBuf,
    pub databases: usize,
    pub checksum: bool,
}

impl Target {
    pub fn from_config(cfg: &crate::config::Config) -> Target {
        Target {
            dir: cfg.dir.clone(),
            path: cfg.dir.join(&cfg.dbfilename),
            databases: cfg.databases.max(1),
            checksum: cfg.rdbchecksum,
        }
    }

    /// Puts a finished temp file in place of the old snapshot.
    pub fn commit(&self, tmp: &Path) -> Result<(), String> {
        std::fs::rename(tmp, &self.path).map_err(|e| {
            format!("Error moving temp DB file {} on the final destination {}: {e}", tmp.display(), self.path.display())
        })?;
        // The rename is durable only once the directory entry is.
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Counts the CRC of everything written through it.
pub(super) struct Crc<W: Write> {
    pub(super) inner: W,
    pub(super) crc: u64,
}

impl<W: Write> Crc<W> {
    pub(super) fn new(inner: W) -> Self {
        Crc { inner, crc: 0 }
    }
}

/// A fresh temp file name in `dir` (`temp-<pid>-<n>.rdb`, as Redis names its own) and its path.
pub(super) fn temp_name(target: &Target) -> (String, PathBuf) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = format!("temp-{}-{}.rdb", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
    let path = target.dir.join(&name);
    (name, path)
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc = crc64(self.crc, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
