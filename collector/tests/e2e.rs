//! End to end: the real `kordon-collector` and `kordon-agent` binaries on 127.0.0.1 with mTLS.
//!
//! Every scenario compares what the collector stored with the EVE file the agent wrote for the
//! same run (the same alerts, by flow, packet time, indicator and location): equal multisets
//! mean nothing was lost and nothing duplicated. Conditions are polled with generous deadlines
//! (a loaded 2-core machine), never slept on and hoped for.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::{
    DEADLINE, agent_bins, collector_bin, free_port, make_pki, run_ok, scratch_dir, wait_for,
};
use kordon_collector::store::Store;
use kordon_collector::store::sqlite::SqliteStore;
use kordon_proto::soc_service_client::SocServiceClient;
use kordon_proto::{AlertFilter, AlertQuery, StoredAlert};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// The scenarios each run two or three processes; running them one at a time keeps a 2-core
/// machine responsive enough for the deadlines to mean something.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

struct Scenario {
    dir: PathBuf,
    pki: PathBuf,
    port: u16,
}

struct Collector {
    child: Child,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Capture {
    pcap: PathBuf,
    indicators: PathBuf,
}

impl Scenario {
    fn new(name: &str) -> Scenario {
        let dir = scratch_dir(&format!("e2e-{name}"));
        let pki = dir.join("pki");
        make_pki(
            &pki,
            &[("issue-agent", "sensor-1"), ("issue-client", "soc")],
        );
        let port = free_port();
        let s = Scenario { dir, pki, port };
        s.write_config(true);
        s
    }

    fn write_config(&self, require_client_cert: bool) {
        self.write_config_with(require_client_cert, "");
    }

    /// The scenario's config with `extra` TOML appended (e.g. a `[limits]` section).
    fn write_config_with(&self, require_client_cert: bool, extra: &str) {
        let config = format!(
            "listen = \"127.0.0.1:{}\"\nstate_dir = \"{}\"\n[store]\nbusy_timeout_ms = 120000\n\
             synchronous = \"normal\"\n[tls]\ncert = \"{pki}/collector.crt\"\nkey = \"{pki}/collector.key\"\n\
             client_ca = \"{pki}/ca.crt\"\nrequire_client_cert = {require_client_cert}\n\
             [[soc.tokens]]\nname = \"t\"\nsha256 = \"{}\"\n",
            self.port,
            self.dir.join("state").display(),
            kordon_collector::auth::token_sha256_hex("secret-token"),
            pki = self.pki.display(),
        );
        std::fs::write(self.dir.join("collector.toml"), config + extra).expect("config");
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn start_collector(&self) -> Collector {
        let addr_file = self.dir.join("state/listen.addr");
        let _ = std::fs::remove_file(&addr_file);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("collector.log"))
            .expect("log");
        let child = Command::new(collector_bin())
            .args(["serve", "--config"])
            .arg(self.dir.join("collector.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start collector");
        wait_for("collector to listen", || addr_file.exists());
        Collector { child }
    }

    fn capture(&self, packets: u32, seed: u32) -> Capture {
        let (_, sample) = agent_bins();
        let pcap = self.dir.join(format!("capture-{seed}.pcap"));
        let indicators = self.dir.join(format!("indicators-{seed}.txt"));
        run_ok(
            Command::new(sample)
                .args(["capture", "--packets", &packets.to_string()])
                .args([
                    "--flows",
                    &(packets / 25).to_string(),
                    "--seed",
                    &seed.to_string(),
                ])
                .arg("--out")
                .arg(&pcap),
        );
        run_ok(
            Command::new(sample)
                .args([
                    "indicators",
                    "--ipv4",
                    "1000",
                    "--cidr",
                    "10",
                    "--hit-rate",
                    "0.5",
                ])
                .arg("--hit-from")
                .arg(&pcap)
                .arg("--out")
                .arg(&indicators),
        );
        Capture { pcap, indicators }
    }

    /// Starts the agent; `capture` None reads a capture with no indicators (no new alerts),
    /// which is how a restarted agent only delivers its spool.
    fn start_agent(&self, capture: Option<&Capture>, name: &str, extra: &[&str]) -> Child {
        let (agent, _) = agent_bins();
        let mut cmd = Command::new(agent);
        match capture {
            Some(c) => {
                cmd.arg("--read")
                    .arg(&c.pcap)
                    .arg("--indicators")
                    .arg(&c.indicators);
            }
            None => {
                let empty = self.dir.join("empty.pcap");
                if !empty.exists() {
                    let (_, sample) = agent_bins();
                    run_ok(
                        Command::new(sample)
                            .args(["capture", "--packets", "10", "--out"])
                            .arg(&empty),
                    );
                }
                cmd.arg("--read").arg(&empty);
            }
        }
        if !extra.contains(&"--agent-id") {
            cmd.args(["--agent-id", "sensor-1"]);
        }
        cmd.args(["--dedup", "none", "--workers", "1"])
            .arg("--eve")
            .arg(self.dir.join(format!("{name}.eve.json")))
            .args(["--collector", &self.url()])
            .arg("--cert")
            .arg(self.pki.join("sensor-1.crt"))
            .arg("--key")
            .arg(self.pki.join("sensor-1.key"))
            .arg("--ca")
            .arg(self.pki.join("ca.crt"))
            .arg("--spool-dir")
            .arg(self.dir.join("spool"))
            .args(extra)
            .env("KORDON_LOG", "info")
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.dir.join(format!("{name}.agent.log"))).expect("log"),
            );
        cmd.spawn().expect("start agent")
    }

