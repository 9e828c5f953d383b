//! Learned send slots: from the seller's own history, the times of day at which buyers most
//! often answered a message with Amazon's cancellation request, per marketplace and kind of day.
//!
//! The rules, all deterministic (the same observations in any order give the same slots):
//! - A message counts as answered when the buyer's request came within [`RESPONSE_HORIZON`]
//!   after it.
//! - Each message falls in the half-hour of the local clock it was sent in (in the time zone of
//!   the [`SendWindows`], normally the marketplace's), on a weekday or a day off
//!   ([`DayKind`]). Messages sent in what are now quiet hours are not counted.
//! - With fewer than `min_observations` counted messages (usually [`MIN_OBSERVATIONS`]), or
//!   when no half-hour can be chosen yet, the configured slots come back (the first `cap` of
//!   them) and the result says it is a fallback.
//! - A half-hour can be chosen once it has [`MIN_BAND_MESSAGES`] messages and at least one
//!   was answered. Half-hours are ranked by the lower end of the 90% Wilson score interval of
//!   their response rate, a cautious estimate that rises with evidence: 1 answer of 1 message
//!   ranks below 40 of 100, and 0 of 5 below 10 of 100. Equal scores go to the earlier time.
//! - Going down the ranking, a half-hour is taken when it is at least [`MIN_SPACING`] from every
//!   slot taken so far (on the clock, across midnight too), until there are as many slots as
//!   configured or as the cap allows. Its slot starts at its first open minute.
//! - Configured slots fill what is left, in their order, under the same spacing rule.
//!
//! A half-hour's score depends on its own two counts only, and one more answered message raises
//! it; so more good evidence for a chosen half-hour never makes it drop out.
//!
//! This module decides and explains; it stores nothing, reads no clock and knows nothing of a
//! buyer: the explanations carry counts and times only.

use jiff::{SignedDuration, Timestamp};

use crate::holidays::{DayKind, day_kind};
use crate::policy::{LocalTime, SendWindows};

/// A request counts as the answer to a message when it came within 24 hours after it.
pub const RESPONSE_HORIZON: SignedDuration = SignedDuration::from_hours(24);

/// The usual minimum of counted messages (for a marketplace and kind of day) before slots are
/// learned rather than configured: 30, about a month of a small seller's weekday messages.
pub const MIN_OBSERVATIONS: usize = 30;

/// A half-hour needs at least 5 messages of its own to be chosen.
pub const MIN_BAND_MESSAGES: usize = 5;

/// Chosen slots are at least 3 hours apart on the clock, so each is its own part of the day
/// (and a resend in the next slot respects kenzen's default gap between two messages).
pub const MIN_SPACING: SignedDuration = SignedDuration::from_hours(3);

const BAND_MINUTES: i32 = 30;
const BANDS: usize = 24 * 60 / BAND_MINUTES as usize;
/// The normal quantile of the 90% two-sided (95% one-sided) interval.
const WILSON_Z: f64 = 1.645;

/// One message Amazon accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub marketplace_id: String,
    /// When the message went out.
    pub sent_at: Timestamp,
    /// When the buyer's official cancellation request was first seen after this message, if it
    /// was seen before the case's next message. The caller pairs each request with the last
    /// message before it, so one request never counts for two messages.
    pub request_at: Option<Timestamp>,
}

impl Observation {
    fn answered(&self) -> bool {
        self.request_at.is_some_and(|r| {
            r >= self.sent_at && r.duration_since(self.sent_at) <= RESPONSE_HORIZON
        })
    }
}

/// One slot [`learn`] chose, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenSlot {
    pub at: LocalTime,
    /// True when chosen from the history, false when kept from the configured slots.
    pub learned: bool,
    /// One line for the case timeline, e.g. `slot 19:00 chosen: 7 of 12 messages sent
    /// 19:00–19:30 on weekdays were followed by a cancellation request within 24 h (all
    /// messages on weekdays: 40 of 130)`.
    pub explanation: String,
}

/// What [`learn`] chose: at least one slot, ascending, none in quiet hours, no more than the
/// configured slots nor the cap; when not a fallback, every two at least [`MIN_SPACING`] apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedSlots {
    pub slots: Vec<ChosenSlot>,
    /// True when the history was too thin and these are the configured slots (the first `cap`
    /// of them).
    pub fallback: bool,
    windows: SendWindows,
}

