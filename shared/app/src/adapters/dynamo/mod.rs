//! The DynamoDB adapter: one table (defined in `infra/table.json`; the SAM template mirrors it).
//!
//! Keys:
//! - case `ORDER#<id>` / `CASE`: `version`, `case` (the case as a map), `state`; `due_kind` +
//!   `due_at` only while work is due (the sparse `due` index); `open_pk` only while the case is
//!   open (the sparse `open` index).
//! - timeline `ORDER#<id>` / `TL#<time>#<n>`: append-only, written only if new.
//! - `expires_at` (TTL) on ended cases and timeline entries: [`RETENTION`] after the fact.
//! - stock `SKU#<sku>` / `STOCK`: `on_hand`, and optionally `unit_cost`, `shipping_cost`; kenzen's
//!   own `reserved` (orders holding units) and `product_type` (cached). Bulk upkeep is in
//!   `stock_admin`.
//! - poll cursor `POLL` / `CURSOR`: `at`.
//! - cancel batch `FEED#<id>` / `BATCH`: `cancels`.
//! - handled notification `NOTIF#<NotificationId>` / `SEEN`, expiring after a week.
//! - counted order `ORDER#<id>` / `SEEN` and the day's count `STATS` / `DAY#<day>#<marketplace>`
//!   (see `counts`).
//! - the seller's mode `SETTINGS` / `MODE` (settings.rs).
//! - the seller's templates `TEMPLATE` / `<lang>#<kind>` and `TEMPLATE` / `VARS` (see
//!   [`templates`]).
//!
//! Every case write is conditional on the version read; this module owns the key schema and the
//! error mapping and nothing else.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, ReturnValuesOnConditionCheckFailure,
};
use jiff::Timestamp;
use kenzen_core::{Case, DueKind, OrderId, Sku, SkuInfo};

use crate::ports::{
    CancelBatchStore, CancelRequest, CaseStore, CasesRead, IntakeStore, PollState, Reserve,
    StockStore, StoreError, TimelineEntry, Unreadable, Versioned,
};

mod counts;
mod health;
pub mod rates;
mod settings;
mod slots;
mod stock_admin;
#[cfg(feature = "test-util")]
pub mod table;
pub mod templates;

pub use rates::DynamoRates;

/// How long ended cases and timeline entries are kept (DynamoDB TTL on `expires_at`): long
/// enough for a year of account-health questions.
pub const RETENTION: jiff::SignedDuration = jiff::SignedDuration::from_hours(400 * 24);

fn expires_at(t: Timestamp) -> AttributeValue {
    AttributeValue::N((t + RETENTION).as_second().to_string())
}

/// Times as fixed-width UTC text, so string order is time order in the due index.
pub fn sortable(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%NZ").to_string()
}

fn case_key(order_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(format!("ORDER#{order_id}")),
        ),
        ("sk".to_string(), AttributeValue::S("CASE".into())),
    ])
}

type Sdk<E> = SdkError<E>;

type UpdateResult =
    Result<aws_sdk_dynamodb::operation::update_item::UpdateItemOutput, Sdk<UpdateItemError>>;

/// A conditional UpdateItem's result: `true` when applied, `false` when its condition did not
/// hold (an expected answer, not a failure).
fn update_applied(res: UpdateResult, op: &'static str) -> Result<bool, StoreError> {
    match res {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(db_err(op, e)),
    }
}

fn db_err<E>(op: &'static str, e: Sdk<E>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StoreError::Db {
        op,
        detail: DisplayErrorContext(&e).to_string(),
        source: Box::new(e),
    }
}

