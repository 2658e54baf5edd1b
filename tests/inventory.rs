//! Inventory files read from a temporary directory, through the public API only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdpsweep::inventory::{InventoryError, InventoryOptions, Problem, ReadError, Targets};
use rdpsweep::target::{Host, Target};

/// Counts bytes allocated by the current thread, so a test can bound what one piece of
/// work allocates while other tests run on other threads.
struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // try_with: the thread-local may already be gone while a thread exits.
        let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(layout.size())));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(new_size)));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated() -> usize {
    ALLOCATED.with(Cell::get)
}

fn opts() -> InventoryOptions {
    InventoryOptions::default()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn open(files: &[PathBuf], o: &InventoryOptions) -> Result<Targets, InventoryError> {
    Targets::open(&[], files, o)
}

fn ok_all(t: Targets) -> Vec<Target> {
    t.map(|r| r.unwrap()).collect()
}

fn label(dir: &Path, e: &InventoryError) -> String {
    e.to_string().replace(&format!("{}/", dir.display()), "")
}

fn slash24(t: &Target) -> u32 {
    match t.host {
        Host::Ip(IpAddr::V4(a)) => u32::from(a) >> 8,
        _ => panic!("IPv4 expected: {}", t.host),
    }
}

#[test]
fn csv_with_bom_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "fleet.csv",
        b"\xEF\xBB\xBFhost,port,site\r\nrdp01.corp.example,3390,fra\r\n\"192.0.2.10\",,\"ams, dock 2\"\r\n",
    );
    let got = ok_all(open(std::slice::from_ref(&p), &opts()).unwrap());
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].host, Host::Name("rdp01.corp.example".into()));
    assert_eq!(got[0].port, 3390);
    assert_eq!(got[0].info.site.as_deref(), Some("fra"));
    assert_eq!(got[0].info.source, format!("{}:2", p.display()));
    assert_eq!(got[1].port, 3389);
    // Quoted delimiter survives; no stray '\r' in the last cell.
    assert_eq!(got[1].info.site.as_deref(), Some("ams, dock 2"));
}

#[test]
fn ragged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "r.csv",
        b"host,site,owner,tag\nrdp01\nrdp02,fra\nrdp03,fra,ops,gold,,\nrdp04,fra,ops,gold,surplus\nrdp05,ams\n",
    );
    let mut t = open(&[p], &opts()).unwrap();
    let a = t.next().unwrap().unwrap();
    // Fewer fields: missing values.
    assert_eq!((a.info.site, a.info.owner), (None, None));
    assert_eq!(a.info.extra, vec![("tag".to_string(), String::new())]);
    let b = t.next().unwrap().unwrap();
    assert_eq!(b.info.site.as_deref(), Some("fra"));
    // Trailing empty cells are harmless.
    let c = t.next().unwrap().unwrap();
    assert_eq!(c.info.extra, vec![("tag".to_string(), "gold".to_string())]);
    // More fields with data: an error naming the line; reading continues.
    let e = t.next().unwrap().unwrap_err();
    assert_eq!(e.line, 5);
    assert!(e.to_string().ends_with(
        "r.csv:5: 5 fields but the header has 4 columns; quote values that contain ','"
    ));
    assert_eq!(t.next().unwrap().unwrap().host, Host::Name("rdp05".into()));
    assert!(t.next().is_none());
}

#[test]
fn extra_columns_pass_through_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.csv",
        b"rack,host,OS,site,tag\nr1,rdp01,2019,fra,gold\n",
    );
    let b = write(dir.path(), "b.txt", b"rdp02\n");
    let c = write(
        dir.path(),
        "c.csv",
        b"Tag;host;warranty\nsilver;rdp03;2027\n",
    );
    let t = open(&[a, b, c], &opts()).unwrap();
    // Known at open, union in first-seen order, first spelling kept.
    assert_eq!(t.extra_columns(), ["rack", "OS", "tag", "warranty"]);
    let got = ok_all(t);
    let pairs = |t: &Target| -> Vec<(String, String)> { t.info.extra.clone() };
    assert_eq!(
        pairs(&got[0]),
        vec![
            ("rack".to_string(), "r1".to_string()),
            ("OS".to_string(), "2019".to_string()),
            ("tag".to_string(), "gold".to_string()),
        ]
    );
    assert!(got[1].info.extra.is_empty());
    // `;`-separated file; its "Tag" is reported under the union spelling "tag".
    assert_eq!(
        pairs(&got[2]),
        vec![
            ("tag".to_string(), "silver".to_string()),
            ("warranty".to_string(), "2027".to_string()),
        ]
    );
}

