/*
 * mipdp C shim: out-of-line wrappers for DPDK's static inline functions and
 * macros, which bindgen cannot bind. Each is a direct call; no logic here.
 */
#ifndef MIPDP_SHIM_H
#define MIPDP_SHIM_H
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

int mipdp_errno(void);
unsigned mipdp_lcore_id(void);
int mipdp_thread_register(void);
void mipdp_thread_unregister(void);

uint16_t mipdp_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t mipdp_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);

struct rte_mbuf *mipdp_pktmbuf_alloc(struct rte_mempool *mp);
int mipdp_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned count);
void mipdp_pktmbuf_free(struct rte_mbuf *m);
void mipdp_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned count);

char *mipdp_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len);
char *mipdp_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
char *mipdp_pktmbuf_adj(struct rte_mbuf *m, uint16_t len);
int mipdp_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);
void *mipdp_pktmbuf_mtod(struct rte_mbuf *m);
uint16_t mipdp_pktmbuf_data_len(const struct rte_mbuf *m);
uint32_t mipdp_pktmbuf_pkt_len(const struct rte_mbuf *m);
uint16_t mipdp_pktmbuf_headroom(const struct rte_mbuf *m);
uint16_t mipdp_pktmbuf_tailroom(const struct rte_mbuf *m);
uint16_t mipdp_pktmbuf_nb_segs(const struct rte_mbuf *m);
uint16_t mipdp_pktmbuf_port(const struct rte_mbuf *m);
uint32_t mipdp_pktmbuf_rss_hash(const struct rte_mbuf *m);

unsigned mipdp_mempool_avail_count(const struct rte_mempool *mp);
unsigned mipdp_mempool_size(const struct rte_mempool *mp);
uint64_t mipdp_rss_ip(void);

#endif
