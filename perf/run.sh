#!/usr/bin/env bash
# The whole performance harness in one command (issue 7): every benchmark of perf/ in one run,
# on the same cores, each writing its own section of perf/RESULTS.md, then the PNG plots.
#
#   sudo perf/run.sh            the full run (about 30-60 minutes on the 2-core VM)
#   sudo perf/run.sh --quick    every contender briefly, under two minutes: what CI runs
#                               (scripts/test.sh) so the harness cannot rot
#
# In order: the forwarder floor against dpdk-testpmd io/mac (forwarder.sh), restore of a
# backup on restart (restore.sh: 1M bindings, 100k in --quick), the mobility
# paths (mobility.sh: home agent 1k/1M, MAP, TOS, registration storms; full run only, as
# its shortest run takes minutes), the cost growth of every tunnel path against bindings
# and packet size (growth.sh), the IPv6 and IPv4 home agents beside the Linux kernel with
# the RFC 2544 no-drop rate, latency and the scaling curves (kernel-ha6.sh: SRv6 routes;
# kernel-ha4.sh: ipip, gre and minimal, the kernel's routing + a BPF lightweight tunnel),
# the control-plane figures (benches signalling, update_burst, backup), and the plots
# (plot.sh).
#
# No step asserts a timing. --quick fails only when a contender produced no figures or a
# counter check failed (a packet that fails mipdp-pktgen's receive checks, a contender that
# did not start, a benchmark that errors).
set -euo pipefail
PROG=run.sh
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=perf/lib.sh
. perf/lib.sh

QUICK=0
WRITE=1
RESULTS=perf/RESULTS.md
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --no-write) WRITE=0 ;;
        --results) need_value "$@"; RESULTS=$2; shift ;;
        -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || die "the harness creates network namespaces and DPDK devices: run it as root"
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

