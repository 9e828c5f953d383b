//! What one run did ([`RunReport`]), and its CloudWatch Embedded Metric Format rendering.
//!
//! EMF: one JSON line per run that CloudWatch turns into metrics
//! (namespace `kenzen`, dimension `Function`): cases opened, messages sent, cancels by reason,
//! alerts by kind (DeadlineRisk among them). Counts and names only, never order or buyer data.
//! Only non-zero counts are sent: CloudWatch bills a custom metric for the hours it receives
//! data, and the alarms treat missing data as "nothing happened".

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use kenzen_core::AlertKind;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// What one run did: the function's response and the log line that ends each invocation.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub orders_seen: u32,
    /// Merchant-fulfilled orders counted for the first time (the seller report's order counts).
    pub orders_counted: u32,
    /// Orders whose count could not be written (logged; the report's cancel rate then errs
    /// high, never low).
    pub orders_not_counted: u32,
    pub cases_opened: u32,
    pub cases_checked: u32,
    pub messages_sent: u32,
    pub cancels_submitted: u32,
    pub cases_ended: u32,
    /// Domain events put on the bus.
    pub events_published: u32,
    /// Cancels Amazon accepted, by cancel reason.
    pub cancels_by_reason: BTreeMap<String, u32>,
    /// Alerts raised, by kind (FinalNoticeNotDelivered, DeadlineRisk, FeedError, ...).
    pub alerts: BTreeMap<AlertKind, u32>,
    /// Messages and cancel feeds sent whose answer was lost (or whose run died before recording
    /// it): counted as sent, never repeated.
    pub outcomes_unknown: u32,
    /// Stored items that could not be read and were skipped (each alerted once).
    pub unreadable: u32,
    /// Cases (or orders) left for the next run because this one reached its time budget.
    pub left_for_next_run: u32,
    /// Cases skipped because another invocation changed them first.
    pub conflicts: u32,
    /// Per-case failures; the run went on with the other cases.
    pub errors: Vec<String>,
}

impl RunReport {
    /// Ends a run of `function` at `now`: prints its CloudWatch EMF metrics line, logs the
    /// report, and returns it (see [`RunReport::into_result`]).
    pub fn finish(self, function: &str, now: Timestamp) -> Result<RunReport, CasesFailed> {
        if EMF_ON_STDOUT.load(Ordering::Relaxed)
            && let Some(line) = emf_line(function, &self, now.as_millisecond())
        {
            println!("{line}");
        }
        self.into_result()
    }

    /// Logs the report and returns it, or, when some cases failed, an error naming them (the
    /// run still did everything else; the failure shows in the function's metrics and the
    /// invocation is retried).
    pub fn into_result(self) -> Result<RunReport, CasesFailed> {
        tracing::info!(
            orders_seen = self.orders_seen,
            orders_counted = self.orders_counted,
            orders_not_counted = self.orders_not_counted,
            cases_opened = self.cases_opened,
            cases_checked = self.cases_checked,
            messages_sent = self.messages_sent,
            cancels_submitted = self.cancels_submitted,
            cases_ended = self.cases_ended,
            outcomes_unknown = self.outcomes_unknown,
            unreadable = self.unreadable,
            left_for_next_run = self.left_for_next_run,
            conflicts = self.conflicts,
            errors = self.errors.len(),
            "run finished"
        );
        if self.errors.is_empty() {
            Ok(self)
        } else {
            Err(CasesFailed {
                failures: self.errors,
            })
        }
    }
}

/// Whether [`RunReport::finish`] prints its EMF line; see [`keep_emf_off_stdout`].
static EMF_ON_STDOUT: AtomicBool = AtomicBool::new(true);

/// Keeps EMF lines off stdout for the rest of the process: for tools that run the handlers in
/// one process and print for a person to read (the demo, the scenario runner). A Lambda
/// function never calls it, so its metrics always reach CloudWatch.
pub fn keep_emf_off_stdout() {
    EMF_ON_STDOUT.store(false, Ordering::Relaxed);
}

/// Some cases of a run failed; the run did everything else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} case(s) failed: {}", failures.len(), failures.join("; "))]
pub struct CasesFailed {
    pub failures: Vec<String>,
}

/// The EMF line for one run of `function` at `timestamp_ms` (Unix milliseconds); `None` when
/// every count is zero.
pub fn emf_line(function: &str, report: &RunReport, timestamp_ms: i64) -> Option<String> {
    let mut values = Map::new();
    let mut metrics = Vec::new();
    let mut put = |name: String, value: u32| {
        if value > 0 {
            metrics.push(json!({"Name": name, "Unit": "Count"}));
            values.insert(name, json!(value));
        }
    };
    put("CasesOpened".into(), report.cases_opened);
    put("MessagesSent".into(), report.messages_sent);
    put("CancelsSubmitted".into(), report.cancels_submitted);
    put("CasesEnded".into(), report.cases_ended);
    put("CaseErrors".into(), report.errors.len() as u32);
    put("OutcomesUnknown".into(), report.outcomes_unknown);
    put("UnreadableItems".into(), report.unreadable);
    put("LeftForNextRun".into(), report.left_for_next_run);
    put("OrdersNotCounted".into(), report.orders_not_counted);
    for (reason, n) in &report.cancels_by_reason {
        put(format!("Cancels{reason}"), *n);
    }
    put(
        "DeadlineRisk".into(),
        report
            .alerts
            .get(&AlertKind::DeadlineRisk)
            .copied()
            .unwrap_or(0),
    );
    for (alert, n) in report
        .alerts
        .iter()
        .filter(|(a, _)| **a != AlertKind::DeadlineRisk)
    {
        put(format!("Alert{alert}"), *n);
    }
    if metrics.is_empty() {
        return None;
    }
    let mut line = values;
    line.insert("Function".into(), Value::String(function.into()));
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "kenzen",
                "Dimensions": [["Function"]],
                "Metrics": metrics,
            }]
        }),
    );
    Some(Value::Object(line).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emf_line_declares_every_value_it_carries() {
        let mut r = RunReport {
            cases_opened: 2,
            messages_sent: 3,
            ..RunReport::default()
        };
        r.cancels_by_reason.insert("BuyerCanceled".into(), 1);
        r.alerts.insert(AlertKind::DeadlineRisk, 1);
        r.alerts.insert(AlertKind::FeedError, 2);
        let v: Value =
            serde_json::from_str(&emf_line("final-cancel", &r, 1_764_000_000_000).unwrap())
                .unwrap();
        assert_eq!(v["Function"], "final-cancel");
        assert_eq!(v["CasesOpened"], 2);
        assert_eq!(v["CancelsBuyerCanceled"], 1);
        assert_eq!(v["DeadlineRisk"], 1);
        assert_eq!(v["AlertFeedError"], 2);
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        for m in declared {
            let name = m["Name"].as_str().unwrap();
            assert!(v[name].is_number(), "{name} declared without a value");
        }
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "kenzen");
        assert!(
            v.get("MessagesSent").is_some() && v.get("CasesEnded").is_none(),
            "zeros are left out"
        );
    }

    #[test]
    fn a_run_that_did_nothing_sends_no_metrics() {
        assert_eq!(emf_line("message-resend", &RunReport::default(), 0), None);
    }
}
