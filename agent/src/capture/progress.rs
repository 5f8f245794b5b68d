//! A progress line on stderr while reading capture files interactively.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress over a known total of file bytes.
pub struct Progress {
    enabled: bool,
    total_bytes: u64,
    done_bytes: u64,
    packets: u64,
    started: Instant,
    last_draw: Instant,
}

/// libpcap's per-record header in a classic pcap file; close enough for pcapng to estimate.
const RECORD_OVERHEAD: u64 = 16;

impl Progress {
    /// Enabled only when stderr is a terminal, so logs and CI output stay clean.
    pub fn new(total_bytes: u64) -> Self {
        let now = Instant::now();
        Progress {
            enabled: std::io::stderr().is_terminal() && total_bytes > 0,
            total_bytes,
            done_bytes: 0,
            packets: 0,
            started: now,
            last_draw: now,
        }
    }

    /// Accounts one packet; redraws at most four times a second, checking the clock only every
    /// few thousand packets so the capture loop stays cheap.
    #[inline]
    pub fn packet(&mut self, caplen: usize) {
        self.packets += 1;
        self.done_bytes += caplen as u64 + RECORD_OVERHEAD;
        if self.enabled && self.packets.is_multiple_of(8192) {
            let now = Instant::now();
            if now.duration_since(self.last_draw) >= Duration::from_millis(250) {
                self.last_draw = now;
                self.draw(now);
            }
        }
    }

    fn draw(&self, now: Instant) {
        let fraction = (self.done_bytes as f64 / self.total_bytes as f64).min(1.0);
        let width = 30;
        let filled = (fraction * width as f64) as usize;
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-9);
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        eprint!(
            "\r[{bar}] {:5.1}%  {} packets  {:.2} Mpps ",
            fraction * 100.0,
            self.packets,
            self.packets as f64 / secs / 1e6
        );
        let _ = std::io::stderr().flush();
    }

    /// Clears the line.
    pub fn finish(&self) {
        if self.enabled {
            eprint!("\r{:80}\r", "");
        }
    }
}
