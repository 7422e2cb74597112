//! Snapshots of the whole node into `dbfilename` in `dir`, in Redis's RDB format, without
//! fork() and without stopping the shards.
//!
//! How: every shard runs a snapshot job (`job`): it records which (database, slot) pairs held
//! keys when it started, then serialises them slot by slot, a bounded slice per loop
//! iteration, while a write to a slot not yet written out serialises that slot first
//! (`cow`, hooked into every slot-table change of `store::keyspace::Db`). The output is the
//! dataset as of each shard's start. The chunks go through a channel to one writer thread
//! (`stream`), which streams them into a temp file, appends the CRC64, fsyncs, and renames it
//! over the old file; a failed save leaves the old file alone.
//!
//! Who drives the jobs: BGSAVE and save points start them and return at once; the shards
//! advance them from their loops (`step`) and the writer runs on its own thread at a lower
//! priority. SAVE and SHUTDOWN run each shard's job to its end inside the call (Redis's SAVE
//! blocks the server too), with the same writer thread; a signal-triggered shutdown does the
//! same with the main thread as the writer. A foreground save ends a background one first; an
//! AOF rewrite's job it lets finish first (SAVE, FLUSHALL, DEBUG RELOAD: the rewrite goes on,
//! as Redis's rewrite child does beside its SAVE), except SHUTDOWN's, which ends it.
//!
//! Reusing the jobs (per-shard AOF rewrite): `job::start(st, sink)` starts a job on the
//! calling shard with any `job::SnapshotSink`; the sink gets `begin` (the counts and change
//! counter at the start), then key records per database in `chunk` (possibly interleaved
//! across databases, never blocking the shard: queue them), and `finish` once. The records
//! are RDB by default; `job::start_aof_base(.., Output::Resp)` makes them the RESP commands that
//! rebuild each key, for an AOF base without the RDB preamble (`stream::write_resp_streamed`
//! writes that file).
//! Its `backlog_bytes` paces the walk. The loop's `step` advances whatever job runs;
//! `job::run(st, sink)` runs one to its end synchronously instead. One job per shard at a
//! time.
//!
//! Must never: block a shard on file IO for BGSAVE, leave a half-written `dbfilename`, or let
//! an older background save replace a newer foreground one.

pub mod big;
pub mod cow;
mod file;
pub mod job;
mod stream;

use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::rdb::write::{Aux, WriteOpts};
use super::status;
use crate::command::spec::ConnResult;
use crate::observe::log;
use crate::resp::Out;
use crate::shard::mesh::{MeshMsg, Peer};
use crate::shard::{NodeInfo, ShardState};
use crate::store::keyspace::{Db, NO_EXPIRE};

pub use file::Target;
pub use job::{step, JobStart, Output, SnapshotSink};

/// Serialises the live keys of one slot of `db` (expired ones are left out). Returns
/// (keys, keys with a TTL) written.
pub fn serialize_slot(db: &Db, slot: u16, now_ms: u64, opts: &WriteOpts, out: &mut Vec<u8>) -> (u64, u64) {
    serialize_slot_as(db, slot, now_ms, cow::KeyFormat::Rdb(*opts), out)
}

/// `serialize_slot` in any key format.
pub fn serialize_slot_as(db: &Db, slot: u16, now_ms: u64, format: cow::KeyFormat, out: &mut Vec<u8>) -> (u64, u64) {
    let Some(table) = db.slot_table(slot) else { return (0, 0) };
    let (mut keys, mut expires) = (0, 0);
    for (k, e) in table.iter() {
        if e.is_expired(now_ms) {
            continue;
        }
        format.put(out, k, e);
        keys += 1;
        if e.expire_at_ms != NO_EXPIRE {
            expires += 1;
        }
    }
    (keys, expires)
}

fn used_memory_bytes(node: &NodeInfo) -> u64 {
    let shards: i64 = node.shard_used_bytes.iter().map(|a| a.load(std::sync::atomic::Ordering::Relaxed)).sum();
    (shards + crate::store::memory::other_used_bytes()).max(0) as u64
}

