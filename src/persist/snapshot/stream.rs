//! The writer side of a background save: every shard's job sends its chunks through one
//! channel (`ChannelSink`), and one thread streams them into the temp file as they arrive.
//!
//! RDB wants each database's keys in one run after its SELECTDB. Chunks of one database come
//! from every shard in any order, and those of later databases can arrive before the first
//! one is complete (a write serialises its slot whatever database it is in). The writer
//! therefore streams the lowest database that had keys at the start straight into the file
//! (in practice the only one: cluster mode and most deployments use db 0 alone), and appends
//! every other database's chunks to a scratch file of its own in `dir`, copied in after the
//! stream ends. Memory stays bounded by the channel backlog whatever the databases hold, and
//! the file is laid out exactly as Redis lays it out; the price is writing non-first
//! databases twice.
//!
//! Flow control: each sink adds a chunk's size to a shared counter when it sends it, and the
//! writer subtracts it once written; the jobs pause their walk while the counter is high.
//! When the writer stops (done or failed) it marks the flow closed, so a job still running
//! fails its next send and ends instead of waiting for a reader that is gone.

use std::fs::File;
use std::io::{Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use super::file::{temp_name, Crc, Target};
use super::job::{DbCounts, JobStart, SnapshotSink};
use crate::persist::rdb::opcode;
use crate::persist::rdb::write::{put_db_header, put_header, Aux};

/// What the shards' jobs tell the writer.
pub enum WriterMsg {
    Start(JobStart),
    Chunk {
        db: usize,
        bytes: Vec<u8>,
    },
    /// One record in pieces, written one after the other.
    Pieces {
        db: usize,
        pieces: Vec<Vec<u8>>,
    },
    Done {
        shard: usize,
    },
    Failed {
        shard: usize,
        error: String,
    },
}

/// Shared between the sinks and the writer.
#[derive(Default)]
pub struct Flow {
    in_flight_bytes: AtomicU64,
    closed: AtomicBool,
}

/// A job's sink that sends to the writer thread.
pub struct ChannelSink {
    pub shard: usize,
    pub tx: mpsc::Sender<WriterMsg>,
    pub flow: Arc<Flow>,
}

const WRITER_GONE: &str = "the snapshot writer stopped";

impl SnapshotSink for ChannelSink {
    fn begin(&mut self, start: &JobStart) -> Result<(), String> {
        self.tx.send(WriterMsg::Start(start.clone())).map_err(|_| WRITER_GONE.to_owned())
    }
    fn chunk(&mut self, db: usize, bytes: Vec<u8>) -> Result<(), String> {
        if self.flow.closed.load(Ordering::Relaxed) {
            return Err(WRITER_GONE.to_owned());
        }
        crate::store::memory::hand_off(&bytes);
        self.flow.in_flight_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.tx.send(WriterMsg::Chunk { db, bytes }).map_err(|_| WRITER_GONE.to_owned())
    }
    fn record_pieces(&mut self, db: usize, pieces: Vec<Vec<u8>>) -> Result<(), String> {
        if self.flow.closed.load(Ordering::Relaxed) {
            return Err(WRITER_GONE.to_owned());
        }
        for p in &pieces {
            crate::store::memory::hand_off(p);
            self.flow.in_flight_bytes.fetch_add(p.len() as u64, Ordering::Relaxed);
        }
        self.tx.send(WriterMsg::Pieces { db, pieces }).map_err(|_| WRITER_GONE.to_owned())
    }
    fn backlog_bytes(&self) -> u64 {
        if self.flow.closed.load(Ordering::Relaxed) {
            // Lets the job reach its next send, which fails and ends it.
            return 0;
        }
        self.flow.in_flight_bytes.load(Ordering::Relaxed)
    }
    fn abandoned(&self) -> bool {
        self.flow.closed.load(Ordering::Acquire)
    }
    fn finish(self: Box<Self>, outcome: Result<(), String>) {
        let msg = match outcome {
            Ok(()) => WriterMsg::Done { shard: self.shard },
            Err(error) => WriterMsg::Failed { shard: self.shard, error },
        };
        let _ = self.tx.send(msg);
    }
}

/// A file removed when dropped unless kept.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

struct Spill {
    _guard: Scratch,
    w: std::io::BufWriter<File>,
    bytes: u64,
}

/// Marks the flow closed however the writer leaves.
struct CloseOnDrop(Arc<Flow>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
    }
}

