// SPDX-License-Identifier: GPL-2.0
// The Linux kernel as a Mobile IPv4 home agent, for perf/kernel-ha.sh --family 4: this
// kernel has no ipip / gre devices (CONFIG_NET_IPIP, CONFIG_NET_IPGRE not set), so the
// tunnel is a lightweight-tunnel BPF program on the home prefix's route
// (`ip route add <home prefix> encap bpf xmit obj ha4.o section <method> via <next hop>`),
// run on transmit after the kernel's forwarding (TTL already decremented). It looks the
// packet's destination up in the bindings map (home address -> care-of address, filled
// with bpftool) and, for a bound home address, tunnels the packet to the care-of address
// as mipdp does (dataplane/src/tunnel/ipip.rs, gre.rs, minimal.rs):
//
//   ipip     RFC 2003 §3.1: outer IPv4 header from HA4_AGENT, TTL 64, TOS and DF copied
//            from the inner header (RFC 6040 normal mode copies ECN as it is).
//   gre      RFC 2784: the same outer header, protocol 47, a 4-byte GRE header (no
//            checksum, key or sequence number), protocol type 0x0800.
//   minimal  RFC 2004 §3: the original header becomes the outer one (protocol 55, source
//            HA4_AGENT, destination the care-of address, TTL, TOS, DF and Identification
//            kept) and the minimal forwarding header (protocol, S, checksum, original
//            destination, original source when it is not HA4_AGENT) goes after it.
//            Fragments and headers with options go in ipip instead, as mipdp sends
//            fragments (RFC 2004 §3 has no room for fragment information).
//
// ipip and gre push the outer header with bpf_lwt_push_encap and return BPF_LWT_REROUTE:
// the kernel routes the outer packet by its destination, as a tunnel device's output
// would. minimal has no outer header to push (bpf_lwt_push_encap takes a whole IP header,
// and an LWT xmit program has no helper to remove bytes), so it grows the packet with
// bpf_skb_change_head, which leaves the kernel's network header where it was: it returns
// BPF_OK, and the packet leaves by the home prefix route's next hop (in kernel-ha.sh the
// same link and next hop as the care-of addresses' route). An unbound home address
// passes unchanged (BPF_OK).
//
// Built by kernel-ha.sh: clang -O2 -g -target bpf -DHA4_AGENT=0xc0000201
// -DHA4_MAX_BINDINGS=N -I/usr/include/$(gcc -dumpmachine) -c ha4.c (the agent's address in host order).

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef HA4_AGENT
#define HA4_AGENT 0xc0000201 /* 192.0.2.1 */
#endif
#ifndef HA4_MAX_BINDINGS
#define HA4_MAX_BINDINGS 1024
#endif
#define OUTER_TTL 64
#define IP_DF 0x4000
#define IP_FRAGMENT 0x3fff /* MF and the fragment offset */
#define IPPROTO_MINIMAL 55
#define ETH_P_IP 0x0800

/* Home address -> care-of address, both in network order. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HA4_MAX_BINDINGS);
	__type(key, __u32);
	__type(value, __u32);
} ha4_bindings SEC(".maps");

struct gre_outer {
	struct iphdr ip;
	__be16 flags;
	__be16 protocol;
};
_Static_assert(sizeof(struct gre_outer) == 24, "outer IPv4 and GRE headers, no padding");

struct minimal_forwarding {
	__u8 protocol;
	__u8 flags; /* S: 0x80 */
	__sum16 check;
	__be32 daddr;
	__be32 saddr;
};

static __always_inline __u16 fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* The checksum of an n-byte header (n a multiple of 4, at most 20). */
static __always_inline __u16 header_checksum(void *h, int n)
{
	return fold(bpf_csum_diff(0, 0, h, n, 0));
}

/* The bound care-of address of the packet's destination, the packet's IPv4 header
 * copied into *ip; 0: not ours to tunnel. */
