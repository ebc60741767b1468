#!/usr/bin/env bash
# Mobility paths benchmark: per-core Mpps of mipdp's home agent (IPv4-in-IPv4 with 1k and
# 1M bindings), MAP decapsulation + re-encapsulation, and TOS marking with 10k service
# profiles, side by side in one run with mipdp's forwarder mode and dpdk-testpmd (io and
# mac) on the same DPDK virtual NICs (two net_null ports) and the same cores; and the 1k
# home agent while a Mobile IPv4 registration storm (or a flood of bogus requests) runs
# through its control thread.
#
# net_null hands out buffers whose bytes are whatever the buffer held. Every mipdp
# contender therefore runs with `[[port]] rx_template_pcap` (a benchmark aid): each frame
# received is overwritten with the next frame of a template pcap written by mobility-gen
# (perf/src/bin/mobility_gen.rs), a memcpy per packet that every mipdp contender pays
# alike; testpmd does not pay it (so mipdp's ratios to testpmd are conservative).
#
# Rounds of all contenders (the starting contender rotates every round), the median of the
# rounds; per-core cost = 1 / Mpps. Prints a table and the two targets, and writes the same
# into perf/RESULTS.md (its own section; other sections are kept).
#
# Usage: perf/mobility.sh [--quick] [--duration S] [--repeats R] [--only LIST] ...
#        perf/mobility.sh --help
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROG=perf/mobility.sh
TARGET_FWD=0.70  # HA with 1M bindings / mipdp forwarder (templates), at least
TARGET_SCALE=1.50 # per-packet cost of HA 1M / HA 1k, at most
TARGET_STORM=0.90 # HA 1k data forwarding with a registration storm / without, at least
TARGET_REGISTRATIONS=50000 # MIPv4 registrations (and MIPv6 binding updates) accepted per second by the control thread

# The default run; ha-1k-flood only runs when --only names it.
DEFAULT_CONTENDERS=(testpmd-io testpmd-mac fwd-plain fwd ha-1k ha-1m map tos ha-1k-storm ha-1k-storm6)
ALL_CONTENDERS=("${DEFAULT_CONTENDERS[@]}" ha-1k-flood)

usage() {
    cat <<EOF
Usage: $PROG [options]

Runs, one at a time on two net_null ports with forwarding on one core:
  testpmd-io   dpdk-testpmd --forward-mode=io
  testpmd-mac  dpdk-testpmd --forward-mode=mac
  fwd-plain    mipdp forwarder mode, no template (what perf/forwarder.sh measures)
  fwd          mipdp forwarder mode on the home agent's templates (the ratios' base)
  ha-1k        mipdp home agent, IPv4-in-IPv4, traffic spread over 1k bound home addresses
  ha-1m        the same with 1M bindings (start-up installs them: 15-60 s)
  map          mipdp HMIPv6 MAP: IPv6-in-IPv6 to the MAP decapsulated and re-encapsulated to
               the LCoA by 1k RCoA bindings
  tos          the 1k home agent plus 10k AAA-source service profiles marking DSCP
  ha-1k-storm  ha-1k while every K-th frame of port 0 is an authenticated MIPv4
               Registration Request (HMAC-MD5) that the control thread accepts and that
               moves one of M mobiles' bindings
  ha-1k-storm6 the same with authenticated MIPv6 Binding Updates (RFC 4285 MN-HA option,
               HMAC-SHA1) to the IPv6 home agent instead
  ha-1k-flood  the same as ha-1k-storm with bogus authenticators (only with --only)
and compares forwarded Mpps (for the storm: data packets forwarded; the requests are not
forwarded), and the registrations the control thread handled per second.

Options:
  --quick             3 s per contender, 1 round (defaults otherwise: 10 s, 3 rounds)
  --duration S        measured seconds per contender and round, after the warm-up (default 10)
  --repeats R         rounds; the median is reported (default 3)
  --only LIST         comma-separated contenders to run (default all; targets need fwd,
                      ha-1k, ha-1m)
  --frames N          frames in every template pcap (default 1000000)
  --bindings-large N  bindings of ha-1m (default 1000000)
  --bindings-small N  bindings of ha-1k, map and tos (default 1000)
  --profiles N        service profiles of tos (default 10000)
  --storm-every K     one frame in K of port 0 is a registration request (default 20)
  --storm-mobiles M   mobile nodes registering in the storm (default 64)
  --period S          stats period in whole seconds (default 1)
  --warmup N          stats periods discarded at the start of each run (default 1)
  --main-core C       DPDK main lcore / mipdp control thread (default 0)
  --worker-core C     forwarding core: testpmd's forwarding lcore, mipdp's worker (default 1)
  --no-build          do not run cargo build; use the existing binaries
  --no-write          do not write perf/RESULTS.md
  --results FILE      markdown file to update (default perf/RESULTS.md)
  --log-dir DIR       keep every contender's output, configurations and templates in DIR
                      (default: a temporary directory, removed at the end)
  --check             exit with status 3 when a target is missed
  --realtime          run each contender's forwarding thread (mipdp's worker, testpmd's
                      forwarding lcore) under SCHED_FIFO priority 1 (root; needs chrt), so
                      that other work on a shared machine does not take its core: the
                      kernel still keeps 5 % of each second for other threads
                      (sched_rt_runtime_us), the worker-share lines show what it got
  -h, --help          this text

Environment: TESTPMD (default dpdk-testpmd), MIPDP (default target/release/mipdp),
MOBILITY_GEN (default target/release/mobility-gen); \$CARGO_TARGET_DIR is honoured.
EOF
}

# shellcheck source=perf/lib.sh
source perf/lib.sh

# ---------------------------------------------------------------------------------------------
# Options

DURATION=""
REPEATS=""
QUICK=0
ONLY=""
FRAMES=1000000
BINDINGS_LARGE=1000000
BINDINGS_SMALL=1000
PROFILES=10000
STORM_EVERY=20
STORM_MOBILES=64
PERIOD=1
WARMUP=1
MAIN_CORE=0
WORKER_CORE=1
BUILD=1
WRITE=1
RESULTS=perf/RESULTS.md
LOG_DIR=""
CHECK=0
REALTIME=0

