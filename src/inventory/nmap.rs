//! nmap `-oX` output as an inventory.
//!
//! Each `<host>` under `<nmaprun>` is one target (hosts whose `<status state="down">` are
//! skipped: nmap lists those only in verbose runs of empty addresses). The host is the
//! name the user gave nmap (`<hostname type="user">`), else the address; PTR names are
//! not used because they may be stale.
//!
//! Ports, kept simple: the open TCP ports that look like RDP (nmap's service name
//! `ms-wbt-server`, or the default port) become one target each. A host with no such
//! open port is scanned on the default port anyway: a discovery scan that found 3389
//! closed or filtered is exactly the host whose failure this tool should explain.

use super::Bad;
use super::error::NmapError;

/// The nmap service name for RDP.
const RDP_SERVICE: &str = "ms-wbt-server";
/// Caps roxmltree's node count; generous for a 64 MiB document.
const NODES_LIMIT: u32 = 20_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Line of the `<host>` element.
    pub(crate) line: u64,
    pub(crate) host: String,
    /// Empty: the default port.
    pub(crate) ports: Vec<u16>,
}

/// Parses the whole document; `Err((line, message))` when it is not usable at all.
pub(crate) fn parse(
    text: &str,
    default_port: u16,
) -> Result<Vec<Result<Entry, Bad>>, (u64, NmapError)> {
    let opts = roxmltree::ParsingOptions {
        // nmap writes `<!DOCTYPE nmaprun>`; roxmltree still bounds entity expansion.
        allow_dtd: true,
        nodes_limit: NODES_LIMIT,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        let line = match e {
            // roxmltree reports 1:1 here; the end is where the document stopped.
            roxmltree::Error::UnexpectedEndOfStream => {
                u64::try_from(text.lines().count()).unwrap_or(u64::MAX)
            }
            _ => u64::from(e.pos().row),
        };
        (line, NmapError::NotWellFormed(e.to_string()))
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "nmaprun" {
        return Err((
            u64::from(doc.text_pos_at(root.range().start).row),
            NmapError::NotNmap(root.tag_name().name().to_string()),
        ));
    }
    let mut out = Vec::new();
    let mut lines = LineCounter::default();
    for host in root.children().filter(|n| n.has_tag_name("host")) {
        let line = lines.line_at(text, host.range().start);
        let child = |name: &str| host.children().find(|n| n.has_tag_name(name));
        if child("status").and_then(|s| s.attribute("state")) == Some("down") {
            continue;
        }
        let address = host
            .children()
            .filter(|n| n.has_tag_name("address"))
            .find(|n| matches!(n.attribute("addrtype"), Some("ipv4" | "ipv6")))
            .and_then(|n| n.attribute("addr"));
        let user_name = child("hostnames").and_then(|hn| {
            hn.children()
                .filter(|n| n.has_tag_name("hostname"))
                .find(|n| n.attribute("type") == Some("user"))
                .and_then(|n| n.attribute("name"))
        });
        let Some(name) = user_name.or(address) else {
            out.push(Err(Bad::line(line, NmapError::HostWithoutAddress.into())));
            continue;
        };
        let mut ports: Vec<u16> = Vec::new();
        let port_nodes = child("ports")
            .into_iter()
            .flat_map(|p| p.children().filter(|n| n.has_tag_name("port")));
        for p in port_nodes {
            let open = p
                .children()
                .find(|n| n.has_tag_name("state"))
                .and_then(|s| s.attribute("state"))
                == Some("open");
            let Some(id) = p.attribute("portid").and_then(|v| v.parse::<u16>().ok()) else {
                continue;
            };
            let rdp_service = p
                .children()
                .find(|n| n.has_tag_name("service"))
                .and_then(|s| s.attribute("name"))
                == Some(RDP_SERVICE);
            if p.attribute("protocol") == Some("tcp")
                && open
                && id != 0
                && (rdp_service || id == default_port)
                && !ports.contains(&id)
            {
                ports.push(id);
            }
        }
        out.push(Ok(Entry {
            line,
            host: name.to_string(),
            ports,
        }));
    }
    Ok(out)
}

/// Line numbers for increasing byte offsets in O(document) total: roxmltree's
/// `text_pos_at` rescans from the start each time, quadratic over 60 000 hosts.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &str, pos: usize) -> u64 {
        if pos < self.pos {
            // Not expected (children come in document order); count from the start.
            *self = LineCounter::default();
        }
        let seen = text.as_bytes().get(self.pos..pos).unwrap_or_default();
        self.newlines += u64::try_from(seen.iter().filter(|&&b| b == b'\n').count()).unwrap_or(0);
        self.pos = pos.max(self.pos);
        self.newlines + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCAN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<nmaprun scanner="nmap" args="nmap -p 3389,3390 -oX x.xml" start="1700000000" version="7.94" xmloutputversion="1.05">
<scaninfo type="syn" protocol="tcp" numservices="2" services="3389-3390"/>
<hosthint><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="192.0.2.99" addrtype="ipv4"/>
</hosthint>
<host starttime="1700000001" endtime="1700000002"><status state="up" reason="syn-ack" reason_ttl="127"/>
<address addr="192.0.2.10" addrtype="ipv4"/>
<address addr="00:15:5D:01:02:03" addrtype="mac" vendor="Microsoft"/>
<hostnames>
<hostname name="stale.corp.example" type="PTR"/>
<hostname name="rdp01.corp.example" type="user"/>
</hostnames>
<ports><port protocol="tcp" portid="3389"><state state="open" reason="syn-ack" reason_ttl="127"/><service name="ms-wbt-server" method="table" conf="3"/></port>
<port protocol="tcp" portid="3390"><state state="open" reason="syn-ack" reason_ttl="127"/><service name="dsc" method="table" conf="3"/></port>
</ports>
</host>
<host><status state="up" reason="echo-reply" reason_ttl="127"/>
<address addr="192.0.2.11" addrtype="ipv4"/>
<hostnames><hostname name="rdp02.corp.example" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="3389"><state state="filtered" reason="no-response" reason_ttl="0"/><service name="ms-wbt-server" method="table" conf="3"/></port>
</ports>
</host>
<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="2001:db8::20" addrtype="ipv6"/>
<ports><port protocol="tcp" portid="3390"><state state="open" reason="syn-ack" reason_ttl="127"/><service name="ms-wbt-server" method="probed" conf="10"/></port>
<port protocol="udp" portid="3389"><state state="open" reason="udp-response" reason_ttl="127"/><service name="ms-wbt-server" method="table" conf="3"/></port>
</ports>
</host>
<host><status state="down" reason="no-response" reason_ttl="0"/>
<address addr="192.0.2.12" addrtype="ipv4"/>
</host>
<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="00:15:5D:01:02:04" addrtype="mac"/>
</host>
<runstats><finished time="1700000010" timestr="Tue Nov 14 22:13:30 2023" elapsed="10.00" exit="success"/><hosts up="4" down="1" total="5"/>
</runstats>
</nmaprun>
"#;

    #[test]
    fn hosts_names_ports() {
        let got = parse(SCAN, 3389).unwrap();
        assert_eq!(got.len(), 4);
        // User-given name wins over PTR; 3389 (service and default) kept, 3390 (dsc) not.
        assert_eq!(
            got[0],
            Ok(Entry {
                line: 9,
                host: "rdp01.corp.example".into(),
                ports: vec![3389]
            })
        );
        // PTR only: the address; filtered port: default port.
        assert_eq!(
            got[1],
            Ok(Entry {
                line: 20,
                host: "192.0.2.11".into(),
                ports: vec![]
            })
        );
        // RDP found by -sV on another port; UDP ignored.
        assert_eq!(
            got[2],
            Ok(Entry {
                line: 26,
                host: "2001:db8::20".into(),
                ports: vec![3390]
            })
        );
        // Down host skipped; a host with only a MAC address is a line error.
        let Err(bad) = &got[3] else { panic!() };
        assert_eq!(bad.line, 35);
        assert_eq!(bad.problem, NmapError::HostWithoutAddress.into());
        assert_eq!(
            bad.problem.to_string(),
            "nmap <host> without an IPv4/IPv6 address or hostname"
        );
        // Another default port changes which open ports count.
        let got = parse(SCAN, 3390).unwrap();
        assert_eq!(got[0].as_ref().unwrap().ports, vec![3389, 3390]);
    }

    #[test]
    fn many_hosts_line_numbers_linear() {
        let mut doc = String::from("<nmaprun>\n");
        for i in 0..20_000u32 {
            let [_, _, a, b] = i.to_be_bytes();
            doc.push_str(&format!(
                "<host>\n<address addr=\"198.51.{a}.{b}\" addrtype=\"ipv4\"/>\n</host>\n"
            ));
        }
        doc.push_str("</nmaprun>\n");
        let start = std::time::Instant::now();
        let got = parse(&doc, 3389).unwrap();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(got.len(), 20_000);
        assert_eq!(got[0].as_ref().unwrap().line, 2);
        assert_eq!(got[19_999].as_ref().unwrap().line, 2 + 3 * 19_999);
    }

    #[test]
    fn not_nmap() {
        let (line, msg) = parse("<?xml version=\"1.0\"?>\n<html><body/></html>", 3389).unwrap_err();
        assert_eq!(
            (line, msg.to_string().as_str()),
            (2, "XML root is <html>, not <nmaprun>; give nmap -oX output")
        );
        // Truncated output of an interrupted scan.
        let cut = SCAN.get(..SCAN.len() / 2).unwrap();
        let (line, err) = parse(cut, 3389).unwrap_err();
        assert!(matches!(err, NmapError::NotWellFormed(_)), "{err}");
        let msg = err.to_string();
        assert_eq!(line, u64::try_from(cut.lines().count()).unwrap(), "{msg}");
        assert!(msg.starts_with("not well-formed XML ("), "{msg}");
        assert!(
            msg.ends_with("if the nmap scan was interrupted, run it again"),
            "{msg}"
        );
        // Entity expansion bombs are refused by the parser's limits.
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE nmaprun [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]><nmaprun>&i;</nmaprun>";
        assert!(parse(bomb, 3389).is_err());
    }
}
