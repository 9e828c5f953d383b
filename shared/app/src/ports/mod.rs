//! The ports the service layer depends on, shaped for kenzen's work rather than for any SDK.
//! They own their vocabulary (errors, requests, answers); adapters in [`crate::adapters`] map
//! SDK and HTTP details onto it, and only wiring and tests construct adapters.
//!
//! - [`market`]: the marketplace (Amazon's SP-API).
//! - [`store`]: cases and timeline, stock, intake records, cancel batches, settings, message
//!   templates, order counts, the seller report's reads.
//! - [`events`]: the event bus.
//! - [`stock_admin`]: bulk upkeep of the stock table (the operator CLI's stock import).

pub mod events;
pub mod market;
pub mod stock_admin;
pub mod store;

pub use events::{EventPublisher, PublishError};
pub use market::{
    CancelBatchStatus, CancelRequest, FeedSummary, HealthReportStatus, MarketError,
    MarketErrorKind, Marketplace, NotifiedLine, NotifiedOrder, OrderPage, OrderSearch, SendOutcome,
    UnreadableOrder,
};
pub use stock_admin::{StockAdmin, StockFigures, StockLevels};
pub use store::{
    CancelBatchStore, CaseStore, CasesRead, DayCount, HealthFetch, HealthStore, IntakeStore,
    ModeSetting, ORDER_SEEN_RETENTION, OrderCountStore, PollRetry, PollState, PollWindow,
    ReportStore, Reserve, SLOT_HISTORY_RETENTION, SettingsStore, SlotHistoryStore, StockStore,
    Store, StoreError, StoredTemplate, StoredTemplates, TemplateStore, TimelineEntry, Unreadable,
    Versioned,
};
