//! Per-operation token buckets at the rates in Amazon's models, driven by the injected clock.
//!
//! A bucket never sleeps while holding its lock. With a virtual clock a wait moves virtual time,
//! so the simulator (which enforces the same rates on the same clock) sees a polite client.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

use crate::clock::Clock;

/// The SP-API operations kenzen calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    SearchOrders,
    GetOrder,
    GetMessagingActions,
    GetAttributes,
    CreateUnexpectedProblem,
    CreateFeedDocument,
    CreateFeed,
    GetFeed,
    GetFeeds,
    GetFeedDocument,
    PatchListingsItem,
    GetListingsItem,
    GetDestinations,
    CreateDestination,
    GetSubscription,
    CreateSubscription,
}

impl Op {
    /// Requests per second and burst, from Amazon's usage plans (`kenzen-spapi-rates`).
    pub fn rate(self) -> (f64, f64) {
        // Every operation kenzen calls has a row (checked by a test below); the fallback is
        // the most common plan, never used.
        kenzen_spapi_rates::usage_plan(self.name()).map_or((1.0, 5.0), |p| (p.rate, p.burst))
    }

    /// Whether the call may be sent again after it may have reached Amazon (a 5xx, a timeout,
    /// a connection lost after sending): reads, and writes whose repeat does no harm (a feed
    /// document nobody uses, a quantity set twice, a destination or subscription that answers
    /// 409 the second time). A buyer message or a feed must never go out twice, so those two are
    /// repeated only after a 429 or a failure to connect, when Amazon cannot have them.
    pub fn repeatable(self) -> bool {
        !matches!(self, Self::CreateUnexpectedProblem | Self::CreateFeed)
    }

    /// The model's operation id, for logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::SearchOrders => "searchOrders",
            Self::GetOrder => "getOrder",
            Self::GetMessagingActions => "getMessagingActionsForOrder",
            Self::GetAttributes => "getAttributes",
            Self::CreateUnexpectedProblem => "createUnexpectedProblem",
            Self::CreateFeedDocument => "createFeedDocument",
            Self::CreateFeed => "createFeed",
            Self::GetFeed => "getFeed",
            Self::GetFeeds => "getFeeds",
            Self::GetFeedDocument => "getFeedDocument",
            Self::PatchListingsItem => "patchListingsItem",
            Self::GetListingsItem => "getListingsItem",
            Self::GetDestinations => "getDestinations",
            Self::CreateDestination => "createDestination",
            Self::GetSubscription => "getSubscription",
            Self::CreateSubscription => "createSubscription",
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Timestamp,
}

/// One token bucket per operation.
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<Op, Bucket>>,
}

impl RateLimits {
    /// How long to wait before `op` may be called at `now`; takes the token when it is zero.
    fn try_take(&self, op: Op, now: Timestamp) -> SignedDuration {
        let (rate, burst) = op.rate();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = buckets.entry(op).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.duration_since(b.last).as_secs_f64().max(0.0);
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now.max(b.last);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            SignedDuration::ZERO
        } else {
            SignedDuration::from_secs_f64((1.0 - b.tokens) / rate)
        }
    }

    /// Waits on `clock` until `op` may be called, then takes a token.
    pub async fn acquire(&self, op: Op, clock: &Clock) {
        loop {
            let wait = self.try_take(op, clock.now());
            if wait.is_zero() {
                return;
            }
            clock.sleep(wait + SignedDuration::from_millis(1)).await;
        }
    }

    /// Drains the bucket after a 429, so the next call waits a full interval.
    pub fn throttled(&self, op: Op, now: Timestamp) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets.insert(
            op,
            Bucket {
                tokens: 0.0,
                last: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_kenzen_calls_has_a_usage_plan() {
        use super::Op::*;
        for op in [
            SearchOrders,
            GetOrder,
            GetMessagingActions,
            GetAttributes,
            CreateUnexpectedProblem,
            CreateFeedDocument,
            CreateFeed,
            GetFeed,
            GetFeeds,
            GetFeedDocument,
            PatchListingsItem,
            GetListingsItem,
            GetDestinations,
            CreateDestination,
            GetSubscription,
            CreateSubscription,
        ] {
            assert!(
                kenzen_spapi_rates::usage_plan(op.name()).is_some(),
                "{op:?}"
            );
        }
    }

    use super::*;
    use crate::clock::VirtualClock;

    #[tokio::test]
    async fn a_burst_is_free_and_then_calls_wait_one_interval_each() {
        let v = VirtualClock::new("2026-12-01T00:00:00Z".parse().unwrap());
        let clock = Clock::Virtual(v.clone());
        let limits = RateLimits::default();
        let start = v.now();
        for _ in 0..5 {
            limits.acquire(Op::CreateUnexpectedProblem, &clock).await;
        }
        assert_eq!(v.now(), start, "burst of 5 needs no wait");
        limits.acquire(Op::CreateUnexpectedProblem, &clock).await;
        let waited = v.now().duration_since(start);
        assert!(waited >= SignedDuration::from_millis(999), "{waited:?}");
        assert!(waited <= SignedDuration::from_millis(1100), "{waited:?}");
    }

    #[tokio::test]
    async fn search_orders_allows_one_call_per_three_minutes_after_its_burst() {
        let v = VirtualClock::new("2026-12-01T00:00:00Z".parse().unwrap());
        let clock = Clock::Virtual(v.clone());
        let limits = RateLimits::default();
        let start = v.now();
        for _ in 0..21 {
            limits.acquire(Op::SearchOrders, &clock).await;
        }
        let waited = v.now().duration_since(start).as_secs_f64();
        assert!((178.0..181.0).contains(&waited), "{waited}");
    }
}
