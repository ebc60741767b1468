//! An owned packet buffer (`rte_mbuf`) and a fixed-size batch of them.

use std::ptr::NonNull;

use crate::ffi;

/// Packets per RX/TX burst.
pub const BURST_SIZE: usize = 32;

/// Why a buffer operation was refused. Never a crash: bounds are checked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MbufError {
    /// The pool has no free buffer.
    #[error("mbuf pool exhausted")]
    PoolExhausted,
    /// Not enough headroom to prepend.
    #[error("not enough headroom")]
    NoHeadroom,
    /// Not enough tailroom to append.
    #[error("not enough tailroom")]
    NoTailroom,
    /// Asked to remove more bytes than the packet has.
    #[error("packet shorter than the bytes to remove")]
    TooShort,
    /// The operation needs a single-segment buffer.
    #[error("operation on a chained (multi-segment) buffer")]
    Chained,
}

/// An owned DPDK packet buffer. Dropping it returns it to its pool.
///
/// `repr(transparent)` over the pointer so that a slice of `Mbuf` is a `struct rte_mbuf **`
/// array for the burst functions.
#[repr(transparent)]
pub struct Mbuf {
    raw: NonNull<ffi::rte_mbuf>,
}

// SAFETY: an Mbuf is uniquely owned (no clones); moving it to another thread moves that
// ownership. Freeing from any thread is allowed by DPDK's mempool.
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Wraps a raw mbuf.
    ///
    /// # Safety
    /// `raw` must be a valid mbuf that the caller owns and hands over.
    pub(crate) unsafe fn from_raw(raw: NonNull<ffi::rte_mbuf>) -> Mbuf {
        Mbuf { raw }
    }

    /// Gives up ownership without freeing.
    pub(crate) fn into_raw(self) -> *mut ffi::rte_mbuf {
        let raw = self.raw.as_ptr();
        std::mem::forget(self);
        raw
    }

    #[inline(always)]
    fn ptr(&self) -> *mut ffi::rte_mbuf {
        self.raw.as_ptr()
    }

    /// Bytes of the first segment.
    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: self owns a valid mbuf; reading a field of it.
        unsafe { (*self.ptr()).data_len as usize }
    }

    /// Whether the first segment holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the whole packet over all segments.
    pub fn pkt_len(&self) -> usize {
        // SAFETY: self owns a valid mbuf.
        unsafe { ffi::mipdp_pktmbuf_pkt_len(self.ptr()) as usize }
    }

    /// Number of segments.
    #[inline]
    pub fn segments(&self) -> u16 {
        // SAFETY: self owns a valid mbuf; reading a field of it.
        unsafe { (*self.ptr()).nb_segs }
    }

    /// The port the packet came in on.
    pub fn port(&self) -> u16 {
        // SAFETY: self owns a valid mbuf.
        unsafe { ffi::mipdp_pktmbuf_port(self.ptr()) }
    }

    /// The RSS hash the NIC computed, when it did.
    pub fn rss_hash(&self) -> u32 {
        // SAFETY: self owns a valid mbuf.
        unsafe { ffi::mipdp_pktmbuf_rss_hash(self.ptr()) }
    }

    /// Free bytes before the data.
    #[inline]
    pub fn headroom(&self) -> usize {
        // SAFETY: self owns a valid mbuf; rte_pktmbuf_headroom is data_off.
        unsafe { (*self.ptr()).data_off as usize }
    }

    /// Free bytes after the data of the first segment (the last, for the single-segment
    /// buffers the dataplane handles).
    #[inline]
    pub fn tailroom(&self) -> usize {
        // SAFETY: self owns a valid mbuf; reading fields of it.
        let m = unsafe { &*self.ptr() };
        usize::from(m.buf_len).saturating_sub(usize::from(m.data_off) + usize::from(m.data_len))
    }

    /// Start of the data: buf_addr + data_off, as rte_pktmbuf_mtod computes it.
    #[inline]
    fn mtod(&self) -> *mut u8 {
        // SAFETY: self owns a valid mbuf; data_off <= buf_len keeps the result inside the
        // buffer (DPDK's invariant, kept by every operation of this type).
        unsafe {
            let m = &*self.ptr();
            (m.buf_addr as *mut u8).add(m.data_off as usize)
        }
    }

    /// The first segment's bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: mtod points at data_len initialised bytes inside the mbuf's buffer, which
        // lives as long as self; &self prevents a concurrent mutation through self.
        unsafe { std::slice::from_raw_parts(self.mtod(), self.len()) }
    }

    /// The first segment's bytes, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as data(); &mut self makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.mtod(), self.len()) }
    }

    /// Grows the packet at the front by `n` bytes (for a new outer header) and returns
    /// the whole data, new bytes first. Fails when the headroom is too small.
    ///
    /// What `rte_pktmbuf_prepend` does, written here: DPDK's is `static inline`, so
    /// through the C shim it was a real call per packet.
    #[inline]
    pub fn prepend(&mut self, n: usize) -> Result<&mut [u8], MbufError> {
        if n > self.headroom() {
            return Err(MbufError::NoHeadroom);
        }
        let n16 = n as u16;
        // SAFETY: self owns a valid mbuf (no other reference to it exists while &mut self
        // lives). n <= data_off (checked), so data_off stays >= 0 and the data start stays
        // inside the buffer; data_off + data_len is unchanged, so the data end does too
        // (data_len + n <= buf_len fits u16). pkt_len grows by the same n.
        unsafe {
            let m = &mut *self.ptr();
            m.data_off -= n16;
            m.data_len += n16;
            m.pkt_len += u32::from(n16);
        }
        Ok(self.data_mut())
    }

    /// Removes `n` bytes from the front (strips an outer header); `rte_pktmbuf_adj`
    /// written here, as [`Self::prepend`].
    #[inline]
    pub fn adj(&mut self, n: usize) -> Result<(), MbufError> {
        if n > self.len() {
            return Err(MbufError::TooShort);
        }
        let n16 = n as u16;
        // SAFETY: self owns a valid mbuf, uniquely borrowed. n <= data_len (checked), so
        // the new data start data_off + n is still at or before the data end, inside the
        // buffer; pkt_len >= data_len >= n.
        unsafe {
            let m = &mut *self.ptr();
            m.data_off += n16;
            m.data_len -= n16;
            m.pkt_len -= u32::from(n16);
        }
        Ok(())
    }

    /// Grows the packet at the end by `n` bytes and returns the new bytes;
    /// `rte_pktmbuf_append` written here, as [`Self::prepend`].
    #[inline]
    pub fn append(&mut self, n: usize) -> Result<&mut [u8], MbufError> {
        if self.segments() != 1 {
            return Err(MbufError::Chained);
        }
        if n > self.tailroom() {
            return Err(MbufError::NoTailroom);
        }
        let n16 = n as u16;
        // SAFETY: self owns a valid single-segment mbuf (checked), uniquely borrowed; n
        // fits the tailroom (checked), so data_off + data_len + n <= buf_len: the data
        // stays inside the buffer. pkt_len (= data_len for one segment) grows alike.
        unsafe {
            let m = &mut *self.ptr();
            m.data_len += n16;
            m.pkt_len += u32::from(n16);
        }
        let len = self.len();
        Ok(&mut self.data_mut()[len - n..])
    }

    /// A copy of this (single-segment) packet in a new buffer from the same pool, with
    /// the pool's default headroom. Fails when the pool is empty.
    pub fn duplicate(&self) -> Result<Mbuf, MbufError> {
        if self.segments() != 1 {
            return Err(MbufError::Chained);
        }
        // SAFETY: self owns a valid mbuf; its pool field points at the mempool it was
        // allocated from, which outlives every buffer taken from it (Mempool's Drop leaves
        // the pool allocated while buffers are out).
        let pool = unsafe { (*self.ptr()).pool };
        // SAFETY: pool is a valid mempool (above); rte_pktmbuf_alloc returns NULL or a
        // fresh mbuf that nothing else owns.
        let raw = unsafe { ffi::mipdp_pktmbuf_alloc(pool) };
        let raw = NonNull::new(raw).ok_or(MbufError::PoolExhausted)?;
        // SAFETY: raw is a fresh mbuf handed over to the new Mbuf.
        let mut copy = unsafe { Mbuf::from_raw(raw) };
        copy.append(self.len())?.copy_from_slice(self.data());
        Ok(copy)
    }

    /// Removes `n` bytes from the end; `rte_pktmbuf_trim` written here, as
    /// [`Self::prepend`].
    #[inline]
    pub fn trim(&mut self, n: usize) -> Result<(), MbufError> {
        if self.segments() != 1 {
            return Err(MbufError::Chained);
        }
        if n > self.len() {
            return Err(MbufError::TooShort);
        }
        let n16 = n as u16;
        // SAFETY: self owns a valid single-segment mbuf (checked), uniquely borrowed;
        // n <= data_len (checked) and pkt_len = data_len for one segment.
        unsafe {
            let m = &mut *self.ptr();
            m.data_len -= n16;
            m.pkt_len -= u32::from(n16);
        }
        Ok(())
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: self owns the mbuf; it is returned to its pool exactly once.
        unsafe { ffi::mipdp_pktmbuf_free(self.ptr()) }
    }
}

