//! Power loss, not only process death. `kill -9` keeps the page cache, so it cannot tell a
//! server that fsyncs from one that does not. Here the data directory is `powerfs`
//! (tests/powerfs): a FUSE filesystem that keeps, for every file and directory, what a disk
//! would still hold if the power went out now, following POSIX's rules (file bytes up to their
//! last fsync, names up to their directory's last fsync). A cut takes that image and fails every
//! later request with EIO; the server restarts on the image laid out in a real directory.
//!
//! - `appendfsync always`, 2 shards, 16 writers: over 8 cuts, some while AOF rewrites switch
//!   manifests and with random parts of unsynced tails kept, no acknowledged write is lost and
//!   every image loads (then passes `redis-check-aof`).
//! - `appendfsync everysec` does lose writes at a cut (so the check above can fail), within
//!   about a second of them; the count is printed. Logs cut inside a command load.
//! - `SAVE` answers only once `dump.rdb` survives a cut; a cut during `BGSAVE` leaves the old
//!   or the new snapshot, whole.
//! - `cluster-config-file`: the node keeps its name and every slot whose CLUSTER ADDSLOTS was
//!   answered.
//!
//! Needs root and /dev/fuse (both on the CI machine). The seed of the torn tails is printed;
//! `TESSERA_POWERFS_SEED` replays one.

mod common;
mod powerfs;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::crash::{
    assert_check_aof, check_pair, lost_writes, pair_value, start_pair_writer, start_writers, PairStep,
};
use common::{RawConn, Reply, Server, Spec, TempDir};
use powerfs::{Mounted, Tail};

fn seed() -> u64 {
    let s = std::env::var("TESSERA_POWERFS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    eprintln!("powerfs seed: {s} (TESSERA_POWERFS_SEED={s} replays it)");
    s
}

/// Where a test's server runs: its log directory (a real one), the mount point, and the
/// "disk": a real directory holding what the last cut left.
struct Rig {
    logs: TempDir,
    mnt: TempDir,
    disk: TempDir,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        Rig {
            logs: TempDir::new(&format!("{tag}-logs")),
            mnt: TempDir::new(&format!("{tag}-mnt")),
            disk: TempDir::new(&format!("{tag}-disk")),
        }
    }

    /// Mounts powerfs over the mount point, holding a copy of the disk.
    fn mount(&self, seed: u64) -> Mounted {
        Mounted::mount(self.mnt.path(), Some(self.disk.path()), seed).unwrap_or_else(|e| {
            panic!(
                "mounting powerfs at {}: {e}. This test needs root and /dev/fuse (ls -l /dev/fuse).",
                self.mnt.path().display()
            )
        })
    }

    /// A server whose --dir is `dir`; its log stays in the log directory, off the mount.
    fn start(&self, spec: &Spec, dir: &Path) -> Server {
        let spec = spec.clone().args(&["--dir", &dir.display().to_string()]);
        Server::start_in(&spec, self.logs.path()).unwrap_or_else(|e| panic!("start on {}: {e}", dir.display()))
    }

    /// Cuts the power: kills the server (after a moment in which it may still try to answer)
    /// and replaces the disk with the image.
    fn cut(&self, m: Mounted, s: &mut Server, tail: Tail) -> powerfs::Stats {
        let image = m.cut(tail);
        // Anything the server acknowledges from here on was never made durable by the cut
        // filesystem: leave it time to (wrongly) do so.
        std::thread::sleep(Duration::from_millis(100));
        s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
        let stats = m.stats();
        drop(m);
        clear_dir(self.disk.path());
        image.write_to(self.disk.path());
        stats
    }
}

fn clear_dir(dir: &Path) {
    for e in std::fs::read_dir(dir).expect("read disk dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p).expect("clear disk dir");
        } else {
            std::fs::remove_file(&p).expect("clear disk dir");
        }
    }
}

fn counters(c: &mut RawConn, n: usize) -> Vec<u64> {
    (0..n)
        .map(|t| {
            c.cmd(&["GET", &format!("cnt{t}")])
                .bytes()
                .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
                .unwrap_or(0)
        })
        .collect()
}

fn aof_spec(fsync: &str) -> Spec {
    Spec::tessera(2).args(&["--appendonly", "yes", "--appendfsync", fsync, "--save", ""])
}

