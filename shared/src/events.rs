//! The domain events kenzen publishes on its event bus, and what they carry.
//!
//! Events carry order ids and workflow facts only, never buyer personal data. Consumers must treat
//! them as hints: every handler re-reads the case, so a duplicate, late or reordered event changes
//! nothing the case's own state does not allow.

use serde::{Deserialize, Serialize};

use crate::ids::OrderId;

/// The EventBridge `source` of every kenzen event.
pub const SOURCE: &str = "kenzen";

/// A domain event; the variant name is the EventBridge `detail-type`, and the serialized event
/// (`{"type": "CaseOpened", "orderId": …}`) is the `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum DomainEvent {
    CaseOpened {
        order_id: OrderId,
        reason: String,
    },
    BuyerRequestedCancel {
        order_id: OrderId,
    },
    CancelSubmitted {
        order_id: OrderId,
        reason: String,
        feed_id: String,
    },
    CaseClosed {
        order_id: OrderId,
        outcome: String,
    },
    /// Something the seller should look at.
    Alert {
        order_id: OrderId,
        alert: AlertKind,
        detail: String,
    },
}

/// What an alert is about; serialized as its name (`"DeadlineRisk"`), the event's `alert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AlertKind {
    /// The final apology could not be delivered before a seller-initiated cancel.
    FinalNoticeNotDelivered,
    /// A cancel is not confirmed close to ship-by; it was submitted again.
    DeadlineRisk,
    /// Amazon's feed report shows an error for this order's cancel.
    FeedError,
    /// Amazon refused a Messaging API call for the seller's authorisation (no Buyer
    /// Communication role, or a revoked authorisation): no message can go out until the seller
    /// fixes it.
    MessagingNotAuthorized,
    /// Amazon showed the buyer's cancellation request and then no longer: the case went back to
    /// the deadline path.
    BuyerRequestVanished,
    /// A stored case cannot be read (damaged, or written by a later version): it is skipped
    /// and the seller must look at it; every other case goes on.
    UnreadableCase,
    /// Amazon's answer for an order cannot be read (an unknown status value, a missing field):
    /// the order is skipped and the seller must look at it; every other order goes on.
    UnreadableOrder,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FinalNoticeNotDelivered => "FinalNoticeNotDelivered",
            Self::DeadlineRisk => "DeadlineRisk",
            Self::FeedError => "FeedError",
            Self::MessagingNotAuthorized => "MessagingNotAuthorized",
            Self::BuyerRequestVanished => "BuyerRequestVanished",
            Self::UnreadableCase => "UnreadableCase",
            Self::UnreadableOrder => "UnreadableOrder",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The EventBridge `detail-type` of each event kenzen publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailType {
    CaseOpened,
    BuyerRequestedCancel,
    CancelSubmitted,
    CaseClosed,
    KenzenAlert,
}

impl DetailType {
    pub const ALL: [DetailType; 5] = [
        Self::CaseOpened,
        Self::BuyerRequestedCancel,
        Self::CancelSubmitted,
        Self::CaseClosed,
        Self::KenzenAlert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CaseOpened => "CaseOpened",
            Self::BuyerRequestedCancel => "BuyerRequestedCancel",
            Self::CancelSubmitted => "CancelSubmitted",
            Self::CaseClosed => "CaseClosed",
            Self::KenzenAlert => "KenzenAlert",
        }
    }

    /// The detail type named `s`, if kenzen publishes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl DomainEvent {
    /// The EventBridge `detail-type`.
    pub fn kind(&self) -> DetailType {
        match self {
            Self::CaseOpened { .. } => DetailType::CaseOpened,
            Self::BuyerRequestedCancel { .. } => DetailType::BuyerRequestedCancel,
            Self::CancelSubmitted { .. } => DetailType::CancelSubmitted,
            Self::CaseClosed { .. } => DetailType::CaseClosed,
            Self::Alert { .. } => DetailType::KenzenAlert,
        }
    }

    /// The EventBridge `detail-type`, as text.
    pub fn detail_type(&self) -> &'static str {
        self.kind().as_str()
    }

    pub fn order_id(&self) -> &str {
        match self {
            Self::CaseOpened { order_id, .. }
            | Self::BuyerRequestedCancel { order_id }
            | Self::CancelSubmitted { order_id, .. }
            | Self::CaseClosed { order_id, .. }
            | Self::Alert { order_id, .. } => order_id,
        }
    }
}
