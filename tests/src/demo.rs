//! The demo: a handful of orders on the simulated amazon.co.jp, run through the four real
//! handlers on moto_server + the simulator over three virtual days, printed as one readable
//! timeline per order. Writes `requests.jsonl` (the simulator's log, buyer actions included) and
//! `timeline.jsonl` (every case's timeline) to the output folder, then checks the never-break
//! rules on the log.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use kenzen_app::ports::CaseStore;

use crate::checks::{Limits, check};
use crate::harness::{World, WorldOptions};
use crate::sim::{Buyer, SimItem, SimOrder};

struct DemoOrder {
    id: &'static str,
    placed_after_mins: i64,
    sku: &'static str,
    title: &'static str,
    quantity: u32,
    buyer: Buyer,
    locale: &'static str,
    story: &'static str,
    ship_after_hours: Option<i64>,
}

fn orders() -> Vec<DemoOrder> {
    let h = SignedDuration::from_hours;
    vec![
        DemoOrder {
            id: "503-1000001-0000001",
            placed_after_mins: 5,
            sku: "ARITA-YUNOMI",
            title: "有田焼 湯呑み 藍染 2客セット",
            quantity: 1,
            buyer: Buyer::RequestsAfterMessage {
                after: 1,
                delay: h(5),
            },
            locale: "ja-JP",
            story: "sold out (sold on another shop); buyer requests cancellation 5 h after the first message",
            ship_after_hours: None,
        },
        DemoOrder {
            id: "503-1000002-0000002",
            placed_after_mins: 40,
            sku: "KYUSU-TOKONAME",
            title: "常滑焼 急須 300ml",
            quantity: 2,
            buyer: Buyer::RequestsAfterMessage {
                after: 2,
                delay: h(3),
            },
            locale: "ja-JP",
            story: "only 1 on hand for 2 ordered; buyer answers after the second message",
            ship_after_hours: None,
        },
        DemoOrder {
            id: "503-1000003-0000003",
            placed_after_mins: 75,
            sku: "FUROSHIKI-M",
            title: "風呂敷 中判 綿",
            quantity: 1,
            buyer: Buyer::Silent,
            locale: "ja-JP",
            story: "in stock: no case",
            ship_after_hours: None,
        },
        DemoOrder {
            id: "503-1000004-0000004",
            placed_after_mins: 130,
            sku: "TENUGUI-SET",
            title: "Tenugui hand towel set (3)",
            quantity: 1,
            buyer: Buyer::Silent,
            locale: "en-US",
            story: "sold out; English-speaking buyer never answers",
            ship_after_hours: None,
        },
        DemoOrder {
            id: "503-1000005-0000005",
            placed_after_mins: 193,
            sku: "ARITA-YUNOMI",
            title: "有田焼 湯呑み 藍染 2客セット",
            quantity: 1,
            buyer: Buyer::RequestsAt(jiff::Timestamp::UNIX_EPOCH),
            locale: "ja-JP",
            story: "sold out; buyer requests cancellation on their own before any message",
            ship_after_hours: None,
        },
        DemoOrder {
            id: "503-1000006-0000006",
            placed_after_mins: 260,
            sku: "HASHI-OKI",
            title: "箸置き 5個 セット",
            quantity: 1,
            buyer: Buyer::Silent,
            locale: "ja-JP",
            story: "stock table said 0, but the seller found one and ships it 6 h later",
            ship_after_hours: Some(6),
        },
    ]
}

/// Where the demo writes: the first argument, else `KENZEN_DEMO_OUT`, else `out/demo`.
pub fn out_dir() -> PathBuf {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("KENZEN_DEMO_OUT").ok())
        .unwrap_or_else(|| "out/demo".into())
        .into()
}

fn local(t: jiff::Timestamp) -> String {
    let tz = TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::fixed(jiff::tz::offset(9)));
    t.to_zoned(tz).strftime("%m-%d %H:%M").to_string()
}

