//! reply-detect's use case: re-reads the orders of open cases, once a day sends the seller's
//! digest of them, and about twice a day fetches Amazon's account-health figures.

use jiff::{SignedDuration, Timestamp};
use kenzen_core::{DomainEvent, Input, OrderId};

use super::{Service, ServiceError, record_failure};
use crate::ports::{EventPublisher, Marketplace, Store};
use crate::report::RunReport;

impl<M: Marketplace, S: Store, P: EventPublisher> Service<M, S, P> {
    /// reply-detect: re-reads the orders of open cases (or just `order_id`) and records what
    /// Amazon shows: the buyer's official cancellation request, a ship, a cancel elsewhere.
    /// The sweep reads every open case only while the poll is behind ([`POLL_BEHIND`]);
    /// otherwise only cases near their ship-by.
    pub async fn detect_replies(
        &self,
        order_id: Option<&OrderId>,
    ) -> Result<RunReport, ServiceError> {
        let now = self.begin_run(None).await;
        let mut report = RunReport::default();
        let mut digest_of: Option<Vec<kenzen_core::Case>> = None;
        let cases = match order_id {
            Some(id) => self.store.get_case(id).await?.into_iter().collect(),
            None => {
                let read = self.store.open_cases().await?;
                let mut open = self.readable(read, &mut report).await;
                if self.digest_hour_reached(now) {
                    digest_of = Some(open.iter().map(|c| c.value.clone()).collect());
                }
                // While the poll keeps up, every change of an order (the buyer's request, a
                // ship, a cancel) reaches its case through the search, and the sweeps that
                // commit (a message, a cancel) read the order right before: reading every case
                // here too would spend the account's getOrder budget for nothing. Then only
                // cases near their ship-by are read (a stuck case is alerted in time).
                let cursor = self.store.poll_cursor().await?;
                let behind = cursor.is_none_or(|c| now.duration_since(c) > POLL_BEHIND);
                if !behind {
                    let near = self.settings.resubmit_margin + self.reply_sweep_every;
                    open.retain(|c| now >= c.value.ship_by - near);
                }
                // Earliest deadline first; a run reads at most its share, and the next run
                // goes on where this one stopped (rotating by the run's number).
                open.sort_by(|a, b| {
                    (a.value.cancel_by, &a.value.order_id)
                        .cmp(&(b.value.cancel_by, &b.value.order_id))
                });
                let limit = self.reply_sweep_limit;
                if open.len() > limit {
                    let every = self.reply_sweep_every.as_secs().max(1);
                    let run = now.as_second().div_euclid(every) as usize;
                    let start = run.wrapping_mul(limit) % open.len();
                    open.rotate_left(start);
                    open.truncate(limit);
                    tracing::info!(limit, "more open cases than one run reads; rotating");
                }
                open
            }
        };
        let total = cases.len();
        for (i, vc) in cases.into_iter().enumerate() {
            if self.out_of_time() {
                report.left_for_next_run += (total - i) as u32;
                break;
            }
            if vc.value.state.is_terminal() {
                continue;
            }
            report.cases_checked += 1;
            let id = vc.value.order_id.clone();
            let step = async {
                let order = self.market.get_order(&id).await?;
                self.drive(vc, Input::OrderSeen(order), now, &mut report)
                    .await
                    .map(|_| ())
            };
            if let Err(e) = step.await {
                record_failure(&mut report, &id, &e);
            }
        }
        if let Some(open) = digest_of {
            self.daily_digest(&open, now, &mut report).await;
        }
        // The scheduled sweep also fetches Amazon's account-health figures when due.
        if order_id.is_none() && !self.out_of_time() {
            self.refresh_health(now).await;
        }
        Ok(report)
    }

    /// True from [`DIGEST_HOUR`] on, in the seller's time zone.
    fn digest_hour_reached(&self, now: Timestamp) -> bool {
        let Ok(tz) = jiff::tz::TimeZone::get(&self.settings.windows.time_zone) else {
            return false;
        };
        now.to_zoned(tz).hour() >= DIGEST_HOUR
    }

    /// Once a day (the first scheduled reply-detect run from [`DIGEST_HOUR`] local time): the
    /// digest of the open cases on the bus, for the seller's notices. Best effort: a failure is
    /// logged and counted, and the next run tries again only if the day was not claimed.
    async fn daily_digest(
        &self,
        open: &[kenzen_core::Case],
        now: Timestamp,
        report: &mut RunReport,
    ) {
        let Ok(tz) = jiff::tz::TimeZone::get(&self.settings.windows.time_zone) else {
            return;
        };
        let date = now.to_zoned(tz.clone()).strftime("%Y-%m-%d").to_string();
        match self.store.claim_digest(&date, now).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "daily digest not claimed; tried again next run");
                return;
            }
        }
        let text = kenzen_core::digest::digest_text(open, self.mode(), now, &tz);
        let event = DomainEvent::DailyDigest { text };
        if let Err(e) = self.publish(&[event], report).await {
            tracing::error!(error = %e, "daily digest not published");
            report.errors.push(format!("daily digest: {e}"));
        }
    }
}

/// The local hour from which the daily digest goes out.
pub const DIGEST_HOUR: i8 = 9;

/// How far behind now the poll's cursor may be before reply-detect reads every open case itself
/// (the poll runs every 10 minutes and searches up to a little over 2 minutes ago).
pub const POLL_BEHIND: SignedDuration = SignedDuration::from_mins(30);
