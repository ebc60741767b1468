# Shared by the demos (scripts/demo.sh, scripts/demo-forwarder.sh); sourced, not run.
#
# Before sourcing, a demo sets DEMO (its name in messages), NAMESPACES and TAPS (arrays),
# and MIPDP. This file checks the machine, sets up the cleanup (helper processes, mipdp,
# the namespaces, the DPDK runtime directory, the temporary directory $tmp) on any exit,
# removes leftovers of an earlier run and provides say, die, stop_pid, start_mipdp and
# check_mipdp.

FILE_PREFIX="mipdp-demo-$$"

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\n%s: error: %s\n' "$DEMO" "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] \
    || die "the demo creates network namespaces and DPDK tap devices: run it as root (e.g. 'sudo make demo')"
[ -x "$MIPDP" ] || die "$MIPDP not found: build it first ('make build' or 'cargo build --release')"
for tool in ip ping python3 sysctl; do
    command -v "$tool" >/dev/null 2>&1 \
        || die "'$tool' not found (Debian: apt-get install iproute2 iputils-ping python3 procps)"
done
[ -e /dev/net/tun ] || die "/dev/net/tun is missing: DPDK's net_tap needs the tun module (modprobe tun)"

tmp=""
mipdp_pid=""
helper_pids=()

stop_pid() { # pid signal seconds: signal, wait up to seconds, then SIGKILL
    local pid=$1 sig=$2 secs=$3 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "$DEMO: process $pid ignored SIG$sig for ${secs}s: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    for pid in "${helper_pids[@]}"; do
        stop_pid "$pid" TERM 2
    done
    if [ -n "$mipdp_pid" ]; then
        stop_pid "$mipdp_pid" TERM 10
        wait "$mipdp_pid" 2>/dev/null
    fi
    for ns in "${NAMESPACES[@]}"; do
        ip netns delete "$ns" 2>/dev/null
    done
    rm -rf "/var/run/dpdk/$FILE_PREFIX"
    [ -n "$tmp" ] && rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Leftovers of an earlier run that was killed before it could clean up.
for ns in "${NAMESPACES[@]}"; do
    if ip netns list | awk '{ print $1 }' | grep -qx "$ns"; then
        echo "removing namespace $ns left by an earlier run"
        ip netns delete "$ns"
    fi
done
for tap in "${TAPS[@]}"; do
    if ip link show dev "$tap" >/dev/null 2>&1; then
        die "interface $tap already exists: is another demo (or a mipdp using it) still running?"
    fi
done

tmp=$(mktemp -d /tmp/mipdp-demo.XXXXXX)

# start_mipdp CONFIG: runs mipdp with CONFIG on two DPDK tap ports named by TAPS, output
# in $tmp/mipdp.out and $tmp/mipdp.err, and waits until it runs (30 s at most).
start_mipdp() {
    local config=$1 i
    "$MIPDP" run --config "$config" -- \
        --no-huge -m 512 --no-pci --file-prefix "$FILE_PREFIX" \
        --vdev "net_tap0,iface=${TAPS[0]}" --vdev "net_tap1,iface=${TAPS[1]}" \
        >"$tmp/mipdp.out" 2>"$tmp/mipdp.err" &
    mipdp_pid=$!
    for ((i = 0; i < 300; i++)); do
        grep -q '^mipdp: running' "$tmp/mipdp.out" && break
        if ! kill -0 "$mipdp_pid" 2>/dev/null; then
            cat "$tmp/mipdp.err" >&2
            mipdp_pid=""
            die "mipdp exited during start-up (its output is above)"
        fi
        sleep 0.1
    done
    grep -q '^mipdp: running' "$tmp/mipdp.out" \
        || { cat "$tmp/mipdp.err" >&2; die "mipdp did not start within 30 s"; }
}

check_mipdp() {
    if ! kill -0 "$mipdp_pid" 2>/dev/null; then
        grep '^final ' "$tmp/mipdp.out" >&2 || tail -n 5 "$tmp/mipdp.err" >&2
        mipdp_pid=""
        die "mipdp stopped unexpectedly (interrupted?)"
    fi
}
