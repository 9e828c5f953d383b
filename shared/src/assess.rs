//! The new-order check: can this order be filled, and if not, why.
//!
//! Pure: the caller passes the order and the stock levels it read. It must not open a case for an
//! order kenzen has no say over (Amazon-fulfilled, already shipped or cancelled, not yet payable).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::{OpenReason, ProfitFloor};
use crate::ids::{Money, Sku};
use crate::order::{OrderStatus, OrderView};

/// What the seller's stock table says about one SKU. Every field is optional: a SKU with no
/// quantity is not stock-checked, one with no cost is not profit-checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuInfo {
    pub on_hand: Option<u32>,
    /// Cost per unit, a decimal amount in the marketplace currency (as the table holds it).
    pub unit_cost: Option<String>,
    /// Shipping cost per unit, a decimal amount in the marketplace currency.
    pub shipping_cost: Option<String>,
    /// The listing's product type as Amazon holds it (cached by kenzen from `getListingsItem`
    /// the first time it changes the listing's quantity).
    #[serde(default)]
    pub product_type: Option<String>,
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
///
/// The floor and the stock table's costs are in one currency (the stack's first marketplace's);
/// an order is profit-checked only when its marketplace sells in that currency. kenzen converts
/// nothing: in a stack serving DE, FR and UK with a floor in EUR, UK orders (GBP) are checked
/// for stock only.
pub fn assess(
    order: &OrderView,
    stock: &BTreeMap<Sku, SkuInfo>,
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
    let mut wanted: BTreeMap<&Sku, u32> = BTreeMap::new();
    for line in &order.lines {
        *wanted.entry(&line.sku).or_default() += line.quantity;
    }
    for (sku, ordered) in wanted {
        if let Some(on_hand) = stock.get(sku).and_then(|s| s.on_hand)
            && on_hand < ordered
        {
            return Assessment::Unfillable(OpenReason::StockShort {
                sku: (*sku).clone(),
                on_hand,
                ordered,
            });
        }
    }
    let priced_alike = |floor: &&ProfitFloor| {
        crate::marketplace::find(&order.marketplace_id)
            .is_some_and(|m| m.currency == floor.minimum.currency)
    };
    if let Some(floor) = floor.filter(priced_alike) {
        let currency = floor.minimum.currency;
        let money = |s: Option<&str>| s.and_then(|s| Money::parse(s, currency).ok());
        for line in &order.lines {
            let info = stock.get(&line.sku).cloned().unwrap_or_default();
            let price = money(line.unit_price.as_deref());
            let cost = money(info.unit_cost.as_deref());
            if let (Some(price), Some(cost)) = (price, cost) {
                let shipping =
                    money(info.shipping_cost.as_deref()).unwrap_or(Money::new(0, currency));
                let profit = price
                    .saturating_sub(cost)
                    .saturating_sub(price.percent_bp(floor.fee_bp))
                    .saturating_sub(shipping);
                if profit < floor.minimum {
                    return Assessment::Unfillable(OpenReason::BelowProfitFloor {
                        sku: line.sku.clone(),
                        profit: profit.to_string(),
                        minimum: floor.minimum.to_string(),
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
            order_id: "503-0000000-0000001".parse().unwrap(),
            marketplace_id: "A1VC38T7YXB528".parse().unwrap(),
            status,
            merchant_fulfilled: mfn,
            ship_by: Some("2026-12-03T14:59:59Z".parse().unwrap()),
            last_updated: "2026-12-01T00:00:00Z".parse().unwrap(),
            purchased: None,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, q))| OrderLine {
                    order_item_id: format!("item-{i}"),
                    sku: sku.parse().unwrap(),
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

    fn stock(levels: &[(&str, u32)]) -> BTreeMap<Sku, SkuInfo> {
        levels
            .iter()
            .map(|(s, n)| {
                (
                    s.parse().unwrap(),
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
                sku: "CUP-1".parse().unwrap(),
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
            "CUP-1".parse().unwrap(),
            SkuInfo {
                on_hand: Some(5),
                unit_cost: Some("700".into()),
                shipping_cost: Some("150".into()),
                product_type: None,
            },
        );
        let o = order(OrderStatus::Unshipped, true, &[("CUP-1", 1)]);
        let yen = crate::marketplace::find("A1VC38T7YXB528").unwrap().currency;
        let floor = |minimum| ProfitFloor {
            fee_bp: 1000,
            minimum: Money::new(minimum, yen),
        };
        assert!(matches!(
            assess(&o, &s, Some(&floor(100))),
            Assessment::Unfillable(OpenReason::BelowProfitFloor { ref profit, .. }) if profit == "50"
        ));
        assert_eq!(assess(&o, &s, Some(&floor(50))), Assessment::Fillable);
        assert_eq!(assess(&o, &s, None), Assessment::Fillable);
    }

    #[test]
    fn the_profit_floor_applies_only_to_orders_priced_in_its_currency() {
        // Cost 7.00 EUR, price 10.00, fees 10%, shipping 1.50: profit 0.50 per unit.
        let mut s = stock(&[]);
        s.insert(
            "MUG".parse().unwrap(),
            SkuInfo {
                on_hand: Some(5),
                unit_cost: Some("7.00".into()),
                shipping_cost: Some("1.50".into()),
                product_type: None,
            },
        );
        let mut o = order(OrderStatus::Unshipped, true, &[("MUG", 1)]);
        o.lines[0].unit_price = Some("10.00".into());
        let euro = crate::marketplace::find("A1PA6795UKMFR9").unwrap().currency;
        let floor = ProfitFloor {
            fee_bp: 1000,
            minimum: Money::new(100, euro),
        };
        for (marketplace, checked) in [
            ("A1PA6795UKMFR9", true),  // DE, EUR
            ("A13V1IB3VIYZZH", true),  // FR, EUR
            ("A1F83G8C2ARO7P", false), // UK, GBP: not compared with a floor in EUR
            ("A1VC38T7YXB528", false), // JP, JPY
            ("UNKNOWN12", false),      // a marketplace kenzen does not know
        ] {
            o.marketplace_id = marketplace.parse().unwrap();
            let got = assess(&o, &s, Some(&floor));
            assert_eq!(
                matches!(
                    got,
                    Assessment::Unfillable(OpenReason::BelowProfitFloor { .. })
                ),
                checked,
                "{marketplace}: {got:?}"
            );
            if !checked {
                assert_eq!(got, Assessment::Fillable, "{marketplace}");
            }
        }
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
