//! The TLS parser end to end on hellos assembled by `parser_tests`: records split across
//! chunks, hellos split across records, HelloRetryRequest, unanswered hellos, refusals.

use super::*;
use crate::applayer::tls::parser::HELLO_RETRY_REQUEST_RANDOM;
use crate::applayer::tls::parser::tests::{
    alpn_ext, chrome_like_body, client_hello_body, ext, record, server_hello_body, sni_ext,
};

/// What the sink saw: per transaction, its observations as `location=value` and, when logged,
/// the record.
#[derive(Default)]
struct Collect {
    observed: Vec<Vec<String>>,
    logged: Vec<serde_json::Value>,
    anomalies: Vec<&'static str>,
}

impl AppSink for Collect {
    fn transaction(&mut self, tx: &dyn Transaction) {
        let mut seen = Vec::new();
        tx.observations(&mut |o| {
            let value = match o.value {
                ObservedValue::Domain(d) => d.to_string(),
                ObservedValue::Text(_, t) => t.to_string(),
                other => format!("{other:?}"),
            };
            seen.push(format!("{}={value}", o.location.as_str()));
        });
        self.observed.push(seen);
        if tx.logged() {
            self.logged.push(tx.record().fields);
        }
    }
    fn anomaly(&mut self, _: &'static str, kind: &'static str) {
        self.anomalies.push(kind);
    }
}

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn server_hello_12() -> Vec<u8> {
    record(
        2,
        &server_hello_body(
            0x0303,
            [9; 32],
            0xc02f,
            &[ext(0xff01, b"\x00"), ext(0x0010, b"\x00\x03\x02h2")],
        ),
    )
}

