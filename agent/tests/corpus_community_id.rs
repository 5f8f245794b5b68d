//! Community ID conformance: for every directional tuple of the spec's `combined.pcap.gz`, the
//! Community ID of Kordon's flow must equal the reference implementation's, for seed 0, seed 1
//! and the hex (`--no-base64`) form.

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use common::{Scratch, corpus_or_skip, run_agent};
use serde_json::Value;

/// Flow events of the agent run on `pcap` with extra arguments.
fn flows(scratch: &Scratch, tag: &str, pcap: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args: Vec<OsString> = vec!["--read".into(), pcap.into()];
    args.extend(["--metadata", "--workers", "2"].map(OsString::from));
    args.extend(extra.iter().map(OsString::from));
    let run = run_agent(scratch, tag, &scratch.path, &args);
    run.expect_success(tag);
    run.flows().cloned().collect()
}

/// Whether a baseline tuple (one packet direction) belongs to our flow event.
fn tuple_matches(entry: &Value, flow: &Value) -> bool {
    let proto = entry["proto"].as_u64().unwrap_or(0);
    let (saddr, daddr) = (&entry["saddr"], &entry["daddr"]);
    let (sport, dport) = (&entry["sport"], &entry["dport"]);
    let proto_name = match proto {
        1 => "ICMP".to_string(),
        6 => "TCP".to_string(),
        17 => "UDP".to_string(),
        58 => "IPv6-ICMP".to_string(),
        132 => "SCTP".to_string(),
        other => format!("{other:03}"),
    };
    if flow["proto"] != proto_name.as_str() {
        return false;
    }
    let forward = flow["src_ip"] == *saddr && flow["dest_ip"] == *daddr;
    let reverse = flow["src_ip"] == *daddr && flow["dest_ip"] == *saddr;
    match proto {
        // ICMP: the tuple's sport is its own type, dport the counterpart type (or code); our flow
        // records the type of its first packet.
        1 | 58 => {
            (forward && flow["icmp_type"] == *sport) || (reverse && flow["icmp_type"] == *dport)
        }
        6 | 17 | 132 => {
            (forward && flow["src_port"] == *sport && flow["dest_port"] == *dport)
                || (reverse && flow["src_port"] == *dport && flow["dest_port"] == *sport)
        }
        _ => forward || reverse,
    }
}

#[test]
fn community_id_equals_reference_in_all_modes() {
    let Some(corpus) = corpus_or_skip("community_id") else {
        return;
    };
    let scratch = Scratch::new("community-id");
    let gz = corpus.join("community-id/pcaps/combined.pcap.gz");
    let pcap = scratch.join("combined.pcap");
    let output = Command::new("gzip")
        .arg("-dc")
        .arg(&gz)
        .output()
        .expect("run gzip");
    assert!(output.status.success(), "gzip -dc {}", gz.display());
    std::fs::write(&pcap, output.stdout).expect("write pcap");

    let modes: [(&str, &[&str]); 3] = [
        ("baseline_deflt.json", &[]),
        ("baseline_seed1.json", &["--community-id-seed", "1"]),
        ("baseline_nob64.json", &["--community-id-hex"]),
    ];
    for (baseline_name, args) in modes {
        let baseline_path = corpus.join("community-id/baseline").join(baseline_name);
        let baseline: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&baseline_path).expect("read baseline"))
                .expect("baseline is JSON");
        assert!(!baseline.is_empty(), "{baseline_name} is empty");
        let flows = flows(&scratch, baseline_name, &pcap, args);
        for entry in &baseline {
            let candidates: Vec<&Value> =
                flows.iter().filter(|f| tuple_matches(entry, f)).collect();
            assert_eq!(
                candidates.len(),
                1,
                "{baseline_name}: tuple {entry} should map to exactly one flow, found {candidates:?}"
            );
            assert_eq!(
                candidates[0]["community_id"], entry["communityid"],
                "{baseline_name}: tuple {entry}"
            );
        }
        // And nothing extra: every IP flow we report is one of the reference's tuples.
        for flow in &flows {
            assert!(
                baseline.iter().any(|entry| tuple_matches(entry, flow)),
                "{baseline_name}: flow {flow} is not in the reference"
            );
        }
    }
}
