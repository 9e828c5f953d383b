//! Reports API 2021-06-30 for the one report the simulator makes, the seller performance report
//! `GET_V2_SELLER_PERFORMANCE_REPORT` (account health): createReport, getReport,
//! getReportDocument, and the document's presigned URL (`/sim-report-docs/…`, no token).
//!
//! createReport takes its body as the model says (`reportType`, `marketplaceIds` with 1 to 25
//! marketplaces the seller sells in, optional `dataStartTime` / `dataEndTime` not after now and
//! in order, `reportOptions` of strings) and refuses anything else with 400 InvalidInput,
//! including a property the model does not have: stricter than Amazon on purpose, so that a
//! misspelt field is not silently ignored. Any other report type is refused as Amazon refuses a
//! type it does not offer the seller. A report is IN_QUEUE for `health_report_queue`,
//! IN_PROGRESS for `health_report_processing`, then ends as `health_report_outcome` says; its
//! document is made at the first read after it ended, from the orders as they stand then (due
//! cancel feeds processed first), for the time it ended. getReports, cancelReport and the
//! schedules are not served: they are unknown paths. A document URL works for five minutes,
//! as Amazon's do, and serves the bytes as stored (GZIP when the document says so).
//!
//! The document follows `accountHealthReport-2020-11-18.json`, every required field present,
//! one `performanceMetrics` entry per requested marketplace. Only the two rates kenzen reads
//! are computed; the other metrics are zeros (status NONE, or GOOD for the policy counts): the
//! simulator holds no deliveries, invoices or complaints. For a report that ended at T, with
//! `to` = T − `health_lag` (to the minute):
//! - `preFulfillmentCancellationRate`, 7 days up to `to`: `orderCount` = the seller-fulfilled
//!   orders placed in the window in that marketplace; `cancellationCount` = those with a line
//!   the seller cancelled, except a line cancelled as `BuyerCanceled` while Amazon showed the
//!   buyer's own cancellation request for it (Amazon's one exemption; BuyerCanceled without
//!   the request counts). A cancel the buyer made themselves is not the seller's. Target 2.5%.
//! - `lateShipmentRate`, 10 days up to `to`: the seller-fulfilled orders due (ship-by) in the
//!   window and not cancelled; late = shipped after the ship-by, or still not shipped. Target
//!   4%.
//!
//! `health_baseline` adds the seller's history the simulator holds no orders for to both.
//!
//! It must not change orders or feeds beyond processing the feeds already due.

use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::feeds::{process_due, s3_error, signature};
use crate::wire::{Answer, Now, Query, QueryNames, Raw, iso};
use crate::world::{Report, ReportDocument, World};
use crate::{ReportGzip, ReportOutcome, Sim, SimConfig, SimOrder};

/// The one report type the simulator makes.
const REPORT_TYPE: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";
/// How report document ids begin (Amazon's are `amzn1.spdoc.1.4.<region>.<uuid>…`).
const DOCUMENT_PREFIX: &str = "amzn1.spdoc.1.4.fe.sim-";
/// createReport's body properties in the model.
const SPEC_FIELDS: [&str; 5] = [
    "reportType",
    "marketplaceIds",
    "dataStartTime",
    "dataEndTime",
    "reportOptions",
];
/// The model's `marketplaceIds` `maxItems`.
const MAX_MARKETPLACES: usize = 25;
/// How long a document URL works (the model: "This URL expires after 5 minutes").
const URL_LIFETIME: SignedDuration = SignedDuration::from_mins(5);

/// The pre-fulfilment cancel rate's window and target.
const CANCEL_DAYS: i64 = 7;
const CANCEL_TARGET: f64 = 0.025;
/// The late shipment rate's window and target.
const LATE_DAYS: i64 = 10;
const LATE_TARGET: f64 = 0.04;

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn bad(message: &str) -> Answer {
    Answer::error(StatusCode::BAD_REQUEST, "InvalidInput", message)
}

/// POST /reports/2021-06-30/reports
pub(crate) async fn create_report(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    names: QueryNames,
    body: Bytes,
) -> Result<Answer, Answer> {
    names.only(&[])?;
    let spec = read_spec(&sim.config, &body, now)?;
    let mut w = sim.world();
    let id = format!("{}", 60_000_000_000u64 + w.next_id());
    w.reports.insert(
        id.clone(),
        Report {
            id: id.clone(),
            report_type: spec.report_type,
            marketplaces: spec.marketplaces,
            created: now,
            data_start: spec.data_start,
            data_end: spec.data_end,
            outcome: sim.config.health_report_outcome,
            document_id: None,
        },
    );
    Ok(Answer(StatusCode::ACCEPTED, json!({ "reportId": id })))
}

