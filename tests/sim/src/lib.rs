//! kenzen-sim: the marketplace simulator, kenzen's own stand-in for Amazon, over HTTP on
//! 127.0.0.1.
//!
//! It holds orders (items, SKUs, ship-by windows) and scripted buyers, and serves exactly the
//! SP-API operations kenzen calls plus the LWA token endpoint and the feed document URLs. It
//! runs on the shared virtual clock: rates and bursts are enforced on virtual time (429 past
//! them), buyers act after virtual delays, and feeds are processed after a virtual delay. Every
//! request is logged as JSONL (time, method, path, query, status, body for POST/PUT; never the
//! token), and so is every buyer and marketplace action. Its answers follow Amazon's models, so
//! its traffic passes the contract proxy.
//!
//! It must stay a faithful, simple Amazon: no knowledge of kenzen's cases or table, and no
//! dependency on kenzen's crates but the clock.
//!
//! Layout (the modules are private; this file holds the public types):
//! - `server`: the axum router, one route per operation, and the guard each route passes (token,
//!   rate, the application's roles, faults).
//! - `log`: the request log, a layer around every route that also stamps the request's time.
//! - `world`: the simulated marketplace's state and the scripted actions it plays.
//! - `rate`: each operation's rate and burst, as token buckets on virtual time.
//! - `faults`: random failures per operation and scripted wrong answers.
//! - `wire`: JSON answers with Amazon's headers, query and path decoding, the request's time.
//! - `lwa`: the Login with Amazon token endpoint and the access tokens it has issued.
//! - `orders`: Orders API, searchOrders and getOrder.
//! - `messaging`: Messaging API, actions, attributes and unexpectedProblem; reading hours.
//! - `feeds`: Feeds API, feed documents and their URLs, processing acknowledgement feeds,
//!   listing them (getFeeds).
//! - `listings`: Listings Items API, getListingsItem (summaries with the product type) and
//!   patchListingsItem (the offer's fulfillment availability).
//! - `notifications`: Notifications API, destinations and the ORDER_CHANGE subscription.
//! - `reports`: Reports API, the seller performance report (account health) only: requesting
//!   it, its processing on the virtual clock, its document and the document's URL; its figures
//!   come from the simulator's own orders.
//! - `marketplaces`: Amazon's marketplaces (store name, currency, time zone) and which of them
//!   the seller sells in.

mod faults;
mod feeds;
mod listings;
mod log;
mod lwa;
mod marketplaces;
mod messaging;
mod notifications;
mod op;
mod orders;
mod rate;
mod reports;
mod server;
mod wire;
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use kenzen_clock::VirtualClock;
use serde_json::Value;

pub use feeds::{AckMessage, parse_ack_feed};

use world::World;

/// A role an SP-API application is granted (Seller Central → Apps and Services → Develop Apps →
/// the app's roles). Each operation the simulator serves needs one (Amazon's role mappings for
/// operations and for the POST_ORDER_ACKNOWLEDGEMENT_DATA feed and the ORDER_CHANGE notification
/// types); where Amazon accepts any of several roles, the simulator takes only the one kenzen's
/// README asks for, so it is never more lenient than Amazon. Grantless calls need none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Orders, the order acknowledgement feed, the ORDER_CHANGE subscription.
    InventoryAndOrderTracking,
    /// The Messaging API.
    BuyerCommunication,
    /// The Listings Items API.
    ProductListing,
    /// The Reports API for the seller performance report (`GET_V2_SELLER_PERFORMANCE_REPORT`).
    SellingPartnerInsights,
}

impl Role {
    /// The role's name in Seller Central.
    pub fn name(self) -> &'static str {
        match self {
            Self::InventoryAndOrderTracking => "Inventory and Order Tracking",
            Self::BuyerCommunication => "Buyer Communication",
            Self::ProductListing => "Product Listing",
            Self::SellingPartnerInsights => "Selling Partner Insights",
        }
    }
}

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
    /// Amazon no longer shows the buyer's request (withdrawn, or dropped by Amazon).
    RequestStopsShowing,
}

