//! The shard's handle for asynchronous work: coordinator futures (fan-out, cross-shard
//! transactions) run on the shard's own single-threaded executor and reach other shards only
//! through this handle, which queues their calls into the mesh and routes the answers back.
//! Everything here is single-threaded (`Rc`, `RefCell`); nothing crosses a core but messages.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;

use super::mesh::{ConnRef, ForwardBatch, MeshMsg};
use super::ShardState;

/// A reply produced asynchronously for a connection's reply slot `seq`.
pub struct Completion {
    pub conn: ConnRef,
    pub seq: u64,
    pub data: Vec<u8>,
    /// Close the connection once this reply is written.
    pub close_after: bool,
}

pub struct Handle {
    pub shard_id: usize,
    pub nshards: usize,
    /// Messages to send at the end of this loop iteration, per destination shard, in order.
    pub outbox: RefCell<Vec<Vec<MeshMsg>>>,
    /// The forward batch being filled for each destination; closed before any other message
    /// to that destination is queued, so per-destination order is the order of requests.
    pub open_batches: RefCell<Vec<Option<ForwardBatch>>>,
    waiting: RefCell<slab::Slab<oneshot::Sender<Box<dyn Any + Send>>>>,
    pub completions: RefCell<Vec<Completion>>,
    next_tx: Cell<u64>,
    /// The transaction whose future is being polled (see `WithTx`): calls made while it is
    /// set belong to it, so work nested in EXEC (FLUSHALL, a fan-out) runs on the shards EXEC
    /// holds frozen instead of waiting for them forever.
    ambient_tx: Cell<Option<u64>>,
    /// A future handed from a call closure to the future that made the call, on one shard
    /// (futures are not `Send`, closures must be).
    pub stash: RefCell<Option<futures::future::LocalBoxFuture<'static, Vec<u8>>>>,
    /// Clients of this shard's connections blocked in BLPOP and friends, with deadlines.
    pub blocked: RefCell<super::blocking::Home>,
    /// Atomic cross-shard commands coordinated here, waiting for the next batch.
    pub atomic_queue: RefCell<super::coord::AtomicLane>,
    /// Cross-shard EXECs of this shard's clients, waiting for the next batch.
    pub exec_queue: RefCell<super::txn::ExecLane>,
}

impl Handle {
    pub fn new(shard_id: usize, nshards: usize) -> Rc<Handle> {
        Rc::new(Handle {
            shard_id,
            nshards,
            outbox: RefCell::new((0..nshards).map(|_| Vec::new()).collect()),
            open_batches: RefCell::new((0..nshards).map(|_| None).collect()),
            waiting: RefCell::new(slab::Slab::new()),
            completions: RefCell::new(Vec::new()),
            next_tx: Cell::new(1),
            ambient_tx: Cell::new(None),
            stash: RefCell::new(None),
            blocked: RefCell::new(super::blocking::Home::default()),
            atomic_queue: RefCell::new(super::batch::Lane::default()),
            exec_queue: RefCell::new(super::batch::Lane::default()),
        })
    }

    /// The transaction whose future is being polled, if any: work that starts its own
    /// transaction inside it is nested and leaves the outer one to seal the AOF parts.
    pub fn ambient_tx(&self) -> Option<u64> {
        self.ambient_tx.get()
    }

    /// A transaction id unique across the node.
    pub fn new_tx_id(&self) -> u64 {
        if let Some(tx) = self.ambient_tx.get() {
            return tx;
        }
        let n = self.next_tx.get();
        self.next_tx.set(n + 1);
        (n << 8) | self.shard_id as u64
    }

    fn close_batch(&self, dest: usize) {
        if let Some(b) = self.open_batches.borrow_mut()[dest].take() {
            self.outbox.borrow_mut()[dest].push(MeshMsg::Forward(b));
        }
    }

    /// Adds a command to the forward batch for `dest`. A batch carries one connection's
    /// commands; another connection's command closes it and opens the next.
    pub fn forward(&self, dest: usize, conn: ConnRef, resp3: bool, db: u8, seq: u64, args: &[&[u8]]) {
        let mut batches = self.open_batches.borrow_mut();
        if let Some(b) = &batches[dest] {
            if b.conn != conn || b.resp3 != resp3 {
                let closed = batches[dest].take();
                if let Some(b) = closed {
                    self.outbox.borrow_mut()[dest].push(MeshMsg::Forward(b));
                }
            }
        }
        let b = batches[dest].get_or_insert_with(|| ForwardBatch {
            origin: self.shard_id,
            conn,
            resp3,
            cmds: Vec::new(),
            raw: Vec::new(),
        });
        b.cmds.push((db, seq));
        super::exec::encode_command(args, &mut b.raw);
    }

