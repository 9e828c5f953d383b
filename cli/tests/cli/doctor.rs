//! `kenzen doctor` against moto_server and the simulator: green on a sound deployment, and on a
//! broken one every problem named at once, one line each, with exit status 1: a missing role
//! (the simulator refuses it as Amazon does), no subscription, a disabled schedule rule, and
//! credentials the token endpoint refuses.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_eventbridge::types::RuleState;
use jiff::Timestamp;
use kenzen_tests::harness::World;
use kenzen_tests::sim::{Role, SimConfig};
use serde_json::json;

use crate::{Run, env_for, hours, kenzen, order, world_now};

const QUEUE: &str = "arn:aws:sqs:ap-northeast-1:123456789012:kenzen-notifications";

/// The deployment as the stack would give it: the LWA credentials in a secret (not in the
/// environment), the queue, and schedule rules in `states`.
async fn deployment(
    w: &World,
    secret: serde_json::Value,
    states: &[RuleState],
) -> Result<BTreeMap<String, String>> {
    let sm = aws_sdk_secretsmanager::Client::new(&w.aws);
    let name = format!("{}-lwa", w.table);
    sm.create_secret()
        .name(&name)
        .secret_string(secret.to_string())
        .send()
        .await?;
    let eb = aws_sdk_eventbridge::Client::new(&w.aws);
    let mut rules = Vec::new();
    for (i, state) in states.iter().enumerate() {
        let rule = format!("{}-schedule-{i}", w.table);
        eb.put_rule()
            .name(&rule)
            .schedule_expression("rate(5 minutes)")
            .state(state.clone())
            .send()
            .await?;
        rules.push(rule);
    }
    let mut env = env_for(w);
    for k in [
        "KENZEN_LWA_CLIENT_ID",
        "KENZEN_LWA_CLIENT_SECRET",
        "KENZEN_LWA_REFRESH_TOKEN",
    ] {
        env.remove(k);
    }
    env.insert("KENZEN_LWA_SECRET_ID".into(), name);
    env.insert("KENZEN_NOTIFICATION_QUEUE_ARN".into(), QUEUE.into());
    env.insert("KENZEN_SCHEDULE_RULES".into(), rules.join(","));
    Ok(env)
}

fn good_secret(w: &World) -> serde_json::Value {
    let c = &w.sim.config;
    json!({"client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": c.refresh_token})
}

