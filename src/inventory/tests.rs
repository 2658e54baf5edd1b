use super::*;
use std::io::Cursor;
use std::net::IpAddr;

fn opts() -> InventoryOptions {
    InventoryOptions::default()
}
fn skip() -> InventoryOptions {
    InventoryOptions {
        skip_bad_lines: true,
        ..opts()
    }
}
fn targets(name: &str, input: &[u8], o: &InventoryOptions) -> Targets {
    Targets::from_reader(name, Cursor::new(input.to_vec()), o).unwrap()
}
fn open_err(name: &str, input: &[u8]) -> String {
    match Targets::from_reader(name, Cursor::new(input.to_vec()), &opts()) {
        Ok(_) => panic!("{name} opened"),
        Err(e) => e.to_string(),
    }
}
/// Each item as "host:port @source" or the error text.
fn render(t: Targets) -> Vec<String> {
    t.map(|r| match r {
        Ok(t) => format!("{}:{} @{}", t.host, t.port, t.info.source),
        Err(e) => format!("ERR {e}"),
    })
    .collect()
}

#[test]
fn plain_list() {
    let input = b"# fleet, floor 2\n\n  RDP01.corp.example  \nrdp02.corp.example:3390 # jump host\n192.0.2.10\n[2001:db8::5]:3391\n2001:db8::6\n\t\n";
    let t = targets("list.txt", input, &opts());
    let all: Vec<Target> = t.map(Result::unwrap).collect();
    let got: Vec<String> = all
        .iter()
        .map(|t| format!("{}:{} @{} [{}]", t.host, t.port, t.info.source, t.info.host))
        .collect();
    assert_eq!(
        got,
        vec![
            "rdp01.corp.example:3389 @list.txt:3 [RDP01.corp.example]",
            "rdp02.corp.example:3390 @list.txt:4 [rdp02.corp.example]",
            "192.0.2.10:3389 @list.txt:5 [192.0.2.10]",
            "2001:db8::5:3391 @list.txt:6 [2001:db8::5]",
            "2001:db8::6:3389 @list.txt:7 [2001:db8::6]",
        ]
    );
    assert_eq!(all[0].info.port, 3389);
    assert_eq!(all[1].info.port, 3390);
    assert_eq!(all[0].info.site, None);
}

#[test]
fn plain_errors_name_file_and_line() {
    let input =
        b"rdp01\n10.1.2.300\nrdp02:70000\nrdp03 rdp04\nrdp05,3389\n\xff\xfe-not-utf8\nrdp06\n";
    let got = render(targets("fleet.txt", input, &opts()));
    assert_eq!(
        got,
        vec![
            "rdp01:3389 @fleet.txt:1".to_string(),
            "ERR fleet.txt:2: invalid IPv4 address \"10.1.2.300\"".to_string(),
            "ERR fleet.txt:3: port 70000 out of range (1-65535)".to_string(),
            "ERR fleet.txt:4: several values on one line; a plain list takes one target per line (use a CSV with a host column for more fields)".to_string(),
            "ERR fleet.txt:5: ',' or ';' in a plain list; put one target per line, or give a CSV whose header has a host column".to_string(),
            "ERR fleet.txt:6: not UTF-8 (save the file as UTF-8)".to_string(),
            "rdp06:3389 @fleet.txt:7".to_string(),
        ]
    );
    // Skipping: only targets come out, the errors become warnings.
    let mut t = targets("fleet.txt", input, &skip());
    let ok: Vec<Target> = t.by_ref().map(Result::unwrap).collect();
    assert_eq!(ok.len(), 2);
    let w = t.take_warnings();
    assert_eq!(w.len(), 5);
    assert_eq!(w[0], "fleet.txt:2: invalid IPv4 address \"10.1.2.300\"");
    assert_eq!(w[4], "fleet.txt:6: not UTF-8 (save the file as UTF-8)");
    assert!(t.take_warnings().is_empty(), "drained");
}

#[test]
fn long_line_is_one_bad_line() {
    let mut input = b"rdp01\n".to_vec();
    input.extend(std::iter::repeat_n(b'a', 1 << 20));
    input.extend_from_slice(b"\nrdp02\n");
    let got = render(targets("big.txt", &input, &opts()));
    assert_eq!(got.len(), 3);
    assert_eq!(got[1], format!("ERR big.txt:2: {}", Problem::LineTooLong));
    assert_eq!(got[2], "rdp02:3389 @big.txt:3");
    // Also as the very first line (format detection must not choke on it).
    let mut input: Vec<u8> = std::iter::repeat_n(b'a', 100_000).collect();
    input.extend_from_slice(b"\nrdp02\n");
    let got = render(targets("big.txt", &input, &opts()));
    assert_eq!(got[0], format!("ERR big.txt:1: {}", Problem::LineTooLong));
    assert_eq!(got[1], "rdp02:3389 @big.txt:2");
}

