//! Packet sources (capture files and live interfaces) and the dispatcher that batches packets
//! to workers.

pub mod dispatch;
pub mod live;
pub mod offline;
pub mod progress;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use dispatch::{Dispatcher, QueuePolicy};

/// Set by SIGINT/SIGTERM; capture loops check it between packets and stop cleanly.
#[derive(Clone, Debug, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    /// A flag that is not yet raised.
    pub fn new() -> Self {
        Shutdown::default()
    }

    /// Raises the flag.
    pub fn request(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is raised.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Raises the flag on SIGINT or SIGTERM.
    pub fn install_signal_handlers(&self) -> std::io::Result<()> {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&self.0))?;
        }
        Ok(())
    }
}

/// Microseconds since the epoch from a libpcap timestamp.
// `time_t`/`suseconds_t` are i64 on 64-bit Linux but narrower on 32-bit targets.
#[allow(clippy::useless_conversion)]
pub fn timeval_us(tv: &libc::timeval) -> i64 {
    i64::from(tv.tv_sec)
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(tv.tv_usec))
}
