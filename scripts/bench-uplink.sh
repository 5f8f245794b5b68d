#!/usr/bin/env bash
# Alert transport benchmark: one agent → kordon-collector over mTLS on loopback → SQLite.
# Measures alerts/s (store side: alerts ÷ span between the first and the last commit; and end
# to end: alerts ÷ agent wall time with the collector minus without) and writes the figures into
# BENCHMARKS.md between the `uplink` markers. Usage: scripts/bench-uplink.sh [PACKETS]
# (PROFILE=debug to use debug binaries, e.g. while a release build is impossible).
set -euo pipefail
cd "$(dirname "$0")/.."
packets="${1:-400000}"
for tool in sqlite3 bc; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
done
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then
    cargo build -q --release -p kordon-agent -p kordon-collector --bins
fi
bin="${CARGO_TARGET_DIR:-target}/$profile"
out=bench-out/uplink
rm -rf "$out"
mkdir -p "$out"

"$bin/kordon-sample" capture --packets "$packets" --flows $((packets / 25)) --seed 7 --out "$out/capture.pcap" >/dev/null
"$bin/kordon-sample" indicators --ipv4 1000 --cidr 10 --seed 7 --hit-from "$out/capture.pcap" \
    --hit-rate 0.6 --out "$out/indicators.txt" >/dev/null
"$bin/kordon-collector" pki init --dir "$out/pki" >/dev/null
"$bin/kordon-collector" pki issue-agent bench-1 --dir "$out/pki" >/dev/null
cat > "$out/collector.toml" <<TOML
listen = "127.0.0.1:0"
state_dir = "$PWD/$out/state"
[store]
synchronous = "full"
[tls]
cert = "$PWD/$out/pki/collector.crt"
key = "$PWD/$out/pki/collector.key"
client_ca = "$PWD/$out/pki/ca.crt"
TOML

agent_args=(--read "$out/capture.pcap" --indicators "$out/indicators.txt" --dedup none --workers 1)

# Baseline: the agent alone (EVE to /dev/null), same capture and indicators.
start=$(date +%s.%N)
KORDON_LOG=warn /usr/bin/time -v -o "$out/agent-alone.time" "$bin/kordon-agent" "${agent_args[@]}" \
    --eve /dev/null 2>"$out/agent-alone.log"
alone=$(echo "$(date +%s.%N) - $start" | bc)

KORDON_LOG=warn "$bin/kordon-collector" serve --config "$out/collector.toml" 2>"$out/collector.log" &
cpid=$!
trap 'kill $cpid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do [ -s "$out/state/listen.addr" ] && break; sleep 0.05; done
addr=$(tr -d '\n' < "$out/state/listen.addr")

start=$(date +%s.%N)
KORDON_LOG=warn /usr/bin/time -v -o "$out/agent-uplink.time" "$bin/kordon-agent" "${agent_args[@]}" \
    --eve /dev/null --collector "https://$addr" --agent-id bench-1 \
    --cert "$out/pki/bench-1.crt" --key "$out/pki/bench-1.key" --ca "$out/pki/ca.crt" \
    --spool-dir "$out/spool" --drain-timeout-secs 600 2>"$out/agent-uplink.log"
with=$(echo "$(date +%s.%N) - $start" | bc)
kill $cpid; wait $cpid 2>/dev/null || true; trap - EXIT

