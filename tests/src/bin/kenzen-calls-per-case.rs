//! Prints SP-API calls per case by operation, next to the least a case needs, for each run
//! folder named (`requests.jsonl` and `summary.json`, as `kenzen-scenario` writes them):
//! `kenzen-calls-per-case OUT/never-answers/ask-buyer OUT/buyer-requests/ask-buyer`
//! (via `scripts/calls-per-case.sh`). A report: exits 0 whatever the counts, 2 if a folder
//! cannot be read.

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use kenzen_tests::calls::{CallsPerCase, LIMITS};
use serde_json::Value;

fn main() -> ExitCode {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: kenzen-calls-per-case RUN_DIR...");
        return ExitCode::from(2);
    }
    let mut all_within = true;
    for d in &dirs {
        match one(Path::new(d)) {
            Ok(within) => all_within &= within,
            Err(e) => {
                eprintln!("{d}: {e:#}");
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "\nlimits per case: {} — {}",
        LIMITS
            .iter()
            .map(|(op, n)| format!("{op} <= {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        if all_within {
            "all within"
        } else {
            "NOT all within"
        }
    );
    ExitCode::SUCCESS
}

/// Prints one run's table; true when every limited operation is within its limit.
fn one(dir: &Path) -> Result<bool> {
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("summary.json")).context("reading summary.json")?,
    )
    .context("summary.json")?;
    let cases: Vec<String> = summary["orders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["actual"] != "NoCase")
        .filter_map(|o| o["order_id"].as_str().map(str::to_string))
        .collect();
    let file = std::fs::File::open(dir.join("requests.jsonl")).context("opening requests.jsonl")?;
    let mut log = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        log.push(serde_json::from_str::<Value>(&line?).context("a requests.jsonl line")?);
    }
    let c = CallsPerCase::count(&log, cases);
    println!("\n== {} ({} case(s))", dir.display(), c.cases.len());
    print!("{}", c.report());
    Ok(c.over_limits().is_empty())
}
