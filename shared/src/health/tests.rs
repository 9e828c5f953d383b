use proptest::prelude::{any, prop_assert, prop_assert_eq, prop_oneof, proptest};
use proptest::strategy::{Just, Strategy as _};

use super::*;

const SAMPLE: &[u8] = include_bytes!("testdata/seller-performance-jp-us.json");
const JP: &str = "A1VC38T7YXB528";
const US: &str = "ATVPDKIKX0DER";

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn fetched() -> Timestamp {
    t("2026-11-25T09:00:00Z")
}

fn sample() -> ParsedReport {
    parse_report(SAMPLE, fetched()).unwrap()
}

/// A change to the sample document's JSON.
type Edit = Box<dyn Fn(&mut Value)>;

/// The sample document with `edit` applied to its JSON.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(SAMPLE).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn jp_cancel(v: &mut Value) -> &mut Value {
    &mut v["performanceMetrics"][0]["preFulfillmentCancellationRate"]
}

/// Figures like Amazon's for JP: `cancels` of `orders` in the 7 days to 2026-11-24 23:59 UTC,
/// target 2.5%, fetched 2026-11-25 09:00 UTC.
fn health(cancels: u64, orders: u64) -> MarketplaceHealth {
    MarketplaceHealth {
        marketplace_id: MarketplaceId::parse(JP).unwrap(),
        cancel: RateFigure {
            orders,
            count: cancels,
            rate: if orders == 0 {
                0.0
            } else {
                cancels as f64 / orders as f64
            },
            target: Some(0.025),
            condition: Some(TargetCondition::LessThan),
            status: Some(MetricStatus::Good),
            window_from: t("2026-11-18T00:00:00Z"),
            window_to: t("2026-11-24T23:59:00Z"),
        },
        late_shipment: None,
        fetched_at: fetched(),
    }
}

// ---- parsing ----

#[test]
fn the_sample_report_reads_both_marketplaces_with_amazons_numbers() {
    let r = sample();
    assert_eq!(r.skipped, Vec::<String>::new());
    assert_eq!(r.health.len(), 2);
    let jp = r.for_marketplace(JP).unwrap();
    assert_eq!(jp.fetched_at, fetched());
    assert_eq!(jp.cancel.orders, 412);
    assert_eq!(jp.cancel.count, 3);
    assert_eq!(jp.cancel.rate, 0.007282);
    assert_eq!(jp.cancel.target, Some(0.025));
    assert_eq!(jp.cancel.condition, Some(TargetCondition::LessThan));
    assert_eq!(jp.cancel.status, Some(MetricStatus::Good));
    // Amazon writes no seconds: "2026-11-24T23:59Z".
    assert_eq!(jp.cancel.window_from, t("2026-11-18T00:00:00Z"));
    assert_eq!(jp.cancel.window_to, t("2026-11-24T23:59:00Z"));
    let late = jp.late_shipment.as_ref().unwrap();
    assert_eq!((late.count, late.orders), (6, 538));
    assert_eq!(late.window_from, t("2026-11-15T00:00:00Z"));
    assert_eq!(late.target, Some(0.04));
    let us = r.for_marketplace(US).unwrap();
    assert_eq!((us.cancel.count, us.cancel.orders), (2, 57));
    assert_eq!(us.cancel.status, Some(MetricStatus::Bad));
    assert_eq!(us.late_shipment.as_ref().unwrap().count, 0);
    assert!(r.for_marketplace("A1PA6795UKMFR9").is_none());
}

#[test]
fn the_schema_examples_spelling_of_the_cancel_metric_reads_too() {
    let bytes = edited(|v| {
        let m = v["performanceMetrics"][0].as_object_mut().unwrap();
        let cancel = m.remove("preFulfillmentCancellationRate").unwrap();
        m.insert("prefulfillmentCancelRate".into(), cancel);
    });
    let r = parse_report(&bytes, fetched()).unwrap();
    assert_eq!(r.for_marketplace(JP).unwrap().cancel.count, 3);
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
}

