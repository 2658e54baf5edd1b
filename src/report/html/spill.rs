//! Where the matrix's rows (and the shared-value table, `view::Interner`) wait until the page
//! is written. The header (counts, causes, horizon) comes before the rows in the page and needs
//! all of them, so the rows, serialised exactly as the page carries them, go to a temporary
//! file and are copied into the page at the end: the sink's memory stays flat however large
//! the fleet (issue 18).
//!
//! The file has no name: `O_TMPFILE` where the filesystem supports it, else a dot-named file
//! removed the moment it is open. So it is gone on success, on error, on Ctrl-C and even after
//! SIGKILL, without any cleanup code. It lives in the HTML output's own folder: the user asked
//! for a file of about this size to be written there, and `/tmp` is often a RAM-backed tmpfs,
//! where spilling would only move the memory. A page written to a stream (stdout, a FIFO) has
//! no folder; it spills to `std::env::temp_dir()`.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::report::Output;
use crate::report::dest::{Plan, plan};

/// The spilled rows: in memory for `render` (tests, small pages), else an unnamed file.
pub(super) enum Spill {
    Mem(Vec<u8>),
    File(BufWriter<File>),
}

impl Spill {
    /// An unnamed file next to where `out` will be written.
    pub(super) fn for_output(out: &Output) -> io::Result<Spill> {
        let dir = spill_dir(out);
        let f = unnamed_file(&dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot create the HTML report's temporary row file in {}: {e}",
                    dir.display()
                ),
            )
        })?;
        // 256 KiB: a few hundred rows per write call.
        Ok(Spill::File(BufWriter::with_capacity(256 * 1024, f)))
    }

    pub(super) fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Spill::Mem(v) => {
                v.extend_from_slice(b);
                Ok(())
            }
            Spill::File(f) => f.write_all(b),
        }
    }

    /// Copy everything spilled into `w`, from the start.
    pub(super) fn copy_to<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self {
            Spill::Mem(v) => w.write_all(v),
            Spill::File(f) => {
                f.flush()?;
                let file = f.get_mut();
                file.seek(SeekFrom::Start(0))?;
                let mut r = io::BufReader::with_capacity(256 * 1024, &*file);
                io::copy(&mut r, w)?;
                // Leave the offset at the end, should more rows ever follow.
                file.seek(SeekFrom::End(0))?;
                Ok(())
            }
        }
    }
}

/// The HTML output's folder (its final target's, through symlinks), or the system's temporary
/// folder for a page written to a stream.
fn spill_dir(out: &Output) -> PathBuf {
    let folder = match out {
        Output::File(p) => match plan(p) {
            Ok(Plan::Atomic(f)) => f.parent().map(Path::to_path_buf),
            _ => None,
        },
        Output::Stdout => None,
    };
    match folder {
        Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
        Some(d) => d,
        None => std::env::temp_dir(),
    }
}

/// A read-write file in `dir` that no name points to.
fn unnamed_file(dir: &Path) -> io::Result<File> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let c = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("path contains a NUL byte"))?;
    // SAFETY: `c` is a NUL-terminated path for the duration of the call; the result is a new
    // descriptor or -1.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
            0o600 as libc::c_uint,
        )
    };
    if fd >= 0 {
        // SAFETY: `fd` was just opened above and nobody else owns it.
        return Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }));
    }
    // No O_TMPFILE here (older kernels, some network filesystems).
    unlinked_file(dir, io::Error::last_os_error())
}

/// A fresh dot-named file in `dir`, unlinked at once: the open descriptor keeps its data.
fn unlinked_file(dir: &Path, mut last: io::Error) -> io::Result<File> {
    for n in 0..16 {
        let p = dir.join(format!(
            ".rdpsweep-html-rows-{}-{n}.tmp",
            std::process::id()
        ));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
        {
            Ok(f) => {
                std::fs::remove_file(&p)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spill_leaves_no_file_and_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::File(dir.path().join("report.html"));
        let mut s = Spill::for_output(&out).unwrap();
        s.write_all(b"{\"h\":\"a\"}").unwrap();
        s.write_all(b",\n{\"h\":\"b\"}").unwrap();
        // Nothing in the folder, whatever the filesystem: the file has no name.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut page = Vec::new();
        s.copy_to(&mut page).unwrap();
        assert_eq!(page, b"{\"h\":\"a\"},\n{\"h\":\"b\"}");
    }

    #[test]
    fn fallback_file_is_unlinked_at_once_and_skips_taken_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir
            .path()
            .join(format!(".rdpsweep-html-rows-{}-0.tmp", std::process::id()));
        std::fs::write(&p, b"taken").unwrap();
        let mut f = unlinked_file(dir.path(), io::Error::other("no O_TMPFILE")).unwrap();
        f.write_all(b"rows").unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        let mut back = String::new();
        io::Read::read_to_string(&mut f, &mut back).unwrap();
        assert_eq!(back, "rows");
        // Only the name that was already there remains, untouched.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(std::fs::read(&p).unwrap(), b"taken");
    }

    #[test]
    fn spill_folder_is_the_outputs_folder_or_the_temp_dir() {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::File(dir.path().join("r.html"));
        assert_eq!(spill_dir(&out), dir.path());
        assert_eq!(spill_dir(&Output::Stdout), std::env::temp_dir());
        // A bare file name: the folder it will be written in.
        let here = spill_dir(&Output::File(PathBuf::from("r.html")));
        assert_eq!(
            here.canonicalize().unwrap(),
            std::env::current_dir().unwrap().canonicalize().unwrap()
        );
    }
}
