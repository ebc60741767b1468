//! An Ethernet port (`rte_ethdev`): configuration, start/stop, link, counters, and its
//! RX/TX queues as separately owned handles, one per polling thread.

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::eal::Eal;
use crate::error::{strerror, DpdkError};
use crate::ffi;
use crate::mbuf::MbufBatch;
use crate::mempool::Mempool;

/// How a port is set up.
#[derive(Debug, Clone)]
pub struct PortConfig {
    /// RX queues (one per worker). More than one turns on RSS over IP addresses.
    pub rx_queues: u16,
    /// TX queues (one per worker plus one for the control thread).
    pub tx_queues: u16,
    /// RX descriptors per queue.
    pub rx_descriptors: u16,
    /// TX descriptors per queue.
    pub tx_descriptors: u16,
    /// MTU to set, or the device default.
    pub mtu: Option<u16>,
    /// Receive every frame whatever its destination MAC.
    pub promiscuous: bool,
    /// How many times a TX burst retries what the NIC did not take before freeing it.
    pub tx_retries: u32,
}

impl Default for PortConfig {
    fn default() -> Self {
        PortConfig {
            rx_queues: 1,
            tx_queues: 1,
            rx_descriptors: 1024,
            tx_descriptors: 1024,
            mtu: None,
            promiscuous: true,
            tx_retries: 8,
        }
    }
}

/// Link state as the driver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkStatus {
    /// Link up.
    pub up: bool,
    /// Speed in Mb/s (0 when unknown).
    pub speed_mbps: u32,
    /// Full duplex.
    pub full_duplex: bool,
}

/// The NIC's own counters (`rte_eth_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    /// Packets received.
    pub ipackets: u64,
    /// Packets sent.
    pub opackets: u64,
    /// Bytes received.
    pub ibytes: u64,
    /// Bytes sent.
    pub obytes: u64,
    /// Packets the NIC dropped because the RX ring was full.
    pub imissed: u64,
    /// Erroneous packets received.
    pub ierrors: u64,
    /// Failed transmissions.
    pub oerrors: u64,
    /// RX mbuf allocation failures.
    pub rx_nombuf: u64,
}

/// What a device is, before it is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The driver's name, e.g. `net_tap`, `net_ixgbe`, `mlx5_pci`.
    pub driver: String,
    /// Most RX queues the device offers.
    pub max_rx_queues: u16,
    /// Most TX queues the device offers.
    pub max_tx_queues: u16,
}

/// What a TX burst did with the batch it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxStats {
    /// Packets the NIC took.
    pub sent: u32,
    /// Packets freed after the retries ran out.
    pub dropped: u32,
}

struct PortInner {
    id: u16,
    name: String,
    tx_retries: u32,
    rss_hf: u64,
    taken: Mutex<(Vec<bool>, Vec<bool>)>,
    started: AtomicU64,
    _pool: Mempool,
    _eal: Eal,
}

/// A configured DPDK port. Clones share it; the port is stopped and closed when the last
/// handle and every queue taken from it are gone.
#[derive(Clone)]
pub struct Port {
    inner: Arc<PortInner>,
}

impl Port {
    /// Finds the port with DPDK device name `name` (e.g. `net_tap0`, `0000:01:00.0`).
    pub fn lookup(eal: &Eal, name: &str) -> Result<u16, DpdkError> {
        let cname = CString::new(name).map_err(|_| DpdkError::BadArgument(name.to_string()))?;
        let mut id: u16 = 0;
        // SAFETY: EAL initialised; cname is a valid C string; id is a valid out pointer.
        let ret = unsafe { ffi::rte_eth_dev_get_port_by_name(cname.as_ptr(), &mut id) };
        if ret != 0 {
            let present = Self::names(eal).join(", ");
            return Err(DpdkError::NoSuchPort {
                name: name.to_string(),
                present: if present.is_empty() {
                    "none".into()
                } else {
                    present
                },
            });
        }
        Ok(id)
    }

