//! kenzen-app: the service layer the four functions share, its ports, and the adapters.
//!
//! It must not hold workflow rules (those are in `kenzen-core`) and functions must not reach
//! past it to an SDK client. The service depends on the ports only; adapters are chosen in
//! [`wiring`] (and by tests).
//!
//! Layout:
//! - [`service`]: the use cases, one module each (intake, messages, replies, cancel).
//! - [`ports`]: the traits and vocabulary the service depends on.
//! - [`adapters`]: SP-API over HTTP, DynamoDB, EventBridge.
//! - [`templates`]: the seller's message templates, as the operator's commands manage them.
//! - [`report`]: what a run did, and its CloudWatch EMF line.
//! - [`seller_report`]: the cases and cancel rate of the last days, for the seller to read.
//! - [`handler`]: how a handler's failure reaches Lambda (retryable or not).
//! - [`config`], [`wiring`], [`trigger`]: what `main.rs` and the handlers build on.
//! - `fakes` (feature `test-util`): in-memory ports for fast service-level tests.

pub mod adapters;
pub use kenzen_clock as clock;
pub mod config;
#[cfg(feature = "test-util")]
pub mod fakes;
pub mod handler;
pub mod ports;
pub mod report;
pub mod seller_report;
pub mod service;
pub mod templates;
pub mod trigger;
pub mod wiring;

pub use report::RunReport;
pub use service::{Service, ServiceError};
pub use wiring::AppService;
