//! CLIENT and its subcommands: the calling connection's own state (ID, SETNAME, GETNAME,
//! INFO, NO-EVICT, SETINFO) and the node-wide views that fan out to every shard, since each
//! shard holds the clients of the connections it accepted (LIST, KILL).
//!
//! CLIENT KILL never closes a socket itself: it marks the client and queues its id in the
//! holding shard's `kill_requests`; that shard's network loop closes the connection once the
//! replies already queued for it are sent.

use crate::command::args::{eq_ic, parse_i64};
use crate::command::spec::{flag, spec, CommandSpec, ConnResult, Exec, Split};
use crate::error;
use crate::resp::Out;
use crate::shard::ShardState;
use futures::FutureExt;

use crate::command::family::server::fanout::{fan_out, help, subcommand_syntax_error};

const NS: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE;
const ADMIN_NS: u32 = flag::ADMIN | NS;
const ACL_CONN: &[&str] = &["@slow", "@connection"];
const ACL_ADMIN_CONN: &[&str] = &["@admin", "@slow", "@dangerous", "@connection"];
const NONE: (i32, i32, i32) = (0, 0, 0);

#[allow(clippy::too_many_arguments)]
const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    acl: &'static [&'static str],
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    f: crate::command::spec::ConnFn,
) -> CommandSpec {
    CommandSpec {
        complexity,
        ..spec(name, arity, flags, NONE, acl, "connection", since, summary, Exec::Conn(f), Split::None)
    }
}

const O1: &str = "O(1)";
const ON: &str = "O(N) where N is the number of client connections";

pub const CLIENT: CommandSpec = CommandSpec {
    complexity: "Depends on subcommand.",
    subcommands: &[
        sub("client|id", 2, NS, ACL_CONN, "5.0.0", "Returns the client ID for the current connection", O1, id),
        sub("client|setname", 3, NS, ACL_CONN, "2.6.9", "Set the current connection name", O1, setname),
        sub("client|getname", 2, NS, ACL_CONN, "2.6.9", "Get the current connection name", O1, getname),
        sub(
            "client|info",
            2,
            NS,
            ACL_CONN,
            "6.2.0",
            "Returns information about the current client connection.",
            O1,
            info,
        ),
        sub("client|list", -2, ADMIN_NS, ACL_ADMIN_CONN, "2.4.0", "Get the list of client connections", ON, list),
        sub("client|kill", -3, ADMIN_NS, ACL_ADMIN_CONN, "2.4.0", "Kill the connection of a client", ON, kill),
        sub(
            "client|no-evict",
            3,
            ADMIN_NS,
            ACL_ADMIN_CONN,
            "7.0.0",
            "Set client eviction mode for the current connection",
            O1,
            no_evict,
        ),
        sub(
            "client|setinfo",
            4,
            NS,
            ACL_CONN,
            "7.2.0",
            "Sets information specific to the client or connection.",
            O1,
            setinfo,
        ),
        sub(
            "client|getredir",
            2,
            NS,
            ACL_CONN,
            "6.0.0",
            "Get tracking notifications redirection client ID if any",
            O1,
            getredir,
        ),
        sub(
            "client|trackinginfo",
            2,
            NS,
            ACL_CONN,
            "6.2.0",
            "Return information about server assisted client side caching for the current connection",
            O1,
            trackinginfo,
        ),
        sub(
            "client|unpause",
            2,
            ADMIN_NS,
            ACL_ADMIN_CONN,
            "6.2.0",
            "Resume processing of clients that were paused",
            "O(N) Where N is the number of paused clients",
            unpause,
        ),
        sub(
            "client|unblock",
            -3,
            ADMIN_NS,
            ACL_ADMIN_CONN,
            "5.0.0",
            "Unblock a client blocked in a blocking command from a different connection",
            "O(log N) where N is the number of client connections",
            unblock,
        ),
        sub(
            "client|help",
            2,
            flag::LOADING | flag::STALE,
            ACL_CONN,
            "5.0.0",
            "Show helpful text about the different subcommands",
            O1,
            client_help,
        ),
    ],
    ..spec(
        "client",
        -2,
        0,
        NONE,
        &["@slow"],
        "connection",
        "2.4.0",
        "A container for client connection commands",
        Exec::Container,
        Split::None,
    )
};

