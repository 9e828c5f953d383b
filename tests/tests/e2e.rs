//! End-to-end and adapter tests: the real handlers, the real SP-API client against the
//! marketplace simulator, the real DynamoDB and EventBridge adapters against moto_server.
//! Run through `scripts/test.sh`, which starts moto_server and sets KENZEN_TEST_AWS_ENDPOINT.

use anyhow::Result;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use jiff::{SignedDuration, Timestamp};
use kenzen_app::adapters::dynamo::DynamoStore;
use kenzen_app::adapters::eventbus::EventBridgePublisher;
use kenzen_app::adapters::spapi::{SpApiClient, SpApiConfig, SpApiError};
use kenzen_app::clock::Clock;
use kenzen_app::ports::{CaseStore, EventPublisher, IntakeStore, StoreError};
use kenzen_core::{CancelReason, CaseState, DomainEvent, DueKind, OpenReason, Settings, Strategy};
use kenzen_tests::checks::{Limits, check};
use kenzen_tests::harness::{Function, World, WorldOptions};
use kenzen_tests::sim::{Buyer, SimItem, SimOrder};
use serde_json::{Value, json};

const START: &str = "2026-12-01T00:00:00Z";

fn t0() -> Timestamp {
    START.parse().unwrap()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn order(id: &str, placed: Timestamp, sku: &str, qty: u32, buyer: Buyer, locale: &str) -> SimOrder {
    SimOrder::new(
        id,
        placed,
        placed + hours(48),
        vec![SimItem {
            order_item_id: format!("{}-item", id.replace('-', "")),
            sku: sku.into(),
            asin: "B0TEST0001".into(),
            title: "有田焼 湯呑み".into(),
            quantity: qty,
            unit_price: "1980".into(),
        }],
        buyer,
        locale,
    )
}

async fn world() -> Result<World> {
    World::start(WorldOptions::at(START)).await
}

fn limits(w: &World) -> Limits {
    Limits::basic(
        w.svc.settings().max_requests + 1,
        vec![
            w.sim.config.client_secret.clone(),
            w.sim.config.refresh_token.clone(),
        ],
    )
}

fn delivered_to(w: &World, id: &str) -> usize {
    w.sim
        .delivered()
        .iter()
        .filter(|d| d.order_id == id)
        .count()
}

/// Feed documents uploaded that name `id`.
fn cancel_uploads(w: &World, id: &str) -> Vec<String> {
    w.sim
        .log()
        .iter()
        .filter(|l| l["method"] == "PUT")
        .filter_map(|l| l["body"].as_str().map(str::to_string))
        .filter(|b| b.contains(&format!("<AmazonOrderID>{id}</AmazonOrderID>")))
        .collect()
}

async fn state(w: &World, id: &str) -> Option<CaseState> {
    w.store().get_case(id).await.unwrap().map(|c| c.value.state)
}

fn assert_no_failures(w: &World) {
    let failures = w.failures();
    assert!(failures.is_empty(), "failed invocations: {failures:#?}");
}

#[tokio::test]
async fn an_unfillable_order_is_asked_about_then_cancelled_as_buyer_canceled_after_the_buyers_request()
-> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    w.stock("PLATE", 3).await?;
    let id = "503-0000001-0000001";
    w.sim.add_order(order(
        id,
        t0() + mins(3),
        "CUP",
        1,
        Buyer::RequestsAfterMessage {
            after: 1,
            delay: hours(3),
        },
        "ja-JP",
    ));
    w.sim.add_order(order(
        "503-0000001-0000002",
        t0() + mins(4),
        "PLATE",
        2,
        Buyer::Silent,
        "ja-JP",
    ));
    w.run_until(t0() + hours(24)).await?;

    assert_no_failures(&w);
    let delivered = w.sim.delivered();
    assert_eq!(
        delivered.len(),
        1,
        "one request message, none to the fillable order"
    );
    assert!(delivered[0].text.contains(id) && delivered[0].text.contains("有田焼 湯呑み"));
    assert!(
        delivered[0].text.contains("キャンセルをリクエスト"),
        "Japanese for ja-JP"
    );

    let sim_order = w.sim.order(id).unwrap();
    assert_eq!(sim_order.status, "CANCELLED");
    assert_eq!(
        sim_order.cancel,
        Some(("MERCHANT".into(), "BuyerCanceled".into()))
    );
    let Some(CaseState::Cancelled { reason, .. }) = state(&w, id).await else {
        panic!("case not cancelled: {:?}", state(&w, id).await);
    };
    assert_eq!(reason, CancelReason::BuyerCanceled);
    assert_eq!(
        state(&w, "503-0000001-0000002").await,
        None,
        "fillable order: no case"
    );

    let kinds: Vec<&str> = w
        .events
        .iter()
        .filter(|e| e.2["orderId"] == id)
        .map(|e| e.1.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "CaseOpened",
            "BuyerRequestedCancel",
            "CancelSubmitted",
            "CaseClosed"
        ]
    );

    // The feed went out only after the buyer's request, and only once.
    let log = w.sim.log();
    let request_at = log
        .iter()
        .position(|l| l["action"] == "requestCancellation" && l["orderId"] == id)
        .expect("buyer request logged");
    let upload_at = log
        .iter()
        .position(|l| l["method"] == "PUT" && l["body"].as_str().is_some_and(|b| b.contains(id)))
        .expect("cancel feed uploaded");
    assert!(request_at < upload_at);
    assert_eq!(cancel_uploads(&w, id).len(), 1);
    assert!(
        check(&log, &limits(&w)).is_empty(),
        "{:?}",
        check(&log, &limits(&w))
    );

    let timeline = w.timeline(id).await?;
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == "message" && e.text.as_deref().is_some_and(|t| t.contains(id)))
    );
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == "feed" && e.note.contains("accepted by Amazon"))
    );
    assert_eq!(timeline.last().unwrap().state, "Cancelled");
    Ok(())
}

