//! Per-operation rate budgets at the rates in Amazon's models, driven by the injected clock: the
//! deployment's shared budget ([`SharedRates`], on the table) or this container's own buckets.
//!
//! A bucket never sleeps while holding its lock. With a virtual clock a wait moves virtual time,
//! so the simulator (which enforces the same rates on the same clock) sees a polite client.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

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
    CreateReport,
    GetReport,
    GetReportDocument,
}

impl Op {
    /// Every operation kenzen calls.
    pub const ALL: [Op; 19] = [
        Self::SearchOrders,
        Self::GetOrder,
        Self::GetMessagingActions,
        Self::GetAttributes,
        Self::CreateUnexpectedProblem,
        Self::CreateFeedDocument,
        Self::CreateFeed,
        Self::GetFeed,
        Self::GetFeeds,
        Self::GetFeedDocument,
        Self::PatchListingsItem,
        Self::GetListingsItem,
        Self::GetDestinations,
        Self::CreateDestination,
        Self::GetSubscription,
        Self::CreateSubscription,
        Self::CreateReport,
        Self::GetReport,
        Self::GetReportDocument,
    ];

    /// The operation with model operation id `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The application role (Seller Central's name) the operation needs; `None` for grantless
    /// calls.
    pub fn role(self) -> Option<&'static str> {
        match self {
            Self::SearchOrders
            | Self::GetOrder
            | Self::CreateFeedDocument
            | Self::CreateFeed
            | Self::GetFeed
            | Self::GetFeeds
            | Self::GetFeedDocument
            | Self::GetSubscription
            | Self::CreateSubscription => Some("Inventory and Order Tracking"),
            Self::GetMessagingActions | Self::GetAttributes | Self::CreateUnexpectedProblem => {
                Some("Buyer Communication")
            }
            Self::PatchListingsItem | Self::GetListingsItem => Some("Product Listing"),
            Self::CreateReport | Self::GetReport | Self::GetReportDocument => {
                Some("Selling Partner Insights")
            }
            Self::GetDestinations | Self::CreateDestination => None,
        }
    }

    /// Requests per second and burst, from Amazon's usage plans (`kenzen-spapi-rates`).
    pub fn rate(self) -> (f64, f64) {
        // Every operation kenzen calls has a row (checked by a test below); the fallback is
        // the most common plan, never used.
        kenzen_spapi_rates::usage_plan(self.name()).map_or((1.0, 5.0), |p| (p.rate, p.burst))
    }

    /// Whether the call may be sent again after it may have reached Amazon (a 5xx, a timeout,
    /// a connection lost after sending): reads, and writes whose repeat does no harm (a feed
    /// document nobody uses, a quantity set twice, a destination or subscription that answers
    /// 409 the second time). A buyer message or a feed must never go out twice, and a report
    /// request Amazon may have taken is not made again either (it would be a second report,
    /// against a rate of one a minute; the service records the lost answer and asks at the
    /// next fetch), so those are repeated only after a 429 or a failure to connect, when Amazon
    /// cannot have them.
    pub fn repeatable(self) -> bool {
        !matches!(
            self,
            Self::CreateUnexpectedProblem | Self::CreateFeed | Self::CreateReport
        )
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
            Self::CreateReport => "createReport",
            Self::GetReport => "getReport",
            Self::GetReportDocument => "getReportDocument",
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Timestamp,
}

/// An operation's rate budget shared by every container and function of the deployment
/// (SP-API quotas are per seller and application, not per container): implemented on the
/// table (`crate::adapters::dynamo::DynamoRates`).
pub trait SharedRates: Send + Sync {
    /// Reserves the next call of `op` (usage plan `rate` per second, `burst`) at `now`: the
    /// time the call may go (at or after `now`), or `None` when that is after `latest` (then
    /// nothing is taken). An error means the shared budget cannot be read; the caller falls
    /// back to its own bucket.
    fn reserve<'a>(
        &'a self,
        op: &'static str,
        rate: f64,
        burst: f64,
        now: Timestamp,
        latest: Option<Timestamp>,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Timestamp>, String>> + Send + 'a>>;

