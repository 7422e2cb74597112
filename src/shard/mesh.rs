//! The shard mesh: how shards talk. Every shard has one inbox (a lock-free MPSC queue) and an
//! eventfd its io_uring loop waits on; senders push messages and write the eventfd once per
//! loop iteration per destination. Messages between one pair of shards arrive in the order
//! they were sent, which is what keeps a pipelined client's commands in order across shards.

use std::any::Any;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::{Receiver, Sender};

use crate::shard::ShardState;
use crate::store::memory;

/// Identifies a connection on its shard: slab index and a generation that changes when the
/// slot is reused, so a late reply for a closed connection is dropped instead of misdelivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnRef {
    pub index: u32,
    pub gen: u32,
}

/// Commands forwarded from a connection on one shard to the shard owning their keys, all of
/// one read batch in one message. `raw` holds the commands as RESP, back to back.
pub struct ForwardBatch {
    pub origin: usize,
    pub conn: ConnRef,
    pub resp3: bool,
    /// Per command: selected db, and the sequence number of its reply slot on the connection.
    pub cmds: Vec<(u8, u64)>,
    pub raw: Vec<u8>,
}

/// Replies to a `ForwardBatch`, in the same order; `ends[i]` is where reply i ends in `data`.
pub struct ForwardReply {
    pub conn: ConnRef,
    pub seqs: Vec<u64>,
    pub ends: Vec<u32>,
    pub data: Vec<u8>,
}

pub type CallFn = Box<dyn FnOnce(&mut ShardState) -> Box<dyn Any + Send> + Send>;
/// A call whose answer the destination sends later, through the `Responder` it is given.
pub type DeferredFn = Box<dyn FnOnce(&mut ShardState, Responder) + Send>;
pub type PostFn = Box<dyn FnOnce(&mut ShardState) + Send>;

/// Where the answer of a deferred call goes: the calling shard and its waiting token. It is
/// answered exactly once, with `ShardState::respond`.
#[derive(Debug)]
pub struct Responder {
    pub origin: usize,
    pub token: u64,
}

pub enum MeshMsg {
    Forward(ForwardBatch),
    ForwardReply(ForwardReply),
    /// Run `f` on the destination shard; send its result back as `Reply` to `origin`.
    /// `tx` marks calls of a cross-shard transaction that holds this shard frozen.
    Call {
        f: CallFn,
        origin: usize,
        token: u64,
        tx: Option<u64>,
    },
    Reply {
        token: u64,
        value: Box<dyn Any + Send>,
        /// In `appendfsync always`, held until an fsync covers what was logged before it
        /// (every answer, except a cross-shard transaction's steps: `ShardState::tx_step_durable`).
        wait_fsync: bool,
    },
    /// Run `f` on the destination, which answers later through the responder (a blocked
    /// client's registration is answered when the client is served or times out).
    CallDeferred {
        f: DeferredFn,
        origin: usize,
        token: u64,
    },
    /// Run `f` on the destination with no answer. `keyspace` posts wait while the shard is
    /// frozen, in order with the calls and forwards before them; the others (pub/sub
    /// delivery) run at once.
    Post {
        f: PostFn,
        keyspace: bool,
    },
    /// Stop the loop (SHUTDOWN, SIGTERM).
    Shutdown,
}

impl MeshMsg {
    /// Messages that touch the keyspace wait while the shard is frozen by a transaction.
    pub fn tx_of(&self) -> Option<u64> {
        match self {
            MeshMsg::Call { tx, .. } => *tx,
            _ => None,
        }
    }
    /// The heap memory the message itself holds (its buffers, or the box of its closure or
    /// answer), which the receiving thread frees: moved from the sender's count to the
    /// receiver's with it. What a closure captures, or an answer holds, moves in a
    /// `memory::Carried`.
    fn heap_bytes(&self) -> i64 {
        use crate::store::memory::{box_bytes, vec_bytes};
        match self {
            MeshMsg::Forward(b) => vec_bytes(&b.raw) + vec_bytes(&b.cmds),
            MeshMsg::ForwardReply(r) => vec_bytes(&r.data) + vec_bytes(&r.seqs) + vec_bytes(&r.ends),
            MeshMsg::Call { f, .. } => box_bytes(&**f),
            MeshMsg::Reply { value, .. } => box_bytes(&**value),
            MeshMsg::CallDeferred { f, .. } => box_bytes(&**f),
            MeshMsg::Post { f, .. } => box_bytes(&**f),
            MeshMsg::Shutdown => 0,
        }
    }

