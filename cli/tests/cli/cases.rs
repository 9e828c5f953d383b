//! `kenzen status` and `kenzen show` after whole orders through the real handlers: the open
//! cases in Tokyo time, and one case's timeline with the message text and Amazon's answer.

use anyhow::Result;

use crate::{env_for, hours, kenzen, mins, order, t0, world};

#[tokio::test]
async fn status_says_so_when_kenzen_has_no_open_case() -> Result<()> {
    let w = world().await?;
    let env = env_for(&w);
    let text = kenzen(&env, &["status"]).await?.expect(0);
    assert!(text.stdout.contains("No open cases"), "{}", text.stdout);
    let json = kenzen(&env, &["status", "--json"]).await?.expect(0).json();
    assert_eq!(json["open_cases"].as_array().map(Vec::len), Some(0));
    Ok(())
}

#[tokio::test]
async fn status_and_show_tell_the_open_cases_and_a_timeline_in_local_time() -> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    w.stock("PLATE", 5).await?;
    let short = "503-0100001-0000001";
    let fillable = "503-0100001-0000002";
    w.sim.add_order(order(short, t0() + mins(3), "CUP"));
    w.sim.add_order(order(fillable, t0() + mins(4), "PLATE"));
    w.run_until(t0() + hours(1)).await?;
    let env = env_for(&w);

    let status = kenzen(&env, &["status", "--json"]).await?.expect(0).json();
    let cases = status["open_cases"].as_array().expect("a list");
    assert_eq!(cases.len(), 1, "only the unfillable order: {status:#}");
    let c = &cases[0];
    assert_eq!(c["order_id"], short);
    assert_eq!(c["skus"][0], "CUP");
    assert_eq!(c["state"], "Requesting");
    assert_eq!(c["reason"], "stock short (0 on hand, 1 ordered)");
    assert_eq!(c["requests_sent"], 1);
    assert_eq!(c["messages_sent"], "1");
    // Ship-by is two days after 09:03 JST on 1 December.
    assert_eq!(c["ship_by"]["local"], "2026-12-03 09:03 JST");
    assert_eq!(c["ship_by"]["utc"], "2026-12-03T00:03:00Z");
    assert!(
        c["next_action"]
            .as_str()
            .is_some_and(|n| n.starts_with("request message 2"))
    );
    assert!(
        c["next_at"]["local"]
            .as_str()
            .is_some_and(|t| t.ends_with("JST"))
    );

    let text = kenzen(&env, &["status"]).await?.expect(0);
    assert!(text.stdout.contains("1 open case:"), "{}", text.stdout);
    let line = text
        .stdout
        .lines()
        .find(|l| l.starts_with(short))
        .expect("a line for the case");
    for part in [
        "CUP",
        "2026-12-03 09:03 JST",
        "Requesting",
        "request message 2",
    ] {
        assert!(line.contains(part), "{part} missing from: {line}");
    }
    assert!(!text.stdout.contains(fillable));

    let show = kenzen(&env, &["show", short, "--json"])
        .await?
        .expect(0)
        .json();
    let timeline = show["timeline"].as_array().expect("a timeline");
    let message = timeline
        .iter()
        .find(|e| e["kind"] == "message")
        .unwrap_or_else(|| panic!("no message entry: {show:#}"));
    let sent = &w.sim.delivered()[0];
    assert_eq!(message["text"], sent.text.as_str(), "the text Amazon took");
    assert!(message["answer"].as_str().is_some_and(|a| !a.is_empty()));
    assert!(
        message["at"]["local"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-12-01 09:"))
    );
    assert_eq!(show["items"][0]["title"], "有田焼 湯呑み");

    let text = kenzen(&env, &["show", short]).await?.expect(0);
    for part in [
        "Order      503-0100001-0000001",
        "Ship by    2026-12-03 09:03 JST",
        "Amazon answered:",
        "キャンセルをリクエスト",
    ] {
        assert!(
            text.stdout.contains(part),
            "{part} missing from:\n{}",
            text.stdout
        );
    }
    Ok(())
}

#[tokio::test]
async fn show_names_an_order_without_a_case_or_a_malformed_id_and_exits_1() -> Result<()> {
    let w = world().await?;
    let env = env_for(&w);
    let none = kenzen(&env, &["show", "503-0100002-0000001"])
        .await?
        .expect(1);
    assert!(
        none.stderr
            .contains("no case for order 503-0100002-0000001"),
        "{}",
        none.stderr
    );
    let bad = kenzen(&env, &["show", "503 12/34"]).await?.expect(1);
    assert!(bad.stderr.contains("order id"), "{}", bad.stderr);
    assert_eq!(bad.stderr.lines().count(), 1, "one line: {}", bad.stderr);
    Ok(())
}

#[tokio::test]
async fn status_tells_the_cancel_rate_from_amazons_figures_once_they_are_fetched() -> Result<()> {
    use kenzen_app::ports::HealthStore;
    let w = world().await?;
    let env = env_for(&w);
    let text = kenzen(&env, &["status"]).await?.expect(0);
    assert!(
        text.stdout
            .contains("Cancel rate JP: no figures from Amazon yet"),
        "{}",
        text.stdout
    );

    // Figures as reply-detect stores them: 2 seller cancels of 1,000 orders.
    let document = serde_json::json!({"performanceMetrics": [{
        "marketplaceId": "A1VC38T7YXB528",
        "preFulfillmentCancellationRate": {
            "reportingDateRange": {"reportingDateFrom": "2026-11-13T00:00Z", "reportingDateTo": "2026-11-19T23:59Z"},
            "orderCount": 1000, "cancellationCount": 2, "status": "GOOD", "rate": 0.002,
            "targetValue": 0.025, "targetCondition": "LESS_THAN"
        }
    }]});
    let parsed = kenzen_core::parse_report(document.to_string().as_bytes(), t0() - hours(24 * 8))?;
    w.store().put_health(&parsed.health[0]).await?;

    let text = kenzen(&env, &["status"]).await?.expect(0);
    let line = text
        .stdout
        .lines()
        .find(|l| l.starts_with("Cancel rate JP:"))
        .unwrap_or_default();
    assert!(
        line.starts_with(
            "Cancel rate JP: 0.20% now, 0.30% after one more seller cancel (target 2.50%)"
        ),
        "{}",
        text.stdout
    );
    let json = kenzen(&env, &["status", "--json"]).await?.expect(0).json();
    let rate = &json["cancel_rate"][0];
    assert_eq!(rate["marketplace_id"], "A1VC38T7YXB528");
    assert_eq!(rate["amazon"]["cancels"], 2);
    assert_eq!(rate["amazon"]["orders"], 1000);
    Ok(())
}
