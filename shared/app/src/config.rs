//! Typed configuration read from the environment once per container. A missing or malformed
//! value fails start-up with the variable's name. Secrets are held here but never printed
//! (`Debug` leaves them out).
//!
//! One stack serves the marketplaces of one seller account in one SP-API region
//! (`KENZEN_MARKETPLACE_IDS`, e.g. the EU unified account's DE, FR, IT, ES, UK; or
//! `KENZEN_MARKETPLACE_ID` for one). Each marketplace's time zone, language and currency come
//! from [`kenzen_core::marketplace`]; quiet hours and send slots are set once for the stack and
//! applied in each marketplace's own local time.

use jiff::SignedDuration;
use kenzen_core::marketplace::Currency;
use kenzen_core::{LocalTime, Money, ProfitFloor, Settings, Strategy};

use crate::adapters::spapi::SpApiConfig;
use crate::service::{INITIAL_LOOKBACK, REPLY_SWEEP_EVERY};

/// The default LWA token endpoint.
pub const LWA_ENDPOINT: &str = "https://api.amazon.com/auth/o2/token";

/// The SP-API regional host for a marketplace id, from [`kenzen_core::marketplace`];
/// `KENZEN_SPAPI_ENDPOINT` overrides it.
pub fn default_endpoint(marketplace_id: &str) -> Option<&'static str> {
    kenzen_core::marketplace::find(marketplace_id).map(|m| m.endpoint())
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
    /// More than one problem, all of them.
    #[error("{} configuration problems: {}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Several(Vec<ConfigError>),
}

/// The marketplaces the stack serves, the first one first: `KENZEN_MARKETPLACE_IDS`
/// (comma-separated) or `KENZEN_MARKETPLACE_ID` (one), never both. Several must all be in
/// kenzen's table and share one SP-API endpoint; the error names the one at fault. A single
/// marketplace not in the table is taken (its endpoint and time zone must then be set).
pub fn marketplace_ids(get: impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let (name, value) = match (get("KENZEN_MARKETPLACE_IDS"), get("KENZEN_MARKETPLACE_ID")) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                name: "KENZEN_MARKETPLACE_IDS",
                why: "KENZEN_MARKETPLACE_ID is set too: set only KENZEN_MARKETPLACE_IDS (one or \
                      more marketplace ids, comma-separated)"
                    .into(),
            });
        }
        (Some(v), None) => ("KENZEN_MARKETPLACE_IDS", v),
        (None, Some(v)) => ("KENZEN_MARKETPLACE_ID", v),
        (None, None) => return Err(ConfigError::Missing("KENZEN_MARKETPLACE_IDS")),
    };
    let invalid = |why: String| ConfigError::Invalid { name, why };
    let ids: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
    for id in &ids {
        kenzen_core::MarketplaceId::parse(id).map_err(|e| invalid(format!("{id:?}: {e}")))?;
    }
    if ids.len() > 1 {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        kenzen_core::marketplace::stack(&refs).map_err(|e| invalid(e.to_string()))?;
    }
    Ok(ids)
}

/// The SP-API part of the configuration: endpoints, LWA credentials, marketplaces and seller.
pub fn spapi_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<SpApiConfig, ConfigError> {
    let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let req = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
    let marketplace_ids = marketplace_ids(get)?;
    let marketplace_id = marketplace_ids[0].clone();
    let endpoint = match get("KENZEN_SPAPI_ENDPOINT") {
        Some(e) => e,
        None => default_endpoint(&marketplace_id)
            .ok_or(ConfigError::Invalid {
                name: "KENZEN_MARKETPLACE_ID",
                why: format!(
                    "{marketplace_id} is not in the defaults table; set KENZEN_SPAPI_ENDPOINT"
                ),
            })?
            .to_string(),
    };
    Ok(SpApiConfig {
        endpoint,
        lwa_endpoint: get("KENZEN_LWA_ENDPOINT").unwrap_or_else(|| LWA_ENDPOINT.to_string()),
        client_id: req("KENZEN_LWA_CLIENT_ID")?,
        client_secret: req("KENZEN_LWA_CLIENT_SECRET")?,
        refresh_token: req("KENZEN_LWA_REFRESH_TOKEN")?,
        marketplace_ids,
        seller_id: req("KENZEN_SELLER_ID")?,
    })
}

