//! The service layer: the use cases the four functions run, over the ports.
//!
//! Each use case reads the clock once, reads cases, asks [`kenzen_core::decide`] what to do,
//! saves the decision conditionally (claiming the work), performs the effects, and feeds their
//! outcomes back as inputs. A conflict means another invocation got there first: the case is
//! skipped, never worked twice. It logs order ids, states and decisions, never buyer data,
//! message texts or secrets.
//!
//! - this module: [`Service`], its errors, and [`Service::drive`], the one place effects are
//!   performed.
//! - [`intake`]: new orders (poll, ORDER_CHANGE notifications) and the seller's commands.
//! - [`messages`]: the message-resend sweep and sending one message.
//! - [`replies`]: the reply-detect sweep (buyer requests, ships, cancels elsewhere).
//! - [`cancel`]: the final-cancel sweep (submit the due cancels, confirm submitted ones).
//! - [`templates`]: the seller's message templates, read once per run.

mod cancel;
pub mod health;
mod intake;
mod messages;
mod replies;
mod slots;
mod templates;

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{
    Case, DomainEvent, Effect, Input, MessageKind, MessageOutcome, Mode, OpenReason, OrderId,
    Pending, Settings, decide,
};
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::ports::{
    CancelRequest, CasesRead, EventPublisher, FeedSummary, MarketError, Marketplace, PublishError,
    Store, StoreError, TimelineEntry, Versioned,
};
use crate::report::RunReport;

/// Why a use case failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Market(#[from] MarketError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl ServiceError {
    /// Another invocation changed the case first: not a failure, the case is skipped.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(StoreError::Conflict(_)))
    }

    /// True when running the same invocation again may succeed (throttling, outages).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Market(e) => e.is_transient(),
            Self::Store(e) => e.is_transient() || matches!(e, StoreError::Conflict(_)),
            Self::Publish(_) => true,
        }
    }
}

/// Counts a per-case failure in `report` (a conflict is counted apart: someone else did it).
fn record_failure(report: &mut RunReport, order_id: &str, e: &ServiceError) {
    if e.is_conflict() {
        report.conflicts += 1;
        tracing::info!(order_id = %order_id, "case changed by another invocation; skipped");
    } else {
        tracing::error!(order_id = %order_id, error = %e, "case step failed");
        report.errors.push(format!("{order_id}: {e}"));
    }
}

/// Effects a use case performs in bulk rather than case by case.
enum Deferred {
    /// A cancel of an order in the case's marketplace (one batch per marketplace).
    Cancel(CancelRequest),
    CheckFeed(String),
}

/// The default for the reply sweep's share: about 140 s of getOrder calls (0.5 per second).
pub const REPLY_SWEEP_LIMIT: usize = 100;
/// The default interval of reply-detect's schedule.
pub const REPLY_SWEEP_EVERY: SignedDuration = SignedDuration::from_mins(30);
/// How far back the very first poll looks, by default.
pub const INITIAL_LOOKBACK: SignedDuration = SignedDuration::from_hours(24);

/// kenzen's use cases over a marketplace `M`, a store `S` and an event publisher `P`.
pub struct Service<M, S, P> {
    market: M,
    store: S,
    events: P,
    settings: Settings,
    clock: Clock,
    initial_lookback: SignedDuration,
    reply_sweep_limit: usize,
    reply_sweep_every: SignedDuration,
    /// Amazon's list of cancel feeds as read in this run (run time, since, feeds): one
    /// `getFeeds` call serves every case of a lost batch (the operation allows one call in 45 s).
    feed_list: Mutex<Option<(Timestamp, Timestamp, Vec<FeedSummary>)>>,
    /// When the current run must be done (the Lambda deadline, on the service's clock).
    deadline: std::sync::Mutex<Option<Timestamp>>,
    /// While a poll runs: the cases it opened (cancel-by, order), whose first messages go out
    /// after every order of the run is handled, so a burst opens every case first.
    opened: std::sync::Mutex<Option<Vec<(Timestamp, OrderId)>>>,
    /// The operating mode of the current run and when it was read from the store (the
    /// deployed mode, `settings.mode`, until then or when the store has none).
    mode: std::sync::Mutex<(Mode, Option<Timestamp>)>,
    /// The seller's templates as read for the current run.
    templates: templates::RunTemplates,
    /// Each marketplace's learned send slots (when `settings.learn_slots`).
    learned: slots::LearnedCache,
}

