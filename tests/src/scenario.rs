//! Scenarios: a file a seller (or an engineer) writes to say "these orders, these buyers, these
//! faults — and this is how each case must end", and the runner that plays it through the real
//! handlers on moto_server + the simulator at production cadence.
//!
//! The format is documented in `tests/scenarios/README.md`. After every run the runner checks the
//! never-break rules ([`crate::checks`]) and compares each order's ending with the expected one.
//! It reads scenario files from any path.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use jiff::{SignedDuration, Timestamp};
use kenzen_app::ports::CaseStore;
use kenzen_app::seller_report::SellerReport;
use kenzen_core::{
    CancelPlan, CaseState, CloseReason, LocalTime, Notice, ProfitFloor, SendWindows, Settings,
    SkuInfo, Strategy,
};
use serde::{Deserialize, Serialize};

use crate::checks::{Limits, OrderFacts, check};
use crate::harness::{Notification, World, WorldOptions};
use crate::sim::{
    Action, Buyer, CrashPoint, FaultRate, FaultSide, FeedOutcome, ReportCharset, Role, SimConfig,
    SimItem, SimOrder,
};

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub description: String,
    /// The seller's marketplace, for a stack that serves one (default amazon.co.jp).
    #[serde(default = "default_marketplace")]
    pub marketplace: String,
    /// The marketplaces one stack serves, the first one first (a seller account's marketplaces
    /// in one region, e.g. the EU unified account's); replaces `marketplace` when given.
    #[serde(default)]
    pub marketplaces: Vec<String>,
    /// `ask-buyer`, `cancel-first`, or both (each run separately).
    pub strategies: Vec<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default)]
    pub duplicate_deliveries: bool,
    /// Containers per function (0, the default: one service instance runs every function, one
    /// invocation at a time); see [`crate::harness::WorldOptions::containers`].
    #[serde(default)]
    pub containers: usize,
    /// Invocations of one function that may run at once with containers (default: the
    /// template's reserved concurrency).
    pub concurrency: Option<usize>,
    #[serde(default)]
    pub settings: SettingsFile,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub skus: Vec<SkuFile>,
    pub orders: Vec<OrderFile>,
    /// Stock changes during the run.
    #[serde(default)]
    pub stock: Vec<StockChange>,
    /// Stored cases damaged during the run (as a bad write or a later version would leave them).
    #[serde(default)]
    pub damaged_cases: Vec<DamagedCase>,
    /// Points where the running function dies (once each).
    #[serde(default)]
    pub crashes: Vec<CrashFile>,
    /// Amazon sends an ORDER_CHANGE notification for every order a minute after it is placed
    /// (as a subscribed account gets), through the queue, the pipe and the bus.
    #[serde(default)]
    pub notify_on_placement: bool,
    /// ORDER_CHANGE notifications, each delivered through the same queue → pipe → bus path.
    #[serde(default)]
    pub notifications: Vec<NotificationFile>,
    /// A kenzen defect this scenario shows on purpose, until it is fixed.
    pub known_defect: Option<KnownDefect>,
    /// The account's history before the scenario, as Amazon's seller performance report counts
    /// it (added to what the simulator's own orders give), per marketplace.
    #[serde(default)]
    pub health_baseline: Vec<HealthBaselineFile>,
}

/// A change to the seller's stock table during the run (a restock, a sale elsewhere).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockChange {
    pub sku: String,
    pub on_hand: u32,
    pub at: Timestamp,
}

/// At `at`, the stored case of `order` is damaged: its state becomes one no version knows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DamagedCase {
    pub order: String,
    pub at: Timestamp,
}

/// One ORDER_CHANGE notification.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationFile {
    pub order: String,
    /// `OrderStatusChange` (the default) or `BuyerRequestedChange`.
    #[serde(default = "status_change", rename = "type")]
    pub change_type: String,
    /// When it is delivered: `after` the order was placed, or `at` (one of the two).
    pub after: Option<String>,
    pub at: Option<Timestamp>,
    /// How many times the same notification is delivered (at-least-once delivery).
    #[serde(default = "one")]
    pub repeat: u32,
    /// Its NotificationId (default: one of its own).
    pub notification_id: Option<String>,
    /// Lost on the way: never delivered.
    #[serde(default)]
    pub lost: bool,
}

fn status_change() -> String {
    "OrderStatusChange".into()
}

/// A crash point: where the running function dies, as a Lambda timeout or crash would.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashFile {
    /// `after-send` (Amazon accepted a message), `after-create-feed` (Amazon accepted the cancel
    /// feed), or `after-create-case` (the case is stored and announced; the function dies on
    /// its next call to Amazon, the listing change).
    pub at: String,
    /// Only for this order (default: the first time anywhere).
    pub order: Option<String>,
}

impl CrashFile {
    fn point(&self) -> Result<CrashPoint> {
        let (op, after) = match self.at.as_str() {
            "after-send" => ("createUnexpectedProblem", true),
            "after-create-feed" => ("createFeed", true),
            "after-create-case" => ("patchListingsItem", false),
            other => {
                bail!("crash at {other:?}: one of after-send, after-create-feed, after-create-case")
            }
        };
        Ok(CrashPoint {
            op: op.into(),
            after,
            order: self.order.clone(),
        })
    }
}

/// Something the runner does at a set time.
enum Step {
    Seller(&'static str, String),
    Stock(String, u32),
    Damage(String),
    /// ORDER_CHANGE notifications sent at the same moment.
    Notify(Vec<Notification>),
}

/// `after` the order was placed, or `at`: exactly one of the two.
fn when(placed: Timestamp, after: Option<&str>, at: Option<Timestamp>) -> Result<Timestamp> {
    match (after, at) {
        (Some(d), None) => Ok(placed + dur(d, "buyer.after")?),
        (None, Some(t)) => Ok(t),
        _ => bail!("give one of after and at"),
    }
}

/// A defect the scenario is known to show: the run passes only while every broken rule
/// contains one of `breaks` (and at least one rule breaks), so a fix makes the run fail until
/// the entry is removed, and any other broken rule still fails it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDefect {
    /// The issue that will fix it.
    pub issue: u32,
    /// Phrases of the broken-rule lines it causes, e.g. "beyond the cap" (none: it shows in an
    /// ending only, `ends`).
    #[serde(default)]
    pub breaks: Vec<String>,
    /// The strategies it shows under (default: every strategy the scenario runs).
    #[serde(default)]
    pub strategies: Vec<String>,
    /// The ending orders get while the defect lasts, if it is another than `expect`.
    pub ends: Option<String>,
}

