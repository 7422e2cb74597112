//! Key expiry commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL EXPIRETIME
//! PEXPIRETIME, PERSIST. Deadlines are absolute unix milliseconds in `Entry::expire_at_ms`;
//! a deadline already past deletes the key at once, exactly as Redis does.
//! Runs on the shard owning the key; never touches sockets or other shards.

use super::lookup_read;
use crate::command::args::{eq_ic, parse_i64};
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::keyspace::NO_EXPIRE;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// The NX / XX / GT / LT conditions of the expire commands.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
struct Cond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Redis's `parseExtendedExpireArgumentsOrReply`, same order of checks and same texts.
fn parse_cond(opts: &[&[u8]]) -> Result<Cond, String> {
    let mut c = Cond::default();
    for o in opts {
        if eq_ic(o, "nx") {
            c.nx = true;
        } else if eq_ic(o, "xx") {
            c.xx = true;
        } else if eq_ic(o, "gt") {
            c.gt = true;
        } else if eq_ic(o, "lt") {
            c.lt = true;
        } else {
            // Redis prints the option with `%s`: it stops at a NUL byte.
            let shown = o.split(|&b| b == 0).next().unwrap_or(&[]);
            return Err(format!("ERR Unsupported option {}", String::from_utf8_lossy(shown)));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if c.gt && c.lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    Ok(c)
}

/// The absolute deadline in ms for `arg` given in `unit` and counted from `base_ms`, or None
/// when the arithmetic overflows (Redis: `invalid expire time`).
fn deadline_ms(n: i64, unit: Unit, base_ms: i64) -> Option<i64> {
    let ms = match unit {
        Unit::Seconds => n.checked_mul(1000)?,
        Unit::Millis => n,
    };
    ms.checked_add(base_ms)
}

pub fn expire(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let now = ctx.now_ms as i64;
    expire_generic(ctx, args, out, now, Unit::Seconds, "expire")
}

pub fn pexpire(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let now = ctx.now_ms as i64;
    expire_generic(ctx, args, out, now, Unit::Millis, "pexpire")
}

pub fn expireat(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    expire_generic(ctx, args, out, 0, Unit::Seconds, "expireat")
}

pub fn pexpireat(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    expire_generic(ctx, args, out, 0, Unit::Millis, "pexpireat")
}

/// Redis's `expireGenericCommand`: options, then the number, then the key.
fn expire_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, base_ms: i64, unit: Unit, name: &str) {
    let cond = match parse_cond(&args[3..]) {
        Ok(c) => c,
        Err(e) => {
            out.error(&e);
            return;
        }
    };
    let n = match parse_i64(args[2]) {
        Ok(n) => n,
        Err(e) => {
            out.error(e);
            return;
        }
    };
    let Some(when_ms) = deadline_ms(n, unit, base_ms) else {
        out.error(&error::invalid_expire(name));
        return;
    };
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let Some(entry) = db.get(key, now) else {
        out.int(0);
        return;
    };
    // -1: no TTL, which GT treats as infinite and LT as "any deadline is smaller".
    let current: i64 = if entry.expire_at_ms == NO_EXPIRE { -1 } else { ttl_i64(entry.expire_at_ms) };
    let refused = (cond.nx && current != -1)
        || (cond.xx && current == -1)
        || (cond.gt && (when_ms <= current || current == -1))
        || (cond.lt && current != -1 && when_ms >= current);
    if refused {
        out.int(0);
        return;
    }
    if when_ms <= now as i64 {
        // Already past: Redis deletes the key (and propagates a DEL), counting it as a write,
        // not as an expired key.
        db.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    } else {
        db.set_expire(key, when_ms as u64);
        ctx.notify(class::GENERIC, "expire", key);
    }
    ctx.dirty(1);
    out.int(1);
}

/// Deadlines come from i64 arithmetic, but a u64 from elsewhere must not wrap negative.
fn ttl_i64(deadline_ms: u64) -> i64 {
    i64::try_from(deadline_ms).unwrap_or(i64::MAX)
}

pub fn ttl(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    ttl_generic(ctx, args, out, false, false)
}

pub fn pttl(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    ttl_generic(ctx, args, out, true, false)
}

pub fn expiretime(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    ttl_generic(ctx, args, out, false, true)
}

pub fn pexpiretime(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    ttl_generic(ctx, args, out, true, true)
}

/// Redis's `ttlGenericCommand`: -2 for a missing key, -1 without a TTL, else the remaining
/// time (or the deadline) with seconds rounded to the nearest.
fn ttl_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, millis: bool, absolute: bool) {
    let now = ctx.now_ms as i64;
    let Some(e) = lookup_read(ctx, args[1]) else {
        out.int(-2);
        return;
    };
    if e.expire_at_ms == NO_EXPIRE {
        out.int(-1);
        return;
    }
    let deadline = ttl_i64(e.expire_at_ms);
    let t = if absolute { deadline } else { deadline - now }.max(0);
    // i128: Redis's (ttl+500)/1000 near i64::MAX gives the mathematically rounded value.
    out.int(if millis { t } else { ((t as i128 + 500) / 1000) as i64 });
}

