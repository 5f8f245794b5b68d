//! The command line: every option with its default, its unit and its validation.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use kordon_intel::allowlist::Allowlist;
use kordon_intel::{IndicatorMeta, Severity, Tlp};

use crate::applayer::AppConfig;
use crate::capture::live::LiveConfig;
use crate::feeds::FeedSpec;
use crate::flow::community_id::CommunityIdConfig;
use crate::flow::hash::FlowHashBuilder;
use crate::flow::orientation::ServicePorts;
use crate::pipeline::{EveTarget, PipelineConfig, Source};
use crate::uplink::{TlsFiles, UplinkConfig};
use crate::worker::{DedupMode, WorkerConfig};

/// Kordon sensor: match network traffic against indicator-of-compromise sets and write
/// Suricata-compatible EVE JSON alerts.
#[derive(Debug, Parser)]
#[command(name = "kordon-agent", version, about, long_about = None)]
pub struct Cli {
    /// Capture files or directories to read (pcap or pcapng, told apart by content; directories
    /// are read recursively in sorted order).
    #[arg(short = 'r', long = "read", value_name = "PATH", num_args = 1.., conflicts_with = "interface")]
    pub read: Vec<PathBuf>,

    /// Interface to capture from live (needs CAP_NET_RAW).
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interface: Option<String>,

    /// BPF filter for live capture, compiled in the kernel. Defaults to none (all traffic).
    #[arg(long, value_name = "EXPR", requires = "interface")]
    pub bpf: Option<String>,

    /// Bytes captured per packet in live mode, 64–262144.
    #[arg(long, value_name = "BYTES", default_value_t = 65535)]
    pub snaplen: u32,

    /// Kernel capture ring size in MiB for live mode, 1–4096.
    #[arg(long = "buffer-mb", value_name = "MIB", default_value_t = 64)]
    pub buffer_mb: u32,

    /// Put the interface in promiscuous mode (not needed on a dedicated tap/SPAN port that
    /// already delivers foreign traffic). Defaults to off.
    #[arg(long)]
    pub promisc: bool,

    /// Indicator files or directories: `PATH` (format detected from content), or
    /// `FORMAT[:OPTION]=PATH` with FORMAT one of plain[:KIND], zeek, dataset:TYPE
    /// (string|md5|sha256|ip|ipv4|ipv6), iprep:CATEGORIES-FILE. Defaults to none.
    #[arg(long = "indicators", value_name = "SPEC", num_args = 1..)]
    pub indicators: Vec<String>,

    /// Name of the indicator set the loaded files form (shown in alerts).
    #[arg(long = "set-name", value_name = "NAME", default_value = "default")]
    pub set_name: String,

    /// Load indicators in private ranges (10/8, 172.16/12, 192.168/16, fc00::/7), for sensors
    /// whose threats include internal hosts. Defaults to off: feeds often list private
    /// addresses by mistake, and they would fire on every internal flow.
    #[arg(long = "private-indicators")]
    pub private_indicators: bool,

    /// Own network that must never become an indicator (CIDR; repeatable), on top of the
    /// built-in allowlist (loopback, link-local, documentation, multicast ranges).
    #[arg(long = "allow-range", value_name = "CIDR")]
    pub allow_ranges: Vec<String>,

    /// Own domain that must never become an indicator, with its subdomains (repeatable).
    #[arg(long = "allow-domain", value_name = "NAME")]
    pub allow_domains: Vec<String>,

