//! The case: one unfillable order kenzen is working to end before its ship-by deadline.
//!
//! A case is data only; [`crate::decide`] moves it. Its state enum carries only what is valid in
//! that state: a BuyerCanceled cancel cannot even be written down without the buyer's request
//! that justifies it ([`CancelPlan::BuyerCanceled`] holds the [`BuyerRequest`]).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

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

/// How the seller wants unfillable orders ended. There is no default: the seller chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Ask the buyer to use Amazon's own "request cancellation" (then BuyerCanceled); if no
    /// request comes, a final apology and then GeneralAdjustment before the deadline.
    AskBuyer,
    /// Amazon's guideline: apologise, then cancel as NoInventory at once; no requests.
    CancelFirst,
}

impl Strategy {
    /// The setting's spelling: `ask-buyer` or `cancel-first`.
    pub fn as_setting(self) -> &'static str {
        match self {
            Self::AskBuyer => "ask-buyer",
            Self::CancelFirst => "cancel-first",
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "ask-buyer" => Ok(Self::AskBuyer),
            "cancel-first" => Ok(Self::CancelFirst),
            other => Err(format!(
                "{other:?} is not a strategy: use ask-buyer or cancel-first"
            )),
        }
    }
}

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
    /// It could not be delivered before the cancel deadline; `why` says what stood in the way.
    NotDelivered { why: String },
}

/// What cancel kenzen will submit, with what justifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "plan")]
pub enum CancelPlan {
    /// The buyer asked through Amazon's own flow; the request is the evidence.
    BuyerCanceled { request: BuyerRequest },
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

/// The profit floor: a SKU whose profit per unit falls below `minimum` opens a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitFloor {
    /// Amazon's fees as a share of the unit price, in basis points (1000 = 10%).
    pub fee_bp: i64,
    /// Minimum profit per unit, in the marketplace currency.
    pub minimum: Money,
}

/// The settings that shape the workflow. Built with [`Settings::new`]: the strategy has no
/// default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub strategy: Strategy,
    /// Quiet hours and send slots in the marketplace's time zone.
    pub windows: SendWindows,
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
        }
    }

    /// Checks the settings make sense together; the error says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        self.windows.validate()?;
        if self.cancel_margin <= self.resubmit_margin {
            return Err("the cancel margin must be longer than the resubmit margin".into());
        }
        if self.final_notice_margin < self.cancel_margin {
            return Err(
                "the final-notice margin must not be shorter than the cancel margin".into(),
            );
        }
        Ok(())
    }

    /// When the final notice is due for an order opened at `opened` with deadline `ship_by`:
    /// ship-by minus the margin, moved earlier so that an hour of open time is left before quiet
    /// hours, compressed for an order that arrives close to its deadline, never after the cancel
    /// deadline.
    pub fn final_notice_at(&self, opened: Timestamp, ship_by: Timestamp) -> Timestamp {
        let cancel_by = ship_by - self.cancel_margin;
        if self.strategy == Strategy::CancelFirst {
            return self.windows.next_open(opened).min(cancel_by).max(opened);
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
        let t = self
            .windows
            .latest_send_at(t, SignedDuration::from_hours(1));
        let t = if t < opened {
            self.windows.next_open(opened)
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
}

impl Case {
    /// Opens a case for `order`, which must carry a ship-by deadline. An order that already shows
    /// the buyer's official request opens straight into a BuyerCanceled cancel: no message needed.
    pub fn open(
        order: &OrderView,
        reason: OpenReason,
        settings: &Settings,
        now: Timestamp,
    ) -> Option<Case> {
        let ship_by = order.ship_by?;
        let final_notice_at = settings.final_notice_at(now, ship_by);
        let state = if order.buyer_requested_cancel() {
            CaseState::CancelDue {
                plan: CancelPlan::BuyerCanceled {
                    request: BuyerRequest {
                        seen_at: now,
                        reason: order.buyer_cancel_reason().map(str::to_string),
                    },
                },
                not_before: now,
                submitting: None,
                attempts: 0,
                resubmitted: false,
            }
        } else {
            match settings.strategy {
                Strategy::AskBuyer => {
                    let first = settings.windows.first_send_at(now);
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
            cancel_by: ship_by - settings.cancel_margin,
            state,
        })
    }

    /// When the case next needs a sweep, and which one. `None` for a case with nothing due
    /// (terminal, or waiting only for the buyer).
    pub fn due(&self, settings: &Settings) -> Option<(DueKind, Timestamp)> {
        let claim_end = |c: &Claim| c.since + settings.claim_timeout;
        match &self.state {
            CaseState::Requesting {
                sending: Some(c), ..
            } => Some((DueKind::Send, claim_end(c))),
            CaseState::Requesting { next_at, .. } => Some((
                DueKind::Send,
                next_at.map_or(self.final_notice_at, |t| t.min(self.final_notice_at)),
            )),
            CaseState::FinalNotice {
                sending: Some(c), ..
            } => Some((DueKind::Send, claim_end(c))),
            CaseState::FinalNotice { next_try, .. } => {
                Some((DueKind::Send, (*next_try).min(self.cancel_by)))
            }
            CaseState::CancelDue {
                submitting: Some(c),
                not_before,
                ..
            } => Some((DueKind::Cancel, claim_end(c).max(*not_before))),
            CaseState::CancelDue { not_before, .. } => Some((DueKind::Cancel, *not_before)),
            CaseState::CancelSubmitted {
                check_at,
                resubmitted,
                ..
            } => {
                let resubmit = self.ship_by - settings.resubmit_margin;
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
