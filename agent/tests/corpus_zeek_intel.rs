//! Conformance with the intel btests of zeek/zeek: the intel files in `zeek/inline/` load, and
//! what they match agrees with `Baseline/scripts.base.frameworks.intel.*`.
//!
//! Those btests have no capture: their scripts call `Intel::seen` directly with an address and
//! `where = SOMEWHERE`. Kordon has no scripting, so each seen address of a baseline is replayed
//! as a packet to that address (Kordon's `conn.dst`, Zeek's `Conn::IN_RESP`), and the indicator
//! types Kordon alerts with there must equal the baseline's `matched` set (`Intel::ADDR` for an
//! exact address, `Intel::SUBNET` for a network) with the baseline's `sources`. Kordon reports
//! the exact address and the longest containing network, Zeek every containing item; the
//! `matched` column is a set of types, so both agree on it.
//!
//! What cannot be replayed is listed in [`SKIPPED`] with its reason.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::Path;

use common::{PcapWriter, Scratch, corpus_or_skip, run_agent};
use serde_json::Value;

/// Baseline rows or whole btests not checked, with the reason.
const SKIPPED: &[(&str, &str)] = &[
    (
        "scripts.base.frameworks.intel.seen-policy",
        "no intel file: the btest inserts its items from the script and tests the \
         Intel::seen_policy hook, which is Zeek scripting",
    ),
    (
        "scripts.base.frameworks.intel.input-and-match: e@mail.com",
        "Intel::EMAIL: Kordon has no location where e-mail addresses are seen (the loader \
         reports the entry as unsupported)",
    ),
    (
        "scripts.base.frameworks.intel.filter-item: 10.0.0.1",
        "removed by the btest's Intel::filter_item hook (Site::local_nets), a Zeek script \
         policy; Kordon's equivalent is an allowlist entry in the feed",
    ),
];

/// The btests with an intel file, and the baseline file holding their intel.log.
const CASES: &[(&str, &str)] = &[
    (
        "scripts.base.frameworks.intel.input-and-match",
        "zeekproc.intel.log",
    ),
    (
        "scripts.base.frameworks.intel.filter-item",
        "zeekproc.intel.log",
    ),
    ("scripts.base.frameworks.intel.match-subnet", "output"),
];

/// One row of a baseline intel.log.
#[derive(Debug)]
struct Seen {
    indicator: String,
    indicator_type: String,
    matched: BTreeSet<String>,
    sources: BTreeSet<String>,
}

/// The rows of the intel.log part of a baseline file (tab-separated, `#fields` header).
fn seen_rows(text: &str) -> Vec<Seen> {
    let mut fields: Vec<&str> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("#fields\t") {
            fields = header.split('\t').collect();
            continue;
        }
        if line.starts_with('#') || fields.is_empty() || line.trim().is_empty() {
            continue;
        }
        let values: Vec<&str> = line.split('\t').collect();
        if values.len() != fields.len() {
            // The btest's stdout follows the log in `output` files.
            continue;
        }
        let get = |name: &str| {
            fields
                .iter()
                .position(|f| *f == name)
                .and_then(|i| values.get(i))
                .copied()
                .unwrap_or("")
        };
        let set = |v: &str| v.split(',').map(str::to_string).collect::<BTreeSet<_>>();
        rows.push(Seen {
            indicator: get("seen.indicator").to_string(),
            indicator_type: get("seen.indicator_type").to_string(),
            matched: set(get("matched")),
            sources: set(get("sources")),
        });
    }
    rows
}

fn skipped(case: &str, indicator: &str) -> Option<&'static str> {
    let key = format!("{case}: {indicator}");
    SKIPPED
        .iter()
        .find(|(name, _)| *name == case || *name == key)
        .map(|(_, reason)| *reason)
}

fn zeek_type(kind: &str) -> &'static str {
    match kind {
        "ipv4" | "ipv6" => "Intel::ADDR",
        "cidr" => "Intel::SUBNET",
        "domain" => "Intel::DOMAIN",
        "url" => "Intel::URL",
        _ => "?",
    }
}