static __always_inline __u32 care_of(struct __sk_buff *skb, struct iphdr *ip)
{
	if (skb->protocol != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, 0, ip, sizeof(*ip)))
		return 0;
	if (ip->version != 4)
		return 0;
	__u32 *coa = bpf_map_lookup_elem(&ha4_bindings, &ip->daddr);
	return coa ? *coa : 0;
}

/* The outer header of ipip and gre for an inner packet whose header is *inner.
 * RFC 2003 §3.1; RFC 6040 §4.1. */
static __always_inline void outer(struct iphdr *o, const struct iphdr *inner, __u32 coa,
				  __u8 protocol, int len)
{
	__builtin_memset(o, 0, sizeof(*o));
	o->version = 4;
	o->ihl = 5;
	o->tos = inner->tos;
	o->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + len);
	/* Identification 0 on an atomic datagram (RFC 6864 §4.1), as mipdp sends them. */
	o->id = (inner->frag_off & bpf_htons(IP_DF)) ? 0 : (__be16)bpf_get_prandom_u32();
	o->frag_off = inner->frag_off & bpf_htons(IP_DF);
	o->ttl = OUTER_TTL;
	o->protocol = protocol;
	o->saddr = bpf_htonl(HA4_AGENT);
	o->daddr = coa;
	o->check = header_checksum(o, sizeof(*o));
}

static __always_inline int push_ipip(struct __sk_buff *skb, const struct iphdr *inner,
				     __u32 coa)
{
	struct iphdr o;

	outer(&o, inner, coa, IPPROTO_IPIP, sizeof(o));
	if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &o, sizeof(o)))
		return BPF_DROP;
	return BPF_LWT_REROUTE;
}

SEC("ipip")
int ha4_ipip(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u32 coa = care_of(skb, &ip);

	return coa ? push_ipip(skb, &ip, coa) : BPF_OK;
}

SEC("gre")
int ha4_gre(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct gre_outer o;
	__u32 coa = care_of(skb, &ip);

	if (!coa)
		return BPF_OK;
	outer(&o.ip, &ip, coa, IPPROTO_GRE, sizeof(o));
	o.flags = 0;
	o.protocol = bpf_htons(ETH_P_IP);
	if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &o, sizeof(o)))
		return BPF_DROP;
	return BPF_LWT_REROUTE;
}

SEC("minimal")
int ha4_minimal(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct minimal_forwarding f;
	__u32 coa = care_of(skb, &ip);

	if (!coa)
		return BPF_OK;
	if (ip.ihl != 5 || (ip.frag_off & bpf_htons(IP_FRAGMENT)))
		return push_ipip(skb, &ip, coa);
	int with_source = ip.saddr != bpf_htonl(HA4_AGENT);
	int added = with_source ? 12 : 8;

	f.protocol = ip.protocol;
	f.flags = with_source ? 0x80 : 0;
	f.check = 0;
	f.daddr = ip.daddr;
	f.saddr = ip.saddr;
	f.check = header_checksum(&f, with_source ? 12 : 8);

	ip.protocol = IPPROTO_MINIMAL;
	ip.saddr = bpf_htonl(HA4_AGENT);
	ip.daddr = coa;
	ip.tot_len = bpf_htons(bpf_ntohs(ip.tot_len) + added);
	ip.check = 0;
	ip.check = header_checksum(&ip, sizeof(ip));

	if (bpf_skb_change_head(skb, added, 0))
		return BPF_DROP;
	if (bpf_skb_store_bytes(skb, 0, &ip, sizeof(ip), 0))
		return BPF_DROP;
	if (with_source) {
		if (bpf_skb_store_bytes(skb, sizeof(ip), &f, 12, 0))
			return BPF_DROP;
	} else if (bpf_skb_store_bytes(skb, sizeof(ip), &f, 8, 0)) {
		return BPF_DROP;
	}
	return BPF_OK;
}

char _license[] SEC("license") = "GPL";