WORK=$(mktemp -d /tmp/perf-run.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# In --quick the figures are a smoke test: they go to a scratch RESULTS.md and data
# directory, so CI never rewrites the committed figures.
if [ "$QUICK" -eq 1 ]; then
    cp "$RESULTS" "$WORK/RESULTS.md"
    RESULTS=$WORK/RESULTS.md
    DATA_DIR=$WORK/data
    PLOT_DIR=$WORK/plots
else
    DATA_DIR=perf/data
    PLOT_DIR=perf/plots
fi
WRITE_ARGS=(--results "$RESULTS")
[ "$WRITE" -eq 1 ] || WRITE_ARGS=(--no-write)
Q=()
[ "$QUICK" -eq 1 ] && Q=(--quick)

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')
step "cargo build --release (mipdp, mipdp-pktgen, mobility-gen)"
cargo build --release -q -p mipdp-control -p mipdp-pktgen -p mipdp-perf --bins
cargo bench -q -p mipdp-perf --no-run --bench signalling --bench update_burst --bench backup 2>/dev/null \
    || cargo bench -p mipdp-perf --no-run --bench signalling --bench update_burst --bench backup

STATUS=()
FAILED=0
# run_step NAME COMMAND...: runs it with its output to the terminal and a log, records
# its status and duration.
run_step() {
    local name=$1 t0 rc=0
    shift
    step "$name: $*"
    t0=$(date +%s)
    "$@" 2>&1 | tee "$WORK/$name.log" || rc=${PIPESTATUS[0]}
    STATUS+=("| $name | \`$*\` | $([ "$rc" -eq 0 ] && echo ok || echo "failed ($rc)") | $(($(date +%s) - t0)) |")
    [ "$rc" -eq 0 ] || FAILED=1
}

run_step forwarder perf/forwarder.sh --no-build "${Q[@]}" "${WRITE_ARGS[@]}"
run_step restore perf/restore.sh --no-build "${Q[@]}" "${WRITE_ARGS[@]}"
if [ "$QUICK" -eq 0 ]; then
    run_step mobility perf/mobility.sh --no-build "${WRITE_ARGS[@]}"
    run_step growth perf/growth.sh --no-build --data-dir "$DATA_DIR" "${WRITE_ARGS[@]}"
    run_step kernel-ha6 perf/kernel-ha6.sh --no-build --data-dir "$DATA_DIR" "${WRITE_ARGS[@]}"
    run_step kernel-ha4 perf/kernel-ha4.sh --no-build --data-dir "$DATA_DIR" "${WRITE_ARGS[@]}"
    run_step signalling cargo bench -q -p mipdp-perf --bench signalling
    run_step update_burst cargo bench -q -p mipdp-perf --bench update_burst
    run_step backup cargo bench -q -p mipdp-perf --bench backup
else
    run_step kernel-ha6 perf/kernel-ha6.sh --no-build --quick --data-dir "$DATA_DIR" "${WRITE_ARGS[@]}"
    run_step kernel-ha4 perf/kernel-ha4.sh --no-build --quick --data-dir "$DATA_DIR" "${WRITE_ARGS[@]}"
    run_step growth perf/growth.sh --no-build --quick --data-dir "$DATA_DIR" "${WRITE_ARGS[@]}"
    run_step signalling cargo bench -q -p mipdp-perf --bench signalling -- --mobiles 2000 --rounds 2
    run_step update_burst cargo bench -q -p mipdp-perf --bench update_burst -- --bindings 20000 --rounds 1 --budgets 256
fi
run_step plots perf/plot.sh --data-dir "$DATA_DIR" --out-dir "$PLOT_DIR"

# Every contender produced figures: the plots exist and are PNGs.
for p in ha6-bindings ha6-sizes ha6-latency ha4-bindings ha4-sizes ha4-latency growth-bindings growth-sizes; do
    if [ "$(head -c 4 "$PLOT_DIR/$p.png" 2>/dev/null | tail -c 3)" != PNG ]; then
        warn "$PLOT_DIR/$p.png is missing or not a PNG"
        FAILED=1
    fi
done
for c in ha6:kernel ha6:mipdp ha4:kernel-ipip ha4:mipdp-ipip ha4:kernel-gre ha4:mipdp-gre \
    ha4:kernel-minimal ha4:mipdp-minimal; do
    if ! awk -v c="${c#*:}" '$1 == c && $4 > 0 { found = 1 } END { exit !found }' "$DATA_DIR/${c%%:*}-nodrop.dat" 2>/dev/null; then
        warn "no no-drop figure for ${c#*:} in ${c%%:*}-nodrop.dat"
        FAILED=1
    fi
done

HEADING="## Harness run (perf/run.sh)"
{
    echo "$HEADING"
    echo
    echo "\`perf/run.sh$([ "$QUICK" -eq 1 ] && echo " --quick")\` started $START at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown);"
    echo "load average before the run $LOAD (a 2-core VM shared with other work). Each step's"
    echo "figures are in its own section (forwarder floor, mobility paths, IPv6 and IPv4 home agents"
    echo "beside the kernel); the control-plane benchmarks print theirs below."
    echo
    echo "| step | command | status | seconds |"
    echo "|---|---|---|---:|"
    printf '%s\n' "${STATUS[@]}"
    echo
    for b in signalling update_burst backup; do
        [ -s "$WORK/$b.log" ] || continue
        echo "\`$b\` (output as printed):"
        echo
        echo '```'
        grep -v '^\s*$' "$WORK/$b.log" | grep -v '^Benchmarking\|^Gnuplot\|^Warning' | tail -40
        echo '```'
        echo
    done
} >"$WORK/section.md"
if [ "$WRITE" -eq 1 ]; then
    write_section "$RESULTS" "$HEADING" "$WORK/section.md"
fi
cat "$WORK/section.md"
[ "$FAILED" -eq 0 ] || die "a step failed or a contender produced no figures (see above)"
echo "$PROG: every step ran and every contender produced figures"
