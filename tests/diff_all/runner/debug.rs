//! Debugging aids for chasing a failing seed, both off by default:
//! - `TESSERA_DIFF_ALL_AUDIT=1`: after every batch outside MULTI, compare every key's encoding,
//!   type and digest, to find the first command after which the two keyspaces differ (slow);
//! - `TESSERA_DIFF_ALL_TRACE=<key>`: print every command naming the key with redis-server's
//!   reply, and the key's encoding and DUMP on both servers after each such batch.
//!
//! They only read; they never change what the test compares.

use super::{call, Pass};
use crate::all::gen::Cmd;
use crate::all::keyspace;
use crate::common::resp::{escape, show_cmd};

pub fn audit_enabled() -> bool {
    std::env::var("TESSERA_DIFF_ALL_AUDIT").is_ok_and(|v| v == "1")
}

pub fn traced_key() -> Option<Vec<u8>> {
    std::env::var("TESSERA_DIFF_ALL_TRACE").ok().filter(|k| !k.is_empty()).map(String::into_bytes)
}

impl Pass {
    pub(super) fn trace_command(&self, cmd: &Cmd, step: usize, reply: &[u8]) {
        if let Some(t) = &self.trace {
            if cmd.args.iter().any(|a| a == t) {
                println!("trace step={step}: {} -> {}", show_cmd(&cmd.args), escape(reply));
            }
        }
    }

    pub(super) fn after_batch(&mut self, cmds: &[Cmd]) -> Result<(), String> {
        if self.audit {
            self.audit_keys()?;
        }
        if let Some(t) = self.trace.clone() {
            if cmds.iter().any(|c| c.args.contains(&t)) {
                for q in [vec![b"OBJECT".to_vec(), b"ENCODING".to_vec(), t.clone()], vec![b"DUMP".to_vec(), t.clone()]]
                {
                    let (ra, _) = call(&mut self.a, &q)?;
                    let (rb, _) = call(&mut self.b, &q)?;
                    println!("trace   {}: redis {} tessera {}", show_cmd(&q), escape(&ra), escape(&rb));
                }
            }
        }
        Ok(())
    }

    fn audit_keys(&mut self) -> Result<(), String> {
        for key in keyspace::all_keys() {
            for q in [
                &[b"OBJECT".as_slice(), b"ENCODING", key.as_bytes()][..],
                &[b"TYPE", key.as_bytes()],
                &[b"DEBUG", b"DIGEST-VALUE", key.as_bytes()],
            ] {
                let q: Vec<Vec<u8>> = q.iter().map(|x| x.to_vec()).collect();
                let (ra, _) = call(&mut self.a, &q)?;
                let (rb, _) = call(&mut self.b, &q)?;
                if ra != rb {
                    let (_, keys) = call(&mut self.a, &[b"KEYS".to_vec(), b"*".to_vec()])?;
                    for k in keys.items().unwrap_or(&[]) {
                        let k = k.bytes().unwrap_or_default().to_vec();
                        let (t, _) = call(&mut self.a, &[b"TYPE".to_vec(), k.clone()])?;
                        let (e, _) = call(&mut self.a, &[b"OBJECT".to_vec(), b"ENCODING".to_vec(), k.clone()])?;
                        let (x, _) = call(&mut self.a, &[b"PTTL".to_vec(), k.clone()])?;
                        println!("audit state: {} {} {} {}", escape(&k), escape(&t), escape(&e), escape(&x));
                    }
                    return Err(format!(
                        "{} audit after step {}: {} differs\nredis:   {}\ntessera: {}\nprevious commands (oldest first):\n  {}",
                        self.label,
                        self.stats.compared,
                        show_cmd(&q),
                        escape(&ra),
                        escape(&rb),
                        self.history.iter().cloned().collect::<Vec<_>>().join("\n  ")
                    ));
                }
            }
        }
        Ok(())
    }
}
