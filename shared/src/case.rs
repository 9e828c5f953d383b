//! The case: one unfillable order kenzen is working to end before its ship-by deadline.
//!
//! A case is data only; [`crate::decide`] moves it. Its state enum carries only what is valid in
//! that state: a BuyerCanceled cancel cannot even be written down without the buyer's request
//! that justifies it ([`CancelPlan::BuyerCanceled`] holds the [`BuyerRequest`]).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::events::{AlertKind, DomainEvent};
use crate::ids::{MarketplaceId, Money, OrderId, Sku};
use crate::order::OrderView;
use crate::policy::SendWindows;

/// Why the case was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum OpenReason {
    /// The stock table holds fewer units of `sku` than the order wants.
    StockShort {
        sku: Sku,
        on_hand: u32,
        ordered: u32,
    },
    /// Selling `sku` at this price would earn less than the seller's minimum profit per unit.
    BelowProfitFloor {
        sku: Sku,
        /// Profit per unit (price − cost − fees − shipping), as a decimal string.
        profit: String,
        minimum: String,
    },
    /// The seller flagged the order by hand.
    ManualFlag { reason: String },
}

impl OpenReason {
    /// One line for the timeline and events.
    pub fn describe(&self) -> String {
        match self {
            Self::StockShort {
                sku,
                on_hand,
                ordered,
            } => format!("stock short: {sku} has {on_hand} on hand, order wants {ordered}"),
            Self::BelowProfitFloor {
                sku,
                profit,
                minimum,
            } => format!("below profit floor: {sku} earns {profit} per unit, minimum {minimum}"),
            Self::ManualFlag { reason } => format!("flagged by the seller: {reason}"),
        }
    }
}

pub use crate::strategy::Strategy;

/// One order line the case will cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseItem {
    pub order_item_id: String,
    pub sku: Sku,
    pub title: String,
    pub quantity: u32,
}

/// The buyer's official cancellation request, as Amazon showed it on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerRequest {
    /// When kenzen first saw the request on the order.
    pub seen_at: Timestamp,
    /// The reason the buyer chose, when Amazon gives one.
    pub reason: Option<String>,
}

/// The `CancelReason` values of the order acknowledgement feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CancelReason {
    NoInventory,
    ShippingAddressUndeliverable,
    CustomerExchange,
    BuyerCanceled,
    GeneralAdjustment,
    CarrierCreditDecision,
    RiskAssessmentInformationNotValid,
    CarrierCoverageFailure,
    CustomerReturn,
    MerchandiseNotReceived,
}

impl CancelReason {
    /// The feed spelling.
    pub fn as_feed(self) -> &'static str {
        match self {
            Self::NoInventory => "NoInventory",
            Self::ShippingAddressUndeliverable => "ShippingAddressUndeliverable",
            Self::CustomerExchange => "CustomerExchange",
            Self::BuyerCanceled => "BuyerCanceled",
            Self::GeneralAdjustment => "GeneralAdjustment",
            Self::CarrierCreditDecision => "CarrierCreditDecision",
            Self::RiskAssessmentInformationNotValid => "RiskAssessmentInformationNotValid",
            Self::CarrierCoverageFailure => "CarrierCoverageFailure",
            Self::CustomerReturn => "CustomerReturn",
            Self::MerchandiseNotReceived => "MerchandiseNotReceived",
        }
    }
}

/// Whether the buyer got the final apology before the cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice")]
pub enum Notice {
    /// Amazon accepted the final message (201) at `at`.
    Delivered { at: Timestamp },
    /// The final message was sent at `at` but Amazon's answer was lost (`detail`): it may well
    /// have reached the buyer, so it is not sent again.
    OutcomeUnknown { at: Timestamp, detail: String },
    /// It could not be delivered before the cancel deadline; `why` says what stood in the way.
    NotDelivered { why: String },
}

/// What cancel kenzen will submit, with what justifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "plan")]
pub enum CancelPlan {
    /// The buyer asked through Amazon's own flow; the request is the evidence. `lines` are the
    /// order lines Amazon shows the request for (empty in cases stored before per-line plans:
    /// every line of the case).
    BuyerCanceled {
        request: BuyerRequest,
        #[serde(default)]
        lines: Vec<String>,
    },
    /// Ask-buyer deadline path: no request came; the final apology went first.
    GeneralAdjustment { notice: Notice },
    /// Cancel-first strategy: the apology went first.
    NoInventory { notice: Notice },
}

