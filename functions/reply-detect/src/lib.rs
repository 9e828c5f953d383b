//! reply-detect: re-reads the orders of open cases and records what Amazon shows: the buyer's official cancellation request, a ship, a cancel elsewhere. On its schedule it reads every open case; on an event naming an order, that order only.
//!
//! A thin handler: classify the event, run one use case, report. It holds no rules and builds no
//! clients; `main.rs` wires the service once per container.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use kenzen_app::trigger::{Trigger, classify};
use kenzen_app::{AppService, RunReport};
use lambda_runtime::Error;
use serde_json::Value;

const NAME: &str = "reply-detect";

/// Handles one invocation. A malformed or foreign event is refused with an error and changes
/// nothing; a run in which some cases failed returns an error after the others were done, so
/// the failure shows in the function's metrics and the invocation is retried.
pub async fn handle(svc: &AppService, event: EventBridgeEvent<Value>) -> Result<RunReport, Error> {
    match classify(&event.source, &event.detail_type, &event.detail)? {
        Trigger::Seller { .. } => {
            Err(format!("{} is not for this function", event.detail_type).into())
        }
        Trigger::Schedule => Ok(svc
            .detect_replies(None)
            .await?
            .finish(NAME, svc.clock.now())?),
        Trigger::Order { order_id, .. } => Ok(svc
            .detect_replies(Some(&order_id))
            .await?
            .finish(NAME, svc.clock.now())?),
    }
}
