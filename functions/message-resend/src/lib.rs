//! message-resend: sends every request message that is due (a scheduled sweep over the due index).
//!
//! A thin handler: classify the event, run one use case, report. It holds no rules and builds no
//! clients; `main.rs` wires the service once per container.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use kenzen_app::handler::HandlerError;
use kenzen_app::ports::{EventPublisher, Marketplace, Store};
use kenzen_app::trigger::{BadEvent, Trigger, classify};
use kenzen_app::{RunReport, Service};
use serde_json::Value;

const NAME: &str = "message-resend";

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
        Trigger::Schedule => svc.send_due_messages().await?,
        Trigger::Order { .. } | Trigger::Seller { .. } => return Err(misdirected().into()),
    };
    Ok(report.finish(NAME, svc.clock().now())?)
}