fn aux_now(node: &NodeInfo) -> Aux {
    Aux { ctime_s: crate::shard::unix_ms() / 1000, used_mem_bytes: used_memory_bytes(node), aof_base: false }
}

/// What a writer thread leaves: the temp file and each shard's change counter it covers.
type Written = Result<(PathBuf, Vec<(usize, u64)>), String>;

/// Puts a written temp file (with each shard's change counter it covers) in place if no
/// newer foreground save started meanwhile; records the outcome in the status and the log.
fn commit(target: &Target, written: Written, epoch: u64, background: bool, started: Instant) -> Result<(), String> {
    let now_s = crate::shard::unix_ms() / 1000;
    let outcome = status::with(|s| {
        let result = match written {
            Ok((tmp, _)) if s.epoch != epoch => {
                let _ = std::fs::remove_file(&tmp);
                Err("a newer save replaced this one".to_owned())
            }
            Ok((tmp, dirty)) => match target.commit(&tmp) {
                Ok(()) => {
                    for (i, d) in dirty {
                        s.mark_saved(i, d);
                    }
                    s.last_save_unix_s = now_s;
                    s.saves += 1;
                    s.set_bgsave_ok(true);
                    Ok(())
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(e)
                }
            },
            Err(e) => Err(e),
        };
        if background {
            s.bgsave_in_progress = false;
            s.last_bgsave_duration_s = s.bgsave_started.map_or(0, |t| t.elapsed().as_secs() as i64);
            s.bgsave_started = None;
            if result.is_err() {
                s.set_bgsave_ok(false);
            }
        }
        result
    });
    match &outcome {
        Ok(()) if background => log::notice("Background saving terminated with success"),
        Ok(()) => log::notice(&format!("DB saved on disk ({} ms)", started.elapsed().as_millis())),
        Err(e) if background => log::warning(&format!("Background saving error: {e}")),
        Err(e) => log::warning(&format!("Error saving DB on disk: {e}")),
    }
    outcome
}

/// What a foreground save does with an AOF rewrite's job it finds on a shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RewriteJobs {
    /// Drives it to its end first, so the rewrite completes (SAVE, FLUSHALL, DEBUG RELOAD:
    /// Redis's foreground save leaves the rewrite child running).
    Finish,
    /// Ends it; the rewrite fails and the AOF stays as it was (SHUTDOWN, as Redis kills the
    /// rewrite child before its last save).
    Cancel,
}

/// A foreground save set up on the calling shard: its part (`begin_foreground`) runs once on
/// every shard, then `finish` waits for the file and puts it in place.
pub struct Foreground {
    target: Target,
    epoch: u64,
    started: Instant,
    writer: std::thread::JoinHandle<Written>,
}

impl Foreground {
    /// Waits for the writer (every shard's part has ended, so only the tail of the file, its
    /// fsync and rename are left), then commits the file; the outcome is logged.
    pub fn finish(self) -> Result<(), String> {
        let written = self.writer.join().unwrap_or_else(|_| Err("the save writer panicked".to_owned()));
        commit(&self.target, written, self.epoch, false, self.started)
    }
}

