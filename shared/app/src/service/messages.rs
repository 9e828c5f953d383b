//! message-resend's use case, and sending one message (preflight, locale, text, send).

use jiff::Timestamp;
use kenzen_core::message::{Language, check_text};
use kenzen_core::{Case, DueKind, Input, MessageKind, MessageOutcome};

use super::{Service, ServiceError, record_failure};
use crate::ports::{EventPublisher, MarketError, MarketErrorKind, Marketplace, SendOutcome, Store};
use crate::report::RunReport;

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// message-resend: sends every message that is due (requests and the final apology).
    /// Looks before committing: the order is re-read right before, so a ship, a cancel
    /// elsewhere or the buyer's own request is seen first and no message goes out after it.
    pub async fn send_due_messages(&self) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(None).await;
        let mut report = RunReport::default();
        let read = self.store.due_cases(DueKind::Send, now).await?;
        let mut cases = self.readable(read, &mut report).await;
        // Earliest deadline first: a run cut by its budget leaves the latest for the next.
        cases.sort_by_key(|c| c.value.cancel_by);
        let total = cases.len();
        for (i, vc) in cases.into_iter().enumerate() {
            if self.out_of_time() {
                report.left_for_next_run += (total - i) as u32;
                tracing::warn!(
                    left = total - i,
                    "run budget reached; the rest waits for the next run"
                );
                break;
            }
            report.cases_checked += 1;
            let id = vc.value.order_id.clone();
            let step = async {
                let order = self.market.get_order(&id).await?;
                let (vc, _) = self
                    .drive(vc, Input::OrderSeen(order), now, &mut report)
                    .await?;
                if matches!(vc.value.due(&self.settings), Some((DueKind::Send, t)) if t <= now) {
                    self.drive(vc, Input::Due, now, &mut report).await?;
                }
                Ok::<_, ServiceError>(())
            };
            if let Err(e) = step.await {
                record_failure(&mut report, &id, &e);
            }
        }
        Ok(report)
    }

    /// Sends a message: preflight, buyer locale (each asked once per case), text, send. Never fails: every problem becomes
    /// an outcome the rules handle, and the attempt goes into the timeline.
    pub(super) async fn send_message(
        &self,
        case: &Case,
        message: MessageKind,
        now: Timestamp,
    ) -> (MessageOutcome, Learned) {
        let attempt = self.attempt_message(case, message, now).await;
        let note = match message {
            MessageKind::Request(n) => match self.learned_slot_note(case, now) {
                Some(why) => format!("request message {n}; {why}"),
                None => format!("request message {n}"),
            },
            MessageKind::FinalNotice => "final message".to_string(),
        };
        if matches!(message, MessageKind::Request(_))
            && matches!(attempt.outcome, MessageOutcome::Accepted)
        {
            self.record_slot_send(case, now).await;
        }
        if let Err(e) = self
            .timeline(
                case,
                now,
                "message",
                &note,
                attempt.text,
                Some(attempt.answer),
            )
            .await
        {
            tracing::error!(order_id = %case.order_id, error = %e, "message attempt not recorded in the timeline");
        }
        (attempt.outcome, attempt.learned)
    }

    /// The steps of one send, each of which can end the attempt.
    async fn attempt_message(&self, case: &Case, message: MessageKind, now: Timestamp) -> Attempt {
        let id = &case.order_id;
        // Every messaging call names the order's own marketplace.
        let marketplace = &case.marketplace_id;
        let mut learned = Learned::default();
        // Asked once per case: what the first send learned is kept on the case.
        if !case.messaging_offered {
            match self
                .market
                .can_send_unexpected_problem(id, marketplace)
                .await
            {
                Ok(true) => learned.offered = true,
                Ok(false) => {
                    return Attempt::unavailable(
                        None,
                        "preflight: unexpectedProblem not offered for this order".into(),
                    );
                }
                Err(e) => return Attempt::from_read_error(format!("preflight failed: {e}"), &e),
            }
        }
        let locale = match &case.buyer_locale {
            Some(l) => Some(l.clone()).filter(|l| !l.is_empty()),
            None => match self.market.buyer_locale(id, marketplace).await {
                Ok(locale) => {
                    learned.locale = Some(locale.clone().unwrap_or_default());
                    locale
                }
                Err(e) => {
                    let mut a = Attempt::from_read_error(format!("getAttributes failed: {e}"), &e);
                    a.learned = learned;
                    return a;
                }
            },
        };
        let lang = Language::for_buyer(locale.as_deref(), &case.marketplace_id);
        let mut attempt = self.compose_and_send(case, message, lang, now).await;
        attempt.learned = learned;
        attempt
    }

    /// The text for `lang` (the seller's template or kenzen's), checked against Amazon's
    /// rules, and the send.
    async fn compose_and_send(
        &self,
        case: &Case,
        message: MessageKind,
        lang: Language,
        now: Timestamp,
    ) -> Attempt {
        let id = &case.order_id;
        let text = self.message_text(case, message, lang, now).await;
        if let Err(why) = check_text(&text) {
            // The text is built from the order's own data: it will never pass. Not retried.
            return Attempt {
                outcome: MessageOutcome::Invalid {
                    detail: why.to_string(),
                },
                text: Some(text),
                answer: format!("not sent: {why}"),
                learned: Learned::default(),
            };
        }
        if case.dry_run {
            // A rehearsal: the text is recorded as it would go out; nothing is sent.
            return Attempt {
                outcome: MessageOutcome::Accepted,
                text: Some(text),
                answer: "not sent (dry run)".into(),
                learned: Learned::default(),
            };
        }
        match self
            .market
            .send_unexpected_problem(id, &case.marketplace_id, &text)
            .await
        {
            Ok(SendOutcome::Accepted) => Attempt {
                outcome: MessageOutcome::Accepted,
                text: Some(text),
                answer: "201 accepted".into(),
                learned: Learned::default(),
            },
            Ok(SendOutcome::Refused(why)) => Attempt::unavailable(Some(text), why),
            Err(e) if e.outcome_unknown() => Attempt {
                outcome: MessageOutcome::Unknown {
                    detail: e.to_string(),
                },
                text: Some(text),
                answer: format!("outcome unknown (Amazon may have taken it): {e}"),
                learned: Learned::default(),
            },
            Err(e) => Attempt::from_error(Some(text), e.to_string(), &e),
        }
    }
}