fn default_marketplace() -> String {
    "A1VC38T7YXB528".into()
}

/// Whether an SP-API request changes something at Amazon (a message, a feed, a listing, a
/// subscription): anything but a read, an LWA token, or a request for the seller performance
/// report (createReport asks Amazon to prepare a report to read; nothing of the seller's
/// changes). What a dry run must never send.
pub fn acts_on_the_marketplace(method: &str, path: &str) -> bool {
    method != "GET" && !path.contains("/auth/o2/token") && path != "/reports/2021-06-30/reports"
}

/// Orders and seller cancels in a marketplace's history before the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthBaselineFile {
    /// Default: the stack's first marketplace.
    pub marketplace: Option<String>,
    pub orders: u64,
    pub cancels: u64,
}

/// Overrides of the workflow settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    pub max_requests: Option<u32>,
    pub quiet_hours: Option<String>,
    pub send_slots: Option<Vec<String>>,
    pub min_gap: Option<String>,
    pub final_notice_margin: Option<String>,
    pub cancel_margin: Option<String>,
    pub min_profit: Option<f64>,
    pub fee_percent: Option<f64>,
    pub zero_listing: Option<bool>,
    /// The deployed mode (`live`, `dry-run`, `approve`, `pause`; default live).
    pub mode: Option<String>,
    /// Approve mode: `cancel` or `leave` (default leave).
    pub approval_default: Option<String>,
    /// Run the `auto` strategy, the scenario's strategy being its fallback.
    #[serde(default)]
    pub auto: bool,
    /// With `auto`: the ceiling in percent (default 1.5).
    pub auto_ceiling_percent: Option<f64>,
    /// Learn the send slots from the history (default false in scenarios).
    #[serde(default)]
    pub learn_slots: bool,
}

/// Marketplace faults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub seed: u64,
    /// Share of calls per operation (`*` for all) answered 503.
    #[serde(default)]
    pub server_errors: BTreeMap<String, f64>,
    /// Share of calls per operation answered 429.
    #[serde(default)]
    pub throttles: BTreeMap<String, f64>,
    /// Feeds created before this time stay IN_QUEUE until it.
    pub feed_stuck_until: Option<Timestamp>,
    /// Faults limited to a time window and/or struck after processing (the answer lost).
    #[serde(default)]
    pub windows: Vec<FaultWindowFile>,
    /// The app lacks the Buyer Communication role: every Messaging API call is 403.
    #[serde(default)]
    pub messaging_unauthorized: bool,
    /// How feeds end: "as-sent" (default), "fatal", "fatal-no-report", "cancelled",
    /// "summary-only", "document-error".
    pub feed_outcome: Option<String>,
    /// Only the first this-many feeds take `feed_outcome` (default: all).
    pub feed_outcome_feeds: Option<u32>,
    /// Processing reports in "utf-8" (default) or "windows-31j".
    pub report_charset: Option<String>,
    /// ORDER_CHANGE notifications due in these windows are never delivered.
    #[serde(default)]
    pub lost_notifications: Vec<TimeWindow>,
}

/// A span of virtual time; either end may be left out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl TimeWindow {
    fn covers(&self, t: Timestamp) -> bool {
        self.from.is_none_or(|f| t >= f) && self.until.is_none_or(|u| t < u)
    }
}

impl Faults {
    fn feed_outcome(&self) -> Result<FeedOutcome> {
        Ok(match self.feed_outcome.as_deref() {
            None | Some("as-sent") => FeedOutcome::AsSent,
            Some("fatal") => FeedOutcome::Fatal { report: true },
            Some("fatal-no-report") => FeedOutcome::Fatal { report: false },
            Some("cancelled") => FeedOutcome::Cancelled,
            Some("summary-only") => FeedOutcome::SummaryOnly,
            Some("document-error") => FeedOutcome::DocumentError,
            Some(other) => bail!(
                "feed_outcome {other:?} is not one of as-sent, fatal, fatal-no-report, cancelled, summary-only, document-error"
            ),
        })
    }

    fn report_charset(&self) -> Result<ReportCharset> {
        Ok(match self.report_charset.as_deref() {
            None | Some("utf-8") => ReportCharset::Utf8,
            Some("windows-31j") => ReportCharset::Windows31J,
            Some(other) => bail!("report_charset {other:?} is not utf-8 or windows-31j"),
        })
    }
}

/// One fault rule: calls to `op` (`*` for all) fail with `status`, a `share` of them, between
/// `from` and `until` (either may be left out), before processing or after it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultWindowFile {
    pub op: String,
    pub status: u16,
    #[serde(default = "all")]
    pub share: f64,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// "before" (nothing happened; the default) or "after" (it happened, the answer is lost).
    #[serde(default)]
    pub side: SideFile,
}

fn all() -> f64 {
    1.0
}

/// Which side of processing a fault strikes.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SideFile {
    #[default]
    Before,
    After,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuFile {
    pub sku: String,
    pub on_hand: Option<u32>,
    pub unit_cost: Option<f64>,
    pub shipping_cost: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFile {
    pub sku: String,
    #[serde(default = "one")]
    pub quantity: u32,
    #[serde(default = "default_price")]
    pub price: String,
    #[serde(default)]
    pub title: Option<String>,
}

fn one() -> u32 {
    1
}

fn default_price() -> String {
    "1980".into()
}

/// What the buyer does.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BuyerFile {
    /// Never answers.
    Never,
    /// Requests cancellation through Amazon's flow `delay` after reading message `messages`.
    RequestsAfter {
        messages: u32,
        delay: String,
        /// Reads messages only between these local times, e.g. "19:00-23:00".
        reads: Option<String>,
    },
    /// Requests cancellation `after` the order was placed, or `at` a set time, whatever the
    /// seller sends (give one of the two).
    RequestsAt {
        after: Option<String>,
        at: Option<Timestamp>,
    },
    /// Cancels the order directly `after` it was placed, or `at` a set time.
    Cancels {
        after: Option<String>,
        at: Option<Timestamp>,
    },
}