    /// The driver and queue limits of port `name`, before it is configured.
    pub fn device_info(eal: &Eal, name: &str) -> Result<DeviceInfo, DpdkError> {
        let id = Self::lookup(eal, name)?;
        let mut info = ffi::rte_eth_dev_info::default();
        // SAFETY: id is a valid port (lookup succeeded); info is a valid out struct.
        let ret = unsafe { ffi::rte_eth_dev_info_get(id, &mut info) };
        if ret != 0 {
            return Err(DpdkError::Port {
                port: id,
                name: name.to_string(),
                op: "reading device info",
                reason: strerror(ret),
            });
        }
        let driver = if info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: driver_name is a NUL-terminated static string owned by the driver.
            unsafe { CStr::from_ptr(info.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        Ok(DeviceInfo {
            driver,
            max_rx_queues: info.max_rx_queues,
            max_tx_queues: info.max_tx_queues,
        })
    }

    /// Device names of every available port, by port id.
    pub fn names(_eal: &Eal) -> Vec<String> {
        let mut out = Vec::new();
        for id in 0..ffi::RTE_MAX_ETHPORTS as u16 {
            if let Some(name) = port_name(id) {
                out.push(name);
            }
        }
        out
    }

    /// Configures port `name` with `config`, RX buffers from `pool`, and starts it.
    pub fn open(
        eal: &Eal,
        name: &str,
        config: &PortConfig,
        pool: &Mempool,
    ) -> Result<Port, DpdkError> {
        let id = Self::lookup(eal, name)?;
        let err = |op: &'static str, ret: i32| DpdkError::Port {
            port: id,
            name: name.to_string(),
            op,
            reason: strerror(ret),
        };

        let mut info = ffi::rte_eth_dev_info::default();
        // SAFETY: id is a valid port (lookup succeeded); info is a valid out struct.
        let ret = unsafe { ffi::rte_eth_dev_info_get(id, &mut info) };
        if ret != 0 {
            return Err(err("reading device info", ret));
        }
        if config.rx_queues > info.max_rx_queues || config.tx_queues > info.max_tx_queues {
            return Err(DpdkError::Port {
                port: id,
                name: name.to_string(),
                op: "configure",
                reason: format!(
                    "needs {} RX and {} TX queues, the device has at most {} and {} \
                     (fewer workers, or for net_pcap one rx_pcap/tx_pcap argument per queue)",
                    config.rx_queues, config.tx_queues, info.max_rx_queues, info.max_tx_queues
                ),
            });
        }

        let mut conf = ffi::rte_eth_conf::default();
        let mut rss_hf = 0;
        if config.rx_queues > 1 {
            // SAFETY: a pure function returning a constant.
            let wanted = unsafe { ffi::mipdp_rss_ip() };
            let rss = wanted & info.flow_type_rss_offloads;
            if rss != 0 {
                conf.rxmode.mq_mode = ffi::RTE_ETH_MQ_RX_RSS;
                conf.rx_adv_conf.rss_conf.rss_hf = rss;
                rss_hf = rss;
            } else {
                log::warn!(
                    "port {name}: device offers no RSS over IP addresses; \
                     its {} RX queues are filled as the driver decides",
                    config.rx_queues
                );
            }
        }
        // SAFETY: id valid; conf is a fully initialised rte_eth_conf that DPDK copies.
        let ret =
            unsafe { ffi::rte_eth_dev_configure(id, config.rx_queues, config.tx_queues, &conf) };
        if ret != 0 {
            return Err(err("configure", ret));
        }

        let mut rx_desc = config.rx_descriptors;
        let mut tx_desc = config.tx_descriptors;
        // SAFETY: id valid; both pointers are valid in/out u16s.
        let ret = unsafe { ffi::rte_eth_dev_adjust_nb_rx_tx_desc(id, &mut rx_desc, &mut tx_desc) };
        if ret != 0 {
            return Err(err("adjusting descriptor counts", ret));
        }
        // SAFETY: id valid and configured.
        let socket = unsafe { ffi::rte_eth_dev_socket_id(id) };
        let socket = if socket < 0 {
            ffi::SOCKET_ID_ANY
        } else {
            socket
        } as u32;
        for q in 0..config.rx_queues {
            // SAFETY: id valid and configured; q < configured RX queues; a NULL rx_conf asks
            // for the driver's defaults; the pool outlives the port (held in PortInner).
            let ret = unsafe {
                ffi::rte_eth_rx_queue_setup(id, q, rx_desc, socket, std::ptr::null(), pool.as_ptr())
            };
            if ret != 0 {
                return Err(err("RX queue set-up", ret));
            }
        }
        for q in 0..config.tx_queues {
            // SAFETY: id valid and configured; q < configured TX queues; NULL = defaults.
            let ret =
                unsafe { ffi::rte_eth_tx_queue_setup(id, q, tx_desc, socket, std::ptr::null()) };
            if ret != 0 {
                return Err(err("TX queue set-up", ret));
            }
        }
        if let Some(mtu) = config.mtu {
            // SAFETY: id valid and configured.
            let ret = unsafe { ffi::rte_eth_dev_set_mtu(id, mtu) };
            if ret != 0 {
                return Err(err("setting the MTU", ret));
            }
        }
        // SAFETY: id valid, configured, queues set up.
        let ret = unsafe { ffi::rte_eth_dev_start(id) };
        if ret != 0 {
            return Err(err("start", ret));
        }
        if config.promiscuous {
            // SAFETY: id valid and started. Not every virtual device supports it; a failure
            // is logged, not fatal.
            let ret = unsafe { ffi::rte_eth_promiscuous_enable(id) };
            if ret != 0 {
                log::debug!(
                    "port {name}: promiscuous mode not available: {}",
                    strerror(ret)
                );
            }
        }
        Ok(Port {
            inner: Arc::new(PortInner {
                id,
                name: name.to_string(),
                tx_retries: config.tx_retries,
                rss_hf,
                taken: Mutex::new((
                    vec![false; config.rx_queues as usize],
                    vec![false; config.tx_queues as usize],
                )),
                started: AtomicU64::new(1),
                _pool: pool.clone(),
                _eal: eal.clone(),
            }),
        })
    }

    /// DPDK port id.
    pub fn id(&self) -> u16 {
        self.inner.id
    }

    /// Device name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The RSS hash functions in use (`RTE_ETH_RSS_*` bits over IP addresses); 0 when the
    /// port has one RX queue or the device cannot spread flows.
    pub fn rss_hash_functions(&self) -> u64 {
        self.inner.rss_hf
    }

    /// The port's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        let mut addr = ffi::rte_ether_addr::default();
        // SAFETY: port id valid; addr is a valid out struct.
        let ret = unsafe { ffi::rte_eth_macaddr_get(self.inner.id, &mut addr) };
        if ret != 0 {
            return [0; 6];
        }
        addr.addr_bytes
    }

