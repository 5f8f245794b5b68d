//! Observations: what a packet or flow showed, at which location, ready to be matched.
//!
//! A location names where a value was seen, like Zeek's `Intel::Where`: the same domain is a
//! different finding in a DNS query than in a TLS SNI. Analyzers (connection endpoints today; DNS,
//! TLS and HTTP next) only produce observations; matching, dedup and alerting are the same for all
//! of them, so a new analyzer adds locations without touching the pipeline.

use std::net::IpAddr;

use kordon_intel::{IndicatorKind, IndicatorSet, MatchId};

/// Where a value was observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// The flow's originator address (Zeek `Conn::IN_ORIG`; Suricata's alert `src_ip`).
    ConnSrc,
    /// The flow's responder address (Zeek `Conn::IN_RESP`; Suricata's alert `dest_ip`).
    ConnDst,
    /// A name asked for in a DNS query (Zeek `DNS::IN_REQUEST`).
    DnsQuery,
    /// A name or address in a DNS answer (Zeek `DNS::IN_RESPONSE`).
    DnsAnswer,
    /// The server name a TLS client asked for (`SSL::IN_SERVER_NAME`).
    TlsSni,
    /// The JA3 fingerprint of a TLS ClientHello.
    TlsJa3,
    /// The JA3S fingerprint of a TLS ServerHello.
    TlsJa3s,
    /// The JA4 fingerprint of a TLS ClientHello.
    TlsJa4,
    /// The HTTP `Host` header (`HTTP::IN_HOST_HEADER`).
    HttpHost,
    /// The normalised request URL (`HTTP::IN_URL`).
    HttpUrl,
    /// The HTTP `User-Agent` header (`HTTP::IN_USER_AGENT_HEADER`).
    HttpUserAgent,
    /// An X.509 certificate fingerprint.
    X509Fingerprint,
}

impl Location {
    /// The dotted name used in alerts, reports and configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::ConnSrc => "conn.src",
            Location::ConnDst => "conn.dst",
            Location::DnsQuery => "dns.query",
            Location::DnsAnswer => "dns.answer",
            Location::TlsSni => "tls.sni",
            Location::TlsJa3 => "tls.ja3",
            Location::TlsJa3s => "tls.ja3s",
            Location::TlsJa4 => "tls.ja4",
            Location::HttpHost => "http.host",
            Location::HttpUrl => "http.url",
            Location::HttpUserAgent => "http.user_agent",
            Location::X509Fingerprint => "x509.fingerprint",
        }
    }

    /// Whether the location describes the flow as a whole (so every packet of the flow repeats
    /// it), rather than one event inside the flow (a query, a handshake).
    pub fn is_per_flow(self) -> bool {
        matches!(self, Location::ConnSrc | Location::ConnDst)
    }
}

/// An observed value, borrowed from the packet or flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObservedValue<'a> {
    /// An address: matched against exact IPv4/IPv6 and CIDR indicators.
    Ip(IpAddr),
    /// A DNS name: matched against domain indicators (exact and subdomain).
    Domain(&'a str),
    /// A value of one textual kind (URL, user agent, fingerprint…).
    Text(IndicatorKind, &'a str),
}

/// One observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation<'a> {
    /// Where it was seen.
    pub location: Location,
    /// What was seen.
    pub value: ObservedValue<'a>,
}

impl Observation<'_> {
    /// Appends the indicators matching this observation to `out` (which keeps its capacity, so
    /// matching does not allocate in steady state).
    pub fn match_into(&self, set: &IndicatorSet, now_secs: i64, out: &mut Vec<MatchId>) {
        match self.value {
            ObservedValue::Ip(addr) => set.match_ip(addr, now_secs, out),
            ObservedValue::Domain(name) => set.match_domain(name, now_secs, out),
            ObservedValue::Text(kind, value) => set.match_text(kind, value, now_secs, out),
        }
    }
}
