//! Plausible application payloads: DNS, TLS 1.3 hellos with SNI, HTTP/1.1, NTP, syslog, ping.
//! Good enough for protocol detection and field extraction; not meant to be cryptographically
//! meaningful.

use std::net::IpAddr;

use crate::rng::Rng;

pub const DNS_NAMES: [&str; 32] = [
    "www.google.com",
    "clients4.google.com",
    "update.googleapis.com",
    "login.microsoftonline.com",
    "settings-win.data.microsoft.com",
    "time.windows.com",
    "ctldl.windowsupdate.com",
    "outlook.office365.com",
    "teams.microsoft.com",
    "api.github.com",
    "github.com",
    "objects.githubusercontent.com",
    "ocsp.digicert.com",
    "crl.sectigo.com",
    "r3.o.lencr.org",
    "deb.debian.org",
    "security.debian.org",
    "pool.ntp.org",
    "www.wikipedia.org",
    "fonts.gstatic.com",
    "cdn.jsdelivr.net",
    "s3.amazonaws.com",
    "sqs.eu-west-1.amazonaws.com",
    "graph.facebook.com",
    "www.linkedin.com",
    "slack.com",
    "edge.skype.com",
    "a.nel.cloudflare.com",
    "dns.msftncsi.com",
    "connectivity-check.ubuntu.com",
    "scada-historian.corp.internal",
    "plc-gw01.ot.internal",
];

pub const TLS_NAMES: [&str; 16] = [
    "www.google.com",
    "login.microsoftonline.com",
    "outlook.office365.com",
    "api.github.com",
    "github.com",
    "update.googleapis.com",
    "teams.microsoft.com",
    "www.wikipedia.org",
    "fonts.gstatic.com",
    "cdn.jsdelivr.net",
    "s3.amazonaws.com",
    "slack.com",
    "www.linkedin.com",
    "edge.skype.com",
    "graph.facebook.com",
    "objects.githubusercontent.com",
];

const CDN_SUFFIXES: [&str; 4] = [
    "a.akamaiedge.net",
    "cloudfront.net",
    "fastly.net",
    "azureedge.net",
];

const PATHS: [&str; 8] = [
    "/",
    "/index.html",
    "/api/v1/status",
    "/static/app.js",
    "/images/logo.png",
    "/update/check?version=4.2.1",
    "/favicon.ico",
    "/downloads/firmware.bin",
];

const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "curl/7.88.1",
    "Microsoft-CryptoAPI/10.0",
];

/// A query name: a common name, or a CDN-style generated one.
pub fn dns_name(rng: &mut Rng) -> String {
    if rng.chance(0.8) {
        rng.pick(&DNS_NAMES).to_string()
    } else {
        format!("e{}.{}", rng.range(1, 99_999), rng.pick(&CDN_SUFFIXES))
    }
}

pub fn tls_server_name(rng: &mut Rng) -> String {
    rng.pick(&TLS_NAMES).to_string()
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let l = &label.as_bytes()[..label.len().min(63)];
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
}

/// A recursive query for `name` (A, or AAAA).
pub fn dns_query(id: u16, name: &str, aaaa: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    put_name(&mut out, name);
    out.extend_from_slice(&[0, if aaaa { 28 } else { 1 }, 0, 1]);
    out
}

/// The answer to [`dns_query`]: one record per address, names compressed to the question.
pub fn dns_response(id: u16, name: &str, aaaa: bool, answers: &[IpAddr], ttl: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + name.len() + answers.len() * 28);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x81, 0x80, 0, 1, 0, answers.len() as u8, 0, 0, 0, 0]);
    put_name(&mut out, name);
    out.extend_from_slice(&[0, if aaaa { 28 } else { 1 }, 0, 1]);
    for a in answers {
        out.extend_from_slice(&[0xc0, 0x0c]);
        match a {
            IpAddr::V4(v4) => {
                out.extend_from_slice(&[0, 1, 0, 1]);
                out.extend_from_slice(&ttl.to_be_bytes());
                out.extend_from_slice(&[0, 4]);
                out.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out.extend_from_slice(&[0, 28, 0, 1]);
                out.extend_from_slice(&ttl.to_be_bytes());
                out.extend_from_slice(&[0, 16]);
                out.extend_from_slice(&v6.octets());
            }
        }
    }
    out
}

