//! The new-order check: can this order be filled, and if not, why.
//!
//! Pure: the caller passes the order and the stock levels it read. It must not open a case for an
//! order kenzen has no say over (Amazon-fulfilled, already shipped or cancelled, not yet payable).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::{OpenReason, ProfitFloor};
use crate::order::{OrderStatus, OrderView};

/// What the seller's stock table says about one SKU. Every field is optional: a SKU with no
/// quantity is not stock-checked, one with no cost is not profit-checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SkuInfo {
    pub on_hand: Option<u32>,
    /// Cost per unit, in the marketplace currency.
    pub unit_cost: Option<f64>,
    /// Shipping cost per unit, in the marketplace currency.
    pub shipping_cost: Option<f64>,
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

/// Decides whether `order` can be filled from `stock` (SKU → info) at a profit of at least the
/// `floor`. A SKU missing from the stock table is not managed by kenzen and counts as fillable.
pub fn assess(
    order: &OrderView,
    stock: &BTreeMap<String, SkuInfo>,
    floor: Option<&ProfitFloor>,
) -> Assessment {
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
        if let Some(on_hand) = stock.get(sku).and_then(|s| s.on_hand)
            && on_hand < ordered
        {
            return Assessment::Unfillable(OpenReason::StockShort {
                sku: sku.to_string(),
                on_hand,
                ordered,
            });
        }
    }
    if let Some(floor) = floor {
        for line in &order.lines {
            let info = stock.get(&line.sku).copied().unwrap_or_default();
            let price = line
                .unit_price
                .as_deref()
                .and_then(|p| p.trim().parse::<f64>().ok());
            if let (Some(price), Some(cost)) = (price, info.unit_cost) {
                let profit = price
                    - cost
                    - price * floor.fee_percent / 100.0
                    - info.shipping_cost.unwrap_or(0.0);
                if profit < floor.minimum {
                    return Assessment::Unfillable(OpenReason::BelowProfitFloor {
                        sku: line.sku.clone(),
                        profit: format!("{profit:.2}"),
                        minimum: format!("{:.2}", floor.minimum),
                    });
                }
            }
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
                    unit_price: Some("1000".into()),
                    buyer_cancel_requested: false,
                    buyer_cancel_reason: None,
                    cancelled_by: None,
                })
                .collect(),
        }
    }

    fn stock(levels: &[(&str, u32)]) -> BTreeMap<String, SkuInfo> {
        levels
            .iter()
            .map(|(s, n)| {
                (
                    s.to_string(),
                    SkuInfo {
                        on_hand: Some(*n),
                        ..SkuInfo::default()
                    },
                )
            })
            .collect()
    }

    #[test]
    fn an_unshipped_order_for_more_than_is_on_hand_is_unfillable() {
        let got = assess(
            &order(OrderStatus::Unshipped, true, &[("CUP-1", 2)]),
            &stock(&[("CUP-1", 1)]),
            None,
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
            None,
        );
        assert!(matches!(got, Assessment::Unfillable(_)));
    }

    #[test]
    fn enough_stock_is_fillable_and_unknown_skus_are_left_alone() {
        let s = stock(&[("CUP-1", 2)]);
        assert_eq!(
            assess(
                &order(OrderStatus::Unshipped, true, &[("CUP-1", 2)]),
                &s,
                None
            ),
            Assessment::Fillable
        );
        assert_eq!(
            assess(
                &order(OrderStatus::Unshipped, true, &[("OTHER", 9)]),
                &s,
                None
            ),
            Assessment::Fillable
        );
    }

    #[test]
    fn a_sale_below_the_profit_floor_is_unfillable_and_one_above_it_is_not() {
        // Price 1000, cost 700, fees 10% (100), shipping 150: profit 50.
        let mut s = stock(&[]);
        s.insert(
            "CUP-1".into(),
            SkuInfo {
                on_hand: Some(5),
                unit_cost: Some(700.0),
                shipping_cost: Some(150.0),
            },
        );
        let o = order(OrderStatus::Unshipped, true, &[("CUP-1", 1)]);
        let floor = |minimum| ProfitFloor {
            fee_percent: 10.0,
            minimum,
        };
        assert!(matches!(
            assess(&o, &s, Some(&floor(100.0))),
            Assessment::Unfillable(OpenReason::BelowProfitFloor { ref profit, .. }) if profit == "50.00"
        ));
        assert_eq!(assess(&o, &s, Some(&floor(50.0))), Assessment::Fillable);
        assert_eq!(assess(&o, &s, None), Assessment::Fillable);
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
                assess(&order(status, mfn, &[("CUP-1", 1)]), &s, None),
                Assessment::NotApplicable(_)
            ));
        }
    }
}
