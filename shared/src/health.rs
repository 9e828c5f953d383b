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

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::MarketplaceId;
use crate::strategy::Strategy;

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

/// `52 h`, or `40 min` under an hour.
fn span(d: SignedDuration) -> String {
    if d.as_hours().abs() >= 1 {
        format!("{} h", d.as_hours())
    } else {
        format!("{} min", d.as_mins())
    }
}

/// kenzen's estimate of the 7-day pre-fulfilment cancel rate once the cancel about to be made
/// is in: Amazon's last figure plus what kenzen counted since Amazon's window ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// Amazon's `cancellationCount` plus kenzen's counted cancels since (this one included).
    pub cancels: u64,
    /// Amazon's `orderCount` plus the orders seen since; raised to `cancels` when the counts
    /// say fewer (every cancelled order is an order).
    pub orders: u64,
    /// `cancels / orders`, in 0..=1; 0 when both are 0.
    pub rate: f64,
    /// Amazon's target, when it is one the rate must stay below ([`RateFigure::ceiling_target`]).
    #[serde(default)]
    pub target: Option<f64>,
    /// `target - rate`: how far under Amazon's target the projection stays (negative when
    /// over); `None` without a target.
    #[serde(default)]
    pub headroom: Option<f64>,
}

/// Projects the cancel rate for `health`'s marketplace after one more seller cancel.
///
/// - `counted_since`: the seller-side cancels (everything but a cancel the buyer requested
///   through Amazon's own flow) kenzen made or saw in this marketplace after
///   `health.cancel.window_to`, **including the cancel about to be made**.
/// - `orders_since`: the seller-fulfilled orders this marketplace received after
///   `health.cancel.window_to`, including the order being cancelled when it arrived after then
///   (one that arrived before is already in Amazon's `orderCount`).
///
/// Projected rate = (Amazon's cancels + `counted_since`) / (Amazon's orders + `orders_since`),
/// from the counts, not from Amazon's `rate`. The denominator is never below the cancels, and
/// with no orders and no cancels the rate is 0: no division by zero, never above 100%. Sums
/// saturate at `u64::MAX`.
///
/// This is an approximation, on purpose on the simple side:
/// - Amazon's window slides: its 7 days end at `window_to` (about a day before the report is
///   made), and by the time of the cancel the oldest day or two of it have dropped out of the
///   real window. The projection keeps them, so it covers the 7 days plus the time since: it
///   averages over a little more than 7 days. The cancels that dropped out are still counted,
///   which errs on the high side when cancels cluster early in the window, and on the low side
///   when orders did.
/// - Amazon's figure lags about a day, and Amazon may attribute a cancel to the order's day
///   rather than the cancel's. kenzen's counts since `window_to` fill the lag; they are only as
///   complete as the caller's counting (a cancel made in Seller Central by hand is missed
///   unless the caller sees it on the order).
pub fn project(health: &MarketplaceHealth, counted_since: u64, orders_since: u64) -> Projection {
    let cancels = health.cancel.count.saturating_add(counted_since);
    let orders = health
        .cancel
        .orders
        .saturating_add(orders_since)
        .max(cancels);
    let rate = if orders == 0 {
        0.0
    } else {
        cancels as f64 / orders as f64
    };
    let target = health.cancel.ceiling_target();
    Projection {
        cancels,
        orders,
        rate,
        target,
        headroom: target.map(|t| t - rate),
    }
}

/// The `auto` strategy's settings: when the account-health figures allow Amazon's guideline
/// (cancel-first), and what to do when they cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AutoSettings {
    /// kenzen's own limit for the projected 7-day cancel rate, as a fraction: cancel-first
    /// only while the rate after this cancel is at or below it. Default 1.5%, a margin under
    /// Amazon's 2.5% target for the days the figure lags.
    #[serde(default = "default_ceiling")]
    pub ceiling: f64,
    /// Figures fetched longer ago than this are stale. Default 36 hours: Amazon refreshes the
    /// report about daily, so this lets one daily refresh fail without losing the figures, not
    /// two. Measured from [`MarketplaceHealth::fetched_at`], not from Amazon's window end (which
    /// always lags about a day; kenzen's own counts since then cover that).
    #[serde(default = "default_max_age")]
    pub max_age: SignedDuration,
    /// The strategy when the figures cannot decide (none, stale, unusable, no orders, or a bad
    /// ceiling). There is no default: the seller chooses, as for the strategy itself.
    pub fallback: Strategy,
}

