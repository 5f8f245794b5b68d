//! Indicator feeds: the scheduler that loads configured feeds into named sets, the HTTP
//! transport of the MISP/STIX/TAXII feeds, and the pushed-feed service.
//!
//! Each configured feed runs on its own thread (feed I/O is blocking: files, a small blocking
//! HTTP client) and never on the async runtime. A load that fails — unreachable, not the
//! format, nothing accepted from a non-empty document, a set too large — keeps the feed's last
//! good entries in the set; the failure is logged, stored as the feed's status and shown by
//! `kordon-collector feeds`.

pub mod config;
pub mod http;
pub mod push;
pub mod sets;
pub mod store;
pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kordon_intel::allowlist::Allowlist;
use kordon_intel::formats::{self, LoadOptions};
use kordon_intel::taxii::{Auth, TaxiiClient};
use kordon_intel::{Format, IndicatorMeta, IndicatorSetBuilder, LoadReport, Severity, Tlp};

use config::{FeedConfig, FeedKind, IndicatorsConfig};
use sets::{Sets, SourceUpdate};
use store::FeedStatus;

/// The load-time allowlist from `[indicators]`.
pub fn allowlist(config: &IndicatorsConfig) -> Allowlist {
    let mut allow = Allowlist::builtin().with_private_indicators(config.private_indicators);
    for range in &config.allow_ranges {
        if let Ok(net) = range.parse() {
            allow.add_range(net);
        }
    }
    for domain in &config.allow_domains {
        if let Err(error) = allow.add_domain(domain) {
            tracing::warn!(%domain, %error, "ignoring allow_domains entry");
        }
    }
    allow
}

/// Load options for a feed.
pub fn load_options(
    feed: &str,
    set: &str,
    severity: Severity,
    confidence: u8,
    tlp: Tlp,
    allow: &Arc<Allowlist>,
) -> LoadOptions {
    let meta = IndicatorMeta {
        source: feed.into(),
        set: set.into(),
        severity,
        confidence,
        tlp,
        ..IndicatorMeta::default()
    };
    let mut opts = LoadOptions::new(Arc::new(meta));
    opts.allowlist = Some(Arc::clone(allow));
    opts
}

/// Whether a report means a bad load: something was offered and nothing was accepted.
fn bad_report(report: &LoadReport) -> Option<String> {
    let offered = report.accepted
        + report.allowlisted
        + report.duplicates
        + report.rejected_total
        + report.expired
        + report.unsupported_total;
    (report.accepted + report.allowlisted == 0 && report.rejected_total > 0 && offered > 0).then(
        || {
            format!(
                "nothing accepted, {} rejected (first: {})",
                report.rejected_total,
                report.rejected.first().map_or("?", |r| r.reason.as_str())
            )
        },
    )
}

/// The running feed threads.
pub struct Scheduler;

impl Scheduler {
    /// Starts one thread per configured feed.
    pub fn start(
        feeds: &[FeedConfig],
        state_dir: &Path,
        indicators: &IndicatorsConfig,
        sets: Arc<Sets>,
    ) -> std::io::Result<Scheduler> {
        let allow = Arc::new(allowlist(indicators));
        for feed in feeds {
            let mut feed = feed.clone();
            if let Some(path) = &feed.path {
                feed.path = Some(state_dir.join(path));
            }
            let sets = Arc::clone(&sets);
            let allow = Arc::clone(&allow);
            std::thread::Builder::new()
                .name(format!("feed-{}", feed.name))
                .spawn(move || run_feed(&feed, &sets, &allow))?;
        }
        Ok(Scheduler)
    }
}

fn kind_name(kind: FeedKind) -> &'static str {
    match kind {
        FeedKind::File => "file",
        FeedKind::Misp => "misp",
        FeedKind::Stix => "stix",
        FeedKind::Taxii => "taxii",
    }
}

/// Newest modification time under a path (a directory's files included), and the file count.
fn newest_mtime(path: &Path) -> Option<(SystemTime, usize)> {
    let meta = std::fs::metadata(path).ok()?;
    let mut newest = meta.modified().ok()?;
    let mut count = 1;
    if meta.is_dir() {
        let mut stack: Vec<PathBuf> = vec![path.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).ok()?.flatten() {
                let p = entry.path();
                let Ok(m) = entry.metadata() else { continue };
                if m.is_dir() {
                    stack.push(p);
                } else {
                    count += 1;
                }
                if let Ok(t) = m.modified() {
                    newest = newest.max(t);
                }
            }
        }
    }
    Some((newest, count))
}

/// A feed's loop: load when due, record, sleep.
fn run_feed(feed: &FeedConfig, sets: &Sets, allow: &Arc<Allowlist>) {
    let interval = Duration::from_secs(feed.interval_secs());
    let mut last_mtime: Option<(SystemTime, usize)> = None;
    let mut status = sets
        .store()
        .status(&feed.name)
        .ok()
        .flatten()
        .unwrap_or_default();
    loop {
        let due = match feed.kind {
            FeedKind::File => {
                let now = feed.path.as_deref().and_then(newest_mtime);
                let changed = now != last_mtime || now.is_none();
                last_mtime = now;
                changed
            }
            _ => true,
        };
        if due {
            load_once(feed, sets, allow, &mut status);
        }
        std::thread::sleep(interval);
    }
}

