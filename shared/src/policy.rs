//! The send-time policy: when a message may go out, in the marketplace's local time.
//!
//! Quiet hours (default 21:00–08:00) are never used. Send slots (default 08:30, 12:30, 19:00)
//! divide the day into periods; every request message goes in a period not used yet for its
//! case, so a buyer who reads only in the evening is reached. The final-notice time is placed
//! before the ship-by deadline and out of quiet hours. Pure: the time zone comes from jiff's
//! bundled database, `now` from the caller.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A wall-clock time of day, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime {
    pub hour: i8,
    pub minute: i8,
}

impl LocalTime {
    pub const fn new(hour: i8, minute: i8) -> Self {
        Self { hour, minute }
    }

    pub(crate) fn minutes(self) -> i32 {
        i32::from(self.hour) * 60 + i32::from(self.minute)
    }

    fn time(self) -> Time {
        Time::constant(self.hour, self.minute, 0, 0)
    }
}

impl TryFrom<String> for LocalTime {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<LocalTime> for String {
    fn from(t: LocalTime) -> String {
        t.to_string()
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl std::str::FromStr for LocalTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a time of day like 08:30");
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        let hour: i8 = h.parse().map_err(|_| bad())?;
        let minute: i8 = m.parse().map_err(|_| bad())?;
        if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
            return Err(bad());
        }
        Ok(Self { hour, minute })
    }
}

/// The IANA time zone kenzen uses for a marketplace (its own local time; UTC for a marketplace
/// not in [`crate::marketplace`], which configuration refuses unless a time zone is set).
pub fn marketplace_time_zone(marketplace_id: &str) -> &'static str {
    crate::marketplace::find(marketplace_id).map_or("UTC", |m| m.time_zone)
}

/// The marketplace's time zone, resolved (UTC for one not in [`crate::marketplace`]).
pub fn marketplace_zone(marketplace_id: &str) -> TimeZone {
    TimeZone::get(marketplace_time_zone(marketplace_id)).unwrap_or(TimeZone::UTC)
}

/// The local calendar day of `t` at the marketplace: the day an order counts on, and the days
/// the seller report goes by.
pub fn marketplace_date(marketplace_id: &str, t: Timestamp) -> Date {
    t.to_zoned(marketplace_zone(marketplace_id)).date()
}

/// When messages may be sent, for one marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendWindows {
    /// IANA time zone name.
    pub time_zone: String,
    pub quiet_start: LocalTime,
    pub quiet_end: LocalTime,
    /// Slot start times, ascending, all outside quiet hours.
    pub slots: Vec<LocalTime>,
}

impl SendWindows {
    /// The defaults for a marketplace: quiet 21:00–08:00, slots 08:30, 12:30, 19:00.
    pub fn for_marketplace(marketplace_id: &str) -> Self {
        Self {
            time_zone: marketplace_time_zone(marketplace_id).into(),
            quiet_start: LocalTime::new(21, 0),
            quiet_end: LocalTime::new(8, 0),
            slots: vec![
                LocalTime::new(8, 30),
                LocalTime::new(12, 30),
                LocalTime::new(19, 0),
            ],
        }
    }

