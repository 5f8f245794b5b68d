//! Where events go after the workers: the EVE file, and (with a collector) the uplink.
//!
//! Every sink runs on the single writer thread, in arrival order. A sink must not block on the
//! network: the uplink hands events to its own spool and sender, so a slow or absent collector
//! never backs up into the workers.

use std::io::{self, BufWriter, Write};

use crate::eve;
use crate::event::Event;

/// A consumer of worker events.
pub trait EventSink: Send {
    /// Takes one event.
    fn write(&mut self, event: &Event) -> io::Result<()>;
    /// Called whenever the event queue runs dry, and at shutdown: make what was written visible
    /// (flush buffers, hand batches on).
    fn flush(&mut self) -> io::Result<()>;
}

/// EVE JSON lines into any writer, buffered.
pub struct EveSink {
    out: BufWriter<Box<dyn Write + Send>>,
}

impl EveSink {
    /// Wraps `out` with a 256 KiB buffer.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        EveSink {
            out: BufWriter::with_capacity(256 * 1024, out),
        }
    }
}

impl EventSink for EveSink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        eve::write_event(&mut self.out, event)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
