//! OT conformance (issue 6 §4): Modbus against Zeek's `modbus.log` baselines and
//! suricata-verify, IEC-104 against the zeek-iec104 APDU vectors, every OT capture of the corpus
//! through the agent without a panic, and an OT policy end to end (an unauthorised Modbus write
//! alerts at `ot.modbus.write`, the authorised one does not).
//!
//! Each comparison prints `compared/passed` and every case it cannot run is listed in
//! [`SKIPPED`] with its reason.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use common::{PcapWriter, Scratch, corpus_or_skip, pcap_l4_packets, run_agent};
use kordon_agent::applayer::iec104::parser::{Apci, parse_iec104_apdu, parse_iec104_body};
use kordon_agent::applayer::modbus::parser::{
    FunctionCode, Response, parse_modbus_adu, parse_modbus_response,
};
use serde_json::Value;

/// Cases of issue 6 §4 not run here, and why.
const SKIPPED: &[(&str, &str)] = &[
    (
        "icsnpp-s7comm s7comm.log rows of ACK PDUs (ROSCTR 2)",
        "ICSNPP does not log parameterless ACK PDUs (snap7 has one: the error acknowledgement \
         of a Start Upload, error code 0x0c); Kordon logs them, the comparison leaves them out",
    ),
    (
        "suricata-verify/dnp3/* `points[…]` keys",
        "Kordon decodes DNP3 object headers, not object values (`points`); the other keys of \
         those checks are compared (`pcap_cnt` through the capture's packet times)",
    ),
    (
        "suricata-verify/dnp3/* flow checks: `tcp.*`, `flow.state`, `flow.age` keys",
        "Suricata's TCP stream-engine state and flags are not in Kordon's flow event, and Suricata's \
         `flow.age` subtracts whole seconds (29 for a 28.9 s flow) where Kordon's truncates the \
         duration; the other flow keys (app_proto, packets, bytes, reason) are compared",
    ),
    (
        "suricata-verify/dnp3 dnp3_data/dnp3_func/dnp3_obj/dnp3.ind/lua alert checks",
        "they count alerts of Suricata rule keywords; Kordon has no rule language (its DNP3 \
         alerts come from OT policies)",
    ),
    (
        "suricata-verify/dnp3-max-objects, dnp3-max-points",
        "Suricata-specific decoder limits on decoded points/objects (`max-objects: 7` in that \
         test's config); Kordon does not decode points and has no such setting",
    ),
    (
        "suricata-verify/modbus alert checks (sid 1-7)",
        "they count alerts of Suricata `modbus:` rule keywords; Kordon has no rule language, its \
         OT alerts come from policies (covered by ot_policy_alerts_on_unauthorised_write)",
    ),
];

fn print_skips() {
    for (name, reason) in SKIPPED {
        println!("SKIPPED {name}: {reason}");
    }
}

/// Stream depth for OT captures: the default 16 KiB is for hello-style protocols.
fn agent_args(pcap: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "--read".into(),
        pcap.into(),
        "--metadata".into(),
        "--stream-depth-bytes".into(),
        "1048576".into(),
    ];
    args.extend(extra.iter().map(OsString::from));
    args
}

// ---------------------------------------------------------------------------------------------
// Zeek modbus.log
// ---------------------------------------------------------------------------------------------

/// Zeek's `function_codes` names (scripts/base/protocols/modbus/consts.zeek) and `build_func`.
fn zeek_func(code: u8) -> String {
    let name = |c: u8| -> Option<&'static str> {
        Some(match c {
            0x01 => "READ_COILS",
            0x02 => "READ_DISCRETE_INPUTS",
            0x03 => "READ_HOLDING_REGISTERS",
            0x04 => "READ_INPUT_REGISTERS",
            0x05 => "WRITE_SINGLE_COIL",
            0x06 => "WRITE_SINGLE_REGISTER",
            0x07 => "READ_EXCEPTION_STATUS",
            0x08 => "DIAGNOSTICS",
            0x0B => "GET_COMM_EVENT_COUNTER",
            0x0C => "GET_COMM_EVENT_LOG",
            0x0F => "WRITE_MULTIPLE_COILS",
            0x10 => "WRITE_MULTIPLE_REGISTERS",
            0x11 => "REPORT_SLAVE_ID",
            0x14 => "READ_FILE_RECORD",
            0x15 => "WRITE_FILE_RECORD",
            0x16 => "MASK_WRITE_REGISTER",
            0x17 => "READ_WRITE_MULTIPLE_REGISTERS",
            0x18 => "READ_FIFO_QUEUE",
            0x2B => "ENCAP_INTERFACE_TRANSPORT",
            0x5B => "OBJECT_MESSAGING",
            0x09 => "PROGRAM_484",
            0x0A => "POLL_484",
            0x0D => "PROGRAM_584_984",
            0x0E => "POLL_584_984",
            0x12 => "PROGRAM_884_U84",
            0x13 => "RESET_COMM_LINK_884_U84",
            0x28 => "PROGRAM_CONCEPT",
            0x29 => "MULTIPLE_FUNCTION_CODES",
            0x5A => "PROGRAM_UNITY",
            0x7D => "FIRMWARE_REPLACEMENT",
            0x7E => "PROGRAM_584_984_2",
            0x7F => "REPORT_LOCAL_ADDRESS",
            _ => return None,
        })
    };
    let masked = code & 0x7f;
    match (name(code), name(masked)) {
        (Some(n), _) => n.to_string(),
        (None, Some(n)) if code & 0x80 != 0 => format!("{n}_EXCEPTION"),
        _ => format!("unknown-{code}"),
    }
}

