//! The HTTP parser over TCP chunks: observations, records, pipelining, CONNECT.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;

#[derive(Default)]
struct Collect {
    observations: Vec<String>,
    records: Vec<serde_json::Value>,
    anomalies: Vec<&'static str>,
}

impl AppSink for Collect {
    fn transaction(&mut self, tx: &dyn Transaction) {
        tx.observations(&mut |o| {
            let value = match o.value {
                ObservedValue::Ip(ip) => format!("ip {ip}"),
                ObservedValue::Domain(d) => format!("domain {d}"),
                ObservedValue::Text(kind, t) => format!("{kind} {t}"),
                other => format!("{other:?}"),
            };
            self.observations
                .push(format!("{}: {value}", o.location.as_str()));
        });
        let record = tx.record();
        assert_eq!(record.app_proto, "http");
        self.records.push(record.fields);
    }
    fn anomaly(&mut self, app_proto: &'static str, kind: &'static str) {
        assert_eq!(app_proto, "http");
        self.anomalies.push(kind);
    }
}

/// http-ipv6 and http-options-method captures.
const IPV6_REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: [::1]:8000\r\nUser-Agent: curl/7.54.0\r\nAccept: */*\r\n\r\n";
const OPTIONS_REQUEST: &[u8] = b"OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\
User-Agent: Mozilla/5.0\r\nAccept: */*\r\nConnection: close\r\n\r\n";

#[test]
fn observations_and_record() {
    let mut parser = HttpParser::new();
    let mut sink = Collect::default();
    let outcome = parser.parse(Direction::ToServer, IPV6_REQUEST, &mut sink);
    assert_eq!(outcome, ParseOutcome::Continue);
    assert_eq!(
        sink.observations,
        [
            "http.host: ip ::1",
            "http.url: url [::1]:8000/",
            "http.user_agent: user_agent curl/7.54.0"
        ]
    );
    assert_eq!(
        sink.records[0],
        serde_json::json!({
            "hostname": "[::1]", "http_port": 8000, "url": "/",
            "http_user_agent": "curl/7.54.0", "http_method": "GET", "protocol": "HTTP/1.1",
            "length": 0,
        })
    );
    let mut parser = HttpParser::new();
    let mut sink = Collect::default();
    parser.parse(Direction::ToServer, OPTIONS_REQUEST, &mut sink);
    assert_eq!(
        sink.observations,
        [
            "http.host: domain example.com",
            "http.user_agent: user_agent Mozilla/5.0"
        ]
    );
    assert_eq!(sink.records[0]["url"], "*");
    assert_eq!(sink.records[0]["hostname"], "example.com");
}

#[test]
fn pipelined_requests_split_anywhere() {
    let stream = [
        &b"POST /up HTTP/1.1\r\nHost: A.Example\r\nContent-Length: 5\r\n\r\nhello"[..],
        b"PUT /c HTTP/1.1\r\nHost: b.example:8080\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabc\r\n0\r\n\r\n",
        b"GET http://C.example/x%7e?q HTTP/1.1\r\nUser-Agent: x\r\n\t y\r\n\r\n",
    ]
    .concat();
    for cut in 0..stream.len() {
        let mut parser = HttpParser::new();
        let mut sink = Collect::default();
        parser.parse(Direction::ToServer, &stream[..cut], &mut sink);
        parser.parse(Direction::ToServer, &stream[cut..], &mut sink);
        assert_eq!(
            sink.observations,
            [
                "http.host: domain a.example",
                "http.url: url a.example/up",
                "http.host: domain b.example",
                "http.url: url b.example:8080/c",
                "http.host: domain c.example",
                "http.url: url c.example/x~?q",
                "http.user_agent: user_agent x y",
            ],
            "cut {cut}"
        );
        assert_eq!(sink.anomalies, ["obs_fold"], "cut {cut}");
    }
}

