//! Cases (and account-health figures, auto settings and choices) as this version stores them,
//! committed as fixtures (`fixtures/persisted/`), must read back forever after: a later version
//! that cannot read them would strand every deployed seller's open cases. Fields added later take
//! serde defaults; never rename or remove one.

use kenzen_core::Case;

#[test]
fn every_committed_case_fixture_still_reads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/persisted");
    let mut read = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("case-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let case: Case =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} no longer reads: {e}"));
        // What reads must write back to something that reads the same.
        let again: Case = serde_json::from_str(&serde_json::to_string(&case).unwrap()).unwrap();
        assert_eq!(again, case, "{name}");
        read.push((name, case.state.name()));
    }
    read.sort();
    let states: Vec<&str> = read.iter().map(|(_, s)| *s).collect();
    for want in [
        "Requesting",
        "FinalNotice",
        "CancelDue",
        "CancelSubmitted",
        "Cancelled",
        "Closed",
    ] {
        assert!(
            states.contains(&want),
            "no fixture in state {want}: {read:?}"
        );
    }
    assert!(read.len() >= 9, "{read:?}");
}

#[test]
fn a_case_that_knows_when_its_last_request_went_out_reads_it_back() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/persisted/case-requesting-last-request.json");
    let case: Case = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        case.last_request_at,
        Some("2026-12-01T03:30:00Z".parse().unwrap())
    );
    let older = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/persisted/case-requesting-after-unknown.json");
    let older: Case = serde_json::from_str(&std::fs::read_to_string(older).unwrap()).unwrap();
    assert_eq!(
        older.last_request_at, None,
        "stored before the field existed"
    );
}

#[test]
fn account_health_figures_and_the_auto_choice_as_stored_still_read() {
    use kenzen_core::{AutoChoice, AutoReason, AutoSettings, MarketplaceHealth, Strategy};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/persisted");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();

    let health: MarketplaceHealth = serde_json::from_str(&read("health-jp.json")).unwrap();
    assert_eq!((health.cancel.count, health.cancel.orders), (3, 412));
    assert_eq!(health.late_shipment.as_ref().map(|l| l.count), Some(6));
    let again: MarketplaceHealth =
        serde_json::from_str(&serde_json::to_string(&health).unwrap()).unwrap();
    assert_eq!(again, health);

    let auto: AutoSettings = serde_json::from_str(&read("auto-settings.json")).unwrap();
    assert_eq!(auto, AutoSettings::new(Strategy::AskBuyer));

    // The stored choice is what kenzen still decides from the stored figures.
    let choice: AutoChoice = serde_json::from_str(&read("auto-choice-headroom.json")).unwrap();
    assert_eq!(choice.reason, AutoReason::Headroom);
    let now = "2026-11-25T15:00:00Z".parse().unwrap();
    assert_eq!(kenzen_core::choose(&auto, Some(&health), now, 1, 8), choice);
}