fn ext(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn handshake_record(kind: u8, record_version: [u8; 2], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 9);
    out.push(0x16);
    out.extend_from_slice(&record_version);
    out.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// A TLS 1.3 ClientHello (browser-like cipher and extension lists) naming `sni`.
pub fn tls_client_hello(rng: &mut Rng, sni: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(512);
    b.extend_from_slice(&[0x03, 0x03]);
    let mut random = [0u8; 32];
    rng.fill(&mut random);
    b.extend_from_slice(&random);
    b.push(32);
    let mut session = [0u8; 32];
    rng.fill(&mut session);
    b.extend_from_slice(&session);
    let suites: [u16; 15] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ];
    // 64 client variants (distinct JA3 and JA4), chosen by bits of the random already drawn so
    // the rest of the capture does not change: bit i drops legacy suite 3 + 2i.
    let variant = random[0] & 0x3f;
    let kept: Vec<u16> = suites
        .iter()
        .enumerate()
        .filter(|&(i, _)| i < 3 || (i - 3) % 2 == 1 || variant & (1 << ((i - 3) / 2)) == 0)
        .map(|(_, &s)| s)
        .collect();
    b.extend_from_slice(&((kept.len() * 2) as u16).to_be_bytes());
    for s in kept {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]); // compression: null
    let mut exts = Vec::with_capacity(256);
    if !sni.is_empty() {
        let n = sni.as_bytes();
        let mut body = Vec::with_capacity(n.len() + 5);
        body.extend_from_slice(&((n.len() + 3) as u16).to_be_bytes());
        body.push(0);
        body.extend_from_slice(&(n.len() as u16).to_be_bytes());
        body.extend_from_slice(n);
        ext(&mut exts, 0x0000, &body);
    }
    ext(&mut exts, 0x0017, &[]); // extended master secret
    ext(&mut exts, 0xff01, &[0]); // renegotiation info
    ext(
        &mut exts,
        0x000a,
        &[0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18],
    );
    ext(&mut exts, 0x000b, &[1, 0]);
    ext(&mut exts, 0x0023, &[]); // session ticket
    ext(&mut exts, 0x0010, b"\x00\x0c\x02h2\x08http/1.1");
    ext(
        &mut exts,
        0x000d,
        &[
            0, 16, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08,
            0x06, 0x06, 0x01,
        ],
    );
    let mut share = vec![0, 36, 0x00, 0x1d, 0, 32];
    let mut key = [0u8; 32];
    rng.fill(&mut key);
    share.extend_from_slice(&key);
    ext(&mut exts, 0x0033, &share);
    ext(&mut exts, 0x002d, &[1, 1]);
    ext(&mut exts, 0x002b, &[4, 0x03, 0x04, 0x03, 0x03]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    handshake_record(1, [0x03, 0x01], &b)
}

/// A TLS 1.3 ServerHello followed by ChangeCipherSpec (the encrypted rest is opaque filler).
pub fn tls_server_hello(rng: &mut Rng) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.extend_from_slice(&[0x03, 0x03]);
    let mut random = [0u8; 32];
    rng.fill(&mut random);
    b.extend_from_slice(&random);
    b.push(32);
    let mut session = [0u8; 32];
    rng.fill(&mut session);
    b.extend_from_slice(&session);
    b.extend_from_slice(&[0x13, 0x01, 0]);
    let mut exts = Vec::with_capacity(64);
    ext(&mut exts, 0x002b, &[0x03, 0x04]);
    let mut share = vec![0x00, 0x1d, 0, 32];
    let mut key = [0u8; 32];
    rng.fill(&mut key);
    share.extend_from_slice(&key);
    ext(&mut exts, 0x0033, &share);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    let mut out = handshake_record(2, [0x03, 0x03], &b);
    out.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    out
}

