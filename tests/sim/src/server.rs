//! The HTTP side: one axum route per operation, and the guard every route passes.
//!
//! An SP-API call is checked in Amazon's order before its handler runs: the access token (403),
//! the operation's rate (429), the role the operation needs (403), then the configured random
//! failures and the scripted wrong answers. The token endpoint and the document URLs take no token. Anything else (an unknown
//! path, a method the path does not take, HEAD) is the `unknown` operation's 404.
//!
//! It must not hold an operation's logic: that is in the API's module.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::ALLOW;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, patch, post, put};
use jiff::Timestamp;

use crate::FaultSide;
use crate::log::{AnswerLost, Crashed};
use crate::op::Op;
use crate::wire::{Now, amazon_headers, errors, json_response, quota_exceeded, unauthorized};
use crate::{
    Sim, faults, feeds, listings, log, lwa, messaging, notifications, orders, rate, reports,
};

/// The simulator's HTTP service: the API router with the log around every route, inside a
/// router that only normalizes (it runs before routing, which a layer on the API router cannot).
pub(crate) fn app(sim: Arc<Sim>) -> Router {
    let s = &sim;
    let api = Router::new()
        .route("/auth/o2/token", op(s, Op::LwaToken, post(lwa::token)))
        .route(
            "/sim-docs/{documentId}",
            op(s, Op::UploadDocument, put(feeds::upload_document)),
        )
        .route(
            "/sim-docs/{documentId}",
            op(s, Op::DownloadDocument, get(feeds::download_document)),
        )
        .route(
            "/sim-report-docs/{reportDocumentId}",
            op(
                s,
                Op::DownloadDocument,
                get(reports::download_report_document),
            ),
        )
        .route(
            "/orders/2026-01-01/orders",
            op(s, Op::SearchOrders, get(orders::search_orders)),
        )
        .route(
            "/orders/2026-01-01/orders/{orderId}",
            op(s, Op::GetOrder, get(orders::get_order)),
        )
        .route(
            "/messaging/v1/orders/{amazonOrderId}",
            op(s, Op::GetMessagingActionsForOrder, get(messaging::actions)),
        )
        .route(
            "/messaging/v1/orders/{amazonOrderId}/attributes",
            op(s, Op::GetAttributes, get(messaging::attributes)),
        )
        .route(
            "/messaging/v1/orders/{amazonOrderId}/messages/unexpectedProblem",
            op(
                s,
                Op::CreateUnexpectedProblem,
                post(messaging::unexpected_problem),
            ),
        )
        .route(
            "/feeds/2021-06-30/documents",
            op(s, Op::CreateFeedDocument, post(feeds::create_feed_document)),
        )
        .route(
            "/feeds/2021-06-30/feeds",
            op(s, Op::CreateFeed, post(feeds::create_feed)),
        )
        .route(
            "/feeds/2021-06-30/feeds",
            op(s, Op::GetFeeds, get(feeds::get_feeds)),
        )
        .route(
            "/feeds/2021-06-30/feeds/{feedId}",
            op(s, Op::GetFeed, get(feeds::get_feed)),
        )
        .route(
            "/feeds/2021-06-30/documents/{feedDocumentId}",
            op(s, Op::GetFeedDocument, get(feeds::get_feed_document)),
        )
        .route(
            "/listings/2021-08-01/items/{sellerId}/{sku}",
            op(
                s,
                Op::PatchListingsItem,
                patch(listings::patch_listings_item),
            ),
        )
        .route(
            "/listings/2021-08-01/items/{sellerId}/{sku}",
            op(s, Op::GetListingsItem, get(listings::get_listings_item)),
        )
        .route(
            "/notifications/v1/destinations",
            op(s, Op::GetDestinations, get(notifications::get_destinations)),
        )
        .route(
            "/notifications/v1/destinations",
            op(
                s,
                Op::CreateDestination,
                post(notifications::create_destination),
            ),
        )
        .route(
            "/notifications/v1/subscriptions/{notificationType}",
            op(s, Op::GetSubscription, get(notifications::get_subscription)),
        )
        .route(
            "/notifications/v1/subscriptions/{notificationType}",
            op(
                s,
                Op::CreateSubscription,
                post(notifications::create_subscription),
            ),
        )
        .route(
            "/reports/2021-06-30/reports",
            op(s, Op::CreateReport, post(reports::create_report)),
        )
        .route(
            "/reports/2021-06-30/reports/{reportId}",
            op(s, Op::GetReport, get(reports::get_report)),
        )
        .route(
            "/reports/2021-06-30/documents/{reportDocumentId}",
            op(s, Op::GetReportDocument, get(reports::get_report_document)),
        )
        .method_not_allowed_fallback(unknown)
        .fallback(unknown)
        .layer(middleware::from_fn_with_state(sim.clone(), log::record))
        .with_state(sim.clone());
    Router::new()
        .fallback_service(api)
        .layer(middleware::from_fn(normalize))
}

