#!/usr/bin/env bash
# Forwarder floor benchmark: mipdp's forwarder against dpdk-testpmd (io and mac modes) on the
# same DPDK virtual NICs (two net_null ports) and the same cores (forwarding on one worker
# core, DPDK main lcore / control thread on another). `make bench` runs it.
#
# Each contender runs for DURATION seconds after a warm-up; the three contenders are run one
# after the other, in rounds (the start of the order rotates every round), and the median of
# the rounds is reported. The metric is forwarded Mpps: packets transmitted per second summed
# over both ports, averaged over the stats periods after the warm-up.
#
# Prints a table and the headline "mipdp forwarder / testpmd mac = X.XX (target ≥ 0.90)", and
# writes the same into perf/RESULTS.md (its section is overwritten, other sections are kept).
#
# Usage: perf/forwarder.sh [--quick] [--duration S] [--repeats R] [--packet-size N] ...
#        perf/forwarder.sh --help
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROG=perf/forwarder.sh
TARGET_RATIO=0.90

usage() {
    cat <<EOF
Usage: $PROG [options]

Runs dpdk-testpmd --forward-mode=io, dpdk-testpmd --forward-mode=mac and mipdp (forwarder
mode) on two net_null ports, forwarding on one core, and compares forwarded Mpps.

Options:
  --quick             3 s per contender, 1 round (defaults otherwise: 10 s, 3 rounds)
  --duration S        measured seconds per contender and round, after the warm-up (default 10)
  --repeats R         rounds of the three contenders; the median is reported (default 3)
  --packet-size N     net_null packet size in bytes, 14..2048 (default 64)
  --copy              net_null copy=1: the PMD copies packet data on RX and TX (default copy=0)
  --period S          stats period in whole seconds (default 1)
  --warmup N          stats periods discarded at the start of each run (default 1)
  --main-core C       DPDK main lcore / mipdp control thread (default 0)
  --worker-core C     forwarding core: testpmd's forwarding lcore, mipdp's worker (default 1)
  --no-build          do not run cargo build; use the existing mipdp binary
  --no-write          do not write perf/RESULTS.md
  --results FILE      markdown file to update (default perf/RESULTS.md)
  --log-dir DIR       keep every contender's output in DIR (default: a temporary directory,
                      removed at the end)
  --check             exit with status 3 when mipdp / testpmd mac is below $TARGET_RATIO
  -h, --help          this text

Environment: TESTPMD (default dpdk-testpmd), MIPDP (default target/release/mipdp, or
\$CARGO_TARGET_DIR/release/mipdp).
EOF
}

# shellcheck source=perf/lib.sh
source perf/lib.sh

# ---------------------------------------------------------------------------------------------
# Options

DURATION=""
REPEATS=""
QUICK=0
PKT_SIZE=64
COPY=0
PERIOD=1
WARMUP=1
MAIN_CORE=0
WORKER_CORE=1
BUILD=1
WRITE=1
RESULTS=perf/RESULTS.md
LOG_DIR=""
CHECK=0

while [ "$#" -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --duration) need_value "$@"; DURATION=$2; shift ;;
        --repeats) need_value "$@"; REPEATS=$2; shift ;;
        --packet-size) need_value "$@"; PKT_SIZE=$2; shift ;;
        --copy) COPY=1 ;;
        --period) need_value "$@"; PERIOD=$2; shift ;;
        --warmup) need_value "$@"; WARMUP=$2; shift ;;
        --main-core) need_value "$@"; MAIN_CORE=$2; shift ;;
        --worker-core) need_value "$@"; WORKER_CORE=$2; shift ;;
        --no-build) BUILD=0 ;;
        --no-write) WRITE=0 ;;
        --results) need_value "$@"; RESULTS=$2; shift ;;
        --log-dir) need_value "$@"; LOG_DIR=$2; shift ;;
        --check) CHECK=1 ;;
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

