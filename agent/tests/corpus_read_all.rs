//! Every capture file anywhere in the reference corpus is read by `kordon-agent` without a crash.
//!
//! Captures are found by magic number, not by name (some `.pcap` files are pcapng and the other
//! way round, and one is named `.pcap_`); gzip files are decompressed with `gzip -dc` into a
//! scratch directory and kept when their content is a capture. The agent runs once per directory
//! with that directory's captures. It must exit 0, or 1 when it reported a file as unreadable;
//! any other status or a signal fails. Each file must appear in the stats' `capture.files` with a
//! packet count or an error string.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Magic, Scratch, corpus_or_skip, file_magic, run_agent, walk_files};
use serde_json::Value;

/// A capture to read: the path given to the agent and the corpus file it came from.
struct Capture {
    read: PathBuf,
    origin: PathBuf,
}

/// Finds the corpus' captures; gzip-compressed ones are decompressed into `scratch`.
fn find_captures(corpus: &Path, scratch: &Scratch) -> Vec<Capture> {
    let mut out = Vec::new();
    for (n, path) in walk_files(corpus).into_iter().enumerate() {
        match file_magic(&path) {
            Some(Magic::Pcap | Magic::PcapNg) => out.push(Capture {
                read: path.clone(),
                origin: path,
            }),
            Some(Magic::Gzip) => {
                let stem = path
                    .file_name()
                    .map(|s| s.to_string_lossy().trim_end_matches(".gz").to_string())
                    .unwrap_or_default();
                let target = scratch.join(&format!("{n}-{stem}"));
                let file = std::fs::File::create(&target).expect("create decompressed file");
                let status = Command::new("gzip")
                    .arg("-dc")
                    .arg(&path)
                    .stdout(file)
                    .status()
                    .unwrap_or_else(|e| panic!("running gzip -dc {}: {e}", path.display()));
                assert!(
                    status.success(),
                    "gzip -dc {} failed: {status}",
                    path.display()
                );
                if matches!(file_magic(&target), Some(Magic::Pcap | Magic::PcapNg)) {
                    out.push(Capture {
                        read: target,
                        origin: path,
                    });
                } else {
                    let _ = std::fs::remove_file(&target);
                }
            }
            None => {}
        }
    }
    out
}

/// What reading the corpus gave: per capture its packet count or error, plus harness failures.
struct Outcome {
    captures: Vec<Capture>,
    /// Index into `captures` → packets read, or the agent's error for the file.
    results: BTreeMap<usize, Result<u64, String>>,
    failures: Vec<String>,
    directories: usize,
}

/// Reads every capture of the corpus, one agent run per directory of captures.
fn read_corpus(corpus: &Path, scratch: &Scratch) -> Outcome {
    let captures = find_captures(corpus, scratch);
    assert!(
        !captures.is_empty(),
        "no capture files found under {}",
        corpus.display()
    );
    let mut batches: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, capture) in captures.iter().enumerate() {
        let dir = capture
            .read
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        batches.entry(dir).or_default().push(i);
    }

    let mut results = BTreeMap::new();
    let mut failures = Vec::new();
    for (n, (dir, batch)) in batches.iter().enumerate() {
        let mut args: Vec<OsString> = vec!["--read".into()];
        args.extend(
            batch
                .iter()
                .map(|&i| captures[i].read.as_os_str().to_owned()),
        );
        let run = run_agent(scratch, &format!("batch{n}"), dir, &args);
        let names: Vec<String> = batch
            .iter()
            .map(|&i| captures[i].origin.display().to_string())
            .collect();
        if let Some(signal) = run.status.signal() {
            failures.push(format!(
                "kordon-agent killed by signal {signal} reading {names:?}; stderr:\n{}",
                run.stderr
            ));
            continue;
        }
        let code = run.status.code().unwrap_or(-1);
        if code != 0 && code != 1 {
            failures.push(format!(
                "kordon-agent exited with {code} reading {names:?}; stderr:\n{}",
                run.stderr
            ));
            continue;
        }
        let Some(stats) = &run.stats else {
            failures.push(format!("no stats JSON after reading {names:?}"));
            continue;
        };
        let files = stats["capture"]["files"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut errors = 0;
        for &i in batch {
            let capture = &captures[i];
            let entry = files
                .iter()
                .find(|f| f["path"].as_str().map(Path::new) == Some(capture.read.as_path()));
            let Some(entry) = entry else {
                failures.push(format!(
                    "{}: not in the stats' capture.files",
                    capture.origin.display()
                ));
                continue;
            };
            match (&entry["packets"], &entry["error"]) {
                (_, Value::String(error)) => {
                    errors += 1;
                    results.insert(i, Err(error.clone()));
                }
                (Value::Number(packets), Value::Null) => {
                    results.insert(i, Ok(packets.as_u64().unwrap_or(0)));
                }
                _ => failures.push(format!(
                    "{}: capture.files entry has neither a packet count nor an error: {entry}",
                    capture.origin.display()
                )),
            }
        }
        if (code == 1) != (errors > 0) {
            failures.push(format!(
                "exit status {code} but {errors} file(s) reported unreadable in {names:?}"
            ));
        }
    }
    Outcome {
        captures,
        results,
        failures,
        directories: batches.len(),
    }
}

