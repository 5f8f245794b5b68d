//! `kordon-sample`: deterministic sample captures and indicator lists for demos, tests and
//! benchmarks. Same arguments, same bytes: every random choice comes from a seeded SplitMix64
//! stream, timestamps start at a fixed instant, and nothing reads the clock or the environment.
//!
//! ```text
//! kordon-sample capture    --out bench.pcap --packets 1000000 --flows 40000 --seed 1
//! kordon-sample indicators --out ind.txt --ipv4 1000000 --cidr 200000 --seed 1 \
//!                          --hit-from bench.pcap --hit-rate 0.02 --suricata-dir suricata/
//! kordon-sample indicators --out app.txt --ipv4 0 --cidr 0 --domains 1000000 --ja3 50000 \
//!                          --ja4 50000 --ja3-out app-ja3.txt --hit-from bench.pcap --suricata-dir s/
//! kordon-sample capture    --profile demo --out demo.pcap
//! kordon-sample indicators --profile demo --out demo-indicators.txt
//! ```

mod addrs;
mod appind;
mod capture;
mod indicators;
mod payload;
mod pcap_out;
mod rng;

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use capture::{CaptureParams, Profile};
use indicators::IndicatorParams;

#[derive(Parser, Debug)]
#[command(
    name = "kordon-sample",
    version,
    about = "Deterministic sample captures and indicator lists"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Write a classic pcap (Ethernet, microsecond timestamps) of interleaved flows.
    Capture(CaptureArgs),
    /// Write a plain indicator list (and optionally Suricata dataset/iprep files of the same set).
    Indicators(IndicatorArgs),
}

#[derive(clap::Args, Debug)]
struct CaptureArgs {
    /// Output pcap file.
    #[arg(long)]
    out: PathBuf,
    /// Exact number of packets. Defaults to 100000 (mixed) or 400 (demo).
    #[arg(long)]
    packets: Option<u64>,
    /// Approximate number of flows. Defaults to packets / 25 (mixed) or 40 (demo).
    #[arg(long)]
    flows: Option<u64>,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = Profile::Mixed)]
    profile: Profile,
}

#[derive(clap::Args, Debug)]
struct IndicatorArgs {
    /// Output plain list (one value per line, `#` comments).
    #[arg(long)]
    out: PathBuf,
    /// Number of IPv4 address indicators (mixed profile).
    #[arg(long, default_value_t = 100_000)]
    ipv4: u64,
    /// Number of IPv4 CIDR indicators (mixed profile).
    #[arg(long, default_value_t = 20_000)]
    cidr: u64,
    /// Number of domain indicators (exact names; matched on dns.query, tls.sni, http.host).
    #[arg(long, default_value_t = 0)]
    domains: u64,
    /// Number of JA3 indicators (written to --ja3-out; load with `plain:ja3=PATH`).
    #[arg(long, default_value_t = 0)]
    ja3: u64,
    /// Number of JA4 indicators (in the plain list: the agent infers their kind).
    #[arg(long, default_value_t = 0)]
    ja4: u64,
    /// Output of the JA3 list. Defaults to the --out path with extension `ja3.txt`.
    #[arg(long)]
    ja3_out: Option<PathBuf>,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Capture to plant hits from: addresses of some of its IPv4 flows, and DNS query names, TLS
    /// SNIs, HTTP hosts and ClientHello JA3/JA4 of some of its flows, are added to the set.
    #[arg(long)]
    hit_from: Option<PathBuf>,
    /// Fraction of the capture's IPv4 flows that should match (with --hit-from); likewise, per
    /// kind, of the flows carrying names, JA3 or JA4.
    #[arg(long, default_value_t = 0.02)]
    hit_rate: f64,
    /// Also write Suricata formats here: ipv4.lst (dataset type ipv4), iprep/categories.txt,
    /// iprep/cidr.list; domains.lst and ja4.lst (type string, base64), ja3.lst (type md5).
    #[arg(long)]
    suricata_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Profile::Mixed)]
    profile: Profile,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Capture(a) => run_capture(a),
        Cmd::Indicators(a) => run_indicators(a),
    }
}

fn run_capture(a: CaptureArgs) -> anyhow::Result<()> {
    let (packets, flows) = match a.profile {
        Profile::Mixed => {
            let p = a.packets.unwrap_or(100_000);
            (p, a.flows.unwrap_or((p / 25).max(1)))
        }
        Profile::Demo => (a.packets.unwrap_or(400), a.flows.unwrap_or(40)),
    };
    let params = CaptureParams {
        packets,
        flows,
        seed: a.seed,
        profile: a.profile,
    };
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = a.out.with_extension("partial");
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let s = capture::generate(&params, BufWriter::with_capacity(1 << 20, file))
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &a.out).with_context(|| format!("renaming to {}", a.out.display()))?;
    println!(
        "{}",
        serde_json::json!({
            "out": a.out,
            "packets": s.packets,
            "bytes": s.bytes,
            "avg_frame_bytes": s.bytes.checked_div(s.packets).unwrap_or(0),
            "flows_started": s.flows_started,
            "ipv4_flows": s.ipv4_flows,
            "ipv6_flows": s.ipv6_flows,
            "vlan_flows": s.vlan_flows,
            "tcp_flows": s.tcp_flows,
            "udp_flows": s.udp_flows,
            "icmp_flows": s.icmp_flows,
            "duration_secs": (s.last_ts_us.saturating_sub(s.first_ts_us)) as f64 / 1e6,
        })
    );
    Ok(())
}

