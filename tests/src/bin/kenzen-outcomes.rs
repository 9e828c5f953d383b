//! The outcome lab: `kenzen-outcomes [--seeds N] [--orders N] [--out DIR] [--population FILE]
//! [--policies a,b] [--store memory|moto] [--jobs N] [--quick] [--sensitivity]
//! [--sensitivity-seeds N] [--sensitivity-orders N]` (via `scripts/outcomes.sh`). Prints the table per policy across
//! seeds and writes `outcomes.csv`, `outcomes.png`, `outcomes.svg` and `figures.json` to OUT (default
//! out/outcomes). Exits non-zero only when a never-break rule broke or a run could not be
//! played, never for a missed goal.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use kenzen_tests::outcomes::population::{Complies, Population};
use kenzen_tests::outcomes::report::{self, gaps, spread};
use kenzen_tests::outcomes::world::StoreKind;
use kenzen_tests::outcomes::{Policy, RunFigures, run};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match go().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("outcome lab failed: {e:#}");
            ExitCode::from(2)
        }
    }
}

struct Options {
    seeds: u64,
    orders: usize,
    out: PathBuf,
    population: PathBuf,
    policies: Vec<Policy>,
    store: StoreKind,
    jobs: usize,
    sensitivity: bool,
    /// Seeds and orders per variant in the sensitivity runs (default: the main run's).
    sensitivity_seeds: Option<u64>,
    sensitivity_orders: Option<usize>,
}

const USAGE: &str = "usage: kenzen-outcomes [--seeds N] [--orders N] [--out DIR] [--population FILE] \
     [--policies cancel-at-once,manual,fixed,learned] [--store memory|moto] [--jobs N] [--quick] \
     [--sensitivity] [--sensitivity-seeds N] [--sensitivity-orders N]";

fn options() -> Result<Option<Options>> {
    let mut o = Options {
        seeds: 5,
        orders: 500,
        out: PathBuf::from("out/outcomes"),
        population: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/outcomes/population.toml"
        )),
        policies: Policy::ALL.to_vec(),
        store: StoreKind::Memory,
        jobs: 2,
        sensitivity: false,
        sensitivity_seeds: None,
        sensitivity_orders: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match a.as_str() {
            "--seeds" => o.seeds = value("--seeds")?.parse().context("--seeds")?,
            "--orders" => o.orders = value("--orders")?.parse().context("--orders")?,
            "--out" => o.out = PathBuf::from(value("--out")?),
            "--population" => o.population = PathBuf::from(value("--population")?),
            "--policies" => {
                o.policies = value("--policies")?
                    .split(',')
                    .map(Policy::parse)
                    .collect::<Result<_>>()?
            }
            "--store" => o.store = StoreKind::parse(&value("--store")?)?,
            "--jobs" => o.jobs = value("--jobs")?.parse().context("--jobs")?,
            "--quick" => {
                o.seeds = 2;
                o.orders = 100;
            }
            "--sensitivity" => o.sensitivity = true,
            "--sensitivity-seeds" => {
                o.sensitivity_seeds = Some(value("--sensitivity-seeds")?.parse()?);
            }
            "--sensitivity-orders" => {
                o.sensitivity_orders = Some(value("--sensitivity-orders")?.parse()?);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            _ => bail!("unknown argument {a}\n{USAGE}"),
        }
    }
    if o.seeds == 0 || o.orders == 0 || o.jobs == 0 {
        bail!("--seeds, --orders and --jobs must be at least 1");
    }
    Ok(Some(o))
}

/// Plays every (seed, policy) of `policies` with `pop`, `jobs` worlds at a time; the figures in
/// seed and policy order.
async fn play(
    pop: &Population,
    seeds: u64,
    orders: usize,
    policies: &[Policy],
    o: &Options,
    tag: &str,
) -> Result<Vec<RunFigures>> {
    let (jobs, store) = (o.jobs, o.store);
    let mut work = Vec::new();
    for seed in 1..=seeds {
        let lab_orders = pop.orders(seed, orders);
        for p in policies {
            work.push((seed, *p, lab_orders.clone()));
        }
    }
    // The longest runs first, so the last ones to finish are short.
    work.sort_by_key(|(seed, p, _)| (!p.warms_up(), *p == Policy::CancelAtOnce, *seed));
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut set = tokio::task::JoinSet::new();
    for (seed, policy, lab_orders) in work {
        let pop = pop.clone();
        let limit = limit.clone();
        let tag = tag.to_string();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let f = run(policy, seed, &pop, &lab_orders, store)
                .await
                .with_context(|| format!("{tag}seed {seed}, {}", policy.label()))?;
            eprintln!(
                "  {tag}seed {seed}, {}: {} orders, exempt {:.1}%, counted {:.1}%, late {}, \
                 {:.1} virtual days in {:.0} s",
                policy.label(),
                f.orders,
                f.exempt_share(),
                f.counted_share(),
                f.late,
                f.virtual_days,
                f.wall_secs
            );
            anyhow::Ok(f)
        });
    }
    let mut runs = Vec::new();
    while let Some(done) = set.join_next().await {
        runs.push(done.context("a lab run panicked")??);
    }
    runs.sort_by_key(|r| (r.seed, Policy::ALL.iter().position(|p| p.key() == r.policy)));
    Ok(runs)
}