while [ "$#" -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --duration) need_value "$@"; DURATION=$2; shift ;;
        --repeats) need_value "$@"; REPEATS=$2; shift ;;
        --only) need_value "$@"; ONLY=$2; shift ;;
        --frames) need_value "$@"; FRAMES=$2; shift ;;
        --bindings-large) need_value "$@"; BINDINGS_LARGE=$2; shift ;;
        --bindings-small) need_value "$@"; BINDINGS_SMALL=$2; shift ;;
        --profiles) need_value "$@"; PROFILES=$2; shift ;;
        --storm-every) need_value "$@"; STORM_EVERY=$2; shift ;;
        --storm-mobiles) need_value "$@"; STORM_MOBILES=$2; shift ;;
        --period) need_value "$@"; PERIOD=$2; shift ;;
        --warmup) need_value "$@"; WARMUP=$2; shift ;;
        --main-core) need_value "$@"; MAIN_CORE=$2; shift ;;
        --worker-core) need_value "$@"; WORKER_CORE=$2; shift ;;
        --no-build) BUILD=0 ;;
        --no-write) WRITE=0 ;;
        --results) need_value "$@"; RESULTS=$2; shift ;;
        --log-dir) need_value "$@"; LOG_DIR=$2; shift ;;
        --check) CHECK=1 ;;
        --realtime) REALTIME=1 ;;
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

for v in DURATION REPEATS FRAMES BINDINGS_LARGE BINDINGS_SMALL PROFILES STORM_EVERY STORM_MOBILES PERIOD WARMUP MAIN_CORE WORKER_CORE; do
    is_uint "${!v}" || die "$v must be a whole number, got '${!v}'"
done
[ "$DURATION" -ge 1 ] || die "--duration must be at least 1 second"
[ "$REPEATS" -ge 1 ] || die "--repeats must be at least 1"
[ "$PERIOD" -ge 1 ] || die "--period must be at least 1 second"
[ "$FRAMES" -ge 1 ] || die "--frames must be at least 1"
[ "$BINDINGS_SMALL" -ge 1 ] && [ "$BINDINGS_LARGE" -ge 1 ] || die "bindings must be at least 1"
[ "$BINDINGS_LARGE" -le 4194304 ] || die "--bindings-large is at most 4194304 (the address plan)"
[ "$PROFILES" -ge 2 ] && [ "$PROFILES" -le 131072 ] || die "--profiles must be 2..131072"
[ "$MAIN_CORE" -ne "$WORKER_CORE" ] || die "--main-core and --worker-core must differ"
[ "$STORM_EVERY" -ge 2 ] || die "--storm-every must be at least 2"
[ "$STORM_MOBILES" -ge 1 ] && [ "$STORM_MOBILES" -le 65534 ] || die "--storm-mobiles must be 1..65534"

if [ "$REALTIME" -eq 1 ]; then
    command -v chrt >/dev/null 2>&1 && chrt -f 1 true 2>/dev/null ||
        die "--realtime needs chrt (util-linux) and the right to use SCHED_FIFO (run as root)"
fi

if [ -n "$ONLY" ]; then
    IFS=, read -r -a CONTENDERS <<<"$ONLY"
    for who in "${CONTENDERS[@]}"; do
        [[ " ${ALL_CONTENDERS[*]} " == *" $who "* ]] ||
            die "--only: unknown contender '$who' (one of: ${ALL_CONTENDERS[*]})"
    done
else
    CONTENDERS=("${DEFAULT_CONTENDERS[@]}")