fn zeek_exception(code: u8) -> String {
    let names = [
        (0x01, "ILLEGAL_FUNCTION"),
        (0x02, "ILLEGAL_DATA_ADDRESS"),
        (0x03, "ILLEGAL_DATA_VALUE"),
        (0x04, "SLAVE_DEVICE_FAILURE"),
        (0x05, "ACKNOWLEDGE"),
        (0x06, "SLAVE_DEVICE_BUSY"),
        (0x08, "MEMORY_PARITY_ERROR"),
        (0x0A, "GATEWAY_PATH_UNAVAILABLE"),
        (0x0B, "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND"),
    ];
    names
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| format!("unknown-{code}"), |(_, n)| n.to_string())
}

/// A modbus.log row without `ts` and `uid`: id.orig_h, id.orig_p, id.resp_h, id.resp_p, tid,
/// unit, func, pdu_type, exception.
type Row = [String; 9];

fn baseline_rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).expect("read baseline");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            std::array::from_fn(|i| cols.get(i + 2).copied().unwrap_or("-").to_string())
        })
        .collect()
}

fn multiset(rows: &[Row]) -> BTreeMap<Row, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r.clone()).or_insert(0) += 1;
    }
    m
}

/// Rows from Kordon's decoder applied to each TCP payload to or from port 502 (requests are
/// what goes to 502, as Zeek's `likely_server_ports` decides), ADU by ADU.
fn decoder_rows(pcap: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    // Like Zeek (`&enforce` on the protocol id), an invalid ADU ends the flow's analysis; the
    // rows before it stay.
    let mut disabled: std::collections::BTreeSet<(String, u16, String, u16)> = Default::default();
    for p in pcap_l4_packets(pcap) {
        if !p.tcp || (p.dport != 502 && p.sport != 502) || p.payload.is_empty() {
            continue;
        }
        let is_req = p.dport == 502;
        let key = if is_req {
            (p.src.to_string(), p.sport, p.dst.to_string(), p.dport)
        } else {
            (p.dst.to_string(), p.dport, p.src.to_string(), p.sport)
        };
        if disabled.contains(&key) {
            continue;
        }
        if let Err(kordon_agent::applayer::ot::ParseError::Invalid(_)) =
            parse_modbus_adu(&p.payload)
        {
            disabled.insert(key);
            continue;
        }
        let (oh, op, rh, rp) = if is_req {
            (p.src, p.sport, p.dst, p.dport)
        } else {
            (p.dst, p.dport, p.src, p.sport)
        };
        let mut rest: &[u8] = &p.payload;
        while let Ok((next, adu)) = parse_modbus_adu(rest) {
            let exception = if is_req {
                "-".to_string()
            } else {
                match parse_modbus_response(adu.function, adu.data) {
                    Response::Exception(code) => zeek_exception(code.0),
                    _ => "-".to_string(),
                }
            };
            rows.push([
                oh.to_string(),
                op.to_string(),
                rh.to_string(),
                rp.to_string(),
                adu.mbap.transaction_id.to_string(),
                adu.mbap.unit_id.to_string(),
                zeek_func(adu.function.0),
                if is_req { "REQ" } else { "RESP" }.to_string(),
                exception,
            ]);
            rest = next;
        }
    }
    rows
}

/// Rows from the agent's `modbus` EVE events (one per request and one per response).
fn agent_rows(events: &[Value]) -> Vec<Row> {
    let mut rows = Vec::new();
    for e in events.iter().filter(|e| e["event_type"] == "modbus") {
        let m = &e["modbus"];
        let (side, pdu) = if m["response"].is_object() {
            (&m["response"], "RESP")
        } else {
            (&m["request"], "REQ")
        };
        let exception = side["exception"]["raw"]
            .as_u64()
            .map_or("-".to_string(), |c| zeek_exception(c as u8));
        let s = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        rows.push([
            s(&e["src_ip"]),
            s(&e["src_port"]),
            s(&e["dest_ip"]),
            s(&e["dest_port"]),
            s(&side["transaction_id"]),
            s(&side["unit_id"]),
            zeek_func(side["function_raw"].as_u64().unwrap_or(0) as u8),
            pdu.to_string(),
            exception,
        ]);
    }
    rows
}

const ZEEK_MODBUS: &[(&str, &str)] = &[
    (
        "scripts.base.protocols.modbus.modbus_and_non_modbus_on_port_502",
        "Traces/modbus/modbus-and-non-modbus-p502.pcap",
    ),
    (
        "scripts.base.protocols.modbus.exception_handling",
        "Traces/modbus/fuzz-72.pcap",
    ),
    (
        "scripts.base.protocols.modbus.register_parsing",
        "Traces/modbus/fuzz-1011.pcap",
    ),
];

