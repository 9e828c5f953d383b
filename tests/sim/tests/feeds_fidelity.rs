//! The simulator's Feeds API answers as strictly as Amazon: each rule has a test that sends the
//! wrong upload or feed and sees Amazon's answer (status, report), beside one where the right
//! feed works. Everything goes over HTTP to a simulator on 127.0.0.1, on a virtual clock.

mod common;

use std::io::Read;

use common::Env;
use jiff::{SignedDuration, Timestamp};
use kenzen_sim::{Action, Buyer, FeedOutcome, ReportCharset, SimConfig, SimItem, SimOrder};
use serde_json::{Value, json};

const XML: &str = "text/xml; charset=UTF-8";
const MP: &str = "A1VC38T7YXB528";
const ORDER: &str = "503-1000001-0000001";
const OTHER: &str = "503-1000001-0000002";

/// A simulator serving on a free port, a seller token, and two open orders: `ORDER` with items
/// `I1` and `I2`, `OTHER` with item `J1`.
fn item(id: &str, sku: &str) -> SimItem {
    SimItem {
        order_item_id: id.into(),
        sku: sku.into(),
        asin: "B0TEST0001".into(),
        title: "けん玉".into(),
        quantity: 1,
        unit_price: "1200".into(),
    }
}

async fn start(config: SimConfig) -> Env {
    let t0: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    common::start(config, t0, |sim| {
        let placed = t0 - SignedDuration::from_hours(1);
        let ship_by = t0 + SignedDuration::from_hours(48);
        sim.add_order(SimOrder::new(
            ORDER,
            placed,
            ship_by,
            vec![item("I1", "KENDAMA"), item("I2", "DARUMA")],
            Buyer::Silent,
            "ja-JP",
        ));
        sim.add_order(SimOrder::new(
            OTHER,
            placed,
            ship_by,
            vec![item("J1", "KENDAMA")],
            Buyer::Silent,
            "ja-JP",
        ));
    })
    .await
}

impl Env {
    /// One SP-API call with `body` as JSON: the status and the JSON answer (`Null` when the
    /// answer is not JSON).
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        match self.send(method, path, body.as_deref()).await {
            (status, Value::String(_)) => (status, Value::Null),
            answer => answer,
        }
    }

    /// createFeedDocument for `content_type`: (feedDocumentId, upload url).
    async fn create_document(&self, content_type: &str) -> (String, String) {
        let (status, doc) = self
            .call(
                reqwest::Method::POST,
                "/feeds/2021-06-30/documents",
                Some(json!({"contentType": content_type})),
            )
            .await;
        assert_eq!(status, 201, "{doc}");
        (
            doc["feedDocumentId"].as_str().unwrap().into(),
            doc["url"].as_str().unwrap().into(),
        )
    }

    async fn upload(&self, url: &str, content_type: Option<&str>, body: &[u8]) -> (u16, String) {
        let mut req = self.http.put(url).body(body.to_vec());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn create_feed(&self, doc_id: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/feeds/2021-06-30/feeds",
            Some(json!({
                "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                "marketplaceIds": [self.sim.config.marketplace_id],
                "inputFeedDocumentId": doc_id,
            })),
        )
        .await
    }

    /// Uploads `body` as a feed the right way and creates the feed: its id.
    async fn submit(&self, body: &[u8]) -> String {
        let (doc_id, url) = self.create_document(XML).await;
        assert_eq!(self.upload(&url, Some(XML), body).await.0, 200);
        let (status, feed) = self.create_feed(&doc_id).await;
        assert_eq!(status, 202, "{feed}");
        feed["feedId"].as_str().unwrap().into()
    }

    /// Waits out the queue and reads the feed.
    async fn finished(&self, feed_id: &str) -> Value {
        let path = format!("/feeds/2021-06-30/feeds/{feed_id}");
        let (status, feed) = self.call(reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200);
        assert_eq!(feed["processingStatus"], "IN_QUEUE");
        self.clock.advance(SignedDuration::from_mins(5));
        let (status, feed) = self.call(reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200);
        feed
    }

    /// Downloads the feed's result document: (content type, text decoded by its charset).
    async fn report(&self, feed: &Value) -> (String, String) {
        let id = feed["resultFeedDocumentId"]
            .as_str()
            .expect("a result document");
        let path = format!("/feeds/2021-06-30/documents/{id}");
        let (status, doc) = self.call(reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200, "{doc}");
        let resp = self
            .http
            .get(doc["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
        let bytes = resp.bytes().await.unwrap();
        let mut raw = Vec::new();
        if doc["compressionAlgorithm"] == "GZIP" {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut raw)
                .unwrap();
        } else {
            raw = bytes.to_vec();
        }
        let charset = content_type
            .split_once("charset=")
            .map(|(_, c)| c.trim())
            .expect("the content type names the charset");
        let encoding = encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap();
        let (text, _, bad) = encoding.decode(&raw);
        assert!(!bad, "the report is not {charset}");
        (content_type, text.into_owned())
    }

    /// Submits `body`, waits it out, and reads the outcome: (feed, report text if any).
    async fn run(&self, body: &str) -> (Value, Option<String>) {
        let feed_id = self.submit(body.as_bytes()).await;
        let feed = self.finished(&feed_id).await;
        let report = match feed.get("resultFeedDocumentId") {
            Some(_) => Some(self.report(&feed).await.1),
            None => None,
        };
        (feed, report)
    }

    fn status(&self, order_id: &str) -> &'static str {
        self.sim.order(order_id).unwrap().status
    }
}

