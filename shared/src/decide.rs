//! The decision function: `(case, input, now) → decision` (next case + effects + a note).
//!
//! Every state change of a case goes through [`decide`]. It never performs an effect: the service
//! layer claims the work by saving the returned case (conditional on its version), then performs
//! the effects, then feeds each outcome back in as another input. Inputs that do not fit the
//! case's state (late, duplicate, out of order) return the case unchanged with a note saying so.

use jiff::Timestamp;

use crate::case::{
    BuyerRequest, CancelPlan, CancelReason, Case, CaseState, Claim, CloseReason, Notice, Settings,
};
use crate::events::{AlertKind, DomainEvent};
use crate::order::{OrderStatus, OrderView};

/// Which message an answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Request message number `n` (1-based).
    Request(u32),
    /// The final apology before the cancel.
    FinalNotice,
}

/// What Amazon answered to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// 201: Amazon accepted the message.
    Accepted,
    /// The preflight did not offer the action, or Amazon refused it for this order (403).
    Unavailable,
    /// Anything else (5xx, throttling that did not clear, network): try again later.
    Failed { detail: String },
}

/// What a cancel feed's processing report says about this case's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedOutcome {
    /// Still IN_QUEUE or IN_PROGRESS.
    Pending,
    /// DONE, and the report lists no error for the order.
    Succeeded,
    /// DONE with an error for the order, or the feed ended CANCELLED/FATAL.
    Failed { detail: String },
}

/// Something that happened to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A sweep found the case due.
    Due,
    /// The marketplace showed the order like this.
    OrderSeen(OrderView),
    /// Amazon's answer to a message.
    MessageResult {
        message: MessageKind,
        outcome: MessageOutcome,
    },
    /// Amazon accepted the cancel feed (202) with this id.
    CancelSubmitted { feed_id: String },
    /// The cancel feed could not be submitted.
    CancelSubmitFailed { detail: String },
    /// What the feed's status and report say about this order.
    FeedResult {
        feed_id: String,
        outcome: FeedOutcome,
    },
    /// The seller withdrew the case.
    Withdraw { reason: String },
}

/// Work for the service layer, performed after the returned case is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send request message `n` (preflight first; answer with `MessageResult`).
    SendRequest { n: u32 },
    /// Send the final apology (preflight first; answer with `MessageResult`).
    SendFinalNotice,
    /// Submit the cancel (answer with `CancelSubmitted` or `CancelSubmitFailed`).
    SubmitCancel { reason: CancelReason },
    /// Read the feed's status and report (answer with `FeedResult`).
    CheckFeed { feed_id: String },
    /// The cancel gave units back to the offer: set the case's stocked-out listings to 0 again.
    ZeroListings,
    /// Publish a domain event.
    Publish(DomainEvent),
}

/// The result of one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The case as it must be saved (equal to the input case when nothing changed).
    pub case: Case,
    pub effects: Vec<Effect>,
    /// What was decided and why, for the case's timeline.
    pub note: String,
}

impl Decision {
    fn keep(case: &Case, note: impl Into<String>) -> Self {
        Self {
            case: case.clone(),
            effects: Vec::new(),
            note: note.into(),
        }
    }

    fn to(case: &Case, state: CaseState, effects: Vec<Effect>, note: impl Into<String>) -> Self {
        let mut next = case.clone();
        next.state = state;
        Self {
            case: next,
            effects,
            note: note.into(),
        }
    }

    /// True when the case must be saved.
    pub fn changed(&self, before: &Case) -> bool {
        &self.case != before
    }
}

fn publish(e: DomainEvent) -> Effect {
    Effect::Publish(e)
}

fn alert(case: &Case, alert: AlertKind, detail: impl Into<String>) -> Effect {
    publish(DomainEvent::Alert {
        order_id: case.order_id.clone(),
        alert,
        detail: detail.into(),
    })
}

fn closed(case: &Case, why: CloseReason, now: Timestamp, note: String) -> Decision {
    let outcome = match &why {
        CloseReason::Shipped => "shipped",
        CloseReason::CancelledElsewhere { .. } => "cancelled elsewhere",
        CloseReason::Withdrawn { .. } => "withdrawn by the seller",
    };
    Decision::to(
        case,
        CaseState::Closed { why, at: now },
        vec![publish(DomainEvent::CaseClosed {
            order_id: case.order_id.clone(),
            outcome: outcome.into(),
        })],
        note,
    )
}

