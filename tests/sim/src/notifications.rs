//! Notifications API v1: SQS destinations (grantless calls) and the ORDER_CHANGE subscription.
//!
//! Creating what already exists is a 409, as on Amazon, so kenzen's setup must read first or
//! take the conflict. A subscription's event filter names only marketplaces the seller sells in. It must not send notifications: the tests deliver those themselves.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::Sim;
use crate::wire::{Answer, Raw};

/// GET /notifications/v1/destinations
pub(crate) async fn get_destinations(State(sim): State<Arc<Sim>>) -> Answer {
    let w = sim.world();
    let list: Vec<Value> = w
        .destinations
        .iter()
        .map(|(id, arn)| json!({"destinationId": id, "name": "kenzen", "resource": {"sqs": {"arn": arn}}}))
        .collect();
    Answer::ok(json!({"payload": list}))
}

/// POST /notifications/v1/destinations
pub(crate) async fn create_destination(State(sim): State<Arc<Sim>>, body: Bytes) -> Answer {
    let spec: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(arn) = spec["resourceSpecification"]["sqs"]["arn"]
        .as_str()
        .map(str::to_string)
    else {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "An SQS destination is required.",
        );
    };
    let mut w = sim.world();
    if w.destinations.iter().any(|(_, a)| *a == arn) {
        return Answer::error(
            StatusCode::CONFLICT,
            "Conflict",
            "A destination for this resource already exists.",
        );
    }
    let id = format!("sim-destination-{}", w.next_id());
    w.destinations.push((id.clone(), arn.clone()));
    Answer::ok(
        json!({"payload": {"destinationId": id, "name": spec["name"], "resource": {"sqs": {"arn": arn}}}}),
    )
}

/// GET /notifications/v1/subscriptions/{notificationType}
pub(crate) async fn get_subscription(
    State(sim): State<Arc<Sim>>,
    Raw([notification_type]): Raw<1>,
) -> Result<Answer, Answer> {
    order_change_only(&notification_type)?;
    match &sim.world().subscription {
        Some(s) => Ok(Answer::ok(json!({"payload": s}))),
        None => Err(Answer::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No subscription.",
        )),
    }
}

/// POST /notifications/v1/subscriptions/{notificationType}
pub(crate) async fn create_subscription(
    State(sim): State<Arc<Sim>>,
    Raw([notification_type]): Raw<1>,
    body: Bytes,
) -> Result<Answer, Answer> {
    order_change_only(&notification_type)?;
    let mut w = sim.world();
    if w.subscription.is_some() {
        return Err(Answer::error(
            StatusCode::CONFLICT,
            "Conflict",
            "A subscription for this notification type already exists.",
        ));
    }
    let spec: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let dest = spec["destinationId"].as_str().unwrap_or("").to_string();
    if !w.destinations.iter().any(|(id, _)| *id == dest) {
        return Err(Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Unknown destinationId.",
        ));
    }
    // The event filter's marketplaces, when it names any, are marketplaces the seller sells in.
    let filter = &spec["processingDirective"]["eventFilter"]["marketplaceIds"];
    let foreign = filter.as_array().is_some_and(|ids| {
        ids.iter()
            .any(|id| !id.as_str().is_some_and(|id| sim.config.sells_in(id)))
    });
    if foreign || !(filter.is_null() || filter.is_array()) {
        return Err(Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid marketplaceIds in the event filter.",
        ));
    }
    let sub = json!({
        "subscriptionId": format!("sim-subscription-{}", w.next_id()),
        "payloadVersion": spec["payloadVersion"],
        "destinationId": dest,
        "processingDirective": spec["processingDirective"],
    });
    w.subscription = Some(sub.clone());
    Ok(Answer::ok(json!({"payload": sub})))
}

/// Only the ORDER_CHANGE subscription is simulated.
fn order_change_only(notification_type: &str) -> Result<(), Answer> {
    if notification_type == "ORDER_CHANGE" {
        Ok(())
    } else {
        Err(Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Only ORDER_CHANGE is simulated.",
        ))
    }
}