fn io_err(e: std::io::Error) -> String {
    format!("Write error saving DB on disk: {e}")
}

/// Receives the jobs of the shards in `shards` (every shard for dump.rdb, one for an AOF
/// base) and writes the snapshot to a temp file in `dir`,
/// fsynced. Returns its path and each shard's change counter at its start. With `patience`,
/// gives up when no message comes for that long.
pub fn write_streamed(
    rx: &mpsc::Receiver<WriterMsg>,
    shards: std::ops::Range<usize>,
    target: &Target,
    aux: &Aux,
    flow: Arc<Flow>,
    patience: Option<Duration>,
) -> Result<(PathBuf, Vec<(usize, u64)>), String> {
    let _close = CloseOnDrop(flow.clone());
    let recv = || match patience {
        Some(t) => rx.recv_timeout(t).map_err(|_| "a shard did not answer".to_owned()),
        None => rx.recv().map_err(|_| "a shard stopped before finishing its snapshot".to_owned()),
    };
    // The counts of every shard are needed before the first RESIZEDB; chunks that arrive
    // meanwhile wait (a few loop iterations' worth, and counted in the backlog).
    let nshards = shards.len();
    // Index of a shard id in `shards` (None for a shard this file does not take).
    let slot_of = |shard: usize| shard.checked_sub(shards.start).filter(|&i| i < nshards);
    let mut starts: Vec<Option<JobStart>> = (0..nshards).map(|_| None).collect();
    let mut early = Vec::new();
    // Which shards finished, so a repeated message cannot end the stream early.
    let mut finished = vec![false; nshards];
    let mut finish = |shard: usize| match slot_of(shard).and_then(|i| finished.get_mut(i)) {
        Some(f) if !*f => {
            *f = true;
            Ok(())
        }
        _ => Err(format!("unexpected end of snapshot from shard {shard}")),
    };
    let mut done = 0usize;
    while starts.iter().any(|s| s.is_none()) {
        match recv()? {
            WriterMsg::Start(s) => match slot_of(s.shard).and_then(|i| starts.get_mut(i)) {
                Some(slot) => *slot = Some(s),
                None => return Err(format!("snapshot start from unknown shard {}", s.shard)),
            },
            WriterMsg::Chunk { db, bytes } => early.push((db, bytes)),
            WriterMsg::Pieces { db, pieces } => early.extend(pieces.into_iter().map(|p| (db, p))),
            WriterMsg::Done { shard } => {
                finish(shard)?;
                done += 1;
            }
            WriterMsg::Failed { shard, error } => return Err(format!("shard {shard}: {error}")),
        }
    }
    let starts: Vec<JobStart> = starts.into_iter().flatten().collect();
    let mut totals = vec![DbCounts::default(); target.databases];
    for s in &starts {
        for (t, c) in totals.iter_mut().zip(&s.dbs) {
            t.keys += c.keys;
            t.expires += c.expires;
        }
    }
    let stream_db = totals.iter().position(|c| c.keys > 0);

    let (name, tmp) = temp_name(target);
    let f = File::create(&tmp).map_err(|e| {
        format!("Failed opening the temp RDB file {name} (in server root dir {}) for saving: {e}", target.dir.display())
    })?;
    let mut guard = Scratch { path: tmp.clone(), keep: false };
    let mut out = Crc::new(std::io::BufWriter::with_capacity(1 << 20, f));
    let mut head = Vec::new();
    put_header(&mut head, aux);
    out.write_all(&head).map_err(io_err)?;
    let mut stream_started = false;
    let mut spills: Vec<Option<Spill>> = (0..target.databases).map(|_| None).collect();

    let mut put = |db: usize, bytes: Vec<u8>, out: &mut Crc<_>| -> Result<(), String> {
        let counts = totals.get(db).ok_or_else(|| format!("snapshot chunk for database {db} out of range"))?;
        if Some(db) == stream_db {
            if !stream_started {
                head.clear();
                put_db_header(&mut head, db, counts.keys, counts.expires);
                out.write_all(&head).map_err(io_err)?;
                stream_started = true;
            }
            out.write_all(&bytes).map_err(io_err)?;
        } else {
            let spill = match spills.get_mut(db) {
                Some(Some(s)) => s,
                Some(slot) => slot.insert(open_spill(target, db)?),
                None => return Err(format!("snapshot chunk for database {db} out of range")),
            };
            spill.w.write_all(&bytes).map_err(io_err)?;
            spill.bytes += bytes.len() as u64;
        }
        flow.in_flight_bytes.fetch_sub(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    };
    for (db, bytes) in early {
        put(db, bytes, &mut out)?;
    }
    while done < nshards {
        match recv()? {
            WriterMsg::Chunk { db, bytes } => put(db, bytes, &mut out)?,
            WriterMsg::Pieces { db, pieces } => {
                for p in pieces {
                    put(db, p, &mut out)?;
                }
            }
            WriterMsg::Done { shard } => {
                finish(shard)?;
                done += 1;
            }
            WriterMsg::Failed { shard, error } => return Err(format!("shard {shard}: {error}")),
            WriterMsg::Start(s) => return Err(format!("shard {} started twice", s.shard)),
        }
    }
    for (db, spill) in spills.into_iter().enumerate() {
        let Some(spill) = spill else { continue };
        let Some(counts) = totals.get(db) else { continue };
        head.clear();
        put_db_header(&mut head, db, counts.keys, counts.expires);
        out.write_all(&head).map_err(io_err)?;
        let mut f = spill.w.into_inner().map_err(|e| io_err(e.into_error()))?;
        f.rewind().map_err(io_err)?;
        let copied = std::io::copy(&mut f, &mut out).map_err(io_err)?;
        if copied != spill.bytes {
            return Err(format!("scratch file of database {db} is short: {copied} of {} bytes", spill.bytes));
        }
    }
    out.write_all(&[opcode::EOF]).map_err(io_err)?;
    let crc = if target.checksum { out.crc } else { 0 };
    let mut w = out.inner;
    w.write_all(&crc.to_le_bytes()).map_err(io_err)?;
    let f = w.into_inner().map_err(|e| io_err(e.into_error()))?;
    f.sync_all().map_err(io_err)?;
    guard.keep = true;
    let dirty = starts.iter().map(|s| (s.shard, s.dirty)).collect();
    Ok((tmp, dirty))
}

fn open_spill(target: &Target, db: usize) -> Result<Spill, String> {
    let (_, path) = temp_name(target);
    let path = path.with_extension(format!("db{db}.part"));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("Failed opening a scratch file {} for saving: {e}", path.display()))?;
    Ok(Spill { _guard: Scratch { path, keep: false }, w: std::io::BufWriter::with_capacity(1 << 20, f), bytes: 0 })
}

