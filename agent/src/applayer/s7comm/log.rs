//! The `s7comm` and `cotp` EVE records, with ICSNPP-S7comm's field names.
//!
//! `s7comm` (as s7comm.log): `rosctr`, `rosctr_name`, `pdu_reference`, `function_code` and
//! `function_name` (for userdata the type/group octet, `0x44` "Request: CPU Functions"),
//! `subfunction_code` and `subfunction_name` (userdata subfunction, or a PLC Control's PI
//! service), `error_class` and `error_code`; Kordon adds `id` (pairs an acknowledgement with
//! its job) and `class` (the OT class of a request). An S7comm-plus PDU is logged as
//! `{"protocol_id": "0x72", "s7comm_plus": true, "length"}`.
//!
//! `cotp` (as cotp.log): `pdu_code` (`0x0f`) and `pdu_name` (`DT Data`), with `eot` for DT
//! and the connection parameters (`src_ref`, `dst_ref`, `class`, `tpdu_size`, `src_tsap`,
//! `dst_tsap`) for CR/CC.

use serde_json::{Map, Value, json};

use super::parser::{Param, S7Pdu, pi_service_label};
use super::state::{APP_PROTO, S7Message, S7Tx};
use crate::applayer::AppRecord;

/// ICSNPP's error class names (ACK/ACK-Data header).
fn error_class_name(class: u8) -> Option<&'static str> {
    Some(match class {
        0x00 => "No error",
        0x81 => "Application relationship error",
        0x82 => "Object definition error",
        0x83 => "No resources available error",
        0x84 => "Error on service processing",
        0x85 => "Error on supplies",
        0x87 => "Access error",
        _ => return None,
    })
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pdu_record(id: u64, pdu: &S7Pdu<'_>, class: Option<&'static str>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("rosctr".into(), json!(pdu.rosctr.0));
    if let Some(name) = pdu.rosctr.name() {
        m.insert("rosctr_name".into(), json!(name));
    }
    m.insert("pdu_reference".into(), json!(pdu.pdu_reference));
    match pdu.param {
        Param::Function {
            function,
            pi_service,
        } => {
            m.insert(
                "function_code".into(),
                json!(format!("0x{:02x}", function.0)),
            );
            if let Some(name) = function.name() {
                m.insert("function_name".into(), json!(name));
            }
            if let Some(pi) = pi_service {
                m.insert(
                    "subfunction_code".into(),
                    json!(String::from_utf8_lossy(pi)),
                );
                if let Some(label) = pi_service_label(pi) {
                    m.insert("subfunction_name".into(), json!(label));
                }
            }
        }
        Param::Userdata(u) => {
            m.insert(
                "function_code".into(),
                json!(format!("0x{:02x}", u.type_group)),
            );
            let (kind, group) = u.function_name();
            let name = match group {
                Some(group) => format!("{kind}: {group}"),
                None => kind.to_string(),
            };
            m.insert("function_name".into(), json!(name));
            m.insert(
                "subfunction_code".into(),
                json!(format!("0x{:02x}", u.subfunction)),
            );
            if let Some(name) = u.subfunction_name() {
                m.insert("subfunction_name".into(), json!(name));
            }
            // Requests carry the field too, always zero: ICSNPP logs errors of responses.
            if let Some(code) = u.error_code.filter(|_| u.kind() == 0x8) {
                if code == 0 {
                    m.insert("error_class".into(), json!("No error"));
                }
                m.insert("error_code".into(), json!(format!("0x{code:02x}")));
            }
        }
        Param::Unparsed(p) => {
            m.insert("param".into(), json!(hex_string(p)));
        }
        Param::None => {}
    }
    if let (Some(class), Some(code)) = (pdu.error_class, pdu.error_code) {
        m.insert(
            "error_class".into(),
            error_class_name(class).map_or_else(|| json!(format!("0x{class:02x}")), |n| json!(n)),
        );
        m.insert("error_code".into(), json!(format!("0x{code:02x}")));
    }
    if let Some(class) = class {
        m.insert("class".into(), json!(class));
    }
    Value::Object(m)
}

/// The owned record of a TPDU or PDU.
pub fn record(tx: &S7Tx<'_>) -> AppRecord {
    match &tx.message {
        S7Message::Cotp(cotp) => {
            let mut m = Map::new();
            m.insert(
                "pdu_code".into(),
                json!(format!("0x{:02x}", cotp.pdu_type.0)),
            );
            if let Some(name) = cotp.pdu_type.name() {
                m.insert("pdu_name".into(), json!(name));
            }
            if cotp.pdu_type == super::parser::CotpType::DT {
                m.insert("eot".into(), json!(cotp.eot));
            }
            if let Some(c) = cotp.connection {
                m.insert("src_ref".into(), json!(c.source_ref));
                m.insert("dst_ref".into(), json!(c.destination_ref));
                m.insert("class".into(), json!(c.class >> 4));
                if let Some(size) = c.tpdu_size {
                    m.insert("tpdu_size".into(), json!(1u32 << u32::from(size.min(16))));
                }
                if let Some(t) = c.src_tsap {
                    m.insert("src_tsap".into(), json!(hex_string(t)));
                }
                if let Some(t) = c.dst_tsap {
                    m.insert("dst_tsap".into(), json!(hex_string(t)));
                }
            }
            AppRecord {
                app_proto: "cotp",
                fields: Value::Object(m),
            }
        }
        S7Message::Pdu { id, pdu } => AppRecord {
            app_proto: APP_PROTO,
            fields: pdu_record(*id, pdu, tx.class().map(|c| c.as_str())),
        },
        S7Message::Plus { len } => AppRecord {
            app_proto: APP_PROTO,
            fields: json!({"protocol_id": "0x72", "s7comm_plus": true, "length": len}),
        },
    }
}
