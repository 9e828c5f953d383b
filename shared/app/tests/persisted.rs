//! The store's own items as this version writes them (timeline entries, cancel batches, the poll state),
//! committed as fixtures, must read back forever after (the cases' fixtures are in kenzen-core).

use kenzen_app::ports::{CancelRequest, TimelineEntry};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/persisted/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn a_committed_timeline_entry_and_cancel_batch_still_read() {
    let entry: TimelineEntry = serde_json::from_str(&fixture("timeline-entry.json")).unwrap();
    assert_eq!(entry.order_id.as_str(), "503-0000000-0000001");
    assert!(entry.answer.unwrap().contains("outcome unknown"));
    let batch: Vec<CancelRequest> = serde_json::from_str(&fixture("cancel-batch.json")).unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[1].order_item_ids.len(), 2);
    assert_eq!(batch[1].reason.as_feed(), "GeneralAdjustment");
}

#[test]
fn a_committed_poll_state_still_reads_and_an_empty_one_is_the_default() {
    use kenzen_app::ports::PollState;
    let state: PollState = serde_json::from_str(&fixture("poll-state.json")).unwrap();
    let window = state.window.unwrap();
    assert_eq!(window.next_token, "eyJzIjoxMDB9");
    assert_eq!(window.until, "2026-12-01T01:00:00Z".parse().unwrap());
    assert_eq!(state.retry[0].attempts, 2);
    let empty: PollState = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, PollState::default());
}
