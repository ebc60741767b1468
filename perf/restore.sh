#!/usr/bin/env bash
# Restore on restart (issue 6): mipdp's Mobile IPv6 home agent is started on a backup of N
# bindings (written by recovery-gen, as perf/recovery.sh does) and its own log says how long
# after it opened the backup every binding was read, checked and installed on every worker
# ("... N restored; read, checked and installed into every worker X after opening the file
# (restore Y)").
# The backup file is copied fresh and synced to disk before each start, so no round starts
# on a file still being written back. Two net_null ports; one worker core; the control
# thread on the main core. Prints a table and writes it into perf/RESULTS.md (its own
# section; others are kept).
#
# Usage: perf/restore.sh [--quick] [--bindings N] [--repeats K]
#        perf/restore.sh --help
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROG=perf/restore.sh
# shellcheck source=perf/lib.sh
source perf/lib.sh

usage() {
    cat <<EOF2
Usage: $PROG [options]

  --quick          100,000 bindings, 2 starts (defaults otherwise: 1,000,000, 5)
  --bindings N     bindings in the backup
  --repeats K      starts; the median is reported
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

QUICK=0
BINDINGS=""
REPEATS=""
MAIN_CORE=0
WORKER_CORE=1
BUILD=1
WRITE=1
RESULTS=perf/RESULTS.md

while [ "$#" -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --bindings) need_value "$@"; BINDINGS=$2; shift ;;
        --repeats) need_value "$@"; REPEATS=$2; shift ;;
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
    : "${BINDINGS:=100000}" "${REPEATS:=2}"
else
    : "${BINDINGS:=1000000}" "${REPEATS:=5}"
fi
for v in BINDINGS REPEATS MAIN_CORE WORKER_CORE; do
    is_uint "${!v}" || die "--$(echo "$v" | tr 'A-Z_' 'a-z-') must be a whole number, not '${!v}'"
done
[ "$REPEATS" -ge 1 ] || die "--repeats must be at least 1"

MIPDP=${MIPDP:-${CARGO_TARGET_DIR:-target}/release/mipdp}
RECOVERY_GEN=${RECOVERY_GEN:-${CARGO_TARGET_DIR:-target}/release/recovery-gen}
DPDK_RUNTIME_DIR=/var/run/dpdk
if [ "$BUILD" -eq 1 ]; then
    step "cargo build --release -p mipdp-control -p mipdp-perf --bin mipdp --bin recovery-gen"
    cargo build --release -p mipdp-control -p mipdp-perf --bin mipdp --bin recovery-gen ||
        die "building mipdp or recovery-gen failed (see the compiler output above)"
fi
[ -x "$MIPDP" ] || die "$MIPDP does not exist: build it or set MIPDP"
[ -x "$RECOVERY_GEN" ] || die "$RECOVERY_GEN does not exist: build it or set RECOVERY_GEN"

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/restorebench.XXXXXX")
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

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
step "recovery-gen: a backup of $BINDINGS Mobile IPv6 home agent bindings"
"$RECOVERY_GEN" --config "$WORK/mipdp.toml" --backup "$WORK/original.redb" \
    --pcap "$WORK/frames.pcap" --frames 1000 --bindings "$BINDINGS" --rate 1 \
    --worker-core "$WORKER_CORE" --control-socket "$WORK/mipdp.sock" >/dev/null ||
    die "recovery-gen failed"
# The configuration names $WORK/original.redb; every start gets a fresh copy there.
mv "$WORK/original.redb" "$WORK/pristine.redb"
SIZE_MB=$(($(stat -c %s "$WORK/pristine.redb") / 1000000))

