//! The DynamoDB store against moto_server: versioned saves, the due and open indexes, and the
//! seller's templates.

use anyhow::Result;
use jiff::Timestamp;
use kenzen_app::adapters::dynamo::DynamoStore;
use kenzen_app::ports::{CaseStore, IntakeStore, StoreError};
use kenzen_core::{CaseState, DueKind, OpenReason, Settings, Strategy};

use crate::{hours, mins, t0, world};

fn sample_case(id: &str, now: Timestamp) -> kenzen_core::Case {
    let view = kenzen_core::OrderView {
        order_id: id.parse().unwrap(),
        marketplace_id: "A1VC38T7YXB528".parse().unwrap(),
        status: kenzen_core::OrderStatus::Unshipped,
        merchant_fulfilled: true,
        ship_by: Some(now + hours(48)),
        last_updated: now,
        purchased: None,
        lines: vec![kenzen_core::OrderLine {
            order_item_id: "1".into(),
            sku: "CUP".parse().unwrap(),
            title: "Cup".into(),
            quantity: 1,
            unit_price: None,
            buyer_cancel_requested: false,
            buyer_cancel_reason: None,
            cancelled_by: None,
        }],
    };
    kenzen_core::Case::open(
        &view,
        OpenReason::StockShort {
            sku: "CUP".parse().unwrap(),
            on_hand: 0,
            ordered: 1,
        },
        &Settings::new(Strategy::AskBuyer, "A1VC38T7YXB528"),
        now,
    )
    .unwrap()
}

#[tokio::test]
async fn a_save_from_a_stale_version_is_a_conflict_and_changes_nothing() -> Result<()> {
    let w = world().await?;
    let store: &DynamoStore = w.store();
    let case = sample_case("503-0000011-0000001", t0());
    let v1 = store
        .create_case(
            &case,
            case.due(&Settings::new(Strategy::AskBuyer, "A1VC38T7YXB528")),
        )
        .await?;
    assert!(matches!(
        store.create_case(&case, None).await,
        Err(StoreError::Conflict(_))
    ));
    let mut changed = v1.value.clone();
    changed.requests_sent = 1;
    let v2 = store.save_case(&changed, v1.version, None).await?;
    assert_eq!(v2.version, 2);
    let mut other = v1.value.clone();
    other.requests_sent = 7;
    assert!(matches!(
        store.save_case(&other, v1.version, None).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_case(&case.order_id).await?.unwrap(), v2);
    Ok(())
}

#[tokio::test]
async fn the_due_and_open_indexes_hold_only_what_is_due_and_open() -> Result<()> {
    let w = world().await?;
    let store = w.store();
    let s = Settings::new(Strategy::AskBuyer, "A1VC38T7YXB528");
    let due_now = sample_case("503-0000012-0000001", t0());
    store
        .create_case(&due_now, Some((DueKind::Send, t0())))
        .await?;
    let later = sample_case("503-0000012-0000002", t0());
    store
        .create_case(&later, Some((DueKind::Send, t0() + hours(5))))
        .await?;
    let mut closed = sample_case("503-0000012-0000003", t0());
    closed.state = CaseState::Closed {
        why: kenzen_core::CloseReason::Shipped,
        at: t0(),
    };
    store.create_case(&closed, closed.due(&s)).await?;

    let due: Vec<String> = store
        .due_cases(DueKind::Send, t0() + mins(1))
        .await?
        .cases
        .into_iter()
        .map(|c| c.value.order_id.to_string())
        .collect();
    assert_eq!(due, ["503-0000012-0000001"]);
    assert!(
        store
            .due_cases(DueKind::Cancel, t0() + hours(100))
            .await?
            .cases
            .is_empty()
    );
    let mut open: Vec<String> = store
        .open_cases()
        .await?
        .cases
        .into_iter()
        .map(|c| c.value.order_id.to_string())
        .collect();
    open.sort();
    assert_eq!(open, ["503-0000012-0000001", "503-0000012-0000002"]);

    // Ended cases (and timeline entries) carry the TTL; open ones do not.
    let ddb = aws_sdk_dynamodb::Client::new(&w.aws);
    let ttl_of = |id: &str| {
        let ddb = ddb.clone();
        let table = w.table.clone();
        let key = format!("ORDER#{id}");
        async move {
            ddb.get_item()
                .table_name(table)
                .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key))
                .key(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S("CASE".into()),
                )
                .send()
                .await
                .unwrap()
                .item
                .unwrap()
                .get("expires_at")
                .and_then(|v| v.as_n().ok().cloned())
        }
    };
    assert_eq!(
        ttl_of("503-0000012-0000003").await,
        Some(
            (t0() + kenzen_app::adapters::dynamo::RETENTION)
                .as_second()
                .to_string()
        )
    );
    assert_eq!(ttl_of("503-0000012-0000001").await, None);

    // The poll cursor only moves forward.
    store.set_poll_cursor(t0() + hours(2)).await?;
    store.set_poll_cursor(t0() + hours(1)).await?;
    assert_eq!(store.poll_cursor().await?, Some(t0() + hours(2)));
    // The poll's state between runs (a window's next page, orders to read again) reads back.
    assert_eq!(store.poll_state().await?, Default::default());
    let state = kenzen_app::ports::PollState {
        window: Some(kenzen_app::ports::PollWindow {
            until: t0() + hours(3),
            next_token: "token-2".into(),
            token_issued: t0() + hours(3),
        }),
        retry: vec![kenzen_app::ports::PollRetry {
            order_id: "503-0000012-0000009".into(),
            attempts: 2,
        }],
    };
    store.set_poll_state(&state).await?;
    assert_eq!(store.poll_state().await?, state);
    Ok(())
}

