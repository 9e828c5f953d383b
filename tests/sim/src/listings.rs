//! Listings Items API 2021-08-01: getListingsItem (summaries with each offer's product type,
//! the fulfillment availability), and patchListingsItem, for the one attribute kenzen patches,
//! the offer's fulfillment availability (`/attributes/fulfillment_availability`: quantity,
//! handling time `lead_time_to_ship_max_days`, `restock_date`) on the merchant channel
//! (`DEFAULT`).
//!
//! Checked as the model and Amazon's answers go. A request that cannot be parsed is a 400
//! InvalidInput: a query parameter the operation does not take, a body without `productType`
//! or `patches`, an `op` outside the model's `add`, `replace`, `merge`, `delete`, a path that is
//! not a top-level attribute, a missing value. A well-formed submission Amazon would not take
//! is a 200 with status INVALID and ERROR issues, as the model describes: a product type that is
//! neither the offer's own (each offer has one, from the configuration) nor Amazon's generic
//! `PRODUCT` (which Amazon takes for offer attributes such as this one), an entry without a
//! channel code, a negative quantity. `mode=VALIDATION_PREVIEW` checks without changing the
//! offer. getListingsItem requires `marketplaceIds` and answers 404 for a SKU the seller has
//! no listing for. `marketplaceIds` must name only marketplaces the seller sells in; a SKU has
//! an offer of its own in each, and a patch changes the offers of the marketplaces it names.
//!
//! `add` and `replace` set the whole attribute: what they leave out is dropped (a quantity
//! patch without the handling time clears it, as Amazon documents); `merge` changes only the
//! fields it names (null removes one); `delete` removes the attribute. The quantity set here is
//! what a cancel later gives units back to. It must not accept a patch of any other attribute.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use jiff::{SignedDuration, Timestamp};

use crate::wire::{Answer, Now, Query, QueryNames, Raw, iso, percent_decode};
use crate::world::{World, offer};
use crate::{Sim, SimConfig};

/// The product type Amazon takes for offer-only data, whatever the item's own type.
const GENERIC_PRODUCT_TYPE: &str = "PRODUCT";

/// The only channel the simulator holds: the merchant's own (MFN).
const CHANNEL: &str = "DEFAULT";