/// A conditional write that lost, told by DynamoDB's error code.
fn is_condition_failed<E: ProvideErrorMetadata>(e: &Sdk<E>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// The DynamoDB case store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

static TIMELINE_SEQ: AtomicU64 = AtomicU64::new(0);

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes the marker item `pk`/`sk` (expiring at `expires_at`) unless it exists: `true` when
    /// this call wrote it, `false` when it was there already. `op` names the call in errors.
    pub(crate) async fn put_marker_once(
        &self,
        pk: String,
        sk: &str,
        expires_at: Timestamp,
        op: &'static str,
    ) -> Result<bool, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk))
            .item("sk", AttributeValue::S(sk.into()))
            .item(
                "expires_at",
                AttributeValue::N(expires_at.as_second().to_string()),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(db_err(op, e)),
        }
    }

    /// Writes the stock-table item of `sku` (what the seller maintains; tests and the demo seed
    /// it).
    #[cfg(feature = "test-util")]
    pub async fn put_sku(&self, sku: &str, info: SkuInfo) -> Result<(), StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(format!("SKU#{sku}")))
            .item("sk", AttributeValue::S("STOCK".into()));
        if let Some(n) = info.on_hand {
            req = req.item("on_hand", AttributeValue::N(n.to_string()));
        }
        if let Some(c) = info.unit_cost {
            req = req.item("unit_cost", AttributeValue::N(c.to_string()));
        }
        if let Some(c) = info.shipping_cost {
            req = req.item("shipping_cost", AttributeValue::N(c.to_string()));
        }
        req.send().await.map_err(|e| db_err("PutItem(stock)", e))?;
        Ok(())
    }

    /// Sets the on-hand quantity of `sku` and nothing else.
    #[cfg(feature = "test-util")]
    pub async fn put_stock(&self, sku: &str, on_hand: u32) -> Result<(), StoreError> {
        self.put_sku(
            sku,
            SkuInfo {
                on_hand: Some(on_hand),
                ..SkuInfo::default()
            },
        )
        .await
    }

    fn case_item(
        case: &Case,
        version: u64,
        due: Option<(DueKind, Timestamp)>,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let value: AttributeValue =
            serde_dynamo::to_attribute_value(case).map_err(|e| StoreError::Corrupt {
                key: format!("ORDER#{}", case.order_id),
                detail: e.to_string(),
            })?;
        let mut item = case_key(&case.order_id);
        item.insert("version".into(), AttributeValue::N(version.to_string()));
        item.insert("case".into(), value);
        item.insert("state".into(), AttributeValue::S(case.state.name().into()));
        if let Some((kind, at)) = due {
            item.insert("due_kind".into(), AttributeValue::S(kind.as_str().into()));
            item.insert("due_at".into(), AttributeValue::S(sortable(at)));
        }
        match &case.state {
            kenzen_core::CaseState::Cancelled { at, .. }
            | kenzen_core::CaseState::Closed { at, .. } => {
                item.insert("expires_at".into(), expires_at(*at));
            }
            _ => {
                item.insert("open_pk".into(), AttributeValue::S("OPEN".into()));
            }
        }
        Ok(item)
    }

    fn read_case(item: &HashMap<String, AttributeValue>) -> Result<Versioned<Case>, StoreError> {
        let key = match item.get("pk") {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => "?".into(),
        };
        let corrupt = |detail: String| StoreError::Corrupt {
            key: key.clone(),
            detail,
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => n.parse().map_err(|_| corrupt("version".into()))?,
            _ => return Err(corrupt("no version".into())),
        };
        let value = item
            .get("case")
            .cloned()
            .ok_or_else(|| corrupt("no case attribute".into()))?;
        let case: Case =
            serde_dynamo::from_attribute_value(value).map_err(|e| corrupt(e.to_string()))?;
        Ok(Versioned {
            value: case,
            version,
        })
    }

    async fn put_case(
        &self,
        item: HashMap<String, AttributeValue>,
        condition: &str,
        values: Option<(&str, AttributeValue)>,
        order_id: &str,
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if let Some((k, v)) = values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(StoreError::Conflict(format!("case {order_id}")))
            }
            Err(e) => Err(db_err("PutItem(case)", e)),
        }
    }

    async fn cases_by_keys(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<CasesRead, StoreError> {
        let mut out = CasesRead::default();
        for key in keys {
            let got = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| db_err("GetItem(case)", e))?;
            if let Some(item) = got.item {
                match Self::read_case(&item) {
                    Ok(case) => out.cases.push(case),
                    // One unreadable item never stops the others.
                    Err(StoreError::Corrupt { key, detail }) => {
                        out.unreadable.push(Unreadable { key, detail })
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    /// The stock items at `keys` (at most [`BATCH_GET_KEYS`], no key twice; absent ones are
    /// left out), eventually consistent, [`STOCK_ATTRIBUTES`] only. Keys DynamoDB leaves
    /// unprocessed are asked for again after a short, growing pause; still unprocessed after
    /// [`BATCH_GET_ATTEMPTS`] requests, the read fails as a retryable database error.
    async fn stock_items(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        const OP: &str = "BatchGetItem(stock)";
        let mut items = Vec::new();
        let mut pending = keys;
        for attempt in 1..=BATCH_GET_ATTEMPTS {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .projection_expression(STOCK_ATTRIBUTES)
                .build()
                .map_err(|e| StoreError::Db {
                    op: OP,
                    detail: e.to_string(),
                    source: Box::new(e),
                })?;
            let mut got = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| db_err(OP, e))?;
            if let Some(found) = got.responses.as_mut().and_then(|r| r.remove(&self.table)) {
                items.extend(found);
            }
            pending = got
                .unprocessed_keys
                .as_mut()
                .and_then(|u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(items);
            }
            if attempt < BATCH_GET_ATTEMPTS {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
        }
        Err(StoreError::Db {
            op: OP,
            detail: format!(
                "{} keys still unprocessed after {BATCH_GET_ATTEMPTS} requests (throttled); \
                 retry later",
                pending.len()
            ),
            source: "UnprocessedKeys left in every answer".into(),
        })
    }

    async fn query_keys(
        &self,
        index: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut keys = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(condition)
                .set_exclusive_start_key(start.take());
            for (k, v) in &values {
                req = req.expression_attribute_values(*k, v.clone());
            }
            let page = req.send().await.map_err(|e| db_err("Query", e))?;
            for item in page.items.unwrap_or_default() {
                let mut key = HashMap::new();
                for name in ["pk", "sk"] {
                    if let Some(v) = item.get(name) {
                        key.insert(name.to_string(), v.clone());
                    }
                }
                keys.push(key);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(keys),
            }
        }
    }
}

/// BatchGetItem's largest request.
const BATCH_GET_KEYS: usize = 100;
/// How often keys DynamoDB leaves unprocessed (throttled) are asked for, in all.
const BATCH_GET_ATTEMPTS: u32 = 5;
/// What the stock check reads of a stock item (its key, to match the answer to the SKU).
const STOCK_ATTRIBUTES: &str = "pk, on_hand, unit_cost, shipping_cost, product_type";

fn stock_key(pk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk)),
        ("sk".to_string(), AttributeValue::S("STOCK".into())),
    ])
}

