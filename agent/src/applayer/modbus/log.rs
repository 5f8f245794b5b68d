//! The `modbus` EVE record, in Suricata's shape: `{"id", "request": {…}, "response": {…}}`
//! with `transaction_id`, `protocol_id`, `unit_id`, `function_raw`, `function_code`,
//! `access_type`, `category`, `error_flags`, `read`/`write` ranges, `diagnostic`, `mei` and
//! `exception`, plus Kordon's OT `class`.

use serde_json::{Map, Value, json};

use super::parser::{FunctionCode, Mbap, Response};
use super::state::{APP_PROTO, ModbusTx, RequestInfo, ResponseInfo};
use crate::applayer::AppRecord;

/// Suricata's `access_type` flags for a function.
fn access_type(function: FunctionCode) -> &'static str {
    match function.base().0 {
        0x01 => "READ | COILS",
        0x02 => "READ | DISCRETES",
        0x03 => "READ | HOLDING",
        0x04 => "READ | INPUT",
        0x05 => "WRITE | SINGLE | COILS",
        0x06 => "WRITE | SINGLE | HOLDING",
        0x0F => "WRITE | MULTIPLE | COILS",
        0x10 => "WRITE | MULTIPLE | HOLDING",
        0x16 => "WRITE | HOLDING",
        0x17 => "READ | WRITE | MULTIPLE | HOLDING",
        _ => "NONE",
    }
}

fn category(function: FunctionCode) -> &'static str {
    let base = function.base().0;
    if function.is_public_assigned() {
        "PUBLIC_ASSIGNED"
    } else if matches!(base, 65..=72 | 100..=110) {
        "USER_DEFINED"
    } else if matches!(base, 9 | 10 | 13 | 14 | 41 | 42 | 90 | 91 | 125..=127) {
        "RESERVED"
    } else {
        "PUBLIC_UNASSIGNED"
    }
}

fn header(mbap: &Mbap, function: FunctionCode) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("transaction_id".into(), json!(mbap.transaction_id));
    m.insert("protocol_id".into(), json!(mbap.protocol_id));
    m.insert("unit_id".into(), json!(mbap.unit_id));
    m.insert("function_raw".into(), json!(function.0));
    m.insert("function_code".into(), json!(function.suricata_name()));
    m.insert("access_type".into(), json!(access_type(function)));
    m.insert("category".into(), json!(category(function)));
    m.insert("error_flags".into(), json!("NONE"));
    m
}

fn request(r: &RequestInfo) -> Value {
    let mut m = header(&r.mbap, r.function);
    if let Some(class) = r.class {
        m.insert("class".into(), json!(class.as_str()));
    }
    if let Some((address, quantity)) = r.read {
        m.insert(
            "read".into(),
            json!({"address": address, "quantity": quantity}),
        );
    }
    if let Some((address, quantity)) = r.write {
        m.insert(
            "write".into(),
            json!({"address": address, "quantity": quantity}),
        );
    }
    if let Some(sub) = r.subfunction {
        m.insert("diagnostic".into(), json!({"raw": sub}));
    }
    if let Some(mei) = r.mei_type {
        m.insert("mei".into(), json!({"raw": mei}));
    }
    Value::Object(m)
}

fn response(r: &ResponseInfo<'_>) -> Value {
    let mut m = header(&r.mbap, r.function);
    match r.body {
        Response::Exception(code) => {
            let mut exc = Map::new();
            exc.insert("raw".into(), json!(code.0));
            if let Some(name) = code.name() {
                exc.insert("code".into(), json!(name));
            }
            m.insert("exception".into(), Value::Object(exc));
        }
        Response::ReadData(data) => {
            m.insert("read".into(), json!({"byte_count": data.len()}));
        }
        Response::WriteEcho { address, value } => {
            m.insert(
                "write".into(),
                json!({"address": address, "quantity": value}),
            );
        }
        Response::Unparsed(_) => {}
    }
    Value::Object(m)
}

/// The owned record of a transaction.
pub fn record(tx: &ModbusTx<'_>) -> AppRecord {
    let mut m = Map::new();
    m.insert("id".into(), json!(tx.id));
    if let Some(r) = &tx.request {
        m.insert("request".into(), request(r));
    }
    if let Some(r) = &tx.response {
        m.insert("response".into(), response(r));
    }
    AppRecord {
        app_proto: APP_PROTO,
        fields: Value::Object(m),
    }
}
