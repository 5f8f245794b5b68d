#!/usr/bin/env bash
# Offline IPv4/CIDR matching, side by side, one run:
#   bare libpcap read loop  vs  Suricata 7 (datasets + iprep, one worker)  vs  kordon-agent (one worker)
# on the same generated capture and the same indicators. Writes bench-out/results.md and, for a
# full run, rewrites the "offline IPv4/CIDR matching" section of BENCHMARKS.md.
#
# Usage: scripts/bench-offline.sh [--quick] [--runs N] [--skip-install] [--no-md]
#   --quick         100k packets, 100k indicators (80k IPv4 + 20k CIDR); never touches BENCHMARKS.md
#   --runs N        runs per contender (default 3; the median run is reported)
#   --skip-install  do not check/install packages (libpcap-dev, Suricata 7 from bookworm-backports)
#   --no-md         do not rewrite BENCHMARKS.md (results still go to bench-out/results.md)
#
# Exit status: 0 when every contender ran; 2 when kordon-agent could not be run (the other figures
# are still measured and written); 1 on any other error.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench-out"
BENCH_DIR="$ROOT/scripts/bench"

# shellcheck source=scripts/bench/lib.sh
. "$BENCH_DIR/lib.sh"
parse_bench_args "$@"

SEED=1
HIT_RATE=0.02
if [ $QUICK -eq 1 ]; then
    PACKETS=100000; FLOWS=4000; IPV4=80000; CIDR=20000; WRITE_MD=0
else
    PACKETS=1000000; FLOWS=40000; IPV4=1000000; CIDR=200000
fi
INDICATORS=$((IPV4 + CIDR))


# ---------------------------------------------------------------------------------------------
step 1 "dependencies (libpcap-dev, Suricata 7 from bookworm-backports, time, jq)"
if [ $INSTALL -eq 1 ]; then
    "$BENCH_DIR/install-deps.sh"
else
    info "skipped (--skip-install)"
fi
for tool in suricata jq cargo awk; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "missing: /usr/bin/time (apt-get install time)" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
step 2 "build (release): cargo build --release -p kordon-agent --bins --examples"
KORDON_BUILD_OK=1
if ! cargo build --release -p kordon-agent --bins --examples; then
    KORDON_BUILD_OK=0
    echo "!!  the full build failed; building only the generator and the bare loop" >&2
    if ! cargo build --release -p kordon-agent --bin kordon-sample --example pcap_loop; then
        echo "!!  the kordon-agent package does not compile (its library is needed by every target): nothing measured" >&2
        exit 1
    fi
fi
SAMPLE="$ROOT/target/release/kordon-sample"
LOOP="$ROOT/target/release/examples/pcap_loop"
KORDON="$ROOT/target/release/kordon-agent"