#[tokio::test]
async fn a_buyer_who_never_answers_gets_resends_in_new_slots_then_the_final_apology_then_general_adjustment()
-> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0000002-0000001";
    let placed = t0() + mins(1);
    w.sim
        .add_order(order(id, placed, "CUP", 1, Buyer::Silent, "en-US"));
    w.run_until(placed + hours(48)).await?;

    assert_no_failures(&w);
    let sent: Vec<_> = w
        .sim
        .delivered()
        .into_iter()
        .filter(|d| d.order_id == id)
        .collect();
    assert_eq!(sent.len(), 4, "three requests and the final apology");
    let windows = &w.svc.settings().windows;
    let mut slots = Vec::new();
    for d in &sent {
        assert!(
            !windows.is_quiet(d.at),
            "message in quiet hours at {}",
            d.at
        );
        slots.push(windows.slot_of(d.at));
    }
    slots.truncate(3);
    slots.sort();
    assert_eq!(slots, [0, 1, 2], "each request in a different slot");
    for pair in sent.windows(2) {
        assert!(pair[1].at.duration_since(pair[0].at) >= w.svc.settings().min_gap);
    }
    assert!(sent[0].text.contains("Cancel items"), "English for en-US");
    assert!(sent[1].text.contains("writing again"));
    assert!(sent[3].text.contains("we are cancelling it"));

    let o = w.sim.order(id).unwrap();
    assert_eq!(o.status, "CANCELLED");
    assert_eq!(
        o.cancel,
        Some(("MERCHANT".into(), "GeneralAdjustment".into()))
    );
    let log = w.sim.log();
    let cancelled_at = log
        .iter()
        .find(|l| l["action"] == "cancelExecuted" && l["orderId"] == id)
        .and_then(|l| l["time"].as_str())
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap();
    assert!(cancelled_at < o.ship_by, "cancelled before ship-by");
    assert!(sent[3].at < cancelled_at, "apology first");
    assert!(
        check(&log, &limits(&w)).is_empty(),
        "{:?}",
        check(&log, &limits(&w))
    );
    // GeneralAdjustment gives the units back to the offer: the listing is set to 0 again.
    assert_eq!(w.sim.offer_quantity("CUP"), Some(0));
    let listing_patches = log
        .iter()
        .filter(|l| l["operation"] == "patchListingsItem")
        .count();
    assert_eq!(listing_patches, 2, "at open and after the cancel");
    Ok(())
}