fn id(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.int(st.clients[ci].id as i64);
    ConnResult::Done
}

/// Redis's `validateClientName`: printable ASCII without spaces; empty is allowed.
pub(crate) fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

pub(crate) const BAD_CLIENT_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

fn setname(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !valid_client_name(args[2]) {
        out.error(BAD_CLIENT_NAME);
        return ConnResult::Done;
    }
    st.clients[ci].name = args[2].to_vec();
    out.ok();
    ConnResult::Done
}

fn getname(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let name = &st.clients[ci].name;
    out.bulk_or_null(if name.is_empty() { None } else { Some(name) });
    ConnResult::Done
}

fn info(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let mut line = st.clients[ci].info_line();
    line.push('\n');
    out.verbatim(line.as_bytes());
    ConnResult::Done
}

/// Client types of `CLIENT LIST TYPE` / `CLIENT KILL TYPE` (Redis's `getClientTypeByName`).
/// Every Tessera client is a normal one for now: no replicas, masters or pub/sub yet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ClientType {
    Normal,
    Other,
}

fn client_type(name: &[u8]) -> Option<ClientType> {
    if eq_ic(name, "normal") {
        Some(ClientType::Normal)
    } else if ["slave", "replica", "pubsub", "master"].iter().any(|t| eq_ic(name, t)) {
        Some(ClientType::Other)
    } else {
        None
    }
}

fn unknown_type(name: &[u8]) -> String {
    format!("ERR Unknown client type '{}'", String::from_utf8_lossy(name))
}

fn list(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut ty = ClientType::Normal;
    if args.len() == 4 && eq_ic(args[2], "type") {
        match client_type(args[3]) {
            Some(t) => ty = t,
            None => {
                out.error(&unknown_type(args[3]));
                return ConnResult::Done;
            }
        }
    } else if args.len() > 3 && eq_ic(args[2], "id") {
        let mut v = Vec::with_capacity(args.len() - 3);
        for a in &args[3..] {
            match crate::resp::parse::parse_i64_strict(a) {
                // A negative id names no client; it still parses, as in Redis.
                Some(n) => v.push(n as u64),
                None => {
                    out.error("ERR Invalid client ID");
                    return ConnResult::Done;
                }
            }
        }
        ids = Some(v);
    } else if args.len() != 2 {
        out.error(error::SYNTAX);
        return ConnResult::Done;
    }
    if ty == ClientType::Other {
        out.verbatim(b"");
        return ConnResult::Done;
    }
    let wanted = ids.clone();
    fan_out(
        st,
        out,
        move |s: &mut ShardState| {
            s.clients
                .iter()
                .filter(|(_, c)| wanted.as_ref().is_none_or(|w| w.contains(&c.id)))
                .map(|(_, c)| (c.id, c.info_line()))
                .collect::<Vec<_>>()
        },
        move |parts, out| {
            let mut lines: Vec<(u64, String)> = parts.into_iter().flatten().collect();
            let mut text = String::new();
            match ids {
                // In the order asked, repeats included, as Redis.
                Some(ids) => {
                    for id in ids {
                        if let Some((_, l)) = lines.iter().find(|(i, _)| *i == id) {
                            text.push_str(l.as_str());
                            text.push('\n');
                        }
                    }
                }
                // Oldest connection first, as Redis's client list.
                None => {
                    lines.sort_unstable_by_key(|(id, _)| *id);
                    for (_, l) in &lines {
                        text.push_str(l.as_str());
                        text.push('\n');
                    }
                }
            }
            out.verbatim(text.as_bytes());
        },
    )
}

