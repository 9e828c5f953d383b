//! The adapters: each implements ports over a real service, and maps its errors onto the
//! ports' vocabulary. Only [`crate::wiring`] and tests construct them.
//!
//! - [`spapi`]: the Selling Partner API client (Marketplace).
//! - [`dynamo`]: the DynamoDB store (every store port, one table).
//! - [`eventbus`]: the EventBridge publisher (EventPublisher).

pub mod dynamo;
pub mod eventbus;
pub mod spapi;