/// A share of calls to one operation (`*` for all) that fail with `status`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRate {
    pub op: String,
    pub share: f64,
    pub status: u16,
    /// Before processing (nothing happened) or after (it happened; the answer is lost).
    pub side: FaultSide,
    /// Only calls at or after this time, if set.
    pub from: Option<Timestamp>,
    /// Only calls before this time, if set.
    pub until: Option<Timestamp>,
}

impl FaultRate {
    /// `share` of calls to `op` fail with `status` before processing, at any time.
    pub fn before(op: &str, share: f64, status: u16) -> Self {
        Self {
            op: op.into(),
            share,
            status,
            side: FaultSide::Before,
            from: None,
            until: None,
        }
    }

    /// True when the fault applies to a call to `op_id` at `now`.
    pub fn covers(&self, op_id: &str, now: Timestamp) -> bool {
        // "*" is every SP-API operation; the LWA token endpoint only when named (`lwaToken`).
        (self.op == op_id || (self.op == "*" && op_id != "lwaToken"))
            && self.from.is_none_or(|f| now >= f)
            && self.until.is_none_or(|u| now < u)
    }
}

/// Which side of processing a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultSide {
    /// The call fails before the simulator acts on it: nothing happened.
    #[default]
    Before,
    /// The simulator acts on the call (a message is sent, a feed created), then the answer is
    /// lost: the caller sees `status` (500, 502 for a dropped connection, 504 for a timeout).
    After,
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
    /// The marketplace the order was placed in (`None`: the seller's home marketplace,
    /// `SimConfig::marketplace_id`).
    pub marketplace_id: Option<String>,
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
    /// The order items the buyer's request covers (`None`: every item).
    pub request_items: Option<Vec<String>>,
    pub cancel: Option<(String, String)>,
    /// The buyer reads messages only between these local times, to the minute (`None`: at
    /// once).
    pub reads: Option<(Time, Time)>,
    /// Messaging actions are offered for this order.
    pub messaging_available: bool,
    /// The next this-many feed reports list an error for this order.
    pub feed_errors: u32,
    /// The items merchant cancels took out of the order, with their cancel reasons (by order item
    /// id). Once every item is, the order is `CANCELLED`; until then it stays open.
    pub cancelled_items: BTreeMap<String, String>,
    /// Who fulfils the order: `MERCHANT` (the seller, MFN) or `AMAZON` (FBA).
    pub fulfilled_by: &'static str,
    /// searchOrders pages carry this order with a fulfillmentStatus outside Amazon's model (a
    /// test of how kenzen meets an order it cannot decode; getOrder serves it whole).
    pub damaged_in_search: bool,
    /// When the seller confirmed the shipment (the `SellerShips` action); `None` for an order
    /// not shipped, or marked shipped by hand (then taken as shipped in time). The seller
    /// performance report counts a shipment after `ship_by` as late.
    pub shipped_at: Option<Timestamp>,
    /// The order items the seller cancelled as `BuyerCanceled` while Amazon showed the buyer's
    /// own cancellation request for them: the only seller cancels the pre-fulfilment cancel
    /// rate does not count. Recorded when the cancel is executed, so a request that stops
    /// showing later does not change it.
    pub buyer_requested_cancels: BTreeSet<String>,
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
            marketplace_id: None,
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
            request_items: None,
            cancel: None,
            reads: None,
            messaging_available: true,
            feed_errors: 0,
            cancelled_items: BTreeMap::new(),
            fulfilled_by: "MERCHANT",
            damaged_in_search: false,
            shipped_at: None,
            buyer_requested_cancels: BTreeSet::new(),
        }
    }
}

impl SimOrder {
    /// The marketplace the order was placed in.
    pub fn marketplace<'a>(&'a self, config: &'a SimConfig) -> &'a str {
        self.marketplace_id
            .as_deref()
            .unwrap_or(&config.marketplace_id)
    }
}

