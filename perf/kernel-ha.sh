#!/usr/bin/env bash
# A home agent of mipdp side by side with the Linux kernel doing the same job, for N
# home-address bindings, both on the same veth / tap topology, fed and checked by the same
# mipdp-pktgen. perf/kernel-ha6.sh and perf/kernel-ha4.sh run it with --family 6 and 4.
#
# This kernel has no ipip / gre / ip6tnl / sit devices (CONFIG_NET_IPIP, CONFIG_NET_IPGRE and
# CONFIG_IPV6_TUNNEL are not set: `ip link add x type ipip` answers "Unknown device type"),
# so the kernel home agent is built from what it has:
#   --family 6  IPv6-in-IPv6 from SRv6: `ip -6 route add <home>/128 encap seg6 mode encap.red
#               segs <care-of> dev d1` per binding; with a single segment encap.red adds a
#               plain IPv6 header (next header 41, no SRH).
#   --family 4  the kernel's routing + a BPF lightweight tunnel: one route for the home
#               prefix, `ip route add 10.0.0.0/8 encap bpf xmit obj ha4.o section <method>
#               via <next hop> dev d1`, whose program (perf/bpf/ha4.c) looks the destination
#               up in a BPF hash map home address -> care-of address (the bindings, loaded
#               with bpftool) and tunnels the packet: IPv4-in-IPv4 (RFC 2003) and GRE
#               (RFC 2784) with bpf_lwt_push_encap and BPF_LWT_REROUTE (the kernel routes
#               the outer packet), minimal encapsulation (RFC 2004) with
#               bpf_skb_change_head and stores (BPF_OK: out by the route's next hop).
#
# Measured per method, contender (kernel, mipdp) and number of bindings:
#   - the throughput at full offered load (ns per forwarded packet) for each packet size;
#   - the no-drop rate, by binary search as RFC 2544 §26.1 does it: a trial at a rate, any
#     loss (or any packet that fails pktgen's checks) → lower, none → higher, until the
#     step is below the resolution;
#   - latency percentiles (pktgen's hdrhistogram: p50, p99, p99.9, max) at 10, 50 and 90 %
#     of the no-drop rate.
# Writes its section of perf/RESULTS.md and a data file per figure for perf/plot.sh.
set -euo pipefail
PROG=${PROG:-kernel-ha.sh}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=perf/lib.sh
. perf/lib.sh

usage() {
    cat <<'EOF'
Usage: perf/kernel-ha.sh --family 4|6 [options]   (as root; or perf/kernel-ha4.sh, kernel-ha6.sh)

A home agent of mipdp beside the Linux kernel's, both behind the same two veth pairs, fed by
the same mipdp-pktgen (net_af_packet). --family 6: IPv6-in-IPv6 (the kernel: SRv6 encap.red
routes); --family 4: IPv4-in-IPv4, GRE and minimal encapsulation (the kernel: its routing and
a BPF lightweight tunnel, perf/bpf/ha4.c, on the home prefix's route).

  --family 4|6         which home agent (required)
  --quick              1k bindings, the smallest size and imix, 0.5 s trials, 4 search steps
                       (--family 4, three methods: size 64 only, 0.25 s trials, 3 steps,
                       latency at 50 %)
  --bindings "N ..."   binding counts (default "1000 100000 1000000")
  --methods "M ..."    --family 4: of ipip gre minimal (default all three)
  --sizes "S ..."      frame sizes without FCS, or imix (default --family 6: "82 128 512 1466
                       imix": 82 is the smallest IPv6 probe, 1466 the largest whose tunnelled
                       packet fits MTU 1500 with the 8-byte Tunnel Encapsulation Limit option
                       mipdp adds (RFC 2473); --family 4: "64 128 512 1490 imix", 1490 the
                       largest whose GRE packet fits MTU 1500; imix's 1514-byte frames, one
                       in 12, fit no tunnel and are refused by both)
  --trial S            seconds per trial (default 2)
  --steps N            binary search steps for the no-drop rate (default 7)
  --gen-core C         core of the generator (default 0)
  --dut-core C         core of mipdp's worker and of the kernel's receive processing (RPS)
                       (default 1)
  --contenders "..."   kernel and/or mipdp (default both)
  --mipdp-port P       af_xdp (default): mipdp on the same veths d0/d1 as the kernel
                       (net_af_xdp, copy mode), fed through the same generator ports g0/g1;
                       tap: mipdp on two net_tap ports d0/d1 (a read and a write system call
                       per frame), the generator on the taps' kernel side
  --xdp-napi W         af_xdp: where d0's receive (the XDP redirect into mipdp's socket) runs:
                       dut (default), a NAPI thread pinned to the DUT core, so that all of
                       the home agent's work is on that core as the kernel's is; gen, in the
                       generator's send on its core (the veth's default: fewer cycles on the
                       DUT core for mipdp than for the kernel)
  --data-dir DIR       where the figures go for perf/plot.sh (default perf/data)
  --results FILE       RESULTS.md to update (default perf/RESULTS.md); --no-write: none
  --no-build           do not run cargo build
EOF
}

