//! `--config FILE`: every key, every kind of mistake with its line, and the precedence
//! flags > RDPSWEEP_* environment > file > defaults through real clap matches.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};
use rdpsweep::cli::{Cli, Command as Sub, Depth, FailOn, ScanArgs};
use rdpsweep::configfile::{self, ConfigFileError, FileConfig, KEYS};

/// Every key set to a value that differs from the built-in default.
const FULL: &str = r#"
# nightly scan of the fleet
targets = ["ts01.corp.example", "10.1.2.0/28"]
inventories = ["fleet.csv", "-", "/abs/dmz.txt"]
port = 3390
rate = 25
concurrency = 64
connect_timeout = "1500ms"
timeout = 7
host_deadline = "1m"
retries = 2
depth = "Deep"
host_spacing = 0.5
dns_servers = ["10.0.0.53", "10.0.0.54:5353"]
resolve = ["ts09.corp.example=10.1.9.9"]
dns_timeout = "2s"
dns_rate = 50
max_targets = 4096
skip_bad_lines = true
expiry_warn = 14
ca_bundle = "pki/corp-ca.pem"
check_revocation = true
csv = "out/fleet.csv"
jsonl = "out/fleet.jsonl"
html = "out/fleet.html"
metrics = "/var/lib/node_exporter/rdpsweep.prom"
baseline = "out/previous.jsonl"
fail_on = "new"
quiet = true
clients = ["win11", "win10"]
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn load_text(text: &str) -> Result<FileConfig, String> {
    let dir = tempfile::tempdir().unwrap();
    configfile::load(&write(dir.path(), "rdpsweep.toml", text)).map_err(|e| e.to_string())
}

fn err(text: &str) -> String {
    load_text(text).expect_err("config must be rejected")
}

#[test]
fn every_key_loads_with_paths_next_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("etc");
    std::fs::create_dir(&sub).unwrap();
    let c = configfile::load(&write(&sub, "rdpsweep.toml", FULL)).unwrap();
    let base = std::path::absolute(&sub).unwrap();
    assert_eq!(
        c.targets.as_deref(),
        Some(&["ts01.corp.example".to_string(), "10.1.2.0/28".to_string()][..])
    );
    assert_eq!(
        c.inventories,
        Some(vec![
            base.join("fleet.csv"),
            PathBuf::from("-"),
            PathBuf::from("/abs/dmz.txt")
        ])
    );
    assert_eq!(c.port, Some(3390));
    assert_eq!(c.rate, Some(25));
    assert_eq!(c.concurrency, Some(64));
    assert_eq!(c.connect_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(c.timeout, Some(Duration::from_secs(7)));
    assert_eq!(c.host_deadline, Some(Duration::from_secs(60)));
    assert_eq!(c.retries, Some(2));
    assert_eq!(c.depth, Some(Depth::Deep));
    assert_eq!(c.host_spacing, Some(Duration::from_millis(500)));
    assert_eq!(c.dns_servers.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        c.resolve,
        Some(vec!["ts09.corp.example=10.1.9.9".to_string()])
    );
    assert_eq!(c.dns_timeout, Some(Duration::from_secs(2)));
    assert_eq!(c.dns_rate, Some(50));
    assert_eq!(c.max_targets, Some(4096));
    assert_eq!(c.skip_bad_lines, Some(true));
    assert_eq!(c.expiry_warn, Some(14));
    assert_eq!(c.ca_bundle, Some(base.join("pki/corp-ca.pem")));
    assert_eq!(c.check_revocation, Some(true));
    assert_eq!(c.csv, Some(base.join("out/fleet.csv")));
    assert_eq!(c.jsonl, Some(base.join("out/fleet.jsonl")));
    assert_eq!(c.html, Some(base.join("out/fleet.html")));
    assert_eq!(
        c.metrics,
        Some(PathBuf::from("/var/lib/node_exporter/rdpsweep.prom"))
    );
    assert_eq!(c.baseline, Some(base.join("out/previous.jsonl")));
    assert_eq!(c.fail_on, Some(FailOn::New));
    assert_eq!(c.quiet, Some(true));
    // Every documented key appears in the sample, so the sample is the reference.
    for k in KEYS {
        assert!(FULL.contains(&format!("\n{k} = ")), "FULL lacks {k}");
    }
}

#[test]
fn a_relative_config_path_still_gives_absolute_paths() {
    // Loaded as a bare file name from the current directory.
    let c = configfile::parse("csv = \"r.csv\"", "rdpsweep.toml", Path::new("/srv/job")).unwrap();
    assert_eq!(c.csv, Some(PathBuf::from("/srv/job/r.csv")));
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.toml", "csv = \"r.csv\"\n");
    let c = configfile::load(&p).unwrap();
    assert!(c.csv.unwrap().is_absolute());
}

