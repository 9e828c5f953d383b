//! The volume benchmark (`scripts/volume.sh`): a day of orders at a seller's real volume, plus a
//! burst of unfillable ones, through the real handlers on moto_server and the simulator, with
//! two containers per function; then the figures that say whether kenzen keeps up.
//!
//! The scenario is built here (ten thousand orders do not belong in a file) and played by the
//! scenario runner like any other. The figures are read from the simulator's log and the
//! handlers' reports. It judges nothing but the never-break rules: the goals (no ship-by miss,
//! no 429, few feeds, every run within its budget) are printed as met or missed, not enforced.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Result;
use jiff::{SignedDuration, Timestamp};
use kenzen_core::Strategy;
use serde::Serialize;
use serde_json::{Value, json};

use crate::harness::{Function, LAMBDA_TIMEOUT_SECS};
use crate::scenario::{Finished, Scenario};

/// What to play.
#[derive(Debug, Clone)]
pub struct VolumeOptions {
    /// Orders a day (spread over the day as a shop's orders are: few at night, most in the
    /// evening).
    pub orders_per_day: usize,
    /// Days of orders.
    pub days: u32,
    /// Extra unfillable orders, all within one hour (12:00–13:00 of the first day).
    pub burst: usize,
    /// Unfillable share of the daily orders, in percent.
    pub unfillable_percent: f64,
    /// Containers per function.
    pub containers: usize,
    /// Invocations of one function at once (default: the template's reserved concurrency).
    pub concurrency: Option<usize>,
    pub strategy: Strategy,
    pub seed: u64,
}

impl Default for VolumeOptions {
    fn default() -> Self {
        Self {
            orders_per_day: 10_000,
            days: 1,
            burst: 300,
            unfillable_percent: 5.0,
            containers: 2,
            concurrency: None,
            strategy: Strategy::AskBuyer,
            seed: 10,
        }
    }
}

/// A shop's orders by local hour (relative weights): quiet at night, a lunch bump, the evening
/// peak.
const HOURLY: [u32; 24] = [
    3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 6, 5, 5, 5, 6, 7, 8, 9, 9, 7, 5,
];

/// The first order's day (local midnight, Asia/Tokyo).
const START: &str = "2026-12-01T00:00:00+09:00";

/// xorshift64*: the same orders for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0 < percent
    }
}

/// The orders' SKUs: fillable ones with plenty of stock, sold-out ones with none.
fn stocked_sku(n: u64) -> String {
    format!("STOCK-{n:04}")
}

fn sold_out_sku(n: u64) -> String {
    format!("GONE-{n:04}")
}

