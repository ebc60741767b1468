#!/usr/bin/env bash
# The mipdp demo (`make demo`, as root, after a release build): mipdp as a Mobile IP home
# agent between two DPDK tap ports, with the Linux kernel playing the hosts around it.
#
#   [ns mipdp-demo-cn]                                      [ns mipdp-demo-mn]
#   correspondent                                           away mobile
#   10.1.0.50/24, 2001:db8:1::50/64                         care-of 192.0.2.7/24, 2001:db8:2::7
#        dmcn ══ net_tap0 ─── mipdp (home agent) ─── net_tap1 ══ dmmn
#                home link 10.1.0.0/24, 2001:db8:1::/64
#
# The mobile's home addresses 10.1.0.100 and 2001:db8:1::100 belong to the home link, but
# the mobile is away: mipdp answers ARP and neighbour solicitations for them (proxy),
# intercepts what the correspondent sends them and tunnels it to the care-of address:
# IPv4 in IPv4 (RFC 2003) and IPv6 in IPv6 (RFC 2473). In the mobile's namespace the
# kernel ends the IPv6 tunnel (an SRv6 End.DT6 route: this kernel has no ip6tnl devices);
# the IPv4 tunnel ends in control/tests/peers/tunnel_endpoint.py (this kernel has no ipip
# devices either). The mobile answers through a reverse tunnel to the home agent, which
# decapsulates and routes the reply back. The demo pings both home addresses, sends a
# burst, shows `mipdp ctl show stats`, stops mipdp and prints its final counters.
# Everything it creates is removed on exit, also on failure or Ctrl-C.
# Environment: MIPDP (default target/release/mipdp).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

NS_CN=mipdp-demo-cn
NS_MN=mipdp-demo-mn
TAP_CN=dmcn
TAP_MN=dmmn
MAC_CN=02:0c:00:00:00:50
MAC_MN=02:0d:00:00:00:07
MIPDP=${MIPDP:-target/release/mipdp}
ENDPOINT=control/tests/peers/tunnel_endpoint.py
DEMO=demo.sh
NAMESPACES=("$NS_CN" "$NS_MN")
TAPS=("$TAP_CN" "$TAP_MN")
# shellcheck source=scripts/demo-lib.sh
source scripts/demo-lib.sh
SOCKET="$tmp/ctl.sock"

say "starting mipdp as a home agent (worker on core 1) on DPDK tap ports $TAP_CN and $TAP_MN"
cat >"$tmp/home-agent.toml" <<EOF
[dataplane]
mode = "mobility"
workers = [1]
mbufs = 8191
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000
control_socket = "$SOCKET"

[node]
roles = ["home-agent"]
addresses = ["10.1.0.1", "192.0.2.1", "2001:db8:1::1", "2001:db8:2::1"]

[[port]]
device = "net_tap0"

[[port]]
device = "net_tap1"

[[route]]
prefix = "10.1.0.0/24"
port = "net_tap0"

[[route]]
prefix = "192.0.2.0/24"
port = "net_tap1"

[[route]]
prefix = "2001:db8:1::/64"
port = "net_tap0"

[[route]]
prefix = "2001:db8:2::/64"
port = "net_tap1"

# The hosts' MACs, set below (mipdp learns neighbours from ARP and ND it sees, but does not
# solicit them itself yet).
[[neighbour]]
port = "net_tap0"
address = "10.1.0.50"
mac = "$MAC_CN"

[[neighbour]]
port = "net_tap1"
address = "192.0.2.7"
mac = "$MAC_MN"

[[neighbour]]
port = "net_tap0"
address = "2001:db8:1::50"
mac = "$MAC_CN"

[[neighbour]]
port = "net_tap1"
address = "2001:db8:2::7"
mac = "$MAC_MN"

# The away mobile's bindings (registration arrives with the signalling issue).
[[binding]]
home = "10.1.0.100"
care_of = ["192.0.2.7"]
encap = "ipip"

