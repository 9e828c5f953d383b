//! The buyer messages as templates the seller owns: one text per language and message kind,
//! with variables kenzen fills in from the case. kenzen's own texts ([`defaults`]) apply
//! wherever the seller has stored none.
//!
//! A [`Template`] exists only validated: it names the order (`{order_id}`), uses no variable
//! kenzen does not know, holds no HTML, e-mail address or link, and stays within Amazon's 2000
//! characters when filled with the longest product list, order id, shop name and signature it
//! can get. [`TemplateSet::render`] picks the template for a message (a later request says
//! "earlier today" or "the other day" by the marketplace's local date of the previous one) and
//! fills it in.
//!
//! Pure: no IO and no clock. The send time and the previous send time are passed in; where
//! templates are stored is the service's business.

mod defaults;

pub use defaults::cancel_path;

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::case::{Case, CaseItem, CaseState, OpenReason, Strategy};
use crate::decide::MessageKind;
use crate::ids::MarketplaceId;
use crate::marketplace::Language;
use crate::message::{self, MAX_CHARS};

/// Which message a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TemplateKind {
    /// The first request: asks the buyer to request the cancellation on Amazon themselves.
    Request,
    /// A later request, sent on the same local day as the one before it ("earlier today").
    RequestAgainToday,
    /// A later request, sent on a later local day than the one before it ("the other day").
    RequestAgainLater,
    /// Ask-buyer: the final apology, before kenzen cancels the order itself.
    FinalNotice,
    /// Cancel-first: the apology sent before the NoInventory cancel.
    CancelFirst,
}

impl TemplateKind {
    /// Every kind, in the order a message can go out.
    pub const ALL: [TemplateKind; 5] = [
        Self::Request,
        Self::RequestAgainToday,
        Self::RequestAgainLater,
        Self::FinalNotice,
        Self::CancelFirst,
    ];

    /// The name commands and the store use: `request`, `request-again-today`,
    /// `request-again-later`, `final-notice`, `cancel-first`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::RequestAgainToday => "request-again-today",
            Self::RequestAgainLater => "request-again-later",
            Self::FinalNotice => "final-notice",
            Self::CancelFirst => "cancel-first",
        }
    }

    /// The kind with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name.trim())
    }

    /// One line saying when the message goes out.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Request => "ask-buyer: the first request to cancel through Amazon",
            Self::RequestAgainToday => {
                "ask-buyer: a later request, on the same local day as the previous one"
            }
            Self::RequestAgainLater => {
                "ask-buyer: a later request, on a later local day than the previous one"
            }
            Self::FinalNotice => "ask-buyer: the final apology before kenzen cancels",
            Self::CancelFirst => "cancel-first: the apology before the NoInventory cancel",
        }
    }

    /// The template for `message` to the buyer of `case`, sent at `now`: the first request, a
    /// later one by whether `previous` (the last request's send time) falls on the same local
    /// date as `now` in the marketplace's time zone, or the final apology of the case's
    /// strategy. Without `previous` (cases stored before kenzen kept it) the previous request
    /// is known to be today when the case opened today, and is taken to be earlier otherwise.
    pub fn for_message(
        case: &Case,
        message: MessageKind,
        now: Timestamp,
        previous: Option<Timestamp>,
    ) -> Self {
        match message {
            MessageKind::Request(n) if n <= 1 => Self::Request,
            MessageKind::Request(_) => {
                let tz = TimeZone::get(crate::policy::marketplace_time_zone(&case.marketplace_id))
                    .unwrap_or(TimeZone::UTC);
                let day = |t: Timestamp| t.to_zoned(tz.clone()).date();
                let earlier = previous.unwrap_or(case.opened_at);
                if earlier >= now || day(earlier) == day(now) {
                    Self::RequestAgainToday
                } else {
                    Self::RequestAgainLater
                }
            }
            MessageKind::FinalNotice => match case.strategy {
                Strategy::AskBuyer => Self::FinalNotice,
                Strategy::CancelFirst => Self::CancelFirst,
            },
        }
    }
}

impl std::fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for TemplateKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_name(s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
            format!(
                "{s:?} is not a message kind: use one of {}",
                names.join(", ")
            )
        })
    }
}

/// A variable a template may use, written `{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// The Amazon order id. Every template must use it.
    OrderId,
    /// The ordered products' titles, cleaned and shortened (at most five, then "(+n)").
    Products,
    /// The seller's shop name (empty until set).
    ShopName,
    /// The seller's signature; the shop name when no signature is set.
    Signature,
    /// Where the buyer requests a cancellation on Amazon, in the template's language.
    CancelPath,
}

