//! Account health: Amazon's own figures for the two rates kenzen exists to protect (the
//! pre-fulfilment cancel rate and the late shipment rate), read from the seller performance
//! report, and the `auto` strategy decision built on them.
//!
//! Three pure steps. [`parse_report`] reads the report document into one [`MarketplaceHealth`]
//! per marketplace. [`project`] adds kenzen's own counts since Amazon's window ended to Amazon's
//! last figure. [`choose`] picks ask-buyer or cancel-first for one order from that projection.
//! Nothing here requests the report, reads the clock or counts cancels: the caller passes the
//! bytes, the time and the counts. Nothing here chooses silently either: every [`AutoChoice`]
//! carries a reason and an explanation with the numbers.
//!
//! The document: report type `GET_V2_SELLER_PERFORMANCE_REPORT` (Reports API 2021-06-30), JSON
//! described by Amazon's `accountHealthReport-2020-11-18.json`. Per marketplace,
//! `performanceMetrics[]` holds `marketplaceId`, `preFulfillmentCancellationRate`
//! `{reportingDateRange {reportingDateFrom, reportingDateTo}, orderCount, cancellationCount,
//! status, rate, targetValue, targetCondition}` and `lateShipmentRate` (the same with
//! `lateShipmentCount`). The schema's own examples spell the cancel metric
//! `prefulfillmentCancelRate`; the schema's properties and `required` list spell it
//! `preFulfillmentCancellationRate`. Both are read. The schema calls `Rate` a "percentage", but
//! its examples are fractions (27896 late of 870669 orders is given as `0.0320397`): rates are
//! read as fractions, and one outside 0..=1 makes the figure unusable.
//!
//! SP-API role: requesting this report needs the **Selling Partner Insights** role. Source:
//! Amazon's Report Type Values, Performance Reports page
//! (<https://developer-docs.amazon.com/sp-api/docs/report-type-values-performance>): "Seller
//! Performance Report, reportType Value: GET_V2_SELLER_PERFORMANCE_REPORT, Role: Selling Partner
//! Insights, Availability: Sellers, Requested/scheduled: This report can only be requested."
//! (An older version of that page said only "For all sellers" and named no role.) "Performance"
//! is the Seller Central permission section for people and for authorised partners, not an
//! SP-API role. The report can only be requested (`createReport`), not scheduled.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::MarketplaceId;

/// Amazon's verdict on a metric (`status`: GOOD, BAD or NONE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricStatus {
    /// `GOOD`: within target.
    Good,
    /// `BAD`: outside target.
    Bad,
    /// `NONE`: Amazon gives no verdict (too few orders, for example).
    NotRated,
    /// A value the schema does not list.
    Other,
}

/// How a metric's target is to be read (`targetCondition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetCondition {
    /// `LESS_THAN`: the rate must stay below the target (both rates kenzen reads).
    LessThan,
    /// `GREATER_THAN`.
    GreaterThan,
    /// `EQUALS`.
    Equals,
    /// A value the schema does not list.
    Other,
}

/// One of Amazon's rate metrics for one marketplace over its reporting window: `count` of
/// `orders` (cancellations for the cancel rate, late shipments for the late shipment rate).
///
/// What [`parse_report`] returns always passes [`RateFigure::check`]: `count <= orders`, `rate`
/// (and `target`, when there is one) finite in 0..=1, `window_from <= window_to`. A figure read
/// back from storage or built by hand is checked again by [`choose`] before it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateFigure {
    /// `orderCount`: orders in the window.
    pub orders: u64,
    /// `cancellationCount` or `lateShipmentCount`.
    pub count: u64,
    /// Amazon's rate as a fraction (0.025 is 2.5%). Kept as Amazon gave it; the projection
    /// works from the counts.
    pub rate: f64,
    /// `targetValue`, a fraction.
    #[serde(default)]
    pub target: Option<f64>,
    /// `targetCondition`.
    #[serde(default)]
    pub condition: Option<TargetCondition>,
    /// `status`.
    #[serde(default)]
    pub status: Option<MetricStatus>,
    /// `reportingDateFrom`.
    pub window_from: Timestamp,
    /// `reportingDateTo`: Amazon's figure covers orders up to here. Count kenzen's own cancels
    /// and the orders seen *after* this instant for [`project`].
    pub window_to: Timestamp,
}

impl RateFigure {
    /// Checks the figure can be trusted for arithmetic; the error says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !is_fraction(self.rate) {
            return Err(format!(
                "rate {} is not a fraction between 0 and 1",
                self.rate
            ));
        }
        if let Some(t) = self.target
            && !is_fraction(t)
        {
            return Err(format!("target {t} is not a fraction between 0 and 1"));
        }
        if self.count > self.orders {
            return Err(format!(
                "{} counted in only {} orders",
                self.count, self.orders
            ));
        }
        if self.window_from > self.window_to {
            return Err(format!(
                "the reporting window ends ({}) before it starts ({})",
                utc(self.window_to),
                utc(self.window_from)
            ));
        }
        Ok(())
    }

    /// The target the rate must stay below: `targetValue` when it is a fraction and the
    /// condition is `LESS_THAN` or not given; `None` otherwise (a target that must be exceeded
    /// or equalled is not a ceiling for a cancel rate).
    pub fn ceiling_target(&self) -> Option<f64> {
        let below = matches!(self.condition, None | Some(TargetCondition::LessThan));
        self.target.filter(|t| below && is_fraction(*t))
    }
}

