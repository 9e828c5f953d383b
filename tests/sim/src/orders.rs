//! Orders API v2026-01-01: searchOrders and getOrder.
//!
//! Requests are checked as the model describes them, and refused with 400 InvalidInput
//! otherwise: a parameter the operation does not take (or one sent twice), a value outside its
//! enum, exactly one of `createdAfter` and `lastUpdatedAfter`, no `…Before` of the other kind,
//! a `…Before` at or after its `…After` and at least two minutes before the request,
//! `maxResultsPerPage` within 1–100, and a pagination token issued for the same search less than
//! 24 hours ago. Date-times must be UTC written with `Z`: Amazon's ISO 8601 page also allows an
//! offset such as `+09:00`, so the simulator is stricter there on purpose (kenzen's rule is UTC
//! on the wire); the failure Amazon itself has is the unencoded `+`, which reads as a space.
//!
//! `marketplaceIds` (comma-separated, at most 50) names marketplaces the seller sells in, each
//! one (any other is refused), and a search finds the orders placed in those only; an order's
//! `salesChannel` names its own marketplace, and its prices are in that marketplace's currency.
//!
//! Searches are inclusive ("at or after", "at or before") and see an order change only after
//! the indexing lag: the answer's `lastUpdatedBefore` (or `createdBefore`) is now minus the lag,
//! and newer changes are found by the next search. getOrder reads an order at once. An answer
//! holds only what `includedData` asks for: the order's `fulfillment` and its items'
//! (FULFILLMENT), the items' cancellation request and execution (CANCELLATION), the buyer's name
//! (BUYER); the other datasets are accepted and add nothing, the simulator holds no such data.
//! The one answer outside the model is on purpose: an order marked `damaged_in_search` carries an
//! unknown fulfillmentStatus in search pages (never in getOrder).
//! It must not change orders: it only reads them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::wire::{Answer, Now, Query, QueryNames, Raw, iso};
use crate::{Sim, SimConfig, SimOrder};

/// searchOrders' parameters in the model.
const SEARCH_PARAMS: [&str; 10] = [
    "createdAfter",
    "createdBefore",
    "lastUpdatedAfter",
    "lastUpdatedBefore",
    "fulfillmentStatuses",
    "marketplaceIds",
    "fulfilledBy",
    "maxResultsPerPage",
    "paginationToken",
    "includedData",
];

/// The `includedData` datasets in the model.
const DATASETS: [&str; 11] = [
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];

/// The `fulfillmentStatuses` values in the model.
const STATUSES: [&str; 7] = [
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
];

/// The fulfillmentStatus an order marked `damaged_in_search` carries in search pages: not one of
/// the model's values.
const DAMAGED_STATUS: &str = "AWAITING_PICKUP";

/// The model's `maxResultsPerPage` range (and its default, the top).
const MAX_PAGE: usize = 100;

/// A `createdBefore` or `lastUpdatedBefore` must be at least this long before the request.
const BEFORE_MARGIN: SignedDuration = SignedDuration::from_mins(2);

/// How long a pagination token can be used.
const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(24);

