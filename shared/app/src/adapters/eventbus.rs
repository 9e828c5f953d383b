//! The EventBridge adapter: publishes domain events on kenzen's bus, ten entries per call (the
//! PutEvents limit), and treats every failed entry as an error.

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