/// The expected ending: one for every strategy, or one per strategy.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    One(String),
    PerStrategy(BTreeMap<String, String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFile {
    pub id: String,
    /// The marketplace the order is placed in (default: the stack's first).
    pub marketplace: Option<String>,
    pub placed: Timestamp,
    pub ship_by: Timestamp,
    #[serde(default = "default_locale")]
    pub locale: String,
    pub items: Vec<ItemFile>,
    pub buyer: BuyerFile,
    /// The seller ships the order this long after it was placed.
    pub ship_after: Option<String>,
    /// `unavailable`: Amazon offers no messaging for this order.
    pub messaging: Option<String>,
    /// The first this-many feed reports list an error for this order.
    #[serde(default)]
    pub feed_errors: u32,
    /// The seller flags the order by hand this long after it was placed.
    pub flag_after: Option<String>,
    /// The seller withdraws the case this long after the order was placed.
    pub withdraw_after: Option<String>,
    /// The seller approves the case's cancel (`kenzen approve`) this long after the order was
    /// placed.
    pub approve_after: Option<String>,
    /// The buyer's request covers only these items (1-based positions in `items`).
    pub request_lines: Option<Vec<usize>>,
    /// From this time on Amazon no longer shows the buyer's request.
    pub request_stops_showing_at: Option<Timestamp>,
    /// Amazon's searchOrders pages carry this order with a fulfillmentStatus outside the model
    /// (getOrder still serves it whole): an order kenzen cannot decode. Against Amazon's model on
    /// purpose, so such a scenario is not for the contract proxy.
    #[serde(default)]
    pub damaged_in_search: bool,
    /// Alerts this order must raise, by kind, and how many of each (kinds not named are not
    /// checked), e.g. `{ UnreadableOrder = 1 }`.
    #[serde(default)]
    pub alerts: BTreeMap<String, u32>,
    /// kenzen cannot see this order in time (an outage hides it past its cancel-by): instead of
    /// the cancel-by and ship-by rules, its case must end before ship-by or raise a
    /// DeadlineRisk alert.
    #[serde(default)]
    pub deadline_unreachable: bool,
    /// Phrases the order's timeline must hold (each in some entry's note), e.g. the numbers of
    /// an `auto` choice.
    #[serde(default)]
    pub timeline: Vec<String>,
    pub expect: Expect,
}

fn default_locale() -> String {
    "ja-JP".into()
}

/// The endings a scenario can expect.
pub const ENDINGS: &[&str] = &[
    "BuyerCanceled",
    "GeneralAdjustment",
    "NoInventory",
    "Shipped",
    "CancelledElsewhere",
    "Withdrawn",
    "NoCase",
    "Open",
    "Unreadable",
    "NotApproved",
    "DryRunBuyerCanceled",
    "DryRunGeneralAdjustment",
    "DryRunNoInventory",
];

fn dur(s: &str, what: &str) -> Result<SignedDuration> {
    s.parse::<SignedDuration>()
        .map_err(|e| anyhow!("{what}: {s:?} is not a duration like \"3h\" or \"90m\": {e}"))
}

fn hours_range(s: &str, what: &str) -> Result<(LocalTime, LocalTime)> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| anyhow!("{what}: {s:?} is not like 19:00-23:00"))?;
    Ok((
        a.parse().map_err(|e: String| anyhow!("{what}: {e}"))?,
        b.parse().map_err(|e: String| anyhow!("{what}: {e}"))?,
    ))
}

