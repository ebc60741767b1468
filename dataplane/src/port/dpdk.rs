//! The DPDK backend: mipdp-dpdk's queues and mbufs behind the Port traits.

use mipdp_dpdk::{Mbuf, MbufBatch, MbufError, RxQueue, TxQueue};

use super::{BufError, PacketBatch, PacketBuf, RxPort, TxOutcome, TxPort};

fn buf_error(e: MbufError) -> BufError {
    match e {
        MbufError::NoHeadroom => BufError::NoHeadroom,
        MbufError::NoTailroom | MbufError::Chained | MbufError::PoolExhausted => {
            BufError::NoTailroom
        }
        MbufError::TooShort => BufError::TooShort,
    }
}

impl PacketBuf for Mbuf {
    #[inline]
    fn data(&self) -> &[u8] {
        Mbuf::data(self)
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        Mbuf::data_mut(self)
    }
    #[inline]
    fn headroom(&self) -> usize {
        Mbuf::headroom(self)
    }
    #[inline]
    fn prepend(&mut self, n: usize) -> Result<&mut [u8], BufError> {
        Mbuf::prepend(self, n).map_err(buf_error)
    }
    #[inline]
    fn adj(&mut self, n: usize) -> Result<(), BufError> {
        Mbuf::adj(self, n).map_err(buf_error)
    }
    #[inline]
    fn append(&mut self, n: usize) -> Result<&mut [u8], BufError> {
        Mbuf::append(self, n).map_err(buf_error)
    }
    #[inline]
    fn trim(&mut self, n: usize) -> Result<(), BufError> {
        Mbuf::trim(self, n).map_err(buf_error)
    }
    #[inline]
    fn duplicate(&self) -> Option<Mbuf> {
        Mbuf::duplicate(self).ok()
    }
}

impl PacketBatch for MbufBatch {
    type Packet = Mbuf;
    #[inline]
    fn len(&self) -> usize {
        MbufBatch::len(self)
    }
    #[inline]
    fn is_full(&self) -> bool {
        MbufBatch::is_full(self)
    }
    #[inline]
    fn push(&mut self, packet: Mbuf) -> Result<(), Mbuf> {
        MbufBatch::push(self, packet)
    }
    #[inline]
    fn pop(&mut self) -> Option<Mbuf> {
        MbufBatch::pop(self)
    }
    #[inline]
    fn for_each_mut<F: FnMut(usize, &mut Mbuf)>(&mut self, mut f: F) {
        for (i, m) in self.as_mut_slice().iter_mut().enumerate() {
            f(i, m);
        }
    }
    #[inline]
    fn drain_each<F: FnMut(Mbuf)>(&mut self, f: F) {
        self.drain().for_each(f)
    }
}

impl RxPort for RxQueue {
    type Batch = MbufBatch;
    #[inline]
    fn rx_burst(&mut self, batch: &mut MbufBatch) -> usize {
        self.burst(batch)
    }
}

impl TxPort for TxQueue {
    type Batch = MbufBatch;
    #[inline]
    fn tx_burst(&mut self, batch: &mut MbufBatch) -> TxOutcome {
        let s = self.burst(batch);
        TxOutcome {
            sent: s.sent,
            dropped: s.dropped,
        }
    }
}
