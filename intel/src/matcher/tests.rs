//! Matcher tests: a table of named cases, each run across several build variants, plus focused
//! tests for ids, scores, dedup and memory.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::*;

const NOW: i64 = 1_700_000_000;

/// An indicator written as `[allow] [expired|future] <kind> <value>`.
type Spec = &'static str;

#[derive(Clone, Copy, Debug)]
enum Query {
    Ip(&'static str),
    Domain(&'static str),
    Text(IndicatorKind, &'static str),
}

struct Case {
    name: &'static str,
    indicators: &'static [Spec],
    query: Query,
    /// Matched values in `Display` form, in output order.
    expect: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "v4_exact_hit",
        indicators: &["ipv4 192.0.2.1"],
        query: Query::Ip("192.0.2.1"),
        expect: &["192.0.2.1"],
    },
    Case {
        name: "v4_exact_miss",
        indicators: &["ipv4 192.0.2.1"],
        query: Query::Ip("192.0.2.2"),
        expect: &[],
    },
    Case {
        name: "v6_exact_hit",
        indicators: &["ipv6 2001:db8::1"],
        query: Query::Ip("2001:db8::1"),
        expect: &["2001:db8::1"],
    },
    Case {
        name: "v6_exact_miss",
        indicators: &["ipv6 2001:db8::1"],
        query: Query::Ip("2001:db8::2"),
        expect: &[],
    },
    Case {
        name: "longest_prefix_only",
        indicators: &["cidr 10.0.0.0/8", "cidr 10.1.0.0/16", "cidr 10.1.2.0/24"],
        query: Query::Ip("10.1.2.3"),
        expect: &["10.1.2.0/24"],
    },
    Case {
        name: "longest_prefix_falls_back",
        indicators: &["cidr 10.0.0.0/8", "cidr 10.1.0.0/16", "cidr 10.1.2.0/24"],
        query: Query::Ip("10.1.9.9"),
        expect: &["10.1.0.0/16"],
    },
    Case {
        name: "exact_then_cidr",
        indicators: &["cidr 198.51.100.0/24", "ipv4 198.51.100.7"],
        query: Query::Ip("198.51.100.7"),
        expect: &["198.51.100.7", "198.51.100.0/24"],
    },
    Case {
        name: "v4_slash0",
        indicators: &["cidr 0.0.0.0/0"],
        query: Query::Ip("203.0.113.9"),
        expect: &["0.0.0.0/0"],
    },
    Case {
        name: "v6_slash0_not_v4",
        indicators: &["cidr ::/0"],
        query: Query::Ip("203.0.113.9"),
        expect: &[],
    },
    Case {
        name: "v6_slash0_matches_v6",
        indicators: &["cidr ::/0"],
        query: Query::Ip("2001:db8::5"),
        expect: &["::/0"],
    },
    Case {
        name: "slash32_and_exact",
        indicators: &["cidr 192.0.2.9/32", "ipv4 192.0.2.9"],
        query: Query::Ip("192.0.2.9"),
        expect: &["192.0.2.9", "192.0.2.9/32"],
    },
    Case {
        name: "host_bits_cleared",
        indicators: &["cidr 192.168.0.13/24"],
        query: Query::Ip("192.168.0.200"),
        expect: &["192.168.0.0/24"],
    },
    Case {
        name: "v6_longest_prefix",
        indicators: &["cidr 2001:db8::/32", "cidr 2001:db8:1::/48"],
        query: Query::Ip("2001:db8:1::77"),
        expect: &["2001:db8:1::/48"],
    },
    Case {
        name: "v6_prefix_miss",
        indicators: &["cidr 2001:db8::/32"],
        query: Query::Ip("2001:db9::1"),
        expect: &[],
    },
    Case {
        name: "mapped_indicator_matches_v4",
        indicators: &["ipv6 ::ffff:82.165.177.154"],
        query: Query::Ip("82.165.177.154"),
        expect: &["::ffff:82.165.177.154"],
    },
    Case {
        name: "v4_indicator_matches_mapped",
        indicators: &["ipv4 82.165.177.154"],
        query: Query::Ip("::ffff:82.165.177.154"),
        expect: &["82.165.177.154"],
    },
    Case {
        name: "mapped_network_matches_v4",
        indicators: &["cidr ::ffff:10.0.0.0/104"],
        query: Query::Ip("10.9.8.7"),
        expect: &["::ffff:10.0.0.0/104"],
    },
    Case {
        name: "domain_exact",
        indicators: &["domain evil.example"],
        query: Query::Domain("evil.example"),
        expect: &["evil.example"],
    },
    Case {
        name: "domain_exact_not_subdomain",
        indicators: &["domain evil.example"],
        query: Query::Domain("www.evil.example"),
        expect: &[],
    },
    Case {
        name: "domain_wild_matches_self",
        indicators: &["domain *.evil.example"],
        query: Query::Domain("evil.example"),
        expect: &["*.evil.example"],
    },
    Case {
        name: "domain_wild_matches_deep",
        indicators: &["domain *.evil.example"],
        query: Query::Domain("a.b.c.evil.example"),
        expect: &["*.evil.example"],
    },
    Case {
        name: "domain_wild_label_boundary",
        indicators: &["domain *.evil.example"],
        query: Query::Domain("notevil.example"),
        expect: &[],
    },
    Case {
        name: "domain_case_and_dot",
        indicators: &["domain evil.example"],
        query: Query::Domain("EVIL.Example."),
        expect: &["evil.example"],
    },
    Case {
        name: "domain_indicator_case",
        indicators: &["domain Evil.EXAMPLE."],
        query: Query::Domain("evil.example"),
        expect: &["evil.example"],
    },
    Case {
        name: "domain_most_specific_first",
        indicators: &[
            "domain *.example",
            "domain *.evil.example",
            "domain evil.example",
            "domain www.evil.example",
        ],
        query: Query::Domain("evil.example"),
        expect: &["evil.example", "*.evil.example", "*.example"],
    },
    Case {
        name: "domain_empty_query",
        indicators: &["domain *.example"],
        query: Query::Domain(""),
        expect: &[],
    },
    Case {
        name: "domain_dot_query",
        indicators: &["domain *.example"],
        query: Query::Domain("."),
        expect: &[],
    },
    Case {
        name: "allow_cidr_suppresses_cidr",
        indicators: &["cidr 10.0.0.0/8", "allow cidr 10.1.0.0/16"],
        query: Query::Ip("10.1.2.3"),
        expect: &[],
    },
    Case {
        name: "allow_cidr_elsewhere",
        indicators: &["cidr 10.0.0.0/8", "allow cidr 10.1.0.0/16"],
        query: Query::Ip("10.2.0.1"),
        expect: &["10.0.0.0/8"],
    },
    Case {
        name: "allow_wide_suppresses_exact",
        indicators: &["ipv4 10.1.2.3", "allow cidr 10.0.0.0/8"],
        query: Query::Ip("10.1.2.3"),
        expect: &[],
    },
    Case {
        name: "allow_parent_suppresses_domain",
        indicators: &["domain bad.example.com", "allow domain *.example.com"],
        query: Query::Domain("bad.example.com"),
        expect: &[],
    },
    Case {
        name: "allow_exact_domain_not_parent",
        indicators: &["domain *.example.com", "allow domain example.com"],
        query: Query::Domain("x.example.com"),
        expect: &["*.example.com"],
    },
    Case {
        name: "allow_text",
        indicators: &[
            "ja3 e7d705a3286e19ea42f587b344ee6865",
            "allow ja3 e7d705a3286e19ea42f587b344ee6865",
        ],
        query: Query::Text(IndicatorKind::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
        expect: &[],
    },
    Case {
        name: "allow_expired_does_not_suppress",
        indicators: &["ipv4 192.0.2.1", "allow expired ipv4 192.0.2.1"],
        query: Query::Ip("192.0.2.1"),
        expect: &["192.0.2.1"],
    },
    Case {
        name: "expired_skipped",
        indicators: &["expired ipv4 192.0.2.1"],
        query: Query::Ip("192.0.2.1"),
        expect: &[],
    },
    Case {
        name: "future_skipped",
        indicators: &["future domain evil.example"],
        query: Query::Domain("evil.example"),
        expect: &[],
    },
    Case {
        name: "expired_longest_falls_back",
        indicators: &["cidr 10.0.0.0/8", "expired cidr 10.1.0.0/16"],
        query: Query::Ip("10.1.2.3"),
        expect: &["10.0.0.0/8"],
    },
    Case {
        name: "duplicate_reported_once",
        indicators: &["ipv4 192.0.2.1", "ipv4 192.0.2.1"],
        query: Query::Ip("192.0.2.1"),
        expect: &["192.0.2.1"],
    },
    Case {
        name: "ja3_case_insensitive",
        indicators: &["ja3 E7D705A3286E19EA42F587B344EE6865"],
        query: Query::Text(IndicatorKind::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
        expect: &["e7d705a3286e19ea42f587b344ee6865"],
    },
    Case {
        name: "kinds_do_not_cross",
        indicators: &["md5 e7d705a3286e19ea42f587b344ee6865"],
        query: Query::Text(IndicatorKind::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
        expect: &[],
    },
    Case {
        name: "url_path_case_sensitive",
        indicators: &["url evil.example/Login"],
        query: Query::Text(IndicatorKind::Url, "evil.example/login"),
        expect: &[],
    },
    Case {
        name: "url_exact",
        indicators: &["url evil.example/Login"],
        query: Query::Text(IndicatorKind::Url, "evil.example/Login"),
        expect: &["evil.example/Login"],
    },
    Case {
        name: "user_agent_exact",
        indicators: &["user_agent curl/7.43.0"],
        query: Query::Text(IndicatorKind::UserAgent, "curl/7.43.0"),
        expect: &["curl/7.43.0"],
    },
    Case {
        name: "ja4_exact",
        indicators: &["ja4 t13d1516h2_8daaf6152771_02713d6af862"],
        query: Query::Text(IndicatorKind::Ja4, "t13d1516h2_8daaf6152771_02713d6af862"),
        expect: &["t13d1516h2_8daaf6152771_02713d6af862"],
    },
    Case {
        name: "text_domain_delegates",
        indicators: &["domain *.evil.example"],
        query: Query::Text(IndicatorKind::Domain, "x.evil.example"),
        expect: &["*.evil.example"],
    },
    Case {
        name: "text_ip_delegates",
        indicators: &["cidr 10.0.0.0/8"],
        query: Query::Text(IndicatorKind::Ipv4, "10.0.0.1"),
        expect: &["10.0.0.0/8"],
    },
    Case {
        name: "empty_set",
        indicators: &[],
        query: Query::Ip("10.0.0.1"),
        expect: &[],
    },
];

/// Build variants every case runs under: insertion order, and padding with unrelated entries so
/// lookups meet collisions and longer probe runs.
#[derive(Clone, Copy, Debug)]
enum Variant {
    AsWritten,
    Reversed,
    WithFiller,
}

const VARIANTS: [Variant; 3] = [Variant::AsWritten, Variant::Reversed, Variant::WithFiller];

fn meta(allow: bool, window: Option<&str>) -> Arc<IndicatorMeta> {
    let (valid_from, valid_until) = match window {
        Some("expired") => (None, Some(NOW - 1)),
        Some("future") => (Some(NOW + 1), None),
        _ => (None, None),
    };
    Arc::new(IndicatorMeta {
        source: "test".into(),
        set: "default".into(),
        allowlist: allow,
        valid_from,
        valid_until,
        ..Default::default()
    })
}

fn parse_spec(spec: &str) -> Indicator {
    let mut words: Vec<&str> = spec.split_whitespace().collect();
    let allow = words.first() == Some(&"allow");
    if allow {
        words.remove(0);
    }
    let window = match words.first() {
        Some(&w) if w == "expired" || w == "future" => {
            words.remove(0);
            Some(w)
        }
        _ => None,
    };
    let [kind, value] = words.as_slice() else {
        panic!("bad spec {spec:?}")
    };
    let kind = IndicatorKind::from_name(kind).unwrap_or_else(|| panic!("bad kind in {spec:?}"));
    let value = match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => IndicatorValue::Ip(value.parse().unwrap()),
        IndicatorKind::Cidr => IndicatorValue::Cidr(value.parse().unwrap()),
        IndicatorKind::Domain => match value.strip_prefix("*.") {
            Some(name) => IndicatorValue::Domain {
                name: name.into(),
                subdomains: true,
            },
            None => IndicatorValue::Domain {
                name: (*value).into(),
                subdomains: false,
            },
        },
        _ => IndicatorValue::Text((*value).into()),
    };
    Indicator {
        id: None,
        kind,
        value,
        score: None,
        meta: meta(allow, window),
    }
}

fn build(specs: &[Spec], variant: Variant) -> IndicatorSet {
    let mut builder = IndicatorSetBuilder::new();
    let filler_meta = meta(false, None);
    if let Variant::WithFiller = variant {
        for i in 0..5000u32 {
            let ip = IpAddr::V4((0x6400_0000 + i * 7).into());
            builder.add(Indicator {
                id: None,
                kind: IndicatorKind::Ipv4,
                value: IndicatorValue::Ip(ip),
                score: None,
                meta: filler_meta.clone(),
            });
            let name = format!("filler{i}.test");
            builder.add(Indicator {
                id: None,
                kind: IndicatorKind::Domain,
                value: IndicatorValue::Domain {
                    name,
                    subdomains: i % 2 == 0,
                },
                score: None,
                meta: filler_meta.clone(),
            });
        }
    }
    let mut specs: Vec<Spec> = specs.to_vec();
    if let Variant::Reversed = variant {
        specs.reverse();
    }
    for spec in specs {
        builder.add(parse_spec(spec));
    }
    builder.build().unwrap()
}

fn run(set: &IndicatorSet, query: Query) -> Vec<String> {
    let mut out = Vec::with_capacity(8);
    match query {
        Query::Ip(ip) => set.match_ip(ip.parse().unwrap(), NOW, &mut out),
        Query::Domain(name) => set.match_domain(name, NOW, &mut out),
        Query::Text(kind, value) => set.match_text(kind, value, NOW, &mut out),
    }
    out.iter()
        .map(|&id| set.get(id).value().to_string())
        .collect()
}

#[test]
fn case_names_are_unique() {
    let mut seen = HashSet::new();
    for case in CASES {
        assert!(seen.insert(case.name), "duplicate case name {}", case.name);
    }
}

#[test]
fn cases() {
    let mut failures = Vec::new();
    for case in CASES {
        for variant in VARIANTS {
            let set = build(case.indicators, variant);
            let got = run(&set, case.query);
            let expect: Vec<String> = case.expect.iter().map(|s| s.to_string()).collect();
            // Reversed insertion may reorder entries that share a level; the level order is
            // checked by the other variants.
            let (mut got_cmp, mut expect_cmp) = (got.clone(), expect.clone());
            if let Variant::Reversed = variant {
                got_cmp.sort();
                expect_cmp.sort();
            }
            if got_cmp != expect_cmp {
                failures.push(format!(
                    "{} [{variant:?}]: expected {expect:?}, got {got:?}",
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn dedup_first_wins() {
    let mut b = IndicatorSetBuilder::new();
    let first = Indicator {
        id: Some("first".into()),
        ..parse_spec("ipv4 192.0.2.1")
    };
    let second = Indicator {
        id: Some("second".into()),
        ..parse_spec("ipv4 192.0.2.1")
    };
    assert_eq!(b.add(first), AddOutcome::Added);
    assert_eq!(b.add(second), AddOutcome::Duplicate);
    assert_eq!(b.add(parse_spec("domain *.a.example")), AddOutcome::Added);
    assert_eq!(
        b.add(parse_spec("domain a.example")),
        AddOutcome::Added,
        "exact and wildcard differ"
    );
    assert_eq!(
        b.add(parse_spec("domain A.Example.")),
        AddOutcome::Duplicate,
        "case and dot fold"
    );
    assert_eq!(b.add(parse_spec("cidr 10.0.0.5/8")), AddOutcome::Added);
    assert_eq!(
        b.add(parse_spec("cidr 10.0.0.0/8")),
        AddOutcome::Duplicate,
        "host bits fold"
    );
    assert_eq!(
        b.add(parse_spec("ja3 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        AddOutcome::Added
    );
    assert_eq!(
        b.add(parse_spec("ja3 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
        AddOutcome::Duplicate
    );
    assert_eq!(
        b.add(parse_spec("md5 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
        AddOutcome::Added,
        "kind is part of the key"
    );
    assert_eq!(b.len(), 6);
    let set = b.build().unwrap();
    let mut out = Vec::new();
    set.match_ip("192.0.2.1".parse().unwrap(), NOW, &mut out);
    assert_eq!(set.get(out[0]).id(), "first");
}

#[test]
fn categories_keep_one_entry_each() {
    let mut b = IndicatorSetBuilder::new();
    for (cat, score) in [(1u8, 10), (2, 20), (1, 99)] {
        let ind = Indicator {
            score: Some(score),
            ..parse_spec("ipv4 192.0.2.1")
        };
        let outcome = b.add_in_category(ind, cat);
        assert_eq!(
            outcome,
            if score == 99 {
                AddOutcome::Duplicate
            } else {
                AddOutcome::Added
            }
        );
    }
    let set = b.build().unwrap();
    let mut out = Vec::new();
    set.match_ip("192.0.2.1".parse().unwrap(), NOW, &mut out);
    let scores: Vec<_> = out.iter().map(|&id| set.get(id).score()).collect();
    assert_eq!(scores, [Some(10), Some(20)]);
}

#[test]
fn ids_scores_and_values_round_trip() {
    let mut b = IndicatorSetBuilder::new();
    b.add(Indicator {
        id: Some("misp:1234".into()),
        score: Some(-5),
        ..parse_spec("domain *.evil.example")
    });
    b.add(parse_spec("cidr 2001:db8::/32"));
    let set = b.build().unwrap();
    let first = set.get(MatchId(0));
    assert_eq!(first.id(), "misp:1234");
    assert_eq!(first.score(), Some(-5));
    assert_eq!(first.kind(), IndicatorKind::Domain);
    assert_eq!(
        first.value(),
        IndicatorValue::Domain {
            name: "evil.example".into(),
            subdomains: true
        }
    );
    assert_eq!(first.meta().source.as_ref(), "test");
    assert_eq!(first.match_id(), MatchId(0));
    let second = set.get(MatchId(1));
    assert_eq!(second.score(), None);
    assert_eq!(
        second.value(),
        IndicatorValue::Cidr("2001:db8::/32".parse::<IpNet>().unwrap())
    );
    // Content id: "cidr:" + first 8 bytes of sha256("cidr:2001:db8::/32").
    let digest = Sha256::digest(b"cidr:2001:db8::/32");
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    assert_eq!(second.id(), format!("cidr:{hex}"));
    assert_eq!(second.id(), set.get(MatchId(1)).id(), "stable");
    assert!(set.try_get(MatchId(2)).is_none());
    assert_eq!(set.iter().count(), 2);
    assert_eq!(set.count_of(IndicatorKind::Cidr), 1);
}

#[test]
fn try_add_refuses_mismatch_and_add_coerces() {
    let mut b = IndicatorSetBuilder::new();
    let bad = Indicator {
        kind: IndicatorKind::Ja3,
        ..parse_spec("ipv4 192.0.2.1")
    };
    assert!(b.try_add(bad.clone()).is_err());
    assert_eq!(b.add(bad), AddOutcome::Added);
    let text_ip = Indicator {
        value: IndicatorValue::Text("192.0.2.2".into()),
        ..parse_spec("ipv4 192.0.2.9")
    };
    assert_eq!(b.add(text_ip), AddOutcome::Added);
    let set = b.build().unwrap();
    let mut out = Vec::new();
    set.match_ip("192.0.2.1".parse().unwrap(), NOW, &mut out);
    set.match_ip("192.0.2.2".parse().unwrap(), NOW, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(set.get(out[0]).kind(), IndicatorKind::Ipv4);
}

#[test]
fn empty_and_default() {
    let set = IndicatorSet::empty();
    assert!(set.is_empty());
    let mut out = Vec::new();
    set.match_ip("::1".parse().unwrap(), NOW, &mut out);
    set.match_domain("a.b", NOW, &mut out);
    set.match_text(IndicatorKind::Url, "a/b", NOW, &mut out);
    assert!(out.is_empty());
    assert!(IndicatorSetBuilder::new().build().unwrap().is_empty());
    assert!(format!("{set:?}").contains("len: 0"));
}

#[test]
fn matching_does_not_reallocate_out() {
    let set = build(
        &["ipv4 192.0.2.1", "cidr 192.0.2.0/24", "domain *.a.example"],
        Variant::AsWritten,
    );
    let mut out = Vec::with_capacity(16);
    let ptr = out.as_ptr();
    for _ in 0..100 {
        out.clear();
        set.match_ip("192.0.2.1".parse().unwrap(), NOW, &mut out);
        set.match_domain("x.y.a.example", NOW, &mut out);
    }
    assert_eq!(out.len(), 3);
    assert_eq!(out.as_ptr(), ptr);
}

/// Memory bar from DESIGN.md ("under 100 bytes per IPv4 indicator and 200 per domain"), checked
/// at 200k entries so the test stays fast; the 1M figures are measured by
/// `examples/memory.rs`.
#[test]
fn memory_per_indicator() {
    const N: u32 = 200_000;
    let shared = meta(false, None);
    let mut b = IndicatorSetBuilder::new();
    for i in 0..N {
        let ip = IpAddr::V4(i.wrapping_mul(2_654_435_761).into());
        b.add(Indicator {
            id: None,
            kind: IndicatorKind::Ipv4,
            value: IndicatorValue::Ip(ip),
            score: None,
            meta: shared.clone(),
        });
    }
    let set = b.build().unwrap();
    let per_v4 = set.memory_usage() / N as usize;
    assert!(per_v4 < 100, "{per_v4} bytes per IPv4 indicator");

    let mut b = IndicatorSetBuilder::new();
    for i in 0..N {
        let name = format!("host-{i:07}.malicious-domain.example");
        b.add(Indicator {
            id: None,
            kind: IndicatorKind::Domain,
            value: IndicatorValue::Domain {
                name,
                subdomains: i % 3 == 0,
            },
            score: None,
            meta: shared.clone(),
        });
    }
    let set = b.build().unwrap();
    let per_domain = set.memory_usage() / N as usize;
    assert!(per_domain < 200, "{per_domain} bytes per domain");
    eprintln!("memory_usage: {per_v4} B/IPv4, {per_domain} B/domain at {N}");
    let mut out = Vec::new();
    set.match_domain("www.host-0000003.malicious-domain.example", NOW, &mut out);
    assert_eq!(out.len(), 1);
}
