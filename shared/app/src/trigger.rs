//! What invoked a function: a schedule tick or a kenzen event naming an order. Shared by the
//! four handlers so they read EventBridge events the same way. An event kenzen does not know is
//! an error that changes nothing.

use kenzen_core::OrderId;
use serde_json::Value;

use crate::ports::{NotifiedLine, NotifiedOrder};

/// The `source` of EventBridge schedule ticks.
pub const SCHEDULE_SOURCE: &str = "aws.events";
/// The `source` of ORDER_CHANGE notifications put on the bus by the intake.
pub const INTAKE_SOURCE: &str = "kenzen.intake";
/// The `source` of the seller's own commands (`FlagOrder`, `WithdrawCase`, `ApproveCancel`).
pub const SELLER_SOURCE: &str = "kenzen.seller";

/// A classified invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A scheduled sweep.
    Schedule,
    /// A kenzen domain event or an intake notification about one order.
    Order {
        detail_type: String,
        order_id: OrderId,
        /// The SP-API NotificationId, for intake events (to drop redeliveries).
        notification_id: Option<String>,
        /// What an intake notification's summary says about the order, when it says enough.
        notified: Option<NotifiedOrder>,
    },
    /// The seller's command about one order, with the seller's reason.
    Seller {
        command: SellerCommand,
        order_id: OrderId,
        reason: String,
    },
}

/// What the seller can tell kenzen through the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SellerCommand {
    /// Treat this order as unfillable (open a case).
    FlagOrder,
    /// Close this order's case without further messages.
    WithdrawCase,
    /// Approve mode: go ahead with this case's seller-initiated cancel (`reason` carries who).
    ApproveCancel,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused event (source {source_name:?}, detail-type {detail_type:?}): {why}")]
pub struct BadEvent {
    pub source_name: String,
    pub detail_type: String,
    pub why: String,
}

impl BadEvent {
    /// An event kenzen knows, sent to a function that does not take it.
    pub fn not_for(function: &str, source: &str, detail_type: &str) -> Self {
        Self {
            source_name: source.to_string(),
            detail_type: detail_type.to_string(),
            why: format!("{function} does not take this event"),
        }
    }
}

/// Classifies an EventBridge event by `source`, `detail-type` and `detail`.
pub fn classify(source: &str, detail_type: &str, detail: &Value) -> Result<Trigger, BadEvent> {
    let bad = |why: &str| BadEvent {
        source_name: source.to_string(),
        detail_type: detail_type.to_string(),
        why: why.to_string(),
    };
    match source {
        SCHEDULE_SOURCE if detail_type == "Scheduled Event" => Ok(Trigger::Schedule),
        SELLER_SOURCE => {
            let command = match detail_type {
                "FlagOrder" => SellerCommand::FlagOrder,
                "WithdrawCase" => SellerCommand::WithdrawCase,
                "ApproveCancel" => SellerCommand::ApproveCancel,
                _ => {
                    return Err(bad(
                        "seller commands are FlagOrder, WithdrawCase and ApproveCancel",
                    ));
                }
            };
            let order_id = detail
                .get("orderId")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("detail has no orderId"))
                .and_then(|s| OrderId::parse(s).map_err(|e| bad(&e.to_string())))?;
            let reason = detail
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
                .chars()
                .take(200)
                .collect();
            Ok(Trigger::Seller {
                command,
                order_id,
                reason,
            })
        }
        kenzen_core::events::SOURCE if kenzen_core::DetailType::parse(detail_type).is_none() => {
            Err(bad("kenzen publishes no such event"))
        }
        INTAKE_SOURCE if detail_type != "OrderChange" => {
            Err(bad("the intake sends OrderChange events only"))
        }
        kenzen_core::events::SOURCE | INTAKE_SOURCE => {
            let order_id = detail
                .get("orderId")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("detail has no orderId"))
                .and_then(|s| OrderId::parse(s).map_err(|e| bad(&e.to_string())))?;
            Ok(Trigger::Order {
                detail_type: detail_type.to_string(),
                order_id,
                notification_id: detail
                    .get("notificationId")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty() && s.len() <= 128)
                    .map(str::to_string),
                notified: (source == INTAKE_SOURCE)
                    .then(|| notified_order(detail))
                    .flatten(),
            })
        }
        _ => Err(bad("not a kenzen event or schedule tick")),
    }
}