/// Decides what `input` at `now` does to `case` under `settings`.
pub fn decide(case: &Case, input: &Input, now: Timestamp, settings: &Settings) -> Decision {
    if case.state.is_terminal() {
        return Decision::keep(case, format!("ignored: case already {}", case.state.name()));
    }
    match input {
        Input::OrderSeen(order) => order_seen(case, order, now, settings),
        Input::Due => due(case, now, settings),
        Input::MessageResult { message, outcome } => match message {
            MessageKind::Request(n) => request_result(case, *n, outcome, now, settings),
            MessageKind::FinalNotice => final_result(case, outcome, now, settings),
        },
        Input::CancelSubmitted { feed_id } => cancel_submitted(case, feed_id, now, settings),
        Input::CancelSubmitFailed { detail } => match &case.state {
            CaseState::CancelDue {
                plan,
                submitting: Some(_),
                attempts,
                resubmitted,
                ..
            } => Decision::to(
                case,
                CaseState::CancelDue {
                    plan: plan.clone(),
                    not_before: now + settings.retry_after,
                    submitting: None,
                    attempts: attempts + 1,
                    resubmitted: *resubmitted,
                },
                vec![],
                format!("cancel submission failed ({detail}); retrying later"),
            ),
            _ => Decision::keep(case, "ignored: no cancel submission under way"),
        },
        Input::FeedResult { feed_id, outcome } => {
            feed_result(case, feed_id, outcome, now, settings)
        }
        Input::Withdraw { reason } => match &case.state {
            CaseState::CancelSubmitted { .. }
            | CaseState::CancelDue {
                submitting: Some(_),
                ..
            } => Decision::keep(
                case,
                "not withdrawn: the cancel is already on its way to Amazon",
            ),
            _ => closed(
                case,
                CloseReason::Withdrawn {
                    reason: reason.clone(),
                },
                now,
                format!("withdrawn by the seller ({reason}); no more messages"),
            ),
        },
    }
}

/// The claim in flight for a message, if any.
fn message_claim(state: &CaseState) -> Option<Claim> {
    match state {
        CaseState::Requesting { sending, .. } | CaseState::FinalNotice { sending, .. } => *sending,
        _ => None,
    }
}

fn order_seen(case: &Case, order: &OrderView, now: Timestamp, settings: &Settings) -> Decision {
    if order.order_id != case.order_id {
        return Decision::keep(case, "ignored: order view is for another order");
    }
    if order.status.is_shipped() {
        return closed(
            case,
            CloseReason::Shipped,
            now,
            "order shipped by the seller; case resolved, no more messages".into(),
        );
    }
    if order.status == OrderStatus::Cancelled {
        return match &case.state {
            CaseState::CancelSubmitted { plan, feed_id, .. } => {
                let reason = plan.reason();
                let mut effects = vec![publish(DomainEvent::CaseClosed {
                    order_id: case.order_id.clone(),
                    outcome: format!("cancelled as {}", reason.as_feed()),
                })];
                if reason != CancelReason::NoInventory {
                    effects.push(Effect::ZeroListings);
                }
                Decision::to(
                    case,
                    CaseState::Cancelled {
                        reason,
                        plan: plan.clone(),
                        feed_id: feed_id.clone(),
                        at: now,
                    },
                    effects,
                    format!(
                        "order shows cancelled; cancel as {} confirmed",
                        reason.as_feed()
                    ),
                )
            }
            _ => {
                let by = order.cancelled_by().map(str::to_string);
                let note = format!(
                    "order was cancelled elsewhere (by {}); case closed",
                    by.as_deref().unwrap_or("unknown")
                );
                closed(case, CloseReason::CancelledElsewhere { by }, now, note)
            }
        };
    }
    if !order.buyer_requested_cancel() {
        return Decision::keep(case, "order seen; nothing new");
    }
    let switch = match &case.state {
        CaseState::Requesting { .. } | CaseState::FinalNotice { .. } => true,
        CaseState::CancelDue {
            plan, submitting, ..
        } => !matches!(plan, CancelPlan::BuyerCanceled { .. }) && submitting.is_none(),
        _ => false,
    };
    if !switch {
        return Decision::keep(case, "buyer's request seen; the cancel is already decided");
    }
    // A message may be on its way right now: let its claim run out before the cancel is
    // submitted, so no message can land after the cancel.
    let not_before = message_claim(&case.state)
        .map_or(now, |c| c.since + settings.claim_timeout)
        .max(now);
    let resubmitted = matches!(
        case.state,
        CaseState::CancelDue {
            resubmitted: true,
            ..
        }
    );
    Decision::to(
        case,
        CaseState::CancelDue {
            plan: CancelPlan::BuyerCanceled {
                request: BuyerRequest {
                    seen_at: now,
                    reason: order.buyer_cancel_reason().map(str::to_string),
                },
            },
            not_before,
            submitting: None,
            attempts: 0,
            resubmitted,
        },
        vec![publish(DomainEvent::BuyerRequestedCancel {
            order_id: case.order_id.clone(),
        })],
        "Amazon shows the buyer's official cancellation request; cancelling as BuyerCanceled",
    )
}

