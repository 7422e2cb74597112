//! The Redis 7.0 cluster bus message format, byte for byte: the fixed 2,256-byte header
//! (`RCmb`, lengths, epochs, sender, the 16,384-bit slot bitmap, flags) and the bodies of every
//! message type, with the 7.0 ping extensions (and the 7.2 ones a newer Redis may send us).
//! All integers are big-endian, as Redis writes them with `htons`/`htonl`/`htonu64`.
//!
//! `decode` takes one whole frame (see `frame`) and checks its length exactly as Redis's
//! `clusterProcessPacket` does; `encode` is its inverse (`decode(encode(m)) == m`), and for a
//! message Redis produced (reserved bytes zeroed) `encode(decode(b)) == b`. Names and IPs are
//! kept as the raw fixed-size fields so nothing is lost; the gossip layer validates them.
//! Never panics on any input; knows nothing about nodes, links or the cluster state.

use crate::cluster::state::NodeId;
use crate::limits::SLOT_COUNT;

/// The 16,384-bit slot bitmap: slot `s` is bit `s % 8` of byte `s / 8`.
pub type SlotBits = [u8; SLOT_COUNT / 8];

/// Bytes of an IP address field (`NET_IP_STR_LEN`, room for an IPv6 text and its NUL).
pub const IP_LEN: usize = 46;
/// Protocol version (`CLUSTER_PROTO_VER`).
pub const PROTO_VERSION: u16 = 1;
pub const SIGNATURE: &[u8; 4] = b"RCmb";

/// Message types (`CLUSTERMSG_TYPE_*`).
pub mod msg_type {
    pub const PING: u16 = 0;
    pub const PONG: u16 = 1;
    pub const MEET: u16 = 2;
    pub const FAIL: u16 = 3;
    pub const PUBLISH: u16 = 4;
    pub const FAILOVER_AUTH_REQUEST: u16 = 5;
    pub const FAILOVER_AUTH_ACK: u16 = 6;
    pub const UPDATE: u16 = 7;
    pub const MFSTART: u16 = 8;
    pub const MODULE: u16 = 9;
    pub const PUBLISHSHARD: u16 = 10;
    /// Types counted in CLUSTER INFO (`CLUSTERMSG_TYPE_COUNT`).
    pub const COUNT: u16 = 11;
}

/// Bits of `mflags[0]` (`CLUSTERMSG_FLAG0_*`).
pub mod mflag0 {
    /// The sender master is paused for a manual failover.
    pub const PAUSED: u8 = 1;
    /// Give an ACK to AUTH_REQUEST even if the master is up.
    pub const FORCEACK: u8 = 2;
    /// Ping extensions follow the gossip sections.
    pub const EXT_DATA: u8 = 4;
}

/// Ping extension types. 7.0 knows only the hostname; the others are 7.2's numbering.
pub mod ext_type {
    pub const HOSTNAME: u16 = 0;
    pub const HUMAN_NODENAME: u16 = 1;
    pub const FORGOTTEN_NODE: u16 = 2;
    pub const SHARDID: u16 = 3;
}

/// Cluster state byte of the header (`CLUSTER_OK`, `CLUSTER_FAIL`).
pub const STATE_OK: u8 = 0;
pub const STATE_FAIL: u8 = 1;