/// Sets up a foreground save: a new epoch (no older background save replaces its file) and
/// the writer thread. Returns it with the part each shard runs: end a background save's job,
/// deal with an AOF rewrite's as `rewrite_jobs` says, then run its own job to its end.
/// The writer waits for one part per shard, so every shard must run the part exactly once.
pub fn begin_foreground(
    st: &ShardState,
    rewrite_jobs: RewriteJobs,
) -> Result<(Foreground, impl Fn(&mut ShardState) + Send + Clone + 'static), String> {
    let started = Instant::now();
    let target = Target::from_config(&st.cfg);
    let aux = aux_now(&st.node);
    let epoch = status::with(|s| {
        s.epoch += 1;
        s.epoch
    });
    let nshards = st.nshards;
    let (tx, rx) = mpsc::channel::<stream::WriterMsg>();
    let flow = Arc::new(stream::Flow::default());
    let writer = {
        let (target, flow) = (target.clone(), flow.clone());
        std::thread::Builder::new()
            .name("rdb-save".into())
            .spawn(move || stream::write_streamed(&rx, 0..nshards, &target, &aux, flow, None))
    };
    let writer = match writer {
        Ok(w) => w,
        Err(e) => {
            let why = format!("Can't start the save writer: {e}");
            // Logged as a failed save.
            let _ = commit(&target, Err(why.clone()), epoch, false, started);
            return Err(why);
        }
    };
    let part = move |s: &mut ShardState| run_job_here(s, &tx, &flow, rewrite_jobs);
    Ok((Foreground { target, epoch, started, writer }, part))
}

/// SAVE, SHUTDOWN and FLUSHALL: runs every shard's snapshot job to its end (fan-out) while a
/// writer thread streams the file, then calls `done` with the outcome to write the reply.
pub fn save_foreground<G>(st: &mut ShardState, out: &mut Out, rewrite_jobs: RewriteJobs, done: G) -> ConnResult
where
    G: FnOnce(Result<(), String>, &mut Out) + 'static,
{
    let (save, part) = match begin_foreground(st, rewrite_jobs) {
        Ok(x) => x,
        Err(e) => {
            done(Err(e), out);
            return ConnResult::Done;
        }
    };
    crate::command::family::server::fanout::fan_out(st, out, part, move |_, out| done(save.finish(), out))
}

/// A foreground save's part on one shard: ends a background save's job or handles an AOF
/// rewrite's as `rewrite_jobs` says, then runs a new job to its end, reporting to the writer
/// through `tx`.
fn run_job_here(
    s: &mut ShardState,
    tx: &mpsc::Sender<stream::WriterMsg>,
    flow: &Arc<stream::Flow>,
    rewrite_jobs: RewriteJobs,
) {
    match job::running(s) {
        Some(job::Purpose::AofBase) if rewrite_jobs == RewriteJobs::Finish => {
            log::notice(&format!("Completing the AOF rewrite's base before saving (shard {})", s.id));
            job::finish_now(s);
        }
        Some(_) => job::cancel(s, "a foreground save replaced it"),
        None => {}
    }
    let sink = stream::ChannelSink { shard: s.id, tx: tx.clone(), flow: flow.clone() };
    if let Err(error) = job::run(s, Box::new(sink)) {
        let _ = tx.send(stream::WriterMsg::Failed { shard: s.id, error });
    }
}

/// Why a background save did not start.
pub const ERR_IN_PROGRESS: &str = "ERR Background save already in progress";
/// Redis's answer to BGSAVE while another background job runs.
pub const ERR_AOF_REWRITING: &str =
    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible";