    /// Queues a message to `dest` behind everything queued to it before.
    pub fn send(&self, dest: usize, msg: MeshMsg) {
        self.close_batch(dest);
        self.outbox.borrow_mut()[dest].push(msg);
    }

    /// Takes all queued messages, open batches included, for sending.
    pub fn drain_outbox(&self) -> Vec<Vec<MeshMsg>> {
        for d in 0..self.nshards {
            self.close_batch(d);
        }
        let mut out = self.outbox.borrow_mut();
        let empty = (0..self.nshards).map(|_| Vec::new()).collect();
        std::mem::replace(&mut *out, empty)
    }

    pub fn has_outgoing(&self) -> bool {
        self.outbox.borrow().iter().any(|v| !v.is_empty()) || self.open_batches.borrow().iter().any(|b| b.is_some())
    }

    /// Delivers the answer of a call this shard made.
    pub fn complete_call(&self, token: u64, value: Box<dyn Any + Send>) {
        let sender = self.waiting.borrow_mut().try_remove(token as usize);
        if let Some(s) = sender {
            // The caller may have gone away (connection closed); then the answer is dropped.
            let _ = s.send(value);
        }
    }

    /// Runs `f` on shard `dest` (possibly this one) and resolves to its result.
    pub fn call<R, F>(&self, dest: usize, tx: Option<u64>, f: F) -> impl std::future::Future<Output = R>
    where
        R: Send + 'static,
        F: FnOnce(&mut ShardState) -> R + Send + 'static,
    {
        let (s, r) = oneshot::channel();
        let token = self.waiting.borrow_mut().insert(s) as u64;
        let f: super::mesh::CallFn = Box::new(move |st| Box::new(f(st)) as Box<dyn Any + Send>);
        let tx = tx.or(self.ambient_tx.get());
        self.send(dest, MeshMsg::Call { f, origin: self.shard_id, token, tx });
        async move {
            match r.await {
                Ok(v) => match v.downcast::<R>() {
                    Ok(b) => *b,
                    Err(_) => unreachable!("call answered with another type than it asked for"),
                },
                // Only at shutdown, when the loops stop answering; nothing waits for this then.
                Err(_) => futures::future::pending().await,
            }
        }
    }

    /// Runs `f` on shard `dest`, which answers whenever it chooses through the `Responder` it
    /// is handed (`ShardState::respond`); resolves to that answer.
    pub fn call_deferred<R, F>(&self, dest: usize, f: F) -> impl std::future::Future<Output = R>
    where
        R: Send + 'static,
        F: FnOnce(&mut ShardState, super::mesh::Responder) + Send + 'static,
    {
        let (s, r) = oneshot::channel();
        let token = self.waiting.borrow_mut().insert(s) as u64;
        self.send(dest, MeshMsg::CallDeferred { f: Box::new(f), origin: self.shard_id, token });
        async move {
            match r.await {
                Ok(v) => match v.downcast::<R>() {
                    Ok(b) => *b,
                    Err(_) => unreachable!("deferred call answered with another type than it asked for"),
                },
                Err(_) => futures::future::pending().await,
            }
        }
    }

    /// Runs `f` on shard `dest` with no answer (see `MeshMsg::Post` for `keyspace`).
    pub fn post<F>(&self, dest: usize, keyspace: bool, f: F)
    where
        F: FnOnce(&mut ShardState) + Send + 'static,
    {
        self.send(dest, MeshMsg::Post { f: Box::new(f), keyspace });
    }

    /// Runs `f` on every shard and collects the results in shard order.
    pub async fn call_all<R, F>(&self, tx: Option<u64>, f: F) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(&mut ShardState) -> R + Send + Clone + 'static,
    {
        let futs: Vec<_> = (0..self.nshards)
            .map(|d| {
                // Each copy of `f` (and what it captured) is freed on the shard it runs on.
                let (g, n) = crate::store::memory::measure(|| f.clone());
                let g = crate::store::memory::Carried::new(g, n);
                self.call(d, tx, move |st: &mut ShardState| (g.unpack())(st))
            })
            .collect();
        futures::future::join_all(futs).await
    }

    pub fn complete(&self, c: Completion) {
        self.completions.borrow_mut().push(c);
    }
}

/// Runs a future with `tx` as the ambient transaction of its shard's handle while it is polled.
pub struct WithTx<F> {
    pub handle: std::rc::Rc<Handle>,
    pub tx: u64,
    pub inner: std::pin::Pin<Box<F>>,
}

impl<F: std::future::Future> std::future::Future for WithTx<F> {
    type Output = F::Output;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        let prev = self.handle.ambient_tx.replace(Some(self.tx));
        let r = self.inner.as_mut().poll(cx);
        self.handle.ambient_tx.set(prev);
        r
    }
}