for v in DURATION REPEATS PKT_SIZE PERIOD WARMUP MAIN_CORE WORKER_CORE; do
    is_uint "${!v}" || die "$v must be a whole number, got '${!v}'"
done
[ "$DURATION" -ge 1 ] || die "--duration must be at least 1 second"
[ "$REPEATS" -ge 1 ] || die "--repeats must be at least 1"
[ "$PERIOD" -ge 1 ] || die "--period must be at least 1 second"
# 2048: the data room of a 2176-byte mbuf (both testpmd's and mipdp's pool) after the
# 128-byte headroom; with copy=1 net_null would write past it.
[ "$PKT_SIZE" -ge 14 ] && [ "$PKT_SIZE" -le 2048 ] ||
    die "--packet-size must be 14..2048 (an Ethernet header fits, one mbuf holds it), got $PKT_SIZE"
[ "$MAIN_CORE" -ne "$WORKER_CORE" ] || die "--main-core and --worker-core must differ"

# Stats periods measured per run (after the warm-up).
SAMPLES=$(((DURATION + PERIOD - 1) / PERIOD))

# ---------------------------------------------------------------------------------------------
# Tools and machine checks

if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

TESTPMD=${TESTPMD:-dpdk-testpmd}
MIPDP=${MIPDP:-${CARGO_TARGET_DIR:-target}/release/mipdp}

command -v "$TESTPMD" >/dev/null 2>&1 ||
    die "$TESTPMD not found: install the Debian package dpdk (make deps), or set TESTPMD"

ALLOWED_CPUS=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
for c in "$MAIN_CORE" "$WORKER_CORE"; do
    expand_cpulist "$ALLOWED_CPUS" | grep -qx "$c" ||
        die "core $c is not available to this process (allowed: $ALLOWED_CPUS); use --main-core/--worker-core"
done

if [ "$(id -u)" -eq 0 ]; then
    DPDK_RUNTIME_DIR=/var/run/dpdk
else
    DPDK_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}/dpdk
    warn "not running as root: DPDK may refuse to start (make bench is meant to run as root)"
fi

if [ "$BUILD" -eq 1 ]; then
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found: install Rust (make deps), or pass --no-build with a built $MIPDP"
    step "cargo build --release -p mipdp-control"
    cargo build --release -p mipdp-control ||
        die "building mipdp failed (see the compiler output above)"
fi
[ -x "$MIPDP" ] || die "$MIPDP does not exist: build it (cargo build --release -p mipdp-control) or set MIPDP"

# ---------------------------------------------------------------------------------------------
# Work directory, process tracking and cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fwbench.XXXXXX")
if [ -n "$LOG_DIR" ]; then
    KEEP_LOGS=1
    mkdir -p "$LOG_DIR" || die "cannot create --log-dir $LOG_DIR"
    LOG_DIR=$(cd "$LOG_DIR" && pwd)
else
    KEEP_LOGS=0
    LOG_DIR=$WORK/logs
    mkdir -p "$LOG_DIR"
fi

CUR_PID=""     # the contender running now (at most one at a time)
CUR_PREFIX=""  # its --file-prefix

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$CUR_PID" ]; then
        stop_process "$CUR_PID"
        remove_runtime_dir "$CUR_PREFIX"
        CUR_PID=""
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "$PROG: interrupted" >&2; exit 130' INT
trap 'echo "$PROG: terminated" >&2; exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Contenders

CONTENDERS=(testpmd-io testpmd-mac mipdp)
declare -A LABEL=(
    [testpmd-io]="testpmd io"
    [testpmd-mac]="testpmd mac"
    [mipdp]="mipdp forwarder"
)

VDEV_ARGS=(--vdev "net_null0,size=$PKT_SIZE,copy=$COPY" --vdev "net_null1,size=$PKT_SIZE,copy=$COPY")
EAL_COMMON=(--no-huge -m 512 --no-pci)

