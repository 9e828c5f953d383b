//! `kenzen stock import FILE.csv`: the seller's stock levels into the stock table.
//!
//! Every line is checked before anything is written, and every bad line is reported (line
//! number and why); one bad line writes nothing. Then the table is read in batches, the change
//! worked out (new, changed, unchanged) and written: new items in batches, changed ones by
//! update so kenzen's own attributes on them stay. It must not write anything on a dry run.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use kenzen_app::ports::{StockAdmin, StockFigures, StockLevels};
use kenzen_core::marketplace::Currency;
use kenzen_core::{Money, Sku, SkuInfo};
use serde_json::{Value, json};

use crate::Outcome;
use crate::deployment::Ctx;
use crate::failure::store_failure;

/// One bad line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub why: String,
}

/// A checked line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLine {
    pub line: u64,
    pub figures: StockFigures,
}

const COLUMNS: [&str; 4] = ["sku", "on_hand", "unit_cost", "shipping_cost"];

/// Checks a cost cell: empty is "not given"; otherwise a non-negative amount, in `currency`'s
/// minor units when it is known.
fn cost(cell: &str, name: &str, currency: Option<Currency>) -> Result<Option<String>, String> {
    let v = cell.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.starts_with('-') {
        return Err(format!("{name} {v:?} is negative"));
    }
    let plain = v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && v.bytes().filter(|b| *b == b'.').count() <= 1
        && !v.starts_with('.')
        && !v.ends_with('.');
    if !plain {
        return Err(format!(
            "{name} {v:?} is not a plain number (digits and at most one decimal point, no \
             currency sign or thousands separator)"
        ));
    }
    if let Some(c) = currency {
        Money::parse(v, c).map_err(|why| format!("{name}: {why}"))?;
    } else if v.len() > 20 {
        return Err(format!("{name} {v:?} is too large"));
    }
    Ok(Some(v.to_string()))
}