#[test]
fn an_empty_file_sets_nothing() {
    assert_eq!(load_text("").unwrap(), FileConfig::default());
    assert_eq!(
        load_text("# only comments\n\n").unwrap(),
        FileConfig::default()
    );
}

#[test]
fn unknown_keys_name_the_line_and_the_likely_key() {
    let e = err("port = 3389\nrate = 10\n\n\n\n\nrat = 5\n");
    // file:line: as compilers print it, so editors can jump there.
    assert!(
        e.ends_with("rdpsweep.toml:7: unknown key \"rat\" (did you mean \"rate\"?)"),
        "{e}"
    );
    let e = err("connect-timeout = \"3s\"\n");
    assert!(
        e.ends_with(":1: unknown key \"connect-timeout\" (did you mean \"connect_timeout\"?)"),
        "{e}"
    );
    let e = err("inventory = \"a.csv\"\n");
    assert!(e.contains("did you mean \"inventories\""), "{e}");
    let e = err("colour = \"blue\"\n");
    assert!(e.ends_with(":1: unknown key \"colour\""), "{e}");
}

#[test]
fn wrong_types_name_the_line() {
    let cases: &[(&str, &str)] = &[
        (
            "\n\nrate = \"fast\"\n",
            ":3: rate: expected a whole number, found string",
        ),
        (
            "port = 3389.5\n",
            ":1: port: expected a whole number, found float",
        ),
        (
            "quiet = \"yes\"\n",
            ":1: quiet: expected true or false, found string",
        ),
        ("csv = 1\n", ":1: csv: expected a string, found integer"),
        (
            "inventories = [\"a\", 2]\n",
            ":1: inventories: expected a string in the list, found integer",
        ),
        (
            "targets = { a = 1 }\n",
            ":1: targets: expected a list of strings, found table",
        ),
        ("timeout = true\n", ":1: timeout: expected a duration"),
        ("port = 0\n", ":1: port: 0 is out of range (1..=65535)"),
        (
            "concurrency = 0\n",
            ":1: concurrency: 0 is out of range (1..=100000)",
        ),
        ("retries = 11\n", ":1: retries: 11 is out of range (0..=10)"),
        ("timeout = \"soon\"\n", ":1: timeout: bad duration \"soon\""),
        (
            "depth = \"deepest\"\n",
            ":1: depth: \"deepest\" is not one of quick, standard, deep",
        ),
        (
            "fail_on = \"sometimes\"\n",
            ":1: fail_on: --fail-on \"sometimes\" is not one of",
        ),
        (
            "dns_servers = [\n  \"10.0.0.53\",\n  \"not-an-ip\",\n]\n",
            ":3: dns_servers: ",
        ),
        ("resolve = [\"nameonly\"]\n", ":1: resolve: "),
        (
            "clients = [\n  \"win11\",\n  \"win98\",\n]\n",
            ":3: clients: --client \"win98\" is not a client profile; use one of win11, win10",
        ),
        ("csv = \"\"\n", ":1: csv: empty path"),
        ("ca_bundle = \"-\"\n", ""),
    ];
    for (text, want) in cases {
        match load_text(text) {
            Err(e) => assert!(e.contains(want), "{text:?}: got {e:?}, want {want:?}"),
            // `-` is a file name for ca_bundle (no stdin there): accepted as a path.
            Ok(c) if want.is_empty() => assert!(c.ca_bundle.unwrap().ends_with("-")),
            Ok(c) => panic!("{text:?} accepted: {c:?}"),
        }
    }
}

#[test]
fn all_mistakes_are_reported_at_once_in_file_order() {
    let e = err("zzz = 1\nrate = \"x\"\nport = 70000\n");
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 3, "{e}");
    assert!(lines[0].contains(":1: unknown key \"zzz\""), "{e}");
    assert!(lines[1].contains(":2: rate:"), "{e}");
    assert!(lines[2].contains(":3: port:"), "{e}");
    // The same as typed problems a caller can match on.
    let parsed = configfile::parse(
        "zzz = 1\nrate = \"x\"\nport = 70000\n",
        "c.toml",
        Path::new("/"),
    );
    let Err(ConfigFileError::Invalid(problems)) = parsed else {
        panic!("expected Invalid, got {parsed:?}");
    };
    let at: Vec<(&str, usize)> = problems.iter().map(|p| (p.file.as_str(), p.line)).collect();
    assert_eq!(at, [("c.toml", 1), ("c.toml", 2), ("c.toml", 3)]);
    assert!(problems[2].message.starts_with("port: "), "{problems:?}");
}

