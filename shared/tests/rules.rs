//! The workflow rules as tables (every state × every input) and as properties (the never-break
//! rules of DEVELOPERS.md, over random sequences of inputs, outcomes and crashes).

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{
    BuyerRequest, CancelPlan, CancelReason, Case, CaseState, Claim, CloseReason, Decision, DueKind,
    Effect, FeedOutcome, Input, MessageOutcome, OpenReason, OrderLine, OrderStatus, OrderView,
    Settings, decide,
};
use proptest::prelude::*;

const T0: &str = "2026-12-01T01:00:00Z";

fn t0() -> Timestamp {
    T0.parse().unwrap()
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn order(status: OrderStatus, buyer_request: bool, cancelled_by: Option<&str>) -> OrderView {
    OrderView {
        order_id: "503-0000000-0000001".into(),
        marketplace_id: "A1VC38T7YXB528".into(),
        status,
        merchant_fulfilled: true,
        ship_by: Some(t0() + SignedDuration::from_hours(72)),
        last_updated: t0(),
        lines: vec![OrderLine {
            order_item_id: "11111111111111".into(),
            sku: "CUP-1".into(),
            title: "Tea cup".into(),
            quantity: 1,
            buyer_cancel_requested: buyer_request,
            buyer_cancel_reason: buyer_request.then(|| "NO_LONGER_NEEDED".to_string()),
            cancelled_by: cancelled_by.map(str::to_string),
        }],
    }
}

fn new_case(now: Timestamp) -> Case {
    Case::open(
        &order(OrderStatus::Unshipped, false, None),
        OpenReason::StockShort {
            sku: "CUP-1".into(),
            on_hand: 0,
            ordered: 1,
        },
        &Settings::default(),
        now,
    )
    .unwrap()
}

fn plan(now: Timestamp) -> CancelPlan {
    CancelPlan::BuyerCanceled {
        request: BuyerRequest {
            seen_at: now,
            reason: None,
        },
    }
}

fn states(now: Timestamp) -> Vec<(&'static str, CaseState)> {
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
                sending: Some(Claim {
                    since: now - mins(5),
                }),
            },
        ),
        (
            "req-stale",
            CaseState::Requesting {
                next_at: Some(now - mins(60)),
                sending: Some(Claim {
                    since: now - mins(60),
                }),
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
            "cancel-due",
            CaseState::CancelDue {
                plan: plan(now),
                not_before: now - mins(1),
                submitting: None,
                attempts: 0,
            },
        ),
        (
            "cancel-submitting",
            CaseState::CancelDue {
                plan: plan(now),
                not_before: now - mins(5),
                submitting: Some(Claim {
                    since: now - mins(5),
                }),
                attempts: 0,
            },
        ),
        (
            "submitted",
            CaseState::CancelSubmitted {
                plan: plan(now),
                feed_id: "F1".into(),
                submitted_at: now - mins(6),
                check_at: now - mins(1),
                attempts: 1,
            },
        ),
        (
            "cancelled",
            CaseState::Cancelled {
                reason: CancelReason::BuyerCanceled,
                plan: plan(now),
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

fn inputs() -> Vec<(&'static str, Input)> {
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
            "msg-accepted",
            Input::MessageResult {
                n: 1,
                outcome: MessageOutcome::Accepted,
            },
        ),
        (
            "msg-unavailable",
            Input::MessageResult {
                n: 1,
                outcome: MessageOutcome::Unavailable,
            },
        ),
        (
            "msg-failed",
            Input::MessageResult {
                n: 1,
                outcome: MessageOutcome::Failed {
                    detail: "503".into(),
                },
            },
        ),
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
            Effect::SubmitCancel { reason } => format!(" +cancel:{}", reason.as_feed()),
            Effect::CheckFeed { .. } => " +check".to_string(),
            Effect::Publish(ev) => format!(" +pub:{}", ev.detail_type()),
        });
    }
    s
}

/// Rows: states; columns: inputs in the order of `inputs()`.
const EXPECTED: &[(&str, [&str; 13])] = &[
    (
        "req-due",
        [
            "Requesting +send1",
            "=",
            "CancelDue +pub:BuyerRequestedCancel",
            "Closed +pub:CaseClosed",
            "Closed +pub:CaseClosed",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
        ],
    ),
    (
        "req-sending",
        [
            "=",
            "=",
            "CancelDue +pub:BuyerRequestedCancel",
            "Closed +pub:CaseClosed",
            "Closed +pub:CaseClosed",
            "Requesting",
            "Requesting",
            "Requesting",
            "=",
            "=",
            "=",
            "=",
            "=",
        ],
    ),
    (
        "req-stale",
        [
            "Requesting +send1",
            "=",
            "CancelDue +pub:BuyerRequestedCancel",
            "Closed +pub:CaseClosed",
            "Closed +pub:CaseClosed",
            "Requesting",
            "Requesting",
            "Requesting",
            "=",
            "=",
            "=",
            "=",
            "=",
        ],
    ),
    (
        "req-idle",
        [
            "=",
            "=",
            "CancelDue +pub:BuyerRequestedCancel",
            "Closed +pub:CaseClosed",
            "Closed +pub:CaseClosed",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
        ],
    ),
    (
        "cancel-due",
        [
            "CancelDue +cancel:BuyerCanceled",
            "=",
            "=",
            "Closed +pub:CaseClosed",
            "Closed +pub:CaseClosed",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
            "=",
        ],
    ),
    (
        "cancel-submitting",
        [
            "=",
            "=",
            "=",
            "Closed +pub:CaseClosed",
            "Closed +pub:CaseClosed",
            "=",
            "=",
            "=",
            "CancelSubmitted +pub:CancelSubmitted",
            "CancelDue",
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
            "Closed +pub:CaseClosed",
            "Cancelled +pub:CaseClosed",
            "=",
            "=",
            "=",
            "=",
            "=",
            "CancelSubmitted",
            "CancelSubmitted",
            "CancelDue",
        ],
    ),
    ("cancelled", ["="; 13]),
    ("closed", ["="; 13]),
];

