//! Tests of the JA3 list and JA4+ mapping loaders: named cases, line accounting, content
//! detection, and the corpus files (`ja3-lists/`, `ja4/ja4plus-mapping.csv`).

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use crate::formats::{Format, FormatError, LoadOptions, load_ja3, load_ja4, load_path};
use crate::matcher::{IndicatorSet, IndicatorSetBuilder};
use crate::model::{IndicatorKind, IndicatorMeta};
use crate::report::LoadReport;

fn opts() -> LoadOptions {
    let meta = IndicatorMeta {
        source: "test".into(),
        set: "default".into(),
        ..Default::default()
    };
    LoadOptions {
        now: 1_700_000_000,
        ..LoadOptions::new(Arc::new(meta))
    }
}

type Loader =
    fn(Cursor<Vec<u8>>, &LoadOptions, &mut IndicatorSetBuilder) -> Result<LoadReport, FormatError>;

fn load(loader: Loader, input: &str, opts: &LoadOptions) -> (LoadReport, IndicatorSet) {
    let mut builder = IndicatorSetBuilder::new();
    let report = loader(Cursor::new(input.as_bytes().to_vec()), opts, &mut builder).unwrap();
    (report, builder.build().unwrap())
}

/// `kind value [tags]` of every indicator.
fn contents(set: &IndicatorSet) -> Vec<String> {
    set.iter()
        .map(|r| {
            let tags: Vec<&str> = r.meta().tags.iter().map(|t| &**t).collect();
            format!("{} {} {tags:?}", r.kind(), r.value())
        })
        .collect()
}

fn has(set: &IndicatorSet, kind: IndicatorKind, value: &str) -> bool {
    let mut out = Vec::new();
    set.match_text(kind, value, 1_700_000_000, &mut out);
    !out.is_empty()
}

const JA3_SAMPLE: &str = "\"Copyright (c) 2017 salesforce.com inc.\r
All rights reserved.\r
For full license text see LICENSE.txt\",\r
61D50E7771AEE7F2F4B89A7200B4D45E,\"AcroCEF\"\r
eb149984fc9c44d85ed7f12c90d818be,\"Amazon Music,Dreamweaver, Spotify\"\r
\r
# a comment\r
61d50e7771aee7f2f4b89a7200b4d45e,\"AcroCEF again\"\r
nothex,\"Broken\"\r
49a6cf42956937669a01438f26e7c609\r
\"unterminated,\r
";

#[test]
fn ja3_list_cases() {
    let (report, set) = load(load_ja3, JA3_SAMPLE, &opts());
    assert_eq!(
        contents(&set),
        [
            "ja3 61d50e7771aee7f2f4b89a7200b4d45e [\"application=AcroCEF\"]",
            "ja3 eb149984fc9c44d85ed7f12c90d818be [\"application=Amazon Music\", \
             \"application=Dreamweaver\", \"application=Spotify\"]",
            "ja3 49a6cf42956937669a01438f26e7c609 []",
        ]
    );
    assert_eq!(report.accepted, 3);
    assert_eq!(report.duplicates, 1);
    let lines: Vec<usize> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [9, 11], "{report:?}");
    // Every record is accounted for: notice, blank and comment aside.
    assert_eq!(report.lines_accounted(), 6);
}

#[test]
fn ja3_list_as_ja3s() {
    let o = LoadOptions {
        plain_kind: Some(IndicatorKind::Ja3s),
        ..opts()
    };
    let (_, set) = load(
        load_ja3,
        "5d79edf64e03689ff559a54e9d9487bc,\"server\"\n",
        &o,
    );
    assert!(has(
        &set,
        IndicatorKind::Ja3s,
        "5d79edf64e03689ff559a54e9d9487bc"
    ));
    assert!(!has(
        &set,
        IndicatorKind::Ja3,
        "5d79edf64e03689ff559a54e9d9487bc"
    ));
}

const JA4_SAMPLE: &str = "Application,Library,Device,OS,ja4,ja4s,ja4h,ja4x,ja4t,ja4tscan,Notes
,Python,,,t13i181000_85036bcba153_d41ae481755e,,,,,,
Chromium Browser,,,,T13D1516H2_8daaf6152771_02713d6af862,,,,,,
Sliver Agent,GoLang,,,t13d190900_9dc949149365_97f8aa674fd9,t130200_1301_a56c5b993250,,,,,
Sliver/Havoc C2 Server,,,,,,,000000000000_4f24da86fad6_bf0f0589fc03,,,
\"Cobalt Strike, quoted\",,,Windows 10,t12i190700_d83cc789557e_16bbda4055b2,,,,,,over wininet
,Python,,,t13i181000_85036bcba153_d41ae481755e,,,,,,
Bad,,,,not-a-ja4,,,,,,
,,,,,,,,,,
";

#[test]
fn ja4_mapping_cases() {
    let (report, set) = load(load_ja4, JA4_SAMPLE, &opts());
    assert_eq!(
        contents(&set),
        [
            "ja4 t13i181000_85036bcba153_d41ae481755e [\"library=Python\"]",
            "ja4 t13d1516h2_8daaf6152771_02713d6af862 [\"application=Chromium Browser\"]",
            "ja4 t13d190900_9dc949149365_97f8aa674fd9 [\"application=Sliver Agent\", \
             \"library=GoLang\"]",
            "ja4 t12i190700_d83cc789557e_16bbda4055b2 [\"application=Cobalt Strike, quoted\", \
             \"os=Windows 10\", \"notes=over wininet\"]",
        ]
    );
    assert_eq!(report.accepted, 4);
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.unsupported_total, 1);
    assert_eq!(report.unsupported[0].line, 5);
    assert_eq!(report.rejected_total, 1);
    assert_eq!(report.rejected[0].line, 8);
    // Header and the all-empty row aside, every line is accounted for.
    assert_eq!(report.lines_accounted(), 7);
    // The licence-restricted columns are never loaded.
    assert!(!has(&set, IndicatorKind::Ja4, "t130200_1301_a56c5b993250"));
}