/// Everything a kenzen function needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    pub event_bus: String,
    pub spapi: SpApiConfig,
    pub settings: Settings,
    /// How far back the very first poll looks.
    pub initial_lookback: SignedDuration,
    /// How often reply-detect's schedule runs (`KENZEN_REPLY_SWEEP_MINUTES`, set by the
    /// template from the same number as the schedule).
    pub reply_sweep_every: SignedDuration,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (the environment, or a map in tests).
    /// An empty value counts as unset (CloudFormation cannot leave a variable out).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let req = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let invalid = |name: &'static str, why: String| ConfigError::Invalid { name, why };
        // Every problem is collected and reported at once: a seller fixes them in one go.
        let mut errs: Vec<ConfigError> = Vec::new();
        // Defaults are the settings' own (one place: `Settings::new`); at most a year.
        let hours =
            |name: &'static str, default: SignedDuration| -> Result<SignedDuration, ConfigError> {
                match get(name) {
                    None => Ok(default),
                    Some(v) => v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|h| h.is_finite() && (0.0..=24.0 * 366.0).contains(h))
                        .map(|h| SignedDuration::from_secs_f64(h * 3600.0))
                        .ok_or(ConfigError::Invalid {
                            name,
                            why: format!("{v:?} is not a number of hours between 0 and 8784"),
                        }),
                }
            };
        // The sweeps' cadence (set by the template from its schedule mapping): due times are
        // placed so that each sweep still acts before its limit.
        let minutes = |name: &'static str, default: SignedDuration| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=1440).contains(m))
                .map(SignedDuration::from_mins)
                .ok_or_else(|| {
                    invalid(
                        name,
                        format!("{v:?} is not a whole number of minutes from 1 to 1440"),
                    )
                }),
        };
        let spapi = ok(&mut errs, spapi_from_lookup(get));
        // The first marketplace's time zone is the seller's own (the digest), its currency the
        // profit floor's; the others are served in their own time zones.
        let marketplaces = marketplace_ids(get).unwrap_or_default();
        let marketplace_id = marketplaces.first().cloned().unwrap_or_default();
        // `auto` chooses per case from the account-health figures, falling back to
        // KENZEN_AUTO_FALLBACK (required with it: the seller chooses that too).
        let strategy_setting = ok(&mut errs, req("KENZEN_STRATEGY"));
        let is_auto = strategy_setting.as_deref().map(str::trim) == Some("auto");
        let strategy = if is_auto {
            ok(
                &mut errs,
                req("KENZEN_AUTO_FALLBACK").and_then(|v| {
                    v.parse::<Strategy>()
                        .map_err(|why| invalid("KENZEN_AUTO_FALLBACK", why))
                }),
            )
        } else {
            strategy_setting.and_then(|v| {
                ok(
                    &mut errs,
                    v.parse::<Strategy>()
                        .map_err(|why| invalid("KENZEN_STRATEGY", format!("{why} (or auto)"))),
                )
            })
        };
        // Without a strategy the other settings are still checked (against either default).
        let mut settings =
            Settings::new(strategy.unwrap_or(Strategy::CancelFirst), &marketplace_id);
        for m in marketplaces.iter().skip(1) {
            settings.serve(m);
        }
        if let Some(v) = get("KENZEN_QUIET_HOURS") {
            let parsed = (|| {
                let (a, b) = v.split_once('-').ok_or_else(|| {
                    invalid(
                        "KENZEN_QUIET_HOURS",
                        format!("{v:?} is not like 21:00-08:00"),
                    )
                })?;
                let a = a.parse().map_err(|w| invalid("KENZEN_QUIET_HOURS", w))?;
                let b = b.parse().map_err(|w| invalid("KENZEN_QUIET_HOURS", w))?;
                Ok((a, b))
            })();
            if let Some((a, b)) = ok(&mut errs, parsed) {
                for w in settings.all_windows_mut() {
                    w.quiet_start = a;
                    w.quiet_end = b;
                }
            }
        }
        if let Some(v) = get("KENZEN_SEND_SLOTS") {
            let slots = v
                .split(',')
                .map(|s| s.parse::<LocalTime>())
                .collect::<Result<_, _>>()
                .map_err(|w| invalid("KENZEN_SEND_SLOTS", w));
            if let Some(slots) = ok(&mut errs, slots) {
                for w in settings.all_windows_mut() {
                    w.slots.clone_from(&slots);
                }
            }
        }
        if let Some(v) = get("KENZEN_TIME_ZONE") {
            if marketplaces.len() > 1 {
                errs.push(invalid(
                    "KENZEN_TIME_ZONE",
                    "a stack serving several marketplaces works each one in its own time zone \
                     (from kenzen's table): leave KENZEN_TIME_ZONE unset"
                        .into(),
                ));
            }
            settings.windows.time_zone = v;
        } else if !marketplace_id.is_empty()
            && kenzen_core::marketplace::find(&marketplace_id).is_none()
        {
            errs.push(invalid(
                "KENZEN_TIME_ZONE",
                format!("marketplace {marketplace_id} is not in kenzen's table: set its time zone"),
            ));
        }
        if let Some(v) = get("KENZEN_MAX_REQUESTS") {
            let n = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "KENZEN_MAX_REQUESTS",
                why: format!("{v:?} is not a whole number"),
            });
            if let Some(n) = ok(&mut errs, n) {
                settings.max_requests = n;
            }
        }
        if let Some(d) = ok(&mut errs, hours("KENZEN_MIN_GAP_HOURS", settings.min_gap)) {
            settings.min_gap = d;
        }
        if let Some(d) = ok(
            &mut errs,
            hours(
                "KENZEN_FINAL_NOTICE_MARGIN_HOURS",
                settings.final_notice_margin,
            ),
        ) {
            settings.final_notice_margin = d;
        }
        if let Some(d) = ok(
            &mut errs,
            hours("KENZEN_CANCEL_MARGIN_HOURS", settings.cancel_margin),
        ) {
            settings.cancel_margin = d;
        }
        if let Some(v) = get("KENZEN_MIN_PROFIT") {
            let floor = (|| {
                let currency = kenzen_core::marketplace::find(&marketplace_id)
                    .map(|m| m.currency)
                    .ok_or_else(|| {
                        invalid(
                            "KENZEN_MIN_PROFIT",
                            format!("marketplace {marketplace_id} has no known currency"),
                        )
                    })?;
                let minimum =
                    Money::parse(&v, currency).map_err(|why| invalid("KENZEN_MIN_PROFIT", why))?;
                // A percentage with up to two decimals, held as basis points.
                let percent = Currency {
                    code: "%",
                    minor_digits: 2,
                };
                let fee_bp = match get("KENZEN_FEE_PERCENT") {
                    None => ProfitFloor::DEFAULT_FEE_BP,
                    Some(f) => Money::parse(&f, percent)
                        .ok()
                        .map(|m| m.minor)
                        .filter(|bp| (0..=10_000).contains(bp))
                        .ok_or_else(|| {
                            invalid(
                                "KENZEN_FEE_PERCENT",
                                format!("{f:?} is not a percentage from 0 to 100"),
                            )
                        })?,
                };
                Ok(ProfitFloor { minimum, fee_bp })
            })();
            if let Some(floor) = ok(&mut errs, floor) {
                settings.profit_floor = Some(floor);
            }
        }
        if is_auto && let Some(fallback) = strategy {
            let mut auto = kenzen_core::AutoSettings::new(fallback);
            if let Some(v) = get("KENZEN_AUTO_CEILING_PERCENT") {
                match v.trim().parse::<f64>() {
                    Ok(p) if p.is_finite() && p > 0.0 && p < 100.0 => auto.ceiling = p / 100.0,
                    _ => errs.push(invalid(
                        "KENZEN_AUTO_CEILING_PERCENT",
                        format!("{v:?} is not a percentage above 0 and below 100, e.g. 1.5"),
                    )),
                }
            }
            settings.auto = Some(auto);
        }
        match get("KENZEN_LEARN_SLOTS").as_deref().map(str::trim) {
            None | Some("false") => {}
            Some("true") => settings.learn_slots = true,
            Some(other) => errs.push(invalid(
                "KENZEN_LEARN_SLOTS",
                format!("{other:?} is not true or false"),
            )),
        }
        if let Some(v) = get("KENZEN_ZERO_LISTING") {
            match v.trim() {
                "true" => settings.zero_listing = true,
                "false" => settings.zero_listing = false,
                other => errs.push(invalid(
                    "KENZEN_ZERO_LISTING",
                    format!("{other:?} is not true or false"),
                )),
            }
        }
        if let Some(v) = get("KENZEN_MODE").filter(|v| !v.trim().is_empty())
            && let Some(m) = ok(
                &mut errs,
                v.parse::<kenzen_core::Mode>()
                    .map_err(|why| invalid("KENZEN_MODE", why)),
            )
        {
            settings.mode = m;
        }
        if let Some(v) = get("KENZEN_APPROVAL_DEFAULT").filter(|v| !v.trim().is_empty())
            && let Some(d) = ok(
                &mut errs,
                v.parse::<kenzen_core::ApprovalDefault>()
                    .map_err(|why| invalid("KENZEN_APPROVAL_DEFAULT", why)),
            )
        {
            settings.approval_default = d;
        }
        if let Some(d) = ok(
            &mut errs,
            minutes("KENZEN_MESSAGE_RESEND_MINUTES", settings.send_sweep),
        ) {
            settings.send_sweep = d;
        }
        if let Some(d) = ok(
            &mut errs,
            minutes("KENZEN_FINAL_CANCEL_MINUTES", settings.cancel_sweep),
        ) {
            settings.cancel_sweep = d;
        }
        if errs.is_empty()
            && let Err(why) = settings.validate()
        {
            errs.push(invalid("KENZEN_QUIET_HOURS/KENZEN_SEND_SLOTS/margins", why));
        }
        let table = ok(&mut errs, req("KENZEN_TABLE"));
        let event_bus = ok(&mut errs, req("KENZEN_EVENT_BUS"));
        let initial_lookback = ok(
            &mut errs,
            hours("KENZEN_INITIAL_LOOKBACK_HOURS", INITIAL_LOOKBACK),
        );
        let reply_sweep_every = ok(
            &mut errs,
            minutes("KENZEN_REPLY_SWEEP_MINUTES", REPLY_SWEEP_EVERY),
        );
        match (
            errs.len(),
            spapi,
            strategy,
            table,
            event_bus,
            initial_lookback,
            reply_sweep_every,
        ) {
            (
                0,
                Some(spapi),
                Some(_),
                Some(table),
                Some(event_bus),
                Some(initial_lookback),
                Some(reply_sweep_every),
            ) => Ok(Self {
                table,
                event_bus,
                spapi,
                settings,
                initial_lookback,
                reply_sweep_every,
            }),
            (1, ..) => Err(errs.remove(0)),
            _ => Err(ConfigError::Several(errs)),
        }
    }
}