#[test]
fn cli_targets() {
    let cli: Vec<String> = ["rdp01", "10.1.2.10-12:3390", "[::1]"]
        .map(String::from)
        .to_vec();
    let got = render(Targets::open(&cli, &[], &opts()).unwrap());
    assert_eq!(
        got,
        vec![
            "rdp01:3389 @cli",
            "10.1.2.10:3390 @cli",
            "10.1.2.11:3390 @cli",
            "10.1.2.12:3390 @cli",
            "::1:3389 @cli"
        ]
    );
    let bad: Vec<String> = ["rdp01", "rdp02:0"].map(String::from).to_vec();
    let Err(e) = Targets::open(&bad, &[], &opts()) else {
        panic!("bad cli target accepted")
    };
    assert_eq!(e.to_string(), "cli:2: port 0 out of range (1-65535)");
    assert_eq!((e.file.as_str(), e.line), ("cli", 2));
    let mut t = Targets::open(&bad, &[], &skip()).unwrap();
    assert_eq!(
        t.take_warnings(),
        vec!["cli:2: port 0 out of range (1-65535)"]
    );
    assert_eq!(t.count(), 1);
    let e = Targets::open(&["10.0.0.0/8".to_string()], &[], &opts())
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "cli:1: \"10.0.0.0/8\" has 16777214 addresses, more than --max-targets 65536; raise --max-targets or split it"
    );
}

#[test]
fn stdin_twice_is_refused_before_reading() {
    let files = [PathBuf::from("-"), PathBuf::from("-")];
    let e = Targets::open(&[], &files, &opts()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "stdin:0: stdin (-) given twice; give it once"
    );
}

#[test]
fn dedupe() {
    let input = b"rdp01.corp.example\nRDP01.corp.example.\nrdp01.corp.example:3390\n\
192.0.2.5\n192.0.2.4-6\n192.0.2.6\n192.0.2.0/29\n192.0.2.1-7\n192.0.2.7:3390\n";
    let mut t = targets("d.txt", input, &opts());
    let got: Vec<String> = t
        .by_ref()
        .map(|r| r.map(|t| format!("{}:{}", t.host, t.port)).unwrap())
        .collect();
    assert_eq!(
        got,
        vec![
            "rdp01.corp.example:3389",
            "rdp01.corp.example:3390",
            "192.0.2.5:3389",
            // The range skips .5 (listed before).
            "192.0.2.4:3389",
            "192.0.2.6:3389",
            // The /29 (.1-.6) skips .4-.6; the range .1-.7 adds only .7.
            "192.0.2.1:3389",
            "192.0.2.2:3389",
            "192.0.2.3:3389",
            "192.0.2.7:3389",
            "192.0.2.7:3390",
        ]
    );
    // Name twice, 192.0.2.5 in the range, .6 single, .4-.6 in the /29, .1-.6 in the range.
    assert_eq!(t.duplicates(), 1 + 1 + 1 + 3 + 6);
    assert_eq!(t.yielded(), 10);
}

#[test]
fn max_targets_counts_lazily() {
    let o = InventoryOptions {
        max_targets: 3,
        ..opts()
    };
    let input = b"a\nb\na\n192.0.2.0/30\nc\n";
    let got = render(targets("m.txt", input, &o));
    assert_eq!(
        got,
        vec![
            "a:3389 @m.txt:1",
            "b:3389 @m.txt:2",
            // The /30 has 2 hosts: the first is the 3rd target, the second is one too many.
            "192.0.2.1:3389 @m.txt:4",
            "ERR m.txt:4: more than 3 targets; raise --max-targets",
        ]
    );
    // Even with skip_bad_lines the limit ends the stream.
    let o = InventoryOptions {
        max_targets: 1,
        skip_bad_lines: true,
        ..opts()
    };
    let got = render(targets("m.txt", b"a\nb\nc\n", &o));
    assert_eq!(
        got,
        vec![
            "a:3389 @m.txt:1",
            "ERR m.txt:2: more than 1 targets; raise --max-targets"
        ]
    );
}

#[test]
fn oversized_specs_are_bad_lines() {
    let o = InventoryOptions {
        max_targets: 100,
        ..opts()
    };
    let input = b"192.0.2.0/24\n2001:db8::/64\n192.0.2.1-200\n192.0.2.0/26\n";
    let mut t = targets("o.txt", input, &o);
    let first: Vec<String> = t
        .by_ref()
        .take(3)
        .map(|r| r.err().unwrap().to_string())
        .collect();
    assert_eq!(
        first,
        vec![
            "o.txt:1: \"192.0.2.0/24\" has 254 addresses, more than --max-targets 100; raise --max-targets or split it",
            "o.txt:2: \"2001:db8::/64\" spans 2^64 addresses, more than --max-targets 100; an IPv6 prefix this large cannot be swept, list the hosts instead",
            "o.txt:3: \"192.0.2.1-200\" has 200 addresses, more than --max-targets 100; raise --max-targets or split it",
        ]
    );
    // The /26 (62 hosts) fits.
    assert_eq!(t.map(Result::unwrap).count(), 62);
}

