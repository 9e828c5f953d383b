//! `kenzen templates`: the buyer message templates the seller owns (kenzen_app::templates):
//! show the ones in effect, set one from a file (validated first: nothing invalid is stored),
//! reset to kenzen's default, set the shop name and signature, and preview the text a buyer
//! would get. Never prints buyer data (cases hold none).

use anyhow::{Context, Result, anyhow};
use kenzen_app::templates::{self as tpl, PreviewCase, PreviewOf, PreviewRequest};
use kenzen_core::marketplace::Language;
use kenzen_core::templates::TemplateKind;
use kenzen_core::{OrderId, Strategy};
use serde_json::json;

use crate::Outcome;
use crate::args::TemplatesCommand;
use crate::deployment::Ctx;

fn lang(code: &str) -> Result<Language> {
    Language::from_code(code.trim()).ok_or_else(|| {
        anyhow!("{code:?} is not a language kenzen writes: use ja, en, de, fr, it or es")
    })
}

fn kind(name: &str) -> Result<TemplateKind> {
    name.parse::<TemplateKind>().map_err(|_| {
        anyhow!(
            "{name:?} is not a template kind: use request, request-again-today, \
             request-again-later, final-notice or cancel-first"
        )
    })
}

fn read_text(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("could not read the template file {}", path.display()))
}

pub async fn run(ctx: &Ctx, cmd: TemplatesCommand) -> Result<Outcome> {
    let store = ctx.store().await?;
    match cmd {
        TemplatesCommand::Show { lang: l, kind: k } => {
            let l = l.as_deref().map(lang).transpose()?;
            let k = k.as_deref().map(kind).transpose()?;
            let listing = tpl::list(&store).await?;
            let shown: Vec<_> = listing
                .templates
                .iter()
                .filter(|e| l.is_none_or(|l| e.lang == l) && k.is_none_or(|k| e.kind == k))
                .collect();
            if ctx.json {
                let items: Vec<_> = shown
                    .iter()
                    .map(|e| {
                        json!({"lang": e.lang.code(), "kind": e.kind.name(),
                               "source": e.source.name(), "text": e.text,
                               "ignored": e.ignored})
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "shop_name": listing.vars.shop_name(),
                        "signature": listing.vars.signature(),
                        "templates": items,
                    }))?
                );
            } else {
                println!(
                    "shop name: {:?}   signature: {:?}",
                    listing.vars.shop_name(),
                    listing.vars.signature()
                );
                for e in shown {
                    println!(
                        "\n== {} {} ({}{})",
                        e.lang.code(),
                        e.kind.name(),
                        e.source.name(),
                        e.ignored
                            .as_deref()
                            .map(|w| format!("; your stored one is not used: {w}"))
                            .unwrap_or_default()
                    );
                    println!("{}", e.text);
                }
            }
            Ok(Outcome::Ok)
        }
        TemplatesCommand::Set {
            lang: l,
            kind: k,
            file,
        } => {
            let text = read_text(&file)?;
            let out = tpl::set(&store, lang(&l)?, kind(&k)?, &text).await?;
            println!("stored your {} {} template", l.trim(), k.trim());
            for w in &out.warnings {
                println!("note: {w}");
            }
            Ok(Outcome::Ok)
        }
        TemplatesCommand::Reset { lang: l, kind: k } => {
            tpl::reset(&store, lang(&l)?, kind(&k)?).await?;
            println!("{} {}: kenzen's default applies again", l.trim(), k.trim());
            Ok(Outcome::Ok)
        }
        TemplatesCommand::Vars {
            shop_name,
            signature,
        } => {
            let vars = tpl::set_vars(&store, shop_name.as_deref(), signature.as_deref()).await?;
            println!(
                "shop name: {:?}   signature: {:?}",
                vars.shop_name(),
                vars.signature()
            );
            Ok(Outcome::Ok)
        }
        TemplatesCommand::Preview {
            lang: l,
            kind: k,
            order,
            draft,
        } => {
            let case = match order {
                Some(o) => PreviewCase::Stored(
                    OrderId::parse(&o).map_err(|e| anyhow!("order {o:?}: {e}"))?,
                ),
                None => PreviewCase::Sample {
                    marketplace_id: {
                        let m = ctx.marketplace().await?;
                        kenzen_core::MarketplaceId::parse(&m)
                            .map_err(|e| anyhow!("marketplace {m:?}: {e}"))?
                    },
                    strategy: Strategy::AskBuyer,
                },
            };
            let draft = draft.as_deref().map(read_text).transpose()?;
            let req = PreviewRequest {
                lang: lang(&l)?,
                of: PreviewOf::Kind(kind(&k)?),
                case,
                at: jiff::Timestamp::now(),
                previous: None,
                draft,
            };
            let p = tpl::preview(&store, &req).await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "order_id": p.order_id.to_string(), "lang": p.rendered.lang.code(),
                        "kind": p.rendered.kind.name(), "source": p.rendered.source.name(),
                        "chars": p.chars, "text": p.rendered.text,
                    }))?
                );
            } else {
                println!(
                    "== {} {} for order {} ({} characters of 2000; {})\n{}",
                    p.rendered.lang.code(),
                    p.rendered.kind.name(),
                    p.order_id,
                    p.chars,
                    p.rendered.source.name(),
                    p.rendered.text
                );
            }
            Ok(Outcome::Ok)
        }
    }
}