/// A stock item as the rules see it; numbers that are negative, not finite or (for `on_hand`)
/// not whole make the item unreadable.
fn read_sku(sku: &Sku, item: &HashMap<String, AttributeValue>) -> Result<SkuInfo, StoreError> {
    let number = |name: &str| -> Result<Option<f64>, StoreError> {
        match item.get(name) {
            None => Ok(None),
            Some(AttributeValue::N(n)) => n
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt {
                    key: format!("SKU#{sku}"),
                    detail: format!("{name} {n:?} is not a non-negative number"),
                }),
            Some(_) => Err(StoreError::Corrupt {
                key: format!("SKU#{sku}"),
                detail: format!("{name} is not a number"),
            }),
        }
    };
    // Costs go to the rules as the decimal text the table holds (checked above), so they become
    // exact amounts of the marketplace currency there.
    let decimal = |name: &str| match item.get(name) {
        Some(AttributeValue::N(n)) => n.trim().to_string(),
        _ => String::new(),
    };
    let on_hand = match number("on_hand")? {
        Some(v) if v.fract() == 0.0 && v <= f64::from(u32::MAX) => Some(v as u32),
        Some(v) => {
            return Err(StoreError::Corrupt {
                key: format!("SKU#{sku}"),
                detail: format!("on_hand {v} is not a whole number"),
            });
        }
        None => None,
    };
    Ok(SkuInfo {
        on_hand,
        unit_cost: number("unit_cost")?.map(|_| decimal("unit_cost")),
        shipping_cost: number("shipping_cost")?.map(|_| decimal("shipping_cost")),
        product_type: match item.get("product_type") {
            Some(AttributeValue::S(t)) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => None,
        },
    })
}

impl CaseStore for DynamoStore {
    async fn get_case(&self, order_id: &OrderId) -> Result<Option<Versioned<Case>>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(case_key(order_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| db_err("GetItem(case)", e))?;
        got.item.as_ref().map(Self::read_case).transpose()
    }

