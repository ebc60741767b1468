#!/usr/bin/env bash
# Forwarding during recovery: mipdp's home agent restarted on a backup of N Mobile IPv6
# bindings forwards IPv6 traffic to all of them (IPv6-in-IPv6 to the care-of addresses)
# while its control thread verifies them with Binding Refresh Requests at R a second
# ("recovery"), against the same with [recovery] rate = 1 ("quiet": the same tables, the
# verification hardly running). Two net_null ports replay template frames
# (rx_template_pcap, perf/README.md); one worker core, the control thread on the main core.
#
# Rounds of both contenders (alternating which goes first), the median of each; the
# requests per second the recovery actually sent are read from mipdp's own progress log.
# Prints a table and writes it into perf/RESULTS.md (its own section; others are kept).
#
# Usage: perf/recovery.sh [--quick] [--bindings N] [--rate R] [--duration S] [--repeats K]
#        perf/recovery.sh --help
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROG=perf/recovery.sh
# shellcheck source=perf/lib.sh
source perf/lib.sh

usage() {
    cat <<EOF2
Usage: $PROG [options]

  --quick          3 s per contender, 1 round (defaults otherwise: 10 s, 3 rounds)
  --duration S     measured seconds per contender and round (default 10)
  --repeats K      rounds; the median is reported (default 3)
  --bindings N     restored bindings (default 200000; the recovery must outlast the run:
                   N >= R x (duration + 5))
  --rate R         the recovery contender's Binding Refresh Requests a second (default 10000)
  --frames F       template frames (default 1000000)
  --main-core C    DPDK main lcore / control thread (default 0)
  --worker-core C  the forwarding worker (default 1)
  --no-build       use the existing release binaries
  --no-write       do not write perf/RESULTS.md
  --results FILE   markdown file to update (default perf/RESULTS.md)
  -h, --help       this text

Environment: MIPDP (default target/release/mipdp), RECOVERY_GEN (default
target/release/recovery-gen); \$CARGO_TARGET_DIR is honoured.
EOF2
}

DURATION=""
REPEATS=""
QUICK=0
BINDINGS=200000
RATE=10000
FRAMES=1000000
MAIN_CORE=0
WORKER_CORE=1
BUILD=1
WRITE=1
RESULTS=perf/RESULTS.md
WARMUP=1

while [ "$#" -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --duration) need_value "$@"; DURATION=$2; shift ;;
        --repeats) need_value "$@"; REPEATS=$2; shift ;;
        --bindings) need_value "$@"; BINDINGS=$2; shift ;;
        --rate) need_value "$@"; RATE=$2; shift ;;
        --frames) need_value "$@"; FRAMES=$2; shift ;;
        --main-core) need_value "$@"; MAIN_CORE=$2; shift ;;
        --worker-core) need_value "$@"; WORKER_CORE=$2; shift ;;
        --no-build) BUILD=0 ;;
        --no-write) WRITE=0 ;;
        --results) need_value "$@"; RESULTS=$2; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
if [ "$QUICK" -eq 1 ]; then
    : "${DURATION:=3}" "${REPEATS:=1}"
else
    : "${DURATION:=10}" "${REPEATS:=3}"
fi
for v in DURATION REPEATS BINDINGS RATE FRAMES MAIN_CORE WORKER_CORE; do
    is_uint "${!v}" || die "$v must be a whole number, got '${!v}'"
done
[ "$DURATION" -ge 1 ] && [ "$REPEATS" -ge 1 ] && [ "$RATE" -ge 2 ] ||
    die "--duration and --repeats must be at least 1, --rate at least 2"
[ "$MAIN_CORE" -ne "$WORKER_CORE" ] || die "--main-core and --worker-core must differ"
[ "$BINDINGS" -ge $((RATE * (DURATION + WARMUP + 4))) ] ||
    die "--bindings $BINDINGS is too few: the recovery at $RATE/s would end before the run; need $((RATE * (DURATION + WARMUP + 4)))"

if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
MIPDP=${MIPDP:-${CARGO_TARGET_DIR:-target}/release/mipdp}
RECOVERY_GEN=${RECOVERY_GEN:-${CARGO_TARGET_DIR:-target}/release/recovery-gen}
if [ "$(id -u)" -eq 0 ]; then
    DPDK_RUNTIME_DIR=/var/run/dpdk
else
    DPDK_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}/dpdk
    warn "not running as root: DPDK may refuse to start (this benchmark is meant to run as root)"
fi
if [ "$BUILD" -eq 1 ]; then
    step "cargo build --release -p mipdp-control -p mipdp-perf --bin mipdp --bin recovery-gen"
    cargo build --release -p mipdp-control -p mipdp-perf --bin mipdp --bin recovery-gen ||
        die "building mipdp or recovery-gen failed (see the compiler output above)"