    /// Checks the windows make sense; the error says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        TimeZone::get(&self.time_zone)
            .map_err(|e| format!("unknown time zone {:?}: {e}", self.time_zone))?;
        if self.slots.is_empty() {
            return Err("at least one send slot is needed".into());
        }
        if self.slots.windows(2).any(|w| w[0] >= w[1]) {
            return Err("send slots must be in ascending order".into());
        }
        if let Some(s) = self.slots.iter().find(|s| self.quiet_at(**s)) {
            return Err(format!("send slot {s} falls in quiet hours"));
        }
        if self.quiet_start == self.quiet_end {
            return Err("quiet hours must not be empty or the whole day".into());
        }
        Ok(())
    }

    pub(crate) fn tz(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    pub(crate) fn quiet_at(&self, t: LocalTime) -> bool {
        let (m, s, e) = (
            t.minutes(),
            self.quiet_start.minutes(),
            self.quiet_end.minutes(),
        );
        if s > e {
            m >= s || m < e
        } else {
            m >= s && m < e
        }
    }

    fn local(&self, t: Timestamp) -> (Date, LocalTime) {
        let z = t.to_zoned(self.tz());
        (z.date(), LocalTime::new(z.hour(), z.minute()))
    }

    /// The local time of day of `t`.
    pub(crate) fn local_time(&self, t: Timestamp) -> LocalTime {
        self.local(t).1
    }

    fn at(&self, date: Date, t: LocalTime) -> Timestamp {
        date.to_datetime(t.time())
            .to_zoned(self.tz())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The local time of `t` as `HH:MM`, for notes.
    pub fn local_hhmm(&self, t: Timestamp) -> String {
        let (_, lt) = self.local(t);
        format!("{:02}:{:02}", lt.hour, lt.minute)
    }

    /// True when `t` is in quiet hours (local time).
    pub fn is_quiet(&self, t: Timestamp) -> bool {
        self.quiet_at(self.local(t).1)
    }

    /// `t` itself when it is outside quiet hours, else the end of the quiet period.
    pub fn next_open(&self, t: Timestamp) -> Timestamp {
        if !self.is_quiet(t) {
            return t;
        }
        let (date, lt) = self.local(t);
        let end_date = if lt.minutes() >= self.quiet_end.minutes() {
            date.tomorrow().unwrap_or(date)
        } else {
            date
        };
        self.at(end_date, self.quiet_end)
    }

    /// `t` itself when it is outside quiet hours, else the last open minute before the quiet
    /// period began.
    pub fn last_open_at_or_before(&self, t: Timestamp) -> Timestamp {
        if !self.is_quiet(t) {
            return t;
        }
        let (date, lt) = self.local(t);
        let start_date = if lt.minutes() >= self.quiet_start.minutes() {
            date
        } else {
            date.yesterday().unwrap_or(date)
        };
        self.at(start_date, self.quiet_start) - SignedDuration::from_mins(1)
    }

    /// The latest time at or before `t` from which there are still `lead` of open time before
    /// quiet hours begin, so sweeps running every few minutes are sure to act before the night.
    pub fn latest_send_at(&self, t: Timestamp, lead: SignedDuration) -> Timestamp {
        if self.is_quiet(t) {
            self.last_open_at_or_before(t) + SignedDuration::from_mins(1) - lead
        } else if self.is_quiet(t + lead) {
            self.last_open_at_or_before(t + lead) + SignedDuration::from_mins(1) - lead
        } else {
            t
        }
    }

    /// The slot whose period contains `t`: slot i runs from its start to the next slot's start
    /// (the last one until quiet hours); the open time before the first slot belongs to it.
    pub fn slot_of(&self, t: Timestamp) -> usize {
        let m = self.local(t).1.minutes();
        self.slots
            .iter()
            .rposition(|s| s.minutes() <= m)
            .unwrap_or(0)
    }

    /// The earliest slot start at or after `after` whose slot is not in `used` (any slot once
    /// all are used), before `before`. `None` when there is none.
    pub fn next_slot(&self, after: Timestamp, used: &[u8], before: Timestamp) -> Option<Timestamp> {
        let all_used = (0..self.slots.len()).all(|i| used.contains(&(i as u8)));
        let (mut date, _) = self.local(after);
        for _ in 0..31 {
            for (i, s) in self.slots.iter().enumerate() {
                let t = self.at(date, *s);
                if t >= after && (all_used || !used.contains(&(i as u8))) {
                    return (t < before).then_some(t);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The slot start at or after `t` (first slot of the next open period if `t` is quiet).
    pub fn first_send_at(&self, t: Timestamp) -> Timestamp {
        if self.is_quiet(t) {
            self.next_slot(t, &[], Timestamp::MAX).unwrap_or(t)
        } else {
            t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jp() -> SendWindows {
        SendWindows::for_marketplace("A1VC38T7YXB528")
    }

    /// A Tokyo wall-clock time.
    fn tokyo(s: &str) -> Timestamp {
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", s)
            .unwrap()
            .to_zoned(TimeZone::get("Asia/Tokyo").unwrap())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn an_order_placed_after_midnight_in_tokyo_counts_on_the_tokyo_day_not_the_utc_one() {
        let day = marketplace_date("A1VC38T7YXB528", tokyo("2026-12-02 00:30"));
        assert_eq!(day, jiff::civil::date(2026, 12, 2));
        // The same instant is still December 1 in UTC, and for a marketplace kenzen does not know.
        assert_eq!(
            marketplace_date("UNKNOWN", tokyo("2026-12-02 00:30")),
            jiff::civil::date(2026, 12, 1)
        );
    }

    #[test]
    fn quiet_hours_run_from_nine_in_the_evening_to_eight_in_the_morning_local_time() {
        let w = jp();
        assert!(!w.is_quiet(tokyo("2026-12-01 08:00")));
        assert!(!w.is_quiet(tokyo("2026-12-01 20:59")));
        assert!(w.is_quiet(tokyo("2026-12-01 21:00")));
        assert!(w.is_quiet(tokyo("2026-12-02 03:00")));
        assert!(w.is_quiet(tokyo("2026-12-02 07:59")));
        assert_eq!(
            w.next_open(tokyo("2026-12-01 23:00")),
            tokyo("2026-12-02 08:00")
        );
        assert_eq!(
            w.next_open(tokyo("2026-12-02 03:00")),
            tokyo("2026-12-02 08:00")
        );
        assert_eq!(
            w.last_open_at_or_before(tokyo("2026-12-02 03:00")),
            tokyo("2026-12-01 20:59")
        );
        assert_eq!(
            w.last_open_at_or_before(tokyo("2026-12-01 22:00")),
            tokyo("2026-12-01 20:59")
        );
    }

    #[test]
    fn the_latest_send_time_keeps_an_hour_before_the_night() {
        let w = jp();
        let hour = SignedDuration::from_hours(1);
        assert_eq!(
            w.latest_send_at(tokyo("2026-12-01 15:00"), hour),
            tokyo("2026-12-01 15:00")
        );
        assert_eq!(
            w.latest_send_at(tokyo("2026-12-01 20:30"), hour),
            tokyo("2026-12-01 20:00")
        );
        assert_eq!(
            w.latest_send_at(tokyo("2026-12-02 02:00"), hour),
            tokyo("2026-12-01 20:00")
        );
        assert_eq!(
            w.latest_send_at(tokyo("2026-12-02 07:30"), hour),
            tokyo("2026-12-01 20:00")
        );
    }

    #[test]
    fn resends_rotate_through_unused_slots() {
        let w = jp();
        assert_eq!(w.slot_of(tokyo("2026-12-01 08:10")), 0);
        assert_eq!(w.slot_of(tokyo("2026-12-01 12:30")), 1);
        assert_eq!(w.slot_of(tokyo("2026-12-01 20:00")), 2);
        let far = tokyo("2027-01-01 00:00");
        // First message at 09:10 (slot 0); three hours later the next unused slot is 12:30.
        assert_eq!(
            w.next_slot(tokyo("2026-12-01 12:10"), &[0], far),
            Some(tokyo("2026-12-01 12:30"))
        );
        // Slots 0 and 1 used: the evening slot, even if it is the next day's.
        assert_eq!(
            w.next_slot(tokyo("2026-12-01 20:00"), &[0, 1], far),
            Some(tokyo("2026-12-02 19:00"))
        );
        // Nothing before the limit.
        assert_eq!(
            w.next_slot(
                tokyo("2026-12-01 20:00"),
                &[0, 1],
                tokyo("2026-12-02 18:00")
            ),
            None
        );
        assert_eq!(
            w.first_send_at(tokyo("2026-12-01 23:00")),
            tokyo("2026-12-02 08:30")
        );
    }

    #[test]
    fn daylight_saving_is_followed_in_us_and_eu_marketplaces() {
        let us = SendWindows::for_marketplace("ATVPDKIKX0DER");
        // 2026-03-08 is the US spring-forward day: 08:30 local is 16:30Z the day before (PST,
        // UTC-8) and 15:30Z on the day (PDT, UTC-7).
        assert_eq!(
            us.next_slot(
                "2026-03-07T16:00:00Z".parse().unwrap(),
                &[1, 2],
                Timestamp::MAX
            ),
            Some("2026-03-07T16:30:00Z".parse().unwrap())
        );
        assert_eq!(
            us.next_slot(
                "2026-03-07T17:00:00Z".parse().unwrap(),
                &[1, 2],
                Timestamp::MAX
            ),
            Some("2026-03-08T15:30:00Z".parse().unwrap())
        );
        let de = SendWindows::for_marketplace("A1PA6795UKMFR9");
        // Summer (CEST, UTC+2): 21:00 local is 19:00Z.
        assert!(de.is_quiet("2026-07-01T19:00:00Z".parse().unwrap()));
        assert!(!de.is_quiet("2026-12-01T19:00:00Z".parse().unwrap()));
    }

    #[test]
    fn bad_windows_are_refused_with_a_reason() {
        let mut w = jp();
        w.slots = vec![LocalTime::new(22, 0)];
        assert!(w.validate().unwrap_err().contains("quiet"));
        let mut w = jp();
        w.slots.reverse();
        assert!(w.validate().is_err());
        let mut w = jp();
        w.time_zone = "Mars/Olympus".into();
        assert!(w.validate().is_err());
        assert!("25:00".parse::<LocalTime>().is_err());
        assert_eq!("08:30".parse::<LocalTime>().unwrap(), LocalTime::new(8, 30));
        jp().validate().unwrap();
    }
}