/// The filters of one CLIENT KILL call.
#[derive(Clone, Debug, Default)]
struct KillFilter {
    addr: Option<String>,
    laddr: Option<String>,
    id: Option<u64>,
    /// `TYPE` named a type no Tessera client has.
    other_type: bool,
    skip_id: Option<u64>,
}

impl KillFilter {
    fn matches(&self, c: &crate::net::client::Client) -> bool {
        !self.other_type
            && self.addr.as_ref().is_none_or(|a| *a == c.addr)
            && self.laddr.as_ref().is_none_or(|a| *a == c.laddr)
            && self.id.is_none_or(|id| id == c.id)
            && self.skip_id != Some(c.id)
    }
}

/// Parses CLIENT KILL's arguments (both forms); Err is the reply.
fn parse_kill(args: &[&[u8]], me: u64) -> Result<KillFilter, String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut f = KillFilter::default();
    if args.len() == 3 {
        // Old form: CLIENT KILL addr. It may kill the caller.
        f.addr = Some(text(args[2]));
        return Ok(f);
    }
    let mut skipme = true;
    let mut i = 2;
    while i < args.len() {
        let (opt, Some(val)) = (args[i], args.get(i + 1)) else {
            return Err(error::SYNTAX.into());
        };
        if eq_ic(opt, "id") {
            match parse_i64(val) {
                Ok(n) if n >= 1 => f.id = Some(n as u64),
                _ => return Err("ERR client-id should be greater than 0".into()),
            }
        } else if eq_ic(opt, "type") {
            match client_type(val) {
                Some(t) => f.other_type |= t == ClientType::Other,
                None => return Err(unknown_type(val)),
            }
        } else if eq_ic(opt, "addr") {
            f.addr = Some(text(val));
        } else if eq_ic(opt, "laddr") {
            f.laddr = Some(text(val));
        } else if eq_ic(opt, "user") {
            // Only the default user exists until ACLs arrive; every client is logged in as it.
            if *val != b"default" {
                return Err(format!("ERR No such user '{}'", text(val)));
            }
        } else if eq_ic(opt, "skipme") {
            if eq_ic(val, "yes") {
                skipme = true;
            } else if eq_ic(val, "no") {
                skipme = false;
            } else {
                return Err(error::SYNTAX.into());
            }
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 2;
    }
    if skipme {
        f.skip_id = Some(me);
    }
    Ok(f)
}

/// Marks the matching clients of this shard for closing; returns how many.
fn kill_matching(s: &mut ShardState, f: &KillFilter) -> usize {
    let mut n = 0;
    for (_, c) in s.clients.iter_mut() {
        if f.matches(c) {
            c.kill = true;
            s.kill_requests.push(c.id);
            n += 1;
        }
    }
    n
}

fn kill(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let me = st.clients[ci].id;
    let filter = match parse_kill(args, me) {
        Ok(f) => f,
        Err(e) => {
            out.error(&e);
            return ConnResult::Done;
        }
    };
    let old_form = args.len() == 3;
    fan_out(
        st,
        out,
        move |s: &mut ShardState| kill_matching(s, &filter),
        move |parts, out| {
            let killed: usize = parts.into_iter().sum();
            if !old_form {
                out.int(killed as i64);
            } else if killed == 0 {
                out.error("ERR No such client");
            } else {
                out.ok();
            }
        },
    )
}

fn no_evict(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let on = if eq_ic(args[2], "on") {
        true
    } else if eq_ic(args[2], "off") {
        false
    } else {
        out.error(error::SYNTAX);
        return ConnResult::Done;
    };
    st.clients[ci].no_evict = on;
    out.ok();
    ConnResult::Done
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; redis-py and others send it on connect).
fn setinfo(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let attr = String::from_utf8_lossy(args[2]);
    let lib_name = eq_ic(args[2], "lib-name");
    if !lib_name && !eq_ic(args[2], "lib-ver") {
        out.error(&format!("ERR Unrecognized option '{attr}'"));
        return ConnResult::Done;
    }
    if !valid_client_name(args[3]) {
        out.error(&format!("ERR {attr} cannot contain spaces, newlines or special characters."));
        return ConnResult::Done;
    }
    let c = &mut st.clients[ci];
    if lib_name {
        c.lib_name = args[3].to_vec();
    } else {
        c.lib_ver = args[3].to_vec();
    }
    out.ok();
    ConnResult::Done
}