    /// Link state without waiting.
    pub fn link(&self) -> LinkStatus {
        let mut link = ffi::rte_eth_link::default();
        // SAFETY: port id valid; link is a valid out struct.
        let ret = unsafe { ffi::rte_eth_link_get_nowait(self.inner.id, &mut link) };
        if ret != 0 {
            return LinkStatus {
                up: false,
                speed_mbps: 0,
                full_duplex: false,
            };
        }
        LinkStatus {
            up: link.link_status() != 0,
            speed_mbps: link.link_speed,
            full_duplex: link.link_duplex() != 0,
        }
    }

    /// The NIC's counters.
    pub fn stats(&self) -> PortStats {
        let mut s = ffi::rte_eth_stats::default();
        // SAFETY: port id valid; s is a valid out struct.
        let ret = unsafe { ffi::rte_eth_stats_get(self.inner.id, &mut s) };
        if ret != 0 {
            return PortStats::default();
        }
        PortStats {
            ipackets: s.ipackets,
            opackets: s.opackets,
            ibytes: s.ibytes,
            obytes: s.obytes,
            imissed: s.imissed,
            ierrors: s.ierrors,
            oerrors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        }
    }

    /// Stops the port (RX and TX cease); idempotent. Dropping the last handle also stops it.
    pub fn stop(&self) {
        if self.inner.started.swap(0, Ordering::SeqCst) == 1 {
            // SAFETY: port id valid and started (checked by the flag).
            unsafe { ffi::rte_eth_dev_stop(self.inner.id) };
        }
    }

    /// Takes RX queue `queue`; each queue can be taken once.
    pub fn rx_queue(&self, queue: u16) -> Result<RxQueue, DpdkError> {
        self.take(queue, QueueKind::Rx)?;
        Ok(RxQueue {
            port: self.inner.id,
            queue,
            _port: self.inner.clone(),
        })
    }

    /// Takes TX queue `queue`; each queue can be taken once.
    pub fn tx_queue(&self, queue: u16) -> Result<TxQueue, DpdkError> {
        self.take(queue, QueueKind::Tx)?;
        Ok(TxQueue {
            port: self.inner.id,
            queue,
            retries: self.inner.tx_retries,
            sent: 0,
            dropped: 0,
            _port: self.inner.clone(),
        })
    }