    fn agent_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.agent.log"))).unwrap_or_default()
    }

    fn wait_agent(&self, child: &mut Child, name: &str) {
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(
                    status.success(),
                    "agent {name} failed: {}",
                    self.agent_log(name)
                );
                return;
            }
            assert!(
                start.elapsed() < DEADLINE * 2,
                "agent {name} did not finish: {}",
                self.agent_log(name)
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn store(&self) -> Option<SqliteStore> {
        let path = self.dir.join("state/alerts.sqlite");
        path.exists()
            .then(|| SqliteStore::open_read_only(&path).ok())
            .flatten()
    }

    fn stored(&self) -> Vec<StoredAlert> {
        self.store()
            .map(|s| s.query(&AlertFilter::default(), 10_000_000).expect("query"))
            .unwrap_or_default()
    }

    fn stored_count(&self) -> usize {
        self.stored().len()
    }
}

type Key = (u64, i64, String, String);

/// Alerts of an EVE file, counted by (flow_id, packet time, indicator id, location).
fn eve_alerts(path: &Path) -> BTreeMap<Key, u32> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .expect("read EVE");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("EVE JSON");
        if v["event_type"] != "alert" {
            continue;
        }
        let key = (
            v["flow_id"].as_u64().expect("flow_id"),
            parse_eve_time(v["timestamp"].as_str().expect("timestamp")),
            v["kordon"]["indicator"]["id"]
                .as_str()
                .expect("id")
                .to_string(),
            v["kordon"]["location"].as_str().expect("loc").to_string(),
        );
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

/// Parses what `render::eve_timestamp` prints back to µs (by formatting candidates is too slow;
/// compare in rendered form instead).
fn parse_eve_time(text: &str) -> i64 {
    // Keys only need to be consistent between the two sides, so hash the text.
    let mut h: i64 = 0;
    for b in text.bytes() {
        h = h.wrapping_mul(31).wrapping_add(i64::from(b));
    }
    h
}