# mipdp's pool and cache sized as testpmd's (--total-num-mbufs=16384, default cache 250); the
# remaining keys keep their defaults (burst 32 as testpmd; net_null ignores descriptor counts).
MIPDP_CONFIG=$WORK/mipdp.toml
cat >"$MIPDP_CONFIG" <<EOF
[dataplane]
mode = "forwarder"
workers = [$WORKER_CORE]
mbufs = 16384
mbuf_cache = 250

[[port]]
device = "net_null0"

[[port]]
device = "net_null1"
EOF

# Fills CMD with the command line of contender $1 using file prefix $2.
build_command() {
    local who=$1 prefix=$2
    case "$who" in
        testpmd-io | testpmd-mac)
            CMD=("$TESTPMD" "${EAL_COMMON[@]}" --file-prefix "$prefix" "${VDEV_ARGS[@]}"
                -l "$MAIN_CORE,$WORKER_CORE" --main-lcore "$MAIN_CORE" --
                "--forward-mode=${who#testpmd-}" --nb-cores=1 --total-num-mbufs=16384
                --stats-period "$PERIOD" --no-lsc-interrupt)
            ;;
        mipdp)
            CMD=("$MIPDP" run --config "$MIPDP_CONFIG" --stats-interval "$((PERIOD * 1000))" --
                "${EAL_COMMON[@]}" --file-prefix "$prefix" "${VDEV_ARGS[@]}" -l "$MAIN_CORE")
            ;;
    esac
}

# Rate lines to skip before the warm-up: testpmd's start-up print.
declare -A SKIP=([testpmd-io]=1 [testpmd-mac]=1 [mipdp]=0)

STARTUP_TIMEOUT=60 # seconds until the first stats line (EAL start is slow on a loaded machine)

declare -A RUNS=()       # contender -> "v1 v2 ..." Mpps of each round
declare -A FIRST_CMD=()  # contender -> the command line of round 1, for RESULTS.md

