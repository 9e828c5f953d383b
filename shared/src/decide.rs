//! The decision function: `(case, input, now) → decision` (next case + effects + a note).
//!
//! Every state change of a case goes through [`decide`]. It never performs an effect: the service
//! layer claims the work by saving the returned case (conditional on its version), then performs
//! the effects, then feeds each outcome back in as another input. Inputs that do not fit the
//! case's state (late, duplicate, out of order) return the case unchanged with a note saying so.

use jiff::Timestamp;

use crate::case::Approval;
use crate::case::{
    BuyerRequest, CancelPlan, CancelReason, Case, CaseState, Claim, CloseReason, LinesCancelled,
    Notice, Settings, Strategy,
};
use crate::events::{AlertKind, DomainEvent};
use crate::mode::{ApprovalDefault, Mode};
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
    /// Anything else before Amazon got the message (throttling that did not clear, the
    /// network before sending, the preflight or locale read failing): try again later.
    Failed { detail: String },
    /// The message was sent but Amazon's answer was lost (5xx, timeout after sending): it may
    /// have reached the buyer. Counted as sent (against the cap and the slot), never repeated.
    Unknown { detail: String },
    /// Amazon refused the call for the seller's authorisation (no Buyer Communication role,
    /// a revoked authorisation): an alert; tried again later.
    NotAuthorized { detail: String },
    /// The text can never be sent (it breaks Amazon's message rules even after repair, or
    /// Amazon answered 400 to it): recorded once, not retried.
    Invalid { detail: String },
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
    /// The cancel feed could not be submitted (nothing reached Amazon).
    CancelSubmitFailed { detail: String },
    /// The cancel feed was sent but Amazon's answer was lost: it may exist.
    CancelSubmitUnknown { detail: String },
    /// The lookup of Amazon's feed list after an unknown submission: the feed that carries this
    /// order's cancel, if one was found.
    CancelFeedFound { feed_id: Option<String> },
    /// What the feed's status and report say about this order.
    FeedResult {
        feed_id: String,
        outcome: FeedOutcome,
    },
    /// The seller withdrew the case.
    Withdraw { reason: String },
    /// Approve mode: the seller approved the case's seller-initiated cancel.
    Approve { by: String },
}

/// Work for the service layer, performed after the returned case is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send request message `n` (preflight first; answer with `MessageResult`).
    SendRequest { n: u32 },
    /// Send the final apology (preflight first; answer with `MessageResult`).
    SendFinalNotice,
    /// Submit the cancel of these order lines (answer with `CancelSubmitted`,
    /// `CancelSubmitFailed` or `CancelSubmitUnknown`).
    SubmitCancel {
        reason: CancelReason,
        order_item_ids: Vec<String>,
    },
    /// Look in Amazon's list of cancel feeds created since `since` for one carrying this case's
    /// cancel (answer with `CancelFeedFound`).
    FindCancelFeed { since: Timestamp },
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
        CloseReason::NotApproved { .. } => "left to the seller (cancel not approved)",
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

/// A cancel due now under `plan` (no submission yet).
fn cancel_due(plan: CancelPlan, not_before: Timestamp) -> CaseState {
    CaseState::CancelDue {
        plan,
        not_before,
        submitting: None,
        attempts: 0,
        resubmitted: false,
        lookup: None,
        last_feed: None,
    }
}

/// Raises `kind` once per case: the alert effect (if not raised before) and the case with the
/// kind recorded.
fn alert_once(case: &mut Case, kind: AlertKind, detail: String, effects: &mut Vec<Effect>) {
    if !case.alerts_raised.contains(&kind) {
        case.alerts_raised.push(kind);
        effects.push(alert(case, kind, detail));
    }
}

/// Back on the case's own path after a buyer's request went away or covered some lines only:
/// asking (ask-buyer, before the final time) or the final message.
fn resume(case: &Case, now: Timestamp, settings: &Settings) -> CaseState {
    if let Some(notice) = &case.final_sent {
        // The buyer has the final message already: the cancel follows, nothing more is sent.
        return cancel_due(CancelPlan::after_notice(case.strategy, notice.clone()), now);
    }
    let final_at = case.final_at(settings);
    if case.strategy == Strategy::AskBuyer && now < final_at {
        let next = (case.requests_sent < settings.max_requests)
            .then(|| {
                case.windows(settings)
                    .next_slot(now, &case.slots_used, final_at)
            })
            .flatten();
        CaseState::Requesting {
            next_at: next,
            sending: None,
        }
    } else {
        let next_try = if case.strategy == Strategy::CancelFirst {
            case.final_notice_at.max(now)
        } else {
            now
        };
        CaseState::FinalNotice {
            next_try,
            sending: None,
            attempts: 0,
            last_failure: None,
        }
    }
}

/// Decides what `input` at `now` does to `case` under `settings`.
///
/// Whatever the input, a case still open within the resubmit margin of its ship-by raises
/// `DeadlineRisk` (once per case): the seller hears of it before the deadline passes.
pub fn decide(case: &Case, input: &Input, now: Timestamp, settings: &Settings) -> Decision {
    let d = decide_input(case, input, now, settings);
    let mut d = gate(case, d, now, settings);
    earlier_feed(case, input, &mut d);
    if !d.case.state.is_terminal() && now >= case.ship_by - settings.resubmit_margin {
        let detail = format!(
            "case still {} within {} minutes of ship-by",
            d.case.state.name(),
            settings.resubmit_margin.as_mins()
        );
        alert_once(&mut d.case, AlertKind::DeadlineRisk, detail, &mut d.effects);
    }
    d
}

