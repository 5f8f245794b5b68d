//! Live capture from an interface.
//!
//! Immediate mode is deliberately off: libpcap then uses TPACKET_V3, whose ring holds packets in
//! variable-size slots, instead of TPACKET_V2's fixed snaplen-sized frames (with a 64 KiB snaplen a
//! 64 MiB V2 ring holds only about a thousand packets, and a burst overflows it). V3 hands over a
//! block when it fills or when the read timeout retires it, which bounds latency to that timeout.
//!
//! libpcap 1.10's TPACKET_V3 handle blocks forever on an idle interface, whatever the read timeout,
//! so the handle is put in non-blocking mode and the loop waits in `poll(2)` with a short timeout:
//! that keeps shutdown, partial-batch flushing, idle flow expiry and kernel-drop statistics working
//! when no traffic arrives.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pcap::{Active, Capture};

use super::{Dispatcher, Shutdown, timeval_us};
use crate::decode::LinkType;
use crate::stats::KernelStats;

/// Live capture settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveConfig {
    /// Interface name.
    pub interface: String,
    /// BPF filter expression applied in the kernel.
    pub bpf: Option<String>,
    /// Bytes captured per packet.
    pub snaplen: u32,
    /// Kernel ring size in MiB.
    pub buffer_mb: u32,
    /// Promiscuous mode.
    pub promisc: bool,
}

/// Errors that stop live capture.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// libpcap refused to open or configure the interface.
    #[error("cannot open interface {interface}: {source}")]
    Open {
        /// Interface.
        interface: String,
        /// libpcap's message.
        source: pcap::Error,
    },
    /// The BPF expression did not compile.
    #[error("invalid BPF filter {filter:?}: {source}")]
    Filter {
        /// The expression.
        filter: String,
        /// libpcap's message.
        source: pcap::Error,
    },
    /// The interface's link type is not one Kordon decodes.
    #[error("interface {interface} has unsupported link type {link}")]
    UnsupportedLink {
        /// Interface.
        interface: String,
        /// Link type value.
        link: i32,
    },
    /// Reading failed (interface went away…).
    #[error("capture on {interface} failed: {source}")]
    Read {
        /// Interface.
        interface: String,
        /// libpcap's message.
        source: pcap::Error,
    },
}

const POLL_TIMEOUT_MS: i32 = 100;
const TICK: Duration = Duration::from_secs(1);
/// Under load the clock is read only every this many packets.
const CLOCK_CHECK_PACKETS: u32 = 1024;

/// Opens the interface as configured.
pub fn open(config: &LiveConfig) -> Result<Capture<Active>, LiveError> {
    let open_err = |source| LiveError::Open {
        interface: config.interface.clone(),
        source,
    };
    let snaplen = i32::try_from(config.snaplen).unwrap_or(i32::MAX);
    let buffer = i32::try_from(u64::from(config.buffer_mb) * 1024 * 1024).unwrap_or(i32::MAX);
    let mut capture = Capture::from_device(config.interface.as_str())
        .map_err(open_err)?
        .snaplen(snaplen)
        .promisc(config.promisc)
        .buffer_size(buffer)
        .timeout(POLL_TIMEOUT_MS)
        .open()
        .map_err(open_err)?
        .setnonblock()
        .map_err(open_err)?;
    if let Some(filter) = &config.bpf {
        capture
            .filter(filter, true)
            .map_err(|source| LiveError::Filter {
                filter: filter.clone(),
                source,
            })?;
    }
    Ok(capture)
}

/// Captures until shutdown, feeding the dispatcher and refreshing kernel statistics every second.
pub fn run(
    config: &LiveConfig,
    mut capture: Capture<Active>,
    dispatcher: &mut Dispatcher,
    shutdown: &Shutdown,
    kernel: &Arc<KernelStats>,
) -> Result<(), LiveError> {
    let datalink = capture.get_datalink();
    let link = LinkType::from_pcap(datalink.0);
    if !link.is_supported() {
        return Err(LiveError::UnsupportedLink {
            interface: config.interface.clone(),
            link: datalink.0,
        });
    }
    let fd = capture.as_raw_fd();
    tracing::info!(interface = %config.interface, link = datalink.0, "live capture started");
    let mut last_tick = Instant::now();
    let mut since_clock_check = 0u32;
    while !shutdown.requested() {
        match capture.next_packet() {
            Ok(packet) => {
                let header = packet.header;
                dispatcher.push(timeval_us(&header.ts), header.len, link, packet.data);
                since_clock_check += 1;
            }
            Err(pcap::Error::TimeoutExpired) => {
                // The ring is empty: hand partial batches to the workers now rather than hold
                // them until more traffic arrives, then sleep until the fd is readable.
                dispatcher.flush(None);
                wait_readable(fd);
                since_clock_check = CLOCK_CHECK_PACKETS;
            }
            Err(source) => {
                dispatcher.flush(None);
                return Err(LiveError::Read {
                    interface: config.interface.clone(),
                    source,
                });
            }
        }
        if since_clock_check >= CLOCK_CHECK_PACKETS && last_tick.elapsed() >= TICK {
            since_clock_check = 0;
            last_tick = Instant::now();
            dispatcher.flush(Some(wall_clock_us()));
            refresh_kernel_stats(&mut capture, kernel);
        }
    }
    dispatcher.flush(Some(wall_clock_us()));
    refresh_kernel_stats(&mut capture, kernel);
    Ok(())
}

fn refresh_kernel_stats(capture: &mut Capture<Active>, kernel: &KernelStats) {
    if let Ok(stats) = capture.stats() {
        kernel
            .received
            .store(u64::from(stats.received), Ordering::Relaxed);
        kernel
            .dropped
            .store(u64::from(stats.dropped), Ordering::Relaxed);
        kernel
            .if_dropped
            .store(u64::from(stats.if_dropped), Ordering::Relaxed);
    }
}

fn wait_readable(fd: std::os::fd::RawFd) {
    let mut pollfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pollfd` is a valid, initialised array of one element that outlives the call; the
    // fd belongs to the open capture handle. EINTR (a signal) simply returns early, which is what
    // shutdown wants.
    unsafe {
        libc::poll(&mut pollfd, 1, POLL_TIMEOUT_MS);
    }
}

fn wall_clock_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