fi
[ -x "$MIPDP" ] || die "$MIPDP does not exist: build it or set MIPDP"
[ -x "$RECOVERY_GEN" ] || die "$RECOVERY_GEN does not exist: build it or set RECOVERY_GEN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/recbench.XXXXXX")
CUR_PID=""
CUR_PREFIX=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$CUR_PID" ]; then
        stop_process "$CUR_PID"
        remove_runtime_dir "$CUR_PREFIX"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "$PROG: interrupted" >&2; exit 130' INT
trap 'echo "$PROG: terminated" >&2; exit 143' TERM

FRAME=78 # 14 Ethernet + 64 IPv6
declare -A RATE_OF=([quiet]=1 [recovery]=$RATE)

# Writes contender $1's configuration, template and a fresh backup (every round restores
# the same N bindings: a run's own verification changes nothing in it, nothing times out).
generate() {
    local who=$1
    "$RECOVERY_GEN" --config "$WORK/$who.toml" --backup "$WORK/$who.redb" \
        --pcap "$WORK/frames.pcap" --frames "$FRAMES" --bindings "$BINDINGS" \
        --rate "${RATE_OF[$who]}" --worker-core "$WORKER_CORE" --control-socket "$WORK/mipdp.sock" ||
        die "recovery-gen failed for $who"
}

# The requests a second the recovery sent while mipdp ran, from its progress lines
# ("recovery total=... requests=N ...", one a second): the growth from the second line
# (the first may fall in start-up) to the last, per line.
requests_per_second() {
    awk '
        /recovery total=/ {
            for (i = 1; i <= NF; i++) if (index($i, "requests=") == 1) r[++k] = substr($i, 10)
        }
        END {
            if (k < 3) { print "n/a"; exit }
            printf "%.0f\n", (r[k] - r[2]) / (k - 2) }' "$1"
}

declare -A MPPS=()
declare -A REQS=()
declare -A CONTROL_CPU=()
declare -A WORKER_CPU=()

