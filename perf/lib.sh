# Shared by the scripts of perf/ (forwarder, mobility, recovery, restore, kernel-ha6, run);
# sourced, not run. The sourcing script sets PROG (its name in messages) first and calls it
# from the repository root.

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

warn() {
    echo "$PROG: warning: $*" >&2
}

step() { printf '==> %s\n' "$*"; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

need_value() {
    [ "$#" -ge 2 ] && [ -n "$2" ] || die "option $1 needs a value (see --help)"
}

# Expands a CPU list such as "0-3,8" into one number per line.
expand_cpulist() {
    local part
    local IFS=,
    for part in $1; do
        if [[ "$part" == *-* ]]; then
            seq "${part%-*}" "${part#*-}"
        else
            echo "$part"
        fi
    done
}

# Stops process $1: SIGTERM (both testpmd and mipdp stop cleanly and print final counters on
# it, and unlike SIGINT it is not ignored by a background job before the program installs its
# handler), then SIGKILL after 10 s.
stop_process() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "process $pid did not stop within 10 s of SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# realtime_thread PID NAME: puts process PID's thread named NAME under SCHED_FIFO 1 (the
# scripts' --realtime) and prints its thread id; prints nothing while no such thread exists.
realtime_thread() {
    local t
    for t in /proc/"$1"/task/*; do
        if [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ]; then
            chrt -f -p 1 "${t##*/}" 2>/dev/null && echo "${t##*/}"
            return
        fi
    done
}

# DPDK leaves its runtime directory behind; remove ours (the prefix is unique to this run).
remove_runtime_dir() {
    if [ -n "$1" ]; then
        rm -rf "${DPDK_RUNTIME_DIR:?}/$1"
    fi
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]
        else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# How busy the machine is right before the run (all CPUs, over 1 s). The load average alone
# misleads here: it still counts a benchmark that ended a minute ago.
cpu_busy_percent() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        busy = y[1] - x[1]; total = busy + y[2] - x[2]
        printf "%.0f", (total > 0 ? 100 * busy / total : 0) }'
}

# Prints, one line per stats period, the TX packets per second summed over both ports.
# testpmd prints a "NIC statistics for port P" block per port each period, with "Tx-pps: N";
# its first print comes at start-up and shows 0 (nothing to compare with yet).
rates_testpmd() {
    awk '
        /Port statistics ====/ { split("", v); n = 0; next }
        /NIC statistics for port/ {
            for (i = 1; i < NF; i++) if ($i == "port") p = $(i + 1)
            next
        }
        /Tx-pps:/ {
            if (!(p in v)) n++
            v[p] = $2
            if (n == 2) { s = 0; for (k in v) s += v[k]; printf "%.0f\n", s; split("", v); n = 0 }
        }
    ' "$1"
}

# mipdp prints "stats elapsed=E port=X rx=.. tx=.. rx_pps=.. tx_pps=N" per port, then
# "stats drops ..." to end the period.
rates_mipdp() {
    awk '
        /^stats elapsed=/ {
            for (i = 2; i <= NF; i++) if (index($i, "tx_pps=") == 1) s += substr($i, 8)
            n++
            next
        }
        /^stats drops/ { if (n == 2) printf "%.0f\n", s; s = 0; n = 0 }
    ' "$1"
}

# write_section FILE HEADING SECTION_FILE: replaces the section of markdown FILE that starts
# at the line HEADING (up to the next "# " or "## " heading outside a ``` block) with
# SECTION_FILE's text, or appends it when FILE has no such heading; the other sections are
# kept.
write_section() {
    local file=$1 head=$2 section=$3 tmp
    tmp=$(mktemp "${TMPDIR:-/tmp}/results.XXXXXX")
    awk -v head="$head" -v secfile="$section" '
        BEGIN { while ((getline line < secfile) > 0) sec = sec line "\n" }
        # A heading ends the section only outside a code block: the configurations
        # quoted in a section have "# ..." comment lines.
        /^```/ { fence = !fence }
        $0 == head && !fence { printf "%s", sec; skip = 1; done = 1; next }
        skip && !fence && /^##? / { skip = 0 }
        !skip { print }
        { last = $0 }
        END { if (!done) printf "%s%s", (NR > 0 && last != "" ? "\n" : ""), sec }
    ' "$file" >"$tmp"
    cp "$tmp" "$file"
    rm -f "$tmp"
    echo "wrote $file ($head)"
}
