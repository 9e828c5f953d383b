//! Weekdays and holidays: which kind of day a local date is at a marketplace, so send slots can
//! be learned apart for working days and days off.
//!
//! Saturdays and Sundays are days off everywhere. The Japanese marketplace also counts Japan's
//! public holidays; every other marketplace counts weekends only (kenzen keeps no holiday
//! calendar for them yet, so a Monday bank holiday in Britain is a weekday here).
//!
//! Japan's holidays are computed by the rules of the Public Holiday Act (国民の祝日に関する法律)
//! for the years 2000–2099, not read from a table: fixed dates, the Happy Monday days, the
//! equinoxes by the usual approximation formula, substitute holidays, citizens' holidays and the
//! one-off days of 2019–2021. Outside those years no date is a Japanese holiday. Pure: no clock,
//! no IO.

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

/// Working day or day off, at a marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// Monday to Friday, not a public holiday the marketplace counts.
    Weekday,
    /// Saturday, Sunday, or a public holiday the marketplace counts.
    Holiday,
}

impl std::fmt::Display for DayKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Weekday => "weekdays",
            Self::Holiday => "weekends and holidays",
        })
    }
}

/// The kind of `date` (a local date at the marketplace): a weekend is a [`DayKind::Holiday`]
/// everywhere, a Japanese public holiday only at the Japanese marketplace (the row of
/// [`crate::marketplace`] whose country is `JP`). Other marketplaces count weekends only.
pub fn day_kind(marketplace_id: &str, date: Date) -> DayKind {
    let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
    let japan = crate::marketplace::find(marketplace_id).is_some_and(|m| m.country == "JP");
    if weekend || (japan && is_japanese_holiday(date)) {
        DayKind::Holiday
    } else {
        DayKind::Weekday
    }
}

/// True when `date` is a Japanese public holiday: a national holiday (祝日), a substitute
/// holiday (振替休日) or a citizens' holiday (国民の休日). Computed for 2000–2099; `false` for
/// any other year.
///
/// The equinox days come from the standard approximation formula; the government fixes the
/// official dates each February for the following year, and the two may differ by a day in a
/// rare year late in the century.
pub fn is_japanese_holiday(date: Date) -> bool {
    (2000..=2099).contains(&date.year()) && (national(date) || substitute(date) || citizens(date))
}

/// A day named by the Act (or, in 2019–2021, by the special laws that moved or added days).
fn national(d: Date) -> bool {
    let (y, day) = (d.year(), d.day());
    let monday = |n: i8| d.weekday() == Weekday::Monday && (day - 1) / 7 + 1 == n;
    match d.month() {
        // New Year's Day; Coming of Age Day.
        1 => day == 1 || monday(2),
        // National Foundation Day; the Emperor's Birthday from 2020.
        2 => day == 11 || (day == 23 && y >= 2020),
        3 => day == vernal_equinox(y),
        // Greenery Day until 2006, Showa Day since.
        4 => day == 29,
        // Constitution Day, Greenery Day (a fixed day from 2007), Children's Day; the new
        // Emperor's accession on 2019-05-01.
        5 => day == 3 || day == 5 || (day == 4 && y >= 2007) || (y == 2019 && day == 1),
        // Marine Day (and, in the Olympic years, Sports Day moved into July).
        7 => match y {
            2020 => day == 23 || day == 24,
            2021 => day == 22 || day == 23,
            ..=2002 => day == 20,
            _ => monday(3),
        },
        // Mountain Day from 2016, moved in the Olympic years.
        8 => match y {
            2020 => day == 10,
            2021 => day == 8,
            2016.. => day == 11,
            _ => false,
        },
        // Respect for the Aged Day; Autumnal Equinox Day.
        9 => day == autumnal_equinox(y) || if y <= 2002 { day == 15 } else { monday(3) },
        // Sports Day (moved to July in 2020 and 2021); the enthronement ceremony of 2019.
        10 => (y != 2020 && y != 2021 && monday(2)) || (y == 2019 && day == 22),
        // Culture Day; Labour Thanksgiving Day.
        11 => day == 3 || day == 23,
        // The Emperor's Birthday until 2018.
        12 => day == 23 && y <= 2018,
        _ => false,
    }
}

/// 振替休日: a national holiday on a Sunday makes the next day that is not a national holiday a
/// day off (until 2006: only the Monday right after, when it was not a holiday itself).
fn substitute(d: Date) -> bool {
    if national(d) {
        return false;
    }
    let mut p = d.yesterday().ok();
    while let Some(day) = p.filter(|p| national(*p)) {
        if day.weekday() == Weekday::Sunday {
            return true;
        }
        if d.year() < 2007 {
            return false;
        }
        p = day.yesterday().ok();
    }
    false
}

