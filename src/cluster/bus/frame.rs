//! Cuts a cluster bus byte stream into whole messages: 8 bytes give the signature and the
//! total length, then the reader waits for the rest. As Redis's `clusterReadHandler`, a bad
//! signature or a length below the header size is an error (the link is closed); we also
//! refuse lengths above `MAX_MESSAGE_LEN_BYTES`, which Redis does not bound.
//!
//! Owns only the buffering: it never interprets a message beyond its first 8 bytes, never
//! allocates more than the bytes actually received, and never panics.

use super::wire::{self, WireError, HEADER_LEN};

/// Largest message we accept. A PING with every gossip section Redis could send stays under
/// 7 MiB; only PUBLISH carries more, at most one channel plus one message of
/// `proto-max-bulk-len` each. A peer sending more is closed.
pub const MAX_MESSAGE_LEN_BYTES: usize = 512 * 1024 * 1024 + 64 * 1024;

/// Bytes kept before the consumed prefix is dropped: compacting on every frame would copy the
/// rest of a busy buffer again and again.
const COMPACT_AT_BYTES: usize = 64 * 1024;
/// Capacity an emptied buffer may keep.
const IDLE_BUFFER_MAX_BYTES: usize = 16 * 1024;

pub struct FrameReader {
    buf: Vec<u8>,
    /// Start of the first unconsumed byte in `buf`.
    pos: usize,
    max_len_bytes: usize,
}

impl Default for FrameReader {
    fn default() -> FrameReader {
        FrameReader::new()
    }
}

impl FrameReader {
    pub fn new() -> FrameReader {
        Self::with_limit(MAX_MESSAGE_LEN_BYTES)
    }

    pub fn with_limit(max_len_bytes: usize) -> FrameReader {
        FrameReader { buf: Vec::new(), pos: 0, max_len_bytes: max_len_bytes.max(HEADER_LEN) }
    }

    /// Appends bytes read from the link.
    pub fn feed(&mut self, data: &[u8]) {
        if self.pos == self.buf.len() {
            self.pos = 0;
            // An idle link keeps no big buffer (a cluster has two links per pair of nodes).
            if self.buf.capacity() > IDLE_BUFFER_MAX_BYTES {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
        } else if self.pos >= COMPACT_AT_BYTES {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Cuts the next whole frame off the front of `data`, without copying, while nothing is
    /// buffered (the common case: reads hold whole messages). `Ok(None)` means the rest of
    /// `data` must go to `feed`.
    pub fn split_direct<'a>(&self, data: &mut &'a [u8]) -> Result<Option<&'a [u8]>, WireError> {
        if self.buffered_bytes() != 0 || data.len() < 8 {
            return Ok(None);
        }
        let len = wire::peek_len(data)? as usize;
        if len < HEADER_LEN || len > self.max_len_bytes {
            return Err(WireError::BadLength(len as u32));
        }
        if data.len() < len {
            return Ok(None);
        }
        let (frame, rest) = data.split_at(len);
        *data = rest;
        Ok(Some(frame))
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed, or the error that must
    /// close the link (after which the reader should be dropped).
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, WireError> {
        let avail = &self.buf[self.pos..];
        if avail.len() < 8 {
            return Ok(None);
        }
        let len = wire::peek_len(avail)? as usize;
        if len < HEADER_LEN || len > self.max_len_bytes {
            return Err(WireError::BadLength(len as u32));
        }
        if avail.len() < len {
            return Ok(None);
        }
        let start = self.pos;
        self.pos += len;
        Ok(self.buf.get(start..start + len))
    }

    /// Bytes buffered and not yet returned (for CLUSTER LINKS and memory accounting).
    pub fn buffered_bytes(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn allocated_bytes(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::bus::wire::{encode, Body, Header, Message};
    use proptest::prelude::*;

    fn msg(t: u16) -> Vec<u8> {
        encode(&Message { header: Header::new(t), body: Body::Empty })
    }

    #[test]
    fn splits_a_stream_at_any_boundary() {
        let mut stream = msg(5);
        stream.extend(msg(6));
        stream.extend(msg(8));
        for cut in 0..stream.len() {
            let mut r = FrameReader::new();
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                r.feed(part);
                while let Some(f) = r.next_frame().unwrap() {
                    got.push(f.to_vec());
                }
            }
            assert_eq!(got.concat(), stream, "cut at {cut}");
            assert_eq!(got.len(), 3);
            assert_eq!(r.buffered_bytes(), 0);
        }
    }

    #[test]
    fn rejects_bad_signature_and_lengths() {
        let mut r = FrameReader::new();
        r.feed(b"RCmx\0\0\x10\0");
        assert_eq!(r.next_frame(), Err(WireError::BadSignature));
        let mut r = FrameReader::new();
        r.feed(b"RCmb\0\0\x08\xcf");
        assert_eq!(r.next_frame(), Err(WireError::BadLength(2255)));
        let mut r = FrameReader::with_limit(4096);
        r.feed(b"RCmb\0\0\x10\x01");
        assert_eq!(r.next_frame(), Err(WireError::BadLength(4097)));
        let mut r = FrameReader::new();
        r.feed(b"RCmb\xff\xff\xff\xff");
        assert!(r.next_frame().is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Any bytes, in any chunks: frames or an error, never a panic, and every frame
        /// decodes or fails cleanly.
        #[test]
        fn never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3000), 0..6),
                        prefix_valid in any::<bool>()) {
            let mut r = FrameReader::with_limit(64 * 1024);
            if prefix_valid {
                r.feed(&msg(0)[..16]);
            }
            'outer: for c in &chunks {
                r.feed(c);
                loop {
                    match r.next_frame() {
                        Ok(Some(f)) => { let _ = wire::decode(f); }
                        Ok(None) => break,
                        Err(_) => break 'outer,
                    }
                }
            }
        }
    }
}
