//! Conformance with FoxIO's JA4 reference outputs (`ja4/` in the corpus).
//!
//! For every capture with a `python/test/testdata/<capture>.json`, the agent runs with
//! `--metadata`; every TCP stream of the reference that has a `JA4.1` must have one `tls` event
//! from us (matched by client/server address and port) whose `tls.ja4` equals `JA4.1`, whose
//! `tls.retry.ja4` equals `JA4.2` when the reference has one (the ClientHello after a
//! HelloRetryRequest), and whose `tls.sni` equals `domain` (absent when the reference has none).
//! The Rust implementation's snapshots (`rust/ja4/src/snapshots/*.snap`) are checked the same
//! way for their `ja4` and `tls_server_name`.
//!
//! Streams that cannot be compared are listed in `skipped` with the reason, printed at run time
//! (QUIC hellos: Kordon fingerprints TLS over TCP only).

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::Path;

use common::{Scratch, corpus_or_skip, run_agent};
use serde_json::Value;

/// A stream's key: client address and port, server address and port.
type StreamKey = (IpAddr, u16, IpAddr, u16);

/// One expected TLS client stream.
#[derive(Debug)]
struct Expected {
    key: StreamKey,
    ja4: String,
    ja4_retry: Option<String>,
    sni: Option<String>,
    origin: String,
}

fn parse_ip(s: &str) -> IpAddr {
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not an address: {s:?}"))
}

fn port(v: &Value) -> u16 {
    match v {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("bad port {s:?}")),
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()).unwrap_or(0),
        other => panic!("bad port {other}"),
    }
}