# Latency phase: live capture at a paced rate (tcpreplay into a veth pair between namespaces), so
# an alert's timestamp is the kernel's capture time and (stored_us - ts_us) is the whole path
# capture → decode → match → spool → mTLS → SQLite commit. Collector and agent share the
# receiving namespace's loopback. Needs root; skipped otherwise.
latency_rate="${LATENCY_PPS:-12000}"
latency_summary="not measured: needs root, ip and tcpreplay"
if [ "$(id -u)" = 0 ] && command -v tcpreplay >/dev/null && command -v ip >/dev/null; then
    "$bin/kordon-sample" capture --packets $((latency_rate * 10)) --flows 2000 --seed 11 \
        --out "$out/latency.pcap" >/dev/null
    "$bin/kordon-sample" indicators --ipv4 4000 --cidr 0 --seed 11 --hit-from "$out/latency.pcap" \
        --hit-rate 1.0 --out "$out/latency-indicators.txt" >/dev/null
    tx="kbench-tx-$$"; rx="kbench-rx-$$"
    cleanup_ns() { ip netns del "$tx" 2>/dev/null || true; ip netns del "$rx" 2>/dev/null || true; }
    trap cleanup_ns EXIT
    ip netns add "$tx"; ip netns add "$rx"
    ip link add kb-tx netns "$tx" type veth peer name kb-rx netns "$rx"
    for pair in "$tx kb-tx" "$rx kb-rx"; do
        set -- $pair
        ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
        ip -n "$1" link set "$2" up
    done
    ip -n "$rx" link set lo up
    sed "s#state_dir = .*#state_dir = \"$PWD/$out/state-latency\"#" "$out/collector.toml" > "$out/collector-latency.toml"
    KORDON_LOG=warn ip netns exec "$rx" "$bin/kordon-collector" serve --config "$out/collector-latency.toml" \
        2>"$out/collector-latency.log" &
    lcpid=$!
    for _ in $(seq 1 200); do [ -s "$out/state-latency/listen.addr" ] && break; sleep 0.05; done
    laddr=$(tr -d '\n' < "$out/state-latency/listen.addr")
    KORDON_LOG=info ip netns exec "$rx" "$bin/kordon-agent" --interface kb-rx --bpf ip --dedup none \
        --workers 1 --indicators "$out/latency-indicators.txt" --eve /dev/null \
        --collector "https://$laddr" --agent-id bench-1 --cert "$out/pki/bench-1.crt" \
        --key "$out/pki/bench-1.key" --ca "$out/pki/ca.crt" --spool-dir "$out/spool-latency" \
        --drain-timeout-secs 120 --stats-json "$out/latency-stats.json" 2>"$out/agent-latency.log" &
    lapid=$!
    for _ in $(seq 1 400); do grep -q "live capture started" "$out/agent-latency.log" && break; sleep 0.05; done
    ip netns exec "$tx" tcpreplay --pps "$latency_rate" -i kb-tx "$out/latency.pcap" >"$out/tcpreplay.log" 2>&1
    sleep 2
    kill -TERM "$lapid"; wait "$lapid" || true
    kill "$lcpid"; wait "$lcpid" 2>/dev/null || true
    cleanup_ns; trap - EXIT
    ldb="$out/state-latency/alerts.sqlite"
    lcount=$(sqlite3 "$ldb" 'SELECT count(*) FROM alerts')
    lspan=$(sqlite3 "$ldb" 'SELECT (max(ts_us) - min(ts_us)) FROM alerts')
    pct() { sqlite3 "$ldb" "SELECT printf('%.1f', (stored_us - ts_us) / 1000.0) FROM alerts ORDER BY stored_us - ts_us LIMIT 1 OFFSET (SELECT CAST(count(*) * $1 AS INTEGER) FROM alerts)"; }
    p50=$(pct 0.50); p99=$(pct 0.99); pmax=$(sqlite3 "$ldb" 'SELECT printf("%.1f", max(stored_us - ts_us) / 1000.0) FROM alerts')
    lrate=$(echo "scale=0; $lcount * 1000000 / ($lspan + 1)" | bc)
    kdrop=$(python3 -c "import json;s=json.load(open('$out/latency-stats.json'));print(s['capture']['kernel_dropped'], s['capture']['queue_dropped'], s['packets'])")
    latency_summary="$lcount alerts at $lrate alerts/s (tcpreplay --pps $latency_rate); capture → committed latency p50 $p50 ms, p99 $p99 ms, max $pmax ms; agent kernel/queue drops and packets: $kdrop"
    echo "latency: $latency_summary"
fi

db="$out/state/alerts.sqlite"
stored=$(sqlite3 "$db" 'SELECT count(*) FROM alerts')
span_us=$(sqlite3 "$db" 'SELECT max(stored_us) - min(stored_us) FROM alerts')
commits=$(sqlite3 "$db" 'SELECT count(DISTINCT stored_us) FROM alerts')
spooled=$(grep -o 'spooled=[0-9]*' "$out/agent-uplink.log" | cut -d= -f2)
store_rate=$(echo "scale=0; $stored * 1000000 / ($span_us + 1)" | bc)
e2e_rate=$(echo "scale=0; $stored / $with" | bc)
rss_collector="n/a"
rss_agent=$(grep 'Maximum resident' "$out/agent-uplink.time" | awk '{print $NF}')
echo "alerts spooled=$spooled stored=$stored commits=$commits"
echo "agent alone ${alone}s; agent with uplink (until all acknowledged) ${with}s"
echo "store-side rate ${store_rate} alerts/s; end-to-end ${e2e_rate} alerts/s"

section=$(cat <<MD
<!-- BEGIN uplink -->
## Alert transport: agent → collector (mTLS, SQLite)

<!-- Generated by scripts/bench-uplink.sh on $(date +%F); rerun it rather than editing by hand. -->

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs). Binaries: $profile.
One agent (\`--dedup none --workers 1\`, so every matching packet is an alert) reads a
$packets-packet capture and sends to \`kordon-collector\` on 127.0.0.1 over mTLS; the store is
SQLite in WAL mode with \`synchronous = full\` (every acknowledged batch is fsynced).

| figure | value | bar (DESIGN.md) |
| --- | ---: | --- |
| alerts spooled / stored | $spooled / $stored | equal |
| store-side rate (alerts ÷ first-to-last commit span) | $store_rate alerts/s | ≥ 100k alerts/s |
| end to end (alerts ÷ agent wall time until all acknowledged) | $e2e_rate alerts/s | |
| agent wall time alone / with uplink | ${alone} s / ${with} s | |
| group commits (distinct commit times) | $commits | |
| agent max RSS with uplink | ${rss_agent} KiB | |

Latency capture → durable store (live capture on a veth pair, paced with tcpreplay, collector in
the same namespace): $latency_summary.
<!-- END uplink -->
MD
)
python3 - "$section" <<'PY'
import re, sys
section = sys.argv[1]
path = "BENCHMARKS.md"
text = open(path).read()
pattern = re.compile(r"<!-- BEGIN uplink -->.*?<!-- END uplink -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
echo "BENCHMARKS.md updated (uplink section)"