impl LearnedSlots {
    /// The send windows to use: the chosen slots with the quiet hours and time zone learned
    /// against. Valid whenever those windows were.
    pub fn send_windows(&self) -> SendWindows {
        self.windows.clone()
    }

    /// The chosen slot whose half-hour (the band its evidence is about) holds `t`'s local time:
    /// the slot a message sent at `t` went out in. `None` between slots, as for a first
    /// request sent when the order is found.
    pub fn slot_at(&self, t: Timestamp) -> Option<&ChosenSlot> {
        let m = self.windows.local_time(t).minutes();
        self.slots
            .iter()
            .find(|s| (0..BAND_MINUTES).contains(&(m - s.at.minutes())))
    }
}

/// The send slots for `marketplace_id` on days of `kind`, learned from `observations` (any
/// order; those of other marketplaces and other kinds of day are ignored) within `windows`,
/// which must be valid ([`SendWindows::validate`]). At most `cap` slots (at least one) and no
/// more than `windows` has. See the module documentation for the rules.
pub fn learn(
    windows: &SendWindows,
    marketplace_id: &str,
    kind: DayKind,
    observations: &[Observation],
    min_observations: usize,
    cap: usize,
) -> LearnedSlots {
    let wanted = windows.slots.len().min(cap.max(1));
    let tz = windows.tz();
    let mut bands = [Tally::default(); BANDS];
    let mut all = Tally::default();
    for o in observations
        .iter()
        .filter(|o| o.marketplace_id == marketplace_id)
    {
        let local = o.sent_at.to_zoned(tz.clone());
        let at = LocalTime::new(local.hour(), local.minute());
        if windows.quiet_at(at) || day_kind(marketplace_id, local.date()) != kind {
            continue;
        }
        bands[band_of(at)].add(o.answered());
        all.add(o.answered());
    }
    let seen = messages(all.messages);
    if all.messages < min_observations {
        let why = format!("{seen} on {kind} so far, learning needs at least {min_observations}");
        return configured(windows, wanted, &why);
    }

    let mut ranked: Vec<(usize, LocalTime, Tally)> = bands
        .iter()
        .enumerate()
        .filter(|(_, t)| t.messages >= MIN_BAND_MESSAGES && t.responses > 0)
        .filter_map(|(k, t)| Some((k, first_open(windows, k)?, *t)))
        .collect();
    ranked.sort_by(|a, b| b.2.score().total_cmp(&a.2.score()).then(a.1.cmp(&b.1)));

    let mut chosen: Vec<ChosenSlot> = vec![];
    for (k, at, t) in ranked {
        if chosen.len() == wanted {
            break;
        }
        if chosen.iter().all(|c| apart(c.at, at)) {
            let end = hhmm((k as i32 + 1) * BAND_MINUTES);
            let explanation = format!(
                "slot {at} chosen: {} of {} messages sent {at}–{end} on {kind} were followed by \
                 a cancellation request within {} h (all messages on {kind}: {} of {})",
                t.responses,
                t.messages,
                RESPONSE_HORIZON.as_hours(),
                all.responses,
                all.messages,
            );
            chosen.push(ChosenSlot {
                at,
                learned: true,
                explanation,
            });
        }
    }
    if chosen.is_empty() {
        let why = format!(
            "{seen} on {kind}, but no half-hour has {MIN_BAND_MESSAGES} messages with a \
             request after one yet"
        );
        return configured(windows, wanted, &why);
    }
    for &at in &windows.slots {
        if chosen.len() == wanted {
            break;
        }
        if chosen.iter().all(|c| apart(c.at, at)) {
            let explanation = format!(
                "slot {at} kept from the configured slots: no other half-hour {} h or more from \
                 the learned slots has {MIN_BAND_MESSAGES} messages with a request after one yet",
                MIN_SPACING.as_hours()
            );
            chosen.push(ChosenSlot {
                at,
                learned: false,
                explanation,
            });
        }
    }
    chosen.sort_by_key(|c| c.at);
    finish(windows, chosen, false)
}

/// The first `wanted` configured slots, each with `why`.
fn configured(windows: &SendWindows, wanted: usize, why: &str) -> LearnedSlots {
    let slots = windows
        .slots
        .iter()
        .take(wanted)
        .map(|&at| ChosenSlot {
            at,
            learned: false,
            explanation: format!("slot {at} kept from the configured slots: {why}"),
        })
        .collect();
    finish(windows, slots, true)
}