/// The JA4 streams of one reference JSON file.
fn python_expectations(path: &Path, skipped: &mut Vec<String>) -> Vec<Expected> {
    let rows: Vec<Value> = serde_json::from_slice(&std::fs::read(path).expect("read reference"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut out = Vec::new();
    for row in rows {
        let Some(ja4) = row.get("JA4.1").and_then(Value::as_str) else {
            continue;
        };
        let origin = format!("{name} stream {}", row["stream"]);
        if !ja4.starts_with('t') {
            skipped.push(format!(
                "{origin}: {ja4} is not TLS over TCP (QUIC/DTLS out of scope)"
            ));
            continue;
        }
        out.push(Expected {
            key: (
                parse_ip(row["src"].as_str().unwrap_or_default()),
                port(&row["srcport"]),
                parse_ip(row["dst"].as_str().unwrap_or_default()),
                port(&row["dstport"]),
            ),
            ja4: ja4.to_string(),
            ja4_retry: row.get("JA4.2").and_then(Value::as_str).map(str::to_string),
            sni: row
                .get("domain")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            origin,
        });
    }
    out
}

/// The JA4 streams of a snapshot (`- stream: N` items of `key: value` lines).
fn snapshot_expectations(path: &Path, skipped: &mut Vec<String>) -> Vec<Expected> {
    let text = std::fs::read_to_string(path).expect("read snapshot");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let body = text.splitn(3, "---").nth(2).unwrap_or("");
    let mut out = Vec::new();
    for item in body.split("\n- ").filter(|i| i.contains("stream:")) {
        let fields: BTreeMap<&str, &str> = item
            .lines()
            .filter_map(|l| l.trim().trim_start_matches("- ").split_once(": "))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        let Some(ja4) = fields.get("ja4") else {
            continue;
        };
        let origin = format!("{name} stream {}", fields.get("stream").unwrap_or(&"?"));
        if fields.get("transport") != Some(&"tcp") || !ja4.starts_with('t') {
            skipped.push(format!(
                "{origin}: {ja4} is not TLS over TCP (QUIC/DTLS out of scope)"
            ));
            continue;
        }
        let num = |k: &str| fields.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        out.push(Expected {
            key: (
                parse_ip(fields.get("src").unwrap_or(&"")),
                num("src_port"),
                parse_ip(fields.get("dst").unwrap_or(&"")),
                num("dst_port"),
            ),
            ja4: ja4.to_string(),
            ja4_retry: None,
            sni: fields.get("tls_server_name").map(|s| s.to_string()),
            origin,
        });
    }
    out
}

/// Our `tls` events of one capture, per stream key, in order.
fn our_tls_events(scratch: &Scratch, pcap: &Path) -> BTreeMap<StreamKey, Vec<Value>> {
    let tag = pcap
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let args: Vec<OsString> = vec![
        "--read".into(),
        pcap.as_os_str().to_owned(),
        "--metadata".into(),
    ];
    let run = run_agent(scratch, &tag, &scratch.path, &args);
    run.expect_success(&format!("ja4/{tag}"));
    let mut out: BTreeMap<StreamKey, Vec<Value>> = BTreeMap::new();
    for event in run.events.iter().filter(|e| e["event_type"] == "tls") {
        let key = (
            parse_ip(event["src_ip"].as_str().unwrap_or_default()),
            port(&event["src_port"]),
            parse_ip(event["dest_ip"].as_str().unwrap_or_default()),
            port(&event["dest_port"]),
        );
        out.entry(key).or_default().push(event.clone());
    }
    out
}

/// Compares one expectation with our events; returns a failure message.
fn compare(expected: &Expected, ours: &BTreeMap<StreamKey, Vec<Value>>) -> Option<String> {
    let Some(events) = ours.get(&expected.key) else {
        return Some(format!(
            "{}: no tls event for {:?}",
            expected.origin, expected.key
        ));
    };
    let matches = |e: &Value| {
        e["tls"]["ja4"] == expected.ja4.as_str()
            && expected
                .ja4_retry
                .as_deref()
                .is_none_or(|r| e["tls"]["retry"]["ja4"] == r)
            && e["tls"]["sni"].as_str() == expected.sni.as_deref()
    };
    if events.iter().any(matches) {
        return None;
    }
    let got: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "ja4 {} retry {} sni {}",
                e["tls"]["ja4"], e["tls"]["retry"]["ja4"], e["tls"]["sni"]
            )
        })
        .collect();
    Some(format!(
        "{}: expected ja4 {} retry {:?} sni {:?}, got {got:?}",
        expected.origin, expected.ja4, expected.ja4_retry, expected.sni
    ))
}

#[test]
fn foxio_ja4_reference_streams() {
    let Some(corpus) = corpus_or_skip("ja4") else {
        return;
    };
    let root = corpus.join("ja4");
    let scratch = Scratch::new("ja4");
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    let (mut compared, mut passed) = (0, 0);
    let mut files: Vec<_> = std::fs::read_dir(root.join("python/test/testdata"))
        .expect("read testdata")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for json in files {
        let capture = json
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let pcap = root.join("pcap").join(&capture);
        let mut expected = python_expectations(&json, &mut skipped);
        let snapshot = root
            .join("rust/ja4/src/snapshots")
            .join(format!("ja4__insta@{capture}.snap"));
        if snapshot.exists() {
            expected.extend(snapshot_expectations(&snapshot, &mut skipped));
        }
        if expected.is_empty() {
            println!("ja4/{capture}: no TLS-over-TCP client streams in the reference");
            continue;
        }
        assert!(pcap.exists(), "{}: capture missing", pcap.display());
        let ours = our_tls_events(&scratch, &pcap);
        for e in &expected {
            compared += 1;
            match compare(e, &ours) {
                None => passed += 1,
                Some(failure) => failures.push(failure),
            }
        }
    }
    for skip in &skipped {
        println!("ja4 SKIPPED {skip}");
    }
    println!(
        "ja4: {compared} streams compared (python JSON and Rust snapshots), {passed} passed, {} \
         failed, {} skipped",
        failures.len(),
        skipped.len()
    );
    assert!(compared > 0, "no streams compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