    /// Severity given to indicators whose feed does not say: low, medium, high or critical.
    #[arg(
        long = "indicator-severity",
        value_name = "LEVEL",
        default_value = "medium"
    )]
    pub indicator_severity: String,

    /// Confidence (0–100) given to indicators whose feed does not say.
    #[arg(
        long = "indicator-confidence",
        value_name = "PERCENT",
        default_value_t = 50
    )]
    pub indicator_confidence: u8,

    /// TLP marking given to indicators whose feed does not say: clear, green, amber,
    /// amber+strict or red.
    #[arg(long = "indicator-tlp", value_name = "TLP", default_value = "amber")]
    pub indicator_tlp: String,

    /// Where EVE JSON lines go: a file (appended) or `-` for standard output.
    #[arg(long, value_name = "PATH|-", default_value = "-")]
    pub eve: String,

    /// Also write one `flow` event per flow when it ends (alerted flows always get one).
    #[arg(long)]
    pub metadata: bool,

    /// Worker threads. Defaults to the number of CPUs minus one for the capture thread (min 1).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// How repeated matches are reported: `flow` = one alert per (indicator, flow, location)
    /// with the repeats counted; `none` = an alert per matching packet or event.
    #[arg(long, value_enum, default_value_t = DedupMode::Flow)]
    pub dedup: DedupMode,

    /// Seconds of inactivity after which a flow ends, 1–86400.
    #[arg(long = "flow-timeout-secs", value_name = "SECS", default_value_t = 120)]
    pub flow_timeout_secs: u64,

    /// Flows tracked at once across all workers; beyond it the least recently active flow is
    /// evicted (and counted). 1024–100000000.
    #[arg(long = "max-flows", value_name = "N", default_value_t = 1_000_000)]
    pub max_flows: u64,

    /// Batches (of up to 256 packets) queued per worker, 1–65536. Offline the reader waits when
    /// a queue is full; live, the packets are dropped and counted.
    #[arg(long = "queue-batches", value_name = "N", default_value_t = 64)]
    pub queue_batches: usize,

    /// Bytes of each TCP direction reassembled for application-layer parsing, 256–1048576.
    /// Indicators live in the first bytes (hello, request, query); beyond this depth a flow is
    /// only counted.
    #[arg(
        long = "stream-depth-bytes",
        value_name = "BYTES",
        default_value_t = 16384
    )]
    pub stream_depth_bytes: u32,

    /// Extra port for an application protocol, as PROTO:PORT (e.g. dns:5353); repeatable.
    /// Protocols are also found by content on any port, except those recognised only by port.
    #[arg(long = "app-port", value_name = "PROTO:PORT")]
    pub app_ports: Vec<String>,

    /// Community ID seed, 0–65535 (0 unless all your tools agree on another).
    #[arg(long = "community-id-seed", value_name = "SEED", default_value_t = 0)]
    pub community_id_seed: u16,

    /// Render Community IDs as hex instead of base64 (the spec's troubleshooting form).
    #[arg(long = "community-id-hex")]
    pub community_id_hex: bool,

    /// Write the final statistics as JSON to this file. Defaults to not writing them.
    #[arg(long = "stats-json", value_name = "PATH")]
    pub stats_json: Option<PathBuf>,

    /// Live mode: log a statistics line every this many seconds; 0 disables it.
    #[arg(
        long = "stats-interval-secs",
        value_name = "SECS",
        default_value_t = 60
    )]
    pub stats_interval_secs: u64,

    /// Send alerts to this collector: `https://HOST:PORT` (mutual TLS; needs --cert, --key and
    /// --ca), or `http://127.0.0.1:PORT` with --insecure-dev. Defaults to none (EVE output only).
    #[arg(long, value_name = "URL")]
    pub collector: Option<String>,

    /// Agent certificate (PEM) from `kordon-collector pki issue-agent`; its subject CN must equal
    /// --agent-id. Defaults to none.
    #[arg(long, value_name = "PATH", requires = "collector")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) of --cert. Defaults to none.
    #[arg(long, value_name = "PATH", requires = "collector")]
    pub key: Option<PathBuf>,

    /// CA certificate (PEM) that signed the collector's certificate. Defaults to none.
    #[arg(long, value_name = "PATH", requires = "collector")]
    pub ca: Option<PathBuf>,

    /// Agent id reported to the collector, 1–128 characters from A–Z a–z 0–9 . _ -.
    /// Defaults to the host name.
    #[arg(long = "agent-id", value_name = "ID", requires = "collector")]
    pub agent_id: Option<String>,

    /// Spool folder: alerts wait here until the collector acknowledges them, across collector
    /// outages and agent restarts.
    #[arg(
        long = "spool-dir",
        value_name = "DIR",
        default_value = "/var/lib/kordon-agent/spool"
    )]
    pub spool_dir: PathBuf,

    /// Spool bound in bytes, 1048576–1099511627776; when full, new alerts are refused (and
    /// counted) until the collector catches up, so the oldest undelivered alerts are kept.
    #[arg(
        long = "max-spool-bytes",
        value_name = "BYTES",
        default_value_t = 1 << 30
    )]
    pub max_spool_bytes: u64,

    /// At exit, seconds to wait for the collector to acknowledge every spooled alert, 0–3600;
    /// what remains is sent at the next start.
    #[arg(long = "drain-timeout-secs", value_name = "SECS", default_value_t = 30)]
    pub drain_timeout_secs: u64,

    /// Plaintext, unauthenticated connection to a collector on loopback started with
    /// --insecure-dev. For demos only; never in production.
    #[arg(long = "insecure-dev", requires = "collector")]
    pub insecure_dev: bool,

    /// Follow the collector's signed indicator set (`WatchIndicators`, same mTLS identity as
    /// the uplink) and hot-swap it in; merged with the local --indicators files (see
    /// agent/src/sync). Needs --collector and --bundle-key. Defaults to off.
    #[arg(long = "indicator-sync", requires_all = ["collector", "bundle_key"])]
    pub indicator_sync: bool,

    /// Name of the collector set to follow, 1–128 characters from A–Z a–z 0–9 . _ -.
    #[arg(long = "sync-set", value_name = "NAME", default_value = "default")]
    pub sync_set: String,

    /// The collector's bundle-signing public key (PEM, `pki/bundle-signing.pub`), pinned:
    /// updates not signed by it are refused. Defaults to none.
    #[arg(long = "bundle-key", value_name = "PATH")]
    pub bundle_key: Option<PathBuf>,

    /// Folder of the last good signed bundle (loaded at start when the collector is away).
    #[arg(
        long = "bundle-dir",
        value_name = "DIR",
        default_value = "/var/lib/kordon-agent/bundles"
    )]
    pub bundle_dir: PathBuf,

    /// With --indicator-sync and no bundle persisted yet, seconds to wait at start for the
    /// collector's first set before reading captures or capturing, 0–600 (0 = start at once with
    /// the local files only). Without it, a first start would match nothing from the fleet set
    /// until the first update arrives.
    #[arg(long = "sync-wait-secs", value_name = "SECS", default_value_t = 10)]
    pub sync_wait_secs: u64,

    /// Largest indicator bundle accepted from the collector, in bytes, 1048576–4294967296.
    #[arg(
        long = "max-bundle-bytes",
        value_name = "BYTES",
        default_value_t = 1 << 30
    )]
    pub max_bundle_bytes: u64,
}

