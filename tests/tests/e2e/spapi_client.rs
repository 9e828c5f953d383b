//! kenzen's own SP-API client against the marketplace simulator: the LWA token cache and its
//! failures, rates kept on virtual time, pagination, clear errors for unexpected answers, what
//! is never sent twice, authorisation refused, every ending of a cancel feed, the feed lookup,
//! the listing calls, and the seller performance report from request to Amazon's figures.
//!
//! The tests whose traffic follows Amazon's models start their simulator at `KENZEN_SIM_ADDR`
//! and call through `KENZEN_SPAPI_ENDPOINT` when those are set: run them one at a time
//! (`--test-threads=1`) with the contract proxy in front of that address, and the proxy checks
//! every call against the models. The others inject answers no model allows, on purpose.

use std::collections::BTreeMap;

use anyhow::Result;
use jiff::SignedDuration;
use kenzen_app::adapters::spapi::{ReportStatus, SpApiClient, SpApiConfig, SpApiError};
use kenzen_app::clock::Clock;
use kenzen_app::ports::{
    CancelBatchStatus, CancelRequest, MarketError, MarketErrorKind, Marketplace, SendOutcome,
};
use kenzen_core::health::MetricStatus;
use kenzen_core::{CancelReason, MarketplaceId, OrderId};
use kenzen_tests::harness::{World, WorldOptions};
use kenzen_tests::sim::{
    Buyer, FaultRate, FaultSide, FeedOutcome, HealthBaseline, ReportCharset, ReportGzip,
    ReportOutcome, Role, SimConfig,
};
use serde_json::json;

use crate::{client, client_config, count_op, delivered_to, hours, mins, order, t0, world};

/// A world on `sim`, its simulator at `KENZEN_SIM_ADDR` when set.
async fn contract_world(sim: SimConfig) -> Result<World> {
    let mut opts = WorldOptions::at(crate::START).from_env()?;
    opts.sim = sim;
    World::start(opts).await
}