fn run_case(zeek: &Path, case: &str, baseline_file: &str) -> Vec<String> {
    let intel = zeek.join("inline").join(case).join("intel.dat");
    let baseline = zeek.join("Baseline").join(case).join(baseline_file);
    let text = std::fs::read_to_string(&baseline)
        .unwrap_or_else(|e| panic!("{}: {e}", baseline.display()));
    let rows = seen_rows(&text);
    assert!(
        !rows.is_empty(),
        "{case}: no intel.log rows in the baseline"
    );
    let scratch = Scratch::new(&format!("zeek-{case}"));
    let mut pcap = PcapWriter::new();
    let mut checked = Vec::new();
    for row in &rows {
        if let Some(reason) = skipped(case, &row.indicator) {
            println!("zeek/{case} {}: skipped: {reason}", row.indicator);
            continue;
        }
        assert_eq!(
            row.indicator_type, "Intel::ADDR",
            "zeek/{case}: only address rows can be replayed: {row:?}"
        );
        let addr: Ipv4Addr = row
            .indicator
            .parse()
            .unwrap_or_else(|_| panic!("zeek/{case}: not an IPv4 address: {row:?}"));
        pcap.udp([10, 200, 0, 1], addr.octets(), 40000, 9);
        checked.push((row, addr));
    }
    let capture = scratch.join("seen.pcap");
    std::fs::write(&capture, &pcap.bytes).expect("write capture");
    let args: Vec<OsString> = vec![
        "--read".into(),
        capture.into_os_string(),
        // Zeek has no allowlist: the btests' private-range entries must load.
        "--private-indicators".into(),
        "--indicators".into(),
        format!("zeek={}", intel.display()).into(),
    ];
    let run = run_agent(&scratch, "run", &scratch.path, &args);
    run.expect_success(&format!("zeek/{case}"));
    let mut failures = Vec::new();
    for (row, addr) in checked {
        let alerts: Vec<&Value> = run
            .alerts()
            .filter(|a| a["dest_ip"] == addr.to_string() && a["kordon"]["location"] == "conn.dst")
            .collect();
        let matched: BTreeSet<String> = alerts
            .iter()
            .map(|a| zeek_type(a["kordon"]["indicator"]["type"].as_str().unwrap_or("")).to_string())
            .collect();
        let sources: BTreeSet<String> = alerts
            .iter()
            .filter_map(|a| {
                a["kordon"]["indicator"]["source"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        println!(
            "zeek/{case} {}: matched expected {:?}, got {matched:?}; sources expected {:?}, got \
             {sources:?}",
            row.indicator, row.matched, row.sources
        );
        if matched != row.matched || sources != row.sources {
            failures.push(format!(
                "zeek/{case} {}: expected matched {:?} from {:?}, got {matched:?} from \
                 {sources:?}",
                row.indicator, row.matched, row.sources
            ));
        }
    }
    failures
}

#[test]
fn intel_btests_match_their_baselines() {
    let Some(corpus) = corpus_or_skip("zeek intel") else {
        return;
    };
    let zeek = corpus.join("zeek");
    for (name, reason) in SKIPPED.iter().filter(|(n, _)| !n.contains(": ")) {
        println!("zeek/{name}: skipped: {reason}");
    }
    let mut failures = Vec::new();
    for (case, file) in CASES {
        failures.extend(run_case(&zeek, case, file));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every intel btest of the corpus is run or skipped, and every inline intel file is used.
#[test]
fn every_intel_btest_is_covered() {
    let Some(corpus) = corpus_or_skip("zeek intel tables") else {
        return;
    };
    let zeek = corpus.join("zeek");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(zeek.join("_manifest.json")).expect("manifest"))
            .expect("manifest parses");
    let covered: BTreeSet<&str> = CASES
        .iter()
        .map(|(c, _)| *c)
        .chain(
            SKIPPED
                .iter()
                .map(|(n, _)| n.split(": ").next().unwrap_or(n)),
        )
        .collect();
    for entry in manifest.as_array().into_iter().flatten() {
        let btest = entry["btest"].as_str().unwrap_or("");
        if !btest.starts_with("scripts/base/frameworks/intel/") {
            continue;
        }
        let stem = btest.rsplit_once('.').map_or(btest, |(s, _)| s);
        let name = stem.replace('/', ".");
        assert!(
            covered.contains(name.as_str()),
            "zeek btest {btest} is neither run nor skipped"
        );
        for file in entry["inline_files"].as_array().into_iter().flatten() {
            let file = file.as_str().unwrap_or("");
            assert!(
                CASES.iter().any(|(c, _)| file.contains(c)),
                "inline intel file {file} is not used"
            );
        }
    }
}
