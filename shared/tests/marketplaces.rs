//! One stack, several marketplaces: each case is worked in its own marketplace's local time.
//!
//! The send windows are checked here against a time zone looked up independently (the
//! marketplace table), so a case worked in another marketplace's hours shows as a broken rule.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kenzen_core::{
    Case, Effect, FeedOutcome, Input, MessageKind, MessageOutcome, OpenReason, OrderLine,
    OrderStatus, OrderView, Settings, Strategy, decide, marketplace,
};
use proptest::prelude::*;

const JP: &str = "A1VC38T7YXB528";
const DE: &str = "A1PA6795UKMFR9";
const FR: &str = "A13V1IB3VIYZZH";
const UK: &str = "A1F83G8C2ARO7P";

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// A stack serving the EU marketplaces `first` and the rest of DE, FR, UK.
fn eu_stack(strategy: Strategy, first: &str) -> Settings {
    let mut s = Settings::new(strategy, first);
    for m in [DE, FR, UK] {
        s.serve(m);
    }
    s
}

fn order(marketplace: &str, ship_by: Timestamp, now: Timestamp) -> OrderView {
    OrderView {
        order_id: "302-0000000-0000001".parse().unwrap(),
        marketplace_id: marketplace.parse().unwrap(),
        status: OrderStatus::Unshipped,
        merchant_fulfilled: true,
        ship_by: Some(ship_by),
        last_updated: now,
        purchased: Some(now),
        lines: vec![OrderLine {
            order_item_id: "11111111111111".into(),
            sku: "MUG".parse().unwrap(),
            title: "Mug".into(),
            quantity: 1,
            unit_price: Some("12.00".into()),
            buyer_cancel_requested: false,
            buyer_cancel_reason: None,
            cancelled_by: None,
        }],
    }
}

fn open(s: &Settings, marketplace: &str, now: Timestamp, ship_by: Timestamp) -> Option<Case> {
    let reason = OpenReason::StockShort {
        sku: "MUG".parse().unwrap(),
        on_hand: 0,
        ordered: 1,
    };
    let mut c = Case::open(&order(marketplace, ship_by, now), reason, s, now)?;
    c.pending.clear();
    Some(c)
}

/// The local wall-clock minutes since midnight of `t` in the marketplace's own time zone, from
/// the marketplace table (not from the settings under test).
fn local_minutes(marketplace: &str, t: Timestamp) -> i32 {
    let tz = TimeZone::get(marketplace::find(marketplace).unwrap().time_zone).unwrap();
    let z = t.to_zoned(tz);
    i32::from(z.hour()) * 60 + i32::from(z.minute())
}

/// Quiet hours 21:00-08:00, the defaults.
fn quiet(minutes: i32) -> bool {
    !(8 * 60..21 * 60).contains(&minutes)
}

const SLOTS: [i32; 3] = [8 * 60 + 30, 12 * 60 + 30, 19 * 60];