fn final_notice_state(now: Timestamp) -> CaseState {
    CaseState::FinalNotice {
        next_try: now,
        sending: None,
        attempts: 0,
        last_failure: None,
    }
}

fn due(case: &Case, now: Timestamp, settings: &Settings) -> Decision {
    let w = &settings.windows;
    match &case.state {
        CaseState::Requesting { next_at, sending } => {
            if let Some(claim) = sending
                && now < claim.since + settings.claim_timeout
            {
                return Decision::keep(case, "a request message is being sent");
            }
            if now >= case.final_notice_at {
                let mut moved = case.clone();
                moved.state = final_notice_state(now);
                let mut d = due(&moved, now, settings);
                d.note = format!("no buyer request by the final-notice time; {}", d.note);
                return d;
            }
            let n = case.requests_sent + 1;
            let stay = |next_at: Option<Timestamp>, note: String| {
                Decision::to(
                    case,
                    CaseState::Requesting {
                        next_at: next_at.filter(|t| *t < case.final_notice_at),
                        sending: None,
                    },
                    vec![],
                    note,
                )
            };
            if sending.is_some() && w.is_quiet(now) {
                return stay(
                    Some(w.first_send_at(now)),
                    format!(
                        "request message {n}: earlier attempt never finished; retrying after quiet hours"
                    ),
                );
            }
            let Some(next_at) = next_at else {
                return Decision::keep(case, "no request message is planned");
            };
            if sending.is_none() && now < *next_at {
                return Decision::keep(case, "next request message not due yet");
            }
            if case.requests_sent >= settings.max_requests {
                return stay(
                    None,
                    format!(
                        "message cap of {} reached; no more requests",
                        settings.max_requests
                    ),
                );
            }
            if w.is_quiet(now) {
                return stay(
                    Some(w.first_send_at(now)),
                    "quiet hours; request moved to the next send slot".into(),
                );
            }
            let note = if sending.is_some() {
                format!("request message {n}: earlier attempt never finished; sending again")
            } else {
                format!("request message {n} due; sending")
            };
            Decision::to(
                case,
                CaseState::Requesting {
                    next_at: Some(*next_at),
                    sending: Some(Claim { since: now }),
                },
                vec![Effect::SendRequest { n }],
                note,
            )
        }
        CaseState::FinalNotice {
            next_try,
            sending,
            attempts,
            last_failure,
        } => {
            if let Some(claim) = sending
                && now < claim.since + settings.claim_timeout
            {
                return Decision::keep(case, "the final message is being sent");
            }
            if now >= case.cancel_by {
                let why = last_failure.clone().unwrap_or_else(|| {
                    "no open send window before the cancel deadline".to_string()
                });
                let plan = CancelPlan::after_notice(
                    case.strategy,
                    Notice::NotDelivered { why: why.clone() },
                );
                let reason = plan.reason().as_feed();
                return Decision::to(
                    case,
                    CaseState::CancelDue {
                        plan,
                        not_before: now,
                        submitting: None,
                        attempts: 0,
                        resubmitted: false,
                    },
                    vec![alert(case, AlertKind::FinalNoticeNotDelivered, why.clone())],
                    format!(
                        "final notice not delivered ({why}); cancelling as {reason} before the deadline"
                    ),
                );
            }
            if w.is_quiet(now) {
                let open = w.next_open(now);
                return Decision::to(
                    case,
                    CaseState::FinalNotice {
                        next_try: open,
                        sending: None,
                        attempts: *attempts,
                        last_failure: last_failure.clone(),
                    },
                    vec![],
                    "quiet hours; final message waits for the morning",
                );
            }
            if sending.is_none() && now < *next_try {
                return Decision::keep(case, "final message not due yet");
            }
            Decision::to(
                case,
                CaseState::FinalNotice {
                    next_try: *next_try,
                    sending: Some(Claim { since: now }),
                    attempts: *attempts,
                    last_failure: last_failure.clone(),
                },
                vec![Effect::SendFinalNotice],
                "final message due; sending",
            )
        }
        CaseState::CancelDue {
            plan,
            not_before,
            submitting,
            attempts,
            resubmitted,
        } => {
            if now < *not_before {
                return Decision::keep(case, "cancel not due yet");
            }
            if let Some(claim) = submitting
                && now < claim.since + settings.claim_timeout
            {
                return Decision::keep(case, "a cancel submission is under way");
            }
            let note = if submitting.is_some() {
                "earlier cancel submission never finished; submitting again"
            } else {
                "submitting cancel"
            };
            Decision::to(
                case,
                CaseState::CancelDue {
                    plan: plan.clone(),
                    not_before: *not_before,
                    submitting: Some(Claim { since: now }),
                    attempts: *attempts,
                    resubmitted: *resubmitted,
                },
                vec![Effect::SubmitCancel {
                    reason: plan.reason(),
                }],
                format!("{note} as {}", plan.reason().as_feed()),
            )
        }
        CaseState::CancelSubmitted {
            plan,
            feed_id,
            check_at,
            attempts,
            resubmitted,
            ..
        } => {
            if !resubmitted && now >= case.ship_by - settings.resubmit_margin {
                return Decision::to(
                    case,
                    CaseState::CancelDue {
                        plan: plan.clone(),
                        not_before: now,
                        submitting: None,
                        attempts: *attempts,
                        resubmitted: true,
                    },
                    vec![alert(
                        case,
                        AlertKind::DeadlineRisk,
                        format!(
                            "cancel in feed {feed_id} not confirmed one hour before ship-by; resubmitting"
                        ),
                    )],
                    format!(
                        "feed {feed_id} not confirmed close to ship-by; resubmitting the cancel"
                    ),
                );
            }
            if now < *check_at {
                return Decision::keep(case, "feed check not due yet");
            }
            Decision {
                case: case.clone(),
                effects: vec![Effect::CheckFeed {
                    feed_id: feed_id.clone(),
                }],
                note: format!("checking cancel feed {feed_id}"),
            }
        }
        CaseState::Cancelled { .. } | CaseState::Closed { .. } => {
            Decision::keep(case, "ignored: case closed")
        }
    }
}