// Header layout (`clusterMsg` without its data union). The asserts pin the offsets to the
// 7.0 layout: a wrong one would make every message unreadable to a Redis node.
const OFF_TOTLEN: usize = 4;
const OFF_VER: usize = 8;
const OFF_PORT: usize = 10;
const OFF_TYPE: usize = 12;
const OFF_COUNT: usize = 14;
const OFF_CURRENT_EPOCH: usize = 16;
const OFF_CONFIG_EPOCH: usize = 24;
const OFF_OFFSET: usize = 32;
const OFF_SENDER: usize = 40;
const OFF_MYSLOTS: usize = OFF_SENDER + NAME_LEN;
const OFF_SLAVEOF: usize = OFF_MYSLOTS + SLOT_COUNT / 8;
const OFF_MYIP: usize = OFF_SLAVEOF + NAME_LEN;
const OFF_EXTENSIONS: usize = OFF_MYIP + IP_LEN;
const OFF_RESERVED: usize = OFF_EXTENSIONS + 2;
const RESERVED_LEN: usize = 30;
const OFF_PPORT: usize = OFF_RESERVED + RESERVED_LEN;
const OFF_CPORT: usize = OFF_PPORT + 2;
const OFF_FLAGS: usize = OFF_CPORT + 2;
const OFF_STATE: usize = OFF_FLAGS + 2;
const OFF_MFLAGS: usize = OFF_STATE + 1;
/// Size of the header, and the smallest valid message (`CLUSTERMSG_MIN_LEN`).
pub const HEADER_LEN: usize = OFF_MFLAGS + 3;
const NAME_LEN: usize = crate::cluster::state::node::NODE_ID_LEN;
/// One gossip section (`clusterMsgDataGossip`).
pub const GOSSIP_LEN: usize = NAME_LEN + 4 + 4 + IP_LEN + 2 + 2 + 2 + 2 + 2;
/// The FAIL body, the fixed part of PUBLISH, the UPDATE body, the fixed part of MODULE.
pub const FAIL_LEN: usize = NAME_LEN;
pub const PUBLISH_FIXED_LEN: usize = 8;
pub const UPDATE_LEN: usize = 8 + NAME_LEN + SLOT_COUNT / 8;
pub const MODULE_FIXED_LEN: usize = 8 + 4 + 1;
/// Header of one ping extension (length, type, padding).
pub const EXT_HEADER_LEN: usize = 8;

const _: () = assert!(OFF_PORT == OFF_VER + 2 && OFF_TYPE == OFF_PORT + 2 && OFF_COUNT == OFF_TYPE + 2);
const _: () = assert!(OFF_CURRENT_EPOCH == OFF_COUNT + 2 && OFF_CONFIG_EPOCH == OFF_CURRENT_EPOCH + 8);
const _: () = assert!(OFF_OFFSET == OFF_CONFIG_EPOCH + 8 && OFF_SENDER == OFF_OFFSET + 8);
const _: () = assert!(OFF_MYSLOTS == 80);
const _: () = assert!(OFF_SLAVEOF == 2128);
const _: () = assert!(OFF_MYIP == 2168);
const _: () = assert!(OFF_EXTENSIONS == 2214);
const _: () = assert!(OFF_PPORT == 2246);
const _: () = assert!(OFF_FLAGS == 2250);
const _: () = assert!(HEADER_LEN == 2256);
const _: () = assert!(GOSSIP_LEN == 104);
const _: () = assert!(UPDATE_LEN == 2096);

/// An IP address field: the text, NUL padded to 46 bytes. Kept raw so a message re-encodes
/// exactly; `as_str` reads it up to the first NUL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IpField(pub [u8; IP_LEN]);

impl IpField {
    pub const EMPTY: IpField = IpField([0; IP_LEN]);

    /// The text, cut to 45 bytes so a NUL always follows (Redis copies with `strncpy`).
    pub fn new(ip: &str) -> IpField {
        let mut f = [0u8; IP_LEN];
        let n = ip.len().min(IP_LEN - 1);
        f[..n].copy_from_slice(&ip.as_bytes()[..n]);
        IpField(f)
    }

    /// The bytes up to the first NUL (all of them when there is none).
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(IP_LEN);
        &self.0[..end]
    }

    /// The address text, or `""` when it is empty or not UTF-8.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }
}