/// The (status, check, detail) of every line of a doctor run's JSON.
fn checks(run: &Run) -> Vec<(String, String, String)> {
    let json = run.json();
    json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["check"].as_str().unwrap_or_default().to_string(),
                c["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A world with a stocked SKU and a recent order for it.
async fn world_with_an_order(sim: SimConfig) -> Result<World> {
    let w = world_now(sim).await?;
    w.stock("CUP", 4).await?;
    let placed = Timestamp::now() - hours(1);
    w.sim.add_order(order("503-0400001-0000001", placed, "CUP"));
    Ok(w)
}

#[tokio::test]
async fn doctor_is_green_on_a_sound_deployment() -> Result<()> {
    let w = world_with_an_order(SimConfig::default()).await?;
    let env = deployment(
        &w,
        good_secret(&w),
        &[RuleState::Enabled, RuleState::Enabled],
    )
    .await?;
    kenzen(&env, &["subscribe"]).await?.expect(0);

    let text = kenzen(&env, &["doctor"]).await?.expect(0);
    assert!(
        text.stdout.ends_with("No problems found.\n"),
        "{}",
        text.stdout
    );
    let run = kenzen(&env, &["doctor", "--json"]).await?.expect(0);
    let got = checks(&run);
    let names: Vec<&str> = got.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names[..10],
        [
            "table",
            "bus",
            "secret",
            "LWA token",
            "orders",
            "messaging",
            "feeds",
            "listings",
            "account health",
            "subscription",
        ]
    );
    assert!(
        names[10..].iter().all(|n| n.starts_with("schedule rule ")),
        "{names:?}"
    );
    assert_eq!(got.len(), 12, "{got:#?}");
    for (status, name, detail) in &got {
        assert_eq!(status, "ok", "{name}: {detail}");
    }
    let messaging = &got[5].2;
    assert!(messaging.contains("503-0400001-0000001"), "{messaging}");
    assert!(got[7].2.contains("SKU CUP"), "{}", got[7].2);
    // It only reads: nothing was sent, submitted or patched.
    assert!(w.sim.delivered().is_empty());
    assert!(!w.sim.log().iter().any(|l| {
        ["createUnexpectedProblem", "createFeed", "patchListingsItem"]
            .contains(&l["operation"].as_str().unwrap_or_default())
    }));
    Ok(())
}

#[tokio::test]
async fn doctor_names_every_problem_at_once_with_the_missing_messaging_role_first_among_them()
-> Result<()> {
    let w = world_with_an_order(SimConfig {
        missing_roles: [Role::BuyerCommunication, Role::SellingPartnerInsights].into(),
        ..SimConfig::default()
    })
    .await?;
    let env = deployment(
        &w,
        good_secret(&w),
        &[RuleState::Enabled, RuleState::Disabled],
    )
    .await?;

    let text = kenzen(&env, &["doctor"]).await?.expect(1);
    let problems: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.starts_with("PROBLEM"))
        .collect();
    assert_eq!(problems.len(), 4, "{}", text.stdout);
    assert!(
        problems[0].contains(
            "messaging: the app lacks the Buyer Communication (messaging) role: \
             getMessagingActionsForOrder answered 403 Unauthorized"
        ) && problems[0].contains("Seller Central"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("account health: the app lacks the Selling Partner Insights")
            && problems[1].contains("getReport answered 403"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].contains("there is no ORDER_CHANGE subscription: run `kenzen subscribe`"),
        "{}",
        problems[2]
    );
    assert!(
        problems[3].contains("schedule-1: is DISABLED") && problems[3].contains("enable-rule"),
        "{}",
        problems[3]
    );
    assert!(text.stdout.ends_with("4 problems.\n"), "{}", text.stdout);
    // The other roles are fine and said so.
    for ok in [
        "ok           orders:",
        "ok           feeds:",
        "ok           listings:",
    ] {
        assert!(text.stdout.contains(ok), "{ok} missing:\n{}", text.stdout);
    }
    Ok(())
}

#[tokio::test]
async fn doctor_names_refused_or_incomplete_credentials_and_skips_what_needs_them() -> Result<()> {
    let w = world_with_an_order(SimConfig::default()).await?;
    let mut wrong = good_secret(&w);
    wrong["refresh_token"] = json!("Atzr|not-the-right-one");
    let env = deployment(&w, wrong, &[RuleState::Enabled]).await?;
    let run = kenzen(&env, &["doctor", "--json"]).await?.expect(1);
    let got = checks(&run);
    let token = got
        .iter()
        .find(|(_, n, _)| n == "LWA token")
        .expect("token check");
    assert_eq!(token.0, "problem");
    assert!(
        token.2.contains("refused") && token.2.contains("invalid_grant"),
        "{}",
        token.2
    );
    for area in ["orders", "messaging", "feeds", "listings", "notifications"] {
        let c = got.iter().find(|(_, n, _)| n == area).expect(area);
        assert_eq!(c.0, "not-checked", "{area}: {}", c.2);
    }
    assert!(
        !run.stdout.contains("not-the-right-one"),
        "the secret's contents never show"
    );

    // A secret that still has an empty value: named, contents never shown.
    let sm = aws_sdk_secretsmanager::Client::new(&w.aws);
    let empty = format!("{}-empty", w.table);
    sm.create_secret()
        .name(&empty)
        .secret_string(
            json!({"client_id": "amzn1.x", "client_secret": "s3cr3t-value", "refresh_token": ""})
                .to_string(),
        )
        .send()
        .await?;
    let mut env = env;
    env.insert("KENZEN_LWA_SECRET_ID".into(), empty.clone());
    let run = kenzen(&env, &["doctor"]).await?.expect(1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("PROBLEM") && l.contains("secret"))
        .expect("a secret problem");
    assert!(
        line.contains(&format!(
            "secret {empty} still has empty values for refresh_token"
        )),
        "{line}"
    );
    assert!(!run.stdout.contains("s3cr3t-value") && !run.stderr.contains("s3cr3t-value"));
    Ok(())
}
