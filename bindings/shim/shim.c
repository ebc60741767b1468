/* See shim.h. Compiled with the flags pkg-config gives for libdpdk. */
#define ALLOW_EXPERIMENTAL_API 1
#include <rte_config.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>
#include "shim.h"

int mipdp_errno(void) { return rte_errno; }
unsigned mipdp_lcore_id(void) { return rte_lcore_id(); }
int mipdp_thread_register(void) { return rte_thread_register(); }
void mipdp_thread_unregister(void) { rte_thread_unregister(); }

uint16_t mipdp_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(port, queue, pkts, n);
}

uint16_t mipdp_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(port, queue, pkts, n);
}

struct rte_mbuf *mipdp_pktmbuf_alloc(struct rte_mempool *mp) { return rte_pktmbuf_alloc(mp); }

int mipdp_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned count)
{
	return rte_pktmbuf_alloc_bulk(mp, mbufs, count);
}

void mipdp_pktmbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }

void mipdp_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned count)
{
	rte_pktmbuf_free_bulk(mbufs, count);
}

char *mipdp_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_prepend(m, len); }
char *mipdp_pktmbuf_append(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_append(m, len); }
char *mipdp_pktmbuf_adj(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_adj(m, len); }
int mipdp_pktmbuf_trim(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_trim(m, len); }
void *mipdp_pktmbuf_mtod(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, void *); }
uint16_t mipdp_pktmbuf_data_len(const struct rte_mbuf *m) { return rte_pktmbuf_data_len(m); }
uint32_t mipdp_pktmbuf_pkt_len(const struct rte_mbuf *m) { return rte_pktmbuf_pkt_len(m); }
uint16_t mipdp_pktmbuf_headroom(const struct rte_mbuf *m) { return rte_pktmbuf_headroom(m); }
uint16_t mipdp_pktmbuf_tailroom(const struct rte_mbuf *m) { return rte_pktmbuf_tailroom(m); }
uint16_t mipdp_pktmbuf_nb_segs(const struct rte_mbuf *m) { return m->nb_segs; }
uint16_t mipdp_pktmbuf_port(const struct rte_mbuf *m) { return m->port; }
uint32_t mipdp_pktmbuf_rss_hash(const struct rte_mbuf *m) { return m->hash.rss; }

unsigned mipdp_mempool_avail_count(const struct rte_mempool *mp) { return rte_mempool_avail_count(mp); }
unsigned mipdp_mempool_size(const struct rte_mempool *mp) { return mp->size; }
uint64_t mipdp_rss_ip(void) { return RTE_ETH_RSS_IP; }
