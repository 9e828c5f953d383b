//! The deployment's shared SP-API rate budget on the table: one item per operation
//! (`pk = RATE`, `sk = operation id`) holding the budget's "theoretical arrival time" `tat`
//! (the generic cell rate algorithm, an exact token bucket): a call may go at `tat + interval −
//! burst × interval`, and moves `tat` on by one interval. Containers and functions running at
//! once never take the same slot, and together stay within the usage plan Amazon gives the
//! seller and application.
//!
//! Each reservation is one atomic write: while the budget is in use (`tat` at or after now) an
//! `ADD` of one interval, conditional on the slot being early enough for the run; when idle, a
//! `SET` to now plus one interval, conditional on it still being idle. Neither reads first, so
//! concurrent writers never have to try again because of each other, except at the moment the
//! budget turns from idle to busy.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use jiff::Timestamp;

use crate::adapters::spapi::rate::SharedRates;

/// How often a reservation is tried when the budget keeps turning between idle and busy.
const ATTEMPTS: u32 = 8;

/// The shared budget on table `table`.
#[derive(Debug, Clone)]
pub struct DynamoRates {
    client: Client,
    table: String,
}

/// What a conditional write did: applied (with the new `tat`), or not (with the stored one).
enum Written {
    Applied(Option<i64>),
    NotApplied(Option<i64>),
}

impl DynamoRates {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn write(
        &self,
        op: &'static str,
        update: &str,
        condition: &str,
        values: &[(&str, i64)],
    ) -> Result<Written, String> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("RATE".into()))
            .key("sk", AttributeValue::S(op.into()))
            .update_expression(update)
            .condition_expression(condition)
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (k, v) in values {
            req = req.expression_attribute_values(*k, AttributeValue::N(v.to_string()));
        }
        match req.send().await {
            Ok(out) => Ok(Written::Applied(tat_of(out.attributes()))),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                    Ok(Written::NotApplied(tat_of(c.item())))
                }
                _ => Err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()),
            },
        }
    }
}

fn tat_of(item: Option<&HashMap<String, AttributeValue>>) -> Option<i64> {
    match item.and_then(|i| i.get("tat")) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// An operation's interval and tolerance (burst × interval), in microseconds.
fn shape(rate: f64, burst: f64) -> (i64, i64) {
    let interval = (1_000_000.0 / rate.max(1e-9)).round() as i64;
    (interval, (burst.max(1.0) * interval as f64).round() as i64)
}

impl SharedRates for DynamoRates {
    fn reserve<'a>(
        &'a self,
        op: &'static str,
        rate: f64,
        burst: f64,
        now: Timestamp,
        latest: Option<Timestamp>,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Timestamp>, String>> + Send + 'a>> {
        Box::pin(async move {
            let now = micros(now);
            let (interval, tolerance) = shape(rate, burst);
            // The latest arrival time whose next slot still starts by `latest`.
            let max = latest.map(|l| micros(l).saturating_add(tolerance - interval));
            let go = |tat: i64| Timestamp::from_microsecond((tat - tolerance).max(now));
            for _ in 0..ATTEMPTS {
                // In use: one interval more.
                let busy = match max {
                    Some(m) => {
                        self.write(
                            op,
                            "ADD tat :i",
                            "tat BETWEEN :now AND :max",
                            &[(":i", interval), (":now", now), (":max", m)],
                        )
                        .await?
                    }
                    None => {
                        self.write(
                            op,
                            "ADD tat :i",
                            "tat >= :now",
                            &[(":i", interval), (":now", now)],
                        )
                        .await?
                    }
                };
                match busy {
                    Written::Applied(Some(tat)) => {
                        return go(tat).map(Some).map_err(|e| e.to_string());
                    }
                    Written::Applied(None) => return Err(format!("{op}: no arrival time written")),
                    Written::NotApplied(Some(tat)) if max.is_some_and(|m| tat > m) => {
                        return Ok(None);
                    }
                    Written::NotApplied(Some(tat)) if tat >= now => continue,
                    Written::NotApplied(_) => {}
                }
                // Idle (or never used): the budget is full; this call takes its first slot.
                let idle = self
                    .write(
                        op,
                        "SET tat = :t",
                        "attribute_not_exists(tat) OR tat < :now",
                        &[(":t", now + interval), (":now", now)],
                    )
                    .await?;
                if let Written::Applied(_) = idle {
                    return go(now + interval).map(Some).map_err(|e| e.to_string());
                }
            }
            Err(format!("{op}: the shared rate budget stayed contended"))
        })
    }

    fn drain<'a>(
        &'a self,
        op: &'static str,
        rate: f64,
        burst: f64,
        now: Timestamp,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            // Empty: the arrival time a whole burst ahead, so the next slot is one interval on.
            let (_, tolerance) = shape(rate, burst);
            let empty = micros(now) + tolerance;
            self.write(
                op,
                "SET tat = :t",
                "attribute_not_exists(tat) OR tat < :t",
                &[(":t", empty)],
            )
            .await
            .map(|_| ())
        })
    }
}