/// A message a buyer received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub at: Timestamp,
    pub order_id: String,
    pub text: String,
}

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The seller's home marketplace.
    pub marketplace_id: String,
    /// The other marketplaces the seller sells in (one account in one region, e.g. the EU
    /// unified account's). A call naming a marketplace outside these and the home one is
    /// refused.
    pub other_marketplaces: Vec<String>,
    pub seller_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// How long a feed sits IN_QUEUE before it is processed.
    pub feed_delay: SignedDuration,
    /// searchOrders' largest page: Amazon's default and maximum, 100; set it lower to exercise
    /// pagination.
    pub page_size: usize,
    /// The home marketplace's time zone (for buyers' reading hours; the other marketplaces'
    /// are Amazon's own).
    pub time_zone: String,
    /// Feeds created before this time stay IN_QUEUE until it.
    pub feed_stuck_until: Option<Timestamp>,
    /// Random failures per operation.
    pub fault_rates: Vec<FaultRate>,
    /// Seed for the random failures.
    pub seed: u64,
    /// What becomes of the feeds `feed_outcome_feeds` picks, whatever they say.
    pub feed_outcome: FeedOutcome,
    /// How many feeds, counted from the first one created, take `feed_outcome` (`None`: all).
    pub feed_outcome_feeds: Option<u32>,
    /// The character set processing reports are written in.
    pub report_charset: ReportCharset,
    /// How long an order change takes to reach searchOrders: changes newer than this are not
    /// found yet, and the answer's `lastUpdatedBefore` is now minus this.
    pub indexing_lag: SignedDuration,
    /// The roles the application lacks: every call to an operation that needs one of them is
    /// refused with 403 Unauthorized, as Amazon refuses it (see [`Role`]).
    pub missing_roles: BTreeSet<Role>,
    /// The product type of every offer not named in `product_types`.
    pub default_product_type: String,
    /// Product types by SKU, for offers of another type than `default_product_type`.
    pub product_types: BTreeMap<String, String>,
    /// The handling time (`lead_time_to_ship_max_days`) each offer starts with, as the seller
    /// set it in Seller Central; `None` for none.
    pub lead_time_days: Option<u32>,
    /// How long a seller performance report sits IN_QUEUE after createReport.
    pub health_report_queue: SignedDuration,
    /// How long it is then IN_PROGRESS before it ends (DONE, or `health_report_outcome`).
    pub health_report_processing: SignedDuration,
    /// How every seller performance report ends.
    pub health_report_outcome: ReportOutcome,
    /// Which report documents are GZIP-compressed.
    pub health_report_gzip: ReportGzip,
    /// How far Amazon's figures lag: a report made at T covers windows that end at T minus
    /// this (Amazon's are about a day old).
    pub health_lag: SignedDuration,
    /// History the simulator does not hold as orders, added to every seller performance
    /// report's counts for its marketplace: lots of headroom under the cancel rate's target,
    /// or none, without placing thousands of orders.
    pub health_baseline: Vec<HealthBaseline>,
}

/// How a seller performance report ends, for tests of every ending Amazon can give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportOutcome {
    /// DONE, with the document.
    #[default]
    Done,
    /// CANCELLED: no document (Amazon cancels a report that has no data).
    Cancelled,
    /// FATAL; with `document`, an error document says why (as Amazon gives one for some
    /// report types), otherwise none.
    Fatal { document: bool },
}

/// Which seller performance report documents are GZIP-compressed (`compressionAlgorithm`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportGzip {
    Never,
    Always,
    /// The first document plain, the second compressed, and so on, so that a run meets both.
    #[default]
    EveryOther,
}

