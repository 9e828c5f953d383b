//! Service-level rule tests on the in-memory ports (feature `test-util`): the real use cases,
//! driven at production cadence on a virtual clock, against a fake marketplace, store and bus.
//! No moto_server, simulator or HTTP: each test runs in milliseconds. The end-to-end suite in
//! `tests/` checks the same rules over the real adapters.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kenzen_app::Service;
use kenzen_app::clock::{Clock, VirtualClock};
use kenzen_app::fakes::{FakeMarket, MarketCall, MemoryStore, RecordingBus};
use kenzen_app::ports::StockStore;
use kenzen_core::marketplace::Language;
use kenzen_core::templates::{Source, TemplateKind};
use kenzen_core::{
    CaseState, CloseReason, DomainEvent, OrderLine, OrderStatus, OrderView, Settings, SkuInfo,
    Strategy,
};

type Svc = Service<FakeMarket, MemoryStore, RecordingBus>;

const JP: &str = "A1VC38T7YXB528";
const ORDER: &str = "503-1111111-0000001";

fn oid() -> kenzen_core::OrderId {
    ORDER.parse().unwrap()
}

/// 2026-12-01 10:00 in Tokyo.
fn t0() -> Timestamp {
    "2026-12-01T01:00:00Z".parse().unwrap()
}

struct World {
    svc: Svc,
    clock: Arc<VirtualClock>,
}

impl World {
    fn new(strategy: Strategy) -> Self {
        Self::with(Settings::new(strategy, JP), t0())
    }

    /// A world under `settings` (its marketplaces), starting at `start`.
    fn with(settings: Settings, start: Timestamp) -> Self {
        let clock = VirtualClock::new(start);
        let svc = Service::new(
            FakeMarket::new(),
            MemoryStore::new(),
            RecordingBus::new(),
            settings,
            Clock::Virtual(clock.clone()),
        );
        svc.store().put_stock(
            "CUP",
            SkuInfo {
                on_hand: Some(0),
                ..SkuInfo::default()
            },
        );
        Self { svc, clock }
    }

    fn market(&self) -> &FakeMarket {
        self.svc.market()
    }

    fn state(&self) -> Option<CaseState> {
        self.svc.store().case(ORDER).map(|c| c.state)
    }

    /// An unshipped MFN order for one CUP (out of stock), ship-by `ship_in` from now.
    fn order_arrives(&self, ship_in: SignedDuration) {
        self.order_arrives_as(ORDER, ship_in);
    }

    /// [`Self::order_arrives`] with another order id.
    fn order_arrives_as(&self, id: &str, ship_in: SignedDuration) {
        self.order_arrives_in(id, JP, ship_in);
        self.market().set_locale(id, "ja-JP");
    }

    /// [`Self::order_arrives`] with another order id, in `marketplace`, with no buyer locale.
    fn order_arrives_in(&self, id: &str, marketplace: &str, ship_in: SignedDuration) {
        let now = self.clock.now();
        self.market().put_order(OrderView {
            order_id: id.parse().unwrap(),
            marketplace_id: marketplace.parse().unwrap(),
            status: OrderStatus::Unshipped,
            merchant_fulfilled: true,
            ship_by: Some(now + ship_in),
            // Placed a few minutes ago: the search (which runs a little behind now) finds it.
            last_updated: now - SignedDuration::from_mins(5),
            purchased: Some(now - SignedDuration::from_mins(5)),
            lines: vec![OrderLine {
                order_item_id: "item-1".into(),
                sku: "CUP".parse().unwrap(),
                title: "Tea cup".into(),
                quantity: 1,
                unit_price: Some("1200".into()),
                buyer_cancel_requested: false,
                buyer_cancel_reason: None,
                cancelled_by: None,
            }],
        });
    }

    /// Runs the four sweeps at their production cadence (poll and final-cancel every 10 min,
    /// resends every 15, reply-detect every 30) for `span` of virtual time, processing feeds
    /// as Amazon would a few minutes later.
    async fn run_for(&self, span: SignedDuration) {
        let end = self.clock.now() + span;
        let mut minute = 0i64;
        while self.clock.now() < end {
            let now = self.clock.now();
            if minute % 10 == 0 {
                let _ = self.svc.check_new_orders().await;
                let _ = self.svc.final_cancel().await;
            }
            if minute % 15 == 0 {
                let _ = self.svc.send_due_messages().await;
            }
            if minute % 30 == 0 {
                let _ = self.svc.detect_replies(None).await;
            }
            self.market().process_feeds(now);
            self.clock.set(now + SignedDuration::from_mins(5));
            self.market().set_now(self.clock.now());
            minute += 5;
        }
    }

    /// The index in the call log of the first call matching `f`.
    fn first(&self, f: impl Fn(&MarketCall) -> bool) -> Option<usize> {
        self.market().calls().iter().position(f)
    }
}

fn is_message(c: &MarketCall) -> bool {
    matches!(c, MarketCall::Message(id, _) if id == ORDER)
}

fn is_cancel(c: &MarketCall) -> bool {
    matches!(c, MarketCall::SubmitCancels(o) if o.iter().any(|(id, _)| id == ORDER))
}

#[tokio::test]
async fn an_unfillable_order_gets_a_case_a_zeroed_listing_and_a_request_in_the_buyers_language() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();

    assert!(matches!(w.state(), Some(CaseState::Requesting { .. })));
    let texts = w.market().messages_to(ORDER);
    assert_eq!(texts.len(), 1, "one request at detection");
    assert!(texts[0].contains(ORDER), "the request names the order");
    assert!(
        texts[0].contains("キャンセル"),
        "Japanese for a ja-JP buyer"
    );
    assert!(w.market().calls().contains(&MarketCall::SetListingQuantity(
        "CUP".into(),
        0,
        "HOME".into()
    )));
    assert!(matches!(
        w.svc.bus_events().first(),
        Some(DomainEvent::CaseOpened { .. })
    ));
}

#[tokio::test]
async fn a_buyer_request_is_cancelled_as_buyer_canceled_and_no_message_follows_the_cancel() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_hours(2)).await;
    w.market().update_order(ORDER, |o| {
        o.lines[0].buyer_cancel_requested = true;
        o.lines[0].buyer_cancel_reason = Some("BUYER_CANCELED".into());
    });
    w.run_for(SignedDuration::from_hours(24)).await;

    assert_eq!(w.market().cancels_of(ORDER), ["BuyerCanceled"]);
    assert!(matches!(w.state(), Some(CaseState::Cancelled { .. })));
    let cancel_at = w.first(is_cancel).unwrap();
    let last_message = w.market().calls().iter().rposition(is_message).unwrap();
    assert!(last_message < cancel_at, "no message after the cancel");
}

#[tokio::test]
async fn a_silent_buyer_gets_capped_requests_outside_quiet_hours_then_the_apology_before_the_cancel()
 {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(60));
    let ship_by = w.clock.now() + SignedDuration::from_hours(60);
    w.run_for(SignedDuration::from_hours(60)).await;

    let settings = w.svc.settings();
    let texts = w.market().messages_to(ORDER);
    assert_eq!(
        texts.len() as u32,
        settings.max_requests + 1,
        "the cap of requests, then one final apology"
    );
    assert_eq!(w.market().cancels_of(ORDER), ["GeneralAdjustment"]);
    match w.state() {
        Some(CaseState::Cancelled { at, .. }) => assert!(at < ship_by, "cancelled before ship-by"),
        other => panic!("not cancelled: {other:?}"),
    }
    // The final apology was accepted before the cancel, and the order was re-read right
    // before each of them.
    let calls = w.market().calls();
    let cancel_at = w.first(is_cancel).unwrap();
    let apology_at = calls.iter().rposition(is_message).unwrap();
    assert!(apology_at < cancel_at);
    let reread_before = |i: usize| {
        calls[..i]
            .iter()
            .rev()
            .find(|c| matches!(c, MarketCall::GetOrder(_) | MarketCall::SearchOrders))
            .is_some_and(|c| *c == MarketCall::GetOrder(ORDER.into()))
    };
    assert!(
        reread_before(apology_at),
        "order re-read before the apology: {:#?}",
        &calls[apology_at.saturating_sub(8)..=apology_at]
    );
    assert!(reread_before(cancel_at), "order re-read before the cancel");
    // Every message went out outside quiet hours (Tokyo 21:00-08:00).
    for entry in w.svc.store().timeline_of(ORDER) {
        if entry.kind == "message" {
            let hour = entry
                .at
                .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
                .hour();
            assert!((8..21).contains(&hour), "message at {hour}:00 local");
        }
    }
}