/// One message of a test feed: (AmazonOrderID, StatusCode, items as (AmazonOrderItemCode,
/// CancelReason)).
type Msg<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// An order acknowledgement feed from the simulator's seller.
fn feed(messages: &[Msg]) -> String {
    feed_from(&SimConfig::default().seller_id, messages)
}

fn feed_from(merchant: &str, messages: &[Msg]) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AmazonEnvelope \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:noNamespaceSchemaLocation=\"amzn-envelope.xsd\">\n<Header><DocumentVersion>1.01\
         </DocumentVersion><MerchantIdentifier>{merchant}</MerchantIdentifier></Header>\n\
         <MessageType>OrderAcknowledgement</MessageType>\n"
    );
    for (i, (order, status, items)) in messages.iter().enumerate() {
        x.push_str(&format!(
            "<Message><MessageID>{}</MessageID><OrderAcknowledgement><AmazonOrderID>{order}\
             </AmazonOrderID><StatusCode>{status}</StatusCode>",
            i + 1
        ));
        for (code, reason) in *items {
            x.push_str(&format!(
                "<Item><AmazonOrderItemCode>{code}</AmazonOrderItemCode>\
                 <CancelReason>{reason}</CancelReason></Item>"
            ));
        }
        x.push_str("</OrderAcknowledgement></Message>\n");
    }
    x.push_str("</AmazonEnvelope>\n");
    x
}

/// The text of every `<tag>` in `xml`.
fn all<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|s| s.split_once(close.as_str()).map(|(v, _)| v))
        .collect()
}

fn one<'a>(xml: &'a str, tag: &str) -> &'a str {
    let found = all(xml, tag);
    assert_eq!(found.len(), 1, "one <{tag}> in {xml}");
    found[0]
}

/// The report's (MessagesProcessed, MessagesSuccessful, MessagesWithError).
fn counts(report: &str) -> (u32, u32, u32) {
    let n = |tag| one(report, tag).parse().unwrap();
    (
        n("MessagesProcessed"),
        n("MessagesSuccessful"),
        n("MessagesWithError"),
    )
}

/// The report's `<Result>` elements.
fn results(report: &str) -> Vec<&str> {
    all(report, "Result")
}