#[tokio::test]
async fn a_tick_or_event_delivered_twice_sends_no_second_message_and_no_second_cancel() -> Result<()>
{
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0000003-0000001";
    w.sim.add_order(order(
        id,
        t0() + mins(1),
        "CUP",
        1,
        Buyer::RequestsAfterMessage {
            after: 1,
            delay: hours(1),
        },
        "ja-JP",
    ));
    w.clock.set(t0() + mins(5));
    // The same schedule tick, twice, and the resend sweep twice at the same moment.
    let tick = w.schedule_event(Function::NewOrderCheck);
    w.invoke(Function::NewOrderCheck, tick.clone()).await;
    w.invoke(Function::NewOrderCheck, tick).await;
    w.tick(Function::MessageResend).await?;
    w.tick(Function::MessageResend).await?;
    assert_eq!(delivered_to(&w, id), 1);

    // The buyer requests; the request event reaches final-cancel twice (at-least-once delivery).
    w.clock.set(t0() + hours(2));
    w.tick(Function::ReplyDetect).await?;
    let event: EventBridgeEvent<Value> = serde_json::from_value(json!({
        "detail-type": "BuyerRequestedCancel", "source": "kenzen",
        "detail": {"type": "BuyerRequestedCancel", "orderId": id}
    }))?;
    w.invoke(Function::FinalCancel, event.clone()).await;
    w.invoke(Function::FinalCancel, event.clone()).await;
    w.tick(Function::FinalCancel).await?;
    assert_eq!(cancel_uploads(&w, id).len(), 1, "one cancel feed");

    // Let it confirm, then replay old events: a closed case stays closed, nothing is sent.
    w.run_until(t0() + hours(3)).await?;
    assert!(matches!(
        state(&w, id).await,
        Some(CaseState::Cancelled { .. })
    ));
    let version = w.store().get_case(id).await?.unwrap().version;
    w.invoke(Function::FinalCancel, event).await;
    let opened: EventBridgeEvent<Value> = serde_json::from_value(json!({
        "detail-type": "CaseOpened", "source": "kenzen",
        "detail": {"type": "CaseOpened", "orderId": id, "reason": "stock"}
    }))?;
    w.invoke(Function::ReplyDetect, opened).await;
    w.run_until(t0() + hours(30)).await?;
    assert_eq!(w.store().get_case(id).await?.unwrap().version, version);
    assert_eq!(delivered_to(&w, id), 1);
    assert_eq!(cancel_uploads(&w, id).len(), 1);
    assert_no_failures(&w);
    assert!(check(&w.sim.log(), &limits(&w)).is_empty());
    Ok(())
}

#[tokio::test]
async fn a_buyer_request_before_any_message_is_cancelled_as_buyer_canceled_without_a_message()
-> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0000004-0000001";
    let placed = t0() + mins(1);
    w.sim.add_order(order(
        id,
        placed,
        "CUP",
        1,
        Buyer::RequestsAt(placed + mins(2)),
        "ja-JP",
    ));
    w.run_until(t0() + hours(2)).await?;

    assert_no_failures(&w);
    assert_eq!(delivered_to(&w, id), 0);
    assert!(matches!(
        state(&w, id).await,
        Some(CaseState::Cancelled {
            reason: CancelReason::BuyerCanceled,
            ..
        })
    ));
    assert_eq!(w.sim.order(id).unwrap().status, "CANCELLED");
    assert!(check(&w.sim.log(), &limits(&w)).is_empty());
    Ok(())
}

