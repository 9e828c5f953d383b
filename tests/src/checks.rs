//! The never-break rules, checked after a run from the simulator's log (the marketplace's view:
//! what kenzen really sent, and when) and a few facts per order.
//!
//! It judges kenzen by its traffic, not by kenzen's own records; the only facts it takes from
//! kenzen are whether an order had a case, when that case ended, and whether the case says its
//! final notice could not be delivered (the one allowed exception).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use kenzen_core::SendWindows;
use kenzen_core::marketplace::Language;
use serde_json::Value;

use crate::sim::parse_ack_feed;

/// What the checker knows of one order beyond the log.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub order_id: String,
    pub ship_by: Timestamp,
    pub has_case: bool,
    /// When the order was cancelled, shipped, or its case closed.
    pub ended_at: Option<Timestamp>,
    /// The case records that the final notice could not be delivered before the deadline.
    pub notice_excused: bool,
    /// The latest time the first cancel may be submitted (ship-by minus the cancel margin).
    pub cancel_by: Option<Timestamp>,
    /// How many lines the order has (a cancel of fewer lines leaves the order open).
    pub lines: usize,
    /// kenzen could not see the order in time (an outage hid it past its cancel-by): it must
    /// end before ship-by or raise a DeadlineRisk alert (`cancel_by` is then not checked).
    pub deadline_unreachable: bool,
    /// kenzen raised a DeadlineRisk alert for the order.
    pub deadline_alerted: bool,
}

/// Settings the checks need.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Messages allowed per order (request messages plus the final one).
    pub max_messages: u32,
    /// Strings that must never appear in the log (secrets, buyer names).
    pub forbidden: Vec<String>,
    /// Quiet hours to check message times against (`None`: not checked).
    pub windows: Option<SendWindows>,
    /// Each order's own quiet hours, in its marketplace's time zone, where they are not
    /// `windows` (a stack serving several marketplaces).
    pub order_windows: BTreeMap<String, SendWindows>,
    /// The language each order's messages must be in (orders not named are not checked).
    pub languages: BTreeMap<String, Language>,
    /// Orders whose cases must end before ship-by (those with ship-by before `end`).
    pub orders: Vec<OrderFacts>,
    /// The end of the run.
    pub end: Timestamp,
}