/// A command-line value that fails validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid --{param}: {reason}")]
pub struct InvalidParameter {
    /// The option's name.
    pub param: &'static str,
    /// What is wrong, and what is allowed.
    pub reason: String,
}

/// Validated settings.
#[derive(Debug)]
pub struct Settings {
    /// Pipeline configuration.
    pub pipeline: PipelineConfig,
    /// Indicator files to load.
    pub indicators: Vec<FeedSpec>,
    /// Metadata for indicators whose feed does not give it (the set name included).
    pub indicator_defaults: IndicatorMeta,
    /// What must never become a live indicator.
    pub allowlist: Allowlist,
    /// Where to write final stats.
    pub stats_json: Option<PathBuf>,
    /// Collector uplink, when `--collector` is given.
    pub uplink: Option<UplinkConfig>,
    /// Indicator sync, with `--indicator-sync`.
    pub sync: Option<crate::sync::SyncConfig>,
}

fn invalid(param: &'static str, reason: impl Into<String>) -> InvalidParameter {
    InvalidParameter {
        param,
        reason: reason.into(),
    }
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    param: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<T, InvalidParameter> {
    if value < min || value > max {
        Err(invalid(param, format!("{value} is outside {min}–{max}")))
    } else {
        Ok(value)
    }
}

/// The service ports flows are oriented by: every parsed protocol's ports, configured extras
/// included.
fn service_ports(app: &AppConfig) -> ServicePorts {
    let extra = app.detect.extra_ports.iter().map(|&(_, port)| port);
    let tcp = app
        .protocols
        .iter()
        .flat_map(|def| def.tcp_ports.iter().copied());
    let udp = app
        .protocols
        .iter()
        .flat_map(|def| def.udp_ports.iter().copied());
    ServicePorts::new(tcp.chain(extra.clone()), udp.chain(extra))
}

impl Cli {
    fn app_config(&self) -> Result<AppConfig, InvalidParameter> {
        let mut config = AppConfig::all_protocols();
        config.stream.depth =
            in_range("stream-depth-bytes", self.stream_depth_bytes, 256, 1 << 20)?;
        config.stream.max_out_of_order_bytes = config.stream.depth;
        for spec in &self.app_ports {
            let bad = |reason: String| invalid("app-port", format!("{spec:?}: {reason}"));
            let (name, port) = spec
                .split_once(':')
                .ok_or_else(|| bad("expected PROTO:PORT".into()))?;
            let def = config
                .protocols
                .iter()
                .find(|def| def.name == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = config.protocols.iter().map(|d| d.name).collect();
                    bad(format!("unknown protocol (known: {})", known.join(", ")))
                })?;
            let port: u16 = port
                .parse()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| bad("port must be 1–65535".into()))?;
            config.detect.extra_ports.push((def.name, port));
        }
        Ok(config)
    }

    /// Checks every option and builds the settings.
    pub fn validate(&self) -> Result<Settings, InvalidParameter> {
        let source = match (&self.interface, self.read.is_empty()) {
            (Some(interface), true) => {
                if interface.is_empty() {
                    return Err(invalid("interface", "empty interface name"));
                }
                Source::Live(LiveConfig {
                    interface: interface.clone(),
                    bpf: self.bpf.clone(),
                    snaplen: in_range("snaplen", self.snaplen, 64, 262_144)?,
                    buffer_mb: in_range("buffer-mb", self.buffer_mb, 1, 4096)?,
                    promisc: self.promisc,
                })
            }
            (None, false) => Source::Files(self.read.clone()),
            (None, true) => {
                return Err(invalid(
                    "read",
                    "give capture files with --read or an interface with --interface",
                ));
            }
            (Some(_), false) => {
                return Err(invalid("read", "--read and --interface are exclusive"));
            }
        };
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = match self.workers {
            Some(n) => in_range("workers", n, 1, 256)?,
            None => available.saturating_sub(1).max(1),
        };
        let flow_timeout = in_range("flow-timeout-secs", self.flow_timeout_secs, 1, 86_400)?;
        let max_flows = in_range("max-flows", self.max_flows, 1024, 100_000_000)?;
        let queue_batches = in_range("queue-batches", self.queue_batches, 1, 65_536)?;
        if self.set_name.trim().is_empty() {
            return Err(invalid("set-name", "must not be empty"));
        }
        let severity = Severity::from_name(&self.indicator_severity).ok_or_else(|| {
            invalid(
                "indicator-severity",
                format!(
                    "{:?} is not low, medium, high or critical",
                    self.indicator_severity
                ),
            )
        })?;
        let tlp = Tlp::from_name(&self.indicator_tlp).ok_or_else(|| {
            invalid(
                "indicator-tlp",
                format!(
                    "{:?} is not clear, green, amber, amber+strict or red",
                    self.indicator_tlp
                ),
            )
        })?;
        let confidence = in_range("indicator-confidence", self.indicator_confidence, 0, 100)?;
        let mut allowlist = Allowlist::builtin().with_private_indicators(self.private_indicators);
        for range in &self.allow_ranges {
            let net = range
                .parse::<ipnet::IpNet>()
                .or_else(|_| range.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid("allow-range", format!("{range:?} is not a CIDR or address"))
                })?;
            allowlist.add_range(net);
        }
        for domain in &self.allow_domains {
            allowlist
                .add_domain(domain)
                .map_err(|e| invalid("allow-domain", format!("{domain:?}: {e}")))?;
        }
        let eve = match self.eve.as_str() {
            "" => return Err(invalid("eve", "empty path (use - for standard output)")),
            "-" => EveTarget::Stdout,
            path => EveTarget::File(PathBuf::from(path)),
        };
        let indicators = self
            .indicators
            .iter()
            .map(|spec| FeedSpec::parse(spec).map_err(|reason| invalid("indicators", reason)))
            .collect::<Result<Vec<_>, _>>()?;
        let per_worker_flows = u32::try_from(max_flows / workers as u64).unwrap_or(u32::MAX);
        let app = self.app_config()?;
        let uplink = self.uplink(self.interface.as_deref().unwrap_or_default())?;
        let sync = self.sync(uplink.as_ref())?;
        Ok(Settings {
            pipeline: PipelineConfig {
                source,
                workers,
                queue_batches,
                event_queue: 65_536,
                worker: WorkerConfig {
                    flow_timeout_us: (flow_timeout * 1_000_000) as i64,
                    max_flows: per_worker_flows.max(1),
                    dedup: self.dedup,
                    community_id: CommunityIdConfig {
                        seed: self.community_id_seed,
                        base64: !self.community_id_hex,
                    },
                    metadata: self.metadata,
                    hasher: FlowHashBuilder::random(),
                    service_ports: service_ports(&app),
                    app,
                },
                eve,
                stats_interval: (self.stats_interval_secs > 0)
                    .then(|| Duration::from_secs(self.stats_interval_secs)),
                live_report: None,
            },
            indicators,
            allowlist,
            indicator_defaults: IndicatorMeta {
                set: Arc::from(self.set_name.trim()),
                severity,
                confidence,
                tlp,
                ..IndicatorMeta::default()
            },
            stats_json: self.stats_json.clone(),
            uplink,
            sync,
        })
    }

    /// Checks the indicator-sync options (`None` without `--indicator-sync`).
    fn sync(
        &self,
        uplink: Option<&UplinkConfig>,
    ) -> Result<Option<crate::sync::SyncConfig>, InvalidParameter> {
        if !self.indicator_sync {
            return Ok(None);
        }
        let uplink = uplink.ok_or_else(|| invalid("indicator-sync", "needs --collector"))?;
        let key_path = self
            .bundle_key
            .clone()
            .ok_or_else(|| invalid("bundle-key", "--indicator-sync needs the pinned key"))?;
        let set = self.sync_set.trim();
        let valid = !set.is_empty()
            && set.len() <= 128
            && set
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && !set.starts_with('.');
        if !valid {
            return Err(invalid(
                "sync-set",
                format!("{set:?}: 1–128 characters from A–Z a–z 0–9 . _ -"),
            ));
        }
        if self.bundle_dir.as_os_str().is_empty() {
            return Err(invalid("bundle-dir", "must not be empty"));
        }
        let max = in_range("max-bundle-bytes", self.max_bundle_bytes, 1 << 20, 1 << 32)?;
        let first_wait = in_range("sync-wait-secs", self.sync_wait_secs, 0, 600)?;
        Ok(Some(crate::sync::SyncConfig {
            collector: uplink.collector.clone(),
            tls: uplink.tls.clone(),
            agent_id: uplink.agent_id.clone(),
            set: set.to_owned(),
            key_path,
            bundle_dir: self.bundle_dir.clone(),
            max_bundle_bytes: usize::try_from(max).unwrap_or(usize::MAX),
            reconnect_max: uplink.reconnect_max,
            first_wait: Duration::from_secs(first_wait),
        }))
    }

    /// Checks the collector options (`None` when no `--collector` is given).
    fn uplink(&self, interface: &str) -> Result<Option<UplinkConfig>, InvalidParameter> {
        let Some(url) = &self.collector else {
            return Ok(None);
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("collector", format!("{url:?}: want https://HOST:PORT")))?;
        let authority = rest.split('/').next().unwrap_or_default();
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok_and(|p| p > 0) => host,
            _ => {
                return Err(invalid(
                    "collector",
                    format!("{url:?}: give an explicit port, e.g. https://collector:50051"),
                ));
            }
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let tls = match scheme {
            "https" => {
                if self.insecure_dev {
                    return Err(invalid(
                        "insecure-dev",
                        "only with an http:// collector URL",
                    ));
                }
                match (&self.cert, &self.key, &self.ca) {
                    (Some(cert), Some(key), Some(ca)) => Some(TlsFiles {
                        cert: cert.clone(),
                        key: key.clone(),
                        ca: ca.clone(),
                    }),
                    _ => {
                        return Err(invalid(
                            "collector",
                            "https needs --cert, --key and --ca (kordon-collector pki issue-agent)",
                        ));
                    }
                }
            }
            "http" => {
                let loopback = host == "localhost"
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback());
                if !self.insecure_dev || !loopback {
                    return Err(invalid(
                        "collector",
                        "plaintext http:// is only for a loopback collector with --insecure-dev",
                    ));
                }
                None
            }
            other => {
                return Err(invalid(
                    "collector",
                    format!("scheme {other:?}: want https (or http with --insecure-dev)"),
                ));
            }
        };
        let agent_id = match &self.agent_id {
            Some(id) => id.clone(),
            None => crate::uplink::hostname(),
        };
        let valid_id = !agent_id.is_empty()
            && agent_id.len() <= 128
            && agent_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid_id {
            return Err(invalid(
                "agent-id",
                format!("{agent_id:?}: 1–128 characters from A–Z a–z 0–9 . _ -"),
            ));
        }
        if self.spool_dir.as_os_str().is_empty() {
            return Err(invalid("spool-dir", "must not be empty"));
        }
        let mut config = UplinkConfig::new(url.clone(), agent_id, self.spool_dir.clone());
        config.tls = tls;
        config.interface = interface.to_string();
        config.spool.max_bytes =
            in_range("max-spool-bytes", self.max_spool_bytes, 1 << 20, 1 << 40)?;
        config.spool.segment_bytes = (config.spool.max_bytes / 8).clamp(64 << 10, 8 << 20);
        config.drain_timeout = Duration::from_secs(in_range(
            "drain-timeout-secs",
            self.drain_timeout_secs,
            0,
            3600,
        )?);
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, InvalidParameter> {
        let mut argv = vec!["kordon-agent"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("clap accepts").validate()
    }

    #[test]
    fn defaults_are_valid() {
        let settings = parse(&["--read", "x.pcap"]).expect("valid");
        assert_eq!(settings.pipeline.eve, EveTarget::Stdout);
        assert_eq!(settings.pipeline.worker.dedup, DedupMode::Flow);
        assert!(settings.pipeline.workers >= 1);
    }

    #[test]
    fn collector_options_are_checked() {
        let ok = parse(&[
            "-r",
            "x",
            "--collector",
            "https://c:50051",
            "--cert",
            "a",
            "--key",
            "b",
            "--ca",
            "c",
            "--agent-id",
            "s1",
        ])
        .expect("valid");
        let uplink = ok.uplink.expect("uplink");
        assert_eq!(uplink.agent_id, "s1");
        assert!(uplink.tls.is_some());
        let dev = parse(&[
            "-r",
            "x",
            "--collector",
            "http://127.0.0.1:5",
            "--insecure-dev",
        ])
        .expect("valid");
        assert!(dev.uplink.expect("uplink").tls.is_none());
        let cases: [(&str, &[&str], &str); 5] = [
            (
                "https without certs",
                &["-r", "x", "--collector", "https://c:1"],
                "collector",
            ),
            (
                "no port",
                &["-r", "x", "--collector", "https://c", "--insecure-dev"],
                "collector",
            ),
            (
                "plaintext remote",
                &[
                    "-r",
                    "x",
                    "--collector",
                    "http://10.0.0.1:5",
                    "--insecure-dev",
                ],
                "collector",
            ),
            (
                "bad agent id",
                &[
                    "-r",
                    "x",
                    "--collector",
                    "http://[::1]:5",
                    "--insecure-dev",
                    "--agent-id",
                    "a b",
                ],
                "agent-id",
            ),
            (
                "tiny spool",
                &[
                    "-r",
                    "x",
                    "--collector",
                    "http://localhost:5",
                    "--insecure-dev",
                    "--max-spool-bytes",
                    "10",
                ],
                "max-spool-bytes",
            ),
        ];
        for (name, args, param) in cases {
            let error = parse(args).expect_err(name);
            assert_eq!(error.param, param, "{name}: {error}");
        }
    }

    #[test]
    fn each_bound_is_enforced() {
        let cases: [(&str, &[&str], &str); 10] = [
            ("no source", &[], "read"),
            ("zero workers", &["-r", "x", "--workers", "0"], "workers"),
            (
                "timeout zero",
                &["-r", "x", "--flow-timeout-secs", "0"],
                "flow-timeout-secs",
            ),
            ("few flows", &["-r", "x", "--max-flows", "10"], "max-flows"),
            (
                "zero queue",
                &["-r", "x", "--queue-batches", "0"],
                "queue-batches",
            ),
            ("tiny snaplen", &["-i", "lo", "--snaplen", "10"], "snaplen"),
            (
                "bad feed format",
                &["-r", "x", "--indicators", "csv:x=y"],
                "indicators",
            ),
            (
                "bad severity",
                &["-r", "x", "--indicator-severity", "dire"],
                "indicator-severity",
            ),
            (
                "bad tlp",
                &["-r", "x", "--indicator-tlp", "purple"],
                "indicator-tlp",
            ),
            (
                "confidence",
                &["-r", "x", "--indicator-confidence", "101"],
                "indicator-confidence",
            ),
        ];
        for (name, args, param) in cases {
            let error = parse(args).expect_err(name);
            assert_eq!(error.param, param, "{name}: {error}");
        }
    }
}
