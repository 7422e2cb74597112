//! Loading a shard's AOF at startup: the base file (an RDB file, or RESP commands for a base
//! written without the preamble), then each incremental file's commands replayed on the
//! store through the command table, exactly as they ran.
//!
//! Corruption handling follows Redis: a command cut off at the end of the *last* file is
//! dropped (and the file truncated before it) when `aof-load-truncated` is on, and stops
//! startup otherwise; anything else that is not a well-formed command stops startup with the
//! file, the byte offset, and the fix command. A MULTI without its EXEC at the end of the last
//! file is dropped with it, so a transaction is replayed whole or not at all.

use std::path::Path;

use crate::command::spec::{DataCtx, Exec};
use crate::config::Config;
use crate::persist::rdb::read::LoadLimits;
use crate::store::Store;

/// What one incremental file held.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReplayStats {
    pub commands: u64,
    /// Where the valid commands end (the file is cut here when its tail was truncated).
    pub valid_len: u64,
    pub truncated: bool,
}

/// How one command read from the file ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Read {
    Command { args: Vec<(usize, usize)>, end: usize },
    Eof,
    Truncated,
    Bad(&'static str),
}

fn read_line(b: &[u8], pos: usize, prefix: u8) -> Result<(i64, usize), Read> {
    let Some(&first) = b.get(pos) else { return Err(Read::Truncated) };
    if first != prefix {
        return Err(Read::Bad(if prefix == b'*' { "expected '*'" } else { "expected '$'" }));
    }
    let Some(nl) = b[pos..].iter().take(32).position(|&c| c == b'\n') else {
        return Err(if b.len() - pos < 32 { Read::Truncated } else { Read::Bad("line too long") });
    };
    let line = &b[pos + 1..pos + nl];
    let Some(digits) = line.strip_suffix(b"\r") else { return Err(Read::Bad("missing CR")) };
    match crate::resp::parse::parse_i64_strict(digits) {
        Some(n) => Ok((n, pos + nl + 1)),
        None => Err(Read::Bad("bad number")),
    }
}

/// Reads the command starting at `pos`.
pub(crate) fn read_command(b: &[u8], pos: usize, max_bulk: usize) -> Read {
    if pos >= b.len() {
        return Read::Eof;
    }
    let (n, mut p) = match read_line(b, pos, b'*') {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !(1..=1024 * 1024).contains(&n) {
        return Read::Bad("bad argument count");
    }
    let mut args = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (len, q) = match read_line(b, p, b'$') {
            Ok(x) => x,
            Err(r) => return r,
        };
        if len < 0 || len as usize > max_bulk {
            return Read::Bad("bad bulk length");
        }
        let end = q + len as usize;
        if end + 2 > b.len() {
            return Read::Truncated;
        }
        if &b[end..end + 2] != b"\r\n" {
            return Read::Bad("missing CRLF after an argument");
        }
        args.push((q, end));
        p = end + 2;
    }
    Read::Command { args, end: p }
}

/// Replays the commands of one incremental file on `store`. `last` says whether it is the
/// last file of the shard (the only one whose tail may be cut).
pub fn replay_incr(
    path: &Path,
    bytes: &[u8],
    last: bool,
    cfg: &Config,
    store: &mut Store,
    db: &mut usize,
) -> Result<ReplayStats, String> {
    let mut stats = ReplayStats::default();
    let mut pos = 0usize;
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(0);
    // Commands of an open MULTI, with where it began.
    let mut multi: Option<(usize, Vec<Vec<Vec<u8>>>)> = None;
    let max_bulk = cfg.proto_max_bulk_len_bytes as usize;
    let manifest_hint = || {
        format!(
            "make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest> (the manifest in {})",
            path.parent().map(|p| p.display().to_string()).unwrap_or_default()
        )
    };
    loop {
        match read_command(bytes, pos, max_bulk) {
            Read::Eof => break,
            Read::Bad(why) => {
                return Err(format!(
                    "Bad file format reading the append only file {} at offset {pos} ({why}): {}",
                    path.display(),
                    manifest_hint()
                ));
            }
            Read::Truncated if last && cfg.aof_load_truncated => {
                crate::observe::log::warning(&format!(
                    "!!! Warning: short read while loading the AOF file {} !!!",
                    path.display()
                ));
                crate::observe::log::warning(&format!("!!! Truncating the AOF {} at offset {pos} !!!", path.display()));
                crate::observe::log::warning("AOF loaded anyway because aof-load-truncated is enabled");
                stats.truncated = true;
                break;
            }
            Read::Truncated => {
                return Err(format!(
                    "Unexpected end of file reading the append only file {} at offset {pos}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                    path.display()
                ));
            }
            Read::Command { args, end } => {
                let argv: Vec<&[u8]> = args.iter().map(|&(s, e)| &bytes[s..e]).collect();
                let start = pos;
                pos = end;
                stats.commands += 1;
                let name = argv[0];
                if super::txlog::is_record(name) {
                    // Cross-shard transaction records: read before the load (`txlog`).
                    if multi.is_none() {
                        stats.valid_len = pos as u64;
                    }
                    continue;
                }
                if name.eq_ignore_ascii_case(b"multi") {
                    if multi.is_some() {
                        return Err(format!(
                            "Nested MULTI in the append only file {} at offset {start}",
                            path.display()
                        ));
                    }
                    multi = Some((start, Vec::new()));
                    continue;
                }
                if name.eq_ignore_ascii_case(b"exec") {
                    let Some((_, cmds)) = multi.take() else {
                        return Err(format!(
                            "EXEC without MULTI in the append only file {} at offset {start}",
                            path.display()
                        ));
                    };
                    for c in cmds {
                        let cv: Vec<&[u8]> = c.iter().map(|a| a.as_slice()).collect();
                        apply(&cv, cfg, store, db, &mut rng).map_err(|e| at(path, start, &e))?;
                    }
                    stats.valid_len = pos as u64;
                    continue;
                }
                match multi.as_mut() {
                    Some((_, cmds)) => cmds.push(argv.iter().map(|a| a.to_vec()).collect()),
                    None => {
                        apply(&argv, cfg, store, db, &mut rng).map_err(|e| at(path, start, &e))?;
                        stats.valid_len = pos as u64;
                    }
                }
            }
        }
    }
    if let Some((start, _)) = multi {
        if !(last && cfg.aof_load_truncated) {
            return Err(format!(
                "Revert incomplete MULTI/EXEC transaction in AOF file {}: the file ends inside a transaction that began at offset {start}. {}",
                path.display(),
                manifest_hint()
            ));
        }
        crate::observe::log::warning(&format!(
            "Revert incomplete MULTI/EXEC transaction in AOF file {} (from offset {start})",
            path.display()
        ));
        stats.truncated = true;
    }
    Ok(stats)
}

