//! The demo: the scenario in `tests/scenarios/demo.toml` (seven orders of a small Japanese shop
//! over four virtual days) run through the four real handlers on moto_server + the simulator,
//! once per strategy. The buyers' behaviour is scripted in that file, not predicted.
//!
//! For each strategy it prints the seller report (one line per case, the totals and the cancel
//! rate, built from kenzen's own records on the table), what happened to each order in local
//! time, and the checks: every case ended as expected, the never-break rules hold, and the report
//! agrees with the marketplace's own log. It writes `requests.jsonl`, `timeline.jsonl`,
//! `summary.json` and the report (`report.txt`, `report.json`, `report.html`) per strategy to
//! the output folder. Local times only on the terminal; no metrics lines.

use std::path::{Path, PathBuf};

use anyhow::Result;
use kenzen_app::ports::CaseStore;
use kenzen_app::seller_report::SellerReport;
use kenzen_core::Strategy;

use crate::scenario::{BuyerFile, Finished, Scenario, local, run, windows_of, write_seller_report};

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

/// One strategy's figures, for the comparison at the end.
struct Figures {
    strategy: String,
    report: SellerReport,
}

/// Runs the demo; returns the number of problems (broken rules, unexpected endings, a report
/// that disagrees with the marketplace's log).
pub async fn run_demo(out: &Path) -> Result<usize> {
    let wall = std::time::Instant::now();
    let sc: Scenario = toml::from_str(DEMO_SCENARIO)?;
    let w = windows_of(&sc)?;
    println!("kenzen demo: {}", sc.description);
    println!(
        "amazon.co.jp simulated from {} to {} {} time (a virtual clock): SP-API calls go to\n\
         the marketplace simulator, AWS calls to moto_server.",
        local(&w, sc.start),
        local(&w, sc.end),
        w.time_zone.rsplit('/').next().unwrap_or(&w.time_zone),
    );
    println!(
        "The buyers are scripted in tests/scenarios/demo.toml, not predicted:\n  {}.",
        buyers_line(&sc)
    );
    let mut problems = 0;
    let mut figures = Vec::new();
    for name in &sc.strategies {
        let strategy: Strategy = name.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        let dir = out.join(name);
        let f = run(&sc, strategy, &dir).await?;
        let report = write_seller_report(&sc, &f, &dir).await?;
        println!("\n== {name}: {}", explain(strategy));
        print!("{}", report.render_text());
        print_happenings(&sc, &f).await?;
        let found = check(&f, &report);
        for p in &found {
            println!("PROBLEM: {p}");
        }
        if found.is_empty() {
            println!(
                "checks: every case ended as expected, the never-break rules hold, and the report \
                 agrees with the marketplace's log"
            );
        }
        problems += found.len();
        println!("report: {}", dir.join("report.html").display());
        figures.push(Figures {
            strategy: name.clone(),
            report,
        });
    }
    println!("\nstrategy        orders  cases  messages  cancels  count  exempt  cancel rate");
    for f in &figures {
        let t = &f.report.totals;
        println!(
            "{:<15} {:>6}  {:>5}  {:>8}  {:>7}  {:>5}  {:>6}  {:>11}",
            f.strategy,
            t.orders,
            t.cases,
            t.messages_sent,
            t.cancels_counted + t.cancels_exempt,
            t.cancels_counted,
            t.cancels_exempt,
            t.rate_text()
        );
    }
    println!(
        "(a rate over this demo's {} orders; Amazon's target, under 2.5%, is over all of a \
         seller's orders)",
        sc.orders.len()
    );
    println!(
        "\n{}; wrote requests.jsonl, timeline.jsonl, summary.json and report.{{txt,json,html}} \
         under {}/<strategy>/; wall time {:.1} s",
        if problems == 0 {
            "all checks passed"
        } else {
            "CHECKS FAILED (see PROBLEM lines)"
        },
        out.display(),
        wall.elapsed().as_secs_f64()
    );
    Ok(problems)
}

/// What the strategy does, in one line.
fn explain(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::AskBuyer => {
            "ask the buyer to request cancellation (BuyerCanceled does not count);\n   \
             without a request, apologise and cancel as GeneralAdjustment"
        }
        Strategy::CancelFirst => {
            "Amazon's guideline: apologise, then cancel as NoInventory at once"
        }
    }
}

