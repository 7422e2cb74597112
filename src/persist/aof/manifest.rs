//! AOF file names, manifests and layouts.
//!
//! Each shard has its own manifest in Redis 7's multi-part format (`file NAME seq N type b|h|i`,
//! one line per file), naming one base file (an RDB file, `.base.rdb`, or RESP commands,
//! `.base.aof`, when `aof-use-rdb-preamble` is off) and its incremental files (RESP commands),
//! so `redis-check-aof <manifest>` checks one shard's files as it would Redis's.
//!
//! A node with one shard uses exactly Redis's names (`appendonly.aof.manifest`,
//! `appendonly.aof.1.base.rdb`, `appendonly.aof.1.incr.aof`), so its `appendonlydir` and
//! Redis's are interchangeable. With N > 1 shards, shard i's files carry `.shard{i}of{N}` after
//! the base name. The set of manifests of one N is a *layout*; starting with another shard
//! count loads the old layout, writes a new one, then deletes the old one. Which layout is
//! current is decided by completeness (every shard's manifest present) and then by the
//! highest file sequence number, since a new layout always takes sequence numbers above every
//! old one; shard 0's manifest is written last and deleted first, so a crash at any point
//! leaves the newest complete layout current.

use std::path::{Path, PathBuf};

/// What a manifest line says a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Base,
    History,
    Incr,
}

impl FileKind {
    fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
}

/// One shard's manifest: its base (if any) and incremental files in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
    /// Files kept only until they are deleted (a rewrite's leftovers).
    pub history: Vec<AofFile>,
}

impl Manifest {
    /// The highest sequence number of any file named.
    pub fn max_seq(&self) -> u64 {
        self.base.iter().chain(&self.incrs).chain(&self.history).map(|f| f.seq).max().unwrap_or(0)
    }

    /// The manifest text, base first as Redis writes it.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incrs) {
            s.push_str(&format!("file {} seq {} type {}\n", f.name, f.seq, f.kind.letter()));
        }
        s
    }

    /// Parses a manifest; errors name the line.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_ascii_whitespace().collect();
            if !words.len().is_multiple_of(2) {
                return Err(format!("Invalid AOF manifest file format at line {}", n + 1));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair[0] {
                    "file" => name = Some(pair[1].to_owned()),
                    "seq" => seq = pair[1].parse::<u64>().ok(),
                    "type" => {
                        kind = match pair[1] {
                            "b" => Some(FileKind::Base),
                            "h" => Some(FileKind::History),
                            "i" => Some(FileKind::Incr),
                            _ => None,
                        }
                    }
                    _ => {} // unknown keys are ignored, as Redis does
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!("Invalid AOF manifest file format at line {}", n + 1));
            };
            if name.contains('/') || name.is_empty() {
                return Err(format!("Invalid AOF file name '{name}' in the manifest at line {}", n + 1));
            }
            let f = AofFile { name, seq, kind };
            match kind {
                FileKind::Base if m.base.is_some() => {
                    return Err(format!("Found duplicate base file information at line {}", n + 1))
                }
                FileKind::Base => m.base = Some(f),
                FileKind::History => m.history.push(f),
                FileKind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= f.seq) {
                        return Err(format!("Found a non-monotonic sequence number at line {}", n + 1));
                    }
                    m.incrs.push(f)
                }
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("Invalid AOF manifest: it names no base and no incremental file".into());
        }
        Ok(m)
    }
}

/// Names of one shard's files in a layout of `nshards`.
#[derive(Clone, Debug)]
pub struct Names {
    /// `appendfilename`, e.g. `appendonly.aof`.
    pub base: String,
    pub shard: usize,
    pub nshards: usize,
}

impl Names {
    fn stem(&self) -> String {
        if self.nshards == 1 {
            self.base.clone()
        } else {
            format!("{}.shard{}of{}", self.base, self.shard, self.nshards)
        }
    }
    pub fn manifest(&self) -> String {
        format!("{}.manifest", self.stem())
    }
    /// The base file of sequence `seq`: an RDB file, or RESP commands when `resp`.
    pub fn base_file_as(&self, seq: u64, resp: bool) -> String {
        format!("{}.{seq}.base.{}", self.stem(), if resp { "aof" } else { "rdb" })
    }
    pub fn base_file(&self, seq: u64) -> String {
        self.base_file_as(seq, false)
    }
    pub fn incr_file(&self, seq: u64) -> String {
        format!("{}.{seq}.incr.aof", self.stem())
    }
}

/// A complete layout found on disk: every shard's manifest.
#[derive(Debug)]
pub struct Layout {
    pub nshards: usize,
    pub manifests: Vec<Manifest>,
}

impl Layout {
    pub fn max_seq(&self) -> u64 {
        self.manifests.iter().map(|m| m.max_seq()).max().unwrap_or(0)
    }
}

/// The shard counts that have a manifest in `dir`, from the names alone.
fn layout_counts(dir: &Path, base: &str) -> Vec<usize> {
    let mut counts = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return counts };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(base).and_then(|r| r.strip_suffix(".manifest")) else { continue };
        let n = if rest.is_empty() {
            Some(1)
        } else {
            rest.strip_prefix(".shard").and_then(|r| r.split_once("of")).and_then(|(_, n)| n.parse::<usize>().ok())
        };
        if let Some(n) = n.filter(|&n| n >= 1 && !counts.contains(&n)) {
            counts.push(n);
        }
    }
    counts
}

