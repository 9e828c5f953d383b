//! The marketplace simulator: kenzen's own stand-in for Amazon, over HTTP on 127.0.0.1.
//!
//! It holds orders (items, SKUs, ship-by windows) and scripted buyers, and serves exactly the
//! SP-API operations kenzen calls plus the LWA token endpoint and the feed document URLs. It
//! runs on the shared virtual clock: rates and bursts are enforced on virtual time (429 past
//! them), buyers act after virtual delays, and feeds are processed after a virtual delay. Every
//! request is logged as JSONL (time, method, path, query, status, body for POST/PUT; never the
//! token), and so is every buyer and marketplace action. Its answers follow Amazon's models, so
//! its traffic passes the contract proxy.
//!
//! It must stay a faithful, simple Amazon: no knowledge of kenzen's cases or table.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use kenzen_app::clock::VirtualClock;
use kenzen_core::LocalTime;
use serde_json::{Value, json};

/// How a scripted buyer behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buyer {
    /// Requests cancellation through Amazon's flow `delay` after reading message `after`.
    RequestsAfterMessage { after: u32, delay: SignedDuration },
    /// Requests cancellation at a fixed time, whatever the seller sends.
    RequestsAt(Timestamp),
    /// Cancels the order directly (before it is confirmed) at a fixed time.
    CancelsAt(Timestamp),
    /// Never answers.
    Silent,
}

/// Something the simulated world does at a set time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    BuyerRequestsCancellation,
    BuyerCancels,
    SellerShips,
}

/// A share of calls to one operation (`*` for all) that fail with `status`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRate {
    pub op: String,
    pub share: f64,
    pub status: u16,
}

/// One order line as the simulator holds it.
#[derive(Debug, Clone)]
pub struct SimItem {
    pub order_item_id: String,
    pub sku: String,
    pub asin: String,
    pub title: String,
    pub quantity: u32,
    pub unit_price: String,
}

/// An order and its buyer.
#[derive(Debug, Clone)]
pub struct SimOrder {
    pub order_id: String,
    pub created: Timestamp,
    pub last_updated: Timestamp,
    pub ship_by: Timestamp,
    pub status: &'static str,
    pub items: Vec<SimItem>,
    pub buyer: Buyer,
    pub locale: String,
    pub buyer_name: String,
    pub messages_received: u32,
    pub messages_read: u32,
    pub buyer_request: Option<Timestamp>,
    pub cancel: Option<(String, String)>,
    /// The buyer reads messages only between these local times (`None`: at once).
    pub reads: Option<(LocalTime, LocalTime)>,
    /// Messaging actions are offered for this order.
    pub messaging_available: bool,
    /// The next this-many feed reports list an error for this order.
    pub feed_errors: u32,
}

impl SimOrder {
    /// A new unshipped MFN order placed at `created`.
    pub fn new(
        order_id: &str,
        created: Timestamp,
        ship_by: Timestamp,
        items: Vec<SimItem>,
        buyer: Buyer,
        locale: &str,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            created,
            last_updated: created,
            ship_by,
            status: "UNSHIPPED",
            items,
            buyer,
            locale: locale.into(),
            buyer_name: format!(
                "Hanako Yamada {}",
                order_id.rsplit('-').next().unwrap_or("")
            ),
            messages_received: 0,
            messages_read: 0,
            buyer_request: None,
            cancel: None,
            reads: None,
            messaging_available: true,
            feed_errors: 0,
        }
    }
}

/// A message a buyer received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub at: Timestamp,
    pub order_id: String,
    pub text: String,
}

#[derive(Debug, Clone)]
struct Feed {
    id: String,
    created: Timestamp,
    document_id: String,
    status: &'static str,
    result_document_id: Option<String>,
}

/// A scripted wrong answer: operation `op` answers `status` with `body`, `times` times.
#[derive(Debug, Clone)]
struct Fault {
    op: String,
    status: u16,
    body: String,
    times: u32,
}

