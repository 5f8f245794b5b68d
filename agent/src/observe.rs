//! Observations: what a packet or flow showed, at which location, ready to be matched.
//!
//! A location names where a value was seen, like Zeek's `Intel::Where`: the same domain is a
//! different finding in a DNS query than in a TLS SNI. Analyzers (connection endpoints today; DNS,
//! TLS and HTTP next) only produce observations; matching, dedup and alerting are the same for all
//! of them, so a new analyzer adds locations without touching the pipeline.

use std::net::IpAddr;

use kordon_intel::ot::{OtAccess, OtClass, OtProtocol};
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
    /// A Modbus/TCP `read` request that an OT policy does not allow.
    OtModbusRead,
    /// A Modbus/TCP `write` request that an OT policy does not allow.
    OtModbusWrite,
    /// A Modbus/TCP `operate` request that an OT policy does not allow.
    OtModbusOperate,
    /// A Modbus/TCP `restart` request that an OT policy does not allow.
    OtModbusRestart,
    /// A Modbus/TCP `program` request that an OT policy does not allow.
    OtModbusProgram,
    /// A Modbus/TCP `stop` request that an OT policy does not allow.
    OtModbusStop,
    /// A Modbus/TCP `file` request that an OT policy does not allow.
    OtModbusFile,
    /// Modbus/TCP between hosts an OT policy does not know as peers.
    OtModbusNewPeer,
    /// A DNP3 `read` request that an OT policy does not allow.
    OtDnp3Read,
    /// A DNP3 `write` request that an OT policy does not allow.
    OtDnp3Write,
    /// A DNP3 `operate` request that an OT policy does not allow.
    OtDnp3Operate,
    /// A DNP3 `restart` request that an OT policy does not allow.
    OtDnp3Restart,
    /// A DNP3 `program` request that an OT policy does not allow.
    OtDnp3Program,
    /// A DNP3 `stop` request that an OT policy does not allow.
    OtDnp3Stop,
    /// A DNP3 `file` request that an OT policy does not allow.
    OtDnp3File,
    /// DNP3 between hosts an OT policy does not know as peers.
    OtDnp3NewPeer,
    /// A IEC 60870-5-104 `read` request that an OT policy does not allow.
    OtIec104Read,
    /// A IEC 60870-5-104 `write` request that an OT policy does not allow.
    OtIec104Write,
    /// A IEC 60870-5-104 `operate` request that an OT policy does not allow.
    OtIec104Operate,
    /// A IEC 60870-5-104 `restart` request that an OT policy does not allow.
    OtIec104Restart,
    /// A IEC 60870-5-104 `program` request that an OT policy does not allow.
    OtIec104Program,
    /// A IEC 60870-5-104 `stop` request that an OT policy does not allow.
    OtIec104Stop,
    /// A IEC 60870-5-104 `file` request that an OT policy does not allow.
    OtIec104File,
    /// IEC 60870-5-104 between hosts an OT policy does not know as peers.
    OtIec104NewPeer,
    /// A S7comm `read` request that an OT policy does not allow.
    OtS7commRead,
    /// A S7comm `write` request that an OT policy does not allow.
    OtS7commWrite,
    /// A S7comm `operate` request that an OT policy does not allow.
    OtS7commOperate,
    /// A S7comm `restart` request that an OT policy does not allow.
    OtS7commRestart,
    /// A S7comm `program` request that an OT policy does not allow.
    OtS7commProgram,
    /// A S7comm `stop` request that an OT policy does not allow.
    OtS7commStop,
    /// A S7comm `file` request that an OT policy does not allow.
    OtS7commFile,
    /// S7comm between hosts an OT policy does not know as peers.
    OtS7commNewPeer,
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
            Location::OtModbusRead => "ot.modbus.read",
            Location::OtModbusWrite => "ot.modbus.write",
            Location::OtModbusOperate => "ot.modbus.operate",
            Location::OtModbusRestart => "ot.modbus.restart",
            Location::OtModbusProgram => "ot.modbus.program",
            Location::OtModbusStop => "ot.modbus.stop",
            Location::OtModbusFile => "ot.modbus.file",
            Location::OtModbusNewPeer => "ot.modbus.new_peer",
            Location::OtDnp3Read => "ot.dnp3.read",
            Location::OtDnp3Write => "ot.dnp3.write",
            Location::OtDnp3Operate => "ot.dnp3.operate",
            Location::OtDnp3Restart => "ot.dnp3.restart",
            Location::OtDnp3Program => "ot.dnp3.program",
            Location::OtDnp3Stop => "ot.dnp3.stop",
            Location::OtDnp3File => "ot.dnp3.file",
            Location::OtDnp3NewPeer => "ot.dnp3.new_peer",
            Location::OtIec104Read => "ot.iec104.read",
            Location::OtIec104Write => "ot.iec104.write",
            Location::OtIec104Operate => "ot.iec104.operate",
            Location::OtIec104Restart => "ot.iec104.restart",
            Location::OtIec104Program => "ot.iec104.program",
            Location::OtIec104Stop => "ot.iec104.stop",
            Location::OtIec104File => "ot.iec104.file",
            Location::OtIec104NewPeer => "ot.iec104.new_peer",
            Location::OtS7commRead => "ot.s7comm.read",
            Location::OtS7commWrite => "ot.s7comm.write",
            Location::OtS7commOperate => "ot.s7comm.operate",
            Location::OtS7commRestart => "ot.s7comm.restart",
            Location::OtS7commProgram => "ot.s7comm.program",
            Location::OtS7commStop => "ot.s7comm.stop",
            Location::OtS7commFile => "ot.s7comm.file",
            Location::OtS7commNewPeer => "ot.s7comm.new_peer",
        }
    }

    /// The location of an OT policy violation: `ot.<protocol>.<class>`, or
    /// `ot.<protocol>.new_peer` for the known-peers check (`class` is `None`).
    pub fn ot(protocol: OtProtocol, class: Option<OtClass>) -> Location {
        match (protocol, class) {
            (OtProtocol::Modbus, Some(OtClass::Read)) => Location::OtModbusRead,
            (OtProtocol::Modbus, Some(OtClass::Write)) => Location::OtModbusWrite,
            (OtProtocol::Modbus, Some(OtClass::Operate)) => Location::OtModbusOperate,
            (OtProtocol::Modbus, Some(OtClass::Restart)) => Location::OtModbusRestart,
            (OtProtocol::Modbus, Some(OtClass::Program)) => Location::OtModbusProgram,
            (OtProtocol::Modbus, Some(OtClass::Stop)) => Location::OtModbusStop,
            (OtProtocol::Modbus, Some(OtClass::File)) => Location::OtModbusFile,
            (OtProtocol::Modbus, None) => Location::OtModbusNewPeer,
            (OtProtocol::Dnp3, Some(OtClass::Read)) => Location::OtDnp3Read,
            (OtProtocol::Dnp3, Some(OtClass::Write)) => Location::OtDnp3Write,
            (OtProtocol::Dnp3, Some(OtClass::Operate)) => Location::OtDnp3Operate,
            (OtProtocol::Dnp3, Some(OtClass::Restart)) => Location::OtDnp3Restart,
            (OtProtocol::Dnp3, Some(OtClass::Program)) => Location::OtDnp3Program,
            (OtProtocol::Dnp3, Some(OtClass::Stop)) => Location::OtDnp3Stop,
            (OtProtocol::Dnp3, Some(OtClass::File)) => Location::OtDnp3File,
            (OtProtocol::Dnp3, None) => Location::OtDnp3NewPeer,
            (OtProtocol::Iec104, Some(OtClass::Read)) => Location::OtIec104Read,
            (OtProtocol::Iec104, Some(OtClass::Write)) => Location::OtIec104Write,
            (OtProtocol::Iec104, Some(OtClass::Operate)) => Location::OtIec104Operate,
            (OtProtocol::Iec104, Some(OtClass::Restart)) => Location::OtIec104Restart,
            (OtProtocol::Iec104, Some(OtClass::Program)) => Location::OtIec104Program,
            (OtProtocol::Iec104, Some(OtClass::Stop)) => Location::OtIec104Stop,
            (OtProtocol::Iec104, Some(OtClass::File)) => Location::OtIec104File,
            (OtProtocol::Iec104, None) => Location::OtIec104NewPeer,
            (OtProtocol::S7comm, Some(OtClass::Read)) => Location::OtS7commRead,
            (OtProtocol::S7comm, Some(OtClass::Write)) => Location::OtS7commWrite,
            (OtProtocol::S7comm, Some(OtClass::Operate)) => Location::OtS7commOperate,
            (OtProtocol::S7comm, Some(OtClass::Restart)) => Location::OtS7commRestart,
            (OtProtocol::S7comm, Some(OtClass::Program)) => Location::OtS7commProgram,
            (OtProtocol::S7comm, Some(OtClass::Stop)) => Location::OtS7commStop,
            (OtProtocol::S7comm, Some(OtClass::File)) => Location::OtS7commFile,
            (OtProtocol::S7comm, None) => Location::OtS7commNewPeer,
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
    /// An OT request: matched against the set's OT policies.
    Ot(OtRequest),
}

/// An OT request as a decoder reports it. Decoders do not know the flow's addresses; the sink
/// fills them in with [`Observation::in_flow`] before matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtRequest {
    /// The protocol.
    pub protocol: OtProtocol,
    /// The function class; `None` reports "this protocol is spoken" (known-peers check).
    pub class: Option<OtClass>,
    /// Whether the flow's originator issued the request (the usual case).
    pub from_client: bool,
    /// Unit, destination, common address or station the request targets, if any.
    pub address: Option<u32>,
    /// (requester, responder), once known.
    pub hosts: Option<(IpAddr, IpAddr)>,
}

