//! The stock table as the seller maintains it in bulk (`kenzen stock import`): read what many
//! stock items hold, create new ones, and set the seller's own figures (on hand, costs) on
//! existing ones. It must never touch what kenzen keeps on a stock item for itself: the orders
//! holding units (`reserved`) and the cached listing product type.

use std::collections::BTreeMap;
use std::future::Future;

use kenzen_core::{Sku, SkuInfo};

use super::store::StoreError;

/// The seller's figures for one SKU, as a stock file gives them. `None` costs are left as they
/// are on an existing item (and absent on a new one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockFigures {
    pub sku: Sku,
    pub on_hand: u32,
    /// A non-negative decimal amount in the marketplace currency.
    pub unit_cost: Option<String>,
    /// A non-negative decimal amount in the marketplace currency.
    pub shipping_cost: Option<String>,
}

/// What the stock table holds for the SKUs asked about: readable items, and items that exist
/// but cannot be read as kenzen's data (with why). SKUs in neither have no stock item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockLevels {
    pub found: BTreeMap<Sku, SkuInfo>,
    pub unreadable: BTreeMap<Sku, String>,
}

/// Bulk upkeep of the stock table.
pub trait StockAdmin: Send + Sync {
    /// What the table holds for `skus` (read in batches).
    fn stock_levels(
        &self,
        skus: &[Sku],
    ) -> impl Future<Output = Result<StockLevels, StoreError>> + Send;

    /// Writes stock items for SKUs that have none yet (in batches). An item created by someone
    /// else since it was read is overwritten.
    fn create_stock(
        &self,
        rows: &[StockFigures],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets the seller's figures on existing stock items, one update each, keeping
    /// every other attribute (reservations, product type). An item deleted since it was read is
    /// created with the figures.
    fn set_stock(
        &self,
        rows: &[StockFigures],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Some SKU that has a stock item, if any (for checks that need a real listing).
    fn any_stock_sku(&self) -> impl Future<Output = Result<Option<Sku>, StoreError>> + Send;
}
