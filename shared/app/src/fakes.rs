//! In-memory ports (feature `test-util`): a marketplace whose orders and answers a test sets,
//! a store and an event bus that keep everything in memory. Service-level rule tests run on
//! them in milliseconds, without moto_server, the simulator or HTTP.
//!
//! They keep the ports' contracts that the rules rely on: case saves are conditional on the
//! version, timeline entries are append-only, and every call to the marketplace is recorded in
//! order so a test can say what kenzen asked of Amazon and when. The fake marketplace refuses,
//! as Amazon does, a call about an order under another marketplace's id than the order's.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;
use kenzen_core::marketplace::Language;
use kenzen_core::templates::{SellerVars, Template, TemplateKind};
use kenzen_core::{
    Case, DomainEvent, DueKind, MarketplaceId, OrderId, OrderStatus, OrderView, Sku, SkuInfo,
};

use crate::ports::{
    CancelBatchStatus, CancelBatchStore, CancelRequest, CaseStore, CasesRead, DayCount,
    EventPublisher, FeedSummary, HealthFetch, HealthReportStatus, HealthStore, IntakeStore,
    MarketError, MarketErrorKind, Marketplace, ModeSetting, OrderCountStore, OrderPage, PollState,
    PublishError, ReportStore, Reserve, SendOutcome, SettingsStore, SlotHistoryStore, StockStore,
    StoreError, StoredTemplate, StoredTemplates, TemplateStore, TimelineEntry, Unreadable,
    UnreadableOrder, Versioned,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A test that panicked while holding the lock has failed already; keep its data readable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One call the fake marketplace received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketCall {
    SearchOrders,
    GetOrder(String),
    Preflight(String),
    BuyerLocale(String),
    /// A message Amazon accepted or refused (order id, text).
    Message(String, String),
    /// A cancel batch: the orders it carries, with the cancel reason as the feed says it.
    SubmitCancels(Vec<(String, String)>),
    /// A listing quantity change (SKU, quantity, product type).
    SetListingQuantity(String, u32, String),
    ListingProductType(String),
    RecentCancelFeeds,
    CancelStatus(String),
    /// createReport for the seller performance report.
    RequestHealthReport,
    HealthReportStatus(String),
    HealthReport(String),
}

#[derive(Default)]
struct MarketState {
    orders: BTreeMap<OrderId, OrderView>,
    locale: BTreeMap<OrderId, String>,
    /// Orders for which the messaging preflight offers no `unexpectedProblem`.
    unavailable: Vec<String>,
    /// Orders the search lists in a shape kenzen cannot read.
    unreadable_orders: Vec<String>,
    /// Operations that fail (transiently) until cleared.
    failing: Vec<&'static str>,
    /// Operations Amazon carries out but whose answer is lost (outcome unknown) until cleared.
    lost: Vec<&'static str>,
    /// Operations refused for the seller's authorisation (a missing role) until cleared.
    unauthorized: Vec<&'static str>,
    /// Feed id → when it was created (the order it was created in, as seconds).
    feed_created: BTreeMap<String, Timestamp>,
    /// The time feeds are stamped with (see [`FakeMarket::set_now`]).
    now: Option<Timestamp>,
    /// Feeds stay in the queue while set (see [`FakeMarket::hold_feeds`]).
    held: bool,
    /// Every call takes this long on this virtual clock (see [`FakeMarket::set_latency`]).
    latency: Option<(
        std::sync::Arc<crate::clock::VirtualClock>,
        jiff::SignedDuration,
    )>,
    /// Feed id → where it stands.
    feeds: BTreeMap<String, CancelBatchStatus>,
    /// Feed id → the orders it cancels.
    feed_orders: BTreeMap<String, Vec<String>>,
    /// Feed id → the marketplace it was submitted for.
    feed_marketplace: BTreeMap<String, String>,
    /// Listing quantity changes: (SKU, marketplace), in order.
    listing_marketplaces: Vec<(String, String)>,
    calls: Vec<MarketCall>,
    next_feed: u32,
    /// Orders per search page (0: 100, Amazon's largest).
    page_size: usize,
    /// The seller performance report's document (see [`FakeMarket::set_health_document`]),
    /// and the reports requested so far.
    health_document: Option<Vec<u8>>,
    health_reports: u32,
}

/// A marketplace that answers from orders a test puts in it. Submitted cancels are pending
/// until [`FakeMarket::process_feeds`] applies them (every order in the batch cancelled).
#[derive(Default)]
pub struct FakeMarket {
    state: Mutex<MarketState>,
}

impl FakeMarket {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an order (what Amazon shows from now on).
    pub fn put_order(&self, order: OrderView) {
        lock(&self.state)
            .orders
            .insert(order.order_id.clone(), order);
    }

    /// Changes an order in place (a buyer request, a ship, a cancel elsewhere).
    pub fn update_order(&self, order_id: &str, f: impl FnOnce(&mut OrderView)) {
        if let Some(o) = lock(&self.state).orders.get_mut(order_id) {
            f(o)
        }
    }

    /// The seller performance report's document from now on (JSON bytes, as Amazon would
    /// serve them): a requested report is done at once with it. Without one, reports end
    /// CANCELLED (no data).
    pub fn set_health_document(&self, document: &[u8]) {
        lock(&self.state).health_document = Some(document.to_vec());
    }

    pub fn set_locale(&self, order_id: &str, locale: &str) {
        if let Ok(id) = OrderId::parse(order_id) {
            lock(&self.state).locale.insert(id, locale.into());
        }
    }

    /// Messaging offers no `unexpectedProblem` for this order from now on.
    pub fn make_messaging_unavailable(&self, order_id: &str) {
        lock(&self.state).unavailable.push(order_id.into());
    }

    /// Every call to `op` (e.g. `getOrder`) fails transiently until [`FakeMarket::recover`].
    pub fn fail(&self, op: &'static str) {
        lock(&self.state).failing.push(op);
    }

    pub fn recover(&self) {
        let mut st = lock(&self.state);
        st.failing.clear();
        st.lost.clear();
        st.unauthorized.clear();
    }

    /// The search lists `order_id` in a shape kenzen cannot read (an unknown status value).
    pub fn make_unreadable(&self, order_id: &str) {
        lock(&self.state).unreadable_orders.push(order_id.into());
    }

    /// From now on Amazon carries out `op` but its answer is lost (until [`Self::recover`]).
    pub fn lose_answers(&self, op: &'static str) {
        lock(&self.state).lost.push(op);
    }

    /// From now on `op` is refused for the seller's authorisation (until [`Self::recover`]).
    pub fn refuse_authorization(&self, op: &'static str) {
        lock(&self.state).unauthorized.push(op);
    }

    /// From now on every call moves `clock` on by `each`, as Amazon's rate limits and round
    /// trips would: how a test sees whether a run keeps within its time budget.
    pub fn set_latency(
        &self,
        clock: std::sync::Arc<crate::clock::VirtualClock>,
        each: jiff::SignedDuration,
    ) {
        lock(&self.state).latency = Some((clock, each));
    }

    /// The search answers `n` orders per page (readable or not), as Amazon pages its answers.
    pub fn set_page_size(&self, n: usize) {
        lock(&self.state).page_size = n;
    }

    /// While `held`, submitted feeds stay in Amazon's queue ([`Self::process_feeds`] does nothing).
    pub fn hold_feeds(&self, held: bool) {
        lock(&self.state).held = held;
    }

    /// The time new feeds are stamped with (`getFeeds` lists them by it).
    pub fn set_now(&self, now: Timestamp) {
        lock(&self.state).now = Some(now);
    }

    /// Processes every pending feed: the orders it carries are cancelled, and its report lists
    /// no error.
    pub fn process_feeds(&self, at: Timestamp) {
        let mut st = lock(&self.state);
        if st.held {
            return;
        }
        let batches: Vec<(String, Vec<String>)> = st
            .feed_orders
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (feed, ids) in batches {
            if st.feeds.get(&feed) == Some(&CancelBatchStatus::Pending) {
                for id in ids {
                    if let Some(o) = st.orders.get_mut(id.as_str()) {
                        o.status = OrderStatus::Cancelled;
                        o.last_updated = at;
                    }
                }
                st.feeds.insert(
                    feed,
                    CancelBatchStatus::Done {
                        errors: BTreeMap::new(),
                        unattributed: None,
                    },
                );
            }
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<MarketCall> {
        lock(&self.state).calls.clone()
    }

    /// The texts of the messages sent to `order_id`, in order.
    pub fn messages_to(&self, order_id: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                MarketCall::Message(id, text) if id == order_id => Some(text),
                _ => None,
            })
            .collect()
    }

    /// The marketplace each submitted feed was for, by feed id.
    pub fn feed_marketplaces(&self) -> BTreeMap<String, String> {
        lock(&self.state).feed_marketplace.clone()
    }

    /// Every listing quantity change as (SKU, marketplace), in order.
    pub fn listing_marketplaces(&self) -> Vec<(String, String)> {
        lock(&self.state).listing_marketplaces.clone()
    }

    /// The cancel reasons submitted for `order_id`, in order.
    pub fn cancels_of(&self, order_id: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .flat_map(|c| match c {
                MarketCall::SubmitCancels(orders) => orders,
                _ => Vec::new(),
            })
            .filter(|(id, _)| id == order_id)
            .map(|(_, reason)| reason)
            .collect()
    }

    fn call(&self, op: &'static str, call: MarketCall) -> Result<(), MarketError> {
        let mut st = lock(&self.state);
        st.calls.push(call);
        if let Some((clock, each)) = &st.latency {
            clock.advance(*each);
        }
        if st.unauthorized.contains(&op) {
            return Err(MarketError::new(
                MarketErrorKind::NotAuthorized,
                op,
                format!("{op}: HTTP 403 Unauthorized: Access to requested resource is denied."),
            ));
        }
        if st.failing.contains(&op) {
            return Err(MarketError::new(
                MarketErrorKind::Transient,
                op,
                format!("{op}: still failing after 5 attempts (last: HTTP 503); try again later"),
            ));
        }
        Ok(())
    }

    /// After Amazon carried out `op`: the answer is lost when the test says so.
    fn answer_lost(&self, op: &'static str) -> Result<(), MarketError> {
        if lock(&self.state).lost.contains(&op) {
            return Err(MarketError::new(
                MarketErrorKind::OutcomeUnknown,
                op,
                format!("{op}: HTTP 500 after sending; Amazon may have processed it"),
            ));
        }
        Ok(())
    }

    /// The order, if it was placed in `marketplace`: a 400, as Amazon answers a messaging call
    /// under another marketplace's id.
    fn order_in(
        &self,
        op: &'static str,
        order_id: &str,
        marketplace: &MarketplaceId,
    ) -> Result<OrderView, MarketError> {
        let order = self.order(op, order_id)?;
        if order.marketplace_id != *marketplace {
            return Err(MarketError::new(
                MarketErrorKind::InvalidInput,
                op,
                format!(
                    "{op}: HTTP 400 InvalidInput: order {order_id} was not placed in marketplace \
                     {marketplace}"
                ),
            ));
        }
        Ok(order)
    }

    fn order(&self, op: &'static str, order_id: &str) -> Result<OrderView, MarketError> {
        lock(&self.state)
            .orders
            .get(order_id)
            .cloned()
            .ok_or_else(|| {
                MarketError::new(
                    MarketErrorKind::InvalidInput,
                    op,
                    format!("{op}: HTTP 404 NotFound: no order {order_id}"),
                )
            })
    }
}

impl Marketplace for FakeMarket {
    fn cancel_feed_document(&self, cancels: &[CancelRequest]) -> String {
        crate::adapters::spapi::feed::order_acknowledgement_feed("FAKE-SELLER", cancels)
    }

    async fn search_orders_page(
        &self,
        after: Timestamp,
        before: Timestamp,
        token: Option<&str>,
    ) -> Result<OrderPage, MarketError> {
        self.call("searchOrders", MarketCall::SearchOrders)?;
        let st = lock(&self.state);
        let size = if st.page_size == 0 { 100 } else { st.page_size };
        let start = match token {
            None => 0,
            Some(t) => t
                .strip_prefix("page-")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    MarketError::new(
                        MarketErrorKind::InvalidInput,
                        "searchOrders",
                        "searchOrders: HTTP 400 Invalid paginationToken.",
                    )
                })?,
        };
        let matching: Vec<&OrderView> = st
            .orders
            .values()
            .filter(|o| o.last_updated >= after && o.last_updated <= before)
            .collect();
        let mut page = OrderPage::default();
        for o in matching.iter().skip(start).take(size) {
            if st
                .unreadable_orders
                .iter()
                .any(|u| u == o.order_id.as_str())
            {
                page.unreadable.push(UnreadableOrder {
                    order_id: Some(o.order_id.to_string()),
                    detail: "unknown variant `ON_THE_MOON` for fulfillmentStatus".into(),
                });
            } else {
                page.orders.push((*o).clone());
            }
        }
        if token.is_none() {
            // An unreadable entry with no order behind it (only its id can be read).
            for id in &st.unreadable_orders {
                if !st.orders.keys().any(|k| k.as_str() == id) {
                    page.unreadable.push(UnreadableOrder {
                        order_id: Some(id.clone()),
                        detail: "missing field `fulfillment`".into(),
                    });
                }
            }
        }
        if start + size < matching.len() {
            page.next_token = Some(format!("page-{}", start + size));
        }
        Ok(page)
    }

    async fn get_order(&self, order_id: &OrderId) -> Result<OrderView, MarketError> {
        self.call("getOrder", MarketCall::GetOrder(order_id.to_string()))?;
        self.order("getOrder", order_id)
    }

    async fn recent_cancel_feeds(&self, since: Timestamp) -> Result<Vec<FeedSummary>, MarketError> {
        self.call("getFeeds", MarketCall::RecentCancelFeeds)?;
        let st = lock(&self.state);
        Ok(st
            .feed_created
            .iter()
            .filter(|(_, t)| **t >= since)
            .map(|(id, t)| FeedSummary {
                feed_id: id.clone(),
                created: *t,
                status: match st.feeds.get(id) {
                    Some(CancelBatchStatus::Pending) => "IN_QUEUE".into(),
                    _ => "DONE".into(),
                },
            })
            .collect())
    }

    async fn listing_product_type(
        &self,
        sku: &Sku,
        _marketplace: &MarketplaceId,
    ) -> Result<Option<String>, MarketError> {
        self.call(
            "getListingsItem",
            MarketCall::ListingProductType(sku.to_string()),
        )?;
        Ok(Some("HOME".into()))
    }

    async fn can_send_unexpected_problem(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
    ) -> Result<bool, MarketError> {
        self.call(
            "getMessagingActionsForOrder",
            MarketCall::Preflight(order_id.to_string()),
        )?;
        let order = self.order_in("getMessagingActionsForOrder", order_id, marketplace)?;
        let st = lock(&self.state);
        Ok(!st.unavailable.iter().any(|id| id == order_id.as_str())
            && order.status != OrderStatus::Cancelled)
    }

    async fn buyer_locale(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
    ) -> Result<Option<String>, MarketError> {
        self.call(
            "getAttributes",
            MarketCall::BuyerLocale(order_id.to_string()),
        )?;
        self.order_in("getAttributes", order_id, marketplace)?;
        Ok(lock(&self.state).locale.get(order_id.as_str()).cloned())
    }

    async fn send_unexpected_problem(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
        text: &str,
    ) -> Result<SendOutcome, MarketError> {
        self.call(
            "createUnexpectedProblem",
            MarketCall::Message(order_id.to_string(), text.into()),
        )?;
        let order = self.order_in("createUnexpectedProblem", order_id, marketplace)?;
        if order.status == OrderStatus::Cancelled {
            return Ok(SendOutcome::Refused(
                "createUnexpectedProblem: HTTP 403: order cancelled".into(),
            ));
        }
        self.answer_lost("createUnexpectedProblem")?;
        Ok(SendOutcome::Accepted)
    }

    async fn submit_cancels(
        &self,
        marketplace: &MarketplaceId,
        cancels: &[CancelRequest],
    ) -> Result<String, MarketError> {
        self.call(
            "createFeed",
            MarketCall::SubmitCancels(
                cancels
                    .iter()
                    .map(|c| (c.order_id.to_string(), c.reason.as_feed().to_string()))
                    .collect(),
            ),
        )?;
        // A feed applies to the marketplace it names: an order of another cannot be in it.
        for c in cancels {
            self.order_in("createFeed", &c.order_id, marketplace)?;
        }
        let mut st = lock(&self.state);
        let next = format!("FEED-{}", st.next_feed + 1);
        st.feed_marketplace.insert(next, marketplace.to_string());
        st.next_feed += 1;
        let id = format!("FEED-{}", st.next_feed);
        st.feeds.insert(id.clone(), CancelBatchStatus::Pending);
        let created = st.now.unwrap_or(Timestamp::UNIX_EPOCH);
        st.feed_created.insert(id.clone(), created);
        st.feed_orders.insert(
            id.clone(),
            cancels.iter().map(|c| c.order_id.to_string()).collect(),
        );
        drop(st);
        self.answer_lost("createFeed")?;
        Ok(id)
    }

    async fn set_listing_quantity(
        &self,
        sku: &Sku,
        marketplace: &MarketplaceId,
        quantity: u32,
        product_type: &str,
    ) -> Result<(), MarketError> {
        self.call(
            "patchListingsItem",
            MarketCall::SetListingQuantity(sku.to_string(), quantity, product_type.into()),
        )?;
        lock(&self.state)
            .listing_marketplaces
            .push((sku.to_string(), marketplace.to_string()));
        Ok(())
    }

    async fn cancel_status(
        &self,
        id: &str,
        _cancels: &[CancelRequest],
    ) -> Result<CancelBatchStatus, MarketError> {
        self.call("getFeed", MarketCall::CancelStatus(id.into()))?;
        lock(&self.state).feeds.get(id).cloned().ok_or_else(|| {
            MarketError::new(
                MarketErrorKind::InvalidInput,
                "getFeed",
                format!("getFeed: HTTP 404: no feed {id}"),
            )
        })
    }

    async fn request_health_report(
        &self,
        _marketplaces: &[MarketplaceId],
    ) -> Result<String, MarketError> {
        self.call("createReport", MarketCall::RequestHealthReport)?;
        let id = {
            let mut st = lock(&self.state);
            st.health_reports += 1;
            format!("5000{}", st.health_reports)
        };
        self.answer_lost("createReport")?;
        Ok(id)
    }

    async fn health_report_status(
        &self,
        report_id: &str,
    ) -> Result<HealthReportStatus, MarketError> {
        self.call(
            "getReport",
            MarketCall::HealthReportStatus(report_id.into()),
        )?;
        Ok(match lock(&self.state).health_document {
            Some(_) => HealthReportStatus::Done {
                document_id: format!("doc-{report_id}"),
            },
            None => HealthReportStatus::Cancelled,
        })
    }

    async fn health_report(
        &self,
        document_id: &str,
        fetched_at: Timestamp,
    ) -> Result<kenzen_core::ParsedReport, MarketError> {
        self.call(
            "getReportDocument",
            MarketCall::HealthReport(document_id.into()),
        )?;
        let doc = lock(&self.state)
            .health_document
            .clone()
            .unwrap_or_default();
        kenzen_core::parse_report(&doc, fetched_at).map_err(|e| {
            MarketError::new(
                MarketErrorKind::Unreadable,
                "getReportDocument",
                format!("the seller performance report: {e}"),
            )
        })
    }
}