#[test]
fn cidr_spread_through_the_stream() {
    let got: Vec<IpAddr> = targets("s.txt", b"10.9.0.0/22\n", &opts())
        .map(|r| match r.unwrap().host {
            Host::Ip(ip) => ip,
            Host::Name(n) => panic!("{n}"),
        })
        .collect();
    assert_eq!(got.len(), 1022);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 1022);
    let block = |ip: &IpAddr| match ip {
        IpAddr::V4(a) => u32::from(*a) >> 8,
        IpAddr::V6(_) => 0,
    };
    assert!(got.windows(2).all(|w| block(&w[0]) != block(&w[1])));
    // Network and broadcast left out.
    assert!(!got.contains(&"10.9.0.0".parse().unwrap()));
    assert!(!got.contains(&"10.9.3.255".parse().unwrap()));
    assert!(got.contains(&"10.9.1.0".parse().unwrap()));
}

#[test]
fn csv_rows_carry_columns() {
    let input = b"\xEF\xBB\xBFHost,Port,Site,Owner,expect_ip,Tag\r\n\
rdp01.corp.example,,fra,ops,192.0.2.10,gold\r\n\
192.0.2.32/30,3390,ams,,,\r\n\
\r\n\
,,,,,\r\n\
rdp02.corp.example:3390,3391,,,,\r\n";
    let mut t = targets("fleet.csv", input, &opts());
    assert_eq!(t.extra_columns(), ["Tag"]);
    let a = t.next().unwrap().unwrap();
    assert_eq!(a.host, Host::Name("rdp01.corp.example".into()));
    assert_eq!(a.port, 3389);
    assert_eq!(a.info.site.as_deref(), Some("fra"));
    assert_eq!(a.info.owner.as_deref(), Some("ops"));
    assert_eq!(
        a.info.expect_ip,
        vec!["192.0.2.10".parse::<IpAddr>().unwrap()]
    );
    assert_eq!(a.info.extra, vec![("Tag".to_string(), "gold".to_string())]);
    assert_eq!(a.info.source, "fleet.csv:2");
    // The CIDR row's columns apply to each address.
    for want in ["192.0.2.33", "192.0.2.34"] {
        let b = t.next().unwrap().unwrap();
        assert_eq!(b.info.host, want);
        assert_eq!((b.port, b.info.port), (3390, 3390));
        assert_eq!(b.info.site.as_deref(), Some("ams"));
        assert_eq!(b.info.source, "fleet.csv:3");
    }
    let e = t.next().unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "fleet.csv:6: port given twice: 3390 in the host cell, 3391 in the port column; keep one"
    );
    assert!(t.next().is_none());
}

#[test]
fn powershell_exports() {
    // Windows PowerShell 5.1 Export-Csv: a #TYPE line, every cell quoted.
    let input = b"#TYPE Selected.Microsoft.ActiveDirectory.Management.ADComputer\r\n\"Host\",\"Site\"\r\n\"rdp01.corp.example\",\"fra\"\r\n";
    let got = render(targets("ad.csv", input, &opts()));
    assert_eq!(got, vec!["rdp01.corp.example:3389 @ad.csv:3"]);
    assert_eq!(
        open_err("ad.csv", b"\"Name\"\r\n\"rdp01\"\r\n"),
        "ad.csv:1: no \"host\" column in the header (found: Name); rename column \"Name\" to \"host\""
    );
    // XML with a BOM.
    let got = render(targets(
        "bom.xml",
        b"\xEF\xBB\xBF<nmaprun>\n<host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host>\n</nmaprun>\n",
        &opts(),
    ));
    assert_eq!(got, vec!["192.0.2.1:3389 @bom.xml:2"]);
}