/// Traces compared only partially (overlap printed, not asserted): Zeek's fuzzed traces have
/// random TCP sequence numbers (segments jump back and forth) and begin with the server's
/// packet; which ADUs Zeek then analyses depends on its TCP reassembler's gap handling and its
/// `likely_server_ports` flip, not on Modbus decoding. Kordon's reassembler drops segments far
/// ahead of the stream and takes the first sender as originator.
const PARTIAL: &[&str] = &[
    "scripts.base.protocols.modbus.exception_handling",
    "scripts.base.protocols.modbus.register_parsing",
];

#[test]
fn zeek_modbus_logs() {
    print_skips();
    let Some(corpus) = corpus_or_skip("zeek_modbus_logs") else {
        return;
    };
    let zeek = corpus.join("zeek");
    let scratch = Scratch::new("zeek-modbus");
    let (mut compared, mut passed) = (0, 0);
    for (baseline, trace) in ZEEK_MODBUS {
        let want = multiset(&baseline_rows(
            &zeek.join("Baseline").join(baseline).join("modbus.log"),
        ));
        let pcap = zeek.join(trace);
        let decoded = multiset(&decoder_rows(&pcap));
        let run = run_agent(&scratch, baseline, &scratch.path, &agent_args(&pcap, &[]));
        run.expect_success(baseline);
        let agent = multiset(&agent_rows(&run.events));
        if PARTIAL.contains(baseline) {
            let overlap = |ours: &BTreeMap<Row, usize>| -> usize {
                want.iter()
                    .map(|(row, n)| (*n).min(ours.get(row).copied().unwrap_or(0)))
                    .sum()
            };
            println!(
                "PARTIAL {baseline}: {} Zeek rows; per-packet decoder has {} of them, agent {} \
                 (fuzzed TCP sequence numbers: see PARTIAL)",
                want.values().sum::<usize>(),
                overlap(&decoded),
                overlap(&agent)
            );
            continue;
        }
        compared += 1;
        assert_eq!(decoded, want, "{baseline}: decoder rows differ from Zeek");
        passed += 1;
        compared += 1;
        assert_eq!(agent, want, "{baseline}: agent rows differ from Zeek");
        passed += 1;
    }
    println!("zeek modbus.log: compared {compared}, passed {passed}");
}

// ---------------------------------------------------------------------------------------------
// suricata-verify modbus
// ---------------------------------------------------------------------------------------------

/// Suricata logs one `modbus` event per transaction; Kordon logs the request when it is seen
/// (so policy alerts carry it) and again with its response, under the same `modbus.id`. The
/// comparison keeps the last event of each (flow, id), which is Suricata's transaction.
#[test]
fn suricata_verify_modbus_events() {
    let Some(corpus) = corpus_or_skip("suricata_verify_modbus_events") else {
        return;
    };
    let dir = corpus.join("suricata-verify/tests/modbus");
    let yaml = std::fs::read_to_string(dir.join("test.yaml")).expect("test.yaml");
    let spec = common::parse_yaml(&yaml).expect("yaml parses");
    let scratch = Scratch::new("sv-modbus");
    let run = run_agent(
        &scratch,
        "modbus",
        &scratch.path,
        &agent_args(&dir.join("modbus.pcap"), &[]),
    );
    run.expect_success("modbus");
    let mut txs: BTreeMap<(u64, u64), &Value> = BTreeMap::new();
    for e in run.events.iter().filter(|e| e["event_type"] == "modbus") {
        let key = (
            e["flow_id"].as_u64().unwrap_or(0),
            e["modbus"]["id"].as_u64().unwrap_or(0),
        );
        txs.insert(key, e);
    }
    let (mut compared, mut passed, mut skipped) = (0, 0, 0);
    for check in spec["checks"].as_array().expect("checks") {
        let filter = &check["filter"];
        let matches = filter["match"].as_object().expect("match");
        if matches["event_type"] != "modbus" {
            skipped += 1;
            continue;
        }
        let want = filter["count"].as_u64().expect("count") as usize;
        let got = txs
            .values()
            .filter(|e| {
                let e: &Value = e;
                matches.iter().all(|(k, v)| {
                    let found = k.split('.').fold(e, |node, part| &node[part]);
                    *found == *v
                        || found.to_string().trim_matches('"') == v.to_string().trim_matches('"')
                })
            })
            .count();
        compared += 1;
        assert_eq!(got, want, "suricata-verify/modbus check {matches:?}");
        passed += 1;
    }
    println!(
        "suricata-verify/modbus: compared {compared}, passed {passed}, skipped {skipped} (alert \
         checks, see SKIPPED)"
    );
}

// ---------------------------------------------------------------------------------------------
// zeek-iec104 APDU vectors
// ---------------------------------------------------------------------------------------------

