//! MISP loader tests: attribute types, flags, metadata, shapes, feed directories, malformed
//! input, and the ESET corpus against an independent count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::IndicatorSet;
use crate::report::{SKIPPED_DELETED, SKIPPED_NOT_IDS};

const NOW: i64 = 1_700_000_000;

fn opts() -> LoadOptions {
    LoadOptions {
        now: NOW,
        ..LoadOptions::new(Arc::new(IndicatorMeta {
            source: "misp-test".into(),
            ..Default::default()
        }))
    }
}

fn attr(uuid: &str, mtype: &str, value: &str, to_ids: bool) -> Value {
    json!({"uuid": uuid, "type": mtype, "value": value, "to_ids": to_ids, "deleted": false,
           "category": "Network activity"})
}

fn load_doc(doc: &Value, opts: &LoadOptions) -> (LoadReport, IndicatorSet) {
    let bytes = serde_json::to_vec(doc).unwrap();
    let mut builder = IndicatorSetBuilder::new();
    let report = load_misp(bytes.as_slice(), opts, &mut builder).unwrap();
    (report, builder.build().unwrap())
}

fn contents(set: &IndicatorSet) -> Vec<String> {
    set.iter()
        .map(|r| format!("{} {}", r.kind(), r.value()))
        .collect()
}

/// (name, MISP type, value, expected `kind value` list, or `Err` with a reason substring or
/// `"unsupported"`).
type TypeCase = (
    &'static str,
    &'static str,
    &'static str,
    Result<&'static [&'static str], &'static str>,
);

#[test]
fn attribute_types() {
    let cases: &[TypeCase] = &[
        ("ip_dst", "ip-dst", "5.6.7.8", Ok(&["ipv4 5.6.7.8"])),
        (
            "ip_src_v6",
            "ip-src",
            "2a00:1450::1",
            Ok(&["ipv6 2a00:1450::1"]),
        ),
        ("ip_cidr", "ip-dst", "5.6.7.0/24", Ok(&["cidr 5.6.7.0/24"])),
        (
            "ip_port",
            "ip-dst|port",
            "94.75.207.3|35247",
            Ok(&["ipv4 94.75.207.3"]),
        ),
        (
            "ip_src_port_v6",
            "ip-src|port",
            "2a00:1450::2|443",
            Ok(&["ipv6 2a00:1450::2"]),
        ),
        (
            "ip_port_bad",
            "ip-dst|port",
            "94.75.207.3|http",
            Err("not a port"),
        ),
        ("ip_bad", "ip-dst", "999.1.1.1", Err("not an IP")),
        ("domain", "domain", "Evil.ORG", Ok(&["domain evil.org"])),
        (
            "hostname",
            "hostname",
            "c2.evil.org",
            Ok(&["domain c2.evil.org"]),
        ),
        (
            "domain_ip",
            "domain|ip",
            "d.evil.org|5.6.7.9",
            Ok(&["domain d.evil.org", "ipv4 5.6.7.9"]),
        ),
        (
            "domain_ip_bad",
            "domain|ip",
            "d.evil.org",
            Err("has no '|'"),
        ),
        (
            "url",
            "url",
            "https://ca.gov.vn/documents/x.msi",
            Ok(&["url ca.gov.vn/documents/x.msi"]),
        ),
        (
            "uri_host",
            "uri",
            "http://u.evil.org/a",
            Ok(&["url u.evil.org/a"]),
        ),
        (
            "uri_path",
            "uri",
            "/scripts/m/query.php?id=",
            Err("unsupported"),
        ),
        (
            "user_agent",
            "user-agent",
            "Mozilla/5.0 (X)",
            Ok(&["user_agent Mozilla/5.0 (X)"]),
        ),
        (
            "ja3",
            "ja3-fingerprint-md5",
            "E7D705A3286E19EA42F587B344EE6865",
            Ok(&["ja3 e7d705a3286e19ea42f587b344ee6865"]),
        ),
        (
            "x509_sha1",
            "x509-fingerprint-sha1",
            "8a5946cce468518feb9442cd2b9d09a801abbfb4",
            Ok(&["x509_sha1 8a5946cce468518feb9442cd2b9d09a801abbfb4"]),
        ),
        (
            "x509_sha256",
            "x509-fingerprint-sha256",
            "273633eee4776aef40904124ed1722a0793e6567f3009cdb037ed0a9d79c1b0b",
            Ok(&["x509_sha256 273633eee4776aef40904124ed1722a0793e6567f3009cdb037ed0a9d79c1b0b"]),
        ),
        ("x509_bad", "x509-fingerprint-sha1", "abc", Err("40 hex")),
        (
            "sha1_file",
            "sha1",
            "8a5946cce468518feb9442cd2b9d09a801abbfb4",
            Err("unsupported"),
        ),
        (
            "unknown",
            "x-totally-new-type",
            "whatever",
            Err("unsupported"),
        ),
    ];
    let no_allow = LoadOptions {
        allowlist: None,
        ..opts()
    };
    let mut names = std::collections::HashSet::new();
    for (name, mtype, value, want) in cases {
        assert!(names.insert(name), "duplicate case {name}");
        let doc = json!({"Event": {"uuid": "e1", "Attribute": [attr("a1", mtype, value, true)]}});
        let (report, set) = load_doc(&doc, &no_allow);
        match want {
            Ok(values) => {
                assert_eq!(contents(&set), *values, "{name}: {report}");
                assert!(report.is_clean(), "{name}: {report}");
            }
            Err("unsupported") => {
                assert_eq!(report.unsupported_total, 1, "{name}: {report}");
                assert!(set.is_empty());
            }
            Err(reason) => {
                assert_eq!(report.rejected_total, 1, "{name}: {report}");
                assert!(
                    report.rejected[0].reason.contains(reason),
                    "{name}: {}",
                    report.rejected[0].reason
                );
                assert!(
                    report.rejected[0].reason.contains("a1"),
                    "names the attribute"
                );
            }
        }
        assert_eq!(
            report.lines_accounted(),
            want.map_or(1, |v| v.len()),
            "{name}"
        );
    }
}

