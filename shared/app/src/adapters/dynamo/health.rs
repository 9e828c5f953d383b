//! Amazon's account-health figures on the table:
//! - `HEALTH` / `FETCH`: where kenzen stands in fetching the seller performance report
//!   ([`HealthFetch`] as JSON in `doc`, with `requested_at` beside it for the conditional write
//!   that keeps two runs from requesting a report each).
//! - `HEALTH` / `MP#<marketplace>`: the last figures of one marketplace
//!   ([`MarketplaceHealth`] as JSON in `doc`; later versions add fields with defaults, so
//!   older items stay readable).
//!
//! Owns these items' shapes and nothing else.

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use kenzen_core::MarketplaceHealth;

use super::{DynamoStore, db_err, is_condition_failed, sortable};
use crate::ports::{HealthFetch, HealthStore, StoreError};

const PK: &str = "HEALTH";

fn corrupt(sk: &str, detail: String) -> StoreError {
    StoreError::Corrupt {
        key: format!("{PK}#{sk}"),
        detail,
    }
}

impl DynamoStore {
    /// The `doc` of `HEALTH` / `sk`, parsed; `None` when the item is absent.
    async fn health_doc<T: serde::de::DeserializeOwned>(
        &self,
        sk: &str,
        op: &'static str,
    ) -> Result<Option<T>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(PK.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| db_err(op, e))?;
        let Some(item) = got.item else {
            return Ok(None);
        };
        let Some(AttributeValue::S(doc)) = item.get("doc") else {
            return Err(corrupt(sk, "no doc attribute".into()));
        };
        serde_json::from_str(doc)
            .map(Some)
            .map_err(|e| corrupt(sk, format!("doc: {e}")))
    }
}

fn to_json<T: serde::Serialize>(value: &T, sk: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(sk, format!("not serialisable: {e}")))
}

impl HealthStore for DynamoStore {
    async fn health_fetch(&self) -> Result<Option<HealthFetch>, StoreError> {
        self.health_doc("FETCH", "GetItem(health fetch)").await
    }

    async fn put_health_fetch(
        &self,
        fetch: &HealthFetch,
        expect: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(PK.into()))
            .item("sk", AttributeValue::S("FETCH".into()))
            .item("doc", AttributeValue::S(to_json(fetch, "FETCH")?))
            .item(
                "requested_at",
                AttributeValue::S(sortable(fetch.requested_at)),
            );
        req = match expect {
            None => req.condition_expression("attribute_not_exists(pk)"),
            Some(t) => req
                .condition_expression("requested_at = :t")
                .expression_attribute_values(":t", AttributeValue::S(sortable(t))),
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(db_err("PutItem(health fetch)", e)),
        }
    }

    async fn put_health(&self, health: &MarketplaceHealth) -> Result<(), StoreError> {
        let sk = format!("MP#{}", health.marketplace_id);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(PK.into()))
            .item("sk", AttributeValue::S(sk.clone()))
            .item("doc", AttributeValue::S(to_json(health, &sk)?))
            .send()
            .await
            .map_err(|e| db_err("PutItem(health)", e))?;
        Ok(())
    }

    async fn health(&self, marketplace_id: &str) -> Result<Option<MarketplaceHealth>, StoreError> {
        self.health_doc(&format!("MP#{marketplace_id}"), "GetItem(health)")
            .await
    }
}