/// Up to [`BURST_SIZE`] owned buffers: what one RX burst fills and one TX burst drains.
/// Lives on the worker's stack or in its state; never allocates.
pub struct MbufBatch {
    slots: [*mut ffi::rte_mbuf; BURST_SIZE],
    len: usize,
}

// SAFETY: the batch uniquely owns the mbufs in slots[..len] (like Vec<Mbuf>).
unsafe impl Send for MbufBatch {}

impl Default for MbufBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl MbufBatch {
    /// An empty batch.
    pub const fn new() -> MbufBatch {
        MbufBatch {
            slots: [std::ptr::null_mut(); BURST_SIZE],
            len: 0,
        }
    }

    /// Buffers held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the batch is full.
    pub fn is_full(&self) -> bool {
        self.len == BURST_SIZE
    }

    /// Adds a buffer; hands it back when the batch is full.
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        if self.len == BURST_SIZE {
            return Err(m);
        }
        self.slots[self.len] = m.into_raw();
        self.len += 1;
        Ok(())
    }

    /// Takes the last buffer out.
    pub fn pop(&mut self) -> Option<Mbuf> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let raw = std::mem::replace(&mut self.slots[self.len], std::ptr::null_mut());
        // SAFETY: slots[..len] hold owned, non-null mbufs; this one leaves the batch.
        NonNull::new(raw).map(|raw| unsafe { Mbuf::from_raw(raw) })
    }

    /// Takes every buffer out, in order, leaving the batch empty.
    pub fn drain(&mut self) -> impl Iterator<Item = Mbuf> + '_ {
        let n = std::mem::replace(&mut self.len, 0);
        self.slots[..n].iter_mut().filter_map(|slot| {
            let raw = std::mem::replace(slot, std::ptr::null_mut());
            // SAFETY: slots[..n] held owned, non-null mbufs; each leaves the batch once.
            NonNull::new(raw).map(|raw| unsafe { Mbuf::from_raw(raw) })
        })
    }

    /// The buffers, as a slice of owned Mbufs.
    pub fn as_slice(&self) -> &[Mbuf] {
        // SAFETY: Mbuf is repr(transparent) over NonNull<rte_mbuf>, and slots[..len] are
        // non-null owned mbufs.
        unsafe { std::slice::from_raw_parts(self.slots.as_ptr() as *const Mbuf, self.len) }
    }

    /// The buffers, writable.
    pub fn as_mut_slice(&mut self) -> &mut [Mbuf] {
        // SAFETY: as as_slice; &mut self makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.slots.as_mut_ptr() as *mut Mbuf, self.len) }
    }

    /// Raw slots for an RX burst into the free tail.
    pub(crate) fn spare_raw(&mut self) -> (*mut *mut ffi::rte_mbuf, u16) {
        // SAFETY: len <= BURST_SIZE, so the pointer stays within (or one past) slots.
        let p = unsafe { self.slots.as_mut_ptr().add(self.len) };
        (p, (BURST_SIZE - self.len) as u16)
    }

    /// Records that an RX burst filled `n` more slots.
    pub(crate) fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(BURST_SIZE);
    }

    /// Raw pointer to the filled slots for a TX burst.
    pub(crate) fn filled_raw(&mut self) -> (*mut *mut ffi::rte_mbuf, u16) {
        (self.slots.as_mut_ptr(), self.len as u16)
    }

    /// Forgets the first `n` buffers (the NIC took them) and moves the rest to the front.
    pub(crate) fn consume_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.slots.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

impl Drop for MbufBatch {
    fn drop(&mut self) {
        for m in self.drain() {
            drop(m);
        }
    }
}
