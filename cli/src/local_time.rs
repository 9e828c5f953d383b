//! Times as the seller reads them: in the marketplace's own time zone. Shared by the commands
//! that print times; it reads nothing and prints nothing.

use jiff::Timestamp;

/// `t` in the time zone of marketplace `marketplace_id`, e.g. `2026-12-03 23:59 JST`.
pub fn local(t: Timestamp, marketplace_id: &str) -> String {
    let zone = kenzen_core::policy::marketplace_time_zone(marketplace_id);
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string()
}
