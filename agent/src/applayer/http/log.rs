//! The EVE `http` record, with Suricata's field names.

use serde_json::{Map, Value, json};

use super::state::HttpTx;
use crate::applayer::AppRecord;

/// Builds the record of a request.
pub(super) fn http_record(tx: &HttpTx<'_>) -> AppRecord {
    let head = tx.head;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut http = Map::new();
    if let Some(host) = tx.host {
        http.insert("hostname".into(), json!(host));
    }
    if let Some(port) = tx.port {
        http.insert("http_port".into(), json!(port));
    }
    http.insert("url".into(), json!(text(head.target)));
    if let Some(ua) = tx.user_agent {
        http.insert("http_user_agent".into(), json!(ua));
    }
    http.insert("http_method".into(), json!(text(head.method)));
    http.insert("protocol".into(), json!(text(head.version)));
    // Response body bytes seen when the record was made: always 0, as it is made at the request.
    http.insert("length".into(), json!(0));
    AppRecord {
        app_proto: "http",
        fields: Value::Object(http),
    }
}