/// Every message a case gets (kind, time) when each is accepted and every due time is met to
/// the minute, until its cancel is confirmed or ship-by passes.
fn messages(s: &Settings, mut case: Case) -> Vec<(MessageKind, Timestamp)> {
    let mut out = Vec::new();
    let mut now = case.opened_at;
    for _ in 0..200 {
        let Some((_, due)) = case.due(s) else { break };
        now = now.max(due);
        if now >= case.ship_by {
            break;
        }
        let mut queue = vec![
            Input::Due,
            Input::OrderSeen(order(&case.marketplace_id, case.ship_by, now)),
        ];
        while let Some(input) = queue.pop() {
            let d = decide(&case, &input, now, s);
            case = d.case;
            for e in d.effects {
                match e {
                    Effect::SendRequest { n } => {
                        out.push((MessageKind::Request(n), now));
                        queue.push(Input::MessageResult {
                            message: MessageKind::Request(n),
                            outcome: MessageOutcome::Accepted,
                        });
                    }
                    Effect::SendFinalNotice => {
                        out.push((MessageKind::FinalNotice, now));
                        queue.push(Input::MessageResult {
                            message: MessageKind::FinalNotice,
                            outcome: MessageOutcome::Accepted,
                        });
                    }
                    Effect::SubmitCancel { .. } => {
                        let feed_id = "50000000001".to_string();
                        queue.push(Input::FeedResult {
                            feed_id: feed_id.clone(),
                            outcome: FeedOutcome::Succeeded,
                        });
                        queue.push(Input::CancelSubmitted { feed_id });
                    }
                    _ => {}
                }
            }
        }
        if case.state.is_terminal() {
            break;
        }
        now += mins(1);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever marketplace comes first in the stack, a case in DE, FR or UK gets every message
    /// outside quiet hours in its own marketplace's local time, and every later request at a
    /// send slot of that local time; a JP stack keeps Tokyo's hours. The days cover both
    /// daylight-saving changes.
    #[test]
    fn each_case_is_worked_in_its_own_marketplaces_local_time(
        ask in any::<bool>(),
        first in 0usize..3,
        which in 0usize..4,
        opened_min in 0i64..(365 * 24 * 60),
        ship_hours in 6i64..96,
    ) {
        let strategy = if ask { Strategy::AskBuyer } else { Strategy::CancelFirst };
        let eu = [DE, FR, UK];
        let (s, marketplace) = if which == 3 {
            (Settings::new(strategy, JP), JP)
        } else {
            (eu_stack(strategy, eu[first]), eu[which])
        };
        let opened: Timestamp = "2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap()
            + mins(opened_min);
        let ship_by = opened + SignedDuration::from_hours(ship_hours);
        let case = open(&s, marketplace, opened, ship_by).unwrap();
        for (kind, at) in messages(&s, case) {
            let local = local_minutes(marketplace, at);
            prop_assert!(
                !quiet(local),
                "{kind:?} in {marketplace} at {at} is {:02}:{:02} local, in quiet hours",
                local / 60,
                local % 60
            );
            if let MessageKind::Request(n) = kind
                && n >= 2
            {
                prop_assert!(
                    SLOTS.contains(&local),
                    "request {n} in {marketplace} at {at} is {:02}:{:02} local, not a send slot",
                    local / 60,
                    local % 60
                );
            }
        }
    }
}

/// A UTC instant from a wall-clock time in `zone`.
fn at(zone: &str, s: &str) -> Timestamp {
    DateTime::strptime("%Y-%m-%d %H:%M", s)
        .unwrap()
        .to_zoned(TimeZone::get(zone).unwrap())
        .unwrap()
        .timestamp()
}

#[test]
fn an_evening_order_in_the_uk_is_asked_at_once_while_one_in_germany_waits_for_the_morning() {
    // 20:30 in London is 21:30 in Berlin: open in the UK, quiet in Germany.
    let s = eu_stack(Strategy::AskBuyer, DE);
    let now = at("Europe/London", "2026-12-01 20:30");
    let ship_by = now + SignedDuration::from_hours(72);
    let uk = open(&s, UK, now, ship_by).unwrap();
    let de = open(&s, DE, now, ship_by).unwrap();
    assert_eq!(uk.due(&s).unwrap().1, now, "the UK case is due at once");
    assert_eq!(
        de.due(&s).unwrap().1,
        at("Europe/Berlin", "2026-12-02 08:30"),
        "the German case waits for Berlin's first slot"
    );
    assert_eq!(uk.windows(&s).time_zone, "Europe/London");
    assert_eq!(de.windows(&s).time_zone, "Europe/Berlin");
}

#[test]
fn the_final_notice_keeps_an_hour_before_the_night_in_the_cases_own_marketplace() {
    // Ship-by at 09:00 the next morning, local: the normal final-notice time (ship-by − 12 h,
    // 21:00) is in quiet hours, so it moves to 20:00 local, the last hour before the night.
    let s = eu_stack(Strategy::AskBuyer, DE);
    for (marketplace, zone) in [(DE, "Europe/Berlin"), (UK, "Europe/London")] {
        let opened = at(zone, "2026-12-01 10:00");
        let ship_by = at(zone, "2026-12-02 09:00");
        let case = open(&s, marketplace, opened, ship_by).unwrap();
        assert_eq!(
            case.final_notice_at,
            at(zone, "2026-12-01 20:00"),
            "{marketplace}"
        );
    }
}

#[test]
fn a_stack_opens_no_case_in_a_marketplace_it_does_not_serve() {
    let s = eu_stack(Strategy::AskBuyer, DE);
    let now = at("Europe/Rome", "2026-12-01 10:00");
    let italy = "APJ6JRA9NG5V4";
    assert!(!s.serves(italy));
    assert!(open(&s, italy, now, now + SignedDuration::from_hours(48)).is_none());
    assert_eq!(s.marketplaces(), vec![DE, FR, UK]);
}

#[test]
fn quiet_hours_and_slots_set_for_the_stack_apply_in_each_marketplaces_own_time() {
    let mut s = eu_stack(Strategy::AskBuyer, DE);
    for w in s.all_windows_mut() {
        w.quiet_start = "22:00".parse().unwrap();
    }
    s.validate().unwrap();
    // 21:30 is open now in every marketplace, in its own time.
    for (marketplace, zone) in [
        (DE, "Europe/Berlin"),
        (FR, "Europe/Paris"),
        (UK, "Europe/London"),
    ] {
        let w = s.windows_for(marketplace);
        assert_eq!(w.time_zone, zone);
        assert!(!w.is_quiet(at(zone, "2026-12-01 21:30")), "{marketplace}");
        assert!(w.is_quiet(at(zone, "2026-12-01 22:00")), "{marketplace}");
    }
}

#[test]
fn settings_written_before_a_stack_served_several_marketplaces_still_read() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/persisted/settings-one-marketplace.json");
    let text = std::fs::read_to_string(path).unwrap();
    let s: Settings = serde_json::from_str(&text).unwrap();
    assert_eq!(s.windows.time_zone, "Asia/Tokyo");
    assert!(s.marketplace_windows.is_empty());
    // Such settings served one marketplace and knew no other: every case keeps its windows.
    assert!(s.serves(JP));
    assert_eq!(s.windows_for(JP), &s.windows);
    let again: Settings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(again, s);
}