/// A stored case and when (and for which sweep) it is due.
type StoredCase = (Versioned<Case>, Option<(DueKind, Timestamp)>);

#[derive(Default)]
struct StoreState {
    cases: BTreeMap<OrderId, StoredCase>,
    timeline: Vec<TimelineEntry>,
    stock: BTreeMap<Sku, SkuInfo>,
    cursor: Option<Timestamp>,
    poll: PollState,
    notifications: Vec<String>,
    batches: BTreeMap<String, Vec<CancelRequest>>,
    /// Items that cannot be read as cases (every index lists them), and whether reported.
    unreadable: Vec<(Unreadable, bool)>,
    /// Stock reservations: (SKU, order).
    reserved: Vec<(Sku, OrderId)>,
    mode: Option<ModeSetting>,
    /// The seller's templates: (language code, kind name) → text, as stored.
    templates: BTreeMap<(String, String), String>,
    template_vars: Option<(String, String)>,
    /// How often the templates were read.
    template_reads: usize,
    /// Orders counted, and the counts by (marketplace, local day).
    counted: std::collections::BTreeSet<OrderId>,
    counts: BTreeMap<(String, jiff::civil::Date), u64>,
    /// Seller-initiated cancels counted, and their counts by (marketplace, local day).
    cancels_counted: std::collections::BTreeSet<OrderId>,
    cancel_counts: BTreeMap<(String, jiff::civil::Date), u64>,
    /// Counting fails (as a database outage would) while set.
    counts_down: bool,
    health_fetch: Option<HealthFetch>,
    health: BTreeMap<String, kenzen_core::MarketplaceHealth>,
    /// The slot history: (marketplace, sent at, order) → the request's time, if any.
    slot_history: BTreeMap<(String, Timestamp, OrderId), Option<Timestamp>>,
}

