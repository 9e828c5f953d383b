//! The seller report: what kenzen did with the orders of the last days, for the seller to read.
//!
//! [`SellerReport::build`] reads the cases opened in the window (open and ended), their
//! timelines and the order counts, and makes one row per case, a day-by-day series and totals
//! with the pre-fulfilment cancel rate: kenzen's GeneralAdjustment and NoInventory cancels over
//! the merchant-fulfilled orders counted, against Amazon's target of under 2.5%. A BuyerCanceled
//! cancel does not count, nor does a case that closed without kenzen's cancel.
//!
//! Renderings: [`SellerReport::render_text`] (a table that fits a terminal), JSON (serde), and
//! [`SellerReport::render_html`] (one self-contained page: inline CSS and an inline SVG chart,
//! no script, no fonts, nothing fetched). Times are each marketplace's local time.
//!
//! A dry-run case (a rehearsal: nothing reached the marketplace) shows what kenzen would have
//! done: its texts are counted as messages not sent, its cancel as a "would have" ending, and
//! neither goes into the cancel rate, which is over what happened; the totals give the rate the
//! rehearsals would have made too.
//!
//! It reads and never writes, decides nothing (the rows say what the cases say), and carries no
//! buyer data: order ids, SKUs, titles and kenzen's own notes only.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use kenzen_core::health::percent;
use kenzen_core::policy::marketplace_zone;
use kenzen_core::{CancelReason, Case, CaseState, CloseReason, OpenReason};
use serde::Serialize;

use crate::ports::{ReportStore, StoreError, TimelineEntry};

/// Amazon's target for the pre-fulfilment cancel rate: under 2.5%.
pub const TARGET_PERCENT: f64 = 2.5;

/// The longest window a report covers (ended cases are kept 400 days).
pub const MAX_DAYS: u32 = 400;

/// How many days past the window the chart runs to show ship-by dates still ahead.
const AHEAD_DAYS: i64 = 14;

/// A report over the cases opened in the last days.
#[derive(Debug, Clone, Serialize)]
pub struct SellerReport {
    pub built_at: Zoned,
    /// Whole local days covered, today included.
    pub days: u32,
    pub from: Date,
    pub to: Date,
    /// The time zone of the days in `daily` (the marketplace with the most orders and cases).
    pub time_zone: String,
    pub marketplaces: Vec<String>,
    pub rows: Vec<ReportRow>,
    /// Day by day, from `from` to the last ship-by shown (at most two weeks past `to`).
    pub daily: Vec<DayRow>,
    pub totals: Totals,
    /// Stored items that could not be read (their keys; no buyer data).
    pub unreadable: Vec<String>,
    /// What the reader should know about the figures.
    pub notes: Vec<String>,
}

/// One case.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub order_id: String,
    pub marketplace_id: String,
    pub skus: Vec<String>,
    pub titles: Vec<String>,
    /// Why the case was opened, in a few words.
    pub reason: String,
    /// Why, in full (kenzen's note).
    pub reason_detail: String,
    pub strategy: String,
    pub opened: Zoned,
    pub ship_by: Zoned,
    /// Messages Amazon accepted.
    pub messages_sent: u32,
    /// Messages sent whose answer was lost (they may have reached the buyer).
    pub messages_unknown: u32,
    pub ending: Ending,
    pub ended: Option<Zoned>,
    /// kenzen cancelled the order (or some of its lines) for a reason that counts against the
    /// pre-fulfilment cancel rate.
    pub counts_against_rate: bool,
    /// Opened in dry-run mode: a rehearsal, nothing reached the marketplace.
    pub dry_run: bool,
    /// Dry run: messages kenzen would have sent.
    pub messages_rehearsed: u32,
    /// Dry run: the cancel kenzen would have made counts against the rate.
    pub would_count: bool,
}

/// How a case ended, or where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ending {
    /// kenzen cancelled the order; `reason` as the feed says it.
    Cancelled { reason: String },
    /// Dry run: kenzen would have cancelled the order for `reason` (nothing was sent).
    WouldHaveCancelled { reason: String },
    /// The case ended without kenzen's cancel: shipped, cancelled elsewhere, withdrawn.
    Closed { why: String },
    /// Still open: its state, what comes next (local time), and the cancel planned, if one is.
    Open {
        state: String,
        next: String,
        cancel: Option<String>,
    },
}

impl Ending {
    /// A few words: "cancelled BuyerCanceled", "closed: shipped", "open: request 12-02 08:30".
    pub fn describe(&self) -> String {
        match self {
            Self::Cancelled { reason } => format!("cancelled {reason}"),
            Self::WouldHaveCancelled { reason } => format!("would have cancelled {reason}"),
            Self::Closed { why } => format!("closed: {why}"),
            Self::Open { next, .. } => format!("open: {next}"),
        }
    }

    /// [`Self::describe`] with an open case's state and planned cancel.
    pub fn describe_long(&self) -> String {
        match self {
            Self::Open {
                state,
                next,
                cancel,
            } => {
                let cancel = cancel
                    .as_deref()
                    .map(|c| format!(" (as {c})"))
                    .unwrap_or_default();
                format!("open, {state}: {next}{cancel}")
            }
            other => other.describe(),
        }
    }
}

/// One local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRow {
    pub day: Date,
    pub orders: u64,
    pub cases_opened: u32,
    pub messages_sent: u32,
    pub cancels_counted: u32,
    pub cancels_exempt: u32,
    /// Dry run: messages and cancels kenzen would have sent (none went out).
    pub messages_rehearsed: u32,
    pub rehearsed_counted: u32,
    pub rehearsed_exempt: u32,
    /// Cases whose ship-by falls on this day.
    pub ship_by: u32,
}

/// The report's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Merchant-fulfilled orders counted in the window.
    pub orders: u64,
    pub cases: u32,
    pub messages_sent: u32,
    pub messages_unknown: u32,
    /// kenzen's cancels that count against the rate (GeneralAdjustment, NoInventory).
    pub cancels_counted: u32,
    /// kenzen's cancels that do not (BuyerCanceled).
    pub cancels_exempt: u32,
    /// Cases that ended without kenzen's cancel.
    pub closed: u32,
    pub open: u32,
    /// Counted cancels over orders, in percent; `None` without orders.
    pub rate_percent: Option<f64>,
    pub target_percent: f64,
    /// Dry run: cases kenzen would have cancelled, the messages it would have sent, and how
    /// many of those cancels would count or not.
    pub rehearsed: u32,
    pub messages_rehearsed: u32,
    pub rehearsed_counted: u32,
    pub rehearsed_exempt: u32,
    /// The rate had the rehearsals been live: counted and would-count cancels over orders.
    pub rate_if_live_percent: Option<f64>,
}

