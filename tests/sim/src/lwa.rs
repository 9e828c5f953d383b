//! Login with Amazon: the token endpoint, and the check that a call carries a token it issued.
//!
//! A refresh-token grant gives a seller token; a client-credentials grant with the notifications
//! scope gives a grantless one. Tokens never expire here. It must never log or echo the
//! credentials it is sent.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::Sim;
use crate::wire::url_pairs;
use crate::world::World;

/// POST /auth/o2/token (form body).
pub(crate) async fn token(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let form: BTreeMap<String, String> = url_pairs(&String::from_utf8_lossy(&body))
        .into_iter()
        .collect();
    let client = form.get("client_id") == Some(&sim.config.client_id)
        && form.get("client_secret") == Some(&sim.config.client_secret);
    let grantless = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("scope").map(String::as_str) == Some("sellingpartnerapi::notifications");
    let seller = form.get("grant_type").map(String::as_str) == Some("refresh_token")
        && form.get("refresh_token") == Some(&sim.config.refresh_token);
    if !(client && (grantless || seller)) {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            json!({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"}).to_string(),
        )
            .into_response();
    }
    let mut w = sim.world();
    let id = w.next_id();
    let t = if grantless {
        format!("Atza|sim-grantless-{id}")
    } else {
        format!("Atza|sim-access-{id}")
    };
    w.tokens.push(t.clone());
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({"access_token": t, "token_type": "bearer", "expires_in": 3600}).to_string(),
    )
        .into_response()
}

/// The call carries, in `x-amz-access-token`, a token this world issued, of the kind the
/// operation takes (grantless or the seller's).
pub(crate) fn authorized(w: &World, headers: &HeaderMap, grantless: bool) -> bool {
    headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            w.tokens.iter().any(|k| k == t) && t.starts_with("Atza|sim-grantless-") == grantless
        })
}