/// Receives one shard's job whose keys come as RESP commands (an AOF base without the RDB
/// preamble) and writes them to a temp file in `dir`, fsynced; returns its path. There is no
/// header or trailer: a `SELECT` goes before each run of one database's keys. Chunks of
/// several databases may interleave (a write serialises its slot whatever database it is
/// in); every run gets its own `SELECT`, which loads the same, so nothing is spilled.
pub fn write_resp_streamed(
    rx: &mpsc::Receiver<WriterMsg>,
    shard: usize,
    target: &Target,
    flow: Arc<Flow>,
) -> Result<PathBuf, String> {
    let _close = CloseOnDrop(flow.clone());
    let recv = || rx.recv().map_err(|_| "a shard stopped before finishing its snapshot".to_owned());
    let (name, tmp) = temp_name(target);
    let f = File::create(&tmp).map_err(|e| {
        format!("Failed opening the temp AOF file {name} (in server root dir {}) for saving: {e}", target.dir.display())
    })?;
    let mut guard = Scratch { path: tmp.clone(), keep: false };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
    let (mut started, mut cur_db) = (false, None);
    let mut head = Vec::new();
    loop {
        let (db, pieces) = match recv()? {
            WriterMsg::Start(s) if s.shard == shard && !started => {
                started = true;
                continue;
            }
            WriterMsg::Start(s) => return Err(format!("unexpected snapshot start from shard {}", s.shard)),
            WriterMsg::Chunk { db, bytes } => (db, vec![bytes]),
            WriterMsg::Pieces { db, pieces } => (db, pieces),
            WriterMsg::Done { shard: s } if s == shard && started => break,
            WriterMsg::Done { shard: s } => return Err(format!("unexpected end of snapshot from shard {s}")),
            WriterMsg::Failed { shard, error } => return Err(format!("shard {shard}: {error}")),
        };
        if cur_db != Some(db) {
            if db >= target.databases {
                return Err(format!("snapshot chunk for database {db} out of range"));
            }
            head.clear();
            crate::persist::aof::resp_base::put_select(&mut head, db);
            out.write_all(&head).map_err(io_err)?;
            cur_db = Some(db);
        }
        for bytes in pieces {
            out.write_all(&bytes).map_err(io_err)?;
            flow.in_flight_bytes.fetch_sub(bytes.len() as u64, Ordering::Relaxed);
        }
    }
    let f = out.into_inner().map_err(|e| io_err(e.into_error()))?;
    f.sync_all().map_err(io_err)?;
    guard.keep = true;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(tag: &str) -> Target {
        let dir = std::env::temp_dir().join(format!("tessera-resp-stream-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        Target { path: dir.join("base.aof"), dir, databases: 16, checksum: false }
    }

    fn start(shard: usize) -> WriterMsg {
        WriterMsg::Start(JobStart { shard, dirty: 0, start_ms: 0, dbs: Vec::new() })
    }

    fn chunk(db: usize, s: &str) -> WriterMsg {
        WriterMsg::Chunk { db, bytes: s.as_bytes().to_vec() }
    }

    #[test]
    fn resp_writer_selects_before_each_run_of_a_database() {
        let t = target("runs");
        let (tx, rx) = mpsc::channel();
        for m in [start(2), chunk(0, "a"), chunk(0, "b"), chunk(3, "c"), chunk(0, "d"), WriterMsg::Done { shard: 2 }] {
            tx.send(m).expect("send");
        }
        let tmp = write_resp_streamed(&rx, 2, &t, Arc::new(Flow::default())).expect("written");
        let text = std::fs::read_to_string(&tmp).expect("read");
        let sel = |db: &str| format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{db}\r\n", db.len());
        assert_eq!(text, format!("{}ab{}c{}d", sel("0"), sel("3"), sel("0")));
        let _ = std::fs::remove_dir_all(&t.dir);
    }

    #[test]
    fn resp_writer_refuses_bad_streams_and_leaves_no_file() {
        let t = target("bad");
        let cases: Vec<Vec<WriterMsg>> = vec![
            vec![start(0), chunk(16, "x")],
            vec![start(1)],
            vec![start(0), WriterMsg::Failed { shard: 0, error: "boom".into() }],
            vec![start(0), start(0)],
            vec![start(0), chunk(0, "x")],
        ];
        for msgs in cases {
            let (tx, rx) = mpsc::channel();
            for m in msgs {
                tx.send(m).expect("send");
            }
            drop(tx);
            assert!(write_resp_streamed(&rx, 0, &t, Arc::new(Flow::default())).is_err());
        }
        let left: Vec<_> = std::fs::read_dir(&t.dir).expect("dir").flatten().collect();
        assert!(left.is_empty(), "temp files left: {left:?}");
        let _ = std::fs::remove_dir_all(&t.dir);
    }
}