#[tokio::test]
async fn an_order_shipped_after_all_closes_its_case_quietly() -> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0000005-0000001";
    w.sim
        .add_order(order(id, t0() + mins(1), "CUP", 1, Buyer::Silent, "ja-JP"));
    w.run_until(t0() + hours(2)).await?;
    w.sim.ship(id);
    w.run_until(t0() + hours(40)).await?;
    assert_eq!(delivered_to(&w, id), 1);
    assert!(matches!(
        state(&w, id).await,
        Some(CaseState::Closed { .. })
    ));
    assert!(cancel_uploads(&w, id).is_empty());
    assert_no_failures(&w);
    Ok(())
}

#[tokio::test]
async fn malformed_or_foreign_events_are_refused_and_change_nothing() -> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0000006-0000001";
    w.sim
        .add_order(order(id, t0() + mins(1), "CUP", 1, Buyer::Silent, "ja-JP"));
    w.run_until(t0() + mins(20)).await?;
    let before = w.store().get_case(id).await?.unwrap();
    let requests_before = w.sim.log().len();

    let fixture = |f: &str| -> Result<EventBridgeEvent<Value>> {
        let path = format!("{}/../functions/{f}", env!("CARGO_MANIFEST_DIR"));
        Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
    };
    let bad = fixture("reply-detect/fixtures/malformed.json")?;
    let inv = w.invoke(Function::ReplyDetect, bad).await;
    assert!(
        inv.result.as_ref().unwrap_err().contains("no orderId"),
        "{:?}",
        inv.result
    );
    let foreign: EventBridgeEvent<Value> = serde_json::from_value(json!({
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
        "detail": {"instance-id": "i-1"}
    }))?;
    for f in Function::ALL {
        assert!(w.invoke(f, foreign.clone()).await.result.is_err());
    }
    let opened = fixture("reply-detect/fixtures/case-opened.json")?;
    assert!(
        w.invoke(Function::NewOrderCheck, opened)
            .await
            .result
            .is_err()
    );

    assert_eq!(w.store().get_case(id).await?.unwrap(), before);
    assert_eq!(
        w.sim.log().len(),
        requests_before,
        "no SP-API call was made"
    );
    Ok(())
}

#[tokio::test]
async fn the_function_fixtures_are_handled_by_their_handlers() -> Result<()> {
    let mut w = world().await?;
    for (f, file) in [
        (
            Function::NewOrderCheck,
            "new-order-check/fixtures/schedule.json",
        ),
        (
            Function::MessageResend,
            "message-resend/fixtures/schedule.json",
        ),
        (Function::ReplyDetect, "reply-detect/fixtures/schedule.json"),
        (
            Function::ReplyDetect,
            "reply-detect/fixtures/case-opened.json",
        ),
        (Function::FinalCancel, "final-cancel/fixtures/schedule.json"),
        (
            Function::FinalCancel,
            "final-cancel/fixtures/buyer-requested-cancel.json",
        ),
    ] {
        let path = format!("{}/../functions/{file}", env!("CARGO_MANIFEST_DIR"));
        let ev: EventBridgeEvent<Value> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let inv = w.invoke(f, ev).await;
        assert!(inv.result.is_ok(), "{file}: {:?}", inv.result);
    }
    Ok(())
}

// ---- the SP-API client against the simulator ----

fn client(w: &World, endpoint: Option<String>) -> SpApiClient {
    let mut cfg = client_config(w);
    if let Some(e) = endpoint {
        cfg.endpoint = e;
    }
    SpApiClient::new(cfg, Clock::Virtual(w.clock.clone())).unwrap()
}

fn count_op(w: &World, op: &str) -> usize {
    w.sim.log().iter().filter(|l| l["operation"] == op).count()
}

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
    let w = world().await?;
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
    assert_eq!(before, Some(t0() + hours(1)));
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

