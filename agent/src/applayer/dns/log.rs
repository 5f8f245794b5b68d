//! The EVE `dns` record in Suricata 8's version 3 layout: one record per message, `type`
//! `request` or `response`, header fields, then `queries`, `answers` (with `grouped`),
//! `authorities` and `additionals` as present.

use serde_json::{Map, Value, json};

use super::parser::{Message, Rdata, Record, RrType, Section, txt_strings};
use crate::applayer::AppRecord;

/// Builds the record of a parsed message (`bytes` is the message, for TXT data).
pub fn dns_record(message: &Message, bytes: &[u8]) -> AppRecord {
    let header = message.header;
    let flags = header.flags;
    let mut dns = Map::new();
    dns.insert("version".into(), json!(3));
    let kind = if flags.qr() { "response" } else { "request" };
    dns.insert("type".into(), json!(kind));
    dns.insert("id".into(), json!(header.id));
    dns.insert("flags".into(), json!(format!("{:x}", flags.0)));
    for (set, name) in [
        (flags.qr(), "qr"),
        (flags.aa(), "aa"),
        (flags.tc(), "tc"),
        (flags.rd(), "rd"),
        (flags.ra(), "ra"),
        (flags.z(), "z"),
        (flags.ad(), "ad"),
        (flags.cd(), "cd"),
    ] {
        if set {
            dns.insert(name.into(), json!(true));
        }
    }
    dns.insert("opcode".into(), json!(flags.opcode()));
    let rcode = flags.rcode();
    let rcode = rcode
        .name()
        .map_or_else(|| rcode.0.to_string(), str::to_string);
    dns.insert("rcode".into(), json!(rcode));

    let queries: Vec<Value> = message
        .section(Section::Question)
        .map(|q| {
            let mut entry = Map::new();
            entry.insert("rrname".into(), json!(rrname(message, q)));
            if q.name.truncated {
                entry.insert("rrname_truncated".into(), json!(true));
            }
            entry.insert("rrtype".into(), json!(rrtype_name(q.rrtype)));
            Value::Object(entry)
        })
        .collect();
    if !queries.is_empty() {
        dns.insert("queries".into(), Value::Array(queries));
    }
    for (section, key) in [
        (Section::Answer, "answers"),
        (Section::Authority, "authorities"),
        (Section::Additional, "additionals"),
    ] {
        let records: Vec<Value> = message
            .section(section)
            .map(|r| record_json(message, bytes, r))
            .collect();
        if !records.is_empty() {
            dns.insert(key.into(), Value::Array(records));
        }
    }
    let grouped = grouped(message, bytes);
    if !grouped.is_empty() {
        dns.insert("grouped".into(), Value::Object(grouped));
    }
    AppRecord {
        app_proto: "dns",
        fields: Value::Object(dns),
    }
}

/// Suricata's mnemonic, or the number as text.
fn rrtype_name(rrtype: RrType) -> String {
    rrtype
        .name()
        .map_or_else(|| rrtype.0.to_string(), str::to_string)
}

/// An owner name, `<root>` for the root as Suricata prints it.
fn rrname(message: &Message, record: &Record) -> String {
    match message.name(record.name) {
        "" => "<root>".to_string(),
        name => name.to_string(),
    }
}

fn txt_text(bytes: &[u8], offset: u32, len: u16) -> String {
    let rdata = span(bytes, offset, len);
    let strings: Vec<String> = txt_strings(rdata)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    strings.join(" ")
}

/// The `rdata` text of the types Suricata prints as one string.
fn rdata_text(message: &Message, bytes: &[u8], data: &Rdata) -> Option<String> {
    Some(match *data {
        Rdata::A(a) => a.to_string(),
        Rdata::Aaaa(a) => a.to_string(),
        Rdata::Name(name) => message.name(name).to_string(),
        Rdata::Mx { exchange, .. } => message.name(exchange).to_string(),
        Rdata::Txt { offset, len } => txt_text(bytes, offset, len),
        Rdata::Other { offset, len } if len > 0 => bytes_text(span(bytes, offset, len)),
        _ => return None,
    })
}

fn record_json(message: &Message, bytes: &[u8], record: &Record) -> Value {
    let mut out = Map::new();
    out.insert("rrname".into(), json!(rrname(message, record)));
    if record.name.truncated {
        out.insert("rrname_truncated".into(), json!(true));
    }
    out.insert("rrtype".into(), json!(rrtype_name(record.rrtype)));
    out.insert("ttl".into(), json!(record.ttl));
    if let Some(text) = rdata_text(message, bytes, &record.data) {
        out.insert("rdata".into(), json!(text));
    }
    match record.data {
        Rdata::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            out.insert(
                "srv".into(),
                json!({
                    "priority": priority,
                    "weight": weight,
                    "port": port,
                    "name": message.name(target),
                }),
            );
        }
        Rdata::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => {
            out.insert(
                "soa".into(),
                json!({
                    "mname": message.name(mname),
                    "rname": message.name(rname),
                    "serial": serial,
                    "refresh": refresh,
                    "retry": retry,
                    "expire": expire,
                    "minimum": minimum,
                }),
            );
        }
        Rdata::Sshfp {
            algo,
            fp_type,
            offset,
            len,
        } => {
            let fingerprint: Vec<String> = span(bytes, offset, len)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            out.insert(
                "sshfp".into(),
                json!({
                    "fingerprint": fingerprint.join(":"),
                    "algo": algo,
                    "type": fp_type,
                }),
            );
        }
        _ => {}
    }
    Value::Object(out)
}

fn span(bytes: &[u8], offset: u32, len: u16) -> &[u8] {
    let start = offset as usize;
    bytes
        .get(start..start + usize::from(len))
        .unwrap_or_default()
}

/// Raw bytes as Suricata prints them: UTF-8 as is; otherwise ASCII kept and every other byte
/// as `\xNN`.
fn bytes_text(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        if b.is_ascii() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Answer data grouped by type (`{"A": ["1.2.3.4"], "CNAME": ["x"]}`), Suricata's `grouped`.
fn grouped(message: &Message, bytes: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    for record in message.section(Section::Answer) {
        if let Some(text) = rdata_text(message, bytes, &record.data)
            && let Value::Array(list) = out
                .entry(rrtype_name(record.rrtype))
                .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(json!(text));
        }
    }
    out
}
