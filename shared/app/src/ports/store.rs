//! The store ports: cases and their timeline, the stock table, the intake's own records (poll
//! cursor, handled notifications), submitted cancel batches, the seller's settings and message
//! templates, the order counts per day and the reads the seller report makes. One trait per
//! capability, so a use case names what it needs; the DynamoDB adapter implements them all on
//! one table.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;
use kenzen_core::marketplace::Language;
use kenzen_core::templates::{SellerVars, Template, TemplateKind};
use kenzen_core::{Case, DueKind, Mode, OrderId, Sku, SkuInfo};
use serde::{Deserialize, Serialize};

use super::market::CancelRequest;

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
    pub order_id: OrderId,
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
    Db {
        op: &'static str,
        /// The SDK's account of the failure, with its error code.
        detail: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// True for failures that may go away when the invocation is retried.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Db { .. })
    }
}

/// A stored item that cannot be read as kenzen's data (damaged, or written by a later version):
/// its key (no buyer data) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub key: String,
    pub detail: String,
}

/// Cases read through an index: every readable one, and the items that could not be read (one
/// unreadable item never stops the others).
#[derive(Debug, Clone, Default)]
pub struct CasesRead {
    pub cases: Vec<Versioned<Case>>,
    pub unreadable: Vec<Unreadable>,
}

/// Where the backstop poll stands between runs (persisted): the search window being worked
/// through page by page, and orders whose handling failed, to be read again on their own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollState {
    /// The window in progress (orders updated from the cursor to `until`), if a run stopped
    /// between its pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<PollWindow>,
    /// Orders whose handling failed; the next runs read them again with getOrder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry: Vec<PollRetry>,
}

/// A search window worked through page by page: its upper bound and the next page's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollWindow {
    pub until: Timestamp,
    pub next_token: String,
    /// When the token was issued (Amazon's tokens expire).
    pub token_issued: Timestamp,
}

/// An order whose handling failed, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRetry {
    pub order_id: String,
    pub attempts: u32,
}

/// What a stock reservation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// The units are the order's (taken now, or by an earlier sight of the same order).
    Reserved,
    /// Fewer units on hand than the order wants: nothing was taken.
    Short { on_hand: u32 },
    /// kenzen does not count this SKU's stock.
    Unmanaged,
}

/// Cases (conditional on the version read) and their append-only timeline.
pub trait CaseStore: Send + Sync {
    fn get_case(
        &self,
        order_id: &OrderId,
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
    ) -> impl Future<Output = Result<CasesRead, StoreError>> + Send;

    /// Every case not yet ended, read through the sparse open index.
    fn open_cases(&self) -> impl Future<Output = Result<CasesRead, StoreError>> + Send;

