//! The decision function: `(case, input, now) → decision` (next case + effects + a note).
//!
//! Every state change of a case goes through [`decide`]. It never performs an effect: the service
//! layer claims the work by saving the returned case (conditional on its version), then performs
//! the effects, then feeds each outcome back in as another input. Inputs that do not fit the
//! case's state (late, duplicate, out of order) return the case unchanged with a note saying so.

use jiff::Timestamp;

use crate::case::{
    BuyerRequest, CancelPlan, CancelReason, Case, CaseState, Claim, CloseReason, Settings,
};
use crate::events::DomainEvent;
use crate::order::{OrderStatus, OrderView};

/// What Amazon answered to a request message.
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
    /// Amazon's answer to request message number `n`.
    MessageResult { n: u32, outcome: MessageOutcome },
    /// Amazon accepted the cancel feed (202) with this id.
    CancelSubmitted { feed_id: String },
    /// The cancel feed could not be submitted.
    CancelSubmitFailed { detail: String },
    /// What the feed's status and report say about this order.
    FeedResult {
        feed_id: String,
        outcome: FeedOutcome,
    },
}

/// Work for the service layer, performed after the returned case is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send request message number `n` (preflight first; answer with `MessageResult`).
    SendRequest { n: u32 },
    /// Submit the cancel (answer with `CancelSubmitted` or `CancelSubmitFailed`).
    SubmitCancel { reason: CancelReason },
    /// Read the feed's status and report (answer with `FeedResult`).
    CheckFeed { feed_id: String },
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

fn closed(case: &Case, why: CloseReason, now: Timestamp, note: String) -> Decision {
    let outcome = match &why {
        CloseReason::Shipped => "shipped".to_string(),
        CloseReason::CancelledElsewhere { .. } => "cancelled elsewhere".to_string(),
    };
    Decision::to(
        case,
        CaseState::Closed { why, at: now },
        vec![Effect::Publish(DomainEvent::CaseClosed {
            order_id: case.order_id.clone(),
            outcome,
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
        Input::MessageResult { n, outcome } => message_result(case, *n, outcome, now, settings),
        Input::CancelSubmitted { feed_id } => cancel_submitted(case, feed_id, now, settings),
        Input::CancelSubmitFailed { detail } => match &case.state {
            CaseState::CancelDue {
                plan,
                submitting: Some(_),
                attempts,
                ..
            } => Decision::to(
                case,
                CaseState::CancelDue {
                    plan: plan.clone(),
                    not_before: now + settings.retry_after,
                    submitting: None,
                    attempts: attempts + 1,
                },
                vec![],
                format!("cancel submission failed ({detail}); retrying later"),
            ),
            _ => Decision::keep(case, "ignored: no cancel submission under way"),
        },
        Input::FeedResult { feed_id, outcome } => {
            feed_result(case, feed_id, outcome, now, settings)
        }
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
            CaseState::CancelSubmitted { plan, feed_id, .. } => Decision::to(
                case,
                CaseState::Cancelled {
                    reason: plan.reason(),
                    plan: plan.clone(),
                    feed_id: feed_id.clone(),
                    at: now,
                },
                vec![Effect::Publish(DomainEvent::CaseClosed {
                    order_id: case.order_id.clone(),
                    outcome: format!("cancelled as {}", plan.reason().as_feed()),
                })],
                format!(
                    "order shows cancelled; cancel as {} confirmed",
                    plan.reason().as_feed()
                ),
            ),
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
    match &case.state {
        CaseState::Requesting { sending, .. } if order.buyer_requested_cancel() => {
            // A request message may be on its way right now: let its claim run out before the
            // cancel is submitted, so no message can land after the cancel.
            let not_before = match sending {
                Some(c) => c.since + settings.claim_timeout,
                None => now,
            };
            Decision::to(
                case,
                CaseState::CancelDue {
                    plan: CancelPlan::BuyerCanceled {
                        request: BuyerRequest {
                            seen_at: now,
                            reason: order.buyer_cancel_reason().map(str::to_string),
                        },
                    },
                    not_before: not_before.max(now),
                    submitting: None,
                    attempts: 0,
                },
                vec![Effect::Publish(DomainEvent::BuyerRequestedCancel {
                    order_id: case.order_id.clone(),
                })],
                "Amazon shows the buyer's official cancellation request; cancelling as BuyerCanceled",
            )
        }
        _ => Decision::keep(case, "order seen; nothing new"),
    }
}

fn due(case: &Case, now: Timestamp, settings: &Settings) -> Decision {
    match &case.state {
        CaseState::Requesting { next_at, sending } => {
            let n = case.requests_sent + 1;
            if let Some(claim) = sending {
                if now < claim.since + settings.claim_timeout {
                    return Decision::keep(case, "a request message is being sent");
                }
                return Decision::to(
                    case,
                    CaseState::Requesting {
                        next_at: *next_at,
                        sending: Some(Claim { since: now }),
                    },
                    vec![Effect::SendRequest { n }],
                    format!("request message {n}: earlier attempt never finished; sending again"),
                );
            }
            let Some(next_at) = next_at else {
                return Decision::keep(case, "no request message is planned");
            };
            if now < *next_at {
                return Decision::keep(case, "next request message not due yet");
            }
            if case.requests_sent >= settings.max_requests {
                return Decision::to(
                    case,
                    CaseState::Requesting {
                        next_at: None,
                        sending: None,
                    },
                    vec![],
                    format!(
                        "message cap of {} reached; no more requests",
                        settings.max_requests
                    ),
                );
            }
            if now >= case.ship_by - settings.request_stop_margin {
                return Decision::to(
                    case,
                    CaseState::Requesting {
                        next_at: None,
                        sending: None,
                    },
                    vec![],
                    "too close to ship-by for another request message",
                );
            }
            Decision::to(
                case,
                CaseState::Requesting {
                    next_at: Some(*next_at),
                    sending: Some(Claim { since: now }),
                },
                vec![Effect::SendRequest { n }],
                format!("request message {n} due; sending"),
            )
        }
        CaseState::CancelDue {
            plan,
            not_before,
            submitting,
            attempts,
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
                },
                vec![Effect::SubmitCancel {
                    reason: plan.reason(),
                }],
                format!("{note} as {}", plan.reason().as_feed()),
            )
        }
        CaseState::CancelSubmitted {
            feed_id, check_at, ..
        } => {
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

fn message_result(
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
    match outcome {
        MessageOutcome::Accepted => {
            let mut d = Decision::to(
                case,
                CaseState::Requesting {
                    next_at: (n < settings.max_requests).then(|| now + settings.request_interval),
                    sending: None,
                },
                vec![],
                format!("request message {n} accepted by Amazon"),
            );
            d.case.requests_sent = n;
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
                next_at: next_at.map(|_| now + settings.retry_after),
                sending: None,
            },
            vec![],
            format!("request message {n} failed ({detail}); retrying later"),
        ),
    }
}

fn cancel_submitted(case: &Case, feed_id: &str, now: Timestamp, settings: &Settings) -> Decision {
    let CaseState::CancelDue {
        plan,
        submitting: Some(_),
        attempts,
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
        },
        vec![Effect::Publish(DomainEvent::CancelSubmitted {
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
                not_before: now + settings.retry_after,
                submitting: None,
                attempts: *attempts,
            },
            vec![],
            format!("feed {feed_id} did not cancel the order ({detail}); will submit again"),
        ),
    }
}