#[test]
fn appendfsync_always_loses_no_acknowledged_write_at_power_loss() {
    let rig = Rig::new("power-always");
    let seed = seed();
    let mut total_acked = 0;
    let mut total_pairs = 0;
    let mut totals = powerfs::Stats::default();
    for cycle in 0..8u64 {
        let m = rig.mount(seed.wrapping_add(cycle));
        // As long as a disk's flush: a reply released before its fsync returns is exposed
        // to the cut for that long.
        m.slow_fsync(Duration::from_micros(200));
        let mut spec = aof_spec("always");
        if cycle % 2 == 1 {
            // Rewrites every few hundred KB: cuts land while bases are written and manifests
            // switched.
            spec = spec.args(&["--auto-aof-rewrite-min-size", "262144", "--auto-aof-rewrite-percentage", "30"]);
        }
        let mut s = rig.start(&spec, rig.mnt.path());
        let base = counters(&mut s.raw(), 16);
        let stop = Arc::new(AtomicBool::new(false));
        let ws = start_writers(s.port, &base, stop.clone());
        // Cross-shard steps too: their parts on the two shards must be durable before the
        // answer, and load whole or not at all.
        let pairs: Vec<(PairStep, usize)> =
            [PairStep::Exec, PairStep::Mset].into_iter().flat_map(|p| (0..2).map(move |t| (p, t))).collect();
        let pws: Vec<_> = {
            let mut c = s.raw();
            pairs
                .iter()
                .map(|&(p, t)| {
                    let from = pair_value(&mut c, p, t, &format!("cycle {cycle} start"));
                    (from, start_pair_writer(s.port, p, t, from, stop.clone()))
                })
                .collect()
        };
        std::thread::sleep(Duration::from_millis(300 + 50 * cycle));
        let st = rig.cut(m, &mut s, Tail::Random);
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<u64> = ws.into_iter().map(|w| w.join().unwrap()).collect();
        let pair_acked: Vec<(i64, i64)> = pws.into_iter().map(|(from, w)| (from, w.join().unwrap())).collect();
        let pair_n: i64 = pair_acked.iter().map(|(from, to)| to - from).sum();
        total_pairs += pair_n;
        let n = acked.iter().zip(&base).map(|(a, b)| a - b).sum::<u64>();
        total_acked += n;
        totals.fsyncs += st.fsyncs;
        totals.dir_fsyncs += st.dir_fsyncs;
        totals.bytes_lost_at_cut += st.bytes_lost_at_cut;
        totals.entries_lost_at_cut += st.entries_lost_at_cut;
        assert!(st.fsyncs > 0, "cycle {cycle}: the server never fsynced on powerfs (is --dir on the mount?)");

        let v = rig.start(&spec, rig.disk.path());
        let lost = lost_writes(&mut v.raw(), &acked);
        let mut c = v.raw();
        for (&(p, t), &(_, to)) in pairs.iter().zip(&pair_acked) {
            check_pair(&mut c, p, t, to, &format!("cycle {cycle} (seed {})", seed.wrapping_add(cycle)));
        }
        drop(c);
        assert_eq!(
            lost,
            0,
            "cycle {cycle}: acknowledged writes lost at a power cut (seed {}); log:\n{}",
            seed.wrapping_add(cycle),
            v.log()
        );
        drop(v);
        assert_check_aof(rig.disk.path());
        eprintln!(
            "cycle {cycle}: {n} acknowledged and {pair_n} cross-shard steps, none lost; {} fsyncs, {} dir fsyncs; the cut dropped {} unsynced bytes and {} unsynced names",
            st.fsyncs, st.dir_fsyncs, st.bytes_lost_at_cut, st.entries_lost_at_cut
        );
    }
    assert!(total_acked > 500, "the writers made progress: {total_acked}");
    assert!(total_pairs > 100, "the cross-shard writers made progress: {total_pairs}");
    eprintln!(
        "appendfsync always: {total_acked} acknowledged writes and {total_pairs} cross-shard steps over 8 power cuts, none lost or torn ({} unsynced bytes dropped by the cuts)",
        totals.bytes_lost_at_cut
    );
}

