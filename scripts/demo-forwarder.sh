#!/usr/bin/env bash
# The forwarder demo (as root, after a release build; `make demo` runs the home agent demo,
# scripts/demo.sh).
#
# Two network namespaces stand for two hosts on one IPv4 subnet. Between them sits mipdp in
# forwarder mode on two DPDK tap ports, acting as a wire that rewrites MAC addresses:
#
#   [ns mipdp-demo-a: 10.11.0.1/24] mdemo0 ══ net_tap0 ─ mipdp ─ net_tap1 ══ mdemo1 [ns mipdp-demo-b: 10.11.0.2/24]
#
# The demo pings across, sends a few seconds of UDP, shows mipdp's counters while it runs,
# stops it with SIGINT and prints its final counters. Everything it creates is removed on
# exit, also on failure or Ctrl-C. Environment: MIPDP (default target/release/mipdp).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

NS_A=mipdp-demo-a
NS_B=mipdp-demo-b
TAP_A=mdemo0
TAP_B=mdemo1
MAC_A=02:0a:00:00:00:01
MAC_B=02:0b:00:00:00:01
IP_A=10.11.0.1
IP_B=10.11.0.2
UDP_PORT=9000
UDP_SECONDS=3
UDP_RATE=5000          # datagrams per second
UDP_SIZE=1000          # payload bytes
MIPDP=${MIPDP:-target/release/mipdp}
DEMO=demo-forwarder.sh
NAMESPACES=("$NS_A" "$NS_B")
TAPS=("$TAP_A" "$TAP_B")
# shellcheck source=scripts/demo-lib.sh
source scripts/demo-lib.sh

# --- start mipdp -------------------------------------------------------------------------
say "starting mipdp (forwarder mode, worker on core 1) on DPDK tap ports $TAP_A and $TAP_B"
cat >"$tmp/forwarder.toml" <<EOF
[dataplane]
mode = "forwarder"
workers = [1]
mbufs = 8191
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
stats_interval_ms = 1000

# Frames leaving net_tap0 go to namespace a, frames leaving net_tap1 to namespace b.
[[port]]
device = "net_tap0"
peer_mac = "$MAC_A"

[[port]]
device = "net_tap1"
peer_mac = "$MAC_B"
EOF
sed 's/^/    /' "$tmp/forwarder.toml"

start_mipdp "$tmp/forwarder.toml"
grep -E '\] (port|forwarder|worker) ' "$tmp/mipdp.err" | sed 's/^.*\] /    /' || true


# --- namespaces --------------------------------------------------------------------------
say "moving the taps into namespaces $NS_A ($IP_A) and $NS_B ($IP_B)"
setup_ns() { # namespace tap mac address
    local ns=$1 tap=$2 mac=$3 addr=$4
    ip netns add "$ns"
    ip link set dev "$tap" netns "$ns"
    ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1"
    ip -n "$ns" link set dev lo up
    ip -n "$ns" link set dev "$tap" address "$mac"
    ip -n "$ns" addr add "$addr/24" dev "$tap"
    ip -n "$ns" link set dev "$tap" up
    printf '    %-14s %s  %s/24  (peer_mac of the port it is behind)\n' "$ns" "$mac" "$addr"
}
setup_ns "$NS_A" "$TAP_A" "$MAC_A" "$IP_A"
setup_ns "$NS_B" "$TAP_B" "$MAC_B" "$IP_B"

# --- ping --------------------------------------------------------------------------------
say "ping -c 5 $IP_B from $NS_A (ARP and ICMP both cross mipdp)"
if ! ip netns exec "$NS_A" ping -c 5 -i 0.2 -W 2 "$IP_B"; then
    echo "--- mipdp stdout ---" >&2
    tail -n 6 "$tmp/mipdp.out" >&2
    die "ping from $NS_A to $IP_B failed: frames did not cross mipdp (see its counters above)"
fi

check_mipdp

# --- UDP ---------------------------------------------------------------------------------
say "${UDP_SECONDS} s of UDP from $NS_A to $IP_B:$UDP_PORT (${UDP_RATE}/s, ${UDP_SIZE}-byte payloads); mipdp's counters every second:"
ip netns exec "$NS_B" python3 -u - "$IP_B" "$UDP_PORT" >"$tmp/udp-receiver.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
count = size = 0
s.settimeout(20)
try:
    while True:
        size += len(s.recv(65535))
        count += 1
        s.settimeout(1.5)  # after the first datagram: stop 1.5 s after the last one
except socket.timeout:
    pass
print(f"received {count} datagrams ({size} bytes)", flush=True)
EOF
helper_pids+=($!)
receiver_pid=$!
for ((i = 0; i < 100; i++)); do
    grep -q '^ready' "$tmp/udp-receiver.out" && break
    sleep 0.1
done

tail -n 0 -f "$tmp/mipdp.out" &
helper_pids+=($!)
tail_pid=$!

ip netns exec "$NS_A" python3 - "$IP_B" "$UDP_PORT" "$UDP_SECONDS" "$UDP_RATE" "$UDP_SIZE" <<'EOF' >"$tmp/udp-sender.out"
import socket, sys, time
dst, port, secs, rate, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = bytes(size)
sent = 0
start = time.monotonic()
while (now := time.monotonic() - start) < secs:
    due = int(now * rate)
    while sent < due:
        try:
            s.sendto(payload, (dst, port))
            sent += 1
        except OSError:
            break
    time.sleep(0.002)
print(f"sent {sent} datagrams ({sent * size} bytes)")
EOF
wait "$receiver_pid" || true
sleep 1.2  # one more stats line after the traffic
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
udp_sent=$(cat "$tmp/udp-sender.out")
udp_received=$(grep '^received' "$tmp/udp-receiver.out" || echo "received nothing")
echo "    sender ($NS_A):   $udp_sent"
echo "    receiver ($NS_B): $udp_received"

check_mipdp

# --- stop --------------------------------------------------------------------------------
say "stopping mipdp with SIGINT; its final counters:"
kill -INT "$mipdp_pid"
rc=0
for ((i = 0; i < 150; i++)); do
    kill -0 "$mipdp_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$mipdp_pid" 2>/dev/null; then
    die "mipdp did not stop within 15 s of SIGINT"
fi
wait "$mipdp_pid" || rc=$?
mipdp_pid=""
grep '^final ' "$tmp/mipdp.out" | sed 's/^/    /'
[ "$rc" -eq 0 ] || { cat "$tmp/mipdp.err" >&2; die "mipdp exited with status $rc"; }

final_a=$(grep '^final port=net_tap0 ' "$tmp/mipdp.out" || true)
final_b=$(grep '^final port=net_tap1 ' "$tmp/mipdp.out" || true)
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }

say "summary"
fold -s -w 92 <<EOF
mipdp ran as a layer-2 wire between two network namespaces on one subnet: it polled two \
DPDK tap ports with one worker on core 1 and sent every frame that arrived on one port out \
of the other, with the destination MAC set to the host behind that port and the source MAC \
set to the port's own. Five pings from $IP_A reached $IP_B and came back (ARP crossed the \
wire too), then ${UDP_SECONDS} s of UDP crossed it: the sender reports "$udp_sent" and the \
receiver "$udp_received". mipdp counted $(field "$final_a" rx) frames in and \
$(field "$final_a" tx) out on net_tap0 ($NS_A), $(field "$final_b" rx) in and \
$(field "$final_b" tx) out on net_tap1 ($NS_B), and stopped cleanly on SIGINT with the \
final counters above.
EOF
