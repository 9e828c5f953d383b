//! `kenzen mode`, `pause` and `resume`: the seller's setting on the table, with who and when,
//! what `resume` goes back to, the trade-off `pause` states, and the real handlers holding
//! their messages while paused.

use anyhow::Result;
use kenzen_app::ports::SettingsStore;
use kenzen_core::Mode;

use crate::{env_for, hours, kenzen, mins, order, t0, world};

#[tokio::test]
async fn pause_states_the_trade_off_and_resume_goes_back_to_the_mode_before() -> Result<()> {
    let w = world().await?;
    let env = env_for(&w);

    let shown = kenzen(&env, &["mode"]).await?.expect(0);
    assert!(
        shown.stdout.starts_with("Mode: as deployed"),
        "{}",
        shown.stdout
    );
    let not_paused = kenzen(&env, &["resume"]).await?.expect(0);
    assert!(
        not_paused.stdout.contains("not paused"),
        "{}",
        not_paused.stdout
    );
    assert_eq!(w.store().mode().await?, None, "nothing written");

    let set = kenzen(&env, &["mode", "approve"]).await?.expect(0);
    assert!(set.stdout.starts_with("Mode: approve"), "{}", set.stdout);
    let pause = kenzen(&env, &["pause"]).await?.expect(0);
    assert!(
        pause.stdout.starts_with("Mode: approve → pause"),
        "{}",
        pause.stdout
    );
    for part in [
        "no messages and no cancels",
        "ship late",
        "alert at each case's deadline",
    ] {
        assert!(
            pause.stdout.contains(part),
            "{part} missing:\n{}",
            pause.stdout
        );
    }
    let stored = w.store().mode().await?.expect("a setting");
    assert_eq!(
        (stored.mode, stored.before),
        (Mode::Pause, Some(Mode::Approve))
    );
    assert_eq!(stored.by, "kenzen CLI");

    let json = kenzen(&env, &["mode", "--json"]).await?.expect(0).json();
    assert_eq!(json["mode"], "pause");
    assert_eq!(json["before"], "approve");
    assert!(
        json["changed_at"]["local"]
            .as_str()
            .is_some_and(|t| t.ends_with("JST"))
    );

    let resume = kenzen(&env, &["resume"]).await?.expect(0);
    assert!(
        resume.stdout.starts_with("Mode: pause → approve"),
        "{}",
        resume.stdout
    );
    assert_eq!(w.store().mode().await?.map(|s| s.mode), Some(Mode::Approve));

    let same = kenzen(&env, &["mode", "approve"]).await?.expect(0);
    assert!(same.stdout.contains("already"), "{}", same.stdout);
    let bad = kenzen(&env, &["mode", "careful"]).await?.expect(2);
    assert!(bad.stderr.contains("possible values"), "{}", bad.stderr);
    Ok(())
}

#[tokio::test]
async fn while_paused_the_handlers_send_nothing_and_after_resume_they_do() -> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let env = env_for(&w);
    kenzen(&env, &["pause"]).await?.expect(0);
    let id = "503-0600001-0000001";
    w.sim.add_order(order(id, t0() + mins(3), "CUP"));
    w.run_until(t0() + hours(1)).await?;
    assert!(w.sim.delivered().is_empty(), "nothing sent while paused");
    let status = kenzen(&env, &["status"]).await?.expect(0);
    assert!(
        status.stdout.starts_with("Mode: pause\n"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains(id),
        "the case still opened: {}",
        status.stdout
    );

    let resume = kenzen(&env, &["resume"]).await?.expect(0);
    assert!(
        resume.stdout.starts_with("Mode: pause → live"),
        "{}",
        resume.stdout
    );
    w.run_until(t0() + hours(4)).await?;
    assert_eq!(
        w.sim.delivered().len(),
        1,
        "the request goes out after the pause"
    );
    Ok(())
}

#[tokio::test]
async fn an_approval_outside_approve_mode_is_put_with_a_note_saying_so() -> Result<()> {
    let mut w = world().await?;
    w.stock("CUP", 0).await?;
    let id = "503-0600002-0000001";
    w.sim.add_order(order(id, t0() + mins(3), "CUP"));
    w.run_until(t0() + mins(30)).await?;
    let env = env_for(&w);
    kenzen(&env, &["mode", "live"]).await?.expect(0);
    let run = kenzen(&env, &["approve", id]).await?.expect(0);
    assert!(
        run.stdout.contains("Note: kenzen is in mode live"),
        "{}",
        run.stdout
    );
    let seen = w.events.len();
    w.deliver_events().await?;
    let approve = &w.events[seen..]
        .iter()
        .find(|e| e.1 == "ApproveCancel")
        .expect("ApproveCancel on the bus");
    assert_eq!(approve.2["orderId"], id);
    assert_eq!(approve.2["reason"], "kenzen CLI");
    Ok(())
}