/// How long a container keeps the seller's mode before reading it again, for runs started by
/// single orders (the notifications); the sweeps read it at every run.
pub const MODE_MAX_AGE: SignedDuration = SignedDuration::from_secs(30);

/// A run stops starting new work this long before its deadline (a case step, or the feed
/// submission that ends final-cancel's claims, fits in it).
pub const RUN_MARGIN: SignedDuration = SignedDuration::from_secs(60);

impl<M, S, P> Service<M, S, P> {
    /// The service with the default poll look-back (24 h) and reply-sweep share (100 cases per
    /// 30-minute run).
    pub fn new(market: M, store: S, events: P, settings: Settings, clock: Clock) -> Self {
        Self {
            market,
            store,
            events,
            clock,
            initial_lookback: INITIAL_LOOKBACK,
            reply_sweep_limit: REPLY_SWEEP_LIMIT,
            reply_sweep_every: REPLY_SWEEP_EVERY,
            feed_list: Mutex::new(None),
            deadline: std::sync::Mutex::new(None),
            opened: std::sync::Mutex::new(None),
            templates: Default::default(),
            learned: Default::default(),
            mode: std::sync::Mutex::new((settings.mode, None)),
            settings,
        }
    }

    /// How far back the very first poll looks.
    pub fn with_initial_lookback(mut self, d: SignedDuration) -> Self {
        self.initial_lookback = d;
        self
    }

    /// At most `limit` open cases are re-read per scheduled reply-detect run, which runs every
    /// `every`; each run starts further along, so all are reached in turn.
    pub fn with_reply_sweep(mut self, limit: usize, every: SignedDuration) -> Self {
        self.reply_sweep_limit = limit.max(1);
        self.reply_sweep_every = every;
        self
    }

    /// Changes the reply sweep's share on a running service (tests).
    pub fn set_reply_sweep_limit(&mut self, limit: usize) {
        self.reply_sweep_limit = limit.max(1);
    }

    /// Replaces the deployed settings on a running service, as a redeploy with other settings
    /// would (tests and benchmarks that change settings mid-run); the mode read from the store
    /// is forgotten with them.
    pub fn set_settings(&mut self, settings: Settings) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = (settings.mode, None);
        self.settings = settings;
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Sets when the run about to start must be done (`None`: no limit). Each handler sets it
    /// from its Lambda context; the sweeps stop starting new work [`RUN_MARGIN`] before it and
    /// leave the rest, earliest cancel-by first, to the next run.
    pub fn set_deadline(&self, deadline: Option<Timestamp>)
    where
        M: Marketplace,
    {
        // The margin is a fifth of a run shorter than five margins (a short timeout, as
        // `cargo lambda watch` gives), so such a run still does its first work.
        let now = self.clock.now();
        // A deadline already past is no deadline the run can keep (a local emulator's, or a
        // clock far off): the run goes on as without one, and says so.
        let deadline = deadline.filter(|d| {
            let ahead = *d > now;
            if !ahead {
                tracing::warn!(deadline = %d, "invocation deadline already past; ignored");
            }
            ahead
        });
        let stop = deadline.map(|d| {
            let budget = d.duration_since(now);
            d - RUN_MARGIN.min(budget / 5).max(SignedDuration::ZERO)
        });
        *self.deadline.lock().unwrap_or_else(|p| p.into_inner()) = stop;
        self.market.set_run_deadline(deadline);
    }

