//! kenzen-cli: the operator's command `kenzen` (installed with `cargo install --locked --path
//! cli`). It reads and steers a deployed kenzen: it finds the deployment from the CloudFormation
//! stack (or flags), reads the table through the store adapter, puts seller commands on the bus,
//! and talks to the SP-API through kenzen's own client. It holds no workflow rule: what happens
//! to a case is decided by the functions.
//!
//! It must never print a secret's contents or buyer personal data, never panic on bad input,
//! and it says every failure in one line: what failed, with which input, what to do.
//!
//! Layout:
//! - [`args`]: the command line (clap).
//! - [`deployment`]: finding the table, bus, secret, queue and rules; the SP-API client.
//! - [`failure`]: AWS and SP-API failures as one clear line.
//! - [`local_time`]: times in the marketplace's time zone.
//! - [`cases`]: the `status` and `show` commands.
//! - [`seller`]: the `flag`, `withdraw` and `approve` commands.
//! - [`mode`]: the `mode`, `pause` and `resume` commands.
//! - [`stock`]: the `stock import` command.
//! - [`subscribe`]: the `subscribe` command.
//! - [`doctor`]: the `doctor` command.
//! - [`report`]: the `report` command (the seller report, text or JSON, and HTML).
//! - [`templates`]: the `templates` commands (show, set, reset, vars, preview).
//!
//! A new command is a variant in [`args::Command`], a module with an
//! `async fn run(&Ctx, ...) -> Result<Outcome>`, and an arm in [`run`].

pub mod args;
pub mod cases;
pub mod deployment;
pub mod doctor;
pub mod failure;
pub mod local_time;
pub mod mode;
pub mod report;
pub mod seller;
pub mod stock;
pub mod subscribe;
pub mod templates;

use anyhow::Result;

use args::{Cli, Command, StockCommand};
use deployment::Ctx;

/// How a command that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, nothing to worry about.
    Ok,
    /// Done, and what it found needs the seller's attention (exit status 1).
    Problems,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome> {
    let ctx = Ctx::new(cli.deployment, cli.json).await;
    if ctx.aws.region().is_none() {
        anyhow::bail!(
            "no AWS region: pass --region (the stack's region, e.g. ap-northeast-1), set \
             AWS_REGION, or use a profile that has one"
        );
    }
    match cli.command {
        Command::Status => cases::status(&ctx).await,
        Command::Show { order } => cases::show(&ctx, &order).await,
        Command::Flag { order, reason } => {
            seller::run(&ctx, seller::Command::Flag, &order, Some(&reason)).await
        }
        Command::Withdraw { order, reason } => {
            seller::run(&ctx, seller::Command::Withdraw, &order, Some(&reason)).await
        }
        Command::Approve { order } => {
            seller::run(&ctx, seller::Command::Approve, &order, None).await
        }
        Command::Mode { mode: None } => mode::run(&ctx, mode::Request::Show).await,
        Command::Mode { mode: Some(m) } => {
            let m = m.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            mode::run(&ctx, mode::Request::Set(m)).await
        }
        Command::Pause => mode::run(&ctx, mode::Request::Pause).await,
        Command::Resume => mode::run(&ctx, mode::Request::Resume).await,
        Command::Stock(StockCommand::Import { file, dry_run }) => {
            stock::import(&ctx, &file, dry_run).await
        }
        Command::Subscribe { queue_arn } => subscribe::run(&ctx, queue_arn.as_deref()).await,
        Command::Doctor => doctor::run(&ctx).await,
        Command::Report { days, html, until } => {
            report::run(&ctx, days, html.as_deref(), until.as_deref()).await
        }
        Command::Templates(cmd) => templates::run(&ctx, cmd).await,
    }
}