/// Keeps [`Case::earlier_feed_plan`] true: forgotten once kenzen submits another cancel or
/// Amazon's feed list shows no such feed; and a cancel seen while it stands is recorded as that
/// feed's (kenzen submitted nothing since).
fn earlier_feed(case: &Case, input: &Input, d: &mut Decision) {
    let submits = d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::SubmitCancel { .. }));
    if submits || matches!(input, Input::CancelFeedFound { feed_id: None }) {
        d.case.earlier_feed_plan = None;
        return;
    }
    let Some(earlier) = d.case.earlier_feed_plan.clone() else {
        return;
    };
    if case.state.is_terminal() {
        return;
    }
    if let CaseState::Cancelled { reason, plan, .. } = &mut d.case.state
        && *reason != earlier.reason()
    {
        let said = format!("cancelled as {}", reason.as_feed());
        *reason = earlier.reason();
        *plan = earlier;
        let now_said = format!("cancelled as {}", reason.as_feed());
        for e in &mut d.effects {
            if let Effect::Publish(DomainEvent::CaseClosed { outcome, .. }) = e
                && *outcome == said
            {
                outcome.clone_from(&now_said);
            }
        }
        d.note = format!(
            "{}; the cancel is the earlier {} feed's (kenzen submitted nothing since)",
            d.note,
            reason.as_feed()
        );
    }
}

