//! Whole orders through the four real handlers, on moto_server and the simulator at production
//! cadence on the virtual clock: asking, resending, cancelling, duplicates, refused events, and
//! the reply sweep's share per run.

use anyhow::Result;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use jiff::Timestamp;
use kenzen_app::ports::CaseStore;
use kenzen_core::{CancelReason, CaseState};
use kenzen_tests::checks::{Limits, check};
use kenzen_tests::harness::{Function, World};
use kenzen_tests::sim::Buyer;
use serde_json::{Value, json};

use crate::{count_op, delivered_to, hours, mins, order, state, t0, world};

fn limits(w: &World) -> Limits {
    Limits::basic(
        w.svc.settings().max_requests + 1,
        vec![
            w.sim.config.client_secret.clone(),
            w.sim.config.refresh_token.clone(),
        ],
    )
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
    let version = w
        .store()
        .get_case(&id.parse().unwrap())
        .await?
        .unwrap()
        .version;
    w.invoke(Function::FinalCancel, event).await;
    let opened: EventBridgeEvent<Value> = serde_json::from_value(json!({
        "detail-type": "CaseOpened", "source": "kenzen",
        "detail": {"type": "CaseOpened", "orderId": id, "reason": "stock"}
    }))?;
    w.invoke(Function::ReplyDetect, opened).await;
    w.run_until(t0() + hours(30)).await?;
    assert_eq!(
        w.store()
            .get_case(&id.parse().unwrap())
            .await?
            .unwrap()
            .version,
        version
    );
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
    let before = w.store().get_case(&id.parse().unwrap()).await?.unwrap();
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

    assert_eq!(
        w.store().get_case(&id.parse().unwrap()).await?.unwrap(),
        before
    );
    assert_eq!(
        w.sim.log().len(),
        requests_before,
        "no SP-API call was made"
    );
    Ok(())
}

#[tokio::test]
async fn the_reply_sweep_reads_nothing_while_the_poll_keeps_up_else_a_bounded_share_reaching_all_in_turn()
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
    // While the poll keeps up, the sweep reads no case (the poll sees every change).
    w.clock.set(t0() + mins(15));
    let before = count_op(&w, "getOrder");
    let inv = w.tick(Function::ReplyDetect).await?;
    assert_eq!(inv.result.as_ref().unwrap().cases_checked, 0);
    assert_eq!(count_op(&w, "getOrder"), before);
    // The poll has not run for an hour (its schedule, or Amazon's search, is down): the sweep
    // reads the open cases itself, a share per run.
    let mut seen = std::collections::BTreeSet::new();
    for run in 0..3 {
        w.clock.set(t0() + mins(60 + 30 * run));
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