/// What a createReport body asks for.
struct Spec {
    report_type: String,
    marketplaces: Vec<String>,
    data_start: Option<Timestamp>,
    data_end: Option<Timestamp>,
}

/// A createReport body checked as the model describes it (`CreateReportSpecification`).
fn read_spec(config: &SimConfig, body: &[u8], now: Timestamp) -> Result<Spec, Answer> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| bad("The request body must be a JSON object."))?;
    let spec = value
        .as_object()
        .ok_or_else(|| bad("The request body must be a JSON object."))?;
    if let Some(unknown) = spec.keys().find(|k| !SPEC_FIELDS.contains(&k.as_str())) {
        return Err(bad(&format!(
            "Unknown property in the request body: {unknown}."
        )));
    }
    let report_type = match spec.get("reportType") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        None => return Err(bad("reportType is required.")),
        Some(_) => return Err(bad("reportType must be a report type name.")),
    };
    let ids = match spec.get("marketplaceIds") {
        Some(Value::Array(ids)) => ids,
        None => return Err(bad("marketplaceIds is required.")),
        Some(_) => return Err(bad("marketplaceIds must be an array of marketplace ids.")),
    };
    if ids.is_empty() || ids.len() > MAX_MARKETPLACES {
        return Err(bad(&format!(
            "marketplaceIds takes 1 to {MAX_MARKETPLACES} marketplace ids."
        )));
    }
    let mut marketplaces: Vec<String> = Vec::new();
    for id in ids {
        let id = id
            .as_str()
            .ok_or_else(|| bad("marketplaceIds must be an array of marketplace ids."))?;
        if !config.sells_in(id) {
            return Err(bad(&format!(
                "Invalid marketplaceIds: the seller does not sell in {id}."
            )));
        }
        if !marketplaces.iter().any(|m| m == id) {
            marketplaces.push(id.to_string());
        }
    }
    let time = |name: &str| -> Result<Option<Timestamp>, Answer> {
        match spec.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let t = s.parse::<Timestamp>().map_err(|_| {
                    bad(&format!(
                        "{name} {s:?} is not an ISO 8601 date-time (e.g. 2026-12-01T00:00:00Z)."
                    ))
                })?;
                if t > now {
                    return Err(bad(&format!(
                        "{name} must be prior to or equal to the current date and time."
                    )));
                }
                Ok(Some(t))
            }
            Some(_) => Err(bad(&format!("{name} must be an ISO 8601 date-time."))),
        }
    };
    let data_start = time("dataStartTime")?;
    let data_end = time("dataEndTime")?;
    if let (Some(s), Some(e)) = (data_start, data_end)
        && s > e
    {
        return Err(bad("dataStartTime must not be after dataEndTime."));
    }
    match spec.get("reportOptions") {
        None => {}
        Some(Value::Object(options)) if options.values().all(Value::is_string) => {}
        Some(_) => {
            return Err(bad(
                "reportOptions must be an object whose values are strings.",
            ));
        }
    }
    if report_type != REPORT_TYPE {
        return Err(bad(&format!(
            "Report type {report_type} is not supported for this selling partner (the \
             simulator makes {REPORT_TYPE} only)."
        )));
    }
    Ok(Spec {
        report_type,
        marketplaces,
        data_start,
        data_end,
    })
}

/// GET /reports/2021-06-30/reports/{reportId}
pub(crate) async fn get_report(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([report_id]): Raw<1>,
    names: QueryNames,
) -> Result<Answer, Answer> {
    names.only(&[])?;
    let mut w = sim.world();
    let Some(report) = w.reports.get(&report_id).cloned() else {
        return Err(Answer::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "Report not found.",
        ));
    };
    let report = finish(&sim, &mut w, report, now);
    Ok(Answer::ok(report_json(&sim.config, &report, now)))
}

/// The report's processing status at `now`.
fn status(config: &SimConfig, r: &Report, now: Timestamp) -> &'static str {
    if now < started(config, r) {
        "IN_QUEUE"
    } else if now < ended(config, r) {
        "IN_PROGRESS"
    } else {
        match r.outcome {
            ReportOutcome::Done => "DONE",
            ReportOutcome::Cancelled => "CANCELLED",
            ReportOutcome::Fatal { .. } => "FATAL",
        }
    }
}

