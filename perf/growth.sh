#!/usr/bin/env bash
# Cost growth: mipdp's ns per packet against the number of bindings (log scale) and
# against packet size, for every tunnel path of the engine, on one worker core and two
# net_null ports with template frames (as perf/mobility.sh runs them):
#
#   ha-ipip, ha-minimal, ha-gre  the home agent tunnelling IPv4 to the care-of address of
#                                each bound home address (RFC 2003, 2004, 2784)
#   ha6                          the home agent tunnelling IPv6 in IPv6 to the care-of
#                                address of each bound IPv6 home address (RFC 2473)
#   map                          HMIPv6 MAP: IPv6-in-IPv6 decapsulated, re-encapsulated
#                                RCoA -> LCoA (RFC 5380, RFC 2473)
#   mma                          MMA: IPv6-in-IPv6 decapsulated, re-encapsulated to each
#                                mobile's multicast group (33:33 Ethernet address)
#   fwd                          mipdp forwarder mode on the home agent's templates (the
#                                floor: receive, template copy, MAC rewrite, transmit)
#
# Bindings 1k, 10k, 100k, 1M, 10M at 64-byte inner packets; sizes 64, 128, 512 and
# 1400-byte inner packets at 1k bindings. The bindings are loaded from a
# node.bindings_file, the MMA's multicast map from a node.multicast_file (mobility-gen
# --bindings-file). One run per point: the mean of the measured stats periods
# after a warm-up period; ns per packet = 1000 / Mpps. Writes perf/data/growth-*.dat (for
# perf/plot.sh, which draws perf/plots/growth-*.png) and its section of perf/RESULTS.md.
# No figure here is a pass or fail: it is a curve to compare runs and commits with.
#
#   perf/growth.sh [--quick] [--duration S] [--realtime] [--no-build] [--no-write]
#                  [--results FILE] [--data-dir DIR] [--log-dir DIR]
#
# --quick: 1k and 10k bindings, sizes 64 and 512, 1 s per point in stats periods of 0.5 s,
# 100k template frames (the CI run, so that the harness cannot rot). --realtime puts the worker thread under
# SCHED_FIFO 1 (as perf/mobility.sh --realtime) on a machine shared with other work.
set -euo pipefail
PROG=growth.sh
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=perf/lib.sh
. perf/lib.sh

QUICK=0
DURATION=""
REALTIME=0
BUILD=1
WRITE=1
RESULTS=perf/RESULTS.md
DATA_DIR=perf/data
LOG_DIR=""
MAIN_CORE=0
WORKER_CORE=1
WARMUP=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --duration) need_value "$@"; DURATION=$2; shift ;;
        --realtime) REALTIME=1 ;;
        --no-build) BUILD=0 ;;
        --no-write) WRITE=0 ;;
        --results) need_value "$@"; RESULTS=$2; shift ;;
        --data-dir) need_value "$@"; DATA_DIR=$2; shift ;;
        --log-dir) need_value "$@"; LOG_DIR=$2; shift ;;
        -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
if [ "$QUICK" -eq 1 ]; then
    : "${DURATION:=1}"
    PERIOD_MS=500
    BINDINGS=(1000 10000)
    RATIOS=(10000)
    SIZES=(64 512)
    FRAMES=100000
else
    : "${DURATION:=5}"
    PERIOD_MS=1000
    BINDINGS=(1000 10000 100000 1000000 10000000)
    RATIOS=(1000000 10000000)
    SIZES=(64 128 512 1400)
    FRAMES=1000000
fi
is_uint "$DURATION" && [ "$DURATION" -ge 1 ] || die "--duration must be a whole number of seconds, at least 1"
[ "$(id -u)" -eq 0 ] || die "DPDK needs root here (run as root)"
if [ "$REALTIME" -eq 1 ]; then
    command -v chrt >/dev/null 2>&1 && chrt -f 1 true 2>/dev/null ||
        die "--realtime needs chrt (util-linux) and the right to use SCHED_FIFO (run as root)"
fi
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

TARGET=${CARGO_TARGET_DIR:-target}
MIPDP=${MIPDP:-$TARGET/release/mipdp}
MOBILITY_GEN=${MOBILITY_GEN:-$TARGET/release/mobility-gen}
if [ "$BUILD" -eq 1 ]; then
    step "cargo build --release (mipdp, mobility-gen)"
    cargo build --release -q -p mipdp-control -p mipdp-perf --bin mipdp --bin mobility-gen
