#!/usr/bin/env bash
# Offline app-layer matching, side by side, one run:
#   Suricata 7 (dataset rules on dns.query, tls.sni, http.host, ja3.hash, ja4.hash; one thread)
#   vs kordon-agent (one worker)
# on the same generated capture (DNS, TLS ClientHellos with SNI, HTTP with Host) and the same
# indicators: 1M domains + 50k JA3 + 50k JA4. Writes bench-out/applayer/results.md and, for a full
# run, rewrites the "offline-applayer" section of BENCHMARKS.md. Companion of bench-offline.sh
# (IPv4/CIDR), same method: /usr/bin/time -v, page cache warm, median of --runs.
#
# Usage: scripts/bench-applayer.sh [--quick] [--runs N] [--skip-install] [--no-md]
#   --quick         100k packets, 100k domains + 5k JA3 + 5k JA4; never touches BENCHMARKS.md
#   --runs N        runs per contender (default 3; the median run is reported)
#   --skip-install  do not check/install packages (scripts/bench/install-deps.sh)
#   --no-md         do not rewrite BENCHMARKS.md
#
# Exit status: 0 when every contender ran; 1 on any error.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench-out/applayer"
BENCH_DIR="$ROOT/scripts/bench"

# shellcheck source=scripts/bench/lib.sh
. "$BENCH_DIR/lib.sh"
parse_bench_args "$@"

SEED=1
HIT_RATE=0.02
if [ $QUICK -eq 1 ]; then
    PACKETS=100000; FLOWS=4000; DOMAINS=100000; JA3=5000; JA4=5000; WRITE_MD=0
else
    PACKETS=1000000; FLOWS=40000; DOMAINS=1000000; JA3=50000; JA4=50000
fi


step 1 "dependencies"
if [ $INSTALL -eq 1 ]; then "$BENCH_DIR/install-deps.sh"; else info "skipped (--skip-install)"; fi
for tool in suricata jq cargo awk; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "missing: /usr/bin/time (apt-get install time)" >&2; exit 1; }

step 2 "build (release): cargo build --release -p kordon-agent --bins"
cargo build --release -p kordon-agent --bins
SAMPLE="$ROOT/target/release/kordon-sample"
KORDON="$ROOT/target/release/kordon-agent"

