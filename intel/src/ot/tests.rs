//! OT policy: parsing, reporting and matching, end to end through an `IndicatorSet`.

use std::sync::Arc;

use super::*;
use crate::formats::LoadOptions;
use crate::model::{IndicatorKind, IndicatorMeta};
use crate::{IndicatorSet, IndicatorSetBuilder, LoadReport};

const POLICY: &str = r#"
name = "plant"

[[rule]]
protocol = "modbus"

  [[rule.allow]]
  hosts = ["10.0.0.5", "10.0.1.0/24"]
  classes = ["write", "read"]
  addresses = [1, "10-20"]

  [[rule.allow]]
  hosts = ["10.0.0.6"]
  classes = ["restart"]
  servers = ["10.0.2.0/24"]

[[rule]]
protocol = "s7comm"
monitor = ["stop", "program"]

[peers]
protocols = ["modbus"]
  [[peers.known]]
  client = "10.0.0.5"
  server = "10.0.2.10"
"#;

fn load(text: &str) -> (IndicatorSet, LoadReport) {
    let mut builder = IndicatorSetBuilder::new();
    let mut opts = LoadOptions::new(Arc::new(IndicatorMeta::default()));
    opts.now = 0;
    let report = load_ot_policy(text.as_bytes(), &opts, &mut builder).expect("loads");
    (builder.build().expect("builds"), report)
}

fn access(
    protocol: OtProtocol,
    class: Option<OtClass>,
    requester: &str,
    responder: &str,
    address: Option<u32>,
) -> OtAccess {
    OtAccess {
        protocol,
        class,
        requester: requester.parse().expect("ip"),
        responder: responder.parse().expect("ip"),
        address,
    }
}

fn ids(set: &IndicatorSet, access: &OtAccess) -> Vec<String> {
    let mut out = Vec::new();
    set.match_ot(access, 0, &mut out);
    out.iter().map(|&m| set.get(m).id().into_owned()).collect()
}

#[test]
fn policy_loads_with_one_indicator_per_monitored_class() {
    let (set, report) = load(POLICY);
    assert!(report.is_clean(), "{report:?}");
    // modbus: 6 default classes; s7comm: 2; peers: 1.
    assert_eq!(report.accepted, 9);
    assert_eq!(set.count_of(IndicatorKind::OtPolicy), 9);
    assert!(set.has_ot_policy());
}

#[test]
fn violations_name_the_policy_entry() {
    let (set, _) = load(POLICY);
    use OtClass::*;
    use OtProtocol::*;
    type Case = (&'static str, OtAccess, &'static [&'static str]);
    let cases: Vec<Case> = vec![
        (
            "granted host, granted unit",
            access(Modbus, Some(Write), "10.0.0.5", "10.0.2.10", Some(1)),
            &[],
        ),
        (
            "granted network, unit in range",
            access(Modbus, Some(Write), "10.0.1.7", "10.0.2.10", Some(15)),
            &[],
        ),
        (
            "granted host, other unit",
            access(Modbus, Some(Write), "10.0.0.5", "10.0.2.10", Some(2)),
            &["ot-policy:plant:modbus.write"],
        ),
        (
            "unknown host writes",
            access(Modbus, Some(Write), "10.0.0.9", "10.0.2.10", Some(1)),
            &["ot-policy:plant:modbus.write"],
        ),
        (
            "reads are not monitored by default",
            access(Modbus, Some(Read), "10.0.0.9", "10.0.2.10", Some(1)),
            &[],
        ),
        (
            "restart allowed only towards its servers",
            access(Modbus, Some(Restart), "10.0.0.6", "10.0.3.1", None),
            &["ot-policy:plant:modbus.restart"],
        ),
        (
            "restart towards its servers",
            access(Modbus, Some(Restart), "10.0.0.6", "10.0.2.1", None),
            &[],
        ),
        (
            "s7 stop from anyone",
            access(S7comm, Some(Stop), "10.0.0.5", "10.0.2.10", None),
            &["ot-policy:plant:s7comm.stop"],
        ),
        (
            "s7 write is not monitored",
            access(S7comm, Some(Write), "10.0.0.5", "10.0.2.10", None),
            &[],
        ),
        (
            "no rule for dnp3",
            access(Dnp3, Some(Operate), "10.0.0.9", "10.0.2.10", Some(3)),
            &[],
        ),
        (
            "known peer",
            access(Modbus, None, "10.0.0.5", "10.0.2.10", None),
            &[],
        ),
        (
            "new peer",
            access(Modbus, None, "10.0.0.9", "10.0.2.10", None),
            &["ot-policy:plant:modbus.new_peer"],
        ),
        (
            "peers not checked for s7",
            access(S7comm, None, "10.0.0.9", "10.0.2.10", None),
            &[],
        ),
        (
            "ipv4-mapped requester is the same host",
            access(Modbus, Some(Write), "::ffff:10.0.0.5", "10.0.2.10", Some(1)),
            &[],
        ),
    ];
    let mut names = std::collections::HashSet::new();
    for (name, access, want) in cases {
        assert!(names.insert(name), "duplicate case name {name}");
        assert_eq!(ids(&set, &access), want, "{name}");
    }
}

#[test]
fn bad_entries_are_reported_and_make_the_policy_stricter() {
    let text = r#"
[[rule]]
protocol = "profibus"

[[rule]]
protocol = "modbus"
  [[rule.allow]]
  hosts = ["10.0.0.300"]
  classes = ["write"]
"#;
    let (set, report) = load(text);
    assert_eq!(report.rejected_total, 2, "{report:?}");
    assert!(report.rejected[0].reason.contains("profibus"));
    assert_eq!(
        ids(
            &set,
            &access(
                OtProtocol::Modbus,
                Some(OtClass::Write),
                "10.0.0.30",
                "10.0.0.1",
                None
            )
        ),
        ["ot-policy:ot:modbus.write"]
    );
}

#[test]
fn json_and_unknown_keys() {
    let json = r#"{"name": "j", "rule": [{"protocol": "dnp3", "monitor": ["operate"]}]}"#;
    let (set, report) = load(json);
    assert_eq!(report.accepted, 1);
    assert_eq!(
        ids(
            &set,
            &access(
                OtProtocol::Dnp3,
                Some(OtClass::Operate),
                "10.0.0.1",
                "10.0.0.2",
                Some(4)
            )
        ),
        ["ot-policy:j:dnp3.operate"]
    );
    let mut builder = IndicatorSetBuilder::new();
    let typo = "[[rule]]\nprotocol = \"modbus\"\nalow = []\n";
    assert!(load_ot_policy(typo.as_bytes(), &LoadOptions::default(), &mut builder).is_err());
}

#[test]
fn expired_policy_does_not_match() {
    let mut builder = IndicatorSetBuilder::new();
    let meta = IndicatorMeta {
        valid_until: Some(100),
        ..IndicatorMeta::default()
    };
    let mut opts = LoadOptions::new(Arc::new(meta));
    opts.now = 0;
    load_ot_policy(POLICY.as_bytes(), &opts, &mut builder).expect("loads");
    let set = builder.build().expect("builds");
    let write = access(
        OtProtocol::Modbus,
        Some(OtClass::Write),
        "10.0.0.9",
        "10.0.0.1",
        None,
    );
    let mut out = Vec::new();
    set.match_ot(&write, 50, &mut out);
    assert_eq!(out.len(), 1);
    out.clear();
    set.match_ot(&write, 100, &mut out);
    assert!(out.is_empty());
}