impl CancelPlan {
    pub fn reason(&self) -> CancelReason {
        match self {
            Self::BuyerCanceled { .. } => CancelReason::BuyerCanceled,
            Self::GeneralAdjustment { .. } => CancelReason::GeneralAdjustment,
            Self::NoInventory { .. } => CancelReason::NoInventory,
        }
    }

    /// The order lines this plan cancels: the requested ones for BuyerCanceled, every line
    /// still open in the case otherwise.
    pub fn lines(&self, case: &Case) -> Vec<String> {
        match self {
            Self::BuyerCanceled { lines, .. } if !lines.is_empty() => lines.clone(),
            _ => case.items.iter().map(|i| i.order_item_id.clone()).collect(),
        }
    }

    /// The plan a strategy follows once its final message is settled.
    pub fn after_notice(strategy: Strategy, notice: Notice) -> Self {
        match strategy {
            Strategy::AskBuyer => Self::GeneralAdjustment { notice },
            Strategy::CancelFirst => Self::NoInventory { notice },
        }
    }
}

/// Work claimed by one invocation and not yet finished: a message being sent or a cancel being
/// submitted. A claim older than [`Settings::claim_timeout`] is taken to be from a crashed
/// invocation and may be claimed again (at most one duplicate after a crash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub since: Timestamp,
}

/// Why a case ended without kenzen cancelling the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why")]
pub enum CloseReason {
    /// The seller shipped the order after all.
    Shipped,
    /// The order was cancelled by someone else (buyer, Seller Central, Amazon).
    CancelledElsewhere { by: Option<String> },
    /// The seller withdrew the case.
    Withdrawn { reason: String },
    /// Approve mode: the seller did not approve the cancel by `approve_by` and chose to be left
    /// the order (nothing sent, nothing cancelled).
    NotApproved { approve_by: Timestamp },
}

/// Where a case stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state")]
pub enum CaseState {
    /// Asking the buyer to request cancellation. `next_at` is when the next request is due
    /// (`None`: no more requests will be sent); `sending` is a request being sent now.
    Requesting {
        next_at: Option<Timestamp>,
        sending: Option<Claim>,
    },
    /// The final message (ask-buyer: the apology before GeneralAdjustment; cancel-first: the
    /// apology before NoInventory) is due from `next_try` on; `sending` is a send under way.
    FinalNotice {
        next_try: Timestamp,
        sending: Option<Claim>,
        attempts: u32,
        last_failure: Option<String>,
    },
    /// A cancel is due from `not_before` on; `submitting` is a submission under way.
    CancelDue {
        plan: CancelPlan,
        not_before: Timestamp,
        submitting: Option<Claim>,
        attempts: u32,
        /// The cancel was resubmitted because it was not confirmed near ship-by.
        resubmitted: bool,
        /// A submission started at this time may have reached Amazon (its answer was lost, or
        /// the run died): Amazon's list of feeds is looked up before anything is submitted again.
        #[serde(default)]
        lookup: Option<Timestamp>,
        /// The last feed kenzen submitted for this cancel, if any: a cancel seen on the order
        /// later is kenzen's own.
        #[serde(default)]
        last_feed: Option<String>,
    },
    /// The cancel feed was accepted by Amazon; waiting for its report and the order to show it.
    CancelSubmitted {
        plan: CancelPlan,
        feed_id: String,
        submitted_at: Timestamp,
        /// When the feed is next checked.
        check_at: Timestamp,
        attempts: u32,
        resubmitted: bool,
    },
    /// kenzen cancelled the order. Terminal.
    Cancelled {
        reason: CancelReason,
        plan: CancelPlan,
        feed_id: String,
        at: Timestamp,
    },
    /// The case ended without a cancel by kenzen. Terminal.
    Closed { why: CloseReason, at: Timestamp },
}

impl CaseState {
    /// A terminal state never changes again.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Cancelled { .. } | Self::Closed { .. })
    }

    /// Short name for logs and the timeline.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Requesting { .. } => "Requesting",
            Self::FinalNotice { .. } => "FinalNotice",
            Self::CancelDue { .. } => "CancelDue",
            Self::CancelSubmitted { .. } => "CancelSubmitted",
            Self::Cancelled { .. } => "Cancelled",
            Self::Closed { .. } => "Closed",
        }
    }
}

