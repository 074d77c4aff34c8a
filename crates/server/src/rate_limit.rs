//! A token bucket per client, charged with each query's complexity: cheap queries can be sent often, costly
//! ones rarely. The buckets live in this process; behind a load balancer each server keeps its own.

use boletin_graphql::CostBudget;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// One client's bucket: its points at `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    points: f64,
    at: Instant,
}

/// The buckets of every client seen recently.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
    refused: AtomicU64,
}

/// Beyond this many clients, full buckets are forgotten (a full bucket is the same as a new one).
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// A limiter with `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
            refused: AtomicU64::new(0),
        }
    }

    /// How many charges were refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    fn charge_at(&self, client: &str, cost: u64, now: Instant) -> Result<(), Duration> {
        let limit = self.limit;
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.points + now.duration_since(b.at).as_secs_f64() * limit.points_per_second < limit.burst
            });
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            points: limit.burst,
            at: now,
        });
        let refilled = bucket.points + now.duration_since(bucket.at).as_secs_f64() * limit.points_per_second;
        bucket.points = refilled.min(limit.burst);
        bucket.at = now;
        // A query costing more than the whole burst is let through on a full bucket, then waits for the refill.
        let cost = (cost as f64).min(limit.burst);
        if bucket.points >= cost {
            bucket.points -= cost;
            return Ok(());
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        let missing = cost - bucket.points;
        Err(
            Duration::from_secs_f64(missing / limit.points_per_second.max(f64::MIN_POSITIVE))
                .max(Duration::from_secs(1)),
        )
    }
}

impl CostBudget for RateLimiter {
    fn charge(&self, client: &str, cost: u64) -> Result<(), Duration> {
        self.charge_at(client, cost, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_spends_its_burst_then_waits_for_the_refill() {
        let limiter = RateLimiter::new(RateLimit {
            points_per_second: 10.0,
            burst: 100.0,
        });
        let start = Instant::now();
        assert_eq!(limiter.charge_at("a", 60, start), Ok(()));
        assert_eq!(limiter.charge_at("a", 60, start), Err(Duration::from_secs(2)));
        assert_eq!(
            limiter.charge_at("b", 60, start),
            Ok(()),
            "another client has its own bucket"
        );
        assert_eq!(limiter.charge_at("a", 60, start + Duration::from_secs(2)), Ok(()));
        assert_eq!(limiter.refused(), 1);
        // A query above the burst passes on a full bucket and empties it.
        assert_eq!(limiter.charge_at("c", 1_000, start), Ok(()));
        assert!(limiter.charge_at("c", 1, start).is_err());
    }
}
