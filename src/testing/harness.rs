//! A data-command harness: runs commands through the real command table on a plain `Store`
//! with a fixed clock and seeded RNG, and returns raw RESP replies so shapes and error texts
//! are compared exactly. No sockets, no shards.

use crate::command::spec::{DataCtx, Exec};
use crate::command::table;
use crate::resp::Out;
use crate::store::Store;

pub const NOW_MS: u64 = 1_700_000_000_000;

pub struct Harness {
    pub store: Store,
    pub cfg: crate::config::Config,
    pub rng: rand::rngs::SmallRng,
    pub now_ms: u64,
    pub resp3: bool,
    pub dbi: usize,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Self {
        Harness {
            store: Store::new(16),
            cfg: crate::config::Config::default(),
            rng: <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(7),
            now_ms: NOW_MS,
            resp3: false,
            dbi: 0,
        }
    }

    /// Runs one data command (resolved and arity-checked by the table) and returns the reply.
    pub fn run_bytes(&mut self, args: &[&[u8]]) -> String {
        String::from_utf8_lossy(&self.run_raw(args)).into_owned()
    }

    /// `run_bytes` returning the reply's exact bytes.
    pub fn run_raw(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, self.resp3);
        match table::resolve(args) {
            Err(e) => out.error(&e),
            Ok(spec) => match spec.exec {
                Exec::Data(f) => {
                    let mut ctx = DataCtx {
                        store: &mut self.store,
                        dbi: self.dbi,
                        now_ms: self.now_ms,
                        cfg: &self.cfg,
                        rng: &mut self.rng,
                    };
                    f(&mut ctx, args, &mut out);
                }
                _ => panic!("the harness runs data commands only: {}", spec.name),
            },
        }
        buf
    }

    /// Runs a command given as space-separated words.
    pub fn run(&mut self, line: &str) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(|a| a.as_bytes()).collect();
        self.run_bytes(&args)
    }

    /// Stores a string value directly (families whose own commands cannot create one).
    pub fn set_string(&mut self, key: &str, val: &str) {
        let v = crate::store::Value::Str(crate::store::StrValue::from_bytes(val.as_bytes()));
        self.store.dbs[self.dbi].insert(key.as_bytes(), crate::store::Entry::new(v));
    }

    pub fn exists(&self, key: &str) -> bool {
        self.store.dbs[self.dbi].peek(key.as_bytes()).is_some()
    }

    pub fn encoding(&self, key: &str) -> &'static str {
        self.store.dbs[self.dbi].peek(key.as_bytes()).map_or("none", |e| e.value.encoding())
    }

    pub fn deadline_ms(&self, key: &str) -> u64 {
        self.store.dbs[self.dbi].peek(key.as_bytes()).map_or(u64::MAX, |e| e.expire_at_ms)
    }
}
