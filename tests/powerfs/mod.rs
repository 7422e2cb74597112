//! A filesystem whose power can be cut: an in-memory FUSE filesystem that keeps, for every file
//! and directory, both what readers see now and what a disk would still hold after losing power.
//!
//! The model is the one POSIX promises, without the extra ordering some filesystems give:
//! - a file's bytes survive only up to its last `fsync`/`fdatasync`; bytes written since may be
//!   lost, or (with [`Tail::Random`]) a random prefix of the appended ones may survive, as when
//!   the page cache was partly written back;
//! - a directory's entries (creations, renames, unlinks, `mkdir`) survive only up to the last
//!   `fsync` of that directory. A file that was fsynced but whose name never was is gone.
//!
//! [`Mounted::cut`] cuts the power: it takes the image the disk would hold, and from then on every
//! request fails with EIO, as from a device that went away. [`Image::write_to`] lays the image out
//! in a real directory, where the server restarts as after a reboot.
//!
//! The kernel is asked for no write-back cache, so every write reaches this process when the
//! server makes it; io_uring's writes and fsyncs arrive here like any other.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

/// How long the kernel may cache names and attributes. Every change goes through this process,
/// so its caches stay right.
const TTL: Duration = Duration::from_secs(1);

/// What happens to bytes written since a file's last fsync when the power is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// All of them are lost.
    Lost,
    /// Each file keeps a random prefix of its appended unsynced bytes: none, some or all.
    Random,
}

/// Counts of what the server asked of the filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub writes: u64,
    pub bytes_written: u64,
    pub fsyncs: u64,
    pub dir_fsyncs: u64,
    /// Unsynced bytes the last cut threw away, over all files.
    pub bytes_lost_at_cut: u64,
    /// Names created, renamed or removed since their directory's last fsync, at the last cut.
    pub entries_lost_at_cut: u64,
}

struct FileBody {
    data: Vec<u8>,
    /// `data[..synced]` is on disk, unless `before` holds the synced bytes because a write or a
    /// truncation has since changed some of them.
    synced: usize,
    before: Option<Vec<u8>>,
}

impl FileBody {
    fn new(data: Vec<u8>, durable: bool) -> FileBody {
        let synced = if durable { data.len() } else { 0 };
        FileBody { data, synced, before: None }
    }

    /// Keeps a copy of the synced bytes before anything at or after `from` below them changes.
    fn will_change(&mut self, from: usize) {
        if self.before.is_none() && from < self.synced {
            self.before = Some(self.data[..self.synced].to_vec());
        }
    }

    fn write(&mut self, off: usize, buf: &[u8]) {
        self.will_change(off);
        let end = off + buf.len();
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        self.data[off..end].copy_from_slice(buf);
    }

    fn truncate(&mut self, len: usize) {
        self.will_change(len);
        self.data.resize(len, 0);
    }

    fn sync(&mut self) {
        self.before = None;
        self.synced = self.data.len();
    }

    /// What the disk holds, and how many written bytes it lost.
    fn durable(&self, tail: Tail, rng: &mut u64) -> (Vec<u8>, u64) {
        if let Some(b) = &self.before {
            return (b.clone(), self.data.len() as u64);
        }
        let unsynced = self.data.len() - self.synced;
        let keep = match tail {
            Tail::Lost => 0,
            Tail::Random if unsynced == 0 => 0,
            Tail::Random => match next(rng) % 3 {
                0 => 0,
                1 => unsynced,
                _ => (next(rng) % (unsynced as u64 + 1)) as usize,
            },
        };
        (self.data[..self.synced + keep].to_vec(), (unsynced - keep) as u64)
    }
}

struct DirBody {
    entries: BTreeMap<OsString, u64>,
    /// The entries as of the directory's last fsync.
    durable: BTreeMap<OsString, u64>,
}

enum Body {
    File(FileBody),
    Dir(DirBody),
}

struct Node {
    body: Body,
    perm: u16,
    mtime: SystemTime,
}

struct State {
    /// Indexed by inode number; 0 is unused, 1 is the root. Unlinked nodes stay: an old name
    /// may still be durable, and an open handle may still use them.
    nodes: Vec<Node>,
    off: bool,
    rng: u64,
    stats: Stats,
    /// How long an fsync takes before it makes the file durable (`Mounted::slow_fsync`).
    fsync_delay: std::time::Duration,
}

