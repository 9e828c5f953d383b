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
        /// For a seller-initiated cancel with account-health figures: the projected 7-day
        /// cancel rate after it, e.g. `0.84% (2 of 238 orders), target 2.50%`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        projected: Option<String>,
    },
    CaseClosed {
        order_id: OrderId,
        outcome: String,
    },
    /// Approve mode: a seller-initiated cancel (and the final apology before it) waits for the
    /// seller's `kenzen approve` until `approve_by`; then `default_action` (cancel or leave).
    ApprovalNeeded {
        order_id: OrderId,
        approve_by: jiff::Timestamp,
        /// The cancel reason that waits (GeneralAdjustment or NoInventory).
        reason: String,
        default_action: String,
    },
    /// Once a day: a plain summary for the seller (no order of its own: `order_id` is empty).
    DailyDigest {
        text: String,
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
    /// kenzen is paused (or in dry-run for a case opened live) at the case's last call: nothing
    /// was sent or cancelled, so the order ships late unless the seller acts.
    HeldAtDeadline,
    /// Approve mode: the seller did not approve the cancel in time and the default is to leave
    /// the order to the seller; kenzen sent nothing and cancelled nothing.
    NotApproved,
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
            Self::HeldAtDeadline => "HeldAtDeadline",
            Self::NotApproved => "NotApproved",
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
    ApprovalNeeded,
    DailyDigest,
    KenzenAlert,
}

impl DetailType {
    pub const ALL: [DetailType; 7] = [
        Self::CaseOpened,
        Self::BuyerRequestedCancel,
        Self::CancelSubmitted,
        Self::CaseClosed,
        Self::ApprovalNeeded,
        Self::DailyDigest,
        Self::KenzenAlert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CaseOpened => "CaseOpened",
            Self::BuyerRequestedCancel => "BuyerRequestedCancel",
            Self::CancelSubmitted => "CancelSubmitted",
            Self::CaseClosed => "CaseClosed",
            Self::ApprovalNeeded => "ApprovalNeeded",
            Self::DailyDigest => "DailyDigest",
            Self::KenzenAlert => "KenzenAlert",
        }
    }

    /// The detail type named `s`, if kenzen publishes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Text safe to be put, unescaped, inside a JSON string by an EventBridge input transformer
/// (the notices to e-mail and Slack): no `"` or `\`, no control characters, at most 300
/// characters.
pub fn notice_safe(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if cleaned.chars().count() > 300 {
        let mut short: String = cleaned.chars().take(299).collect();
        short.push('…');
        short
    } else {
        cleaned
    }
}

impl DomainEvent {
    /// The event with its free-text fields made [`notice_safe`]: what goes on the bus.
    pub fn notice_safe(&self) -> Self {
        let mut e = self.clone();
        match &mut e {
            Self::CaseOpened { reason, .. } => *reason = notice_safe(reason),
            Self::CancelSubmitted {
                reason,
                feed_id,
                projected,
                ..
            } => {
                *reason = notice_safe(reason);
                *feed_id = notice_safe(feed_id);
                if let Some(p) = projected {
                    *p = notice_safe(p);
                }
            }
            Self::CaseClosed { outcome, .. } => *outcome = notice_safe(outcome),
            Self::ApprovalNeeded {
                reason,
                default_action,
                ..
            } => {
                *reason = notice_safe(reason);
                *default_action = notice_safe(default_action);
            }
            Self::Alert { detail, .. } => *detail = notice_safe(detail),
            Self::DailyDigest { text } => *text = notice_safe(text),
            Self::BuyerRequestedCancel { .. } => {}
        }
        e
    }

    /// The EventBridge `detail-type`.
    pub fn kind(&self) -> DetailType {
        match self {
            Self::CaseOpened { .. } => DetailType::CaseOpened,
            Self::BuyerRequestedCancel { .. } => DetailType::BuyerRequestedCancel,
            Self::CancelSubmitted { .. } => DetailType::CancelSubmitted,
            Self::CaseClosed { .. } => DetailType::CaseClosed,
            Self::ApprovalNeeded { .. } => DetailType::ApprovalNeeded,
            Self::DailyDigest { .. } => DetailType::DailyDigest,
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
            | Self::ApprovalNeeded { order_id, .. }
            | Self::Alert { order_id, .. } => order_id,
            Self::DailyDigest { .. } => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_on_the_bus_cannot_break_a_notices_json() {
        let e = DomainEvent::CaseOpened {
            order_id: "503-1".parse().unwrap(),
            reason: "flagged by the seller: \"broken\" box\\lid\nsecond line".into(),
        };
        let DomainEvent::CaseOpened { reason, .. } = e.notice_safe() else {
            unreachable!()
        };
        assert_eq!(
            reason,
            "flagged by the seller: 'broken' box/lid second line"
        );
        let template = format!("{{\"text\": \"case opened ({reason})\"}}");
        assert!(serde_json::from_str::<serde_json::Value>(&template).is_ok());
        assert_eq!(notice_safe(&"x".repeat(500)).chars().count(), 300);
    }
}