impl std::fmt::Debug for IpField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IpField({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// Everything the header carries except its length, version, type-derived `count` and the
/// signature, which `encode` computes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Header {
    pub msg_type: u16,
    /// The sender's client port (`port`; TLS port when TLS is on).
    pub port: u16,
    pub current_epoch: u64,
    /// The sender's config epoch, or its master's when it is a replica.
    pub config_epoch: u64,
    /// Replication offset.
    pub offset: u64,
    pub sender: NodeId,
    /// Slots of the sender (or of its master when it is a replica).
    pub myslots: Box<SlotBits>,
    /// The sender's master; all zero bytes when it is a master.
    pub slaveof: NodeId,
    /// The sender's announced IP; empty means "use the address you see".
    pub myip: IpField,
    /// Number of ping extensions (meaningful with `mflag0::EXT_DATA`).
    pub extensions: u16,
    /// Reserved bytes Redis zeroes; kept so decoding loses nothing.
    pub reserved: [u8; RESERVED_LEN],
    /// Plain-text port when the client port is TLS.
    pub pport: u16,
    /// The sender's cluster bus port.
    pub cport: u16,
    pub flags: u16,
    /// `STATE_OK` or `STATE_FAIL` from the sender's point of view.
    pub state: u8,
    pub mflags: [u8; 3],
}

impl Header {
    /// A header with every field zero except the type.
    pub fn new(msg_type: u16) -> Header {
        Header {
            msg_type,
            port: 0,
            current_epoch: 0,
            config_epoch: 0,
            offset: 0,
            sender: NodeId([0; NAME_LEN]),
            myslots: Box::new([0; SLOT_COUNT / 8]),
            slaveof: NodeId([0; NAME_LEN]),
            myip: IpField::EMPTY,
            extensions: 0,
            reserved: [0; RESERVED_LEN],
            pport: 0,
            cport: 0,
            flags: 0,
            state: 0,
            mflags: [0; 3],
        }
    }
}

/// One gossip section: what the sender knows about another node.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Gossip {
    pub name: NodeId,
    /// Seconds (unix time / 1000 of the sender's ms clock, truncated to 32 bits).
    pub ping_sent_s: u32,
    pub pong_received_s: u32,
    pub ip: IpField,
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub pport: u16,
    /// `notused1`, zero from Redis.
    pub reserved: u16,
}

/// A ping extension.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum PingExt {
    /// `cluster-announce-hostname` of the sender (text without its NUL).
    Hostname(Vec<u8>),
    /// A node the sender forgot (CLUSTER FORGET) and how many more seconds to keep it out.
    ForgottenNode { name: NodeId, ttl_s: u64 },
    /// The sender's shard id (Redis 7.2).
    ShardId(NodeId),
    /// Any other type (7.2's human node name, or newer): kept as raw data after the header.
    Unknown { ext_type: u16, data: Vec<u8> },
}

/// Body of a message, by type.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Body {
    /// PING, PONG, MEET: gossip sections, then extensions when `mflag0::EXT_DATA` is set.
    Ping { gossip: Vec<Gossip>, exts: Vec<PingExt> },
    /// FAIL: the node the sender saw fail.
    Fail { node: NodeId },
    /// PUBLISH and PUBLISHSHARD.
    Publish { channel: Vec<u8>, message: Vec<u8> },
    /// UPDATE: the config of a node, sent to a node with a stale view.
    Update { config_epoch: u64, node: NodeId, slots: Box<SlotBits> },
    /// MODULE: a module's message (carried, not interpreted).
    Module { module_id: u64, module_type: u8, payload: Vec<u8> },
    /// FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK, MFSTART: the header says everything.
    Empty,
    /// A type this version does not know: the bytes after the header.
    Unknown(Vec<u8>),
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Message {
    pub header: Header,
    pub body: Body,
}