async fn go() -> Result<bool> {
    let Some(o) = options()? else {
        return Ok(true);
    };
    let started = Instant::now();
    let pop = Population::load(&o.population)?;
    std::fs::create_dir_all(&o.out).with_context(|| format!("creating {}", o.out.display()))?;
    eprintln!(
        "outcome lab: {} seed(s) × {} unfillable orders, policies {}, {} store, {} world(s) at a time",
        o.seeds,
        o.orders,
        o.policies
            .iter()
            .map(|p| p.key())
            .collect::<Vec<_>>()
            .join(", "),
        match o.store {
            StoreKind::Memory => "in-memory",
            StoreKind::Moto => "moto_server",
        },
        o.jobs
    );
    let runs = play(&pop, o.seeds, o.orders, &o.policies, &o, "").await?;

    println!(
        "\n== outcome lab: {} seed(s) × {} unfillable orders, population {}\n",
        o.seeds,
        o.orders,
        o.population.display()
    );
    println!("{}", report::table(&runs));
    println!("{}", report::goal(&runs));
    let ceiling: Vec<f64> = (1..=o.seeds)
        .map(|seed| {
            let evaluated: Vec<_> = pop
                .orders(seed, o.orders)
                .into_iter()
                .filter(|x| !x.warmup)
                .collect();
            let could = evaluated
                .iter()
                .filter(|x| {
                    let b = pop.buyer(seed, x.index);
                    b.reads && b.complies != Complies::Never
                })
                .count();
            100.0 * could as f64 / evaluated.len().max(1) as f64
        })
        .collect();
    let (c_mean, c_lo, c_hi) = spread(&ceiling);
    println!(
        "ceiling: buyers who read and would comply {c_mean:.1}% [{c_lo:.1}–{c_hi:.1}] of these orders \
         ({:.1}% in the population): no policy ends more orders exempt\n",
        100.0 * pop.ceiling()
    );
    println!(
        "exempt: cancelled as BuyerCanceled after the buyer's own request; counted: cancelled for the \
         seller's reasons; msgs: every message (requests and the apology), reqs: requests only; \
         late: not cancelled before ship-by; other: neither cancel (still open or ended otherwise).\n"
    );
    print!("{}", report::opening_delays(&runs));
    if let Some(r) = runs.iter().find(|r| r.policy == Policy::LearnedSlots.key()) {
        println!(
            "\nslots kenzen learned, as its timelines say (seed {}):",
            r.seed
        );
        for line in &r.slots {
            println!("  {line}");
        }
    }
    let broken: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.broken_rules
                .iter()
                .map(move |b| format!("seed {} {}: {b}", r.seed, r.policy))
        })
        .collect();
    println!(
        "\nfailed invocations (each retried by the next run): {}",
        runs.iter().map(|r| r.failed_invocations).sum::<usize>()
    );
    println!("broken never-break rules: {}", broken.len());
    for b in broken.iter().take(20) {
        println!("  BROKEN RULE: {b}");
    }

    report::write_csv(&o.out.join("outcomes.csv"), &runs)?;
    report::write_messages_csv(&o.out.join("messages.csv"), &runs)?;
    std::fs::write(
        o.out.join("figures.json"),
        serde_json::to_string_pretty(&runs)?,
    )?;
    let png = o.out.join("outcomes.png");
    let title = format!(
        "kenzen outcome lab: {} seeds × {} unfillable orders",
        o.seeds, o.orders
    );
    let svg = o.out.join("outcomes.svg");
    let ceiling = 100.0 * pop.ceiling();
    if !report::chart(&png, &runs, &title, ceiling)?
        || !report::chart_svg(&svg, &runs, &title, ceiling)?
    {
        println!(
            "no chart: no TrueType font found (install fonts-dejavu-core or set KENZEN_CHART_FONT)"
        );
    }

    if o.sensitivity {
        sensitivity(&o, &pop).await?;
    }
    println!(
        "\nwall time {:.0} s; results in {} (outcomes.csv, messages.csv, figures.json, outcomes.png, outcomes.svg{})",
        started.elapsed().as_secs_f64(),
        o.out.display(),
        if o.sensitivity {
            ", sensitivity.csv"
        } else {
            ""
        }
    );
    Ok(broken.is_empty())
}

/// One population parameter moved down and up: its name, its value now, and each side's value
/// and population.
struct Variant {
    name: &'static str,
    now: f64,
    low: (f64, Population),
    high: (f64, Population),
}

