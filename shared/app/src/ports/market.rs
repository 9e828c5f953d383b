//! The marketplace port: what kenzen asks of Amazon, in kenzen's words, and how it can fail.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;
use kenzen_core::{CancelReason, OrderId, OrderView, Sku};

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
}

impl MarketErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Refused => "refused",
            Self::InvalidInput => "invalid input",
            Self::Unreadable => "unreadable answer",
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
    /// 403: the action is not available for this order (Amazon's text).
    Refused(String),
}

/// Where a cancel feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelBatchStatus {
    Pending,
    /// Processed; the orders the report lists with an error, and the error.
    Done {
        errors: BTreeMap<OrderId, String>,
    },
    /// The whole feed failed (CANCELLED or FATAL).
    Failed(String),
}

/// The marketplace (Amazon's SP-API). Every method returns a [`MarketError`] on failure, whose
/// [`MarketErrorKind`] says what the caller can do about it.
pub trait Marketplace: Send + Sync {
    /// Orders updated after `after` (all pages), and the search's `lastUpdatedBefore` if given.
    fn search_orders(
        &self,
        after: Timestamp,
    ) -> impl Future<Output = Result<(Vec<OrderView>, Option<Timestamp>), MarketError>> + Send;

    fn get_order(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<OrderView, MarketError>> + Send;

    /// The messaging preflight: is `unexpectedProblem` offered for this order now?
    fn can_send_unexpected_problem(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<bool, MarketError>> + Send;

    /// The buyer's preferred locale (e.g. `ja-JP`), if Amazon gives one.
    fn buyer_locale(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Option<String>, MarketError>> + Send;

    fn send_unexpected_problem(
        &self,
        order_id: &OrderId,
        text: &str,
    ) -> impl Future<Output = Result<SendOutcome, MarketError>> + Send;

    /// Submits one cancel batch (today: an order acknowledgement feed); returns its id.
    fn submit_cancels(
        &self,
        cancels: &[CancelRequest],
    ) -> impl Future<Output = Result<String, MarketError>> + Send;

    /// Sets the offer quantity of `sku` (Listings Items `patchListingsItem`,
    /// `fulfillment_availability`).
    fn set_listing_quantity(
        &self,
        sku: &Sku,
        quantity: u32,
    ) -> impl Future<Output = Result<(), MarketError>> + Send;

    /// Where batch `id` (built from `cancels`, in that order) stands.
    fn cancel_status(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> impl Future<Output = Result<CancelBatchStatus, MarketError>> + Send;
}