/// BGSAVE and save points: marks a background save as running, starts a snapshot job on
/// every shard, and returns at once; a writer thread streams the jobs' chunks into the file.
pub fn start_background(st: &mut ShardState) -> Result<(), &'static str> {
    if aof_rewrite_running() {
        return Err(ERR_AOF_REWRITING);
    }
    let epoch = status::with(|s| {
        if s.bgsave_in_progress {
            return None;
        }
        s.bgsave_in_progress = true;
        s.bgsave_started = Some(Instant::now());
        s.last_bgsave_try_unix_s = crate::shard::unix_ms() / 1000;
        s.bgsave_scheduled = false;
        Some(s.epoch)
    })
    .ok_or(ERR_IN_PROGRESS)?;
    let target = Target::from_config(&st.cfg);
    let aux = aux_now(&st.node);
    let nshards = st.nshards;
    let (tx, rx) = mpsc::channel::<stream::WriterMsg>();
    let flow = Arc::new(stream::Flow::default());
    let spawned = {
        let flow = flow.clone();
        std::thread::Builder::new().name("rdb-bgsave".into()).spawn(move || {
            yield_to_shards();
            let started = Instant::now();
            let written = stream::write_streamed(&rx, 0..nshards, &target, &aux, flow, None);
            // Drop the receiver first: jobs still running see their next send fail and end.
            drop(rx);
            let _ = commit(&target, written, epoch, true, started);
        })
    };
    if spawned.is_ok() {
        for dest in 0..nshards {
            let tx = tx.clone();
            let flow = flow.clone();
            // A keyspace post waits while a cross-shard transaction holds the shard, so no
            // job starts between a transaction's steps.
            st.handle.post(dest, true, move |s: &mut ShardState| {
                let sink = stream::ChannelSink { shard: s.id, tx: tx.clone(), flow };
                if let Err(error) = job::start(s, Box::new(sink)) {
                    let _ = tx.send(stream::WriterMsg::Failed { shard: s.id, error });
                }
            });
        }
    }
    drop(tx);
    if let Err(e) = spawned {
        log::warning(&format!("Can't save in background: {e}"));
        status::with(|s| {
            s.bgsave_in_progress = false;
            s.set_bgsave_ok(false);
        });
        return Err("ERR");
    }
    log::notice(&format!("Background saving started by pid {}", std::process::id()));
    Ok(())
}

/// Lowers the calling thread's priority (nice 10): when the shards and the snapshot writer
/// want the same cores, clients come first and the save takes longer; the jobs' backlog limit
/// keeps the memory of a slower writer bounded.
fn yield_to_shards() {
    // SAFETY: gettid and setpriority take no pointers and change only the calling thread.
    #[allow(unsafe_code)]
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid);
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

/// How long a signal-triggered shutdown waits for any word from the shards.
const SHUTDOWN_SHARE_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs `f` on shard `dest` from a thread that is not a shard (the main thread), through the
/// shard's mesh inbox; the result comes back through `tx`.
fn post_from_outside<R, F>(p: &Peer, dest: usize, tx: mpsc::Sender<R>, f: F) -> Result<(), String>
where
    R: Send + 'static,
    F: FnOnce(&mut ShardState) -> R + Send + 'static,
{
    let call: crate::shard::mesh::CallFn = Box::new(move |s: &mut ShardState| {
        let _ = tx.send(f(s));
        Box::new(())
    });
    // The reply goes back to the shard itself under a token no call ever gets, so it is
    // dropped on arrival.
    let msg = MeshMsg::Call { f: call, origin: dest, token: u64::MAX, tx: None };
    p.send(msg).map_err(|_| "a shard is gone".to_owned())?;
    p.wake();
    Ok(())
}

/// The save of a shutdown on SIGTERM/SIGINT, from the main thread: when save points are set
/// (as the shards see the settings now, after any CONFIG SET), serialises every shard through
/// its mesh inbox and writes the file here. Returns whether a save was made.
pub fn save_on_signal(peers: &[Peer], node: &NodeInfo) -> Result<bool, String> {
    let first = peers.first().ok_or("no shards")?;
    let (tx, rx) = mpsc::channel();
    post_from_outside(first, 0, tx, |s: &mut ShardState| (Target::from_config(&s.cfg), !s.cfg.save.is_empty()))?;
    let (target, wanted) = rx.recv_timeout(SHUTDOWN_SHARE_TIMEOUT).map_err(|_| "shard 0 did not answer".to_owned())?;
    if !wanted {
        return Ok(false);
    }
    log::notice("Saving the final RDB snapshot before exiting.");
    let aux = aux_now(node);
    let epoch = status::with(|s| {
        s.epoch += 1;
        s.epoch
    });
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<stream::WriterMsg>();
    let flow = Arc::new(stream::Flow::default());
    // The jobs answer through `tx` itself; the call's own answer channel is not needed.
    let (unit_tx, _unit_rx) = mpsc::channel::<()>();
    for (dest, p) in peers.iter().enumerate() {
        let (tx, flow) = (tx.clone(), flow.clone());
        post_from_outside(p, dest, unit_tx.clone(), move |s: &mut ShardState| {
            run_job_here(s, &tx, &flow, RewriteJobs::Cancel)
        })?;
    }
    drop(tx);
    let written = stream::write_streamed(&rx, 0..peers.len(), &target, &aux, flow, Some(SHUTDOWN_SHARE_TIMEOUT));
    commit(&target, written, epoch, false, started).map(|()| true)
}

