//! The Pub/Sub family: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB. The
//! registry and delivery are in `shard::pubsub`; subscriptions are registered on the shard
//! holding the subscriber's connection, and PUBLISH visits every shard.

use futures::FutureExt;

use crate::command::spec::{flag, spec, CommandSpec, ConnResult, Exec, Split};
use crate::glob::glob_match;
use crate::resp::Out;
use crate::shard::exec::{place, Placement};
use crate::shard::pubsub::{encode, Space};
use crate::shard::ShardState;

const SUB: u32 = flag::PUBSUB | flag::NOSCRIPT | flag::LOADING | flag::STALE;
const PUB: u32 = flag::PUBSUB | flag::LOADING | flag::STALE | flag::FAST;
const SLOW: &[&str] = &["@pubsub", "@slow"];
const FAST: &[&str] = &["@pubsub", "@fast"];
const NONE: (i32, i32, i32) = (0, 0, 0);

const fn sub(name: &'static str, arity: i32, f: crate::command::spec::ConnFn, summary: &'static str) -> CommandSpec {
    spec(name, arity, SUB, NONE, SLOW, "pubsub", "2.0.0", summary, Exec::Conn(f), Split::None)
}

const fn pubsub_sub(
    name: &'static str,
    arity: i32,
    f: crate::command::spec::ConnFn,
    summary: &'static str,
) -> CommandSpec {
    spec(
        name,
        arity,
        flag::PUBSUB | flag::LOADING | flag::STALE,
        NONE,
        SLOW,
        "pubsub",
        "2.8.0",
        summary,
        Exec::Conn(f),
        Split::None,
    )
}

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    sub("subscribe", -2, subscribe, "Listen for messages published to the given channels"),
    sub("unsubscribe", -1, unsubscribe, "Stop listening for messages posted to the given channels"),
    sub("psubscribe", -2, psubscribe, "Listen for messages published to channels matching the given patterns"),
    sub("punsubscribe", -1, punsubscribe, "Stop listening for messages posted to channels matching the given patterns"),
    spec("ssubscribe", -2, SUB, (1, -1, 1), SLOW, "pubsub", "7.0.0",
        "Listen for messages published to the given shard channels", Exec::Conn(ssubscribe), Split::None),
    spec("sunsubscribe", -1, SUB, (1, -1, 1), SLOW, "pubsub", "7.0.0",
        "Stop listening for messages posted to the given shard channels", Exec::Conn(sunsubscribe), Split::None),
    spec("publish", 3, PUB, NONE, FAST, "pubsub", "2.0.0", "Post a message to a channel", Exec::Conn(publish), Split::None),
    spec("spublish", 3, PUB, (1, 1, 1), FAST, "pubsub", "7.0.0", "Post a message to a shard channel",
        Exec::Conn(spublish), Split::None),
    CommandSpec {
        subcommands: &[
            pubsub_sub("pubsub|channels", -2, channels, "List active channels"),
            pubsub_sub("pubsub|numsub", -2, numsub, "Get the count of subscribers for channels"),
            pubsub_sub("pubsub|numpat", 2, numpat, "Get the count of unique patterns pattern subscriptions"),
            CommandSpec { since: "7.0.0", ..pubsub_sub("pubsub|shardchannels", -2, shardchannels, "List active shard channels") },
            CommandSpec { since: "7.0.0", ..pubsub_sub("pubsub|shardnumsub", -2, shardnumsub, "Get the count of subscribers for shard channels") },
            spec("pubsub|help", 2, flag::LOADING | flag::STALE, NONE, &["@slow"], "pubsub", "6.2.0", "Show helpful text about the different subcommands", Exec::Conn(help), Split::None),
        ],
        ..spec("pubsub", -2, 0, NONE, &["@slow"], "pubsub", "2.8.0", "A container for Pub/Sub commands", Exec::Container, Split::None)
    },
];

/// Commands a RESP2 client may send while subscribed.
pub fn allowed_when_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

fn list_of(st: &mut ShardState, ci: usize, space: Space) -> &mut Vec<Vec<u8>> {
    let c = &mut st.clients[ci];
    match space {
        Space::Channel => &mut c.channels,
        Space::Pattern => &mut c.patterns,
        Space::Shard => &mut c.shard_channels,
    }
}

/// Redis counts channels and patterns together, shard channels apart.
fn count_for(st: &ShardState, ci: usize, space: Space) -> i64 {
    let c = &st.clients[ci];
    match space {
        Space::Shard => c.shard_channels.len() as i64,
        _ => (c.channels.len() + c.patterns.len()) as i64,
    }
}