#[test]
fn a_document_that_is_not_json_is_an_error_that_says_so() {
    for bytes in [
        &b"<html>Service Unavailable</html>"[..],
        b"",
        b"\x1f\x8b\x08\x00",
        b"{\"performanceMetrics\": [",
    ] {
        let e = parse_report(bytes, fetched()).unwrap_err();
        assert!(matches!(e, HealthError::NotJson { .. }), "{e:?}");
        assert!(e.to_string().contains("not JSON"), "{e}");
    }
}

#[test]
fn json_without_a_performance_metrics_array_is_not_a_report() {
    for (bytes, says) in [
        (&b"[]"[..], "not a JSON object"),
        (b"{\"accountStatuses\": []}", "no performanceMetrics"),
        (b"{\"performanceMetrics\": {}}", "not an array"),
        (b"{\"performanceMetrics\": null}", "not an array"),
    ] {
        let e = parse_report(bytes, fetched()).unwrap_err();
        assert!(matches!(e, HealthError::NotAReport { .. }), "{e:?}");
        assert!(e.to_string().contains(says), "{e}");
    }
}

#[test]
fn an_empty_metrics_list_reads_as_no_figures() {
    let r = parse_report(b"{\"performanceMetrics\": []}", fetched()).unwrap();
    assert_eq!(r, ParsedReport::default());
}

#[test]
fn a_byte_order_mark_before_the_document_is_tolerated() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(SAMPLE);
    assert_eq!(parse_report(&bytes, fetched()).unwrap(), sample());
}

