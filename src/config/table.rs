//! The shape of the settings table and the generic code that reads and writes one setting:
//! parse the words of a config line or a CONFIG SET value into a typed value, store it in
//! `Config`, format it back exactly as Redis 7.0 prints it.
//!
//! Owns the meaning of a table row (kind, bounds, flags, storage) and Redis's per-kind error
//! texts. It must never know a particular setting: the rows live in `settings_core` and
//! `settings_compat`, the odd-shaped ones in `special`.

use super::parse;
use super::Config;

/// CONFIG SET refuses it (`can't set immutable config`).
pub const IMMUTABLE: u8 = 1 << 0;
/// CONFIG SET allows it only with `enable-protected-configs` (`can't set protected config`).
pub const PROTECTED: u8 = 1 << 1;
/// Takes several words (`save 900 1 300 10`); CONFIG SET splits its value on spaces.
pub const MULTI_ARG: u8 = 1 << 2;
/// Holds a secret: the command layer must redact the value from SLOWLOG, MONITOR, logs.
pub const SENSITIVE: u8 = 1 << 3;
/// Settable at runtime.
pub const MUTABLE: u8 = 0;

pub(crate) const INT_MAX: i128 = i32::MAX as i128;
pub(crate) const INT_MIN: i128 = i32::MIN as i128;
pub(crate) const UINT_MAX: i128 = u32::MAX as i128;
pub(crate) const LONG_MAX: i128 = i64::MAX as i128;
pub(crate) const ULLONG_MAX: i128 = u64::MAX as i128;

/// How a number is written and read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumFmt {
    /// Plain integer (`string2ll`).
    Plain,
    /// Byte count; accepts units (`100mb`), printed as a plain byte count.
    Memory,
    /// Byte count or `N%` (stored as `-N`), as `maxmemory-clients`.
    MemoryOrPercent,
    /// Octal, as `unixsocketperm`.
    Octal,
}

/// A setting's value in a shape common to all kinds, used to move values between the table
/// and `Config` fields.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i128),
    Enum(usize),
    Str(String),
}

/// Settings whose parsing, storage and formatting are written by hand.
pub struct SpecialOps {
    /// Parse the words and store them; the error is Redis's text for the bad value.
    pub set: fn(&mut Config, &[String]) -> Result<(), String>,
    /// CONFIG GET text.
    pub get: fn(&Config) -> String,
    /// Store the default (infallible: `dir` must not fail when the cwd is unreadable).
    pub init: fn(&mut Config),
    /// Lines for CONFIG REWRITE (each a list of words after the name).
    pub rewrite: fn(&Config) -> Vec<Vec<String>>,
}

/// Validates a string setting; the error is Redis's text.
pub type StrCheck = fn(&str) -> Result<(), &'static str>;