/// Why a frame is not a valid message. Every one closes the link that sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Not `RCmb`.
    BadSignature,
    /// `totlen` below the header size or above our limit.
    BadLength(u32),
    /// A protocol version other than 1.
    BadVersion(u16),
    /// `totlen` does not match the length the type and its fields imply.
    LengthMismatch { msg_type: u16, totlen: usize, expected: usize },
    /// A ping extension that is not 8-byte aligned, overruns the message, or lacks its NUL.
    BadExtension { msg_type: u16, ext_type: u16 },
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::BadSignature => write!(f, "bad message signature"),
            WireError::BadLength(n) => write!(f, "bad message length {n}"),
            WireError::BadVersion(v) => write!(f, "unsupported protocol version {v}"),
            WireError::LengthMismatch { msg_type, totlen, expected } => {
                write!(f, "{} message of length {totlen} but expected length {expected}", type_name(*msg_type))
            }
            WireError::BadExtension { msg_type, ext_type } => {
                write!(f, "{} message with a malformed extension of type {ext_type}", type_name(*msg_type))
            }
        }
    }
}

/// The name Redis logs a message type by (`clusterGetMessageTypeString`).
pub fn type_name(t: u16) -> &'static str {
    match t {
        msg_type::PING => "ping",
        msg_type::PONG => "pong",
        msg_type::MEET => "meet",
        msg_type::FAIL => "fail",
        msg_type::PUBLISH => "publish",
        msg_type::PUBLISHSHARD => "publishshard",
        msg_type::FAILOVER_AUTH_REQUEST => "auth-req",
        msg_type::FAILOVER_AUTH_ACK => "auth-ack",
        msg_type::UPDATE => "update",
        msg_type::MFSTART => "mfstart",
        msg_type::MODULE => "module",
        _ => "unknown",
    }
}

/// Rounds up to a multiple of 8 (`EIGHT_BYTE_ALIGN`).
pub const fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Bytes an extension takes on the wire, its 8-byte header included.
pub fn ext_len(ext: &PingExt) -> usize {
    EXT_HEADER_LEN
        + match ext {
            PingExt::Hostname(h) => align8(h.len() + 1),
            PingExt::ForgottenNode { .. } => NAME_LEN + 8,
            PingExt::ShardId(_) => align8(NAME_LEN),
            PingExt::Unknown { data, .. } => data.len(),
        }
}

/// Total length of the message `encode` writes.
pub fn encoded_len(m: &Message) -> usize {
    HEADER_LEN
        + match &m.body {
            Body::Ping { gossip, exts } => gossip.len() * GOSSIP_LEN + exts.iter().map(ext_len).sum::<usize>(),
            Body::Fail { .. } => FAIL_LEN,
            Body::Publish { channel, message } => PUBLISH_FIXED_LEN + channel.len() + message.len(),
            Body::Update { .. } => UPDATE_LEN,
            Body::Module { payload, .. } => MODULE_FIXED_LEN + payload.len(),
            Body::Empty => 0,
            Body::Unknown(b) => b.len(),
        }
}

/// Writes the message. `count` is the number of gossip sections (0 for other bodies) and
/// `totlen` the length written; every other header field is taken as it is.
pub fn encode(m: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(m));
    encode_into(m, &mut out);
    out
}

pub fn encode_into(m: &Message, out: &mut Vec<u8>) {
    let start = out.len();
    let totlen = encoded_len(m);
    let h = &m.header;
    let count = match &m.body {
        Body::Ping { gossip, .. } => gossip.len(),
        _ => 0,
    };
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&(totlen as u32).to_be_bytes());
    for v in [PROTO_VERSION, h.port, h.msg_type, count as u16] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    for v in [h.current_epoch, h.config_epoch, h.offset] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&h.sender.0);
    out.extend_from_slice(&h.myslots[..]);
    out.extend_from_slice(&h.slaveof.0);
    out.extend_from_slice(&h.myip.0);
    out.extend_from_slice(&h.extensions.to_be_bytes());
    out.extend_from_slice(&h.reserved);
    for v in [h.pport, h.cport, h.flags] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.push(h.state);
    out.extend_from_slice(&h.mflags);
    debug_assert_eq!(out.len() - start, HEADER_LEN, "header layout");
    match &m.body {
        Body::Ping { gossip, exts } => {
            for g in gossip {
                out.extend_from_slice(&g.name.0);
                out.extend_from_slice(&g.ping_sent_s.to_be_bytes());
                out.extend_from_slice(&g.pong_received_s.to_be_bytes());
                out.extend_from_slice(&g.ip.0);
                for v in [g.port, g.cport, g.flags, g.pport, g.reserved] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            for e in exts {
                encode_ext(e, out);
            }
        }
        Body::Fail { node } => out.extend_from_slice(&node.0),
        Body::Publish { channel, message } => {
            out.extend_from_slice(&(channel.len() as u32).to_be_bytes());
            out.extend_from_slice(&(message.len() as u32).to_be_bytes());
            out.extend_from_slice(channel);
            out.extend_from_slice(message);
        }
        Body::Update { config_epoch, node, slots } => {
            out.extend_from_slice(&config_epoch.to_be_bytes());
            out.extend_from_slice(&node.0);
            out.extend_from_slice(&slots[..]);
        }
        Body::Module { module_id, module_type, payload } => {
            out.extend_from_slice(&module_id.to_be_bytes());
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            out.push(*module_type);
            out.extend_from_slice(payload);
        }
        Body::Empty => {}
        Body::Unknown(b) => out.extend_from_slice(b),
    }
    debug_assert_eq!(out.len() - start, totlen, "encoded length");
}

