//! Faults on either side of processing, in time windows, and on the LWA token endpoint: a call
//! failed before processing changed nothing; one whose answer was lost after processing did
//! happen, and the log says so.

mod common;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kenzen_clock::VirtualClock;
use kenzen_sim::{Buyer, FaultRate, FaultSide, ServerHandle, Sim, SimConfig, SimItem, SimOrder};
use serde_json::{Value, json};

const ORDER: &str = "503-7000000-0000001";

fn t0() -> Timestamp {
    "2026-12-01T01:00:00Z".parse().unwrap()
}

struct Api {
    sim: Arc<Sim>,
    clock: Arc<VirtualClock>,
    base: String,
    http: reqwest::Client,
    _server: ServerHandle,
}

impl Api {
    async fn start(fault_rates: Vec<FaultRate>) -> Api {
        let clock = VirtualClock::new(t0());
        let config = SimConfig {
            fault_rates,
            ..SimConfig::default()
        };
        let sim = Sim::new(config, clock.clone());
        let (addr, server) = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        sim.add_order(SimOrder::new(
            ORDER,
            t0() - SignedDuration::from_hours(1),
            t0() + SignedDuration::from_hours(48),
            vec![SimItem {
                order_item_id: "10000000000001".into(),
                sku: "CUP".into(),
                asin: "B0CUP00001".into(),
                title: "Cup".into(),
                quantity: 1,
                unit_price: "1980".into(),
            }],
            Buyer::Silent,
            "ja-JP",
        ));
        Api {
            sim,
            clock,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            _server: server,
        }
    }

    async fn token(&self) -> (u16, Value) {
        common::lwa_token(&self.http, &self.base, &self.sim.config).await
    }

    async fn send_message(&self, token: &str) -> u16 {
        self.http
            .post(format!(
                "{}/messaging/v1/orders/{ORDER}/messages/unexpectedProblem?marketplaceIds={}",
                self.base, self.sim.config.marketplace_id
            ))
            .header("x-amz-access-token", token)
            .json(&json!({"text": "テスト"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn rule(op: &str, side: FaultSide, from: Option<Timestamp>, until: Option<Timestamp>) -> FaultRate {
    FaultRate {
        op: op.into(),
        share: 1.0,
        status: 500,
        side,
        from,
        until,
    }
}

#[tokio::test]
async fn a_fault_before_processing_changes_nothing_and_one_after_it_loses_only_the_answer() {
    let api = Api::start(vec![rule(
        "createUnexpectedProblem",
        FaultSide::Before,
        None,
        Some(t0() + SignedDuration::from_mins(10)),
    )])
    .await;
    let token = api.token().await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.send_message(&token).await, 500);
    assert!(api.sim.delivered().is_empty(), "nothing reached the buyer");

    let api = Api::start(vec![rule(
        "createUnexpectedProblem",
        FaultSide::After,
        None,
        None,
    )])
    .await;
    let token = api.token().await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.send_message(&token).await, 500);
    assert_eq!(
        api.sim.delivered().len(),
        1,
        "the buyer got it all the same"
    );
    let line = api
        .sim
        .log()
        .into_iter()
        .find(|l| l["operation"] == "createUnexpectedProblem")
        .unwrap();
    assert_eq!(line["status"], 500);
    assert_eq!(
        line["processed_status"], 201,
        "the log says it was processed"
    );
}

#[tokio::test]
async fn a_fault_window_strikes_only_inside_it() {
    let from = t0() + SignedDuration::from_mins(10);
    let until = t0() + SignedDuration::from_mins(20);
    let api = Api::start(vec![rule(
        "createUnexpectedProblem",
        FaultSide::Before,
        Some(from),
        Some(until),
    )])
    .await;
    let token = api.token().await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.send_message(&token).await, 201, "before the window");
    api.clock.set(from);
    assert_eq!(api.send_message(&token).await, 500, "inside");
    api.clock.set(until);
    assert_eq!(
        api.send_message(&token).await,
        201,
        "after: `until` is not in it"
    );
}

#[tokio::test]
async fn the_token_endpoint_fails_only_when_a_rule_names_it() {
    let api = Api::start(vec![rule("*", FaultSide::Before, None, None)]).await;
    assert_eq!(api.token().await.0, 200, "\"*\" is the SP-API, not LWA");
    let api = Api::start(vec![FaultRate {
        status: 503,
        ..rule("lwaToken", FaultSide::Before, None, None)
    }])
    .await;
    assert_eq!(api.token().await.0, 503);
}