impl Limits {
    /// Limits for a run without per-order facts or quiet-hour checks.
    pub fn basic(max_messages: u32, forbidden: Vec<String>) -> Self {
        Self {
            max_messages,
            forbidden,
            windows: None,
            order_windows: BTreeMap::new(),
            languages: BTreeMap::new(),
            orders: Vec::new(),
            end: Timestamp::MAX,
        }
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

impl Limits {
    /// The quiet hours `order`'s messages are checked against.
    fn windows_of(&self, order: &str) -> Option<&SendWindows> {
        self.order_windows.get(order).or(self.windows.as_ref())
    }
}

/// True when `text` is written in Japanese (it holds kana or kanji).
pub fn is_japanese(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
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
    // The items each showing request covers (`None`: every item).
    let mut request_items: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    // When each order's cancel covered all its lines, and when its first cancel went.
    let mut cancel_sent: BTreeMap<String, String> = BTreeMap::new();
    let mut first_cancel: BTreeMap<String, String> = BTreeMap::new();
    let mut ended_elsewhere: BTreeMap<String, String> = BTreeMap::new();
    let mut messages: BTreeMap<String, u32> = BTreeMap::new();
    let mut final_message: BTreeMap<String, String> = BTreeMap::new();
    // (order, text) -> when the last copy went, and whether its answer was lost.
    let mut sent_texts: BTreeMap<(String, String), (Timestamp, bool)> = BTreeMap::new();
    // Feed document -> whether the last createFeed for it lost its answer.
    let mut feed_docs: BTreeMap<String, bool> = BTreeMap::new();
    let cancel_by: BTreeMap<&str, Timestamp> = limits
        .orders
        .iter()
        .filter_map(|o| o.cancel_by.map(|t| (o.order_id.as_str(), t)))
        .collect();
    let excused: BTreeMap<&str, bool> = limits
        .orders
        .iter()
        .map(|o| (o.order_id.as_str(), o.notice_excused))
        .collect();
    let lines: BTreeMap<&str, usize> = limits
        .orders
        .iter()
        .map(|o| (o.order_id.as_str(), o.lines.max(1)))
        .collect();
    // Items each order has had cancelled by kenzen's feeds so far.
    let mut cancelled_items: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // The last time kenzen asked Amazon's messaging about an order (any answer): an attempt.
    let mut messaging_tried: BTreeMap<String, String> = BTreeMap::new();
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
        let order = s(line, "orderId").to_string();
        if line.get("status").and_then(Value::as_u64) == Some(401)
            || line.get("token_refused").is_some()
        {
            broken.push(format!(
                "{} {} at {time} was sent with an expired or unknown token",
                s(line, "method"),
                s(line, "path")
            ));
        }
        match (s(line, "actor"), s(line, "action")) {
            ("buyer", "requestCancellation") => {
                let items = line.get("orderItemIds").and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                });
                request_items.insert(order.clone(), items);
                buyer_request.entry(order).or_insert(time);
                continue;
            }
            ("marketplace", "requestNoLongerShown") => {
                request_items.remove(&order);
                buyer_request.remove(&order);
                continue;
            }
            ("buyer", "cancelOrder") | ("seller", "ship") => {
                ended_elsewhere.entry(order).or_insert(time);
                continue;
            }
            _ => {}
        }
        if let Some(rest) = s(line, "path").strip_prefix("/messaging/v1/orders/") {
            let id = rest.split('/').next().unwrap_or("");
            messaging_tried.insert(id.to_string(), time.clone());
        }
        // An upload Amazon refused (403: wrong content type or signature) cancels nothing.
        if s(line, "method") == "PUT"
            && s(line, "path").starts_with("/sim-docs/")
            && line
                .get("status")
                .and_then(Value::as_u64)
                .is_none_or(|st| st < 300)
        {
            for m in parse_ack_feed(s(line, "body")) {
                if m.reason == "BuyerCanceled" && !request_items.contains_key(&m.order_id) {
                    broken.push(format!(
                        "{}: BuyerCanceled submitted at {time} without the buyer's request",
                        m.order_id
                    ));
                }
                // Line by line: BuyerCanceled only for the items the showing request covers.
                if let Some(Some(covered)) = request_items.get(&m.order_id) {
                    for (item, reason) in &m.items {
                        if reason == "BuyerCanceled" && !covered.contains(item) {
                            broken.push(format!(
                                "{}: item {item} cancelled as BuyerCanceled at {time}, but the \
                                 buyer's request does not cover it",
                                m.order_id
                            ));
                        }
                    }
                }
                // A seller-initiated cancel needs the final apology first; without it, the case
                // must say why, and an attempt must show in the log unless it was quiet hours.
                let quiet = limits
                    .windows_of(&m.order_id)
                    .is_some_and(|w| time.parse::<Timestamp>().is_ok_and(|t| w.is_quiet(t)));
                let seller_initiated = m
                    .items
                    .iter()
                    .any(|(_, r)| r == "GeneralAdjustment" || r == "NoInventory")
                    || m.reason == "GeneralAdjustment"
                    || m.reason == "NoInventory";
                if seller_initiated && !final_message.contains_key(&m.order_id) {
                    let said_why = excused.get(m.order_id.as_str()).copied().unwrap_or(false);
                    let tried = messaging_tried.contains_key(&m.order_id);
                    if !said_why {
                        broken.push(format!(
                            "{}: {} cancel submitted at {time} before any final message was accepted",
                            m.order_id, m.reason
                        ));
                    } else if !tried && !quiet {
                        broken.push(format!(
                            "{}: {} cancel submitted at {time} without an apology attempt, though \
                             sending was allowed",
                            m.order_id, m.reason
                        ));
                    }
                }
                if !first_cancel.contains_key(&m.order_id)
                    && let (Some(by), Ok(t)) = (
                        cancel_by.get(m.order_id.as_str()),
                        time.parse::<Timestamp>(),
                    )
                    && t > *by
                {
                    broken.push(format!(
                        "{}: first cancel submitted at {time}, after cancel-by {by}",
                        m.order_id
                    ));
                }
                // The order counts as cancelled once its feeds covered every line (a message
                // without items cancels the whole order).
                let done = cancelled_items.entry(m.order_id.clone()).or_default();
                done.extend(m.items.iter().map(|(i, _)| i.clone()));
                let n = lines.get(m.order_id.as_str()).copied().unwrap_or(1);
                if m.items.is_empty() || done.len() >= n {
                    cancel_sent
                        .entry(m.order_id.clone())
                        .or_insert(time.clone());
                }
                first_cancel.entry(m.order_id).or_insert(time.clone());
            }
            continue;
        }
        // A call counts when Amazon took it, even if its answer was lost on the way back.
        let lost = line.get("processed_status").is_some();
        let processed = line
            .get("processed_status")
            .or_else(|| line.get("status"))
            .and_then(Value::as_u64);
        // The same feed document submitted again is a second feed: allowed once per lost answer.
        if s(line, "method") == "POST"
            && s(line, "path") == "/feeds/2021-06-30/feeds"
            && processed == Some(202)
        {
            let doc = line
                .get("body")
                .and_then(|b| b.get("inputFeedDocumentId"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if feed_docs.get(&doc) == Some(&false) {
                broken.push(format!(
                    "feed document {doc} submitted again at {time}, though Amazon had answered"
                ));
            }
            feed_docs.insert(doc, lost);
            continue;
        }
        if s(line, "method") == "POST"
            && let Some(id) = order_of_message_path(s(line, "path"))
            && processed == Some(201)
        {
            if let Some(at) = cancel_sent.get(id) {
                broken.push(format!(
                    "{id}: message at {time} after the cancel was submitted at {at}"
                ));
            }
            if let Some(at) = ended_elsewhere.get(id) {
                broken.push(format!(
                    "{id}: message at {time} after the order ended at {at}"
                ));
            }
            if let Some(w) = limits.windows_of(id)
                && let Ok(t) = time.parse::<Timestamp>()
                && w.is_quiet(t)
            {
                broken.push(format!(
                    "{id}: message at {time} in quiet hours ({})",
                    w.time_zone
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
            let body = line
                .get("body")
                .and_then(|b| b.get("text"))
                .and_then(Value::as_str);
            if let (Some(want), Some(text)) = (limits.languages.get(id), body)
                && is_japanese(text) != (*want == Language::Japanese)
            {
                broken.push(format!(
                    "{id}: message at {time} is not in the buyer's language ({want:?})"
                ));
            }
            if body.is_some_and(kenzen_core::message::is_final_text) {
                // An apology is wrong after a request that covers every line still open.
                let open_lines = lines.get(id).copied().unwrap_or(1);
                let covered = match request_items.get(id) {
                    Some(Some(items)) => {
                        let mut c: BTreeSet<&String> = items.iter().collect();
                        if let Some(done) = cancelled_items.get(id) {
                            c.extend(done.iter());
                        }
                        c.len() >= open_lines
                    }
                    _ => true,
                };
                if covered && let Some(at) = buyer_request.get(id) {
                    broken.push(format!(
                        "{id}: final apology at {time} after the buyer's request at {at}"
                    ));
                }
                final_message.insert(id.to_string(), time.clone());
            }
            // The same text again within the hour is a duplicate (resends are hours apart),
            // allowed only right after a copy whose answer was lost: at most one per loss.
            if let Ok(t) = time.parse::<Timestamp>() {
                let key = (id.to_string(), body.unwrap_or("").to_string());
                if let Some((last, false)) = sent_texts.get(&key)
                    && t.duration_since(*last) < jiff::SignedDuration::from_hours(1)
                {
                    broken.push(format!(
                        "{id}: the same message again at {time}, though Amazon had answered the last"
                    ));
                }
                sent_texts.insert(key, (t, lost));
            }
        }
    }
    for o in &limits.orders {
        if !o.has_case || o.ship_by > limits.end {
            continue;
        }
        let in_time = o.ended_at.is_some_and(|t| t < o.ship_by);
        if o.deadline_unreachable {
            if !in_time && !o.deadline_alerted {
                broken.push(format!(
                    "{}: case not ended before ship-by {} and no DeadlineRisk alert raised",
                    o.order_id, o.ship_by
                ));
            }
            continue;
        }
        match o.ended_at {
            Some(t) if t < o.ship_by => {}
            Some(t) => broken.push(format!(
                "{}: case ended at {t}, not before ship-by {}",
                o.order_id, o.ship_by
            )),
            None => broken.push(format!(
                "{}: case still open at ship-by {}",
                o.order_id, o.ship_by
            )),
        }
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> Limits {
        Limits::basic(1, vec!["s3cret".into()])
    }

    fn feed(order: &str, reason: &str) -> String {
        format!(
            "<AmazonEnvelope><Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>{order}</AmazonOrderID><StatusCode>Failure</StatusCode><Item><AmazonOrderItemCode>1</AmazonOrderItemCode><CancelReason>{reason}</CancelReason></Item></OrderAcknowledgement></Message></AmazonEnvelope>"
        )
    }

    fn msg(order: &str, t: &str) -> Value {
        json!({"time": t, "method": "POST", "path": format!("/messaging/v1/orders/{order}/messages/unexpectedProblem"), "status": 201, "body": {"text": "please request cancellation"}})
    }

    fn final_msg(order: &str, t: &str) -> Value {
        json!({"time": t, "method": "POST", "path": format!("/messaging/v1/orders/{order}/messages/unexpectedProblem"), "status": 201, "body": {"text": "We cannot send this order, so we are cancelling it."}})
    }

    fn upload(t: &str, order: &str, reason: &str) -> Value {
        json!({"time": t, "method": "PUT", "path": "/sim-docs/d1", "body": feed(order, reason)})
    }

    #[test]
    fn a_clean_run_breaks_nothing() {
        let log = vec![
            msg("A", "2026-12-01T01:00:00Z"),
            json!({"time": "2026-12-01T02:00:00Z", "actor": "buyer", "action": "requestCancellation", "orderId": "A"}),
            upload("2026-12-01T03:00:00Z", "A", "BuyerCanceled"),
            final_msg("B", "2026-12-01T04:00:00Z"),
            upload("2026-12-01T05:00:00Z", "B", "GeneralAdjustment"),
        ];
        assert!(
            check(&log, &limits()).is_empty(),
            "{:?}",
            check(&log, &limits())
        );
        // A cancel after request messages only (no final apology) is a broken rule.
        let log = vec![
            msg("B", "2026-12-01T04:00:00Z"),
            upload("2026-12-01T05:00:00Z", "B", "GeneralAdjustment"),
        ];
        assert!(check(&log, &limits())[0].contains("before any final message"));
    }

    #[test]
    fn each_broken_rule_is_reported() {
        let log = vec![
            upload("2026-12-01T01:00:00Z", "A", "BuyerCanceled"),
            msg("A", "2026-12-01T02:00:00Z"),
            msg("B", "2026-12-01T03:00:00Z"),
            msg("B", "2026-12-01T04:00:00Z"),
            json!({"time": "2026-12-01T05:00:00Z", "note": "s3cret"}),
            upload("2026-12-01T06:00:00Z", "C", "NoInventory"),
            json!({"time": "2026-12-01T07:00:00Z", "actor": "seller", "action": "ship", "orderId": "D"}),
            msg("D", "2026-12-01T13:30:00Z"),
        ];
        let mut l = limits();
        l.max_messages = 2;
        l.windows = Some(SendWindows::for_marketplace("A1VC38T7YXB528"));
        l.orders = vec![OrderFacts {
            order_id: "E".into(),
            ship_by: "2026-12-02T00:00:00Z".parse().unwrap(),
            has_case: true,
            ended_at: None,
            notice_excused: false,
            cancel_by: None,
            lines: 1,
            deadline_unreachable: false,
            deadline_alerted: false,
        }];
        let broken = check(&log, &l);
        let want = [
            "without the buyer's request",
            "after the cancel",
            "forbidden",
            "before any final message",
            "after the order ended",
            "quiet hours",
            "still open at ship-by",
        ];
        for w in want {
            assert!(
                broken.iter().any(|b| b.contains(w)),
                "{w} not reported: {broken:#?}"
            );
        }
        let mut l2 = limits();
        l2.max_messages = 1;
        assert!(
            check(&log, &l2)
                .iter()
                .any(|b| b.contains("beyond the cap"))
        );
    }

    #[test]
    fn each_order_is_checked_in_its_own_marketplaces_hours_and_its_buyers_language() {
        // 20:30 in London is 21:30 in Berlin: quiet for a German order, open for a British one.
        let at = "2026-12-01T20:30:00Z";
        let log = vec![
            msg("DE", at),
            msg("UK", at),
            final_msg("JP", "2026-12-01T03:00:00Z"),
        ];
        let mut l = limits();
        l.max_messages = 9;
        l.windows = Some(SendWindows::for_marketplace("A1PA6795UKMFR9"));
        l.order_windows
            .insert("UK".into(), SendWindows::for_marketplace("A1F83G8C2ARO7P"));
        l.order_windows
            .insert("JP".into(), SendWindows::for_marketplace("A1VC38T7YXB528"));
        l.languages.insert("UK".into(), Language::English);
        l.languages.insert("JP".into(), Language::Japanese);
        let broken = check(&log, &l);
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(
            broken[0].starts_with("DE:") && broken[0].contains("quiet hours (Europe/Berlin)"),
            "{broken:?}"
        );
        assert!(
            broken[1].starts_with("JP:") && broken[1].contains("not in the buyer's language"),
            "{broken:?}"
        );
        assert!(is_japanese("ご注文") && !is_japanese("We are sorry"));
    }

    #[test]
    fn an_order_hidden_past_its_cancel_by_must_end_before_ship_by_or_be_alerted() {
        let fact = |ended: Option<&str>, alerted: bool| OrderFacts {
            order_id: "H".into(),
            ship_by: "2026-12-04T03:30:00Z".parse().unwrap(),
            has_case: true,
            ended_at: ended.map(|t| t.parse().unwrap()),
            notice_excused: false,
            cancel_by: None,
            lines: 1,
            deadline_unreachable: true,
            deadline_alerted: alerted,
        };
        let mut l = Limits::basic(9, Vec::new());
        let late = "2026-12-04T04:00:00Z";
        for (ended, alerted, ok) in [
            (Some("2026-12-04T03:10:00Z"), false, true),
            (Some(late), true, true),
            (None, true, true),
            (Some(late), false, false),
            (None, false, false),
        ] {
            l.orders = vec![fact(ended, alerted)];
            let broken = check(&[], &l);
            assert_eq!(broken.is_empty(), ok, "{ended:?} {alerted}: {broken:?}");
        }
    }

    fn lost(mut line: Value) -> Value {
        line["status"] = json!(503);
        line["processed_status"] = json!(201);
        line
    }

    #[test]
    fn a_resend_is_allowed_once_per_lost_answer_and_never_otherwise() {
        let l = Limits::basic(9, Vec::new());
        let ok = vec![
            lost(msg("A", "2026-12-01T01:00:00Z")),
            msg("A", "2026-12-01T01:00:05Z"),
        ];
        assert!(check(&ok, &l).is_empty(), "{:?}", check(&ok, &l));
        let twice = vec![
            lost(msg("A", "2026-12-01T01:00:00Z")),
            msg("A", "2026-12-01T01:00:05Z"),
            msg("A", "2026-12-01T01:00:09Z"),
        ];
        let broken = check(&twice, &l);
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert!(broken[0].contains("the same message again"));
        // Hours apart it is a resend, not a duplicate.
        let resend = vec![
            msg("A", "2026-12-01T01:00:00Z"),
            msg("A", "2026-12-01T05:00:00Z"),
        ];
        assert!(check(&resend, &l).is_empty());
    }

    #[test]
    fn an_apology_after_the_request_a_late_first_cancel_and_an_expired_token_are_reported() {
        let mut l = Limits::basic(9, Vec::new());
        l.orders = vec![OrderFacts {
            order_id: "B".into(),
            ship_by: "2026-12-03T00:00:00Z".parse().unwrap(),
            has_case: false,
            ended_at: None,
            notice_excused: false,
            cancel_by: Some("2026-12-02T21:00:00Z".parse().unwrap()),
            lines: 1,
            deadline_unreachable: false,
            deadline_alerted: false,
        }];
        let log = vec![
            json!({"time": "2026-12-01T02:00:00Z", "actor": "buyer", "action": "requestCancellation", "orderId": "A"}),
            final_msg("A", "2026-12-01T03:00:00Z"),
            final_msg("B", "2026-12-02T20:00:00Z"),
            upload("2026-12-02T22:00:00Z", "B", "GeneralAdjustment"),
            json!({"time": "2026-12-02T23:00:00Z", "method": "GET", "path": "/orders/2026-01-01/orders/B", "status": 403, "token_refused": "The access token you provided has expired."}),
        ];
        let broken = check(&log, &l);
        for want in [
            "after the buyer's request",
            "after cancel-by",
            "expired or unknown token",
        ] {
            assert!(
                broken.iter().any(|b| b.contains(want)),
                "{want}: {broken:?}"
            );
        }
        assert_eq!(broken.len(), 3, "{broken:?}");
    }
}