fn started(config: &SimConfig, r: &Report) -> Timestamp {
    r.created + config.health_report_queue
}

fn ended(config: &SimConfig, r: &Report) -> Timestamp {
    started(config, r) + config.health_report_processing
}

/// The report as it stands at `now`: once it has ended with a document, the document is made
/// (once).
fn finish(sim: &Sim, w: &mut World, mut report: Report, now: Timestamp) -> Report {
    let with_document = match report.outcome {
        ReportOutcome::Done | ReportOutcome::Fatal { document: true } => true,
        ReportOutcome::Cancelled | ReportOutcome::Fatal { document: false } => false,
    };
    if !with_document || report.document_id.is_some() || now < ended(&sim.config, &report) {
        return report;
    }
    // Cancels already due are part of the history the report is made from.
    process_due(sim, w, now);
    let content = match report.outcome {
        ReportOutcome::Done => performance_report(
            &sim.config,
            w,
            &report.marketplaces,
            ended(&sim.config, &report),
        ),
        _ => json!({
            "errorDetails": "The report could not be generated because of an internal error. \
                             Request the report again."
        }),
    };
    let plain = content.to_string().into_bytes();
    let ordinal = w.report_documents.len() + 1;
    let gzip = match sim.config.health_report_gzip {
        ReportGzip::Never => false,
        ReportGzip::Always => true,
        ReportGzip::EveryOther => ordinal.is_multiple_of(2),
    };
    let bytes = if gzip { compress(&plain) } else { plain };
    let doc_id = format!("{DOCUMENT_PREFIX}{}", w.next_id());
    w.report_documents
        .insert(doc_id.clone(), ReportDocument { bytes, gzip });
    report.document_id = Some(doc_id);
    w.reports.insert(report.id.clone(), report.clone());
    report
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// A report as getReport describes it (the model's `Report`).
fn report_json(config: &SimConfig, r: &Report, now: Timestamp) -> Value {
    let status = status(config, r, now);
    let mut body = json!({
        "reportId": r.id,
        "reportType": r.report_type,
        "marketplaceIds": r.marketplaces,
        "dataStartTime": iso(r.data_start.unwrap_or(r.created)),
        "dataEndTime": iso(r.data_end.unwrap_or(r.created)),
        "createdTime": iso(r.created),
        "processingStatus": status,
    });
    if status != "IN_QUEUE" {
        body["processingStartTime"] = json!(iso(started(config, r)));
    }
    if !matches!(status, "IN_QUEUE" | "IN_PROGRESS") {
        body["processingEndTime"] = json!(iso(ended(config, r)));
    }
    if let Some(d) = &r.document_id {
        body["reportDocumentId"] = json!(d);
    }
    body
}

/// GET /reports/2021-06-30/documents/{reportDocumentId}
pub(crate) async fn get_report_document(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([doc_id]): Raw<1>,
    query: Query,
    names: QueryNames,
) -> Result<Answer, Answer> {
    names.only(&["enableContentEncodingUrlHeader"])?;
    let encoding = match query
        .0
        .get("enableContentEncodingUrlHeader")
        .map(String::as_str)
    {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(bad(&format!(
                "enableContentEncodingUrlHeader must be true or false, not {other:?}."
            )));
        }
    };
    let w = sim.world();
    let Some(doc) = w.report_documents.get(&doc_id) else {
        return Err(Answer::error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "Report document not found.",
        ));
    };
    let mut params = vec![
        ("X-Amz-Date", now.strftime("%Y%m%dT%H%M%SZ").to_string()),
        ("X-Amz-Expires", URL_LIFETIME.as_secs().to_string()),
    ];
    if encoding && doc.gzip {
        // S3's own override: the download then says `Content-Encoding: gzip`.
        params.push(("response-content-encoding", "gzip".into()));
    }
    let signed = signature(&sim.config, &doc_id, &canonical(&params));
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain([format!("X-Amz-Signature={signed}")])
        .collect();
    let mut body = json!({
        "reportDocumentId": doc_id,
        "url": format!("{}/sim-report-docs/{doc_id}?{}", sim.base_url(), query.join("&")),
    });
    if doc.gzip {
        body["compressionAlgorithm"] = json!("GZIP");
    }
    Ok(Answer::ok(body))
}