#[tokio::test]
async fn an_unreadable_case_item_is_skipped_and_reported_once_and_the_healthy_one_is_read()
-> Result<()> {
    let w = world().await?;
    let store = w.store();
    let healthy = sample_case("503-0000013-0000001", t0());
    store
        .create_case(&healthy, Some((DueKind::Send, t0())))
        .await?;
    // A damaged item in the same indexes: its case holds a state no version knows.
    let broken = sample_case("503-0000013-0000002", t0());
    store
        .create_case(&broken, Some((DueKind::Send, t0())))
        .await?;
    let ddb = aws_sdk_dynamodb::Client::new(&w.aws);
    use aws_sdk_dynamodb::types::AttributeValue as Av;
    ddb.update_item()
        .table_name(&w.table)
        .key("pk", Av::S("ORDER#503-0000013-0000002".into()))
        .key("sk", Av::S("CASE".into()))
        .update_expression("SET #c.#s = :s")
        .expression_attribute_names("#c", "case")
        .expression_attribute_names("#s", "state")
        .expression_attribute_values(
            ":s",
            Av::M(std::collections::HashMap::from([(
                "state".to_string(),
                Av::S("FromTheFuture".into()),
            )])),
        )
        .send()
        .await?;

    let read = store.due_cases(DueKind::Send, t0() + mins(1)).await?;
    let ids: Vec<String> = read
        .cases
        .iter()
        .map(|c| c.value.order_id.to_string())
        .collect();
    assert_eq!(ids, ["503-0000013-0000001"]);
    assert_eq!(read.unreadable.len(), 1);
    assert_eq!(read.unreadable[0].key, "ORDER#503-0000013-0000002");
    assert_eq!(store.open_cases().await?.unreadable.len(), 1);
    assert!(store.mark_unreadable("ORDER#503-0000013-0000002").await?);
    assert!(
        !store.mark_unreadable("ORDER#503-0000013-0000002").await?,
        "reported once"
    );
    Ok(())
}