/// An SSH identification line (RFC 4253 §4.2).
pub fn ssh_banner(rng: &mut Rng) -> Vec<u8> {
    rng.pick(&[
        "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
        "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n",
        "SSH-2.0-PuTTY_Release_0.81\r\n",
    ])
    .as_bytes()
    .to_vec()
}

/// The HTTP `Host` name of an IPv4 web server: derived from its address (no random draw), so all
/// requests to one server name it alike.
pub fn http_host_name(ip: std::net::Ipv4Addr) -> String {
    const SUFFIXES: [&str; 4] = [
        "static-cdn.net",
        "webhost.com",
        "example-shop.org",
        "media.io",
    ];
    let v = u32::from(ip).wrapping_mul(0x9E37_79B1);
    format!("h{:08x}.{}", v, SUFFIXES[(v >> 30) as usize])
}

pub fn http_request(rng: &mut Rng, host: &str) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
        rng.pick(&PATHS),
        rng.pick(&USER_AGENTS)
    )
    .into_bytes()
}

pub fn http_response_head(rng: &mut Rng, body_len: usize) -> Vec<u8> {
    let ctype = rng.pick(&[
        "text/html; charset=utf-8",
        "application/json",
        "image/png",
        "application/octet-stream",
    ]);
    format!(
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: {ctype}\r\nContent-Length: {body_len}\r\nCache-Control: max-age=3600\r\n\r\n"
    )
    .into_bytes()
}

/// A 48-byte NTPv4 packet (mode 3 client, 4 server).
pub fn ntp(rng: &mut Rng, mode: u8) -> Vec<u8> {
    let mut out = vec![0u8; 48];
    out[0] = (4 << 3) | mode;
    if mode == 4 {
        out[1] = 2; // stratum
        rng.fill(&mut out[16..48]);
    } else {
        rng.fill(&mut out[40..48]);
    }
    out
}

pub fn syslog(rng: &mut Rng) -> Vec<u8> {
    let msgs = [
        "sshd[812]: Accepted publickey for ops from 10.20.1.7 port 50022",
        "kernel: [12345.678] eth0: link up, 1000Mbps, full-duplex",
        "CRON[2211]: (root) CMD (/usr/local/bin/backup.sh)",
        "historian: tag FIC-101.PV quality good",
        "hmi01 alarm: TANK-3 level high-high acknowledged by operator",
    ];
    format!(
        "<{}>May 20 08:{:02}:{:02} host{} {}",
        rng.range(10, 190),
        rng.below(60),
        rng.below(60),
        rng.range(1, 40),
        rng.pick(&msgs)
    )
    .into_bytes()
}

/// Linux `ping` style 56-byte data: an 8-byte timestamp-ish field then 0x10, 0x11, …
pub fn ping_data(seq: u16) -> [u8; 56] {
    let mut d = [0u8; 56];
    d[0..2].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in d.iter_mut().enumerate().skip(8) {
        *b = i as u8 + 8;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_lengths_are_consistent() {
        let mut rng = Rng::new(1, 1);
        let ch = tls_client_hello(&mut rng, "www.example.com");
        assert_eq!(ch[0], 0x16);
        let rec_len = usize::from(u16::from_be_bytes([ch[3], ch[4]]));
        assert_eq!(rec_len + 5, ch.len());
        let hs_len = u32::from_be_bytes([0, ch[6], ch[7], ch[8]]) as usize;
        assert_eq!(hs_len + 4, rec_len);
        assert!(ch.windows(15).any(|w| w == b"www.example.com"));
    }

    #[test]
    fn dns_query_shape() {
        let q = dns_query(0x1234, "a.bc", false);
        assert_eq!(
            q,
            [
                0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 2, b'b', b'c', 0, 0, 1, 0, 1
            ]
        );
    }
}
