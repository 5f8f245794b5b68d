//! Reading capture files: pcap and pcapng, the format told apart by libpcap from the file's magic
//! number (never its name), several files and directories in sorted order.

use std::path::{Path, PathBuf};

use pcap::Capture;

use super::{Dispatcher, Shutdown, progress::Progress, timeval_us};
use crate::decode::LinkType;
use crate::stats::FileReport;

/// Expands the `--read` arguments: files as given, directories walked recursively with their
/// entries in sorted order (so a day's rotated captures are read chronologically).
pub fn expand_paths(inputs: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            collect_dir(input, &mut out)?;
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_dir(&entry, out)?;
        } else {
            out.push(entry);
        }
    }
    Ok(())
}

/// Reads every file into the dispatcher. A file that cannot be opened, has a link type Kordon does
/// not decode, or ends in a truncated record is reported and the next file is read.
pub fn read_files(
    paths: &[PathBuf],
    dispatcher: &mut Dispatcher,
    shutdown: &Shutdown,
) -> Vec<FileReport> {
    let total_bytes = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut progress = Progress::new(total_bytes);
    let mut reports = Vec::with_capacity(paths.len());
    for path in paths {
        if shutdown.requested() {
            break;
        }
        let report = read_file(path, dispatcher, shutdown, &mut progress);
        if let Some(error) = &report.error {
            tracing::warn!(path = %path.display(), error = %error, "capture file not fully read");
        }
        reports.push(report);
    }
    progress.finish();
    dispatcher.flush(None);
    reports
}

fn read_file(
    path: &Path,
    dispatcher: &mut Dispatcher,
    shutdown: &Shutdown,
    progress: &mut Progress,
) -> FileReport {
    let mut report = FileReport {
        path: path.display().to_string(),
        packets: 0,
        error: None,
    };
    let mut capture = match Capture::from_file(path) {
        Ok(capture) => capture,
        Err(error) => {
            report.error = Some(format!("cannot open: {error}"));
            return report;
        }
    };
    let datalink = capture.get_datalink();
    let link = LinkType::from_pcap(datalink.0);
    if !link.is_supported() {
        let name = datalink
            .get_name()
            .unwrap_or_else(|_| String::from("unknown"));
        report.error = Some(format!("unsupported link type {} ({name})", datalink.0));
        return report;
    }
    loop {
        match capture.next_packet() {
            Ok(packet) => {
                let header = packet.header;
                dispatcher.push(timeval_us(&header.ts), header.len, link, packet.data);
                progress.packet(packet.data.len());
                report.packets += 1;
                // Checking the flag every packet costs a relaxed load; cheap enough, and ^C
                // stops a multi-gigabyte read at once.
                if shutdown.requested() {
                    report.error = Some("interrupted".into());
                    break;
                }
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(error) => {
                report.error = Some(format!(
                    "read error after {} packets: {error}",
                    report.packets
                ));
                break;
            }
        }
    }
    report
}
