//! The workflow rules as tables (every state × every input) and as properties (the never-break
//! rules of DEVELOPERS.md, over random sequences of inputs, outcomes, crashes and clock jumps).

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{
    BuyerRequest, CancelPlan, CancelReason, Case, CaseState, Claim, CloseReason, Decision, DueKind,
    Effect, FeedOutcome, Input, MessageKind, MessageOutcome, Notice, OpenReason, OrderLine,
    OrderStatus, OrderView, Settings, Strategy, decide,
};
use proptest::prelude::*;

/// 10:00 in Tokyo.
const T0: &str = "2026-12-01T01:00:00Z";
const JP: &str = "A1VC38T7YXB528";

fn t0() -> Timestamp {
    T0.parse().unwrap()
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn settings(strategy: Strategy) -> Settings {
    Settings::new(strategy, JP)
}

fn order_at(
    status: OrderStatus,
    buyer_request: bool,
    cancelled_by: Option<&str>,
    ship_by: Timestamp,
) -> OrderView {
    OrderView {
        order_id: "503-0000000-0000001".parse().unwrap(),
        marketplace_id: JP.parse().unwrap(),
        status,
        merchant_fulfilled: true,
        ship_by: Some(ship_by),
        last_updated: t0(),
        purchased: None,
        lines: vec![OrderLine {
            order_item_id: "11111111111111".into(),
            sku: "CUP-1".parse().unwrap(),
            title: "Tea cup".into(),
            quantity: 1,
            unit_price: Some("1980".into()),
            buyer_cancel_requested: buyer_request,
            buyer_cancel_reason: buyer_request.then(|| "NO_LONGER_NEEDED".to_string()),
            cancelled_by: cancelled_by.map(str::to_string),
        }],
    }
}

fn order(status: OrderStatus, buyer_request: bool, cancelled_by: Option<&str>) -> OrderView {
    order_at(status, buyer_request, cancelled_by, t0() + hours(72))
}

fn stock_short() -> OpenReason {
    OpenReason::StockShort {
        sku: "CUP-1".parse().unwrap(),
        on_hand: 0,
        ordered: 1,
    }
}

/// A case as the service leaves it after opening: stored, its pending work done.
fn open_case(strategy: Strategy, now: Timestamp, ship_by: Timestamp) -> Case {
    let mut c = Case::open(
        &order_at(OrderStatus::Unshipped, false, None, ship_by),
        stock_short(),
        &settings(strategy),
        now,
    )
    .unwrap();
    c.pending.clear();
    c
}

fn new_case(now: Timestamp) -> Case {
    open_case(Strategy::AskBuyer, now, t0() + hours(72))
}

fn buyer_plan(now: Timestamp) -> CancelPlan {
    CancelPlan::BuyerCanceled {
        request: BuyerRequest {
            seen_at: now,
            reason: None,
        },
        lines: vec![],
    }
}

fn states(now: Timestamp) -> Vec<(&'static str, CaseState)> {
    let claim = |m| {
        Some(Claim {
            since: now - mins(m),
        })
    };
    vec![
        (
            "req-due",
            CaseState::Requesting {
                next_at: Some(now - mins(1)),
                sending: None,
            },
        ),
        (
            "req-sending",
            CaseState::Requesting {
                next_at: Some(now - mins(5)),
                sending: claim(5),
            },
        ),
        (
            "req-stale",
            CaseState::Requesting {
                next_at: Some(now - mins(60)),
                sending: claim(60),
            },
        ),
        (
            "req-idle",
            CaseState::Requesting {
                next_at: None,
                sending: None,
            },
        ),
        (
            "final-due",
            CaseState::FinalNotice {
                next_try: now - mins(1),
                sending: None,
                attempts: 0,
                last_failure: None,
            },
        ),
        (
            "final-sending",
            CaseState::FinalNotice {
                next_try: now - mins(5),
                sending: claim(5),
                attempts: 0,
                last_failure: None,
            },
        ),
        (
            "cancel-due",
            CaseState::CancelDue {
                plan: buyer_plan(now),
                not_before: now - mins(1),
                submitting: None,
                attempts: 0,
                resubmitted: false,
                lookup: None,
                last_feed: None,
            },
        ),
        (
            "cancel-due-ga",
            CaseState::CancelDue {
                plan: CancelPlan::GeneralAdjustment {
                    notice: Notice::Delivered { at: now - mins(61) },
                },
                not_before: now - mins(1),
                submitting: None,
                attempts: 0,
                resubmitted: false,
                lookup: None,
                last_feed: None,
            },
        ),
        (
            "cancel-submitting",
            CaseState::CancelDue {
                plan: buyer_plan(now),
                not_before: now - mins(5),
                submitting: claim(5),
                attempts: 0,
                resubmitted: false,
                lookup: None,
                last_feed: None,
            },
        ),
        (
            "submitted",
            CaseState::CancelSubmitted {
                plan: buyer_plan(now),
                feed_id: "F1".into(),
                submitted_at: now - mins(6),
                check_at: now - mins(1),
                attempts: 1,
                resubmitted: false,
            },
        ),
        (
            "cancelled",
            CaseState::Cancelled {
                reason: CancelReason::BuyerCanceled,
                plan: buyer_plan(now),
                feed_id: "F1".into(),
                at: now - mins(1),
            },
        ),
        (
            "closed",
            CaseState::Closed {
                why: CloseReason::Shipped,
                at: now - mins(1),
            },
        ),
    ]
}

fn msg(message: MessageKind, outcome: MessageOutcome) -> Input {
    Input::MessageResult { message, outcome }
}

fn inputs() -> Vec<(&'static str, Input)> {
    let failed = || MessageOutcome::Failed {
        detail: "503".into(),
    };
    vec![
        ("due", Input::Due),
        (
            "seen-unshipped",
            Input::OrderSeen(order(OrderStatus::Unshipped, false, None)),
        ),
        (
            "seen-request",
            Input::OrderSeen(order(OrderStatus::Unshipped, true, None)),
        ),
        (
            "seen-shipped",
            Input::OrderSeen(order(OrderStatus::Shipped, false, None)),
        ),
        (
            "seen-cancelled",
            Input::OrderSeen(order(OrderStatus::Cancelled, false, Some("BUYER"))),
        ),
        (
            "req-accepted",
            msg(MessageKind::Request(1), MessageOutcome::Accepted),
        ),
        (
            "req-unavailable",
            msg(MessageKind::Request(1), MessageOutcome::Unavailable),
        ),
        ("req-failed", msg(MessageKind::Request(1), failed())),
        (
            "final-accepted",
            msg(MessageKind::FinalNotice, MessageOutcome::Accepted),
        ),
        ("final-failed", msg(MessageKind::FinalNotice, failed())),
        (
            "cancel-submitted",
            Input::CancelSubmitted {
                feed_id: "F2".into(),
            },
        ),
        (
            "cancel-submit-failed",
            Input::CancelSubmitFailed {
                detail: "500".into(),
            },
        ),
        (
            "feed-pending",
            Input::FeedResult {
                feed_id: "F1".into(),
                outcome: FeedOutcome::Pending,
            },
        ),
        (
            "feed-succeeded",
            Input::FeedResult {
                feed_id: "F1".into(),
                outcome: FeedOutcome::Succeeded,
            },
        ),
        (
            "feed-failed",
            Input::FeedResult {
                feed_id: "F1".into(),
                outcome: FeedOutcome::Failed {
                    detail: "order not found".into(),
                },
            },
        ),
        (
            "withdraw",
            Input::Withdraw {
                reason: "found stock".into(),
            },
        ),
    ]
}

/// "=" when the case is unchanged, else the new state's name; then each effect.
fn summary(before: &Case, d: &Decision) -> String {
    let mut s = if d.changed(before) {
        d.case.state.name().to_string()
    } else {
        "=".to_string()
    };
    for e in &d.effects {
        s.push_str(&match e {
            Effect::SendRequest { n } => format!(" +send{n}"),
            Effect::SendFinalNotice => " +sendfinal".to_string(),
            Effect::SubmitCancel { reason, .. } => format!(" +cancel:{}", reason.as_feed()),
            Effect::FindCancelFeed { .. } => " +find".to_string(),
            Effect::CheckFeed { .. } => " +check".to_string(),
            Effect::ZeroListings => " +zero".to_string(),
            Effect::Publish(ev) => format!(" +pub:{}", ev.detail_type()),
        });
    }
    s
}

const CLOSED: &str = "Closed +pub:CaseClosed";
const BUYER: &str = "CancelDue +pub:BuyerRequestedCancel";

/// Rows: states; columns: inputs in the order of `inputs()`:
/// due, unshipped, request, shipped, cancelled, req-acc, req-unav, req-fail, final-acc,
/// final-fail, cancel-submitted, cancel-submit-failed, feed-pending, feed-ok, feed-failed,
/// withdraw.
const EXPECTED: &[(&str, [&str; 16])] = &[
    (
        "req-due",
        [
            "Requesting +send1",
            "=",
            BUYER,
            CLOSED,
            CLOSED,
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
        ],
    ),
    (
        "req-sending",
        [
            "=",
            "=",
            BUYER,
            CLOSED,
            CLOSED,
            "Requesting",
            "Requesting",
            "Requesting",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
        ],
    ),
    (
        "req-stale",
        [
            "Requesting",
            "=",
            BUYER,
            CLOSED,
            CLOSED,
            "Requesting",
            "Requesting",
            "Requesting",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
        ],
    ),
    (
        "req-idle",
        [
            "=", "=", BUYER, CLOSED, CLOSED, "=", "=", "=", "=", "=", "=", "=", "=", "=", "=",
            CLOSED,
        ],
    ),
    (
        "final-due",
        [
            "FinalNotice +sendfinal",
            "=",
            BUYER,
            CLOSED,
            CLOSED,
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
        ],
    ),
    (
        "final-sending",
        [
            "=",
            "=",
            BUYER,
            CLOSED,
            CLOSED,
            "=",
            "=",
            "=",
            "CancelDue",
            "FinalNotice",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
        ],
    ),
    (
        "cancel-due",
        [
            "CancelDue +cancel:BuyerCanceled",
            "Requesting +pub:KenzenAlert",
            "=",
            CLOSED,
            CLOSED,
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
        ],
    ),
    (
        "cancel-due-ga",
        [
            "CancelDue +cancel:GeneralAdjustment",
            "=",
            BUYER,
            CLOSED,
            CLOSED,
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
        ],
    ),
    (
        "cancel-submitting",
        [
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
            "=",
            "=",
            "=",
            "=",
            "=",
            "CancelSubmitted +pub:CancelSubmitted",
            "CancelDue",
            "=",
            "=",
            "=",
            "=",
        ],
    ),
    (
        "submitted",
        [
            "= +check",
            "=",
            "=",
            CLOSED,
            "Cancelled +pub:CaseClosed +zero",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "CancelSubmitted",
            "CancelSubmitted",
            "CancelDue +pub:KenzenAlert",
            "=",
        ],
    ),
    ("cancelled", ["="; 16]),
    ("closed", ["="; 16]),
];

#[test]
fn every_state_and_input_pair_decides_as_the_table_says() {
    let now = t0() + hours(1);
    check_table(&states(now), &inputs(), EXPECTED, now);
}

/// Decides every (state, input) pair at `now` and compares with the table's row for the state.
fn check_table<const N: usize>(
    states: &[(&str, CaseState)],
    inputs: &[(&str, Input)],
    expected: &[(&str, [&str; N])],
    now: Timestamp,
) {
    let settings = settings(Strategy::AskBuyer);
    assert_eq!(states.len(), expected.len());
    let mut failures = Vec::new();
    for ((sname, state), (ename, row)) in states.iter().zip(expected) {
        assert_eq!(sname, ename);
        for ((iname, input), want) in inputs.iter().zip(row.iter()) {
            let mut case = new_case(t0());
            case.state = state.clone();
            let got = summary(&case, &decide(&case, input, now, &settings));
            if got != *want {
                failures.push(format!("{sname} × {iname}: got {got:?}, want {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn accept(case: &Case, kind: MessageKind, now: Timestamp, s: &Settings) -> Case {
    decide(case, &msg(kind, MessageOutcome::Accepted), now, s).case
}

/// A Tokyo wall-clock time.
fn tokyo(s: &str) -> Timestamp {
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", s)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
        .unwrap()
        .timestamp()
}

#[test]
fn resends_go_in_a_new_slot_each_time_up_to_the_cap() {
    let s = settings(Strategy::AskBuyer);
    let opened = tokyo("2026-12-01 09:10");
    let mut case = open_case(Strategy::AskBuyer, opened, tokyo("2026-12-04 23:59"));
    let mut sent = Vec::new();
    let mut now = opened;
    for n in 1..=s.max_requests {
        let (_, due_at) = case.due(&s).unwrap();
        now = now.max(due_at);
        let d = decide(&case, &Input::Due, now, &s);
        assert_eq!(d.effects, vec![Effect::SendRequest { n }], "at {now}");
        case = accept(&d.case, MessageKind::Request(n), now, &s);
        sent.push(now);
    }
    // Detection at 09:10 (morning slot), then 12:30 (midday), then 19:00 (evening).
    assert_eq!(
        sent,
        [
            tokyo("2026-12-01 09:10"),
            tokyo("2026-12-01 12:30"),
            tokyo("2026-12-01 19:00")
        ]
    );
    assert_eq!(case.slots_used, [0, 1, 2]);
    // The next request's wording ("earlier today") goes by when the last one went out.
    assert_eq!(case.last_request_at, Some(tokyo("2026-12-01 19:00")));
    assert_eq!(
        case.state,
        CaseState::Requesting {
            next_at: None,
            sending: None
        }
    );
}

#[test]
fn an_order_placed_in_quiet_hours_gets_its_first_request_at_the_next_slot() {
    let s = settings(Strategy::AskBuyer);
    let case = open_case(
        Strategy::AskBuyer,
        tokyo("2026-12-01 23:40"),
        tokyo("2026-12-04 23:59"),
    );
    assert_eq!(
        case.due(&s),
        Some((DueKind::Send, tokyo("2026-12-02 08:30")))
    );
    assert!(
        decide(&case, &Input::Due, tokyo("2026-12-02 02:00"), &s)
            .effects
            .is_empty()
    );
}

#[test]
fn the_final_notice_time_leaves_quiet_hours_and_is_compressed_near_the_deadline() {
    let s = settings(Strategy::AskBuyer);
    // Ship-by 23:59: 12 h before is 11:59.
    let c = open_case(
        Strategy::AskBuyer,
        tokyo("2026-12-01 09:00"),
        tokyo("2026-12-03 23:59"),
    );
    assert_eq!(c.final_notice_at, tokyo("2026-12-03 11:59"));
    // Ship-by 10:00: 12 h before is 22:00 (quiet): moved to 20:00 the evening before, an hour
    // before quiet hours, so the sweeps surely send it.
    let c = open_case(
        Strategy::AskBuyer,
        tokyo("2026-12-01 09:00"),
        tokyo("2026-12-03 10:00"),
    );
    assert_eq!(c.final_notice_at, tokyo("2026-12-02 20:00"));
    // Placed 10 h before ship-by: cancel by 7 h after placing, last call (a cancel sweep and a
    // margin before it) 15:45; final notice at 3/5 of the time to the last call.
    let c = open_case(
        Strategy::AskBuyer,
        tokyo("2026-12-01 09:00"),
        tokyo("2026-12-01 19:00"),
    );
    assert_eq!(c.cancel_by, tokyo("2026-12-01 16:00"));
    assert_eq!(c.last_call(&s), tokyo("2026-12-01 15:45"));
    assert_eq!(c.final_notice_at, tokyo("2026-12-01 13:03"));
    assert!(c.final_notice_at < c.last_call(&s));
    s.validate().unwrap();
}

#[test]
fn with_no_buyer_request_the_final_apology_goes_first_then_general_adjustment() {
    let s = settings(Strategy::AskBuyer);
    let case = open_case(
        Strategy::AskBuyer,
        tokyo("2026-12-01 09:00"),
        tokyo("2026-12-03 23:59"),
    );
    let mut c = case.clone();
    c.state = CaseState::Requesting {
        next_at: None,
        sending: None,
    };
    let at = c.final_notice_at;
    let d = decide(&c, &Input::Due, at, &s);
    assert_eq!(d.effects, vec![Effect::SendFinalNotice]);
    let c = accept(&d.case, MessageKind::FinalNotice, at, &s);
    let (kind, cancel_at) = c.due(&s).unwrap();
    assert_eq!(kind, DueKind::Cancel);
    assert_eq!(cancel_at, at + s.final_grace);
    let d = decide(&c, &Input::Due, cancel_at, &s);
    assert_eq!(
        d.effects,
        vec![Effect::SubmitCancel {
            reason: CancelReason::GeneralAdjustment,
            order_item_ids: vec!["11111111111111".into()],
        }]
    );
    // A buyer request between the final notice and the cancel wins.
    let d = decide(
        &c,
        &Input::OrderSeen(order(OrderStatus::Unshipped, true, None)),
        at + mins(10),
        &s,
    );
    assert!(matches!(
        d.case.state,
        CaseState::CancelDue {
            plan: CancelPlan::BuyerCanceled { .. },
            ..
        }
    ));
}

#[test]
fn when_messaging_stays_unavailable_the_cancel_still_goes_out_by_the_deadline_and_says_so() {
    let s = settings(Strategy::AskBuyer);
    let mut c = open_case(
        Strategy::AskBuyer,
        tokyo("2026-12-01 09:00"),
        tokyo("2026-12-03 23:59"),
    );
    let mut now = c.final_notice_at;
    let mut sends = 0;
    while !matches!(c.state, CaseState::CancelDue { .. }) {
        let d = decide(&c, &Input::Due, now, &s);
        c = d.case;
        if d.effects.contains(&Effect::SendFinalNotice) {
            sends += 1;
            c = decide(
                &c,
                &msg(MessageKind::FinalNotice, MessageOutcome::Unavailable),
                now,
                &s,
            )
            .case;
        }
        now += mins(5);
        assert!(now < c.ship_by, "never reached the cancel");
    }
    assert!(sends > 1, "kept trying");
    // Given up at the last call, so the final-cancel sweep still submits before cancel-by.
    let gave_up = now - mins(5);
    assert!(
        gave_up >= c.last_call(&s) - s.retry_after && gave_up < c.last_call(&s),
        "gave up at {gave_up}"
    );
    let CaseState::CancelDue { plan, .. } = &c.state else {
        unreachable!()
    };
    assert!(matches!(
        plan,
        CancelPlan::GeneralAdjustment {
            notice: Notice::NotDelivered { .. }
        }
    ));
}

#[test]
fn cancel_first_apologises_then_cancels_as_no_inventory_and_sends_no_request() {
    let s = settings(Strategy::CancelFirst);
    let opened = tokyo("2026-12-01 22:30");
    let c = open_case(Strategy::CancelFirst, opened, tokyo("2026-12-03 23:59"));
    assert!(matches!(c.state, CaseState::FinalNotice { .. }));
    // Quiet hours: the apology waits for 08:00.
    assert_eq!(c.due(&s), Some((DueKind::Send, tokyo("2026-12-02 08:00"))));
    let morning = tokyo("2026-12-02 08:00");
    let d = decide(&c, &Input::Due, morning, &s);
    assert_eq!(d.effects, vec![Effect::SendFinalNotice]);
    let c = accept(&d.case, MessageKind::FinalNotice, morning, &s);
    let d = decide(&c, &Input::Due, morning, &s);
    assert_eq!(
        d.effects,
        vec![Effect::SubmitCancel {
            reason: CancelReason::NoInventory,
            order_item_ids: vec!["11111111111111".into()],
        }]
    );
}

#[test]
fn an_unconfirmed_cancel_is_resubmitted_with_an_alert_an_hour_before_ship_by() {
    let s = settings(Strategy::AskBuyer);
    let mut c = new_case(t0());
    c.state = CaseState::CancelSubmitted {
        plan: buyer_plan(t0()),
        feed_id: "F1".into(),
        submitted_at: t0(),
        check_at: c.ship_by,
        attempts: 1,
        resubmitted: false,
    };
    let at = c.ship_by - s.resubmit_margin;
    assert_eq!(c.due(&s), Some((DueKind::Confirm, at)));
    let d = decide(&c, &Input::Due, at, &s);
    assert!(matches!(
        d.case.state,
        CaseState::CancelDue {
            resubmitted: true,
            ..
        }
    ));
    assert!(d.effects.iter().any(|e| matches!(e, Effect::Publish(kenzen_core::DomainEvent::Alert { alert, .. }) if *alert == kenzen_core::AlertKind::DeadlineRisk)));
}

#[test]
fn an_order_that_already_shows_the_buyers_request_opens_straight_into_a_buyer_cancel() {
    let s = settings(Strategy::AskBuyer);
    let case = Case::open(
        &order(OrderStatus::Unshipped, true, None),
        stock_short(),
        &s,
        t0(),
    )
    .unwrap();
    let d = decide(&case, &Input::Due, t0(), &s);
    assert_eq!(
        d.effects,
        vec![Effect::SubmitCancel {
            reason: CancelReason::BuyerCanceled,
            order_item_ids: vec!["11111111111111".into()],
        }]
    );
}

#[test]
fn a_buyer_request_seen_while_a_message_is_in_flight_waits_for_the_claim_to_run_out() {
    let s = settings(Strategy::AskBuyer);
    let case = new_case(t0());
    let sending = decide(&case, &Input::Due, t0(), &s).case;
    let d = decide(
        &sending,
        &Input::OrderSeen(order(OrderStatus::Unshipped, true, None)),
        t0() + mins(1),
        &s,
    );
    let (kind, at) = d.case.due(&s).unwrap();
    assert_eq!(kind, DueKind::Cancel);
    assert_eq!(at, t0() + s.claim_timeout);
    assert!(
        decide(&d.case, &Input::Due, t0() + mins(2), &s)
            .effects
            .is_empty()
    );
}

// ---- properties ----

#[derive(Debug, Clone)]
enum World {
    Tick,
    SeenUnshipped,
    SeenBuyerRequest,
    SeenShipped,
    SeenCancelledElsewhere,
    Withdraw,
    /// The seller approves the cancel (`kenzen approve`).
    Approve,
}

#[derive(Debug, Clone)]
enum Outcome {
    Ok,
    Refused,
    Failed,
    /// The invocation crashed after performing the effect: no outcome comes back.
    Crash,
    /// Amazon processed it, but the answer was lost.
    Lost,
    /// Refused for the seller's authorisation.
    NotAuthorized,
    /// The text breaks Amazon's rules.
    Invalid,
}

fn world() -> impl proptest::strategy::Strategy<Value = World> {
    prop_oneof![
        12 => Just(World::Tick),
        2 => Just(World::SeenUnshipped),
        1 => Just(World::SeenBuyerRequest),
        1 => Just(World::SeenShipped),
        1 => Just(World::SeenCancelledElsewhere),
        1 => Just(World::Withdraw),
        1 => Just(World::Approve),
    ]
}

fn outcome() -> impl proptest::strategy::Strategy<Value = Outcome> {
    prop_oneof![
        8 => Just(Outcome::Ok),
        1 => Just(Outcome::Refused),
        3 => Just(Outcome::Failed),
        1 => Just(Outcome::Crash),
        1 => Just(Outcome::Lost),
        1 => Just(Outcome::NotAuthorized),
        1 => Just(Outcome::Invalid),
    ]
}

#[derive(Default, Debug)]
struct Log {
    buyer_request_seen: bool,
    /// A final message was attempted (whatever Amazon answered).
    final_attempted: bool,
    /// The last view of the order showed the buyer's request.
    request_showing: bool,
    /// A feed Amazon may hold for this case that the case does not know of (lost or crashed).
    unrecorded_feed: Option<String>,
    cancel_submitted: bool,
    final_accepted: bool,
    /// (message number, outcome was Ok (false) or Crash (true)): the buyer may have it.
    maybe_delivered: Vec<(u32, bool)>,
    violations: Vec<String>,
}

/// Drives a case through `steps` like the service would; collects broken rules.
fn run(
    mut case: Case,
    steps: &[(i64, World, Outcome)],
    settings: &Settings,
    start: Timestamp,
) -> (Case, Log, Timestamp) {
    let mut log = Log::default();
    let mut now = start;
    for (advance, w, out) in steps {
        now += mins(*advance);
        let input = match w {
            World::Tick => Input::Due,
            World::SeenUnshipped => {
                log.request_showing = false;
                Input::OrderSeen(order(OrderStatus::Unshipped, false, None))
            }
            World::SeenBuyerRequest => {
                log.buyer_request_seen = true;
                log.request_showing = true;
                Input::OrderSeen(order(OrderStatus::Unshipped, true, None))
            }
            World::SeenShipped => Input::OrderSeen(order(OrderStatus::Shipped, false, None)),
            World::SeenCancelledElsewhere => {
                Input::OrderSeen(order(OrderStatus::Cancelled, false, Some("BUYER")))
            }
            World::Withdraw => Input::Withdraw {
                reason: "seller".into(),
            },
            World::Approve => Input::Approve {
                by: "seller".into(),
            },
        };
        // Like the service, a sweep re-reads the order right before acting (look before
        // committing); the queue is taken from its end.
        let mut queue = vec![input];
        if matches!(w, World::Tick) {
            queue.push(Input::OrderSeen(order(
                OrderStatus::Unshipped,
                log.request_showing,
                None,
            )));
        }
        while let Some(input) = queue.pop() {
            let before = case.clone();
            let d = decide(&case, &input, now, settings);
            if before.state.is_terminal() && d.case != before {
                log.violations.push("a closed case changed".into());
            }
            case = d.case;
            if case.requests_sent > 0 && case.last_request_at.is_none_or(|t| t > now) {
                log.violations
                    .push("a request counted as sent without when it went out".into());
            }
            for e in d.effects {
                let is_message = matches!(e, Effect::SendRequest { .. } | Effect::SendFinalNotice);
                if is_message {
                    if log.cancel_submitted || before.state.is_terminal() {
                        log.violations.push("message after a cancel".into());
                    }
                    if settings.windows.is_quiet(now) {
                        log.violations
                            .push(format!("message in quiet hours at {now}"));
                    }
                }
                match e {
                    Effect::SendRequest { n } => {
                        if case.strategy == Strategy::CancelFirst {
                            log.violations
                                .push("request message under cancel-first".into());
                        }
                        if n > settings.max_requests {
                            log.violations.push(format!("message {n} beyond the cap"));
                        }
                        if now >= case.final_notice_at {
                            log.violations
                                .push("request after the final-notice time".into());
                        }
                        if log.maybe_delivered.iter().any(|(m, _)| *m == n) {
                            log.violations.push(format!(
                                "message {n} sent again after it may have reached the buyer"
                            ));
                        }
                        let outcome = match out {
                            Outcome::Ok => {
                                log.maybe_delivered.push((n, false));
                                MessageOutcome::Accepted
                            }
                            Outcome::Lost => {
                                log.maybe_delivered.push((n, true));
                                MessageOutcome::Unknown {
                                    detail: "HTTP 500 after sending".into(),
                                }
                            }
                            Outcome::Refused => MessageOutcome::Unavailable,
                            Outcome::Failed => MessageOutcome::Failed {
                                detail: "503".into(),
                            },
                            Outcome::NotAuthorized => MessageOutcome::NotAuthorized {
                                detail: "403".into(),
                            },
                            Outcome::Invalid => MessageOutcome::Invalid {
                                detail: "400".into(),
                            },
                            Outcome::Crash => {
                                log.maybe_delivered.push((n, true));
                                continue;
                            }
                        };
                        queue.push(msg(MessageKind::Request(n), outcome));
                    }
                    Effect::SendFinalNotice => {
                        log.final_attempted = true;
                        if log.final_accepted {
                            log.violations.push(
                                "final message sent again after it may have reached the buyer"
                                    .into(),
                            );
                        }
                        let outcome = match out {
                            Outcome::Ok => {
                                log.final_accepted = true;
                                MessageOutcome::Accepted
                            }
                            Outcome::Lost => {
                                log.final_accepted = true;
                                MessageOutcome::Unknown {
                                    detail: "HTTP 500 after sending".into(),
                                }
                            }
                            Outcome::Refused => MessageOutcome::Unavailable,
                            Outcome::Failed => MessageOutcome::Failed {
                                detail: "503".into(),
                            },
                            Outcome::NotAuthorized => MessageOutcome::NotAuthorized {
                                detail: "403".into(),
                            },
                            Outcome::Invalid => MessageOutcome::Invalid {
                                detail: "400".into(),
                            },
                            Outcome::Crash => {
                                log.final_accepted = true;
                                continue;
                            }
                        };
                        queue.push(msg(MessageKind::FinalNotice, outcome));
                    }
                    Effect::SubmitCancel { reason, .. } => {
                        if reason == CancelReason::BuyerCanceled && !log.request_showing {
                            log.violations.push(
                                "BuyerCanceled while Amazon does not show the buyer's request"
                                    .into(),
                            );
                        }
                        if let Some(f) = &log.unrecorded_feed {
                            log.violations.push(format!(
                                "cancel submitted again while feed {f} may already carry it"
                            ));
                        }
                        if reason != CancelReason::BuyerCanceled && !log.final_accepted {
                            let excused = matches!(
                                &case.state,
                                CaseState::CancelDue {
                                    plan: CancelPlan::GeneralAdjustment {
                                        notice: Notice::NotDelivered { .. }
                                    } | CancelPlan::NoInventory {
                                        notice: Notice::NotDelivered { .. }
                                    },
                                    ..
                                }
                            ) && (log.final_attempted
                                || settings.windows.is_quiet(now)
                                || now >= case.cancel_by);
                            if !excused {
                                log.violations.push(format!(
                                    "{} cancel before the final message was accepted",
                                    reason.as_feed()
                                ));
                            }
                        }
                        // A submission that failed before reaching Amazon cancels nothing.
                        log.cancel_submitted |= matches!(
                            out,
                            Outcome::Ok | Outcome::Refused | Outcome::Crash | Outcome::Lost
                        );
                        let feed_id = format!("F{}", now.as_second());
                        match out {
                            Outcome::Crash => log.unrecorded_feed = Some(feed_id),
                            Outcome::Lost => {
                                log.unrecorded_feed = Some(feed_id);
                                queue.push(Input::CancelSubmitUnknown {
                                    detail: "HTTP 500 after sending".into(),
                                });
                            }
                            Outcome::Failed | Outcome::Invalid | Outcome::NotAuthorized => queue
                                .push(Input::CancelSubmitFailed {
                                    detail: "500".into(),
                                }),
                            _ => queue.push(Input::CancelSubmitted { feed_id }),
                        }
                    }
                    Effect::FindCancelFeed { .. } => {
                        // Amazon's feed list shows the feed the lost or crashed submission made.
                        let found = log.unrecorded_feed.take();
                        queue.push(Input::CancelFeedFound { feed_id: found });
                    }
                    Effect::CheckFeed { feed_id } => {
                        let outcome = match out {
                            Outcome::Ok => FeedOutcome::Succeeded,
                            Outcome::Failed => FeedOutcome::Pending,
                            _ => FeedOutcome::Failed {
                                detail: "error".into(),
                            },
                        };
                        let ok = outcome == FeedOutcome::Succeeded;
                        if matches!(outcome, FeedOutcome::Failed { .. }) {
                            // Amazon's report says the cancel did not happen.
                            log.cancel_submitted = false;
                        }
                        queue.push(Input::FeedResult { feed_id, outcome });
                        if ok {
                            queue.insert(
                                0,
                                Input::OrderSeen(order(
                                    OrderStatus::Cancelled,
                                    false,
                                    Some("MERCHANT"),
                                )),
                            );
                        }
                    }
                    Effect::ZeroListings | Effect::Publish(_) => {}
                }
            }
        }
    }
    (case, log, now)
}

fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![Just(Strategy::AskBuyer), Just(Strategy::CancelFirst)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_never_break_rules_hold_for_any_sequence_of_inputs(
        strategy in strategy(),
        opened_after in 0i64..(24 * 60),
        ship_hours in 8i64..96,
        steps in proptest::collection::vec((0i64..240, world(), outcome()), 1..120)
    ) {
        let s = settings(strategy);
        let opened = t0() + mins(opened_after);
        let case = open_case(strategy, opened, opened + hours(ship_hours));
        let (case, log, _) = run(case, &steps, &s, opened);
        prop_assert!(log.violations.is_empty(), "{:?}", log.violations);
        if let CaseState::Cancelled { reason: CancelReason::BuyerCanceled, .. } = case.state {
            prop_assert!(log.buyer_request_seen);
        }
    }

    #[test]
    fn every_case_ends_before_ship_by_when_sweeps_keep_running(
        strategy in strategy(),
        opened_after in 0i64..(24 * 60),
        ship_hours in 6i64..96,
        outcomes in proptest::collection::vec(outcome(), 2000),
    ) {
        // Sweeps every 5 minutes; every answer random, but cancels are not refused for ever:
        // after three failures in a row the marketplace takes one.
        let s = settings(strategy);
        let opened = t0() + mins(opened_after);
        let ship_by = opened + hours(ship_hours);
        let mut case = open_case(strategy, opened, ship_by);
        let mut now = opened;
        let mut failures_in_a_row = 0;
        for out in outcomes {
            if case.state.is_terminal() || now >= ship_by {
                break;
            }
            let out = match out {
                Outcome::Ok => { failures_in_a_row = 0; Outcome::Ok }
                other if failures_in_a_row >= 3 => { let _ = other; failures_in_a_row = 0; Outcome::Ok }
                other => { failures_in_a_row += 1; other }
            };
            let (c, log, _) = run(case, &[(0, World::Tick, out)], &s, now);
            prop_assert!(log.violations.iter().all(|v| !v.contains("quiet") && !v.contains("after a cancel")), "{:?}", log.violations);
            case = c;
            now += mins(5);
        }
        prop_assert!(case.state.is_terminal(), "still {} at ship-by {}", case.state.name(), ship_by);
    }

    #[test]
    fn a_closed_case_ignores_every_later_input(
        steps in proptest::collection::vec((0i64..240, world(), outcome()), 1..60),
        later in proptest::collection::vec(0usize..16, 1..20),
    ) {
        let s = settings(Strategy::AskBuyer);
        let (case, _, _) = run(new_case(t0()), &steps, &s, t0());
        if case.state.is_terminal() {
            let inputs = inputs();
            for i in later {
                let d = decide(&case, &inputs[i].1, t0() + hours(100), &s);
                prop_assert_eq!(&d.case, &case);
                prop_assert!(d.effects.is_empty());
            }
        }
    }
}

/// The answers and states the never-wrong rules added: unknown outcomes, authorisation
/// refusals, texts that can never be sent, feed lookups, and a cancel whose submission may have
/// reached Amazon.
fn more_states(now: Timestamp) -> Vec<(&'static str, CaseState)> {
    let claim = |m| {
        Some(Claim {
            since: now - mins(m),
        })
    };
    vec![
        (
            "final-stale",
            CaseState::FinalNotice {
                next_try: now - mins(60),
                sending: claim(60),
                attempts: 0,
                last_failure: None,
            },
        ),
        (
            "cancel-stale",
            CaseState::CancelDue {
                plan: CancelPlan::GeneralAdjustment {
                    notice: Notice::Delivered { at: now - mins(90) },
                },
                not_before: now - mins(60),
                submitting: claim(60),
                attempts: 0,
                resubmitted: false,
                lookup: None,
                last_feed: None,
            },
        ),
        (
            "cancel-lookup",
            CaseState::CancelDue {
                plan: CancelPlan::GeneralAdjustment {
                    notice: Notice::Delivered { at: now - mins(90) },
                },
                not_before: now - mins(1),
                submitting: claim(5),
                attempts: 1,
                resubmitted: false,
                lookup: Some(now - mins(30)),
                last_feed: None,
            },
        ),
    ]
}

fn more_inputs() -> Vec<(&'static str, Input)> {
    let d = || "x".to_string();
    vec![
        ("due", Input::Due),
        (
            "req-unknown",
            msg(
                MessageKind::Request(1),
                MessageOutcome::Unknown { detail: d() },
            ),
        ),
        (
            "req-unauth",
            msg(
                MessageKind::Request(1),
                MessageOutcome::NotAuthorized { detail: d() },
            ),
        ),
        (
            "req-invalid",
            msg(
                MessageKind::Request(1),
                MessageOutcome::Invalid { detail: d() },
            ),
        ),
        (
            "final-unknown",
            msg(
                MessageKind::FinalNotice,
                MessageOutcome::Unknown { detail: d() },
            ),
        ),
        (
            "final-unauth",
            msg(
                MessageKind::FinalNotice,
                MessageOutcome::NotAuthorized { detail: d() },
            ),
        ),
        (
            "final-invalid",
            msg(
                MessageKind::FinalNotice,
                MessageOutcome::Invalid { detail: d() },
            ),
        ),
        ("submit-unknown", Input::CancelSubmitUnknown { detail: d() }),
        (
            "feed-found",
            Input::CancelFeedFound {
                feed_id: Some("F9".into()),
            },
        ),
        ("feed-none", Input::CancelFeedFound { feed_id: None }),
        (
            "seen-cancelled-merchant",
            Input::OrderSeen(order(OrderStatus::Cancelled, false, Some("MERCHANT"))),
        ),
        ("withdraw", Input::Withdraw { reason: "r".into() }),
    ]
}

/// Rows: `states()` then `more_states()`; columns: `more_inputs()`.
const MORE: &[(&str, [&str; 12])] = &[
    (
        "req-due",
        [
            "Requesting +send1",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "req-sending",
        [
            "=",
            "Requesting",
            "Requesting +pub:KenzenAlert",
            "Requesting",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "req-stale",
        [
            "Requesting",
            "Requesting",
            "Requesting +pub:KenzenAlert",
            "Requesting",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "req-idle",
        [
            "=", "=", "=", "=", "=", "=", "=", "=", "=", "=", CLOSED, CLOSED,
        ],
    ),
    (
        "final-due",
        [
            "FinalNotice +sendfinal",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "final-sending",
        [
            "=",
            "=",
            "=",
            "=",
            "CancelDue",
            "FinalNotice +pub:KenzenAlert",
            "CancelDue +pub:KenzenAlert",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "cancel-due",
        [
            "CancelDue +cancel:BuyerCanceled",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "cancel-due-ga",
        [
            "CancelDue +cancel:GeneralAdjustment",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "cancel-submitting",
        [
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "CancelDue",
            "=",
            "=",
            "Cancelled +pub:CaseClosed +zero",
            "=",
        ],
    ),
    (
        "submitted",
        [
            "= +check",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "Cancelled +pub:CaseClosed +zero",
            "=",
        ],
    ),
    ("cancelled", ["="; 12]),
    ("closed", ["="; 12]),
    // A late answer to a message whose claim ran out still counts.
    (
        "final-stale",
        [
            "CancelDue",
            "=",
            "=",
            "=",
            "CancelDue",
            "FinalNotice +pub:KenzenAlert",
            "CancelDue +pub:KenzenAlert",
            "=",
            "=",
            "=",
            CLOSED,
            CLOSED,
        ],
    ),
    (
        "cancel-stale",
        [
            "CancelDue +find",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "CancelDue",
            "=",
            "=",
            "Cancelled +pub:CaseClosed +zero",
            "=",
        ],
    ),
    (
        "cancel-lookup",
        [
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "CancelDue",
            "CancelSubmitted +pub:CancelSubmitted",
            "CancelDue +cancel:GeneralAdjustment",
            "Cancelled +pub:CaseClosed +zero",
            "=",
        ],
    ),
];

#[test]
fn the_never_wrong_answers_decide_as_the_table_says() {
    let now = t0() + hours(1);
    let mut all = states(now);
    all.extend(more_states(now));
    check_table(&all, &more_inputs(), MORE, now);
}

// ---- Modes: pause, dry-run and approve ----------------------------------------------------

fn with_mode(strategy: Strategy, mode: kenzen_core::Mode) -> Settings {
    let mut s = settings(strategy);
    s.mode = mode;
    s
}

fn acting(d: &Decision) -> bool {
    d.effects.iter().any(|e| {
        matches!(
            e,
            Effect::SendRequest { .. } | Effect::SendFinalNotice | Effect::SubmitCancel { .. }
        )
    })
}

fn alerts(d: &Decision) -> Vec<kenzen_core::AlertKind> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Publish(kenzen_core::DomainEvent::Alert { alert, .. }) => Some(*alert),
            _ => None,
        })
        .collect()
}

#[test]
fn a_paused_case_sends_and_cancels_nothing_and_alerts_once_at_its_last_call() {
    let s = with_mode(Strategy::CancelFirst, kenzen_core::Mode::Pause);
    let case = open_case(Strategy::CancelFirst, t0(), t0() + hours(30));
    let d = decide(&case, &Input::Due, t0() + hours(1), &s);
    assert!(!acting(&d), "{d:?}");
    assert_eq!(d.case, case, "a held case stays as it was");
    assert!(d.note.starts_with("held: kenzen is paused"), "{}", d.note);
    let last = case.last_call(&s);
    let d = decide(&case, &Input::Due, last, &s);
    assert!(!acting(&d));
    assert_eq!(alerts(&d), vec![kenzen_core::AlertKind::HeldAtDeadline]);
    let again = decide(&d.case, &Input::Due, last + mins(10), &s);
    assert!(alerts(&again).is_empty(), "the alert goes out once");
    // Resumed: the case goes on (past its last call: the apology once, then the cancel).
    let live = settings(Strategy::CancelFirst);
    assert!(acting(&decide(
        &again.case,
        &Input::Due,
        last + mins(20),
        &live
    )));
}

#[test]
fn a_paused_case_still_sees_the_buyers_request_and_a_shipment() {
    let s = with_mode(Strategy::AskBuyer, kenzen_core::Mode::Pause);
    let case = new_case(t0());
    let d = decide(
        &case,
        &Input::OrderSeen(order(OrderStatus::Unshipped, true, None)),
        t0() + hours(1),
        &s,
    );
    assert!(matches!(
        d.case.state,
        CaseState::CancelDue {
            plan: CancelPlan::BuyerCanceled { .. },
            ..
        }
    ));
    // ... but the BuyerCanceled cancel waits for the resume too.
    assert!(!acting(&decide(&d.case, &Input::Due, t0() + hours(2), &s)));
    let shipped = decide(
        &case,
        &Input::OrderSeen(order(OrderStatus::Shipped, false, None)),
        t0() + hours(1),
        &s,
    );
    assert!(matches!(
        shipped.case.state,
        CaseState::Closed {
            why: CloseReason::Shipped,
            ..
        }
    ));
}

#[test]
fn a_case_opened_in_dry_run_is_a_rehearsal_that_decides_as_live_and_a_live_case_waits() {
    let dry = with_mode(Strategy::CancelFirst, kenzen_core::Mode::DryRun);
    let rehearsal = open_case_with(t0(), t0() + hours(30), &dry);
    assert!(rehearsal.dry_run);
    let d = decide(&rehearsal, &Input::Due, t0() + hours(1), &dry);
    assert!(
        d.effects.contains(&Effect::SendFinalNotice),
        "the rehearsal decides what live would: {d:?}"
    );
    let live_case = open_case(Strategy::CancelFirst, t0(), t0() + hours(30));
    assert!(!live_case.dry_run);
    let d = decide(&live_case, &Input::Due, t0() + hours(1), &dry);
    assert!(
        !acting(&d),
        "a live case does not act while kenzen is in dry-run"
    );
}

#[test]
fn a_rehearsed_cancel_ends_the_case_as_cancelled_without_waiting_for_the_order() {
    let dry = with_mode(Strategy::CancelFirst, kenzen_core::Mode::DryRun);
    let mut case = open_case_with(t0(), t0() + hours(30), &dry);
    case.state = CaseState::CancelSubmitted {
        plan: CancelPlan::NoInventory {
            notice: Notice::Delivered { at: t0() },
        },
        feed_id: "dry-run-1".into(),
        submitted_at: t0(),
        check_at: t0(),
        attempts: 0,
        resubmitted: false,
    };
    let d = decide(
        &case,
        &Input::FeedResult {
            feed_id: "dry-run-1".into(),
            outcome: FeedOutcome::Succeeded,
        },
        t0() + mins(1),
        &dry,
    );
    assert!(matches!(
        d.case.state,
        CaseState::Cancelled {
            reason: CancelReason::NoInventory,
            ..
        }
    ));
    assert!(d.note.contains("dry run"), "{}", d.note);
}

fn open_case_with(now: Timestamp, ship_by: Timestamp, s: &Settings) -> Case {
    let mut c = Case::open(
        &order_at(OrderStatus::Unshipped, false, None, ship_by),
        stock_short(),
        s,
        now,
    )
    .unwrap();
    c.pending.clear();
    c
}

fn approval_needed(d: &Decision) -> Option<Timestamp> {
    d.effects.iter().find_map(|e| match e {
        Effect::Publish(kenzen_core::DomainEvent::ApprovalNeeded { approve_by, .. }) => {
            Some(*approve_by)
        }
        _ => None,
    })
}

#[test]
fn in_approve_mode_the_apology_and_cancel_wait_for_the_sellers_approval() {
    let s = with_mode(Strategy::CancelFirst, kenzen_core::Mode::Approve);
    let case = open_case(Strategy::CancelFirst, t0(), t0() + hours(30));
    let approve_by = case.approve_by(&s);
    assert_eq!(approve_by, case.last_call(&s) - hours(1));
    let d = decide(&case, &Input::Due, t0() + hours(1), &s);
    assert!(!acting(&d), "{d:?}");
    assert_eq!(approval_needed(&d), Some(approve_by));
    assert_eq!(d.case.due(&s).map(|(_, t)| t), Some(approve_by));
    // Asked once.
    let again = decide(&d.case, &Input::Due, t0() + hours(2), &s);
    assert!(!acting(&again) && approval_needed(&again).is_none());
    // Approved: due at once, and the apology goes out.
    let approved = decide(
        &again.case,
        &Input::Approve { by: "test".into() },
        t0() + hours(3),
        &s,
    );
    assert!(approved.case.approved.is_some());
    assert_eq!(approved.case.due(&s).map(|(_, t)| t), Some(t0() + hours(3)));
    let go = decide(&approved.case, &Input::Due, t0() + hours(3), &s);
    assert!(go.effects.contains(&Effect::SendFinalNotice), "{go:?}");
}

#[test]
fn an_unapproved_cancel_follows_the_sellers_default_at_the_approval_deadline() {
    let mut s = with_mode(Strategy::CancelFirst, kenzen_core::Mode::Approve);
    let case = open_case(Strategy::CancelFirst, t0(), t0() + hours(30));
    let waiting = decide(&case, &Input::Due, t0() + hours(1), &s).case;
    let at = case.approve_by(&s);
    // Default: leave it to the seller. The case closes; nothing is sent or cancelled.
    let d = decide(&waiting, &Input::Due, at, &s);
    assert!(!acting(&d));
    assert!(matches!(
        d.case.state,
        CaseState::Closed {
            why: CloseReason::NotApproved { .. },
            ..
        }
    ));
    assert_eq!(alerts(&d), vec![kenzen_core::AlertKind::NotApproved]);
    // Default: cancel. The apology goes out, as live.
    s.approval_default = kenzen_core::ApprovalDefault::Cancel;
    let d = decide(&waiting, &Input::Due, at, &s);
    assert!(d.effects.contains(&Effect::SendFinalNotice), "{d:?}");
}

#[test]
fn in_approve_mode_a_buyer_canceled_cancel_never_waits() {
    let s = with_mode(Strategy::AskBuyer, kenzen_core::Mode::Approve);
    let case = new_case(t0());
    let d = decide(
        &case,
        &Input::OrderSeen(order(OrderStatus::Unshipped, true, None)),
        t0() + hours(1),
        &s,
    );
    let d = decide(&d.case, &Input::Due, t0() + hours(1), &s);
    assert!(
        d.effects.iter().any(|e| matches!(
            e,
            Effect::SubmitCancel {
                reason: CancelReason::BuyerCanceled,
                ..
            }
        )),
        "{d:?}"
    );
}

#[test]
fn in_approve_mode_request_messages_go_out_without_approval() {
    let s = with_mode(Strategy::AskBuyer, kenzen_core::Mode::Approve);
    let case = new_case(t0());
    let CaseState::Requesting {
        next_at: Some(first),
        ..
    } = case.state
    else {
        panic!("a new ask-buyer case asks");
    };
    let d = decide(&case, &Input::Due, first, &s);
    assert!(d.effects.contains(&Effect::SendRequest { n: 1 }), "{d:?}");
}

/// Found by the approve-mode property below: a BuyerCanceled feed whose answer was lost, then
/// the buyer's request goes away (the case turns to the deadline path), then the order shows
/// cancelled: the cancel is the earlier BuyerCanceled feed's, never recorded as a
/// seller-initiated cancel nobody approved.
#[test]
fn a_cancel_seen_after_a_lost_buyer_canceled_feed_is_that_feeds_not_an_unapproved_one() {
    let s = with_mode(Strategy::AskBuyer, kenzen_core::Mode::Approve);
    let opened = t0();
    let case = open_case(Strategy::AskBuyer, opened, opened + hours(23));
    let steps = [
        (0, World::SeenBuyerRequest, Outcome::Ok),
        (0, World::Tick, Outcome::Lost),
        (0, World::SeenUnshipped, Outcome::Ok),
        (0, World::Tick, Outcome::Ok),
        (0, World::SeenCancelledElsewhere, Outcome::Ok),
    ];
    let (case, log, _) = run(case, &steps, &s, opened);
    assert!(log.violations.is_empty(), "{:?}", log.violations);
    match &case.state {
        CaseState::Cancelled { reason, .. } => {
            assert_eq!(*reason, CancelReason::BuyerCanceled, "{case:#?}")
        }
        other => panic!("not cancelled: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn while_paused_no_live_case_ever_sends_or_cancels(
        strategy in strategy(),
        opened_after in 0i64..(24 * 60),
        ship_hours in 8i64..96,
        steps in proptest::collection::vec((0i64..240, world(), outcome()), 1..80)
    ) {
        let s = with_mode(strategy, kenzen_core::Mode::Pause);
        let opened = t0() + mins(opened_after);
        let mut case = open_case(strategy, opened, opened + hours(ship_hours));
        let mut now = opened;
        for (advance, w, _) in &steps {
            now += mins(*advance);
            let input = match w {
                World::Tick => Input::Due,
                World::SeenBuyerRequest => Input::OrderSeen(order(OrderStatus::Unshipped, true, None)),
                World::Approve => Input::Approve { by: "seller".into() },
                _ => Input::OrderSeen(order(OrderStatus::Unshipped, false, None)),
            };
            let d = decide(&case, &input, now, &s);
            prop_assert!(!acting(&d), "acted while paused: {:?}", d);
            case = d.case;
        }
    }

    #[test]
    fn the_never_break_rules_hold_in_approve_mode_whatever_the_default(
        strategy in strategy(),
        cancel_default in any::<bool>(),
        opened_after in 0i64..(24 * 60),
        ship_hours in 8i64..96,
        steps in proptest::collection::vec((0i64..240, world(), outcome()), 1..120)
    ) {
        let mut s = with_mode(strategy, kenzen_core::Mode::Approve);
        if cancel_default {
            s.approval_default = kenzen_core::ApprovalDefault::Cancel;
        }
        let opened = t0() + mins(opened_after);
        let case = open_case(strategy, opened, opened + hours(ship_hours));
        let (case, log, _) = run(case, &steps, &s, opened);
        prop_assert!(log.violations.is_empty(), "{:?}", log.violations);
        if let CaseState::Cancelled { reason, .. } = &case.state
            && *reason != CancelReason::BuyerCanceled
        {
            prop_assert!(
                case.approved.is_some() || cancel_default,
                "a seller-initiated cancel without approval under the leave default"
            );
        }
    }
}