/// PATCH /listings/2021-08-01/items/{sellerId}/{sku}
pub(crate) async fn patch_listings_item(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([seller_id, sku]): Raw<2>,
    query: Query,
    names: QueryNames,
    body: Bytes,
) -> Result<Answer, Answer> {
    names.only(&["marketplaceIds", "includedData", "mode", "issueLocale"])?;
    let q = &query.0;
    let marketplaces: Vec<&str> = q
        .get("marketplaceIds")
        .map(|ids| ids.split(',').collect())
        .unwrap_or_default();
    if marketplaces.is_empty()
        || !marketplaces.iter().all(|id| sim.config.sells_in(id))
        || seller_id != sim.config.seller_id
    {
        return Err(bad("Invalid sellerId or marketplaceIds."));
    }
    let preview = match q.get("mode").map(String::as_str) {
        None => false,
        Some("VALIDATION_PREVIEW") => true,
        Some(m) => return Err(bad(&format!("Invalid mode: {m}."))),
    };
    if let Some(sets) = q.get("includedData") {
        for set in sets.split(',') {
            match set {
                "issues" => {}
                "identifiers" if preview => {}
                "identifiers" => {
                    return Err(bad(
                        "includedData=identifiers can only be requested with mode \
                         VALIDATION_PREVIEW.",
                    ));
                }
                _ => return Err(bad(&format!("Invalid includedData: {set}."))),
            }
        }
    }
    let sku = percent_decode(&sku);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let unparsable = || bad("Request has missing or invalid parameters and cannot be parsed.");
    let product_type = request["productType"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(unparsable)?;
    let patches = request["patches"]
        .as_array()
        .filter(|p| !p.is_empty())
        .ok_or_else(unparsable)?;
    let mut ops = Vec::new();
    for (i, p) in patches.iter().enumerate() {
        ops.push(patch_op(i, p)?);
    }

    let mut issues = Vec::new();
    let own_type = product_type_of(&sim.config, &sku);
    if product_type != own_type && product_type != GENERIC_PRODUCT_TYPE {
        issues.push(issue(
            "4000003",
            "The Amazon product type specified is invalid or not supported.",
            None,
        ));
    }
    for (_, entries) in &ops {
        for e in entries {
            issues.extend(entry_issues(e));
        }
    }
    let mut w = sim.world();
    let submission = format!("sim-submission-{}", w.next_id());
    let status = if !issues.is_empty() {
        "INVALID"
    } else if preview {
        "VALID"
    } else {
        for mp in &marketplaces {
            for (op, entries) in &ops {
                apply(&mut w, &sim.config, mp, &sku, *op, entries);
            }
            w.offer_updated.insert(offer(mp, &sku), now);
        }
        "ACCEPTED"
    };
    Ok(Answer::ok(json!({
        "sku": sku, "status": status, "submissionId": submission, "issues": issues
    })))
}

/// GET /listings/2021-08-01/items/{sellerId}/{sku}: the seller's listing, with the data sets
/// `includedData` names (default `summaries`). A listing exists for every SKU an order names,
/// every SKU with a configured product type, and every offer a patch set up; any other SKU is a
/// 404.
pub(crate) async fn get_listings_item(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([seller_id, sku]): Raw<2>,
    query: Query,
    names: QueryNames,
) -> Result<Answer, Answer> {
    names.only(&["marketplaceIds", "issueLocale", "includedData"])?;
    let q = &query.0;
    let Some(marketplaces) = q.get("marketplaceIds").filter(|m| !m.is_empty()) else {
        return Err(bad("Missing required parameter: marketplaceIds."));
    };
    let marketplaces: Vec<&str> = marketplaces.split(',').collect();
    if !marketplaces.iter().all(|id| sim.config.sells_in(id)) || seller_id != sim.config.seller_id {
        return Err(bad("Invalid sellerId or marketplaceIds."));
    }
    // The first marketplace named is the one the listing is read in.
    let mp = marketplaces[0];
    let sets: Vec<&str> = q
        .get("includedData")
        .map_or_else(|| vec!["summaries"], |v| v.split(',').collect());
    for set in &sets {
        match *set {
            "summaries" | "attributes" | "issues" | "fulfillmentAvailability" => {}
            "offers" | "procurement" | "relationships" | "productTypes" => {
                return Err(bad(&format!(
                    "The simulator does not serve includedData {set}."
                )));
            }
            _ => return Err(bad(&format!("Invalid includedData: {set}."))),
        }
    }
    let sku = percent_decode(&sku);
    let w = sim.world();
    let Some(listing) = listing(&w, &sim.config, mp, &sku, now) else {
        return Err(Answer::error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("SKU '{sku}' not found in marketplace {mp}"),
        ));
    };
    let quantity = w.offers.get(&offer(mp, &sku)).map(|q| (*q).max(0));
    let mut body = json!({ "sku": sku });
    if sets.contains(&"summaries") {
        let status = if quantity == Some(0) {
            json!(["DISCOVERABLE"])
        } else {
            json!(["BUYABLE", "DISCOVERABLE"])
        };
        let mut summary = json!({
            "marketplaceId": mp,
            "productType": product_type_of(&sim.config, &sku),
            "conditionType": "new_new",
            "status": status,
            "createdDate": iso(listing.created),
            "lastUpdatedDate": iso(listing.updated),
        });
        if let Some(asin) = listing.asin {
            summary["asin"] = json!(asin);
        }
        if let Some(name) = listing.title {
            summary["itemName"] = json!(name);
        }
        body["summaries"] = json!([summary]);
    }
    if sets.contains(&"attributes") {
        let mut entry = attributes(&w, &sim.config, mp, &sku);
        if let Some(q) = quantity {
            entry.insert("quantity".into(), json!(q));
        }
        entry.insert("marketplace_id".into(), json!(mp));
        body["attributes"] = json!({ "fulfillment_availability": [entry] });
    }
    if sets.contains(&"issues") {
        body["issues"] = json!([]);
    }
    if sets.contains(&"fulfillmentAvailability") {
        let mut entry = json!({ "fulfillmentChannelCode": CHANNEL });
        if let Some(q) = quantity {
            entry["quantity"] = json!(q);
        }
        body["fulfillmentAvailability"] = json!([entry]);
    }
    Ok(Answer::ok(body))
}

