//! Software prefetch: ask the CPU to start loading a cache line that a lookup will read
//! soon, so that the misses of a whole RX burst overlap instead of stalling one packet at
//! a time. The dataplane computes where an entry lives from its key's hash alone and
//! prefetches it here, with no dependent load.

/// Bytes in a cache line on every CPU mipdp runs on (x86-64, and the usual arm64 parts).
pub const CACHE_LINE: usize = 64;

/// Starts loading the cache line holding the start of `value` into every cache level.
/// Does nothing on CPUs without a prefetch instruction mipdp knows.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    prefetch_ptr((value as *const T).cast::<u8>());
}

/// Starts loading every cache line `value` spans (for an entry that may straddle two).
#[inline(always)]
pub fn prefetch_all<T>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let first = start as usize & !(CACHE_LINE - 1);
    let last = (start as usize).wrapping_add(core::mem::size_of::<T>().saturating_sub(1));
    let mut line = first;
    while line <= last {
        // The address is only handed to the prefetch instruction, never dereferenced.
        prefetch_ptr(start.wrapping_add(line.wrapping_sub(start as usize)));
        line = line.wrapping_add(CACHE_LINE);
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch_ptr(p: *const u8) {
    use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: a prefetch is a hint: it never faults, whatever the address (an unmapped or
    // invalid one is ignored), and it changes no architectural state, so no memory is read
    // as far as the program can observe. SSE (which provides it) is part of the x86-64
    // baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn prefetch_ptr(p: *const u8) {
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_anything_changes_nothing() {
        let v = [7u64; 40];
        prefetch(&v);
        prefetch_all(&v);
        prefetch_all(&());
        assert_eq!(v, [7u64; 40]);
    }
}