/// One load of a feed, recorded in its status.
fn load_once(feed: &FeedConfig, sets: &Sets, allow: &Arc<Allowlist>, status: &mut FeedStatus) {
    let severity = Severity::from_name(&feed.severity).unwrap_or_default();
    let tlp = Tlp::from_name(&feed.tlp).unwrap_or_default();
    let mut opts = load_options(&feed.name, &feed.set, severity, feed.confidence, tlp, allow);
    opts.format = feed.format.as_deref().and_then(Format::from_name);
    status.feed.clone_from(&feed.name);
    status.set.clone_from(&feed.set);
    status.kind = kind_name(feed.kind).into();
    status.attempt_us = crate::store::now_us();
    let result = load_feed(feed, &opts, status.added_after.clone());
    let outcome = result.and_then(|(builder, report, next_after)| {
        if let Some(why) = bad_report(&report) {
            return Err(format!("{report}: {why}"));
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        let entries = sets::entries_of(&feed.set, &set).map_err(|e| e.to_string())?;
        // A TAXII poll with `added_after` returns only new objects: they add to what the
        // collection gave before (persisted, so a restart does not forget them).
        let (update, persist) = if feed.kind == FeedKind::Taxii && status.added_after.is_some() {
            (
                SourceUpdate::Delta {
                    remove: Vec::new(),
                    add: entries,
                },
                true,
            )
        } else {
            (SourceUpdate::Replace(entries), feed.kind == FeedKind::Taxii)
        };
        // OT policies (an `ot-policy` file feed) travel in the bundle with the entries.
        let policies = Some(set.ot_policies().to_vec());
        let (version, _) = sets
            .update_with_policies(&feed.set, &feed.name, update, policies, persist)
            .map_err(|e| e.to_string())?;
        Ok((report, version, next_after))
    });
    match outcome {
        Ok((report, version, next_after)) => {
            tracing::info!(target: "kordon::feeds", feed = %feed.name, set = %feed.set, version, "{report}");
            status.ok = true;
            status.message = "ok".into();
            status.report = report.to_string();
            status.accepted = report.accepted as u64;
            status.set_version = version;
            status.success_us = status.attempt_us;
            if next_after.is_some() {
                status.added_after = next_after;
            }
        }
        Err(error) => {
            tracing::warn!(feed = %feed.name, set = %feed.set, %error, "feed load failed; the last good version stays live");
            status.ok = false;
            status.message = error.chars().take(4096).collect();
        }
    }
    if let Err(error) = sets.store().put_status(status) {
        tracing::warn!(feed = %feed.name, %error, "cannot record the feed status");
    }
}

type Loaded = (IndicatorSetBuilder, LoadReport, Option<String>);

/// Objects asked for per TAXII page (servers may send fewer).
const TAXII_PAGE_LIMIT: usize = 1000;

/// Reads a feed into a builder: (builder, report, next TAXII `added_after`).
fn load_feed(
    feed: &FeedConfig,
    opts: &LoadOptions,
    added_after: Option<String>,
) -> Result<Loaded, String> {
    let mut builder = IndicatorSetBuilder::new();
    let auth = match (&feed.username, &feed.password, &feed.token) {
        (Some(user), Some(password), _) => Auth::Basic {
            user: user.clone(),
            password: password.clone(),
        },
        (_, _, Some(token)) => Auth::Token(token.clone()),
        _ => Auth::None,
    };
    let transport = || http::HttpTransport::new(Duration::from_secs(feed.timeout_secs));
    let url = feed.url.clone().unwrap_or_default();
    match feed.kind {
        FeedKind::File => {
            let path = feed.path.clone().unwrap_or_default();
            let report =
                formats::load_path(&path, opts, &mut builder).map_err(|e| e.to_string())?;
            Ok((builder, report, None))
        }
        FeedKind::Stix => {
            let body = http::get_ok(&transport(), &url, &auth)?;
            let report = formats::load_stix(body.as_slice(), opts, &mut builder)
                .map_err(|e| format!("{url}: {e}"))?;
            Ok((builder, report, None))
        }
        FeedKind::Misp => {
            let t = transport();
            if url.ends_with('/') {
                // A MISP feed directory: manifest.json lists the events.
                let manifest = http::get_ok(&t, &format!("{url}manifest.json"), &auth)?;
                let manifest: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&manifest)
                        .map_err(|e| format!("{url}manifest.json: not a MISP manifest: {e}"))?;
                if manifest.len() > formats::misp::MAX_FEED_EVENTS {
                    return Err(format!("{url}manifest.json: too many events"));
                }
                let mut uuids: Vec<&String> = manifest.keys().collect();
                uuids.sort();
                let mut report = LoadReport::new(feed.name.clone());
                for uuid in uuids {
                    if !uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                        report.reject(0, format!("manifest key {uuid:?} is not a UUID"));
                        continue;
                    }
                    let event_url = format!("{url}{uuid}.json");
                    let body = http::get_ok(&t, &event_url, &auth)?;
                    let r = formats::load_misp(body.as_slice(), opts, &mut builder)
                        .map_err(|e| format!("{event_url}: {e}"))?;
                    report.merge(r);
                }
                Ok((builder, report, None))
            } else {
                let body = http::get_ok(&t, &url, &auth)?;
                let report = formats::load_misp(body.as_slice(), opts, &mut builder)
                    .map_err(|e| format!("{url}: {e}"))?;
                Ok((builder, report, None))
            }
        }
        FeedKind::Taxii => {
            // An explicit `limit` on every page: servers cap it to their own page size, and
            // OASIS's medallion (3.0) fails a `next` request that has none (HTTP 500).
            let client = TaxiiClient::new(transport(), auth).with_page_limit(TAXII_PAGE_LIMIT);
            let collection = feed.collection.clone().unwrap_or_default();
            let poll = client
                .poll(&url, &collection, added_after.as_deref())
                .map_err(|e| e.to_string())?;
            let mut report = poll.load(opts, &mut builder);
            report.source.clone_from(&feed.name);
            Ok((builder, report, poll.date_added_last))
        }
    }
}
