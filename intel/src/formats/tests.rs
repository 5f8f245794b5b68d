//! Loader tests: named cases per format, line accounting, and the corpus in `../shared/corpus`.

use std::collections::HashSet;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::matcher::IndicatorSet;
use crate::report::MAX_STORED_REASONS;

const NOW: i64 = 1_700_000_000;

fn opts() -> LoadOptions {
    let meta = IndicatorMeta {
        source: "test".into(),
        set: "default".into(),
        ..Default::default()
    };
    // These cases use documentation and private addresses on purpose; the load-time allowlist
    // (on by default) has its own tests in `allowlist.rs` and `misp`/`stix` tests.
    LoadOptions {
        now: NOW,
        allowlist: None,
        ..LoadOptions::new(Arc::new(meta))
    }
}

type Loader =
    fn(Cursor<Vec<u8>>, &LoadOptions, &mut IndicatorSetBuilder) -> Result<LoadReport, FormatError>;

fn load(loader: Loader, input: &[u8], opts: &LoadOptions) -> (LoadReport, IndicatorSet) {
    let mut builder = IndicatorSetBuilder::new();
    let report = loader(Cursor::new(input.to_vec()), opts, &mut builder).unwrap();
    (report, builder.build().unwrap())
}

/// `kind value` of every indicator in a set, in insertion order.
fn contents(set: &IndicatorSet) -> Vec<String> {
    set.iter()
        .map(|r| format!("{} {}", r.kind(), r.value()))
        .collect()
}

fn rejected_lines(report: &LoadReport) -> Vec<usize> {
    report.rejected.iter().map(|r| r.line).collect()
}

struct PlainCase {
    name: &'static str,
    line: &'static str,
    forced: Option<IndicatorKind>,
    /// `Ok("kind value")` or `Err(reason substring)`.
    expect: Result<&'static str, &'static str>,
}