    async fn create_case(
        &self,
        case: &Case,
        due: Option<(DueKind, Timestamp)>,
    ) -> Result<Versioned<Case>, StoreError> {
        let item = Self::case_item(case, 1, due)?;
        self.put_case(item, "attribute_not_exists(pk)", None, &case.order_id)
            .await?;
        Ok(Versioned {
            value: case.clone(),
            version: 1,
        })
    }

    async fn save_case(
        &self,
        case: &Case,
        version: u64,
        due: Option<(DueKind, Timestamp)>,
    ) -> Result<Versioned<Case>, StoreError> {
        let item = Self::case_item(case, version + 1, due)?;
        self.put_case(
            item,
            "version = :v",
            Some((":v", AttributeValue::N(version.to_string()))),
            &case.order_id,
        )
        .await?;
        Ok(Versioned {
            value: case.clone(),
            version: version + 1,
        })
    }

    async fn due_cases(&self, kind: DueKind, now: Timestamp) -> Result<CasesRead, StoreError> {
        let keys = self
            .query_keys(
                "due",
                "due_kind = :k AND due_at <= :t",
                vec![
                    (":k", AttributeValue::S(kind.as_str().into())),
                    (":t", AttributeValue::S(sortable(now))),
                ],
            )
            .await?;
        self.cases_by_keys(keys).await
    }

