//! The ports the service layer depends on, shaped for kenzen's work rather than for any SDK.
//!
//! Adapters: [`crate::spapi::SpApiClient`] (Marketplace), [`crate::dynamo::DynamoStore`]
//! (CaseStore), [`crate::eventbus::EventBridgePublisher`] (EventPublisher). Only `main.rs`
//! files and tests construct them.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;
use kenzen_core::{Case, DomainEvent, DueKind, OrderView, SkuInfo};
use serde::{Deserialize, Serialize};

use crate::spapi::SpApiError;
use crate::spapi::feed::CancelRequest;

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
        errors: BTreeMap<String, String>,
    },
    /// The whole feed failed (CANCELLED or FATAL).
    Failed(String),
}

/// The marketplace (Amazon's SP-API). Every method returns [`SpApiError`] on failure:
/// `Exhausted` after retries on throttling, 5xx or network errors (try again later), `Http` for
/// an answer that will not change by retrying, `Decode` for an answer kenzen cannot read.
pub trait Marketplace: Send + Sync {
    /// Orders updated after `after` (all pages), and the search's `lastUpdatedBefore` if given.
    fn search_orders(
        &self,
        after: Timestamp,
    ) -> impl Future<Output = Result<(Vec<OrderView>, Option<Timestamp>), SpApiError>> + Send;

    fn get_order(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<OrderView, SpApiError>> + Send;

    /// The messaging preflight: is `unexpectedProblem` offered for this order now?
    fn can_send_unexpected_problem(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<bool, SpApiError>> + Send;

    /// The buyer's preferred locale (e.g. `ja-JP`), if Amazon gives one.
    fn buyer_locale(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<String>, SpApiError>> + Send;

    fn send_unexpected_problem(
        &self,
        order_id: &str,
        text: &str,
    ) -> impl Future<Output = Result<SendOutcome, SpApiError>> + Send;

    /// Submits one cancel batch (today: an order acknowledgement feed); returns its id.
    fn submit_cancels(
        &self,
        cancels: &[CancelRequest],
    ) -> impl Future<Output = Result<String, SpApiError>> + Send;

    /// Sets the offer quantity of `sku` (Listings Items `patchListingsItem`,
    /// `fulfillment_availability`).
    fn set_listing_quantity(
        &self,
        sku: &str,
        quantity: u32,
    ) -> impl Future<Output = Result<(), SpApiError>> + Send;

    /// Where batch `id` (built from `cancels`, in that order) stands.
    fn cancel_status(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> impl Future<Output = Result<CancelBatchStatus, SpApiError>> + Send;
}

/// A value with the version it was read at; saves are conditional on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

/// One line of a case's append-only timeline: what was decided and why, every message text
/// with Amazon's answer, feed ids and report results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub order_id: String,
    /// decision, message, feed, event.
    pub kind: String,
    /// The case state after this entry.
    pub state: String,
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item changed since it was read (or already exists): re-read and decide again.
    #[error("conflict: {0} changed since it was read")]
    Conflict(String),
    /// The stored item cannot be read as kenzen's data.
    #[error("stored item {key} is unreadable: {detail}")]
    Corrupt { key: String, detail: String },
    /// The database call failed; retry the invocation.
    #[error("DynamoDB {op} failed: {detail}")]
    Db { op: &'static str, detail: String },
}

/// Cases, the timeline, stock levels, the poll cursor and submitted feeds.
pub trait CaseStore: Send + Sync {
    fn get_case(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<Versioned<Case>>, StoreError>> + Send;

    /// Creates the case at version 1; `Conflict` if a case for the order exists.
    fn create_case(
        &self,
        case: &Case,
        due: Option<(DueKind, Timestamp)>,
    ) -> impl Future<Output = Result<Versioned<Case>, StoreError>> + Send;

    /// Saves `case` if the stored version is still `version`; `Conflict` otherwise.
    fn save_case(
        &self,
        case: &Case,
        version: u64,
        due: Option<(DueKind, Timestamp)>,
    ) -> impl Future<Output = Result<Versioned<Case>, StoreError>> + Send;

    /// Cases with work of `kind` due at or before `now`, read through the sparse due index.
    fn due_cases(
        &self,
        kind: DueKind,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Versioned<Case>>, StoreError>> + Send;

    /// Every case not yet ended, read through the sparse open index.
    fn open_cases(&self) -> impl Future<Output = Result<Vec<Versioned<Case>>, StoreError>> + Send;

    fn append_timeline(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn timeline(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send;

    /// What the stock table says about `skus`; SKUs without a stock item are absent.
    fn sku_info(
        &self,
        skus: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, SkuInfo>, StoreError>> + Send;

    fn poll_cursor(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    fn set_poll_cursor(&self, t: Timestamp) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// True when notification `id` was handled already.
    fn notification_seen(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that notification `id` was handled (kept for a week).
    fn mark_notification(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records which orders a cancel batch carries, in message order.
    fn put_cancel_batch(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn cancel_batch(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Vec<CancelRequest>>, StoreError>> + Send;
}

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
#[error("publishing {detail_type} for order {order_id} failed: {detail}")]
pub struct PublishError {
    pub detail_type: String,
    pub order_id: String,
    pub detail: String,
}

/// The event bus.
pub trait EventPublisher: Send + Sync {
    /// Publishes every event; any entry the bus did not take is an error.
    fn publish(
        &self,
        events: &[DomainEvent],
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}