impl OtRequest {
    /// The observation of this request at its `ot.<protocol>.<class>` location.
    pub fn observation<'a>(self) -> Observation<'a> {
        Observation {
            location: Location::ot(self.protocol, self.class),
            value: ObservedValue::Ot(self),
        }
    }
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
    /// Completes an OT request with the flow's client and server addresses (other observations
    /// are returned unchanged).
    pub fn in_flow(mut self, client: IpAddr, server: IpAddr) -> Self {
        if let ObservedValue::Ot(request) = &mut self.value {
            request.hosts = Some(if request.from_client {
                (client, server)
            } else {
                (server, client)
            });
        }
        self
    }

    /// Appends the indicators matching this observation to `out` (which keeps its capacity, so
    /// matching does not allocate in steady state).
    ///
    /// Domain and text observations are also matched as Suricata dataset values: exactly
    /// ([`IndicatorKind::String`]) and by the lower-case hex MD5 and SHA-256 of their bytes
    /// ([`IndicatorKind::Md5`], [`IndicatorKind::Sha256`], like the `to_md5`/`to_sha256`
    /// transforms in front of a `dataset` rule). A digest is computed only when the set holds
    /// indicators of its kind, into a stack buffer, so this stays allocation-free.
    pub fn match_into(&self, set: &IndicatorSet, now_secs: i64, out: &mut Vec<MatchId>) {
        let raw = match self.value {
            ObservedValue::Ip(addr) => return set.match_ip(addr, now_secs, out),
            ObservedValue::Ot(request) => {
                if let Some((requester, responder)) = request.hosts {
                    let access = OtAccess {
                        protocol: request.protocol,
                        class: request.class,
                        requester,
                        responder,
                        address: request.address,
                    };
                    set.match_ot(&access, now_secs, out);
                }
                return;
            }
            ObservedValue::Domain(name) => {
                set.match_domain(name, now_secs, out);
                name
            }
            ObservedValue::Text(kind, value) => {
                set.match_text(kind, value, now_secs, out);
                value
            }
        };
        match_dataset_kinds(set, raw, now_secs, out);
    }
}