/// A store in memory, with the same conditional-write rules as the DynamoDB adapter.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<StoreState>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an item under `key` that cannot be read as a case (damaged, or from a later
    /// version): the indexes list it next to the readable cases.
    pub fn put_unreadable(&self, key: &str, detail: &str) {
        lock(&self.state).unreadable.push((
            Unreadable {
                key: key.into(),
                detail: detail.into(),
            },
            false,
        ));
    }

    pub fn put_stock(&self, sku: &str, info: SkuInfo) {
        if let Ok(sku) = Sku::parse(sku) {
            lock(&self.state).stock.insert(sku, info);
        }
    }

    /// Stores a template text as is, unvalidated (as a later version, or a hand edit of the
    /// table, might have left it).
    pub fn put_raw_template(&self, lang: &str, kind: &str, text: &str) {
        lock(&self.state)
            .templates
            .insert((lang.into(), kind.into()), text.into());
    }

    /// How often the templates were read.
    pub fn template_reads(&self) -> usize {
        lock(&self.state).template_reads
    }

    /// Counting orders fails (a database error) while `down`, as DynamoDB in an outage.
    pub fn set_counts_down(&self, down: bool) {
        lock(&self.state).counts_down = down;
    }

    /// Stores `case` as it is (a test's history: cases opened and ended at given times).
    pub fn put_case(&self, case: Case) {
        let mut st = lock(&self.state);
        let version = st
            .cases
            .get(&case.order_id)
            .map_or(1, |(vc, _)| vc.version + 1);
        st.cases.insert(
            case.order_id.clone(),
            (
                Versioned {
                    value: case,
                    version,
                },
                None,
            ),
        );
    }

    /// The case as stored now, if any.
    pub fn case(&self, order_id: &str) -> Option<Case> {
        lock(&self.state)
            .cases
            .get(order_id)
            .map(|(vc, _)| vc.value.clone())
    }

    /// The account-health fetch state, as stored.
    pub fn health_fetch_now(&self) -> Option<HealthFetch> {
        lock(&self.state).health_fetch.clone()
    }

    /// Every timeline entry of `order_id`, in the order written.
    pub fn timeline_of(&self, order_id: &str) -> Vec<TimelineEntry> {
        lock(&self.state)
            .timeline
            .iter()
            .filter(|e| e.order_id == order_id)
            .cloned()
            .collect()
    }

    fn put(
        &self,
        case: &Case,
        expected: Option<u64>,
        due: Option<(DueKind, Timestamp)>,
    ) -> Result<Versioned<Case>, StoreError> {
        let mut st = lock(&self.state);
        let current = st.cases.get(&case.order_id).map(|(vc, _)| vc.version);
        if current != expected {
            return Err(StoreError::Conflict(format!("case {}", case.order_id)));
        }
        let saved = Versioned {
            value: case.clone(),
            version: expected.map_or(1, |v| v + 1),
        };
        st.cases.insert(case.order_id.clone(), (saved.clone(), due));
        Ok(saved)
    }
}