fi
NC=${#CONTENDERS[@]}

SAMPLES=$(((DURATION + PERIOD - 1) / PERIOD))

# ---------------------------------------------------------------------------------------------
# Tools and machine checks

if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

TESTPMD=${TESTPMD:-dpdk-testpmd}
MIPDP=${MIPDP:-${CARGO_TARGET_DIR:-target}/release/mipdp}
MOBILITY_GEN=${MOBILITY_GEN:-${CARGO_TARGET_DIR:-target}/release/mobility-gen}

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
    warn "not running as root: DPDK may refuse to start (this benchmark is meant to run as root)"
fi

if [ "$BUILD" -eq 1 ]; then
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found: install Rust (make deps), or pass --no-build with built binaries"
    step "cargo build --release -p mipdp-control -p mipdp-perf --bin mipdp --bin mobility-gen"
    cargo build --release -p mipdp-control -p mipdp-perf --bin mipdp --bin mobility-gen ||
        die "building mipdp or mobility-gen failed (see the compiler output above)"
fi
[ -x "$MIPDP" ] || die "$MIPDP does not exist: build it (cargo build --release -p mipdp-control) or set MIPDP"
[ -x "$MOBILITY_GEN" ] ||
    die "$MOBILITY_GEN does not exist: build it (cargo build --release -p mipdp-perf --bin mobility-gen)"

# ---------------------------------------------------------------------------------------------
# Work directory, process tracking and cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mobench.XXXXXX")
if [ -n "$LOG_DIR" ]; then
    KEEP_LOGS=1
    mkdir -p "$LOG_DIR" || die "cannot create --log-dir $LOG_DIR"
    LOG_DIR=$(cd "$LOG_DIR" && pwd)
    DATA=$LOG_DIR
else
    KEEP_LOGS=0
    LOG_DIR=$WORK/logs
    DATA=$WORK
    mkdir -p "$LOG_DIR"
fi

CUR_PID=""
CUR_PREFIX=""

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
# Contenders, templates and configurations

# 1000 → 1k, 1000000 → 1M; other numbers as they are.
human() {
    if [ $(($1 % 1000000)) -eq 0 ]; then
        echo "$(($1 / 1000000))M"
    elif [ $(($1 % 1000)) -eq 0 ]; then
        echo "$(($1 / 1000))k"
    else
        echo "$1"
    fi
}
declare -A LABEL=(
    [testpmd-io]="testpmd io"
    [testpmd-mac]="testpmd mac"
    [fwd-plain]="mipdp forwarder, no template"
    [fwd]="mipdp forwarder"
    [ha-1k]="mipdp HA, $(human "$BINDINGS_SMALL") bindings"
    [ha-1m]="mipdp HA, $(human "$BINDINGS_LARGE") bindings"
    [map]="mipdp MAP decap + re-encap, $(human "$BINDINGS_SMALL") bindings"
    [tos]="mipdp HA + TOS, $(human "$PROFILES") profiles"
    [ha-1k-storm]="mipdp HA, $(human "$BINDINGS_SMALL") bindings, registration storm"
    [ha-1k-storm6]="mipdp HA, $(human "$BINDINGS_SMALL") bindings, binding update storm"
    [ha-1k-flood]="mipdp HA, $(human "$BINDINGS_SMALL") bindings, bogus-request flood"
)
# Template frame length of each contender: net_null is given this size, so the template
# source only copies (no length change); testpmd and the plain forwarder get the home
# agent's (with copy=0 they never touch the bytes).
HA_FRAME=78  # 14 Ethernet + 64 IPv4
MAP_FRAME=118 # 14 Ethernet + 40 outer IPv6 + 64 IPv6
declare -A SIZE=([testpmd-io]=$HA_FRAME [testpmd-mac]=$HA_FRAME [fwd-plain]=$HA_FRAME [fwd]=$HA_FRAME
    [ha-1k]=$HA_FRAME [ha-1m]=$HA_FRAME [map]=$MAP_FRAME [tos]=$HA_FRAME
    [ha-1k-storm]=$HA_FRAME [ha-1k-storm6]=$HA_FRAME [ha-1k-flood]=$HA_FRAME)
# The engine counter that must have grown by every packet sent (the traffic is the kind
# being measured): checked on mipdp's final counters.
declare -A EXPECT=([ha-1k]=encap_ipip [ha-1m]=encap_ipip [map]=decap_ip6ip6 [tos]=hits_aaa-source
    [ha-1k-storm]=encap_ipip [ha-1k-storm6]=encap_ipip [ha-1k-flood]=encap_ipip)
declare -A CONFIG=()
declare -A GEN_CMD=()

wants() { [[ " ${CONTENDERS[*]} " == *" $1 "* ]]; }
STORMS=(ha-1k-storm ha-1k-storm6 ha-1k-flood)
is_storm() { [[ " ${STORMS[*]} " == *" $1 "* ]]; }
any_storm() {
    local who
    for who in "${STORMS[@]}"; do wants "$who" && return 0; done
    return 1
}
# The statistics prefix of a storm's protocol (mipdp ctl show stats).
storm_prefix() { if [ "$1" = ha-1k-storm6 ]; then echo mip6; else echo mip4; fi; }

gen() {
    local who=$1
    shift
    CONFIG[$who]=$DATA/$who.toml
    local cmd=("$MOBILITY_GEN" "$@" --config "${CONFIG[$who]}" --frames "$FRAMES"
        --worker-core "$WORKER_CORE" --control-socket "$WORK/mipdp.sock")
    GEN_CMD[$who]="${cmd[*]}"
    "${cmd[@]}" || die "mobility-gen failed for $who: ${cmd[*]}"
}

step "templates and configurations ($FRAMES frames per template) in $DATA"
GEN_START=$SECONDS
HA_PCAP=$DATA/ha-1m.pcap
if wants fwd || wants ha-1m; then
    gen ha-1m ha --bindings "$BINDINGS_LARGE" --pcap "$HA_PCAP"
fi
if wants fwd; then
    gen fwd forwarder --pcap "$HA_PCAP"
fi
if wants fwd-plain; then
    gen fwd-plain forwarder
fi
if wants ha-1k || any_storm; then
    gen ha-1k ha --bindings "$BINDINGS_SMALL" --pcap "$DATA/ha-1k.pcap"
fi
# The storm's requests replace every K-th frame of port 0's templates only (port 1 gets
# ha-1k's), so each mobile's requests reach the control thread in the order written.
for who in "${STORMS[@]}"; do
    if wants "$who"; then
        auth=valid
        [ "$who" != ha-1k-flood ] || auth=bogus
        gen "$who" ha --bindings "$BINDINGS_SMALL" --pcap "$DATA/$who.pcap" \
            --second-port-pcap "$DATA/ha-1k.pcap" --storm-every "$STORM_EVERY" \
            --storm-mobiles "$STORM_MOBILES" --storm-authenticators "$auth" \
            --storm-protocol "$(storm_prefix "$who")"
    fi
done
if wants map; then
    gen map map --bindings "$BINDINGS_SMALL" --pcap "$DATA/map.pcap"
fi
if wants tos; then
    gen tos tos --bindings "$BINDINGS_SMALL" --profiles "$PROFILES" --pcap "$DATA/tos.pcap"
fi
echo "    done in $((SECONDS - GEN_START)) s"

EAL_COMMON=(--no-huge -m 512 --no-pci)

vdevs() {
    echo --vdev "net_null0,size=$1,copy=0" --vdev "net_null1,size=$1,copy=0"
}

# Fills CMD with the command line of contender $1 using file prefix $2.
build_command() {
    local who=$1 prefix=$2
    # shellcheck disable=SC2207 # the words are ours
    local vdev=($(vdevs "${SIZE[$who]}"))
    case "$who" in
        testpmd-io | testpmd-mac)
            CMD=("$TESTPMD" "${EAL_COMMON[@]}" --file-prefix "$prefix" "${vdev[@]}"
                -l "$MAIN_CORE,$WORKER_CORE" --main-lcore "$MAIN_CORE" --
                "--forward-mode=${who#testpmd-}" --nb-cores=1 --total-num-mbufs=16384
                --stats-period "$PERIOD" --no-lsc-interrupt)
            ;;
        *)
            CMD=("$MIPDP" run --config "${CONFIG[$who]}" --stats-interval "$((PERIOD * 1000))" --
                "${EAL_COMMON[@]}" --file-prefix "$prefix" "${vdev[@]}" -l "$MAIN_CORE")
            ;;
    esac
}

# The sum of mipdp's drop counters at each stats period (they are cumulative), leaving out
# the counter named by $2 (if any).
drops_mipdp() {
    awk -v except="${2:-}" '/^stats drops/ {
        s = 0; for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] != except) s += kv[2] }
        print s }' "$1"
}

# The storm's figures over the measured periods (cumulative counters at period $2 and $3):
# seconds, then per second: requests handled by the home agent (every outcome counter of
# the protocol prefix $4, mip4 or mip6), accepted (<prefix>_registered), replayed, failed authentication, replies sent, replies
# abandoned, requests the workers could not punt (punt_full), frames received.
storm_mipdp() {
    awk -v from="$2" -v to="$3" -v p="$4" '
        /^stats elapsed=/ {
            for (i = 2; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == "elapsed") el = kv[2]
                if (kv[1] == "rx") rx += kv[2]
            }
            next
        }
        /^stats drops/ {
            n++; t[n] = el; frames[n] = rx; rx = 0
            for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "punt_full") pf[n] = kv[2] }
            next
        }
        /^stats engine/ {
            h = 0
            for (i = 3; i <= NF; i++) {
                split($i, kv, "=")
                k = kv[1]
                if (index(k, p "_") != 1) continue
                if (k == p "_registered") acc[n] = kv[2]
                if (k == p "_replayed") rep[n] = kv[2]
                if (k == p "_failed_authentication") fa[n] = kv[2]
                if (k == p "_replies") rpl[n] = kv[2]
                if (k == p "_replies_abandoned") ab[n] = kv[2]
                if (substr(k, length(p) + 2) ~ /^(frame_|replies|gratuitous|neighbour_advertisements|returns_|expiries|refreshes|bindings)/) continue
                h += kv[2]
            }
            hd[n] = h
        }
        END {
            s = t[to] - t[from]
            if (s <= 0) { print "0 0 0 0 0 0 0 0 0"; exit }
            printf "%.3f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", s, (hd[to] - hd[from]) / s,
                (acc[to] - acc[from]) / s, (rep[to] - rep[from]) / s, (fa[to] - fa[from]) / s,
                (rpl[to] - rpl[from]) / s, (ab[to] - ab[from]) / s, (pf[to] - pf[from]) / s,
                (frames[to] - frames[from]) / s }' "$1"
}