fn request_result(
    case: &Case,
    n: u32,
    outcome: &MessageOutcome,
    now: Timestamp,
    settings: &Settings,
) -> Decision {
    let CaseState::Requesting {
        sending: Some(_),
        next_at,
    } = &case.state
    else {
        return Decision::keep(case, "ignored: no request message is being sent");
    };
    if n != case.requests_sent + 1 {
        return Decision::keep(case, format!("ignored: answer for message {n} is stale"));
    }
    let w = &settings.windows;
    match outcome {
        MessageOutcome::Accepted => {
            let mut used = case.slots_used.clone();
            let slot = w.slot_of(now) as u8;
            if !used.contains(&slot) {
                used.push(slot);
            }
            let next = (n < settings.max_requests)
                .then(|| w.next_slot(now + settings.min_gap, &used, case.final_notice_at))
                .flatten();
            let mut d = Decision::to(
                case,
                CaseState::Requesting {
                    next_at: next,
                    sending: None,
                },
                vec![],
                format!("request message {n} accepted by Amazon"),
            );
            d.case.requests_sent = n;
            d.case.slots_used = used;
            d
        }
        MessageOutcome::Unavailable => Decision::to(
            case,
            CaseState::Requesting {
                next_at: None,
                sending: None,
            },
            vec![],
            "messaging is not available for this order; no more requests",
        ),
        MessageOutcome::Failed { detail } => Decision::to(
            case,
            CaseState::Requesting {
                next_at: next_at
                    .map(|_| w.next_open(now + settings.retry_after))
                    .filter(|t| *t < case.final_notice_at),
                sending: None,
            },
            vec![],
            format!("request message {n} failed ({detail}); retrying later"),
        ),
    }
}