fn store_alerts(alerts: &[StoredAlert]) -> BTreeMap<Key, u32> {
    let mut out = BTreeMap::new();
    for s in alerts {
        let a = s.alert.as_ref().expect("alert");
        let key = (
            a.flow_id,
            parse_eve_time(&kordon_collector::render::eve_timestamp(a.timestamp_us)),
            a.indicator.as_ref().expect("indicator").id.clone(),
            a.location.clone(),
        );
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

fn assert_exactly_once(stored: &[StoredAlert], expected: &BTreeMap<Key, u32>) {
    let got = store_alerts(stored);
    let expected_total: u32 = expected.values().sum();
    assert!(expected_total > 0, "the scenario produced no alerts");
    let duplicated = got.values().filter(|&&n| n > 1).count();
    let missing = expected.keys().filter(|k| !got.contains_key(*k)).count();
    let extra = got.keys().filter(|k| !expected.contains_key(*k)).count();
    assert_eq!(
        (duplicated, missing, extra, stored.len()),
        (0, 0, 0, expected_total as usize),
        "stored {} alerts for {expected_total} expected: {duplicated} duplicated, {missing} missing, {extra} unexpected",
        stored.len()
    );
}

fn soc_client(
    s: &Scenario,
    cert: Option<&str>,
) -> Result<SocServiceClient<tonic::transport::Channel>, String> {
    let rt = runtime();
    rt.block_on(async {
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(
            std::fs::read(s.pki.join("ca.crt")).expect("ca"),
        ));
        if let Some(name) = cert {
            tls = tls.identity(Identity::from_pem(
                std::fs::read(s.pki.join(format!("{name}.crt"))).expect("crt"),
                std::fs::read(s.pki.join(format!("{name}.key"))).expect("key"),
            ));
        }
        let channel = Endpoint::from_shared(s.url())
            .map_err(|e| e.to_string())?
            .tls_config(tls)
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| format!("{e:?}"))?;
        Ok(SocServiceClient::new(channel))
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

#[test]
fn all_alerts_arrive_exactly_once_and_subscriptions_resume_without_gap() {
    let _serial = serial();
    let s = Scenario::new("once");
    let capture = s.capture(20_000, 11);
    let _collector = s.start_collector();
    let mut agent = s.start_agent(Some(&capture), "run", &[]);
    // A SOC subscriber follows the live stream from the start, drops after a while and
    // resumes from the last cursor it saw.
    let client = soc_client(&s, Some("soc")).expect("SOC client");
    let mut received: Vec<u64> = Vec::new();
    runtime().block_on(async {
        let mut c = client.clone();
        let mut stream = c
            .subscribe_alerts(AlertFilter::default())
            .await
            .expect("subscribe")
            .into_inner();
        while received.len() < 500 {
            let a = stream.message().await.expect("stream").expect("alert");
            received.push(a.cursor);
        }
    });
    s.wait_agent(&mut agent, "run");
    let expected = eve_alerts(&s.dir.join("run.eve.json"));
    let total: u32 = expected.values().sum();
    runtime().block_on(async {
        let mut c = client.clone();
        let since = *received.last().expect("some");
        let mut stream = c
            .subscribe_alerts(AlertFilter {
                since_cursor: since,
                ..AlertFilter::default()
            })
            .await
            .expect("resubscribe")
            .into_inner();
        while received.len() < total as usize {
            let a = tokio::time::timeout(DEADLINE, stream.message())
                .await
                .expect("alerts keep coming")
                .expect("stream")
                .expect("alert");
            received.push(a.cursor);
        }
    });
    let stored = s.stored();
    assert_exactly_once(&stored, &expected);
    let cursors: Vec<u64> = stored.iter().map(|a| a.cursor).collect();
    assert_eq!(received, cursors, "subscription had a gap or a duplicate");
    // QueryAlerts pages agree with the store.
    let page = runtime().block_on(async {
        let mut c = client.clone();
        c.query_alerts(AlertQuery {
            filter: Some(AlertFilter::default()),
            limit: 10,
        })
        .await
        .expect("query")
        .into_inner()
    });
    assert_eq!(page.alerts.len(), 10);
    assert_eq!(page.next_cursor, cursors[9]);
    let log = s.agent_log("run");
    assert!(log.contains("pending=0"), "{log}");
}

#[test]
fn collector_killed_mid_stream_then_restarted_loses_and_duplicates_nothing() {
    let _serial = serial();
    let s = Scenario::new("collector-kill");
    let capture = s.capture(80_000, 12);
    let mut collector = s.start_collector();
    let mut agent = s.start_agent(Some(&capture), "run", &["--drain-timeout-secs", "120"]);
    wait_for("first alerts stored", || s.stored_count() > 0);
    collector.child.kill().expect("kill -9 collector");
    let _ = collector.child.wait();
    let at_kill = s.stored_count();
    std::thread::sleep(Duration::from_millis(1500));
    let _collector = s.start_collector();
    s.wait_agent(&mut agent, "run");
    let expected = eve_alerts(&s.dir.join("run.eve.json"));
    eprintln!(
        "collector killed with {at_kill} of {} alerts stored",
        expected.values().sum::<u32>()
    );
    assert_exactly_once(&s.stored(), &expected);
}

#[test]
fn agent_killed_with_unacknowledged_batches_resends_from_spool_exactly_once() {
    let _serial = serial();
    let s = Scenario::new("agent-kill");
    let capture = s.capture(20_000, 13);
    let _collector = s.start_collector();
    // Hold the store's write lock: the collector receives batches and queues their commit, so
    // nothing is acknowledged while the agent is killed.
    let db = rusqlite::Connection::open(s.dir.join("state/alerts.sqlite")).expect("open db");
    wait_for("schema", || {
        db.query_row("SELECT count(*) FROM alerts", [], |r| r.get::<_, i64>(0))
            .is_ok()
    });
    db.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let mut agent = s.start_agent(Some(&capture), "run", &["--drain-timeout-secs", "120"]);
    wait_for("agent to spool everything", || {
        s.agent_log("run").contains("waiting for the collector")
    });
    std::thread::sleep(Duration::from_millis(500)); // let batches reach the collector
    agent.kill().expect("kill -9 agent");
    let _ = agent.wait();
    db.execute_batch("COMMIT").expect("unlock");
    // The collector now commits what it had received, without anyone to acknowledge it to.
    let mut restarted = s.start_agent(None, "restart", &[]);
    s.wait_agent(&mut restarted, "restart");
    let expected = eve_alerts(&s.dir.join("run.eve.json"));
    assert_exactly_once(&s.stored(), &expected);
    let log = s.agent_log("restart");
    assert!(log.contains("resuming delivery"), "{log}");
}

#[test]
fn collector_unreachable_for_a_while_spools_then_delivers_exactly_once() {
    let _serial = serial();
    let s = Scenario::new("outage");
    let capture = s.capture(20_000, 14);
    let mut agent = s.start_agent(Some(&capture), "run", &["--drain-timeout-secs", "120"]);
    wait_for("agent to spool everything", || {
        s.agent_log("run").contains("waiting for the collector")
    });
    std::thread::sleep(Duration::from_secs(2)); // a few failed reconnects
    let _collector = s.start_collector();
    s.wait_agent(&mut agent, "run");
    let expected = eve_alerts(&s.dir.join("run.eve.json"));
    assert_exactly_once(&s.stored(), &expected);
    assert!(s.agent_log("run").contains("collector unavailable"));
}

#[test]
fn corrupt_spool_record_is_skipped_counted_and_the_rest_delivered() {
    let _serial = serial();
    let s = Scenario::new("corrupt");
    let capture = s.capture(5_000, 15);
    // No collector: everything stays spooled.
    let mut agent = s.start_agent(Some(&capture), "run", &["--drain-timeout-secs", "0"]);
    s.wait_agent(&mut agent, "run");
    let spool = s.dir.join("spool");
    let segment = std::fs::read_dir(&spool)
        .expect("spool")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .min()
        .expect("a segment");
    let mut data = std::fs::read(&segment).expect("segment");
    // Walk to the third record (format in agent/src/uplink/spool.rs) and flip a payload byte.
    let mut pos = 0usize;
    for _ in 0..2 {
        let len = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().expect("4")) as usize;
        pos += 20 + len;
    }
    let victim_id = u64::from_le_bytes(data[pos + 12..pos + 20].try_into().expect("8"));
    assert_eq!(victim_id, 3);
    data[pos + 25] ^= 0x5a;
    std::fs::write(&segment, data).expect("write");
    let _collector = s.start_collector();
    let mut restarted = s.start_agent(None, "restart", &[]);
    s.wait_agent(&mut restarted, "restart");
    let log = s.agent_log("restart");
    assert!(log.contains("corrupt=1"), "{log}");
    let stored = s.stored();
    assert!(stored.iter().all(|a| a.record_id != 3));
    let mut expected = eve_alerts(&s.dir.join("run.eve.json"));
    // Remove the victim (record 3 = the third alert of the EVE file) from the expectation.
    let third = std::fs::read_to_string(s.dir.join("run.eve.json"))
        .expect("eve")
        .lines()
        .filter(|l| l.contains("\"event_type\":\"alert\""))
        .nth(2)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                v["flow_id"].as_u64().expect("flow"),
                parse_eve_time(v["timestamp"].as_str().expect("ts")),
                v["kordon"]["indicator"]["id"]
                    .as_str()
                    .expect("id")
                    .to_string(),
                v["kordon"]["location"].as_str().expect("loc").to_string(),
            )
        })
        .expect("a third alert");
    if let Some(n) = expected.get_mut(&third) {
        *n -= 1;
    }
    expected.retain(|_, n| *n > 0);
    assert_exactly_once(&stored, &expected);
}

