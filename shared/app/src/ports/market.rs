//! The marketplace port: what kenzen asks of Amazon, in kenzen's words, and how it can fail.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;
use kenzen_core::{CancelReason, MarketplaceId, OrderId, OrderView, Sku};

/// What the caller can do about a failed marketplace call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketErrorKind {
    /// Throttling, a server error or the network, still failing after the adapter's retries:
    /// the same call may work later.
    Transient,
    /// Amazon understood and said no (authorisation, a refused action): retrying will not help.
    Refused,
    /// Amazon found the request itself wrong (a bad id, a value out of range).
    InvalidInput,
    /// Amazon answered, but not in a shape kenzen can read.
    Unreadable,
    /// The request may have reached Amazon and been processed, but no answer came back (a 5xx,
    /// a timeout or a connection lost after sending). A message or feed must never be repeated
    /// blindly after this: the outcome is recorded as unknown and looked up where Amazon allows.
    OutcomeUnknown,
    /// The seller's authorisation does not cover the call (a missing role such as Buyer
    /// Communication, a revoked or expired token): nothing about this order, the seller must act.
    NotAuthorized,
}

impl MarketErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Refused => "refused",
            Self::InvalidInput => "invalid input",
            Self::Unreadable => "unreadable answer",
            Self::OutcomeUnknown => "outcome unknown",
            Self::NotAuthorized => "not authorized",
        }
    }
}

/// A failed marketplace call: its kind, the operation, and the adapter's error as the source.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct MarketError {
    pub kind: MarketErrorKind,
    /// The operation, e.g. `getOrder`.
    pub op: &'static str,
    /// One line for logs and the timeline (never a token, secret or buyer data).
    pub message: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl MarketError {
    pub fn new(kind: MarketErrorKind, op: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            op,
            message: message.into(),
            source: None,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind == MarketErrorKind::Transient
    }

    /// True when Amazon may have processed the request although no answer came back.
    pub fn outcome_unknown(&self) -> bool {
        self.kind == MarketErrorKind::OutcomeUnknown
    }
}

/// One order to cancel: its lines and the reason Amazon is given. Stored with the batch that
/// carries it, so its serialized form is persisted data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CancelRequest {
    pub order_id: OrderId,
    pub order_item_ids: Vec<String>,
    pub reason: CancelReason,
}

/// Amazon's answer to a message that reached it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// 201.
    Accepted,
    /// 403 "Invalid amazonOrderId and template combination.": the action is not available for
    /// this order (Amazon's text). Any other 403 is a [`MarketErrorKind::NotAuthorized`] error.
    Refused(String),
}

/// Where a cancel feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelBatchStatus {
    Pending,
    /// Processed (DONE, or FATAL with a processing report): the orders the report lists with an
    /// error, and the error. `unattributed` holds the report's words when it counts errors it
    /// does not tie to an order (a summary without result lines, an error for the whole
    /// document, a FATAL feed): then no order of the batch is confirmed by the report, and each
    /// must be re-read.
    Done {
        errors: BTreeMap<OrderId, String>,
        unattributed: Option<String>,
    },
    /// The whole feed failed with no report (CANCELLED, or FATAL without one).
    Failed(String),
}

/// One page run of the order search: the orders kenzen could read, the ones it could not (one
/// unreadable order never stops the others), and the search's `lastUpdatedBefore` if given.
#[derive(Debug, Clone, Default)]
pub struct OrderSearch {
    pub orders: Vec<OrderView>,
    pub unreadable: Vec<UnreadableOrder>,
    pub before: Option<Timestamp>,
}

/// One page of the order search: the orders kenzen could read, the ones it could not, and the
/// token for the next page (none on the last).
#[derive(Debug, Clone, Default)]
pub struct OrderPage {
    pub orders: Vec<OrderView>,
    pub unreadable: Vec<UnreadableOrder>,
    pub next_token: Option<String>,
}

/// What an ORDER_CHANGE notification's summary says about an order: enough to settle most
/// orders (fillable, shipped, cancelled) without reading them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifiedOrder {
    /// `OrderStatus` as the notification spells it (`Unshipped`, `Shipped`, `Canceled`, ...).
    pub status: String,
    pub merchant_fulfilled: bool,
    pub marketplace_id: String,
    /// `PurchaseDate`, when the event carries a readable one (the day the order counts on).
    pub purchased: Option<Timestamp>,
    pub lines: Vec<NotifiedLine>,
}

/// One item of a notified order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifiedLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// An order in a search answer that kenzen cannot read: its id when the answer has one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableOrder {
    pub order_id: Option<String>,
    pub detail: String,
}

/// A cancel feed Amazon holds for this application, as `getFeeds` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSummary {
    pub feed_id: String,
    pub created: Timestamp,
    /// `processingStatus` as Amazon spells it.
    pub status: String,
}

/// Where a requested seller performance report (account health) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthReportStatus {
    /// IN_QUEUE or IN_PROGRESS: ask again later.
    Pending,
    /// DONE: the document to read.
    Done { document_id: String },
    /// CANCELLED: Amazon had no data for it.
    Cancelled,
    /// FATAL: Amazon could not make it.
    Fatal,
}