#[derive(Debug, Default)]
struct Bucket {
    tokens: f64,
    last: Option<Timestamp>,
}

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub marketplace_id: String,
    pub seller_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// How long a feed sits IN_QUEUE before it is processed.
    pub feed_delay: SignedDuration,
    /// searchOrders page size (small, so pagination is exercised).
    pub page_size: usize,
    /// The marketplace's time zone (for buyers' reading hours).
    pub time_zone: String,
    /// Feeds created before this time stay IN_QUEUE until it.
    pub feed_stuck_until: Option<Timestamp>,
    /// Random failures per operation.
    pub fault_rates: Vec<FaultRate>,
    /// Seed for the random failures.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            marketplace_id: "A1VC38T7YXB528".into(),
            seller_id: "A2KENZENSELLER".into(),
            client_id: "amzn1.application-oa2-client.kenzen-sim".into(),
            client_secret: "sim-client-secret-do-not-log".into(),
            refresh_token: "Atzr|sim-refresh-token-do-not-log".into(),
            feed_delay: SignedDuration::from_mins(3),
            page_size: 2,
            time_zone: "Asia/Tokyo".into(),
            feed_stuck_until: None,
            fault_rates: Vec::new(),
            seed: 1,
        }
    }
}

#[derive(Debug, Default)]
struct World {
    orders: BTreeMap<String, SimOrder>,
    pending: Vec<(Timestamp, String, Action)>,
    /// Offer quantity per SKU, as set by listing patches and given back by cancels.
    offers: BTreeMap<String, i64>,
    rng: u64,
    delivered: Vec<Delivered>,
    documents: HashMap<String, Option<Vec<u8>>>,
    feeds: BTreeMap<String, Feed>,
    tokens: Vec<String>,
    buckets: HashMap<&'static str, Bucket>,
    faults: Vec<Fault>,
    destinations: Vec<(String, String)>,
    subscription: Option<Value>,
    log: Vec<Value>,
    next_id: u64,
}

