//! The outcome lab's buyer population: the data file `tests/outcomes/population.toml`, and the
//! seeded draws made from it (who reads, when a message is noticed, who requests the cancel and
//! when; when orders come in and their ship-by).
//!
//! Every draw comes from a ChaCha stream named by (seed, order, message), so a buyer draws the
//! same numbers under every policy (common random numbers): a difference between policies is
//! the policy's, not the dice's. It knows nothing of kenzen or the simulator: it answers "when
//! does this buyer read a message that arrived at this time".

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kenzen_core::holidays::{DayKind, day_kind};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::Deserialize;

/// The population file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Share of buyers who never read a seller's message.
    pub never_read: f64,
    pub checks: Checks,
    pub compliance: Compliance,
    pub orders: Orders,
}

/// When buyers look at their mail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    pub per_day_median: f64,
    pub per_day_spread: f64,
    /// Relative weights by local hour, 24 each.
    pub weekday: Vec<f64>,
    pub holiday: Vec<f64>,
    /// (age in hours, chance a look notices the message), ascending ages.
    pub notice: Vec<(f64, f64)>,
}

/// What a buyer does after reading a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    pub first: f64,
    pub second: f64,
    /// (up to minutes, share), ascending.
    pub delay_minutes: Vec<(f64, f64)>,
}

/// The unfillable orders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Orders {
    pub start: Date,
    pub per_day: f64,
    pub warmup_days: u32,
    pub weekday: Vec<f64>,
    pub holiday: Vec<f64>,
    /// (days, share).
    pub handling_days: Vec<(u32, f64)>,
}

/// amazon.co.jp: the marketplace the lab's seller sells in.
pub const MARKETPLACE: &str = "A1VC38T7YXB528";

/// How finely the lab walks time when it looks for a buyer's next look at their mail.
const STEP_MINUTES: i64 = 5;

/// The stream of a buyer's own traits; message k of the order uses stream `k + 1`.
const STREAMS_PER_ORDER: u64 = 64;
/// The stream the orders themselves are drawn from.
const ORDERS_STREAM: u64 = u64::MAX;

/// What the lab knows of one buyer: drawn once per order, the same under every policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuyerTraits {
    /// False for a buyer who never reads a seller's message.
    pub reads: bool,
    /// Looks at their mail this many times a day (on average).
    pub checks_per_day: f64,
    pub complies: Complies,
    /// From reading the convincing request to requesting the cancellation.
    pub delay: SignedDuration,
}

/// Whether and after which read request a buyer uses Amazon's "request cancellation".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complies {
    OnFirstRead,
    OnSecondRead,
    Never,
}

/// One unfillable order of a lab run.
#[derive(Debug, Clone, PartialEq)]
pub struct LabOrder {
    /// The buyer's number: the streams of their draws.
    pub index: u64,
    pub placed: Timestamp,
    pub ship_by: Timestamp,
    /// Placed before the evaluated days (the learned-slots policy learns from these).
    pub warmup: bool,
}

/// Uniform in [0, 1).
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = unit(rng).max(f64::MIN_POSITIVE);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Scales `weights` to sum to 1.
pub fn normalised(weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    weights.iter().map(|w| w / sum).collect()
}

/// Picks an index of `weights` (not necessarily normalised) with `u` in [0, 1).
fn pick(weights: &[f64], u: f64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut left = u * total;
    for (i, w) in weights.iter().enumerate() {
        if left < *w {
            return i;
        }
        left -= w;
    }
    weights.len() - 1
}

/// The value at `x` of the polyline through `points` (flat before the first, 0 after the last).
fn polyline(points: &[(f64, f64)], x: f64) -> f64 {
    let Some(first) = points.first() else {
        return 0.0;
    };
    if x <= first.0 {
        return first.1;
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x <= x1 {
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0).max(f64::MIN_POSITIVE);
        }
    }
    0.0
}

