//! The in-memory backend: ports whose RX and TX are bounded queues that a test fills and
//! empties, with packet buffers from a fixed pool allocated once (like a mempool), so that
//! the worker loop runs exactly as on DPDK and allocates nothing per packet.

use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

use super::{BufError, PacketBatch, PacketBuf, RxPort, TxOutcome, TxPort};

/// Bytes per buffer, like DPDK's default data room.
pub const BUF_SIZE: usize = 2176;
/// Headroom a fresh buffer starts with, like RTE_PKTMBUF_HEADROOM.
pub const HEADROOM: usize = 128;
/// Packets per burst, as on DPDK.
pub const BURST: usize = 32;

/// A fixed pool of buffers shared by the memory ports of a test.
#[derive(Clone)]
pub struct MemPool {
    free: Arc<ArrayQueue<Box<[u8]>>>,
}

impl MemPool {
    /// A pool of `n` buffers, allocated now.
    pub fn new(n: usize) -> MemPool {
        let free = ArrayQueue::new(n.max(1));
        for _ in 0..n {
            let _ = free.push(vec![0u8; BUF_SIZE].into_boxed_slice());
        }
        MemPool {
            free: Arc::new(free),
        }
    }

    /// A packet holding a copy of `bytes` (truncated to the buffer), or None when empty.
    pub fn packet(&self, bytes: &[u8]) -> Option<MemPacket> {
        let buf = self.free.pop()?;
        let len = bytes.len().min(BUF_SIZE - HEADROOM);
        let mut p = MemPacket {
            buf: Some(buf),
            start: HEADROOM,
            len,
            pool: self.free.clone(),
        };
        p.data_mut().copy_from_slice(&bytes[..len]);
        Some(p)
    }

    /// Buffers in the pool.
    pub fn available(&self) -> usize {
        self.free.len()
    }
}

/// A packet in a pooled buffer; dropping it returns the buffer.
pub struct MemPacket {
    buf: Option<Box<[u8]>>,
    start: usize,
    len: usize,
    pool: Arc<ArrayQueue<Box<[u8]>>>,
}

impl MemPacket {
    fn buf(&self) -> &[u8] {
        self.buf.as_deref().unwrap_or(&[])
    }
    fn buf_mut(&mut self) -> &mut [u8] {
        self.buf.as_deref_mut().unwrap_or(&mut [])
    }
}

impl Drop for MemPacket {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            let _ = self.pool.push(buf);
        }
    }
}

impl PacketBuf for MemPacket {
    fn data(&self) -> &[u8] {
        let (s, l) = (self.start, self.len);
        self.buf().get(s..s + l).unwrap_or(&[])
    }
    fn data_mut(&mut self) -> &mut [u8] {
        let (s, l) = (self.start, self.len);
        self.buf_mut().get_mut(s..s + l).unwrap_or(&mut [])
    }
    fn headroom(&self) -> usize {
        self.start
    }
    fn prepend(&mut self, n: usize) -> Result<&mut [u8], BufError> {
        if n > self.start {
            return Err(BufError::NoHeadroom);
        }
        self.start -= n;
        self.len += n;
        Ok(self.data_mut())
    }
    fn adj(&mut self, n: usize) -> Result<(), BufError> {
        if n > self.len {
            return Err(BufError::TooShort);
        }
        self.start += n;
        self.len -= n;
        Ok(())
    }
    fn append(&mut self, n: usize) -> Result<&mut [u8], BufError> {
        if self.start + self.len + n > self.buf().len() {
            return Err(BufError::NoTailroom);
        }
        let end = self.start + self.len;
        self.len += n;
        Ok(self.buf_mut().get_mut(end..end + n).unwrap_or(&mut []))
    }
    fn trim(&mut self, n: usize) -> Result<(), BufError> {
        if n > self.len {
            return Err(BufError::TooShort);
        }
        self.len -= n;
        Ok(())
    }
    fn duplicate(&self) -> Option<MemPacket> {
        MemPool {
            free: self.pool.clone(),
        }
        .packet(self.data())
    }
}

