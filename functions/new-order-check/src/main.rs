//! Lambda entry point for new-order-check: wiring only.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    kenzen_app::wiring::init_logging();
    let svc = kenzen_app::wiring::from_env().await?;
    let svc = &svc;
    run(service_fn(
        move |ev: LambdaEvent<EventBridgeEvent<Value>>| async move {
            // The run stops starting new work in time for Lambda's deadline.
            svc.set_deadline(kenzen_app::wiring::deadline(ev.context.deadline));
            new_order_check::handle(svc, ev.payload).await
        },
    ))
    .await
}
