//! One pass of the combined differential test: two connections to each server (the main one,
//! in RESP2 or RESP3, and a second one for WATCH races), the generated items sent to both
//! servers (runs of main-connection commands pipelined in one write each), every reply
//! compared, MULTI state followed from the reference's replies so EXEC is compared element by
//! element, and at the end the two keyspaces compared key by key.
//!
//! A mismatch stops the pass with the seed, the step, the command, its transaction context,
//! both replies and the commands before it. The runner never changes what is compared to let
//! a reply through; the only commands it adds are the probes of `probe.rs`.

mod debug;
mod probe;

use std::collections::VecDeque;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::check::{agree, same_multiset, show, Check};
use super::gen::{Cmd, Conn, Gen, Item};
use super::keyspace::AUTO;
use crate::common::resp::{encode, escape, show_cmd};
use crate::common::{RawConn, Reply, Server};

use probe::call;

const HISTORY_LEN: usize = 25;

/// Counts printed after a pass, so a generator that stopped reaching a case shows.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    /// Generated commands whose replies were compared.
    pub compared: usize,
    /// Further commands compared by probes (RESTORE) and the final state.
    pub extra: usize,
    pub errors: usize,
    pub exec_ok: usize,
    pub exec_nil: usize,
    pub exec_abort: usize,
    pub probes: usize,
    /// Time spent waiting out short deadlines and watched-key expiry.
    pub slept_ms: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.compared += o.compared;
        self.extra += o.extra;
        self.errors += o.errors;
        self.exec_ok += o.exec_ok;
        self.exec_nil += o.exec_nil;
        self.exec_abort += o.exec_abort;
        self.probes += o.probes;
        self.slept_ms += o.slept_ms;
    }
}

struct Txn {
    context: String,
    /// The queued commands (shown) and their checks.
    queued: Vec<(String, Check)>,
}

pub struct Pass {
    pub label: String,
    pub seed: u64,
    a: RawConn,
    a2: RawConn,
    b: RawConn,
    b2: RawConn,
    history: VecDeque<String>,
    context: Option<String>,
    txn: Option<Txn>,
    pub stats: Stats,
    /// Debugging aids (`debug.rs`).
    audit: bool,
    trace: Option<Vec<u8>>,
}

/// Writes every command of the batch in one write.
fn send_all(conn: &mut RawConn, batch: &[Cmd]) -> Result<(), String> {
    let mut wire = Vec::new();
    for c in batch {
        let refs: Vec<&[u8]> = c.args.iter().map(|a| a.as_slice()).collect();
        wire.extend(encode(&refs));
    }
    conn.send_raw(&wire).map_err(|e| format!("write failed: {e}"))
}

fn read_all(conn: &mut RawConn, n: usize) -> Result<Vec<(Vec<u8>, Reply)>, String> {
    (0..n).map(|_| conn.read_reply()).collect()
}

impl Pass {
    pub fn open(seed: u64, resp3: bool, reference: &Server, subject: &Server) -> Pass {
        let label = format!("seed={seed} protocol={}", if resp3 { "RESP3" } else { "RESP2" });
        Pass {
            label,
            seed,
            a: reference.raw(),
            a2: reference.raw(),
            b: subject.raw(),
            b2: subject.raw(),
            history: VecDeque::new(),
            context: None,
            txn: None,
            stats: Stats::default(),
            audit: debug::audit_enabled(),
            trace: debug::traced_key(),
        }
    }

    /// Sends a setup command to both main connections; both must answer `want` (if given).
    pub fn setup(&mut self, args: &[&[u8]], want: Option<&[u8]>) -> Result<(), String> {
        let owned: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        let (ra, _) = call(&mut self.a, &owned).map_err(|e| format!("{}: redis setup: {e}", self.label))?;
        let (rb, _) = call(&mut self.b, &owned).map_err(|e| format!("{}: tessera setup: {e}", self.label))?;
        if let Some(w) = want {
            if ra != w || rb != w {
                return Err(format!(
                    "{}: setup {} answered\nredis:   {}\ntessera: {}",
                    self.label,
                    show_cmd(&owned),
                    escape(&ra),
                    escape(&rb)
                ));
            }
        }
        Ok(())
    }