/// The order summary an intake event carries (`status`, `fulfillment`, `marketplaceId` and
/// `items`, put there by the Pipe from the notification's `Summary`); `None` when any part is
/// missing or not as Amazon's model describes it (the order is then read instead).
fn notified_order(detail: &Value) -> Option<NotifiedOrder> {
    let text = |k: &str| {
        detail
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let lines = detail
        .get("items")?
        .as_array()?
        .iter()
        .map(|item| {
            let sku = item.get("SellerSKU")?.as_str()?.parse().ok()?;
            let quantity = u32::try_from(item.get("Quantity")?.as_u64()?).ok()?;
            Some(NotifiedLine { sku, quantity })
        })
        .collect::<Option<Vec<_>>>()?;
    if lines.is_empty() {
        return None;
    }
    Some(NotifiedOrder {
        status: text("status")?.to_string(),
        merchant_fulfilled: match text("fulfillment")? {
            "MFN" => true,
            "AFN" => false,
            _ => return None,
        },
        marketplace_id: text("marketplaceId")?.to_string(),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schedule_ticks_and_order_events_are_told_apart() {
        assert_eq!(
            classify("aws.events", "Scheduled Event", &json!({})),
            Ok(Trigger::Schedule)
        );
        assert_eq!(
            classify(
                "kenzen",
                "BuyerRequestedCancel",
                &json!({"type": "BuyerRequestedCancel", "orderId": "503-1"})
            ),
            Ok(Trigger::Order {
                detail_type: "BuyerRequestedCancel".into(),
                order_id: OrderId::parse("503-1").unwrap(),
                notification_id: None,
                notified: None,
            })
        );
    }

    #[test]
    fn seller_commands_carry_the_order_and_reason() {
        assert_eq!(
            classify(
                "kenzen.seller",
                "FlagOrder",
                &json!({"orderId": "503-1", "reason": "damaged in storage"})
            ),
            Ok(Trigger::Seller {
                command: SellerCommand::FlagOrder,
                order_id: OrderId::parse("503-1").unwrap(),
                reason: "damaged in storage".into()
            })
        );
        assert!(
            classify(
                "kenzen.seller",
                "CancelEverything",
                &json!({"orderId": "1"})
            )
            .is_err()
        );
        assert!(classify("kenzen.seller", "WithdrawCase", &json!({})).is_err());
        assert_eq!(
            classify(
                "kenzen.seller",
                "ApproveCancel",
                &json!({"orderId": "503-1", "reason": "kenzen CLI"})
            ),
            Ok(Trigger::Seller {
                command: SellerCommand::ApproveCancel,
                order_id: OrderId::parse("503-1").unwrap(),
                reason: "kenzen CLI".into()
            })
        );
    }

    #[test]
    fn malformed_or_foreign_events_are_refused() {
        assert!(classify("kenzen", "CaseOpened", &json!({"orderId": 5})).is_err());
        assert!(classify("kenzen", "CaseOpened", &json!("x")).is_err());
        assert!(classify("aws.ec2", "EC2 Instance State-change", &json!({})).is_err());
        assert!(classify("aws.events", "Other", &json!({})).is_err());
    }

    #[test]
    fn an_intake_event_carries_the_notified_summary_when_it_is_complete() {
        let detail = json!({
            "orderId": "503-1", "notificationId": "n-1", "changeType": "OrderStatusChange",
            "status": "Unshipped", "fulfillment": "MFN", "marketplaceId": "A1VC38T7YXB528",
            "items": [{"OrderItemId": "1", "SellerSKU": "CUP", "Quantity": 2, "SupplySourceId": "x"}]
        });
        let Ok(Trigger::Order { notified, .. }) = classify("kenzen.intake", "OrderChange", &detail)
        else {
            panic!("not an order event");
        };
        let n = notified.expect("a complete summary");
        assert_eq!(n.status, "Unshipped");
        assert!(n.merchant_fulfilled);
        assert_eq!(n.lines[0].quantity, 2);
        // Anything missing or odd: no summary, the order is read instead (not an error).
        for broken in [
            json!({"orderId": "503-1", "status": "Unshipped", "fulfillment": "MFN", "marketplaceId": "X", "items": []}),
            json!({"orderId": "503-1", "status": "", "fulfillment": "MFN", "marketplaceId": "X", "items": [{"SellerSKU": "A", "Quantity": 1}]}),
            json!({"orderId": "503-1", "status": "Unshipped", "fulfillment": "XYZ", "marketplaceId": "X", "items": [{"SellerSKU": "A", "Quantity": 1}]}),
            json!({"orderId": "503-1", "status": "Unshipped", "fulfillment": "MFN", "marketplaceId": "X", "items": [{"SellerSKU": "A", "Quantity": -1}]}),
            json!({"orderId": "503-1", "status": "Unshipped", "fulfillment": "MFN", "marketplaceId": "X", "items": "no"}),
        ] {
            let Ok(Trigger::Order { notified, .. }) =
                classify("kenzen.intake", "OrderChange", &broken)
            else {
                panic!("still an order event");
            };
            assert_eq!(notified, None, "{broken}");
        }
    }
}
