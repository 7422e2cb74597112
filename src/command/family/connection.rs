//! The connection family: PING, ECHO, QUIT, RESET, SELECT, HELLO, AUTH and the CLIENT
//! container (in `server/client.rs`). These run on the shard holding the client's connection
//! and change only that client's state (`net::client::Client`); CLIENT LIST/KILL fan out.
//!
//! Replies and errors are Redis 7.0's, byte for byte, in RESP2 and RESP3.

#[path = "server/client.rs"]
mod client;

use crate::command::args::{eq_ic, parse_i64};
use crate::command::spec::{flag, spec, CommandSpec, ConnResult, Exec, Split};
use crate::error;
use crate::observe::info::REDIS_VERSION;
use crate::resp::Out;
use crate::shard::ShardState;

pub(crate) use client::{valid_client_name, BAD_CLIENT_NAME};

const F: u32 = flag::FAST;
const LSF: u32 = flag::LOADING | flag::STALE | flag::FAST;
/// QUIT, RESET, HELLO, AUTH: allowed before authentication and while busy.
const PRE_AUTH: u32 = flag::NOSCRIPT | LSF | flag::NO_AUTH | flag::ALLOW_BUSY;
const ACL: &[&str] = &["@fast", "@connection"];
const NONE: (i32, i32, i32) = (0, 0, 0);

const fn conn(
    name: &'static str,
    arity: i32,
    flags: u32,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    f: crate::command::spec::ConnFn,
) -> CommandSpec {
    CommandSpec {
        complexity,
        ..spec(name, arity, flags, NONE, ACL, "connection", since, summary, Exec::Conn(f), Split::None)
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    conn("ping", -1, F, "1.0.0", "Ping the server", "O(1)", ping),
    conn("echo", 2, LSF, "1.0.0", "Echo the given string", "O(1)", echo),
    conn("quit", -1, PRE_AUTH, "1.0.0", "Close the connection", "O(1)", quit),
    conn("reset", 1, PRE_AUTH, "6.2.0", "Reset the connection", "O(1)", reset),
    conn("select", 2, LSF, "1.0.0", "Change the selected database for the current connection", "O(1)", select),
    conn("hello", -1, PRE_AUTH, "6.0.0", "Handshake with Redis", "O(1)", hello),
    conn(
        "auth",
        -2,
        PRE_AUTH,
        "1.0.0",
        "Authenticate to the server",
        "O(N) where N is the number of passwords defined for the user",
        auth,
    ),
    client::CLIENT,
];

fn ping(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if args.len() <= 2 && !out.resp3 && st.clients.get(ci).is_some_and(|c| c.subscribed()) {
        crate::command::family::pubsub::subscribed_ping(out, args.get(1).copied());
        return ConnResult::Done;
    }
    match args.len() {
        1 => out.simple("PONG"),
        2 => out.bulk(args[1]),
        _ => out.error(&error::wrong_arity(b"ping")),
    }
    ConnResult::Done
}

fn echo(_st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.bulk(args[1]);
    ConnResult::Done
}

fn quit(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.ok();
    ConnResult::Close
}

/// RESET: back to a fresh connection's state (Redis's `clearClientConnectionState`); the
/// library name and version stay, they describe the client behind the connection.
fn reset(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    crate::shard::txn::discard_state(st, ci);
    crate::command::family::pubsub::forget_client(st, ci);
    let authenticated = st.cfg.requirepass.is_empty();
    let c = &mut st.clients[ci];
    c.db = 0;
    c.resp3 = false;
    c.authenticated = authenticated;
    c.user = "default".into();
    c.name.clear();
    c.asking = false;
    c.readonly = false;
    c.no_evict = false;
    out.simple("RESET");
    ConnResult::Done
}

fn select(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    // Redis's getIntFromObjectOrReply: an integer, then within a C int.
    let id = match parse_i64(args[1]) {
        Ok(n) if i32::try_from(n).is_ok() => n,
        Ok(_) => {
            out.error("ERR value is out of range, value must between -2147483648 and 2147483647");
            return ConnResult::Done;
        }
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    if st.cluster.enabled && id != 0 {
        out.error(error::SELECT_CLUSTER);
    } else if id < 0 || id as usize >= st.store.dbs.len() {
        out.error(error::DB_INDEX_OUT_OF_RANGE);
    } else {
        st.clients[ci].db = id as usize;
        out.ok();
    }
    ConnResult::Done
}

/// Compares without stopping at the first difference, so timing says nothing of a password.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() != b.len()) as u8;
    for (i, &x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(!x);
    }
    diff == 0
}

/// Checks `user`/`pass` against the only user until ACLs arrive, `default`, whose password is
/// `requirepass` (none means any password is accepted, as Redis's `nopass`).
fn check_user(st: &ShardState, user: &[u8], pass: &[u8]) -> bool {
    user == b"default" && (st.cfg.requirepass.is_empty() || same_secret(pass, st.cfg.requirepass.as_bytes()))
}

fn auth(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if args.len() > 3 {
        out.error(error::SYNTAX);
        return ConnResult::Done;
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 {
        if st.cfg.requirepass.is_empty() {
            out.error(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            );
            return ConnResult::Done;
        }
        (b"default", args[1])
    } else {
        (args[1], args[2])
    };
    if check_user(st, user, pass) {
        let c = &mut st.clients[ci];
        c.authenticated = true;
        c.user = "default".into();
        out.ok();
    } else {
        out.error(error::WRONGPASS);
    }
    ConnResult::Done
}

const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

/// HELLO [protover [AUTH user pass] [SETNAME name]]: switches the protocol and answers with
/// the server's description, in the new protocol.
fn hello(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let mut ver = None;
    if let Some(v) = args.get(1) {
        match parse_i64(v) {
            Ok(n) if n == 2 || n == 3 => ver = Some(n),
            Ok(_) => {
                out.error("NOPROTO unsupported protocol version");
                return ConnResult::Done;
            }
            Err(_) => {
                out.error("ERR Protocol version is not an integer or out of range");
                return ConnResult::Done;
            }
        }
    }
    let mut creds = None;
    let mut name = None;
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if eq_ic(args[j], "auth") && more >= 2 {
            creds = Some((args[j + 1], args[j + 2]));
            j += 3;
        } else if eq_ic(args[j], "setname") && more >= 1 {
            if !valid_client_name(args[j + 1]) {
                out.error(BAD_CLIENT_NAME);
                return ConnResult::Done;
            }
            name = Some(args[j + 1]);
            j += 2;
        } else {
            out.error(&format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(args[j])));
            return ConnResult::Done;
        }
    }
    if let Some((user, pass)) = creds {
        if !check_user(st, user, pass) {
            out.error(error::WRONGPASS);
            return ConnResult::Done;
        }
        st.clients[ci].authenticated = true;
    }
    let mode = if st.cluster.enabled { "cluster" } else { "standalone" };
    let c = &mut st.clients[ci];
    if !c.authenticated {
        out.error(HELLO_NOAUTH);
        return ConnResult::Done;
    }
    if let Some(n) = name {
        c.name = n.to_vec();
    }
    if let Some(v) = ver {
        c.resp3 = v == 3;
        // The reply already uses the protocol just chosen.
        out.resp3 = c.resp3;
    }
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if c.resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(c.id as i64);
    out.bulk(b"mode");
    out.bulk(mode.as_bytes());
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    ConnResult::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"", b"a"));
        assert!(same_secret(b"", b""));
    }
}