/// What the simulator knows of a listing.
struct Listing {
    asin: Option<String>,
    title: Option<String>,
    created: Timestamp,
    updated: Timestamp,
}

/// The listing of `sku` in marketplace `mp` at `now`, if the seller has one: listed 30 days
/// before its first order there (or before `now`), last changed by its latest patch.
fn listing(w: &World, config: &SimConfig, mp: &str, sku: &str, now: Timestamp) -> Option<Listing> {
    let first = w
        .orders
        .values()
        .filter(|o| o.created <= now && o.marketplace(config) == mp)
        .flat_map(|o| o.items.iter().map(move |i| (o.created, i)))
        .filter(|(_, i)| i.sku == sku)
        .min_by_key(|(created, _)| *created);
    let known = first.is_some()
        || config.product_types.contains_key(sku)
        || w.offers.contains_key(&offer(mp, sku))
        || w.offer_attributes.contains_key(&offer(mp, sku));
    if !known {
        return None;
    }
    let created = first.map_or(now, |(c, _)| c) - SignedDuration::from_hours(30 * 24);
    Some(Listing {
        asin: first.map(|(_, i)| i.asin.clone()),
        title: first.map(|(_, i)| i.title.clone()),
        created,
        updated: w
            .offer_updated
            .get(&offer(mp, sku))
            .copied()
            .unwrap_or(created),
    })
}

impl Sim {
    /// The home marketplace offer's `fulfillment_availability` entry as patches left it: its
    /// channel, quantity, handling time and restock date, each when set. `None` once a patch
    /// deleted it.
    pub fn offer_fulfillment(&self, sku: &str) -> Option<Value> {
        let w = self.world();
        let mp = &self.config.marketplace_id;
        let mut entry = attributes(&w, &self.config, mp, sku);
        if let Some(q) = w.offers.get(&offer(mp, sku)) {
            entry.insert("quantity".into(), json!(q));
        }
        (!entry.is_empty()).then_some(Value::Object(entry))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `add` and `replace`: "adds or replaces the target property".
    Replace,
    Merge,
    Delete,
}

fn bad(message: &str) -> Answer {
    Answer::error(StatusCode::BAD_REQUEST, "InvalidInput", message)
}

/// Patch `i`, checked as far as the model says it must parse, and its entries.
fn patch_op(i: usize, p: &Value) -> Result<(Op, Vec<Map<String, Value>>), Answer> {
    let op = match p["op"].as_str() {
        Some("add" | "replace") => Op::Replace,
        Some("merge") => Op::Merge,
        Some("delete") => Op::Delete,
        _ => {
            return Err(bad(&format!(
                "Invalid op provided in patch at index of {i}."
            )));
        }
    };
    let attribute = p["path"]
        .as_str()
        .and_then(|path| path.strip_prefix("/attributes/"))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| bad(&format!("Invalid path provided in patch at index of {i}.")))?;
    let entries: Vec<Map<String, Value>> = match &p["value"] {
        Value::Null if op == Op::Delete => Vec::new(),
        Value::Array(values) if !values.is_empty() || op == Op::Delete => values
            .iter()
            .map(|v| v.as_object().cloned())
            .collect::<Option<_>>()
            .ok_or_else(|| bad(&format!("Invalid value provided in patch at index of {i}.")))?,
        _ => return Err(bad(&format!("Value is missing for patch at index of {i}."))),
    };
    if attribute != "fulfillment_availability" {
        return Err(bad(&format!(
            "The simulator takes only /attributes/fulfillment_availability patches (patch at \
             index of {i})."
        )));
    }
    let other_channel = entries.iter().any(|e| {
        e.get("fulfillment_channel_code")
            .and_then(Value::as_str)
            .is_some_and(|c| !c.is_empty() && c != CHANNEL)
    });
    if other_channel {
        return Err(bad(&format!(
            "The simulator holds only the {CHANNEL} fulfillment channel (patch at index of {i})."
        )));
    }
    Ok((op, entries))
}