#[test]
fn header_errors_fail_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.txt", b"rdp01\n");
    let dup = write(dir.path(), "dup.csv", b"host,site,Site\nrdp01,a,b\n");
    let e = open(&[good.clone(), dup], &opts()).err().unwrap();
    assert_eq!(
        label(dir.path(), &e),
        "dup.csv:1: duplicate column \"Site\" (columns 2 and 3); rename or remove one"
    );
    let missing = write(
        dir.path(),
        "missing.csv",
        b"name,ip,site\nrdp01,192.0.2.1,a\n",
    );
    let e = open(&[missing], &opts()).err().unwrap();
    assert_eq!(e.line, 1);
    assert_eq!(
        label(dir.path(), &e),
        "missing.csv:1: no \"host\" column in the header (found: name, ip, site); rename column \"name\" to \"host\""
    );
    // Also with skip_bad_lines: whole-file problems are not skippable.
    let nope = dir.path().join("nope.csv");
    let e = open(
        &[good, nope],
        &InventoryOptions {
            skip_bad_lines: true,
            ..opts()
        },
    )
    .err()
    .unwrap();
    assert_eq!(
        label(dir.path(), &e),
        "nope.csv:0: file not found; check the path"
    );
    let e = open(&[dir.path().to_path_buf()], &opts()).err().unwrap();
    assert_eq!(e.line, 0);
    assert_eq!(e.problem, Problem::Read(ReadError::IsADirectory), "{e}");
    assert!(e.problem.to_string().contains("is a directory"), "{e}");
}

#[test]
fn non_utf8_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "latin1.csv",
        b"host,owner\nrdp01,ops\nrdp02,M\xfcller\nrdp03,ops\n",
    );
    let got: Vec<Result<Target, InventoryError>> = open(&[p], &opts()).unwrap().collect();
    assert_eq!(got.len(), 3);
    let e = got[1].as_ref().unwrap_err();
    assert_eq!(e.line, 3);
    assert!(
        e.to_string()
            .ends_with("latin1.csv:3: not UTF-8 (save the file as UTF-8)"),
        "{e}"
    );
    assert_eq!(got[2].as_ref().unwrap().host, Host::Name("rdp03".into()));
}

#[test]
fn one_megabyte_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"rdp01\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 1 << 20));
    bytes.extend_from_slice(b"\nrdp02\n");
    let p = write(dir.path(), "huge.txt", &bytes);
    let mut t = open(&[p], &opts()).unwrap();
    assert!(t.next().unwrap().is_ok());
    let before = allocated();
    let e = t.next().unwrap().unwrap_err();
    // The megabyte was never held: at most the 64 KiB cap (plus slack) was allocated.
    assert!(
        allocated() - before < 200 * 1024,
        "{} bytes",
        allocated() - before
    );
    assert_eq!(e.line, 2);
    assert_eq!(e.problem, Problem::LineTooLong, "{e}");
    assert!(
        e.problem.to_string().starts_with("line longer than 64 KiB"),
        "{e}"
    );
    assert_eq!(t.next().unwrap().unwrap().host, Host::Name("rdp02".into()));
}

#[test]
fn binary_garbage() {
    let dir = tempfile::tempdir().unwrap();
    // Deterministic pseudo-random bytes (xorshift), NULs included.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect();
    let p = write(dir.path(), "garbage.bin", &bytes);
    let e = open(&[p], &opts()).err().unwrap();
    assert_eq!(e.line, 0);
    assert_eq!(e.problem, Problem::Binary, "{e}");
    assert!(
        e.problem.to_string().starts_with("binary data (NUL bytes)"),
        "{e}"
    );
    // Garbage without NULs is read line by line: errors, never a panic.
    let no_nul: Vec<u8> = bytes.iter().map(|&b| b.max(1)).collect();
    let p = write(dir.path(), "garbage.txt", &no_nul);
    let t = open(
        &[p],
        &InventoryOptions {
            skip_bad_lines: true,
            ..opts()
        },
    );
    if let Ok(t) = t {
        // Whatever survives as a target is a valid one.
        for r in t {
            let _ = r;
        }
    }
}

#[test]
fn nmap_xml() {
    let dir = tempfile::tempdir().unwrap();
    let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -Pn -p 3389 -oX d.xml 192.0.2.0/28" version="7.94">
<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="192.0.2.5" addrtype="ipv4"/>
<hostnames><hostname name="rdp05.corp.example" type="user"/></hostnames>
<ports><port protocol="tcp" portid="3389"><state state="open" reason="syn-ack" reason_ttl="127"/><service name="ms-wbt-server" method="table" conf="3"/></port></ports>
</host>
<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="192.0.2.6" addrtype="ipv4"/>
<hostnames><hostname name="old-name.corp.example" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="3389"><state state="closed" reason="reset" reason_ttl="127"/><service name="ms-wbt-server" method="table" conf="3"/></port></ports>
</host>
</nmaprun>
"#;
    let p = write(dir.path(), "discovery.xml", xml);
    let got = ok_all(open(std::slice::from_ref(&p), &opts()).unwrap());
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].host, Host::Name("rdp05.corp.example".into()));
    assert_eq!(got[0].info.source, format!("{}:4", p.display()));
    // Closed port: still scanned (on the default port) so the report says why.
    assert_eq!(got[1].host, Host::Ip("192.0.2.6".parse().unwrap()));
    assert_eq!(got[1].port, 3389);
    assert_eq!(got[1].info.source, format!("{}:9", p.display()));
}

