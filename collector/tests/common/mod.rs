//! Helpers shared by the collector's end-to-end tests: where the binaries are, running a command
//! that must succeed, and polling a condition with a deadline (a loaded 2-core machine makes
//! fixed sleeps unreliable).

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest any polled condition may take.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The collector binary built for these tests.
pub fn collector_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kordon-collector")
}

/// `target/<profile>`, from the test executable's own path (`target/<profile>/deps/x-<hash>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The agent's binaries (`kordon-agent`, `kordon-sample`), built once if absent (a workspace
/// test run builds them anyway; `cargo test -p kordon-collector` alone does not).
pub fn agent_bins() -> &'static (PathBuf, PathBuf) {
    static BINS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BINS.get_or_init(|| {
        let dir = target_dir();
        let agent = dir.join("kordon-agent");
        let sample = dir.join("kordon-sample");
        if !agent.exists() || !sample.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "kordon-agent", "--bins"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building kordon-agent failed");
        }
        (agent, sample)
    })
}

/// Runs `cmd`, panicking with its stderr unless it succeeds; returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `condition` every 25 ms until it holds, failing the test after [`DEADLINE`].
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A fresh scratch directory `kordon-<name>-<pid>` under the system temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kordon-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `pki init` in `dir`, then one `pki <command> <name>` per pair (e.g. `("issue-agent",
/// "sensor-1")`): the certificates a scenario needs.
pub fn make_pki(dir: &Path, issue: &[(&str, &str)]) {
    run_ok(
        Command::new(collector_bin())
            .args(["pki", "init", "--dir"])
            .arg(dir),
    );
    for (command, name) in issue {
        run_ok(
            Command::new(collector_bin())
                .args(["pki", command, name, "--dir"])
                .arg(dir),
        );
    }
}

/// A loopback port that was free a moment ago (fixed, so a restarted collector keeps its URL).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}