impl Var {
    /// Every variable.
    pub const ALL: [Var; 5] = [
        Self::OrderId,
        Self::Products,
        Self::ShopName,
        Self::Signature,
        Self::CancelPath,
    ];

    /// The name between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Self::OrderId => "order_id",
            Self::Products => "products",
            Self::ShopName => "shop_name",
            Self::Signature => "signature",
            Self::CancelPath => "cancel_path",
        }
    }

    /// One line saying what the variable becomes.
    pub fn describe(self) -> &'static str {
        match self {
            Self::OrderId => "the Amazon order id (required in every template)",
            Self::Products => "the ordered products' titles, shortened (at most five, then (+n))",
            Self::ShopName => "your shop name (kenzen templates set-vars)",
            Self::Signature => "your signature; your shop name when no signature is set",
            Self::CancelPath => {
                "where the buyer requests a cancellation on Amazon, in the language"
            }
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    fn known() -> String {
        let names: Vec<String> = Self::ALL
            .iter()
            .map(|v| format!("{{{}}}", v.name()))
            .collect();
        names.join(", ")
    }
}

/// Something that keeps a template (or the shop name or signature) from being used. Positions
/// are 1-based lines and columns in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the text is empty")]
    Empty,
    #[error(
        "the text does not contain {{order_id}}: every message must name the order it is about"
    )]
    NoOrderId,
    #[error("line {line}, column {column}: unknown variable {{{name}}}; the variables are {known}", known = Var::known())]
    UnknownVariable {
        line: usize,
        column: usize,
        name: String,
    },
    #[error(
        "line {line}, column {column}: this `{{` opens no variable (write {{{{ for a brace itself)"
    )]
    UnclosedBrace { line: usize, column: usize },
    #[error(
        "line {line}, column {column}: this `}}` closes no variable (write }}}} for a brace itself)"
    )]
    StrayBrace { line: usize, column: usize },
    #[error(
        "line {line}, column {column}: `{found}` is HTML to Amazon, which allows none in buyer \
         messages (for an arrow, write →)"
    )]
    Html {
        line: usize,
        column: usize,
        found: char,
    },
    #[error(
        "line {line}, column {column}: `@` — Amazon allows no e-mail address in buyer messages"
    )]
    Email { line: usize, column: usize },
    #[error(
        "line {line}, column {column}: `{found}` is a web address; Amazon allows no links in \
         this message"
    )]
    Link {
        line: usize,
        column: usize,
        found: String,
    },
    #[error("line {line}, column {column}: control character U+{code:04X} is not allowed")]
    ControlChar {
        line: usize,
        column: usize,
        code: u32,
    },
    #[error("it must be one line")]
    NotOneLine,
    #[error("it is {chars} characters; at most {max} are allowed")]
    FieldTooLong { chars: usize, max: usize },
    #[error(
        "filled with the longest product list, order id, shop name and signature it may get, \
         the message comes to {chars} characters; Amazon allows {MAX_CHARS}: shorten it by at \
         least {over}",
        over = chars - MAX_CHARS
    )]
    TooLong { chars: usize },
    #[error("filled in for a sample order, the message breaks Amazon's rules: {why}")]
    Rendered { why: String },
}

/// A template that cannot be used, and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {lang} {kind} template cannot be used:{}", list(problems))]
pub struct InvalidTemplate {
    pub lang: Language,
    pub kind: TemplateKind,
    pub problems: Vec<Problem>,
}

/// A shop name or signature that cannot be used, and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {field} cannot be used:{}", list(problems))]
pub struct InvalidVar {
    /// `shop name` or `signature`.
    pub field: &'static str,
    pub problems: Vec<Problem>,
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// At most this many problems are reported for one text (the first of each are the useful ones).
const MAX_PROBLEMS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Var(Var),
}

/// A template that passed validation: the only kind the service renders or the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    lang: Language,
    kind: TemplateKind,
    text: String,
    segments: Vec<Segment>,
}

/// The values a template is filled with.
struct Values<'a> {
    order_id: &'a str,
    products: &'a str,
    shop_name: &'a str,
    signature: &'a str,
    cancel_path: &'a str,
}

impl Values<'_> {
    fn get(&self, var: Var) -> &str {
        match var {
            Var::OrderId => self.order_id,
            Var::Products => self.products,
            Var::ShopName => self.shop_name,
            Var::Signature => self.signature,
            Var::CancelPath => self.cancel_path,
        }
    }
}

/// Line and column (1-based, in characters) of each character index of `text`.
fn position(text: &str, index: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in text.chars().take(index) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Windows and old-Mac line ends become `\n`; the text is trimmed at both ends.
fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_string()
}

