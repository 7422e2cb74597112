//! Startup configuration: `tessera-server [FILE] [--name value ...]`.
//!
//! Owns Redis's command-line rules (everything up to the next `--` argument belongs to the
//! option; `--save` with no value means `save ""`), redis.conf-style files (`name value...`
//! lines, `#` comments, quotes, `include`, `rename-command`), TOML files with the same names,
//! and the fatal error text. It must never start anything or touch the environment beyond
//! reading the named files and resolving `dir`.

use std::path::Path;

use super::parse::{display_line, split_args, yes_no_str};
use super::special::{io_error_text, set_save};
use super::table::lookup;
use super::Config;

/// Deepest chain of `include` directives, so a file that includes itself fails cleanly.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Redis 7.0 accepts these and ignores them with a warning.
const DEPRECATED_DIRECTIVES: [&str; 3] =
    ["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

/// What the caller should do instead of starting a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyAction {
    /// `-v` / `--version`: print the version and exit 0.
    Version,
    /// `-h` / `--help`: print usage and exit 0.
    Help,
}

/// Checked by the caller before [`from_args`]: as in Redis, `-v`, `--version`, `-h` and
/// `--help` count only as the sole argument. `from_args` itself rejects them as directives.
pub fn early_action(args: &[String]) -> Option<EarlyAction> {
    match args {
        [only] => match only.as_str() {
            "-v" | "--version" => Some(EarlyAction::Version),
            "-h" | "--help" => Some(EarlyAction::Help),
            _ => None,
        },
        _ => None,
    }
}

/// Build the configuration from the process arguments, without the program name
/// (`std::env::args().skip(1)`).
///
/// The first argument is a config file unless it starts with `-`: `.toml` files are TOML,
/// anything else is read as redis.conf. Then `--name value...` options apply in order, over
/// the file. The error is Redis's multi-line description (where, `>>> 'line'`, why) for the
/// caller to print under `*** FATAL CONFIG FILE ERROR ***` before exiting with status 1.
pub fn from_args(args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut state = LoadState::default();
    let mut options = args;
    if let Some((first, rest)) = args.split_first() {
        if first == "-" {
            return Err(String::from("Reading the configuration from standard input ('-') is not supported"));
        }
        if !first.starts_with('-') {
            let path = Path::new(first);
            load_file(&mut config, &mut state, path, 0)?;
            config.config_file = Some(std::path::absolute(path).unwrap_or_else(|_| path.into()));
            options = rest;
        }
    }
    for words in command_line_directives(options)? {
        apply_directive(&mut config, &mut state, &words, 0).map_err(|e| match e {
            DirectiveError::Plain(msg) => fatal("Reading the command line arguments", &display_line(&words), &msg),
            DirectiveError::Fatal(full) => full,
        })?;
    }
    check_startup(&config)?;
    Ok(config)
}

#[derive(Default)]
struct LoadState {
    /// A `save` line was seen: later ones add points instead of replacing the defaults.
    save_seen: bool,
}

enum DirectiveError {
    /// Redis's text for a bad line; the caller adds where it was.
    Plain(String),
    /// A complete message from an included file.
    Fatal(String),
}

impl From<String> for DirectiveError {
    fn from(msg: String) -> Self {
        DirectiveError::Plain(msg)
    }
}

/// Redis's description of a bad config line. The caller prints it under Redis's banner
/// (`*** FATAL CONFIG FILE ERROR (...) ***`).
fn fatal(context: &str, line: &str, msg: &str) -> String {
    format!("{context}\n>>> '{line}'\n{msg}")
}