#[test]
fn appendfsync_everysec_loses_about_a_second_at_power_loss() {
    let rig = Rig::new("power-everysec");
    let seed = seed();
    let mut lost_total = 0;
    let mut acked_total = 0;
    for cycle in 0..3u64 {
        let m = rig.mount(seed.wrapping_add(cycle));
        let spec = aof_spec("everysec");
        let mut s = rig.start(&spec, rig.mnt.path());
        let base = counters(&mut s.raw(), 8);
        let stop = Arc::new(AtomicBool::new(false));
        let ws = start_writers(s.port, &base, stop.clone());
        std::thread::sleep(Duration::from_millis(700 + 150 * cycle));
        // Odd cuts keep random prefixes of the unsynced tails: logs that end inside a command,
        // which the restart cuts (`aof-load-truncated yes`).
        let tail = if cycle % 2 == 0 { Tail::Lost } else { Tail::Random };
        let st = rig.cut(m, &mut s, tail);
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<u64> = ws.into_iter().map(|w| w.join().unwrap()).collect();
        let n: u64 = acked.iter().zip(&base).map(|(a, b)| a - b).sum();
        let v = rig.start(&spec, rig.disk.path());
        let have = counters(&mut v.raw(), 8);
        let lost: u64 = acked.iter().zip(&have).map(|(a, h)| a.saturating_sub(*h)).sum();
        // What the last image held (where this cycle started) is never lost.
        for (t, (&h, &b)) in have.iter().zip(&base).enumerate() {
            assert!(h >= b, "writer {t}: counter went back past the last image ({h} < {b})");
        }
        let secs = (700 + 150 * cycle) as f64 / 1000.0;
        let per_sec = n as f64 / secs;
        eprintln!(
            "appendfsync everysec cut {cycle}: {n} acknowledged in {secs:.2}s, {lost} lost ({:.2} s of writes); {} fsyncs, {} unsynced bytes dropped",
            lost as f64 / per_sec.max(1.0),
            st.fsyncs,
            st.bytes_lost_at_cut
        );
        assert!(
            (lost as f64) < per_sec * 2.5 + 100.0,
            "cut {cycle}: lost {lost} writes, more than ~2 s of writes at {per_sec:.0}/s"
        );
        drop(v);
        assert_check_aof(rig.disk.path());
        lost_total += lost;
        acked_total += n;
    }
    // The check that finds nothing lost under `always` finds losses here: the filesystem
    // really drops what was not fsynced.
    assert!(lost_total > 0, "everysec lost nothing over 3 cuts ({acked_total} acknowledged): the cut is not biting");
}

fn set_all(c: &mut RawConn, n: usize, gen: u32) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut args: Vec<String> = vec!["MSET".into()];
        for i in chunk {
            args.push(format!("k:{i}"));
            args.push(format!("gen{gen}:{i}:{}", "x".repeat(40)));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(matches!(c.cmd(&refs), Reply::Simple(_)), "MSET");
    }
    assert!(matches!(c.cmd(&["SET", "gen", &gen.to_string()]), Reply::Simple(_)));
}

/// Every key holds generation `gen`'s value, where `gen` is read from the server.
fn check_generation(c: &mut RawConn, n: usize) -> u32 {
    let gen: u32 = c
        .cmd(&["GET", "gen"])
        .bytes()
        .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
        .unwrap_or_else(|| panic!("no gen key after the cut"));
    assert_eq!(c.cmd(&["DBSIZE"]).int(), Some(n as i64 + 1), "every key of generation {gen}");
    for i in (0..n).step_by(97) {
        let want = format!("gen{gen}:{i}:{}", "x".repeat(40));
        assert_eq!(c.cmd(&["GET", &format!("k:{i}")]).bytes(), Some(want.as_bytes()), "k:{i} of generation {gen}");
    }
    gen
}

#[test]
fn save_is_durable_and_bgsave_leaves_a_whole_snapshot_at_power_loss() {
    let rig = Rig::new("power-rdb");
    let seed = seed();
    let spec = Spec::tessera(2).args(&["--appendonly", "no", "--save", ""]);
    const N: usize = 60_000;

    // SAVE answered: the snapshot survives a cut right after the answer.
    let m = rig.mount(seed);
    let mut s = rig.start(&spec, rig.mnt.path());
    let mut c = s.raw();
    set_all(&mut c, N, 1);
    assert!(matches!(c.cmd(&["SAVE"]), Reply::Simple(_)), "SAVE");
    drop(c);
    rig.cut(m, &mut s, Tail::Lost);
    let v = rig.start(&spec, rig.disk.path());
    assert_eq!(check_generation(&mut v.raw(), N), 1);
    drop(v);

    // A cut at some point of a BGSAVE: the old snapshot or the new one, whole.
    let mut seen = [0u32; 2];
    for cycle in 0..6u64 {
        let m = rig.mount(seed.wrapping_add(cycle + 1));
        let mut s = rig.start(&spec, rig.mnt.path());
        let mut c = s.raw();
        let before = check_generation(&mut c, N);
        set_all(&mut c, N, before + 1);
        assert!(matches!(c.cmd(&["BGSAVE"]), Reply::Simple(_)), "BGSAVE");
        std::thread::sleep(Duration::from_millis(cycle * cycle * 8));
        drop(c);
        rig.cut(m, &mut s, Tail::Random);
        let v = rig.start(&spec, rig.disk.path());
        let after = check_generation(&mut v.raw(), N);
        assert!(
            after == before || after == before + 1,
            "generation {after} after a cut between {before} and {}",
            before + 1
        );
        seen[(after - before) as usize] += 1;
        drop(v);
    }
    eprintln!("BGSAVE cut: old snapshot kept {} times, new one {} times, never a torn one", seen[0], seen[1]);
}