    /// Runs the generator until `steps` commands were compared and no item is left half done.
    pub fn run(&mut self, gen: &mut Gen, steps: usize) -> Result<(), String> {
        // Pipelining is drawn from its own generator so the command sequence stays the seed's.
        let mut pipelining = SmallRng::seed_from_u64(self.seed ^ 0x05ee_da11);
        let mut batch: Vec<Cmd> = Vec::new();
        let mut batch_len = 1;
        while self.stats.compared + batch.len() < steps || gen.pending() > 0 {
            match gen.next_item() {
                Item::SleepMs(ms) => {
                    self.flush(gen, &mut batch)?;
                    self.stats.slept_ms += ms;
                    std::thread::sleep(Duration::from_millis(ms));
                }
                Item::TxnStart(what) => {
                    self.flush(gen, &mut batch)?;
                    let ctx = format!("{what} starting at step {}", self.stats.compared);
                    self.remember(format!("--- {ctx} ---"));
                    self.context = Some(ctx);
                }
                Item::Cmd(c) if c.conn == Conn::Other => {
                    self.flush(gen, &mut batch)?;
                    self.other(c)?;
                }
                Item::Cmd(c) => {
                    if batch.is_empty() {
                        batch_len = if pipelining.gen_bool(0.3) { pipelining.gen_range(2..=16) } else { 1 };
                    }
                    let probe = c.check.needs_probe();
                    batch.push(c);
                    if probe || batch.len() >= batch_len {
                        self.flush(gen, &mut batch)?;
                    }
                }
            }
        }
        self.flush(gen, &mut batch)
    }

    fn remember(&mut self, mut line: String) {
        if line.len() > 400 {
            let cut = (0..=400).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
            line.truncate(cut);
            line.push_str(" ...");
        }
        self.history.push_back(line);
        if self.history.len() > HISTORY_LEN {
            self.history.pop_front();
        }
    }

    fn fail(&self, cmd: &Cmd, step: usize, why: &str, ra: &[u8], rb: &[u8]) -> String {
        let conn = if cmd.conn == Conn::Other { "   (second connection)" } else { "" };
        let ctx = match (&self.txn, &self.context) {
            (Some(t), _) => format!("\ntransaction: {} (inside MULTI)", t.context),
            (None, Some(c)) => format!("\ntransaction context: {c}"),
            _ => String::new(),
        };
        format!(
            "diff_all mismatch: {} step={step}\ncommand: {}{conn}{ctx}\n{why}\nredis:   {}\ntessera: {}\nprevious commands (oldest first):\n  {}\nreproduce: TESSERA_SEED={} cargo test --test diff_all",
            self.label,
            show_cmd(&cmd.args),
            escape(ra),
            escape(rb),
            self.history.iter().cloned().collect::<Vec<_>>().join("\n  "),
            self.seed
        )
    }

    /// One command on the second connections.
    fn other(&mut self, cmd: Cmd) -> Result<(), String> {
        let step = self.stats.compared;
        let (ra, pa) = call(&mut self.a2, &cmd.args).map_err(|e| format!("{}: redis: {e}", self.label))?;
        let (rb, pb) = call(&mut self.b2, &cmd.args).map_err(|e| format!("{}: tessera: {e}", self.label))?;
        self.stats.compared += 1;
        if ra != rb && agree(&cmd.check, &pa, &pb).is_err() {
            return Err(self.fail(&cmd, step, "", &ra, &rb));
        }
        self.remember(format!("{}   (second connection)", show_cmd(&cmd.args)));
        Ok(())
    }