TOTALS=()
RESTORES=()
for round in $(seq 1 "$REPEATS"); do
    cp "$WORK/pristine.redb" "$WORK/original.redb"
    sync "$WORK/original.redb"
    prefix="restorebench-$$-r$round"
    log="$WORK/r$round.log"
    CUR_PREFIX=$prefix
    "$MIPDP" run --config "$WORK/mipdp.toml" -- --no-huge -m 512 --no-pci \
        --file-prefix "$prefix" --vdev "net_null0,size=78,copy=0" \
        --vdev "net_null1,size=78,copy=0" -l "$MAIN_CORE" </dev/null >"$log" 2>&1 &
    CUR_PID=$!
    line=""
    for _ in $(seq 1 600); do
        line=$(grep -m1 "installed into every worker" "$log" || true)
        [ -n "$line" ] && break
        kill -0 "$CUR_PID" 2>/dev/null || break
        sleep 0.2
    done
    stop_process "$CUR_PID"
    CUR_PID=""
    remove_runtime_dir "$prefix"
    [ -n "$line" ] || { cat "$log" >&2; die "round $round: mipdp did not report its restore (log above)"; }
    # "... X after opening the file (restore Y)", each a Rust Duration (1.23s, 950.1ms).
    secs() { awk -v d="$1" 'BEGIN { if (d ~ /ms$/) { sub(/ms$/, "", d); print d / 1000 } else { sub(/s$/, "", d); print d + 0 } }'; }
    total=$(secs "$(sed -E 's/.* every worker ([0-9.]+m?s) after opening.*/\1/' <<<"$line")")
    restore=$(secs "$(sed -E 's/.*\(restore ([0-9.]+m?s)\).*/\1/' <<<"$line")")
    restored=$(sed -E 's/.* ([0-9]+) restored; read, checked.*/\1/' <<<"$line")
    [ "$restored" = "$BINDINGS" ] || die "round $round: $restored of $BINDINGS bindings restored: $line"
    echo "round $round: $restored bindings read, checked and installed in ${total} s (of which ${restore} s after DPDK started)"
    TOTALS+=("$total")
    RESTORES+=("$restore")
done

MEDIAN=$(median "${TOTALS[@]}")
MEDIAN_R=$(median "${RESTORES[@]}")
TABLE=$(
    echo "| bindings (backup file) | read, checked and installed on every worker: median | starts (s), in order | of which after DPDK started: median | target (median) |"
    echo "|---:|---:|---|---:|---|"
    echo "| $BINDINGS ($SIZE_MB MB) | **$MEDIAN s** | ${TOTALS[*]} | $MEDIAN_R s | < 3 s: $(awk -v m="$MEDIAN" 'BEGIN { print (m < 3 ? "met" : "missed") }') |"
)
echo
echo "$TABLE"

if [ "$WRITE" -eq 1 ]; then
    HEADING="## Restore on restart: mipdp run on a backup (perf/restore.sh)"
    SECTION=$WORK/section.md
    {
        echo "$HEADING"
        echo
        echo "Written by \`perf/restore.sh$([ "$QUICK" -eq 1 ] && echo " --quick")\` on $(date -u '+%Y-%m-%d %H:%M UTC') (load average before: $LOAD)."
        echo "\`mipdp run\` as a Mobile IPv6 home agent (one worker on core $WORKER_CORE, the control thread"
        echo "on core $MAIN_CORE, two net_null ports) started $REPEATS times on a backup of $BINDINGS bindings;"
        echo "each time a fresh copy of the file, synced to disk first. The time is mipdp's own, from"
        echo "its log: from opening the backup (before DPDK starts) until every record was read and"
        echo "checked, every binding was back in the home agent's state and installed on every worker;"
        echo "the workers start forwarding right after. The second figure is the part after DPDK"
        echo "started (the reader thread began before it)."
        echo
        echo "$TABLE"
        echo
        echo "How: the file is read and checked on a thread of its own, in chunks of 8192 records,"
        echo "while the control thread puts each chunk back into the home agent's state and each"
        echo "worker's engine applies the resulting updates on a thread of its own (on its worker's"
        echo "core, idle until the workers start). A shared 2-core VM: first-touch page faults of"
        echo "fresh memory are a large part of the cost and vary with the host; runs differ. The"
        echo "first start of a run has been the slowest every time (3.2-4.2 s): after the VM idles"
        echo "its host takes back free guest memory, and faulting it in again is slow (checked by"
        echo "hand: touching 3 GB took 6.6 s of kernel time, ~0.45 GB/s, and a start right after"
        echo "that took 1.85 s, like the later ones). On a server whose memory no hypervisor takes"
        echo "back, every start is like the later ones."
        echo
    } >"$SECTION"
    write_section "$RESULTS" "$HEADING" "$SECTION"
fi