#[tokio::test]
async fn a_right_cancel_feed_cancels_the_order_and_its_report_lists_no_error() {
    let env = start(SimConfig::default()).await;
    let (feed, report) = env
        .run(&feed(&[(
            ORDER,
            "Failure",
            &[("I1", "NoInventory"), ("I2", "NoInventory")],
        )]))
        .await;
    assert_eq!(feed["processingStatus"], "DONE");
    let report = report.unwrap();
    assert_eq!(counts(&report), (1, 1, 0));
    assert!(results(&report).is_empty());
    let o = env.sim.order(ORDER).unwrap();
    assert_eq!(o.status, "CANCELLED");
    assert_eq!(o.cancel, Some(("MERCHANT".into(), "NoInventory".into())));
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn a_report_is_gzip_utf8_xml_and_says_so_in_its_content_type() {
    let env = start(SimConfig::default()).await;
    let feed_id = env
        .submit(feed(&[(OTHER, "Failure", &[("J1", "BuyerCanceled")])]).as_bytes())
        .await;
    let feed = env.finished(&feed_id).await;
    let (content_type, report) = env.report(&feed).await;
    assert_eq!(content_type, "text/xml; charset=UTF-8");
    assert!(report.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_eq!(one(&report, "StatusCode"), "Complete");
    assert_eq!(one(&report, "DocumentTransactionID"), feed_id);
}

#[tokio::test]
async fn an_upload_with_another_content_type_than_the_document_was_created_for_is_refused_like_s3()
{
    let env = start(SimConfig::default()).await;
    let body = feed(&[(ORDER, "Failure", &[])]);
    let (doc_id, url) = env.create_document(XML).await;
    for wrong in [
        Some("text/xml"),
        Some("text/xml;charset=UTF-8"),
        Some("application/xml; charset=UTF-8"),
        Some("text/tab-separated-values; charset=UTF-8"),
        None,
    ] {
        let (status, answer) = env.upload(&url, wrong, body.as_bytes()).await;
        assert_eq!(status, 403, "{wrong:?}");
        assert!(
            answer.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{wrong:?}: {answer}"
        );
    }
    // Nothing was uploaded, so no feed can be made of it.
    let (status, answer) = env.create_feed(&doc_id).await;
    assert_eq!(status, 400, "{answer}");
    // The content type it was created for is taken.
    assert_eq!(env.upload(&url, Some(XML), body.as_bytes()).await.0, 200);
    assert_eq!(env.create_feed(&doc_id).await.0, 202);
}

#[tokio::test]
async fn an_upload_url_is_signed_for_its_own_content_type_only() {
    let env = start(SimConfig::default()).await;
    let (_, url) = env
        .create_document("text/tab-separated-values; charset=UTF-8")
        .await;
    let (status, answer) = env.upload(&url, Some(XML), b"x").await;
    assert_eq!(status, 403);
    assert!(answer.contains("SignatureDoesNotMatch"), "{answer}");
    assert_eq!(
        env.upload(&url, Some("text/tab-separated-values; charset=UTF-8"), b"x")
            .await
            .0,
        200
    );
    // A URL without its signature is no upload URL at all.
    let unsigned = url.split_once('?').unwrap().0;
    let (status, answer) = env.upload(unsigned, Some(XML), b"x").await;
    assert_eq!(status, 403);
    assert!(answer.contains("<Code>AccessDenied</Code>"), "{answer}");
}

#[tokio::test]
async fn a_document_that_is_not_well_formed_xml_ends_the_feed_fatal_with_a_report_saying_so() {
    let right = feed(&[(ORDER, "Failure", &[("I1", "NoInventory")])]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "unclosed element",
            right.replace("</AmazonEnvelope>", "").into_bytes(),
        ),
        (
            "mismatched end tag",
            right.replace("</Header>", "</Heading>").into_bytes(),
        ),
        (
            "content after the root",
            format!("{right}<AmazonEnvelope/>").into_bytes(),
        ),
        ("text before the root", format!("oops{right}").into_bytes()),
        ("bare ampersand", right.replace("I1", "I&1").into_bytes()),
        (
            "undeclared entity",
            right.replace("I1", "I&nbsp;1").into_bytes(),
        ),
        (
            "DOCTYPE",
            right
                .replace(
                    "?>\n",
                    "?>\n<!DOCTYPE AmazonEnvelope [<!ENTITY x \"y\">]>\n",
                )
                .into_bytes(),
        ),
        (
            "not UTF-8",
            right
                .replace("I1", "I\u{1}1")
                .bytes()
                .map(|b| if b == 1 { 0xe9 } else { b })
                .collect(),
        ),
        ("empty", Vec::new()),
        ("not XML", b"order-id\tcancel-reason\n".to_vec()),
    ];
    for (what, body) in cases {
        let env = start(SimConfig::default()).await;
        let feed_id = env.submit(&body).await;
        let feed = env.finished(&feed_id).await;
        assert_eq!(feed["processingStatus"], "FATAL", "{what}");
        let (_, report) = env.report(&feed).await;
        let r = results(&report);
        assert_eq!(r.len(), 1, "{what}: {report}");
        assert!(
            one(r[0], "ResultDescription").starts_with("XML Parsing Fatal Error"),
            "{what}: {report}"
        );
        assert_eq!(one(r[0], "MessageID"), "0", "{what}: the whole document");
        assert!(all(r[0], "AmazonOrderID").is_empty(), "{what}");
        assert_eq!(env.status(ORDER), "UNSHIPPED", "{what}");
    }
}

#[tokio::test]
async fn a_document_whose_root_is_not_an_amazon_envelope_ends_the_feed_fatal() {
    let env = start(SimConfig::default()).await;
    let body =
        feed(&[(ORDER, "Failure", &[("I1", "NoInventory")])]).replace("AmazonEnvelope", "Envelope");
    let (feed, report) = env.run(&body).await;
    assert_eq!(feed["processingStatus"], "FATAL");
    let report = report.unwrap();
    assert!(one(&report, "ResultDescription").contains("'AmazonEnvelope'"));
    assert_eq!(env.status(ORDER), "UNSHIPPED");
}

#[tokio::test]
async fn a_feed_naming_another_merchant_fails_as_a_whole_document_and_cancels_nothing() {
    let env = start(SimConfig::default()).await;
    let body = feed_from(
        "A9SOMEONEELSE",
        &[(
            ORDER,
            "Failure",
            &[("I1", "NoInventory"), ("I2", "NoInventory")],
        )],
    );
    let (feed, report) = env.run(&body).await;
    assert_eq!(feed["processingStatus"], "DONE");
    let report = report.unwrap();
    let r = results(&report);
    assert_eq!(r.len(), 1, "{report}");
    assert_eq!(one(r[0], "MessageID"), "0", "the whole document");
    assert!(all(r[0], "AmazonOrderID").is_empty());
    assert!(one(r[0], "ResultDescription").contains("MerchantIdentifier"));
    assert_eq!(counts(&report), (0, 0, 1));
    assert_eq!(env.status(ORDER), "UNSHIPPED");
}

#[tokio::test]
async fn a_wrong_header_or_message_type_fails_the_whole_document() {
    let right = feed(&[(
        ORDER,
        "Failure",
        &[("I1", "NoInventory"), ("I2", "NoInventory")],
    )]);
    let cases = [
        (
            "another message type",
            right.replace(
                "<MessageType>OrderAcknowledgement</MessageType>",
                "<MessageType>OrderFulfillment</MessageType>",
            ),
            "MessageType",
        ),
        (
            "no DocumentVersion",
            right.replace("<DocumentVersion>1.01</DocumentVersion>", ""),
            "DocumentVersion",
        ),
        (
            "no MerchantIdentifier",
            right.replace("<MerchantIdentifier>A2KENZENSELLER</MerchantIdentifier>", ""),
            "MerchantIdentifier",
        ),
        (
            "no Header",
            right.replace(
                "<Header><DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>A2KENZENSELLER</MerchantIdentifier></Header>",
                "",
            ),
            "Header",
        ),
        (
            "no MessageType",
            right.replace("<MessageType>OrderAcknowledgement</MessageType>", ""),
            "MessageType",
        ),
        (
            "no Message",
            feed(&[]),
            "Message",
        ),
    ];
    for (what, body, named) in cases {
        assert_ne!(body, right, "{what}: the case changes the feed");
        let env = start(SimConfig::default()).await;
        let (feed, report) = env.run(&body).await;
        assert_eq!(feed["processingStatus"], "DONE", "{what}");
        let report = report.unwrap();
        let r = results(&report);
        assert_eq!(r.len(), 1, "{what}: {report}");
        assert_eq!(one(r[0], "MessageID"), "0", "{what}: the whole document");
        assert!(
            one(r[0], "ResultDescription").contains(named),
            "{what}: {report}"
        );
        assert_eq!(env.status(ORDER), "UNSHIPPED", "{what}");
    }
}

#[tokio::test]
async fn success_acknowledges_the_order_and_cancels_nothing() {
    let env = start(SimConfig::default()).await;
    let (feed, report) = env
        .run(&feed(&[
            (ORDER, "Success", &[]),
            (OTHER, "Success", &[("J1", "NoInventory")]),
        ]))
        .await;
    assert_eq!(feed["processingStatus"], "DONE");
    let report = report.unwrap();
    assert_eq!(counts(&report), (2, 2, 0));
    for id in [ORDER, OTHER] {
        let o = env.sim.order(id).unwrap();
        assert_eq!(o.status, "UNSHIPPED");
        assert_eq!(o.cancel, None);
        assert!(o.cancelled_items.is_empty());
    }
}

#[tokio::test]
async fn item_cancels_cancel_only_the_items_listed_and_the_order_stays_open_until_all_are() {
    let env = start(SimConfig::default()).await;
    let (_, report) = env
        .run(&feed(&[(ORDER, "Failure", &[("I1", "NoInventory")])]))
        .await;
    assert_eq!(counts(&report.unwrap()), (1, 1, 0));
    let o = env.sim.order(ORDER).unwrap();
    assert_eq!(o.status, "UNSHIPPED");
    assert_eq!(o.cancel, None);
    assert_eq!(
        o.cancelled_items.get("I1").map(String::as_str),
        Some("NoInventory")
    );
    assert!(!o.cancelled_items.contains_key("I2"));

    let (_, report) = env
        .run(&feed(&[(ORDER, "Failure", &[("I2", "GeneralAdjustment")])]))
        .await;
    assert_eq!(counts(&report.unwrap()), (1, 1, 0));
    let o = env.sim.order(ORDER).unwrap();
    assert_eq!(o.status, "CANCELLED");
    assert_eq!(
        o.cancel,
        Some(("MERCHANT".into(), "GeneralAdjustment".into()))
    );
}

#[tokio::test]
async fn failure_without_items_cancels_the_whole_order() {
    let env = start(SimConfig::default()).await;
    let (_, report) = env.run(&feed(&[(ORDER, "Failure", &[])])).await;
    assert_eq!(counts(&report.unwrap()), (1, 1, 0));
    let o = env.sim.order(ORDER).unwrap();
    assert_eq!(o.status, "CANCELLED");
    assert_eq!(o.cancelled_items.len(), 2);
}

#[tokio::test]
async fn an_unknown_cancel_reason_is_an_error_for_that_message_alone() {
    let env = start(SimConfig::default()).await;
    let (feed, report) = env
        .run(&feed(&[
            (
                ORDER,
                "Failure",
                &[("I1", "OutOfStock"), ("I2", "NoInventory")],
            ),
            (OTHER, "Failure", &[("J1", "NoInventory")]),
        ]))
        .await;
    assert_eq!(feed["processingStatus"], "DONE");
    let report = report.unwrap();
    assert_eq!(counts(&report), (2, 1, 1));
    let r = results(&report);
    assert_eq!(r.len(), 1, "{report}");
    assert_eq!(one(r[0], "MessageID"), "1");
    assert_eq!(one(r[0], "ResultCode"), "Error");
    assert_eq!(one(r[0], "AmazonOrderID"), ORDER);
    assert!(one(r[0], "ResultDescription").contains("OutOfStock"));
    // Nothing of the message in error is applied, not even its valid item.
    let o = env.sim.order(ORDER).unwrap();
    assert_eq!(o.status, "UNSHIPPED");
    assert!(o.cancelled_items.is_empty());
    assert_eq!(env.status(OTHER), "CANCELLED");
}

#[tokio::test]
async fn a_message_that_breaks_the_schema_is_an_error_for_that_message_alone() {
    let good = feed(&[
        (
            ORDER,
            "Failure",
            &[("I1", "NoInventory"), ("I2", "NoInventory")],
        ),
        (OTHER, "Failure", &[("J1", "NoInventory")]),
    ]);
    let first = "<Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>503-1000001-0000001</AmazonOrderID><StatusCode>Failure</StatusCode>";
    assert!(good.contains(first));
    let cases = [
        (
            "no MessageID",
            good.replace("<MessageID>1</MessageID>", ""),
        ),
        (
            "MessageID not a number",
            good.replace("<MessageID>1</MessageID>", "<MessageID>one</MessageID>"),
        ),
        (
            "no AmazonOrderID",
            good.replace("<AmazonOrderID>503-1000001-0000001</AmazonOrderID>", ""),
        ),
        (
            "no StatusCode",
            good.replacen("<StatusCode>Failure</StatusCode>", "", 1),
        ),
        (
            "unknown StatusCode",
            good.replacen(
                "<StatusCode>Failure</StatusCode>",
                "<StatusCode>Cancel</StatusCode>",
                1,
            ),
        ),
        (
            "elements out of order",
            good.replacen(
                "<AmazonOrderID>503-1000001-0000001</AmazonOrderID><StatusCode>Failure</StatusCode>",
                "<StatusCode>Failure</StatusCode><AmazonOrderID>503-1000001-0000001</AmazonOrderID>",
                1,
            ),
        ),
        (
            "unknown element",
            good.replacen(
                "<StatusCode>Failure</StatusCode>",
                "<StatusCode>Failure</StatusCode><Note>x</Note>",
                1,
            ),
        ),
        (
            "item without its code",
            good.replacen("<AmazonOrderItemCode>I1</AmazonOrderItemCode>", "", 1),
        ),
    ];
    for (what, body) in cases {
        assert_ne!(body, good, "{what}: the case changes the feed");
        let env = start(SimConfig::default()).await;
        let (feed, report) = env.run(&body).await;
        assert_eq!(feed["processingStatus"], "DONE", "{what}");
        let report = report.unwrap();
        assert_eq!(counts(&report), (2, 1, 1), "{what}: {report}");
        let r = results(&report);
        assert_eq!(r.len(), 1, "{what}: {report}");
        assert_eq!(one(r[0], "ResultCode"), "Error", "{what}");
        assert!(
            one(r[0], "ResultDescription").starts_with("XML Parsing Error"),
            "{what}: {report}"
        );
        assert_eq!(env.status(ORDER), "UNSHIPPED", "{what}");
        assert_eq!(env.status(OTHER), "CANCELLED", "{what}");
    }
}

#[tokio::test]
async fn a_message_id_used_twice_is_an_error_for_the_later_message() {
    let env = start(SimConfig::default()).await;
    let body = feed(&[
        (
            ORDER,
            "Failure",
            &[("I1", "NoInventory"), ("I2", "NoInventory")],
        ),
        (OTHER, "Failure", &[("J1", "NoInventory")]),
    ])
    .replace("<MessageID>2</MessageID>", "<MessageID>1</MessageID>");
    let (_, report) = env.run(&body).await;
    let report = report.unwrap();
    assert_eq!(counts(&report), (2, 1, 1));
    assert_eq!(one(&report, "AmazonOrderID"), OTHER);
    assert!(one(&report, "ResultDescription").contains("MessageID 1"));
    assert_eq!(env.status(ORDER), "CANCELLED");
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn cancelling_an_order_already_cancelled_is_an_error_in_the_report() {
    let env = start(SimConfig::default()).await;
    let cancel = feed(&[(OTHER, "Failure", &[("J1", "BuyerCanceled")])]);
    let (_, report) = env.run(&cancel).await;
    assert_eq!(counts(&report.unwrap()), (1, 1, 0));
    assert_eq!(env.status(OTHER), "CANCELLED");

    let (feed, report) = env.run(&cancel).await;
    assert_eq!(feed["processingStatus"], "DONE");
    let report = report.unwrap();
    assert_eq!(counts(&report), (1, 0, 1));
    let r = results(&report);
    assert_eq!(r.len(), 1);
    assert_eq!(one(r[0], "MessageID"), "1");
    assert_eq!(one(r[0], "AmazonOrderID"), OTHER);
    assert!(one(r[0], "ResultDescription").contains("already cancelled"));
}

#[tokio::test]
async fn an_unread_earlier_feed_is_processed_first_and_the_later_one_reports_the_order_already_cancelled()
 {
    let t0: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    let env = start(SimConfig {
        feed_stuck_until: Some(t0 + SignedDuration::from_mins(30)),
        ..SimConfig::default()
    })
    .await;
    let cancel = feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])]);
    let first = env.submit(cancel.as_bytes()).await;
    env.clock.advance(SignedDuration::from_mins(10));
    let second = env.submit(cancel.as_bytes()).await;
    env.clock.advance(SignedDuration::from_mins(30));
    // Only the later feed is read; the earlier one was ahead of it in the queue.
    let path = format!("/feeds/2021-06-30/feeds/{second}");
    let (_, later) = env.call(reqwest::Method::GET, &path, None).await;
    assert_eq!(later["processingStatus"], "DONE");
    let (_, report) = env.report(&later).await;
    assert_eq!(counts(&report), (1, 0, 1));
    assert!(one(&report, "ResultDescription").contains("already cancelled"));
    let path = format!("/feeds/2021-06-30/feeds/{first}");
    let (_, earlier) = env.call(reqwest::Method::GET, &path, None).await;
    assert_eq!(earlier["processingStatus"], "DONE");
    assert_eq!(counts(&env.report(&earlier).await.1), (1, 1, 0));
    assert_eq!(env.status(OTHER), "CANCELLED");
}