#[test]
fn connect_upgrades_on_success() {
    // bug-2430/backwards.pcap: CONNECT, "200 Connection established", then TLS.
    let request = b"CONNECT qagpublic.qg1.apps.qualys.com:443 HTTP/1.1\r\n\
Host: qagpublic.qg1.apps.qualys.com:443\r\n\r\n";
    let response = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01";
    let mut parser = HttpParser::new();
    let mut sink = Collect::default();
    assert_eq!(
        parser.parse(Direction::ToServer, request, &mut sink),
        ParseOutcome::Continue
    );
    assert_eq!(
        sink.observations,
        ["http.host: domain qagpublic.qg1.apps.qualys.com"]
    );
    assert_eq!(sink.records[0]["url"], "qagpublic.qg1.apps.qualys.com:443");
    assert_eq!(
        parser.parse(Direction::ToClient, response, &mut sink),
        ParseOutcome::Upgrade {
            consumed: response.len() - 3
        }
    );
    // Split response head.
    let mut parser = HttpParser::new();
    parser.parse(Direction::ToServer, request, &mut sink);
    assert_eq!(
        parser.parse(Direction::ToClient, &response[..10], &mut sink),
        ParseOutcome::Continue
    );
    assert_eq!(
        parser.parse(Direction::ToClient, &response[10..], &mut sink),
        ParseOutcome::Upgrade {
            consumed: response.len() - 13
        }
    );
}

#[test]
fn connect_refused_keeps_http() {
    let mut parser = HttpParser::new();
    let mut sink = Collect::default();
    parser.parse(
        Direction::ToServer,
        b"CONNECT x.example:443 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    let refused = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nnope";
    assert_eq!(
        parser.parse(Direction::ToClient, refused, &mut sink),
        ParseOutcome::Continue
    );
    assert_eq!(
        parser.parse(
            Direction::ToServer,
            b"CONNECT x.example:443 HTTP/1.1\r\nProxy-Authorization: x\r\n\r\n",
            &mut sink
        ),
        ParseOutcome::Continue
    );
    assert_eq!(
        parser.parse(Direction::ToClient, b"HTTP/1.1 200 OK\r\n\r\n", &mut sink),
        ParseOutcome::Upgrade { consumed: 19 }
    );
}

#[test]
fn optimistic_tunnel_data_upgrades_the_client_side() {
    let mut parser = HttpParser::new();
    let mut sink = Collect::default();
    let bytes = b"CONNECT x.example:443 HTTP/1.1\r\n\r\n\x16\x03\x01\x02\x00";
    assert_eq!(
        parser.parse(Direction::ToServer, bytes, &mut sink),
        ParseOutcome::Upgrade {
            consumed: bytes.len() - 5
        }
    );
}

#[test]
fn garbage_stops_the_direction() {
    let mut parser = HttpParser::new();
    let mut sink = Collect::default();
    assert_eq!(
        parser.parse(Direction::ToServer, b"\x00\x01\x02 junk\r\n\r\n", &mut sink),
        ParseOutcome::DoneDirection
    );
    assert_eq!(sink.anomalies, ["bad_request_line"]);
    let mut parser = HttpParser::new();
    let endless = vec![b'a'; MAX_HEAD_BYTES + 1];
    let mut outcome = parser.parse(Direction::ToServer, b"GET /", &mut sink);
    for chunk in endless.chunks(1000) {
        outcome = parser.parse(Direction::ToServer, chunk, &mut sink);
        if outcome != ParseOutcome::Continue {
            break;
        }
    }
    assert_eq!(outcome, ParseOutcome::DoneDirection);
}

#[test]
fn probes() {
    use crate::applayer::detect::{L4, Probe};
    let probe = super::super::DEF.probe;
    let p = |dir, data: &[u8]| probe(L4::Tcp, dir, data);
    assert_eq!(p(Direction::ToServer, IPV6_REQUEST), Probe::Certain);
    assert_eq!(p(Direction::ToServer, b"GET / HTT"), Probe::Unsure);
    assert_eq!(p(Direction::ToServer, b"GET"), Probe::Unsure);
    assert_eq!(p(Direction::ToServer, b"\x16\x03\x01"), Probe::NotForUs);
    assert_eq!(p(Direction::ToServer, b"GET / FOO\r\n"), Probe::NotForUs);
    let long = [&b"GET /"[..], &[b'a'; 200]].concat();
    assert_eq!(p(Direction::ToServer, &long), Probe::Certain);
    assert_eq!(p(Direction::ToClient, b"HTTP/1.1 200 OK"), Probe::Certain);
    assert_eq!(p(Direction::ToClient, b"HTT"), Probe::Unsure);
    assert_eq!(
        probe(L4::Udp, Direction::ToServer, IPV6_REQUEST),
        Probe::NotForUs
    );
}