#[test]
fn toml_syntax_errors_name_the_line() {
    let e = err("port = 3389\nrate = = 5\n");
    assert!(e.contains("rdpsweep.toml:2: "), "{e}");
    let e = err("rate = 1\nrate = 2\n");
    assert!(e.contains("rdpsweep.toml:2: "), "duplicate key: {e}");
    let e = err("csv = \"unterminated\n");
    assert!(e.contains("rdpsweep.toml:1: "), "{e}");
}

#[test]
fn unreadable_files_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let e = configfile::load(&dir.path().join("missing.toml")).unwrap_err();
    assert!(matches!(e, ConfigFileError::Read { .. }), "{e}");
    assert!(e.to_string().contains("missing.toml"), "{e}");
    let p = dir.path().join("latin1.toml");
    std::fs::write(&p, b"csv = \"caf\xe9.csv\"\n").unwrap();
    let e = configfile::load(&p).unwrap_err();
    assert!(matches!(e, ConfigFileError::NotUtf8 { .. }), "{e}");
    assert!(e.to_string().contains("not UTF-8"), "{e}");
    let p = dir.path().join("huge.toml");
    std::fs::write(&p, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    let e = configfile::load(&p).unwrap_err();
    assert!(matches!(e, ConfigFileError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("larger than"), "{e}");
    // A folder is not a config file.
    assert!(configfile::load(dir.path()).is_err());
}

#[test]
fn garbage_never_panics() {
    let samples: &[&[u8]] = &[
        b"\x00\x01\x02",
        b"[[[[",
        b"a.b.c = 1",
        b"port = 0b11111111111111111111111111111111111111111111111111111111111111111111",
        b"port = -0x1",
        b"\"\" = 1",
        b"rate = 1979-05-27T07:32:00Z",
        b"targets = [[], [\"a\"]]",
        b"timeout = inf",
        b"timeout = nan",
        b"timeout = -1.0",
        b"timeout = 1e300",
    ];
    for s in samples {
        let text = String::from_utf8_lossy(s);
        let _ = configfile::parse(&text, "x.toml", Path::new("/"));
    }
    // Pseudo-random bytes around valid config text.
    let mut x: u32 = 0x1234_5678;
    for _ in 0..2000 {
        let mut text = FULL.as_bytes().to_vec();
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let i = (x as usize) % text.len();
            text[i] = (x >> 24) as u8;
        }
        let _ = configfile::parse(&String::from_utf8_lossy(&text), "x.toml", Path::new("/"));
    }
}

/// Parses a command line as `main` would, returning the scan args and the scan matches.
fn scan(argv: &[&str]) -> (ScanArgs, clap::ArgMatches) {
    let mut full = vec!["rdpsweep", "scan"];
    full.extend_from_slice(argv);
    let m = Cli::command().try_get_matches_from(full).unwrap();
    let cli = Cli::from_arg_matches(&m).unwrap();
    let Sub::Scan(args) = cli.command else {
        panic!("not a scan")
    };
    let sub = m.subcommand_matches("scan").unwrap().clone();
    (*args, sub)
}

fn applied(file: &str, argv: &[&str]) -> ScanArgs {
    let cfg = configfile::parse(file, "t.toml", Path::new("/cfg")).unwrap();
    let (mut args, m) = scan(argv);
    configfile::apply(&cfg, &mut args, configfile::from_default(&m));
    args
}

/// Variables a developer's shell might set would change these tests' defaults.
fn environment_is_clean() -> bool {
    let set: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("RDPSWEEP_"))
        .collect();
    if !set.is_empty() && std::env::var_os("CONFIGFILE_TEST_CHILD").is_none() {
        eprintln!("SKIP precedence test: RDPSWEEP_* variables are set: {set:?}");
        return false;
    }
    true
}

