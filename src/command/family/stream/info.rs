//! XINFO STREAM [FULL [COUNT n]] | GROUPS | CONSUMERS, and the HELP texts of XINFO and XGROUP.
//! Field names, their order and the RESP2/RESP3 shapes are Redis 7.0.15's.

use super::{nogroup_for_key, now_ms, read_stream, subcommand_syntax_error, word_is, write_entry, write_id};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::resp::Out;
use crate::store::types::stream::{ConsumerGroup, StreamId, StreamValue, INVALID_ENTRIES_READ};

fn help(out: &mut Out, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

/// XGROUP HELP
pub(super) fn xgroup_help(_ctx: &mut DataCtx, _args: &[&[u8]], out: &mut Out) {
    help(
        out,
        &[
            "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
            "HELP",
            "    Prints this help.",
        ],
    );
}

/// XINFO HELP
pub(super) fn xinfo_help(_ctx: &mut DataCtx, _args: &[&[u8]], out: &mut Out) {
    help(
        out,
        &[
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
            "HELP",
            "    Prints this help.",
        ],
    );
}

/// XINFO STREAM|GROUPS|CONSUMERS key ...
pub(super) fn xinfo(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[2];
    let now = now_ms(ctx);
    let s = match read_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => return out.error(super::ERR_NO_SUCH_KEY),
        Ok(Some(s)) => &*s,
    };
    let sub = args[1];
    if word_is(sub, "consumers") {
        let Some(g) = s.group(args[3]) else {
            return out.error(&nogroup_for_key(key, args[3]));
        };
        out.array(g.consumers().len());
        for (name, c) in g.consumers() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pending().len() as i64);
            out.bulk(b"idle");
            out.int(now.wrapping_sub(c.seen_time_ms).max(0));
        }
    } else if word_is(sub, "groups") {
        out.array(s.groups().len());
        for (name, g) in s.groups() {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers().len() as i64);
            out.bulk(b"pending");
            out.int(g.pel().len() as i64);
            out.bulk(b"last-delivered-id");
            write_id(out, g.last_id);
            write_read_counters(out, s, g);
        }
    } else {
        stream_info(s, args, out);
    }
}

/// `entries-read` and `lag` of a group (null when unknown).
fn write_read_counters(out: &mut Out, s: &StreamValue, g: &ConsumerGroup) {
    out.bulk(b"entries-read");
    if g.entries_read != INVALID_ENTRIES_READ {
        out.int(g.entries_read);
    } else {
        out.null();
    }
    out.bulk(b"lag");
    match s.group_lag(g) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

/// XINFO STREAM key [FULL [COUNT count]]
fn stream_info(s: &StreamValue, args: &[&[u8]], out: &mut Out) {
    let opts = &args[3..];
    let full = !opts.is_empty();
    let mut count: i64 = 10;
    if full {
        if (opts.len() != 1 && opts.len() != 3) || !word_is(opts[0], "full") {
            return out.error(&subcommand_syntax_error(args));
        }
        if opts.len() == 3 {
            if !word_is(opts[1], "count") {
                return out.error(&subcommand_syntax_error(args));
            }
            match parse_i64(opts[2]) {
                Ok(n) => count = if n < 0 { 10 } else { n },
                Err(e) => return out.error(e),
            }
        }
    }
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_node_count() as i64);
    out.bulk(b"last-generated-id");
    write_id(out, s.last_id());
    out.bulk(b"max-deleted-entry-id");
    write_id(out, s.max_deleted_entry_id());
    out.bulk(b"entries-added");
    out.int(s.entries_added() as i64);
    out.bulk(b"recorded-first-entry-id");
    write_id(out, s.first_id());
    if !full {
        out.bulk(b"groups");
        out.int(s.groups().len() as i64);
        out.bulk(b"first-entry");
        match s.entries().next() {
            Some(e) => write_entry(out, &e),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match s.range(StreamId::MIN, StreamId::MAX, true).next() {
            Some(e) => write_entry(out, &e),
            None => out.null(),
        }
        return;
    }
    // COUNT 0 means everything.
    let limit = if count == 0 { usize::MAX } else { count as usize };
    out.bulk(b"entries");
    let entries: Vec<_> = s.entries().take(limit).collect();
    out.array(entries.len());
    for e in &entries {
        write_entry(out, e);
    }
    out.bulk(b"groups");
    out.array(s.groups().len());
    for (name, g) in s.groups() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        write_id(out, g.last_id);
        write_read_counters(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel().len() as i64);
        out.bulk(b"pending");
        let pel: Vec<_> = g.pel().iter().take(limit).collect();
        out.array(pel.len());
        for (&id, p) in pel {
            out.array(4);
            write_id(out, id);
            out.bulk(&p.consumer);
            out.int(p.delivery_time_ms);
            out.int(p.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers().len());
        for (cname, c) in g.consumers() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time_ms);
            out.bulk(b"pel-count");
            out.int(c.pending().len() as i64);
            out.bulk(b"pending");
            let own: Vec<_> = c.pending().iter().take(limit).collect();
            out.array(own.len());
            for &id in own {
                out.array(3);
                write_id(out, id);
                let (t, n) = g.pel().get(&id).map_or((0, 0), |p| (p.delivery_time_ms, p.delivery_count));
                out.int(t);
                out.int(n as i64);
            }
        }
    }
}
