//! Certificate phase: facts about the chain the TLS phase saw (judged at the scanner's clock),
//! and, once per address after its attempts, whether the certificate names what users connect
//! to: the inventory name, or for IP targets an IP SAN, then the PTR name.

use std::net::IpAddr;

use crate::cert::{TrustStore, cert_facts, ip_matches, name_matches};
use crate::clock::Timestamp;
use crate::model::{CertFacts, DnsOutcome};
use crate::resolve::Resolver;
use crate::target::Host;

/// Facts about a non-empty chain, leaf first.
pub fn cert_phase(chain: &[Vec<u8>], trust: &TrustStore) -> CertFacts {
    cert_facts(chain, trust, Timestamp::now().unix())
}

/// Certificate name check; a PTR name found on the way is recorded in `dns`.
pub async fn check_name(
    resolver: &Resolver,
    host: &Host,
    ip: IpAddr,
    cert: &mut CertFacts,
    dns: &mut DnsOutcome,
) {
    if cert.parse_error.is_some() && cert.not_after_unix == 0 {
        return;
    }
    match host {
        Host::Name(name) => {
            cert.name_match = Some(name_matches(cert, name));
            cert.checked_name = Some(name.clone());
        }
        Host::Ip(_) => {
            if ip_matches(cert, ip) {
                cert.name_match = Some(true);
                cert.checked_name = Some(ip.to_string());
                return;
            }
            // PTR only when it can change the answer: it costs a DNS query per host.
            if let Some(ptr) = resolver.ptr(ip).await {
                cert.name_match = Some(name_matches(cert, &ptr));
                cert.checked_name = Some(ptr.clone());
                dns.ptr = Some(ptr);
            }
        }
    }
}
