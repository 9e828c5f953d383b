//! Feeds API 2021-06-30 for the one feed kenzen sends, POST_ORDER_ACKNOWLEDGEMENT_DATA (order
//! acknowledgements and cancellations): feed documents and their presigned URLs (`/sim-docs/…`,
//! no token, as presigned URLs take none), creating a feed, listing the feeds created
//! (getFeeds, newest first, a page at a time), and reading a feed's status and report.
//!
//! An upload URL is signed for the content type given to createFeedDocument, as S3 signs it: a
//! PUT with another Content-Type is refused with S3's 403. Feeds leave the queue after their
//! delay (or after `feed_stuck_until`) and are processed in queue order when any feed is next
//! read, and a document is read as strictly as Amazon's schema reads it. A document that is not well-formed UTF-8 XML, or whose root is not
//! `AmazonEnvelope`, ends the feed FATAL; a wrong header (another merchant) or message type fails
//! the whole document. A message that breaks the schema, names an unknown order or item, or
//! cancels what is already cancelled or shipped is an error for that message alone and changes
//! nothing. `StatusCode` Failure cancels the items listed (the whole order when none are),
//! Success cancels nothing; cancelled units go back to the offer unless the reason is
//! NoInventory. The gzip report, in the configured charset, has a result line per failed
//! message (message 0 for an error of the whole document, as Amazon writes it);
//! `SimConfig::feed_outcome` can make a feed end otherwise.
//!
//! A feed applies to the one marketplace its `marketplaceIds` names (a marketplace the seller
//! sells in). Amazon refuses several for most feed types ("Invalid request parameters"), so the
//! simulator refuses more than one for this feed too; and an order placed in another marketplace
//! than the feed's is an error for that message.
//!
//! It must not cancel anything a feed does not name, nor apply any part of a message in error.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::wire::{Answer, Now, Query, QueryNames, Raw, iso};
use crate::world::{Feed, FeedQuery, World};
use crate::{FeedOutcome, ReportCharset, Sim, SimConfig};

/// The one feed type the simulator takes.
const FEED_TYPE: &str = "POST_ORDER_ACKNOWLEDGEMENT_DATA";
/// How processing reports' document ids begin (the rest are feed input documents).
const REPORT_PREFIX: &str = "amzn1.tortuga.4.fe.report-";
/// The CancelReason values of Amazon's order acknowledgement schema.
const CANCEL_REASONS: [&str; 10] = [
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "BuyerCanceled",
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
];

/// POST /feeds/2021-06-30/documents
pub(crate) async fn create_feed_document(State(sim): State<Arc<Sim>>, body: Bytes) -> Answer {
    let content_type = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("contentType")?.as_str().map(str::to_string))
        .filter(|c| !c.trim().is_empty());
    let Some(content_type) = content_type else {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "contentType is required.",
        );
    };
    let mut w = sim.world();
    let id = format!("amzn1.tortuga.4.fe.doc-{}", w.next_id());
    w.documents.insert(id.clone(), None);
    let url = format!(
        "{}/sim-docs/{id}?X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature={}",
        sim.base_url(),
        signature(&sim.config, &id, &content_type)
    );
    Answer(
        StatusCode::CREATED,
        json!({"feedDocumentId": id, "url": url}),
    )
}

/// POST /feeds/2021-06-30/feeds
pub(crate) async fn create_feed(State(sim): State<Arc<Sim>>, Now(now): Now, body: Bytes) -> Answer {
    let spec: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let doc = spec
        .get("inputFeedDocumentId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let feed_type = spec.get("feedType").and_then(Value::as_str).unwrap_or("");
    let marketplaces: Vec<&str> = spec
        .get("marketplaceIds")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().map(|id| id.as_str().unwrap_or("")).collect())
        .unwrap_or_default();
    let marketplace = match marketplaces.as_slice() {
        [one] if sim.config.sells_in(one) => one.to_string(),
        [_] | [] => {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "marketplaceIds must name only marketplaces the seller sells in.",
            );
        }
        _ => {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "Invalid request parameters: this feed type takes one marketplace in \
                 marketplaceIds.",
            );
        }
    };
    let mut w = sim.world();
    if feed_type != FEED_TYPE
        || doc.starts_with(REPORT_PREFIX)
        || !matches!(w.documents.get(doc), Some(Some(_)))
    {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Unknown feed type, or the feed document was not uploaded.",
        );
    }
    let id = format!("{}", 50_000_000_000u64 + w.next_id());
    w.feeds.insert(
        id.clone(),
        Feed {
            id: id.clone(),
            marketplace,
            created: now,
            document_id: doc.to_string(),
            status: "IN_QUEUE",
            result_document_id: None,
        },
    );
    Answer(StatusCode::ACCEPTED, json!({"feedId": id}))
}

/// GET /feeds/2021-06-30/feeds/{feedId}
pub(crate) async fn get_feed(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([feed_id]): Raw<1>,
) -> Answer {
    let mut w = sim.world();
    process_due(&sim, &mut w, now);
    let Some(f) = w.feeds.get(&feed_id) else {
        return Answer::error(StatusCode::NOT_FOUND, "NotFound", "Feed not found.");
    };
    Answer::ok(feed_json(&sim.config, f))
}

