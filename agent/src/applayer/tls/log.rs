//! The EVE `tls` record, in Suricata's field names (`sni`, `version`, `ja3{hash,string}`,
//! `ja3s{hash,string}`, `ja4`, `client_alpns`, `server_alpns`, `client_handshake`,
//! `server_handshake`), so SIEM pipelines built for Suricata read it unchanged. One Kordon
//! addition: `retry{ja3,ja4}`, the second ClientHello after a HelloRetryRequest (FoxIO's
//! `JA4.2`), which Suricata does not log.
//!
//! Built only when a transaction is reported (an alert or `--metadata`), from the borrowed hellos;
//! this is the one place in the TLS module that allocates.

use serde_json::{Map, Value, json};

use super::ja3::{Md5Hex, ja3_string, ja3s_string};
use super::ja4::ja4;
use super::parser::{
    ClientHello, ExtensionType, ProtocolVersion, ServerHello, alpn_protocols, server_name, u16_list,
};
use crate::applayer::AppRecord;

/// The version Suricata logs for a handshake: the server's (its `supported_versions`, else its
/// `legacy_version`, `0x0304` there meaning a TLS 1.3 draft before 16); without a ServerHello,
/// the highest version the client offered (Suricata ≥ 8.0.3); `UNDETERMINED` without either.
pub fn handshake_version(
    client: Option<&ClientHello<'_>>,
    server: Option<&ServerHello<'_>>,
) -> String {
    match (server, client) {
        (Some(hello), _) => {
            let version = hello.negotiated_version();
            if version == hello.version && version == ProtocolVersion::TLS_1_3 {
                "TLS 1.3 draft-<16".to_owned()
            } else {
                version_name(Some(version))
            }
        }
        (None, Some(hello)) => version_name(Some(hello.max_version())),
        (None, None) => version_name(None),
    }
}

/// Suricata's name for a TLS version (`SSLVersionToString`): `TLSv1`, `TLS 1.2`, `TLS 1.3`,
/// `TLS 1.3 draft-18`, …; `UNDETERMINED` for `None`.
pub fn version_name(version: Option<ProtocolVersion>) -> String {
    let Some(ProtocolVersion(v)) = version else {
        return "UNDETERMINED".to_owned();
    };
    match v {
        0x0002 | 0x0200 => "SSLv2".to_owned(),
        0x0300 => "SSLv3".to_owned(),
        0x0301 => "TLSv1".to_owned(),
        0x0302 => "TLS 1.1".to_owned(),
        0x0303 => "TLS 1.2".to_owned(),
        0x0304 => "TLS 1.3".to_owned(),
        0x7f01..=0x7f0f => "TLS 1.3 draft-<16".to_owned(),
        0x7f10..=0x7f1c => format!("TLS 1.3 draft-{}", v & 0xff),
        0xfb14..=0xfb1a => format!("TLS 1.3 draft-{}-fb", v & 0xff),
        other => format!("0x{other:04x}"),
    }
}

/// Text of a raw ALPN or SNI value (lossy: invalid UTF-8 is replaced).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The record for a handshake: the ClientHello's fields, the second ClientHello's (after a
/// HelloRetryRequest) under `retry`, the ServerHello's when it was seen.
pub fn tls_record(
    client: Option<&ClientHello<'_>>,
    retry: Option<&ClientHello<'_>>,
    server: Option<&ServerHello<'_>>,
) -> AppRecord {
    let mut fields = Map::new();
    let mut scratch = String::new();
    if let Some(name) = client.and_then(|hello| {
        hello
            .extensions
            .find(ExtensionType::SERVER_NAME)
            .and_then(server_name)
    }) {
        fields.insert("sni".into(), Value::String(text(name)));
    }
    fields.insert(
        "version".into(),
        Value::String(handshake_version(client, server)),
    );
    if let Some(hello) = client {
        ja3_string(hello, &mut scratch);
        fields.insert(
            "ja3".into(),
            json!({ "hash": Md5Hex::of(&scratch).as_str(), "string": scratch }),
        );
    }
    if let Some(hello) = server {
        ja3s_string(hello, &mut scratch);
        fields.insert(
            "ja3s".into(),
            json!({ "hash": Md5Hex::of(&scratch).as_str(), "string": scratch }),
        );
    }
    if let Some(hello) = client {
        let mut sort = Vec::new();
        fields.insert(
            "ja4".into(),
            Value::String(ja4(hello, &mut sort).as_str().to_owned()),
        );
        if let Some(alpn) = hello.extensions.find(ExtensionType::ALPN) {
            let names: Vec<Value> = alpn_protocols(alpn)
                .map(|p| Value::String(text(p)))
                .collect();
            fields.insert("client_alpns".into(), Value::Array(names));
        }
        let sig_algs: Vec<u16> = hello
            .extensions
            .find(ExtensionType::SIGNATURE_ALGORITHMS)
            .map(|d| u16_list(d).iter().collect())
            .unwrap_or_default();
        fields.insert(
            "client_handshake".into(),
            json!({
                "version": version_name(Some(hello.version)),
                "ciphers": hello.cipher_suites.iter().collect::<Vec<u16>>(),
                "exts": hello.extensions.iter().map(|e| e.ext_type.0).collect::<Vec<u16>>(),
                "sig_algs": sig_algs,
            }),
        );
    }
    if let Some(hello) = retry {
        ja3_string(hello, &mut scratch);
        let mut sort = Vec::new();
        fields.insert(
            "retry".into(),
            json!({
                "ja3": { "hash": Md5Hex::of(&scratch).as_str(), "string": scratch },
                "ja4": ja4(hello, &mut sort).as_str(),
            }),
        );
    }
    if let Some(hello) = server {
        if let Some(alpn) = hello.extensions.find(ExtensionType::ALPN) {
            let names: Vec<Value> = alpn_protocols(alpn)
                .map(|p| Value::String(text(p)))
                .collect();
            fields.insert("server_alpns".into(), Value::Array(names));
        }
        fields.insert(
            "server_handshake".into(),
            json!({
                "version": version_name(Some(hello.negotiated_version())),
                "cipher": hello.cipher_suite.0,
                "exts": hello.extensions.iter().map(|e| e.ext_type.0).collect::<Vec<u16>>(),
            }),
        );
    }
    AppRecord {
        app_proto: "tls",
        fields: Value::Object(fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_version_names() {
        let cases = [
            (None, "UNDETERMINED"),
            (Some(0x0300), "SSLv3"),
            (Some(0x0301), "TLSv1"),
            (Some(0x0302), "TLS 1.1"),
            (Some(0x0303), "TLS 1.2"),
            (Some(0x0304), "TLS 1.3"),
            (Some(0x7f0e), "TLS 1.3 draft-<16"),
            (Some(0x7f12), "TLS 1.3 draft-18"),
            (Some(0x7f16), "TLS 1.3 draft-22"),
            (Some(0xfb17), "TLS 1.3 draft-23-fb"),
            (Some(0x1234), "0x1234"),
        ];
        for (version, want) in cases {
            assert_eq!(version_name(version.map(ProtocolVersion)), want);
        }
    }
}
