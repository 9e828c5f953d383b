//! One-shot setup: makes the SP-API deliver ORDER_CHANGE notifications to kenzen's SQS queue.
//!
//!   kenzen-subscribe QUEUE_ARN
//!
//! Reads the same environment as the functions (KENZEN_MARKETPLACE_ID, KENZEN_SELLER_ID, the LWA
//! credentials from KENZEN_LWA_SECRET_ID or KENZEN_LWA_*, optional KENZEN_SPAPI_ENDPOINT and
//! KENZEN_LWA_ENDPOINT). Creates the SQS destination (grantless) and the subscription, treating
//! "already there" (409) as success, and prints what it did. Safe to run again.

use std::process::ExitCode;

use kenzen_app::adapters::spapi::SpApiClient;
use kenzen_app::clock::Clock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    const USAGE: &str =
        "usage: kenzen-subscribe QUEUE_ARN   (the stack output NotificationQueueArn)";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let queue_arn = match args.as_slice() {
        [a] if a == "-h" || a == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [a] if a.starts_with("arn:") => a.clone(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&queue_arn).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kenzen-subscribe: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(queue_arn: &str) -> Result<(), String> {
    let aws = aws_config::load_from_env().await;
    let lookup = kenzen_app::wiring::env_with_secret(&aws)
        .await
        .map_err(|e| e.to_string())?;
    let cfg = kenzen_app::config::spapi_from_lookup(lookup).map_err(|e| e.to_string())?;
    let client = SpApiClient::new(cfg, Clock::System).map_err(|e| e.to_string())?;
    let r = client
        .subscribe_order_change(queue_arn)
        .await
        .map_err(|e| e.to_string())?;
    let said = |created: bool| if created { "created" } else { "already there" };
    println!(
        "destination {} for {queue_arn}: {}",
        r.destination_id,
        said(r.destination_created)
    );
    println!(
        "ORDER_CHANGE subscription {}: {}",
        r.subscription_id,
        said(r.subscription_created)
    );
    Ok(())
}