/// Amazon's figures for one marketplace, as of one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketplaceHealth {
    pub marketplace_id: MarketplaceId,
    /// The pre-fulfilment cancel rate (7 days).
    pub cancel: RateFigure,
    /// The late shipment rate (10 or 30 days); `None` when the report has none that reads.
    #[serde(default)]
    pub late_shipment: Option<RateFigure>,
    /// When kenzen downloaded the report: the age [`choose`] judges staleness by.
    pub fetched_at: Timestamp,
}

/// What [`parse_report`] read: the marketplaces that read, and one line for each thing left
/// out and why (a whole marketplace, or only its late shipment rate).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedReport {
    pub health: Vec<MarketplaceHealth>,
    pub skipped: Vec<String>,
}

impl ParsedReport {
    /// The figures for `marketplace_id`, when the report had usable ones.
    pub fn for_marketplace(&self, marketplace_id: &str) -> Option<&MarketplaceHealth> {
        self.health
            .iter()
            .find(|h| h.marketplace_id.as_str() == marketplace_id)
    }
}

/// Why a report document could not be read at all. Either way the caller keeps the figures it
/// had (they grow stale, and [`choose`] then says so) and requests the report again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthError {
    /// The bytes are not JSON: a truncated download, an error page, a document still
    /// compressed.
    #[error(
        "the seller performance report is not JSON ({detail}); the last figures stay in use \
         until they are stale: check the download (GZIP?) and request the report again"
    )]
    NotJson { detail: String },
    /// JSON, but not the account-health document.
    #[error(
        "the seller performance report is not the expected document: {detail}; check that the \
         report type is GET_V2_SELLER_PERFORMANCE_REPORT"
    )]
    NotAReport { detail: String },
}

/// The wire shapes: only what kenzen reads; every other field is ignored.
mod wire {
    use serde::Deserialize;
    use serde_json::{Number, Value};

    /// One `performanceMetrics[]` entry. The two metrics stay raw here so that one that does
    /// not read costs only itself.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Entry {
        pub marketplace_id: Option<String>,
        #[serde(alias = "prefulfillmentCancelRate")]
        pub pre_fulfillment_cancellation_rate: Option<Value>,
        pub late_shipment_rate: Option<Value>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Rate {
        pub reporting_date_range: Option<DateRange>,
        pub order_count: Option<Number>,
        pub cancellation_count: Option<Number>,
        pub late_shipment_count: Option<Number>,
        pub status: Option<String>,
        pub rate: Option<f64>,
        pub target_value: Option<f64>,
        pub target_condition: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct DateRange {
        pub reporting_date_from: Option<String>,
        pub reporting_date_to: Option<String>,
    }
}

/// Reads a `GET_V2_SELLER_PERFORMANCE_REPORT` document (already decompressed) downloaded at
/// `fetched_at`.
///
/// Errors only when the document as a whole is unreadable: not JSON, or no
/// `performanceMetrics` array. A marketplace entry with odd data (no cancel metric, a negative
/// count, a rate outside 0..=1, more cancels than orders, an unreadable date, no or a bad
/// marketplace id, a second entry for the same marketplace) is left out with a line in
/// [`ParsedReport::skipped`]; the others still read. A late shipment rate that does not read
/// is dropped the same way, keeping the marketplace's cancel rate. Never panics.
pub fn parse_report(bytes: &[u8], fetched_at: Timestamp) -> Result<ParsedReport, HealthError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: Value = serde_json::from_slice(bytes).map_err(|e| HealthError::NotJson {
        detail: e.to_string(),
    })?;
    let not_a_report = |detail: &str| HealthError::NotAReport {
        detail: detail.into(),
    };
    let metrics = root
        .as_object()
        .ok_or_else(|| not_a_report("the document is not a JSON object"))?
        .get("performanceMetrics")
        .ok_or_else(|| not_a_report("it has no performanceMetrics"))?
        .as_array()
        .ok_or_else(|| not_a_report("performanceMetrics is not an array"))?;
    let mut out = ParsedReport::default();
    for (i, entry) in metrics.iter().enumerate() {
        let label = match entry.get("marketplaceId").and_then(Value::as_str) {
            Some(m) => format!("marketplace {}", m.chars().take(40).collect::<String>()),
            None => format!("performanceMetrics entry {}", i + 1),
        };
        match read_entry(entry, fetched_at) {
            Ok((health, _))
                if out
                    .health
                    .iter()
                    .any(|h| h.marketplace_id == health.marketplace_id) =>
            {
                out.skipped
                    .push(format!("{label}: skipped, a second entry for it"));
            }
            Ok((health, notes)) => {
                out.skipped
                    .extend(notes.into_iter().map(|n| format!("{label}: {n}")));
                out.health.push(health);
            }
            Err(why) => out.skipped.push(format!("{label}: skipped, {why}")),
        }
    }
    Ok(out)
}

