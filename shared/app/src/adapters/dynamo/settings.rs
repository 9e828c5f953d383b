//! The seller's run-time settings on the table: the operating mode at `SETTINGS` / `MODE`
//! (`mode`, `changed_at`, `by`, optional `before`), and the daily digest's once-a-day claim at
//! `SETTINGS` / `DIGEST#<date>` (expiring after 30 days). Owns those items' shape and nothing else.

use aws_sdk_dynamodb::types::AttributeValue;
use kenzen_core::Mode;

use super::{DynamoStore, db_err};
use crate::ports::{ModeSetting, SettingsStore, StoreError};

const KEY: &str = "SETTINGS#MODE";

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        key: KEY.into(),
        detail,
    }
}

impl SettingsStore for DynamoStore {
    async fn mode(&self) -> Result<Option<ModeSetting>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("SETTINGS".into()))
            .key("sk", AttributeValue::S("MODE".into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| db_err("GetItem(mode)", e))?;
        let Some(item) = got.item else {
            return Ok(None);
        };
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(s)) => Some(s.as_str()),
            _ => None,
        };
        let mode: Mode = text("mode")
            .ok_or_else(|| corrupt("no mode attribute".into()))?
            .parse()
            .map_err(corrupt)?;
        let changed_at = text("changed_at")
            .ok_or_else(|| corrupt("no changed_at attribute".into()))?
            .parse()
            .map_err(|e| corrupt(format!("changed_at: {e}")))?;
        let before = match text("before") {
            Some(s) => Some(s.parse::<Mode>().map_err(corrupt)?),
            None => None,
        };
        Ok(Some(ModeSetting {
            mode,
            changed_at,
            by: text("by").unwrap_or_default().to_string(),
            before,
        }))
    }

    async fn set_mode(&self, setting: &ModeSetting) -> Result<(), StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S("SETTINGS".into()))
            .item("sk", AttributeValue::S("MODE".into()))
            .item("mode", AttributeValue::S(setting.mode.as_setting().into()))
            .item(
                "changed_at",
                AttributeValue::S(super::sortable(setting.changed_at)),
            )
            .item(
                "by",
                AttributeValue::S(setting.by.chars().take(200).collect()),
            );
        if let Some(b) = setting.before {
            req = req.item("before", AttributeValue::S(b.as_setting().into()));
        }
        req.send().await.map_err(|e| db_err("PutItem(mode)", e))?;
        Ok(())
    }

    async fn claim_digest(&self, date: &str, now: jiff::Timestamp) -> Result<bool, StoreError> {
        let expires = now + jiff::SignedDuration::from_hours(24 * 30);
        self.put_marker_once(
            "SETTINGS".into(),
            &format!("DIGEST#{date}"),
            expires,
            "PutItem(digest)",
        )
        .await
    }
}