#[tokio::test]
async fn cancel_first_apologises_then_cancels_as_no_inventory_without_any_request() {
    let w = World::new(Strategy::CancelFirst);
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_hours(2)).await;

    assert_eq!(w.market().messages_to(ORDER).len(), 1, "the apology only");
    assert_eq!(w.market().cancels_of(ORDER), ["NoInventory"]);
    assert!(w.first(is_message).unwrap() < w.first(is_cancel).unwrap());
    assert!(matches!(w.state(), Some(CaseState::Cancelled { .. })));
}

#[tokio::test]
async fn an_order_shipped_meanwhile_closes_its_case_quietly() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_hours(1)).await;
    let sent = w.market().messages_to(ORDER).len();
    w.market()
        .update_order(ORDER, |o| o.status = OrderStatus::Shipped);
    w.run_for(SignedDuration::from_hours(72)).await;

    assert!(matches!(
        w.state(),
        Some(CaseState::Closed {
            why: CloseReason::Shipped,
            ..
        })
    ));
    assert_eq!(
        w.market().messages_to(ORDER).len(),
        sent,
        "no message after"
    );
    assert!(w.market().cancels_of(ORDER).is_empty());
}

#[tokio::test]
async fn a_redelivered_notification_changes_nothing() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_order(&oid(), Some("n-1"), None).await.unwrap();
    let calls = w.market().calls().len();
    let report = w.svc.check_order(&oid(), Some("n-1"), None).await.unwrap();
    assert_eq!(report.orders_seen, 0);
    assert_eq!(w.market().calls().len(), calls, "not even re-read");
    assert_eq!(w.market().messages_to(ORDER).len(), 1);
}

#[tokio::test]
async fn an_outage_at_the_deadline_submits_nothing_blindly_and_the_cancel_goes_once_it_ends() {
    let w = World::new(Strategy::CancelFirst);
    w.order_arrives(SignedDuration::from_hours(72));
    w.market().fail("getOrder");
    w.svc.check_order(&oid(), None, None).await.unwrap_err();
    assert!(w.state().is_none(), "no case without reading the order");
    w.market().recover();
    w.svc.check_order(&oid(), None, None).await.unwrap();
    // The apology went out; now Amazon cannot be read when the cancel is due.
    w.market().fail("getOrder");
    let report = w.svc.final_cancel().await.unwrap();
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(w.market().cancels_of(ORDER).is_empty(), "no cancel unseen");
    w.market().recover();
    w.run_for(SignedDuration::from_hours(1)).await;
    assert_eq!(w.market().cancels_of(ORDER), ["NoInventory"]);
    assert!(matches!(w.state(), Some(CaseState::Cancelled { .. })));
}

#[tokio::test]
async fn without_messaging_the_cancel_still_comes_before_ship_by_and_the_case_says_why() {
    let w = World::new(Strategy::CancelFirst);
    w.order_arrives(SignedDuration::from_hours(72));
    w.market().make_messaging_unavailable(ORDER);
    w.run_for(SignedDuration::from_hours(72)).await;

    assert!(w.market().messages_to(ORDER).is_empty());
    assert_eq!(w.market().cancels_of(ORDER), ["NoInventory"]);
    assert!(w.svc.bus_events().iter().any(|e| matches!(
        e,
        DomainEvent::Alert { alert, .. } if *alert == kenzen_core::AlertKind::FinalNoticeNotDelivered
    )));
    assert!(
        w.svc.store().timeline_of(ORDER).iter().any(|e| e
            .answer
            .as_deref()
            .is_some_and(|a| a.contains("not offered"))),
        "the timeline says why no apology went out"
    );
}

#[tokio::test]
async fn a_message_whose_answer_is_lost_counts_as_sent_and_is_never_sent_again() {
    let w = World::new(Strategy::AskBuyer);
    w.market().lose_answers("createUnexpectedProblem");
    w.order_arrives(SignedDuration::from_hours(60));
    w.run_for(SignedDuration::from_hours(60)).await;

    let max = w.svc.settings().max_requests as usize;
    let texts = w.market().messages_to(ORDER);
    assert_eq!(
        texts.len(),
        max + 1,
        "each request once, then the apology once"
    );
    assert_eq!(w.market().cancels_of(ORDER), ["GeneralAdjustment"]);
    let case = w.svc.store().case(ORDER).unwrap();
    assert_eq!(case.outcomes_unknown as usize, max + 1);
    assert!(
        w.svc.store().timeline_of(ORDER).iter().any(|e| e
            .answer
            .as_deref()
            .is_some_and(|a| a.contains("outcome unknown"))),
        "the timeline says the outcome is unknown"
    );
}

#[tokio::test]
async fn a_cancel_feed_whose_answer_is_lost_is_found_in_amazons_list_not_sent_twice() {
    let w = World::new(Strategy::CancelFirst);
    w.market().set_now(w.clock.now());
    w.market().lose_answers("createFeed");
    w.market().hold_feeds(true);
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_mins(40)).await;

    assert!(
        w.market().calls().contains(&MarketCall::RecentCancelFeeds),
        "Amazon's feed list was read"
    );
    match w.state() {
        Some(CaseState::CancelSubmitted { feed_id, .. }) => assert_eq!(feed_id, "FEED-1"),
        other => panic!("the lost feed was not adopted: {other:?}"),
    }
    w.market().recover();
    w.market().hold_feeds(false);
    w.run_for(SignedDuration::from_hours(1)).await;
    assert_eq!(
        w.market().cancels_of(ORDER),
        ["NoInventory"],
        "one feed only"
    );
    match w.state() {
        Some(CaseState::Cancelled { feed_id, .. }) => assert_eq!(feed_id, "FEED-1"),
        other => panic!("not cancelled: {other:?}"),
    }
    assert_eq!(w.svc.store().case(ORDER).unwrap().outcomes_unknown, 1);
}

#[tokio::test]
async fn missing_messaging_authorisation_is_alerted_once_and_the_case_still_ends_in_time() {
    let w = World::new(Strategy::AskBuyer);
    w.market()
        .refuse_authorization("getMessagingActionsForOrder");
    w.order_arrives(SignedDuration::from_hours(60));
    let ship_by = w.clock.now() + SignedDuration::from_hours(60);
    w.run_for(SignedDuration::from_hours(60)).await;

    let alerts = w
        .svc
        .bus_events()
        .into_iter()
        .filter(|e| matches!(e, DomainEvent::Alert { alert, .. } if *alert == kenzen_core::AlertKind::MessagingNotAuthorized))
        .count();
    assert_eq!(alerts, 1, "one alert, not one per retry");
    assert!(w.market().messages_to(ORDER).is_empty());
    match w.state() {
        Some(CaseState::Cancelled { at, plan, .. }) => {
            assert!(at < ship_by);
            assert!(matches!(
                plan,
                kenzen_core::CancelPlan::GeneralAdjustment {
                    notice: kenzen_core::Notice::NotDelivered { .. }
                }
            ));
        }
        other => panic!("not cancelled: {other:?}"),
    }
}

#[tokio::test]
async fn work_owed_on_opening_survives_a_bus_outage_stops_nothing_and_is_done_later() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.events().set_down(true);
    let report = w.svc.check_new_orders().await.unwrap();
    assert!(!report.errors.is_empty(), "{report:?}");
    let case = w.svc.store().case(ORDER).expect("the case is stored");
    assert!(!case.pending.is_empty(), "the events are still owed");
    // The bus outage stops nothing else: the first request still went out.
    assert_eq!(w.market().messages_to(ORDER).len(), 1);
    w.svc.events().set_down(false);
    w.run_for(SignedDuration::from_mins(30)).await;

    let case = w.svc.store().case(ORDER).unwrap();
    assert!(case.pending.is_empty());
    assert!(
        w.svc
            .bus_events()
            .iter()
            .any(|e| matches!(e, DomainEvent::CaseOpened { .. }))
    );
    assert!(
        w.market()
            .calls()
            .iter()
            .any(|c| matches!(c, MarketCall::SetListingQuantity(sku, 0, _) if sku == "CUP"))
    );
}

#[tokio::test]
async fn an_order_seen_two_hours_before_ship_by_gets_the_apology_first_then_the_cancel() {
    let w = World::new(Strategy::AskBuyer);
    // 10:00 in Tokyo; ship-by noon: past the cancel margin already.
    w.order_arrives(SignedDuration::from_hours(2));
    w.run_for(SignedDuration::from_mins(30)).await;

    assert_eq!(
        w.market().messages_to(ORDER).len(),
        1,
        "the apology, no request"
    );
    assert_eq!(w.market().cancels_of(ORDER), ["GeneralAdjustment"]);
    assert!(w.first(is_message).unwrap() < w.first(is_cancel).unwrap());
}

