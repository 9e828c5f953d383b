//! `kenzen flag`, `kenzen withdraw`, `kenzen approve`: the seller's commands, put on kenzen's
//! bus (source `kenzen.seller`) for the functions to carry out. The case is looked up first so
//! a command that would do nothing (withdrawing an order without an open case, flagging one
//! that has one) is refused with why, and nothing is put.

use anyhow::{Result, anyhow};
use kenzen_app::adapters::eventbus::EventBridgePublisher;
use kenzen_app::ports::CaseStore;
use kenzen_core::OrderId;
use serde_json::json;

use crate::Outcome;
use crate::deployment::Ctx;
use crate::failure::{publish_failure, store_failure};

/// The longest reason kenzen keeps (the functions cut longer ones).
const MAX_REASON: usize = 200;

/// A seller command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Flag,
    Withdraw,
    Approve,
}

impl Command {
    fn detail_type(self) -> &'static str {
        match self {
            Self::Flag => "FlagOrder",
            Self::Withdraw => "WithdrawCase",
            Self::Approve => "ApproveCancel",
        }
    }

    /// What happens next, for the seller.
    fn next(self, order: &OrderId) -> String {
        match self {
            Self::Flag => format!(
                "new-order-check reads order {order} now: if it is unshipped and merchant-fulfilled, \
                 kenzen opens a case and handles it under your strategy (see it with `kenzen show \
                 {order}` in a minute)."
            ),
            Self::Withdraw => format!(
                "kenzen closes the case for {order} quietly: no more messages and no cancel; the \
                 order is yours to ship or cancel."
            ),
            Self::Approve => format!(
                "kenzen goes ahead with the cancel of {order} at its next run: the final message \
                 first, then the cancel (follow it with `kenzen show {order}`)."
            ),
        }
    }
}

/// Puts `command` for `order` on the bus.
pub async fn run(
    ctx: &Ctx,
    command: Command,
    order: &str,
    reason: Option<&str>,
) -> Result<Outcome> {
    let order_id = OrderId::parse(order.trim())
        .map_err(|e| anyhow!("{e}: give an Amazon order id like 503-1234567-1234567"))?;
    let reason = match reason.map(str::trim) {
        Some("") => {
            return Err(anyhow!(
                "--reason is empty: say why (it is kept on the case)"
            ));
        }
        Some(r) if r.chars().count() > MAX_REASON => {
            return Err(anyhow!(
                "--reason is {} characters long; kenzen keeps at most {MAX_REASON}: shorten it",
                r.chars().count()
            ));
        }
        other => other,
    };
    let table = ctx.table().await?;
    let bus = ctx.bus().await?;
    let store = ctx.store().await?;
    let case = store
        .get_case(&order_id)
        .await
        .map_err(|e| anyhow!("{}", store_failure(&table, &e)))?
        .map(|v| v.value);
    match (command, &case) {
        (Command::Flag, Some(c)) if !c.state.is_terminal() => {
            return Err(anyhow!(
                "order {order_id} already has an open case ({}): nothing put on the bus",
                c.state.name()
            ));
        }
        (Command::Withdraw | Command::Approve, None) => {
            return Err(anyhow!(
                "order {order_id} has no case in table {table}: nothing put on the bus"
            ));
        }
        (Command::Withdraw | Command::Approve, Some(c)) if c.state.is_terminal() => {
            return Err(anyhow!(
                "the case for order {order_id} has ended already ({}): nothing put on the bus",
                c.state.name()
            ));
        }
        _ => {}
    }
    let mut detail = json!({"orderId": order_id});
    match (command, reason) {
        (_, Some(r)) => detail["reason"] = json!(r),
        // The approval carries who gave it (kept on the case).
        (Command::Approve, None) => detail["reason"] = json!(crate::mode::by()),
        _ => {}
    }
    // An approval only matters in approve mode: say so when kenzen is in another.
    let note = if command == Command::Approve {
        match crate::mode::read(ctx).await {
            Ok(Some(s)) if s.mode != kenzen_core::Mode::Approve => Some(format!(
                "Note: kenzen is in mode {}, where no cancel waits for approval; the approval is                  kept on the case for approve mode.",
                s.mode
            )),
            _ => None,
        }
    } else {
        None
    };
    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&ctx.aws), bus.clone());
    publisher
        .put_seller_command(command.detail_type(), &order_id, &detail)
        .await
        .map_err(|e| anyhow!("{}", publish_failure(&bus, &e)))?;
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "put": command.detail_type(),
                "bus": bus,
                "detail": detail,
                "next": command.next(&order_id),
                "note": note,
            }))?
        );
    } else {
        println!("{} for {order_id} is on bus {bus}.", command.detail_type());
        println!("{}", command.next(&order_id));
        if let Some(n) = note {
            println!("{n}");
        }
    }
    Ok(Outcome::Ok)
}