/// The buyers' scripted behaviour, counted by kind: "3 request cancellation after ...".
fn buyers_line(sc: &Scenario) -> String {
    let (mut after, mut before, mut cancel, mut never, mut shipped) = (0, 0, 0, 0, 0);
    for o in &sc.orders {
        match o.buyer {
            BuyerFile::RequestsAfter { .. } => after += 1,
            BuyerFile::RequestsAt { .. } => before += 1,
            BuyerFile::Cancels { .. } => cancel += 1,
            BuyerFile::Never => never += 1,
        }
        shipped += usize::from(o.ship_after.is_some());
    }
    let mut parts = Vec::new();
    for (n, what) in [
        (after, "request cancellation after a message from kenzen"),
        (before, "on their own"),
        (cancel, "cancel on their own"),
        (never, "never answer"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let mut line = parts.join(", ");
    if shipped > 0 {
        line.push_str(&format!("; the seller ships {shipped} order(s) after all"));
    }
    line
}

/// One line per case: when Amazon accepted kenzen's messages, when the buyer asked, how and
/// when it ended (local time).
async fn print_happenings(sc: &Scenario, f: &Finished) -> Result<()> {
    let w = f.world.svc.settings().windows.clone();
    let day_then_time = |t: jiff::Timestamp, last_day: &mut String| {
        let s = local(&w, t);
        let (day, time) = s.split_once(' ').unwrap_or((s.as_str(), ""));
        if day == last_day {
            time.to_string()
        } else {
            *last_day = day.to_string();
            s.clone()
        }
    };
    println!("what happened (local time):");
    for o in &sc.orders {
        let Some(case) = f
            .world
            .store()
            .get_case(&o.id.parse()?)
            .await
            .ok()
            .flatten()
        else {
            continue;
        };
        let mut day = String::new();
        let mut parts = Vec::new();
        let sent: Vec<String> = f
            .world
            .timeline(&o.id)
            .await?
            .iter()
            .filter(|e| {
                e.kind == "message" && e.answer.as_deref().is_some_and(|a| a.starts_with("201"))
            })
            .map(|e| day_then_time(e.at, &mut day))
            .collect();
        if !sent.is_empty() {
            parts.push(format!("messages {}", sent.join(", ")));
        }
        if let Some(t) = f.world.sim.order(&o.id).and_then(|s| s.buyer_request) {
            parts.push(format!("buyer asked {}", day_then_time(t, &mut day)));
        }
        let ended = match &case.value.state {
            kenzen_core::CaseState::Cancelled { reason, at, .. } => {
                format!(
                    "cancelled {} {}",
                    reason.as_feed(),
                    day_then_time(*at, &mut day)
                )
            }
            kenzen_core::CaseState::Closed { at, .. } => format!(
                "{} {}",
                crate::scenario::ending(Some(&case.value.state)).to_lowercase(),
                day_then_time(*at, &mut day)
            ),
            other => format!("still {}", other.name()),
        };
        parts.push(ended);
        println!("  {}  {}", o.id, parts.join("; "));
    }
    Ok(())
}

/// The run's problems: broken rules, unexpected endings, and a report (kenzen's records) that
/// disagrees with the marketplace's log (the simulator's judgement).
fn check(f: &Finished, report: &SellerReport) -> Vec<String> {
    let r = &f.result;
    let mut found: Vec<String> = r.broken_rules.clone();
    for o in r.orders.iter().filter(|o| !r.ending_as_expected(o)) {
        found.push(format!(
            "{} ended {}, expected {}",
            o.order_id, o.actual, o.expected
        ));
    }
    let cases = r.orders.iter().filter(|o| o.actual != "NoCase").count();
    let messages: usize = r.orders.iter().map(|o| o.messages).sum();
    let t = &report.totals;
    for (what, reported, logged) in [
        ("orders", t.orders as usize, r.orders.len()),
        ("cases", t.cases as usize, cases),
        ("messages", t.messages_sent as usize, messages),
        (
            "counted cancels",
            t.cancels_counted as usize,
            r.counted_cancels(),
        ),
    ] {
        if reported != logged {
            found.push(format!(
                "the report says {reported} {what}, the marketplace's log {logged}"
            ));
        }
    }
    found
}