#[test]
fn slash8_is_lazy_spread_and_light() {
    let o = InventoryOptions {
        max_targets: 17_000_000,
        ..opts()
    };
    let start = Instant::now();
    let before = allocated();
    let mut t = Targets::open(&["10.0.0.0/8".to_string()], &[], &o).unwrap();
    let first: Vec<Target> = t.by_ref().take(1000).map(|r| r.unwrap()).collect();
    let used = allocated() - before;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // 1000 targets of ~150 bytes each plus the dedupe set: far from 16 M entries.
    assert!(used < 4 * 1024 * 1024, "{used} bytes allocated");
    let b24: HashSet<u32> = first.iter().map(slash24).collect();
    let b16: HashSet<u32> = first.iter().map(|t| slash24(t) >> 8).collect();
    assert_eq!(b24.len(), 1000);
    assert_eq!(b16.len(), 256);
    assert_eq!(t.yielded(), 1000);
}

#[test]
fn spread_order_property() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "subnets.txt",
        b"198.51.100.0/24\n10.20.0.0/20\n10.30.1.17-10.30.6.200\n",
    );
    let got = ok_all(open(&[p], &opts()).unwrap());
    assert_eq!(got.len(), 254 + 4094 + (256 - 17) + 4 * 256 + 201);
    let all: HashSet<(Host, u16)> = got.iter().map(|t| (t.host.clone(), t.port)).collect();
    assert_eq!(all.len(), got.len());
    // Within each spec larger than a /24, no two consecutive targets share a /24.
    let sources: Vec<&str> = got.iter().map(|t| t.info.source.as_str()).collect();
    for (i, w) in got.windows(2).enumerate() {
        let same_spec = sources[i] == sources[i + 1];
        if same_spec && !sources[i].ends_with(":1") {
            assert_ne!(
                slash24(&w[0]),
                slash24(&w[1]),
                "{} then {}",
                w[0].host,
                w[1].host
            );
        }
    }
}

#[test]
fn dedupe_across_sources() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.csv",
        b"host,site\nRDP01.corp.example,fra\n192.0.2.7,fra\n",
    );
    let b = write(
        dir.path(),
        "b.txt",
        b"rdp01.corp.example.\n192.0.2.0/29\nrdp01.corp.example:3390\n",
    );
    let cli = vec!["192.0.2.1".to_string()];
    let mut t = Targets::open(&cli, &[a, b], &opts()).unwrap();
    let got: Vec<Target> = t.by_ref().map(|r| r.unwrap()).collect();
    let hosts: Vec<String> = got
        .iter()
        .map(|t| format!("{}:{}", t.host, t.port))
        .collect();
    assert_eq!(
        hosts,
        vec![
            "192.0.2.1:3389",
            "rdp01.corp.example:3389",
            "192.0.2.7:3389",
            "192.0.2.2:3389",
            "192.0.2.3:3389",
            "192.0.2.4:3389",
            "192.0.2.5:3389",
            "192.0.2.6:3389",
            "rdp01.corp.example:3390",
        ]
    );
    // First occurrence wins: the CSV row's site stays with rdp01.
    assert_eq!(got[1].info.site.as_deref(), Some("fra"));
    // rdp01 with a trailing dot, and 192.0.2.1 inside the /29 (whose .7 is its broadcast).
    assert_eq!(t.duplicates(), 2);
}

#[test]
fn example_inventories_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("inventories");
    for name in ["fleet.csv", "subnets.txt", "nmap-discovery.xml"] {
        let p = root.join(name);
        let t = open(std::slice::from_ref(&p), &opts()).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<Target> = t.map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect();
        assert!(got.len() >= 3, "{name}: {} targets", got.len());
        // Documentation addresses only (RFC 5737, RFC 3849) and reserved names (RFC 2606).
        for t in &got {
            match &t.host {
                Host::Ip(IpAddr::V4(a)) => {
                    let o = a.octets();
                    assert!(
                        matches!(o, [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _]),
                        "{name}: {a}"
                    );
                }
                Host::Ip(IpAddr::V6(a)) => panic!("{name}: {a}: examples use IPv4 TEST-NETs only"),
                Host::Name(n) => assert!(n.ends_with(".example"), "{name}: {n}"),
            }
            for ip in &t.info.expect_ip {
                let s = ip.to_string();
                assert!(
                    ["192.0.2.", "198.51.100.", "203.0.113."]
                        .iter()
                        .any(|p| s.starts_with(p)),
                    "{name}: {ip}"
                );
            }
        }
    }
}