/// A client calling through `KENZEN_SPAPI_ENDPOINT` (the contract proxy) when set.
fn contract_client(w: &World) -> SpApiClient {
    client(
        w,
        std::env::var("KENZEN_SPAPI_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty()),
    )
}

fn oid(id: &str) -> OrderId {
    id.parse().unwrap()
}

/// amazon.co.jp, the simulator's marketplace unless a test says otherwise.
const JP: &str = "A1VC38T7YXB528";

fn jp() -> MarketplaceId {
    JP.parse().unwrap()
}

/// `share` of the calls to `op` fail on `side` with `status`.
fn fault(op: &str, side: FaultSide, status: u16) -> FaultRate {
    FaultRate {
        side,
        ..FaultRate::before(op, 1.0, status)
    }
}

/// The cancel of `id`'s one line (as `order` builds it) for `reason`.
fn cancel(id: &str, reason: CancelReason) -> CancelRequest {
    CancelRequest {
        order_id: oid(id),
        order_item_ids: vec![format!("{}-item", id.replace('-', ""))],
        reason,
    }
}

#[tokio::test]
async fn the_lwa_token_is_exchanged_once_and_renewed_only_near_expiry() -> Result<()> {
    let w = contract_world(SimConfig::default()).await?;
    let id = "503-0000007-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
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
    let w = contract_world(SimConfig::default()).await?;
    let id = "503-0000008-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
    let start = w.clock.now();
    for _ in 0..40 {
        c.get_order(id).await?;
    }
    let waited = w.clock.now().duration_since(start).as_secs_f64();
    assert!(waited >= 19.0, "burst 30, then 0.5/s: waited {waited}");
    assert_eq!(w.sim.log().iter().filter(|l| l["status"] == 429).count(), 0);

    // A second client (another container) does not know the bucket is empty: it gets a 429,
    // backs off on virtual time, and succeeds.
    let other = contract_client(&w);
    other.get_order(id).await?;
    assert!(w.sim.log().iter().any(|l| l["status"] == 429));
    Ok(())
}

#[tokio::test]
async fn search_orders_follows_every_page() -> Result<()> {
    // Small pages, so five orders take three.
    let w = contract_world(SimConfig {
        page_size: 2,
        ..SimConfig::default()
    })
    .await?;
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
    let c = contract_client(&w);
    let search = c.search_orders(t0() - hours(1)).await?;
    let (orders, before) = (search.orders, search.before);
    assert!(search.unreadable.is_empty());
    assert_eq!(orders.len(), 5);
    // Amazon answers up to now minus its indexing lag.
    assert_eq!(before, Some(t0() + hours(1) - mins(2)));
    assert!(count_op(&w, "searchOrders") >= 3, "page size 2");
    Ok(())
}

#[tokio::test]
async fn an_order_the_search_cannot_read_is_set_apart_and_the_others_are_read() -> Result<()> {
    let w = world().await?;
    let c = client(&w, None);
    let good = r#"{"orderId":"503-0000011-0000001","createdTime":"2026-12-01T00:00:00Z","lastUpdatedTime":"2026-12-01T00:00:00Z","salesChannel":{"marketplaceId":"A1VC38T7YXB528"},"fulfillment":{"fulfillmentStatus":"UNSHIPPED","fulfilledBy":"MERCHANT","shipByWindow":{"latestDateTime":"2026-12-03T14:59:00Z"}},"orderItems":[{"orderItemId":"1","quantityOrdered":1,"product":{"sellerSku":"CUP","title":"Cup"}}]}"#;
    let unknown_status = good
        .replace("503-0000011-0000001", "503-0000011-0000002")
        .replace("UNSHIPPED", "ON_THE_MOON");
    let no_fulfillment = r#"{"orderId":"503-0000011-0000003","lastUpdatedTime":"2026-12-01T00:00:00Z","salesChannel":{},"orderItems":[]}"#;
    w.sim.inject(
        "searchOrders",
        200,
        &format!(r#"{{"orders":[{good},{unknown_status},{no_fulfillment}]}}"#),
        1,
    );
    let search = c.search_orders(t0() - hours(1)).await?;
    let ids: Vec<String> = search
        .orders
        .iter()
        .map(|o| o.order_id.to_string())
        .collect();
    assert_eq!(ids, ["503-0000011-0000001"]);
    let bad: Vec<Option<String>> = search
        .unreadable
        .iter()
        .map(|u| u.order_id.clone())
        .collect();
    assert_eq!(
        bad,
        [
            Some("503-0000011-0000002".to_string()),
            Some("503-0000011-0000003".to_string())
        ]
    );
    assert!(search.unreadable[0].detail.contains("ON_THE_MOON"));
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
    let err = wrong.get_order(id).await.unwrap_err();
    assert!(matches!(err, SpApiError::LwaCredentials(_)), "{err}");
    assert_eq!(err.kind(), MarketErrorKind::NotAuthorized);
    assert!(
        err.to_string()
            .contains("check the client id, secret and refresh token"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_message_whose_answer_is_lost_goes_out_once_and_its_outcome_is_unknown() -> Result<()> {
    let w = contract_world(SimConfig {
        fault_rates: vec![fault("createUnexpectedProblem", FaultSide::After, 500)],
        ..SimConfig::default()
    })
    .await?;
    let id = "503-0000011-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
    let err: MarketError =
        Marketplace::send_unexpected_problem(&c, &oid(id), &jp(), "ご不便をおかけします")
            .await
            .unwrap_err();
    assert_eq!(err.kind, MarketErrorKind::OutcomeUnknown, "{err}");
    assert!(err.message.contains("may have processed it"), "{err}");
    assert_eq!(
        count_op(&w, "createUnexpectedProblem"),
        1,
        "never sent again"
    );
    assert_eq!(delivered_to(&w, id), 1, "the buyer has it");
    let line = w
        .sim
        .log()
        .into_iter()
        .find(|l| l["operation"] == "createUnexpectedProblem")
        .unwrap();
    assert_eq!(
        (line["status"].clone(), line["processed_status"].clone()),
        (json!(500), json!(201))
    );

    Ok(())
}

#[tokio::test]
async fn a_report_request_whose_answer_is_lost_is_not_made_again() -> Result<()> {
    let w = contract_world(SimConfig {
        fault_rates: vec![fault("createReport", FaultSide::After, 500)],
        ..SimConfig::default()
    })
    .await?;
    let c = contract_client(&w);
    let err: MarketError = Marketplace::request_health_report(&c, &[jp()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, MarketErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(count_op(&w, "createReport"), 1, "never asked again");
    Ok(())
}

#[tokio::test]
async fn a_throttled_message_is_sent_after_the_429_once() -> Result<()> {
    let w = contract_world(SimConfig::default()).await?;
    let id = "503-0000012-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    w.sim.inject(
        "createUnexpectedProblem",
        429,
        &json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]}).to_string(),
        1,
    );
    let c = contract_client(&w);
    assert_eq!(
        c.send_unexpected_problem(id, JP, "ご不便をおかけします")
            .await?,
        SendOutcome::Accepted
    );
    assert_eq!(count_op(&w, "createUnexpectedProblem"), 2);
    assert_eq!(delivered_to(&w, id), 1);
    Ok(())
}

#[tokio::test]
async fn a_feed_whose_answer_is_lost_is_not_submitted_again_and_get_feeds_finds_it() -> Result<()> {
    let w = contract_world(SimConfig {
        fault_rates: vec![fault("createFeed", FaultSide::After, 500)],
        ..SimConfig::default()
    })
    .await?;
    let id = "503-0000013-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    w.clock.advance(mins(10));
    let c = contract_client(&w);
    let cancels = [cancel(id, CancelReason::NoInventory)];
    let err = Marketplace::submit_cancels(&c, &jp(), &cancels)
        .await
        .unwrap_err();
    assert_eq!(err.kind, MarketErrorKind::OutcomeUnknown, "{err}");
    assert_eq!(count_op(&w, "createFeed"), 1, "never submitted again");

    let feeds = Marketplace::recent_cancel_feeds(&c, t0()).await?;
    assert_eq!(feeds.len(), 1, "{feeds:?}");
    assert_eq!(feeds[0].status, "IN_QUEUE");
    assert_eq!(feeds[0].created, t0() + mins(10));
    assert!(
        Marketplace::recent_cancel_feeds(&c, t0() + mins(11))
            .await?
            .is_empty()
    );

    // The feed found is the one Amazon took: it cancels the order.
    w.clock.advance(mins(5));
    let status = c.cancel_status(&feeds[0].feed_id, &cancels).await?;
    assert_eq!(
        status,
        CancelBatchStatus::Done {
            errors: BTreeMap::new(),
            unattributed: None
        }
    );
    assert_eq!(w.sim.order(id).unwrap().status, "CANCELLED");
    Ok(())
}

#[tokio::test]
async fn recent_cancel_feeds_reads_every_page_newest_first() -> Result<()> {
    let w = contract_world(SimConfig::default()).await?;
    let id = "503-0000014-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
    let mut ids = Vec::new();
    for _ in 0..102 {
        ids.push(
            c.submit_cancels(JP, &[cancel(id, CancelReason::NoInventory)])
                .await?,
        );
    }
    ids.reverse();
    // An old `since` is read as Amazon's 90 days.
    let feeds = c.recent_cancel_feeds(t0() - hours(24 * 365)).await?;
    let listed: Vec<String> = feeds.into_iter().map(|f| f.feed_id).collect();
    assert_eq!(listed, ids);
    assert_eq!(count_op(&w, "getFeeds"), 2, "two pages of up to 100");
    Ok(())
}

/// Two orders, `OPEN` and `SHIPPED` (shipped, so its cancel fails), one feed cancelling both
/// under `sim`, read when processed.
async fn feed_ending(sim: SimConfig) -> Result<(World, CancelBatchStatus)> {
    let w = contract_world(sim).await?;
    for id in [OPEN, SHIPPED] {
        w.sim
            .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    }
    w.sim.ship(SHIPPED);
    let c = contract_client(&w);
    let cancels = [
        cancel(OPEN, CancelReason::NoInventory),
        cancel(SHIPPED, CancelReason::NoInventory),
    ];
    let feed_id = c.submit_cancels(JP, &cancels).await?;
    assert_eq!(
        c.cancel_status(&feed_id, &cancels).await?,
        CancelBatchStatus::Pending
    );
    w.clock.advance(mins(5));
    let status = c.cancel_status(&feed_id, &cancels).await?;
    Ok((w, status))
}

const OPEN: &str = "503-0000015-0000001";
const SHIPPED: &str = "503-0000015-0000002";

fn outcome(feed_outcome: FeedOutcome) -> SimConfig {
    SimConfig {
        feed_outcome,
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn a_report_with_an_error_per_failed_order_confirms_the_others() -> Result<()> {
    let (w, status) = feed_ending(SimConfig::default()).await?;
    let CancelBatchStatus::Done {
        errors,
        unattributed,
    } = status
    else {
        panic!("{status:?}");
    };
    assert_eq!(unattributed, None);
    assert_eq!(errors.keys().collect::<Vec<_>>(), [&oid(SHIPPED)]);
    assert!(errors[&oid(SHIPPED)].contains("SHIPPED"), "{errors:?}");
    assert_eq!(w.sim.order(OPEN).unwrap().status, "CANCELLED");
    Ok(())
}

#[tokio::test]
async fn a_report_in_windows_31j_is_read_by_its_declared_charset() -> Result<()> {
    let (_, status) = feed_ending(SimConfig {
        report_charset: ReportCharset::Windows31J,
        ..SimConfig::default()
    })
    .await?;
    let CancelBatchStatus::Done {
        errors,
        unattributed,
    } = status
    else {
        panic!("{status:?}");
    };
    assert_eq!(unattributed, None);
    assert!(
        errors[&oid(SHIPPED)].contains("キャンセルできません"),
        "{errors:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_report_of_counts_only_confirms_no_order() -> Result<()> {
    let (_, status) = feed_ending(outcome(FeedOutcome::SummaryOnly)).await?;
    assert_eq!(
        status,
        CancelBatchStatus::Done {
            errors: BTreeMap::new(),
            unattributed: Some(
                "1 messages with errors in the report, 1 not tied to an order".into()
            ),
        }
    );
    Ok(())
}

#[tokio::test]
async fn a_whole_document_error_confirms_no_order_and_gives_the_reports_words() -> Result<()> {
    let (w, status) = feed_ending(outcome(FeedOutcome::DocumentError)).await?;
    let CancelBatchStatus::Done {
        errors,
        unattributed,
    } = status
    else {
        panic!("{status:?}");
    };
    assert!(errors.is_empty(), "{errors:?}");
    let why = unattributed.unwrap();
    assert!(why.starts_with("5001 XML Parsing Fatal Error"), "{why}");
    assert_eq!(w.sim.order(OPEN).unwrap().status, "UNSHIPPED");
    Ok(())
}

#[tokio::test]
async fn a_fatal_feed_with_a_report_is_read_and_confirms_no_order() -> Result<()> {
    let (_, status) = feed_ending(outcome(FeedOutcome::Fatal { report: true })).await?;
    let CancelBatchStatus::Done {
        errors,
        unattributed,
    } = status
    else {
        panic!("{status:?}");
    };
    assert!(errors.is_empty(), "{errors:?}");
    let why = unattributed.unwrap();
    assert!(
        why.starts_with("feed ended FATAL: 25 We are unable to process"),
        "{why}"
    );
    Ok(())
}

#[tokio::test]
async fn a_fatal_feed_without_a_report_and_a_cancelled_feed_fail() -> Result<()> {
    let (_, status) = feed_ending(outcome(FeedOutcome::Fatal { report: false })).await?;
    assert!(
        matches!(&status, CancelBatchStatus::Failed(why) if why.contains("FATAL")),
        "{status:?}"
    );
    let (_, status) = feed_ending(outcome(FeedOutcome::Cancelled)).await?;
    assert!(
        matches!(&status, CancelBatchStatus::Failed(why) if why.contains("CANCELLED")),
        "{status:?}"
    );
    Ok(())
}

#[tokio::test]
async fn messaging_without_the_role_is_not_authorized_after_one_try_with_a_new_token() -> Result<()>
{
    let w = contract_world(SimConfig {
        missing_roles: [Role::BuyerCommunication].into(),
        ..SimConfig::default()
    })
    .await?;
    let id = "503-0000016-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
    let errors = [
        Marketplace::can_send_unexpected_problem(&c, &oid(id), &jp())
            .await
            .map(|_| ())
            .unwrap_err(),
        Marketplace::buyer_locale(&c, &oid(id), &jp())
            .await
            .map(|_| ())
            .unwrap_err(),
        Marketplace::send_unexpected_problem(&c, &oid(id), &jp(), "ご不便をおかけします")
            .await
            .map(|_| ())
            .unwrap_err(),
    ];
    for err in &errors {
        assert_eq!(err.kind, MarketErrorKind::NotAuthorized, "{err}");
        assert!(err.message.contains("Buyer Communication"), "{err}");
    }
    for op in [
        "getMessagingActionsForOrder",
        "getAttributes",
        "createUnexpectedProblem",
    ] {
        assert_eq!(count_op(&w, op), 2, "{op}: once more with a new token");
    }
    assert_eq!(
        count_op(&w, "lwaToken"),
        4,
        "the first token and three new ones"
    );
    assert_eq!(delivered_to(&w, id), 0);
    Ok(())
}

#[tokio::test]
async fn a_message_not_offered_for_the_order_is_refused_without_a_new_token() -> Result<()> {
    let w = contract_world(SimConfig::default()).await?;
    let id = "503-0000017-0000001";
    let mut o = order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP");
    o.messaging_available = false;
    w.sim.add_order(o);
    let c = contract_client(&w);
    assert!(!c.can_send_unexpected_problem(id, JP).await?);
    let outcome = c
        .send_unexpected_problem(id, JP, "ご不便をおかけします")
        .await?;
    assert!(
        matches!(&outcome, SendOutcome::Refused(why) if why.contains("Invalid amazonOrderId and template combination")),
        "{outcome:?}"
    );
    assert_eq!(count_op(&w, "createUnexpectedProblem"), 1);
    assert_eq!(count_op(&w, "lwaToken"), 1);
    Ok(())
}

#[tokio::test]
async fn a_refused_token_is_dropped_and_the_call_made_again_with_a_new_one() -> Result<()> {
    let w = contract_world(SimConfig::default()).await?;
    let id = "503-0000018-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
    c.get_order(id).await?;
    // Amazon no longer takes the cached token (revoked, or expired early).
    w.sim.inject(
        "getOrder",
        403,
        &json!({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
            "details": "The access token you provided is revoked, malformed or invalid."}]})
        .to_string(),
        1,
    );
    assert_eq!(c.get_order(id).await?.order_id, id);
    assert_eq!(count_op(&w, "getOrder"), 3);
    assert_eq!(count_op(&w, "lwaToken"), 2);
    Ok(())
}

#[tokio::test]
async fn a_401_drops_the_token_too() -> Result<()> {
    // The orders model declares no 401: sent straight to the simulator.
    let w = world().await?;
    let id = "503-0000019-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = client(&w, None);
    w.sim.inject(
        "getOrder",
        401,
        &json!({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}).to_string(),
        2,
    );
    let err = c.get_order(id).await.unwrap_err();
    assert!(
        matches!(err, SpApiError::NotAuthorized { status: 401, .. }),
        "{err}"
    );
    assert_eq!((count_op(&w, "getOrder"), count_op(&w, "lwaToken")), (2, 2));
    Ok(())
}

#[tokio::test]
async fn the_token_endpoint_is_retried_on_server_errors_and_lost_answers() -> Result<()> {
    let w = contract_world(SimConfig {
        fault_rates: vec![FaultRate {
            until: Some(t0() + SignedDuration::from_secs(2)),
            ..fault("lwaToken", FaultSide::Before, 503)
        }],
        ..SimConfig::default()
    })
    .await?;
    let id = "503-0000020-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
    c.get_order(id).await?;
    assert_eq!(
        count_op(&w, "lwaToken"),
        3,
        "at 0 s and 1 s it failed; at 3 s it worked"
    );
    assert_eq!(w.clock.now(), t0() + SignedDuration::from_secs(3));

    // A token issued but whose answer was lost: a new one is asked for.
    drop(w);
    let w = contract_world(SimConfig {
        fault_rates: vec![FaultRate {
            until: Some(t0() + SignedDuration::from_secs(1)),
            ..fault("lwaToken", FaultSide::After, 500)
        }],
        ..SimConfig::default()
    })
    .await?;
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    contract_client(&w).get_order(id).await?;
    assert_eq!(count_op(&w, "lwaToken"), 2);
    Ok(())
}

#[tokio::test]
async fn a_token_endpoint_that_keeps_failing_is_unavailable_not_wrong_credentials() -> Result<()> {
    let w = contract_world(SimConfig {
        fault_rates: vec![fault("lwaToken", FaultSide::Before, 503)],
        ..SimConfig::default()
    })
    .await?;
    let id = "503-0000021-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let err: MarketError = Marketplace::get_order(&contract_client(&w), &oid(id))
        .await
        .unwrap_err();
    assert_eq!(err.kind, MarketErrorKind::Transient, "{err}");
    assert!(err.message.contains("LWA unavailable"), "{err}");
    assert!(!err.message.contains("client id"), "{err}");
    assert_eq!(count_op(&w, "lwaToken"), 4);
    assert_eq!(count_op(&w, "getOrder"), 0);

    // Nothing listening at the token endpoint: the network, said so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let c = SpApiClient::new(
        SpApiConfig {
            lwa_endpoint: format!("http://{closed}/auth/o2/token"),
            ..client_config(&w)
        },
        Clock::Virtual(w.clock.clone()),
    )?;
    let err = c.get_order(id).await.unwrap_err();
    assert!(err.is_transient());
    assert!(err.to_string().contains("network error"), "{err}");
    Ok(())
}

#[tokio::test]
async fn the_listing_product_type_is_read_and_a_quantity_patch_keeps_the_handling_time()
-> Result<()> {
    let mut sim = SimConfig::default();
    sim.product_types.insert("CUP".into(), "KITCHEN".into());
    let w = contract_world(sim).await?;
    let id = "503-0000022-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    let c = contract_client(&w);
    assert_eq!(
        c.listing_product_type("CUP", JP).await?.as_deref(),
        Some("KITCHEN")
    );
    assert_eq!(c.listing_product_type("NO SUCH/SKU", JP).await?, None);
    c.set_listing_quantity("CUP", JP, 0, "KITCHEN").await?;
    assert_eq!(
        w.sim.offer_fulfillment("CUP"),
        Some(json!({"fulfillment_channel_code": "DEFAULT", "quantity": 0,
                    "lead_time_to_ship_max_days": 2})),
        "merge keeps the seller's handling time"
    );
    Ok(())
}

#[tokio::test]
async fn one_client_serves_every_marketplace_of_an_eu_stack_each_call_under_the_orders_own()
-> Result<()> {
    // Eleven marketplaces: more than one getFeeds call may filter on (ten).
    let (de, uk, india) = ("A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A21TJRUUN4KGV");
    let others = [
        "A13V1IB3VIYZZH",
        "APJ6JRA9NG5V4",
        "A1RKKUPIHCS9HS",
        "A1805IZSGTT6HS",
        uk,
        "A2NODRKZP88ZB9",
        "A1C3SOZRARQ6R3",
        "AMEN7PMS3EDWL",
        "A33AVAJ2PDY3EV",
        india,
    ];
    let w = contract_world(SimConfig {
        marketplace_id: de.into(),
        other_marketplaces: others.iter().map(|m| m.to_string()).collect(),
        time_zone: "Europe/Berlin".into(),
        ..SimConfig::default()
    })
    .await?;
    let placed = |id: &str, m: &str| {
        let mut o = order(id, t0(), "CUP", 1, Buyer::Silent, "en-GB");
        o.marketplace_id = Some(m.into());
        o
    };
    let (german, british, indian) = (
        "302-0000031-0000001",
        "202-0000031-0000002",
        "404-0000031-0000003",
    );
    w.sim.add_order(placed(german, de));
    w.sim.add_order(placed(british, uk));
    w.sim.add_order(placed(indian, india));
    w.clock.advance(mins(10));
    let c = contract_client(&w);
    assert_eq!(c.marketplace_ids().len(), 11);

    // One search over every marketplace; each order keeps its own.
    let search = c.search_orders(t0() - hours(1)).await?;
    let mut found: Vec<(String, String)> = search
        .orders
        .iter()
        .map(|o| (o.order_id.to_string(), o.marketplace_id.to_string()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (british.to_string(), uk.to_string()),
            (german.to_string(), de.to_string()),
            (indian.to_string(), india.to_string()),
        ]
    );

    // Messaging under the order's own marketplace works; under another it is refused.
    let uk_id: MarketplaceId = uk.parse()?;
    let de_id: MarketplaceId = de.parse()?;
    assert!(Marketplace::can_send_unexpected_problem(&c, &oid(british), &uk_id).await?);
    let err = Marketplace::can_send_unexpected_problem(&c, &oid(british), &de_id)
        .await
        .unwrap_err();
    assert_eq!(err.kind, MarketErrorKind::InvalidInput, "{err}");
    assert_eq!(
        Marketplace::buyer_locale(&c, &oid(british), &uk_id)
            .await?
            .as_deref(),
        Some("en-GB")
    );
    assert_eq!(
        Marketplace::send_unexpected_problem(&c, &oid(british), &uk_id, "We are sorry.").await?,
        SendOutcome::Accepted
    );

    // The SKU is zeroed in the British marketplace only.
    c.set_listing_quantity("CUP", uk, 0, "HOME").await?;
    assert_eq!(w.sim.offer_quantity_in(uk, "CUP"), Some(0));
    assert_eq!(w.sim.offer_quantity_in(de, "CUP"), None);

    // One feed per marketplace; an order placed elsewhere than the feed's is an error in it.
    let uk_feed = c
        .submit_cancels(uk, &[cancel(british, CancelReason::NoInventory)])
        .await?;
    let wrong = [cancel(german, CancelReason::NoInventory)];
    let india_feed = c.submit_cancels(india, &wrong).await?;
    // Both are listed, though the eleven marketplaces take two getFeeds calls.
    let mut listed: Vec<String> = c
        .recent_cancel_feeds(t0())
        .await?
        .into_iter()
        .map(|f| f.feed_id)
        .collect();
    listed.sort();
    let mut want = vec![uk_feed.clone(), india_feed.clone()];
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(count_op(&w, "getFeeds"), 2);
    w.clock.advance(mins(5));
    assert!(matches!(
        c.cancel_status(&india_feed, &wrong).await?,
        CancelBatchStatus::Done { errors, .. } if errors.contains_key(&oid(german))
    ));
    assert_eq!(w.sim.order(german).unwrap().status, "UNSHIPPED");
    c.cancel_status(&uk_feed, &[cancel(british, CancelReason::NoInventory)])
        .await?;
    assert_eq!(w.sim.order(british).unwrap().status, "CANCELLED");
    Ok(())
}

// ---- The seller performance report (Reports API) ----

const PLACED_OPEN: &str = "503-0000040-0000001";
const PLACED_NO_STOCK: &str = "503-0000040-0000002";
const PLACED_ASKED: &str = "503-0000040-0000003";

/// Three orders placed two days ago on amazon.co.jp and one cancel feed through the client: one
/// order open, one cancelled for want of stock (it counts against the seller), one cancelled
/// as BuyerCanceled at the buyer's own request through Amazon (it does not).
async fn report_history(w: &World, c: &SpApiClient) -> Result<()> {
    let placed = t0() - hours(48);
    for id in [PLACED_OPEN, PLACED_NO_STOCK] {
        w.sim
            .add_order(order(id, placed, "CUP", 1, Buyer::Silent, "ja-JP"));
    }
    let mut asked = order(PLACED_ASKED, placed, "CUP", 1, Buyer::Silent, "ja-JP");
    asked.buyer_request = Some(placed + hours(3));
    w.sim.add_order(asked);
    let cancels = [
        cancel(PLACED_NO_STOCK, CancelReason::NoInventory),
        cancel(PLACED_ASKED, CancelReason::BuyerCanceled),
    ];
    let feed_id = c.submit_cancels(JP, &cancels).await?;
    w.clock.advance(mins(5));
    assert_eq!(
        c.cancel_status(&feed_id, &cancels).await?,
        CancelBatchStatus::Done {
            errors: BTreeMap::new(),
            unattributed: None
        }
    );
    Ok(())
}

#[tokio::test]
async fn the_seller_performance_report_is_requested_followed_and_read_into_amazons_figures()
-> Result<()> {
    // Plain and GZIP documents read alike.
    for gzip in [ReportGzip::Never, ReportGzip::Always] {
        let w = contract_world(SimConfig {
            health_report_gzip: gzip,
            health_baseline: vec![HealthBaseline::new(JP, 200, 1)],
            ..SimConfig::default()
        })
        .await?;
        let c = contract_client(&w);
        report_history(&w, &c).await?;

        let requested = w.clock.now();
        let id = c.request_seller_performance(&[JP.to_string()]).await?;
        assert_eq!(
            c.seller_performance_status(&id).await?,
            ReportStatus::Pending
        );
        w.clock.advance(mins(1));
        assert_eq!(
            c.seller_performance_status(&id).await?,
            ReportStatus::Pending,
            "in progress"
        );
        w.clock.advance(mins(2));
        let ReportStatus::Done { document_id } = c.seller_performance_status(&id).await? else {
            panic!("the report is done after three minutes");
        };
        let fetched = w.clock.now();
        let report = c.seller_performance_document(&document_id, fetched).await?;
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let jp = report.for_marketplace(JP).expect("amazon.co.jp's figures");
        // The baseline's 200 orders and 1 cancel, the three orders and the stock cancel.
        assert_eq!((jp.cancel.count, jp.cancel.orders), (2, 203), "{gzip:?}");
        // serde_json reads floats to within an ulp.
        assert!(
            (jp.cancel.rate - 2.0 / 203.0).abs() < 1e-12,
            "{}",
            jp.cancel.rate
        );
        assert_eq!(jp.cancel.ceiling_target(), Some(0.025));
        assert_eq!(jp.cancel.status, Some(MetricStatus::Good));
        // Made when processing ended, its windows ending a day earlier (to the minute).
        assert_eq!(jp.cancel.window_to, requested + mins(3) - hours(24));
        assert_eq!(jp.fetched_at, fetched);
        assert!(jp.late_shipment.is_some());
        for (op, calls) in [
            ("createReport", 1),
            ("getReport", 3),
            ("getReportDocument", 1),
        ] {
            assert_eq!(count_op(&w, op), calls, "{op}");
        }
        let downloads = w
            .sim
            .log()
            .iter()
            .filter(|l| {
                l["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/sim-report-docs/"))
            })
            .count();
        assert_eq!(downloads, 1);
        let log = serde_json::to_string(&w.sim.log())?;
        assert!(!log.contains("Atza|"), "no token in the log");
    }
    Ok(())
}

#[tokio::test]
async fn a_cancelled_or_fatal_report_says_so_and_an_error_document_is_not_read_as_figures()
-> Result<()> {
    for outcome in [
        ReportOutcome::Cancelled,
        ReportOutcome::Fatal { document: false },
        ReportOutcome::Fatal { document: true },
    ] {
        let w = contract_world(SimConfig {
            health_report_outcome: outcome,
            ..SimConfig::default()
        })
        .await?;
        let c = contract_client(&w);
        let id = c.request_seller_performance(&[JP.to_string()]).await?;
        w.clock.advance(mins(3));
        let status = c.seller_performance_status(&id).await?;
        match (outcome, &status) {
            (ReportOutcome::Cancelled, ReportStatus::Cancelled) => {}
            (ReportOutcome::Fatal { document: false }, ReportStatus::Fatal { document_id }) => {
                assert_eq!(document_id, &None);
            }
            (
                ReportOutcome::Fatal { document: true },
                ReportStatus::Fatal {
                    document_id: Some(doc),
                },
            ) => {
                let err = c
                    .seller_performance_document(doc, w.clock.now())
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, SpApiError::Decode { op: "getReportDocument", detail }
                        if detail.contains("no performanceMetrics")),
                    "{err}"
                );
                assert_eq!(err.kind(), MarketErrorKind::Unreadable);
            }
            _ => panic!("{outcome:?} gave {status:?}"),
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_seller_performance_report_without_the_selling_partner_insights_role_is_not_authorized()
-> Result<()> {
    let w = contract_world(SimConfig {
        missing_roles: [Role::SellingPartnerInsights].into(),
        ..SimConfig::default()
    })
    .await?;
    let c = contract_client(&w);
    let err = c
        .request_seller_performance(&[JP.to_string()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, SpApiError::NotAuthorized { status: 403, .. }),
        "{err}"
    );
    assert_eq!(err.kind(), MarketErrorKind::NotAuthorized);
    assert!(
        err.to_string()
            .contains("the application has the Selling Partner Insights role"),
        "{err}"
    );
    assert_eq!(
        (count_op(&w, "createReport"), count_op(&w, "lwaToken")),
        (2, 2),
        "once more with a new token, then it stops"
    );
    let err = c
        .seller_performance_status("60000000001")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), MarketErrorKind::NotAuthorized, "{err}");
    Ok(())
}

#[tokio::test]
async fn report_requests_keep_the_rate_budget_and_the_runs_deadline() -> Result<()> {
    let w = contract_world(SimConfig::default()).await?;
    let c = contract_client(&w);
    let jp = [JP.to_string()];
    // createReport's burst is 15; the 16th would wait a minute, past this run's deadline.
    c.set_deadline(Some(w.clock.now() + SignedDuration::from_secs(45)));
    for _ in 0..15 {
        c.request_seller_performance(&jp).await?;
    }
    let start = w.clock.now();
    let err = c.request_seller_performance(&jp).await.unwrap_err();
    assert!(
        matches!(err, SpApiError::NoBudget { op: "createReport" }),
        "{err}"
    );
    assert_eq!(w.clock.now(), start, "refused without waiting");
    // Without a deadline it waits its turn, and Amazon never answers 429.
    c.set_deadline(None);
    c.request_seller_performance(&jp).await?;
    assert!(w.clock.now().duration_since(start) >= SignedDuration::from_secs(59));
    assert_eq!(count_op(&w, "createReport"), 16);
    assert_eq!(w.sim.log().iter().filter(|l| l["status"] == 429).count(), 0);

    // An empty or too long list is not sent at all.
    for n in [0, 26] {
        let many = vec![JP.to_string(); n];
        let err = c.request_seller_performance(&many).await.unwrap_err();
        assert!(matches!(err, SpApiError::InvalidRequest { .. }), "{err}");
        assert_eq!(err.kind(), MarketErrorKind::InvalidInput);
    }
    assert_eq!(count_op(&w, "createReport"), 16);
    Ok(())
}

#[tokio::test]
async fn unexpected_report_answers_are_clear_errors_not_panics() -> Result<()> {
    // Answers no model allows, injected: straight to the simulator.
    let w = world().await?;
    let c = client(&w, None);
    let report = |status: &str, extra: &str| {
        format!(
            r#"{{"reportId":"60000000001","reportType":"GET_V2_SELLER_PERFORMANCE_REPORT","createdTime":"2026-12-01T00:00:00Z","processingStatus":"{status}"{extra}}}"#
        )
    };
    for (body, says) in [
        (report("SIMMERING", ""), "SIMMERING"),
        (report("DONE", ""), "DONE without a reportDocumentId"),
        (
            report("DONE", r#","reportDocumentId":"d""#).replace(
                "GET_V2_SELLER_PERFORMANCE_REPORT",
                "GET_FLAT_FILE_OPEN_LISTINGS_DATA",
            ),
            "is a GET_FLAT_FILE_OPEN_LISTINGS_DATA report",
        ),
        (r#"{"reportId":"60000000001"}"#.to_string(), "missing field"),
    ] {
        w.sim.inject("getReport", 200, &body, 1);
        let err = c
            .seller_performance_status("60000000001")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SpApiError::Decode { op: "getReport", detail } if detail.contains(says)),
            "{body}: {err}"
        );
    }

    // A real (plain) document, then answers about it that do not hold: its URL as the
    // download's log line has it, declared GZIP; an unknown compression; a URL that fails.
    let id = c.request_seller_performance(&[JP.to_string()]).await?;
    w.clock.advance(mins(3));
    let ReportStatus::Done { document_id } = c.seller_performance_status(&id).await? else {
        panic!("the report is done after three minutes");
    };
    c.seller_performance_document(&document_id, w.clock.now())
        .await?;
    let download = w
        .sim
        .log()
        .into_iter()
        .rfind(|l| l["operation"] == "downloadDocument")
        .expect("the download is logged");
    let url = format!(
        "{}{}?{}",
        w.sim.base_url(),
        download["path"].as_str().unwrap(),
        download["query"].as_str().unwrap()
    );
    let answer = |url: &str, compression: &str| {
        json!({"reportDocumentId": document_id, "url": url, "compressionAlgorithm": compression})
            .to_string()
    };
    for (body, says) in [
        (answer(&url, "GZIP"), "declared GZIP but does not unpack"),
        (answer(&url, "ZIP"), "compressionAlgorithm \"ZIP\""),
    ] {
        w.sim.inject("getReportDocument", 200, &body, 1);
        let err = c
            .seller_performance_document(&document_id, w.clock.now())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SpApiError::Decode { op: "getReportDocument", detail } if detail.contains(says)),
            "{err}"
        );
    }
    let unsigned = format!("{}/sim-report-docs/{document_id}", w.sim.base_url());
    w.sim.inject(
        "getReportDocument",
        200,
        &json!({"reportDocumentId": document_id, "url": unsigned}).to_string(),
        1,
    );
    let err = c
        .seller_performance_document(&document_id, w.clock.now())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SpApiError::Document(why) if why.contains("seller performance report download answered HTTP 403")),
        "{err}"
    );
    assert_eq!(err.kind(), MarketErrorKind::Transient);
    Ok(())
}
