//! Login with Amazon: the token endpoint, and the check that a call carries a token it issued.
//!
//! A refresh-token grant gives a seller token; a client-credentials grant with the notifications
//! scope gives a grantless one. A token is valid for an hour of virtual time from its issue, as
//! the answer's `expires_in` says. A call without a valid token is refused with 403
//! Unauthorized, as Amazon does (the models declare no 401; their 403 lists "Expired Token"
//! among its reasons). It must never log or echo the credentials it is sent.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Sim;
use crate::wire::{Now, unauthorized, url_pairs};
use crate::world::World;

/// How long an access token is valid.
const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_secs(3600);

const GRANTLESS_PREFIX: &str = "Atza|sim-grantless-";

/// POST /auth/o2/token (form body).
pub(crate) async fn token(State(sim): State<Arc<Sim>>, Now(now): Now, body: Bytes) -> Response {
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
        format!("{GRANTLESS_PREFIX}{id}")
    } else {
        format!("Atza|sim-access-{id}")
    };
    w.tokens.push((t.clone(), now));
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({"access_token": t, "token_type": "bearer", "expires_in": TOKEN_LIFETIME.as_secs()})
            .to_string(),
    )
        .into_response()
}

/// Amazon's 403 body for a call whose `x-amz-access-token` is not a token this world issued, of
/// the kind the operation takes (grantless or the seller's), less than an hour before `now`;
/// `None` when the token is good.
pub(crate) fn refusal(
    w: &World,
    headers: &HeaderMap,
    grantless: bool,
    now: Timestamp,
) -> Option<Value> {
    let denied = unauthorized;
    let Some(token) = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
    else {
        return Some(denied(""));
    };
    let issued = w.tokens.iter().find(|(t, _)| t == token).map(|(_, at)| *at);
    match issued {
        None => Some(denied(
            "The access token you provided is revoked, malformed or invalid.",
        )),
        Some(_) if token.starts_with(GRANTLESS_PREFIX) != grantless => Some(denied("")),
        Some(at) if now >= at + TOKEN_LIFETIME => {
            Some(denied("The access token you provided has expired."))
        }
        Some(_) => None,
    }
}