impl CaseStore for MemoryStore {
    async fn get_case(&self, order_id: &OrderId) -> Result<Option<Versioned<Case>>, StoreError> {
        Ok(lock(&self.state)
            .cases
            .get(order_id.as_str())
            .map(|(vc, _)| vc.clone()))
    }

    async fn create_case(
        &self,
        case: &Case,
        due: Option<(DueKind, Timestamp)>,
    ) -> Result<Versioned<Case>, StoreError> {
        self.put(case, None, due)
    }

    async fn save_case(
        &self,
        case: &Case,
        version: u64,
        due: Option<(DueKind, Timestamp)>,
    ) -> Result<Versioned<Case>, StoreError> {
        self.put(case, Some(version), due)
    }

    async fn due_cases(&self, kind: DueKind, now: Timestamp) -> Result<CasesRead, StoreError> {
        let st = lock(&self.state);
        Ok(CasesRead {
            cases: st
                .cases
                .values()
                .filter(|(_, due)| matches!(due, Some((k, at)) if *k == kind && *at <= now))
                .map(|(vc, _)| vc.clone())
                .collect(),
            unreadable: st.unreadable.iter().map(|(u, _)| u.clone()).collect(),
        })
    }

    async fn open_cases(&self) -> Result<CasesRead, StoreError> {
        let st = lock(&self.state);
        Ok(CasesRead {
            cases: st
                .cases
                .values()
                .filter(|(vc, _)| !vc.value.state.is_terminal())
                .map(|(vc, _)| vc.clone())
                .collect(),
            unreadable: st.unreadable.iter().map(|(u, _)| u.clone()).collect(),
        })
    }