fn client_config(w: &World) -> SpApiConfig {
    let c = &w.sim.config;
    SpApiConfig {
        endpoint: w.sim.base_url(),
        lwa_endpoint: format!("{}/auth/o2/token", w.sim.base_url()),
        client_id: c.client_id.clone(),
        client_secret: c.client_secret.clone(),
        refresh_token: c.refresh_token.clone(),
        marketplace_id: c.marketplace_id.clone(),
        seller_id: c.seller_id.clone(),
    }
}

// ---- the DynamoDB and EventBridge adapters against moto_server ----

fn sample_case(id: &str, now: Timestamp) -> kenzen_core::Case {
    let view = kenzen_core::OrderView {
        order_id: id.into(),
        marketplace_id: "A1VC38T7YXB528".into(),
        status: kenzen_core::OrderStatus::Unshipped,
        merchant_fulfilled: true,
        ship_by: Some(now + hours(48)),
        last_updated: now,
        lines: vec![kenzen_core::OrderLine {
            order_item_id: "1".into(),
            sku: "CUP".into(),
            title: "Cup".into(),
            quantity: 1,
            unit_price: None,
            buyer_cancel_requested: false,
            buyer_cancel_reason: None,
            cancelled_by: None,
        }],
    };
    kenzen_core::Case::open(
        &view,
        OpenReason::StockShort {
            sku: "CUP".into(),
            on_hand: 0,
            ordered: 1,
        },
        &Settings::new(Strategy::AskBuyer, "A1VC38T7YXB528"),
        now,
    )
    .unwrap()
}

#[tokio::test]
async fn a_save_from_a_stale_version_is_a_conflict_and_changes_nothing() -> Result<()> {
    let w = world().await?;
    let store: &DynamoStore = w.store();
    let case = sample_case("503-0000011-0000001", t0());
    let v1 = store
        .create_case(
            &case,
            case.due(&Settings::new(Strategy::AskBuyer, "A1VC38T7YXB528")),
        )
        .await?;
    assert!(matches!(
        store.create_case(&case, None).await,
        Err(StoreError::Conflict(_))
    ));
    let mut changed = v1.value.clone();
    changed.requests_sent = 1;
    let v2 = store.save_case(&changed, v1.version, None).await?;
    assert_eq!(v2.version, 2);
    let mut other = v1.value.clone();
    other.requests_sent = 7;
    assert!(matches!(
        store.save_case(&other, v1.version, None).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_case(&case.order_id).await?.unwrap(), v2);
    Ok(())
}

#[tokio::test]
async fn the_due_and_open_indexes_hold_only_what_is_due_and_open() -> Result<()> {
    let w = world().await?;
    let store = w.store();
    let s = Settings::new(Strategy::AskBuyer, "A1VC38T7YXB528");
    let due_now = sample_case("503-0000012-0000001", t0());
    store
        .create_case(&due_now, Some((DueKind::Send, t0())))
        .await?;
    let later = sample_case("503-0000012-0000002", t0());
    store
        .create_case(&later, Some((DueKind::Send, t0() + hours(5))))
        .await?;
    let mut closed = sample_case("503-0000012-0000003", t0());
    closed.state = CaseState::Closed {
        why: kenzen_core::CloseReason::Shipped,
        at: t0(),
    };
    store.create_case(&closed, closed.due(&s)).await?;

    let due: Vec<String> = store
        .due_cases(DueKind::Send, t0() + mins(1))
        .await?
        .into_iter()
        .map(|c| c.value.order_id)
        .collect();
    assert_eq!(due, ["503-0000012-0000001"]);
    assert!(
        store
            .due_cases(DueKind::Cancel, t0() + hours(100))
            .await?
            .is_empty()
    );
    let mut open: Vec<String> = store
        .open_cases()
        .await?
        .into_iter()
        .map(|c| c.value.order_id)
        .collect();
    open.sort();
    assert_eq!(open, ["503-0000012-0000001", "503-0000012-0000002"]);

    // Ended cases (and timeline entries) carry the TTL; open ones do not.
    let ddb = aws_sdk_dynamodb::Client::new(&w.aws);
    let ttl_of = |id: &str| {
        let ddb = ddb.clone();
        let table = w.table.clone();
        let key = format!("ORDER#{id}");
        async move {
            ddb.get_item()
                .table_name(table)
                .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key))
                .key(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S("CASE".into()),
                )
                .send()
                .await
                .unwrap()
                .item
                .unwrap()
                .get("expires_at")
                .and_then(|v| v.as_n().ok().cloned())
        }
    };
    assert_eq!(
        ttl_of("503-0000012-0000003").await,
        Some(
            (t0() + kenzen_app::adapters::dynamo::RETENTION)
                .as_second()
                .to_string()
        )
    );
    assert_eq!(ttl_of("503-0000012-0000001").await, None);

    // The poll cursor only moves forward.
    store.set_poll_cursor(t0() + hours(2)).await?;
    store.set_poll_cursor(t0() + hours(1)).await?;
    assert_eq!(store.poll_cursor().await?, Some(t0() + hours(2)));
    Ok(())
}

