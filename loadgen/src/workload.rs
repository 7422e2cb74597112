//! Workloads: command templates with `__key__`, `__value__` and `__int__` placeholders, the
//! built-in workloads expressed as templates, the TOML workload file, and the per-thread
//! generator that draws requests and encodes them into a connection's write buffer.
//!
//! Encoding is allocation-free: literal arguments are pre-encoded at setup and placeholders
//! are written straight into the caller's buffer. A request is a small `Copy` value holding
//! everything needed to encode it again, so redirects can resend it.

use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::Rng;
use serde::Deserialize;

use crate::keyspace::{KeyFormat, KeyPicker};
use crate::resp;
use crate::verify::{self, VerifyState};

/// Largest `--value-size` we accept; bigger values belong in a different tool.
pub const MAX_VALUE_SIZE_BYTES: usize = 64 << 20;

/// Bytes of the send timestamp at the start of every `PUBLISH` payload (16 hex digits).
pub const PUBSUB_STAMP_BYTES: usize = 16;

const KEY: &str = "__key__";
const VALUE: &str = "__value__";
const INT: &str = "__int__";

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(Vec<u8>),
    Key,
    Value,
    Int,
}

#[derive(Debug, Clone)]
struct Arg {
    parts: Vec<Part>,
    /// The complete `$len\r\n...\r\n` when the argument is a plain literal.
    encoded: Option<Vec<u8>>,
}

/// What a command's reply means to the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Plain,
    /// `PUBLISH`: the value carries a send timestamp for delivery latency.
    Publish,
    /// `--verify` write of a value derived from key and sequence number.
    VerifySet,
    /// `--verify` read compared against the last acknowledged write.
    VerifyGet,
}

#[derive(Debug, Clone)]
pub struct CommandSpec {
    /// Name in reports: the command word in upper case unless the workload file names it.
    pub name: String,
    pub kind: CommandKind,
    args: Vec<Arg>,
    weight: u64,
    int_max: u64,
}

/// Value sizes: fixed (`min == max`) or uniform in a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSize {
    pub min_bytes: usize,
    pub max_bytes: usize,
}

impl std::str::FromStr for ValueSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parse = |t: &str| t.trim().parse::<usize>().map_err(|e| format!("bad value size {t:?}: {e}"));
        let (min_bytes, max_bytes) = match s.split_once('-') {
            Some((a, b)) => (parse(a)?, parse(b)?),
            None => (parse(s)?, parse(s)?),
        };
        if min_bytes > max_bytes || max_bytes > MAX_VALUE_SIZE_BYTES {
            return Err(format!("value size range {s:?} must be MIN-MAX with MIN <= MAX <= {MAX_VALUE_SIZE_BYTES}"));
        }
        Ok(ValueSize { min_bytes, max_bytes })
    }
}

/// One in-flight or queued request. Small and `Copy`: it is re-encoded on a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Nanoseconds since the run's base instant when the latency clock starts: the intended
    /// send time in open loop, the actual one in closed loop.
    pub start_ns: u64,
    pub key: u64,
    pub int: u64,
    /// Value length, or the sequence number for a verify write/read.
    pub aux: u32,
    pub slot: u16,
    /// Index into `Workload::commands`, or `ASKING_COMMAND`.
    pub command: u16,
    pub attempts: u8,
    pub flags: u8,
}

/// `command` value of the internal `ASKING` that precedes a request sent after `-ASK`.
pub const ASKING_COMMAND: u16 = u16::MAX;
/// Issued during warm-up: completes normally but is left out of the statistics.
pub const FLAG_WARMUP: u8 = 1;
/// Part of the final `--verify` read-back pass.
pub const FLAG_READBACK: u8 = 2;

impl Request {
    pub fn asking() -> Request {
        Request { start_ns: 0, key: 0, int: 0, aux: 0, slot: 0, command: ASKING_COMMAND, attempts: 0, flags: 0 }
    }
}

/// Verify mode's read/write mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub set: u64,
    pub get: u64,
}

impl std::str::FromStr for Ratio {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once(':').ok_or_else(|| format!("ratio {s:?} must look like SET:GET, e.g. 1:10"))?;
        let parse = |t: &str| t.trim().parse::<u64>().map_err(|e| format!("bad ratio part {t:?}: {e}"));
        let ratio = Ratio { set: parse(a)?, get: parse(b)? };
        if ratio.set + ratio.get == 0 {
            return Err("ratio must not be 0:0".into());
        }
        Ok(ratio)
    }
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub commands: Vec<CommandSpec>,
    /// Running sum of weights for the weighted draw.
    cumulative: Vec<u64>,
    pub key_format: KeyFormat,
    pub value_size: ValueSize,
    /// Present in `--verify` mode: the set/get mix for keys that already hold a value.
    pub verify_ratio: Option<Ratio>,
    /// `pubsub` workload: the driver also runs subscribers.
    pub pubsub: bool,
    filler: Vec<u8>,
}

