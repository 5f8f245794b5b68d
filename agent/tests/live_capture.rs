//! Live capture end to end: two network namespaces joined by a veth pair, tcpreplay sends a
//! capture built here into one end, the agent captures on the other and must see every packet,
//! report zero drops, and alert on the indicator flows. Needs root (namespaces, CAP_NET_RAW),
//! `ip` and `tcpreplay`; skips with a printed reason otherwise.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::PcapWriter;
use serde_json::Value;

const FLOWS: u32 = 2500;
const PACKETS_PER_FLOW: u32 = 8;

fn skip_reason() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: live capture in network namespaces needs root".into());
    }
    for tool in ["ip", "tcpreplay"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!(
                "{tool} not installed (scripts/setup.sh installs it)"
            ));
        }
    }
    None
}

/// Runs a command, panicking with its output when it fails.
fn sh(args: &[&str]) {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Two namespaces and a veth pair, removed on drop (also when the test fails).
struct Netns {
    tx: String,
    rx: String,
}

impl Netns {
    fn new() -> Self {
        let id = std::process::id();
        let netns = Netns {
            tx: format!("kordon-tx-{id}"),
            rx: format!("kordon-rx-{id}"),
        };
        sh(&["ip", "netns", "add", &netns.tx]);
        sh(&["ip", "netns", "add", &netns.rx]);
        sh(&[
            "ip", "link", "add", "kveth-tx", "netns", &netns.tx, "type", "veth", "peer", "name",
            "kveth-rx", "netns", &netns.rx,
        ]);
        for (ns, dev) in [(&netns.tx, "kveth-tx"), (&netns.rx, "kveth-rx")] {
            // No IPv6 on the link, so the kernel's own neighbour discovery adds no packets.
            sh(&[
                "ip",
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                &format!("net.ipv6.conf.{dev}.disable_ipv6=1"),
            ]);
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        netns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for ns in [&self.tx, &self.rx] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn capture() -> Vec<u8> {
    let mut pcap = PcapWriter::new();
    for flow in 0..FLOWS {
        let client = [10, 20, (flow >> 8) as u8, flow as u8];
        // Every 50th flow talks to the indicator address.
        let server = if flow % 50 == 0 {
            [185, 100, 87, 66]
        } else {
            [81, 2, 69, 10]
        };
        let sport = 20000 + flow as u16;
        pcap.tcp(client, server, sport, 443, "S", b"");
        pcap.tcp(server, client, 443, sport, "SA", b"");
        for i in 0..(PACKETS_PER_FLOW - 2) / 2 {
            pcap.tcp(client, server, sport, 443, "A", &[i as u8; 300]);
            pcap.tcp(server, client, 443, sport, "A", &[i as u8; 1200]);
        }
    }
    pcap.bytes
}

#[test]
fn agent_captures_every_packet_from_a_veth_pair() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("kordon-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    let pcap = dir.join("live.pcap");
    std::fs::write(&pcap, capture()).expect("pcap");
    std::fs::write(dir.join("indicators.txt"), "185.100.87.66\n").expect("indicators");
    let eve: PathBuf = dir.join("eve.json");
    let stats = dir.join("stats.json");

    let netns = Netns::new();
    let mut agent = Command::new("ip")
        .args(["netns", "exec", &netns.rx])
        .arg(env!("CARGO_BIN_EXE_kordon-agent"))
        .args(["--interface", "kveth-rx", "--bpf", "ip", "--workers", "2"])
        .arg("--indicators")
        .arg(dir.join("indicators.txt"))
        .arg("--eve")
        .arg(&eve)
        .arg("--stats-json")
        .arg(&stats)
        .env("KORDON_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start agent");
    let stderr = agent.stderr.take().expect("stderr");
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("live capture started") {
                let _ = started_tx.send(());
            }
            lines.push(line);
        }
        lines
    });
    started_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("agent did not start capturing within 30 s");

    let replay = Command::new("ip")
        .args([
            "netns",
            "exec",
            &netns.tx,
            "tcpreplay",
            "--topspeed",
            "-i",
            "kveth-tx",
        ])
        .arg(&pcap)
        .output()
        .expect("run tcpreplay");
    assert!(
        replay.status.success(),
        "tcpreplay: {}",
        String::from_utf8_lossy(&replay.stderr)
    );

    // Give the agent a moment to drain the ring, then stop it as an operator would.
    let sent = u64::from(FLOWS * PACKETS_PER_FLOW);
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: plain kill(2) on our child's pid.
    unsafe {
        libc::kill(agent.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = agent.try_wait().expect("wait agent") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "agent did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = log.join().expect("log thread");
    assert!(
        status.success(),
        "agent exit {status}; log:\n{}",
        log.join("\n")
    );

    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats file")).expect("JSON");
    eprintln!("live capture: sent {sent}, stats {stats}");
    assert_eq!(
        stats["packets"].as_u64(),
        Some(sent),
        "every packet captured"
    );
    assert_eq!(stats["capture"]["kernel_dropped"], 0);
    assert_eq!(stats["capture"]["queue_dropped"], 0);
    assert_eq!(stats["flows"]["created"].as_u64(), Some(u64::from(FLOWS)));
    let alerts = std::fs::read_to_string(&eve)
        .expect("eve")
        .lines()
        .filter(|l| l.contains("\"event_type\":\"alert\""))
        .count();
    assert_eq!(alerts as u32, FLOWS / 50, "one alert per indicator flow");
    drop(netns);
    let _ = std::fs::remove_dir_all(&dir);
}