/// Builds the scenario: `orders_per_day × days` orders (a share unfillable) and the burst, each
/// announced by an ORDER_CHANGE notification a minute after it is placed, with the backstop
/// poll at its cadence; it ends an hour after the last ship-by.
pub fn scenario(o: &VolumeOptions) -> Result<Scenario> {
    let mut rng = Rng(o.seed.max(1));
    let start: Timestamp = START.parse()?;
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo")?;
    let total = o.orders_per_day * o.days as usize;
    let unfillable = (total as f64 * o.unfillable_percent / 100.0).round() as usize;
    let stocked_skus = (total as u64 / 20).clamp(1, 500);
    let sold_out_skus = ((unfillable + o.burst) as u64 / 5).max(1);
    let burst_skus = (o.burst as u64 / 100).max(1);
    let weight_sum: u32 = HOURLY.iter().sum();

    // Placement times: the daily orders by the hourly weights (to the minute), then the burst.
    let mut placed: Vec<(Timestamp, bool, bool)> = Vec::with_capacity(total + o.burst);
    for day in 0..o.days {
        let day_start = start + SignedDuration::from_hours(24 * i64::from(day));
        for _ in 0..o.orders_per_day {
            let mut pick = rng.below(u64::from(weight_sum)) as u32;
            let hour = HOURLY
                .iter()
                .position(|w| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap_or(23);
            let minute = rng.below(60);
            let at = day_start + SignedDuration::from_mins(hour as i64 * 60 + minute as i64);
            placed.push((at, false, false));
        }
    }
    // Which daily orders cannot be filled: `unfillable` of them, spread evenly.
    if unfillable > 0 {
        let every = total as f64 / unfillable as f64;
        for k in 0..unfillable {
            let i = ((k as f64 + 0.5) * every) as usize;
            if let Some(p) = placed.get_mut(i.min(total - 1)) {
                p.1 = true;
            }
        }
    }
    let burst_start = start + SignedDuration::from_hours(12);
    for _ in 0..o.burst {
        let at = burst_start + SignedDuration::from_mins(rng.below(60) as i64);
        placed.push((at, true, true));
    }
    placed.sort_by_key(|p| p.0);

    let mut orders = Vec::with_capacity(placed.len());
    let mut last_ship_by = start;
    for (i, (at, unfillable, in_burst)) in placed.into_iter().enumerate() {
        let id = format!(
            "503-{:07}-{:07}",
            3_000_000 + i / 10_000_000,
            i % 10_000_000
        );
        // Ship-by: the end of the local day one to three days after the order (most two).
        let days_to_ship = match rng.below(10) {
            0..=1 => 1,
            2..=8 => 2,
            _ => 3,
        };
        let ship_by = at
            .to_zoned(tz.clone())
            .date()
            .checked_add(jiff::Span::new().days(days_to_ship))?
            .at(23, 59, 0, 0)
            .to_zoned(tz.clone())?
            .timestamp();
        last_ship_by = last_ship_by.max(ship_by);
        let sku = if in_burst {
            sold_out_sku(rng.below(burst_skus))
        } else if unfillable {
            sold_out_sku(burst_skus + rng.below(sold_out_skus))
        } else {
            stocked_sku(rng.below(stocked_skus))
        };
        let mut order = json!({
            "id": id,
            "placed": at.to_string(),
            "ship_by": ship_by.to_string(),
            "locale": if rng.chance(10.0) { "en-US" } else { "ja-JP" },
            "items": [{ "sku": sku, "quantity": 1, "price": "2480" }],
        });
        let (buyer, expect) = if unfillable {
            // Most buyers never answer; some ask Amazon to cancel after the first message, a
            // few before any message, a few cancel on their own.
            match rng.below(100) {
                0..=19 => (
                    json!({"kind": "requests-after", "messages": 1, "delay": "2h"}),
                    json!({"ask-buyer": "BuyerCanceled", "cancel-first": "NoInventory"}),
                ),
                20..=24 => (
                    json!({"kind": "requests-at", "after": "20m"}),
                    json!("BuyerCanceled"),
                ),
                25..=27 => (
                    json!({"kind": "cancels", "after": "3h"}),
                    json!({"ask-buyer": "CancelledElsewhere", "cancel-first": "NoInventory"}),
                ),
                _ => (
                    json!({"kind": "never"}),
                    json!({"ask-buyer": "GeneralAdjustment", "cancel-first": "NoInventory"}),
                ),
            }
        } else {
            // The seller ships a filled order within the day (Amazon shows the change).
            order["ship_after"] = json!(format!("{}h", 4 + rng.below(16)));
            (json!({"kind": "never"}), json!("NoCase"))
        };
        order["buyer"] = buyer;
        order["expect"] = expect;
        orders.push(order);
    }
    let mut skus: Vec<Value> = (0..stocked_skus)
        .map(|n| json!({"sku": stocked_sku(n), "on_hand": total + 1}))
        .collect();
    skus.extend(
        (0..burst_skus + sold_out_skus).map(|n| json!({"sku": sold_out_sku(n), "on_hand": 0})),
    );
    let end = last_ship_by + SignedDuration::from_hours(1);
    let sc: Scenario = serde_json::from_value(json!({
        "description": format!(
            "volume: {} orders a day for {} day(s), {}% unfillable, and a burst of {} unfillable \
             orders in one hour; {} containers per function",
            o.orders_per_day, o.days, o.unfillable_percent, o.burst, o.containers
        ),
        "strategies": [o.strategy.as_setting()],
        "start": start.to_string(),
        "end": end.to_string(),
        "containers": o.containers,
        "concurrency": o.concurrency,
        "notify_on_placement": true,
        "skus": skus,
        "orders": orders,
    }))?;
    sc.validate()?;
    Ok(sc)
}

/// One operation's traffic over the run, against its usage plan.
#[derive(Debug, Clone, Serialize)]
pub struct OperationLoad {
    pub operation: String,
    /// Calls Amazon took (not answered 429).
    pub calls: usize,
    pub throttled: usize,
    /// Calls ÷ (rate × run length + burst).
    pub run_utilisation: f64,
    /// The most calls in any 10-minute window, and that ÷ (rate × 600 + burst).
    pub peak_window_calls: usize,
    pub peak_utilisation: f64,
}

/// One function's runs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FunctionRuns {
    pub runs: usize,
    pub failed: usize,
    /// Runs that left work for the next one (their budget ran out).
    pub cut_by_budget: usize,
    /// Runs longer than Lambda's timeout, on the virtual clock.
    pub over_timeout: usize,
    pub longest_secs: i64,
    /// Runs per container.
    pub per_container: BTreeMap<usize, usize>,
}

