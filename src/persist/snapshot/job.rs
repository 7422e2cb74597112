//! The per-shard snapshot job: a point-in-time copy of one shard's keyspace, produced a
//! little at a time on the shard's own thread and handed to a sink as RDB key records.
//!
//! `start` attaches a copy-on-write tracker (`cow::SlotCow`) to every non-empty database and
//! records the counts of that moment; from then on, `step` (called once per loop iteration)
//! serialises pending slots for a bounded time and byte budget, and any write reaching a
//! pending slot serialises it first. Both hand their bytes to the sink, so the shard never
//! waits for the disk; when the sink reports a large backlog the walk pauses (writes still
//! hand over the slots they touch), so a slow disk bounds the memory held in flight instead
//! of growing it.
//!
//! Pacing: a walk step runs at most once per `STEP_REST` after the previous one, so a shard
//! gives at most about half its time to the snapshot and keeps sleeping between requests
//! (a shard that never sleeps loses its place to every other busy thread of the machine,
//! clients included). A small pacer thread wakes the loop every `STEP_REST` while the job
//! runs, so the walk goes on when no request comes. `run` drives a job to its end at once
//! instead (SAVE).
//!
//! At most one job runs per shard; its cost when none runs is one `Option` test per step and
//! per slot-table change. A job knows what it is for (`Purpose`), so a foreground save can
//! tell an AOF rewrite's job, which it lets finish (`finish_now`), from a background save's,
//! which it ends (`cancel`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cow::{KeyFormat, SlotCow};
use crate::persist::rdb::write::WriteOpts;
use crate::shard::ShardState;

/// Serialisation time per loop iteration: small next to the 10 ms a client may wait.
const STEP_TIME: Duration = Duration::from_micros(400);
/// Bytes serialised per loop iteration by the walk.
const STEP_BYTES: usize = 256 * 1024;
/// Least time from the end of one walk step to the start of the next.
const STEP_REST: Duration = Duration::from_micros(400);
/// Above this many bytes handed over and not yet consumed, the walk pauses.
const MAX_BACKLOG_BYTES: u64 = 8 * 1024 * 1024;
/// How long a foreground job sleeps while its writer catches up.
const BACKLOG_WAIT: Duration = Duration::from_micros(200);

/// Key counts of one database at the start of a job (RESIZEDB's hint).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DbCounts {
    pub keys: u64,
    pub expires: u64,
}

/// What a job saw when it started.
#[derive(Clone, Debug)]
pub struct JobStart {
    pub shard: usize,
    /// The shard's change counter at the start (what the snapshot covers).
    pub dirty: u64,
    /// Unix ms of the start; keys whose TTL had passed by then are left out.
    pub start_ms: u64,
    /// Per database number, the counts at the start (every database, empty ones included).
    pub dbs: Vec<DbCounts>,
}

/// What a job writes each key as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// RDB key records (a dump, an AOF base with the RDB preamble).
    Rdb,
    /// RESP commands that rebuild the keys (an AOF base without the preamble).
    Resp,
}

/// What a job's output is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A dump (`dbfilename`): BGSAVE, SAVE, SHUTDOWN.
    Dump,
    /// The base of a shard's AOF rewrite.
    AofBase,
}

/// Where a job's output goes. Called on the shard's thread only, so it must never block:
/// queue the bytes (a channel to a writer thread, an io_uring submission) and return.
pub trait SnapshotSink {
    /// The job started; called once, before any chunk.
    fn begin(&mut self, start: &JobStart) -> Result<(), String>;
    /// Key records of database `db` in the job's `Output` (RDB: optional EXPIRETIME_MS/IDLE,
    /// type, key, value; RESP: the commands rebuilding each key), without any SELECT(DB).
    /// Records of one database may come in any slot order and interleaved with other
    /// databases'. An error aborts the job.
    fn chunk(&mut self, db: usize, bytes: Vec<u8>) -> Result<(), String>;
    /// One key record of database `db` in pieces (a large value written a slice at a time),
    /// to be written one after the other with nothing in between.
    fn record_pieces(&mut self, db: usize, pieces: Vec<Vec<u8>>) -> Result<(), String> {
        self.chunk(db, pieces.concat())
    }
    /// Bytes handed over and not yet written out; the walk pauses while this is large.
    fn backlog_bytes(&self) -> u64;
    /// The job ended: Ok after the last chunk, or the error that aborted it. Called once.
    fn finish(self: Box<Self>, outcome: Result<(), String>);
    /// Nobody consumes the output any more (the reader failed or went away): a new job may
    /// replace this one at once instead of waiting for its next chunk to fail.
    fn abandoned(&self) -> bool {
        false
    }
}

