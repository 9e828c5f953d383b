//! The scenario suite (`tests/scenarios/`): every file under every strategy it names, and a
//! doctored log that the runner must catch breaking a rule.

use anyhow::Result;
use kenzen_core::Strategy;
use kenzen_tests::checks::check;

use crate::scenario_out;

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
                for o in r.orders.iter().filter(|o| !r.ending_as_expected(o)) {
                    failures.push(format!(
                        "{name} [{strategy}]: {} ended {} but {} was expected",
                        o.order_id, o.actual, o.expected
                    ));
                }
                if let Some(k) = &r.known_defect
                    && !r.defect_shown()
                {
                    failures.push(format!(
                        "{name} [{strategy}]: known defect (issue {}) no longer shows: \
                         fixed? remove known_defect from the scenario",
                        k.issue
                    ));
                }
                if !r.rules_as_expected() {
                    for b in &r.broken_rules {
                        failures.push(format!("{name} [{strategy}]: broken rule: {b}"));
                    }
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