fn at(path: &Path, offset: usize, e: &str) -> String {
    format!("{e} (in the append only file {} at offset {offset})", path.display())
}

/// Runs one logged command on the store.
fn apply(
    argv: &[&[u8]],
    cfg: &Config,
    store: &mut Store,
    db: &mut usize,
    rng: &mut rand::rngs::SmallRng,
) -> Result<(), String> {
    let name = argv[0];
    let index = |a: Option<&&[u8]>| -> Result<usize, String> {
        a.and_then(|x| crate::resp::parse::parse_i64_strict(x))
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n < store.dbs.len())
            .ok_or_else(|| "Bad DB index in the AOF".to_owned())
    };
    if name.eq_ignore_ascii_case(b"select") {
        *db = index(argv.get(1))?;
        return Ok(());
    }
    if name.eq_ignore_ascii_case(b"flushall") {
        crate::command::family::keys::space::flush_shard(store, None);
        return Ok(());
    }
    if name.eq_ignore_ascii_case(b"flushdb") {
        crate::command::family::keys::space::flush_shard(store, Some(*db));
        return Ok(());
    }
    if name.eq_ignore_ascii_case(b"swapdb") {
        let (a, b) = (index(argv.get(1))?, index(argv.get(2))?);
        crate::command::family::keys::space::swapdb_shard(store, a, b);
        return Ok(());
    }
    let spec = crate::command::table::resolve(argv).map_err(|e| format!("Error in the AOF: {e}"))?;
    let Exec::Data(f) = spec.exec else {
        return Err(format!("Unknown command '{}' reading the append only file", String::from_utf8_lossy(name)));
    };
    let mut reply = Vec::new();
    let mut ctx = DataCtx { store, dbi: *db, now_ms: crate::shard::unix_ms(), cfg, rng };
    f(&mut ctx, argv, &mut crate::resp::Out::new(&mut reply, false));
    Ok(())
}

