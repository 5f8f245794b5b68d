//! STIX pattern parser tables, extraction tables, loader cases and the OASIS corpus.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::extract::{Branch, extract};
use super::pattern::{
    ComparisonExpr, Literal, MAX_DEPTH, ObservationExpr, Op, PathStep, Qualifier, parse_pattern,
};
use super::*;
use crate::matcher::IndicatorSetBuilder;
use crate::model::IndicatorMeta;

const NOW: i64 = 1_700_000_000;

fn opts() -> LoadOptions {
    LoadOptions {
        now: NOW,
        ..LoadOptions::new(Arc::new(IndicatorMeta {
            source: "stix-test".into(),
            ..Default::default()
        }))
    }
}

/// Renders extraction branches compactly: `kind value [tags]`, `bad: …`, `unsupported: …`.
fn render(branches: &[Branch]) -> Vec<String> {
    branches
        .iter()
        .map(|b| match b {
            Branch::Match(o) => {
                let mut s = format!("{} {}", o.kind, o.value);
                for t in &o.tags {
                    s.push_str(&format!(" {t}"));
                }
                if let (Some(a), Some(b)) = (o.valid_from, o.valid_until) {
                    s.push_str(&format!(" @{a}..{b}"));
                }
                s
            }
            Branch::Bad(r) => format!("bad: {r}"),
            Branch::Unsupported(r) => format!("unsupported: {r}"),
        })
        .collect()
}

