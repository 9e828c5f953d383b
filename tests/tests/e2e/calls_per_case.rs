//! SP-API calls per case (issue 10): the never-answers and buyer-requests scenarios, each case's
//! per-order calls held to the least a case needs (`kenzen_tests::calls::LIMITS`: getOrder ≤ 6,
//! the messaging preflight and the buyer's attributes ≤ 1 each).
//!
//! It failed before issue 10's service changes (reply-detect re-read every open case every 30
//! minutes; the preflight and attributes were read again for every message).
//! `scripts/calls-per-case.sh` prints the same counts as a report.

use anyhow::Result;
use kenzen_core::Strategy;
use kenzen_tests::calls::CallsPerCase;

use crate::scenario_out;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_costs_at_most_six_get_orders_one_messaging_preflight_and_one_attributes_read()
-> Result<()> {
    let mut over = Vec::new();
    for name in ["never-answers", "buyer-requests"] {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let sc = kenzen_tests::scenario::Scenario::load(&path)?;
        for strategy in &sc.strategies {
            let s: Strategy = strategy.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let out = scenario_out(&format!("calls-per-case-{name}")).join(strategy);
            let f = kenzen_tests::scenario::run(&sc, s, &out).await?;
            let cases = f
                .result
                .orders
                .iter()
                .filter(|o| o.actual != "NoCase")
                .map(|o| o.order_id.clone());
            let calls = CallsPerCase::count(&f.world.sim.log(), cases);
            for (op, most, limit) in calls.over_limits() {
                over.push(format!(
                    "{name} [{strategy}]: {op} {most} calls for case {} (limit {limit})",
                    calls.worst(op).unwrap_or("?")
                ));
            }
        }
    }
    assert!(
        over.is_empty(),
        "calls per case over the limits:\n{}",
        over.join("\n")
    );
    Ok(())
}
