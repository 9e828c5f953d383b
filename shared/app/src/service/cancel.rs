//! final-cancel's use case: submits every due cancel in one batch per marketplace (Amazon's
//! feeds apply to the marketplaces they name, and most feed types take one), then confirms
//! submitted batches from Amazon's report and a re-read of each order.

use std::collections::BTreeMap;

use jiff::Timestamp;
use kenzen_core::{CancelReason, Case, CaseState, DueKind, FeedOutcome, Input, MarketplaceId};

use super::{Deferred, Service, ServiceError, record_failure};
use crate::ports::{
    CancelBatchStatus, CancelRequest, EventPublisher, Marketplace, Store, Versioned,
};
use crate::report::RunReport;

/// A case whose cancel this run claimed, and the cancel.
type Claimed = (Versioned<Case>, CancelRequest);

/// The id prefix of a rehearsed (dry-run) cancel feed: never sent, never looked up at Amazon.
pub const DRY_RUN_FEED: &str = "dry-run-";

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// final-cancel: submits every due cancel, one feed per marketplace, then checks submitted
    /// feeds and confirms each cancel from the report and a re-read of the order.
    pub async fn final_cancel(&self) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(None).await;
        let mut report = RunReport::default();
        self.submit_due_cancels(now, &mut report).await?;
        self.confirm_submitted(now, &mut report).await?;
        Ok(report)
    }

    async fn submit_due_cancels(
        &self,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        let mut batch: Vec<(Versioned<Case>, CancelRequest)> = Vec::new();
        let read = self.store.due_cases(DueKind::Cancel, now).await?;
        let mut cases = self.readable(read, report).await;
        // Earliest deadline first; the claims stop in time for the feed to go out in this run.
        cases.sort_by_key(|c| c.value.cancel_by);
        let total = cases.len();
        for (i, vc) in cases.into_iter().enumerate() {
            if self.out_of_time() {
                report.left_for_next_run += (total - i) as u32;
                tracing::warn!(
                    left = total - i,
                    "run budget reached; submitting what is claimed"
                );
                break;
            }
            report.cases_checked += 1;
            let id = vc.value.order_id.clone();
            // Re-read the order right before acting: a ship or a cancel elsewhere ends the
            // case, a buyer's request turns it to BuyerCanceled, a request that went away turns
            // it back. Then decide until nothing more is due now: a case taken at its last call
            // gets its final message here, then its cancel.
            let step = async {
                let order = self.market.get_order(&id).await?;
                let (mut vc, _) = self
                    .drive(vc, Input::OrderSeen(order), now, &mut *report)
                    .await?;
                for _ in 0..3 {
                    if vc.value.due(&self.settings).is_none_or(|(_, t)| t > now) {
                        break;
                    }
                    let version = vc.version;
                    let (next, deferred) = self.drive(vc, Input::Due, now, &mut *report).await?;
                    if let Some(c) = deferred.into_iter().find_map(|d| match d {
                        Deferred::Cancel(c) => Some(c),
                        Deferred::CheckFeed(_) => None,
                    }) {
                        return Ok::<_, ServiceError>(Some((next, c)));
                    }
                    if next.version == version {
                        break;
                    }
                    vc = next;
                }
                Ok(None)
            };
            match step.await {
                Ok(Some(claimed)) => batch.push(claimed),
                Ok(None) => {}
                Err(e) => record_failure(report, &id, &e),
            }
        }
        let (rehearsals, batch): (Vec<_>, Vec<_>) =
            batch.into_iter().partition(|(vc, _)| vc.value.dry_run);
        for (vc, req) in rehearsals {
            let id = vc.value.order_id.clone();
            if let Err(e) = self.rehearse_cancel(vc, req, now, report).await {
                record_failure(report, &id, &e);
            }
        }
        // One feed per marketplace, in the order of their most urgent cancel.
        let mut by_marketplace: Vec<(MarketplaceId, Vec<Claimed>)> = Vec::new();
        for (vc, req) in batch {
            let m = vc.value.marketplace_id.clone();
            match by_marketplace.iter_mut().find(|(id, _)| *id == m) {
                Some((_, group)) => group.push((vc, req)),
                None => by_marketplace.push((m, vec![(vc, req)])),
            }
        }
        for (marketplace, batch) in by_marketplace {
            self.submit_batch(&marketplace, batch, now, report).await;
        }
        Ok(())
    }

    /// Submits one cancel feed for `batch`, the claimed cancels of orders in `marketplace`,
    /// and feeds its outcome to each case.
    async fn submit_batch(
        &self,
        marketplace: &MarketplaceId,
        batch: Vec<Claimed>,
        now: Timestamp,
        report: &mut RunReport,
    ) {
        // Each seller-initiated cancel carries the projected 7-day cancel rate after it (and
        // the ones before it in this batch), from Amazon's last figures and kenzen's counts.
        let mut batch = batch;
        let mut uncounted = 0;
        // Read once per batch: Amazon's figures and kenzen's counts since.
        let figures = if batch
            .iter()
            .any(|(_, r)| r.reason != CancelReason::BuyerCanceled)
        {
            self.cancel_figures(marketplace, now).await
        } else {
            None
        };
        for (vc, req) in batch.iter_mut() {
            if req.reason == CancelReason::BuyerCanceled {
                continue;
            }
            // `auto` counted a case it committed to cancel-first when it opened it.
            let committed = vc.value.strategy_choice.is_some()
                && vc.value.strategy == kenzen_core::Strategy::CancelFirst;
            if !committed {
                uncounted += 1;
            }
            vc.value.projected_rate = figures.as_ref().map(|(h, since)| {
                let p = kenzen_core::project(h, since.counted + uncounted, since.orders);
                super::health::describe_projection(&p, h)
            });
        }
        // Each case's claim, saved above before this call, is the record that a submission
        // may be under way: a run that dies here leaves it for the next run to look up.
        let requests: Vec<CancelRequest> = batch.iter().map(|(_, c)| c.clone()).collect();
        let result = self.market.submit_cancels(marketplace, &requests).await;
        // A cancel that may have reached Amazon counts against the rate from now on.
        if result.as_ref().is_ok() || result.as_ref().is_err_and(|e| e.outcome_unknown()) {
            for (vc, req) in &batch {
                if req.reason != CancelReason::BuyerCanceled {
                    self.commit_counted_cancel(&vc.value.order_id, marketplace, now)
                        .await;
                }
            }
        }
        if let Ok(feed_id) = &result
            && let Err(e) = self.store.put_cancel_batch(feed_id, &requests).await
        {
            // The cases below still learn the feed id; the report is then read for them alone.
            tracing::error!(feed_id = %feed_id, error = %e, "cancel batch not recorded");
            report.errors.push(format!("cancel batch {feed_id}: {e}"));
        }
        for (vc, req) in batch {
            let id = vc.value.order_id.clone();
            let input = match &result {
                Ok(feed_id) => {
                    report.cancels_submitted += 1;
                    let note = format!(
                        "cancel feed {feed_id} accepted by Amazon (marketplace {marketplace}, {} \
                         orders, reason {}, lines {})",
                        requests.len(),
                        req.reason.as_feed(),
                        req.order_item_ids.join(", ")
                    );
                    if let Err(e) = self
                        .timeline(&vc.value, now, "feed", &note, None, Some("202".into()))
                        .await
                    {
                        record_failure(report, &id, &e.into());
                    }
                    Input::CancelSubmitted {
                        feed_id: feed_id.clone(),
                    }
                }
                Err(e) if e.outcome_unknown() => {
                    report.outcomes_unknown += 1;
                    Input::CancelSubmitUnknown {
                        detail: e.to_string(),
                    }
                }
                Err(e) => Input::CancelSubmitFailed {
                    detail: e.to_string(),
                },
            };
            if let Err(e) = self.drive(vc, input, now, report).await {
                record_failure(report, &id, &e);
            }
        }
        if let Err(e) = result {
            tracing::error!(marketplace = %marketplace, error = %e, "cancel feed not submitted (or its answer was lost)");
            report
                .errors
                .push(format!("cancel feed for marketplace {marketplace}: {e}"));
        }
    }

    /// A rehearsal's cancel (dry run): the feed it would submit is recorded on the timeline and
    /// the case ends as if Amazon had confirmed it. Nothing reaches the marketplace.
    async fn rehearse_cancel(
        &self,
        vc: Versioned<Case>,
        req: CancelRequest,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        let feed_id = format!("{DRY_RUN_FEED}{}", now.as_millisecond());
        let xml = self.market.cancel_feed_document(std::slice::from_ref(&req));
        let note = format!(
            "dry run: would submit a cancel feed (reason {}, lines {}); nothing was submitted",
            req.reason.as_feed(),
            req.order_item_ids.join(", ")
        );
        self.timeline(
            &vc.value,
            now,
            "feed",
            &note,
            Some(xml),
            Some("not sent (dry run)".into()),
        )
        .await?;
        let (vc, _) = self
            .drive(
                vc,
                Input::CancelSubmitted {
                    feed_id: feed_id.clone(),
                },
                now,
                report,
            )
            .await?;
        self.drive(
            vc,
            Input::FeedResult {
                feed_id,
                outcome: FeedOutcome::Succeeded,
            },
            now,
            report,
        )
        .await?;
        Ok(())
    }

    async fn confirm_submitted(
        &self,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        let mut by_feed: BTreeMap<String, Vec<Versioned<Case>>> = BTreeMap::new();
        let read = self.store.due_cases(DueKind::Confirm, now).await?;
        let mut cases = self.readable(read, report).await;
        cases.sort_by_key(|c| c.value.cancel_by);
        let total = cases.len();
        for (i, vc) in cases.into_iter().enumerate() {
            if self.out_of_time() {
                report.left_for_next_run += (total - i) as u32;
                break;
            }
            report.cases_checked += 1;
            let id = vc.value.order_id.clone();
            match self.drive(vc, Input::Due, now, report).await {
                Ok((vc, deferred)) => {
                    for d in deferred {
                        if let Deferred::CheckFeed(feed_id) = d {
                            by_feed.entry(feed_id).or_default().push(vc.clone());
                        }
                    }
                }
                Err(e) => record_failure(report, &id, &e),
            }
        }
        for (feed_id, cases) in by_feed {
            if self.out_of_time() {
                report.left_for_next_run += cases.len() as u32;
                continue;
            }
            if feed_id.starts_with(DRY_RUN_FEED) {
                // A rehearsal whose run ended between its two steps: finish it here.
                for vc in cases {
                    let id = vc.value.order_id.clone();
                    let input = Input::FeedResult {
                        feed_id: feed_id.clone(),
                        outcome: FeedOutcome::Succeeded,
                    };
                    if let Err(e) = self.drive(vc, input, now, report).await {
                        record_failure(report, &id, &e);
                    }
                }
                continue;
            }
            let record = self.store.cancel_batch(&feed_id).await?;
            let recorded = record.is_some();
            let requests = match record {
                Some(r) => r,
                None => cases
                    .iter()
                    .filter_map(|vc| match &vc.value.state {
                        CaseState::CancelSubmitted { plan, .. } => Some(CancelRequest {
                            order_id: vc.value.order_id.clone(),
                            order_item_ids: Vec::new(),
                            reason: plan.reason(),
                        }),
                        _ => None,
                    })
                    .collect(),
            };
            let status = match self.market.cancel_status(&feed_id, &requests).await {
                // Without the batch record the messages' order is not known: an error the
                // report ties to a message id alone may belong to any order of the feed.
                Ok(CancelBatchStatus::Done {
                    errors,
                    unattributed,
                }) if !recorded && !errors.is_empty() => CancelBatchStatus::Done {
                    errors: Default::default(),
                    unattributed: Some(unattributed.unwrap_or_else(|| {
                        format!(
                            "{} error(s) in the report, and no record of the feed's orders to tie \
                             them to",
                            errors.len()
                        )
                    })),
                },
                Ok(s) => s,
                Err(e) => {
                    // The cases stay due; the next run asks again.
                    tracing::error!(feed_id = %feed_id, error = %e, "feed status not read");
                    report.errors.push(format!("feed {feed_id}: {e}"));
                    continue;
                }
            };
            for vc in cases {
                let id = vc.value.order_id.clone();
                let (outcome, answer) = match &status {
                    CancelBatchStatus::Pending => (FeedOutcome::Pending, None),
                    CancelBatchStatus::Failed(why) => (
                        FeedOutcome::Failed {
                            detail: why.clone(),
                        },
                        Some(why.clone()),
                    ),
                    CancelBatchStatus::Done {
                        errors,
                        unattributed,
                    } => match (errors.get(&id), unattributed) {
                        (Some(err), _) => (
                            FeedOutcome::Failed {
                                detail: err.clone(),
                            },
                            Some(format!("report: error {err}")),
                        ),
                        // The report counts errors it ties to no order: it confirms nothing for
                        // this one. The re-read below decides; the report's words go with it.
                        (None, Some(why)) => (
                            FeedOutcome::Failed {
                                detail: format!("report does not confirm this order: {why}"),
                            },
                            Some(format!("report: {why}")),
                        ),
                        (None, None) => (
                            FeedOutcome::Succeeded,
                            Some("report: no error for this order".into()),
                        ),
                    },
                };
                let step = async {
                    if let Some(answer) = answer {
                        self.timeline(
                            &vc.value,
                            now,
                            "feed",
                            &format!("feed {feed_id} processed"),
                            None,
                            Some(answer),
                        )
                        .await?;
                    }
                    if matches!(outcome, FeedOutcome::Pending) {
                        self.drive(
                            vc,
                            Input::FeedResult {
                                feed_id: feed_id.clone(),
                                outcome,
                            },
                            now,
                            &mut *report,
                        )
                        .await?;
                        return Ok::<_, ServiceError>(());
                    }
                    // Whatever the report says, the order is the truth: a cancel it shows is
                    // confirmed (even when the report could not say so); only one it does not
                    // show is submitted again.
                    let order = self.market.get_order(&id).await?;
                    let (vc, _) = self
                        .drive(vc, Input::OrderSeen(order), now, &mut *report)
                        .await?;
                    if matches!(vc.value.state, CaseState::CancelSubmitted { .. }) {
                        let input = Input::FeedResult {
                            feed_id: feed_id.clone(),
                            outcome,
                        };
                        self.drive(vc, input, now, &mut *report).await?;
                    }
                    Ok::<_, ServiceError>(())
                };
                if let Err(e) = step.await {
                    record_failure(report, &id, &e);
                }
            }
        }
        Ok(())
    }
}