#[tokio::test]
async fn an_unreadable_case_next_to_a_healthy_one_is_skipped_alerted_once_and_stops_nothing() {
    let w = World::new(Strategy::CancelFirst);
    w.svc.store().put_unreadable(
        "ORDER#503-9999999-0000001",
        "unknown variant `FromTheFuture`",
    );
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_hours(3)).await;

    assert_eq!(
        w.market().cancels_of(ORDER),
        ["NoInventory"],
        "the healthy case ends"
    );
    assert!(matches!(w.state(), Some(CaseState::Cancelled { .. })));
    let alerts = w
        .svc
        .bus_events()
        .into_iter()
        .filter(|e| {
            matches!(e, DomainEvent::Alert { alert, order_id, .. }
            if *alert == kenzen_core::AlertKind::UnreadableCase
                && order_id.as_str() == "503-9999999-0000001")
        })
        .count();
    assert_eq!(
        alerts, 1,
        "one alert for the unreadable item, not one per sweep"
    );
}

#[tokio::test]
async fn an_order_the_poll_cannot_read_is_skipped_alerted_once_and_the_good_order_gets_its_case() {
    let w = World::new(Strategy::AskBuyer);
    w.market().make_unreadable("503-8888888-0000001");
    w.order_arrives(SignedDuration::from_hours(72));
    let first = w.svc.check_new_orders().await.unwrap();
    assert_eq!(first.unreadable, 1);
    assert!(first.errors.is_empty(), "{first:?}");
    assert!(w.state().is_some(), "the good order got its case");
    w.clock.set(w.clock.now() + SignedDuration::from_mins(10));
    w.svc.check_new_orders().await.unwrap();
    let alerts = w
        .svc
        .bus_events()
        .into_iter()
        .filter(|e| matches!(e, DomainEvent::Alert { alert, .. } if *alert == kenzen_core::AlertKind::UnreadableOrder))
        .count();
    assert_eq!(alerts, 1, "alerted once");
}

#[tokio::test]
async fn the_last_unit_is_sold_once_and_a_cancelled_order_gives_it_back() {
    let w = World::new(Strategy::AskBuyer);
    w.svc.store().put_stock(
        "CUP",
        SkuInfo {
            on_hand: Some(1),
            ..SkuInfo::default()
        },
    );
    const SECOND: &str = "503-1111111-0000002";
    w.order_arrives(SignedDuration::from_hours(72));
    w.order_arrives_as(SECOND, SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();
    // Seen again (a notification, the next poll): nothing is taken twice.
    w.svc.check_order(&oid(), None, None).await.unwrap();
    w.svc
        .check_order(&SECOND.parse().unwrap(), None, None)
        .await
        .unwrap();
    let cased: Vec<&str> = [ORDER, SECOND]
        .into_iter()
        .filter(|id| w.svc.store().case(id).is_some())
        .collect();
    assert_eq!(cased.len(), 1, "one order gets the unit, the other a case");
    let on_hand = || async {
        let skus = ["CUP".parse().unwrap()];
        w.svc.store().sku_info(&skus).await.unwrap()[&skus[0]].on_hand
    };
    assert_eq!(on_hand().await, Some(0));
    // The order that got the unit is cancelled by the buyer: the unit goes back.
    let kept = if cased[0] == ORDER { SECOND } else { ORDER };
    w.clock.set(w.clock.now() + SignedDuration::from_mins(10));
    let now = w.clock.now();
    w.market().update_order(kept, |o| {
        o.status = OrderStatus::Cancelled;
        o.last_updated = now;
    });
    // The search runs behind now: the cancel shows a few minutes later.
    w.clock.set(now + SignedDuration::from_mins(5));
    w.svc.check_new_orders().await.unwrap();
    assert_eq!(on_hand().await, Some(1));
}

#[tokio::test]
async fn hundreds_of_cancels_due_at_once_go_out_within_each_runs_budget_earliest_first() {
    let w = World::new(Strategy::AskBuyer);
    // 300 orders whose buyers asked to cancel: every case is due for final-cancel at once.
    let ids: Vec<String> = (0..300).map(|i| format!("503-2222222-{i:07}")).collect();
    for (i, id) in ids.iter().enumerate() {
        w.order_arrives_as(id, SignedDuration::from_hours(30 + i as i64 % 7));
        w.market().update_order(id, |o| {
            o.lines[0].buyer_cancel_requested = true;
        });
    }
    w.svc.check_new_orders().await.unwrap();
    // From here every call to Amazon takes 2 s (getOrder's rate is one call in 2 s).
    w.market()
        .set_latency(w.clock.clone(), SignedDuration::from_secs(2));
    let mut runs = Vec::new();
    for _ in 0..4 {
        let start = w.clock.now();
        let deadline = start + SignedDuration::from_secs(300);
        w.svc.set_deadline(Some(deadline));
        let report = w.svc.final_cancel().await.unwrap();
        assert!(
            w.clock.now() <= deadline,
            "run {} ended after its deadline",
            runs.len()
        );
        runs.push(report.left_for_next_run);
        w.clock.set(start + SignedDuration::from_mins(10));
    }
    assert!(runs[0] > 0, "one run cannot carry 300 re-reads: {runs:?}");
    let cancelled: usize = ids
        .iter()
        .filter(|id| !w.market().cancels_of(id).is_empty())
        .count();
    assert_eq!(
        cancelled, 300,
        "every cancel went out within a few runs: {runs:?}"
    );
    // Earliest cancel-by first: the first feed carries the earliest deadlines.
    let feeds: Vec<Vec<(String, String)>> = w
        .market()
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            MarketCall::SubmitCancels(o) => Some(o),
            _ => None,
        })
        .collect();
    assert!(
        feeds.len() >= 2 && feeds.len() <= 4,
        "{} feeds",
        feeds.len()
    );
    let cancel_by = |id: &str| w.svc.store().case(id).unwrap().cancel_by;
    let last_of_first = feeds[0].iter().map(|(id, _)| cancel_by(id)).max().unwrap();
    let first_of_last = feeds
        .last()
        .unwrap()
        .iter()
        .map(|(id, _)| cancel_by(id))
        .min()
        .unwrap();
    assert!(last_of_first <= first_of_last);
}

/// Reads the recording bus through the service.
trait BusEvents {
    fn bus_events(&self) -> Vec<DomainEvent>;
}

impl BusEvents for Svc {
    fn bus_events(&self) -> Vec<DomainEvent> {
        self.events().events()
    }
}

#[tokio::test]
async fn a_backlog_of_days_is_worked_off_page_by_page_across_runs_within_each_budget() {
    let w = World::new(Strategy::AskBuyer);
    // Three days of orders nobody saw (an outage): 60 unfillable orders, 10 to a page.
    let ids: Vec<String> = (0..60).map(|i| format!("503-3333333-{i:07}")).collect();
    for (i, id) in ids.iter().enumerate() {
        w.order_arrives_as(id, SignedDuration::from_hours(96));
        w.market().update_order(id, |o| {
            o.last_updated = t0() - SignedDuration::from_mins(70 * (60 - i as i64));
        });
    }
    kenzen_app::ports::IntakeStore::set_poll_cursor(
        w.svc.store(),
        t0() - SignedDuration::from_hours(72),
    )
    .await
    .unwrap();
    w.market().set_page_size(10);
    // Every call to Amazon takes 5 s: a run carries only part of the backlog.
    w.market()
        .set_latency(w.clock.clone(), SignedDuration::from_secs(5));
    let mut runs = 0;
    let mut cut = 0;
    while ids.iter().any(|id| w.svc.store().case(id).is_none()) {
        runs += 1;
        assert!(runs <= 40, "the backlog is not worked off");
        let start = w.clock.now();
        let deadline = start + SignedDuration::from_secs(300);
        w.svc.set_deadline(Some(deadline));
        let report = w.svc.check_new_orders().await.unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        assert!(w.clock.now() <= deadline, "run {runs} overran its budget");
        if report.left_for_next_run > 0 {
            cut += 1;
        }
        w.clock.set(start + SignedDuration::from_mins(10));
    }
    assert!(
        runs > 1 && cut > 0,
        "runs {runs}, cut {cut}: the backlog took several runs"
    );
    // Each order was searched once: the stored page token carried the window across runs.
    let searches = w
        .market()
        .calls()
        .iter()
        .filter(|c| matches!(c, MarketCall::SearchOrders))
        .count();
    assert!(searches <= 6 + runs, "{searches} searches in {runs} runs");
    // The window is done: the cursor is past every order and no page is left.
    w.svc.set_deadline(None);
    w.svc.check_new_orders().await.unwrap();
    let state = kenzen_app::ports::IntakeStore::poll_state(w.svc.store())
        .await
        .unwrap();
    assert_eq!(state, Default::default());
    let cursor = kenzen_app::ports::IntakeStore::poll_cursor(w.svc.store())
        .await
        .unwrap()
        .unwrap();
    assert!(cursor >= t0(), "{cursor}");
}

