//! Deployment wiring: each function's fixture events, an ORDER_CHANGE notification taken in
//! before the next poll, the LWA credentials from Secrets Manager, a whole run's logs scanned for
//! secrets and buyer data, and the notification subscription setup.

use anyhow::Result;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use kenzen_core::{CaseState, Strategy};
use kenzen_tests::harness::Function;
use kenzen_tests::sim::Buyer;
use serde_json::{Value, json};

use crate::{client, delivered_to, mins, order, scenario_out, state, t0, world};

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
