//! The daily digest: one plain line for the seller about the open cases (what waits for them,
//! what is held, the next deadline). Pure: the service decides when to send it.
//!
//! Order ids and kenzen's own words only, never buyer data; safe for a notice (see
//! [`crate::events::notice_safe`]).

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::case::{Case, CaseState};
use crate::mode::Mode;

/// At most this many order ids are named per group.
const NAMED: usize = 3;

fn named(ids: &[&str]) -> String {
    let mut s = ids
        .iter()
        .take(NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > NAMED {
        s.push_str(&format!(" and {} more", ids.len() - NAMED));
    }
    s
}

/// The digest line for `open` (the open cases) at `now`, in the seller's time zone `tz`.
pub fn digest_text(open: &[Case], mode: Mode, now: Timestamp, tz: &TimeZone) -> String {
    let local = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%m-%d %H:%M").to_string();
    let date = now.to_zoned(tz.clone()).strftime("%Y-%m-%d").to_string();
    let open: Vec<&Case> = open.iter().filter(|c| !c.state.is_terminal()).collect();
    let mut parts = vec![format!("{date}, mode {mode}: {} open case(s)", open.len())];
    let waiting: Vec<&str> = open
        .iter()
        .filter(|c| c.approval_asked.is_some() && c.approved.is_none())
        .map(|c| c.order_id.as_str())
        .collect();
    if !waiting.is_empty() {
        parts.push(format!(
            "{} waiting for your approval ({}; kenzen approve ORDER)",
            waiting.len(),
            named(&waiting)
        ));
    }
    if matches!(mode, Mode::Pause | Mode::DryRun) {
        let held: Vec<&str> = open
            .iter()
            .filter(|c| !c.dry_run)
            .map(|c| c.order_id.as_str())
            .collect();
        if !held.is_empty() {
            parts.push(format!(
                "{} held while kenzen is in {mode} ({}); they ship late unless you act",
                held.len(),
                named(&held)
            ));
        }
    }
    let rehearsals = open.iter().filter(|c| c.dry_run).count();
    if rehearsals > 0 {
        parts.push(format!("{rehearsals} dry-run rehearsal(s)"));
    }
    let submitted = open
        .iter()
        .filter(|c| matches!(c.state, CaseState::CancelSubmitted { .. }))
        .count();
    if submitted > 0 {
        parts.push(format!("{submitted} cancel(s) submitted, awaiting Amazon"));
    }
    if let Some(next) = open.iter().min_by_key(|c| c.ship_by) {
        parts.push(format!(
            "next ship-by {} for {}",
            local(next.ship_by),
            next.order_id
        ));
    }
    parts.push("details: kenzen status, kenzen report --days 7".into());
    parts.join("; ")
}