pub enum Kind {
    Bool { default: bool },
    Int { min: i128, max: i128, default: i128, fmt: NumFmt },
    Enum { names: &'static [&'static str], default: usize },
    Str { default: &'static str, check: Option<StrCheck> },
    Special(&'static SpecialOps),
}

/// Where a setting's value lives.
pub enum Store {
    /// A typed field of `Config`, reached through these two functions.
    Field { get: fn(&Config) -> Value, set: fn(&mut Config, Value) },
    /// Accepted for compatibility and shown by CONFIG GET, but nothing in Tessera reads it:
    /// kept in `Config::compat` by name, absent meaning the default.
    Compat,
    /// `Kind::Special` stores the value itself.
    Own,
}

/// One row of the settings table.
pub struct Setting {
    /// Redis's name (lower case).
    pub name: &'static str,
    /// The old name Redis still accepts and lists (`slaveof` for `replicaof`).
    pub alias: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
    pub store: Store,
}

impl Setting {
    pub const fn alias(self, alias: &'static str) -> Setting {
        Setting { alias: Some(alias), ..self }
    }

    pub fn is_immutable(&self) -> bool {
        self.flags & IMMUTABLE != 0
    }

    pub fn is_protected(&self) -> bool {
        self.flags & PROTECTED != 0
    }

    pub fn is_multi_arg(&self) -> bool {
        self.flags & MULTI_ARG != 0
    }

    pub fn is_sensitive(&self) -> bool {
        self.flags & SENSITIVE != 0
    }

    /// The canonical name followed by the alias, if any.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.alias)
    }

    pub(crate) fn default_value(&self) -> Option<Value> {
        match &self.kind {
            Kind::Bool { default } => Some(Value::Bool(*default)),
            Kind::Int { default, .. } => Some(Value::Int(*default)),
            Kind::Enum { default, .. } => Some(Value::Enum(*default)),
            Kind::Str { default, .. } => Some(Value::Str((*default).to_owned())),
            Kind::Special(_) => None,
        }
    }

    /// Parse `args` (the words after the name) and store the value in `config`.
    /// The error is Redis's text for the failure, without the setting's name.
    pub(crate) fn apply(&self, config: &mut Config, args: &[String]) -> Result<(), String> {
        if let Kind::Special(ops) = &self.kind {
            return (ops.set)(config, args);
        }
        let [word] = args else {
            return Err("wrong number of arguments".to_owned());
        };
        let value = self.parse_value(word)?;
        self.store_value(config, value);
        Ok(())
    }

    pub(crate) fn parse_value(&self, word: &str) -> Result<Value, String> {
        match &self.kind {
            Kind::Bool { .. } => {
                parse::yes_no(word).map(Value::Bool).ok_or_else(|| "argument must be 'yes' or 'no'".to_owned())
            }
            Kind::Int { min, max, fmt, .. } => parse_number(word, *min, *max, *fmt).map(Value::Int),
            Kind::Enum { names, .. } => names
                .iter()
                .position(|name| name.eq_ignore_ascii_case(word))
                .map(Value::Enum)
                .ok_or_else(|| format!("argument(s) must be one of the following: {}", names.join(", "))),
            Kind::Str { check, .. } => {
                if let Some(check) = check {
                    check(word).map_err(str::to_owned)?;
                }
                Ok(Value::Str(word.to_owned()))
            }
            Kind::Special(_) => Err("wrong number of arguments".to_owned()),
        }
    }

    pub(crate) fn store_value(&self, config: &mut Config, value: Value) {
        match &self.store {
            Store::Field { set, .. } => set(config, value),
            Store::Compat => {
                config.compat.insert(self.name, value);
            }
            Store::Own => debug_assert!(false, "{}: special settings store themselves", self.name),
        }
    }

    /// The current value as a `Value`, for non-special settings.
    pub(crate) fn value(&self, config: &Config) -> Option<Value> {
        match &self.store {
            Store::Field { get, .. } => Some(get(config)),
            Store::Compat => config.compat.get(self.name).cloned().or_else(|| self.default_value()),
            Store::Own => None,
        }
    }

    /// CONFIG GET text.
    pub fn format(&self, config: &Config) -> String {
        if let Kind::Special(ops) = &self.kind {
            return (ops.get)(config);
        }
        match self.value(config) {
            Some(value) => self.format_value(&value),
            None => String::new(),
        }
    }

    pub(crate) fn format_value(&self, value: &Value) -> String {
        match (&self.kind, value) {
            (Kind::Bool { .. }, Value::Bool(b)) => parse::yes_no_str(*b).to_owned(),
            (Kind::Int { fmt, .. }, Value::Int(n)) => match fmt {
                NumFmt::MemoryOrPercent if *n < 0 => format!("{}%", -n),
                NumFmt::Octal => format!("{n:o}"),
                _ => n.to_string(),
            },
            (Kind::Enum { names, .. }, Value::Enum(i)) => names.get(*i).copied().unwrap_or_default().to_owned(),
            (Kind::Str { .. }, Value::Str(s)) => s.clone(),
            _ => {
                debug_assert!(false, "{}: value {value:?} does not fit its kind", self.name);
                String::new()
            }
        }
    }

    /// Set the table default (used to build `Config::default()`).
    pub(crate) fn apply_default(&self, config: &mut Config) {
        match (&self.kind, &self.store) {
            (_, Store::Compat) => {}
            (Kind::Special(ops), _) => (ops.init)(config),
            _ => {
                if let Some(value) = self.default_value() {
                    self.store_value(config, value);
                }
            }
        }
    }
}

/// Parse a number of the given format and check its bounds, with Redis's error texts.
fn parse_number(word: &str, min: i128, max: i128, fmt: NumFmt) -> Result<i128, String> {
    let value = match fmt {
        NumFmt::Plain => parse::string2ll(word).map(i128::from).ok_or("argument couldn't be parsed into an integer")?,
        NumFmt::Memory => parse::memtoull(word).map(i128::from).ok_or("argument must be a memory value")?,
        NumFmt::MemoryOrPercent => match parse::memtoull(word) {
            Some(bytes) => i128::from(bytes),
            None => {
                let percent = word
                    .strip_suffix('%')
                    .filter(|digits| !digits.is_empty())
                    .and_then(parse::string2ll)
                    .filter(|p| *p >= 0)
                    .ok_or("argument must be a memory or percent value")?;
                let stored = -i128::from(percent);
                if stored < min {
                    return Err(format!("percentage argument must be less or equal to {}", -min));
                }
                return Ok(stored);
            }
        },
        NumFmt::Octal => {
            let digits_ok = !word.is_empty() && word.bytes().all(|b| (b'0'..=b'7').contains(&b));
            let parsed = if digits_ok { i128::from_str_radix(word, 8).ok() } else { None };
            parsed.ok_or("argument couldn't be parsed as an octal number")?
        }
    };
    if value < min || value > max {
        return Err(match fmt {
            NumFmt::Octal => format!("argument must be between {min:o} and {max:o} inclusive"),
            _ => format!("argument must be between {min} and {max} inclusive"),
        });
    }
    Ok(value)
}