/// Group the options into directives the way Redis does: `--name` starts one, following
/// arguments are its words until the next `--` argument, except that a `--` argument right
/// after a bare `--name` is taken as its value (`--requirepass --secret`). A bare `--save`
/// followed by another option or by nothing means `save ""`.
fn command_line_directives(args: &[String]) -> Result<Vec<Vec<String>>, String> {
    let mut directives: Vec<Vec<String>> = Vec::new();
    let mut last_option_has_value = true;
    for (j, arg) in args.iter().enumerate() {
        match arg.strip_prefix("--") {
            Some(option) if last_option_has_value => {
                // Like Redis, "--port 6380" given as one argument is a name and a value.
                let mut words = split_args(option).map_err(|_| {
                    fatal("Reading the command line arguments", arg, "Unbalanced quotes in configuration line")
                })?;
                last_option_has_value = words.len() > 1;
                let next_is_option = args.get(j + 1).is_some_and(|next| next.starts_with("--"));
                if !last_option_has_value
                    && arg.eq_ignore_ascii_case("--save")
                    && (next_is_option || j + 1 == args.len())
                {
                    words.push(String::new());
                    last_option_has_value = true;
                }
                directives.push(words);
            }
            _ => {
                match directives.last_mut() {
                    Some(words) => words.push(arg.clone()),
                    None => directives.push(vec![arg.clone()]),
                }
                last_option_has_value = true;
            }
        }
    }
    Ok(directives)
}

fn load_file(config: &mut Config, state: &mut LoadState, path: &Path, depth: usize) -> Result<(), String> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(format!("Too many nested includes (more than {MAX_INCLUDE_DEPTH}) at '{}'", path.display()));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| format!("Fatal error, can't open config file '{}': {}", path.display(), io_error_text(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    let is_toml = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    if is_toml {
        load_toml(config, state, path, &text, depth)
    } else {
        load_conf(config, state, path, &text, depth)
    }
}

fn load_conf(config: &mut Config, state: &mut LoadState, path: &Path, text: &str, depth: usize) -> Result<(), String> {
    for (index, raw) in text.split('\n').enumerate() {
        let context = || format!("Reading the configuration file {}, at line {}", path.display(), index + 1);
        let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_args(line).map_err(|_| fatal(&context(), line, "Unbalanced quotes in configuration line"))?;
        apply_directive(config, state, &words, depth).map_err(|e| match e {
            DirectiveError::Plain(msg) => fatal(&context(), line, &msg),
            DirectiveError::Fatal(full) => full,
        })?;
    }
    Ok(())
}

/// TOML keys are setting names; a value is a string, number, boolean or an array of those.
/// For multi-word settings each array string is split like a config line, so both
/// `save = "3600 1 300 100"` and `save = ["3600 1", "300 100"]` work.
fn load_toml(config: &mut Config, state: &mut LoadState, path: &Path, text: &str, depth: usize) -> Result<(), String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        format!("Reading the configuration file {}\n{}", path.display(), e.to_string().trim_end())
    })?;
    for (key, value) in &table {
        let context = format!("Reading the configuration file {}, at key '{key}'", path.display());
        let directives =
            toml_directives(key, value).map_err(|msg| fatal(&context, &format!("{key} = {value}"), &msg))?;
        for words in directives {
            apply_directive(config, state, &words, depth).map_err(|e| match e {
                DirectiveError::Plain(msg) => fatal(&context, &display_line(&words), &msg),
                DirectiveError::Fatal(full) => full,
            })?;
        }
    }
    Ok(())
}

/// The directives one TOML key stands for: one, except `rename-command`, which may hold a
/// list of `[command, new-name]` pairs since a TOML key cannot repeat.
fn toml_directives(key: &str, value: &toml::Value) -> Result<Vec<Vec<String>>, String> {
    if key.eq_ignore_ascii_case("rename-command") {
        if let toml::Value::Array(items) = value {
            if !items.is_empty() && items.iter().all(toml::Value::is_array) {
                let mut directives = Vec::with_capacity(items.len());
                for item in items {
                    let mut words = vec![key.to_owned()];
                    toml_words(item, false, false, &mut words)?;
                    directives.push(words);
                }
                return Ok(directives);
            }
        }
    }
    let multi_arg = lookup(key).is_some_and(|(setting, _)| setting.is_multi_arg());
    let mut words = vec![key.to_owned()];
    toml_words(value, multi_arg, false, &mut words)?;
    Ok(vec![words])
}

