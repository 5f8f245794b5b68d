//! Counters: written by their owning thread without locks, summed on read.
//!
//! Each thread counts in plain integers and publishes them once per batch with relaxed stores
//! into its own [`Published`] block; a reader (the periodic stats line, `--stats-json`, the exit
//! summary) sums the blocks. Nothing on the packet path contends on a shared cache line.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::decode::DecodeError;

/// Counters one thread owns. Field order is the publication layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets read from the capture (capture thread) or processed (workers).
    pub packets: u64,
    /// Wire bytes of those packets.
    pub bytes: u64,
    /// Packets dropped because a worker queue was full (live mode only).
    pub queue_dropped: u64,
    /// Decode failures by [`DecodeError`] kind.
    pub decode_errors: [u64; DecodeError::ALL.len()],
    /// Frames without IP (ARP, LLDP…).
    pub non_ip: u64,
    /// IP fragments (first and later); later fragments are not matched on ports.
    pub ip_fragments: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows ended by idle timeout.
    pub flows_timed_out: u64,
    /// Flows evicted because the table was full.
    pub flows_evicted: u64,
    /// Flows ended at shutdown.
    pub flows_at_shutdown: u64,
    /// Alerts emitted.
    pub alerts: u64,
    /// Matches folded into an existing alert by dedup.
    pub alerts_deduplicated: u64,
    /// Observations matched against the indicator set.
    pub observations: u64,
    /// Application-layer transactions parsed.
    pub app_transactions: u64,
    /// Application-layer anomalies (malformed or suspicious protocol data).
    pub app_anomalies: u64,
}

const HEAD: usize = 14;
const FIELDS: usize = HEAD + DecodeError::ALL.len();

impl Counters {
    fn to_array(self) -> [u64; FIELDS] {
        let mut out = [0u64; FIELDS];
        let head = [
            self.packets,
            self.bytes,
            self.queue_dropped,
            self.non_ip,
            self.ip_fragments,
            self.flows_created,
            self.flows_timed_out,
            self.flows_evicted,
            self.flows_at_shutdown,
            self.alerts,
            self.alerts_deduplicated,
            self.observations,
            self.app_transactions,
            self.app_anomalies,
        ];
        out[..HEAD].copy_from_slice(&head);
        out[HEAD..].copy_from_slice(&self.decode_errors);
        out
    }

    fn from_array(a: [u64; FIELDS]) -> Counters {
        let mut decode_errors = [0u64; DecodeError::ALL.len()];
        decode_errors.copy_from_slice(&a[HEAD..]);
        Counters {
            packets: a[0],
            bytes: a[1],
            queue_dropped: a[2],
            non_ip: a[3],
            ip_fragments: a[4],
            flows_created: a[5],
            flows_timed_out: a[6],
            flows_evicted: a[7],
            flows_at_shutdown: a[8],
            alerts: a[9],
            alerts_deduplicated: a[10],
            observations: a[11],
            app_transactions: a[12],
            app_anomalies: a[13],
            decode_errors,
        }
    }

    /// Field-wise sum.
    pub fn plus(self, other: Counters) -> Counters {
        let (a, b) = (self.to_array(), other.to_array());
        let mut sum = [0u64; FIELDS];
        for (s, (x, y)) in sum.iter_mut().zip(a.iter().zip(b.iter())) {
            *s = x + y;
        }
        Counters::from_array(sum)
    }
}

/// Per-kind counts of application-layer anomalies (`dns.pointer_loop`, `dnp3.bad_link_crc`…),
/// kept by one worker and published with its counters. The set of kinds is fixed by the parsers'
/// `&'static str` names, so the map stays small.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnomalyTally {
    counts: std::collections::BTreeMap<(&'static str, &'static str), u64>,
    dirty: bool,
}

impl AnomalyTally {
    /// Counts one anomaly of `app_proto`.
    pub fn count(&mut self, app_proto: &'static str, kind: &'static str) {
        *self.counts.entry((app_proto, kind)).or_default() += 1;
        self.dirty = true;
    }

    /// The counts as `proto.kind → n`.
    pub fn named(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        self.counts
            .iter()
            .map(|((proto, kind), n)| (format!("{proto}.{kind}"), *n))
    }
}

