//! The snapshot file itself: shard shares in, `dbfilename` out. The header and aux fields,
//! then per database SELECTDB, RESIZEDB (totals over the shards) and every shard's keys of
//! that database, then EOF and the CRC64 of everything before it (zero with `rdbchecksum
//! no`, as Redis writes). Written to a temp file in `dir`, fsynced, and only then renamed
//! over the old file, with the directory fsynced after the rename.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::persist::rdb::crc64::crc64;
use crate::persist::rdb::opcode;
use crate::persist::rdb::write::{put_db_header, put_header, Aux};

/// One shard's serialised keys of one database.
#[derive(Debug, Default)]
pub struct DbChunk {
    pub db: usize,
    pub keys: u64,
    pub expires: u64,
    pub bytes: Vec<u8>,
}

/// One shard's share of a snapshot, and its change counter when it was taken.
#[derive(Debug, Default)]
pub struct ShardShare {
    pub shard: usize,
    pub dirty: u64,
    pub chunks: Vec<DbChunk>,
}

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
struct Crc<W: Write> {
    inner: W,
    crc: u64,
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

/// The whole file's bytes, through `w`.
pub fn write_rdb<W: Write>(w: W, target: &Target, aux: &Aux, shares: &[super::ShardShare]) -> std::io::Result<W> {
    let mut w = Crc { inner: w, crc: 0 };
    let mut head = Vec::new();
    put_header(&mut head, aux);
    w.write_all(&head)?;
    for db in 0..target.databases {
        let chunks: Vec<&DbChunk> = shares.iter().flat_map(|s| s.chunks.iter()).filter(|c| c.db == db).collect();
        let keys: u64 = chunks.iter().map(|c| c.keys).sum();
        if keys == 0 {
            continue;
        }
        let expires: u64 = chunks.iter().map(|c| c.expires).sum();
        head.clear();
        put_db_header(&mut head, db, keys, expires);
        w.write_all(&head)?;
        for c in chunks {
            w.write_all(&c.bytes)?;
        }
    }
    w.write_all(&[opcode::EOF])?;
    let crc = if target.checksum { w.crc } else { 0 };
    let mut inner = w.inner;
    inner.write_all(&crc.to_le_bytes())?;
    Ok(inner)
}

/// Writes the snapshot to `temp-<pid>-<n>.rdb` in `dir` and fsyncs it; returns its path.
pub fn write_temp_file(target: &Target, aux: &Aux, shares: &[super::ShardShare]) -> Result<PathBuf, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = format!("temp-{}-{}.rdb", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
    let tmp = target.dir.join(&name);
    let f = std::fs::File::create(&tmp).map_err(|e| {
        format!("Failed opening the temp RDB file {name} (in server root dir {}) for saving: {e}", target.dir.display())
    })?;
    let result = (|| {
        let w = std::io::BufWriter::with_capacity(1 << 20, f);
        let w = write_rdb(w, target, aux, shares)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(format!("Write error saving DB on disk: {e}"))
        }
    }
}