/// Loads one shard's base file into `store`: an RDB file, or a RESP base. `filter` is
/// `(shard, nshards)` to keep only that shard's keys, or `(0, 1)` for all of them.
pub fn load_base(
    path: &Path,
    bytes: &[u8],
    filter: (usize, usize),
    cfg: &Config,
    store: &mut Store,
) -> Result<u64, String> {
    if bytes.starts_with(b"REDIS") {
        let lim = LoadLimits::from_config(cfg);
        let stats =
            crate::persist::rdb::file::load_shard(bytes, filter.0, filter.1, &lim, crate::shard::unix_ms(), store)
                .map_err(|e| format!("Bad RDB base {}: {e}. {}", path.display(), "Check it with redis-check-rdb"))?;
        return Ok(stats.keys_loaded);
    }
    let mut db = 0;
    replay_incr(path, bytes, false, cfg, store, &mut db).map(|s| s.commands)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Commands as the AOF holds them (RESP arrays of bulk strings).
    pub(in crate::persist::aof) fn resp(cmds: &[&[&str]]) -> Vec<u8> {
        let mut b = Vec::new();
        for c in cmds {
            b.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
            for a in *c {
                b.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
        }
        b
    }

    fn cfg(truncated_ok: bool) -> Config {
        Config { aof_load_truncated: truncated_ok, ..Config::default() }
    }

    #[test]
    fn replays_commands_and_select() {
        let b =
            resp(&[&["SELECT", "1"], &["SET", "a", "1"], &["RPUSH", "l", "x", "y"], &["SELECT", "0"], &["INCR", "n"]]);
        let mut s = Store::new(16);
        let mut db = 0;
        let st = replay_incr(Path::new("f"), &b, true, &cfg(false), &mut s, &mut db).expect("ok");
        assert_eq!(st.commands, 5);
        assert_eq!(st.valid_len, b.len() as u64);
        assert!(s.dbs[1].peek(b"a").is_some() && s.dbs[1].peek(b"l").is_some() && s.dbs[0].peek(b"n").is_some());
    }

    #[test]
    fn truncated_tail_is_cut_only_when_allowed() {
        let whole = resp(&[&["SET", "a", "1"], &["SET", "b", "2"]]);
        for cut in 1..whole.len() - 27 {
            let b = &whole[..whole.len() - cut];
            let mut s = Store::new(16);
            let st = replay_incr(Path::new("f"), b, true, &cfg(true), &mut s, &mut 0).expect("cut tail");
            assert!(st.truncated);
            assert_eq!(st.valid_len, 27, "cut {cut}");
            assert!(s.dbs[0].peek(b"b").is_none());
            let err =
                replay_incr(Path::new("f"), b, true, &cfg(false), &mut Store::new(16), &mut 0).expect_err("refused");
            assert!(err.contains("Unexpected end of file"), "{err}");
            // Only the last file may be cut.
            assert!(replay_incr(Path::new("f"), b, false, &cfg(true), &mut Store::new(16), &mut 0).is_err());
        }
    }

    #[test]
    fn corruption_names_the_offset() {
        let mut b = resp(&[&["SET", "a", "1"], &["SET", "b", "2"]]);
        b[28] = b'x'; // the second command's argument count
        let err = replay_incr(Path::new("f"), &b, true, &cfg(true), &mut Store::new(16), &mut 0).expect_err("bad");
        assert!(err.contains("offset 27") && err.contains("redis-check-aof --fix"), "{err}");
    }

    #[test]
    fn transaction_records_are_read_not_applied() {
        let b = resp(&[
            &["TESSERA.TXHORIZON", "3"],
            &["MULTI"],
            &["SET", "b", "2"],
            &["TESSERA.TXPART", "4", "0,1"],
            &["EXEC"],
        ]);
        let mut s = Store::new(16);
        let st = replay_incr(Path::new("f"), &b, true, &cfg(false), &mut s, &mut 0).expect("ok");
        assert_eq!(st.valid_len, b.len() as u64);
        assert!(s.dbs[0].peek(b"b").is_some());
    }

    #[test]
    fn incomplete_transaction_is_dropped() {
        let mut b = resp(&[&["SET", "a", "1"], &["MULTI"], &["SET", "b", "2"]]);
        let mut s = Store::new(16);
        let st = replay_incr(Path::new("f"), &b, true, &cfg(true), &mut s, &mut 0).expect("ok");
        assert!(st.truncated && s.dbs[0].peek(b"b").is_none() && s.dbs[0].peek(b"a").is_some());
        assert_eq!(st.valid_len, 27);
        b.extend_from_slice(&resp(&[&["EXEC"]]));
        let mut s = Store::new(16);
        replay_incr(Path::new("f"), &b, true, &cfg(true), &mut s, &mut 0).expect("ok");
        assert!(s.dbs[0].peek(b"b").is_some());
    }

    #[test]
    fn unknown_commands_stop_the_load() {
        let b = resp(&[&["NOSUCH", "a"]]);
        assert!(replay_incr(Path::new("f"), &b, true, &cfg(true), &mut Store::new(16), &mut 0).is_err());
        let b = resp(&[&["CONFIG", "SET", "a", "b"]]);
        assert!(replay_incr(Path::new("f"), &b, true, &cfg(true), &mut Store::new(16), &mut 0).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            for ok in [false, true] {
                let _ = replay_incr(Path::new("f"), &bytes, true, &cfg(ok), &mut Store::new(16), &mut 0);
            }
        }

        #[test]
        fn damaged_files_never_panic(
            flips in proptest::collection::vec((proptest::prelude::any::<usize>(), 0u8..8), 1..6),
            cut in proptest::prelude::any::<usize>(),
        ) {
            let mut b = resp(&[&["SELECT", "3"], &["MULTI"], &["RPUSH", "l", "a", "b"], &["ZADD", "z", "1", "m"], &["EXEC"],
                &["XADD", "s", "1-1", "f", "v"], &["SWAPDB", "3", "4"], &["SET", "k", "v", "PXAT", "1"]]);
            let n = b.len();
            for (pos, bit) in flips {
                b[pos % n] ^= 1 << bit;
            }
            b.truncate(cut % (n + 1));
            for ok in [false, true] {
                let _ = replay_incr(Path::new("f"), &b, true, &cfg(ok), &mut Store::new(16), &mut 0);
            }
        }
    }
}
