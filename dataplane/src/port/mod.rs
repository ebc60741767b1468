//! The Port traits the worker polls, with a DPDK backend ([`dpdk`]) and an in-memory
//! backend for tests ([`memory`]).
//!
//! A worker is generic over its queue types, so the same loop and the same processing run
//! on a NIC, on a DPDK virtual device, or on queues a test fills and empties. [`template`]
//! wraps any RX queue to replace what it receives with preloaded frames (a benchmark aid).

pub mod dpdk;
pub mod memory;
pub mod template;

/// Why a buffer edit was refused (bounds are checked; nothing is written out of range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufError {
    /// Not enough room before the data.
    NoHeadroom,
    /// Not enough room after the data.
    NoTailroom,
    /// Fewer bytes than asked to remove.
    TooShort,
}

/// A packet buffer with room to grow at the front (for tunnel headers).
pub trait PacketBuf: Send {
    /// The packet bytes.
    fn data(&self) -> &[u8];
    /// The packet bytes, writable.
    fn data_mut(&mut self) -> &mut [u8];
    /// Free bytes before the data.
    fn headroom(&self) -> usize;
    /// Grows the front by `n` bytes and returns the whole packet, new bytes first.
    fn prepend(&mut self, n: usize) -> Result<&mut [u8], BufError>;
    /// Removes `n` bytes from the front.
    fn adj(&mut self, n: usize) -> Result<(), BufError>;
    /// Grows the end by `n` bytes and returns them.
    fn append(&mut self, n: usize) -> Result<&mut [u8], BufError>;
    /// Removes `n` bytes from the end.
    fn trim(&mut self, n: usize) -> Result<(), BufError>;
    /// A copy of the packet in a new buffer from the same pool (default headroom);
    /// None when the pool is empty.
    fn duplicate(&self) -> Option<Self>
    where
        Self: Sized;
}

/// A burst's worth of packets (at most 32), stored without allocation.
pub trait PacketBatch: Default + Send {
    /// The packet type.
    type Packet: PacketBuf;
    /// Packets held.
    fn len(&self) -> usize;
    /// Whether empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether full.
    fn is_full(&self) -> bool;
    /// Adds a packet; hands it back when full.
    fn push(&mut self, packet: Self::Packet) -> Result<(), Self::Packet>;
    /// Takes the last packet out.
    fn pop(&mut self) -> Option<Self::Packet>;
    /// Visits every packet in order with its index, writable.
    fn for_each_mut<F: FnMut(usize, &mut Self::Packet)>(&mut self, f: F);
    /// Takes every packet out in order, handing each to `f`; the batch is empty afterwards.
    fn drain_each<F: FnMut(Self::Packet)>(&mut self, f: F);
}

/// What a TX burst did: sent, or dropped after the retry bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxOutcome {
    /// Packets the port took.
    pub sent: u32,
    /// Packets freed because the port would not take them.
    pub dropped: u32,
}

/// An RX queue a worker polls.
pub trait RxPort: Send {
    /// The batch type it fills.
    type Batch: PacketBatch;
    /// Receives into the free space of `batch`; returns how many arrived.
    fn rx_burst(&mut self, batch: &mut Self::Batch) -> usize;
}

/// A TX queue a worker sends on.
pub trait TxPort: Send {
    /// The batch type it drains.
    type Batch: PacketBatch;
    /// Sends the whole batch (retrying within a bound); the batch is empty afterwards.
    fn tx_burst(&mut self, batch: &mut Self::Batch) -> TxOutcome;
}
