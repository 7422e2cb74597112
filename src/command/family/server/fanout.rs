//! Helpers shared by the server and connection commands: running a closure on every shard
//! and answering with the merged result, and Redis's `HELP` reply shape.
//!
//! A fan-out never blocks the calling shard: with one shard it runs inline, otherwise the
//! reply comes from a future that waits for every shard's answer through the mesh.

use futures::FutureExt;

use crate::command::spec::ConnResult;
use crate::resp::Out;
use crate::shard::ShardState;

/// Runs `part` on every shard (this one included) and `finish` on the results in shard order.
/// A one-shard node answers inline; otherwise the reply is written when all shards answered.
pub(crate) fn fan_out<R, F, G>(st: &mut ShardState, out: &mut Out, part: F, finish: G) -> ConnResult
where
    R: Send + 'static,
    F: Fn(&mut ShardState) -> R + Send + Clone + 'static,
    G: FnOnce(Vec<R>, &mut Out) + 'static,
{
    if st.nshards == 1 {
        let r = part(st);
        finish(vec![r], out);
        return ConnResult::Done;
    }
    let resp3 = out.resp3;
    let h = st.handle.clone();
    ConnResult::Later(
        async move {
            let parts = h.call_all(None, part).await;
            let mut buf = Vec::new();
            finish(parts, &mut Out::new(&mut buf, resp3));
            buf
        }
        .boxed_local(),
    )
}

/// Runs `f` on shard `dest` and writes its reply; inline when `dest` is this shard.
pub(crate) fn on_shard<F>(st: &mut ShardState, out: &mut Out, dest: usize, f: F) -> ConnResult
where
    F: FnOnce(&mut ShardState, &mut Out) + Send + 'static,
{
    if dest == st.id {
        f(st, out);
        return ConnResult::Done;
    }
    let resp3 = out.resp3;
    let h = st.handle.clone();
    ConnResult::Later(
        async move {
            h.call(dest, None, move |s: &mut ShardState| {
                let mut buf = Vec::new();
                f(s, &mut Out::new(&mut buf, resp3));
                buf
            })
            .await
        }
        .boxed_local(),
    )
}

/// Redis's `addReplyHelp`: a first line naming the command, the given lines, then HELP, all as
/// status replies.
pub(crate) fn help(out: &mut Out, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// `ERR unknown subcommand or wrong number of arguments for 'x'. Try CMD HELP.` as Redis's
/// `addReplySubcommandSyntaxError`.
pub(crate) fn subcommand_syntax_error(out: &mut Out, args: &[&[u8]]) {
    let cmd = args.first().map(|c| String::from_utf8_lossy(c).to_uppercase()).unwrap_or_default();
    let sub = args.get(1).map(|s| String::from_utf8_lossy(&s[..s.len().min(128)]).into_owned()).unwrap_or_default();
    out.error(&format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP."));
}