/// A time of day as the simulator takes it.
fn civil_time(t: LocalTime) -> jiff::civil::Time {
    jiff::civil::time(t.hour, t.minute, 0, 0)
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading scenario {}", path.display()))?;
        let sc: Scenario = toml::from_str(&text)
            .map_err(|e| anyhow!("scenario {} is not valid: {e}", path.display()))?;
        sc.validate()
            .with_context(|| format!("scenario {}", path.display()))?;
        Ok(sc)
    }

    /// The marketplaces the stack serves, the first one first.
    pub fn stack(&self) -> Vec<&str> {
        if self.marketplaces.is_empty() {
            vec![self.marketplace.as_str()]
        } else {
            self.marketplaces.iter().map(String::as_str).collect()
        }
    }

    /// The marketplace order `o` is placed in.
    pub fn marketplace_of<'a>(&'a self, o: &'a OrderFile) -> &'a str {
        o.marketplace.as_deref().unwrap_or(self.stack()[0])
    }

    /// Checks the scenario as `load` does (for scenarios built in code).
    pub fn validate(&self) -> Result<()> {
        if self.end <= self.start {
            bail!("end must be after start");
        }
        if !self.marketplaces.is_empty() {
            kenzen_core::marketplace::stack(&self.stack())
                .map_err(|e| anyhow!("marketplaces: {e}"))?;
        }
        for o in &self.orders {
            if !self.stack().contains(&self.marketplace_of(o)) {
                bail!(
                    "order {}: marketplace {} is not one of the stack's {:?}",
                    o.id,
                    self.marketplace_of(o),
                    self.stack()
                );
            }
        }
        if self.strategies.is_empty() {
            bail!("name at least one strategy");
        }
        for s in &self.strategies {
            s.parse::<Strategy>().map_err(|e| anyhow!(e))?;
        }
        self.faults.feed_outcome()?;
        self.faults.report_charset()?;
        for o in &self.orders {
            if let Some(lines) = &o.request_lines
                && lines.iter().any(|&n| n == 0 || n > o.items.len())
            {
                bail!(
                    "order {}: request_lines are 1-based positions in items",
                    o.id
                );
            }
        }
        for c in &self.crashes {
            c.point()?;
        }
        for n in &self.notifications {
            if !["OrderStatusChange", "BuyerRequestedChange"].contains(&n.change_type.as_str()) {
                bail!(
                    "notification for {}: unknown type {:?}",
                    n.order,
                    n.change_type
                );
            }
            if !self.orders.iter().any(|o| o.id == n.order) {
                bail!("notification for {}: no such order", n.order);
            }
        }
        for w in &self.faults.windows {
            if !(0.0..=1.0).contains(&w.share) {
                bail!("fault window on {}: share must be between 0 and 1", w.op);
            }
            if !(400..600).contains(&w.status) {
                bail!("fault window on {}: status must be a 4xx or 5xx", w.op);
            }
            if let (Some(f), Some(u)) = (w.from, w.until)
                && u <= f
            {
                bail!("fault window on {}: until must be after from", w.op);
            }
        }
        for w in &self.faults.lost_notifications {
            if let (Some(f), Some(u)) = (w.from, w.until)
                && u <= f
            {
                bail!("lost_notifications: until must be after from");
            }
        }
        if self.concurrency == Some(0) {
            bail!("concurrency must be at least 1");
        }
        for o in &self.orders {
            if o.ship_by <= o.placed {
                bail!("order {}: ship_by must be after placed", o.id);
            }
            for kind in o.alerts.keys() {
                serde_json::from_value::<kenzen_core::AlertKind>(serde_json::json!(kind))
                    .map_err(|_| anyhow!("order {}: unknown alert kind {kind:?}", o.id))?;
            }
            for s in &self.strategies {
                let e = o.expected(s)?;
                if !ENDINGS.contains(&e.as_str()) {
                    bail!("order {}: unknown ending {e:?} (one of {ENDINGS:?})", o.id);
                }
            }
        }
        Ok(())
    }

    /// The settings for one strategy.
    pub fn settings(&self, strategy: Strategy) -> Result<Settings> {
        let f = &self.settings;
        let stack = self.stack();
        let mut s = Settings::new(strategy, stack[0]);
        for m in &stack[1..] {
            s.serve(m);
        }
        // The sweeps run at the template's cadence, as deployed.
        let cadence = crate::harness::cadence()?;
        s.send_sweep = SignedDuration::from_mins(cadence["MessageResend"]);
        s.cancel_sweep = SignedDuration::from_mins(cadence["FinalCancel"]);
        if let Some(n) = f.max_requests {
            s.max_requests = n;
        }
        // Quiet hours and slots are the stack's, each in its marketplace's own time.
        if let Some(q) = &f.quiet_hours {
            let (a, b) = hours_range(q, "quiet_hours")?;
            for w in s.all_windows_mut() {
                w.quiet_start = a;
                w.quiet_end = b;
            }
        }
        if let Some(slots) = &f.send_slots {
            let slots: Vec<LocalTime> = slots
                .iter()
                .map(|x| x.parse())
                .collect::<Result<_, String>>()
                .map_err(|e| anyhow!("send_slots: {e}"))?;
            for w in s.all_windows_mut() {
                w.slots.clone_from(&slots);
            }
        }
        if let Some(d) = &f.min_gap {
            s.min_gap = dur(d, "min_gap")?;
        }
        if let Some(d) = &f.final_notice_margin {
            s.final_notice_margin = dur(d, "final_notice_margin")?;
        }
        if let Some(d) = &f.cancel_margin {
            s.cancel_margin = dur(d, "cancel_margin")?;
        }
        if let Some(m) = f.min_profit {
            let currency = kenzen_core::marketplace::find(stack[0])
                .map(|mk| mk.currency)
                .ok_or_else(|| anyhow::anyhow!("no currency for {}", stack[0]))?;
            s.profit_floor = Some(ProfitFloor {
                minimum: kenzen_core::Money::parse(&m.to_string(), currency)
                    .map_err(|e| anyhow::anyhow!("min_profit: {e}"))?,
                fee_bp: f
                    .fee_percent
                    .map_or(ProfitFloor::DEFAULT_FEE_BP, |p| (p * 100.0).round() as i64),
            });
        }
        if let Some(z) = f.zero_listing {
            s.zero_listing = z;
        }
        if let Some(m) = &f.mode {
            s.mode = m.parse().map_err(|e| anyhow!("mode: {e}"))?;
        }
        if let Some(d) = &f.approval_default {
            s.approval_default = d.parse().map_err(|e| anyhow!("approval_default: {e}"))?;
        }
        s.learn_slots = f.learn_slots;
        if f.auto {
            let mut auto = kenzen_core::AutoSettings::new(strategy);
            if let Some(p) = f.auto_ceiling_percent {
                auto.ceiling = p / 100.0;
            }
            auto.validate()
                .map_err(|e| anyhow!("auto_ceiling_percent: {e}"))?;
            s.auto = Some(auto);
        } else if f.auto_ceiling_percent.is_some() {
            return Err(anyhow!(
                "auto_ceiling_percent is only read with auto = true"
            ));
        }
        s.validate().map_err(|e| anyhow!("settings: {e}"))?;
        Ok(s)
    }
}

impl OrderFile {
    fn expected(&self, strategy: &str) -> Result<String> {
        match &self.expect {
            Expect::One(e) => Ok(e.clone()),
            Expect::PerStrategy(m) => m
                .get(strategy)
                .cloned()
                .ok_or_else(|| anyhow!("order {}: no expected ending for {strategy}", self.id)),
        }
    }
}

/// One order's result.
#[derive(Debug, Clone, Serialize)]
pub struct OrderResult {
    pub order_id: String,
    pub expected: String,
    pub actual: String,
    pub messages: usize,
    pub counts_against_cancel_rate: bool,
    pub ok: bool,
}

/// One run's result.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub strategy: String,
    pub orders: Vec<OrderResult>,
    pub broken_rules: Vec<String>,
    pub failed_invocations: Vec<String>,
    pub requests_logged: usize,
    /// The defect this run is known to show, if the scenario names one.
    pub known_defect: Option<KnownDefect>,
    /// new-order-check invocations by ORDER_CHANGE notifications (through the pipe).
    pub order_change_invocations: usize,
}

impl RunResult {
    pub fn passed(&self) -> bool {
        self.rules_as_expected()
            && self.orders.iter().all(|o| self.ending_as_expected(o))
            && self.defect_shown()
    }

    /// The expected ending, or the one a known defect gives.
    pub fn ending_as_expected(&self, o: &OrderResult) -> bool {
        o.ok || self
            .known_defect
            .as_ref()
            .and_then(|k| k.ends.as_deref())
            .is_some_and(|e| e == o.actual)
    }

    /// No broken rule but those a known defect names.
    pub fn rules_as_expected(&self) -> bool {
        match &self.known_defect {
            None => self.broken_rules.is_empty(),
            Some(k) => self
                .broken_rules
                .iter()
                .all(|b| k.breaks.iter().any(|p| b.contains(p.as_str()))),
        }
    }