/// No client tracking yet: never redirecting.
fn getredir(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.int(-1);
    ConnResult::Done
}

fn trackinginfo(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.map(3);
    out.bulk(b"flags");
    out.set(1);
    out.bulk(b"off");
    out.bulk(b"redirect");
    out.int(-1);
    out.bulk(b"prefixes");
    out.array(0);
    ConnResult::Done
}

/// No CLIENT PAUSE yet, so nothing is ever paused.
fn unpause(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.ok();
    ConnResult::Done
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: the client may be connected to any shard; the one
/// holding it asks the owner of its keys to cancel the wait (see `shard::blocking`).
fn unblock(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if args.len() > 4 {
        subcommand_syntax_error(out, args);
        return ConnResult::Done;
    }
    let mut error = false;
    if let Some(reason) = args.get(3) {
        if eq_ic(reason, "error") {
            error = true;
        } else if !eq_ic(reason, "timeout") {
            out.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return ConnResult::Done;
        }
    }
    let id = match parse_i64(args[2]) {
        Ok(id) => id as u64,
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    if st.nshards == 1 {
        out.int(crate::shard::blocking::unblock_here(st, id, error) as i64);
        return ConnResult::Done;
    }
    let resp3 = st.clients[ci].resp3;
    let h = st.handle.clone();
    ConnResult::Later(
        async move {
            let found =
                h.call_all(None, move |s: &mut ShardState| crate::shard::blocking::unblock_here(s, id, error)).await;
            let mut buf = Vec::new();
            Out::new(&mut buf, resp3).int(found.iter().any(|&f| f) as i64);
            buf
        }
        .boxed_local(),
    )
}

fn client_help(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    help(
        out,
        "CLIENT",
        &[
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
    ConnResult::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_like_redis() {
        assert!(valid_client_name(b""));
        assert!(valid_client_name(b"my-app:1"));
        assert!(!valid_client_name(b"a b"));
        assert!(!valid_client_name(b"a\nb"));
        assert!(!valid_client_name("é".as_bytes()));
    }

    #[test]
    fn kill_filters_parse_like_redis() {
        let p = |a: &[&str]| {
            let v: Vec<&[u8]> = a.iter().map(|s| s.as_bytes()).collect();
            parse_kill(&v, 7)
        };
        let f = p(&["client", "kill", "1.2.3.4:5"]).unwrap();
        assert_eq!((f.addr.as_deref(), f.skip_id), (Some("1.2.3.4:5"), None));
        let f = p(&["client", "kill", "id", "9", "skipme", "no"]).unwrap();
        assert_eq!((f.id, f.skip_id), (Some(9), None));
        assert_eq!(p(&["client", "kill", "id", "9"]).unwrap().skip_id, Some(7));
        assert_eq!(p(&["client", "kill", "id", "0"]).unwrap_err(), "ERR client-id should be greater than 0");
        assert_eq!(p(&["client", "kill", "id", "x"]).unwrap_err(), "ERR client-id should be greater than 0");
        assert_eq!(p(&["client", "kill", "foo", "bar"]).unwrap_err(), "ERR syntax error");
        assert_eq!(p(&["client", "kill", "addr", "x", "skipme"]).unwrap_err(), "ERR syntax error");
        assert_eq!(p(&["client", "kill", "skipme", "maybe"]).unwrap_err(), "ERR syntax error");
        assert_eq!(p(&["client", "kill", "type", "foo"]).unwrap_err(), "ERR Unknown client type 'foo'");
        assert_eq!(p(&["client", "kill", "user", "bob"]).unwrap_err(), "ERR No such user 'bob'");
        assert!(p(&["client", "kill", "type", "pubsub"]).unwrap().other_type);
    }
}
