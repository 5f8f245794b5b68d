//! Shared by the loader targets: compile what was loaded and match every value back.

use kordon_intel::{IndicatorSet, IndicatorSetBuilder, IndicatorValue, LoadReport};

pub fn check(report: LoadReport, builder: IndicatorSetBuilder) {
    assert!(report.rejected.len() <= report.rejected_total);
    let _ = report.to_string();
    let Ok(set) = builder.build() else { return };
    assert_eq!(set.len(), report.accepted + report.allowlisted);
    match_back(&set);
}

fn match_back(set: &IndicatorSet) {
    let mut out = Vec::with_capacity(16);
    for r in set.iter() {
        out.clear();
        let _ = r.id();
        match r.value() {
            IndicatorValue::Ip(ip) => set.match_ip(ip, 0, &mut out),
            IndicatorValue::Cidr(net) => set.match_ip(net.network(), 0, &mut out),
            IndicatorValue::Domain { name, .. } => set.match_domain(&name, 0, &mut out),
            IndicatorValue::Text(text) => set.match_text(r.kind(), &text, 0, &mut out),
        }
        if !r.meta().allowlist {
            assert!(
                !out.is_empty(),
                "{} {} does not match itself",
                r.kind(),
                r.value()
            );
        }
    }
}