#[test]
fn every_state_and_input_pair_decides_as_the_table_says() {
    let now = t0() + SignedDuration::from_hours(1);
    let settings = Settings::default();
    let states = states(now);
    let inputs = inputs();
    assert_eq!(states.len(), EXPECTED.len());
    let mut failures = Vec::new();
    for ((sname, state), (ename, row)) in states.iter().zip(EXPECTED) {
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

#[test]
fn an_accepted_request_schedules_the_next_one_until_the_cap() {
    let settings = Settings::default();
    let mut case = new_case(t0());
    let mut now = t0();
    for n in 1..=settings.max_requests {
        let d = decide(&case, &Input::Due, now, &settings);
        assert_eq!(d.effects, vec![Effect::SendRequest { n }]);
        let d = decide(
            &d.case,
            &Input::MessageResult {
                n,
                outcome: MessageOutcome::Accepted,
            },
            now,
            &settings,
        );
        case = d.case;
        assert_eq!(case.requests_sent, n);
        now += settings.request_interval;
    }
    assert_eq!(
        case.state,
        CaseState::Requesting {
            next_at: None,
            sending: None
        }
    );
    assert!(
        decide(&case, &Input::Due, now, &settings)
            .effects
            .is_empty()
    );
}

#[test]
fn an_order_that_already_shows_the_buyers_request_opens_straight_into_a_buyer_cancel() {
    let case = Case::open(
        &order(OrderStatus::Unshipped, true, None),
        OpenReason::StockShort {
            sku: "CUP-1".into(),
            on_hand: 0,
            ordered: 1,
        },
        &Settings::default(),
        t0(),
    )
    .unwrap();
    let d = decide(&case, &Input::Due, t0(), &Settings::default());
    assert_eq!(
        d.effects,
        vec![Effect::SubmitCancel {
            reason: CancelReason::BuyerCanceled
        }]
    );
}

#[test]
fn a_buyer_request_seen_while_a_message_is_in_flight_waits_for_the_claim_to_run_out() {
    let settings = Settings::default();
    let case = new_case(t0());
    let sending = decide(&case, &Input::Due, t0(), &settings).case;
    let d = decide(
        &sending,
        &Input::OrderSeen(order(OrderStatus::Unshipped, true, None)),
        t0() + mins(1),
        &settings,
    );
    let (kind, at) = d.case.due(&settings).unwrap();
    assert_eq!(kind, DueKind::Cancel);
    assert_eq!(at, t0() + settings.claim_timeout);
    assert!(
        decide(&d.case, &Input::Due, t0() + mins(2), &settings)
            .effects
            .is_empty()
    );
}

#[test]
fn no_request_goes_out_inside_the_stop_margin_before_ship_by() {
    let settings = Settings::default();
    let case = new_case(t0());
    let late = case.ship_by - settings.request_stop_margin;
    let d = decide(&case, &Input::Due, late, &settings);
    assert!(d.effects.is_empty());
    assert_eq!(d.case.due(&settings), None);
}

// ---- properties ----

#[derive(Debug, Clone)]
enum World {
    Tick,
    SeenUnshipped,
    SeenBuyerRequest,
    SeenShipped,
    SeenCancelledElsewhere,
}

#[derive(Debug, Clone)]
enum Outcome {
    Ok,
    Refused,
    Failed,
    /// The invocation crashed after performing the effect: no outcome comes back.
    Crash,
}

fn world() -> impl proptest::strategy::Strategy<Value = World> {
    prop_oneof![
        6 => Just(World::Tick),
        2 => Just(World::SeenUnshipped),
        1 => Just(World::SeenBuyerRequest),
        1 => Just(World::SeenShipped),
        1 => Just(World::SeenCancelledElsewhere),
    ]
}

fn outcome() -> impl proptest::strategy::Strategy<Value = Outcome> {
    prop_oneof![
        5 => Just(Outcome::Ok),
        1 => Just(Outcome::Refused),
        2 => Just(Outcome::Failed),
        1 => Just(Outcome::Crash),
    ]
}

#[derive(Default, Debug)]
struct Log {
    buyer_request_seen: bool,
    cancel_submitted: bool,
    sends: Vec<(u32, Timestamp)>,
    /// (message number, outcome was Ok or Crash): the buyer may have received it.
    maybe_delivered: Vec<(u32, bool)>,
    accepted: u32,
    crashes: u32,
    violations: Vec<String>,
}

fn run(steps: &[(i64, World, Outcome)], settings: &Settings) -> (Case, Log) {
    let mut case = new_case(t0());
    let mut log = Log::default();
    let mut now = t0();
    for (advance, w, out) in steps {
        now += mins(*advance);
        let input = match w {
            World::Tick => Input::Due,
            World::SeenUnshipped => Input::OrderSeen(order(OrderStatus::Unshipped, false, None)),
            World::SeenBuyerRequest => {
                log.buyer_request_seen = true;
                Input::OrderSeen(order(OrderStatus::Unshipped, true, None))
            }
            World::SeenShipped => Input::OrderSeen(order(OrderStatus::Shipped, false, None)),
            World::SeenCancelledElsewhere => {
                Input::OrderSeen(order(OrderStatus::Cancelled, false, Some("BUYER")))
            }
        };
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            let before = case.clone();
            let d = decide(&case, &input, now, settings);
            if before.state.is_terminal() && d.case != before {
                log.violations.push("a closed case changed".into());
            }
            case = d.case;
            for e in d.effects {
                match e {
                    Effect::SendRequest { n } => {
                        if log.cancel_submitted || before.state.is_terminal() {
                            log.violations.push("message after a cancel".into());
                        }
                        if now >= case.ship_by - settings.request_stop_margin {
                            log.violations.push("request inside the stop margin".into());
                        }
                        if n > settings.max_requests {
                            log.violations.push(format!("message {n} beyond the cap"));
                        }
                        if log.maybe_delivered.iter().any(|(m, ok)| *m == n && !ok) {
                            log.violations
                                .push(format!("message {n} sent again after it was accepted"));
                        }
                        log.sends.push((n, now));
                        match out {
                            Outcome::Ok => log.maybe_delivered.push((n, false)),
                            Outcome::Crash => log.maybe_delivered.push((n, true)),
                            _ => {}
                        }
                        let outcome = match out {
                            Outcome::Ok => MessageOutcome::Accepted,
                            Outcome::Refused => MessageOutcome::Unavailable,
                            Outcome::Failed => MessageOutcome::Failed {
                                detail: "503".into(),
                            },
                            Outcome::Crash => {
                                log.crashes += 1;
                                continue;
                            }
                        };
                        if outcome == MessageOutcome::Accepted {
                            log.accepted += 1;
                        }
                        queue.push(Input::MessageResult { n, outcome });
                    }
                    Effect::SubmitCancel { reason } => {
                        if reason == CancelReason::BuyerCanceled && !log.buyer_request_seen {
                            log.violations
                                .push("BuyerCanceled without the buyer's request".into());
                        }
                        log.cancel_submitted = true;
                        match out {
                            Outcome::Crash => log.crashes += 1,
                            Outcome::Failed => queue.push(Input::CancelSubmitFailed {
                                detail: "500".into(),
                            }),
                            _ => queue.push(Input::CancelSubmitted {
                                feed_id: format!("F{}", now.as_second()),
                            }),
                        }
                    }
                    Effect::CheckFeed { feed_id } => queue.push(Input::FeedResult {
                        feed_id,
                        outcome: match out {
                            Outcome::Ok => FeedOutcome::Succeeded,
                            Outcome::Failed => FeedOutcome::Pending,
                            _ => FeedOutcome::Failed {
                                detail: "error".into(),
                            },
                        },
                    }),
                    Effect::Publish(_) => {}
                }
            }
        }
    }
    (case, log)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_never_break_rules_hold_for_any_sequence_of_inputs(
        steps in proptest::collection::vec((0i64..240, world(), outcome()), 1..80)
    ) {
        let settings = Settings::default();
        let (case, log) = run(&steps, &settings);
        prop_assert!(log.violations.is_empty(), "{:?}", log.violations);
        prop_assert!(log.accepted <= settings.max_requests);
        // Each message number is accepted once at most; only a crash (no answer recorded) can
        // make it go out a second time.
        for n in 1..=settings.max_requests {
            let accepted = log.maybe_delivered.iter().filter(|(m, c)| *m == n && !*c).count();
            prop_assert!(accepted <= 1, "message {} accepted {} times", n, accepted);
        }
        if let CaseState::Cancelled { reason: CancelReason::BuyerCanceled, .. } = case.state {
            prop_assert!(log.buyer_request_seen);
        }
    }

    #[test]
    fn a_closed_case_ignores_every_later_input(
        steps in proptest::collection::vec((0i64..240, world(), outcome()), 1..40),
        later in proptest::collection::vec(0usize..13, 1..20),
    ) {
        let settings = Settings::default();
        let (case, _) = run(&steps, &settings);
        if case.state.is_terminal() {
            let inputs = inputs();
            for i in later {
                let d = decide(&case, &inputs[i].1, t0() + SignedDuration::from_hours(100), &settings);
                prop_assert_eq!(&d.case, &case);
                prop_assert!(d.effects.is_empty());
            }
        }
    }
}
