//! The EventBridge adapter: publishes domain events on kenzen's bus, ten entries per call (the
//! PutEvents limit), and treats every failed entry as an error. It also puts the seller's
//! commands (source `kenzen.seller`) on the bus for the operator CLI.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use kenzen_core::DomainEvent;
use kenzen_core::events::SOURCE;

use crate::ports::{EventPublisher, PublishError};

#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }
}

impl EventBridgePublisher {
    /// Puts one seller command (`FlagOrder`, `WithdrawCase`, `ApproveCancel`, source
    /// `kenzen.seller`) about `order_id` with `detail` on the bus; an entry the bus did not take
    /// (`FailedEntryCount`) is an error with the bus's reason.
    pub async fn put_seller_command(
        &self,
        detail_type: &str,
        order_id: &str,
        detail: &serde_json::Value,
    ) -> Result<(), PublishError> {
        let fail = |detail: String, source: Option<Box<dyn std::error::Error + Send + Sync>>| {
            PublishError {
                detail_type: detail_type.into(),
                order_id: order_id.into(),
                detail,
                source,
            }
        };
        let out = self
            .client
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(crate::trigger::SELLER_SOURCE)
                    .detail_type(detail_type)
                    .detail(detail.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                let detail = aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string();
                fail(detail, Some(Box::new(e)))
            })?;
        if out.failed_entry_count > 0 {
            let reasons: Vec<String> = out
                .entries()
                .iter()
                .filter_map(|e| {
                    let code = e.error_code()?;
                    Some(format!("{code}: {}", e.error_message().unwrap_or_default()))
                })
                .collect();
            return Err(fail(
                format!("the bus did not take the entry: {}", reasons.join("; ")),
                None,
            ));
        }
        Ok(())
    }
}

impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        for chunk in events.chunks(10) {
            let first = &chunk[0];
            let fail =
                |detail: String, source: Option<Box<dyn std::error::Error + Send + Sync>>| {
                    PublishError {
                        detail_type: first.detail_type().into(),
                        order_id: first.order_id().into(),
                        detail,
                        source,
                    }
                };
            let mut req = self.client.put_events();
            for ev in chunk {
                // Notices put the event's words into JSON unescaped: they go out clean.
                let detail = serde_json::to_string(&ev.notice_safe())
                    .map_err(|e| fail(e.to_string(), Some(Box::new(e))))?;
                req = req.entries(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(ev.detail_type())
                        .detail(detail)
                        .build(),
                );
            }
            let out = req.send().await.map_err(|e| {
                let detail = aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string();
                fail(detail, Some(Box::new(e)))
            })?;
            if out.failed_entry_count > 0 {
                let reasons: Vec<String> = out
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_message().map(str::to_string))
                    .collect();
                return Err(fail(
                    format!(
                        "{} of {} entries failed: {}",
                        out.failed_entry_count,
                        chunk.len(),
                        reasons.join("; ")
                    ),
                    None,
                ));
            }
        }
        Ok(())
    }
}
