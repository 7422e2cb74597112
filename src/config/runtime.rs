//! CONFIG GET, CONFIG SET and the text of CONFIG REWRITE over the settings table.
//!
//! Owns Redis 7.0's observable behaviour of these commands: glob matching over names and
//! aliases, each name listed once, all-or-nothing SET with Redis's error texts and the order
//! in which Redis checks them. It must never write files or apply a change to the server;
//! the command layer does that with the results.

use std::collections::HashSet;

use super::parse::{conf_word, format_memory, split_spaces};
use super::table::{all_settings, lookup, Kind, NumFmt, Setting, Value};
use super::types::EnableFlag;
use super::Config;
use crate::glob::glob_match;

impl Config {
    /// CONFIG GET: `(name, value)` for every setting name or alias matching one of the glob
    /// `patterns` (case-insensitive). A pattern without glob characters is looked up exactly
    /// and answered under the spelling the client used, as Redis does. Each name appears
    /// once. Values are formatted exactly as Redis 7.0 prints them.
    pub fn config_get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut found = Vec::new();
        for pattern in patterns {
            let is_glob = pattern.iter().any(|b| matches!(b, b'[' | b'*' | b'?'));
            if !is_glob {
                let Ok(name) = std::str::from_utf8(pattern) else {
                    continue;
                };
                if let Some((setting, _)) = lookup(name) {
                    if seen.insert(name.to_ascii_lowercase()) {
                        found.push((name.to_owned(), setting.format(self)));
                    }
                }
                continue;
            }
            for setting in all_settings() {
                for name in setting.names() {
                    if glob_match(pattern, name.as_bytes(), true) && seen.insert(name.to_owned()) {
                        found.push((name.to_owned(), setting.format(self)));
                    }
                }
            }
        }
        found
    }

    /// CONFIG SET from a client that is not local (protected settings need
    /// `enable-protected-configs yes`). See [`Config::config_set_for`].
    pub fn config_set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        self.config_set_for(pairs, false)
    }

    /// CONFIG SET with one or more `(name, value)` pairs: either all are applied or none.
    /// `client_is_local` (loopback or unix socket) lets `enable-protected-configs local`
    /// allow `dir` and `dbfilename`.
    ///
    /// The error is the reply text without the leading `-`, exactly as Redis 7.0 words it.
    /// The command layer checks the arity (`ERR wrong number of arguments for 'config|set'
    /// command`) before calling; an empty `pairs` is a no-op.
    pub fn config_set_for(&mut self, pairs: &[(&[u8], &[u8])], client_is_local: bool) -> Result<(), String> {
        struct Planned<'a> {
            setting: &'static Setting,
            matched: &'static str,
            value: &'a [u8],
        }
        // First pass, like Redis: names, mutability and duplicates, before any value.
        let mut planned: Vec<Planned<'_>> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let typed = String::from_utf8_lossy(name);
            let Some((setting, matched)) = std::str::from_utf8(name).ok().and_then(lookup) else {
                return Err(format!("ERR Unknown option or number of arguments for CONFIG SET - '{typed}'"));
            };
            let refusal = if setting.is_immutable() {
                Some("can't set immutable config")
            } else if setting.is_protected() && !self.protected_configs_allowed(client_is_local) {
                Some("can't set protected config")
            } else if planned.iter().any(|p| p.matched == matched) {
                Some("duplicate parameter")
            } else {
                None
            };
            if let Some(why) = refusal {
                return Err(set_failed(&typed, why));
            }
            planned.push(Planned { setting, matched, value });
        }
        // Second pass on a copy, so a bad value leaves every setting as it was.
        let mut next = self.clone();
        for p in &planned {
            let value = std::str::from_utf8(p.value)
                .map_err(|_| set_failed(p.matched, "argument must be a valid UTF-8 string"))?;
            let args = if p.setting.is_multi_arg() { split_spaces(value) } else { vec![value.to_owned()] };
            p.setting.apply(&mut next, &args).map_err(|msg| set_failed(p.matched, &msg))?;
        }
        *self = next;
        Ok(())
    }

    fn protected_configs_allowed(&self, client_is_local: bool) -> bool {
        match self.enable_protected_configs {
            EnableFlag::Yes => true,
            EnableFlag::Local => client_is_local,
            EnableFlag::No => false,
        }
    }

    /// CONFIG REWRITE body in redis.conf syntax: every setting that differs from the
    /// built-in default, then `rename-command` lines. Memory sizes use Redis's `gb`/`mb`/`kb`
    /// spelling; `save` and `client-output-buffer-limit` take one line per entry.
    pub fn rewrite_text(&self) -> String {
        let default = Config::default();
        let mut text = String::new();
        for setting in all_settings() {
            if setting.format(self) == setting.format(&default) {
                continue;
            }
            for line in rewrite_lines(setting, self) {
                text.push_str(setting.name);
                for word in &line {
                    text.push(' ');
                    text.push_str(&conf_word(word));
                }
                text.push('\n');
            }
        }
        for (command, new_name) in &self.rename_commands {
            text.push_str(&format!("rename-command {} {}\n", conf_word(command), conf_word(new_name)));
        }
        text
    }

    /// CONFIG REWRITE body for a TOML config file: the same settings as [`rewrite_text`],
    /// numbers and booleans as TOML values, everything else as strings.
    ///
    /// [`rewrite_text`]: Config::rewrite_text
    pub fn rewrite_toml(&self) -> String {
        let default = Config::default();
        let mut text = String::new();
        for setting in all_settings() {
            if setting.format(self) == setting.format(&default) {
                continue;
            }
            let value = match (&setting.kind, setting.value(self)) {
                (Kind::Bool { .. }, Some(Value::Bool(b))) => toml::Value::Boolean(b),
                (Kind::Int { fmt, .. }, Some(Value::Int(n))) if *fmt == NumFmt::Plain => match i64::try_from(n) {
                    Ok(n) => toml::Value::Integer(n),
                    Err(_) => toml::Value::String(n.to_string()),
                },
                _ => {
                    let lines = rewrite_lines(setting, self);
                    let words: Vec<String> = lines.into_iter().flatten().collect();
                    // Multi-word values are split like a config line when loaded, so quote
                    // the words that need it (`save = "\"\""` clears the save points).
                    if setting.is_multi_arg() {
                        let quoted: Vec<String> = words.iter().map(|w| conf_word(w)).collect();
                        toml::Value::String(quoted.join(" "))
                    } else {
                        toml::Value::String(words.join(" "))
                    }
                }
            };
            text.push_str(&format!("{} = {value}\n", setting.name));
        }
        if !self.rename_commands.is_empty() {
            let pairs: Vec<toml::Value> = self
                .rename_commands
                .iter()
                .map(|(command, new_name)| {
                    toml::Value::Array(vec![
                        toml::Value::String(command.clone()),
                        toml::Value::String(new_name.clone()),
                    ])
                })
                .collect();
            text.push_str(&format!("rename-command = {}\n", toml::Value::Array(pairs)));
        }
        text
    }
}

fn set_failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

/// The words after the name of each line CONFIG REWRITE writes for `setting`.
fn rewrite_lines(setting: &Setting, config: &Config) -> Vec<Vec<String>> {
    match (&setting.kind, setting.value(config)) {
        (Kind::Special(ops), _) => (ops.rewrite)(config),
        (Kind::Int { fmt, .. }, Some(Value::Int(n)))
            if *fmt == NumFmt::Memory || (*fmt == NumFmt::MemoryOrPercent && n >= 0) =>
        {
            vec![vec![format_memory(n)]]
        }
        _ => vec![vec![setting.format(config)]],
    }
}