/// Which sweep a due case belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DueKind {
    /// message-resend: a request message is due.
    Send,
    /// final-cancel: a cancel is due.
    Cancel,
    /// final-cancel: a submitted cancel waits for its report.
    Confirm,
}

impl DueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Cancel => "cancel",
            Self::Confirm => "confirm",
        }
    }
}

/// Work a case owes the world once it is stored, kept on the case until done so that a run
/// that dies after storing it loses none of it (an outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pending")]
pub enum Pending {
    /// Publish this event.
    Publish { event: DomainEvent },
    /// Set the stocked-out SKU's listing quantity to 0.
    ZeroListing,
}

/// Order lines kenzen already cancelled while other lines of the order stay in the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinesCancelled {
    pub order_item_ids: Vec<String>,
    pub reason: CancelReason,
    pub feed_id: String,
    pub at: Timestamp,
}

/// The profit floor: a SKU whose profit per unit falls below `minimum` opens a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitFloor {
    /// Amazon's fees as a share of the unit price, in basis points (1000 = 10%).
    pub fee_bp: i64,
    /// Minimum profit per unit, in the currency of the stack's first marketplace (the currency
    /// the stock table's costs are in). Orders priced in another currency are not
    /// profit-checked: kenzen converts nothing.
    pub minimum: Money,
}

/// The settings that shape the workflow. Built with [`Settings::new`]: the strategy has no
/// default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub strategy: Strategy,
    /// Quiet hours and send slots of the stack's first marketplace, in its time zone (and of a
    /// marketplace without windows of its own: see [`Settings::windows_for`]).
    pub windows: SendWindows,
    /// The stack's first marketplace, whose windows are `windows` (empty in settings written
    /// before one stack served several marketplaces: then it serves every marketplace).
    #[serde(default)]
    pub marketplace_id: String,
    /// The windows of the stack's other marketplaces, by marketplace id, each in its own time
    /// zone (empty for a stack that serves one marketplace).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub marketplace_windows: BTreeMap<String, SendWindows>,
    /// At most this many request messages per case (the final message is not counted).
    pub max_requests: u32,
    /// At least this long between two request messages.
    pub min_gap: SignedDuration,
    /// The final notice is due this long before ship-by (earlier if that is in quiet hours).
    pub final_notice_margin: SignedDuration,
    /// The cancel is submitted at the latest this long before ship-by.
    pub cancel_margin: SignedDuration,
    /// A cancel not confirmed this long before ship-by is submitted again, with an alert.
    pub resubmit_margin: SignedDuration,
    /// Ask-buyer: time between the final apology and the GeneralAdjustment cancel, in which a
    /// buyer's own request still wins.
    pub final_grace: SignedDuration,
    /// How long a claim protects work in progress before it is taken to be crashed.
    pub claim_timeout: SignedDuration,
    /// How long to wait before trying a failed send or cancel submission again.
    pub retry_after: SignedDuration,
    /// How often a submitted cancel feed is checked.
    pub feed_poll: SignedDuration,
    /// Open a case when the profit per unit falls below the floor (`None`: no profit check).
    pub profit_floor: Option<ProfitFloor>,
    /// Set a stocked-out SKU's listing quantity to 0 when its case opens, and again after a
    /// cancel that gives units back to the offer.
    pub zero_listing: bool,
    /// The operating mode of this run (set at run time from the seller's setting; not part of
    /// the deployed configuration).
    #[serde(default = "default_mode")]
    pub mode: crate::mode::Mode,
    /// Approve mode: what happens to a cancel the seller did not approve in time.
    #[serde(default = "default_approval_default")]
    pub approval_default: crate::mode::ApprovalDefault,
    /// Approve mode: the seller may approve until this long before the case's last call.
    #[serde(default = "default_approval_lead")]
    pub approval_lead: SignedDuration,
    /// How often message-resend's schedule runs (the sweep that sends messages).
    #[serde(default = "default_send_sweep")]
    pub send_sweep: SignedDuration,
    /// How often final-cancel's schedule runs (the sweep that submits cancels).
    #[serde(default = "default_cancel_sweep")]
    pub cancel_sweep: SignedDuration,
    /// Slack on top of a sweep period: a run can start late and take a while.
    #[serde(default = "default_sweep_margin")]
    pub sweep_margin: SignedDuration,
    /// The `auto` strategy: when set, each new case's strategy is chosen from Amazon's
    /// account-health figures ([`crate::health::choose`]), and `strategy` is only what the
    /// choice falls back to. `None`: `strategy` for every case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<crate::health::AutoSettings>,
    /// How often kenzen asks Amazon for the seller performance report (account health) when
    /// `auto` is set or the seller wants the figures; Amazon refreshes it about daily.
    #[serde(default = "default_health_every")]
    pub health_every: SignedDuration,
    /// Learn each marketplace's send slots from the seller's history of answered messages
    /// ([`crate::slots_learn`]); the configured slots until the history is rich enough.
    #[serde(default)]
    pub learn_slots: bool,
}

