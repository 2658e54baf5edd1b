use super::*;
use std::os::unix::fs::symlink;

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

#[test]
fn plan_follows_symlinks_to_the_file_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(d.join("archive")).unwrap();
    std::fs::write(d.join("archive/2026-12-03.csv"), "old").unwrap();
    // Relative targets are taken from the folder the link sits in, through two links.
    symlink("archive/2026-12-03.csv", d.join("latest.csv")).unwrap();
    symlink("../latest.csv", d.join("archive/current.csv")).unwrap();
    let want = Plan::Atomic(d.join("archive/2026-12-03.csv"));
    assert_eq!(plan(&d.join("latest.csv")).unwrap(), want);
    assert_eq!(plan(&d.join("archive/current.csv")).unwrap(), want);
    // A dangling link: its target is created, the link kept.
    symlink("next.csv", d.join("dangling.csv")).unwrap();
    assert_eq!(
        plan(&d.join("dangling.csv")).unwrap(),
        Plan::Atomic(d.join("next.csv"))
    );
    // A missing name and a link loop.
    assert_eq!(
        plan(&d.join("new.csv")).unwrap(),
        Plan::Atomic(d.join("new.csv"))
    );
    symlink("loop-b", d.join("loop-a")).unwrap();
    symlink("loop-a", d.join("loop-b")).unwrap();
    let e = plan(&d.join("loop-a")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
    // A link to a folder is a folder.
    symlink("archive", d.join("to-dir")).unwrap();
    let e = plan(&d.join("to-dir")).unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
}

#[test]
fn plan_streams_fifos_and_our_own_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let d = std::fs::canonicalize(dir.path()).unwrap();
    let fifo = d.join("pipe");
    let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert_eq!(
        plan(&fifo).unwrap(),
        Plan::Stream {
            path: fifo.clone(),
            append: false
        }
    );
    symlink(&fifo, d.join("to-pipe")).unwrap();
    assert_eq!(
        plan(&d.join("to-pipe")).unwrap(),
        Plan::Stream {
            path: fifo.clone(),
            append: false
        }
    );
    // Checking never opens it (that would block here, with no reader).
    check_writable(&fifo).unwrap();
    assert_eq!(plan(Path::new("/proc/self/fd/2")).unwrap(), Plan::OwnFd(2));
    assert_eq!(plan(Path::new("/dev/fd/2")).unwrap(), Plan::OwnFd(2));
    symlink("/proc/self/fd/2", d.join("err")).unwrap();
    assert_eq!(plan(&d.join("err")).unwrap(), Plan::OwnFd(2));
}

#[test]
fn check_writable_messages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = check_writable(&d.join("missing/x.csv")).unwrap_err();
    assert!(e.contains("cannot write") && e.contains("missing"), "{e}");
    std::fs::write(d.join("file"), "x").unwrap();
    let e = check_writable(&d.join("file/x.csv")).unwrap_err();
    assert!(e.contains("not a folder"), "{e}");
    let e = check_writable(d).unwrap_err();
    assert!(e.contains("is a directory; name a file"), "{e}");
    check_writable(&d.join("ok.csv")).unwrap();
    // The probe left nothing behind.
    assert_eq!(std::fs::read_dir(d).unwrap().count(), 1);
}

#[test]
fn dev_stdout_is_our_descriptor_never_a_file_to_replace() {
    // Only looked at: the system's /dev/stdout is never written by a test.
    let dev = Path::new("/dev/stdout");
    if !std::fs::symlink_metadata(dev).is_ok_and(|m| m.is_symlink()) {
        eprintln!("SKIPPED: /dev/stdout is not a symlink here");
        return;
    }
    assert_eq!(plan(dev).unwrap(), Plan::OwnFd(1));
    assert_eq!(
        plan(Path::new("/proc/thread-self/fd/1")).unwrap(),
        Plan::OwnFd(1)
    );
}