fn variants(pop: &Population) -> Vec<Variant> {
    let complies = |p: &Population| p.compliance.first + p.compliance.second;
    let evening = pop.evening_share();
    let (less, more) = (
        pop.with_compliance_scaled(0.75),
        pop.with_compliance_scaled(1.25),
    );
    vec![
        Variant {
            name: "never_read",
            now: pop.never_read,
            low: (
                pop.never_read - 0.1,
                pop.with_never_read(pop.never_read - 0.1),
            ),
            high: (
                pop.never_read + 0.1,
                pop.with_never_read(pop.never_read + 0.1),
            ),
        },
        Variant {
            name: "compliance (first + second)",
            now: complies(pop),
            low: (complies(&less), less),
            high: (complies(&more), more),
        },
        Variant {
            name: "weekday evening share of looks",
            now: evening,
            low: (evening - 0.1, pop.with_evening_share(evening - 0.1)),
            high: (evening + 0.1, pop.with_evening_share(evening + 0.1)),
        },
        Variant {
            name: "notice curve ages (× factor)",
            now: 1.0,
            low: (0.5, pop.with_notice_ages_scaled(0.5)),
            high: (2.0, pop.with_notice_ages_scaled(2.0)),
        },
    ]
}

/// One side of a variant as played: the parameter's value, the learned − manual gap and the
/// learned policy's exempt share.
#[derive(Debug, Clone, Copy)]
struct Side {
    value: f64,
    gap: f64,
    learned: f64,
}

/// A variant's two sides.
struct Row {
    name: &'static str,
    now: f64,
    low: Side,
    high: Side,
}

impl Row {
    /// How far the gap moves from one side to the other.
    fn swing(&self) -> f64 {
        (self.high.gap - self.low.gap).abs()
    }
}

/// The mean exempt share of `p`'s runs.
fn exempt(runs: &[RunFigures], p: Policy) -> f64 {
    spread(
        &runs
            .iter()
            .filter(|r| r.policy == p.key())
            .map(RunFigures::exempt_share)
            .collect::<Vec<_>>(),
    )
    .0
}

/// The mean learned − manual gap of `runs`, in points.
fn gap(runs: &[RunFigures]) -> f64 {
    spread(&gaps(runs, Policy::LearnedSlots, Policy::Manual)).0
}

/// Plays the manual routine and the learned slots with each main population parameter moved
/// down and up, and prints how the gap between them moves (written to `sensitivity.csv`).
async fn sensitivity(o: &Options, pop: &Population) -> Result<()> {
    let pair = [Policy::Manual, Policy::LearnedSlots];
    let seeds = o.sensitivity_seeds.unwrap_or(o.seeds);
    let orders = o.sensitivity_orders.unwrap_or(o.orders);
    eprintln!("sensitivity: {seeds} seed(s) × {orders} orders per variant");
    let base = play(pop, seeds, orders, &pair, o, "base: ").await?;
    let mut csv = String::from("parameter,value,manual_exempt_pct,learned_exempt_pct,gap_points\n");
    csv.push_str(&format!(
        "baseline,,{:.2},{:.2},{:.2}\n",
        exempt(&base, Policy::Manual),
        exempt(&base, Policy::LearnedSlots),
        gap(&base)
    ));
    let mut rows = Vec::new();
    for v in variants(pop) {
        let mut sides = Vec::new();
        for (side, (value, p)) in [("low", &v.low), ("high", &v.high)] {
            let runs = play(p, seeds, orders, &pair, o, &format!("{} {side}: ", v.name)).await?;
            csv.push_str(&format!(
                "{},{value:.3},{:.2},{:.2},{:.2}\n",
                v.name,
                exempt(&runs, Policy::Manual),
                exempt(&runs, Policy::LearnedSlots),
                gap(&runs)
            ));
            sides.push(Side {
                value: *value,
                gap: gap(&runs),
                learned: exempt(&runs, Policy::LearnedSlots),
            });
        }
        let (low, high) = (sides[0], sides[1]);
        rows.push(Row {
            name: v.name,
            now: v.now,
            low,
            high,
        });
    }
    std::fs::write(o.out.join("sensitivity.csv"), csv)?;
    println!(
        "\n== sensitivity of the learned − manual gap ({seeds} seed(s) × {orders} orders per variant; \
         baseline: gap {:+.1} points, manual {:.1}%, learned {:.1}% exempt)\n",
        gap(&base),
        exempt(&base, Policy::Manual),
        exempt(&base, Policy::LearnedSlots)
    );
    println!(
        "{:<32} {:>6} {:>7} {:>7} {:>7} {:>7} {:>6}   learned exempt % low / high",
        "parameter", "now", "low", "gap", "high", "gap", "swing"
    );
    rows.sort_by(|a, b| b.swing().total_cmp(&a.swing()));
    for r in &rows {
        let (lo, hi) = (r.low, r.high);
        println!(
            "{:<32} {:>6.2} {:>7.2} {:>+7.1} {:>7.2} {:>+7.1} {:>6.1}   {:.1} / {:.1}",
            r.name,
            r.now,
            lo.value,
            lo.gap,
            hi.value,
            hi.gap,
            r.swing(),
            lo.learned,
            hi.learned
        );
    }
    if let Some(top) = rows.first() {
        println!("\nthe gap is most sensitive to: {}", top.name);
    }
    Ok(())
}