[[binding]]
home = "2001:db8:1::100"
care_of = ["2001:db8:2::7"]
EOF
sed 's/^/    /' "$tmp/home-agent.toml" | grep -v '^    #' | grep -v '^    $' | head -12
echo "    ... (routes, neighbours and the two bindings: $tmp/home-agent.toml)"

start_mipdp "$tmp/home-agent.toml"
grep -E '\] (port|worker|mobility) ' "$tmp/mipdp.err" | sed 's/^.*\] /    /' || true


say "the correspondent: namespace $NS_CN on the home link (10.1.0.50, 2001:db8:1::50)"
ip netns add "$NS_CN"
ip link set dev "$TAP_CN" netns "$NS_CN"
ip -n "$NS_CN" link set dev lo up
ip netns exec "$NS_CN" sysctl -q -w "net.ipv6.conf.$TAP_CN.addr_gen_mode=1"
ip -n "$NS_CN" link set dev "$TAP_CN" address "$MAC_CN"
ip -n "$NS_CN" addr add 10.1.0.50/24 dev "$TAP_CN"
ip -n "$NS_CN" -6 addr add 2001:db8:1::50/64 dev "$TAP_CN" nodad
ip -n "$NS_CN" link set dev "$TAP_CN" up
ip -n "$NS_CN" route add default via 10.1.0.1 dev "$TAP_CN"
ip -n "$NS_CN" -6 route add default via 2001:db8:1::1 dev "$TAP_CN"

say "the away mobile: namespace $NS_MN at care-of addresses 192.0.2.7 and 2001:db8:2::7"
ip netns add "$NS_MN"
ip link set dev "$TAP_MN" netns "$NS_MN"
ip -n "$NS_MN" link set dev lo up
ip netns exec "$NS_MN" sysctl -q -w "net.ipv6.conf.$TAP_MN.addr_gen_mode=1"
ip netns exec "$NS_MN" sysctl -q -w net.ipv4.conf.all.rp_filter=0
ip netns exec "$NS_MN" sysctl -q -w net.ipv4.conf.default.rp_filter=0
ip -n "$NS_MN" link set dev "$TAP_MN" address "$MAC_MN"
ip -n "$NS_MN" addr add 192.0.2.7/24 dev "$TAP_MN"
ip -n "$NS_MN" link set dev "$TAP_MN" up
ip -n "$NS_MN" route add default via 192.0.2.1 dev "$TAP_MN"
# The IPv4 tunnel end (a TUN device t4 fed by tunnel_endpoint.py), with the home address.
ip netns exec "$NS_MN" python3 -u "$ENDPOINT" --local 192.0.2.7 --tunnel t4:ipip:10.1.0.1 \
    >"$tmp/endpoint.out" 2>&1 &
helper_pids+=($!)
for ((i = 0; i < 100; i++)); do
    grep -q '^ready' "$tmp/endpoint.out" && break
    sleep 0.1