#[tokio::test]
async fn an_expired_page_token_starts_the_window_again_and_nothing_is_missed() {
    let w = World::new(Strategy::AskBuyer);
    let ids: Vec<String> = (0..25).map(|i| format!("503-4444444-{i:07}")).collect();
    for id in &ids {
        w.order_arrives_as(id, SignedDuration::from_hours(96));
    }
    w.market().set_page_size(10);
    kenzen_app::ports::IntakeStore::set_poll_state(
        w.svc.store(),
        &kenzen_app::ports::PollState {
            window: Some(kenzen_app::ports::PollWindow {
                until: t0(),
                next_token: "not-a-token".into(),
                token_issued: t0() - SignedDuration::from_hours(1),
            }),
            retry: Vec::new(),
        },
    )
    .await
    .unwrap();
    kenzen_app::ports::IntakeStore::set_poll_cursor(
        w.svc.store(),
        t0() - SignedDuration::from_hours(24),
    )
    .await
    .unwrap();
    // The first run finds its token refused; the next one searches the window anew.
    for _ in 0..3 {
        w.svc.check_new_orders().await.unwrap();
        w.clock.set(w.clock.now() + SignedDuration::from_mins(10));
    }
    assert!(ids.iter().all(|id| w.svc.store().case(id).is_some()));
}

#[tokio::test]
async fn a_case_that_runs_its_course_reads_its_order_a_few_times_and_asks_about_messaging_once() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_hours(80)).await;
    assert!(
        matches!(w.state(), Some(CaseState::Cancelled { .. })),
        "{:?}",
        w.state()
    );
    let calls = w.market().calls();
    let count = |f: &dyn Fn(&MarketCall) -> bool| calls.iter().filter(|c| f(c)).count();
    let messages = count(&|c| is_message(c));
    assert_eq!(messages, 4, "three requests and the final apology");
    assert_eq!(
        count(&|c| matches!(c, MarketCall::Preflight(id) if id == ORDER)),
        1
    );
    assert_eq!(
        count(&|c| matches!(c, MarketCall::BuyerLocale(id) if id == ORDER)),
        1
    );
    // Read before requests 2 and 3, the final apology, the cancel and its confirmation; the
    // poll (keeping up) saw the rest, so reply-detect read nothing.
    let reads = count(&|c| matches!(c, MarketCall::GetOrder(id) if id == ORDER));
    assert!(reads <= 6, "{reads} getOrder calls");
}

#[tokio::test]
async fn a_notification_that_says_enough_settles_its_order_without_reading_it() {
    use kenzen_app::ports::{NotifiedLine, NotifiedOrder};
    let w = World::new(Strategy::AskBuyer);
    w.svc.store().put_stock(
        "CUP",
        SkuInfo {
            on_hand: Some(1),
            ..SkuInfo::default()
        },
    );
    let notified = |status: &str| NotifiedOrder {
        status: status.into(),
        merchant_fulfilled: true,
        marketplace_id: JP.into(),
        purchased: None,
        lines: vec![NotifiedLine {
            sku: "CUP".parse().unwrap(),
            quantity: 1,
        }],
    };
    const SECOND: &str = "503-1111111-0000002";
    w.order_arrives(SignedDuration::from_hours(72));
    w.order_arrives_as(SECOND, SignedDuration::from_hours(72));
    let on_hand = || async {
        let skus = ["CUP".parse().unwrap()];
        w.svc.store().sku_info(&skus).await.unwrap()[&skus[0]].on_hand
    };
    let reads = || {
        w.market()
            .calls()
            .iter()
            .filter(|c| matches!(c, MarketCall::GetOrder(_)))
            .count()
    };
    // The first order takes the last unit from its notification alone.
    w.svc
        .check_order(&oid(), Some("n-1"), Some(&notified("Unshipped")))
        .await
        .unwrap();
    assert_eq!((reads(), on_hand().await), (0, Some(0)));
    assert!(w.state().is_none());
    // The second finds none left: it is read in full and gets a case.
    let second: kenzen_core::OrderId = SECOND.parse().unwrap();
    w.svc
        .check_order(&second, Some("n-2"), Some(&notified("Unshipped")))
        .await
        .unwrap();
    assert_eq!(reads(), 1);
    assert!(w.svc.store().case(SECOND).is_some());
    // The first is cancelled: its notification gives the unit back, still without a read.
    w.svc
        .check_order(&oid(), Some("n-3"), Some(&notified("Canceled")))
        .await
        .unwrap();
    assert_eq!((reads(), on_hand().await), (1, Some(1)));
    // A notification about an order with a case is always read (the case decides on it).
    w.svc
        .check_order(&second, Some("n-4"), Some(&notified("Unshipped")))
        .await
        .unwrap();
    assert_eq!(reads(), 2);
}

#[tokio::test]
async fn a_burst_opens_every_case_at_once_and_first_messages_follow_earliest_ship_by_first() {
    let w = World::new(Strategy::AskBuyer);
    // 300 unfillable orders in one hour; ship-by spread over two days.
    let ids: Vec<String> = (0..300).map(|i| format!("503-5555555-{i:07}")).collect();
    for (i, id) in ids.iter().enumerate() {
        w.order_arrives_as(id, SignedDuration::from_hours(30 + (i as i64 * 7) % 20));
    }
    // Every call to Amazon takes 300 ms.
    w.market()
        .set_latency(w.clock.clone(), SignedDuration::from_millis(300));
    let start = w.clock.now();
    let deadline = start + SignedDuration::from_secs(300);
    w.svc.set_deadline(Some(deadline));
    let report = w.svc.check_new_orders().await.unwrap();
    assert!(w.clock.now() <= deadline);
    assert_eq!(report.cases_opened, 300, "{report:?}");
    assert!(ids.iter().all(|id| w.svc.store().case(id).is_some()));
    let sent: Vec<String> = w
        .market()
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            MarketCall::Message(id, _) => Some(id),
            _ => None,
        })
        .collect();
    assert!(
        !sent.is_empty() && sent.len() < 300,
        "{} sent in the run",
        sent.len()
    );
    assert!(report.left_for_next_run > 0);
    // The ones sent are the earliest deadlines.
    let cancel_by = |id: &str| w.svc.store().case(id).unwrap().cancel_by;
    let latest_sent = sent.iter().map(|id| cancel_by(id)).max().unwrap();
    let unsent_earlier = ids
        .iter()
        .filter(|id| !sent.contains(id))
        .filter(|id| cancel_by(id) < latest_sent)
        .count();
    assert_eq!(unsent_earlier, 0, "a later deadline went first");
    // message-resend sends the rest, run after run.
    for _ in 0..20 {
        w.clock.set(w.clock.now() + SignedDuration::from_mins(15));
        w.svc
            .set_deadline(Some(w.clock.now() + SignedDuration::from_secs(300)));
        w.svc.send_due_messages().await.unwrap();
    }
    let messaged = ids
        .iter()
        .filter(|id| !w.market().messages_to(id).is_empty())
        .count();
    assert_eq!(messaged, 300);
}

#[tokio::test]
async fn a_flagged_order_that_held_the_last_unit_gives_it_back_when_cancelled() {
    let w = World::new(Strategy::CancelFirst);
    w.svc.store().put_stock(
        "CUP",
        SkuInfo {
            on_hand: Some(1),
            ..SkuInfo::default()
        },
    );
    let on_hand = || async {
        let skus = ["CUP".parse().unwrap()];
        w.svc.store().sku_info(&skus).await.unwrap()[&skus[0]].on_hand
    };
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();
    assert_eq!(on_hand().await, Some(0), "the order holds the unit");
    w.svc
        .flag_order(&oid(), "damaged in storage")
        .await
        .unwrap();
    w.run_for(SignedDuration::from_hours(6)).await;
    assert!(
        matches!(w.state(), Some(CaseState::Cancelled { .. })),
        "{:?}",
        w.state()
    );
    assert_eq!(on_hand().await, Some(1), "the unit is back on hand");
}

