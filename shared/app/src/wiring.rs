//! Builds the deployed service once per container: configuration from the environment, AWS
//! clients from the standard AWS configuration chain (which honours `AWS_ENDPOINT_URL`), and
//! JSON logs for CloudWatch.

use crate::adapters::dynamo::{DynamoRates, DynamoStore};
use crate::adapters::eventbus::EventBridgePublisher;
use crate::adapters::spapi::{SpApiClient, SpApiError};
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::service::Service;

/// The service as deployed: SP-API over HTTP, DynamoDB, EventBridge.
pub type AppService = Service<SpApiClient, DynamoStore, EventBridgePublisher>;

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot build the SP-API client: {0}")]
    Client(#[from] SpApiError),
    /// The LWA secret is missing, unreadable or still empty (never shows its contents).
    #[error("{0}")]
    Secret(String),
}

/// JSON logs, level from `RUST_LOG` (default info), no ANSI colours, no timestamps (Lambda adds
/// them).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .with_current_span(false)
        .init();
}

/// Builds the service from `config` with AWS clients from `aws`.
pub fn build(
    config: Config,
    aws: &aws_config::SdkConfig,
    clock: Clock,
) -> Result<AppService, WiringError> {
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    // SP-API quotas are the seller's and application's, not a container's: every container of
    // every function draws on one budget kept on the table.
    let market = SpApiClient::new(config.spapi, clock.clone())?.with_shared_rates(
        std::sync::Arc::new(DynamoRates::new(dynamo.clone(), config.table.clone())),
    );
    Ok(Service::new(
        market,
        DynamoStore::new(dynamo, config.table),
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(aws), config.event_bus),
        config.settings,
        clock,
    )
    .with_initial_lookback(config.initial_lookback)
    .with_reply_sweep(crate::service::REPLY_SWEEP_LIMIT, config.reply_sweep_every))
}

/// The LWA credentials as kept in Secrets Manager: `{"client_id", "client_secret",
/// "refresh_token"}`.
#[derive(serde::Deserialize)]
struct LwaSecret {
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

/// Reads the LWA credentials from secret `id` and returns them as the `KENZEN_LWA_*` settings.
/// Errors name the secret and what is wrong, never its contents.
pub async fn lwa_from_secret(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> Result<Vec<(&'static str, String)>, WiringError> {
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            WiringError::Secret(format!(
                "reading secret {id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            ))
        })?;
    let text = out
        .secret_string()
        .ok_or_else(|| WiringError::Secret(format!("secret {id} has no string value")))?;
    lwa_from_secret_text(id, text)
}

/// The LWA credentials in the text of secret `id` (JSON with `client_id`, `client_secret` and
/// `refresh_token`, none empty), as the `KENZEN_LWA_*` settings. Errors name the secret and what
/// is wrong, never its contents.
pub fn lwa_from_secret_text(
    id: &str,
    text: &str,
) -> Result<Vec<(&'static str, String)>, WiringError> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return Err(WiringError::Secret(format!(
            "secret {id} is not JSON with client_id, client_secret and refresh_token"
        )));
    };
    // Which keys are missing or empty (named; values are never shown).
    let lacking: Vec<&str> = ["client_id", "client_secret", "refresh_token"]
        .into_iter()
        .filter(|k| {
            fields
                .get(*k)
                .and_then(serde_json::Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
        })
        .collect();
    if !lacking.is_empty() {
        return Err(WiringError::Secret(format!(
            "secret {id} still has empty values for {}: put your LWA credentials into it",
            lacking.join(", ")
        )));
    }
    let s: LwaSecret = serde_json::from_value(serde_json::Value::Object(fields)).map_err(|_| {
        WiringError::Secret(format!(
            "secret {id} is not JSON with client_id, client_secret and refresh_token"
        ))
    })?;
    Ok(vec![
        ("KENZEN_LWA_CLIENT_ID", s.client_id),
        ("KENZEN_LWA_CLIENT_SECRET", s.client_secret),
        ("KENZEN_LWA_REFRESH_TOKEN", s.refresh_token),
    ])
}

/// The process environment, with the LWA credentials taken from the secret named by
/// `KENZEN_LWA_SECRET_ID` when it is set (read once, here).
pub async fn env_with_secret(
    aws: &aws_config::SdkConfig,
) -> Result<impl Fn(&str) -> Option<String> + use<>, WiringError> {
    let from_secret = match std::env::var("KENZEN_LWA_SECRET_ID") {
        Ok(id) if !id.is_empty() => {
            lwa_from_secret(&aws_sdk_secretsmanager::Client::new(aws), &id).await?
        }
        _ => Vec::new(),
    };
    Ok(move |k: &str| {
        from_secret
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(k).ok())
    })
}

/// The whole start-up of a function: AWS config, the LWA credentials from the secret named by
/// `KENZEN_LWA_SECRET_ID` (read once per container), config (failing fast), service.
pub async fn from_env() -> Result<AppService, WiringError> {
    let aws = aws_config::load_from_env().await;
    let lookup = env_with_secret(&aws).await?;
    let config = Config::from_lookup(lookup)?;
    build(config, &aws, Clock::System)
}

/// The invocation's deadline (Lambda's `deadline` in Unix milliseconds) on the service's clock;
/// `None` when the runtime gives none.
pub fn deadline(deadline_ms: u64) -> Option<jiff::Timestamp> {
    i64::try_from(deadline_ms)
        .ok()
        .filter(|ms| *ms > 0)
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
}
