//! Where an output's bytes go, decided once from what its path names when the output opens.
//!
//! A regular file, or a name that does not exist yet, is written atomically (temporary, then
//! rename): a cron consumer never reads half a report. A symlink is followed to its final
//! target, and that target is what gets replaced: the link stays. Anything else (a FIFO, a
//! character device, `/dev/stdout`, `-`) is written in place as a stream, because renaming a
//! file over it would destroy it (as root, `/dev/stdout` itself) while its reader got nothing.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::Output;

/// How many symlinks a path may go through, as the kernel allows (ELOOP beyond).
const MAX_LINKS: usize = 40;

/// How one output path is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// A regular file or a missing name, every symlink resolved: replaced atomically.
    Atomic(PathBuf),
    /// A FIFO, device or other special file: opened and written in place, never created.
    /// `append` for a regular file reached through a /proc link (another process's descriptor):
    /// what it already holds is kept.
    Stream { path: PathBuf, append: bool },
    /// One of this process's own descriptors (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`):
    /// written through a duplicate, as a shell does, so a `>>` redirection keeps appending.
    OwnFd(i32),
}

fn folder_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn is_a_directory(p: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::IsADirectory,
        format!("{} is a directory; name a file", p.display()),
    )
}

/// Whether `dir` is on procfs, whose symlinks (`/proc/self/fd/1`) name open files rather than
/// paths: their text cannot be followed, only the link itself opened.
fn on_procfs(dir: &Path) -> bool {
    let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statfs is plain old data, so all-zero is a valid value to be overwritten.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid statfs for the call's duration.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    // The field's integer type differs between targets.
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as i64;
    magic == 0x9fa0 // PROC_SUPER_MAGIC
}

/// Decide how `path` is written: follow its symlinks one at a time (each relative target
/// against the folder its link really sits in), stopping at the first thing that is not one.
pub fn plan(path: &Path) -> io::Result<Plan> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        // "/", "..", "a/..": a folder whatever it resolves to.
        let Some(name) = p.file_name().map(|n| n.to_os_string()) else {
            return Err(is_a_directory(&p));
        };
        let folder = folder_of(&p);
        match std::fs::metadata(&folder) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{} is not a folder", folder.display()),
                ));
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("folder {}: {e}", folder.display()),
                ));
            }
        }
        let dir = std::fs::canonicalize(&folder)
            .map_err(|e| io::Error::new(e.kind(), format!("folder {}: {e}", folder.display())))?;
        let full = dir.join(&name);
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Plan::Atomic(full)),
            Err(e) => return Err(e),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            if on_procfs(&dir) {
                return proc_link(&dir, &name, full);
            }
            // An absolute target replaces `dir`; a relative one is taken from it.
            p = dir.join(std::fs::read_link(&full)?);
            continue;
        }
        if ft.is_file() {
            return Ok(Plan::Atomic(full));
        }
        if ft.is_dir() {
            return Err(is_a_directory(path));
        }
        return Ok(Plan::Stream {
            path: full,
            append: false,
        });
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

/// A /proc link: one of our own descriptors, or something opened through the link itself.
fn proc_link(dir: &Path, name: &std::ffi::OsStr, full: PathBuf) -> io::Result<Plan> {
    let pid = std::process::id();
    let own_dir = dir == Path::new(&format!("/proc/{pid}/fd")) || {
        // /proc/thread-self/fd resolves to /proc/PID/task/TID/fd.
        let task = PathBuf::from(format!("/proc/{pid}/task"));
        dir.ends_with("fd") && dir.parent().and_then(Path::parent) == Some(task.as_path())
    };
    if own_dir && let Some(fd) = name.to_str().and_then(|n| n.parse::<i32>().ok()) {
        return Ok(Plan::OwnFd(fd));
    }
    let m = std::fs::metadata(&full)?;
    if m.is_dir() {
        return Err(is_a_directory(&full));
    }
    Ok(Plan::Stream {
        path: full,
        append: m.is_file(),
    })
}

