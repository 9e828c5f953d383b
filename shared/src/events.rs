//! The domain events kenzen publishes on its event bus, and what they carry.
//!
//! Events carry order ids and workflow facts only, never buyer personal data. Consumers must treat
//! them as hints: every handler re-reads the case, so a duplicate, late or reordered event changes
//! nothing the case's own state does not allow.

use serde::{Deserialize, Serialize};

/// The EventBridge `source` of every kenzen event.
pub const SOURCE: &str = "kenzen";

/// A domain event; the variant name is the EventBridge `detail-type`, and the serialized event
/// (`{"type": "CaseOpened", "orderId": …}`) is the `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum DomainEvent {
    CaseOpened {
        order_id: String,
        reason: String,
    },
    BuyerRequestedCancel {
        order_id: String,
    },
    CancelSubmitted {
        order_id: String,
        reason: String,
        feed_id: String,
    },
    CaseClosed {
        order_id: String,
        outcome: String,
    },
    /// Something the seller should look at: `alert` is FinalNoticeNotDelivered, DeadlineRisk
    /// or FeedError.
    Alert {
        order_id: String,
        alert: String,
        detail: String,
    },
}

impl DomainEvent {
    /// The EventBridge `detail-type`.
    pub fn detail_type(&self) -> &'static str {
        match self {
            Self::CaseOpened { .. } => "CaseOpened",
            Self::BuyerRequestedCancel { .. } => "BuyerRequestedCancel",
            Self::CancelSubmitted { .. } => "CancelSubmitted",
            Self::CaseClosed { .. } => "CaseClosed",
            Self::Alert { .. } => "KenzenAlert",
        }
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