    /// A known defect still shows: a rule it names broke, or an order got the ending it gives.
    /// (True when the scenario names none.)
    pub fn defect_shown(&self) -> bool {
        match &self.known_defect {
            None => true,
            Some(k) => {
                (!k.breaks.is_empty() && !self.broken_rules.is_empty())
                    || k.ends
                        .as_deref()
                        .is_some_and(|e| self.orders.iter().any(|o| !o.ok && o.actual == e))
            }
        }
    }

    /// Cases whose cancel counts against the pre-fulfilment cancel rate.
    pub fn counted_cancels(&self) -> usize {
        self.orders
            .iter()
            .filter(|o| o.counts_against_cancel_rate)
            .count()
    }
}

/// The ending name for a case state.
pub fn ending(state: Option<&CaseState>) -> String {
    match state {
        None => "NoCase".into(),
        Some(CaseState::Cancelled { reason, .. }) => reason.as_feed().into(),
        Some(CaseState::Closed { why, .. }) => match why {
            CloseReason::Shipped => "Shipped".into(),
            CloseReason::CancelledElsewhere { .. } => "CancelledElsewhere".into(),
            CloseReason::Withdrawn { .. } => "Withdrawn".into(),
            CloseReason::NotApproved { .. } => "NotApproved".into(),
        },
        Some(_) => "Open".into(),
    }
}