/// Whether `fd` is open for writing (F_GETFL does not touch the file).
fn fd_writable(fd: i32) -> io::Result<()> {
    // SAFETY: F_GETFL reads descriptor flags; an unopened fd just fails with EBADF.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if fl < 0 {
        return Err(io::Error::last_os_error());
    }
    if fl & libc::O_ACCMODE == libc::O_RDONLY {
        return Err(io::Error::other(format!(
            "descriptor {fd} is open read-only"
        )));
    }
    Ok(())
}

/// A duplicate of our own descriptor `fd`, close-on-exec, sharing its offset and flags.
fn dup_fd(fd: i32) -> io::Result<File> {
    use std::os::fd::{FromRawFd, OwnedFd};
    fd_writable(fd)?;
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) returns a fresh descriptor or -1; nothing else owns it.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` was just created above and is owned by nobody else.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(new) }))
}

/// The output can be written, checked without creating, opening or replacing anything that
/// exists: opening a FIFO would block, or hand its reader an early end of file.
pub fn check_writable(path: &Path) -> Result<(), String> {
    let plan = plan(path).map_err(|e| {
        if e.kind() == io::ErrorKind::IsADirectory {
            e.to_string()
        } else {
            format!("cannot write {}: {e}", path.display())
        }
    })?;
    let failed = |e: io::Error| format!("cannot write {}: {e}", path.display());
    match plan {
        Plan::Atomic(p) => probe_folder(&folder_of(&p)).map_err(failed),
        Plan::Stream { path: p, .. } => {
            let c = CString::new(p.as_os_str().as_bytes())
                .map_err(|_| failed(io::Error::other("path contains a NUL byte")))?;
            // SAFETY: `c` is a NUL-terminated path for the duration of the call.
            let r = unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, 0) };
            if r == 0 {
                Ok(())
            } else {
                Err(failed(io::Error::last_os_error()))
            }
        }
        Plan::OwnFd(fd) => fd_writable(fd).map_err(failed),
    }
}

/// Create and remove a file in `dir`: permission bits alone lie for root and read-only mounts.
fn probe_folder(dir: &Path) -> io::Result<()> {
    let mut last = io::Error::other("no probe name free");
    for n in 0..4 {
        let probe = dir.join(format!(".rdpsweep-write-test-{}-{n}", std::process::id()));
        // create_new: never opens (or follows) something already there.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// The error with the output's name and, where it helps, what happened: the sink's error is
/// all the user sees of an output that failed mid-scan.
fn named(name: &str, e: io::Error) -> io::Error {
    let hint = if e.raw_os_error() == Some(libc::ENOSPC) || e.kind() == io::ErrorKind::StorageFull {
        "; free some space or write the reports elsewhere"
    } else if e.raw_os_error() == Some(libc::EPIPE) {
        "; whatever was reading it stopped before the report was complete"
    } else {
        ""
    };
    io::Error::new(e.kind(), format!("{name}: {e}{hint}"))
}

/// A file that appears under its final name only when `commit` is called.
///
/// Where the filesystem allows (Linux `O_TMPFILE`: ext4, xfs, btrfs, tmpfs), the data is written
/// to an unnamed file that is given a name only at commit: a process killed mid-scan (a second
/// Ctrl-C, SIGKILL, the OOM killer) leaves nothing behind. Elsewhere a dot-named temporary in
/// the same folder is used and removed on drop.
pub struct AtomicFile {
    /// The named temporary, while one exists on disk (empty otherwise).
    tmp: PathBuf,
    /// The name used for the last step of an anonymous file's commit (link, then rename).
    tmp_name: PathBuf,
    anonymous: bool,
    dest: PathBuf,
    /// None once committed.
    out: Option<BufWriter<File>>,
}

/// An unnamed file in `dir` (O_TMPFILE), to be linked into place at commit.
fn create_anonymous(dir: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o666)
        .open(dir)
}

/// Give an O_TMPFILE file the name `to` (through /proc, which needs no privilege).
fn link_anonymous(f: &File, to: &Path) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let from = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))
        .map_err(|_| io::Error::other("bad fd path"))?;
    let to = CString::new(to.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("output path contains a NUL byte"))?;
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    let r = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl AtomicFile {
    /// `dest` must already be resolved (see [`plan`]): the rename replaces whatever is there.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let dir = folder_of(dest);
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        // Same folder as the destination, so the rename is atomic (same filesystem).
        let tmp_name = dir.join(format!(".{name}.rdpsweep-{}.tmp", std::process::id()));
        let (f, tmp, anonymous) = match create_anonymous(&dir) {
            Ok(f) => (f, PathBuf::new(), true),
            Err(_) => {
                // A leftover of an earlier run with our pid; create_new then never follows a
                // symlink or opens a FIFO planted under that name.
                let _ = std::fs::remove_file(&tmp_name);
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&tmp_name)?;
                (f, tmp_name.clone(), false)
            }
        };
        Ok(AtomicFile {
            tmp,
            tmp_name,
            anonymous,
            dest: dest.to_path_buf(),
            out: Some(BufWriter::with_capacity(64 * 1024, f)),
        })
    }

    pub fn commit(mut self) -> io::Result<()> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        let f = out.into_inner().map_err(|e| self.named(e.into_error()))?;
        f.sync_all().map_err(|e| self.named(e))?;
        if self.anonymous {
            // A leftover of an earlier run with the same pid would make the link fail.
            let _ = std::fs::remove_file(&self.tmp_name);
            link_anonymous(&f, &self.tmp_name).map_err(|e| self.named(e))?;
            self.tmp = self.tmp_name.clone();
        }
        // On error, Drop removes the temporary: never a half file under either name.
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| self.named(e))?;
        self.tmp = PathBuf::new();
        Ok(())
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.out
            .as_mut()
            .ok_or_else(|| io::Error::other("file already committed"))
    }

    fn named(&self, e: io::Error) -> io::Error {
        named(&self.dest.display().to_string(), e)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.writer()?.write(buf);
        r.map_err(|e| self.named(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        let r = self.writer()?.flush();
        r.map_err(|e| self.named(e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Without a successful commit the temporary file must not linger.
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Bytes written in place (stdout, a FIFO, a device): nothing to publish, every write error
/// (a full device, a reader gone) reported under the name the user gave.
pub struct Stream {
    out: BufWriter<Box<dyn Write + Send>>,
    name: String,
}

impl Stream {
    fn new(w: Box<dyn Write + Send>, name: String) -> Stream {
        Stream {
            out: BufWriter::with_capacity(64 * 1024, w),
            name,
        }
    }

    /// Open an existing special file for writing; never creates (a missing node is an error,
    /// not a new regular file) and never truncates.
    fn open(path: &Path, append: bool) -> io::Result<File> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .append(append)
            // A terminal reached this way must not become our controlling one.
            .custom_flags(libc::O_NOCTTY)
            .open(path)
    }
}

/// Either a stream written in place or an atomic file.
pub enum Dest {
    Stream(Stream),
    File(AtomicFile),
}

impl Dest {
    pub fn open(out: &Output) -> io::Result<Dest> {
        let path = match out {
            Output::Stdout => {
                return Ok(Dest::Stream(Stream::new(
                    Box::new(io::stdout()),
                    "stdout".into(),
                )));
            }
            Output::File(p) => p,
        };
        let name = path.display().to_string();
        Ok(match plan(path)? {
            Plan::Atomic(p) => Dest::File(AtomicFile::create(&p)?),
            Plan::Stream { path: p, append } => {
                Dest::Stream(Stream::new(Box::new(Stream::open(&p, append)?), name))
            }
            Plan::OwnFd(fd) => Dest::Stream(Stream::new(Box::new(dup_fd(fd)?), name)),
        })
    }

    pub fn commit(self) -> io::Result<()> {
        match self {
            Dest::Stream(mut s) => s.out.flush().map_err(|e| named(&s.name, e)),
            Dest::File(f) => f.commit(),
        }
    }
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::Stream(s) => s.out.write(buf).map_err(|e| named(&s.name, e)),
            Dest::File(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::Stream(s) => s.out.flush().map_err(|e| named(&s.name, e)),
            Dest::File(f) => f.flush(),
        }
    }
}

#[cfg(test)]
mod tests;
