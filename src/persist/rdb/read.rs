//! Decoding RDB values into our in-memory types, choosing encodings as Redis 7.0 chooses them
//! on load: listpack-format values stay small unless they hold more entries than the
//! `*-max-listpack-entries` limit; values written element by element start small when their
//! count allows and convert as elements arrive (long fields, non-integer set members);
//! intsets stay intsets up to `set-max-intset-entries`.
//!
//! Every read is bounds-checked against the input and reports the offset it failed at. Lengths
//! from the input never size an allocation beyond what the remaining input could hold.

use std::borrow::Cow;

use super::{kind, ziplist, RdbError, QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN};
use crate::store::bytes::CompactBytes;
use crate::store::listpack::{self, LpValue};
use crate::store::types::hash::{FieldTable, HashLimits, HashValue};
use crate::store::types::list::ListValue;
use crate::store::types::set::{IntSet, MemberTable, SetValue};
use crate::store::types::zset::{cmp_entry, Listpack, ListpackLimits, SortedSet, ZSetValue};
use crate::store::value::{StrValue, Value};

/// The settings in force while loading: encoding limits, and which access hint of a file
/// applies to its keys.
#[derive(Clone, Copy, Debug)]
pub struct LoadLimits {
    pub hash: HashLimits,
    pub zset: ListpackLimits,
    pub set_max_intset_entries: usize,
    pub list_fill: i32,
    /// An LFU `maxmemory-policy` is selected: a key's FREQ hint sets its counter and its IDLE
    /// hint is ignored; otherwise IDLE sets its access time and FREQ is ignored (Redis's
    /// `objectSetLRUOrLFU`).
    pub lfu_policy: bool,
}

impl Default for LoadLimits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        LoadLimits {
            hash: HashLimits::default(),
            zset: ListpackLimits { max_entries: 128, max_value_bytes: 64 },
            set_max_intset_entries: 512,
            list_fill: -2,
            lfu_policy: false,
        }
    }
}

impl LoadLimits {
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        LoadLimits {
            hash: HashLimits {
                max_listpack_entries: cfg.hash_max_listpack_entries,
                max_listpack_value_bytes: cfg.hash_max_listpack_value_bytes,
            },
            zset: ListpackLimits::from_config(cfg),
            set_max_intset_entries: cfg.set_max_intset_entries,
            list_fill: cfg.list_max_listpack_size,
            lfu_policy: crate::store::keyspace::Lfu::of(cfg).is_some(),
        }
    }
}

/// A cursor over an RDB file or DUMP payload.
pub struct Reader<'a> {
    buf: &'a [u8],
    pub pos: usize,
}