/// The marketplace (Amazon's SP-API), for every marketplace the stack serves. Every method
/// returns a [`MarketError`] on failure, whose [`MarketErrorKind`] says what the caller can do
/// about it. A call about one order or listing names the marketplace it is in (`marketplace`:
/// the order's own, from its case): Amazon refuses messaging for an order under another
/// marketplace's id.
pub trait Marketplace: Send + Sync {
    /// One page of the orders, in every marketplace the stack serves, updated at or after
    /// `after` and at or before `before` (which must
    /// be at least two minutes in the past); `token` is the previous page's `next_token`, for
    /// the same `after` and `before`. An expired or foreign token is an
    /// [`MarketErrorKind::InvalidInput`] error.
    fn search_orders_page(
        &self,
        after: Timestamp,
        before: Timestamp,
        token: Option<&str>,
    ) -> impl Future<Output = Result<OrderPage, MarketError>> + Send;

    /// The run's deadline, so that no call waits for its rate budget past it (a call that
    /// would is refused at once as [`MarketErrorKind::Transient`]). Adapters without rate
    /// limits ignore it.
    fn set_run_deadline(&self, _deadline: Option<Timestamp>) {}

    fn get_order(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<OrderView, MarketError>> + Send;

    /// The messaging preflight: is `unexpectedProblem` offered for this order (placed in
    /// `marketplace`) now?
    fn can_send_unexpected_problem(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
    ) -> impl Future<Output = Result<bool, MarketError>> + Send;

    /// The buyer's preferred locale (e.g. `ja-JP`), if Amazon gives one.
    fn buyer_locale(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
    ) -> impl Future<Output = Result<Option<String>, MarketError>> + Send;

    fn send_unexpected_problem(
        &self,
        order_id: &OrderId,
        marketplace: &MarketplaceId,
        text: &str,
    ) -> impl Future<Output = Result<SendOutcome, MarketError>> + Send;

    /// The document [`Marketplace::submit_cancels`] would send for `cancels` (the feed's XML),
    /// without sending it: what a dry run records.
    fn cancel_feed_document(&self, cancels: &[CancelRequest]) -> String;

    /// Submits one cancel batch (today: an order acknowledgement feed) for orders placed in
    /// `marketplace`, all of them; returns its id. Orders of several marketplaces go in one
    /// batch each.
    fn submit_cancels(
        &self,
        marketplace: &MarketplaceId,
        cancels: &[CancelRequest],
    ) -> impl Future<Output = Result<String, MarketError>> + Send;

    /// The cancel feeds (order acknowledgement) this application created since `since`, in any
    /// marketplace the stack serves, as `getFeeds` lists them: how a feed whose `createFeed`
    /// answer was lost is found again.
    fn recent_cancel_feeds(
        &self,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<FeedSummary>, MarketError>> + Send;

    /// The product type of the seller's listing for `sku` in `marketplace` (`getListingsItem`,
    /// summaries), if Amazon has the listing.
    fn listing_product_type(
        &self,
        sku: &Sku,
        marketplace: &MarketplaceId,
    ) -> impl Future<Output = Result<Option<String>, MarketError>> + Send;

    /// Sets the offer quantity of `sku` in `marketplace` (Listings Items `patchListingsItem`, a
    /// `merge` on `fulfillment_availability` that keeps the handling time and restock date) for
    /// a listing of `product_type`. The offers of the same SKU in the stack's other
    /// marketplaces are left as they are.
    fn set_listing_quantity(
        &self,
        sku: &Sku,
        marketplace: &MarketplaceId,
        quantity: u32,
        product_type: &str,
    ) -> impl Future<Output = Result<(), MarketError>> + Send;

    /// Where batch `id` (built from `cancels`, in that order) stands.
    fn cancel_status(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> impl Future<Output = Result<CancelBatchStatus, MarketError>> + Send;

    /// Asks Amazon for the seller performance report (`GET_V2_SELLER_PERFORMANCE_REPORT`,
    /// Reports API `createReport`) of `marketplaces`; returns the report's id. Needs the
    /// Selling Partner Insights role.
    fn request_health_report(
        &self,
        marketplaces: &[MarketplaceId],
    ) -> impl Future<Output = Result<String, MarketError>> + Send;

    /// Where report `report_id` stands (`getReport`).
    fn health_report_status(
        &self,
        report_id: &str,
    ) -> impl Future<Output = Result<HealthReportStatus, MarketError>> + Send;

    /// The figures of a finished report (`getReportDocument`, then the document, gunzipped
    /// when Amazon says so), stamped as fetched at `fetched_at`. A document kenzen cannot read
    /// is [`MarketErrorKind::Unreadable`].
    fn health_report(
        &self,
        document_id: &str,
        fetched_at: Timestamp,
    ) -> impl Future<Output = Result<kenzen_core::ParsedReport, MarketError>> + Send;
}