fn default_health_every() -> SignedDuration {
    SignedDuration::from_hours(12)
}

fn default_mode() -> crate::mode::Mode {
    crate::mode::Mode::Live
}

fn default_approval_default() -> crate::mode::ApprovalDefault {
    crate::mode::ApprovalDefault::Leave
}

fn default_approval_lead() -> SignedDuration {
    SignedDuration::from_hours(1)
}

fn default_send_sweep() -> SignedDuration {
    SignedDuration::from_mins(15)
}

fn default_cancel_sweep() -> SignedDuration {
    SignedDuration::from_mins(10)
}

fn default_sweep_margin() -> SignedDuration {
    SignedDuration::from_mins(5)
}

impl ProfitFloor {
    /// Amazon's fees as a share of the price, when the seller sets no other: 10%.
    pub const DEFAULT_FEE_BP: i64 = 1000;
}

impl Settings {
    /// The defaults for `marketplace_id` under the seller's chosen `strategy`.
    pub fn new(strategy: Strategy, marketplace_id: &str) -> Self {
        Self {
            strategy,
            windows: SendWindows::for_marketplace(marketplace_id),
            marketplace_id: marketplace_id.to_string(),
            marketplace_windows: BTreeMap::new(),
            max_requests: 3,
            min_gap: SignedDuration::from_hours(3),
            final_notice_margin: SignedDuration::from_hours(12),
            cancel_margin: SignedDuration::from_hours(3),
            resubmit_margin: SignedDuration::from_hours(1),
            final_grace: SignedDuration::from_hours(1),
            claim_timeout: SignedDuration::from_mins(15),
            retry_after: SignedDuration::from_mins(15),
            feed_poll: SignedDuration::from_mins(5),
            profit_floor: None,
            zero_listing: true,
            mode: default_mode(),
            approval_default: default_approval_default(),
            approval_lead: default_approval_lead(),
            send_sweep: default_send_sweep(),
            cancel_sweep: default_cancel_sweep(),
            sweep_margin: default_sweep_margin(),
            auto: None,
            health_every: default_health_every(),
            learn_slots: false,
        }
    }

    /// Adds `marketplace_id` to the marketplaces this stack serves: its windows are the stack's
    /// quiet hours and send slots (those of `windows`), in the marketplace's own time zone.
    /// Adding the first marketplace, or one already served, changes nothing.
    pub fn serve(&mut self, marketplace_id: &str) {
        if marketplace_id == self.marketplace_id
            || self.marketplace_windows.contains_key(marketplace_id)
        {
            return;
        }
        let windows = SendWindows {
            time_zone: crate::policy::marketplace_time_zone(marketplace_id).into(),
            ..self.windows.clone()
        };
        self.marketplace_windows
            .insert(marketplace_id.to_string(), windows);
    }

    /// True when this stack serves `marketplace_id` (settings written before stacks served
    /// several marketplaces serve every one).
    pub fn serves(&self, marketplace_id: &str) -> bool {
        self.marketplace_id.is_empty()
            || self.marketplace_id == marketplace_id
            || self.marketplace_windows.contains_key(marketplace_id)
    }

    /// The marketplaces this stack serves, the first one first.
    pub fn marketplaces(&self) -> Vec<&str> {
        std::iter::once(self.marketplace_id.as_str())
            .filter(|m| !m.is_empty())
            .chain(self.marketplace_windows.keys().map(String::as_str))
            .collect()
    }

    /// Quiet hours and send slots for a case in `marketplace_id`, in that marketplace's time
    /// zone: its own windows, or `windows` for the first marketplace (and for one the stack
    /// does not serve, which no case is opened in).
    pub fn windows_for(&self, marketplace_id: &str) -> &SendWindows {
        self.marketplace_windows
            .get(marketplace_id)
            .unwrap_or(&self.windows)
    }