/// The [`IndicatorKind::String`], [`IndicatorKind::Md5`] and [`IndicatorKind::Sha256`] matches
/// of `value` (see [`Observation::match_into`]).
fn match_dataset_kinds(set: &IndicatorSet, value: &str, now_secs: i64, out: &mut Vec<MatchId>) {
    use md5::Digest as _;
    if set.count_of(IndicatorKind::String) > 0 {
        set.match_text(IndicatorKind::String, value, now_secs, out);
    }
    if set.count_of(IndicatorKind::Md5) > 0 {
        let digest = md5::Md5::digest(value.as_bytes());
        let mut hex = [0u8; 32];
        set.match_text(
            IndicatorKind::Md5,
            hex_lower(&digest, &mut hex),
            now_secs,
            out,
        );
    }
    if set.count_of(IndicatorKind::Sha256) > 0 {
        let digest = sha2::Sha256::digest(value.as_bytes());
        let mut hex = [0u8; 64];
        set.match_text(
            IndicatorKind::Sha256,
            hex_lower(&digest, &mut hex),
            now_secs,
            out,
        );
    }
}

/// Writes `bytes` as lower-case hex into `out` (which must be twice as long) and returns it.
fn hex_lower<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        if let [hi, lo] = pair {
            *hi = HEX[usize::from(byte >> 4)];
            *lo = HEX[usize::from(byte & 0x0f)];
        }
    }
    // Only ASCII hex digits were written.
    std::str::from_utf8(out).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kordon_intel::{Indicator, IndicatorMeta, IndicatorSetBuilder, IndicatorValue};

    use super::*;

    fn set_of(entries: &[(IndicatorKind, &str)]) -> IndicatorSet {
        let meta = Arc::new(IndicatorMeta::default());
        let mut builder = IndicatorSetBuilder::new();
        for (kind, value) in entries {
            builder.add(Indicator {
                id: Some(format!("{kind}:{value}")),
                kind: *kind,
                value: IndicatorValue::Text(value.to_string()),
                score: None,
                meta: Arc::clone(&meta),
            });
        }
        builder.build().expect("builds")
    }

    fn matched(set: &IndicatorSet, value: ObservedValue<'_>) -> Vec<String> {
        let mut out = Vec::new();
        Observation {
            location: Location::DnsQuery,
            value,
        }
        .match_into(set, 0, &mut out);
        out.iter().map(|&m| set.get(m).id().into_owned()).collect()
    }

    #[test]
    fn dataset_kinds_match_domain_and_text_observations() {
        // Digests of "google.com" (as in suricata-verify datarep-02).
        let md5 = "1d5920f4b44b27a802bd77c4f0536f5a";
        let sha256 = "d4c9d9027326271a89ce51fcaf328ed673f17be33469ff979e8ab8dd501e664f";
        let set = set_of(&[
            (IndicatorKind::String, "google.com"),
            (IndicatorKind::Md5, md5),
            (IndicatorKind::Sha256, sha256),
            (IndicatorKind::String, "curl/7.43.0"),
        ]);
        assert_eq!(
            matched(&set, ObservedValue::Domain("google.com")),
            [
                "string:google.com".to_string(),
                format!("md5:{md5}"),
                format!("sha256:{sha256}")
            ]
        );
        // Strings are exact bytes: case matters, unlike domains.
        assert!(matched(&set, ObservedValue::Domain("Google.com")).is_empty());
        assert_eq!(
            matched(
                &set,
                ObservedValue::Text(IndicatorKind::UserAgent, "curl/7.43.0")
            ),
            ["string:curl/7.43.0"]
        );
        assert!(matched(&set, ObservedValue::Ip("10.0.0.1".parse().expect("ip"))).is_empty());
    }

    #[test]
    fn hex_is_lower_case() {
        let mut out = [0u8; 4];
        assert_eq!(hex_lower(&[0xAB, 0x01], &mut out), "ab01");
    }
}