fn decide_input(case: &Case, input: &Input, now: Timestamp, settings: &Settings) -> Decision {
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
                last_feed,
                ..
            } => Decision::to(
                case,
                CaseState::CancelDue {
                    plan: plan.clone(),
                    not_before: (now + settings.retry_after).min(case.last_call(settings).max(now)),
                    submitting: None,
                    attempts: attempts + 1,
                    resubmitted: *resubmitted,
                    lookup: None,
                    last_feed: last_feed.clone(),
                },
                vec![],
                format!("cancel submission failed ({detail}); retrying later"),
            ),
            _ => Decision::keep(case, "ignored: no cancel submission under way"),
        },
        Input::CancelSubmitUnknown { detail } => match &case.state {
            CaseState::CancelDue {
                plan,
                submitting: Some(claim),
                attempts,
                resubmitted,
                last_feed,
                lookup,
                ..
            } => {
                let mut d = Decision::to(
                    case,
                    CaseState::CancelDue {
                        plan: plan.clone(),
                        // Give Amazon's feed list a moment to show the feed.
                        not_before: (now + settings.retry_after)
                            .min(case.last_call(settings).max(now)),
                        submitting: None,
                        attempts: attempts + 1,
                        resubmitted: *resubmitted,
                        // The earliest submission that may have reached Amazon.
                        lookup: Some(lookup.map_or(claim.since, |l| l.min(claim.since))),
                        last_feed: last_feed.clone(),
                    },
                    vec![],
                    format!(
                        "cancel feed sent but Amazon's answer was lost ({detail}); outcome unknown: \
                         Amazon's feed list is checked before anything is submitted again"
                    ),
                );
                d.case.outcomes_unknown += 1;
                d
            }
            _ => Decision::keep(case, "ignored: no cancel submission under way"),
        },
        Input::CancelFeedFound { feed_id } => feed_found(case, feed_id.as_deref(), now),
        Input::FeedResult { feed_id, outcome } => {
            feed_result(case, feed_id, outcome, now, settings)
        }
        Input::Approve { by } => approve(case, by, now),
        Input::Withdraw { reason } => match &case.state {
            CaseState::CancelSubmitted { .. }
            | CaseState::CancelDue {
                submitting: Some(_),
                ..
            }
            | CaseState::CancelDue {
                lookup: Some(_), ..
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

/// True for an effect that acts on the marketplace for the buyer: a message or a cancel.
fn acts(effect: &Effect) -> bool {
    matches!(
        effect,
        Effect::SendRequest { .. } | Effect::SendFinalNotice | Effect::SubmitCancel { .. }
    )
}

/// True when the decision starts the seller-initiated end of the case: the final apology, or a
/// GeneralAdjustment/NoInventory cancel the buyer got no apology for yet.
fn starts_seller_cancel(case: &Case, effects: &[Effect]) -> bool {
    effects.iter().any(|e| match e {
        Effect::SendFinalNotice => true,
        Effect::SubmitCancel { reason, .. } => {
            *reason != CancelReason::BuyerCanceled && case.final_sent.is_none()
        }
        _ => false,
    })
}

/// The mode's word on a decision that would act on the marketplace.
///
/// - A case held (kenzen paused, or in dry-run while the case was opened live) does not act:
///   it stays as it was, and at its last call the seller is alerted once (`HeldAtDeadline`).
/// - Approve mode: the final apology and a seller-initiated cancel wait for the seller's
///   approval until [`Case::approve_by`]; after it, the seller's default applies. A
///   BuyerCanceled cancel never waits.
/// - A rehearsal (dry-run case) is never held: it acts on nothing anyway.
fn gate(case: &Case, d: Decision, now: Timestamp, settings: &Settings) -> Decision {
    // Moving towards a seller-initiated cancel counts as acting: a held case does not give up
    // its apology (quiet hours at the last call) while nothing may be sent anyway.
    let towards_cancel = !matches!(case.state, CaseState::CancelDue { .. })
        && matches!(
            &d.case.state,
            CaseState::CancelDue { plan, .. } if !matches!(plan, CancelPlan::BuyerCanceled { .. })
        );
    if !(d.effects.iter().any(acts) || towards_cancel) || case.dry_run {
        return d;
    }
    let held = match settings.mode {
        Mode::Pause => Some("kenzen is paused"),
        Mode::DryRun => Some("kenzen is in dry-run and this case was opened live"),
        Mode::Live | Mode::Approve => None,
    };
    if let Some(why) = held {
        let mut next = case.clone();
        let mut effects = Vec::new();
        if now >= case.last_call(settings) {
            alert_once(
                &mut next,
                AlertKind::HeldAtDeadline,
                format!(
                    "{why}: nothing was sent or cancelled, and the cancel deadline has come; the                      order ships late unless you ship it, cancel it yourself, or resume kenzen"
                ),
                &mut effects,
            );
        }
        return Decision {
            case: next,
            effects,
            note: format!("held: {why}; would have: {}", d.note),
        };
    }
    if settings.mode != Mode::Approve
        || case.approved.is_some()
        || !starts_seller_cancel(case, &d.effects)
    {
        return d;
    }
    let approve_by = case.approve_by(settings);
    let reason = match case.strategy {
        Strategy::AskBuyer => CancelReason::GeneralAdjustment,
        Strategy::CancelFirst => CancelReason::NoInventory,
    };
    if now >= approve_by {
        return match settings.approval_default {
            ApprovalDefault::Cancel => Decision {
                note: format!(
                    "not approved by {approve_by}; the seller's default is to cancel: {}",
                    d.note
                ),
                ..d
            },
            ApprovalDefault::Leave => {
                let mut out = closed(
                    case,
                    CloseReason::NotApproved { approve_by },
                    now,
                    format!(
                        "not approved by {approve_by}; the seller's default is to leave the                          order to the seller: nothing sent, nothing cancelled"
                    ),
                );
                out.effects.push(alert(
                    case,
                    AlertKind::NotApproved,
                    format!(
                        "the {} cancel was not approved in time; kenzen sent nothing and                          cancelled nothing: ship the order or cancel it yourself before ship-by",
                        reason.as_feed()
                    ),
                ));
                out
            }
        };
    }
    // Wait, without claiming anything: come back at the approval deadline. What else the
    // decision recorded (a crashed claim counted, an alert) stands.
    let mut next = d.case.clone();
    next.state = match &d.case.state {
        CaseState::FinalNotice {
            attempts,
            last_failure,
            ..
        } => CaseState::FinalNotice {
            next_try: approve_by,
            sending: None,
            attempts: *attempts,
            last_failure: last_failure.clone(),
        },
        CaseState::CancelDue {
            plan,
            attempts,
            resubmitted,
            last_feed,
            ..
        } => CaseState::CancelDue {
            plan: plan.clone(),
            not_before: approve_by,
            submitting: None,
            attempts: *attempts,
            resubmitted: *resubmitted,
            lookup: None,
            last_feed: last_feed.clone(),
        },
        _ => case.state.clone(),
    };
    let mut effects: Vec<Effect> = d.effects.into_iter().filter(|e| !acts(e)).collect();
    if next.approval_asked.is_none() {
        next.approval_asked = Some(approve_by);
        effects.push(publish(DomainEvent::ApprovalNeeded {
            order_id: case.order_id.clone(),
            approve_by,
            reason: reason.as_feed().into(),
            default_action: settings.approval_default.as_setting().into(),
        }));
    }
    Decision {
        case: next,
        effects,
        note: format!(
            "waiting for the seller's approval until {approve_by} (then: {}); would have: {}",
            settings.approval_default.as_setting(),
            d.note
        ),
    }
}

/// Approve mode: the seller's approval. A case waiting for it becomes due at once.
fn approve(case: &Case, by: &str, now: Timestamp) -> Decision {
    if case.approved.is_some() {
        return Decision::keep(case, "already approved");
    }
    let mut next = case.clone();
    next.approved = Some(Approval {
        at: now,
        by: by.to_string(),
    });
    if next.approval_asked.is_some() {
        match &mut next.state {
            CaseState::FinalNotice {
                next_try,
                sending: None,
                ..
            } => *next_try = now,
            CaseState::CancelDue {
                not_before,
                submitting: None,
                lookup: None,
                ..
            } => *not_before = now,
            _ => {}
        }
    }
    Decision {
        case: next,
        effects: Vec::new(),
        note: format!("the seller approved the cancel ({by}); it goes ahead with the next sweep"),
    }
}

/// The claim in flight for a message, if any.
fn message_claim(state: &CaseState) -> Option<Claim> {
    match state {
        CaseState::Requesting { sending, .. } | CaseState::FinalNotice { sending, .. } => *sending,
        _ => None,
    }
}

/// The feed that may already carry this case's cancel: the one awaited, or the last submitted.
fn known_feed(state: &CaseState) -> Option<String> {
    match state {
        CaseState::CancelSubmitted { feed_id, .. } => Some(feed_id.clone()),
        CaseState::CancelDue { last_feed, .. } => last_feed.clone(),
        _ => None,
    }
}

/// True when kenzen submitted, or may have submitted, a cancel for this case.
fn kenzen_may_have_cancelled(state: &CaseState) -> bool {
    match state {
        CaseState::CancelSubmitted { .. } => true,
        CaseState::CancelDue {
            submitting,
            lookup,
            last_feed,
            ..
        } => submitting.is_some() || lookup.is_some() || last_feed.is_some(),
        _ => false,
    }
}

/// The plan of the cancel kenzen submitted (or may have), if any.
fn submitted_plan(state: &CaseState) -> Option<&CancelPlan> {
    match state {
        CaseState::CancelSubmitted { plan, .. } | CaseState::CancelDue { plan, .. } => Some(plan),
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
        let by = order.cancelled_by().map(str::to_string);
        let by_seller = by
            .as_deref()
            .is_none_or(|b| b == "MERCHANT" || b == "SELLER");
        // A submitted cancel seen done is kenzen's; so is a seller-side cancel while a
        // submission of kenzen's may have reached Amazon (lost answer, crash, resubmission).
        let ours = matches!(case.state, CaseState::CancelSubmitted { .. })
            || (kenzen_may_have_cancelled(&case.state) && by_seller);
        if ours && let Some(plan) = submitted_plan(&case.state) {
            // kenzen's own cancel (perhaps from a feed whose answer was lost or not recorded).
            let reason = plan.reason();
            let feed_id = known_feed(&case.state).unwrap_or_else(|| "unknown".into());
            let mut effects = vec![publish(DomainEvent::CaseClosed {
                order_id: case.order_id.clone(),
                outcome: format!("cancelled as {}", reason.as_feed()),
            })];
            if reason != CancelReason::NoInventory {
                effects.push(Effect::ZeroListings);
            }
            return Decision::to(
                case,
                CaseState::Cancelled {
                    reason,
                    plan: plan.clone(),
                    feed_id: feed_id.clone(),
                    at: now,
                },
                effects,
                format!(
                    "order shows cancelled; kenzen's cancel as {} (feed {feed_id}) confirmed",
                    reason.as_feed()
                ),
            );
        }
        let note = format!(
            "order was cancelled elsewhere (by {}); case closed",
            by.as_deref().unwrap_or("unknown")
        );
        return closed(case, CloseReason::CancelledElsewhere { by }, now, note);
    }
    // Lines kenzen cancelled while the rest of the order stays open.
    if let CaseState::CancelSubmitted { plan, feed_id, .. } = &case.state {
        let lines = plan.lines(case);
        if lines.len() < case.items.len()
            && lines
                .iter()
                .all(|l| order.line(l).is_none_or(|ol| ol.cancelled_by.is_some()))
        {
            return lines_done(case, plan, feed_id, now, settings);
        }
    }
    let open: Vec<&str> = case
        .items
        .iter()
        .map(|i| i.order_item_id.as_str())
        .collect();
    let requested: Vec<String> = order
        .requested_lines()
        .into_iter()
        .filter(|l| open.contains(&l.as_str()))
        .collect();
    if let CaseState::CancelDue {
        plan: CancelPlan::BuyerCanceled { request, lines },
        submitting: None,
        lookup,
        not_before,
        attempts,
        resubmitted,
        last_feed,
    } = &case.state
    {
        let planned = CancelPlan::BuyerCanceled {
            request: request.clone(),
            lines: lines.clone(),
        }
        .lines(case);
        if requested.is_empty() {
            // The request Amazon showed is gone: never BuyerCanceled without it.
            let mut next = case.clone();
            // A BuyerCanceled feed may still be working at Amazon (its answer was lost, or it
            // was resubmitted unconfirmed near ship-by); a feed whose report said it failed
            // cancelled nothing.
            let feed_may_act = lookup.is_some() || (*resubmitted && last_feed.is_some());
            if feed_may_act {
                next.earlier_feed_plan = Some(CancelPlan::BuyerCanceled {
                    request: request.clone(),
                    lines: lines.clone(),
                });
            }
            next.state = if feed_may_act {
                // No message after a cancel that may still happen. The deadline cancel follows
                // without one, saying why, and any feed that may exist is looked up first.
                let notice = next.final_sent.clone().unwrap_or(Notice::NotDelivered {
                    why: "a cancel feed was already sent when the buyer's request went away; \
                          no message after it"
                        .into(),
                });
                CaseState::CancelDue {
                    plan: CancelPlan::after_notice(case.strategy, notice),
                    not_before: now,
                    submitting: None,
                    attempts: *attempts,
                    resubmitted: *resubmitted,
                    lookup: *lookup,
                    last_feed: last_feed.clone(),
                }
            } else {
                resume(&next, now, settings)
            };
            let mut effects = Vec::new();
            alert_once(
                &mut next,
                AlertKind::BuyerRequestVanished,
                "Amazon no longer shows the buyer's cancellation request; back to the deadline path"
                    .into(),
                &mut effects,
            );
            let state = next.state.name();
            return Decision {
                case: next,
                effects,
                note: format!(
                    "Amazon no longer shows the buyer's cancellation request; no BuyerCanceled \
                     without it: back to {state}"
                ),
            };
        }
        if requested != planned {
            return Decision::to(
                case,
                CaseState::CancelDue {
                    plan: CancelPlan::BuyerCanceled {
                        request: request.clone(),
                        lines: requested.clone(),
                    },
                    not_before: *not_before,
                    submitting: None,
                    attempts: *attempts,
                    resubmitted: *resubmitted,
                    lookup: *lookup,
                    last_feed: last_feed.clone(),
                },
                vec![],
                format!(
                    "the buyer's request now covers lines {}; the BuyerCanceled cancel covers \
                     exactly those",
                    requested.join(", ")
                ),
            );
        }
        return Decision::keep(case, "buyer's request seen; the cancel is already decided");
    }
    if requested.is_empty() {
        return Decision::keep(case, "order seen; nothing new");
    }
    let switch = match &case.state {
        CaseState::Requesting { .. } | CaseState::FinalNotice { .. } => true,
        CaseState::CancelDue {
            plan,
            submitting,
            lookup,
            ..
        } => {
            !matches!(plan, CancelPlan::BuyerCanceled { .. })
                && submitting.is_none()
                && lookup.is_none()
        }
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
    let (resubmitted, last_feed) = match &case.state {
        CaseState::CancelDue {
            resubmitted,
            last_feed,
            ..
        } => (*resubmitted, last_feed.clone()),
        _ => (false, None),
    };
    let all = requested.len() == case.items.len();
    let mut d = Decision::to(
        case,
        CaseState::CancelDue {
            plan: CancelPlan::BuyerCanceled {
                request: BuyerRequest {
                    seen_at: now,
                    reason: order.buyer_cancel_reason().map(str::to_string),
                },
                lines: requested.clone(),
            },
            not_before,
            submitting: None,
            attempts: 0,
            resubmitted,
            lookup: None,
            last_feed,
        },
        vec![publish(DomainEvent::BuyerRequestedCancel {
            order_id: case.order_id.clone(),
        })],
        if all {
            "Amazon shows the buyer's official cancellation request; cancelling as BuyerCanceled"
                .to_string()
        } else {
            format!(
                "Amazon shows the buyer's official cancellation request for lines {} only; \
                 cancelling those as BuyerCanceled, the other lines stay on their path",
                requested.join(", ")
            )
        },
    );
    // A message being sent right now may reach the buyer: it counts as sent with an unknown
    // outcome, so a later return to asking never sends it again.
    if let Some(claim) = message_claim(&case.state) {
        match &case.state {
            CaseState::Requesting { .. } => {
                d.case.requests_sent += 1;
                d.case.last_request_at = Some(claim.since);
                let slot = case.windows(settings).slot_of(claim.since) as u8;
                if !d.case.slots_used.contains(&slot) {
                    d.case.slots_used.push(slot);
                }
            }
            _ => {
                d.case.final_sent = Some(Notice::OutcomeUnknown {
                    at: claim.since,
                    detail: "being sent when the buyer's request showed".into(),
                })
            }
        }
        d.case.outcomes_unknown += 1;
    }
    d
}

/// The lines of a cancel of some lines only are done (the order shows them cancelled, or the
/// feed's report confirmed them): they leave the case, and the other lines go on their path.
fn lines_done(
    case: &Case,
    plan: &CancelPlan,
    feed_id: &str,
    now: Timestamp,
    settings: &Settings,
) -> Decision {
    let lines = plan.lines(case);
    let reason = plan.reason();
    let mut next = case.clone();
    next.items.retain(|i| !lines.contains(&i.order_item_id));
    next.lines_cancelled.push(LinesCancelled {
        order_item_ids: lines.clone(),
        reason,
        feed_id: feed_id.to_string(),
        at: now,
    });
    next.state = resume(&next, now, settings);
    let note = format!(
        "lines {} cancelled as {} (feed {feed_id}); the other lines go on ({})",
        lines.join(", "),
        reason.as_feed(),
        next.state.name()
    );
    let effects = if reason != CancelReason::NoInventory {
        vec![Effect::ZeroListings]
    } else {
        vec![]
    };
    Decision {
        case: next,
        effects,
        note,
    }
}

fn final_notice_state(now: Timestamp) -> CaseState {
    CaseState::FinalNotice {
        next_try: now,
        sending: None,
        attempts: 0,
        last_failure: None,
    }
}

/// The final message cannot go out before the last call: cancel without it, saying why.
fn give_up_notice(case: &Case, why: String, now: Timestamp) -> Decision {
    let plan = CancelPlan::after_notice(case.strategy, Notice::NotDelivered { why: why.clone() });
    let reason = plan.reason().as_feed();
    Decision::to(
        case,
        cancel_due(plan, now),
        vec![alert(case, AlertKind::FinalNoticeNotDelivered, why.clone())],
        format!("final notice not delivered ({why}); cancelling as {reason} before the deadline"),
    )
}

fn due(case: &Case, now: Timestamp, settings: &Settings) -> Decision {
    let w = case.windows(settings);
    let last_call = case.last_call(settings);
    match &case.state {
        CaseState::Requesting { next_at, sending } => {
            if let Some(claim) = sending
                && now < claim.since + settings.claim_timeout
            {
                return Decision::keep(case, "a request message is being sent");
            }
            if now >= case.final_at(settings) {
                let mut moved = case.clone();
                if let Some(claim) = sending {
                    // The run sending the last request died before recording Amazon's answer.
                    moved.requests_sent += 1;
                    moved.last_request_at = Some(claim.since);
                    let slot = w.slot_of(claim.since) as u8;
                    if !moved.slots_used.contains(&slot) {
                        moved.slots_used.push(slot);
                    }
                    moved.outcomes_unknown += 1;
                }
                moved.state = final_notice_state(now);
                let mut d = due(&moved, now, settings);
                d.note = format!("no buyer request by the final-notice time; {}", d.note);
                return d;
            }
            let n = case.requests_sent + 1;
            let final_at = case.final_at(settings);
            let stay = |next_at: Option<Timestamp>, note: String| {
                Decision::to(
                    case,
                    CaseState::Requesting {
                        next_at: next_at.filter(|t| *t < final_at),
                        sending: None,
                    },
                    vec![],
                    note,
                )
            };
            if let Some(claim) = sending {
                // The run that claimed this message died before recording Amazon's answer: the
                // message may have gone out. Count it as sent with an unknown outcome and never
                // send it again in this slot.
                let mut used = case.slots_used.clone();
                let slot = w.slot_of(claim.since) as u8;
                if !used.contains(&slot) {
                    used.push(slot);
                }
                let next = (n < settings.max_requests)
                    .then(|| w.next_slot(now.max(claim.since + settings.min_gap), &used, final_at))
                    .flatten();
                let mut d = stay(
                    next,
                    format!(
                        "request message {n}: the run sending it never recorded Amazon's answer; \
                         outcome unknown, counted as sent and not repeated"
                    ),
                );
                d.case.requests_sent = n;
                d.case.slots_used = used;
                d.case.last_request_at = Some(claim.since);
                d.case.outcomes_unknown += 1;
                return d;
            }
            let Some(next_at) = next_at else {
                return Decision::keep(case, "no request message is planned");
            };
            if now < *next_at {
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
        CaseState::FinalNotice {
            next_try,
            sending,
            attempts,
            last_failure,
        } => {
            if let Some(claim) = sending {
                if now < claim.since + settings.claim_timeout {
                    return Decision::keep(case, "the final message is being sent");
                }
                // The run sending it died before recording Amazon's answer: it may have gone
                // out. Never send it twice; the cancel follows.
                let notice = Notice::OutcomeUnknown {
                    at: claim.since,
                    detail: "the run sending it never recorded Amazon's answer".into(),
                };
                let plan = CancelPlan::after_notice(case.strategy, notice.clone());
                let reason = plan.reason().as_feed();
                let not_before = match plan {
                    CancelPlan::GeneralAdjustment { .. } => {
                        (claim.since + settings.final_grace).min(last_call).max(now)
                    }
                    _ => now,
                };
                let mut d = Decision::to(
                    case,
                    cancel_due(plan, not_before),
                    vec![],
                    format!(
                        "final message: the run sending it never recorded Amazon's answer; \
                         outcome unknown, not sent again; cancel as {reason} follows"
                    ),
                );
                d.case.outcomes_unknown += 1;
                d.case.final_sent = Some(notice);
                return d;
            }
            let quiet = w.is_quiet(now);
            if now >= last_call {
                // Past the last call: one attempt at the apology when sending is allowed and
                // none was made yet, then the cancel.
                if *attempts == 0 && last_failure.is_none() && !quiet {
                    return Decision::to(
                        case,
                        CaseState::FinalNotice {
                            next_try: *next_try,
                            sending: Some(Claim { since: now }),
                            attempts: 0,
                            last_failure: None,
                        },
                        vec![Effect::SendFinalNotice],
                        "final message due at the cancel deadline; sending it once, the cancel follows",
                    );
                }
                let why = last_failure.clone().unwrap_or_else(|| {
                    format!(
                        "quiet hours at the cancel deadline ({} local): no message may be sent",
                        w.local_hhmm(now)
                    )
                });
                return give_up_notice(case, why, now);
            }
            if quiet {
                let open = w.next_open(now).min(last_call);
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
            if now < *next_try {
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
            lookup,
            last_feed,
        } => {
            if now < *not_before {
                return Decision::keep(case, "cancel not due yet");
            }
            if let Some(claim) = submitting
                && now < claim.since + settings.claim_timeout
            {
                return Decision::keep(case, "a cancel submission is under way");
            }
            // A submission that may have reached Amazon (lost answer, or a run that died after
            // claiming it) is looked up first, never blindly repeated.
            if let Some(since) = lookup.or(submitting.map(|c| c.since)) {
                return Decision::to(
                    case,
                    CaseState::CancelDue {
                        plan: plan.clone(),
                        not_before: *not_before,
                        submitting: Some(Claim { since: now }),
                        attempts: *attempts,
                        resubmitted: *resubmitted,
                        lookup: Some(since),
                        last_feed: last_feed.clone(),
                    },
                    vec![Effect::FindCancelFeed { since }],
                    "an earlier cancel submission may have reached Amazon; looking it up in Amazon's feed list",
                );
            }
            let (state, effects) = submit(
                case,
                plan,
                *not_before,
                *attempts,
                *resubmitted,
                last_feed,
                now,
            );
            Decision::to(
                case,
                state,
                effects,
                format!("submitting cancel as {}", plan.reason().as_feed()),
            )
        }
        CaseState::CancelSubmitted {
            plan,
            feed_id,
            submitted_at,
            check_at,
            attempts,
            resubmitted,
        } => {
            // A feed gets at least one feed-poll interval before it is called late: a cancel
            // first submitted inside the resubmit margin is not sent again in the same run.
            if !resubmitted
                && now >= case.ship_by - settings.resubmit_margin
                && now >= *submitted_at + settings.feed_poll
            {
                let mut d = Decision::to(
                    case,
                    CaseState::CancelDue {
                        plan: plan.clone(),
                        not_before: now,
                        submitting: None,
                        attempts: *attempts,
                        resubmitted: true,
                        lookup: None,
                        last_feed: Some(feed_id.clone()),
                    },
                    vec![],
                    format!(
                        "feed {feed_id} not confirmed close to ship-by; resubmitting the cancel"
                    ),
                );
                alert_once(
                    &mut d.case,
                    AlertKind::DeadlineRisk,
                    format!(
                        "cancel in feed {feed_id} not confirmed one hour before ship-by; resubmitting"
                    ),
                    &mut d.effects,
                );
                return d;
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

/// The cancel claimed for submission now: its state and the effect that submits it.
fn submit(
    case: &Case,
    plan: &CancelPlan,
    not_before: Timestamp,
    attempts: u32,
    resubmitted: bool,
    last_feed: &Option<String>,
    now: Timestamp,
) -> (CaseState, Vec<Effect>) {
    (
        CaseState::CancelDue {
            plan: plan.clone(),
            not_before,
            submitting: Some(Claim { since: now }),
            attempts,
            resubmitted,
            lookup: None,
            last_feed: last_feed.clone(),
        },
        vec![Effect::SubmitCancel {
            reason: plan.reason(),
            order_item_ids: plan.lines(case),
        }],
    )
}

fn feed_found(case: &Case, feed_id: Option<&str>, now: Timestamp) -> Decision {
    let CaseState::CancelDue {
        plan,
        submitting: Some(_),
        lookup: Some(since),
        attempts,
        resubmitted,
        last_feed,
        not_before,
    } = &case.state
    else {
        return Decision::keep(case, "ignored: no feed lookup under way");
    };
    match feed_id {
        Some(id) => Decision::to(
            case,
            CaseState::CancelSubmitted {
                plan: plan.clone(),
                feed_id: id.to_string(),
                submitted_at: *since,
                check_at: now,
                attempts: *attempts,
                resubmitted: *resubmitted,
            },
            vec![publish(DomainEvent::CancelSubmitted {
                order_id: case.order_id.clone(),
                reason: plan.reason().as_feed().to_string(),
                feed_id: id.to_string(),
                projected: case.projected_rate.clone(),
            })],
            format!(
                "Amazon's feed list shows feed {id} from the earlier submission; it carries this \
                 cancel, so nothing is submitted again"
            ),
        ),
        None => {
            let (state, effects) = submit(
                case,
                plan,
                *not_before,
                *attempts,
                *resubmitted,
                last_feed,
                now,
            );
            Decision::to(
                case,
                state,
                effects,
                format!(
                    "Amazon's feed list shows no feed from the earlier submission; submitting the \
                 cancel as {}",
                    plan.reason().as_feed()
                ),
            )
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
    let w = case.windows(settings);
    let final_at = case.final_at(settings);
    match outcome {
        MessageOutcome::Accepted | MessageOutcome::Unknown { .. } => {
            let mut used = case.slots_used.clone();
            let slot = w.slot_of(now) as u8;
            if !used.contains(&slot) {
                used.push(slot);
            }
            let next = (n < settings.max_requests)
                .then(|| w.next_slot(now + settings.min_gap, &used, final_at))
                .flatten();
            let note = match outcome {
                MessageOutcome::Unknown { detail } => format!(
                    "request message {n}: Amazon's answer was lost ({detail}); outcome unknown, \
                     counted as sent and not repeated"
                ),
                _ => format!("request message {n} accepted by Amazon"),
            };
            let mut d = Decision::to(
                case,
                CaseState::Requesting {
                    next_at: next,
                    sending: None,
                },
                vec![],
                note,
            );
            d.case.requests_sent = n;
            d.case.slots_used = used;
            d.case.last_request_at = Some(now);
            if matches!(outcome, MessageOutcome::Unknown { .. }) {
                d.case.outcomes_unknown += 1;
            }
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
        MessageOutcome::Invalid { detail } => Decision::to(
            case,
            CaseState::Requesting {
                next_at: None,
                sending: None,
            },
            vec![],
            format!("request message {n} cannot be sent ({detail}); no more requests"),
        ),
        MessageOutcome::Failed { detail } | MessageOutcome::NotAuthorized { detail } => {
            let mut d = Decision::to(
                case,
                CaseState::Requesting {
                    next_at: next_at
                        .map(|_| w.next_open(now + settings.retry_after))
                        .filter(|t| *t < final_at),
                    sending: None,
                },
                vec![],
                format!("request message {n} failed ({detail}); retrying later"),
            );
            if matches!(outcome, MessageOutcome::NotAuthorized { .. }) {
                alert_once(
                    &mut d.case,
                    AlertKind::MessagingNotAuthorized,
                    format!(
                        "Amazon refused the message for the app's authorisation ({detail}); check \
                         the Buyer Communication role"
                    ),
                    &mut d.effects,
                );
            }
            d
        }
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
    let last_call = case.last_call(settings);
    let delivered = match outcome {
        MessageOutcome::Accepted => Some(Notice::Delivered { at: now }),
        MessageOutcome::Unknown { detail } => Some(Notice::OutcomeUnknown {
            at: now,
            detail: detail.clone(),
        }),
        _ => None,
    };
    if let Some(notice) = delivered {
        let unknown = matches!(notice, Notice::OutcomeUnknown { .. });
        let plan = CancelPlan::after_notice(case.strategy, notice.clone());
        let not_before = match plan {
            CancelPlan::GeneralAdjustment { .. } => (now + settings.final_grace).min(last_call),
            _ => now,
        }
        .max(now);
        let reason = plan.reason().as_feed();
        let mut d = Decision::to(
            case,
            cancel_due(plan, not_before),
            vec![],
            if unknown {
                format!(
                    "final message sent but Amazon's answer was lost; outcome unknown, not sent \
                     again; cancel as {reason} follows"
                )
            } else {
                format!("final message accepted by Amazon; cancel as {reason} follows")
            },
        );
        if unknown {
            d.case.outcomes_unknown += 1;
        }
        d.case.final_sent = Some(notice);
        return d;
    }
    let (why, final_refusal) = match outcome {
        MessageOutcome::Failed { detail } => (format!("sending failed: {detail}"), false),
        MessageOutcome::NotAuthorized { detail } => (
            format!("Amazon refused the app's authorisation for messaging: {detail}"),
            false,
        ),
        MessageOutcome::Invalid { detail } => (format!("cannot be sent: {detail}"), true),
        _ => (
            "messaging is not available for this order".to_string(),
            false,
        ),
    };
    let mut effects = Vec::new();
    let mut next = case.clone();
    if let MessageOutcome::NotAuthorized { detail } = outcome {
        alert_once(
            &mut next,
            AlertKind::MessagingNotAuthorized,
            format!(
                "Amazon refused the message for the app's authorisation ({detail}); check the \
                 Buyer Communication role"
            ),
            &mut effects,
        );
    }
    if final_refusal || now + settings.retry_after >= last_call {
        let mut d = give_up_notice(&next, why, now);
        d.effects.splice(0..0, effects);
        return d;
    }
    next.state = CaseState::FinalNotice {
        next_try: (now + settings.retry_after).min(last_call),
        sending: None,
        attempts: attempts + 1,
        last_failure: Some(why.clone()),
    };
    Decision {
        case: next,
        effects,
        note: format!(
            "final message not delivered ({why}); trying again until the cancel deadline"
        ),
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
            // A rehearsal says so wherever its events are read (notices, metrics).
            reason: if case.dry_run {
                format!("{} (dry run: nothing submitted)", plan.reason().as_feed())
            } else {
                plan.reason().as_feed().to_string()
            },
            feed_id: feed_id.to_string(),
            projected: case.projected_rate.clone(),
        })],
        match &case.projected_rate {
            Some(p) => format!(
                "cancel as {} submitted in feed {feed_id}; projected 7-day cancel rate after it {p}",
                plan.reason().as_feed()
            ),
            None => format!(
                "cancel as {} submitted in feed {feed_id}",
                plan.reason().as_feed()
            ),
        },
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
        // A rehearsal's cancel "succeeds" at once: nothing was submitted, nothing will show.
        FeedOutcome::Succeeded if case.dry_run && plan.lines(case).len() >= case.items.len() => {
            let reason = plan.reason();
            Decision::to(
                case,
                CaseState::Cancelled {
                    reason,
                    plan: plan.clone(),
                    feed_id: current.clone(),
                    at: now,
                },
                vec![publish(DomainEvent::CaseClosed {
                    order_id: case.order_id.clone(),
                    outcome: format!("dry run: would have cancelled as {}", reason.as_feed()),
                })],
                format!(
                    "dry run: kenzen would have cancelled as {} (nothing was submitted)",
                    reason.as_feed()
                ),
            )
        }
        // A cancel of some lines that Amazon's report confirms is done, even when the order
        // does not show those lines apart.
        FeedOutcome::Succeeded if plan.lines(case).len() < case.items.len() => {
            lines_done(case, plan, feed_id, now, settings)
        }
        FeedOutcome::Succeeded => waiting(format!(
            "feed {feed_id} report shows no error; waiting for the order to show the cancel"
        )),
        FeedOutcome::Failed { detail }
            if case.final_sent.is_none()
                && matches!(
                    plan,
                    CancelPlan::GeneralAdjustment {
                        notice: Notice::NotDelivered { .. }
                    } | CancelPlan::NoInventory {
                        notice: Notice::NotDelivered { .. }
                    }
                ) =>
        {
            // Nothing was cancelled and the buyer has no apology yet: try it (once more, or
            // for the first time) before submitting again.
            Decision::to(
                case,
                final_notice_state(now),
                vec![alert(
                    case,
                    AlertKind::FeedError,
                    format!("feed {feed_id}: {detail}"),
                )],
                format!(
                    "feed {feed_id} did not cancel the order ({detail}); the apology is tried \
                     before the cancel goes again"
                ),
            )
        }
        FeedOutcome::Failed { detail } => Decision::to(
            case,
            CaseState::CancelDue {
                plan: plan.clone(),
                not_before: (now + settings.retry_after).min(case.last_call(settings).max(now)),
                submitting: None,
                attempts: *attempts,
                resubmitted: *resubmitted,
                lookup: None,
                last_feed: Some(current.clone()),
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