fn encode_ext(e: &PingExt, out: &mut Vec<u8>) {
    let len = ext_len(e);
    let start = out.len();
    let t = match e {
        PingExt::Hostname(_) => ext_type::HOSTNAME,
        PingExt::ForgottenNode { .. } => ext_type::FORGOTTEN_NODE,
        PingExt::ShardId(_) => ext_type::SHARDID,
        PingExt::Unknown { ext_type, .. } => *ext_type,
    };
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    match e {
        PingExt::Hostname(h) => out.extend_from_slice(h),
        PingExt::ForgottenNode { name, ttl_s } => {
            out.extend_from_slice(&name.0);
            out.extend_from_slice(&ttl_s.to_be_bytes());
        }
        PingExt::ShardId(id) => out.extend_from_slice(&id.0),
        PingExt::Unknown { data, .. } => out.extend_from_slice(data),
    }
    // NUL terminator and zero padding up to the 8-byte boundary.
    out.resize(start + len, 0);
}

/// A bounds-checked big-endian reader over one frame.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
    fn name(&mut self) -> Option<NodeId> {
        self.array().map(NodeId)
    }
}

/// Reads the totlen field of a frame's first 8 bytes after checking the signature.
pub fn peek_len(first8: &[u8]) -> Result<u32, WireError> {
    if first8.get(..4) != Some(&SIGNATURE[..]) {
        return Err(WireError::BadSignature);
    }
    let len: [u8; 4] = first8.get(OFF_TOTLEN..OFF_TOTLEN + 4).and_then(|s| s.try_into().ok()).unwrap_or([0; 4]);
    Ok(u32::from_be_bytes(len))
}