#[test]
fn every_corpus_capture_is_read_without_a_crash() {
    let Some(corpus) = corpus_or_skip("corpus_read_all") else {
        return;
    };
    let scratch = Scratch::new("corpus-read-all");
    let outcome = read_corpus(&corpus, &scratch);
    let packets: u64 = outcome
        .results
        .values()
        .filter_map(|r| r.as_ref().ok())
        .sum();
    let unreadable: Vec<String> = outcome
        .results
        .iter()
        .filter_map(|(&i, r)| {
            let error = r.as_ref().err()?;
            Some(format!("{}: {error}", outcome.captures[i].origin.display()))
        })
        .collect();
    println!(
        "corpus_read_all: {} capture files in {} directories, {packets} packets, {} unreadable",
        outcome.captures.len(),
        outcome.directories,
        unreadable.len()
    );
    for line in &unreadable {
        println!("  unreadable: {line}");
    }
    assert!(
        outcome.failures.is_empty(),
        "{}",
        outcome.failures.join("\n")
    );
    assert!(packets > 0, "no packets read from the corpus");
}

/// Link types the corpus README lists as occurring in the corpus captures (file header values):
/// BSD loopback, Ethernet, PPP, raw IP (101, 228), Cisco HDLC, Linux SLL, PPI.
const LISTED_LINK_TYPES: &[u32] = &[0, 1, 9, 101, 104, 113, 192, 228];

/// The link types a capture's header declares: the pcap header's, or every pcapng interface's.
fn declared_link_types(path: &Path) -> Vec<u32> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let u32_at = |at: usize, le: bool| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    match file_magic(path) {
        Some(Magic::Pcap) => {
            let le = bytes[0] == 0xd4 || bytes[0] == 0x4d;
            // Low 16 bits: link type; the high bits may carry FCS information.
            u32_at(20, le).map(|l| vec![l & 0xffff]).unwrap_or_default()
        }
        Some(Magic::PcapNg) => {
            let mut out = Vec::new();
            let mut le = true;
            let mut at = 0;
            while let (Some(kind_le), Some(_)) = (u32_at(at, true), u32_at(at + 4, true)) {
                if kind_le == 0x0a0d_0d0a {
                    // Section header: the byte-order magic decides the section's endianness.
                    le = u32_at(at + 8, true) == Some(0x1a2b_3c4d);
                }
                let (Some(kind), Some(len)) = (u32_at(at, le), u32_at(at + 4, le)) else {
                    break;
                };
                if kind == 1
                    && let Some(link) = u32_at(at + 8, le)
                {
                    out.push(if le { link & 0xffff } else { link >> 16 });
                }
                if len < 12 {
                    break;
                }
                at += len as usize;
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Stricter: a capture whose header declares only link types the corpus README lists must not be
/// rejected as an unsupported link type.
#[test]
fn listed_link_types_are_not_rejected() {
    let Some(corpus) = corpus_or_skip("corpus_read_all listed link types") else {
        return;
    };
    let scratch = Scratch::new("corpus-read-all-links");
    let outcome = read_corpus(&corpus, &scratch);
    let mut failures = outcome.failures.clone();
    for (&i, result) in &outcome.results {
        let capture = &outcome.captures[i];
        let declared = declared_link_types(&capture.read);
        let listed = !declared.is_empty() && declared.iter().all(|l| LISTED_LINK_TYPES.contains(l));
        if let Err(error) = result
            && listed
            && error.contains("link type")
        {
            failures.push(format!(
                "{}: header link type(s) {declared:?} rejected: {error}",
                capture.origin.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
