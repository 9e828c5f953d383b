//! The shared SP-API rate budget on the table (moto_server): containers that call at once
//! never take the same slot, and together keep to the usage plan.

use std::sync::Arc;

use anyhow::Result;
use jiff::{SignedDuration, Timestamp};
use kenzen_app::adapters::dynamo::DynamoRates;
use kenzen_app::adapters::spapi::rate::SharedRates;
use kenzen_tests::harness::moto_config;

use crate::{t0, world};

#[tokio::test]
async fn two_containers_share_one_budget_and_never_take_the_same_slot() -> Result<()> {
    let w = world().await?;
    let aws = moto_config().await?;
    let a = Arc::new(DynamoRates::new(
        aws_sdk_dynamodb::Client::new(&aws),
        w.table.clone(),
    ));
    let b = Arc::new(DynamoRates::new(
        aws_sdk_dynamodb::Client::new(&aws),
        w.table.clone(),
    ));
    // getOrder: 0.5 per second, burst 30. Both containers ask for 30 calls at the same moment.
    let now = t0();
    let take = |r: Arc<DynamoRates>| async move {
        let mut slots = Vec::new();
        for _ in 0..30 {
            slots.push(
                r.reserve("getOrder", 0.5, 30.0, now, None)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        slots
    };
    let (sa, sb) = tokio::join!(take(a.clone()), take(b.clone()));
    let mut all: Vec<Timestamp> = sa.into_iter().chain(sb).collect();
    all.sort();
    // The burst (30) goes at once; the other 30 one interval (2 s) apart, none shared.
    assert_eq!(all.iter().filter(|t| **t == now).count(), 30);
    for (i, t) in all[30..].iter().enumerate() {
        assert_eq!(
            *t,
            now + SignedDuration::from_secs(2 * (i as i64 + 1)),
            "slot {i}"
        );
    }
    // A slot past the run's latest start is refused and takes nothing.
    let latest = now + SignedDuration::from_secs(61);
    assert_eq!(
        a.reserve("getOrder", 0.5, 30.0, now, Some(latest))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        b.reserve("getOrder", 0.5, 30.0, now, None).await.unwrap(),
        Some(now + SignedDuration::from_secs(62))
    );
    // After a 429 the budget is empty: the next call waits one interval.
    let later = now + SignedDuration::from_hours(1);
    a.drain("getOrder", 0.5, 30.0, later).await.unwrap();
    assert_eq!(
        b.reserve("getOrder", 0.5, 30.0, later, None).await.unwrap(),
        Some(later + SignedDuration::from_secs(2))
    );
    Ok(())
}
