//! The demo: the scenario in `tests/scenarios/demo.toml` (seven orders of a small Japanese shop
//! over four virtual days) run through the four real handlers on moto_server + the simulator,
//! once per strategy. Prints each order's timeline in Tokyo time and how its case ended, then how
//! many cases would count against the cancel rate under each strategy. Writes
//! `requests.jsonl`, `timeline.jsonl` and `summary.json` per strategy to the output folder.

use std::path::{Path, PathBuf};

use anyhow::Result;
use kenzen_core::Strategy;

use crate::scenario::{Scenario, print_run, run};

/// The demo scenario, compiled in so the demo runs from anywhere.
pub const DEMO_SCENARIO: &str = include_str!("../scenarios/demo.toml");

/// Where the demo writes: the first argument, else `KENZEN_DEMO_OUT`, else `out/demo`.
pub fn out_dir() -> PathBuf {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("KENZEN_DEMO_OUT").ok())
        .unwrap_or_else(|| "out/demo".into())
        .into()
}

/// Runs the demo; returns the number of problems (broken rules, unexpected endings).
pub async fn run_demo(out: &Path) -> Result<usize> {
    let wall = std::time::Instant::now();
    let sc: Scenario = toml::from_str(DEMO_SCENARIO)?;
    println!("kenzen demo: {}", sc.description);
    println!(
        "simulated amazon.co.jp, virtual time {} to {} (Tokyo); every SP-API call goes to the \
         marketplace simulator, every AWS call to moto_server",
        crate::scenario::local(&crate::scenario::windows_of(&sc)?, sc.start),
        crate::scenario::local(&crate::scenario::windows_of(&sc)?, sc.end),
    );
    let mut problems = 0;
    let mut table = Vec::new();
    for name in &sc.strategies {
        let strategy: Strategy = name.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        let f = run(&sc, strategy, &out.join(name)).await?;
        print_run(&sc, &f, true).await?;
        problems += usize::from(!f.result.rules_as_expected())
            + f.result
                .orders
                .iter()
                .filter(|o| !f.result.ending_as_expected(o))
                .count();
        let cases = f
            .result
            .orders
            .iter()
            .filter(|o| o.actual != "NoCase")
            .count();
        let cancelled = f
            .result
            .orders
            .iter()
            .filter(|o| {
                matches!(
                    o.actual.as_str(),
                    "BuyerCanceled" | "GeneralAdjustment" | "NoInventory"
                )
            })
            .count();
        let messages: usize = f.result.orders.iter().map(|o| o.messages).sum();
        table.push((
            name.clone(),
            cases,
            cancelled,
            f.result.counted_cancels(),
            messages,
        ));
    }
    println!("\nstrategy        cases  cancelled  count against cancel rate  messages sent");
    for (name, cases, cancelled, counted, messages) in &table {
        println!("{name:<15} {cases:>5}  {cancelled:>9}  {counted:>25}  {messages:>13}");
    }
    println!(
        "\nnever-break rules: {}",
        if problems == 0 {
            "all hold, every case ended as expected"
        } else {
            "BROKEN (see above)"
        }
    );
    println!(
        "wrote requests.jsonl, timeline.jsonl and summary.json under {}/<strategy>/; wall time {:.1} s",
        out.display(),
        wall.elapsed().as_secs_f64()
    );
    Ok(problems)
}