fn parse_time(v: &serde_json::Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// A finished run: the world (for timelines), the limits it was checked against, its result.
pub struct Finished {
    pub world: World,
    pub limits: Limits,
    pub result: RunResult,
}

/// Plays `sc` under `strategy`, writes `requests.jsonl`, `timeline.jsonl` and `summary.json`
/// to `out`, checks the rules and the endings.
pub async fn run(sc: &Scenario, strategy: Strategy, out: &Path) -> Result<Finished> {
    run_with(sc, strategy, out, None).await
}

/// [`run`], printing a progress line to stderr every `progress` of virtual time (unless
/// `KENZEN_PROGRESS_HOURS` says otherwise).
pub async fn run_with(
    sc: &Scenario,
    strategy: Strategy,
    out: &Path,
    progress: Option<SignedDuration>,
) -> Result<Finished> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let settings = sc.settings(strategy)?;
    let mut fault_rates = Vec::new();
    for (op, share) in &sc.faults.server_errors {
        fault_rates.push(FaultRate::before(op, *share, 503));
    }
    for (op, share) in &sc.faults.throttles {
        fault_rates.push(FaultRate::before(op, *share, 429));
    }
    for w in &sc.faults.windows {
        fault_rates.push(FaultRate {
            op: w.op.clone(),
            share: w.share,
            status: w.status,
            side: match w.side {
                SideFile::Before => FaultSide::Before,
                SideFile::After => FaultSide::After,
            },
            from: w.from,
            until: w.until,
        });
    }
    let stack = sc.stack();
    let sim = SimConfig {
        marketplace_id: stack[0].to_string(),
        other_marketplaces: stack[1..].iter().map(|m| m.to_string()).collect(),
        time_zone: settings.windows.time_zone.clone(),
        feed_stuck_until: sc.faults.feed_stuck_until,
        fault_rates,
        seed: sc.faults.seed.max(1),
        missing_roles: if sc.faults.messaging_unauthorized {
            [Role::BuyerCommunication].into()
        } else {
            Default::default()
        },
        feed_outcome: sc.faults.feed_outcome()?,
        feed_outcome_feeds: sc.faults.feed_outcome_feeds,
        report_charset: sc.faults.report_charset()?,
        health_baseline: sc
            .health_baseline
            .iter()
            .map(|b| {
                kenzen_sim::HealthBaseline::new(
                    b.marketplace.as_deref().unwrap_or(stack[0]),
                    b.orders,
                    b.cancels,
                )
            })
            .collect(),
        ..SimConfig::default()
    };
    let opts = WorldOptions {
        start: sc.start,
        settings: settings.clone(),
        sim,
        duplicate_deliveries: sc.duplicate_deliveries,
        containers: sc.containers,
        concurrency: sc.concurrency,
        progress_every: progress,
        ..WorldOptions::at("2026-01-01T00:00:00Z")
    }
    .from_env()?;
    let mut world = World::start(opts).await?;
    for s in &sc.skus {
        world
            .store()
            .put_sku(
                &s.sku,
                SkuInfo {
                    on_hand: s.on_hand,
                    unit_cost: s.unit_cost.map(|v| v.to_string()),
                    shipping_cost: s.shipping_cost.map(|v| v.to_string()),
                    product_type: None,
                },
            )
            .await?;
    }
    for c in &sc.crashes {
        world.sim.arm_crash(c.point()?);
    }
    let mut commands: Vec<(Timestamp, Step)> = Vec::new();
    for c in &sc.stock {
        commands.push((c.at, Step::Stock(c.sku.clone(), c.on_hand)));
    }
    for d in &sc.damaged_cases {
        commands.push((d.at, Step::Damage(d.order.clone())));
    }
    for (k, n) in sc.notifications.iter().enumerate() {
        if n.lost {
            continue;
        }
        let placed = sc
            .orders
            .iter()
            .find(|o| o.id == n.order)
            .map(|o| o.placed)
            .ok_or_else(|| anyhow!("notification for {}: no such order", n.order))?;
        let id = n
            .notification_id
            .clone()
            .unwrap_or_else(|| format!("scenario-notification-{k}"));
        let at = when(placed, n.after.as_deref(), n.at)?;
        if sc.faults.lost_notifications.iter().any(|w| w.covers(at)) {
            continue;
        }
        commands.push((
            at,
            Step::Notify(vec![Notification {
                order_id: n.order.clone(),
                change_type: n.change_type.clone(),
                notification_id: id,
                repeat: n.repeat,
            }]),
        ));
    }
    if sc.notify_on_placement {
        for o in &sc.orders {
            let at = o.placed + SignedDuration::from_mins(1);
            if sc.faults.lost_notifications.iter().any(|w| w.covers(at)) {
                continue;
            }
            commands.push((
                at,
                Step::Notify(vec![Notification {
                    order_id: o.id.clone(),
                    change_type: "OrderStatusChange".into(),
                    notification_id: format!("placed-{}", o.id),
                    repeat: 1,
                }]),
            ));
        }
    }
    for (i, o) in sc.orders.iter().enumerate() {
        let buyer = match &o.buyer {
            BuyerFile::Never => Buyer::Silent,
            BuyerFile::RequestsAfter {
                messages, delay, ..
            } => Buyer::RequestsAfterMessage {
                after: *messages,
                delay: dur(delay, "buyer.delay")?,
            },
            BuyerFile::RequestsAt { after, at } => {
                Buyer::RequestsAt(when(o.placed, after.as_deref(), *at)?)
            }
            BuyerFile::Cancels { after, at } => {
                Buyer::CancelsAt(when(o.placed, after.as_deref(), *at)?)
            }
        };
        let items = o
            .items
            .iter()
            .enumerate()
            .map(|(j, it)| SimItem {
                order_item_id: format!("{:014}", 10_000_000_000_000u64 + (i * 100 + j) as u64),
                sku: it.sku.clone(),
                asin: format!("B0SCEN{i:02}{j:02}"),
                title: it
                    .title
                    .clone()
                    .unwrap_or_else(|| format!("{} (test item)", it.sku)),
                quantity: it.quantity,
                unit_price: it.price.clone(),
            })
            .collect();
        let mut order = SimOrder::new(&o.id, o.placed, o.ship_by, items, buyer, &o.locale);
        order.marketplace_id = Some(sc.marketplace_of(o).to_string());
        if let BuyerFile::RequestsAfter { reads: Some(r), .. } = &o.buyer {
            let (from, to) = hours_range(r, "buyer.reads")?;
            order.reads = Some((civil_time(from), civil_time(to)));
        }
        order.messaging_available = o.messaging.as_deref() != Some("unavailable");
        if let Some(lines) = &o.request_lines {
            order.request_items = Some(
                lines
                    .iter()
                    .filter_map(|n| order.items.get(n - 1).map(|i| i.order_item_id.clone()))
                    .collect(),
            );
        }
        if let Some(t) = o.request_stops_showing_at {
            world.sim.schedule(t, &o.id, Action::RequestStopsShowing);
        }
        order.feed_errors = o.feed_errors;
        order.damaged_in_search = o.damaged_in_search;
        world.sim.add_order(order);
        if let Some(d) = &o.ship_after {
            world
                .sim
                .schedule(o.placed + dur(d, "ship_after")?, &o.id, Action::SellerShips);
        }
        if let Some(d) = &o.flag_after {
            commands.push((
                o.placed + dur(d, "flag_after")?,
                Step::Seller("FlagOrder", o.id.clone()),
            ));
        }
        if let Some(d) = &o.withdraw_after {
            commands.push((
                o.placed + dur(d, "withdraw_after")?,
                Step::Seller("WithdrawCase", o.id.clone()),
            ));
        }
        if let Some(d) = &o.approve_after {
            commands.push((
                o.placed + dur(d, "approve_after")?,
                Step::Seller("ApproveCancel", o.id.clone()),
            ));
        }
    }
    commands.sort_by_key(|(at, _)| *at);
    // Notifications sent at the same moment go out together (so they can run concurrently).
    let mut merged: Vec<(Timestamp, Step)> = Vec::with_capacity(commands.len());
    for (at, step) in commands {
        if let (Some((last_at, Step::Notify(batch))), Step::Notify(more)) =
            (merged.last_mut(), &step)
            && *last_at == at
        {
            batch.extend(more.iter().cloned());
            continue;
        }
        merged.push((at, step));
    }
    for (at, step) in merged {
        world.run_until(at).await?;
        match step {
            Step::Seller(command, id) => {
                world
                    .seller_command(command, &id, "set in the scenario")
                    .await?
            }
            Step::Stock(sku, on_hand) => world.stock(&sku, on_hand).await?,
            Step::Damage(order) => world.damage_case(&order).await?,
            Step::Notify(batch) => world.notify_all(&batch).await?,
        }
    }
    world.run_until(sc.end).await?;

    // Results per order. One pass over the log and the deliveries first, so this stays linear
    // in orders and log lines (the volume run has ten thousand orders).
    let log = world.sim.log();
    let strategy_name = strategy.as_setting();
    let mut ended_in_log: BTreeMap<&str, Timestamp> = BTreeMap::new();
    // Listings set by a patch: (SKU as in the path, marketplace the patch named).
    let mut zeroed_listings: std::collections::BTreeSet<(&str, &str)> = Default::default();
    for l in &log {
        if matches!(
            l["action"].as_str(),
            Some("cancelExecuted" | "ship" | "cancelOrder")
        ) && let (Some(id), Some(t)) = (l["orderId"].as_str(), parse_time(&l["time"]))
        {
            let e = ended_in_log.entry(id).or_insert(t);
            *e = (*e).min(t);
        }
        if l["method"] == "PATCH"
            && l["status"].as_u64().is_some_and(|st| st < 300)
            && let Some(p) = l["path"].as_str()
            && p.starts_with("/listings/")
            && let Some((_, segment)) = p.rsplit_once('/')
        {
            let query = l["query"].as_str().unwrap_or("");
            for m in query
                .split('&')
                .filter_map(|kv| kv.strip_prefix("marketplaceIds="))
                .flat_map(|v| v.split([',']).flat_map(|x| x.split("%2C")))
            {
                zeroed_listings.insert((segment, m));
            }
        }
    }
    let mut messages_to: BTreeMap<String, usize> = BTreeMap::new();
    for d in world.sim.delivered() {
        *messages_to.entry(d.order_id).or_default() += 1;
    }
    // The alerts kenzen put on its bus, by (order, kind).
    let mut alerts_seen: BTreeMap<(String, String), u32> = BTreeMap::new();
    for (_, kind, detail) in &world.events {
        if kind == "KenzenAlert"
            && let (Some(id), Some(alert)) = (detail["orderId"].as_str(), detail["alert"].as_str())
        {
            *alerts_seen
                .entry((id.to_string(), alert.to_string()))
                .or_default() += 1;
        }
    }
    let mut orders = Vec::new();
    let mut facts = Vec::new();
    let mut cases = Vec::new();
    let mut timeline = std::io::BufWriter::new(std::fs::File::create(out.join("timeline.jsonl"))?);
    for o in &sc.orders {
        // A case the scenario damaged on purpose cannot be read: its ending says so.
        let (case, unreadable) = match world.store().get_case(&o.id.parse()?).await {
            Ok(c) => (c, false),
            Err(kenzen_app::ports::StoreError::Corrupt { .. }) => (None, true),
            Err(e) => return Err(e.into()),
        };
        let state = case.as_ref().map(|c| c.value.state.clone());
        let rehearsal = case.as_ref().is_some_and(|c| c.value.dry_run);
        let actual = if unreadable {
            "Unreadable".to_string()
        } else if rehearsal && matches!(state, Some(CaseState::Cancelled { .. })) {
            format!("DryRun{}", ending(state.as_ref()))
        } else {
            ending(state.as_ref())
        };
        let expected = o.expected(strategy_name)?;
        // Only an order with a case has a timeline.
        if case.is_some() || unreadable {
            for e in world.timeline(&o.id).await? {
                writeln!(timeline, "{}", serde_json::to_string(&e)?)?;
            }
        }
        let sim_order = world.sim.order(&o.id);
        let buyer_requested = sim_order
            .as_ref()
            .is_some_and(|s| s.buyer_request.is_some());
        let merchant_cancel = sim_order
            .as_ref()
            .and_then(|s| s.cancel.as_ref())
            .is_some_and(|(by, _)| by == "MERCHANT");
        let ended_logged = ended_in_log.get(o.id.as_str()).copied();
        let ended_at = match &state {
            Some(CaseState::Closed { at, .. }) => Some(ended_logged.map_or(*at, |t| t.min(*at))),
            Some(CaseState::Cancelled { at, .. }) => Some(ended_logged.map_or(*at, |t| t.min(*at))),
            _ => ended_logged,
        };
        // The case says why no accepted apology preceded the cancel: it could not be delivered,
        // or it was sent and Amazon's answer was lost (never sent twice).
        let notice_excused = matches!(
            &state,
            Some(CaseState::Cancelled {
                plan: CancelPlan::GeneralAdjustment {
                    notice: Notice::NotDelivered { .. } | Notice::OutcomeUnknown { .. }
                } | CancelPlan::NoInventory {
                    notice: Notice::NotDelivered { .. } | Notice::OutcomeUnknown { .. }
                },
                ..
            })
        );
        let alerted = |kind: &str| {
            alerts_seen
                .get(&(o.id.clone(), kind.to_string()))
                .copied()
                .unwrap_or(0)
        };
        facts.push(OrderFacts {
            order_id: o.id.clone(),
            ship_by: o.ship_by,
            has_case: case.is_some(),
            ended_at,
            notice_excused,
            // An order placed inside the cancel margin gets an hour to be seen and handled; one
            // an outage hid past it is judged by its ship-by and its alert instead.
            cancel_by: (!o.deadline_unreachable).then(|| {
                (o.ship_by - settings.cancel_margin).max(o.placed + SignedDuration::from_hours(1))
            }),
            lines: o.items.len(),
            deadline_unreachable: o.deadline_unreachable,
            deadline_alerted: alerted("DeadlineRisk") > 0,
        });
        orders.push(OrderResult {
            order_id: o.id.clone(),
            ok: actual == expected,
            expected,
            actual,
            messages: messages_to.get(&o.id).copied().unwrap_or(0),
            // A seller cancel counts unless the buyer asked for it; an order whose lines went
            // with different reasons counts when any line went for the seller's reasons.
            counts_against_cancel_rate: (merchant_cancel && !buyer_requested)
                || sim_order
                    .as_ref()
                    .is_some_and(|s| s.cancelled_items.values().any(|r| r != "BuyerCanceled")),
        });
        if let Some(c) = case {
            cases.push(c);
        }
    }
    timeline.flush()?;
    world.sim.write_log(&out.join("requests.jsonl"))?;
    let limits = Limits {
        max_messages: settings.max_requests + 1,
        forbidden: vec![
            world.sim.config.client_secret.clone(),
            world.sim.config.refresh_token.clone(),
        ],
        windows: Some(settings.windows.clone()),
        order_windows: sc
            .orders
            .iter()
            .map(|o| {
                let m = sc.marketplace_of(o);
                (o.id.clone(), settings.windows_for(m).clone())
            })
            .collect(),
        // kenzen writes in Japanese or English: Japanese for a ja buyer, and for a buyer
        // without a locale on amazon.co.jp.
        languages: sc
            .orders
            .iter()
            .map(|o| {
                let locale = o.locale.trim().to_ascii_lowercase();
                let japanese = locale.starts_with("ja")
                    || (locale.is_empty() && sc.marketplace_of(o) == default_marketplace());
                let lang = if japanese {
                    kenzen_core::marketplace::Language::Japanese
                } else {
                    kenzen_core::marketplace::Language::English
                };
                (o.id.clone(), lang)
            })
            .collect(),
        orders: facts,
        end: sc.end,
    };
    let mut broken_rules = check(&log, &limits);
    // A dry run acts on nothing: no message, feed or listing change reaches the marketplace.
    if settings.mode == kenzen_core::Mode::DryRun {
        for line in &log {
            let method = line["method"].as_str().unwrap_or("GET");
            let path = line["path"].as_str().unwrap_or("");
            if acts_on_the_marketplace(method, path) {
                broken_rules.push(format!("dry run wrote to the marketplace: {method} {path}"));
            }
        }
    }
    // Work owed when a case opens is never lost, even when the run dies right after storing
    // it: a stocked-out SKU's listing is set to 0 and the case owes nothing at the end.
    for case in &cases {
        let id = &case.value.order_id;
        if !case.value.pending.is_empty() {
            broken_rules.push(format!(
                "{id}: the case still owes {:?} at the end of the run",
                case.value.pending
            ));
        }
        if let kenzen_core::OpenReason::StockShort { sku, .. } = &case.value.reason
            && settings.zero_listing
            && !case.value.dry_run
            && !zeroed_listings.contains(&(
                kenzen_core::ids::encode_segment(sku).as_str(),
                case.value.marketplace_id.as_str(),
            ))
        {
            broken_rules.push(format!(
                "{id}: listing {sku} never set to 0 in the order's marketplace {} though the case \
                 is about its stock",
                case.value.marketplace_id
            ));
        }
    }
    // The phrases each order's timeline must hold.
    for o in sc.orders.iter().filter(|o| !o.timeline.is_empty()) {
        let id: kenzen_core::OrderId = o.id.parse().map_err(|e| anyhow!("{e}"))?;
        let notes: Vec<String> = world
            .store()
            .timeline(&id)
            .await?
            .into_iter()
            .map(|e| e.note)
            .collect();
        for phrase in &o.timeline {
            if !notes.iter().any(|n| n.contains(phrase.as_str())) {
                broken_rules.push(format!(
                    "{}: no timeline entry says {phrase:?} (the timeline: {notes:?})",
                    o.id
                ));
            }
        }
    }
    // The alerts each order must raise, as the scenario names them.
    for o in &sc.orders {
        for (kind, want) in &o.alerts {
            let got = alerts_seen
                .get(&(o.id.clone(), kind.clone()))
                .copied()
                .unwrap_or(0);
            if got != *want {
                broken_rules.push(format!(
                    "{}: {got} {kind} alert(s) on the bus, the scenario expects {want}",
                    o.id
                ));
            }
        }
    }
    // The poll moves past an order it cannot decode: the last successful search starts after
    // that order's last change.
    let last_search_from = log
        .iter()
        .rev()
        .find(|l| l["operation"] == "searchOrders" && l["status"] == 200)
        .and_then(|l| {
            l["query"].as_str().and_then(|q| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("lastUpdatedAfter="))
                    .and_then(|v| v.replace("%3A", ":").parse::<Timestamp>().ok())
            })
        });
    for o in sc.orders.iter().filter(|o| o.damaged_in_search) {
        let updated = world.sim.order(&o.id).map_or(o.placed, |s| s.last_updated);
        if last_search_from.is_none_or(|from| from <= updated) {
            broken_rules.push(format!(
                "{}: the poll never moved past this undecodable order (last search from {:?})",
                o.id,
                last_search_from.map(|t| t.to_string())
            ));
        }
    }
    // The intake path is part of the deployment: a notification the pipe could not put on the
    // bus is a broken deployment, not a kenzen decision.
    for f in &world.pipe_failures {
        broken_rules.push(format!(
            "ORDER_CHANGE notification never reached the bus: {f}"
        ));
    }
    let order_changes = world
        .invocations
        .iter()
        .filter(|i| i.trigger == "OrderChange")
        .count();
    let failed_invocations = world
        .failures()
        .iter()
        .map(|i| format!("{} at {}: {:?}", i.function.name(), i.at, i.result))
        .collect();
    let result = RunResult {
        strategy: strategy_name.into(),
        orders,
        broken_rules,
        failed_invocations,
        requests_logged: log.len(),
        known_defect: sc
            .known_defect
            .clone()
            .filter(|k| k.strategies.is_empty() || k.strategies.iter().any(|s| s == strategy_name)),
        order_change_invocations: order_changes,
    };
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&result)?,
    )?;
    Ok(Finished {
        world,
        limits,
        result,
    })
}