#[tokio::test]
async fn a_reservation_takes_the_last_unit_once_per_order_and_a_release_gives_it_back() -> Result<()>
{
    use kenzen_app::ports::{Reserve, StockStore};
    let w = world().await?;
    let store = w.store();
    store.put_stock("LAST-1", 1).await?;
    let sku: kenzen_core::Sku = "LAST-1".parse()?;
    let a: kenzen_core::OrderId = "503-0000014-0000001".parse()?;
    let b: kenzen_core::OrderId = "503-0000014-0000002".parse()?;
    let on_hand = || async {
        store
            .sku_info(std::slice::from_ref(&sku))
            .await
            .map(|m| m[&sku].on_hand)
    };
    assert_eq!(store.reserve(&sku, 1, &a).await?, Reserve::Reserved);
    assert_eq!(
        store.reserve(&sku, 1, &a).await?,
        Reserve::Reserved,
        "same order again"
    );
    assert_eq!(on_hand().await?, Some(0), "taken once");
    assert_eq!(
        store.reserve(&sku, 1, &b).await?,
        Reserve::Short { on_hand: 0 }
    );
    let unknown: kenzen_core::Sku = "NO-COUNT".parse()?;
    assert_eq!(store.reserve(&unknown, 1, &b).await?, Reserve::Unmanaged);
    // b took nothing, so releasing it gives nothing back; a's cancel gives its unit back once.
    store.release(&sku, 1, &b, true).await?;
    assert_eq!(on_hand().await?, Some(0));
    store.release(&sku, 1, &a, true).await?;
    store.release(&sku, 1, &a, true).await?;
    assert_eq!(on_hand().await?, Some(1));
    // A shipped order's reservation ends without giving the unit back.
    assert_eq!(store.reserve(&sku, 1, &b).await?, Reserve::Reserved);
    store.release(&sku, 1, &b, false).await?;
    assert_eq!(on_hand().await?, Some(0));
    assert_eq!(
        store.reserve(&sku, 1, &b).await?,
        Reserve::Short { on_hand: 0 }
    );
    Ok(())
}