    /// Every marketplace's windows, to change the stack-wide quiet hours and slots in each.
    pub fn all_windows_mut(&mut self) -> impl Iterator<Item = &mut SendWindows> {
        std::iter::once(&mut self.windows).chain(self.marketplace_windows.values_mut())
    }

    /// The latest time a cancel may fall due so that the final-cancel sweep, running every
    /// `cancel_sweep` and a margin late, still submits it before `cancel_by`.
    pub fn last_call(&self, cancel_by: Timestamp) -> Timestamp {
        cancel_by - self.cancel_sweep - self.sweep_margin
    }

    /// Checks the settings make sense together; the error says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        self.windows.validate()?;
        for (id, w) in &self.marketplace_windows {
            w.validate()
                .map_err(|why| format!("marketplace {id}: {why}"))?;
        }
        if self.cancel_margin <= self.resubmit_margin {
            return Err("the cancel margin must be longer than the resubmit margin".into());
        }
        if self.final_notice_margin < self.cancel_margin {
            return Err(
                "the final-notice margin must not be shorter than the cancel margin".into(),
            );
        }
        let sweeps = self.send_sweep + self.cancel_sweep + self.sweep_margin;
        if self.send_sweep <= SignedDuration::ZERO || self.cancel_sweep <= SignedDuration::ZERO {
            return Err("the sweep periods must be positive".into());
        }
        if self.cancel_margin - self.resubmit_margin < sweeps {
            return Err(format!(
                "the cancel margin must leave room for a message sweep and a cancel sweep before \
                 the resubmit margin ({} minutes)",
                sweeps.as_mins()
            ));
        }
        Ok(())
    }

    /// When the final notice is due for an order in `marketplace_id` opened at `opened` with
    /// deadline `ship_by`: ship-by minus the margin, moved earlier so that an hour of open time
    /// is left before the marketplace's quiet hours, compressed for an order that arrives close
    /// to its deadline, never after the cancel deadline.
    pub fn final_notice_at(
        &self,
        marketplace_id: &str,
        opened: Timestamp,
        ship_by: Timestamp,
    ) -> Timestamp {
        let windows = self.windows_for(marketplace_id);
        // The final message must leave the cancel time to fall due before the last call.
        let cancel_by = self.last_call(ship_by - self.cancel_margin);
        if self.strategy == Strategy::CancelFirst {
            return windows.next_open(opened).min(cancel_by).max(opened);
        }
        let normal = ship_by - self.final_notice_margin;
        let t = if normal >= opened + SignedDuration::from_hours(2) {
            normal
        } else if cancel_by > opened {
            // Close to the deadline: leave the buyer three fifths of the time there is.
            opened + cancel_by.duration_since(opened) * 3 / 5
        } else {
            opened
        };
        let t = windows.latest_send_at(t, SignedDuration::from_hours(1));
        let t = if t < opened {
            windows.next_open(opened)
        } else {
            t
        };
        t.min(cancel_by).max(opened)
    }
}

