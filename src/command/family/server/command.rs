//! COMMAND and its subcommands, read straight from the command table (`command::table`), in
//! Redis 7.0's reply shapes: COMMAND INFO's 10-element entries with flag and category sets
//! and key specs, COMMAND DOCS's maps, COMMAND LIST's filters, COMMAND GETKEYS.
//!
//! Key specs are derived from the legacy first/last/step of each spec (one range spec per
//! command), with access flags derived from the command's WRITE/READONLY flags: the table has
//! no per-key flags yet, so commands whose keys Redis describes with several specs (RENAME,
//! LCS ...) show one range spec here.

use crate::command::args::eq_ic;
use crate::command::spec::{flag, spec, CommandSpec, ConnResult, Exec, Split};
use crate::command::table;
use crate::error;
use crate::resp::Out;
use crate::shard::ShardState;

use super::fanout::help;

const LS: u32 = flag::LOADING | flag::STALE;
const ACL: &[&str] = &["@slow", "@connection"];
const NONE: (i32, i32, i32) = (0, 0, 0);

const fn sub(
    name: &'static str,
    arity: i32,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    f: crate::command::spec::ConnFn,
) -> CommandSpec {
    CommandSpec { complexity, ..spec(name, arity, LS, NONE, ACL, "server", since, summary, Exec::Conn(f), Split::None) }
}

const ON_ARGS: &str = "O(N) where N is the number of arguments to the command";

/// COMMAND without a subcommand lists everything; with one, the subcommand runs. The table
/// resolves subcommands only for `Exec::Container`, so COMMAND dispatches itself.
pub const COMMAND: CommandSpec = CommandSpec {
    complexity: "O(N) where N is the total number of Redis commands",
    subcommands: &[
        sub("command|count", 2, "2.8.13", "Get total number of Redis commands", "O(1)", count),
        sub(
            "command|docs",
            -2,
            "7.0.0",
            "Get array of specific Redis command documentation",
            "O(N) where N is the number of commands to look up",
            docs,
        ),
        sub("command|getkeys", -4, "2.8.13", "Extract keys given a full Redis command", ON_ARGS, getkeys),
        sub(
            "command|getkeysandflags",
            -4,
            "7.0.0",
            "Extract keys and access flags given a full Redis command",
            ON_ARGS,
            getkeysandflags,
        ),
        sub("command|help", 2, "5.0.0", "Show helpful text about the different subcommands", "O(1)", command_help),
        sub(
            "command|info",
            -2,
            "2.8.13",
            "Get array of specific Redis command details, or all when no argument is given.",
            "O(N) where N is the number of commands to look up",
            info,
        ),
        sub(
            "command|list",
            -2,
            "7.0.0",
            "Get an array of Redis command names",
            "O(N) where N is the total number of Redis commands",
            list,
        ),
    ],
    ..spec(
        "command",
        -1,
        LS,
        NONE,
        ACL,
        "server",
        "2.8.13",
        "Get array of Redis command details",
        Exec::Conn(command),
        Split::None,
    )
};

/// COMMAND [subcommand ...]: the bare form lists every command; a subcommand is resolved here
/// with Redis's errors, since COMMAND alone is a valid call.
fn command(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if args.len() == 1 {
        let all: Vec<&CommandSpec> = table::all().collect();
        out.array(all.len());
        for c in all {
            write_info(out, c);
        }
        return ConnResult::Done;
    }
    let Some(sub) = table::lookup(args[0]).and_then(|parent| table::lookup_sub(parent, args[1])) else {
        out.error(&error::unknown_subcommand("command", args[1]));
        return ConnResult::Done;
    };
    if !sub.arity_ok(args.len()) {
        out.error(&error::wrong_arity(sub.name.as_bytes()));
        return ConnResult::Done;
    }
    match sub.exec {
        Exec::Conn(f) => f(st, ci, args, out),
        _ => {
            out.error("ERR internal: COMMAND subcommand without a function");
            ConnResult::Done
        }
    }
}