# "<control ticks> <worker ticks>" of process $1 so far: the main thread (the control
# loop) and the worker thread, in clock ticks of CPU time (user + system).
thread_ticks() {
    local t control=0 worker=0 ticks
    for t in /proc/"$1"/task/*; do
        ticks=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) || continue
        case "$(cat "$t/comm" 2>/dev/null)" in
            mipdp-worker-*) worker=$((worker + ticks)) ;;
            mipdp) control=$((control + ticks)) ;;
        esac
    done
    echo "$control $worker"
}

run_one() {
    local who=$1 round=$2
    local prefix="recbench-$$-$who-r$round" log="$WORK/$who-r$round.log"
    generate "$who"
    remove_runtime_dir "$prefix"
    "$MIPDP" run --config "$WORK/$who.toml" --stats-interval 1000 -- --no-huge -m 512 --no-pci \
        --file-prefix "$prefix" --vdev "net_null0,size=$FRAME,copy=0" \
        --vdev "net_null1,size=$FRAME,copy=0" -l "$MAIN_CORE" </dev/null >"$log" 2>&1 &
    CUR_PID=$!
    CUR_PREFIX=$prefix
    local need=$((WARMUP + DURATION)) deadline=$((SECONDS + 120 + BINDINGS / 5000 + DURATION))
    local cpu_from="" wall_from=0 got
    while :; do
        got=$(rates_mipdp "$log" | wc -l)
        if [ -z "$cpu_from" ] && [ "$got" -ge "$WARMUP" ]; then
            cpu_from=$(thread_ticks "$CUR_PID")
            wall_from=$(date +%s.%N)
        fi
        [ "$got" -lt "$need" ] || break
        kill -0 "$CUR_PID" 2>/dev/null || { tail -20 "$log" >&2; die "$who exited early (log above)"; }
        [ "$SECONDS" -lt "$deadline" ] || { tail -20 "$log" >&2; die "$who: no $need stats periods in time"; }
        sleep 0.5
    done
    local cpu_to wall_to
    cpu_to=$(thread_ticks "$CUR_PID")
    wall_to=$(date +%s.%N)
    read -r c w < <(awk -v a="$cpu_from" -v b="$cpu_to" -v s="$wall_from" -v e="$wall_to" \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { split(a, x, " "); split(b, y, " "); d = (e - s) * hz
            printf "%.1f %.1f\n", 100 * (y[1] - x[1]) / d, 100 * (y[2] - x[2]) / d }')
    CONTROL_CPU[$who]="${CONTROL_CPU[$who]:-} $c"
    WORKER_CPU[$who]="${WORKER_CPU[$who]:-} $w"
    stop_process "$CUR_PID"
    CUR_PID=""
    remove_runtime_dir "$prefix"
    local mpps
    mpps=$(rates_mipdp "$log" | tail -n +$((WARMUP + 1)) | head -n "$DURATION" |
        awk '{ s += $1 } END { printf "%.3f", s / NR / 1e6 }')
    MPPS[$who]="${MPPS[$who]:-} $mpps"
    REQS[$who]="${REQS[$who]:-} $(requests_per_second "$log")"
    grep -q "recovery: verifying $BINDINGS restored bindings" "$log" ||
        die "$who did not restore $BINDINGS bindings (see $log)"
    echo "    $who round $round: $mpps Mpps, $(echo "${REQS[$who]}" | awk '{ print $NF }') requests/s," \
        "control thread $c % CPU, worker $w % CPU"
}

step "$BINDINGS restored bindings, recovery at $RATE/s vs 1/s, $DURATION s x $REPEATS rounds"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$REPEATS"); do
    if [ $((round % 2)) -eq 1 ]; then order="quiet recovery"; else order="recovery quiet"; fi
    for who in $order; do run_one "$who" "$round"; done
done

# shellcheck disable=SC2086 # word lists
Q=$(median ${MPPS[quiet]})
# shellcheck disable=SC2086
R=$(median ${MPPS[recovery]})
RATIO=$(awk -v a="$R" -v b="$Q" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
REQ_R=$(echo "${REQS[recovery]}" | tr ' ' '\n' | awk '$1 ~ /^[0-9]+$/' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }')

# shellcheck disable=SC2086
CQ=$(median ${CONTROL_CPU[quiet]})
# shellcheck disable=SC2086
CR=$(median ${CONTROL_CPU[recovery]})
# shellcheck disable=SC2086
WQ=$(median ${WORKER_CPU[quiet]})
# shellcheck disable=SC2086
WR=$(median ${WORKER_CPU[recovery]})
# Mpps per second of worker CPU time: what the worker forwards while it runs, less
# dependent on how much of its core a busy machine left it.
PQ=$(awk -v m="$Q" -v w="$WQ" 'BEGIN { printf "%.3f", (w > 0 ? m * 100 / w : 0) }')
PR=$(awk -v m="$R" -v w="$WR" 'BEGIN { printf "%.3f", (w > 0 ? m * 100 / w : 0) }')
RATIO_CPU=$(awk -v a="$PR" -v b="$PQ" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
TABLE=$(
    echo "| contender | recovery requests/s | forwarded Mpps (median) | runs (Mpps) | control thread % CPU | worker % CPU | Mpps per worker CPU-second |"
    echo "|---|---:|---:|---|---:|---:|---:|"
    echo "| quiet: [recovery] rate = 1 | 1 | $Q |${MPPS[quiet]} | $CQ | $WQ | $PQ |"
    echo "| recovery: [recovery] rate = $RATE | $REQ_R | $R |${MPPS[recovery]} | $CR | $WR | $PR |"
)
echo
echo "$TABLE"
echo
echo "forwarding during recovery / without: $RATIO (per worker CPU-second: $RATIO_CPU)"

if [ "$WRITE" -eq 1 ]; then
    HEADING="## Forwarding during recovery (net_null, template frames, 1 worker core)"
    SECTION=$WORK/section.md
    {
        echo "$HEADING"
        echo
        echo "Written by \`perf/recovery.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (load average before: $LOAD)."
        echo "mipdp's Mobile IPv6 home agent restarted on a backup of $BINDINGS bindings (16 care-of"
        echo "/64s) forwards IPv6 to all of them (IPv6-in-IPv6, 64-byte inner packets, both net_null"
        echo "ports) while its control thread (main core) verifies them with Binding Refresh Requests"
        echo "at the rate shown, against the same restart with \`[recovery] rate = 1\`. $DURATION s per"
        echo "run after $WARMUP s of warm-up, $REPEATS rounds, median."
        echo
        echo "$TABLE"
        echo
        echo "Forwarding during recovery / without: **$RATIO** (per worker CPU-second: **$RATIO_CPU**)."
        echo
        echo "The CPU columns are each thread's CPU time over wall time during the measured seconds"
        echo "(medians): what the verification costs the control thread, and how much of its core the"
        echo "worker actually got. A worker well below 100 % was descheduled: the machine was busy,"
        echo "and the Mpps of that run say more about the load than about mipdp."
        echo
        echo "Caveats: a shared 2-core VM (other builds and tests may run at the same time); runs can"
        echo "differ by 10 % or more. The requests leave through the control thread's TX queue where"
        echo "the port has one (net_null does), so the worker pays only for what the control thread"
        echo "takes from the shared core and memory."
        echo
    } >"$SECTION"
    write_section "$RESULTS" "$HEADING" "$SECTION"
fi