/// Preallocation cap for element counts read from the input.
fn capped(n: u64, remaining: usize) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(remaining).min(1 << 16)
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn err(&self, at: usize, msg: impl Into<String>) -> RdbError {
        RdbError::new(at, msg)
    }

    pub fn u8(&mut self) -> Result<u8, RdbError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.err(self.pos, "Unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return Err(self.err(self.pos, format!("Unexpected end of data reading {n} bytes")));
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn u64_le(&mut self) -> Result<u64, RdbError> {
        let b = self.bytes(8)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    pub fn u32_le(&mut self) -> Result<u32, RdbError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length or a special string encoding: (value, is_encoding).
    fn len_or_encoding(&mut self) -> Result<(u64, bool), RdbError> {
        let at = self.pos;
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3f) as u64, false),
            1 => ((((b & 0x3f) as u64) << 8) | self.u8()? as u64, false),
            2 => match b {
                0x80 => {
                    let x = self.bytes(4)?;
                    (u32::from_be_bytes([x[0], x[1], x[2], x[3]]) as u64, false)
                }
                0x81 => {
                    let x = self.bytes(8)?;
                    (u64::from_be_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]), false)
                }
                _ => return Err(self.err(at, format!("Unknown length encoding {b}"))),
            },
            _ => ((b & 0x3f) as u64, true),
        })
    }

    /// A plain length.
    pub fn length(&mut self) -> Result<u64, RdbError> {
        let at = self.pos;
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            (_, true) => Err(self.err(at, "Length expected, found a string encoding")),
        }
    }

    /// A length that must fit the remaining input as a count of items of at least one byte.
    pub fn count(&mut self) -> Result<u64, RdbError> {
        let at = self.pos;
        let n = self.length()?;
        if n > self.remaining() as u64 {
            return Err(self.err(at, format!("Length {n} larger than the remaining data")));
        }
        Ok(n)
    }

    /// A string in any of its encodings.
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>, RdbError> {
        let at = self.pos;
        let (n, encoded) = self.len_or_encoding()?;
        if !encoded {
            let n = usize::try_from(n).map_err(|_| self.err(at, "String length out of range"))?;
            return Ok(Cow::Borrowed(self.bytes(n)?));
        }
        let v: i64 = match n {
            0 => self.u8()? as i8 as i64,
            1 => {
                let b = self.bytes(2)?;
                i16::from_le_bytes([b[0], b[1]]) as i64
            }
            2 => {
                let b = self.bytes(4)?;
                i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64
            }
            3 => {
                let clen = self.length()?;
                let ulen = self.length()?;
                let clen = usize::try_from(clen).map_err(|_| self.err(at, "LZF length out of range"))?;
                let ulen = usize::try_from(ulen).map_err(|_| self.err(at, "LZF length out of range"))?;
                let data = self.bytes(clen)?;
                if ulen == 0 {
                    return Err(self.err(at, "Invalid LZF compressed string"));
                }
                let out = super::lzf::decompress(data, ulen)
                    .map_err(|e| self.err(at, format!("Invalid LZF compressed string: {e}")))?;
                return Ok(Cow::Owned(out));
            }
            _ => return Err(self.err(at, format!("Unknown RDB string encoding type {n}"))),
        };
        Ok(Cow::Owned(v.to_string().into_bytes()))
    }

    pub fn skip_string(&mut self) -> Result<(), RdbError> {
        let at = self.pos;
        let (n, encoded) = self.len_or_encoding()?;
        let skip = match (n, encoded) {
            (n, false) => usize::try_from(n).map_err(|_| self.err(at, "String length out of range"))?,
            (0, true) => 1,
            (1, true) => 2,
            (2, true) => 4,
            (3, true) => {
                let clen = self.length()?;
                self.length()?;
                usize::try_from(clen).map_err(|_| self.err(at, "LZF length out of range"))?
            }
            (n, true) => return Err(self.err(at, format!("Unknown RDB string encoding type {n}"))),
        };
        self.bytes(skip).map(|_| ())
    }

    /// A score written as text (RDB type 3): a length byte, or 253/254/255 for nan/inf/-inf.
    fn double_text(&mut self) -> Result<f64, RdbError> {
        let at = self.pos;
        let n = self.u8()?;
        match n {
            255 => Ok(f64::NEG_INFINITY),
            254 => Ok(f64::INFINITY),
            253 => Ok(f64::NAN),
            n => {
                let s = self.bytes(n as usize)?;
                crate::command::args::parse_f64_opt(s).ok_or_else(|| self.err(at, "Invalid double value"))
            }
        }
    }

    fn double_binary(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_bits(self.u64_le()?))
    }
}

/// Why values of type `k` cannot be loaded, if they cannot.
pub fn kind_refusal(k: u8) -> Option<String> {
    Some(match k {
        kind::MODULE_PRE_GA | kind::MODULE_2 => {
            format!("Module value (RDB type {k}) found: modules are not supported, the key cannot be loaded")
        }
        kind::HASH_ZIPMAP => {
            "Zipmap-encoded hash (RDB type 9, written by Redis before 2.6) is not supported".to_owned()
        }
        kind::SET_LISTPACK | kind::STREAM_LISTPACKS_3 => {
            format!("RDB type {k} is from RDB version 11 (Redis 7.2), which is not supported")
        }
        _ => return None,
    })
}

/// Whether `k` is a value type byte (as opposed to an opcode or garbage).
pub fn is_value_kind(k: u8) -> bool {
    matches!(k, 0..=7 | 9..=21)
}