/// GET /feeds/2021-06-30/feeds: the feeds the application created that match the filters,
/// newest first, a page at a time. As the model says: `feedTypes` or `nextToken` is required,
/// and `nextToken` comes alone; `feedTypes` and `marketplaceIds` take 1 to 10 values,
/// `processingStatuses` only the model's statuses, `pageSize` 1 to 100 (default 10); feeds
/// are kept 90 days, so `createdSince` (default: 90 days ago) may be no older.
pub(crate) async fn get_feeds(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    query: Query,
    names: QueryNames,
) -> Result<Answer, Answer> {
    names.only(&[
        "feedTypes",
        "marketplaceIds",
        "pageSize",
        "processingStatuses",
        "createdSince",
        "createdUntil",
        "nextToken",
    ])?;
    let q = &query.0;
    let mut w = sim.world();
    let mut page = match q.get("nextToken") {
        Some(token) => {
            if q.len() > 1 {
                return Err(bad(
                    "nextToken must be the only parameter when it is given.",
                ));
            }
            w.feed_pages
                .get(token)
                .cloned()
                .ok_or_else(|| bad("Invalid nextToken."))?
        }
        None => feed_query(q, now)?,
    };
    process_due(&sim, &mut w, now);
    let mut matching: Vec<&Feed> = w
        .feeds
        .values()
        .filter(|f| {
            page.feed_types.iter().any(|t| t == FEED_TYPE)
                && page
                    .marketplaces
                    .as_ref()
                    .is_none_or(|m| m.contains(&f.marketplace))
                && page
                    .statuses
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|s| s == f.status))
                && f.created >= page.since
                && f.created <= page.until
                && f.created >= now - RETENTION
        })
        .collect();
    let number = |id: &str| id.parse::<u64>().unwrap_or(u64::MAX);
    matching.sort_by_key(|f| std::cmp::Reverse((f.created, number(&f.id))));
    let feeds: Vec<Value> = matching
        .iter()
        .skip(page.offset)
        .take(page.page_size)
        .map(|f| feed_json(&sim.config, f))
        .collect();
    let more = matching.len() > page.offset + page.page_size;
    let mut body = json!({ "feeds": feeds });
    if more {
        page.offset += page.page_size;
        let token = format!("sim-feeds-next-{}", w.next_id());
        w.feed_pages.insert(token.clone(), page);
        body["nextToken"] = json!(token);
    }
    Ok(Answer::ok(body))
}

/// How long Amazon keeps feeds: getFeeds lists none older.
const RETENTION: SignedDuration = SignedDuration::from_hours(90 * 24);

/// The processing statuses of the model.
const STATUSES: [&str; 5] = ["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"];

fn bad(message: &str) -> Answer {
    Answer::error(StatusCode::BAD_REQUEST, "InvalidInput", message)
}

/// A first getFeeds page's query, checked as the model says.
fn feed_query(q: &BTreeMap<String, String>, now: Timestamp) -> Result<FeedQuery, Answer> {
    let list = |name: &str, max: usize| -> Result<Option<Vec<String>>, Answer> {
        let Some(v) = q.get(name) else {
            return Ok(None);
        };
        let values: Vec<String> = v.split(',').map(str::to_string).collect();
        if values.iter().any(String::is_empty) || values.len() > max {
            return Err(bad(&format!(
                "{name} takes 1 to {max} comma-separated values."
            )));
        }
        Ok(Some(values))
    };
    let feed_types =
        list("feedTypes", 10)?.ok_or_else(|| bad("Either feedTypes or nextToken is required."))?;
    let marketplaces = list("marketplaceIds", 10)?;
    let statuses = list("processingStatuses", STATUSES.len())?;
    if let Some(s) = statuses
        .iter()
        .flatten()
        .find(|s| !STATUSES.contains(&s.as_str()))
    {
        return Err(bad(&format!("Invalid processingStatuses: {s}.")));
    }
    let page_size = match q.get("pageSize") {
        None => 10,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| bad("pageSize must be an integer from 1 to 100."))?,
    };
    let time = |name: &str| -> Result<Option<Timestamp>, Answer> {
        q.get(name)
            .map(|v| {
                v.parse::<Timestamp>()
                    .map_err(|_| bad(&format!("{name} {v:?} is not an ISO 8601 date-time.")))
            })
            .transpose()
    };
    let since = time("createdSince")?.unwrap_or(now - RETENTION);
    if since < now - RETENTION {
        return Err(bad(
            "createdSince cannot be more than 90 days in the past: feeds are kept 90 days.",
        ));
    }
    let until = time("createdUntil")?.unwrap_or(now);
    if until < since {
        return Err(bad("createdUntil cannot be before createdSince."));
    }
    Ok(FeedQuery {
        feed_types,
        marketplaces,
        statuses,
        since,
        until,
        page_size,
        offset: 0,
    })
}

