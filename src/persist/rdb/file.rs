//! Whole RDB files: the walk over opcodes shared by every reader (the startup check, each
//! shard's load), the checksum check, and loading one shard's share of the keys.
//!
//! The walk handles every opcode Redis 7.0 writes or still reads: AUX fields (kept for the
//! log), SELECTDB, RESIZEDB (a hint, ignored), EXPIRETIME in seconds (old files) and in ms,
//! IDLE and FREQ (LRU/LFU hints for the next key), FUNCTION2 (function libraries: skipped with
//! a warning, Tessera has no functions), and refuses module data and pre-release opcodes with
//! a message saying what was found. Versions 1 to 10 load; newer ones are refused.

use std::borrow::Cow;

use super::read::{is_value_kind, kind_refusal, read_value, skip_value, LoadLimits, Reader};
use super::{opcode, RdbError, RDB_VERSION};
use crate::cluster::slot::{key_slot, owner_shard};
use crate::store::keyspace::{access_clock_now_s, Entry};
use crate::store::Store;

/// What precedes a key's value in the file.
#[derive(Debug)]
pub struct KeyHeader<'a> {
    pub db: usize,
    pub key: Cow<'a, [u8]>,
    pub kind: u8,
    /// Absolute deadline in unix ms as written (may be in the past, or even negative).
    pub expire_ms: Option<i64>,
    pub idle_s: Option<u64>,
    /// The LFU counter written under an LFU policy.
    pub freq: Option<u8>,
    /// Offset of the key's type byte.
    pub at: usize,
}

/// Facts about a file gathered by a walk.
#[derive(Debug, Default)]
pub struct Summary {
    pub version: u16,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    pub function_libraries_skipped: usize,
    /// Offset just past the EOF opcode: the checksum covers the bytes before it.
    pub checksummed_len: usize,
    /// The checksum the file carries (None before version 5; 0 means "not computed").
    pub checksum: Option<u64>,
    pub keys: u64,
}

impl Summary {
    pub fn aux_str(&self, name: &str) -> Option<String> {
        self.aux.iter().find(|(k, _)| k == name.as_bytes()).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// Walks a whole file, handing each key to `on_key`, which must consume its value from the
/// reader (read it or skip it). `databases` bounds SELECTDB.
pub fn walk<'a>(
    buf: &'a [u8],
    databases: usize,
    mut on_key: impl FnMut(&KeyHeader<'a>, &mut Reader<'a>) -> Result<(), RdbError>,
) -> Result<Summary, RdbError> {
    let mut r = Reader::new(buf);
    let magic = r.bytes(9).map_err(|_| RdbError::new(0, "Short file: not an RDB file"))?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError::new(0, "Wrong signature trying to load DB from file"));
    }
    let version = std::str::from_utf8(&magic[5..9])
        .ok()
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u16>().ok())
        .ok_or_else(|| RdbError::new(5, "Bad RDB format version"))?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(RdbError::new(5, format!("Can't handle RDB format version {version}")));
    }
    let mut sum = Summary { version, ..Default::default() };
    let mut db = 0usize;
    let mut expire_ms: Option<i64> = None;
    let mut idle_s: Option<u64> = None;
    let mut freq: Option<u8> = None;
    loop {
        let at = r.pos;
        let t = r.u8()?;
        match t {
            opcode::EXPIRETIME => expire_ms = Some(r.u32_le()? as i32 as i64 * 1000),
            opcode::EXPIRETIME_MS => expire_ms = Some(r.u64_le()? as i64),
            opcode::FREQ => freq = Some(r.u8()?),
            opcode::IDLE => idle_s = Some(r.length()?),
            opcode::EOF => break,
            opcode::SELECTDB => {
                let n = r.length()?;
                if n >= databases as u64 {
                    return Err(RdbError::new(
                        at,
                        format!(
                            "Data file was created with a server configured to handle more than {databases} \
                             databases (it selects db {n})"
                        ),
                    ));
                }
                db = n as usize;
            }
            opcode::RESIZEDB => {
                r.length()?;
                r.length()?;
            }
            opcode::AUX => {
                let k = r.string()?.into_owned();
                let v = r.string()?.into_owned();
                sum.aux.push((k, v));
            }
            opcode::MODULE_AUX => {
                return Err(RdbError::new(at, "The RDB file contains module auxiliary data: modules are not supported"))
            }
            opcode::FUNCTION_PRE_GA => {
                return Err(RdbError::new(at, "Pre-release function format not supported"));
            }
            opcode::FUNCTION2 => {
                r.skip_string()?;
                sum.function_libraries_skipped += 1;
            }
            t if is_value_kind(t) => {
                if let Some(why) = kind_refusal(t) {
                    return Err(RdbError::new(at, why));
                }
                let key = r.string()?;
                let h = KeyHeader {
                    db,
                    key,
                    kind: t,
                    expire_ms: expire_ms.take(),
                    idle_s: idle_s.take(),
                    freq: freq.take(),
                    at,
                };
                on_key(&h, &mut r)?;
                sum.keys += 1;
            }
            t => return Err(RdbError::new(at, format!("Unknown RDB opcode or value type {t}"))),
        }
    }
    sum.checksummed_len = r.pos;
    if version >= 5 {
        sum.checksum = Some(r.u64_le()?);
    }
    Ok(sum)
}