fi
[ -x "$MIPDP" ] || die "$MIPDP does not exist: build it (cargo build --release -p mipdp-control) or set MIPDP"
[ -x "$MOBILITY_GEN" ] || die "$MOBILITY_GEN does not exist: build it (cargo build --release -p mipdp-perf) or set MOBILITY_GEN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/growth.XXXXXX")
CUR_PID=""
CUR_PREFIX=""
cleanup() {
    [ -z "$CUR_PID" ] || stop_process "$CUR_PID"
    remove_runtime_dir "$CUR_PREFIX"
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "$LOG_DIR" ] || LOG_DIR=$WORK
mkdir -p "$LOG_DIR" "$DATA_DIR"
DPDK_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/var/run}/dpdk

label() {
    case "$1" in
        fwd) echo "mipdp forwarder" ;;
        ha-ipip) echo "HA IPv4-in-IPv4" ;;
        ha-minimal) echo "HA minimal encapsulation" ;;
        ha-gre) echo "HA GRE" ;;
        ha6) echo "HA IPv6-in-IPv6" ;;
        map) echo "MAP IPv6-in-IPv6 re-encapsulation" ;;
        mma) echo "MMA multicast re-encapsulation" ;;
    esac
}

# point WHO BINDINGS INNER_SIZE: generates the templates and configuration, runs mipdp and
# sets RESULT to the mean Mpps of the measured periods (not in a subshell: the cleanup must
# see the process it started).
point() {
    local who=$1 n=$2 size=$3 kind method=ipip frame
    case "$who" in
        fwd | ha-*) kind=ha; frame=$((14 + size)) ;;
        ha6) kind=ha6; frame=$((14 + size)) ;;
        map | mma) kind=$who; frame=$((14 + 40 + size)) ;;
    esac
    case "$who" in ha-*) method=${who#ha-} ;; esac
    local base="$WORK/$who-$n-$size" file
    file=(--bindings-file "$base.bindings")
    "$MOBILITY_GEN" "$kind" --bindings "$n" --inner-size "$size" --method "$method" \
        --frames "$FRAMES" --pcap "$base.pcap" --config "$base.toml" "${file[@]}" \
        --worker-core "$WORKER_CORE" >/dev/null || die "mobility-gen failed for $who ($n bindings, $size B)"
    if [ "$who" = fwd ]; then
        "$MOBILITY_GEN" forwarder --pcap "$base.pcap" --config "$base.toml" \
            --frames "$FRAMES" --worker-core "$WORKER_CORE" >/dev/null || die "mobility-gen failed for fwd"
    fi
    local prefix="growth-$$-$who-$n-$size" log="$LOG_DIR/$who-$n-$size.log"
    CMD=("$MIPDP" run --config "$base.toml" --stats-interval "$PERIOD_MS" -- --no-huge -m 512 --no-pci
        --file-prefix "$prefix" --vdev "net_null0,size=$frame,copy=0"
        --vdev "net_null1,size=$frame,copy=0" -l "$MAIN_CORE")
    [ -n "${FIRST_CMD[$who]:-}" ] || FIRST_CMD[$who]="${CMD[*]}"
    remove_runtime_dir "$prefix"
    # The log exists before the process does: the wait loop below reads it at once.
    : >"$log"
    "${CMD[@]}" </dev/null >>"$log" 2>&1 &
    CUR_PID=$!
    CUR_PREFIX=$prefix
    local need=$((WARMUP + DURATION * 1000 / PERIOD_MS)) started=$SECONDS timeout=$((60 + n / 10000)) got rt=""
    local first_at="" rss=""
    while :; do
        got=$(rates_mipdp "$log" | wc -l)
        # Start-up: from the launch to the first stats period (every table loaded).
        [ -n "$first_at" ] || [ "$got" -lt 1 ] || first_at=$((SECONDS - started))
        # Resident memory once forwarding (every table loaded and touched).
        [ "$got" -lt 2 ] || [ -n "$rss" ] || rss=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$CUR_PID/status" 2>/dev/null)
        if [ "$REALTIME" -eq 1 ] && [ -z "$rt" ]; then rt=$(realtime_thread "$CUR_PID" mipdp-worker-0); fi
        [ "$got" -lt "$need" ] || break
        if ! kill -0 "$CUR_PID" 2>/dev/null; then
            tail -5 "$log" >&2
            die "$who ($n bindings, $size B) exited after $got of $need stats periods (log: $log)"
        fi
        [ $((SECONDS - started)) -lt $((timeout + need * 3)) ] ||
            die "$who ($n bindings, $size B): $got of $need stats periods after $((SECONDS - started)) s (log: $log)"
        sleep 0.25
    done
    stop_process "$CUR_PID"
    CUR_PID=""
    remove_runtime_dir "$prefix"
    CUR_PREFIX=""
    rm -f "$base.bindings"
    STARTUP["$who $n $size"]=$first_at
    RSS["$who $n $size"]=${rss:-n/a}""
    # Every frame of the measured periods must have taken the path measured: a drop
    # counter that moved then means the tables or templates are wrong, and the figure
    # would be of something else. (Before, frames to homes whose tables are still being
    # installed are dropped for want of a profile: the workers start with the first
    # updates.)
    local drops
    drops=$(awk -v from="$WARMUP" -v to="$need" '/^stats drops/ {
            k++; s = 0; for (i = 3; i <= NF; i++) { split($i, kv, "="); s += kv[2] }
            if (k == from) a = s
            if (k == to) b = s
        }
        END { print b - a }' "$log")
    [ "$drops" -eq 0 ] || die "$who ($n bindings, $size B) dropped $drops packets in the measured periods (log: $log)"
    RESULT=$(rates_mipdp "$log" | awk -v from=$((WARMUP + 1)) -v to="$need" '
        NR >= from && NR <= to { s += $1; n++ } END { if (n > 0) printf "%.3f\n", s / n / 1e6 }')
    [ -n "$RESULT" ] || die "$who ($n bindings, $size B): no rate could be read (log: $log)"
}

ns() { awk -v a="${1:-0}" 'BEGIN { if (a > 0) printf "%.1f", 1000 / a; else print "n/a" }'; }

declare -A FIRST_CMD=()
declare -A STARTUP=()
declare -A RSS=()
START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=$(cpu_busy_percent)
PATHS=(ha-ipip ha-minimal ha-gre ha6 map mma)
declare -A MPPS=()

step "cost growth against bindings (${BINDINGS[*]}), 64-byte inner packets, $DURATION s per point"
for who in "${PATHS[@]}"; do
    for n in "${BINDINGS[@]}"; do
        point "$who" "$n" 64
        m=$RESULT
        MPPS["$who $n 64"]=$m
        printf '    %-36s %8s bindings %8s Mpps %8s ns/packet, started in %s s, %s MB resident\n' \
            "$(label "$who")" "$n" "$m" "$(ns "$m")" "${STARTUP["$who $n 64"]}" "${RSS["$who $n 64"]}"
    done
done
step "cost growth against packet size (${SIZES[*]}-byte inner packets), ${BINDINGS[0]} bindings"
for who in fwd "${PATHS[@]}"; do
    for size in "${SIZES[@]}"; do
        key="$who ${BINDINGS[0]} $size"
        if [ -z "${MPPS[$key]:-}" ]; then
            point "$who" "${BINDINGS[0]}" "$size"
            MPPS[$key]=$RESULT
        fi
        m=${MPPS[$key]}
        printf '    %-36s %8s B inner %8s Mpps %8s ns/packet\n' "$(label "$who")" "$size" "$m" "$(ns "$m")"
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

{
    echo "# perf/growth.sh $START: contender bindings inner_bytes mpps ns_per_packet"
    for who in "${PATHS[@]}"; do
        for n in "${BINDINGS[@]}"; do
            m=${MPPS["$who $n 64"]:-}
            [ -z "$m" ] || echo "$who $n 64 $m $(ns "$m")"
        done
    done
} >"$DATA_DIR/growth-bindings.dat"
{
    echo "# perf/growth.sh $START: contender bindings inner_bytes frame_bytes mpps ns_per_packet"
    for who in fwd "${PATHS[@]}"; do
        for size in "${SIZES[@]}"; do
            m=${MPPS["$who ${BINDINGS[0]} $size"]}
            case "$who" in map | mma) f=$((14 + 40 + size)) ;; *) f=$((14 + size)) ;; esac
            echo "$who ${BINDINGS[0]} $size $f $m $(ns "$m")"
        done
    done
} >"$DATA_DIR/growth-sizes.dat"

