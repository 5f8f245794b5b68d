//! JA3 list matching end to end: Salesforce's list (`ja3-lists/`) loaded with the `ja3` loader,
//! and the TLS captures of the corpus read by the agent. Every flow whose ClientHello has a
//! listed JA3 (as our own `tls` events report it) must raise exactly one `tls.ja3` alert for that
//! value, and no other flow may.
//!
//! The published list (2017 macOS/Linux applications) shares no JA3 with the corpus captures
//! (browsers and tools of 2019 and later), which the test prints; so that matching is exercised
//! on real fingerprints too, the list is loaded together with a second file in the same CSV
//! shape, written to a scratch directory, that lists the JA3 of every other capture's first
//! handshake. Nothing is hard-coded: the expectation comes from the lists and our `tls` events.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

use common::{Scratch, corpus_or_skip, run_agent};
use serde_json::Value;

/// (client, client port, server, server port, ja3 hash).
type Hit = (String, u64, String, u64, String);

fn hashes_in(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.split(',').next())
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect()
}

fn hit(event: &Value, hash: &str) -> Hit {
    (
        event["src_ip"].as_str().unwrap_or_default().to_string(),
        event["src_port"].as_u64().unwrap_or(0),
        event["dest_ip"].as_str().unwrap_or_default().to_string(),
        event["dest_port"].as_u64().unwrap_or(0),
        hash.to_string(),
    )
}

#[test]
fn ja3_list_alerts_on_listed_client_hellos() {
    let Some(corpus) = corpus_or_skip("ja3-lists") else {
        return;
    };
    let list = corpus.join("ja3-lists/lists/osx-nix-ja3.csv");
    let list_text = std::fs::read_to_string(&list).expect("read ja3 list");
    let published = hashes_in(&list_text);
    assert!(
        published.len() > 100,
        "the list has {} fingerprints",
        published.len()
    );

    let mut captures: Vec<PathBuf> = std::fs::read_dir(corpus.join("ja4/pcap"))
        .expect("read ja4/pcap")
        .flatten()
        .map(|e| e.path())
        .collect();
    captures.extend(
        common::walk_files(&corpus.join("suricata-verify/tests/tls"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pcap")),
    );
    captures.sort();

    let scratch = Scratch::new("ja3-list");
    // Our tls events per capture.
    let mut observed: Vec<(PathBuf, Vec<Value>)> = Vec::new();
    for (i, pcap) in captures.iter().enumerate() {
        let args: Vec<OsString> = vec![
            "--read".into(),
            pcap.as_os_str().to_owned(),
            "--metadata".into(),
        ];
        let run = run_agent(&scratch, &format!("meta{i}"), &scratch.path, &args);
        run.expect_success(&format!("{}", pcap.display()));
        let tls: Vec<Value> = run
            .events
            .into_iter()
            .filter(|e| e["event_type"] == "tls")
            .collect();
        if !tls.is_empty() {
            observed.push((pcap.clone(), tls));
        }
    }
    let seen: BTreeSet<String> = observed
        .iter()
        .flat_map(|(_, events)| events.iter())
        .filter_map(|e| e["tls"]["ja3"]["hash"].as_str().map(str::to_string))
        .collect();
    let overlap: Vec<&String> = seen.intersection(&published).collect();
    println!(
        "ja3-lists: {} published fingerprints, {} distinct JA3 in {} TLS captures, {} in common",
        published.len(),
        seen.len(),
        observed.len(),
        overlap.len()
    );

    // The second list: the first handshake's JA3 of every other capture with TLS.
    let mut extra = String::new();
    for (pcap, events) in observed.iter().step_by(2) {
        if let Some(hash) = events[0]["tls"]["ja3"]["hash"].as_str() {
            let name = pcap.file_name().unwrap_or_default().to_string_lossy();
            extra.push_str(&format!("{hash},\"seen in {name}\"\n"));
        }
    }
    let extra_path = scratch.join("observed-ja3.csv");
    std::fs::write(&extra_path, &extra).expect("write scratch list");
    let listed: BTreeSet<String> = published.union(&hashes_in(&extra)).cloned().collect();

    let (mut expected_total, mut failures) = (0, Vec::new());
    for (i, (pcap, events)) in observed.iter().enumerate() {
        let mut expected: BTreeSet<Hit> = BTreeSet::new();
        for event in events {
            for hash in [
                &event["tls"]["ja3"]["hash"],
                &event["tls"]["retry"]["ja3"]["hash"],
            ] {
                if let Some(hash) = hash.as_str().filter(|h| listed.contains(*h)) {
                    expected.insert(hit(event, hash));
                }
            }
        }
        let args: Vec<OsString> = vec![
            "--read".into(),
            pcap.as_os_str().to_owned(),
            "--indicators".into(),
            format!("ja3={}", list.display()).into(),
            format!("ja3={}", extra_path.display()).into(),
        ];
        let run = run_agent(&scratch, &format!("match{i}"), &scratch.path, &args);
        run.expect_success(&format!("{} with the JA3 lists", pcap.display()));
        let alerts: Vec<&Value> = run.alerts().collect();
        let got: BTreeSet<Hit> = alerts
            .iter()
            .filter(|a| a["kordon"]["location"] == "tls.ja3")
            .map(|a| {
                hit(
                    a,
                    a["kordon"]["indicator"]["value"]
                        .as_str()
                        .unwrap_or_default(),
                )
            })
            .collect();
        let ja3_alerts = alerts
            .iter()
            .filter(|a| a["kordon"]["location"] == "tls.ja3")
            .count();
        expected_total += expected.len();
        if got != expected || ja3_alerts != expected.len() {
            failures.push(format!(
                "{}: expected {expected:?}, got {got:?} ({ja3_alerts} tls.ja3 alerts)",
                pcap.display()
            ));
        }
        // Alerts carry the handshake's tls record and the list's application names as tags.
        for alert in alerts
            .iter()
            .filter(|a| a["kordon"]["location"] == "tls.ja3")
        {
            assert_eq!(alert["app_proto"], "tls");
            assert!(alert["tls"]["ja3"]["hash"].is_string(), "{alert}");
            let tags = alert["kordon"]["indicator"]["tags"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                tags.iter()
                    .any(|t| t.as_str().is_some_and(|t| t.starts_with("application="))),
                "{alert}"
            );
        }
    }
    println!(
        "ja3-lists: {expected_total} expected tls.ja3 alerts over {} captures, {} failures",
        observed.len(),
        failures.len()
    );
    assert!(expected_total > 0, "no listed JA3 in any capture");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