#[tokio::test]
async fn cancelling_an_item_already_cancelled_is_an_error_in_the_report() {
    let env = start(SimConfig::default()).await;
    let cancel = feed(&[(ORDER, "Failure", &[("I1", "NoInventory")])]);
    env.run(&cancel).await;
    let (_, report) = env.run(&cancel).await;
    let report = report.unwrap();
    assert_eq!(counts(&report), (1, 0, 1));
    assert!(one(&report, "ResultDescription").contains("I1"));
    assert_eq!(env.status(ORDER), "UNSHIPPED");
}

#[tokio::test]
async fn cancelling_an_order_the_buyer_cancelled_is_an_error_in_the_report() {
    let env = start(SimConfig::default()).await;
    env.sim
        .schedule(env.clock.now(), OTHER, Action::BuyerCancels);
    env.sim.advance();
    let (_, report) = env
        .run(&feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])]))
        .await;
    let report = report.unwrap();
    assert_eq!(counts(&report), (1, 0, 1));
    assert!(one(&report, "ResultDescription").contains("already cancelled"));
    let o = env.sim.order(OTHER).unwrap();
    assert_eq!(o.cancel, Some(("BUYER".into(), "BUYER_CANCELED".into())));
}

#[tokio::test]
async fn cancelling_a_shipped_order_is_an_error_in_the_report() {
    let env = start(SimConfig::default()).await;
    env.sim.ship(OTHER);
    let (_, report) = env
        .run(&feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])]))
        .await;
    let report = report.unwrap();
    assert_eq!(counts(&report), (1, 0, 1));
    assert_eq!(one(&report, "AmazonOrderID"), OTHER);
    assert!(one(&report, "ResultDescription").contains("SHIPPED"));
    assert_eq!(env.status(OTHER), "SHIPPED");
}

