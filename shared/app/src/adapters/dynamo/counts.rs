//! Order counts and the seller report's reads on the table.
//!
//! Keys:
//! - `ORDER#<id>` / `SEEN`: the order was counted (`expires_at`: [`ORDER_SEEN_RETENTION`]
//!   later). Written only if new, so a second sight of the order counts nothing.
//! - `ORDER#<id>` / `COUNTED`: the order's seller-initiated cancel was counted (same retention).
//! - `STATS` / `DAY#<yyyy-mm-dd>#<marketplace>`: `orders`, the orders counted on that local
//!   day, and `counted`, the seller-initiated cancels submitted that day, each raised with ADD
//!   (kept [`super::RETENTION`]).
//!
//! The report's case read is a Scan of the whole table (cases are keyed by order, and ended
//! cases leave the indexes): meant for a report now and then, never for a function's run. This
//! module owns these items' shapes and nothing else.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use jiff::civil::Date;
use kenzen_core::OrderId;

use super::{DynamoStore, RETENTION, db_err};
use crate::ports::{
    CasesRead, DayCount, ORDER_SEEN_RETENTION, OrderCountStore, ReportStore, StoreError, Unreadable,
};

const STATS_PK: &str = "STATS";

fn day_sk(day: Date, marketplace_id: &str) -> String {
    format!("DAY#{day}#{marketplace_id}")
}

/// The day and marketplace a stats item's sort key names; `None` for a key of another shape.
fn parse_day_sk(sk: &str) -> Option<(Date, String)> {
    let (day, marketplace) = sk.strip_prefix("DAY#")?.split_once('#')?;
    Some((day.parse().ok()?, marketplace.to_string()))
}

impl DynamoStore {
    /// Writes the order's marker (`sk`, named `op` in errors) if new, and then adds one to the
    /// day's counter `name`: true when counted now. A run that dies between the two leaves the
    /// order uncounted.
    async fn count_once(
        &self,
        order_id: &OrderId,
        (sk, op): (&str, &'static str),
        marketplace_id: &str,
        day: Date,
        name: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let first = self
            .put_marker_once(
                format!("ORDER#{order_id}"),
                sk,
                now + ORDER_SEEN_RETENTION,
                op,
            )
            .await?;
        if first {
            self.add_to_day(day, marketplace_id, name, now).await?;
        }
        Ok(first)
    }

    /// Adds one to the day's counter `name` (`orders` or `counted`).
    async fn add_to_day(
        &self,
        day: Date,
        marketplace_id: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(STATS_PK.into()))
            .key("sk", AttributeValue::S(day_sk(day, marketplace_id)))
            .update_expression("ADD #n :one SET expires_at = if_not_exists(expires_at, :exp)")
            .expression_attribute_names("#n", name)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(
                ":exp",
                AttributeValue::N((now + RETENTION).as_second().to_string()),
            )
            .send()
            .await
            .map_err(|e| db_err("UpdateItem(day count)", e))?;
        Ok(())
    }
}

impl OrderCountStore for DynamoStore {
    async fn count_order(
        &self,
        order_id: &OrderId,
        marketplace_id: &str,
        day: Date,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let marker = ("SEEN", "PutItem(order seen)");
        self.count_once(order_id, marker, marketplace_id, day, "orders", now)
            .await
    }

    async fn count_cancel(
        &self,
        order_id: &OrderId,
        marketplace_id: &str,
        day: Date,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let marker = ("COUNTED", "PutItem(cancel counted)");
        self.count_once(order_id, marker, marketplace_id, day, "counted", now)
            .await
    }

    async fn order_counts(&self, from: Date, to: Date) -> Result<Vec<DayCount>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :p AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":p", AttributeValue::S(STATS_PK.into()))
                .expression_attribute_values(":from", AttributeValue::S(format!("DAY#{from}#")))
                // '~' sorts after every character of a marketplace id.
                .expression_attribute_values(":to", AttributeValue::S(format!("DAY#{to}#~")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| db_err("Query(order counts)", e))?;
            for item in page.items.unwrap_or_default() {
                let sk = match item.get("sk") {
                    Some(AttributeValue::S(s)) => s.as_str(),
                    _ => continue,
                };
                let corrupt = |detail: &str| StoreError::Corrupt {
                    key: format!("{STATS_PK}#{sk}"),
                    detail: detail.into(),
                };
                let (day, marketplace_id) =
                    parse_day_sk(sk).ok_or_else(|| corrupt("not a day's key"))?;
                // A day with only cancels has no `orders`, and one stored before kenzen
                // counted cancels has no `counted`.
                let count = |name: &str| match item.get(name) {
                    Some(AttributeValue::N(n)) => n
                        .parse()
                        .map_err(|_| corrupt(&format!("{name} is not a whole number"))),
                    None => Ok(0),
                    Some(_) => Err(corrupt(&format!("{name} is not a number"))),
                };
                out.push(DayCount {
                    marketplace_id,
                    day,
                    orders: count("orders")?,
                    counted: count("counted")?,
                });
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

impl ReportStore for DynamoStore {
    async fn cases_opened_since(&self, since: Timestamp) -> Result<CasesRead, StoreError> {
        let mut out = CasesRead::default();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            // operator only (kenzen report): no function scans the table.
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("sk = :c")
                .expression_attribute_values(":c", AttributeValue::S("CASE".into()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| db_err("Scan(cases)", e))?;
            for item in page.items.unwrap_or_default() {
                match Self::read_case(&item) {
                    Ok(vc) if vc.value.opened_at >= since => out.cases.push(vc),
                    Ok(_) => {}
                    // One unreadable item never stops the others.
                    Err(StoreError::Corrupt { key, detail }) => {
                        out.unreadable.push(Unreadable { key, detail })
                    }
                    Err(e) => return Err(e),
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_days_key_names_its_day_and_marketplace_and_reads_back() {
        let day = jiff::civil::date(2026, 12, 1);
        let sk = day_sk(day, "A1VC38T7YXB528");
        assert_eq!(sk, "DAY#2026-12-01#A1VC38T7YXB528");
        assert_eq!(parse_day_sk(&sk), Some((day, "A1VC38T7YXB528".into())));
        assert_eq!(parse_day_sk("DAY#soon#X"), None);
        assert_eq!(parse_day_sk("CURSOR"), None);
    }
}