/// Checks the CRC64 trailer of a walked file (a zero checksum means it was written with
/// `rdbchecksum no` and is not checked, as Redis does).
pub fn verify_checksum(buf: &[u8], sum: &Summary) -> Result<(), RdbError> {
    let Some(expected) = sum.checksum else { return Ok(()) };
    if expected == 0 {
        return Ok(());
    }
    let got = super::crc64::crc64(0, buf.get(..sum.checksummed_len).unwrap_or(buf));
    if got != expected {
        return Err(RdbError::new(
            sum.checksummed_len,
            format!("Wrong RDB checksum expected: ({expected:x}) got ({got:x})"),
        ));
    }
    Ok(())
}

/// Structure and checksum of a whole file, without building any value.
pub fn check(buf: &[u8], databases: usize) -> Result<Summary, RdbError> {
    let sum = walk(buf, databases, |h, r| skip_value(r, h.kind))?;
    verify_checksum(buf, &sum)?;
    Ok(sum)
}

/// What loading one shard's share found.
#[derive(Debug, Default, Clone)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    pub empty_keys_skipped: u64,
}

/// Loads the keys of `buf` that belong to `shard` (of `nshards`) into `store`. Keys whose
/// deadline is before `now_ms` are skipped (as a master does), empty aggregates are skipped
/// (as Redis 7.0 does), a key present twice in one database is an error.
pub fn load_shard(
    buf: &[u8],
    shard: usize,
    nshards: usize,
    lim: &LoadLimits,
    now_ms: u64,
    store: &mut Store,
) -> Result<LoadStats, RdbError> {
    let mut st = LoadStats::default();
    let now_s = access_clock_now_s();
    let databases = store.dbs.len();
    walk(buf, databases, |h, r| {
        if owner_shard(key_slot(&h.key), nshards) != shard {
            return skip_value(r, h.kind);
        }
        let Some(value) = read_value(r, h.kind, lim)? else {
            st.empty_keys_skipped += 1;
            return Ok(());
        };
        let deadline_ms = match h.expire_ms {
            Some(ms) if ms < now_ms as i64 => {
                st.keys_expired += 1;
                return Ok(());
            }
            Some(ms) => ms as u64,
            None => crate::store::keyspace::NO_EXPIRE,
        };
        let mut e = Entry::new(value);
        e.expire_at_ms = deadline_ms;
        // As Redis's `objectSetLRUOrLFU`: the hint of the policy in force, the other ignored.
        // A loaded counter starts its decay now (the file keeps no decrement time).
        match (lim.lfu_policy, h.freq, h.idle_s) {
            (true, Some(f), _) => {
                e.lfu = f;
                e.access_s = now_s;
            }
            (false, _, Some(idle)) => e.access_s = now_s.saturating_sub(u32::try_from(idle).unwrap_or(u32::MAX)),
            _ => {}
        }
        let Some(db) = store.dbs.get_mut(h.db) else {
            return Err(RdbError::new(h.at, "database out of range"));
        };
        if db.insert(&h.key, e).is_some() {
            return Err(RdbError::new(
                h.at,
                format!("Duplicated key '{}' found in DB {}", String::from_utf8_lossy(&h.key), h.db),
            ));
        }
        st.keys_loaded += 1;
        Ok(())
    })?;
    Ok(st)
}