/// A running job, owned by the shard (`ShardState::snapshot_job`).
pub struct Job {
    sink: Box<dyn SnapshotSink>,
    /// When the last walk step ended.
    rested_since: Option<Instant>,
    /// Wakes the loop while the job runs; None for a job run to its end at once, or when no
    /// thread could be started (the loop is then kept polling instead).
    pacer: Option<Pacer>,
    purpose: Purpose,
}

/// A thread that wakes a shard's loop every `STEP_REST` until stopped.
struct Pacer {
    stop: Arc<AtomicBool>,
}

impl Pacer {
    fn spawn(peer: crate::shard::mesh::Peer) -> Option<Pacer> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new().name("snapshot-pacer".into()).spawn(move || {
            while !flag.load(Ordering::Acquire) {
                std::thread::sleep(STEP_REST);
                peer.wake();
            }
        });
        spawned.ok().map(|_| Pacer { stop })
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        // Not joined: the thread sees the flag within one rest and exits by itself.
        self.stop.store(true, Ordering::Release);
    }
}

/// Why `start` refused.
pub const ERR_BUSY: &str = "a snapshot job already runs on this shard";

/// Starts a job on this shard with `sink`, and returns at once; the loop advances it. On
/// error the sink is dropped without `finish`.
pub fn start(st: &mut ShardState, sink: Box<dyn SnapshotSink>) -> Result<(), String> {
    begin(st, sink, true, Output::Rdb, Purpose::Dump)
}

/// `start` for an AOF rewrite's base, with the keys written as `output`.
pub fn start_aof_base(st: &mut ShardState, sink: Box<dyn SnapshotSink>, output: Output) -> Result<(), String> {
    begin(st, sink, true, output, Purpose::AofBase)
}

/// What the job running on this shard is for, if one runs.
pub fn running(st: &ShardState) -> Option<Purpose> {
    st.snapshot_job.as_ref().map(|j| j.purpose)
}

/// Runs a job with `sink` to its end before returning (SAVE, SHUTDOWN: the shard blocks as
/// Redis's SAVE blocks Redis). While the sink's backlog is too large the thread sleeps
/// briefly instead of piling up more output.
pub fn run(st: &mut ShardState, sink: Box<dyn SnapshotSink>) -> Result<(), String> {
    begin(st, sink, false, Output::Rdb, Purpose::Dump)?;
    finish_now(st);
    Ok(())
}

/// Drives the job running on this shard, if any, to its end before returning, as `run` does:
/// a foreground save lets an AOF rewrite's job complete its base this way first (its output is
/// still the data as of its start), where Redis's SAVE runs beside the rewrite child.
pub fn finish_now(st: &mut ShardState) {
    while let Some(job) = st.snapshot_job.as_deref_mut() {
        if job.sink.backlog_bytes() > MAX_BACKLOG_BYTES {
            std::thread::sleep(BACKLOG_WAIT);
            continue;
        }
        match advance(job.sink.as_mut(), &mut st.store.dbs, usize::MAX) {
            Ok(true) => {}
            Ok(false) => end(st, Ok(())),
            Err(e) => end(st, Err(e)),
        }
    }
}

