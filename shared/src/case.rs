//! The case: one unfillable order kenzen is working to end before its ship-by deadline.
//!
//! A case is data only; [`crate::decide`] moves it. Its state enum carries only what is valid in
//! that state: a BuyerCanceled cancel cannot even be written down without the buyer's request
//! that justifies it ([`CancelPlan::BuyerCanceled`] holds the [`BuyerRequest`]).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::order::OrderView;

/// Why the case was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum OpenReason {
    /// The stock table holds fewer units of `sku` than the order wants.
    StockShort {
        sku: String,
        on_hand: u32,
        ordered: u32,
    },
}

/// How the seller wants unfillable orders ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Ask the buyer to use Amazon's own "request cancellation", then cancel as BuyerCanceled.
    AskBuyer,
}

/// One order line the case will cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseItem {
    pub order_item_id: String,
    pub sku: String,
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

/// What cancel kenzen will submit, with what justifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "plan")]
pub enum CancelPlan {
    /// The buyer asked through Amazon's own flow; the request is the evidence.
    BuyerCanceled { request: BuyerRequest },
}

impl CancelPlan {
    pub fn reason(&self) -> CancelReason {
        match self {
            Self::BuyerCanceled { .. } => CancelReason::BuyerCanceled,
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
    /// A cancel is due from `not_before` on; `submitting` is a submission under way.
    CancelDue {
        plan: CancelPlan,
        not_before: Timestamp,
        submitting: Option<Claim>,
        attempts: u32,
    },
    /// The cancel feed was accepted by Amazon; waiting for its report and the order to show it.
    CancelSubmitted {
        plan: CancelPlan,
        feed_id: String,
        submitted_at: Timestamp,
        /// When the feed is next checked.
        check_at: Timestamp,
        attempts: u32,
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

/// The settings that shape the workflow. Defaults are what a seller gets without choosing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub strategy: Strategy,
    /// Time between request messages.
    pub request_interval: SignedDuration,
    /// At most this many request messages per case.
    pub max_requests: u32,
    /// No request message is sent later than this before ship-by.
    pub request_stop_margin: SignedDuration,
    /// How long a claim protects work in progress before it is taken to be crashed.
    pub claim_timeout: SignedDuration,
    /// How long to wait before trying a failed send or cancel submission again.
    pub retry_after: SignedDuration,
    /// How often a submitted cancel feed is checked.
    pub feed_poll: SignedDuration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            strategy: Strategy::AskBuyer,
            request_interval: SignedDuration::from_hours(8),
            max_requests: 3,
            request_stop_margin: SignedDuration::from_hours(12),
            claim_timeout: SignedDuration::from_mins(15),
            retry_after: SignedDuration::from_mins(15),
            feed_poll: SignedDuration::from_mins(5),
        }
    }
}

/// One unfillable order and where kenzen stands with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub order_id: String,
    pub marketplace_id: String,
    pub opened_at: Timestamp,
    pub ship_by: Timestamp,
    pub reason: OpenReason,
    pub strategy: Strategy,
    pub items: Vec<CaseItem>,
    /// Request messages Amazon accepted for this case.
    pub requests_sent: u32,
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
            }
        } else {
            CaseState::Requesting {
                next_at: Some(now),
                sending: None,
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
            state,
        })
    }

    /// When the case next needs a sweep, and which one. `None` for a case with nothing due
    /// (terminal, or waiting only for the buyer).
    pub fn due(&self, settings: &Settings) -> Option<(DueKind, Timestamp)> {
        match &self.state {
            CaseState::Requesting {
                sending: Some(c), ..
            } => Some((DueKind::Send, c.since + settings.claim_timeout)),
            CaseState::Requesting { next_at, .. } => next_at.map(|t| (DueKind::Send, t)),
            CaseState::CancelDue {
                submitting: Some(c),
                not_before,
                ..
            } => Some((
                DueKind::Cancel,
                (c.since + settings.claim_timeout).max(*not_before),
            )),
            CaseState::CancelDue { not_before, .. } => Some((DueKind::Cancel, *not_before)),
            CaseState::CancelSubmitted { check_at, .. } => Some((DueKind::Confirm, *check_at)),
            CaseState::Cancelled { .. } | CaseState::Closed { .. } => None,
        }
    }
}
