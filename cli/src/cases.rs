//! `kenzen status` and `kenzen show`: the open cases, and one case with its timeline, in the
//! marketplace's local time. Reads only; never prints buyer personal data (cases hold none) or
//! anything from the secret.

use anyhow::{Result, anyhow};
use jiff::Timestamp;
use kenzen_app::ports::{CaseStore, HealthStore, TimelineEntry};
use kenzen_app::service::health::Standing;
use kenzen_core::health::percent;
use kenzen_core::{CancelReason, Case, CaseState, CloseReason, Notice, OpenReason, OrderId};
use serde_json::{Value, json};

use crate::Outcome;
use crate::deployment::Ctx;
use crate::failure::store_failure;

pub use crate::local_time::local;

/// A time for JSON: UTC and local.
fn time_json(t: Timestamp, marketplace_id: &str) -> Value {
    json!({"utc": t.to_string(), "local": local(t, marketplace_id)})
}

/// The reason a case was opened, in a few words.
pub fn reason_short(r: &OpenReason) -> String {
    match r {
        OpenReason::StockShort {
            on_hand, ordered, ..
        } => {
            format!("stock short ({on_hand} on hand, {ordered} ordered)")
        }
        OpenReason::BelowProfitFloor {
            profit, minimum, ..
        } => format!("below profit floor ({profit} < {minimum})"),
        OpenReason::ManualFlag { reason } => format!("flagged: {reason}"),
    }
}

/// True while a seller-initiated cancel waits for the seller's approval (approve mode).
fn awaiting_approval(case: &Case) -> bool {
    case.approval_asked.is_some()
        && case.approved.is_none()
        && match &case.state {
            CaseState::Requesting { .. } | CaseState::FinalNotice { .. } => true,
            CaseState::CancelDue { plan, .. } => plan.reason() != CancelReason::BuyerCanceled,
            _ => false,
        }
}

/// What kenzen does next for `case`, and from when (`None` for a case with nothing scheduled).
pub fn next_action(case: &Case) -> (String, Option<Timestamp>) {
    if awaiting_approval(case) {
        return (
            format!(
                "waiting for your approval (kenzen approve {}) until",
                case.order_id
            ),
            case.approval_asked,
        );
    }
    match &case.state {
        CaseState::Requesting {
            sending: Some(c), ..
        } => ("request message being sent".into(), Some(c.since)),
        CaseState::Requesting { next_at, .. } => match next_at {
            Some(t) if *t < case.final_notice_at => (
                format!("request message {}", case.requests_sent + 1),
                Some(*t),
            ),
            _ => ("final message".into(), Some(case.final_notice_at)),
        },
        CaseState::FinalNotice {
            sending: Some(c), ..
        } => ("final message being sent".into(), Some(c.since)),
        CaseState::FinalNotice {
            next_try,
            attempts,
            last_failure,
            ..
        } => {
            let what = match (attempts, last_failure) {
                (0, _) => "final message".to_string(),
                (n, Some(why)) => format!("final message, try {} (last: {why})", n + 1),
                (n, None) => format!("final message, try {}", n + 1),
            };
            (what, Some(*next_try))
        }
        CaseState::CancelDue {
            plan,
            not_before,
            submitting,
            ..
        } => {
            let reason = plan.reason().as_feed();
            match submitting {
                Some(c) => (format!("cancel as {reason} being submitted"), Some(c.since)),
                None => (format!("cancel as {reason}"), Some(*not_before)),
            }
        }
        CaseState::CancelSubmitted {
            feed_id, check_at, ..
        } => (
            format!("confirm the cancel (feed {feed_id})"),
            Some(*check_at),
        ),
        CaseState::Cancelled { .. } | CaseState::Closed { .. } => ("none (ended)".into(), None),
    }
}

/// The next action with its time: "… at TIME", or "… until TIME" for a deadline.
fn when(next: &str, at: Option<Timestamp>, mp: &str) -> String {
    match at {
        Some(t) if next.ends_with(" until") => format!("{next} {}", local(t, mp)),
        Some(t) => format!("{next} at {}", local(t, mp)),
        None => next.to_string(),
    }
}