/// Fields Kordon decodes, by the vectors' key names; other keys (element values: `r32`, `sva`,
/// `QDS` bits…) are counted as not compared.
const IEC104_KEYS: &[&str] = &[
    "len",
    "tag",
    "ssn",
    "rsn",
    "type_id",
    "nobj",
    "sq",
    "cot",
    "pn",
    "test",
    "originator_address",
    "common_address",
    "obj_addr",
    "base_addr",
    "raw_data",
];

/// Vectors whose length field disagrees with their bytes (documented as deliberately
/// non-conforming in the corpus README); they are decoded from the bytes present.
const IEC104_NONCONFORMING: &[&str] = &["c_rd_na_1-sq.test"];

fn iec104_fields(
    length: usize,
    apci: Apci,
    asdu: Option<kordon_agent::applayer::iec104::parser::Asdu<'_>>,
) -> Vec<(String, String)> {
    let mut out = vec![("len".to_string(), length.to_string())];
    let mut push = |k: &str, v: String| out.push((k.to_string(), v));
    push("tag", apci.tag().to_string());
    match apci {
        Apci::I { ssn, rsn } => {
            push("ssn", ssn.to_string());
            push("rsn", rsn.to_string());
        }
        Apci::S { rsn } => push("rsn", rsn.to_string()),
        Apci::U(_) => {}
    }
    if let Some(a) = asdu {
        push(
            "type_id",
            format!("TypeID::{}", a.type_id.name().unwrap_or("unknown")),
        );
        push("nobj", a.nobj.to_string());
        push("sq", u8::from(a.sq).to_string());
        push("cot", format!("CoT::{}", a.cot.name().unwrap_or("unknown")));
        push("pn", u8::from(a.cot.negative()).to_string());
        push("test", u8::from(a.cot.test()).to_string());
        push("originator_address", a.originator.to_string());
        push("common_address", a.common_address.to_string());
        if a.sq {
            if let Some(base) = a.first_ioa() {
                push("base_addr", base.to_string());
            }
        } else {
            for o in a.objects() {
                push("obj_addr", o.ioa.to_string());
            }
            if a.type_id.element_size().is_none()
                && let Some(first) = a.first_ioa()
            {
                push("obj_addr", first.to_string());
            }
        }
        for b in a.trailing() {
            push("raw_data", b.to_string());
        }
    }
    out
}

#[test]
fn iec104_vectors() {
    let Some(corpus) = corpus_or_skip("iec104_vectors") else {
        return;
    };
    let dir = corpus.join("zeek-iec104/testing/analyzer");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("vector dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let (mut compared, mut passed, mut not_compared) = (0, 0, 0);
    for file in &files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let text = std::fs::read_to_string(file).expect("vector");
        let mut bytes = Vec::new();
        let mut expected: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.trim_start().starts_with(";;") {
                continue;
            }
            let (data, comment) = line.split_once(';').unwrap_or((line, ""));
            let hex: String = data.split_whitespace().collect();
            for pair in hex.as_bytes().chunks(2) {
                let s = std::str::from_utf8(pair).expect("ascii");
                bytes.push(u8::from_str_radix(s, 16).expect("hex byte"));
            }
            for token in comment.split_whitespace() {
                if let Some((k, v)) = token.split_once('=') {
                    expected.push((k.to_string(), v.to_string()));
                }
            }
        }
        let mut got = Vec::new();
        let mut rest: &[u8] = &bytes;
        while !rest.is_empty() {
            match parse_iec104_apdu(rest) {
                Ok((next, apdu)) => {
                    got.extend(iec104_fields(
                        usize::from(apdu.length),
                        apdu.apci,
                        apdu.asdu,
                    ));
                    rest = next;
                }
                Err(e) => {
                    assert!(
                        IEC104_NONCONFORMING.contains(&name),
                        "{name}: {e:?} on a conforming vector"
                    );
                    let body = rest.get(2..).unwrap_or_default();
                    let (apci, asdu) = parse_iec104_body(body).expect("body decodes");
                    let length = usize::from(rest.get(1).copied().unwrap_or(0));
                    got.extend(iec104_fields(length, apci, asdu));
                    println!(
                        "{name}: length field {length} but {} bytes follow (non-conforming \
                         vector, decoded from the bytes)",
                        body.len()
                    );
                    break;
                }
            }
        }
        // Expected values must appear in order among ours, key by key.
        let mut cursor: BTreeMap<&str, usize> = BTreeMap::new();
        for (k, v) in &expected {
            if !IEC104_KEYS.contains(&k.as_str()) {
                not_compared += 1;
                continue;
            }
            compared += 1;
            let ours: Vec<&String> = got
                .iter()
                .filter(|(gk, _)| gk == k)
                .map(|(_, gv)| gv)
                .collect();
            let at = cursor.entry(k.as_str()).or_insert(0);
            let value = ours.get(*at).copied();
            assert_eq!(value, Some(v), "{name}: {k} #{at}");
            *at += 1;
            passed += 1;
        }
    }
    println!(
        "zeek-iec104 vectors: {} files, compared {compared} fields, passed {passed}, \
         {not_compared} element-value fields not compared",
        files.len()
    );
}