fn finish(windows: &SendWindows, slots: Vec<ChosenSlot>, fallback: bool) -> LearnedSlots {
    let windows = SendWindows {
        slots: slots.iter().map(|c| c.at).collect(),
        ..windows.clone()
    };
    LearnedSlots {
        slots,
        fallback,
        windows,
    }
}

/// Messages and answered messages in one half-hour (or in all of them).
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    messages: usize,
    responses: usize,
}

impl Tally {
    fn add(&mut self, answered: bool) {
        self.messages += 1;
        self.responses += usize::from(answered);
    }

    /// The lower end of the Wilson score interval of the response rate (0 with no messages).
    fn score(self) -> f64 {
        if self.messages == 0 {
            return 0.0;
        }
        let n = self.messages as f64;
        let p = self.responses as f64 / n;
        let z2 = WILSON_Z * WILSON_Z;
        let spread = WILSON_Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        (p + z2 / (2.0 * n) - spread) / (1.0 + z2 / n)
    }
}

fn band_of(at: LocalTime) -> usize {
    (at.minutes() / BAND_MINUTES) as usize
}

/// The first minute of half-hour `k` outside quiet hours.
fn first_open(windows: &SendWindows, k: usize) -> Option<LocalTime> {
    let start = k as i32 * BAND_MINUTES;
    (start..start + BAND_MINUTES)
        .map(|m| LocalTime::new((m / 60) as i8, (m % 60) as i8))
        .find(|t| !windows.quiet_at(*t))
}

/// True when `a` and `b` are at least [`MIN_SPACING`] apart on the clock, either way round.
fn apart(a: LocalTime, b: LocalTime) -> bool {
    let d = (a.minutes() - b.minutes()).abs();
    i64::from(d.min(24 * 60 - d)) >= MIN_SPACING.as_mins()
}