/// Up to [`BURST`] memory packets.
#[derive(Default)]
pub struct MemBatch {
    slots: [Option<MemPacket>; BURST],
    packets: usize,
}

impl PacketBatch for MemBatch {
    type Packet = MemPacket;
    fn len(&self) -> usize {
        self.packets
    }
    fn is_full(&self) -> bool {
        self.packets == BURST
    }
    fn push(&mut self, packet: MemPacket) -> Result<(), MemPacket> {
        match self.slots.get_mut(self.packets) {
            Some(slot) => {
                *slot = Some(packet);
                self.packets += 1;
                Ok(())
            }
            None => Err(packet),
        }
    }
    fn pop(&mut self) -> Option<MemPacket> {
        if self.packets == 0 {
            return None;
        }
        self.packets -= 1;
        self.slots[self.packets].take()
    }
    fn for_each_mut<F: FnMut(usize, &mut MemPacket)>(&mut self, mut f: F) {
        for (i, slot) in self.slots[..self.packets].iter_mut().enumerate() {
            if let Some(p) = slot {
                f(i, p);
            }
        }
    }
    fn drain_each<F: FnMut(MemPacket)>(&mut self, mut f: F) {
        let n = std::mem::replace(&mut self.packets, 0);
        for slot in &mut self.slots[..n] {
            if let Some(p) = slot.take() {
                f(p);
            }
        }
    }
}

/// A test's handle on one memory port: put packets in, take what the worker sent out.
#[derive(Clone)]
pub struct MemPortHandle {
    pool: MemPool,
    rx: Arc<ArrayQueue<MemPacket>>,
    tx: Arc<ArrayQueue<MemPacket>>,
}

impl MemPortHandle {
    /// Queues a copy of `bytes` for the worker to receive. False when the pool or the RX
    /// ring is full (the packet is then lost, as on a NIC).
    pub fn inject(&self, bytes: &[u8]) -> bool {
        match self.pool.packet(bytes) {
            Some(p) => self.rx.push(p).is_ok(),
            None => false,
        }
    }

    /// Takes one packet the worker sent out of this port.
    pub fn take_sent(&self) -> Option<MemPacket> {
        self.tx.pop()
    }

    /// Packets sent and not yet taken.
    pub fn sent_len(&self) -> usize {
        self.tx.len()
    }
}

/// The worker's side of a memory port's RX queue.
pub struct MemRx {
    ring: Arc<ArrayQueue<MemPacket>>,
}

/// The worker's side of a memory port's TX queue.
pub struct MemTx {
    ring: Arc<ArrayQueue<MemPacket>>,
}

/// Creates a memory port with RX and TX rings of `ring` packets over `pool`.
pub fn memory_port(pool: &MemPool, ring: usize) -> (MemPortHandle, MemRx, MemTx) {
    let rx = Arc::new(ArrayQueue::new(ring.max(1)));
    let tx = Arc::new(ArrayQueue::new(ring.max(1)));
    (
        MemPortHandle {
            pool: pool.clone(),
            rx: rx.clone(),
            tx: tx.clone(),
        },
        MemRx { ring: rx },
        MemTx { ring: tx },
    )
}

impl RxPort for MemRx {
    type Batch = MemBatch;
    fn rx_burst(&mut self, batch: &mut MemBatch) -> usize {
        let mut n = 0;
        while !batch.is_full() {
            match self.ring.pop() {
                Some(p) => {
                    if batch.push(p).is_err() {
                        break;
                    }
                    n += 1;
                }
                None => break,
            }
        }
        n
    }
}

impl TxPort for MemTx {
    type Batch = MemBatch;
    fn tx_burst(&mut self, batch: &mut MemBatch) -> TxOutcome {
        let mut out = TxOutcome::default();
        let ring = &self.ring;
        batch.drain_each(|p| match ring.push(p) {
            Ok(()) => out.sent += 1,
            Err(p) => {
                out.dropped += 1;
                drop(p);
            }
        });
        out
    }
}
