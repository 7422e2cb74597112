//! Client state that commands see and change (selected db, protocol, name, auth...), kept by
//! the shard that holds the client's connection. Socket buffers live in `net::conn`.

use std::time::Instant;

use crate::shard::mesh::ConnRef;

pub struct Client {
    pub id: u64,
    pub conn: ConnRef,
    pub fd: i32,
    pub addr: String,
    pub laddr: String,
    pub name: Vec<u8>,
    pub lib_name: Vec<u8>,
    pub lib_ver: Vec<u8>,
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    pub user: String,
    pub created: Instant,
    pub last_interaction: Instant,
    pub last_cmd: &'static str,
    pub no_evict: bool,
    /// Cluster mode: the next command may touch an importing slot (ASKING).
    pub asking: bool,
    /// Cluster mode: reads allowed on a replica (READONLY).
    pub readonly: bool,
    /// Query and reply buffer sizes, refreshed by the network loop for CLIENT LIST.
    pub qbuf_bytes: usize,
    pub obuf_bytes: usize,
    pub kill: bool,
    /// Commands queued since MULTI, or None outside a transaction.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// A command queued since MULTI was rejected: EXEC aborts (EXECABORT).
    pub multi_error: bool,
    /// Keys this client WATCHes: (owner shard, db, key).
    pub watched: Vec<(usize, usize, Vec<u8>)>,
    /// Pub/Sub subscriptions, in subscription order.
    pub channels: Vec<Vec<u8>>,
    pub patterns: Vec<Vec<u8>>,
    pub shard_channels: Vec<Vec<u8>>,
}

impl Client {
    pub fn new(id: u64, conn: ConnRef, fd: i32, addr: String, laddr: String, authenticated: bool) -> Self {
        let now = Instant::now();
        Client {
            id,
            conn,
            fd,
            addr,
            laddr,
            name: Vec::new(),
            lib_name: Vec::new(),
            lib_ver: Vec::new(),
            db: 0,
            resp3: false,
            authenticated,
            user: "default".into(),
            created: now,
            last_interaction: now,
            last_cmd: "NULL",
            no_evict: false,
            asking: false,
            readonly: false,
            qbuf_bytes: 0,
            obuf_bytes: 0,
            kill: false,
            multi: None,
            multi_error: false,
            watched: Vec::new(),
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
        }
    }

    pub fn subscribed(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard_channels.is_empty()
    }

    /// One line of CLIENT LIST / CLIENT INFO, in Redis 7.0's field order.
    pub fn info_line(&self) -> String {
        let now = Instant::now();
        let mut flags = String::new();
        if self.kill {
            flags.push('A');
        }
        if self.readonly {
            flags.push('r');
        }
        if self.no_evict {
            flags.push('e');
        }
        if self.multi.is_some() {
            flags.push('x');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            String::from_utf8_lossy(&self.name),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_interaction).as_secs(),
            flags,
            self.db,
            self.channels.len(),
            self.patterns.len(),
            self.shard_channels.len(),
            self.multi.as_ref().map_or(-1, |m| m.len() as i64),
            self.qbuf_bytes,
            0,
            self.obuf_bytes,
            self.qbuf_bytes + self.obuf_bytes + 16384,
            self.last_cmd,
            self.user,
            if self.resp3 { 3 } else { 2 },
        )
    }
}