/// GET /orders/2026-01-01/orders
pub(crate) async fn search_orders(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    query: Query,
    names: QueryNames,
) -> Result<Answer, Answer> {
    names.only(&SEARCH_PARAMS)?;
    let q = &query.0;
    let created_after = utc(&query, "createdAfter")?;
    let created_before = utc(&query, "createdBefore")?;
    let updated_after = utc(&query, "lastUpdatedAfter")?;
    let updated_before = utc(&query, "lastUpdatedBefore")?;
    let (by_created, after, before) = match (created_after, updated_after) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(bad(
                "Exactly one of createdAfter and lastUpdatedAfter is required.",
            ));
        }
        (Some(a), None) if updated_before.is_none() => (true, a, created_before),
        (None, Some(a)) if created_before.is_none() => (false, a, updated_before),
        _ => {
            return Err(bad(
                "createdAfter and createdBefore cannot be combined with lastUpdatedAfter or \
                 lastUpdatedBefore.",
            ));
        }
    };
    if let Some(b) = before {
        if b < after {
            return Err(bad("The before time must be at or after the after time."));
        }
        if b > now - BEFORE_MARGIN {
            return Err(bad(
                "The before time must be at least two minutes before the time of the request.",
            ));
        }
    }
    let marketplaces: Option<Vec<&str>> =
        q.get("marketplaceIds").map(|ids| ids.split(',').collect());
    if let Some(ids) = &marketplaces
        && (ids.len() > 50 || ids.iter().any(|id| !sim.config.sells_in(id)))
    {
        return Err(bad("Invalid marketplaceIds."));
    }
    let fulfilled_by = list(&query, "fulfilledBy", &["MERCHANT", "AMAZON"])?;
    let statuses = list(&query, "fulfillmentStatuses", &STATUSES)?;
    let included = Included::from(&query)?;
    let size = match q.get("maxResultsPerPage") {
        None => MAX_PAGE,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| bad("maxResultsPerPage must be an integer between 1 and 100."))?,
    }
    .min(sim.config.page_size.max(1));

    // The search's upper bound: what is indexed by now, or the first page's bound.
    let search = fingerprint(&query);
    let (start, cutoff) = match q.get("paginationToken") {
        None => {
            let indexed = whole_seconds(now - sim.config.indexing_lag);
            (0, before.map_or(indexed, |b| b.min(indexed)))
        }
        Some(t) => {
            let token = PageToken::decode(t).ok_or_else(|| bad("Invalid paginationToken."))?;
            if token.search != search {
                return Err(bad(
                    "The paginationToken was issued for a search with other parameters.",
                ));
            }
            if now >= token.issued + TOKEN_LIFETIME {
                return Err(bad("The paginationToken has expired."));
            }
            (token.start, token.cutoff)
        }
    };
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
            t >= after
                && t <= cutoff
                && o.created <= cutoff
                && fulfilled_by
                    .as_ref()
                    .is_none_or(|f| f.contains(&o.fulfilled_by))
                && statuses.as_ref().is_none_or(|s| s.contains(&o.status))
                && marketplaces
                    .as_ref()
                    .is_none_or(|m| m.contains(&o.marketplace(&sim.config)))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(size)
        .map(|o| {
            let mut order = order_json(&sim.config, o, &included);
            if o.damaged_in_search
                && let Some(f) = order.get_mut("fulfillment")
            {
                // Outside the model's enum on purpose: an order a client cannot decode.
                f["fulfillmentStatus"] = json!(DAMAGED_STATUS);
            }
            order
        })
        .collect();
    let bound = if by_created {
        "createdBefore"
    } else {
        "lastUpdatedBefore"
    };
    let mut body = json!({ "orders": page, bound: iso(cutoff) });
    if start + size < matching.len() {
        let next = PageToken {
            start: start + size,
            issued: now,
            cutoff,
            search,
        };
        body["pagination"] = json!({ "nextToken": next.encode() });
    }
    Ok(Answer::ok(body))
}

/// GET /orders/2026-01-01/orders/{orderId}
pub(crate) async fn get_order(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([order_id]): Raw<1>,
    query: Query,
    names: QueryNames,
) -> Result<Answer, Answer> {
    names.only(&["includedData"])?;
    let included = Included::from(&query)?;
    let w = sim.world();
    match w.orders.get(&order_id).filter(|o| o.created <= now) {
        Some(o) => Ok(Answer::ok(
            json!({ "order": order_json(&sim.config, o, &included) }),
        )),
        None => Err(Answer::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "Order not found.",
        )),
    }
}

fn bad(message: &str) -> Answer {
    Answer::error(StatusCode::BAD_REQUEST, "InvalidInput", message)
}

/// The datasets an answer holds beyond the basic order.
struct Included {
    buyer: bool,
    cancellation: bool,
    fulfillment: bool,
}

impl Included {
    fn from(query: &Query) -> Result<Self, Answer> {
        let sets = list(query, "includedData", &DATASETS)?.unwrap_or_default();
        Ok(Self {
            buyer: sets.contains(&"BUYER"),
            cancellation: sets.contains(&"CANCELLATION"),
            fulfillment: sets.contains(&"FULFILLMENT"),
        })
    }
}

/// The values of comma-list parameter `name`, each one of `allowed`; `None` when it is absent.
fn list(
    query: &Query,
    name: &str,
    allowed: &[&'static str],
) -> Result<Option<Vec<&'static str>>, Answer> {
    let Some(value) = query.0.get(name) else {
        return Ok(None);
    };
    value
        .split(',')
        .map(|v| allowed.iter().find(|a| **a == v).copied())
        .collect::<Option<Vec<_>>>()
        .map(Some)
        .ok_or_else(|| bad(&format!("Invalid value for {name}: {value}.")))
}

/// Date-time parameter `name`, if present: `yyyy-MM-ddTHH:mm[:ss[.s…]]Z`.
fn utc(query: &Query, name: &str) -> Result<Option<Timestamp>, Answer> {
    let Some(value) = query.0.get(name) else {
        return Ok(None);
    };
    parse_utc(value).map(Some).ok_or_else(|| {
        bad(&format!(
            "Invalid {name}: {value}. Use an ISO 8601 date-time in UTC, e.g. 2026-01-01T00:00:00Z."
        ))
    })
}