    async fn mark_unreadable(&self, key: &str) -> Result<bool, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.into()))
            .key("sk", AttributeValue::S("CASE".into()))
            .update_expression("SET unreadable_reported = :t")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(unreadable_reported)",
            )
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await;
        update_applied(res, "UpdateItem(unreadable)")
    }

    async fn open_cases(&self) -> Result<CasesRead, StoreError> {
        let keys = self
            .query_keys(
                "open",
                "open_pk = :o",
                vec![(":o", AttributeValue::S("OPEN".into()))],
            )
            .await?;
        self.cases_by_keys(keys).await
    }

    async fn append_timeline(&self, entry: &TimelineEntry) -> Result<(), StoreError> {
        let value: AttributeValue =
            serde_dynamo::to_attribute_value(entry).map_err(|e| StoreError::Corrupt {
                key: format!("ORDER#{}", entry.order_id),
                detail: e.to_string(),
            })?;
        loop {
            let seq = TIMELINE_SEQ.fetch_add(1, Ordering::Relaxed);
            let nonce = std::process::id() as u64 * 1_000_000 + seq;
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(format!("ORDER#{}", entry.order_id)))
                .item(
                    "sk",
                    AttributeValue::S(format!("TL#{}#{nonce:016}", sortable(entry.at))),
                )
                .item("entry", value.clone())
                .item("expires_at", expires_at(entry.at))
                .condition_expression("attribute_not_exists(sk)")
                .send()
                .await;
            match res {
                Ok(_) => return Ok(()),
                Err(e) if is_condition_failed(&e) => continue,
                Err(e) => return Err(db_err("PutItem(timeline)", e)),
            }
        }
    }

    async fn timeline(&self, order_id: &OrderId) -> Result<Vec<TimelineEntry>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :p AND begins_with(sk, :t)")
                .expression_attribute_values(":p", AttributeValue::S(format!("ORDER#{order_id}")))
                .expression_attribute_values(":t", AttributeValue::S("TL#".into()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| db_err("Query(timeline)", e))?;
            for item in page.items.unwrap_or_default() {
                let v = item
                    .get("entry")
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt {
                        key: format!("ORDER#{order_id}"),
                        detail: "timeline item without entry".into(),
                    })?;
                out.push(serde_dynamo::from_attribute_value(v).map_err(|e| {
                    StoreError::Corrupt {
                        key: format!("ORDER#{order_id}"),
                        detail: e.to_string(),
                    }
                })?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

impl StockStore for DynamoStore {
    async fn sku_info(&self, skus: &[Sku]) -> Result<BTreeMap<Sku, SkuInfo>, StoreError> {
        // One BatchGetItem per BATCH_GET_KEYS distinct SKUs, not a GetItem each.
        let distinct: Vec<&Sku> = skus.iter().collect::<BTreeSet<_>>().into_iter().collect();
        let mut found = BTreeMap::new();
        for chunk in distinct.chunks(BATCH_GET_KEYS) {
            let by_pk: HashMap<String, &Sku> =
                chunk.iter().map(|s| (format!("SKU#{s}"), *s)).collect();
            let keys = by_pk.keys().map(|pk| stock_key(pk.clone())).collect();
            for item in self.stock_items(keys).await? {
                if let Some(AttributeValue::S(pk)) = item.get("pk")
                    && let Some(sku) = by_pk.get(pk.as_str())
                {
                    found.insert(*sku, item);
                }
            }
        }
        // Read in SKU order, so the unreadable item named is the same whatever order the
        // answer came in.
        found
            .into_iter()
            .map(|(sku, item)| Ok((sku.clone(), read_sku(sku, &item)?)))
            .collect()
    }

    async fn reserve(
        &self,
        sku: &Sku,
        quantity: u32,
        order_id: &OrderId,
    ) -> Result<Reserve, StoreError> {
        // One conditional update: enough on hand and not yet this order's; the order's id goes
        // into the item's `reserved` set, so a second sight of the order takes nothing.
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("SKU#{sku}")))
            .key("sk", AttributeValue::S("STOCK".into()))
            .update_expression("SET on_hand = on_hand - :q ADD reserved :o")
            .condition_expression(
                "attribute_exists(on_hand) AND on_hand >= :q AND NOT contains(reserved, :id)",
            )
            .expression_attribute_values(":q", AttributeValue::N(quantity.to_string()))
            .expression_attribute_values(":o", AttributeValue::Ss(vec![order_id.to_string()]))
            .expression_attribute_values(":id", AttributeValue::S(order_id.to_string()))
            // A refusal carries the item as the condition saw it: no second read to tell why.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        // Why: the item the condition failed on tells the three cases apart.
        let item = match res {
            Ok(_) => return Ok(Reserve::Reserved),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    refused.item.clone().unwrap_or_default()
                }
                _ => return Err(db_err("UpdateItem(stock reserve)", e)),
            },
        };
        let mine = matches!(item.get("reserved"), Some(AttributeValue::Ss(ids)) if ids.iter().any(|i| i == order_id.as_str()));
        Ok(match item.get("on_hand") {
            _ if mine => Reserve::Reserved,
            Some(AttributeValue::N(n)) => Reserve::Short {
                on_hand: n
                    .parse::<f64>()
                    .ok()
                    .filter(|v| *v >= 0.0)
                    .map_or(0, |v| v as u32),
            },
            _ => Reserve::Unmanaged,
        })
    }

    async fn release(
        &self,
        sku: &Sku,
        quantity: u32,
        order_id: &OrderId,
        give_back: bool,
    ) -> Result<(), StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("SKU#{sku}")))
            .key("sk", AttributeValue::S("STOCK".into()))
            .update_expression(if give_back {
                "SET on_hand = on_hand + :q DELETE reserved :o"
            } else {
                "SET on_hand = on_hand + :z DELETE reserved :o"
            })
            .condition_expression("attribute_exists(on_hand) AND contains(reserved, :id)")
            .expression_attribute_values(
                if give_back { ":q" } else { ":z" },
                AttributeValue::N(if give_back {
                    quantity.to_string()
                } else {
                    "0".into()
                }),
            )
            .expression_attribute_values(":o", AttributeValue::Ss(vec![order_id.to_string()]))
            .expression_attribute_values(":id", AttributeValue::S(order_id.to_string()))
            .send()
            .await;
        // Not applied: nothing of this order's to give back.
        update_applied(res, "UpdateItem(stock release)").map(|_| ())
    }

    async fn set_product_type(&self, sku: &Sku, product_type: &str) -> Result<(), StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("SKU#{sku}")))
            .key("sk", AttributeValue::S("STOCK".into()))
            .update_expression("SET product_type = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", AttributeValue::S(product_type.into()))
            .send()
            .await;
        // Not applied: no stock item for the SKU, nothing to cache on.
        update_applied(res, "UpdateItem(stock product type)").map(|_| ())
    }
}

impl DynamoStore {
    /// The poll's item `sk` (`CURSOR` or `STATE`), read consistently.
    async fn poll_item(
        &self,
        sk: &str,
        op: &'static str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("POLL".into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| db_err(op, e))?;
        Ok(got.item)
    }
}

