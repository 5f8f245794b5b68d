//! Measures what an agent pays to take a 1M-entry signed bundle live: signature check, decode
//! (bounded, hash-checked) and compilation into an `IndicatorSet` (issue 5 bar: < 1 s).
//!
//! Run: `cargo run --release -p kordon-intel --example bundle_compile [entries]`.
//! The mix is 90% IPv4, 5% domains, 3% URLs, 2% networks, in 64 metadata records (a realistic
//! number of feeds and MISP events), every tenth entry with a feed id.

use std::sync::Arc;
use std::time::Instant;

use kordon_intel::bundle::{Bundle, BundleEntry, SigningKey, verify};
use kordon_intel::{IndicatorKind, IndicatorMeta, IndicatorValue, Severity, Tlp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let metas: Vec<Arc<IndicatorMeta>> = (0..64)
        .map(|i| {
            Arc::new(IndicatorMeta {
                source: format!("misp:feed-{i}").into(),
                set: "default".into(),
                severity: Severity::High,
                confidence: 70,
                tlp: Tlp::Amber,
                tags: vec![Arc::from(format!("misp-event=event-{i}").as_str())].into(),
                valid_from: Some(1_700_000_000),
                valid_until: None,
                allowlist: false,
            })
        })
        .collect();
    let t = Instant::now();
    let entries: Vec<BundleEntry> = (0..n)
        .map(|i| {
            let x = u32::try_from(i).unwrap_or(u32::MAX);
            let (kind, value) = match i % 100 {
                0..=89 => (
                    IndicatorKind::Ipv4,
                    IndicatorValue::Ip(std::net::Ipv4Addr::from(0x0b00_0000 + x).into()),
                ),
                90..=94 => (
                    IndicatorKind::Domain,
                    IndicatorValue::Domain {
                        name: format!("c2-{i}.evil-domain.org"),
                        subdomains: i % 2 == 0,
                    },
                ),
                95..=97 => (
                    IndicatorKind::Url,
                    IndicatorValue::Text(format!("dl-{i}.evil-domain.org/payload/{i}.bin")),
                ),
                _ => (
                    IndicatorKind::Cidr,
                    IndicatorValue::Cidr(ipnet::IpNet::V4(ipnet::Ipv4Net::new(
                        std::net::Ipv4Addr::from(0x6400_0000 + (x << 8)),
                        24,
                    )?)),
                ),
            };
            Ok(BundleEntry {
                kind,
                category: 0,
                value,
                score: None,
                id: (i % 10 == 0).then(|| format!("5bad2495-a1e8-48a8-ad21-{i:012x}")),
                meta: Arc::clone(&metas[i % metas.len()]),
            })
        })
        .collect::<Result<_, ipnet::PrefixLenError>>()?;
    let generate = t.elapsed();

    let t = Instant::now();
    let bundle = Bundle::from_entries("default", 42, entries)?;
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let signed = bundle.sign(&key)?;
    let build_sign = t.elapsed();
    drop(bundle);

    let pinned = key.verifying_key();
    let t = Instant::now();
    let verified = verify(&signed, &pinned, 41)?;
    let verify_decode = t.elapsed();
    let t = Instant::now();
    let set = verified.into_inner().into_set()?;
    let compile = t.elapsed();

    println!("entries: {n}, signed bundle: {} bytes", signed.len());
    println!("collector side: generate {generate:?}, canonicalise+encode+sign {build_sign:?}");
    println!(
        "agent side: verify signature + decode {verify_decode:?}, compile {compile:?}, total {:?}",
        verify_decode + compile
    );
    println!(
        "set: {} indicators, {} bytes ({:.1} bytes/indicator)",
        set.len(),
        set.memory_usage(),
        set.memory_usage() as f64 / set.len().max(1) as f64
    );
    let mut out = Vec::new();
    set.match_ip("11.0.0.5".parse()?, 1_800_000_000, &mut out);
    assert_eq!(out.len(), 1, "a loaded address matches");
    Ok(())
}