fn toml_words(value: &toml::Value, multi_arg: bool, in_array: bool, words: &mut Vec<String>) -> Result<(), String> {
    match value {
        toml::Value::String(s) if multi_arg && in_array => {
            let split = split_args(s).map_err(|_| "Unbalanced quotes in array element")?;
            words.extend(split);
        }
        toml::Value::String(s) => words.push(s.clone()),
        toml::Value::Integer(n) => words.push(n.to_string()),
        toml::Value::Float(f) => words.push(f.to_string()),
        toml::Value::Boolean(b) => words.push(yes_no_str(*b).to_owned()),
        toml::Value::Array(items) if !in_array => {
            for item in items {
                toml_words(item, multi_arg, true, words)?;
            }
        }
        toml::Value::Array(_) => return Err("nested arrays are not supported".to_owned()),
        toml::Value::Table(_) | toml::Value::Datetime(_) => {
            return Err("value must be a string, number, boolean or array".to_owned())
        }
    }
    Ok(())
}

/// Apply one directive (`words[0]` is the name) as Redis's config loader does.
fn apply_directive(
    config: &mut Config,
    state: &mut LoadState,
    words: &[String],
    depth: usize,
) -> Result<(), DirectiveError> {
    let Some((name, args)) = words.split_first() else {
        return Ok(());
    };
    let name = name.to_ascii_lowercase();
    if let Some((setting, _)) = lookup(&name) {
        if !setting.is_multi_arg() && args.len() != 1 {
            return Err("wrong number of arguments".to_owned().into());
        }
        // `--save "900 1 300 10"`: one non-empty word of a multi-word setting is split.
        let split;
        let args = match args {
            [one] if setting.is_multi_arg() && !one.is_empty() => {
                split = split_args(one).map_err(|_| "Unbalanced quotes in configuration line".to_owned())?;
                &split[..]
            }
            _ => args,
        };
        if setting.name == "save" {
            return apply_save_line(config, state, args).map_err(DirectiveError::Plain);
        }
        return setting.apply(config, args).map_err(DirectiveError::Plain);
    }
    if DEPRECATED_DIRECTIVES.contains(&name.as_str()) {
        return Ok(());
    }
    match (name.as_str(), args) {
        ("include", [path]) => load_file(config, state, Path::new(path), depth + 1).map_err(DirectiveError::Fatal),
        ("rename-command", [command, new_name]) => {
            config.rename_commands.push((command.clone(), new_name.clone()));
            Ok(())
        }
        _ => Err("Bad directive or wrong number of arguments".to_owned().into()),
    }
}

/// In files and on the command line the first `save` line replaces the built-in points and
/// later ones add to it (so `save 900 1` + `save 300 10` keeps both); `save ""` clears.
fn apply_save_line(config: &mut Config, state: &mut LoadState, args: &[String]) -> Result<(), String> {
    let before = config.save.clone();
    // `set_save` leaves the points untouched when it fails.
    set_save(config, args)?;
    let clears = matches!(args, [only] if only.is_empty());
    if state.save_seen && !clears {
        let added = std::mem::replace(&mut config.save, before);
        config.save.extend(added);
    }
    state.save_seen = true;
    Ok(())
}

/// Combinations Redis refuses at startup, and what Tessera does not support.
fn check_startup(config: &Config) -> Result<(), String> {
    if config.daemonize {
        return Err(String::from(
            "daemonize yes is not supported: tessera-server stays in the foreground; \
             run it under a supervisor (systemd, docker) instead",
        ));
    }
    if config.cluster_enabled && config.cluster_bus_port().is_none() {
        return Err(String::from(
            "port number too high: the cluster bus listens on port + 10000, so port must be \
             55535 or less, or cluster-port must be set",
        ));
    }
    if config.cluster_enabled && config.replicaof.is_some() {
        return Err(String::from("replicaof directive not allowed in cluster mode"));
    }
    Ok(())
}
