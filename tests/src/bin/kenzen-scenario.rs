//! Runs one scenario file: `kenzen-scenario PATH [OUT_DIR]` (via `scripts/scenario.sh`).
//! Each strategy the file names runs separately into OUT_DIR/<strategy>/ (default
//! out/scenarios/<file name>/), the seller report (report.txt, .json, .html) with it. Exits
//! non-zero on a broken rule or an unexpected ending.

use std::path::PathBuf;
use std::process::ExitCode;

use kenzen_tests::scenario::{Scenario, print_run, run, write_seller_report};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: kenzen-scenario SCENARIO.toml [OUT_DIR]");
        return ExitCode::from(2);
    };
    let out = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from("out/scenarios").join(
            path.file_stem()
                .map(|s| s.to_os_string())
                .unwrap_or_default(),
        )
    });
    match go(&path, &out).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("scenario {} could not run: {e:#}", path.display());
            ExitCode::from(2)
        }
    }
}

async fn go(path: &std::path::Path, out: &std::path::Path) -> anyhow::Result<bool> {
    let sc = Scenario::load(path)?;
    println!("scenario {}: {}", path.display(), sc.description);
    let mut all = true;
    for name in &sc.strategies {
        let strategy = name.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        let dir = out.join(name);
        let f = run(&sc, strategy, &dir).await?;
        print_run(&sc, &f, false).await?;
        let report = write_seller_report(&sc, &f, &dir).await?;
        println!(
            "seller report: {} ({} cases, cancel rate {})",
            dir.join("report.html").display(),
            report.totals.cases,
            report.totals.rate_text()
        );
        all &= f.result.passed();
    }
    println!(
        "\n{}: results in {}",
        if all { "PASSED" } else { "FAILED" },
        out.display()
    );
    Ok(all)
}
