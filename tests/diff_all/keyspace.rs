//! The key space of the combined differential test: a few keys per command family (most spread
//! over both shards of a 2-shard tessera, some sharing the `{t}` hash tag), so commands of every
//! family collide, meet wrong types, and multi-key commands cross shards.
//!
//! Three kinds of keys carry rules the pickers in `gen.rs` enforce, because breaking them makes
//! Redis's own answer depend on chance:
//! - `ZLEX` keys only ever hold sorted sets whose scores are all 0 (lex ranges over mixed scores
//!   in a skiplist follow its random node levels);
//! - `HLL` keys are the only keys a HyperLogLog is written to, and no command edits their bytes
//!   (an edit can cut a sparse opcode short, and Redis then reads past the string's end);
//! - `AUTO` gets IDs from each server's clock, so only a few commands ever name it.

/// Which family a key is meant for (its "home").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fam {
    Str,
    Hash,
    List,
    Set,
    ZSet,
    ZLex,
    Geo,
    Hll,
    Bitmap,
    Stream,
    Misc,
}

pub const STR: &[&str] = &["s:0", "s:1", "s:2", "s:3", "{t}s1", "{t}s2"];
pub const HASH: &[&str] = &["h:0", "h:1", "h:2", "{t}h1", "{t}h2"];
pub const LIST: &[&str] = &["l:0", "l:1", "l:2", "{t}l1", "{t}l2"];
pub const SET: &[&str] = &["set:0", "set:1", "set:2", "{t}set1", "{t}set2"];
pub const ZSET: &[&str] = &["z:0", "z:1", "z:2", "{t}z1", "{t}z2"];
pub const ZLEX: &[&str] = &["zl:0", "zl:1", "{t}zl"];
pub const GEO: &[&str] = &["g:0", "g:1", "{t}g"];
pub const HLL: &[&str] = &["p:0", "p:1", "p:2", "{t}p"];
pub const BITMAP: &[&str] = &["b:0", "b:1", "{t}b"];
pub const STREAM: &[&str] = &["x:0", "x:1", "{t}x"];
pub const MISC: &[&str] = &["k:0", "k:1", "k:2", "{t}k"];
/// SORT pattern keys: `{t}w_<element>` strings and `{t}wh_<element>` hashes, on the `{t}` shard.
pub const WEIGHT_ELEMS: &[&str] = &["0", "1", "2", "3", "5", "a", "b", "m1", "m2"];
/// The stream that gets `*` IDs (see the header).
pub const AUTO: &str = "x:auto";
/// Keys that are usually missing.
pub const MISSING: &[&str] = &["none:0", "{t}none"];

pub fn home(fam: Fam) -> &'static [&'static str] {
    match fam {
        Fam::Str => STR,
        Fam::Hash => HASH,
        Fam::List => LIST,
        Fam::Set => SET,
        Fam::ZSet => ZSET,
        Fam::ZLex => ZLEX,
        Fam::Geo => GEO,
        Fam::Hll => HLL,
        Fam::Bitmap => BITMAP,
        Fam::Stream => STREAM,
        Fam::Misc => MISC,
    }
}

pub const ALL_FAMS: &[Fam] = &[
    Fam::Str,
    Fam::Hash,
    Fam::List,
    Fam::Set,
    Fam::ZSet,
    Fam::ZLex,
    Fam::Geo,
    Fam::Hll,
    Fam::Bitmap,
    Fam::Stream,
    Fam::Misc,
];

/// Every named key except `AUTO` (pattern keys included), for KEYS-style listings and the
/// final-state comparison.
pub fn all_keys() -> Vec<String> {
    let mut v: Vec<String> = ALL_FAMS.iter().flat_map(|f| home(*f).iter().map(|k| k.to_string())).collect();
    v.extend(MISSING.iter().map(|k| k.to_string()));
    for e in WEIGHT_ELEMS {
        v.push(format!("{{t}}w_{e}"));
        v.push(format!("{{t}}wh_{e}"));
    }
    v
}

pub fn is_zlex(key: &[u8]) -> bool {
    ZLEX.iter().any(|k| k.as_bytes() == key)
}

pub fn is_hll(key: &[u8]) -> bool {
    HLL.iter().any(|k| k.as_bytes() == key)
}
