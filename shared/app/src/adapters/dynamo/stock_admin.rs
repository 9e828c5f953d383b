//! Bulk upkeep of the stock items (`SKU#<sku>` / `STOCK`): batched reads (BatchGetItem, 100
//! keys), new items in batched writes (BatchWriteItem, 25 items, unprocessed ones sent again
//! after a growing pause), and the seller's figures on existing items by UpdateItem, which
//! leaves `reserved` and `product_type` as they are (a whole-item write could drop a reservation
//! made between the read and the write). Owns these requests and nothing else.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use kenzen_core::Sku;

use super::{BATCH_GET_KEYS, DynamoStore, db_err, read_sku, stock_key};
use crate::ports::{StockAdmin, StockFigures, StockLevels, StoreError};

/// BatchWriteItem's largest request.
const BATCH_WRITE_ITEMS: usize = 25;
/// How often one batch's unprocessed items are sent, in all.
const BATCH_WRITE_ATTEMPTS: u32 = 8;
/// The pause before the first resend; it doubles each time.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
/// UpdateItem requests in flight at once.
const UPDATES_IN_FLIGHT: usize = 8;
/// Scan pages looked through for some stock item before giving up.
const SCAN_PAGES: usize = 10;

/// The attributes a stock item gets from `row` (besides its key).
fn figures(row: &StockFigures) -> Vec<(&'static str, AttributeValue)> {
    let mut out = vec![("on_hand", AttributeValue::N(row.on_hand.to_string()))];
    if let Some(c) = &row.unit_cost {
        out.push(("unit_cost", AttributeValue::N(c.trim().to_string())));
    }
    if let Some(c) = &row.shipping_cost {
        out.push(("shipping_cost", AttributeValue::N(c.trim().to_string())));
    }
    out
}