/// What a document URL's signature covers besides the document: its query but the signature.
fn canonical(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// GET /sim-report-docs/{reportDocumentId}: the URL getReportDocument gave out, refused as S3
/// refuses it when its query was changed or it has expired.
pub(crate) async fn download_report_document(
    State(sim): State<Arc<Sim>>,
    Now(now): Now,
    Raw([doc_id]): Raw<1>,
    query: Query,
) -> Response {
    let q = &query.0;
    let (Some(date), Some(expires), Some(given)) = (
        q.get("X-Amz-Date"),
        q.get("X-Amz-Expires"),
        q.get("X-Amz-Signature"),
    ) else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");
    };
    let encoding = q.get("response-content-encoding");
    let mut params = vec![
        ("X-Amz-Date", date.clone()),
        ("X-Amz-Expires", expires.clone()),
    ];
    if let Some(e) = encoding {
        params.push(("response-content-encoding", e.clone()));
    }
    if *given != signature(&sim.config, &doc_id, &canonical(&params)) {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        );
    }
    let signed_at = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", date)
        .ok()
        .and_then(|t| t.to_datetime().ok())
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp());
    let lifetime = expires.parse::<i64>().ok().map(SignedDuration::from_secs);
    match (signed_at, lifetime) {
        (Some(at), Some(life)) if now <= at + life => {}
        _ => {
            return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
        }
    }
    let w = sim.world();
    let Some(doc) = w.report_documents.get(&doc_id) else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let mut resp = (
        [(CONTENT_TYPE, "application/octet-stream")],
        doc.bytes.clone(),
    )
        .into_response();
    if encoding.is_some_and(|e| e == "gzip") {
        resp.headers_mut().insert(
            CONTENT_ENCODING,
            axum::http::HeaderValue::from_static("gzip"),
        );
    }
    resp
}

/// The seller performance report for `marketplaces` as of `at`.
fn performance_report(
    config: &SimConfig,
    w: &World,
    marketplaces: &[String],
    at: Timestamp,
) -> Value {
    let to = whole_minute(at - config.health_lag);
    let mut statuses = Vec::new();
    let mut metrics = Vec::new();
    for mp in marketplaces {
        let mine: Vec<&SimOrder> = w
            .orders
            .values()
            .filter(|o| o.fulfilled_by == "MERCHANT" && o.marketplace(config) == mp)
            .collect();
        let (base_orders, base_cancels, base_late) = config
            .health_baseline
            .iter()
            .filter(|b| b.marketplace_id == *mp)
            .fold((0, 0, 0), |(o, c, l), b| {
                (o + b.orders, c + b.cancels, l + b.late_shipments)
            });

        let from = to - days(CANCEL_DAYS);
        let placed: Vec<&&SimOrder> = mine
            .iter()
            .filter(|o| from <= o.created && o.created <= to)
            .collect();
        let cancelled = placed.iter().filter(|o| counts_as_seller_cancel(o)).count();
        let cancel = rate_metric(
            (from, to),
            placed.len() as u64 + base_orders,
            ("cancellationCount", cancelled as u64 + base_cancels),
            CANCEL_TARGET,
        );

        let late_from = to - days(LATE_DAYS);
        let due: Vec<&&SimOrder> = mine
            .iter()
            .filter(|o| late_from <= o.ship_by && o.ship_by <= to && o.status != "CANCELLED")
            .collect();
        let late = due
            .iter()
            .filter(|o| match o.shipped_at {
                Some(shipped) => shipped > o.ship_by,
                None => o.status != "SHIPPED",
            })
            .count();
        let late = rate_metric(
            (late_from, to),
            due.len() as u64 + base_orders,
            ("lateShipmentCount", late as u64 + base_late),
            LATE_TARGET,
        );

        let at_risk = [&cancel, &late].iter().any(|m| m["status"] == "BAD");
        statuses.push(json!({
            "marketplaceId": mp,
            "status": if at_risk { "AT_RISK" } else { "NORMAL" },
        }));
        metrics.push(marketplace_metrics(mp, to, cancel, late));
    }
    json!({ "accountStatuses": statuses, "performanceMetrics": metrics })
}

/// True when the order has a line the seller cancelled that the cancel rate counts.
fn counts_as_seller_cancel(o: &SimOrder) -> bool {
    o.cancelled_items
        .keys()
        .any(|item| !o.buyer_requested_cancels.contains(item))
}

