//! The AOF at startup. The main thread finds the current layout (`plan`); each shard thread
//! then loads its share (`load_shard`) and opens its file for appending:
//! - same shard count as the layout: shard i loads its own base and incremental files and
//!   keeps appending to its last incremental file (cut first if its tail was truncated);
//! - another shard count, or no AOF yet: every shard replays every old file (a command may
//!   read keys that now live on another shard), keeps only its own slots, and writes a fresh
//!   base and an empty incremental file. Shard 0's manifest is written last, by the main
//!   thread once every shard is done, and only then are the old layout's files deleted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::manifest::{self, AofFile, FileKind, Layout, Manifest, Names};
use super::replay;
use super::txlog;
use super::ShardAof;
use crate::config::Config;
use crate::observe::log;
use crate::store::Store;

/// What the main thread found on disk.
pub struct Plan {
    pub dir: PathBuf,
    pub base: String,
    pub layout: Option<Layout>,
    /// Sequence number for files of a new layout (above every old one).
    pub new_seq: u64,
    /// Per shard of `layout`: where its log ends so every cross-shard transaction left in
    /// it is whole (`txlog`).
    pub cuts: Vec<Option<txlog::Cut>>,
}

pub fn plan(cfg: &Config) -> Result<Arc<Plan>, String> {
    let dir = cfg.dir.join(&cfg.appenddirname);
    manifest::create_dir_durably(&dir)
        .map_err(|e| format!("Can't open or create append-only dir {}: {e}", dir.display()))?;
    let layout = manifest::current_layout(&dir, &cfg.appendfilename)?;
    info_enabled();
    let new_seq = layout.as_ref().map_or(0, |l| l.max_seq()) + 1;
    let cuts = match &layout {
        Some(l) if l.nshards > 1 => plan_cuts(&dir, l, cfg)?,
        _ => Vec::new(),
    };
    Ok(Arc::new(Plan { dir, base: cfg.appendfilename.clone(), layout, new_seq, cuts }))
}

/// Reads every shard's incremental files for cross-shard transactions whose parts did not
/// all reach the disk, and says where each shard's log must end (`txlog`). Refuses to
/// start, as for a torn tail, unless `aof-load-truncated` is on.
fn plan_cuts(dir: &Path, layout: &Layout, cfg: &Config) -> Result<Vec<Option<txlog::Cut>>, String> {
    let max_bulk = cfg.proto_max_bulk_len_bytes as usize;
    let mut logs = Vec::with_capacity(layout.manifests.len());
    for m in &layout.manifests {
        let mut l = txlog::ShardLog::default();
        for (i, f) in m.incrs.iter().enumerate() {
            l.scan_file(&read(&dir.join(&f.name))?, i, max_bulk);
        }
        logs.push(l);
    }
    let cuts = txlog::plan_cuts(&logs);
    for (shard, cut) in cuts.iter().enumerate() {
        let Some(c) = cut else { continue };
        let file = layout.manifests[shard].incrs.get(c.file).map(|f| f.name.as_str()).unwrap_or("?");
        let what = format!(
            "the AOF of shard {shard} holds its part of cross-shard transaction {} at offset {} of {file}, but shard(s) {:?} never logged theirs",
            c.commit, c.offset, c.missing
        );
        if !cfg.aof_load_truncated {
            return Err(format!(
                "Incomplete cross-shard transaction: {what}. Set 'aof-load-truncated yes' to drop it and everything after it on that shard (none of it was acknowledged with appendfsync always)."
            ));
        }
        log::warning(&format!(
            "Incomplete cross-shard transaction: {what}; dropping that shard's log from there (aof-load-truncated is on)"
        ));
    }
    Ok(cuts)
}

fn info_enabled() {
    super::info::ENABLED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A shard's loaded AOF, and shard 0's manifest when the main thread must write it.
pub struct Opened {
    pub aof: ShardAof,
    pub deferred_manifest: Option<(PathBuf, String)>,
    pub keys_loaded: u64,
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))
}