fn default_ceiling() -> f64 {
    AutoSettings::DEFAULT_CEILING
}

fn default_max_age() -> SignedDuration {
    AutoSettings::DEFAULT_MAX_AGE
}

impl AutoSettings {
    /// 1.5%.
    pub const DEFAULT_CEILING: f64 = 0.015;
    /// 36 hours.
    pub const DEFAULT_MAX_AGE: SignedDuration = SignedDuration::from_hours(36);

    /// The defaults, with the seller's `fallback`.
    pub fn new(fallback: Strategy) -> Self {
        Self {
            ceiling: Self::DEFAULT_CEILING,
            max_age: Self::DEFAULT_MAX_AGE,
            fallback,
        }
    }

    /// Checks the settings make sense; the error says what to fix. [`choose`] does not rely on
    /// it: with a bad ceiling it takes the fallback and says so.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.ceiling.is_finite() && self.ceiling > 0.0 && self.ceiling < 1.0) {
            return Err(format!(
                "the auto ceiling {} is not a rate between 0 and 1 (0.015 is 1.5%)",
                self.ceiling
            ));
        }
        if self.max_age <= SignedDuration::ZERO {
            return Err("the auto maximum age of the figures must be positive".into());
        }
        Ok(())
    }
}

/// Why [`choose`] chose what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoReason {
    /// The projected rate after this cancel stays within the ceiling (and under Amazon's
    /// target): cancel-first.
    Headroom,
    /// The projected rate would exceed the ceiling, or reach Amazon's target: ask-buyer.
    NoHeadroom,
    /// No figures for the marketplace yet: the fallback.
    NoFigures,
    /// The figures are older than the maximum age: the fallback.
    StaleFigures,
    /// The figures do not pass [`RateFigure::check`] (NaN or out-of-range rate, more cancels
    /// than orders, a window that ends before it starts), or were fetched after `now`: the
    /// fallback.
    UnusableFigures,
    /// No orders in Amazon's window and none since: no rate to speak of; the fallback.
    NoOrders,
    /// The ceiling is not a rate between 0 and 1: the fallback.
    BadCeiling,
}

impl AutoReason {
    /// True when the figures decided (not the fallback).
    pub fn decided_by_figures(self) -> bool {
        matches!(self, Self::Headroom | Self::NoHeadroom)
    }
}

/// The `auto` strategy's choice for one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoChoice {
    /// The concrete strategy to run the case with.
    pub strategy: Strategy,
    pub reason: AutoReason,
    /// The projection, whenever the figures were fresh and usable.
    #[serde(default)]
    pub projection: Option<Projection>,
    /// One line for the seller, starting with the strategy (`ask-buyer (fallback): …` when the
    /// fallback was taken) and giving the numbers.
    pub explanation: String,
}

