//! The service layer: the use cases the four functions run, over the ports.
//!
//! Each use case reads the clock once, reads cases, asks [`kenzen_core::decide`] what to do,
//! saves the decision conditionally (claiming the work), performs the effects, and feeds their
//! outcomes back as inputs. A conflict means another invocation got there first: the case is
//! skipped, never worked twice. It logs order ids, states and decisions, never buyer data,
//! message texts or secrets.

use std::collections::{BTreeMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use kenzen_core::message::{Language, check_text, final_text, request_text};
use kenzen_core::{
    Assessment, CancelPlan, Case, CaseState, DomainEvent, DueKind, Effect, FeedOutcome, Input,
    MessageKind, MessageOutcome, OpenReason, OrderView, Settings, assess, decide,
};
use serde::Serialize;

use crate::clock::Clock;
use crate::ports::{
    CancelBatchStatus, CaseStore, EventPublisher, Marketplace, PublishError, SendOutcome,
    StoreError, TimelineEntry, Versioned,
};
use crate::spapi::SpApiError;
use crate::spapi::feed::CancelRequest;

/// Why a use case failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Market(#[from] SpApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl ServiceError {
    fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(StoreError::Conflict(_)))
    }
}

/// What one run did: the function's response and the log line that ends each invocation.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub orders_seen: u32,
    pub cases_opened: u32,
    pub cases_checked: u32,
    pub messages_sent: u32,
    pub cancels_submitted: u32,
    pub cases_ended: u32,
    /// Domain events put on the bus.
    pub events_published: u32,
    /// Cancels Amazon accepted, by cancel reason.
    pub cancels_by_reason: BTreeMap<String, u32>,
    /// Alerts raised, by kind (FinalNoticeNotDelivered, DeadlineRisk, FeedError).
    pub alerts: BTreeMap<String, u32>,
    /// Cases skipped because another invocation changed them first.
    pub conflicts: u32,
    /// Per-case failures; the run went on with the other cases.
    pub errors: Vec<String>,
}

impl RunReport {
    /// Ends a run of `function` at `now`: prints its CloudWatch EMF metrics line, logs the
    /// report, and returns it (see [`RunReport::into_result`]).
    pub fn finish(self, function: &str, now: Timestamp) -> Result<RunReport, String> {
        if let Some(line) = crate::metrics::emf_line(function, &self, now.as_millisecond()) {
            println!("{line}");
        }
        self.into_result()
    }

    /// Logs the report and returns it, or, when some cases failed, an error naming them (the
    /// run still did everything else; the failure shows in the function's metrics and the
    /// invocation is retried).
    pub fn into_result(self) -> Result<RunReport, String> {
        tracing::info!(
            orders_seen = self.orders_seen,
            cases_opened = self.cases_opened,
            cases_checked = self.cases_checked,
            messages_sent = self.messages_sent,
            cancels_submitted = self.cancels_submitted,
            cases_ended = self.cases_ended,
            conflicts = self.conflicts,
            errors = self.errors.len(),
            "run finished"
        );
        if self.errors.is_empty() {
            Ok(self)
        } else {
            Err(format!(
                "{} case(s) failed: {}",
                self.errors.len(),
                self.errors.join("; ")
            ))
        }
    }

    fn failed(&mut self, order_id: &str, e: &ServiceError) {
        if e.is_conflict() {
            self.conflicts += 1;
            tracing::info!(order_id, "case changed by another invocation; skipped");
        } else {
            tracing::error!(order_id, error = %e, "case step failed");
            self.errors.push(format!("{order_id}: {e}"));
        }
    }
}

/// Effects a use case performs in bulk rather than case by case.
enum Deferred {
    Cancel(CancelRequest),
    CheckFeed(String),
}

/// kenzen's use cases over a marketplace `M`, a store `S` and an event publisher `P`.
pub struct Service<M, S, P> {
    pub market: M,
    pub store: S,
    pub events: P,
    pub settings: Settings,
    pub clock: Clock,
    pub initial_lookback: SignedDuration,
    /// At most this many open cases are re-read per scheduled reply-detect run (getOrder runs
    /// at 0.5 requests per second); each run starts further along, so all are reached in turn.
    pub reply_sweep_limit: usize,
}

