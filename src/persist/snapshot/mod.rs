//! Snapshots of the whole node into `dbfilename` in `dir`, in Redis's RDB format, without
//! fork(): each shard serialises its own keys on its own thread (`serialize_slot` per slot,
//! so a later slot-by-slot copy-on-write snapshot can drive the same code), then one writer
//! concatenates the shards' shares per database into a temp file, fsyncs it, and renames it
//! over the old file. A failed save leaves the old file alone.
//!
//! Who writes the file: SAVE and SHUTDOWN on the calling shard's thread (Redis's SAVE blocks
//! the server too); BGSAVE and save points on a short-lived std thread, fed by the shards
//! through a channel, so no shard waits for the disk. A signal-triggered shutdown saves from
//! the main thread the same way. For now every shard's share is held in memory until written
//! (the next step streams slot by slot).
//!
//! Must never: block a shard on file IO for BGSAVE, leave a half-written `dbfilename`, or let
//! an older background save replace a newer foreground one.

mod file;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::rdb::write::{put_entry, Aux, WriteOpts};
use super::status;
use crate::command::spec::ConnResult;
use crate::observe::log;
use crate::resp::Out;
use crate::shard::mesh::{MeshMsg, Peer};
use crate::shard::{NodeInfo, ShardState};
use crate::store::keyspace::{Db, NO_EXPIRE};

pub use file::{write_temp_file, DbChunk, ShardShare, Target};

/// Serialises the live keys of one slot of `db` (expired ones are left out). Returns
/// (keys, keys with a TTL) written.
pub fn serialize_slot(db: &Db, slot: u16, now_ms: u64, opts: &WriteOpts, out: &mut Vec<u8>) -> (u64, u64) {
    let Some(table) = db.slot_table(slot) else { return (0, 0) };
    let (mut keys, mut expires) = (0, 0);
    for (k, e) in table.iter() {
        if e.is_expired(now_ms) {
            continue;
        }
        put_entry(out, k, e, opts);
        keys += 1;
        if e.expire_at_ms != NO_EXPIRE {
            expires += 1;
        }
    }
    (keys, expires)
}

/// This shard's share of a snapshot: every database with keys, slot by slot.
pub fn shard_share(st: &ShardState) -> ShardShare {
    let opts = WriteOpts::from_config(&st.cfg);
    let now_ms = st.now_ms();
    let mut chunks = Vec::new();
    for (i, db) in st.store.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let mut c = DbChunk { db: i, keys: 0, expires: 0, bytes: Vec::new() };
        for slot in db.nonempty_slots() {
            let (k, e) = serialize_slot(db, slot, now_ms, &opts, &mut c.bytes);
            c.keys += k;
            c.expires += e;
        }
        if c.keys > 0 {
            chunks.push(c);
        }
    }
    ShardShare { shard: st.id, dirty: st.store.dirty, chunks }
}

fn used_memory_bytes(node: &NodeInfo) -> u64 {
    let shards: i64 = node.shard_used_bytes.iter().map(|a| a.load(std::sync::atomic::Ordering::Relaxed)).sum();
    (shards + crate::store::memory::other_used_bytes()).max(0) as u64
}

fn aux_now(node: &NodeInfo) -> Aux {
    Aux { ctime_s: crate::shard::unix_ms() / 1000, used_mem_bytes: used_memory_bytes(node), aof_base: false }
}

/// Writes the shares to a temp file and puts it in place if no newer foreground save
/// started meanwhile; records the outcome in the status.
fn write_and_commit(
    target: &Target,
    aux: &Aux,
    shares: Result<Vec<ShardShare>, String>,
    epoch: u64,
    background: bool,
) -> Result<(), String> {
    let started = Instant::now();
    let written = shares.and_then(|s| {
        let tmp = write_temp_file(target, aux, &s)?;
        Ok((tmp, s.iter().map(|x| (x.shard, x.dirty)).collect::<Vec<_>>()))
    });
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

/// SAVE and SHUTDOWN: serialises every shard (fan-out), then writes the file on this thread
/// and calls `done` with the outcome to write the reply.
pub fn save_foreground<G>(st: &mut ShardState, out: &mut Out, done: G) -> ConnResult
where
    G: FnOnce(Result<(), String>, &mut Out) + 'static,
{
    let target = Target::from_config(&st.cfg);
    let aux = aux_now(&st.node);
    let epoch = status::with(|s| {
        s.epoch += 1;
        s.epoch
    });
    crate::command::family::server::fanout::fan_out(
        st,
        out,
        |s: &mut ShardState| shard_share(s),
        move |parts, out| done(write_and_commit(&target, &aux, Ok(parts), epoch, false), out),
    )
}

/// Why a background save did not start.
pub const ERR_IN_PROGRESS: &str = "ERR Background save already in progress";

/// BGSAVE and save points: marks a background save as running, asks every shard for its
/// share, and returns at once; a writer thread collects the shares and writes the file.
pub fn start_background(st: &mut ShardState) -> Result<(), &'static str> {
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
    let (tx, rx) = mpsc::channel::<ShardShare>();
    for dest in 0..nshards {
        let tx = tx.clone();
        // Nobody awaits the answer: the share travels through the channel, and the dropped
        // future just lets the reply go.
        drop(st.handle.call(dest, None, move |s: &mut ShardState| {
            let _ = tx.send(shard_share(s));
        }));
    }
    drop(tx);
    let spawned = std::thread::Builder::new().name("rdb-bgsave".into()).spawn(move || {
        let shares = collect_shares(&rx, nshards, None);
        let _ = write_and_commit(&target, &aux, shares, epoch, true);
    });
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

fn collect_shares(
    rx: &mpsc::Receiver<ShardShare>,
    nshards: usize,
    timeout: Option<Duration>,
) -> Result<Vec<ShardShare>, String> {
    let mut shares = Vec::with_capacity(nshards);
    for _ in 0..nshards {
        let got = match timeout {
            Some(t) => rx.recv_timeout(t).map_err(|_| "a shard did not answer".to_owned()),
            None => rx.recv().map_err(|_| "a shard stopped before serialising its keys".to_owned()),
        };
        shares.push(got?);
    }
    shares.sort_by_key(|s| s.shard);
    Ok(shares)
}

/// How long a signal-triggered shutdown waits for the shards' shares.
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
    p.tx.send(msg).map_err(|_| "a shard is gone".to_owned())?;
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
    let (tx, rx) = mpsc::channel::<ShardShare>();
    for (dest, p) in peers.iter().enumerate() {
        post_from_outside(p, dest, tx.clone(), |s: &mut ShardState| shard_share(s))?;
    }
    drop(tx);
    let shares = collect_shares(&rx, peers.len(), Some(SHUTDOWN_SHARE_TIMEOUT));
    write_and_commit(&target, &aux, shares, epoch, false).map(|()| true)
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
        if id != 0 || s.bgsave_in_progress {
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

/// The file a save writes, for log messages and tests.
pub fn rdb_path(cfg: &crate::config::Config) -> PathBuf {
    Target::from_config(cfg).path
}