#[tokio::test]
async fn the_stock_of_many_skus_is_read_in_batches_each_sku_once_and_ones_without_an_item_left_out()
-> Result<()> {
    use kenzen_app::ports::StockStore;
    use kenzen_core::{Sku, SkuInfo};
    let w = world().await?;
    let store = w.store();
    // More SKUs than one BatchGetItem takes (100), some twice, every third without a stock item.
    let mut skus: Vec<Sku> = Vec::new();
    for i in 0..130u32 {
        let sku = format!("MANY-{i:03}");
        if i % 3 != 0 {
            store.put_stock(&sku, i).await?;
        }
        skus.push(sku.parse()?);
    }
    skus.extend([skus[1].clone(), skus[129].clone()]);
    let costed = SkuInfo {
        on_hand: Some(2),
        unit_cost: Some("480.5".into()),
        shipping_cost: Some("120".into()),
        product_type: None,
    };
    store.put_sku("MANY-COSTED", costed.clone()).await?;
    let costed_sku: Sku = "MANY-COSTED".parse()?;
    store.set_product_type(&costed_sku, "KITCHEN").await?;
    skus.push(costed_sku.clone());

    let got = store.sku_info(&skus).await?;
    assert_eq!(
        got.len(),
        130 - 44 + 1,
        "one entry per SKU with a stock item"
    );
    for i in 0..130u32 {
        let sku: Sku = format!("MANY-{i:03}").parse()?;
        let want = (i % 3 != 0).then_some(SkuInfo {
            on_hand: Some(i),
            ..SkuInfo::default()
        });
        assert_eq!(got.get(&sku), want.as_ref(), "{sku}");
    }
    assert_eq!(
        got[&costed_sku],
        SkuInfo {
            product_type: Some("KITCHEN".into()),
            ..costed
        }
    );
    assert!(store.sku_info(&[]).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_stock_item_with_a_count_that_is_not_whole_is_unreadable_and_named_by_its_key()
-> Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue as Av;
    use kenzen_app::ports::StockStore;
    let w = world().await?;
    let store = w.store();
    store.put_stock("FINE", 3).await?;
    aws_sdk_dynamodb::Client::new(&w.aws)
        .put_item()
        .table_name(&w.table)
        .item("pk", Av::S("SKU#HALF".into()))
        .item("sk", Av::S("STOCK".into()))
        .item("on_hand", Av::N("1.5".into()))
        .send()
        .await?;
    let skus = ["FINE".parse()?, "HALF".parse()?];
    match store.sku_info(&skus).await {
        Err(StoreError::Corrupt { key, detail }) => {
            assert_eq!(key, "SKU#HALF");
            assert!(detail.contains("on_hand"), "{detail}");
        }
        other => panic!("expected the item to be unreadable, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn the_sellers_mode_reads_back_as_set_and_is_absent_until_set() -> Result<()> {
    use kenzen_app::ports::{ModeSetting, SettingsStore};
    use kenzen_core::Mode;
    let w = world().await?;
    let store: &DynamoStore = w.store();
    assert_eq!(store.mode().await?, None);
    let paused = ModeSetting {
        mode: Mode::Pause,
        changed_at: t0(),
        by: "store test".into(),
        before: Some(Mode::Approve),
    };
    store.set_mode(&paused).await?;
    assert_eq!(store.mode().await?, Some(paused));
    let live = ModeSetting {
        mode: Mode::Live,
        changed_at: t0() + mins(5),
        by: "store test".into(),
        before: None,
    };
    store.set_mode(&live).await?;
    assert_eq!(store.mode().await?, Some(live));
    Ok(())
}

#[tokio::test]
async fn templates_are_stored_and_read_back_and_an_invalid_one_is_never_written() -> Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue;
    use kenzen_app::ports::{StoredTemplate, TemplateStore};
    use kenzen_app::templates::{self as tpl, TemplatesError};
    use kenzen_core::marketplace::Language;
    use kenzen_core::templates::{Source, TemplateKind};

    let w = world().await?;
    let store: &DynamoStore = w.store();
    let listing = tpl::list(store).await?;
    assert!(
        listing
            .templates
            .iter()
            .all(|e| e.source == Source::Default)
    );
    assert_eq!(listing.vars.shop_name(), "");

    let text = "Commande {order_id} : nous l'annulons de notre côté.\n\n{signature}";
    tpl::set(store, Language::French, TemplateKind::CancelFirst, text).await?;
    tpl::set_vars(store, Some("Kenzen Thé"), Some("L'équipe Kenzen")).await?;
    let refused = tpl::set(
        store,
        Language::French,
        TemplateKind::Request,
        "Commande {commande}, voir www.kenzen.fr",
    )
    .await;
    assert!(
        matches!(refused, Err(TemplatesError::Invalid(_))),
        "{refused:?}"
    );

    let raw = store.stored_templates().await?;
    assert_eq!(
        raw.templates,
        [StoredTemplate {
            lang: "fr".into(),
            kind: "cancel-first".into(),
            text: text.into(),
        }]
    );
    assert_eq!(
        raw.vars,
        Some(("Kenzen Thé".to_string(), "L'équipe Kenzen".to_string()))
    );
    let shown = tpl::show(store, Language::French, TemplateKind::CancelFirst).await?;
    assert_eq!((shown.source, shown.text.as_str()), (Source::Stored, text));

    // An item the table holds but this version cannot use (written by hand, or by a later
    // version) is listed as ignored and the default is in effect.
    aws_sdk_dynamodb::Client::new(&w.aws)
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("TEMPLATE".into()))
        .item("sk", AttributeValue::S("fr#request".into()))
        .item("text", AttributeValue::S("Commande {commande}".into()))
        .send()
        .await?;
    let fr = tpl::show(store, Language::French, TemplateKind::Request).await?;
    assert_eq!(fr.source, Source::Default);
    assert!(fr.ignored.unwrap().contains("unknown variable {commande}"));

    tpl::reset(store, Language::French, TemplateKind::CancelFirst).await?;
    let left: Vec<_> = store
        .stored_templates()
        .await?
        .templates
        .into_iter()
        .map(|t| t.kind)
        .collect();
    assert_eq!(left, ["request"]);
    Ok(())
}

#[tokio::test]
async fn an_order_is_counted_once_and_the_report_reads_every_case_opened_since_open_or_ended()
-> Result<()> {
    use kenzen_app::ports::{DayCount, OrderCountStore, ReportStore};
    const JP: &str = "A1VC38T7YXB528";
    let w = world().await?;
    let store = w.store();
    let day = jiff::civil::date(2026, 12, 1);
    let id = |n: u32| -> kenzen_core::OrderId { format!("503-0000013-{n:07}").parse().unwrap() };
    assert!(store.count_order(&id(1), JP, day, t0()).await?);
    assert!(
        !store.count_order(&id(1), JP, day, t0() + hours(3)).await?,
        "a second sight counts nothing"
    );
    assert!(store.count_order(&id(2), JP, day, t0()).await?);
    assert!(store.count_order(&id(3), JP, day.tomorrow()?, t0()).await?);
    // A seller-initiated cancel counts once, on the day of the cancel.
    assert!(store.count_cancel(&id(2), JP, day, t0()).await?);
    assert!(
        !store.count_cancel(&id(2), JP, day, t0() + hours(1)).await?,
        "a resubmitted cancel counts nothing"
    );
    assert_eq!(
        store.order_counts(day, day).await?,
        vec![DayCount {
            marketplace_id: JP.into(),
            day,
            orders: 2,
            counted: 1,
        }]
    );
    assert_eq!(store.order_counts(day, day.tomorrow()?).await?.len(), 2);
    assert!(
        store
            .order_counts(day.yesterday()?, day.yesterday()?)
            .await?
            .is_empty()
    );

    // Cases: one opened ten days ago, one ended since, one open; the counted orders' records
    // and the timelines share their partitions and are not read as cases.
    let old = sample_case(id(1).as_str(), t0() - hours(240));
    store.create_case(&old, None).await?;
    let mut ended = sample_case(id(2).as_str(), t0());
    ended.state = CaseState::Closed {
        why: kenzen_core::CloseReason::Shipped,
        at: t0() + hours(5),
    };
    store.create_case(&ended, None).await?;
    let open = sample_case(id(3).as_str(), t0() + hours(1));
    store.create_case(&open, None).await?;
    store
        .append_timeline(&kenzen_app::ports::TimelineEntry {
            at: t0() + hours(1),
            order_id: id(3),
            kind: "decision".into(),
            state: "Requesting".into(),
            note: "case opened".into(),
            text: None,
            answer: None,
        })
        .await?;
    let read = store.cases_opened_since(t0() - hours(24)).await?;
    let mut ids: Vec<String> = read
        .cases
        .iter()
        .map(|c| c.value.order_id.to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, [id(2).to_string(), id(3).to_string()]);
    assert!(read.unreadable.is_empty(), "{:?}", read.unreadable);
    Ok(())
}

#[tokio::test]
async fn account_health_figures_and_the_fetch_state_are_stored_and_only_one_run_claims_a_fetch()
-> Result<()> {
    use kenzen_app::ports::{HealthFetch, HealthStore};
    let w = world().await?;
    let store = w.store();
    assert_eq!(store.health_fetch().await?, None);
    assert_eq!(store.health("A1VC38T7YXB528").await?, None);

    let first = HealthFetch {
        requested_at: t0(),
        report_id: Some("50001".into()),
        fetched_at: None,
        last_outcome: "requested".into(),
    };
    assert!(store.put_health_fetch(&first, None).await?);
    assert!(
        !store.put_health_fetch(&first, None).await?,
        "a second run finding no state loses to the first"
    );
    let later = HealthFetch {
        requested_at: t0() + hours(12),
        ..first.clone()
    };
    assert!(
        !store
            .put_health_fetch(&later, Some(t0() - hours(1)))
            .await?,
        "a claim on a stale state loses"
    );
    assert!(store.put_health_fetch(&later, Some(t0())).await?);
    assert_eq!(store.health_fetch().await?, Some(later));

    let report = kenzen_core::parse_report(
        include_bytes!("../../../shared/src/health/testdata/seller-performance-jp-us.json"),
        t0(),
    )?;
    for h in &report.health {
        store.put_health(h).await?;
    }
    let jp = store.health("A1VC38T7YXB528").await?.expect("stored");
    assert_eq!(Some(&jp), report.for_marketplace("A1VC38T7YXB528"));
    Ok(())
}

#[tokio::test]
async fn the_slot_history_keeps_each_sent_request_and_the_buyers_answer_to_it() -> Result<()> {
    use kenzen_app::ports::SlotHistoryStore;
    const JP: &str = "A1VC38T7YXB528";
    let w = world().await?;
    let store = w.store();
    let id = |n: u32| -> kenzen_core::OrderId { format!("503-0000014-{n:07}").parse().unwrap() };
    store.record_send(JP, &id(1), t0()).await?;
    store.record_send(JP, &id(2), t0() + hours(1)).await?;
    store.record_send("A1PA6795UKMFR9", &id(3), t0()).await?;
    assert!(
        store
            .record_request(JP, &id(1), t0(), t0() + hours(2))
            .await?
    );
    assert!(
        !store
            .record_request(JP, &id(1), t0(), t0() + hours(3))
            .await?,
        "the first request is kept"
    );
    assert!(
        !store
            .record_request(JP, &id(9), t0(), t0() + hours(3))
            .await?,
        "no message, nothing recorded"
    );
    let mut got = store.slot_history(JP, t0() - hours(1)).await?;
    got.sort_by_key(|o| o.sent_at);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].request_at, Some(t0() + hours(2)));
    assert_eq!(got[1].request_at, None);
    assert_eq!(store.slot_history(JP, t0() + mins(30)).await?.len(), 1);
    Ok(())
}