impl Totals {
    /// The rate as the reports print it: "14.29%", or "n/a" without orders.
    pub fn rate_text(&self) -> String {
        self.rate_percent
            .map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}%"))
    }

    pub fn within_target(&self) -> bool {
        self.rate_percent.is_some_and(|r| r < self.target_percent)
    }
}

/// A message entry of a timeline that Amazon accepted (`201`).
fn message_sent(e: &TimelineEntry) -> bool {
    e.kind == "message" && e.answer.as_deref().is_some_and(|a| a.starts_with("201"))
}

/// A message entry a dry run recorded instead of sending.
fn message_rehearsed(e: &TimelineEntry) -> bool {
    e.kind == "message"
        && e.answer
            .as_deref()
            .is_some_and(|a| a.starts_with("not sent (dry run)"))
}

/// A message entry whose answer was lost.
fn message_unknown(e: &TimelineEntry) -> bool {
    e.kind == "message"
        && e.answer
            .as_deref()
            .is_some_and(|a| a.starts_with("outcome unknown"))
}

/// The reason in a few words.
fn short_reason(r: &OpenReason) -> String {
    match r {
        OpenReason::StockShort {
            on_hand: 0,
            ordered: _,
            ..
        } => "sold out".into(),
        OpenReason::StockShort {
            on_hand, ordered, ..
        } => format!("only {on_hand} of {ordered}"),
        OpenReason::BelowProfitFloor { profit, .. } => format!("profit {profit}"),
        OpenReason::ManualFlag { .. } => "flagged".into(),
    }
}

impl DayRow {
    fn on(day: Date) -> Self {
        Self {
            day,
            orders: 0,
            cases_opened: 0,
            messages_sent: 0,
            cancels_counted: 0,
            cancels_exempt: 0,
            messages_rehearsed: 0,
            rehearsed_counted: 0,
            rehearsed_exempt: 0,
            ship_by: 0,
        }
    }
}

/// The row of `day`, made when missing.
fn day_mut(daily: &mut BTreeMap<Date, DayRow>, day: Date) -> &mut DayRow {
    daily.entry(day).or_insert_with(|| DayRow::on(day))
}

fn local(t: Timestamp, tz: &TimeZone) -> Zoned {
    t.to_zoned(tz.clone())
}

/// `12-03 23:59`
fn short(z: &Zoned) -> String {
    z.strftime("%m-%d %H:%M").to_string()
}

/// Where an open case stands and what comes next.
fn open_ending(case: &Case, tz: &TimeZone) -> Ending {
    let at = |t: Timestamp| short(&local(t, tz));
    let (next, cancel) = match &case.state {
        CaseState::Requesting {
            next_at: Some(t), ..
        } => (format!("request {}", at(*t)), None),
        CaseState::Requesting { next_at: None, .. } => {
            (format!("final message {}", at(case.final_notice_at)), None)
        }
        CaseState::FinalNotice { next_try, .. } => {
            (format!("final message {}", at(*next_try)), None)
        }
        CaseState::CancelDue {
            plan, not_before, ..
        } => (format!("cancel {}", at(*not_before)), Some(plan.reason())),
        CaseState::CancelSubmitted { plan, check_at, .. } => (
            format!("cancel sent, check {}", at(*check_at)),
            Some(plan.reason()),
        ),
        CaseState::Cancelled { .. } | CaseState::Closed { .. } => (String::new(), None),
    };
    Ending::Open {
        state: case.state.name().into(),
        next,
        cancel: cancel.map(|r| r.as_feed().to_string()),
    }
}

/// The row's ending, when it ended, and whether it counts against the rate or is exempt.
struct Outcome {
    ending: Ending,
    ended: Option<Timestamp>,
    counted: bool,
    exempt: bool,
    /// When kenzen's (first) cancel of the order went through.
    cancelled_at: Option<Timestamp>,
}

fn outcome(case: &Case, tz: &TimeZone) -> Outcome {
    let counts = |r: CancelReason| r != CancelReason::BuyerCanceled;
    let lines_counted = case.lines_cancelled.iter().any(|l| counts(l.reason));
    let lines_at = case.lines_cancelled.iter().map(|l| l.at).min();
    match &case.state {
        CaseState::Cancelled { reason, at, .. } => Outcome {
            ending: match case.dry_run {
                true => Ending::WouldHaveCancelled {
                    reason: reason.as_feed().into(),
                },
                false => Ending::Cancelled {
                    reason: reason.as_feed().into(),
                },
            },
            ended: Some(*at),
            counted: counts(*reason) || lines_counted,
            exempt: !(counts(*reason) || lines_counted),
            cancelled_at: Some(lines_at.map_or(*at, |l| l.min(*at))),
        },
        CaseState::Closed { why, at } => Outcome {
            ending: Ending::Closed {
                why: match why {
                    CloseReason::Shipped => "shipped".into(),
                    CloseReason::CancelledElsewhere { .. } => "cancelled elsewhere".into(),
                    CloseReason::Withdrawn { .. } => "withdrawn".into(),
                    CloseReason::NotApproved { .. } => "not approved, left to the seller".into(),
                },
            },
            ended: Some(*at),
            counted: lines_counted,
            exempt: !lines_counted && lines_at.is_some(),
            cancelled_at: lines_at,
        },
        _ => Outcome {
            ending: open_ending(case, tz),
            ended: None,
            counted: lines_counted,
            exempt: !lines_counted && lines_at.is_some(),
            cancelled_at: lines_at,
        },
    }
}

