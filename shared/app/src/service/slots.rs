//! Learned send slots in the running service: the slots of each marketplace are learned from
//! the seller's own history ([`kenzen_core::slots_learn::learn`]) at most hourly and for the
//! local kind of day (weekday, or a weekend or public holiday) of the run, and replace the
//! configured slots while the history is rich enough. Every request message Amazon accepts is
//! recorded, and the buyer's request is recorded against the case's last request message, so the
//! history grows whether or not learning is on.
//!
//! A learned set replaces the configured one only when it has as many slots (each slot keeps
//! its place in the day: the first is the morning one, and so on), so a case's used slots keep
//! their meaning when the set changes between runs or kinds of day; a thinner set falls back to
//! the configured slots, as too little history does.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use kenzen_core::holidays::day_kind;
use kenzen_core::policy::{SendWindows, marketplace_date};
use kenzen_core::slots_learn::{LearnedSlots, MIN_OBSERVATIONS, learn};
use kenzen_core::{Case, Settings};

use super::Service;
use crate::ports::{EventPublisher, Marketplace, SLOT_HISTORY_RETENTION, Store};

/// How long learned slots are kept before they are learned again.
const RELEARN_AFTER: SignedDuration = SignedDuration::from_hours(1);

/// One marketplace's learned slots: when learned, for which local day, and the result.
#[derive(Debug, Clone)]
pub(crate) struct Learned {
    at: Timestamp,
    day: jiff::civil::Date,
    slots: LearnedSlots,
}

/// The learned slots of each marketplace, kept across the runs of one container.
pub(crate) type LearnedCache = std::sync::Mutex<BTreeMap<String, Learned>>;

/// The slots that replace `configured`, if `learned` may.
fn usable<'a>(learned: &'a Learned, configured: &SendWindows) -> Option<&'a LearnedSlots> {
    (!learned.slots.fallback && learned.slots.slots.len() == configured.slots.len())
        .then_some(&learned.slots)
}

impl<M, S, P> Service<M, S, P> {
    /// `settings` with each marketplace's learned slots in place of the configured ones, where
    /// they may replace them; `None` when none may.
    pub(crate) fn with_learned_slots(&self, settings: &Settings) -> Option<Settings> {
        if !settings.learn_slots {
            return None;
        }
        let learned = self.learned.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Option<Settings> = None;
        for (m, l) in learned.iter() {
            let Some(slots) = usable(l, settings.windows_for(m)) else {
                continue;
            };
            let s = out.get_or_insert_with(|| settings.clone());
            let windows = slots.send_windows();
            if *m == s.marketplace_id {
                s.windows = windows;
            } else if let Some(w) = s.marketplace_windows.get_mut(m) {
                *w = windows;
            }
        }
        out
    }
}

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// Learns each marketplace's slots again when the kept ones are over an hour old or of
    /// another local day. A history that cannot be read keeps what was learned (or the
    /// configured slots), logged.
    pub(crate) async fn refresh_learned_slots(&self, now: Timestamp) {
        if !self.settings.learn_slots {
            return;
        }
        for m in self.settings.marketplaces() {
            let day = marketplace_date(m, now);
            let fresh = self
                .learned
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(m)
                .is_some_and(|l| l.day == day && now - RELEARN_AFTER < l.at);
            if fresh {
                continue;
            }
            let history = match self
                .store
                .slot_history(m, now - SLOT_HISTORY_RETENTION)
                .await
            {
                Ok(h) => h,
                Err(e) => {
                    tracing::warn!(marketplace = m, error = %e, "slot history not read; slots not learned again");
                    continue;
                }
            };
            let windows = self.settings.windows_for(m);
            // As many slots as configured, whatever the request cap: only a full set may
            // replace the configured one (see `usable`).
            let slots = learn(
                windows,
                m,
                day_kind(m, day),
                &history,
                MIN_OBSERVATIONS,
                windows.slots.len(),
            );
            tracing::info!(
                marketplace = m,
                learned = !slots.fallback,
                slots = ?slots.slots.iter().map(|s| s.at.to_string()).collect::<Vec<_>>(),
                "send slots"
            );
            self.learned
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    m.to_string(),
                    Learned {
                        at: now,
                        day,
                        slots,
                    },
                );
        }
    }

    /// Why the slot a request to `case` goes out in at `now` was chosen, when the learned slots
    /// are in use and `now` is in one of their half-hours (a first request sent when the order
    /// is found, between slots, gets no reason).
    pub(crate) fn learned_slot_note(&self, case: &Case, now: Timestamp) -> Option<String> {
        if !self.settings.learn_slots {
            return None;
        }
        let m = case.marketplace_id.as_str();
        let learned = self.learned.lock().unwrap_or_else(|p| p.into_inner());
        let slots = usable(learned.get(m)?, self.settings.windows_for(m))?;
        slots.slot_at(now).map(|s| s.explanation.clone())
    }

    /// Records a request message Amazon accepted, for learning (best effort).
    pub(crate) async fn record_slot_send(&self, case: &Case, now: Timestamp) {
        if let Err(e) = self
            .store
            .record_send(case.marketplace_id.as_str(), &case.order_id, now)
            .await
        {
            tracing::warn!(order_id = %case.order_id, error = %e, "sent message not recorded in the slot history");
        }
    }

    /// Records the buyer's request against the case's last request message (best effort).
    pub(crate) async fn record_slot_answer(&self, case: &Case, now: Timestamp) {
        let Some(sent_at) = case.last_request_at else {
            return;
        };
        if let Err(e) = self
            .store
            .record_request(case.marketplace_id.as_str(), &case.order_id, sent_at, now)
            .await
        {
            tracing::warn!(order_id = %case.order_id, error = %e, "buyer's request not recorded in the slot history");
        }
    }
}