/// A feed as getFeed and getFeeds describe it.
fn feed_json(config: &SimConfig, f: &Feed) -> Value {
    let mut body = json!({
        "feedId": f.id,
        "feedType": FEED_TYPE,
        "marketplaceIds": [f.marketplace],
        "createdTime": iso(f.created),
        "processingStatus": f.status,
    });
    if matches!(f.status, "DONE" | "FATAL") {
        let ended = iso(ready_at(config, f));
        body["processingStartTime"] = json!(ended);
        body["processingEndTime"] = json!(ended);
    }
    if let Some(d) = &f.result_document_id {
        body["resultFeedDocumentId"] = json!(d);
    }
    body
}

/// GET /feeds/2021-06-30/documents/{feedDocumentId}
pub(crate) async fn get_feed_document(
    State(sim): State<Arc<Sim>>,
    Raw([doc_id]): Raw<1>,
) -> Answer {
    let w = sim.world();
    match w.documents.get(&doc_id) {
        Some(Some(_)) => {
            let mut body = json!({
                "feedDocumentId": doc_id,
                "url": format!("{}/sim-docs/{doc_id}", sim.base_url()),
            });
            if doc_id.starts_with(REPORT_PREFIX) {
                body["compressionAlgorithm"] = json!("GZIP");
            }
            Answer::ok(body)
        }
        _ => Answer::error(StatusCode::NOT_FOUND, "NotFound", "Document not found."),
    }
}

/// PUT /sim-docs/{documentId}: the upload URL createFeedDocument gave out, signed for the
/// content type it was asked for.
pub(crate) async fn upload_document(
    State(sim): State<Arc<Sim>>,
    Raw([doc_id]): Raw<1>,
    query: Query,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let sent = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut w = sim.world();
    let Some(given) = query.0.get("X-Amz-Signature") else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");
    };
    if *given != signature(&sim.config, &doc_id, sent) {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        );
    }
    match w.documents.get_mut(&doc_id) {
        Some(slot) => {
            *slot = Some(body.to_vec());
            StatusCode::OK.into_response()
        }
        None => s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
    }
}

/// GET /sim-docs/{documentId}: the download URL getFeedDocument gave out. A report is gzip
/// bytes, its charset named in its content type.
pub(crate) async fn download_document(
    State(sim): State<Arc<Sim>>,
    Raw([doc_id]): Raw<1>,
) -> Response {
    let w = sim.world();
    match w.documents.get(&doc_id) {
        Some(Some(bytes)) => {
            let content_type = if !doc_id.starts_with(REPORT_PREFIX) {
                "application/octet-stream"
            } else if sim.config.report_charset == ReportCharset::Windows31J {
                "text/xml; charset=windows-31j"
            } else {
                "text/xml; charset=UTF-8"
            };
            ([(CONTENT_TYPE, content_type)], bytes.clone()).into_response()
        }
        _ => s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

/// An error as S3 answers it behind a presigned URL.
pub(crate) fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>sim-request</RequestId></Error>"
    );
    (status, [(CONTENT_TYPE, "application/xml")], body).into_response()
}

