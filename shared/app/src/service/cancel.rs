//! final-cancel's use case: submits every due cancel in one batch, then confirms submitted
//! batches from Amazon's report and a re-read of each order.

use std::collections::BTreeMap;

use jiff::Timestamp;
use kenzen_core::{CancelPlan, Case, CaseState, DueKind, FeedOutcome, Input};

use super::{Deferred, Service, ServiceError, record_failure};
use crate::ports::{
    CancelBatchStatus, CancelRequest, EventPublisher, Marketplace, Store, Versioned,
};
use crate::report::RunReport;

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// final-cancel: submits every due cancel in one feed, then checks submitted feeds and
    /// confirms each cancel from the report and a re-read of the order.
    pub async fn final_cancel(&self) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
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
        for vc in self.store.due_cases(DueKind::Cancel, now).await? {
            report.cases_checked += 1;
            let id = vc.value.order_id.clone();
            // Re-read the order right before cancelling: a ship or a cancel elsewhere ends the
            // case instead, and a BuyerCanceled goes out only while Amazon shows the request.
            let step = async {
                let order = self.market.get_order(&id).await?;
                let buyer_request = order.buyer_requested_cancel();
                let (vc, _) = self
                    .drive(vc, Input::OrderSeen(order), now, &mut *report)
                    .await?;
                let buyer_plan = matches!(
                    vc.value.state,
                    CaseState::CancelDue {
                        plan: CancelPlan::BuyerCanceled { .. },
                        ..
                    }
                );
                if buyer_plan && !buyer_request {
                    return Ok::<_, ServiceError>(None);
                }
                let (vc, deferred) = self.drive(vc, Input::Due, now, &mut *report).await?;
                Ok(deferred.into_iter().find_map(|d| match d {
                    Deferred::Cancel(c) => Some((vc.clone(), c)),
                    Deferred::CheckFeed(_) => None,
                }))
            };
            match step.await {
                Ok(Some(claimed)) => batch.push(claimed),
                Ok(None) => {
                    if let Some(vc) = self.store.get_case(&id).await?
                        && matches!(vc.value.state, CaseState::CancelDue { .. })
                    {
                        tracing::warn!(order_id = %id, "cancel due but the order no longer shows the buyer's request; not submitted");
                    }
                }
                Err(e) => record_failure(report, &id, &e),
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let requests: Vec<CancelRequest> = batch.iter().map(|(_, c)| c.clone()).collect();
        let result = self.market.submit_cancels(&requests).await;
        if let Ok(feed_id) = &result {
            self.store.put_cancel_batch(feed_id, &requests).await?;
        }
        for (vc, req) in batch {
            let id = vc.value.order_id.clone();
            let input = match &result {
                Ok(feed_id) => {
                    report.cancels_submitted += 1;
                    let note = format!(
                        "cancel feed {feed_id} accepted by Amazon ({} orders, reason {})",
                        requests.len(),
                        req.reason.as_feed()
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
                Err(e) => Input::CancelSubmitFailed {
                    detail: e.to_string(),
                },
            };
            if let Err(e) = self.drive(vc, input, now, report).await {
                record_failure(report, &id, &e);
            }
        }
        if let Err(e) = result {
            tracing::error!(error = %e, "cancel feed not submitted; will retry");
            report.errors.push(format!("cancel feed: {e}"));
        }
        Ok(())
    }

    async fn confirm_submitted(
        &self,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        let mut by_feed: BTreeMap<String, Vec<Versioned<Case>>> = BTreeMap::new();
        for vc in self.store.due_cases(DueKind::Confirm, now).await? {
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
            let requests = match self.store.cancel_batch(&feed_id).await? {
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
                    CancelBatchStatus::Done { errors, .. } => match errors.get(&id) {
                        Some(err) => (
                            FeedOutcome::Failed {
                                detail: err.clone(),
                            },
                            Some(format!("report: error {err}")),
                        ),
                        None => (
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
                    let succeeded = outcome == FeedOutcome::Succeeded;
                    let input = Input::FeedResult {
                        feed_id: feed_id.clone(),
                        outcome,
                    };
                    let (vc, _) = self.drive(vc, input, now, &mut *report).await?;
                    if succeeded {
                        let order = self.market.get_order(&id).await?;
                        self.drive(vc, Input::OrderSeen(order), now, &mut *report)
                            .await?;
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
