//! OT policy indicators: which hosts may issue which classes of industrial-protocol functions,
//! and which host pairs are known to speak an OT protocol at all.
//!
//! An ordinary indicator says "this value is bad". An OT policy says the opposite: it lists what
//! is *allowed* (the engineering workstation may write holding registers on units 1–10; the SCADA
//! master may operate breakers on IEC-104 station 400), and everything else of a monitored class
//! is a violation. The agent's decoders map each protocol's function codes to an [`OtClass`]
//! (the tables live next to each decoder, with spec references) and report an [`OtAccess`] per
//! request; [`crate::IndicatorSet::match_ot`] answers which policy entries it violates.
//!
//! # How a policy becomes indicators
//!
//! Each (policy, protocol, monitored class) becomes one indicator of kind
//! [`crate::IndicatorKind::OtPolicy`] with value `<policy>:<protocol>.<class>` and id
//! `ot-policy:<policy>:<protocol>.<class>`, carrying the policy's severity, TLP and tags. A
//! violation reports that indicator's [`crate::MatchId`], so alerts, dedup and the alert's
//! `kordon.indicator` work exactly as for any other indicator, and the policy swaps atomically
//! with the rest of the set (it is compiled into the same [`crate::IndicatorSet`]). Likewise
//! `<policy>:<protocol>.new_peer` for the known-peers check.
//!
//! # "Never used it": known peers
//!
//! "An OT protocol seen between hosts that never used it" is decided against an explicit list of
//! known (client, server, protocols) pairs in the policy — typically produced from a baseline
//! capture of normal operation — not learned at run time. That keeps the sensor's memory bounded
//! by the policy's size, makes the verdict identical on every worker and every agent of a fleet,
//! and lets the operator review what "normal" means before it is enforced.
//!
//! # Cost
//!
//! Policies are small (tens to hundreds of grants). Matching scans the grants of the rules for
//! the access's protocol linearly, without allocating; a set without OT policies returns at once.

mod load;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use ipnet::IpNet;

pub use load::{MAX_POLICY_BYTES, load_ot_policy, parse_ot_policy};

/// An OT protocol Kordon decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OtProtocol {
    /// Modbus/TCP.
    Modbus,
    /// DNP3 over TCP or UDP.
    Dnp3,
    /// IEC 60870-5-104.
    Iec104,
    /// Siemens S7comm over TPKT/COTP.
    S7comm,
}

impl OtProtocol {
    /// Every protocol, in a stable order.
    pub const ALL: [OtProtocol; 4] = [
        OtProtocol::Modbus,
        OtProtocol::Dnp3,
        OtProtocol::Iec104,
        OtProtocol::S7comm,
    ];