/// A `Rate`-style metric: `count` of `orders` in `window`, judged against `target` (LESS_THAN).
fn rate_metric(
    window: (Timestamp, Timestamp),
    orders: u64,
    (count_name, count): (&str, u64),
    target: f64,
) -> Value {
    let rate = if orders == 0 {
        0.0
    } else {
        count as f64 / orders as f64
    };
    let status = if orders == 0 {
        "NONE"
    } else if rate < target {
        "GOOD"
    } else {
        "BAD"
    };
    let mut m = Map::new();
    m.insert("reportingDateRange".into(), range(window.0, window.1));
    m.insert("orderCount".into(), json!(orders));
    m.insert(count_name.into(), json!(count));
    m.insert("status".into(), json!(status));
    m.insert("rate".into(), json!(rate));
    m.insert("targetValue".into(), json!(target));
    m.insert("targetCondition".into(), json!("LESS_THAN"));
    Value::Object(m)
}

/// One `performanceMetrics` entry: the two computed rates and every other required metric at
/// zero.
fn marketplace_metrics(mp: &str, to: Timestamp, cancel: Value, late: Value) -> Value {
    let last = |n: i64| range(to - days(n), to);
    let none = json!({"count": 0, "status": "NONE"});
    let defect_rate = |kind: &str| {
        json!({
            "reportingDateRange": last(60),
            "orderCount": 0,
            "orderWithDefects": none,
            "claims": none,
            "chargebacks": none,
            "negativeFeedback": none,
            "fulfillmentType": kind,
            "status": "NONE",
            "rate": 0,
            "targetValue": 0.01,
            "targetCondition": "LESS_THAN"
        })
    };
    let mut entry = json!({
        "marketplaceId": mp,
        "invoiceDefectRate": {
            "reportingDateRange": last(30),
            "orderCount": 0,
            "invoiceDefect": none,
            "missingInvoice": none,
            "lateInvoice": none,
            "status": "NONE",
            "rate": 0,
            "targetValue": 0.05,
            "targetCondition": "LESS_THAN"
        },
        "lateShipmentRate": late,
        "orderDefectRate": {"mfn": defect_rate("mfn"), "afn": defect_rate("afn")},
        "onTimeDeliveryRate": {
            "reportingDateRange": last(30),
            "shipmentCountWithValidTracking": 0,
            "onTimeDeliveryCount": 0,
            "status": "NONE",
            "rate": 0,
            "targetValue": 0.97,
            "targetCondition": "GREATER_THAN"
        },
        "unitOnTimeDeliveryRate": {
            "reportingDateRange": last(30),
            "status": "NONE",
            "targetValue": 0.97,
            "targetCondition": "GREATER_THAN",
            "unitOnTimeDeliveryCount": 0,
            "totalUnitCount": 0,
            "rate": 0
        },
        "validTrackingRate": {
            "reportingDateRange": last(30),
            "shipmentCount": 0,
            "validTrackingCount": 0,
            "status": "NONE",
            "rate": 0,
            "targetValue": 0.95,
            "targetCondition": "GREATER_THAN"
        },
        "preFulfillmentCancellationRate": cancel,
        "warningStates": [],
        "accountHealthRating": {"ahrStatus": "GREAT", "reportingDateRange": last(180)},
    });
    for policy in [
        "listingPolicyViolations",
        "productAuthenticityCustomerComplaints",
        "productConditionCustomerComplaints",
        "productSafetyCustomerComplaints",
        "receivedIntellectualPropertyComplaints",
        "restrictedProductPolicyViolations",
        "suspectedIntellectualPropertyViolations",
        "foodAndProductSafetyIssues",
        "otherPolicyViolations",
        "documentRequests",
    ] {
        entry[policy] = json!({
            "reportingDateRange": last(180),
            "defectsCount": 0,
            "status": "GOOD",
            "targetValue": 0,
            "targetCondition": "EQUALS"
        });
    }
    entry
}

/// A `reportingDateRange`, to the minute as Amazon writes it (`2026-11-24T23:59Z`).
fn range(from: Timestamp, to: Timestamp) -> Value {
    let minute = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%MZ").to_string();
    json!({"reportingDateFrom": minute(from), "reportingDateTo": minute(to)})
}

fn whole_minute(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second().div_euclid(60) * 60).unwrap_or(t)
}