fn kind_word(space: Space, sub: bool) -> &'static [u8] {
    match (space, sub) {
        (Space::Channel, true) => b"subscribe",
        (Space::Channel, false) => b"unsubscribe",
        (Space::Pattern, true) => b"psubscribe",
        (Space::Pattern, false) => b"punsubscribe",
        (Space::Shard, true) => b"ssubscribe",
        (Space::Shard, false) => b"sunsubscribe",
    }
}

fn confirm(out: &mut Out, space: Space, sub: bool, name: Option<&[u8]>, count: i64) {
    out.push(3);
    out.bulk(kind_word(space, sub));
    out.bulk_or_null(name);
    out.int(count);
}

fn do_subscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out, space: Space) -> ConnResult {
    for name in &args[1..] {
        let list = list_of(st, ci, space);
        if !list.iter().any(|n| n.as_slice() == *name) {
            list.push(name.to_vec());
            st.pubsub.add(space, name, ci);
        }
        let n = count_for(st, ci, space);
        confirm(out, space, true, Some(name), n);
    }
    ConnResult::Done
}

fn do_unsubscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out, space: Space) -> ConnResult {
    let names: Vec<Vec<u8>> =
        if args.len() > 1 { args[1..].iter().map(|a| a.to_vec()).collect() } else { list_of(st, ci, space).clone() };
    if names.is_empty() {
        let n = count_for(st, ci, space);
        confirm(out, space, false, None, n);
        return ConnResult::Done;
    }
    for name in names {
        list_of(st, ci, space).retain(|n| *n != name);
        st.pubsub.remove(space, &name, ci);
        let n = count_for(st, ci, space);
        confirm(out, space, false, Some(&name), n);
    }
    ConnResult::Done
}

/// Drops every subscription of a client (RESET, disconnect).
pub fn forget_client(st: &mut ShardState, ci: usize) {
    for space in [Space::Channel, Space::Pattern, Space::Shard] {
        if st.clients.get(ci).is_none() {
            return;
        }
        let names = std::mem::take(list_of(st, ci, space));
        for n in names {
            st.pubsub.remove(space, &n, ci);
        }
    }
}

fn subscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    do_subscribe(st, ci, args, out, Space::Channel)
}
fn unsubscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    do_unsubscribe(st, ci, args, out, Space::Channel)
}
fn psubscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    do_subscribe(st, ci, args, out, Space::Pattern)
}
fn punsubscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    do_unsubscribe(st, ci, args, out, Space::Pattern)
}

/// Cluster mode: shard channels hash to slots like keys (CROSSSLOT, MOVED).
fn shard_channel_check(st: &ShardState, args: &[&[u8]], out: &mut Out, name: &[u8]) -> bool {
    if !st.cluster.enabled || args.len() < 2 {
        return true;
    }
    let Some(spec) = crate::command::table::lookup(name) else { return true };
    if let Placement::Error(e) = place(st, spec, args, false) {
        out.error(&e);
        return false;
    }
    true
}

fn ssubscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !shard_channel_check(st, args, out, b"ssubscribe") {
        return ConnResult::Done;
    }
    do_subscribe(st, ci, args, out, Space::Shard)
}
fn sunsubscribe(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !shard_channel_check(st, args, out, b"sunsubscribe") {
        return ConnResult::Done;
    }
    do_unsubscribe(st, ci, args, out, Space::Shard)
}

pub(crate) fn deliver_here(st: &mut ShardState, shard: bool, channel: &[u8], payload: &[u8]) -> usize {
    let clients = &st.clients;
    st.pubsub.deliver(shard, channel, payload, |ci| clients.get(ci).is_some_and(|c| c.resp3))
}

fn do_publish(st: &mut ShardState, args: &[&[u8]], out: &mut Out, shard: bool) -> ConnResult {
    if st.cluster.enabled {
        // Other nodes' subscribers hear it through the cluster bus (shard 0 owns it).
        let message = crate::store::memory::Carried::pack(|| (args[1].to_vec(), args[2].to_vec()));
        st.handle.post(0, false, move |s: &mut ShardState| {
            let (channel, payload) = message.unpack();
            let now = crate::shard::unix_ms();
            if let Some(bus) = s.cluster_state.as_deref_mut() {
                let actions = bus.publish(now, &channel, &payload, shard);
                s.bus_actions.extend(actions);
            }
        });
    }
    if st.nshards == 1 {
        let n = deliver_here(st, shard, args[1], args[2]);
        out.int(n as i64);
        return ConnResult::Done;
    }
    let (channel, payload) = (args[1].to_vec(), args[2].to_vec());
    let h = st.handle.clone();
    ConnResult::Later(
        async move {
            let counts = h.call_all(None, move |s: &mut ShardState| deliver_here(s, shard, &channel, &payload)).await;
            let mut buf = Vec::new();
            Out::new(&mut buf, false).int(counts.iter().sum::<usize>() as i64);
            buf
        }
        .boxed_local(),
    )
}

