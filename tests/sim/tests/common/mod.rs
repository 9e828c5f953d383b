//! What the simulator's fidelity tests share: a seller access token from the simulator's LWA
//! endpoint, and a simulator on a free port with a client for it. (Each test file uses what it
//! needs of it, and adds its own calls to [`Env`].)
#![allow(dead_code)]

use std::sync::Arc;

use jiff::Timestamp;
use kenzen_clock::VirtualClock;
use kenzen_sim::{ServerHandle, Sim, SimConfig};
use serde_json::Value;

/// A simulator serving on a free port on a virtual clock, and a seller token for it.
pub struct Env {
    pub sim: Arc<Sim>,
    pub clock: Arc<VirtualClock>,
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    _server: ServerHandle,
}

/// A simulator with `config` whose clock starts at `t0`, serving; `prepare` runs before the
/// token is asked for (to add orders, say).
pub async fn start(config: SimConfig, t0: Timestamp, prepare: impl FnOnce(&Sim)) -> Env {
    let clock = VirtualClock::new(t0);
    let sim = Sim::new(config, clock.clone());
    let (addr, server) = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    prepare(&sim);
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let token = access_token(&http, &base, &sim.config).await;
    Env {
        sim,
        clock,
        http,
        base,
        token,
        _server: server,
    }
}

impl Env {
    /// One SP-API call with `body` sent as JSON: the status and the body (JSON, or the raw
    /// text when it is not JSON).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-amz-access-token", &self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Asks the LWA endpoint at `base` for an access token with `c`'s credentials: the answer's
/// status and body (`Null` when it is not JSON).
pub async fn lwa_token(http: &reqwest::Client, base: &str, c: &SimConfig) -> (u16, Value) {
    let resp = http
        .post(format!("{base}/auth/o2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", c.refresh_token.as_str()),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The access token, for tests that need one to work (an hour's token, as Amazon's).
pub async fn access_token(http: &reqwest::Client, base: &str, c: &SimConfig) -> String {
    let (status, body) = lwa_token(http, base, c).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 3600);
    body["access_token"].as_str().unwrap().to_string()
}