/// Counts of the seller's history in one marketplace that the simulator holds no orders for,
/// inside every report window: added to the seller performance report's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthBaseline {
    pub marketplace_id: String,
    /// Orders: added to both rates' `orderCount`.
    pub orders: u64,
    /// Seller cancels counted against the pre-fulfilment cancel rate (at most `orders`).
    pub cancels: u64,
    /// Late shipments (at most `orders`).
    pub late_shipments: u64,
}

impl HealthBaseline {
    /// `orders` orders in `marketplace_id`, `cancels` of them cancelled by the seller, none
    /// shipped late.
    pub fn new(marketplace_id: &str, orders: u64, cancels: u64) -> Self {
        Self {
            marketplace_id: marketplace_id.into(),
            orders,
            cancels,
            late_shipments: 0,
        }
    }
}

/// How a feed ends, for tests of every ending Amazon can give. Only `AsSent` depends on what the
/// feed says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FeedOutcome {
    /// Processed as sent: DONE with a report that has a result line per failed message (FATAL
    /// when the document is not well-formed XML).
    #[default]
    AsSent,
    /// FATAL, nothing applied; with `report`, a result document gives the reason.
    Fatal { report: bool },
    /// CANCELLED before processing: nothing applied, no result document.
    Cancelled,
    /// DONE and applied, but the report carries only the summary counts, no result lines, even
    /// when it counts errors.
    SummaryOnly,
    /// DONE, nothing applied, and the report has one error for the whole document (no message
    /// id, no order id).
    DocumentError,
}

/// The character set of processing reports, named in the report's content type as Amazon does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportCharset {
    #[default]
    Utf8,
    /// Shift_JIS as Windows writes it, the charset of Amazon.co.jp's documents.
    Windows31J,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            marketplace_id: "A1VC38T7YXB528".into(),
            other_marketplaces: Vec::new(),
            seller_id: "A2KENZENSELLER".into(),
            client_id: "amzn1.application-oa2-client.kenzen-sim".into(),
            client_secret: "sim-client-secret-do-not-log".into(),
            refresh_token: "Atzr|sim-refresh-token-do-not-log".into(),
            feed_delay: SignedDuration::from_mins(3),
            page_size: 100,
            time_zone: "Asia/Tokyo".into(),
            feed_stuck_until: None,
            fault_rates: Vec::new(),
            seed: 1,
            feed_outcome: FeedOutcome::AsSent,
            feed_outcome_feeds: None,
            report_charset: ReportCharset::Utf8,
            indexing_lag: SignedDuration::from_mins(2),
            missing_roles: BTreeSet::new(),
            default_product_type: "HOME".into(),
            product_types: BTreeMap::new(),
            lead_time_days: Some(2),
            health_report_queue: SignedDuration::from_mins(1),
            health_report_processing: SignedDuration::from_mins(2),
            health_report_outcome: ReportOutcome::Done,
            health_report_gzip: ReportGzip::EveryOther,
            health_lag: SignedDuration::from_hours(24),
            health_baseline: Vec::new(),
        }
    }
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
    /// Crash points still armed, and the signal that one struck.
    crashes: Mutex<Vec<CrashPoint>>,
    crashed: tokio::sync::Notify,
}

/// A point where the caller's process dies (a Lambda timeout or crash): the call to `op` (for
/// `order`, if given) is processed first when `after`, or not at all otherwise, and is never
/// answered. The harness ends the running invocation when one strikes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashPoint {
    /// The operation id, e.g. `createUnexpectedProblem`.
    pub op: String,
    /// Processed before the crash (Amazon has it) or not.
    pub after: bool,
    /// Only a call naming this order (in its path or body).
    pub order: Option<String>,
}

impl Sim {
    pub fn new(config: SimConfig, clock: Arc<VirtualClock>) -> Arc<Self> {
        Arc::new(Self {
            world: Mutex::new(World::new(config.seed)),
            config,
            clock,
            base: Mutex::new(String::new()),
            crashes: Mutex::new(Vec::new()),
            crashed: tokio::sync::Notify::new(),
        })
    }