HEADING="## Cost growth: bindings and packet size (perf/growth.sh)"
{
    echo "$HEADING"
    echo
    echo "Written by \`perf/growth.sh$([ "$QUICK" -eq 1 ] && echo " --quick")$([ "$REALTIME" -eq 1 ] && echo " --realtime")\` on $START"
    echo "at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown): one run of $DURATION s per point (stats periods of"
    echo "$PERIOD_MS ms) after a warm-up period, one worker on core $WORKER_CORE, two net_null ports, template frames (see"
    echo "\"Mobility paths\"; $FRAMES frames per template list). ns per packet = 1000 / Mpps"
    echo "(TX packets per second over both ports); every point checked for zero drops. Plots:"
    echo "perf/plots/growth-bindings.png, perf/plots/growth-sizes.png."
    echo
    echo "ns per packet against bindings (64-byte inner packets):"
    echo
    printf '| path |'
    for n in "${BINDINGS[@]}"; do printf ' %s |' "$n"; done
    for r in "${RATIOS[@]}"; do printf ' %s / %s |' "$r" "${BINDINGS[0]}"; done
    echo
    printf '|---|'
    for _ in "${BINDINGS[@]}" "${RATIOS[@]}"; do printf -- '---:|'; done
    echo
    for who in "${PATHS[@]}"; do
        printf '| %s |' "$(label "$who")"
        for n in "${BINDINGS[@]}"; do printf ' %s |' "$(ns "${MPPS["$who $n 64"]:-}")"; done
        for r in "${RATIOS[@]}"; do
            awk -v a="${MPPS["$who ${BINDINGS[0]} 64"]}" -v b="${MPPS["$who $r 64"]:-0}" \
                'BEGIN { if (b > 0) printf " %.2f |", a / b; else printf " n/a |" }'
        done
        echo
    done
    echo
    echo "Start-up (launch to the first stats period, every table loaded) in s, and mipdp's resident"
    echo "memory once forwarding (VmRSS, MB, with what DPDK touched of its 512 MB --no-huge memory):"
    echo
    printf '| path |'
    for n in "${BINDINGS[@]}"; do printf ' %s |' "$n"; done
    echo
    printf '|---|'
    for _ in "${BINDINGS[@]}"; do printf -- '---:|'; done
    echo
    for who in "${PATHS[@]}"; do
        printf '| %s |' "$(label "$who")"
        for n in "${BINDINGS[@]}"; do
            if [ -n "${STARTUP["$who $n 64"]:-}" ]; then
                printf ' %s s, %s MB |' "${STARTUP["$who $n 64"]}" "${RSS["$who $n 64"]}"
            else
                printf ' n/a |'
            fi
        done
        echo
    done
    echo
    echo "ns per packet against the inner packet size (${BINDINGS[0]} bindings; MAP and MMA frames"
    echo "carry a 40-byte outer IPv6 header more):"
    echo
    printf '| path |'
    for s in "${SIZES[@]}"; do printf ' %s B |' "$s"; done
    echo
    printf '|---|'
    for _ in "${SIZES[@]}"; do printf -- '---:|'; done
    echo
    for who in fwd "${PATHS[@]}"; do
        printf '| %s |' "$(label "$who")"
        for s in "${SIZES[@]}"; do printf ' %s |' "$(ns "${MPPS["$who ${BINDINGS[0]} $s"]}")"; done
        echo
    done
    echo
    echo "- Machine: $(nproc) online CPUs; CPUs $BUSY % busy in the second before the run; load"
    echo "  average $LOAD_START at start, $LOAD_END at end."
    echo "- The bindings come from a node.bindings_file (one line each), the MMA's multicast map"
    echo "  from a node.multicast_file (one entry per line). Past 4 Mi bindings mobiles share"
    echo "  care-of addresses (100.64.0.0/10), as those visiting one foreign agent do."
    echo "- The IPv4-in-IPv4 home agent takes the direct path (one probe per packet,"
    echo "  dataplane/src/tables/direct.rs); minimal encapsulation and GRE go through the"
    echo "  profile search, the binding slot and the binding record."
    echo "- Commands (mobility-gen writes each point's templates and configuration):"
    echo
    echo '```'
    for who in fwd "${PATHS[@]}"; do echo "${FIRST_CMD[$who]//$WORK\//}"; done
    echo '```'
    echo
} >"$WORK/section.md"
if [ "$WRITE" -eq 1 ]; then
    write_section "$RESULTS" "$HEADING" "$WORK/section.md"
fi
cat "$WORK/section.md"