pub fn persist(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (key, now) = (args[1], ctx.now_ms);
    let db = ctx.db();
    let had_ttl = db.get(key, now).is_some_and(|e| e.expire_at_ms != NO_EXPIRE);
    if had_ttl {
        db.set_expire(key, NO_EXPIRE);
        ctx.notify(class::GENERIC, "persist", key);
        ctx.dirty(1);
    }
    out.int(had_ttl as i64);
}

#[cfg(test)]
mod tests {
    use super::super::test_util::Fixture;

    #[test]
    fn option_errors_in_redis_order() {
        let mut f = Fixture::new();
        f.set("k", "v");
        assert_eq!(f.run(&["EXPIRE", "k", "10", "foo"]), "-ERR Unsupported option foo\r\n");
        let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
        assert_eq!(f.run(&["EXPIRE", "k", "10", "nx", "xx"]), nx);
        assert_eq!(f.run(&["EXPIRE", "k", "10", "NX", "GT"]), nx);
        assert_eq!(f.run(&["EXPIRE", "k", "abc", "nx", "lt"]), nx);
        assert_eq!(
            f.run(&["EXPIRE", "k", "10", "gt", "lt"]),
            "-ERR GT and LT options at the same time are not compatible\r\n"
        );
        assert_eq!(f.run(&["EXPIRE", "k", "abc"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "9223372036854775807"]), "-ERR invalid expire time in 'expire' command\r\n");
        assert_eq!(
            f.run(&["PEXPIRE", "k", "9223372036854775807"]),
            "-ERR invalid expire time in 'pexpire' command\r\n"
        );
        assert_eq!(
            f.run(&["EXPIREAT", "k", "-9223372036854776"]),
            "-ERR invalid expire time in 'expireat' command\r\n"
        );
        assert_eq!(f.run(&["PEXPIREAT", "k", "9223372036854775807"]), ":1\r\n");
        assert_eq!(f.run(&["PEXPIRETIME", "k"]), ":9223372036854775807\r\n");
        assert_eq!(f.run(&["EXPIRETIME", "k"]), ":9223372036854776\r\n");
        assert_eq!(f.run(&["EXPIRE"]), "-ERR wrong number of arguments for 'expire' command\r\n");
    }