#[test]
fn a_marketplace_with_odd_data_is_skipped_with_a_reason_and_the_other_still_reads() {
    let cases: Vec<(&str, Edit)> = vec![
        (
            "is negative",
            Box::new(|v| jp_cancel(v)["orderCount"] = (-4).into()),
        ),
        (
            "cancellationCount -1 is negative",
            Box::new(|v| jp_cancel(v)["cancellationCount"] = (-1).into()),
        ),
        (
            "not a whole number",
            Box::new(|v| jp_cancel(v)["orderCount"] = 4.5.into()),
        ),
        (
            "rate 1.5 is not a fraction",
            Box::new(|v| jp_cancel(v)["rate"] = 1.5.into()),
        ),
        (
            "rate -0.01 is not a fraction",
            Box::new(|v| jp_cancel(v)["rate"] = (-0.01).into()),
        ),
        (
            "target 2.5 is not a fraction",
            Box::new(|v| jp_cancel(v)["targetValue"] = 2.5.into()),
        ),
        (
            "has no rate",
            Box::new(|v| jp_cancel(v)["rate"] = Value::Null),
        ),
        (
            "counted in only",
            Box::new(|v| jp_cancel(v)["cancellationCount"] = 999.into()),
        ),
        (
            "is not a UTC date and time",
            Box::new(|v| {
                jp_cancel(v)["reportingDateRange"]["reportingDateTo"] = "last week".into()
            }),
        ),
        (
            "ends",
            Box::new(|v| {
                jp_cancel(v)["reportingDateRange"]["reportingDateFrom"] = "2026-12-01T00:00Z".into()
            }),
        ),
        (
            "has no preFulfillmentCancellationRate",
            Box::new(|v| {
                v["performanceMetrics"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("preFulfillmentCancellationRate");
            }),
        ),
        (
            "does not read",
            Box::new(|v| jp_cancel(v)["orderCount"] = "412".into()),
        ),
        ("does not read", Box::new(|v| *jp_cancel(v) = "GOOD".into())),
        (
            "marketplace id",
            Box::new(|v| v["performanceMetrics"][0]["marketplaceId"] = "a1vc 38".into()),
        ),
    ];
    for (says, edit) in cases {
        let r = parse_report(&edited(edit), fetched()).unwrap();
        assert!(r.for_marketplace(JP).is_none(), "{says}");
        assert_eq!(r.for_marketplace(US).unwrap().cancel.orders, 57, "{says}");
        assert_eq!(r.skipped.len(), 1, "{says}: {:?}", r.skipped);
        assert!(r.skipped[0].contains("skipped"), "{:?}", r.skipped);
        assert!(r.skipped[0].contains(says), "{says}: {:?}", r.skipped);
    }
}

#[test]
fn an_entry_without_a_marketplace_id_is_named_by_its_place_in_the_list() {
    let bytes = edited(|v| {
        v["performanceMetrics"][1]
            .as_object_mut()
            .unwrap()
            .remove("marketplaceId");
    });
    let r = parse_report(&bytes, fetched()).unwrap();
    assert_eq!(r.health.len(), 1);
    assert_eq!(
        r.skipped,
        ["performanceMetrics entry 2: skipped, it has no marketplaceId"]
    );
}

#[test]
fn entries_that_are_not_objects_are_skipped_not_fatal() {
    let bytes = edited(|v| {
        let list = v["performanceMetrics"].as_array_mut().unwrap();
        list.insert(0, Value::Null);
        list.push(7.into());
    });
    let r = parse_report(&bytes, fetched()).unwrap();
    assert_eq!(r.health.len(), 2);
    assert_eq!(r.skipped.len(), 2, "{:?}", r.skipped);
}

#[test]
fn a_second_entry_for_the_same_marketplace_is_skipped() {
    let bytes = edited(|v| {
        let first = v["performanceMetrics"][0].clone();
        v["performanceMetrics"].as_array_mut().unwrap().push(first);
    });
    let r = parse_report(&bytes, fetched()).unwrap();
    assert_eq!(r.health.len(), 2);
    assert_eq!(
        r.skipped,
        [format!("marketplace {JP}: skipped, a second entry for it")]
    );
}

#[test]
fn a_late_shipment_rate_that_does_not_read_is_dropped_and_the_cancel_rate_kept() {
    let bytes = edited(|v| {
        v["performanceMetrics"][0]["lateShipmentRate"]["lateShipmentCount"] = (-2).into();
        v["performanceMetrics"][1]
            .as_object_mut()
            .unwrap()
            .remove("lateShipmentRate");
    });
    let r = parse_report(&bytes, fetched()).unwrap();
    let jp = r.for_marketplace(JP).unwrap();
    assert_eq!(jp.cancel.count, 3);
    assert_eq!(jp.late_shipment, None);
    assert_eq!(r.for_marketplace(US).unwrap().late_shipment, None);
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert!(r.skipped[0].starts_with(&format!("marketplace {JP}: lateShipmentRate left out")));
    assert!(r.skipped[0].contains("negative"));
}

#[test]
fn unlisted_status_and_condition_values_and_whole_floats_are_tolerated() {
    let bytes = edited(|v| {
        let c = jp_cancel(v);
        c["status"] = "FAIR".into();
        c["targetCondition"] = "AT_MOST".into();
        c["orderCount"] = 412.0.into();
        c["rate"] = 0.into();
        c["someFieldAmazonAddsLater"] = true.into();
        c["reportingDateRange"]["reportingDateTo"] = "2026-11-24T23:59:59".into();
    });
    let r = parse_report(&bytes, fetched()).unwrap();
    let jp = r.for_marketplace(JP).unwrap();
    assert_eq!(jp.cancel.status, Some(MetricStatus::Other));
    assert_eq!(jp.cancel.condition, Some(TargetCondition::Other));
    assert_eq!(jp.cancel.orders, 412);
    assert_eq!(jp.cancel.rate, 0.0);
    // No offset: UTC, as the schema says.
    assert_eq!(jp.cancel.window_to, t("2026-11-24T23:59:59Z"));
    // A target that is not a ceiling is not used as one.
    assert_eq!(jp.cancel.ceiling_target(), None);
}

#[test]
fn health_as_stored_reads_back_and_an_older_record_without_optional_fields_still_reads() {
    for h in sample().health {
        let text = serde_json::to_string(&h).unwrap();
        let again: MarketplaceHealth = serde_json::from_str(&text).unwrap();
        assert_eq!(again, h);
    }
    let minimal = r#"{
        "marketplace_id": "A1VC38T7YXB528",
        "cancel": {"orders": 412, "count": 3, "rate": 0.007282,
                   "window_from": "2026-11-18T00:00:00Z", "window_to": "2026-11-24T23:59:00Z"},
        "fetched_at": "2026-11-25T09:00:00Z"
    }"#;
    let h: MarketplaceHealth = serde_json::from_str(minimal).unwrap();
    assert_eq!(h.cancel.target, None);
    assert_eq!(h.late_shipment, None);
}