impl Population {
    /// Reads and checks a population file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the population file {}", path.display()))?;
        let p: Population = toml::from_str(&text)
            .with_context(|| format!("the population file {} is not valid", path.display()))?;
        p.validate()
            .with_context(|| format!("population file {}", path.display()))?;
        Ok(p)
    }

    /// Checks shares are shares, profiles have 24 hours and curves are ascending.
    pub fn validate(&self) -> Result<()> {
        let share = |name: &str, v: f64| -> Result<()> {
            if !(0.0..=1.0).contains(&v) {
                bail!("{name} must be between 0 and 1, not {v}");
            }
            Ok(())
        };
        share("never_read", self.never_read)?;
        share("compliance.first", self.compliance.first)?;
        share("compliance.second", self.compliance.second)?;
        share(
            "compliance.first + compliance.second",
            self.compliance.first + self.compliance.second,
        )?;
        for (name, profile) in [
            ("checks.weekday", &self.checks.weekday),
            ("checks.holiday", &self.checks.holiday),
            ("orders.weekday", &self.orders.weekday),
            ("orders.holiday", &self.orders.holiday),
        ] {
            if profile.len() != 24 {
                bail!("{name} needs 24 hourly weights, has {}", profile.len());
            }
            if profile.iter().any(|w| *w < 0.0) || profile.iter().sum::<f64>() <= 0.0 {
                bail!("{name}: weights must be non-negative and not all 0");
            }
        }
        if self.checks.per_day_median <= 0.0 || self.checks.per_day_spread < 0.0 {
            bail!("checks: per_day_median must be positive and per_day_spread not negative");
        }
        if self.checks.notice.is_empty()
            || self.checks.notice.windows(2).any(|w| w[1].0 <= w[0].0)
            || self
                .checks
                .notice
                .iter()
                .any(|(_, c)| !(0.0..=1.0).contains(c))
        {
            bail!("checks.notice: points (age, chance) with ascending ages and chances in 0..1");
        }
        let d = &self.compliance.delay_minutes;
        if d.is_empty()
            || d.windows(2).any(|w| w[1].0 <= w[0].0)
            || d.iter().any(|(m, s)| *m <= 0.0 || *s < 0.0)
        {
            bail!("compliance.delay_minutes: (up to minutes, share) with ascending minutes");
        }
        if self.orders.per_day <= 0.0 {
            bail!("orders.per_day must be positive");
        }
        if self.orders.handling_days.is_empty()
            || self
                .orders
                .handling_days
                .iter()
                .any(|(d, s)| *d == 0 || *s < 0.0)
        {
            bail!("orders.handling_days: (days ≥ 1, share) pairs");
        }
        Ok(())
    }

    /// The hourly profile of looks at mail on days of `kind`, summing to 1.
    pub fn check_profile(&self, kind: DayKind) -> Vec<f64> {
        normalised(match kind {
            DayKind::Weekday => &self.checks.weekday,
            DayKind::Holiday => &self.checks.holiday,
        })
    }

    /// The share of weekday looks between 19:00 and midnight.
    pub fn evening_share(&self) -> f64 {
        self.check_profile(DayKind::Weekday)[19..].iter().sum()
    }

    /// The same population with the weekday evening (19-24 h) holding `share` of the weekday
    /// looks, the other hours scaled to keep their proportions.
    pub fn with_evening_share(&self, share: f64) -> Self {
        let share = share.clamp(0.01, 0.99);
        let p = self.check_profile(DayKind::Weekday);
        let evening: f64 = p[19..].iter().sum();
        let weekday = p
            .iter()
            .enumerate()
            .map(|(h, w)| {
                if h >= 19 {
                    w * share / evening
                } else {
                    w * (1.0 - share) / (1.0 - evening)
                }
            })
            .collect();
        let mut out = self.clone();
        out.checks.weekday = weekday;
        out
    }

    /// The same population with both compliance shares scaled by `factor` (their sum kept at
    /// most 1).
    pub fn with_compliance_scaled(&self, factor: f64) -> Self {
        let mut out = self.clone();
        let (f, s) = (
            self.compliance.first * factor,
            self.compliance.second * factor,
        );
        let over = (f + s).max(1.0);
        out.compliance.first = f / over;
        out.compliance.second = s / over;
        out
    }

    /// The same population with the notice curve's ages multiplied by `factor`: below 1,
    /// a message sinks out of sight sooner (it must be read soon after it arrives); above 1,
    /// later.
    pub fn with_notice_ages_scaled(&self, factor: f64) -> Self {
        let mut out = self.clone();
        for p in &mut out.checks.notice {
            p.0 *= factor;
        }
        out
    }

    /// The most orders that can end exempt: the buyers who read and would comply.
    pub fn ceiling(&self) -> f64 {
        (1.0 - self.never_read) * (self.compliance.first + self.compliance.second)
    }

    /// The same population with another never-read share.
    pub fn with_never_read(&self, share: f64) -> Self {
        let mut out = self.clone();
        out.never_read = share.clamp(0.0, 1.0);
        out
    }

    /// The buyer of order `index` under `seed`.
    pub fn buyer(&self, seed: u64, index: u64) -> BuyerTraits {
        let mut rng = stream(seed, index * STREAMS_PER_ORDER);
        let (u_read, u_type) = (unit(&mut rng), unit(&mut rng));
        let z = normal(&mut rng);
        let band = pick(
            &self
                .compliance
                .delay_minutes
                .iter()
                .map(|(_, s)| *s)
                .collect::<Vec<_>>(),
            unit(&mut rng),
        );
        let lo = if band == 0 {
            0.0
        } else {
            self.compliance.delay_minutes[band - 1].0
        };
        let hi = self.compliance.delay_minutes[band].0;
        let minutes = lo + (hi - lo) * unit(&mut rng);
        let c = &self.compliance;
        BuyerTraits {
            reads: u_read >= self.never_read,
            checks_per_day: self.checks.per_day_median * (self.checks.per_day_spread * z).exp(),
            complies: if u_type < c.first {
                Complies::OnFirstRead
            } else if u_type < c.first + c.second {
                Complies::OnSecondRead
            } else {
                Complies::Never
            },
            delay: SignedDuration::from_secs((minutes * 60.0).round() as i64),
        }
    }

    /// When the buyer of order `index` (with `traits`) first reads the order's message number
    /// `k` (0-based, in the order they arrived), which arrived at `at`; `None` when never. The
    /// buyer looks at their mail at random (a Poisson process at their rate, shaped by the hour
    /// and the kind of day) and notices the message at a look with the chance its age gives.
    pub fn read_at(
        &self,
        seed: u64,
        index: u64,
        traits: &BuyerTraits,
        k: u32,
        at: Timestamp,
        days: &mut DayKinds,
    ) -> Option<Timestamp> {
        if !traits.reads {
            return None;
        }
        let mut rng = stream(
            seed,
            index * STREAMS_PER_ORDER + 1 + u64::from(k).min(STREAMS_PER_ORDER - 2),
        );
        let horizon = self.checks.notice.last().map_or(0.0, |p| p.0);
        let profiles = [
            self.check_profile(DayKind::Weekday),
            self.check_profile(DayKind::Holiday),
        ];
        let step_hours = STEP_MINUTES as f64 / 60.0;
        let tz = days.tz.clone();
        let mut t = at;
        loop {
            let age = t.duration_since(at).as_secs_f64() / 3600.0;
            if age >= horizon {
                return None;
            }
            let local = t.to_zoned(tz.clone());
            let kind = days.kind(local.date());
            let share = profiles[usize::from(kind == DayKind::Holiday)][local.hour() as usize];
            let looks = traits.checks_per_day * share * step_hours;
            let u_look = unit(&mut rng);
            let u_notice = unit(&mut rng);
            let u_within = unit(&mut rng);
            if u_look < 1.0 - (-looks).exp() && u_notice < polyline(&self.checks.notice, age) {
                let within = (u_within * STEP_MINUTES as f64 * 60.0) as i64;
                return Some(t + SignedDuration::from_secs(within));
            }
            t += SignedDuration::from_mins(STEP_MINUTES);
        }
    }

    /// The orders of one lab run under `seed`: the warm-up week's orders before
    /// `orders.start`, then `n` evaluated orders over `n / per_day` days, each placed at a
    /// random time by the day kind's hourly profile, ship-by the end of the local day a
    /// handling time after. Sorted by placement; the warm-up orders first. The warm-up is drawn
    /// whether a policy plays it or not, so the evaluated orders are the same either way.
    pub fn orders(&self, seed: u64, n: usize) -> Vec<LabOrder> {
        let mut rng = stream(seed, ORDERS_STREAM);
        let tz = zone();
        let o = &self.orders;
        let eval_days = ((n as f64 / o.per_day).ceil() as i64).max(1);
        let warm_n = (o.per_day * f64::from(o.warmup_days)).round() as usize;
        let warm_days = i64::from(o.warmup_days);
        let mut out = Vec::with_capacity(warm_n + n);
        let mut index = 0u64;
        for (count, first_day, days, is_warm) in [
            (warm_n, -warm_days, warm_days, true),
            (n, 0, eval_days, false),
        ] {
            let mut batch = Vec::with_capacity(count);
            for _ in 0..count {
                let day = o.start
                    + SignedDuration::from_hours(
                        24 * (first_day + (unit(&mut rng) * days as f64) as i64),
                    );
                let profile = match day_kind(MARKETPLACE, day) {
                    DayKind::Weekday => &o.weekday,
                    DayKind::Holiday => &o.holiday,
                };
                let hour = pick(profile, unit(&mut rng)) as i8;
                let minute = (unit(&mut rng) * 60.0) as i8;
                let handling = o.handling_days[pick(
                    &o.handling_days.iter().map(|h| h.1).collect::<Vec<_>>(),
                    unit(&mut rng),
                )]
                .0;
                let placed = local(&tz, day, hour, minute);
                let ship_day = day + SignedDuration::from_hours(24 * i64::from(handling));
                let ship_by = local(&tz, ship_day, 23, 59);
                batch.push((placed, ship_by));
            }
            batch.sort_by_key(|b| b.0);
            for (placed, ship_by) in batch {
                out.push(LabOrder {
                    index,
                    placed,
                    ship_by,
                    warmup: is_warm,
                });
                index += 1;
            }
        }
        out
    }
}

