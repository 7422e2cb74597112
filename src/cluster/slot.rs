//! Hash slots: CRC16 (XMODEM, as the Redis Cluster spec) of the key or of its `{hash tag}`,
//! modulo 16,384; and the fixed map from slot to shard.

use crate::limits::SLOT_COUNT;

/// The part of a key that is hashed: the text between the first `{` and the next `}` when it
/// is non-empty, else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&c| c == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&c| c == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// CRC16-CCITT (XMODEM: polynomial 0x1021, init 0), one table lookup per byte.
const CRC16_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            b += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
};

#[inline]
pub fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| (crc << 8) ^ CRC16_TABLE[((crc >> 8) as u8 ^ b) as usize])
}

#[inline]
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOT_COUNT as u16 - 1)
}

/// Shard that owns a slot on a node with `shards` shards (ARCHITECTURE.md §1).
#[inline]
pub fn owner_shard(slot: u16, shards: usize) -> usize {
    slot as usize % shards
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_crc_matches_reference() {
        for key in [&b""[..], b"a", b"123456789", b"{user1000}.following", &[0xff; 40]] {
            assert_eq!(crc16(key), crc16::State::<crc16::XMODEM>::calculate(key));
        }
    }

    #[test]
    fn known_slots() {
        // Values from the Redis Cluster spec and `CLUSTER KEYSLOT`.
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
    }
}