#[test]
fn auto_settings_take_their_defaults_except_the_fallback_which_the_seller_chooses() {
    let s: AutoSettings = serde_json::from_str(r#"{"fallback": "AskBuyer"}"#).unwrap();
    assert_eq!(s, AutoSettings::new(Strategy::AskBuyer));
    assert_eq!(s.ceiling, 0.015);
    assert_eq!(s.max_age, SignedDuration::from_hours(36));
    assert!(serde_json::from_str::<AutoSettings>("{}").is_err());
    s.validate().unwrap();
    for bad in [f64::NAN, 0.0, -0.01, 1.0, 1.5, f64::INFINITY] {
        let s = AutoSettings {
            ceiling: bad,
            ..AutoSettings::new(Strategy::CancelFirst)
        };
        assert!(s.validate().unwrap_err().contains("ceiling"), "{bad}");
    }
    let s = AutoSettings {
        max_age: SignedDuration::ZERO,
        ..AutoSettings::new(Strategy::CancelFirst)
    };
    assert!(s.validate().is_err());
}

// ---- projection ----

#[test]
fn the_projection_adds_kenzens_counts_since_the_window_to_amazons() {
    // Amazon: 1 of 230 to 11-24 23:59; since then this cancel and 8 orders.
    let p = project(&health(1, 230), 1, 8);
    assert_eq!((p.cancels, p.orders), (2, 238));
    assert_eq!(p.rate, 2.0 / 238.0);
    assert_eq!(percent(p.rate), "0.84%");
    assert_eq!(p.target, Some(0.025));
    assert_eq!(p.headroom, Some(0.025 - 2.0 / 238.0));
    // Over the target: negative headroom.
    let p = project(&health(5, 200), 1, 0);
    assert!(p.headroom.unwrap() < 0.0);
}

#[test]
fn the_projection_never_divides_by_zero_nor_goes_above_one_hundred_percent() {
    let p = project(&health(0, 0), 0, 0);
    assert_eq!((p.cancels, p.orders, p.rate), (0, 0, 0.0));
    let p = project(&health(0, 0), 1, 0);
    assert_eq!((p.cancels, p.orders, p.rate), (1, 1, 1.0));
    // Counts that say more cancels than orders: every cancelled order is an order.
    let p = project(&health(2, 2), 3, 1);
    assert_eq!((p.cancels, p.orders, p.rate), (5, 5, 1.0));
    let p = project(&health(u64::MAX, u64::MAX), u64::MAX, u64::MAX);
    assert_eq!((p.cancels, p.orders, p.rate), (u64::MAX, u64::MAX, 1.0));
}

// ---- the auto choice ----

fn auto(fallback: Strategy) -> AutoSettings {
    AutoSettings::new(fallback)
}

fn now() -> Timestamp {
    t("2026-11-25T15:00:00Z")
}

#[test]
fn with_headroom_the_guideline_is_followed_and_the_numbers_are_given() {
    let c = choose(
        &auto(Strategy::AskBuyer),
        Some(&health(1, 230)),
        now(),
        1,
        8,
    );
    assert_eq!(c.strategy, Strategy::CancelFirst);
    assert_eq!(c.reason, AutoReason::Headroom);
    assert_eq!(
        c.explanation,
        "cancel-first: projected 7-day cancel rate after this cancel 0.84% (2 of 238 orders) \
         stays within the ceiling 1.50% (Amazon's target 2.50%); Amazon counted 1 of 230 orders \
         to 2026-11-24 23:59 UTC, kenzen 1 cancel(s) and 8 order(s) since"
    );
    assert_eq!(c.projection, Some(project(&health(1, 230), 1, 8)));
}

#[test]
fn without_headroom_the_buyer_is_asked() {
    let c = choose(
        &auto(Strategy::CancelFirst),
        Some(&health(2, 230)),
        now(),
        2,
        8,
    );
    assert_eq!(c.strategy, Strategy::AskBuyer);
    assert_eq!(c.reason, AutoReason::NoHeadroom);
    assert!(
        c.explanation.starts_with(
            "ask-buyer: projected 7-day cancel rate after this cancel 1.68% (4 of 238 orders) \
             would exceed the ceiling 1.50% (Amazon's target 2.50%)"
        ),
        "{}",
        c.explanation
    );
}

#[test]
fn a_rate_exactly_at_the_ceiling_is_within_it() {
    // 3 of 200 is exactly 1.5%.
    let c = choose(
        &auto(Strategy::AskBuyer),
        Some(&health(2, 199)),
        now(),
        1,
        1,
    );
    assert_eq!(c.projection.unwrap().rate, 0.015);
    assert_eq!(c.reason, AutoReason::Headroom);
    let c = choose(
        &auto(Strategy::AskBuyer),
        Some(&health(3, 199)),
        now(),
        1,
        1,
    );
    assert_eq!(c.reason, AutoReason::NoHeadroom);
}

#[test]
fn amazons_target_binds_when_it_is_below_the_ceiling() {
    let mut h = health(1, 100);
    h.cancel.target = Some(0.01);
    let s = AutoSettings {
        ceiling: 0.02,
        ..auto(Strategy::AskBuyer)
    };
    // 1.5%: within the 2% ceiling, not under Amazon's 1% target.
    let c = choose(&s, Some(&h), now(), 1, 33);
    assert_eq!(c.strategy, Strategy::AskBuyer);
    assert_eq!(c.reason, AutoReason::NoHeadroom);
    assert!(
        c.explanation
            .contains("is within the ceiling 2.00% but would not stay under Amazon's target 1.00%"),
        "{}",
        c.explanation
    );
    // With no target, the ceiling alone decides, and the explanation says there is none.
    h.cancel.target = None;
    let c = choose(&s, Some(&h), now(), 1, 33);
    assert_eq!(c.reason, AutoReason::Headroom);
    assert!(
        c.explanation.contains("Amazon gives no target"),
        "{}",
        c.explanation
    );
}

#[test]
fn with_no_figures_the_fallback_is_taken_and_said() {
    for fallback in [Strategy::AskBuyer, Strategy::CancelFirst] {
        let c = choose(&auto(fallback), None, now(), 1, 8);
        assert_eq!(c.strategy, fallback);
        assert_eq!(c.reason, AutoReason::NoFigures);
        assert_eq!(c.projection, None);
        assert_eq!(
            c.explanation,
            format!(
                "{} (fallback): no account-health figures yet for this marketplace",
                fallback.as_setting()
            )
        );
    }
}

#[test]
fn stale_figures_give_the_fallback_with_their_date_and_age() {
    let c = choose(
        &auto(Strategy::AskBuyer),
        Some(&health(1, 230)),
        t("2026-11-27T13:00:00Z"),
        1,
        8,
    );
    assert_eq!(c.strategy, Strategy::AskBuyer);
    assert_eq!(c.reason, AutoReason::StaleFigures);
    assert_eq!(
        c.explanation,
        "ask-buyer (fallback): the account-health figures are stale: last figures from \
         2026-11-25 09:00 UTC, 52 h old (kept for 36 h)"
    );
    // Exactly the maximum age is still fresh.
    let c = choose(
        &auto(Strategy::AskBuyer),
        Some(&health(1, 230)),
        fetched() + SignedDuration::from_hours(36),
        1,
        8,
    );
    assert_eq!(c.reason, AutoReason::Headroom);
}

#[test]
fn unusable_figures_give_the_fallback_with_what_is_wrong() {
    let mut nan = health(1, 230);
    nan.cancel.rate = f64::NAN;
    let mut over = health(1, 230);
    over.cancel.count = 231;
    let mut future = health(1, 230);
    future.fetched_at = now() + SignedDuration::from_hours(2);
    for (h, says) in [
        (nan, "rate NaN is not a fraction"),
        (over, "231 counted in only 230 orders"),
        (future, "after now"),
    ] {
        let c = choose(&auto(Strategy::CancelFirst), Some(&h), now(), 1, 8);
        assert_eq!(c.strategy, Strategy::CancelFirst);
        assert_eq!(c.reason, AutoReason::UnusableFigures);
        assert!(c.explanation.starts_with("cancel-first (fallback): "));
        assert!(c.explanation.contains(says), "{}", c.explanation);
    }
}

#[test]
fn no_orders_anywhere_gives_the_fallback() {
    let c = choose(
        &auto(Strategy::CancelFirst),
        Some(&health(0, 0)),
        now(),
        1,
        0,
    );
    assert_eq!(c.strategy, Strategy::CancelFirst);
    assert_eq!(c.reason, AutoReason::NoOrders);
    assert!(
        c.explanation
            .contains("no orders in Amazon's window or since, so no rate to judge by"),
        "{}",
        c.explanation
    );
    // One order seen since: a cancel of it is 100%, so the buyer is asked.
    let c = choose(
        &auto(Strategy::CancelFirst),
        Some(&health(0, 0)),
        now(),
        1,
        1,
    );
    assert_eq!(c.reason, AutoReason::NoHeadroom);
    assert!(c.explanation.contains("100.00% (1 of 1 orders)"));
}

#[test]
fn a_bad_ceiling_gives_the_fallback_and_says_so() {
    let s = AutoSettings {
        ceiling: f64::NAN,
        ..auto(Strategy::AskBuyer)
    };
    let c = choose(&s, Some(&health(1, 230)), now(), 1, 8);
    assert_eq!(c.strategy, Strategy::AskBuyer);
    assert_eq!(c.reason, AutoReason::BadCeiling);
    assert!(c.explanation.contains("ceiling NaN"), "{}", c.explanation);
    assert!(c.explanation.contains("0.84%"), "{}", c.explanation);
}

#[test]
fn the_choice_is_stored_and_read_back() {
    let c = choose(
        &auto(Strategy::AskBuyer),
        Some(&health(1, 230)),
        now(),
        1,
        8,
    );
    let again: AutoChoice = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(again, c);
}

// ---- properties ----

/// Any f64, weighted towards the awkward ones.
fn any_f64() -> impl proptest::strategy::Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        Just(1.0),
        0.0..=1.0f64,
        any::<f64>(),
    ]
}