/// (name, pattern, expected branches; each expectation is a prefix of the rendered branch).
const VALID: &[(&str, &str, &[&str])] = &[
    (
        "ipv4",
        "[ipv4-addr:value = '198.51.100.1']",
        &["ipv4 198.51.100.1"],
    ),
    (
        "ipv4_spaces",
        "[ ipv4-addr:value = '10.0.0.0' ]",
        &["ipv4 10.0.0.0"],
    ),
    (
        "ipv4_cidr",
        "[ipv4-addr:value = '223.166.0.0/15']",
        &["cidr 223.166.0.0/15"],
    ),
    (
        "ipv4_double_eq",
        "[ipv4-addr:value == '1.2.3.4']",
        &["ipv4 1.2.3.4"],
    ),
    (
        "ipv6",
        "[ipv6-addr:value = '2001:DB8::1']",
        &["ipv6 2001:db8::1"],
    ),
    (
        "ipv6_cidr",
        "[ipv6-addr:value = '2001:db8::/32']",
        &["cidr 2001:db8::/32"],
    ),
    (
        "ipv4_family",
        "[ipv4-addr:value = '::1']",
        &["bad: ipv4-addr value"],
    ),
    ("ipv4_garbage", "[ipv4-addr:value = 'nope']", &["bad: "]),
    (
        "ipv4_int",
        "[ipv4-addr:value = 5]",
        &["bad: expected a string"],
    ),
    (
        "domain",
        "[domain-name:value = 'Evil.Example.ORG']",
        &["domain evil.example.org"],
    ),
    (
        "domain_space",
        "[domain-name:value = 'domain autuo.xicp.net']",
        &["bad: bad domain-name"],
    ),
    (
        "url",
        "[url:value = 'http://x.org:80/a?b']",
        &["url x.org/a?b"],
    ),
    (
        "x509_sha1",
        "[x509-certificate:hashes.'SHA-1' = '6E4F5B4F1DDD2C6B2A4F3C0E8E3C3D9E6B0C1A2B']",
        &["x509_sha1 6e4f5b4f1ddd2c6b2a4f3c0e8e3c3d9e6b0c1a2b"],
    ),
    (
        "x509_sha256",
        "[x509-certificate:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        &["x509_sha256 ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"],
    ),
    (
        "x509_bad_len",
        "[x509-certificate:hashes.'SHA-1' = 'abcd']",
        &["bad: "],
    ),
    (
        "or_inside",
        "[domain-name:value = 'a.org' OR ipv4-addr:value = '1.2.3.4']",
        &["domain a.org", "ipv4 1.2.3.4"],
    ),
    (
        "or_between",
        "[domain-name:value = 'a.org'] OR [ipv4-addr:value = '1.2.3.4']",
        &["domain a.org", "ipv4 1.2.3.4"],
    ),
    (
        "or_partial",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] OR [url:value = 'http://a.org/x']",
        &[
            "unsupported: file:hashes.MD5 is not observed",
            "url a.org/x",
        ],
    ),
    (
        "and_inside",
        "[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '5.6.7.8']",
        &["unsupported: AND of comparisons"],
    ),
    (
        "and_between",
        "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.org']",
        &["unsupported: AND between observations"],
    ),
    (
        "x509_and",
        "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b']",
        &["unsupported: AND of comparisons"],
    ),
    (
        "followedby",
        "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'a.org']",
        &["unsupported: FOLLOWEDBY"],
    ),
    (
        "within_single",
        "[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS",
        &["ipv4 1.2.3.4"],
    ),
    (
        "within_float",
        "([ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '1.2.3.5']) WITHIN 2.5 SECONDS",
        &["ipv4 1.2.3.4", "ipv4 1.2.3.5"],
    ),
    (
        "repeats",
        "[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES",
        &["unsupported: REPEATS 5 TIMES"],
    ),
    (
        "start_stop",
        "[ipv4-addr:value = '1.2.3.4'] START t'2016-01-01T00:00:00Z' STOP t'2016-01-02T00:00:00Z'",
        &["ipv4 1.2.3.4 @1451606400..1451692800"],
    ),
    (
        "start_stop_20_strings",
        "[ipv4-addr:value = '1.2.3.4'] START '2016-01-01T00:00:00Z' STOP '2016-01-02T00:00:00Z'",
        &["ipv4 1.2.3.4 @1451606400..1451692800"],
    ),
    (
        "in_list",
        "[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2', '3.3.3.0/24')]",
        &["ipv4 1.1.1.1", "ipv4 2.2.2.2", "cidr 3.3.3.0/24"],
    ),
    (
        "in_empty",
        "[ipv4-addr:value IN ()]",
        &["unsupported: IN ()"],
    ),
    (
        "not_in",
        "[ipv4-addr:value NOT IN ('1.1.1.1')]",
        &["unsupported: NOT IN"],
    ),
    (
        "neq",
        "[ipv4-addr:value != '1.1.1.1']",
        &["unsupported: != on ipv4-addr:value"],
    ),
    (
        "like",
        "[domain-name:value LIKE '%.evil.org']",
        &["unsupported: LIKE"],
    ),
    (
        "matches",
        "[email-message:subject MATCHES '^[IMPORTANT] Please Review Before']",
        &["unsupported: email-message:subject is not observed"],
    ),
    (
        "matches_domain",
        "[domain-name:value MATCHES '^evil']",
        &["unsupported: MATCHES on domain-name:value"],
    ),
    (
        "issubset",
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
        &["cidr 198.51.100.0/24"],
    ),
    (
        "issubset_host",
        "[ipv4-addr:value ISSUBSET '198.51.100.1']",
        &["bad: ISSUBSET needs"],
    ),
    (
        "issuperset",
        "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
        &["unsupported: ISSUPERSET"],
    ),
    (
        "exists",
        "[EXISTS ipv4-addr:value]",
        &["unsupported: EXISTS"],
    ),
    (
        "escapes",
        "[url:value = 'http://a.org/it\\'s\\\\x']",
        &["url a.org/it's\\x"],
    ),
    (
        "net_traffic_dst",
        "[network-traffic:dst_ref.value = '203.0.113.5']",
        &["ipv4 203.0.113.5 network-traffic=dst_ref"],
    ),
    (
        "net_traffic_and_port",
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'TCP']",
        &["ipv4 5.6.7.8 network-traffic=dst_ref dst_port=443 protocol=tcp"],
    ),
    (
        "net_traffic_src",
        "[network-traffic:src_ref.value = '5.6.7.0/24' AND network-traffic:src_port = 53]",
        &["cidr 5.6.7.0/24 network-traffic=src_ref src_port=53"],
    ),
    (
        "net_traffic_two_addrs",
        "[network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:src_ref.value = '1.2.3.4']",
        &["unsupported: AND of comparisons"],
    ),
    (
        "net_traffic_port_only",
        "[network-traffic:dst_port = 443]",
        &["unsupported: network-traffic:dst_port is not observed"],
    ),
    (
        "net_traffic_bad_extra",
        "[network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port > 443]",
        &["unsupported: AND of comparisons"],
    ),
    (
        "nested_parens",
        "[(ipv4-addr:value = '1.1.1.1' OR (domain-name:value = 'a.org'))]",
        &["ipv4 1.1.1.1", "domain a.org"],
    ),
    (
        "file_hash",
        "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        &["unsupported: file:hashes.SHA-256 is not observed"],
    ),
    (
        "list_path",
        "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
        &["unsupported: email-message:body_multipart[*].body_raw_ref.name is not observed"],
    ),
    (
        "literals",
        "[x:a = true OR x:b = -3 OR x:c = 2.5 OR x:d = h'ff00' OR x:e = b'AAE=' OR x:f > t'2020-01-01T00:00:00Z']",
        &[
            "unsupported",
            "unsupported",
            "unsupported",
            "unsupported",
            "unsupported",
            "unsupported",
        ],
    ),
];

