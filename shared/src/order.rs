//! What the marketplace shows about an order, in the terms the workflow needs.
//!
//! The SP-API adapter maps Orders API v2026-01-01 responses into [`OrderView`]; the rules never
//! see wire types. Nothing here talks to Amazon.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{MarketplaceId, OrderId, Sku};

/// The order's fulfilment status as the Orders API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    PendingAvailability,
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    Cancelled,
    Unfulfillable,
}

impl OrderStatus {
    /// Parses the Orders API `fulfillmentStatus` value; `None` for a value the model does not list.
    pub fn from_api(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING_AVAILABILITY" => Self::PendingAvailability,
            "PENDING" => Self::Pending,
            "UNSHIPPED" => Self::Unshipped,
            "PARTIALLY_SHIPPED" => Self::PartiallyShipped,
            "SHIPPED" => Self::Shipped,
            "CANCELLED" => Self::Cancelled,
            "UNFULFILLABLE" => Self::Unfulfillable,
            _ => return None,
        })
    }

    /// The Orders API spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            Self::PendingAvailability => "PENDING_AVAILABILITY",
            Self::Pending => "PENDING",
            Self::Unshipped => "UNSHIPPED",
            Self::PartiallyShipped => "PARTIALLY_SHIPPED",
            Self::Shipped => "SHIPPED",
            Self::Cancelled => "CANCELLED",
            Self::Unfulfillable => "UNFULFILLABLE",
        }
    }

    /// Shipped in whole or in part: the seller filled it after all.
    pub fn is_shipped(self) -> bool {
        matches!(self, Self::Shipped | Self::PartiallyShipped)
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub order_item_id: String,
    pub sku: Sku,
    pub title: String,
    pub quantity: u32,
    /// `product.price.unitPrice.amount`, when Amazon gives it.
    pub unit_price: Option<String>,
    /// `cancellation.cancellationRequest.requester == "BUYER"`: the buyer used Amazon's own
    /// request-cancellation flow for this line.
    pub buyer_cancel_requested: bool,
    /// The buyer's stated reason, when Amazon gives one.
    pub buyer_cancel_reason: Option<String>,
    /// `cancellation.cancellationExecution.cancelledBy` (BUYER, MERCHANT, AMAZON).
    pub cancelled_by: Option<String>,
}

/// An order as the marketplace shows it at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub order_id: OrderId,
    pub marketplace_id: MarketplaceId,
    pub status: OrderStatus,
    /// Fulfilled by the merchant (MFN), as opposed to Amazon.
    pub merchant_fulfilled: bool,
    /// `fulfillment.shipByWindow.latestDateTime`.
    pub ship_by: Option<Timestamp>,
    pub last_updated: Timestamp,
    /// When the buyer placed the order (`createdTime`), when Amazon gives it.
    #[serde(default)]
    pub purchased: Option<Timestamp>,
    pub lines: Vec<OrderLine>,
}

impl OrderView {
    /// True when Amazon shows the buyer's official cancellation request on any line.
    pub fn buyer_requested_cancel(&self) -> bool {
        self.lines.iter().any(|l| l.buyer_cancel_requested)
    }

    /// The lines Amazon shows the buyer's official cancellation request for, in order.
    pub fn requested_lines(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| l.buyer_cancel_requested)
            .map(|l| l.order_item_id.clone())
            .collect()
    }

    /// The line `order_item_id`, if the order has it.
    pub fn line(&self, order_item_id: &str) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.order_item_id == order_item_id)
    }

    /// The buyer's stated reason for the request, if any line carries one.
    pub fn buyer_cancel_reason(&self) -> Option<&str> {
        self.lines
            .iter()
            .find_map(|l| l.buyer_cancel_reason.as_deref())
    }

    /// Who executed the cancellation, when the order is cancelled.
    pub fn cancelled_by(&self) -> Option<&str> {
        self.lines.iter().find_map(|l| l.cancelled_by.as_deref())
    }
}