/// Any u64, weighted towards small counts and the edges.
fn any_count() -> impl proptest::strategy::Strategy<Value = u64> {
    prop_oneof![0..3u64, 0..5000u64, Just(u64::MAX), any::<u64>()]
}

fn any_time() -> impl proptest::strategy::Strategy<Value = Timestamp> {
    prop_oneof![
        (-400_000i64..400_000).prop_map(|m| fetched() + SignedDuration::from_mins(m)),
        (Timestamp::MIN.as_second()..=Timestamp::MAX.as_second())
            .prop_map(|s| Timestamp::from_second(s).unwrap()),
    ]
}

fn any_strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![Just(Strategy::AskBuyer), Just(Strategy::CancelFirst)]
}

/// Anything a stored or hand-built record could hold.
fn any_health() -> impl proptest::strategy::Strategy<Value = MarketplaceHealth> {
    (
        (any_count(), any_count(), any_f64()),
        (
            proptest::option::of(any_f64()),
            any_time(),
            any_time(),
            any_time(),
        ),
    )
        .prop_map(|((orders, count, rate), (target, from, to, fetched_at))| {
            let mut h = health(0, 0);
            h.cancel = RateFigure {
                orders,
                count,
                rate,
                target,
                window_from: from,
                window_to: to,
                ..h.cancel
            };
            h.fetched_at = fetched_at;
            h
        })
}

