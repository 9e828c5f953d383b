use proptest::prelude::{any, prop_assert, prop_assert_eq, proptest};
use proptest::strategy::Strategy as _;

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

// ---- properties ----

proptest! {
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