/// (name, pattern, expected error substring).
const INVALID: &[(&str, &str, &str)] = &[
    ("empty", "", "expected '[' or '('"),
    (
        "unclosed_bracket",
        "[ipv4-addr:value = '1.2.3.4'",
        "expected ']'",
    ),
    (
        "unterminated_string",
        "[ipv4-addr:value = '1.2.3.4]",
        "unterminated string",
    ),
    ("bad_escape", "[url:value = 'a\\nb']", "escapes"),
    ("no_colon", "[ipv4-addr = '1']", "':' after the object type"),
    ("no_op", "[ipv4-addr:value '1']", "comparison operator"),
    (
        "bad_op_word",
        "[ipv4-addr:value EQUALS '1']",
        "unknown operator",
    ),
    ("trailing", "[a:b = 'c'] garbage", "after the pattern"),
    ("dangling_or", "[a:b = 'c'] OR", "expected '[' or '('"),
    (
        "dangling_and_inside",
        "[a:b = 'c' AND]",
        "expected an object type",
    ),
    (
        "lower_case_keyword",
        "[a:b = 'c'] or [a:b = 'd']",
        "after the pattern",
    ),
    ("within_zero", "[a:b = 'c'] WITHIN 0 SECONDS", "positive"),
    ("within_no_seconds", "[a:b = 'c'] WITHIN 5", "SECONDS"),
    (
        "repeats_float",
        "[a:b = 'c'] REPEATS 1.5 TIMES",
        "positive integer",
    ),
    (
        "start_no_stop",
        "[a:b = 'c'] START t'2016-01-01T00:00:00Z'",
        "STOP",
    ),
    (
        "bad_timestamp",
        "[a:b = t'2016-13-01T00:00:00Z']",
        "bad timestamp",
    ),
    (
        "timestamp_not_utc",
        "[a:b = t'2016-01-01T00:00:00+01:00']",
        "bad timestamp",
    ),
    ("bad_hex", "[a:b = h'abc']", "bad hex"),
    ("bad_base64", "[a:b = b'!!']", "bad base64"),
    ("like_number", "[a:b LIKE 5]", "needs a string"),
    ("gt_bool", "[a:b > true]", "orderable"),
    ("in_no_list", "[a:b IN '1']", "'(' opening an IN list"),
    ("in_unclosed", "[a:b IN ('1', '2'", "',' or ')'"),
    ("bad_index", "[a:b[x] = '1']", "list index"),
    ("keyword_type", "[AND:b = '1']", "object type"),
    ("stray_char", "[a:b = '1'] ;", "unexpected character"),
    ("empty_observation", "[]", "object type"),
    ("bad_number", "[a:b = 1.2.3]", "bad number"),
];

#[test]
fn pattern_cases_have_unique_names() {
    let mut names = HashSet::new();
    for name in VALID.iter().map(|c| c.0).chain(INVALID.iter().map(|c| c.0)) {
        assert!(names.insert(name), "duplicate case {name}");
    }
}

#[test]
fn valid_patterns_extract() {
    for (name, pattern, want) in VALID {
        let parsed = parse_pattern(pattern).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = render(&extract(&parsed));
        assert_eq!(got.len(), want.len(), "{name}: {got:?}");
        for (g, w) in got.iter().zip(want.iter()) {
            assert!(g.starts_with(w), "{name}: {g:?} does not start with {w:?}");
        }
    }
}

#[test]
fn invalid_patterns_fail_with_reason() {
    for (name, pattern, want) in INVALID {
        match parse_pattern(pattern) {
            Ok(p) => panic!("{name}: parsed as {p:?}"),
            Err(e) => assert!(e.to_string().contains(want), "{name}: {e}"),
        }
    }
}