/// What the upload URL of `doc_id` is signed with: the document and the content type it must be
/// sent with (trimmed, runs of spaces as one, as SigV4 reads a header), keyed by this world's
/// client secret. FNV-1a: any fixed hash will do for a simulator.
pub(crate) fn signature(config: &SimConfig, doc_id: &str, content_type: &str) -> String {
    let canonical = content_type
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = config
        .client_secret
        .bytes()
        .chain([0])
        .chain(doc_id.bytes())
        .chain([0])
        .chain(canonical.bytes());
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// When a feed leaves the queue: its delay after creation, or later while feeds are stuck.
fn ready_at(config: &SimConfig, feed: &Feed) -> Timestamp {
    let ready = feed.created + config.feed_delay;
    match config.feed_stuck_until {
        Some(until) if feed.created < until => ready.max(until),
        _ => ready,
    }
}

/// The outcome configured for `feed`: `feed_outcome` for the first `feed_outcome_feeds` feeds.
fn outcome_of(config: &SimConfig, w: &World, feed: &Feed) -> FeedOutcome {
    let number = |id: &str| id.parse::<u64>().unwrap_or(u64::MAX);
    let ordinal = w
        .feeds
        .keys()
        .filter(|id| number(id) <= number(&feed.id))
        .count();
    match config.feed_outcome_feeds {
        Some(n) if ordinal > n as usize => FeedOutcome::AsSent,
        _ => config.feed_outcome,
    }
}

/// Processes every feed whose queue time is over, in queue order, whether or not anyone reads
/// it: a feed left unread still cancels what it names before a later feed is processed.
pub(crate) fn process_due(sim: &Sim, w: &mut World, now: Timestamp) {
    let number = |id: &str| id.parse::<u64>().unwrap_or(u64::MAX);
    let mut due: Vec<(Timestamp, u64, String)> = w
        .feeds
        .values()
        .filter(|f| f.status == "IN_QUEUE")
        .map(|f| (ready_at(&sim.config, f), number(&f.id), f.id.clone()))
        .filter(|(ready, _, _)| *ready <= now)
        .collect();
    due.sort();
    for (_, _, id) in due {
        process_feed(sim, w, &id, now);
    }
}

/// Processes a feed whose queue time is over: applies each message it may, and writes the
/// report its outcome calls for.
fn process_feed(sim: &Sim, w: &mut World, feed_id: &str, now: Timestamp) {
    let Some(feed) = w.feeds.get(feed_id).cloned() else {
        return;
    };
    if feed.status != "IN_QUEUE" || now < ready_at(&sim.config, &feed) {
        return;
    }
    let outcome = outcome_of(&sim.config, w, &feed);
    let (status, report) = match outcome {
        FeedOutcome::Cancelled => ("CANCELLED", None),
        FeedOutcome::Fatal { report } => {
            ("FATAL", report.then(|| Report::whole(Problem::Internal)))
        }
        FeedOutcome::DocumentError => (
            "DONE",
            Some(Report::whole(Problem::Unreadable(
                "XML Parsing Fatal Error at Line 1, Column 1: the document could not be read."
                    .into(),
            ))),
        ),
        FeedOutcome::AsSent | FeedOutcome::SummaryOnly => {
            let xml = w
                .documents
                .get(&feed.document_id)
                .cloned()
                .flatten()
                .unwrap_or_default();
            match read_feed(&xml, &sim.config.seller_id) {
                Err(Unread::Fatal(what)) => {
                    ("FATAL", Some(Report::whole(Problem::Unreadable(what))))
                }
                Err(Unread::Document(what)) => {
                    ("DONE", Some(Report::whole(Problem::Unreadable(what))))
                }
                Ok(messages) => {
                    let mut report = Report {
                        processed: messages.len(),
                        summary_only: outcome == FeedOutcome::SummaryOnly,
                        ..Report::default()
                    };
                    for m in messages {
                        let result = m.and_then(|ack| {
                            apply(sim, w, &ack, &feed, now).map_err(|problem| Broken {
                                message_id: Some(ack.message_id.clone()),
                                order_id: Some(ack.order_id.clone()),
                                problem,
                            })
                        });
                        if let Err(b) = result {
                            report.fail(b);
                        }
                    }
                    ("DONE", Some(report))
                }
            }
        }
    };
    let doc_id = report.map(|r| {
        let doc_id = format!("{REPORT_PREFIX}{}", w.next_id());
        let bytes = r.render(&sim.config, feed_id);
        w.documents.insert(doc_id.clone(), Some(bytes));
        doc_id
    });
    if let Some(f) = w.feeds.get_mut(feed_id) {
        f.status = status;
        f.result_document_id = doc_id;
    }
}

/// Applies one readable message of `feed` to the world, all or nothing.
fn apply(sim: &Sim, w: &mut World, ack: &Ack, feed: &Feed, now: Timestamp) -> Result<(), Problem> {
    let feed_id = feed.id.as_str();
    let Some(o) = w.orders.get_mut(&ack.order_id).filter(|o| o.created <= now) else {
        return Err(Problem::UnknownOrder);
    };
    let marketplace = o.marketplace(&sim.config).to_string();
    if marketplace != feed.marketplace {
        return Err(Problem::OtherMarketplace(marketplace));
    }
    if o.feed_errors > 0 {
        o.feed_errors -= 1;
        return Err(Problem::Internal);
    }
    if !ack.failure {
        // Success acknowledges the order: nothing to change that the Orders API shows.
        return Ok(());
    }
    match o.status {
        "UNSHIPPED" => {}
        "CANCELLED" => return Err(Problem::AlreadyCancelled),
        other => return Err(Problem::NotCancellable(other)),
    }
    // (order item id, reason): those listed, or every item still open when none are.
    let mut cancel: Vec<(String, String)> = Vec::new();
    if ack.items.is_empty() {
        cancel = o
            .items
            .iter()
            .filter(|i| !o.cancelled_items.contains_key(&i.order_item_id))
            .map(|i| (i.order_item_id.clone(), String::new()))
            .collect();
    }
    for (code, reason) in &ack.items {
        if !o.items.iter().any(|i| i.order_item_id == *code) {
            return Err(Problem::UnknownItem(code.clone()));
        }
        if cancel.iter().any(|(c, _)| c == code) {
            return Err(Problem::ItemTwice(code.clone()));
        }
        if o.cancelled_items.contains_key(code) {
            return Err(Problem::ItemAlreadyCancelled(code.clone()));
        }
        let Some(reason) = reason else {
            return Err(Problem::NoReason(code.clone()));
        };
        cancel.push((code.clone(), reason.clone()));
    }
    let mut returned: Vec<(String, i64)> = Vec::new();
    for (code, reason) in &cancel {
        o.cancelled_items.insert(code.clone(), reason.clone());
        // What the cancel rate will make of it: exempt only for the buyer's own request.
        let requested = o.buyer_request.is_some()
            && o.request_items
                .as_ref()
                .is_none_or(|items| items.contains(code));
        if reason == "BuyerCanceled" && requested {
            o.buyer_requested_cancels.insert(code.clone());
        }
        if reason != "NoInventory"
            && let Some(item) = o.items.iter().find(|i| i.order_item_id == *code)
        {
            returned.push((item.sku.clone(), i64::from(item.quantity)));
        }
    }
    o.last_updated = now;
    let reason = cancel.first().map(|(_, r)| r.clone()).unwrap_or_default();
    let all = o
        .items
        .iter()
        .all(|i| o.cancelled_items.contains_key(&i.order_item_id));
    if all {
        o.status = "CANCELLED";
        o.cancel = Some(("MERCHANT".into(), reason.clone()));
        w.log.push(json!({
            "time": iso(now), "actor": "marketplace", "action": "cancelExecuted",
            "orderId": ack.order_id, "cancelReason": reason, "feedId": feed_id
        }));
    } else {
        for (code, reason) in &cancel {
            w.log.push(json!({
                "time": iso(now), "actor": "marketplace", "action": "itemCancelExecuted",
                "orderId": ack.order_id, "orderItemId": code, "cancelReason": reason,
                "feedId": feed_id
            }));
        }
    }
    for (sku, n) in returned {
        if let Some(q) = w.offers.get_mut(&crate::world::offer(&marketplace, &sku)) {
            *q += n;
            w.log.push(json!({
                "time": iso(now), "actor": "marketplace", "action": "unitsReturnedToOffer",
                "sku": sku, "quantity": n
            }));
        }
    }
    Ok(())
}

/// Why a message, or the whole document, failed: its code and description in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    /// The document cannot be read at all (whole-document error).
    Unreadable(String),
    /// The message breaks the order acknowledgement schema (where, and how).
    Schema(String),
    UnknownOrder,
    /// The order was placed in this marketplace, not the feed's.
    OtherMarketplace(String),
    /// An internal error: one scripted for the order (`SimOrder::feed_errors`), or the one a
    /// FATAL feed's report gives.
    Internal,
    AlreadyCancelled,
    NotCancellable(&'static str),
    UnknownItem(String),
    ItemTwice(String),
    ItemAlreadyCancelled(String),
    NoReason(String),
}

impl Problem {
    /// The result code, and the description in English or (Amazon.co.jp's) Japanese.
    fn describe(&self, japanese: bool) -> (u32, String) {
        let (code, en, ja) = match self {
            Self::Unreadable(what) => (5001, what.clone(), what.clone()),
            Self::Schema(what) => (
                5000,
                format!("XML Parsing Error {what}"),
                format!("XMLの解析エラー {what}"),
            ),
            Self::UnknownOrder => (
                18028,
                "The order id was not found".into(),
                "注文番号が見つかりません".into(),
            ),
            Self::OtherMarketplace(m) => (
                18028,
                format!("The order was placed in marketplace {m}, not in the feed's marketplace"),
                format!("この注文はフィードのマーケットプレイスではなく {m} の注文です"),
            ),
            Self::Internal => (
                25,
                "We are unable to process the XML feed because of an internal error. Please \
                 resubmit the feed."
                    .into(),
                "内部エラーのため、XMLフィードを処理できません。フィードを再送信してください。"
                    .into(),
            ),
            Self::AlreadyCancelled => (
                18028,
                "The order cannot be cancelled: it is already cancelled".into(),
                "この注文はすでにキャンセルされているため、キャンセルできません".into(),
            ),
            Self::NotCancellable(status) => (
                18028,
                format!("The order cannot be cancelled: it is {status}"),
                format!("この注文はキャンセルできません（状態: {status}）"),
            ),
            Self::UnknownItem(item) => (
                18028,
                format!("The order has no item {item}"),
                format!("この注文に商品 {item} はありません"),
            ),
            Self::ItemTwice(item) => (
                18028,
                format!("Item {item} is listed more than once"),
                format!("商品 {item} が複数回指定されています"),
            ),
            Self::ItemAlreadyCancelled(item) => (
                18028,
                format!("Item {item} is already cancelled"),
                format!("商品 {item} はすでにキャンセルされています"),
            ),
            Self::NoReason(item) => (
                18028,
                format!("Item {item} is cancelled without a CancelReason"),
                format!("商品 {item} のキャンセル理由（CancelReason）がありません"),
            ),
        };
        (code, if japanese { ja } else { en })
    }
}

/// A message that failed, with what it names (when it names it readably).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Broken {
    message_id: Option<String>,
    order_id: Option<String>,
    problem: Problem,
}