/// The benchmark's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub orders: usize,
    pub cases: usize,
    pub messages_sent: usize,
    pub feeds_created: usize,
    pub throttled_by_operation: BTreeMap<String, usize>,
    pub operations: Vec<OperationLoad>,
    pub functions: BTreeMap<String, FunctionRuns>,
    pub ship_by_misses: usize,
    pub unexpected_endings: usize,
    pub unexpected_examples: Vec<String>,
    pub broken_rules: usize,
    pub broken_examples: Vec<String>,
    pub requests_logged: usize,
    pub virtual_days: f64,
    pub wall_secs: f64,
    /// The harness process's peak resident memory, in MiB (Linux).
    pub peak_memory_mib: Option<u64>,
    pub containers: usize,
    pub concurrency: BTreeMap<String, usize>,
}

impl Figures {
    pub fn runs_cut(&self) -> usize {
        self.functions.values().map(|f| f.cut_by_budget).sum()
    }

    pub fn runs_over_timeout(&self) -> usize {
        self.functions.values().map(|f| f.over_timeout).sum()
    }

    pub fn throttled(&self) -> usize {
        self.throttled_by_operation.values().sum()
    }
}

/// The status Amazon acted on: a lost answer's processed status, else the status sent.
fn processed(l: &Value) -> Option<u64> {
    l.get("processed_status")
        .or_else(|| l.get("status"))
        .and_then(Value::as_u64)
}

/// Reads the figures off a finished run.
pub fn figures(sc: &Scenario, f: &Finished, wall: Duration, o: &VolumeOptions) -> Figures {
    let log = f.world.sim.log();
    let run_secs = sc.end.duration_since(sc.start).as_secs_f64();
    let mut times: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut throttled: BTreeMap<String, usize> = BTreeMap::new();
    let (mut messages, mut feeds) = (0, 0);
    for l in &log {
        let Some(op) = l["operation"].as_str() else {
            continue;
        };
        if crate::sim::Sim::usage_plan(op).is_none() {
            continue;
        }
        if l["status"] == 429 {
            *throttled.entry(op.to_string()).or_default() += 1;
            continue;
        }
        if let Some(t) = l["time"].as_str().and_then(|t| t.parse::<Timestamp>().ok()) {
            times.entry(op.to_string()).or_default().push(t.as_second());
        }
        match (op, processed(l)) {
            ("createUnexpectedProblem", Some(201)) => messages += 1,
            ("createFeed", Some(202)) => feeds += 1,
            _ => {}
        }
    }
    let mut operations: Vec<OperationLoad> = times
        .into_iter()
        .map(|(op, mut ts)| {
            let (rate, burst) = crate::sim::Sim::usage_plan(&op).unwrap_or((1.0, 1.0));
            ts.sort_unstable();
            let mut peak = 0;
            let mut lo = 0;
            for hi in 0..ts.len() {
                while ts[hi] - ts[lo] >= 600 {
                    lo += 1;
                }
                peak = peak.max(hi + 1 - lo);
            }
            OperationLoad {
                throttled: throttled.get(&op).copied().unwrap_or(0),
                calls: ts.len(),
                run_utilisation: ts.len() as f64 / (rate * run_secs + burst),
                peak_window_calls: peak,
                peak_utilisation: peak as f64 / (rate * 600.0 + burst),
                operation: op,
            }
        })
        .collect();
    operations.sort_by(|a, b| b.peak_utilisation.total_cmp(&a.peak_utilisation));

    let mut functions: BTreeMap<String, FunctionRuns> = BTreeMap::new();
    for inv in &f.world.invocations {
        let r = functions
            .entry(inv.function.name().to_string())
            .or_default();
        r.runs += 1;
        *r.per_container.entry(inv.container).or_default() += 1;
        let secs = inv.ended.duration_since(inv.at).as_secs();
        r.longest_secs = r.longest_secs.max(secs);
        if secs > LAMBDA_TIMEOUT_SECS {
            r.over_timeout += 1;
        }
        match &inv.result {
            Ok(report) if report.left_for_next_run > 0 => r.cut_by_budget += 1,
            Ok(_) => {}
            Err(_) => r.failed += 1,
        }
    }
    let ship_by_misses = f
        .limits
        .orders
        .iter()
        .filter(|o| o.has_case && o.ship_by <= sc.end)
        .filter(|o| o.ended_at.is_none_or(|t| t >= o.ship_by))
        .count();
    let unexpected: Vec<&crate::scenario::OrderResult> =
        f.result.orders.iter().filter(|o| !o.ok).collect();
    let reserved = crate::harness::reserved_concurrency().ok();
    let concurrency = Function::ALL
        .iter()
        .map(|func| {
            let n = o
                .concurrency
                .or_else(|| reserved.map(|r| r[func]))
                .unwrap_or(1)
                .clamp(1, o.containers.max(1));
            (func.name().to_string(), n)
        })
        .collect();
    Figures {
        orders: sc.orders.len(),
        cases: f
            .result
            .orders
            .iter()
            .filter(|o| o.actual != "NoCase")
            .count(),
        messages_sent: messages,
        feeds_created: feeds,
        throttled_by_operation: throttled,
        operations,
        functions,
        ship_by_misses,
        unexpected_endings: unexpected.len(),
        unexpected_examples: unexpected
            .iter()
            .take(10)
            .map(|o| format!("{}: expected {}, got {}", o.order_id, o.expected, o.actual))
            .collect(),
        broken_rules: f.result.broken_rules.len(),
        broken_examples: f.result.broken_rules.iter().take(20).cloned().collect(),
        requests_logged: log.len(),
        virtual_days: run_secs / 86_400.0,
        wall_secs: wall.as_secs_f64(),
        peak_memory_mib: peak_memory_mib(),
        containers: o.containers,
        concurrency,
    }
}