fn final_result(
    case: &Case,
    outcome: &MessageOutcome,
    now: Timestamp,
    settings: &Settings,
) -> Decision {
    let CaseState::FinalNotice {
        sending: Some(_),
        attempts,
        ..
    } = &case.state
    else {
        return Decision::keep(case, "ignored: no final message is being sent");
    };
    match outcome {
        MessageOutcome::Accepted => {
            let plan = CancelPlan::after_notice(case.strategy, Notice::Delivered { at: now });
            let not_before = match plan {
                CancelPlan::GeneralAdjustment { .. } => {
                    (now + settings.final_grace).min(case.cancel_by)
                }
                _ => now,
            }
            .max(now);
            let reason = plan.reason().as_feed();
            Decision::to(
                case,
                CaseState::CancelDue {
                    plan,
                    not_before,
                    submitting: None,
                    attempts: 0,
                    resubmitted: false,
                },
                vec![],
                format!("final message accepted by Amazon; cancel as {reason} follows"),
            )
        }
        MessageOutcome::Unavailable | MessageOutcome::Failed { .. } => {
            let why = match outcome {
                MessageOutcome::Failed { detail } => format!("sending failed: {detail}"),
                _ => "messaging is not available for this order".to_string(),
            };
            Decision::to(
                case,
                CaseState::FinalNotice {
                    next_try: now + settings.retry_after,
                    sending: None,
                    attempts: attempts + 1,
                    last_failure: Some(why.clone()),
                },
                vec![],
                format!(
                    "final message not delivered ({why}); trying again until the cancel deadline"
                ),
            )
        }
    }
}

fn cancel_submitted(case: &Case, feed_id: &str, now: Timestamp, settings: &Settings) -> Decision {
    let CaseState::CancelDue {
        plan,
        submitting: Some(_),
        attempts,
        resubmitted,
        ..
    } = &case.state
    else {
        return Decision::keep(case, "ignored: no cancel submission under way");
    };
    Decision::to(
        case,
        CaseState::CancelSubmitted {
            plan: plan.clone(),
            feed_id: feed_id.to_string(),
            submitted_at: now,
            check_at: now + settings.feed_poll,
            attempts: attempts + 1,
            resubmitted: *resubmitted,
        },
        vec![publish(DomainEvent::CancelSubmitted {
            order_id: case.order_id.clone(),
            reason: plan.reason().as_feed().to_string(),
            feed_id: feed_id.to_string(),
        })],
        format!(
            "cancel as {} submitted in feed {feed_id}",
            plan.reason().as_feed()
        ),
    )
}

fn feed_result(
    case: &Case,
    feed_id: &str,
    outcome: &FeedOutcome,
    now: Timestamp,
    settings: &Settings,
) -> Decision {
    let CaseState::CancelSubmitted {
        plan,
        feed_id: current,
        submitted_at,
        attempts,
        resubmitted,
        ..
    } = &case.state
    else {
        return Decision::keep(case, "ignored: no cancel feed is awaited");
    };
    if current != feed_id {
        return Decision::keep(
            case,
            format!("ignored: feed {feed_id} is not the current one"),
        );
    }
    let waiting = |note: String| {
        Decision::to(
            case,
            CaseState::CancelSubmitted {
                plan: plan.clone(),
                feed_id: current.clone(),
                submitted_at: *submitted_at,
                check_at: now + settings.feed_poll,
                attempts: *attempts,
                resubmitted: *resubmitted,
            },
            vec![],
            note,
        )
    };
    match outcome {
        FeedOutcome::Pending => waiting(format!("feed {feed_id} still processing")),
        FeedOutcome::Succeeded => waiting(format!(
            "feed {feed_id} report shows no error; waiting for the order to show the cancel"
        )),
        FeedOutcome::Failed { detail } => Decision::to(
            case,
            CaseState::CancelDue {
                plan: plan.clone(),
                not_before: (now + settings.retry_after).min(case.cancel_by.max(now)),
                submitting: None,
                attempts: *attempts,
                resubmitted: *resubmitted,
            },
            vec![alert(
                case,
                AlertKind::FeedError,
                format!("feed {feed_id}: {detail}"),
            )],
            format!("feed {feed_id} did not cancel the order ({detail}); will submit again"),
        ),
    }
}