// ---------------------------------------------------------------------------------------------
// suricata-verify dnp3/*
// ---------------------------------------------------------------------------------------------

/// The value at a suricata-verify dotted key (`dnp3.application.objects[0].group`).
fn at_path<'v>(event: &'v Value, key: &str) -> &'v Value {
    key.split('.')
        .fold(event, |node, part| match part.split_once('[') {
            Some((name, index)) => {
                let i: usize = index.trim_end_matches(']').parse().unwrap_or(usize::MAX);
                &node[name][i]
            }
            None => &node[part],
        })
}

/// Keys of DNP3 checks Kordon does not emit (see SKIPPED). `pcap_cnt` is compared through
/// the timestamp of that packet instead.
fn dnp3_key_not_emitted(key: &str) -> bool {
    key.contains(".points[")
}

/// Keys of flow checks Kordon's flow event does not have (see SKIPPED).
fn flow_key_not_emitted(key: &str) -> bool {
    key.starts_with("tcp.") || key == "flow.state" || key == "flow.age"
}

/// Suricata decoder-event rule ids (`dnp3-events.rules`) and Kordon's anomaly names.
const DNP3_EVENT_SIDS: &[(u64, &str)] = &[(2270000, "flooded"), (2270007, "too_long_reassembly")];

/// Anomalies the DNP3 parser reports over a capture's TCP/20000 payloads, fed in capture
/// order per direction (the decoder-event captures have no retransmissions).
fn dnp3_anomalies(pcap: &Path) -> BTreeMap<&'static str, usize> {
    use kordon_agent::applayer::dnp3::state::Dnp3Parser;
    use kordon_agent::applayer::{AppParser, AppSink, Direction, Transaction};
    #[derive(Default)]
    struct Count(BTreeMap<&'static str, usize>);
    impl AppSink for Count {
        fn transaction(&mut self, tx: &dyn Transaction) {
            let _ = tx.record();
        }
        fn anomaly(&mut self, _: &'static str, kind: &'static str) {
            *self.0.entry(kind).or_insert(0) += 1;
        }
    }
    let mut parser = Dnp3Parser::new(false);
    let mut sink = Count::default();
    for p in pcap_l4_packets(pcap) {
        if !p.tcp || p.payload.is_empty() {
            continue;
        }
        let dir = if p.dport == 20000 {
            Direction::ToServer
        } else if p.sport == 20000 {
            Direction::ToClient
        } else {
            continue;
        };
        parser.parse(dir, &p.payload, &mut sink);
    }
    sink.0
}

#[test]
fn suricata_verify_dnp3() {
    let Some(corpus) = corpus_or_skip("suricata_verify_dnp3") else {
        return;
    };
    let root = corpus.join("suricata-verify/tests/dnp3");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("dnp3 tests")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("test.yaml").is_file())
        .collect();
    dirs.sort();
    let scratch = Scratch::new("sv-dnp3");
    let (mut compared, mut passed, mut skipped, mut keys_not_compared) = (0, 0, 0, 0);
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let spec =
            common::parse_yaml(&std::fs::read_to_string(dir.join("test.yaml")).expect("yaml"))
                .expect("yaml parses");
        let pcap = match spec["pcap"].as_str() {
            Some(rel) => dir.join(rel),
            None => match common::walk_files(dir).into_iter().find(|p| {
                matches!(
                    common::file_magic(p),
                    Some(common::Magic::Pcap | common::Magic::PcapNg)
                )
            }) {
                Some(p) => p,
                None => continue,
            },
        };
        let run = run_agent(&scratch, name, &scratch.path, &agent_args(&pcap, &[]));
        run.expect_success(name);
        let dnp3: Vec<&Value> = run
            .events
            .iter()
            .filter(|e| e["event_type"] == "dnp3")
            .collect();
        let anomalies = dnp3_anomalies(&pcap);
        let times = common::pcap_packet_times_us(&pcap);
        for check in spec["checks"].as_array().expect("checks") {
            let filter = &check["filter"];
            let Some(matches) = filter["match"].as_object() else {
                skipped += 1;
                continue;
            };
            let want = filter["count"].as_u64().expect("count") as usize;
            if matches.get("event_type") == Some(&Value::from("alert")) {
                let sid = matches.get("alert.signature_id").and_then(Value::as_u64);
                match DNP3_EVENT_SIDS.iter().find(|(s, _)| Some(*s) == sid) {
                    Some((_, kind)) => {
                        compared += 1;
                        let got = anomalies.get(kind).copied().unwrap_or(0);
                        assert_eq!(
                            got, want,
                            "{name}: sid {sid:?} ({kind}), anomalies {anomalies:?}"
                        );
                        passed += 1;
                    }
                    None => skipped += 1,
                }
                continue;
            }
            if matches.get("event_type") == Some(&Value::from("flow")) {
                // Flow records: compared on the keys Kordon's flow event has (TCP state and
                // flag keys are Suricata's stream engine, see SKIPPED).
                let keys: Vec<(&String, &Value)> = matches
                    .iter()
                    .filter(|(k, _)| {
                        let skip = flow_key_not_emitted(k);
                        keys_not_compared += usize::from(skip);
                        !skip
                    })
                    .collect();
                let got = run
                    .events
                    .iter()
                    .filter(|e| e["event_type"] == "flow")
                    .filter(|e| keys.iter().all(|(k, v)| at_path(e, k) == *v))
                    .count();
                compared += 1;
                assert_eq!(got, want, "{name}: flow check {matches:?}");
                passed += 1;
                continue;
            }
            if matches.get("event_type") != Some(&Value::from("dnp3")) {
                skipped += 1;
                continue;
            }
            let keys: Vec<(&String, &Value)> = matches
                .iter()
                .filter(|(k, _)| {
                    let skip = dnp3_key_not_emitted(k);
                    keys_not_compared += usize::from(skip);
                    !skip
                })
                .collect();
            // Suricata logs a TCP message when the peer's ACK hands it to the app layer, so
            // `pcap_cnt: n` names the last message of that direction seen by packet n: ours
            // carries its data packet's time, at or before packet n's.
            let stamp = |e: &Value| e["timestamp"].as_str().and_then(common::eve_timestamp_us);
            let last_by = |n: u64, direction: &Value| {
                let limit = times.get((n as usize).wrapping_sub(1)).copied()?;
                dnp3.iter()
                    .enumerate()
                    .filter(|(_, e)| e["direction"] == *direction)
                    .filter(|(_, e)| stamp(e).is_some_and(|t| t <= limit))
                    .map(|(i, _)| i)
                    .next_back()
            };
            let got = dnp3
                .iter()
                .enumerate()
                .filter(|(index, e)| {
                    keys.iter().all(|(k, v)| {
                        if k.as_str() == "pcap_cnt" {
                            return last_by(v.as_u64().unwrap_or(0), &e["direction"])
                                == Some(*index);
                        }
                        let found = at_path(e, k);
                        *found == **v
                            || found.to_string().trim_matches('"')
                                == v.to_string().trim_matches('"')
                    })
                })
                .count();
            compared += 1;
            assert_eq!(got, want, "{name}: check {matches:?}");
            passed += 1;
        }
    }
    println!(
        "suricata-verify/dnp3: {} tests, compared {compared} checks, passed {passed}, skipped \
         {skipped} (rule-keyword and decoder-limit checks: see SKIPPED), \
         {keys_not_compared} `points`/TCP-state keys not compared",
        dirs.len()
    );
    assert!(compared >= 40, "expected the dnp3 checks to run");
}