#[tokio::test]
async fn every_merchant_fulfilled_order_is_counted_once_on_its_local_purchase_day() {
    use kenzen_app::ports::{DayCount, NotifiedLine, NotifiedOrder, OrderCountStore};
    let w = World::new(Strategy::AskBuyer);
    w.svc.store().put_stock(
        "PLATE",
        SkuInfo {
            on_hand: Some(5),
            ..SkuInfo::default()
        },
    );
    let notified = |mfn: bool, purchased: &str, status: &str| NotifiedOrder {
        status: status.into(),
        merchant_fulfilled: mfn,
        marketplace_id: JP.into(),
        purchased: Some(purchased.parse().unwrap()),
        lines: vec![NotifiedLine {
            sku: "PLATE".parse().unwrap(),
            quantity: 1,
        }],
    };
    // Polled: placed 09:55 on December 1 in Tokyo.
    w.order_arrives(SignedDuration::from_hours(72));
    let polled = w.svc.check_new_orders().await.unwrap();
    assert_eq!(polled.orders_counted, 1);
    // Its notification later counts nothing more.
    let again = w
        .svc
        .check_order(
            &oid(),
            Some("n-1"),
            Some(&notified(true, "2026-12-01T00:55:00Z", "Unshipped")),
        )
        .await
        .unwrap();
    assert_eq!(again.orders_counted, 0);
    // Settled from its notification alone: 00:30 on December 2 in Tokyo (still December 1 in
    // UTC) counts on December 2.
    let late: kenzen_core::OrderId = "503-1111111-0000002".parse().unwrap();
    let settled = w
        .svc
        .check_order(
            &late,
            Some("n-2"),
            Some(&notified(true, "2026-12-01T15:30:00Z", "Unshipped")),
        )
        .await
        .unwrap();
    assert_eq!(settled.orders_counted, 1);
    assert!(
        !w.market()
            .calls()
            .contains(&MarketCall::GetOrder(late.to_string())),
        "settled without a read"
    );
    // Fulfilled by Amazon, or placed three months ago (an old order changing): not counted.
    for (id, mfn, placed) in [
        ("503-1111111-0000003", false, "2026-12-01T00:10:00Z"),
        ("503-1111111-0000004", true, "2026-09-01T00:10:00Z"),
    ] {
        let r = w
            .svc
            .check_order(
                &id.parse().unwrap(),
                None,
                Some(&notified(mfn, placed, "Shipped")),
            )
            .await
            .unwrap();
        assert_eq!(r.orders_counted, 0, "{id}");
    }
    let day = |d| jiff::civil::date(2026, 12, d);
    let counts = w.svc.store().order_counts(day(1), day(3)).await.unwrap();
    let count = |d| DayCount {
        marketplace_id: JP.into(),
        day: day(d),
        orders: 1,
        counted: 0,
    };
    assert_eq!(counts, vec![count(1), count(2)]);
}

#[tokio::test]
async fn an_order_whose_count_fails_is_handled_all_the_same_and_the_run_says_so() {
    let w = World::new(Strategy::AskBuyer);
    w.svc.store().set_counts_down(true);
    w.order_arrives(SignedDuration::from_hours(72));
    let report = w.svc.check_new_orders().await.unwrap();
    assert_eq!((report.orders_counted, report.orders_not_counted), (0, 1));
    assert_eq!(report.cases_opened, 1);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(matches!(w.state(), Some(CaseState::Requesting { .. })));
}

// ---- Modes -------------------------------------------------------------------------------

async fn set_mode(w: &World, mode: kenzen_core::Mode) {
    use kenzen_app::ports::{ModeSetting, SettingsStore};
    w.svc
        .store()
        .set_mode(&ModeSetting {
            mode,
            changed_at: w.clock.now(),
            by: "service test".into(),
            before: None,
        })
        .await
        .unwrap();
}

/// The seller's template for a first request in Japanese, and their shop name.
async fn seller_templates(w: &World) {
    let store = w.svc.store();
    kenzen_app::templates::set(
        store,
        Language::Japanese,
        TemplateKind::Request,
        "【{shop_name}】ご注文番号 {order_id}「{products}」について\n\n\
         在庫切れのため、{cancel_path}からキャンセルのリクエストをお願いいたします。\n\n{signature}",
    )
    .await
    .unwrap();
    kenzen_app::templates::set_vars(store, Some("健全茶舗"), Some(""))
        .await
        .unwrap();
}

fn writes(w: &World) -> Vec<MarketCall> {
    w.market()
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c,
                MarketCall::Message(..)
                    | MarketCall::SubmitCancels(_)
                    | MarketCall::SetListingQuantity(..)
            )
        })
        .collect()
}

#[tokio::test]
async fn a_dry_run_writes_nothing_to_amazon_and_records_every_text_and_feed_it_would_send() {
    for strategy in [Strategy::AskBuyer, Strategy::CancelFirst] {
        let w = World::new(strategy);
        set_mode(&w, kenzen_core::Mode::DryRun).await;
        w.order_arrives(SignedDuration::from_hours(60));
        w.run_for(SignedDuration::from_hours(60)).await;

        assert_eq!(writes(&w), vec![], "{strategy:?}: no write reached Amazon");
        let case = w.svc.store().case(ORDER).unwrap();
        assert!(case.dry_run);
        assert!(
            matches!(case.state, CaseState::Cancelled { .. }),
            "{strategy:?}: the rehearsal ends as live would: {:?}",
            case.state
        );
        let tl = w.svc.store().timeline_of(ORDER);
        let texts: Vec<&String> = tl
            .iter()
            .filter(|e| e.kind == "message")
            .filter_map(|e| e.text.as_ref())
            .collect();
        assert!(!texts.is_empty() && texts.iter().all(|t| t.contains(ORDER)));
        let feed = tl
            .iter()
            .find(|e| e.kind == "feed" && e.note.starts_with("dry run"))
            .expect("the feed it would submit");
        let xml = feed.text.as_ref().unwrap();
        assert!(
            xml.contains(ORDER) && xml.contains("<StatusCode>Failure</StatusCode>"),
            "{xml}"
        );
        assert!(tl.iter().any(|e| e.note.contains("would set listing CUP")));
    }
}

#[tokio::test]
async fn paused_kenzen_opens_the_case_but_sends_and_cancels_nothing_and_alerts_at_the_deadline() {
    let w = World::new(Strategy::CancelFirst);
    set_mode(&w, kenzen_core::Mode::Pause).await;
    w.order_arrives(SignedDuration::from_hours(30));
    w.run_for(SignedDuration::from_hours(29)).await;

    assert!(w.svc.store().case(ORDER).is_some(), "the case opened");
    assert!(
        !writes(&w)
            .iter()
            .any(|c| matches!(c, MarketCall::Message(..) | MarketCall::SubmitCancels(_))),
        "no message or cancel while paused"
    );
    let held: Vec<_> = w
        .svc
        .bus_events()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                DomainEvent::Alert {
                    alert: kenzen_core::AlertKind::HeldAtDeadline,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(held.len(), 1, "one alert at the deadline");
}

#[tokio::test]
async fn in_approve_mode_the_cancel_waits_for_approve_and_then_goes_ahead() {
    let w = World::new(Strategy::CancelFirst);
    set_mode(&w, kenzen_core::Mode::Approve).await;
    w.order_arrives(SignedDuration::from_hours(48));
    w.run_for(SignedDuration::from_hours(3)).await;
    assert!(
        w.market().messages_to(ORDER).is_empty(),
        "no apology before approval"
    );
    assert!(w.market().cancels_of(ORDER).is_empty());
    assert!(
        w.svc
            .bus_events()
            .iter()
            .any(|e| matches!(e, DomainEvent::ApprovalNeeded { .. }))
    );
    let r = w.svc.approve(&oid(), "service test").await.unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    w.run_for(SignedDuration::from_hours(2)).await;
    assert_eq!(w.market().messages_to(ORDER).len(), 1, "the apology");
    assert_eq!(w.market().cancels_of(ORDER), ["NoInventory"]);
    let apology = w.first(is_message).unwrap();
    assert!(apology < w.first(is_cancel).unwrap());
}

#[tokio::test]
async fn approving_an_order_without_a_case_changes_nothing_and_says_so() {
    let w = World::new(Strategy::CancelFirst);
    let r = w.svc.approve(&oid(), "service test").await.unwrap();
    assert_eq!(r.errors.len(), 1);
    assert!(r.errors[0].contains("no case"), "{:?}", r.errors);
    assert!(w.svc.store().case(ORDER).is_none());
}

#[tokio::test]
async fn the_daily_digest_goes_out_once_a_day_after_nine_naming_what_waits_for_the_seller() {
    let w = World::new(Strategy::CancelFirst);
    set_mode(&w, kenzen_core::Mode::Approve).await;
    w.order_arrives(SignedDuration::from_hours(60));
    // From 10:00 Tokyo on day 1 until 09:55 on day 3 (reply-detect runs every 30 minutes):
    // three local days past 09:00, three digests.
    w.run_for(SignedDuration::from_hours(48)).await;
    let digests: Vec<String> = w
        .svc
        .bus_events()
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::DailyDigest { text } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(digests.len(), 3, "one a day: {digests:?}");
    assert!(digests[2].starts_with("2026-12-03,"), "{}", digests[2]);
    assert!(
        digests[0].starts_with("2026-12-01, mode approve: 1 open case(s)"),
        "{}",
        digests[0]
    );
    assert!(
        digests[0].contains("1 waiting for your approval (503-1111111-0000001"),
        "{}",
        digests[0]
    );
}

#[tokio::test]
async fn the_buyer_gets_the_sellers_stored_template_filled_in_and_templates_are_read_once_a_run() {
    let w = World::new(Strategy::AskBuyer);
    seller_templates(&w).await;
    w.order_arrives(SignedDuration::from_hours(72));
    w.order_arrives_as("503-1111111-0000002", SignedDuration::from_hours(72));
    let reads = w.svc.store().template_reads();
    w.svc.check_new_orders().await.unwrap();

    let text = &w.market().messages_to(ORDER)[0];
    assert_eq!(
        text,
        "【健全茶舗】ご注文番号 503-1111111-0000001「Tea cup」について\n\n\
         在庫切れのため、「注文履歴」→「商品をキャンセル」からキャンセルのリクエストをお願いいたします。\n\n健全茶舗"
    );
    assert_eq!(w.market().messages_to("503-1111111-0000002").len(), 1);
    assert_eq!(
        w.svc.store().template_reads() - reads,
        1,
        "two messages, one read"
    );
    // The timeline keeps the text the buyer got.
    assert!(
        w.svc
            .store()
            .timeline_of(ORDER)
            .iter()
            .any(|e| e.text.as_deref() == Some(text))
    );
}

#[tokio::test]
async fn a_later_request_says_earlier_today_on_the_same_local_day_and_the_other_day_after() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_hours(36)).await;

    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    let sent: Vec<(jiff::civil::Date, String)> = w
        .svc
        .store()
        .timeline_of(ORDER)
        .into_iter()
        .filter(|e| e.kind == "message" && e.note.starts_with("request"))
        .map(|e| (e.at.to_zoned(tokyo.clone()).date(), e.text.unwrap()))
        .collect();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert!(!sent[0].1.contains("ご連絡いたしましたが"));
    let mut seen = (false, false);
    for pair in sent.windows(2) {
        let ((before, _), (day, text)) = (&pair[0], &pair[1]);
        if day == before {
            seen.0 = true;
            assert!(text.contains("本日先ほどもご連絡いたしましたが"), "{text}");
        } else {
            seen.1 = true;
            assert!(text.contains("先日もご連絡いたしましたが"), "{text}");
        }
    }
    assert_eq!(
        seen,
        (true, true),
        "a resend on the same day and one on a later day"
    );
}

