#!/usr/bin/env bash
# The demo: generate a sample capture and an indicator list, run the agent on the capture, and
# show the alerts it wrote (EVE JSON in demo-out/eve.json, stats in demo-out/stats.json); then
# the same alerts travel through the collector: kordon-collector stores them (SQLite under
# demo-out/collector/) and shows them, and a SOC client follows the live stream.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build -q -p kordon-agent -p kordon-collector --bins
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

# ---- Fleet mode: agent → collector (gRPC) → store → SOC -------------------------------------
coll="$out/collector"
rm -rf "$coll"
mkdir -p "$coll"
cat > "$coll/collector.toml" <<TOML
# Demo collector: loopback only, plaintext (--insecure-dev). Production uses mTLS:
#   kordon-collector pki init --dir /var/lib/kordon-collector/pki   (see deploy/collector/)
listen = "127.0.0.1:0"
state_dir = "$PWD/$coll"
TOML
echo
echo "== kordon-collector serve --config $coll/collector.toml --insecure-dev   (background; log in $coll/collector.log)"
KORDON_LOG=info "$bin/kordon-collector" serve --config "$coll/collector.toml" --insecure-dev \
    2>"$coll/collector.log" &
collector_pid=$!
trap 'kill "$collector_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
    [ -s "$coll/listen.addr" ] && break
    kill -0 "$collector_pid" 2>/dev/null || { cat "$coll/collector.log"; exit 1; }
    sleep 0.05
done
addr=$(tr -d '\n' < "$coll/listen.addr")
echo "   listening on $addr (plaintext: the demo's --insecure-dev; never in production)"

echo "== kordon-agent --read $out/sample.pcap ... --collector http://$addr --insecure-dev --agent-id demo-sensor"
# The agent spools alerts under $coll/agent-spool and waits (up to --drain-timeout-secs) until
# the collector has acknowledged storing every one of them.
KORDON_LOG=warn "$bin/kordon-agent" --read "$out/sample.pcap" --indicators "$out/indicators.txt" \
    --eve /dev/null --collector "http://$addr" --insecure-dev --agent-id demo-sensor \
    --spool-dir "$coll/agent-spool" 2>&1 | grep -v 'insecure-dev' | sed 's/^/   /'

echo "== kordon-collector alerts --config $coll/collector.toml   (as stored; --json gives EVE lines)"
"$bin/kordon-collector" alerts --config "$coll/collector.toml"
echo "== kordon-collector agents --config $coll/collector.toml   (fleet registry, from heartbeats)"
"$bin/kordon-collector" agents --config "$coll/collector.toml"
echo "== kordon-collector subscribe --collector http://$addr --insecure-dev --since-cursor 2 --count 2"
echo "   (a SOC client's live stream, resumed after cursor 2; without --count it follows new alerts)"
"$bin/kordon-collector" subscribe --collector "http://$addr" --insecure-dev --since-cursor 2 --count 2 \
    | jq -c '{cursor: .kordon.cursor, agent: .kordon.agent, src_ip, dest_ip, indicator: .kordon.indicator.value}'

kill "$collector_pid"
wait "$collector_pid" 2>/dev/null || true
trap - EXIT
echo "== collector stopped; its store stays in $coll/alerts.sqlite"