impl SellerReport {
    /// Reads the cases opened in the last `days` local days (today included; 1 to
    /// [`MAX_DAYS`], a value outside is brought within), their timelines and the order counts.
    /// A case or timeline that cannot be read is listed by its key and left out; a database
    /// failure is the error.
    pub async fn build<S: ReportStore>(
        store: &S,
        now: Timestamp,
        days: u32,
    ) -> Result<SellerReport, StoreError> {
        let days = days.clamp(1, MAX_DAYS);
        let back = SignedDuration::from_hours(24 * i64::from(days));
        // Whole local days, each marketplace in its own time zone.
        let window = |marketplace: &str| {
            let today = now.to_zoned(marketplace_zone(marketplace)).date();
            let from = today
                .checked_sub(jiff::Span::new().days(i64::from(days) - 1))
                .unwrap_or(today);
            (from, today)
        };
        // A day's margin each side covers every time zone; each case is then held to its own.
        let read = store
            .cases_opened_since(now - back - SignedDuration::from_hours(24))
            .await?;
        let mut unreadable: Vec<String> = read.unreadable.into_iter().map(|u| u.key).collect();
        let mut cases: Vec<Case> = read
            .cases
            .into_iter()
            .map(|vc| vc.value)
            .filter(|c| {
                let (from, _) = window(c.marketplace_id.as_str());
                local(c.opened_at, &marketplace_zone(c.marketplace_id.as_str())).date() >= from
            })
            .collect();
        cases.sort_by(|a, b| (a.opened_at, &a.order_id).cmp(&(b.opened_at, &b.order_id)));
        let utc_today = now.to_zoned(TimeZone::UTC).date();
        let widest = |d: Date, n: i64| d.checked_add(jiff::Span::new().days(n)).unwrap_or(d);
        let counts = store
            .order_counts(widest(utc_today, -i64::from(days)), widest(utc_today, 1))
            .await?
            .into_iter()
            .filter(|c| {
                let (from, to) = window(&c.marketplace_id);
                (from..=to).contains(&c.day)
            })
            .collect::<Vec<_>>();

        // The report's own time zone: the marketplace with the most orders and cases.
        let mut weight: BTreeMap<String, u64> = BTreeMap::new();
        for c in &counts {
            *weight.entry(c.marketplace_id.clone()).or_default() += c.orders;
        }
        for c in &cases {
            *weight.entry(c.marketplace_id.to_string()).or_default() += 1;
        }
        let marketplaces: Vec<String> = weight.keys().cloned().collect();
        let home = weight
            .iter()
            .max_by_key(|(m, n)| (**n, std::cmp::Reverse((*m).clone())))
            .map(|(m, _)| m.clone());
        let (tz, time_zone) = match &home {
            Some(m) => (
                marketplace_zone(m),
                kenzen_core::policy::marketplace_time_zone(m).to_string(),
            ),
            None => (TimeZone::UTC, "UTC".to_string()),
        };
        let (from, to) = home.as_deref().map_or_else(|| window("UTC"), window);

        let mut totals = Totals {
            orders: counts.iter().map(|c| c.orders).sum(),
            target_percent: TARGET_PERCENT,
            ..Totals::default()
        };
        let mut daily: BTreeMap<Date, DayRow> = BTreeMap::new();
        for c in &counts {
            day_mut(&mut daily, c.day).orders += c.orders;
        }
        let mut rows = Vec::new();
        for case in &cases {
            let ctz = marketplace_zone(case.marketplace_id.as_str());
            let timeline = match store.timeline(&case.order_id).await {
                Ok(t) => t,
                Err(StoreError::Corrupt { key, detail }) => {
                    tracing::warn!(key, detail, "timeline unreadable; its messages not counted");
                    unreadable.push(key);
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            let day_of = |t: Timestamp| local(t, &ctz).date();
            let sent: Vec<&TimelineEntry> = timeline.iter().filter(|e| message_sent(e)).collect();
            let rehearsed: Vec<&TimelineEntry> =
                timeline.iter().filter(|e| message_rehearsed(e)).collect();
            for e in &sent {
                day_mut(&mut daily, day_of(e.at)).messages_sent += 1;
            }
            for e in &rehearsed {
                day_mut(&mut daily, day_of(e.at)).messages_rehearsed += 1;
            }
            let o = outcome(case, &ctz);
            // A rehearsal's cancel goes into the would-have figures, never into the rate.
            let (counted, exempt) = (o.counted && !case.dry_run, o.exempt && !case.dry_run);
            let (would_count, would_exempt) = (o.counted && case.dry_run, o.exempt && case.dry_run);
            day_mut(&mut daily, day_of(case.opened_at)).cases_opened += 1;
            day_mut(&mut daily, day_of(case.ship_by)).ship_by += 1;
            if let Some(at) = o.cancelled_at {
                let d = day_mut(&mut daily, day_of(at));
                d.cancels_counted += u32::from(counted);
                d.cancels_exempt += u32::from(exempt);
                d.rehearsed_counted += u32::from(would_count);
                d.rehearsed_exempt += u32::from(would_exempt);
            }
            totals.cases += 1;
            totals.messages_sent += sent.len() as u32;
            totals.messages_rehearsed += rehearsed.len() as u32;
            let unknown = timeline.iter().filter(|e| message_unknown(e)).count() as u32;
            totals.messages_unknown += unknown;
            totals.cancels_counted += u32::from(counted);
            totals.cancels_exempt += u32::from(exempt);
            totals.rehearsed_counted += u32::from(would_count);
            totals.rehearsed_exempt += u32::from(would_exempt);
            match o.ending {
                Ending::Closed { .. } => totals.closed += 1,
                Ending::Open { .. } => totals.open += 1,
                Ending::WouldHaveCancelled { .. } => totals.rehearsed += 1,
                Ending::Cancelled { .. } => {}
            }
            rows.push(ReportRow {
                order_id: case.order_id.to_string(),
                marketplace_id: case.marketplace_id.to_string(),
                skus: case.items.iter().map(|i| i.sku.to_string()).collect(),
                titles: case.items.iter().map(|i| i.title.clone()).collect(),
                reason: short_reason(&case.reason),
                reason_detail: case.reason.describe(),
                strategy: case.strategy.as_setting().into(),
                opened: local(case.opened_at, &ctz),
                ship_by: local(case.ship_by, &ctz),
                messages_sent: sent.len() as u32,
                messages_unknown: unknown,
                ending: o.ending,
                ended: o.ended.map(|t| local(t, &ctz)),
                counts_against_rate: counted,
                dry_run: case.dry_run,
                messages_rehearsed: rehearsed.len() as u32,
                would_count,
            });
        }
        let rate = |cancels: u32| {
            (totals.orders > 0).then(|| f64::from(cancels) * 100.0 / totals.orders as f64)
        };
        totals.rate_percent = rate(totals.cancels_counted);
        totals.rate_if_live_percent = rate(totals.cancels_counted + totals.rehearsed_counted);

        // Every day of the window, and ship-by days ahead (two weeks at most).
        let last_ship_by = daily
            .iter()
            .filter(|(_, d)| d.ship_by > 0)
            .map(|(day, _)| *day)
            .max()
            .unwrap_or(to);
        let end = last_ship_by.max(to).min(widest(to, AHEAD_DAYS));
        let mut series = Vec::new();
        let mut day = from;
        while day <= end {
            series.push(daily.get(&day).cloned().unwrap_or_else(|| DayRow::on(day)));
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }

        let mut notes = Vec::new();
        if totals.orders == 0 {
            notes.push(
                "No orders were counted in these days, so there is no rate: kenzen counts \
                 merchant-fulfilled orders as it first sees them."
                    .to_string(),
            );
        } else if totals.orders < u64::from(totals.cases) {
            notes.push(format!(
                "Fewer orders were counted ({}) than there are cases ({}): orders placed before \
                 kenzen began counting are missing, so the rate is too high.",
                totals.orders, totals.cases
            ));
        }
        if totals.messages_unknown > 0 {
            notes.push(format!(
                "{} message(s) were sent but Amazon's answer was lost: they may have reached \
                 the buyer and were never sent again.",
                totals.messages_unknown
            ));
        }
        if marketplaces.len() > 1 {
            notes.push(format!(
                "Orders and cases of {} marketplaces are added up; Amazon rates each on its own.",
                marketplaces.len()
            ));
        }
        // Amazon's own figures, with kenzen's counts since, where they were fetched.
        for m in &marketplaces {
            let name = crate::service::health::country(m);
            match crate::service::health::standing(store, m, now).await {
                Ok(Some(st)) => notes.push(format!(
                    "Amazon's figures, {name}: cancel rate {} now, {} after one more seller \
                     cancel ({}).",
                    percent(st.now.rate),
                    percent(st.after_one.rate),
                    st.now
                        .target
                        .map_or_else(|| "no target".into(), |t| format!("target {}", percent(t)))
                )),
                Ok(None) => {}
                Err(e) => notes.push(format!("Amazon's figures, {name}: not read ({e}).")),
            }
        }
        if !unreadable.is_empty() {
            notes.push(format!(
                "{} stored item(s) could not be read and are left out: {}",
                unreadable.len(),
                unreadable.join(", ")
            ));
        }
        Ok(SellerReport {
            built_at: local(now, &tz),
            days,
            from,
            to,
            time_zone,
            marketplaces,
            rows,
            daily: series,
            totals,
            unreadable,
            notes,
        })
    }

    /// The report for a terminal: a header, one line per order, the totals. Local times only;
    /// at most about 105 columns.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "kenzen report: {} day(s), {} to {} ({}), built {}",
            self.days,
            self.from,
            self.to,
            self.time_zone,
            short(&self.built_at)
        );
        if self.rows.is_empty() {
            let _ = writeln!(out, "no cases were opened in these days");
        } else {
            let _ = writeln!(
                out,
                "{:<19}  {:<12} {:<11} {:<11} {:>4} {:<5} ending",
                "order", "SKU", "reason", "ship-by", "msgs", "rate"
            );
            for r in &self.rows {
                // A rehearsal's figures in brackets: what it would have done.
                let msgs = if r.dry_run {
                    format!("({})", r.messages_rehearsed)
                } else if r.messages_unknown > 0 {
                    format!("{}+{}?", r.messages_sent, r.messages_unknown)
                } else {
                    r.messages_sent.to_string()
                };
                let skus = match r.skus.as_slice() {
                    [] => String::new(),
                    [one] => one.clone(),
                    [first, rest @ ..] => format!("{first} +{}", rest.len()),
                };
                let _ = writeln!(
                    out,
                    "{:<19}  {:<12} {:<11} {:<11} {:>4} {:<5} {}",
                    r.order_id,
                    clip(&skus, 12),
                    clip(&r.reason, 11),
                    short(&r.ship_by),
                    msgs,
                    match (r.counts_against_rate, r.would_count) {
                        (true, _) => "yes",
                        (false, true) => "(yes)",
                        (false, false) => "-",
                    },
                    clip(&r.ending.describe(), 38)
                );
            }
        }
        let t = &self.totals;
        let cancelled = t.cases.saturating_sub(t.closed + t.open + t.rehearsed);
        let rehearsed = match t.rehearsed {
            0 => String::new(),
            n => format!("{n} dry run, "),
        };
        let unknown = match t.messages_unknown {
            0 => String::new(),
            n => format!(" (+{n} outcome unknown)"),
        };
        let _ = writeln!(
            out,
            "orders {}  cases {} ({cancelled} cancelled, {rehearsed}{} closed, {} open)  messages sent \
             {}{unknown}",
            t.orders, t.cases, t.closed, t.open, t.messages_sent
        );
        let _ = writeln!(
            out,
            "cancel rate {} = {} counted / {} orders (exempt: {} BuyerCanceled); target under {}%{}",
            t.rate_text(),
            t.cancels_counted,
            t.orders,
            t.cancels_exempt,
            t.target_percent,
            match t.rate_percent {
                Some(_) if t.within_target() => ": met",
                Some(_) => ": ABOVE",
                None => "",
            }
        );
        if self.rows.iter().any(|r| r.dry_run) {
            let _ = writeln!(
                out,
                "dry run (in brackets): would have sent {} message(s), cancelled {} ({} counting); \
                 rate if live {}",
                t.messages_rehearsed,
                t.rehearsed_counted + t.rehearsed_exempt,
                t.rehearsed_counted,
                t.rate_if_live_percent
                    .map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}%"))
            );
        }
        for n in &self.notes {
            for (i, line) in wrap(n, 94).iter().enumerate() {
                let _ = writeln!(out, "{}{line}", if i == 0 { "note: " } else { "      " });
            }
        }
        out
    }

    /// The report as one self-contained HTML page: the totals, a day-by-day chart (inline SVG)
    /// and one table row per order (`<tr data-order="...">`). No script, no external resource.
    pub fn render_html(&self) -> String {
        let t = &self.totals;
        let mut h = String::with_capacity(16 * 1024);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>kenzen report {} to {}</title><style>{CSS}</style></head><body>\n",
            self.from, self.to
        );
        let _ = writeln!(
            h,
            "<header><h1>kenzen report</h1><p class=\"sub\">{} day(s), {} to {} ({}), built {}\
             </p></header>",
            self.days,
            self.from,
            self.to,
            esc(&self.time_zone),
            esc(&short(&self.built_at))
        );
        let rate_class = match t.rate_percent {
            Some(_) if t.within_target() => "good",
            Some(_) => "bad",
            None => "none",
        };
        let _ = write!(h, "<section class=\"totals\">");
        for (label, value) in [
            ("orders", t.orders.to_string()),
            ("cases", t.cases.to_string()),
            ("messages sent", t.messages_sent.to_string()),
            ("cancels that count", t.cancels_counted.to_string()),
            ("exempt (BuyerCanceled)", t.cancels_exempt.to_string()),
            ("closed without cancel", t.closed.to_string()),
            ("still open", t.open.to_string()),
        ]
        .into_iter()
        .chain(self.rows.iter().any(|r| r.dry_run).then(|| {
            (
                "dry run: would have cancelled",
                (t.rehearsed_counted + t.rehearsed_exempt).to_string(),
            )
        })) {
            let _ = write!(
                h,
                "<div class=\"card\"><b>{}</b><span>{}</span></div>",
                esc(&value),
                esc(label)
            );
        }
        let _ = writeln!(
            h,
            "<div class=\"card rate {rate_class}\" id=\"rate\"><b>{}</b><span>cancel rate \
             (target under {}%)</span></div></section>",
            esc(&t.rate_text()),
            t.target_percent
        );
        if self.rows.iter().any(|r| r.dry_run) {
            let _ = writeln!(
                h,
                "<p class=\"note\" id=\"dry-run\">Dry run: nothing reached Amazon for the rows \
                 marked <span class=\"badge\">dry run</span>. Live, kenzen would have sent {} \
                 message(s) and cancelled {} order(s), {} of them counting: a cancel rate of {}. \
                 The chart shows these lighter.</p>",
                t.messages_rehearsed,
                t.rehearsed_counted + t.rehearsed_exempt,
                t.rehearsed_counted,
                esc(&t
                    .rate_if_live_percent
                    .map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}%")))
            );
        }
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            self.chart_svg(),
            LEGEND
        );
        let _ = writeln!(
            h,
            "<table><thead><tr><th>order</th><th>items</th><th>reason</th><th>opened</th>\
             <th>ship-by</th><th>messages</th><th>ending</th><th>counts</th></tr></thead><tbody>"
        );
        for r in &self.rows {
            let items: Vec<String> = r
                .skus
                .iter()
                .zip(&r.titles)
                .map(|(s, t)| format!("<b>{}</b> {}", esc(s), esc(t)))
                .collect();
            let msgs = if r.dry_run {
                format!("{} <small>not sent</small>", r.messages_rehearsed)
            } else if r.messages_unknown > 0 {
                format!(
                    "{} <small>+{} unknown</small>",
                    r.messages_sent, r.messages_unknown
                )
            } else {
                r.messages_sent.to_string()
            };
            let badge = if r.dry_run {
                " <span class=\"badge\">dry run</span>"
            } else {
                ""
            };
            let ended = r
                .ended
                .as_ref()
                .map(|z| format!(" <small>{}</small>", esc(&short(z))))
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<tr data-order=\"{id}\" class=\"{cls}\"><td class=\"id\">{id}</td><td>{items}</td>\
                 <td title=\"{detail}\">{reason}</td><td class=\"t\">{opened}</td><td class=\"t\">{ship_by}</td>\
                 <td class=\"n\">{msgs}</td><td>{ending}{ended}{badge}</td><td>{counts}</td></tr>",
                id = esc(&r.order_id),
                cls = match (&r.ending, r.counts_against_rate) {
                    (_, true) => "counted",
                    (Ending::Cancelled { .. }, false) => "exempt",
                    (Ending::WouldHaveCancelled { .. }, false) => "rehearsal",
                    (Ending::Closed { .. }, _) => "closed",
                    (Ending::Open { .. }, _) => "open",
                },
                items = items.join("<br>"),
                detail = esc(&r.reason_detail),
                reason = esc(&r.reason),
                opened = esc(&short(&r.opened)),
                ship_by = esc(&short(&r.ship_by)),
                ending = esc(&r.ending.describe_long()),
                counts = match (r.counts_against_rate, r.would_count) {
                    (true, _) => "yes",
                    (false, true) => "would",
                    (false, false) => "no",
                },
            );
        }
        if self.rows.is_empty() {
            let _ = write!(
                h,
                "<tr><td colspan=\"8\">no cases were opened in these days</td></tr>"
            );
        }
        let _ = writeln!(h, "</tbody></table>");
        for n in &self.notes {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
        }
        h.push_str("</body></html>\n");
        h
    }

    /// The day-by-day chart: per day, cases opened, messages sent and cancels (counted stacked
    /// on exempt), ship-by days marked, the orders of each day written under it.
    fn chart_svg(&self) -> String {
        const W: f64 = 1200.0;
        const H: f64 = 340.0;
        const LEFT: f64 = 44.0;
        const RIGHT: f64 = 12.0;
        const TOP: f64 = 28.0;
        const BOTTOM: f64 = 64.0;
        let n = self.daily.len().max(1) as f64;
        let plot_w = W - LEFT - RIGHT;
        let plot_h = H - TOP - BOTTOM;
        let slot = plot_w / n;
        let top = self
            .daily
            .iter()
            .map(|d| {
                d.cases_opened
                    .max(d.messages_sent + d.messages_rehearsed)
                    .max(
                        d.cancels_counted
                            + d.cancels_exempt
                            + d.rehearsed_counted
                            + d.rehearsed_exempt,
                    )
            })
            .max()
            .unwrap_or(0)
            .max(1);
        let step = nice_step(top);
        let top = top.div_ceil(step) * step;
        let y = |v: u32| TOP + plot_h - plot_h * f64::from(v) / f64::from(top);
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"100%\" \
             role=\"img\" aria-label=\"cases, messages and cancels per day\">"
        );
        let _ = write!(
            s,
            "<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#fbfaf7\"/>"
        );
        let mut v = 0;
        while v <= top {
            let yy = y(v);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd8cc\"/>\
                 <text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{v}</text>",
                W - RIGHT,
                LEFT - 6.0,
                yy + 4.0
            );
            v += step;
        }
        let bar = (slot * 0.22).min(36.0);
        for (i, d) in self.daily.iter().enumerate() {
            let x0 = LEFT + slot * i as f64;
            let mid = x0 + slot / 2.0;
            let day = d.day.strftime("%m-%d").to_string();
            let future = d.day > self.to;
            if d.ship_by > 0 {
                let _ = write!(
                    s,
                    "<g class=\"shipby\"><line x1=\"{mid:.1}\" x2=\"{mid:.1}\" y1=\"{TOP}\" \
                     y2=\"{:.1}\" stroke=\"#d9822b\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\
                     <text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"mark\">\
                     ship-by \u{d7}{}</text></g>",
                    TOP + plot_h,
                    TOP - 10.0,
                    d.ship_by
                );
            }
            // A bar from `from` to `to`; a dry run's (what would have been) lighter, on top.
            let mut rect = |x: f64, from: u32, to: u32, fill: &str, what: &str| {
                if to > from {
                    let light = what.starts_with("would");
                    let _ = write!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" \
                         fill=\"{fill}\" fill-opacity=\"{}\"><title>{day}: {} {what}</title></rect>",
                        y(to),
                        y(from) - y(to),
                        if light { "0.4" } else { "1" },
                        to - from
                    );
                }
            };
            let x = mid - bar * 1.5;
            let (sent, exempt) = (d.messages_sent, d.cancels_exempt);
            let counted = exempt + d.cancels_counted;
            let (would_exempt, would_count) = (
                counted + d.rehearsed_exempt,
                counted + d.rehearsed_exempt + d.rehearsed_counted,
            );
            rect(x, 0, d.cases_opened, "#3b6fb6", "case(s) opened");
            rect(x + bar, 0, sent, "#7fb3ab", "message(s) sent");
            let rehearsed = sent + d.messages_rehearsed;
            rect(
                x + bar,
                sent,
                rehearsed,
                "#7fb3ab",
                "would-be message(s), dry run",
            );
            let c = x + 2.0 * bar;
            rect(c, 0, exempt, "#5a9e4b", "cancel(s) exempt");
            rect(c, exempt, counted, "#c8432b", "cancel(s) counted");
            rect(
                c,
                counted,
                would_exempt,
                "#5a9e4b",
                "would-be cancel(s) exempt, dry run",
            );
            rect(
                c,
                would_exempt,
                would_count,
                "#c8432b",
                "would-be cancel(s) counted, dry run",
            );
            let _ = write!(
                s,
                "<text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"{}\">{day}</text>\
                 <text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"orders\">{}</text>",
                TOP + plot_h + 18.0,
                if future { "day ahead" } else { "day" },
                TOP + plot_h + 36.0,
                if future {
                    String::new()
                } else {
                    format!("{} orders", d.orders)
                }
            );
        }
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#6b665c\"/></svg>",
            W - RIGHT,
            TOP + plot_h,
            TOP + plot_h
        );
        s
    }
}