/// Runs the demo; returns the number of broken rules (0 on success).
pub async fn run(out: &Path) -> Result<usize> {
    let wall = std::time::Instant::now();
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let opts = WorldOptions::at("2026-12-01T00:00:00Z").from_env()?;
    let start = opts.start;
    let mut world = World::start(opts).await?;
    for (sku, n) in [
        ("ARITA-YUNOMI", 0),
        ("KYUSU-TOKONAME", 1),
        ("FUROSHIKI-M", 5),
        ("TENUGUI-SET", 0),
        ("HASHI-OKI", 0),
    ] {
        world.stock(sku, n).await?;
    }
    let demo = orders();
    for (i, o) in demo.iter().enumerate() {
        let placed = start + SignedDuration::from_mins(o.placed_after_mins);
        let buyer = match o.buyer {
            Buyer::RequestsAt(_) => Buyer::RequestsAt(placed + SignedDuration::from_mins(2)),
            ref b => b.clone(),
        };
        world.sim.add_order(SimOrder::new(
            o.id,
            placed,
            placed + SignedDuration::from_hours(48),
            vec![SimItem {
                order_item_id: format!("{:014}", 70_000_000_000_000u64 + i as u64),
                sku: o.sku.into(),
                asin: format!("B0DEMO{i:04}"),
                title: o.title.into(),
                quantity: o.quantity,
                unit_price: "1980".into(),
            }],
            buyer,
            o.locale,
        ));
    }
    let mut ships: Vec<(jiff::Timestamp, &str)> = demo
        .iter()
        .filter_map(|o| {
            o.ship_after_hours.map(|h| {
                (
                    start
                        + SignedDuration::from_mins(o.placed_after_mins)
                        + SignedDuration::from_hours(h),
                    o.id,
                )
            })
        })
        .collect();
    ships.sort();
    for (at, id) in ships {
        world.run_until(at).await?;
        world.sim.ship(id);
    }
    let end = start + SignedDuration::from_hours(72);
    world.run_until(end).await?;

    println!(
        "kenzen demo: simulated amazon.co.jp, virtual {} to {} JST, strategy ask-buyer",
        local(start),
        local(end)
    );
    let mut timeline_file =
        std::io::BufWriter::new(std::fs::File::create(out.join("timeline.jsonl"))?);
    for o in &demo {
        println!(
            "\norder {}: {} x{} ({})",
            o.id, o.title, o.quantity, o.story
        );
        let entries = world.timeline(o.id).await?;
        for e in &entries {
            writeln!(timeline_file, "{}", serde_json::to_string(e)?)?;
            let answer = e
                .answer
                .as_deref()
                .map(|a| format!(" -> {a}"))
                .unwrap_or_default();
            println!("  {}  [{}] {}{}", local(e.at), e.state, e.note, answer);
        }
        let ending = match world.store().get_case(o.id).await? {
            None => "no case (order can be filled)".to_string(),
            Some(c) => match c.value.state {
                kenzen_core::CaseState::Cancelled { reason, .. } => {
                    format!("cancelled as {}", reason.as_feed())
                }
                kenzen_core::CaseState::Closed { why, .. } => format!("closed: {why:?}"),
                other => format!(
                    "still open: {} ({} request messages sent)",
                    other.name(),
                    c.value.requests_sent
                ),
            },
        };
        println!("  => {ending}");
    }
    timeline_file.flush()?;
    world.sim.write_log(&out.join("requests.jsonl"))?;

    let limits = Limits::basic(
        world.svc.settings.max_requests + 1,
        vec![
            world.sim.config.client_secret.clone(),
            world.sim.config.refresh_token.clone(),
        ],
    );
    let broken = check(&world.sim.log(), &limits);
    let failures = world.failures();
    println!(
        "\n{} SP-API requests and marketplace actions logged, {} function invocations ({} failed), {} domain events",
        world.sim.log().len(),
        world.invocations.len(),
        failures.len(),
        world.events.len()
    );
    for f in &failures {
        println!(
            "  failed: {} at {}: {:?}",
            f.function.name(),
            local(f.at),
            f.result
        );
    }
    if broken.is_empty() {
        println!("never-break rules: all hold");
    } else {
        for b in &broken {
            println!("BROKEN: {b}");
        }
    }
    println!(
        "wrote {} and {}; wall time {:.1} s",
        out.join("requests.jsonl").display(),
        out.join("timeline.jsonl").display(),
        wall.elapsed().as_secs_f64()
    );
    Ok(broken.len() + failures.len())
}