/// A processing report: its counts and its result lines.
#[derive(Debug, Default)]
struct Report {
    processed: usize,
    failed: Vec<Broken>,
    /// Count the failures but list none of them.
    summary_only: bool,
}

impl Report {
    /// The report of a document that fails as a whole: nothing processed, one error that names
    /// no message and no order.
    fn whole(problem: Problem) -> Self {
        Self {
            processed: 0,
            failed: vec![Broken {
                message_id: None,
                order_id: None,
                problem,
            }],
            summary_only: false,
        }
    }

    fn fail(&mut self, b: Broken) {
        self.failed.push(b);
    }

    /// The report as its document holds it: XML in the configured charset, gzipped.
    fn render(&self, config: &SimConfig, feed_id: &str) -> Vec<u8> {
        use quick_xml::escape::partial_escape as escape;
        let japanese = config.report_charset == ReportCharset::Windows31J;
        let mut results = String::new();
        if !self.summary_only {
            for b in &self.failed {
                let (code, description) = b.problem.describe(japanese);
                // A whole-document error is reported for message 0, as Amazon does.
                let message_id = b.message_id.as_deref().unwrap_or("0");
                results.push_str(&format!(
                    "<Result><MessageID>{}</MessageID>",
                    escape(message_id)
                ));
                results.push_str(&format!(
                    "<ResultCode>Error</ResultCode><ResultMessageCode>{code}</ResultMessageCode>\
                     <ResultDescription>{}</ResultDescription>",
                    escape(description.as_str())
                ));
                if let Some(o) = &b.order_id {
                    results.push_str(&format!(
                        "<AdditionalInfo><AmazonOrderID>{}</AmazonOrderID></AdditionalInfo>",
                        escape(o.as_str())
                    ));
                }
                results.push_str("</Result>");
            }
        }
        let with_error = self.failed.len();
        let encoding = if japanese { "Windows-31J" } else { "UTF-8" };
        let report = format!(
            "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n<AmazonEnvelope \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:noNamespaceSchemaLocation=\"amzn-envelope.xsd\"><Header><DocumentVersion>1.02</DocumentVersion>\
             <MerchantIdentifier>{}</MerchantIdentifier></Header><MessageType>ProcessingReport</MessageType>\
             <Message><MessageID>1</MessageID><ProcessingReport><DocumentTransactionID>{}</DocumentTransactionID>\
             <StatusCode>Complete</StatusCode><ProcessingSummary><MessagesProcessed>{}</MessagesProcessed>\
             <MessagesSuccessful>{}</MessagesSuccessful><MessagesWithError>{with_error}</MessagesWithError>\
             <MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>{results}</ProcessingReport></Message></AmazonEnvelope>\n",
            escape(config.seller_id.as_str()),
            escape(feed_id),
            self.processed,
            self.processed.saturating_sub(with_error),
        );
        let bytes = if japanese {
            // encoding_rs's Shift_JIS is the WHATWG one, which is Windows-31J (its label).
            encoding_rs::SHIFT_JIS.encode(&report).0.into_owned()
        } else {
            report.into_bytes()
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = gz.write_all(&bytes);
        gz.finish().unwrap_or_default()
    }
}

/// An element of a feed document: its name, where it starts (byte offset), its text and its
/// child elements.
#[derive(Debug, Default)]
struct Element {
    name: String,
    at: usize,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Checks that the children follow `spec` in order, each `(name, min, max)` times, and
    /// that the element holds no text of its own (it is not a leaf).
    fn sequence(&self, spec: &[(&str, usize, usize)]) -> Result<(), String> {
        if !self.text.trim().is_empty() {
            return Err(format!("element '{}' cannot hold text", self.name));
        }
        let mut rest = self.children.iter().peekable();
        for (name, min, max) in spec {
            let mut n = 0;
            while n < *max && rest.peek().is_some_and(|c| c.name == *name) {
                rest.next();
                n += 1;
            }
            if n < *min {
                return Err(match rest.peek() {
                    Some(c) => format!("element '{}' found where '{name}' is expected", c.name),
                    None => format!("element '{}' lacks '{name}'", self.name),
                });
            }
        }
        match rest.next() {
            Some(c) => Err(format!(
                "element '{}' is not allowed here in '{}'",
                c.name, self.name
            )),
            None => Ok(()),
        }
    }