#[tokio::test]
async fn publishing_to_a_bus_that_does_not_exist_is_an_error() -> Result<()> {
    let w = world().await?;
    let ok = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&w.aws), w.bus.clone());
    let ev = DomainEvent::CaseOpened {
        order_id: "503-1".into(),
        reason: "stock".into(),
    };
    ok.publish(std::slice::from_ref(&ev)).await?;
    let missing =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&w.aws), "no-such-bus");
    let err = missing.publish(&[ev]).await.unwrap_err();
    assert!(err.to_string().contains("CaseOpened"), "{err}");
    Ok(())
}

// ---- the scenario suite ----

fn scenario_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn scenario_out(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/scenario-runs")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_in_the_suite_ends_as_expected_and_breaks_no_rule() -> Result<()> {
    let files = scenario_files();
    assert!(files.len() >= 15, "the suite has {} scenarios", files.len());
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(3));
    let mut runs = tokio::task::JoinSet::new();
    for path in files {
        let sc = kenzen_tests::scenario::Scenario::load(&path)?;
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        for strategy in sc.strategies.clone() {
            let (sc, name, limit) = (sc.clone(), name.clone(), limit.clone());
            runs.spawn(async move {
                let _permit = limit.acquire_owned().await.unwrap();
                let s: Strategy = strategy.parse().unwrap();
                let out = scenario_out(&name).join(&strategy);
                let f = kenzen_tests::scenario::run(&sc, s, &out).await;
                (name, strategy, f.map(|f| f.result))
            });
        }
    }
    let mut failures = Vec::new();
    let mut count = 0;
    while let Some(joined) = runs.join_next().await {
        let (name, strategy, result) = joined?;
        count += 1;
        match result {
            Err(e) => failures.push(format!("{name} [{strategy}]: could not run: {e:#}")),
            Ok(r) => {
                for o in r.orders.iter().filter(|o| !o.ok) {
                    failures.push(format!(
                        "{name} [{strategy}]: {} ended {} but {} was expected",
                        o.order_id, o.actual, o.expected
                    ));
                }
                for b in &r.broken_rules {
                    failures.push(format!("{name} [{strategy}]: broken rule: {b}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

#[tokio::test]
async fn a_cancel_moved_before_the_final_message_is_caught_by_the_runner() -> Result<()> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/never-answers.toml");
    let sc = kenzen_tests::scenario::Scenario::load(&path)?;
    let f =
        kenzen_tests::scenario::run(&sc, Strategy::AskBuyer, &scenario_out("broken-rule")).await?;
    assert!(
        f.result.passed(),
        "the real run is clean: {:?}",
        f.result.broken_rules
    );

    // Doctor the log: the cancel upload for the first order now comes before its final message.
    let id = &sc.orders[0].id;
    let mut log = f.world.sim.log();
    let upload = log
        .iter()
        .position(|l| {
            l["method"] == "PUT" && l["body"].as_str().is_some_and(|b| b.contains(id.as_str()))
        })
        .expect("cancel uploaded");
    let final_message = log
        .iter()
        .rposition(|l| {
            l["method"] == "POST"
                && l["path"].as_str().is_some_and(|p| p.contains(id.as_str()))
                && l["body"]["text"]
                    .as_str()
                    .is_some_and(kenzen_core::message::is_final_text)
        })
        .expect("final message sent");
    assert!(final_message < upload);
    let line = log.remove(upload);
    log.insert(final_message, line);
    let broken = check(&log, &f.limits);
    assert!(
        broken
            .iter()
            .any(|b| b.contains(id.as_str()) && b.contains("before any final message")),
        "{broken:?}"
    );
    Ok(())
}

// ---- deployment wiring ----

#[tokio::test]
async fn an_order_change_notification_opens_the_case_before_the_next_poll() -> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0000013-0000001";
    w.sim
        .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    w.clock.set(t0() + mins(1));
    let path = format!(
        "{}/../functions/new-order-check/fixtures/order-change.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: EventBridgeEvent<Value> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let inv = w.invoke(Function::NewOrderCheck, event.clone()).await;
    assert!(inv.result.is_ok(), "{:?}", inv.result);
    assert!(matches!(
        state(&w, id).await,
        Some(CaseState::Requesting { .. })
    ));
    assert_eq!(delivered_to(&w, id), 1, "first request at detection");
    // The same notification again (SQS delivers at least once): dropped without an SP-API call.
    let calls = w.sim.log().len();
    assert!(
        w.invoke(Function::NewOrderCheck, event)
            .await
            .result
            .is_ok()
    );
    assert_eq!(
        w.sim.log().len(),
        calls,
        "no call for a notification handled before"
    );
    assert_eq!(delivered_to(&w, id), 1);
    Ok(())
}

#[tokio::test]
async fn the_lwa_credentials_are_read_from_the_secret_and_its_contents_never_leak() -> Result<()> {
    let aws = kenzen_tests::harness::moto_config().await?;
    let sm = aws_sdk_secretsmanager::Client::new(&aws);
    let name = format!("kenzen-lwa-{}", std::process::id());
    let good = json!({"client_id": "amzn1.app.X", "client_secret": "very-secret-value", "refresh_token": "Atzr|tok"});
    sm.create_secret()
        .name(&name)
        .secret_string(good.to_string())
        .send()
        .await?;
    let values = kenzen_app::wiring::lwa_from_secret(&sm, &name)
        .await
        .map_err(anyhow::Error::msg)?;
    assert_eq!(
        values[1],
        ("KENZEN_LWA_CLIENT_SECRET", "very-secret-value".to_string())
    );

    let empty = format!("{name}-empty");
    sm.create_secret()
        .name(&empty)
        .secret_string(r#"{"client_id":"","client_secret":"","refresh_token":""}"#)
        .send()
        .await?;
    let err = kenzen_app::wiring::lwa_from_secret(&sm, &empty)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("still has empty values"), "{err}");

    let broken = format!("{name}-broken");
    sm.create_secret()
        .name(&broken)
        .secret_string("client_secret=very-secret-value")
        .send()
        .await?;
    let err = kenzen_app::wiring::lwa_from_secret(&sm, &broken)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not JSON") && !err.contains("very-secret-value"),
        "{err}"
    );
    let err = kenzen_app::wiring::lwa_from_secret(&sm, "no-such-secret")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no-such-secret"), "{err}");
    Ok(())
}

/// Everything the functions log through `tracing`, as their JSON log lines.
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let writer = buf.clone();
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || W(writer.clone()))
            .try_init()
            .expect("no other global subscriber in this test binary");
        buf
    })
    .clone()
}