    async fn mark_unreadable(&self, key: &str) -> Result<bool, StoreError> {
        let mut st = lock(&self.state);
        Ok(match st.unreadable.iter_mut().find(|(u, _)| u.key == key) {
            Some((_, reported)) if !*reported => {
                *reported = true;
                true
            }
            _ => false,
        })
    }

    async fn append_timeline(&self, entry: &TimelineEntry) -> Result<(), StoreError> {
        lock(&self.state).timeline.push(entry.clone());
        Ok(())
    }

    async fn timeline(&self, order_id: &OrderId) -> Result<Vec<TimelineEntry>, StoreError> {
        Ok(self.timeline_of(order_id))
    }
}

impl StockStore for MemoryStore {
    async fn sku_info(&self, skus: &[Sku]) -> Result<BTreeMap<Sku, SkuInfo>, StoreError> {
        let st = lock(&self.state);
        Ok(skus
            .iter()
            .filter_map(|s| st.stock.get(s).map(|i| (s.clone(), i.clone())))
            .collect())
    }

    async fn reserve(
        &self,
        sku: &Sku,
        quantity: u32,
        order_id: &OrderId,
    ) -> Result<Reserve, StoreError> {
        let mut st = lock(&self.state);
        let key = (sku.clone(), order_id.clone());
        if st.reserved.contains(&key) {
            return Ok(Reserve::Reserved);
        }
        let Some(on_hand) = st.stock.get(sku).and_then(|i| i.on_hand) else {
            return Ok(Reserve::Unmanaged);
        };
        if on_hand < quantity {
            return Ok(Reserve::Short { on_hand });
        }
        if let Some(info) = st.stock.get_mut(sku) {
            info.on_hand = Some(on_hand - quantity);
        }
        st.reserved.push(key);
        Ok(Reserve::Reserved)
    }