/// A UTC date-time written with `Z`; `None` for any other form, an offset included.
fn parse_utc(s: &str) -> Option<Timestamp> {
    let (date, time) = s.split_once('T')?;
    let time = time.strip_suffix('Z')?;
    let digits = |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    let mut d = date.split('-');
    let date_ok = d.next().is_some_and(|y| digits(y, 4))
        && d.next().is_some_and(|m| digits(m, 2))
        && d.next().is_some_and(|m| digits(m, 2))
        && d.next().is_none();
    let (clock, fraction) = match time.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (time, None),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let time_ok = fields.iter().all(|f| digits(f, 2))
        && match fields.len() {
            2 => fraction.is_none(),
            3 => fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit())),
            _ => false,
        };
    if !(date_ok && time_ok) {
        return None;
    }
    let seconds = if fields.len() == 2 { ":00" } else { "" };
    format!("{date}T{time}{seconds}Z").parse().ok()
}

fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// The search parameters a pagination token binds, as one number: all but
/// `paginationToken`, `maxResultsPerPage` and `includedData`, which may change between pages.
fn fingerprint(query: &Query) -> u64 {
    // FNV-1a over the sorted pairs.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in &query.0 {
        if matches!(
            k.as_str(),
            "paginationToken" | "maxResultsPerPage" | "includedData"
        ) {
            continue;
        }
        for b in k.bytes().chain([0]).chain(v.bytes()).chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Where the next page starts, when the search was issued, the bound of its first page, and
/// which search it belongs to.
struct PageToken {
    start: usize,
    issued: Timestamp,
    cutoff: Timestamp,
    search: u64,
}

impl PageToken {
    fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{:016x}",
            self.start,
            self.issued.as_second(),
            self.cutoff.as_second(),
            self.search
        )
    }

    fn decode(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let token = PageToken {
            start: parts.next()?.parse().ok()?,
            issued: Timestamp::from_second(parts.next()?.parse().ok()?).ok()?,
            cutoff: Timestamp::from_second(parts.next()?.parse().ok()?).ok()?,
            search: u64::from_str_radix(parts.next()?, 16).ok()?,
        };
        parts.next().is_none().then_some(token)
    }
}

/// An order in the model's shape, with the datasets `included` asks for.
fn order_json(config: &SimConfig, o: &SimOrder, included: &Included) -> Value {
    let marketplace = o.marketplace(config);
    let currency = crate::marketplaces::currency(marketplace);
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
                    "price": {"unitPrice": {"amount": i.unit_price, "currencyCode": currency}}
                }
            });
            if included.fulfillment {
                let shipped = if o.status == "SHIPPED" { i.quantity } else { 0 };
                let open = if o.status == "UNSHIPPED" {
                    i.quantity
                } else {
                    0
                };
                item["fulfillment"] =
                    json!({"quantityFulfilled": shipped, "quantityUnfulfilled": open});
            }
            let mut cancellation = serde_json::Map::new();
            let requested = o.buyer_request.is_some()
                && o.request_items
                    .as_ref()
                    .is_none_or(|items| items.contains(&i.order_item_id));
            if requested {
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
            } else if let Some(reason) = o.cancelled_items.get(&i.order_item_id) {
                // A line the seller's feed cancelled while other lines stay open.
                cancellation.insert(
                    "cancellationExecution".into(),
                    json!({"cancelledBy": "MERCHANT", "cancelReason": reason}),
                );
            }
            if included.cancellation && !cancellation.is_empty() {
                item["cancellation"] = Value::Object(cancellation);
            }
            item
        })
        .collect();
    let mut order = json!({
        "orderId": o.order_id,
        "createdTime": iso(o.created),
        "lastUpdatedTime": iso(o.last_updated),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": marketplace,
            "marketplaceName": crate::marketplaces::name(marketplace)
        },
        "orderItems": items,
    });
    if included.fulfillment {
        order["fulfillment"] = json!({
            "fulfillmentStatus": o.status,
            "fulfilledBy": o.fulfilled_by,
            "shipByWindow": {
                "earliestDateTime": iso(o.created),
                "latestDateTime": iso(o.ship_by)
            }
        });
    }
    if included.buyer {
        // Personal data: only when asked for (kenzen never asks, and must never log it).
        order["buyer"] = json!({"buyerName": o.buyer_name});
    }
    order
}
