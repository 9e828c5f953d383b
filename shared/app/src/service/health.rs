//! Account health in the loop: Amazon's own cancel-rate figures fetched about twice a day
//! (reply-detect's scheduled sweep), the `auto` strategy's choice for a new case, and the
//! projected 7-day cancel rate written before every seller-initiated cancel.
//!
//! The fetch is one step per run, its state on the table ([`HealthFetch`]): request the report
//! when due (claimed, so two runs never ask twice), then look at it on later runs until Amazon
//! has made it, then store the figures per marketplace. A failure is logged and counted and
//! never stops the run's cases; a request whose answer was lost is not asked again before the
//! next fetch is due.

use jiff::{SignedDuration, Timestamp};
use kenzen_core::health::percent;
use kenzen_core::policy::marketplace_date;
use kenzen_core::{
    AutoChoice, AutoSettings, MarketplaceHealth, MarketplaceId, OrderId, Projection, choose,
    project,
};

use super::Service;
use crate::ports::{
    EventPublisher, HealthFetch, HealthReportStatus, HealthStore, MarketErrorKind, Marketplace,
    OrderCountStore, Store, StoreError,
};

/// A report Amazon has not made this long after the request is given up (asked again when the
/// next fetch is due).
const REPORT_GIVE_UP: SignedDuration = SignedDuration::from_hours(6);

