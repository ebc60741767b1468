//! mipdp-dpdk: the only crate of mipdp that touches DPDK.
//!
//! `ffi` holds what bindgen generated from the system DPDK (22.11) plus a C shim for
//! DPDK's static inline functions. On top sits a thin safe layer modelled on capsule's:
//! [`Eal`], [`Mempool`], [`Mbuf`], [`Port`], [`RxQueue`] and [`TxQueue`]. Every `unsafe`
//! block of the workspace lives here, each with a `SAFETY:` comment saying why it holds.

pub mod alloc_count;
pub mod eal;
pub mod error;
pub mod ffi;
pub mod mbuf;
pub mod mempool;
pub mod port;
pub mod prefetch;

pub use eal::{register_thread, Eal};
pub use error::DpdkError;
pub use mbuf::{Mbuf, MbufBatch, MbufError, BURST_SIZE};
pub use mempool::Mempool;
pub use port::{DeviceInfo, LinkStatus, Port, PortConfig, PortStats, RxQueue, TxQueue, TxStats};
pub use prefetch::{prefetch, prefetch_all};
