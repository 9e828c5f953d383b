//! new-order-check: finds new unshipped MFN orders (Orders API poll since the stored cursor) and
//! opens a case, sending the first message, for each one that cannot be filled (stock short or
//! below the profit floor). It also takes the seller's commands from the bus: `FlagOrder` opens
//! a case by hand, `WithdrawCase` closes one; and ORDER_CHANGE notifications from the intake
//! (`OrderChange` events naming one order).
//!
//! A thin handler: classify the event, run one use case, report. It holds no rules and builds no
//! clients; `main.rs` wires the service once per container.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use kenzen_app::handler::HandlerError;
use kenzen_app::ports::{EventPublisher, Marketplace, Store};
use kenzen_app::trigger::{BadEvent, SellerCommand, Trigger, classify};
use kenzen_app::{RunReport, Service};
use serde_json::Value;

const NAME: &str = "new-order-check";

/// Handles one invocation. A malformed, foreign or misdirected event is refused as
/// `kenzen.InvalidEvent` and changes nothing; a run in which some cases failed returns
/// `kenzen.CasesFailed` after the others were done, so the failure shows in the function's
/// metrics and the invocation is retried.
pub async fn handle<M: Marketplace, S: Store, P: EventPublisher>(
    svc: &Service<M, S, P>,
    event: EventBridgeEvent<Value>,
) -> Result<RunReport, HandlerError> {
    let misdirected = || BadEvent::not_for(NAME, &event.source, &event.detail_type);
    let report = match classify(&event.source, &event.detail_type, &event.detail)? {
        Trigger::Schedule => svc.check_new_orders().await?,
        Trigger::Seller {
            command: SellerCommand::FlagOrder,
            order_id,
            reason,
        } => svc.flag_order(&order_id, &reason).await?,
        Trigger::Seller {
            command: SellerCommand::WithdrawCase,
            order_id,
            reason,
        } => svc.withdraw(&order_id, &reason).await?,
        Trigger::Seller {
            command: SellerCommand::ApproveCancel,
            order_id,
            reason,
        } => svc.approve(&order_id, &reason).await?,
        Trigger::Order {
            detail_type,
            order_id,
            notification_id,
            notified,
        } if detail_type == "OrderChange" => {
            svc.check_order(&order_id, notification_id.as_deref(), notified.as_ref())
                .await?
        }
        Trigger::Order { .. } => return Err(misdirected().into()),
    };
    Ok(report.finish(NAME, svc.clock().now())?)
}