    /// True when the run must stop starting new work.
    pub(crate) fn out_of_time(&self) -> bool {
        let stop = *self.deadline.lock().unwrap_or_else(|p| p.into_inner());
        stop.is_some_and(|s| self.clock.now() >= s)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The operating mode of the current run.
    pub fn mode(&self) -> Mode {
        self.mode.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// The settings of the current run: the deployed ones, in the run's mode.
    pub(crate) fn run_settings(&self) -> std::borrow::Cow<'_, Settings> {
        let mode = self.mode();
        if let Some(mut learned) = self.with_learned_slots(&self.settings) {
            learned.mode = mode;
            return std::borrow::Cow::Owned(learned);
        }
        if mode == self.settings.mode {
            std::borrow::Cow::Borrowed(&self.settings)
        } else {
            std::borrow::Cow::Owned(Settings {
                mode,
                ..self.settings.clone()
            })
        }
    }

    pub fn market(&self) -> &M {
        &self.market
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn events(&self) -> &P {
        &self.events
    }
}

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// What every run does first: the seller's mode ([`Self::refresh_mode`]) and the learned
    /// send slots (whichever function's run decides a case's next send, it decides with the
    /// same slots); the run's time.
    pub(crate) async fn begin_run(&self, mode_max_age: Option<SignedDuration>) -> Timestamp {
        self.refresh_mode(mode_max_age).await;
        let now = self.clock.now();
        self.refresh_learned_slots(now).await;
        now
    }

    /// Reads the seller's mode for the run about to start (at most `max_age` old; `None`:
    /// always read). Without a stored mode the deployed one applies; an unreadable one or a
    /// failed read falls back to the deployed mode, with a warning.
    pub async fn refresh_mode(&self, max_age: Option<SignedDuration>) -> Mode {
        let now = self.clock.now();
        if let Some(max) = max_age {
            let (mode, read) = *self.mode.lock().unwrap_or_else(|p| p.into_inner());
            if read.is_some_and(|r| now >= r && now < r + max) {
                return mode;
            }
        }
        let mode = match self.store.mode().await {
            Ok(Some(m)) => m.mode,
            Ok(None) => self.settings.mode,
            Err(e) => {
                tracing::warn!(error = %e, deployed = %self.settings.mode, "the seller's mode could not be read; the deployed mode applies");
                self.settings.mode
            }
        };
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = (mode, Some(now));
        mode
    }

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

    /// Publishes `events`, counting cancels and alerts for the run's metrics.
    async fn publish(
        &self,
        events: &[DomainEvent],
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        if events.is_empty() {
            return Ok(());
        }
        for ev in events {
            match ev {
                DomainEvent::CancelSubmitted { reason, .. } => {
                    // A rehearsal's reason reads "NoInventory (dry run: ...)": its metric is
                    // DryRunNoInventory, apart from real cancels.
                    let word = reason.split_whitespace().next().unwrap_or_default();
                    let key = if reason.contains("dry run") {
                        format!("DryRun{word}")
                    } else {
                        word.to_string()
                    };
                    *report.cancels_by_reason.entry(key).or_default() += 1;
                }
                DomainEvent::Alert {
                    order_id, alert, ..
                } => {
                    tracing::warn!(order_id = %order_id, alert = %alert, "alert raised");
                    *report.alerts.entry(*alert).or_default() += 1;
                }
                _ => {}
            }
        }
        self.events.publish(events).await?;
        report.events_published += events.len() as u32;
        Ok(())
    }

    /// Decides and saves if changed, recording the decision. Returns the case as saved and the
    /// effects to perform.
    async fn decide_and_save(
        &self,
        vc: &Versioned<Case>,
        input: Input,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(Versioned<Case>, Vec<Effect>), ServiceError> {
        let d = decide(&vc.value, &input, now, &self.run_settings());
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
        Ok((current, d.effects))
    }

    /// Applies `input` and performs the effects of each decision: the one place effects are
    /// carried out. Events go out first, then messages (whose outcomes are fed back as inputs
    /// at once) and listing changes; cancels and feed checks are returned, to be done in bulk.
    async fn drive(
        &self,
        vc: Versioned<Case>,
        input: Input,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(Versioned<Case>, Vec<Deferred>), ServiceError> {
        let mut case = self.flush_pending(vc, now, report).await?;
        let mut deferred = Vec::new();
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let (next, effects) = self.decide_and_save(&case, input, now, report).await?;
            case = next;
            let mut events = Vec::new();
            let mut rest = Vec::new();
            for effect in effects {
                match effect {
                    Effect::Publish(ev) => events.push(ev),
                    other => rest.push(other),
                }
            }
            self.publish(&events, report).await?;
            if events
                .iter()
                .any(|e| matches!(e, DomainEvent::BuyerRequestedCancel { .. }))
            {
                self.record_slot_answer(&case.value, now).await;
            }
            for effect in rest {
                match effect {
                    Effect::SendRequest { .. } | Effect::SendFinalNotice => {
                        let message = match effect {
                            Effect::SendRequest { n } => MessageKind::Request(n),
                            _ => MessageKind::FinalNotice,
                        };
                        let (outcome, learned) = self.send_message(&case.value, message, now).await;
                        // Kept with the case's next save (the result always changes the case
                        // when a message went out).
                        if learned.offered {
                            case.value.messaging_offered = true;
                        }
                        if let Some(l) = learned.locale {
                            case.value.buyer_locale = Some(l);
                        }
                        match outcome {
                            MessageOutcome::Accepted => report.messages_sent += 1,
                            MessageOutcome::Unknown { .. } => {
                                report.messages_sent += 1;
                                report.outcomes_unknown += 1;
                            }
                            _ => {}
                        }
                        queue.push_back(Input::MessageResult { message, outcome });
                    }
                    Effect::ZeroListings => self.zero_listings(&case.value, now).await,
                    Effect::SubmitCancel {
                        reason,
                        order_item_ids,
                    } => deferred.push(Deferred::Cancel(CancelRequest {
                        order_id: case.value.order_id.clone(),
                        order_item_ids,
                        reason,
                    })),
                    Effect::FindCancelFeed { since } => {
                        let feed_id = self.find_cancel_feed(&case.value, since, now).await?;
                        queue.push_back(Input::CancelFeedFound { feed_id });
                    }
                    Effect::CheckFeed { feed_id } => deferred.push(Deferred::CheckFeed(feed_id)),
                    // Published above, before any other effect.
                    Effect::Publish(_) => {}
                }
            }
        }
        Ok((case, deferred))
    }

    /// The product type of the listing for `sku`: cached on its stock item, else read from
    /// Amazon in `marketplace` (and cached: a SKU's product type is the same in every
    /// marketplace), else "PRODUCT", which Amazon accepts for a quantity-only patch of any
    /// listing (the documented fallback).
    async fn product_type(
        &self,
        sku: &kenzen_core::Sku,
        marketplace: &kenzen_core::MarketplaceId,
    ) -> String {
        if let Ok(stock) = self.store.sku_info(std::slice::from_ref(sku)).await
            && let Some(t) = stock.get(sku).and_then(|i| i.product_type.clone())
        {
            return t;
        }
        match self.market.listing_product_type(sku, marketplace).await {
            Ok(Some(t)) => {
                if let Err(e) = self.store.set_product_type(sku, &t).await {
                    tracing::warn!(sku = %sku, error = %e, "product type not cached");
                }
                t
            }
            Ok(None) => "PRODUCT".into(),
            Err(e) => {
                tracing::warn!(sku = %sku, error = %e, "product type not read; using PRODUCT");
                "PRODUCT".into()
            }
        }
    }

    /// The readable cases of `read`; the unreadable items are skipped, counted, logged by their
    /// key and alerted once each (`UnreadableCase`), so one damaged item never stops the others.
    async fn readable(&self, read: CasesRead, report: &mut RunReport) -> Vec<Versioned<Case>> {
        for u in &read.unreadable {
            report.unreadable += 1;
            tracing::error!(key = %u.key, detail = %u.detail, "stored case unreadable; skipped");
            match self.store.mark_unreadable(&u.key).await {
                Ok(true) => {
                    let Some(order_id) = u
                        .key
                        .strip_prefix("ORDER#")
                        .and_then(|id| id.parse::<OrderId>().ok())
                    else {
                        continue;
                    };
                    let alert = DomainEvent::Alert {
                        order_id,
                        alert: kenzen_core::AlertKind::UnreadableCase,
                        detail: format!("the stored case cannot be read: {}", u.detail),
                    };
                    if let Err(e) = self.publish(&[alert], report).await {
                        tracing::error!(key = %u.key, error = %e, "unreadable-case alert not published");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::error!(key = %u.key, error = %e, "unreadable case not marked"),
            }
        }
        read.cases
    }

    /// Does the work a case still owes since it was stored (its events, the listing change),
    /// then saves it without them. A run that dies in between leaves the work on the case for
    /// the next run: events may then go out twice (consumers treat them as hints), never not.
    async fn flush_pending(
        &self,
        vc: Versioned<Case>,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<Versioned<Case>, ServiceError> {
        if vc.value.pending.is_empty() {
            return Ok(vc);
        }
        let mut events = Vec::new();
        let mut zero = false;
        for p in &vc.value.pending {
            match p {
                Pending::Publish { event } => events.push(event.clone()),
                Pending::ZeroListing => zero = true,
            }
        }
        let mut done = vc.value.clone();
        done.pending.clear();
        // An outage of the bus keeps the events owed but stops nothing else: the case goes on.
        if let Err(e) = self.publish(&events, report).await {
            tracing::error!(order_id = %vc.value.order_id, error = %e, "events not published; kept on the case");
            report
                .errors
                .push(format!("{}: events not published: {e}", vc.value.order_id));
            done.pending = events
                .into_iter()
                .map(|event| Pending::Publish { event })
                .collect();
        }
        if zero {
            self.zero_listings(&vc.value, now).await;
        }
        Ok(self
            .store
            .save_case(&done, vc.version, done.due(&self.settings))
            .await?)
    }

    /// After a cancel submission whose outcome is unknown: the feed in Amazon's list that
    /// carries this case's cancel, if any. A feed created since `since` that kenzen recorded for
    /// this order, or that kenzen never recorded at all (the application's own feeds only are
    /// listed), is taken to be it; a feed recorded for other orders only is not.
    async fn find_cancel_feed(
        &self,
        case: &Case,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<String>, ServiceError> {
        // Amazon's clock and ours may differ a little; the submission itself comes within one
        // run (at most the Lambda timeout, 5 minutes) after the claim.
        let until = since + SignedDuration::from_mins(7);
        let since = since - SignedDuration::from_mins(2);
        let feeds = {
            let mut cache = self.feed_list.lock().await;
            match cache.as_ref() {
                Some((at, from, feeds)) if *at == now && *from <= since => feeds.clone(),
                _ => {
                    let feeds = self.market.recent_cancel_feeds(since).await?;
                    *cache = Some((now, since, feeds.clone()));
                    feeds
                }
            }
        };
        let mut candidates: Vec<&FeedSummary> = feeds
            .iter()
            .filter(|f| f.created >= since && f.created <= until)
            .collect();
        candidates.sort_by_key(|f| f.created);
        for f in candidates {
            match self.store.cancel_batch(&f.feed_id).await? {
                Some(requests) if requests.iter().any(|r| r.order_id == case.order_id) => {
                    return Ok(Some(f.feed_id.clone()));
                }
                Some(_) => continue,
                None => return Ok(Some(f.feed_id.clone())),
            }
        }
        Ok(None)
    }

    /// Sets the listing quantity of the case's stocked-out SKU to 0 in the order's marketplace
    /// so it stops selling there (when the setting is on and the case is about stock). Best
    /// effort: a failure is recorded in the timeline and logged, and changes nothing else.
    async fn zero_listings(&self, case: &Case, now: Timestamp) {
        let OpenReason::StockShort { sku, .. } = &case.reason else {
            return;
        };
        if !self.settings.zero_listing {
            return;
        }
        if case.dry_run {
            let note = format!("dry run: would set listing {sku} quantity to 0");
            if let Err(e) = self
                .timeline(
                    case,
                    now,
                    "listing",
                    &note,
                    None,
                    Some("not sent (dry run)".into()),
                )
                .await
            {
                tracing::error!(order_id = %case.order_id, error = %e, "listing rehearsal not recorded");
            }
            return;
        }
        let marketplace = &case.marketplace_id;
        let product_type = self.product_type(sku, marketplace).await;
        let (note, answer) = match self
            .market
            .set_listing_quantity(sku, marketplace, 0, &product_type)
            .await
        {
            Ok(()) => (
                format!("listing {sku} quantity set to 0 in marketplace {marketplace}"),
                "ACCEPTED".to_string(),
            ),
            Err(e) => {
                tracing::error!(order_id = %case.order_id, error = %e, "listing quantity not set");
                (
                    format!("listing {sku} quantity NOT set to 0 in marketplace {marketplace}"),
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
}
