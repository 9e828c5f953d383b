//! `kenzen flag`, `withdraw` and `approve` put the seller's command on the bus exactly as the
//! functions read it (read back from the bus through the harness's queue, and carried out by
//! the real handlers), and refuse, putting nothing, what would do nothing.

use anyhow::Result;
use kenzen_app::ports::CaseStore;
use kenzen_core::{CaseState, CloseReason, OpenReason};
use serde_json::json;

use crate::{env_for, kenzen, mins, order, t0, world};

#[tokio::test]
async fn flag_approve_and_withdraw_put_the_commands_the_functions_carry_out() -> Result<()> {
    let mut w = world().await?;
    w.stock("BOWL", 10).await?;
    let id = "503-0200001-0000001";
    w.sim.add_order(order(id, t0() - mins(30), "BOWL"));
    let env = env_for(&w);

    let flag = kenzen(&env, &["flag", id, "--reason", "damaged in storage"])
        .await?
        .expect(0);
    assert!(
        flag.stdout
            .contains(&format!("FlagOrder for {id} is on bus {}", w.bus)),
        "{}",
        flag.stdout
    );
    assert!(flag.stdout.contains("opens a case"), "{}", flag.stdout);
    w.deliver_events().await?;
    let (_, detail_type, detail) = w.events.first().expect("the command came off the bus");
    assert_eq!(detail_type, "FlagOrder");
    assert_eq!(
        detail,
        &json!({"orderId": id, "reason": "damaged in storage"})
    );
    let case = w
        .store()
        .get_case(&id.parse()?)
        .await?
        .expect("a case")
        .value;
    assert_eq!(
        case.reason,
        OpenReason::ManualFlag {
            reason: "damaged in storage".into()
        }
    );

    // Flagging again would do nothing: refused, nothing put.
    let again = kenzen(&env, &["flag", id, "--reason", "twice"])
        .await?
        .expect(1);
    assert!(
        again.stderr.contains("already has an open case"),
        "{}",
        again.stderr
    );

    let approve = kenzen(&env, &["approve", id, "--json"])
        .await?
        .expect(0)
        .json();
    assert_eq!(approve["put"], "ApproveCancel");
    assert_eq!(
        approve["detail"],
        json!({"orderId": id, "reason": "kenzen CLI"})
    );
    let seen = w.events.len();
    w.deliver_events().await?;
    assert_eq!(w.events.len(), seen + 1, "exactly the one command");
    assert_eq!(w.events[seen].1, "ApproveCancel");
    assert_eq!(
        w.events[seen].2,
        json!({"orderId": id, "reason": "kenzen CLI"})
    );

    let withdraw = kenzen(
        &env,
        &["withdraw", id, "--reason", "found one, shipping it"],
    )
    .await?
    .expect(0);
    assert!(
        withdraw.stdout.contains("closes the case"),
        "{}",
        withdraw.stdout
    );
    w.deliver_events().await?;
    let last = w
        .events
        .iter()
        .rev()
        .find(|e| e.1 == "WithdrawCase")
        .expect("WithdrawCase");
    assert_eq!(
        last.2,
        json!({"orderId": id, "reason": "found one, shipping it"})
    );
    let case = w
        .store()
        .get_case(&id.parse()?)
        .await?
        .expect("a case")
        .value;
    assert!(
        matches!(&case.state, CaseState::Closed { why: CloseReason::Withdrawn { reason }, .. } if reason == "found one, shipping it"),
        "{:?}",
        case.state
    );
    Ok(())
}

#[tokio::test]
async fn commands_that_would_do_nothing_or_are_malformed_put_nothing_and_say_why() -> Result<()> {
    let mut w = world().await?;
    let env = env_for(&w);
    let none = "503-0200002-0000001";
    let cases = [
        (vec!["withdraw", none, "--reason", "x"], "has no case"),
        (vec!["approve", none], "has no case"),
        (vec!["flag", none, "--reason", "  "], "--reason is empty"),
        (vec!["flag", "503/0200002", "--reason", "x"], "order id"),
    ];
    let long = "x".repeat(201);
    let mut all = cases.to_vec();
    all.push((vec!["flag", none, "--reason", long.as_str()], "at most 200"));
    for (args, why) in all {
        let run = kenzen(&env, &args).await?.expect(1);
        assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    w.deliver_events().await?;
    assert!(w.events.is_empty(), "nothing was put: {:?}", w.events);
    Ok(())
}

#[tokio::test]
async fn a_bus_that_does_not_exist_is_named_with_the_services_own_words() -> Result<()> {
    let w = world().await?;
    w.stock("BOWL", 10).await?;
    let mut env = env_for(&w);
    env.insert("KENZEN_EVENT_BUS".into(), "no-such-bus".into());
    let run = kenzen(&env, &["flag", "503-0200003-0000001", "--reason", "x"])
        .await?
        .expect(1);
    assert!(
        run.stderr.contains("no-such-bus") && run.stderr.contains("ResourceNotFoundException"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("ErrorMetadata") && !run.stderr.contains("Error {"));
    Ok(())
}
