//! The marketplaces kenzen knows: one table, one row per Amazon marketplace, with everything
//! kenzen needs to know about it. The only place these facts are written down; the SP-API host,
//! the local time zone, the currency and the default buyer language all come from here.

/// A language kenzen has message templates in (the buyer's, or the marketplace's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    Japanese,
    English,
    German,
    French,
    Italian,
    Spanish,
}

impl Language {
    /// Every language, in the order listings show them.
    pub const ALL: [Language; 6] = [
        Self::Japanese,
        Self::English,
        Self::German,
        Self::French,
        Self::Italian,
        Self::Spanish,
    ];

    /// The ISO 639-1 code: `ja`, `en`, `de`, `fr`, `it`, `es`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Japanese => "ja",
            Self::English => "en",
            Self::German => "de",
            Self::French => "fr",
            Self::Italian => "it",
            Self::Spanish => "es",
        }
    }

    /// The language with this ISO 639-1 code (any case), if kenzen has templates in it.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The language of a locale tag such as `ja-JP`, `de_DE` or `fr` (any case), if kenzen has
    /// templates in it.
    pub fn of_locale(locale: &str) -> Option<Self> {
        let code = locale.trim().split(['-', '_']).next().unwrap_or("");
        Self::from_code(code)
    }

    /// `ja` / `ja-JP` (any case) is Japanese, `de-DE` German, and so on for every language
    /// kenzen has; any other locale, or none, gets English.
    pub fn from_locale(locale: Option<&str>) -> Self {
        locale.and_then(Self::of_locale).unwrap_or(Self::English)
    }

    /// The language to write to a buyer in: the buyer's own (Amazon's `buyer.locale`) when
    /// kenzen has it; English for a locale kenzen has no templates in; the marketplace's
    /// language when Amazon gives no locale (English for a marketplace kenzen does not know).
    pub fn for_buyer(locale: Option<&str>, marketplace_id: &str) -> Self {
        match locale.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => Self::of_locale(l).unwrap_or(Self::English),
            None => find(marketplace_id).map_or(Self::English, |m| m.language),
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Language {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_code(s).ok_or_else(|| {
            let codes: Vec<&str> = Self::ALL.iter().map(|l| l.code()).collect();
            format!(
                "{s:?} is not a language kenzen has templates in: use one of {}",
                codes.join(", ")
            )
        })
    }
}

/// The SP-API region that serves a marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    NorthAmerica,
    Europe,
    FarEast,
}

impl Region {
    /// The SP-API host of the region.
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::NorthAmerica => "https://sellingpartnerapi-na.amazon.com",
            Self::Europe => "https://sellingpartnerapi-eu.amazon.com",
            Self::FarEast => "https://sellingpartnerapi-fe.amazon.com",
        }
    }
}

/// A currency, with the number of digits after the decimal point of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    /// ISO 4217 code, e.g. `JPY`.
    pub code: &'static str,
    /// `0` for JPY, `2` for USD and EUR.
    pub minor_digits: u8,
}

/// One Amazon marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marketplace {
    pub id: &'static str,
    /// Country code, e.g. `JP`.
    pub country: &'static str,
    pub region: Region,
    /// The IANA time zone of the marketplace's local time (quiet hours, send slots).
    pub time_zone: &'static str,
    pub currency: Currency,
    /// The language of messages to a buyer whose own locale Amazon does not give.
    pub language: Language,
}

impl Marketplace {
    /// The SP-API host for this marketplace.
    pub fn endpoint(&self) -> &'static str {
        self.region.endpoint()
    }
}

const fn cur(code: &'static str, minor_digits: u8) -> Currency {
    Currency { code, minor_digits }
}

const fn row(
    id: &'static str,
    country: &'static str,
    region: Region,
    time_zone: &'static str,
    currency: Currency,
) -> Marketplace {
    // The site's own language; Belgium's default is French (Amazon.com.be also has Dutch).
    let language = match country.as_bytes() {
        b"JP" => Language::Japanese,
        b"DE" => Language::German,
        b"FR" | b"BE" => Language::French,
        b"IT" => Language::Italian,
        b"ES" | b"MX" => Language::Spanish,
        _ => Language::English,
    };
    Marketplace {
        id,
        country,
        region,
        time_zone,
        currency,
        language,
    }
}

use Region::{Europe as EU, FarEast as FE, NorthAmerica as NA};