/// How one message attempt ended: the outcome for the rules, the text (once composed) and
/// Amazon's answer or the reason it was not sent, for the timeline.
struct Attempt {
    outcome: MessageOutcome,
    text: Option<String>,
    answer: String,
    learned: Learned,
}

/// What a send learned about messaging this buyer, to keep on the case.
#[derive(Debug, Default, Clone)]
pub(super) struct Learned {
    /// The preflight offered `unexpectedProblem`.
    pub(super) offered: bool,
    /// The buyer's locale (`""`: Amazon gave none).
    pub(super) locale: Option<String>,
}

impl Attempt {
    fn unavailable(text: Option<String>, answer: String) -> Self {
        Self {
            outcome: MessageOutcome::Unavailable,
            text,
            answer,
            learned: Learned::default(),
        }
    }

    /// A failed read before the send (the preflight, the buyer's locale): the seller's
    /// authorisation is an alert; anything else may pass later (never "cannot be sent").
    fn from_read_error(answer: String, e: &MarketError) -> Self {
        let detail = e.to_string();
        let outcome = match e.kind {
            MarketErrorKind::NotAuthorized => MessageOutcome::NotAuthorized { detail },
            _ => MessageOutcome::Failed { detail },
        };
        Self {
            outcome,
            text: None,
            answer,
            learned: Learned::default(),
        }
    }

    /// A failed send, told apart by what can be done about it: the seller's authorisation
    /// (an alert), a request Amazon finds wrong (never retried), or anything that may pass later.
    fn from_error(text: Option<String>, answer: String, e: &MarketError) -> Self {
        let detail = e.to_string();
        let outcome = match e.kind {
            MarketErrorKind::NotAuthorized => MessageOutcome::NotAuthorized { detail },
            MarketErrorKind::InvalidInput => MessageOutcome::Invalid { detail },
            MarketErrorKind::OutcomeUnknown
            | MarketErrorKind::Transient
            | MarketErrorKind::Refused
            | MarketErrorKind::Unreadable => MessageOutcome::Failed { detail },
        };
        Self {
            outcome,
            text,
            answer,
            learned: Learned::default(),
        }
    }
}
