//! A token bucket driven by injected time, for reactions and messages. Imports no tokio,
//! no media, no network.

use std::time::{Duration, Instant};

/// `capacity` actions at once, then one more every `refill`.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    capacity: u32,
    refill: Duration,
    tokens: u32,
    last: Instant,
}

impl RateLimiter {
    pub fn new(now: Instant, capacity: u32, refill: Duration) -> Self {
        RateLimiter {
            capacity,
            refill,
            tokens: capacity,
            last: now,
        }
    }

    /// A short burst of applause is fine; a stream of hearts drowns the room.
    pub fn reactions(now: Instant) -> Self {
        Self::new(now, 5, Duration::from_secs(2))
    }

    /// Chat, private messages and check-in requests share one bucket, so a disruptor
    /// cannot flood the facilitators through a side door.
    pub fn messages(now: Instant) -> Self {
        Self::new(now, 5, Duration::from_secs(3))
    }

    /// Raising a hand reorders nothing but is broadcast to everyone: a raise-lower loop
    /// must not flood the room.
    pub fn hands(now: Instant) -> Self {
        Self::new(now, 3, Duration::from_secs(5))
    }

    /// Adding, editing or removing a reading broadcasts its whole text: a few edits in a
    /// row are fine (fixing a typo), a loop is not.
    pub fn reading_edits(now: Instant) -> Self {
        Self::new(now, 6, Duration::from_secs(5))
    }

    /// Each screen share start is announced to everyone and renegotiates their media: a
    /// wrong window picked and picked again is fine, a start-stop loop is not.
    pub fn screen_shares(now: Instant) -> Self {
        Self::new(now, 4, Duration::from_secs(5))
    }

    /// Takes one token if there is one. Only called once every other check has passed,
    /// so a refused command never costs a token.
    pub fn try_take(&mut self, now: Instant) -> bool {
        // saturating: a caller passing an older `now` must not panic or mint tokens
        let elapsed = now.saturating_duration_since(self.last);
        let earned = (elapsed.as_nanos() / self.refill.as_nanos().max(1)) as u64;
        if earned > 0 {
            let earned32 = u32::try_from(earned).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(earned32).min(self.capacity);
            // keep the remainder so refills do not drift
            self.last = self
                .last
                .checked_add(self.refill.saturating_mul(earned32))
                .unwrap_or(now);
            if self.tokens == self.capacity {
                self.last = now;
            }
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_refills_one_per_interval() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(t0, 2, Duration::from_secs(1));
        assert!(r.try_take(t0));
        assert!(r.try_take(t0));
        assert!(!r.try_take(t0));
        assert!(!r.try_take(t0 + Duration::from_millis(900)));
        assert!(r.try_take(t0 + Duration::from_millis(1000)));
        assert!(!r.try_take(t0 + Duration::from_millis(1500)));
        assert!(r.try_take(t0 + Duration::from_secs(10)));
        assert!(r.try_take(t0 + Duration::from_secs(10)));
        assert!(!r.try_take(t0 + Duration::from_secs(10)));
    }

    #[test]
    fn time_going_backwards_does_not_panic_or_refill() {
        let t0 = Instant::now() + Duration::from_secs(5);
        let mut r = RateLimiter::new(t0, 1, Duration::from_secs(1));
        assert!(r.try_take(t0));
        assert!(!r.try_take(t0 - Duration::from_secs(5)));
    }
}