/// Figures that pass the checks, fetched at 2026-11-25 09:00 UTC.
fn usable_health() -> impl proptest::strategy::Strategy<Value = MarketplaceHealth> {
    (0..5000u64, 0..300u64, proptest::option::of(0.0..=1.0f64)).prop_map(
        |(orders, cancels, target)| {
            let mut h = health(cancels.min(orders), orders);
            h.cancel.target = target;
            h
        },
    )
}

fn fresh_now() -> impl proptest::strategy::Strategy<Value = Timestamp> {
    (0..=36 * 60i64).prop_map(|m| fetched() + SignedDuration::from_mins(m))
}

proptest! {
    #[test]
    fn cancel_first_stays_chosen_with_fewer_cancels_more_orders_or_a_higher_ceiling(
        h in usable_health(),
        now in fresh_now(),
        counted in 0..50u64,
        orders in 0..500u64,
        ceiling in prop_oneof![0.0..0.05f64, 0.0..=1.0f64],
        fewer in 0..50u64,
        more in 0..500u64,
        raise in prop_oneof![0.0..0.01f64, 0.0..=1.0f64],
        fallback in any_strategy(),
    ) {
        let s = AutoSettings { ceiling, ..AutoSettings::new(fallback) };
        let c = choose(&s, Some(&h), now, counted, orders);
        if c.reason == AutoReason::Headroom {
            let wider = AutoSettings { ceiling: (ceiling + raise).min(1.0), ..s };
            for (s, counted, orders) in [
                (s, counted.saturating_sub(fewer), orders),
                (s, counted, orders + more),
                (wider, counted, orders),
                (wider, counted.saturating_sub(fewer), orders + more),
            ] {
                let again = choose(&s, Some(&h), now, counted, orders);
                prop_assert_eq!(again.reason, AutoReason::Headroom, "{}", again.explanation);
                prop_assert_eq!(again.strategy, Strategy::CancelFirst);
            }
        }
    }

    #[test]
    fn missing_or_stale_figures_never_decide_and_always_say_why(
        h in any_health(),
        auto in (any_f64(), any_strategy()).prop_map(|(ceiling, f)| AutoSettings {
            ceiling, ..AutoSettings::new(f)
        }),
        age_past_limit in 1..1_000_000i64,
        counted in any_count(),
        orders in any_count(),
    ) {
        let c = choose(&auto, None, h.fetched_at, counted, orders);
        prop_assert_eq!(c.reason, AutoReason::NoFigures);
        prop_assert_eq!(c.strategy, auto.fallback);
        prop_assert!(c.explanation.contains("(fallback): no account-health figures"));

        let past_limit = auto.max_age + SignedDuration::from_secs(age_past_limit);
        let Ok(now) = h.fetched_at.checked_add(past_limit) else {
            return Ok(());
        };
        let c = choose(&auto, Some(&h), now, counted, orders);
        prop_assert_eq!(c.reason, AutoReason::StaleFigures);
        prop_assert_eq!(c.strategy, auto.fallback);
        prop_assert!(!c.reason.decided_by_figures());
        let says = "(fallback): the account-health figures are stale";
        prop_assert!(c.explanation.contains(says), "{}", c.explanation);
        prop_assert!(c.explanation.contains(&utc(h.fetched_at)), "{}", c.explanation);
    }

    #[test]
    fn fresh_usable_figures_always_give_the_projected_rate(
        h in usable_health(),
        now in fresh_now(),
        counted in any_count(),
        orders in any_count(),
        ceiling in any_f64(),
        fallback in any_strategy(),
    ) {
        let s = AutoSettings { ceiling, ..AutoSettings::new(fallback) };
        let c = choose(&s, Some(&h), now, counted, orders);
        let p = project(&h, counted, orders);
        prop_assert_eq!(c.projection, Some(p));
        prop_assert!(c.explanation.contains(&percent(p.rate)), "{}", c.explanation);
        prop_assert!(
            c.explanation.contains(&format!("({} of {} orders)", p.cancels, p.orders)),
            "{}", c.explanation
        );
    }

    #[test]
    fn any_input_gives_a_consistent_choice_and_never_panics(
        h in proptest::option::of(any_health()),
        now in any_time(),
        counted in any_count(),
        orders in any_count(),
        ceiling in any_f64(),
        max_age_mins in any::<i32>(),
        fallback in any_strategy(),
    ) {
        let s = AutoSettings {
            ceiling,
            max_age: SignedDuration::from_mins(i64::from(max_age_mins)),
            fallback,
        };
        let c = choose(&s, h.as_ref(), now, counted, orders);
        match c.reason {
            AutoReason::Headroom => prop_assert_eq!(c.strategy, Strategy::CancelFirst),
            AutoReason::NoHeadroom => prop_assert_eq!(c.strategy, Strategy::AskBuyer),
            _ => {
                prop_assert_eq!(c.strategy, fallback);
                let said = format!("{} (fallback): ", fallback.as_setting());
                prop_assert!(c.explanation.starts_with(&said), "{}", c.explanation);
            }
        }
        prop_assert!(c.explanation.starts_with(c.strategy.as_setting()));
        if c.reason.decided_by_figures() {
            // Only checked, fresh figures decide.
            let h = h.as_ref().unwrap();
            prop_assert!(h.cancel.check().is_ok());
            prop_assert!(now.duration_since(h.fetched_at) <= s.max_age);
            prop_assert!(c.projection.is_some());
        }
        if let Some(h) = &h {
            let p = project(h, counted, orders);
            prop_assert!((0.0..=1.0).contains(&p.rate), "{:?}", p);
            prop_assert!(p.cancels <= p.orders || p.orders == 0);
            if let Some(room) = p.headroom {
                prop_assert!(room.is_finite());
            }
        }
    }

    #[test]
    fn any_bytes_parse_to_a_result_or_an_error_never_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = parse_report(&bytes, fetched());
    }

    #[test]
    fn any_numbers_in_the_cancel_metric_parse_or_are_skipped_never_a_panic(
        orders in any::<i64>(),
        cancels in any::<i64>(),
        rate in any::<f64>().prop_filter("JSON has no NaN or infinity", |r| r.is_finite()),
        target in any::<f64>().prop_filter("JSON has no NaN or infinity", |r| r.is_finite()),
    ) {
        let bytes = edited(|v| {
            let c = jp_cancel(v);
            c["orderCount"] = orders.into();
            c["cancellationCount"] = cancels.into();
            c["rate"] = rate.into();
            c["targetValue"] = target.into();
        });
        let r = parse_report(&bytes, fetched()).unwrap();
        prop_assert_eq!(r.health.len() + r.skipped.len(), 2);
        for h in &r.health {
            prop_assert!(h.cancel.check().is_ok());
        }
    }
}