/// The shared, readable copy of one thread's [`Counters`].
#[derive(Debug, Default)]
pub struct Published {
    values: [AtomicU64; FIELDS],
    /// Copied under the lock only in batches where an anomaly occurred; read by reports.
    anomalies: std::sync::Mutex<AnomalyTally>,
}

impl Published {
    /// Publishes the owner's current counters (single writer, so plain stores suffice).
    pub fn publish(&self, counters: &Counters) {
        for (slot, value) in self.values.iter().zip(counters.to_array()) {
            slot.store(value, Ordering::Relaxed);
        }
    }

    /// Publishes the owner's anomaly counts if they changed since the last call.
    pub fn publish_anomalies(&self, tally: &mut AnomalyTally) {
        if tally.dirty {
            tally.dirty = false;
            *self.anomalies.lock().unwrap_or_else(|p| p.into_inner()) = tally.clone();
        }
    }

    /// The last published anomaly counts.
    pub fn read_anomalies(&self) -> AnomalyTally {
        self.anomalies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the last published counters.
    pub fn read(&self) -> Counters {
        let mut out = [0u64; FIELDS];
        for (o, slot) in out.iter_mut().zip(self.values.iter()) {
            *o = slot.load(Ordering::Relaxed);
        }
        Counters::from_array(out)
    }
}

/// The latest [`Report`], refreshed by the pipeline about once a second, for readers on other
/// threads (the uplink's heartbeats). A mutex is fine here: one writer per second, one reader
/// per heartbeat, never on the packet path.
#[derive(Debug, Default)]
pub struct LiveReport(std::sync::Mutex<Option<Report>>);

impl LiveReport {
    /// Replaces the stored report.
    pub fn set(&self, report: Report) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
    }

    /// The last stored report, if any.
    pub fn get(&self) -> Option<Report> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Kernel-side capture statistics from libpcap (live mode).
#[derive(Debug, Default)]
pub struct KernelStats {
    /// Packets the kernel delivered to the socket.
    pub received: AtomicU64,
    /// Packets the kernel dropped because the ring was full.
    pub dropped: AtomicU64,
    /// Packets the interface or driver dropped.
    pub if_dropped: AtomicU64,
}

/// One capture file's outcome, for the report.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FileReport {
    /// Path as given or found in a directory.
    pub path: String,
    /// Packets read from it.
    pub packets: u64,
    /// Why reading stopped early or never started (unsupported link type, truncation…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything the agent reports about a run, as printed and as written by `--stats-json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Packets captured.
    pub packets: u64,
    /// Wire bytes captured.
    pub bytes: u64,
    /// Alerts emitted.
    pub alerts: u64,
    /// Seconds since the run started.
    pub elapsed_secs: f64,
    /// Packets per second over the run.
    pub packets_per_sec: f64,
    /// Capture-side counters.
    pub capture: CaptureReport,
    /// Decoder counters.
    pub decode: DecodeReport,
    /// Flow counters.
    pub flows: FlowReport,
    /// Alert counters.
    pub alerting: AlertReport,
    /// The live indicator set.
    pub indicators: IndicatorReport,
}

/// Capture section of [`Report`].
#[derive(Clone, Debug, Serialize)]
pub struct CaptureReport {
    /// Packets dropped because a worker queue was full.
    pub queue_dropped: u64,
    /// Kernel receive count (live).
    pub kernel_received: u64,
    /// Kernel drops (live).
    pub kernel_dropped: u64,
    /// Interface drops (live).
    pub interface_dropped: u64,
    /// Offline files and their outcome.
    pub files: Vec<FileReport>,
}

/// Decoder section of [`Report`].
#[derive(Clone, Debug, Serialize)]
pub struct DecodeReport {
    /// Packets processed by workers.
    pub packets: u64,
    /// Failures by kind.
    pub errors: std::collections::BTreeMap<&'static str, u64>,
    /// Frames without IP.
    pub non_ip: u64,
    /// IP fragments.
    pub ip_fragments: u64,
    /// Application-layer transactions parsed.
    pub app_transactions: u64,
    /// Application-layer anomalies.
    pub app_anomalies: u64,
    /// Application-layer anomalies by `protocol.kind`.
    pub app_anomalies_by_kind: std::collections::BTreeMap<String, u64>,
}