/// The seller report of a finished run, built from kenzen's own records on the table at the
/// run's end over the scenario's local days, written next to the run's other files as
/// `report.txt`, `report.json` and `report.html`.
pub async fn write_seller_report(sc: &Scenario, f: &Finished, out: &Path) -> Result<SellerReport> {
    let tz = kenzen_core::policy::marketplace_zone(&sc.marketplace);
    let first = sc.start.to_zoned(tz.clone()).date();
    let last = f.world.now().to_zoned(tz).date();
    let days = u32::try_from((last - first).get_days() + 1).unwrap_or(1);
    let report = SellerReport::build(f.world.store(), f.world.now(), days).await?;
    std::fs::write(out.join("report.txt"), report.render_text())?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(out.join("report.html"), report.render_html())?;
    Ok(report)
}

/// The windows a scenario's strategy runs with (for printing local times).
pub fn windows_of(sc: &Scenario) -> Result<SendWindows> {
    Ok(sc.settings(Strategy::AskBuyer)?.windows)
}

/// A local wall-clock rendering of `t` in `w`'s time zone.
pub fn local(w: &SendWindows, t: Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get(&w.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(tz).strftime("%m-%d %H:%M").to_string()
}

/// Prints one run: per order the result (and, with `timelines`, the case's timeline in local
/// time), then any broken rule.
pub async fn print_run(sc: &Scenario, f: &Finished, timelines: bool) -> Result<()> {
    println!(
        "\n== strategy {} ({} requests logged)",
        f.result.strategy, f.result.requests_logged
    );
    for (o, r) in sc.orders.iter().zip(&f.result.orders) {
        let mark = if r.ok {
            "ok "
        } else if f.result.ending_as_expected(r) {
            "KNOWN"
        } else {
            "BAD"
        };
        println!(
            "{mark} {}  expected {:<18} got {:<18} messages {}{}",
            r.order_id,
            r.expected,
            r.actual,
            r.messages,
            if r.counts_against_cancel_rate {
                "  (counts against the cancel rate)"
            } else {
                ""
            }
        );
        if timelines {
            // Each order in its own marketplace's local time.
            let w = f.world.svc.settings().windows_for(sc.marketplace_of(o));
            println!(
                "      placed {}, ship-by {} (local, {})",
                local(w, o.placed),
                local(w, o.ship_by),
                w.time_zone
            );
            for e in f.world.timeline(&o.id).await? {
                let answer = e
                    .answer
                    .as_deref()
                    .map(|a| format!(" -> {a}"))
                    .unwrap_or_default();
                println!(
                    "      {}  [{}] {}{}",
                    local(w, e.at),
                    e.state,
                    e.note,
                    answer
                );
            }
        }
    }
    if let Some(k) = &f.result.known_defect {
        println!(
            "known defect (issue {}): expected broken rules containing {:?}; {}",
            k.issue,
            k.breaks,
            if !f.result.defect_shown() {
                "NOT shown any more: fixed? remove known_defect from the scenario"
            } else if f.result.rules_as_expected() {
                "shown as expected"
            } else {
                "and other rules broke too"
            }
        );
    }
    for b in &f.result.broken_rules {
        println!("BROKEN RULE: {b}");
    }
    for i in &f.result.failed_invocations {
        println!("failed invocation (retried by the next run): {i}");
    }
    Ok(())
}