/// Stops the simulator's HTTP server when dropped.
#[derive(Debug)]
pub struct ServerHandle {
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The simulator; share it as `Arc<Sim>`.
pub struct Sim {
    pub config: SimConfig,
    clock: Arc<VirtualClock>,
    world: Mutex<World>,
    base: Mutex<String>,
}

fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn errors(code: &str, message: &str) -> Value {
    json!({ "errors": [{ "code": code, "message": message }] })
}

fn rate_of(op: &str) -> (f64, f64) {
    match op {
        "searchOrders" => (0.0056, 20.0),
        "getOrder" => (0.5, 30.0),
        "createFeedDocument" => (0.5, 15.0),
        "createFeed" => (0.0083, 15.0),
        "getFeed" => (2.0, 15.0),
        "getFeedDocument" => (0.0222, 10.0),
        "patchListingsItem" => (5.0, 5.0),
        _ => (1.0, 5.0),
    }
}

impl Sim {
    pub fn new(config: SimConfig, clock: Arc<VirtualClock>) -> Arc<Self> {
        Arc::new(Self {
            config: config.clone(),
            clock,
            world: Mutex::new(World {
                rng: config.seed.max(1),
                ..World::default()
            }),
            base: Mutex::new(String::new()),
        })
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts serving on `addr` (port 0 for any free port); returns the bound address and a
    /// handle that stops the server when dropped (so the next world can take the same port).
    pub async fn serve(
        self: &Arc<Self>,
        addr: SocketAddr,
    ) -> std::io::Result<(SocketAddr, ServerHandle)> {
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => break l,
                // The previous world's server may still be closing.
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        };
        let local = listener.local_addr()?;
        *self.base.lock().unwrap_or_else(|e| e.into_inner()) = format!("http://{local}");
        let app = Router::new().fallback(dispatch).with_state(self.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok((local, ServerHandle { _stop: stop }))
    }

    /// The simulator's own base URL (for LWA and document URLs).
    pub fn base_url(&self) -> String {
        self.base.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn add_order(&self, order: SimOrder) {
        let mut w = self.world();
        match order.buyer {
            Buyer::RequestsAt(t) => {
                w.pending
                    .push((t, order.order_id.clone(), Action::BuyerRequestsCancellation))
            }
            Buyer::CancelsAt(t) => {
                w.pending
                    .push((t, order.order_id.clone(), Action::BuyerCancels))
            }
            _ => {}
        }
        w.orders.insert(order.order_id.clone(), order);
    }

    /// Schedules a world action for `order_id` at `at`.
    pub fn schedule(&self, at: Timestamp, order_id: &str, action: Action) {
        self.world()
            .pending
            .push((at, order_id.to_string(), action));
    }

    /// The seller ships `order_id` now (if it is still unshipped).
    pub fn ship(&self, order_id: &str) {
        self.schedule(self.clock.now(), order_id, Action::SellerShips);
        self.advance();
    }

    /// The offer quantity of `sku` as listing patches and cancels left it.
    pub fn offer_quantity(&self, sku: &str) -> Option<i64> {
        self.world().offers.get(sku).copied()
    }

    /// Applies every scripted action due by now, in time order.
    pub fn advance(&self) {
        let now = self.clock.now();
        let mut w = self.world();
        let (mut due, later): (Vec<_>, Vec<_>) =
            w.pending.drain(..).partition(|(t, _, _)| *t <= now);
        w.pending = later;
        due.sort_by_key(|(t, _, _)| *t);
        for (t, id, action) in due {
            let Some(o) = w.orders.get_mut(&id) else {
                continue;
            };
            if o.status != "UNSHIPPED" {
                continue;
            }
            let name = match action {
                Action::BuyerRequestsCancellation => {
                    if o.buyer_request.is_some() {
                        continue;
                    }
                    o.buyer_request = Some(t);
                    ("buyer", "requestCancellation")
                }
                Action::BuyerCancels => {
                    o.status = "CANCELLED";
                    o.cancel = Some(("BUYER".into(), "BUYER_CANCELED".into()));
                    ("buyer", "cancelOrder")
                }
                Action::SellerShips => {
                    o.status = "SHIPPED";
                    ("seller", "ship")
                }
            };
            o.last_updated = t;
            w.log.push(json!({
                "time": iso(t), "actor": name.0, "action": name.1, "orderId": id
            }));
        }
    }

    /// Whether a buyer reading only between `reads` (local time) reads a message arriving at `at`.
    fn reads_now(&self, at: Timestamp, reads: Option<(LocalTime, LocalTime)>) -> bool {
        let Some((from, to)) = reads else { return true };
        let tz = jiff::tz::TimeZone::get(&self.config.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let z = at.to_zoned(tz);
        let minutes = |h: i8, m: i8| i32::from(h) * 60 + i32::from(m);
        let now_m = minutes(z.hour(), z.minute());
        let (f, t) = (minutes(from.hour, from.minute), minutes(to.hour, to.minute));
        if f <= t {
            now_m >= f && now_m < t
        } else {
            now_m >= f || now_m < t
        }
    }

    fn next_random(w: &mut World) -> f64 {
        // xorshift64*: deterministic for a given seed.
        let mut x = w.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        w.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Makes operation `op` (a model operation id) answer `status` with the raw `body` for its
    /// next `times` calls (after authentication and rate limiting, like a real server fault).
    pub fn inject(&self, op: &str, status: u16, body: &str, times: u32) {
        self.world().faults.push(Fault {
            op: op.into(),
            status,
            body: body.into(),
            times,
        });
    }

    pub fn order(&self, order_id: &str) -> Option<SimOrder> {
        self.world().orders.get(order_id).cloned()
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.world().delivered.clone()
    }

    /// The request and action log so far.
    pub fn log(&self) -> Vec<Value> {
        self.world().log.clone()
    }

    /// Writes the log as JSONL.
    pub fn write_log(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        for line in self.log() {
            writeln!(f, "{line}")?;
        }
        f.flush()
    }

    fn take_token(w: &mut World, op: &'static str, now: Timestamp) -> bool {
        let (rate, burst) = rate_of(op);
        let b = w.buckets.entry(op).or_default();
        let last = b.last.unwrap_or(now);
        if b.last.is_none() {
            b.tokens = burst;
        }
        b.tokens = (b.tokens + now.duration_since(last).as_secs_f64().max(0.0) * rate).min(burst);
        b.last = Some(now.max(last));
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn order_json(&self, o: &SimOrder) -> Value {
        let items: Vec<Value> = o
            .items
            .iter()
            .map(|i| {
                let mut item = json!({
                    "orderItemId": i.order_item_id,
                    "quantityOrdered": i.quantity,
                    "product": {
                        "asin": i.asin,
                        "title": i.title,
                        "sellerSku": i.sku,
                        "price": {"unitPrice": {"amount": i.unit_price, "currencyCode": "JPY"}}
                    }
                });
                let mut cancellation = serde_json::Map::new();
                if o.buyer_request.is_some() {
                    cancellation.insert(
                        "cancellationRequest".into(),
                        json!({"requester": "BUYER", "cancelReason": "NO_LONGER_NEEDED"}),
                    );
                }
                if let Some((by, reason)) = &o.cancel {
                    cancellation.insert(
                        "cancellationExecution".into(),
                        json!({"cancelledBy": by, "cancelReason": reason}),
                    );
                }
                if !cancellation.is_empty() {
                    item["cancellation"] = Value::Object(cancellation);
                }
                item
            })
            .collect();
        json!({
            "orderId": o.order_id,
            "createdTime": iso(o.created),
            "lastUpdatedTime": iso(o.last_updated),
            "salesChannel": {
                "channelName": "AMAZON",
                "marketplaceId": self.config.marketplace_id,
                "marketplaceName": "Amazon.co.jp"
            },
            "fulfillment": {
                "fulfillmentStatus": o.status,
                "fulfilledBy": "MERCHANT",
                "shipByWindow": {
                    "earliestDateTime": iso(o.created),
                    "latestDateTime": iso(o.ship_by)
                }
            },
            "orderItems": items,
            // Personal data kenzen never asks for (no includedData=BUYER) and must never log.
            "buyer": {"buyerName": o.buyer_name}
        })
    }

    /// Processes a feed whose queue time is over: cancels each order it names, writes the
    /// gzip report.
    fn process_feed(&self, w: &mut World, feed_id: &str, now: Timestamp) {
        let Some(feed) = w.feeds.get(feed_id).cloned() else {
            return;
        };
        if feed.status != "IN_QUEUE" || now < feed.created + self.config.feed_delay {
            return;
        }
        if let Some(until) = self.config.feed_stuck_until
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
            self.config.seller_id,
            feed_id,
            messages.len(),
            messages.len() - with_error,
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = gz.write_all(report.as_bytes());
        let bytes = gz.finish().unwrap_or_default();
        w.next_id += 1;
        let doc_id = format!("amzn1.tortuga.4.fe.report-{}", w.next_id);
        w.documents.insert(doc_id.clone(), Some(bytes));
        if let Some(f) = w.feeds.get_mut(feed_id) {
            f.status = "DONE";
            f.result_document_id = Some(doc_id);
        }
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

fn json_response(status: StatusCode, body: &Value, content_type: &str, rate: f64) -> Response {
    (
        status,
        [
            ("content-type", content_type.to_string()),
            ("x-amzn-RateLimit-Limit", rate.to_string()),
            ("x-amzn-RequestId", "sim-request".to_string()),
        ],
        body.to_string(),
    )
        .into_response()
}

fn query_map(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .map(|q| {
            url_pairs(q)
                .into_iter()
                .collect::<BTreeMap<String, String>>()
        })
        .unwrap_or_default()
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Routes every request; logs it with its status.
async fn dispatch(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.advance();
    let now = sim.clock.now();
    let (resp, op) = route(&sim, &method, &uri, &headers, &body, now);
    let mut line = json!({
        "time": iso(now),
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query().unwrap_or(""),
        "status": resp.status().as_u16(),
        "operation": op,
    });
    if method == Method::POST || method == Method::PUT || method == Method::PATCH {
        let text = String::from_utf8_lossy(&body).into_owned();
        // The token exchange carries credentials: never log its body.
        line["body"] = if uri.path() == "/auth/o2/token" {
            Value::String("(credentials withheld)".into())
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
    }
    sim.world().log.push(line);
    resp
}

fn route(
    sim: &Sim,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    now: Timestamp,
) -> (Response, &'static str) {
    let path: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let q = query_map(uri);
    let hal = "application/hal+json";
    let js = "application/json";
    // Unauthenticated endpoints: the token exchange and the presigned document URLs.
    match (method.as_str(), path.as_slice()) {
        ("POST", ["auth", "o2", "token"]) => return (token(sim, body), "lwaToken"),
        ("PUT", ["sim-docs", id]) => {
            let mut w = sim.world();
            return match w.documents.get_mut(*id) {
                Some(slot) => {
                    *slot = Some(body.to_vec());
                    (StatusCode::OK.into_response(), "uploadDocument")
                }
                None => (StatusCode::FORBIDDEN.into_response(), "uploadDocument"),
            };
        }
        ("GET", ["sim-docs", id]) => {
            let w = sim.world();
            return match w.documents.get(*id) {
                Some(Some(bytes)) => (bytes.clone().into_response(), "downloadDocument"),
                _ => (StatusCode::NOT_FOUND.into_response(), "downloadDocument"),
            };
        }
        _ => {}
    }
    let op: &'static str = match (method.as_str(), path.as_slice()) {
        ("GET", ["orders", "2026-01-01", "orders"]) => "searchOrders",
        ("GET", ["orders", "2026-01-01", "orders", _]) => "getOrder",
        ("GET", ["messaging", "v1", "orders", _]) => "getMessagingActionsForOrder",
        ("GET", ["messaging", "v1", "orders", _, "attributes"]) => "getAttributes",
        (
            "POST",
            [
                "messaging",
                "v1",
                "orders",
                _,
                "messages",
                "unexpectedProblem",
            ],
        ) => "createUnexpectedProblem",
        ("POST", ["feeds", "2021-06-30", "documents"]) => "createFeedDocument",
        ("POST", ["feeds", "2021-06-30", "feeds"]) => "createFeed",
        ("GET", ["feeds", "2021-06-30", "feeds", _]) => "getFeed",
        ("GET", ["feeds", "2021-06-30", "documents", _]) => "getFeedDocument",
        ("PATCH", ["listings", "2021-08-01", "items", _, _]) => "patchListingsItem",
        ("GET", ["notifications", "v1", "destinations"]) => "getDestinations",
        ("POST", ["notifications", "v1", "destinations"]) => "createDestination",
        ("GET", ["notifications", "v1", "subscriptions", _]) => "getSubscription",
        ("POST", ["notifications", "v1", "subscriptions", _]) => "createSubscription",
        _ => {
            return (
                json_response(
                    StatusCode::NOT_FOUND,
                    &errors("NotFound", "No such operation"),
                    js,
                    1.0,
                ),
                "unknown",
            );
        }
    };
    let (rate, _) = rate_of(op);
    let ct = if op.starts_with("get") && path[0] == "messaging" || op == "createUnexpectedProblem" {
        hal
    } else {
        js
    };
    let reply = |status: StatusCode, body: Value| (json_response(status, &body, ct, rate), op);
    // Destinations take a grantless token; everything else the seller's.
    let wants_grantless = op.ends_with("Destinations") || op == "createDestination";
    let token_ok = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            sim.world().tokens.iter().any(|k| k == t)
                && t.starts_with("Atza|sim-grantless-") == wants_grantless
        });
    if !token_ok {
        return reply(
            StatusCode::FORBIDDEN,
            errors("Unauthorized", "Access to requested resource is denied."),
        );
    }
    {
        let mut w = sim.world();
        if !Sim::take_token(&mut w, op, now) {
            drop(w);
            return reply(
                StatusCode::TOO_MANY_REQUESTS,
                errors(
                    "QuotaExceeded",
                    "You exceeded your quota for the requested resource.",
                ),
            );
        }
    }
    {
        let mut w = sim.world();
        for rate in &sim.config.fault_rates {
            if (rate.op == op || rate.op == "*") && Sim::next_random(&mut w) < rate.share {
                let status =
                    StatusCode::from_u16(rate.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let body = if op.starts_with("get") && path[0] == "messaging"
                    || op == "createUnexpectedProblem"
                {
                    json!({"errors": [{"code": "InternalFailure", "message": "We encountered an internal error. Please try again."}]})
                } else {
                    errors(
                        "InternalFailure",
                        "We encountered an internal error. Please try again.",
                    )
                };
                let body = if status == StatusCode::TOO_MANY_REQUESTS {
                    errors(
                        "QuotaExceeded",
                        "You exceeded your quota for the requested resource.",
                    )
                } else {
                    body
                };
                drop(w);
                return reply(status, body);
            }
        }
        if let Some(f) = w.faults.iter_mut().find(|f| f.op == op && f.times > 0) {
            f.times -= 1;
            let status =
                StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = f.body.clone();
            return ((status, [("content-type", ct)], body).into_response(), op);
        }
    }
    let marketplace_ok = |q: &BTreeMap<String, String>| {
        q.get("marketplaceIds")
            .is_some_and(|m| m.split(',').any(|id| id == sim.config.marketplace_id))
    };
    match op {
        "searchOrders" => {
            let after = match (q.get("lastUpdatedAfter"), q.get("createdAfter")) {
                (Some(a), None) | (None, Some(a)) => a.parse::<Timestamp>(),
                _ => {
                    return reply(
                        StatusCode::BAD_REQUEST,
                        errors(
                            "InvalidInput",
                            "Exactly one of createdAfter and lastUpdatedAfter is required.",
                        ),
                    );
                }
            };
            let Ok(after) = after else {
                return reply(
                    StatusCode::BAD_REQUEST,
                    errors("InvalidInput", "Invalid date-time."),
                );
            };
            if !marketplace_ok(&q) {
                return reply(
                    StatusCode::BAD_REQUEST,
                    errors("InvalidInput", "Invalid marketplaceIds."),
                );
            }
            let by_created = q.contains_key("createdAfter");
            let w = sim.world();
            let matching: Vec<&SimOrder> = w
                .orders
                .values()
                .filter(|o| {
                    let t = if by_created {
                        o.created
                    } else {
                        o.last_updated
                    };
                    t > after && t <= now && o.created <= now
                })
                .collect();
            let start: usize = q
                .get("paginationToken")
                .and_then(|t| t.strip_prefix("page-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let size = q
                .get("maxResultsPerPage")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(100)
                .clamp(1, 100)
                .min(sim.config.page_size);
            let page: Vec<Value> = matching
                .iter()
                .skip(start)
                .take(size)
                .map(|o| sim.order_json(o))
                .collect();
            let mut body = json!({ "orders": page, "lastUpdatedBefore": iso(now) });
            if start + size < matching.len() {
                body["pagination"] = json!({ "nextToken": format!("page-{}", start + size) });
            }
            reply(StatusCode::OK, body)
        }
        "getOrder" => {
            let w = sim.world();
            match w.orders.get(path[3]).filter(|o| o.created <= now) {
                Some(o) => reply(StatusCode::OK, json!({ "order": sim.order_json(o) })),
                None => reply(
                    StatusCode::NOT_FOUND,
                    errors("NotFound", "Order not found."),
                ),
            }
        }
        "getMessagingActionsForOrder" | "getAttributes" | "createUnexpectedProblem" => {
            if !marketplace_ok(&q) {
                return reply(
                    StatusCode::BAD_REQUEST,
                    json!({"errors": [{"code": "InvalidInput", "message": "Invalid marketplaceIds."}]}),
                );
            }
            let order_id = path[3].to_string();
            let mut w = sim.world();
            let Some(o) = w
                .orders
                .get(&order_id)
                .filter(|o| o.created <= now)
                .cloned()
            else {
                return reply(
                    StatusCode::NOT_FOUND,
                    json!({"errors": [{"code": "NotFound", "message": "Order not found."}]}),
                );
            };
            let available = o.status != "CANCELLED" && o.messaging_available;
            let self_link = json!({"href": format!("/messaging/v1/orders/{order_id}?marketplaceIds={}", sim.config.marketplace_id)});
            match op {
                "getMessagingActionsForOrder" => {
                    let actions: Vec<Value> = if available {
                        vec![json!({
                            "href": format!("/messaging/v1/orders/{order_id}/messages/unexpectedProblem?marketplaceIds={}", sim.config.marketplace_id),
                            "name": "unexpectedProblem"
                        })]
                    } else {
                        vec![]
                    };
                    reply(
                        StatusCode::OK,
                        json!({"_links": {"self": self_link, "actions": actions}}),
                    )
                }
                "getAttributes" => reply(StatusCode::OK, json!({"buyer": {"locale": o.locale}})),
                _ => {
                    if !available {
                        return reply(
                            StatusCode::FORBIDDEN,
                            json!({"errors": [{"code": "Unauthorized", "message": "Invalid amazonOrderId and template combination."}]}),
                        );
                    }
                    let text = serde_json::from_slice::<Value>(body)
                        .ok()
                        .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_string));
                    let Some(text) = text.filter(|t| {
                        let n = t.chars().count();
                        (1..=2000).contains(&n) && !t.contains('<') && !t.contains('@')
                    }) else {
                        return reply(
                            StatusCode::BAD_REQUEST,
                            json!({"errors": [{"code": "InvalidInput", "message": "text must be 1-2000 characters without HTML or e-mail addresses."}]}),
                        );
                    };
                    w.delivered.push(Delivered {
                        at: now,
                        order_id: order_id.clone(),
                        text,
                    });
                    let Some(order) = w.orders.get_mut(&order_id) else {
                        return reply(StatusCode::NOT_FOUND, json!({}));
                    };
                    order.messages_received += 1;
                    // A buyer with reading hours reads only what arrives within them; the rest
                    // is buried under other mail.
                    let read = sim.reads_now(now, order.reads);
                    if read {
                        order.messages_read += 1;
                    }
                    if let Buyer::RequestsAfterMessage { after, delay } = order.buyer
                        && read
                        && order.messages_read == after
                    {
                        w.pending.push((
                            now + delay,
                            order_id.clone(),
                            Action::BuyerRequestsCancellation,
                        ));
                    }
                    reply(StatusCode::CREATED, json!({}))
                }
            }
        }
        "createFeedDocument" => {
            let ok = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| {
                    v.get("contentType")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .is_some();
            if !ok {
                return reply(
                    StatusCode::BAD_REQUEST,
                    errors("InvalidInput", "contentType is required."),
                );
            }
            let mut w = sim.world();
            w.next_id += 1;
            let id = format!("amzn1.tortuga.4.fe.doc-{}", w.next_id);
            w.documents.insert(id.clone(), None);
            let url = format!("{}/sim-docs/{id}", sim.base_url());
            reply(
                StatusCode::CREATED,
                json!({"feedDocumentId": id, "url": url}),
            )
        }
        "createFeed" => {
            let spec: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let doc = spec
                .get("inputFeedDocumentId")
                .and_then(Value::as_str)
                .unwrap_or("");
            let feed_type = spec.get("feedType").and_then(Value::as_str).unwrap_or("");
            let mut w = sim.world();
            if feed_type != "POST_ORDER_ACKNOWLEDGEMENT_DATA"
                || !matches!(w.documents.get(doc), Some(Some(_)))
            {
                return reply(
                    StatusCode::BAD_REQUEST,
                    errors(
                        "InvalidInput",
                        "Unknown feed type, or the feed document was not uploaded.",
                    ),
                );
            }
            w.next_id += 1;
            let id = format!("{}", 50_000_000_000u64 + w.next_id);
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
            reply(StatusCode::ACCEPTED, json!({"feedId": id}))
        }
        "getFeed" => {
            let mut w = sim.world();
            sim.process_feed(&mut w, path[3], now);
            match w.feeds.get(path[3]) {
                None => reply(StatusCode::NOT_FOUND, errors("NotFound", "Feed not found.")),
                Some(f) => {
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
                    reply(StatusCode::OK, body)
                }
            }
        }
        "getFeedDocument" => {
            let w = sim.world();
            match w.documents.get(path[3]) {
                Some(Some(_)) => reply(
                    StatusCode::OK,
                    json!({
                        "feedDocumentId": path[3],
                        "url": format!("{}/sim-docs/{}", sim.base_url(), path[3]),
                        "compressionAlgorithm": "GZIP"
                    }),
                ),
                _ => reply(
                    StatusCode::NOT_FOUND,
                    errors("NotFound", "Document not found."),
                ),
            }
        }
        "getDestinations" => {
            let w = sim.world();
            let list: Vec<Value> = w
                .destinations
                .iter()
                .map(|(id, arn)| json!({"destinationId": id, "name": "kenzen", "resource": {"sqs": {"arn": arn}}}))
                .collect();
            reply(StatusCode::OK, json!({"payload": list}))
        }
        "createDestination" => {
            let spec: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let Some(arn) = spec["resourceSpecification"]["sqs"]["arn"]
                .as_str()
                .map(str::to_string)
            else {
                return reply(
                    StatusCode::BAD_REQUEST,
                    json!({"errors": [{"code": "InvalidInput", "message": "An SQS destination is required."}]}),
                );
            };
            let mut w = sim.world();
            if w.destinations.iter().any(|(_, a)| *a == arn) {
                return reply(
                    StatusCode::CONFLICT,
                    json!({"errors": [{"code": "Conflict", "message": "A destination for this resource already exists."}]}),
                );
            }
            w.next_id += 1;
            let id = format!("sim-destination-{}", w.next_id);
            w.destinations.push((id.clone(), arn.clone()));
            reply(
                StatusCode::OK,
                json!({"payload": {"destinationId": id, "name": spec["name"], "resource": {"sqs": {"arn": arn}}}}),
            )
        }
        "createSubscription" | "getSubscription" => {
            if path[3] != "ORDER_CHANGE" {
                return reply(
                    StatusCode::BAD_REQUEST,
                    json!({"errors": [{"code": "InvalidInput", "message": "Only ORDER_CHANGE is simulated."}]}),
                );
            }
            let mut w = sim.world();
            if op == "getSubscription" {
                return match &w.subscription {
                    Some(s) => reply(StatusCode::OK, json!({"payload": s})),
                    None => reply(
                        StatusCode::NOT_FOUND,
                        json!({"errors": [{"code": "NotFound", "message": "No subscription."}]}),
                    ),
                };
            }
            if w.subscription.is_some() {
                return reply(
                    StatusCode::CONFLICT,
                    json!({"errors": [{"code": "Conflict", "message": "A subscription for this notification type already exists."}]}),
                );
            }
            let spec: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let dest = spec["destinationId"].as_str().unwrap_or("").to_string();
            if !w.destinations.iter().any(|(id, _)| *id == dest) {
                return reply(
                    StatusCode::BAD_REQUEST,
                    json!({"errors": [{"code": "InvalidInput", "message": "Unknown destinationId."}]}),
                );
            }
            w.next_id += 1;
            let sub = json!({
                "subscriptionId": format!("sim-subscription-{}", w.next_id),
                "payloadVersion": spec["payloadVersion"],
                "destinationId": dest,
                "processingDirective": spec["processingDirective"],
            });
            w.subscription = Some(sub.clone());
            reply(StatusCode::OK, json!({"payload": sub}))
        }
        "patchListingsItem" => {
            if !marketplace_ok(&q) || path[3] != sim.config.seller_id {
                return reply(
                    StatusCode::BAD_REQUEST,
                    errors("InvalidInput", "Invalid sellerId or marketplaceIds."),
                );
            }
            let sku = percent_decode(path[4]);
            let patch: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let quantity = patch["patches"]
                .as_array()
                .and_then(|ps| {
                    ps.iter()
                        .find(|p| p["path"] == "/attributes/fulfillment_availability")
                })
                .and_then(|p| p["value"][0]["quantity"].as_i64());
            let (Some(quantity), Some(_)) = (quantity, patch["productType"].as_str()) else {
                return reply(
                    StatusCode::BAD_REQUEST,
                    errors("InvalidInput", "Expected a fulfillment_availability patch."),
                );
            };
            let mut w = sim.world();
            w.offers.insert(sku.clone(), quantity);
            w.next_id += 1;
            let submission = format!("sim-submission-{}", w.next_id);
            reply(
                StatusCode::OK,
                json!({"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}),
            )
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            errors("NotFound", "No such operation"),
        ),
    }
}

fn token(sim: &Sim, body: &Bytes) -> Response {
    let form: BTreeMap<String, String> = url_pairs(&String::from_utf8_lossy(body))
        .into_iter()
        .collect();
    let client = form.get("client_id") == Some(&sim.config.client_id)
        && form.get("client_secret") == Some(&sim.config.client_secret);
    let grantless = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("scope").map(String::as_str) == Some("sellingpartnerapi::notifications");
    let seller = form.get("grant_type").map(String::as_str) == Some("refresh_token")
        && form.get("refresh_token") == Some(&sim.config.refresh_token);
    let ok = client && (grantless || seller);
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            json!({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"}).to_string(),
        )
            .into_response();
    }
    let mut w = sim.world();
    w.next_id += 1;
    let t = if grantless {
        format!("Atza|sim-grantless-{}", w.next_id)
    } else {
        format!("Atza|sim-access-{}", w.next_id)
    };
    w.tokens.push(t.clone());
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({"access_token": t, "token_type": "bearer", "expires_in": 3600}).to_string(),
    )
        .into_response()
}