#[tokio::test]
async fn a_stored_template_that_no_longer_validates_is_skipped_and_the_default_is_sent() {
    let w = World::new(Strategy::AskBuyer);
    w.svc
        .store()
        .put_raw_template("ja", "request", "ご注文 {order_id} {buyer_name} 様");
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();

    let text = &w.market().messages_to(ORDER)[0];
    assert!(
        text.starts_with("ご注文番号 503-1111111-0000001 についてのお詫びとお願い"),
        "{text}"
    );
    assert!(!text.contains("{buyer_name}"));
}

#[tokio::test]
async fn a_german_buyer_gets_german_and_the_cancel_first_apology() {
    let w = World::new(Strategy::CancelFirst);
    w.order_arrives(SignedDuration::from_hours(72));
    w.market().set_locale(ORDER, "de-DE");
    w.run_for(SignedDuration::from_hours(2)).await;

    let texts = w.market().messages_to(ORDER);
    assert_eq!(texts.len(), 1);
    assert!(texts[0].starts_with("Ihre Bestellung 503-1111111-0000001: Entschuldigung"));
    assert!(texts[0].contains("stornieren sie daher von unserer Seite aus"));
    assert!(kenzen_core::message::is_final_text(&texts[0]));
}

#[tokio::test]
async fn an_invalid_template_is_refused_with_what_is_wrong_and_nothing_is_stored() {
    use kenzen_app::templates::{self as tpl, TemplatesError};
    let store = MemoryStore::new();
    let err = tpl::set(
        &store,
        Language::English,
        TemplateKind::FinalNotice,
        "Sorry {name}, see https://shop.example",
    )
    .await
    .unwrap_err();
    let said = err.to_string();
    assert!(matches!(err, TemplatesError::Invalid(_)));
    assert!(
        said.contains("line 1, column 7: unknown variable {name}"),
        "{said}"
    );
    assert!(
        said.contains("`https://shop.example` is a web address"),
        "{said}"
    );
    assert!(said.contains("does not contain {order_id}"), "{said}");
    assert!(said.ends_with("Nothing was stored."), "{said}");
    let shown = tpl::show(&store, Language::English, TemplateKind::FinalNotice)
        .await
        .unwrap();
    assert_eq!(shown.source, Source::Default);
    assert!(matches!(
        tpl::set_vars(&store, Some("Shop\nName"), None).await,
        Err(TemplatesError::InvalidVar(_))
    ));
}

#[tokio::test]
async fn a_template_is_set_listed_previewed_and_reset_to_the_default() {
    use kenzen_app::templates::{self as tpl, PreviewCase, PreviewOf, PreviewRequest};
    let store = MemoryStore::new();
    let set = tpl::set(
        &store,
        Language::German,
        TemplateKind::RequestAgainToday,
        "Bestellung {order_id}: heute noch einmal. {signature}",
    )
    .await
    .unwrap();
    assert_eq!(set.warnings.len(), 2, "{:?}", set.warnings);
    store.put_raw_template("pt", "request", "Pedido {order_id}");
    tpl::set_vars(&store, Some("Kenzen Tee"), None)
        .await
        .unwrap();
    let vars = tpl::set_vars(&store, None, Some("Ihr Kenzen-Team"))
        .await
        .unwrap();
    assert_eq!(
        (vars.shop_name(), vars.signature()),
        ("Kenzen Tee", "Ihr Kenzen-Team")
    );

    let listing = tpl::list(&store).await.unwrap();
    assert_eq!(
        listing.templates.len(),
        Language::ALL.len() * TemplateKind::ALL.len()
    );
    let stored: Vec<_> = listing
        .templates
        .iter()
        .filter(|e| e.source == Source::Stored)
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].lang, stored[0].kind),
        (Language::German, TemplateKind::RequestAgainToday)
    );
    assert_eq!(listing.ignored[0].key, "pt#request");

    // A second request at 15:00 in Berlin after one at 09:00: the same day.
    let req = PreviewRequest {
        lang: Language::German,
        of: PreviewOf::Message(kenzen_core::MessageKind::Request(2)),
        case: PreviewCase::Sample {
            marketplace_id: "A1PA6795UKMFR9".parse().unwrap(),
            strategy: Strategy::AskBuyer,
        },
        at: "2026-12-01T14:00:00Z".parse().unwrap(),
        previous: Some("2026-12-01T08:00:00Z".parse().unwrap()),
        draft: None,
    };
    let p = tpl::preview(&store, &req).await.unwrap();
    assert_eq!(
        p.rendered.text,
        "Bestellung 503-0000000-0000000: heute noch einmal. Ihr Kenzen-Team"
    );
    assert_eq!(
        (p.rendered.kind, p.rendered.source),
        (TemplateKind::RequestAgainToday, Source::Stored)
    );
    let draft = PreviewRequest {
        draft: Some("Entwurf {order_id}".into()),
        ..req.clone()
    };
    assert_eq!(
        tpl::preview(&store, &draft).await.unwrap().rendered.text,
        "Entwurf 503-0000000-0000000"
    );
    let missing = PreviewRequest {
        case: PreviewCase::Stored(oid()),
        ..req.clone()
    };
    assert!(
        tpl::preview(&store, &missing)
            .await
            .unwrap_err()
            .to_string()
            .contains("no case for order")
    );

    let back = tpl::reset(&store, Language::German, TemplateKind::RequestAgainToday)
        .await
        .unwrap();
    assert_eq!(back.source, Source::Default);
    let p = tpl::preview(&store, &req).await.unwrap();
    assert!(
        p.rendered
            .text
            .contains("wir hatten Ihnen heute bereits geschrieben")
    );
    assert!(
        p.rendered
            .text
            .ends_with("Mit freundlichen Grüßen\nIhr Kenzen-Team")
    );
}

const DE: &str = "A1PA6795UKMFR9";
const FR: &str = "A13V1IB3VIYZZH";
const UK: &str = "A1F83G8C2ARO7P";

/// A stack serving DE (first), FR and UK, at 11:00 in Berlin.
fn eu_world(strategy: Strategy) -> World {
    let mut settings = Settings::new(strategy, DE);
    settings.serve(FR);
    settings.serve(UK);
    World::with(settings, "2026-12-01T10:00:00Z".parse().unwrap())
}

fn japanese(text: &str) -> bool {
    text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c))
}