#[test]
fn connections_without_a_valid_identity_are_refused_with_a_clear_status() {
    let _serial = serial();
    let s = Scenario::new("refused");
    let _collector = s.start_collector();

    // No client certificate: the TLS handshake is refused.
    let no_cert = soc_client(&s, None).and_then(|mut c| {
        runtime()
            .block_on(c.query_alerts(AlertQuery::default()))
            .map(|_| ())
            .map_err(|status| format!("{status:?}"))
    });
    assert!(no_cert.is_err(), "a client without certificate was served");

    // A certificate from another CA: refused at TLS too.
    let other = s.dir.join("other-pki");
    run_ok(
        Command::new(collector_bin())
            .args(["pki", "init", "--dir"])
            .arg(&other),
    );
    run_ok(
        Command::new(collector_bin())
            .args(["pki", "issue-client", "soc", "--dir"])
            .arg(&other),
    );
    let foreign = runtime().block_on(async {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(
                std::fs::read(s.pki.join("ca.crt")).expect("ca"),
            ))
            .identity(Identity::from_pem(
                std::fs::read(other.join("soc.crt")).expect("crt"),
                std::fs::read(other.join("soc.key")).expect("key"),
            ));
        let channel = Endpoint::from_shared(s.url())
            .expect("url")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await;
        match channel {
            Err(e) => Err(format!("{e:?}")),
            Ok(ch) => SocServiceClient::new(ch)
                .query_alerts(AlertQuery::default())
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}")),
        }
    });
    assert!(
        foreign.is_err(),
        "a certificate from another CA was accepted"
    );

    // An agent certificate may not read alerts.
    let agent_reads = soc_client(&s, Some("sensor-1")).and_then(|mut c| {
        runtime()
            .block_on(c.query_alerts(AlertQuery::default()))
            .map(|_| ())
            .map_err(|status| status.code().to_string())
    });
    assert_eq!(agent_reads, Err(tonic::Code::PermissionDenied.to_string()));

    // An agent whose certificate CN differs from its agent_id: PermissionDenied, nothing stored.
    let capture = s.capture(2_000, 16);
    let mut liar = s.start_agent(
        Some(&capture),
        "liar",
        &["--agent-id", "sensor-2", "--drain-timeout-secs", "3"],
    );
    s.wait_agent(&mut liar, "liar");
    let log = s.agent_log("liar");
    assert!(
        log.contains("does not match the client certificate"),
        "agent log lacks the refusal: {log}"
    );
    assert_eq!(s.stored_count(), 0);

    // With client certificates optional, SOC clients may use a bearer token; agents without a
    // certificate are still refused.
    drop(_collector);
    s.write_config(false);
    let _collector = s.start_collector();
    let mut c = soc_client(&s, None).expect("TLS without client certificate");
    let with_token = |token: &str| {
        let mut request = tonic::Request::new(AlertQuery::default());
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
        request
    };
    let good = runtime().block_on(c.query_alerts(with_token("secret-token")));
    assert!(good.is_ok(), "{good:?}");
    let bad = runtime().block_on(c.query_alerts(with_token("nope")));
    assert_eq!(
        bad.map(|_| ()).map_err(|e| e.code()),
        Err(tonic::Code::Unauthenticated)
    );
    let none = runtime().block_on(c.query_alerts(AlertQuery::default()));
    assert_eq!(
        none.map(|_| ()).map_err(|e| e.code()),
        Err(tonic::Code::Unauthenticated)
    );
    let agent_without_cert = runtime().block_on(async {
        let channel = Endpoint::from_shared(s.url())
            .expect("url")
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(
                std::fs::read(s.pki.join("ca.crt")).expect("ca"),
            )))
            .expect("tls")
            .connect()
            .await
            .expect("connect");
        let mut agent = kordon_proto::agent_service_client::AgentServiceClient::new(channel);
        let batch = kordon_proto::ReportBatch {
            agent_id: "sensor-1".into(),
            ..Default::default()
        };
        agent
            .report(tokio_stream::iter(vec![batch]))
            .await
            .map(|_| ())
            .map_err(|e| e.code())
    });
    assert_eq!(agent_without_cert, Err(tonic::Code::Unauthenticated));
}

