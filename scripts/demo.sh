#!/usr/bin/env bash
# The demo: generate a sample capture and an indicator list, run the agent on the capture, and
# show the alerts it wrote (EVE JSON in demo-out/eve.json, stats in demo-out/stats.json).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build -q -p kordon-agent --bins
bin="${CARGO_TARGET_DIR:-target}/debug"
out=demo-out
mkdir -p "$out"
rm -f "$out/eve.json"

echo "== generating a sample capture and indicator list (kordon-sample, deterministic)"
"$bin/kordon-sample" capture --profile demo --out "$out/sample.pcap" >/dev/null
"$bin/kordon-sample" indicators --profile demo --out "$out/indicators.txt" >/dev/null
grep -v '^#' "$out/indicators.txt" | sed 's/^/   indicator: /'

echo "== kordon-agent --read $out/sample.pcap --indicators $out/indicators.txt --eve $out/eve.json"
KORDON_LOG=warn "$bin/kordon-agent" --read "$out/sample.pcap" --indicators "$out/indicators.txt" \
    --eve "$out/eve.json" --metadata --stats-json "$out/stats.json"

echo "== alerts (full EVE records in $out/eve.json)"
jq -r 'select(.event_type == "alert")
       | "\(.timestamp[0:19])  \(.proto)  \(.src_ip):\(.src_port // "-") -> \(.dest_ip):\(.dest_port // "-")  \(.kordon.location)  \(.kordon.indicator.type) \(.kordon.indicator.value)"' \
    "$out/eve.json"
echo "== flows with alerts, and how many packets carried each match"
jq -r 'select(.event_type == "flow" and .flow.alerted)
       | "\(.community_id)  \(.src_ip) -> \(.dest_ip)  " + ([.kordon.alerts[] | "\(.location) x\(.count)"] | join(", "))' \
    "$out/eve.json"