#[tokio::test]
async fn an_item_or_order_the_marketplace_does_not_have_is_an_error_and_nothing_of_it_applies() {
    let env = start(SimConfig::default()).await;
    let (_, report) = env
        .run(&feed(&[
            (
                ORDER,
                "Failure",
                &[("I1", "NoInventory"), ("J1", "NoInventory")],
            ),
            ("503-9999999-9999999", "Failure", &[("X1", "NoInventory")]),
            (
                OTHER,
                "Failure",
                &[("J1", "NoInventory"), ("J1", "NoInventory")],
            ),
        ]))
        .await;
    let report = report.unwrap();
    assert_eq!(counts(&report), (3, 0, 3));
    let ids: Vec<&str> = results(&report)
        .iter()
        .map(|r| one(r, "AmazonOrderID"))
        .collect();
    assert_eq!(ids, [ORDER, "503-9999999-9999999", OTHER]);
    let o = env.sim.order(ORDER).unwrap();
    assert!(o.cancelled_items.is_empty());
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn an_item_cancelled_without_a_reason_is_an_error() {
    let env = start(SimConfig::default()).await;
    let body = feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])])
        .replace("<CancelReason>NoInventory</CancelReason>", "");
    let (_, report) = env.run(&body).await;
    let report = report.unwrap();
    assert_eq!(counts(&report), (1, 0, 1));
    assert!(one(&report, "ResultDescription").contains("CancelReason"));
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn a_feed_for_a_marketplace_the_seller_does_not_sell_in_is_refused() {
    let env = start(SimConfig::default()).await;
    let (doc_id, url) = env.create_document(XML).await;
    let body = feed(&[(OTHER, "Failure", &[])]);
    assert_eq!(env.upload(&url, Some(XML), body.as_bytes()).await.0, 200);
    for ids in [json!(["ATVPDKIKX0DER"]), json!([])] {
        let (status, answer) = env
            .call(
                reqwest::Method::POST,
                "/feeds/2021-06-30/feeds",
                Some(json!({
                    "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                    "marketplaceIds": ids,
                    "inputFeedDocumentId": doc_id,
                })),
            )
            .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["errors"][0]["code"], "InvalidInput");
    }
}

