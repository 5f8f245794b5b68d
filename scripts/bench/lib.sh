# Shared by the offline benchmark scripts (sourced, not run): option parsing, step output, and
# the statistics over the timing files in $TIMES (NAME.N.wall / NAME.N.time from `time -v`).
# Callers set TIMES and PACKETS before using the statistics.

# Parses --quick, --runs N, --skip-install, --no-md into QUICK, RUNS, INSTALL, WRITE_MD;
# `--help` prints lines 2–16 of the calling script ($0).
parse_bench_args() {
    QUICK=0
    RUNS=3
    INSTALL=1
    WRITE_MD=1
    while [ $# -gt 0 ]; do
        case "$1" in
            --quick) QUICK=1 ;;
            --runs) RUNS="$2"; shift ;;
            --runs=*) RUNS="${1#--runs=}" ;;
            --skip-install) INSTALL=0 ;;
            --no-md) WRITE_MD=0 ;;
            -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
            *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
        esac
        shift
    done
    case "$RUNS" in ''|*[!0-9]*|0) echo "--runs needs a positive integer" >&2; exit 1 ;; esac
}

step() { echo; echo "==> [$1/6] $2"; }
info() { echo "    $*"; }

rss_of() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
median_wall() { # NAME
    cat "$TIMES/$1".*.wall | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
spread() { # NAME -> "median (min–max)"
    cat "$TIMES/$1".*.wall | sort -n | awk '{ v[NR] = $1 } END { printf "%s (%s–%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
median_cpu() { # NAME -> median "Percent of CPU this job got" (user + system over wall)
    local f
    for f in "$TIMES/$1".*.time; do awk -F': ' '/Percent of CPU/ { sub(/%/, "", $2); print $2 }' "$f"; done \
        | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] "%" }'
}
max_rss() { # NAME -> KiB
    local f
    for f in "$TIMES/$1".*.time; do rss_of "$f"; done | sort -n | tail -n 1
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }
verdict() { awk "BEGIN { print ($1) ? \"met\" : \"not met\" }"; }
pps() { calc "%.0f" "$PACKETS / $1"; }
human_pps() { calc "%.2f M" "$1 / 1000000"; }
mib() { calc "%.0f" "$1 / 1024"; }