/// Retry delay after a failed background save before a save point tries again (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_S: u64 = 5;

/// Per-shard cron work: publish this shard's change counter; on shard 0, start a background
/// save when a save point is reached or a scheduled BGSAVE can run.
pub fn cron(st: &mut ShardState) {
    let dirty = st.store.dirty;
    let id = st.id;
    let now_s = crate::shard::unix_ms() / 1000;
    let points = &st.cfg.save;
    let due = status::with(|s| {
        s.publish_dirty(id, dirty);
        if id != 0 || s.bgsave_in_progress || aof_rewrite_running() {
            return None;
        }
        if s.bgsave_scheduled {
            return Some("Scheduled background save starting".to_owned());
        }
        let changes = s.changes_since_save();
        let since_s = now_s.saturating_sub(s.last_save_unix_s);
        let may_retry = s.last_bgsave_ok || now_s.saturating_sub(s.last_bgsave_try_unix_s) > BGSAVE_RETRY_DELAY_S;
        points
            .iter()
            .find(|p| changes >= p.changes && since_s > p.seconds && may_retry)
            .map(|p| format!("{} changes in {} seconds. Saving...", p.changes, p.seconds))
    });
    if let Some(msg) = due {
        log::notice(&msg);
        let _ = start_background(st);
    }
}

/// Starts a job on this shard alone whose output is a complete file at `target.path` (temp
/// file, fsync, rename), written by its own writer thread: a per-shard AOF base, an RDB file
/// with `aux` as its header or RESP commands (`output`). The receiver gets the file's size or
/// the error once the file is in place.
pub fn start_shard_file(
    st: &mut ShardState,
    target: Target,
    aux: Aux,
    output: Output,
) -> Result<mpsc::Receiver<Result<u64, String>>, String> {
    let (tx, rx) = mpsc::channel::<stream::WriterMsg>();
    let flow = Arc::new(stream::Flow::default());
    let (done_tx, done_rx) = mpsc::channel();
    let id = st.id;
    let writer_flow = flow.clone();
    std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            yield_to_shards();
            let written = match output {
                Output::Rdb => {
                    stream::write_streamed(&rx, id..id + 1, &target, &aux, writer_flow, None).map(|(tmp, _)| tmp)
                }
                Output::Resp => stream::write_resp_streamed(&rx, id, &target, writer_flow),
            };
            drop(rx);
            let outcome = written.and_then(|tmp| match target.commit(&tmp) {
                Ok(()) => Ok(std::fs::metadata(&target.path).map(|m| m.len()).unwrap_or(0)),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(e)
                }
            });
            let _ = done_tx.send(outcome);
        })
        .map_err(|e| format!("Can't start the writer thread: {e}"))?;
    let sink = stream::ChannelSink { shard: st.id, tx, flow };
    job::start_aof_base(st, Box::new(sink), output)?;
    Ok(done_rx)
}

/// Whether any shard's AOF rewrite is running (BGSAVE and a rewrite share each shard's job).
fn aof_rewrite_running() -> bool {
    crate::persist::aof::info::IN_PROGRESS.iter().any(|x| x.load(std::sync::atomic::Ordering::Relaxed))
}

/// The file a save writes, for log messages and tests.
pub fn rdb_path(cfg: &crate::config::Config) -> PathBuf {
    Target::from_config(cfg).path
}