    async fn release(
        &self,
        sku: &Sku,
        quantity: u32,
        order_id: &OrderId,
        give_back: bool,
    ) -> Result<(), StoreError> {
        let mut st = lock(&self.state);
        let key = (sku.clone(), order_id.clone());
        if let Some(i) = st.reserved.iter().position(|k| *k == key) {
            st.reserved.remove(i);
            if give_back && let Some(info) = st.stock.get_mut(sku) {
                info.on_hand = info.on_hand.map(|n| n + quantity);
            }
        }
        Ok(())
    }

    async fn set_product_type(&self, sku: &Sku, product_type: &str) -> Result<(), StoreError> {
        if let Some(info) = lock(&self.state).stock.get_mut(sku) {
            info.product_type = Some(product_type.into());
        }
        Ok(())
    }
}

impl IntakeStore for MemoryStore {
    async fn poll_cursor(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(lock(&self.state).cursor)
    }

    async fn set_poll_cursor(&self, t: Timestamp) -> Result<(), StoreError> {
        lock(&self.state).cursor = Some(t);
        Ok(())
    }

    async fn poll_state(&self) -> Result<PollState, StoreError> {
        Ok(lock(&self.state).poll.clone())
    }

    async fn set_poll_state(&self, state: &PollState) -> Result<(), StoreError> {
        lock(&self.state).poll = state.clone();
        Ok(())
    }