#[test]
fn ast_shape() {
    let p = parse_pattern(
        "([a:b = 'x'] AND [c:d.'e-f'[0][*] != 1]) FOLLOWEDBY [g:h = 'y' OR g:i = 'z' AND g:j = 'w'] WITHIN 10 SECONDS",
    )
    .unwrap();
    let ObservationExpr::FollowedBy(items) = &p else {
        panic!("{p:?}")
    };
    assert_eq!(items.len(), 2);
    let ObservationExpr::And(pair) = &items[0] else {
        panic!("{p:?}")
    };
    let ObservationExpr::Observation(ComparisonExpr::Test(t)) = &pair[1] else {
        panic!("{p:?}")
    };
    assert_eq!(t.op, Op::Neq);
    assert_eq!(t.value, Literal::Int(1));
    assert_eq!(
        t.path.steps,
        [
            PathStep::Property("d".into()),
            PathStep::Property("e-f".into()),
            PathStep::Index(0),
            PathStep::Any
        ]
    );
    // WITHIN binds to the last observation; AND binds tighter than OR inside brackets.
    let ObservationExpr::Qualified(inner, Qualifier::Within(w)) = &items[1] else {
        panic!("{p:?}")
    };
    assert_eq!(*w, 10.0);
    let ObservationExpr::Observation(ComparisonExpr::Or(ors)) = inner.as_ref() else {
        panic!("{p:?}")
    };
    assert!(matches!(ors[1], ComparisonExpr::And(_)));
}

#[test]
fn pattern_bounds() {
    let deep = format!(
        "{}[a:b = 'c']{}",
        "(".repeat(MAX_DEPTH + 5),
        ")".repeat(MAX_DEPTH + 5)
    );
    assert!(
        parse_pattern(&deep)
            .unwrap_err()
            .reason
            .contains("nested deeper")
    );
    let ok_deep = format!("{}[a:b = 'c']{}", "(".repeat(10), ")".repeat(10));
    assert!(parse_pattern(&ok_deep).is_ok());
    let huge = format!(
        "[url:value = '{}']",
        "a".repeat(super::pattern::MAX_PATTERN_BYTES)
    );
    assert!(
        parse_pattern(&huge)
            .unwrap_err()
            .reason
            .contains("longer than")
    );
    // A long OR chain is parsed iteratively, not recursively.
    let chain: Vec<String> = (0..5000)
        .map(|i| format!("ipv4-addr:value = '10.{}.{}.1'", i / 256, i % 256))
        .collect();
    let parsed = parse_pattern(&format!("[{}]", chain.join(" OR "))).unwrap();
    assert_eq!(extract(&parsed).len(), 5000);
    // Non-ASCII is fine inside strings and an error outside.
    assert!(parse_pattern("[url:value = 'http://a.org/é']").is_ok());
    assert!(parse_pattern("[url:value = 'x'] é").is_err());
}

fn load_json(doc: &Value, opts: &LoadOptions) -> (LoadReport, crate::IndicatorSet) {
    let bytes = serde_json::to_vec(doc).unwrap();
    let mut builder = IndicatorSetBuilder::new();
    let report = load_stix(bytes.as_slice(), opts, &mut builder).unwrap();
    (report, builder.build().unwrap())
}

fn indicator(id: &str, pattern: &str) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z"
    })
}

