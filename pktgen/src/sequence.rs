//! Sequence-number accounting on the receive side: unique arrivals, duplicates and
//! reordering, in constant memory and without allocating per packet.
//!
//! A bitmap remembers which of the last [`SequenceTracker::window`] sequence numbers below
//! the highest one seen have arrived. A number below the highest is *reordered*; if its
//! bit is already set it is a *duplicate* instead. A number older than the window is
//! counted as reordered and unique (the bitmap no longer knows it), and as `too_old`.
//! Loss is what the transmitter sent minus the unique arrivals, once the run is over.

/// What one arrival was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The highest number so far (in order, possibly after a gap).
    InOrder,
    /// Below the highest number so far, seen for the first time.
    Reordered,
    /// Seen before.
    Duplicate,
}

/// Counts per sequence number; see the module documentation.
#[derive(Debug, Clone)]
pub struct SequenceTracker {
    bits: Vec<u64>,
    /// Window size in sequence numbers minus one (a power of two minus one).
    mask: u64,
    highest: Option<u64>,
    unique: u64,
    duplicates: u64,
    reordered: u64,
    too_old: u64,
}

/// What a [`SequenceTracker`] counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceCounts {
    /// Distinct sequence numbers received.
    pub unique: u64,
    /// Arrivals of a number received before.
    pub duplicates: u64,
    /// Arrivals below the highest number received before them (not duplicates).
    pub reordered: u64,
    /// Reordered arrivals too far behind to be checked for duplication.
    pub too_old: u64,
    /// The highest sequence number received.
    pub highest: Option<u64>,
}

impl SequenceTracker {
    /// A tracker that remembers `window` numbers below the highest (rounded up to a power
    /// of two, at least 64). Allocates `window / 8` bytes once.
    pub fn new(window: usize) -> SequenceTracker {
        let window = window.max(64).next_power_of_two();
        SequenceTracker {
            bits: vec![0; window / 64],
            mask: window as u64 - 1,
            highest: None,
            unique: 0,
            duplicates: 0,
            reordered: 0,
            too_old: 0,
        }
    }

    /// Window size in sequence numbers.
    pub fn window(&self) -> u64 {
        self.mask + 1
    }

    /// Records the arrival of `sequence`.
    #[inline]
    pub fn record(&mut self, sequence: u64) -> Arrival {
        let highest = match self.highest {
            None => {
                self.highest = Some(sequence);
                self.set(sequence);
                self.unique += 1;
                return Arrival::InOrder;
            }
            Some(h) => h,
        };
        if sequence > highest {
            self.clear_between(highest, sequence);
            self.highest = Some(sequence);
            self.set(sequence);
            self.unique += 1;
            return Arrival::InOrder;
        }
        if highest - sequence > self.mask {
            self.too_old += 1;
            self.reordered += 1;
            self.unique += 1;
            return Arrival::Reordered;
        }
        if self.is_set(sequence) {
            self.duplicates += 1;
            return Arrival::Duplicate;
        }
        self.set(sequence);
        self.unique += 1;
        self.reordered += 1;
        Arrival::Reordered
    }

    /// The counts so far.
    pub fn counts(&self) -> SequenceCounts {
        SequenceCounts {
            unique: self.unique,
            duplicates: self.duplicates,
            reordered: self.reordered,
            too_old: self.too_old,
            highest: self.highest,
        }
    }

    /// Forgets the bits of `(from, to]`: they now stand for numbers that have not come yet
    /// rather than for the numbers one window earlier. Each bit is cleared at most once
    /// per window of progress, so this is O(1) amortised per packet.
    fn clear_between(&mut self, from: u64, to: u64) {
        if to - from > self.mask {
            self.bits.fill(0);
            return;
        }
        let mut s = from + 1;
        while s <= to {
            let bit = s & self.mask;
            if bit & 63 == 0 && to - s >= 63 {
                self.bits[(bit / 64) as usize] = 0;
                s += 64;
            } else {
                self.bits[(bit / 64) as usize] &= !(1u64 << (bit % 64));
                s += 1;
            }
        }
    }

    #[inline]
    fn set(&mut self, sequence: u64) {
        let bit = sequence & self.mask;
        self.bits[(bit / 64) as usize] |= 1u64 << (bit % 64);
    }

    #[inline]
    fn is_set(&self, sequence: u64) -> bool {
        let bit = sequence & self.mask;
        self.bits[(bit / 64) as usize] & (1u64 << (bit % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_arrivals_are_all_unique_and_in_order() {
        let mut t = SequenceTracker::new(1024);
        for s in 0..100_000 {
            assert_eq!(t.record(s), Arrival::InOrder);
        }
        let c = t.counts();
        assert_eq!((c.unique, c.duplicates, c.reordered), (100_000, 0, 0));
        assert_eq!(c.highest, Some(99_999));
    }

    #[test]
    fn a_late_packet_is_reordered_and_its_repeat_a_duplicate() {
        let mut t = SequenceTracker::new(64);
        assert_eq!(t.record(0), Arrival::InOrder);
        assert_eq!(t.record(2), Arrival::InOrder);
        assert_eq!(t.record(1), Arrival::Reordered);
        assert_eq!(t.record(1), Arrival::Duplicate);
        assert_eq!(t.record(2), Arrival::Duplicate);
        assert_eq!(t.record(0), Arrival::Duplicate);
        let c = t.counts();
        assert_eq!((c.unique, c.duplicates, c.reordered), (3, 3, 1));
    }

    #[test]
    fn gaps_are_not_counted_here_and_the_window_forgets_old_numbers() {
        let mut t = SequenceTracker::new(64);
        t.record(0);
        t.record(10); // 1..=9 missing: loss is computed from the sender's count
        assert_eq!(t.counts().unique, 2);
        // Move 64 ahead: number 10's bit is reused for 74, which has not arrived.
        assert_eq!(t.record(73), Arrival::InOrder);
        assert_eq!(t.record(74), Arrival::InOrder);
        assert_eq!(t.record(11), Arrival::Reordered, "11 is within the window");
        assert_eq!(t.record(10), Arrival::Reordered, "10 is beyond the window");
        assert_eq!(t.counts().too_old, 1);
    }

    #[test]
    fn a_big_jump_clears_the_whole_window() {
        let mut t = SequenceTracker::new(128);
        for s in 0..128 {
            t.record(s);
        }
        assert_eq!(t.record(1_000_000), Arrival::InOrder);
        assert_eq!(t.record(999_999), Arrival::Reordered);
        assert_eq!(t.record(999_999), Arrival::Duplicate);
    }

    #[test]
    fn word_sized_clears_match_bit_by_bit_clears() {
        // Random-ish steps, some across whole 64-bit words, against a naive model.
        let mut t = SequenceTracker::new(256);
        let mut seen = std::collections::HashSet::new();
        let mut x: u64 = 99;
        let mut highest = 0u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let step = (x >> 33) % 200;
            // One step in three goes back.
            let s = match (x >> 20) % 3 {
                0 => highest.saturating_sub(step % 250),
                _ => highest + step,
            };
            let expect = if seen.is_empty() || s > highest {
                Arrival::InOrder
            } else if seen.contains(&s) {
                Arrival::Duplicate
            } else {
                Arrival::Reordered
            };
            assert_eq!(t.record(s), expect, "sequence {s} after highest {highest}");
            seen.insert(s);
            highest = highest.max(s);
        }
    }
}