    /// The text of a leaf element (trimmed); an element inside it breaks the schema.
    fn leaf(&self) -> Result<String, String> {
        match self.children.first() {
            Some(c) => Err(format!(
                "element '{}' is not allowed in '{}'",
                c.name, self.name
            )),
            None => Ok(self.text.trim().to_string()),
        }
    }
}

/// Why a feed document cannot be read as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unread {
    /// Not well-formed XML, or not an `AmazonEnvelope`: the feed ends FATAL.
    Fatal(String),
    /// A readable envelope with a wrong header or message type: the report fails the document.
    Document(String),
}

/// One readable order acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    message_id: String,
    order_id: String,
    /// StatusCode Failure (cancel); Success is false.
    failure: bool,
    /// (AmazonOrderItemCode, CancelReason) per `Item`.
    items: Vec<(String, Option<String>)>,
}

/// Reads an order acknowledgement feed as Amazon's schema does: the envelope whole, then each
/// message readable or broken.
fn read_feed(xml: &[u8], seller_id: &str) -> Result<Vec<Result<Ack, Broken>>, Unread> {
    let text = std::str::from_utf8(xml).map_err(|e| {
        Unread::Fatal(format!(
            "XML Parsing Fatal Error at byte {}: the document is not UTF-8.",
            e.valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let at = |offset: usize| {
        let before = &text.as_bytes()[..offset.min(text.len())];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let column = before.len()
            - before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        format!("Line {line}, Column {column}")
    };
    let root = parse_document(text).map_err(|(offset, what)| {
        Unread::Fatal(format!("XML Parsing Fatal Error at {}: {what}", at(offset)))
    })?;
    if root.name != "AmazonEnvelope" {
        return Err(Unread::Fatal(format!(
            "XML Parsing Fatal Error at {}: the root element is '{}', not 'AmazonEnvelope'.",
            at(root.at),
            root.name
        )));
    }
    let doc_error = |el: &Element, what: String| {
        Unread::Document(format!("XML Parsing Fatal Error at {}: {what}", at(el.at)))
    };
    const MANY: usize = usize::MAX;
    root.sequence(&[
        ("Header", 1, 1),
        ("MessageType", 1, 1),
        ("MarketplaceName", 0, 1),
        ("PurgeAndReplace", 0, 1),
        ("EffectiveDate", 0, 1),
        ("Message", 1, MANY),
    ])
    .map_err(|e| doc_error(&root, e))?;
    let header = root.child("Header").unwrap_or(&root);
    header
        .sequence(&[("DocumentVersion", 1, 1), ("MerchantIdentifier", 1, 1)])
        .map_err(|e| doc_error(header, e))?;
    let version_el = header.child("DocumentVersion").unwrap_or(header);
    let version = version_el.leaf().map_err(|e| doc_error(version_el, e))?;
    let decimal = |s: &str| {
        let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
        [whole, frac]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if !decimal(&version) {
        return Err(doc_error(
            version_el,
            format!("DocumentVersion {version:?} is not a decimal number."),
        ));
    }
    let merchant_el = header.child("MerchantIdentifier").unwrap_or(header);
    let merchant = merchant_el.leaf().map_err(|e| doc_error(merchant_el, e))?;
    if merchant != seller_id {
        return Err(doc_error(
            merchant_el,
            format!("MerchantIdentifier {merchant:?} is not the merchant who sent the feed."),
        ));
    }
    let type_el = root.child("MessageType").unwrap_or(&root);
    let message_type = type_el.leaf().map_err(|e| doc_error(type_el, e))?;
    if message_type != "OrderAcknowledgement" {
        return Err(doc_error(
            type_el,
            format!(
                "MessageType {message_type:?} is not OrderAcknowledgement, the type of feed \
                 POST_ORDER_ACKNOWLEDGEMENT_DATA."
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    Ok(root
        .children
        .iter()
        .filter(|c| c.name == "Message")
        .map(|m| {
            read_message(m, &mut seen).map_err(|(message_id, order_id, what)| Broken {
                message_id,
                order_id,
                problem: Problem::Schema(format!("at {}: {what}", at(m.at))),
            })
        })
        .collect())
}

/// Reads one `Message`; `Err` has the ids it names readably and what breaks the schema.
fn read_message(
    m: &Element,
    seen: &mut BTreeSet<String>,
) -> Result<Ack, (Option<String>, Option<String>, String)> {
    let positive = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.bytes().any(|b| b != b'0')
    };
    let message_id = m
        .child("MessageID")
        .and_then(|e| e.leaf().ok())
        .filter(|s| positive(s));
    let ack_el = m.child("OrderAcknowledgement");
    let order_id = ack_el
        .and_then(|a| a.child("AmazonOrderID"))
        .and_then(|e| e.leaf().ok())
        .filter(|s| !s.is_empty());
    let broken = |what: String| (message_id.clone(), order_id.clone(), what);
    m.sequence(&[
        ("MessageID", 1, 1),
        ("OperationType", 0, 1),
        ("OrderAcknowledgement", 1, 1),
    ])
    .map_err(broken)?;
    let Some(id) = message_id.clone() else {
        let raw = m
            .child("MessageID")
            .map(|e| e.text.trim().to_string())
            .unwrap_or_default();
        return Err(broken(format!(
            "MessageID {raw:?} is not a positive integer"
        )));
    };
    if !seen.insert(id.clone()) {
        return Err(broken(format!(
            "MessageID {id} is used by an earlier message"
        )));
    }
    if let Some(op) = m.child("OperationType") {
        let op = op.leaf().map_err(broken)?;
        if !matches!(op.as_str(), "Update" | "Delete" | "PartialUpdate") {
            return Err(broken(format!("OperationType {op:?} is not allowed")));
        }
    }
    let ack = ack_el.unwrap_or(m);
    const MANY: usize = usize::MAX;
    ack.sequence(&[
        ("AmazonOrderID", 1, 1),
        ("MerchantOrderID", 0, 1),
        ("StatusCode", 1, 1),
        ("Item", 0, MANY),
    ])
    .map_err(broken)?;
    let Some(order) = order_id.clone() else {
        return Err(broken("AmazonOrderID is empty".into()));
    };
    if let Some(e) = ack.child("MerchantOrderID") {
        e.leaf().map_err(broken)?;
    }
    let status = ack
        .child("StatusCode")
        .map(Element::leaf)
        .transpose()
        .map_err(broken)?
        .unwrap_or_default();
    let failure = match status.as_str() {
        "Failure" => true,
        "Success" => false,
        other => {
            return Err(broken(format!(
                "StatusCode {other:?} is neither Success nor Failure"
            )));
        }
    };
    let mut items = Vec::new();
    for item in ack.children.iter().filter(|c| c.name == "Item") {
        item.sequence(&[
            ("AmazonOrderItemCode", 1, 1),
            ("MerchantOrderItemID", 0, 1),
            ("CancelReason", 0, 1),
        ])
        .map_err(broken)?;
        let code = item
            .child("AmazonOrderItemCode")
            .map(Element::leaf)
            .transpose()
            .map_err(broken)?
            .unwrap_or_default();
        if code.is_empty() {
            return Err(broken("AmazonOrderItemCode is empty".into()));
        }
        if let Some(e) = item.child("MerchantOrderItemID") {
            e.leaf().map_err(broken)?;
        }
        let reason = item
            .child("CancelReason")
            .map(Element::leaf)
            .transpose()
            .map_err(broken)?;
        if let Some(r) = &reason
            && !CANCEL_REASONS.contains(&r.as_str())
        {
            return Err(broken(format!(
                "CancelReason {r:?} is not one of {}",
                CANCEL_REASONS.join(", ")
            )));
        }
        items.push((code, reason));
    }
    Ok(Ack {
        message_id: id,
        order_id: order,
        failure,
        items,
    })
}

/// Parses a well-formed XML document (UTF-8, no DOCTYPE) into its root element; `Err` has the
/// byte offset and what is wrong.
fn parse_document(text: &str) -> Result<Element, (usize, String)> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_comments = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut first = true;
    loop {
        let at = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| (reader.error_position() as usize, e.to_string()))?;
        let outside = stack.is_empty();
        let is_start = matches!(event, Event::Start(_));
        match event {
            Event::Eof => break,
            Event::Decl(d) => {
                if !first {
                    return Err((at, "the XML declaration must come first".into()));
                }
                let version = d.version().map_err(|e| (at, e.to_string()))?;
                if version.as_ref() != b"1.0" {
                    return Err((at, "only XML version 1.0 is read".into()));
                }
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| (at, e.to_string()))?;
                    if !enc.eq_ignore_ascii_case(b"UTF-8") {
                        return Err((at, "the document must be encoded in UTF-8".into()));
                    }
                }
            }
            Event::DocType(_) => return Err((at, "a DOCTYPE is not allowed".into())),
            Event::PI(_) | Event::Comment(_) => {}
            Event::Start(e) | Event::Empty(e) => {
                if outside && root.is_some() {
                    return Err((at, "content is not allowed after the root element".into()));
                }
                for a in e.attributes() {
                    let a = a.map_err(|err| (at, err.to_string()))?;
                    a.unescape_value().map_err(|err| (at, err.to_string()))?;
                }
                let el = Element {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    at,
                    ..Element::default()
                };
                if is_start {
                    stack.push(el);
                } else {
                    close(&mut stack, &mut root, el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or((at, "an end tag closes no element".to_string()))?;
                close(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| (at, e.to_string()))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => {
                        return Err((at, "content is not allowed outside the root element".into()));
                    }
                }
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| (at, e.to_string()))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => {
                        return Err((at, "content is not allowed outside the root element".into()));
                    }
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| (at, e.to_string()))? {
                    Some(c) => c.to_string(),
                    None => match r.decode().map_err(|e| (at, e.to_string()))?.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => {
                            return Err((
                                at,
                                format!("the entity &{other}; was referenced but not declared"),
                            ));
                        }
                    },
                };
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&c),
                    None => {
                        return Err((at, "content is not allowed outside the root element".into()));
                    }
                }
            }
        }
        first = false;
    }
    if let Some(open) = stack.last() {
        return Err((
            text.len(),
            format!("the document ends before element '{}' is closed", open.name),
        ));
    }
    root.ok_or((0, "the document has no root element".into()))
}