/// Loads one old shard's files (base, then incremental files) into `store`.
/// Returns how many keys and commands it loaded, and the files to cut: (path, length).
fn load_files(
    plan: &Plan,
    shard: usize,
    m: &Manifest,
    cfg: &Config,
    store: &mut Store,
    filter: (usize, usize),
) -> Result<(u64, Vec<(PathBuf, u64)>), String> {
    let mut loaded = 0;
    if let Some(b) = &m.base {
        let p = plan.dir.join(&b.name);
        loaded += replay::load_base(&p, &read(&p)?, filter, cfg, store)?;
    }
    let tx_cut = plan.cuts.get(shard).and_then(|c| c.as_ref());
    let mut cuts = Vec::new();
    let mut db = 0;
    for (i, f) in m.incrs.iter().enumerate() {
        let p = plan.dir.join(&f.name);
        // Files after an incomplete transaction's part are dropped whole.
        if tx_cut.is_some_and(|c| i > c.file) {
            cuts.push((p, 0));
            continue;
        }
        let mut bytes = read(&p)?;
        let mut last = i + 1 == m.incrs.len();
        if let Some(c) = tx_cut.filter(|c| c.file == i) {
            bytes.truncate(c.offset as usize);
            last = true;
        }
        let st = replay::replay_incr(&p, &bytes, last, cfg, store, &mut db)?;
        loaded += st.commands;
        if st.truncated || tx_cut.is_some_and(|c| c.file == i) {
            cuts.push((p, if st.truncated { st.valid_len } else { bytes.len() as u64 }));
        }
    }
    Ok((loaded, cuts))
}

fn open_append(path: &Path) -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(false)
        .write(true)
        .truncate(false)
        .open(path)
        .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))
}