/// The value of `r`, or `None` with its error kept in `errs`.
fn ok<T>(errs: &mut Vec<ConfigError>, r: Result<T, ConfigError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errs.push(e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("KENZEN_TABLE", "kenzen"),
        ("KENZEN_EVENT_BUS", "kenzen"),
        ("KENZEN_MARKETPLACE_ID", "A1VC38T7YXB528"),
        ("KENZEN_SELLER_ID", "A2SELLER"),
        ("KENZEN_LWA_CLIENT_ID", "id"),
        ("KENZEN_LWA_CLIENT_SECRET", "very-secret"),
        ("KENZEN_LWA_REFRESH_TOKEN", "Atzr|refresh"),
        ("KENZEN_STRATEGY", "ask-buyer"),
    ];

    #[test]
    fn japan_defaults_to_the_far_east_host_and_amazons_token_endpoint() {
        let c = Config::from_lookup(env(BASE)).unwrap();
        assert_eq!(c.spapi.endpoint, "https://sellingpartnerapi-fe.amazon.com");
        assert_eq!(c.spapi.lwa_endpoint, LWA_ENDPOINT);
        assert_eq!(c.settings.max_requests, 3);
    }

    #[test]
    fn auto_needs_its_fallback_and_takes_a_ceiling_in_percent() {
        let with = |more: &[(&'static str, &'static str)]| {
            let mut pairs: Vec<_> = BASE
                .iter()
                .copied()
                .filter(|(k, _)| *k != "KENZEN_STRATEGY")
                .collect();
            pairs.extend_from_slice(more);
            Config::from_lookup(env(&pairs))
        };
        let c = with(&[
            ("KENZEN_STRATEGY", "auto"),
            ("KENZEN_AUTO_FALLBACK", "ask-buyer"),
        ])
        .unwrap();
        let auto = c.settings.auto.expect("auto");
        assert_eq!(auto.fallback, Strategy::AskBuyer);
        assert_eq!(auto.ceiling, 0.015);
        assert_eq!(c.settings.strategy, Strategy::AskBuyer);

        let c = with(&[
            ("KENZEN_STRATEGY", "auto"),
            ("KENZEN_AUTO_FALLBACK", "cancel-first"),
            ("KENZEN_AUTO_CEILING_PERCENT", "1.2"),
        ])
        .unwrap();
        assert!((c.settings.auto.unwrap().ceiling - 0.012).abs() < 1e-12);

        let missing = with(&[("KENZEN_STRATEGY", "auto")])
            .unwrap_err()
            .to_string();
        assert!(missing.contains("KENZEN_AUTO_FALLBACK"), "{missing}");
        let bad = with(&[
            ("KENZEN_STRATEGY", "auto"),
            ("KENZEN_AUTO_FALLBACK", "ask-buyer"),
            ("KENZEN_AUTO_CEILING_PERCENT", "250"),
        ])
        .unwrap_err()
        .to_string();
        assert!(bad.contains("KENZEN_AUTO_CEILING_PERCENT"), "{bad}");
        let wrong = with(&[("KENZEN_STRATEGY", "sometimes")])
            .unwrap_err()
            .to_string();
        assert!(wrong.contains("or auto"), "{wrong}");
        // A fixed strategy has no auto settings.
        assert_eq!(Config::from_lookup(env(BASE)).unwrap().settings.auto, None);
    }

    #[test]
    fn endpoints_and_settings_can_be_overridden() {
        let mut pairs = BASE.to_vec();
        pairs.push(("KENZEN_SPAPI_ENDPOINT", "http://127.0.0.1:4010"));
        pairs.push(("KENZEN_LWA_ENDPOINT", "http://127.0.0.1:9300/auth/o2/token"));
        pairs.push(("KENZEN_MAX_REQUESTS", "2"));
        pairs.push(("KENZEN_MIN_GAP_HOURS", "1.5"));
        pairs.push(("KENZEN_QUIET_HOURS", "22:00-07:00"));
        pairs.push(("KENZEN_SEND_SLOTS", "07:30,18:00"));
        pairs.push(("KENZEN_MIN_PROFIT", "100"));
        pairs.push(("KENZEN_ZERO_LISTING", "false"));
        pairs.push(("KENZEN_MODE", "approve"));
        pairs.push(("KENZEN_APPROVAL_DEFAULT", "cancel"));
        pairs.push(("KENZEN_LEARN_SLOTS", "true"));
        let c = Config::from_lookup(env(&pairs)).unwrap();
        assert!(c.settings.learn_slots);
        assert_eq!(c.settings.mode, kenzen_core::Mode::Approve);
        assert_eq!(
            c.settings.approval_default,
            kenzen_core::ApprovalDefault::Cancel
        );
        assert_eq!(c.spapi.endpoint, "http://127.0.0.1:4010");
        assert_eq!(c.settings.max_requests, 2);
        assert_eq!(c.settings.min_gap, SignedDuration::from_mins(90));
        assert_eq!(c.settings.windows.slots.len(), 2);
        assert_eq!(c.settings.windows.quiet_start, LocalTime::new(22, 0));
        assert_eq!(c.settings.profit_floor.as_ref().unwrap().fee_bp, 1000);
        assert!(!c.settings.zero_listing);
    }

    const DE: &str = "A1PA6795UKMFR9";
    const FR: &str = "A13V1IB3VIYZZH";
    const UK: &str = "A1F83G8C2ARO7P";

    /// `BASE` serving `ids` through KENZEN_MARKETPLACE_IDS, with `more` on top.
    fn stack(ids: &str, more: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = BASE
            .iter()
            .filter(|(k, _)| *k != "KENZEN_MARKETPLACE_ID")
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        pairs.push(("KENZEN_MARKETPLACE_IDS", ids.to_string()));
        pairs.extend(more.iter().map(|(k, v)| (*k, v.to_string())));
        pairs
    }

    fn lookup(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn one_stack_serves_every_listed_marketplace_of_the_eu_region_in_its_own_time() {
        let pairs = stack(
            &format!("{DE}, {FR},{UK}"),
            &[
                ("KENZEN_QUIET_HOURS", "22:00-07:30"),
                ("KENZEN_SEND_SLOTS", "08:00,18:00"),
                ("KENZEN_MIN_PROFIT", "2.50"),
            ],
        );
        let c = Config::from_lookup(lookup(pairs)).unwrap();
        assert_eq!(c.spapi.endpoint, "https://sellingpartnerapi-eu.amazon.com");
        assert_eq!(c.spapi.marketplace_ids, vec![DE, FR, UK]);
        assert_eq!(c.settings.marketplaces(), vec![DE, FR, UK]);
        for (m, zone) in [
            (DE, "Europe/Berlin"),
            (FR, "Europe/Paris"),
            (UK, "Europe/London"),
        ] {
            let w = c.settings.windows_for(m);
            assert_eq!(w.time_zone, zone, "{m}");
            assert_eq!(w.quiet_start, LocalTime::new(22, 0), "{m}");
            assert_eq!(w.quiet_end, LocalTime::new(7, 30), "{m}");
            assert_eq!(w.slots, vec![LocalTime::new(8, 0), LocalTime::new(18, 0)]);
        }
        // The profit floor is in the first marketplace's currency.
        let floor = c.settings.profit_floor.unwrap();
        assert_eq!(floor.minimum.currency.code, "EUR");
        assert_eq!(floor.minimum.minor, 250);
        // One marketplace through the list is the same as through the single variable.
        let one = Config::from_lookup(lookup(stack("A1VC38T7YXB528", &[]))).unwrap();
        assert_eq!(one.spapi.marketplace_ids, vec!["A1VC38T7YXB528"]);
        assert_eq!(one.settings.windows.time_zone, "Asia/Tokyo");
    }

    #[test]
    fn both_marketplace_variables_at_once_are_refused_by_name() {
        let mut pairs = stack(DE, &[]);
        pairs.push(("KENZEN_MARKETPLACE_ID", DE.into()));
        let err = Config::from_lookup(lookup(pairs)).unwrap_err().to_string();
        assert!(
            err.contains("KENZEN_MARKETPLACE_IDS")
                && err.contains("KENZEN_MARKETPLACE_ID is set too"),
            "{err}"
        );
        let none: Vec<(&'static str, String)> = stack(DE, &[])
            .into_iter()
            .filter(|(k, _)| *k != "KENZEN_MARKETPLACE_IDS")
            .collect();
        let err = Config::from_lookup(lookup(none)).unwrap_err().to_string();
        assert!(err.contains("KENZEN_MARKETPLACE_IDS"), "{err}");
    }

    #[test]
    fn a_marketplace_of_another_region_or_unknown_or_malformed_is_named() {
        for (ids, named) in [
            (format!("{DE},{FR},A1VC38T7YXB528"), "A1VC38T7YXB528"),
            (format!("{DE},ATVPDKIKX0DER,{FR}"), "ATVPDKIKX0DER"),
            (format!("{DE},ZZZZZZZZZZ"), "ZZZZZZZZZZ"),
            (format!("{DE},,{FR}"), "\"\""),
            (format!("{DE},{DE}"), DE),
        ] {
            let err = Config::from_lookup(lookup(stack(&ids, &[])))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("KENZEN_MARKETPLACE_IDS") && err.contains(named),
                "{ids}: {err}"
            );
        }
        // The same checks hold for the command-line tools' SP-API configuration.
        let err = spapi_from_lookup(lookup(stack(&format!("{DE},A1VC38T7YXB528"), &[])))
            .unwrap_err()
            .to_string();
        assert!(err.contains("A1VC38T7YXB528"), "{err}");
    }

    #[test]
    fn a_time_zone_for_the_whole_stack_is_refused_when_it_serves_several_marketplaces() {
        let pairs = stack(
            &format!("{DE},{FR}"),
            &[("KENZEN_TIME_ZONE", "Europe/Berlin")],
        );
        let err = Config::from_lookup(lookup(pairs)).unwrap_err().to_string();
        assert!(err.contains("KENZEN_TIME_ZONE"), "{err}");
        let one = stack(DE, &[("KENZEN_TIME_ZONE", "Europe/Berlin")]);
        assert!(Config::from_lookup(lookup(one)).is_ok());
    }

    #[test]
    fn the_strategy_has_no_default() {
        let pairs: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "KENZEN_STRATEGY")
            .collect();
        let err = Config::from_lookup(env(&pairs)).unwrap_err().to_string();
        assert!(err.contains("KENZEN_STRATEGY"), "{err}");
        let mut pairs = BASE.to_vec();
        pairs.retain(|(k, _)| *k != "KENZEN_STRATEGY");
        pairs.push(("KENZEN_STRATEGY", "cancel-first"));
        let c = Config::from_lookup(env(&pairs)).unwrap();
        assert_eq!(c.settings.strategy, Strategy::CancelFirst);
    }

    #[test]
    fn a_missing_or_bad_value_names_the_variable_and_secrets_never_print() {
        let pairs: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "KENZEN_TABLE")
            .collect();
        let err = Config::from_lookup(env(&pairs)).unwrap_err().to_string();
        assert!(err.contains("KENZEN_TABLE"), "{err}");

        let mut pairs = BASE.to_vec();
        pairs.push(("KENZEN_MAX_REQUESTS", "three"));
        let err = Config::from_lookup(env(&pairs)).unwrap_err().to_string();
        assert!(err.contains("KENZEN_MAX_REQUESTS"), "{err}");

        for (name, value) in [
            ("KENZEN_SEND_SLOTS", "23:00"),
            ("KENZEN_QUIET_HOURS", "late"),
            ("KENZEN_STRATEGY", "cancel-later"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let err = Config::from_lookup(env(&pairs)).unwrap_err().to_string();
            assert!(
                err.contains(
                    name.trim_start_matches("KENZEN_")
                        .split('_')
                        .next()
                        .unwrap()
                ),
                "{err}"
            );
        }

        let c = Config::from_lookup(env(BASE)).unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("very-secret") && !printed.contains("Atzr|refresh"));
    }

    #[test]
    fn every_problem_is_reported_at_once_and_huge_numbers_never_panic() {
        let mut pairs: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "KENZEN_TABLE" && *k != "KENZEN_STRATEGY")
            .collect();
        pairs.push(("KENZEN_MAX_REQUESTS", "1e20"));
        pairs.push(("KENZEN_MIN_GAP_HOURS", "1e20"));
        pairs.push(("KENZEN_MESSAGE_RESEND_MINUTES", "0"));
        pairs.push(("KENZEN_ZERO_LISTING", "yes"));
        pairs.push(("KENZEN_MODE", "careful"));
        let err = Config::from_lookup(env(&pairs)).unwrap_err();
        let text = err.to_string();
        for name in [
            "KENZEN_TABLE",
            "KENZEN_STRATEGY",
            "KENZEN_MAX_REQUESTS",
            "KENZEN_MIN_GAP_HOURS",
            "KENZEN_MESSAGE_RESEND_MINUTES",
            "KENZEN_ZERO_LISTING",
            "KENZEN_MODE",
        ] {
            assert!(text.contains(name), "{name} missing from: {text}");
        }
        assert!(
            matches!(err, ConfigError::Several(ref v) if v.len() == 7),
            "{text}"
        );
    }
}