/// The problems of the seller's own characters in `text`: HTML, e-mail addresses, links and
/// control characters (`\n` only where `lines` allows, `\t` always).
fn character_problems(text: &str, lines: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut html = false;
    let mut email = false;
    for (i, c) in text.chars().enumerate() {
        let at = || position(text, i);
        match c {
            '<' | '>' if !html => {
                html = true;
                let (line, column) = at();
                problems.push(Problem::Html {
                    line,
                    column,
                    found: c,
                });
            }
            '@' if !email => {
                email = true;
                let (line, column) = at();
                problems.push(Problem::Email { line, column });
            }
            '\n' if !lines => problems.push(Problem::NotOneLine),
            '\n' | '\t' => {}
            c if c.is_control() => {
                let (line, column) = at();
                problems.push(Problem::ControlChar {
                    line,
                    column,
                    code: u32::from(c),
                });
            }
            _ => {}
        }
    }
    if let Some((i, found)) = message::find_link(text) {
        let (line, column) = position(text, i);
        problems.push(Problem::Link {
            line,
            column,
            found,
        });
    }
    problems.dedup();
    problems
}

/// Splits `text` into literal text and variables, or says what is wrong with its braces and
/// variable names.
fn parse(text: &str) -> Result<Vec<Segment>, Vec<Problem>> {
    let chars: Vec<char> = text.chars().collect();
    let mut segments = Vec::new();
    let mut problems = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                literal.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                literal.push('}');
                i += 2;
            }
            '{' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '}' || c == '{' || c == '\n')
                    .map(|p| i + 1 + p)
                    .filter(|&p| chars[p] == '}');
                let (line, column) = position(text, i);
                match close {
                    Some(end) => {
                        let name: String = chars[i + 1..end].iter().collect();
                        match Var::from_name(name.trim()) {
                            Some(var) => {
                                if !literal.is_empty() {
                                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                                }
                                segments.push(Segment::Var(var));
                            }
                            None => problems.push(Problem::UnknownVariable { line, column, name }),
                        }
                        i = end + 1;
                    }
                    None => {
                        problems.push(Problem::UnclosedBrace { line, column });
                        i += 1;
                    }
                }
            }
            '}' => {
                let (line, column) = position(text, i);
                problems.push(Problem::StrayBrace { line, column });
                i += 1;
            }
            c => {
                literal.push(c);
                i += 1;
            }
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    if problems.is_empty() {
        Ok(segments)
    } else {
        Err(problems)
    }
}

/// Joins the filled-in template: no line ends in spaces, at most one empty line in a row
/// (an empty shop name or signature leaves no hole), no empty lines at either end.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

impl Template {
    /// Validates `text` as the template for `lang` and `kind`: every problem is reported, each
    /// with where it is and what to do.
    pub fn new(lang: Language, kind: TemplateKind, text: &str) -> Result<Self, InvalidTemplate> {
        let invalid = |mut problems: Vec<Problem>| {
            problems.truncate(MAX_PROBLEMS);
            InvalidTemplate {
                lang,
                kind,
                problems,
            }
        };
        let text = normalise(text);
        if text.is_empty() {
            return Err(invalid(vec![Problem::Empty]));
        }
        let mut problems = character_problems(&text, true);
        let segments = match parse(&text) {
            Ok(segments) => Some(segments),
            Err(mut p) => {
                problems.append(&mut p);
                None
            }
        };
        let template = segments.map(|segments| Template {
            lang,
            kind,
            text: text.clone(),
            segments,
        });
        let names_order = match &template {
            Some(t) => t.uses(Var::OrderId),
            None => text.contains("{order_id}"),
        };
        if !names_order {
            problems.push(Problem::NoOrderId);
        }
        let Some(template) = template.filter(|_| problems.is_empty()) else {
            return Err(invalid(problems));
        };
        let worst = template.fill(&Values {
            order_id: &"9".repeat(64),
            products: &message::worst_product_list(),
            shop_name: &"W".repeat(SellerVars::MAX_SHOP_NAME_CHARS),
            signature: &"W".repeat(SellerVars::MAX_SIGNATURE_CHARS),
            cancel_path: cancel_path(lang),
        });
        let chars = worst.chars().count();
        if chars > MAX_CHARS {
            return Err(invalid(vec![Problem::TooLong { chars }]));
        }
        let sample = template.fill(&Values {
            order_id: "503-1234567-7654321",
            products: "Sample product",
            shop_name: "Sample Shop",
            signature: "Sample Shop\nCustomer service",
            cancel_path: cancel_path(lang),
        });
        let why = message::check_text(&sample)
            .err()
            .map(str::to_string)
            .or_else(|| {
                message::find_link(&sample).map(|(_, l)| format!("it contains a web address ({l})"))
            });
        if let Some(why) = why {
            return Err(invalid(vec![Problem::Rendered { why }]));
        }
        Ok(template)
    }

