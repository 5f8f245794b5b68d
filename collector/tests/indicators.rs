//! Indicator feeds and sync end to end: the real `kordon-collector` (mTLS on 127.0.0.1), a
//! MISP feed served over HTTP by an in-test server, `FeedService.PushIndicators` with a feed
//! certificate, and the real `kordon-agent` following the signed set.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kordon_proto::feed_service_client::FeedServiceClient;
use kordon_proto::{IndicatorChunk, PushMode, PushedIndicator};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const DEADLINE: Duration = Duration::from_secs(60);

fn collector_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kordon-collector")
}

fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

fn agent_bins() -> (PathBuf, PathBuf) {
    let dir = target_dir();
    let agent = dir.join("kordon-agent");
    let sample = dir.join("kordon-sample");
    if !agent.exists() || !sample.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "kordon-agent", "--bins"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build");
        assert!(status.success());
    }
    (agent, sample)
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Env {
    dir: PathBuf,
    pki: PathBuf,
    port: u16,
}

impl Env {
    fn new(name: &str, feeds: &str) -> Env {
        let dir = std::env::temp_dir().join(format!("kordon-intel-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let pki = dir.join("pki");
        run_ok(
            Command::new(collector_bin())
                .args(["pki", "init", "--dir"])
                .arg(&pki),
        );
        run_ok(
            Command::new(collector_bin())
                .args(["pki", "issue-agent", "sensor-1", "--dir"])
                .arg(&pki),
        );
        run_ok(
            Command::new(collector_bin())
                .args(["pki", "issue-feed", "pusher", "--dir"])
                .arg(&pki),
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let config = format!(
            "listen = \"127.0.0.1:{port}\"\nstate_dir = \"{state}\"\n\
             [store]\nsynchronous = \"normal\"\n\
             [tls]\ncert = \"{pki}/collector.crt\"\nkey = \"{pki}/collector.key\"\nclient_ca = \"{pki}/ca.crt\"\n\
             [indicators]\nsigning_key = \"{pki}/bundle-signing.key\"\n{feeds}",
            state = dir.join("state").display(),
            pki = pki.display(),
        );
        std::fs::write(dir.join("collector.toml"), config).expect("config");
        Env { dir, pki, port }
    }

    fn start_collector(&self) -> Killed {
        let log = std::fs::File::create(self.dir.join("collector.log")).expect("log");
        let child = Command::new(collector_bin())
            .args(["serve", "--config"])
            .arg(self.dir.join("collector.toml"))
            .env("KORDON_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("collector");
        let addr = self.dir.join("state/listen.addr");
        wait_for("collector to listen", || addr.exists());
        Killed(child)
    }

    fn feeds(&self) -> String {
        let out = Command::new(collector_bin())
            .args(["feeds", "--config"])
            .arg(self.dir.join("collector.toml"))
            .output()
            .expect("feeds");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

fn push(env: &Env, set: &str, mode: PushMode, add: &[&str], remove: &[&str]) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(
                std::fs::read(env.pki.join("ca.crt")).expect("ca"),
            ))
            .identity(Identity::from_pem(
                std::fs::read(env.pki.join("pusher.crt")).expect("crt"),
                std::fs::read(env.pki.join("pusher.key")).expect("key"),
            ));
        let channel = Endpoint::from_shared(format!("https://127.0.0.1:{}", env.port))
            .expect("url")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
            .expect("connect");
        let mut client = FeedServiceClient::new(channel);
        let values = |list: &[&str]| {
            list.iter()
                .map(|v| PushedIndicator {
                    r#type: String::new(),
                    value: (*v).to_owned(),
                })
                .collect::<Vec<_>>()
        };
        let chunks = vec![
            IndicatorChunk {
                set: set.into(),
                mode: mode as i32,
                feed: "pusher".into(),
                severity: "high".into(),
                add: values(add),
                ..IndicatorChunk::default()
            },
            IndicatorChunk {
                remove: values(remove),
                commit: true,
                ..IndicatorChunk::default()
            },
        ];
        let result = client
            .push_indicators(tokio_stream::iter(chunks))
            .await
            .expect("push")
            .into_inner();
        result.version
    })
}

/// Destination addresses of a capture's flows, read back from an agent run's EVE flow records
/// would need a run; instead the sample's own indicator file lists addresses that occur.
fn hit_addresses(indicators: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(indicators).expect("indicators");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .filter(|v| v.parse::<std::net::Ipv4Addr>().is_ok() || v.parse::<ipnet::IpNet>().is_ok())
        .take(n)
        .collect()
}

#[test]
fn pushed_set_is_signed_streamed_verified_applied_persisted_and_reported() {
    let env = Env::new("push", "");
    let _collector = env.start_collector();
    let (agent, sample) = agent_bins();
    let pcap = env.dir.join("capture.pcap");
    let indicators = env.dir.join("hits.txt");
    run_ok(
        Command::new(&sample)
            .args([
                "capture",
                "--packets",
                "20000",
                "--flows",
                "800",
                "--seed",
                "7",
                "--out",
            ])
            .arg(&pcap),
    );
    run_ok(
        Command::new(&sample)
            .args([
                "indicators",
                "--ipv4",
                "100",
                "--cidr",
                "100",
                "--hit-rate",
                "0.5",
                "--hit-from",
            ])
            .arg(&pcap)
            .arg("--out")
            .arg(&indicators),
    );
    let hits = hit_addresses(&indicators, 5000);
    assert!(hits.len() > 20, "sample indicators: {hits:?}");
    let adds: Vec<&str> = hits.iter().map(String::as_str).collect();
    let v1 = push(&env, "fleet", PushMode::Full, &adds, &[]);
    assert_eq!(v1, 1);
    // A delta that removes one and adds nothing new: version 2.
    let v2 = push(&env, "fleet", PushMode::Delta, &[], &adds[..1]);
    assert_eq!(v2, 2);

    let run_agent = |name: &str| {
        let log = std::fs::File::create(env.dir.join(format!("{name}.log"))).expect("log");
        Command::new(&agent)
            .arg("--read")
            .arg(&pcap)
            .args([
                "--agent-id",
                "sensor-1",
                "--dedup",
                "none",
                "--workers",
                "1",
            ])
            .arg("--eve")
            .arg(env.dir.join(format!("{name}.eve.json")))
            .args(["--collector", &format!("https://127.0.0.1:{}", env.port)])
            .arg("--cert")
            .arg(env.pki.join("sensor-1.crt"))
            .arg("--key")
            .arg(env.pki.join("sensor-1.key"))
            .arg("--ca")
            .arg(env.pki.join("ca.crt"))
            .arg("--spool-dir")
            .arg(env.dir.join("spool"))
            .args(["--indicator-sync", "--sync-set", "fleet", "--bundle-key"])
            .arg(env.pki.join("bundle-signing.pub"))
            .arg("--bundle-dir")
            .arg(env.dir.join("bundles"))
            .args(["--drain-timeout-secs", "20"])
            .env("KORDON_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("agent")
    };
    // First run: receives the set while it drains, persists it.
    let mut first = Killed(run_agent("first"));
    wait_for("the agent to apply version 2", || {
        env.log("first.log").contains("indicator sync: applied")
    });
    let _ = first.0.wait();
    assert!(env.dir.join("bundles/fleet.bundle").exists());
    // Second run: starts from the persisted bundle, so every packet is matched against it.
    let mut second = Killed(run_agent("second"));
    let status = second.0.wait().expect("wait");
    assert!(status.success(), "{}", env.log("second.log"));
    assert!(
        env.log("second.log")
            .contains("starting from the persisted bundle"),
        "{}",
        env.log("second.log")
    );
    let eve = env.log("second.eve.json");
    let alerts = eve.lines().filter(|l| l.contains("\"alert\"")).count();
    assert!(alerts > 0, "no alerts from the synced set");
    assert!(eve.contains("push:pusher"), "alerts name the pushing feed");
    assert!(
        !eve.contains(&format!("\"{}\"", adds[0])),
        "the removed indicator does not alert"
    );
    // The fleet registry shows the applied version.
    wait_for("the heartbeat version", || {
        let out = Command::new(collector_bin())
            .args(["agents", "--json", "--config"])
            .arg(env.dir.join("collector.toml"))
            .output()
            .expect("agents");
        String::from_utf8_lossy(&out.stdout).contains("\"indicator_version\":2")
    });
    let feeds = env.feeds();
    assert!(
        feeds.contains("push:pusher set=fleet kind=push status=ok version=2"),
        "{feeds}"
    );
    let _ = std::fs::remove_dir_all(&env.dir);
}

/// A tiny HTTP/1.1 server for files in `root` (GET only, one request per connection).
fn serve_dir(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let file = root.join(path.trim_start_matches('/'));
            let mut stream = reader.into_inner();
            let _ = match std::fs::read(&file) {
                Ok(body) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(&body)
                }
                Err(_) => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    port
}

#[test]
fn misp_feed_over_http_loads_into_a_set_and_a_bad_load_keeps_the_last_good_version() {
    let www = std::env::temp_dir().join(format!("kordon-intel-www-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&www);
    std::fs::create_dir_all(www.join("feed")).expect("www");
    let uuid = "5f0c2b4e-1d2a-4b7e-9c1e-0a1b2c3d4e5f";
    std::fs::write(
        www.join("feed/manifest.json"),
        format!("{{\"{uuid}\": {{\"info\": \"test\", \"timestamp\": \"1700000000\"}}}}"),
    )
    .expect("manifest");
    let event = format!(
        r#"{{"Event": {{"uuid": "{uuid}", "info": "test event", "Tag": [{{"name": "tlp:green"}}],
        "Attribute": [
          {{"type": "ip-dst", "value": "45.33.32.156", "to_ids": true, "category": "Network activity"}},
          {{"type": "domain", "value": "evil-c2.kordon-test.net", "to_ids": true, "category": "Network activity"}},
          {{"type": "url", "value": "http://bad.kordon-test.org/x", "to_ids": true, "category": "Network activity"}},
          {{"type": "ip-dst", "value": "127.0.0.1", "to_ids": true, "category": "Network activity"}}
        ]}}}}"#
    );
    std::fs::write(www.join(format!("feed/{uuid}.json")), &event).expect("event");
    let port = serve_dir(www.clone());
    let feeds = format!(
        "[[feeds]]\nname = \"misp-test\"\ntype = \"misp\"\nset = \"misp\"\n\
         url = \"http://127.0.0.1:{port}/feed/\"\npoll_interval_secs = 1\n"
    );
    let env = Env::new("misp", &feeds);
    let _collector = env.start_collector();
    wait_for("the MISP feed to load", || {
        env.feeds()
            .contains("misp-test set=misp kind=misp status=ok version=1")
    });
    let out = env.feeds();
    assert!(out.contains("accepted=3"), "{out}");
    assert!(out.contains("suppressed by the allowlist"), "{out}");
    // A broken document: the load fails, version 1 stays live and the failure is visible.
    std::fs::write(www.join(format!("feed/{uuid}.json")), "{ not json").expect("break");
    wait_for("the failure to be recorded", || {
        env.feeds().contains("status=FAILED")
    });
    let out = env.feeds();
    assert!(out.contains("version=1"), "{out}");
    assert!(out.contains("set misp version 1"), "{out}");
    assert!(env.log("collector.log").contains("feed load failed"));
    let _ = std::fs::remove_dir_all(&www);
    let _ = std::fs::remove_dir_all(&env.dir);
}
