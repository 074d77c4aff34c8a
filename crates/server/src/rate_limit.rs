//! A budget per client, charged with each query's complexity: cheap queries can be sent often, costly ones
//! rarely. The buckets are `governor`'s keyed GCRA limiter (one state per client in a sharded map, no lock held
//! across clients); they live in this process, so behind a load balancer each server keeps its own.

use boletin_graphql::CostBudget;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How fast a client may spend query cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Cost points a client regains each second.
    pub points_per_second: f64,
    /// The most points a client can hold, and so spend in one burst.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            points_per_second: 200.0,
            burst: 20_000.0,
        }
    }
}

impl RateLimit {
    /// The quota in `governor`'s terms: one point regained every `1 / points_per_second` (kept between a
    /// nanosecond and a million seconds), at most `burst` points held (at least one).
    fn quota(self) -> Quota {
        let per_second = self.points_per_second.clamp(1e-6, 1e9);
        let period = Duration::from_secs_f64(1.0 / per_second).max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(self.burst.clamp(1.0, f64::from(u32::MAX)) as u32).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period).map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst))
    }
}

/// Beyond this many clients, the states that are the same as a new client's are dropped, at most once every
/// [`PRUNE_EVERY`] charges.
const PRUNE_ABOVE: usize = 10_000;
const PRUNE_EVERY: u64 = 1_024;

/// The budgets of every client seen recently.
pub struct RateLimiter<C: Clock = DefaultClock> {
    limiter: Gcra<String, DashMapStateStore<String>, C, NoOpMiddleware<C::Instant>>,
    burst: NonZeroU32,
    charges: AtomicU64,
    refused: AtomicU64,
}

impl RateLimiter {
    /// A limiter with `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self::with_clock(limit, DefaultClock::default())
    }
}

impl<C: Clock> RateLimiter<C> {
    fn with_clock(limit: RateLimit, clock: C) -> Self {
        let quota = limit.quota();
        Self {
            limiter: Gcra::dashmap_with_clock(quota, clock),
            burst: quota.burst_size(),
            charges: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// How many charges were refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Charges `cost` (at least one point) to `client`, or says how long until it could be paid.
    fn charge_now(&self, client: &str, cost: u64) -> Result<(), Duration> {
        if self.charges.fetch_add(1, Ordering::Relaxed).is_multiple_of(PRUNE_EVERY) && self.limiter.len() > PRUNE_ABOVE
        {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        // A query costing more than the whole burst is let through on a full bucket, then waits for the refill.
        let cost = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN)
            .min(self.burst);
        match self.limiter.check_key_n(&client.to_owned(), cost) {
            Ok(Ok(())) | Err(_) => Ok(()),
            Ok(Err(not_until)) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Err(not_until
                    .wait_time_from(self.limiter.clock().now())
                    .max(Duration::from_secs(1)))
            }
        }
    }
}

impl CostBudget for RateLimiter {
    fn charge(&self, client: &str, cost: u64) -> Result<(), Duration> {
        self.charge_now(client, cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_client_spends_its_burst_then_waits_for_the_refill() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(
            RateLimit {
                points_per_second: 10.0,
                burst: 100.0,
            },
            clock.clone(),
        );
        assert_eq!(limiter.charge_now("a", 60), Ok(()));
        assert_eq!(limiter.charge_now("a", 60), Err(Duration::from_secs(2)));
        assert_eq!(limiter.charge_now("b", 60), Ok(()), "another client has its own bucket");
        clock.advance(Duration::from_secs(2));
        assert_eq!(limiter.charge_now("a", 60), Ok(()));
        assert_eq!(limiter.refused(), 1);
        // A query above the burst passes on a full bucket and empties it.
        assert_eq!(limiter.charge_now("c", 1_000), Ok(()));
        assert!(limiter.charge_now("c", 1).is_err());
        // A short wait is still given as a whole second, the smallest `Retry-After`.
        clock.advance(Duration::from_secs(10));
        assert_eq!(limiter.charge_now("d", 100), Ok(()));
        assert_eq!(limiter.charge_now("d", 1), Err(Duration::from_secs(1)));
    }

    #[test]
    fn states_the_same_as_a_new_clients_are_dropped_past_the_cap() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(RateLimit::default(), clock.clone());
        for i in 0..=PRUNE_ABOVE + PRUNE_EVERY as usize {
            let _ = limiter.charge_now(&format!("client-{i}"), 1);
        }
        assert!(limiter.limiter.len() > PRUNE_ABOVE);
        // A refill later every bucket is full again; the next prune finds them all the same as new.
        clock.advance(Duration::from_secs(1));
        for _ in 0..PRUNE_EVERY {
            let _ = limiter.charge_now("again", 1);
        }
        assert!(limiter.limiter.len() < 10, "{}", limiter.limiter.len());
    }
}