#[test]
fn flags_tags_tlp_severity_and_validity() {
    let mut deleted = attr("a-del", "ip-dst", "5.6.7.1", true);
    deleted["deleted"] = json!(true);
    let mut tagged = attr("a-tag", "domain", "tagged.evil.org", true);
    tagged["Tag"] = json!([{"name": "tlp:red"}, {"name": "kill-chain:c2"}]);
    tagged["first_seen"] = json!("2020-07-22T22:00:00.000000+00:00");
    tagged["last_seen"] = json!("2020-08-15T22:00:00.000000+00:00");
    let mut str_flags = attr("a-str", "ip-dst", "5.6.7.2", true);
    str_flags["to_ids"] = json!("1");
    str_flags["deleted"] = json!("0");
    let doc = json!({"response": [{"Event": {
        "uuid": "ev-1", "threat_level_id": "1",
        "Tag": [{"name": "TLP:GREEN"}, {"name": "misp-galaxy:threat-actor=\"Sofacy\""}],
        "Attribute": [
            attr("a-ids", "ip-dst", "5.6.7.8", true),
            attr("a-noids", "ip-dst", "5.6.7.9", false),
            deleted, tagged, str_flags,
            attr("a-local", "ip-dst", "127.0.0.1", true),
            attr("a-dup", "ip-dst", "5.6.7.8", true),
        ],
        "Object": [{"name": "domain-ip", "Attribute": [
            attr("o-1", "domain", "obj.evil.org", true),
            attr("o-2", "text", "note", true),
            "not an attribute"
        ]}]
    }}, {"Event": {"uuid": "ev-2", "threat_level_id": 4, "Attribute": [
        attr("b-1", "hostname", "other.evil.org", true)
    ]}}, {"NotAnEvent": {}}]});
    let (report, set) = load_doc(&doc, &opts());
    assert_eq!(report.accepted, 5, "{report}");
    assert_eq!(report.duplicates, 1, "{report}");
    assert_eq!(report.suppressed_total, 1, "{report}");
    assert_eq!(report.skipped[SKIPPED_DELETED], 1);
    assert_eq!(report.skipped[SKIPPED_NOT_IDS], 1);
    assert_eq!(report.unsupported_total, 1, "{report}");
    assert_eq!(report.rejected_total, 2, "{report}");
    assert_eq!(report.lines_accounted(), 12);

    let by_id = |id: &str| set.iter().find(|r| r.id() == id).unwrap();
    let ids = by_id("a-ids");
    assert_eq!(ids.meta().severity, Severity::High);
    assert_eq!(ids.meta().tlp, Tlp::Green);
    let tags: Vec<&str> = ids.meta().tags.iter().map(|t| t.as_ref()).collect();
    assert_eq!(
        tags,
        [
            "misp-galaxy:threat-actor=\"Sofacy\"",
            "misp-event=ev-1",
            "misp-type=ip-dst"
        ]
    );
    let tagged = by_id("a-tag");
    assert_eq!(
        tagged.meta().tlp,
        Tlp::Red,
        "the attribute's TLP is more restrictive"
    );
    assert!(
        tagged
            .meta()
            .tags
            .iter()
            .any(|t| t.as_ref() == "kill-chain:c2")
    );
    assert_eq!(tagged.meta().valid_from, Some(1_595_455_200));
    assert_eq!(
        tagged.meta().valid_until,
        None,
        "last_seen is not an expiry by default"
    );
    let other = by_id("b-1");
    assert_eq!(
        other.meta().severity,
        Severity::Medium,
        "undefined → feed default"
    );
    assert_eq!(other.meta().tlp, Tlp::Amber, "no TLP tag → feed default");
    // Attributes of one event with the same tags share one metadata record.
    assert!(std::ptr::eq(by_id("a-str").meta(), ids.meta()));

    // Including non-IDS attributes; last_seen as expiry.
    let o = LoadOptions {
        misp_include_non_ids: true,
        misp_last_seen_expires: true,
        ..opts()
    };
    let (report, _) = load_doc(&doc, &o);
    assert_eq!(
        report.accepted, 5,
        "the tagged one is expired now: {report}"
    );
    assert_eq!(report.expired, 1, "{report}");
    assert!(!report.skipped.contains_key(SKIPPED_NOT_IDS));
}