/// Every marketplace kenzen knows (Amazon's marketplace ids).
pub const MARKETPLACES: &[Marketplace] = &[
    row("A1VC38T7YXB528", "JP", FE, "Asia/Tokyo", cur("JPY", 0)),
    row(
        "A39IBJ37TRP1C6",
        "AU",
        FE,
        "Australia/Sydney",
        cur("AUD", 2),
    ),
    row("A19VAU5U5O7RUS", "SG", FE, "Asia/Singapore", cur("SGD", 2)),
    row(
        "ATVPDKIKX0DER",
        "US",
        NA,
        "America/Los_Angeles",
        cur("USD", 2),
    ),
    row("A2EUQ1WTGCTBG2", "CA", NA, "America/Toronto", cur("CAD", 2)),
    row(
        "A1AM78C64UM0Y8",
        "MX",
        NA,
        "America/Mexico_City",
        cur("MXN", 2),
    ),
    row(
        "A2Q3Y263D00KWC",
        "BR",
        NA,
        "America/Sao_Paulo",
        cur("BRL", 2),
    ),
    row("A1F83G8C2ARO7P", "GB", EU, "Europe/London", cur("GBP", 2)),
    row("A1PA6795UKMFR9", "DE", EU, "Europe/Berlin", cur("EUR", 2)),
    row("A13V1IB3VIYZZH", "FR", EU, "Europe/Paris", cur("EUR", 2)),
    row("APJ6JRA9NG5V4", "IT", EU, "Europe/Rome", cur("EUR", 2)),
    row("A1RKKUPIHCS9HS", "ES", EU, "Europe/Madrid", cur("EUR", 2)),
    row(
        "A1805IZSGTT6HS",
        "NL",
        EU,
        "Europe/Amsterdam",
        cur("EUR", 2),
    ),
    row(
        "A2NODRKZP88ZB9",
        "SE",
        EU,
        "Europe/Stockholm",
        cur("SEK", 2),
    ),
    row("A1C3SOZRARQ6R3", "PL", EU, "Europe/Warsaw", cur("PLN", 2)),
    row("AMEN7PMS3EDWL", "BE", EU, "Europe/Brussels", cur("EUR", 2)),
    row("A33AVAJ2PDY3EV", "TR", EU, "Europe/Istanbul", cur("TRY", 2)),
    row("A21TJRUUN4KGV", "IN", EU, "Asia/Kolkata", cur("INR", 2)),
    row("A2VIGQ35RCS4UG", "AE", EU, "Asia/Dubai", cur("AED", 2)),
    row("A17E79C6D8DWNP", "SA", EU, "Asia/Riyadh", cur("SAR", 2)),
    row("ARBP9OOSHTCHU", "EG", EU, "Africa/Cairo", cur("EGP", 2)),
];

impl Currency {
    /// The currency with this ISO code, if a marketplace kenzen knows uses it.
    pub fn from_code(code: &str) -> Option<Currency> {
        MARKETPLACES
            .iter()
            .map(|m| m.currency)
            .find(|c| c.code == code)
    }
}

/// The marketplace with this id, if kenzen knows it.
pub fn find(id: &str) -> Option<&'static Marketplace> {
    MARKETPLACES.iter().find(|m| m.id == id)
}

/// Why a list of marketplaces cannot be served by one stack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    #[error("no marketplace given")]
    Empty,
    #[error("marketplace {0} is not in kenzen's table")]
    Unknown(String),
    #[error("marketplace {0} is listed twice")]
    Twice(String),
    #[error(
        "marketplace {odd} ({odd_country}) is served by the SP-API {odd_region:?} endpoint, \
         the others by {region:?}: one stack serves the marketplaces of one region (deploy one \
         stack per region)"
    )]
    OtherRegion {
        odd: String,
        odd_country: &'static str,
        odd_region: Region,
        region: Region,
    },
}