/// Reads one layout; `Ok(None)` when a shard's manifest is missing (incomplete layout).
fn read_layout(dir: &Path, base: &str, nshards: usize) -> Result<Option<Layout>, String> {
    let mut manifests = Vec::with_capacity(nshards);
    for shard in 0..nshards {
        let path = dir.join(Names { base: base.into(), shard, nshards }.manifest());
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("Fail to read the AOF manifest {}: {e}", path.display())),
        };
        let m = Manifest::parse(&text).map_err(|e| format!("{e} (in {})", path.display()))?;
        manifests.push(m);
    }
    Ok(Some(Layout { nshards, manifests }))
}

/// The current layout in `dir`: the complete one with the highest sequence number.
pub fn current_layout(dir: &Path, base: &str) -> Result<Option<Layout>, String> {
    let mut best: Option<Layout> = None;
    for n in layout_counts(dir, base) {
        if let Some(l) = read_layout(dir, base, n)? {
            if best.as_ref().is_none_or(|b| l.max_seq() > b.max_seq()) {
                best = Some(l);
            }
        }
    }
    Ok(best)
}

/// Every file of layouts other than `keep` (incomplete or older ones), to delete once the
/// current layout is durable. Returns paths, shard 0's manifest of each old layout first.
pub fn stale_files(dir: &Path, base: &str, keep: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in layout_counts(dir, base).into_iter().filter(|&n| n != keep) {
        for shard in 0..n {
            let names = Names { base: base.into(), shard, nshards: n };
            let mpath = dir.join(names.manifest());
            if let Ok(m) =
                std::fs::read_to_string(&mpath).map_err(|_| ()).and_then(|t| Manifest::parse(&t).map_err(|_| ()))
            {
                for f in m.base.iter().chain(&m.incrs).chain(&m.history) {
                    out.push(dir.join(&f.name));
                }
            }
            if shard == 0 {
                out.insert(0, mpath);
            } else {
                out.push(mpath);
            }
        }
    }
    out
}

/// Writes `text` to `path` atomically and durably: temp file, fsync, rename, fsync the dir.
pub fn write_durably(dir: &Path, path: &Path, text: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!(
        "temp-{}.{}",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}

/// Creates `dir` (and missing parents) so that it survives a power cut: a new directory's name
/// is durable only once its parent is fsynced, and the fsyncs of the files inside it do not
/// cover that on every filesystem.
pub fn create_dir_durably(dir: &Path) -> std::io::Result<()> {
    // The directories this call creates, innermost first.
    let mut created = Vec::new();
    let mut d = dir;
    while !d.as_os_str().is_empty() && !d.is_dir() {
        created.push(d);
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    if created.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    for c in created {
        sync_dir(c.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")));
    }
    Ok(())
}

/// Makes renames and creations in `dir` durable.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_in_redis_format() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).expect("valid");
        assert_eq!(m.base.as_ref().map(|b| b.seq), Some(1));
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.to_text(), text);
    }

    #[test]
    fn manifest_rejects_bad_lines() {
        assert!(Manifest::parse("file a seq x type b\n").is_err());
        assert!(Manifest::parse("file a seq 1 type z\n").is_err());
        assert!(Manifest::parse("file a seq 1\n").is_err());
        assert!(Manifest::parse("file ../a seq 1 type i\n").is_err());
        assert!(Manifest::parse("file a seq 1 type b\nfile b seq 2 type b\n").is_err());
        assert!(Manifest::parse("file a seq 2 type i\nfile b seq 1 type i\n").is_err());
        assert!(Manifest::parse("").is_err());
    }

    #[test]
    fn one_shard_uses_redis_names() {
        let n = Names { base: "appendonly.aof".into(), shard: 0, nshards: 1 };
        assert_eq!(n.manifest(), "appendonly.aof.manifest");
        assert_eq!(n.base_file(3), "appendonly.aof.3.base.rdb");
        assert_eq!(n.base_file_as(3, true), "appendonly.aof.3.base.aof");
        let n = Names { base: "appendonly.aof".into(), shard: 1, nshards: 2 };
        assert_eq!(n.incr_file(4), "appendonly.aof.shard1of2.4.incr.aof");
    }

    #[test]
    fn newest_complete_layout_wins() {
        let dir = std::env::temp_dir().join(format!("tessera-aof-layout-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let put = |shard, n, seq| {
            let names = Names { base: "a.aof".into(), shard, nshards: n };
            let m = format!("file {} seq {seq} type i\n", names.incr_file(seq));
            std::fs::write(dir.join(names.manifest()), m).expect("write");
        };
        put(0, 1, 1);
        assert_eq!(current_layout(&dir, "a.aof").expect("ok").map(|l| l.nshards), Some(1));
        // An incomplete newer layout (shard 0 missing) does not count.
        put(1, 2, 5);
        assert_eq!(current_layout(&dir, "a.aof").expect("ok").map(|l| l.nshards), Some(1));
        put(0, 2, 5);
        assert_eq!(current_layout(&dir, "a.aof").expect("ok").map(|l| l.nshards), Some(2));
        let stale = stale_files(&dir, "a.aof", 2);
        assert_eq!(stale.first().map(|p| p.ends_with("a.aof.manifest")), Some(true));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