fn hhmm(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn messages(n: usize) -> String {
    if n == 1 {
        "1 message".into()
    } else {
        format!("{n} messages")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Date, date};
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    const JP: &str = "A1VC38T7YXB528";
    const US: &str = "ATVPDKIKX0DER";

    fn jp() -> SendWindows {
        SendWindows::for_marketplace(JP)
    }

    fn at(windows: &SendWindows, day: Date, t: LocalTime) -> Option<Timestamp> {
        let z = day
            .at(t.hour, t.minute, 0, 0)
            .to_zoned(TimeZone::get(&windows.time_zone).ok()?)
            .ok()?;
        (z.hour() == t.hour && z.minute() == t.minute).then(|| z.timestamp())
    }

    /// `n` messages at `hh:mm` Tokyo time on consecutive weekdays from 2026-12-01 (no Japanese
    /// holiday among them), the first `answered` of them answered an hour later.
    fn tokyo_weekdays(hh: i8, mm: i8, n: usize, answered: usize) -> Vec<Observation> {
        let w = jp();
        let mut day = date(2026, 12, 1);
        let mut out = vec![];
        while out.len() < n {
            if day_kind(JP, day) == DayKind::Weekday {
                let sent_at = at(&w, day, LocalTime::new(hh, mm)).unwrap();
                out.push(Observation {
                    marketplace_id: JP.into(),
                    sent_at,
                    request_at: (out.len() < answered)
                        .then(|| sent_at + SignedDuration::from_hours(1)),
                });
            }
            day = day.tomorrow().unwrap();
        }
        out
    }

    fn times(r: &LearnedSlots) -> Vec<String> {
        r.slots.iter().map(|c| c.at.to_string()).collect()
    }

    #[test]
    fn too_few_messages_give_back_the_configured_slots_and_say_how_many() {
        let obs = tokyo_weekdays(19, 5, 12, 7);
        let r = learn(&jp(), JP, DayKind::Weekday, &obs, MIN_OBSERVATIONS, 3);
        assert!(r.fallback);
        assert_eq!(times(&r), ["08:30", "12:30", "19:00"]);
        assert_eq!(
            r.slots[0].explanation,
            "slot 08:30 kept from the configured slots: 12 messages on weekdays so far, \
             learning needs at least 30"
        );
        assert_eq!(r.send_windows(), jp());
        // The cap keeps the first configured slots.
        let r = learn(&jp(), JP, DayKind::Weekday, &obs, MIN_OBSERVATIONS, 2);
        assert_eq!(times(&r), ["08:30", "12:30"]);
    }

    #[test]
    fn a_message_is_in_a_slot_only_within_the_half_hour_the_evidence_is_about() {
        let obs = [tokyo_weekdays(19, 5, 12, 7), tokyo_weekdays(11, 10, 10, 6)].concat();
        let r = learn(&jp(), JP, DayKind::Weekday, &obs, 20, 3);
        assert_eq!(times(&r), ["11:00", "19:00"]);
        let day = date(2026, 12, 1);
        let slot_at = |hh, mm| {
            r.slot_at(at(&jp(), day, LocalTime::new(hh, mm)).unwrap())
                .map(|c| c.at.to_string())
        };
        assert_eq!(slot_at(11, 0).as_deref(), Some("11:00"));
        assert_eq!(slot_at(11, 29).as_deref(), Some("11:00"));
        assert_eq!(slot_at(19, 10).as_deref(), Some("19:00"));
        assert_eq!(slot_at(11, 30), None);
        assert_eq!(slot_at(16, 40), None, "between slots");
        assert_eq!(slot_at(10, 59), None);
    }

    #[test]
    fn the_best_answered_half_hours_are_chosen_three_hours_apart_and_explained() {
        let obs = [
            tokyo_weekdays(19, 5, 12, 7),
            tokyo_weekdays(11, 10, 10, 6),
            tokyo_weekdays(10, 10, 20, 10),
            tokyo_weekdays(8, 35, 20, 2),
        ]
        .concat();
        let r = learn(&jp(), JP, DayKind::Weekday, &obs, MIN_OBSERVATIONS, 3);
        assert!(!r.fallback);
        // 10:00 ranks third but is an hour from 11:00; 08:30 and every configured slot left
        // are within three hours of a learned one, so two slots it is.
        assert_eq!(times(&r), ["11:00", "19:00"]);
        assert!(r.slots.iter().all(|c| c.learned));
        assert_eq!(
            r.slots[1].explanation,
            "slot 19:00 chosen: 7 of 12 messages sent 19:00–19:30 on weekdays were followed by \
             a cancellation request within 24 h (all messages on weekdays: 25 of 62)"
        );
        let w = r.send_windows();
        w.validate().unwrap();
        assert_eq!(
            (w.quiet_start, w.quiet_end),
            (jp().quiet_start, jp().quiet_end)
        );
        // The same history says nothing about days off.
        assert!(learn(&jp(), JP, DayKind::Holiday, &obs, 30, 3).fallback);
    }

    #[test]
    fn configured_slots_fill_what_the_history_cannot() {
        let obs = [tokyo_weekdays(15, 0, 30, 12), tokyo_weekdays(8, 35, 4, 4)].concat();
        let r = learn(&jp(), JP, DayKind::Weekday, &obs, MIN_OBSERVATIONS, 2);
        assert!(!r.fallback);
        // 08:30 has a perfect record but only 4 messages: kept as configured, not learned.
        assert_eq!(times(&r), ["08:30", "15:00"]);
        assert!(!r.slots[0].learned && r.slots[1].learned);
        assert!(
            r.slots[0]
                .explanation
                .starts_with("slot 08:30 kept from the configured slots")
        );
        // 12:30 is within three hours of 15:00; 19:00 is four hours after it. No more than the
        // three configured, however high the cap.
        for cap in [3, 5] {
            let r = learn(&jp(), JP, DayKind::Weekday, &obs, MIN_OBSERVATIONS, cap);
            assert_eq!(times(&r), ["08:30", "15:00", "19:00"]);
        }
    }

    #[test]
    fn a_history_without_any_answered_half_hour_keeps_the_configured_slots() {
        let obs = tokyo_weekdays(15, 0, 40, 0);
        let r = learn(&jp(), JP, DayKind::Weekday, &obs, MIN_OBSERVATIONS, 3);
        assert!(r.fallback);
        assert_eq!(times(&r), ["08:30", "12:30", "19:00"]);
        assert!(
            r.slots[2]
                .explanation
                .contains("40 messages on weekdays, but no half-hour")
        );
    }

    #[test]
    fn a_small_perfect_record_does_not_outrank_a_large_steady_one() {
        let t = |responses, messages| Tally {
            messages,
            responses,
        };
        assert!(t(1, 1).score() < t(40, 100).score());
        assert!(t(0, 5).score() < t(10, 100).score());
        assert!(t(7, 12).score() < t(8, 13).score());
    }

    #[test]
    fn only_a_request_within_a_day_after_the_message_counts_as_its_answer() {
        let sent_at: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let o = |request_at| Observation {
            marketplace_id: JP.into(),
            sent_at,
            request_at,
        };
        assert!(o(Some(sent_at + RESPONSE_HORIZON)).answered());
        assert!(o(Some(sent_at)).answered());
        assert!(
            !o(Some(
                sent_at + RESPONSE_HORIZON + SignedDuration::from_secs(1)
            ))
            .answered()
        );
        assert!(!o(Some(sent_at - SignedDuration::from_secs(1))).answered());
        assert!(!o(None).answered());
    }

    #[test]
    fn japanese_holidays_and_quiet_hours_are_not_counted_as_weekday_messages() {
        let w = jp();
        // 2025-11-24, a Monday, is a substitute holiday in Japan.
        let holiday = at(&w, date(2025, 11, 24), LocalTime::new(15, 0)).unwrap();
        let night = at(&w, date(2025, 11, 25), LocalTime::new(22, 0)).unwrap();
        let obs: Vec<Observation> = [holiday, night]
            .iter()
            .map(|&sent_at| Observation {
                marketplace_id: JP.into(),
                sent_at,
                request_at: None,
            })
            .collect();
        let count = |kind| {
            learn(&w, JP, kind, &obs, 100, 3).slots[0]
                .explanation
                .clone()
        };
        assert!(count(DayKind::Weekday).contains(": 0 messages on weekdays"));
        assert!(count(DayKind::Holiday).contains(": 1 message on weekends and holidays"));
    }

    // Properties.

    fn windows() -> impl Strategy<Value = SendWindows> {
        let tz = prop::sample::select(vec![
            "Asia/Tokyo",
            "America/Los_Angeles",
            "Europe/Berlin",
            "UTC",
        ]);
        let minute = 0..24 * 60i32;
        let lt = |m: i32| LocalTime::new((m / 60) as i8, (m % 60) as i8);
        (
            tz,
            minute.clone(),
            minute.clone(),
            prop::collection::vec(minute, 1..6),
        )
            .prop_filter_map("no open slot", move |(tz, qs, qe, slots)| {
                let mut w = SendWindows {
                    time_zone: tz.into(),
                    quiet_start: lt(qs),
                    quiet_end: lt(qe),
                    slots: vec![],
                };
                w.slots = slots
                    .into_iter()
                    .map(lt)
                    .filter(|s| !w.quiet_at(*s))
                    .collect();
                w.slots.sort();
                w.slots.dedup();
                w.validate().is_ok().then_some(w)
            })
    }

    /// Messages over four months, mostly to the Japanese marketplace, mostly at a few times of
    /// day (so half-hours fill up), some answered, some answered too late or too early.
    fn observations() -> impl Strategy<Value = Vec<Observation>> {
        let minute = prop_oneof![
            3 => prop::sample::select(vec![510, 545, 660, 750, 905, 1140, 1205]),
            1 => 0..24 * 60i64,
        ];
        let answer = prop_oneof![
            2 => Just(None),
            2 => (0..6 * 60i64).prop_map(Some),
            1 => (-120..3000i64).prop_map(Some),
        ];
        let one = (
            prop::sample::select(vec![JP, JP, JP, US]),
            0..120i64,
            minute,
            answer,
        )
            .prop_map(|(mp, day, minute, answer)| {
                let base: Timestamp = "2025-12-01T00:00:00Z".parse().unwrap();
                let sent_at =
                    base + SignedDuration::from_hours(24 * day) + SignedDuration::from_mins(minute);
                Observation {
                    marketplace_id: mp.into(),
                    sent_at,
                    request_at: answer.map(|m| sent_at + SignedDuration::from_mins(m)),
                }
            });
        prop::collection::vec(one, 0..300)
    }

    fn kind() -> impl Strategy<Value = DayKind> {
        prop::sample::select(vec![DayKind::Weekday, DayKind::Holiday])
    }

    fn marketplace() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![JP, JP, US])
    }

    fn circular_gap(a: LocalTime, b: LocalTime) -> i32 {
        let d = (a.minutes() - b.minutes()).abs();
        d.min(24 * 60 - d)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn learned_slots_always_make_valid_windows_within_the_cap(
            w in windows(), mp in marketplace(), kind in kind(), obs in observations(),
            min in 0..60usize, cap in 0..6usize,
        ) {
            let r = learn(&w, mp, kind, &obs, min, cap);
            let out = r.send_windows();
            prop_assert!(out.validate().is_ok(), "{out:?}");
            prop_assert_eq!(
                (&out.time_zone, out.quiet_start, out.quiet_end),
                (&w.time_zone, w.quiet_start, w.quiet_end)
            );
            prop_assert_eq!(&out.slots, &r.slots.iter().map(|c| c.at).collect::<Vec<_>>());
            prop_assert!(!r.slots.is_empty());
            prop_assert!(r.slots.len() <= w.slots.len().min(cap.max(1)));
            if r.fallback {
                prop_assert_eq!(&out.slots[..], &w.slots[..r.slots.len()]);
                prop_assert!(r.slots.iter().all(|c| !c.learned));
            } else {
                for (i, a) in r.slots.iter().enumerate() {
                    for b in &r.slots[i + 1..] {
                        prop_assert!(circular_gap(a.at, b.at) >= 180, "{:?}", r.slots);
                    }
                }
                prop_assert!(r.slots.iter().any(|c| c.learned));
            }
            for c in &r.slots {
                let head = format!("slot {} ", c.at);
                prop_assert!(c.explanation.starts_with(&head), "{}", c.explanation);
                prop_assert!(!c.explanation.contains(mp));
            }
        }

        #[test]
        fn learning_does_not_depend_on_the_order_of_the_history_or_other_marketplaces(
            w in windows(), kind in kind(), obs in observations(),
            order in any::<prop::sample::Index>(), min in 0..60usize, cap in 0..6usize,
        ) {
            let r = learn(&w, JP, kind, &obs, min, cap);
            let mut shuffled = obs.clone();
            shuffled.reverse();
            if !shuffled.is_empty() {
                let k = order.index(shuffled.len());
                shuffled.rotate_left(k);
            }
            prop_assert_eq!(&learn(&w, JP, kind, &shuffled, min, cap), &r);
            let jp_only: Vec<Observation> =
                obs.iter().filter(|o| o.marketplace_id == JP).cloned().collect();
            prop_assert_eq!(&learn(&w, JP, kind, &jp_only, min, cap), &r);
        }

        #[test]
        fn with_fewer_messages_than_the_minimum_the_configured_slots_come_back(
            w in windows(), mp in marketplace(), kind in kind(), obs in observations(),
            extra in 1..50usize, cap in 0..6usize,
        ) {
            let r = learn(&w, mp, kind, &obs, obs.len() + extra, cap);
            prop_assert!(r.fallback);
            let wanted = w.slots.len().min(cap.max(1));
            prop_assert_eq!(r.send_windows().slots, w.slots[..wanted].to_vec());
        }

        #[test]
        fn one_more_answered_message_in_a_chosen_half_hour_keeps_it_chosen(
            w in windows(), kind in kind(), obs in observations(),
            min in 0..60usize, cap in 0..6usize,
        ) {
            let before = learn(&w, JP, kind, &obs, min, cap);
            for slot in before.slots.iter().filter(|c| c.learned) {
                let mut day = date(2025, 12, 1);
                let sent_at = loop {
                    if day_kind(JP, day) == kind
                        && let Some(t) = at(&w, day, slot.at)
                    {
                        break t;
                    }
                    day = day.tomorrow().unwrap();
                };
                let mut more = obs.clone();
                more.push(Observation {
                    marketplace_id: JP.into(),
                    sent_at,
                    request_at: Some(sent_at + SignedDuration::from_hours(1)),
                });
                let after = learn(&w, JP, kind, &more, min, cap);
                prop_assert!(
                    after.slots.iter().any(|c| c.learned && c.at == slot.at),
                    "{} dropped: {:?} -> {:?}", slot.at, times(&before), times(&after)
                );
            }
        }
    }
}