FAMILY=
BINDINGS="1000 100000 1000000"
METHODS=
SIZES=
TRIAL=2
STEPS=7
LATENCY_POINTS="10 50 90"
GEN_CORE=0
DUT_CORE=1
CONTENDERS="kernel mipdp"
MIPDP_PORT=af_xdp
XDP_NAPI=dut
DATA_DIR=perf/data
RESULTS=perf/RESULTS.md
WRITE=1
BUILD=1
QUICK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; BINDINGS=1000; TRIAL=0.5; STEPS=4 ;;
        --family) need_value "$@"; FAMILY=$2; shift ;;
        --bindings) need_value "$@"; BINDINGS=$2; shift ;;
        --methods) need_value "$@"; METHODS=$2; shift ;;
        --sizes) need_value "$@"; SIZES=$2; shift ;;
        --trial) need_value "$@"; TRIAL=$2; shift ;;
        --steps) need_value "$@"; STEPS=$2; shift ;;
        --gen-core) need_value "$@"; GEN_CORE=$2; shift ;;
        --dut-core) need_value "$@"; DUT_CORE=$2; shift ;;
        --contenders) need_value "$@"; CONTENDERS=$2; shift ;;
        --mipdp-port) need_value "$@"; MIPDP_PORT=$2; shift ;;
        --xdp-napi) need_value "$@"; XDP_NAPI=$2; shift ;;
        --data-dir) need_value "$@"; DATA_DIR=$2; shift ;;
        --results) need_value "$@"; RESULTS=$2; shift ;;
        --no-write) WRITE=0 ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
# What differs between the two home agents: method(s), sizes, addresses; and how the
# kernel is made one (kernel_up4, kernel_up6).
case "$FAMILY" in
    6)
        [ -z "$METHODS" ] || [ "$METHODS" = ip6ip6 ] || die "--family 6 has one method, ip6ip6"
        METHODS=ip6ip6
        SMALLEST=82
        DEFAULT_SIZES="82 128 512 1466"
        AGENT=2001:db8:ffff::1
        NEXT_HOP=2001:db8:ffff::fe
        HOME_PREFIX=2001:db8:100::/40
        DEFAULT_ROUTE=::/0
        ;;
    4)
        METHODS=${METHODS:-ipip gre minimal}
        for m in $METHODS; do
            case "$m" in ipip | gre | minimal) ;; *) die "--methods: $m is not ipip, gre or minimal" ;; esac
        done
        SMALLEST=64
        DEFAULT_SIZES="64 128 512 1490"
        AGENT=192.0.2.1
        NEXT_HOP=192.0.2.254
        HOME_PREFIX=10.0.0.0/8
        DEFAULT_ROUTE=0.0.0.0/0
        # Three methods: the quick run stays short with shorter trials, fewer steps and one
        # latency point.
        if [ "$QUICK" -eq 1 ]; then TRIAL=0.25; STEPS=3; LATENCY_POINTS=50; QUICK_SIZES=64; fi
        ;;
    *) die "--family 4 or --family 6 is needed (see --help)" ;;
esac
if [ -z "$SIZES" ]; then
    if [ "$QUICK" -eq 1 ]; then SIZES=${QUICK_SIZES:-"$SMALLEST imix"}; else SIZES="$DEFAULT_SIZES imix"; fi
fi
TAG=ha$FAMILY
case "$MIPDP_PORT" in af_xdp | tap) ;; *) die "--mipdp-port: $MIPDP_PORT is not af_xdp or tap" ;; esac
case "$XDP_NAPI" in dut | gen) ;; *) die "--xdp-napi: $XDP_NAPI is not dut or gen" ;; esac
[ "$(id -u)" -eq 0 ] || die "this creates network namespaces: run it as root"
is_uint "$STEPS" || die "--steps needs a whole number"
for n in $BINDINGS; do is_uint "$n" || die "--bindings: $n is not a number"; done
if [ "$FAMILY" = 4 ] && [[ " $CONTENDERS " == *" kernel "* ]]; then
    for tool in clang bpftool; do
        command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh (as root)"
    done
    [ -e /usr/include/bpf/bpf_helpers.h ] || die "libbpf-dev is missing: run scripts/install-deps.sh (as root)"
fi

PKTGEN=${PKTGEN:-target/release/mipdp-pktgen}
MIPDP=${MIPDP:-target/release/mipdp}
if [ "$BUILD" -eq 1 ]; then
    step "cargo build --release -p mipdp-control -p mipdp-pktgen"
    cargo build --release -q -p mipdp-control -p mipdp-pktgen
fi
{ [ -x "$PKTGEN" ] && [ -x "$MIPDP" ]; } || die "$PKTGEN or $MIPDP missing (build them, or drop --no-build)"

DPDK_RUNTIME_DIR=/var/run/dpdk
ID=$$
NS_GEN=mipdp-perf-gen$ID
NS_DUT=mipdp-perf-dut$ID
WORK=$(mktemp -d "/tmp/kernel-$TAG.XXXXXX")
MIPDP_PID=
PREFIXES=()
MAC_D0=02:00:00:00:01:00
MAC_D1=02:00:00:00:01:01
MAC_G1=02:00:00:00:02:fe
FAILED=0

# The BPF program and its bindings map belong to the route: deleting the namespace frees
# them (nothing is pinned).
cleanup() {
    if [ -n "$MIPDP_PID" ]; then stop_process "$MIPDP_PID"; MIPDP_PID=; fi
    ip netns delete "$NS_GEN" 2>/dev/null || true
    ip netns delete "$NS_DUT" 2>/dev/null || true
    local p
    for p in "${PREFIXES[@]}"; do remove_runtime_dir "$p"; done
    PREFIXES=()
}
trap 'cleanup; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# A contender's name in the data files: kernel / mipdp with one method, kernel-gre etc.
# with several.
label() {
    if [ "$(wc -w <<<"$METHODS")" -eq 1 ]; then echo "$1"; else echo "$1-$2"; fi
}

