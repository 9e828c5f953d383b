//! message-resend's use case, and sending one message (preflight, locale, text, send).

use jiff::Timestamp;
use kenzen_core::message::{Language, check_text, final_text, request_text};
use kenzen_core::{Case, DueKind, Input, MessageKind, MessageOutcome};

use super::{Service, ServiceError, record_failure};
use crate::ports::{EventPublisher, Marketplace, SendOutcome, Store};
use crate::report::RunReport;

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// message-resend: sends every message that is due (requests and the final apology).
    /// Looks before committing: the order is re-read right before, so a ship, a cancel
    /// elsewhere or the buyer's own request is seen first and no message goes out after it.
    pub async fn send_due_messages(&self) -> Result<RunReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RunReport::default();
        for vc in self.store.due_cases(DueKind::Send, now).await? {
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

    /// Sends a message: preflight, buyer locale, text, send. Never fails: every problem becomes
    /// an outcome the rules handle, and the attempt goes into the timeline.
    pub(super) async fn send_message(
        &self,
        case: &Case,
        message: MessageKind,
        now: Timestamp,
    ) -> MessageOutcome {
        let attempt = self.attempt_message(case, message).await;
        let note = match message {
            MessageKind::Request(n) => format!("request message {n}"),
            MessageKind::FinalNotice => "final message".to_string(),
        };
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
        attempt.outcome
    }

    /// The steps of one send, each of which can end the attempt.
    async fn attempt_message(&self, case: &Case, message: MessageKind) -> Attempt {
        let id = &case.order_id;
        match self.market.can_send_unexpected_problem(id).await {
            Ok(true) => {}
            Ok(false) => {
                return Attempt::unavailable(
                    None,
                    "preflight: unexpectedProblem not offered for this order".into(),
                );
            }
            Err(e) => return Attempt::failed(None, format!("preflight failed: {e}"), &e),
        }
        let locale = match self.market.buyer_locale(id).await {
            Ok(locale) => locale,
            Err(e) => return Attempt::failed(None, format!("getAttributes failed: {e}"), &e),
        };
        let lang = Language::from_locale(locale.as_deref());
        let text = match message {
            MessageKind::Request(n) => request_text(case, n, lang),
            MessageKind::FinalNotice => final_text(case, lang),
        };
        if let Err(why) = check_text(&text) {
            return Attempt::failed(Some(text), format!("not sent: {why}"), &why);
        }
        match self.market.send_unexpected_problem(id, &text).await {
            Ok(SendOutcome::Accepted) => Attempt {
                outcome: MessageOutcome::Accepted,
                text: Some(text),
                answer: "201 accepted".into(),
            },
            Ok(SendOutcome::Refused(why)) => Attempt::unavailable(Some(text), why),
            Err(e) => Attempt::failed(Some(text), e.to_string(), &e),
        }
    }
}

/// How one message attempt ended: the outcome for the rules, the text (once composed) and
/// Amazon's answer or the reason it was not sent, for the timeline.
struct Attempt {
    outcome: MessageOutcome,
    text: Option<String>,
    answer: String,
}

impl Attempt {
    fn unavailable(text: Option<String>, answer: String) -> Self {
        Self {
            outcome: MessageOutcome::Unavailable,
            text,
            answer,
        }
    }

    fn failed(text: Option<String>, answer: String, cause: &dyn std::fmt::Display) -> Self {
        Self {
            outcome: MessageOutcome::Failed {
                detail: cause.to_string(),
            },
            text,
            answer,
        }
    }
}
