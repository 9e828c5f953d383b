//! The new-order check: can this order be filled, and if not, why.
//!
//! Pure: the caller passes the order and the stock levels it read. It must not open a case for an
//! order kenzen has no say over (Amazon-fulfilled, already shipped or cancelled, not yet payable).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::OpenReason;
use crate::order::{OrderStatus, OrderView};

/// The seller's on-hand quantity for one SKU, as kept in the stock table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub on_hand: u32,
}

/// The verdict of the new-order check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// kenzen leaves the order alone; the text says why (for the log).
    NotApplicable(&'static str),
    /// The order can be filled.
    Fillable,
    /// The order cannot be filled: open a case.
    Unfillable(OpenReason),
}

/// Decides whether `order` can be filled from `stock` (SKU → level). A SKU missing from the
/// stock table is not managed by kenzen and counts as fillable.
pub fn assess(order: &OrderView, stock: &BTreeMap<String, StockLevel>) -> Assessment {
    if !order.merchant_fulfilled {
        return Assessment::NotApplicable("fulfilled by Amazon");
    }
    if order.status != OrderStatus::Unshipped {
        return Assessment::NotApplicable("not an unshipped order");
    }
    if order.ship_by.is_none() {
        return Assessment::NotApplicable("order has no ship-by deadline");
    }
    let mut wanted: BTreeMap<&str, u32> = BTreeMap::new();
    for line in &order.lines {
        *wanted.entry(line.sku.as_str()).or_default() += line.quantity;
    }
    for (sku, ordered) in wanted {
        if let Some(level) = stock.get(sku)
            && level.on_hand < ordered
        {
            return Assessment::Unfillable(OpenReason::StockShort {
                sku: sku.to_string(),
                on_hand: level.on_hand,
                ordered,
            });
        }
    }
    Assessment::Fillable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::OrderLine;

    fn order(status: OrderStatus, mfn: bool, lines: &[(&str, u32)]) -> OrderView {
        OrderView {
            order_id: "503-0000000-0000001".into(),
            marketplace_id: "A1VC38T7YXB528".into(),
            status,
            merchant_fulfilled: mfn,
            ship_by: Some("2026-12-03T14:59:59Z".parse().unwrap()),
            last_updated: "2026-12-01T00:00:00Z".parse().unwrap(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, q))| OrderLine {
                    order_item_id: format!("item-{i}"),
                    sku: sku.to_string(),
                    title: "Tea cup".into(),
                    quantity: *q,
                    buyer_cancel_requested: false,
                    buyer_cancel_reason: None,
                    cancelled_by: None,
                })
                .collect(),
        }
    }

    fn stock(levels: &[(&str, u32)]) -> BTreeMap<String, StockLevel> {
        levels
            .iter()
            .map(|(s, n)| (s.to_string(), StockLevel { on_hand: *n }))
            .collect()
    }

    #[test]
    fn an_unshipped_order_for_more_than_is_on_hand_is_unfillable() {
        let got = assess(
            &order(OrderStatus::Unshipped, true, &[("CUP-1", 2)]),
            &stock(&[("CUP-1", 1)]),
        );
        assert_eq!(
            got,
            Assessment::Unfillable(OpenReason::StockShort {
                sku: "CUP-1".into(),
                on_hand: 1,
                ordered: 2
            })
        );
    }

    #[test]
    fn quantities_of_the_same_sku_on_several_lines_add_up() {
        let got = assess(
            &order(OrderStatus::Unshipped, true, &[("CUP-1", 1), ("CUP-1", 1)]),
            &stock(&[("CUP-1", 1)]),
        );
        assert!(matches!(got, Assessment::Unfillable(_)));
    }

    #[test]
    fn enough_stock_is_fillable_and_unknown_skus_are_left_alone() {
        let s = stock(&[("CUP-1", 2)]);
        assert_eq!(
            assess(&order(OrderStatus::Unshipped, true, &[("CUP-1", 2)]), &s),
            Assessment::Fillable
        );
        assert_eq!(
            assess(&order(OrderStatus::Unshipped, true, &[("OTHER", 9)]), &s),
            Assessment::Fillable
        );
    }

    #[test]
    fn amazon_fulfilled_shipped_or_pending_orders_are_not_checked() {
        let s = stock(&[("CUP-1", 0)]);
        for (status, mfn) in [
            (OrderStatus::Unshipped, false),
            (OrderStatus::Shipped, true),
            (OrderStatus::Pending, true),
            (OrderStatus::Cancelled, true),
        ] {
            assert!(matches!(
                assess(&order(status, mfn, &[("CUP-1", 1)]), &s),
                Assessment::NotApplicable(_)
            ));
        }
    }
}
