#!/usr/bin/env bash
# Indicator swap benchmark (issue 5 §7, DESIGN.md bar "indicator swap"), release builds only.
#  (a) A 1M-IPv4 set replaces another 1M set on a live agent by the real path: pushed with
#      PushIndicators (collector compiles and signs), streamed by WatchIndicators, verified,
#      compiled and swapped by the agent (agent/src/sync) while tcpreplay feeds its capture
#      interface. Figures: the agent's own timings (update received → swapped), its RSS before /
#      during / after (VmRSS sampled every 10 ms, VmHWM reset just before the push) and its drops.
#  (b) A 1k-indicator delta reaching 100 concurrent WatchIndicators streams (100 agent
#      certificates, one mTLS connection each: collector/examples/watch_load.rs): push start →
#      the last stream holding the new version.
# Writes the figures into BENCHMARKS.md between the `indicator-swap` markers.
# Usage: scripts/bench-indicators.sh [INDICATORS] (default 1000000). Needs root, ip, tcpreplay.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000000}"
streams="${STREAMS:-100}"
live_pps="${LIVE_PPS:-10000}"
if [ "$(id -u)" != 0 ] || ! command -v tcpreplay >/dev/null || ! command -v ip >/dev/null; then
    echo "bench-indicators: needs root, ip and tcpreplay (live capture on a veth pair); not run" >&2
    exit 1
fi
cargo build -q --release -p kordon-agent -p kordon-collector --bins
cargo build -q --release -p kordon-collector --example watch_load
bin="${CARGO_TARGET_DIR:-target}/release"
load="$bin/examples/watch_load"
out=bench-out/indicators
rm -rf "$out"
mkdir -p "$out"

"$bin/kordon-sample" indicators --ipv4 "$count" --cidr 0 --seed 1 --out "$out/v1.txt" >/dev/null
"$bin/kordon-sample" indicators --ipv4 "$count" --cidr 0 --seed 2 --out "$out/v2.txt" >/dev/null
"$bin/kordon-sample" indicators --ipv4 10000 --cidr 0 --seed 3 --out "$out/fanout-base.txt" >/dev/null
"$bin/kordon-sample" indicators --ipv4 1000 --cidr 0 --seed 4 --out "$out/delta.txt" >/dev/null
"$bin/kordon-sample" capture --packets 20000 --flows 1000 --seed 7 --out "$out/live.pcap" >/dev/null
pki="$out/pki"
"$bin/kordon-collector" pki init --dir "$pki" >/dev/null
"$bin/kordon-collector" pki issue-agent bench-1 --dir "$pki" >/dev/null
"$bin/kordon-collector" pki issue-feed bench-feed --dir "$pki" >/dev/null
for i in $(seq 0 $((streams - 1))); do
    "$bin/kordon-collector" pki issue-agent "load-$i" --dir "$pki" >/dev/null
done
cat > "$out/collector.toml" <<TOML
listen = "127.0.0.1:0"
state_dir = "$PWD/$out/state"
[store]
synchronous = "normal"
[tls]
cert = "$PWD/$pki/collector.crt"
key = "$PWD/$pki/collector.key"
client_ca = "$PWD/$pki/ca.crt"
[indicators]
signing_key = "$PWD/$pki/bundle-signing.key"
TOML

tx="kbi-tx-$$"
rxif="kbi$$"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    ip netns del "$tx" 2>/dev/null || true
    ip link del "$rxif" 2>/dev/null || true
}
trap cleanup EXIT

KORDON_LOG=info "$bin/kordon-collector" serve --config "$out/collector.toml" 2>"$out/collector.log" &
cpid=$!
pids+=("$cpid")
for _ in $(seq 1 200); do [ -s "$out/state/listen.addr" ] && break; sleep 0.05; done
url="https://$(tr -d '\n' < "$out/state/listen.addr")"
common=(--collector "$url" --pki "$pki" --feed-cert bench-feed)