const PLAIN_CASES: &[PlainCase] = &[
    PlainCase {
        name: "ipv4",
        line: "192.0.2.1",
        forced: None,
        expect: Ok("ipv4 192.0.2.1"),
    },
    PlainCase {
        name: "ipv6",
        line: "2001:DB8::1",
        forced: None,
        expect: Ok("ipv6 2001:db8::1"),
    },
    PlainCase {
        name: "cidr_host_bits",
        line: "10.1.2.3/8",
        forced: None,
        expect: Ok("cidr 10.0.0.0/8"),
    },
    PlainCase {
        name: "cidr_32_is_exact",
        line: "10.1.2.3/32",
        forced: None,
        expect: Ok("ipv4 10.1.2.3"),
    },
    PlainCase {
        name: "cidr_128_is_exact",
        line: "2001:db8::1/128",
        forced: None,
        expect: Ok("ipv6 2001:db8::1"),
    },
    PlainCase {
        name: "cidr_v6",
        line: "2001:db8::/32",
        forced: None,
        expect: Ok("cidr 2001:db8::/32"),
    },
    PlainCase {
        name: "url_scheme",
        line: "https://Evil.example/x?y",
        forced: None,
        expect: Ok("url evil.example/x?y"),
    },
    PlainCase {
        name: "url_host_path",
        line: "evil.example/gate.php",
        forced: None,
        expect: Ok("url evil.example/gate.php"),
    },
    PlainCase {
        name: "url_ip_port_path",
        line: "192.0.2.1:8080/a",
        forced: None,
        expect: Ok("url 192.0.2.1:8080/a"),
    },
    PlainCase {
        name: "ja4",
        line: "t13d1516h2_8daaf6152771_02713d6af862",
        forced: None,
        expect: Ok("ja4 t13d1516h2_8daaf6152771_02713d6af862"),
    },
    PlainCase {
        name: "md5_ambiguous",
        line: "e7d705a3286e19ea42f587b344ee6865",
        forced: None,
        expect: Err("ambiguous"),
    },
    PlainCase {
        name: "ja3_forced",
        line: "E7D705A3286E19EA42F587B344EE6865",
        forced: Some(IndicatorKind::Ja3),
        expect: Ok("ja3 e7d705a3286e19ea42f587b344ee6865"),
    },
    PlainCase {
        name: "ja3_forced_bad",
        line: "e7d705a3",
        forced: Some(IndicatorKind::Ja3),
        expect: Err("32 hex"),
    },
    PlainCase {
        name: "domain",
        line: "Evil.Example.",
        forced: None,
        expect: Ok("domain evil.example"),
    },
    PlainCase {
        name: "domain_wild",
        line: "*.evil.example",
        forced: None,
        expect: Ok("domain *.evil.example"),
    },
    PlainCase {
        name: "wild_tld",
        line: "*.tk",
        forced: None,
        expect: Ok("domain *.tk"),
    },
    PlainCase {
        name: "single_label",
        line: "Install",
        forced: None,
        expect: Err("single label"),
    },
    PlainCase {
        name: "bad_ip_like",
        line: "1.2.3.400",
        forced: None,
        expect: Err("malformed IP"),
    },
    PlainCase {
        name: "garbage",
        line: "not a value!",
        forced: None,
        expect: Err("not an IP address, network, URL"),
    },
    PlainCase {
        name: "trailing_comment",
        line: "192.0.2.7 # c2 server",
        forced: None,
        expect: Ok("ipv4 192.0.2.7"),
    },
    PlainCase {
        name: "url_fragment_kept_then_dropped",
        line: "http://x.example/#a",
        forced: None,
        expect: Ok("url x.example/"),
    },
    PlainCase {
        name: "forced_ipv4_rejects_v6",
        line: "::1",
        forced: Some(IndicatorKind::Ipv4),
        expect: Err("not an ipv4"),
    },
    PlainCase {
        name: "forced_cidr_accepts_address",
        line: "192.0.2.1",
        forced: Some(IndicatorKind::Cidr),
        expect: Ok("ipv4 192.0.2.1"),
    },
    PlainCase {
        name: "forced_user_agent",
        line: "Mozilla/5.0 (evil)",
        forced: Some(IndicatorKind::UserAgent),
        expect: Ok("user_agent Mozilla/5.0 (evil)"),
    },
    PlainCase {
        name: "forced_sha256",
        line: "d4c9d9027326271a89ce51fcaf328ed673f17be33469ff979e8ab8dd501e664f",
        forced: Some(IndicatorKind::Sha256),
        expect: Ok("sha256 d4c9d9027326271a89ce51fcaf328ed673f17be33469ff979e8ab8dd501e664f"),
    },
    PlainCase {
        name: "forced_domain_rejects_url",
        line: "evil.example/x",
        forced: Some(IndicatorKind::Domain),
        expect: Err("bad domain"),
    },
];

#[test]
fn case_names_are_unique() {
    let mut seen = HashSet::new();
    for case in PLAIN_CASES {
        assert!(seen.insert(case.name), "duplicate case name {}", case.name);
    }
}