/// One unfillable order and where kenzen stands with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub order_id: OrderId,
    pub marketplace_id: MarketplaceId,
    pub opened_at: Timestamp,
    pub ship_by: Timestamp,
    pub reason: OpenReason,
    pub strategy: Strategy,
    pub items: Vec<CaseItem>,
    /// Request messages Amazon accepted for this case.
    pub requests_sent: u32,
    /// The send slots (indexes into the settings' slots) already used for requests.
    pub slots_used: Vec<u8>,
    /// When the final notice is due (ask-buyer) or was first due (cancel-first).
    pub final_notice_at: Timestamp,
    /// The latest time the cancel may be submitted.
    pub cancel_by: Timestamp,
    pub state: CaseState,
    /// Work still owed since the case was stored (events, the listing change): done by the next
    /// run that sees the case.
    #[serde(default)]
    pub pending: Vec<Pending>,
    /// Lines cancelled earlier (a buyer's request for some lines only); `items` holds the rest.
    #[serde(default)]
    pub lines_cancelled: Vec<LinesCancelled>,
    /// Messages and feeds sent whose answer was lost: counted as sent, never repeated.
    #[serde(default)]
    pub outcomes_unknown: u32,
    /// Alerts raised once per case (not repeated on every retry).
    #[serde(default)]
    pub alerts_raised: Vec<AlertKind>,
    /// The final message, once it went out (accepted, or sent with its answer lost): it is never
    /// sent twice, even when the case comes back from a buyer's request that went away.
    #[serde(default)]
    pub final_sent: Option<Notice>,
    /// The buyer's locale as Amazon gave it on the first send (`""`: Amazon gave none): kept so
    /// later messages do not ask again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_locale: Option<String>,
    /// True once Amazon's preflight offered `unexpectedProblem` for this order: later messages
    /// go without asking again (a refusal on send still says when it no longer is).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub messaging_offered: bool,
    /// Opened in dry-run mode: a rehearsal for good. Every decision is made and recorded, with
    /// the texts and feeds it would send, but nothing reaches the marketplace.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Approve mode: the seller approved this case's seller-initiated cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<Approval>,
    /// Approve mode: the approval deadline the seller was told of (asked once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_asked: Option<Timestamp>,
    /// When the last request message went out (accepted, or sent with its answer lost): the
    /// next request says "earlier today" or "the other day" by it. `None` before the first
    /// request, and in cases stored before kenzen kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_request_at: Option<Timestamp>,
    /// How the strategy was chosen when the stack runs `auto`: the choice and its numbers (see
    /// [`crate::health::choose`]). `None` for a fixed strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_choice: Option<String>,
    /// The projected 7-day cancel rate after this case's seller-initiated cancel, set right
    /// before the cancel is submitted (see [`crate::health::project`]); carried by its
    /// `CancelSubmitted` event. `None` for BuyerCanceled, and without account-health figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected_rate: Option<String>,
    /// A BuyerCanceled cancel feed that may still act at Amazon (its answer was lost) after the
    /// buyer's request went away and the case turned to the deadline path: a cancel seen on the
    /// order before kenzen submits another is that feed's, and is recorded as it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earlier_feed_plan: Option<CancelPlan>,
}

/// The seller's approval of a seller-initiated cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub at: Timestamp,
    /// Who approved (free text from the command).
    pub by: String,
}