fn publish(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    do_publish(st, args, out, false)
}
fn spublish(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !shard_channel_check(st, args, out, b"spublish") {
        return ConnResult::Done;
    }
    do_publish(st, args, out, true)
}

/// Channel names with subscribers on every shard, merged (PUBSUB CHANNELS / SHARDCHANNELS).
fn list_names(st: &mut ShardState, ci: usize, args: &[&[u8]], space: Space) -> ConnResult {
    let pattern = args.get(2).map(|p| p.to_vec());
    let resp3 = st.clients[ci].resp3;
    let h = st.handle.clone();
    ConnResult::Later(
        async move {
            let parts = h
                .call_all(None, move |s: &mut ShardState| s.pubsub.map(space).keys().cloned().collect::<Vec<_>>())
                .await;
            let mut names: Vec<Vec<u8>> = parts.into_iter().flatten().collect();
            names.sort();
            names.dedup();
            names.retain(|n| pattern.as_ref().is_none_or(|p| glob_match(p, n, false)));
            let mut buf = Vec::new();
            let mut o = Out::new(&mut buf, resp3);
            o.array(names.len());
            for n in &names {
                o.bulk(n);
            }
            buf
        }
        .boxed_local(),
    )
}

fn count_subs(st: &mut ShardState, ci: usize, args: &[&[u8]], space: Space) -> ConnResult {
    let names: Vec<Vec<u8>> = args[2..].iter().map(|a| a.to_vec()).collect();
    let resp3 = st.clients[ci].resp3;
    let h = st.handle.clone();
    ConnResult::Later(
        async move {
            let asked = names.clone();
            let parts = h
                .call_all(None, move |s: &mut ShardState| {
                    let m = s.pubsub.map(space);
                    asked.iter().map(|n| m.get(n).map_or(0, |v| v.len())).collect::<Vec<usize>>()
                })
                .await;
            let mut buf = Vec::new();
            let mut o = Out::new(&mut buf, resp3);
            // A flat array in RESP3 too, as Redis 7.0 replies.
            o.array(names.len() * 2);
            for (i, n) in names.iter().enumerate() {
                o.bulk(n);
                o.int(parts.iter().map(|p| p[i]).sum::<usize>() as i64);
            }
            buf
        }
        .boxed_local(),
    )
}

fn channels(st: &mut ShardState, ci: usize, args: &[&[u8]], _out: &mut Out) -> ConnResult {
    list_names(st, ci, args, Space::Channel)
}
fn shardchannels(st: &mut ShardState, ci: usize, args: &[&[u8]], _out: &mut Out) -> ConnResult {
    list_names(st, ci, args, Space::Shard)
}
fn numsub(st: &mut ShardState, ci: usize, args: &[&[u8]], _out: &mut Out) -> ConnResult {
    count_subs(st, ci, args, Space::Channel)
}
fn shardnumsub(st: &mut ShardState, ci: usize, args: &[&[u8]], _out: &mut Out) -> ConnResult {
    count_subs(st, ci, args, Space::Shard)
}

fn numpat(st: &mut ShardState, _ci: usize, _args: &[&[u8]], _out: &mut Out) -> ConnResult {
    let h = st.handle.clone();
    ConnResult::Later(
        async move {
            let parts =
                h.call_all(None, |s: &mut ShardState| s.pubsub.patterns.keys().cloned().collect::<Vec<_>>()).await;
            let mut all: Vec<Vec<u8>> = parts.into_iter().flatten().collect();
            all.sort();
            all.dedup();
            let mut buf = Vec::new();
            Out::new(&mut buf, false).int(all.len() as i64);
            buf
        }
        .boxed_local(),
    )
}

fn help(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    const LINES: &[&str] = &[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    out.array(LINES.len());
    for l in LINES {
        out.simple(l);
    }
    ConnResult::Done
}

/// The RESP2 reply to PING while subscribed: `["pong", msg]`.
pub fn subscribed_ping(out: &mut Out, msg: Option<&[u8]>) {
    out.raw(&encode(false, &[b"pong", msg.unwrap_or(b"")]));
}
