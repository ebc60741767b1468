//! Errors of the DPDK layer: what failed and DPDK's own reason.

use std::ffi::CStr;

use crate::ffi;

/// A DPDK call failed. The message names the step, the reason DPDK gave, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DpdkError {
    /// `rte_eal_init` refused the arguments or the environment.
    #[error("DPDK EAL initialisation failed: {reason} (check the EAL arguments after `--`; on a machine without hugepages pass `--no-huge -m 512`, and give each process its own `--file-prefix`)")]
    EalInit {
        /// DPDK's reason (rte_strerror of rte_errno).
        reason: String,
    },
    /// The EAL was already initialised in this process; DPDK allows it only once.
    #[error("DPDK EAL is already initialised in this process (it can be initialised only once)")]
    EalAlreadyInitialised,
    /// An EAL argument contained a NUL byte.
    #[error("EAL argument {0:?} contains a NUL byte")]
    BadArgument(String),
    /// A mbuf pool could not be created.
    #[error("cannot create mbuf pool {name:?} of {size} buffers: {reason} (lower the pool size or give DPDK more memory with `-m`)")]
    PoolCreate {
        /// Pool name.
        name: String,
        /// Number of buffers asked for.
        size: u32,
        /// DPDK's reason.
        reason: String,
    },
    /// No DPDK port has that device name.
    #[error("no DPDK port named {name:?}: add it to the EAL arguments (e.g. `--vdev {name}` for a virtual device, or `-a <PCI address>` for a NIC); ports present: {present}")]
    NoSuchPort {
        /// The name asked for.
        name: String,
        /// The ports that exist, comma separated.
        present: String,
    },
    /// A port operation failed.
    #[error("port {port} ({name}): {op} failed: {reason}")]
    Port {
        /// DPDK port id.
        port: u16,
        /// Device name.
        name: String,
        /// The operation (configure, rx queue setup, start, ...).
        op: &'static str,
        /// DPDK's reason.
        reason: String,
    },
    /// A queue of a port was asked for twice, or does not exist.
    #[error("port {port}: {kind} queue {queue} does not exist or is already taken")]
    QueueUnavailable {
        /// DPDK port id.
        port: u16,
        /// "rx" or "tx".
        kind: &'static str,
        /// Queue index.
        queue: u16,
    },
    /// A thread could not be registered with DPDK as an lcore.
    #[error("cannot register thread with DPDK: {reason}")]
    ThreadRegister {
        /// DPDK's reason.
        reason: String,
    },
}

/// DPDK's text for an errno value (positive, as DPDK returns them negated).
pub(crate) fn strerror(errnum: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated
    // string that stays valid until the next call on this thread; we copy it at once.
    let ptr = unsafe { ffi::rte_strerror(errnum.abs()) };
    if ptr.is_null() {
        return format!("error {errnum}");
    }
    // SAFETY: ptr is non-null and NUL-terminated (see above).
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_string_lossy().into_owned()
}

/// DPDK's per-lcore `rte_errno` as text.
pub(crate) fn last_error() -> String {
    // SAFETY: reads a thread-local int; always valid.
    let errnum = unsafe { ffi::mipdp_errno() };
    strerror(errnum)
}
