//! The simulator answers as strictly as Amazon: for each rule, the wrong request gets the answer
//! Amazon would give, and the right one works. Requests go over HTTP to a simulator on a free
//! port, on its own virtual clock, one simulator per test.

mod common;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kenzen_clock::VirtualClock;
use kenzen_sim::{Buyer, Role, ServerHandle, Sim, SimConfig, SimItem, SimOrder};
use serde_json::{Value, json};

const T0: &str = "2026-12-01T00:00:00Z";
const ORDERS: &str = "/orders/2026-01-01/orders";
const MP: &str = "A1VC38T7YXB528";

fn t0() -> Timestamp {
    T0.parse().unwrap()
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// A simulator serving on a free port, and a client for it.
struct Api {
    sim: Arc<Sim>,
    clock: Arc<VirtualClock>,
    base: String,
    http: reqwest::Client,
    token: String,
    _server: ServerHandle,
}

impl Api {
    async fn start(config: SimConfig) -> Api {
        let clock = VirtualClock::new(t0());
        let sim = Sim::new(config, clock.clone());
        let (addr, server) = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mut api = Api {
            sim,
            clock,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            token: String::new(),
            _server: server,
        };
        api.token = api.new_token().await;
        api
    }

    async fn default() -> Api {
        Api::start(SimConfig::default()).await
    }

    /// A seller access token from the LWA endpoint.
    async fn new_token(&self) -> String {
        common::access_token(&self.http, &self.base, &self.sim.config).await
    }

    /// One call with `token` (none when `None`): the status and the JSON body.
    async fn call_as(
        &self,
        token: Option<&str>,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path_and_query}", self.base));
        if let Some(t) = token {
            req = req.header("x-amz-access-token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path_and_query: &str) -> (u16, Value) {
        self.call_as(
            Some(&self.token),
            reqwest::Method::GET,
            path_and_query,
            None,
        )
        .await
    }

    /// searchOrders with `query` (after `?`).
    async fn search(&self, query: &str) -> (u16, Value) {
        self.get(&format!("{ORDERS}?{query}")).await
    }
}

fn order(id: &str, placed: Timestamp) -> SimOrder {
    SimOrder::new(
        id,
        placed,
        placed + SignedDuration::from_hours(48),
        vec![SimItem {
            order_item_id: format!("{}1", id.replace('-', "")),
            sku: "CUP".into(),
            asin: "B0TEST0001".into(),
            title: "有田焼 湯呑み".into(),
            quantity: 1,
            unit_price: "1980".into(),
        }],
        Buyer::Silent,
        "ja-JP",
    )
}

/// The first error's code and the status, for asserting Amazon's error shape.
fn error_code(answer: &(u16, Value)) -> (u16, &str) {
    (
        answer.0,
        answer.1["errors"][0]["code"]
            .as_str()
            .unwrap_or("(no errors[0].code)"),
    )
}

fn ids(answer: &Value) -> Vec<String> {
    answer["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect()
}

fn since(t: Timestamp) -> String {
    format!("lastUpdatedAfter={}", t.strftime("%Y-%m-%dT%H:%M:%SZ"))
}

// ---- Orders: includedData ----

#[tokio::test]
async fn orders_hold_fulfillment_cancellation_and_buyer_data_only_when_included() {
    let api = Api::default().await;
    let id = "503-1000001-0000001";
    let mut o = order(id, t0() - mins(30));
    o.buyer_request = Some(t0() - mins(20));
    o.last_updated = t0() - mins(20);
    api.sim.add_order(o);
    let after = since(t0() - mins(60));

    let (status, plain) = api.search(&after).await;
    assert_eq!(status, 200, "{plain}");
    let o = &plain["orders"][0];
    assert_eq!(o["orderId"], id);
    assert!(o.get("fulfillment").is_none(), "{o}");
    assert!(o["orderItems"][0].get("cancellation").is_none(), "{o}");
    assert!(o["orderItems"][0].get("fulfillment").is_none(), "{o}");
    assert!(o.get("buyer").is_none(), "{o}");

    let (_, asked) = api
        .search(&format!("{after}&includedData=FULFILLMENT,CANCELLATION"))
        .await;
    let o = &asked["orders"][0];
    assert_eq!(o["fulfillment"]["fulfillmentStatus"], "UNSHIPPED");
    assert_eq!(o["fulfillment"]["fulfilledBy"], "MERCHANT");
    assert!(o["fulfillment"]["shipByWindow"]["latestDateTime"].is_string());
    assert_eq!(o["orderItems"][0]["fulfillment"]["quantityUnfulfilled"], 1);
    assert_eq!(
        o["orderItems"][0]["cancellation"]["cancellationRequest"]["requester"],
        "BUYER"
    );
    assert!(
        !asked.to_string().contains("Hanako"),
        "no buyer name unless BUYER is asked"
    );

    let (_, buyer) = api.search(&format!("{after}&includedData=BUYER")).await;
    assert_eq!(
        buyer["orders"][0]["buyer"]["buyerName"],
        "Hanako Yamada 0000001"
    );
    assert!(buyer["orders"][0].get("fulfillment").is_none());

    let (status, one) = api.get(&format!("{ORDERS}/{id}")).await;
    assert_eq!(status, 200);
    assert!(one["order"].get("fulfillment").is_none() && one["order"].get("buyer").is_none());
    let (_, one) = api
        .get(&format!("{ORDERS}/{id}?includedData=FULFILLMENT"))
        .await;
    assert_eq!(
        one["order"]["fulfillment"]["fulfillmentStatus"],
        "UNSHIPPED"
    );
    assert!(one["order"]["orderItems"][0].get("cancellation").is_none());
}

#[tokio::test]
async fn an_included_data_value_outside_the_model_is_rejected() {
    let api = Api::default().await;
    let after = since(t0() - mins(60));
    for bad in ["FULFILMENT", "fulfillment", "FULFILLMENT,", "ITEMS"] {
        let answer = api.search(&format!("{after}&includedData={bad}")).await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{bad}");
    }
    let answer = api
        .get(&format!("{ORDERS}/503-1-1?includedData=SHIPPING"))
        .await;
    assert_eq!(error_code(&answer), (400, "InvalidInput"));
}

// ---- Orders: fulfilledBy and fulfillmentStatuses ----

#[tokio::test]
async fn fulfilled_by_filters_the_orders_and_other_values_are_rejected() {
    let api = Api::default().await;
    api.sim
        .add_order(order("503-1000002-0000001", t0() - mins(30)));
    let mut fba = order("503-1000002-0000002", t0() - mins(30));
    fba.fulfilled_by = "AMAZON";
    api.sim.add_order(fba);
    let after = since(t0() - mins(60));

    let (_, all) = api.search(&after).await;
    assert_eq!(ids(&all).len(), 2);
    let (_, mfn) = api.search(&format!("{after}&fulfilledBy=MERCHANT")).await;
    assert_eq!(ids(&mfn), ["503-1000002-0000001"]);
    let (_, fba) = api
        .search(&format!(
            "{after}&fulfilledBy=AMAZON&includedData=FULFILLMENT"
        ))
        .await;
    assert_eq!(ids(&fba), ["503-1000002-0000002"]);
    assert_eq!(fba["orders"][0]["fulfillment"]["fulfilledBy"], "AMAZON");
    let (_, both) = api
        .search(&format!("{after}&fulfilledBy=MERCHANT,AMAZON"))
        .await;
    assert_eq!(ids(&both).len(), 2);

    for bad in ["SELLER", "MFN", "merchant", ""] {
        let answer = api.search(&format!("{after}&fulfilledBy={bad}")).await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{bad:?}");
    }
    let (_, unshipped) = api
        .search(&format!("{after}&fulfillmentStatuses=UNSHIPPED"))
        .await;
    assert_eq!(ids(&unshipped).len(), 2);
    let (_, shipped) = api
        .search(&format!("{after}&fulfillmentStatuses=SHIPPED"))
        .await;
    assert!(ids(&shipped).is_empty());
    let answer = api
        .search(&format!("{after}&fulfillmentStatuses=OPEN"))
        .await;
    assert_eq!(error_code(&answer), (400, "InvalidInput"));
}

// ---- Orders: the time bounds ----

#[tokio::test]
async fn updated_after_and_created_after_take_orders_at_exactly_that_time() {
    let api = Api::default().await;
    let at = t0() - mins(30);
    api.sim.add_order(order("503-1000003-0000001", at));
    let stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();

    let (_, updated) = api.search(&format!("lastUpdatedAfter={stamp}")).await;
    assert_eq!(ids(&updated), ["503-1000003-0000001"], "at or after");
    let (_, created) = api.search(&format!("createdAfter={stamp}")).await;
    assert_eq!(ids(&created), ["503-1000003-0000001"], "at or after");
    let later = (at + SignedDuration::from_secs(1)).strftime("%Y-%m-%dT%H:%M:%SZ");
    let (_, none) = api.search(&format!("lastUpdatedAfter={later}")).await;
    assert!(ids(&none).is_empty());
}

#[tokio::test]
async fn a_date_time_with_an_offset_is_rejected_and_utc_with_z_is_taken() {
    let api = Api::default().await;
    api.sim
        .add_order(order("503-1000004-0000001", t0() - mins(30)));
    for bad in [
        "2026-12-01T08:00:00%2B09:00", // +09:00, encoded
        "2026-12-01T08:00:00+09:00",   // unencoded: the + reads as a space
        "2026-11-30T23:00:00%2B00:00",
        "2026-11-30T23:00:00-00:00",
        "2026-11-30T23:00:00",
        "2026-11-30",
        "2026-11-30 23:00:00Z",
        "yesterday",
    ] {
        let answer = api.search(&format!("lastUpdatedAfter={bad}")).await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{bad}");
        let answer = api.search(&format!("createdAfter={bad}")).await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{bad}");
    }
    for good in [
        "2026-11-30T23:00:00Z",
        "2026-11-30T23:00:00.000Z",
        "2026-11-30T23:00Z",
    ] {
        let (status, answer) = api.search(&format!("lastUpdatedAfter={good}")).await;
        assert_eq!(status, 200, "{good}: {answer}");
        assert_eq!(ids(&answer), ["503-1000004-0000001"], "{good}");
    }
}

#[tokio::test]
async fn changes_within_the_indexing_lag_are_found_by_the_next_search() {
    let api = Api::default().await;
    api.sim
        .add_order(order("503-1000005-0000001", t0() - mins(10)));
    api.sim.add_order(order(
        "503-1000005-0000002",
        t0() - SignedDuration::from_secs(60),
    ));
    let after = since(t0() - mins(60));

    let (_, first) = api.search(&after).await;
    assert_eq!(ids(&first), ["503-1000005-0000001"]);
    assert_eq!(
        first["lastUpdatedBefore"], "2026-11-30T23:58:00Z",
        "now - 2 min"
    );

    // The next search starts at the previous one's lastUpdatedBefore (inclusive).
    api.clock.advance(mins(2));
    let next = format!(
        "lastUpdatedAfter={}",
        first["lastUpdatedBefore"].as_str().unwrap()
    );
    let (_, second) = api.search(&next).await;
    assert_eq!(ids(&second), ["503-1000005-0000002"]);

    let (_, created) = api
        .search(&format!("createdAfter={}", "2026-11-30T23:00:00Z"))
        .await;
    assert_eq!(created["createdBefore"], "2026-12-01T00:00:00Z");
    assert!(created.get("lastUpdatedBefore").is_none());

    let lagless = Api::start(SimConfig {
        indexing_lag: SignedDuration::ZERO,
        ..SimConfig::default()
    })
    .await;
    lagless.sim.add_order(order(
        "503-1000005-0000003",
        t0() - SignedDuration::from_secs(1),
    ));
    let (_, now) = lagless.search(&after).await;
    assert_eq!(ids(&now), ["503-1000005-0000003"]);
}

#[tokio::test]
async fn created_and_updated_bounds_are_checked_as_the_model_says() {
    let api = Api::default().await;
    api.sim
        .add_order(order("503-1000006-0000001", t0() - mins(30)));
    let a = "2026-11-30T23:00:00Z";
    for bad in [
        String::new(),
        format!("createdAfter={a}&lastUpdatedAfter={a}"),
        format!("createdAfter={a}&lastUpdatedBefore=2026-11-30T23:50:00Z"),
        format!("lastUpdatedAfter={a}&createdBefore=2026-11-30T23:50:00Z"),
        format!("lastUpdatedAfter={a}&lastUpdatedBefore=2026-11-30T22:00:00Z"),
        format!("lastUpdatedAfter={a}&lastUpdatedBefore=2026-11-30T23:59:00Z"),
        format!("createdAfter={a}&createdBefore=2026-12-01T00:00:00Z"),
        "createdBefore=2026-11-30T23:50:00Z".to_string(),
    ] {
        let answer = api.search(&bad).await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{bad}");
    }
    let (status, answer) = api
        .search(&format!(
            "lastUpdatedAfter={a}&lastUpdatedBefore=2026-11-30T23:40:00Z"
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(ids(&answer), ["503-1000006-0000001"]);
    assert_eq!(answer["lastUpdatedBefore"], "2026-11-30T23:40:00Z");
    let (_, early) = api
        .search(&format!(
            "createdAfter={a}&createdBefore=2026-11-30T23:20:00Z"
        ))
        .await;
    assert!(ids(&early).is_empty());
}

// ---- Orders: pages ----

#[tokio::test]
async fn pages_hold_100_orders_unless_max_results_per_page_asks_for_fewer() {
    let api = Api::default().await;
    for i in 0..150 {
        api.sim.add_order(order(
            &format!("503-1000007-{i:07}"),
            t0() - mins(200) + SignedDuration::from_secs(i),
        ));
    }
    let after = since(t0() - mins(300));
    let (_, first) = api.search(&after).await;
    assert_eq!(ids(&first).len(), 100, "Amazon's default page");
    let token = first["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, rest) = api
        .search(&format!("{after}&paginationToken={token}"))
        .await;
    assert_eq!(ids(&rest).len(), 50);
    assert!(rest.get("pagination").is_none());

    let (_, small) = api.search(&format!("{after}&maxResultsPerPage=40")).await;
    assert_eq!(ids(&small).len(), 40);
    let token = small["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();
    // maxResultsPerPage and includedData may change between pages.
    let (status, next) = api
        .search(&format!(
            "{after}&maxResultsPerPage=100&includedData=FULFILLMENT&paginationToken={token}"
        ))
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(ids(&next).len(), 100);
    assert_eq!(ids(&next)[0], "503-1000007-0000040");

    // A smaller configured page still exercises pagination.
    let small_pages = Api::start(SimConfig {
        page_size: 2,
        ..SimConfig::default()
    })
    .await;
    for i in 0..3 {
        small_pages
            .sim
            .add_order(order(&format!("503-1000007-900000{i}"), t0() - mins(30)));
    }
    let (_, page) = small_pages.search(&after).await;
    assert_eq!(ids(&page).len(), 2);
    assert!(page["pagination"]["nextToken"].is_string());
}

#[tokio::test]
async fn max_results_per_page_outside_1_to_100_is_rejected() {
    let api = Api::default().await;
    let after = since(t0() - mins(60));
    for bad in ["0", "101", "-1", "ten", "1.5", ""] {
        let answer = api
            .search(&format!("{after}&maxResultsPerPage={bad}"))
            .await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{bad:?}");
    }
    for good in ["1", "100"] {
        let (status, _) = api
            .search(&format!("{after}&maxResultsPerPage={good}"))
            .await;
        assert_eq!(status, 200, "{good}");
    }
}

#[tokio::test]
async fn a_pagination_token_serves_only_its_own_search_for_24_hours() {
    let api = Api::start(SimConfig {
        page_size: 1,
        ..SimConfig::default()
    })
    .await;
    for i in 0..3 {
        api.sim
            .add_order(order(&format!("503-1000008-000000{i}"), t0() - mins(30)));
    }
    let after = since(t0() - mins(60));
    let (_, first) = api.search(&after).await;
    let token = first["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();

    let other = api
        .search(&format!(
            "{after}&fulfilledBy=MERCHANT&paginationToken={token}"
        ))
        .await;
    assert_eq!(
        error_code(&other),
        (400, "InvalidInput"),
        "other parameters"
    );
    let forged = api.search(&format!("{after}&paginationToken=page-2")).await;
    assert_eq!(error_code(&forged), (400, "InvalidInput"));
    let (status, _) = api
        .search(&format!("{after}&paginationToken={token}"))
        .await;
    assert_eq!(status, 200);

    api.clock.advance(SignedDuration::from_hours(24));
    let expired = Api::new_token(&api).await;
    let answer = api
        .call_as(
            Some(&expired),
            reqwest::Method::GET,
            &format!("{ORDERS}?{after}&paginationToken={token}"),
            None,
        )
        .await;
    assert_eq!(error_code(&answer), (400, "InvalidInput"), "expired");
}

// ---- Query parameters ----

#[tokio::test]
async fn unknown_or_repeated_query_parameters_are_rejected() {
    let api = Api::default().await;
    let after = since(t0() - mins(60));
    for bad in [
        "lastUpdateAfter=2026-11-30T23:00:00Z".to_string(),
        format!("{after}&MarketplaceIds={MP}"),
        format!("{after}&marketplaceIds={MP}&marketplaceIds={MP}"),
        format!("{after}&nextToken=abc"),
    ] {
        let answer = api.search(&bad).await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{bad}");
    }
    let wrong_marketplace = api
        .search(&format!("{after}&marketplaceIds=ATVPDKIKX0DER"))
        .await;
    assert_eq!(error_code(&wrong_marketplace), (400, "InvalidInput"));
    let (status, _) = api.search(&format!("{after}&marketplaceIds={MP}")).await;
    assert_eq!(status, 200);
    let (status, _) = api.search(&after).await;
    assert_eq!(status, 200, "marketplaceIds is optional in the model");

    api.sim
        .add_order(order("503-1000009-0000001", t0() - mins(30)));
    let answer = api
        .get(&format!("{ORDERS}/503-1000009-0000001?marketplaceIds={MP}"))
        .await;
    assert_eq!(error_code(&answer), (400, "InvalidInput"));
}

// ---- LWA tokens ----

#[tokio::test]
async fn an_access_token_expires_an_hour_after_it_is_issued() {
    let api = Api::default().await;
    let id = "503-1000010-0000001";
    api.sim.add_order(order(id, t0() - mins(30)));
    let path = format!("{ORDERS}/{id}");

    api.clock.advance(SignedDuration::from_secs(3599));
    assert_eq!(api.get(&path).await.0, 200, "valid for 3600 s");
    api.clock.advance(SignedDuration::from_secs(1));
    let (status, body) = api.get(&path).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (403, Some("Unauthorized"))
    );
    assert_eq!(
        body["errors"][0]["details"],
        "The access token you provided has expired."
    );

    let fresh = api.new_token().await;
    let (status, _) = api
        .call_as(Some(&fresh), reqwest::Method::GET, &path, None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_token_never_issued_or_missing_is_refused() {
    let api = Api::default().await;
    let id = "503-1000011-0000001";
    api.sim.add_order(order(id, t0() - mins(30)));
    let path = format!("{ORDERS}/{id}");
    for token in [
        Some("Atza|sim-access-999"),
        Some("Atza|forged"),
        Some(""),
        None,
    ] {
        let answer = api.call_as(token, reqwest::Method::GET, &path, None).await;
        assert_eq!(error_code(&answer), (403, "Unauthorized"), "{token:?}");
        assert_eq!(
            answer.1["errors"][0]["message"],
            "Access to requested resource is denied."
        );
    }
}

// ---- Messaging ----

impl Api {
    async fn post(&self, path_and_query: &str, body: Value) -> (u16, Value) {
        self.call_as(
            Some(&self.token),
            reqwest::Method::POST,
            path_and_query,
            Some(body),
        )
        .await
    }
}

#[tokio::test]
async fn messaging_takes_exactly_one_marketplace() {
    let api = Api::default().await;
    let id = "503-1000012-0000001";
    api.sim.add_order(order(id, t0() - mins(30)));
    let actions = format!("/messaging/v1/orders/{id}");
    let send = format!("/messaging/v1/orders/{id}/messages/unexpectedProblem");
    let two = format!("marketplaceIds={MP},ATVPDKIKX0DER");
    let text = json!({"text": "ご注文の商品の在庫がございません。"});

    assert_eq!(
        error_code(&api.get(&format!("{actions}?{two}")).await),
        (400, "InvalidInput")
    );
    assert_eq!(
        error_code(&api.get(&format!("{actions}/attributes?{two}")).await),
        (400, "InvalidInput")
    );
    assert_eq!(
        error_code(&api.post(&format!("{send}?{two}"), text.clone()).await),
        (400, "InvalidInput")
    );
    assert_eq!(
        error_code(
            &api.get(&format!("{actions}?marketplaceIds={MP},{MP}"))
                .await
        ),
        (400, "InvalidInput")
    );
    assert_eq!(
        error_code(
            &api.get(&format!("{actions}?marketplaceIds={MP}&locale=ja-JP"))
                .await
        ),
        (400, "InvalidInput"),
        "no other parameter"
    );
    assert!(api.sim.delivered().is_empty());

    let (status, body) = api.get(&format!("{actions}?marketplaceIds={MP}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["_links"]["actions"][0]["name"], "unexpectedProblem");
    let (status, _) = api.post(&format!("{send}?marketplaceIds={MP}"), text).await;
    assert_eq!(status, 201);
    assert_eq!(api.sim.delivered().len(), 1);
}

#[tokio::test]
async fn each_missing_role_refuses_exactly_the_operations_that_need_it_with_amazons_403() {
    let id = "503-1000014-0000001";
    let q = format!("marketplaceIds={MP}");
    let orders = format!("{ORDERS}/{id}");
    let search = format!("{ORDERS}?lastUpdatedAfter=2026-11-30T00:00:00Z&{q}");
    let feeds = format!("/feeds/2021-06-30/feeds?feedTypes=POST_ORDER_ACKNOWLEDGEMENT_DATA&{q}");
    let listing = format!("/listings/2021-08-01/items/A2KENZENSELLER/CUP?{q}");
    let subscription = "/notifications/v1/subscriptions/ORDER_CHANGE?payloadVersion=1.0";
    let actions = format!("/messaging/v1/orders/{id}?{q}");
    let paths = [
        orders.as_str(),
        search.as_str(),
        feeds.as_str(),
        listing.as_str(),
        subscription,
        actions.as_str(),
    ];
    for (missing, refused) in [
        (
            Role::InventoryAndOrderTracking,
            [true, true, true, false, true, false],
        ),
        (
            Role::ProductListing,
            [false, false, false, true, false, false],
        ),
        (
            Role::BuyerCommunication,
            [false, false, false, false, false, true],
        ),
    ] {
        let api = Api::start(SimConfig {
            missing_roles: [missing].into(),
            ..SimConfig::default()
        })
        .await;
        api.sim.add_order(order(id, t0() - mins(30)));
        for (path, refused) in paths.iter().zip(refused) {
            let answer = api.get(path).await;
            if refused {
                assert_eq!(
                    error_code(&answer),
                    (403, "Unauthorized"),
                    "{missing:?} {path}: {}",
                    answer.1
                );
                assert_eq!(
                    answer.1["errors"][0]["message"],
                    "Access to requested resource is denied."
                );
            } else {
                assert_ne!(answer.0, 403, "{missing:?} {path}: {}", answer.1);
            }
        }
    }
}

#[tokio::test]
async fn without_the_buyer_communication_role_every_messaging_call_is_403() {
    let api = Api::start(SimConfig {
        missing_roles: [Role::BuyerCommunication].into(),
        ..SimConfig::default()
    })
    .await;
    let id = "503-1000013-0000001";
    api.sim.add_order(order(id, t0() - mins(30)));
    let q = format!("marketplaceIds={MP}");
    for answer in [
        api.get(&format!("/messaging/v1/orders/{id}?{q}")).await,
        api.get(&format!("/messaging/v1/orders/{id}/attributes?{q}"))
            .await,
        api.post(
            &format!("/messaging/v1/orders/{id}/messages/unexpectedProblem?{q}"),
            json!({"text": "在庫切れのご連絡です。"}),
        )
        .await,
    ] {
        assert_eq!(error_code(&answer), (403, "Unauthorized"), "{}", answer.1);
    }
    assert!(api.sim.delivered().is_empty());
    // Orders are another role: still served.
    assert_eq!(api.get(&format!("{ORDERS}/{id}")).await.0, 200);
}

#[tokio::test]
async fn an_order_closed_to_messaging_lists_no_action_and_is_not_unauthorized() {
    let api = Api::default().await;
    let id = "503-1000014-0000001";
    let mut o = order(id, t0() - mins(30));
    o.messaging_available = false;
    api.sim.add_order(o);
    let q = format!("marketplaceIds={MP}");
    let (status, body) = api.get(&format!("/messaging/v1/orders/{id}?{q}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["_links"]["actions"], json!([]));
    let answer = api
        .post(
            &format!("/messaging/v1/orders/{id}/messages/unexpectedProblem?{q}"),
            json!({"text": "在庫切れのご連絡です。"}),
        )
        .await;
    assert_eq!(error_code(&answer), (403, "Unauthorized"));
    assert_eq!(
        answer.1["errors"][0]["message"],
        "Invalid amazonOrderId and template combination."
    );
}

// ---- Listings ----

impl Api {
    async fn patch(&self, path_and_query: &str, body: Value) -> (u16, Value) {
        self.call_as(
            Some(&self.token),
            reqwest::Method::PATCH,
            path_and_query,
            Some(body),
        )
        .await
    }

    /// patchListingsItem for `sku` with `body`.
    async fn patch_listing(&self, sku: &str, body: Value) -> (u16, Value) {
        // Patches are 5 a second, burst 5: leave the bucket a second to refill.
        self.clock.advance(SignedDuration::from_secs(1));
        let seller = &self.sim.config.seller_id;
        self.patch(
            &format!("/listings/2021-08-01/items/{seller}/{sku}?marketplaceIds={MP}"),
            body,
        )
        .await
    }
}

fn quantity_patch(product_type: &str, op: &str, value: Value) -> Value {
    json!({
        "productType": product_type,
        "patches": [{"op": op, "path": "/attributes/fulfillment_availability", "value": [value]}]
    })
}

#[tokio::test]
async fn a_patch_with_another_product_type_than_the_offers_is_invalid() {
    let mut config = SimConfig::default();
    config
        .product_types
        .insert("TEAPOT".into(), "KITCHEN".into());
    let api = Api::start(config).await;
    let zero = json!({"fulfillment_channel_code": "DEFAULT", "quantity": 0});

    let (status, body) = api
        .patch_listing("CUP", quantity_patch("SHOES", "merge", zero.clone()))
        .await;
    assert_eq!(
        status, 200,
        "a well-formed submission: 200 with status INVALID"
    );
    assert_eq!(body["status"], "INVALID");
    assert_eq!(body["issues"][0]["severity"], "ERROR");
    assert_eq!(body["issues"][0]["code"], "4000003");
    assert_eq!(api.sim.offer_quantity("CUP"), None, "nothing changed");

    let (_, body) = api
        .patch_listing("TEAPOT", quantity_patch("HOME", "merge", zero.clone()))
        .await;
    assert_eq!(body["status"], "INVALID", "TEAPOT is KITCHEN");

    let (_, body) = api
        .patch_listing("CUP", quantity_patch("HOME", "merge", zero.clone()))
        .await;
    assert_eq!(body["status"], "ACCEPTED", "{body}");
    let (_, body) = api
        .patch_listing("TEAPOT", quantity_patch("KITCHEN", "merge", zero.clone()))
        .await;
    assert_eq!(body["status"], "ACCEPTED", "{body}");
    let (_, body) = api
        .patch_listing("TEAPOT", quantity_patch("PRODUCT", "merge", zero))
        .await;
    assert_eq!(
        body["status"], "ACCEPTED",
        "Amazon's generic type for offer data"
    );
    assert_eq!(api.sim.offer_quantity("TEAPOT"), Some(0));
}

#[tokio::test]
async fn a_patch_op_outside_the_model_or_a_malformed_patch_is_rejected() {
    let api = Api::default().await;
    let five = json!({"fulfillment_channel_code": "DEFAULT", "quantity": 5});
    for op in ["set", "remove", "update", "Replace"] {
        let answer = api
            .patch_listing("CUP", quantity_patch("HOME", op, five.clone()))
            .await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{op}");
    }
    for body in [
        json!({"patches": [{"op": "merge", "path": "/attributes/fulfillment_availability", "value": [five]}]}),
        json!({"productType": "HOME", "patches": []}),
        json!({"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability"}]}),
        json!({"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability/0/quantity", "value": [five]}]}),
        json!({"productType": "HOME", "patches": [{"op": "replace", "path": "fulfillment_availability", "value": [five]}]}),
        json!({"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": 5}]}),
    ] {
        let answer = api.patch_listing("CUP", body.clone()).await;
        assert_eq!(error_code(&answer), (400, "InvalidInput"), "{body}");
    }
    let answer = api
        .patch(
            &format!(
                "/listings/2021-08-01/items/{}/CUP?marketplaceIds={MP}&mode=DRY_RUN",
                api.sim.config.seller_id
            ),
            quantity_patch("HOME", "merge", five.clone()),
        )
        .await;
    assert_eq!(error_code(&answer), (400, "InvalidInput"));
    assert_eq!(api.sim.offer_quantity("CUP"), None, "nothing changed");

    let (_, body) = api
        .patch_listing(
            "CUP",
            quantity_patch("HOME", "merge", json!({"quantity": 5})),
        )
        .await;
    assert_eq!(body["status"], "INVALID", "no channel code: {body}");
    let (_, body) = api
        .patch_listing(
            "CUP",
            quantity_patch(
                "HOME",
                "merge",
                json!({"fulfillment_channel_code": "DEFAULT", "quantity": -1}),
            ),
        )
        .await;
    assert_eq!(body["status"], "INVALID", "{body}");
    assert_eq!(api.sim.offer_quantity("CUP"), None, "nothing changed");
}

#[tokio::test]
async fn replace_drops_the_handling_time_and_merge_keeps_it() {
    let api = Api::default().await;
    assert_eq!(
        api.sim.offer_fulfillment("CUP"),
        Some(json!({"fulfillment_channel_code": "DEFAULT", "lead_time_to_ship_max_days": 2})),
        "as the seller set it up"
    );

    let (_, body) = api
        .patch_listing(
            "CUP",
            quantity_patch(
                "HOME",
                "merge",
                json!({"fulfillment_channel_code": "DEFAULT", "quantity": 5}),
            ),
        )
        .await;
    assert_eq!(body["status"], "ACCEPTED", "{body}");
    assert_eq!(
        api.sim.offer_fulfillment("CUP"),
        Some(json!({"fulfillment_channel_code": "DEFAULT", "quantity": 5,
                    "lead_time_to_ship_max_days": 2}))
    );

    // What kenzen sends to stop a stocked-out SKU selling.
    let (_, body) = api
        .patch_listing(
            "CUP",
            quantity_patch(
                "PRODUCT",
                "replace",
                json!({"fulfillment_channel_code": "DEFAULT", "quantity": 0}),
            ),
        )
        .await;
    assert_eq!(body["status"], "ACCEPTED", "{body}");
    assert_eq!(api.sim.offer_quantity("CUP"), Some(0));
    assert_eq!(
        api.sim.offer_fulfillment("CUP"),
        Some(json!({"fulfillment_channel_code": "DEFAULT", "quantity": 0})),
        "the handling time is gone"
    );

    let (_, body) = api
        .patch_listing(
            "CUP",
            quantity_patch(
                "HOME",
                "replace",
                json!({"fulfillment_channel_code": "DEFAULT", "quantity": 3,
                       "lead_time_to_ship_max_days": 4, "restock_date": "2026-12-20"}),
            ),
        )
        .await;
    assert_eq!(body["status"], "ACCEPTED", "{body}");
    let (_, body) = api
        .patch_listing(
            "CUP",
            quantity_patch(
                "HOME",
                "merge",
                json!({"fulfillment_channel_code": "DEFAULT", "quantity": 1,
                       "restock_date": null}),
            ),
        )
        .await;
    assert_eq!(body["status"], "ACCEPTED", "{body}");
    assert_eq!(
        api.sim.offer_fulfillment("CUP"),
        Some(json!({"fulfillment_channel_code": "DEFAULT", "quantity": 1,
                    "lead_time_to_ship_max_days": 4})),
        "merge keeps what it does not name, and null removes"
    );

    // A validation preview checks without changing the offer.
    let (status, body) = api
        .patch(
            &format!(
                "/listings/2021-08-01/items/{}/CUP?marketplaceIds={MP}&mode=VALIDATION_PREVIEW",
                api.sim.config.seller_id
            ),
            quantity_patch(
                "HOME",
                "replace",
                json!({"fulfillment_channel_code": "DEFAULT", "quantity": 9}),
            ),
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("VALID")));
    assert_eq!(api.sim.offer_quantity("CUP"), Some(1));
}

/// getListingsItem of `sku` with `query` after the marketplace (e.g. `&includedData=…`).
async fn get_listing(api: &Api, sku: &str, query: &str) -> (u16, Value) {
    let seller = &api.sim.config.seller_id;
    api.get(&format!(
        "/listings/2021-08-01/items/{seller}/{sku}?marketplaceIds={MP}{query}"
    ))
    .await
}

#[tokio::test]
async fn get_listings_item_gives_each_listings_product_type_in_its_summary() {
    let mut config = SimConfig::default();
    config
        .product_types
        .insert("TEAPOT".into(), "KITCHEN".into());
    let api = Api::start(config).await;
    api.sim
        .add_order(order("503-6000000-0000001", t0() - mins(60)));

    let (status, body) = get_listing(&api, "CUP", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sku"], "CUP");
    let s = &body["summaries"][0];
    assert_eq!(s["marketplaceId"], MP);
    assert_eq!(s["productType"], "HOME", "the default product type");
    assert_eq!(s["asin"], "B0TEST0001");
    assert_eq!(s["itemName"], "有田焼 湯呑み");
    assert_eq!(s["conditionType"], "new_new");
    assert_eq!(s["status"], json!(["BUYABLE", "DISCOVERABLE"]));
    assert_eq!(
        s["createdDate"], "2026-10-31T23:00:00Z",
        "30 days before its order"
    );
    assert_eq!(s["lastUpdatedDate"], s["createdDate"]);
    assert!(
        body.get("attributes").is_none(),
        "summaries only by default"
    );

    let (status, body) = get_listing(&api, "TEAPOT", "&includedData=summaries").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["summaries"][0]["productType"], "KITCHEN");

    // A SKU is a path segment, percent-encoded like any.
    let answer = get_listing(&api, "NO%2FSUCH%20SKU", "").await;
    assert_eq!(error_code(&answer), (404, "NOT_FOUND"));
    let message = answer.1["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("NO/SUCH SKU"), "{message}");
}

#[tokio::test]
async fn get_listings_item_takes_its_parameters_as_the_model_says() {
    let api = Api::default().await;
    api.sim
        .add_order(order("503-6000000-0000002", t0() - mins(60)));
    let seller = api.sim.config.seller_id.clone();
    for path in [
        format!("/listings/2021-08-01/items/{seller}/CUP"),
        format!("/listings/2021-08-01/items/{seller}/CUP?marketplaceIds=ATVPDKIKX0DER"),
        format!("/listings/2021-08-01/items/OTHERSELLER/CUP?marketplaceIds={MP}"),
        format!("/listings/2021-08-01/items/{seller}/CUP?marketplaceIds={MP}&mode=x"),
        format!(
            "/listings/2021-08-01/items/{seller}/CUP?marketplaceIds={MP}&includedData=everything"
        ),
        format!("/listings/2021-08-01/items/{seller}/CUP?marketplaceIds={MP}&includedData=offers"),
        format!("/listings/2021-08-01/items/{seller}/CUP?marketplaceIds={MP}&marketplaceIds={MP}"),
    ] {
        let answer = api.get(&path).await;
        assert_eq!(
            error_code(&answer),
            (400, "InvalidInput"),
            "{path}: {:?}",
            answer.1
        );
    }
    let (status, _) = get_listing(&api, "CUP", "&issueLocale=ja_JP&includedData=issues").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_merge_patch_shows_in_get_listings_item_with_the_handling_time_kept() {
    let api = Api::default().await;
    api.sim
        .add_order(order("503-6000000-0000003", t0() - mins(60)));
    let (_, body) = api
        .patch_listing(
            "CUP",
            quantity_patch(
                "HOME",
                "merge",
                json!({"fulfillment_channel_code": "DEFAULT", "quantity": 0}),
            ),
        )
        .await;
    assert_eq!(body["status"], "ACCEPTED", "{body}");
    let patched_at = api.clock.now();
    let (status, body) = get_listing(
        &api,
        "CUP",
        "&includedData=summaries,attributes,fulfillmentAvailability,issues",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let s = &body["summaries"][0];
    assert_eq!(s["status"], json!(["DISCOVERABLE"]), "no longer buyable");
    assert_eq!(
        s["lastUpdatedDate"],
        patched_at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert_eq!(
        body["attributes"]["fulfillment_availability"][0],
        json!({"fulfillment_channel_code": "DEFAULT", "quantity": 0,
               "lead_time_to_ship_max_days": 2, "marketplace_id": MP})
    );
    assert_eq!(
        body["fulfillmentAvailability"],
        json!([{"fulfillmentChannelCode": "DEFAULT", "quantity": 0}])
    );
    assert_eq!(body["issues"], json!([]));
}

// ---- One seller account, several marketplaces (e.g. the EU unified account) ----

const DE: &str = "A1PA6795UKMFR9";
const FR: &str = "A13V1IB3VIYZZH";
const UK: &str = "A1F83G8C2ARO7P";
const IT: &str = "APJ6JRA9NG5V4";

/// A seller at home on amazon.de who also sells on amazon.fr and amazon.co.uk.
async fn eu_seller() -> Api {
    Api::start(SimConfig {
        marketplace_id: DE.into(),
        other_marketplaces: vec![FR.into(), UK.into()],
        time_zone: "Europe/Berlin".into(),
        ..SimConfig::default()
    })
    .await
}

fn order_in(id: &str, marketplace: &str, placed: Timestamp) -> SimOrder {
    let mut o = order(id, placed);
    o.marketplace_id = Some(marketplace.into());
    o.items[0].unit_price = "12.50".into();
    o
}

#[tokio::test]
async fn a_search_finds_the_orders_of_the_marketplaces_it_names_each_in_its_own_currency() {
    let api = eu_seller().await;
    let placed = t0() - mins(30);
    api.sim
        .add_order(order_in("302-1000001-0000001", DE, placed));
    api.sim
        .add_order(order_in("171-1000001-0000002", FR, placed));
    api.sim
        .add_order(order_in("202-1000001-0000003", UK, placed));
    let after = since(t0() - mins(60));

    let (status, body) = api
        .search(&format!(
            "{after}&marketplaceIds={DE},{FR},{UK}&includedData=FULFILLMENT"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body).len(), 3);
    for o in body["orders"].as_array().unwrap() {
        let (marketplace, currency, name) = match o["orderId"].as_str().unwrap() {
            "302-1000001-0000001" => (DE, "EUR", "Amazon.de"),
            "171-1000001-0000002" => (FR, "EUR", "Amazon.fr"),
            _ => (UK, "GBP", "Amazon.co.uk"),
        };
        assert_eq!(o["salesChannel"]["marketplaceId"], marketplace);
        assert_eq!(o["salesChannel"]["marketplaceName"], name);
        assert_eq!(
            o["orderItems"][0]["product"]["price"]["unitPrice"]["currencyCode"],
            currency
        );
    }
    let (_, body) = api.search(&format!("{after}&marketplaceIds={FR}")).await;
    assert_eq!(
        ids(&body),
        vec!["171-1000001-0000002"],
        "only the marketplace named"
    );
    // A marketplace the seller does not sell in is refused, even beside its own.
    for q in [
        format!("marketplaceIds={IT}"),
        format!("marketplaceIds={DE},{IT}"),
    ] {
        assert_eq!(
            error_code(&api.search(&format!("{after}&{q}")).await),
            (400, "InvalidInput"),
            "{q}"
        );
    }
}

#[tokio::test]
async fn messaging_must_name_the_marketplace_the_order_was_placed_in() {
    let api = eu_seller().await;
    let id = "171-1000002-0000001";
    api.sim.add_order(order_in(id, FR, t0() - mins(30)));
    let actions = format!("/messaging/v1/orders/{id}");
    let send = format!("/messaging/v1/orders/{id}/messages/unexpectedProblem");
    let text = json!({"text": "The item you ordered is out of stock."});
    // The seller's home marketplace, another of its marketplaces, one it does not sell in.
    for other in [DE, UK, IT] {
        let q = format!("marketplaceIds={other}");
        for answer in [
            api.get(&format!("{actions}?{q}")).await,
            api.get(&format!("{actions}/attributes?{q}")).await,
            api.post(&format!("{send}?{q}"), text.clone()).await,
        ] {
            assert_eq!(
                error_code(&answer),
                (400, "InvalidInput"),
                "{other}: {}",
                answer.1
            );
        }
    }
    assert!(api.sim.delivered().is_empty());

    let q = format!("marketplaceIds={FR}");
    let (status, body) = api.get(&format!("{actions}?{q}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["_links"]["actions"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with(&q),
        "{body}"
    );
    assert_eq!(api.post(&format!("{send}?{q}"), text).await.0, 201);
    assert_eq!(api.sim.delivered().len(), 1);
}

#[tokio::test]
async fn a_listing_patch_changes_the_offer_of_the_marketplace_it_names_only() {
    let api = eu_seller().await;
    api.sim
        .add_order(order_in("202-1000003-0000001", UK, t0() - mins(30)));
    let seller = api.sim.config.seller_id.clone();
    let body = quantity_patch(
        "HOME",
        "merge",
        json!({"fulfillment_channel_code": "DEFAULT", "quantity": 0}),
    );
    let path = |m: &str| format!("/listings/2021-08-01/items/{seller}/CUP?marketplaceIds={m}");
    assert_eq!(
        api.patch(&path(IT), body.clone()).await.0,
        400,
        "not a marketplace of the seller"
    );
    let (status, answer) = api.patch(&path(UK), body).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("ACCEPTED")),
        "{answer}"
    );
    assert_eq!(api.sim.offer_quantity_in(UK, "CUP"), Some(0));
    assert_eq!(
        api.sim.offer_quantity_in(DE, "CUP"),
        None,
        "the German offer is untouched"
    );
    // The listing is read in the marketplace asked about.
    let (status, listing) = api
        .get(&format!(
            "/listings/2021-08-01/items/{seller}/CUP?marketplaceIds={UK}"
        ))
        .await;
    assert_eq!(status, 200, "{listing}");
    assert_eq!(listing["summaries"][0]["marketplaceId"], UK);
}