/// Parses one whole frame (exactly `totlen` bytes).
pub fn decode(frame: &[u8]) -> Result<Message, WireError> {
    let totlen = peek_len(frame)?;
    if (totlen as usize) < HEADER_LEN || totlen as usize != frame.len() {
        return Err(WireError::BadLength(totlen));
    }
    let mismatch =
        |msg_type: u16, expected: usize| WireError::LengthMismatch { msg_type, totlen: frame.len(), expected };
    let mut r = Reader { b: frame, pos: OFF_VER };
    // The header is all there (checked above), so these reads cannot fail.
    let header_err = || WireError::BadLength(totlen);
    let ver = r.u16().ok_or_else(header_err)?;
    if ver != PROTO_VERSION {
        return Err(WireError::BadVersion(ver));
    }
    let port = r.u16().ok_or_else(header_err)?;
    let msg_type = r.u16().ok_or_else(header_err)?;
    let count = r.u16().ok_or_else(header_err)? as usize;
    let mut h = Header::new(msg_type);
    h.port = port;
    h.current_epoch = r.u64().ok_or_else(header_err)?;
    h.config_epoch = r.u64().ok_or_else(header_err)?;
    h.offset = r.u64().ok_or_else(header_err)?;
    h.sender = r.name().ok_or_else(header_err)?;
    h.myslots.copy_from_slice(r.take(SLOT_COUNT / 8).ok_or_else(header_err)?);
    h.slaveof = r.name().ok_or_else(header_err)?;
    h.myip = IpField(r.array().ok_or_else(header_err)?);
    h.extensions = r.u16().ok_or_else(header_err)?;
    h.reserved = r.array().ok_or_else(header_err)?;
    h.pport = r.u16().ok_or_else(header_err)?;
    h.cport = r.u16().ok_or_else(header_err)?;
    h.flags = r.u16().ok_or_else(header_err)?;
    h.state = r.u8().ok_or_else(header_err)?;
    h.mflags = r.array().ok_or_else(header_err)?;
    debug_assert_eq!(r.pos, HEADER_LEN);
    let body_len = frame.len() - HEADER_LEN;
    let body = match msg_type {
        msg_type::PING | msg_type::PONG | msg_type::MEET => {
            let gossip_len = count * GOSSIP_LEN;
            if gossip_len > body_len {
                return Err(mismatch(msg_type, HEADER_LEN + gossip_len));
            }
            let mut gossip = Vec::with_capacity(count);
            for _ in 0..count {
                gossip.push(read_gossip(&mut r).ok_or_else(header_err)?);
            }
            let mut exts = Vec::new();
            if h.mflags[0] & mflag0::EXT_DATA != 0 {
                for _ in 0..h.extensions {
                    exts.push(read_ext(&mut r, msg_type)?);
                }
            }
            if r.pos != frame.len() {
                return Err(mismatch(msg_type, r.pos));
            }
            Body::Ping { gossip, exts }
        }
        msg_type::FAIL => {
            if body_len != FAIL_LEN {
                return Err(mismatch(msg_type, HEADER_LEN + FAIL_LEN));
            }
            Body::Fail { node: r.name().ok_or_else(header_err)? }
        }
        msg_type::PUBLISH | msg_type::PUBLISHSHARD => {
            if body_len < PUBLISH_FIXED_LEN {
                return Err(mismatch(msg_type, HEADER_LEN + PUBLISH_FIXED_LEN));
            }
            let channel_len = r.u32().ok_or_else(header_err)? as usize;
            let message_len = r.u32().ok_or_else(header_err)? as usize;
            let expected = (HEADER_LEN + PUBLISH_FIXED_LEN).saturating_add(channel_len).saturating_add(message_len);
            if expected != frame.len() {
                return Err(mismatch(msg_type, expected));
            }
            let channel = r.take(channel_len).ok_or_else(header_err)?.to_vec();
            let message = r.take(message_len).ok_or_else(header_err)?.to_vec();
            Body::Publish { channel, message }
        }
        msg_type::UPDATE => {
            if body_len != UPDATE_LEN {
                return Err(mismatch(msg_type, HEADER_LEN + UPDATE_LEN));
            }
            let config_epoch = r.u64().ok_or_else(header_err)?;
            let node = r.name().ok_or_else(header_err)?;
            let mut slots = Box::new([0u8; SLOT_COUNT / 8]);
            slots.copy_from_slice(r.take(SLOT_COUNT / 8).ok_or_else(header_err)?);
            Body::Update { config_epoch, node, slots }
        }
        msg_type::MODULE => {
            if body_len < MODULE_FIXED_LEN {
                return Err(mismatch(msg_type, HEADER_LEN + MODULE_FIXED_LEN));
            }
            let module_id = r.u64().ok_or_else(header_err)?;
            let len = r.u32().ok_or_else(header_err)? as usize;
            let module_type = r.u8().ok_or_else(header_err)?;
            let expected = (HEADER_LEN + MODULE_FIXED_LEN).saturating_add(len);
            if expected != frame.len() {
                return Err(mismatch(msg_type, expected));
            }
            Body::Module { module_id, module_type, payload: r.take(len).ok_or_else(header_err)?.to_vec() }
        }
        msg_type::FAILOVER_AUTH_REQUEST | msg_type::FAILOVER_AUTH_ACK | msg_type::MFSTART => {
            if body_len != 0 {
                return Err(mismatch(msg_type, HEADER_LEN));
            }
            Body::Empty
        }
        // As Redis: a type we do not know is assumed well formed.
        _ => Body::Unknown(frame[HEADER_LEN..].to_vec()),
    };
    Ok(Message { header: h, body })
}

