//! `kordon-collector`: serve agents and SOC clients, query the store, manage the PKI.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kordon_collector::config::Config;
use kordon_collector::store::sqlite::SqliteStore;
use kordon_collector::store::{Store, now_us};
use kordon_collector::{auth, pki, render, server};
use kordon_proto::AlertFilter;

/// Kordon collector: receives agents' alert streams over mTLS gRPC, stores them exactly once,
/// serves SOC clients.
#[derive(Debug, Parser)]
#[command(name = "kordon-collector", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gRPC server until SIGINT/SIGTERM.
    Serve {
        /// Configuration file (TOML; see deploy/collector/collector.toml).
        #[arg(long, value_name = "PATH")]
        config: PathBuf,
        /// Plaintext, unauthenticated gRPC on a loopback address, for the demo only.
        #[arg(long = "insecure-dev")]
        insecure_dev: bool,
    },
    /// Print stored alerts (reads the store directly; the server may be running or not).
    Alerts {
        /// Configuration file naming the store.
        #[arg(long, value_name = "PATH")]
        config: PathBuf,
        /// Only alerts stored within this long ago: e.g. 90s, 15m, 2h, 7d. Defaults to all.
        #[arg(long, value_name = "DURATION")]
        since: Option<String>,
        /// Only alerts after this store cursor. Defaults to 0 (from the oldest).
        #[arg(long = "after-cursor", value_name = "N", default_value_t = 0)]
        after_cursor: u64,
        /// Only alerts from these agents (repeatable). Defaults to all.
        #[arg(long = "agent", value_name = "ID")]
        agents: Vec<String>,
        /// At most this many alerts, 1–1000000.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        limit: usize,
        /// EVE JSON lines (with a `kordon.agent` and `kordon.cursor`) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the fleet: every agent that reported, with its last heartbeat.
    Agents {
        /// Configuration file naming the store.
        #[arg(long, value_name = "PATH")]
        config: PathBuf,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Follow the live alert stream over gRPC (a SOC client), as EVE JSON lines.
    Subscribe {
        /// Collector URL: https://HOST:PORT (or http://127.0.0.1:PORT with --insecure-dev).
        #[arg(long, value_name = "URL")]
        collector: String,
        /// CA certificate (PEM) that signed the collector's certificate.
        #[arg(long, value_name = "PATH")]
        ca: Option<PathBuf>,
        /// Client certificate (PEM, OU kordon-soc).
        #[arg(long, value_name = "PATH", requires = "key")]
        cert: Option<PathBuf>,
        /// Client key (PEM).
        #[arg(long, value_name = "PATH", requires = "cert")]
        key: Option<PathBuf>,
        /// Bearer token (instead of a client certificate). Defaults to $KORDON_TOKEN if set
        /// (prefer it: a command line is visible to other users).
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Resume after this cursor. Defaults to 0 (everything retained, then live).
        #[arg(long = "since-cursor", value_name = "N", default_value_t = 0)]
        since_cursor: u64,
        /// Only alerts at least this severe (EVE scale 1–3; 0 = all).
        #[arg(long = "max-severity", value_name = "LEVEL", default_value_t = 0)]
        max_severity: u32,
        /// Only these agents (repeatable).
        #[arg(long = "agent", value_name = "ID")]
        agents: Vec<String>,
        /// Stop after this many alerts. Defaults to never.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Allow plaintext to a loopback collector started with --insecure-dev.
        #[arg(long = "insecure-dev")]
        insecure_dev: bool,
    },
    /// List the indicator feeds: each one's last load status, report and set version, then
    /// the stored versions of every set (reads the intel store directly).
    Feeds {
        /// Configuration file naming the state folder.
        #[arg(long, value_name = "PATH")]
        config: PathBuf,
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Certificates for mTLS.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Print a new random SOC bearer token and the `[[soc.tokens]]` entry for it.
    Token {
        /// Who will hold it.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum PkiCommand {
    /// Create a CA and the collector's server certificate.
    Init {
        /// Folder for the files (created; must not hold a CA yet).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Extra DNS names or IP addresses for the server certificate (repeatable); localhost,
        /// 127.0.0.1 and ::1 are always included.
        #[arg(long = "server-name", value_name = "NAME")]
        server_names: Vec<String>,
    },
    /// Issue an agent certificate: CN = NAME, which must be the agent's --agent-id.
    IssueAgent {
        /// Agent id.
        name: String,
        /// PKI folder.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Issue a feed client certificate (OU kordon-feed: may push indicators).
    IssueFeed {
        /// Feed name.
        name: String,
        /// PKI folder.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Create the Ed25519 bundle-signing key pair (bundle-signing.key/.pub) if absent; `init`
    /// does this too. Agents pin the .pub file (--bundle-key).
    InitSigningKey {
        /// PKI folder.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Issue a SOC client certificate.
    IssueClient {
        /// Client name.
        name: String,
        /// PKI folder.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("kordon-collector: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KORDON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// Parses `90s`, `15m`, `2h`, `7d`.
fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("{text:?}: expected a number and s, m, h or d"))?;
    let secs = match unit {
        "s" | "" => number,
        "m" => number.saturating_mul(60),
        "h" => number.saturating_mul(3600),
        "d" => number.saturating_mul(86_400),
        _ => bail!("{text:?}: unit must be s, m, h or d"),
    };
    Ok(Duration::from_secs(secs))
}

fn open_store(config: &std::path::Path) -> anyhow::Result<SqliteStore> {
    let config = Config::load(config)?;
    let path = config.store_path();
    if !path.exists() {
        bail!(
            "no store at {} (has the collector run yet?)",
            path.display()
        );
    }
    SqliteStore::open_read_only(&path).with_context(|| format!("opening {}", path.display()))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            config,
            insecure_dev,
        } => {
            let config = Config::load(&config)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("collector")
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(server::serve(config, insecure_dev, shutdown_signal()))?;
            Ok(())
        }
        Command::Alerts {
            config,
            since,
            after_cursor,
            agents,
            limit,
            json,
        } => {
            if !(1..=1_000_000).contains(&limit) {
                bail!("--limit {limit} is outside 1–1000000");
            }
            let store = open_store(&config)?;
            let filter = AlertFilter {
                agents,
                since_cursor: after_cursor,
                ..AlertFilter::default()
            };
            let alerts = match since {
                Some(since) => {
                    let age =
                        i64::try_from(parse_duration(&since)?.as_micros()).unwrap_or(i64::MAX);
                    store.query_since_time(&filter, now_us().saturating_sub(age), limit)?
                }
                None => store.query(&filter, limit)?,
            };
            let mut out = std::io::stdout().lock();
            for alert in &alerts {
                use std::io::Write;
                let line = if json {
                    render::eve_json(alert).to_string()
                } else {
                    render::text_line(alert)
                };
                if writeln!(out, "{line}").is_err() {
                    break; // closed pipe (| head)
                }
            }
            Ok(())
        }
        Command::Agents { config, json } => {
            let stale_after_us = Config::load(&config)?.fleet.stale_after_secs as i64 * 1_000_000;
            let store = open_store(&config)?;
            let now = now_us();
            let agents = store.agents()?;
            if !json {
                println!(
                    "{:<20} {:<10} {:>8} {:>10} {:>10} {:>8} {:>10} {:>8} {:>9} {:>10}  status",
                    "agent",
                    "version",
                    "seen s",
                    "pkts/s",
                    "drops/s",
                    "alerts",
                    "spool",
                    "corrupt",
                    "set-ver",
                    "indicators"
                );
            }
            for agent in agents {
                let ago = (now - agent.last_seen_us) as f64 / 1e6;
                let stale = now - agent.last_seen_us > stale_after_us;
                if json {
                    let mut value = serde_json::to_value(&agent)?;
                    if let Some(obj) = value.as_object_mut() {
                        obj.insert("stale".into(), stale.into());
                    }
                    println!("{value}");
                } else {
                    let hb = agent.heartbeat.clone().unwrap_or_default();
                    println!(
                        "{:<20} {:<10} {:>8.0} {:>10.0} {:>10.0} {:>8} {:>10} {:>8} {:>9} {:>10}  {}",
                        agent.agent_id,
                        agent.version,
                        ago,
                        agent.packets_per_sec,
                        agent.drops_per_sec,
                        agent.alerts_stored,
                        hb.spool_records,
                        hb.spool_corrupt,
                        hb.indicator_version,
                        hb.indicator_count,
                        if stale { "STALE" } else { "ok" }
                    );
                }
            }
            Ok(())
        }
        Command::Subscribe {
            collector,
            ca,
            cert,
            key,
            token,
            since_cursor,
            max_severity,
            agents,
            count,
            insecure_dev,
        } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(subscribe(SubscribeArgs {
                collector,
                ca,
                cert,
                key,
                token: token.or_else(|| std::env::var("KORDON_TOKEN").ok()),
                filter: AlertFilter {
                    max_severity,
                    agents,
                    since_cursor,
                    ..AlertFilter::default()
                },
                count,
                insecure_dev,
            }))
        }
        Command::Feeds { config, json } => {
            let config = Config::load(&config)?;
            let path = config.state_dir.join("intel.sqlite");
            if !path.exists() {
                bail!(
                    "no intel store at {} (has the collector run yet?)",
                    path.display()
                );
            }
            let store = kordon_collector::feeds::store::IntelStore::open_read_only(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            let statuses = store.statuses()?;
            for feed in &config.feeds {
                if !statuses.iter().any(|s| s.feed == feed.name) {
                    println!("{} set={} status=never-loaded", feed.name, feed.set);
                }
            }
            for s in statuses {
                if json {
                    println!("{}", serde_json::to_value(&s)?);
                } else {
                    println!(
                        "{} set={} kind={} status={} version={} accepted={} last-attempt-s-ago={:.0} message={:?}\n  report: {}",
                        s.feed,
                        s.set,
                        s.kind,
                        if s.ok { "ok" } else { "FAILED" },
                        s.set_version,
                        s.accepted,
                        (now_us() - s.attempt_us) as f64 / 1e6,
                        s.message,
                        s.report
                    );
                }
            }
            if !json {
                for (set, version, entries, created) in store.versions()? {
                    println!(
                        "set {set} version {version}: {entries} indicators, made {:.0} s ago",
                        (now_us() - created) as f64 / 1e6
                    );
                }
            }
            Ok(())
        }
        Command::Pki { command } => {
            let written = match command {
                PkiCommand::Init { dir, server_names } => pki::init(&dir, &server_names)?,
                PkiCommand::IssueAgent { name, dir } => pki::issue(&dir, &name, pki::Role::Agent)?,
                PkiCommand::IssueClient { name, dir } => pki::issue(&dir, &name, pki::Role::Soc)?,
                PkiCommand::IssueFeed { name, dir } => pki::issue(&dir, &name, pki::Role::Feed)?,
                PkiCommand::InitSigningKey { dir } => pki::init_signing_key(&dir)?,
            };
            for path in written {
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Token { name } => {
            let mut bytes = [0u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
                .context("reading /dev/urandom")?;
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            println!("token (give to {name}; shown once): {token}");
            println!(
                "config:\n[[soc.tokens]]\nname = {name:?}\nsha256 = \"{}\"",
                auth::token_sha256_hex(&token)
            );
            Ok(())
        }
    }
}

struct SubscribeArgs {
    collector: String,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    token: Option<String>,
    filter: AlertFilter,
    count: Option<u64>,
    insecure_dev: bool,
}

async fn subscribe(args: SubscribeArgs) -> anyhow::Result<()> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
    let mut endpoint = Endpoint::from_shared(args.collector.clone())
        .with_context(|| format!("collector URL {:?}", args.collector))?
        .connect_timeout(Duration::from_secs(10));
    if args.collector.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        if let Some(ca) = &args.ca {
            tls = tls.ca_certificate(Certificate::from_pem(
                std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?,
            ));
        }
        if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
            tls = tls.identity(Identity::from_pem(
                std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?,
                std::fs::read(key).with_context(|| format!("reading {}", key.display()))?,
            ));
        }
        endpoint = endpoint.tls_config(tls)?;
    } else if !args.insecure_dev {
        bail!("plaintext {} needs --insecure-dev", args.collector);
    }
    let channel = endpoint.connect().await.context("connecting")?;
    let token = args.token.clone();
    let mut client = kordon_proto::soc_service_client::SocServiceClient::with_interceptor(
        channel,
        move |mut request: tonic::Request<()>| {
            if let Some(token) = &token {
                let value = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| tonic::Status::invalid_argument("token is not ASCII"))?;
                request.metadata_mut().insert("authorization", value);
            }
            Ok(request)
        },
    );
    let mut stream = client.subscribe_alerts(args.filter).await?.into_inner();
    let mut seen = 0u64;
    while let Some(alert) = stream.message().await? {
        println!("{}", render::eve_json(&alert));
        seen += 1;
        if args.count.is_some_and(|n| seen >= n) {
            break;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(error) => {
            tracing::warn!(error = %error, "cannot watch SIGTERM; stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}