    async fn notification_seen(&self, id: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.state).notifications.iter().any(|n| n == id))
    }

    async fn mark_unreadable_order(&self, key: &str, _now: Timestamp) -> Result<bool, StoreError> {
        let mut st = lock(&self.state);
        let k = format!("UNREADABLE#{key}");
        if st.notifications.contains(&k) {
            return Ok(false);
        }
        st.notifications.push(k);
        Ok(true)
    }

    async fn mark_notification(&self, id: &str, _now: Timestamp) -> Result<(), StoreError> {
        lock(&self.state).notifications.push(id.into());
        Ok(())
    }
}

impl CancelBatchStore for MemoryStore {
    async fn put_cancel_batch(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> Result<(), StoreError> {
        lock(&self.state)
            .batches
            .insert(id.into(), cancels.to_vec());
        Ok(())
    }

    async fn cancel_batch(&self, id: &str) -> Result<Option<Vec<CancelRequest>>, StoreError> {
        Ok(lock(&self.state).batches.get(id).cloned())
    }
}

impl SettingsStore for MemoryStore {
    async fn mode(&self) -> Result<Option<ModeSetting>, StoreError> {
        Ok(lock(&self.state).mode.clone())
    }

    async fn set_mode(&self, setting: &ModeSetting) -> Result<(), StoreError> {
        lock(&self.state).mode = Some(setting.clone());
        Ok(())
    }

    async fn claim_digest(&self, date: &str, _now: Timestamp) -> Result<bool, StoreError> {
        let mut st = lock(&self.state);
        let k = format!("DIGEST#{date}");
        if st.notifications.contains(&k) {
            return Ok(false);
        }
        st.notifications.push(k);
        Ok(true)
    }
}

impl TemplateStore for MemoryStore {
    async fn stored_templates(&self) -> Result<StoredTemplates, StoreError> {
        let mut st = lock(&self.state);
        st.template_reads += 1;
        Ok(StoredTemplates {
            templates: st
                .templates
                .iter()
                .map(|((lang, kind), text)| StoredTemplate {
                    lang: lang.clone(),
                    kind: kind.clone(),
                    text: text.clone(),
                })
                .collect(),
            vars: st.template_vars.clone(),
        })
    }

    async fn put_template(&self, template: &Template) -> Result<(), StoreError> {
        self.put_raw_template(
            template.lang().code(),
            template.kind().name(),
            template.text(),
        );
        Ok(())
    }

    async fn delete_template(&self, lang: Language, kind: TemplateKind) -> Result<(), StoreError> {
        lock(&self.state)
            .templates
            .remove(&(lang.code().into(), kind.name().into()));
        Ok(())
    }

    async fn put_template_vars(&self, vars: &SellerVars) -> Result<(), StoreError> {
        lock(&self.state).template_vars = Some((vars.shop_name().into(), vars.signature().into()));
        Ok(())
    }
}

impl MemoryStore {
    /// Counts `order_id` once in the orders' (or the cancels') day counts.
    fn count_once(
        &self,
        cancels: bool,
        order_id: &OrderId,
        marketplace_id: &str,
        day: jiff::civil::Date,
    ) -> Result<bool, StoreError> {
        let mut st = lock(&self.state);
        if st.counts_down {
            return Err(StoreError::Db {
                op: if cancels {
                    "PutItem(cancel counted)"
                } else {
                    "PutItem(order seen)"
                },
                detail: "the fake store's counts are down".into(),
                source: "counts down".into(),
            });
        }
        let st = &mut *st;
        let (seen, counts) = if cancels {
            (&mut st.cancels_counted, &mut st.cancel_counts)
        } else {
            (&mut st.counted, &mut st.counts)
        };
        if !seen.insert(order_id.clone()) {
            return Ok(false);
        }
        *counts.entry((marketplace_id.into(), day)).or_default() += 1;
        Ok(true)
    }
}

impl OrderCountStore for MemoryStore {
    async fn count_order(
        &self,
        order_id: &OrderId,
        marketplace_id: &str,
        day: jiff::civil::Date,
        _now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.count_once(false, order_id, marketplace_id, day)
    }

