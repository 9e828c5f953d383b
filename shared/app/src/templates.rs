//! The seller's message templates as the operator's commands manage them (`kenzen templates
//! show|set|reset|vars|preview`): the template in effect for each language and kind (stored or
//! kenzen's default), setting one with validation errors that say exactly what is wrong,
//! resetting it to the default, the shop name and signature, and a preview against a stored
//! case or a sample one.
//!
//! Over the store ports only. Nothing invalid is ever written: a template or shop name that does
//! not validate is refused here with every problem listed. It reads no clock (a preview's time
//! is the caller's) and prints nothing (the command does).

use jiff::Timestamp;
use kenzen_core::marketplace::Language;
use kenzen_core::templates::{
    Ignored, InvalidTemplate, InvalidVar, Rendered, SellerVars, Source, Template, TemplateKind,
    TemplateSet, Var, sample_case,
};
use kenzen_core::{Case, MarketplaceId, MessageKind, OrderId, Strategy};

use crate::ports::{CaseStore, StoreError, TemplateStore};

/// Why a template command failed.
#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    /// The template does not validate; nothing was stored.
    #[error("{0}\nNothing was stored.")]
    Invalid(#[from] InvalidTemplate),
    /// The shop name or signature does not validate; nothing was stored.
    #[error("{0}\nNothing was stored.")]
    InvalidVar(#[from] InvalidVar),
    /// The preview's order has no case in the table.
    #[error("there is no case for order {0} in the table (preview a sample order instead)")]
    NoCase(OrderId),
    /// The table could not be read or written.
    #[error("the templates could not be read or written: {0}")]
    Store(#[from] StoreError),
}

/// The template in effect for one language and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateEntry {
    pub lang: Language,
    pub kind: TemplateKind,
    /// The template's text, with its `{variables}`.
    pub text: String,
    pub source: Source,
    /// A stored template for this language and kind that is not used, and why (the default is
    /// in effect instead).
    pub ignored: Option<String>,
}

/// Every template in effect, the shop name and signature, and stored items not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateListing {
    /// One entry per language and kind, languages in [`Language::ALL`] order.
    pub templates: Vec<TemplateEntry>,
    pub vars: SellerVars,
    /// Every stored item not used (including those no entry covers, such as a language this
    /// version does not know).
    pub ignored: Vec<Ignored>,
}

/// What a `set` stored, and what the seller may want to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOutcome {
    pub template: Template,
    /// Things that are allowed but probably not meant (a variable that will be empty, a request
    /// that does not say where to cancel).
    pub warnings: Vec<String>,
}

/// Which case a preview fills the template with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewCase {
    /// The stored case of this order.
    Stored(OrderId),
    /// A made-up order with one product, on this marketplace under this strategy.
    Sample {
        marketplace_id: MarketplaceId,
        strategy: Strategy,
    },
}

/// Which template a preview shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewOf {
    /// This template, whatever the case's state.
    Kind(TemplateKind),
    /// The template kenzen would pick for this message at the preview's time (a later request:
    /// by the previous one's local date; the final message: by the case's strategy).
    Message(MessageKind),
}

/// What to preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRequest {
    pub lang: Language,
    pub of: PreviewOf,
    pub case: PreviewCase,
    /// When the message would go out.
    pub at: Timestamp,
    /// When the previous request went out (`None`: as the case says).
    pub previous: Option<Timestamp>,
    /// A text to preview in place of the template in effect (validated first; not stored).
    pub draft: Option<String>,
}

/// A preview: the text the buyer would get, and what it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub rendered: Rendered,
    /// The text's length in characters (Amazon allows 2000).
    pub chars: usize,
    /// The order the text was filled in for.
    pub order_id: OrderId,
}

/// The stored templates, validated, with what was not used.
async fn load<S: TemplateStore>(store: &S) -> Result<(TemplateSet, Vec<Ignored>), StoreError> {
    let stored = store.stored_templates().await?;
    Ok(TemplateSet::build(
        stored
            .templates
            .iter()
            .map(|t| (t.lang.as_str(), t.kind.as_str(), t.text.as_str())),
        stored.vars.as_ref().map(|(n, s)| (n.as_str(), s.as_str())),
    ))
}

fn entry(
    set: &TemplateSet,
    ignored: &[Ignored],
    lang: Language,
    kind: TemplateKind,
) -> TemplateEntry {
    let (template, source) = set.effective(lang, kind);
    let key = format!("{}#{}", lang.code(), kind.name());
    TemplateEntry {
        lang,
        kind,
        text: template.text().to_string(),
        source,
        ignored: ignored.iter().find(|i| i.key == key).map(|i| i.why.clone()),
    }
}