/// Slots this node serves, from its own CLUSTER NODES line.
fn my_slots(c: &mut RawConn) -> Vec<u16> {
    let text = c.cmd(&["CLUSTER", "NODES"]).bytes().map(|b| String::from_utf8_lossy(b).into_owned()).expect("NODES");
    let line = text.lines().find(|l| l.contains("myself")).expect("a myself line").to_owned();
    let mut slots = Vec::new();
    for f in line.split(' ').skip(8).filter(|f| !f.starts_with('[')) {
        let (a, b) = f.split_once('-').unwrap_or((f, f));
        let (a, b): (u16, u16) = (a.parse().expect("slot"), b.parse().expect("slot"));
        slots.extend(a..=b);
    }
    slots
}

fn my_id(c: &mut RawConn) -> String {
    c.cmd(&["CLUSTER", "MYID"]).bytes().map(|b| String::from_utf8_lossy(b).into_owned()).expect("MYID")
}

/// `cluster-config-file` keeps every acknowledged change: slots taken one at a time with
/// CLUSTER ADDSLOTS (and epochs bumped) while the power is cut; after each restart the node
/// has the same name and every slot whose ADDSLOTS was answered.
#[test]
fn nodes_conf_keeps_every_acknowledged_change_at_power_loss() {
    let rig = Rig::new("power-nodes");
    let seed = seed();
    let spec = |dir: &Path| {
        Spec::tessera(2).cluster().args(&[
            "--cluster-config-file",
            &dir.join("nodes.conf").display().to_string(),
            "--save",
            "",
        ])
    };
    let mut id = None;
    let mut acked = 0u16;
    let mut total = 0;
    for cycle in 0..6u64 {
        let m = rig.mount(seed.wrapping_add(cycle));
        m.slow_fsync(Duration::from_micros(200));
        let mut s = rig.start(&spec(rig.mnt.path()), rig.mnt.path());
        let mut c = s.raw();
        let name = my_id(&mut c);
        assert_eq!(*id.get_or_insert(name.clone()), name, "cycle {cycle}: the node's name changed");
        let stop = Arc::new(AtomicBool::new(false));
        let (port, from, stop2) = (s.port, acked, stop.clone());
        let adder = std::thread::spawn(move || {
            let Ok(mut c) = RawConn::connect(port) else { return from };
            let mut n = from;
            while !stop2.load(Ordering::Relaxed) && n < 16_000 {
                match c.call(&[b"CLUSTER", b"ADDSLOTS", n.to_string().as_bytes()]) {
                    Ok((raw, _)) if raw == b"+OK\r\n" => n += 1,
                    _ => break,
                }
                if n % 16 == 0 && c.call(&[b"CLUSTER", b"BUMPEPOCH"]).is_err() {
                    break;
                }
            }
            n
        });
        std::thread::sleep(Duration::from_millis(100 + 40 * cycle));
        drop(c);
        rig.cut(m, &mut s, Tail::Random);
        stop.store(true, Ordering::Relaxed);
        let n = adder.join().unwrap();
        let this_cycle = n - acked;
        total += this_cycle;

        let v = rig.start(&spec(rig.disk.path()), rig.disk.path());
        let mut c = v.raw();
        assert_eq!(my_id(&mut c), name, "cycle {cycle}: the node's name changed at the cut (seed {seed})");
        let slots = my_slots(&mut c);
        // The ADDSLOTS in flight at the cut may or may not have landed.
        let have = slots.len() as u16;
        assert!(have == n || have == n + 1, "cycle {cycle}: {have} slots after {n} acknowledged (seed {seed})");
        assert_eq!(slots, (0..have).collect::<Vec<_>>(), "cycle {cycle}: slots out of order");
        acked = have;
        eprintln!("cycle {cycle}: {this_cycle} ADDSLOTS acknowledged, {have} slots after the cut");
    }
    assert!(total > 50, "the config changes made progress: {total}");
    eprintln!("nodes.conf: {total} acknowledged ADDSLOTS over 6 power cuts, none lost");
}