# ---------------------------------------------------------------------------------------------
step 3 "data: $PACKETS packets, $IPV4 IPv4 + $CIDR CIDR indicators (seed $SEED, hit rate $HIT_RATE)"
mkdir -p "$OUT"
CAP="$OUT/capture.pcap"
ONE="$OUT/one-packet.pcap"
IND="$OUT/indicators.txt"
SURI_DATA="$OUT/suricata-data"
# The stamp covers the parameters and the generator's source, so a changed generator regenerates.
GEN_HASH=$(cat "$ROOT"/agent/src/bin/kordon-sample/*.rs | sha256sum | cut -c1-16)
STAMP="packets=$PACKETS flows=$FLOWS ipv4=$IPV4 cidr=$CIDR seed=$SEED hit_rate=$HIT_RATE generator=$GEN_HASH"
if [ -f "$OUT/data.stamp" ] && [ "$(cat "$OUT/data.stamp")" = "$STAMP" ] \
    && [ -f "$CAP" ] && [ -f "$ONE" ] && [ -f "$IND" ] && [ -f "$SURI_DATA/ipv4.lst" ]; then
    info "reusing bench-out/ ($STAMP)"
else
    rm -f "$OUT/data.stamp"
    info "kordon-sample capture --out $CAP --packets $PACKETS --flows $FLOWS --seed $SEED"
    "$SAMPLE" capture --out "$CAP" --packets "$PACKETS" --flows "$FLOWS" --seed "$SEED"
    "$SAMPLE" capture --out "$ONE" --packets 1 --flows 1 --seed "$SEED" >/dev/null
    info "kordon-sample indicators --out $IND --ipv4 $IPV4 --cidr $CIDR --seed $SEED --hit-from $CAP --hit-rate $HIT_RATE --suricata-dir $SURI_DATA"
    "$SAMPLE" indicators --out "$IND" --ipv4 "$IPV4" --cidr "$CIDR" --seed "$SEED" \
        --hit-from "$CAP" --hit-rate "$HIT_RATE" --suricata-dir "$SURI_DATA"
    echo "$STAMP" > "$OUT/data.stamp"
fi
EXPECTED_FLOWS=$(sed -n 's/^# expected-matching-flows: \([0-9]*\).*/\1/p' "$IND")
CAPTURE_FLOWS=$(sed -n 's/^# capture-ipv4-flows: \([0-9]*\).*/\1/p' "$IND")
CAP_BYTES=$(stat -c %s "$CAP")
info "capture: $(( CAP_BYTES / 1000000 )) MB; expected matching IPv4 flows: $EXPECTED_FLOWS of $CAPTURE_FLOWS"

# Suricata configuration: two variants of one template, and the rules.
SURI="$OUT/suricata"
mkdir -p "$SURI"
HASHSIZE=1
while [ $HASHSIZE -lt $((2 * IPV4)) ]; do HASHSIZE=$((HASHSIZE * 2)); done
make_suricata_yaml() { # variant app-layer-file
    local dir="$SURI/$1"
    mkdir -p "$dir"
    sed -e "s#@LOG_DIR@#$dir#" -e "s#@RULE_DIR@#$SURI#" -e "s#@IPREP_DIR@#$SURI_DATA/iprep#" \
        "$BENCH_DIR/suricata.yaml.in" \
        | awk -v f="$2" '/^@APP_LAYER@$/ { while ((getline l < f) > 0) print l; next } { print }' \
        > "$dir/suricata.yaml"
}
make_suricata_yaml ip-only "$BENCH_DIR/app-layer-off.yaml.in"
make_suricata_yaml app-layer "$BENCH_DIR/app-layer-default.yaml.in"
make_suricata_yaml no-rules "$BENCH_DIR/app-layer-off.yaml.in"
sed -i -e "s#^  - kordon.rules#  - empty.rules#" -e '/^reputation-files:/,+1d' \
    -e '/^reputation-categories-file:/d' -e '/^default-reputation-path:/d' "$SURI/no-rules/suricata.yaml"
: > "$SURI/empty.rules"
cat > "$SURI/kordon.rules" <<EOF
alert ip any any -> any any (msg:"kordon bench dst"; ip.dst; dataset:isset,kordon-ipv4,type ipv4,load $SURI_DATA/ipv4.lst,hashsize $HASHSIZE; sid:1; rev:1;)
alert ip any any -> any any (msg:"kordon bench src"; ip.src; dataset:isset,kordon-ipv4,type ipv4,load $SURI_DATA/ipv4.lst,hashsize $HASHSIZE; sid:2; rev:1;)
alert ip any any -> any any (msg:"kordon bench cidr"; iprep:any,kordon,>,0; sid:3; rev:1;)
EOF

# ---------------------------------------------------------------------------------------------
step 4 "runs: $RUNS per contender, page cache warm, /usr/bin/time -v"
TIMES="$OUT/times"
rm -rf "$TIMES"
mkdir -p "$TIMES"
cat "$CAP" "$ONE" "$IND" "$SURI_DATA/ipv4.lst" "$SURI_DATA/iprep/cidr.list" > /dev/null
# Other work on the machine makes figures noisy. The load average still remembers the build above,
# so sample the number of running threads (this shell counts as one) for 2 s instead.
BUSY=$(for _ in $(seq 1 20); do awk '/^procs_running/ { print $2 - 1 }' /proc/stat; sleep 0.1; done \
    | awk '{ s += $1 } END { printf "%.1f", s / NR }')
info "other running threads, averaged over 2 s: $BUSY (on $(nproc) cores)"
if awk -v b="$BUSY" 'BEGIN { exit !(b >= 0.5) }'; then
    echo "!!  the machine is busy ($BUSY other running threads on average): figures will be noisy" >&2
fi

# run NAME CMD...: runs CMD $RUNS times; keeps time -v output and the command's output per run.
run() {
    local name="$1"; shift
    local i
    for i in $(seq 1 "$RUNS"); do
        if [ -n "${PRE_RUN:-}" ]; then eval "$PRE_RUN"; fi
        local t0 t1
        t0=$(date +%s%N)
        if ! /usr/bin/time -v -o "$TIMES/$name.$i.time" "$@" > "$TIMES/$name.$i.out" 2>&1; then
            echo "!!  $name run $i failed: $*" >&2
            tail -n 20 "$TIMES/$name.$i.out" >&2
            return 1
        fi
        t1=$(date +%s%N)
        # time -v reports wall time in 10 ms steps; measure it to the microsecond around it.
        awk -v ns="$((t1 - t0))" 'BEGIN { printf "%.4f\n", ns / 1e9 }' > "$TIMES/$name.$i.wall"
        info "$name run $i: $(cat "$TIMES/$name.$i.wall") s wall, $(rss_of "$TIMES/$name.$i.time") KiB max RSS"
    done
    echo "$*" > "$TIMES/$name.cmd"
}
ran() { [ -f "$TIMES/$1.cmd" ]; }

info "bare libpcap loop: $LOOP $CAP"
run bare "$LOOP" "$CAP"

for variant in ip-only app-layer; do
    info "Suricata ($variant): suricata -c $SURI/$variant/suricata.yaml -r $CAP -k none --runmode single -l $SURI/$variant"
    PRE_RUN="rm -f '$SURI/$variant/eve.json'" \
        run "suricata-$variant" suricata -c "$SURI/$variant/suricata.yaml" -r "$CAP" -k none --runmode single -l "$SURI/$variant"
    cp "$SURI/$variant/eve.json" "$OUT/suricata-$variant-eve.json"
done
info "Suricata start-up (rules and indicators loaded, 1-packet capture)"
PRE_RUN="rm -f '$SURI/ip-only/eve.json'" \
    run suricata-startup suricata -c "$SURI/ip-only/suricata.yaml" -r "$ONE" -k none --runmode single -l "$SURI/ip-only"
info "Suricata without rules or iprep (RSS baseline)"
PRE_RUN="rm -f '$SURI/no-rules/eve.json'" \
    run suricata-no-rules suricata -c "$SURI/no-rules/suricata.yaml" -r "$CAP" -k none --runmode single -l "$SURI/no-rules"

KORDON_OK=1
KORDON_WHY=""
if [ $KORDON_BUILD_OK -eq 0 ]; then
    KORDON_OK=0; KORDON_WHY="cargo build --release -p kordon-agent --bins failed (any existing binary may be stale)"
elif [ ! -x "$KORDON" ]; then
    KORDON_OK=0; KORDON_WHY="target/release/kordon-agent was not built"
elif ! "$KORDON" --help 2>/dev/null | grep -q -- '--stats-json'; then
    KORDON_OK=0; KORDON_WHY="kordon-agent does not accept --read/--indicators/--eve/--workers/--stats-json yet"
fi
if [ $KORDON_OK -eq 1 ]; then
    KEVE="$OUT/kordon-eve.json"
    KSTATS="$OUT/kordon-stats.json"
    info "kordon: $KORDON --read $CAP --indicators $IND --eve $KEVE --workers 1 --stats-json $KSTATS"
    if ! PRE_RUN="rm -f '$KEVE' '$KSTATS'" \
        run kordon "$KORDON" --read "$CAP" --indicators "$IND" --eve "$KEVE" --workers 1 --stats-json "$KSTATS"; then
        KORDON_OK=0; KORDON_WHY="kordon-agent failed on the capture (see bench-out/times/kordon.*.out)"
    fi
fi
if [ $KORDON_OK -eq 1 ]; then
    info "kordon start-up (indicators loaded, 1-packet capture)"
    PRE_RUN="rm -f '$OUT/kordon-startup-eve.json'" \
        run kordon-startup "$KORDON" --read "$ONE" --indicators "$IND" --eve "$OUT/kordon-startup-eve.json" --workers 1 \
        || { KORDON_OK=0; KORDON_WHY="kordon-agent failed on the 1-packet capture"; }
fi
if [ $KORDON_OK -eq 1 ]; then
    # Memory per indicator type, without the flow table: 1-packet capture, none / IPv4 only / all.
    grep -v '/' "$IND" > "$OUT/indicators-ipv4-only.txt"
    info "kordon start-up with the IPv4 indicators only, and with none (memory per type)"
    { PRE_RUN="rm -f '$OUT/kordon-startup-eve.json'" \
        run kordon-startup-ipv4 "$KORDON" --read "$ONE" --indicators "$OUT/indicators-ipv4-only.txt" \
        --eve "$OUT/kordon-startup-eve.json" --workers 1 \
        && PRE_RUN="rm -f '$OUT/kordon-startup-eve.json'" \
        run kordon-startup-none "$KORDON" --read "$ONE" --eve "$OUT/kordon-startup-eve.json" --workers 1; } \
        || { KORDON_OK=0; KORDON_WHY="kordon-agent failed on the 1-packet capture"; }
fi
if [ $KORDON_OK -eq 1 ]; then
    info "kordon without indicators (RSS baseline)"
    PRE_RUN="rm -f '$OUT/kordon-noind-eve.json' '$OUT/kordon-noind-stats.json'" \
        run kordon-no-indicators "$KORDON" --read "$CAP" --eve "$OUT/kordon-noind-eve.json" --workers 1 \
        --stats-json "$OUT/kordon-noind-stats.json" \
        || { KORDON_OK=0; KORDON_WHY="kordon-agent failed without indicators"; }
fi
if [ $KORDON_OK -eq 0 ]; then
    echo "!!  kordon-agent: NOT RUN: $KORDON_WHY" >&2
fi

# ---------------------------------------------------------------------------------------------
step 5 "figures"
bare_wall=$(median_wall bare); bare_pps=$(pps "$bare_wall")
si_wall=$(median_wall suricata-ip-only); si_pps=$(pps "$si_wall")
sa_wall=$(median_wall suricata-app-layer); sa_pps=$(pps "$sa_wall")
ss_wall=$(median_wall suricata-startup)
sn_wall=$(median_wall suricata-no-rules); sn_pps=$(pps "$sn_wall")
si_proc_pps=$(calc "%.0f" "$PACKETS / ($si_wall - $ss_wall)")
sa_proc_pps=$(calc "%.0f" "$PACKETS / ($sa_wall - $ss_wall)")
suricata_alerts() { jq -c 'select(.event_type == "alert")' "$1" | wc -l; }
suricata_flows() { jq -r 'select(.event_type == "alert") | .flow_id' "$1" | sort -u | wc -l; }
si_alerts=$(suricata_alerts "$OUT/suricata-ip-only-eve.json"); si_flows=$(suricata_flows "$OUT/suricata-ip-only-eve.json")
sa_alerts=$(suricata_alerts "$OUT/suricata-app-layer-eve.json"); sa_flows=$(suricata_flows "$OUT/suricata-app-layer-eve.json")
si_rss=$(max_rss suricata-ip-only); sa_rss=$(max_rss suricata-app-layer); sn_rss=$(max_rss suricata-no-rules)
bare_rss=$(max_rss bare)
s_bpi=$(calc "%.0f" "($si_rss - $sn_rss) * 1024 / $INDICATORS")

if [ $KORDON_OK -eq 1 ]; then
    k_wall=$(median_wall kordon); k_pps=$(pps "$k_wall")
    ks_wall=$(median_wall kordon-startup)
    k_proc_pps=$(calc "%.0f" "$PACKETS / ($k_wall - $ks_wall)")
    kn_wall=$(median_wall kordon-no-indicators); kn_pps=$(pps "$kn_wall")
    k_rss=$(max_rss kordon); kn_rss=$(max_rss kordon-no-indicators)
    k_bpi=$(calc "%.0f" "($k_rss - $kn_rss) * 1024 / $INDICATORS")
    k_bp_ipv4=$(calc "%.0f" "($(max_rss kordon-startup-ipv4) - $(max_rss kordon-startup-none)) * 1024 / $IPV4")
    k_bp_cidr=$(calc "%.0f" "($(max_rss kordon-startup) - $(max_rss kordon-startup-ipv4)) * 1024 / $CIDR")
    k_packets=$(jq -r '.packets // empty' "$KSTATS")
    k_alerts=$(jq -r '.alerts // empty' "$KSTATS")
    k_eve_alerts=$(jq -c 'select(.event_type == "alert")' "$KEVE" | wc -l)
    # Comparable with Suricata's IP rules: alerts at the connection endpoints (conn.src / conn.dst).
    k_flows=$(jq -r 'select(.event_type == "alert" and ((.kordon.location // "conn") | startswith("conn")))
        | (.flow_id // .community_id)' "$KEVE" | sort -u | wc -l)
    k_other=$(jq -r 'select(.event_type == "alert" and ((.kordon.location // "conn") | startswith("conn") | not))
        | .kordon.location' "$KEVE" | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
    ratio_ks=$(calc "%.2f" "$k_pps / $si_pps")
    ratio_ks_app=$(calc "%.2f" "$k_pps / $sa_pps")
    ratio_bk=$(calc "%.2f" "$bare_pps / $k_pps")
    ratio_ks_proc=$(calc "%.2f" "$k_proc_pps / $si_proc_pps")
    ratio_bk_proc=$(calc "%.2f" "$bare_pps / $k_proc_pps")
fi

# ---------------------------------------------------------------------------------------------
step 6 "report"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
NPROC=$(nproc)
SURI_V=$(suricata -V 2>/dev/null | sed 's/^This is //')
RUSTC_V=$(rustc --version)
KERNEL=$(uname -r)
DATE=$(date -u +%Y-%m-%d)
MODE=$([ $QUICK -eq 1 ] && echo "quick (smoke run)" || echo "full")
RESULTS="$OUT/results.md"
kcell() { if [ $KORDON_OK -eq 1 ]; then echo "$1"; else echo "not run"; fi; }
{
    echo "## Offline IPv4/CIDR matching"
    echo
    echo "<!-- Generated by scripts/bench-offline.sh ($MODE) on $DATE; rerun it rather than editing by hand. -->"
    echo
    echo "Date: $DATE. Machine: $NPROC cores, $CPU, Linux $KERNEL. $SURI_V; $RUSTC_V."
    echo "Other running threads just before the runs (mean of 20 samples of procs_running): $BUSY."
    echo
    echo "Capture: $PACKETS packets, $(( CAP_BYTES / 1000000 )) MB (\`kordon-sample capture --packets $PACKETS --flows $FLOWS --seed $SEED\`:"
    echo "IPv4 and ~10% IPv6, TCP/UDP/ICMP, ~13% of flows VLAN-tagged, $CAPTURE_FLOWS IPv4 flows)."
    echo "Indicators: $IPV4 IPv4 + $CIDR CIDR (/8–/30, mostly /16–/24) (\`kordon-sample indicators --ipv4 $IPV4 --cidr $CIDR --seed $SEED --hit-from capture.pcap --hit-rate $HIT_RATE\`);"
    echo "$EXPECTED_FLOWS of the capture's IPv4 flows have an endpoint in the set (computed by the generator)."
    echo "Each contender ran $RUNS times, page cache warm; the median run's wall time (measured around the process,"
    echo "to the microsecond) is reported, and the largest \`Maximum resident set size\` of \`/usr/bin/time -v\`."
    echo
    echo "| contender | wall s: median (min–max) | CPU | packets/s | packets/s excl. start-up | max RSS MiB | alerts | flows alerted (expected $EXPECTED_FLOWS) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "| bare libpcap loop (\`pcap_loop\`) | $(spread bare) | $(median_cpu bare) | $(human_pps "$bare_pps") | – | $(mib "$bare_rss") | – | – |"
    echo "| Suricata, app-layer off | $(spread suricata-ip-only) | $(median_cpu suricata-ip-only) | $(human_pps "$si_pps") | $(human_pps "$si_proc_pps") | $(mib "$si_rss") | $si_alerts | $si_flows |"
    echo "| Suricata, default app-layer parsers | $(spread suricata-app-layer) | $(median_cpu suricata-app-layer) | $(human_pps "$sa_pps") | $(human_pps "$sa_proc_pps") | $(mib "$sa_rss") | $sa_alerts | $sa_flows |"
    echo "| Suricata, no rules, no iprep (baseline) | $(spread suricata-no-rules) | $(median_cpu suricata-no-rules) | $(human_pps "$sn_pps") | – | $(mib "$sn_rss") | – | – |"
    if [ $KORDON_OK -eq 1 ]; then
        echo "| kordon-agent, 1 worker | $(spread kordon) | $(median_cpu kordon) | $(human_pps "$k_pps") | $(human_pps "$k_proc_pps") | $(mib "$k_rss") | $k_alerts (EVE: $k_eve_alerts) | $k_flows |"
        echo "| kordon-agent, no indicators (baseline) | $(spread kordon-no-indicators) | $(median_cpu kordon-no-indicators) | $(human_pps "$kn_pps") | – | $(mib "$kn_rss") | – | – |"
    else
        echo "| kordon-agent, 1 worker | not run: $KORDON_WHY | | | | | | |"
    fi
    echo
    echo "| ratio | value | bar (DESIGN.md) |"
    echo "| --- | ---: | --- |"
    echo "| kordon / Suricata (app-layer off), packets/s | $(kcell "${ratio_ks:-}") | ≥ 3: $(kcell "$(verdict "${ratio_ks:-0} >= 3")") |"
    echo "| kordon / Suricata (default app-layer), packets/s | $(kcell "${ratio_ks_app:-}") | |"
    echo "| bare loop / kordon, packets/s | $(kcell "${ratio_bk:-}") | ≤ 2: $(kcell "$(verdict "${ratio_bk:-99} <= 2")") |"
    echo "| kordon / Suricata (app-layer off), packets/s excl. start-up | $(kcell "${ratio_ks_proc:-}") | |"
    echo "| bare loop / kordon, packets/s excl. start-up | $(kcell "${ratio_bk_proc:-}") | |"
    echo "| kordon bytes per indicator: (RSS with − RSS without) / $INDICATORS | $(kcell "${k_bpi:-}") | < 100 per IPv4: $(kcell "$(verdict "${k_bpi:-999} < 100")") |"
    echo "| kordon bytes per IPv4 indicator, 1-packet runs: (RSS IPv4 only − RSS none) / $IPV4 | $(kcell "${k_bp_ipv4:-}") | < 100: $(kcell "$(verdict "${k_bp_ipv4:-999} < 100")") |"
    echo "| kordon bytes per CIDR indicator, 1-packet runs: (RSS all − RSS IPv4 only) / $CIDR | $(kcell "${k_bp_cidr:-}") | |"
    echo "| Suricata bytes per indicator: (RSS with − RSS without rules) / $INDICATORS | $s_bpi | |"
    echo "| Suricata start-up with the indicators (1-packet capture), s | $ss_wall | |"
    if [ $KORDON_OK -eq 1 ]; then
        echo "| kordon start-up with the indicators (1-packet capture), s | $ks_wall | |"
        echo "| kordon packets counted (stats JSON) | $k_packets | $PACKETS |"
    fi
    echo
    echo "Notes:"
    echo
    echo "- CPU = (user + system) ÷ wall, from \`time -v\`: above 100% means more than one busy thread (kordon: a"
    echo "  capture thread feeding the worker; Suricata single runmode: one packet thread plus flow-manager threads)."
    echo "- packets/s = packets ÷ wall seconds of the whole process, start-up (loading the indicators) included;"
    echo "  \"excl. start-up\" subtracts the median wall time of the same command on a 1-packet capture."
    echo "- Alerts are not comparable one to one: Suricata alerts per packet for the dataset rules (sid 1 \`ip.dst\`,"
    echo "  sid 2 \`ip.src\`) and once per flow direction for the IP-only iprep rule (sid 3), while kordon"
    echo "  deduplicates per (indicator, flow, location). The comparable figure is the number of distinct flows"
    echo "  alerted (\`flow_id\` in each EVE file; for kordon, alerts at conn.src/conn.dst), which should equal"
    echo "  the generator's expectation."
    if [ $KORDON_OK -eq 1 ] && [ -n "$k_other" ]; then
        echo "- kordon also alerted at other locations, which Suricata's IP rules do not inspect: $k_other"
        echo "  (e.g. a DNS response whose answer is a listed address); they are in its alert count."
    fi
    echo "- The per-type rows use 1-packet runs (no flow table) and peak RSS, so they include what loading and"
    echo "  compiling the set needs at its peak, not only the final matcher."
    echo "- Bytes per indicator mixes both types (IPv4 addresses are $(( IPV4 * 100 / INDICATORS ))% of the entries); RSS is"
    echo "  \`Maximum resident set size\` of \`/usr/bin/time -v\`, so it includes the flow table and buffers of the run."
    echo "- Suricata is tuned for this task: \`--runmode single\`, \`-k none\`, EVE alerts only (no other logger, no stats),"
    echo "  detect profile low, datasets with \`hashsize $HASHSIZE\` (next power of two ≥ 2 × $IPV4). \"app-layer off\""
    echo "  disables every app-layer parser, which only helps it here (the rules look at IP addresses only);"
    echo "  \"default app-layer\" keeps the common parsers on, as a deployed sensor would."
    echo "- \`iprep:any,kordon,>,0\` matches when the source or the destination is in a listed CIDR, i.e. the same"
    echo "  semantics as kordon's conn.src/conn.dst CIDR match."
    echo "- The DESIGN.md throughput bar is stated with 1M domains and 100k JA3/JA4 loaded as well; this section"
    echo "  loads IPv4 and CIDR indicators only, so its verdicts are for that part of the bar."
    echo
    echo "Commands (from the repository root; \`bench-out/\` is git-ignored):"
    echo
    echo '```sh'
    echo "scripts/bench-offline.sh$([ $QUICK -eq 1 ] && echo " --quick") --runs $RUNS"
    echo "# which generates (unless bench-out/data.stamp shows the same parameters and generator):"
    echo "target/release/kordon-sample capture --out bench-out/capture.pcap --packets $PACKETS --flows $FLOWS --seed $SEED"
    echo "target/release/kordon-sample capture --out bench-out/one-packet.pcap --packets 1 --flows 1 --seed $SEED"
    echo "target/release/kordon-sample indicators --out bench-out/indicators.txt --ipv4 $IPV4 --cidr $CIDR --seed $SEED \\"
    echo "    --hit-from bench-out/capture.pcap --hit-rate $HIT_RATE --suricata-dir bench-out/suricata-data"
    echo "# then runs each of these $RUNS time(s) under /usr/bin/time -v:"
    for name in bare suricata-ip-only suricata-app-layer suricata-startup suricata-no-rules kordon kordon-startup \
        kordon-startup-ipv4 kordon-startup-none kordon-no-indicators; do
        if ran "$name"; then sed "s#$ROOT/##g" "$TIMES/$name.cmd"; fi
    done
    echo '```'
    echo
    echo "Suricata rules (\`bench-out/suricata/kordon.rules\`, where the dataset path is absolute; configuration from"
    echo "\`scripts/bench/suricata.yaml.in\` with the app-layer sections \`scripts/bench/app-layer-{off,default}.yaml.in\`):"
    echo
    echo '```'
    sed "s#$ROOT/##g" "$SURI/kordon.rules"
    echo '```'
} > "$RESULTS"
cat "$RESULTS"

if [ $WRITE_MD -eq 1 ]; then
    MD="$ROOT/BENCHMARKS.md"
    BEGIN="<!-- BEGIN offline-ipv4-cidr -->"
    END="<!-- END offline-ipv4-cidr -->"
    if [ ! -f "$MD" ]; then
        # shellcheck disable=SC2016 # the backticks are Markdown
        printf '# Benchmarks\n\nFigures measured on the project machine, contenders side by side in one run. Each section\nis written by the script it names, between its markers: rerun the script rather than editing.\n\n%s\n%s\n' "$BEGIN" "$END" > "$MD"
    elif ! grep -qF "$BEGIN" "$MD"; then
        printf '\n%s\n%s\n' "$BEGIN" "$END" >> "$MD"
    fi
    awk -v b="$BEGIN" -v e="$END" -v f="$RESULTS" '
        $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$MD" > "$MD.tmp"
    mv "$MD.tmp" "$MD"
    echo
    echo "==> BENCHMARKS.md updated (section between the offline-ipv4-cidr markers)"
else
    echo
    echo "==> BENCHMARKS.md left unchanged ($([ $QUICK -eq 1 ] && echo "--quick" || echo "--no-md")); results in bench-out/results.md"
fi

if [ $KORDON_OK -eq 0 ]; then
    echo "!!  kordon-agent was not measured: $KORDON_WHY" >&2
    exit 2
fi