#[tokio::test]
async fn the_logs_of_a_whole_run_hold_no_secret_and_no_buyer_data() -> Result<()> {
    let logs = captured_logs();
    let sc: kenzen_tests::scenario::Scenario = toml::from_str(kenzen_tests::demo::DEMO_SCENARIO)?;
    let f = kenzen_tests::scenario::run(&sc, Strategy::AskBuyer, &scenario_out("log-scan")).await?;
    assert!(f.result.passed());
    let text = String::from_utf8(logs.lock().unwrap().clone())?;
    assert!(text.contains("case step"), "the run logged its decisions");
    assert!(text.contains("\"order_id\""), "with order ids");
    let c = &f.world.sim.config;
    let mut forbidden = vec![
        c.client_secret.clone(),
        c.refresh_token.clone(),
        "Atza|".to_string(),
    ];
    for o in &sc.orders {
        forbidden.push(f.world.sim.order(&o.id).unwrap().buyer_name);
    }
    for secret in &forbidden {
        assert!(
            !text.contains(secret.as_str()),
            "the logs contain {secret:?}"
        );
    }
    // Message texts stay in the timeline (DynamoDB), not in the logs.
    assert!(!text.contains("キャンセルをリクエスト"));
    Ok(())
}

#[tokio::test]
async fn the_subscription_setup_creates_the_destination_and_subscription_and_can_run_again()
-> Result<()> {
    let w = world().await?;
    let c = client(&w, None);
    let arn = "arn:aws:sqs:ap-northeast-1:123456789012:kenzen-NotificationQueue";
    let first = c.subscribe_order_change(arn).await?;
    assert!(
        first.destination_created && first.subscription_created,
        "{first:?}"
    );
    let again = c.subscribe_order_change(arn).await?;
    assert!(
        !again.destination_created && !again.subscription_created,
        "{again:?}"
    );
    assert_eq!(again.destination_id, first.destination_id);
    assert_eq!(again.subscription_id, first.subscription_id);
    let log = w.sim.log();
    assert!(
        log.iter()
            .any(|l| l["operation"] == "createSubscription" && l["status"] == 409)
    );
    let sub = log
        .iter()
        .find(|l| l["operation"] == "createSubscription" && l["status"] == 200)
        .unwrap();
    assert_eq!(
        sub["body"]["processingDirective"]["eventFilter"]["marketplaceIds"][0],
        "A1VC38T7YXB528"
    );
    assert_eq!(
        sub["body"]["processingDirective"]["eventFilter"]["orderChangeTypes"],
        json!(["OrderStatusChange", "BuyerRequestedChange"])
    );
    Ok(())
}

