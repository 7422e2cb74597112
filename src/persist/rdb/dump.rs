//! DUMP payloads, byte for byte as Redis 7.0 makes them: the value's RDB type byte, the value
//! in RDB encoding, the RDB version as two little-endian bytes, and the CRC64 of everything
//! before it, little-endian. RESTORE checks the version and checksum before decoding.

use super::read::{is_value_kind, read_value, LoadLimits, Reader};
use super::write::{put_value, value_kind, WriteOpts};
use super::{crc64::crc64, RdbError, RDB_VERSION};
use crate::store::value::Value;

/// Version (2 bytes) and checksum (8 bytes) after the value.
const FOOTER_BYTES: usize = 10;

pub fn encode_dump_payload(v: &Value, opts: &WriteOpts) -> Vec<u8> {
    let mut out = vec![value_kind(v)];
    put_value(&mut out, v, opts);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Redis's `verifyDumpPayload`: long enough, a version we read, and the right checksum.
pub fn verify_dump_payload(p: &[u8]) -> bool {
    if p.len() < FOOTER_BYTES {
        return false;
    }
    let footer = &p[p.len() - FOOTER_BYTES..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return false;
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    crc64(0, &p[..p.len() - 8]) == u64::from_le_bytes(crc)
}

/// The value of a verified payload. `Ok(None)`: an empty aggregate, which RESTORE refuses.
pub fn decode_dump_payload(p: &[u8], lim: &LoadLimits) -> Result<Option<Value>, RdbError> {
    let body = p.get(..p.len().saturating_sub(FOOTER_BYTES)).unwrap_or_default();
    let mut r = Reader::new(body);
    let k = r.u8()?;
    if !is_value_kind(k) {
        return Err(RdbError::new(0, format!("Unknown RDB value type {k}")));
    }
    read_value(&mut r, k, lim)
}
