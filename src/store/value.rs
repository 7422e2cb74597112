//! Values stored under keys, one variant per Redis type and encoding. The encoding is chosen
//! as Redis chooses it so `OBJECT ENCODING` answers what users expect.

use super::bytes::CompactBytes;
use super::types::{hash::HashValue, list::ListValue, set::SetValue, stream::StreamValue, zset::ZSetValue};
use crate::limits::EMBSTR_SIZE_LIMIT_BYTES;

/// Lists and streams are boxed so a `Value` stays as small as a string's, which is most keys.
/// Hashes, sets and sorted sets are handles no larger than a string (their small encoding's
/// exactly sized bytes, or a boxed table), kept inline to save an allocation per small object.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string. Redis keeps strings that are canonical 64-bit integers as `int`.
    Str(StrValue),
    Hash(HashValue),
    List(Box<ListValue>),
    Set(SetValue),
    ZSet(ZSetValue),
    Stream(Box<StreamValue>),
}

#[derive(Clone, Debug)]
pub enum StrValue {
    Int(i64),
    /// `raw` marks a string that was modified in place (APPEND, SETRANGE): Redis reports
    /// those as `raw` even when short.
    Bytes {
        data: CompactBytes,
        raw: bool,
    },
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(StrValue::Int(_)) => "int",
            Value::Str(StrValue::Bytes { data, raw }) => {
                if !raw && data.len() <= EMBSTR_SIZE_LIMIT_BYTES {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::Hash(h) => h.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(x) => x.encoding(),
        }
    }
    /// Bytes this value holds outside the entry itself, for memory accounting and
    /// MEMORY USAGE.
    pub fn heap_size_bytes(&self) -> usize {
        match self {
            Value::Str(StrValue::Int(_)) => 0,
            Value::Str(StrValue::Bytes { data, .. }) => data.heap_size_bytes(),
            Value::Hash(h) => h.heap_size_bytes(),
            Value::List(l) => std::mem::size_of::<ListValue>() + l.heap_size_bytes(),
            Value::Set(s) => s.heap_size_bytes(),
            Value::ZSet(z) => z.heap_size_bytes(),
            Value::Stream(x) => std::mem::size_of::<StreamValue>() + x.heap_size_bytes(),
        }
    }
}

impl StrValue {
    /// A string value from client bytes, integer-encoded when Redis would do so.
    pub fn from_bytes(b: &[u8]) -> StrValue {
        if b.len() < crate::limits::LONG_STR_SIZE_BYTES {
            if let Some(n) = crate::resp::parse::parse_i64_strict(b) {
                return StrValue::Int(n);
            }
        }
        StrValue::Bytes { data: CompactBytes::new(b), raw: false }
    }
    pub fn from_vec_raw(v: Vec<u8>) -> StrValue {
        StrValue::Bytes { data: CompactBytes::from_vec(v), raw: true }
    }
    /// Writes the value's bytes into `out` (formatting integers) and returns them.
    pub fn as_bytes<'a>(&'a self, tmp: &'a mut [u8; 24]) -> &'a [u8] {
        match self {
            StrValue::Int(n) => crate::resp::write::fmt_i64(tmp, *n),
            StrValue::Bytes { data, .. } => data.as_slice(),
        }
    }
    pub fn to_vec(&self) -> Vec<u8> {
        let mut tmp = [0u8; 24];
        self.as_bytes(&mut tmp).to_vec()
    }
    pub fn len(&self) -> usize {
        let mut tmp = [0u8; 24];
        self.as_bytes(&mut tmp).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// A value sits in every keyspace entry: growing it costs bytes on every key.
const _: () = assert!(std::mem::size_of::<Value>() == 32);
const _: () = assert!(std::mem::size_of::<HashValue>() == 24);
const _: () = assert!(std::mem::size_of::<ZSetValue>() == 24);
