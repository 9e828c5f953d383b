//! `kenzen report` after a dry run through the real handlers (nothing reaches the simulator,
//! the report shows what would have happened), and `kenzen templates` (set, show, preview, a
//! refused template that stores nothing).

use anyhow::Result;

use crate::{env_for, hours, kenzen, mins, order, t0, world};

#[tokio::test]
async fn a_dry_run_writes_nothing_to_amazon_and_the_report_shows_what_would_have_happened()
-> Result<()> {
    let mut w = world().await?;
    let env = env_for(&w);
    kenzen(&env, &["mode", "dry-run"]).await?.expect(0);
    w.stock("CUP", 0).await?;
    let id = "503-0100009-0000001";
    w.sim.add_order(order(id, t0() + mins(3), "CUP"));
    w.run_until(t0() + hours(50)).await?;

    let writes: Vec<String> = w
        .sim
        .log()
        .iter()
        .filter_map(|l| {
            let method = l["method"].as_str()?;
            let path = l["path"].as_str()?;
            kenzen_tests::scenario::acts_on_the_marketplace(method, path)
                .then(|| format!("{method} {path}"))
        })
        .collect();
    assert_eq!(
        writes,
        Vec::<String>::new(),
        "a dry run writes nothing to the marketplace"
    );
    // It still reads Amazon's account-health figures (a report request changes nothing).
    assert!(
        w.sim
            .log()
            .iter()
            .any(|l| l["path"] == "/reports/2021-06-30/reports"),
        "the dry run asks for the seller performance report"
    );

    let html = std::env::temp_dir().join(format!("kenzen-report-{}.html", std::process::id()));
    let until = (t0() + hours(50)).to_string();
    let args = ["report", "--days", "7", "--until", &until, "--json"];
    let json = kenzen(&env, &args).await?.expect(0).json();
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{json:#}");
    let row = &rows[0];
    assert_eq!(row["order_id"], id);
    let ending = row["ending"].to_string();
    assert!(
        ending.contains("would"),
        "a rehearsal's ending says would: {ending}"
    );
    let text = kenzen(
        &env,
        &[
            "report",
            "--days",
            "7",
            "--until",
            &until,
            "--html",
            html.to_str().unwrap(),
        ],
    )
    .await?
    .expect(0);
    assert!(text.stdout.contains(id), "{}", text.stdout);
    let page = std::fs::read_to_string(&html)?;
    assert!(
        page.contains(&format!("data-order=\"{id}\"")),
        "the row is in the page"
    );
    let _ = std::fs::remove_file(&html);
    Ok(())
}

#[tokio::test]
async fn a_seller_template_is_stored_shown_and_previewed_and_a_bad_one_stores_nothing() -> Result<()>
{
    let w = world().await?;
    let env = env_for(&w);
    let dir = std::env::temp_dir().join(format!("kenzen-tpl-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let good = dir.join("good.txt");
    std::fs::write(
        &good,
        "【{shop_name}】ご注文 {order_id}（{products}）は在庫切れです。{cancel_path}からキャンセルをリクエストしてください。\n{signature}",
    )?;
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "See https://example.com about {order}")?;

    kenzen(&env, &["templates", "vars", "--shop-name", "健全茶舗"])
        .await?
        .expect(0);
    let set = ["templates", "set", "--lang", "ja", "--kind", "request"];
    let mut args = set.to_vec();
    args.push(good.to_str().unwrap());
    kenzen(&env, &args).await?.expect(0);

    let mut args = set.to_vec();
    args.push(bad.to_str().unwrap());
    let refused = kenzen(&env, &args).await?;
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("Nothing was stored"),
        "{}",
        refused.stderr
    );

    let shown = kenzen(
        &env,
        &[
            "templates",
            "show",
            "--lang",
            "ja",
            "--kind",
            "request",
            "--json",
        ],
    )
    .await?
    .expect(0)
    .json();
    assert_eq!(shown["templates"][0]["source"], "stored");
    let stored = shown["templates"][0]["text"].as_str().unwrap();
    assert!(
        stored.starts_with("【{shop_name}】"),
        "the template as stored: {stored}"
    );

    let preview = kenzen(
        &env,
        &[
            "templates",
            "preview",
            "--lang",
            "ja",
            "--kind",
            "request",
            "--json",
        ],
    )
    .await?
    .expect(0)
    .json();
    let text = preview["text"].as_str().unwrap();
    assert!(text.starts_with("【健全茶舗】ご注文 "), "{text}");
    assert!(!text.contains('{'), "every variable filled in: {text}");

    kenzen(
        &env,
        &["templates", "reset", "--lang", "ja", "--kind", "request"],
    )
    .await?
    .expect(0);
    let shown = kenzen(
        &env,
        &[
            "templates",
            "show",
            "--lang",
            "ja",
            "--kind",
            "request",
            "--json",
        ],
    )
    .await?
    .expect(0)
    .json();
    assert_eq!(shown["templates"][0]["source"], "default");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