/// Sends `requests` in batches of [`BATCH_WRITE_ITEMS`] through `send` (which returns what
/// DynamoDB left unprocessed), sending the unprocessed ones again after a pause that starts at
/// `first_pause` and doubles, at most `attempts` times per batch. Items still unprocessed then
/// are a retryable database error naming how many.
async fn write_batches<F, Fut>(
    requests: Vec<WriteRequest>,
    mut send: F,
    attempts: u32,
    first_pause: Duration,
) -> Result<(), StoreError>
where
    F: FnMut(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>, StoreError>>,
{
    const OP: &str = "BatchWriteItem(stock)";
    for batch in requests.chunks(BATCH_WRITE_ITEMS) {
        let mut pending = batch.to_vec();
        let mut pause = first_pause;
        for attempt in 1..=attempts {
            pending = send(pending).await?;
            if pending.is_empty() {
                break;
            }
            if attempt == attempts {
                return Err(StoreError::Db {
                    op: OP,
                    detail: format!(
                        "{} items still unprocessed after {attempts} requests (throttled); \
                         try again later",
                        pending.len()
                    ),
                    source: "UnprocessedItems left in every answer".into(),
                });
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    Ok(())
}

impl StockAdmin for DynamoStore {
    async fn stock_levels(&self, skus: &[Sku]) -> Result<StockLevels, StoreError> {
        let distinct: Vec<&Sku> = skus.iter().collect::<BTreeSet<_>>().into_iter().collect();
        let mut out = StockLevels::default();
        for chunk in distinct.chunks(BATCH_GET_KEYS) {
            let by_pk: HashMap<String, &Sku> =
                chunk.iter().map(|s| (format!("SKU#{s}"), *s)).collect();
            let keys = by_pk.keys().map(|pk| stock_key(pk.clone())).collect();
            for item in self.stock_items(keys).await? {
                let Some(AttributeValue::S(pk)) = item.get("pk") else {
                    continue;
                };
                let Some(sku) = by_pk.get(pk.as_str()) else {
                    continue;
                };
                match read_sku(sku, &item) {
                    Ok(info) => {
                        out.found.insert((*sku).clone(), info);
                    }
                    Err(StoreError::Corrupt { detail, .. }) => {
                        out.unreadable.insert((*sku).clone(), detail);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    async fn create_stock(&self, rows: &[StockFigures]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(rows.len());
        for row in rows {
            let mut item = stock_key(format!("SKU#{}", row.sku));
            for (name, value) in figures(row) {
                item.insert(name.to_string(), value);
            }
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| StoreError::Db {
                    op: "BatchWriteItem(stock)",
                    detail: e.to_string(),
                    source: Box::new(e),
                })?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        let send = |batch: Vec<WriteRequest>| async move {
            // operator only (kenzen stock import).
            let mut out = self
                .client
                .batch_write_item()
                .request_items(&self.table, batch)
                .send()
                .await
                .map_err(|e| db_err("BatchWriteItem(stock)", e))?;
            Ok(out
                .unprocessed_items
                .as_mut()
                .and_then(|u| u.remove(&self.table))
                .unwrap_or_default())
        };
        write_batches(requests, send, BATCH_WRITE_ATTEMPTS, FIRST_PAUSE).await
    }

    async fn set_stock(&self, rows: &[StockFigures]) -> Result<(), StoreError> {
        let mut running = tokio::task::JoinSet::new();
        let mut rows = rows.iter();
        loop {
            while running.len() < UPDATES_IN_FLIGHT {
                let Some(row) = rows.next() else { break };
                let mut req = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", AttributeValue::S(format!("SKU#{}", row.sku)))
                    .key("sk", AttributeValue::S("STOCK".into()));
                let mut sets = Vec::new();
                for (name, value) in figures(row) {
                    sets.push(format!("{name} = :{name}"));
                    req = req.expression_attribute_values(format!(":{name}"), value);
                }
                let req = req.update_expression(format!("SET {}", sets.join(", ")));
                running.spawn(async move {
                    req.send()
                        .await
                        .map(|_| ())
                        .map_err(|e| db_err("UpdateItem(stock figures)", e))
                });
            }
            match running.join_next().await {
                None => return Ok(()),
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => {
                    return Err(StoreError::Db {
                        op: "UpdateItem(stock figures)",
                        detail: format!("the update task ended abnormally: {e}"),
                        source: Box::new(e),
                    });
                }
            }
        }
    }

    async fn any_stock_sku(&self) -> Result<Option<Sku>, StoreError> {
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        for _ in 0..SCAN_PAGES {
            // operator only (kenzen doctor).
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :p) AND sk = :s")
                .expression_attribute_values(":p", AttributeValue::S("SKU#".into()))
                .expression_attribute_values(":s", AttributeValue::S("STOCK".into()))
                .projection_expression("pk")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| db_err("Scan(stock)", e))?;
            let found = page.items().iter().find_map(|item| match item.get("pk") {
                Some(AttributeValue::S(pk)) => pk.strip_prefix("SKU#").and_then(|s| s.parse().ok()),
                _ => None,
            });
            if found.is_some() {
                return Ok(found);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn put(n: usize) -> WriteRequest {
        let item = stock_key(format!("SKU#S{n}"));
        WriteRequest::builder()
            .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
            .build()
    }

    fn sku_of(r: &WriteRequest) -> String {
        match r.put_request().and_then(|p| p.item().get("pk")) {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => String::new(),
        }
    }

    #[tokio::test]
    async fn unprocessed_items_are_sent_again_until_every_item_is_written_once() {
        let written = RefCell::new(Vec::<String>::new());
        let sizes = RefCell::new(Vec::<usize>::new());
        let calls = RefCell::new(0u32);
        let send = |batch: Vec<WriteRequest>| {
            *calls.borrow_mut() += 1;
            sizes.borrow_mut().push(batch.len());
            // Every first answer of a full batch leaves its last three items unprocessed.
            let (done, left) = if batch.len() == 25 {
                batch.split_at(22)
            } else {
                batch.split_at(batch.len())
            };
            written.borrow_mut().extend(done.iter().map(sku_of));
            let left = left.to_vec();
            async move { Ok(left) }
        };
        let requests: Vec<_> = (0..60).map(put).collect();
        write_batches(requests, send, 4, Duration::from_millis(1))
            .await
            .unwrap();
        let mut got = written.into_inner();
        got.sort();
        let mut want: Vec<_> = (0..60).map(|n| format!("SKU#S{n}")).collect();
        want.sort();
        assert_eq!(got, want, "every item written exactly once");
        assert!(sizes.borrow().iter().all(|n| *n <= 25));
        // 25 (3 left) + 3, 25 (3 left) + 3, 10.
        assert_eq!(*sizes.borrow(), vec![25, 3, 25, 3, 10]);
    }

    #[tokio::test]
    async fn items_left_unprocessed_in_every_answer_fail_the_write_naming_how_many() {
        let calls = RefCell::new(0u32);
        let send = |batch: Vec<WriteRequest>| {
            *calls.borrow_mut() += 1;
            let left = batch[batch.len() - 2..].to_vec();
            async move { Ok(left) }
        };
        let err = write_batches((0..5).map(put).collect(), send, 3, Duration::from_millis(1))
            .await
            .unwrap_err();
        assert_eq!(*calls.borrow(), 3);
        assert!(
            err.to_string().contains("2 items still unprocessed"),
            "{err}"
        );
        assert!(err.is_transient());
    }
}
