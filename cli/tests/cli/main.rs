//! The real `kenzen` binary against moto_server and the marketplace simulator, one binary with
//! a module per command. Each test starts a harness world (table, bus, simulator), runs
//! `kenzen` as a process with the deployment given by environment variables (as an operator
//! would with flags), and judges its exit status, its output and what it left in the table, on
//! the bus and at the simulator. Run through `scripts/test.sh` (it starts moto_server and sets
//! KENZEN_TEST_AWS_ENDPOINT), or by hand:
//! `bash -c 'source scripts/lib.sh && kenzen_start_moto && cargo test -p kenzen-cli --test cli'`.
//!
//! Layout:
//! - `help`: `--help` and usage errors.
//! - `cases`: `status` and `show` after whole orders through the real handlers.
//! - `seller`: `flag`, `withdraw`, `approve` put the right events, and refuse what would do nothing.
//! - `mode`: `mode`, `pause`, `resume` on the table, and the handlers holding still while paused.
//! - `stock`: `stock import` of 5,000 lines, a dry run, and a bad file that writes nothing.
//! - `subscribe`: twice, and over a subscription to another queue.
//! - `doctor`: green against the simulator, and every problem named at once.
//! - `stack`: the deployment read from a CloudFormation stack.
//! - `report`: `report` after a dry run, and `templates` set, show, preview and reset.

mod cases;
mod doctor;
mod help;
mod mode;
mod report;
mod seller;
mod stack;
mod stock;
mod subscribe;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use jiff::{SignedDuration, Timestamp};
use kenzen_tests::harness::{World, WorldOptions};
use kenzen_tests::sim::{Buyer, SimConfig, SimItem, SimOrder};
use serde_json::Value;

/// What a run of `kenzen` gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The standard output as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Asserts the exit status, showing both outputs when it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The environment an operator would give `kenzen` for world `w`: AWS (moto_server), the table
/// and bus, marketplace and seller, the simulator's endpoints and the LWA credentials.
pub fn env_for(w: &World) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = w
        .operator_env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.extend(aws_env());
    env
}

/// AWS settings for moto_server only.
pub fn aws_env() -> BTreeMap<String, String> {
    let endpoint = std::env::var("KENZEN_TEST_AWS_ENDPOINT").expect(
        "KENZEN_TEST_AWS_ENDPOINT is not set: run with scripts/test.sh (it starts moto_server)",
    );
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "ap-northeast-1".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Runs the real `kenzen` with exactly `env` (nothing inherited) and `args`, off the async
/// runtime so the simulator in this process keeps answering.
pub async fn kenzen(env: &BTreeMap<String, String>, args: &[&str]) -> Result<Run> {
    let env = env.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kenzen"))
            .env_clear()
            .envs(&env)
            .args(&args)
            .output()
    })
    .await
    .context("joining the kenzen run")?
    .context("running kenzen")?;
    Ok(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// 09:00 in Tokyo: messages may go out.
pub const START: &str = "2026-12-01T00:00:00Z";

pub fn t0() -> Timestamp {
    START.parse().unwrap()
}

pub fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

pub fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// A world on the virtual clock at [`START`].
pub async fn world() -> Result<World> {
    World::start(WorldOptions::at(START)).await
}

/// A world whose virtual clock is the real time now (for commands that call the SP-API with the
/// system clock), with `sim`'s settings.
pub async fn world_now(sim: SimConfig) -> Result<World> {
    let now = Timestamp::now();
    let mut opts = WorldOptions::at(&now.to_string());
    opts.sim = sim;
    World::start(opts).await
}

/// An unshipped MFN order for one unit of `sku`, placed at `placed`, ship-by two days later.
pub fn order(id: &str, placed: Timestamp, sku: &str) -> SimOrder {
    SimOrder::new(
        id,
        placed,
        placed + hours(48),
        vec![SimItem {
            order_item_id: format!("{}-item", id.replace('-', "")),
            sku: sku.into(),
            asin: "B0TEST0001".into(),
            title: "有田焼 湯呑み".into(),
            quantity: 1,
            unit_price: "1980".into(),
        }],
        Buyer::Silent,
        "ja-JP",
    )
}