/// Reports fetched more than this after `now` are taken to be wrong, not fresh.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Chooses the strategy for one unfillable order in `health`'s marketplace at `now`, with
/// `counted_since` and `orders_since` as for [`project`].
///
/// In order:
/// 1. no figures → the fallback ([`AutoReason::NoFigures`]);
/// 2. fetched more than `max_age` before `now` → the fallback ([`AutoReason::StaleFigures`]);
///    exactly `max_age` old is still fresh;
/// 3. the cancel figure fails [`RateFigure::check`], or was fetched more than 5 minutes after
///    `now` → the fallback ([`AutoReason::UnusableFigures`]);
/// 4. no orders in Amazon's window nor since → the fallback ([`AutoReason::NoOrders`]);
/// 5. a ceiling that is not a finite fraction → the fallback ([`AutoReason::BadCeiling`]);
/// 6. projected rate ≤ ceiling, and below Amazon's target when it gives one → cancel-first
///    ([`AutoReason::Headroom`]); otherwise ask-buyer ([`AutoReason::NoHeadroom`]).
///
/// At the ceiling counts as within it: the ceiling is the highest rate the seller accepts, and
/// it sits below Amazon's target, which the rate must stay strictly below (`LESS_THAN`).
/// From step 4 on, the explanation gives the projected rate. Never panics.
pub fn choose(
    auto: &AutoSettings,
    health: Option<&MarketplaceHealth>,
    now: Timestamp,
    counted_since: u64,
    orders_since: u64,
) -> AutoChoice {
    let fallback = |reason, why: String, projection| AutoChoice {
        strategy: auto.fallback,
        reason,
        projection,
        explanation: format!("{} (fallback): {why}", auto.fallback.as_setting()),
    };
    let Some(h) = health else {
        return fallback(
            AutoReason::NoFigures,
            "no account-health figures yet for this marketplace".into(),
            None,
        );
    };
    let age = now.duration_since(h.fetched_at);
    if age > auto.max_age {
        return fallback(
            AutoReason::StaleFigures,
            format!(
                "the account-health figures are stale: last figures from {}, {} old (kept for {})",
                utc(h.fetched_at),
                span(age),
                span(auto.max_age)
            ),
            None,
        );
    }
    if let Err(why) = h.cancel.check() {
        return fallback(
            AutoReason::UnusableFigures,
            format!(
                "Amazon's cancel-rate figures for {} are unusable: {why}",
                h.marketplace_id
            ),
            None,
        );
    }
    if age < -CLOCK_SKEW {
        return fallback(
            AutoReason::UnusableFigures,
            format!(
                "the account-health figures for {} are unusable: fetched at {}, after now ({})",
                h.marketplace_id,
                utc(h.fetched_at),
                utc(now)
            ),
            None,
        );
    }
    let p = project(h, counted_since, orders_since);
    let projected = format!(
        "projected 7-day cancel rate after this cancel {} ({} of {} orders)",
        percent(p.rate),
        p.cancels,
        p.orders
    );
    let basis = format!(
        "Amazon counted {} of {} orders to {}, kenzen {} cancel(s) and {} order(s) since",
        h.cancel.count,
        h.cancel.orders,
        utc(h.cancel.window_to),
        counted_since,
        orders_since
    );
    if h.cancel.orders.saturating_add(orders_since) == 0 {
        return fallback(
            AutoReason::NoOrders,
            format!("no orders in Amazon's window or since, so no rate to judge by ({projected})"),
            Some(p),
        );
    }
    if !is_fraction(auto.ceiling) {
        return fallback(
            AutoReason::BadCeiling,
            format!(
                "the auto ceiling {} is not a rate between 0 and 1 ({projected}; {basis})",
                auto.ceiling
            ),
            Some(p),
        );
    }
    let ceiling = percent(auto.ceiling);
    let target = p.target.map_or_else(
        || "Amazon gives no target".to_string(),
        |t| format!("Amazon's target {}", percent(t)),
    );
    let (strategy, reason, verdict) = if p.rate > auto.ceiling {
        (
            Strategy::AskBuyer,
            AutoReason::NoHeadroom,
            format!("would exceed the ceiling {ceiling} ({target})"),
        )
    } else if p.target.is_some_and(|t| p.rate >= t) {
        (
            Strategy::AskBuyer,
            AutoReason::NoHeadroom,
            format!("is within the ceiling {ceiling} but would not stay under {target}"),
        )
    } else {
        (
            Strategy::CancelFirst,
            AutoReason::Headroom,
            format!("stays within the ceiling {ceiling} ({target})"),
        )
    };
    AutoChoice {
        strategy,
        reason,
        projection: Some(p),
        explanation: format!("{}: {projected} {verdict}; {basis}", strategy.as_setting()),
    }
}

#[cfg(test)]
mod tests;
