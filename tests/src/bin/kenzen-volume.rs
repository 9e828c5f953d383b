//! The volume benchmark: `kenzen-volume [ORDERS_PER_DAY] [BURST] [DAYS] [--out DIR]
//! [--concurrency N] [--containers N] [--strategy S]` (via `scripts/volume.sh`). Prints the
//! figures and writes them, with the run's logs, to OUT (default out/volume). Exits non-zero
//! only when a never-break rule broke (or the run could not be played), never for a missed goal.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use kenzen_tests::volume::{VolumeOptions, figures, scenario};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match go().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("volume run failed: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn go() -> Result<bool> {
    let mut o = VolumeOptions::default();
    let mut out = PathBuf::from("out/volume");
    let mut positional = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match a.as_str() {
            "--out" => out = PathBuf::from(value("--out")?),
            "--concurrency" => o.concurrency = Some(value("--concurrency")?.parse()?),
            "--containers" => o.containers = value("--containers")?.parse()?,
            "--strategy" => {
                o.strategy = value("--strategy")?
                    .parse()
                    .map_err(|e: String| anyhow!(e))?
            }
            "--seed" => o.seed = value("--seed")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: kenzen-volume [ORDERS_PER_DAY] [BURST] [DAYS] [--out DIR] \
                     [--containers N] [--concurrency N] [--strategy ask-buyer|cancel-first] [--seed N]"
                );
                return Ok(true);
            }
            _ if a.starts_with("--") => bail!("unknown option {a}"),
            _ => {
                match positional {
                    0 => o.orders_per_day = a.parse().context("ORDERS_PER_DAY")?,
                    1 => o.burst = a.parse().context("BURST")?,
                    2 => o.days = a.parse().context("DAYS")?,
                    _ => bail!("too many arguments: {a}"),
                }
                positional += 1;
            }
        }
    }
    let sc = scenario(&o)?;
    eprintln!(
        "volume: {} orders ({} a day for {} day(s), burst {}), {} container(s) per function, {}",
        sc.orders.len(),
        o.orders_per_day,
        o.days,
        o.burst,
        o.containers,
        o.strategy.as_setting()
    );
    let started = std::time::Instant::now();
    let dir = out.join(o.strategy.as_setting());
    // A progress line on stderr every six virtual hours (KENZEN_PROGRESS_HOURS overrides it).
    let progress = Some(jiff::SignedDuration::from_hours(6));
    let finished = kenzen_tests::scenario::run_with(&sc, o.strategy, &dir, progress).await?;
    let fig = figures(&sc, &finished, started.elapsed(), &o);
    std::fs::write(
        out.join("figures.json"),
        serde_json::to_string_pretty(&fig)?,
    )?;
    println!("\n== volume: {}\n", sc.description);
    println!("{fig}");
    println!("results in {}", out.display());
    Ok(fig.broken_rules == 0)
}