fn run_indicators(a: IndicatorArgs) -> anyhow::Result<()> {
    if a.profile == Profile::Demo {
        indicators::write_demo(&a.out, a.seed, a.suricata_dir.as_deref())?;
        println!("{}", serde_json::json!({ "out": a.out, "profile": "demo" }));
        return Ok(());
    }
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.hit_rate),
        "--hit-rate must be within 0..=1, got {}",
        a.hit_rate
    );
    let params = IndicatorParams {
        ipv4: a.ipv4,
        cidr: a.cidr,
        seed: a.seed,
        hit_from: a.hit_from.clone(),
        hit_rate: a.hit_rate,
    };
    let set = indicators::generate(&params)?;
    let s = &set.summary;
    let app_flows = match (&a.hit_from, a.domains + a.ja3 + a.ja4) {
        (_, 0) | (None, _) => Vec::new(),
        (Some(p), _) => appind::read_capture_app(p)?.0,
    };
    let app = appind::generate(
        &appind::AppParams {
            domains: a.domains,
            ja3: a.ja3,
            ja4: a.ja4,
            seed: a.seed,
            hit_rate: a.hit_rate,
        },
        &app_flows,
    );
    let p = &app.summary;
    let mut command = format!(
        "kordon-sample indicators --ipv4 {} --cidr {} --seed {}",
        a.ipv4, a.cidr, a.seed
    );
    if a.domains + a.ja3 + a.ja4 > 0 {
        command.push_str(&format!(
            " --domains {} --ja3 {} --ja4 {}",
            a.domains, a.ja3, a.ja4
        ));
    }
    if let Some(h) = &a.hit_from {
        let name = h.file_name().map_or_else(
            || h.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        command.push_str(&format!(" --hit-from {name} --hit-rate {}", a.hit_rate));
    }
    let header = vec![
        "Kordon sample indicators: synthetic, deterministic (same arguments, same file)."
            .to_string(),
        format!("generated-by: {command}"),
        format!(
            "ipv4: {} ({} planted from the capture), cidr: {} ({} planted)",
            s.ipv4, s.planted_ipv4, s.cidr, s.planted_cidr
        ),
        format!("capture-ipv4-flows: {}", s.capture_ipv4_flows),
        format!("expected-matching-flows: {}", s.matching_flows),
        format!(
            "matching flows by side: initiator {}, responder {}; via CIDR only {}",
            s.matching_as_src, s.matching_as_dst, s.matching_via_cidr_only
        ),
    ];
    let mut header = header;
    if a.domains + a.ja3 + a.ja4 > 0 {
        header.extend([
            format!(
                "domains: {} ({} planted), ja3: {} ({} planted), ja4: {} ({} planted)",
                p.domains, p.planted_domains, p.ja3, p.planted_ja3, p.ja4, p.planted_ja4
            ),
            format!(
                "capture-app-flows: {} (with a name: {}, with a ClientHello: {})",
                p.capture_app_flows, p.capture_name_flows, p.capture_tls_flows
            ),
            format!("expected-matching-app-flows: {}", p.matching_app_flows),
            format!(
                "expected app flows by kind: domain {}, ja3 {}, ja4 {}",
                p.matching_domain, p.matching_ja3, p.matching_ja4
            ),
            format!("expected-dns.query-flows: {}", p.matching_dns_query),
            format!("expected-tls.sni-flows: {}", p.matching_tls_sni),
            format!("expected-http.host-flows: {}", p.matching_http_host),
            format!("expected-domain-flows: {}", p.matching_domain),
            format!("expected-ja3-flows: {}", p.matching_ja3),
            format!("expected-ja4-flows: {}", p.matching_ja4),
        ]);
    }
    indicators::write_plain(&a.out, &set, &header, &[&app.domains, &app.ja4])?;
    let ja3_out = a
        .ja3_out
        .clone()
        .unwrap_or_else(|| a.out.with_extension("ja3.txt"));
    if a.ja3 > 0 {
        appind::write_ja3(&ja3_out, &app, &header)?;
    }
    if let Some(dir) = &a.suricata_dir {
        indicators::write_suricata(dir, &set)?;
        appind::write_suricata(dir, &app)?;
    }
    println!(
        "{}",
        serde_json::json!({
            "out": a.out,
            "summary": s,
            "app_summary": p,
            "ja3_out": (a.ja3 > 0).then_some(&ja3_out),
            "suricata_dir": a.suricata_dir,
        })
    );
    Ok(())
}
