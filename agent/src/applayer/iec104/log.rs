//! The `iec104` EVE record:
//! `{"apci": {"type": "I"|"S"|"U", "tx", "rx", "u_function"}, "asdu": {"type_id", "type",
//! "sq", "nobj", "cot": {"cause", "name", "negative", "test"}, "originator", "common_address",
//! "ioa": [...], "trailing_bytes", "class"}}`.

use serde_json::{Map, Value, json};

use super::parser::Apci;
use super::state::{APP_PROTO, Iec104Tx};
use crate::applayer::AppRecord;

/// Information object addresses listed per record; the rest are counted in `nobj`.
const MAX_LOGGED_IOAS: usize = 32;

/// The owned record of an APDU.
pub fn record(tx: &Iec104Tx<'_>) -> AppRecord {
    let apci = match tx.apdu.apci {
        Apci::I { ssn, rsn } => json!({"type": "I", "tx": ssn, "rx": rsn}),
        Apci::S { rsn } => json!({"type": "S", "rx": rsn}),
        Apci::U(f) => json!({"type": "U", "u_function": f.name().unwrap_or("unknown"), "raw": f.0}),
    };
    let mut m = Map::new();
    m.insert("apci".into(), apci);
    if let Some(asdu) = tx.apdu.asdu {
        let mut a = Map::new();
        a.insert("type_id".into(), json!(asdu.type_id.0));
        if let Some(name) = asdu.type_id.name() {
            a.insert("type".into(), json!(name));
        }
        a.insert("sq".into(), json!(asdu.sq));
        a.insert("nobj".into(), json!(asdu.nobj));
        let mut cot = Map::new();
        cot.insert("cause".into(), json!(asdu.cot.cause()));
        if let Some(name) = asdu.cot.name() {
            cot.insert("name".into(), json!(name));
        }
        cot.insert("negative".into(), json!(asdu.cot.negative()));
        cot.insert("test".into(), json!(asdu.cot.test()));
        a.insert("cot".into(), Value::Object(cot));
        a.insert("originator".into(), json!(asdu.originator));
        a.insert("common_address".into(), json!(asdu.common_address));
        let ioas: Vec<u32> = if asdu.type_id.element_size().is_some() {
            asdu.objects()
                .take(MAX_LOGGED_IOAS)
                .map(|o| o.ioa)
                .collect()
        } else {
            asdu.first_ioa().into_iter().collect()
        };
        a.insert("ioa".into(), json!(ioas));
        let trailing = asdu.trailing().len();
        if trailing > 0 {
            a.insert("trailing_bytes".into(), json!(trailing));
        }
        if let Some(class) = tx.class() {
            a.insert("class".into(), json!(class.as_str()));
        }
        m.insert("asdu".into(), Value::Object(a));
    }
    AppRecord {
        app_proto: APP_PROTO,
        fields: Value::Object(m),
    }
}