// ---------------------------------------------------------------------------------------------
// ICSNPP s7comm.log / cotp.log
// ---------------------------------------------------------------------------------------------

/// An ICSNPP row reduced to what the corpus README compares: (is_orig, ROSCTR, function code,
/// subfunction, error code) for s7comm.log, (is_orig, PDU code) for cotp.log.
type S7Row = Vec<String>;

/// Rows per connection (uid), in log order, taking the given columns (by `#fields` name).
fn icsnpp_rows(path: &Path, columns: &[&str]) -> BTreeMap<String, Vec<S7Row>> {
    let text = std::fs::read_to_string(path).expect("read baseline");
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .expect("#fields")
        .split('\t')
        .collect();
    let index = |name: &str| fields.iter().position(|f| *f == name).expect("column");
    let uid = index("uid");
    let wanted: Vec<usize> = columns.iter().map(|c| index(c)).collect();
    let mut out: BTreeMap<String, Vec<S7Row>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let row = wanted
            .iter()
            .map(|&i| cols.get(i).copied().unwrap_or("-").to_string())
            .collect();
        out.entry(cols.get(uid).copied().unwrap_or("").to_string())
            .or_default()
            .push(row);
    }
    out
}

/// The same rows from the agent's events, per flow, in event order (see SKIPPED for ACKs).
fn agent_s7_rows(
    events: &[Value],
    event_type: &str,
    keys: &[&str],
) -> BTreeMap<String, Vec<S7Row>> {
    let mut out: BTreeMap<String, Vec<S7Row>> = BTreeMap::new();
    for e in events.iter().filter(|e| e["event_type"] == event_type) {
        let record = &e[event_type];
        // ICSNPP logs no ACK (ROSCTR 2) PDU: they have no parameter block, only an error
        // class and code. Kordon logs them (an error acknowledgement to a job matters).
        if record["s7comm_plus"] == true || record["rosctr"] == 2 {
            continue;
        }
        let mut row = vec![
            if e["direction"] == "to_server" {
                "T"
            } else {
                "F"
            }
            .to_string(),
        ];
        for key in keys {
            row.push(match &record[*key] {
                Value::Null => "-".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        out.entry(e["flow_id"].to_string()).or_default().push(row);
    }
    out
}

#[test]
fn icsnpp_s7comm_logs() {
    let Some(corpus) = corpus_or_skip("icsnpp_s7comm_logs") else {
        return;
    };
    let root = corpus.join("icsnpp-s7comm/tests");
    let scratch = Scratch::new("icsnpp-s7");
    let (mut compared, mut passed) = (0, 0);
    for trace in ["snap7", "s7ident"] {
        let pcap = root.join("traces").join(format!("{trace}.pcap"));
        let baseline = root.join("baseline").join(format!("analyzer.{trace}"));
        let run = run_agent(&scratch, trace, &scratch.path, &agent_args(&pcap, &[]));
        run.expect_success(trace);
        for (log, event_type, columns, keys) in [
            (
                "s7comm.log",
                "s7comm",
                &[
                    "is_orig",
                    "rosctr_code",
                    "function_code",
                    "subfunction_code",
                    "error_code",
                ][..],
                &["rosctr", "function_code", "subfunction_code", "error_code"][..],
            ),
            (
                "cotp.log",
                "cotp",
                &["is_orig", "pdu_code"][..],
                &["pdu_code"][..],
            ),
        ] {
            let want: Vec<Vec<S7Row>> = icsnpp_rows(&baseline.join(log), columns)
                .into_values()
                .collect();
            let got: Vec<Vec<S7Row>> = agent_s7_rows(&run.events, event_type, keys)
                .into_values()
                .collect();
            let mut want_sorted = want.clone();
            want_sorted.sort();
            let mut got_sorted = got.clone();
            got_sorted.sort();
            compared += 1;
            assert_eq!(
                got_sorted, want_sorted,
                "{trace} {log}: per-connection rows differ"
            );
            passed += 1;
            println!(
                "{trace} {log}: {} connections, {} rows equal",
                want.len(),
                want.iter().map(Vec::len).sum::<usize>()
            );
        }
    }
    println!("icsnpp-s7comm: compared {compared} logs, passed {passed}");
}

// ---------------------------------------------------------------------------------------------
// Every OT capture
// ---------------------------------------------------------------------------------------------

fn ot_captures(corpus: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in [
        "zeek/Traces/modbus",
        "icsnpp-s7comm/tests/traces",
        "suricata-verify/tests/modbus",
        "suricata-verify/tests/dnp3",
        "zeek-iec104/testing/Traces",
    ] {
        for path in common::walk_files(&corpus.join(root)) {
            if matches!(
                common::file_magic(&path),
                Some(common::Magic::Pcap | common::Magic::PcapNg)
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_ot_capture_decodes_without_panic() {
    let Some(corpus) = corpus_or_skip("every_ot_capture_decodes_without_panic") else {
        return;
    };
    let captures = ot_captures(&corpus);
    let scratch = Scratch::new("ot-all");
    let (mut modbus_events, mut dnp3_events) = (0, 0);
    for (n, pcap) in captures.iter().enumerate() {
        // Decoder level: every payload, whatever its port, through every parse function.
        for p in pcap_l4_packets(pcap) {
            let mut rest: &[u8] = &p.payload;
            while let Ok((next, adu)) = parse_modbus_adu(rest) {
                let _ = kordon_agent::applayer::modbus::parser::parse_modbus_request(
                    adu.function,
                    adu.data,
                );
                let _ = parse_modbus_response(FunctionCode(adu.function.0), adu.data);
                rest = next;
            }
            let mut rest: &[u8] = &p.payload;
            while let Ok((next, frame)) =
                kordon_agent::applayer::dnp3::parser::parse_dnp3_frame(rest)
            {
                let user: Vec<u8> = frame.user_data().flatten().copied().collect();
                if let Some(app) = user.get(1..).and_then(|a| {
                    kordon_agent::applayer::dnp3::parser::parse_dnp3_application(a).ok()
                }) {
                    let _ = kordon_agent::applayer::dnp3::parser::parse_dnp3_objects(
                        app.objects,
                        false,
                    )
                    .count();
                }
                rest = next;
            }
            let mut rest: &[u8] = &p.payload;
            while let Ok((next, apdu)) = parse_iec104_apdu(rest) {
                if let Some(a) = apdu.asdu {
                    let _ = a.objects().count();
                    let _ = a.trailing();
                }
                rest = next;
            }
        }
        let run = run_agent(
            &scratch,
            &format!("cap{n}"),
            &scratch.path,
            &agent_args(pcap, &[]),
        );
        run.expect_success(&pcap.display().to_string());
        modbus_events += run
            .events
            .iter()
            .filter(|e| e["event_type"] == "modbus")
            .count();
        dnp3_events += run
            .events
            .iter()
            .filter(|e| e["event_type"] == "dnp3")
            .count();
    }
    println!(
        "OT captures: {} decoded without a panic ({modbus_events} modbus events, {dnp3_events} \
         dnp3 events)",
        captures.len()
    );
    assert!(captures.len() >= 20, "expected the corpus's OT captures");
}

// ---------------------------------------------------------------------------------------------
// OT policy end to end
// ---------------------------------------------------------------------------------------------

/// Write Single Register 40001 := 7 on unit 1, transaction `tid`.
fn write_register(tid: u16) -> Vec<u8> {
    let mut adu = Vec::new();
    adu.extend_from_slice(&tid.to_be_bytes());
    adu.extend_from_slice(&[0, 0, 0, 6, 1, 0x06, 0x00, 0x00, 0x00, 0x07]);
    adu
}

#[test]
fn ot_policy_alerts_on_unauthorised_write() {
    let scratch = Scratch::new("ot-policy-e2e");
    let plc = ([10, 0, 2, 10], 502);
    let mut pcap = PcapWriter::new();
    for (host, port) in [([10, 0, 0, 9], 40001u16), ([10, 0, 0, 5], 40002)] {
        let request = write_register(7);
        // The request split across two segments: the parser reassembles it.
        pcap.tcp_flow(
            (host, port),
            plc,
            &[
                (true, &request[..5]),
                (true, &request[5..]),
                (false, &request),
            ],
        );
    }
    let capture = scratch.join("write.pcap");
    std::fs::write(&capture, &pcap.bytes).expect("write pcap");
    let policy = scratch.join("policy.toml");
    std::fs::write(
        &policy,
        "name = \"plant\"\n[[rule]]\nprotocol = \"modbus\"\n[[rule.allow]]\nhosts = [\"10.0.0.5\"]\nclasses = [\"read\", \"write\"]\naddresses = [1]\n",
    )
    .expect("write policy");
    let spec = format!("ot-policy={}", policy.display());
    let run = run_agent(
        &scratch,
        "e2e",
        &scratch.path,
        &agent_args(&capture, &["--indicators", &spec]),
    );
    run.expect_success("ot policy e2e");
    let alerts: Vec<&Value> = run.alerts().collect();
    assert_eq!(
        alerts.len(),
        1,
        "alerts: {alerts:#?}\nstderr: {}",
        run.stderr
    );
    let alert = alerts[0];
    assert_eq!(alert["kordon"]["location"], "ot.modbus.write");
    assert_eq!(alert["src_ip"], "10.0.0.9");
    assert_eq!(alert["kordon"]["indicator"]["type"], "ot_policy");
    assert_eq!(alert["modbus"]["request"]["function_code"], "WrSingleReg");
}

/// A DNP3 link frame carrying one whole application message (FIR|FIN transport segment).
fn dnp3_frame(control: u8, dst: u16, src: u16, app: &[u8]) -> Vec<u8> {
    use kordon_agent::applayer::dnp3::parser::crc;
    let mut user = vec![0xc0];
    user.extend_from_slice(app);
    let mut f = vec![0x05, 0x64, (user.len() + 5) as u8, control];
    f.extend_from_slice(&dst.to_le_bytes());
    f.extend_from_slice(&src.to_le_bytes());
    f.extend_from_slice(&crc(&f).to_le_bytes());
    for block in user.chunks(16) {
        f.extend_from_slice(block);
        f.extend_from_slice(&crc(block).to_le_bytes());
    }
    f
}

#[test]
fn ot_policy_alerts_on_unauthorised_dnp3_operate() {
    let scratch = Scratch::new("ot-policy-dnp3");
    let outstation = ([10, 0, 2, 20], 20000);
    // DIRECT_OPERATE of one CROB (g12v1, 2-octet index and count) to outstation 10.
    let mut operate = vec![0xc1, 0x05, 12, 1, 0x28, 1, 0, 3, 0];
    operate.extend_from_slice(&[0x03, 1, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]);
    let request = dnp3_frame(0xc4, 10, 1, &operate);
    let response = dnp3_frame(0x44, 1, 10, &[0xc1, 0x81, 0x00, 0x00]);
    let mut pcap = PcapWriter::new();
    for (host, port) in [([10, 0, 0, 9], 40001u16), ([10, 0, 0, 5], 40002)] {
        pcap.tcp_flow(
            (host, port),
            outstation,
            &[
                (true, &request[..7]),
                (true, &request[7..]),
                (false, &response),
            ],
        );
    }
    let capture = scratch.join("operate.pcap");
    std::fs::write(&capture, &pcap.bytes).expect("write pcap");
    let policy = scratch.join("policy.toml");
    std::fs::write(
        &policy,
        "name = \"plant\"\n[[rule]]\nprotocol = \"dnp3\"\n[[rule.allow]]\nhosts = [\"10.0.0.5\"]\nclasses = [\"operate\"]\naddresses = [10]\n",
    )
    .expect("write policy");
    let spec = format!("ot-policy={}", policy.display());
    let run = run_agent(
        &scratch,
        "e2e",
        &scratch.path,
        &agent_args(&capture, &["--indicators", &spec]),
    );
    run.expect_success("dnp3 ot policy e2e");
    let alerts: Vec<&Value> = run.alerts().collect();
    assert_eq!(
        alerts.len(),
        1,
        "alerts: {alerts:#?}\nstderr: {}",
        run.stderr
    );
    let alert = alerts[0];
    assert_eq!(alert["kordon"]["location"], "ot.dnp3.operate");
    assert_eq!(alert["src_ip"], "10.0.0.9");
    assert_eq!(alert["dnp3"]["application"]["function_code"], 5);
    assert_eq!(alert["dnp3"]["dst"], 10);
    let dnp3 = run
        .events
        .iter()
        .filter(|e| e["event_type"] == "dnp3")
        .count();
    assert_eq!(dnp3, 4, "a request and a response per flow");
}
