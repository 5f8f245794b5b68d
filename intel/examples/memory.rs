//! Measures what a compiled set costs: `cargo run --release -p kordon-intel --example memory --
//! <ipv4|domain|none> [count]`, ideally under `/usr/bin/time -v`. Prints build time,
//! `memory_usage()`, and the process's current and peak RSS, so the per-indicator RSS can be
//! compared with a `none` run. Exists because DESIGN.md's memory bar is stated in RSS at 1M
//! indicators, which a unit test cannot afford to build.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use kordon_intel::{Indicator, IndicatorKind, IndicatorMeta, IndicatorSetBuilder, IndicatorValue};

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "ipv4".to_owned());
    let n: u32 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let meta = Arc::new(IndicatorMeta {
        source: "bench".into(),
        set: "default".into(),
        ..Default::default()
    });
    let rss_before = rss_kib("VmRSS:");

    // Values are prepared outside the timed section for domains (string formatting is not the
    // builder's cost), inline for addresses.
    let names: Vec<String> = if mode == "domain" {
        (0..n)
            .map(|i| {
                format!(
                    "h{:x}.bad-{}.example",
                    i.wrapping_mul(2_654_435_761),
                    i % 1000
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let rss_inputs = rss_kib("VmRSS:");

    let start = Instant::now();
    let mut builder = IndicatorSetBuilder::new();
    match mode.as_str() {
        "ipv4" => {
            for i in 0..n {
                let ip = IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761)));
                builder.add(Indicator {
                    id: None,
                    kind: IndicatorKind::Ipv4,
                    value: IndicatorValue::Ip(ip),
                    score: None,
                    meta: meta.clone(),
                });
            }
        }
        "domain" => {
            for name in names {
                builder.add(Indicator {
                    id: None,
                    kind: IndicatorKind::Domain,
                    value: IndicatorValue::Domain {
                        name,
                        subdomains: false,
                    },
                    score: None,
                    meta: meta.clone(),
                });
            }
        }
        _ => {}
    }
    let added = start.elapsed();
    let builder_bytes = builder.memory_usage();
    let set = match builder.build() {
        Ok(set) => set,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let built = start.elapsed();

    // A quick lookup loop so the number is on record next to the memory.
    let lookups = 10_000_000u32;
    let mut out = Vec::with_capacity(8);
    let t = Instant::now();
    let mut hits = 0usize;
    for i in 0..lookups {
        out.clear();
        if mode == "domain" {
            let name = if i % 2 == 0 {
                "www.example.com"
            } else {
                "h0.bad-0.example"
            };
            set.match_domain(name, 0, &mut out);
        } else {
            set.match_ip(
                IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761 / 3))),
                0,
                &mut out,
            );
        }
        hits += out.len();
    }
    let per_lookup = t.elapsed().as_nanos() as f64 / f64::from(lookups);

    let rss_after = rss_kib("VmRSS:");
    let n_f = f64::from(n.max(1));
    println!("mode={mode} n={n}");
    println!(
        "add: {:.3}s, add+build: {:.3}s",
        added.as_secs_f64(),
        built.as_secs_f64()
    );
    println!(
        "builder memory_usage before build: {:.1} B/indicator",
        builder_bytes as f64 / n_f
    );
    println!(
        "set memory_usage: {} bytes = {:.1} B/indicator",
        set.memory_usage(),
        set.memory_usage() as f64 / n_f
    );
    println!(
        "RSS: start {rss_before} KiB, inputs {rss_inputs} KiB, after build {rss_after} KiB, peak {} KiB; set RSS {:.1} B/indicator",
        rss_kib("VmHWM:"),
        (rss_after.saturating_sub(rss_inputs) * 1024) as f64 / n_f
    );
    println!("lookup: {per_lookup:.1} ns ({hits} hits)");
    drop(set);
}