impl Case {
    /// Opens a case for `order`, which must carry a ship-by deadline and be placed in a
    /// marketplace the stack serves (`None` otherwise). An order that already shows the buyer's
    /// official request opens straight into a BuyerCanceled cancel: no message needed.
    pub fn open(
        order: &OrderView,
        reason: OpenReason,
        settings: &Settings,
        now: Timestamp,
    ) -> Option<Case> {
        let ship_by = order.ship_by?;
        if !settings.serves(&order.marketplace_id) {
            return None;
        }
        let final_notice_at = settings.final_notice_at(&order.marketplace_id, now, ship_by);
        let cancel_by = ship_by - settings.cancel_margin;
        let requested = order.requested_lines();
        let state = if !requested.is_empty() {
            CaseState::CancelDue {
                plan: CancelPlan::BuyerCanceled {
                    request: BuyerRequest {
                        seen_at: now,
                        reason: order.buyer_cancel_reason().map(str::to_string),
                    },
                    lines: requested.clone(),
                },
                not_before: now,
                submitting: None,
                attempts: 0,
                resubmitted: false,
                lookup: None,
                last_feed: None,
            }
        } else if now >= settings.last_call(cancel_by) {
            // Seen too late to ask: the final apology now (when sending is allowed), then the
            // cancel.
            CaseState::FinalNotice {
                next_try: now,
                sending: None,
                attempts: 0,
                last_failure: None,
            }
        } else {
            match settings.strategy {
                Strategy::AskBuyer => {
                    let first = settings
                        .windows_for(&order.marketplace_id)
                        .first_send_at(now);
                    CaseState::Requesting {
                        next_at: (first < final_notice_at).then_some(first),
                        sending: None,
                    }
                }
                Strategy::CancelFirst => CaseState::FinalNotice {
                    next_try: final_notice_at,
                    sending: None,
                    attempts: 0,
                    last_failure: None,
                },
            }
        };
        let mut pending = vec![Pending::Publish {
            event: DomainEvent::CaseOpened {
                order_id: order.order_id.clone(),
                reason: if settings.mode == crate::mode::Mode::DryRun {
                    format!("dry run: {}", reason.describe())
                } else {
                    reason.describe()
                },
            },
        }];
        if !requested.is_empty() {
            pending.push(Pending::Publish {
                event: DomainEvent::BuyerRequestedCancel {
                    order_id: order.order_id.clone(),
                },
            });
        }
        if settings.zero_listing && matches!(reason, OpenReason::StockShort { .. }) {
            pending.push(Pending::ZeroListing);
        }
        Some(Case {
            order_id: order.order_id.clone(),
            marketplace_id: order.marketplace_id.clone(),
            opened_at: now,
            ship_by,
            reason,
            strategy: settings.strategy,
            items: order
                .lines
                .iter()
                .map(|l| CaseItem {
                    order_item_id: l.order_item_id.clone(),
                    sku: l.sku.clone(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                })
                .collect(),
            requests_sent: 0,
            slots_used: Vec::new(),
            final_notice_at,
            cancel_by,
            state,
            pending,
            buyer_locale: None,
            messaging_offered: false,
            dry_run: settings.mode == crate::mode::Mode::DryRun,
            approved: None,
            approval_asked: None,
            last_request_at: None,
            strategy_choice: None,
            projected_rate: None,
            earlier_feed_plan: None,
            lines_cancelled: Vec::new(),
            outcomes_unknown: 0,
            alerts_raised: Vec::new(),
            final_sent: None,
        })
    }

    /// Quiet hours and send slots for this case: its marketplace's, in its time zone.
    pub fn windows<'s>(&self, settings: &'s Settings) -> &'s SendWindows {
        settings.windows_for(&self.marketplace_id)
    }

    /// The latest time a cancel of this case may fall due (see [`Settings::last_call`]).
    pub fn last_call(&self, settings: &Settings) -> Timestamp {
        settings.last_call(self.cancel_by)
    }

    /// Approve mode: the seller may approve the seller-initiated cancel until this time
    /// ([`Settings::approval_lead`] before the last call, never before the case opened).
    pub fn approve_by(&self, settings: &Settings) -> Timestamp {
        (self.last_call(settings) - settings.approval_lead).max(self.opened_at)
    }

    /// When asking ends and the final message is due: the final-notice time, never after the
    /// last call (cases stored before the last call existed may hold a later one).
    pub fn final_at(&self, settings: &Settings) -> Timestamp {
        self.final_notice_at.min(self.last_call(settings))
    }

    /// When the case next needs a sweep, and which one. `None` for a case with nothing due
    /// (terminal, or waiting only for the buyer).
    ///
    /// Message work is due to message-resend, unless its sweep could come too late to leave the
    /// cancel before the last call: then final-cancel takes the case (it sends the final message
    /// itself). Work still owed from opening makes the case due at once.
    pub fn due(&self, settings: &Settings) -> Option<(DueKind, Timestamp)> {
        let (kind, at) = self.state_due(settings)?;
        let at = if self.pending.is_empty() {
            at
        } else {
            at.min(self.opened_at)
        };
        Some((kind, at))
    }

    fn state_due(&self, settings: &Settings) -> Option<(DueKind, Timestamp)> {
        let claim_end = |c: &Claim| c.since + settings.claim_timeout;
        let last_call = self.last_call(settings);
        let message = |t: Timestamp| {
            if t + settings.send_sweep + settings.sweep_margin > last_call {
                (DueKind::Cancel, t.min(last_call))
            } else {
                (DueKind::Send, t)
            }
        };
        match &self.state {
            CaseState::Requesting {
                sending: Some(c), ..
            } => Some(message(claim_end(c))),
            CaseState::Requesting { next_at, .. } => {
                let final_at = self.final_at(settings);
                Some(message(next_at.map_or(final_at, |t| t.min(final_at))))
            }
            CaseState::FinalNotice {
                sending: Some(c), ..
            } => Some(message(claim_end(c))),
            CaseState::FinalNotice { next_try, .. } => Some(message((*next_try).min(last_call))),
            CaseState::CancelDue {
                submitting: Some(c),
                not_before,
                ..
            } => Some((DueKind::Cancel, claim_end(c).max(*not_before))),
            CaseState::CancelDue { not_before, .. } => Some((DueKind::Cancel, *not_before)),
            CaseState::CancelSubmitted {
                check_at,
                resubmitted,
                submitted_at,
                ..
            } => {
                let resubmit = (self.ship_by - settings.resubmit_margin)
                    .max(*submitted_at + settings.feed_poll);
                Some((
                    DueKind::Confirm,
                    if *resubmitted {
                        *check_at
                    } else {
                        (*check_at).min(resubmit)
                    },
                ))
            }
            CaseState::Cancelled { .. } | CaseState::Closed { .. } => None,
        }
    }
}