#[test]
fn ja4_mapping_needs_a_header() {
    let mut builder = IndicatorSetBuilder::new();
    let err = load_ja4(
        Cursor::new(b"t13d1516h2_8daaf6152771_02713d6af862\n".to_vec()),
        &opts(),
        &mut builder,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::NotThisFormat {
                format: Format::Ja4,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn format_names() {
    assert_eq!(Format::from_name("ja3"), Some(Format::Ja3));
    assert_eq!(Format::from_name("JA4"), Some(Format::Ja4));
    assert_eq!(Format::Ja3.as_str(), "ja3");
    assert_eq!(Format::Ja4.as_str(), "ja4");
}

#[test]
fn content_detection() {
    let dir = std::env::temp_dir().join(format!("kordon-ja-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ja3 = dir.join("ja3.csv");
    let ja4 = dir.join("mapping.csv");
    let datarep = dir.join("rep.csv");
    std::fs::write(&ja3, JA3_SAMPLE).unwrap();
    std::fs::write(&ja4, JA4_SAMPLE).unwrap();
    std::fs::write(&datarep, "61d50e7771aee7f2f4b89a7200b4d45e,10\n").unwrap();
    for (path, kind) in [(&ja3, IndicatorKind::Ja3), (&ja4, IndicatorKind::Ja4)] {
        let mut builder = IndicatorSetBuilder::new();
        let report = load_path(path, &opts(), &mut builder).unwrap();
        assert!(
            report.per_kind.get(&kind).copied().unwrap_or(0) >= 3,
            "{report}"
        );
    }
    let mut builder = IndicatorSetBuilder::new();
    let report = load_path(&datarep, &opts(), &mut builder).unwrap();
    assert_eq!(
        report.per_kind.get(&IndicatorKind::Md5),
        Some(&1),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
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
        println!(
            "skipping: corpus not found at {} (set KORDON_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Counts the records of a CSV file independently of the loader: lines that start a record
/// (outside a quoted field), with the number of fields of each.
fn csv_records(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, line) in text.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        } else {
            current.push('\n');
        }
        current.push_str(line);
        if current.matches('"').count().is_multiple_of(2) {
            let fields = current
                .split(',')
                .map(|f| f.trim_matches('"').to_owned())
                .collect();
            out.push((start, fields));
            current.clear();
        }
    }
    out
}

#[test]
fn corpus_salesforce_ja3_list() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("ja3-lists/lists/osx-nix-ja3.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let records = csv_records(&text);
    let hashes: Vec<String> = records
        .iter()
        .filter_map(|(_, f)| f.first())
        .filter(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .cloned()
        .collect();
    let distinct: std::collections::BTreeSet<&String> = hashes.iter().collect();
    // The notice record is the only one without a fingerprint.
    assert_eq!(hashes.len() + 1, records.len());
    let mut builder = IndicatorSetBuilder::new();
    let report = load_path(&path, &opts(), &mut builder).unwrap();
    let set = builder.build().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.accepted, distinct.len(), "{report}");
    assert_eq!(
        report.accepted + report.duplicates,
        hashes.len(),
        "{report}"
    );
    for hash in &hashes {
        assert!(has(&set, IndicatorKind::Ja3, hash), "{hash} does not match");
    }
    // Applications become tags.
    let mut out = Vec::new();
    set.match_text(
        IndicatorKind::Ja3,
        "eb149984fc9c44d85ed7f12c90d818be",
        1_700_000_000,
        &mut out,
    );
    let tags: Vec<String> = set
        .get(out[0])
        .meta()
        .tags
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        tags,
        [
            "application=Amazon Music",
            "application=Dreamweaver",
            "application=Spotify"
        ]
    );
}

#[test]
fn corpus_foxio_ja4_mapping() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("ja4/ja4plus-mapping.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let records = csv_records(&text);
    let (header, rows) = records.split_first().unwrap();
    let col = |name: &str| {
        header
            .1
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .unwrap()
    };
    let ja4 = col("ja4");
    let with_ja4: Vec<&String> = rows
        .iter()
        .filter_map(|(_, f)| f.get(ja4))
        .filter(|v| !v.trim().is_empty())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = with_ja4.iter().copied().collect();
    let others = rows
        .iter()
        .filter(|(_, f)| f.get(ja4).is_none_or(|v| v.trim().is_empty()))
        .count();
    let mut builder = IndicatorSetBuilder::new();
    let report = load_path(&path, &opts(), &mut builder).unwrap();
    let set = builder.build().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.accepted, distinct.len(), "{report}");
    assert_eq!(
        report.accepted + report.duplicates,
        with_ja4.len(),
        "{report}"
    );
    assert_eq!(report.unsupported_total, others, "{report}");
    assert_eq!(report.lines_accounted(), rows.len());
    assert_eq!(set.len(), set.count_of(IndicatorKind::Ja4));
    for value in distinct {
        assert!(
            has(&set, IndicatorKind::Ja4, value),
            "{value} does not match"
        );
    }
}