/// Every setting: the ones Tessera acts on, then the ones kept for compatibility.
pub fn all_settings() -> impl Iterator<Item = &'static Setting> {
    super::settings_core::SETTINGS.iter().chain(super::settings_compat::SETTINGS.iter())
}

/// Find a setting by its name or alias, case-insensitively; also returns which of the two
/// names matched (Redis reports value errors under that name).
pub fn lookup(name: &str) -> Option<(&'static Setting, &'static str)> {
    all_settings().find_map(|setting| setting.names().find(|n| n.eq_ignore_ascii_case(name)).map(|n| (setting, n)))
}

/// Accessors from a table row to a typed `Config` field. The table's bounds keep every value
/// within the field's type, which a unit test checks row by row.
macro_rules! field {
    (bool $f:ident) => {
        $crate::config::table::Store::Field {
            get: |c| $crate::config::table::Value::Bool(c.$f),
            set: |c, v| {
                if let $crate::config::table::Value::Bool(b) = v {
                    c.$f = b;
                }
            },
        }
    };
    (int $f:ident) => {
        $crate::config::table::Store::Field {
            get: |c| $crate::config::table::Value::Int(c.$f as i128),
            set: |c, v| {
                if let $crate::config::table::Value::Int(n) = v {
                    c.$f = n as _;
                }
            },
        }
    };
    (enum $f:ident) => {
        $crate::config::table::Store::Field {
            get: |c| $crate::config::table::Value::Enum($crate::config::types::RedisEnum::index(c.$f)),
            set: |c, v| {
                if let $crate::config::table::Value::Enum(i) = v {
                    if let Some(e) = $crate::config::types::RedisEnum::from_index(i) {
                        c.$f = e;
                    }
                }
            },
        }
    };
    (str $f:ident) => {
        $crate::config::table::Store::Field {
            get: |c| $crate::config::table::Value::Str(c.$f.clone()),
            set: |c, v| {
                if let $crate::config::table::Value::Str(s) = v {
                    c.$f = s;
                }
            },
        }
    };
}
pub(crate) use field;

// Row builders, so each table row fits on a line or two.

pub const fn flag(name: &'static str, flags: u8, default: bool, store: Store) -> Setting {
    Setting { name, alias: None, flags, kind: Kind::Bool { default }, store }
}

pub const fn int(name: &'static str, flags: u8, min: i128, max: i128, default: i128, store: Store) -> Setting {
    Setting { name, alias: None, flags, kind: Kind::Int { min, max, default, fmt: NumFmt::Plain }, store }
}

pub const fn mem(name: &'static str, flags: u8, min: i128, max: i128, default: i128, store: Store) -> Setting {
    Setting { name, alias: None, flags, kind: Kind::Int { min, max, default, fmt: NumFmt::Memory }, store }
}

/// An enumeration; `default` is an index into `names` (write `LogLevel::Notice as usize`).
pub const fn choice(
    name: &'static str,
    flags: u8,
    names: &'static [&'static str],
    default: usize,
    store: Store,
) -> Setting {
    Setting { name, alias: None, flags, kind: Kind::Enum { names, default }, store }
}

pub const fn text(name: &'static str, flags: u8, default: &'static str, store: Store) -> Setting {
    Setting { name, alias: None, flags, kind: Kind::Str { default, check: None }, store }
}

/// A string with a validity check whose error is Redis's text.
pub const fn checked_text(
    name: &'static str,
    flags: u8,
    default: &'static str,
    check: StrCheck,
    store: Store,
) -> Setting {
    Setting { name, alias: None, flags, kind: Kind::Str { default, check: Some(check) }, store }
}

pub const fn special(name: &'static str, flags: u8, ops: &'static SpecialOps) -> Setting {
    Setting { name, alias: None, flags, kind: Kind::Special(ops), store: Store::Own }
}