/// Flow section of [`Report`].
#[derive(Clone, Debug, Serialize)]
pub struct FlowReport {
    /// Flows created.
    pub created: u64,
    /// Ended by idle timeout.
    pub timed_out: u64,
    /// Evicted because a table was full.
    pub evicted: u64,
    /// Ended at shutdown.
    pub at_shutdown: u64,
}

/// Alert section of [`Report`].
#[derive(Clone, Debug, Serialize)]
pub struct AlertReport {
    /// Observations matched.
    pub observations: u64,
    /// Alerts emitted.
    pub emitted: u64,
    /// Repeats folded into existing alerts.
    pub deduplicated: u64,
}

/// Indicator section of [`Report`].
#[derive(Clone, Debug, Serialize)]
pub struct IndicatorReport {
    /// Indicators in the live set.
    pub count: usize,
    /// Heap bytes of the compiled set.
    pub memory_bytes: usize,
}

impl Report {
    /// Builds the report from summed capture and worker counters.
    pub fn new(
        capture: Counters,
        workers: Counters,
        kernel: &KernelStats,
        files: Vec<FileReport>,
        elapsed_secs: f64,
        indicators: IndicatorReport,
        anomalies: &[AnomalyTally],
    ) -> Report {
        let mut app_anomalies_by_kind = std::collections::BTreeMap::new();
        for (name, n) in anomalies.iter().flat_map(AnomalyTally::named) {
            *app_anomalies_by_kind.entry(name).or_insert(0) += n;
        }
        let errors = DecodeError::ALL
            .iter()
            .map(|e| (e.as_str(), workers.decode_errors[e.index()]))
            .collect();
        Report {
            packets: capture.packets,
            bytes: capture.bytes,
            alerts: workers.alerts,
            elapsed_secs,
            packets_per_sec: if elapsed_secs > 0.0 {
                capture.packets as f64 / elapsed_secs
            } else {
                0.0
            },
            capture: CaptureReport {
                queue_dropped: capture.queue_dropped,
                kernel_received: kernel.received.load(Ordering::Relaxed),
                kernel_dropped: kernel.dropped.load(Ordering::Relaxed),
                interface_dropped: kernel.if_dropped.load(Ordering::Relaxed),
                files,
            },
            decode: DecodeReport {
                packets: workers.packets,
                errors,
                non_ip: workers.non_ip,
                ip_fragments: workers.ip_fragments,
                app_transactions: workers.app_transactions,
                app_anomalies: workers.app_anomalies,
                app_anomalies_by_kind,
            },
            flows: FlowReport {
                created: workers.flows_created,
                timed_out: workers.flows_timed_out,
                evicted: workers.flows_evicted,
                at_shutdown: workers.flows_at_shutdown,
            },
            alerting: AlertReport {
                observations: workers.observations,
                emitted: workers.alerts,
                deduplicated: workers.alerts_deduplicated,
            },
            indicators,
        }
    }

    /// A one-line human summary for periodic logging and the exit message.
    pub fn summary_line(&self) -> String {
        let decode_errors: u64 = self.decode.errors.values().sum();
        format!(
            "packets={} bytes={} pps={:.0} queue_dropped={} kernel_dropped={} if_dropped={} \
             decode_errors={} non_ip={} fragments={} flows={} alerts={} deduplicated={}",
            self.packets,
            self.bytes,
            self.packets_per_sec,
            self.capture.queue_dropped,
            self.capture.kernel_dropped,
            self.capture.interface_dropped,
            decode_errors,
            self.decode.non_ip,
            self.decode.ip_fragments,
            self.flows.created,
            self.alerts,
            self.alerting.deduplicated,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_read_and_sum_round_trip() {
        let mut a = Counters {
            packets: 3,
            alerts: 1,
            ..Counters::default()
        };
        a.decode_errors[DecodeError::IpInvalid.index()] = 2;
        let published = Published::default();
        published.publish(&a);
        assert_eq!(published.read(), a);
        let sum = a.plus(a);
        assert_eq!(sum.packets, 6);
        assert_eq!(sum.decode_errors[DecodeError::IpInvalid.index()], 4);
    }
}