impl IntakeStore for DynamoStore {
    async fn poll_cursor(&self) -> Result<Option<Timestamp>, StoreError> {
        let got = self.poll_item("CURSOR", "GetItem(cursor)").await?;
        match got.as_ref().and_then(|i| i.get("at")) {
            Some(AttributeValue::S(s)) => s.parse().map(Some).map_err(|_| StoreError::Corrupt {
                key: "POLL".into(),
                detail: format!("cursor {s:?} is not a timestamp"),
            }),
            _ => Ok(None),
        }
    }

    async fn poll_state(&self) -> Result<PollState, StoreError> {
        let got = self.poll_item("STATE", "GetItem(poll state)").await?;
        match got.as_ref().and_then(|i| i.get("data")) {
            Some(AttributeValue::S(s)) => {
                serde_json::from_str(s).map_err(|e| StoreError::Corrupt {
                    key: "POLL#STATE".into(),
                    detail: e.to_string(),
                })
            }
            _ => Ok(PollState::default()),
        }
    }

    async fn set_poll_state(&self, state: &PollState) -> Result<(), StoreError> {
        let data = serde_json::to_string(state).map_err(|e| StoreError::Corrupt {
            key: "POLL#STATE".into(),
            detail: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S("POLL".into()))
            .item("sk", AttributeValue::S("STATE".into()))
            .item("data", AttributeValue::S(data))
            .send()
            .await
            .map_err(|e| db_err("PutItem(poll state)", e))?;
        Ok(())
    }

    async fn set_poll_cursor(&self, t: Timestamp) -> Result<(), StoreError> {
        // Only ever forward: a late or duplicate poll must not move the cursor back.
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S("POLL".into()))
            .item("sk", AttributeValue::S("CURSOR".into()))
            .item("at", AttributeValue::S(sortable(t)))
            .condition_expression("attribute_not_exists(pk) OR #at < :t")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":t", AttributeValue::S(sortable(t)))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(db_err("PutItem(cursor)", e)),
        }
    }

    async fn notification_seen(&self, id: &str) -> Result<bool, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("NOTIF#{id}")))
            .key("sk", AttributeValue::S("SEEN".into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| db_err("GetItem(notification)", e))?;
        Ok(got.item.is_some())
    }

    async fn mark_notification(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        let week = jiff::SignedDuration::from_hours(7 * 24);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(format!("NOTIF#{id}")))
            .item("sk", AttributeValue::S("SEEN".into()))
            .item(
                "expires_at",
                AttributeValue::N((now + week).as_second().to_string()),
            )
            .send()
            .await
            .map_err(|e| db_err("PutItem(notification)", e))?;
        Ok(())
    }

    async fn mark_unreadable_order(&self, key: &str, now: Timestamp) -> Result<bool, StoreError> {
        let month = jiff::SignedDuration::from_hours(30 * 24);
        self.put_marker_once(
            format!("UNREADABLE#{key}"),
            "ORDER",
            now + month,
            "PutItem(unreadable order)",
        )
        .await
    }
}

impl CancelBatchStore for DynamoStore {
    async fn put_cancel_batch(
        &self,
        id: &str,
        cancels: &[CancelRequest],
    ) -> Result<(), StoreError> {
        let value: AttributeValue =
            serde_dynamo::to_attribute_value(cancels).map_err(|e| StoreError::Corrupt {
                key: format!("FEED#{id}"),
                detail: e.to_string(),
            })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(format!("FEED#{id}")))
            .item("sk", AttributeValue::S("BATCH".into()))
            .item("cancels", value)
            .send()
            .await
            .map_err(|e| db_err("PutItem(feed)", e))?;
        Ok(())
    }

    async fn cancel_batch(&self, id: &str) -> Result<Option<Vec<CancelRequest>>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("FEED#{id}")))
            .key("sk", AttributeValue::S("BATCH".into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| db_err("GetItem(feed)", e))?;
        match got.item.and_then(|mut i| i.remove("cancels")) {
            Some(v) => serde_dynamo::from_attribute_value(v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    key: format!("FEED#{id}"),
                    detail: e.to_string(),
                }),
            None => Ok(None),
        }
    }
}
