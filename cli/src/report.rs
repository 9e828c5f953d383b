//! `kenzen report`: the seller report of the last days (kenzen_app::seller_report), printed as
//! text (or JSON) and, on request, written as one self-contained HTML page. Reads only.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use kenzen_app::seller_report::SellerReport;

use crate::Outcome;
use crate::deployment::Ctx;
use crate::failure::store_failure;

pub async fn run(
    ctx: &Ctx,
    days: u32,
    html: Option<&Path>,
    until: Option<&str>,
) -> Result<Outcome> {
    let now = match until {
        None => jiff::Timestamp::now(),
        Some(t) => t.parse::<jiff::Timestamp>().map_err(|e| {
            anyhow!("--until {t:?} is not a time like 2026-12-04T09:00:00+09:00: {e}")
        })?,
    };
    let store = ctx.store().await?;
    let report = SellerReport::build(&store, now, days)
        .await
        .map_err(|e| anyhow!("{}", store_failure(store.table(), &e)))?;
    if let Some(path) = html {
        std::fs::write(path, report.render_html())
            .with_context(|| format!("could not write the HTML report to {}", path.display()))?;
    }
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
        if let Some(path) = html {
            println!("HTML report: {}", path.display());
        }
    }
    Ok(Outcome::Ok)
}
