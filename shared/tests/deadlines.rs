//! Deadline rules over the two sweeps that act on cases: message-resend (every `send_sweep`)
//! and final-cancel (every `cancel_sweep`), each running a margin late at worst. For any
//! cadences, any answers from Amazon and any buyer behaviour (a request that shows and then
//! vanishes included), the first cancel of a case opened before its last call is submitted
//! before cancel-by (before the resubmit margin when a run dies holding a claim), and never as
//! BuyerCanceled while Amazon does not show the request.
//!
//! Like the service: each sweep takes the cases due to it, re-reads the order, then decides
//! `Due` until nothing more is due now (final-cancel sends the final message itself when it
//! takes a case at the last call).

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{
    CancelPlan, CancelReason, Case, CaseState, DueKind, Effect, Input, MessageKind, MessageOutcome,
    Notice, OpenReason, OrderLine, OrderStatus, OrderView, Settings, Strategy, decide,
};
use proptest::prelude::*;

const JP: &str = "A1VC38T7YXB528";

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn t0() -> Timestamp {
    "2026-12-01T00:00:00Z".parse().unwrap()
}

fn order(ship_by: Timestamp, lines: usize, requested: &[bool]) -> OrderView {
    OrderView {
        order_id: "503-0000000-0000001".parse().unwrap(),
        marketplace_id: JP.parse().unwrap(),
        status: OrderStatus::Unshipped,
        merchant_fulfilled: true,
        ship_by: Some(ship_by),
        last_updated: t0(),
        purchased: None,
        lines: (0..lines)
            .map(|i| OrderLine {
                order_item_id: format!("item-{i}"),
                sku: format!("SKU-{i}").parse().unwrap(),
                title: format!("Item {i}"),
                quantity: 1,
                unit_price: Some("1000".into()),
                buyer_cancel_requested: requested.get(i).copied().unwrap_or(false),
                buyer_cancel_reason: None,
                cancelled_by: None,
            })
            .collect(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    Ok,
    Failed,
    Unavailable,
    Lost,
    NotAuthorized,
    Invalid,
    Crash,
}

fn answer() -> impl proptest::strategy::Strategy<Value = Answer> {
    prop_oneof![
        4 => Just(Answer::Ok),
        2 => Just(Answer::Failed),
        1 => Just(Answer::Unavailable),
        1 => Just(Answer::Lost),
        1 => Just(Answer::NotAuthorized),
        1 => Just(Answer::Invalid),
        1 => Just(Answer::Crash),
    ]
}

fn message_outcome(a: Answer) -> Option<MessageOutcome> {
    Some(match a {
        Answer::Ok => MessageOutcome::Accepted,
        Answer::Failed => MessageOutcome::Failed {
            detail: "503".into(),
        },
        Answer::Unavailable => MessageOutcome::Unavailable,
        Answer::Lost => MessageOutcome::Unknown {
            detail: "500 after sending".into(),
        },
        Answer::NotAuthorized => MessageOutcome::NotAuthorized {
            detail: "403".into(),
        },
        Answer::Invalid => MessageOutcome::Invalid {
            detail: "400".into(),
        },
        Answer::Crash => return None,
    })
}

/// What happened to one case over its life.
#[derive(Debug, Default)]
struct Outcome {
    first_cancel: Option<(Timestamp, CancelReason)>,
    violations: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
fn play(
    settings: &Settings,
    opened: Timestamp,
    ship_by: Timestamp,
    request: Option<(Timestamp, Timestamp)>,
    send_offset: i64,
    cancel_offset: i64,
    late: i64,
    answers: &[Answer],
) -> (Case, Outcome) {
    let showing = |now: Timestamp| request.is_some_and(|(from, until)| from <= now && now < until);
    let view = |now: Timestamp| order(ship_by, 1, &[showing(now)]);
    let mut out = Outcome::default();
    let mut case = Case::open(
        &view(opened),
        OpenReason::ManualFlag { reason: "t".into() },
        settings,
        opened,
    )
    .unwrap();
    case.pending.clear();
    let mut answers = answers.iter().cycle();
    // Sweep times: each sweep runs at its period from its own offset, `late` minutes late.
    let mut next_send =
        opened + mins(send_offset % settings.send_sweep.as_mins().max(1)) + mins(late);
    let mut next_cancel =
        opened + mins(cancel_offset % settings.cancel_sweep.as_mins().max(1)) + mins(late);
    let mut submitted = false;
    while !case.state.is_terminal() && out.first_cancel.is_none() {
        let (now, kind) = if next_send <= next_cancel {
            let t = next_send;
            next_send += settings.send_sweep;
            (t, DueKind::Send)
        } else {
            let t = next_cancel;
            next_cancel += settings.cancel_sweep;
            (t, DueKind::Cancel)
        };
        if now > ship_by + mins(60) || submitted {
            break;
        }
        // Up to three rounds in a run, as long as the case stays due to this sweep now.
        for _ in 0..3 {
            match case.due(settings) {
                Some((k, t)) if k == kind && t <= now => {}
                _ => break,
            }
            let d = decide(&case, &Input::OrderSeen(view(now)), now, settings);
            case = d.case;
            let d = decide(&case, &Input::Due, now, settings);
            case = d.case;
            let mut queue: Vec<Input> = Vec::new();
            for e in d.effects {
                match e {
                    Effect::SendRequest { n } => {
                        if settings.windows.is_quiet(now) {
                            out.violations
                                .push(format!("request {n} in quiet hours at {now}"));
                        }
                        if let Some(o) = message_outcome(*answers.next().unwrap()) {
                            queue.push(Input::MessageResult {
                                message: MessageKind::Request(n),
                                outcome: o,
                            });
                        }
                    }
                    Effect::SendFinalNotice => {
                        if settings.windows.is_quiet(now) {
                            out.violations
                                .push(format!("final message in quiet hours at {now}"));
                        }
                        if let Some(o) = message_outcome(*answers.next().unwrap()) {
                            queue.push(Input::MessageResult {
                                message: MessageKind::FinalNotice,
                                outcome: o,
                            });
                        }
                    }
                    Effect::SubmitCancel { reason, .. } => {
                        if reason == CancelReason::BuyerCanceled && !showing(now) {
                            out.violations.push(format!(
                                "BuyerCanceled at {now} while Amazon does not show the request"
                            ));
                        }
                        out.first_cancel.get_or_insert((now, reason));
                        submitted = true;
                    }
                    Effect::FindCancelFeed { .. } => {
                        queue.push(Input::CancelFeedFound { feed_id: None })
                    }
                    _ => {}
                }
            }
            for input in queue {
                case = decide(&case, &input, now, settings).case;
            }
            if submitted {
                break;
            }
        }
    }
    (case, out)
}

fn settings_with(strategy: Strategy, send: i64, cancel: i64) -> Settings {
    let mut s = Settings::new(strategy, JP);
    s.send_sweep = mins(send);
    s.cancel_sweep = mins(cancel);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// For any cadence of the two sweeps, a case opened before its last call gets its first
    /// cancel submitted before cancel-by, whatever Amazon answers and whatever the buyer does.
    #[test]
    fn the_first_cancel_lands_before_cancel_by_for_any_sweep_cadence(
        ask in any::<bool>(),
        send in 1i64..=60,
        cancel in 1i64..=30,
        send_offset in 0i64..60,
        cancel_offset in 0i64..60,
        late in 0i64..=5,
        opened_min in 0i64..(24 * 60),
        ship_hours in 4i64..80,
        request in proptest::option::of((0i64..(80 * 60), 1i64..(6 * 60))),
        answers in proptest::collection::vec(answer(), 1..40),
    ) {
        let strategy = if ask { Strategy::AskBuyer } else { Strategy::CancelFirst };
        let s = settings_with(strategy, send, cancel);
        prop_assume!(s.validate().is_ok());
        let opened = t0() + mins(opened_min);
        let ship_by = opened + SignedDuration::from_hours(ship_hours);
        let cancel_by = ship_by - s.cancel_margin;
        prop_assume!(opened < s.last_call(cancel_by));
        let request = request.map(|(from, len)| (opened + mins(from), opened + mins(from + len)));
        let (case, out) = play(&s, opened, ship_by, request, send_offset, cancel_offset, late, &answers);
        prop_assert!(out.violations.is_empty(), "{:?}", out.violations);
        let Some((at, reason)) = out.first_cancel else {
            return Err(TestCaseError::fail(format!(
                "no cancel by ship-by; case {} ({:?})", case.state.name(), case.state
            )));
        };
        // A run that dies holds its claim for the claim timeout: then the cancel may come after
        // cancel-by, but still before the resubmit margin before ship-by.
        let limit = if answers.iter().any(|a| matches!(a, Answer::Crash)) {
            ship_by - s.resubmit_margin
        } else {
            cancel_by
        };
        prop_assert!(at < limit, "first cancel ({}) at {at}, limit {limit}", reason.as_feed());
    }

    /// A request Amazon shows and then no longer: the case never waits past cancel-by for it,
    /// and it never goes out as BuyerCanceled once the request is gone.
    #[test]
    fn a_vanished_request_never_leaves_a_case_past_cancel_by(
        ask in any::<bool>(),
        opened_min in 0i64..(24 * 60),
        ship_hours in 6i64..80,
        shows_after in 0i64..(4 * 60),
        shows_for in 1i64..60,
        answers in proptest::collection::vec(answer(), 1..20),
    ) {
        let strategy = if ask { Strategy::AskBuyer } else { Strategy::CancelFirst };
        let s = Settings::new(strategy, JP);
        let opened = t0() + mins(opened_min);
        let ship_by = opened + SignedDuration::from_hours(ship_hours);
        let cancel_by = ship_by - s.cancel_margin;
        prop_assume!(opened + mins(shows_after) < s.last_call(cancel_by));
        let request = Some((opened + mins(shows_after), opened + mins(shows_after + shows_for)));
        // final-cancel is blocked while the request shows (as if the feed could not be created),
        // so the cancel only comes after the request is gone.
        let (case, out) = play(&s, opened, ship_by, request, 0, shows_for + 3, 0, &answers);
        prop_assert!(out.violations.is_empty(), "{:?}", out.violations);
        let Some((at, _)) = out.first_cancel else {
            return Err(TestCaseError::fail(format!("no cancel; case {:?}", case.state)));
        };
        let limit = if answers.iter().any(|a| matches!(a, Answer::Crash)) {
            ship_by - s.resubmit_margin
        } else {
            cancel_by
        };
        prop_assert!(at < limit, "first cancel at {at}, limit {limit}");
    }
}

#[test]
fn an_order_seen_inside_the_cancel_margin_gets_the_apology_at_once_in_the_day_and_none_at_night() {
    let s = Settings::new(Strategy::AskBuyer, JP);
    let tokyo = |t: &str| -> Timestamp {
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", t)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
            .unwrap()
            .timestamp()
    };
    // 10:00, ship-by noon: already past cancel-by, but sending is allowed: apology first.
    let now = tokyo("2026-12-01 10:00");
    let case = Case::open(
        &order(tokyo("2026-12-01 12:00"), 1, &[false]),
        OpenReason::ManualFlag { reason: "t".into() },
        &s,
        now,
    )
    .unwrap();
    assert!(matches!(case.state, CaseState::FinalNotice { .. }));
    // Due at once, to final-cancel (a message sweep could come too late).
    assert!(matches!(case.due(&s), Some((DueKind::Cancel, t)) if t <= now));
    let d = decide(&case, &Input::Due, now, &s);
    assert_eq!(d.effects, vec![Effect::SendFinalNotice]);
    let d = decide(
        &d.case,
        &Input::MessageResult {
            message: MessageKind::FinalNotice,
            outcome: MessageOutcome::Accepted,
        },
        now,
        &s,
    );
    let CaseState::CancelDue {
        plan, not_before, ..
    } = &d.case.state
    else {
        panic!("{:?}", d.case.state)
    };
    assert_eq!(
        *not_before, now,
        "no grace left: the cancel follows at once"
    );
    assert!(matches!(
        plan,
        CancelPlan::GeneralAdjustment {
            notice: Notice::Delivered { .. }
        }
    ));

    // 22:00, ship-by midnight: quiet hours, no message may go out: cancel without, saying why.
    let now = tokyo("2026-12-01 22:00");
    let case = Case::open(
        &order(tokyo("2026-12-02 00:00"), 1, &[false]),
        OpenReason::ManualFlag { reason: "t".into() },
        &s,
        now,
    )
    .unwrap();
    let d = decide(&case, &Input::Due, now, &s);
    let CaseState::CancelDue {
        plan:
            CancelPlan::GeneralAdjustment {
                notice: Notice::NotDelivered { why },
            },
        ..
    } = &d.case.state
    else {
        panic!("{:?}", d.case.state)
    };
    assert!(why.contains("quiet hours"), "{why}");
    assert!(!d.note.contains("no open send window"));
}

#[test]
fn a_request_for_one_line_cancels_that_line_as_buyer_canceled_and_the_other_goes_on() {
    let s = Settings::new(Strategy::AskBuyer, JP);
    let opened = t0() + SignedDuration::from_hours(1);
    let ship_by = opened + SignedDuration::from_hours(60);
    let mut case = Case::open(
        &order(ship_by, 2, &[false, false]),
        OpenReason::ManualFlag { reason: "t".into() },
        &s,
        opened,
    )
    .unwrap();
    case.pending.clear();
    let now = opened + SignedDuration::from_hours(2);
    let seen = order(ship_by, 2, &[true, false]);
    let d = decide(&case, &Input::OrderSeen(seen.clone()), now, &s);
    let d = decide(&d.case, &Input::Due, now, &s);
    assert_eq!(
        d.effects,
        vec![Effect::SubmitCancel {
            reason: CancelReason::BuyerCanceled,
            order_item_ids: vec!["item-0".into()],
        }]
    );
    let d = decide(
        &d.case,
        &Input::CancelSubmitted {
            feed_id: "F1".into(),
        },
        now,
        &s,
    );
    // Amazon shows line 0 cancelled, line 1 still open.
    let mut after = seen.clone();
    after.lines[0].cancelled_by = Some("MERCHANT".into());
    let d = decide(&d.case, &Input::OrderSeen(after), now + mins(20), &s);
    assert_eq!(d.case.items.len(), 1);
    assert_eq!(d.case.items[0].order_item_id, "item-1");
    assert_eq!(d.case.lines_cancelled.len(), 1);
    assert!(
        matches!(d.case.state, CaseState::Requesting { .. }),
        "{:?}",
        d.case.state
    );
    // At the deadline the other line goes as GeneralAdjustment after the apology.
    let mut c = d.case;
    c.state = CaseState::FinalNotice {
        next_try: c.final_notice_at,
        sending: None,
        attempts: 0,
        last_failure: None,
    };
    let at = c.final_notice_at;
    let d = decide(&c, &Input::Due, at, &s);
    let d = decide(
        &d.case,
        &Input::MessageResult {
            message: MessageKind::FinalNotice,
            outcome: MessageOutcome::Accepted,
        },
        at,
        &s,
    );
    let (_, due) = d.case.due(&s).unwrap();
    let d = decide(&d.case, &Input::Due, due, &s);
    assert_eq!(
        d.effects,
        vec![Effect::SubmitCancel {
            reason: CancelReason::GeneralAdjustment,
            order_item_ids: vec!["item-1".into()],
        }]
    );
}

#[test]
fn opening_a_case_owes_its_events_and_the_listing_change_until_a_run_does_them() {
    let s = Settings::new(Strategy::AskBuyer, JP);
    let opened = t0() + SignedDuration::from_hours(1);
    let stock = OpenReason::StockShort {
        sku: "SKU-0".parse().unwrap(),
        on_hand: 0,
        ordered: 1,
    };
    let case = Case::open(
        &order(opened + SignedDuration::from_hours(60), 1, &[false]),
        stock,
        &s,
        opened,
    )
    .unwrap();
    assert_eq!(case.pending.len(), 2, "{:?}", case.pending);
    assert!(case.pending.contains(&kenzen_core::Pending::ZeroListing));
    // Due at once while work is owed, whatever the state says.
    assert_eq!(case.due(&s).map(|(_, t)| t), Some(opened));
    // A manual flag zeroes no listing; a buyer's request on record is announced too.
    let flag = OpenReason::ManualFlag { reason: "t".into() };
    let case = Case::open(
        &order(opened + SignedDuration::from_hours(60), 1, &[true]),
        flag,
        &s,
        opened,
    )
    .unwrap();
    assert!(!case.pending.contains(&kenzen_core::Pending::ZeroListing));
    assert_eq!(case.pending.len(), 2);
    let mut off = s.clone();
    off.zero_listing = false;
    let stock = OpenReason::StockShort {
        sku: "SKU-0".parse().unwrap(),
        on_hand: 0,
        ordered: 1,
    };
    let case = Case::open(
        &order(opened + SignedDuration::from_hours(60), 1, &[false]),
        stock,
        &off,
        opened,
    )
    .unwrap();
    assert_eq!(case.pending.len(), 1);
}

#[test]
fn a_case_stored_before_the_never_wrong_fields_existed_still_reads() {
    let s = Settings::new(Strategy::AskBuyer, JP);
    let opened = t0();
    let mut case = Case::open(
        &order(opened + SignedDuration::from_hours(60), 1, &[true]),
        OpenReason::ManualFlag { reason: "t".into() },
        &s,
        opened,
    )
    .unwrap();
    case.pending.clear();
    let mut v = serde_json::to_value(&case).unwrap();
    // The shape an earlier version stored: none of the fields added since.
    let obj = v.as_object_mut().unwrap();
    for f in [
        "pending",
        "lines_cancelled",
        "outcomes_unknown",
        "alerts_raised",
        "final_sent",
    ] {
        assert!(obj.remove(f).is_some(), "{f}");
    }
    let state = obj.get_mut("state").unwrap().as_object_mut().unwrap();
    state.remove("lookup").unwrap();
    state.remove("last_feed").unwrap();
    state
        .get_mut("plan")
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("lines")
        .unwrap();
    let old: Case = serde_json::from_value(v).unwrap();
    let CaseState::CancelDue {
        plan,
        lookup,
        last_feed,
        ..
    } = &old.state
    else {
        panic!("{:?}", old.state)
    };
    assert!(lookup.is_none() && last_feed.is_none());
    // A plan without lines covers every line of the case.
    assert_eq!(plan.lines(&old), vec!["item-0".to_string()]);
    assert!(old.pending.is_empty() && old.final_sent.is_none());
}

#[test]
fn a_case_still_open_near_ship_by_raises_deadline_risk_once_whatever_its_state() {
    let s = Settings::new(Strategy::AskBuyer, JP);
    let opened = t0();
    let ship_by = opened + SignedDuration::from_hours(60);
    let mut case = Case::open(
        &order(ship_by, 1, &[false]),
        OpenReason::ManualFlag { reason: "t".into() },
        &s,
        opened,
    )
    .unwrap();
    case.pending.clear();
    let risk = |d: &kenzen_core::Decision| {
        d.effects.iter().filter(|e| matches!(e, Effect::Publish(kenzen_core::DomainEvent::Alert { alert, .. }) if *alert == kenzen_core::AlertKind::DeadlineRisk)).count()
    };
    // Far from ship-by: nothing.
    let d = decide(
        &case,
        &Input::OrderSeen(order(ship_by, 1, &[false])),
        opened + SignedDuration::from_hours(1),
        &s,
    );
    assert_eq!(risk(&d), 0);
    // Half an hour before ship-by, the case is somehow still asking: one alert, then no more.
    let late = ship_by - SignedDuration::from_mins(30);
    let d = decide(
        &case,
        &Input::OrderSeen(order(ship_by, 1, &[false])),
        late,
        &s,
    );
    assert_eq!(risk(&d), 1);
    let d = decide(
        &d.case,
        &Input::OrderSeen(order(ship_by, 1, &[false])),
        late + mins(5),
        &s,
    );
    assert_eq!(risk(&d), 0);
}

#[test]
fn a_cancel_first_submitted_inside_the_resubmit_margin_is_not_sent_again_in_the_same_run() {
    let s = Settings::new(Strategy::AskBuyer, JP);
    // The buyer's request is there when the case opens, 40 minutes before ship-by.
    let ship_by = t0() + SignedDuration::from_hours(2);
    let opened = ship_by - mins(40);
    let mut case = Case::open(
        &order(ship_by, 1, &[true]),
        OpenReason::ManualFlag { reason: "t".into() },
        &s,
        opened,
    )
    .unwrap();
    case.pending.clear();
    let d = decide(&case, &Input::Due, opened, &s);
    assert!(
        d.effects
            .iter()
            .any(|e| matches!(e, Effect::SubmitCancel { .. })),
        "{d:?}"
    );
    let d = decide(
        &d.case,
        &Input::CancelSubmitted {
            feed_id: "F1".into(),
        },
        opened,
        &s,
    );
    let submitted = d.case.clone();
    // Due again in the same run: no second submission before the feed had its interval.
    let (_, due) = submitted.due(&s).unwrap();
    assert!(due >= opened + s.feed_poll, "due {due}");
    let d = decide(&submitted, &Input::Due, opened + mins(1), &s);
    assert!(
        !matches!(d.case.state, CaseState::CancelDue { .. }),
        "resubmitted at once: {:?}",
        d.case.state
    );
    // After the interval, a feed still unconfirmed so close to ship-by is resubmitted.
    let d = decide(&submitted, &Input::Due, opened + s.feed_poll, &s);
    assert!(
        matches!(
            d.case.state,
            CaseState::CancelDue {
                resubmitted: true,
                ..
            }
        ),
        "{:?}",
        d.case.state
    );
}