#[tokio::test]
async fn a_feed_can_be_made_to_end_fatal_without_a_result_document() {
    let env = start(SimConfig {
        feed_outcome: FeedOutcome::Fatal { report: false },
        ..SimConfig::default()
    })
    .await;
    let (feed, report) = env.run(&feed(&[(OTHER, "Failure", &[])])).await;
    assert_eq!(feed["processingStatus"], "FATAL");
    assert!(feed.get("resultFeedDocumentId").is_none());
    assert!(report.is_none());
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn a_feed_can_be_made_to_end_fatal_with_a_result_document_that_says_why() {
    let env = start(SimConfig {
        feed_outcome: FeedOutcome::Fatal { report: true },
        ..SimConfig::default()
    })
    .await;
    let (feed, report) = env.run(&feed(&[(OTHER, "Failure", &[])])).await;
    assert_eq!(feed["processingStatus"], "FATAL");
    let report = report.unwrap();
    let r = results(&report);
    assert_eq!(r.len(), 1);
    assert_eq!(one(r[0], "MessageID"), "0", "the whole document");
    assert!(one(r[0], "ResultDescription").contains("internal error"));
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn a_feed_can_be_made_to_end_cancelled() {
    let env = start(SimConfig {
        feed_outcome: FeedOutcome::Cancelled,
        ..SimConfig::default()
    })
    .await;
    let (feed, report) = env.run(&feed(&[(OTHER, "Failure", &[])])).await;
    assert_eq!(feed["processingStatus"], "CANCELLED");
    assert!(feed.get("resultFeedDocumentId").is_none());
    assert!(feed.get("processingEndTime").is_none());
    assert!(report.is_none());
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn a_summary_only_report_counts_the_errors_but_lists_no_result() {
    let env = start(SimConfig {
        feed_outcome: FeedOutcome::SummaryOnly,
        ..SimConfig::default()
    })
    .await;
    let (feed, report) = env
        .run(&feed(&[
            (OTHER, "Failure", &[("J1", "NoInventory")]),
            ("503-9999999-9999999", "Failure", &[]),
        ]))
        .await;
    assert_eq!(feed["processingStatus"], "DONE");
    let report = report.unwrap();
    assert_eq!(counts(&report), (2, 1, 1));
    assert!(results(&report).is_empty(), "{report}");
    // The messages are applied all the same.
    assert_eq!(env.status(OTHER), "CANCELLED");
}

#[tokio::test]
async fn a_whole_document_error_report_names_no_message_and_no_order_and_applies_nothing() {
    let env = start(SimConfig {
        feed_outcome: FeedOutcome::DocumentError,
        ..SimConfig::default()
    })
    .await;
    let (feed, report) = env
        .run(&feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])]))
        .await;
    assert_eq!(feed["processingStatus"], "DONE");
    let report = report.unwrap();
    let r = results(&report);
    assert_eq!(r.len(), 1, "{report}");
    assert_eq!(one(r[0], "MessageID"), "0", "the whole document");
    assert!(all(r[0], "AmazonOrderID").is_empty());
    assert!(one(r[0], "ResultDescription").starts_with("XML Parsing Fatal Error"));
    assert_eq!(env.status(OTHER), "UNSHIPPED");
}