/// Reads the value of type `k`. `Ok(None)` is an empty aggregate, which Redis skips on load.
pub fn read_value(r: &mut Reader<'_>, k: u8, lim: &LoadLimits) -> Result<Option<Value>, RdbError> {
    let at = r.pos;
    if let Some(msg) = kind_refusal(k) {
        return Err(r.err(at, msg));
    }
    let v = match k {
        kind::STRING => Value::Str(StrValue::from_bytes(&r.string()?)),
        kind::LIST => {
            let n = r.count()?;
            let mut l = ListValue::new(lim.list_fill);
            for _ in 0..n {
                let e_at = r.pos;
                let e = r.string()?;
                push_element(&mut l, &e).map_err(|m| r.err(e_at, m))?;
            }
            Value::List(Box::new(l))
        }
        kind::SET => {
            let n = r.count()?;
            let mut s = if n > lim.set_max_intset_entries as u64 {
                SetValue::Table(Box::new(MemberTable::with_capacity(capped(n, r.remaining()))))
            } else {
                SetValue::new_intset()
            };
            for _ in 0..n {
                let m_at = r.pos;
                let m = r.string()?;
                if !s.add(&m, lim.set_max_intset_entries) {
                    return Err(r.err(m_at, "Duplicate set members detected"));
                }
            }
            Value::Set(s)
        }
        kind::ZSET | kind::ZSET_2 => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(capped(n, r.remaining()));
            for _ in 0..n {
                let m = CompactBytes::new(&r.string()?);
                let s_at = r.pos;
                let score = if k == kind::ZSET { r.double_text()? } else { r.double_binary()? };
                if score.is_nan() {
                    return Err(r.err(s_at, "Zset with NAN score detected"));
                }
                items.push((m, score));
            }
            let max_len = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
            let small = items.len() <= lim.zset.max_entries && max_len <= lim.zset.max_value_bytes;
            build_zset(r, at, items, small)?
        }
        kind::HASH => {
            let n = r.count()?;
            let mut h = if n > lim.hash.max_listpack_entries as u64 {
                HashValue::Table(Box::new(FieldTable::with_capacity(capped(n, r.remaining()))))
            } else {
                HashValue::default()
            };
            for _ in 0..n {
                let f_at = r.pos;
                let f = r.string()?;
                let x = r.string()?;
                if !h.set(&f, &x, lim.hash) {
                    return Err(r.err(f_at, "Duplicate hash fields detected"));
                }
            }
            Value::Hash(h)
        }
        kind::SET_INTSET => {
            let blob = r.string()?;
            let vals = super::intset::decode(&blob).map_err(|e| r.err(at, e))?;
            let mut is = IntSet::new();
            for v in &vals {
                is.insert(*v);
            }
            let mut s = SetValue::Intset(is);
            if vals.len() > lim.set_max_intset_entries {
                s.convert_to_table();
            }
            Value::Set(s)
        }
        kind::LIST_ZIPLIST => {
            let blob = r.string()?;
            let mut l = ListValue::new(lim.list_fill);
            ziplist::for_each(&blob, |it| push_item(&mut l, it)).map_err(|e| r.err(at, e))?;
            Value::List(Box::new(l))
        }
        kind::LIST_QUICKLIST | kind::LIST_QUICKLIST_2 => {
            let n = r.count()?;
            let mut l = ListValue::new(lim.list_fill);
            for _ in 0..n {
                let node_at = r.pos;
                let container = if k == kind::LIST_QUICKLIST_2 { r.length()? } else { QUICKLIST_NODE_PACKED };
                let blob = r.string()?;
                match container {
                    QUICKLIST_NODE_PLAIN => push_element(&mut l, &blob).map_err(|m| r.err(node_at, m))?,
                    QUICKLIST_NODE_PACKED if k == kind::LIST_QUICKLIST => {
                        ziplist::for_each(&blob, |it| push_item(&mut l, it)).map_err(|e| r.err(node_at, e))?;
                    }
                    QUICKLIST_NODE_PACKED => {
                        listpack::for_each(&blob, |it| push_item(&mut l, it)).map_err(|e| r.err(node_at, e))?;
                    }
                    c => return Err(r.err(node_at, format!("Quicklist integrity check failed: container {c}"))),
                }
            }
            Value::List(Box::new(l))
        }
        kind::HASH_ZIPLIST | kind::HASH_LISTPACK => {
            let blob = r.string()?;
            let items = pairs(&blob, k == kind::HASH_ZIPLIST).map_err(|e| r.err(at, format!("Hash {e}")))?;
            check_distinct(items.iter().map(|(f, _)| f.as_slice()))
                .map_err(|_| r.err(at, "Hash listpack integrity check failed: duplicate fields"))?;
            let h = if items.len() > lim.hash.max_listpack_entries {
                let mut t = FieldTable::with_capacity(items.len());
                for (f, x) in items {
                    t.insert(&f, &x);
                }
                HashValue::Table(Box::new(t))
            } else {
                HashValue::listpack_from_pairs(items.iter().map(|(f, x)| (f.as_slice(), x.as_slice())))
            };
            Value::Hash(h)
        }
        kind::ZSET_ZIPLIST | kind::ZSET_LISTPACK => {
            let blob = r.string()?;
            let raw = pairs(&blob, k == kind::ZSET_ZIPLIST).map_err(|e| r.err(at, format!("Zset {e}")))?;
            let mut items = Vec::with_capacity(raw.len());
            for (m, s) in raw {
                let score = crate::command::args::parse_f64_opt(&s)
                    .ok_or_else(|| r.err(at, "Zset listpack integrity check failed: invalid score"))?;
                items.push((CompactBytes::from_vec(m), score));
            }
            let small = items.len() <= lim.zset.max_entries;
            build_zset(r, at, items, small)?
        }
        kind::STREAM_LISTPACKS | kind::STREAM_LISTPACKS_2 => {
            Value::Stream(Box::new(super::stream::read_stream(r, k, at)?))
        }
        _ => return Err(r.err(at, format!("Unknown RDB value type {k}"))),
    };
    let empty = match &v {
        Value::Str(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Hash(h) => h.is_empty(),
        // An empty stream is a valid key (XADD ... MAXLEN 0, XTRIM): Redis keeps it.
        Value::Stream(_) => false,
    };
    Ok((!empty).then_some(v))
}