/// The default for [`Service::reply_sweep_limit`]: about 140 s of getOrder calls.
pub const REPLY_SWEEP_LIMIT: usize = 100;

impl<M: Marketplace, S: CaseStore, P: EventPublisher> Service<M, S, P> {
    async fn timeline(
        &self,
        case: &Case,
        at: Timestamp,
        kind: &str,
        note: &str,
        text: Option<String>,
        answer: Option<String>,
    ) -> Result<(), StoreError> {
        tracing::info!(
            order_id = %case.order_id,
            state = case.state.name(),
            kind,
            decision = note,
            "case step"
        );
        self.store
            .append_timeline(&TimelineEntry {
                at,
                order_id: case.order_id.clone(),
                kind: kind.into(),
                state: case.state.name().into(),
                note: note.into(),
                text,
                answer,
            })
            .await
    }

    /// Decides, saves if changed, records the decision, publishes its events. Returns the case
    /// as saved and the effects still to perform.
    async fn apply(
        &self,
        vc: &Versioned<Case>,
        input: Input,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(Versioned<Case>, Vec<Effect>), ServiceError> {
        let d = decide(&vc.value, &input, now, &self.settings);
        let mut current = vc.clone();
        if d.changed(&vc.value) {
            current = self
                .store
                .save_case(&d.case, vc.version, d.case.due(&self.settings))
                .await?;
            if d.case.state.is_terminal() {
                report.cases_ended += 1;
            }
            self.timeline(&d.case, now, "decision", &d.note, None, None)
                .await?;
        }
        let mut events = Vec::new();
        let mut rest = Vec::new();
        for e in d.effects {
            match e {
                Effect::Publish(ev) => {
                    match &ev {
                        DomainEvent::CancelSubmitted { reason, .. } => {
                            *report.cancels_by_reason.entry(reason.clone()).or_default() += 1;
                        }
                        DomainEvent::Alert { alert, .. } => {
                            tracing::warn!(order_id = %d.case.order_id, alert = %alert, "alert raised");
                            *report.alerts.entry(alert.clone()).or_default() += 1;
                        }
                        _ => {}
                    }
                    events.push(ev)
                }
                other => rest.push(other),
            }
        }
        if !events.is_empty() {
            self.events.publish(&events).await?;
            report.events_published += events.len() as u32;
        }
        Ok((current, rest))
    }

    /// Applies `input` and keeps going while effects have immediate outcomes (messages);
    /// returns the case and the effects that are done in bulk (cancels, feed checks).
    async fn drive(
        &self,
        vc: Versioned<Case>,
        input: Input,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(Versioned<Case>, Vec<Deferred>), ServiceError> {
        let mut case = vc;
        let mut deferred = Vec::new();
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let (next, effects) = self.apply(&case, input, now, report).await?;
            case = next;
            for e in effects {
                match e {
                    Effect::SendRequest { .. } | Effect::SendFinalNotice => {
                        let message = match e {
                            Effect::SendRequest { n } => MessageKind::Request(n),
                            _ => MessageKind::FinalNotice,
                        };
                        let outcome = self.send_message(&case.value, message, now).await;
                        if outcome == MessageOutcome::Accepted {
                            report.messages_sent += 1;
                        }
                        queue.push_back(Input::MessageResult { message, outcome });
                    }
                    Effect::ZeroListings => self.zero_listings(&case.value, now).await,
                    Effect::SubmitCancel { reason } => {
                        deferred.push(Deferred::Cancel(CancelRequest {
                            order_id: case.value.order_id.clone(),
                            order_item_ids: case
                                .value
                                .items
                                .iter()
                                .map(|i| i.order_item_id.clone())
                                .collect(),
                            reason,
                        }))
                    }
                    Effect::CheckFeed { feed_id } => deferred.push(Deferred::CheckFeed(feed_id)),
                    // `apply` has already published these.
                    Effect::Publish(_) => {}
                }
            }
        }
        Ok((case, deferred))
    }

    /// Sets the listing quantity of the case's stocked-out SKU to 0 so it stops selling
    /// (when the setting is on and the case is about stock). Best effort: a failure is recorded
    /// in the timeline and logged, and changes nothing else.
    async fn zero_listings(&self, case: &Case, now: Timestamp) {
        let OpenReason::StockShort { sku, .. } = &case.reason else {
            return;
        };
        if !self.settings.zero_listing {
            return;
        }
        let (note, answer) = match self.market.set_listing_quantity(sku, 0).await {
            Ok(()) => (
                format!("listing {sku} quantity set to 0"),
                "ACCEPTED".to_string(),
            ),
            Err(e) => {
                tracing::error!(order_id = %case.order_id, error = %e, "listing quantity not set");
                (
                    format!("listing {sku} quantity NOT set to 0"),
                    e.to_string(),
                )
            }
        };
        if let Err(e) = self
            .timeline(case, now, "listing", &note, None, Some(answer))
            .await
        {
            tracing::error!(order_id = %case.order_id, error = %e, "listing change not recorded");
        }
    }

    /// Sends a message: preflight, buyer locale, text, send. Never fails: every problem becomes
    /// an outcome the rules handle, and the attempt goes into the timeline.
    async fn send_message(
        &self,
        case: &Case,
        message: MessageKind,
        now: Timestamp,
    ) -> MessageOutcome {
        let id = case.order_id.as_str();
        let (outcome, text, answer) = match self.market.can_send_unexpected_problem(id).await {
            Ok(false) => (
                MessageOutcome::Unavailable,
                None,
                "preflight: unexpectedProblem not offered for this order".to_string(),
            ),
            Err(e) => (
                MessageOutcome::Failed {
                    detail: e.to_string(),
                },
                None,
                format!("preflight failed: {e}"),
            ),
            Ok(true) => match self.market.buyer_locale(id).await {
                Err(e) => (
                    MessageOutcome::Failed {
                        detail: e.to_string(),
                    },
                    None,
                    format!("getAttributes failed: {e}"),
                ),
                Ok(locale) => {
                    let lang = Language::from_locale(locale.as_deref());
                    let text = match message {
                        MessageKind::Request(n) => request_text(case, n, lang),
                        MessageKind::FinalNotice => final_text(case, lang),
                    };
                    match check_text(&text) {
                        Err(why) => (
                            MessageOutcome::Failed {
                                detail: why.to_string(),
                            },
                            Some(text),
                            format!("not sent: {why}"),
                        ),
                        Ok(()) => match self.market.send_unexpected_problem(id, &text).await {
                            Ok(SendOutcome::Accepted) => (
                                MessageOutcome::Accepted,
                                Some(text),
                                "201 accepted".to_string(),
                            ),
                            Ok(SendOutcome::Refused(why)) => {
                                (MessageOutcome::Unavailable, Some(text), why)
                            }
                            Err(e) => (
                                MessageOutcome::Failed {
                                    detail: e.to_string(),
                                },
                                Some(text),
                                e.to_string(),
                            ),
                        },
                    }
                }
            },
        };
        let note = match message {
            MessageKind::Request(n) => format!("request message {n}"),
            MessageKind::FinalNotice => "final message".to_string(),
        };
        if let Err(e) = self
            .timeline(case, now, "message", &note, text, Some(answer))
            .await
        {
            tracing::error!(order_id = id, error = %e, "message attempt not recorded in the timeline");
        }
        outcome
    }

    /// Looks at one order from the poll: updates its case, or opens one if it cannot be filled.
    async fn handle_polled_order(
        &self,
        order: OrderView,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        if let Some(vc) = self.store.get_case(&order.order_id).await? {
            self.drive(vc, Input::OrderSeen(order), now, report).await?;
            return Ok(());
        }
        let skus: Vec<String> = order.lines.iter().map(|l| l.sku.clone()).collect();
        let stock = self.store.sku_info(&skus).await?;
        match assess(&order, &stock, self.settings.profit_floor.as_ref()) {
            Assessment::Unfillable(reason) => self.open_case(&order, reason, now, report).await,
            Assessment::Fillable | Assessment::NotApplicable(_) => Ok(()),
        }
    }

    /// Opens a case for `order`, records and announces it, stops the SKU selling, and sends the
    /// first message if one is due now. A case that exists already is left alone.
    async fn open_case(
        &self,
        order: &OrderView,
        reason: OpenReason,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        let Some(case) = Case::open(order, reason, &self.settings, now) else {
            return Ok(());
        };
        let vc = self
            .store
            .create_case(&case, case.due(&self.settings))
            .await?;
        report.cases_opened += 1;
        let why = case.reason.describe();
        self.timeline(
            &case,
            now,
            "decision",
            &format!(
                "case opened ({why}); strategy {}, final notice at {}, cancel by {}",
                case.strategy.as_setting(),
                case.final_notice_at,
                case.cancel_by
            ),
            None,
            None,
        )
        .await?;
        let mut events = vec![DomainEvent::CaseOpened {
            order_id: case.order_id.clone(),
            reason: why,
        }];
        if matches!(case.state, CaseState::CancelDue { .. }) {
            self.timeline(
                &case,
                now,
                "decision",
                "the order already shows the buyer's official cancellation request; no message needed",
                None,
                None,
            )
            .await?;
            events.push(DomainEvent::BuyerRequestedCancel {
                order_id: case.order_id.clone(),
            });
        }
        self.events.publish(&events).await?;
        report.events_published += events.len() as u32;
        self.zero_listings(&case, now).await;
        if matches!(case.due(&self.settings), Some((DueKind::Send, t)) if t <= now) {
            // The first message goes out at detection.
            self.drive(vc, Input::Due, now, report).await?;
        }
        Ok(())
    }

    /// An ORDER_CHANGE notification named `order_id`: reads the order and handles it like a
    /// polled one (opens a case if it cannot be filled, or updates its case). A notification
    /// handled before (same NotificationId) is dropped; one that failed is not marked, so its
    /// retry is handled.
    pub async fn check_order(
        &self,
        order_id: &str,
        notification_id: Option<&str>,
    ) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RunReport::default();
        if let Some(n) = notification_id
            && self.store.notification_seen(n).await?
        {
            tracing::info!(
                order_id,
                notification_id = n,
                "notification already handled; dropped"
            );
            return Ok(report);
        }
        let order = self.market.get_order(order_id).await?;
        report.orders_seen += 1;
        match self.handle_polled_order(order, now, &mut report).await {
            Err(e) => report.failed(order_id, &e),
            Ok(()) => {
                if let Some(n) = notification_id {
                    self.store.mark_notification(n, now).await?;
                }
            }
        }
        Ok(report)
    }