    /// kenzen's own template for `lang` and `kind` (each validates: tests check them all).
    pub fn default_for(lang: Language, kind: TemplateKind) -> Self {
        let text = defaults::text(lang, kind);
        Template {
            lang,
            kind,
            text: normalise(text),
            segments: parse(&normalise(text)).unwrap_or_else(|_| vec![Segment::Text(text.into())]),
        }
    }

    pub fn lang(&self) -> Language {
        self.lang
    }

    pub fn kind(&self) -> TemplateKind {
        self.kind
    }

    /// The template as the seller wrote it (line ends normalised, trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the template uses `var`.
    pub fn uses(&self, var: Var) -> bool {
        self.segments.contains(&Segment::Var(var))
    }

    fn fill(&self, values: &Values<'_>) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Var(v) => out.push_str(values.get(*v)),
            }
        }
        tidy(&out)
    }
}

/// The seller's shop name and signature, validated: one line of at most 100 characters, and at
/// most 300 characters, neither with HTML, an e-mail address or a link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SellerVars {
    shop_name: String,
    signature: String,
}

impl SellerVars {
    pub const MAX_SHOP_NAME_CHARS: usize = 100;
    pub const MAX_SIGNATURE_CHARS: usize = 300;

    /// Validates a shop name and a signature (either may be empty).
    pub fn new(shop_name: &str, signature: &str) -> Result<Self, InvalidVar> {
        let shop_name = normalise(shop_name);
        let signature = normalise(signature);
        check_var("shop name", &shop_name, false, Self::MAX_SHOP_NAME_CHARS)?;
        check_var("signature", &signature, true, Self::MAX_SIGNATURE_CHARS)?;
        Ok(Self {
            shop_name,
            signature,
        })
    }

    pub fn shop_name(&self) -> &str {
        &self.shop_name
    }

    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// What `{signature}` becomes: the signature, or the shop name when no signature is set.
    pub fn signature_or_shop(&self) -> &str {
        if self.signature.is_empty() {
            &self.shop_name
        } else {
            &self.signature
        }
    }
}

fn check_var(field: &'static str, value: &str, lines: bool, max: usize) -> Result<(), InvalidVar> {
    let mut problems = character_problems(value, lines);
    let chars = value.chars().count();
    if chars > max {
        problems.push(Problem::FieldTooLong { chars, max });
    }
    problems.truncate(MAX_PROBLEMS);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InvalidVar { field, problems })
    }
}

/// Where the template a text was made from came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// kenzen's own text.
    Default,
    /// The seller's stored template.
    Stored,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Stored => "stored",
        }
    }
}

/// A stored item that was not used, and why (its key holds no buyer data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// `<lang>#<kind>` as stored, or `VARS`.
    pub key: String,
    pub why: String,
}

/// A message text ready to send, and what it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub lang: Language,
    pub kind: TemplateKind,
    pub source: Source,
}

/// The templates in effect: the seller's stored ones over kenzen's defaults, and the seller's
/// shop name and signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateSet {
    stored: BTreeMap<(Language, TemplateKind), Template>,
    vars: SellerVars,
}

impl TemplateSet {
    /// kenzen's defaults only, with no shop name or signature.
    pub fn defaults() -> Self {
        Self::default()
    }