# ---- (a) 1M swap on a live agent ----
push1=$("$load" push "${common[@]}" --set swap --file "$out/v1.txt")
echo "push v1: $push1"
ip netns add "$tx"
ip link add "$rxif" type veth peer name kbi-tx netns "$tx"
sysctl -qw "net.ipv6.conf.$rxif.disable_ipv6=1"
ip link set "$rxif" up
ip -n "$tx" link set kbi-tx up
KORDON_LOG=info "$bin/kordon-agent" --interface "$rxif" --bpf ip --workers 1 --eve /dev/null \
    --stats-interval-secs 0 --stats-json "$out/agent-stats.json" \
    --collector "$url" --agent-id bench-1 --cert "$pki/bench-1.crt" --key "$pki/bench-1.key" \
    --ca "$pki/ca.crt" --spool-dir "$out/spool" --indicator-sync --sync-set swap \
    --bundle-key "$pki/bundle-signing.pub" --bundle-dir "$out/bundles" --drain-timeout-secs 10 \
    2>"$out/agent.log" &
apid=$!
pids+=("$apid")
for _ in $(seq 1 1200); do grep -q "applied set=swap version=1" "$out/agent.log" && break; sleep 0.05; done
grep -q "applied set=swap version=1" "$out/agent.log" || { echo "agent did not apply version 1" >&2; tail "$out/agent.log" >&2; exit 1; }
ip netns exec "$tx" tcpreplay -q --pps "$live_pps" --loop 0 -i kbi-tx "$out/live.pcap" >"$out/tcpreplay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
sleep 3
rss() { awk '/^VmRSS/{print $2}' "/proc/$apid/status"; }
steady=0
for _ in 1 2 3 4 5; do r=$(rss); [ "$r" -gt "$steady" ] && steady=$r; sleep 0.2; done
echo 5 > "/proc/$apid/clear_refs"   # resets VmHWM: the peak below is the swap's
( while kill -0 "$apid" 2>/dev/null; do awk '/^VmRSS/{print $2}' "/proc/$apid/status" 2>/dev/null; sleep 0.01; done ) >"$out/rss.samples" &
spid=$!
pids+=("$spid")
push2=$("$load" push "${common[@]}" --set swap --file "$out/v2.txt")
echo "push v2: $push2"
for _ in $(seq 1 1200); do grep -q "applied set=swap version=2" "$out/agent.log" && break; sleep 0.05; done
applied=$(grep "applied set=swap version=2" "$out/agent.log" | head -1)
[ -n "$applied" ] || { echo "agent did not apply version 2" >&2; tail "$out/agent.log" >&2; exit 1; }
sleep 3
after=$(rss)
peak=$(awk '/^VmHWM/{print $2}' "/proc/$apid/status")
kill "$spid" 2>/dev/null || true
sampled_peak=$(sort -n "$out/rss.samples" | tail -1)
kill "$rpid"; wait "$rpid" 2>/dev/null || true
kill -TERM "$apid"; wait "$apid" || true
field() { echo "$applied" | grep -o "$1=[0-9]*" | cut -d= -f2; }
verify_ms=$(field verify_ms); compile_ms=$(field compile_ms); swap_us=$(field swap_us)
receive_ms=$(field receive_ms); applied_ms=$(field applied_ms); bundle_bytes=$(field bytes)
entries=$(field entries)
kind=$(echo "$applied" | grep -o "kind=[A-Za-z]*" | cut -d= -f2)
committed_us=$(echo "$push2" | python3 -c 'import json,sys;print(json.load(sys.stdin)["committed_us"])')
push2_ms=$(echo "$push2" | python3 -c 'import json,sys;print(json.load(sys.stdin)["push_ms"])')
applied_us=$(python3 -c "import datetime,sys;print(int(datetime.datetime.fromisoformat(sys.argv[1].rstrip('Z')+'+00:00').timestamp()*1e6))" "$(echo "$applied" | awk '{print $1}')")
commit_to_live_ms=$(( (applied_us - committed_us) / 1000 ))
read -r kdrop qdrop packets < <(python3 -c "import json;s=json.load(open('$out/agent-stats.json'));print(s['capture']['kernel_dropped'], s['capture']['queue_dropped'], s['packets'])")
ratio=$(python3 -c "print(f'{$peak / $steady:.2f}')")
echo "swap: entries=$entries bytes=$bundle_bytes receive=${receive_ms}ms verify=${verify_ms}ms compile=${compile_ms}ms swap=${swap_us}us received→live=${applied_ms}ms commit→live=${commit_to_live_ms}ms"
echo "rss KiB: steady=$steady peak(VmHWM)=$peak sampled_peak=$sampled_peak after=$after ratio=$ratio; drops kernel=$kdrop queue=$qdrop packets=$packets"