#[test]
fn plain_cases() {
    let mut failures = Vec::new();
    for case in PLAIN_CASES {
        let opts = LoadOptions {
            plain_kind: case.forced,
            ..opts()
        };
        let (report, set) = load(load_plain, case.line.as_bytes(), &opts);
        let got: Result<String, String> = match (contents(&set).first(), report.rejected.first()) {
            (Some(c), None) => Ok(c.clone()),
            (None, Some(r)) => Err(r.reason.clone()),
            _ => Err(format!("unexpected report {report:?}")),
        };
        let ok = match (&got, case.expect) {
            (Ok(g), Ok(want)) => g == want,
            (Err(g), Err(want)) => g.contains(want),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: {:?} → {got:?}, expected {:?}",
                case.name, case.line, case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn plain_file_accounts_for_every_line() {
    let input = b"\xef\xbb\xbf# a comment\r\n192.0.2.1\r\n\r\n  \nevil.example\n192.0.2.1\nbad value here\n\xff\xfe\n*.ok.example # trailing\n";
    let (report, set) = load(load_plain, input, &opts());
    assert_eq!(report.accepted, 3, "{report:?}");
    assert_eq!(report.duplicates, 1);
    assert_eq!(rejected_lines(&report), [7, 8]);
    assert!(report.rejected[1].reason.contains("UTF-8"));
    assert_eq!(report.per_kind.get(&IndicatorKind::Domain), Some(&2));
    assert_eq!(set.len(), 3);
}

#[test]
fn overlong_line_is_rejected_and_reading_continues() {
    let mut input = b"192.0.2.1\n".to_vec();
    input.extend(std::iter::repeat_n(b'a', MAX_LINE_BYTES + 10));
    input.extend_from_slice(b"\n192.0.2.2\n");
    input.extend(std::iter::repeat_n(b'b', MAX_LINE_BYTES));
    input.extend_from_slice(b".example\r\n198.51.100.1");
    let (report, set) = load(load_plain, &input, &opts());
    assert_eq!(rejected_lines(&report), [2, 4]);
    assert!(report.rejected[0].reason.contains("longer than"));
    assert_eq!(set.len(), 3, "{report:?}");
}

#[test]
fn expired_and_allowlisted_are_counted() {
    let expired = IndicatorMeta {
        valid_until: Some(NOW),
        ..(*opts().meta).clone()
    };
    let (report, set) = load(
        load_plain,
        b"192.0.2.1\n",
        &LoadOptions {
            meta: Arc::new(expired),
            ..opts()
        },
    );
    assert_eq!((report.expired, report.accepted, set.len()), (1, 0, 0));

    let allow = IndicatorMeta {
        allowlist: true,
        ..(*opts().meta).clone()
    };
    let (report, set) = load(
        load_plain,
        b"10.0.0.0/8\n10.0.0.0/8\n",
        &LoadOptions {
            meta: Arc::new(allow),
            ..opts()
        },
    );
    assert_eq!(
        (
            report.allowlisted,
            report.accepted,
            report.duplicates,
            set.len()
        ),
        (1, 0, 1, 1)
    );
    assert_eq!(report.lines_accounted(), 2);
}

const ZEEK: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.whitelist
1.2.3.4\tIntel::ADDR\tsource1\tbad host\t-\tF
192.168.2.0/24\tIntel::SUBNET\tsource1\tbad net\t(empty)\t-
Evil.Example\tIntel::DOMAIN\tsource2\tdga\thttp://x/1\t-
https://Evil.example/login\tIntel::URL\t-\tphish\t-\t-
e@mail.com\tIntel::EMAIL\tsource1\tphish\t-\t-
sqlmap/1.0\tIntel::SOFTWARE\tsource1\tscanner\t-\t-
0123456789abcdef0123456789ABCDEF01234567\tIntel::CERT_HASH\tsource1\tcert\t-\t-
0123456789abcdef\tIntel::CERT_HASH\tsource1\tcert\t-\t-
e7d705a3286e19ea42f587b344ee6865\tIntel::JA3\tsource1\tja3\t-\t-
10.0.0.1\tIntel::WHATEVER\tsource1\tx\t-\t-
10.0.0.2\tIntel::ADDR\tsource1
not-an-ip\tIntel::ADDR\tsource1\tx\t-\t-
8.8.8.8\tIntel::ADDR\tops\tresolver\t-\tT
1.2.3.4\tIntel::ADDR\tsource1\tagain\t-\t-
";

#[test]
fn zeek_types_tags_and_line_numbers() {
    let (report, set) = load(load_zeek, ZEEK.as_bytes(), &opts());
    assert_eq!(report.accepted, 7, "{report:#?}");
    assert_eq!(report.allowlisted, 1);
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.unsupported_total, 1);
    assert_eq!(report.unsupported[0].line, 10);
    assert_eq!(rejected_lines(&report), [13, 15, 16, 17]);
    assert!(
        report.rejected[0].reason.contains("40 (SHA-1) or 64"),
        "{:?}",
        report.rejected[0]
    );
    assert!(report.rejected[1].reason.contains("unknown indicator_type"));
    assert!(
        report.rejected[2]
            .reason
            .contains("3 columns, but #fields names 6")
    );
    assert_eq!(report.lines_accounted(), 14);
    assert_eq!(
        contents(&set),
        [
            "ipv4 1.2.3.4",
            "cidr 192.168.2.0/24",
            "domain evil.example",
            "url evil.example/login",
            "user_agent sqlmap/1.0",
            "x509_sha1 0123456789abcdef0123456789abcdef01234567",
            "ja3 e7d705a3286e19ea42f587b344ee6865",
            "ipv4 8.8.8.8",
        ]
    );
    let first = set.get(set.iter().next().unwrap().match_id());
    assert_eq!(first.meta().source.as_ref(), "source1");
    let tags: Vec<&str> = first.meta().tags.iter().map(|t| t.as_ref()).collect();
    assert_eq!(tags, ["desc=bad host"]);
    let url = set.iter().nth(3).unwrap();
    assert_eq!(
        url.meta().source.as_ref(),
        "test",
        "unset meta.source keeps the default"
    );
    let mut out = Vec::new();
    set.match_ip("8.8.8.8".parse().unwrap(), NOW, &mut out);
    assert!(out.is_empty(), "meta.whitelist=T is an allowlist entry");
}

#[test]
fn zeek_interns_shared_metadata() {
    let input = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n\
        1.2.3.4\tIntel::ADDR\tfeodo\tc2\n1.2.3.5\tIntel::ADDR\tfeodo\tc2\n1.2.3.6\tIntel::ADDR\tfeodo\tother\n";
    let (report, set) = load(load_zeek, input.as_bytes(), &opts());
    assert_eq!(report.accepted, 3);
    let ptrs: HashSet<*const IndicatorMeta> = set.iter().map(|r| r.meta() as *const _).collect();
    assert_eq!(
        ptrs.len(),
        2,
        "lines sharing (source, desc) share one metadata record"
    );
    let sources: HashSet<*const u8> = set.iter().map(|r| r.meta().source.as_ptr()).collect();
    assert_eq!(sources.len(), 1, "the source string is interned");
}

#[test]
fn zeek_header_only_and_missing_fields() {
    let (report, set) = load(
        load_zeek,
        b"#fields\tindicator\tindicator_type\tmeta.source\tmeta.do_notice\tmeta.desc\n",
        &opts(),
    );
    assert_eq!((report.lines_accounted(), set.len()), (0, 0));

    let mut builder = IndicatorSetBuilder::new();
    let err = load_zeek(
        Cursor::new(b"1.2.3.4\tIntel::ADDR\n".to_vec()),
        &opts(),
        &mut builder,
    )
    .unwrap_err();
    assert!(err.to_string().contains("before any #fields"), "{err}");
    let err = load_zeek(
        Cursor::new(b"# only a comment\n".to_vec()),
        &opts(),
        &mut builder,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no #fields"), "{err}");
    let err = load_zeek(
        Cursor::new(b"#fields\tvalue\ttype\n".to_vec()),
        &opts(),
        &mut builder,
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"indicator\""), "{err}");
}

#[test]
fn zeek_crlf_and_bom() {
    let input = b"\xef\xbb\xbf#fields\tindicator\tindicator_type\r\n1.2.3.4\tIntel::ADDR\r\nevil.example\tIntel::DOMAIN\r\n";
    let (report, _) = load(load_zeek, input, &opts());
    assert_eq!(
        (report.accepted, report.rejected_total),
        (2, 0),
        "{report:?}"
    );
}

struct DatasetCase {
    name: &'static str,
    dtype: DatasetType,
    line: &'static str,
    expect: Result<&'static str, &'static str>,
    score: Option<i32>,
}

const DATASET_CASES: &[DatasetCase] = &[
    DatasetCase {
        name: "string",
        dtype: DatasetType::String,
        line: "Y3VybC83LjQzLjA=",
        expect: Ok("string curl/7.43.0"),
        score: None,
    },
    DatasetCase {
        name: "string_bad_base64",
        dtype: DatasetType::String,
        line: "Y3VybC83Lj!QzLjA=",
        expect: Err("bad base64 encoding"),
        score: None,
    },
    DatasetCase {
        name: "string_not_utf8",
        dtype: DatasetType::String,
        line: "//79",
        expect: Err("not UTF-8"),
        score: None,
    },
    DatasetCase {
        name: "string_datarep",
        dtype: DatasetType::String,
        line: "Z29vZ2xlLmNvbQ==,255",
        expect: Ok("string google.com"),
        score: Some(255),
    },
    DatasetCase {
        name: "md5_upper",
        dtype: DatasetType::Md5,
        line: "1D5920F4B44B27A802BD77C4F0536F5A,100",
        expect: Ok("md5 1d5920f4b44b27a802bd77c4f0536f5a"),
        score: Some(100),
    },
    DatasetCase {
        name: "md5_short",
        dtype: DatasetType::Md5,
        line: "1d5920f4",
        expect: Err("32 hex"),
        score: None,
    },
    DatasetCase {
        name: "sha256",
        dtype: DatasetType::Sha256,
        line: "d4c9d9027326271a89ce51fcaf328ed673f17be33469ff979e8ab8dd501e664f",
        expect: Ok("sha256 d4c9d9027326271a89ce51fcaf328ed673f17be33469ff979e8ab8dd501e664f"),
        score: None,
    },
    DatasetCase {
        name: "ip_mapped",
        dtype: DatasetType::Ip,
        line: "::ffff:82.165.177.154",
        expect: Ok("ipv6 ::ffff:82.165.177.154"),
        score: None,
    },
    DatasetCase {
        name: "ipv4",
        dtype: DatasetType::Ipv4,
        line: "82.165.177.154",
        expect: Ok("ipv4 82.165.177.154"),
        score: None,
    },
    DatasetCase {
        name: "ipv4_rejects_v6",
        dtype: DatasetType::Ipv4,
        line: "2001:db8::1",
        expect: Err("dataset type is ipv4"),
        score: None,
    },
    DatasetCase {
        name: "ipv6_long_form",
        dtype: DatasetType::Ipv6,
        line: "0004:0005:0000:0000:0000:0000:0000:0006",
        expect: Ok("ipv6 4:5::6"),
        score: None,
    },
    DatasetCase {
        name: "ipv6_rejects_v4",
        dtype: DatasetType::Ipv6,
        line: "1.2.3.4",
        expect: Err("::ffff:1.2.3.4"),
        score: None,
    },
    DatasetCase {
        name: "bad_reputation",
        dtype: DatasetType::Ip,
        line: "1.2.3.4,high",
        expect: Err("reputation"),
        score: None,
    },
];

#[test]
fn dataset_case_names_are_unique() {
    let mut seen = HashSet::new();
    for case in DATASET_CASES {
        assert!(seen.insert(case.name), "duplicate case name {}", case.name);
    }
}

#[test]
fn dataset_cases() {
    let mut failures = Vec::new();
    for case in DATASET_CASES {
        let opts = LoadOptions {
            dataset_type: Some(case.dtype),
            ..opts()
        };
        let (report, set) = load(load_dataset, case.line.as_bytes(), &opts);
        let got = match (set.iter().next(), report.rejected.first()) {
            (Some(r), None) => Ok((format!("{} {}", r.kind(), r.value()), r.score())),
            (None, Some(r)) => Err(r.reason.clone()),
            _ => Err(format!("unexpected report {report:?}")),
        };
        let ok = match (&got, case.expect) {
            (Ok((g, score)), Ok(want)) => g == want && *score == case.score,
            (Err(g), Err(want)) => g.contains(want),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: {:?} → {got:?}, expected {:?}",
                case.name, case.line, case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dataset_needs_a_type() {
    let mut builder = IndicatorSetBuilder::new();
    let err = load_dataset(Cursor::new(b"AAAA\n".to_vec()), &opts(), &mut builder).unwrap_err();
    assert!(matches!(
        err,
        FormatError::MissingOption {
            format: Format::Dataset,
            ..
        }
    ));
}

fn categories(text: &str) -> Arc<IprepCategories> {
    let (cats, report) =
        IprepCategories::load(Cursor::new(text.as_bytes().to_vec()), "cats").unwrap();
    assert!(report.is_clean(), "{report:?}");
    Arc::new(cats)
}

#[test]
fn iprep_categories_scores_and_dedup() {
    let opts = LoadOptions {
        iprep_categories: Some(categories("1,tor,Tor exit\n2,cnc,C2\n")),
        ..opts()
    };
    let input = "#8.8.8.8,1,100\n1.2.3.4,1,100\n1.2.3.4,2,50\n1.2.3.4,1,7\n192.168.0.13/24,2,0\n10.0.0.1,9,10\n10.0.0.2,1,128\n10.0.0.3,1\n10.0.0.4/33,1,1\n";
    let (report, set) = load(load_iprep, input.as_bytes(), &opts);
    assert_eq!((report.accepted, report.duplicates), (3, 1), "{report:?}");
    assert_eq!(rejected_lines(&report), [6, 7, 8, 9]);
    assert!(report.rejected[0].reason.contains("unknown category"));
    assert!(report.rejected[1].reason.contains("between 0 and 127"));
    let mut out = Vec::new();
    set.match_ip("1.2.3.4".parse().unwrap(), NOW, &mut out);
    let got: Vec<(Option<i32>, String)> = out
        .iter()
        .map(|&id| (set.get(id).score(), set.get(id).meta().tags[0].to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(100), "iprep:tor".to_owned()),
            (Some(50), "iprep:cnc".to_owned())
        ]
    );
    out.clear();
    set.match_ip("192.168.0.99".parse().unwrap(), NOW, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(set.get(out[0]).value().to_string(), "192.168.0.0/24");

    let mut builder = IndicatorSetBuilder::new();
    let err = load_iprep(Cursor::new(Vec::new()), &super::tests::opts(), &mut builder).unwrap_err();
    assert!(matches!(
        err,
        FormatError::MissingOption {
            format: Format::Iprep,
            ..
        }
    ));
}

#[test]
fn iprep_category_file_rejections() {
    let (cats, report) = IprepCategories::load(
        Cursor::new(b"1,a,A\n0,b,B\n61,c,C\nx\n1,d,D\n2,,E\n".to_vec()),
        "cats",
    )
    .unwrap();
    assert_eq!(cats.len(), 1);
    assert_eq!(rejected_lines(&report), [2, 3, 4, 6]);
    assert_eq!(report.duplicates, 1);
    assert_eq!(cats.by_name("a").map(|c| c.id), Some(1));
}

#[test]
fn report_caps_stored_reasons_and_displays() {
    let input = "x!\n".repeat(MAX_STORED_REASONS + 5);
    let (report, _) = load(load_plain, input.as_bytes(), &opts());
    assert_eq!(report.rejected.len(), MAX_STORED_REASONS);
    assert_eq!(report.rejected_total, MAX_STORED_REASONS + 5);
    let text = report.to_string();
    assert!(
        text.starts_with(
            "test: 0 accepted, 0 duplicate, 0 allowlisted, 0 expired, 0 unsupported, 1005 rejected."
        ),
        "{text}"
    );
    assert!(text.contains("First rejection: line 1:"), "{text}");

    let mut total = LoadReport::new("dir");
    total.merge(report.clone());
    total.merge(report);
    assert_eq!(total.rejected_total, 2 * (MAX_STORED_REASONS + 5));
    assert_eq!(total.rejected.len(), MAX_STORED_REASONS);
    assert!(total.rejected[0].reason.starts_with("test: "));
}

/// A scratch directory under the target dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("kordon-intel-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_path_detects_formats_and_walks_directories() {
    let dir = Scratch::new("detect");
    dir.write(
        "a.intel",
        "#fields\tindicator\tindicator_type\n1.2.3.4\tIntel::ADDR\n",
    );
    dir.write("b.rep", "Z29vZ2xlLmNvbQ==,255\n");
    dir.write("c.txt", "# list\nevil.example\n");
    dir.write(".hidden", "garbage!\n");
    let iprep = dir.write("d.list", "5.6.7.8,1,10\n");
    let meta = Arc::new(IndicatorMeta::default());
    let cats = categories("1,bad,Bad\n");
    let opts = LoadOptions {
        now: NOW,
        iprep_categories: Some(cats),
        allowlist: None,
        ..LoadOptions::new(meta)
    };
    let mut builder = IndicatorSetBuilder::new();
    let report = load_path(&dir.0, &opts, &mut builder).unwrap();
    assert_eq!(report.accepted, 4, "{report:?}");
    assert!(report.is_clean());
    let set = builder.build().unwrap();
    let kinds: Vec<String> = contents(&set);
    assert_eq!(
        kinds,
        [
            "ipv4 1.2.3.4",
            "string google.com",
            "domain evil.example",
            "ipv4 5.6.7.8"
        ]
    );
    let sources: Vec<String> = set.iter().map(|r| r.meta().source.to_string()).collect();
    assert!(
        sources[0].starts_with("zeek:") && sources[1].starts_with("dataset:"),
        "{sources:?}"
    );
    assert_eq!(set.iter().nth(1).unwrap().score(), Some(255));

    // Without categories, the iprep file fails the whole directory.
    let mut builder = IndicatorSetBuilder::new();
    let err = load_path(
        &iprep,
        &LoadOptions {
            iprep_categories: None,
            ..opts.clone()
        },
        &mut builder,
    )
    .unwrap_err();
    assert!(err.to_string().contains("categories"), "{err}");

    // An explicit format wins over detection.
    let forced = dir.write("e.csv", "curl/7.43.0\n");
    let mut builder = IndicatorSetBuilder::new();
    let o = LoadOptions {
        format: Some(Format::Plain),
        plain_kind: Some(IndicatorKind::UserAgent),
        ..opts
    };
    let report = load_path(&forced, &o, &mut builder).unwrap();
    assert_eq!(report.per_kind.get(&IndicatorKind::UserAgent), Some(&1));
}

// ---- corpus ----

/// The shared corpus, or `None` (after saying why) when it is not on this machine.
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

fn load_file_with(path: &Path, loader: Loader, opts: &LoadOptions) -> (LoadReport, IndicatorSet) {
    let bytes = std::fs::read(path).unwrap();
    load(loader, &bytes, opts)
}

#[test]
fn corpus_zeek_cps_feeds_account_for_every_line() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("intel-zeek-cps");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "intel"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let data_lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        let (report, set) = load_file_with(&file, load_zeek, &opts());
        let accounted =
            report.accepted + report.duplicates + report.rejected_total + report.unsupported_total;
        assert_eq!(accounted, data_lines, "{}: {report}", file.display());
        assert_eq!(report.lines_accounted(), data_lines);
        assert_eq!(set.len(), report.accepted);
        eprintln!("{}: {report}", file.display());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        match name.as_str() {
            "abuse-ja3-fingerprints.intel" => assert_eq!(data_lines, 0),
            "abuse-ch-malware.intel" => assert_eq!(report.unsupported_total, data_lines),
            "openphish.intel" => {
                assert!(report.accepted > 250, "{report}");
                assert!(set.iter().all(|r| !r.value().to_string().contains("://")));
                assert_eq!(
                    set.iter().next().unwrap().value().to_string(),
                    "api.msuto.com/"
                );
            }
            "doh-domains.intel" => {
                assert!(report.accepted > 1000, "{report}");
                let mut out = Vec::new();
                set.match_domain("0ms.dev", NOW, &mut out);
                assert_eq!(out.len(), 1);
            }
            _ => assert!(report.accepted > 0, "{report}"),
        }
    }
}

#[test]
fn corpus_zeek_btest_inputs() {
    let Some(corpus) = corpus() else { return };
    let load_one = |name: &str| {
        load_file_with(
            &corpus.join("zeek/inline").join(name).join("intel.dat"),
            load_zeek,
            &opts(),
        )
    };
    let (report, set) = load_one("scripts.base.frameworks.intel.input-and-match");
    assert_eq!(
        (report.accepted, report.duplicates, report.unsupported_total),
        (1, 1, 1),
        "{report}"
    );
    assert_eq!(
        set.get(set.iter().next().unwrap().match_id())
            .meta()
            .source
            .as_ref(),
        "source1"
    );

    let (report, set) = load_one("scripts.base.frameworks.intel.match-subnet");
    assert_eq!((report.accepted, report.rejected_total), (6, 0), "{report}");
    let mut out = Vec::new();
    set.match_ip("192.168.142.1".parse().unwrap(), NOW, &mut out);
    let got: Vec<String> = out
        .iter()
        .map(|&id| set.get(id).value().to_string())
        .collect();
    assert_eq!(got, ["192.168.142.1", "192.168.142.0/26"]);

    let (report, _) = load_one("scripts.base.frameworks.intel.filter-item");
    assert_eq!((report.accepted, report.rejected_total), (2, 0), "{report}");
}

#[test]
fn corpus_iprep_loads_without_rejections() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("suricata-verify/tests/issue-4280-iprep");
    let (cats, cat_report) =
        IprepCategories::load_path(&dir.join("scirius-categories.txt")).unwrap();
    assert!(cat_report.is_clean(), "{cat_report}");
    assert_eq!(cats.len(), 10);
    let opts = LoadOptions {
        iprep_categories: Some(Arc::new(cats)),
        ..opts()
    };
    let path = dir.join("scirius-iprep.list");
    let text = std::fs::read_to_string(&path).unwrap();
    let data_lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    let (report, set) = load_file_with(&path, load_iprep, &opts);
    eprintln!("{report}");
    assert_eq!(report.rejected_total, 0, "{report}");
    assert_eq!(report.lines_accounted(), data_lines);
    assert!(data_lines > 27_000);
    assert_eq!(set.len(), report.accepted);
    let mut out = Vec::new();
    set.match_ip("4.4.4.4".parse().unwrap(), NOW, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(set.get(out[0]).score(), Some(100));
    assert_eq!(
        set.get(out[0]).meta().tags.last().map(|t| t.to_string()),
        Some("iprep:2402000".to_owned())
    );
}

#[test]
fn corpus_suricata_datasets() {
    let Some(corpus) = corpus() else { return };
    let tests = corpus.join("suricata-verify/tests");
    let string = LoadOptions {
        dataset_type: Some(DatasetType::String),
        ..opts()
    };
    let (report, set) = load_file_with(
        &tests.join("datasets-invalid-encoding/datasets.csv"),
        load_dataset,
        &string,
    );
    assert_eq!(
        (report.accepted, rejected_lines(&report)),
        (0, vec![1]),
        "{report}"
    );
    assert!(report.rejected[0].reason.contains("bad base64 encoding"));
    assert!(set.is_empty());

    let (report, set) = load_file_with(
        &tests.join("datasets-02-load/datasets.csv"),
        load_dataset,
        &string,
    );
    assert_eq!(report.accepted, 1, "{report}");
    let mut out = Vec::new();
    set.match_text(IndicatorKind::String, "curl/7.43.0", NOW, &mut out);
    assert_eq!(out.len(), 1);

    let ip = LoadOptions {
        dataset_type: Some(DatasetType::Ip),
        ..opts()
    };
    let (report, set) = load_file_with(
        &tests.join("datasets-09-load/datasets-ip.csv"),
        load_dataset,
        &ip,
    );
    assert_eq!(report.accepted, 1, "{report}");
    out.clear();
    set.match_ip("82.165.177.154".parse().unwrap(), NOW, &mut out);
    assert_eq!(
        out.len(),
        1,
        "a mapped dataset entry matches the IPv4 address (sid 3)"
    );

    let md5 = LoadOptions {
        dataset_type: Some(DatasetType::Md5),
        ..opts()
    };
    let (report, set) = load_file_with(&tests.join("datarep-02/dns_md5.rep"), load_dataset, &md5);
    assert_eq!(report.accepted, 2, "{report}");
    assert_eq!(
        set.iter().map(|r| r.score()).collect::<Vec<_>>(),
        [Some(255), Some(100)]
    );

    let v6 = LoadOptions {
        dataset_type: Some(DatasetType::Ipv6),
        ..opts()
    };
    let (report, _) = load_file_with(
        &tests.join("datasets-08-state-ipv6/expected/state.csv"),
        load_dataset,
        &v6,
    );
    assert!(report.accepted > 0 && report.is_clean(), "{report}");
}