    /// Arms a crash point; it strikes once.
    pub fn arm_crash(&self, point: CrashPoint) {
        self.crashes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(point);
    }

    /// Resolves when an armed crash point strikes.
    pub async fn crashed(&self) {
        self.crashed.notified().await
    }

    /// Takes the crash point that matches a call to `op` with `path` and `body`, if one does.
    pub(crate) fn take_crash(&self, op: &str, path: &str, body: &[u8]) -> Option<CrashPoint> {
        let mut armed = self.crashes.lock().unwrap_or_else(|e| e.into_inner());
        let i = armed.iter().position(|c| {
            c.op == op
                && c.order
                    .as_deref()
                    .is_none_or(|o| path.contains(o) || String::from_utf8_lossy(body).contains(o))
        })?;
        Some(armed.remove(i))
    }

    /// Signals the crash and never answers.
    pub(crate) async fn crash(&self) -> ! {
        self.crashed.notify_waiters();
        let never: std::convert::Infallible = std::future::pending().await;
        match never {}
    }

    /// The world, for one step of one request or action (never held across an `.await`).
    fn world(&self) -> MutexGuard<'_, World> {
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
        let app = server::app(self.clone());
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
                w.schedule(t, order.order_id.clone(), Action::BuyerRequestsCancellation)
            }
            Buyer::CancelsAt(t) => w.schedule(t, order.order_id.clone(), Action::BuyerCancels),
            _ => {}
        }
        w.orders.insert(order.order_id.clone(), order);
    }

    /// Schedules a world action for `order_id` at `at`.
    pub fn schedule(&self, at: Timestamp, order_id: &str, action: Action) {
        self.world().schedule(at, order_id.to_string(), action);
    }

    /// The seller ships `order_id` now (if it is still unshipped).
    pub fn ship(&self, order_id: &str) {
        self.schedule(self.clock.now(), order_id, Action::SellerShips);
        self.advance();
    }

    /// The offer quantity of `sku` in the home marketplace as listing patches and cancels left
    /// it.
    pub fn offer_quantity(&self, sku: &str) -> Option<i64> {
        self.offer_quantity_in(&self.config.marketplace_id, sku)
    }

    /// The offer quantity of `sku` in `marketplace` as listing patches and cancels left it.
    pub fn offer_quantity_in(&self, marketplace: &str, sku: &str) -> Option<i64> {
        self.world()
            .offers
            .get(&world::offer(marketplace, sku))
            .copied()
    }

    /// Applies every scripted action due by now, in time order.
    pub fn advance(&self) {
        let now = self.clock.now();
        self.world().play_due(now);
    }

    /// Makes operation `op` (a model operation id) answer `status` with the raw `body` for its
    /// next `times` calls (after authentication and rate limiting, like a real server fault).
    pub fn inject(&self, op: &str, status: u16, body: &str, times: u32) {
        self.world().faults.push(world::Fault {
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

    /// The messages delivered after the first `seen` (for a watcher that reads them as they
    /// come, without copying the whole list each time).
    pub fn delivered_since(&self, seen: usize) -> Vec<Delivered> {
        self.world()
            .delivered
            .get(seen..)
            .map(<[Delivered]>::to_vec)
            .unwrap_or_default()
    }

    /// The request and action log so far.
    pub fn log(&self) -> Vec<Value> {
        self.world().log.clone()
    }

    /// Writes the log as JSONL.
    pub fn write_log(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        // Written under the lock, without a copy of the log (it is large in a volume run).
        let w = self.world();
        for line in &w.log {
            serde_json::to_writer(&mut f, line)?;
            f.write_all(b"\n")?;
        }
        f.flush()
    }

    /// Amazon's usage plan for `operation` (a model operation id): (requests per second,
    /// burst); `None` for calls without one (the token endpoint, document transfers).
    pub fn usage_plan(operation: &str) -> Option<(f64, f64)> {
        kenzen_spapi_rates::usage_plan(operation).map(|p| (p.rate, p.burst))
    }
}