/// Appends a list element, refusing one longer than our lists hold.
fn push_element(l: &mut ListValue, e: &[u8]) -> Result<(), String> {
    if e.len() > crate::store::types::list::MAX_ELEMENT_BYTES {
        return Err(format!("List element of {} bytes is larger than Tessera's lists hold", e.len()));
    }
    l.push_back(e);
    Ok(())
}

fn push_item(l: &mut ListValue, it: LpValue<'_>) -> Result<(), String> {
    match it {
        LpValue::Str(s) => push_element(l, s),
        LpValue::Int(n) => push_element(l, n.to_string().as_bytes()),
    }
}

/// The elements of a ziplist or listpack taken two by two.
/// Field/value or member/score pairs.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn pairs(blob: &[u8], ziplist_format: bool) -> Result<Pairs, String> {
    let mut flat: Vec<Vec<u8>> = Vec::new();
    let collect = |it: LpValue<'_>| {
        flat.push(it.to_vec());
        Ok(())
    };
    if ziplist_format {
        ziplist::for_each(blob, collect)?;
    } else {
        listpack::for_each(blob, collect)?;
    }
    if !flat.len().is_multiple_of(2) {
        return Err("listpack integrity check failed: odd number of elements".to_owned());
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// Err when two of `items` are equal.
fn check_distinct<'b>(items: impl Iterator<Item = &'b [u8]>) -> Result<(), ()> {
    let mut seen = hashbrown::HashSet::new();
    for x in items {
        if !seen.insert(x) {
            return Err(());
        }
    }
    Ok(())
}

fn build_zset(r: &Reader<'_>, at: usize, mut items: Vec<(CompactBytes, f64)>, small: bool) -> Result<Value, RdbError> {
    check_distinct(items.iter().map(|(m, _)| m.as_slice())).map_err(|_| r.err(at, "Duplicate zset fields detected"))?;
    items.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    let z = if small {
        ZSetValue::Listpack(Listpack::from_sorted(items.iter().map(|(m, s)| (*s, m.as_slice()))))
    } else {
        ZSetValue::Skiplist(Box::new(SortedSet::from_sorted(items.into_iter().map(|(m, s)| (s, m)))))
    };
    Ok(Value::ZSet(z))
}

/// Skips a value of type `k` without building it (keys another shard loads).
pub fn skip_value(r: &mut Reader<'_>, k: u8) -> Result<(), RdbError> {
    let at = r.pos;
    if let Some(msg) = kind_refusal(k) {
        return Err(r.err(at, msg));
    }
    match k {
        kind::STRING
        | kind::SET_INTSET
        | kind::LIST_ZIPLIST
        | kind::HASH_ZIPLIST
        | kind::HASH_LISTPACK
        | kind::ZSET_ZIPLIST
        | kind::ZSET_LISTPACK => r.skip_string(),
        kind::LIST | kind::SET => {
            for _ in 0..r.count()? {
                r.skip_string()?;
            }
            Ok(())
        }
        kind::HASH => {
            for _ in 0..r.count()? {
                r.skip_string()?;
                r.skip_string()?;
            }
            Ok(())
        }
        kind::ZSET | kind::ZSET_2 => {
            for _ in 0..r.count()? {
                r.skip_string()?;
                if k == kind::ZSET {
                    r.double_text()?;
                } else {
                    r.bytes(8)?;
                }
            }
            Ok(())
        }
        kind::LIST_QUICKLIST | kind::LIST_QUICKLIST_2 => {
            for _ in 0..r.count()? {
                if k == kind::LIST_QUICKLIST_2 {
                    r.length()?;
                }
                r.skip_string()?;
            }
            Ok(())
        }
        kind::STREAM_LISTPACKS | kind::STREAM_LISTPACKS_2 => super::stream::skip_stream(r, k),
        _ => Err(r.err(at, format!("Unknown RDB value type {k}"))),
    }
}
