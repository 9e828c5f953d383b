//! Feeds API 2021-06-30 for the one feed kenzen sends, POST_ORDER_ACKNOWLEDGEMENT_DATA (order
//! cancellations): feed documents and their upload/download URLs (`/sim-docs/…`, no token, as
//! presigned URLs take none), creating a feed, and reading its status and report.
//!
//! An upload URL is signed for the content type given to createFeedDocument, as S3 signs it: a
//! PUT with another Content-Type is refused with S3's 403.
//!
//! A feed is processed when it is read after its queue time (or after `feed_stuck_until`): each
//! order it names is cancelled if still unshipped (units go back to the offer unless the reason
//! is NoInventory), and a gzip processing report lists what failed. It must not cancel anything
//! a feed does not name.

use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::wire::{Answer, Now, Query, Raw, iso};
use crate::world::Feed;
use crate::world::World;
use crate::{Sim, SimConfig};

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
    let mut w = sim.world();
    if feed_type != "POST_ORDER_ACKNOWLEDGEMENT_DATA"
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
    process_feed(&sim, &mut w, &feed_id, now);
    let Some(f) = w.feeds.get(&feed_id) else {
        return Answer::error(StatusCode::NOT_FOUND, "NotFound", "Feed not found.");
    };
    let mut body = json!({
        "feedId": f.id,
        "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
        "marketplaceIds": [sim.config.marketplace_id],
        "createdTime": iso(f.created),
        "processingStatus": f.status,
    });
    if let Some(d) = &f.result_document_id {
        body["resultFeedDocumentId"] = json!(d);
        body["processingEndTime"] = json!(iso(now));
    }
    Answer::ok(body)
}

