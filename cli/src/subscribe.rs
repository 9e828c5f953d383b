//! `kenzen subscribe [QUEUE_ARN]`: makes the SP-API deliver ORDER_CHANGE notifications to the
//! stack's SQS queue. Creates the destination (grantless) and the subscription, taking "already
//! there" (409) as done, so it is safe to run again. An existing subscription that sends to
//! another queue is never replaced: it is reported, loudly, and the command exits 1.

use anyhow::{Result, anyhow};
use serde_json::json;

use crate::Outcome;
use crate::deployment::Ctx;
use crate::failure::spapi_failure;

pub async fn run(ctx: &Ctx, queue_arn: Option<&str>) -> Result<Outcome> {
    let queue_arn = match queue_arn.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => q.to_string(),
        None => ctx.queue_arn().await?,
    };
    if !queue_arn.starts_with("arn:") || !queue_arn.contains(":sqs:") {
        return Err(anyhow!(
            "{queue_arn:?} is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME): give the \
             stack output NotificationQueueArn"
        ));
    }
    let client = ctx.spapi().await?;
    let cfg = ctx.spapi_config().await?;
    let r = client
        .subscribe_order_change(&queue_arn)
        .await
        .map_err(|e| {
            anyhow!(
                "subscribing {queue_arn} to ORDER_CHANGE: {}",
                spapi_failure(&cfg.endpoint, &e)
            )
        })?;
    let said = |created: bool| if created { "created" } else { "already there" };
    if ctx.json {
        let out = json!({
            "queue_arn": queue_arn,
            "destination_id": r.destination_id,
            "destination_created": r.destination_created,
            "subscription_id": r.subscription_id,
            "subscription_created": r.subscription_created,
            "elsewhere": r.elsewhere.as_ref().map(|e| json!({
                "subscription_id": e.subscription_id,
                "destination_id": e.destination_id,
                "queue_arn": e.queue_arn,
            })),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "destination {} for {queue_arn}: {}",
            r.destination_id,
            said(r.destination_created)
        );
        println!(
            "ORDER_CHANGE subscription {}: {}",
            r.subscription_id,
            said(r.subscription_created)
        );
    }
    if let Some(e) = &r.elsewhere {
        let queue = e
            .queue_arn
            .clone()
            .unwrap_or_else(|| "a destination that is not listed as a queue".into());
        eprintln!(
            "WARNING: the ORDER_CHANGE subscription {} already sends to destination {} ({queue}), \
             not to this stack's queue {queue_arn}: kenzen does not get ORDER_CHANGE \
             notifications (only its backstop poll sees new orders). Amazon allows one \
             ORDER_CHANGE subscription per application: delete that one (deleteSubscriptionById) \
             if nothing else needs it, then run `kenzen subscribe` again.",
            e.subscription_id, e.destination_id
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Ok)
}