fn next(rng: &mut u64) -> u64 {
    // xorshift64*
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

impl State {
    fn node(&mut self, ino: INodeNo) -> Result<&mut Node, Errno> {
        if self.off {
            return Err(Errno::EIO);
        }
        self.nodes.get_mut(ino.0 as usize).filter(|_| ino.0 != 0).ok_or(Errno::ENOENT)
    }

    fn file(&mut self, ino: INodeNo) -> Result<&mut FileBody, Errno> {
        match &mut self.node(ino)?.body {
            Body::File(f) => Ok(f),
            Body::Dir(_) => Err(Errno::EISDIR),
        }
    }

    fn dir(&mut self, ino: INodeNo) -> Result<&mut DirBody, Errno> {
        match &mut self.node(ino)?.body {
            Body::Dir(d) => Ok(d),
            Body::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn attr(&self, ino: u64) -> FileAttr {
        let n = &self.nodes[ino as usize];
        let (kind, size, nlink) = match &n.body {
            Body::File(f) => (FileType::RegularFile, f.data.len() as u64, 1),
            Body::Dir(_) => (FileType::Directory, 0, 2),
        };
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: n.mtime,
            mtime: n.mtime,
            ctime: n.mtime,
            crtime: n.mtime,
            kind,
            perm: n.perm,
            nlink,
            uid: unsafe { libc::geteuid() },
            gid: unsafe { libc::getegid() },
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    fn add_node(&mut self, body: Body, perm: u16) -> u64 {
        self.nodes.push(Node { body, perm, mtime: SystemTime::now() });
        (self.nodes.len() - 1) as u64
    }

    fn lookup(&mut self, parent: INodeNo, name: &OsStr) -> Result<u64, Errno> {
        self.dir(parent)?.entries.get(name).copied().ok_or(Errno::ENOENT)
    }

    /// Adds a new node named `name` in `parent`.
    fn create(&mut self, parent: INodeNo, name: &OsStr, body: Body, perm: u16) -> Result<u64, Errno> {
        if self.dir(parent)?.entries.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.add_node(body, perm);
        self.dir(parent)?.entries.insert(name.to_os_string(), ino);
        self.touch(parent.0);
        Ok(ino)
    }

    fn touch(&mut self, ino: u64) {
        self.nodes[ino as usize].mtime = SystemTime::now();
    }

    /// Unlinks `name` from `parent`: a file (`dir` false) or an empty directory (`dir` true).
    fn remove(&mut self, parent: INodeNo, name: &OsStr, dir: bool) -> Result<(), Errno> {
        let ino = self.lookup(parent, name)?;
        match (&self.nodes[ino as usize].body, dir) {
            (Body::Dir(_), false) => return Err(Errno::EISDIR),
            (Body::File(_), true) => return Err(Errno::ENOTDIR),
            (Body::Dir(_), true) if !self.is_empty_dir(ino) => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        self.dir(parent)?.entries.remove(name);
        self.touch(parent.0);
        Ok(())
    }

    fn is_empty_dir(&self, ino: u64) -> bool {
        matches!(&self.nodes[ino as usize].body, Body::Dir(d) if d.entries.is_empty())
    }

    /// The tree a disk would hold after losing power now.
    fn image(&mut self, tail: Tail) -> Image {
        let mut image = Image::default();
        let mut rng = self.rng;
        let mut lost_bytes = 0;
        let mut lost_entries = 0;
        let mut stack = vec![(1u64, PathBuf::new())];
        while let Some((ino, path)) = stack.pop() {
            let Body::Dir(d) = &self.nodes[ino as usize].body else { continue };
            lost_entries += d.entries.iter().filter(|(k, v)| d.durable.get(*k) != Some(v)).count() as u64;
            lost_entries += d.durable.keys().filter(|k| !d.entries.contains_key(*k)).count() as u64;
            for (name, &child) in &d.durable {
                let p = path.join(name);
                match &self.nodes[child as usize].body {
                    Body::Dir(_) => {
                        image.dirs.push(p.clone());
                        stack.push((child, p));
                    }
                    Body::File(f) => {
                        let (bytes, lost) = f.durable(tail, &mut rng);
                        lost_bytes += lost;
                        image.files.push((p, bytes));
                    }
                }
            }
        }
        self.rng = rng;
        self.stats.bytes_lost_at_cut = lost_bytes;
        self.stats.entries_lost_at_cut = lost_entries;
        image.dirs.sort();
        image
    }
}

/// What the disk holds after a power cut: directories and files, by path from the mount point.
#[derive(Default)]
pub struct Image {
    pub dirs: Vec<PathBuf>,
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

impl Image {
    /// Lays the image out under `dir`, which must be empty or missing.
    pub fn write_to(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        for d in &self.dirs {
            std::fs::create_dir_all(dir.join(d)).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
        }
        for (p, bytes) in &self.files {
            std::fs::write(dir.join(p), bytes).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        }
    }

    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.iter().find(|(p, _)| p == Path::new(path)).map(|(_, b)| b.as_slice())
    }
}

struct PowerFs {
    state: Arc<Mutex<State>>,
}

impl PowerFs {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn reply_empty(reply: ReplyEmpty, r: Result<(), Errno>) {
    match r {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

fn name_ok(name: &OsStr) -> Result<(), Errno> {
    if name.len() > 255 {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

impl Filesystem for PowerFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let mut st = self.lock();
        match st.lookup(parent, name) {
            Ok(ino) => reply.entry(&TTL, &st.attr(ino), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let mut st = self.lock();
        match st.node(ino) {
            Ok(_) => reply.attr(&TTL, &st.attr(ino.0)),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut st = self.lock();
        let r = (|| {
            let n = st.node(ino)?;
            if let Some(m) = mode {
                n.perm = (m & 0o7777) as u16;
            }
            if let Some(len) = size {
                match &mut n.body {
                    Body::File(f) => f.truncate(len as usize),
                    Body::Dir(_) => return Err(Errno::EISDIR),
                }
                n.mtime = SystemTime::now();
            }
            Ok(())
        })();
        match r {
            Ok(()) => reply.attr(&TTL, &st.attr(ino.0)),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        if mode & libc::S_IFMT != libc::S_IFREG {
            return reply.error(Errno::EPERM);
        }
        let mut st = self.lock();
        let perm = (mode & !umask & 0o7777) as u16;
        match name_ok(name).and_then(|()| st.create(parent, name, Body::File(FileBody::new(Vec::new(), false)), perm)) {
            Ok(ino) => reply.entry(&TTL, &st.attr(ino), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        let mut st = self.lock();
        let body = Body::Dir(DirBody { entries: BTreeMap::new(), durable: BTreeMap::new() });
        let perm = (mode & !umask & 0o7777) as u16;
        match name_ok(name).and_then(|()| st.create(parent, name, body, perm)) {
            Ok(ino) => reply.entry(&TTL, &st.attr(ino), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(reply, self.lock().remove(parent, name, false));
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(reply, self.lock().remove(parent, name, true));
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let mut st = self.lock();
        let r = (|| {
            name_ok(newname)?;
            if flags.contains(RenameFlags::RENAME_EXCHANGE) || flags.contains(RenameFlags::RENAME_WHITEOUT) {
                return Err(Errno::EINVAL);
            }
            let ino = st.lookup(parent, name)?;
            let src_is_dir = matches!(st.nodes[ino as usize].body, Body::Dir(_));
            if let Ok(old) = st.lookup(newparent, newname) {
                if flags.contains(RenameFlags::RENAME_NOREPLACE) {
                    return Err(Errno::EEXIST);
                }
                if old == ino {
                    return Ok(());
                }
                match (&st.nodes[old as usize].body, src_is_dir) {
                    (Body::Dir(_), false) => return Err(Errno::EISDIR),
                    (Body::File(_), true) => return Err(Errno::ENOTDIR),
                    (Body::Dir(_), true) if !st.is_empty_dir(old) => return Err(Errno::ENOTEMPTY),
                    _ => {}
                }
            }
            st.dir(parent)?.entries.remove(name);
            st.dir(newparent)?.entries.insert(newname.to_os_string(), ino);
            st.touch(parent.0);
            st.touch(newparent.0);
            Ok(())
        })();
        reply_empty(reply, r);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.lock().node(ino) {
            Ok(_) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let mut st = self.lock();
        match st.file(ino) {
            Ok(f) => {
                let start = (offset as usize).min(f.data.len());
                let end = start.saturating_add(size as usize).min(f.data.len());
                reply.data(&f.data[start..end]);
            }
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut st = self.lock();
        match st.file(ino) {
            Ok(f) => {
                f.write(offset as usize, data);
                st.touch(ino.0);
                st.stats.writes += 1;
                st.stats.bytes_written += data.len() as u64;
                reply.written(data.len() as u32);
            }
            Err(e) => reply.error(e),
        }
    }

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _lock_owner: LockOwner, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        // The file becomes durable at the end of the delay, as on a disk: what a server
        // acknowledges before the fsync returns is at risk for that long. Requests queue
        // meanwhile (one session thread), as behind a busy disk.
        let delay = self.lock().fsync_delay;
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut st = self.lock();
        match st.file(ino) {
            Ok(f) => {
                f.sync();
                st.stats.fsyncs += 1;
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let mut st = self.lock();
        let entries: Vec<(u64, OsString)> = match st.dir(ino) {
            Ok(d) => d.entries.iter().map(|(k, &v)| (v, k.clone())).collect(),
            Err(e) => return reply.error(e),
        };
        let all = [(ino.0, OsString::from(".")), (ino.0, OsString::from(".."))].into_iter().chain(entries);
        for (i, (child, name)) in all.enumerate().skip(offset as usize) {
            let kind = match st.nodes[child as usize].body {
                Body::Dir(_) => FileType::Directory,
                Body::File(_) => FileType::RegularFile,
            };
            if reply.add(INodeNo(child), (i + 1) as u64, kind, &name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let mut st = self.lock();
        match st.dir(ino) {
            Ok(d) => {
                d.durable = d.entries.clone();
                st.stats.dir_fsyncs += 1;
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(1 << 24, 1 << 23, 1 << 23, 1 << 20, 1 << 19, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        match self.lock().node(ino) {
            Ok(_) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut st = self.lock();
        let perm = (mode & !umask & 0o7777) as u16;
        match name_ok(name).and_then(|()| st.create(parent, name, Body::File(FileBody::new(Vec::new(), false)), perm)) {
            Ok(ino) => reply.created(&TTL, &st.attr(ino), Generation(0), FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }
}

use fuser::ReplyOpen;

/// A mounted [`PowerFs`]; unmounted on drop.
pub struct Mounted {
    session: Option<BackgroundSession>,
    state: Arc<Mutex<State>>,
    pub mountpoint: PathBuf,
}

impl Mounted {
    /// Mounts an empty filesystem at `mountpoint`, or one holding a copy of `from` (all of it
    /// durable, as a disk after a reboot). `seed` drives the choice of torn tails.
    pub fn mount(mountpoint: &Path, from: Option<&Path>, seed: u64) -> std::io::Result<Mounted> {
        let mut st = State {
            nodes: Vec::new(),
            off: false,
            rng: seed | 1,
            stats: Stats::default(),
            fsync_delay: std::time::Duration::ZERO,
        };
        let empty = || Body::Dir(DirBody { entries: BTreeMap::new(), durable: BTreeMap::new() });
        st.add_node(empty(), 0); // inode 0: unused
        st.add_node(empty(), 0o755);
        if let Some(from) = from {
            copy_in(&mut st, 1, from)?;
        }
        let state = Arc::new(Mutex::new(st));
        let mut cfg = Config::default();
        cfg.mount_options = vec![MountOption::FSName("tessera-powerfs".into()), MountOption::RW];
        let session = fuser::spawn_mount(PowerFs { state: state.clone() }, mountpoint, &cfg)?;
        Ok(Mounted { session: Some(session), state, mountpoint: mountpoint.to_path_buf() })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cuts the power: returns what the disk holds, and fails every later request with EIO.
    pub fn cut(&self, tail: Tail) -> Image {
        let mut st = self.lock();
        st.off = true;
        st.image(tail)
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    /// Makes every later fsync of a file take `d` before the file is durable and the call
    /// returns (a real disk's flush; this machine's takes about 200 µs).
    pub fn slow_fsync(&self, d: std::time::Duration) {
        self.lock().fsync_delay = d;
    }
}

fn copy_in(st: &mut State, dir: u64, from: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        let ino = if e.file_type()?.is_dir() {
            let ino = st.add_node(Body::Dir(DirBody { entries: BTreeMap::new(), durable: BTreeMap::new() }), 0o755);
            copy_in(st, ino, &e.path())?;
            ino
        } else {
            st.add_node(Body::File(FileBody::new(std::fs::read(e.path())?, true)), 0o644)
        };
        if let Body::Dir(d) = &mut st.nodes[dir as usize].body {
            d.entries.insert(name.clone(), ino);
            d.durable.insert(name, ino);
        }
    }
    Ok(())
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            // A lazy unmount: a server still holding files (killed, not yet reaped) cannot
            // keep it busy.
            let _ = s.umount_and_join();
        }
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;

    #[test]
    fn unsynced_bytes_and_overwrites() {
        let mut rng = 7;
        let mut f = FileBody::new(b"abc".to_vec(), true);
        f.write(3, b"def");
        assert_eq!(f.durable(Tail::Lost, &mut rng), (b"abc".to_vec(), 3));
        f.sync();
        f.write(1, b"X");
        f.truncate(2);
        assert_eq!(f.durable(Tail::Lost, &mut rng).0, b"abcdef".to_vec());
        f.sync();
        assert_eq!(f.durable(Tail::Random, &mut rng).0, b"aX".to_vec());
        f.write(2, b"0123456789");
        for _ in 0..20 {
            let (d, lost) = f.durable(Tail::Random, &mut rng);
            assert!(d.starts_with(b"aX") && b"aX0123456789".starts_with(&d));
            assert_eq!(d.len() as u64 + lost, 12);
        }
    }
}