/// What kenzen counted in one marketplace since Amazon's figures end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinceAmazon {
    /// Seller-initiated cancels kenzen submitted (or committed to: see
    /// [`Service::commit_counted_cancel`]).
    pub counted: u64,
    /// Merchant-fulfilled orders kenzen counted.
    pub orders: u64,
}

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// One step of fetching Amazon's seller performance report, when one is due or under way.
    /// Best effort: every failure is logged and written to the fetch state, never returned.
    pub(crate) async fn refresh_health(&self, now: Timestamp) {
        let fetch = match self.store.health_fetch().await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "account-health fetch state not read; tried next run");
                return;
            }
        };
        let outcome = match &fetch {
            Some(f) if f.report_id.is_some() => self.follow_report(f, now).await,
            Some(f) if now < f.requested_at + self.settings.health_every => return,
            _ => self.request_report(fetch.as_ref(), now).await,
        };
        if let Some(outcome) = outcome {
            tracing::info!(outcome = %outcome.last_outcome, "account-health fetch");
        }
    }

    /// Claims and makes the report request; the state written after it.
    async fn request_report(
        &self,
        before: Option<&HealthFetch>,
        now: Timestamp,
    ) -> Option<HealthFetch> {
        let claim = HealthFetch {
            requested_at: now,
            report_id: None,
            fetched_at: before.and_then(|f| f.fetched_at),
            last_outcome: "requesting the seller performance report".into(),
        };
        match self
            .store
            .put_health_fetch(&claim, before.map(|f| f.requested_at))
            .await
        {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "account-health fetch not claimed; tried next run");
                return None;
            }
        }
        let marketplaces: Vec<MarketplaceId> = self
            .settings
            .marketplaces()
            .into_iter()
            .filter_map(|m| MarketplaceId::parse(m).ok())
            .collect();
        let next = match self.market.request_health_report(&marketplaces).await {
            Ok(id) => HealthFetch {
                report_id: Some(id.clone()),
                last_outcome: format!("report {id} requested"),
                ..claim.clone()
            },
            Err(e) => HealthFetch {
                last_outcome: match e.kind {
                    MarketErrorKind::OutcomeUnknown => format!(
                        "the report request's answer was lost ({e}); not asked again before \
                         the next fetch is due"
                    ),
                    MarketErrorKind::NotAuthorized => format!(
                        "not authorised ({e}): add the Selling Partner Insights role to the \
                         SP-API application and authorise it again"
                    ),
                    _ => format!("the report request failed: {e}"),
                },
                ..claim.clone()
            },
        };
        self.save_fetch(&next, Some(claim.requested_at)).await;
        Some(next)
    }

    /// Looks at the requested report; stores its figures when Amazon has made it.
    async fn follow_report(&self, fetch: &HealthFetch, now: Timestamp) -> Option<HealthFetch> {
        let id = fetch.report_id.clone()?;
        let done = |outcome: String, fetched_at| HealthFetch {
            report_id: None,
            fetched_at,
            last_outcome: outcome,
            ..fetch.clone()
        };
        // A report followed for 6 h is given up, whatever held it (Amazon not making it, or
        // reading it failing each time): the next fetch asks for a new one.
        let overdue = now - REPORT_GIVE_UP > fetch.requested_at;
        let given_up = |why: &str| {
            done(
                format!("report {id} {why} within 6 h; asked again when due"),
                fetch.fetched_at,
            )
        };
        let next = match self.market.health_report_status(&id).await {
            Ok(HealthReportStatus::Pending) if overdue => given_up("not made by Amazon"),
            Ok(HealthReportStatus::Pending) => return None,
            Ok(HealthReportStatus::Cancelled) => done(
                format!("Amazon cancelled report {id} (no data)"),
                fetch.fetched_at,
            ),
            Ok(HealthReportStatus::Fatal) => done(
                format!("Amazon could not make report {id}"),
                fetch.fetched_at,
            ),
            Ok(HealthReportStatus::Done { document_id }) => {
                match self.market.health_report(&document_id, now).await {
                    Ok(parsed) => {
                        let mut stored = 0;
                        for h in &parsed.health {
                            match self.store.put_health(h).await {
                                Ok(()) => stored += 1,
                                Err(e) => tracing::warn!(
                                    marketplace = %h.marketplace_id,
                                    error = %e,
                                    "account-health figures not stored"
                                ),
                            }
                        }
                        for why in &parsed.skipped {
                            tracing::warn!(detail = %why, "account-health entry skipped");
                        }
                        done(
                            format!(
                                "figures of {stored} marketplace(s) stored from report {id}{}",
                                if parsed.skipped.is_empty() {
                                    String::new()
                                } else {
                                    format!(" ({} entries skipped)", parsed.skipped.len())
                                }
                            ),
                            Some(now),
                        )
                    }
                    Err(e) if e.is_transient() && overdue => given_up("could not be read"),
                    Err(e) if e.is_transient() => return None,
                    Err(e) => done(
                        format!("report {id} could not be read: {e}"),
                        fetch.fetched_at,
                    ),
                }
            }
            Err(e) if e.is_transient() && overdue => given_up("could not be looked at"),
            Err(e) if e.is_transient() => return None,
            Err(e) => done(
                format!("report {id} could not be looked at: {e}"),
                fetch.fetched_at,
            ),
        };
        self.save_fetch(&next, Some(fetch.requested_at)).await;
        Some(next)
    }

    async fn save_fetch(&self, fetch: &HealthFetch, expect: Option<Timestamp>) {
        match self.store.put_health_fetch(fetch, expect).await {
            Ok(true) => {}
            Ok(false) => tracing::info!("account-health fetch state changed by another run"),
            Err(e) => tracing::warn!(error = %e, "account-health fetch state not written"),
        }
    }

    /// The `auto` strategy's choice for a new case in `marketplace`: a fallback that says why
    /// when the figures or kenzen's counts cannot be read.
    pub(crate) async fn auto_choice(
        &self,
        auto: &AutoSettings,
        marketplace: &MarketplaceId,
        now: Timestamp,
    ) -> AutoChoice {
        let unreadable = |what: &str, e: &StoreError| {
            let mut c = choose(auto, None, now, 0, 0);
            c.explanation = format!(
                "{} (fallback): {what} could not be read ({e})",
                auto.fallback.as_setting()
            );
            c
        };
        let health = match self.store.health(marketplace.as_str()).await {
            Ok(h) => h,
            Err(e) => return unreadable("the account-health figures", &e),
        };
        let Some(h) = health else {
            return choose(auto, None, now, 0, 0);
        };
        match since_amazon(&self.store, &h, now).await {
            // This order's cancel is one more.
            Ok(s) => choose(auto, Some(&h), now, s.counted + 1, s.orders),
            Err(e) => unreadable("kenzen's own counts", &e),
        }
    }

    /// Amazon's figures for `marketplace` and what kenzen counted since, for projecting the
    /// cancel rate; `None` without figures, or when they cannot be read (logged).
    pub(crate) async fn cancel_figures(
        &self,
        marketplace: &MarketplaceId,
        now: Timestamp,
    ) -> Option<(MarketplaceHealth, SinceAmazon)> {
        let read = async {
            let Some(h) = self.store.health(marketplace.as_str()).await? else {
                return Ok(None);
            };
            let since = since_amazon(&self.store, &h, now).await?;
            Ok::<_, StoreError>(Some((h, since)))
        };
        match read.await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(marketplace = %marketplace, error = %e, "cancel-rate figures not read; no projection");
                None
            }
        }
    }

    /// Counts a seller-initiated cancel of `order_id` now (once per order): when it is
    /// submitted, and when `auto` commits a case to cancel-first (so the next choice already
    /// counts it; an order that then ships leaves the count a little high, never low).
    pub(crate) async fn commit_counted_cancel(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
        now: Timestamp,
    ) {
        let day = marketplace_date(marketplace.as_str(), now);
        if let Err(e) = self
            .store
            .count_cancel(order_id, marketplace.as_str(), day, now)
            .await
        {
            tracing::warn!(order_id = %order_id, error = %e, "counted cancel not recorded; the projection errs low by one");
        }
    }
}

