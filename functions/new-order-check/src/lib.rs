//! new-order-check: finds new unshipped MFN orders (Orders API poll since the stored cursor) and
//! opens a case, sending the first message, for each one that cannot be filled (stock short or
//! below the profit floor). It also takes the seller's commands from the bus: `FlagOrder` opens
//! a case by hand, `WithdrawCase` closes one; and ORDER_CHANGE notifications from the intake
//! (`OrderChange` events naming one order).
//!
//! A thin handler: classify the event, run one use case, report. It holds no rules and builds no
//! clients; `main.rs` wires the service once per container.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use kenzen_app::trigger::{SellerCommand, Trigger, classify};
use kenzen_app::{AppService, RunReport};
use lambda_runtime::Error;
use serde_json::Value;

const NAME: &str = "new-order-check";

/// Handles one invocation. A malformed or foreign event is refused with an error and changes
/// nothing; a run in which some cases failed returns an error after the others were done, so
/// the failure shows in the function's metrics and the invocation is retried.
pub async fn handle(svc: &AppService, event: EventBridgeEvent<Value>) -> Result<RunReport, Error> {
    match classify(&event.source, &event.detail_type, &event.detail)? {
        Trigger::Schedule => Ok(svc.check_new_orders().await?.finish(NAME, svc.clock.now())?),
        Trigger::Seller {
            command: SellerCommand::FlagOrder,
            order_id,
            reason,
        } => Ok(svc.flag_order(&order_id, &reason).await?.finish(NAME, svc.clock.now())?),
        Trigger::Seller {
            command: SellerCommand::WithdrawCase,
            order_id,
            reason,
        } => Ok(svc.withdraw(&order_id, &reason).await?.finish(NAME, svc.clock.now())?),
        Trigger::Order {
            detail_type,
            order_id,
            notification_id,
        } if detail_type == "OrderChange" => Ok(svc
            .check_order(&order_id, notification_id.as_deref())
            .await?.finish(NAME, svc.clock.now())?),
        Trigger::Order { detail_type, .. } => Err(format!(
            "new-order-check takes schedule ticks, seller commands and OrderChange events, not {detail_type}"
        )
        .into()),
    }
}