#[test]
fn file_beats_defaults_and_flags_beat_the_file() {
    if !environment_is_clean() {
        return;
    }
    let file = "rate = 7\nport = 3390\nquiet = true\ndepth = \"quick\"\ncsv = \"r.csv\"\nfail_on = \"warn\"\nconnect_timeout = \"9s\"\n";
    let a = applied(file, &["ts01"]);
    assert_eq!(a.rate, 7);
    assert_eq!(a.port, 3390);
    assert!(a.quiet);
    assert_eq!(a.depth, Depth::Quick);
    assert_eq!(a.out.csv, Some(PathBuf::from("/cfg/r.csv")));
    assert_eq!(a.fail_on, FailOn::Warn);
    assert_eq!(a.connect_timeout, Duration::from_secs(9));
    // Untouched keys keep clap's defaults.
    assert_eq!(a.concurrency, 256);
    assert_eq!(a.timeout, Duration::from_secs(5));

    let a = applied(
        file,
        &[
            "ts01",
            "--rate",
            "9",
            "--port",
            "3389",
            "--depth",
            "deep",
            "--csv",
            "flag.csv",
            "--fail-on",
            "fail",
            "--connect-timeout",
            "3s",
        ],
    );
    // A flag equal to the default still wins over the file: it was given.
    assert_eq!(a.port, 3389);
    assert_eq!(a.connect_timeout, Duration::from_secs(3));
    assert_eq!(a.rate, 9);
    assert_eq!(a.depth, Depth::Deep);
    assert_eq!(a.out.csv, Some(PathBuf::from("flag.csv")));
    assert_eq!(a.fail_on, FailOn::Fail);
    // Not given on the command line: still from the file.
    assert!(a.quiet);
}

#[test]
fn targets_and_inventories_are_one_setting() {
    if !environment_is_clean() {
        return;
    }
    let file = "targets = [\"ts01\"]\ninventories = [\"fleet.csv\"]\n";
    let a = applied(file, &[]);
    assert_eq!(a.targets, vec!["ts01".to_string()]);
    assert_eq!(a.inventory, vec![PathBuf::from("/cfg/fleet.csv")]);
    // A target on the command line: scan that alone, not the file's inventory too.
    let a = applied(file, &["ts99"]);
    assert_eq!(a.targets, vec!["ts99".to_string()]);
    assert!(a.inventory.is_empty());
    let a = applied(file, &["-i", "other.csv"]);
    assert!(a.targets.is_empty());
    assert_eq!(a.inventory, vec![PathBuf::from("other.csv")]);
}

/// The environment (RDPSWEEP_*) sits between the flags and the file. Environment variables
/// are process-wide, so this runs the check in a child copy of this test binary.
#[test]
fn environment_beats_the_file_and_flags_beat_the_environment() {
    if std::env::var_os("CONFIGFILE_TEST_CHILD").is_some() {
        let file = "rate = 7\ndepth = \"deep\"\nquiet = false\ninventories = [\"file.csv\"]\nport = 3390\n";
        let a = applied(file, &[]);
        assert_eq!(a.rate, 11, "env RDPSWEEP_RATE beats the file");
        assert_eq!(a.depth, Depth::Quick, "env RDPSWEEP_DEPTH beats the file");
        assert!(a.quiet, "env RDPSWEEP_QUIET=true beats quiet = false");
        assert_eq!(a.inventory, vec![PathBuf::from("/env/fleet.csv")]);
        assert_eq!(a.port, 3390, "no env, no flag: the file");
        let a = applied(file, &["--rate", "13"]);
        assert_eq!(a.rate, 13, "the flag beats env RDPSWEEP_RATE");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "environment_beats_the_file_and_flags_beat_the_environment",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("CONFIGFILE_TEST_CHILD", "1")
        .env("RDPSWEEP_RATE", "11")
        .env("RDPSWEEP_DEPTH", "quick")
        .env("RDPSWEEP_QUIET", "true")
        .env("RDPSWEEP_INVENTORY", "/env/fleet.csv")
        .env_remove("RDPSWEEP_PORT")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child test failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each key whose flag exists is applied: catches a flag added to `ScanArgs` (e.g. --metrics,
/// --baseline) without a line in `apply`, or a key whose flag was renamed.
#[test]
fn every_key_with_a_flag_reaches_the_scan_args() {
    if !environment_is_clean() {
        return;
    }
    let cmd = Cli::command();
    let scan_cmd = cmd.find_subcommand("scan").unwrap();
    let ids: Vec<String> = scan_cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    let base = applied("", &[]);
    // The FULL sample sets every key to a non-default value.
    let all = applied(FULL, &[]);
    let (before, after) = (format!("{base:?}"), format!("{all:?}"));
    for key in KEYS {
        let id = if *key == "inventories" {
            "inventory"
        } else {
            key
        };
        if !ids.iter().any(|i| i == id) {
            // Only these two wait for their flags; any other key without a flag is a bug.
            assert!(
                ["metrics", "baseline"].contains(key),
                "key {key} has no scan flag"
            );
            continue;
        }
        let one = FULL
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap();
        let a = applied(one, &[]);
        assert_ne!(
            format!("{a:?}"),
            before,
            "{key} = ... changed nothing in ScanArgs: add it to configfile::apply"
        );
    }
    assert_ne!(before, after);
}