fn read_gossip(r: &mut Reader<'_>) -> Option<Gossip> {
    Some(Gossip {
        name: r.name()?,
        ping_sent_s: r.u32()?,
        pong_received_s: r.u32()?,
        ip: IpField(r.array()?),
        port: r.u16()?,
        cport: r.u16()?,
        flags: r.u16()?,
        pport: r.u16()?,
        reserved: r.u16()?,
    })
}

/// One extension at the reader's position, checked as Redis 7.0 checks them: a length that
/// is a multiple of 8 and fits in the message, and a NUL-terminated hostname.
fn read_ext(r: &mut Reader<'_>, msg_type: u16) -> Result<PingExt, WireError> {
    let start = r.pos;
    let bad = |ext_type: u16| WireError::BadExtension { msg_type, ext_type };
    let len = r.u32().ok_or(bad(u16::MAX))? as usize;
    let t = r.u16().ok_or(bad(u16::MAX))?;
    let _padding = r.u16().ok_or(bad(t))?;
    if len < EXT_HEADER_LEN || !len.is_multiple_of(8) {
        return Err(bad(t));
    }
    let data = r.take(len - EXT_HEADER_LEN).ok_or(bad(t))?;
    debug_assert_eq!(r.pos, start + len);
    Ok(match t {
        ext_type::HOSTNAME => {
            let end = data.iter().position(|&b| b == 0).ok_or(bad(t))?;
            PingExt::Hostname(data[..end].to_vec())
        }
        ext_type::FORGOTTEN_NODE if data.len() >= NAME_LEN + 8 => {
            let mut dr = Reader { b: data, pos: 0 };
            let name = dr.name().ok_or(bad(t))?;
            let ttl_s = dr.u64().ok_or(bad(t))?;
            PingExt::ForgottenNode { name, ttl_s }
        }
        ext_type::SHARDID if data.len() >= NAME_LEN => {
            PingExt::ShardId(Reader { b: data, pos: 0 }.name().ok_or(bad(t))?)
        }
        _ => PingExt::Unknown { ext_type: t, data: data.to_vec() },
    })
}

/// Whether slot `slot` is set in a bitmap (`bitmapTestBit`).
#[inline]
pub fn test_bit(bits: &SlotBits, slot: usize) -> bool {
    bits.get(slot / 8).is_some_and(|b| b & (1 << (slot % 8)) != 0)
}

#[inline]
pub fn set_bit(bits: &mut SlotBits, slot: usize) {
    if let Some(b) = bits.get_mut(slot / 8) {
        *b |= 1 << (slot % 8);
    }
}

/// Number of set bits.
pub fn count_bits(bits: &SlotBits) -> usize {
    bits.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])).count_ones() as usize).sum()
}

/// A 64-bit digest of a bitmap (FNV-1a over its words), to tell claims apart cheaply. Not
/// for security: equal digests are trusted only next to an equal slot count.
pub fn digest(bits: &SlotBits) -> u64 {
    bits.chunks_exact(8).fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
        (h ^ u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Calls `f` with every set slot, in slot order, skipping empty words quickly.
pub fn for_each_bit(bits: &SlotBits, mut f: impl FnMut(usize)) {
    for (w, chunk) in bits.chunks_exact(8).enumerate() {
        let mut word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        while word != 0 {
            let bit = word.trailing_zeros() as usize;
            f(w * 64 + bit);
            word &= word - 1;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
