//! A flow's application-layer session: reassembly, detection and the bound parser.

use super::detect::{self, DetectConfig, Detection, L4, MAX_PROBE_BYTES, ProtocolDef, StreamDepth};
use super::stream::{Chunk, StreamConfig, StreamDir};
use super::{AppParser, AppSink, Direction, ParseOutcome};

/// App-layer settings shared by every flow of a worker.
#[derive(Clone, Debug, Default)]
pub struct AppConfig {
    /// TCP reassembly limits.
    pub stream: StreamConfig,
    /// Detection settings.
    pub detect: DetectConfig,
    /// Protocols to detect (normally [`detect::PROTOCOLS`]; tests narrow it).
    pub protocols: Vec<&'static ProtocolDef>,
}

impl AppConfig {
    /// Every protocol Kordon parses, with default limits.
    pub fn all_protocols() -> Self {
        AppConfig {
            protocols: detect::PROTOCOLS.to_vec(),
            ..AppConfig::default()
        }
    }
}

/// Upgrades (SOCKS → TLS, CONNECT → TLS…) allowed per flow, so a hostile peer cannot make the
/// worker re-detect forever.
const MAX_UPGRADES: u8 = 4;

enum Phase {
    Detecting,
    Parsing(Box<dyn AppParser>),
    /// No protocol recognised, or the parser finished: nothing more to do for this flow.
    Idle,
}

/// Per-flow application-layer state; created on the flow's first payload byte.
pub struct Session {
    l4: L4,
    ports: (u16, u16),
    phase: Phase,
    streams: [StreamDir; 2],
    probe_buffers: [Vec<u8>; 2],
    direction_done: [bool; 2],
    identified: Option<&'static str>,
    /// Whether the bound protocol reads whole streams ([`StreamDepth::Unlimited`]).
    unlimited_depth: bool,
    upgrades: u8,
}

impl Session {
    /// A session for a flow from `client_port` to `server_port`.
    pub fn new(l4: L4, client_port: u16, server_port: u16) -> Self {
        Session {
            l4,
            ports: (client_port, server_port),
            phase: Phase::Detecting,
            streams: [StreamDir::default(), StreamDir::default()],
            probe_buffers: [Vec::new(), Vec::new()],
            direction_done: [false; 2],
            identified: None,
            unlimited_depth: false,
            upgrades: 0,
        }
    }

