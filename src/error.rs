//! Redis-style error replies. Clients match on these prefixes and often on the whole text, so
//! every text here is copied from Redis 7.0's behaviour and kept in one place.

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
/// A write that may grow memory while used memory is over `maxmemory` and nothing more can be evicted.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '%s' command";
pub const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";
pub const CLUSTERDOWN_UNBOUND: &str = "CLUSTERDOWN Hash slot not served";
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const SELECT_CLUSTER: &str = "ERR SELECT is not allowed in cluster mode";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";

/// `ERR wrong number of arguments for 'name' command`, with the name as the client sent it
/// lower-cased, as Redis 7 prints it.
pub fn wrong_arity(name: &[u8]) -> String {
    format!("ERR wrong number of arguments for '{}' command", String::from_utf8_lossy(name).to_lowercase())
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' ` exactly as Redis 7.0 (the
/// argument list is truncated to 128 bytes in all, each arg included whole or not at all).
pub fn unknown_command(args: &[&[u8]]) -> String {
    let mut s = String::new();
    for a in args.iter().skip(1) {
        let piece = format!("'{}' ", sanitize(a, 128));
        if s.len() + piece.len() > 128 {
            break;
        }
        s.push_str(&piece);
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        sanitize(args.first().copied().unwrap_or(b""), 128),
        s
    )
}

/// The exact bytes Redis 7.0 replies to an unknown command (without the leading `-`):
/// arguments are added while the list is under 128 bytes, each cut to what is left of the
/// budget and at its first NUL (C's `%.*s`), bytes passed through as they are.
pub fn unknown_command_bytes(args: &[&[u8]]) -> Vec<u8> {
    fn c_str(b: &[u8], max: usize) -> &[u8] {
        let b = &b[..b.len().min(max)];
        b.iter().position(|&c| c == 0).map_or(b, |nul| &b[..nul])
    }
    let mut list = Vec::new();
    for a in args.iter().skip(1) {
        if list.len() >= 128 {
            break;
        }
        let budget = 128 - list.len();
        list.push(b'\'');
        list.extend_from_slice(c_str(a, budget));
        list.extend_from_slice(b"' ");
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(c_str(args.first().copied().unwrap_or(b""), 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&list);
    msg
}

/// `ERR unknown subcommand 'x'. Try CMD HELP.`
pub fn unknown_subcommand(cmd: &str, sub: &[u8]) -> String {
    format!("ERR unknown subcommand '{}'. Try {} HELP.", sanitize(sub, 128), cmd.to_uppercase())
}

pub fn invalid_expire(cmd: &str) -> String {
    INVALID_EXPIRE.replace("%s", &cmd.to_lowercase())
}

pub fn moved(slot: u16, addr: &str) -> String {
    format!("MOVED {slot} {addr}")
}

/// Redis prints client-supplied bytes in errors with non-printable bytes replaced by spaces
/// and truncated.
pub fn sanitize(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    cut.iter().map(|&c| if (32..127).contains(&c) { c as char } else { ' ' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_cuts_like_redis() {
        let long = vec![b'a'; 200];
        let msg = unknown_command_bytes(&[b"FOO", &long, b"b"]);
        let want = format!("ERR unknown command 'FOO', with args beginning with: '{}' ", "a".repeat(128));
        assert_eq!(msg, want.as_bytes());
        let msg = unknown_command_bytes(&[b"x\0y", b"a\0b", b"\xff"]);
        assert_eq!(msg, b"ERR unknown command 'x', with args beginning with: 'a' '\xff' ");
    }
}
