//! Sets up a world for `scripts/bench.sh`, `scripts/contract.sh` and `scripts/lambda-local.sh`: a
//! table, bus and queue in moto_server and a running marketplace simulator (on `KENZEN_SIM_ADDR`
//! if set) with two orders, then prints the function environment as `K=V` lines and serves until
//! stdin closes. Order `503-9999999-0000001` cannot be filled (its SKU has none on hand), so it
//! gets a case; order `503-9999999-0000002` can (the bench's stock check: an ORDER_CHANGE for it
//! runs the whole check and opens nothing).

use std::io::BufRead;

use jiff::SignedDuration;
use kenzen_tests::harness::{World, WorldOptions};
use kenzen_tests::sim::{Buyer, SimItem, SimOrder};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let start = jiff::Timestamp::now() - SignedDuration::from_hours(1);
    let opts = WorldOptions::at(&start.to_string()).from_env()?;
    let world = World::start(opts).await?;
    world.stock("BENCH-SKU", 0).await?;
    world.stock("BENCH-SKU-STOCKED", 1_000_000).await?;
    for (order_id, item_id, sku) in [
        ("503-9999999-0000001", "99999999999999", "BENCH-SKU"),
        ("503-9999999-0000002", "99999999999998", "BENCH-SKU-STOCKED"),
    ] {
        world.sim.add_order(SimOrder::new(
            order_id,
            start,
            start + SignedDuration::from_hours(48),
            vec![SimItem {
                order_item_id: item_id.into(),
                sku: sku.into(),
                asin: "B0BENCH001".into(),
                title: "Bench item".into(),
                quantity: 1,
                unit_price: "1000".into(),
            }],
            Buyer::Silent,
            "ja-JP",
        ));
    }
    let strategy = ("KENZEN_STRATEGY", "ask-buyer".to_string());
    for (k, v) in world.operator_env().into_iter().chain([strategy]) {
        println!("{k}={v}");
    }
    println!("READY");
    // The simulator runs on its own virtual clock; keep it in step with the real one.
    let clock = world.clock.clone();
    std::thread::spawn(move || {
        loop {
            clock.set(jiff::Timestamp::now());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    });
    tokio::task::spawn_blocking(|| for _ in std::io::stdin().lock().lines() {}).await?;
    Ok(())
}