/// A step for the chart's scale: 1, 2, 5, 10, 20, 50, ... so that about five lines show.
fn nice_step(top: u32) -> u32 {
    let mut step = 1u32;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if top / s <= 5 {
                return s;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// `s` in lines of at most `width` characters, broken at spaces.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in s.split_whitespace() {
        match lines.last_mut() {
            Some(last) if last.chars().count() + 1 + word.chars().count() <= width => {
                last.push(' ');
                last.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// `s` cut to `width` characters (the last one an ellipsis when cut).
fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('\u{2026}');
    out
}

/// Text made safe for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const LEGEND: &str = "<span class=\"key\" style=\"background:#3b6fb6\"></span>cases opened \
    <span class=\"key\" style=\"background:#7fb3ab\"></span>messages sent \
    <span class=\"key\" style=\"background:#c8432b\"></span>cancels that count \
    <span class=\"key\" style=\"background:#5a9e4b\"></span>cancels exempt (BuyerCanceled) \
    <span class=\"key dash\"></span>ship-by deadlines";

const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#2b2925;\
background:#fff}\
h1{font-size:22px;margin:0}.sub{color:#6b665c;margin:4px 0 16px}\
.totals{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:16px}\
.card{border:1px solid #e2ddd2;border-radius:6px;padding:8px 14px;min-width:110px;\
background:#f6f4ef}.card b{display:block;font-size:22px}.card span{color:#6b665c;font-size:13px}\
.rate.good{background:#e5f2df;border-color:#5a9e4b}.rate.bad{background:#f8e1dc;\
border-color:#c8432b}\
figure{margin:0 0 16px}figcaption{font-size:13px;color:#4a463e;margin-top:6px}\
.key{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-1px}\
.key.dash{border-top:2px dashed #d9822b;height:0;width:18px;vertical-align:3px}\
svg text{font-size:12px;fill:#4a463e}svg .mark{fill:#b0611a;font-weight:600}\
svg .orders{fill:#8a8478;font-size:11px}svg .day.ahead{fill:#b5afa3}\
table{border-collapse:collapse;width:100%;font-size:14px}\
th,td{border-bottom:1px solid #e2ddd2;padding:6px 8px;text-align:left;vertical-align:top}\
th{background:#f1eee7}td.n{text-align:right}td.id{font-family:ui-monospace,monospace;white-space:nowrap}\
td.t{white-space:nowrap}\
tr.counted td{background:#fbeeea}tr.exempt td{background:#eff6ec}tr.open td{background:#fdf8e8}\
tr.rehearsal td{background:#eef1f7}.badge{background:#5b6b8c;color:#fff;border-radius:3px;\
padding:0 5px;font-size:11px}\
.note{color:#6b665c;font-size:13px}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::MemoryStore;
    use crate::ports::{CaseStore, OrderCountStore};
    use kenzen_core::{
        BuyerRequest, CancelPlan, Notice, OrderId, OrderLine, OrderStatus, OrderView, Settings,
        Strategy,
    };

    const JP: &str = "A1VC38T7YXB528";

    /// A Tokyo wall-clock time, `2026-12-01 09:10`.
    fn tokyo(s: &str) -> Timestamp {
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", s)
            .unwrap()
            .to_zoned(TimeZone::get("Asia/Tokyo").unwrap())
            .unwrap()
            .timestamp()
    }

    fn id(n: u32) -> OrderId {
        format!("503-0000001-{n:07}").parse().unwrap()
    }

    fn case(n: u32, title: &str, opened: &str, ship_by: &str) -> Case {
        let view = OrderView {
            order_id: id(n),
            marketplace_id: JP.parse().unwrap(),
            status: OrderStatus::Unshipped,
            merchant_fulfilled: true,
            ship_by: Some(tokyo(ship_by)),
            last_updated: tokyo(opened),
            purchased: Some(tokyo(opened)),
            lines: vec![OrderLine {
                order_item_id: format!("item-{n}"),
                sku: format!("SKU-{n}").parse().unwrap(),
                title: title.into(),
                quantity: 1,
                unit_price: None,
                buyer_cancel_requested: false,
                buyer_cancel_reason: None,
                cancelled_by: None,
            }],
        };
        let reason = OpenReason::StockShort {
            sku: format!("SKU-{n}").parse().unwrap(),
            on_hand: 0,
            ordered: 1,
        };
        let settings = Settings::new(Strategy::AskBuyer, JP);
        Case::open(&view, reason, &settings, tokyo(opened)).unwrap()
    }

    fn cancelled(mut c: Case, reason: CancelReason, at: &str) -> Case {
        let at = tokyo(at);
        let notice = Notice::Delivered { at };
        let plan = match reason {
            CancelReason::BuyerCanceled => CancelPlan::BuyerCanceled {
                request: BuyerRequest {
                    seen_at: at,
                    reason: None,
                },
                lines: Vec::new(),
            },
            CancelReason::GeneralAdjustment => CancelPlan::GeneralAdjustment { notice },
            _ => CancelPlan::NoInventory { notice },
        };
        c.state = CaseState::Cancelled {
            reason,
            plan,
            feed_id: "50001".into(),
            at,
        };
        c
    }

    async fn message(store: &MemoryStore, n: u32, at: &str, answer: &str) {
        store
            .append_timeline(&TimelineEntry {
                at: tokyo(at),
                order_id: id(n),
                kind: "message".into(),
                state: "Requesting".into(),
                note: "request message".into(),
                text: Some("...".into()),
                answer: Some(answer.into()),
            })
            .await
            .unwrap();
    }

    /// A week of a small shop, seen on 2026-12-05 09:00 in Tokyo.
    async fn week() -> MemoryStore {
        let store = MemoryStore::new();
        // Opened at the first minutes of the window (local), and just before it.
        store.put_case(cancelled(
            case(6, "Cup", "2026-11-29 00:30", "2026-12-01 23:59"),
            CancelReason::NoInventory,
            "2026-11-29 09:00",
        ));
        store.put_case(cancelled(
            case(7, "Bowl", "2026-11-28 23:30", "2026-12-01 23:59"),
            CancelReason::NoInventory,
            "2026-11-29 09:00",
        ));
        store.put_case(cancelled(
            case(5, "Old", "2026-11-20 10:00", "2026-11-22 23:59"),
            CancelReason::NoInventory,
            "2026-11-20 11:00",
        ));
        store.put_case(cancelled(
            case(1, "Yunomi", "2026-12-01 09:10", "2026-12-03 23:59"),
            CancelReason::BuyerCanceled,
            "2026-12-01 14:30",
        ));
        message(&store, 1, "2026-12-01 09:10", "201 accepted").await;
        message(&store, 1, "2026-12-01 12:30", "201 accepted").await;
        message(&store, 1, "2026-12-01 19:00", "preflight: not offered").await;
        store.put_case(cancelled(
            case(
                2,
                "Tenugui <set> & \"3\"",
                "2026-12-01 11:20",
                "2026-12-03 23:59",
            ),
            CancelReason::GeneralAdjustment,
            "2026-12-03 13:10",
        ));
        for at in ["2026-12-01 11:20", "2026-12-01 19:00", "2026-12-02 12:30"] {
            message(&store, 2, at, "201 accepted").await;
        }
        message(
            &store,
            2,
            "2026-12-03 12:00",
            "outcome unknown (Amazon may have taken it): 503",
        )
        .await;
        let mut shipped = case(3, "Hashi-oki", "2026-12-01 13:30", "2026-12-03 23:59");
        shipped.state = CaseState::Closed {
            why: CloseReason::Shipped,
            at: tokyo("2026-12-01 19:30"),
        };
        store.put_case(shipped);
        message(&store, 3, "2026-12-01 13:30", "201 accepted").await;
        message(&store, 3, "2026-12-01 19:00", "201 accepted").await;
        let mut open = case(4, "Tokkuri", "2026-12-04 23:50", "2026-12-07 23:59");
        open.state = CaseState::Requesting {
            next_at: Some(tokyo("2026-12-05 12:30")),
            sending: None,
        };
        store.put_case(open);
        // 40 orders in the window, 5 the day before it.
        let mut n = 100;
        for (day, count) in [(28, 5), (29, 10), (1, 10), (3, 10), (5, 10)] {
            let month = if day > 20 { 11 } else { 12 };
            for _ in 0..count {
                n += 1;
                store
                    .count_order(
                        &id(n),
                        JP,
                        jiff::civil::date(2026, month, day),
                        tokyo("2026-12-01 00:00"),
                    )
                    .await
                    .unwrap();
            }
        }
        store
    }

    #[tokio::test]
    async fn the_report_covers_its_local_days_and_rates_kenzens_counted_cancels_over_the_orders() {
        let store = week().await;
        store.put_unreadable("ORDER#503-9999999-0000009", "unknown variant `Paused`");
        let r = SellerReport::build(&store, tokyo("2026-12-05 09:00"), 7)
            .await
            .unwrap();
        assert_eq!(
            (r.from, r.to),
            (
                jiff::civil::date(2026, 11, 29),
                jiff::civil::date(2026, 12, 5)
            )
        );
        assert_eq!(r.time_zone, "Asia/Tokyo");
        let ids: Vec<&str> = r.rows.iter().map(|r| r.order_id.as_str()).collect();
        // Oldest first; the case opened at 23:30 the day before the window is not in it (though
        // within seven times 24 hours), nor the one of November 20.
        assert_eq!(
            ids,
            [id(6), id(1), id(2), id(3), id(4)].map(|i| i.to_string())
        );
        let row = |n: u32| {
            r.rows
                .iter()
                .find(|r| r.order_id == id(n).as_str())
                .unwrap()
        };
        assert_eq!(
            row(1).ending,
            Ending::Cancelled {
                reason: "BuyerCanceled".into()
            }
        );
        assert!(!row(1).counts_against_rate, "the buyer asked");
        assert!(row(2).counts_against_rate && row(6).counts_against_rate);
        assert_eq!((row(2).messages_sent, row(2).messages_unknown), (3, 1));
        assert_eq!(row(1).messages_sent, 2, "a message not sent is not counted");
        assert_eq!(row(3).ending.describe(), "closed: shipped");
        assert!(!row(3).counts_against_rate);
        assert_eq!(row(4).ending.describe(), "open: request 12-05 12:30");
        assert_eq!(
            row(4).ship_by.strftime("%m-%d %H:%M").to_string(),
            "12-07 23:59"
        );
        let t = &r.totals;
        assert_eq!(
            (t.orders, t.cases, t.messages_sent, t.messages_unknown),
            (40, 5, 7, 1)
        );
        assert_eq!(
            (t.cancels_counted, t.cancels_exempt, t.closed, t.open),
            (2, 1, 1, 1)
        );
        assert_eq!(t.rate_percent, Some(5.0));
        assert!(!t.within_target());
        // Day by day, to the last ship-by ahead.
        let day = |m: i8, d: i8| {
            r.daily
                .iter()
                .find(|x| x.day == jiff::civil::date(2026, m, d))
                .unwrap()
        };
        assert_eq!(r.daily.len(), 9, "11-29 to 12-07");
        assert_eq!(
            (
                day(12, 1).cases_opened,
                day(12, 1).messages_sent,
                day(12, 1).cancels_exempt
            ),
            (3, 6, 1)
        );
        assert_eq!(
            (
                day(12, 3).cancels_counted,
                day(12, 3).ship_by,
                day(12, 3).orders
            ),
            (1, 3, 10)
        );
        assert_eq!((day(11, 29).cancels_counted, day(11, 29).orders), (1, 10));
        assert_eq!(day(12, 7).ship_by, 1);
        assert_eq!(r.unreadable, ["ORDER#503-9999999-0000009"]);
        assert!(r.notes.iter().any(|n| n.contains("could not be read")));
        // The JSON keeps local times with their offset, and the ending's kind.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["rows"][0]["ending"]["kind"], "cancelled");
        assert_eq!(json["rows"][4]["ending"]["kind"], "open");
        assert!(
            json["rows"][1]["ship_by"]
                .as_str()
                .unwrap()
                .starts_with("2026-12-03T23:59:00+09:00")
        );
        assert_eq!(json["totals"]["rate_percent"], 5.0);
    }

    #[tokio::test]
    async fn the_text_report_fits_a_terminal_and_shows_local_times_only() {
        let store = week().await;
        let r = SellerReport::build(&store, tokyo("2026-12-05 09:00"), 7)
            .await
            .unwrap();
        let text = r.render_text();
        for line in text.lines() {
            assert!(line.chars().count() <= 108, "too wide: {line}");
        }
        let first_lines = text.lines().filter(|l| !l.starts_with("      ")).count();
        assert_eq!(first_lines, 2 + 5 + 2 + r.notes.len(), "{text}");
        assert!(
            text.contains("12-03 23:59"),
            "ship-by in Tokyo time:\n{text}"
        );
        assert!(!text.contains("14:59"), "no UTC time:\n{text}");
        assert!(!text.contains("T23:") && !text.contains('Z'), "{text}");
        assert!(
            text.contains("cancel rate 5.00% = 2 counted / 40 orders"),
            "{text}"
        );
        assert!(text.contains("ABOVE"), "{text}");
        assert!(
            text.contains("3+1?"),
            "a message whose outcome is unknown:\n{text}"
        );
    }

    #[tokio::test]
    async fn the_html_page_is_self_contained_escaped_and_has_one_row_per_order() {
        let store = week().await;
        let r = SellerReport::build(&store, tokyo("2026-12-05 09:00"), 7)
            .await
            .unwrap();
        let html = r.render_html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<svg") && html.contains("</svg>"));
        for outside in [
            "<script",
            "<link",
            "src=",
            "href=",
            "url(",
            "@import",
            "@font-face",
        ] {
            assert!(!html.contains(outside), "the page must not load {outside}");
        }
        assert_eq!(html.matches("<tr data-order=\"").count(), r.rows.len());
        for row in &r.rows {
            assert!(html.contains(&format!("<tr data-order=\"{}\"", row.order_id)));
        }
        assert!(html.contains("Tenugui &lt;set&gt; &amp; &quot;3&quot;"));
        assert!(!html.contains("<set>"));
        assert!(
            html.contains("ship-by \u{d7}3"),
            "the ship-by day is marked"
        );
        assert!(html.contains("open, Requesting: request 12-05 12:30"));
    }

    #[tokio::test]
    async fn a_report_without_orders_has_no_rate_and_says_why_and_one_with_few_cancels_is_within_target()
     {
        let empty = MemoryStore::new();
        let now = tokyo("2026-12-05 09:00");
        let r = SellerReport::build(&empty, now, 0).await.unwrap();
        assert_eq!(r.days, 1, "brought within 1 to {MAX_DAYS}");
        assert_eq!(r.totals.rate_percent, None);
        assert!(r.render_text().contains("no cases were opened"));
        assert!(r.render_text().contains("cancel rate n/a"));
        assert!(r.notes[0].starts_with("No orders were counted"));
        assert!(r.render_html().contains("no cases were opened"));

        let store = MemoryStore::new();
        store.put_case(cancelled(
            case(1, "Cup", "2026-12-04 10:00", "2026-12-06 23:59"),
            CancelReason::GeneralAdjustment,
            "2026-12-04 12:00",
        ));
        for n in 0..100 {
            store
                .count_order(&id(1000 + n), JP, jiff::civil::date(2026, 12, 4), now)
                .await
                .unwrap();
        }
        let r = SellerReport::build(&store, now, 30).await.unwrap();
        assert_eq!(r.totals.rate_text(), "1.00%");
        assert!(r.totals.within_target());
        assert!(r.render_text().contains("target under 2.5%: met"));
        assert!(r.render_html().contains("class=\"card rate good\""));
    }

    #[tokio::test]
    async fn a_dry_run_case_shows_what_kenzen_would_have_done_and_stays_out_of_the_rate() {
        let store = MemoryStore::new();
        let mut rehearsal = cancelled(
            case(8, "Cup", "2026-12-04 10:00", "2026-12-06 23:59"),
            CancelReason::NoInventory,
            "2026-12-04 10:20",
        );
        rehearsal.dry_run = true;
        store.put_case(rehearsal);
        message(&store, 8, "2026-12-04 10:10", "not sent (dry run)").await;
        let now = tokyo("2026-12-05 09:00");
        for n in 0..20 {
            store
                .count_order(&id(2000 + n), JP, jiff::civil::date(2026, 12, 4), now)
                .await
                .unwrap();
        }
        let r = SellerReport::build(&store, now, 7).await.unwrap();
        let row = &r.rows[0];
        assert!(row.dry_run);
        assert_eq!(
            row.ending,
            Ending::WouldHaveCancelled {
                reason: "NoInventory".into()
            }
        );
        assert_eq!((row.messages_sent, row.messages_rehearsed), (0, 1));
        assert!(!row.counts_against_rate && row.would_count);
        let t = &r.totals;
        assert_eq!(
            (t.cancels_counted, t.rehearsed_counted, t.rehearsed),
            (0, 1, 1)
        );
        assert_eq!(t.rate_percent, Some(0.0), "nothing was cancelled");
        assert_eq!(t.rate_if_live_percent, Some(5.0));
        let text = r.render_text();
        assert!(text.contains("would have cancelled NoInventory"), "{text}");
        assert!(text.contains("(yes)") && text.contains("(1)"), "{text}");
        assert!(text.contains("rate if live 5.00%"), "{text}");
        let html = r.render_html();
        assert!(html.contains("class=\"rehearsal\"") && html.contains("dry run</span>"));
        assert!(
            html.contains("fill-opacity=\"0.4\""),
            "the would-be bars are lighter"
        );
    }

    #[tokio::test]
    async fn amazons_figures_are_noted_with_the_rate_after_one_more_seller_cancel() {
        use crate::ports::HealthStore;
        let store = week().await;
        let r = SellerReport::build(&store, tokyo("2026-12-05 09:00"), 7)
            .await
            .unwrap();
        assert!(!r.notes.iter().any(|n| n.starts_with("Amazon's figures")));

        let doc = serde_json::json!({"performanceMetrics": [{
            "marketplaceId": "A1VC38T7YXB528",
            "preFulfillmentCancellationRate": {
                "reportingDateRange": {"reportingDateFrom": "2026-11-27T00:00Z",
                                       "reportingDateTo": "2026-12-03T23:59Z"},
                "orderCount": 1000, "cancellationCount": 2, "status": "GOOD", "rate": 0.002,
                "targetValue": 0.025, "targetCondition": "LESS_THAN"
            }
        }]});
        let parsed =
            kenzen_core::parse_report(doc.to_string().as_bytes(), tokyo("2026-12-04 10:00"))
                .unwrap();
        store.put_health(&parsed.health[0]).await.unwrap();
        let r = SellerReport::build(&store, tokyo("2026-12-05 09:00"), 7)
            .await
            .unwrap();
        let note = r
            .notes
            .iter()
            .find(|n| n.starts_with("Amazon's figures, JP:"))
            .expect("a note");
        // kenzen's own counts since 12-04 (Tokyo) are added to Amazon's 2 of 1,000.
        assert!(
            note.contains("after one more seller cancel (target 2.50%)"),
            "{note}"
        );
        let text = r.render_text();
        assert!(
            text.contains("note: Amazon's figures, JP: cancel rate"),
            "{text}"
        );
    }
}