/// Reads and checks the whole file: every line's figures, or every bad line. `currency` checks
/// the costs' decimal places (the marketplace's currency, when known).
pub fn parse(text: &[u8], currency: Option<Currency>) -> Result<Vec<StockLine>, Vec<BadLine>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let bad = |line: u64, why: String| BadLine { line, why };
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![bad(1, csv_error(&e))]),
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}').trim();
        let lower = name.to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == lower) {
            Some(c) if index.contains_key(c) => {
                errors.push(bad(1, format!("column {c} appears twice in the header")))
            }
            Some(c) => {
                index.insert(c, i);
            }
            None => errors.push(bad(
                1,
                format!(
                    "unknown column {name:?}: the header is sku,on_hand and optionally \
                     unit_cost,shipping_cost"
                ),
            )),
        }
    }
    for required in ["sku", "on_hand"] {
        if !index.contains_key(required) {
            errors.push(bad(1, format!("the header has no {required} column")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let width = header.len();
    let mut lines = Vec::new();
    let mut first_line: BTreeMap<String, u64> = BTreeMap::new();
    // Line numbers are counted from the bytes: the reader neither counts blank lines nor
    // starts a record's position after the blank lines before it.
    let mut counted = (0usize, 1u64);
    let mut line_at = |byte: u64| {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
        while byte < text.len() && matches!(text[byte], b'\n' | b'\r') {
            byte += 1;
        }
        let (from, line) = counted;
        let newlines = text[from.min(byte)..byte]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted = (byte.max(from), line + newlines as u64);
        counted.1
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                errors.push(bad(line, csv_error(&e)));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        if record.len() != width {
            errors.push(bad(
                line,
                format!("{} fields, but the header has {width}", record.len()),
            ));
            continue;
        }
        let cell = |name: &str| index.get(name).map_or("", |i| &record[*i]);
        let mut why = Vec::new();
        let sku = match Sku::parse(cell("sku")) {
            Ok(s) => Some(s),
            Err(e) => {
                why.push(e.to_string());
                None
            }
        };
        let on_hand = match cell("on_hand") {
            "" => {
                why.push("on_hand is empty".into());
                None
            }
            v if v.bytes().all(|b| b.is_ascii_digit()) => match v.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    why.push(format!("on_hand {v} is too large"));
                    None
                }
            },
            v => {
                why.push(format!(
                    "on_hand {v:?} is not a whole number of units (0 or more)"
                ));
                None
            }
        };
        let unit_cost = cost(cell("unit_cost"), "unit_cost", currency).unwrap_or_else(|w| {
            why.push(w);
            None
        });
        let shipping_cost =
            cost(cell("shipping_cost"), "shipping_cost", currency).unwrap_or_else(|w| {
                why.push(w);
                None
            });
        if let Some(s) = &sku {
            if let Some(first) = first_line.get(s.as_str()) {
                why.push(format!("SKU {s} is also on line {first}"));
            } else {
                first_line.insert(s.to_string(), line);
            }
        }
        match (sku, on_hand) {
            (Some(sku), Some(on_hand)) if why.is_empty() => lines.push(StockLine {
                line,
                figures: StockFigures {
                    sku,
                    on_hand,
                    unit_cost,
                    shipping_cost,
                },
            }),
            _ => errors.push(bad(line, why.join("; "))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(lines)
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "not UTF-8 text: save the file as \"CSV UTF-8\" (not Shift_JIS)".into()
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields, but the header has {expected_len}"),
        _ => format!("unreadable CSV: {e}"),
    }
}

/// The same amount written two ways ("500", "500.00", "0500") is the same.
fn same_amount(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim();
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let whole = whole.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        (whole.to_string(), frac.to_string())
    };
    norm(a) == norm(b)
}

/// One changed attribute: its name, before, after.
pub type Changed = (&'static str, String, String);

/// One SKU whose figures change, and each attribute that does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub sku: Sku,
    pub changes: Vec<Changed>,
}

/// What an import does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub new: Vec<StockFigures>,
    pub changed: Vec<(StockFigures, Change)>,
    pub unchanged: usize,
}

/// Works out the change from what the table holds.
pub fn plan(lines: &[StockLine], levels: &StockLevels) -> Plan {
    let mut plan = Plan::default();
    for l in lines {
        let f = &l.figures;
        if let Some(why) = levels.unreadable.get(&f.sku) {
            plan.changed.push((
                f.clone(),
                Change {
                    sku: f.sku.clone(),
                    changes: vec![(
                        "item",
                        format!("unreadable ({why})"),
                        "set from the file".into(),
                    )],
                },
            ));
            continue;
        }
        let Some(info) = levels.found.get(&f.sku) else {
            plan.new.push(f.clone());
            continue;
        };
        let changes = diff(f, info);
        if changes.is_empty() {
            plan.unchanged += 1;
        } else {
            plan.changed.push((
                f.clone(),
                Change {
                    sku: f.sku.clone(),
                    changes,
                },
            ));
        }
    }
    plan
}

fn diff(f: &StockFigures, info: &SkuInfo) -> Vec<Changed> {
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    let mut out = Vec::new();
    if info.on_hand != Some(f.on_hand) {
        out.push((
            "on_hand",
            info.on_hand.map_or("none".into(), |n| n.to_string()),
            f.on_hand.to_string(),
        ));
    }
    for (name, new, old) in [
        ("unit_cost", &f.unit_cost, &info.unit_cost),
        ("shipping_cost", &f.shipping_cost, &info.shipping_cost),
    ] {
        if let Some(n) = new
            && !old.as_deref().is_some_and(|o| same_amount(o, n))
        {
            out.push((name, shown(old), n.clone()));
        }
    }
    out
}

/// How many changed SKUs the text summary lists one by one.
const LISTED: usize = 50;

/// `kenzen stock import FILE [--dry-run]`.
pub async fn import(ctx: &Ctx, file: &Path, dry_run: bool) -> Result<Outcome> {
    let started = Instant::now();
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // The costs' decimal places are checked against the marketplace currency when it is known.
    let currency = match ctx.marketplace().await {
        Ok(mp) => kenzen_core::marketplace::find(&mp).map(|m| m.currency),
        Err(_) => None,
    };
    let lines = match parse(&text, currency) {
        Ok(lines) => lines,
        Err(bad) => {
            if ctx.json {
                let out = json!({
                    "file": file.display().to_string(),
                    "written": false,
                    "bad_lines": bad.iter().map(|b| json!({"line": b.line, "why": b.why})).collect::<Vec<_>>(),
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for b in &bad {
                    eprintln!("{} line {}: {}", file.display(), b.line, b.why);
                }
            }
            return Err(anyhow!(
                "{} bad line{} in {}: nothing written; fix {} and import again",
                bad.len(),
                if bad.len() == 1 { "" } else { "s" },
                file.display(),
                if bad.len() == 1 { "it" } else { "them" }
            ));
        }
    };
    if lines.is_empty() {
        return Err(anyhow!(
            "{} has no stock lines under its header: nothing to import",
            file.display()
        ));
    }
    let table = ctx.table().await?;
    let store = ctx.store().await?;
    let skus: Vec<Sku> = lines.iter().map(|l| l.figures.sku.clone()).collect();
    let levels = store
        .stock_levels(&skus)
        .await
        .map_err(|e| anyhow!("{}", store_failure(&table, &e)))?;
    let plan = plan(&lines, &levels);
    if !dry_run {
        let written = |e| {
            anyhow!(
                "{}; items written before the failure stay written, and the import is safe to run \
                 again",
                store_failure(&table, &e)
            )
        };
        store.create_stock(&plan.new).await.map_err(written)?;
        let changed: Vec<StockFigures> = plan.changed.iter().map(|(f, _)| f.clone()).collect();
        store.set_stock(&changed).await.map_err(written)?;
    }
    let took = started.elapsed();
    if ctx.json {
        let out = json!({
            "file": file.display().to_string(),
            "table": table,
            "dry_run": dry_run,
            "written": !dry_run,
            "lines": lines.len(),
            "new": plan.new.len(),
            "changed": plan.changed.len(),
            "unchanged": plan.unchanged,
            "seconds": took.as_secs_f64(),
            "changes": plan.changed.iter().map(|(_, c)| change_json(c)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{}{} lines from {} into table {table}: {} new, {} changed, {} unchanged ({:.1} s).",
            if dry_run {
                "Dry run, nothing written: "
            } else {
                ""
            },
            lines.len(),
            file.display(),
            plan.new.len(),
            plan.changed.len(),
            plan.unchanged,
            took.as_secs_f64()
        );
        for (_, c) in plan.changed.iter().take(LISTED) {
            let parts: Vec<String> = c
                .changes
                .iter()
                .map(|(name, a, b)| format!("{name} {a} → {b}"))
                .collect();
            println!("  {}: {}", c.sku, parts.join(", "));
        }
        if plan.changed.len() > LISTED {
            println!(
                "  … and {} more changed (all of them with --json)",
                plan.changed.len() - LISTED
            );
        }
    }
    Ok(Outcome::Ok)
}

fn change_json(c: &Change) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("sku".into(), json!(c.sku));
    for (name, a, b) in &c.changes {
        m.insert((*name).into(), json!({"from": a, "to": b}));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpy() -> Option<Currency> {
        kenzen_core::marketplace::find("A1VC38T7YXB528").map(|m| m.currency)
    }

    #[test]
    fn a_good_file_reads_with_or_without_costs_a_bom_and_spaces() {
        let text = "\u{feff}sku, on_hand ,unit_cost\nCUP,3,500\n 皿-01 ,0,\n\nBOWL,12,1200\n";
        let lines = parse(text.as_bytes(), jpy()).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].figures.unit_cost.as_deref(), Some("500"));
        assert_eq!(lines[1].figures.sku.as_str(), "皿-01");
        assert_eq!(lines[1].figures.unit_cost, None);
        assert_eq!(lines[2].line, 5);
        assert_eq!(lines[2].figures.on_hand, 12);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number_and_why() {
        let text = "sku,on_hand,unit_cost,shipping_cost\n\
                    CUP,3,500,\n\
                    ,2,,\n\
                    PLATE,-1,,\n\
                    BOWL,1.5,,\n\
                    CUP,4,,\n\
                    SPOON,2,1.5,\n\
                    FORK,2,¥300,\n\
                    KNIFE,2\n\
                    MUG,99999999999,,\n";
        let bad = parse(text.as_bytes(), jpy()).unwrap_err();
        let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10], "{bad:#?}");
        let why = |n: u64| bad.iter().find(|b| b.line == n).unwrap().why.clone();
        assert!(why(3).contains("empty"), "{}", why(3));
        assert!(why(4).contains("whole number"), "{}", why(4));
        assert!(why(5).contains("whole number"), "{}", why(5));
        assert!(why(6).contains("also on line 2"), "{}", why(6));
        assert!(why(7).contains("decimal places"), "{}", why(7));
        assert!(why(8).contains("plain number"), "{}", why(8));
        assert!(
            why(9).contains("2 fields, but the header has 4"),
            "{}",
            why(9)
        );
        assert!(why(10).contains("too large"), "{}", why(10));
    }

    #[test]
    fn a_header_without_the_needed_columns_or_with_unknown_ones_is_refused() {
        let bad = parse(b"sku,quantity\nCUP,1\n", jpy()).unwrap_err();
        assert!(
            bad.iter()
                .any(|b| b.why.contains("unknown column \"quantity\""))
        );
        assert!(bad.iter().any(|b| b.why.contains("no on_hand column")));
        assert!(bad.iter().all(|b| b.line == 1));
    }

    #[test]
    fn text_that_is_not_utf8_says_how_to_save_it() {
        // "在庫" in Shift_JIS.
        let mut text = b"sku,on_hand\n".to_vec();
        text.extend_from_slice(&[0x8d, 0xdd, 0x8c, 0xc9, b',', b'1', b'\n']);
        let bad = parse(&text, jpy()).unwrap_err();
        assert_eq!(bad[0].line, 2);
        assert!(bad[0].why.contains("UTF-8"), "{}", bad[0].why);
    }

    #[test]
    fn the_plan_tells_new_changed_and_unchanged_apart_and_equal_amounts_are_unchanged() {
        let lines = parse(
            b"sku,on_hand,unit_cost\nNEW,1,\nSAME,2,500.0\nMORE,5,\nCOST,2,450\nBROKEN,1,\n",
            jpy(),
        )
        .unwrap();
        let info = |n: u32, cost: Option<&str>| SkuInfo {
            on_hand: Some(n),
            unit_cost: cost.map(str::to_string),
            shipping_cost: None,
            product_type: Some("HOME".into()),
        };
        let sku = |s: &str| Sku::parse(s).unwrap();
        let levels = StockLevels {
            found: [
                (sku("SAME"), info(2, Some("500"))),
                (sku("MORE"), info(3, Some("700"))),
                (sku("COST"), info(2, Some("500"))),
            ]
            .into(),
            unreadable: [(sku("BROKEN"), "on_hand is not a number".into())].into(),
        };
        let p = plan(&lines, &levels);
        assert_eq!(p.new.len(), 1);
        assert_eq!(p.unchanged, 1);
        let changed: Vec<(String, Vec<Changed>)> = p
            .changed
            .iter()
            .map(|(_, c)| (c.sku.to_string(), c.changes.clone()))
            .collect();
        assert_eq!(
            changed,
            [
                (
                    "MORE".to_string(),
                    vec![("on_hand", "3".to_string(), "5".to_string())]
                ),
                (
                    "COST".to_string(),
                    vec![("unit_cost", "500".to_string(), "450".to_string())]
                ),
                (
                    "BROKEN".to_string(),
                    vec![(
                        "item",
                        "unreadable (on_hand is not a number)".to_string(),
                        "set from the file".to_string()
                    )]
                ),
            ]
        );
    }
}
