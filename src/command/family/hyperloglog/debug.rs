//! PFDEBUG (GETREG, DECODE, ENCODING, TODENSE) and PFSELFTEST: Redis's internal commands for
//! inspecting HyperLogLog values and checking the implementation, with Redis 7.0.15's replies.
//!
//! PFSELFTEST runs the same checks as Redis (register packing, then 10 million additions to
//! a dense and a sparse value side by side) and occupies its shard while it runs, as it
//! occupies Redis's main thread.

use rand::Rng;

use super::{hll_of, lookup_write_as, put_back, str_of_mut, take_bytes, CORRUPT_HLL, NOT_HLL};
use crate::command::spec::DataCtx;
use crate::resp::Out;
use crate::store::types::hll::{self, Encoding, REGISTERS, REGISTER_MAX};

/// What a PFDEBUG subcommand produced, replied once the value is stored back.
enum Reply {
    /// Error text as bytes: the unknown-subcommand error quotes the client's bytes as they are.
    Error(Vec<u8>),
    Registers(Vec<u8>),
    Bulk(String),
    Status(&'static str),
    Int(i64),
}

/// PFDEBUG <subcommand> <key>. As in Redis the key is looked up, checked and unshared before
/// the subcommand is even recognised.
pub(super) fn pfdebug(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    // Redis compares the subcommand as a C string: it ends at the first NUL.
    let sub = args[1].split(|&b| b == 0).next().unwrap_or_default();
    let key = args[2];
    let mut conversions = 0;
    let reply = match lookup_write_as(ctx, key, str_of_mut) {
        Err(e) => Reply::Error(e.as_bytes().to_vec()),
        Ok(None) => Reply::Error(b"ERR The specified key does not exist".to_vec()),
        Ok(Some(s)) => match hll_of(s) {
            None => Reply::Error(NOT_HLL.as_bytes().to_vec()),
            Some(_) => {
                let mut bytes = take_bytes(s);
                let reply = subcommand(sub, &mut bytes, &mut conversions);
                put_back(s, bytes);
                reply
            }
        },
    };
    // A sparse-to-dense conversion is a change Redis propagates.
    if conversions > 0 {
        ctx.dirty(conversions);
    }
    match reply {
        Reply::Error(e) => out.error_bytes(&e),
        Reply::Registers(regs) => {
            out.array(regs.len());
            for r in regs {
                out.int(i64::from(r));
            }
        }
        Reply::Bulk(s) => out.bulk(s.as_bytes()),
        Reply::Status(s) => out.simple(s),
        Reply::Int(n) => out.int(n),
    }
}

fn subcommand(sub: &[u8], bytes: &mut Vec<u8>, conversions: &mut u64) -> Reply {
    let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
    let sparse = hll::check(bytes) == Some(Encoding::Sparse);
    if is("getreg") || is("todense") {
        if sparse {
            if hll::to_dense(bytes).is_err() {
                return Reply::Error(CORRUPT_HLL.as_bytes().to_vec());
            }
            *conversions += 1;
        }
        if is("todense") {
            Reply::Int(i64::from(sparse))
        } else {
            Reply::Registers(hll::dense_registers(bytes))
        }
    } else if is("decode") {
        if sparse {
            Reply::Bulk(hll::decode_sparse(bytes))
        } else {
            Reply::Error(b"ERR HLL encoding is not sparse".to_vec())
        }
    } else if is("encoding") {
        Reply::Status(if sparse { "sparse" } else { "dense" })
    } else {
        Reply::Error([b"ERR Unknown PFDEBUG subcommand '", sub, b"'"].concat())
    }
}

/// PFSELFTEST: +OK, or a `TESTFAILED ...` error naming the first failed check.
pub(super) fn pfselftest(ctx: &mut DataCtx, _args: &[&[u8]], out: &mut Out) {
    let seed: u64 = ctx.rng.gen();
    match selftest(&mut *ctx.rng, seed, ctx.cfg.hll_sparse_max_bytes, 10_000_000) {
        Ok(()) => out.ok(),
        Err(e) => out.error(&e),
    }
}

/// Redis's self test: 1000 rounds of random register writes read back, then `elements`
/// distinct elements added to a dense and a sparse value, checking at every power of ten that
/// small sets stay sparse, that both encodings agree, and that the error stays within six
/// standard errors (within 1 at 10 elements).
pub(super) fn selftest(rng: &mut impl Rng, seed: u64, sparse_max_bytes: usize, elements: u64) -> Result<(), String> {
    let mut regs = vec![0u8; hll::DENSE_SIZE_BYTES - hll::HDR_SIZE_BYTES];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = rng.gen::<u8>() & REGISTER_MAX;
            hll::dense_set(&mut regs, i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = hll::dense_get(&regs, i);
            if got != e {
                return Err(format!("TESTFAILED Register {i} should be {e} but is {got}"));
            }
        }
    }

    let mut dense = hll::new_sparse();
    hll::to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion failed".to_owned())?;
    let mut sparse = hll::new_sparse();
    let rel_err = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    for j in 1..=elements {
        let ele = (j ^ seed).to_le_bytes();
        let _ = hll::add(&mut dense, &ele, sparse_max_bytes);
        let _ = hll::add(&mut sparse, &ele, sparse_max_bytes);
        if j != checkpoint {
            continue;
        }
        if j < (sparse_max_bytes / 2) as u64 && hll::check(&sparse) != Some(Encoding::Sparse) {
            return Err("TESTFAILED sparse encoding not used".to_owned());
        }
        let card = hll::count(&dense).unwrap_or(u64::MAX);
        if hll::count(&sparse).ok() != Some(card) {
            return Err("TESTFAILED dense/sparse disagree".to_owned());
        }
        let max_err = if j == 10 { 1 } else { (rel_err * 6.0 * checkpoint as f64).ceil() as u64 };
        let abs_err = checkpoint.abs_diff(card);
        if abs_err > max_err {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abs_err}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}