    /// Marks the unreadable item `key` as reported; true the first time (so its alert goes out
    /// once), false after.
    fn mark_unreadable(&self, key: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn append_timeline(
        &self,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn timeline(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send;
}

/// The stock table the seller maintains.
pub trait StockStore: Send + Sync {
    /// What the stock table says about `skus`; SKUs without a stock item are absent.
    fn sku_info(
        &self,
        skus: &[Sku],
    ) -> impl Future<Output = Result<BTreeMap<Sku, SkuInfo>, StoreError>> + Send;

    /// Takes `quantity` units of `sku` off its stock item for `order_id`, unless this order has
    /// them already (so a duplicate or late sight of the order takes nothing twice). `Short`
    /// when fewer are on hand; `Unmanaged` when the SKU has no stock count.
    fn reserve(
        &self,
        sku: &Sku,
        quantity: u32,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Reserve, StoreError>> + Send;

    /// Ends the reservation `reserve` made for `order_id` (nothing if it made none): the units go
    /// back on hand when `give_back` (the order was cancelled), not when it shipped.
    fn release(
        &self,
        sku: &Sku,
        quantity: u32,
        order_id: &OrderId,
        give_back: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Caches the listing's product type on the stock item of `sku` (only if the item exists).
    fn set_product_type(
        &self,
        sku: &Sku,
        product_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The intake's own records: the poll cursor and the notifications already handled.
pub trait IntakeStore: Send + Sync {
    fn poll_cursor(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    fn set_poll_cursor(&self, t: Timestamp) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The poll's state between runs (default when none is stored).
    fn poll_state(&self) -> impl Future<Output = Result<PollState, StoreError>> + Send;

    fn set_poll_state(
        &self,
        state: &PollState,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// True when notification `id` was handled already.
    fn notification_seen(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that notification `id` was handled (kept for a week).
    fn mark_notification(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that order `key` could not be read; true the first time (kept for 30 days), so
    /// its alert goes out once.
    fn mark_unreadable_order(
        &self,
        key: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Submitted cancel batches: which orders each one carries.
pub trait CancelBatchStore: Send + Sync {
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

/// The operating mode the seller set at run time (`kenzen mode`), with who set it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeSetting {
    pub mode: Mode,
    pub changed_at: Timestamp,
    /// Who set it (free text: "kenzen CLI (user@host)", a test's name).
    pub by: String,
    /// The mode before this one (what `kenzen resume` goes back to after a pause).
    #[serde(default)]
    pub before: Option<Mode>,
}

/// The seller's run-time settings. A missing item means "as deployed" (the stack parameter).
pub trait SettingsStore: Send + Sync {
    /// The mode the seller set, if any; an unreadable item is `Corrupt` (the caller falls back
    /// to the deployed mode and says so).
    fn mode(&self) -> impl Future<Output = Result<Option<ModeSetting>, StoreError>> + Send;

    fn set_mode(
        &self,
        setting: &ModeSetting,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Claims the daily digest of `date` (the seller's local date): `true` for the one caller
    /// that claimed it first, so the digest goes out once a day whatever runs at once.
    fn claim_digest(
        &self,
        date: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// One stored template, as stored: its language code, kind name and text, not yet validated
/// (a later version may have written a language or variable this one does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate {
    pub lang: String,
    pub kind: String,
    pub text: String,
}

/// Everything stored about the seller's templates, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTemplates {
    pub templates: Vec<StoredTemplate>,
    /// The shop name and signature, if the seller set them.
    pub vars: Option<(String, String)>,
}

/// The seller's message templates and their shop name and signature. Only validated values can
/// be written ([`Template`], [`SellerVars`]); what is read comes back raw, for the caller to
/// validate and to ignore what does not.
pub trait TemplateStore: Send + Sync {
    /// Every stored template and the shop name and signature, in one consistent read.
    /// `Db` when the read fails.
    fn stored_templates(&self) -> impl Future<Output = Result<StoredTemplates, StoreError>> + Send;

    /// Stores `template` for its language and kind, in place of any stored before. `Db` when
    /// the write fails.
    fn put_template(
        &self,
        template: &Template,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the stored template for `lang` and `kind` (nothing if none is stored): kenzen's
    /// default applies again. `Db` when the delete fails.
    fn delete_template(
        &self,
        lang: Language,
        kind: TemplateKind,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores the shop name and signature, in place of any stored before. `Db` when the write
    /// fails.
    fn put_template_vars(
        &self,
        vars: &SellerVars,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The merchant-fulfilled orders counted on one local day of one marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub marketplace_id: String,
    pub day: jiff::civil::Date,
    pub orders: u64,
    /// Seller-initiated cancels kenzen submitted that day (local to the marketplace): the ones
    /// that count against the cancel rate. 0 on days stored before kenzen counted them.
    pub counted: u64,
}

/// How long the record that an order was counted is kept: longer than the intake counts
/// orders for (see `service::intake::COUNT_WINDOW`), so no order is counted twice.
pub const ORDER_SEEN_RETENTION: jiff::SignedDuration = jiff::SignedDuration::from_hours(120 * 24);

/// Order counts per marketplace and local day: the denominator of the seller report's cancel
/// rate.
pub trait OrderCountStore: Send + Sync {
    /// Counts `order_id` on `day` (its purchase day, local to `marketplace_id`) the first time
    /// it is seen: true when it was counted now, false when it was counted before. A run that
    /// dies between the record and the count leaves the order uncounted (the rate errs high,
    /// never low).
    fn count_order(
        &self,
        order_id: &OrderId,
        marketplace_id: &str,
        day: jiff::civil::Date,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Counts the seller-initiated cancel of `order_id` on `day` (local to `marketplace_id`)
    /// once: true when counted now, false when it was counted before (a resubmission, a
    /// rehearsal of the same order never reaches here).
    fn count_cancel(
        &self,
        order_id: &OrderId,
        marketplace_id: &str,
        day: jiff::civil::Date,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The counts of the days `from` to `to` (both included), every marketplace; days without
    /// orders or cancels are absent.
    fn order_counts(
        &self,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> impl Future<Output = Result<Vec<DayCount>, StoreError>> + Send;
}

/// Where kenzen stands in fetching Amazon's seller performance report (account health), at
/// `HEALTH` / `FETCH`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HealthFetch {
    /// When the last report was requested (also when the request's answer was lost: it is not
    /// asked again before the next fetch is due).
    pub requested_at: Timestamp,
    /// The report Amazon is preparing, until it is read or given up.
    #[serde(default)]
    pub report_id: Option<String>,
    /// When figures were last stored.
    #[serde(default)]
    pub fetched_at: Option<Timestamp>,
    /// What the last step ended with, in one line (for `kenzen status` and the logs).
    #[serde(default)]
    pub last_outcome: String,
}

/// Amazon's account-health figures per marketplace, and the state of their fetching.
pub trait HealthStore: Send + Sync {
    fn health_fetch(&self) -> impl Future<Output = Result<Option<HealthFetch>, StoreError>> + Send;

    /// Writes `fetch` if the stored state was requested at `expect` (`None`: no state yet):
    /// true when written, false when another run changed it first (that run owns the fetch).
    fn put_health_fetch(
        &self,
        fetch: &HealthFetch,
        expect: Option<Timestamp>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn put_health(
        &self,
        health: &kenzen_core::MarketplaceHealth,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The last figures stored for `marketplace_id`; an unreadable item is `Corrupt`.
    fn health(
        &self,
        marketplace_id: &str,
    ) -> impl Future<Output = Result<Option<kenzen_core::MarketplaceHealth>, StoreError>> + Send;
}

/// How long the history of sent request messages is kept for learning send slots.
pub const SLOT_HISTORY_RETENTION: jiff::SignedDuration = jiff::SignedDuration::from_hours(120 * 24);

/// The history the send slots are learned from: each request message Amazon accepted, and the
/// buyer's request that followed it, per marketplace.
pub trait SlotHistoryStore: Send + Sync {
    /// Records that a request message to `order_id` went out at `sent_at`.
    fn record_send(
        &self,
        marketplace_id: &str,
        order_id: &OrderId,
        sent_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the buyer's request, first seen at `request_at`, against the message sent at
    /// `sent_at` (the case's last request): true when recorded, false when that message is
    /// not in the history or already has its request.
    fn record_request(
        &self,
        marketplace_id: &str,
        order_id: &OrderId,
        sent_at: Timestamp,
        request_at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The messages sent in `marketplace_id` since `since`, with their requests.
    fn slot_history(
        &self,
        marketplace_id: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<kenzen_core::slots_learn::Observation>, StoreError>> + Send;
}

/// What the seller report reads besides cases' timelines and the order counts.
pub trait ReportStore: CaseStore + OrderCountStore + HealthStore {
    /// Every case opened at or after `since`, open or ended (read from the whole table: for
    /// reports, never for a function's run).
    fn cases_opened_since(
        &self,
        since: Timestamp,
    ) -> impl Future<Output = Result<CasesRead, StoreError>> + Send;
}

/// Everything the service stores: one adapter usually implements all six capabilities.
pub trait Store:
    CaseStore
    + StockStore
    + IntakeStore
    + CancelBatchStore
    + SettingsStore
    + TemplateStore
    + OrderCountStore
    + HealthStore
    + SlotHistoryStore
{
}

impl<T> Store for T where
    T: CaseStore
        + StockStore
        + IntakeStore
        + CancelBatchStore
        + SettingsStore
        + TemplateStore
        + OrderCountStore
        + HealthStore
        + SlotHistoryStore
{
}