    /// Name used in policies, locations and EVE (`modbus`, `dnp3`, `iec104`, `s7comm`).
    pub fn as_str(self) -> &'static str {
        match self {
            OtProtocol::Modbus => "modbus",
            OtProtocol::Dnp3 => "dnp3",
            OtProtocol::Iec104 => "iec104",
            OtProtocol::S7comm => "s7comm",
        }
    }

    /// Parses [`OtProtocol::as_str`] names (case-insensitive; also `s7`, `iec-104`).
    pub fn from_name(name: &str) -> Option<OtProtocol> {
        match name.trim().to_ascii_lowercase().as_str() {
            "modbus" => Some(OtProtocol::Modbus),
            "dnp3" => Some(OtProtocol::Dnp3),
            "iec104" | "iec-104" | "iec60870-5-104" => Some(OtProtocol::Iec104),
            "s7comm" | "s7" => Some(OtProtocol::S7comm),
            _ => None,
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A class of OT function, the unit of authorisation in a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OtClass {
    /// Reading process values, configuration or status.
    Read,
    /// Writing process values (registers, coils, variables, setpoints).
    Write,
    /// Control / operate: select-before-operate, direct operate, commands to outputs.
    Operate,
    /// Restarting a device or its communications (cold/warm restart, reset process).
    Restart,
    /// Program download/upload, block transfers, firmware replacement.
    Program,
    /// Stopping the device's program or application.
    Stop,
    /// File transfer and file management.
    File,
}

impl OtClass {
    /// Every class, in a stable order.
    pub const ALL: [OtClass; 7] = [
        OtClass::Read,
        OtClass::Write,
        OtClass::Operate,
        OtClass::Restart,
        OtClass::Program,
        OtClass::Stop,
        OtClass::File,
    ];

    /// Name used in policies and locations.
    pub fn as_str(self) -> &'static str {
        match self {
            OtClass::Read => "read",
            OtClass::Write => "write",
            OtClass::Operate => "operate",
            OtClass::Restart => "restart",
            OtClass::Program => "program",
            OtClass::Stop => "stop",
            OtClass::File => "file",
        }
    }

    /// Parses [`OtClass::as_str`] names (also `control` for operate, `download` and `upload`
    /// for program).
    pub fn from_name(name: &str) -> Option<OtClass> {
        match name.trim().to_ascii_lowercase().as_str() {
            "read" => Some(OtClass::Read),
            "write" => Some(OtClass::Write),
            "operate" | "control" => Some(OtClass::Operate),
            "restart" => Some(OtClass::Restart),
            "program" | "download" | "upload" => Some(OtClass::Program),
            "stop" => Some(OtClass::Stop),
            "file" => Some(OtClass::File),
            _ => None,
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// One OT request as the agent saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtAccess {
    /// The protocol.
    pub protocol: OtProtocol,
    /// The function's class; `None` for "this protocol was spoken" (the known-peers check).
    pub class: Option<OtClass>,
    /// The host that issued the request.
    pub requester: IpAddr,
    /// The host it was sent to.
    pub responder: IpAddr,
    /// The unit (Modbus), destination (DNP3), common address (IEC-104) or rack/slot-less PLC
    /// (S7: none) the request targets, when the protocol has one.
    pub address: Option<u32>,
}

/// An inclusive range of unit/station/common addresses.
pub type AddressRange = (u32, u32);

/// Hosts allowed to issue some classes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtGrant {
    /// Requesters the grant covers.
    pub hosts: Vec<IpNet>,
    /// Responders the grant covers; empty means any.
    pub servers: Vec<IpNet>,
    /// Classes allowed.
    pub classes: Vec<OtClass>,
    /// Addresses allowed; empty means any.
    pub addresses: Vec<AddressRange>,
}

/// The policy for one protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtRule {
    /// The protocol.
    pub protocol: OtProtocol,
    /// Classes that need a grant (the others are not monitored).
    pub monitor: Vec<OtClass>,
    /// Grants.
    pub allow: Vec<OtGrant>,
}

/// A (client, server) pair known to speak some OT protocols.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPeer {
    /// The requesting side.
    pub client: IpNet,
    /// The responding side.
    pub server: IpNet,
    /// Protocols the pair is known to use; empty means all.
    pub protocols: Vec<OtProtocol>,
}

/// The known-peers check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtPeers {
    /// Protocols checked.
    pub protocols: Vec<OtProtocol>,
    /// Known pairs.
    pub known: Vec<KnownPeer>,
}

/// A whole policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtPolicy {
    /// The policy's name, part of every indicator id it creates.
    pub name: String,
    /// One rule per protocol (several rules for one protocol are evaluated independently).
    pub rules: Vec<OtRule>,
    /// The known-peers check, if requested.
    pub peers: Option<OtPeers>,
}

