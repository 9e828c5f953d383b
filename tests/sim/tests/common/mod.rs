//! What the simulator's fidelity tests share: a seller access token from the simulator's LWA
//! endpoint. (Each test file uses what it needs of it.)
#![allow(dead_code)]

use kenzen_sim::SimConfig;
use serde_json::Value;

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