# Runs contender $1 in round $2 and sets RESULT to its forwarded Mpps.
run_contender() {
    local who=$1 round=$2
    local prefix="fwbench-$$-$who-r$round"
    local log="$LOG_DIR/$who-r$round.log"
    local rates="rates_${who%%-*}"
    local skip=${SKIP[$who]}
    local need=$((skip + WARMUP + SAMPLES))
    build_command "$who" "$prefix"
    [ -n "${FIRST_CMD[$who]:-}" ] || FIRST_CMD[$who]="${CMD[*]}"

    remove_runtime_dir "$prefix"
    [ -d "$LOG_DIR" ] && [ -f "$MIPDP_CONFIG" ] ||
        die "the work directory $WORK (or --log-dir) vanished during the run: something else deleted it"
    # Created here, not by the background job's redirection, which may happen after the
    # first poll below.
    : >"$log"
    "${CMD[@]}" </dev/null >>"$log" 2>&1 &
    CUR_PID=$!
    CUR_PREFIX=$prefix

    local started=$SECONDS got=0
    local deadline=$((started + STARTUP_TIMEOUT + (WARMUP + SAMPLES) * PERIOD * 3 + 30))
    while :; do
        [ -f "$log" ] || fail_run "$who" "$log" "lost its output file $log (deleted by something else?)"
        got=$("$rates" "$log" | wc -l)
        [ "$got" -ge "$need" ] && break
        if ! kill -0 "$CUR_PID" 2>/dev/null; then
            local rc=0
            wait "$CUR_PID" || rc=$?
            CUR_PID=""
            remove_runtime_dir "$prefix"
            if [ "$got" -eq 0 ]; then
                fail_run "$who" "$log" "failed to start (exited with status $rc before any stats)"
            else
                fail_run "$who" "$log" "exited with status $rc after $got of $need stats periods"
            fi
        fi
        if [ "$got" -eq 0 ] && [ $((SECONDS - started)) -ge "$STARTUP_TIMEOUT" ]; then
            fail_run "$who" "$log" "failed to start: no stats after ${STARTUP_TIMEOUT} s"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail_run "$who" "$log" "stats stopped coming: $got of $need periods after $((SECONDS - started)) s"
        fi
        sleep 0.25
    done
    stop_process "$CUR_PID"
    CUR_PID=""
    remove_runtime_dir "$prefix"

    # Average of the periods after the start-up print and the warm-up.
    local stats
    stats=$("$rates" "$log" | awk -v from=$((skip + WARMUP + 1)) -v to="$need" '
        NR >= from && NR <= to {
            v = $1 / 1e6; s += v; n++
            if (n == 1 || v < lo) lo = v
            if (n == 1 || v > hi) hi = v
        }
        END { if (n > 0) printf "%.2f %.2f %.2f %d\n", s / n, lo, hi, n }')
    [ -n "$stats" ] || fail_run "$who" "$log" "no rate samples could be read from its output"
    local mean lo hi n
    read -r mean lo hi n <<<"$stats"
    [ "$(awk -v m="$mean" 'BEGIN { print (m > 0) }')" -eq 1 ] ||
        fail_run "$who" "$log" "forwarded nothing (0 Mpps)"
    printf '    %-16s %8.2f Mpps  (%d periods, %.2f..%.2f)\n' "${LABEL[$who]}" "$mean" "$n" "$lo" "$hi"

    if [ "$who" = mipdp ]; then
        local drops
        drops=$(grep '^final drops' "$log" || true)
        if [ -z "$drops" ]; then
            warn "mipdp printed no final counters after SIGTERM (see $log)"
        elif [[ "$drops" =~ =[1-9] ]]; then
            warn "mipdp dropped packets: ${drops#final drops }"
        fi
    fi
    RESULT=$mean
}

fail_run() {
    local who=$1 log=$2 msg=$3
    if [ "$KEEP_LOGS" -eq 0 ]; then
        # The temporary directory goes at exit; keep the failing output for inspection.
        cp "$log" "/tmp/fwbench-failed-$who.log" 2>/dev/null && log=/tmp/fwbench-failed-$who.log
    fi
    {
        echo "$PROG: error: ${LABEL[$who]} $msg"
        echo "  command: ${CMD[*]}"
        echo "  last lines of its output (all of it in $log):"
        tail -n 25 "$log" 2>/dev/null | sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/^/    | /'
    } >&2
    exit 1
}

# Two decimals, rounded the same way everywhere (awk, not bash printf).
fmt2() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# ---------------------------------------------------------------------------------------------
# Run

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
if [ "$QUICK" -eq 1 ]; then
    MODE_TEXT="quick"
elif [ "$DURATION" -eq 10 ] && [ "$REPEATS" -eq 3 ]; then
    MODE_TEXT="full"
else
    MODE_TEXT="custom"
fi
PER_RUN=$(((WARMUP + SAMPLES) * PERIOD + 2))
step "forwarder benchmark ($MODE_TEXT): $REPEATS round(s) × 3 contenders × ${DURATION} s" \
    "(+ ${WARMUP} warm-up period(s) of ${PERIOD} s), ${PKT_SIZE}-byte packets, net_null copy=$COPY;" \
    "main core $MAIN_CORE, forwarding core $WORKER_CORE; about $((REPEATS * 3 * PER_RUN)) s"
BUSY_START=$(cpu_busy_percent)
if [ "$BUSY_START" -ge 10 ]; then
    warn "the CPUs were ${BUSY_START} % busy in the second before the run (load average $LOAD_START):" \
        "other work on this machine will disturb the numbers"
fi

for round in $(seq 1 "$REPEATS"); do
    step "round $round/$REPEATS"
    for k in 0 1 2; do
        # Rotate the starting contender every round so none always runs first or last.
        who=${CONTENDERS[$(((round - 1 + k) % 3))]}
        run_contender "$who" "$round"
        RUNS[$who]="${RUNS[$who]:-} $RESULT"
    done
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A MED=()
for who in "${CONTENDERS[@]}"; do
    # shellcheck disable=SC2086 # word splitting wanted
    MED[$who]=$(median ${RUNS[$who]})
done
HEADLINE_RATIO=$(ratio "${MED[mipdp]}" "${MED[testpmd-mac]}")
MEETS=$(awk -v r="$HEADLINE_RATIO" -v t="$TARGET_RATIO" 'BEGIN { print (r + 0 >= t) ? "meets" : "BELOW" }')
HEADLINE="mipdp forwarder / testpmd mac = $HEADLINE_RATIO (target ≥ $TARGET_RATIO)"

runs_text() {
    # shellcheck disable=SC2086
    printf '%s\n' ${RUNS[$1]} | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }'
}