#[tokio::test]
async fn a_feed_outcome_can_be_limited_to_the_first_feeds() {
    let env = start(SimConfig {
        feed_outcome: FeedOutcome::Fatal { report: false },
        feed_outcome_feeds: Some(1),
        ..SimConfig::default()
    })
    .await;
    let cancel = feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])]);
    let (first, _) = env.run(&cancel).await;
    assert_eq!(first["processingStatus"], "FATAL");
    assert_eq!(env.status(OTHER), "UNSHIPPED");
    let (second, report) = env.run(&cancel).await;
    assert_eq!(second["processingStatus"], "DONE");
    assert_eq!(counts(&report.unwrap()), (1, 1, 0));
    assert_eq!(env.status(OTHER), "CANCELLED");
}

#[tokio::test]
async fn a_report_in_windows_31j_says_so_in_its_content_type_and_is_shift_jis() {
    let env = start(SimConfig {
        report_charset: ReportCharset::Windows31J,
        ..SimConfig::default()
    })
    .await;
    env.sim.ship(OTHER);
    let feed_id = env
        .submit(feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])]).as_bytes())
        .await;
    let feed = env.finished(&feed_id).await;
    let (content_type, report) = env.report(&feed).await;
    assert_eq!(content_type, "text/xml; charset=windows-31j");
    assert!(report.starts_with("<?xml version=\"1.0\" encoding=\"Windows-31J\"?>"));
    let description = one(&report, "ResultDescription");
    assert!(
        description.contains("キャンセルできません"),
        "{description}"
    );

    // The bytes themselves are Shift_JIS, not UTF-8.
    let id = feed["resultFeedDocumentId"].as_str().unwrap();
    let (_, doc) = env
        .call(
            reqwest::Method::GET,
            &format!("/feeds/2021-06-30/documents/{id}"),
            None,
        )
        .await;
    let gz = env
        .http
        .get(doc["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .unwrap();
    assert!(std::str::from_utf8(&raw).is_err());
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("キャンセルできません");
    assert!(raw.windows(sjis.len()).any(|w| w == &sjis[..]));
}

#[tokio::test]
async fn the_feed_kenzen_builds_is_read_as_right() {
    // The shape kenzen's adapter writes (indented, xsi attributes, one Item per line).
    let env = start(SimConfig::default()).await;
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<AmazonEnvelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"amzn-envelope.xsd\">\n\
  <Header>\n    <DocumentVersion>1.01</DocumentVersion>\n    <MerchantIdentifier>A2KENZENSELLER</MerchantIdentifier>\n  </Header>\n\
  <MessageType>OrderAcknowledgement</MessageType>\n\
  <Message>\n    <MessageID>1</MessageID>\n    <OrderAcknowledgement>\n      <AmazonOrderID>503-1000001-0000001</AmazonOrderID>\n      <StatusCode>Failure</StatusCode>\n\
      <Item>\n        <AmazonOrderItemCode>I1</AmazonOrderItemCode>\n        <CancelReason>BuyerCanceled</CancelReason>\n      </Item>\n\
      <Item>\n        <AmazonOrderItemCode>I2</AmazonOrderItemCode>\n        <CancelReason>BuyerCanceled</CancelReason>\n      </Item>\n\
    </OrderAcknowledgement>\n  </Message>\n</AmazonEnvelope>\n";
    let (feed, report) = env.run(body).await;
    assert_eq!(feed["processingStatus"], "DONE");
    assert_eq!(counts(&report.unwrap()), (1, 1, 0));
    assert_eq!(env.status(ORDER), "CANCELLED");
}

/// getFeeds with `query` (after `?`).
async fn list(env: &Env, query: &str) -> (u16, Value) {
    env.call(
        reqwest::Method::GET,
        &format!("/feeds/2021-06-30/feeds?{query}"),
        None,
    )
    .await
}

fn feed_ids(page: &Value) -> Vec<&str> {
    page["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["feedId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn get_feeds_lists_the_feeds_created_newest_first_a_page_at_a_time() {
    let env = start(SimConfig::default()).await;
    let cancel = feed(&[(OTHER, "Failure", &[("J1", "NoInventory")])]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(env.submit(cancel.as_bytes()).await);
        env.clock.advance(SignedDuration::from_secs(30));
    }
    ids.reverse();
    let (status, page) = list(&env, "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(feed_ids(&page), ids, "newest first");
    assert!(page.get("nextToken").is_none());
    let first = &page["feeds"][2];
    assert_eq!(first["feedType"], "POST_ORDER_ACKNOWLEDGEMENT_DATA");
    assert_eq!(first["createdTime"], "2026-12-01T00:00:00Z");
    assert_eq!(first["marketplaceIds"], json!([MP]));
    assert_eq!(
        first["processingStatus"], "IN_QUEUE",
        "its three minutes are not over"
    );

    let (_, page) = list(
        &env,
        &format!("feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&marketplaceIds={MP}&pageSize=2"),
    )
    .await;
    assert_eq!(feed_ids(&page), ids[..2]);
    let token = page["nextToken"].as_str().unwrap().to_string();
    let (status, page) = list(&env, &format!("nextToken={token}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(feed_ids(&page), ids[2..]);
    assert!(page.get("nextToken").is_none());

    // Filters: by creation time and by status, once the first feed is processed.
    let (_, page) = list(
        &env,
        "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&createdSince=2026-12-01T00:00:15Z",
    )
    .await;
    assert_eq!(feed_ids(&page), ids[..2]);
    let (_, page) = list(
        &env,
        "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&createdUntil=2026-12-01T00:00:15Z",
    )
    .await;
    assert_eq!(feed_ids(&page), ids[2..]);
    env.clock.set("2026-12-01T00:03:10Z".parse().unwrap());
    let (_, page) = list(
        &env,
        "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&processingStatuses=DONE,FATAL",
    )
    .await;
    assert_eq!(feed_ids(&page), ids[2..]);
    assert!(page["feeds"][0]["resultFeedDocumentId"].is_string());
    let (_, page) = list(&env, "feedTypes=POST_PRODUCT_DATA").await;
    assert_eq!(page, json!({"feeds": []}), "no feed of another type");
    let (_, page) = list(
        &env,
        "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&marketplaceIds=ATVPDKIKX0DER",
    )
    .await;
    assert_eq!(page, json!({"feeds": []}), "none in another marketplace");
}

#[tokio::test]
async fn get_feeds_takes_its_parameters_as_the_model_says() {
    let env = start(SimConfig::default()).await;
    let bad = [
        ("", "feedTypes or nextToken is required"),
        (&format!("marketplaceIds={MP}"), "feedTypes or nextToken"),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&nextToken=x",
            "the only parameter",
        ),
        ("nextToken=not-a-token", "Invalid nextToken"),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&pageSize=0",
            "pageSize",
        ),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&pageSize=101",
            "pageSize",
        ),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&pageSize=ten",
            "pageSize",
        ),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&processingStatuses=LOST",
            "LOST",
        ),
        ("feedTypes=A,B,C,D,E,F,G,H,I,J,K", "1 to 10"),
        ("feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA,", "1 to 10"),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&createdSince=2026-09-01T00:00:00Z",
            "90 days",
        ),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&createdSince=yesterday",
            "ISO 8601",
        ),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&createdSince=2026-11-30T00:00:00Z&createdUntil=2026-11-29T00:00:00Z",
            "before createdSince",
        ),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&feedIds=1",
            "Unknown query parameter",
        ),
        (
            "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&feedTypes=POST_PRODUCT_DATA",
            "more than once",
        ),
    ];
    for (query, why) in bad {
        // One call per 45 s keeps within the rate.
        env.clock.advance(SignedDuration::from_secs(46));
        let (status, body) = list(&env, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["errors"][0]["code"], "InvalidInput", "{query}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{query}: {message}");
    }
    let (status, _) = list(
        &env,
        "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&createdSince=2026-09-03T00:00:00Z&pageSize=100",
    )
    .await;
    assert_eq!(status, 200, "89 days back is within the 90");
}

