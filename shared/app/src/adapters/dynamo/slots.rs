//! The history send slots are learned from: `SLOTS#<marketplace>` / `<sent_at>#<order>` per
//! request message Amazon accepted (`sent_at`, and `request_at` once the buyer's request
//! followed), expiring after [`SLOT_HISTORY_RETENTION`]. A Query of one marketplace's partition
//! from a time on reads it back. Owns these items' shape and nothing else.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use kenzen_core::OrderId;
use kenzen_core::slots_learn::Observation;

use super::{DynamoStore, db_err, is_condition_failed, sortable};
use crate::ports::{SLOT_HISTORY_RETENTION, SlotHistoryStore, StoreError};

fn pk(marketplace_id: &str) -> String {
    format!("SLOTS#{marketplace_id}")
}

fn sk(sent_at: Timestamp, order_id: &OrderId) -> String {
    format!("{}#{order_id}", sortable(sent_at))
}

impl SlotHistoryStore for DynamoStore {
    async fn record_send(
        &self,
        marketplace_id: &str,
        order_id: &OrderId,
        sent_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk(marketplace_id)))
            .item("sk", AttributeValue::S(sk(sent_at, order_id)))
            .item("sent_at", AttributeValue::S(sortable(sent_at)))
            .item(
                "expires_at",
                AttributeValue::N((sent_at + SLOT_HISTORY_RETENTION).as_second().to_string()),
            )
            .send()
            .await
            .map_err(|e| db_err("PutItem(slot history)", e))?;
        Ok(())
    }

    async fn record_request(
        &self,
        marketplace_id: &str,
        order_id: &OrderId,
        sent_at: Timestamp,
        request_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk(marketplace_id)))
            .key("sk", AttributeValue::S(sk(sent_at, order_id)))
            .update_expression("SET request_at = :r")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(request_at)")
            .expression_attribute_values(":r", AttributeValue::S(sortable(request_at)))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(db_err("UpdateItem(slot history)", e)),
        }
    }

    async fn slot_history(
        &self,
        marketplace_id: &str,
        since: Timestamp,
    ) -> Result<Vec<Observation>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :p AND sk >= :from")
                .expression_attribute_values(":p", AttributeValue::S(pk(marketplace_id)))
                .expression_attribute_values(":from", AttributeValue::S(sortable(since)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| db_err("Query(slot history)", e))?;
            for item in page.items.unwrap_or_default() {
                let time = |name: &str| match item.get(name) {
                    Some(AttributeValue::S(s)) => s.parse::<Timestamp>().ok(),
                    _ => None,
                };
                // An item this version cannot read is left out of the learning, not fatal.
                let Some(sent_at) = time("sent_at") else {
                    tracing::warn!(
                        marketplace = marketplace_id,
                        "a slot history item without sent_at is skipped"
                    );
                    continue;
                };
                out.push(Observation {
                    marketplace_id: marketplace_id.to_string(),
                    sent_at,
                    request_at: time("request_at"),
                });
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}
