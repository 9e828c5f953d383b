//! Typed configuration read from the environment once per container. A missing or malformed
//! value fails start-up with the variable's name. Secrets are held here but never printed
//! (`Debug` leaves them out).

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
}

/// The SP-API part of the configuration: endpoints, LWA credentials, marketplace and seller.
pub fn spapi_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<SpApiConfig, ConfigError> {
    let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let req = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
    let marketplace_id = req("KENZEN_MARKETPLACE_ID")?;
    kenzen_core::MarketplaceId::parse(&marketplace_id).map_err(|e| ConfigError::Invalid {
        name: "KENZEN_MARKETPLACE_ID",
        why: e.to_string(),
    })?;
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
        marketplace_id,
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
        let req = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
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
        let spapi = spapi_from_lookup(get)?;
        let marketplace_id = spapi.marketplace_id.clone();
        let invalid = |name: &'static str, why: String| ConfigError::Invalid { name, why };
        let strategy: Strategy = req("KENZEN_STRATEGY")?
            .parse()
            .map_err(|why| invalid("KENZEN_STRATEGY", why))?;
        let mut settings = Settings::new(strategy, &marketplace_id);
        if let Some(v) = get("KENZEN_QUIET_HOURS") {
            let (a, b) = v.split_once('-').ok_or_else(|| {
                invalid(
                    "KENZEN_QUIET_HOURS",
                    format!("{v:?} is not like 21:00-08:00"),
                )
            })?;
            settings.windows.quiet_start =
                a.parse().map_err(|w| invalid("KENZEN_QUIET_HOURS", w))?;
            settings.windows.quiet_end = b.parse().map_err(|w| invalid("KENZEN_QUIET_HOURS", w))?;
        }
        if let Some(v) = get("KENZEN_SEND_SLOTS") {
            settings.windows.slots = v
                .split(',')
                .map(|s| s.parse::<LocalTime>())
                .collect::<Result<_, _>>()
                .map_err(|w| invalid("KENZEN_SEND_SLOTS", w))?;
        }
        if let Some(v) = get("KENZEN_TIME_ZONE") {
            settings.windows.time_zone = v;
        } else if kenzen_core::marketplace::find(&marketplace_id).is_none() {
            return Err(invalid(
                "KENZEN_TIME_ZONE",
                format!("marketplace {marketplace_id} is not in kenzen's table: set its time zone"),
            ));
        }
        if let Some(v) = get("KENZEN_MAX_REQUESTS") {
            settings.max_requests = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "KENZEN_MAX_REQUESTS",
                why: format!("{v:?} is not a whole number"),
            })?;
        }
        settings.min_gap = hours("KENZEN_MIN_GAP_HOURS", settings.min_gap)?;
        settings.final_notice_margin = hours(
            "KENZEN_FINAL_NOTICE_MARGIN_HOURS",
            settings.final_notice_margin,
        )?;
        settings.cancel_margin = hours("KENZEN_CANCEL_MARGIN_HOURS", settings.cancel_margin)?;
        if let Some(v) = get("KENZEN_MIN_PROFIT") {
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
            settings.profit_floor = Some(ProfitFloor { minimum, fee_bp });
        }
        if let Some(v) = get("KENZEN_ZERO_LISTING") {
            settings.zero_listing = match v.trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(invalid(
                        "KENZEN_ZERO_LISTING",
                        format!("{other:?} is not true or false"),
                    ));
                }
            };
        }
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
        settings.send_sweep = minutes("KENZEN_MESSAGE_RESEND_MINUTES", settings.send_sweep)?;
        settings.cancel_sweep = minutes("KENZEN_FINAL_CANCEL_MINUTES", settings.cancel_sweep)?;
        settings
            .validate()
            .map_err(|why| invalid("KENZEN_QUIET_HOURS/KENZEN_SEND_SLOTS/margins", why))?;
        Ok(Self {
            table: req("KENZEN_TABLE")?,
            event_bus: req("KENZEN_EVENT_BUS")?,
            spapi,
            settings,
            initial_lookback: hours("KENZEN_INITIAL_LOOKBACK_HOURS", INITIAL_LOOKBACK)?,
            reply_sweep_every: match get("KENZEN_REPLY_SWEEP_MINUTES") {
                None => REPLY_SWEEP_EVERY,
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|m| (1..=1440).contains(m))
                    .map(SignedDuration::from_mins)
                    .ok_or_else(|| {
                        invalid(
                            "KENZEN_REPLY_SWEEP_MINUTES",
                            format!("{v:?} is not a whole number of minutes from 1 to 1440"),
                        )
                    })?,
            },
        })
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
        let c = Config::from_lookup(env(&pairs)).unwrap();
        assert_eq!(c.spapi.endpoint, "http://127.0.0.1:4010");
        assert_eq!(c.settings.max_requests, 2);
        assert_eq!(c.settings.min_gap, SignedDuration::from_mins(90));
        assert_eq!(c.settings.windows.slots.len(), 2);
        assert_eq!(c.settings.windows.quiet_start, LocalTime::new(22, 0));
        assert_eq!(c.settings.profit_floor.as_ref().unwrap().fee_bp, 1000);
        assert!(!c.settings.zero_listing);
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
}
