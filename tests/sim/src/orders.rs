//! Orders API v2026-01-01: searchOrders (paged, small pages) and getOrder.
//!
//! An order is visible from its creation time on. Buyer cancellation requests and executed
//! cancellations show on the order items, as in Amazon's model. It must not change orders: it
//! only reads them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::wire::{Answer, Now, Query, Raw, iso};
use crate::{Sim, SimConfig, SimOrder};

/// GET /orders/2026-01-01/orders
pub(crate) async fn search_orders(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    query: Query,
) -> Answer {
    let q = &query.0;
    let after = match (q.get("lastUpdatedAfter"), q.get("createdAfter")) {
        (Some(a), None) | (None, Some(a)) => a.parse::<Timestamp>(),
        _ => {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "Exactly one of createdAfter and lastUpdatedAfter is required.",
            );
        }
    };
    let Ok(after) = after else {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid date-time.",
        );
    };
    if !query.names_marketplace(&sim.config.marketplace_id) {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid marketplaceIds.",
        );
    }
    let by_created = q.contains_key("createdAfter");
    let w = sim.world();
    let matching: Vec<&SimOrder> = w
        .orders
        .values()
        .filter(|o| {
            let t = if by_created {
                o.created
            } else {
                o.last_updated
            };
            t > after && t <= now && o.created <= now
        })
        .collect();
    let start: usize = q
        .get("paginationToken")
        .and_then(|t| t.strip_prefix("page-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let size = q
        .get("maxResultsPerPage")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 100)
        .min(sim.config.page_size);
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(size)
        .map(|o| order_json(&sim.config, o))
        .collect();
    let mut body = json!({ "orders": page, "lastUpdatedBefore": iso(now) });
    if start + size < matching.len() {
        body["pagination"] = json!({ "nextToken": format!("page-{}", start + size) });
    }
    Answer::ok(body)
}

/// GET /orders/2026-01-01/orders/{orderId}
pub(crate) async fn get_order(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([order_id]): Raw<1>,
) -> Answer {
    let w = sim.world();
    match w.orders.get(&order_id).filter(|o| o.created <= now) {
        Some(o) => Answer::ok(json!({ "order": order_json(&sim.config, o) })),
        None => Answer::error(StatusCode::NOT_FOUND, "NotFound", "Order not found."),
    }
}

/// An order in the model's shape.
fn order_json(config: &SimConfig, o: &SimOrder) -> Value {
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            let mut item = json!({
                "orderItemId": i.order_item_id,
                "quantityOrdered": i.quantity,
                "product": {
                    "asin": i.asin,
                    "title": i.title,
                    "sellerSku": i.sku,
                    "price": {"unitPrice": {"amount": i.unit_price, "currencyCode": "JPY"}}
                }
            });
            let mut cancellation = serde_json::Map::new();
            if o.buyer_request.is_some() {
                cancellation.insert(
                    "cancellationRequest".into(),
                    json!({"requester": "BUYER", "cancelReason": "NO_LONGER_NEEDED"}),
                );
            }
            if let Some((by, reason)) = &o.cancel {
                cancellation.insert(
                    "cancellationExecution".into(),
                    json!({"cancelledBy": by, "cancelReason": reason}),
                );
            }
            if !cancellation.is_empty() {
                item["cancellation"] = Value::Object(cancellation);
            }
            item
        })
        .collect();
    json!({
        "orderId": o.order_id,
        "createdTime": iso(o.created),
        "lastUpdatedTime": iso(o.last_updated),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": config.marketplace_id,
            "marketplaceName": "Amazon.co.jp"
        },
        "fulfillment": {
            "fulfillmentStatus": o.status,
            "fulfilledBy": "MERCHANT",
            "shipByWindow": {
                "earliestDateTime": iso(o.created),
                "latestDateTime": iso(o.ship_by)
            }
        },
        "orderItems": items,
        // Personal data kenzen never asks for (no includedData=BUYER) and must never log.
        "buyer": {"buyerName": o.buyer_name}
    })
}
