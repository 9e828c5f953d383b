//! Amazon's marketplaces as the simulator knows them: id, store name, currency, local time zone.
//! A seller sells in its home marketplace (`SimConfig::marketplace_id`) and in the others the
//! configuration names, all of one account in one region (e.g. the EU unified account).
//! It must not hold anything about kenzen: only what Amazon's marketplaces are.

use crate::SimConfig;

/// (marketplace id, store name as `salesChannel.marketplaceName` gives it, currency, time zone).
const MARKETPLACES: &[(&str, &str, &str, &str)] = &[
    ("A1VC38T7YXB528", "Amazon.co.jp", "JPY", "Asia/Tokyo"),
    ("A39IBJ37TRP1C6", "Amazon.com.au", "AUD", "Australia/Sydney"),
    ("A19VAU5U5O7RUS", "Amazon.sg", "SGD", "Asia/Singapore"),
    ("ATVPDKIKX0DER", "Amazon.com", "USD", "America/Los_Angeles"),
    ("A2EUQ1WTGCTBG2", "Amazon.ca", "CAD", "America/Toronto"),
    (
        "A1AM78C64UM0Y8",
        "Amazon.com.mx",
        "MXN",
        "America/Mexico_City",
    ),
    (
        "A2Q3Y263D00KWC",
        "Amazon.com.br",
        "BRL",
        "America/Sao_Paulo",
    ),
    ("A1F83G8C2ARO7P", "Amazon.co.uk", "GBP", "Europe/London"),
    ("A1PA6795UKMFR9", "Amazon.de", "EUR", "Europe/Berlin"),
    ("A13V1IB3VIYZZH", "Amazon.fr", "EUR", "Europe/Paris"),
    ("APJ6JRA9NG5V4", "Amazon.it", "EUR", "Europe/Rome"),
    ("A1RKKUPIHCS9HS", "Amazon.es", "EUR", "Europe/Madrid"),
    ("A1805IZSGTT6HS", "Amazon.nl", "EUR", "Europe/Amsterdam"),
    ("A2NODRKZP88ZB9", "Amazon.se", "SEK", "Europe/Stockholm"),
    ("A1C3SOZRARQ6R3", "Amazon.pl", "PLN", "Europe/Warsaw"),
    ("AMEN7PMS3EDWL", "Amazon.com.be", "EUR", "Europe/Brussels"),
    ("A33AVAJ2PDY3EV", "Amazon.com.tr", "TRY", "Europe/Istanbul"),
];

fn row(id: &str) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
    MARKETPLACES.iter().find(|m| m.0 == id)
}

/// The store name of marketplace `id` (`Amazon` for one the simulator does not list).
pub(crate) fn name(id: &str) -> &'static str {
    row(id).map_or("Amazon", |m| m.1)
}

/// The currency prices in marketplace `id` are given in.
pub(crate) fn currency(id: &str) -> &'static str {
    row(id).map_or("USD", |m| m.2)
}

impl SimConfig {
    /// True when the seller sells in marketplace `id`.
    pub fn sells_in(&self, id: &str) -> bool {
        id == self.marketplace_id || self.other_marketplaces.iter().any(|m| m == id)
    }

    /// The local time zone of marketplace `id` (the configured one for the home marketplace).
    pub(crate) fn time_zone_of(&self, id: &str) -> &str {
        if id == self.marketplace_id {
            &self.time_zone
        } else {
            row(id).map_or("UTC", |m| m.3)
        }
    }
}
