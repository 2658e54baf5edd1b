//! Rate limiters that cost nothing while waiting: each caller reserves its slot once, in
//! arrival order, and sleeps until it. One lock per reservation, one timer per waiter (none for
//! a caller whose slot is now), no polling and no retries.
//!
//! The limiters this replaces (governor's `until_ready`) had every waiter sleep until the
//! earliest possible instant and then compete for the one token there: with a thousand hosts
//! waiting on 200 DNS queries per second, each token woke every waiter, and a waiting host cost
//! ten times the CPU of a probed one.
//!
//! The schedule is GCRA (the generic cell rate algorithm, as in governor): slots are
//! `interval` apart, and a caller may go up to `burst - 1` intervals ahead of that schedule
//! (a limiter that has been idle has a full burst). A caller that gives up after reserving
//! (host deadline, interrupt) leaves its slot unused: the rate is an upper bound.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Evenly spaced slots for callers, first come first served.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    /// How far (burst - 1 intervals) a slot may be ahead of the schedule.
    tolerance: Duration,
    /// Each waiter sleeps a random extra up to this, so hosts of one subnet are not hit in
    /// lockstep; it never moves the schedule.
    jitter: Duration,
    /// Theoretical arrival time of the next caller (None: never used).
    tat: Mutex<Option<Instant>>,
}

impl Pacer {
    /// `rate` per second with bursts of up to `burst` (at least 1); `None` for 0 (unlimited).
    pub fn per_second(rate: u32, burst: u32) -> Option<Pacer> {
        if rate == 0 {
            return None;
        }
        let interval =
            Duration::from_nanos(1_000_000_000 / u64::from(rate)).max(Duration::from_nanos(1));
        Some(Pacer {
            interval,
            tolerance: interval.saturating_mul(burst.max(1) - 1),
            jitter: Duration::ZERO,
            tat: Mutex::new(None),
        })
    }

    /// Adds a random delay of up to `jitter` to every wait.
    pub fn with_jitter(mut self, jitter: Duration) -> Pacer {
        self.jitter = jitter;
        self
    }

    /// Reserves the next slot: the instant this caller may go (now or later).
    pub fn reserve(&self) -> Instant {
        let now = Instant::now();
        // A poisoned lock only means a panic elsewhere; the instant inside is still valid.
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let next = tat.unwrap_or(now).max(now);
        // The earliest instant the schedule allows: `tolerance` ahead of `next`, not before now.
        let slot = next
            .checked_sub(self.tolerance)
            .map_or(now, |earliest| earliest.max(now));
        *tat = Some(next + self.interval);
        slot
    }

    /// Waits for this caller's slot: one timer, or none when the slot is now.
    pub async fn wait(&self) {
        let mut slot = self.reserve();
        if !self.jitter.is_zero() {
            let nanos = u64::try_from(self.jitter.as_nanos()).unwrap_or(u64::MAX);
            slot += Duration::from_nanos(rand::random::<u64>() % nanos.max(1));
        }
        if slot > Instant::now() {
            tokio::time::sleep_until(slot).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_in_arrival_order() {
        let p = Pacer::per_second(100, 1).unwrap();
        let t0 = Instant::now();
        let slots: Vec<u128> = (0..5).map(|_| ms(p.reserve() - t0)).collect();
        assert_eq!(slots, vec![0, 10, 20, 30, 40]);
    }

    #[tokio::test(start_paused = true)]
    async fn burst_goes_at_once_then_the_rate_holds() {
        let p = Pacer::per_second(1000, 5).unwrap();
        let t0 = Instant::now();
        let slots: Vec<u128> = (0..8).map(|_| ms(p.reserve() - t0)).collect();
        // Five at once, then one per millisecond after the schedule catches up.
        assert_eq!(slots, vec![0, 0, 0, 0, 0, 1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_limiter_does_not_bank_more_than_the_burst() {
        let p = Pacer::per_second(10, 2).unwrap();
        let t0 = Instant::now();
        assert_eq!(ms(p.reserve() - t0), 0);
        tokio::time::advance(Duration::from_secs(60)).await;
        let t1 = Instant::now();
        let slots: Vec<u128> = (0..4).map(|_| ms(p.reserve() - t1)).collect();
        assert_eq!(slots, vec![0, 0, 100, 200]);
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_wake_once_each_in_order_at_their_slot() {
        let p = Arc::new(Pacer::per_second(50, 1).unwrap());
        let t0 = Instant::now();
        let done = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..20u32 {
            let (p, done) = (p.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                p.wait().await;
                done.lock().unwrap().push((i, ms(Instant::now() - t0)));
            }));
            // Spawned tasks run in spawn order: let each reserve before the next is spawned.
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let done = done.lock().unwrap().clone();
        let expected: Vec<(u32, u128)> = (0..20).map(|i| (i, u128::from(i) * 20)).collect();
        assert_eq!(done, expected);
        // 20 waiters over 380 ms at 50/s: the paused clock only moved as far as the last slot.
        assert_eq!(ms(Instant::now() - t0), 380);
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_delays_but_never_moves_the_schedule() {
        let p = Pacer::per_second(100, 1)
            .unwrap()
            .with_jitter(Duration::from_millis(5));
        let t0 = Instant::now();
        for i in 0..10u64 {
            p.wait().await;
            let at = Instant::now() - t0;
            assert!(at >= Duration::from_millis(10 * i), "{i}: {at:?}");
            // Timers fire on whole milliseconds: a jitter under 5 ms ends by the 5th.
            assert!(at <= Duration::from_millis(10 * i + 5), "{i}: {at:?}");
        }
    }

    #[test]
    fn zero_is_unlimited() {
        assert!(Pacer::per_second(0, 1).is_none());
    }
}
