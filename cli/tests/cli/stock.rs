//! `kenzen stock import`: 5,000 lines into the table (new, changed and unchanged told apart,
//! kenzen's own attributes kept), a dry run that writes nothing, and a file with bad lines that
//! reports them all and writes nothing.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::Result;
use aws_sdk_dynamodb::types::AttributeValue;
use kenzen_app::ports::{Reserve, StockAdmin, StockStore};
use kenzen_core::Sku;

use crate::{env_for, kenzen, world};

const LINES: usize = 5_000;

fn sku(n: usize) -> String {
    format!("SKU-{n:05}")
}

/// A stock file of `LINES` lines: on hand `n % 17`, a unit cost on every third line.
fn csv(on_hand: impl Fn(usize) -> u32) -> String {
    let mut text = String::from("sku,on_hand,unit_cost,shipping_cost\n");
    for n in 0..LINES {
        let cost = if n % 3 == 0 { "500" } else { "" };
        writeln!(text, "{},{},{cost},", sku(n), on_hand(n)).unwrap();
    }
    text
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> Result<String> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path.display().to_string())
}

async fn raw_item(
    w: &kenzen_tests::harness::World,
    sku: &str,
) -> Result<HashMap<String, AttributeValue>> {
    let ddb = aws_sdk_dynamodb::Client::new(&w.aws);
    Ok(ddb
        .get_item()
        .table_name(&w.table)
        .key("pk", AttributeValue::S(format!("SKU#{sku}")))
        .key("sk", AttributeValue::S("STOCK".into()))
        .consistent_read(true)
        .send()
        .await?
        .item
        .unwrap_or_default())
}

#[tokio::test]
async fn five_thousand_lines_are_imported_in_batches_keeping_kenzens_own_attributes() -> Result<()>
{
    let w = world().await?;
    let dir = std::env::temp_dir().join(format!("kenzen-cli-stock-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = w.store();
    // Before: SKU 1 has 9 on hand, a reservation and a product type; SKU 2 already says what the
    // file says.
    w.stock(&sku(1), 10).await?;
    assert_eq!(
        store
            .reserve(&Sku::parse(&sku(1))?, 1, &"503-0300001-0000001".parse()?)
            .await?,
        Reserve::Reserved
    );
    store
        .set_product_type(&Sku::parse(&sku(1))?, "KITCHEN")
        .await?;
    w.stock(&sku(2), 2).await?;
    let env = env_for(&w);
    let file = write(&dir, "stock.csv", &csv(|n| (n % 17) as u32))?;

    let run = kenzen(&env, &["stock", "import", &file, "--json"])
        .await?
        .expect(0);
    let summary = run.json();
    assert_eq!(summary["lines"], LINES);
    assert_eq!(summary["new"], LINES - 2);
    assert_eq!(summary["changed"], 1);
    assert_eq!(summary["unchanged"], 1);
    assert_eq!(summary["written"], true);
    assert_eq!(
        summary["changes"][0],
        serde_json::json!({"sku": sku(1), "on_hand": {"from": "9", "to": "1"}})
    );
    let seconds = summary["seconds"].as_f64().expect("seconds");
    eprintln!("imported {LINES} lines in {seconds:.2} s");

    let skus: Vec<Sku> = (0..LINES).map(|n| Sku::parse(&sku(n)).unwrap()).collect();
    let levels = store.stock_levels(&skus).await?;
    assert_eq!(levels.found.len(), LINES, "every line is in the table");
    assert!(levels.unreadable.is_empty());
    for n in [0, 3, 4_999, 2_500, 17] {
        let info = &levels.found[&skus[n]];
        assert_eq!(info.on_hand, Some((n % 17) as u32), "{}", sku(n));
        assert_eq!(
            info.unit_cost.as_deref(),
            (n % 3 == 0).then_some("500"),
            "{}",
            sku(n)
        );
    }
    // kenzen's record of the order holding a unit, and the product type, are kept.
    let kept = raw_item(&w, &sku(1)).await?;
    assert_eq!(kept.get("on_hand"), Some(&AttributeValue::N("1".into())));
    assert_eq!(
        kept.get("reserved"),
        Some(&AttributeValue::Ss(vec!["503-0300001-0000001".into()]))
    );
    assert_eq!(
        kept.get("product_type"),
        Some(&AttributeValue::S("KITCHEN".into()))
    );

    // The same file again changes nothing; the text summary says so.
    let again = kenzen(&env, &["stock", "import", &file]).await?.expect(0);
    assert!(
        again.stdout.contains(&format!(
            "{LINES} lines from {file} into table {}: 0 new, 0 changed, {LINES} unchanged",
            w.table
        )),
        "{}",
        again.stdout
    );

    // A dry run of a changed file shows the change and writes nothing.
    let changed = write(
        &dir,
        "changed.csv",
        &csv(|n| if n < 60 { 100 } else { (n % 17) as u32 }),
    )?;
    let dry = kenzen(&env, &["stock", "import", &changed, "--dry-run"])
        .await?
        .expect(0);
    assert!(
        dry.stdout
            .starts_with("Dry run, nothing written: 5000 lines")
            && dry.stdout.contains("0 new, 60 changed, 4940 unchanged"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains(&format!("  {}: on_hand 0 → 100", sku(0))),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("… and 10 more changed"),
        "{}",
        dry.stdout
    );
    let after = store.stock_levels(&skus[..60]).await?;
    assert_eq!(
        after.found[&skus[0]].on_hand,
        Some(0),
        "the dry run wrote nothing"
    );

    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test]
async fn a_file_with_bad_lines_reports_every_one_and_writes_nothing() -> Result<()> {
    let w = world().await?;
    let dir = std::env::temp_dir().join(format!("kenzen-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    w.stock(&sku(7), 3).await?;
    let mut text = csv(|_| 12);
    // Three bad lines among 5,000 good ones (line numbers count the header as line 1).
    text = text.replace("SKU-01000,12,", "SKU-01000,twelve,");
    text = text.replace("SKU-02000,12,", "SKU-02000,-4,");
    text.push_str("SKU-00007,5,,\n");
    let file = write(&dir, "bad.csv", &text)?;
    let env = env_for(&w);

    let run = kenzen(&env, &["stock", "import", &file]).await?.expect(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "three bad lines and the verdict:\n{}",
        run.stderr
    );
    assert!(
        lines[0].contains("line 1002: on_hand \"twelve\" is not a whole number"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("line 2002: on_hand \"-4\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("line 5002: SKU SKU-00007 is also on line 9"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("3 bad lines") && lines[3].contains("nothing written"),
        "{}",
        lines[3]
    );

    let json = kenzen(&env, &["stock", "import", &file, "--json"])
        .await?
        .expect(1)
        .json();
    assert_eq!(json["written"], false);
    assert_eq!(json["bad_lines"].as_array().map(Vec::len), Some(3));

    let skus: Vec<Sku> = (0..LINES).map(|n| Sku::parse(&sku(n)).unwrap()).collect();
    let levels = w.store().stock_levels(&skus).await?;
    assert_eq!(levels.found.len(), 1, "only the item that was there before");
    assert_eq!(levels.found[&skus[7]].on_hand, Some(3));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
