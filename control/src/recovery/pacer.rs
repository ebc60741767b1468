//! The token bucket that paces verification requests: `rate` tokens a second, at most
//! `burst` requests at one instant. Time is passed in; nothing here reads a clock.

use std::time::Instant;

/// Below one token of what was earned is kept even when the bucket is full, so that
/// sending only on the control thread's ticks does not lose the fraction of a token each
/// request would otherwise lose to the cap: with a burst of 1 and a 0.9 ms tick that loss
/// took 151/s down to 143/s. At most `burst` requests still leave at one instant (the
/// bucket holds less than `burst + 1` tokens).
const CARRY: f64 = 1.0 - 1e-9;

/// A token bucket for requests, driven by the `Instant`s its caller passes in.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: f64,
    cap: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl Pacer {
    /// A full bucket: `burst` requests may leave at once, then `rate` a second.
    pub fn new(rate: u32, burst: u32) -> Pacer {
        Pacer {
            rate: f64::from(rate),
            cap: f64::from(burst) + CARRY,
            tokens: f64::from(burst),
            last: None,
        }
    }

    /// Takes a token at `now` if there is one. `now` earlier than the last call earns
    /// nothing.
    pub fn take(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            let earned = now.saturating_duration_since(last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + earned).min(self.cap);
        }
        if self.last.is_none_or(|l| now > l) {
            self.last = Some(now);
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
