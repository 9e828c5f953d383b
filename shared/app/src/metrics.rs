//! CloudWatch Embedded Metric Format: one JSON line per run that CloudWatch turns into metrics
//! (namespace `kenzen`, dimension `Function`): cases opened, messages sent, cancels by reason,
//! alerts by kind (DeadlineRisk among them). Counts and names only, never order or buyer data.
//! Only non-zero counts are sent: CloudWatch bills a custom metric for the hours it receives
//! data, and the alarms treat missing data as "nothing happened".

use serde_json::{Map, Value, json};

use crate::RunReport;

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
    for (reason, n) in &report.cancels_by_reason {
        put(format!("Cancels{reason}"), *n);
    }
    put(
        "DeadlineRisk".into(),
        report.alerts.get("DeadlineRisk").copied().unwrap_or(0),
    );
    for (alert, n) in report.alerts.iter().filter(|(a, _)| *a != "DeadlineRisk") {
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
        r.alerts.insert("DeadlineRisk".into(), 1);
        r.alerts.insert("FeedError".into(), 2);
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
