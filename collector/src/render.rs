//! Stored alerts as EVE JSON (what the SIEM ingests) and as one human line.

use kordon_proto::StoredAlert;
use serde_json::{Map, Value, json};

/// Formats µs since the epoch like EVE (`2024-01-02T03:04:05.123456+0000`).
pub fn eve_timestamp(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+0000",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The EVE record of a stored alert: Suricata's fields, the app-layer objects merged in, and
/// `kordon` with the agent, the store cursor and the record id.
pub fn eve_json(stored: &StoredAlert) -> Value {
    let alert = stored.alert.clone().unwrap_or_default();
    let indicator = alert.indicator.clone().unwrap_or_default();
    let has_ports = matches!(alert.ip_proto, 6 | 17 | 132);
    let mut record = Map::new();
    record.insert("timestamp".into(), eve_timestamp(alert.timestamp_us).into());
    record.insert("flow_id".into(), alert.flow_id.into());
    record.insert("event_type".into(), "alert".into());
    if !alert.interface.is_empty() {
        record.insert("in_iface".into(), alert.interface.clone().into());
    }
    if !alert.vlan.is_empty() {
        record.insert("vlan".into(), json!(alert.vlan));
    }
    record.insert("src_ip".into(), alert.src_ip.clone().into());
    if has_ports {
        record.insert("src_port".into(), alert.src_port.into());
    }
    record.insert("dest_ip".into(), alert.dest_ip.clone().into());
    if has_ports {
        record.insert("dest_port".into(), alert.dest_port.into());
    }
    record.insert("proto".into(), alert.proto.clone().into());
    if let Some(t) = alert.icmp_type {
        record.insert("icmp_type".into(), t.into());
    }
    if let Some(c) = alert.icmp_code {
        record.insert("icmp_code".into(), c.into());
    }
    record.insert("community_id".into(), alert.community_id.clone().into());
    record.insert("direction".into(), alert.direction.clone().into());
    if !alert.app_proto.is_empty() {
        record.insert("app_proto".into(), alert.app_proto.clone().into());
    }
    record.insert(
        "alert".into(),
        json!({
            "action": "allowed",
            "gid": 1,
            "signature_id": alert.signature_id,
            "rev": 1,
            "signature": alert.signature,
            "category": alert.category,
            "severity": alert.severity,
        }),
    );
    if !alert.app_layer_json.is_empty()
        && let Ok(Value::Object(app)) = serde_json::from_str::<Value>(&alert.app_layer_json)
    {
        for (key, value) in app {
            record.entry(key).or_insert(value);
        }
    }
    let mut ind = json!({
        "id": indicator.id,
        "type": indicator.r#type,
        "value": indicator.value,
        "source": indicator.source,
        "set": indicator.set,
        "severity": indicator.severity,
        "confidence": indicator.confidence,
        "tlp": indicator.tlp,
        "tags": indicator.tags,
    });
    if let (Some(score), Some(obj)) = (indicator.score, ind.as_object_mut()) {
        obj.insert("score".into(), score.into());
    }
    record.insert(
        "kordon".into(),
        json!({
            "agent": stored.agent_id,
            "cursor": stored.cursor,
            "record_id": stored.record_id,
            "stored": eve_timestamp(stored.stored_us),
            "indicator": ind,
            "location": alert.location,
            "dedup": { "count": alert.dedup_count },
        }),
    );
    Value::Object(record)
}

/// One line for a terminal.
pub fn text_line(stored: &StoredAlert) -> String {
    let alert = stored.alert.clone().unwrap_or_default();
    let indicator = alert.indicator.unwrap_or_default();
    let port = |p: u32| {
        if matches!(alert.ip_proto, 6 | 17 | 132) {
            format!(":{p}")
        } else {
            String::new()
        }
    };
    format!(
        "#{:<6} {}  {:<12} {:<5} {}{} -> {}{}  {}  {} {} (sev {})",
        stored.cursor,
        &eve_timestamp(alert.timestamp_us)[..19],
        stored.agent_id,
        alert.proto,
        alert.src_ip,
        port(alert.src_port),
        alert.dest_ip,
        port(alert.dest_port),
        alert.location,
        indicator.r#type,
        indicator.value,
        alert.severity,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_eve() {
        assert_eq!(eve_timestamp(0), "1970-01-01T00:00:00.000000+0000");
        assert_eq!(
            eve_timestamp(1_709_251_200_000_001),
            "2024-03-01T00:00:00.000001+0000"
        );
    }
}