/// The workload file: `[[command]]` tables with a `template` and an optional `weight`,
/// `name` and `int_max`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadFile {
    #[serde(default)]
    int_max: Option<u64>,
    command: Vec<FileCommand>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCommand {
    template: Template,
    #[serde(default)]
    name: Option<String>,
    #[serde(default = "default_weight")]
    weight: u64,
    #[serde(default)]
    int_max: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Template {
    Line(String),
    Words(Vec<String>),
}

fn default_weight() -> u64 {
    1
}

const DEFAULT_INT_MAX: u64 = 1_000_000;

/// Names accepted by `--workload`.
pub const BUILTIN_WORKLOADS: &[&str] =
    &["set", "get", "incr", "mixed", "hset", "hget", "lpush", "lpop", "zadd", "zrangebyscore", "pubsub"];

impl Workload {
    /// A built-in workload. `ratio` applies to `mixed` (and to `--verify`).
    pub fn builtin(
        name: &str,
        ratio: Ratio,
        key_format: KeyFormat,
        value_size: ValueSize,
        verify: bool,
    ) -> Result<Workload, String> {
        if verify {
            let mix = match name {
                "set" => Ratio { set: 1, get: 0 },
                "get" => Ratio { set: 0, get: 1 },
                "mixed" => ratio,
                other => return Err(format!("--verify works with the set, get and mixed workloads, not {other:?}")),
            };
            let commands = vec![
                spec("SET __key__ __value__", 1, CommandKind::VerifySet, DEFAULT_INT_MAX)?,
                spec("GET __key__", 1, CommandKind::VerifyGet, DEFAULT_INT_MAX)?,
            ];
            let mut w = Workload::new(commands, key_format, value_size)?;
            w.verify_ratio = Some(mix);
            return Ok(w);
        }
        let plain = |t: &str, int_max: u64| spec(t, 1, CommandKind::Plain, int_max);
        let commands = match name {
            "set" => vec![plain("SET __key__ __value__", DEFAULT_INT_MAX)?],
            "get" => vec![plain("GET __key__", DEFAULT_INT_MAX)?],
            "incr" => vec![plain("INCR __key__", DEFAULT_INT_MAX)?],
            "mixed" => {
                let mut set = plain("SET __key__ __value__", DEFAULT_INT_MAX)?;
                let mut get = plain("GET __key__", DEFAULT_INT_MAX)?;
                set.weight = ratio.set;
                get.weight = ratio.get;
                vec![set, get]
            }
            // Fields and members come from a small range so hashes and sorted sets stay
            // bounded however long the run is.
            "hset" => vec![plain("HSET __key__ f:__int__ __value__", 100)?],
            "hget" => vec![plain("HGET __key__ f:__int__", 100)?],
            "lpush" => vec![plain("LPUSH __key__ __value__", DEFAULT_INT_MAX)?],
            "lpop" => vec![plain("LPOP __key__", DEFAULT_INT_MAX)?],
            "zadd" => vec![plain("ZADD __key__ __int__ m:__int__", 1000)?],
            "zrangebyscore" => vec![plain("ZRANGEBYSCORE __key__ __int__ +inf LIMIT 0 10", 1000)?],
            "pubsub" => vec![spec("PUBLISH __key__ __value__", 1, CommandKind::Publish, DEFAULT_INT_MAX)?],
            other => return Err(format!("unknown workload {other:?}; choose one of {}", BUILTIN_WORKLOADS.join(", "))),
        };
        let mut w = Workload::new(commands, key_format, value_size)?;
        w.pubsub = name == "pubsub";
        Ok(w)
    }

    /// A workload from the TOML text of a `--workload-file`.
    pub fn from_toml(text: &str, key_format: KeyFormat, value_size: ValueSize) -> Result<Workload, String> {
        let file: WorkloadFile = toml::from_str(text).map_err(|e| format!("workload file: {e}"))?;
        let default_int_max = file.int_max.unwrap_or(DEFAULT_INT_MAX);
        let mut commands = Vec::with_capacity(file.command.len());
        for c in file.command {
            let words = match c.template {
                Template::Line(line) => line.split_whitespace().map(str::to_string).collect(),
                Template::Words(words) => words,
            };
            let mut s = spec_from_words(&words, c.weight, CommandKind::Plain, c.int_max.unwrap_or(default_int_max))?;
            if let Some(name) = c.name {
                s.name = name;
            }
            commands.push(s);
        }
        Workload::new(commands, key_format, value_size)
    }

    fn new(commands: Vec<CommandSpec>, key_format: KeyFormat, value_size: ValueSize) -> Result<Workload, String> {
        if commands.is_empty() {
            return Err("a workload needs at least one command".into());
        }
        if commands.len() >= usize::from(ASKING_COMMAND) {
            return Err("too many commands in the workload".into());
        }
        let mut cumulative = Vec::with_capacity(commands.len());
        let mut sum = 0u64;
        for c in &commands {
            sum = sum.checked_add(c.weight).ok_or("command weights overflow")?;
            cumulative.push(sum);
        }
        if sum == 0 {
            return Err("all command weights are zero".into());
        }
        let filler = vec![b'x'; value_size.max_bytes.max(PUBSUB_STAMP_BYTES)];
        Ok(Workload { commands, cumulative, key_format, value_size, verify_ratio: None, pubsub: false, filler })
    }

    fn pick_command(&self, rng: &mut SmallRng) -> usize {
        if self.commands.len() == 1 {
            return 0;
        }
        let total = self.cumulative.last().copied().unwrap_or(1);
        let draw = rng.gen_range(0..total);
        self.cumulative.partition_point(|&c| c <= draw)
    }

    /// Length of the `__value__` of `request`.
    fn value_len(&self, request: &Request, spec: &CommandSpec) -> usize {
        match spec.kind {
            CommandKind::VerifySet => verify::value_len(request.key, request.aux, self.value_size),
            CommandKind::Publish => (request.aux as usize).max(PUBSUB_STAMP_BYTES),
            CommandKind::Plain | CommandKind::VerifyGet => request.aux as usize,
        }
    }

    /// Appends `request` as a RESP command to `out`; returns the bytes written.
    /// `now_ns` stamps `PUBLISH` payloads.
    pub fn encode(&self, request: &Request, now_ns: u64, out: &mut Vec<u8>) -> usize {
        let before = out.len();
        if request.command == ASKING_COMMAND {
            out.extend_from_slice(b"*1\r\n$6\r\nASKING\r\n");
            return out.len() - before;
        }
        let spec = &self.commands[usize::from(request.command)];
        resp::write_array_header(out, spec.args.len());
        let value_len = self.value_len(request, spec);
        for arg in &spec.args {
            if let Some(encoded) = &arg.encoded {
                out.extend_from_slice(encoded);
                continue;
            }
            let len: usize = arg
                .parts
                .iter()
                .map(|p| match p {
                    Part::Literal(l) => l.len(),
                    Part::Key => self.key_format.len(request.key),
                    Part::Value => value_len,
                    Part::Int => resp::decimal_len(request.int),
                })
                .sum();
            resp::write_bulk_header(out, len);
            for part in &arg.parts {
                match part {
                    Part::Literal(l) => out.extend_from_slice(l),
                    Part::Key => self.key_format.write(out, request.key),
                    Part::Int => resp::write_decimal(out, request.int),
                    Part::Value => self.write_value(request, spec.kind, value_len, now_ns, out),
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        out.len() - before
    }

    fn write_value(&self, request: &Request, kind: CommandKind, len: usize, now_ns: u64, out: &mut Vec<u8>) {
        match kind {
            CommandKind::VerifySet => verify::write_value(out, request.key, request.aux, len),
            CommandKind::Publish => {
                write_stamp(out, now_ns);
                out.extend_from_slice(&self.filler[..len - PUBSUB_STAMP_BYTES]);
            }
            CommandKind::Plain | CommandKind::VerifyGet => out.extend_from_slice(&self.filler[..len]),
        }
    }

    /// The glob that matches every channel of the `pubsub` workload.
    pub fn channel_pattern(&self) -> Vec<u8> {
        let mut pattern = Vec::new();
        self.key_format.write(&mut pattern, 0);
        // Drop the "0": the pattern is the head every channel name shares.
        pattern.pop();
        let mut escaped = Vec::with_capacity(pattern.len() + 1);
        for b in pattern {
            if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
                escaped.push(b'\\');
            }
            escaped.push(b);
        }
        escaped.push(b'*');
        escaped
    }
}

/// 16 lower-case hex digits of `ns`.
fn write_stamp(out: &mut Vec<u8>, ns: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(HEX[((ns >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Reads the send timestamp back from a `PUBLISH` payload.
pub fn read_stamp(payload: &[u8]) -> Option<u64> {
    let digits = payload.get(..PUBSUB_STAMP_BYTES)?;
    let mut ns = 0u64;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        ns = (ns << 4) | u64::from(v);
    }
    Some(ns)
}

fn spec(line: &str, weight: u64, kind: CommandKind, int_max: u64) -> Result<CommandSpec, String> {
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    spec_from_words(&words, weight, kind, int_max)
}

fn spec_from_words(words: &[String], weight: u64, kind: CommandKind, int_max: u64) -> Result<CommandSpec, String> {
    let Some(first) = words.first() else {
        return Err("a command template must not be empty".into());
    };
    if int_max == 0 {
        return Err(format!("int_max of {first:?} must be at least 1"));
    }
    let args = words.iter().map(|w| parse_arg(w)).collect();
    Ok(CommandSpec { name: first.to_ascii_uppercase(), kind, args, weight, int_max })
}

fn parse_arg(word: &str) -> Arg {
    let mut parts = Vec::new();
    let mut rest = word;
    while !rest.is_empty() {
        let next = [(KEY, Part::Key), (VALUE, Part::Value), (INT, Part::Int)]
            .into_iter()
            .filter_map(|(marker, part)| rest.find(marker).map(|at| (at, marker, part)))
            .min_by_key(|(at, _, _)| *at);
        match next {
            Some((at, marker, part)) => {
                if at > 0 {
                    parts.push(Part::Literal(rest.as_bytes()[..at].to_vec()));
                }
                parts.push(part);
                rest = &rest[at + marker.len()..];
            }
            None => {
                parts.push(Part::Literal(rest.as_bytes().to_vec()));
                rest = "";
            }
        }
    }
    let encoded = match parts.as_slice() {
        [Part::Literal(l)] => {
            let mut e = Vec::new();
            resp::write_bulk(&mut e, l);
            Some(e)
        }
        [] => Some(b"$0\r\n\r\n".to_vec()),
        _ => None,
    };
    Arg { parts, encoded }
}

/// Per-thread request source.
pub struct Generator {
    pub workload: Arc<Workload>,
    rng: SmallRng,
    picker: KeyPicker,
    pub verify: Option<VerifyState>,
    slot_scratch: Vec<u8>,
    readback_cursor: u64,
    /// Standalone runs skip hashing keys to slots: every request goes to the one server.
    route_by_slot: bool,
}

impl Generator {
    pub fn new(workload: Arc<Workload>, rng: SmallRng, picker: KeyPicker, route_by_slot: bool) -> Generator {
        let verify = workload.verify_ratio.map(|_| VerifyState::new(picker.local_keys()));
        Generator { workload, rng, picker, verify, slot_scratch: Vec::new(), readback_cursor: 0, route_by_slot }
    }

    /// Draws the next request. `None` only in verify mode, when every key drawn is busy.
    pub fn next(&mut self, start_ns: u64) -> Option<Request> {
        let w = &self.workload;
        let (command, key, aux) = match (&mut self.verify, w.verify_ratio) {
            (Some(state), Some(ratio)) => {
                let (local, write, seq) = state.choose(&mut self.rng, &mut self.picker, ratio)?;
                let key = self.picker.key_of_local(local);
                (if write { 0 } else { 1 }, key, seq)
            }
            _ => {
                let command = w.pick_command(&mut self.rng);
                let local = self.picker.next_local(&mut self.rng);
                let size = w.value_size;
                let aux = if size.min_bytes == size.max_bytes {
                    size.min_bytes
                } else {
                    self.rng.gen_range(size.min_bytes..=size.max_bytes)
                };
                (command, self.picker.key_of_local(local), aux as u32)
            }
        };
        let spec = &w.commands[command];
        let int = self.rng.gen_range(0..spec.int_max);
        Some(Request {
            start_ns,
            key,
            int,
            aux,
            slot: self.slot_of(key),
            command: command as u16,
            attempts: 0,
            flags: 0,
        })
    }

    /// Next read of the final verify pass, or `None` when every written key was read.
    pub fn next_readback(&mut self, start_ns: u64) -> Option<Request> {
        let state = self.verify.as_mut()?;
        let (local, seq) = state.next_readback(&mut self.readback_cursor)?;
        let key = self.picker.key_of_local(local);
        Some(Request {
            start_ns,
            key,
            int: 0,
            aux: seq,
            slot: self.slot_of(key),
            command: 1,
            attempts: 0,
            flags: FLAG_READBACK,
        })
    }

    fn slot_of(&mut self, key: u64) -> u16 {
        if self.route_by_slot {
            self.workload.key_format.slot(key, &mut self.slot_scratch)
        } else {
            0
        }
    }

    pub fn local_of_key(&self, key: u64) -> u64 {
        self.picker.local_of_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn fmt() -> KeyFormat {
        KeyFormat::new("key:", None)
    }

    fn size(n: usize) -> ValueSize {
        ValueSize { min_bytes: n, max_bytes: n }
    }

    fn request(command: u16, key: u64, int: u64, aux: u32) -> Request {
        Request { start_ns: 0, key, int, aux, slot: 0, command, attempts: 0, flags: 0 }
    }

    #[test]
    fn encodes_builtin_templates() {
        let w = Workload::builtin("hset", Ratio { set: 1, get: 1 }, fmt(), size(3), false).unwrap();
        let mut out = Vec::new();
        let n = w.encode(&request(0, 12, 7, 3), 0, &mut out);
        assert_eq!(n, out.len());
        assert_eq!(out, b"*4\r\n$4\r\nHSET\r\n$6\r\nkey:12\r\n$3\r\nf:7\r\n$3\r\nxxx\r\n");
        out.clear();
        w.encode(&Request::asking(), 0, &mut out);
        assert_eq!(out, b"*1\r\n$6\r\nASKING\r\n");
    }

    #[test]
    fn parses_a_workload_file() {
        let text = r#"
            int_max = 10
            [[command]]
            template = "INCRBY __key__ __int__"
            weight = 3
            [[command]]
            name = "tagged-set"
            template = ["SET", "pre-__key__-post", "__value__"]
        "#;
        let w = Workload::from_toml(text, fmt(), size(2)).unwrap();
        assert_eq!(w.commands[0].name, "INCRBY");
        assert_eq!(w.commands[1].name, "tagged-set");
        let mut out = Vec::new();
        w.encode(&request(1, 5, 0, 2), 0, &mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$14\r\npre-key:5-post\r\n$2\r\nxx\r\n");
        let mut rng = SmallRng::seed_from_u64(3);
        let mut counts = [0u32; 2];
        for _ in 0..4000 {
            counts[w.pick_command(&mut rng)] += 1;
        }
        assert!(counts[0] > 2 * counts[1], "{counts:?}");
        assert!(Workload::from_toml("[[command]]\ntemplate = \"\"", fmt(), size(1)).is_err());
        assert!(Workload::from_toml("nonsense = 1", fmt(), size(1)).is_err());
    }

    #[test]
    fn parses_sizes_and_ratios() {
        assert_eq!("3".parse(), Ok(size(3)));
        assert_eq!("10-20".parse(), Ok(ValueSize { min_bytes: 10, max_bytes: 20 }));
        assert!("20-10".parse::<ValueSize>().is_err());
        assert_eq!("1:10".parse(), Ok(Ratio { set: 1, get: 10 }));
        assert!("0:0".parse::<Ratio>().is_err());
        assert!("1".parse::<Ratio>().is_err());
    }

    #[test]
    fn publish_payload_carries_its_stamp() {
        let w = Workload::builtin("pubsub", Ratio { set: 1, get: 1 }, fmt(), size(4), false).unwrap();
        let mut out = Vec::new();
        w.encode(&request(0, 1, 0, 4), 0xabc123, &mut out);
        let payload = &out[out.len() - 2 - PUBSUB_STAMP_BYTES..out.len() - 2];
        assert_eq!(read_stamp(payload), Some(0xabc123));
        assert_eq!(w.channel_pattern(), b"key:*");
        assert_eq!(
            Workload::builtin("pubsub", Ratio { set: 1, get: 1 }, KeyFormat::new("a*", None), size(1), false)
                .unwrap()
                .channel_pattern(),
            b"a\\**"
        );
    }

    #[test]
    fn verify_only_with_string_workloads() {
        assert!(Workload::builtin("hset", Ratio { set: 1, get: 1 }, fmt(), size(1), true).is_err());
        let w = Workload::builtin("mixed", Ratio { set: 1, get: 4 }, fmt(), size(1), true).unwrap();
        assert_eq!(w.verify_ratio, Some(Ratio { set: 1, get: 4 }));
    }
}