/// The flags `COMMAND INFO` shows: Redis hides may_replicate, sentinel and protected.
pub(crate) fn visible_flags(c: &CommandSpec) -> Vec<&'static str> {
    let hidden = flag::MAY_REPLICATE | flag::SENTINEL | flag::PROTECTED;
    flag::NAMES.iter().filter(|(bit, _)| c.flags & bit & !hidden != 0).map(|&(_, n)| n).collect()
}

/// Access flags of a key argument, derived from the command's flags (see the module header).
pub(crate) fn key_flags(c: &CommandSpec) -> &'static [&'static str] {
    if c.has(flag::WRITE) {
        &["RW", "update"]
    } else {
        &["RO", "access"]
    }
}

fn has_keys(c: &CommandSpec) -> bool {
    c.first_key > 0 || c.has(flag::MOVABLEKEYS)
}

fn write_category(out: &mut Out, cat: &str) {
    out.simple(&format!("@{}", cat.trim_start_matches('@')));
}

/// One `COMMAND INFO` entry, as Redis 7.0's `addReplyCommandInfo`.
pub(crate) fn write_info(out: &mut Out, c: &CommandSpec) {
    out.array(10);
    out.bulk(c.name.as_bytes());
    out.int(c.arity as i64);
    let flags = visible_flags(c);
    out.set(flags.len());
    for f in flags {
        out.simple(f);
    }
    out.int(c.first_key as i64);
    out.int(c.last_key as i64);
    out.int(c.step as i64);
    out.set(c.acl.len());
    for cat in c.acl {
        write_category(out, cat);
    }
    // Tips (request/response policies, nondeterminism): not in the table yet.
    out.set(0);
    if c.first_key > 0 {
        out.set(1);
        write_key_spec(out, c);
    } else {
        out.set(0);
    }
    if c.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(c.subcommands.len());
        for s in c.subcommands {
            write_info(out, s);
        }
    }
}

fn write_key_spec(out: &mut Out, c: &CommandSpec) {
    let lastkey = if c.last_key < 0 { c.last_key } else { c.last_key - c.first_key };
    out.map(3);
    out.bulk(b"flags");
    let kf = key_flags(c);
    out.set(kf.len());
    for f in kf {
        out.simple(f);
    }
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"index");
    out.bulk(b"spec");
    out.map(1);
    out.bulk(b"index");
    out.int(c.first_key as i64);
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"range");
    out.bulk(b"spec");
    out.map(3);
    out.bulk(b"lastkey");
    out.int(lastkey as i64);
    out.bulk(b"keystep");
    out.int(c.step as i64);
    out.bulk(b"limit");
    out.int(0);
}

/// One `COMMAND DOCS` value, as Redis 7.0's `addReplyCommandDocs` (no argument docs yet).
pub(crate) fn write_docs(out: &mut Out, c: &CommandSpec) {
    let fields = 1
        + !c.summary.is_empty() as usize
        + !c.since.is_empty() as usize
        + !c.complexity.is_empty() as usize
        + !c.subcommands.is_empty() as usize;
    out.map(fields);
    if !c.summary.is_empty() {
        out.bulk(b"summary");
        out.bulk(c.summary.as_bytes());
    }
    if !c.since.is_empty() {
        out.bulk(b"since");
        out.bulk(c.since.as_bytes());
    }
    out.bulk(b"group");
    out.bulk(c.group.as_bytes());
    if !c.complexity.is_empty() {
        out.bulk(b"complexity");
        out.bulk(c.complexity.as_bytes());
    }
    if !c.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(c.subcommands.len());
        for s in c.subcommands {
            out.bulk(s.name.as_bytes());
            write_docs(out, s);
        }
    }
}

/// Redis's `lookupCommandBySds`: `name` or `container|sub`.
pub(crate) fn lookup_full_name(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut parts = name.split(|&b| b == b'|');
    let base = table::lookup(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) if !base.subcommands.is_empty() => table::lookup_sub(base, sub),
        _ => None,
    }
}

fn count(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.int(table::count() as i64);
    ConnResult::Done
}