#[test]
fn client_hello_split_over_chunks_then_server_hello() {
    let mut parser = TlsParser::default();
    let mut sink = Collect::default();
    let client = record(1, &chrome_like_body("www.example.com"));
    assert_eq!(probe(L4::Tcp, C, &client[..3]), Probe::Unsure);
    assert_eq!(probe(L4::Tcp, C, &client), Probe::Certain);
    for chunk in client.chunks(7) {
        assert_eq!(parser.parse(C, chunk, &mut sink), ParseOutcome::Continue);
    }
    assert_eq!(
        sink.observed,
        [vec![
            "tls.sni=www.example.com".to_string(),
            format!(
                "tls.ja3={}",
                sink.observed[0][1].trim_start_matches("tls.ja3=")
            ),
            "tls.ja4=t13d1516h2_8daaf6152771_e5627efa2ab1".to_string(),
        ]]
    );
    assert!(
        sink.logged.is_empty(),
        "the handshake is logged once the server answers"
    );
    assert_eq!(
        parser.parse(S, &server_hello_12(), &mut sink),
        ParseOutcome::Done
    );
    assert_eq!(sink.logged.len(), 1);
    let log = &sink.logged[0];
    assert_eq!(log["sni"], "www.example.com");
    assert_eq!(log["version"], "TLS 1.2");
    assert_eq!(log["ja4"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(log["ja3s"]["string"], "771,49199,65281-16");
    assert_eq!(log["client_alpns"], serde_json::json!(["h2", "http/1.1"]));
    assert_eq!(log["server_alpns"], serde_json::json!(["h2"]));
    assert_eq!(
        sink.observed[1],
        [format!(
            "tls.ja3s={}",
            log["ja3s"]["hash"].as_str().unwrap()
        )]
    );
    assert!(sink.anomalies.is_empty());
}

#[test]
fn hello_split_across_records() {
    let body = chrome_like_body("split.example");
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let (a, b) = hs.split_at(40);
    let mut bytes = Vec::new();
    for part in [a, b] {
        bytes.extend_from_slice(&[22, 3, 1]);
        bytes.extend_from_slice(&(part.len() as u16).to_be_bytes());
        bytes.extend_from_slice(part);
    }
    let mut parser = TlsParser::default();
    let mut sink = Collect::default();
    assert_eq!(parser.parse(C, &bytes, &mut sink), ParseOutcome::Continue);
    assert_eq!(sink.observed.len(), 1);
    assert_eq!(sink.observed[0][0], "tls.sni=split.example");
}

#[test]
fn hello_retry_request_logs_one_event_with_both_client_hellos() {
    let mut parser = TlsParser::default();
    let mut sink = Collect::default();
    let first = chrome_like_body("retry.example");
    let second = client_hello_body(
        0x0303,
        &[0x1301],
        &[
            sni_ext("retry.example"),
            ext(0x002b, b"\x02\x03\x04"),
            alpn_ext(&[b"h2"]),
        ],
    );
    let hrr = server_hello_body(
        0x0303,
        HELLO_RETRY_REQUEST_RANDOM,
        0x1301,
        &[ext(43, b"\x03\x04")],
    );
    let final_hello = server_hello_body(
        0x0303,
        [5; 32],
        0x1301,
        &[ext(43, b"\x03\x04"), ext(51, b"\x00\x1d\x00\x00")],
    );
    assert_eq!(
        parser.parse(C, &record(1, &first), &mut sink),
        ParseOutcome::Continue
    );
    assert_eq!(
        parser.parse(S, &record(2, &hrr), &mut sink),
        ParseOutcome::Continue
    );
    assert_eq!(
        parser.parse(C, &record(1, &second), &mut sink),
        ParseOutcome::DoneDirection
    );
    assert_eq!(
        parser.parse(S, &record(2, &final_hello), &mut sink),
        ParseOutcome::Done
    );
    // Client hello, HRR (ja3s only), second client hello, final server hello.
    assert_eq!(sink.observed.len(), 4);
    assert!(
        sink.observed[2][2].starts_with("tls.ja4=t13d0103h2_"),
        "{:?}",
        sink.observed[2]
    );
    assert_eq!(sink.logged.len(), 1);
    let log = &sink.logged[0];
    assert_eq!(log["version"], "TLS 1.3");
    assert_eq!(log["ja4"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert!(
        log["retry"]["ja4"]
            .as_str()
            .unwrap()
            .starts_with("t13d0103h2_")
    );
}

#[test]
fn unanswered_hello_is_logged_when_the_parser_finishes() {
    let mut parser = TlsParser::default();
    let mut sink = Collect::default();
    let body = client_hello_body(0x0303, &[0x002f], &[sni_ext("quiet.example")]);
    // Not offering TLS 1.3: no second hello can come, the client side is done.
    assert_eq!(
        parser.parse(C, &record(1, &body), &mut sink),
        ParseOutcome::DoneDirection
    );
    assert!(sink.logged.is_empty());
    parser.finish(&mut sink);
    assert_eq!(sink.logged.len(), 1);
    assert_eq!(
        sink.logged[0]["version"], "TLS 1.2",
        "the client's version without a server"
    );
    assert_eq!(sink.logged[0]["sni"], "quiet.example");
    assert!(sink.logged[0].get("ja3s").is_none());
    parser.finish(&mut sink);
    assert_eq!(sink.logged.len(), 1, "logged once");
}

#[test]
fn server_alert_ends_the_handshake() {
    let mut parser = TlsParser::default();
    let mut sink = Collect::default();
    let body = client_hello_body(0x0303, &[0x002f], &[]);
    parser.parse(C, &record(1, &body), &mut sink);
    assert_eq!(
        parser.parse(S, b"\x15\x03\x03\x00\x02\x02\x28", &mut sink),
        ParseOutcome::Done
    );
    assert_eq!(sink.logged.len(), 1);
    assert_eq!(sink.logged[0]["ja4"].as_str().unwrap()[..10], *"t12i010000");
}

#[test]
fn garbage_is_an_anomaly_not_a_panic() {
    let mut parser = TlsParser::default();
    let mut sink = Collect::default();
    assert_eq!(
        parser.parse(C, b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\xff", &mut sink),
        ParseOutcome::Continue
    );
    assert_eq!(sink.anomalies, ["truncated_hello"]);
    assert_eq!(
        parser.parse(C, b"\x99garbage", &mut sink),
        ParseOutcome::Done
    );
    assert_eq!(sink.anomalies, ["truncated_hello", "bad_content_type"]);
    assert_eq!(
        probe(L4::Tcp, C, b"\x16\x03\x01\x00\x10\x02"),
        Probe::NotForUs
    );
    assert_eq!(
        probe(L4::Tcp, S, b"\x16\x03\x03\x00\x10\x02"),
        Probe::Certain
    );
    assert_eq!(probe(L4::Tcp, C, b"GET /"), Probe::NotForUs);
}