    /// Empties the budget of `op` after Amazon answered 429.
    fn drain<'a>(
        &'a self,
        op: &'static str,
        rate: f64,
        burst: f64,
        now: Timestamp,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// How long before the run's deadline the last call may start (the call itself needs time).
pub const CALL_MARGIN: SignedDuration = SignedDuration::from_secs(30);

/// The rate budget of every operation: the deployment's shared one when set, else one token
/// bucket per operation in this container. A call that would have to wait past the run's
/// deadline is refused at once.
#[derive(Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<Op, Bucket>>,
    shared: Option<Arc<dyn SharedRates>>,
    deadline: Mutex<Option<Timestamp>>,
    /// Set once the shared budget failed (logged once; this container's buckets take over).
    shared_failed: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

/// A call refused because its rate budget would make it wait past the run's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoBudget {
    pub op: Op,
}

impl RateLimits {
    /// Budgets shared through `shared` (by every container of the deployment).
    pub fn shared(shared: Arc<dyn SharedRates>) -> Self {
        Self {
            shared: Some(shared),
            ..Self::default()
        }
    }

    /// The run's deadline (none: calls wait as long as their budget needs).
    pub fn set_deadline(&self, deadline: Option<Timestamp>) {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = deadline;
    }

    /// The latest time a call may start in this run.
    pub fn latest(&self) -> Option<Timestamp> {
        self.deadline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|d| d - CALL_MARGIN)
    }

    /// How long before `op` may be called at `now`; takes the token when it is zero.
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

    /// Waits on `clock` until `op` may be called, then takes its token; refused at once when
    /// the wait would end past the run's deadline.
    pub async fn acquire(&self, op: Op, clock: &Clock) -> Result<(), NoBudget> {
        let latest = self.latest();
        if let Some(shared) = &self.shared
            && !self
                .shared_failed
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            let (rate, burst) = op.rate();
            let now = clock.now();
            match shared.reserve(op.name(), rate, burst, now, latest).await {
                Ok(Some(at)) => {
                    let wait = at.duration_since(clock.now());
                    if wait.is_positive() {
                        clock.sleep(wait).await;
                    }
                    return Ok(());
                }
                Ok(None) => return Err(NoBudget { op }),
                Err(e) => {
                    tracing::warn!(op = op.name(), error = %e, "shared rate budget unavailable; this container keeps its own");
                    self.shared_failed
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        loop {
            let now = clock.now();
            let wait = self.try_take(op, now);
            if wait.is_zero() {
                return Ok(());
            }
            if latest.is_some_and(|l| now + wait > l) {
                return Err(NoBudget { op });
            }
            clock.sleep(wait + SignedDuration::from_millis(1)).await;
        }
    }

    /// Drains the budget after a 429, so the next call waits a full interval.
    pub async fn throttled(&self, op: Op, now: Timestamp) {
        {
            let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            buckets.insert(
                op,
                Bucket {
                    tokens: 0.0,
                    last: now,
                },
            );
        }
        if let Some(shared) = &self.shared {
            let (rate, burst) = op.rate();
            if let Err(e) = shared.drain(op.name(), rate, burst, now).await {
                tracing::warn!(op = op.name(), error = %e, "shared rate budget not drained");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_kenzen_calls_has_a_usage_plan_and_is_found_by_its_name() {
        for op in Op::ALL {
            assert!(
                kenzen_spapi_rates::usage_plan(op.name()).is_some(),
                "{op:?}"
            );
            assert_eq!(Op::from_name(op.name()), Some(op));
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
            limits
                .acquire(Op::CreateUnexpectedProblem, &clock)
                .await
                .unwrap();
        }
        assert_eq!(v.now(), start, "burst of 5 needs no wait");
        limits
            .acquire(Op::CreateUnexpectedProblem, &clock)
            .await
            .unwrap();
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
            limits.acquire(Op::SearchOrders, &clock).await.unwrap();
        }
        let waited = v.now().duration_since(start).as_secs_f64();
        assert!((178.0..181.0).contains(&waited), "{waited}");
    }

    #[tokio::test]
    async fn a_call_that_would_wait_past_the_deadline_is_refused_at_once() {
        let v = VirtualClock::new("2026-12-01T00:00:00Z".parse().unwrap());
        let clock = Clock::Virtual(v.clone());
        let limits = RateLimits::default();
        limits.set_deadline(Some(v.now() + SignedDuration::from_secs(120)));
        for _ in 0..20 {
            limits.acquire(Op::SearchOrders, &clock).await.unwrap();
        }
        let start = v.now();
        assert_eq!(
            limits.acquire(Op::SearchOrders, &clock).await,
            Err(NoBudget {
                op: Op::SearchOrders
            })
        );
        assert_eq!(v.now(), start, "refused without waiting");
        limits.set_deadline(None);
        limits.acquire(Op::SearchOrders, &clock).await.unwrap();
    }
}
