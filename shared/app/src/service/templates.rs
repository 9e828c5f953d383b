//! The seller's templates as the sends of one run use them: read from the store at the first
//! message of a run and kept for the rest of it, so a run reads them at most once and a change
//! the seller makes applies from the next run on.
//!
//! A stored item that no longer validates is skipped with a warning naming its key (never its
//! text) and kenzen's default applies; when the store cannot be read at all, the run sends the
//! defaults rather than nothing. It logs no message text and no buyer data.

use std::sync::Arc;

use jiff::Timestamp;
use kenzen_core::marketplace::Language;
use kenzen_core::templates::TemplateSet;
use kenzen_core::{Case, MessageKind};

use super::Service;
use crate::ports::{EventPublisher, Marketplace, Store};

/// The templates read for a run, and the run (its clock reading) they were read for.
pub(super) type RunTemplates = tokio::sync::Mutex<Option<(Timestamp, Arc<TemplateSet>)>>;

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// The text of `message` to the buyer of `case` in `lang`, sent in the run at `now`: the
    /// seller's template where one is stored, kenzen's default otherwise.
    pub(super) async fn message_text(
        &self,
        case: &Case,
        message: MessageKind,
        lang: Language,
        now: Timestamp,
    ) -> String {
        let set = self.templates_for_run(now).await;
        let r = set.render(case, message, lang, now, case.last_request_at);
        tracing::info!(
            order_id = %case.order_id,
            template = %format!("{}#{}", r.lang, r.kind),
            source = r.source.name(),
            "message text"
        );
        r.text
    }

    /// The templates of the run at `now`, read once for it.
    async fn templates_for_run(&self, now: Timestamp) -> Arc<TemplateSet> {
        let mut cached = self.templates.lock().await;
        if let Some((at, set)) = cached.as_ref()
            && *at == now
        {
            return set.clone();
        }
        let set = match self.store.stored_templates().await {
            Ok(stored) => {
                let (set, ignored) = TemplateSet::build(
                    stored
                        .templates
                        .iter()
                        .map(|t| (t.lang.as_str(), t.kind.as_str(), t.text.as_str())),
                    stored.vars.as_ref().map(|(n, s)| (n.as_str(), s.as_str())),
                );
                for i in &ignored {
                    tracing::warn!(
                        key = %i.key,
                        why = %i.why,
                        "stored template not used; kenzen's default applies"
                    );
                }
                set
            }
            Err(e) => {
                tracing::error!(error = %e, "templates not read; this run sends kenzen's defaults");
                TemplateSet::defaults()
            }
        };
        let set = Arc::new(set);
        *cached = Some((now, set.clone()));
        set
    }
}
