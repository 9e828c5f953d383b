//! kenzen's own SP-API client against the marketplace simulator: the LWA token cache, rates kept
//! on virtual time, pagination, and clear errors for unexpected answers.

use anyhow::Result;
use kenzen_app::adapters::spapi::{SpApiClient, SpApiConfig, SpApiError};
use kenzen_app::clock::Clock;
use kenzen_tests::harness::{World, WorldOptions};
use kenzen_tests::sim::Buyer;
use serde_json::json;

use crate::{client, client_config, count_op, hours, mins, order, t0, world};

#[tokio::test]
async fn the_lwa_token_is_exchanged_once_and_renewed_only_near_expiry() -> Result<()> {
    let w = world().await?;
    let id = "503-0000007-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = client(&w, None);
    for _ in 0..10 {
        c.get_order(id).await?;
    }
    assert_eq!(count_op(&w, "lwaToken"), 1);
    w.clock.advance(mins(50));
    c.get_order(id).await?;
    assert_eq!(
        count_op(&w, "lwaToken"),
        1,
        "still valid for 10 more minutes"
    );
    w.clock.advance(mins(6));
    c.get_order(id).await?;
    assert_eq!(
        count_op(&w, "lwaToken"),
        2,
        "renewed within 5 minutes of expiry"
    );
    let log = serde_json::to_string(&w.sim.log())?;
    assert!(!log.contains(&w.sim.config.client_secret) && !log.contains("Atza|"));
    Ok(())
}

#[tokio::test]
async fn rates_are_kept_on_virtual_time_and_a_429_is_retried() -> Result<()> {
    let w = world().await?;
    let id = "503-0000008-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = client(&w, None);
    let start = w.clock.now();
    for _ in 0..40 {
        c.get_order(id).await?;
    }
    let waited = w.clock.now().duration_since(start).as_secs_f64();
    assert!(waited >= 19.0, "burst 30, then 0.5/s: waited {waited}");
    assert_eq!(w.sim.log().iter().filter(|l| l["status"] == 429).count(), 0);

    // A second client (another container) does not know the bucket is empty: it gets a 429,
    // backs off on virtual time, and succeeds.
    let other = client(&w, None);
    other.get_order(id).await?;
    assert!(w.sim.log().iter().any(|l| l["status"] == 429));
    Ok(())
}

#[tokio::test]
async fn search_orders_follows_every_page() -> Result<()> {
    // Small pages, so five orders take three.
    let mut opts = WorldOptions::at(crate::START);
    opts.sim.page_size = 2;
    let w = World::start(opts).await?;
    for i in 0..5 {
        w.sim.add_order(order(
            &format!("503-0000009-000000{i}"),
            t0() + mins(i),
            "CUP",
            1,
            Buyer::Silent,
            "ja-JP",
        ));
    }
    w.clock.set(t0() + hours(1));
    let c = client(&w, None);
    let (orders, before) = c.search_orders(t0() - hours(1)).await?;
    assert_eq!(orders.len(), 5);
    // Amazon answers up to now minus its indexing lag.
    assert_eq!(before, Some(t0() + hours(1) - mins(2)));
    assert!(count_op(&w, "searchOrders") >= 3, "page size 2");
    Ok(())
}

#[tokio::test]
async fn unexpected_api_answers_give_clear_errors_and_server_errors_are_retried() -> Result<()> {
    let w = world().await?;
    let id = "503-0000010-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = client(&w, None);

    w.sim
        .inject("getOrder", 200, "{\"order\": {\"orderId\": 5}}", 1);
    let err = c.get_order(id).await.unwrap_err();
    assert!(
        matches!(err, SpApiError::Decode { op: "getOrder", .. }),
        "{err}"
    );

    w.sim.inject(
        "getOrder",
        200,
        &json!({"order": {"orderId": id, "createdTime": "2026-12-01T00:00:00Z",
        "lastUpdatedTime": "2026-12-01T00:00:00Z", "salesChannel": {"channelName": "AMAZON"},
        "fulfillment": {"fulfillmentStatus": "TELEPORTED"}, "orderItems": []}})
        .to_string(),
        1,
    );
    let err = c.get_order(id).await.unwrap_err().to_string();
    assert!(err.contains("TELEPORTED"), "{err}");

    w.sim.inject("getOrder", 503, "{}", 2);
    assert_eq!(
        c.get_order(id).await?.order_id,
        id,
        "two 503s, then success"
    );

    w.sim.inject("getOrder", 500, "{}", 5);
    assert!(matches!(
        c.get_order(id).await.unwrap_err(),
        SpApiError::Exhausted { .. }
    ));

    w.sim.inject(
        "getOrder",
        400,
        "{\"errors\":[{\"code\":\"InvalidInput\",\"message\":\"bad id\"}]}",
        1,
    );
    let err = c.get_order(id).await.unwrap_err();
    assert!(matches!(err, SpApiError::Http { status: 400, .. }));
    assert!(err.to_string().contains("InvalidInput: bad id"), "{err}");

    let wrong = SpApiClient::new(
        SpApiConfig {
            client_secret: "wrong".into(),
            ..client_config(&w)
        },
        Clock::Virtual(w.clock.clone()),
    )?;
    assert!(matches!(
        wrong.get_order(id).await.unwrap_err(),
        SpApiError::Auth(_)
    ));
    Ok(())
}