/// The indicator value for a violated (policy, protocol, class).
pub fn violation_value(policy: &str, protocol: OtProtocol, class: Option<OtClass>) -> String {
    match class {
        Some(class) => format!("{policy}:{}.{}", protocol.as_str(), class.as_str()),
        None => format!("{policy}:{}.new_peer", protocol.as_str()),
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct CompiledGrant {
    hosts: Vec<IpNet>,
    servers: Vec<IpNet>,
    classes: u8,
    addresses: Vec<AddressRange>,
}

impl CompiledGrant {
    fn permits(&self, access: &OtAccess, class: OtClass) -> bool {
        self.classes & class.bit() != 0
            && self.hosts.iter().any(|n| contains(n, access.requester))
            && (self.servers.is_empty()
                || self.servers.iter().any(|n| contains(n, access.responder)))
            && (self.addresses.is_empty()
                || access
                    .address
                    .is_some_and(|a| self.addresses.iter().any(|&(lo, hi)| lo <= a && a <= hi)))
    }
}

fn contains(net: &IpNet, ip: IpAddr) -> bool {
    net.contains(&ip.to_canonical())
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    protocol: OtProtocol,
    /// Entry index of the violation indicator per class (indexed by `OtClass as usize`).
    entries: [Option<u32>; 7],
    grants: Vec<CompiledGrant>,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledPeers {
    /// Entry index of the new-peer indicator per protocol (indexed by `OtProtocol as usize`).
    entries: [Option<u32>; 4],
    known: Vec<(IpNet, IpNet, u8)>,
}

/// Every policy of a set, compiled; part of [`crate::IndicatorSet`].
#[derive(Clone, Debug, Default)]
pub(crate) struct CompiledOt {
    rules: Vec<CompiledRule>,
    peers: Vec<CompiledPeers>,
}

impl CompiledOt {
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.peers.is_empty()
    }

    /// Adds a policy whose indicator entries were already added; `entry` resolves an indicator
    /// value to its entry index.
    pub(crate) fn add(&mut self, policy: &OtPolicy, mut entry: impl FnMut(&str) -> Option<u32>) {
        for rule in &policy.rules {
            let mut entries = [None; 7];
            for &class in &rule.monitor {
                if let Some(slot) = entries.get_mut(class as usize) {
                    *slot = entry(&violation_value(&policy.name, rule.protocol, Some(class)));
                }
            }
            let grants = rule
                .allow
                .iter()
                .map(|g| CompiledGrant {
                    hosts: g.hosts.iter().map(IpNet::trunc).collect(),
                    servers: g.servers.iter().map(IpNet::trunc).collect(),
                    classes: g.classes.iter().fold(0, |m, c| m | c.bit()),
                    addresses: g.addresses.clone(),
                })
                .collect();
            self.rules.push(CompiledRule {
                protocol: rule.protocol,
                entries,
                grants,
            });
        }
        if let Some(peers) = &policy.peers {
            let mut entries = [None; 4];
            for &protocol in &peers.protocols {
                if let Some(slot) = entries.get_mut(protocol as usize) {
                    *slot = entry(&violation_value(&policy.name, protocol, None));
                }
            }
            let known = peers
                .known
                .iter()
                .map(|k| {
                    let mask = if k.protocols.is_empty() {
                        u8::MAX
                    } else {
                        k.protocols.iter().fold(0, |m, p| m | p.bit())
                    };
                    (k.client.trunc(), k.server.trunc(), mask)
                })
                .collect();
            self.peers.push(CompiledPeers { entries, known });
        }
    }

    /// Calls `emit` with the entry index of every policy entry `access` violates.
    pub(crate) fn violations(&self, access: &OtAccess, mut emit: impl FnMut(u32)) {
        match access.class {
            Some(class) => {
                for rule in self.rules.iter().filter(|r| r.protocol == access.protocol) {
                    let Some(Some(entry)) = rule.entries.get(class as usize) else {
                        continue;
                    };
                    if !rule.grants.iter().any(|g| g.permits(access, class)) {
                        emit(*entry);
                    }
                }
            }
            None => {
                for peers in &self.peers {
                    let Some(Some(entry)) = peers.entries.get(access.protocol as usize) else {
                        continue;
                    };
                    let known = peers.known.iter().any(|(client, server, mask)| {
                        mask & access.protocol.bit() != 0
                            && contains(client, access.requester)
                            && contains(server, access.responder)
                    });
                    if !known {
                        emit(*entry);
                    }
                }
            }
        }
    }

    pub(crate) fn memory_usage(&self) -> usize {
        let grant = |g: &CompiledGrant| {
            std::mem::size_of::<CompiledGrant>()
                + (g.hosts.capacity() + g.servers.capacity()) * std::mem::size_of::<IpNet>()
                + g.addresses.capacity() * std::mem::size_of::<AddressRange>()
        };
        self.rules
            .iter()
            .map(|r| {
                std::mem::size_of::<CompiledRule>() + r.grants.iter().map(grant).sum::<usize>()
            })
            .sum::<usize>()
            + self
                .peers
                .iter()
                .map(|p| {
                    std::mem::size_of::<CompiledPeers>()
                        + p.known.capacity() * std::mem::size_of::<(IpNet, IpNet, u8)>()
                })
                .sum::<usize>()
    }
}