/// Messages Amazon took for the case: requests, and the final message when it went out.
pub fn messages_sent(case: &Case) -> String {
    match &case.final_sent {
        Some(Notice::Delivered { .. }) => format!("{} + final", case.requests_sent),
        Some(Notice::OutcomeUnknown { .. }) => {
            format!("{} + final (answer lost)", case.requests_sent)
        }
        _ => case.requests_sent.to_string(),
    }
}

fn skus(case: &Case) -> String {
    case.items
        .iter()
        .map(|i| i.sku.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a case ended, for a case that did.
fn ending(state: &CaseState, mp: &str) -> Option<String> {
    match state {
        CaseState::Cancelled { reason, at, .. } => Some(format!(
            "cancelled as {} at {}",
            reason.as_feed(),
            local(*at, mp)
        )),
        CaseState::Closed { why, at } => Some(format!(
            "{} at {}",
            match why {
                CloseReason::Shipped => "closed: the order shipped".to_string(),
                CloseReason::CancelledElsewhere { by } => format!(
                    "closed: cancelled outside kenzen{}",
                    by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default()
                ),
                CloseReason::Withdrawn { reason } => format!("closed: withdrawn ({reason})"),
                CloseReason::NotApproved { approve_by } => format!(
                    "closed: the cancel was not approved by {}, so the order was left to you",
                    local(*approve_by, mp)
                ),
            },
            local(*at, mp)
        )),
        _ => None,
    }
}

fn case_json(case: &Case) -> Value {
    let mp = case.marketplace_id.as_str();
    let (next, at) = next_action(case);
    json!({
        "order_id": case.order_id,
        "marketplace_id": mp,
        "skus": case.items.iter().map(|i| i.sku.to_string()).collect::<Vec<_>>(),
        "reason": reason_short(&case.reason),
        "strategy": case.strategy.as_setting(),
        "state": case.state.name(),
        "opened_at": time_json(case.opened_at, mp),
        "ship_by": time_json(case.ship_by, mp),
        "cancel_by": time_json(case.cancel_by, mp),
        "next_action": next,
        "next_at": at.map(|t| time_json(t, mp)),
        "dry_run": case.dry_run,
        "awaiting_approval": awaiting_approval(case),
        "approved": case.approved.as_ref().map(|a| json!({"at": time_json(a.at, mp), "by": a.by})),
        "requests_sent": case.requests_sent,
        "final_sent": case.final_sent.is_some(),
        "messages_sent": messages_sent(case),
    })
}

/// The state's name, marked for a rehearsal (a case opened in dry-run mode).
fn state_label(case: &Case) -> String {
    if case.dry_run {
        format!("{} (dry run)", case.state.name())
    } else {
        case.state.name().to_string()
    }
}

/// Prints `rows` as aligned columns under `header`.
fn table(header: &[&str], rows: &[Vec<String>]) {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain(std::iter::once(header[i].chars().count()))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(c);
                out.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// `kenzen status`.
pub async fn status(ctx: &Ctx) -> Result<Outcome> {
    let table_name = ctx.table().await?;
    let store = ctx.store().await?;
    let read = store
        .open_cases()
        .await
        .map_err(|e| anyhow!("{}", store_failure(&table_name, &e)))?;
    let mut cases: Vec<Case> = read.cases.into_iter().map(|v| v.value).collect();
    cases.sort_by_key(|c| (c.ship_by, c.order_id.clone()));
    // The mode in force: the seller's setting, else the deployed one when the stack says it.
    let mode = match crate::mode::read(ctx).await {
        Ok(Some(s)) => Some((s.mode, true)),
        _ => ctx
            .parameter("Mode")
            .await
            .and_then(|m| m.parse::<kenzen_core::Mode>().ok())
            .map(|m| (m, false)),
    };
    // Amazon's cancel-rate figures with kenzen's counts since, per marketplace served.
    let now = Timestamp::now();
    let mut standings = Vec::new();
    for m in ctx.marketplaces().await.unwrap_or_default() {
        match kenzen_app::service::health::standing(&store, &m, now).await {
            Ok(s) => standings.push((m, s)),
            Err(e) => eprintln!("cancel rate of {m} not read: {e}"),
        }
    }
    let fetch = store.health_fetch().await.ok().flatten();
    if ctx.json {
        let out = json!({
            "cancel_rate": standings.iter().map(|(m, s)| standing_json(m, s.as_ref())).collect::<Vec<_>>(),
            "health_fetch": fetch.as_ref().map(|f| json!({
                "requested_at": f.requested_at.to_string(),
                "fetched_at": f.fetched_at.map(|t| t.to_string()),
                "last_outcome": f.last_outcome,
            })),
            "mode": mode.map(|(m, set)| json!({"mode": m.as_setting(), "set": set})),
            "open_cases": cases.iter().map(case_json).collect::<Vec<_>>(),
            "unreadable": read.unreadable.iter().map(|u| json!({"key": u.key, "detail": u.detail})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        match mode {
            Some((m, true)) => println!("Mode: {m}"),
            Some((m, false)) => println!("Mode: {m} (as deployed)"),
            None => {}
        }
        for (m, s) in &standings {
            println!("{}", standing_line(m, s.as_ref()));
        }
        if let Some(f) = &fetch
            && !standings.is_empty()
        {
            println!("  account-health fetch: {}", f.last_outcome);
        }
        if cases.is_empty() {
            println!("No open cases: kenzen is not working on any order.");
        } else {
            println!(
                "{} open case{}:",
                cases.len(),
                if cases.len() == 1 { "" } else { "s" }
            );
            let rows: Vec<Vec<String>> = cases
                .iter()
                .map(|c| {
                    let mp = c.marketplace_id.as_str();
                    let (next, at) = next_action(c);
                    vec![
                        c.order_id.to_string(),
                        skus(c),
                        reason_short(&c.reason),
                        local(c.ship_by, mp),
                        state_label(c),
                        when(&next, at, mp),
                        messages_sent(c),
                    ]
                })
                .collect();
            table(
                &[
                    "ORDER", "SKU", "REASON", "SHIP BY", "STATE", "NEXT", "MESSAGES",
                ],
                &rows,
            );
        }
        for u in &read.unreadable {
            println!(
                "Could not read {}: {} (kenzen skips it; look at the item in the table)",
                u.key, u.detail
            );
        }
    }
    Ok(if read.unreadable.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

/// `Cancel rate JP: 0.30% now, 0.40% after one more seller cancel (target 2.50%) — Amazon's
/// figures to …, fetched …; kenzen since: 1 counted cancel, 12 orders`.
fn standing_line(marketplace: &str, s: Option<&Standing>) -> String {
    let name = kenzen_app::service::health::country(marketplace);
    let Some(s) = s else {
        return format!(
            "Cancel rate {name}: no figures from Amazon yet (fetched about twice a day; needs the \
             Selling Partner Insights role)"
        );
    };
    let target = s
        .now
        .target
        .map_or_else(|| "no target".into(), |t| format!("target {}", percent(t)));
    format!(
        "Cancel rate {name}: {} now, {} after one more seller cancel ({target}) - Amazon's figures \
         to {}, fetched {}; kenzen since: {} counted cancel(s), {} order(s)",
        percent(s.now.rate),
        percent(s.after_one.rate),
        local(s.health.cancel.window_to, marketplace),
        local(s.health.fetched_at, marketplace),
        s.since.counted,
        s.since.orders,
    )
}

fn standing_json(marketplace: &str, s: Option<&Standing>) -> Value {
    match s {
        None => json!({"marketplace_id": marketplace, "figures": null}),
        Some(s) => json!({
            "marketplace_id": marketplace,
            "rate_now": s.now.rate,
            "rate_after_one_more_cancel": s.after_one.rate,
            "target": s.now.target,
            "cancels": s.now.cancels,
            "orders": s.now.orders,
            "amazon": {
                "cancels": s.health.cancel.count,
                "orders": s.health.cancel.orders,
                "window_to": time_json(s.health.cancel.window_to, marketplace),
                "fetched_at": time_json(s.health.fetched_at, marketplace),
            },
            "kenzen_since": {"counted_cancels": s.since.counted, "orders": s.since.orders},
        }),
    }
}

fn entry_json(e: &TimelineEntry, mp: &str) -> Value {
    json!({
        "at": time_json(e.at, mp),
        "kind": e.kind,
        "state": e.state,
        "note": e.note,
        "text": e.text,
        "answer": e.answer,
    })
}

fn indented(label: &str, text: &str) {
    println!("      {label}:");
    for line in text.lines() {
        println!("        {line}");
    }
}

/// `kenzen show ORDER`.
pub async fn show(ctx: &Ctx, order: &str) -> Result<Outcome> {
    let order_id = OrderId::parse(order.trim())
        .map_err(|e| anyhow!("{e}: give an Amazon order id like 503-1234567-1234567"))?;
    let table_name = ctx.table().await?;
    let store = ctx.store().await?;
    let fail = |e| anyhow!("{}", store_failure(&table_name, &e));
    let case = store.get_case(&order_id).await.map_err(fail)?;
    let timeline = store.timeline(&order_id).await.map_err(fail)?;
    let Some(case) = case.map(|v| v.value) else {
        return Err(anyhow!(
            "no case for order {order_id} in table {table_name}: kenzen opens one only for an \
             order it cannot fill or one you flag (kenzen flag {order_id} --reason ...)"
        ));
    };
    let mp = case.marketplace_id.as_str().to_string();
    if ctx.json {
        let mut out = case_json(&case);
        out["items"] = case
            .items
            .iter()
            .map(|i| json!({"order_item_id": i.order_item_id, "sku": i.sku, "title": i.title, "quantity": i.quantity}))
            .collect();
        out["final_notice_at"] = time_json(case.final_notice_at, &mp);
        out["ended"] = json!(ending(&case.state, &mp));
        out["timeline"] = timeline.iter().map(|e| entry_json(e, &mp)).collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Outcome::Ok);
    }
    let (next, at) = next_action(&case);
    println!("Order      {}", case.order_id);
    println!("State      {}", state_label(&case));
    if let Some(end) = ending(&case.state, &mp) {
        println!("Ended      {end}");
    }
    println!("Reason     {}", case.reason.describe());
    println!("Strategy   {}", case.strategy.as_setting());
    println!("Opened     {}", local(case.opened_at, &mp));
    println!("Ship by    {}", local(case.ship_by, &mp));
    println!("Cancel by  {}", local(case.cancel_by, &mp));
    println!("Final msg  {}", local(case.final_notice_at, &mp));
    println!("Messages   {}", messages_sent(&case));
    println!("Next       {}", when(&next, at, &mp));
    for i in &case.items {
        println!("Item       {} × {}  {}", i.sku, i.quantity, i.title);
    }
    println!();
    if timeline.is_empty() {
        println!("Timeline: nothing recorded yet.");
    } else {
        println!("Timeline ({} entries):", timeline.len());
        for e in &timeline {
            println!(
                "  {}  {:<8}  {:<15}  {}",
                local(e.at, &mp),
                e.kind,
                e.state,
                e.note
            );
            if let Some(t) = &e.text {
                indented("text", t);
            }
            if let Some(a) = &e.answer {
                indented("Amazon answered", a);
            }
        }
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_the_marketplaces_own_zone() {
        let t: Timestamp = "2026-12-03T14:59:00Z".parse().unwrap();
        assert_eq!(local(t, "A1VC38T7YXB528"), "2026-12-03 23:59 JST");
        // A marketplace kenzen does not know: UTC, said as such.
        assert_eq!(local(t, "AUNKNOWN"), "2026-12-03 14:59 UTC");
    }
}