    #[test]
    fn set_read_and_clear() {
        let mut f = Fixture::new();
        assert_eq!(f.run(&["EXPIRE", "k", "10"]), ":0\r\n");
        assert_eq!(f.run(&["TTL", "k"]), ":-2\r\n");
        f.set("k", "v");
        assert_eq!(f.run(&["TTL", "k"]), ":-1\r\n");
        assert_eq!(f.run(&["PEXPIRETIME", "k"]), ":-1\r\n");
        assert_eq!(f.run(&["PERSIST", "k"]), ":0\r\n");
        let dirty = f.store.dirty;
        assert_eq!(f.run(&["EXPIRE", "k", "10"]), ":1\r\n");
        assert_eq!(f.store.dirty - dirty, 1);
        assert_eq!(f.run(&["PTTL", "k"]), ":10000\r\n");
        f.now_ms += 1499;
        assert_eq!(f.run(&["TTL", "k"]), ":9\r\n");
        f.now_ms -= 1;
        assert_eq!(f.run(&["TTL", "k"]), ":9\r\n");
        f.now_ms -= 1000;
        assert_eq!(f.run(&["TTL", "k"]), ":10\r\n");
        let deadline = f.now_ms + 10_000 - 498;
        assert_eq!(f.run(&["PEXPIRETIME", "k"]), format!(":{}\r\n", deadline));
        assert_eq!(f.run(&["EXPIRETIME", "k"]), format!(":{}\r\n", (deadline + 500) / 1000));
        assert_eq!(f.run(&["PEXPIREAT", "k", &(f.now_ms + 50).to_string()]), ":1\r\n");
        assert_eq!(f.run(&["PTTL", "k"]), ":50\r\n");
        assert_eq!(f.run(&["PERSIST", "k"]), ":1\r\n");
        assert_eq!(f.run(&["PTTL", "k"]), ":-1\r\n");
        assert_eq!(f.store.dbs[0].expires_len(), 0);
    }

    #[test]
    fn past_deadline_deletes() {
        let mut f = Fixture::new();
        f.set("k", "v");
        assert_eq!(f.run(&["EXPIRE", "k", "-5"]), ":1\r\n");
        assert!(f.store.dbs[0].is_empty());
        assert_eq!(f.store.dbs[0].expired_keys, 0);
        f.set("k", "v");
        assert_eq!(f.run(&["PEXPIREAT", "k", &f.now_ms.to_string()]), ":1\r\n");
        assert!(f.store.dbs[0].is_empty());
        f.set("k", "v");
        assert_eq!(f.run(&["EXPIREAT", "k", "0"]), ":1\r\n");
        assert_eq!(f.run(&["EXISTS", "k"]), ":0\r\n");
        // An expired key counts as missing, and as expired.
        f.set_px("e", "v", f.now_ms - 1);
        assert_eq!(f.run(&["EXPIRE", "e", "100"]), ":0\r\n");
        assert_eq!(f.store.dbs[0].expired_keys, 1);
        f.set_px("e", "v", f.now_ms);
        assert_eq!(f.run(&["TTL", "e"]), ":-2\r\n");
    }

    #[test]
    fn nx_xx_gt_lt() {
        let mut f = Fixture::new();
        f.set("k", "v");
        assert_eq!(f.run(&["EXPIRE", "k", "100", "XX"]), ":0\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "100", "GT"]), ":0\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "100", "LT"]), ":1\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "50", "NX"]), ":0\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "200", "LT"]), ":0\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "100", "LT"]), ":0\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "100", "GT"]), ":0\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "200", "GT", "XX"]), ":1\r\n");
        assert_eq!(f.run(&["TTL", "k"]), ":200\r\n");
        assert_eq!(f.run(&["EXPIRE", "k", "50", "lt", "xx"]), ":1\r\n");
        assert_eq!(f.run(&["TTL", "k"]), ":50\r\n");
        // LT to a past time deletes.
        assert_eq!(f.run(&["EXPIRE", "k", "-1", "LT"]), ":1\r\n");
        assert_eq!(f.run(&["EXISTS", "k"]), ":0\r\n");
        f.set("n", "v");
        assert_eq!(f.run(&["EXPIRE", "n", "5", "NX"]), ":1\r\n");
        assert_eq!(f.run(&["EXPIRE", "n", "5", "NX"]), ":0\r\n");
    }
}