/// `route` as operation `op`: behind the guard.
fn op(sim: &Arc<Sim>, op: Op, route: MethodRouter<Arc<Sim>>) -> MethodRouter<Arc<Sim>> {
    route.route_layer(middleware::from_fn_with_state((sim.clone(), op), guard))
}

/// Checks an SP-API call before its handler (token, rate, faults), gives the handler's JSON
/// answer the operation's headers, and names the operation for the log.
async fn guard(
    State((sim, op)): State<(Arc<Sim>, Op)>,
    Now(now): Now,
    req: Request,
    next: Next,
) -> Response {
    // No operation takes HEAD; axum would answer it from the GET handler.
    if req.method() == Method::HEAD {
        return unknown().await;
    }
    // The LWA token endpoint can fail too (fault rules naming `lwaToken`), before or after it
    // issues a token; it has no rate limit or token check of its own.
    let lwa_fault = |side| {
        let mut w = sim.world();
        faults::random(&sim.config.fault_rates, &mut w, op, now, side)
    };
    let mut resp = if op == Op::LwaToken {
        match lwa_fault(FaultSide::Before) {
            Some((status, body)) => json_response(status, &body, op),
            None => {
                let resp = next.run(req).await;
                match lwa_fault(FaultSide::After) {
                    Some((status, body)) => json_response(status, &body, op),
                    None => resp,
                }
            }
        }
    } else if !op.is_spapi() {
        next.run(req).await
    } else if let Some(refused) = refusal(&sim, op, req.headers(), now) {
        refused
    } else {
        // An armed crash point: the caller dies here, before or after Amazon processed it.
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let crash = sim.take_crash(op.id(), parts.uri.path(), &body);
        let req = Request::from_parts(parts, axum::body::Body::from(body));
        if let Some(c) = &crash
            && !c.after
        {
            // Never processed: the caller dies first (the log layer signals it).
            let mut resp = json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &errors("InternalFailure", "caller crashed"),
                op,
            );
            resp.extensions_mut().insert(Crashed(None));
            resp.extensions_mut().insert(op);
            return resp;
        }
        let mut resp = next.run(req).await;
        if crash.is_some() {
            let processed = resp.status().as_u16();
            resp.extensions_mut().insert(Crashed(Some(processed)));
        }
        amazon_headers(&mut resp, op);
        // The call was processed; its answer may still be lost on the way back.
        let lost = {
            let mut w = sim.world();
            faults::random(&sim.config.fault_rates, &mut w, op, now, FaultSide::After)
        };
        match lost {
            Some((status, body)) => {
                let processed = resp.status().as_u16();
                let mut lost = json_response(status, &body, op);
                lost.extensions_mut().insert(AnswerLost(processed));
                lost
            }
            None => resp,
        }
    };
    resp.extensions_mut().insert(op);
    resp
}

/// How Amazon would refuse or fail this SP-API call before its handler, if it would.
fn refusal(sim: &Sim, op: Op, headers: &HeaderMap, now: Timestamp) -> Option<Response> {
    let mut w = sim.world();
    if let Some(body) = lwa::refusal(&w, headers, op.grantless(), now) {
        return Some(json_response(StatusCode::FORBIDDEN, &body, op));
    }
    if !rate::take(&mut w.buckets, op, now) {
        return Some(json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &quota_exceeded(),
            op,
        ));
    }
    // A role the application lacks: Amazon's 403, whatever the call asks for (the refused call
    // still counts against the operation's rate).
    if op
        .role()
        .is_some_and(|r| sim.config.missing_roles.contains(&r))
    {
        return Some(json_response(StatusCode::FORBIDDEN, &unauthorized(""), op));
    }
    if let Some((status, body)) =
        faults::random(&sim.config.fault_rates, &mut w, op, now, FaultSide::Before)
    {
        return Some(json_response(status, &body, op));
    }
    if let Some((status, body)) = faults::scripted(&mut w, op) {
        return Some((status, [("content-type", op.content_type())], body).into_response());
    }
    None
}

/// The answer to anything the simulator does not serve.
async fn unknown() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &errors("NotFound", "No such operation"),
        Op::Unknown,
    )
}

/// The simulator's two routing rules that axum does not have: leading and trailing slashes do
/// not matter (`//a/b/` is `/a/b`), and a method a path does not take gets the plain unknown
/// 404, without the `Allow` header axum adds to it.
async fn normalize(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let trimmed = format!("/{}", path.trim_matches('/'));
    if trimmed != path {
        let target = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = target.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    let mut resp = next.run(req).await;
    resp.headers_mut().remove(ALLOW);
    resp
}