#[test]
fn open_time_errors() {
    assert_eq!(
        open_err("a.csv", b"# export\nhostname,site\nrdp01,fra\n"),
        "a.csv:2: no \"host\" column in the header (found: hostname, site); rename column \"hostname\" to \"host\""
    );
    assert_eq!(
        open_err("a.csv", b"host,site,HOST\n"),
        "a.csv:1: duplicate column \"HOST\" (columns 1 and 3); rename or remove one"
    );
    assert_eq!(
        open_err("a.csv", b"host,gr\xf6\xdfe\n"),
        "a.csv:1: not UTF-8 (save the file as UTF-8)"
    );
    assert_eq!(
        open_err("u16.txt", b"\xFF\xFEr\0d\0p\0"),
        "u16.txt:0: the file is UTF-16 text; save it as UTF-8 (PowerShell: Out-File -Encoding utf8)"
    );
    assert_eq!(
        open_err("x.bin", b"\x7fELF\x02\x01\x01\0\0\0"),
        "x.bin:0: binary data (NUL bytes), not an inventory; give a CSV, a plain list or nmap -oX XML (UTF-16 text: save it as UTF-8)"
    );
    assert_eq!(
        open_err("x.xml", b"<?xml version=\"1.0\"?>\n<html/>\n"),
        "x.xml:2: XML root is <html>, not <nmaprun>; give nmap -oX output"
    );
    assert_eq!(
        open_err("x.xml", b"<nmaprun>\n<host>\xff</host></nmaprun>"),
        "x.xml:2: not UTF-8 (save the file as UTF-8)"
    );
}

#[test]
fn nmap_items() {
    let xml = b"<?xml version=\"1.0\"?>\n<nmaprun>\n\
<host><status state=\"up\"/><address addr=\"192.0.2.10\" addrtype=\"ipv4\"/>\n\
<ports><port protocol=\"tcp\" portid=\"3389\"><state state=\"open\"/><service name=\"ms-wbt-server\"/></port>\
<port protocol=\"tcp\" portid=\"3390\"><state state=\"open\"/><service name=\"ms-wbt-server\"/></port></ports></host>\n\
<host><address addr=\"192.0.2.10\" addrtype=\"ipv4\"/></host>\n\
<host><address addr=\"192.0.2.300\" addrtype=\"ipv4\"/></host>\n\
</nmaprun>\n";
    let got = render(targets("scan.xml", xml, &opts()));
    assert_eq!(
        got,
        vec![
            "192.0.2.10:3389 @scan.xml:3",
            "192.0.2.10:3390 @scan.xml:3",
            // Line 5 repeats 192.0.2.10:3389 (deduped); line 6 is a bad address.
            "ERR scan.xml:6: invalid IPv4 address \"192.0.2.300\"",
        ]
    );
}

#[test]
fn empty_inventory_warns() {
    let mut t = targets("empty.txt", b"# nothing yet\n\n", &opts());
    assert!(t.next().is_none());
    assert_eq!(
        t.take_warnings(),
        vec!["empty.txt:0: no targets in this file"]
    );
    let mut t = targets("empty.csv", b"host,site\n", &opts());
    assert!(t.next().is_none());
    assert_eq!(
        t.take_warnings(),
        vec!["empty.csv:0: no targets in this file"]
    );
}

#[test]
fn warnings_are_capped() {
    let input = "bad!\n".repeat(MAX_WARNINGS + 5);
    let mut t = targets("w.txt", input.as_bytes(), &skip());
    assert!(t.next().is_none());
    let w = t.take_warnings();
    // 10005 bad lines and "no targets in this file": 10000 kept, 6 counted.
    assert_eq!(w.len(), MAX_WARNINGS + 1);
    assert_eq!(
        w.last().map(String::as_str),
        Some("6 more warnings not shown (at most 10000 are kept between reads)")
    );
}

/// Random lines over the syntax's alphabet: every outcome is a target or an error,
/// never a panic, and every target respects the limits.
#[test]
fn random_inventories_never_panic() {
    const ALPHABET: &[u8] = b"0123456789abcdefx.:[]/-,;#\" \t\r\n%_\xff\xc3<>";
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let o = InventoryOptions {
        max_targets: 5_000,
        skip_bad_lines: true,
        ..opts()
    };
    for round in 0..300 {
        let len = usize::try_from(next() % 400).unwrap();
        let mut input: Vec<u8> = (0..len)
            .map(|_| {
                let i = usize::try_from(next() % ALPHABET.len() as u64).unwrap();
                ALPHABET[i]
            })
            .collect();
        if round % 3 == 0 {
            input.splice(0..0, b"host,port,site\n".iter().copied());
        }
        let text = String::from_utf8_lossy(&input).to_string();
        parse_each_line(&text);
        let Ok(t) = Targets::from_reader("r.txt", Cursor::new(input), &o) else {
            continue;
        };
        let mut n = 0u64;
        for r in t {
            if r.is_ok() {
                n += 1;
            }
        }
        assert!(n <= 5_000);
    }
}

fn parse_each_line(s: &str) {
    for line in s.lines() {
        if let Ok(spec) = crate::target::parse_target_spec(line) {
            assert!(spec_len(&spec) >= 1, "{line}");
        }
    }
}

#[test]
fn targets_is_send() {
    fn is_send<T: Send>() {}
    is_send::<Targets>();
}
