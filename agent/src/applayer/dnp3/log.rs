//! The `dnp3` EVE record, in Suricata's shape (`output-json-dnp3.c`): `type`
//! (request/response/unsolicited_response), `control` (link control: `dir`, `pri`, `fcb`,
//! `fcv`, `function_code`), `src`, `dst`, `application` (`control`: `fir`, `fin`, `con`,
//! `uns`, `sequence`; `function_code`; `objects`: `group`, `variation`, `qualifier`,
//! `prefix_code`, `range_code`, `start`, `stop`, `count`; `complete`) and for responses
//! `iin.indicators`. Kordon adds `id` (pairs a response with its request),
//! `application.function` (the standard's name) and `application.class` (the OT class).
//! Object values (Suricata's `points`) are not decoded.

use serde_json::{Map, Value, json};

use super::parser::parse_dnp3_objects;
use super::state::{APP_PROTO, Dnp3Tx, MessageKind};
use crate::applayer::AppRecord;

/// Object headers logged per message; a message of at most 64 segments could hold thousands.
const MAX_LOGGED_OBJECTS: usize = 256;

/// The owned record of a message.
pub fn record(tx: &Dnp3Tx<'_>) -> AppRecord {
    let link = tx.link.control;
    let app = &tx.app;
    let mut a = Map::new();
    a.insert(
        "control".into(),
        json!({
            "fir": app.control.fir(),
            "fin": app.control.fin(),
            "con": app.control.con(),
            "uns": app.control.uns(),
            "sequence": app.control.seq(),
        }),
    );
    a.insert("function_code".into(), json!(app.function.0));
    if let Some(name) = app.function.name() {
        a.insert("function".into(), json!(name));
    }
    let headers_only = tx.kind == MessageKind::Request && app.function.request_headers_only();
    let objects: Vec<Value> = parse_dnp3_objects(app.objects, headers_only)
        .take(MAX_LOGGED_OBJECTS)
        .map(|o| {
            json!({
                "group": o.group,
                "variation": o.variation,
                "qualifier": o.qualifier,
                "prefix_code": o.prefix_code(),
                "range_code": o.range_code(),
                "start": o.start,
                "stop": o.stop,
                "count": o.count,
            })
        })
        .collect();
    if !objects.is_empty() {
        a.insert("objects".into(), Value::Array(objects));
    }
    a.insert("complete".into(), json!(tx.complete));
    if let Some(class) = tx.class() {
        a.insert("class".into(), json!(class.as_str()));
    }
    let mut m = Map::new();
    m.insert("id".into(), json!(tx.id));
    m.insert("type".into(), json!(tx.kind.as_str()));
    m.insert(
        "control".into(),
        json!({
            "dir": link.dir(),
            "pri": link.prm(),
            "fcb": link.fcb(),
            "fcv": link.fcv(),
            "function_code": link.function(),
        }),
    );
    m.insert("src".into(), json!(tx.link.source));
    m.insert("dst".into(), json!(tx.link.destination));
    m.insert("application".into(), Value::Object(a));
    if let Some(iin) = app.iin {
        let indicators: Vec<&str> = iin.indicators().collect();
        let mut i = Map::new();
        if !indicators.is_empty() {
            i.insert("indicators".into(), json!(indicators));
        }
        m.insert("iin".into(), Value::Object(i));
    }
    AppRecord {
        app_proto: APP_PROTO,
        fields: Value::Object(m),
    }
}