#[test]
fn malformed_documents() {
    let mut builder = IndicatorSetBuilder::new();
    for bad in [
        &b"{\"Event\": {\"Attribute\": [ {\"type\": \"ip-dst\""[..],
        b"{\"something\": 1}",
        b"[]",
        b"",
        b"null",
    ] {
        let err = load_misp(bad, &opts(), &mut builder).unwrap_err();
        assert!(matches!(err, FormatError::NotThisFormat { .. }), "{err}");
    }
    // Wrong types inside an event are per-attribute rejections or nothing at all.
    let doc = json!({"Event": {"uuid": 7, "threat_level_id": [], "Tag": "x",
        "Attribute": [
            {"uuid": "w1", "type": 5, "value": "1.2.3.4", "to_ids": true},
            {"uuid": "w2", "type": "ip-dst", "value": null, "to_ids": true},
            {"uuid": "w3", "type": "url", "value": format!("http://a.org/{}", "x".repeat(100_000)), "to_ids": true},
            {"uuid": "w4", "type": "ip-dst", "value": "5.6.7.8", "to_ids": true, "first_seen": 12}
        ],
        "Object": "not a list"}});
    let (report, set) = load_doc(&doc, &opts());
    assert_eq!((report.rejected_total, report.accepted), (3, 1), "{report}");
    assert!(report.rejected[2].reason.contains("longer than"));
    assert_eq!(set.iter().next().unwrap().id(), "w4");
    // A document nested beyond serde_json's recursion limit is an error, not a stack overflow.
    let deep = format!(
        "{{\"Event\": {}{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    assert!(load_misp(deep.as_bytes(), &opts(), &mut builder).is_err());
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kordon-misp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn feed_directory() {
    let dir = TempDir::new("feed");
    let e1 = "5bad2440-68d0-4205-88a1-4a800a016219";
    let e2 = "5bad2440-68d0-4205-88a1-4a800a016220";
    let missing = "5bad2440-68d0-4205-88a1-4a800a016221";
    std::fs::write(
        dir.0.join("manifest.json"),
        serde_json::to_vec(&json!({
            e1: {"info": "one", "timestamp": "1539269691"},
            e2: {"info": "two"},
            missing: {"info": "gone"},
            "../../etc/passwd": {"info": "hostile"}
        }))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.0.join(format!("{e1}.json")),
        serde_json::to_vec(
            &json!({"Event": {"uuid": e1, "Attribute": [attr("x1", "ip-dst", "5.6.7.8", true)]}}),
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.0.join(format!("{e2}.json")),
        serde_json::to_vec(
            &json!({"Event": {"uuid": e2, "Attribute": [attr("x2", "domain", "evil.org", true)]}}),
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::write(dir.0.join("hashes.csv"), "not,an,event\n").unwrap();
    let mut builder = IndicatorSetBuilder::new();
    let report = crate::formats::load_path(&dir.0, &opts(), &mut builder).unwrap();
    assert_eq!((report.accepted, report.rejected_total), (2, 2), "{report}");
    assert!(report.rejected.iter().any(|r| r.reason.contains("missing")));
    assert!(
        report
            .rejected
            .iter()
            .any(|r| r.reason.contains("not an event UUID"))
    );
    let set = builder.build().unwrap();
    assert!(
        set.iter()
            .next()
            .unwrap()
            .meta()
            .source
            .ends_with(&format!("{e1}.json"))
    );

    // A broken event file fails the whole feed.
    std::fs::write(dir.0.join(format!("{e2}.json")), "{\"Event\": ").unwrap();
    let mut builder = IndicatorSetBuilder::new();
    assert!(crate::formats::load_path(&dir.0, &opts(), &mut builder).is_err());
}

#[test]
fn format_detection() {
    let dir = TempDir::new("detect");
    let misp = dir.0.join("event.json");
    std::fs::write(
        &misp,
        "\u{feff}{\n  \"Event\": {\"uuid\": \"e\", \"Attribute\": [{\"type\": \"domain\", \"value\": \"evil.org\", \"to_ids\": true}]}}",
    )
    .unwrap();
    let stix = dir.0.join("bundle.json");
    std::fs::write(
        &stix,
        r#"{"type": "bundle", "id": "bundle--1", "objects": [{"type": "indicator", "id": "indicator--1", "pattern": "[domain-name:value = 'evil2.org']", "pattern_type": "stix"}]}"#,
    )
    .unwrap();
    for (path, want) in [(&misp, "misp:"), (&stix, "stix:")] {
        let mut builder = IndicatorSetBuilder::new();
        let o = LoadOptions {
            meta: Arc::new(IndicatorMeta::default()),
            ..opts()
        };
        let report = crate::formats::load_path(path, &o, &mut builder).unwrap();
        assert_eq!(report.accepted, 1, "{report}");
        let set = builder.build().unwrap();
        assert!(set.iter().next().unwrap().meta().source.starts_with(want));
    }
    assert_eq!(Format::from_name("MISP"), Some(Format::Misp));
    assert_eq!(Format::from_name("stix"), Some(Format::Stix));
    assert_eq!(Format::Stix.as_str(), "stix");
}

// ---- corpus ----

fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("KORDON_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: corpus not found at {} (set KORDON_CORPUS)",
            dir.display()
        );
        None
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Counts computed from the JSON alone, the way `jq` would: per attribute, deleted first, then
/// `to_ids`, then the type against the list of supported types (`domain|ip` counts twice).
#[derive(Debug, Default, PartialEq, Eq)]
struct Independent {
    attributes: usize,
    deleted: usize,
    not_ids: usize,
    values: usize,
    unsupported: usize,
    per_type: BTreeMap<String, usize>,
}

fn independent(doc: &Value, include_non_ids: bool) -> Independent {
    let events: Vec<&Value> = match doc.get("Event") {
        Some(e) => vec![e],
        None => doc["response"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["Event"])
            .collect(),
    };
    let mut c = Independent::default();
    for event in events {
        let mut attrs: Vec<&Value> = event["Attribute"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        for object in event["Object"].as_array().into_iter().flatten() {
            attrs.extend(object["Attribute"].as_array().into_iter().flatten());
        }
        for a in attrs {
            c.attributes += 1;
            if a["deleted"] == json!(true) {
                c.deleted += 1;
                continue;
            }
            if !include_non_ids && a["to_ids"] != json!(true) {
                c.not_ids += 1;
                continue;
            }
            let t = a["type"].as_str().unwrap();
            *c.per_type.entry(t.to_owned()).or_insert(0) += 1;
            let path_only_uri = t == "uri" && a["value"].as_str().unwrap().starts_with('/');
            match t {
                "domain|ip" => c.values += 2,
                "ip-src"
                | "ip-dst"
                | "ip-src|port"
                | "ip-dst|port"
                | "domain"
                | "hostname"
                | "url"
                | "user-agent"
                | "ja3-fingerprint-md5"
                | "x509-fingerprint-sha1"
                | "x509-fingerprint-sha256" => c.values += 1,
                "uri" if !path_only_uri => c.values += 1,
                _ => c.unsupported += 1,
            }
        }
    }
    c
}

#[test]
fn corpus_eset_events_match_independent_counts() {
    let Some(corpus) = corpus() else { return };
    let files = json_files(&corpus.join("intel-eset-misp"));
    assert!(files.len() >= 48, "{}", files.len());
    let mut grand = (0usize, 0usize, 0usize);
    for include_non_ids in [false, true] {
        let o = LoadOptions {
            misp_include_non_ids: include_non_ids,
            ..opts()
        };
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let doc: Value = serde_json::from_str(&text).unwrap();
            let want = independent(&doc, include_non_ids);
            let mut builder = IndicatorSetBuilder::new();
            let report = load_misp(text.as_bytes(), &o, &mut builder).unwrap();
            let set = builder.build().unwrap();
            let name = file.display();
            assert_eq!(
                report.lines_accounted(),
                report.accepted
                    + report.duplicates
                    + report.expired
                    + report.suppressed_total
                    + report.rejected_total
                    + report.unsupported_total
                    + report.skipped_total()
            );
            assert_eq!(
                report.skipped.get(SKIPPED_DELETED).copied().unwrap_or(0),
                want.deleted,
                "{name}"
            );
            assert_eq!(
                report.skipped.get(SKIPPED_NOT_IDS).copied().unwrap_or(0),
                want.not_ids,
                "{name}"
            );
            assert_eq!(
                report.unsupported_total, want.unsupported,
                "{name}: {report}"
            );
            assert_eq!(
                report.accepted
                    + report.duplicates
                    + report.expired
                    + report.suppressed_total
                    + report.rejected_total,
                want.values,
                "{name}: {report}"
            );
            assert_eq!(report.rejected_total, 0, "{name}: {report}");
            assert_eq!(set.len(), report.accepted);
            if include_non_ids {
                grand.0 += report.accepted;
                grand.1 += want.values;
                grand.2 += report.suppressed_total;
            } else {
                // Every network attribute of these ESET events has to_ids false.
                assert_eq!(report.accepted, 0, "{name}: {report}");
            }
        }
    }
    eprintln!(
        "eset corpus with non-IDS attributes: {} accepted, {} suppressed, of {} network values",
        grand.0, grand.2, grand.1
    );
    assert!(grand.0 > 500, "{grand:?}");
}

#[test]
fn corpus_eset_per_type_counts() {
    let Some(corpus) = corpus() else { return };
    // Per-kind totals over every file with non-IDS attributes and no allowlist: distinct values
    // per kind must equal the loader's per-kind accepted counts, per file.
    let o = LoadOptions {
        misp_include_non_ids: true,
        allowlist: None,
        ..opts()
    };
    for file in json_files(&corpus.join("intel-eset-misp")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mut builder = IndicatorSetBuilder::new();
        let report = load_misp(text.as_bytes(), &o, &mut builder).unwrap();
        let mut domains = std::collections::BTreeSet::new();
        let mut ips = std::collections::BTreeSet::new();
        let events: Vec<&Value> = match doc.get("Event") {
            Some(e) => vec![e],
            None => doc["response"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| &r["Event"])
                .collect(),
        };
        for event in events {
            let mut attrs: Vec<&Value> = event["Attribute"].as_array().unwrap().iter().collect();
            for object in event["Object"].as_array().into_iter().flatten() {
                attrs.extend(object["Attribute"].as_array().into_iter().flatten());
            }
            for a in attrs {
                let v = a["value"].as_str().unwrap();
                match a["type"].as_str().unwrap() {
                    "domain" | "hostname" => {
                        domains.insert(v.to_ascii_lowercase());
                    }
                    "domain|ip" => {
                        let (d, i) = v.split_once('|').unwrap();
                        domains.insert(d.to_ascii_lowercase());
                        ips.insert(i.parse::<std::net::IpAddr>().unwrap());
                    }
                    "ip-src" | "ip-dst" => {
                        ips.insert(v.parse::<std::net::IpAddr>().unwrap());
                    }
                    "ip-src|port" | "ip-dst|port" => {
                        ips.insert(v.rsplit_once('|').unwrap().0.parse().unwrap());
                    }
                    _ => {}
                }
            }
        }
        let kind = |k| report.per_kind.get(&k).copied().unwrap_or(0);
        assert_eq!(
            kind(IndicatorKind::Domain),
            domains.len(),
            "{}",
            file.display()
        );
        assert_eq!(
            kind(IndicatorKind::Ipv4) + kind(IndicatorKind::Ipv6),
            ips.len(),
            "{}",
            file.display()
        );
    }
}