/// The ChaCha stream `stream` of `seed`.
fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The lab's time zone: the marketplace's.
pub fn zone() -> TimeZone {
    kenzen_core::policy::marketplace_zone(MARKETPLACE)
}

fn local(tz: &TimeZone, day: Date, hour: i8, minute: i8) -> Timestamp {
    day.at(hour, minute, 0, 0)
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Day kinds at the lab's marketplace, remembered per local date.
#[derive(Debug)]
pub struct DayKinds {
    tz: TimeZone,
    known: HashMap<Date, DayKind>,
}

impl Default for DayKinds {
    fn default() -> Self {
        Self {
            tz: zone(),
            known: HashMap::new(),
        }
    }
}

impl DayKinds {
    pub fn kind(&mut self, date: Date) -> DayKind {
        *self
            .known
            .entry(date)
            .or_insert_with(|| day_kind(MARKETPLACE, date))
    }

    /// The kind of the local day `t` falls on.
    pub fn kind_at(&mut self, t: Timestamp) -> DayKind {
        let date = t.to_zoned(self.tz.clone()).date();
        self.kind(date)
    }
}

/// The population file the lab ships with (`tests/outcomes/population.toml`), for tests.
#[cfg(test)]
pub(crate) fn shipped() -> Population {
    Population::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/outcomes/population.toml"
    )))
    .expect("the shipped population file loads")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population() -> Population {
        shipped()
    }

    #[test]
    fn the_hourly_profiles_sum_to_one_and_keep_the_evening_share_asked_for() {
        let p = population();
        for kind in [DayKind::Weekday, DayKind::Holiday] {
            let sum: f64 = p.check_profile(kind).iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "{kind}: {sum}");
        }
        let more = p.with_evening_share(0.6);
        assert!((more.evening_share() - 0.6).abs() < 1e-9);
        let sum: f64 = more.check_profile(DayKind::Weekday).iter().sum();
        assert!((sum - 1.0).abs() < 1e-9);
        // The hours outside the evening keep their proportions.
        let (a, b) = (
            p.check_profile(DayKind::Weekday),
            more.check_profile(DayKind::Weekday),
        );
        assert!((a[12] / a[7] - b[12] / b[7]).abs() < 1e-9);
    }

    #[test]
    fn the_same_seed_draws_the_same_buyers_orders_and_reading_times() {
        let p = population();
        assert_eq!(p.orders(7, 50), p.orders(7, 50));
        assert_ne!(p.orders(7, 50), p.orders(8, 50));
        let at: Timestamp = "2026-11-04T10:00:00Z".parse().unwrap();
        let mut days = DayKinds::default();
        for index in 0..50 {
            let b = p.buyer(7, index);
            assert_eq!(b, p.buyer(7, index));
            let first = p.read_at(7, index, &b, 0, at, &mut days);
            assert_eq!(first, p.read_at(7, index, &b, 0, at, &mut days));
            if let Some(r) = first {
                assert!(r >= at && r < at + SignedDuration::from_hours(72));
            }
            if !b.reads {
                assert_eq!(first, None);
            }
        }
    }

    #[test]
    fn the_drawn_shares_come_close_to_the_file() {
        let p = population();
        let n = 20_000u64;
        let buyers: Vec<BuyerTraits> = (0..n).map(|i| p.buyer(3, i)).collect();
        let never = buyers.iter().filter(|b| !b.reads).count() as f64 / n as f64;
        let first = buyers
            .iter()
            .filter(|b| b.complies == Complies::OnFirstRead)
            .count() as f64
            / n as f64;
        assert!((never - p.never_read).abs() < 0.02, "{never}");
        assert!((first - p.compliance.first).abs() < 0.02, "{first}");
        let orders = p.orders(3, 500);
        assert_eq!(orders.iter().filter(|o| !o.warmup).count(), 500);
        assert!(orders.iter().all(|o| o.ship_by > o.placed));
    }

    #[test]
    fn a_file_with_a_short_profile_or_a_share_over_one_is_refused_with_the_field_named() {
        let mut p = population();
        p.checks.weekday.pop();
        assert!(
            p.validate()
                .unwrap_err()
                .to_string()
                .contains("checks.weekday")
        );
        let mut p = population();
        p.compliance.first = 0.9;
        p.compliance.second = 0.2;
        assert!(p.validate().unwrap_err().to_string().contains("compliance"));
    }
}