#[tokio::test]
async fn get_feeds_keeps_its_rate_of_one_call_per_45_seconds_after_a_burst_of_10() {
    let env = start(SimConfig::default()).await;
    for _ in 0..10 {
        assert_eq!(
            list(&env, "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA")
                .await
                .0,
            200
        );
    }
    assert_eq!(
        list(&env, "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA")
            .await
            .0,
        429
    );
    env.clock.advance(SignedDuration::from_secs(46));
    assert_eq!(
        list(&env, "feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_feed_applies_to_its_one_marketplace_and_an_order_of_another_is_an_error() {
    let (de, fr) = ("A1PA6795UKMFR9", "A13V1IB3VIYZZH");
    let env = start(SimConfig {
        other_marketplaces: vec![de.into(), fr.into()],
        ..SimConfig::default()
    })
    .await;
    // Two feeds' worth of orders: one on amazon.de beside the two Japanese ones.
    let german = "302-1000009-0000001";
    let mut o = SimOrder::new(
        german,
        "2026-11-30T23:00:00Z".parse().unwrap(),
        "2026-12-03T00:00:00Z".parse().unwrap(),
        vec![item("D1", "KENDAMA")],
        Buyer::Silent,
        "de-DE",
    );
    o.marketplace_id = Some(de.into());
    env.sim.add_order(o);
    let (doc_id, url) = env.create_document(XML).await;
    let body = feed(&[(OTHER, "Failure", &[]), (german, "Failure", &[])]);
    assert_eq!(env.upload(&url, Some(XML), body.as_bytes()).await.0, 200);
    // More than one marketplace in one feed is refused, even the seller's own.
    let (status, answer) = env
        .call(
            reqwest::Method::POST,
            "/feeds/2021-06-30/feeds",
            Some(json!({
                "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                "marketplaceIds": [MP, de],
                "inputFeedDocumentId": doc_id,
            })),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    // The feed for amazon.co.jp cancels the Japanese order and not the German one.
    let (feed_json, report) = env.run(&body).await;
    assert_eq!(feed_json["marketplaceIds"], json!([MP]));
    let report = report.unwrap();
    assert_eq!(counts(&report), (2, 1, 1), "{report}");
    assert!(report.contains(de), "{report}");
    assert_eq!(env.status(OTHER), "CANCELLED");
    assert_eq!(env.status(german), "UNSHIPPED");
}