/// What kenzen counted in `health`'s marketplace since Amazon's figures end. kenzen counts by
/// local day, and Amazon's window ends inside one: its cancels are counted from that day on
/// (a cancel of that day is counted rather than missed) and its orders only from the next day
/// (an order of that day Amazon already counted is not counted twice). Both err towards a
/// higher projected rate, never a lower one.
pub async fn since_amazon(
    store: &impl OrderCountStore,
    health: &MarketplaceHealth,
    now: Timestamp,
) -> Result<SinceAmazon, StoreError> {
    let m = health.marketplace_id.as_str();
    let from = marketplace_date(m, health.cancel.window_to);
    let to = marketplace_date(m, now);
    if from > to {
        return Ok(SinceAmazon::default());
    }
    let mut since = SinceAmazon::default();
    for d in store.order_counts(from, to).await? {
        if d.marketplace_id == m {
            since.counted += d.counted;
            if d.day > from {
                since.orders += d.orders;
            }
        }
    }
    Ok(since)
}

/// Where one marketplace's cancel rate stands, for the seller (`kenzen status`).
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub health: MarketplaceHealth,
    pub since: SinceAmazon,
    /// Amazon's figures with kenzen's counts since.
    pub now: Projection,
    /// The same after one more seller-initiated cancel.
    pub after_one: Projection,
}

/// [`Standing`] of `marketplace_id`, if Amazon's figures for it were fetched.
pub async fn standing(
    store: &(impl HealthStore + OrderCountStore),
    marketplace_id: &str,
    now: Timestamp,
) -> Result<Option<Standing>, StoreError> {
    let Some(health) = store.health(marketplace_id).await? else {
        return Ok(None);
    };
    let since = since_amazon(store, &health, now).await?;
    Ok(Some(Standing {
        now: project(&health, since.counted, since.orders),
        after_one: project(&health, since.counted + 1, since.orders),
        health,
        since,
    }))
}

/// The short name of a marketplace for the seller (`JP`, `DE`), or its id when kenzen does not
/// know it.
pub fn country(marketplace_id: &str) -> &str {
    kenzen_core::marketplace::find(marketplace_id).map_or(marketplace_id, |m| m.country)
}

/// `0.84% (2 of 238 orders), target 2.50%, Amazon's figures to 2026-11-25 23:59 UTC`.
pub fn describe_projection(p: &Projection, h: &MarketplaceHealth) -> String {
    let target = p
        .target
        .map_or_else(|| "no target".into(), |t| format!("target {}", percent(t)));
    format!(
        "{} ({} of {} orders), {target}, Amazon's figures to {}",
        percent(p.rate),
        p.cancels,
        p.orders,
        h.cancel.window_to.strftime("%Y-%m-%d %H:%M UTC")
    )
}