#[test]
fn loader_metadata_markings_and_accounting() {
    let mut a = indicator(
        "indicator--a",
        "[ipv4-addr:value = '5.6.7.8' OR domain-name:value = 'evil.org' OR file:name = 'x']",
    );
    a["confidence"] = json!(85);
    a["indicator_types"] = json!(["malicious-activity"]);
    a["labels"] = json!(["apt"]);
    a["name"] = json!("C2");
    a["object_marking_refs"] = json!([
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "marking-definition--custom"
    ]);
    let mut revoked = indicator("indicator--r", "[ipv4-addr:value = '9.9.9.9']");
    revoked["revoked"] = json!(true);
    let mut expired = indicator("indicator--e", "[ipv4-addr:value = '9.9.9.10']");
    expired["valid_until"] = json!("2021-01-01T00:00:00Z");
    let mut snort = indicator("indicator--s", "alert tcp any any -> any any");
    snort["pattern_type"] = json!("snort");
    let mut bad_conf = indicator("indicator--c", "[ipv4-addr:value = '9.9.9.11']");
    bad_conf["confidence"] = json!(101);
    let mut bad_time = indicator("indicator--t", "[ipv4-addr:value = '9.9.9.12']");
    bad_time["valid_from"] = json!("yesterday");
    let mut v20 = indicator("indicator--20", "[url:value = 'https://evil.org/x']");
    v20.as_object_mut().unwrap().remove("pattern_type");
    v20.as_object_mut().unwrap().remove("spec_version");
    v20["object_marking_refs"] =
        json!(["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]);
    let doc = json!({
        "type": "bundle", "id": "bundle--1",
        "objects": [
            {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--custom",
             "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED",
             "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                 {"extension_type": "property-extension", "tlp_2_0": "red"}}},
            a, revoked, expired, snort, bad_conf, bad_time, v20,
            indicator("indicator--bad", "[ipv4-addr:value = "),
            indicator("indicator--doc", "[ipv4-addr:value = '192.0.2.1']"),
            indicator("indicator--dup", "[domain-name:value = 'EVIL.org']"),
            {"type": "indicator", "id": "indicator--nopattern"},
            {"type": "relationship", "id": "relationship--1"},
            {"type": "x-custom-thing", "id": "x-custom-thing--1"},
            "not an object"
        ]
    });
    let (report, set) = load_json(&doc, &opts());
    assert_eq!(report.accepted, 3, "{report}");
    assert_eq!(report.duplicates, 1, "{report}");
    assert_eq!(report.expired, 1, "{report}");
    assert_eq!(report.suppressed_total, 1, "{report}");
    assert_eq!(report.unsupported_total, 2, "{report}");
    assert_eq!(report.rejected_total, 4, "{report}");
    assert_eq!(report.skipped[crate::report::SKIPPED_REVOKED], 1);
    assert_eq!(report.skipped[crate::report::SKIPPED_NOT_INDICATOR], 4);
    assert_eq!(report.lines_accounted(), 17);
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("indicator--bad: bad pattern")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("confidence")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("valid_from")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("indicator--nopattern")),
        "{reasons:?}"
    );

    let first = set.iter().next().unwrap();
    assert_eq!(first.id(), "indicator--a");
    assert_eq!(first.value().to_string(), "5.6.7.8");
    let meta = first.meta();
    assert_eq!(meta.confidence, 85);
    assert_eq!(
        meta.tlp,
        Tlp::Red,
        "custom TLP 2.0 marking in the bundle beats green"
    );
    assert_eq!(meta.valid_from, Some(1_577_836_800));
    let tags: Vec<&str> = meta.tags.iter().map(|t| t.as_ref()).collect();
    assert_eq!(
        tags,
        ["indicator_type=malicious-activity", "label=apt", "name=C2"]
    );
    let url = set
        .iter()
        .find(|r| r.kind() == crate::IndicatorKind::Url)
        .unwrap();
    assert_eq!(url.value().to_string(), "evil.org/x");
    assert_eq!(url.meta().tlp, Tlp::AmberStrict);
}

#[test]
fn not_a_bundle_and_malformed_json() {
    let mut builder = IndicatorSetBuilder::new();
    for bad in [
        &b"{\"type\": \"bundle\", \"objects\": [ {\"type\": \"indicator\""[..],
        b"[1, 2, 3]",
        b"{\"type\": \"indicator\", \"id\": \"indicator--x\"}",
        b"{\"type\": \"bundle\", \"objects\": {}}",
        b"",
        b"\xff\xfe",
    ] {
        let err = load_stix(bad, &opts(), &mut builder).unwrap_err();
        assert!(matches!(err, FormatError::NotThisFormat { .. }), "{err}");
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(load_stix(deep.as_bytes(), &opts(), &mut builder).is_err());
    // A huge string value is a rejection, not a crash.
    let doc = json!({"type": "bundle", "objects": [
        indicator("indicator--huge", &format!("[url:value = 'http://a.org/{}']", "a".repeat(200_000)))
    ]});
    let (report, set) = load_json(&doc, &opts());
    assert_eq!((report.rejected_total, set.len()), (1, 0), "{report}");
    // Wrong types everywhere.
    let doc = json!({"type": "bundle", "objects": [
        {"type": "indicator", "id": 5, "pattern": "[ipv4-addr:value = '5.6.7.8']"},
        {"type": "indicator", "id": "indicator--p", "pattern": 5},
        {"type": "indicator", "id": "indicator--t", "pattern": "[ipv4-addr:value = '5.6.7.8']", "pattern_type": 1},
        {"type": "indicator", "id": "indicator--c", "pattern": "[ipv4-addr:value = '5.6.7.8']", "confidence": "high"},
        {"type": "indicator", "id": "indicator--v", "pattern": "[ipv4-addr:value = '5.6.7.8']", "valid_until": 17},
        {"type": "indicator", "id": "indicator--m", "pattern": "[ipv4-addr:value = '5.6.7.8']", "object_marking_refs": "x", "labels": [1, null]}
    ]});
    let (report, set) = load_json(&doc, &opts());
    assert_eq!(
        (report.rejected_total, report.accepted, set.len()),
        (5, 1, 1),
        "{report}"
    );
}

// ---- corpus ----

fn corpus() -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("KORDON_CORPUS") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
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

/// Independent expectations for one bundle, computed from the JSON with string handling only
/// (no pattern parser): every indicator's pattern is split on the top-level ` OR ` of its single
/// `[…]`; a branch `<path> = '<v>'` with a network path counts as one network value, anything
/// else (including an `AND`) as one unsupported entry.
#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    indicators: usize,
    others: usize,
    network_values: usize,
    unsupported: usize,
}

fn independent(doc: &Value) -> Expected {
    let mut e = Expected::default();
    for o in doc["objects"].as_array().unwrap() {
        if o["type"] != "indicator" {
            e.others += 1;
            continue;
        }
        e.indicators += 1;
        let pattern = o["pattern"].as_str().unwrap().trim();
        let inner = pattern
            .strip_prefix('[')
            .and_then(|p| p.strip_suffix(']'))
            .unwrap()
            .trim();
        if inner.contains(" AND ") {
            e.unsupported += 1;
            continue;
        }
        for branch in inner.split(" OR ") {
            let path = branch.split(' ').next().unwrap();
            let op = branch.split(' ').nth(1).unwrap();
            let network = matches!(
                path,
                "ipv4-addr:value" | "ipv6-addr:value" | "domain-name:value" | "url:value"
            );
            if network && op == "=" {
                e.network_values += 1;
            } else {
                e.unsupported += 1;
            }
        }
    }
    e
}

#[test]
fn corpus_oasis_bundles_match_independent_counts() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("intel-stix21-oasis");
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let mut totals = (0, 0);
    let no_allowlist = LoadOptions {
        allowlist: None,
        ..opts()
    };
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mut builder = IndicatorSetBuilder::new();
        let result = load_stix(text.as_bytes(), &no_allowlist, &mut builder);
        if doc.get("type") != Some(&json!("bundle")) {
            // interop/indicator.json is a JSON schema, not a bundle.
            assert!(
                matches!(result, Err(FormatError::NotThisFormat { .. })),
                "{}: {result:?}",
                file.display()
            );
            continue;
        }
        let report = result.unwrap();
        let want = independent(&doc);
        eprintln!("{}: {report}  expected {want:?}", file.display());
        assert_eq!(report.skipped_total(), want.others, "{}", file.display());
        assert_eq!(
            report.accepted + report.duplicates + report.rejected_total,
            want.network_values,
            "{}: {report}",
            file.display()
        );
        assert_eq!(
            report.unsupported_total,
            want.unsupported,
            "{}",
            file.display()
        );
        assert_eq!(report.expired + report.suppressed_total, 0);
        let set = builder.build().unwrap();
        assert_eq!(set.len(), report.accepted);
        totals.0 += report.accepted;
        totals.1 += want.network_values;
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name == "poisonivy.json" {
            // "domain autuo.xicp.net" (a space in a domain) is the one bad value.
            assert_eq!(report.rejected_total, 1, "{report}");
            assert!(report.rejected[0].reason.contains("autuo.xicp.net"));
        } else {
            assert_eq!(report.rejected_total, 0, "{report}");
        }
        if name == "apt1.json" {
            let mut out = Vec::new();
            set.match_ip("223.167.1.2".parse().unwrap(), NOW, &mut out);
            assert_eq!(
                out.len(),
                1,
                "the /15 from the apt1 report matches inside it"
            );
            assert_eq!(set.count_of(crate::IndicatorKind::Cidr), 4);
        }
    }
    eprintln!(
        "oasis corpus: {} accepted of {} network values",
        totals.0, totals.1
    );

    // With the default allowlist the 10.0.0.0 indicators of the examples are suppressed.
    let path = dir.join("examples/indicator-for-c2-ip-address.json");
    let mut builder = IndicatorSetBuilder::new();
    let report = load_stix(
        std::io::BufReader::new(std::fs::File::open(&path).unwrap()),
        &opts(),
        &mut builder,
    )
    .unwrap();
    assert_eq!(
        (report.accepted, report.suppressed_total),
        (0, 1),
        "{report}"
    );
    assert!(report.suppressed[0].reason.contains("10.0.0.0/8"));
}