#[tokio::test]
async fn the_reply_sweep_reads_a_bounded_share_of_open_cases_per_run_and_reaches_all_in_turn()
-> Result<()> {
    let mut w = world().await?;
    w.svc.set_reply_sweep_limit(2);
    w.stock("CUP", 0).await?;
    let ids: Vec<String> = (0..5).map(|i| format!("503-0000014-000000{i}")).collect();
    for id in &ids {
        w.sim
            .add_order(order(id, t0(), "CUP", 1, Buyer::Silent, "ja-JP"));
    }
    w.clock.set(t0() + mins(5));
    w.tick(Function::NewOrderCheck).await?;
    let mut seen = std::collections::BTreeSet::new();
    for run in 0..3 {
        w.clock.set(t0() + mins(30 * (run + 1)));
        let before = count_op(&w, "getOrder");
        let inv = w.tick(Function::ReplyDetect).await?;
        assert_eq!(inv.result.as_ref().unwrap().cases_checked, 2);
        assert_eq!(
            count_op(&w, "getOrder") - before,
            2,
            "two getOrder calls per run"
        );
        for l in w.sim.log().iter().rev().take(2) {
            seen.insert(
                l["path"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
        }
    }
    assert_eq!(
        seen.len(),
        5,
        "three runs of two reached all five cases: {seen:?}"
    );
    Ok(())
}
