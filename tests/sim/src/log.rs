//! The request log: one JSON line per request (time, method, path, query, status, operation,
//! and the body of a POST, PUT or PATCH), beside the world's own action lines. The scenario
//! checks judge kenzen from it alone.
//!
//! A layer around every route: it plays the world's due actions, stamps the request with the
//! virtual time it is served at, and logs it with its answer (and the path as sent, before
//! `server` trimmed its slashes). It must never log the token
//! exchange's body (it carries the LWA credentials).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Sim;
use crate::op::Op;
use crate::wire::{Now, iso};

/// Marks a call that was processed but whose answer was lost; holds the status the caller
/// would have seen. The log records it, so the runner can tell a retry after a lost answer
/// from a duplicate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnswerLost(pub(crate) u16);

/// Marks a call at which the caller crashed (an armed crash point): processed with this status
/// first, or not at all. The call is logged, then never answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Crashed(pub(crate) Option<u16>);

/// Serves one request and logs it.
pub(crate) async fn record(
    State(sim): State<Arc<Sim>>,
    OriginalUri(uri): OriginalUri,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    // Read whole, within axum's default body limit (a 413 past it, unlogged).
    let body = match Bytes::from_request(Request::new(body), &()).await {
        Ok(b) => b,
        Err(rejection) => return rejection.into_response(),
    };
    sim.advance();
    let now = sim.clock.now();
    let method = parts.method.clone();
    let mut req = Request::from_parts(parts, Body::from(body.clone()));
    req.extensions_mut().insert(Now(now));
    let mut resp = next.run(req).await;
    // A refused token is named in the log (the runner judges calls made with a bad token).
    let mut token_refused = None;
    if resp.status() == StatusCode::FORBIDDEN || resp.status() == StatusCode::UNAUTHORIZED {
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let details = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["errors"][0]["details"].as_str().map(str::to_string))
            .filter(|d| d.contains("access token"));
        token_refused = details;
        resp = Response::from_parts(parts, Body::from(bytes));
    }
    let op = resp
        .extensions()
        .get::<Op>()
        .copied()
        .unwrap_or(Op::Unknown);
    let mut line = json!({
        "time": iso(now),
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query().unwrap_or(""),
        "status": resp.status().as_u16(),
        "operation": op.id(),
    });
    if let Some(d) = token_refused {
        line["token_refused"] = json!(d);
    }
    let crashed = resp.extensions().get::<Crashed>().copied();
    if let Some(Crashed(processed)) = crashed {
        line["crashed"] = json!(true);
        match processed {
            Some(p) => line["processed_status"] = json!(p),
            None => line["status"] = json!(0),
        }
    }
    if let Some(lost) = resp.extensions().get::<AnswerLost>() {
        // Processed (with this status), but the caller saw `status`.
        line["processed_status"] = json!(lost.0);
    }
    if method == Method::POST || method == Method::PUT || method == Method::PATCH {
        let text = String::from_utf8_lossy(&body).into_owned();
        line["body"] = if uri.path().trim_end_matches('/') == "/auth/o2/token" {
            Value::String("(credentials withheld)".into())
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
    }
    sim.world().log.push(line);
    if crashed.is_some() {
        sim.crash().await;
    }
    resp
}