# Two veth pairs: g0 (generator) → d0 (the home agent's home link), d1 (towards the care-of
# addresses) → g1 (generator's receive side), MTU 1500 like mipdp's taps. d0's receive processing is steered to the DUT core with RPS,
# so the kernel's forwarding runs on the same core as mipdp's worker.
topology() {
    ip netns add "$NS_GEN"
    ip netns add "$NS_DUT"
    ip link add g0 netns "$NS_GEN" type veth peer name d0 netns "$NS_DUT"
    ip link add g1 netns "$NS_GEN" type veth peer name d1 netns "$NS_DUT"
    ip -n "$NS_DUT" link set d0 address "$MAC_D0"
    ip -n "$NS_DUT" link set d1 address "$MAC_D1"
    ip -n "$NS_GEN" link set g1 address "$MAC_G1"
    ip netns exec "$NS_GEN" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    local ns dev
    for ns in "$NS_GEN" "$NS_DUT"; do
        for dev in $(ip -n "$ns" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
            ip -n "$ns" link set "$dev" up
        done
    done
    local mask
    mask=$(printf '%x' $((1 << DUT_CORE)))
    ip netns exec "$NS_DUT" sh -c "echo $mask > /sys/class/net/d0/queues/rx-0/rps_cpus"
    # The generator's receive (g1) on the generator's core, for both contenders: left where
    # the home agent sends into d1 it would be the DUT core's work, and with mipdp it
    # waits for that core's ksoftirqd behind the busy-polling worker and overflows.
    mask=$(printf '%x' $((1 << GEN_CORE)))
    ip netns exec "$NS_GEN" sh -c "echo $mask > /sys/class/net/g1/queues/rx-0/rps_cpus"
}

# The bindings pktgen's address plan uses (mobile i's home address and care-of address),
# as mipdp's static [[binding]]s tunnelled by METHOD.
write_bindings() {
    local n=$1 method=$2 encap=()
    [ "$FAMILY" = 4 ] && encap=(--binding-encap "$method")
    "$PKTGEN" --write-mipdp-config "$WORK/bindings.toml" --workload cn-to-home --family "$FAMILY" \
        --mobiles "$n" --size 128 "${encap[@]}" >/dev/null
}

# The kernel as the IPv6 home agent: one /128 route per home address, each encapsulating
# (SRv6 encap.red, one segment: plain IPv6-in-IPv6) to the care-of address; the care-of
# addresses are reached through the generator's receive side.
kernel_up6() {
    local n=$1
    ip netns exec "$NS_DUT" sysctl -q -w net.ipv6.conf.all.forwarding=1 \
        net.ipv6.conf.d0.accept_ra=0 net.ipv6.conf.d1.accept_ra=0
    ip -n "$NS_DUT" addr add "$AGENT/64" dev d1 nodad
    ip -n "$NS_DUT" -6 neigh replace "$NEXT_HOP" lladdr "$MAC_G1" dev d1 nud permanent
    ip -n "$NS_DUT" -6 route add default via "$NEXT_HOP" dev d1
    ip -n "$NS_DUT" sr tunsrc set "$AGENT"
    write_bindings "$n" ip6ip6
    awk '/^home = / { gsub(/"/, "", $3); h = $3 }
         /^care_of = / { gsub(/[]["]/, "", $3); print "route replace " h "/128 encap seg6 mode encap.red segs " $3 " dev d1" }' \
        "$WORK/bindings.toml" >"$WORK/routes.batch"
    # In chunks: past about 10k seg6 routes in one batch the kernel answers "Cannot allocate
    # memory" (each route's lwtunnel state takes a per-CPU dst cache, and atomic per-CPU
    # allocations fail until the allocator has populated more chunks); a short pause and a
    # retry of the chunk ("replace" is idempotent) gets past it.
    split -l 5000 -d -a 5 "$WORK/routes.batch" "$WORK/routes.part."
    local part try
    for part in "$WORK"/routes.part.*; do
        for try in $(seq 1 50); do
            ip -n "$NS_DUT" -6 -batch "$part" 2>"$WORK/routes.err" && break
            [ "$try" -lt 50 ] || { cat "$WORK/routes.err" >&2; die "installing the kernel's routes failed"; }
            sleep 0.5
        done
    done
    rm -f "$WORK"/routes.part.*
}

# The kernel as the IPv4 home agent: its forwarding (TTL decremented, rp_filter off as the
# correspondent is not routed back through d0), one route for the home prefix whose BPF
# lightweight tunnel (perf/bpf/ha4.c, section METHOD) tunnels each bound home address to
# its care-of address, and a default route to the care-of addresses. The program is
# compiled for this run: the agent's address, the map's size and a map name of this run's
# own (to find its id among other runs' maps).
kernel_up4() {
    local n=$1 method=$2 map=ha4_b$ID id agent_hex
    ip netns exec "$NS_DUT" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d0.rp_filter=0
    ip -n "$NS_DUT" addr add "$AGENT/24" dev d1
    ip -n "$NS_DUT" neigh replace "$NEXT_HOP" lladdr "$MAC_G1" dev d1 nud permanent
    ip -n "$NS_DUT" route add default via "$NEXT_HOP" dev d1
    # shellcheck disable=SC2086 # the four octets as four words
    agent_hex=$(printf '0x%02x%02x%02x%02x' ${AGENT//./ })
    clang -O2 -g -target bpf -I"/usr/include/$(gcc -dumpmachine)" -DHA4_AGENT="$agent_hex" \
        -DHA4_MAX_BINDINGS="$n" -Dha4_bindings="$map" -c perf/bpf/ha4.c -o "$WORK/ha4.o"
    ip -n "$NS_DUT" route add "$HOME_PREFIX" encap bpf xmit obj "$WORK/ha4.o" section "$method" \
        headroom 24 via "$NEXT_HOP" dev d1
    id=$(bpftool map show -j | jq --arg m "$map" '[.[] | select(.name == $m) | .id] | last')
    [ "$id" != null ] || die "the bindings map $map was not found after loading ha4.o"
    write_bindings "$n" "$method"
    awk -v id="$id" '/^home = / { gsub(/"/, "", $3); gsub(/\./, " ", $3); h = $3 }
         /^care_of = / { gsub(/[]["]/, "", $3); gsub(/\./, " ", $3); print "map update id " id " key " h " value " $3 }' \
        "$WORK/bindings.toml" >"$WORK/map.batch"
    bpftool batch file "$WORK/map.batch" >/dev/null
    local loaded
    loaded=$(bpftool map dump id "$id" -j | jq length)
    [ "$loaded" -eq "$n" ] || die "the bindings map holds $loaded entries, not $n"
}

# mipdp in the DUT namespace. --mipdp-port af_xdp: on the kernel's veths d0 and d1 (made by
# topology), with net_af_xdp (an AF_XDP socket per port, bound to the veth's one queue; the
# PMD attaches libxdp's redirect program to it); the generator on g0/g1 as for the kernel.
# --mipdp-port tap: on two net_tap ports d0, d1, the generator opening the same two
# interfaces with net_af_packet from that namespace. (net_af_packet for mipdp itself on the
# veths was tried first: mipdp then asked for a second TX queue, with qpairs=2 the PMD puts
# both queues' sockets into one fanout group, and after an overload the polled queue's RX
# stalled for seconds at a time — no figures worth having. On net_af_xdp, as on net_tap,
# mipdp opens as many TX as RX queues: one per worker.)
mipdp_up() {
    local n=$1 method=$2
    local prefix=k$TAG-$ID-mipdp-$n dev0=net_tap0 dev1=net_tap1 vdevs
    if [ "$MIPDP_PORT" = af_xdp ]; then
        dev0=net_af_xdp0 dev1=net_af_xdp1
        # busy_budget=0: no preferred busy polling (it needs a NIC's interrupt deferral; on
        # these veths the default budget of 64 gave the same figures, checked by hand).
        vdevs=(--vdev "$dev0,iface=d0,busy_budget=0" --vdev "$dev1,iface=d1,busy_budget=0")
        # The kernel keeps no IPv6 of its own on the veths: no router solicitations or
        # neighbour discovery into the run.
        ip netns exec "$NS_DUT" sysctl -q -w net.ipv6.conf.d0.disable_ipv6=1 net.ipv6.conf.d1.disable_ipv6=1
    else
        ip netns add "$NS_DUT"
        vdevs=(--vdev "$dev0,iface=d0,mac=$MAC_D0" --vdev "$dev1,iface=d1,mac=$MAC_D1")
    fi
    write_bindings "$n" "$method"
    cat >"$WORK/mipdp.toml" <<EOF2
[dataplane]
mode = "mobility"
workers = [$DUT_CORE]
mbufs = 16383
mbuf_cache = 256
rx_descriptors = 1024
tx_descriptors = 1024
stats_interval_ms = 1000
idle_sleep_max_us = ${IDLE_SLEEP_US:-0}
# A socket of this run's own: another mipdp on the machine may hold the default one.
control_socket = "$WORK/mipdp.sock"

[node]
roles = ["home-agent"]
addresses = ["$AGENT"]
max_bindings = $((n > 65536 ? n : 65536))
max_profiles = $((n + 1024))

[[port]]
device = "$dev0"

[[port]]
device = "$dev1"

[[route]]
prefix = "$HOME_PREFIX"
port = "$dev0"

[[route]]
prefix = "$DEFAULT_ROUTE"
port = "$dev1"
via = "$NEXT_HOP"

[[neighbour]]
port = "$dev1"
address = "$NEXT_HOP"
mac = "$MAC_G1"

EOF2
    cat "$WORK/bindings.toml" >>"$WORK/mipdp.toml"
    local mem=512
    [ "$n" -gt 200000 ] && mem=$((512 + n / 1000))
    PREFIXES+=("$prefix")
    # A fresh log (written before the process starts: the wait below reads it).
    : >"$WORK/mipdp-$method-$n.log"
    # LIBXDP_OBJECT_PATH: where Debian's libxdp keeps the redirect program net_af_xdp loads.
    ip netns exec "$NS_DUT" env LIBXDP_OBJECT_PATH="/usr/lib/$(gcc -dumpmachine)/bpf" \
        "$MIPDP" run --config "$WORK/mipdp.toml" -- --no-huge -m "$mem" --no-pci \
        --file-prefix "$prefix" -l "$GEN_CORE" "${vdevs[@]}" \
        >>"$WORK/mipdp-$method-$n.log" 2>&1 &
    MIPDP_PID=$!
    # Start-up parses and installs every static binding: 1M took longer than 120 s here.
    local deadline=$((SECONDS + 900))
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$MIPDP_PID" 2>/dev/null || { tail -20 "$WORK/mipdp-$method-$n.log" >&2; die "mipdp exited at start-up"; }
        if grep -q '^stats ' "$WORK/mipdp-$method-$n.log"; then
            # No IPv6 of the kernel's own on the taps (no router solicitations into the run).
            ip netns exec "$NS_DUT" sysctl -q -w net.ipv6.conf.d0.disable_ipv6=1 net.ipv6.conf.d1.disable_ipv6=1
            [ "$MIPDP_PORT" = af_xdp ] && [ "$XDP_NAPI" = dut ] && napi_on_dut_core
            return 0
        fi
        sleep 0.2
    done
    tail -20 "$WORK/mipdp-$method-$n.log" >&2
    die "mipdp printed no stats within 900 s of starting with $n bindings"
}

# d0's receive, where the XDP program hands each frame to mipdp's socket, as a NAPI thread
# pinned to the DUT core (--xdp-napi dut): then all of the home agent's work on a frame
# runs on that core, as the kernel's forwarding does with RPS. (The veth's NAPI exists
# once the XDP program is attached; the thread is the napi/d0-* that appears.)
napi_on_dut_core() {
    local before after p pinned=0
    before=$(pgrep '^napi/d0-' | sort || true)
    ip netns exec "$NS_DUT" sh -c 'echo 1 > /sys/class/net/d0/threaded' ||
        die "cannot make d0's NAPI threaded (is the XDP program attached?)"
    after=$(pgrep '^napi/d0-' | sort || true)
    for p in $(comm -13 <(echo "$before") <(echo "$after")); do
        taskset -pc "$DUT_CORE" "$p" >/dev/null
        pinned=$((pinned + 1))
    done
    [ "$pinned" -gt 0 ] || die "no NAPI thread of d0 appeared to pin to core $DUT_CORE"
}

# The expectations that differ. IPv6: the kernel encapsulates on input (seg6_input) and
# then forwards the outer packet, so the outer hop limit is decremented and the inner is
# not; mipdp decrements the inner one and sends the outer with node.outer_ttl (64). IPv4:
# the kernel forwards first (inner TTL 63) and the BPF program writes the outer TTL (64),
# as mipdp does; minimal encapsulation has one header, TTL 63 from both.
expect_args() {
    echo "--expect $2"
    if [ "$FAMILY" = 6 ] && [ "$1" = kernel ]; then echo "--expect-outer-ttl 63 --expect-inner-ttl 64"; fi
}

TRIAL_NO=0
LAST_LOST=0
# trial WHO METHOD N SIZE RATE [settle] → sets T_TX T_OK T_LOST T_BAD T_PPS T_P50 T_P99 T_P999 T_MAX
trial() {
    local who=$1 method=$2 n=$3 size=$4 rate=$5
    # After a trial with loss (an overload), one uncounted settling trial at a low rate first
    # (RFC 2544 §23 lets the DUT settle between trials): mipdp on net_af_packet otherwise
    # loses exactly one frame of the next trial, seen every time here after an overload.
    if [ "$LAST_LOST" -ne 0 ] && [ -z "${SETTLING:-}" ]; then
        SETTLING=1 trial "$who" "$method" "$n" "$SMALLEST" 1000 settle
    fi
    TRIAL_NO=$((TRIAL_NO + 1))
    # Any packet that fails pktgen's receive checks fails the run (a counter check, not a timing).
    local prefix=k$TAG-$ID-pg-$TRIAL_NO json=$WORK/trial-$TRIAL_NO.json
    PREFIXES+=("$prefix")
    local ns=$NS_GEN tx=g0 rx=g1
    if [ "$who" = mipdp ] && [ "$MIPDP_PORT" = tap ]; then ns=$NS_DUT tx=d0 rx=d1; fi
    # shellcheck disable=SC2046 # the expectation options are words of ours
    if ! ip netns exec "$ns" taskset -c "$GEN_CORE" "$PKTGEN" --tx-port net_af_packet0 --rx-port net_af_packet1 \
        --dst-mac "$MAC_D0" --workload cn-to-home --family "$FAMILY" --mobiles "$n" --size "$size" \
        --rate "$rate" $([ -n "${6:-}" ] && echo "--count 100" || echo "--duration $TRIAL") --drain-ms 300 --json "$json" $(expect_args "$who" "$method") -- \
        --no-huge -m 512 --no-pci --file-prefix "$prefix" -l "$GEN_CORE" \
        --vdev "net_af_packet0,iface=$tx,qpairs=1,framecnt=4096" --vdev "net_af_packet1,iface=$rx,qpairs=1,framecnt=4096" \
        >"$WORK/trial-$TRIAL_NO.log" 2>&1; then
        tail -20 "$WORK/trial-$TRIAL_NO.log" >&2
        die "mipdp-pktgen failed ($who $method, $n bindings, size $size, rate $rate)"
    fi
    remove_runtime_dir "$prefix"
    read -r T_TX T_OK T_LOST T_BAD T_P50 T_P99 T_P999 T_MAX < <(jq -r '[.mobility.tx_data, .mobility.rx_data_ok, .lost,
        ([.mobility.rx_mismatches[]] | add), .latency_ns.p50 // 0, .latency_ns.p99 // 0,
        .latency_ns["p99.9"] // .latency_ns.p999 // 0, .latency_ns.max // 0] | @tsv' "$json")
    if [ "$T_BAD" -ne 0 ]; then
        echo "$who $method $n size $size rate $rate: $T_BAD packets failed pktgen's receive checks ($(jq -c '.mobility.rx_mismatches | with_entries(select(.value > 0))' "$json"))" >>"$WORK/checks"
        FAILED=1
    fi
    LAST_LOST=$T_LOST
    T_PPS=$(awk -v ok="$T_OK" -v d="$TRIAL" 'BEGIN { printf "%.0f", ok / d }')
    printf '  %-6s %-7s %8s bindings%s size %-5s rate %9s: sent %9s ok %9s lost %8s bad %s\n' \
        "$who" "$method" "$n" "${6:+ (settling)}" "$size" "$rate" "$T_TX" "$T_OK" "$T_LOST" "$T_BAD"
}

# RFC 2544 §26.1: start at the full rate offered (what the generator reached at rate 0:
# that trial, just run, is the first step), halve the interval each trial: no loss and no
# bad packet → higher, else lower. The no-drop rate reported is what the generator really
# sent in the best trial without loss (sent / trial seconds): on a loaded machine it may
# send less than the rate asked for.
NO_DROP=0
search() {
    local who=$1 method=$2 n=$3 size=$4 hi=$5 lo=0 rate i achieved
    rate=$hi
    NO_DROP=0
    for i in $(seq 1 "$STEPS"); do
        [ "$i" -eq 1 ] || trial "$who" "$method" "$n" "$size" "$rate"
        if [ "$T_LOST" -eq 0 ] && [ "$T_BAD" -eq 0 ] && [ "$T_OK" -eq "$T_TX" ]; then
            lo=$rate
            achieved=$(awk -v t="$T_TX" -v d="$TRIAL" 'BEGIN { printf "%.0f", t / d }')
            [ "$achieved" -gt "$NO_DROP" ] && NO_DROP=$achieved
        else
            hi=$rate
        fi
        [ "$lo" -eq "$hi" ] && break
        rate=$(((lo + hi) / 2))
    done
}

mkdir -p "$DATA_DIR"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=$(cpu_busy_percent)
: >"$WORK/rows-bindings"
: >"$WORK/rows-sizes"
: >"$WORK/rows-nodrop"
: >"$WORK/rows-latency"
: >"$WORK/checks"
first_size=${SIZES%% *}

for n in $BINDINGS; do
    for method in $METHODS; do
        for who in $CONTENDERS; do
            step "$who: $method home agent, $n bindings"
            c=$(label "$who" "$method")
            LAST_LOST=0
            { [ "$who" = kernel ] || [ "$MIPDP_PORT" = af_xdp ]; } && topology
            local_t0=$(date +%s.%N)
            if [ "$who" = kernel ]; then "kernel_up$FAMILY" "$n" "$method"; else mipdp_up "$n" "$method"; fi
            setup_s=$(awk -v a="$local_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
            echo "  set up in $setup_s s"
            for size in $SIZES; do
                trial "$who" "$method" "$n" "$size" 0
                ns=$(awk -v p="$T_PPS" 'BEGIN { if (p > 0) printf "%.1f", 1e9 / p; else print "nan" }')
                echo "$c $n $size $T_PPS $ns $T_TX $T_OK $T_LOST $T_BAD" >>"$WORK/rows-sizes"
                if [ "$size" = "$first_size" ]; then
                    offered=$(awk -v t="$T_TX" -v d="$TRIAL" 'BEGIN { printf "%.0f", t / d }')
                    search "$who" "$method" "$n" "$size" "$offered"
                    echo "$c $n $size $NO_DROP $offered" >>"$WORK/rows-nodrop"
                    nd_ns=$(awk -v p="$NO_DROP" 'BEGIN { if (p > 0) printf "%.1f", 1e9 / p; else print "nan" }')
                    echo "$c $n $NO_DROP $nd_ns $setup_s" >>"$WORK/rows-bindings"
                    if [ "$NO_DROP" -eq 0 ]; then
                        echo "$who $method $n: no trial of the no-drop search passed without loss" >>"$WORK/checks"
                        FAILED=1
                    fi
                    if [ "$NO_DROP" -gt 0 ]; then
                        for pct in $LATENCY_POINTS; do
                            trial "$who" "$method" "$n" "$size" $((NO_DROP * pct / 100))
                            echo "$c $n $size $pct $((NO_DROP * pct / 100)) $T_P50 $T_P99 $T_P999 $T_MAX $T_LOST" >>"$WORK/rows-latency"
                        done
                    fi
                fi
            done
            cleanup
        done
    done
done

# Data files for perf/plot.sh (whitespace-separated, one header line).
{ echo "# contender bindings no_drop_pps ns_per_packet setup_s"; cat "$WORK/rows-bindings"; } >"$DATA_DIR/$TAG-bindings.dat"
{ echo "# contender bindings size pps ns_per_packet sent ok lost bad"; cat "$WORK/rows-sizes"; } >"$DATA_DIR/$TAG-sizes.dat"
{ echo "# contender bindings size no_drop_pps offered_max_pps"; cat "$WORK/rows-nodrop"; } >"$DATA_DIR/$TAG-nodrop.dat"
{ echo "# contender bindings size pct rate p50_ns p99_ns p999_ns max_ns lost"; cat "$WORK/rows-latency"; } >"$DATA_DIR/$TAG-latency.dat"

if [ "$FAMILY" = 6 ]; then
    HEADING="## IPv6 home agent: mipdp beside the Linux kernel (veth / tap, mipdp-pktgen)"
else
    HEADING="## IPv4 home agent: mipdp beside the Linux kernel's routing + a BPF lightweight tunnel (veth / tap, mipdp-pktgen)"
fi
SECTION=$WORK/section.md
# "ipip: 1000 bindings **0.46**, 100000 bindings **1.00**; gre: ..." from the no-drop rows.
headline() {
    local method sep=""
    for method in $METHODS; do
        printf '%s%s' "$sep" "$([ "$(wc -w <<<"$METHODS")" -gt 1 ] && echo "$method: ")"
        awk -v k="$(label kernel "$method")" -v m="$(label mipdp "$method")" -v order="$BINDINGS" '
            $1 == k { rk[$2] = $4 } $1 == m { rm[$2] = $4 }
            END { sep = ""; c = split(order, o, " "); for (i = 1; i <= c; i++) { b = o[i]
                if (rk[b] > 0 && rm[b] > 0) { printf "%s%s bindings **%.2f**", sep, b, rm[b] / rk[b]; sep = ", " } } }' "$1"
        sep="; "
    done
}
us() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }
{
    echo "$HEADING"
    echo
    echo "Written by \`perf/kernel-ha$FAMILY.sh$([ "$QUICK" -eq 1 ] && echo " --quick")\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit"
    echo "$(git rev-parse --short HEAD 2>/dev/null || echo unknown). Load average before the run: $LOAD; CPU busy $BUSY %."
    if [ "$MIPDP_PORT" = af_xdp ]; then
        echo "Both home agents on the same two veth pairs (g0→d0, d1→g1), fed by the same generator"
        echo "(mipdp-pktgen, net_af_packet on g0/g1) on core $GEN_CORE: the kernel forwarding between d0 and d1,"
        echo "mipdp on d0 and d1 through net_af_xdp (an AF_XDP socket per veth, copy mode: libxdp's redirect"
        echo "program hands d0's frames to mipdp, and mipdp's transmissions leave by d1). The home agent on"
        echo "core $DUT_CORE (mipdp's worker$([ "$XDP_NAPI" = dut ] && echo " and d0's receive NAPI thread"); the kernel's forwarding of d0's packets steered there with RPS;"
        echo "mipdp's main lcore shares core $GEN_CORE). Trials of $TRIAL s; $STEPS binary-search steps."
    else
        echo "Generator (mipdp-pktgen, net_af_packet: on veth g0/g1 for the kernel, on mipdp's taps d0/d1 for"
        echo "mipdp) on core $GEN_CORE; the home agent on core $DUT_CORE (mipdp's worker; the kernel's forwarding"
        echo "of d0's packets steered there with RPS; mipdp's main lcore shares core $GEN_CORE). Trials of"
        echo "$TRIAL s; $STEPS binary-search steps."
    fi
    echo
    if [ "$FAMILY" = 6 ]; then
        echo "The kernel here has no ipip / gre / ip6tnl / sit (CONFIG_NET_IPIP and CONFIG_IPV6_TUNNEL not"
        echo "set), so it is the home agent through SRv6: one \`ip -6 route add <home>/128 encap seg6 mode"
        echo "encap.red segs <care-of> dev d1\` per binding, which with one segment and encap.red is plain"
        echo "IPv6-in-IPv6 (no SRH). (IPv4-in-IPv4, minimal encapsulation and GRE: the IPv4 section, with"
        echo "a BPF lightweight tunnel.) Both are fed"
        echo "and checked by the same generator (every packet tunnelled from $AGENT to the mobile's care-of"
        echo "address, inner packet intact)."
        echo "The kernel encapsulates before forwarding, so it decrements the outer hop limit (63) and"
        echo "leaves the inner one (64); mipdp decrements the inner (63) and sends the outer with 64."
    else
        echo "The kernel here has no ipip / gre devices (CONFIG_NET_IPIP and CONFIG_NET_IPGRE not set), so"
        echo "it is the home agent through its routing + a BPF lightweight tunnel: IPv4 forwarding, one"
        echo "route \`ip route add $HOME_PREFIX encap bpf xmit obj ha4.o section <method> via $NEXT_HOP dev d1\`"
        echo "whose program ([perf/bpf/ha4.c](bpf/ha4.c)) looks the destination up in a BPF hash map home"
        echo "address → care-of address holding the N bindings (loaded with \`bpftool batch\`), and tunnels a"
        echo "bound one as mipdp does: ipip (RFC 2003) and gre (RFC 2784, 4-byte header) push an outer"
        echo "header from $AGENT (TTL 64, TOS and DF copied) with \`bpf_lwt_push_encap\` and return"
        echo "\`BPF_LWT_REROUTE\`, so the kernel routes the outer packet to the care-of address as a tunnel"
        echo "device would; minimal (RFC 2004) turns the original header into the outer one and inserts the"
        echo "minimal forwarding header with \`bpf_skb_change_head\` + stores and returns \`BPF_OK\` (that"
        echo "helper leaves the kernel's network header behind, which a reroute would read): the packet"
        echo "leaves by the home route's next hop, here the care-of addresses' next hop too. Not the"
        echo "kernel's tunnel drivers, which this kernel does not have: per packet, a routing lookup, a"
        echo "hash-map lookup and the header push, plus the second routing lookup for ipip and gre."
        echo "Both are fed and"
        echo "checked by the same generator (\`--expect <method>\`: outer source $AGENT, outer destination"
        echo "the mobile's care-of address, outer TTL 64 (minimal: its one TTL 63), inner packet intact"
        echo "with TTL 63; minimal: the forwarding header's checksum and the rebuilt original packet)."
    fi
    echo
    echo "Headline, side by side in this run: no-drop rate mipdp / kernel (size $first_size) $(headline "$WORK/rows-nodrop")."
    echo
    echo "Full offered load (pktgen at --rate 0; far above what either keeps up with, so the kernel drops"
    echo "on the way in and these are the good packets that came back), ns = 1e9 / good packets per second:"
    echo
    echo "| method | bindings | size | kernel Mpps | kernel ns/pkt | mipdp Mpps | mipdp ns/pkt | mipdp / kernel |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|"
    for n in $BINDINGS; do
        for method in $METHODS; do
            for size in $SIZES; do
                awk -v n="$n" -v s="$size" -v method="$method" -v kc="$(label kernel "$method")" -v mc="$(label mipdp "$method")" '
                    $2 == n && $3 == s && $1 == kc { k = $4 } $2 == n && $3 == s && $1 == mc { m = $4 }
                    END {
                        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", method, n, s,
                            (k > 0 ? sprintf("%.3f", k / 1e6) : "n/a"), (k > 0 ? sprintf("%.0f", 1e9 / k) : "n/a"),
                            (m > 0 ? sprintf("%.3f", m / 1e6) : "n/a"), (m > 0 ? sprintf("%.0f", 1e9 / m) : "n/a"),
                            (k > 0 && m > 0 ? sprintf("**%.2f**", m / k) : "n/a") }' "$WORK/rows-sizes"
            done
        done
    done
    echo
    echo "No-drop rate (RFC 2544 §26.1 binary search, size $first_size: any loss or any packet failing the"
    echo "receive checks fails a trial; the rate is what the generator really sent in the best passing"
    echo "trial) and latency at $(echo "$LATENCY_POINTS" | sed 's/ /\//g') % of it (pktgen's hdrhistogram, µs):"
    echo
    echo "| contender | bindings | no-drop kpps | load | rate pps | p50 | p99 | p99.9 | max | lost |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    while read -r c n size nd offered; do
        grep "^$c $n $size " "$WORK/rows-latency" | while read -r _ _ _ pct rate p50 p99 p999 max lost; do
            echo "| $c | $n | $(awk -v v="$nd" -v o="$offered" 'BEGIN { printf "%.1f%s", v / 1000, (v >= o ? " (≥: all the generator offered)" : "") }') | $pct % | $rate | $(us "$p50") | $(us "$p99") | $(us "$p999") | $(us "$max") | $lost |"
        done
    done <"$WORK/rows-nodrop"
    echo
    echo "Setup time (kernel: $([ "$FAMILY" = 6 ] && echo "routes installed" || echo "program compiled and loaded, map filled"); mipdp: started with its static bindings), s:"
    echo
    echo "| contender | bindings | setup s |"
    echo "|---|---:|---:|"
    awk '{ printf "| %s | %s | %s |\n", $1, $2, $5 }' "$WORK/rows-bindings"
    echo
    echo "Plots: [ns per packet at the no-drop rate against bindings](plots/$TAG-bindings.png),"
    echo "[against packet size](plots/$TAG-sizes.png), [latency](plots/$TAG-latency.png)."
    echo
    if [ "$MIPDP_PORT" = af_xdp ]; then
        echo "Caveats: the path is virtual for both — the generator's AF_PACKET sockets and the veths for"
        echo "both, then the kernel's forwarding, or the XDP redirect into mipdp's AF_XDP socket (a copy"
        echo "into its buffers; veths have no zero-copy mode), mipdp's worker, and a copy out through the"
        echo "AF_XDP transmit path (one wake-up system call per burst). $([ "$XDP_NAPI" = dut ] &&
            echo "d0's receive, where the XDP redirect runs, is a NAPI thread pinned to core $DUT_CORE (--xdp-napi dut): it and mipdp's busy-polling worker share that core by the scheduler's turns, so all of mipdp's per-frame work is on the DUT core, as the kernel's is." ||
            echo "The XDP redirect runs where the veth's receive runs (--xdp-napi gen): on the generator's core, as the frame is sent, so less of mipdp's per-frame work than of the kernel's is on the DUT core.") Those per-frame"
        echo "kernel costs are a large part of both, so these are figures of the whole virtual path"
        echo "(net_null in the sections above measures mipdp's engine alone). A shared 2-core VM: the"
        echo "generator and the home agent compete with other work; compare ratios and the load average."
    else
        echo "Caveats: the path is virtual for both — the generator's AF_PACKET sockets, then veth + the"
        echo "kernel's forwarding for the kernel, a tap (one read and one write system call per frame)"
        echo "+ mipdp's worker for mipdp. Those per-frame kernel costs dominate, so these are figures of"
        echo "the whole virtual path, not of either forwarding engine alone (net_null in the sections above"
        echo "measures mipdp's engine). A shared 2-core VM: the generator and the home agent compete with"
        echo "other work; compare ratios and the load average."
    fi
    if [ -s "$WORK/checks" ]; then
        echo
        echo "Checks that failed in this run:"
        echo
        sed 's/^/- /' "$WORK/checks"
    fi
    echo
} >"$SECTION"

cat "$SECTION"
if [ "$WRITE" -eq 1 ]; then
    write_section "$RESULTS" "$HEADING" "$SECTION"
fi
[ "$FAILED" -eq 0 ] || die "a contender failed the receive checks or forwarded nothing (see above)"
