//! A counting global allocator for tests that show a path allocates nothing.
//!
//! It lives here because implementing `GlobalAlloc` takes `unsafe`, and this is the only
//! crate allowed any. Install it in a test binary with
//! `#[global_allocator] static A: CountingAlloc = CountingAlloc::new();`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// This thread's allocations and reallocations (a const-initialised `Cell`: no lazy
    /// initialisation and no destructor, so the allocator may use it).
    static THREAD_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one allocation in every thread's total and in this thread's.
fn count(total: &AtomicU64) {
    total.fetch_add(1, Ordering::Relaxed);
    // Once the thread's locals are gone (thread exit), only the total counts.
    let _ = THREAD_ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

/// Forwards to the system allocator and counts allocations and reallocations.
pub struct CountingAlloc {
    allocations: AtomicU64,
}

impl CountingAlloc {
    /// A counter at zero.
    pub const fn new() -> CountingAlloc {
        CountingAlloc {
            allocations: AtomicU64::new(0),
        }
    }

    /// Allocations and reallocations so far, in every thread.
    pub fn allocations(&self) -> u64 {
        self.allocations.load(Ordering::Relaxed)
    }

    /// Allocations and reallocations so far by the calling thread only: for a path that
    /// runs on the test's own thread, unaffected by what the test harness's other threads
    /// allocate meanwhile.
    pub fn thread_allocations(&self) -> u64 {
        THREAD_ALLOCATIONS.with(Cell::get)
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to System with the caller's arguments unchanged, so the
// GlobalAlloc contract holds exactly as it does for System.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(&self.allocations);
        // SAFETY: the caller's layout obligations pass through to System.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(&self.allocations);
        // SAFETY: as alloc.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System with this layout (every allocation here is System's).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(&self.allocations);
        // SAFETY: ptr came from System with this layout; new_size is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