fn begin(
    st: &mut ShardState,
    mut sink: Box<dyn SnapshotSink>,
    paced: bool,
    output: Output,
    purpose: Purpose,
) -> Result<(), String> {
    if st.snapshot_job.as_ref().is_some_and(|j| j.sink.abandoned()) {
        end(st, Err("abandoned by its reader".to_owned()));
    }
    if st.snapshot_job.is_some() || st.store.dbs.iter().any(|d| d.has_cow()) {
        return Err(ERR_BUSY.to_owned());
    }
    let start_ms = st.now_ms();
    let format = match output {
        Output::Rdb => KeyFormat::Rdb(WriteOpts::from_config(&st.cfg)),
        Output::Resp => KeyFormat::Resp,
    };
    let dbs = st.store.dbs.iter().map(|d| DbCounts { keys: d.len() as u64, expires: d.expires_len() as u64 }).collect();
    let start = JobStart { shard: st.id, dirty: st.store.dirty, start_ms, dbs };
    sink.begin(&start)?;
    for (i, db) in st.store.dbs.iter_mut().enumerate() {
        if !db.is_empty() {
            let cow = SlotCow::new(i, db.nonempty_slots(), start_ms, format);
            db.set_cow(Some(Box::new(cow)));
        }
    }
    let pacer = if paced { st.wake.clone().and_then(Pacer::spawn) } else { None };
    st.snapshot_job = Some(Box::new(Job { sink, rested_since: None, pacer, purpose }));
    Ok(())
}

/// One loop iteration's share of the running job, if any: hands over what writes serialised,
/// walks on for a bounded budget, and ends the job once everything is out.
#[inline]
pub fn step(st: &mut ShardState) {
    if st.snapshot_job.is_some() {
        step_job(st);
    }
}

#[cold]
#[inline(never)]
fn step_job(st: &mut ShardState) {
    let Some(job) = st.snapshot_job.as_deref_mut() else { return };
    let resting = job.rested_since.is_some_and(|t| t.elapsed() < STEP_REST);
    let backlogged = job.sink.backlog_bytes() > MAX_BACKLOG_BYTES;
    let paused = resting || backlogged;
    // Resting or paused, writes' output is still handed over (budget 0).
    let result = advance(job.sink.as_mut(), &mut st.store.dbs, if paused { 0 } else { STEP_BYTES });
    if !paused {
        job.rested_since = Some(Instant::now());
    }
    let unpaced = job.pacer.is_none();
    match result {
        Ok(true) => {
            if unpaced && !backlogged {
                // Without a pacer, keeps the loop from sleeping while work is left: an empty
                // message to this shard makes the next iteration poll instead of wait.
                st.handle.post(st.id, false, |_| {});
            }
        }
        Ok(false) => end(st, Ok(())),
        Err(e) => end(st, Err(e)),
    }
}

/// Hands over every tracker's output and walks pending slots for up to `budget_bytes`.
/// Returns whether work is left.
fn advance(
    sink: &mut dyn SnapshotSink,
    dbs: &mut [crate::store::keyspace::Db],
    budget_bytes: usize,
) -> Result<bool, String> {
    let deadline = Instant::now() + STEP_TIME;
    let mut produced = 0usize;
    let mut left = false;
    for db in dbs.iter_mut() {
        let walked = {
            let Some((c, tables)) = db.cow_with_tables() else { continue };
            let room = budget_bytes.saturating_sub(produced);
            if room > 0 && !c.is_walked() && Instant::now() < deadline {
                c.save_next(&tables, c.out.len().saturating_add(room), deadline);
            }
            if !c.out.is_empty() {
                let bytes = std::mem::take(&mut c.out);
                produced += bytes.len();
                sink.chunk(c.db, bytes)?;
            }
            for pieces in std::mem::take(&mut c.ready) {
                produced += pieces.iter().map(Vec::len).sum::<usize>();
                sink.record_pieces(c.db, pieces)?;
            }
            c.is_walked()
        };
        if walked {
            // Done with this database: back to the idle fast path for its writes.
            db.set_cow(None);
        } else {
            left = true;
        }
    }
    Ok(left)
}

fn end(st: &mut ShardState, outcome: Result<(), String>) {
    for db in st.store.dbs.iter_mut() {
        db.set_cow(None);
    }
    if let Some(job) = st.snapshot_job.take() {
        job.sink.finish(outcome);
    }
}

/// Ends this shard's job, if any, with `why` as its error (a foreground save replacing a
/// background one, as Redis's SAVE-on-SHUTDOWN kills a running BGSAVE child).
pub fn cancel(st: &mut ShardState, why: &str) {
    if st.snapshot_job.is_some() {
        end(st, Err(why.to_owned()));
    }
}
