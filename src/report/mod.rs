//! Output sinks. JSON Lines is the record of truth (the serde form of `HostReport`); CSV and
//! HTML are views of it. Files are written under a temporary name and renamed when complete,
//! so a cron consumer never reads half a file; an interrupted scan still renames what it has.

pub mod baseline;
pub mod csv;
pub mod html;
pub mod jsonl;
pub mod merge;
pub mod metrics;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::config::Output;
use crate::model::HostReport;

/// Scan-wide facts a sink may need when finishing (the HTML header, metrics).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub started_at: String,
    pub duration_s: f64,
    pub targets: u64,
    pub rows: u64,
    pub interrupted: bool,
    /// (verdict, count), most frequent first.
    pub verdicts: Vec<(String, u64)>,
}

pub trait Sink: Send {
    fn write(&mut self, r: &HostReport) -> io::Result<()>;
    /// Flush and publish (rename into place).
    fn finish(self: Box<Self>, summary: &Summary) -> io::Result<()>;
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
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
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
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        // Same folder as the destination, so the rename is atomic (same filesystem).
        let tmp_name = dir.join(format!(".{name}.rdpsweep-{}.tmp", std::process::id()));
        let (f, tmp, anonymous) = match create_anonymous(&dir) {
            Ok(f) => (f, PathBuf::new(), true),
            Err(_) => (File::create(&tmp_name)?, tmp_name.clone(), false),
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

    /// The error with the destination's name and, for a full disk, what to do: the sink's
    /// error is all the user sees of an output that failed mid-scan.
    fn named(&self, e: io::Error) -> io::Error {
        let hint =
            if e.raw_os_error() == Some(libc::ENOSPC) || e.kind() == io::ErrorKind::StorageFull {
                "; free some space or write the reports elsewhere"
            } else {
                ""
            };
        io::Error::new(e.kind(), format!("{}: {e}{hint}", self.dest.display()))
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

/// Either stdout or an atomic file.
pub enum Dest {
    Stdout(BufWriter<io::Stdout>),
    File(AtomicFile),
}

impl Dest {
    pub fn open(out: &Output) -> io::Result<Dest> {
        Ok(match out {
            Output::Stdout => Dest::Stdout(BufWriter::new(io::stdout())),
            Output::File(p) => Dest::File(AtomicFile::create(p)?),
        })
    }

    pub fn commit(self) -> io::Result<()> {
        match self {
            Dest::Stdout(mut s) => s.flush(),
            Dest::File(f) => f.commit(),
        }
    }
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::Stdout(s) => s.write(buf),
            Dest::File(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::Stdout(s) => s.flush(),
            Dest::File(f) => f.flush(),
        }
    }
}

/// Spreadsheet formula-injection guard (OWASP "CSV injection"): a text cell starting with
/// `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` so Excel/LibreOffice/Sheets show it as text.
/// Cells that are plain numbers (e.g. a negative days-left) stay numbers.
pub fn spreadsheet_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if risky && s.parse::<f64>().map(|v| v.is_finite()).unwrap_or(false) {
        return std::borrow::Cow::Borrowed(s);
    }
    if risky {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_guard() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("+1+1"), "'+1+1");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("\rx"), "'\rx");
        assert_eq!(
            spreadsheet_safe("-cmd|' /C calc'!A0"),
            "'-cmd|' /C calc'!A0"
        );
        assert_eq!(spreadsheet_safe("-42"), "-42");
        assert_eq!(spreadsheet_safe("-3.5"), "-3.5");
        assert_eq!(spreadsheet_safe("CN=host"), "CN=host");
        assert_eq!(spreadsheet_safe(""), "");
        // "-inf"/"NaN" parse as floats but are not plain numbers to a spreadsheet.
        assert_eq!(spreadsheet_safe("-inf"), "'-inf");
    }

    #[test]
    fn atomic_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r.csv");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"a,b\n").unwrap();
        assert!(!dest.exists());
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "a,b\n");
        // Dropped without commit: no final file, no temporary left behind.
        let dest2 = dir.path().join("r2.csv");
        {
            let mut f = AtomicFile::create(&dest2).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert!(!dest2.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn anonymous_file_has_no_name_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r.jsonl");
        let mut f = AtomicFile::create(&dest).unwrap();
        if !f.anonymous {
            eprintln!("SKIPPED: no O_TMPFILE on this filesystem");
            return;
        }
        f.write_all(&[b'x'; 100_000]).unwrap();
        // Written data, yet nothing in the folder: a killed process leaves no litter.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        f.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap().len(), 100_000);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // Committing over an existing report replaces it.
        let mut g = AtomicFile::create(&dest).unwrap();
        g.write_all(b"new").unwrap();
        g.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