    pub fn touches_keyspace(&self) -> bool {
        match self {
            MeshMsg::Forward(_) | MeshMsg::Call { .. } | MeshMsg::CallDeferred { .. } => true,
            MeshMsg::Post { keyspace, .. } => *keyspace,
            _ => false,
        }
    }
}

/// A message in a shard's inbox, with the bytes its sender took off its own count for it
/// (`MeshMsg::heap_bytes`), which the receiver takes on.
pub struct Envelope {
    msg: MeshMsg,
    carried_n: i64,
}

/// One shard's ends of the mesh: its inbox, and a sender plus eventfd for every shard.
pub struct MeshPort {
    inbox: Receiver<Envelope>,
    pub peers: Vec<Peer>,
    pub eventfd: OwnedFd,
}

impl MeshPort {
    /// The next message in the inbox, if any. The channel frees its blocks of slots on this
    /// side, though the senders allocated them: the sender leaves them out of its count (see
    /// `Peer::send`) and so does this side, by adding back what the receive freed.
    pub fn try_recv(&self) -> Option<MeshMsg> {
        let (r, freed_n) = memory::measure(|| self.inbox.try_recv());
        memory::add_bytes(-freed_n);
        let e = r.ok()?;
        memory::add_bytes(e.carried_n);
        Some(e.msg)
    }
}

/// A send to a shard whose loop has exited.
#[derive(Debug)]
pub struct PeerGone;

#[derive(Clone)]
pub struct Peer {
    tx: Sender<Envelope>,
    pub eventfd: std::sync::Arc<OwnedFd>,
}

impl Peer {
    /// Queues `msg` in the peer's inbox (without waking it). The memory the message holds
    /// leaves this thread's count, and so do channel blocks the send allocates: the receiver
    /// frees both (see `MeshPort::try_recv`). Fails only when the peer's loop has exited.
    pub fn send(&self, msg: MeshMsg) -> Result<(), PeerGone> {
        let carried_n = msg.heap_bytes();
        let (r, block_n) = memory::measure(|| self.tx.send(Envelope { msg, carried_n }));
        memory::sub_bytes(block_n);
        match r {
            Ok(()) => {
                memory::sub_bytes(carried_n);
                Ok(())
            }
            // The message comes back and is dropped here, where its bytes are still counted.
            Err(_) => Err(PeerGone),
        }
    }

    /// Wakes the peer's loop. Writing an eventfd never blocks short of 2^64 - 1 pending wakes.
    pub fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd we own a handle to.
        #[allow(unsafe_code)]
        unsafe {
            libc::write(self.eventfd.as_raw_fd(), &one as *const u64 as *const libc::c_void, 8);
        }
    }
}

fn new_eventfd() -> std::io::Result<OwnedFd> {
    // SAFETY: eventfd has no memory preconditions; the fd is owned from here on.
    #[allow(unsafe_code)]
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    #[allow(unsafe_code)]
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Builds the full mesh for `n` shards.
pub fn build_mesh(n: usize) -> std::io::Result<Vec<MeshPort>> {
    let mut txs = Vec::with_capacity(n);
    let mut rxs = Vec::with_capacity(n);
    let mut fds = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = std::sync::mpsc::channel();
        txs.push(tx);
        rxs.push(rx);
        fds.push(std::sync::Arc::new(new_eventfd()?));
    }
    let mut ports = Vec::with_capacity(n);
    for (i, inbox) in rxs.into_iter().enumerate() {
        let peers = (0..n).map(|j| Peer { tx: txs[j].clone(), eventfd: fds[j].clone() }).collect();
        let own = fds[i].try_clone()?;
        ports.push(MeshPort { inbox, peers, eventfd: own });
    }
    Ok(ports)
}