    /// The set from what is stored: `(language code, kind name, text)` for each template, and
    /// the shop name and signature. Every item that does not validate (or names a language or
    /// kind this version does not know) is left out and returned with the reason, and the
    /// default applies in its place.
    pub fn build<'a>(
        stored: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
        vars: Option<(&str, &str)>,
    ) -> (Self, Vec<Ignored>) {
        let mut set = Self::default();
        let mut ignored = Vec::new();
        for (lang, kind, text) in stored {
            let key = format!("{lang}#{kind}");
            let parsed = lang
                .parse::<Language>()
                .and_then(|l| kind.parse::<TemplateKind>().map(|k| (l, k)))
                .and_then(|(l, k)| Template::new(l, k, text).map_err(|e| e.to_string()));
            match parsed {
                Ok(t) => set.set(t),
                Err(why) => ignored.push(Ignored { key, why }),
            }
        }
        if let Some((shop_name, signature)) = vars {
            match SellerVars::new(shop_name, signature) {
                Ok(v) => set.vars = v,
                Err(e) => ignored.push(Ignored {
                    key: "VARS".into(),
                    why: e.to_string(),
                }),
            }
        }
        (set, ignored)
    }

    /// Puts `template` in place of what its language and kind had.
    pub fn set(&mut self, template: Template) {
        self.stored.insert((template.lang, template.kind), template);
    }

    /// Removes the stored template of `lang` and `kind`: the default applies again.
    pub fn reset(&mut self, lang: Language, kind: TemplateKind) {
        self.stored.remove(&(lang, kind));
    }

    pub fn set_vars(&mut self, vars: SellerVars) {
        self.vars = vars;
    }

    pub fn vars(&self) -> &SellerVars {
        &self.vars
    }

    /// The seller's stored template for `lang` and `kind`, if there is one.
    pub fn stored(&self, lang: Language, kind: TemplateKind) -> Option<&Template> {
        self.stored.get(&(lang, kind))
    }

    /// The template in effect for `lang` and `kind`, and where it comes from.
    pub fn effective(&self, lang: Language, kind: TemplateKind) -> (Template, Source) {
        match self.stored(lang, kind) {
            Some(t) => (t.clone(), Source::Stored),
            None => (Template::default_for(lang, kind), Source::Default),
        }
    }

    /// The text of `message` to the buyer of `case` in `lang`, sent at `now`; `previous` is
    /// when the last request went out (see [`TemplateKind::for_message`]).
    pub fn render(
        &self,
        case: &Case,
        message: MessageKind,
        lang: Language,
        now: Timestamp,
        previous: Option<Timestamp>,
    ) -> Rendered {
        self.render_kind(
            case,
            TemplateKind::for_message(case, message, now, previous),
            lang,
        )
    }

    /// The text of the `kind` template in `lang`, filled in for `case`. (A template that
    /// validated gives a text within Amazon's rules for any case: a property test holds it.)
    pub fn render_kind(&self, case: &Case, kind: TemplateKind, lang: Language) -> Rendered {
        let products = message::product_list(case);
        let values = Values {
            order_id: &case.order_id,
            products: &products,
            shop_name: self.vars.shop_name(),
            signature: self.vars.signature_or_shop(),
            cancel_path: cancel_path(lang),
        };
        let (template, source) = self.effective(lang, kind);
        Rendered {
            text: message::fit(template.fill(&values)),
            lang,
            kind,
            source,
        }
    }
}

/// A made-up case to preview templates with: one product, a title in `lang`, opened at `now`
/// on `marketplace_id` under `strategy`, order id `503-0000000-0000000`.
pub fn sample_case(
    lang: Language,
    marketplace_id: MarketplaceId,
    strategy: Strategy,
    now: Timestamp,
) -> Case {
    let title = match lang {
        Language::Japanese => "有田焼 湯呑み 2個セット",
        Language::English => "Ceramic tea cup, set of 2",
        Language::German => "Teetasse aus Keramik, 2er-Set",
        Language::French => "Tasse à thé en céramique, lot de 2",
        Language::Italian => "Tazza da tè in ceramica, set da 2",
        Language::Spanish => "Taza de té de cerámica, juego de 2",
    };
    // Constants that parse (a test builds the sample case).
    let sku: crate::ids::Sku = "SAMPLE-1".parse().expect("a valid SKU");
    let order_id: crate::ids::OrderId = "503-0000000-0000000".parse().expect("a valid order id");
    Case {
        order_id,
        marketplace_id,
        opened_at: now,
        ship_by: now + jiff::SignedDuration::from_hours(48),
        reason: OpenReason::StockShort {
            sku: sku.clone(),
            on_hand: 0,
            ordered: 1,
        },
        strategy,
        items: vec![CaseItem {
            order_item_id: "1".into(),
            sku,
            title: title.into(),
            quantity: 1,
        }],
        requests_sent: 0,
        slots_used: Vec::new(),
        final_notice_at: now,
        cancel_by: now,
        state: CaseState::Requesting {
            next_at: None,
            sending: None,
        },
        pending: Vec::new(),
        lines_cancelled: Vec::new(),
        outcomes_unknown: 0,
        alerts_raised: Vec::new(),
        final_sent: None,
        buyer_locale: None,
        messaging_offered: false,
        dry_run: false,
        approved: None,
        approval_asked: None,
        last_request_at: None,
        strategy_choice: None,
        projected_rate: None,
        earlier_feed_plan: None,
    }
}

#[cfg(test)]
mod tests;
