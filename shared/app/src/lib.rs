//! kenzen-app: the service layer the four functions share, its ports, and the adapters.
//!
//! It must not hold workflow rules (those are in `kenzen-core`) and functions must not reach
//! past it to an SDK client.
//!
//! Layout:
//! - [`service`]: the use cases (check new orders, send due messages, detect replies, cancel).
//! - [`ports`]: the traits the service depends on.
//! - [`spapi`]: the Selling Partner API client (Marketplace).
//! - [`dynamo`]: the DynamoDB store (CaseStore); [`table`]: the table definition.
//! - [`eventbus`]: the EventBridge publisher (EventPublisher).
//! - [`metrics`]: CloudWatch Embedded Metric Format lines.
//! - [`config`], [`clock`], [`wiring`], [`trigger`]: what `main.rs` and the handlers build on.

pub use kenzen_clock as clock;
pub mod config;
pub mod dynamo;
pub mod eventbus;
pub mod metrics;
pub mod ports;
pub mod service;
pub mod spapi;
pub mod table;
pub mod trigger;
pub mod wiring;

pub use service::{RunReport, Service, ServiceError};

/// The service as deployed: SP-API over HTTP, DynamoDB, EventBridge.
pub type AppService =
    Service<spapi::SpApiClient, dynamo::DynamoStore, eventbus::EventBridgePublisher>;
