//! `kenzen subscribe`: the destination and subscription are created, a second run finds both
//! (Amazon's 409s), and a subscription that already sends to another queue is reported loudly
//! and never replaced.

use anyhow::Result;
use kenzen_tests::sim::SimConfig;

use crate::{env_for, kenzen, world_now};

const QUEUE: &str = "arn:aws:sqs:ap-northeast-1:123456789012:kenzen-notifications";
const OTHER: &str = "arn:aws:sqs:ap-northeast-1:123456789012:another-tool";

fn statuses(w: &kenzen_tests::harness::World, op: &str) -> Vec<u64> {
    w.sim
        .log()
        .iter()
        .filter(|l| l["operation"] == op)
        .filter_map(|l| l["status"].as_u64())
        .collect()
}

#[tokio::test]
async fn subscribe_creates_both_then_finds_both_already_there() -> Result<()> {
    let w = world_now(SimConfig::default()).await?;
    let mut env = env_for(&w);
    env.insert("KENZEN_NOTIFICATION_QUEUE_ARN".into(), QUEUE.into());

    let first = kenzen(&env, &["subscribe"]).await?.expect(0);
    assert_eq!(
        first.stdout.matches(": created").count(),
        2,
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains(QUEUE), "{}", first.stdout);
    let again = kenzen(&env, &["subscribe", QUEUE, "--json"])
        .await?
        .expect(0)
        .json();
    assert_eq!(again["destination_created"], false);
    assert_eq!(again["subscription_created"], false);
    assert_eq!(again["elsewhere"], serde_json::Value::Null);
    assert_eq!(statuses(&w, "createSubscription"), [200, 409]);
    assert_eq!(
        statuses(&w, "createDestination"),
        [200],
        "found by the list the second time"
    );
    Ok(())
}

#[tokio::test]
async fn a_subscription_to_another_queue_is_warned_about_and_kept() -> Result<()> {
    let w = world_now(SimConfig::default()).await?;
    let env = env_for(&w);
    // Another tool of the seller's already took the application's one ORDER_CHANGE subscription.
    kenzen(&env, &["subscribe", OTHER]).await?.expect(0);

    let run = kenzen(&env, &["subscribe", QUEUE]).await?.expect(1);
    assert!(
        run.stderr
            .starts_with("WARNING: the ORDER_CHANGE subscription")
            && run.stderr.contains(OTHER)
            && run
                .stderr
                .contains(&format!("not to this stack's queue {QUEUE}")),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("already there"), "{}", run.stdout);
    let json = kenzen(&env, &["subscribe", QUEUE, "--json"])
        .await?
        .expect(1)
        .json();
    assert_eq!(json["elsewhere"]["queue_arn"], OTHER);
    // Nothing was deleted or replaced.
    assert!(statuses(&w, "createSubscription").ends_with(&[409, 409]));
    assert!(
        !w.sim.log().iter().any(|l| l["method"] == "DELETE"),
        "the existing subscription is never touched"
    );
    Ok(())
}

#[tokio::test]
async fn a_queue_that_is_not_an_sqs_arn_is_refused_before_any_call() -> Result<()> {
    let w = world_now(SimConfig::default()).await?;
    let env = env_for(&w);
    let run = kenzen(&env, &["subscribe", "kenzen-notifications"])
        .await?
        .expect(1);
    assert!(
        run.stderr.contains("not an SQS queue ARN"),
        "{}",
        run.stderr
    );
    assert!(w.sim.log().is_empty(), "no call made");
    Ok(())
}