/// An agent-certificate client of `AgentService`.
fn agent_client(
    s: &Scenario,
    name: &str,
) -> kordon_proto::agent_service_client::AgentServiceClient<tonic::transport::Channel> {
    runtime().block_on(async {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(
                std::fs::read(s.pki.join("ca.crt")).expect("ca"),
            ))
            .identity(Identity::from_pem(
                std::fs::read(s.pki.join(format!("{name}.crt"))).expect("crt"),
                std::fs::read(s.pki.join(format!("{name}.key"))).expect("key"),
            ));
        let channel = Endpoint::from_shared(s.url())
            .expect("url")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
            .expect("connect");
        kordon_proto::agent_service_client::AgentServiceClient::new(channel)
            .max_encoding_message_size(8 << 20)
    })
}

/// Sends one batch on a fresh `Report` stream: `Ok` when it was acknowledged, otherwise the
/// status the collector answered with (`Unknown` if the stream just ended).
fn report_status(s: &Scenario, batch: kordon_proto::ReportBatch) -> tonic::Code {
    let mut client = agent_client(s, "sensor-1");
    runtime().block_on(async {
        // Keep the request stream open until the answer arrives, as an agent does.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.send(batch).await.expect("queue batch");
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        let code = match client.report(stream).await {
            Err(status) => status.code(),
            Ok(response) => match response.into_inner().message().await {
                Err(status) => status.code(),
                Ok(Some(_)) => tonic::Code::Ok,
                Ok(None) => tonic::Code::Unknown,
            },
        };
        drop(tx);
        code
    })
}