    fn take(&self, queue: u16, kind: QueueKind) -> Result<(), DpdkError> {
        let unavailable = DpdkError::QueueUnavailable {
            port: self.inner.id,
            kind: kind.name(),
            queue,
        };
        let mut taken = match self.inner.taken.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let list = match kind {
            QueueKind::Rx => &mut taken.0,
            QueueKind::Tx => &mut taken.1,
        };
        match list.get_mut(queue as usize) {
            Some(slot) if !*slot => {
                *slot = true;
                Ok(())
            }
            _ => Err(unavailable),
        }
    }
}

#[derive(Clone, Copy)]
enum QueueKind {
    Rx,
    Tx,
}

impl QueueKind {
    fn name(self) -> &'static str {
        match self {
            QueueKind::Rx => "rx",
            QueueKind::Tx => "tx",
        }
    }
}

fn port_name(id: u16) -> Option<String> {
    // SAFETY: any id may be asked about; returns 0 only for a valid port.
    if unsafe { ffi::rte_eth_dev_is_valid_port(id) } == 0 {
        return None;
    }
    let mut buf = [0 as c_char; ffi::RTE_ETH_NAME_MAX_LEN as usize];
    // SAFETY: id is valid; buf has RTE_ETH_NAME_MAX_LEN bytes as the API requires.
    let ret = unsafe { ffi::rte_eth_dev_get_name_by_port(id, buf.as_mut_ptr()) };
    if ret != 0 {
        return None;
    }
    // SAFETY: DPDK wrote a NUL-terminated name into buf.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

impl Drop for PortInner {
    fn drop(&mut self) {
        // SAFETY: this is the last reference to the port: every queue handle holds a clone,
        // so no thread polls it any more. Stop (if started) then close, exactly once.
        unsafe {
            if self.started.swap(0, Ordering::SeqCst) == 1 {
                ffi::rte_eth_dev_stop(self.id);
            }
            ffi::rte_eth_dev_close(self.id);
        }
    }
}

/// One RX queue of a port, owned by the thread that polls it.
pub struct RxQueue {
    port: u16,
    queue: u16,
    _port: Arc<PortInner>,
}

impl RxQueue {
    /// Receives up to the free space of `batch`; returns how many arrived.
    pub fn burst(&mut self, batch: &mut MbufBatch) -> usize {
        let (slots, room) = batch.spare_raw();
        if room == 0 {
            return 0;
        }
        // SAFETY: this handle owns queue `queue` of a started port (queues are taken once),
        // so no other thread polls it; slots points at `room` writable pointer slots.
        let n = unsafe { ffi::mipdp_rx_burst(self.port, self.queue, slots, room) } as usize;
        batch.commit(n);
        n
    }

    /// Port id.
    pub fn port_id(&self) -> u16 {
        self.port
    }

    /// Queue index.
    pub fn queue_id(&self) -> u16 {
        self.queue
    }
}

/// One TX queue of a port, owned by the thread that sends on it.
pub struct TxQueue {
    port: u16,
    queue: u16,
    retries: u32,
    sent: u64,
    dropped: u64,
    _port: Arc<PortInner>,
}

impl TxQueue {
    /// Sends every buffer of `batch`, retrying what the NIC did not take up to the
    /// configured number of times; what is still left is freed and counted as dropped.
    /// The batch is empty afterwards.
    pub fn burst(&mut self, batch: &mut MbufBatch) -> TxStats {
        let mut stats = TxStats::default();
        let mut tries = 0;
        while !batch.is_empty() {
            let (slots, n) = batch.filled_raw();
            // SAFETY: this handle owns queue `queue` (taken once); slots holds n owned
            // mbufs; the driver takes ownership of the first `sent` of them.
            let sent = unsafe { ffi::mipdp_tx_burst(self.port, self.queue, slots, n) } as usize;
            batch.consume_front(sent);
            stats.sent += sent as u32;
            if sent == 0 {
                tries += 1;
                if tries > self.retries {
                    break;
                }
            }
        }
        stats.dropped = batch.len() as u32;
        for m in batch.drain() {
            drop(m);
        }
        self.sent += u64::from(stats.sent);
        self.dropped += u64::from(stats.dropped);
        stats
    }

    /// Packets sent over this queue's life.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Packets dropped because the NIC did not take them.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Port id.
    pub fn port_id(&self) -> u16 {
        self.port
    }

    /// Queue index.
    pub fn queue_id(&self) -> u16 {
        self.queue
    }
}
