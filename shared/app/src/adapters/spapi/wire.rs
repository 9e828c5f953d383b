//! SP-API wire types: exactly the fields kenzen reads, named as in Amazon's models, and their
//! mapping into domain types. Unknown fields are ignored; a missing required field or an
//! unknown enum value is a decode error, never a panic.

use jiff::Timestamp;
use kenzen_core::{OrderLine, OrderStatus, OrderView};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrdersResponse {
    /// Each order is read on its own (see [`Order`]), so one that does not decode never hides
    /// the others.
    pub orders: Vec<serde_json::Value>,
    pub pagination: Option<Pagination>,
    pub last_updated_before: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct GetOrderResponse {
    pub order: Order,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    /// When the order was placed (required in the model; read leniently, only the seller
    /// report's order counts use it).
    #[serde(default)]
    pub created_time: Option<Timestamp>,
    pub last_updated_time: Timestamp,
    pub sales_channel: SalesChannel,
    pub fulfillment: Option<Fulfillment>,
    pub order_items: Vec<OrderItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesChannel {
    pub marketplace_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfillment {
    pub fulfillment_status: String,
    pub fulfilled_by: Option<String>,
    pub ship_by_window: Option<DateTimeRange>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeRange {
    pub latest_date_time: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub order_item_id: String,
    pub quantity_ordered: u32,
    pub product: Product,
    pub cancellation: Option<Cancellation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub seller_sku: Option<String>,
    pub title: Option<String>,
    pub price: Option<ItemPrice>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPrice {
    pub unit_price: Option<Money>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: String,
    pub currency_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    pub cancellation_request: Option<CancellationRequest>,
    pub cancellation_execution: Option<CancellationExecution>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationRequest {
    pub requester: Option<String>,
    pub cancel_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationExecution {
    pub cancelled_by: Option<String>,
}

impl Order {
    /// Maps to the domain view; `Err` names what is missing or unknown. `marketplace` is the
    /// one kenzen asked about, for an order whose sales channel names none (the model allows it).
    pub fn into_view(self, marketplace: &str) -> Result<OrderView, String> {
        // Checked where they enter kenzen: ids go into URL paths and the table's keys.
        let order_id = kenzen_core::OrderId::parse(&self.order_id).map_err(|e| e.to_string())?;
        let fulfillment = self
            .fulfillment
            .ok_or_else(|| format!("order {}: no fulfillment data", self.order_id))?;
        let status = OrderStatus::from_api(&fulfillment.fulfillment_status).ok_or_else(|| {
            format!(
                "order {}: unknown fulfillmentStatus {:?}",
                self.order_id, fulfillment.fulfillment_status
            )
        })?;
        let marketplace_id = self
            .sales_channel
            .marketplace_id
            .as_deref()
            .map_or_else(
                || kenzen_core::MarketplaceId::parse(marketplace),
                kenzen_core::MarketplaceId::parse,
            )
            .map_err(|e| format!("order {order_id}: {e}"))?;
        // Amounts in another currency than the marketplace's are left out: kenzen compares prices
        // only with a floor in the same currency, and converts nothing.
        let currency = kenzen_core::marketplace::find(&marketplace_id).map(|m| m.currency.code);
        let lines = self
            .order_items
            .into_iter()
            .map(|item| {
                let sku = item
                    .product
                    .seller_sku
                    .as_deref()
                    .ok_or_else(|| {
                        format!(
                            "order {}: item {} has no sellerSku",
                            self.order_id, item.order_item_id
                        )
                    })
                    .and_then(|s| kenzen_core::Sku::parse(s).map_err(|e| e.to_string()))?;
                let (requested, reason, by) = match item.cancellation {
                    Some(c) => {
                        let req = c.cancellation_request;
                        let requested = req
                            .as_ref()
                            .and_then(|r| r.requester.as_deref())
                            .is_some_and(|r| r == "BUYER");
                        (
                            requested,
                            req.and_then(|r| r.cancel_reason),
                            c.cancellation_execution.and_then(|e| e.cancelled_by),
                        )
                    }
                    None => (false, None, None),
                };
                Ok(OrderLine {
                    order_item_id: item.order_item_id,
                    sku,
                    title: item.product.title.clone().unwrap_or_default(),
                    quantity: item.quantity_ordered,
                    unit_price: item
                        .product
                        .price
                        .and_then(|p| p.unit_price)
                        .filter(|m| {
                            m.currency_code
                                .as_deref()
                                .zip(currency)
                                .is_none_or(|(code, own)| code == own)
                        })
                        .map(|m| m.amount),
                    buyer_cancel_requested: requested,
                    buyer_cancel_reason: reason,
                    cancelled_by: by,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(OrderView {
            order_id,
            marketplace_id,
            status,
            merchant_fulfilled: fulfillment.fulfilled_by.as_deref() == Some("MERCHANT"),
            ship_by: fulfillment.ship_by_window.and_then(|w| w.latest_date_time),
            last_updated: self.last_updated_time,
            purchased: self.created_time,
            lines,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct MessagingActions {
    #[serde(rename = "_links")]
    pub links: MessagingLinks,
}

#[derive(Debug, Deserialize)]
pub struct MessagingLinks {
    pub actions: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub struct Link {
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Attributes {
    pub buyer: Option<BuyerAttributes>,
}

#[derive(Debug, Deserialize)]
pub struct BuyerAttributes {
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFeedDocumentResponse {
    pub feed_document_id: String,
    pub url: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFeedResponse {
    pub feed_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feed {
    pub processing_status: String,
    pub result_feed_document_id: Option<String>,
}

/// `getFeeds`: one page of feeds.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedList {
    pub feeds: Vec<FeedListed>,
    /// Present when more feeds match than the page holds.
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedListed {
    pub feed_id: String,
    pub feed_type: String,
    pub created_time: Timestamp,
    pub processing_status: String,
}

/// `getListingsItem` with `includedData=summaries`: what kenzen needs of it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListingsItem {
    #[serde(default)]
    pub summaries: Vec<ListingSummary>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListingSummary {
    pub marketplace_id: String,
    pub product_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedDocument {
    pub url: String,
    pub compression_algorithm: Option<String>,
}

/// `createReport`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportResponse {
    pub report_id: String,
}

/// `getReport`'s answer (the model's `Report`), what kenzen reads of it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub report_id: String,
    pub report_type: String,
    /// IN_QUEUE, IN_PROGRESS, DONE, CANCELLED or FATAL (read as text: an unknown one is
    /// reported by the caller with the report's id).
    pub processing_status: String,
    pub report_document_id: Option<String>,
}

/// `getReportDocument`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDocument {
    pub url: String,
    pub compression_algorithm: Option<String>,
}

/// The error body of any SP-API operation: `{"errors": [{code, message}]}`.
#[derive(Debug, Deserialize)]
pub struct ErrorList {
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(marketplace: Option<&str>, currency: Option<&str>) -> Order {
        let mut price = serde_json::json!({"amount": "12.00"});
        if let Some(c) = currency {
            price["currencyCode"] = c.into();
        }
        let mut channel = serde_json::json!({"channelName": "AMAZON"});
        if let Some(m) = marketplace {
            channel["marketplaceId"] = m.into();
        }
        serde_json::from_value(serde_json::json!({
            "orderId": "302-1234567-1234567",
            "lastUpdatedTime": "2026-12-01T10:00:00Z",
            "salesChannel": channel,
            "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
            "orderItems": [{
                "orderItemId": "1", "quantityOrdered": 1,
                "product": {"sellerSku": "MUG", "price": {"unitPrice": price}}
            }]
        }))
        .unwrap()
    }

    #[test]
    fn an_order_keeps_its_own_marketplace_and_a_price_only_in_that_marketplaces_currency() {
        let (de, uk) = ("A1PA6795UKMFR9", "A1F83G8C2ARO7P");
        let v = order(Some(de), Some("EUR")).into_view(uk).unwrap();
        assert_eq!(
            v.marketplace_id.as_str(),
            de,
            "the sales channel's, not the default"
        );
        assert_eq!(v.lines[0].unit_price.as_deref(), Some("12.00"));
        let v = order(Some(de), Some("GBP")).into_view(de).unwrap();
        assert_eq!(v.lines[0].unit_price, None, "a price in GBP on amazon.de");
        let v = order(Some(uk), None).into_view(de).unwrap();
        assert_eq!(v.lines[0].unit_price.as_deref(), Some("12.00"));
        let v = order(None, Some("GBP")).into_view(uk).unwrap();
        assert_eq!(
            v.marketplace_id.as_str(),
            uk,
            "none named: the one asked about"
        );
        assert_eq!(v.lines[0].unit_price.as_deref(), Some("12.00"));
    }
}
