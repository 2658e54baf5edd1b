use super::*;
use crate::clients::profile;
use crate::tls::legacy::parse_client_hello;

fn win11() -> HelloSpec {
    profile("win11")
        .map(|p| p.hello)
        .unwrap_or_else(|| panic!("win11 profile"))
}

#[test]
fn windows_11_hello_field_by_field() {
    let random = [0x5Au8; 32];
    let got = build(&win11(), random);
    let key: Vec<u8> = {
        let mut h = Sha256::new();
        h.update(b"rdpsweep profile key_share");
        h.update(random);
        h.finalize().to_vec()
    };
    let mut want: Vec<u8> = Vec::new();
    // Handshake body, then wrapped below once its length is known.
    let mut body: Vec<u8> = vec![0x03, 0x03]; // legacy_version TLS 1.2 (1.3 goes in ext 43)
    body.extend_from_slice(&random); // random
    body.push(0x00); // session_id: empty
    body.extend_from_slice(&[0x00, 0x28]); // cipher_suites: 40 bytes = 20 suites
    body.extend_from_slice(&[0x13, 0x02, 0x13, 0x01]); // TLS_AES_256_GCM_SHA384, _128_
    body.extend_from_slice(&[0xC0, 0x2C, 0xC0, 0x2B, 0xC0, 0x30, 0xC0, 0x2F]); // ECDHE GCM
    body.extend_from_slice(&[0xC0, 0x24, 0xC0, 0x23, 0xC0, 0x28, 0xC0, 0x27]); // ECDHE CBC-SHA2
    body.extend_from_slice(&[0xC0, 0x0A, 0xC0, 0x09, 0xC0, 0x14, 0xC0, 0x13]); // ECDHE CBC-SHA1
    body.extend_from_slice(&[0x00, 0x9D, 0x00, 0x9C, 0x00, 0x3D, 0x00, 0x3C]); // RSA GCM, SHA2
    body.extend_from_slice(&[0x00, 0x35, 0x00, 0x2F]); // RSA AES-CBC-SHA
    body.extend_from_slice(&[0x01, 0x00]); // compression: 1 method, null
    let mut ext: Vec<u8> = Vec::new();
    ext.extend_from_slice(&[0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00]); // status_request: ocsp
    ext.extend_from_slice(&[0x00, 0x0A, 0x00, 0x08, 0x00, 0x06]); // supported_groups, list 6
    ext.extend_from_slice(&[0x00, 0x1D, 0x00, 0x17, 0x00, 0x18]); // x25519, P-256, P-384
    ext.extend_from_slice(&[0x00, 0x0B, 0x00, 0x02, 0x01, 0x00]); // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0D, 0x00, 0x1A, 0x00, 0x18]); // signature_algorithms, 12
    ext.extend_from_slice(&[0x08, 0x04, 0x08, 0x05, 0x08, 0x06]); // rsa_pss_rsae_sha256..512
    ext.extend_from_slice(&[0x04, 0x01, 0x05, 0x01, 0x02, 0x01]); // rsa_pkcs1 sha256, 384, sha1
    ext.extend_from_slice(&[0x04, 0x03, 0x05, 0x03, 0x02, 0x03]); // ecdsa sha256, 384, sha1
    ext.extend_from_slice(&[0x02, 0x02, 0x06, 0x01, 0x06, 0x03]); // dsa_sha1, rsa/ecdsa sha512
    ext.extend_from_slice(&[0x00, 0x23, 0x00, 0x00]); // session_ticket: empty
    ext.extend_from_slice(&[0x00, 0x17, 0x00, 0x00]); // extended_master_secret
    ext.extend_from_slice(&[0x00, 0x2B, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]); // versions 1.3, 1.2
    ext.extend_from_slice(&[0x00, 0x2D, 0x00, 0x02, 0x01, 0x01]); // psk modes: psk_dhe_ke
    ext.extend_from_slice(&[0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1D, 0x00, 0x20]); // key_share x25519
    ext.extend_from_slice(&key); // its 32-byte public value
    ext.extend_from_slice(&[0xFF, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info: empty
    body.extend_from_slice(&u16::try_from(ext.len()).unwrap_or(0).to_be_bytes()); // extensions length
    body.extend_from_slice(&ext);
    want.extend_from_slice(&[0x16, 0x03, 0x03]); // record: handshake, version TLS 1.2
    want.extend_from_slice(&u16::try_from(body.len() + 4).unwrap_or(0).to_be_bytes()); // record length
    want.push(0x01); // handshake type client_hello
    want.push(0x00); // u24 length, high byte
    want.extend_from_slice(&u16::try_from(body.len()).unwrap_or(0).to_be_bytes());
    want.extend_from_slice(&body);
    assert_eq!(hex::encode(&got), hex::encode(&want));

    // The lab's ClientHello reader sees the same offer.
    match parse_client_hello(&got) {
        crate::rdp::Parse::Done(Ok(info)) => {
            assert_eq!(info.max_version(), TlsVersion::TLS13);
            assert!(
                !info.suites.contains(&0xCCA8),
                "Windows 11 offers no ChaCha20"
            );
            assert_eq!(info.suites.first(), Some(&0x1302));
        }
        other => panic!("reader: {other:?}"),
    }
}

#[test]
fn tls10_only_hello_has_no_tls13_parts() {
    let spec = profile("win7")
        .map(|p| p.hello)
        .unwrap_or_else(|| panic!("win7"));
    let got = build(&spec, [1; 32]);
    // Record and legacy_version both TLS 1.0; no supported_versions or key_share.
    assert_eq!(got.get(..3), Some(&[0x16, 0x03, 0x01][..]));
    assert_eq!(got.get(9..11), Some(&[0x03, 0x01][..]));
    match parse_client_hello(&got) {
        crate::rdp::Parse::Done(Ok(info)) => {
            assert_eq!(info.max_version(), TlsVersion::TLS10);
            assert_eq!(info.suites.first(), Some(&0xC014));
        }
        other => panic!("reader: {other:?}"),
    }
}
