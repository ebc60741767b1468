//! Adaptive idle back-off: spin while traffic may come back at once, then yield, then sleep
//! with a doubling period, so that an idle dataplane leaves a small machine usable.

use std::time::Duration;

/// Empty polls spent spinning before yielding.
const SPIN_POLLS: u32 = 128;
/// Empty polls spent yielding before sleeping.
const YIELD_POLLS: u32 = 256;

/// What an idle worker does between empty polls. Reset by any poll that found work.
#[derive(Debug, Clone)]
pub struct IdleBackoff {
    empty_polls: u32,
    sleep: Duration,
    max_sleep: Duration,
    sleeps: u64,
}

impl IdleBackoff {
    /// A back-off whose longest sleep is `max_sleep` (zero: never sleep, only spin/yield).
    pub fn new(max_sleep: Duration) -> IdleBackoff {
        IdleBackoff {
            empty_polls: 0,
            sleep: Duration::from_micros(1),
            max_sleep,
            sleeps: 0,
        }
    }

    /// Called after every poll with the number of packets it handled.
    #[inline]
    pub fn after_poll(&mut self, packets: usize) {
        if packets > 0 {
            if self.empty_polls != 0 {
                self.empty_polls = 0;
                self.sleep = Duration::from_micros(1);
            }
            return;
        }
        self.empty_polls = self.empty_polls.saturating_add(1);
        if self.empty_polls < SPIN_POLLS {
            std::hint::spin_loop();
        } else if self.empty_polls < YIELD_POLLS || self.max_sleep.is_zero() {
            std::thread::yield_now();
        } else {
            std::thread::sleep(self.sleep);
            self.sleeps += 1;
            self.sleep = (self.sleep * 2).min(self.max_sleep);
        }
    }

    /// How many times the worker slept so far.
    pub fn sleeps(&self) -> u64 {
        self.sleeps
    }

    /// The sleep the next idle poll past the spin and yield phases would take.
    pub fn current_sleep(&self) -> Duration {
        self.sleep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_worker_sleeps_longer_up_to_the_bound_and_traffic_resets_it() {
        let mut b = IdleBackoff::new(Duration::from_micros(8));
        for _ in 0..YIELD_POLLS + 10 {
            b.after_poll(0);
        }
        assert!(b.sleeps() > 0);
        assert_eq!(b.current_sleep(), Duration::from_micros(8));
        b.after_poll(3);
        assert_eq!(b.current_sleep(), Duration::from_micros(1));
        let slept = b.sleeps();
        b.after_poll(0);
        assert_eq!(
            b.sleeps(),
            slept,
            "the first empty poll after traffic only spins"
        );
    }
}
