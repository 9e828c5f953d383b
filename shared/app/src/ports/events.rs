//! The event-bus port: kenzen's domain events go out through it.

use std::future::Future;

use kenzen_core::DomainEvent;

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
#[error("publishing {detail_type} for order {order_id} failed: {detail}")]
pub struct PublishError {
    pub detail_type: String,
    pub order_id: String,
    pub detail: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The event bus.
pub trait EventPublisher: Send + Sync {
    /// Publishes every event; any entry the bus did not take is an error.
    fn publish(
        &self,
        events: &[DomainEvent],
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}
