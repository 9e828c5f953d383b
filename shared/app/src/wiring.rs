//! Builds the deployed service once per container: configuration from the environment, AWS
//! clients from the standard AWS configuration chain (which honours `AWS_ENDPOINT_URL`), and
//! JSON logs for CloudWatch.

use crate::clock::Clock;
use crate::config::Config;
use crate::dynamo::DynamoStore;
use crate::eventbus::EventBridgePublisher;
use crate::spapi::SpApiClient;
use crate::{AppService, Service};

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
) -> Result<AppService, String> {
    let market = SpApiClient::new(config.spapi, clock.clone()).map_err(|e| e.to_string())?;
    Ok(Service {
        market,
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), config.table),
        events: EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(aws), config.event_bus),
        settings: config.settings,
        clock,
        initial_lookback: config.initial_lookback,
    })
}

/// The whole start-up of a function: logs, config (failing fast), AWS config, service.
pub async fn from_env() -> Result<AppService, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let aws = aws_config::load_from_env().await;
    build(config, &aws, Clock::System)
}