rates_of() {
    case "$1" in
        testpmd-*) rates_testpmd "$2" ;;
        *) rates_mipdp "$2" ;;
    esac
}

skip_of() {
    case "$1" in
        testpmd-*) echo 1 ;; # testpmd's start-up print, always 0
        *) echo 0 ;;
    esac
}

# Seconds until the first stats line: EAL start is slow on a loaded machine, and ha-1m
# parses and installs its bindings first.
startup_timeout() {
    case "$1" in
        ha-1m) echo $((60 + BINDINGS_LARGE / 10000)) ;;
        *) echo 60 ;;
    esac
}

declare -A RUNS=()
declare -A SHARES=() # contender -> the worker's on-CPU % of each round
WORKER_SHARE=n/a
declare -A FIRST_CMD=()
declare -A STARTUP=() # contender -> seconds from start to "running" (round 1)
WARNINGS=()

run_contender() {
    local who=$1 round=$2
    local prefix="mobench-$$-$who-r$round"
    local log="$LOG_DIR/$who-r$round.log"
    local skip
    skip=$(skip_of "$who")
    local need=$((skip + WARMUP + SAMPLES))
    local timeout
    timeout=$(startup_timeout "$who")
    build_command "$who" "$prefix"
    [ -n "${FIRST_CMD[$who]:-}" ] || FIRST_CMD[$who]="${CMD[*]}"

    remove_runtime_dir "$prefix"
    [ -d "$LOG_DIR" ] || die "the work directory $WORK (or --log-dir) vanished during the run"
    : >"$log"
    "${CMD[@]}" </dev/null >>"$log" 2>&1 &
    CUR_PID=$!
    CUR_PREFIX=$prefix

    local started=$SECONDS got=0 running="" cpu_from="" realtime=""
    local deadline=$((started + timeout + (WARMUP + SAMPLES) * PERIOD * 3 + 30))
    while :; do
        [ -f "$log" ] || fail_run "$who" "$log" "lost its output file $log (deleted by something else?)"
        got=$(rates_of "$who" "$log" | wc -l)
        if [ "$REALTIME" -eq 1 ] && [ -z "$realtime" ]; then
            realtime=$(make_realtime "$CUR_PID" "$who")
        fi
        if [ -z "$running" ] && [ "$got" -gt 0 ]; then running=$((SECONDS - started)); fi
        if [ -z "$cpu_from" ] && [ "$got" -ge $((skip + WARMUP)) ]; then
            cpu_from=$(worker_cpu "$CUR_PID" "$who")
        fi
        if [ "$got" -ge "$need" ]; then
            WORKER_SHARE=$(worker_cpu "$CUR_PID" "$who" | awk -v from="$cpu_from" '
                BEGIN { split(from, a, " ") }
                { wall = $1 - a[1]; if ($2 == "" || a[2] == "" || wall <= 0) print "n/a"
                  else printf "%.0f\n", 100 * ($2 - a[2]) / wall }')
            break
        fi
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
        if [ "$got" -eq 0 ] && [ $((SECONDS - started)) -ge "$timeout" ]; then
            fail_run "$who" "$log" "failed to start: no stats after ${timeout} s"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail_run "$who" "$log" "stats stopped coming: $got of $need periods after $((SECONDS - started)) s"
        fi
        sleep 0.25
    done
    stop_process "$CUR_PID"
    CUR_PID=""
    remove_runtime_dir "$prefix"
    [ -n "${STARTUP[$who]:-}" ] || STARTUP[$who]=$running

    local stats
    stats=$(rates_of "$who" "$log" | awk -v from=$((skip + WARMUP + 1)) -v to="$need" '
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
    printf '    %-42s %8.2f Mpps  (%d periods, %.2f..%.2f)\n' "${LABEL[$who]}" "$mean" "$n" "$lo" "$hi"

    if [[ "$who" != testpmd-* ]]; then
        check_mipdp "$who" "$log" "$need"
    fi
    if is_storm "$who"; then
        storm_run "$who" "$log" "$need"
    fi
    if [ "$WORKER_SHARE" != n/a ]; then
        printf '    %-42s worker on core %s %s %% of the measured time\n' "" "$WORKER_CORE" "$WORKER_SHARE"
        SHARES[$who]="${SHARES[$who]:-} $WORKER_SHARE"
    fi
    RESULT=$mean
}

# Puts the forwarding thread of process $1 (contender $2) under SCHED_FIFO 1 (--realtime);
# prints its thread id once done, nothing while the thread does not exist yet.
make_realtime() {
    local name=mipdp-worker-0
    [[ "$2" != testpmd-* ]] || name=rte-worker-$WORKER_CORE
    realtime_thread "$1" "$name"
}

# The worker thread's time on its core: "wall-clock-ns on-CPU-ns" (from its schedstat), or
# only the clock when the thread is not found (testpmd: its forwarding lcore thread is not
# named alike). The worker shares core $WORKER_CORE with whatever else the scheduler puts
# there; its on-CPU share over the measured periods shows how much of the core it had.
worker_cpu() {
    local pid=$1 who=$2 t run=""
    if [[ "$who" != testpmd-* ]]; then
        for t in /proc/"$pid"/task/*; do
            if [ "$(cat "$t/comm" 2>/dev/null)" = mipdp-worker-0 ]; then
                run=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || run=""
                break
            fi
        done
    fi
    echo "$(date +%s%N) $run"
}

# Keeps one storm run's figures (per second over the measured periods) and prints them.
declare -A ST_HANDLED=() ST_ACCEPTED=() ST_REPLAYED=() ST_FAILED=() ST_REPLIES=() ST_ABANDONED=()
declare -A ST_PUNTFULL=() ST_FRAMES=()
storm_run() {
    local who=$1 log=$2 need=$3
    local secs handled accepted replayed failed replies abandoned puntfull frames
    read -r secs handled accepted replayed failed replies abandoned puntfull frames \
        <<<"$(storm_mipdp "$log" "$WARMUP" "$need" "$(storm_prefix "$who")")"
    ST_HANDLED[$who]="${ST_HANDLED[$who]:-} $handled"
    ST_ACCEPTED[$who]="${ST_ACCEPTED[$who]:-} $accepted"
    ST_REPLAYED[$who]="${ST_REPLAYED[$who]:-} $replayed"
    ST_FAILED[$who]="${ST_FAILED[$who]:-} $failed"
    ST_REPLIES[$who]="${ST_REPLIES[$who]:-} $replies"
    ST_ABANDONED[$who]="${ST_ABANDONED[$who]:-} $abandoned"
    ST_PUNTFULL[$who]="${ST_PUNTFULL[$who]:-} $puntfull"
    ST_FRAMES[$who]="${ST_FRAMES[$who]:-} $frames"
    printf '    %-42s %8s requests/s handled (%s accepted, %s replayed, %s failed authentication), %s replies/s, %s abandoned/s, %s/s not punted (queue full), over %s s\n' \
        "" "$handled" "$accepted" "$replayed" "$failed" "$replies" "$abandoned" "$puntfull" "$secs"
}

# Checks a mipdp run: no drops while measured, and (mobility) every packet sent did the
# work measured.
check_mipdp() {
    local who=$1 log=$2 need=$3
    grep -q '^final drops' "$log" || { note "$who: mipdp printed no final counters after SIGTERM (see $log)"; return; }
    local dropped except=""
    # A storm beyond what the control thread takes fills the punt queue: those drops are
    # the storm's (reported with it), not the forwarding path's.
    if is_storm "$who"; then except=punt_full; fi
    dropped=$(drops_mipdp "$log" "$except" | awk -v from="$WARMUP" -v to="$need" '
        NR == from { a = $1 } NR == to { b = $1 } END { printf "%.0f", b - a }')
    if [ "${dropped:-0}" -gt 0 ]; then
        note "${LABEL[$who]} dropped $dropped packets while measured: $(grep '^final drops' "$log" |
            tr ' ' '\n' | grep -v '=0$' | tail -n +3 | tr '\n' ' ')"
    fi
    local counter=${EXPECT[$who]:-}
    [ -n "$counter" ] || return 0
    # Over the measured periods: packets sent (cumulative tx= of both ports) against the
    # growth of the engine counter (cumulative, on the "stats engine" line of each period).
    local check
    check=$(awk -v c="$counter" -v from="$WARMUP" -v to="$need" '
        /^stats elapsed=/ { for (i = 2; i <= NF; i++) if (index($i, "tx=") == 1) t += substr($i, 4); next }
        /^stats drops/ { n++; tx[n] = t; t = 0; next }
        /^stats engine/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == c) did[n] = kv[2] } }
        END {
            sent = tx[to] - tx[from]; done = did[to] - did[from]
            printf "%.0f %.0f %d\n", sent, done, (sent > 0 && done >= 0.999 * sent) }' "$log")
    local sent did ok
    read -r sent did ok <<<"$check"
    if [ "${ok:-0}" -ne 1 ]; then
        note "${LABEL[$who]}: engine counter $counter grew by ${did:-?} while ${sent:-?} packets were sent: not every packet took the path measured (see $log)"
    fi
}

note() {
    warn "$*"
    WARNINGS+=("$*")
}

fail_run() {
    local who=$1 log=$2 msg=$3
    if [ "$KEEP_LOGS" -eq 0 ]; then
        cp "$log" "/tmp/mobench-failed-$who.log" 2>/dev/null && log=/tmp/mobench-failed-$who.log
    fi
    {
        echo "$PROG: error: ${LABEL[$who]} $msg"
        echo "  command: ${CMD[*]}"
        echo "  last lines of its output (all of it in $log):"
        tail -n 25 "$log" 2>/dev/null | sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/^/    | /' | cut -c1-300
    } >&2
    exit 1
}

fmt2() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
ns_per_packet() { awk -v a="$1" 'BEGIN { if (a > 0) printf "%.1f", 1000 / a; else print "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# ---------------------------------------------------------------------------------------------
# Run

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
if [ "$QUICK" -eq 1 ]; then
    MODE_TEXT="quick"
elif [ "$DURATION" -eq 10 ] && [ "$REPEATS" -eq 3 ] && [ -z "$ONLY" ]; then
    MODE_TEXT="full"
else
    MODE_TEXT="custom"
fi
step "mobility benchmark ($MODE_TEXT): $REPEATS round(s) × $NC contenders × ${DURATION} s" \
    "(+ ${WARMUP} warm-up period(s) of ${PERIOD} s); main core $MAIN_CORE, forwarding core $WORKER_CORE"
BUSY_START=$(cpu_busy_percent)
if [ "$BUSY_START" -ge 10 ]; then
    warn "the CPUs were ${BUSY_START} % busy in the second before the run (load average $LOAD_START):" \
        "other work on this machine will disturb the numbers"
fi

for round in $(seq 1 "$REPEATS"); do
    step "round $round/$REPEATS"
    for k in $(seq 0 $((NC - 1))); do
        who=${CONTENDERS[$(((round - 1 + k) % NC))]}
        run_contender "$who" "$round"
        RUNS[$who]="${RUNS[$who]:-} $RESULT"
    done
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A MED=()
for who in "${CONTENDERS[@]}"; do
    # shellcheck disable=SC2086
    MED[$who]=$(median ${RUNS[$who]})
done
med() { echo "${MED[$1]:-0}"; }

runs_text() {
    # shellcheck disable=SC2086
    printf '%s\n' ${RUNS[$1]} | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }'
}

# The targets, from the medians: Mpps ratio to the templated forwarder; per-packet cost
# ratio 1M / 1k = Mpps 1k / Mpps 1M.
TARGETS=()
MISSED=0
target_line() {
    local text=$1 value=$2 op=$3 bound=$4
    local verdict
    if [ "$value" = "n/a" ]; then
        verdict="not measured"
    else
        verdict=$(awk -v v="$value" -v b="$bound" -v op="$op" 'BEGIN {
            ok = (op == ">=") ? (v + 0 >= b) : (v + 0 <= b); print ok ? "met" : "MISSED" }')
    fi
    [ "$verdict" != MISSED ] || MISSED=1
    local sign="≥"
    [ "$op" = ">=" ] || sign="≤"
    TARGETS+=("$text = $value (target $sign $bound): **$verdict**")
}
if wants ha-1m && wants fwd; then
    target_line "HA $(human "$BINDINGS_LARGE") bindings / mipdp forwarder (same templates)" "$(ratio "$(med ha-1m)" "$(med fwd)")" ">=" "$TARGET_FWD"
fi
if wants ha-1m && wants ha-1k; then
    target_line "HA per-packet cost, $(human "$BINDINGS_LARGE") / $(human "$BINDINGS_SMALL") bindings" "$(ratio "$(med ha-1k)" "$(med ha-1m)")" "<=" "$TARGET_SCALE"
fi

# The storm: data forwarding with it / without, and what the control thread handled (the
# medians of each figure over the rounds).
smed() {
    local -n arr=$1
    # shellcheck disable=SC2086
    if [ -n "${arr[$2]:-}" ]; then median ${arr[$2]} | awk '{ printf "%.0f", $1 }'; else echo 0; fi
}
for who in "${STORMS[@]}"; do
    if wants "$who" && wants ha-1k; then
        case "$who" in
            ha-1k-storm) what="with a registration storm" ;;
            ha-1k-storm6) what="with a binding update storm" ;;
            *) what="with a flood of bogus requests" ;;
        esac
        target_line "HA $(human "$BINDINGS_SMALL") data packets forwarded per second $what / without" \
            "$(ratio "$(med "$who")" "$(med ha-1k)")" ">=" "$TARGET_STORM"
    fi
done
# The same per second of the worker's time on its core: on a shared machine a busy control
# core pushes other work onto the worker's core, which the wall-clock ratio counts against
# the storm.
share_med() {
    # shellcheck disable=SC2086
    if [ -n "${SHARES[$1]:-}" ]; then median ${SHARES[$1]}; else echo 0; fi
}
STORM_CPU=()
for who in ha-1k "${STORMS[@]}"; do
    wants "$who" || continue
    STORM_CPU+=("$(printf '%s: %s Mpps of data forwarded with the worker on its core %s %% of the time (median) = %s Mpps per second of worker CPU time' \
        "${LABEL[$who]}" "$(fmt2 "$(med "$who")")" "$(awk -v s="$(share_med "$who")" 'BEGIN { printf "%.0f", s }')" \
        "$(fmt2 "$(awk -v m="$(med "$who")" -v s="$(share_med "$who")" 'BEGIN { print (s > 0 ? 100 * m / s : 0) }')")")")
done
for who in "${STORMS[@]}"; do
    if wants "$who" && wants ha-1k; then
        STORM_CPU+=("$(printf '%s / without, per second of worker CPU time = %s' "${LABEL[$who]}" \
            "$(ratio "$(awk -v m="$(med "$who")" -v s="$(share_med "$who")" 'BEGIN { print (s > 0 ? m / s : 0) }')" \
                "$(awk -v m="$(med ha-1k)" -v s="$(share_med ha-1k)" 'BEGIN { print (s > 0 ? m / s : 0) }')")")")
    fi
done

for who in ha-1k-storm ha-1k-storm6; do
    wants "$who" || continue
    ACCEPTED=$(smed ST_ACCEPTED "$who")
    if [ "$who" = ha-1k-storm ]; then
        text="MIPv4 registrations accepted per second by the control thread, end to end ($who)"
    else
        text="MIPv6 binding updates accepted per second by the control thread, end to end ($who)"
    fi
    if [ "$ACCEPTED" -lt "$TARGET_REGISTRATIONS" ] && [ "$(smed ST_PUNTFULL "$who")" -eq 0 ]; then
        # The control thread took every request offered: a lower bound only.
        TARGETS+=("$text = at least $ACCEPTED, all that the storm offered (target ≥ $TARGET_REGISTRATIONS): **not measured** (offer more with a smaller --storm-every)")
    else
        target_line "$text" "$ACCEPTED" ">=" "$TARGET_REGISTRATIONS"
    fi
done

storm_rows() {
    local sep=$1
    for who in "${STORMS[@]}"; do
        wants "$who" || continue
        local frames offered
        frames=$(smed ST_FRAMES "$who")
        offered=$(awk -v h="$(smed ST_HANDLED "$who")" -v p="$(smed ST_PUNTFULL "$who")" 'BEGIN { printf "%.0f", h + p }')
        printf "$sep%s$sep%s$sep%s$sep%s$sep%s$sep%s$sep%s$sep%s$sep%s$sep%s$sep%s$sep\n" "${LABEL[$who]}" \
            "$(fmt2 "$(awk -v f="$frames" 'BEGIN { print f / 1e6 }')")" "$(fmt2 "$(med "$who")")" "$offered" \
            "$(smed ST_HANDLED "$who")" "$(smed ST_ACCEPTED "$who")" "$(smed ST_REPLAYED "$who")" \
            "$(smed ST_FAILED "$who")" "$(smed ST_REPLIES "$who")" "$(smed ST_ABANDONED "$who")" \
            "$(smed ST_PUNTFULL "$who")"
    done
}
STORM_HEAD="contender|frames received Mpps|data forwarded Mpps|requests punted or not/s|handled/s|accepted/s|replayed/s|failed auth/s|replies/s|replies abandoned/s|not punted (queue full)/s"

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

base_of() { if wants "$1"; then med "$1"; else echo 0; fi; }
FWD=$(base_of fwd)
MAC=$(base_of testpmd-mac)
IO=$(base_of testpmd-io)

echo
printf '%-42s %8s %8s %9s %8s %8s   %s\n' contender Mpps ns/pkt "vs fwd" "vs mac" "vs io" "runs (Mpps)"
for who in "${CONTENDERS[@]}"; do
    printf '%-42s %8s %8s %9s %8s %8s   %s\n' "${LABEL[$who]}" "$(fmt2 "$(med "$who")")" \
        "$(ns_per_packet "$(med "$who")")" "$(ratio "$(med "$who")" "$FWD")" \
        "$(ratio "$(med "$who")" "$MAC")" "$(ratio "$(med "$who")" "$IO")" "$(runs_text "$who")"
done
if any_storm; then
    echo
    echo "Registration storm (medians over the rounds; per second of the measured periods):"
    echo "$STORM_HEAD" | tr '|' '\n' | awk '{ printf "  %d. %s\n", NR, $0 }'
    storm_rows ' ' | sed 's/^ /  /'
    printf '%s\n' "${STORM_CPU[@]}"
fi
echo
for t in "${TARGETS[@]}"; do
    echo "$t" | sed 's/\*\*//g'
done
if [ -n "$SPREAD_TEXT" ]; then
    warn "rounds disagree by 10 % or more (max - min over median: $SPREAD_TEXT): other work" \
        "disturbed the run; rerun on a quieter machine before trusting the ratios"
fi
echo "(Mpps = TX packets per second summed over both ports; CPUs ${BUSY_START} % busy before the run;" \
    "load average $LOAD_START at start, $LOAD_END at end)"

# ---------------------------------------------------------------------------------------------
# perf/RESULTS.md

# The configuration up to its first generated table entry, and how many entries follow.
config_text() {
    local file=$1
    awk '
        /^\[\[(binding|profile|home_agent6?\.security_association)\]\]/ { kind = $0; count[kind]++ }
        /^\[/ && !/^\[\[(binding|profile|home_agent6?\.security_association)\]\]/ { kind = "" }
        # Everything but the generated entries, and the first entry of each kind.
        kind == "" || count[kind] == 1 { lines[++n] = $0 }
        END {
            while (n > 0 && lines[n] == "") n--
            for (i = 1; i <= n; i++) print lines[i]
            for (k in count) if (count[k] > 1) {
                printf "\n# ... %d more %s sections like the first (see mobility-gen)\n", count[k] - 1, k
            }
        }' "$file"
}

if [ "$WRITE" -eq 1 ]; then
    HEADING="## Mobility paths (net_null, template frames, 1 worker core)"
    # A storm run chosen with --only keeps its own section, so that it does not replace the
    # last run of all the mobility paths (a default run has the storm in the main section).
    if [ -n "$ONLY" ] && any_storm; then
        HEADING="## Mobility paths under a registration storm (net_null, template frames, 1 worker core)"
    fi
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
        echo "Written by \`perf/mobility.sh\` ($MODE_TEXT mode) on $START_DATE: $REPEATS round(s) of the $NC"
        echo "contenders, ${DURATION} s each after discarding $WARMUP stats period(s) of ${PERIOD} s as warm-up;"
        echo "the starting contender rotates each round; median of the rounds. One worker core: the"
        echo "figures are per-core Mpps."
        echo
        for t in "${TARGETS[@]}"; do
            echo "- $t"
        done
        echo
        echo "| contender | Mpps (median) | ns/packet | vs mipdp forwarder | vs testpmd mac | vs testpmd io | runs (Mpps) |"
        echo "|---|---:|---:|---:|---:|---:|---|"
        for who in "${CONTENDERS[@]}"; do
            echo "| ${LABEL[$who]} | $(fmt2 "$(med "$who")") | $(ns_per_packet "$(med "$who")") | $(ratio "$(med "$who")" "$FWD") | $(ratio "$(med "$who")" "$MAC") | $(ratio "$(med "$who")" "$IO") | $(runs_text "$who") |"
        done
        echo
        echo "Mpps = packets transmitted per second summed over both ports, from each program's own"
        echo "rate lines (testpmd's per-port \`Tx-pps\`, mipdp's \`tx_pps\`), averaged over the periods after"
        echo "the warm-up; ns/packet = 1000 / Mpps, the worker core's time per packet. \"vs mipdp"
        echo "forwarder\" divides by the forwarder on the same templates (the targets' base)."
        echo
        if any_storm; then
            echo "Registration storm (medians over the rounds, per second of the measured periods; the"
            echo "storm contenders' Mpps above are data packets forwarded: the requests are punted to the"
            echo "control thread, never forwarded, and not in the workers' TX counts):"
            echo
            echo "| $(echo "$STORM_HEAD" | sed 's/|/ | /g') |"
            echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            storm_rows ' | ' | sed 's/^ //; s/ $//'
            echo
            echo "The worker's share of its core (its thread's on-CPU time from /proc schedstat over the"
            echo "measured periods; the rest went to other processes on core $WORKER_CORE):"
            echo
            for t in "${STORM_CPU[@]}"; do
                echo "- $t"
            done
            echo
            echo "- One frame in $STORM_EVERY of port 0's templates is a MIPv4 Registration Request (RFC 5944"
            echo "  §3.3, UDP 434 to the home agent 192.0.2.1, Mobile-Home Authentication Extension with"
            echo "  HMAC-MD5, SPI 256) from one of $STORM_MOBILES mobiles (home addresses 10.200.0.1 up, their own"
            echo "  security associations) in turn; port 1 carries ha-1k's templates unchanged, so requests"
            echo "  arrive from one port in the order written. The data frames are ha-1k's traffic to the"
            echo "  same $(human "$BINDINGS_SMALL") static bindings; the storm's mobiles add their own registered bindings."
            echo "- ha-1k-storm: valid authenticators. Each mobile's care-of address alternates between two,"
            echo "  so every accepted request moves its binding: authentication, the identification check,"
            echo "  the binding change, an update to the worker, and the reply once the worker applied it."
            echo "  Replay protection is timestamps with \`timestamp_tolerance_s = 2^32\` (a benchmark"
            echo "  setting: the clock check always passes) while freshness is checked as always: mobile m's R"
            echo "  requests per template cycle carry identifications k × 2^64 / R, which the home agent's"
            echo "  modulo-2^64 comparison sees as ever later, also when the list wraps (\`replayed/s\` shows"
            echo "  any that were not, e.g. after a punt queue overflow skipped half a mobile's cycle)."
            echo "- ha-1k-storm6: the same with Mobile IPv6 Binding Updates (RFC 6275 §6.1.7) to the IPv6"
            echo "  home agent 2001:db8:6e::1 from $STORM_MOBILES mobiles (home addresses 2001:db8:6e::1:1 up), each"
            echo "  with the Home Address option, the Replay Protection option and the MN-HA Mobility Message"
            echo "  Authentication option (RFC 4285, HMAC-SHA1-96, SPI 256), written byte by byte by"
            echo "  mobility-gen. Each accepted update moves the binding between two care-of addresses and is"
            echo "  answered by a Binding Acknowledgement with a type 2 routing header once the worker applied"
            echo "  it. Timestamps k × 2^64 / R with \`timestamp_tolerance_s = 2^32\` as above; sequence numbers"
            echo "  k × 2^16 / R, each \"greater\" modulo 2^16 (RFC 6275 §9.5.1) also when the list wraps."
            echo "- ha-1k-flood: the same requests with a bogus authenticator (first byte inverted): each"
            echo "  costs the control thread the HMAC before code 131; the error replies are rate-limited"
            echo "  (100/s, burst 20)."
            echo "- \"requests punted or not\" = handled + not punted: the storm offered to the control thread."
            echo "  When the punt queue was full, the workers dropped requests (\`punt_full\`) instead of"
            echo "  stalling: then \"accepted/s\" is the control thread's capacity, end to end on core $MAIN_CORE."
            echo
        fi
        echo "What each contender does per packet:"
        echo
        echo "- testpmd io / mac: receive and transmit (mac: plus the Ethernet address rewrite); they"
        echo "  never touch the frame's bytes otherwise and **do not pay the template copy**, so every"
        echo "  mipdp figure's ratio to testpmd is conservative."
        echo "- mipdp forwarder, no template: testpmd mac's work through mipdp's worker loop (what"
        echo "  \`perf/forwarder.sh\` measures). The gap to \"mipdp forwarder\" is the cost of the"
        echo "  template source itself."
        echo "- mipdp forwarder: the same on the $(human "$BINDINGS_LARGE")-binding home agent's templates."
        echo "- mipdp HA: IPv4 packets for bound home addresses (64-byte IPv4/UDP packets, 78-byte frames),"
        echo "  classified by the service profiles (one node-destination profile per home address),"
        echo "  looked up in the bindings, tunnelled IPv4-in-IPv4 (RFC 2003) to the care-of address,"
        echo "  routed and framed. The templates visit the home addresses in a scattered order: with"
        echo "  $(human "$BINDINGS_LARGE") bindings each once per $(human "$FRAMES") frames, with $(human "$BINDINGS_SMALL") each $((FRAMES / BINDINGS_SMALL)) times."
        echo "- mipdp MAP: IPv6-in-IPv6 (40-byte outer header around a 64-byte IPv6/UDP packet, 118-byte"
        echo "  frames) to the MAP's address, decapsulated by the MAP role's profile, searched again, and"
        echo "  tunnelled IPv6-in-IPv6 (RFC 2473, with the Tunnel Encapsulation Limit option) to the LCoA"
        echo "  of the RCoA's binding ($(human "$BINDINGS_SMALL") bindings)."
        echo "- mipdp HA + TOS: the $(human "$BINDINGS_SMALL")-binding home agent's traffic sent from correspondents"
        echo "  that $(human "$PROFILES") AAA-source profiles (half exact addresses, half \`A.B.C.*\` wildcards) mark"
        echo "  with a DSCP before tunnelling by the binding; every packet hits one of them."
        echo
        echo "The template source (\`[[port]] rx_template_pcap\`, a benchmark aid): net_null hands out"
        echo "buffers holding whatever they held, so each frame a mipdp worker receives is overwritten"
        echo "with the next frame of a pcap written by \`mobility-gen\` ($(human "$FRAMES") frames per pcap, loaded"
        echo "at start, cycled): one memcpy per packet, the same for every mipdp contender (net_null's"
        echo "size is set to the template length, so no length change). Every template list has the"
        echo "same number of frames, so the 1k and 1M home agents read their templates from memory"
        echo "alike and differ only by their tables."
        echo
        echo "- CPU: $CPU_MODEL; online CPUs $ONLINE_CPUS; kernel $(uname -srm)"
        echo "- Cores: DPDK main lcore / mipdp control thread on core $MAIN_CORE, forwarding (testpmd's"
        echo "  forwarding lcore, mipdp's single worker) on core $WORKER_CORE"
        echo "- Ports: two net_null virtual devices, copy=0, size = the template frame length (78 B;"
        echo "  118 B for the MAP); 16384 mbufs of 2176 bytes, per-lcore cache 250, burst 32 in every"
        echo "  contender"
        echo "- DPDK $DPDK_VERSION (Debian package); mipdp at commit $COMMIT"
        if wants ha-1m && [ -n "${STARTUP[ha-1m]:-}" ]; then
            echo "- Start-up of the $(human "$BINDINGS_LARGE")-binding home agent (configuration parsed, tables"
            echo "  installed, first stats period over): ${STARTUP[ha-1m]} s in round 1"
        fi
        if [ -n "$SPREAD_TEXT" ]; then
            echo "- **Disturbed run**: rounds disagree by 10 % or more (max − min over median: $SPREAD_TEXT);"
            echo "  other work shared the machine. The median resists one disturbed round, but read small"
            echo "  differences with care."
        fi
        for w in "${WARNINGS[@]}"; do
            echo "- Warning: $w"
        done
        echo "- Machine activity: CPUs ${BUSY_START} % busy in the second before the run; load average"
        echo "  (1/5/15 min) $LOAD_START at start, $LOAD_END at end (the benchmark itself keeps one core busy)"
        if [ "$REALTIME" -eq 1 ]; then
            echo "- \`--realtime\`: each contender's forwarding thread ran under SCHED_FIFO priority 1, ahead"
            echo "  of the other work on its core (which still gets 5 % of each second)"
        fi
        echo
        echo "Commands (round 1; every process gets its own \`--file-prefix\`):"
        echo
        echo '```'
        for who in "${CONTENDERS[@]}"; do
            echo "${FIRST_CMD[$who]}" | sed "s#$DATA/##g"
        done
        echo '```'
        echo
        echo "Templates and configurations:"
        echo
        echo '```'
        for who in "${CONTENDERS[@]}"; do
            [ -n "${GEN_CMD[$who]:-}" ] && echo "${GEN_CMD[$who]}" | sed "s#$DATA/##g; s#$WORK/##g"
        done
        echo '```'
        for who in "${CONTENDERS[@]}"; do
            [ -n "${CONFIG[$who]:-}" ] || continue
            echo
            echo "$(basename "${CONFIG[$who]}"):"
            echo
            echo '```toml'
            config_text "${CONFIG[$who]}" | sed "s#$WORK/##g"
            echo '```'
        done
        echo
        echo "Caveats: the machine is a shared 2-core VM: core 1 forwards and core 0 carries the main"
        echo "lcore and everything else (other builds, tests and a niced fuzzer may run at the same"
        echo "time, and a busy core 0 also takes from core 1's host). Runs can differ by 10 % or more:"
        echo "compare the runs column and the load average before reading much into small"
        echo "differences. net_null is not a NIC: these figures are per-packet CPU costs of each"
        echo "forwarding loop, not wire or PCIe throughput."
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
    echo "logs, configurations and templates in $LOG_DIR"
fi

if [ "$CHECK" -eq 1 ] && [ "$MISSED" -eq 1 ]; then
    echo "$PROG: a target was missed" >&2
    exit 3
fi
