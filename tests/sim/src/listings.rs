//! Listings Items API 2021-08-01: patchListingsItem, for the one patch kenzen sends, the offer
//! quantity (`/attributes/fulfillment_availability`).
//!
//! The quantity set here is what a cancel later gives units back to. It must not accept any
//! other patch.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::Sim;
use crate::wire::{Answer, Query, Raw, percent_decode};

/// PATCH /listings/2021-08-01/items/{sellerId}/{sku}
pub(crate) async fn patch_listings_item(
    State(sim): State<Arc<Sim>>,
    Raw([seller_id, sku]): Raw<2>,
    query: Query,
    body: Bytes,
) -> Answer {
    if !query.names_marketplace(&sim.config.marketplace_id) || seller_id != sim.config.seller_id {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid sellerId or marketplaceIds.",
        );
    }
    let sku = percent_decode(&sku);
    let patch: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let quantity = patch["patches"]
        .as_array()
        .and_then(|ps| {
            ps.iter()
                .find(|p| p["path"] == "/attributes/fulfillment_availability")
        })
        .and_then(|p| p["value"][0]["quantity"].as_i64());
    let (Some(quantity), Some(_)) = (quantity, patch["productType"].as_str()) else {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Expected a fulfillment_availability patch.",
        );
    };
    let mut w = sim.world();
    w.offers.insert(sku.clone(), quantity);
    let submission = format!("sim-submission-{}", w.next_id());
    Answer::ok(json!({"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}))
}
