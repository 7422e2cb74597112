//! The command table: every family's specs in one index, looked up case-insensitively
//! without allocating.

use super::spec::{CommandSpec, Exec};
use std::collections::HashMap;
use std::sync::LazyLock;

fn families() -> impl Iterator<Item = &'static CommandSpec> {
    use super::family::*;
    string::COMMANDS
        .iter()
        .chain(keys::COMMANDS)
        .chain(server::COMMANDS)
        .chain(connection::COMMANDS)
        .chain(cluster::COMMANDS)
        .chain(hash::COMMANDS)
        .chain(list::COMMANDS)
        .chain(set::COMMANDS)
        .chain(zset::COMMANDS)
        .chain(transaction::COMMANDS)
        .chain(pubsub::COMMANDS)
        .chain(bitmap::COMMANDS)
        .chain(hyperloglog::COMMANDS)
        .chain(geo::COMMANDS)
        .chain(stream::COMMANDS)
        .chain(sort::COMMANDS)
        .chain(persist::COMMANDS)
        .chain(blocking::COMMANDS)
        .chain(memory::COMMANDS)
}

static TABLE: LazyLock<HashMap<&'static [u8], &'static CommandSpec>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for c in families() {
        assert!(c.name.bytes().all(|b| !b.is_ascii_uppercase()), "command names are lower case: {}", c.name);
        let dup = m.insert(c.name.as_bytes(), c);
        assert!(dup.is_none(), "command {} defined twice", c.name);
    }
    m
});

/// Every command, in no particular order.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    TABLE.values().copied()
}

pub fn count() -> usize {
    TABLE.len()
}

fn lower<'a>(name: &[u8], buf: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some(&buf[..name.len()])
}

pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 64];
    TABLE.get(lower(name, &mut buf)?).copied()
}

pub fn lookup_sub(parent: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 64];
    let sub = lower(sub, &mut buf)?;
    parent.subcommands.iter().find(|s| {
        // Subcommand specs are named "parent|sub" as in Redis 7's COMMAND output.
        s.name.rsplit('|').next().map(|n| n.as_bytes()) == Some(sub)
    })
}

/// Resolves a call to the spec that governs it: the command, or its subcommand.
/// Errors are the exact replies Redis gives.
pub fn resolve(args: &[&[u8]]) -> Result<&'static CommandSpec, String> {
    let Some(spec) = args.first().and_then(|n| lookup(n)) else {
        return Err(crate::error::unknown_command(args));
    };
    if !spec.arity_ok(args.len()) {
        return Err(crate::error::wrong_arity(spec.name.as_bytes()));
    }
    if matches!(spec.exec, Exec::Container) {
        let Some(&name) = args.get(1) else {
            return Err(crate::error::wrong_arity(spec.name.as_bytes()));
        };
        let Some(sub) = lookup_sub(spec, name) else {
            return Err(crate::error::unknown_subcommand(spec.name, name));
        };
        if !sub.arity_ok(args.len()) {
            return Err(crate::error::wrong_arity(sub.name.as_bytes()));
        }
        return Ok(sub);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for c in all() {
            assert!(c.arity != 0, "{} has arity 0", c.name);
            if matches!(c.exec, Exec::Container) {
                assert!(!c.subcommands.is_empty(), "{} has no subcommands", c.name);
                for s in c.subcommands {
                    assert!(s.name.starts_with(&format!("{}|", c.name)), "{} under {}", s.name, c.name);
                    assert!(!matches!(s.exec, Exec::Container));
                }
            }
            if c.first_key > 0 {
                assert!(c.step > 0, "{} has keys but no step", c.name);
            }
        }
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(resolve(&[b"get"]).err().unwrap(), "ERR wrong number of arguments for 'get' command");
        assert_eq!(
            resolve(&[b"nosuch", b"a", b"b"]).err().unwrap(),
            "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' "
        );
        assert!(resolve(&[b"GeT", b"k"]).is_ok());
    }
}
