//! A pool of packet buffers (`rte_pktmbuf_pool_create`).

use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::eal::Eal;
use crate::error::{last_error, DpdkError};
use crate::ffi;
use crate::mbuf::{Mbuf, MbufError};

/// A DPDK packet-buffer pool. Clones share the pool.
///
/// Dropping the last handle frees the pool only when every buffer has come back; a pool
/// with buffers still out (in a NIC ring, say) is left allocated, so that no [`Mbuf`] can
/// point into freed memory.
#[derive(Clone)]
pub struct Mempool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    raw: NonNull<ffi::rte_mempool>,
    name: String,
    eal: Option<Eal>,
}

// SAFETY: an rte_mempool is designed to be used from many threads at once (its default
// ring_mp_mc ops are multi-producer multi-consumer); the pointer itself is never mutated.
unsafe impl Send for PoolInner {}
// SAFETY: see Send; every operation through &PoolInner is a thread-safe DPDK call.
unsafe impl Sync for PoolInner {}

impl Mempool {
    /// Creates a pool of `size` buffers with `cache` buffers cached per lcore and
    /// `data_room` bytes per buffer (headroom included; `RTE_MBUF_DEFAULT_BUF_SIZE` is 2176).
    pub fn new(
        eal: &Eal,
        name: &str,
        size: u32,
        cache: u32,
        data_room: u16,
    ) -> Result<Mempool, DpdkError> {
        let cname = CString::new(name).map_err(|_| DpdkError::BadArgument(name.to_string()))?;
        // SAFETY: EAL is initialised (eal borrowed); cname is a valid C string that DPDK
        // copies; the numeric arguments are checked by DPDK, which returns NULL on error.
        let raw = unsafe {
            ffi::rte_pktmbuf_pool_create(cname.as_ptr(), size, cache, 0, data_room, eal.socket_id())
        };
        match NonNull::new(raw) {
            Some(raw) => Ok(Mempool {
                inner: Arc::new(PoolInner {
                    raw,
                    name: name.to_string(),
                    eal: Some(eal.clone()),
                }),
            }),
            None => Err(DpdkError::PoolCreate {
                name: name.to_string(),
                size,
                reason: last_error(),
            }),
        }
    }

    /// Takes one buffer from the pool.
    pub fn alloc(&self) -> Result<Mbuf, MbufError> {
        // SAFETY: the pool pointer is valid while self lives; rte_pktmbuf_alloc returns a
        // reset mbuf owned by the caller, or NULL when the pool is empty.
        let raw = unsafe { ffi::mipdp_pktmbuf_alloc(self.inner.raw.as_ptr()) };
        NonNull::new(raw)
            .map(|raw| {
                // SAFETY: raw is a freshly allocated mbuf that nothing else owns.
                unsafe { Mbuf::from_raw(raw) }
            })
            .ok_or(MbufError::PoolExhausted)
    }

    /// Buffers currently in the pool (not handed out).
    pub fn available(&self) -> u32 {
        // SAFETY: the pool pointer is valid while self lives; the count is a read.
        unsafe { ffi::mipdp_mempool_avail_count(self.inner.raw.as_ptr()) }
    }

    /// Total buffers the pool was created with.
    pub fn size(&self) -> u32 {
        // SAFETY: the pool pointer is valid while self lives.
        unsafe { ffi::mipdp_mempool_size(self.inner.raw.as_ptr()) }
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The raw pool pointer, for port queue set-up.
    pub(crate) fn as_ptr(&self) -> *mut ffi::rte_mempool {
        self.inner.raw.as_ptr()
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        // SAFETY: the pool pointer is valid until freed below.
        let (avail, size) = unsafe {
            (
                ffi::mipdp_mempool_avail_count(self.raw.as_ptr()),
                ffi::mipdp_mempool_size(self.raw.as_ptr()),
            )
        };
        if avail == size {
            // SAFETY: every buffer is back in the pool, so no Mbuf points into it, and no
            // port references it any more (ports hold a Mempool clone until closed).
            unsafe { ffi::rte_mempool_free(self.raw.as_ptr()) };
        } else {
            log::debug!(
                "mbuf pool {} left allocated: {} of {} buffers still out",
                self.name,
                size - avail,
                size
            );
            // Keep the EAL alive too: buffers still out point into its memory.
            std::mem::forget(self.eal.take());
        }
    }
}