#[test]
fn message_and_batch_limits_are_refused_with_chosen_statuses() {
    let _serial = serial();
    let s = Scenario::new("limits");
    s.write_config_with(
        true,
        "[limits]\nmax_message_bytes = 65536\nmax_records_per_batch = 10\n",
    );
    let _collector = s.start_collector();
    let batch = |records: u64, id_len: usize| kordon_proto::ReportBatch {
        agent_id: "sensor-1".into(),
        spool_epoch: 7,
        sequence: 1,
        last_sequence: records,
        records: (1..=records)
            .map(|id| kordon_proto::Record {
                id,
                body: Some(kordon_proto::record::Body::Alert(kordon_proto::Alert {
                    community_id: "x".repeat(id_len),
                    ..kordon_proto::Alert::default()
                })),
            })
            .collect(),
        heartbeat: None,
    };
    // Within both limits: stored and acknowledged.
    assert_eq!(report_status(&s, batch(10, 8)), tonic::Code::Ok);
    // More records than a batch may hold: refused as an invalid argument, nothing stored.
    assert_eq!(
        report_status(&s, batch(11, 8)),
        tonic::Code::InvalidArgument
    );
    // A message over max_message_bytes: refused by the transport before decoding.
    let code = report_status(&s, batch(2, 100_000));
    assert!(
        matches!(
            code,
            tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
        ),
        "oversized message got {code:?}"
    );
    assert_eq!(s.stored_count(), 10, "only the valid batch was stored");
}