/// GET /feeds/2021-06-30/documents/{feedDocumentId}
pub(crate) async fn get_feed_document(
    State(sim): State<Arc<Sim>>,
    Raw([doc_id]): Raw<1>,
) -> Answer {
    let w = sim.world();
    match w.documents.get(&doc_id) {
        Some(Some(_)) => Answer::ok(json!({
            "feedDocumentId": doc_id,
            "url": format!("{}/sim-docs/{doc_id}", sim.base_url()),
            "compressionAlgorithm": "GZIP"
        })),
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

/// GET /sim-docs/{documentId}: the download URL getFeedDocument gave out (gzip bytes).
pub(crate) async fn download_document(
    State(sim): State<Arc<Sim>>,
    Raw([doc_id]): Raw<1>,
) -> Response {
    let w = sim.world();
    match w.documents.get(&doc_id) {
        Some(Some(bytes)) => bytes.clone().into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An error as S3 answers it behind a presigned URL.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>sim-request</RequestId></Error>"
    );
    (status, [(CONTENT_TYPE, "application/xml")], body).into_response()
}

/// What the upload URL of `doc_id` is signed with: the document and the content type it must be
/// sent with (trimmed, runs of spaces as one, as SigV4 reads a header), keyed by this world's
/// client secret. FNV-1a: any fixed hash will do for a simulator.
fn signature(config: &SimConfig, doc_id: &str, content_type: &str) -> String {
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

/// Processes a feed whose queue time is over: cancels each order it names, writes the gzip
/// report.
fn process_feed(sim: &Sim, w: &mut World, feed_id: &str, now: Timestamp) {
    let Some(feed) = w.feeds.get(feed_id).cloned() else {
        return;
    };
    if feed.status != "IN_QUEUE" || now < feed.created + sim.config.feed_delay {
        return;
    }
    if let Some(until) = sim.config.feed_stuck_until
        && feed.created < until
        && now < until
    {
        return;
    }
    let xml = w
        .documents
        .get(&feed.document_id)
        .cloned()
        .flatten()
        .unwrap_or_default();
    let messages = parse_ack_feed(&String::from_utf8_lossy(&xml));
    let mut results = String::new();
    let mut with_error = 0;
    for m in &messages {
        let mut returned: Vec<(String, i64)> = Vec::new();
        let outcome = match w.orders.get_mut(&m.order_id) {
            None => Err("18028 The order id was not found".to_string()),
            Some(o) if o.feed_errors > 0 => {
                o.feed_errors -= 1;
                Err("25 We are unable to process the XML feed because of an internal error. Please resubmit the feed.".to_string())
            }
            Some(o) if o.status == "CANCELLED" => Ok(()),
            Some(o) if o.status != "UNSHIPPED" => Err(format!(
                "18028 Order {} cannot be cancelled: it is {}",
                o.order_id, o.status
            )),
            Some(o) => {
                o.status = "CANCELLED";
                o.last_updated = now;
                o.cancel = Some(("MERCHANT".into(), m.reason.clone()));
                if m.reason != "NoInventory" {
                    returned = o
                        .items
                        .iter()
                        .map(|i| (i.sku.clone(), i64::from(i.quantity)))
                        .collect();
                }
                w.log.push(json!({
                    "time": iso(now), "actor": "marketplace", "action": "cancelExecuted",
                    "orderId": m.order_id, "cancelReason": m.reason, "feedId": feed_id
                }));
                Ok(())
            }
        };
        for (sku, n) in returned {
            if let Some(q) = w.offers.get_mut(&sku) {
                *q += n;
                w.log.push(json!({
                    "time": iso(now), "actor": "marketplace", "action": "unitsReturnedToOffer",
                    "sku": sku, "quantity": n
                }));
            }
        }
        if let Err(desc) = outcome {
            with_error += 1;
            let (code, text) = desc.split_once(' ').unwrap_or(("18028", &desc));
            results.push_str(&format!(
                "<Result><MessageID>{}</MessageID><ResultCode>Error</ResultCode>\
                 <ResultMessageCode>{code}</ResultMessageCode><ResultDescription>{}</ResultDescription>\
                 <AdditionalInfo><AmazonOrderID>{}</AmazonOrderID></AdditionalInfo></Result>",
                m.message_id,
                quick_xml::escape::escape(text),
                quick_xml::escape::escape(m.order_id.as_str()),
            ));
        }
    }
    let report = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AmazonEnvelope><Header><DocumentVersion>1.02</DocumentVersion>\
         <MerchantIdentifier>{}</MerchantIdentifier></Header><MessageType>ProcessingReport</MessageType>\
         <Message><MessageID>1</MessageID><ProcessingReport><DocumentTransactionID>{}</DocumentTransactionID>\
         <StatusCode>Complete</StatusCode><ProcessingSummary><MessagesProcessed>{}</MessagesProcessed>\
         <MessagesSuccessful>{}</MessagesSuccessful><MessagesWithError>{with_error}</MessagesWithError>\
         <MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>{results}</ProcessingReport></Message></AmazonEnvelope>\n",
        sim.config.seller_id,
        feed_id,
        messages.len(),
        messages.len() - with_error,
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gz.write_all(report.as_bytes());
    let bytes = gz.finish().unwrap_or_default();
    let doc_id = format!("amzn1.tortuga.4.fe.report-{}", w.next_id());
    w.documents.insert(doc_id.clone(), Some(bytes));
    if let Some(f) = w.feeds.get_mut(feed_id) {
        f.status = "DONE";
        f.result_document_id = Some(doc_id);
    }
}

/// One message of an order acknowledgement feed, as the simulator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckMessage {
    pub message_id: String,
    pub order_id: String,
    pub reason: String,
}

/// Reads the messages of an order acknowledgement feed (lenient: what it cannot read it skips,
/// and the report then lists nothing for it).
pub fn parse_ack_feed(xml: &str) -> Vec<AckMessage> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut cur: Option<AckMessage> = None;
    let mut leaf = String::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                leaf = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if leaf == "Message" {
                    cur = Some(AckMessage {
                        message_id: String::new(),
                        order_id: String::new(),
                        reason: String::new(),
                    });
                }
            }
            Ok(quick_xml::events::Event::Text(t)) => {
                let text = t.decode().map(|c| c.trim().to_string()).unwrap_or_default();
                if let Some(m) = cur.as_mut() {
                    match leaf.as_str() {
                        "MessageID" => m.message_id = text,
                        "AmazonOrderID" => m.order_id = text,
                        "CancelReason" if m.reason.is_empty() => m.reason = text,
                        _ => {}
                    }
                }
            }
            Ok(quick_xml::events::Event::End(e)) => {
                if e.local_name().as_ref() == b"Message"
                    && let Some(m) = cur.take()
                {
                    out.push(m);
                }
                leaf.clear();
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}