    /// The seller flagged `order_id` by hand (an event on the bus): opens a case for it, unless
    /// there is one or the order is not an unshipped merchant-fulfilled order.
    pub async fn flag_order(
        &self,
        order_id: &str,
        reason: &str,
    ) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RunReport::default();
        if self.store.get_case(order_id).await?.is_some() {
            tracing::info!(order_id, "flagged order already has a case");
            return Ok(report);
        }
        let order = self.market.get_order(order_id).await?;
        report.orders_seen += 1;
        let probe = assess(&order, &Default::default(), None);
        if let Assessment::NotApplicable(why) = probe {
            tracing::warn!(order_id, why, "flagged order cannot get a case");
            report
                .errors
                .push(format!("{order_id}: not flagged: {why}"));
            return Ok(report);
        }
        let reason = OpenReason::ManualFlag {
            reason: reason.chars().take(200).collect(),
        };
        if let Err(e) = self.open_case(&order, reason, now, &mut report).await {
            report.failed(order_id, &e);
        }
        Ok(report)
    }

    /// The seller withdrew the case for `order_id`: it closes without further messages, unless
    /// the cancel is already on its way.
    pub async fn withdraw(&self, order_id: &str, reason: &str) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RunReport::default();
        if let Some(vc) = self.store.get_case(order_id).await? {
            report.cases_checked += 1;
            let input = Input::Withdraw {
                reason: reason.chars().take(200).collect(),
            };
            if let Err(e) = self.drive(vc, input, now, &mut report).await {
                report.failed(order_id, &e);
            }
        }
        Ok(report)
    }

    /// new-order-check: polls orders updated since the cursor, opens cases for unfillable new
    /// orders (sending the first request), and updates cases whose orders changed.
    pub async fn check_new_orders(&self) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RunReport::default();
        let after = self
            .store
            .poll_cursor()
            .await?
            .unwrap_or(now - self.initial_lookback);
        let (orders, before) = self.market.search_orders(after).await?;
        let mut newest = after;
        let mut oldest_failed: Option<Timestamp> = None;
        for order in orders {
            report.orders_seen += 1;
            let updated = order.last_updated;
            newest = newest.max(updated);
            let id = order.order_id.clone();
            if let Err(e) = self.handle_polled_order(order, now, &mut report).await {
                report.failed(&id, &e);
                if !e.is_conflict() {
                    oldest_failed =
                        Some(oldest_failed.map_or(updated, |t: Timestamp| t.min(updated)));
                }
            }
        }
        // Never skip past an order that failed: the next poll sees it again.
        let mut cursor = before.map_or(newest, |b| b.max(newest)).min(now);
        if let Some(t) = oldest_failed {
            cursor = cursor.min(t - SignedDuration::from_secs(1));
        }
        if cursor > after {
            self.store.set_poll_cursor(cursor).await?;
        }
        Ok(report)
    }

    /// message-resend: sends every request message that is due.
    pub async fn send_due_messages(&self) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RunReport::default();
        for vc in self.store.due_cases(DueKind::Send, now).await? {
            report.cases_checked += 1;
            let id = vc.value.order_id.clone();
            if let Err(e) = self.drive(vc, Input::Due, now, &mut report).await {
                report.failed(&id, &e);
            }
        }
        Ok(report)
    }

    /// reply-detect: re-reads the orders of open cases (or just `order_id`) and records what
    /// Amazon shows: the buyer's official cancellation request, a ship, a cancel elsewhere.
    pub async fn detect_replies(&self, order_id: Option<&str>) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RunReport::default();
        let cases = match order_id {
            Some(id) => self.store.get_case(id).await?.into_iter().collect(),
            None => {
                let mut open = self.store.open_cases().await?;
                let limit = self.reply_sweep_limit.max(1);
                if open.len() > limit {
                    open.sort_by(|a, b| a.value.order_id.cmp(&b.value.order_id));
                    // The run number (one per half hour) picks where this run starts.
                    let run = now.as_second().div_euclid(1800) as usize;
                    let start = run.wrapping_mul(limit) % open.len();
                    open.rotate_left(start);
                    open.truncate(limit);
                    tracing::info!(limit, "more open cases than one run reads; rotating");
                }
                open
            }
        };
        for vc in cases {
            if vc.value.state.is_terminal() {
                continue;
            }
            report.cases_checked += 1;
            let id = vc.value.order_id.clone();
            let step = async {
                let order = self.market.get_order(&id).await?;
                self.drive(vc, Input::OrderSeen(order), now, &mut report)
                    .await
                    .map(|_| ())
            };
            if let Err(e) = step.await {
                report.failed(&id, &e);
            }
        }
        Ok(report)
    }

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
                Err(e) => report.failed(&id, &e),
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
                        report.failed(&id, &e.into());
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
                report.failed(&id, &e);
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
                Err(e) => report.failed(&id, &e),
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
                    CancelBatchStatus::Done { errors } => match errors.get(&id) {
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
                    report.failed(&id, &e);
                }
            }
        }
        Ok(())
    }
}