step 3 "data: $PACKETS packets; $DOMAINS domains + $JA3 JA3 + $JA4 JA4 (seed $SEED, hit rate $HIT_RATE)"
mkdir -p "$OUT"
CAP="$OUT/capture.pcap"
ONE="$OUT/one-packet.pcap"
IND="$OUT/indicators.txt"
JA3F="$OUT/indicators-ja3.txt"
SURI_DATA="$OUT/suricata-data"
GEN_HASH=$(cat "$ROOT"/agent/src/bin/kordon-sample/*.rs | sha256sum | cut -c1-16)
STAMP="packets=$PACKETS flows=$FLOWS domains=$DOMAINS ja3=$JA3 ja4=$JA4 seed=$SEED hit_rate=$HIT_RATE generator=$GEN_HASH"
GEN_CMD="$SAMPLE indicators --out $IND --ipv4 0 --cidr 0 --domains $DOMAINS --ja3 $JA3 --ja4 $JA4 --ja3-out $JA3F --seed $SEED --hit-from $CAP --hit-rate $HIT_RATE --suricata-dir $SURI_DATA"
if [ -f "$OUT/data.stamp" ] && [ "$(cat "$OUT/data.stamp")" = "$STAMP" ] \
    && [ -f "$CAP" ] && [ -f "$ONE" ] && [ -f "$IND" ] && [ -f "$JA3F" ] && [ -f "$SURI_DATA/domains.lst" ]; then
    info "reusing bench-out/applayer/ ($STAMP)"
else
    rm -f "$OUT/data.stamp"
    "$SAMPLE" capture --out "$CAP" --packets "$PACKETS" --flows "$FLOWS" --seed "$SEED" >/dev/null
    "$SAMPLE" capture --out "$ONE" --packets 1 --flows 1 --seed "$SEED" >/dev/null
    info "$GEN_CMD"
    t0=$(date +%s%N)
    $GEN_CMD > "$OUT/generator.json"
    t1=$(date +%s%N)
    awk -v ns="$((t1 - t0))" 'BEGIN { printf "%.2f\n", ns / 1e9 }' > "$OUT/generator.secs"
    echo "$STAMP" > "$OUT/data.stamp"
fi
GEN_SECS=$(cat "$OUT/generator.secs")
hdr() { sed -n "s/^# $1: \([0-9]*\).*/\1/p" "$IND"; }
EXP_ALL=$(hdr expected-matching-app-flows)
EXP_DNS=$(hdr expected-dns.query-flows); EXP_SNI=$(hdr expected-tls.sni-flows)
EXP_HTTP=$(hdr expected-http.host-flows); EXP_JA3=$(hdr expected-ja3-flows); EXP_JA4=$(hdr expected-ja4-flows)
APP_FLOWS_LINE=$(sed -n 's/^# capture-app-flows: //p' "$IND")
PLANTED_LINE=$(sed -n 's/^# domains: //p' "$IND")
CAP_BYTES=$(stat -c %s "$CAP")
info "generator: $GEN_SECS s; expected matching flows: $EXP_ALL (dns.query $EXP_DNS, tls.sni $EXP_SNI, http.host $EXP_HTTP, ja3 $EXP_JA3, ja4 $EXP_JA4)"
# Domain-only list for the memory-per-domain runs.
grep -v '^#' "$IND" | grep -v '_' > "$OUT/indicators-domains-only.txt"

# Suricata: base configuration with the app-layer parsers on and JA3/JA4 computed; no iprep.
SURI="$OUT/suricata"
mkdir -p "$SURI"
pow2() { local h=1; while [ $h -lt $((2 * $1)) ]; do h=$((h * 2)); done; echo $h; }
H_DOM=$(pow2 "$DOMAINS"); H_JA3=$(pow2 "$JA3"); H_JA4=$(pow2 "$JA4")
make_suricata_yaml() { # variant rules-file
    local dir="$SURI/$1"
    mkdir -p "$dir"
    sed -e "s#@LOG_DIR@#$dir#" -e "s#@RULE_DIR@#$SURI#" -e "s#^  - kordon.rules#  - $2#" \
        -e '/^reputation-files:/,+1d' -e '/^reputation-categories-file:/d' -e '/^default-reputation-path:/d' \
        "$BENCH_DIR/suricata.yaml.in" \
        | awk -v f="$BENCH_DIR/app-layer-fingerprints.yaml.in" '/^@APP_LAYER@$/ { while ((getline l < f) > 0) print l; next } { print }' \
        > "$dir/suricata.yaml"
}
make_suricata_yaml rules app.rules
make_suricata_yaml no-rules empty.rules
: > "$SURI/empty.rules"
DS_DOM="dataset:isset,kordon-domains,type string,load $SURI_DATA/domains.lst,hashsize $H_DOM"
cat > "$SURI/app.rules" <<EOF
alert dns any any -> any any (msg:"kordon bench dns.query"; dns.query; $DS_DOM; sid:11; rev:1;)
alert tls any any -> any any (msg:"kordon bench tls.sni"; tls.sni; $DS_DOM; sid:12; rev:1;)
alert http any any -> any any (msg:"kordon bench http.host"; http.host; $DS_DOM; sid:13; rev:1;)
alert tls any any -> any any (msg:"kordon bench ja3"; ja3.hash; dataset:isset,kordon-ja3,type string,load $SURI_DATA/ja3-string.lst,hashsize $H_JA3; sid:14; rev:1;)
alert tls any any -> any any (msg:"kordon bench ja4"; ja4.hash; dataset:isset,kordon-ja4,type string,load $SURI_DATA/ja4.lst,hashsize $H_JA4; sid:15; rev:1;)
EOF

step 4 "runs: $RUNS per contender, page cache warm, /usr/bin/time -v"
TIMES="$OUT/times"
rm -rf "$TIMES"; mkdir -p "$TIMES"
cat "$CAP" "$ONE" "$IND" "$JA3F" "$SURI_DATA"/*.lst > /dev/null
sample_busy() {
    for _ in $(seq 1 20); do awk '/^procs_running/ { print $2 - 1 }' /proc/stat; sleep 0.1; done \
        | awk '{ s += $1 } END { printf "%.1f", s / NR }'
}
BUSY=$(sample_busy)
info "other running threads, averaged over 2 s: $BUSY (on $(nproc) cores)"

run() { # NAME CMD...
    local name="$1"; shift
    local i t0 t1
    for i in $(seq 1 "$RUNS"); do
        if [ -n "${PRE_RUN:-}" ]; then eval "$PRE_RUN"; fi
        t0=$(date +%s%N)
        if ! /usr/bin/time -v -o "$TIMES/$name.$i.time" "$@" > "$TIMES/$name.$i.out" 2>&1; then
            echo "!!  $name run $i failed: $*" >&2; tail -n 20 "$TIMES/$name.$i.out" >&2; return 1
        fi
        t1=$(date +%s%N)
        awk -v ns="$((t1 - t0))" 'BEGIN { printf "%.4f\n", ns / 1e9 }' > "$TIMES/$name.$i.wall"
        info "$name run $i: $(cat "$TIMES/$name.$i.wall") s wall, $(rss_of "$TIMES/$name.$i.time") KiB max RSS"
    done
    echo "$*" > "$TIMES/$name.cmd"
}

KEVE="$OUT/kordon-eve.json"; KSTATS="$OUT/kordon-stats.json"; K1="$OUT/kordon-1pkt-eve.json"
PRE_RUN="rm -f '$SURI/rules/eve.json'" run suricata suricata -c "$SURI/rules/suricata.yaml" -r "$CAP" -k none --runmode single -l "$SURI/rules"
cp "$SURI/rules/eve.json" "$OUT/suricata-eve.json"
PRE_RUN="rm -f '$SURI/rules/eve.json'" run suricata-startup suricata -c "$SURI/rules/suricata.yaml" -r "$ONE" -k none --runmode single -l "$SURI/rules"
PRE_RUN="rm -f '$SURI/no-rules/eve.json'" run suricata-no-rules suricata -c "$SURI/no-rules/suricata.yaml" -r "$CAP" -k none --runmode single -l "$SURI/no-rules"
PRE_RUN="rm -f '$KEVE' '$KSTATS'" run kordon "$KORDON" --read "$CAP" --indicators "$IND" "plain:ja3=$JA3F" --eve "$KEVE" --workers 1 --stats-json "$KSTATS"
PRE_RUN="rm -f '$K1'" run kordon-startup "$KORDON" --read "$ONE" --indicators "$IND" "plain:ja3=$JA3F" --eve "$K1" --workers 1
PRE_RUN="rm -f '$K1'" run kordon-startup-domains "$KORDON" --read "$ONE" --indicators "$OUT/indicators-domains-only.txt" --eve "$K1" --workers 1
PRE_RUN="rm -f '$K1'" run kordon-startup-none "$KORDON" --read "$ONE" --eve "$K1" --workers 1
PRE_RUN="rm -f '$OUT/kordon-noind-eve.json'" run kordon-no-indicators "$KORDON" --read "$CAP" --eve "$OUT/kordon-noind-eve.json" --workers 1
BUSY_AFTER=$(sample_busy)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
info "other running threads after the runs: $BUSY_AFTER; load average $LOADAVG"

step 5 "figures"
s_wall=$(median_wall suricata); s_pps=$(pps "$s_wall"); ss_wall=$(median_wall suricata-startup)
s_proc_pps=$(calc "%.0f" "$PACKETS / ($s_wall - $ss_wall)")
sn_wall=$(median_wall suricata-no-rules); sn_pps=$(pps "$sn_wall")
k_wall=$(median_wall kordon); k_pps=$(pps "$k_wall"); ks_wall=$(median_wall kordon-startup)
k_proc_pps=$(calc "%.0f" "$PACKETS / ($k_wall - $ks_wall)")
kn_wall=$(median_wall kordon-no-indicators); kn_pps=$(pps "$kn_wall")
s_rss=$(max_rss suricata); sn_rss=$(max_rss suricata-no-rules); ss_rss=$(max_rss suricata-startup)
k_rss=$(max_rss kordon); kn_rss=$(max_rss kordon-no-indicators)
k_bpd=$(calc "%.0f" "($(max_rss kordon-startup-domains) - $(max_rss kordon-startup-none)) * 1024 / $DOMAINS")
k_bpi=$(calc "%.0f" "($k_rss - $kn_rss) * 1024 / ($DOMAINS + $JA3 + $JA4)")
s_bpi=$(calc "%.0f" "($s_rss - $sn_rss) * 1024 / ($DOMAINS + $JA3 + $JA4)")
ratio=$(calc "%.2f" "$k_pps / $s_pps"); ratio_proc=$(calc "%.2f" "$k_proc_pps / $s_proc_pps")
# Distinct flows alerted, by location. Suricata: sid → location; kordon: .kordon.location.
S_EVE="$OUT/suricata-eve.json"
s_flows() { jq -r "select(.event_type == \"alert\" and ($1)) | .flow_id" "$S_EVE" | sort -u | wc -l; }
k_flows() { jq -r "select(.event_type == \"alert\" and ($1)) | (.flow_id // .community_id)" "$KEVE" | sort -u | wc -l; }
s_all=$(s_flows true); s_alerts=$(jq -c 'select(.event_type == "alert")' "$S_EVE" | wc -l)
s_dns=$(s_flows '.alert.signature_id == 11'); s_sni=$(s_flows '.alert.signature_id == 12')
s_http=$(s_flows '.alert.signature_id == 13'); s_ja3=$(s_flows '.alert.signature_id == 14')
s_ja4=$(s_flows '.alert.signature_id == 15')
k_all=$(k_flows true); k_alerts=$(jq -c 'select(.event_type == "alert")' "$KEVE" | wc -l)
k_dns=$(k_flows '.kordon.location == "dns.query"'); k_sni=$(k_flows '.kordon.location == "tls.sni"')
k_http=$(k_flows '.kordon.location == "http.host"'); k_ja3=$(k_flows '.kordon.location == "tls.ja3"')
k_ja4=$(k_flows '.kordon.location == "tls.ja4"')
k_locs=$(jq -r 'select(.event_type == "alert") | .kordon.location' "$KEVE" | sort | uniq -c \
    | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
k_packets=$(jq -r '.packets // empty' "$KSTATS")
check() { [ "$1" = "$2" ] && echo "$1 ✓" || echo "$1 ✗"; }

step 6 "report"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
SURI_V=$(suricata -V 2>/dev/null | sed 's/^This is //')
DATE=$(date -u +%Y-%m-%d)
MODE=$([ $QUICK -eq 1 ] && echo "quick (smoke run)" || echo "full")
RESULTS="$OUT/results.md"
{
    echo "## Offline app-layer matching (domains, JA3, JA4)"
    echo
    echo "<!-- Generated by scripts/bench-applayer.sh ($MODE) on $DATE; rerun it rather than editing by hand. -->"
    echo
    echo "Date: $DATE. Machine: $(nproc) cores, $CPU, Linux $(uname -r). $SURI_V; $(rustc --version)."
    echo "Load: other running threads (mean of 20 samples of procs_running) $BUSY before the runs, $BUSY_AFTER after;"
    echo "load average after: $LOADAVG (the machine is shared with other builds: figures are noisy when these are ≥ 0.5)."
    echo
    echo "Capture: $PACKETS packets, $(( CAP_BYTES / 1000000 )) MB (\`kordon-sample capture --packets $PACKETS --flows $FLOWS --seed $SEED\`),"
    echo "flows with app-layer values: $APP_FLOWS_LINE (DNS queries, TLS 1.3 ClientHellos with SNI in 64 cipher-list"
    echo "variants, HTTP/1.1 requests with a Host name). Indicators: $PLANTED_LINE; random names and"
    echo "fingerprints never occur in the capture, planted ones are taken from it (generator: $GEN_SECS s)."
    echo "Each contender ran $RUNS times, page cache warm; median wall time, largest max RSS (\`/usr/bin/time -v\`)."
    echo
    echo "| contender | wall s: median (min–max) | CPU | packets/s | packets/s excl. start-up | max RSS MiB | alerts | flows alerted (expected $EXP_ALL) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "| Suricata, 5 dataset rules, app-layer on | $(spread suricata) | $(median_cpu suricata) | $(human_pps "$s_pps") | $(human_pps "$s_proc_pps") | $(mib "$s_rss") | $s_alerts | $(check "$s_all" "$EXP_ALL") |"
    echo "| Suricata, no rules (baseline) | $(spread suricata-no-rules) | $(median_cpu suricata-no-rules) | $(human_pps "$sn_pps") | – | $(mib "$sn_rss") | – | – |"
    echo "| kordon-agent, 1 worker | $(spread kordon) | $(median_cpu kordon) | $(human_pps "$k_pps") | $(human_pps "$k_proc_pps") | $(mib "$k_rss") | $k_alerts | $(check "$k_all" "$EXP_ALL") |"
    echo "| kordon-agent, no indicators (baseline) | $(spread kordon-no-indicators) | $(median_cpu kordon-no-indicators) | $(human_pps "$kn_pps") | – | $(mib "$kn_rss") | – | – |"
    echo
    echo "Distinct flows alerted per location (✓ = equals the generator's expectation):"
    echo
    echo "| location | expected | Suricata | kordon |"
    echo "| --- | ---: | ---: | ---: |"
    echo "| dns.query | $EXP_DNS | $(check "$s_dns" "$EXP_DNS") | $(check "$k_dns" "$EXP_DNS") |"
    echo "| tls.sni | $EXP_SNI | $(check "$s_sni" "$EXP_SNI") | $(check "$k_sni" "$EXP_SNI") |"
    echo "| http.host | $EXP_HTTP | $(check "$s_http" "$EXP_HTTP") | $(check "$k_http" "$EXP_HTTP") |"
    echo "| ja3 (kordon tls.ja3) | $EXP_JA3 | $(check "$s_ja3" "$EXP_JA3") | $(check "$k_ja3" "$EXP_JA3") |"
    echo "| ja4 (kordon tls.ja4) | $EXP_JA4 | $(check "$s_ja4" "$EXP_JA4") | $(check "$k_ja4" "$EXP_JA4") |"
    echo
    echo "kordon alerts by location: ${k_locs:-none}; packets counted (stats JSON): $k_packets."
    echo
    echo "| ratio | value | bar (DESIGN.md) |"
    echo "| --- | ---: | --- |"
    echo "| kordon / Suricata, packets/s | $ratio | ≥ 3: $(verdict "$ratio >= 3") |"
    echo "| kordon / Suricata, packets/s excl. start-up | $ratio_proc | |"
    echo "| kordon bytes per domain, 1-packet runs: (RSS domains only − RSS none) / $DOMAINS | $k_bpd | < 200: $(verdict "$k_bpd < 200") |"
    echo "| kordon bytes per indicator, full runs: (RSS with − RSS without) / $((DOMAINS + JA3 + JA4)) | $k_bpi | |"
    echo "| Suricata bytes per indicator: (RSS with − RSS no rules) / $((DOMAINS + JA3 + JA4)) | $s_bpi | |"
    echo "| start-up with the indicators (1-packet capture), s: Suricata / kordon | $ss_wall / $ks_wall | |"
    echo "| max RSS on the 1-packet capture, MiB: Suricata / kordon | $(mib "$ss_rss") / $(mib "$(max_rss kordon-startup)") | |"
    echo
    echo "Notes:"
    echo
    echo "- packets/s = packets ÷ wall seconds of the whole process (start-up, i.e. loading the $((DOMAINS + JA3 + JA4)) indicators,"
    echo "  included); \"excl. start-up\" subtracts the median wall time of the same command on a 1-packet capture."
    echo "- Suricata: \`--runmode single -k none\`, EVE alerts only, default app-layer parsers with"
    echo "  \`ja3-fingerprints: yes\` and \`ja4-fingerprints: yes\` (7.0.10 is built with JA4: \`ja4.hash\` works);"
    echo "  datasets with \`hashsize\` the next power of two ≥ 2 × entries. The three domain rules share one dataset."
    echo "- JA3 on Suricata uses a \`type string\` dataset (base64 of the 32 hex digits): \`ja3.hash\` yields the hex"
    echo "  text, and a \`type md5\` dataset only matches 16-byte buffers, so \`ja3.hash; dataset:isset,…,type md5\`"
    echo "  never fires (measured: 0 flows with the same hashes Suricata logs as tls.ja3.hash)."
    echo "- Domains are exact names (no subdomain match) on both sides. JA3/JA4 of the capture were computed by the"
    echo "  generator with the agent's own library (\`kordon_agent::applayer::tls::{ja3,ja4}\`)."
    echo "- Alerts are not comparable one to one (Suricata alerts per transaction, kordon once per"
    echo "  (indicator, flow, location)); distinct flows per location are."
    echo
    echo "Commands (from the repository root; \`bench-out/\` is git-ignored):"
    echo
    echo '```sh'
    echo "scripts/bench-applayer.sh$([ $QUICK -eq 1 ] && echo " --quick") --runs $RUNS"
    echo "# which generates:"
    echo "target/release/kordon-sample capture --out bench-out/applayer/capture.pcap --packets $PACKETS --flows $FLOWS --seed $SEED"
    echo "${GEN_CMD//"$ROOT"\//}"
    echo "# then runs each of these $RUNS time(s) under /usr/bin/time -v:"
    for name in suricata suricata-startup suricata-no-rules kordon kordon-startup kordon-startup-domains \
        kordon-startup-none kordon-no-indicators; do
        sed "s#$ROOT/##g" "$TIMES/$name.cmd"
    done
    echo '```'
    echo
    echo "Suricata rules (\`bench-out/applayer/suricata/app.rules\`; configuration \`scripts/bench/suricata.yaml.in\` with"
    echo "\`scripts/bench/app-layer-fingerprints.yaml.in\`, iprep lines removed):"
    echo
    echo '```'
    sed "s#$ROOT/##g" "$SURI/app.rules"
    echo '```'
} > "$RESULTS"
cat "$RESULTS"

if [ $WRITE_MD -eq 1 ]; then
    MD="$ROOT/BENCHMARKS.md"
    BEGIN="<!-- BEGIN offline-applayer -->"
    END="<!-- END offline-applayer -->"
    if ! grep -qF "$BEGIN" "$MD"; then printf '\n%s\n%s\n' "$BEGIN" "$END" >> "$MD"; fi
    awk -v b="$BEGIN" -v e="$END" -v f="$RESULTS" '
        $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$MD" > "$MD.tmp"
    mv "$MD.tmp" "$MD"
    echo; echo "==> BENCHMARKS.md updated (section between the offline-applayer markers)"
fi
