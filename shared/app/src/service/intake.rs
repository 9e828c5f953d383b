//! new-order-check's use cases: the backstop poll, ORDER_CHANGE notifications, and the seller's
//! own commands (flag an order, withdraw a case). An order that cannot be filled gets a case.

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{
    AlertKind, Assessment, Case, CaseState, DomainEvent, Input, OpenReason, OrderId, OrderStatus,
    OrderView, assess,
};

use super::{Service, ServiceError, record_failure};
use crate::ports::{
    EventPublisher, MarketErrorKind, Marketplace, NotifiedOrder, PollRetry, PollState, PollWindow,
    Reserve, Store, StoreError, UnreadableOrder, Versioned,
};
use crate::report::RunReport;

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// Looks at one order from the poll: updates its case, or opens one if it cannot be filled.
    async fn handle_polled_order(
        &self,
        order: OrderView,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        let ended = order.status == OrderStatus::Cancelled || order.status.is_shipped();
        if let Some(vc) = self.store.get_case(&order.order_id).await? {
            // An order that ended still gives back what it held (a case opened by the seller's
            // flag, after its units were taken), below.
            self.drive(vc, Input::OrderSeen(order.clone()), now, report)
                .await?;
            if !ended {
                return Ok(());
            }
        }
        let skus: Vec<kenzen_core::Sku> = order.lines.iter().map(|l| l.sku.clone()).collect();
        let stock = self.store.sku_info(&skus).await?;
        let mut wanted: std::collections::BTreeMap<&kenzen_core::Sku, u32> = Default::default();
        for line in &order.lines {
            *wanted.entry(&line.sku).or_default() += line.quantity;
        }
        let counted = |sku: &kenzen_core::Sku| stock.get(sku).is_some_and(|i| i.on_hand.is_some());
        if ended {
            // The order's reservation ends: cancelled units go back on hand, shipped ones not.
            let give_back = order.status == OrderStatus::Cancelled;
            for (sku, qty) in wanted.into_iter().filter(|(s, _)| counted(s)) {
                self.store
                    .release(sku, qty, &order.order_id, give_back)
                    .await?;
            }
            return Ok(());
        }
        if let Assessment::NotApplicable(_) = assess(&order, &Default::default(), None) {
            return Ok(());
        }
        // Take the units off the stock count first, so the last one is sold once: an order that
        // finds fewer left than it wants cannot be filled. A second sight of the same order
        // takes nothing more (the reservation names the order).
        let mut taken = Vec::new();
        for (sku, qty) in wanted.into_iter().filter(|(s, _)| counted(s)) {
            match self.store.reserve(sku, qty, &order.order_id).await? {
                Reserve::Reserved => taken.push((sku, qty)),
                Reserve::Unmanaged => {}
                Reserve::Short { on_hand } => {
                    for (s, q) in taken {
                        self.store.release(s, q, &order.order_id, true).await?;
                    }
                    let reason = OpenReason::StockShort {
                        sku: sku.clone(),
                        on_hand,
                        ordered: qty,
                    };
                    return self.open_case(&order, reason, now, report).await;
                }
            }
        }
        // The rest of the check (the profit floor), with the units now held by the order.
        let held: std::collections::BTreeMap<kenzen_core::Sku, kenzen_core::SkuInfo> = stock
            .into_iter()
            .map(|(sku, info)| {
                let info = kenzen_core::SkuInfo {
                    on_hand: None,
                    ..info
                };
                (sku, info)
            })
            .collect();
        match assess(&order, &held, self.settings.profit_floor.as_ref()) {
            Assessment::Unfillable(reason) => {
                for (s, q) in taken {
                    self.store.release(s, q, &order.order_id, true).await?;
                }
                self.open_case(&order, reason, now, report).await
            }
            Assessment::Fillable | Assessment::NotApplicable(_) => Ok(()),
        }
    }

    /// Opens a case for `order` and records it; what opening owes (its events, the listing
    /// change: decided by [`Case::open`]) is done at once and kept on the case until done. The
    /// first message goes out at detection when one is due now (a case seen too late to ask
    /// gets its final apology now, when sending is allowed). A case that exists is left alone.
    async fn open_case(
        &self,
        order: &OrderView,
        reason: OpenReason,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        // The `auto` strategy chooses this case's strategy from the account-health figures.
        let mut settings = self.run_settings();
        let choice = match settings.auto {
            Some(auto) => {
                let c = self.auto_choice(&auto, &order.marketplace_id, now).await;
                settings.to_mut().strategy = c.strategy;
                Some(c)
            }
            None => None,
        };
        let Some(mut case) = Case::open(order, reason, &settings, now) else {
            if !self.settings.serves(&order.marketplace_id) {
                tracing::warn!(order_id = %order.order_id, marketplace = %order.marketplace_id, "no case: the order is in a marketplace this stack does not serve");
                report.errors.push(format!(
                    "{}: no case: marketplace {} is not in KENZEN_MARKETPLACE_IDS",
                    order.order_id, order.marketplace_id
                ));
            }
            return Ok(());
        };
        case.strategy_choice = choice.as_ref().map(|c| c.explanation.clone());
        let vc = self
            .store
            .create_case(&case, case.due(&self.settings))
            .await?;
        report.cases_opened += 1;
        if let Some(c) = &choice {
            self.timeline(
                &case,
                now,
                "decision",
                &format!("strategy auto: {}", c.explanation),
                None,
                None,
            )
            .await?;
            if c.strategy == kenzen_core::Strategy::CancelFirst && !case.dry_run {
                self.commit_counted_cancel(&case.order_id, &case.marketplace_id, now)
                    .await;
            }
        }
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
        }
        let vc = self.flush_pending(vc, now, report).await?;
        // A poll sends first messages once every order of its run is handled.
        if let Some(opened) = self
            .opened
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            opened.push((vc.value.cancel_by, vc.value.order_id.clone()));
            return Ok(());
        }
        self.first_message(vc, now, report).await
    }

    /// Message work due now is done at detection; a cancel is left to final-cancel.
    async fn first_message(
        &self,
        vc: Versioned<Case>,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        let message_due = matches!(
            vc.value.state,
            CaseState::Requesting { .. } | CaseState::FinalNotice { .. }
        ) && vc.value.due(&self.settings).is_some_and(|(_, t)| t <= now);
        if message_due {
            self.drive(vc, Input::Due, now, report).await?;
        }
        Ok(())
    }

    /// The first messages of the cases a poll opened, earliest cancel-by first, while the run
    /// has time; the rest stay due and message-resend sends them.
    async fn send_first_messages(
        &self,
        mut opened: Vec<(Timestamp, OrderId)>,
        now: Timestamp,
        report: &mut RunReport,
    ) {
        opened.sort();
        let total = opened.len();
        for (i, (_, id)) in opened.into_iter().enumerate() {
            if self.out_of_time() {
                report.left_for_next_run += (total - i) as u32;
                tracing::warn!(left = total - i, "first messages left for message-resend");
                break;
            }
            let step = async {
                if let Some(vc) = self.store.get_case(&id).await? {
                    self.first_message(vc, now, report).await?;
                }
                Ok::<_, ServiceError>(())
            };
            if let Err(e) = step.await {
                record_failure(report, &id, &e);
            }
        }
    }

    /// An ORDER_CHANGE notification named `order_id`: settled from its summary when that says
    /// enough (`notified`), else the order is read and handled like a polled one (opens a case
    /// if it cannot be filled, or updates its case). A notification
    /// handled before (same NotificationId) is dropped; one that failed is not marked, so its
    /// retry is handled.
    pub async fn check_order(
        &self,
        order_id: &OrderId,
        notification_id: Option<&str>,
        notified: Option<&NotifiedOrder>,
    ) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(Some(super::MODE_MAX_AGE)).await;
        let mut report = RunReport::default();
        if let Some(n) = notification_id
            && self.store.notification_seen(n).await?
        {
            tracing::info!(
                order_id = %order_id,
                notification_id = n,
                "notification already handled; dropped"
            );
            return Ok(report);
        }
        // The order is counted (once; the seller report's order counts) while it is settled.
        let mut counted = false;
        if let Some(notified) = notified {
            let count = async {
                match notified.merchant_fulfilled {
                    true => Some(
                        self.count_seen(
                            order_id,
                            &notified.marketplace_id,
                            notified.purchased,
                            now,
                        )
                        .await,
                    ),
                    false => None,
                }
            };
            let (count, settled) = tokio::join!(count, self.settle_notified(order_id, notified));
            counted = count.is_some();
            note_count(&mut report, count);
            if settled? {
                report.orders_seen += 1;
                if let Some(n) = notification_id {
                    self.store.mark_notification(n, now).await?;
                }
                return Ok(report);
            }
        }
        let order = self.market.get_order(order_id).await?;
        report.orders_seen += 1;
        if !counted && order.merchant_fulfilled {
            let count = self
                .count_seen(
                    order_id,
                    order.marketplace_id.as_str(),
                    order.purchased,
                    now,
                )
                .await;
            note_count(&mut report, Some(count));
        }
        match self.handle_polled_order(order, now, &mut report).await {
            Err(e) => record_failure(&mut report, order_id, &e),
            Ok(()) => {
                if let Some(n) = notification_id {
                    self.store.mark_notification(n, now).await?;
                }
            }
        }
        Ok(report)
    }

    /// Settles an order from what its notification says, without reading it: true when that
    /// was enough. An order without a case that is fulfilled by Amazon, or whose units are all
    /// on hand (now held for it) with no profit floor to check, needs nothing more; a shipped or
    /// cancelled one ends its reservation. Anything else (a case, a short SKU, a price to
    /// check, another status) is read and handled in full.
    async fn settle_notified(
        &self,
        order_id: &OrderId,
        notified: &NotifiedOrder,
    ) -> Result<bool, ServiceError> {
        let mut wanted: std::collections::BTreeMap<&kenzen_core::Sku, u32> = Default::default();
        for line in &notified.lines {
            *wanted.entry(&line.sku).or_default() += line.quantity;
        }
        let skus: Vec<kenzen_core::Sku> = wanted.keys().map(|s| (*s).clone()).collect();
        // The case and the stock are read at once (two round trips in the time of one).
        // (The subscription names the seller's marketplace only.)
        let (case, stock) = tokio::join!(self.store.get_case(order_id), self.store.sku_info(&skus));
        if case?.is_some() {
            return Ok(false);
        }
        if !notified.merchant_fulfilled {
            return Ok(true);
        }
        let stock = stock?;
        let counted = |sku: &kenzen_core::Sku| stock.get(sku).is_some_and(|i| i.on_hand.is_some());
        match notified.status.as_str() {
            "Shipped" | "Canceled" => {
                let give_back = notified.status == "Canceled";
                for (sku, qty) in wanted.into_iter().filter(|(s, _)| counted(s)) {
                    self.store.release(sku, qty, order_id, give_back).await?;
                }
                Ok(true)
            }
            "Unshipped" => {
                let priced = self.settings.profit_floor.is_some()
                    && stock.values().any(|i| i.unit_cost.is_some());
                if priced {
                    return Ok(false);
                }
                for (sku, qty) in wanted.into_iter().filter(|(s, _)| counted(s)) {
                    match self.store.reserve(sku, qty, order_id).await? {
                        Reserve::Reserved | Reserve::Unmanaged => {}
                        // Read in full: it opens the case (and gives back what was taken).
                        Reserve::Short { .. } => return Ok(false),
                    }
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The seller flagged `order_id` by hand (an event on the bus): opens a case for it, unless
    /// there is one or the order is not an unshipped merchant-fulfilled order.
    pub async fn flag_order(
        &self,
        order_id: &OrderId,
        reason: &str,
    ) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(None).await;
        let mut report = RunReport::default();
        if self.store.get_case(order_id).await?.is_some() {
            tracing::info!(order_id = %order_id, "flagged order already has a case");
            return Ok(report);
        }
        let order = self.market.get_order(order_id).await?;
        report.orders_seen += 1;
        let probe = assess(&order, &Default::default(), None);
        if let Assessment::NotApplicable(why) = probe {
            tracing::warn!(order_id = %order_id, why, "flagged order cannot get a case");
            report
                .errors
                .push(format!("{order_id}: not flagged: {why}"));
            return Ok(report);
        }
        let reason = OpenReason::ManualFlag {
            reason: reason.chars().take(200).collect(),
        };
        if let Err(e) = self.open_case(&order, reason, now, &mut report).await {
            record_failure(&mut report, order_id, &e);
        }
        Ok(report)
    }

    /// The seller withdrew the case for `order_id`: it closes without further messages, unless
    /// the cancel is already on its way.
    pub async fn withdraw(
        &self,
        order_id: &OrderId,
        reason: &str,
    ) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(None).await;
        let mut report = RunReport::default();
        if let Some(vc) = self.store.get_case(order_id).await? {
            report.cases_checked += 1;
            let input = Input::Withdraw {
                reason: reason.chars().take(200).collect(),
            };
            if let Err(e) = self.drive(vc, input, now, &mut report).await {
                record_failure(&mut report, order_id, &e);
            }
        }
        Ok(report)
    }

    /// The seller approved the seller-initiated cancel of `order_id` (approve mode): a case
    /// waiting for it becomes due at once and goes ahead with the next sweep. An order without
    /// a case is reported, and changes nothing.
    pub async fn approve(&self, order_id: &OrderId, by: &str) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(None).await;
        let mut report = RunReport::default();
        let Some(vc) = self.store.get_case(order_id).await? else {
            tracing::warn!(order_id = %order_id, "approval for an order without a case");
            report.errors.push(format!(
                "{order_id}: not approved: kenzen has no case for this order"
            ));
            return Ok(report);
        };
        report.cases_checked += 1;
        let input = Input::Approve {
            by: by.chars().take(200).collect(),
        };
        if let Err(e) = self.drive(vc, input, now, &mut report).await {
            record_failure(&mut report, order_id, &e);
        }
        Ok(report)
    }

    /// new-order-check: polls orders updated since the cursor, opens cases for unfillable new
    /// orders (sending the first request), and updates cases whose orders changed.
    ///
    /// The search runs up to [`SEARCH_LAG`] before now (Amazon indexes late) and is worked
    /// through page by page: after each page the next page's token is stored, so a backlog
    /// larger than one run (an outage, a burst) is worked off across runs at the search's rate,
    /// and the cursor moves to the window's end when its last page is done. An order whose
    /// handling failed is kept in the poll's state and read again by the next runs (an order
    /// that keeps failing is alerted as unreadable and given up after [`POLL_RETRIES`]).
    pub async fn check_new_orders(&self) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(None).await;
        let mut report = RunReport::default();
        let after = self
            .store
            .poll_cursor()
            .await?
            .unwrap_or(now - self.initial_lookback);
        let mut state = match self.store.poll_state().await {
            Ok(s) => s,
            Err(StoreError::Corrupt { key, detail }) => {
                // The window starts again from the cursor (handling an order twice is harmless).
                tracing::error!(
                    key,
                    detail,
                    "poll state unreadable; the search starts again from the cursor"
                );
                PollState::default()
            }
            Err(e) => return Err(e.into()),
        };
        // Cases open first; their first messages go out after every order of the run.
        *self.opened.lock().unwrap_or_else(|p| p.into_inner()) = Some(Vec::new());
        let result = self.poll_pages(after, &mut state, now, &mut report).await;
        let opened = self
            .opened
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        self.send_first_messages(opened, now, &mut report).await;
        result?;
        Ok(report)
    }

    /// The poll's search, page by page (see [`Self::check_new_orders`]).
    async fn poll_pages(
        &self,
        after: Timestamp,
        state: &mut PollState,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        self.retry_failed_orders(state, now, report).await;
        let (until, mut token, mut token_issued) = match state.window.take() {
            Some(w) if w.until > after && now < w.token_issued + TOKEN_LIFETIME => {
                (w.until, Some(w.next_token), w.token_issued)
            }
            _ => (now - SEARCH_LAG, None, now),
        };
        // Where the window stands, to be kept for the next run (none before its first page).
        let kept = |token: Option<String>, token_issued: Timestamp| {
            token.map(|next_token| PollWindow {
                until,
                next_token,
                token_issued,
            })
        };
        if until <= after {
            self.store.set_poll_state(state).await?;
            return Ok(());
        }
        loop {
            if self.out_of_time() {
                report.left_for_next_run += 1;
                state.window = kept(token.take(), token_issued);
                break;
            }
            let issued = self.clock.now();
            let page = match self
                .market
                .search_orders_page(after, until, token.as_deref())
                .await
            {
                Ok(p) => p,
                Err(e) if token.is_some() && e.kind == MarketErrorKind::InvalidInput => {
                    // An expired or refused page token: the next run searches the window anew.
                    tracing::warn!(error = %e, "page token refused; the window starts again");
                    break;
                }
                Err(e) => {
                    // Keep where the window stands (and the orders to read again).
                    state.window = kept(token.take(), token_issued);
                    self.store.set_poll_state(state).await?;
                    return Err(e.into());
                }
            };
            for u in &page.unreadable {
                self.note_unreadable_order(u, now, report).await;
            }
            let total = page.orders.len();
            let mut cut = false;
            for (i, order) in page.orders.into_iter().enumerate() {
                if self.out_of_time() {
                    // The page is searched again by the next run (its token is kept); the
                    // orders handled already change nothing the second time.
                    report.left_for_next_run += (total - i) as u32;
                    cut = true;
                    break;
                }
                report.orders_seen += 1;
                let id = order.order_id.clone();
                let (marketplace, purchased) = (order.marketplace_id.clone(), order.purchased);
                let merchant_fulfilled = order.merchant_fulfilled;
                let count = async {
                    match merchant_fulfilled {
                        true => Some(
                            self.count_seen(&id, marketplace.as_str(), purchased, now)
                                .await,
                        ),
                        false => None,
                    }
                };
                // Boxed: two futures side by side would deepen every poll's stack.
                let handle = Box::pin(self.handle_polled_order(order, now, report));
                let (count, handled) = tokio::join!(count, handle);
                note_count(report, count);
                if let Err(e) = handled {
                    record_failure(report, &id, &e);
                    if !e.is_conflict() && !state.retry.iter().any(|r| r.order_id == id.as_str()) {
                        state.retry.push(PollRetry {
                            order_id: id.to_string(),
                            attempts: 1,
                        });
                    }
                }
            }
            if cut {
                state.window = kept(token.take(), token_issued);
                break;
            }
            match page.next_token {
                Some(t) => {
                    state.window = kept(Some(t.clone()), issued);
                    self.store.set_poll_state(state).await?;
                    state.window = None;
                    token = Some(t);
                    token_issued = issued;
                }
                None => {
                    // The cursor first: a run that dies between the two writes searches the
                    // window's end again, which changes nothing.
                    self.store.set_poll_cursor(until).await?;
                    state.window = None;
                    break;
                }
            }
        }
        self.store.set_poll_state(state).await?;
        Ok(())
    }

    /// Counts a merchant-fulfilled order the first time kenzen sees it, on its marketplace's
    /// local purchase day (the day seen, when the purchase date is unknown): the seller
    /// report's cancel rate is over these counts. An order placed more than [`COUNT_WINDOW`]
    /// ago is not counted (it was counted when new, or came before kenzen). Never fails: a
    /// failure is logged and returned, and the order is handled all the same.
    async fn count_seen(
        &self,
        order_id: &OrderId,
        marketplace_id: &str,
        purchased: Option<Timestamp>,
        now: Timestamp,
    ) -> Counted {
        let placed = purchased.unwrap_or(now);
        if placed < now - COUNT_WINDOW || kenzen_core::MarketplaceId::parse(marketplace_id).is_err()
        {
            return Counted::Skipped;
        }
        let day = kenzen_core::policy::marketplace_date(marketplace_id, placed);
        // Boxed: the database call's future is large, and this one runs beside another.
        match Box::pin(self.store.count_order(order_id, marketplace_id, day, now)).await {
            Ok(true) => Counted::Now,
            Ok(false) => Counted::Before,
            Err(e) => {
                tracing::warn!(order_id = %order_id, error = %e, "order not counted for the seller report");
                Counted::Failed
            }
        }
    }

    /// Reads again, one by one, the orders whose handling failed in an earlier poll.
    async fn retry_failed_orders(
        &self,
        state: &mut PollState,
        now: Timestamp,
        report: &mut RunReport,
    ) {
        let mut keep = Vec::new();
        for mut r in std::mem::take(&mut state.retry) {
            if self.out_of_time() {
                keep.push(r);
                continue;
            }
            let result = match OrderId::parse(&r.order_id) {
                Ok(id) => match self.market.get_order(&id).await {
                    Ok(order) => self.handle_polled_order(order, now, report).await,
                    Err(e) => Err(e.into()),
                },
                Err(e) => {
                    tracing::error!(detail = %e, "a retried order id does not parse; dropped");
                    continue;
                }
            };
            match result {
                Ok(()) => report.orders_seen += 1,
                Err(e) => {
                    r.attempts += 1;
                    tracing::warn!(order_id = %r.order_id, attempts = r.attempts, error = %e, "order failed again");
                    if r.attempts >= POLL_RETRIES {
                        let u = UnreadableOrder {
                            order_id: Some(r.order_id.clone()),
                            detail: format!("failed {} times: {e}", r.attempts),
                        };
                        self.note_unreadable_order(&u, now, report).await;
                    } else {
                        keep.push(r);
                    }
                }
            }
        }
        state.retry = keep;
    }

    /// An order kenzen cannot read (or handle) is skipped: counted, logged by its id, alerted
    /// once; the poll goes on and its cursor moves past it.
    async fn note_unreadable_order(
        &self,
        u: &UnreadableOrder,
        now: Timestamp,
        report: &mut RunReport,
    ) {
        report.unreadable += 1;
        let key = u.order_id.as_deref().unwrap_or("(no order id)");
        tracing::error!(order_id = key, detail = %u.detail, "order unreadable; skipped");
        match self.store.mark_unreadable_order(key, now).await {
            Ok(true) => {
                if let Some(order_id) = u.order_id.as_deref().and_then(|id| id.parse().ok()) {
                    let alert = DomainEvent::Alert {
                        order_id,
                        alert: AlertKind::UnreadableOrder,
                        detail: format!(
                            "Amazon's answer for this order cannot be read: {}",
                            u.detail
                        ),
                    };
                    if let Err(e) = self.publish(&[alert], report).await {
                        tracing::error!(order_id = key, error = %e, "unreadable-order alert not published");
                    }
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(order_id = key, error = %e, "unreadable order not marked"),
        }
    }
}

/// What counting an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Now,
    Before,
    /// Placed too long ago, or in a marketplace whose id kenzen cannot read.
    Skipped,
    Failed,
}

/// Puts what counting did (if an order was counted at all) into the run's report.
fn note_count(report: &mut RunReport, count: Option<Counted>) {
    match count {
        Some(Counted::Now) => report.orders_counted += 1,
        Some(Counted::Failed) => report.orders_not_counted += 1,
        Some(Counted::Before | Counted::Skipped) | None => {}
    }
}

/// How long after its purchase an order is still counted when first seen (the record that it
/// was counted is kept longer: [`crate::ports::ORDER_SEEN_RETENTION`]).
pub const COUNT_WINDOW: SignedDuration = SignedDuration::from_hours(60 * 24);

/// How far behind now the poll searches: Amazon takes an order search's `lastUpdatedBefore`
/// only at least two minutes before the request, and indexes changes late.
pub const SEARCH_LAG: SignedDuration = SignedDuration::from_secs(2 * 60 + 10);

/// How long a stored page token is used (Amazon's tokens expire; a day, less a margin).
const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(23);

/// How often an order whose handling fails is read again before it is alerted and given up.
pub const POLL_RETRIES: u32 = 5;