done
grep -q '^ready' "$tmp/endpoint.out" || { cat "$tmp/endpoint.out" >&2; die "tunnel_endpoint.py did not start"; }
ip netns exec "$NS_MN" sysctl -q -w net.ipv6.conf.t4.disable_ipv6=1
ip netns exec "$NS_MN" sysctl -q -w net.ipv4.conf.t4.rp_filter=0
ip -n "$NS_MN" addr add 10.1.0.100/32 dev t4
ip -n "$NS_MN" link set dev t4 up
# Replies from the home address go back through the tunnel (reverse tunnelling).
ip -n "$NS_MN" rule add from 10.1.0.100 lookup 100
ip -n "$NS_MN" route add default dev t4 table 100
# The IPv6 tunnel end: the kernel decapsulates IPv6-in-IPv6 sent to the care-of address
# (SRv6 End.DT6) and answers from the home address through an IPv6-in-IPv6 reverse tunnel
# (a one-segment seg6 encap.red route).
ip -n "$NS_MN" -6 route add 2001:db8:2::/64 dev "$TAP_MN"
# mipdp answers neighbour solicitations, but the mobile's kernel has no link-local address
# here to send them from: give it the home agent's MAC (from mipdp's start-up log).
HA_MAC_MN=$(grep -o 'net_tap1): id 1, mac [0-9a-f:]*' "$tmp/mipdp.err" | awk '{ print $NF }')
[ -n "$HA_MAC_MN" ] || die "mipdp's start-up log does not show net_tap1's MAC"
ip -n "$NS_MN" -6 neigh add 2001:db8:2::1 lladdr "$HA_MAC_MN" dev "$TAP_MN" nud permanent
ip -n "$NS_MN" -6 route add default via 2001:db8:2::1 dev "$TAP_MN"
ip -n "$NS_MN" -6 addr add 2001:db8:1::100/128 dev lo nodad
ip -n "$NS_MN" -6 route add 2001:db8:2::7/128 encap seg6local action End.DT6 table local dev "$TAP_MN"
ip -n "$NS_MN" sr tunsrc set 2001:db8:2::7
ip -n "$NS_MN" -6 rule add from 2001:db8:1::100 lookup 100
ip -n "$NS_MN" -6 route add 2001:db8:1::50/128 encap seg6 mode encap.red segs 2001:db8:1::1 dev "$TAP_MN" table 100

failed=0
say "ping 10.1.0.100 from the correspondent: proxy ARP, then IPv4 in IPv4 to 192.0.2.7 and back"
ip netns exec "$NS_CN" ping -c 5 -i 0.2 -w 10 10.1.0.100 || failed=1
check_mipdp
say "ping 2001:db8:1::100 from the correspondent: proxy ND, then IPv6 in IPv6 to 2001:db8:2::7 and back"
ip netns exec "$NS_CN" ping -6 -c 5 -i 0.2 -w 10 2001:db8:1::100 || failed=1
check_mipdp
say "the correspondent's neighbour table: both home addresses resolve to mipdp's home-link MAC"
ip -n "$NS_CN" neigh show | grep -E '10\.1\.0\.100|2001:db8:1::100' | sed 's/^/    /'
say "a burst: 500 pings to each home address, 10 ms apart"
ip netns exec "$NS_CN" ping -q -c 500 -i 0.01 -w 30 10.1.0.100 | tail -n 2 | sed 's/^/    /' || failed=1
ip netns exec "$NS_CN" ping -6 -q -c 500 -i 0.01 -w 30 2001:db8:1::100 | tail -n 2 | sed 's/^/    /' || failed=1
check_mipdp

say "mipdp ctl show stats (over the control socket, while it runs)"
"$MIPDP" ctl --socket "$SOCKET" show stats | tr ' ' '\n' | grep -E '^(port=|worker=|rx=|tx=|hits_node-destination|encap_ipip|encap_ip6ip6|decap_ipip|decap_ip6ip6|arp_replies|nd_replies|punts|ctl_learnt)' \
    | paste -sd' ' | fold -s -w 100 | sed 's/^/    /'

say "stopping mipdp (SIGINT); its final counters:"
kill -INT "$mipdp_pid"
wait "$mipdp_pid" || true
mipdp_pid=""
grep '^final ' "$tmp/mipdp.out" | sed -E 's/ ([a-z0-9_-]+)=0\b/ \1=0#/g; s/ (worker|core)=0#/ \1=0/g; s/ [a-z0-9_-]+=0#//g' \
    | sed 's/^final drops$/final drops (none)/' | sed 's/^/    /'

[ "$failed" -eq 0 ] || die "some pings were not answered (mipdp's counters are above)"
say "done: the home agent intercepted and tunnelled the correspondent's packets and routed the mobile's replies back (counters above; losses, if any, are in the peers: mipdp counts its own drops)"