/// 国民の休日: a day that is not a national holiday between two national holidays (until 2006:
/// not on a Sunday).
fn citizens(d: Date) -> bool {
    let before = d.yesterday().ok().is_some_and(national);
    let after = d.tomorrow().ok().is_some_and(national);
    before && after && !national(d) && !(d.year() < 2007 && d.weekday() == Weekday::Sunday)
}

/// The March day of the vernal equinox (JST), by the formula for 1980–2099:
/// ⌊20.8431 + 0.242194 (Y − 1980) − ⌊(Y − 1980) / 4⌋⌋, in millionths to stay exact.
fn vernal_equinox(year: i16) -> i8 {
    equinox_day(20_843_100, year)
}

/// The September day of the autumnal equinox (JST): as [`vernal_equinox`] with 23.2488.
fn autumnal_equinox(year: i16) -> i8 {
    equinox_day(23_248_800, year)
}

fn equinox_day(base_millionths: i64, year: i16) -> i8 {
    let n = i64::from(year) - 1980;
    let day = (base_millionths + 242_194 * n - 1_000_000 * n.div_euclid(4)).div_euclid(1_000_000);
    i8::try_from(day).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const JP: &str = "A1VC38T7YXB528";
    const US: &str = "ATVPDKIKX0DER";

    fn holidays_of(year: i16) -> Vec<(i8, i8)> {
        let mut d = date(year, 1, 1);
        let mut out = vec![];
        while d.year() == year {
            if is_japanese_holiday(d) {
                out.push((d.month(), d.day()));
            }
            d = d.tomorrow().unwrap();
        }
        out
    }

    #[test]
    fn the_holidays_of_2024_to_2027_are_exactly_the_published_ones() {
        let y2024 = [
            (1, 1),
            (1, 8),
            (2, 11),
            (2, 12),
            (2, 23),
            (3, 20),
            (4, 29),
            (5, 3),
            (5, 4),
            (5, 5),
            (5, 6),
            (7, 15),
            (8, 11),
            (8, 12),
            (9, 16),
            (9, 22),
            (9, 23),
            (10, 14),
            (11, 3),
            (11, 4),
            (11, 23),
        ];
        let y2025 = [
            (1, 1),
            (1, 13),
            (2, 11),
            (2, 23),
            (2, 24),
            (3, 20),
            (4, 29),
            (5, 3),
            (5, 4),
            (5, 5),
            (5, 6),
            (7, 21),
            (8, 11),
            (9, 15),
            (9, 23),
            (10, 13),
            (11, 3),
            (11, 23),
            (11, 24),
        ];
        let y2026 = [
            (1, 1),
            (1, 12),
            (2, 11),
            (2, 23),
            (3, 20),
            (4, 29),
            (5, 3),
            (5, 4),
            (5, 5),
            (5, 6),
            (7, 20),
            (8, 11),
            (9, 21),
            (9, 22),
            (9, 23),
            (10, 12),
            (11, 3),
            (11, 23),
        ];
        let y2027 = [
            (1, 1),
            (1, 11),
            (2, 11),
            (2, 23),
            (3, 21),
            (3, 22),
            (4, 29),
            (5, 3),
            (5, 4),
            (5, 5),
            (7, 19),
            (8, 11),
            (9, 20),
            (9, 23),
            (10, 11),
            (11, 3),
            (11, 23),
        ];
        assert_eq!(holidays_of(2024), y2024);
        assert_eq!(holidays_of(2025), y2025);
        assert_eq!(holidays_of(2026), y2026);
        assert_eq!(holidays_of(2027), y2027);
    }

    #[test]
    fn a_sunday_holiday_moves_to_the_next_day_that_is_not_a_holiday() {
        // Labour Thanksgiving Day 2025 is a Sunday: Monday the 24th is off.
        assert_eq!(date(2025, 11, 23).weekday(), Weekday::Sunday);
        assert!(is_japanese_holiday(date(2025, 11, 24)));
        // Constitution Day 2026 is a Sunday; the 4th and 5th are holidays, so the 6th is off.
        assert_eq!(date(2026, 5, 3).weekday(), Weekday::Sunday);
        assert!(is_japanese_holiday(date(2026, 5, 6)));
        // The Emperor's Birthday on Sunday 2018-12-23, the last one in December.
        assert!(is_japanese_holiday(date(2018, 12, 24)));
        assert!(!is_japanese_holiday(date(2019, 12, 23)));
        assert!(is_japanese_holiday(date(2020, 2, 24)));
        // Until 2006 only the Monday right after counted: 2003-05-04 fell on a Sunday between
        // two holidays and gave no day off (neither itself nor the 6th).
        assert_eq!(date(2003, 5, 4).weekday(), Weekday::Sunday);
        assert!(!is_japanese_holiday(date(2003, 5, 4)));
        assert!(!is_japanese_holiday(date(2003, 5, 6)));
    }

    #[test]
    fn a_weekday_between_two_holidays_is_a_citizens_holiday() {
        assert!(is_japanese_holiday(date(2026, 9, 22)));
        assert!(is_japanese_holiday(date(2015, 9, 22)));
        assert!(is_japanese_holiday(date(2009, 9, 22)));
        // Before Greenery Day moved to May 4 in 2007, the 4th was off as a sandwiched day.
        assert!(is_japanese_holiday(date(2006, 5, 4)));
        // The ten days off around the 2019 accession: the 30th and the 2nd are sandwiched.
        for d in [29, 30] {
            assert!(is_japanese_holiday(date(2019, 4, d)));
        }
        for d in 1..=6 {
            assert!(is_japanese_holiday(date(2019, 5, d)), "2019-05-{d}");
        }
        assert!(is_japanese_holiday(date(2019, 10, 22)));
    }

    #[test]
    fn the_olympic_years_moved_marine_sports_and_mountain_days() {
        for (m, d) in [(7, 23), (7, 24), (8, 10)] {
            assert!(is_japanese_holiday(date(2020, m, d)), "2020-{m}-{d}");
        }
        for (m, d) in [(7, 20), (8, 11), (10, 12)] {
            assert!(!is_japanese_holiday(date(2020, m, d)), "2020-{m}-{d}");
        }
        // Mountain Day 2021 on a Sunday: the 9th is its substitute.
        for (m, d) in [(7, 22), (7, 23), (8, 8), (8, 9)] {
            assert!(is_japanese_holiday(date(2021, m, d)), "2021-{m}-{d}");
        }
        for (m, d) in [(7, 19), (8, 11), (10, 11)] {
            assert!(!is_japanese_holiday(date(2021, m, d)), "2021-{m}-{d}");
        }
    }

    #[test]
    fn marine_and_respect_for_the_aged_days_were_fixed_dates_until_2002() {
        assert!(is_japanese_holiday(date(2001, 7, 20)));
        assert!(is_japanese_holiday(date(2002, 9, 16))); // 15th a Sunday
        assert!(is_japanese_holiday(date(2003, 7, 21)));
        assert!(is_japanese_holiday(date(2003, 9, 15)));
        assert!(!is_japanese_holiday(date(2015, 8, 11)));
        assert!(is_japanese_holiday(date(2016, 8, 11)));
    }

    #[test]
    fn the_equinoxes_follow_the_formula_and_years_outside_the_range_have_no_holidays() {
        assert_eq!((vernal_equinox(2025), autumnal_equinox(2025)), (20, 23));
        assert_eq!((vernal_equinox(2012), autumnal_equinox(2012)), (20, 22));
        assert_eq!((vernal_equinox(2024), autumnal_equinox(2024)), (20, 22));
        assert!(!is_japanese_holiday(date(1999, 1, 1)));
        assert!(!is_japanese_holiday(date(2100, 1, 1)));
        assert!(is_japanese_holiday(date(2099, 1, 1)));
    }

    #[test]
    fn every_year_of_the_range_has_a_plausible_calendar() {
        for year in 2000..=2099 {
            assert!((19..=21).contains(&vernal_equinox(year)), "{year}");
            assert!((22..=24).contains(&autumnal_equinox(year)), "{year}");
            let days = holidays_of(year);
            assert!((14..=22).contains(&days.len()), "{year}: {}", days.len());
            for (m, d) in days {
                let day = date(year, m, d);
                // A day off that is not named by the Act is never a Sunday after 2006.
                if !national(day) && year >= 2007 {
                    assert_ne!(day.weekday(), Weekday::Sunday, "{day}");
                }
            }
        }
    }

    #[test]
    fn only_the_japanese_marketplace_counts_japanese_holidays() {
        let equinox = date(2025, 3, 20); // a Thursday
        assert_eq!(day_kind(JP, equinox), DayKind::Holiday);
        assert_eq!(day_kind(US, equinox), DayKind::Weekday);
        assert_eq!(day_kind("UNKNOWN", equinox), DayKind::Weekday);
        let saturday = date(2025, 3, 22);
        assert_eq!(day_kind(US, saturday), DayKind::Holiday);
        assert_eq!(day_kind(JP, date(2025, 3, 21)), DayKind::Weekday);
    }
}
