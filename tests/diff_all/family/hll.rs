//! HyperLogLog commands: PFADD, PFCOUNT (one key and several, across shards), PFMERGE, and GET
//! of the stored bytes (so the sparse and dense layouts and the cached cardinality must be
//! Redis's exactly). Large batches turn sparse values dense.
//!
//! PFADD and PFMERGE only write HyperLogLog keys: a HyperLogLog written anywhere else could
//! meet a command that edits its bytes (see `keyspace.rs`). Reads may name any key.

use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::Fam;

fn element(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 10) {
        0 => g.num(0, 100),
        1 => Vec::new(),
        _ => format!("e{}", g.range(0, 3000)).into_bytes(),
    }
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=34 => {
            let mut a = vec![b("PFADD"), g.home(Fam::Hll)];
            for _ in 0..g.range(0, 6) {
                a.push(element(g));
            }
            Cmd::new(a)
        }
        35..=41 => {
            // Many elements at once: sparse values outgrow their limit and turn dense.
            let mut a = vec![b("PFADD"), g.home(Fam::Hll)];
            let base = g.range(0, 5000);
            for i in 0..g.range(100, 900) {
                a.push(format!("big{}", base + i).into_bytes());
            }
            Cmd::new(a)
        }
        42..=66 => {
            let mut a = vec![b("PFCOUNT")];
            for _ in 0..g.range(1, 4) {
                a.push(if g.chance(0.9) { g.home(Fam::Hll) } else { g.key(Fam::Hll) });
            }
            Cmd::new(a)
        }
        67..=81 => {
            let mut a = vec![b("PFMERGE"), g.home(Fam::Hll)];
            for _ in 0..g.range(0, 4) {
                a.push(if g.chance(0.9) { g.home(Fam::Hll) } else { g.key(Fam::Hll) });
            }
            Cmd::new(a)
        }
        82..=91 => Cmd::new(vec![b("GET"), g.home(Fam::Hll)]),
        92..=95 => {
            // Wrong types are read with PFCOUNT: PFADD on a missing non-HyperLogLog key would
            // create one outside the HyperLogLog keys.
            let k = g.key(Fam::Hll);
            Cmd::new(vec![b("PFCOUNT"), k])
        }
        _ => {
            let k = g.home(Fam::Hll);
            match g.range(0, 3) {
                0 => Cmd::new(vec![b("STRLEN"), k]),
                1 => Cmd::new(vec![b("TYPE"), k]),
                _ => Cmd::new(vec![b("OBJECT"), b("ENCODING"), k]),
            }
        }
    }
}
