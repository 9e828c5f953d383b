//! Messaging API v1: the actions offered for an order, the buyer's attributes (locale), and
//! sending the one message kind kenzen uses, unexpectedProblem.
//!
//! A message is delivered to the scripted buyer, who reads it at once or, with reading hours,
//! only if it arrives within them; a buyer who requests after a given message schedules the
//! request then. Messaging is closed for cancelled orders and for orders marked unavailable:
//! the actions list is empty (200) and a send is 403. An application without the Buyer
//! Communication role is refused every call with 403 Unauthorized by the server's guard, before
//! this module looks at anything. `marketplaceIds` takes exactly one marketplace (the model's `maxItems: 1`): one
//! the seller sells in, and the one the order was placed in ("the marketplace in which the
//! order was placed", as the model says); anything else is a 400. No other query parameter is
//! taken. A buyer's reading hours are in the local time of the order's marketplace.
//! It must not decide anything for kenzen: it only answers as Amazon would.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Time;
use serde_json::{Value, json};

use crate::wire::{Answer, Now, Query, QueryNames, Raw};
use crate::world::World;
use crate::{Action, Buyer, Delivered, Sim, SimOrder};

/// GET /messaging/v1/orders/{amazonOrderId}
pub(crate) async fn actions(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([order_id]): Raw<1>,
    query: Query,
    names: QueryNames,
) -> Result<Answer, Answer> {
    let w = sim.world();
    let o = find(&sim, &w, &query, &names, &order_id, now)?;
    let mp = o.marketplace(&sim.config);
    let actions: Vec<Value> = if open(o) {
        vec![json!({
            "href": format!("/messaging/v1/orders/{order_id}/messages/unexpectedProblem?marketplaceIds={mp}"),
            "name": "unexpectedProblem"
        })]
    } else {
        vec![]
    };
    let self_link = json!({"href": format!("/messaging/v1/orders/{order_id}?marketplaceIds={mp}")});
    Ok(Answer::ok(
        json!({"_links": {"self": self_link, "actions": actions}}),
    ))
}

/// GET /messaging/v1/orders/{amazonOrderId}/attributes
pub(crate) async fn attributes(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([order_id]): Raw<1>,
    query: Query,
    names: QueryNames,
) -> Result<Answer, Answer> {
    let w = sim.world();
    let o = find(&sim, &w, &query, &names, &order_id, now)?;
    Ok(Answer::ok(json!({"buyer": {"locale": o.locale}})))
}

/// POST /messaging/v1/orders/{amazonOrderId}/messages/unexpectedProblem
pub(crate) async fn unexpected_problem(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([order_id]): Raw<1>,
    query: Query,
    names: QueryNames,
    body: Bytes,
) -> Result<Answer, Answer> {
    let mut w = sim.world();
    if !open(find(&sim, &w, &query, &names, &order_id, now)?) {
        return Err(Answer::error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "Invalid amazonOrderId and template combination.",
        ));
    }
    let text = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_string));
    let Some(text) = text.filter(|t| {
        let n = t.chars().count();
        (1..=2000).contains(&n) && !t.contains('<') && !t.contains('@')
    }) else {
        return Err(Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "text must be 1-2000 characters without HTML or e-mail addresses.",
        ));
    };
    w.delivered.push(Delivered {
        at: now,
        order_id: order_id.clone(),
        text,
    });
    let Some(order) = w.orders.get_mut(&order_id) else {
        return Err(Answer(StatusCode::NOT_FOUND, json!({})));
    };
    order.messages_received += 1;
    // A buyer with reading hours reads only what arrives within them; the rest is buried under
    // other mail.
    let read = reads_at(
        sim.config.time_zone_of(order.marketplace(&sim.config)),
        now,
        order.reads,
    );
    if read {
        order.messages_read += 1;
    }
    if let Buyer::RequestsAfterMessage { after, delay } = order.buyer
        && read
        && order.messages_read == after
    {
        w.schedule(now + delay, order_id, Action::BuyerRequestsCancellation);
    }
    Ok(Answer(StatusCode::CREATED, json!({})))
}

/// The order a messaging call names, if the call names exactly one marketplace, one the seller
/// sells in, and nothing else, and the order exists by `now` and was placed in that marketplace
/// (a missing Buyer Communication role is refused before, with every other missing role).
fn find<'w>(
    sim: &Sim,
    w: &'w World,
    query: &Query,
    names: &QueryNames,
    order_id: &str,
    now: Timestamp,
) -> Result<&'w SimOrder, Answer> {
    names.only(&["marketplaceIds"])?;
    let marketplace = query.0.get("marketplaceIds").map(String::as_str);
    if marketplace.is_some_and(|m| m.contains(',')) {
        return Err(Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "marketplaceIds takes exactly one marketplace.",
        ));
    }
    let Some(marketplace) = marketplace.filter(|m| sim.config.sells_in(m)) else {
        return Err(Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid marketplaceIds.",
        ));
    };
    let order = w
        .orders
        .get(order_id)
        .filter(|o| o.created <= now)
        .ok_or_else(|| Answer::error(StatusCode::NOT_FOUND, "NotFound", "Order not found."))?;
    if order.marketplace(&sim.config) != marketplace {
        return Err(Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            &format!("The order was not placed in marketplace {marketplace}."),
        ));
    }
    Ok(order)
}

/// Messaging is open for the order: it is not cancelled, and actions are offered for it.
fn open(o: &SimOrder) -> bool {
    o.status != "CANCELLED" && o.messaging_available
}

/// Whether a buyer reading only between `reads` (local time in `time_zone`, to the minute)
/// reads a message arriving at `at`. A range past midnight wraps.
fn reads_at(time_zone: &str, at: Timestamp, reads: Option<(Time, Time)>) -> bool {
    let Some((from, to)) = reads else { return true };
    let tz = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let z = at.to_zoned(tz);
    let minutes = |h: i8, m: i8| i32::from(h) * 60 + i32::from(m);
    let now_m = minutes(z.hour(), z.minute());
    let (f, t) = (
        minutes(from.hour(), from.minute()),
        minutes(to.hour(), to.minute()),
    );
    if f <= t {
        now_m >= f && now_m < t
    } else {
        now_m >= f || now_m < t
    }
}