/// What Amazon would list as ERROR issues for one `fulfillment_availability` entry.
fn entry_issues(e: &Map<String, Value>) -> Vec<Value> {
    let mut issues = Vec::new();
    if e.get("fulfillment_channel_code")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        issues.push(issue(
            "99022",
            "The field 'fulfillment_channel_code' for the attribute 'fulfillment_availability' \
             does not have enough values. The required minimum is '1' value(s).",
            Some("fulfillment_availability"),
        ));
    }
    for field in ["quantity", "lead_time_to_ship_max_days"] {
        let ok = match e.get(field) {
            None | Some(Value::Null) => true,
            Some(v) => v.as_u64().is_some(),
        };
        if !ok {
            issues.push(issue(
                "4000001",
                &format!("The provided value for '{field}' is invalid."),
                Some("fulfillment_availability"),
            ));
        }
    }
    if e.get("restock_date")
        .is_some_and(|v| !(v.is_null() || v.is_string()))
    {
        issues.push(issue(
            "4000001",
            "The provided value for 'restock_date' is invalid.",
            Some("fulfillment_availability"),
        ));
    }
    issues
}

fn issue(code: &str, message: &str, attribute: Option<&str>) -> Value {
    let mut i = json!({
        "code": code,
        "message": message,
        "severity": "ERROR",
        "categories": if attribute.is_some() { json!(["INVALID_ATTRIBUTE"]) } else { json!([]) }
    });
    if let Some(a) = attribute {
        i["attributeNames"] = json!([a]);
    }
    i
}

/// The product type of the offer `sku`.
fn product_type_of<'c>(config: &'c SimConfig, sku: &str) -> &'c str {
    config
        .product_types
        .get(sku)
        .unwrap_or(&config.default_product_type)
}

/// The offer's fulfillment availability but its quantity: as patches left it, or as the seller
/// set it up (the merchant channel and the configured handling time).
fn attributes(w: &World, config: &SimConfig, mp: &str, sku: &str) -> Map<String, Value> {
    w.offer_attributes
        .get(&offer(mp, sku))
        .cloned()
        .unwrap_or_else(|| {
            let mut a = Map::new();
            a.insert("fulfillment_channel_code".into(), json!(CHANNEL));
            if let Some(days) = config.lead_time_days {
                a.insert("lead_time_to_ship_max_days".into(), json!(days));
            }
            a
        })
}

/// Applies one checked patch to the offer of `sku` in marketplace `mp`.
fn apply(
    w: &mut World,
    config: &SimConfig,
    mp: &str,
    sku: &str,
    op: Op,
    entries: &[Map<String, Value>],
) {
    let mut attrs = attributes(w, config, mp, sku);
    let mut quantity = w.offers.get(&offer(mp, sku)).copied();
    match op {
        Op::Delete => {
            attrs.clear();
            quantity = None;
        }
        Op::Replace => {
            attrs.clear();
            quantity = None;
            for e in entries {
                for (k, v) in e {
                    match (k.as_str(), v) {
                        (_, Value::Null) => {}
                        ("quantity", v) => quantity = v.as_i64(),
                        (k, v) => {
                            attrs.insert(k.into(), v.clone());
                        }
                    }
                }
            }
        }
        Op::Merge => {
            for e in entries {
                for (k, v) in e {
                    match (k.as_str(), v) {
                        ("quantity", v) => quantity = v.as_i64(),
                        (k, Value::Null) => {
                            attrs.remove(k);
                        }
                        (k, v) => {
                            attrs.insert(k.into(), v.clone());
                        }
                    }
                }
            }
        }
    }
    w.offer_attributes.insert(offer(mp, sku), attrs);
    match quantity {
        Some(q) => w.offers.insert(offer(mp, sku), q),
        None => w.offers.remove(&offer(mp, sku)),
    };
}