/// VmHWM from /proc (Linux), in MiB.
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn goal(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "orders {}   cases {}   messages sent {}   feeds created {}   (virtual {:.1} days, {} requests logged)",
            self.orders,
            self.cases,
            self.messages_sent,
            self.feeds_created,
            self.virtual_days,
            self.requests_logged
        );
        let _ = writeln!(
            s,
            "containers per function {}; at once: {}",
            self.containers,
            self.concurrency
                .iter()
                .map(|(f, n)| format!("{f} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(s, "\nSP-API load (sorted by peak 10-minute utilisation):");
        let _ = writeln!(
            s,
            "  {:<30} {:>8} {:>6} {:>10} {:>12} {:>10}",
            "operation", "calls", "429s", "run util", "peak 10 min", "peak util"
        );
        for op in &self.operations {
            let _ = writeln!(
                s,
                "  {:<30} {:>8} {:>6} {:>9.1}% {:>12} {:>9.1}%",
                op.operation,
                op.calls,
                op.throttled,
                op.run_utilisation * 100.0,
                op.peak_window_calls,
                op.peak_utilisation * 100.0
            );
        }
        let _ = writeln!(s, "\nruns (virtual time; timeout {LAMBDA_TIMEOUT_SECS} s):");
        let _ = writeln!(
            s,
            "  {:<16} {:>6} {:>7} {:>13} {:>13} {:>10}  per container",
            "function", "runs", "failed", "cut (budget)", "over timeout", "longest s"
        );
        for (name, r) in &self.functions {
            let _ = writeln!(
                s,
                "  {:<16} {:>6} {:>7} {:>13} {:>13} {:>10}  {}",
                name,
                r.runs,
                r.failed,
                r.cut_by_budget,
                r.over_timeout,
                r.longest_secs,
                r.per_container
                    .values()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join("/")
            );
        }
        let _ = writeln!(s, "\nship-by misses {}", self.ship_by_misses);
        let _ = writeln!(
            s,
            "unexpected endings {}{}",
            self.unexpected_endings,
            if self.unexpected_examples.is_empty() {
                String::new()
            } else {
                format!(" (e.g. {})", self.unexpected_examples.join("; "))
            }
        );
        let _ = writeln!(s, "broken never-break rules {}", self.broken_rules);
        for b in &self.broken_examples {
            let _ = writeln!(s, "  BROKEN RULE: {b}");
        }
        let _ = writeln!(
            s,
            "wall time {:.0} s{}",
            self.wall_secs,
            self.peak_memory_mib
                .map(|m| format!(", peak memory {m} MiB"))
                .unwrap_or_default()
        );
        let feed_goal = self.feeds_created * 10 <= self.cases;
        let _ = writeln!(s, "\ngoals:");
        let _ = writeln!(
            s,
            "  0 ship-by misses ............ {} ({})",
            goal(self.ship_by_misses == 0),
            self.ship_by_misses
        );
        let _ = writeln!(
            s,
            "  0 simulator 429s ............ {} ({})",
            goal(self.throttled() == 0),
            self.throttled()
        );
        let _ = writeln!(
            s,
            "  feeds <= cases / 10 ......... {} ({} feeds, {} cases)",
            goal(feed_goal),
            self.feeds_created,
            self.cases
        );
        let _ = writeln!(
            s,
            "  every run within its budget  {} ({} cut, {} over the timeout)",
            goal(self.runs_cut() == 0 && self.runs_over_timeout() == 0),
            self.runs_cut(),
            self.runs_over_timeout()
        );
        out.write_str(&s)
    }
}