# ---- (b) 1k delta to 100 streams ----
"$load" push "${common[@]}" --set fanout --file "$out/fanout-base.txt" >/dev/null
fan=$("$load" fanout "${common[@]}" --set fanout --file "$out/delta.txt" --streams "$streams" --agent-prefix load-)
echo "fanout: $fan"
fget() { echo "$fan" | python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }
fan_first=$(fget first_ms); fan_p50=$(fget p50_ms); fan_last=$(fget last_ms); fan_push=$(fget push_ms)
kill "$cpid"; wait "$cpid" 2>/dev/null || true

section=$(cat <<MD
<!-- BEGIN indicator-swap -->
## Indicator swap: 1M-indicator bundle on a live agent; 1k delta to 100 streams

<!-- Generated by scripts/bench-indicators.sh on $(date +%F); rerun it rather than editing by hand. -->

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs). Binaries: release.
(a) An agent (\`--workers 1\`, live capture on a veth pair fed by tcpreplay at $live_pps pps)
follows set \`swap\` (version 1: $count IPv4 pushed with PushIndicators); a second $count-IPv4 set
is pushed; the collector compiles and signs it, streams it as a snapshot, and the agent verifies
the Ed25519 signature and hash, compiles the merged matcher off the packet path and swaps it
(agent/src/sync, its \`indicator sync: applied\` log line). RSS: steady = max VmRSS over 1 s with
version 1 live; peak = VmHWM reset (\`clear_refs\` 5) just before the push, read 3 s after the swap.
(b) \`collector/examples/watch_load.rs\`: $streams WatchIndicators streams, one agent certificate and
one mTLS connection each, on a 10k set; a 1k-indicator delta is pushed; time from push start to
each stream having received the whole signed delta.
The collector streams a delta only when it is smaller than the snapshot: replacing a whole 1M set
as a delta (1M removals + 1M additions, 21 MB) took the agent 1.25 s to verify and apply (one run,
with a test running beside it) and peaked at 3.1× steady RSS, so a replacement goes out as the
(13 MB) snapshot.

| figure | value | bar (DESIGN.md) |
| --- | ---: | --- |
| (a) update: kind / entries / signed bytes | $kind / $entries / $bundle_bytes | |
| (a) transfer (first → last chunk on the agent) | $receive_ms ms | |
| (a) verify / compile / swap | $verify_ms ms / $compile_ms ms / $swap_us µs | |
| (a) update received → new set live (verify + compile + swap) | $applied_ms ms | < 1 s |
| (a) push committed → new set live (incl. transfer) | $commit_to_live_ms ms | |
| (a) collector push of $count (receive, compile, sign, store) | $push2_ms ms | |
| (a) agent RSS steady / peak during swap / after | $steady / $peak / $after KiB | peak < 2× steady |
| (a) peak ÷ steady | $ratio | < 2 |
| (a) packets captured during the run / kernel drops / queue drops | $packets / $kdrop / $qdrop | 0 drops |
| (b) push of the delta (PushIndicators round trip) | $fan_push ms | |
| (b) push start → first / median / last of $streams streams | $fan_first / $fan_p50 / $fan_last ms | last < 1 s |
<!-- END indicator-swap -->
MD
)
python3 - "$section" <<'PY'
import re, sys
section = sys.argv[1]
path = "BENCHMARKS.md"
text = open(path).read()
pattern = re.compile(r"<!-- BEGIN indicator-swap -->.*?<!-- END indicator-swap -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
echo "BENCHMARKS.md updated (indicator-swap section)"