    /// Sends the batch to both servers (one write each), then compares the replies in order.
    fn flush(&mut self, gen: &mut Gen, batch: &mut Vec<Cmd>) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let cmds = std::mem::take(batch);
        let first = self.stats.compared;
        // Both servers get the batch before either is read, so they work at the same time.
        let redis_err = |e: String| format!("{} step={first}: redis: {e}", self.label);
        let tessera_err = |e: String| format!("{} step={first}: tessera: {e}", self.label);
        send_all(&mut self.a, &cmds).map_err(redis_err)?;
        send_all(&mut self.b, &cmds).map_err(tessera_err)?;
        let ra = read_all(&mut self.a, cmds.len()).map_err(redis_err)?;
        let rb = read_all(&mut self.b, cmds.len()).map_err(tessera_err)?;
        let pipelined = cmds.len() > 1;
        for (i, (cmd, ((ra, pa), (rb, pb)))) in cmds.iter().zip(ra.into_iter().zip(rb)).enumerate() {
            let step = first + i;
            self.trace_command(cmd, step, &ra);
            let queued = self.txn.is_some() && !matches!(cmd.name().as_str(), "EXEC" | "DISCARD");
            gen.observe(&cmd.args, &pa);
            self.compare(cmd, step, (&ra, &pa), (&rb, &pb))?;
            self.stats.compared += 1;
            self.stats.errors += usize::from(pa.is_error());
            let shown = show_cmd(&cmd.args);
            let mark = if queued {
                "  [queued]"
            } else if pipelined {
                "  (pipelined)"
            } else {
                ""
            };
            self.remember(format!("{shown}{mark}"));
        }
        if self.txn.is_none() {
            self.after_batch(&cmds)?;
        }
        Ok(())
    }

    fn compare(
        &mut self,
        cmd: &Cmd,
        step: usize,
        (ra, pa): (&[u8], &Reply),
        (rb, pb): (&[u8], &Reply),
    ) -> Result<(), String> {
        let name = cmd.name();
        if self.txn.is_some() {
            match name.as_str() {
                "EXEC" => {
                    let txn = self.txn.take();
                    let (context, queued) = txn.map(|t| (t.context, t.queued)).unwrap_or_default();
                    self.context = Some(context);
                    let verdict = self.compare_exec(cmd, step, &queued, (ra, pa), (rb, pb));
                    self.context = None;
                    return verdict;
                }
                "DISCARD" => {
                    self.txn = None;
                    self.context = None;
                }
                "MULTI" | "WATCH" => {}
                _ => {
                    if *pa == Reply::Simple(b"QUEUED".to_vec()) {
                        if let Some(t) = self.txn.as_mut() {
                            t.queued.push((show_cmd(&cmd.args), cmd.check.clone()));
                        }
                    }
                }
            }
            return if ra == rb { Ok(()) } else { Err(self.fail(cmd, step, "", ra, rb)) };
        }
        if name == "MULTI" && *pa == Reply::Simple(b"OK".to_vec()) {
            let context = self.context.clone().unwrap_or_else(|| format!("MULTI at step {step}"));
            self.txn = Some(Txn { context, queued: Vec::new() });
        }
        if cmd.check.needs_probe() {
            self.stats.probes += 1;
            let mut extra = 0;
            let verdict = probe::run(cmd, &mut self.a, &mut self.b, (ra, pa), (rb, pb), &mut extra);
            self.stats.extra += extra;
            return verdict.map_err(|why| self.fail(cmd, step, &why, ra, rb));
        }
        if ra == rb {
            return Ok(());
        }
        match cmd.check {
            Check::Exact | Check::Exec => Err(self.fail(cmd, step, "", ra, rb)),
            ref check => agree(check, pa, pb).map_err(|why| self.fail(cmd, step, &why, ra, rb)),
        }
    }

    fn compare_exec(
        &mut self,
        cmd: &Cmd,
        step: usize,
        queued: &[(String, Check)],
        (ra, pa): (&[u8], &Reply),
        (rb, pb): (&[u8], &Reply),
    ) -> Result<(), String> {
        match pa {
            Reply::NilArray | Reply::Null => self.stats.exec_nil += 1,
            Reply::Error(_) => self.stats.exec_abort += 1,
            _ => self.stats.exec_ok += 1,
        }
        if ra == rb {
            return Ok(());
        }
        let listing =
            queued.iter().enumerate().map(|(i, (c, _))| format!("  [{i}] {c}")).collect::<Vec<_>>().join("\n");
        let (Reply::Array(xa), Reply::Array(xb)) = (pa, pb) else {
            return Err(self.fail(cmd, step, &format!("queued commands:\n{listing}"), ra, rb));
        };
        if xa.len() != xb.len() || xa.len() != queued.len() {
            let why = format!(
                "EXEC replies have {} and {} elements for {} queued commands:\n{listing}",
                xa.len(),
                xb.len(),
                queued.len()
            );
            return Err(self.fail(cmd, step, &why, ra, rb));
        }
        for (i, ((x, y), (shown, check))) in xa.iter().zip(xb).zip(queued).enumerate() {
            if let Err(why) = agree(check, x, y) {
                let why = format!(
                    "EXEC element [{i}] differs {why}: {shown}\n  redis:   {}\n  tessera: {}\nqueued commands:\n{listing}",
                    show(x),
                    show(y)
                );
                return Err(self.fail(cmd, step, &why, ra, rb));
            }
        }
        Ok(())
    }

    /// Both keyspaces (databases 0 and 1) must hold the same keys, types, encodings, TTLs and
    /// contents at the end of the pass.
    pub fn compare_final_state(&mut self) -> Result<(), String> {
        self.txn = None;
        self.context = Some("final state".into());
        let check = |p: &mut Pass, args: Vec<&[u8]>, check: Check| -> Result<Reply, String> {
            let cmd = Cmd::new(args.iter().map(|a| a.to_vec()).collect()).with(check);
            let (ra, pa) = call(&mut p.a, &cmd.args)?;
            let (rb, pb) = call(&mut p.b, &cmd.args)?;
            p.stats.extra += 1;
            let ok = ra == rb
                || match &cmd.check {
                    Check::Exact => false,
                    Check::UnorderedUnlessCompact(n) => same_multiset(&pa, &pb, *n),
                    c => agree(c, &pa, &pb).is_ok(),
                };
            if ok {
                Ok(pa)
            } else {
                Err(p.fail(&cmd, p.stats.compared, "(final state)", &ra, &rb))
            }
        };
        for db in [b"1".as_slice(), b"0".as_slice()] {
            check(self, vec![b"SELECT", db], Check::Exact)?;
            check(self, vec![b"DBSIZE"], Check::Exact)?;
            let keys = check(self, vec![b"KEYS", b"*"], Check::Unordered(1))?;
            let mut names: Vec<Vec<u8>> =
                keys.items().unwrap_or(&[]).iter().filter_map(|k| k.bytes().map(|x| x.to_vec())).collect();
            names.sort();
            for key in names.iter().filter(|k| k.as_slice() != AUTO.as_bytes()) {
                let k = key.as_slice();
                let typ = check(self, vec![b"TYPE", k], Check::Exact)?;
                let enc = check(self, vec![b"OBJECT", b"ENCODING", k], Check::Exact)?;
                check(self, vec![b"PTTL", k], Check::Tolerance(3000))?;
                let compact = matches!(enc.bytes(), Some(b"listpack" | b"intset"));
                match typ.bytes().unwrap_or_default() {
                    b"string" => check(self, vec![b"GET", k], Check::Exact)?,
                    b"list" => check(self, vec![b"LRANGE", k, b"0", b"-1"], Check::Exact)?,
                    b"set" => {
                        check(self, vec![b"SMEMBERS", k], if compact { Check::Exact } else { Check::Unordered(1) })?
                    }
                    b"zset" => check(self, vec![b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"], Check::Exact)?,
                    b"hash" => {
                        check(self, vec![b"HGETALL", k], if compact { Check::Exact } else { Check::Unordered(2) })?
                    }
                    b"stream" => {
                        check(self, vec![b"XINFO", b"GROUPS", k], Check::Exact)?;
                        check(self, vec![b"XINFO", b"STREAM", k], Check::Exact)?;
                        check(self, vec![b"XRANGE", k, b"-", b"+"], Check::Exact)?
                    }
                    _ => Reply::Null,
                };
            }
        }
        self.context = None;
        Ok(())
    }
}