/// Puts a finished element into its parent, or makes it the root.
fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

/// One message of an order acknowledgement feed, as the scenario checks read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckMessage {
    pub message_id: String,
    pub order_id: String,
    pub reason: String,
    /// Each item the message cancels, with its cancel reason.
    pub items: Vec<(String, String)>,
}

/// Reads the messages of an order acknowledgement feed leniently, for judging a log: what it
/// cannot read it skips (feeds are processed by the strict reader above, not this one).
pub fn parse_ack_feed(xml: &str) -> Vec<AckMessage> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut cur: Option<AckMessage> = None;
    let mut leaf = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                leaf = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if leaf == "Message" {
                    cur = Some(AckMessage {
                        message_id: String::new(),
                        order_id: String::new(),
                        reason: String::new(),
                        items: Vec::new(),
                    });
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.decode().map(|c| c.trim().to_string()).unwrap_or_default();
                if let Some(m) = cur.as_mut() {
                    match leaf.as_str() {
                        "MessageID" => m.message_id = text,
                        "AmazonOrderID" => m.order_id = text,
                        "AmazonOrderItemCode" => m.items.push((text, String::new())),
                        "CancelReason" => {
                            if m.reason.is_empty() {
                                m.reason = text.clone();
                            }
                            if let Some(item) = m.items.last_mut() {
                                item.1 = text;
                            }
                        }
                        _ => {}
                    }
                }
            }
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == b"Message"
                    && let Some(m) = cur.take()
                {
                    out.push(m);
                }
                leaf.clear();
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}