echo
printf '%-16s %13s %15s %14s   %s\n' contender "Mpps (median)" "vs testpmd mac" "vs testpmd io" "runs (Mpps)"
for who in "${CONTENDERS[@]}"; do
    printf '%-16s %13s %15s %14s   %s\n' "${LABEL[$who]}" "$(fmt2 "${MED[$who]}")" \
        "$(ratio "${MED[$who]}" "${MED[testpmd-mac]}")" "$(ratio "${MED[$who]}" "${MED[testpmd-io]}")" \
        "$(runs_text "$who")"
done
# Largest spread between rounds, relative to the median: a sign that other work interfered.
SPREAD_TEXT=""
for who in "${CONTENDERS[@]}"; do
    # shellcheck disable=SC2086
    pct=$(printf '%s\n' ${RUNS[$who]} | awk -v m="${MED[$who]}" '
        NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
        END { printf "%.0f", (m > 0 ? 100 * (hi - lo) / m : 0) }')
    if [ "$pct" -ge 10 ]; then
        SPREAD_TEXT="${SPREAD_TEXT:+$SPREAD_TEXT, }${LABEL[$who]} ${pct} %"
    fi
done
echo
echo "$HEADLINE  [$MEETS target]"
if [ -n "$SPREAD_TEXT" ]; then
    warn "rounds disagree by 10 % or more (max - min over median: $SPREAD_TEXT): other work" \
        "disturbed the run; rerun on a quieter machine before trusting the ratio"
fi
echo "(forwarded Mpps = TX packets per second summed over both ports; CPUs ${BUSY_START} % busy before the run;" \
    "load average $LOAD_START at start, $LOAD_END at end)"

# ---------------------------------------------------------------------------------------------
# perf/RESULTS.md

if [ "$WRITE" -eq 1 ]; then
    if [ "$COPY" -eq 1 ]; then NULL_TEXT="net_null copy=1"; else NULL_TEXT="net_null"; fi
    HEADING="## Forwarder floor ($NULL_TEXT, $PKT_SIZE B, 1 worker core)"
    CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    ONLINE_CPUS=$(cat /sys/devices/system/cpu/online 2>/dev/null || echo "?")
    DPDK_VERSION=$(pkg-config --modversion libdpdk 2>/dev/null ||
        dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)
    COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        COMMIT="$COMMIT with uncommitted changes in the working tree"
    fi

    SECTION=$WORK/section.md
    {
        echo "$HEADING"
        echo
        echo "Written by \`perf/forwarder.sh\` ($MODE_TEXT mode) on $START_DATE: $REPEATS round(s) of the three"
        echo "contenders, ${DURATION} s each after discarding $WARMUP stats period(s) of ${PERIOD} s as warm-up;"
        echo "the starting contender rotates each round; median of the rounds."
        echo
        echo "**$HEADLINE**"
        echo
        echo "| contender | Mpps (median) | vs testpmd mac | vs testpmd io | runs (Mpps) |"
        echo "|---|---:|---:|---:|---|"
        for who in "${CONTENDERS[@]}"; do
            echo "| ${LABEL[$who]} | $(fmt2 "${MED[$who]}") | $(ratio "${MED[$who]}" "${MED[testpmd-mac]}") | $(ratio "${MED[$who]}" "${MED[testpmd-io]}") | $(runs_text "$who") |"
        done
        echo
        echo "Mpps = packets transmitted per second summed over both ports (forwarded packets), from each"
        echo "program's own rate lines: testpmd's per-port \`Tx-pps\` of the same stats print, mipdp's"
        echo "\`tx_pps\` of both ports in one \`stats\` period; averaged over the periods after the warm-up."
        echo
        echo "- CPU: $CPU_MODEL; online CPUs $ONLINE_CPUS; kernel $(uname -srm)"
        echo "- Cores: DPDK main lcore / mipdp control thread on core $MAIN_CORE, forwarding (testpmd's"
        echo "  forwarding lcore, mipdp's single worker) on core $WORKER_CORE"
        echo "- Ports: two net_null virtual devices, ${PKT_SIZE}-byte packets, copy=$COPY; 16384 mbufs of 2176 bytes,"
        echo "  per-lcore cache 250, burst 32 in every contender"
        echo "- DPDK $DPDK_VERSION (Debian package); mipdp at commit $COMMIT"
        if [ -n "$SPREAD_TEXT" ]; then
            echo "- **Disturbed run**: rounds disagree by 10 % or more (max − min over median: $SPREAD_TEXT);"
            echo "  other work shared the machine. The median resists one disturbed round, but read small"
            echo "  differences with care."
        fi
        echo "- Machine activity: CPUs ${BUSY_START} % busy in the second before the run; load average"
        echo "  (1/5/15 min) $LOAD_START at start, $LOAD_END at end (the benchmark itself keeps one core busy)"
        echo
        echo "Commands (round 1; every process gets its own \`--file-prefix\`):"
        echo
        echo '```'
        for who in "${CONTENDERS[@]}"; do
            echo "${FIRST_CMD[$who]}" | sed "s#$WORK/mipdp.toml#mipdp.toml#"
        done
        echo '```'
        echo
        echo "mipdp.toml:"
        echo
        echo '```toml'
        cat "$MIPDP_CONFIG"
        echo '```'
        echo
        echo "Caveats: the machine is shared (other builds and tests may run at the same time) and has"
        echo "only 2 cores, so one core forwards and the other carries the main lcore and everything"
        echo "else. Runs can differ by 10 % or more when other work runs at the same time: compare the"
        echo "runs column and the load average before reading much into small differences."
        if [ "$COPY" -eq 0 ]; then
            echo "net_null creates packets on RX and frees them on TX without touching packet memory"
            echo "(copy=0), so these numbers measure the per-packet CPU cost of each forwarding loop, not"
        else
            echo "net_null (copy=1) copies $PKT_SIZE bytes from a dummy packet on RX and into one on TX, the"
            echo "same fixed extra cost for every contender; these numbers measure per-packet CPU cost, not"
        fi
        echo "NIC or PCIe throughput: io = receive and transmit only, mac = plus the Ethernet address"
        echo "rewrite (what mipdp's forwarder does)."
        echo
    } >"$SECTION"

    if [ ! -f "$RESULTS" ]; then
        mkdir -p "$(dirname "$RESULTS")"
        {
            echo "# mipdp performance results"
            echo
            echo "Written by the benchmarks in \`perf/\` (see perf/README.md). Each section belongs to one"
            echo "script and is replaced when that script runs again; numbers change as mipdp does."
            echo
        } >"$RESULTS"
    fi
    write_section "$RESULTS" "$HEADING" "$SECTION"
fi

if [ "$KEEP_LOGS" -eq 1 ]; then
    echo "logs in $LOG_DIR"
fi

if [ "$CHECK" -eq 1 ] && [ "$MEETS" != meets ]; then
    echo "$PROG: mipdp forwarder is below $TARGET_RATIO of testpmd mac" >&2
    exit 3
fi