#[tokio::test]
async fn orders_in_three_marketplaces_are_each_messaged_zeroed_and_cancelled_in_their_own() {
    let w = eu_world(Strategy::CancelFirst);
    let orders = [
        ("302-1111111-0000001", DE),
        ("171-1111111-0000002", FR),
        ("202-1111111-0000003", UK),
    ];
    for (id, m) in orders {
        w.order_arrives_in(id, m, SignedDuration::from_hours(48));
    }
    w.market().set_locale(orders[1].0, "fr-FR");
    w.run_for(SignedDuration::from_hours(2)).await;

    for (id, m) in orders {
        let case = w.svc.store().case(id).expect("a case");
        assert_eq!(case.marketplace_id.as_str(), m);
        // The fake refuses a messaging call under another marketplace's id, and a feed that
        // mixes marketplaces: an accepted apology and a confirmed cancel mean each went under
        // the order's own.
        let texts = w.market().messages_to(id);
        assert_eq!(texts.len(), 1, "{id}: one apology");
        assert!(!japanese(&texts[0]), "{id}: English for a European buyer");
        assert!(
            matches!(case.state, CaseState::Cancelled { .. }),
            "{id}: {:?}",
            case.state
        );
    }
    let feeds = w.market().feed_marketplaces();
    let mut marketplaces: Vec<&str> = feeds.values().map(String::as_str).collect();
    marketplaces.sort();
    let mut three = vec![DE, FR, UK];
    three.sort();
    assert_eq!(marketplaces, three, "one feed per marketplace");
    let mut zeroed = w.market().listing_marketplaces();
    zeroed.sort();
    let mut want: Vec<(String, String)> = [DE, FR, UK]
        .iter()
        .map(|m| ("CUP".to_string(), m.to_string()))
        .collect();
    want.sort();
    assert_eq!(
        zeroed, want,
        "the SKU is zeroed in each order's marketplace"
    );
}