/// The marketplaces one stack serves, checked: each known to kenzen, none twice, all on one
/// SP-API endpoint (a seller account's marketplaces in one region, e.g. the EU unified
/// account). The error names the marketplace at fault.
pub fn stack(ids: &[&str]) -> Result<Vec<&'static Marketplace>, StackError> {
    let mut out: Vec<&'static Marketplace> = Vec::with_capacity(ids.len());
    for id in ids {
        let m = find(id).ok_or_else(|| StackError::Unknown(id.to_string()))?;
        if out.iter().any(|o| o.id == m.id) {
            return Err(StackError::Twice(m.id.to_string()));
        }
        out.push(m);
    }
    let first = *out.first().ok_or(StackError::Empty)?;
    // The odd one out: the first whose region differs from the most common one (the first
    // marketplace's when there is a tie).
    let count = |r: Region| out.iter().filter(|m| m.region == r).count();
    let region = out.iter().map(|m| m.region).fold(first.region, |best, r| {
        if count(r) > count(best) { r } else { best }
    });
    match out.iter().find(|m| m.region != region) {
        Some(odd) => Err(StackError::OtherRegion {
            odd: odd.id.to_string(),
            odd_country: odd.country,
            odd_region: odd.region,
            region,
        }),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_a_real_time_zone_and_a_unique_id() {
        for (i, m) in MARKETPLACES.iter().enumerate() {
            assert!(jiff::tz::TimeZone::get(m.time_zone).is_ok(), "{}", m.id);
            assert!(
                MARKETPLACES[i + 1..].iter().all(|o| o.id != m.id),
                "{}",
                m.id
            );
        }
        let jp = find("A1VC38T7YXB528").unwrap();
        assert_eq!(jp.endpoint(), "https://sellingpartnerapi-fe.amazon.com");
        assert_eq!((jp.currency.code, jp.currency.minor_digits), ("JPY", 0));
        assert_eq!(jp.language, Language::Japanese);
        assert_eq!(find("ATVPDKIKX0DER").unwrap().language, Language::English);
        assert!(find("XX").is_none());
        assert_eq!(find("A1PA6795UKMFR9").unwrap().language, Language::German);
    }

    #[test]
    fn a_buyer_gets_their_own_language_and_else_the_sites_or_english() {
        let de = "A1PA6795UKMFR9";
        assert_eq!(Language::for_buyer(Some("fr-FR"), de), Language::French);
        assert_eq!(Language::for_buyer(Some("it_IT"), de), Language::Italian);
        assert_eq!(Language::for_buyer(Some("JA-jp"), de), Language::Japanese);
        assert_eq!(Language::for_buyer(Some("zh-CN"), de), Language::English);
        assert_eq!(Language::for_buyer(None, de), Language::German);
        assert_eq!(
            Language::for_buyer(Some(""), "A1RKKUPIHCS9HS"),
            Language::Spanish
        );
        assert_eq!(Language::for_buyer(None, "XX"), Language::English);
        assert_eq!(Language::from_locale(Some("es-MX")), Language::Spanish);
        assert_eq!(Language::from_locale(None), Language::English);
        for l in Language::ALL {
            assert_eq!(l.code().parse::<Language>(), Ok(l));
        }
        assert!(
            "pt".parse::<Language>()
                .unwrap_err()
                .contains("ja, en, de, fr, it, es")
        );
    }

    #[test]
    fn a_buyer_without_a_locale_gets_the_marketplaces_language() {
        assert_eq!(
            Language::for_buyer(None, "A1VC38T7YXB528"),
            Language::Japanese
        );
        assert_eq!(
            Language::for_buyer(Some(" "), "A1VC38T7YXB528"),
            Language::Japanese
        );
        assert_eq!(
            Language::for_buyer(Some("en-US"), "A1VC38T7YXB528"),
            Language::English
        );
        assert_eq!(
            Language::for_buyer(Some("ja-JP"), "A1PA6795UKMFR9"),
            Language::Japanese
        );
        assert_eq!(
            Language::for_buyer(None, "A1PA6795UKMFR9"),
            Language::German
        );
        assert_eq!(Language::for_buyer(None, "UNKNOWN1"), Language::English);
    }

    #[test]
    fn one_stack_serves_the_marketplaces_of_one_region_and_names_the_odd_one() {
        let (de, fr, uk, jp, us) = (
            "A1PA6795UKMFR9",
            "A13V1IB3VIYZZH",
            "A1F83G8C2ARO7P",
            "A1VC38T7YXB528",
            "ATVPDKIKX0DER",
        );
        let eu = stack(&[de, fr, uk]).unwrap();
        assert_eq!(eu.len(), 3);
        assert!(eu.iter().all(|m| m.endpoint() == Region::Europe.endpoint()));
        assert_eq!(stack(&[jp]).unwrap()[0].id, jp);
        let err = stack(&[de, fr, jp]).unwrap_err();
        assert!(matches!(&err, StackError::OtherRegion { odd, .. } if odd == jp));
        assert!(err.to_string().contains(jp), "{err}");
        // The odd one is the one outside the majority, wherever it is listed.
        let err = stack(&[us, de, fr]).unwrap_err();
        assert!(matches!(&err, StackError::OtherRegion { odd, .. } if odd == us));
        assert_eq!(stack(&[]).unwrap_err(), StackError::Empty);
        assert_eq!(
            stack(&[de, "ZZZZZZZZZ"]).unwrap_err(),
            StackError::Unknown("ZZZZZZZZZ".into())
        );
        assert_eq!(stack(&[de, de]).unwrap_err(), StackError::Twice(de.into()));
    }
}
