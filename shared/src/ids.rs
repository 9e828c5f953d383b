//! Identifiers and amounts, parsed at the edge: an [`OrderId`], a [`Sku`] or a
//! [`MarketplaceId`] is checked once where it enters kenzen (an event, an SP-API answer, the
//! table, configuration), and [`Money`] is held in integer minor units of its currency. Each
//! serializes exactly as the bare value did, so stored data stays readable.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::marketplace::Currency;

/// Why a value is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid: {why}")]
pub struct IdError {
    pub what: &'static str,
    pub value: String,
    pub why: &'static str,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `s` (trimmed of nothing: surrounding spaces are refused).
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let bad = |why| IdError {
                    what: $what,
                    value: s.chars().take(80).collect(),
                    why,
                };
                if s.is_empty() {
                    return Err(bad("it is empty"));
                }
                if s.len() > $max {
                    return Err(bad(concat!("it is longer than ", $max, " bytes")));
                }
                let allowed: fn(char) -> bool = $allowed;
                if !s.chars().all(allowed) {
                    return Err(bad("it holds a character Amazon does not use in it"));
                }
                Ok(Self(s.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value as one percent-encoded URL path segment (RFC 3986 unreserved
            /// characters are kept, every other byte is encoded).
            pub fn path_segment(&self) -> String {
                encode_segment(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// An Amazon order id, e.g. `503-1234567-1234567`: letters, digits and `-`, at most 64.
    OrderId,
    "order id",
    64,
    |c| c.is_ascii_alphanumeric() || c == '-'
);

id_type!(
    /// A seller SKU: printable, at most 40 characters in Amazon's listings (kenzen allows 100),
    /// any script; never control characters.
    Sku,
    "SKU",
    400,
    |c| !c.is_control()
);

id_type!(
    /// An Amazon marketplace id, e.g. `A1VC38T7YXB528`: upper-case letters and digits.
    MarketplaceId,
    "marketplace id",
    20,
    |c| c.is_ascii_uppercase() || c.is_ascii_digit()
);

/// Percent-encodes `s` as one URL path segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An amount of money in integer minor units of its currency (yen for JPY, cents for USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a decimal amount (`"1200"`, `"12.5"`, `"-3.25"`) in `currency`. More decimal
    /// digits than the currency's minor unit has are refused, not rounded.
    pub fn parse(s: &str, currency: Currency) -> Result<Self, String> {
        let bad = |why: &str| format!("{s:?} is not an amount of {}: {why}", currency.code);
        let t = s.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("expected digits"));
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("expected digits after the point"));
        }
        let digits = usize::from(currency.minor_digits);
        let frac = frac.trim_end_matches('0');
        if frac.len() > digits {
            return Err(bad("more decimal places than the currency has"));
        }
        let scale = 10i64.pow(u32::from(currency.minor_digits));
        let whole: i64 = whole.parse().map_err(|_| bad("too large"))?;
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<digits$}")
                .parse()
                .map_err(|_| bad("unreadable"))?
        };
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac_value))
            .ok_or_else(|| bad("too large"))?;
        Ok(Self::new(if neg { -minor } else { minor }, currency))
    }

    /// `percent` of this amount, in basis points (1000 = 10%), rounded half away from zero.
    pub fn percent_bp(self, basis_points: i64) -> Self {
        let v = i128::from(self.minor) * i128::from(basis_points);
        let q = (v.abs() + 5_000) / 10_000;
        let q = if v < 0 { -q } else { q };
        Self::new(
            i64::try_from(q).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX }),
            self.currency,
        )
    }

    pub fn saturating_sub(self, other: Money) -> Self {
        Self::new(self.minor.saturating_sub(other.minor), self.currency)
    }
}

/// Stored and sent as `"<amount> <currency code>"`, e.g. `"1200 JPY"` or `"12.50 USD"`.
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{self} {}", self.currency.code))
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let (amount, code) = text.rsplit_once(' ').ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not like \"1200 JPY\""))
        })?;
        let currency = Currency::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown currency {code:?}")))?;
        Money::parse(amount, currency).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Money {
    /// `1200` for JPY, `12.50` for USD: the amount as the marketplace writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = u32::from(self.currency.minor_digits);
        if digits == 0 {
            return write!(f, "{}", self.minor);
        }
        let scale = 10i64.pow(digits);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let scale = scale.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = digits as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplace;

    fn jpy() -> Currency {
        marketplace::find("A1VC38T7YXB528").unwrap().currency
    }

    fn usd() -> Currency {
        marketplace::find("ATVPDKIKX0DER").unwrap().currency
    }

    #[test]
    fn ids_are_checked_once_and_encoded_in_paths() {
        let id = OrderId::parse("503-1234567-1234567").unwrap();
        assert_eq!(id, "503-1234567-1234567");
        assert_eq!(id.path_segment(), "503-1234567-1234567");
        assert!(OrderId::parse("").is_err());
        assert!(OrderId::parse("503/../feeds").is_err());
        assert!(OrderId::parse("503 1").is_err());
        let sku = Sku::parse("カップ/L").unwrap();
        assert_eq!(sku.path_segment(), "%E3%82%AB%E3%83%83%E3%83%97%2FL");
        assert!(Sku::parse("a\nb").is_err());
        assert!(MarketplaceId::parse("A1VC38T7YXB528").is_ok());
        assert!(MarketplaceId::parse("a1vc").is_err());
        // Stored as the bare string, and checked when read back.
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"503-1234567-1234567\"");
        assert_eq!(serde_json::from_str::<OrderId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<OrderId>("\"a/b\"").is_err());
    }

    #[test]
    fn money_is_held_in_minor_units_of_its_currency() {
        assert_eq!(Money::parse("1200", jpy()).unwrap().minor, 1200);
        assert!(
            Money::parse("1200.5", jpy()).is_err(),
            "yen has no decimals"
        );
        assert_eq!(Money::parse("1200.00", jpy()).unwrap().minor, 1200);
        assert_eq!(Money::parse("12.5", usd()).unwrap().minor, 1250);
        assert_eq!(Money::parse("-3.25", usd()).unwrap().minor, -325);
        assert!(Money::parse("1e3", usd()).is_err());
        assert!(Money::parse("", usd()).is_err());
        assert!(Money::parse("99999999999999999999", usd()).is_err());
        assert_eq!(Money::parse("12.5", usd()).unwrap().to_string(), "12.50");
        assert_eq!(Money::new(-5, usd()).to_string(), "-0.05");
        assert_eq!(Money::new(1200, jpy()).to_string(), "1200");
        // 10% of ¥1,205 is ¥120.5, rounded to ¥121.
        assert_eq!(Money::new(1205, jpy()).percent_bp(1000).minor, 121);
    }
}