fn info(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if args.len() == 2 {
        return command(st, ci, &args[..1], out);
    }
    out.array(args.len() - 2);
    for name in &args[2..] {
        match lookup_full_name(name) {
            Some(c) => write_info(out, c),
            None => out.null(),
        }
    }
    ConnResult::Done
}

fn docs(_st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let found: Vec<&CommandSpec> = if args.len() == 2 {
        table::all().collect()
    } else {
        args[2..].iter().filter_map(|n| lookup_full_name(n)).collect()
    };
    out.map(found.len());
    for c in found {
        out.bulk(c.name.as_bytes());
        write_docs(out, c);
    }
    ConnResult::Done
}

enum ListFilter<'a> {
    All,
    Module,
    AclCat(&'a [u8]),
    Pattern(&'a [u8]),
}

impl ListFilter<'_> {
    fn keeps(&self, c: &CommandSpec) -> bool {
        match self {
            ListFilter::All => true,
            // No modules: no command belongs to one.
            ListFilter::Module => false,
            ListFilter::AclCat(cat) => c.acl.iter().any(|a| eq_ic(cat, a.trim_start_matches('@'))),
            ListFilter::Pattern(p) => crate::glob::glob_match(p, c.name.as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN glob]: names, subcommands too.
fn list(_st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let filter = match args.len() {
        2 => ListFilter::All,
        5 if eq_ic(args[2], "filterby") => {
            if eq_ic(args[3], "module") {
                ListFilter::Module
            } else if eq_ic(args[3], "aclcat") {
                ListFilter::AclCat(args[4])
            } else if eq_ic(args[3], "pattern") {
                ListFilter::Pattern(args[4])
            } else {
                out.error(error::SYNTAX);
                return ConnResult::Done;
            }
        }
        _ => {
            out.error(error::SYNTAX);
            return ConnResult::Done;
        }
    };
    let mut names: Vec<&str> = Vec::new();
    for c in table::all() {
        if filter.keeps(c) {
            names.push(c.name);
        }
        names.extend(c.subcommands.iter().filter(|s| filter.keeps(s)).map(|s| s.name));
    }
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
    ConnResult::Done
}

/// The spec governing a full command line, as Redis's `lookupCommand` (a container's
/// subcommand when there is one).
fn resolve_line(argv: &[&[u8]]) -> Option<&'static CommandSpec> {
    let base = table::lookup(argv.first()?)?;
    if argv.len() == 1 || base.subcommands.is_empty() {
        return Some(base);
    }
    table::lookup_sub(base, argv[1])
}

/// Key positions of `argv` (a full command), or the error Redis gives.
pub(crate) fn keys_of(argv: &[&[u8]]) -> Result<(Vec<usize>, &'static CommandSpec), &'static str> {
    let Some(c) = resolve_line(argv) else {
        return Err("ERR Invalid command specified");
    };
    if !has_keys(c) {
        return Err("ERR The command has no key arguments");
    }
    if !c.arity_ok(argv.len()) {
        return Err("ERR Invalid number of arguments specified for command");
    }
    let mut idx = smallvec::SmallVec::new();
    c.key_indexes_of(argv, &mut idx);
    if idx.is_empty() && !c.has(flag::NO_MANDATORY_KEYS) {
        return Err("ERR Invalid arguments specified for command");
    }
    Ok((idx.into_vec(), c))
}

fn getkeys_impl(args: &[&[u8]], out: &mut Out, with_flags: bool) -> ConnResult {
    let argv = &args[2..];
    match keys_of(argv) {
        Err(e) => out.error(e),
        Ok((idx, c)) => {
            out.array(idx.len());
            for i in idx {
                let key = argv.get(i).copied().unwrap_or_default();
                if with_flags {
                    out.array(2);
                    out.bulk(key);
                    let kf = key_flags(c);
                    out.set(kf.len());
                    for f in kf {
                        out.simple(f);
                    }
                } else {
                    out.bulk(key);
                }
            }
        }
    }
    ConnResult::Done
}

fn getkeys(_st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    getkeys_impl(args, out, false)
}

fn getkeysandflags(_st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    getkeys_impl(args, out, true)
}

fn command_help(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    help(
        out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    ConnResult::Done
}
