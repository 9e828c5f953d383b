//! The simulator's Reports API answers as Amazon does for the seller performance report: the
//! report's statuses on the virtual clock, its document (Amazon's schema, the figures from the
//! simulator's own orders, GZIP or not) and its URL, each refusal (bad body, rate, role,
//! unknown ids) in Amazon's shape. Everything goes over HTTP to a simulator on 127.0.0.1.

mod common;

use std::io::Read;
use std::path::PathBuf;

use common::Env;
use jiff::{SignedDuration, Timestamp};
use kenzen_core::health::{MetricStatus, TargetCondition, parse_report};
use kenzen_sim::{
    Action, Buyer, HealthBaseline, ReportGzip, ReportOutcome, Role, SimConfig, SimItem, SimOrder,
};
use serde_json::{Value, json};

const JP: &str = "A1VC38T7YXB528";
const AU: &str = "A39IBJ37TRP1C6";
const US: &str = "ATVPDKIKX0DER";
const TYPE: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";
const REPORTS: &str = "/reports/2021-06-30/reports";
const DOCUMENTS: &str = "/reports/2021-06-30/documents";

fn t0() -> Timestamp {
    "2026-12-01T00:00:00Z".parse().unwrap()
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

async fn start(config: SimConfig) -> Env {
    common::start(config, t0(), |_| {}).await
}

impl Env {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> (u16, Value) {
        self.send(method, path, body).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// createReport with `body` as sent.
    async fn create(&self, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, REPORTS, Some(&body.to_string()))
            .await
    }

    /// Requests the seller performance report for `marketplaces`: its id.
    async fn request(&self, marketplaces: &[&str]) -> String {
        let (status, body) = self
            .create(&json!({"reportType": TYPE, "marketplaceIds": marketplaces}))
            .await;
        assert_eq!(status, 202, "{body}");
        body["reportId"].as_str().unwrap().to_string()
    }

    async fn report(&self, id: &str) -> Value {
        let (status, body) = self.get(&format!("{REPORTS}/{id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits the report out and reads it.
    async fn finished(&self, id: &str) -> Value {
        self.clock.advance(mins(5));
        self.report(id).await
    }

    /// getReportDocument, then the URL: (the document's answer, the bytes as downloaded).
    async fn document(&self, doc_id: &str) -> (Value, Vec<u8>) {
        let (status, doc) = self.get(&format!("{DOCUMENTS}/{doc_id}")).await;
        assert_eq!(status, 200, "{doc}");
        let resp = self
            .http
            .get(doc["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        (doc, resp.bytes().await.unwrap().to_vec())
    }

    /// The report's document, decompressed as its answer says.
    async fn content(&self, report: &Value) -> Vec<u8> {
        let (doc, bytes) = self
            .document(report["reportDocumentId"].as_str().unwrap())
            .await;
        if doc["compressionAlgorithm"] == "GZIP" {
            gunzip(&bytes)
        } else {
            bytes
        }
    }

    /// Uploads an order acknowledgement feed for `marketplace` cancelling each
    /// (order, [(item, reason)]), and waits until it is processed.
    async fn cancel(&self, marketplace: &str, cancels: &[(&str, &[(&str, &str)])]) {
        let xml_type = "text/xml; charset=UTF-8";
        let (status, doc) = self
            .call(
                reqwest::Method::POST,
                "/feeds/2021-06-30/documents",
                Some(&json!({ "contentType": xml_type }).to_string()),
            )
            .await;
        assert_eq!(status, 201, "{doc}");
        let put = self
            .http
            .put(doc["url"].as_str().unwrap())
            .header("content-type", xml_type)
            .body(ack_feed(&self.sim.config.seller_id, cancels))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status().as_u16(), 200);
        let (status, feed) = self
            .call(
                reqwest::Method::POST,
                "/feeds/2021-06-30/feeds",
                Some(
                    &json!({
                        "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                        "marketplaceIds": [marketplace],
                        "inputFeedDocumentId": doc["feedDocumentId"],
                    })
                    .to_string(),
                ),
            )
            .await;
        assert_eq!(status, 202, "{feed}");
        self.clock.advance(mins(5));
        let (_, feed) = self
            .get(&format!(
                "/feeds/2021-06-30/feeds/{}",
                feed["feedId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(feed["processingStatus"], "DONE", "{feed}");
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut raw)
        .expect("GZIP as the document says");
    raw
}

/// An order acknowledgement feed cancelling the lines given.
fn ack_feed(merchant: &str, cancels: &[(&str, &[(&str, &str)])]) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AmazonEnvelope><Header>\
         <DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>{merchant}\
         </MerchantIdentifier></Header><MessageType>OrderAcknowledgement</MessageType>"
    );
    for (i, (order, items)) in cancels.iter().enumerate() {
        x.push_str(&format!(
            "<Message><MessageID>{}</MessageID><OrderAcknowledgement><AmazonOrderID>{order}\
             </AmazonOrderID><StatusCode>Failure</StatusCode>",
            i + 1
        ));
        for (item, reason) in *items {
            x.push_str(&format!(
                "<Item><AmazonOrderItemCode>{item}</AmazonOrderItemCode>\
                 <CancelReason>{reason}</CancelReason></Item>"
            ));
        }
        x.push_str("</OrderAcknowledgement></Message>");
    }
    x.push_str("</AmazonEnvelope>");
    x
}

fn item(id: &str) -> SimItem {
    SimItem {
        order_item_id: id.into(),
        sku: "DARUMA".into(),
        asin: "B0TEST0001".into(),
        title: "だるま".into(),
        quantity: 1,
        unit_price: "1500".into(),
    }
}

/// An open MFN order placed at `placed` with one line `<id>-1`, due two days later.
fn order(id: &str, placed: Timestamp) -> SimOrder {
    SimOrder::new(
        id,
        placed,
        placed + hours(48),
        vec![item(&format!("{id}-1"))],
        Buyer::Silent,
        "ja-JP",
    )
}

fn line(id: &str) -> String {
    format!("{id}-1")
}

// ---- A subset of JSON Schema (draft-07), enough for Amazon's report schema ----

/// Every way `value` breaks `schema` (type, required, properties, items, enum, local $ref).
fn violations(root: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/definitions/").expect("a local $ref");
        return violations(root, &root["definitions"][name], value, at, out);
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.as_i64().is_some() || value.as_u64().is_some(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            other => panic!("type {other} is not read by this checker"),
        };
        if !ok {
            out.push(format!("{at}: {value} is not of type {t}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap();
        if value.get(name).is_none() {
            out.push(format!("{at}: {name} is required"));
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            if let Some(v) = value.get(name) {
                violations(root, sub, v, &format!("{at}.{name}"), out);
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            violations(root, items, v, &format!("{at}[{i}]"), out);
        }
    }
}

/// The ways `document` breaks Amazon's `accountHealthReport-2020-11-18.json`.
fn schema_violations(document: &Value) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/spapi-models/accountHealthReport-2020-11-18.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("Amazon's model is expected at {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    violations(&schema, &schema, document, "$", &mut out);
    out
}

#[test]
fn the_schema_check_passes_amazons_own_example_and_catches_a_missing_metric() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/src/health/testdata/seller-performance-jp-us.json");
    let mut example: Value =
        serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
    assert_eq!(schema_violations(&example), Vec::<String>::new());
    example["performanceMetrics"][0]
        .as_object_mut()
        .unwrap()
        .remove("preFulfillmentCancellationRate");
    example["performanceMetrics"][1]["lateShipmentRate"]["status"] = json!("FINE");
    assert_eq!(
        schema_violations(&example),
        [
            "$.performanceMetrics[0]: preFulfillmentCancellationRate is required",
            "$.performanceMetrics[1].lateShipmentRate.status: \"FINE\" is not one of \
             [String(\"GOOD\"), String(\"BAD\"), String(\"NONE\")]"
        ]
    );
}

// ---- The report's life ----

#[tokio::test]
async fn a_report_is_in_queue_then_in_progress_then_done_on_the_virtual_clock() {
    let env = start(SimConfig::default()).await;
    let id = env.request(&[JP]).await;
    let r = env.report(&id).await;
    assert_eq!(r["reportId"], id.as_str());
    assert_eq!(r["reportType"], TYPE);
    assert_eq!(r["marketplaceIds"], json!([JP]));
    assert_eq!(r["createdTime"], "2026-12-01T00:00:00Z");
    assert_eq!(r["processingStatus"], "IN_QUEUE");
    assert!(r.get("processingStartTime").is_none(), "{r}");
    assert!(r.get("reportDocumentId").is_none(), "{r}");

    env.clock.advance(mins(1));
    let r = env.report(&id).await;
    assert_eq!(r["processingStatus"], "IN_PROGRESS");
    assert_eq!(r["processingStartTime"], "2026-12-01T00:01:00Z");
    assert!(r.get("processingEndTime").is_none(), "{r}");
    assert!(r.get("reportDocumentId").is_none(), "{r}");

    env.clock.advance(mins(2));
    let r = env.report(&id).await;
    assert_eq!(r["processingStatus"], "DONE");
    assert_eq!(r["processingEndTime"], "2026-12-01T00:03:00Z");
    let doc_id = r["reportDocumentId"].as_str().unwrap().to_string();

    // The same document on every later read.
    env.clock.advance(mins(30));
    assert_eq!(env.report(&id).await["reportDocumentId"], doc_id.as_str());
}

#[tokio::test]
async fn the_queue_and_processing_times_are_the_configurations() {
    let env = start(SimConfig {
        health_report_queue: mins(10),
        health_report_processing: mins(20),
        ..SimConfig::default()
    })
    .await;
    let id = env.request(&[JP]).await;
    env.clock.advance(mins(9));
    assert_eq!(env.report(&id).await["processingStatus"], "IN_QUEUE");
    env.clock.advance(mins(20));
    assert_eq!(env.report(&id).await["processingStatus"], "IN_PROGRESS");
    env.clock.advance(mins(1));
    assert_eq!(env.report(&id).await["processingStatus"], "DONE");
}

#[tokio::test]
async fn a_report_can_be_made_to_end_cancelled_or_fatal_with_or_without_an_error_document() {
    for (outcome, status, document) in [
        (ReportOutcome::Cancelled, "CANCELLED", false),
        (ReportOutcome::Fatal { document: false }, "FATAL", false),
        (ReportOutcome::Fatal { document: true }, "FATAL", true),
    ] {
        let env = start(SimConfig {
            health_report_outcome: outcome,
            ..SimConfig::default()
        })
        .await;
        let id = env.request(&[JP]).await;
        assert_eq!(env.report(&id).await["processingStatus"], "IN_QUEUE");
        let r = env.finished(&id).await;
        assert_eq!(r["processingStatus"], status, "{outcome:?}");
        assert_eq!(r.get("reportDocumentId").is_some(), document, "{r}");
        if document {
            let content = env.content(&r).await;
            let error: Value = serde_json::from_slice(&content).unwrap();
            assert!(error["errorDetails"].is_string(), "{error}");
            assert!(parse_report(&content, t0()).is_err());
        }
    }
}

// ---- The document ----

#[tokio::test]
async fn the_document_follows_amazons_schema_and_counts_seller_cancels_but_not_buyer_requested_ones()
 {
    let env = start(SimConfig {
        other_marketplaces: vec![AU.into()],
        ..SimConfig::default()
    })
    .await;
    let placed = t0() - hours(48);
    let (a, b, c, d, e) = (
        "503-3000001-0000001",
        "503-3000001-0000002",
        "503-3000001-0000003",
        "503-3000001-0000004",
        "503-3000001-0000005",
    );
    // A stays open; B is cancelled for want of stock (counts); C at the buyer's own request
    // (exempt); D as BuyerCanceled with no request behind it (counts); E by the buyer.
    for id in [a, b, d] {
        env.sim.add_order(order(id, placed));
    }
    let mut requested = order(c, placed);
    requested.buyer_request = Some(placed + hours(1));
    env.sim.add_order(requested);
    let mut buyer_cancels = order(e, placed);
    buyer_cancels.buyer = Buyer::CancelsAt(placed + hours(2));
    env.sim.add_order(buyer_cancels);
    // P has two lines: the buyer's request covers the first only; the seller cancels both.
    let p = "503-3000001-0000006";
    let mut two_lines = order(p, placed);
    two_lines.items.push(item(&format!("{p}-2")));
    two_lines.buyer_request = Some(placed + hours(1));
    two_lines.request_items = Some(vec![line(p)]);
    env.sim.add_order(two_lines);
    // Not in the window: FBA; placed within Amazon's lag; placed before the 7 days.
    let fba = "503-3000001-0000007";
    let mut by_amazon = order(fba, placed);
    by_amazon.fulfilled_by = "AMAZON";
    env.sim.add_order(by_amazon);
    let recent = "503-3000001-0000008";
    env.sim.add_order(order(recent, t0() - hours(12)));
    let old = "503-3000001-0000009";
    env.sim.add_order(order(old, t0() - hours(24 * 9)));
    env.sim
        .schedule(t0() - hours(24 * 8), old, Action::SellerShips);
    // Due three days ago: shipped in time, shipped a day late, never shipped.
    let (in_time, late, never) = (
        "503-3000002-0000001",
        "503-3000002-0000002",
        "503-3000002-0000003",
    );
    for id in [in_time, late, never] {
        let mut o = order(id, t0() - hours(24 * 5));
        o.ship_by = t0() - hours(24 * 3);
        env.sim.add_order(o);
    }
    env.sim
        .schedule(t0() - hours(24 * 3 + 1), in_time, Action::SellerShips);
    env.sim
        .schedule(t0() - hours(24 * 2), late, Action::SellerShips);
    // One order in Australia, cancelled by the seller.
    let au = "503-3000003-0000001";
    let mut down_under = order(au, placed);
    down_under.marketplace_id = Some(AU.into());
    env.sim.add_order(down_under);

    env.cancel(
        JP,
        &[
            (b, &[(&line(b), "NoInventory")]),
            (c, &[(&line(c), "BuyerCanceled")]),
            (d, &[(&line(d), "BuyerCanceled")]),
            (
                p,
                &[
                    (&line(p), "BuyerCanceled"),
                    (&format!("{p}-2"), "NoInventory"),
                ],
            ),
            (recent, &[(&line(recent), "NoInventory")]),
        ],
    )
    .await;
    env.cancel(AU, &[(au, &[(&line(au), "NoInventory")])]).await;
    assert_eq!(env.sim.order(e).unwrap().status, "CANCELLED");
    assert_eq!(
        env.sim.order(c).unwrap().buyer_requested_cancels,
        [line(c)].into()
    );
    assert_eq!(
        env.sim.order(p).unwrap().buyer_requested_cancels,
        [line(p)].into()
    );
    assert!(env.sim.order(d).unwrap().buyer_requested_cancels.is_empty());

    let requested_at = env.clock.now();
    let id = env.request(&[JP, AU]).await;
    let r = env.finished(&id).await;
    assert_eq!(r["processingStatus"], "DONE");
    let content = env.content(&r).await;
    let document: Value = serde_json::from_slice(&content).unwrap();
    assert_eq!(schema_violations(&document), Vec::<String>::new());

    let fetched = env.clock.now();
    let parsed = parse_report(&content, fetched).unwrap();
    assert_eq!(parsed.skipped, Vec::<String>::new());
    // Made at the end of processing; Amazon's windows end a day before.
    let to = requested_at + mins(3) - hours(24);
    let jp = parsed.for_marketplace(JP).unwrap();
    // A, B, C, D, E, P and the three due three days ago; 3 counted: B, D, P.
    assert_eq!((jp.cancel.count, jp.cancel.orders), (3, 9));
    // serde_json reads floats to within an ulp.
    assert!(
        (jp.cancel.rate - 3.0 / 9.0).abs() < 1e-12,
        "{}",
        jp.cancel.rate
    );
    assert_eq!(jp.cancel.target, Some(0.025));
    assert_eq!(jp.cancel.condition, Some(TargetCondition::LessThan));
    assert_eq!(jp.cancel.status, Some(MetricStatus::Bad));
    assert_eq!(jp.cancel.window_to, to);
    assert_eq!(jp.cancel.window_from, to - hours(24 * 7));
    assert_eq!(jp.fetched_at, fetched);
    // Due in the last 10 days and not cancelled: the three, and the old one (shipped in time).
    let lsr = jp.late_shipment.as_ref().unwrap();
    assert_eq!((lsr.count, lsr.orders), (2, 4));
    assert_eq!(lsr.target, Some(0.04));
    assert_eq!(lsr.status, Some(MetricStatus::Bad));
    assert_eq!(lsr.window_from, to - hours(24 * 10));

    let au_health = parsed.for_marketplace(AU).unwrap();
    assert_eq!((au_health.cancel.count, au_health.cancel.orders), (1, 1));
    let au_lsr = au_health.late_shipment.as_ref().unwrap();
    assert_eq!(
        (au_lsr.orders, au_lsr.status),
        (0, Some(MetricStatus::NotRated))
    );
    assert_eq!(
        document["accountStatuses"],
        json!([{"marketplaceId": JP, "status": "AT_RISK"}, {"marketplaceId": AU, "status": "AT_RISK"}])
    );
}

#[tokio::test]
async fn a_baseline_history_is_added_to_the_counts_so_headroom_can_be_set() {
    let env = start(SimConfig {
        health_baseline: vec![HealthBaseline::new(JP, 999, 24)],
        ..SimConfig::default()
    })
    .await;
    let id = env.request(&[JP]).await;
    let r = env.finished(&id).await;
    let parsed = parse_report(&env.content(&r).await, env.clock.now()).unwrap();
    let jp = parsed.for_marketplace(JP).unwrap();
    assert_eq!((jp.cancel.count, jp.cancel.orders), (24, 999));
    assert_eq!(jp.cancel.status, Some(MetricStatus::Good));

    // One more seller cancel in the window: 25 of 1000 is not under 2.5%.
    let o = "503-3000004-0000001";
    env.sim.add_order(order(o, t0() - hours(48)));
    env.cancel(JP, &[(o, &[(&line(o), "NoInventory")])]).await;
    let id = env.request(&[JP]).await;
    let r = env.finished(&id).await;
    let parsed = parse_report(&env.content(&r).await, env.clock.now()).unwrap();
    let jp = parsed.for_marketplace(JP).unwrap();
    assert_eq!((jp.cancel.count, jp.cancel.orders), (25, 1000));
    assert_eq!(jp.cancel.status, Some(MetricStatus::Bad));
}

#[tokio::test]
async fn no_orders_at_all_is_a_rate_of_zero_that_amazon_does_not_rate() {
    let env = start(SimConfig::default()).await;
    let id = env.request(&[JP]).await;
    let r = env.finished(&id).await;
    let parsed = parse_report(&env.content(&r).await, env.clock.now()).unwrap();
    let jp = parsed.for_marketplace(JP).unwrap();
    assert_eq!(
        (jp.cancel.count, jp.cancel.orders, jp.cancel.rate),
        (0, 0, 0.0)
    );
    assert_eq!(jp.cancel.status, Some(MetricStatus::NotRated));
}

#[tokio::test]
async fn documents_alternate_plain_and_gzip_by_default_and_the_url_serves_what_the_answer_says() {
    let env = start(SimConfig::default()).await;
    let first = env.request(&[JP]).await;
    let second = env.request(&[JP]).await;
    env.clock.advance(mins(5));
    let (doc1, bytes1) = env
        .document(
            env.report(&first).await["reportDocumentId"]
                .as_str()
                .unwrap(),
        )
        .await;
    let (doc2, bytes2) = env
        .document(
            env.report(&second).await["reportDocumentId"]
                .as_str()
                .unwrap(),
        )
        .await;
    assert!(doc1.get("compressionAlgorithm").is_none(), "{doc1}");
    assert!(serde_json::from_slice::<Value>(&bytes1).is_ok());
    assert_eq!(doc2["compressionAlgorithm"], "GZIP");
    assert!(
        serde_json::from_slice::<Value>(&bytes2).is_err(),
        "compressed"
    );
    assert_eq!(gunzip(&bytes2), bytes1, "the same figures");

    for (gzip, compressed) in [(ReportGzip::Always, true), (ReportGzip::Never, false)] {
        let env = start(SimConfig {
            health_report_gzip: gzip,
            ..SimConfig::default()
        })
        .await;
        for _ in 0..2 {
            let id = env.request(&[JP]).await;
            let r = env.finished(&id).await;
            let (doc, _) = env.document(r["reportDocumentId"].as_str().unwrap()).await;
            assert_eq!(
                doc.get("compressionAlgorithm").is_some(),
                compressed,
                "{doc}"
            );
        }
    }
}

#[tokio::test]
async fn a_document_url_asked_with_content_encoding_says_gzip_in_its_header() {
    let env = start(SimConfig {
        health_report_gzip: ReportGzip::Always,
        ..SimConfig::default()
    })
    .await;
    let id = env.request(&[JP]).await;
    let doc_id = env.finished(&id).await["reportDocumentId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, doc) = env
        .get(&format!(
            "{DOCUMENTS}/{doc_id}?enableContentEncodingUrlHeader=true"
        ))
        .await;
    assert_eq!(status, 200, "{doc}");
    let resp = env
        .http
        .get(doc["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let (status, _) = env
        .get(&format!(
            "{DOCUMENTS}/{doc_id}?enableContentEncodingUrlHeader=yes"
        ))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_document_url_expires_after_five_minutes_and_cannot_be_altered() {
    let env = start(SimConfig::default()).await;
    let id = env.request(&[JP]).await;
    let doc_id = env.finished(&id).await["reportDocumentId"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, doc) = env.get(&format!("{DOCUMENTS}/{doc_id}")).await;
    let url = doc["url"].as_str().unwrap().to_string();
    let fetch = |url: String| {
        let http = env.http.clone();
        async move {
            let resp = http.get(url).send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    env.clock.advance(mins(5));
    assert_eq!(
        fetch(url.clone()).await.0,
        200,
        "five minutes is still in time"
    );
    let altered = url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000");
    let (status, body) = fetch(altered).await;
    assert_eq!(status, 403);
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    env.clock.advance(SignedDuration::from_secs(1));
    let (status, body) = fetch(url).await;
    assert_eq!(status, 403);
    assert!(body.contains("Request has expired"), "{body}");
}

// ---- Refusals ----

#[tokio::test]
async fn create_report_takes_its_body_as_the_model_says() {
    let env = start(SimConfig::default()).await;
    let future = "2026-12-02T00:00:00Z";
    let too_many: Vec<&str> = std::iter::repeat_n(JP, 26).collect();
    for (body, why) in [
        (json!({"marketplaceIds": [JP]}), "reportType is required"),
        (
            json!({"reportType": "", "marketplaceIds": [JP]}),
            "reportType",
        ),
        (json!({"reportType": TYPE}), "marketplaceIds is required"),
        (json!({"reportType": TYPE, "marketplaceIds": []}), "1 to 25"),
        (
            json!({"reportType": TYPE, "marketplaceIds": too_many}),
            "1 to 25",
        ),
        (json!({"reportType": TYPE, "marketplaceIds": JP}), "array"),
        (json!({"reportType": TYPE, "marketplaceIds": [7]}), "array"),
        (
            json!({"reportType": TYPE, "marketplaceIds": [US]}),
            "does not sell in ATVPDKIKX0DER",
        ),
        (
            json!({"reportType": TYPE, "marketplaceIds": [JP], "marketplaceId": JP}),
            "Unknown property in the request body: marketplaceId",
        ),
        (
            json!({"reportType": TYPE, "marketplaceIds": [JP], "dataStartTime": "yesterday"}),
            "not an ISO 8601 date-time",
        ),
        (
            json!({"reportType": TYPE, "marketplaceIds": [JP], "dataEndTime": future}),
            "prior to or equal to the current date and time",
        ),
        (
            json!({"reportType": TYPE, "marketplaceIds": [JP],
                   "dataStartTime": "2026-11-30T00:00:00Z", "dataEndTime": "2026-11-29T00:00:00Z"}),
            "dataStartTime must not be after dataEndTime",
        ),
        (
            json!({"reportType": TYPE, "marketplaceIds": [JP], "reportOptions": {"days": 7}}),
            "reportOptions",
        ),
        (
            json!({"reportType": "GET_FLAT_FILE_OPEN_LISTINGS_DATA", "marketplaceIds": [JP]}),
            "Report type GET_FLAT_FILE_OPEN_LISTINGS_DATA is not supported",
        ),
        (json!([TYPE]), "JSON object"),
    ] {
        // createReport's rate is one a minute.
        env.clock.advance(SignedDuration::from_secs(60));
        let (status, answer) = env.create(&body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["errors"][0]["code"], "InvalidInput", "{answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{body}: {message}");
    }
    env.clock.advance(SignedDuration::from_secs(60));
    let (status, answer) = env
        .call(reqwest::Method::POST, REPORTS, Some("{not json"))
        .await;
    assert_eq!(
        (status, answer["errors"][0]["code"].clone()),
        (400, json!("InvalidInput"))
    );

    // The right body, with everything the model allows.
    env.clock.advance(SignedDuration::from_secs(60));
    let (status, answer) = env
        .create(&json!({
            "reportType": TYPE,
            "marketplaceIds": [JP],
            "dataStartTime": "2026-11-24T00:00:00Z",
            "dataEndTime": "2026-12-01T00:00:00+00:00",
            "reportOptions": {"any": "string"}
        }))
        .await;
    assert_eq!(status, 202, "{answer}");
    let r = env.report(answer["reportId"].as_str().unwrap()).await;
    assert_eq!(r["dataStartTime"], "2026-11-24T00:00:00Z");
    assert_eq!(r["dataEndTime"], "2026-12-01T00:00:00Z");
}

#[tokio::test]
async fn unknown_ids_are_404_and_the_reports_operations_not_served_are_unknown_paths() {
    let env = start(SimConfig::default()).await;
    for path in [
        format!("{REPORTS}/99999"),
        format!("{DOCUMENTS}/amzn1.spdoc.1.4.fe.nothing"),
    ] {
        let (status, answer) = env.get(&path).await;
        assert_eq!(
            (status, answer["errors"][0]["code"].clone()),
            (404, json!("NotFound"))
        );
    }
    let id = env.request(&[JP]).await;
    let (status, answer) = env.get(&format!("{REPORTS}/{id}?reportType={TYPE}")).await;
    assert_eq!(status, 400, "getReport takes no query: {answer}");
    for (method, path) in [
        (
            reqwest::Method::GET,
            format!("{REPORTS}?reportTypes={TYPE}"),
        ),
        (reqwest::Method::DELETE, format!("{REPORTS}/{id}")),
        (
            reqwest::Method::GET,
            format!("/reports/2021-06-30/schedules?reportTypes={TYPE}"),
        ),
    ] {
        let (status, answer) = env.call(method.clone(), &path, None).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert_eq!(answer["errors"][0]["message"], "No such operation");
    }
    let unknown = env
        .sim
        .log()
        .iter()
        .filter(|l| l["operation"] == "unknown")
        .count();
    assert_eq!(unknown, 3);
}

#[tokio::test]
async fn each_reports_operation_keeps_amazons_rate_and_burst() {
    let env = start(SimConfig::default()).await;
    // createReport: 15 at once, then one per minute (0.0167/s).
    let mut ids = Vec::new();
    for _ in 0..15 {
        ids.push(env.request(&[JP]).await);
    }
    let (status, answer) = env
        .create(&json!({"reportType": TYPE, "marketplaceIds": [JP]}))
        .await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["errors"][0]["code"], "QuotaExceeded");
    env.clock.advance(SignedDuration::from_secs(60));
    assert_eq!(
        env.create(&json!({"reportType": TYPE, "marketplaceIds": [JP]}))
            .await
            .0,
        202
    );

    // getReport: 15 at once, then two a second.
    env.clock.advance(mins(5));
    for id in &ids {
        env.report(id).await;
    }
    assert_eq!(env.get(&format!("{REPORTS}/{}", ids[0])).await.0, 429);
    env.clock.advance(SignedDuration::from_millis(500));
    let (status, report) = env.get(&format!("{REPORTS}/{}", ids[0])).await;
    assert_eq!(status, 200);

    // getReportDocument: 15 at once, then one per minute.
    let doc = report["reportDocumentId"].as_str().unwrap().to_string();
    let path = format!("{DOCUMENTS}/{doc}");
    for _ in 0..15 {
        assert_eq!(env.get(&path).await.0, 200);
    }
    let (status, answer) = env.get(&path).await;
    assert_eq!(
        (status, answer["errors"][0]["code"].clone()),
        (429, json!("QuotaExceeded"))
    );
    env.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(env.get(&path).await.0, 429);
    env.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(env.get(&path).await.0, 200);
}

#[tokio::test]
async fn without_the_selling_partner_insights_role_every_reports_call_is_403() {
    let env = start(SimConfig {
        missing_roles: [Role::SellingPartnerInsights].into(),
        ..SimConfig::default()
    })
    .await;
    let id = "503-3000005-0000001";
    env.sim.add_order(order(id, t0() - hours(1)));
    for (status, answer) in [
        env.create(&json!({"reportType": TYPE, "marketplaceIds": [JP]}))
            .await,
        env.get(&format!("{REPORTS}/1")).await,
        env.get(&format!("{DOCUMENTS}/amzn1.spdoc.1.4.fe.sim-1"))
            .await,
    ] {
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["errors"][0]["code"], "Unauthorized");
        assert_eq!(
            answer["errors"][0]["message"],
            "Access to requested resource is denied."
        );
    }
    // Orders are another role: still served.
    let (status, _) = env.get(&format!("/orders/2026-01-01/orders/{id}")).await;
    assert_eq!(status, 200);
}