#[tokio::test]
async fn a_german_order_placed_after_nine_in_the_evening_waits_for_berlins_morning() {
    // 20:10 in London is 21:10 in Berlin: the UK order is asked at once, the German waits.
    let w = eu_world(Strategy::AskBuyer);
    w.clock.set("2026-12-01T20:10:00Z".parse().unwrap());
    w.order_arrives_in("302-1111111-0000001", DE, SignedDuration::from_hours(72));
    w.order_arrives_in("202-1111111-0000003", UK, SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();
    assert_eq!(w.market().messages_to("202-1111111-0000003").len(), 1);
    assert!(w.market().messages_to("302-1111111-0000001").is_empty());
    // Until 08:30 Berlin (07:30Z) nothing more goes to the German buyer; then the request does.
    w.run_for(SignedDuration::from_mins(11 * 60 + 15)).await;
    assert!(w.clock.now() >= "2026-12-02T07:25:00Z".parse().unwrap());
    assert!(w.market().messages_to("302-1111111-0000001").is_empty());
    w.run_for(SignedDuration::from_mins(30)).await;
    assert_eq!(w.market().messages_to("302-1111111-0000001").len(), 1);
}

#[tokio::test]
async fn a_buyer_without_a_locale_is_written_to_in_the_marketplaces_language() {
    let w = World::new(Strategy::AskBuyer);
    w.order_arrives_in(ORDER, JP, SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();
    let texts = w.market().messages_to(ORDER);
    assert_eq!(texts.len(), 1);
    assert!(
        japanese(&texts[0]),
        "Japanese on amazon.co.jp: {}",
        texts[0]
    );
}

#[tokio::test]
async fn a_flagged_order_in_a_marketplace_the_stack_does_not_serve_gets_no_case_and_says_so() {
    let w = eu_world(Strategy::CancelFirst);
    let italy = "APJ6JRA9NG5V4";
    w.order_arrives_in(ORDER, italy, SignedDuration::from_hours(48));
    let r = w.svc.flag_order(&oid(), "damaged").await.unwrap();
    assert!(w.svc.store().case(ORDER).is_none());
    assert!(
        r.errors
            .iter()
            .any(|e| e.contains(italy) && e.contains("KENZEN_MARKETPLACE_IDS")),
        "{:?}",
        r.errors
    );
    assert!(w.market().messages_to(ORDER).is_empty());
}

/// A seller performance report for JP whose 7-day window ended yesterday: `cancels` of
/// `orders` seller cancels.
fn health_document(orders: u64, cancels: u64) -> Vec<u8> {
    let to = (t0() - SignedDuration::from_hours(26)).strftime("%Y-%m-%dT%H:%MZ");
    let from = (t0() - SignedDuration::from_hours(26 + 7 * 24)).strftime("%Y-%m-%dT%H:%MZ");
    serde_json::json!({
        "performanceMetrics": [{
            "marketplaceId": JP,
            "preFulfillmentCancellationRate": {
                "reportingDateRange": {"reportingDateFrom": from.to_string(), "reportingDateTo": to.to_string()},
                "orderCount": orders,
                "cancellationCount": cancels,
                "status": "GOOD",
                "rate": cancels as f64 / orders as f64,
                "targetValue": 0.025,
                "targetCondition": "LESS_THAN"
            }
        }]
    })
    .to_string()
    .into_bytes()
}

/// A world running `auto` (falling back to ask-buyer) whose account-health figures were
/// fetched by reply-detect's sweep from `document` (none fetched when `None`).
async fn auto_world(document: Option<Vec<u8>>) -> World {
    let mut settings = Settings::new(Strategy::AskBuyer, JP);
    settings.auto = Some(kenzen_core::AutoSettings::new(Strategy::AskBuyer));
    let w = World::with(settings, t0());
    if let Some(d) = document {
        w.market().set_health_document(&d);
    }
    // The first sweep requests the report, the next one reads it.
    w.svc.detect_replies(None).await.unwrap();
    w.svc.detect_replies(None).await.unwrap();
    w
}

fn notes_of(w: &World, order: &str) -> Vec<String> {
    w.svc
        .store()
        .timeline_of(order)
        .into_iter()
        .map(|e| e.note)
        .collect()
}

#[tokio::test]
async fn auto_follows_the_guideline_with_headroom_and_the_cancel_carries_the_projected_rate() {
    // 2 of 1,000 orders: this order and its cancel make 3 of 1,001, 0.30%, within the 1.50%
    // ceiling.
    let w = auto_world(Some(health_document(1000, 2))).await;
    w.order_arrives(SignedDuration::from_hours(72));
    w.run_for(SignedDuration::from_hours(2)).await;

    let notes = notes_of(&w, ORDER);
    let choice = notes
        .iter()
        .find(|n| n.starts_with("strategy auto:"))
        .expect("the choice is on the timeline");
    assert!(
        choice.contains(
            "cancel-first: projected 7-day cancel rate after this cancel 0.30% (3 of 1001 orders)"
        ),
        "{choice}"
    );
    assert_eq!(w.market().cancels_of(ORDER), ["NoInventory"]);
    let projected = w
        .svc
        .bus_events()
        .into_iter()
        .find_map(|e| match e {
            DomainEvent::CancelSubmitted { projected, .. } => Some(projected),
            _ => None,
        })
        .expect("a CancelSubmitted event");
    // Counted once: when auto committed to cancel-first, not again at the submission.
    assert!(
        projected
            .as_deref()
            .is_some_and(|p| p.starts_with("0.30% (3 of 1001 orders), target 2.50%")),
        "{projected:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("projected 7-day cancel rate after it 0.30%")),
        "{notes:#?}"
    );
}

#[tokio::test]
async fn auto_asks_the_buyer_when_the_cancel_would_pass_the_ceiling_and_says_why() {
    // 15 of 1,000: this order and its cancel make 16 of 1,001, 1.60%, over the 1.50% ceiling.
    let w = auto_world(Some(health_document(1000, 15))).await;
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();

    let case = w.svc.store().case(ORDER).unwrap();
    assert_eq!(case.strategy, Strategy::AskBuyer);
    let why = case.strategy_choice.unwrap();
    assert!(
        why.starts_with("ask-buyer: projected 7-day cancel rate after this cancel 1.60% (16 of 1001 orders) would exceed the ceiling 1.50%"),
        "{why}"
    );
    assert_eq!(w.market().messages_to(ORDER).len(), 1, "the buyer is asked");
}

#[tokio::test]
async fn auto_without_figures_takes_the_fallback_and_the_timeline_says_so() {
    let w = auto_world(None).await;
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();

    let case = w.svc.store().case(ORDER).unwrap();
    assert_eq!(case.strategy, Strategy::AskBuyer);
    assert!(
        notes_of(&w, ORDER).iter().any(|n| n
            == "strategy auto: ask-buyer (fallback): no account-health figures yet for this marketplace"),
        "{:#?}",
        notes_of(&w, ORDER)
    );
}

#[tokio::test]
async fn the_health_report_is_requested_twice_a_day_and_a_lost_request_is_not_repeated() {
    let w = auto_world(Some(health_document(1000, 2))).await;
    w.run_for(SignedDuration::from_hours(24)).await;
    let requests = |w: &World| {
        w.market()
            .calls()
            .iter()
            .filter(|c| **c == MarketCall::RequestHealthReport)
            .count()
    };
    // At 10:00 (auto_world) and 22:00: twice a day.
    assert_eq!(requests(&w), 2);
    let fetch = w.svc.store().health_fetch_now().unwrap();
    assert!(fetch.last_outcome.contains("stored"), "{fetch:?}");

    // A request whose answer is lost is not asked again until the next fetch is due.
    let w = World::with(
        {
            let mut s = Settings::new(Strategy::AskBuyer, JP);
            s.auto = Some(kenzen_core::AutoSettings::new(Strategy::AskBuyer));
            s
        },
        t0(),
    );
    w.market().lose_answers("createReport");
    w.run_for(SignedDuration::from_hours(6)).await;
    assert_eq!(requests(&w), 1);
    let fetch = w.svc.store().health_fetch_now().unwrap();
    assert!(fetch.last_outcome.contains("answer was lost"), "{fetch:?}");
}

#[tokio::test]
async fn kenzens_counts_since_amazons_window_never_count_an_order_amazon_counted() {
    use kenzen_app::ports::OrderCountStore;
    // Amazon's window ends on 2026-11-29 23:00 UTC, Monday 30 November 08:00 in Tokyo: an order
    // of that Monday may be in Amazon's count already, a cancel of it may not.
    let health = kenzen_core::parse_report(&health_document(1000, 2), t0())
        .unwrap()
        .health
        .remove(0);
    let store = MemoryStore::new();
    let monday = jiff::civil::date(2026, 11, 30);
    let tuesday = jiff::civil::date(2026, 12, 1);
    let id = |n: u32| -> kenzen_core::OrderId { format!("503-7000000-{n:07}").parse().unwrap() };
    store.count_order(&id(1), JP, monday, t0()).await.unwrap();
    store.count_order(&id(2), JP, tuesday, t0()).await.unwrap();
    store.count_cancel(&id(3), JP, monday, t0()).await.unwrap();
    store.count_cancel(&id(4), JP, tuesday, t0()).await.unwrap();
    let since = kenzen_app::service::health::since_amazon(&store, &health, t0())
        .await
        .unwrap();
    // Both err towards a higher rate: Monday's cancel counted, Monday's order not.
    assert_eq!((since.counted, since.orders), (2, 1));
}

#[tokio::test]
async fn a_health_report_that_cannot_be_read_for_6_hours_is_given_up_and_asked_for_again() {
    let mut settings = Settings::new(Strategy::AskBuyer, JP);
    settings.auto = Some(kenzen_core::AutoSettings::new(Strategy::AskBuyer));
    let w = World::with(settings, t0());
    // Requested at 10:00; Amazon makes the report, but reading it fails from the start.
    w.market().set_health_document(&health_document(1000, 2));
    w.market().fail("getReportDocument");
    w.run_for(SignedDuration::from_hours(5)).await;
    let fetch = w.svc.store().health_fetch_now().unwrap();
    assert!(fetch.report_id.is_some(), "still followed: {fetch:?}");
    w.run_for(SignedDuration::from_hours(2)).await;
    let fetch = w.svc.store().health_fetch_now().unwrap();
    assert_eq!(fetch.report_id, None, "{fetch:?}");
    assert!(
        fetch.last_outcome.contains("could not be read within 6 h"),
        "{fetch:?}"
    );
    // Asked for again when the next fetch is due, and read once Amazon serves it again.
    w.market().recover();
    w.run_for(SignedDuration::from_hours(12)).await;
    let fetch = w.svc.store().health_fetch_now().unwrap();
    assert!(fetch.last_outcome.contains("stored"), "{fetch:?}");
}

/// `n` request messages sent at `hh:mm` Tokyo time on Tuesday 2026-11-24, `answered` of them
/// followed by the buyer's request two hours later: the seller's history.
async fn history(w: &World, hh: i8, mm: i8, n: u32, answered: u32, tag: u32) {
    use kenzen_app::ports::SlotHistoryStore;
    let sent: Timestamp = jiff::civil::date(2026, 11, 24)
        .at(hh, mm, 0, 0)
        .in_tz("Asia/Tokyo")
        .unwrap()
        .timestamp();
    for i in 0..n {
        let id: kenzen_core::OrderId = format!("503-90{tag:05}-{i:07}").parse().unwrap();
        let store = w.svc.store();
        store.record_send(JP, &id, sent).await.unwrap();
        if i < answered {
            store
                .record_request(JP, &id, sent, sent + SignedDuration::from_hours(2))
                .await
                .unwrap();
        }
    }
}

fn learning_world() -> World {
    let mut settings = Settings::new(Strategy::AskBuyer, JP);
    settings.learn_slots = true;
    World::with(settings, t0())
}

fn first_request_note(w: &World) -> String {
    w.svc
        .store()
        .timeline_of(ORDER)
        .into_iter()
        .find(|e| e.kind == "message" && e.note.starts_with("request message 1"))
        .expect("a first request")
        .note
}

#[tokio::test]
async fn with_enough_history_the_first_request_goes_out_in_a_learned_slot_and_says_why() {
    let w = learning_world();
    history(&w, 10, 0, 40, 30, 1).await;
    history(&w, 14, 0, 40, 20, 2).await;
    history(&w, 19, 30, 40, 25, 3).await;
    history(&w, 8, 30, 40, 1, 4).await;
    history(&w, 12, 30, 40, 1, 5).await;
    // Tuesday 10:00 in Tokyo: the learned 10:00 slot is open now (the configured ones would wait
    // for 12:30).
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();

    let note = first_request_note(&w);
    assert!(
        note.starts_with("request message 1; slot 10:00 chosen: 30 of 40 messages sent 10:00"),
        "{note}"
    );
    let sent = w
        .svc
        .store()
        .timeline_of(ORDER)
        .into_iter()
        .find(|e| e.kind == "message" && e.note.starts_with("request message 1"))
        .unwrap()
        .at;
    assert_eq!(sent, t0(), "sent at once, in the learned 10:00 slot");
}

/// The history of the learned-slot tests: 10:00, 14:00 and 19:30 answered best.
async fn rich_history(w: &World) {
    history(w, 10, 0, 40, 30, 1).await;
    history(w, 14, 0, 40, 20, 2).await;
    history(w, 19, 30, 40, 25, 3).await;
    history(w, 8, 30, 40, 1, 4).await;
    history(w, 12, 30, 40, 1, 5).await;
}

#[tokio::test]
async fn learned_slots_apply_when_the_request_cap_is_below_the_number_of_slots() {
    let mut settings = Settings::new(Strategy::AskBuyer, JP);
    settings.learn_slots = true;
    settings.max_requests = 2;
    let w = World::with(settings, t0());
    rich_history(&w).await;
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();
    let note = first_request_note(&w);
    assert!(
        note.starts_with("request message 1; slot 10:00 chosen: 30 of 40"),
        "{note}"
    );
}

#[tokio::test]
async fn a_first_request_sent_between_learned_slots_claims_no_slot() {
    let w = learning_world();
    rich_history(&w).await;
    // Found at 11:00, between the learned 10:00 and 14:00: the first request goes at once,
    // in no learned slot.
    w.clock.advance(SignedDuration::from_hours(1));
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();
    assert_eq!(first_request_note(&w), "request message 1");
    // The second goes in the learned 14:00 slot and says so.
    w.run_for(SignedDuration::from_hours(4)).await;
    let second = w
        .svc
        .store()
        .timeline_of(ORDER)
        .into_iter()
        .find(|e| e.kind == "message" && e.note.starts_with("request message 2"))
        .expect("a second request")
        .note;
    assert!(
        second.starts_with("request message 2; slot 14:00 chosen: 20 of 40"),
        "{second}"
    );
}

#[tokio::test]
async fn with_too_little_history_the_configured_slots_are_used_and_the_history_grows() {
    use kenzen_app::ports::SlotHistoryStore;
    let w = learning_world();
    history(&w, 10, 0, 10, 9, 1).await;
    w.order_arrives(SignedDuration::from_hours(72));
    w.svc.check_new_orders().await.unwrap();
    assert_eq!(first_request_note(&w), "request message 1");
    w.run_for(SignedDuration::from_hours(1)).await;
    w.market().update_order(ORDER, |o| {
        o.lines[0].buyer_cancel_requested = true;
        o.lines[0].buyer_cancel_reason = Some("BUYER_CANCELED".into());
    });
    w.run_for(SignedDuration::from_hours(24)).await;
    assert_eq!(w.market().cancels_of(ORDER), ["BuyerCanceled"]);

    // The message and the buyer's answer to it are in the history now.
    let mine: Vec<_> = w
        .svc
        .store()
        .slot_history(JP, t0() - SignedDuration::from_hours(1))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(mine[0].request_at.is_some_and(|r| r > mine[0].sent_at));
}
