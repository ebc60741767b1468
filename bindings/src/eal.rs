//! The DPDK environment abstraction layer: initialised once per process, cleaned up on drop.

use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{last_error, DpdkError};
use crate::ffi;

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// A handle on the initialised EAL. Clones share it; `rte_eal_cleanup` runs when the
/// last handle, and every pool and port made from it, is gone.
#[derive(Clone)]
pub struct Eal {
    _inner: Arc<EalInner>,
}

struct EalInner {
    // Keeps the argument strings alive: DPDK may keep pointers into argv.
    _args: Vec<CString>,
}

impl Eal {
    /// Initialises DPDK with `args` as its command line (`args[0]` is the program name).
    ///
    /// Fails with a clear reason on bad arguments or when the EAL cannot start; DPDK allows
    /// one initialisation per process, so a second call fails with
    /// [`DpdkError::EalAlreadyInitialised`].
    pub fn init<S: AsRef<str>>(args: &[S]) -> Result<Eal, DpdkError> {
        if INITIALISED.swap(true, Ordering::SeqCst) {
            return Err(DpdkError::EalAlreadyInitialised);
        }
        let mut owned = Vec::with_capacity(args.len() + 1);
        if args.is_empty() {
            owned.push(CString::new("mipdp").map_err(|_| DpdkError::BadArgument("mipdp".into()))?);
        }
        for a in args {
            let a = a.as_ref();
            owned.push(CString::new(a).map_err(|_| DpdkError::BadArgument(a.to_string()))?);
        }
        let mut argv: Vec<*mut c_char> = owned.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        let argc = argv.len() as i32;
        // SAFETY: argv holds argc valid NUL-terminated strings owned by `owned`, which is
        // kept in the returned handle for the life of the EAL. rte_eal_init may permute
        // argv's pointers but does not write through them.
        let ret = unsafe { ffi::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            let reason = last_error();
            INITIALISED.store(false, Ordering::SeqCst);
            return Err(DpdkError::EalInit { reason });
        }
        Ok(Eal {
            _inner: Arc::new(EalInner { _args: owned }),
        })
    }

    /// The NUMA socket of the calling thread's lcore, or `SOCKET_ID_ANY`.
    pub fn socket_id(&self) -> i32 {
        // SAFETY: EAL is initialised (self exists); rte_socket_id only reads per-lcore state.
        unsafe { ffi::rte_socket_id() as i32 }
    }

    /// Number of DPDK ports that are available.
    pub fn port_count(&self) -> u16 {
        // SAFETY: EAL is initialised; the call only reads the ethdev table.
        unsafe { ffi::rte_eth_dev_count_avail() }
    }
}

impl Drop for EalInner {
    fn drop(&mut self) {
        // SAFETY: this is the last handle on the EAL: every Mempool and Port holds an Eal
        // clone, so none outlives this point, and Mbufs cannot outlive their pool's handle
        // (a pool with buffers still out is leaked together with its Eal clone).
        unsafe {
            ffi::rte_eal_cleanup();
        }
    }
}

/// Registers the calling (non-EAL) thread with DPDK so that it gets an lcore id and
/// per-lcore mempool caches. Call once at the start of every worker thread.
pub fn register_thread(_eal: &Eal) -> Result<u32, DpdkError> {
    // SAFETY: EAL is initialised (an Eal handle is borrowed); registering the calling
    // thread touches only DPDK's lcore table under its own lock.
    let ret = unsafe { ffi::mipdp_thread_register() };
    if ret < 0 {
        return Err(DpdkError::ThreadRegister {
            reason: last_error(),
        });
    }
    // SAFETY: reads the calling thread's per-lcore variable.
    Ok(unsafe { ffi::mipdp_lcore_id() })
}