/// Every template in effect (stored or default), the shop name and signature, and the stored
/// items that are not used and why.
pub async fn list<S: TemplateStore>(store: &S) -> Result<TemplateListing, TemplatesError> {
    let (set, ignored) = load(store).await?;
    let templates = Language::ALL
        .into_iter()
        .flat_map(|lang| TemplateKind::ALL.into_iter().map(move |kind| (lang, kind)))
        .map(|(lang, kind)| entry(&set, &ignored, lang, kind))
        .collect();
    Ok(TemplateListing {
        templates,
        vars: set.vars().clone(),
        ignored,
    })
}

/// The template in effect for `lang` and `kind`.
pub async fn show<S: TemplateStore>(
    store: &S,
    lang: Language,
    kind: TemplateKind,
) -> Result<TemplateEntry, TemplatesError> {
    let (set, ignored) = load(store).await?;
    Ok(entry(&set, &ignored, lang, kind))
}

/// Validates `text` as the template for `lang` and `kind` and stores it; an invalid one is
/// refused with every problem and where it is, and nothing is stored.
pub async fn set<S: TemplateStore>(
    store: &S,
    lang: Language,
    kind: TemplateKind,
    text: &str,
) -> Result<SetOutcome, TemplatesError> {
    let template = Template::new(lang, kind, text)?;
    let (current, _) = load(store).await?;
    store.put_template(&template).await?;
    let warnings = warnings(&template, current.vars());
    Ok(SetOutcome { template, warnings })
}

fn warnings(template: &Template, vars: &SellerVars) -> Vec<String> {
    let mut w = Vec::new();
    if template.uses(Var::ShopName) && vars.shop_name().is_empty() {
        w.push(
            "it uses {shop_name}, but no shop name is set: it will be empty until one is".into(),
        );
    }
    if template.uses(Var::Signature) && vars.signature_or_shop().is_empty() {
        w.push(
            "it uses {signature}, but neither a signature nor a shop name is set: it will be \
             empty until one is"
                .into(),
        );
    }
    let asks = matches!(
        template.kind(),
        TemplateKind::Request | TemplateKind::RequestAgainToday | TemplateKind::RequestAgainLater
    );
    if asks && !template.uses(Var::CancelPath) {
        w.push(
            "it does not use {cancel_path}: make sure it tells the buyer where to request the \
             cancellation on Amazon"
                .into(),
        );
    }
    w
}

/// Removes the stored template for `lang` and `kind`; returns the default now in effect.
pub async fn reset<S: TemplateStore>(
    store: &S,
    lang: Language,
    kind: TemplateKind,
) -> Result<TemplateEntry, TemplatesError> {
    store.delete_template(lang, kind).await?;
    Ok(TemplateEntry {
        lang,
        kind,
        text: Template::default_for(lang, kind).text().to_string(),
        source: Source::Default,
        ignored: None,
    })
}

/// Sets the shop name and signature (`None` keeps what is stored; `Some("")` clears it), after
/// validating both; returns what is now stored.
pub async fn set_vars<S: TemplateStore>(
    store: &S,
    shop_name: Option<&str>,
    signature: Option<&str>,
) -> Result<SellerVars, TemplatesError> {
    let (current, _) = load(store).await?;
    let vars = SellerVars::new(
        shop_name.unwrap_or(current.vars().shop_name()),
        signature.unwrap_or(current.vars().signature()),
    )?;
    store.put_template_vars(&vars).await?;
    Ok(vars)
}

/// The text a buyer would get: the template in effect (or `draft`) filled in for the stored
/// case or a sample one, at the request's time.
pub async fn preview<S: TemplateStore + CaseStore>(
    store: &S,
    req: &PreviewRequest,
) -> Result<Preview, TemplatesError> {
    let (mut set, _) = load(store).await?;
    let case: Case = match &req.case {
        PreviewCase::Stored(order_id) => {
            store
                .get_case(order_id)
                .await?
                .ok_or_else(|| TemplatesError::NoCase(order_id.clone()))?
                .value
        }
        PreviewCase::Sample {
            marketplace_id,
            strategy,
        } => sample_case(req.lang, marketplace_id.clone(), *strategy, req.at),
    };
    let previous = req.previous.or(case.last_request_at);
    let kind = match req.of {
        PreviewOf::Kind(kind) => kind,
        PreviewOf::Message(message) => TemplateKind::for_message(&case, message, req.at, previous),
    };
    if let Some(draft) = &req.draft {
        set.set(Template::new(req.lang, kind, draft)?);
    }
    let rendered = set.render_kind(&case, kind, req.lang);
    Ok(Preview {
        chars: rendered.text.chars().count(),
        order_id: case.order_id.clone(),
        rendered,
    })
}