    async fn count_cancel(
        &self,
        order_id: &OrderId,
        marketplace_id: &str,
        day: jiff::civil::Date,
        _now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.count_once(true, order_id, marketplace_id, day)
    }

    async fn order_counts(
        &self,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<DayCount>, StoreError> {
        let st = lock(&self.state);
        let mut out: BTreeMap<(String, jiff::civil::Date), DayCount> = BTreeMap::new();
        let within = |((_, d), _): &(&(String, jiff::civil::Date), &u64)| (from..=to).contains(d);
        let counters = [(&st.counts, false), (&st.cancel_counts, true)];
        for (counter, cancels) in counters {
            for ((marketplace_id, day), n) in counter.iter().filter(within) {
                let c = out
                    .entry((marketplace_id.clone(), *day))
                    .or_insert_with(|| DayCount {
                        marketplace_id: marketplace_id.clone(),
                        day: *day,
                        orders: 0,
                        counted: 0,
                    });
                if cancels {
                    c.counted += n;
                } else {
                    c.orders += n;
                }
            }
        }
        Ok(out.into_values().collect())
    }
}

impl SlotHistoryStore for MemoryStore {
    async fn record_send(
        &self,
        marketplace_id: &str,
        order_id: &OrderId,
        sent_at: Timestamp,
    ) -> Result<(), StoreError> {
        lock(&self.state)
            .slot_history
            .insert((marketplace_id.into(), sent_at, order_id.clone()), None);
        Ok(())
    }

    async fn record_request(
        &self,
        marketplace_id: &str,
        order_id: &OrderId,
        sent_at: Timestamp,
        request_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut st = lock(&self.state);
        match st
            .slot_history
            .get_mut(&(marketplace_id.into(), sent_at, order_id.clone()))
        {
            Some(r @ None) => {
                *r = Some(request_at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn slot_history(
        &self,
        marketplace_id: &str,
        since: Timestamp,
    ) -> Result<Vec<kenzen_core::slots_learn::Observation>, StoreError> {
        Ok(lock(&self.state)
            .slot_history
            .iter()
            .filter(|((m, sent_at, _), _)| m == marketplace_id && *sent_at >= since)
            .map(
                |((m, sent_at, _), request_at)| kenzen_core::slots_learn::Observation {
                    marketplace_id: m.clone(),
                    sent_at: *sent_at,
                    request_at: *request_at,
                },
            )
            .collect())
    }
}

impl HealthStore for MemoryStore {
    async fn health_fetch(&self) -> Result<Option<HealthFetch>, StoreError> {
        Ok(lock(&self.state).health_fetch.clone())
    }

    async fn put_health_fetch(
        &self,
        fetch: &HealthFetch,
        expect: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let mut st = lock(&self.state);
        if st.health_fetch.as_ref().map(|f| f.requested_at) != expect {
            return Ok(false);
        }
        st.health_fetch = Some(fetch.clone());
        Ok(true)
    }

    async fn put_health(&self, health: &kenzen_core::MarketplaceHealth) -> Result<(), StoreError> {
        lock(&self.state)
            .health
            .insert(health.marketplace_id.to_string(), health.clone());
        Ok(())
    }

    async fn health(
        &self,
        marketplace_id: &str,
    ) -> Result<Option<kenzen_core::MarketplaceHealth>, StoreError> {
        Ok(lock(&self.state).health.get(marketplace_id).cloned())
    }
}

impl ReportStore for MemoryStore {
    async fn cases_opened_since(&self, since: Timestamp) -> Result<CasesRead, StoreError> {
        let st = lock(&self.state);
        Ok(CasesRead {
            cases: st
                .cases
                .values()
                .filter(|(vc, _)| vc.value.opened_at >= since)
                .map(|(vc, _)| vc.clone())
                .collect(),
            unreadable: st.unreadable.iter().map(|(u, _)| u.clone()).collect(),
        })
    }
}

/// An event bus that keeps what it was given.
#[derive(Default)]
pub struct RecordingBus {
    events: Mutex<Vec<DomainEvent>>,
    down: Mutex<bool>,
}

impl RecordingBus {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn events(&self) -> Vec<DomainEvent> {
        lock(&self.events).clone()
    }

    /// Publishing fails (as when EventBridge is unreachable) while `down` is true.
    pub fn set_down(&self, down: bool) {
        *lock(&self.down) = down;
    }
}

impl EventPublisher for RecordingBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        if *lock(&self.down)
            && let Some(first) = events.first()
        {
            return Err(PublishError {
                detail_type: first.detail_type().into(),
                order_id: first.order_id().into(),
                detail: "the bus is down".into(),
                source: None,
            });
        }
        lock(&self.events).extend_from_slice(events);
        Ok(())
    }
}