#[allow(clippy::too_many_arguments)]
fn new_aof(
    plan: &Plan,
    names: Names,
    manifest: Manifest,
    file: std::fs::File,
    len: u64,
    base_size: u64,
    earlier: u64,
    cfg: &Config,
) -> ShardAof {
    ShardAof {
        dir: plan.dir.clone(),
        names,
        manifest,
        file,
        policy: cfg.appendfsync,
        buf: Vec::with_capacity(64 * 1024),
        inflight: Vec::with_capacity(64 * 1024),
        inflight_done: 0,
        write_inflight: false,
        fsync_inflight: false,
        appended: len,
        written: len,
        synced: len,
        file_start: 0,
        next_file: None,
        fsync_target: len,
        sel_db: None,
        multi: None,
        tx_part: None,
        last_fsync_ms: crate::shard::unix_ms(),
        write_error: None,
        base_size,
        earlier_incr_size: earlier,
        rewrite: None,
        closing: false,
        rewrite_scheduled: false,
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Loads shard `shard`'s data into `store` and opens its AOF for appending.
pub fn load_shard(
    plan: &Plan,
    shard: usize,
    nshards: usize,
    cfg: &Config,
    store: &mut Store,
) -> Result<Opened, String> {
    let names = Names { base: plan.base.clone(), shard, nshards };
    if let Some(l) = plan.layout.as_ref().filter(|l| l.nshards == nshards) {
        let m = &l.manifests[shard];
        let (keys_loaded, cuts) = load_files(plan, shard, m, cfg, store, (0, 1))?;
        for (p, len) in &cuts {
            let f = open_append(p)?;
            f.set_len(*len).map_err(|e| format!("Error truncating the AOF file {}: {e}", p.display()))?;
            let _ = f.sync_all();
        }
        // Keep appending to the last incremental file; a manifest without one gets one.
        let mut m = m.clone();
        let last = match m.incrs.last() {
            Some(f) => f.clone(),
            None => {
                let seq = m.max_seq() + 1;
                let f = AofFile { name: names.incr_file(seq), seq, kind: FileKind::Incr };
                open_append(&plan.dir.join(&f.name))?;
                m.incrs.push(f.clone());
                manifest::write_durably(&plan.dir, &plan.dir.join(names.manifest()), m.to_text().as_bytes())
                    .map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
                f
            }
        };
        let path = plan.dir.join(&last.name);
        let file = open_append(&path)?;
        let len = file_len(&path);
        let base_size = m.base.as_ref().map_or(0, |b| file_len(&plan.dir.join(&b.name)));
        let earlier: u64 = m.incrs.iter().take(m.incrs.len() - 1).map(|f| file_len(&plan.dir.join(&f.name))).sum();
        let mut aof = new_aof(plan, names, m, file, len, base_size, earlier, cfg);
        if len == 0 && aof.manifest.incrs.len() == 1 {
            aof.put_horizon();
        }
        return Ok(Opened { aof, deferred_manifest: None, keys_loaded });
    }
    // A new layout: replay everything (if anything), keep this shard's slots, write afresh.
    let mut keys_loaded = 0;
    if let Some(l) = &plan.layout {
        if shard == 0 {
            log::notice(&format!(
                "The AOF was written by {} shard(s); loading it into {nshards} and writing a new AOF layout",
                l.nshards
            ));
        }
        for (old_shard, m) in l.manifests.iter().enumerate() {
            keys_loaded += load_files(plan, old_shard, m, cfg, store, (0, 1))?.0;
        }
        if l.nshards != nshards {
            for db in store.dbs.iter_mut() {
                let foreign: Vec<u16> =
                    db.nonempty_slots().filter(|&s| crate::cluster::slot::owner_shard(s, nshards) != shard).collect();
                for s in foreign {
                    db.clear_slot(s);
                }
            }
        }
    }
    let (aof, deferred_manifest) = open_fresh(plan, names, plan.new_seq, shard == 0, cfg, store)?;
    Ok(Opened { aof, deferred_manifest, keys_loaded })
}

/// Writes a fresh base of `store` and an empty incremental file with sequence `seq`, and the
/// manifest naming them (returned instead of written when `defer_manifest`).
fn open_fresh(
    plan: &Plan,
    names: Names,
    seq: u64,
    defer_manifest: bool,
    cfg: &Config,
    store: &Store,
) -> Result<(ShardAof, Option<(PathBuf, String)>), String> {
    let base = AofFile { name: super::rewrite::base_name(&names, seq, cfg), seq, kind: FileKind::Base };
    let incr = AofFile { name: names.incr_file(seq), seq, kind: FileKind::Incr };
    let base_size = super::rewrite::write_base(&plan.dir, &base.name, store, cfg)?;
    let incr_path = plan.dir.join(&incr.name);
    let file = open_append(&incr_path)?;
    file.set_len(0).map_err(|e| format!("Can't create the AOF file {}: {e}", incr_path.display()))?;
    let m = Manifest { base: Some(base), incrs: vec![incr], history: Vec::new() };
    let mpath = plan.dir.join(names.manifest());
    let deferred_manifest = if defer_manifest {
        Some((mpath, m.to_text()))
    } else {
        manifest::write_durably(&plan.dir, &mpath, m.to_text().as_bytes())
            .map_err(|e| format!("Can't write the AOF manifest {}: {e}", mpath.display()))?;
        None
    };
    let mut aof = new_aof(plan, names, m, file, 0, base_size, 0, cfg);
    aof.put_horizon();
    Ok((aof, deferred_manifest))
}

/// CONFIG SET appendonly yes: this shard starts an AOF from its current data (a new base),
/// replacing its files of the same layout, as Redis's rewrite on enabling does.
pub fn enable_at_runtime(shard: usize, nshards: usize, cfg: &Config, store: &Store) -> Result<ShardAof, String> {
    let plan = plan(cfg)?;
    let names = Names { base: plan.base.clone(), shard, nshards };
    let old = plan.layout.as_ref().filter(|l| l.nshards == nshards).map(|l| l.manifests[shard].clone());
    let seq = plan.new_seq.max(old.as_ref().map_or(0, |m| m.max_seq()) + 1);
    let (aof, _) = open_fresh(&plan, names, seq, false, cfg, store)?;
    for f in old.iter().flat_map(|m| m.base.iter().chain(&m.incrs).chain(&m.history)) {
        let _ = std::fs::remove_file(plan.dir.join(&f.name));
    }
    manifest::sync_dir(&plan.dir);
    Ok(aof)
}

/// On the main thread after every shard loaded: commits shard 0's manifest (which makes a
/// new layout current) and deletes the files of any other layout.
pub fn commit_layout(plan: &Plan, nshards: usize, deferred: Option<(PathBuf, String)>) -> Result<(), String> {
    if let Some((path, text)) = deferred {
        manifest::write_durably(&plan.dir, &path, text.as_bytes())
            .map_err(|e| format!("Can't write the AOF manifest {}: {e}", path.display()))?;
    }
    for p in manifest::stale_files(&plan.dir, &plan.base, nshards) {
        let _ = std::fs::remove_file(&p);
    }
    manifest::sync_dir(&plan.dir);
    Ok(())
}