    /// The protocol identified (the innermost after upgrades), or `None` if none was.
    pub fn app_proto(&self) -> Option<&'static str> {
        self.identified
    }

    /// Whether the session wants no more packets.
    pub fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle)
    }

    /// The flow ended: lets the bound parser report what it still holds
    /// ([`AppParser::finish`]); the session is idle afterwards.
    pub fn finish(&mut self, sink: &mut dyn AppSink) {
        self.end_parser(sink);
        self.phase = Phase::Idle;
    }

    /// Calls [`AppParser::finish`] on the bound parser, if any, before it is replaced or dropped.
    fn end_parser(&mut self, sink: &mut dyn AppSink) {
        if let Phase::Parsing(parser) = &mut self.phase {
            parser.finish(sink);
        }
    }

    /// Feeds a TCP segment. `ack` is the segment's acknowledgment number when its ACK flag is
    /// set: the peer acknowledging bytes of the other direction that were never captured means
    /// they are lost, so that direction's hole is declared a gap instead of stalling it.
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_segment(
        &mut self,
        config: &AppConfig,
        dir: Direction,
        seq: u32,
        syn: bool,
        ack: Option<u32>,
        payload: &[u8],
        sink: &mut dyn AppSink,
    ) {
        if self.is_idle() {
            return;
        }
        let stream_config = if self.unlimited_depth {
            StreamConfig {
                depth: u32::MAX,
                ..config.stream
            }
        } else {
            config.stream
        };
        let other = dir.reverse();
        if let Some(ack) = ack
            && !self.direction_done[other.index()]
        {
            let mut stream = std::mem::take(&mut self.streams[other.index()]);
            stream.acked(&stream_config, ack, &mut |chunk| {
                self.feed(config, other, chunk, sink)
            });
            self.streams[other.index()] = stream;
        }
        if self.is_idle() || self.direction_done[dir.index()] {
            return;
        }
        let mut stream = std::mem::take(&mut self.streams[dir.index()]);
        stream.segment(&stream_config, seq, syn, payload, &mut |chunk| {
            self.feed(config, dir, chunk, sink)
        });
        self.streams[dir.index()] = stream;
    }

    /// Feeds a UDP datagram.
    pub fn datagram(
        &mut self,
        config: &AppConfig,
        dir: Direction,
        payload: &[u8],
        sink: &mut dyn AppSink,
    ) {
        if payload.is_empty() || self.is_idle() || self.direction_done[dir.index()] {
            return;
        }
        // Each datagram is probed on its own: there is no stream to accumulate.
        self.probe_buffers[dir.index()].clear();
        self.feed(config, dir, Chunk::Data(payload), sink);
    }

    /// Handles one chunk; returns whether this direction wants more.
    fn feed(
        &mut self,
        config: &AppConfig,
        dir: Direction,
        chunk: Chunk<'_>,
        sink: &mut dyn AppSink,
    ) -> bool {
        let data = match chunk {
            Chunk::Gap => {
                let outcome = match &mut self.phase {
                    Phase::Parsing(parser) => parser.gap(dir),
                    // A hole before the protocol is known: this direction cannot be identified.
                    _ => ParseOutcome::DoneDirection,
                };
                return self.apply(config, dir, outcome, &[], sink);
            }
            Chunk::Data(data) => data,
        };
        match &mut self.phase {
            Phase::Idle => false,
            Phase::Parsing(parser) => {
                let outcome = parser.parse(dir, data, sink);
                self.apply(config, dir, outcome, data, sink)
            }
            Phase::Detecting => self.detect_then_parse(config, dir, data, sink),
        }
    }

    fn detect_then_parse(
        &mut self,
        config: &AppConfig,
        dir: Direction,
        data: &[u8],
        sink: &mut dyn AppSink,
    ) -> bool {
        // Bytes of `data` that went into the probe buffer (all of `data` when probing it
        // directly); the rest, if any, follows once a parser is bound.
        let buffered = !self.probe_buffers[dir.index()].is_empty();
        let taken = if buffered {
            let buffer = &mut self.probe_buffers[dir.index()];
            let taken = data.len().min(MAX_PROBE_BYTES.saturating_sub(buffer.len()));
            buffer.extend_from_slice(&data[..taken]);
            taken
        } else {
            data.len()
        };
        let ports = match dir {
            Direction::ToServer => self.ports,
            Direction::ToClient => (self.ports.1, self.ports.0),
        };
        let probe_bytes = if buffered {
            &self.probe_buffers[dir.index()][..]
        } else {
            data
        };
        let detection = detect::detect(
            &config.detect,
            &config.protocols,
            self.l4,
            ports,
            dir,
            probe_bytes,
        );
        match detection {
            Detection::Found(def) => {
                let mut parser = (def.new_parser)(self.l4);
                self.identified = Some(def.name);
                self.unlimited_depth = def.stream_depth == StreamDepth::Unlimited;
                let bytes = if buffered {
                    std::mem::take(&mut self.probe_buffers[dir.index()])
                } else {
                    Vec::new()
                };
                let first: &[u8] = if buffered { &bytes } else { data };
                let outcome = parser.parse(dir, first, sink);
                self.phase = Phase::Parsing(parser);
                let more = self.apply(config, dir, outcome, first, sink);
                match data.get(taken..) {
                    Some(rest) if more && !rest.is_empty() => {
                        self.feed(config, dir, Chunk::Data(rest), sink)
                    }
                    _ => more,
                }
            }
            Detection::Wait => {
                if !buffered {
                    let buffer = &mut self.probe_buffers[dir.index()];
                    buffer.extend_from_slice(&data[..data.len().min(MAX_PROBE_BYTES)]);
                }
                true
            }
            Detection::Unknown => {
                self.probe_buffers = [Vec::new(), Vec::new()];
                self.phase = Phase::Idle;
                false
            }
        }
    }

    fn apply(
        &mut self,
        config: &AppConfig,
        dir: Direction,
        outcome: ParseOutcome,
        data: &[u8],
        sink: &mut dyn AppSink,
    ) -> bool {
        match outcome {
            ParseOutcome::Continue => true,
            ParseOutcome::DoneDirection => {
                self.direction_done[dir.index()] = true;
                if self.direction_done.iter().all(|d| *d) {
                    self.end_parser(sink);
                    self.phase = Phase::Idle;
                }
                false
            }
            ParseOutcome::Done => {
                self.end_parser(sink);
                self.phase = Phase::Idle;
                false
            }
            ParseOutcome::Upgrade { consumed } => {
                self.end_parser(sink);
                if self.upgrades >= MAX_UPGRADES {
                    self.phase = Phase::Idle;
                    return false;
                }
                self.upgrades += 1;
                self.phase = Phase::Detecting;
                self.probe_buffers = [Vec::new(), Vec::new()];
                self.direction_done = [false; 2];
                match data.get(consumed..) {
                    Some(rest) if !rest.is_empty() => {
                        self.feed(config, dir, Chunk::Data(rest), sink)
                    }
                    _ => true,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
