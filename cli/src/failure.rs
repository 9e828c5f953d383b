//! Failures as one clear line: what failed, why in the service's own words, and what to do.
//! AWS SDK errors are mapped by kind (a timeout or a failed dispatch is "could not reach", a
//! service error is its code and message); the SDK's debug text is never shown. Store and bus
//! errors from the adapters are read through their error chain the same way.

use std::error::Error;

use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata, ProvideErrorMetadata, SdkError};
use kenzen_app::adapters::spapi::SpApiError;
use kenzen_app::ports::{PublishError, StoreError};

/// Why an AWS call failed, for a person: `service` names the AWS service.
pub fn sdk_failure<E, R>(service: &str, e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                _ => format!("{service} refused the request ({err})"),
            }
        }
        SdkError::TimeoutError(_) => unreachable_text(service, "no answer in time"),
        SdkError::DispatchFailure(d) => match d.as_connector_error() {
            Some(c) => connector_failure(service, c),
            None => unreachable_text(service, "the request could not be sent"),
        },
        SdkError::ResponseError(_) => format!("{service} gave an answer that cannot be read"),
        // Before anything was sent: usually no credentials or no region.
        _ => format!(
            "the request to {service} could not be made: {}; check the AWS credentials and \
             region (AWS_PROFILE, AWS_REGION)",
            chain_after_first(e)
        ),
    }
}

fn unreachable_text(service: &str, why: &str) -> String {
    format!(
        "could not reach {service} ({why}); check the network, the region and any AWS_ENDPOINT_URL"
    )
}

/// A request that was not answered: a timeout or a failed connection is "could not reach";
/// anything else failed before sending (in practice: no credentials could be found).
fn connector_failure(service: &str, c: &ConnectorError) -> String {
    // The innermost cause says it best ("Connection refused", "dns error", "no providers in
    // chain provided credentials").
    let mut last = None;
    let mut source = c.source();
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    let cause = last.map(|l| format!(": {l}")).unwrap_or_default();
    if c.is_timeout() {
        unreachable_text(service, &format!("timed out{cause}"))
    } else if c.is_io() {
        unreachable_text(service, &format!("connection failed{cause}"))
    } else {
        format!(
            "the request to {service} could not be sent{cause}; check the AWS credentials \
             (--profile or AWS_PROFILE, or AWS_ACCESS_KEY_ID) and region"
        )
    }
}

/// The Display texts of `e`'s causes, after its own.
fn chain_after_first(e: &dyn Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !parts.contains(&t) {
            parts.push(t);
        }
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// Why an AWS call failed, read from an adapter's type-erased error chain (the SDK error is in
/// it): the same wording as [`sdk_failure`].
pub fn chain_failure(service: &str, e: &(dyn Error + 'static)) -> String {
    let mut chain: Vec<&(dyn Error + 'static)> = Vec::new();
    let mut cur = Some(e);
    while let Some(c) = cur {
        chain.push(c);
        cur = c.source();
    }
    if let Some(c) = chain
        .iter()
        .find_map(|c| c.downcast_ref::<ConnectorError>())
    {
        return connector_failure(service, c);
    }
    let top = chain.first().map(|c| c.to_string()).unwrap_or_default();
    match top.as_str() {
        "request has timed out" => unreachable_text(service, "no answer in time"),
        "dispatch failure" => unreachable_text(service, "the request could not be sent"),
        "response error" => format!("{service} gave an answer that cannot be read"),
        "service error" => {
            if let Some(m) = chain.iter().find_map(|c| c.downcast_ref::<ErrorMetadata>()) {
                return match (m.code(), m.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_string(),
                    _ => format!("{service} refused the request"),
                };
            }
            // A modelled error shows as "Code: message".
            chain
                .get(1)
                .map(|c| c.to_string())
                .unwrap_or_else(|| format!("{service} refused the request"))
        }
        "failed to construct request" => format!(
            "the request to {service} could not be made: {}; check the AWS credentials and \
             region (AWS_PROFILE, AWS_REGION)",
            chain_after_first(e)
        ),
        other => other.to_string(),
    }
}

/// A store error as one line, naming the table.
pub fn store_failure(table: &str, e: &StoreError) -> String {
    match e {
        StoreError::Db { op, source, .. } => {
            format!(
                "{op} on table {table}: {}",
                chain_failure("DynamoDB", source.as_ref())
            )
        }
        other => format!("table {table}: {other}"),
    }
}

/// A bus error as one line, naming the bus.
pub fn publish_failure(bus: &str, e: &PublishError) -> String {
    match &e.source {
        Some(source) => format!(
            "putting {} for {} on bus {bus}: {}",
            e.detail_type,
            e.order_id,
            chain_failure("EventBridge", source.as_ref())
        ),
        None => format!(
            "putting {} for {} on bus {bus}: {}",
            e.detail_type, e.order_id, e.detail
        ),
    }
}

/// An SP-API failure as one line, naming the endpoint when it could not be reached.
pub fn spapi_failure(endpoint: &str, e: &SpApiError) -> String {
    match e {
        SpApiError::Exhausted { op, last, .. } if last.starts_with("network error") => format!(
            "{op}: could not reach the SP-API at {endpoint} ({last}); check the network and \
             KENZEN_SPAPI_ENDPOINT"
        ),
        SpApiError::LwaUnavailable(why) if why.contains("network error") => format!(
            "could not reach the LWA token endpoint ({why}); check the network and \
             KENZEN_LWA_ENDPOINT"
        ),
        other => other.to_string(),
    }
}