/// One entry: its health and notes on what was dropped from it, or why it is unusable.
fn read_entry(
    entry: &Value,
    fetched_at: Timestamp,
) -> Result<(MarketplaceHealth, Vec<String>), String> {
    let wire = wire::Entry::deserialize(entry).map_err(|e| format!("it does not read: {e}"))?;
    let id = wire.marketplace_id.ok_or("it has no marketplaceId")?;
    let marketplace_id = MarketplaceId::parse(&id).map_err(|e| e.to_string())?;
    let cancel = wire
        .pre_fulfillment_cancellation_rate
        .ok_or("it has no preFulfillmentCancellationRate")?;
    let cancel = read_rate(&cancel, "preFulfillmentCancellationRate", Count::Cancel)?;
    let mut notes = Vec::new();
    let late_shipment = match wire.late_shipment_rate {
        None => None,
        Some(v) => match read_rate(&v, "lateShipmentRate", Count::Late) {
            Ok(f) => Some(f),
            Err(why) => {
                notes.push(format!("lateShipmentRate left out, {why}"));
                None
            }
        },
    };
    Ok((
        MarketplaceHealth {
            marketplace_id,
            cancel,
            late_shipment,
            fetched_at,
        },
        notes,
    ))
}

/// Which count field a metric carries.
#[derive(Clone, Copy)]
enum Count {
    Cancel,
    Late,
}

fn read_rate(v: &Value, what: &str, kind: Count) -> Result<RateFigure, String> {
    let w = wire::Rate::deserialize(v).map_err(|e| format!("{what} does not read: {e}"))?;
    let (count, count_name) = match kind {
        Count::Cancel => (w.cancellation_count, "cancellationCount"),
        Count::Late => (w.late_shipment_count, "lateShipmentCount"),
    };
    let range = w
        .reporting_date_range
        .ok_or_else(|| format!("{what} has no reportingDateRange"))?;
    let when = |s: Option<String>, name: &str| {
        let s = s.ok_or_else(|| format!("{what} has no {name}"))?;
        instant(&s).ok_or_else(|| format!("{what}.{name} {s:?} is not a UTC date and time"))
    };
    let figure = RateFigure {
        orders: whole(w.order_count.as_ref(), what, "orderCount")?,
        count: whole(count.as_ref(), what, count_name)?,
        rate: w.rate.ok_or_else(|| format!("{what} has no rate"))?,
        target: w.target_value,
        condition: w.target_condition.as_deref().map(|c| match c {
            "LESS_THAN" => TargetCondition::LessThan,
            "GREATER_THAN" => TargetCondition::GreaterThan,
            "EQUALS" => TargetCondition::Equals,
            _ => TargetCondition::Other,
        }),
        status: w.status.as_deref().map(|s| match s {
            "GOOD" => MetricStatus::Good,
            "BAD" => MetricStatus::Bad,
            "NONE" => MetricStatus::NotRated,
            _ => MetricStatus::Other,
        }),
        window_from: when(range.reporting_date_from, "reportingDateFrom")?,
        window_to: when(range.reporting_date_to, "reportingDateTo")?,
    };
    figure.check().map_err(|why| format!("{what}: {why}"))?;
    Ok(figure)
}

/// A count: a non-negative whole number (a JSON float with no fraction is accepted).
fn whole(n: Option<&serde_json::Number>, what: &str, name: &str) -> Result<u64, String> {
    let n = n.ok_or_else(|| format!("{what} has no {name}"))?;
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    match n.as_f64() {
        Some(f) if f < 0.0 => Err(format!("{what}.{name} {n} is negative")),
        // Below 2^53 every whole f64 is exact.
        Some(f) if f.fract() == 0.0 && f < 9.0e15 => Ok(f as u64),
        _ => Err(format!("{what}.{name} {n} is not a whole number")),
    }
}

/// A reporting date: `2026-11-24T23:59Z` (Amazon leaves out the seconds), any RFC 3339 instant,
/// or a date and time with no offset, taken as UTC as the schema says.
fn instant(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let civil: jiff::civil::DateTime = s.parse().ok()?;
    civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

fn is_fraction(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

/// `0.84%`: a fraction as a percentage with two decimals.
pub fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

/// `2026-11-25 09:00 UTC`; never fails, whatever the instant.
fn utc(t: Timestamp) -> String {
    let d = TimeZone::UTC.to_datetime(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute()
    )
}

#[cfg(test)]
mod tests;
