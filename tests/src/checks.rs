//! The never-break rules, checked from the simulator's log after a run (the marketplace's view:
//! what kenzen really sent, and when).
//!
//! It reads only the log, so it judges kenzen by its traffic, not by kenzen's own records.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::sim::parse_ack_feed;

/// Settings the checks need.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request messages allowed per order.
    pub max_messages: u32,
    /// Strings that must never appear in the log (secrets, buyer names).
    pub forbidden: Vec<String>,
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn order_of_message_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/messaging/v1/orders/")?;
    let (id, tail) = rest.split_once('/')?;
    (tail == "messages/unexpectedProblem").then_some(id)
}

/// Returns every broken rule (empty when all hold).
pub fn check(log: &[Value], limits: &Limits) -> Vec<String> {
    let mut broken = Vec::new();
    let mut buyer_request: BTreeMap<String, String> = BTreeMap::new();
    let mut cancel_sent: BTreeMap<String, String> = BTreeMap::new();
    let mut messages: BTreeMap<String, u32> = BTreeMap::new();
    for line in log {
        let text = line.to_string();
        for f in &limits.forbidden {
            if !f.is_empty() && text.contains(f.as_str()) {
                broken.push(format!(
                    "log line at {} contains a forbidden value",
                    s(line, "time")
                ));
            }
        }
        let time = s(line, "time").to_string();
        if s(line, "actor") == "buyer" && s(line, "action") == "requestCancellation" {
            buyer_request
                .entry(s(line, "orderId").to_string())
                .or_insert(time.clone());
            continue;
        }
        if s(line, "method") == "PUT" && s(line, "path").starts_with("/sim-docs/") {
            for m in parse_ack_feed(s(line, "body")) {
                if m.reason == "BuyerCanceled" && !buyer_request.contains_key(&m.order_id) {
                    broken.push(format!(
                        "{}: BuyerCanceled submitted at {time} without the buyer's request",
                        m.order_id
                    ));
                }
                cancel_sent.entry(m.order_id).or_insert(time.clone());
            }
            continue;
        }
        if s(line, "method") == "POST"
            && let Some(id) = order_of_message_path(s(line, "path"))
            && line.get("status").and_then(Value::as_u64) == Some(201)
        {
            if let Some(at) = cancel_sent.get(id) {
                broken.push(format!(
                    "{id}: message at {time} after the cancel was submitted at {at}"
                ));
            }
            let n = messages.entry(id.to_string()).or_default();
            *n += 1;
            if *n > limits.max_messages {
                broken.push(format!(
                    "{id}: message {n} at {time} is beyond the cap of {}",
                    limits.max_messages
                ));
            }
        }
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> Limits {
        Limits {
            max_messages: 1,
            forbidden: vec!["s3cret".into()],
        }
    }

    fn feed(order: &str, reason: &str) -> String {
        format!(
            "<AmazonEnvelope><Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>{order}</AmazonOrderID><StatusCode>Failure</StatusCode><Item><AmazonOrderItemCode>1</AmazonOrderItemCode><CancelReason>{reason}</CancelReason></Item></OrderAcknowledgement></Message></AmazonEnvelope>"
        )
    }

    fn msg(order: &str, t: &str) -> Value {
        json!({"time": t, "method": "POST", "path": format!("/messaging/v1/orders/{order}/messages/unexpectedProblem"), "status": 201})
    }

    #[test]
    fn a_clean_run_breaks_nothing() {
        let log = vec![
            msg("A", "1"),
            json!({"time": "2", "actor": "buyer", "action": "requestCancellation", "orderId": "A"}),
            json!({"time": "3", "method": "PUT", "path": "/sim-docs/d1", "body": feed("A", "BuyerCanceled")}),
        ];
        assert!(check(&log, &limits()).is_empty());
    }

    #[test]
    fn each_broken_rule_is_reported() {
        let log = vec![
            json!({"time": "1", "method": "PUT", "path": "/sim-docs/d1", "body": feed("A", "BuyerCanceled")}),
            msg("A", "2"),
            msg("B", "3"),
            msg("B", "4"),
            json!({"time": "5", "note": "s3cret"}),
        ];
        let broken = check(&log, &limits());
        assert_eq!(broken.len(), 4, "{broken:#?}");
        assert!(broken[0].contains("without the buyer's request"));
        assert!(broken[1].contains("after the cancel"));
        assert!(broken[2].contains("beyond the cap"));
        assert!(broken[3].contains("forbidden"));
    }
}
